//! Hash joins: co-partitioned, or with the small side broadcast.
//!
//! - **Co-partitioned**: both sides' rows go to the rank their key's hash picks (one
//!   exchange each, the same hash for both), and each rank joins what it received.
//! - **Broadcast**: when the right side is small, every rank gets all of it (one
//!   all-gather of its rows, no row of the left side moves) and joins it with the left
//!   rows it holds; the result keeps the left side's row order. The right side is small
//!   when its values take at most [`BROADCAST_MAX_BYTES`] and sending it to every other
//!   rank moves fewer rows than moving the left side would (right rows x (n - 1) <= left
//!   rows). Every rank decides from the frames' descriptors and the same sum of the
//!   right side's bytes, so all decide alike.
//!
//! The right side is indexed by key in the layout its keys suit best (see [`index`]):
//! a slot per value for integer ids in a narrow range, an open-addressing table of
//! whole keys for keys of up to 16 bytes, a hash table of encoded keys for longer ones.
//!
//! [`index`]: super::index
//!
//! As in SQL and polars, a key with a missing value never matches: an inner join drops
//! such rows, a left join keeps the left row with missing right columns, a semi join
//! drops it and an anti join keeps it. The result of an inner or left join has the left
//! columns, then the right columns but its keys; a right column named like a left one
//! gets the suffix `_right`. A semi or anti join's result has the left columns only, each
//! left row at most once: it only asks whether a match exists, so only the right side's
//! key columns are read and sent.

use std::sync::Arc;
use std::time::Instant;

use rayon::prelude::*;

use super::index::Index;
use super::shuffle::{decode_blocks, encode_blocks, Block, Collector, Source};
use super::take::{build, build_columns, NO_ROW};
use super::{column_indices, column_name};
use crate::error::{DataError, Result};
use crate::frame::{Chunk, Column, DataFrame, Schema};
use crate::table::DistFrame;

/// The largest set of values that a membership filter ([`DistFrame::filter_in`]) holds on
/// every rank, in rows.
pub const BROADCAST_MAX_ROWS: u64 = 1 << 20;

/// The largest right side that a join broadcasts to every rank, in bytes of its values
/// (as [`Chunk::byte_size`] counts them): each rank holds a copy, and an index of it.
/// 256 MiB holds 30M rows of two INT columns, such as a dimension table of ids.
pub const BROADCAST_MAX_BYTES: u64 = 256 << 20;

/// Which rows a join keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JoinKind {
    /// Pairs of rows whose keys are equal (and present).
    Inner,
    /// Those pairs, and every left row without a match, with missing right columns.
    Left,
    /// Each left row that has at least one match, once, with the left columns only
    /// (SQL's `WHERE EXISTS`, polars' `how="semi"`).
    Semi,
    /// Each left row that has no match (a missing key never matches, so such rows are
    /// kept), with the left columns only (SQL's `WHERE NOT EXISTS`, polars'
    /// `how="anti"`).
    Anti,
}

impl JoinKind {
    /// Whether the result has the left columns only, each left row at most once.
    fn filters(self) -> bool {
        matches!(self, JoinKind::Semi | JoinKind::Anti)
    }
}

/// A join's plan: key columns on both sides, the result's schema and the right columns
/// it keeps.
struct Plan {
    left_on: Vec<usize>,
    right_on: Vec<usize>,
    right_kept: Vec<usize>,
    schema: Schema,
    kind: JoinKind,
}

