//! [`IdSet`]: ids below a bound as an ascending list or a bitmap, and its iterator.

use std::borrow::Cow;

use super::sorted;
use crate::{Error, Result};

/// Bits per bitmap word.
pub(super) const WORD: usize = 64;

/// A list is the better form while `ids * LIST_COST_FACTOR * 32 <= bound`: a list costs
/// more per id to merge and to look up than a bitmap word, so it must be clearly smaller
/// than the bitmap to win.
const LIST_COST_FACTOR: usize = 4;

/// Whether `ids` ids below `bound` are better held as a list than as a bitmap.
pub(super) fn list_pays(ids: usize, bound: usize) -> bool {
    ids.saturating_mul(LIST_COST_FACTOR * 32) <= bound
}

/// The words a bitmap over ids below `bound` needs.
pub(super) fn words_for(bound: usize) -> usize {
    bound.div_ceil(WORD)
}

/// A set of ids below a fixed bound, as an ascending list or as a bitmap.
///
/// Reads ([`contains`](IdSet::contains), [`len`](IdSet::len), [`iter`](IdSet::iter))
/// work on either form. Changes keep a bitmap a bitmap (a set that is filled in place,
/// such as the ids seen so far, should not turn into a list that is slow to look up);
/// [`compact`](IdSet::compact) picks the smaller form, and the collectives return their
/// results in it.
#[derive(Clone, Debug)]
pub struct IdSet {
    pub(super) bound: usize,
    pub(super) repr: Repr,
}

/// An [`IdSet`]'s form.
#[derive(Clone, Debug)]
pub(super) enum Repr {
    /// Ascending, without repeats, every id below the bound.
    List(Vec<u32>),
    /// `words_for(bound)` words, bit `i % 64` of word `i / 64` for id `i`; no bit at or
    /// past the bound is set.
    Bits(Vec<u64>),
}

/// The error for an id that is not below a set's bound.
pub(super) fn past_bound(id: u64, bound: usize) -> Error {
    Error::App(format!(
        "id {id} is not below the set's bound {bound} (ids of an IdSet are 0..{bound})"
    ))
}

impl IdSet {
    /// The empty set of ids below `bound`, as a list. Fails when `bound` is past
    /// `u32::MAX + 1` (ids are `u32`).
    pub fn new(bound: usize) -> Result<IdSet> {
        if bound > u32::MAX as usize + 1 {
            return Err(Error::App(format!(
                "an IdSet's bound is at most 2^32 (ids are u32), not {bound}"
            )));
        }
        Ok(IdSet {
            bound,
            repr: Repr::List(Vec::new()),
        })
    }

    /// The empty set of ids below `bound`, as a bitmap, for a set that will be filled in
    /// place or looked up often. The words come from a zeroed allocation, so pages never
    /// written are never resident.
    pub fn new_bitmap(bound: usize) -> Result<IdSet> {
        let mut set = IdSet::new(bound)?;
        set.repr = Repr::Bits(vec![0; words_for(bound)]);
        Ok(set)
    }

    /// Every id below `bound`.
    pub fn full(bound: usize) -> Result<IdSet> {
        let mut words = vec![u64::MAX; words_for(bound)];
        if let Some(last) = words.last_mut() {
            *last = tail_mask(bound);
        }
        let mut set = IdSet::new(bound)?;
        set.repr = Repr::Bits(words);
        Ok(set)
    }

    /// The set of `ids` (in any order, repeats allowed) below `bound`, in the smaller
    /// form. Fails naming the first id that is not below `bound`.
    pub fn from_ids(bound: usize, mut ids: Vec<u32>) -> Result<IdSet> {
        let mut set = IdSet::new(bound)?;
        if let Some(&bad) = ids.iter().find(|&&id| id as usize >= bound) {
            return Err(past_bound(bad.into(), bound));
        }
        ids.sort_unstable();
        ids.dedup();
        set.repr = Repr::List(ids);
        set.compact();
        Ok(set)
    }

    /// A bitmap from its words (`bound.div_ceil(64)` of them, low ids first); `None`
    /// when the count is wrong or a bit at or past the bound is set.
    pub(super) fn from_words(bound: usize, words: Vec<u64>) -> Option<IdSet> {
        let fits = words.len() == words_for(bound)
            && words.last().is_none_or(|&w| w & !tail_mask(bound) == 0);
        fits.then_some(IdSet {
            bound,
            repr: Repr::Bits(words),
        })
    }

