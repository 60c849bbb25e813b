//! Distinct values of one fixed-width column, and their number per group of one
//! fixed-width key, by sorting instead of by a group table.
//!
//! The general group-by ([`super::group`]) looks every row's key up in a hash table, and
//! that lookup is most of its time when there are many groups. When the key and the
//! counted column are one fixed-width column each (every type but STRING), a row is one
//! `u128`: the key's bits on top, the value's bits below (as [`keys::value_bits`] gives
//! them). Each pair goes to the rank its key picks; there the distinct pairs are what a
//! radix sort and one pass leave, and a group's count of distinct values is the length of
//! its run. No table, no probing, and the result is built once per group, not touched
//! once per row. `distinct` of one column is the same with the value as the key and
//! nothing below it.
//!
//! Missing values follow the group-by's rules: a missing key is a group of its own (held
//! by rank 0), a missing value is not counted, and a group whose values are all missing
//! still appears, with 0.

use rayon::prelude::*;
use speedy::{Readable, Writable};

use super::keys::{self, owner};
use super::radix::sort_by_high_bytes;
use super::results::frame_of_row_chunks;
use super::shuffle::swap;
use super::types;
use crate::error::Result;
use crate::frame::{Chunk, ChunkBuilder, DataFrame, DataType, Schema};
use crate::table::DistFrame;

/// What is computed.
#[derive(Clone, Copy, Debug)]
pub(super) enum Job {
    /// The distinct values of column `column` (`distinct` of a one-column frame).
    Distinct { column: usize },
    /// Per value of column `key`, the number of distinct present values of `value`.
    CountDistinct { key: usize, value: usize },
}

impl Job {
    /// The key column (the distinct values' column) and the counted column, if any.
    fn columns(self) -> (usize, Option<usize>) {
        match self {
            Job::Distinct { column } => (column, None),
            Job::CountDistinct { key, value } => (key, Some(value)),
        }
    }
}

/// Whether a column of this type can travel as the bits of [`keys::value_bits`].
pub(super) fn fixed_width(dtype: DataType) -> bool {
    dtype != DataType::String
}

/// One rank's pairs for one destination, or everything a rank received.
#[derive(Default, Readable, Writable)]
struct Pairs {
    /// `key << 64 | value` for rows whose key and value are present (`value` is 0 for
    /// [`Job::Distinct`]), when they do not fit a `u64` ([`Packing::Wide`]).
    wide: Vec<u128>,
    /// The same pairs packed by [`Packing::Narrow`].
    narrow: Vec<u64>,
    /// Keys of rows whose value is missing: their groups exist even without a value.
    bare_keys: Vec<u64>,
    /// Whether a row with a missing key was seen (the missing key's group exists).
    missing_key: bool,
    /// The present values of rows whose key is missing.
    missing_key_values: Vec<u64>,
    /// The entries after the last compaction (not sent).
    #[speedy(skip)]
    compacted: usize,
    /// Whether compacting stopped paying: the last one removed few repeats (not sent).
    #[speedy(skip)]
    mostly_distinct: bool,
}

impl Pairs {
    fn append(&mut self, mut other: Pairs) {
        self.wide.append(&mut other.wide);
        self.narrow.append(&mut other.narrow);
        self.bare_keys.append(&mut other.bare_keys);
        self.missing_key |= other.missing_key;
        self.missing_key_values
            .append(&mut other.missing_key_values);
    }

    /// Entries that may gather before the first compaction.
    const SLACK: usize = 1 << 16;

    fn len(&self) -> usize {
        self.wide.len() + self.narrow.len() + self.bare_keys.len() + self.missing_key_values.len()
    }

    /// Drops repeats once the entries have doubled since the last time, so that a
    /// sender holds about twice its distinct pairs however often rows repeat (a key
    /// with many rows and few values) and sends only those. When a compaction removes
    /// fewer than a quarter of the entries, the rows are mostly distinct: compacting
    /// again would sort them for nothing, so it stops, and the owner sorts once.
    fn compact_if_grown(&mut self) {
        let before = self.len();
        if self.mostly_distinct || before < (2 * self.compacted).max(Self::SLACK) {
            return;
        }
        self.make_distinct();
        self.compacted = self.len();
        self.mostly_distinct = self.compacted * 4 > before * 3;
    }

    /// Sorts and drops repeats, so each list holds distinct values in order.
    fn make_distinct(&mut self) {
        sort_by_high_bytes(&mut self.wide, 0);
        self.wide.dedup();
        sort_by_high_bytes(&mut self.narrow, 0);
        self.narrow.dedup();
        self.bare_keys.par_sort_unstable();
        self.bare_keys.dedup();
        self.missing_key_values.par_sort_unstable();
        self.missing_key_values.dedup();
    }
}

