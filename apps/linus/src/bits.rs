//! Fixed-size sets of ids as bit vectors: [`Bits`] for one thread, [`AtomicBits`] for
//! many threads marking ids at once.
//!
//! The search keeps one bit per user and per project (4 MB and 16 MB at full GHTorrent
//! size), so these are the only per-id state it holds. Both are plain `u64` words, which
//! is also the form in which a bitmap crosses the network.

use std::sync::atomic::{AtomicU64, Ordering};

/// Bits per word.
const WORD: usize = 64;

/// The word index and mask of bit `i`.
#[inline]
fn locate(i: usize) -> (usize, u64) {
    (i / WORD, 1u64 << (i % WORD))
}

/// A set of ids below a fixed bound, one bit each.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bits {
    words: Vec<u64>,
    len: usize,
}

impl Bits {
    /// The empty set of ids below `len`. The words come from a zeroed allocation, so
    /// pages that are never written are never resident.
    pub fn new(len: usize) -> Bits {
        Bits {
            words: vec![0; len.div_ceil(WORD)],
            len,
        }
    }

    /// A set from its words (as [`Bits::into_words`] gave them) and bound; `None` when
    /// the word count does not fit the bound.
    pub fn from_words(words: Vec<u64>, len: usize) -> Option<Bits> {
        (words.len() == len.div_ceil(WORD)).then_some(Bits { words, len })
    }

    /// The bound: ids are below it.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether `i` is in the set; ids past the bound are not.
    #[inline]
    pub fn get(&self, i: usize) -> bool {
        let (w, mask) = locate(i);
        self.words.get(w).is_some_and(|&word| word & mask != 0)
    }

    /// Adds `i`; returns whether it was new. Panics past the bound (ids were checked
    /// against it when the graph was loaded).
    #[inline]
    pub fn insert(&mut self, i: usize) -> bool {
        let (w, mask) = locate(i);
        let was = self.words[w] & mask != 0;
        self.words[w] |= mask;
        !was
    }

    /// Adds every id of `other` (of the same bound).
    pub fn union_with(&mut self, other: &Bits) {
        for (a, b) in self.words.iter_mut().zip(&other.words) {
            *a |= b;
        }
    }

    /// How many ids are in the set.
    pub fn count(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// The ids in the set, ascending.
    pub fn ids(&self) -> Vec<u32> {
        let mut out = Vec::new();
        for (w, &word) in self.words.iter().enumerate() {
            let mut rest = word;
            while rest != 0 {
                out.push((w * WORD) as u32 + rest.trailing_zeros());
                rest &= rest - 1;
            }
        }
        out
    }

    /// The words, low ids first, for the wire.
    pub fn into_words(self) -> Vec<u64> {
        self.words
    }
}

/// A set of ids below a fixed bound that many threads add to at once.
pub struct AtomicBits {
    words: Vec<AtomicU64>,
    len: usize,
}

impl AtomicBits {
    /// The empty set of ids below `len`.
    pub fn new(len: usize) -> AtomicBits {
        AtomicBits {
            words: (0..len.div_ceil(WORD)).map(|_| AtomicU64::new(0)).collect(),
            len,
        }
    }

    /// Adds `i`. The common case in a skewed graph is an id that is already in (a
    /// popular project seen again), so a plain load comes first and the read-modify-write
    /// only when the bit is clear: that keeps the cache line shared between threads.
    #[inline]
    pub fn insert(&self, i: usize) {
        let (w, mask) = locate(i);
        let word = &self.words[w];
        if word.load(Ordering::Relaxed) & mask == 0 {
            word.fetch_or(mask, Ordering::Relaxed);
        }
    }

    /// The finished set, once no thread adds to it any more.
    pub fn into_bits(self) -> Bits {
        Bits {
            words: self.words.into_iter().map(AtomicU64::into_inner).collect(),
            len: self.len,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_get_count_and_ids_agree() {
        let mut b = Bits::new(130);
        for i in [0, 63, 64, 129, 64] {
            b.insert(i);
        }
        assert!(b.get(63) && b.get(64) && !b.get(1) && !b.get(500));
        assert_eq!(b.count(), 4);
        assert_eq!(b.ids(), vec![0, 63, 64, 129]);
        assert!(!b.insert(0) && b.insert(1));
    }

    #[test]
    fn atomic_bits_collect_every_thread_s_ids() {
        let a = AtomicBits::new(1000);
        std::thread::scope(|s| {
            for t in 0..4 {
                let a = &a;
                s.spawn(move || (t..1000).step_by(4).for_each(|i| a.insert(i)));
            }
        });
        assert_eq!(a.into_bits().count(), 1000);
    }

    #[test]
    fn words_round_trip_and_union() {
        let mut a = Bits::new(100);
        a.insert(3);
        let mut b = Bits::new(100);
        b.insert(99);
        a.union_with(&b);
        let back = Bits::from_words(a.clone().into_words(), 100).unwrap();
        assert_eq!(back, a);
        assert_eq!(back.ids(), vec![3, 99]);
        assert!(Bits::from_words(vec![0; 3], 100).is_none());
    }
}
