//! The error type of the `eau2` crate: the data layer's and the communication layer's
//! errors, plus those of the runtime and of applications.
//!
//! Every fallible operation returns [`Result`]. Lower layers keep their own error types
//! ([`DataError`], [`CommError`]); `?` lifts them into [`Error`] unchanged, so a message
//! still says *what* went wrong and *where* (file and line, rank, key).

use std::fmt;
use std::io;

pub use eau2_comm::Error as CommError;
pub use eau2_data::Error as DataError;

/// Shorthand for `std::result::Result<T, eau2::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in an eau2 program.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Reading, parsing or using a data frame failed.
    Data(DataError),
    /// Talking to other ranks failed (a lost rank, a timeout, a bad message, ...).
    Comm(CommError),
    /// An operating-system I/O error, with what we were doing when it happened.
    Io {
        /// What was being done, e.g. "writing the report".
        context: String,
        /// The underlying error.
        source: io::Error,
    },
    /// A bad command line, environment variable or configuration value.
    Config(String),
    /// A failure reported by user code or an application.
    App(String),
    /// A broken invariant of eau2 itself: a bug in eau2, not in the program or its
    /// input. The message says which invariant; see [`Error::internal`].
    Internal(String),
    /// A frame was stored under a name that another frame (with other contents)
    /// already has: frame names are write-once, like every key of the store.
    NameTaken {
        /// The frame's name.
        name: String,
    },
    /// Rank `rank` failed with `source`: how [`crate::run_local`] reports the rank that
    /// failed first (a panic is reported as an [`Error::App`] saying "panicked: ...").
    Rank {
        /// The rank that failed.
        rank: usize,
        /// Its error.
        source: Box<Error>,
    },
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

    /// A broken invariant of eau2 (`what` says which): a bug in eau2, reported as an error
    /// rather than a panic so that the job fails cleanly on every rank.
    pub fn internal(what: impl Into<String>) -> Error {
        Error::Internal(what.into())
    }

    /// A value that does not decode, from the data layer's point of view.
    pub fn decode(msg: impl Into<String>) -> Error {
        Error::Data(DataError::decode(msg))
    }

    /// The rank whose loss caused this error, if that is what it is.
    pub fn lost_rank(&self) -> Option<usize> {
        match self {
            Error::Comm(e) => e.lost_rank(),
            Error::Rank { source, .. } => source.lost_rank(),
            _ => None,
        }
    }
}

/// Lets `?` take a bare [`io::Error`] (say, from `std::fs::write` inside [`crate::run`]):
/// it becomes an [`Error::Io`] whose context says only that an I/O operation failed. Use
/// [`Error::io`] or [`Error::io_path`] where the program can say which file.
impl From<io::Error> for Error {
    fn from(e: io::Error) -> Error {
        Error::io("an I/O operation", e)
    }
}

impl From<DataError> for Error {
    fn from(e: DataError) -> Error {
        Error::Data(e)
    }
}

impl From<CommError> for Error {
    fn from(e: CommError) -> Error {
        Error::Comm(e)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Data(e) => e.fmt(f),
            Error::Comm(e) => e.fmt(f),
            Error::Io { context, source } => write!(f, "{context}: {source}"),
            Error::Config(msg) | Error::App(msg) => f.write_str(msg),
            Error::Internal(what) => write!(f, "a bug in eau2 (please report it): {what}"),
            Error::Rank { rank, source } => write!(f, "rank {rank}: {source}"),
            Error::NameTaken { name } => write!(
                f,
                "frame {name:?}: another frame with other contents already has this name \
                 (frame names are write-once and never reused, even after free): store the \
                 new frame under a new name"
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Data(e) => e.source(),
            Error::Comm(e) => e.source(),
            Error::Io { source, .. } => Some(source),
            Error::Rank { source, .. } => source.source(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `?` lifts a bare std I/O error, keeping it as the source.
    #[test]
    fn io_errors_lift_with_question_mark() {
        fn read_missing() -> Result<Vec<u8>> {
            Ok(std::fs::read("/nonexistent/eau2/file")?)
        }
        let err = read_missing().unwrap_err();
        assert!(matches!(&err, Error::Io { .. }), "{err:?}");
        assert!(err.to_string().starts_with("an I/O operation: "), "{err}");
        assert!(std::error::Error::source(&err).is_some());
    }

    /// A broken invariant says it is eau2's bug, and what broke.
    #[test]
    fn internal_errors_say_they_are_a_bug_in_eau2() {
        let err = Error::internal("an exchange routed a row to rank 9 of 4");
        assert!(matches!(&err, Error::Internal(_)), "{err:?}");
        assert_eq!(
            err.to_string(),
            "a bug in eau2 (please report it): an exchange routed a row to rank 9 of 4"
        );
    }
}
