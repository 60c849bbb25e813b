//! eau2: data-parallel analysis of large tables across many processes.
//!
//! The layers, each calling only those below it, with Cargo keeping them apart:
//! - the data crate (`eau2-data`), re-exported as [`frame`] and [`sor`]: columnar data
//!   frames with missing values, read from SoR files. It knows nothing of the network;
//! - the communication crate (`eau2-comm`), re-exported as [`net`] and [`kv`]:
//!   rendezvous, one event-loop thread per process owning every socket, and a
//!   distributed key/value store of immutable, write-once values. It knows nothing of
//!   data frames;
//! - this crate: [`cluster`], the SPMD runtime (a rank's [`Node`], collectives, and
//!   [`run`]), [`table`], distributed data frames whose chunks live in the store, and
//!   [`set`], sets of ids held per rank and combined across ranks (union, intersection,
//!   difference).
//!
//! A program is a closure given to [`run`]; it runs unchanged as one process or as any
//! number of ranks under `eau2-launch`, `mpirun` or `srun`. [`run_local`] runs the same
//! closure as ranks on threads of one process, for `cargo test`. See `cluster` for a rank's
//! life and `table` for computing on distributed frames.
//!
//! The library never prints: it emits `tracing` events, counts [`progress`] and gathers
//! [`stats`]; a front end shows them (the `eau2-console` crate: the apps' shared flags,
//! the `EAU2_LOG` subscriber, rank 0's progress bar, the statistics' table).

#![warn(missing_docs)]

pub mod cluster;
pub mod error;
pub mod logging;
pub mod progress;
pub mod set;
pub mod stats;
pub mod table;

/// Arrow record batches, Parquet and Arrow IPC files (the `eau2-arrow` crate).
pub use eau2_arrow as arrow;
pub use eau2_comm::{collectives, kv, msg, net};
pub use eau2_data::{blocks, csv, frame, sor, words};

pub use bytes::Bytes;
pub use cluster::{run, run_local, Local, Node};
pub use error::{Error, Result};
