//! Sets of newly found ids, and how they travel between ranks.
//!
//! After each half of a stage every rank knows the ids *it* found; every rank needs the
//! union. A set travels as a sorted id list while that is small and as a bitmap once it
//! is not (an id costs 32 bits in a list and the whole id space costs one bit per id in
//! a bitmap), so the late stages of a search, where a few hundred ids change, send a few
//! hundred ids instead of megabytes of bitmap. The choice is made per rank and again at
//! every merge, so the ranks need not agree on it beforehand: the union is one
//! all-reduce.

use std::borrow::Cow;

use eau2::{Error, Node, Result};

use crate::bits::Bits;

/// A list is used while `ids * LIST_COST_FACTOR * 32 <= bound`: lists cost more per id
/// to merge and to apply than bitmap words do, so they must be clearly smaller to win.
const LIST_COST_FACTOR: usize = 4;

/// A set of ids below a bound, as a list or a bitmap.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found {
    /// Ascending, without repeats.
    Ids(Vec<u32>),
    /// One bit per id of the space.
    Bits(Bits),
}

/// Whether `ids` ids below `bound` are better sent as a list.
fn list_pays(ids: usize, bound: usize) -> bool {
    ids.saturating_mul(LIST_COST_FACTOR * 32) <= bound
}

impl Found {
    /// The set in whichever form is smaller for its size.
    pub fn from_bits(bits: Bits) -> Found {
        if list_pays(bits.count(), bits.len()) {
            Found::Ids(bits.ids())
        } else {
            Found::Bits(bits)
        }
    }

    /// How many ids.
    pub fn count(&self) -> usize {
        match self {
            Found::Ids(ids) => ids.len(),
            Found::Bits(bits) => bits.count(),
        }
    }

    /// Whether the set is carried as a list (the "sparse" form).
    pub fn is_list(&self) -> bool {
        matches!(self, Found::Ids(_))
    }

    /// The set as a bitmap over ids below `bound`.
    pub fn to_bits(&self, bound: usize) -> Cow<'_, Bits> {
        match self {
            Found::Bits(bits) => Cow::Borrowed(bits),
            Found::Ids(ids) => {
                let mut bits = Bits::new(bound);
                for &id in ids {
                    bits.insert(id as usize);
                }
                Cow::Owned(bits)
            }
        }
    }

    /// The set as an ascending list.
    pub fn to_ids(&self) -> Cow<'_, [u32]> {
        match self {
            Found::Ids(ids) => Cow::Borrowed(ids),
            Found::Bits(bits) => Cow::Owned(bits.ids()),
        }
    }

    /// The wire form: `(ids, words)`, one of them empty.
    fn into_wire(self) -> Wire {
        match self {
            Found::Ids(ids) => (ids, Vec::new()),
            Found::Bits(bits) => (Vec::new(), bits.into_words()),
        }
    }

    fn from_wire((ids, words): Wire, bound: usize) -> Result<Found> {
        if words.is_empty() {
            return Ok(Found::Ids(ids));
        }
        Bits::from_words(words, bound)
            .map(Found::Bits)
            .ok_or_else(|| {
                Error::decode(format!("linus: a bitmap that does not cover {bound} ids"))
            })
    }
}

/// A set as collectives carry it.
type Wire = (Vec<u32>, Vec<u64>);

/// The union of two sets in wire form, each over ids below `bound`.
fn merge(a: Wire, b: Wire, bound: usize) -> Wire {
    match (a, b) {
        ((mut x, wx), (y, wy)) if wx.is_empty() && wy.is_empty() => {
            x.extend_from_slice(&y);
            x.sort_unstable();
            x.dedup();
            if list_pays(x.len(), bound) {
                (x, Vec::new())
            } else {
                (
                    Vec::new(),
                    Found::Ids(x).to_bits(bound).into_owned().into_words(),
                )
            }
        }
        ((xi, mut wx), (yi, wy)) => {
            if wx.is_empty() {
                wx = vec![0; bound.div_ceil(64)];
            }
            for (a, b) in wx.iter_mut().zip(&wy) {
                *a |= b;
            }
            for id in xi.into_iter().chain(yi) {
                wx[id as usize / 64] |= 1 << (id % 64);
            }
            (Vec::new(), wx)
        }
    }
}

/// Collective: the union over all ranks of each rank's `local` set of ids below `bound`.
///
/// The ranks first agree on the form from the sum of their counts (a bound on the
/// union's size): small unions merge as lists; large ones as bitmaps OR-ed word by word
/// around a ring (`all_reduce_slice`), which sends each rank's bitmap about twice
/// whatever the number of ranks.
pub fn union_all(node: &Node, local: Found, bound: usize) -> Result<Found> {
    if node.size() == 1 {
        return Ok(local);
    }
    let most = node.all_reduce(local.count() as u64, |a, b| a + b)?;
    if list_pays(most as usize, bound) {
        let merged = node.all_reduce(local.into_wire(), |a, b| merge(a, b, bound))?;
        return Found::from_wire(merged, bound);
    }
    let mut words = local.to_bits(bound).into_owned().into_words();
    node.all_reduce_slice(&mut words, |acc, other| {
        acc.iter_mut().zip(other).for_each(|(a, b)| *a |= b)
    })?;
    Found::from_wire((Vec::new(), words), bound).map(|found| match found {
        Found::Bits(bits) => Found::from_bits(bits),
        list => list,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bits(bound: usize, ids: &[u32]) -> Bits {
        let mut b = Bits::new(bound);
        ids.iter().for_each(|&i| {
            b.insert(i as usize);
        });
        b
    }

    #[test]
    fn small_sets_are_lists_and_large_ones_bitmaps() {
        assert_eq!(
            Found::from_bits(bits(1024, &[3, 1])),
            Found::Ids(vec![1, 3])
        );
        let many: Vec<u32> = (0..100).collect();
        assert!(!Found::from_bits(bits(1024, &many)).is_list());
    }

    #[test]
    fn merging_lists_dedups_and_turns_into_a_bitmap_when_large() {
        let m = merge((vec![1, 5], vec![]), (vec![5, 2], vec![]), 1 << 20);
        assert_eq!(m, (vec![1, 2, 5], vec![]));
        let a: Vec<u32> = (0..20).collect();
        let b: Vec<u32> = (10..40).collect();
        let (ids, words) = merge((a, vec![]), (b, vec![]), 1024);
        assert!(ids.is_empty());
        let all: Vec<u32> = (0..40).collect();
        assert_eq!(
            Found::from_wire((ids, words), 1024).unwrap(),
            Found::Bits(bits(1024, &all))
        );
    }

    #[test]
    fn merging_a_list_into_a_bitmap_keeps_both() {
        let w = bits(200, &[7, 150]).into_words();
        let m = merge((vec![3], vec![]), (vec![], w), 200);
        assert_eq!(
            Found::from_wire(m, 200).unwrap().to_ids().into_owned(),
            vec![3, 7, 150]
        );
    }
}
