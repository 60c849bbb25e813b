//! The error type of the data layer: reading, parsing and using data frames.
//!
//! Variants say *what* went wrong and *where*: a file, line and column for input errors,
//! a column index and name for schema and type errors.

use std::fmt;
use std::io;

/// Shorthand for `std::result::Result<T, eau2_data::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong reading or using a data frame.
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
    /// A field that is malformed or does not fit its column (strict mode).
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
        /// The column's name (empty where no schema is at hand).
        name: String,
        /// The type the caller asked for.
        expected: crate::frame::DataType,
        /// The column's actual type.
        found: crate::frame::DataType,
    },
    /// Bytes that do not decode to the expected value (a chunk, a schema).
    Decode(String),
    /// A record (a line of a text file) that its reader rejects, with where it is.
    Record {
        /// The file.
        file: String,
        /// 1-based line number in the file.
        line: u64,
        /// What is wrong, and who read it (e.g. "field 1: not an INT (read by rank 2)").
        message: String,
    },
    /// A column looked up by a name that no column has.
    NoSuchColumn {
        /// The name asked for.
        name: String,
        /// The names there are, in column order.
        available: Vec<String>,
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
                name,
                expected,
                found,
            } if name.is_empty() => write!(f, "column {column} is {found}, not {expected}"),
            Error::TypeMismatch {
                column,
                name,
                expected,
                found,
            } => write!(f, "column {column} ({name:?}) is {found}, not {expected}"),
            Error::Decode(msg) => write!(f, "cannot decode: {msg}"),
            Error::Record {
                file,
                line,
                message,
            } => write!(f, "{file}:{line}: {message}"),
            Error::NoSuchColumn { name, available } => write!(
                f,
                "no column is named {name:?}; the columns are: {}",
                available.join(", ")
            ),
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
