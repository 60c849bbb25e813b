//! Running visitors over a local [`DataFrame`]: `map` (sequential), `pmap` (rayon over
//! row chunks) and `filter` (a new frame of the accepted rows).
//!
//! The unit of parallel work is a row chunk (chunk `i` of every column). `pmap` folds
//! each run of consecutive chunks into a clone of the rower and joins the clones left to
//! right, so a rower whose `join` is not commutative (one that appends) still sees rows
//! in order.

use std::sync::Arc;

use rayon::prelude::*;

use super::bitmap::Bitmap;
use super::chunk::{Chunk, ChunkBuilder, ChunkData};
use super::column::{Column, DEFAULT_CHUNK_LEN};
use super::dataframe::DataFrame;
use super::visitor::{filter_rows, visit_rows, Rower};
use crate::error::Result;

impl DataFrame {
    /// Visits every row with `r`, sequentially, in row order.
    pub fn map<R: Rower + ?Sized>(&self, r: &mut R) {
        for i in 0..self.chunk_count() {
            self.visit_chunk(i, r);
        }
    }

    /// Visits every row in parallel (rayon, over row chunks) and leaves in `*r` the
    /// joined result.
    ///
    /// Every task starts from a clone of `r` as it was at the call and visits a run of
    /// consecutive chunks in order; the clones are then merged with [`Rower::join`]
    /// strictly left to right, and the merged rower replaces `*r`. So `r` should start
    /// in the "empty" state of its join (zero sums, empty lists): any state it has at
    /// the call is carried by every clone, and the number of clones depends on how rayon
    /// splits the work. A frame without rows leaves `*r` unchanged.
    pub fn pmap<R: Rower + Clone + Send>(&self, r: &mut R) {
        // fold_with clones the pristine `init` at each split, so R need not be Sync,
        // and reduce_with on an indexed iterator combines (left, right) in order.
        let init = r.clone();
        let joined = (0..self.chunk_count())
            .into_par_iter()
            .fold_with(init, |mut rower, i| {
                self.visit_chunk(i, &mut rower);
                rower
            })
            .reduce_with(|mut left, right| {
                left.join(right);
                left
            });
        if let Some(joined) = joined {
            *r = joined;
        }
    }

    /// Another name for [`DataFrame::pmap`].
    pub fn par_map<R: Rower + Clone + Send>(&self, r: &mut R) {
        self.pmap(r)
    }

    /// A new frame of the rows for which `r.accept` returns true, in row order, with the
    /// same schema (names included).
    ///
    /// Rows are tested in parallel over row chunks, each task with its own clone of `r`
    /// (clones are not joined, `r` is not changed); a rower whose decision depends on
    /// rows it saw before therefore sees only its own task's rows.
    ///
    /// The result is re-chunked to this frame's chunk length ([`DataFrame::chunk_len`]),
    /// not one output chunk per input chunk: a selective filter would otherwise leave
    /// many tiny chunks, and every later pass and every distributed chunk pays per
    /// chunk. Output chunks are also built in parallel.
    pub fn filter<R: Rower + Clone + Send>(&self, r: &R) -> Result<DataFrame> {
        let keep: Vec<Bitmap> = (0..self.chunk_count())
            .into_par_iter()
            .map_with(r.clone(), |rower, i| {
                let rows = self.chunk_rows(i);
                let chunks = self.row_chunk(i);
                let len = (rows.end - rows.start) as usize;
                filter_rows(self.schema(), &chunks, len, rows.start, rower)
            })
            .collect();

        // starts[j] is the output row of input chunk j's first kept row.
        let mut starts = Vec::with_capacity(keep.len() + 1);
        let mut total = 0usize;
        starts.push(0);
        for k in &keep {
            total += k.count_ones();
            starts.push(total);
        }

        let chunk_len = match self.chunk_len() {
            0 => DEFAULT_CHUNK_LEN,
            n => n,
        };
        let out_chunks: Vec<Vec<Chunk>> = (0..total.div_ceil(chunk_len))
            .into_par_iter()
            .map(|k| {
                let lo = k * chunk_len;
                let hi = (lo + chunk_len).min(total);
                self.gather_rows(&keep, &starts, lo..hi)
            })
            .collect();

        let mut per_column: Vec<Vec<_>> = vec![Vec::with_capacity(out_chunks.len()); self.ncols()];
        for row_chunk in out_chunks {
            for (col, chunk) in row_chunk.into_iter().enumerate() {
                per_column[col].push(Arc::new(chunk));
            }
        }
        let columns = per_column
            .into_iter()
            .zip(self.schema().types())
            .map(|(chunks, &dtype)| Column::from_chunks(dtype, chunks))
            .collect::<Result<Vec<_>>>()?;
        DataFrame::new(self.schema().clone(), columns)
    }