    /// The bound: every id is below it.
    pub fn bound(&self) -> usize {
        self.bound
    }

    /// How many ids are in the set (a bitmap counts its bits).
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::List(ids) => ids.len(),
            Repr::Bits(words) => words.iter().map(|w| w.count_ones() as usize).sum(),
        }
    }

    /// Whether the set holds no id.
    pub fn is_empty(&self) -> bool {
        match &self.repr {
            Repr::List(ids) => ids.is_empty(),
            Repr::Bits(words) => words.iter().all(|&w| w == 0),
        }
    }

    /// Whether the set is held as a list (the form for small sets).
    pub fn is_list(&self) -> bool {
        matches!(self.repr, Repr::List(_))
    }

    /// Whether `id` is in the set; ids past the bound are not. Constant time on a
    /// bitmap, a binary search on a list.
    #[inline]
    pub fn contains(&self, id: u32) -> bool {
        match &self.repr {
            Repr::Bits(words) => words
                .get(id as usize / WORD)
                .is_some_and(|&w| w & (1 << (id as usize % WORD)) != 0),
            Repr::List(ids) => ids.binary_search(&id).is_ok(),
        }
    }

    /// Adds `id`; returns whether it was new. Fails when `id` is not below the bound.
    /// Constant time on a bitmap; on a list it shifts the ids above it.
    pub fn insert(&mut self, id: u32) -> Result<bool> {
        if id as usize >= self.bound {
            return Err(past_bound(id.into(), self.bound));
        }
        Ok(match &mut self.repr {
            Repr::Bits(words) => {
                let (w, mask) = (id as usize / WORD, 1u64 << (id as usize % WORD));
                let new = words[w] & mask == 0;
                words[w] |= mask;
                new
            }
            Repr::List(ids) => match ids.binary_search(&id) {
                Ok(_) => false,
                Err(at) => {
                    ids.insert(at, id);
                    true
                }
            },
        })
    }

    /// The ids, ascending.
    pub fn iter(&self) -> Iter<'_> {
        match &self.repr {
            Repr::List(ids) => Iter(IterForm::List(ids.iter())),
            Repr::Bits(words) => Iter(IterForm::Bits(words, 0, 0, 0)),
        }
    }

    /// The ids as an ascending vector.
    pub fn to_vec(&self) -> Vec<u32> {
        match &self.repr {
            Repr::List(ids) => ids.clone(),
            Repr::Bits(_) => self.iter().collect(),
        }
    }

    /// The ids as an ascending slice, borrowed from a list or built from a bitmap.
    pub fn as_list(&self) -> Cow<'_, [u32]> {
        match &self.repr {
            Repr::List(ids) => Cow::Borrowed(ids),
            Repr::Bits(_) => Cow::Owned(self.to_vec()),
        }
    }

    /// The set as a bitmap: itself if it is one, a converted copy if it is a list. Use it
    /// before many lookups.
    pub fn as_bitmap(&self) -> Cow<'_, IdSet> {
        match &self.repr {
            Repr::Bits(_) => Cow::Borrowed(self),
            Repr::List(_) => Cow::Owned(self.clone().into_bitmap()),
        }
    }

    /// The set as a bitmap.
    pub fn into_bitmap(self) -> IdSet {
        let words = self.into_words();
        IdSet {
            bound: words.1,
            repr: Repr::Bits(words.0),
        }
    }

    /// The bitmap words and the bound, converting a list.
    pub(super) fn into_words(self) -> (Vec<u64>, usize) {
        match self.repr {
            Repr::Bits(words) => (words, self.bound),
            Repr::List(ids) => {
                let mut words = vec![0u64; words_for(self.bound)];
                for id in ids {
                    words[id as usize / WORD] |= 1 << (id as usize % WORD);
                }
                (words, self.bound)
            }
        }
    }

    /// Turns the set into the smaller form for its size: a list while it is small, a
    /// bitmap once it is large.
    pub fn compact(&mut self) {
        let list = list_pays(self.len(), self.bound);
        match (&self.repr, list) {
            (Repr::Bits(_), true) => self.repr = Repr::List(self.to_vec()),
            (Repr::List(_), false) => {
                let bits = std::mem::replace(&mut self.repr, Repr::List(Vec::new()));
                self.repr = IdSet {
                    bound: self.bound,
                    repr: bits,
                }
                .into_bitmap()
                .repr;
            }
            _ => {}
        }
    }

    /// Fails unless `other` has this set's bound.
    pub(super) fn same_bound(&self, other: &IdSet, op: &str) -> Result<()> {
        if self.bound == other.bound {
            Ok(())
        } else {
            Err(Error::App(format!(
                "{op} of IdSets with different bounds ({} and {})",
                self.bound, other.bound
            )))
        }
    }

    /// Adds every id of `other`, which must have the same bound. A list stays a list
    /// unless `other` is a bitmap.
    pub fn union_with(&mut self, other: &IdSet) -> Result<()> {
        self.same_bound(other, "union")?;
        match (&mut self.repr, &other.repr) {
            (Repr::List(a), Repr::List(b)) => *a = sorted::union(a, b),
            (Repr::Bits(a), Repr::Bits(b)) => a.iter_mut().zip(b).for_each(|(x, y)| *x |= y),
            (Repr::Bits(a), Repr::List(b)) => b
                .iter()
                .for_each(|&id| a[id as usize / WORD] |= 1 << (id as usize % WORD)),
            (Repr::List(_), Repr::Bits(_)) => {
                let mut bits = other.clone();
                bits.union_with(self)?;
                *self = bits;
            }
        }
        Ok(())
    }

    /// Keeps only the ids that are also in `other`, which must have the same bound.
    pub fn intersect_with(&mut self, other: &IdSet) -> Result<()> {
        self.same_bound(other, "intersection")?;
        match (&mut self.repr, &other.repr) {
            (Repr::Bits(a), Repr::Bits(b)) => a.iter_mut().zip(b).for_each(|(x, y)| *x &= y),
            (Repr::List(a), Repr::List(b)) => *a = sorted::intersection(a, b),
            (Repr::List(a), Repr::Bits(_)) => a.retain(|&id| other.contains(id)),
            (Repr::Bits(_), Repr::List(b)) => {
                let kept = b.iter().copied().filter(|&id| self.contains(id)).collect();
                self.repr = Repr::Bits(
                    IdSet {
                        bound: self.bound,
                        repr: Repr::List(kept),
                    }
                    .into_words()
                    .0,
                );
            }
        }
        Ok(())
    }

    /// Removes every id of `other`, which must have the same bound.
    pub fn remove_all(&mut self, other: &IdSet) -> Result<()> {
        self.same_bound(other, "difference")?;
        match (&mut self.repr, &other.repr) {
            (Repr::Bits(a), Repr::Bits(b)) => a.iter_mut().zip(b).for_each(|(x, y)| *x &= !y),
            (Repr::List(a), Repr::List(b)) => *a = sorted::difference(a, b),
            (Repr::List(a), Repr::Bits(_)) => a.retain(|&id| !other.contains(id)),
            (Repr::Bits(a), Repr::List(b)) => b
                .iter()
                .for_each(|&id| a[id as usize / WORD] &= !(1 << (id as usize % WORD))),
        }
        Ok(())
    }
}

