//! The visitors of the course's data frame API: [`Rower`] (reads rows), [`Fielder`]
//! (reads the fields of one row) and [`Writer`] (fills new rows through a [`RowWriter`]).
//!
//! [`visit_chunk_rows`] and [`filter_chunk_rows`] run a rower over one row chunk (one
//! chunk per column). The local frame's `map`, `pmap` and `filter` are built on them, and
//! the distributed layer calls them on the chunks a rank owns.

use std::sync::Arc;

use super::bitmap::Bitmap;
use super::chunk::{Chunk, Value};
pub use super::row::Fielder;
use super::row::{check_chunks, Row, RowBlock};
use super::types::{ColumnRef, DataType, Schema};
use crate::error::{Error, Result};

/// Visits rows. `map` and `pmap` call [`Rower::accept`] on every row; `filter` keeps
/// the rows for which it returns true.
///
/// For `pmap` and `filter` the rower is cloned: every task starts from a clone of the
/// rower as it was at the call, visits a run of consecutive rows, and the clones are
/// merged with [`Rower::join`] in row order.
///
/// ```
/// use eau2_data::frame::{DataFrame, Row, Rower};
///
/// /// Sums column 0 and remembers the rows holding negative values.
/// #[derive(Clone, Default)]
/// struct Sum {
///     total: i64,
///     negative: Vec<u64>,
/// }
///
/// impl Rower for Sum {
///     fn accept(&mut self, row: &Row<'_>) -> bool {
///         // A wrong column or type is an error; `accept` cannot return it, so it stops
///         // here, naming the column. `None` is a missing value.
///         let v = row.get_as::<i32>(0).expect("column 0 is an INT").unwrap_or(0);
///         self.total += i64::from(v);
///         if v < 0 {
///             self.negative.push(row.index());
///         }
///         v < 0
///     }
///     fn join(&mut self, other: Self) {
///         self.total += other.total;
///         self.negative.extend(other.negative); // `other` saw later rows
///     }
/// }
///
/// let df = DataFrame::from_array_chunked(&[Some(3), None, Some(-1), Some(5), Some(-2)], 2);
/// let mut sum = Sum::default();
/// df.pmap(&mut sum);
/// assert_eq!(sum.total, 5);
/// assert_eq!(sum.negative, [2, 4]);
///
/// let negatives = df.filter(&Sum::default())?;
/// assert_eq!(negatives.to_sor_string()?, "<-1>\n<-2>\n");
/// # Ok::<(), eau2_data::Error>(())
/// ```
pub trait Rower {
    /// Visits one row. The result drives `filter` (true keeps the row); `map` and
    /// `pmap` ignore it.
    fn accept(&mut self, row: &Row<'_>) -> bool;

    /// Merges the results of `other`, a clone that visited rows coming *after* the rows
    /// this rower visited. Joins happen strictly left to right, so a join that appends
    /// (e.g. collects row indices into a `Vec`) sees rows in order.
    fn join(&mut self, other: Self)
    where
        Self: Sized;

    /// Visits every row of one block of whole rows (a row chunk). The default calls
    /// [`Rower::accept`] on each row in order. A rower whose answers are not needed can
    /// override it to work on whole columns at once (e.g. through [`Chunk::ints`]), which
    /// costs a fraction of a call per row; `map`, `pmap` and the distributed `local_map`
    /// call it. `filter` needs every row's answer, so it always calls `accept`.
    fn accept_block(&mut self, block: &RowBlock<'_>) {
        for row in block.rows() {
            self.accept(&row);
        }
    }
}

/// Fills new rows, one [`Writer::visit`] call per row, for as long as
/// [`Writer::done`] is false (it is asked before every row, so a writer that is done at
/// the start produces an empty frame).
pub trait Writer {
    /// Fills one row. Fields it does not set are missing.
    fn visit(&mut self, row: &mut RowWriter<'_>);

    /// True when there are no more rows to write.
    fn done(&self) -> bool;
}

/// One field of a row being written. Strings are stored as a range of the writer's byte
/// buffer, because the values handed to `set` may not outlive the `visit` call.
#[derive(Clone, Copy, Debug)]
enum Slot {
    Missing,
    Bool(bool),
    Int(i32),
    Float(f32),
    Str(usize, usize),
    I64(i64),
    F64(f64),
}

/// The row a [`Writer`] fills: every field starts missing, and `set` calls give values.
///
/// Setting a value of the wrong type, or a column past the end, is an error. The error
/// is returned *and* remembered: the frame builder that drives the writer fails with the
/// first such error even if the writer ignored the `Result`, so a mistake in a writer
/// cannot silently turn into missing values.
#[derive(Debug)]
pub struct RowWriter<'a> {
    schema: &'a Schema,
    index: u64,
    slots: Vec<Slot>,
    /// The bytes of the row's strings; reused from row to row.
    bytes: Vec<u8>,
    error: Option<Error>,
}

impl<'a> RowWriter<'a> {
    /// An empty row (all fields missing) of `schema`, numbered `index`.
    pub fn new(schema: &'a Schema, index: u64) -> RowWriter<'a> {
        RowWriter {
            schema,
            index,
            slots: vec![Slot::Missing; schema.width()],
            bytes: Vec::new(),
            error: None,
        }
    }

    /// Makes this writer an empty row numbered `index` again, keeping its buffers.
    pub(crate) fn reset(&mut self, index: u64) {
        self.index = index;
        self.slots.fill(Slot::Missing);
        self.bytes.clear();
        self.error = None;
    }

    /// The first error a `set` call returned since the row started, if any.
    pub(crate) fn take_error(&mut self) -> Option<Error> {
        self.error.take()
    }

    /// The global index of the row being written.
    pub fn index(&self) -> u64 {
        self.index
    }

    /// The number of columns.
    pub fn width(&self) -> usize {
        self.schema.width()
    }

    /// The type of column `col`, or `None` past the last column.
    pub fn dtype(&self, col: usize) -> Option<DataType> {
        self.schema.types().get(col).copied()
    }

    /// The value set so far in column `col`; `None` when missing or past the end.
    pub fn get(&self, col: usize) -> Option<Value<'_>> {
        Some(match *self.slots.get(col)? {
            Slot::Missing => return None,
            Slot::Bool(b) => Value::Bool(b),
            Slot::Int(i) => Value::Int(i),
            Slot::Float(f) => Value::Float(f),
            Slot::Str(start, end) => Value::Str(&self.bytes[start..end]),
            Slot::I64(i) => Value::I64(i),
            Slot::F64(f) => Value::F64(f),
        })
    }

