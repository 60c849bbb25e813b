//! A column: a typed sequence of values held as a list of [`Chunk`]s.

use std::sync::Arc;

use super::chunk::{Chunk, ChunkBuilder, Value};
use super::types::DataType;
use crate::error::{Error, Result};

/// The default number of rows per chunk.
pub const DEFAULT_CHUNK_LEN: usize = 1 << 16;

/// A typed column of values, stored as chunks. Chunks are shared (`Arc`) so that frames
/// built from other frames (projection, concatenation) copy no values.
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    dtype: DataType,
    chunks: Vec<Arc<Chunk>>,
}

impl Column {
    /// A column of the given chunks, which must all be of type `dtype`.
    pub fn from_chunks(dtype: DataType, chunks: Vec<Arc<Chunk>>) -> Result<Column> {
        if let Some(bad) = chunks.iter().find(|c| c.dtype() != dtype) {
            return Err(Error::Schema(format!(
                "a {} chunk cannot be part of a {dtype} column",
                bad.dtype()
            )));
        }
        Ok(Column { dtype, chunks })
    }

    /// The type of the values.
    pub fn dtype(&self) -> DataType {
        self.dtype
    }

    /// The chunks, in row order.
    pub fn chunks(&self) -> &[Arc<Chunk>] {
        &self.chunks
    }

    /// The total number of rows.
    pub fn len(&self) -> usize {
        self.chunks.iter().map(|c| c.len()).sum()
    }

    /// True when the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.chunks.iter().all(|c| c.is_empty())
    }

    /// Appends the chunks of `other`, which must have the same type.
    pub fn append(&mut self, other: Column) -> Result<()> {
        if other.dtype != self.dtype {
            return Err(Error::Schema(format!(
                "cannot append a {} column to a {} column",
                other.dtype, self.dtype
            )));
        }
        self.chunks.extend(other.chunks);
        Ok(())
    }
}

/// Builds a [`Column`] value by value, cutting a new chunk every `chunk_len` rows.
#[derive(Debug)]
pub struct ColumnBuilder {
    dtype: DataType,
    chunk_len: usize,
    current: ChunkBuilder,
    done: Vec<Arc<Chunk>>,
}

impl ColumnBuilder {
    /// An empty builder of a `dtype` column with chunks of `chunk_len` rows (at least 1).
    pub fn new(dtype: DataType, chunk_len: usize) -> ColumnBuilder {
        let chunk_len = chunk_len.max(1);
        ColumnBuilder {
            dtype,
            chunk_len,
            current: ChunkBuilder::new(dtype, chunk_len.min(DEFAULT_CHUNK_LEN)),
            done: Vec::new(),
        }
    }

    /// Like [`ColumnBuilder::new`], for a column that will hold at most about
    /// `expected_rows` rows: its first chunk reserves room for no more than those, so a
    /// small input with many columns does not reserve a whole chunk of rows for each.
    pub fn with_expected_rows(
        dtype: DataType,
        chunk_len: usize,
        expected_rows: usize,
    ) -> ColumnBuilder {
        let mut builder = ColumnBuilder::new(dtype, chunk_len);
        let first = builder.chunk_len.min(DEFAULT_CHUNK_LEN);
        if expected_rows < first {
            builder.current = ChunkBuilder::new(dtype, expected_rows.max(1));
        }
        builder
    }

    /// The type being built.
    pub fn dtype(&self) -> DataType {
        self.dtype
    }

    /// The number of rows so far.
    pub fn len(&self) -> usize {
        self.done.len() * self.chunk_len + self.current.len()
    }

    /// True when no rows have been pushed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The builder of the chunk being filled; call [`ColumnBuilder::row_done`] after
    /// pushing exactly one value into it (or after a bulk extend of at most
    /// [`ColumnBuilder::room`] rows). This two-step form lets hot loops push typed
    /// values without matching on a [`Value`].
    #[inline]
    pub fn current(&mut self) -> &mut ChunkBuilder {
        &mut self.current
    }

    /// How many more rows the chunk being filled takes before it is cut (at least 1).
    #[inline]
    pub fn room(&self) -> usize {
        self.chunk_len - self.current.len()
    }

    /// Cuts the chunk when it is full. Call after each push through
    /// [`ColumnBuilder::current`], or after each bulk extend of at most
    /// [`ColumnBuilder::room`] rows.
    #[inline]
    pub fn row_done(&mut self) {
        if self.current.len() == self.chunk_len {
            let full = std::mem::replace(
                &mut self.current,
                ChunkBuilder::new(self.dtype, self.chunk_len.min(DEFAULT_CHUNK_LEN)),
            );
            self.done.push(Arc::new(full.finish()));
        }
    }

    /// Appends a value, or a missing value for `None`; a value of another type is an
    /// error.
    pub fn push(&mut self, value: Option<Value<'_>>) -> Result<()> {
        self.current.push_value(value)?;
        self.row_done();
        Ok(())
    }

    /// Appends a missing value.
    pub fn push_missing(&mut self) {
        self.current.push_missing();
        self.row_done();
    }

    /// Finishes the column; the last chunk may be shorter than `chunk_len`.
    pub fn finish(mut self) -> Column {
        if !self.current.is_empty() {
            self.done.push(Arc::new(self.current.finish()));
        }
        Column {
            dtype: self.dtype,
            chunks: self.done,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_chunks() {
        let mut b = ColumnBuilder::new(DataType::Int, 3);
        for i in 0..7 {
            b.push(Some(Value::Int(i))).unwrap();
        }
        assert_eq!(b.len(), 7);
        let col = b.finish();
        let lens: Vec<_> = col.chunks().iter().map(|c| c.len()).collect();
        assert_eq!(lens, vec![3, 3, 1]);
        assert_eq!(col.chunks()[2].get_as::<i32>(0), Some(6));
    }

    #[test]
    fn room_counts_down_to_the_cut() {
        let mut b = ColumnBuilder::new(DataType::Int, 3);
        assert_eq!(b.room(), 3);
        b.current().extend_ints(&[1, 2], 0b11);
        b.row_done();
        assert_eq!(b.room(), 1);
        b.current().extend_ints(&[3], 0b1);
        b.row_done();
        assert_eq!(b.room(), 3);
        let lens: Vec<_> = b.finish().chunks().iter().map(|c| c.len()).collect();
        assert_eq!(lens, vec![3]);
    }

    #[test]
    fn append_checks_type() {
        let mut a = ColumnBuilder::new(DataType::Int, 4).finish();
        let b = ColumnBuilder::new(DataType::Float, 4).finish();
        assert!(a.append(b).is_err());
    }
}
