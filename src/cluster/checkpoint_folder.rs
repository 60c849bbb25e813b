//! The per-node state of checkpoints ([`Node::checkpoint`](super::Node::checkpoint)):
//! the job's folder on this host and the count of checkpoints this attempt has saved.
//! Kept apart from the checkpoint logic, as `temps` is from the operators, so that the
//! node that owns it needs nothing from the module that uses the node.

use std::path::PathBuf;
use std::sync::atomic::AtomicU64;

/// The job's checkpoint folder and the count of checkpoints this attempt has saved.
pub(crate) struct CheckpointFolder {
    /// `$TMPDIR/NAME` on this host.
    pub(super) dir: PathBuf,
    /// The attempt, which names this attempt's checkpoints.
    pub(super) epoch: u32,
    /// How many checkpoints this attempt has begun.
    pub(super) saved: AtomicU64,
}

impl CheckpointFolder {
    /// The folder `name` under this host's temporary folder, for attempt `epoch`.
    pub(crate) fn new(name: &str, epoch: u32) -> CheckpointFolder {
        CheckpointFolder {
            dir: std::env::temp_dir().join(name),
            epoch,
            saved: AtomicU64::new(0),
        }
    }
}
