//! The first rows of a frame (polars' `head`, SQL's `LIMIT`).
//!
//! Every rank knows from the descriptor which chunks hold the first `n` rows, so each
//! keeps those it stores (shared, not copied) and cuts the one the limit falls in; no
//! other chunk is read and no row moves.

use std::sync::Arc;

use super::super::DistFrame;
use super::take::take;
use crate::error::Result;

impl<'n> DistFrame<'n> {
    /// Collective: the first `n` rows in the frame's order (all of them when it has
    /// fewer), where they are stored. Only the chunks holding those rows are touched.
    ///
    /// ```
    /// # let node = eau2::Node::standalone()?;
    /// use eau2::table::DistFrame;
    /// let f = DistFrame::from_array(&node, &eau2::kv::Key::new("f", 0), &[5, 4, 3, 2])?;
    /// assert_eq!(f.head(2)?.lines()?, ["5", "4"]);
    /// # Ok::<(), eau2::Error>(())
    /// ```
    pub fn head(&self, n: u64) -> Result<DistFrame<'n>> {
        crate::table::memo::op(self.node, "head", || {
            let mut rows = Vec::new();
            for i in self.local_chunks() {
                let info = self.desc.chunks[i];
                if info.start >= n {
                    continue;
                }
                let keep = (n - info.start).min(info.rows);
                let chunks = self.row_chunk(i)?;
                let chunks = if keep == info.rows {
                    chunks
                } else {
                    let picks: Vec<u32> = (0..keep as u32).collect();
                    chunks.iter().map(|c| Arc::new(take(c, &picks))).collect()
                };
                rows.push((i as u64, chunks));
            }
            DistFrame::finish_chunks(self.node, self.schema(), rows)
        })
    }

    /// Collective: the same as [`DistFrame::head`], under SQL's name.
    pub fn limit(&self, n: u64) -> Result<DistFrame<'n>> {
        crate::table::memo::op(self.node, "limit", || self.head(n))
    }
}
