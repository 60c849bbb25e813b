//! Aggregates over the whole frame (polars' `df.select(pl.col(..).sum(), ...)`, SQL's
//! aggregates without `GROUP BY`).

use super::group::Agg;
use crate::error::Result;
use crate::table::DistFrame;

impl<'n> DistFrame<'n> {
    /// Collective: one row with one column per aggregate of `aggs`, over every row of
    /// the frame; the same as a group-by on no columns. An empty frame gives one row
    /// too, as in SQL: counts 0, integer sums 0, and missing minima, maxima and means.
    ///
    /// ```
    /// # let node = eau2::Node::standalone()?;
    /// use eau2::table::{Agg, DistFrame};
    /// let f = DistFrame::from_array(&node, &eau2::kv::Key::new("f", 0), &[3, 1, 4])?;
    /// let totals = f.agg(&[Agg::sum("c0"), Agg::max("c0"), Agg::count()])?;
    /// assert_eq!(totals.lines()?, ["8 4 3"]);
    /// # Ok::<(), eau2::Error>(())
    /// ```
    pub fn agg(&self, aggs: &[Agg]) -> Result<DistFrame<'n>> {
        self.group_by(&[])?.agg(aggs)
    }
}
