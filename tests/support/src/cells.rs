//! Frames as plain tables of owned values, for comparing frames whose chunk layouts
//! differ (a reader chooses its own chunks).

use eau2::frame::{DataFrame, Value};

/// An owned value; floats by bits, so that -0.0 and 0.0 differ, NaNs compare, and
/// precision is exact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cell {
    /// A BOOL.
    Bool(bool),
    /// An INT.
    Int(i32),
    /// A FLOAT's bits.
    Float(u32),
    /// A STRING's bytes.
    Str(Vec<u8>),
    /// An I64.
    I64(i64),
    /// An F64's bits.
    F64(u64),
}

impl Cell {
    /// The owned form of `value`.
    pub fn of(value: Value<'_>) -> Cell {
        match value {
            Value::Bool(b) => Cell::Bool(b),
            Value::Int(i) => Cell::Int(i),
            Value::Float(f) => Cell::Float(f.to_bits()),
            Value::Str(s) => Cell::Str(s.to_vec()),
            Value::I64(i) => Cell::I64(i),
            Value::F64(f) => Cell::F64(f.to_bits()),
        }
    }

    /// The borrowed value again.
    pub fn value(&self) -> Value<'_> {
        match self {
            Cell::Bool(b) => Value::Bool(*b),
            Cell::Int(i) => Value::Int(*i),
            Cell::Float(bits) => Value::Float(f32::from_bits(*bits)),
            Cell::Str(s) => Value::Str(s),
            Cell::I64(i) => Value::I64(*i),
            Cell::F64(bits) => Value::F64(f64::from_bits(*bits)),
        }
    }
}

/// Rows of optional cells (`None` = missing).
pub type Table = Vec<Vec<Option<Cell>>>;

/// Every value of `frame`, row by row.
///
/// Walks chunk by chunk rather than through `DataFrame::get`, which locates the chunk
/// of every cell anew: the fuzz targets compare many tables per input, and this walk was
/// a fifth of their time.
pub fn table_of(frame: &DataFrame) -> Table {
    let mut table = Vec::with_capacity(frame.nrows() as usize);
    for chunk in 0..frame.chunk_count() {
        let chunks = frame.row_chunk(chunk);
        let rows = frame.chunk_rows(chunk);
        for offset in 0..(rows.end - rows.start) as usize {
            table.push(
                chunks
                    .iter()
                    .map(|c| c.value(offset).map(Cell::of))
                    .collect(),
            );
        }
    }
    table
}
