//! eau2's data layer: columnar, typed data frames and the readers that fill them.
//!
//! Its modules, no network:
//! - [`frame`]: a [`frame::DataFrame`] is a schema and typed columns cut into row chunks
//!   (a vector and a validity bitmap each), with builders, getters, visitors, `map`,
//!   `pmap`, `filter`, and printing as SoR;
//! - [`blocks`]: the one reader machinery under every format: one byte part of a file
//!   read in parallel blocks of whole records (lines, words, or CSV records cut by quote
//!   parity), each mapped (or read) and unmapped in turn, the file checked unchanged;
//! - [`file`](mod@file): which version of a file a read opened ([`file::FileIdentity`]), and the
//!   check that it stayed that version;
//! - [`sor`]: the schema-on-read reader ([`sor::SorReader`]), which parses a file's
//!   blocks (or bytes in memory) in parallel into those chunks, reading only the columns
//!   asked for, and the block-level INT column reader ([`sor::int_columns`]);
//! - [`csv`]: the CSV reader ([`csv::CsvReader`], RFC 4180), on the same blocks;
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
