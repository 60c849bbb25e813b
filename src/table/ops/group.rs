//! Group-by with aggregates, and distinct.
//!
//! Each rank first aggregates the rows it holds (on all cores, one hash table per rayon
//! task, merged), so what crosses the network is one partial state per group and rank,
//! not one row per input row. The partial groups go to the rank their key's hash picks
//! (one all-to-all), which merges them into the final groups; those stay there as its
//! rows of the result. Missing key values form a group of their own, as in polars and
//! SQL's GROUP BY.
//!
//! The result's columns are the key columns, then one per aggregate. Rows are in no
//! particular order (it depends on the number of ranks): sort the result to compare.

use std::sync::Arc;

use hashbrown::HashTable;
use rayon::prelude::*;
use speedy::{Readable, Writable};

use super::keys::{self, decode_into, owner, KeyRef, Keys};
use super::pairs::{BitPairs, PairSet};
use super::results::frame_of_row_chunks;
use super::shuffle::{swap, Source};
use super::sorted_pairs::{fixed_width, Job};
use super::types;
use super::{column_indices, column_name};
use crate::cluster::Node;
use crate::error::{DataError, Error, Result};
use crate::frame::{Bitmap, Chunk, ChunkBuilder, ChunkData, DataFrame, DataType, Schema};
use crate::table::DistFrame;

/// What an aggregate computes over a group's values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Rows in the group (missing values included), like SQL's `COUNT(*)`.
    Rows,
    /// Present values.
    Count,
    Sum,
    Min,
    Max,
    Mean,
    CountDistinct,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Rows => "count",
            Kind::Count => "count",
            Kind::Sum => "sum",
            Kind::Min => "min",
            Kind::Max => "max",
            Kind::Mean => "mean",
            Kind::CountDistinct => "count_distinct",
        }
    }
}

/// One aggregate of a [`GroupBy`]: what to compute, over which column, and the name of
/// the result column.
///
/// | aggregate | result | over missing values |
/// |---|---|---|
/// | [`Agg::count`] | rows in the group (64-bit integer) | counted |
/// | [`Agg::count_of`] | present values | skipped |
/// | [`Agg::sum`] | 64-bit integer for BOOL, INT and I64 (wrapping), 64-bit float for FLOAT and F64 | skipped; 0 when none |
/// | [`Agg::min`], [`Agg::max`] | the column's type (NaN above every float) | skipped; missing when none |
/// | [`Agg::mean`] | 64-bit float | skipped; missing when none |
/// | [`Agg::count_distinct`] | distinct present values | skipped |
///
/// The 64-bit types are I64 and F64 (the `types` module says so in one place).
#[derive(Clone, Debug)]
pub struct Agg {
    kind: Kind,
    column: Option<String>,
    alias: Option<String>,
}

impl Agg {
    fn of(kind: Kind, column: &str) -> Agg {
        Agg {
            kind,
            column: Some(column.to_string()),
            alias: None,
        }
    }

    /// The number of rows in each group, named `count`.
    pub fn count() -> Agg {
        Agg {
            kind: Kind::Rows,
            column: None,
            alias: None,
        }
    }

    /// The number of present values of `column`, named `<column>_count`.
    pub fn count_of(column: &str) -> Agg {
        Agg::of(Kind::Count, column)
    }

    /// The sum of `column`, named `<column>_sum`.
    pub fn sum(column: &str) -> Agg {
        Agg::of(Kind::Sum, column)
    }

    /// The least value of `column`, named `<column>_min`.
    pub fn min(column: &str) -> Agg {
        Agg::of(Kind::Min, column)
    }

    /// The greatest value of `column`, named `<column>_max`.
    pub fn max(column: &str) -> Agg {
        Agg::of(Kind::Max, column)
    }

    /// The mean of `column`, named `<column>_mean`.
    pub fn mean(column: &str) -> Agg {
        Agg::of(Kind::Mean, column)
    }

    /// The number of distinct present values of `column`, named
    /// `<column>_count_distinct`.
    pub fn count_distinct(column: &str) -> Agg {
        Agg::of(Kind::CountDistinct, column)
    }

    /// The same aggregate with its result column named `name`.
    pub fn alias(mut self, name: &str) -> Agg {
        self.alias = Some(name.to_string());
        self
    }
}

/// An aggregate resolved against a schema: its input column, its result's name and type.
#[derive(Clone)]
pub(super) struct Plan {
    kind: Kind,
    pub(super) col: Option<usize>,
    dtype: Option<DataType>,
    name: String,
}