/// How a pair travels and sorts. Most keys and values span far less than 64 bits each
/// (ids, counts, small floats), so as offsets from the ranks' agreed minima both fit one
/// `u64`: half the bytes to send, sort and scan of a `u128`. Sorting the packed form
/// still orders by key, then value.
#[derive(Clone, Copy, Debug)]
enum Packing {
    /// `(key - key_min) << value_bits | (value - value_min)`.
    Narrow {
        key_min: u64,
        value_min: u64,
        value_bits: u32,
    },
    /// `key << 64 | value`.
    Wide,
}

impl Packing {
    /// The packing for keys in `keys` and values in `values` (inclusive bit ranges over
    /// every rank; `None`: no such value anywhere).
    fn for_ranges(keys: Option<(u64, u64)>, values: Option<(u64, u64)>) -> Packing {
        let span_bits =
            |r: Option<(u64, u64)>| r.map_or(0, |(lo, hi)| 64 - (hi - lo).leading_zeros());
        let (key_bits, value_bits) = (span_bits(keys), span_bits(values));
        if key_bits + value_bits > 64 {
            return Packing::Wide;
        }
        Packing::Narrow {
            key_min: keys.map_or(0, |r| r.0),
            value_min: values.map_or(0, |r| r.0),
            value_bits,
        }
    }

    /// Appends the pair (`key`, `value`) to `to`.
    #[inline]
    fn push(self, to: &mut Pairs, key: u64, value: u64) {
        match self {
            Packing::Narrow {
                key_min,
                value_min,
                value_bits,
            } => to
                .narrow
                .push((key - key_min).checked_shl(value_bits).unwrap_or(0) | (value - value_min)),
            Packing::Wide => to.wide.push(u128::from(key) << 64 | u128::from(value)),
        }
    }

    /// The key of a narrow pair.
    #[inline]
    fn key_of(self, pair: u64) -> u64 {
        match self {
            Packing::Narrow {
                key_min,
                value_bits,
                ..
            } => pair
                .checked_shr(value_bits)
                .unwrap_or(0)
                .wrapping_add(key_min),
            Packing::Wide => pair,
        }
    }
}

/// The lowest and highest of two optional ranges' ends.
fn widest(a: Option<(u64, u64)>, b: Option<(u64, u64)>) -> Option<(u64, u64)> {
    match (a, b) {
        (Some(a), Some(b)) => Some((a.0.min(b.0), a.1.max(b.1))),
        (a, b) => a.or(b),
    }
}

/// The range of the bits of `chunk`'s present values.
fn bit_range(chunk: &Chunk) -> Option<(u64, u64)> {
    let bits = keys::value_bits(chunk)?;
    let valid = chunk.validity();
    bits.iter()
        .enumerate()
        .filter(|&(i, _)| valid.get(i))
        .fold(None, |r, (_, &b)| widest(r, Some((b, b))))
}

