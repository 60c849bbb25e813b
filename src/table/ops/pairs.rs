//! The state of `count_distinct` for all the groups of one table: every distinct
//! (group, value) pair once, in one flat hash set, and per group the number of its pairs.
//!
//! One set for all groups, rather than a set per group, because group-bys with many
//! groups (distinct projects per author) have a few values each: a set per group costs
//! an allocation per group and per value, and their encoding for the exchange a length
//! per set and per value. Here a pair is a group number and the value's encoded key
//! (see [`keys`](super::keys)): its first 16 bytes as one integer, which hold the whole
//! value for every type but long strings, whose remaining bytes sit in a side buffer.
//! Merging partial states is inserting the other side's pairs, renumbered; what crosses
//! the network is the flat vectors (the hash table is rebuilt by whoever inserts).

use std::hash::BuildHasher;

use hashbrown::HashTable;
use speedy::{Readable, Writable};

use super::keys::KeyRef;

/// The longest encoded value held whole in its prefix.
const SHORT: usize = 16;

/// Marks a group that a renumbering drops.
const DROPPED: u32 = u32::MAX;

/// Distinct (group, value) pairs and per-group counts.
#[derive(Clone, Default, Readable, Writable)]
pub(crate) struct PairSet {
    /// Per pair, by hash: its value's prefix, its group and its number, so that a
    /// lookup of a short value reads the table alone; not sent (the receiver inserts
    /// the pairs into its own).
    #[speedy(skip)]
    table: HashTable<(u128, u32, u32)>,
    /// Each pair's hash, for growing the table; not sent.
    #[speedy(skip)]
    hashes: Vec<u64>,
    /// Each pair's group.
    groups: Vec<u32>,
    /// Each pair's value prefix (the whole value when it has at most 16 bytes).
    prefixes: Vec<u128>,
    /// The pairs whose value is longer than 16 bytes, in increasing order, ...
    long_pairs: Vec<u32>,
    /// ... where their bytes end in `long_bytes` (each starts where the previous ends).
    long_ends: Vec<u64>,
    long_bytes: Vec<u8>,
    /// Per group: its number of distinct values.
    counts: Vec<u64>,
}

/// A value as the set compares it: its prefix, and all its bytes when it is long.
#[derive(Clone, Copy)]
struct Val<'a> {
    prefix: u128,
    long: Option<&'a [u8]>,
}

impl PairSet {
    /// Adds a group without values.
    pub(crate) fn push_group(&mut self) {
        self.counts.push(0);
    }

    /// Group `g`'s number of distinct values.
    pub(crate) fn count(&self, g: usize) -> u64 {
        self.counts[g]
    }

    /// The number of groups.
    pub(crate) fn groups(&self) -> usize {
        self.counts.len()
    }

    /// The number of distinct pairs.
    pub(crate) fn len(&self) -> usize {
        self.groups.len()
    }

    /// Notes the value `value` in group `group` (a group already pushed).
    #[inline]
    pub(crate) fn insert(&mut self, group: u32, value: KeyRef<'_>) {
        let long = (value.bytes.len() > SHORT).then_some(value.bytes);
        self.insert_val(
            group,
            Val {
                prefix: value.prefix,
                long,
            },
        );
    }

    /// The bytes of pair `i`'s value when it is long.
    fn long_of(&self, i: usize) -> Option<&[u8]> {
        let at = self.long_pairs.binary_search(&(i as u32)).ok()?;
        let start = if at == 0 { 0 } else { self.long_ends[at - 1] };
        Some(&self.long_bytes[start as usize..self.long_ends[at] as usize])
    }

