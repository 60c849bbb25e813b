//! Row-wise operators: `filter`, `with_column` and `select` take closures over a
//! [`Row`] (or column names); `repartition` moves rows by key. The first three keep
//! every row where it is and the frame's row order; no data crosses the network.

use std::sync::Arc;

use rayon::prelude::*;

use super::shuffle::Source;
use super::{column_indices, column_name, reclaim};
use crate::error::{DataError, Error, Result};
use crate::frame::{
    filter_chunk_rows, take_rows, visit_chunk_rows, Chunk, Column, ColumnBuilder, DataFrame,
    Element, Row, Rower, Schema,
};
use crate::kv::Key;
use crate::table::DistFrame;
use parking_lot::Mutex;

/// The first error a closure returned, kept while the rows go on (a [`Rower`] cannot
/// stop early) and returned by the operator.
type FirstError = Mutex<Option<Error>>;

fn keep_first(slot: &FirstError, e: Error) {
    let mut first = slot.lock();
    if first.is_none() {
        *first = Some(e);
    }
}

/// A fallible predicate as a [`Rower`], for the visitors that drive rows.
struct Pred<'f, F> {
    f: &'f F,
    error: &'f FirstError,
}

impl<F> Clone for Pred<'_, F> {
    fn clone(&self) -> Self {
        Pred {
            f: self.f,
            error: self.error,
        }
    }
}

impl<F: Fn(&Row<'_>) -> Result<bool>> Rower for Pred<'_, F> {
    fn accept(&mut self, row: &Row<'_>) -> bool {
        (self.f)(row).unwrap_or_else(|e| {
            keep_first(self.error, e);
            false
        })
    }

    fn join(&mut self, _other: Self) {}
}

/// Pushes a closure's value for each row into a column.
struct Compute<'f, F> {
    f: &'f F,
    out: ColumnBuilder,
    error: Option<Error>,
}

impl<T: Element, F: Fn(&Row<'_>) -> Result<T>> Rower for Compute<'_, F> {
    fn accept(&mut self, row: &Row<'_>) -> bool {
        let pushed = (self.f)(row).and_then(|v| Ok(v.push_to_column(&mut self.out)?));
        if let Err(e) = pushed {
            // Keep the column's length right; the operator fails with the error anyway.
            self.out.push_missing();
            if self.error.is_none() {
                self.error = Some(e);
            }
        }
        true
    }

    fn join(&mut self, _other: Self) {}
}

impl<'n> DistFrame<'n> {
    /// Collective: a new frame of the rows for which `keep` is true, in order; each rank
    /// tests the rows it holds, on all cores, and the kept rows stay there. The closure
    /// returns a `Result` so that getters can use `?`: its first error (a wrong column
    /// name or type, say) is the operator's.
    ///
    /// ```
    /// # let node = eau2::Node::standalone()?;
    /// use eau2::table::DistFrame;
    /// let f = DistFrame::from_array(&node, &eau2::kv::Key::new("f", 0), &[1, 2, 3, 4])?;
    /// let even = f.filter(|row| Ok(row.get_as::<i32>("c0")?.is_some_and(|v| v % 2 == 0)))?;
    /// assert_eq!(even.nrows(), 2);
    /// # Ok::<(), eau2::Error>(())
    /// ```
    pub fn filter<F>(&self, keep: F) -> Result<DistFrame<'n>>
    where
        F: Fn(&Row<'_>) -> Result<bool> + Sync,
    {
        crate::table::memo::op(self.node, "filter", || {
            let key = Key::new(self.node.temps().fresh(), 0);
            let error = Mutex::new(None);
            let pred = Pred {
                f: &keep,
                error: &error,
            };
            let mut frame = self.filter_with(&key, &pred)?;
            if let Some(e) = error.into_inner() {
                // Every rank ran the collective filter; the failing ones report.
                return Err(e);
            }
            frame.temp = true;
            reclaim(self.node);
            Ok(frame)
        })
    }

    /// Collective: a new frame with a column `name` computed by `f` from each row (an
    /// `Option` result is missing when `None`; an error is the operator's); a column of
    /// that name is replaced, else the column is appended. Rows keep their place and order; the other columns'
    /// chunks are shared, not copied.
    ///
    /// ```
    /// # let node = eau2::Node::standalone()?;
    /// use eau2::table::DistFrame;
    /// let f = DistFrame::from_array(&node, &eau2::kv::Key::new("f", 0), &[1, 2, 3])?;
    /// let g = f.with_column("double", |row| Ok(row.get_as::<i32>("c0")?.map(|v| v * 2)))?;
    /// assert_eq!(g.get_as::<i32>(1, 2)?, Some(6));
    /// # Ok::<(), eau2::Error>(())
    /// ```
    pub fn with_column<T, F>(&self, name: &str, f: F) -> Result<DistFrame<'n>>
    where
        T: Element,
        F: Fn(&Row<'_>) -> Result<T> + Sync,
    {
        crate::table::memo::op(self.node, "with_column", || {
            let replaced = self.schema().index_of(name);
            let mut schema = Schema::default();
            for c in 0..self.ncols() {
                if Some(c) != replaced {
                    schema.push(
                        self.schema().types()[c],
                        Some(column_name(self.schema(), c)),
                    );
                }
            }
            schema.try_push(T::DTYPE, name)?;
            self.map_chunks(schema, |source| {
                let mut compute = Compute {
                    f: &f,
                    out: ColumnBuilder::new(T::DTYPE, source.chunks[0].len().max(1)),
                    error: None,
                };
                visit_chunk_rows(
                    self.schema(),
                    &source.chunks,
                    source.first_row,
                    &mut compute,
                )?;
                if let Some(e) = compute.error {
                    return Err(e);
                }
                let column = compute.out.finish();
                let mut chunks: Vec<Arc<Chunk>> = source
                    .chunks
                    .iter()
                    .enumerate()
                    .filter(|&(c, _)| Some(c) != replaced)
                    .map(|(_, c)| Arc::clone(c))
                    .collect();
                chunks.push(match column.chunks().first() {
                    Some(c) => Arc::clone(c),
                    None => Arc::new(crate::frame::ChunkBuilder::new(T::DTYPE, 0).finish()),
                });
                Ok(chunks)
            })
        })
    }

    /// Collective: a new frame of the columns `names`, in that order. Rows keep their
    /// place and order; chunks are shared, not copied.
    pub fn select(&self, names: &[&str]) -> Result<DistFrame<'n>> {
        // Shares its input's chunks: re-run on resume rather than saved (see memo::shared).
        crate::table::memo::shared(self.node, || {
            let cols = column_indices(self.schema(), names)?;
            let mut schema = Schema::default();
            for &c in &cols {
                schema.push(
                    self.schema().types()[c],
                    Some(column_name(self.schema(), c)),
                );
            }
            self.map_chunks(schema, |source| {
                Ok(cols
                    .iter()
                    .map(|&c| Arc::clone(&source.chunks[c]))
                    .collect())
            })
        })
    }

    /// Collective: the same rows, moved so that all rows with equal values in the
    /// columns `keys` are at one rank (the rank their hash picks). Rows keep the order
    /// they had within each sending rank.
    pub fn repartition(&self, keys: &[&str]) -> Result<DistFrame<'n>> {
        crate::table::memo::op(self.node, "repartition", || {
            let cols = column_indices(self.schema(), keys)?;
            let received = self.hash_exchange(&cols, false)?;
            DistFrame::finish(self.node, &received.frame)
        })
    }

    /// Collective: a frame of `schema` whose row chunk for each of this rank's row
    /// chunks is `f(chunk)`, in the same place and order.
    fn map_chunks(
        &self,
        schema: Schema,
        f: impl Fn(&Source) -> Result<Vec<Arc<Chunk>>> + Sync,
    ) -> Result<DistFrame<'n>> {
        let local = self.local_chunks();
        let sources = self.sources()?;
        let pieces: Vec<Vec<Arc<Chunk>>> = sources.par_iter().map(&f).collect::<Result<_>>()?;
        if let Some(bad) = pieces.iter().find(|p| p.len() != schema.width()) {
            return Err(Error::internal(format!(
                "an operator made {} columns for a schema of {}",
                bad.len(),
                schema.width()
            )));
        }
        let rows = local.iter().map(|&i| i as u64).zip(pieces).collect();
        DistFrame::finish_chunks(self.node, &schema, rows)
    }
}

