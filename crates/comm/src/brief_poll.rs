//! Polling for a little while before sleeping, for waits that are usually short.
//!
//! A reply or message from a peer on the same host arrives 8-30 us after it is asked
//! for. Putting the waiting thread to sleep and having the network thread wake it costs
//! about as much again (a futex wake and, on a VM, often an idle vCPU's wake-up), so a
//! waiter first polls for [`POLL_BEFORE_SLEEP`]: that saves the hand-off on the common
//! path and costs at most that much CPU on a slow one.

use std::time::{Duration, Instant};

/// How long a waiter polls before it sleeps.
pub(crate) const POLL_BEFORE_SLEEP: Duration = Duration::from_micros(40);

/// Spins for the first few polls, then yields, so that the network thread delivering
/// what we wait for can run even when every core is busy.
const SPINS: u32 = 64;

/// The polling phase of one wait.
pub(crate) struct BriefPoll {
    start: Instant,
    polls: u32,
}

impl BriefPoll {
    /// Starts the polling phase.
    pub(crate) fn new() -> BriefPoll {
        BriefPoll {
            start: Instant::now(),
            polls: 0,
        }
    }

    /// Pauses briefly and returns true while the phase lasts; false once the caller
    /// should sleep instead.
    pub(crate) fn again(&mut self) -> bool {
        self.polls += 1;
        if self.polls <= SPINS {
            std::hint::spin_loop();
            true
        } else if self.start.elapsed() < POLL_BEFORE_SLEEP {
            std::thread::yield_now();
            true
        } else {
            false
        }
    }
}
