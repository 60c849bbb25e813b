//! Columnar, typed data frames with missing values.
//!
//! A [`DataFrame`] holds a [`Schema`] and one [`Column`] per schema entry. Each column is a
//! list of [`Chunk`]s: a typed vector and a validity [`Bitmap`] for a run of rows. Chunk
//! `i` of every column covers the same rows, so a chunk index names a block of whole rows;
//! that block is what rayon maps over locally and what the distributed layer stores in
//! the key/value store, one value per column chunk.
//!
//! Bytes flow in through a builder ([`FrameBuilder`], [`DataFrame::from_array`], a
//! [`Writer`], or the SoR reader in [`crate::sor`]), sit in chunks, and flow out through
//! getters, visitors ([`Rower`] over rows, [`Fielder`] over one row's fields),
//! [`DataFrame::write_sor`] and [`DataFrame::write_csv`] (both through [`TextFormat`]).
//!
//! ```
//! use eau2_data::frame::{DataFrame, DataType, FrameBuilder, Schema, Value};
//!
//! let schema = Schema::new(vec![DataType::Int, DataType::String]);
//! let mut b = FrameBuilder::new(schema, 2); // two rows per chunk
//! b.push_row(&[Some(Value::Int(7)), Some(Value::Str(b"seven"))])?;
//! b.push_row(&[None, Some(Value::Str(b"a b"))])?;
//! b.push_row(&[Some(Value::Int(-1)), None])?;
//! let df = b.finish();
//! assert_eq!((df.nrows(), df.chunk_count()), (3, 2));
//! assert_eq!(df.get_as::<i32>(0, 1)?, None); // missing
//! assert_eq!(df.get_as::<&[u8]>(1, 0)?, Some(&b"seven"[..]));
//! assert_eq!(df.to_sor_string()?, "<7> <\"seven\">\n<> <\"a b\">\n<-1> <>\n");
//! # Ok::<(), eau2_data::Error>(())
//! ```

mod bitmap;
mod build;
mod chunk;
mod column;
mod csv_print;
mod dataframe;
mod datatype;
mod ops;
mod print;
mod row;
mod text;
mod types;
mod visitor;
mod write_text;

pub use bitmap::Bitmap;
pub use build::{Element, FrameBuilder};
pub use chunk::{Chunk, ChunkBuilder, ChunkData, FromValue, Value};
pub use column::{Column, ColumnBuilder, DEFAULT_CHUNK_LEN};
pub use csv_print::CsvWriteOptions;
pub use dataframe::locate_row;
pub use dataframe::DataFrame;
pub use ops::take_rows;
pub use row::{Row, RowBlock};
pub use text::TextFormat;
pub use types::{ColumnRef, DataType, Schema};
pub use visitor::{filter_chunk_rows, visit_chunk_rows, Fielder, RowWriter, Rower, Writer};
