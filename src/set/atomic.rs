//! [`AtomicIds`]: a bitmap set that many threads mark at once.

use std::sync::atomic::{AtomicU64, Ordering};

use super::id_set::{past_bound, IdSet, WORD};
use crate::Result;

/// A set of ids below a fixed bound that many threads add to at once (a parallel scan
/// marking what it finds), turned into an [`IdSet`] by [`finish`](AtomicIds::finish).
///
/// [`insert`](AtomicIds::insert) takes `&self`, so a `rayon` loop can share one set. An
/// id past the bound is not added; it is remembered, and `finish` fails naming it, so a
/// bad id is never lost silently and the marking loop needs no error path.
///
/// ```
/// use eau2::set::AtomicIds;
///
/// let found = AtomicIds::new(1000)?;
/// std::thread::scope(|s| {
///     for t in 0..4 {
///         let found = &found;
///         s.spawn(move || (t..1000).step_by(4).for_each(|i| found.insert(i)));
///     }
/// });
/// assert_eq!(found.finish()?.len(), 1000);
/// # Ok::<(), eau2::Error>(())
/// ```
pub struct AtomicIds {
    words: Vec<AtomicU64>,
    bound: usize,
    /// The largest id past the bound that was inserted, plus one (0: none).
    rejected: AtomicU64,
}

impl AtomicIds {
    /// The empty set of ids below `bound` (at most 2^32).
    pub fn new(bound: usize) -> Result<AtomicIds> {
        IdSet::new(bound)?;
        Ok(AtomicIds {
            words: (0..bound.div_ceil(WORD))
                .map(|_| AtomicU64::new(0))
                .collect(),
            bound,
            rejected: AtomicU64::new(0),
        })
    }

    /// Adds `id`. In a skewed scan most ids are already in (a popular id seen again), so
    /// a plain load comes first and the read-modify-write only when the bit is clear:
    /// that keeps the cache line shared between threads.
    #[inline]
    pub fn insert(&self, id: u32) {
        let (w, mask) = (id as usize / WORD, 1u64 << (id as usize % WORD));
        match self.words.get(w) {
            Some(word) if (id as usize) < self.bound => {
                if word.load(Ordering::Relaxed) & mask == 0 {
                    word.fetch_or(mask, Ordering::Relaxed);
                }
            }
            _ => {
                self.rejected
                    .fetch_max(u64::from(id) + 1, Ordering::Relaxed);
            }
        }
    }

    /// The finished set in the smaller form for its size, once no thread adds to it any
    /// more. Fails naming the largest id that was past the bound, if any was.
    pub fn finish(self) -> Result<IdSet> {
        match self.rejected.into_inner() {
            0 => {
                let words = self.words.into_iter().map(AtomicU64::into_inner).collect();
                let mut set = IdSet::from_words(self.bound, words)
                    .unwrap_or_else(|| unreachable!("insert sets no bit past the bound"));
                set.compact();
                Ok(set)
            }
            bad => Err(past_bound(bad - 1, self.bound)),
        }
    }
}
