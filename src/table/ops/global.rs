//! Aggregates over the whole frame (polars' `df.select(pl.col(..).sum(), ...)`, SQL's
//! aggregates without `GROUP BY`).
//!
//! A group-by on no columns has one group, so it needs no hash table: each row chunk is
//! folded on its own core into one state per aggregate (a plain loop over the column's
//! values, vectorized where every value is present), the chunks' states are merged in
//! chunk order (so float sums come out the same on every run), and the ranks' states
//! meet at one rank through the group-by's exchange, a few bytes each.

use rayon::prelude::*;

use super::group::{better, canonical, encode_values, Acc, Agg, Groups, Numbers, Plan};
use super::keys::KeyRef;
use super::shuffle::Source;
use crate::error::Result;
use crate::frame::{Bitmap, Chunk};
use crate::table::DistFrame;

impl<'n> DistFrame<'n> {
    /// Collective: one row with one column per aggregate of `aggs`, over every row of
    /// the frame; the same as a group-by on no columns. An empty frame gives one row
    /// too, as in SQL: counts 0, integer sums 0, and missing minima, maxima and means.
    ///
    /// ```
    /// # let node = eau2::Node::standalone()?;
    /// use eau2::table::{Agg, DistFrame};
    /// let f = DistFrame::from_array(&node, &eau2::kv::Key::new("f", 0), &[3, 1, 4])?;
    /// let totals = f.agg(&[Agg::sum("c0"), Agg::max("c0"), Agg::count()])?;
    /// assert_eq!(totals.lines()?, ["8 4 3"]);
    /// # Ok::<(), eau2::Error>(())
    /// ```
    pub fn agg(&self, aggs: &[Agg]) -> Result<DistFrame<'n>> {
        crate::table::memo::op(self.node, "global agg", || self.group_by(&[])?.agg(aggs))
    }
}

impl Groups {
    /// The one group of every row of `sources` (this rank's row chunks), with the hash
    /// of its (empty) key: each chunk folded on its own core, then the chunks' states
    /// merged in chunk order.
    pub(super) fn of_every_row(sources: &[Source], plans: &[Plan]) -> (u64, Groups) {
        let key = KeyRef::of(&[]);
        let hash = key.hash();
        let mut groups = Groups::new(plans);
        groups.group_of(key, hash);
        let per_chunk: Vec<Vec<Acc>> = sources.par_iter().map(|s| fold(s, plans)).collect();
        for accs in &per_chunk {
            for (mine, theirs) in groups.accs.iter_mut().zip(accs) {
                mine.merge(0, theirs, 0);
                mine.merge_all(theirs, &[0]);
            }
        }
        (hash, groups)
    }
}

/// One row chunk's states, one group each: a whole-column fold where the aggregate has
/// one, else the group-by's per-row update with every row in group 0.
fn fold(source: &Source, plans: &[Plan]) -> Vec<Acc> {
    let len = source.chunks.first().map_or(0, |c| c.len());
    // The per-row update's inputs, made only when an aggregate needs them.
    let mut per_row = None;
    plans
        .iter()
        .enumerate()
        .map(|(i, plan)| {
            let mut acc = plan.state();
            acc.push_group();
            let column = plan.col.map(|c| &*source.chunks[c]);
            if !acc.fold_column(column, len) {
                let (rows, zeros, values) = per_row.get_or_insert_with(|| {
                    let rows: Vec<u32> = (0..len as u32).collect();
                    (rows, vec![0u32; len], encode_values(source, plans))
                });
                acc.update(rows, zeros, &source.chunks, plan.col, values[i].as_ref());
            }
            acc
        })
        .collect()
}