impl<'n> DistFrame<'n> {
    /// Collective: the rows for which `rower.accept` is true, as a new distributed frame
    /// under `key`. Each rank filters the chunks it stores (on all cores) and keeps the
    /// result at home; the order of rows is kept. [`DistFrame::filter`] takes a closure.
    pub fn filter_with<R: Rower + Clone + Send + Sync>(
        &self,
        key: &Key,
        rower: &R,
    ) -> Result<DistFrame<'n>> {
        crate::table::memo::op(self.node, "filter_with", || {
            let local = self.local_chunks();
            let parts: Vec<DataFrame> = local
                .par_iter()
                .map(|&i| {
                    let chunks = self.row_chunk(i)?;
                    let mut r = rower.clone();
                    let keep = filter_chunk_rows(
                        self.schema(),
                        &chunks,
                        self.desc.chunks[i].start,
                        &mut r,
                    )?;
                    if keep.count_ones() == 0 {
                        // No chunk at all rather than an empty one: each would cost keys.
                        return Ok(DataFrame::empty(self.schema().clone()));
                    }
                    let columns = take_rows(&chunks, &keep)
                        .into_iter()
                        .zip(self.schema().types())
                        .map(|(chunk, &dtype)| Column::from_chunks(dtype, vec![Arc::new(chunk)]))
                        .collect::<Result<Vec<_>, DataError>>()?;
                    Ok(DataFrame::new(self.schema().clone(), columns)?)
                })
                .collect::<Result<_>>()?;
            // Each kept piece stays where its source chunk lives and takes its place in the
            // frame's order.
            let order: Vec<u64> = local
                .iter()
                .zip(&parts)
                .flat_map(|(&i, part)| std::iter::repeat_n(i as u64, part.chunk_count()))
                .collect();
            let kept = if parts.is_empty() {
                DataFrame::empty(self.schema().clone())
            } else {
                DataFrame::concat(parts)?
            };
            DistFrame::assemble(self.node, key, &kept, &order)
        })
    }
}