impl Plan {
    fn new(agg: &Agg, schema: &Schema) -> Result<Plan> {
        let col = agg.column.as_deref().map(|c| schema.index(c)).transpose()?;
        let dtype = col.map(|c| schema.types()[c]);
        let name = match (&agg.alias, col) {
            (Some(a), _) => a.clone(),
            (None, Some(c)) => format!("{}_{}", column_name(schema, c), agg.kind.name()),
            (None, None) => agg.kind.name().to_string(),
        };
        if matches!(agg.kind, Kind::Sum | Kind::Mean) && dtype == Some(DataType::String) {
            return Err(DataError::Schema(format!(
                "{} of column {:?}: it is STRING, not a number",
                agg.kind.name(),
                agg.column.as_deref().unwrap_or_default()
            ))
            .into());
        }
        Ok(Plan {
            kind: agg.kind,
            col,
            dtype,
            name,
        })
    }

    /// The result column's type.
    fn out_type(&self) -> DataType {
        match (self.kind, self.dtype) {
            (Kind::Rows | Kind::Count | Kind::CountDistinct, _) => types::COUNT,
            (Kind::Sum, Some(DataType::Float | DataType::F64)) | (Kind::Mean, _) => types::FLOAT,
            (Kind::Sum, _) => types::INT_SUM,
            (Kind::Min | Kind::Max, Some(t)) => t,
            (Kind::Min | Kind::Max, None) => types::COUNT,
        }
    }

    /// An empty state for this aggregate.
    pub(super) fn state(&self) -> Acc {
        match (self.kind, self.dtype) {
            (Kind::Rows | Kind::Count, _) => Acc::Count(Vec::new()),
            (Kind::Sum, Some(DataType::Float | DataType::F64)) => Acc::SumFloat(Vec::new()),
            (Kind::Sum, _) => Acc::SumInt(Vec::new()),
            (Kind::Min | Kind::Max, Some(DataType::String)) => Acc::ExtremeStr {
                max: self.kind == Kind::Max,
                best: Vec::new(),
            },
            (Kind::Min | Kind::Max, Some(DataType::Float | DataType::F64)) => Acc::Extreme {
                max: self.kind == Kind::Max,
                best: Vec::new(),
            },
            (Kind::Min | Kind::Max, _) => Acc::ExtremeInt {
                max: self.kind == Kind::Max,
                best: Vec::new(),
            },
            (Kind::Mean, _) => Acc::Mean {
                sum: Vec::new(),
                n: Vec::new(),
            },
            (Kind::CountDistinct, Some(DataType::String)) => Acc::Distinct(PairSet::default()),
            (Kind::CountDistinct, _) => Acc::DistinctBits(BitPairs::default()),
        }
    }
}

/// The partial states of one aggregate, one entry per group.
#[derive(Clone, Readable, Writable)]
pub(super) enum Acc {
    Count(Vec<u64>),
    SumInt(Vec<i64>),
    SumFloat(Vec<f64>),
    /// Min or max of FLOAT or F64 values, held as 64-bit floats.
    Extreme {
        max: bool,
        best: Vec<Option<f64>>,
    },
    /// Min or max of BOOL, INT or I64 values, held as 64-bit integers.
    ExtremeInt {
        max: bool,
        best: Vec<Option<i64>>,
    },
    ExtremeStr {
        max: bool,
        best: Vec<Option<Vec<u8>>>,
    },
    Mean {
        sum: Vec<f64>,
        n: Vec<u64>,
    },
    /// Every distinct (group, value) pair of a STRING column (see [`PairSet`]).
    Distinct(PairSet),
    /// Every distinct (group, value) pair of a column of another type (see
    /// [`BitPairs`]).
    DistinctBits(BitPairs),
}