    /// Runs `r` over row chunk `i`. The frame's chunks fit its schema by construction,
    /// so no check is needed.
    fn visit_chunk<R: Rower + ?Sized>(&self, i: usize, r: &mut R) {
        let rows = self.chunk_rows(i);
        let chunks = self.row_chunk(i);
        visit_rows(
            self.schema(),
            &chunks,
            (rows.end - rows.start) as usize,
            rows.start,
            r,
        );
    }

    /// Builds the output chunk holding output rows `out` of a filter, one chunk per
    /// column. `keep[j]` marks the kept rows of input chunk `j`, and `starts[j]` is the
    /// output row of its first kept row.
    fn gather_rows(
        &self,
        keep: &[Bitmap],
        starts: &[usize],
        out: std::ops::Range<usize>,
    ) -> Vec<Chunk> {
        let mut builders: Vec<ChunkBuilder> = self
            .schema()
            .types()
            .iter()
            .map(|&t| ChunkBuilder::new(t, out.len()))
            .collect();
        // The first input chunk with kept rows at or after `out.start`.
        let mut j = starts[1..].partition_point(|&end| end <= out.start);
        let mut offsets = Vec::new();
        while j < keep.len() && starts[j] < out.end {
            let skip = out.start.saturating_sub(starts[j]);
            let take = out.end.min(starts[j + 1]) - (starts[j] + skip);
            offsets.clear();
            offsets.extend(keep[j].ones().skip(skip).take(take));
            for (col, builder) in builders.iter_mut().enumerate() {
                gather(self.chunk(col, j), &offsets, builder);
            }
            j += 1;
        }
        builders.into_iter().map(ChunkBuilder::finish).collect()
    }
}

/// The rows of one row chunk (`chunks`, one per column) that `keep` marks, as new
/// chunks in the same column order. What a filter keeps of a chunk.
pub fn take_rows(chunks: &[Arc<Chunk>], keep: &Bitmap) -> Vec<Chunk> {
    let offsets: Vec<usize> = keep.ones().collect();
    chunks
        .iter()
        .map(|chunk| {
            let mut out = ChunkBuilder::new(chunk.dtype(), offsets.len());
            gather(chunk, &offsets, &mut out);
            out.finish()
        })
        .collect()
}

