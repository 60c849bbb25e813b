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
pub(crate) mod is_in;
pub(crate) mod join;
pub(crate) mod keys;
pub(crate) mod pairs;
pub(crate) mod radix;
pub(crate) mod rename;
pub(crate) mod rows;
pub(crate) mod shuffle;
pub(crate) mod sort;
pub(crate) mod sorted_pairs;
pub(crate) mod take;
pub(crate) mod types;

use std::sync::Arc;

use super::DistFrame;
use crate::cluster::Node;
use crate::error::Result;
use crate::frame::{Chunk, Column, DataFrame, Schema, DEFAULT_CHUNK_LEN};
use crate::kv::Key;
use shuffle::Source;

pub use group::Agg;
pub use join::JoinKind;

/// Frees, at this rank, the temporary frames dropped before this point. Called by every
/// operator once it has passed a collective that every rank reaches only after it
/// finished what came before.
fn reclaim(node: &Node) {
    let names = node.temps().take_dropped();
    for name in names {
        node.kv().free_family(&name);
    }
}

/// The name of column `i` of `schema` (every column has one).
pub(crate) fn column_name(schema: &Schema, i: usize) -> String {
    schema.names()[i].clone()
}

/// The indices of the columns `names`.
pub(crate) fn column_indices(schema: &Schema, names: &[&str]) -> Result<Vec<usize>> {
    Ok(names
        .iter()
        .map(|n| schema.index(n))
        .collect::<Result<_, _>>()?)
}

impl<'n> DistFrame<'n> {
    /// This rank's row chunks, for the operators.
    pub(crate) fn sources(&self) -> Result<Vec<Source>> {
        self.local_chunks()
            .into_iter()
            .map(|i| {
                Ok(Source {
                    chunks: self.row_chunk(i)?,
                    first_row: self.desc.chunks[i].start,
                })
            })
            .collect()
    }

    /// The chunk length for an operator's result: the input's longest chunk (so tests
    /// with small chunks get small ones), or the default for an empty input.
    pub(crate) fn out_chunk_len(&self) -> usize {
        let longest = self.desc.chunks.iter().map(|c| c.rows).max().unwrap_or(0);
        if longest == 0 {
            DEFAULT_CHUNK_LEN
        } else {
            longest as usize
        }
    }

    /// Collective: stores every rank's `local` rows as a new temporary frame, ordered by
    /// rank, and frees the temporary frames this rank dropped before.
    pub(crate) fn finish(node: &'n Node, local: &DataFrame) -> Result<DistFrame<'n>> {
        let order = vec![node.rank() as u64; local.chunk_count()];
        DistFrame::finish_ordered(node, local, &order)
    }

    /// Collective: stores every rank's `local` chunks, which stay at that rank, as a new
    /// temporary frame whose chunks are ordered by `order` (one entry per local chunk,
    /// then by rank; see `assemble`), and frees the temporary frames this rank dropped
    /// before. For operators whose result keeps its rows where they were.
    pub(crate) fn finish_ordered(
        node: &'n Node,
        local: &DataFrame,
        order: &[u64],
    ) -> Result<DistFrame<'n>> {
        let key = Key::new(node.temps().fresh(), 0);
        let mut frame = DistFrame::assemble(node, &key, local, order)?;
        frame.temp = true;
        reclaim(node);
        Ok(frame)
    }

    /// Collective: a new temporary frame of `schema` made of row chunks this rank holds
    /// (one chunk per column each, as [`DistFrame::row_chunk`] returns them), shared,
    /// not copied, each with its place in the frame's order (see
    /// [`DistFrame::finish_ordered`]). Chunks without rows are left out: they would cost
    /// keys and hold nothing.
    pub(crate) fn finish_chunks(
        node: &'n Node,
        schema: &Schema,
        rows: Vec<(u64, Vec<Arc<Chunk>>)>,
    ) -> Result<DistFrame<'n>> {
        let rows: Vec<(u64, Vec<Arc<Chunk>>)> = rows
            .into_iter()
            .filter(|(_, r)| r.first().is_some_and(|c| !c.is_empty()))
            .collect();
        let order: Vec<u64> = rows.iter().map(|(o, _)| *o).collect();
        let local = if rows.is_empty() {
            DataFrame::empty(schema.clone())
        } else {
            let mut columns: Vec<Vec<Arc<Chunk>>> = vec![Vec::new(); schema.width()];
            for (_, row) in rows {
                for (col, chunk) in columns.iter_mut().zip(row) {
                    col.push(chunk);
                }
            }
            let columns = columns
                .into_iter()
                .zip(schema.types())
                .map(|(chunks, &t)| Column::from_chunks(t, chunks))
                .collect::<Result<Vec<_>, _>>()?;
            DataFrame::new(schema.clone(), columns)?
        };
        DistFrame::finish_ordered(node, &local, &order)
    }

    /// Collective: removes the frame from the store. A barrier first, so that no rank
    /// still reads it; then each rank removes the chunks it holds (and rank 0 the
    /// descriptor) and keeps a tombstone, so any later read of the frame, by any rank,
    /// fails with an error saying it was freed. Works for any frame, temporary or not;
    /// its name is never reused.
    pub fn free(mut self) -> Result<()> {
        self.temp = false;
        self.node.barrier()?;
        self.node.kv().free_family(self.key.name());
        Ok(())
    }
}

impl Drop for DistFrame<'_> {
    /// A temporary frame (an operator's result) is freed lazily: see the module's notes.
    fn drop(&mut self) {
        if self.temp {
            self.node.temps().dropped(self.key.name());
        }
    }
}
