//! The column types of aggregates: the one place that says how counts, integer sums and
//! means are stored.
//!
//! Counts and sums of integers are 64-bit and means 64-bit floats in the operators'
//! arithmetic. Until the frame has 64-bit column types they are stored as INT and
//! FLOAT: a count or integer sum that does not fit an INT is an error naming the column
//! rather than a wrapped value. Switching to 64-bit columns changes only this module.

use crate::error::{DataError, Result};
use crate::frame::{ChunkBuilder, DataType};

/// The type of a count (rows, values, distinct values).
pub(crate) const COUNT: DataType = DataType::Int;
/// The type of a sum of integers.
pub(crate) const INT_SUM: DataType = DataType::Int;
/// The type of a sum of floats, and of a mean.
pub(crate) const FLOAT: DataType = DataType::Float;

/// Appends a 64-bit integer result (a count or a sum) of the aggregate `what`.
pub(crate) fn push_i64(out: &mut ChunkBuilder, value: Option<i64>, what: &str) -> Result<()> {
    match value {
        None => out.push_missing(),
        Some(v) => {
            let v = i32::try_from(v).map_err(|_| {
                DataError::Schema(format!(
                    "{what}: {v} does not fit a 32-bit INT column (64-bit columns are not there yet)"
                ))
            })?;
            out.push_int(v);
        }
    }
    Ok(())
}

/// Appends a 64-bit float result (a sum of floats or a mean).
pub(crate) fn push_f64(out: &mut ChunkBuilder, value: Option<f64>) {
    match value {
        None => out.push_missing(),
        Some(v) => out.push_float(v as f32),
    }
}