    fn val(&self, i: usize) -> Val<'_> {
        Val {
            prefix: self.prefixes[i],
            long: self.long_of(i),
        }
    }

    #[inline]
    fn hash(group: u32, value: Val<'_>) -> u64 {
        let state = foldhash::fast::FixedState::with_seed(0x9a1c_5e7d);
        match value.long {
            None => state.hash_one((group, value.prefix)),
            Some(bytes) => state.hash_one((group, bytes)),
        }
    }

    fn insert_val(&mut self, group: u32, value: Val<'_>) {
        let hash = PairSet::hash(group, value);
        let found = self.table.find(hash, |&(prefix, g, p)| {
            if g != group || prefix != value.prefix {
                return false;
            }
            // Equal prefixes: both short (then equal) or both long (the encodings are
            // prefix-free, so a short value is never the start of a long one).
            match value.long {
                None => true,
                Some(bytes) => self.long_of(p as usize) == Some(bytes),
            }
        });
        if found.is_some() {
            return;
        }
        let p = self.groups.len() as u32;
        let hashes = &self.hashes;
        self.table
            .insert_unique(hash, (value.prefix, group, p), |&(_, _, q)| {
                hashes[q as usize]
            });
        self.hashes.push(hash);
        self.groups.push(group);
        self.prefixes.push(value.prefix);
        if let Some(bytes) = value.long {
            self.long_pairs.push(p);
            self.long_bytes.extend_from_slice(bytes);
            self.long_ends.push(self.long_bytes.len() as u64);
        }
        self.counts[group as usize] += 1;
    }

    /// The pairs and counts of groups `picks` (renumbered 0, 1, ... in that order), for
    /// sending; the table is left behind.
    pub(crate) fn select(&self, picks: &[u32]) -> PairSet {
        let mut renumber = vec![DROPPED; self.counts.len()];
        for (new, &old) in picks.iter().enumerate() {
            renumber[old as usize] = new as u32;
        }
        let mut out = PairSet {
            counts: picks.iter().map(|&g| self.counts[g as usize]).collect(),
            ..PairSet::default()
        };
        let mut long = self.long_pairs.iter().peekable();
        for (i, &g) in self.groups.iter().enumerate() {
            let is_long = long.next_if(|&&p| p as usize == i).is_some();
            let new = renumber[g as usize];
            if new == DROPPED {
                continue;
            }
            if is_long {
                out.long_pairs.push(out.groups.len() as u32);
                if let Some(bytes) = self.long_of(i) {
                    out.long_bytes.extend_from_slice(bytes);
                }
                out.long_ends.push(out.long_bytes.len() as u64);
            }
            out.groups.push(new);
            out.prefixes.push(self.prefixes[i]);
        }
        out
    }

    /// Inserts the pairs of `other`, whose group `g` is this set's group `into[g]`
    /// (pairs of groups mapped to `u32::MAX` are skipped).
    pub(crate) fn merge(&mut self, other: &PairSet, into: &[u32]) {
        for i in 0..other.len() {
            let g = into[other.groups[i] as usize];
            if g != DROPPED {
                self.insert_val(g, other.val(i));
            }
        }
    }

    /// Whether a received set is consistent: one group per count, pair groups among
    /// them, long pairs in range and increasing, their ends increasing within the bytes.
    pub(crate) fn is_valid(&self) -> bool {
        let groups = self.counts.len();
        let pairs = self.groups.len();
        self.prefixes.len() == pairs
            && self.groups.iter().all(|&g| (g as usize) < groups)
            && self.long_pairs.len() == self.long_ends.len()
            && self.long_pairs.windows(2).all(|w| w[0] < w[1])
            && self.long_pairs.last().is_none_or(|&p| (p as usize) < pairs)
            && self.long_ends.windows(2).all(|w| w[0] <= w[1])
            && self
                .long_ends
                .last()
                .is_none_or(|&e| e as usize == self.long_bytes.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(bytes: &[u8]) -> KeyRef<'_> {
        KeyRef::of(bytes)
    }

    #[test]
    fn counts_distinct_values_per_group_short_and_long() {
        let long_a = [7u8; 40];
        let mut long_b = [7u8; 40];
        long_b[39] = 8;
        let mut s = PairSet::default();
        for _ in 0..3 {
            s.push_group();
        }
        for (g, v) in [
            (0, &b"\x01a"[..]),
            (0, b"\x01a"),
            (0, b"\x01b"),
            (1, b"\x01a"),
            (2, &long_a),
            (2, &long_b),
            (2, &long_a),
        ] {
            s.insert(g, key(v));
        }
        assert_eq!((s.count(0), s.count(1), s.count(2)), (2, 1, 2));
        // Groups 2 and 0 sent on, renumbered 0 and 1, then merged into a set where they
        // are groups 1 and 0, which already holds one of group 2's long values.
        let picked = s.select(&[2, 0]);
        assert!(picked.is_valid());
        let bytes = picked.write_to_vec().unwrap();
        let got = PairSet::read_from_buffer(&bytes).unwrap();
        assert!(got.is_valid());
        assert_eq!((got.count(0), got.count(1)), (2, 2));
        let mut other = PairSet::default();
        other.push_group();
        other.push_group();
        other.insert(1, key(&long_a));
        other.merge(&got, &[1, 0]);
        assert_eq!((other.count(0), other.count(1)), (2, 2));
        other.merge(&got, &[DROPPED, 0]);
        assert_eq!(other.count(0), 2);
    }
}

