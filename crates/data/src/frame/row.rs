//! [`Row`]: a read-only view of one row, over the chunks that hold it.
//!
//! A row does not copy values: it is a schema, one chunk per column (chunk `i` of every
//! column covers the same rows) and an offset into those chunks. Building one needs no
//! [`DataFrame`](super::DataFrame), so the distributed layer can visit rows of chunks it
//! fetched from the store exactly as the local frame visits its own.

use std::sync::Arc;

use super::chunk::{Chunk, FromValue, Value};
use super::types::{ColumnRef, DataType, Schema};
use crate::error::{Error, Result};

/// One row of a frame, borrowed from its chunks.
///
/// Accessors take a column as an index or a name (see [`ColumnRef`]). A column that does
/// not exist, or a typed getter on a column of another type, is an error naming the
/// column (and both types); `Ok(None)` always means a missing value. Resolve names once
/// with [`Schema::index`] in loops over many rows: an index costs a bounds check, a name
/// a scan of the names.
#[derive(Clone, Copy, Debug)]
pub struct Row<'a> {
    schema: &'a Schema,
    chunks: &'a [Arc<Chunk>],
    offset: usize,
    index: u64,
}

/// A block of whole rows: one chunk per column, all of one length, starting at a known
/// global row. What [`Rower::accept_block`](super::Rower::accept_block) receives.
#[derive(Clone, Copy, Debug)]
pub struct RowBlock<'a> {
    schema: &'a Schema,
    chunks: &'a [Arc<Chunk>],
    len: usize,
    first_row: u64,
}

impl<'a> RowBlock<'a> {
    /// A block over chunks already checked to fit `schema` and to be `len` rows long.
    pub(crate) fn unchecked(
        schema: &'a Schema,
        chunks: &'a [Arc<Chunk>],
        len: usize,
        first_row: u64,
    ) -> RowBlock<'a> {
        RowBlock {
            schema,
            chunks,
            len,
            first_row,
        }
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when the block has no rows.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The global index of the first row.
    pub fn first_row(&self) -> u64 {
        self.first_row
    }

    /// The schema of the columns.
    pub fn schema(&self) -> &'a Schema {
        self.schema
    }

    /// Column `col`'s chunk: its values for these rows. Panics when `col` is out of
    /// range, like slice indexing.
    pub fn column(&self, col: usize) -> &'a Chunk {
        &self.chunks[col]
    }

    /// The rows, in order.
    pub fn rows(&self) -> impl Iterator<Item = Row<'a>> + '_ {
        (0..self.len).map(|offset| {
            Row::unchecked(
                self.schema,
                self.chunks,
                offset,
                self.first_row + offset as u64,
            )
        })
    }
}

impl<'a> Row<'a> {
    /// The row at `offset` in `chunks` (one chunk per column of `schema`), whose global
    /// row number is `index`.
    ///
    /// # Panics
    /// When the chunks do not fit the schema (count or types) or `offset` is past the
    /// end of a chunk: the caller assembled an impossible row. Use [`Row::try_new`] for
    /// chunks that come from outside (the network), or validate them once and build
    /// many rows, as [`visit_chunk_rows`](super::visit_chunk_rows) does.
    pub fn new(schema: &'a Schema, chunks: &'a [Arc<Chunk>], offset: usize, index: u64) -> Self {
        match Row::try_new(schema, chunks, offset, index) {
            Ok(row) => row,
            Err(e) => panic!("Row::new: {e}"),
        }
    }

    /// Like [`Row::new`], but returns an error instead of panicking when the chunks do
    /// not fit the schema or `offset` is out of range.
    pub fn try_new(
        schema: &'a Schema,
        chunks: &'a [Arc<Chunk>],
        offset: usize,
        index: u64,
    ) -> Result<Self> {
        let len = check_chunks(schema, chunks)?;
        if offset >= len {
            return Err(Error::OutOfRange {
                what: "row offset",
                index: offset as u64,
                len: len as u64,
            });
        }
        Ok(Row::unchecked(schema, chunks, offset, index))
    }

    /// A row over chunks already known to fit the schema, with `offset` in range. Hot
    /// loops validate the chunks once and then build one of these per row; a wrong
    /// offset here panics on access (it is memory safe, just a bug).
    #[inline]
    pub(crate) fn unchecked(
        schema: &'a Schema,
        chunks: &'a [Arc<Chunk>],
        offset: usize,
        index: u64,
    ) -> Self {
        Row {
            schema,
            chunks,
            offset,
            index,
        }
    }

    /// The global row number: the row's index in the whole frame.
    #[inline]
    pub fn index(&self) -> u64 {
        self.index
    }

    /// The number of columns.
    #[inline]
    pub fn width(&self) -> usize {
        self.chunks.len()
    }

