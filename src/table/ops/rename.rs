//! Renaming columns: a new schema over the same chunks (nothing is copied or sent).

use super::super::DistFrame;
use crate::error::{DataError, Result};
use crate::frame::Schema;

impl<'n> DistFrame<'n> {
    /// Collective: the same rows and columns, column `old` renamed `new` for each pair
    /// of `pairs` (the other columns keep their names). An unknown `old` is an error
    /// listing the columns; so is a result with two columns of one name, or a column
    /// renamed twice. The chunks are shared, not copied.
    ///
    /// ```
    /// # let node = eau2::Node::standalone()?;
    /// use eau2::table::DistFrame;
    /// let f = DistFrame::from_array(&node, &eau2::kv::Key::new("f", 0), &[1, 2])?;
    /// let g = f.rename(&[("c0", "pid")])?;
    /// assert_eq!(g.schema().names(), ["pid"]);
    /// # Ok::<(), eau2::Error>(())
    /// ```
    pub fn rename(&self, pairs: &[(&str, &str)]) -> Result<DistFrame<'n>> {
        // Shares its input's chunks: re-run on resume rather than saved (see memo::shared).
        crate::table::memo::shared(self.node, || {
            let old = self.schema();
            let mut names: Vec<String> = old.names().to_vec();
            let mut renamed = vec![false; names.len()];
            for &(from, to) in pairs {
                let c = old.index(from)?;
                if std::mem::replace(&mut renamed[c], true) {
                    return Err(DataError::Schema(format!(
                        "rename: column {from:?} is renamed twice"
                    ))
                    .into());
                }
                names[c] = to.to_string();
            }
            let mut schema = Schema::default();
            for (&t, name) in old.types().iter().zip(names) {
                schema.try_push(t, name).map_err(|e| {
                    DataError::Schema(format!(
                        "rename {pairs:?} of [{}]: {e}",
                        old.names().join(", ")
                    ))
                })?;
            }
            let rows = self
                .local_chunks()
                .into_iter()
                .map(|i| Ok((i as u64, self.row_chunk(i)?)))
                .collect::<Result<Vec<_>>>()?;
            DistFrame::finish_chunks(self.node, &schema, rows)
        })
    }
}
