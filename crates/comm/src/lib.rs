//! eau2's communication layer: how ranks find each other and move bytes.
//!
//! Two modules, no data frames:
//! - [`net`]: rendezvous through rank 0, then one mio event-loop thread per process that
//!   reads every socket; senders write their own frames when a link is idle;
//! - [`kv`]: the distributed, write-once key/value store served by that thread.
//!
//! The `eau2` crate re-exports both and builds the SPMD runtime on them.

#![warn(missing_docs)]

pub mod error;
pub mod kv;
pub mod net;

pub use bytes::Bytes;
pub use error::{Error, Result};
