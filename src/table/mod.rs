//! Distributed data frames: each column a distributed array of row chunks in the store.
//!
//! A [`DistFrame`] is a handle on a frame stored under a [`Key`](crate::kv::Key): its [`Descriptor`]
//! (schema, and each row chunk's first row, length and home rank) is the value of that
//! key, and column `c`'s chunk `i` is a value homed at chunk `i`'s home, so a rank that
//! owns chunk `i` owns whole rows. Frames are immutable, like every value in the store,
//! so any rank may read any part of one at any time without coordination.
//!
//! Frames come into being in two ways:
//! - one rank *publishes* a local [`DataFrame`](crate::frame::DataFrame) (from an array, a scalar or a writer),
//!   spreading its chunks over the ranks round-robin;
//! - every rank contributes its own rows in a *collective* build
//!   ([`DistFrame::from_local_parts`], [`DistFrame::read_with`] of a SoR or CSV file):
//!   each rank keeps its chunks at home, so no data crosses the network, and rows are
//!   ordered by rank.
//!
//! Work then runs where the data is: [`DistFrame::local_map`] visits this rank's chunks
//! on all cores; [`DistFrame::map`] visits every row in order, fetching chunks ahead.
//! A frame goes out to files collectively ([`DistFrame::write_csv`],
//! [`DistFrame::write_sor`]): each rank writes the rows it stores at their offset in one
//! file, or into a part file of its own.
//!
//! ```
//! use eau2::table::DistFrame;
//! use eau2::frame::{Row, Rower};
//! use eau2::kv::Key;
//! use eau2::Node;
//!
//! #[derive(Clone, Default)]
//! struct Sum(i64);
//! impl Rower for Sum {
//!     fn accept(&mut self, row: &Row<'_>) -> bool {
//!         self.0 += row.get_as::<i32>(0).expect("column 0 is an INT").unwrap_or(0) as i64;
//!         true
//!     }
//!     fn join(&mut self, other: Self) {
//!         self.0 += other.0;
//!     }
//! }
//!
//! let node = Node::standalone().unwrap();
//! let key = Key::new("numbers", 0);
//! let values: Vec<i32> = (1..=100).collect();
//! let frame = DistFrame::from_array(&node, &key, &values).unwrap();
//! let mut sum = Sum::default();
//! frame.local_map(&mut sum).unwrap();
//! // Every rank sums what it owns; the totals meet at rank 0.
//! let total = node.comm().reduce(0, sum.0, |a, b| a + b).unwrap();
//! assert_eq!(total, Some(5050));
//! ```

mod descriptor;
mod dist_frame;
pub(crate) mod memo;
mod ops;
mod quick;
mod read;
mod write;

pub use descriptor::{ChunkInfo, Descriptor};
pub use dist_frame::DistFrame;
pub use ops::group::GroupBy;
pub use ops::join::{BROADCAST_MAX_BYTES, BROADCAST_MAX_ROWS};
pub use ops::shuffle::ROUND_BYTES;
pub use ops::sort::SAMPLES_PER_RANK;
pub use ops::{Agg, JoinKind};
pub use read::{open_part, Cmp, Filter, Format, ReadOptions, Scalar};
#[doc(hidden)]
pub use write::set_write_buffers;
