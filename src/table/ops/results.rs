//! What every operator shares: the row chunks it reads ([`DistFrame::sources`]), how its
//! result is stored under a fresh temporary name ([`DistFrame::finish`] and its
//! variants, which also free what this rank dropped before), and column names. Apart
//! from `ops/mod.rs`, which only declares and re-exports, so that operators depend on
//! this and nothing depends back on them.

use std::sync::Arc;

use super::shuffle::Source;
use crate::cluster::Node;
use crate::error::Result;
use crate::frame::{Chunk, Column, DataFrame, Schema, DEFAULT_CHUNK_LEN};
use crate::kv::Key;
use crate::table::DistFrame;

/// Frees, at this rank, the temporary frames dropped before this point. Called by every
/// operator once it has passed a collective that every rank reaches only after it
/// finished what came before.
pub(super) fn reclaim(node: &Node) {
    let names = node.temps().take_dropped();
    for name in names {
        node.comm().kv().free_family(&name);
    }
}

/// A local frame of `schema` from row chunks (one chunk per column each), in order; the
/// empty frame when there are none.
pub(crate) fn frame_of_row_chunks(
    schema: &Schema,
    rows: impl IntoIterator<Item = Vec<Arc<Chunk>>>,
) -> Result<DataFrame> {
    let mut columns: Vec<Vec<Arc<Chunk>>> = vec![Vec::new(); schema.width()];
    let mut any = false;
    for row in rows {
        any = true;
        for (col, chunk) in columns.iter_mut().zip(row) {
            col.push(chunk);
        }
    }
    if !any {
        return Ok(DataFrame::empty(schema.clone()));
    }
    let columns = columns
        .into_iter()
        .zip(schema.types())
        .map(|(chunks, &t)| Column::from_chunks(t, chunks))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(DataFrame::new(schema.clone(), columns)?)
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
        let local = frame_of_row_chunks(schema, rows.into_iter().map(|(_, row)| row))?;
        DistFrame::finish_ordered(node, &local, &order)
    }

    /// Collective: removes the frame from the store. A barrier first, so that no rank
    /// still reads it; then each rank removes the chunks it holds (and rank 0 the
    /// descriptor) and keeps a tombstone, so any later read of the frame, by any rank,
    /// fails with an error saying it was freed. Works for any frame, temporary or not;
    /// its name is never reused.
    pub fn free(mut self) -> Result<()> {
        self.temp = false;
        self.node.comm().barrier()?;
        self.node.comm().kv().free_family(self.key.name());
        Ok(())
    }
}
