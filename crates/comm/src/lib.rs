//! eau2's communication layer: how ranks find each other and move bytes.
//!
//! A rank joins its job with [`Comm::connect`], which runs rendezvous and starts one
//! network thread; the [`Comm`] it returns carries three services over the same links:
//! - [`msg`]: tagged point-to-point messages ([`Comm::send`], [`Comm::recv`]), ordered
//!   per sender and tag, with credit-based flow control so memory stays bounded;
//! - [`collectives`]: barrier, broadcast, reduce, all-reduce, gather, all-gather,
//!   scatter, all-to-all and scans, built on messages with the algorithms MPI
//!   libraries use, chosen by size and rank count; each message names its call's
//!   operation, root and sizes, so ranks in different collectives fail at once
//!   ([`Error::Spmd`]) instead of hanging;
//! - [`kv`]: the distributed, write-once key/value store that holds data frames' chunks;
//! - [`gauge`]: each rank's latest count of something (progress), summed at rank 0.
//!
//! It never prints: diagnostics are `tracing` events, each collective call a
//! `debug_span!` (one branch when disabled), and each link counts its messages and bytes
//! both ways ([`Comm::traffic`], [`Comm::traffic_cut`]) with relaxed atomics.
//!
//! Underneath, [`net`] owns the sockets: rendezvous through rank 0, then a mio event
//! loop per process that reads every link; senders write their own frames when a link
//! is idle. This crate knows nothing of data frames; the `eau2` crate re-exports it.
//!
//! ```
//! use eau2_comm::{net::NetConfig, Comm};
//!
//! let comm = Comm::connect(&NetConfig::new(0, 1, "127.0.0.1:0", "secret"))?;
//! let total = comm.all_reduce(comm.rank() as u64 + 1, |a, b| a + b)?;
//! assert_eq!(total, 1);
//! # Ok::<(), eau2_comm::Error>(())
//! ```

#![warn(missing_docs)]

mod brief_poll;
pub mod collectives;
mod endpoint;
pub mod error;
pub mod gauge;
pub mod kv;
pub mod msg;
pub mod net;
mod route;
mod waited;

pub use bytes::Bytes;
pub use endpoint::Comm;
pub use error::{Error, Result};
