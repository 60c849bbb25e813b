//! The local, in-memory [`DataFrame`]: a schema and one [`Column`] per schema entry,
//! all cut into chunks at the same rows.

use std::sync::Arc;

use super::chunk::{Chunk, FromValue, Value};
use super::column::{Column, ColumnBuilder, DEFAULT_CHUNK_LEN};
use super::types::{ColumnRef, DataType, Schema};
use crate::error::{Error, Result};

/// A read-only table of typed columns with missing values.
///
/// Row chunk `i` of every column covers the same rows, so a chunk index names a block of
/// whole rows: the unit of parallel work and of distribution.
#[derive(Clone, Debug, PartialEq)]
pub struct DataFrame {
    schema: Schema,
    columns: Vec<Column>,
    /// `starts[i]` is the first row of chunk `i`; the last entry is the row count.
    starts: Vec<u64>,
}

impl DataFrame {
    /// A frame of `columns`, which must match `schema` and share one chunk layout.
    pub fn new(schema: Schema, columns: Vec<Column>) -> Result<DataFrame> {
        if columns.len() != schema.width() {
            return Err(Error::Schema(format!(
                "{} columns given for a schema of {}",
                columns.len(),
                schema.width()
            )));
        }
        for (i, (col, &dtype)) in columns.iter().zip(schema.types()).enumerate() {
            if col.dtype() != dtype {
                return Err(Error::Schema(format!(
                    "column {i} is {} but the schema says {dtype}",
                    col.dtype()
                )));
            }
        }
        let starts = match columns.first() {
            None => vec![0],
            Some(first) => layout_of(first),
        };
        if let Some(i) = columns.iter().position(|c| layout_of(c) != starts) {
            return Err(Error::Schema(format!(
                "column {i} is chunked differently from column 0"
            )));
        }
        Ok(DataFrame {
            schema,
            columns,
            starts,
        })
    }

    /// A frame with the given schema and no rows.
    pub fn empty(schema: Schema) -> DataFrame {
        let columns = schema
            .types()
            .iter()
            .map(|&t| ColumnBuilder::new(t, DEFAULT_CHUNK_LEN).finish())
            .collect();
        DataFrame {
            schema,
            columns,
            starts: vec![0],
        }
    }

    /// The schema.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The number of rows.
    pub fn nrows(&self) -> u64 {
        *self.starts.last().unwrap_or(&0)
    }

    /// The number of columns.
    pub fn ncols(&self) -> usize {
        self.schema.width()
    }

    /// Column `col` (an index or a name).
    pub fn column(&self, col: impl ColumnRef) -> Result<&Column> {
        Ok(&self.columns[col.resolve(&self.schema)?])
    }

    /// All columns, in schema order.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// The number of row chunks.
    pub fn chunk_count(&self) -> usize {
        self.starts.len() - 1
    }

    /// The rows covered by chunk `i`, as `start..end`. Panics when `i >= chunk_count()`.
    pub fn chunk_rows(&self, i: usize) -> std::ops::Range<u64> {
        self.starts[i]..self.starts[i + 1]
    }

    /// Chunk `chunk` of column `col`. Panics when either index is out of range.
    pub fn chunk(&self, col: usize, chunk: usize) -> &Arc<Chunk> {
        &self.columns[col].chunks()[chunk]
    }

    /// Row chunk `i`: chunk `i` of every column, in column order (the `Arc`s are
    /// cloned, the values are not). This is the slice a [`Row`](super::Row) views.
    /// Panics when `i >= chunk_count()`.
    pub fn row_chunk(&self, i: usize) -> Vec<Arc<Chunk>> {
        self.columns.iter().map(|c| c.chunks()[i].clone()).collect()
    }

    /// The longest chunk's row count: the chunk length the frame was built with (all
    /// chunks but the last have it, unless frames of other lengths were concatenated).
    /// 0 when the frame has no rows.
    pub fn chunk_len(&self) -> usize {
        self.starts
            .windows(2)
            .map(|w| (w[1] - w[0]) as usize)
            .max()
            .unwrap_or(0)
    }

