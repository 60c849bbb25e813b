//! eau2 frames as Arrow data, and the Parquet and Arrow IPC files built on it.
//!
//! Three principal pieces, on the arrow-rs crates (no hand-written decoder):
//! - [`to_arrow`] / [`from_arrow`]: a [`DataFrame`](eau2_data::frame::DataFrame) as
//!   Arrow [`RecordBatch`](arrow_array::RecordBatch)es, one per row chunk, sharing the
//!   chunks' memory (eau2's vectors and validity bitmaps have Arrow's layout), and back,
//!   moving buffers where Arrow's allocation allows;
//! - [`ParquetFile`]: a Parquet file's footer (schema, row groups, statistics), and
//!   [`ParquetFile::read`], which decodes chosen row groups and columns on all cores;
//! - [`encode_parts`] and [`stitch_footer`]: Parquet written as independently encoded
//!   row groups laid end to end under one footer, which is how threads and ranks write
//!   one file together; [`write_parquet_file`] for a local frame.
//!
//! Bytes flow: Parquet pages -> arrow-rs decoder -> Arrow arrays -> eau2 chunks (moved
//! or copied once), and chunks -> Arrow arrays (shared) -> arrow-rs encoder -> pages.
//! [`read_ipc_file`] and [`write_ipc_file`] do Arrow IPC files; [`IpcFile`] reads chosen
//! runs of an IPC file's record batches.
//!
//! Type mapping: BOOL, INT, FLOAT, STRING, I64, F64 are Boolean, Int32, Float32,
//! (Large)Utf8, Int64, Float64. Reading also takes narrower integers (widened), dates
//! and timestamps (their raw counts, see [`eau2_type`]); other types are an error
//! naming the file, column and type.
//!
//! ```
//! use eau2_arrow::{from_arrow, to_arrow};
//! use eau2_data::sor::SorReader;
//!
//! let df = SorReader::new().read_bytes(b"<1> <\"one\">\n<> <\"two\">\n")?.frame;
//! let batches = to_arrow(&df)?;
//! assert_eq!(batches[0].num_rows(), 2);
//! assert_eq!(from_arrow(batches[0].schema(), batches)?, df);
//! # Ok::<(), eau2_data::Error>(())
//! ```

#![warn(missing_docs)]

mod convert;
mod ipc;
mod read;
mod source;
mod write;

pub use convert::{
    array_to_chunk, arrow_type, chunk_to_arrow, eau2_type, from_arrow, to_arrow, to_arrow_schema,
    to_eau2_schema,
};
pub use ipc::{
    encode_ipc_batches, ipc_footer, ipc_header, read_ipc_file, write_ipc_file, IpcBlock, IpcFile,
    IpcPart,
};
pub use read::{read_parquet, Bounds, ParquetFile, RowGroupInfo};
pub use write::{
    encode_part, encode_parts, stitch_footer, without_missing, write_parquet, write_parquet_file,
    Codec, ParquetPart, ParquetWriteOptions, MAGIC,
};

/// The arrow-rs crates this crate speaks, re-exported so users get the same versions.
pub mod arrow {
    pub use arrow_array as array;
    pub use arrow_schema as schema;
    pub use parquet;
}
