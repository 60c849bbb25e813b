//! A file read only with positional reads, so that threads decoding different row
//! groups share one descriptor (one version of the file) without sharing a seek offset.

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::sync::Arc;

use bytes::Bytes;
use eau2_data::sor::FileIdentity;
use parquet::errors::{ParquetError, Result};
use parquet::file::reader::{ChunkReader, Length};

/// An open file and its length when opened; clones share the descriptor.
#[derive(Clone, Debug)]
pub(crate) struct Positional {
    file: Arc<File>,
    len: u64,
}

impl Positional {
    /// Wraps `file`, whose length is read now.
    pub(crate) fn new(file: File) -> std::io::Result<Positional> {
        let len = file.metadata()?.len();
        Ok(Positional {
            file: Arc::new(file),
            len,
        })
    }

    /// The descriptor.
    pub(crate) fn file(&self) -> &File {
        &self.file
    }
}

impl Length for Positional {
    fn len(&self) -> u64 {
        self.len
    }
}

/// A reader from a position onwards, by positional reads.
pub(crate) struct At {
    file: Arc<File>,
    pos: u64,
}

impl Read for At {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.file.read_at(buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl ChunkReader for Positional {
    type T = std::io::BufReader<At>;

    fn get_read(&self, start: u64) -> Result<Self::T> {
        Ok(std::io::BufReader::with_capacity(
            64 << 10,
            At {
                file: self.file.clone(),
                pos: start,
            },
        ))
    }

    fn get_bytes(&self, start: u64, length: usize) -> Result<Bytes> {
        let end = start.checked_add(length as u64);
        if end.is_none_or(|e| e > self.len) {
            return Err(ParquetError::EOF(format!(
                "{length} bytes at {start} run past the end of the file ({} bytes)",
                self.len
            )));
        }
        let mut buf = vec![0u8; length];
        self.file.read_exact_at(&mut buf, start)?;
        Ok(buf.into())
    }
}

/// The identity (device, inode, length, modification time) of the open `file` at
/// `path` (named in errors): what ranks compare to know they opened one version.
pub(crate) fn identity(file: &File, path: &std::path::Path) -> eau2_data::Result<FileIdentity> {
    use std::os::unix::fs::MetadataExt;
    let meta = file
        .metadata()
        .map_err(|e| eau2_data::Error::io_path("reading the metadata of", path, e))?;
    Ok(FileIdentity {
        device: meta.dev(),
        inode: meta.ino(),
        len: meta.len(),
        mtime: (meta.mtime(), meta.mtime_nsec()),
    })
}
