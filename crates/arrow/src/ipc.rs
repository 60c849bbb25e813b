//! Arrow IPC files (Feather v2): frames written and read as record batches.

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::Path;

use arrow_ipc::reader::FileReader;
use arrow_ipc::writer::FileWriter;
use eau2_data::frame::DataFrame;
use eau2_data::{Error, Result};

use crate::convert::{from_arrow, to_arrow, to_arrow_schema};

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

/// Reads the Arrow IPC file at `path` into a frame, one row chunk per record batch; an
/// error naming the file for a damaged file or a column type eau2 has no equivalent for.
pub fn read_ipc_file(path: impl AsRef<Path>) -> Result<DataFrame> {
    let path = path.as_ref();
    let file = File::open(path).map_err(|e| Error::io_path("opening", path, e))?;
    let reader = FileReader::try_new(BufReader::with_capacity(1 << 20, file), None)
        .map_err(|e| ipc_error(path, e))?;
    let schema = reader.schema();
    let batches = reader
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| ipc_error(path, e))?;
    from_arrow(schema, batches).map_err(|e| match e {
        Error::Schema(m) => Error::Schema(format!("Arrow IPC file {}: {m}", path.display())),
        other => other,
    })
}
