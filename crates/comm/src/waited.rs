//! How long program threads have waited on the network: for messages, for a peer's
//! window to open, for the store's answers. Summed over threads in nanoseconds, with a
//! relaxed atomic; the clock is read only on paths that wait anyway.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// Time spent waiting, summed over the threads that waited.
#[derive(Default)]
pub(crate) struct WaitClock(AtomicU64);

impl WaitClock {
    /// Runs `wait`, counting its duration.
    pub(crate) fn time<T>(&self, wait: impl FnOnce() -> T) -> T {
        let started = Instant::now();
        let result = wait();
        self.add(started.elapsed());
        result
    }

    /// Counts `d` of waiting.
    pub(crate) fn add(&self, d: Duration) {
        self.0
            .fetch_add(d.as_nanos().min(u64::MAX as u128) as u64, Relaxed);
    }

    /// The total so far.
    pub(crate) fn total(&self) -> Duration {
        Duration::from_nanos(self.0.load(Relaxed))
    }
}