/// The state of `count_distinct` over a column of fixed width (every type but STRING):
/// (group, value) pairs packed into one `u128` each (the group on top, the value's
/// 64 bits below, as `keys::value_bits` gives them), appended as rows come and made distinct by a radix
/// sort and a pass, rather than by a hash set: no hashing, no probing, no table to grow.
///
/// Pairs are compacted (sorted and deduplicated) whenever their number doubles since
/// the last compaction, so memory stays within about twice the distinct pairs (plus
/// [`BitPairs::SLACK`]), and the sorts cost at most twice one sort of the final pairs.
#[derive(Clone, Default, Readable, Writable)]
pub(crate) struct BitPairs {
    /// The pairs; sorted and distinct up to `compacted`.
    pairs: Vec<u128>,
    /// The number of groups.
    groups: u64,
    /// The length after the last compaction; not sent (a receiver appends anyway).
    #[speedy(skip)]
    compacted: usize,
    /// Per group, its number of distinct values, once [`BitPairs::seal`] counted them.
    #[speedy(skip)]
    counts: Vec<u64>,
}

impl BitPairs {
    /// Pairs that may accumulate before the first compaction.
    const SLACK: usize = 1 << 16;

    /// Adds a group without values.
    pub(crate) fn push_group(&mut self) {
        self.groups += 1;
    }

    /// The number of groups.
    pub(crate) fn groups(&self) -> usize {
        self.groups as usize
    }

    /// Notes the value of bits `bits` in group `group`.
    #[inline]
    pub(crate) fn insert(&mut self, group: u32, bits: u64) {
        self.pairs.push(u128::from(group) << 64 | u128::from(bits));
        if self.pairs.len() >= (2 * self.compacted).max(Self::SLACK) {
            self.compact();
        }
    }

    /// Sorts the pairs and drops repeats.
    fn compact(&mut self) {
        if self.pairs.len() == self.compacted {
            return; // nothing added since
        }
        super::radix::sort_by_high_bytes(&mut self.pairs, 0);
        self.pairs.dedup();
        self.compacted = self.pairs.len();
    }

    /// The distinct pairs of groups `picks` (renumbered 0, 1, ... in that order), for
    /// sending.
    pub(crate) fn select(&mut self, picks: &[u32]) -> BitPairs {
        self.compact();
        let mut renumber = vec![DROPPED; self.groups as usize];
        for (new, &old) in picks.iter().enumerate() {
            renumber[old as usize] = new as u32;
        }
        let pairs = self
            .pairs
            .iter()
            .filter_map(|&p| {
                let new = renumber[(p >> 64) as usize];
                (new != DROPPED).then(|| u128::from(new) << 64 | (p & u128::from(u64::MAX)))
            })
            .collect();
        BitPairs {
            pairs,
            groups: picks.len() as u64,
            ..BitPairs::default()
        }
    }

    /// Adds the pairs of `other`, whose group `g` is this state's group `into[g]`
    /// (`u32::MAX`: skipped).
    pub(crate) fn merge(&mut self, other: &BitPairs, into: &[u32]) {
        for &p in &other.pairs {
            let g = into[(p >> 64) as usize];
            if g != DROPPED {
                self.insert(g, p as u64);
            }
        }
    }

    /// Compacts the pairs and counts each group's.
    pub(crate) fn seal(&mut self) {
        self.compact();
        self.counts = vec![0; self.groups as usize];
        for &p in &self.pairs {
            self.counts[(p >> 64) as usize] += 1;
        }
    }

    /// Group `g`'s number of distinct values (after [`BitPairs::seal`]).
    pub(crate) fn count(&self, g: usize) -> u64 {
        self.counts.get(g).copied().unwrap_or(0)
    }

    /// Whether a received state is consistent: every pair's group among its groups.
    pub(crate) fn is_valid(&self) -> bool {
        self.pairs
            .iter()
            .all(|&p| (p >> 64) < u128::from(self.groups))
    }
}

#[cfg(test)]
mod bit_tests {
    use super::*;

    #[test]
    fn counts_distinct_bits_across_compactions_and_merges() {
        let mut s = BitPairs::default();
        for _ in 0..3 {
            s.push_group();
        }
        // Enough pairs for several compactions; group g holds the values 0..(g + 1) * 7.
        for round in 0..40_000u64 {
            for g in 0..3u32 {
                s.insert(g, round % ((u64::from(g) + 1) * 7));
            }
        }
        let picked = s.select(&[2, 0]);
        let got = BitPairs::read_from_buffer(&picked.write_to_vec().unwrap()).unwrap();
        assert!(got.is_valid());
        let mut into = BitPairs::default();
        into.push_group();
        into.push_group();
        into.insert(0, 1_000);
        into.merge(&got, &[0, 1]);
        into.seal();
        assert_eq!((into.count(0), into.count(1)), (22, 7));
        s.seal();
        assert_eq!((s.count(0), s.count(1), s.count(2)), (7, 14, 21));
    }
}
