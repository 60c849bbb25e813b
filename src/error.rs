//! The one error type of the library.
//!
//! Every fallible operation returns [`Result`]. Variants carry enough context to say
//! *what* went wrong and *where*: a file and line for input errors, a rank for network
//! errors, a key for store errors.

use std::fmt;
use std::io;

/// Shorthand for `std::result::Result<T, eau2::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in eau2.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// An operating-system I/O error, with what we were doing when it happened.
    Io {
        /// What was being done, e.g. "opening data/commits.ltgt".
        context: String,
        /// The underlying error.
        source: io::Error,
    },
    /// A SoR field that is malformed or does not fit its column (strict mode).
    Parse {
        /// The file (or `<bytes>` for in-memory input).
        file: String,
        /// 1-based line number in the file.
        line: u64,
        /// 0-based column index.
        column: usize,
        /// The offending field text, as written.
        text: String,
        /// Why it was rejected.
        reason: String,
    },
    /// A schema that does not fit the data or the request.
    Schema(String),
    /// A column or row index past the end.
    OutOfRange {
        /// "column" or "row" (or another noun).
        what: &'static str,
        /// The index asked for.
        index: u64,
        /// How many there are.
        len: u64,
    },
    /// A typed access to a column of another type.
    TypeMismatch {
        /// The column index.
        column: usize,
        /// The type the caller asked for.
        expected: crate::frame::DataType,
        /// The column's actual type.
        found: crate::frame::DataType,
    },
    /// Bytes that do not decode to the expected value (a chunk, a message, a descriptor).
    Decode(String),
    /// A bad command line, environment variable or configuration value.
    Config(String),
    /// The key is not in the store.
    NoSuchKey(String),
    /// A second put of different bytes to a write-once key.
    KeyConflict(String),
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
    /// A peer broke the wire protocol.
    Protocol(String),
    /// The local runtime has shut down or failed; no further operations are possible.
    Shutdown(String),
    /// A failure reported by user code or an application.
    App(String),
}

impl Error {
    /// Wraps an I/O error with a description of what was being done.
    pub fn io(context: impl Into<String>, source: io::Error) -> Error {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    /// Wraps an I/O error that happened on `path`, saying what was being done to it.
    pub fn io_path(action: &str, path: &std::path::Path, source: io::Error) -> Error {
        Error::io(format!("{action} {}", path.display()), source)
    }

    /// A decode error with a message.
    pub fn decode(msg: impl Into<String>) -> Error {
        Error::Decode(msg.into())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { context, source } => write!(f, "{context}: {source}"),
            Error::Parse {
                file,
                line,
                column,
                text,
                reason,
            } => write!(f, "{file}:{line}: column {column}: {reason}: {:?}", text),
            Error::Schema(msg) => write!(f, "schema: {msg}"),
            Error::OutOfRange { what, index, len } => {
                write!(f, "{what} {index} is out of range (there are {len})")
            }
            Error::TypeMismatch {
                column,
                expected,
                found,
            } => write!(f, "column {column} is {found}, not {expected}"),
            Error::Decode(msg) => write!(f, "cannot decode: {msg}"),
            Error::Config(msg) => write!(f, "{msg}"),
            Error::NoSuchKey(key) => write!(f, "no such key: {key}"),
            Error::KeyConflict(key) => write!(
                f,
                "key {key} was already put with different bytes (keys are write-once)"
            ),
            Error::Timeout(what) => write!(f, "timed out: {what}"),
            Error::PeerLost { rank, reason } => write!(f, "rank {rank} is gone: {reason}"),
            Error::Rendezvous(msg) => write!(f, "rendezvous failed: {msg}"),
            Error::Protocol(msg) => write!(f, "protocol error: {msg}"),
            Error::Shutdown(msg) => write!(f, "runtime is shut down: {msg}"),
            Error::App(msg) => write!(f, "{msg}"),
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
