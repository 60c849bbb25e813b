//! One open file that a read goes through from its first byte to its last, and the
//! checks that it stayed one version: its identity (device, inode, length, modification
//! time), compared across ranks before a load, and its stamp (length and modification
//! time), compared when a read ends. Every reader of files (SoR, CSV, words, linus) opens
//! files here, so a file changed under any of them is the same clear error.

use std::fs::{File, Metadata};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::error::{Error, Result};

/// How much is read at a time when counting lines for an error message.
const COUNT_STEP: usize = 8 << 20;
/// How much is read at a time when looking for a line end.
const LINE_STEP: usize = 64 << 10;

/// What a file looked like when a read began: its length and modification time. A read
/// that finds either different at its end may have mixed two versions of the file, and
/// fails instead of returning that. Other readers of files (linus) use it too.
#[derive(Clone, Debug)]
pub struct FileStamp {
    path: PathBuf,
    len: u64,
    modified: Option<SystemTime>,
}

impl FileStamp {
    /// Stamps `file`, opened from `path`, as it is now.
    pub fn of(file: &File, path: &Path) -> Result<FileStamp> {
        let meta = metadata(file, path)?;
        Ok(FileStamp {
            path: path.to_path_buf(),
            len: meta.len(),
            modified: meta.modified().ok(),
        })
    }

    /// The file's length in bytes when stamped.
    pub fn length(&self) -> u64 {
        self.len
    }

    /// An error unless `file` still has the length and modification time it had when
    /// stamped.
    pub fn check(&self, file: &File) -> Result<()> {
        let meta = metadata(file, &self.path)?;
        if meta.len() != self.len {
            return Err(self.changed(&format!(
                "it had {} bytes when the read began and has {} now",
                self.len,
                meta.len()
            )));
        }
        if meta.modified().ok() != self.modified {
            return Err(self.changed("it was modified while it was being read"));
        }
        Ok(())
    }

    /// The error for a file found changed during the read, saying `how`.
    pub fn changed(&self, how: &str) -> Error {
        Error::io_path(
            "reading",
            &self.path,
            io::Error::other(format!(
                "the file changed during the read ({how}); the result would have been \
                 partial or mixed, so nothing was read: read it again once it is no longer \
                 being written"
            )),
        )
    }
}

/// Which version of a file a descriptor reads: device, inode, length and modification
/// time. Two descriptors with equal identities read the same bytes (unless the file is
/// rewritten in place, which the stamp check at the end of a read catches); a file
/// renamed over the path between two opens has another inode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, speedy::Readable, speedy::Writable)]
pub struct FileIdentity {
    /// The device holding the file.
    pub device: u64,
    /// The file's inode on that device.
    pub inode: u64,
    /// The length in bytes.
    pub len: u64,
    /// The modification time: seconds and nanoseconds since the epoch.
    pub mtime: (i64, i64),
}

/// An open file and what it looked like when opened: every read of a load goes through
/// this one descriptor, so it reads one version of the file.
pub(crate) struct Opened {
    file: File,
    path: PathBuf,
    pub(crate) len: usize,
    stamp: FileStamp,
}

impl Opened {
    pub(crate) fn open(path: &Path) -> Result<Opened> {
        let file = File::open(path).map_err(|e| Error::io_path("opening", path, e))?;
        let meta = metadata(&file, path)?;
        let stamp = FileStamp::of(&file, path)?;
        if meta.is_dir() {
            return Err(Error::io_path(
                "reading",
                path,
                io::Error::new(io::ErrorKind::InvalidInput, "is a directory"),
            ));
        }
        let len = usize::try_from(meta.len()).map_err(|_| {
            Error::io_path(
                "reading",
                path,
                io::Error::other("the file is larger than this machine's address space"),
            )
        })?;
        Ok(Opened {
            file,
            path: path.to_path_buf(),
            len,
            stamp,
        })
    }

    /// The bytes `from..to`; a short read means the file shrank.
    pub(crate) fn read(&self, from: usize, to: usize) -> Result<Vec<u8>> {
        let mut buf = vec![0u8; to.saturating_sub(from)];
        self.read_into(&mut buf, from)?;
        Ok(buf)
    }

    fn read_into(&self, buf: &mut [u8], at: usize) -> Result<()> {
        self.file.read_exact_at(buf, at as u64).map_err(|e| {
            if e.kind() == io::ErrorKind::UnexpectedEof {
                self.stamp.changed(&format!(
                    "it ended before byte {} although it had {} bytes when the read began",
                    at + buf.len(),
                    self.len
                ))
            } else {
                Error::io_path("reading", &self.path, e)
            }
        })
    }

    /// The offset of the first `\n` in `at..limit`.
    pub(crate) fn newline_after(&self, at: usize, limit: usize) -> Result<Option<usize>> {
        let mut from = at;
        while from < limit {
            let to = limit.min(from + LINE_STEP);
            let block = self.read(from, to)?;
            if let Some(i) = memchr::memchr(b'\n', &block) {
                return Ok(Some(from + i));
            }
            from = to;
        }
        Ok(None)
    }

    /// The offset of the last `\n` in `floor..at`.
    pub(crate) fn newline_before(&self, floor: usize, at: usize) -> Result<Option<usize>> {
        let mut to = at;
        while to > floor {
            let from = floor.max(to.saturating_sub(LINE_STEP));
            let block = self.read(from, to)?;
            if let Some(i) = memchr::memrchr(b'\n', &block) {
                return Ok(Some(from + i));
            }
            to = from;
        }
        Ok(None)
    }

    /// An error unless the file still has the length and modification time it had when
    /// opened.
    pub(crate) fn check_unchanged(&self) -> Result<()> {
        self.stamp.check(&self.file)
    }

    /// The file's identity now, through this descriptor.
    pub(crate) fn identity(&self) -> Result<FileIdentity> {
        use std::os::unix::fs::MetadataExt;
        let meta = metadata(&self.file, &self.path)?;
        Ok(FileIdentity {
            device: meta.dev(),
            inode: meta.ino(),
            len: meta.len(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
        })
    }

    /// The 1-based number of the line holding byte `offset`: one more than the `\n`s
    /// before it, counted by reading the file's head (paid only to report an error).
    pub(crate) fn line_number(&self, offset: usize) -> Result<u64> {
        let (mut at, mut lines) = (0usize, 1u64);
        while at < offset {
            let next = offset.min(at + COUNT_STEP);
            let bytes = self.read(at, next)?;
            lines += memchr::memchr_iter(b'\n', &bytes).count() as u64;
            at = next;
        }
        Ok(lines)
    }

    /// The path the file was opened from.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The open descriptor (to map blocks of it).
    pub(crate) fn file(&self) -> &File {
        &self.file
    }

    /// The error for this file found changed during the read, saying `how`.
    pub(crate) fn changed(&self, how: &str) -> Error {
        self.stamp.changed(how)
    }
}

fn metadata(file: &File, path: &Path) -> Result<Metadata> {
    file.metadata()
        .map_err(|e| Error::io_path("reading the metadata of", path, e))
}
