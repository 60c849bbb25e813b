//! The per-node state of the temporary frames that operators make (their names, and the
//! handles dropped since the last operator). Kept with the node that owns it, so that
//! the runtime needs nothing from the table layer above it.

use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;

/// The per-node state of temporary frames: the counter that names them and the names
/// dropped since the last operator.
#[derive(Default)]
pub(crate) struct Temps {
    next: AtomicU64,
    dropped: Mutex<Vec<String>>,
}

impl Temps {
    /// A fresh name; every rank draws the same sequence.
    pub(crate) fn fresh(&self) -> String {
        format!("~{}", self.next.fetch_add(1, Ordering::Relaxed))
    }

    /// Notes that this rank dropped its handle on the temporary frame `name`.
    pub(crate) fn dropped(&self, name: &str) {
        self.dropped.lock().push(name.to_string());
    }

    /// The names dropped since the last call, for the operator that frees them.
    pub(crate) fn take_dropped(&self) -> Vec<String> {
        std::mem::take(&mut *self.dropped.lock())
    }
}
