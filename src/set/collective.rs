//! The collectives over [`IdSet`]s: each rank passes its local set, every rank gets the
//! same combined set.
//!
//! First the ranks gather each other's bound and size (16 bytes per rank), which checks
//! that the bounds agree and bounds the result's size: at most the sum of the sizes for
//! a union, at most the smallest for an intersection. A result that will be small is
//! combined by one all-reduce of sets that each travel in their smaller form (lists
//! merged, or a list folded into a bitmap); a large one as bitmaps combined word by word
//! around a ring (`all_reduce_slice`), which sends each rank's bitmap about twice
//! whatever the number of ranks.

use super::id_set::{list_pays, IdSet, Repr};
use crate::{Error, Node, Result};

/// How the ranks' sets combine.
#[derive(Clone, Copy)]
enum Combine {
    Union,
    Intersection,
}

/// A set as an all-reduce carries it: whether it is valid (false once a malformed
/// value was met, so the error surfaces after the collective instead of a panic inside
/// it), its list, its bitmap words (one of the two empty).
type Wire = (bool, Vec<u32>, Vec<u64>);

/// Collective: the ids in any rank's `local` set. Every rank passes a set of the same
/// bound and gets the same result, in the smaller form for its size.
///
/// ```
/// use eau2::set::{self, IdSet};
///
/// let sizes = eau2::run_local(3, |node| {
///     // Rank 0 holds a bitmap of every id, the others small lists.
///     let local = match node.rank() {
///         0 => IdSet::full(100)?,
///         r => IdSet::from_ids(100, vec![r as u32])?,
///     };
///     Ok(set::union(node, &local)?.len())
/// })?;
/// assert_eq!(sizes, vec![100; 3]);
/// # Ok::<(), eau2::Error>(())
/// ```
pub fn union(node: &Node, local: &IdSet) -> Result<IdSet> {
    combine(node, local, Combine::Union, "set::union")
}

/// Collective: the ids in every rank's `local` set. Every rank passes a set of the same
/// bound and gets the same result.
///
/// ```
/// use eau2::set::{self, IdSet};
///
/// let common = eau2::run_local(2, |node| {
///     let local = IdSet::from_ids(64, vec![1, 7, 9 + node.rank() as u32])?;
///     Ok(set::intersection(node, &local)?.to_vec())
/// })?;
/// assert_eq!(common, vec![vec![1, 7], vec![1, 7]]);
/// # Ok::<(), eau2::Error>(())
/// ```
pub fn intersection(node: &Node, local: &IdSet) -> Result<IdSet> {
    combine(node, local, Combine::Intersection, "set::intersection")
}

/// Collective: the ids in some rank's `local` set and in no rank's `minus` set (the
/// union of the first sets less the union of the second). Every rank passes two sets
/// of one bound, the same on every rank, and gets the same result.
///
/// ```
/// use eau2::set::{self, IdSet};
///
/// let fresh = eau2::run_local(2, |node| {
///     let found = IdSet::from_ids(10, vec![node.rank() as u32, 5])?;
///     let seen = IdSet::from_ids(10, if node.rank() == 1 { vec![0] } else { vec![] })?;
///     Ok(set::difference(node, &found, &seen)?.to_vec())
/// })?;
/// assert_eq!(fresh, vec![vec![1, 5], vec![1, 5]]);
/// # Ok::<(), eau2::Error>(())
/// ```
pub fn difference(node: &Node, local: &IdSet, minus: &IdSet) -> Result<IdSet> {
    local.same_bound(minus, "set::difference")?;
    let mut result = union(node, local)?;
    result.remove_all(&union(node, minus)?)?;
    result.compact();
    Ok(result)
}

/// Combines the ranks' `local` sets as `how` says; `op` names the call in errors.
fn combine(node: &Node, local: &IdSet, how: Combine, op: &str) -> Result<IdSet> {
    let facts = node
        .comm()
        .all_gather((local.bound as u64, local.len() as u64))?;
    if let Some((rank, (bound, _))) = facts.iter().enumerate().find(|(_, f)| f.0 != facts[0].0) {
        return Err(Error::App(format!(
            "{op}: rank {rank} passes a set of ids below {bound} but rank 0 one below {} \
             (every rank must pass sets of the same bound)",
            facts[0].0
        )));
    }
    let bound = local.bound;
    let sizes = facts.iter().map(|&(_, len)| len as usize);
    let most = match how {
        Combine::Union => sizes.sum(),
        Combine::Intersection => sizes.min().unwrap_or(0),
    };
    let mut result = if node.size() == 1 {
        local.clone()
    } else if list_pays(most, bound) {
        let merged = node
            .comm()
            .all_reduce(to_wire(local), |a, b| merge(a, b, bound, how))?;
        from_wire(merged, bound)
            .ok_or_else(|| Error::decode(format!("{op}: a malformed set of ids below {bound}")))?
    } else {
        let (mut words, _) = local.clone().into_words();
        node.comm()
            .all_reduce_slice(&mut words, |acc, other| match how {
                Combine::Union => acc.iter_mut().zip(other).for_each(|(a, b)| *a |= b),
                Combine::Intersection => acc.iter_mut().zip(other).for_each(|(a, b)| *a &= b),
            })?;
        IdSet::from_words(bound, words)
            .ok_or_else(|| Error::decode(format!("{op}: a bitmap that does not fit {bound} ids")))?
    };
    result.compact();
    Ok(result)
}

/// `set` in wire form, as a list or a bitmap, whichever is smaller.
fn to_wire(set: &IdSet) -> Wire {
    let mut set = set.clone();
    set.compact();
    match set.repr {
        Repr::List(ids) => (true, ids, Vec::new()),
        Repr::Bits(words) => (true, Vec::new(), words),
    }
}

/// The set a wire value carries, when it is valid for `bound`.
fn from_wire((valid, ids, words): Wire, bound: usize) -> Option<IdSet> {
    if !valid {
        return None;
    }
    if words.is_empty() {
        let ascending = ids.windows(2).all(|w| w[0] < w[1]);
        let below = ids.last().is_none_or(|&id| (id as usize) < bound);
        return (ascending && below).then_some(IdSet {
            bound,
            repr: Repr::List(ids),
        });
    }
    IdSet::from_words(bound, words)
}

/// Two wire values combined, in the smaller form for the result.
fn merge(a: Wire, b: Wire, bound: usize, how: Combine) -> Wire {
    let (Some(mut a), Some(b)) = (from_wire(a, bound), from_wire(b, bound)) else {
        return (false, Vec::new(), Vec::new());
    };
    let combined = match how {
        Combine::Union => a.union_with(&b),
        Combine::Intersection => a.intersect_with(&b),
    };
    match combined {
        Ok(()) => to_wire(&a),
        Err(_) => (false, Vec::new(), Vec::new()),
    }
}