    /// The chunk holding `row` and the row's offset inside it.
    pub fn locate(&self, row: u64) -> Result<(usize, usize)> {
        let chunk_starts = &self.starts[..self.starts.len() - 1];
        locate_row(row, self.nrows(), chunk_starts, |&start| start)
    }

    /// The value at (`col`, `row`), `col` an index or a name: `Ok(None)` when missing,
    /// an error when there is no such column or row.
    pub fn get(&self, col: impl ColumnRef, row: u64) -> Result<Option<Value<'_>>> {
        let col = col.resolve(&self.schema)?;
        let (chunk, offset) = self.locate(row)?;
        Ok(self.chunk(col, chunk).value(offset))
    }

    /// True when the value at (`col`, `row`) is missing.
    pub fn is_missing(&self, col: impl ColumnRef, row: u64) -> Result<bool> {
        Ok(self.get(col, row)?.is_none())
    }

    /// The value at (`col`, `row`) of a column checked to be of type `want`.
    fn typed(&self, col: impl ColumnRef, row: u64, want: DataType) -> Result<Option<Value<'_>>> {
        let col = self.schema.resolve_typed(col, want)?;
        self.get(col, row)
    }

    /// The value at (`col`, `row`) as a `T` (see [`FromValue`]); `Ok(None)` when
    /// missing, an error naming the column when it is not of `T`'s type.
    pub fn get_as<'a, T: FromValue<'a>>(
        &'a self,
        col: impl ColumnRef,
        row: u64,
    ) -> Result<Option<T>> {
        Ok(self.typed(col, row, T::DTYPE)?.and_then(T::from_value))
    }

    /// A frame of the columns `cols`, in that order, sharing this frame's chunks.
    pub fn project(&self, cols: &[usize]) -> Result<DataFrame> {
        let schema = self.schema.project(cols)?;
        let columns = cols.iter().map(|&c| self.columns[c].clone()).collect();
        Ok(DataFrame {
            schema,
            columns,
            starts: self.starts.clone(),
        })
    }

    /// The rows of `parts`, in order, as one frame sharing their chunks. All parts must
    /// have the same column types; names are taken from the first.
    pub fn concat(parts: Vec<DataFrame>) -> Result<DataFrame> {
        let mut parts = parts.into_iter();
        let Some(mut out) = parts.next() else {
            return Err(Error::Schema("cannot concatenate zero frames".into()));
        };
        for part in parts {
            if part.schema.types() != out.schema.types() {
                return Err(Error::Schema(format!(
                    "cannot concatenate a frame of schema {} to one of schema {}",
                    part.schema.codes(),
                    out.schema.codes()
                )));
            }
            let base = out.nrows();
            out.starts
                .extend(part.starts[1..].iter().map(|&s| base + s));
            for (mine, theirs) in out.columns.iter_mut().zip(part.columns) {
                mine.append(theirs)?;
            }
        }
        Ok(out)
    }
}

/// The row starts of a column's chunks, plus the total, skipping empty chunks' duplicates
/// is not needed: empty chunks are legal and simply cover no rows.
fn layout_of(col: &Column) -> Vec<u64> {
    let mut starts = Vec::with_capacity(col.chunks().len() + 1);
    let mut at = 0u64;
    starts.push(0);
    for c in col.chunks() {
        at += c.len() as u64;
        starts.push(at);
    }
    starts
}

