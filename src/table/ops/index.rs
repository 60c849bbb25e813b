//! A join's right side indexed by key: for a key, the right rows that hold it, in row
//! order.
//!
//! Three layouts, picked from the key columns' types and values when the index is built:
//!
//! - **Dense**: one BOOL, INT or I64 key column whose present values span a range of at
//!   most [`DENSE_SLOTS_PER_ROW`] slots per right row (ids numbered from some base, as
//!   surrogate keys are): a slot per value in the range, found by subtraction, so a
//!   probe reads one slot and no key. When no value repeats (a dimension's primary
//!   key), the right rows are instead laid out in key order, a row per value, with a
//!   bitmap of the values present: a key's row is its value less the smallest, and a
//!   probe reads one bit (of a bitmap that stays in cache) and no slot at all.
//! - **Flat**: keys of at most 16 bytes (fixed-width columns, see
//!   [`short_keys`](super::keys::short_keys)): an open-addressing table with linear
//!   probing whose slots hold the whole key, so a probe reads one slot (rarely the
//!   next few) and no other memory.
//! - **Bytes**: longer keys (strings): a hash table of encoded keys.
//!
//! Every layout chains a key's rows in row order: a slot holds the first and the last,
//! `next` links each to the following one, and a key held once needs no link at all.
//! Missing key values never match: such rows are never inserted, and a probe with one
//! finds nothing.

use std::sync::Arc;

use hashbrown::HashTable;
use rayon::prelude::*;

use super::keys::{encode, short_keys, Keys, ShortKeys};
use super::take::{flatten_frame, prefetch, take, NO_ROW};
use crate::frame::{Chunk, DataFrame, DataType};

/// The most slots per right row that the dense layout may take: above it (sparse key
/// values) the flat table is smaller.
const DENSE_SLOTS_PER_ROW: u128 = 2;

/// The dense layout is always allowed this many slots, however few rows there are.
const DENSE_MIN_SLOTS: u128 = 1 << 12;

/// The keys of the left rows of one chunk, in the form the index compares.
pub(crate) enum ProbeKeys {
    /// Keys of at most 16 bytes, for the dense, direct and flat layouts.
    Short(ShortKeys),
    /// Encoded keys, for the bytes layout.
    Bytes(Keys),
}

impl ProbeKeys {
    /// The number of keys.
    pub(crate) fn len(&self) -> usize {
        match self {
            ProbeKeys::Short(k) => k.prefixes.len(),
            ProbeKeys::Bytes(k) => k.len(),
        }
    }

    /// True when key `i` has a missing value.
    #[inline]
    fn has_missing(&self, i: usize) -> bool {
        match self {
            ProbeKeys::Short(k) => k.has_missing(i),
            ProbeKeys::Bytes(k) => k.has_missing(i),
        }
    }
}

/// The right side, flattened, and its rows by key.
pub(crate) struct Index {
    /// One chunk per column of the right side.
    pub(crate) chunks: Vec<Arc<Chunk>>,
    lookup: Lookup,
    /// Per right row, the next row of its key (unused for a key's last row).
    next: Vec<u32>,
}

/// A key's rows: the first and the last of its chain.
#[derive(Clone, Copy)]
struct Span {
    head: u32,
    tail: u32,
}

const EMPTY: Span = Span {
    head: NO_ROW,
    tail: NO_ROW,
};

/// One slot of the flat table: a whole short key (as two halves, so that a slot takes
/// 24 bytes rather than a `u128`'s aligned 32) and its rows; empty when `rows.head` is
/// [`NO_ROW`].
#[derive(Clone, Copy)]
struct Slot {
    hi: u64,
    lo: u64,
    rows: Span,
}

/// One key of the bytes layout; its prefix and hash sit in the table, so a probe of a
/// key of up to 16 bytes touches one bucket.
struct Entry {
    prefix: u128,
    hash: u64,
    rows: Span,
}

enum Lookup {
    /// Slot `v - min` holds the rows whose key value has bits `v` (see
    /// [`value_of`]), for a single column of `width` bits.
    Dense {
        min: u64,
        width: u32,
        slots: Vec<Span>,
    },
    /// As `Dense` with a key held at most once: the right rows sit at `v - min`, which
    /// bit `v - min` of `present` says holds a row.
    Direct {
        min: u64,
        width: u32,
        present: Vec<u64>,
    },
    /// Slot `mix(key) & mask`, or the next free one after it, holds `key`.
    Flat {
        mask: usize,
        slots: Vec<Slot>,
    },
    Bytes {
        table: HashTable<Entry>,
        keys: Keys,
    },
}