    /// The index of column `col`, checked to exist and (for `Some`) to have type `want`;
    /// the first failure of the row is also remembered.
    fn check(&mut self, col: impl ColumnRef, want: Option<DataType>) -> Result<usize> {
        let make = || {
            let index = col.resolve(self.schema)?;
            if let Some(want) = want {
                self.schema.check_type(index, want)?;
            }
            Ok(index)
        };
        match make() {
            Ok(index) => Ok(index),
            Err(err) => {
                // Error is not Clone: build it twice, one to keep and one to return.
                if self.error.is_none() {
                    self.error = make().err();
                }
                Err(err)
            }
        }
    }

    /// Sets column `col` (an index or a name) to `value` (`None` makes it missing).
    pub fn set(&mut self, col: impl ColumnRef, value: Option<Value<'_>>) -> Result<()> {
        match value {
            None => self.set_missing(col),
            Some(Value::Bool(b)) => self.set_bool(col, b),
            Some(Value::Int(i)) => self.set_int(col, i),
            Some(Value::Float(f)) => self.set_float(col, f),
            Some(Value::Str(s)) => self.set_str(col, s),
            Some(Value::I64(i)) => self.set_i64(col, i),
            Some(Value::F64(f)) => self.set_f64(col, f),
        }
    }

    /// Makes column `col` missing again.
    pub fn set_missing(&mut self, col: impl ColumnRef) -> Result<()> {
        let col = self.check(col, None)?;
        self.slots[col] = Slot::Missing;
        Ok(())
    }

    /// Sets BOOL column `col`.
    pub fn set_bool(&mut self, col: impl ColumnRef, value: bool) -> Result<()> {
        let col = self.check(col, Some(DataType::Bool))?;
        self.slots[col] = Slot::Bool(value);
        Ok(())
    }

    /// Sets INT column `col`.
    pub fn set_int(&mut self, col: impl ColumnRef, value: i32) -> Result<()> {
        let col = self.check(col, Some(DataType::Int))?;
        self.slots[col] = Slot::Int(value);
        Ok(())
    }

    /// Sets FLOAT column `col`.
    pub fn set_float(&mut self, col: impl ColumnRef, value: f32) -> Result<()> {
        let col = self.check(col, Some(DataType::Float))?;
        self.slots[col] = Slot::Float(value);
        Ok(())
    }

