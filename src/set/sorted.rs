//! Set operations on ascending `u32` lists without repeats, by one linear merge each.

use std::cmp::Ordering;

/// Runs a merge of `a` and `b`, keeping ids only in `a` when `left`, in both when
/// `both`, only in `b` when `right`.
fn merge(a: &[u32], b: &[u32], left: bool, both: bool, right: bool) -> Vec<u32> {
    let mut out = Vec::with_capacity(if right { a.len() + b.len() } else { a.len() });
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            Ordering::Less => {
                if left {
                    out.push(a[i]);
                }
                i += 1;
            }
            Ordering::Greater => {
                if right {
                    out.push(b[j]);
                }
                j += 1;
            }
            Ordering::Equal => {
                if both {
                    out.push(a[i]);
                }
                i += 1;
                j += 1;
            }
        }
    }
    if left {
        out.extend_from_slice(&a[i..]);
    }
    if right {
        out.extend_from_slice(&b[j..]);
    }
    out
}

/// The ids in `a` or `b`.
pub(super) fn union(a: &[u32], b: &[u32]) -> Vec<u32> {
    merge(a, b, true, true, true)
}

/// The ids in both `a` and `b`.
pub(super) fn intersection(a: &[u32], b: &[u32]) -> Vec<u32> {
    merge(a, b, false, true, false)
}

/// The ids in `a` and not in `b`.
pub(super) fn difference(a: &[u32], b: &[u32]) -> Vec<u32> {
    merge(a, b, true, false, false)
}