/// The bits of a present value in a one-column short key of `width` value bits: the
/// key is a tag byte then the bits, at the top of the prefix.
#[inline]
fn value_of(prefix: u128, width: u32) -> u64 {
    ((prefix << 8) >> (128 - width)) as u64
}

/// A cheap mix of a short key's bits for the flat table (only its low bits pick a slot;
/// nothing leaves the process, so it need not be the exchange's hash).
#[inline]
fn mix(key: u128) -> u64 {
    let (hi, lo) = ((key >> 64) as u64, key as u64);
    let x = (lo ^ hi.rotate_left(29)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let x = (x ^ (x >> 31)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^ (x >> 29)
}

/// The value width in bits of a dense key column of type `dtype`, if it can be one.
fn dense_width(dtype: DataType) -> Option<u32> {
    match dtype {
        DataType::Bool => Some(8),
        DataType::Int => Some(32),
        DataType::I64 => Some(64),
        _ => None,
    }
}

impl Index {
    /// Indexes the rows of `right` by its columns `on`.
    pub(crate) fn new(right: &DataFrame, on: &[usize]) -> Index {
        let chunks = flatten_frame(right);
        let rows = chunks.first().map_or(0, |c| c.len());
        let mut next = Vec::new();
        let lookup = match short_keys(&chunks, on) {
            Some(keys) => {
                let range = match on {
                    [c] => dense_width(chunks[*c].dtype())
                        .and_then(|w| dense_range(&keys, w).map(|(min, span)| (w, min, span))),
                    _ => None,
                };
                if let Some((lookup, at)) =
                    range.and_then(|(w, min, span)| direct(&keys, w, min, span))
                {
                    // Rows in key order: the chunks are the right side's rows at `at`, a
                    // row per key value (missing where no row has it).
                    let chunks = chunks.par_iter().map(|c| Arc::new(take(c, &at))).collect();
                    return Index {
                        chunks,
                        lookup,
                        next,
                    };
                }
                next = vec![NO_ROW; rows];
                match range {
                    Some((w, min, span)) => dense(&keys, w, min, span, &mut next),
                    None => flat(&keys, &mut next),
                }
            }
            None => {
                next = vec![NO_ROW; rows];
                bytes(encode(&chunks, on, &vec![false; on.len()]), &mut next)
            }
        };
        Index {
            chunks,
            lookup,
            next,
        }
    }

    /// The keys of a left row chunk (`chunks`, one per column) at its columns `on`, in
    /// the form this index compares.
    pub(crate) fn probe_keys(&self, chunks: &[Arc<Chunk>], on: &[usize]) -> ProbeKeys {
        if !matches!(self.lookup, Lookup::Bytes { .. }) {
            if let Some(keys) = short_keys(chunks, on) {
                return ProbeKeys::Short(keys);
            }
        }
        ProbeKeys::Bytes(encode(chunks, on, &vec![false; on.len()]))
    }

    /// For every key of `keys` (made by [`Index::probe_keys`]), the first and last right
    /// rows matching it, or `None` when none does, in the keys' order.
    ///
    /// A probe's time is the wait for its slot, far in a table larger than the caches:
    /// for short keys each slot is asked for [`AHEAD`] keys before it is read, so that
    /// many such waits overlap.
    pub(crate) fn find_all(&self, keys: &ProbeKeys) -> Vec<Option<(u32, u32)>> {
        let len = keys.len();
        let ahead = |i: usize| i + AHEAD < len;
        match (&self.lookup, keys) {
            (Lookup::Dense { min, width, slots }, ProbeKeys::Short(k)) => {
                let at = |i: usize| value_of(k.prefixes[i], *width).wrapping_sub(*min) as usize;
                (0..len)
                    .map(|i| {
                        if ahead(i) {
                            if let Some(s) = slots.get(at(i + AHEAD)) {
                                prefetch(s);
                            }
                        }
                        self.find(keys, i)
                    })
                    .collect()
            }
            (Lookup::Direct { .. }, _) => (0..len).map(|i| self.find(keys, i)).collect(),
            (Lookup::Flat { mask, slots }, ProbeKeys::Short(k)) => (0..len)
                .map(|i| {
                    if ahead(i) {
                        prefetch(&slots[mix(k.prefixes[i + AHEAD]) as usize & mask]);
                    }
                    self.find(keys, i)
                })
                .collect(),
            _ => (0..len).map(|i| self.find(keys, i)).collect(),
        }
    }

    /// The first and last right rows matching left key `i` of `keys` (made by
    /// [`Index::probe_keys`]), or `None` when none does.
    #[inline]
    pub(crate) fn find(&self, keys: &ProbeKeys, i: usize) -> Option<(u32, u32)> {
        if keys.has_missing(i) {
            return None;
        }
        let span = match (&self.lookup, keys) {
            (Lookup::Dense { min, width, slots }, ProbeKeys::Short(k)) => {
                let v = value_of(k.prefixes[i], *width).wrapping_sub(*min);
                *slots.get(usize::try_from(v).ok()?)?
            }
            (
                Lookup::Direct {
                    min,
                    width,
                    present,
                },
                ProbeKeys::Short(k),
            ) => {
                let v = usize::try_from(value_of(k.prefixes[i], *width).wrapping_sub(*min)).ok()?;
                let word = *present.get(v / 64)?;
                if word >> (v % 64) & 1 == 0 {
                    return None;
                }
                Span {
                    head: v as u32,
                    tail: v as u32,
                }
            }
            (Lookup::Flat { mask, slots }, ProbeKeys::Short(k)) => {
                let key = k.prefixes[i];
                let (hi, lo) = ((key >> 64) as u64, key as u64);
                let mut at = mix(key) as usize & mask;
                loop {
                    let s = &slots[at];
                    if s.rows.head == NO_ROW {
                        return None;
                    }
                    if s.hi == hi && s.lo == lo {
                        break s.rows;
                    }
                    at = (at + 1) & mask;
                }
            }
            (Lookup::Bytes { table, keys: right }, ProbeKeys::Bytes(k)) => {
                let key = k.key(i);
                let short = key.bytes.len() <= 16;
                table
                    .find(key.hash(), |e| {
                        e.prefix == key.prefix
                            && (short || right.get(e.rows.head as usize) == key.bytes)
                    })?
                    .rows
            }
            // `probe_keys` makes the keys of the index's own form.
            _ => return None,
        };
        (span.head != NO_ROW).then_some((span.head, span.tail))
    }

    /// The right rows from `first` to `last` (a span [`Index::find`] returned), in row
    /// order.
    pub(crate) fn rows(&self, (first, last): (u32, u32)) -> impl Iterator<Item = u32> + '_ {
        std::iter::successors(Some(first), move |&r| {
            if r == last {
                return None;
            }
            let n = self.next[r as usize];
            (n != NO_ROW).then_some(n)
        })
    }
}

/// How many keys ahead of the one it reads a probe asks for a slot: enough misses in
/// flight to cover a memory access, few enough that the slots are still cached when read.
const AHEAD: usize = 16;

/// Appends row `r` to the chain `span` (empty or not).
#[inline]
fn chain(span: &mut Span, r: u32, next: &mut [u32]) {
    if span.head == NO_ROW {
        span.head = r;
    } else {
        next[span.tail as usize] = r;
    }
    span.tail = r;
}

/// The smallest value and the span of the present values of one-column short keys of
/// `width` value bits, when a slot per value in that span fits the dense layout's
/// budget; `None` when the values spread wider (or no key is present).
fn dense_range(keys: &ShortKeys, width: u32) -> Option<(u64, usize)> {
    let (min, max) = (0..keys.prefixes.len())
        .filter(|&r| !keys.has_missing(r))
        .map(|r| value_of(keys.prefixes[r], width))
        .fold((u64::MAX, 0), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if min > max {
        return None;
    }
    let span = u128::from(max - min) + 1;
    let rows = keys.prefixes.len() as u128;
    if span > (rows * DENSE_SLOTS_PER_ROW).max(DENSE_MIN_SLOTS) {
        return None;
    }
    Some((min, usize::try_from(span).ok()?))
}

/// The direct layout of one-column short keys whose values from `min` span `span`, and
/// the right row for each value ([`NO_ROW`] for none): the order to lay the right rows
/// out in. `None` when a key value repeats (or the span is past row numbers).
fn direct(keys: &ShortKeys, width: u32, min: u64, span: usize) -> Option<(Lookup, Vec<u32>)> {
    if span >= NO_ROW as usize {
        return None;
    }
    let mut at = vec![NO_ROW; span];
    let mut present = vec![0u64; span.div_ceil(64)];
    for r in 0..keys.prefixes.len() {
        if !keys.has_missing(r) {
            let v = (value_of(keys.prefixes[r], width) - min) as usize;
            if at[v] != NO_ROW {
                return None;
            }
            at[v] = r as u32;
            present[v / 64] |= 1 << (v % 64);
        }
    }
    let lookup = Lookup::Direct {
        min,
        width,
        present,
    };
    Some((lookup, at))
}

/// The dense layout of one-column short keys whose values from `min` span `span`.
fn dense(keys: &ShortKeys, width: u32, min: u64, span: usize, next: &mut [u32]) -> Lookup {
    let mut slots = vec![EMPTY; span];
    for r in 0..keys.prefixes.len() {
        if !keys.has_missing(r) {
            let v = value_of(keys.prefixes[r], width) - min;
            chain(&mut slots[v as usize], r as u32, next);
        }
    }
    Lookup::Dense { min, width, slots }
}

/// The flat table of short keys.
fn flat(keys: &ShortKeys, next: &mut [u32]) -> Lookup {
    // At most two thirds full, so that a probe for a key not there stops soon.
    let capacity = (keys.prefixes.len() * 3 / 2).max(16).next_power_of_two();
    let mask = capacity - 1;
    let mut slots = vec![
        Slot {
            hi: 0,
            lo: 0,
            rows: EMPTY,
        };
        capacity
    ];
    for (r, &key) in keys.prefixes.iter().enumerate() {
        if keys.has_missing(r) {
            continue;
        }
        let (hi, lo) = ((key >> 64) as u64, key as u64);
        let mut at = mix(key) as usize & mask;
        loop {
            let s = &mut slots[at];
            if s.rows.head == NO_ROW {
                *s = Slot {
                    hi,
                    lo,
                    rows: EMPTY,
                };
            }
            if s.hi == hi && s.lo == lo {
                chain(&mut s.rows, r as u32, next);
                break;
            }
            at = (at + 1) & mask;
        }
    }
    Lookup::Flat { mask, slots }
}

/// The hash table of encoded keys (any length).
fn bytes(keys: Keys, next: &mut [u32]) -> Lookup {
    let mut table: HashTable<Entry> = HashTable::with_capacity(keys.len());
    for r in 0..keys.len() {
        if keys.has_missing(r) {
            continue;
        }
        let key = keys.key(r);
        let hash = key.hash();
        let same = |e: &Entry| keys.key(e.rows.head as usize) == key;
        match table.find_mut(hash, same) {
            Some(e) => chain(&mut e.rows, r as u32, next),
            None => {
                let entry = Entry {
                    prefix: key.prefix,
                    hash,
                    rows: Span {
                        head: r as u32,
                        tail: r as u32,
                    },
                };
                table.insert_unique(hash, entry, |e| e.hash);
            }
        }
    }
    Lookup::Bytes { table, keys }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::FromValue;

    /// The right rows matching each left key, through the index, as lists.
    fn matches(right: &DataFrame, left: &DataFrame, on: &[usize]) -> Vec<Vec<u32>> {
        let index = Index::new(right, on);
        let chunks = flatten_frame(left);
        let keys = index.probe_keys(&chunks, on);
        (0..keys.len())
            .map(|i| {
                index
                    .find(&keys, i)
                    .map_or(Vec::new(), |s| index.rows(s).collect())
            })
            .collect()
    }

    /// The same by comparing every pair of rows' encoded keys.
    fn naive(right: &DataFrame, left: &DataFrame, on: &[usize]) -> Vec<Vec<u32>> {
        let r = encode(&flatten_frame(right), on, &vec![false; on.len()]);
        let l = encode(&flatten_frame(left), on, &vec![false; on.len()]);
        (0..l.len())
            .map(|i| {
                (0..r.len())
                    .filter(|&j| !l.has_missing(i) && !r.has_missing(j) && l.get(i) == r.get(j))
                    .map(|j| j as u32)
                    .collect()
            })
            .collect()
    }

    fn layout(right: &DataFrame, on: &[usize]) -> &'static str {
        match Index::new(right, on).lookup {
            Lookup::Dense { .. } => "dense",
            Lookup::Direct { .. } => "direct",
            Lookup::Flat { .. } => "flat",
            Lookup::Bytes { .. } => "bytes",
        }
    }

    #[test]
    fn every_layout_finds_the_rows_a_naive_comparison_finds() {
        // Dense: ids near i32's ends (the range check subtracts in the value's bits),
        // repeats, missing values, and probes outside the range.
        let right = DataFrame::from_array(&[
            Some(i32::MIN + 3),
            Some(i32::MIN + 1),
            None,
            Some(i32::MIN + 3),
            Some(i32::MIN + 2),
        ]);
        let left = DataFrame::from_array(&[
            Some(i32::MIN + 3),
            None,
            Some(i32::MAX),
            Some(i32::MIN),
            Some(i32::MIN + 2),
        ]);
        assert_eq!(layout(&right, &[0]), "dense");
        assert_eq!(matches(&right, &left, &[0]), naive(&right, &left, &[0]));
        // Direct: no key repeats; gaps, a missing key, probes on both sides of the range.
        let right = DataFrame::from_array(&[Some(10i64), None, Some(12), Some(15), Some(11)]);
        let left = DataFrame::from_array(&[
            Some(12i64),
            Some(13),
            Some(9),
            None,
            Some(15),
            Some(16),
            Some(10),
            Some(i64::MIN),
        ]);
        assert_eq!(layout(&right, &[0]), "direct");
        let index = Index::new(&right, &[0]);
        let keys = index.probe_keys(&flatten_frame(&left), &[0]);
        let found: Vec<Option<i64>> = index
            .find_all(&keys)
            .into_iter()
            .map(|s| {
                s.map(|(r, _)| {
                    index.chunks[0]
                        .value(r as usize)
                        .and_then(i64::from_value)
                        .unwrap()
                })
            })
            .collect();
        assert_eq!(
            found,
            [Some(12), None, None, None, Some(15), None, Some(10), None]
        );
        // Flat: I64 values far apart.
        let wide: Vec<Option<i64>> = (0..5000)
            .map(|i| (i % 7 != 0).then_some((i % 1500) * 1_000_003 - 3_000_000_000))
            .collect();
        let right = DataFrame::from_array(&wide);
        let probes: Vec<Option<i64>> = (0..300)
            .map(|i| Some((i * 37 % 2000) * 1_000_003 - 3_000_000_000))
            .collect();
        let left = DataFrame::from_array(&probes);
        assert_eq!(layout(&right, &[0]), "flat");
        assert_eq!(matches(&right, &left, &[0]), naive(&right, &left, &[0]));
        // Flat: floats (-0.0 matches 0.0).
        let right = DataFrame::from_array(&[Some(0.0f32), Some(1.5), None, Some(1.5)]);
        let left = DataFrame::from_array(&[Some(-0.0f32), Some(1.5), Some(2.0), None]);
        assert_eq!(layout(&right, &[0]), "flat");
        let got = matches(&right, &left, &[0]);
        assert_eq!(got, vec![vec![0], vec![1, 3], vec![], vec![]]);
        // Bytes: strings.
        let right = DataFrame::from_array(&[Some("a"), Some(""), Some("a"), None]);
        let left = DataFrame::from_array(&[Some("a"), Some("b"), None, Some("")]);
        assert_eq!(layout(&right, &[0]), "bytes");
        assert_eq!(matches(&right, &left, &[0]), naive(&right, &left, &[0]));
    }

    #[test]
    fn all_keys_equal_chain_every_row_in_order() {
        let right = DataFrame::from_array(&vec![Some(7i64); 3000]);
        let left = DataFrame::from_array(&[Some(7i64), Some(8)]);
        let got = matches(&right, &left, &[0]);
        assert_eq!(got[0], (0..3000).collect::<Vec<u32>>());
        assert!(got[1].is_empty());
        let right = DataFrame::from_array(&[Option::<i64>::None; 10]);
        assert!(matches(&right, &left, &[0]).iter().all(Vec::is_empty));
    }
}