/// Sets are equal when they have the same bound and ids, whatever their forms.
impl PartialEq for IdSet {
    fn eq(&self, other: &IdSet) -> bool {
        self.bound == other.bound
            && match (&self.repr, &other.repr) {
                (Repr::List(a), Repr::List(b)) => a == b,
                (Repr::Bits(a), Repr::Bits(b)) => a == b,
                _ => self.len() == other.len() && self.iter().all(|id| other.contains(id)),
            }
    }
}

impl Eq for IdSet {}

/// The mask of the valid bits of a bitmap's last word over ids below `bound`.
fn tail_mask(bound: usize) -> u64 {
    match bound % WORD {
        0 => u64::MAX,
        r => (1u64 << r) - 1,
    }
}

/// The ids of an [`IdSet`], ascending.
pub struct Iter<'a>(IterForm<'a>);

/// An [`Iter`] over either form.
enum IterForm<'a> {
    List(std::slice::Iter<'a, u32>),
    /// The bitmap, the next word to read, the bits of the current word not yet
    /// returned, and the id of bit 0 of the current word.
    Bits(&'a [u64], usize, u64, u32),
}

impl Iterator for Iter<'_> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        match &mut self.0 {
            IterForm::List(ids) => ids.next().copied(),
            IterForm::Bits(words, next, current, base) => {
                while *current == 0 {
                    *current = *words.get(*next)?;
                    *base = (*next * WORD) as u32;
                    *next += 1;
                }
                let id = *base + current.trailing_zeros();
                *current &= *current - 1;
                Some(id)
            }
        }
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
