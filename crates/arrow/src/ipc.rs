//! Arrow IPC files (Feather v2): frames written and read as record batches.

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::ops::Range;
use std::path::{Path, PathBuf};

use arrow_ipc::reader::FileReader;
use arrow_ipc::writer::FileWriter;
use eau2_data::frame::DataFrame;
use eau2_data::sor::FileIdentity;
use eau2_data::{Error, Result};

use arrow_schema::SchemaRef;

use crate::convert::{from_arrow, to_arrow, to_arrow_schema, to_eau2_schema};

/// The error of the IPC codec on `path`.
fn ipc_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Decode(format!("Arrow IPC file {}: {e}", path.display()))
}

/// Writes `df` as an Arrow IPC file at `path`, one record batch per row chunk (created or
/// truncated; not atomic).
pub fn write_ipc_file(df: &DataFrame, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let file = File::create(path).map_err(|e| Error::io_path("creating", path, e))?;
    let schema = to_arrow_schema(df.schema());
    let mut writer = FileWriter::try_new(BufWriter::with_capacity(1 << 20, file), &schema)
        .map_err(|e| ipc_error(path, e))?;
    for batch in to_arrow(df)? {
        writer.write(&batch).map_err(|e| ipc_error(path, e))?;
    }
    writer.finish().map_err(|e| ipc_error(path, e))?;
    let file = writer
        .into_inner()
        .map_err(|e| ipc_error(path, e))?
        .into_inner()
        .map_err(|e| Error::io_path("writing", path, e.into_error()))?;
    file.sync_all()
        .map_err(|e| Error::io_path("flushing", path, e))
}

/// An Arrow IPC file opened for reading: its schema and the number of its record
/// batches known, any run of batches read on demand. Several processes that each open
/// the file and read their own run read it in parallel (`eau2-convert` does).
pub struct IpcFile {
    path: PathBuf,
    reader: FileReader<BufReader<File>>,
}

impl IpcFile {
    /// Opens `path` and reads its footer; an error naming the file if it is not an Arrow
    /// IPC file.
    pub fn open(path: impl AsRef<Path>) -> Result<IpcFile> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|e| Error::io_path("opening", path, e))?;
        IpcFile::from_file(file, path)
    }

    /// Reads the footer of `file`, an open descriptor of `path` (named in errors); every
    /// later read goes through it, so the version of the file opened is the one read.
    pub fn from_file(file: File, path: &Path) -> Result<IpcFile> {
        let reader = FileReader::try_new(BufReader::with_capacity(1 << 20, file), None)
            .map_err(|e| ipc_error(path, e))?;
        Ok(IpcFile {
            path: path.to_path_buf(),
            reader,
        })
    }

    /// The identity (device, inode, length, modification time) of the file opened, for
    /// ranks to check they all read one version.
    pub fn identity(&self) -> Result<FileIdentity> {
        crate::source::identity(self.reader.get_ref().get_ref(), &self.path)
    }

    /// How many record batches the file holds.
    pub fn batches(&self) -> usize {
        self.reader.num_batches()
    }

    /// The file's Arrow schema.
    pub fn arrow_schema(&self) -> SchemaRef {
        self.reader.schema()
    }

    /// Record batches `batches` (a run, in file order) as a frame of one row chunk per
    /// non-empty batch; an error naming the file for a damaged batch, a run past the
    /// last batch or a column type eau2 has no equivalent for.
    pub fn read(&mut self, batches: Range<usize>) -> Result<DataFrame> {
        let path = &self.path;
        let schema = self.reader.schema();
        let what = format!("Arrow IPC file {}", path.display());
        // The schema is checked before any batch is read.
        to_eau2_schema(&schema, &what)?;
        if batches.end > self.batches() {
            return Err(ipc_error(
                path,
                format!(
                    "batches {batches:?} asked for, the file has {}",
                    self.batches()
                ),
            ));
        }
        let mut read = Vec::with_capacity(batches.len());
        if !batches.is_empty() {
            self.reader
                .set_index(batches.start)
                .map_err(|e| ipc_error(path, e))?;
            for i in batches {
                let batch = self
                    .reader
                    .next()
                    .ok_or_else(|| ipc_error(path, format!("record batch {i} is missing")))?
                    .map_err(|e| ipc_error(path, format!("record batch {i}: {e}")))?;
                read.push(batch);
            }
        }
        from_arrow(schema, read).map_err(|e| match e {
            Error::Schema(m) => Error::Schema(format!("{what}: {m}")),
            other => other,
        })
    }
}

/// Reads the Arrow IPC file at `path` into a frame, one row chunk per record batch; an
/// error naming the file for a damaged file or a column type eau2 has no equivalent for.
pub fn read_ipc_file(path: impl AsRef<Path>) -> Result<DataFrame> {
    let mut file = IpcFile::open(path)?;
    let all = 0..file.batches();
    file.read(all)
}