impl Acc {
    /// Folds every value of `column` (`len` rows; none for a row count) into group 0;
    /// false, and nothing changed, for the aggregates without such a fold (minima and
    /// maxima of strings, counts of distinct values).
    fn fold_column(&mut self, column: Option<&Chunk>, len: usize) -> bool {
        let Some(column) = column else {
            // A row count: the only aggregate without a column.
            if let Acc::Count(c) = self {
                c[0] += len as u64;
            }
            return true;
        };
        let valid = column.validity();
        if let Acc::Count(c) = self {
            c[0] += valid.count_ones() as u64;
            return true;
        }
        let Some(num) = Numbers::of(column) else {
            return false;
        };
        match self {
            Acc::SumInt(s) => s[0] = num.fold_int(valid, s[0], i64::wrapping_add),
            Acc::SumFloat(s) => s[0] = num.fold_float(valid, s[0], |a, v| a + v),
            Acc::Mean { sum, n } => {
                sum[0] = num.fold_float(valid, sum[0], |a, v| a + v);
                n[0] += valid.count_ones() as u64;
            }
            Acc::ExtremeInt { max, best } => {
                let max = *max;
                best[0] = num.fold_int(valid, best[0], |b, v| match b {
                    Some(b) if !(if max { v > b } else { v < b }) => Some(b),
                    _ => Some(v),
                });
            }
            Acc::Extreme { max, best } => {
                let max = *max;
                best[0] = num.fold_float(valid, best[0], |b, v| {
                    let v = canonical(v);
                    match b {
                        Some(b) if !better(v, b, max) => Some(b),
                        _ => Some(v),
                    }
                });
            }
            _ => return false,
        }
        true
    }
}

impl Numbers<'_> {
    /// Folds the present values, as 64-bit integers (converted as the group-by's
    /// per-row update converts them), into `init` with `step`.
    fn fold_int<A>(&self, valid: &Bitmap, init: A, step: impl Fn(A, i64) -> A) -> A {
        match self {
            Numbers::Bool(b) => fold_bools(b, valid, init, |a, x| step(a, i64::from(x))),
            Numbers::Int(v) => fold_present(v, valid, init, |a, x| step(a, i64::from(x))),
            Numbers::Float(v) => fold_present(v, valid, init, |a, x| step(a, x as i64)),
            Numbers::I64(v) => fold_present(v, valid, init, &step),
            Numbers::F64(v) => fold_present(v, valid, init, |a, x| step(a, x as i64)),
        }
    }

    /// Folds the present values, as 64-bit floats, into `init` with `step`.
    fn fold_float<A>(&self, valid: &Bitmap, init: A, step: impl Fn(A, f64) -> A) -> A {
        match self {
            Numbers::Bool(b) => fold_bools(b, valid, init, |a, x| step(a, f64::from(u8::from(x)))),
            Numbers::Int(v) => fold_present(v, valid, init, |a, x| step(a, f64::from(x))),
            Numbers::Float(v) => fold_present(v, valid, init, |a, x| step(a, f64::from(x))),
            Numbers::I64(v) => fold_present(v, valid, init, |a, x| step(a, x as f64)),
            Numbers::F64(v) => fold_present(v, valid, init, &step),
        }
    }
}

/// Folds the values whose bit in `valid` is set into `init` with `step`, 64 values (one
/// validity word) at a time: a block with every value present is one plain pass, which
/// the compiler vectorizes for sums.
fn fold_present<V: Copy, A>(values: &[V], valid: &Bitmap, init: A, step: impl Fn(A, V) -> A) -> A {
    values
        .chunks(64)
        .zip(valid.words())
        .fold(init, |acc, (block, &word)| {
            if word.count_ones() as usize == block.len() {
                block.iter().fold(acc, |a, &v| step(a, v))
            } else {
                block
                    .iter()
                    .enumerate()
                    .filter(|&(b, _)| word >> b & 1 == 1)
                    .fold(acc, |a, (_, &v)| step(a, v))
            }
        })
}

/// [`fold_present`] for booleans, which are bits themselves.
fn fold_bools<A>(bits: &Bitmap, valid: &Bitmap, init: A, step: impl Fn(A, bool) -> A) -> A {
    (0..bits.len())
        .filter(|&i| valid.get(i))
        .fold(init, |a, i| step(a, bits.get(i)))
}
