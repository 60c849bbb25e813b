//! Columnar, typed data frames with missing values.
//!
//! A [`DataFrame`] holds a [`Schema`] and one [`Column`] per schema entry. Each column is a
//! list of [`Chunk`]s: a typed vector and a validity [`Bitmap`] for a run of rows. Chunk
//! `i` of every column covers the same rows, so a chunk index names a block of whole rows;
//! that block is what rayon maps over locally and what the distributed layer stores in
//! the key/value store, one value per column chunk.

mod bitmap;
mod build;
mod chunk;
mod column;
mod dataframe;
mod ops;
mod print;
mod row;
mod types;
mod visitor;

pub use bitmap::Bitmap;
pub use build::{Element, FrameBuilder};
pub use chunk::{Chunk, ChunkBuilder, ChunkData, Value};
pub use column::{Column, ColumnBuilder, DEFAULT_CHUNK_LEN};
pub use dataframe::DataFrame;
pub use row::Row;
pub use types::{DataType, Schema};
pub use visitor::{filter_chunk_rows, visit_chunk_rows, Fielder, RowWriter, Rower, Writer};
