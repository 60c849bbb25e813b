//! Membership filters (polars' `is_in`, SQL's `IN`): the rows whose value in one column
//! is among a list of values or among the values of another frame's column.
//!
//! Both are semi joins (see [`JoinKind::Semi`](super::JoinKind::Semi)) on one column, so a
//! missing value is never "in" anything, as in the joins. The list of values, or the
//! distinct values of the other column when there are at most
//! [`BROADCAST_MAX_ROWS`], is on every rank: the rows are then filtered where they are
//! and keep the frame's order, like [`DistFrame::filter`]. More distinct values than
//! that and the filter is a co-partitioned semi join: rows move to the rank their value's
//! hash picks, in no particular order.

use super::join::BROADCAST_MAX_ROWS;
use super::JoinKind;
use crate::error::{DataError, Result};
use crate::frame::{DataFrame, Element};
use crate::table::DistFrame;

impl<'n> DistFrame<'n> {
    /// Collective: the rows whose value in column `col` is one of `values` (every rank
    /// passes the same list). The list's element type must be the column's (`i32` for
    /// INT, `&str` for STRING, ...; an error names both otherwise); a `None` in the list
    /// matches nothing. Rows stay where they are, in order; nothing crosses the network.
    ///
    /// ```
    /// # let node = eau2::Node::standalone()?;
    /// use eau2::table::DistFrame;
    /// let f = DistFrame::from_array(&node, &eau2::kv::Key::new("f", 0), &[4, 1, 2, 4])?;
    /// assert_eq!(f.filter_in_list("c0", &[4, 2])?.lines()?, ["4", "2", "4"]);
    /// # Ok::<(), eau2::Error>(())
    /// ```
    pub fn filter_in_list<T: Element>(&self, col: &str, values: &[T]) -> Result<DistFrame<'n>> {
        crate::table::memo::op(self.node, "filter_in_list", || {
            let c = self.schema().index(col)?;
            let have = self.schema().types()[c];
            if have != T::DTYPE {
                return Err(DataError::Schema(format!(
                    "filter_in_list on column {col:?}: the column is {have} but the values are {}",
                    T::DTYPE
                ))
                .into());
            }
            self.semi_join_local(col, &DataFrame::from_array(values))
        })
    }

    /// Collective: the rows whose value in column `col` is among the values of column
    /// `other_col` of `other` (of the same type; an error names both otherwise). See the
    /// module's notes for where the rows end up: with at most [`BROADCAST_MAX_ROWS`]
    /// distinct values in `other_col`, they stay where they are, in order.
    ///
    /// ```
    /// # let node = eau2::Node::standalone()?;
    /// use eau2::kv::Key;
    /// use eau2::table::DistFrame;
    /// let f = DistFrame::from_array(&node, &Key::new("f", 0), &[4, 1, 2, 4])?;
    /// let wanted = DistFrame::from_array(&node, &Key::new("wanted", 0), &[2, 4, 4])?;
    /// assert_eq!(f.filter_in("c0", &wanted, "c0")?.lines()?, ["4", "2", "4"]);
    /// # Ok::<(), eau2::Error>(())
    /// ```
    pub fn filter_in(
        &self,
        col: &str,
        other: &DistFrame<'_>,
        other_col: &str,
    ) -> Result<DistFrame<'n>> {
        crate::table::memo::op(self.node, "filter_in", || {
            let (a, b) = (self.schema().index(col)?, other.schema().index(other_col)?);
            let (ta, tb) = (self.schema().types()[a], other.schema().types()[b]);
            if ta != tb {
                return Err(DataError::Schema(format!(
                    "filter_in: column {col:?} is {ta} but column {other_col:?} of frame {} is {tb}",
                    other.key()
                ))
                .into());
            }
            let set = other.select(&[other_col])?.distinct()?;
            if set.nrows() <= BROADCAST_MAX_ROWS {
                let values = set.all_rows()?;
                return self.semi_join_local(col, &values);
            }
            self.join_on(&set, &[col], &[other_col], JoinKind::Semi)
        })
    }
}