/// The chunk holding `row` and the row's offset inside it, for chunks laid end to end
/// that hold `nrows` rows in all and start at the rows `start` gives for each of `chunks`.
/// Shared by local frames and the descriptors of distributed ones.
pub fn locate_row<T>(
    row: u64,
    nrows: u64,
    chunks: &[T],
    start: impl Fn(&T) -> u64,
) -> Result<(usize, usize)> {
    if row >= nrows {
        return Err(Error::OutOfRange {
            what: "row",
            index: row,
            len: nrows,
        });
    }
    // The last chunk starting at or before `row` (so empty chunks are passed over); the
    // first starts at row 0, so there is one.
    let chunk = chunks.partition_point(|c| start(c) <= row) - 1;
    Ok((chunk, (row - start(&chunks[chunk])) as usize))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ints(values: &[Option<i32>], chunk_len: usize) -> Column {
        let mut b = ColumnBuilder::new(DataType::Int, chunk_len);
        for v in values {
            b.push(v.map(Value::Int)).unwrap();
        }
        b.finish()
    }

    #[test]
    fn locate_row_passes_over_empty_chunks() {
        // Chunks of 0, 2, 0, 3 and 0 rows.
        let starts = [0u64, 0, 2, 2, 5];
        let at = |row| locate_row(row, 5, &starts, |&s| s).unwrap();
        assert_eq!(
            [at(0), at(1), at(2), at(4)],
            [(1, 0), (1, 1), (3, 0), (3, 2)]
        );
        assert!(locate_row(5, 5, &starts, |&s| s).is_err());
        assert!(locate_row(0, 0, &[0u64], |&s| s).is_err());
    }

    #[test]
    fn locate_and_get() {
        let col = ints(&[Some(1), None, Some(3), Some(4), Some(5)], 2);
        let df = DataFrame::new(Schema::new(vec![DataType::Int]), vec![col]).unwrap();
        assert_eq!(df.nrows(), 5);
        assert_eq!(df.chunk_count(), 3);
        assert_eq!(df.locate(4).unwrap(), (2, 0));
        assert_eq!(df.get_as::<i32>(0, 3).unwrap(), Some(4));
        assert_eq!(df.get_as::<i32>(0, 1).unwrap(), None);
        assert!(df.get_as::<i32>(0, 5).is_err());
        assert!(df.get_as::<f32>(0, 0).is_err());
        assert!(df.get(1, 0).is_err());
    }

    #[test]
    fn getters_by_name_and_type_errors() {
        let schema = Schema::named([("n", DataType::Int)]).unwrap();
        let df = DataFrame::new(schema, vec![ints(&[Some(1), None], 2)]).unwrap();
        assert_eq!(df.get_as::<i32>("n", 0).unwrap(), Some(1));
        assert_eq!(df.get_as::<i32>("n", 1).unwrap(), None);
        assert_eq!(df.column("n").unwrap().len(), 2);
        let msg = df.get_as::<&[u8]>("n", 0).unwrap_err().to_string();
        assert_eq!(msg, "column 0 (\"n\") is INT, not STRING");
        let msg = df.get_as::<i32>("m", 0).unwrap_err().to_string();
        assert_eq!(msg, "no column is named \"m\"; the columns are: n");
        assert!(df.get_as::<i64>("n", 0).is_err());
        let wide = DataFrame::from_array(&[Some(1i64 << 40), None]);
        assert_eq!(wide.get_as::<i64>("c0", 0).unwrap(), Some(1 << 40));
        assert_eq!(wide.get_as::<i64>(0, 1).unwrap(), None);
        let wide = DataFrame::from_array(&[0.1f64]);
        assert_eq!(wide.get_as::<f64>(0, 0).unwrap(), Some(0.1));
        assert!(wide.get_as::<f32>(0, 0).is_err());
    }

    #[test]
    fn rejects_mismatched_layouts() {
        let a = ints(&[Some(1), Some(2), Some(3)], 2);
        let b = ints(&[Some(1), Some(2), Some(3)], 3);
        let schema = Schema::new(vec![DataType::Int, DataType::Int]);
        assert!(DataFrame::new(schema, vec![a, b]).is_err());
    }

    #[test]
    fn concat_keeps_rows_in_order() {
        let schema = Schema::new(vec![DataType::Int]);
        let a =
            DataFrame::new(schema.clone(), vec![ints(&[Some(1), Some(2), Some(3)], 2)]).unwrap();
        let b = DataFrame::new(schema, vec![ints(&[Some(4)], 2)]).unwrap();
        let all = DataFrame::concat(vec![a, b]).unwrap();
        assert_eq!(all.nrows(), 4);
        let got: Vec<_> = (0..4).map(|r| all.get_as::<i32>(0, r).unwrap()).collect();
        assert_eq!(got, vec![Some(1), Some(2), Some(3), Some(4)]);
    }
}