    /// The schema of the row's frame.
    #[inline]
    pub fn schema(&self) -> &'a Schema {
        self.schema
    }

    /// The type of column `col`.
    #[inline]
    pub fn dtype(&self, col: impl ColumnRef) -> Result<DataType> {
        self.schema.dtype(col.resolve(self.schema)?)
    }

    /// Column `col`'s chunk, checked to exist.
    #[inline]
    fn chunk(&self, col: impl ColumnRef) -> Result<&'a Chunk> {
        let index = col.resolve(self.schema)?;
        Ok(&self.chunks[index])
    }

    /// The value in column `col`; `Ok(None)` when missing.
    #[inline]
    pub fn get(&self, col: impl ColumnRef) -> Result<Option<Value<'a>>> {
        Ok(self.chunk(col)?.value(self.offset))
    }

    /// True when column `col` has no value.
    #[inline]
    pub fn is_missing(&self, col: impl ColumnRef) -> Result<bool> {
        Ok(self.chunk(col)?.is_missing(self.offset))
    }

    /// The value in column `col` as a `T` (see [`FromValue`]); `Ok(None)` when missing,
    /// an error when the column is not of `T`'s type.
    #[inline]
    pub fn get_as<T: FromValue<'a>>(&self, col: impl ColumnRef) -> Result<Option<T>> {
        let index = col.resolve(self.schema)?;
        let chunk: &'a Chunk = &self.chunks[index];
        let found = chunk.dtype();
        if found != T::DTYPE {
            return Err(self.schema.mismatch(index, T::DTYPE, found));
        }
        Ok(chunk.value(self.offset).and_then(T::from_value))
    }

    /// Calls `f.start(index)`, then `f.accept` with each field in column order, then
    /// `f.done()`.
    pub fn visit(&self, f: &mut impl Fielder) {
        f.start(self.index);
        for c in self.chunks {
            f.accept(c.value(self.offset));
        }
        f.done();
    }
}

/// Visits the fields of one row, in column order (see [`Row::visit`]). Defined beside
/// [`Row`], so that rows need nothing from the other visitors' module.
pub trait Fielder {
    /// Called before the first field, with the row's global index.
    fn start(&mut self, row: u64);

