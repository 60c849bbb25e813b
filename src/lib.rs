//! eau2: data-parallel analysis of large tables across many processes.
//!
//! Three layers, each calling only the one below it:
//! - [`kv`] (over [`net`]): a distributed key/value store of immutable values;
//! - [`frame`] and [`sor`]: columnar data frames, read from SoR files;
//! - [`cluster`]: the SPMD runtime, with ranks and collectives.

#![warn(missing_docs)]

pub mod cluster;
pub mod dist;
pub mod error;
pub mod frame;
pub mod kv;
pub mod net;
pub mod sor;

pub use bytes::Bytes;
pub use cluster::{run, Node};
pub use error::{Error, Result};