    /// Sets I64 column `col`.
    pub fn set_i64(&mut self, col: impl ColumnRef, value: i64) -> Result<()> {
        let col = self.check(col, Some(DataType::I64))?;
        self.slots[col] = Slot::I64(value);
        Ok(())
    }

    /// Sets F64 column `col`.
    pub fn set_f64(&mut self, col: impl ColumnRef, value: f64) -> Result<()> {
        let col = self.check(col, Some(DataType::F64))?;
        self.slots[col] = Slot::F64(value);
        Ok(())
    }

    /// Sets STRING column `col` to a copy of `value` (`&str`, `String`, `&[u8]`, ...).
    pub fn set_str(&mut self, col: impl ColumnRef, value: impl AsRef<[u8]>) -> Result<()> {
        let col = self.check(col, Some(DataType::String))?;
        // Setting the same column twice leaves the old bytes unused until the next row;
        // that is cheaper than compacting the buffer.
        let start = self.bytes.len();
        self.bytes.extend_from_slice(value.as_ref());
        self.slots[col] = Slot::Str(start, self.bytes.len());
        Ok(())
    }
}

/// Runs `rower` over every row of one row chunk, in order: `chunks` holds one chunk per
/// column of `schema`, all of one length, and `first_row` is the global index of their
/// first row.
///
/// Returns an error, before visiting any row, when the chunks do not fit the schema
/// (they may come from another rank).
pub fn visit_chunk_rows<R: Rower + ?Sized>(
    schema: &Schema,
    chunks: &[Arc<Chunk>],
    first_row: u64,
    rower: &mut R,
) -> Result<()> {
    let len = check_chunks(schema, chunks)?;
    visit_rows(schema, chunks, len, first_row, rower);
    Ok(())
}

/// Like [`visit_chunk_rows`], and returns a bitmap with one bit per row of the chunk,
/// set where `rower` accepted the row.
pub fn filter_chunk_rows<R: Rower + ?Sized>(
    schema: &Schema,
    chunks: &[Arc<Chunk>],
    first_row: u64,
    rower: &mut R,
) -> Result<Bitmap> {
    let len = check_chunks(schema, chunks)?;
    Ok(filter_rows(schema, chunks, len, first_row, rower))
}

/// The loop of [`visit_chunk_rows`], for chunks already known to fit and be `len` long.
pub(crate) fn visit_rows<R: Rower + ?Sized>(
    schema: &Schema,
    chunks: &[Arc<Chunk>],
    len: usize,
    first_row: u64,
    rower: &mut R,
) {
    rower.accept_block(&RowBlock::unchecked(schema, chunks, len, first_row));
}

/// The loop of [`filter_chunk_rows`], for chunks already known to fit and be `len` long.
pub(crate) fn filter_rows<R: Rower + ?Sized>(
    schema: &Schema,
    chunks: &[Arc<Chunk>],
    len: usize,
    first_row: u64,
    rower: &mut R,
) -> Bitmap {
    let mut keep = Bitmap::with_capacity(len);
    for offset in 0..len {
        keep.push(rower.accept(&Row::unchecked(
            schema,
            chunks,
            offset,
            first_row + offset as u64,
        )));
    }
    keep
}

#[cfg(test)]
mod tests {
    /// Counts rows one block at a time, remembering each block's first row and length.
    #[derive(Clone, Default)]
    struct Blocks {
        seen: Vec<(u64, usize)>,
        sum: i64,
    }

    impl Rower for Blocks {
        fn accept(&mut self, _: &Row<'_>) -> bool {
            unreachable!("map and pmap call accept_block")
        }
        fn accept_block(&mut self, block: &RowBlock<'_>) {
            self.seen.push((block.first_row(), block.len()));
            self.sum += block
                .column(0)
                .ints()
                .unwrap()
                .iter()
                .map(|&v| v as i64)
                .sum::<i64>();
        }
        fn join(&mut self, other: Self) {
            self.seen.extend(other.seen);
            self.sum += other.sum;
        }
    }

    #[test]
    fn map_and_pmap_hand_whole_blocks_to_accept_block() {
        let values: Vec<i32> = (0..10).collect();
        let df = crate::frame::DataFrame::from_array_chunked(&values, 4);
        let mut seq = Blocks::default();
        df.map(&mut seq);
        assert_eq!(seq.seen, vec![(0, 4), (4, 4), (8, 2)]);
        assert_eq!(seq.sum, 45);
        let mut par = Blocks::default();
        df.pmap(&mut par);
        assert_eq!(par.seen, seq.seen);
        assert_eq!(par.sum, 45);
    }