/// The rank that holds the group of key bits `key`: a mix of the bits (so that keys in a
/// narrow range still spread over the ranks) read by [`owner`].
#[inline]
fn owner_of(key: u64, n: usize) -> usize {
    let mixed = (key ^ (key >> 29)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    owner(mixed ^ (mixed >> 32), n)
}

/// One row chunk's pairs, split by destination rank.
fn pairs_of(chunks: &[std::sync::Arc<Chunk>], job: Job, packing: Packing, n: usize) -> Vec<Pairs> {
    let mut out: Vec<Pairs> = (0..n).map(|_| Pairs::default()).collect();
    let (key_col, value_col) = job.columns();
    let key_chunk = &chunks[key_col];
    // value_bits is `None` only for STRING, which the caller ruled out.
    let key_bits = keys::value_bits(key_chunk).unwrap_or_default();
    let key_valid = key_chunk.validity();
    let value = value_col.map(|c| {
        let chunk = &chunks[c];
        (
            keys::value_bits(chunk).unwrap_or_default(),
            chunk.validity(),
        )
    });
    for (i, &k) in key_bits.iter().enumerate() {
        let key_present = key_valid.get(i);
        match &value {
            None if key_present => packing.push(&mut out[owner_of(k, n)], k, 0),
            None => out[0].missing_key = true,
            Some((bits, valid)) => match (key_present, valid.get(i)) {
                (true, true) => packing.push(&mut out[owner_of(k, n)], k, bits[i]),
                (true, false) => out[owner_of(k, n)].bare_keys.push(k),
                (false, present) => {
                    out[0].missing_key = true;
                    if present {
                        out[0].missing_key_values.push(bits[i]);
                    }
                }
            },
        }
    }
    out
}

/// The keys of sorted `pairs` (`key` reads one) with the length of each one's run.
fn key_runs<T: Copy>(pairs: &[T], key: impl Fn(T) -> u64) -> Vec<(u64, u64)> {
    let mut runs: Vec<(u64, u64)> = Vec::new();
    for &p in pairs {
        let k = key(p);
        match runs.last_mut() {
            Some((last, n)) if *last == k => *n += 1,
            _ => runs.push((k, 1)),
        }
    }
    runs
}

impl<'n> DistFrame<'n> {
    /// Collective: [`Job`] on this frame, as a new frame: the key column (named and typed
    /// as the input's) and, for a count, the count column named `count_name`.
    pub(super) fn sorted_pairs(&self, job: Job, count_name: &str) -> Result<DistFrame<'n>> {
        let node = self.node;
        let n = node.size();
        let sources = self.sources()?;
        let (key_col, value_col) = job.columns();
        let local = sources
            .par_iter()
            .map(|s| {
                let values = value_col.and_then(|c| bit_range(&s.chunks[c]));
                (bit_range(&s.chunks[key_col]), values)
            })
            .reduce(|| (None, None), |a, b| (widest(a.0, b.0), widest(a.1, b.1)));
        let (keys, values) = node
            .comm()
            .all_reduce(local, |a, b| (widest(a.0, b.0), widest(a.1, b.1)))?;
        let packing = Packing::for_ranges(keys, values);
        let empty = || (0..n).map(|_| Pairs::default()).collect::<Vec<Pairs>>();
        let gather = |mut into: Vec<Pairs>, parts: Vec<Pairs>| {
            for (dest, part) in into.iter_mut().zip(parts) {
                dest.append(part);
                dest.compact_if_grown();
            }
            into
        };
        let per_dest = sources
            .par_iter()
            .fold(empty, |acc, s| {
                gather(acc, pairs_of(&s.chunks, job, packing, n))
            })
            .reduce(empty, gather);
        drop(sources);
        let parts = if n > 1 {
            swap(node, per_dest, "distinct pairs", |_, _| Ok(()))?
        } else {
            per_dest
        };
        let mut mine = Pairs::default();
        for part in parts {
            mine.append(part);
        }
        mine.make_distinct();
        let local = self.sorted_pairs_result(&mine, job, packing, count_name)?;
        DistFrame::finish(node, &local)
    }

    /// This rank's rows of the result: its groups in key order, then the missing key's.
    fn sorted_pairs_result(
        &self,
        got: &Pairs,
        job: Job,
        packing: Packing,
        count_name: &str,
    ) -> Result<DataFrame> {
        let schema = self.schema();
        let (key_col, _) = job.columns();
        let key_type = schema.types()[key_col];
        let counting = matches!(job, Job::CountDistinct { .. });
        let mut out = Schema::default();
        out.try_push(key_type, super::column_name(schema, key_col))?;
        if counting {
            out.try_push(types::COUNT, count_name.to_string())?;
        }
        // Groups with values (runs of one key, in key order, in whichever form the
        // pairs took), merged with the groups that have none.
        let runs = match packing {
            Packing::Wide => key_runs(&got.wide, |p| (p >> 64) as u64),
            Packing::Narrow { .. } => key_runs(&got.narrow, |p| packing.key_of(p)),
        };
        let mut groups: Vec<(u64, u64)> = Vec::with_capacity(runs.len());
        let mut bare = got.bare_keys.iter().copied().peekable();
        for (key, run) in runs {
            while let Some(b) = bare.next_if(|&b| b < key) {
                groups.push((b, 0));
            }
            bare.next_if_eq(&key);
            groups.push((key, run));
        }
        groups.extend(bare.map(|b| (b, 0)));

        let chunk_len = self.out_chunk_len();
        let rows = groups.len() + usize::from(got.missing_key);
        let mut pieces: Vec<Vec<std::sync::Arc<Chunk>>> = Vec::new();
        let mut start = 0;
        while start < rows {
            let end = (start + chunk_len).min(rows);
            let mut key_out = ChunkBuilder::new(key_type, end - start);
            let mut count_out = ChunkBuilder::new(types::COUNT, end - start);
            for r in start..end {
                let (key, count) = match groups.get(r) {
                    Some(&(key, count)) => (Some(key), count),
                    None => (None, got.missing_key_values.len() as u64),
                };
                keys::decode_bits_into(key_type, key, &mut key_out)?;
                types::push_i64(&mut count_out, Some(count as i64), count_name)?;
            }
            let mut piece = vec![std::sync::Arc::new(key_out.finish())];
            if counting {
                piece.push(std::sync::Arc::new(count_out.finish()));
            }
            pieces.push(piece);
            start = end;
        }
        frame_of_row_chunks(&out, pieces)
    }
}
