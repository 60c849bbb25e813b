//! eau2: data-parallel analysis of large tables across many processes.
//!
//! The layers, each calling only those below it:
//! - [`net`]: rendezvous and one event-loop thread per process owning every socket;
//! - [`kv`]: a distributed key/value store of immutable, write-once values;
//! - [`frame`] and [`sor`]: columnar data frames with missing values, read from SoR files;
//! - [`cluster`]: the SPMD runtime: a rank's [`Node`], collectives, and [`run`];
//! - [`dist`]: distributed data frames whose chunks live in the store.
//!
//! A program is a closure given to [`run`]; it runs unchanged as one process or as any
//! number of ranks under `eau2-launch`, `mpirun` or `srun`. See `cluster` for a rank's
//! life and `dist` for computing on distributed frames.

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
