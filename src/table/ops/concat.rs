//! Concatenation (SQL's `UNION ALL`, polars' `concat`): the rows of several frames of one
//! schema, one frame after the other.
//!
//! No row moves and no value is copied: each rank stores the chunks it already holds of
//! every input under the new frame's name (the same decoded chunks, shared), and the new
//! descriptor orders them input by input. The cost is one all-gather of chunk counts.

use super::super::DistFrame;
use crate::error::{DataError, Result};
use crate::frame::Schema;

/// A schema as `name: TYPE, ...`, for errors that compare two.
pub(crate) fn describe(schema: &Schema) -> String {
    schema
        .names()
        .iter()
        .zip(schema.types())
        .map(|(n, t)| format!("{n}: {t}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl<'n> DistFrame<'n> {
    /// Collective: the rows of `frames`, the first frame's rows first, each frame's in
    /// its own order. Every frame must have the same column names and types, in the
    /// same order (an error names both schemas otherwise); an empty list is an error.
    /// The result shares the inputs' chunks where they are stored: nothing is copied or
    /// sent, and freeing an input does not affect it.
    ///
    /// ```
    /// # let node = eau2::Node::standalone()?;
    /// use eau2::kv::Key;
    /// use eau2::table::DistFrame;
    /// let a = DistFrame::from_array(&node, &Key::new("a", 0), &[1, 2])?;
    /// let b = DistFrame::from_array(&node, &Key::new("b", 0), &[3])?;
    /// let both = DistFrame::concat(&[&a, &b])?;
    /// assert_eq!(both.lines()?, ["1", "2", "3"]);
    /// # Ok::<(), eau2::Error>(())
    /// ```
    pub fn concat(frames: &[&DistFrame<'n>]) -> Result<DistFrame<'n>> {
        let Some(first) = frames.first() else {
            return Err(DataError::Schema("concat of no frames: give at least one".into()).into());
        };
        let schema = first.schema();
        for (i, f) in frames.iter().enumerate().skip(1) {
            if f.schema() != schema {
                return Err(DataError::Schema(format!(
                    "concat: frame {i} ({}) has columns [{}] but frame 0 ({}) has [{}]; \
                     rename, select or cast so that names and types match in order",
                    f.key(),
                    describe(f.schema()),
                    first.key(),
                    describe(schema)
                ))
                .into());
            }
            if !std::ptr::eq(f.node, first.node) {
                return Err(DataError::Schema(format!(
                    "concat: frame {i} ({}) belongs to another node than frame 0 ({})",
                    f.key(),
                    first.key()
                ))
                .into());
            }
        }
        // Chunk i of input f takes place (chunks before f) + i.
        // Shares its inputs' chunks: re-run on resume rather than saved (see memo::shared).
        crate::table::memo::shared(first.node, || {
            let mut rows = Vec::new();
            let mut before = 0u64;
            for f in frames {
                for i in f.local_chunks() {
                    rows.push((before + i as u64, f.row_chunk(i)?));
                }
                before += f.chunk_count() as u64;
            }
            DistFrame::finish_chunks(first.node, schema, rows)
        })
    }
}
