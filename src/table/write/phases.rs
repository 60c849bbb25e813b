//! How long each phase of this thread's last distributed write took, so that a benchmark
//! can tell the cost of the whole-or-nothing protocol (temporary, flush, rename) from that
//! of formatting and writing. Recording costs one clock read per phase.

use std::cell::RefCell;
use std::time::{Duration, Instant};

thread_local! {
    /// The phases of the last write made on this thread (one rank's thread).
    static PHASES: RefCell<Vec<(&'static str, Duration)>> = const { RefCell::new(Vec::new()) };
}

/// Times the phases of one write; each [`Clock::lap`] ends one.
pub(super) struct Clock {
    /// When the current phase began.
    since: Instant,
}

impl Clock {
    /// Starts timing a new write, forgetting the last one's phases.
    pub(super) fn start() -> Clock {
        PHASES.with(|p| p.borrow_mut().clear());
        Clock {
            since: Instant::now(),
        }
    }

    /// Ends the phase called `name`.
    pub(super) fn lap(&mut self, name: &'static str) {
        let now = Instant::now();
        let took = now - self.since;
        self.since = now;
        PHASES.with(|p| p.borrow_mut().push((name, took)));
    }
}

/// The phases of the last write on this thread, in order.
pub(super) fn last() -> Vec<(&'static str, Duration)> {
    PHASES.with(|p| p.borrow().clone())
}
