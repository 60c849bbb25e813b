//! The column types of aggregates: the one place that says how counts, integer sums and
//! means are stored.
//!
//! Counts and sums of integers are 64-bit integers (I64), sums of floats and means
//! 64-bit floats (F64).

use crate::error::Result;
use crate::frame::{ChunkBuilder, DataType};

/// The type of a count (rows, values, distinct values).
pub(crate) const COUNT: DataType = DataType::I64;
/// The type of a sum of integers.
pub(crate) const INT_SUM: DataType = DataType::I64;
/// The type of a sum of floats, and of a mean.
pub(crate) const FLOAT: DataType = DataType::F64;

/// Appends a 64-bit integer result (a count or a sum) of the aggregate `what` (named in
/// errors, should a narrower type come back).
pub(crate) fn push_i64(out: &mut ChunkBuilder, value: Option<i64>, _what: &str) -> Result<()> {
    match value {
        None => out.push_missing(),
        Some(v) => out.push_i64(v),
    }
    Ok(())
}

/// Appends a 64-bit float result (a sum of floats or a mean).
pub(crate) fn push_f64(out: &mut ChunkBuilder, value: Option<f64>) {
    match value {
        None => out.push_missing(),
        Some(v) => out.push_f64(v),
    }
}