/// A numeric column of a chunk, matched on its type once.
pub(super) enum Numbers<'a> {
    Bool(&'a Bitmap),
    Int(&'a [i32]),
    Float(&'a [f32]),
    I64(&'a [i64]),
    F64(&'a [f64]),
}

impl<'a> Numbers<'a> {
    pub(super) fn of(chunk: &'a Chunk) -> Option<Numbers<'a>> {
        match chunk.data() {
            ChunkData::Bool(b) => Some(Numbers::Bool(b)),
            ChunkData::Int(v) => Some(Numbers::Int(v)),
            ChunkData::Float(v) => Some(Numbers::Float(v)),
            ChunkData::I64(v) => Some(Numbers::I64(v)),
            ChunkData::F64(v) => Some(Numbers::F64(v)),
            ChunkData::String { .. } => None,
        }
    }

    #[inline]
    fn float(&self, i: usize) -> f64 {
        match self {
            Numbers::Bool(b) => f64::from(u8::from(b.get(i))),
            Numbers::Int(v) => f64::from(v[i]),
            Numbers::Float(v) => f64::from(v[i]),
            Numbers::I64(v) => v[i] as f64,
            Numbers::F64(v) => v[i],
        }
    }

    #[inline]
    fn int(&self, i: usize) -> i64 {
        match self {
            Numbers::Bool(b) => i64::from(b.get(i)),
            Numbers::Int(v) => i64::from(v[i]),
            Numbers::Float(v) => v[i] as i64,
            Numbers::I64(v) => v[i],
            Numbers::F64(v) => v[i] as i64,
        }
    }
}

/// Whether `candidate` beats `best` as a min (or a max): NaN above every number, as in
/// the key order.
#[inline]
pub(super) fn better(candidate: f64, best: f64, max: bool) -> bool {
    let order = candidate.total_cmp(&best);
    if max {
        order.is_gt()
    } else {
        order.is_lt()
    }
}

/// A float with every NaN made the positive quiet one, so `total_cmp` puts NaN last.
#[inline]
pub(super) fn canonical(v: f64) -> f64 {
    if v.is_nan() {
        f64::NAN
    } else {
        v
    }
}

impl Acc {
    /// Adds a group.
    pub(super) fn push_group(&mut self) {
        match self {
            Acc::Count(v) => v.push(0),
            Acc::SumInt(v) => v.push(0),
            Acc::SumFloat(v) => v.push(0.0),
            Acc::Extreme { best, .. } => best.push(None),
            Acc::ExtremeInt { best, .. } => best.push(None),
            Acc::ExtremeStr { best, .. } => best.push(None),
            Acc::Mean { sum, n } => {
                sum.push(0.0);
                n.push(0);
            }
            Acc::Distinct(v) => v.push_group(),
            Acc::DistinctBits(v) => v.push_group(),
        }
    }

    /// Folds rows into their groups: row `i` of the chunk belongs to group `groups[i]`.
    /// `chunks` is the row chunk, `col` the aggregate's column (none for a row count),
    /// `encoded` its values as keys or bits (for a count of distinct values).
    pub(super) fn update(
        &mut self,
        rows: &[u32],
        groups: &[u32],
        chunks: &[Arc<Chunk>],
        col: Option<usize>,
        encoded: Option<&Encoded>,
    ) {
        let Some(col) = col else {
            if let Acc::Count(c) = self {
                groups.iter().for_each(|&g| c[g as usize] += 1);
            }
            return;
        };
        let chunk = &chunks[col];
        let valid = chunk.validity();
        let present = || {
            rows.iter()
                .zip(groups)
                .map(|(&i, g)| (i as usize, g))
                .filter(|&(i, _)| valid.get(i))
        };
        match self {
            Acc::Count(c) => present().for_each(|(_, &g)| c[g as usize] += 1),
            Acc::SumInt(s) => {
                if let Some(num) = Numbers::of(chunk) {
                    present()
                        .for_each(|(i, &g)| s[g as usize] = s[g as usize].wrapping_add(num.int(i)));
                }
            }
            Acc::SumFloat(s) => {
                if let Some(num) = Numbers::of(chunk) {
                    present().for_each(|(i, &g)| s[g as usize] += num.float(i));
                }
            }
            Acc::Mean { sum, n } => {
                if let Some(num) = Numbers::of(chunk) {
                    present().for_each(|(i, &g)| {
                        sum[g as usize] += num.float(i);
                        n[g as usize] += 1;
                    });
                }
            }
            Acc::Extreme { max, best } => {
                if let Some(num) = Numbers::of(chunk) {
                    present().for_each(|(i, &g)| {
                        let v = canonical(num.float(i));
                        let b = &mut best[g as usize];
                        if b.is_none_or(|b| better(v, b, *max)) {
                            *b = Some(v);
                        }
                    });
                }
            }
            Acc::ExtremeInt { max, best } => {
                if let Some(num) = Numbers::of(chunk) {
                    present().for_each(|(i, &g)| {
                        let v = num.int(i);
                        let b = &mut best[g as usize];
                        if b.is_none_or(|b| if *max { v > b } else { v < b }) {
                            *b = Some(v);
                        }
                    });
                }
            }
            Acc::ExtremeStr { max, best } => present().for_each(|(i, &g)| {
                let Some(v) = chunk.get_as::<&[u8]>(i) else {
                    return;
                };
                let b = &mut best[g as usize];
                let wins = match b {
                    None => true,
                    Some(b) => (v > b.as_slice()) == *max && v != b.as_slice(),
                };
                if wins {
                    *b = Some(v.to_vec());
                }
            }),
            Acc::Distinct(set) => {
                if let Some(Encoded::Keys(values)) = encoded {
                    present().for_each(|(i, &g)| set.insert(g, values.key(i)));
                }
            }
            Acc::DistinctBits(set) => {
                if let Some(Encoded::Bits(bits)) = encoded {
                    present().for_each(|(i, &g)| set.insert(g, bits[i]));
                }
            }
        }
    }

    /// Merges group `from` of `other` (the same aggregate) into group `into`.
    pub(super) fn merge(&mut self, into: usize, other: &Acc, from: usize) {
        match (self, other) {
            (Acc::Count(a), Acc::Count(b)) => a[into] += b[from],
            (Acc::SumInt(a), Acc::SumInt(b)) => a[into] = a[into].wrapping_add(b[from]),
            (Acc::SumFloat(a), Acc::SumFloat(b)) => a[into] += b[from],
            (Acc::Mean { sum, n }, Acc::Mean { sum: s, n: m }) => {
                sum[into] += s[from];
                n[into] += m[from];
            }
            (Acc::Extreme { max, best }, Acc::Extreme { best: other, .. }) => {
                if let Some(v) = other[from] {
                    if best[into].is_none_or(|b| better(v, b, *max)) {
                        best[into] = Some(v);
                    }
                }
            }
            (Acc::ExtremeInt { max, best }, Acc::ExtremeInt { best: other, .. }) => {
                if let Some(v) = other[from] {
                    if best[into].is_none_or(|b| if *max { v > b } else { v < b }) {
                        best[into] = Some(v);
                    }
                }
            }
            (Acc::ExtremeStr { max, best }, Acc::ExtremeStr { best: other, .. }) => {
                if let Some(v) = other[from].as_ref() {
                    let wins = match &best[into] {
                        None => true,
                        Some(b) => (v > b) == *max && v != b,
                    };
                    if wins {
                        best[into] = Some(v.clone());
                    }
                }
            }
            // Pairs merge in bulk, once per partial state (`merge_all`).
            (Acc::Distinct(_), Acc::Distinct(_)) | (Acc::DistinctBits(_), Acc::DistinctBits(_)) => {
            }
            // Both sides come from the same plans, in the same order.
            _ => unreachable!("merging states of different aggregates"),
        }
    }

    /// Merges the states of `other` that [`Acc::merge`] leaves alone (the pairs of a
    /// count of distinct values): group `g` of `other` goes into group `into[g]`
    /// (`u32::MAX`: not merged here).
    pub(super) fn merge_all(&mut self, other: &Acc, into: &[u32]) {
        match (self, other) {
            (Acc::Distinct(a), Acc::Distinct(b)) => a.merge(b, into),
            (Acc::DistinctBits(a), Acc::DistinctBits(b)) => a.merge(b, into),
            _ => {}
        }
    }

    /// Makes the state ready for [`Acc::finish`] (counts the distinct pairs).
    fn seal(&mut self) {
        if let Acc::DistinctBits(set) = self {
            set.seal();
        }
    }

    /// Whether a received state has one entry per group (for the pairs' state, the
    /// one that is not a plain vector, also that it is consistent).
    fn fits(&self, groups: usize) -> bool {
        match self {
            Acc::Distinct(set) => set.groups() == groups && set.is_valid(),
            Acc::DistinctBits(set) => set.groups() == groups && set.is_valid(),
            _ => true,
        }
    }

    /// The states of groups `picks`, in that order.
    fn select(&mut self, picks: &[u32]) -> Acc {
        fn pick<T: Clone>(v: &[T], picks: &[u32]) -> Vec<T> {
            picks.iter().map(|&g| v[g as usize].clone()).collect()
        }
        match self {
            Acc::Count(v) => Acc::Count(pick(v, picks)),
            Acc::SumInt(v) => Acc::SumInt(pick(v, picks)),
            Acc::SumFloat(v) => Acc::SumFloat(pick(v, picks)),
            Acc::Extreme { max, best } => Acc::Extreme {
                max: *max,
                best: pick(best, picks),
            },
            Acc::ExtremeInt { max, best } => Acc::ExtremeInt {
                max: *max,
                best: pick(best, picks),
            },
            Acc::ExtremeStr { max, best } => Acc::ExtremeStr {
                max: *max,
                best: picks.iter().map(|&g| best[g as usize].take()).collect(),
            },
            Acc::Mean { sum, n } => Acc::Mean {
                sum: pick(sum, picks),
                n: pick(n, picks),
            },
            Acc::Distinct(set) => Acc::Distinct(set.select(picks)),
            Acc::DistinctBits(set) => Acc::DistinctBits(set.select(picks)),
        }
    }

    /// Appends the results of groups `range` to `out` (of `plan.out_type()`).
    fn finish(
        &self,
        plan: &Plan,
        range: std::ops::Range<usize>,
        out: &mut ChunkBuilder,
    ) -> Result<()> {
        let what = || format!("aggregate {:?}", plan.name);
        for g in range {
            match self {
                Acc::Count(v) => types::push_i64(out, Some(v[g] as i64), &what())?,
                Acc::SumInt(v) => types::push_i64(out, Some(v[g]), &what())?,
                Acc::SumFloat(v) => types::push_f64(out, Some(v[g])),
                Acc::Mean { sum, n } => {
                    types::push_f64(out, (n[g] > 0).then(|| sum[g] / n[g] as f64))
                }
                Acc::Distinct(set) => types::push_i64(out, Some(set.count(g) as i64), &what())?,
                Acc::DistinctBits(set) => types::push_i64(out, Some(set.count(g) as i64), &what())?,
                Acc::ExtremeStr { best, .. } => match &best[g] {
                    Some(s) => out.push_str(s),
                    None => out.push_missing(),
                },
                // Each extreme comes back in its column's type, which the state kept
                // exactly.
                Acc::Extreme { best, .. } => match (best[g], plan.dtype) {
                    (None, _) => out.push_missing(),
                    (Some(v), Some(DataType::Float)) => out.push_float(v as f32),
                    (Some(v), _) => out.push_f64(v),
                },
                Acc::ExtremeInt { best, .. } => match (best[g], plan.dtype) {
                    (None, _) => out.push_missing(),
                    (Some(v), Some(DataType::Bool)) => out.push_bool(v != 0),
                    (Some(v), Some(DataType::Int)) => out.push_int(v as i32),
                    (Some(v), _) => out.push_i64(v),
                },
            }
        }
        Ok(())
    }
}

/// Groups: a hash table from encoded keys to group numbers, and each aggregate's states.
///
/// Each table entry holds its key's prefix ([`KeyRef::prefix`]) next to the group
/// number, so a lookup of a key of at most 16 bytes (every key of one or two
/// fixed-width columns) reads only the table: no dependent load of a side vector per
/// row, which is what the per-row lookup of a group-by with many groups waited on.
pub(super) struct Groups {
    table: HashTable<(u128, u32)>,
    hashes: Vec<u64>,
    offsets: Vec<usize>,
    bytes: Vec<u8>,
    pub(super) accs: Vec<Acc>,
}

/// Groups as they travel: keys, their hashes and the states.
#[derive(Readable, Writable)]
struct Partial {
    hashes: Vec<u64>,
    offsets: Vec<u64>,
    bytes: Vec<u8>,
    accs: Vec<Acc>,
}

impl Groups {
    pub(super) fn new(plans: &[Plan]) -> Groups {
        Groups {
            table: HashTable::new(),
            hashes: Vec::new(),
            offsets: vec![0],
            bytes: Vec::new(),
            accs: plans.iter().map(Plan::state).collect(),
        }
    }

    fn len(&self) -> usize {
        self.hashes.len()
    }

    fn key(&self, g: usize) -> &[u8] {
        &self.bytes[self.offsets[g]..self.offsets[g + 1]]
    }

    /// The group of `key` (of hash `hash`), made when new.
    #[inline]
    pub(super) fn group_of(&mut self, key: KeyRef<'_>, hash: u64) -> u32 {
        let (bytes, offsets) = (&self.bytes, &self.offsets);
        // The keys of one group-by are prefix-free, so a key of at most 16 bytes equals
        // whichever key has its prefix: only longer keys compare their bytes.
        let short = key.bytes.len() <= 16;
        let same = |&(prefix, g): &(u128, u32)| {
            prefix == key.prefix
                && (short || &bytes[offsets[g as usize]..offsets[g as usize + 1]] == key.bytes)
        };
        if let Some(&(_, g)) = self.table.find(hash, same) {
            return g;
        }
        let g = self.hashes.len() as u32;
        let hashes = &self.hashes;
        self.table
            .insert_unique(hash, (key.prefix, g), |&(_, h)| hashes[h as usize]);
        self.hashes.push(hash);
        self.bytes.extend_from_slice(key.bytes);
        self.offsets.push(self.bytes.len());
        for acc in &mut self.accs {
            acc.push_group();
        }
        g
    }

    /// Folds rows `rows` of one row chunk in; `keys` and `hashes` are the chunk's.
    fn add_rows(&mut self, source: &Source, keyed: &Keyed, rows: &[u32], plans: &[Plan]) {
        let groups: Vec<u32> = rows
            .iter()
            .map(|&r| self.group_of(keyed.keys.key(r as usize), keyed.hashes[r as usize]))
            .collect();
        for ((acc, plan), encoded) in self.accs.iter_mut().zip(plans).zip(&keyed.values) {
            acc.update(rows, &groups, &source.chunks, plan.col, encoded.as_ref());
        }
    }

    /// Merges the groups `picks` of `other` in.
    fn absorb(&mut self, other: &Partial, picks: &[u32]) {
        if picks.is_empty() {
            return;
        }
        let mut into = vec![u32::MAX; other.hashes.len()];
        for &g in picks {
            let g = g as usize;
            let key = &other.bytes[other.offsets[g] as usize..other.offsets[g + 1] as usize];
            let mine = self.group_of(KeyRef::of(key), other.hashes[g]);
            into[g] = mine;
            for (acc, theirs) in self.accs.iter_mut().zip(&other.accs) {
                acc.merge(mine as usize, theirs, g);
            }
        }
        for (acc, theirs) in self.accs.iter_mut().zip(&other.accs) {
            acc.merge_all(theirs, &into);
        }
    }

    /// The groups split into `n` partials: group `g` goes to `dest[g]`.
    fn split_by(mut self, dest: &[u32], n: usize) -> Vec<Partial> {
        let mut picks: Vec<Vec<u32>> = vec![Vec::new(); n];
        for (g, &d) in dest.iter().enumerate() {
            picks[d as usize].push(g as u32);
        }
        picks
            .iter()
            .map(|picks| {
                let mut offsets = Vec::with_capacity(picks.len() + 1);
                let mut bytes = Vec::new();
                offsets.push(0);
                for &g in picks {
                    bytes.extend_from_slice(self.key(g as usize));
                    offsets.push(bytes.len() as u64);
                }
                Partial {
                    hashes: picks.iter().map(|&g| self.hashes[g as usize]).collect(),
                    offsets,
                    bytes,
                    accs: self.accs.iter_mut().map(|a| a.select(picks)).collect(),
                }
            })
            .collect()
    }
}

/// How many partitions a rank splits its groups into, so that each core aggregates
/// partitions of its own.
const PARTS: usize = 16;

/// The partition of a key's hash: bits below those that pick the owning rank and above
/// those that pick buckets in a partition's table.
#[inline]
pub(super) fn part_of(hash: u64) -> usize {
    (hash >> 28) as usize & (PARTS - 1)
}

/// A column's values as a count of distinct values reads them: as keys (STRING) or as
/// one integer each (every other type; see `keys::value_bits`).
pub(super) enum Encoded {
    Keys(Keys),
    Bits(Vec<u64>),
}

/// One row chunk's keys, their hashes and its rows by partition, and per aggregate that
/// counts distinct values, those values encoded (once per chunk, not once per
/// partition).
struct Keyed {
    keys: keys::Keys,
    hashes: Vec<u64>,
    parts: Vec<Vec<u32>>,
    values: Vec<Option<Encoded>>,
}

/// Per aggregate of `plans`, the values of a row chunk that a count of distinct values
/// reads, encoded (none for the other aggregates).
pub(super) fn encode_values(source: &Source, plans: &[Plan]) -> Vec<Option<Encoded>> {
    plans
        .iter()
        .map(|p| match (p.kind, p.col) {
            (Kind::CountDistinct, Some(c)) => Some(match keys::value_bits(&source.chunks[c]) {
                Some(bits) => Encoded::Bits(bits),
                None => Encoded::Keys(keys::encode(&source.chunks, &[c], &[false])),
            }),
            _ => None,
        })
        .collect()
}

impl Keyed {
    fn new(source: &Source, key_cols: &[usize], plans: &[Plan]) -> Keyed {
        let values = encode_values(source, plans);
        let keys = keys::encode(&source.chunks, key_cols, &vec![false; key_cols.len()]);
        let hashes: Vec<u64> = (0..keys.len()).map(|i| keys.key(i).hash()).collect();
        let mut parts = vec![Vec::new(); PARTS];
        for (r, &h) in hashes.iter().enumerate() {
            parts[part_of(h)].push(r as u32);
        }
        Keyed {
            keys,
            hashes,
            parts,
            values,
        }
    }
}

/// A group-by in the making: [`DistFrame::group_by`] names the keys, [`GroupBy::agg`]
/// computes.
pub struct GroupBy<'f, 'n> {
    frame: &'f DistFrame<'n>,
    keys: Vec<usize>,
}

impl<'n> DistFrame<'n> {
    /// Groups rows by the values of the columns `keys` (missing values form a group);
    /// [`GroupBy::agg`] then computes aggregates per group, collectively.
    ///
    /// ```
    /// # let node = eau2::Node::standalone()?;
    /// use eau2::table::{Agg, DistFrame};
    /// let f = DistFrame::from_array(&node, &eau2::kv::Key::new("f", 0), &[3, 1, 3, 3])?;
    /// let counts = f.group_by(&["c0"])?.agg(&[Agg::count()])?.sort_by(&["c0"], &[false])?;
    /// assert_eq!(counts.get_as::<i64>("count", 1)?, Some(3)); // three 3s
    /// # Ok::<(), eau2::Error>(())
    /// ```
    pub fn group_by<'f>(&'f self, keys: &[&str]) -> Result<GroupBy<'f, 'n>> {
        Ok(GroupBy {
            frame: self,
            keys: column_indices(self.schema(), keys)?,
        })
    }

    /// Collective: the distinct rows (every column is a key), in no particular order.
    pub fn distinct(&self) -> Result<DistFrame<'n>> {
        crate::table::memo::op(self.node, "distinct", || {
            GroupBy {
                frame: self,
                keys: (0..self.ncols()).collect(),
            }
            .agg(&[])
        })
    }
}

impl<'n> GroupBy<'_, 'n> {
    /// Collective: one row per group, with the key columns and then one column per
    /// aggregate of `aggs`.
    pub fn agg(&self, aggs: &[Agg]) -> Result<DistFrame<'n>> {
        crate::table::memo::op(self.frame.node, "group_by agg", || {
            let frame = self.frame;
            let node: &Node = frame.node;
            let schema = frame.schema();
            let plans = aggs
                .iter()
                .map(|a| Plan::new(a, schema))
                .collect::<Result<Vec<_>>>()?;
            if let Some(job) = self.sorted_job(&plans) {
                let name = plans.first().map_or("", |p| p.name.as_str());
                return frame.sorted_pairs(job, name);
            }
            // Partial aggregation of the rows held here, on all cores: rows are split into
            // PARTS partitions by hash, and each partition aggregates on its own, so no two
            // tasks ever hold the same group and nothing is merged. The chunks' encoded keys
            // are made a batch at a time, so they cost memory for a few chunks per core, not
            // for every row held (a copy of each key plus 12 bytes a row).
            let sources = frame.sources()?;
            let mut parts: Vec<Groups> = (0..PARTS).map(|_| Groups::new(&plans)).collect();
            if self.keys.is_empty() {
                // One group of every row: a fold per row chunk, not a hash look-up per row
                // (which would also put every row in one partition, on one core).
                let (hash, groups) = Groups::of_every_row(&sources, &plans);
                parts[part_of(hash)] = groups;
            } else {
                for batch in sources.chunks(4 * rayon::current_num_threads()) {
                    let keyed: Vec<Keyed> = batch
                        .par_iter()
                        .map(|s| Keyed::new(s, &self.keys, &plans))
                        .collect();
                    parts.par_iter_mut().enumerate().for_each(|(p, groups)| {
                        for (s, k) in batch.iter().zip(&keyed) {
                            groups.add_rows(s, k, &k.parts[p], &plans);
                        }
                    });
                }
            }
            drop(sources);
            // Each group to the rank its key's hash picks; the receiver merges, again by
            // partition.
            let n = node.size();
            let mut merged: Vec<Groups> = if n > 1 {
                let mut per_dest: Vec<Vec<Partial>> = (0..n).map(|_| Vec::new()).collect();
                for groups in parts {
                    let dest: Vec<u32> =
                        groups.hashes.iter().map(|&h| owner(h, n) as u32).collect();
                    for (d, partial) in groups.split_by(&dest, n).into_iter().enumerate() {
                        per_dest[d].push(partial);
                    }
                }
                let partials: Vec<Partial> =
                    swap(node, per_dest, "partial groups", |from, got| {
                        for partial in got {
                            if partial.accs.len() != plans.len()
                                || partial.offsets.len() != partial.hashes.len() + 1
                                || !partial.accs.iter().all(|a| a.fits(partial.hashes.len()))
                            {
                                return Err(Error::decode(format!(
                                    "partial groups sent by rank {from} do not fit this group-by"
                                )));
                            }
                        }
                        Ok(())
                    })?
                    .into_iter()
                    .flatten()
                    .collect();
                let picks: Vec<Vec<Vec<u32>>> = partials
                    .par_iter()
                    .map(|p| {
                        let mut picks = vec![Vec::new(); PARTS];
                        for (g, &h) in p.hashes.iter().enumerate() {
                            picks[part_of(h)].push(g as u32);
                        }
                        picks
                    })
                    .collect();
                (0..PARTS)
                    .into_par_iter()
                    .map(|p| {
                        let mut groups = Groups::new(&plans);
                        for (partial, picks) in partials.iter().zip(&picks) {
                            groups.absorb(partial, &picks[p]);
                        }
                        groups
                    })
                    .collect()
            } else {
                parts
            };
            if self.keys.is_empty() {
                // No key columns: one group of every row, even of none (as SQL's aggregates
                // without GROUP BY), held by the rank that owns the empty key.
                let empty = KeyRef::of(&[]);
                let hash = empty.hash();
                if owner(hash, n) == node.rank() {
                    merged[part_of(hash)].group_of(empty, hash);
                }
            }
            merged
                .par_iter_mut()
                .for_each(|groups| groups.accs.iter_mut().for_each(Acc::seal));
            let local = self.result(&merged, &plans)?;
            DistFrame::finish(node, &local)
        })
    }

    /// The sort-based plan for this group-by, when it has one: one fixed-width key and
    /// either no aggregate (distinct) or one count of distinct values of a fixed-width
    /// column (see [`sorted_pairs`](super::sorted_pairs)).
    fn sorted_job(&self, plans: &[Plan]) -> Option<Job> {
        let types = self.frame.schema().types();
        let &[key] = self.keys.as_slice() else {
            return None;
        };
        if !fixed_width(types[key]) {
            return None;
        }
        match plans {
            [] => Some(Job::Distinct { column: key }),
            [Plan {
                kind: Kind::CountDistinct,
                col: Some(value),
                ..
            }] if fixed_width(types[*value]) => Some(Job::CountDistinct { key, value: *value }),
            _ => None,
        }
    }

    /// The groups, partition after partition, as this rank's rows of the result.
    fn result(&self, parts: &[Groups], plans: &[Plan]) -> Result<DataFrame> {
        let schema = self.frame.schema();
        let mut out = Schema::default();
        let key_types: Vec<DataType> = self.keys.iter().map(|&k| schema.types()[k]).collect();
        for &k in &self.keys {
            out.try_push(schema.types()[k], column_name(schema, k))?;
        }
        for p in plans {
            out.try_push(p.out_type(), p.name.clone())?;
        }
        let chunk_len = self.frame.out_chunk_len();
        // (partition, groups) of each chunk of the result.
        let ranges: Vec<(usize, std::ops::Range<usize>)> = parts
            .iter()
            .enumerate()
            .flat_map(|(p, g)| {
                let rows = g.len();
                (0..rows.div_ceil(chunk_len))
                    .map(move |c| (p, c * chunk_len..((c + 1) * chunk_len).min(rows)))
            })
            .collect();
        let pieces: Vec<Vec<Arc<Chunk>>> = ranges
            .into_par_iter()
            .map(|(p, range)| {
                let groups = &parts[p];
                let mut builders: Vec<ChunkBuilder> = out
                    .types()
                    .iter()
                    .map(|&t| ChunkBuilder::new(t, range.len()))
                    .collect();
                let (key_builders, agg_builders) = builders.split_at_mut(self.keys.len());
                for g in range.clone() {
                    decode_into(groups.key(g), &key_types, key_builders)?;
                }
                for ((acc, plan), b) in groups.accs.iter().zip(plans).zip(agg_builders) {
                    acc.finish(plan, range.clone(), b)?;
                }
                Ok(builders.into_iter().map(|b| Arc::new(b.finish())).collect())
            })
            .collect::<Result<_>>()?;
        frame_of_row_chunks(&out, pieces)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The group table decides short keys by their prefix alone and long ones by their
    /// bytes: long keys sharing their first 16 bytes stay apart, and every key finds
    /// its own group again.
    #[test]
    fn group_of_tells_keys_apart_by_prefix_and_bytes() {
        let mut long_a = vec![1u8; 30];
        long_a.extend_from_slice(&[0, 0]);
        let mut long_b = long_a.clone();
        long_b[20] = 2;
        let keys: Vec<Vec<u8>> = vec![
            vec![1, 0x80, 0, 0, 7],
            vec![2],
            long_a,
            long_b,
            vec![1; 14].into_iter().chain([0, 0]).collect(),
        ];
        let mut groups = Groups::new(&[]);
        let firsts: Vec<u32> = keys
            .iter()
            .map(|k| {
                let key = KeyRef::of(k);
                groups.group_of(key, key.hash())
            })
            .collect();
        assert_eq!(firsts, vec![0, 1, 2, 3, 4]);
        for (k, &g) in keys.iter().zip(&firsts) {
            let key = KeyRef::of(k);
            assert_eq!(groups.group_of(key, key.hash()), g);
            assert_eq!(groups.key(g as usize), &k[..]);
        }
        assert_eq!(groups.len(), keys.len());
    }
}