    use super::*;
    use crate::frame::ChunkBuilder;

    /// Records the rows it sees; accepts rows whose INT column 0 is even.
    #[derive(Clone, Default)]
    struct Even {
        seen: Vec<u64>,
    }
    impl Rower for Even {
        fn accept(&mut self, row: &Row<'_>) -> bool {
            self.seen.push(row.index());
            row.get_as::<i32>(0).unwrap().is_some_and(|v| v % 2 == 0)
        }
        fn join(&mut self, other: Self) {
            self.seen.extend(other.seen);
        }
    }

    fn int_chunk(values: &[Option<i32>]) -> Arc<Chunk> {
        let mut b = ChunkBuilder::new(DataType::Int, values.len());
        for v in values {
            b.push_value(v.map(Value::Int)).unwrap();
        }
        Arc::new(b.finish())
    }

    #[test]
    fn visits_rows_in_order_with_global_indices() {
        let schema = Schema::from_codes("I").unwrap();
        let chunks = [int_chunk(&[Some(1), Some(2), None, Some(4)])];
        let mut r = Even::default();
        visit_chunk_rows(&schema, &chunks, 40, &mut r).unwrap();
        assert_eq!(r.seen, [40, 41, 42, 43]);
        let mut r = Even::default();
        let keep = filter_chunk_rows(&schema, &chunks, 0, &mut r).unwrap();
        assert_eq!(keep.len(), 4);
        assert_eq!(keep.ones().collect::<Vec<_>>(), [1, 3]);
    }

    #[test]
    fn rejects_chunks_that_do_not_fit() {
        let schema = Schema::from_codes("IS").unwrap();
        let chunks = [int_chunk(&[Some(1)]), int_chunk(&[Some(2)])];
        let mut r = Even::default();
        assert!(visit_chunk_rows(&schema, &chunks, 0, &mut r).is_err());
        assert!(filter_chunk_rows(&schema, &chunks[..1], 0, &mut r).is_err());
        assert!(r.seen.is_empty());
    }

    #[test]
    fn rower_is_usable_as_a_trait_object() {
        let schema = Schema::from_codes("I").unwrap();
        let chunks = [int_chunk(&[Some(1), Some(2)])];
        let mut r = Even::default();
        let dynamic: &mut dyn Rower = &mut r;
        visit_chunk_rows(&schema, &chunks, 0, dynamic).unwrap();
        assert_eq!(r.seen, [0, 1]);
    }

    #[test]
    fn row_writer_sets_and_checks_types() {
        let schema = Schema::from_codes("BIFS").unwrap();
        let mut w = RowWriter::new(&schema, 3);
        assert_eq!(w.index(), 3);
        assert_eq!(w.width(), 4);
        assert!((0..4).all(|c| w.get(c).is_none()));
        w.set_bool(0, true).unwrap();
        w.set_int(1, 5).unwrap();
        w.set_float(2, 0.5).unwrap();
        w.set_str(3, "first").unwrap();
        w.set_str(3, String::from("second")).unwrap();
        assert_eq!(w.get(0), Some(Value::Bool(true)));
        assert_eq!(w.get(1), Some(Value::Int(5)));
        assert_eq!(w.get(2), Some(Value::Float(0.5)));
        assert_eq!(w.get(3), Some(Value::Str(b"second")));
        w.set(1, None).unwrap();
        assert_eq!(w.get(1), None);
        assert!(w.take_error().is_none());

        // The first error is both returned and remembered; the slot is unchanged.
        assert!(matches!(
            w.set_int(2, 1),
            Err(Error::TypeMismatch {
                column: 2,
                expected: DataType::Int,
                found: DataType::Float,
                ..
            })
        ));
        assert!(w.set(0, Some(Value::Str(b"x"))).is_err());
        assert!(matches!(
            w.set_bool(4, true),
            Err(Error::OutOfRange { index: 4, .. })
        ));
        assert_eq!(w.get(2), Some(Value::Float(0.5)));
        assert!(matches!(
            w.take_error(),
            Some(Error::TypeMismatch { column: 2, .. })
        ));

        w.reset(4);
        assert_eq!(w.index(), 4);
        assert!((0..4).all(|c| w.get(c).is_none()));
    }
}