/// Appends the values of `src` at `offsets` to `out`, which has `src`'s type. Matches
/// on the type once per chunk rather than once per value.
fn gather(src: &Chunk, offsets: &[usize], out: &mut ChunkBuilder) {
    let valid = src.validity();
    // Each arm pushes a missing value or a typed one; the builder was made from the
    // same schema as `src`, so the typed pushes cannot hit another type.
    match src.data() {
        ChunkData::Bool(v) => offsets.iter().for_each(|&o| match valid.get(o) {
            true => out.push_bool(v.get(o)),
            false => out.push_missing(),
        }),
        ChunkData::Int(v) => offsets.iter().for_each(|&o| match valid.get(o) {
            true => out.push_int(v[o]),
            false => out.push_missing(),
        }),
        ChunkData::Float(v) => offsets.iter().for_each(|&o| match valid.get(o) {
            true => out.push_float(v[o]),
            false => out.push_missing(),
        }),
        ChunkData::I64(v) => offsets.iter().for_each(|&o| match valid.get(o) {
            true => out.push_i64(v[o]),
            false => out.push_missing(),
        }),
        ChunkData::F64(v) => offsets.iter().for_each(|&o| match valid.get(o) {
            true => out.push_f64(v[o]),
            false => out.push_missing(),
        }),
        ChunkData::String { offsets: at, bytes } => {
            offsets.iter().for_each(|&o| match valid.get(o) {
                true => out.push_str(&bytes[at[o] as usize..at[o + 1] as usize]),
                false => out.push_missing(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{ColumnBuilder, DataType, Row, Schema, Value};

    /// A frame of `n` rows in chunks of `chunk_len`: INT i (missing when i % 7 == 3),
    /// FLOAT i / 2, STRING "s<i>" (missing when i % 5 == 0), BOOL i % 3 == 0.
    fn frame(n: i32, chunk_len: usize) -> DataFrame {
        let schema = Schema::from_codes("IFSB").unwrap();
        let mut cols: Vec<ColumnBuilder> = schema
            .types()
            .iter()
            .map(|&t| ColumnBuilder::new(t, chunk_len))
            .collect();
        for i in 0..n {
            let s = format!("s{i}");
            cols[0].push((i % 7 != 3).then_some(Value::Int(i))).unwrap();
            cols[1].push(Some(Value::Float(i as f32 / 2.0))).unwrap();
            cols[2]
                .push((i % 5 != 0).then_some(Value::Str(s.as_bytes())))
                .unwrap();
            cols[3].push(Some(Value::Bool(i % 3 == 0))).unwrap();
        }
        DataFrame::new(schema, cols.into_iter().map(|c| c.finish()).collect()).unwrap()
    }

    /// Sums the INT and FLOAT columns and counts missing INTs; join is commutative.
    #[derive(Clone, Default, Debug, PartialEq)]
    struct Sum {
        ints: i64,
        floats: f64,
        missing: u64,
    }
    impl Rower for Sum {
        fn accept(&mut self, row: &Row<'_>) -> bool {
            match row.get_as::<i32>(0).unwrap() {
                Some(v) => self.ints += i64::from(v),
                None => self.missing += 1,
            }
            self.floats += f64::from(row.get_as::<f32>(1).unwrap().unwrap_or(0.0));
            true
        }
        fn join(&mut self, other: Self) {
            self.ints += other.ints;
            self.floats += other.floats;
            self.missing += other.missing;
        }
    }

    /// Records the rows it visits; join appends, so it is not commutative.
    #[derive(Clone, Default, Debug, PartialEq)]
    struct Order(Vec<u64>);
    impl Rower for Order {
        fn accept(&mut self, row: &Row<'_>) -> bool {
            self.0.push(row.index());
            true
        }
        fn join(&mut self, other: Self) {
            self.0.extend(other.0);
        }
    }

    /// Keeps rows whose INT is present and even, or whose string ends in '1'.
    #[derive(Clone)]
    struct Pick;
    impl Rower for Pick {
        fn accept(&mut self, row: &Row<'_>) -> bool {
            row.get_as::<i32>(0).unwrap().is_some_and(|v| v % 2 == 0)
                || row
                    .get_as::<&[u8]>(2)
                    .unwrap()
                    .is_some_and(|s| s.ends_with(b"1"))
        }
        fn join(&mut self, _: Self) {}
    }

    #[test]
    fn map_visits_every_row_in_order() {
        let df = frame(50, 7);
        let mut order = Order::default();
        df.map(&mut order);
        assert_eq!(order.0, (0..50).collect::<Vec<_>>());
        let mut sum = Sum::default();
        df.map(&mut sum);
        assert_eq!(sum.missing, 7);
        let expect: i64 = (0..50).filter(|i| i % 7 != 3).sum();
        assert_eq!(sum.ints, expect);
    }

    #[test]
    fn pmap_equals_map_on_many_small_chunks() {
        for (n, chunk_len) in [(0, 4), (1, 1), (1000, 1), (10_007, 3), (20_000, 64)] {
            let df = frame(n, chunk_len);
            let (mut seq, mut par) = (Sum::default(), Sum::default());
            df.map(&mut seq);
            df.pmap(&mut par);
            assert_eq!(seq, par, "n={n} chunk_len={chunk_len}");
            let (mut seq, mut par) = (Order::default(), Order::default());
            df.map(&mut seq);
            df.par_map(&mut par);
            assert_eq!(par.0, (0..n as u64).collect::<Vec<_>>());
            assert_eq!(seq, par);
        }
    }

    #[test]
    fn pmap_order_holds_on_a_wide_pool() {
        // More threads than cores forces many splits and joins.
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(8)
            .build()
            .unwrap();
        let df = frame(5000, 2);
        for _ in 0..5 {
            let mut order = Order::default();
            pool.install(|| df.pmap(&mut order));
            assert_eq!(order.0, (0..5000).collect::<Vec<_>>());
        }
    }

    fn expected_rows(n: i32) -> Vec<i32> {
        (0..n)
            .filter(|i| (i % 7 != 3 && i % 2 == 0) || (i % 5 != 0 && i % 10 == 1))
            .collect()
    }

    #[test]
    fn filter_keeps_the_right_rows_in_order() {
        for (n, chunk_len) in [(0, 4), (1, 1), (100, 1), (1000, 7), (3000, 256)] {
            let df = frame(n, chunk_len);
            let got = df.filter(&Pick).unwrap();
            let want = expected_rows(n);
            assert_eq!(got.schema(), df.schema());
            assert_eq!(got.nrows(), want.len() as u64);
            for (out, &i) in want.iter().enumerate() {
                let out = out as u64;
                let int = (i % 7 != 3).then_some(i);
                assert_eq!(got.get_as::<i32>(0, out).unwrap(), int, "row {i}");
                assert_eq!(got.get_as::<f32>(1, out).unwrap(), Some(i as f32 / 2.0));
                let s = format!("s{i}");
                let s = (i % 5 != 0).then_some(s.as_bytes());
                assert_eq!(got.get_as::<&[u8]>(2, out).unwrap(), s);
                assert_eq!(got.get_as::<bool>(3, out).unwrap(), Some(i % 3 == 0));
            }
            // Re-chunked to the input's chunk length: full chunks but the last.
            let lens: Vec<_> = (0..got.chunk_count())
                .map(|c| got.chunk_rows(c).end - got.chunk_rows(c).start)
                .collect();
            if let Some((last, full)) = lens.split_last() {
                assert!(full.iter().all(|&l| l == chunk_len as u64));
                assert!(*last >= 1 && *last <= chunk_len as u64);
            }
        }
    }

    #[test]
    fn filter_of_nothing_and_everything() {
        #[derive(Clone)]
        struct Const(bool);
        impl Rower for Const {
            fn accept(&mut self, _: &Row<'_>) -> bool {
                self.0
            }
            fn join(&mut self, _: Self) {}
        }
        let df = frame(100, 9);
        let none = df.filter(&Const(false)).unwrap();
        assert_eq!(none.nrows(), 0);
        assert_eq!(none, DataFrame::empty(df.schema().clone()));
        assert_eq!(df.filter(&Const(true)).unwrap(), df);
    }

    #[test]
    fn filter_of_concatenated_frames_uses_the_longest_chunk() {
        let parts = vec![frame(10, 3), frame(10, 5)];
        let df = DataFrame::concat(parts).unwrap();
        assert_eq!(df.chunk_len(), 5);
        let got = df.filter(&Pick).unwrap();
        assert_eq!(got.chunk_len(), 5);
        let mut order = Order::default();
        got.map(&mut order);
        assert_eq!(order.0.len() as u64, got.nrows());
        assert_eq!(got.column(0).unwrap().dtype(), DataType::Int);
    }
}
