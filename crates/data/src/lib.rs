//! eau2's data layer: columnar, typed data frames and the readers that fill them.
//!
//! Its modules, no network:
//! - [`frame`]: a [`frame::DataFrame`] is a schema and typed columns cut into row chunks
//!   (a vector and a validity bitmap each), with builders, getters, visitors, `map`,
//!   `pmap`, `filter`, and printing as SoR;
//! - [`sor`]: the schema-on-read file reader ([`sor::SorReader`]), which parses bytes
//!   (memory-mapped or given) in parallel into those chunks, and the block-level INT
//!   column reader ([`sor::int_columns`], [`sor::int_rows`]);
//! - [`csv`]: the CSV reader ([`csv::CsvReader`], RFC 4180), which reads by byte parts in
//!   parallel as the SoR reader does, finding records by quote parity;
//! - [`blocks`]: one byte part of a file read in parallel blocks of whole records (lines
//!   or words), each mapped and unmapped in turn, the file checked unchanged;
//! - [`words`]: a text file's words as a one-column STRING frame, through [`blocks`].
//!
//! Bytes flow in through the readers or a builder, sit in [`frame::Chunk`]s, and flow out
//! through getters and visitors; a chunk encodes to one byte string for the store
//! ([`frame::Chunk::to_bytes`]). The `eau2` crate re-exports these modules.
//!
//! ```
//! use eau2_data::sor::SorReader;
//!
//! let file = SorReader::new().read_bytes(b"<1> <\"one\">\n<2> <>\n")?;
//! assert_eq!(file.frame.nrows(), 2);
//! assert_eq!(file.frame.get_as::<i32>(0, 1)?, Some(2));
//! assert_eq!(file.frame.get_as::<&[u8]>(1, 1)?, None);
//! # Ok::<(), eau2_data::Error>(())
//! ```

#![warn(missing_docs)]

pub mod blocks;
pub mod csv;
pub mod error;
pub mod file;
pub mod frame;
mod guard;
pub mod sor;
pub mod words;

pub use error::{Error, Result};
