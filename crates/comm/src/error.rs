//! The error type of the communication layer: rendezvous, links, messages, the store.
//!
//! Variants say *what* went wrong and *where*: a rank for network errors, a key for store
//! errors, a tag for messages.

use std::fmt;
use std::io;

/// Shorthand for `std::result::Result<T, eau2_comm::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong talking to other ranks.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// An operating-system I/O error, with what we were doing when it happened.
    Io {
        /// What was being done, e.g. "binding 0.0.0.0:7000".
        context: String,
        /// The underlying error.
        source: io::Error,
    },
    /// Bytes that do not decode to the expected value (a message, a collective's value).
    Decode(String),
    /// A bad rank, size, address or other configuration value.
    Config(String),
    /// A second put of different bytes to a write-once key.
    KeyConflict(String),
    /// A key of a family that was freed ([`crate::kv::Kv::free_family`]): its value is
    /// gone for good, and the name is never reused.
    Freed(String),
    /// A deadline passed before an operation finished.
    Timeout(String),
    /// A rank left the job (connection closed or reset) while it was still needed.
    PeerLost {
        /// The rank that is gone.
        rank: usize,
        /// What was observed, e.g. "connection reset".
        reason: String,
    },
    /// Rendezvous could not assemble the job.
    Rendezvous(String),
    /// Rendezvous could not assemble the job because a rank never came or went away
    /// (killed, frozen, its host gone): the job failed because of another rank, as with
    /// [`Error::PeerLost`], not because of this rank's program or input.
    RendezvousLost {
        /// A rank that did not come or went away (the first of them, when several).
        rank: usize,
        /// What was observed, naming every missing rank.
        msg: String,
    },
    /// A peer broke the wire protocol.
    Protocol(String),
    /// The local runtime has shut down or failed; no further operations are possible.
    Shutdown(String),
    /// The ranks broke the SPMD contract: they are in different collectives (another
    /// operation, root or size at the same point), or one waits for a rank that has
    /// finished its program. The text names the ranks and their calls.
    Spmd(String),
}

impl Error {
    /// Wraps an I/O error with a description of what was being done.
    pub fn io(context: impl Into<String>, source: io::Error) -> Error {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    /// A decode error with a message.
    pub fn decode(msg: impl Into<String>) -> Error {
        Error::Decode(msg.into())
    }

    /// The rank whose loss caused this error, if that is what it is: a peer that left
    /// while needed, or one that never came to (or left) rendezvous. A rank failing so
    /// exits with `vars::EXIT_PEER_LOST`, which `eau2-launch --tolerate` restarts.
    pub fn lost_rank(&self) -> Option<usize> {
        match self {
            Error::PeerLost { rank, .. } | Error::RendezvousLost { rank, .. } => Some(*rank),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { context, source } => write!(f, "{context}: {source}"),
            Error::Decode(msg) => write!(f, "cannot decode: {msg}"),
            Error::Config(msg) => write!(f, "{msg}"),
            Error::KeyConflict(key) => write!(
                f,
                "key {key} was already put with different bytes (keys are write-once)"
            ),
            Error::Freed(key) => write!(
                f,
                "key {key} belongs to a freed frame or family: its value was removed and will never come back"
            ),
            Error::Timeout(what) => write!(f, "timed out: {what}"),
            Error::PeerLost { rank, reason } => write!(f, "rank {rank} is gone: {reason}"),
            Error::Rendezvous(msg) | Error::RendezvousLost { msg, .. } => {
                write!(f, "rendezvous failed: {msg}")
            }
            Error::Protocol(msg) => write!(f, "protocol error: {msg}"),
            Error::Shutdown(msg) => write!(f, "runtime is shut down: {msg}"),
            Error::Spmd(msg) => write!(f, "SPMD mistake, {msg}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