    /// Called once per column with its value; `None` is a missing value.
    fn accept(&mut self, value: Option<Value<'_>>);

    /// Called after the last field.
    fn done(&mut self) {}
}

/// Checks that `chunks` has one chunk per column of `schema`, of the column's type, all
/// of one length; returns that length (0 for a schema without columns).
pub(crate) fn check_chunks(schema: &Schema, chunks: &[Arc<Chunk>]) -> Result<usize> {
    if chunks.len() != schema.width() {
        return Err(Error::Schema(format!(
            "{} chunks given for a schema of {} columns",
            chunks.len(),
            schema.width()
        )));
    }
    for (col, (chunk, &dtype)) in chunks.iter().zip(schema.types()).enumerate() {
        if chunk.dtype() != dtype {
            return Err(schema.mismatch(col, dtype, chunk.dtype()));
        }
    }
    let len = chunks.first().map_or(0, |c| c.len());
    if let Some(col) = chunks.iter().position(|c| c.len() != len) {
        return Err(Error::Schema(format!(
            "chunk of column {col} has {} rows, chunk of column 0 has {len}",
            chunks[col].len()
        )));
    }
    Ok(len)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::ChunkBuilder;

    /// Columns B I F S; row 0 full, row 1 all missing.
    fn sample() -> (Schema, Vec<Arc<Chunk>>) {
        let schema = Schema::from_codes("BIFS").unwrap();
        let mut b = ChunkBuilder::new(DataType::Bool, 2);
        let mut i = ChunkBuilder::new(DataType::Int, 2);
        let mut f = ChunkBuilder::new(DataType::Float, 2);
        let mut s = ChunkBuilder::new(DataType::String, 2);
        b.push_bool(true);
        i.push_int(-7);
        f.push_float(2.5);
        s.push_str(b"hi there");
        for builder in [&mut b, &mut i, &mut f, &mut s] {
            builder.push_missing();
        }
        let chunks = [b, i, f, s]
            .into_iter()
            .map(|c| Arc::new(c.finish()))
            .collect();
        (schema, chunks)
    }

    #[test]
    fn getters_read_values() {
        let (schema, chunks) = sample();
        let row = Row::new(&schema, &chunks, 0, 100);
        assert_eq!(row.index(), 100);
        assert_eq!(row.width(), 4);
        assert_eq!(row.dtype(2).unwrap(), DataType::Float);
        assert_eq!(row.dtype("c3").unwrap(), DataType::String);
        assert_eq!(row.get_as::<bool>(0).unwrap(), Some(true));
        assert_eq!(row.get_as::<i32>(1).unwrap(), Some(-7));
        assert_eq!(row.get_as::<f32>(2).unwrap(), Some(2.5));
        assert_eq!(row.get_as::<&[u8]>(3).unwrap(), Some(&b"hi there"[..]));
        assert_eq!(row.get(1).unwrap(), Some(Value::Int(-7)));
        assert!((0..4).all(|c| !row.is_missing(c).unwrap()));
        // By name: the default names c0..c3.
        assert_eq!(row.get_as::<i32>("c1").unwrap(), Some(-7));
        assert_eq!(
            row.get_as::<&[u8]>(&String::from("c3")).unwrap(),
            Some(&b"hi there"[..])
        );
    }

    #[test]
    fn missing_values_are_none_and_wrong_types_are_errors() {
        let (schema, chunks) = sample();
        let row = Row::new(&schema, &chunks, 1, 101);
        assert!((0..4).all(|c| row.is_missing(c).unwrap() && row.get(c).unwrap().is_none()));
        assert_eq!(row.get_as::<bool>(0).unwrap(), None);
        assert_eq!(row.get_as::<&[u8]>(3).unwrap(), None);
        // A wrong type is an error, on present and missing values alike.
        for row in [Row::new(&schema, &chunks, 0, 100), row] {
            let err = row.get_as::<i32>(3).unwrap_err();
            assert!(matches!(
                err,
                Error::TypeMismatch {
                    column: 3,
                    expected: DataType::Int,
                    found: DataType::String,
                    ..
                }
            ));
            assert_eq!(err.to_string(), "column 3 (\"c3\") is STRING, not INT");
            assert!(row.get_as::<f32>(1).is_err());
            assert!(row.get_as::<&[u8]>(2).is_err());
            assert!(row.get_as::<bool>(3).is_err());
            assert!(row.get_as::<i64>(1).is_err());
            assert!(row.get_as::<f64>(2).is_err());
            // Past the last column, or a wrong name: errors too.
            assert!(matches!(row.is_missing(4), Err(Error::OutOfRange { .. })));
            assert!(row.get(4).is_err());
            assert!(row.dtype(4).is_err());
            let err = row.get_as::<i32>("pid").unwrap_err();
            assert_eq!(
                err.to_string(),
                "no column is named \"pid\"; the columns are: c0, c1, c2, c3"
            );
        }
    }

    #[test]
    fn wide_getters_read_values() {
        let schema = Schema::named([("n", DataType::I64), ("mean", DataType::F64)]).unwrap();
        let mut l = ChunkBuilder::new(DataType::I64, 2);
        let mut d = ChunkBuilder::new(DataType::F64, 2);
        l.push_i64(1 << 40);
        d.push_f64(0.1);
        l.push_missing();
        d.push_missing();
        let chunks: Vec<_> = [l, d].into_iter().map(|c| Arc::new(c.finish())).collect();
        let row = Row::new(&schema, &chunks, 0, 0);
        assert_eq!(row.get_as::<i64>("n").unwrap(), Some(1 << 40));
        assert_eq!(row.get_as::<f64>("mean").unwrap(), Some(0.1));
        assert_eq!(row.get(0).unwrap(), Some(Value::I64(1 << 40)));
        assert!(row.get_as::<i32>("n").is_err());
        let row = Row::new(&schema, &chunks, 1, 1);
        assert_eq!(row.get_as::<i64>(0).unwrap(), None);
        assert_eq!(row.get_as::<f64>(1).unwrap(), None);
    }

    #[test]
    fn try_new_rejects_bad_chunks() {
        let (schema, chunks) = sample();
        assert!(Row::try_new(&schema, &chunks, 2, 0).is_err());
        assert!(Row::try_new(&schema, &chunks[..3], 0, 0).is_err());
        let ints = Schema::from_codes("IIFS").unwrap();
        assert!(matches!(
            Row::try_new(&ints, &chunks, 0, 0),
            Err(Error::TypeMismatch { column: 0, .. })
        ));
        let mut short = chunks.clone();
        short[3] = Arc::new(ChunkBuilder::new(DataType::String, 0).finish());
        assert!(Row::try_new(&schema, &short, 0, 0).is_err());
    }

    #[test]
    #[should_panic(expected = "Row::new")]
    fn new_panics_on_bad_offset() {
        let (schema, chunks) = sample();
        let _ = Row::new(&schema, &chunks, 5, 0);
    }

    #[test]
    fn visit_feeds_every_field() {
        struct Collect(Vec<String>);
        impl Fielder for Collect {
            fn start(&mut self, row: u64) {
                self.0.push(format!("start {row}"));
            }
            fn accept(&mut self, value: Option<Value<'_>>) {
                self.0.push(format!("{value:?}"));
            }
            fn done(&mut self) {
                self.0.push("done".into());
            }
        }
        let (schema, chunks) = sample();
        let mut c = Collect(Vec::new());
        Row::new(&schema, &chunks, 0, 9).visit(&mut c);
        Row::new(&schema, &chunks, 1, 10).visit(&mut c);
        assert_eq!(
            c.0,
            [
                "start 9",
                "Some(Bool(true))",
                "Some(Int(-7))",
                "Some(Float(2.5))",
                "Some(Str([104, 105, 32, 116, 104, 101, 114, 101]))",
                "done",
                "start 10",
                "None",
                "None",
                "None",
                "None",
                "done",
            ]
        );
    }
}
