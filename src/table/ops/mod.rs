//! Relational operators on distributed frames: filter, with_column, select, repartition,
//! group-by with aggregates, join, sort, top-k and distinct.
//!
//! Every operator is collective (every rank calls it, in the same order, with the same
//! arguments) and fully distributed: each rank works on the rows it holds, on all its
//! cores, and rows cross the network only through the all-to-all of [`shuffle`] (or an
//! all-gather of a small side or of a few candidates), never through one rank. Results
//! are new frames whose rows stay where they were computed.
//!
//! - [`keys`]: one byte encoding of key columns for equality, hashing and order;
//! - [`shuffle`]: rows sent to the rank a function picks, in bounded rounds;
//! - [`rows`]: filter, with_column, select (closures over a [`Row`](crate::frame::Row));
//! - [`group`]: group-by with partial aggregation before the exchange, distinct;
//! - [`join`]: hash join, co-partitioned or broadcast;
//! - [`sort`]: sample sort and top-k;
//! - [`concat`], [`head`], [`rename`]: new frames over the chunks already stored (no row
//!   moves);
//! - [`is_in`]: filters by membership in a list or in another frame's column;
//! - [`global`]: aggregates over the whole frame.
//!
//! Columns are named by their names ([`Schema::index`]: an unknown name is an error
//! listing the columns).
//!
//! **Names of results.** An operator's result is stored under a fresh name `~N`, where N
//! counts the temporary frames this rank's [`Node`] made; every rank makes them in the
//! same SPMD order, so every rank picks the same name. Names starting with `~` are
//! reserved for them.
//!
//! **Freeing.** [`DistFrame::free`] is collective: a barrier (so no rank still reads the
//! frame), then every rank removes the chunks it holds and leaves a tombstone, so a later
//! read of the frame fails with a clear error rather than waiting. Dropping the handle
//! of an operator's result frees it too, lazily: the drop only notes the name, and this
//! rank removes the chunks it holds once it has passed the all-gather of its next
//! operator, which every rank reaches only after finishing whatever it did before. So a
//! frame dropped at the same point of the program on every rank is always safe to read
//! until then; a rank that keeps reading a frame that another rank dropped, past that
//! rank's next operator, gets the "freed" error, never a hang or wrong data.

pub(crate) mod concat;
pub(crate) mod global;
pub(crate) mod group;
pub(crate) mod head;
pub(crate) mod index;
pub(crate) mod is_in;
pub(crate) mod join;
pub(crate) mod keys;
pub(crate) mod pairs;
pub(crate) mod radix;
pub(crate) mod rename;
mod results;
pub(crate) mod rows;
pub(crate) mod shuffle;
pub(crate) mod sort;
pub(crate) mod sorted_pairs;
pub(crate) mod take;
pub(crate) mod types;

pub use group::Agg;
pub use join::JoinKind;
use results::reclaim;
pub(crate) use results::{column_indices, column_name, frame_of_row_chunks};
