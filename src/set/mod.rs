//! Sets of integer ids below a bound, held by each rank, and the collectives that
//! combine them across ranks.
//!
//! An [`IdSet`] holds ids `0..bound` in one of two forms: an ascending `u32` list while
//! the set is small, or one bit per id (`u64` words) once it is large. A list costs 32
//! bits per id and a bitmap one bit per id of the whole space, so a set of a few hundred
//! ids out of millions travels and merges as a list, and a set of a tenth of the space
//! as a bitmap. [`AtomicIds`] is the form many threads mark at once (a parallel scan);
//! it becomes an `IdSet` when they are done.
//!
//! The collectives [`union`], [`intersection`] and [`difference`] take each rank's local
//! set and give every rank the same result. They choose the form of every message from
//! the sizes the ranks report, so ranks need not agree on forms beforehand (one rank may
//! pass a list and another a bitmap). Ranks must pass sets of the same bound; if they do
//! not, every rank fails with an error naming the ranks and bounds.
//!
//! ```
//! use eau2::set::{self, IdSet};
//!
//! // Four ranks as threads; each found the ids 10 * rank and 1000.
//! let results = eau2::run_local(4, |node| {
//!     let local = IdSet::from_ids(2000, vec![10 * node.rank() as u32, 1000])?;
//!     let all = set::union(node, &local)?;
//!     Ok(all.to_vec())
//! })?;
//! assert!(results.iter().all(|ids| ids == &[0, 10, 20, 30, 1000]));
//! # Ok::<(), eau2::Error>(())
//! ```

mod atomic;
mod collective;
mod id_set;
mod sorted;

pub use atomic::AtomicIds;
pub use collective::{difference, intersection, union};
pub use id_set::{IdSet, Iter};