impl<'n> DistFrame<'n> {
    /// Collective: joins this frame (left) with `right` on the columns `on`, named alike
    /// on both sides. See [`DistFrame::join_on`].
    pub fn join(
        &self,
        right: &DistFrame<'_>,
        on: &[&str],
        kind: JoinKind,
    ) -> Result<DistFrame<'n>> {
        crate::table::memo::op(self.node, "join", || self.join_on(right, on, on, kind))
    }

    /// Collective: joins this frame (left) with `right` where the left columns
    /// `left_on` equal the right columns `right_on` (pairwise, of the same types). See
    /// the module's notes for the strategy, missing keys and the result's columns.
    ///
    /// ```
    /// # let node = eau2::Node::standalone()?;
    /// use eau2::kv::Key;
    /// use eau2::table::{DistFrame, JoinKind};
    /// let ids = DistFrame::from_array(&node, &Key::new("ids", 0), &[2, 1, 2, 5])?;
    /// let names = DistFrame::from_array(&node, &Key::new("names", 0), &[1, 2])?
    ///     .with_column("name", |row| Ok(format!("#{}", row.get_as::<i32>("c0")?.unwrap_or(0))))?;
    /// let joined = ids.join(&names, &["c0"], JoinKind::Inner)?;
    /// assert_eq!(joined.nrows(), 3);
    /// # Ok::<(), eau2::Error>(())
    /// ```
    pub fn join_on(
        &self,
        right: &DistFrame<'_>,
        left_on: &[&str],
        right_on: &[&str],
        kind: JoinKind,
    ) -> Result<DistFrame<'n>> {
        crate::table::memo::op(self.node, "join_on", || {
            let plan = self.join_plan(right, left_on, right_on, kind)?;
            if kind.filters() {
                // Only the right keys matter: the other right columns are never read.
                let keys = right.select(right_on)?;
                let plan = self.join_plan(&keys, left_on, right_on, kind)?;
                return self.join_with_plan(&keys, plan);
            }
            self.join_with_plan(right, plan)
        })
    }

    /// Collective: the join `plan` of this frame with `right`, broadcast or
    /// co-partitioned (see the module's notes).
    fn join_with_plan(&self, right: &DistFrame<'_>, plan: Plan) -> Result<DistFrame<'n>> {
        // Each stage's time goes to the log (EAU2_LOG=debug), for tuning.
        let started = Instant::now();
        let lap = |stage: &str| {
            tracing::debug!(stage, ms = started.elapsed().as_millis() as u64, "join");
        };
        if self.broadcasts(right)? {
            let right_rows = right.all_rows()?;
            lap("right side gathered");
            let index = Index::new(&right_rows, &plan.right_on);
            drop(right_rows);
            lap("indexed");
            let out = self.probe_here(&index, &plan);
            lap("probed and stored");
            return out;
        }
        let left = self.hash_exchange(&plan.left_on, false)?.frame;
        lap("left side exchanged");
        let right = right.hash_exchange(&plan.right_on, false)?.frame;
        lap("right side exchanged");
        let index = Index::new(&right, &plan.right_on);
        drop(right);
        lap("indexed");
        let sources: Vec<Source> = (0..left.chunk_count())
            .map(|i| Source {
                chunks: left.row_chunk(i),
                first_row: left.chunk_rows(i).start,
            })
            .collect();
        drop(left);
        let pieces = sources
            .par_iter()
            .map(|s| probe(s, &index, &plan, self.out_chunk_len()))
            .collect::<Result<Vec<_>>>()?;
        drop((sources, index));
        lap("probed");
        let out = DistFrame::finish(self.node, &concat(pieces, &plan.schema)?);
        lap("stored");
        out
    }

    /// Collective: whether a join of this frame with `right` broadcasts the right side
    /// (see the module's notes). The row counts are in the frames' descriptors; the
    /// right side's bytes take an all-reduce, which every rank runs or skips alike.
    fn broadcasts(&self, right: &DistFrame<'_>) -> Result<bool> {
        let n = self.node.size() as u64;
        if right.nrows().saturating_mul(n - 1) > self.nrows() {
            return Ok(false);
        }
        let mut here = 0u64;
        for i in right.local_chunks() {
            for chunk in right.row_chunk(i)? {
                here += chunk.byte_size() as u64;
            }
        }
        let bytes = self.node.comm().all_reduce(here, |a, b| a + b)?;
        Ok(bytes <= BROADCAST_MAX_BYTES)
    }

    /// Collective: the left rows this rank holds joined with `index` (the whole right
    /// side, on every rank), kept where they are and in the frame's order.
    fn probe_here(&self, index: &Index, plan: &Plan) -> Result<DistFrame<'n>> {
        let local = self.local_chunks();
        let pieces = self
            .sources()?
            .par_iter()
            .map(|s| probe(s, index, plan, self.out_chunk_len()))
            .collect::<Result<Vec<_>>>()?;
        // Each piece came from one left chunk and takes its place in the frame.
        let order: Vec<u64> = pieces
            .iter()
            .zip(&local)
            .flat_map(|(p, &i)| std::iter::repeat_n(i as u64, p.chunk_count()))
            .collect();
        let frame = concat(pieces, &plan.schema)?;
        DistFrame::finish_ordered(self.node, &frame, &order)
    }

    /// Collective: the left rows this rank holds whose values in column `col` are among
    /// those of `set` (one column, the same on every rank), kept where they are and in
    /// order; a missing value is never among them.
    pub(crate) fn semi_join_local(&self, col: &str, set: &DataFrame) -> Result<DistFrame<'n>> {
        let plan = self.filter_plan(&[col], set.schema(), &[0], JoinKind::Semi)?;
        self.probe_here(&Index::new(set, &[0]), &plan)
    }

    /// Collective: a semi join (see [`JoinKind::Semi`]) on the columns `on`, named alike
    /// on both sides: the left rows that have a match, once each.
    ///
    /// ```
    /// # let node = eau2::Node::standalone()?;
    /// use eau2::kv::Key;
    /// use eau2::table::DistFrame;
    /// let commits = DistFrame::from_array(&node, &Key::new("commits", 0), &[3, 1, 3, 7])?;
    /// let known = DistFrame::from_array(&node, &Key::new("known", 0), &[3, 3, 5])?;
    /// assert_eq!(commits.semi_join(&known, &["c0"])?.lines()?, ["3", "3"]);
    /// assert_eq!(commits.anti_join(&known, &["c0"])?.lines()?, ["1", "7"]);
    /// # Ok::<(), eau2::Error>(())
    /// ```
    pub fn semi_join(&self, right: &DistFrame<'_>, on: &[&str]) -> Result<DistFrame<'n>> {
        crate::table::memo::op(self.node, "semi_join", || {
            self.join_on(right, on, on, JoinKind::Semi)
        })
    }

    /// Collective: an anti join (see [`JoinKind::Anti`]) on the columns `on`, named alike
    /// on both sides: the left rows without a match (rows with a missing key included).
    pub fn anti_join(&self, right: &DistFrame<'_>, on: &[&str]) -> Result<DistFrame<'n>> {
        crate::table::memo::op(self.node, "anti_join", || {
            self.join_on(right, on, on, JoinKind::Anti)
        })
    }

    fn join_plan(
        &self,
        right: &DistFrame<'_>,
        left_on: &[&str],
        right_on: &[&str],
        kind: JoinKind,
    ) -> Result<Plan> {
        let r = column_indices(right.schema(), right_on)?;
        self.filter_plan(left_on, right.schema(), &r, kind)
    }

    /// A join's plan against a right side of schema `rs` keyed by its columns `r`.
    fn filter_plan(
        &self,
        left_on: &[&str],
        rs: &Schema,
        r: &[usize],
        kind: JoinKind,
    ) -> Result<Plan> {
        let ls = self.schema();
        let l = column_indices(ls, left_on)?;
        let r = r.to_vec();
        let right_on: Vec<&str> = r.iter().map(|&c| rs.names()[c].as_str()).collect();
        if l.len() != r.len() || l.is_empty() {
            return Err(DataError::Schema(format!(
                "a join needs as many left keys as right keys, and at least one: {left_on:?} and {right_on:?}"
            ))
            .into());
        }
        for (k, (&a, &b)) in l.iter().zip(&r).enumerate() {
            if ls.types()[a] != rs.types()[b] {
                return Err(DataError::Schema(format!(
                    "join key {k}: left column {:?} is {} but right column {:?} is {}",
                    left_on[k],
                    ls.types()[a],
                    right_on[k],
                    rs.types()[b]
                ))
                .into());
            }
        }
        let mut schema = Schema::default();
        let mut names = Vec::new();
        for c in 0..ls.width() {
            let name = column_name(ls, c);
            schema.try_push(ls.types()[c], name.clone())?;
            names.push(name);
        }
        let right_kept: Vec<usize> = if kind.filters() {
            Vec::new()
        } else {
            (0..rs.width()).filter(|c| !r.contains(c)).collect()
        };
        for &c in &right_kept {
            let mut name = column_name(rs, c);
            if names.contains(&name) {
                name.push_str("_right");
            }
            schema.try_push(rs.types()[c], name.clone())?;
            names.push(name);
        }
        Ok(Plan {
            left_on: l,
            right_on: r,
            right_kept,
            schema,
            kind,
        })
    }

    /// Collective: every row of the frame, on every rank (an all-gather of each rank's
    /// rows, in frame order). For the small side of a broadcast join.
    pub(crate) fn all_rows(&self) -> Result<DataFrame> {
        let blocks: Vec<Block> = self
            .sources()?
            .into_iter()
            .map(|s| Block {
                rows: (s.first_row..s.first_row + s.chunks.first().map_or(0, |c| c.len() as u64))
                    .collect(),
                chunks: s.chunks.iter().map(|c| (**c).clone()).collect(),
            })
            .collect();
        let all = self.node.comm().all_gather_bytes(encode_blocks(&blocks)?)?;
        let mut decoded = Vec::new();
        for (from, bytes) in all.iter().enumerate() {
            for mut b in decode_blocks(bytes, self.schema(), from)? {
                let first = b.rows.first().copied().unwrap_or(0);
                b.rows.clear();
                decoded.push((first, b));
            }
        }
        decoded.sort_by_key(|(first, _)| *first);
        let mut collector = Collector::default();
        for (_, b) in decoded {
            collector.push(b);
        }
        Ok(collector.finish(self.schema())?.frame)
    }
}

/// Joins one left row chunk with the indexed right side.
fn probe(left: &Source, index: &Index, plan: &Plan, chunk_len: usize) -> Result<DataFrame> {
    let keys = index.probe_keys(&left.chunks, &plan.left_on);
    let mut lpicks = Vec::with_capacity(keys.len());
    let mut rpicks = Vec::with_capacity(keys.len());
    for (l, found) in index.find_all(&keys).into_iter().enumerate() {
        if plan.kind.filters() {
            if found.is_some() == (plan.kind == JoinKind::Semi) {
                lpicks.push(l as u32);
            }
            continue;
        }
        match found {
            // One match (a foreign key's): no chain to walk.
            Some((first, last)) if first == last => {
                lpicks.push(l as u32);
                rpicks.push(first);
            }
            Some(span) => {
                for r in index.rows(span) {
                    lpicks.push(l as u32);
                    rpicks.push(r);
                }
            }
            None if plan.kind == JoinKind::Left => {
                lpicks.push(l as u32);
                rpicks.push(NO_ROW);
            }
            None => {}
        }
    }
    let right: Vec<(&Chunk, &[u32])> = plan
        .right_kept
        .iter()
        .map(|&c| (&*index.chunks[c], rpicks.as_slice()))
        .collect();
    // Every left row once, in order (each row matched exactly one right row, as a
    // foreign key does, or a filter kept every row): the left chunks are the result's
    // as they are, and only the right columns are gathered.
    let every_left_row = !lpicks.is_empty()
        && lpicks.len() == keys.len()
        && lpicks.len() <= chunk_len
        && lpicks.iter().enumerate().all(|(i, &l)| l as usize == i);
    if every_left_row {
        let mut columns = left
            .chunks
            .iter()
            .map(|c| Column::from_chunks(c.dtype(), vec![Arc::clone(c)]))
            .collect::<Result<Vec<_>, _>>()?;
        columns.extend(build_columns(&right, chunk_len)?);
        return Ok(DataFrame::new(plan.schema.clone(), columns)?);
    }
    let mut sources: Vec<(&Chunk, &[u32])> = left
        .chunks
        .iter()
        .map(|c| (&**c, lpicks.as_slice()))
        .collect();
    sources.extend(right);
    build(&plan.schema, &sources, chunk_len)
}

/// The pieces' rows as one local frame.
fn concat(pieces: Vec<DataFrame>, schema: &Schema) -> Result<DataFrame> {
    let pieces: Vec<DataFrame> = pieces.into_iter().filter(|p| p.chunk_count() > 0).collect();
    if pieces.is_empty() {
        Ok(DataFrame::empty(schema.clone()))
    } else {
        Ok(DataFrame::concat(pieces)?)
    }
}
