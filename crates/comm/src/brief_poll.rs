//! Polling for a little while before sleeping, for waits that are usually short.
//!
//! A reply or message from a peer on the same host arrives 8-30 us after it is asked
//! for. Putting the waiting thread to sleep and having the network thread wake it costs
//! about as much again (a futex wake and, on a VM, often an idle vCPU's wake-up), so a
//! waiter first polls for [`POLL_BEFORE_SLEEP`]: that saves the hand-off on the common
//! path and costs at most that much CPU on a slow one.
//!
//! While the network thread is in the middle of reading a large body, the answer is
//! probably that body, landing in well under a millisecond: a waiter then polls for up
//! to [`POLL_WHILE_RECEIVING`], since being woken at the end would add a wake-up to
//! every such transfer (n = 2 broadcast of 1 MiB: about 40 us of 170).
//!
//! A wait for one peer's message polls by reading that peer's link itself
//! ([`Progress`]), as an MPI rank does inside its calls: the bytes then need no thread
//! hand-off at all.
//!
//! The [`WaitSignals`] that waiters and the network thread share live here too, so that
//! the network layer depends on this module and not the reverse.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How long a waiter polls before it sleeps.
pub(crate) const POLL_BEFORE_SLEEP: Duration = Duration::from_micros(40);

/// How long a waiter polls while the network thread is reading a large body.
pub(crate) const POLL_WHILE_RECEIVING: Duration = Duration::from_micros(500);

/// Spins for the first few polls, then yields, so that the network thread delivering
/// what we wait for can run even when every core is busy.
const SPINS: u32 = 64;

/// What program threads and the network thread tell each other about waiting.
#[derive(Default)]
pub(crate) struct WaitSignals {
    /// How many program threads wait for a peer now: the loop then polls after
    /// traffic instead of sleeping.
    pub expecting: AtomicUsize,
    /// From how many links the loop is reading a large body now: waiters then poll
    /// longer before they sleep (see [`BriefPoll::again`]).
    pub receiving: AtomicUsize,
}

impl WaitSignals {
    /// Counts the calling thread in [`WaitSignals::expecting`] until the guard drops.
    pub(crate) fn expect(&self) -> Expecting<'_> {
        self.expecting.fetch_add(1, Ordering::Relaxed);
        Expecting(&self.expecting)
    }
}

/// A program thread counted among those waiting for a peer, while it lives.
pub(crate) struct Expecting<'a>(&'a AtomicUsize);

impl Drop for Expecting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Reading a peer's link on the waiting thread.
pub(crate) trait Progress {
    /// Reads what rank `from` has sent, delivering it, unless another thread is reading
    /// that link right now. Returns whether any byte came.
    fn progress(&self, from: usize) -> bool;
}

/// One wait for a peer: its polling phase, and while it lives, a count in
/// [`WaitSignals::expecting`] (so the network thread polls too).
pub(crate) struct BriefPoll<'a> {
    start: Instant,
    polls: u32,
    signals: &'a WaitSignals,
    /// The link this wait reads itself while it polls, and from which rank.
    progress: Option<(&'a dyn Progress, usize)>,
    _expecting: Expecting<'a>,
}

impl<'a> BriefPoll<'a> {
    /// Starts a wait: counts it as expecting a peer, and starts the polling phase.
    pub(crate) fn new(signals: &'a WaitSignals) -> BriefPoll<'a> {
        BriefPoll {
            start: Instant::now(),
            polls: 0,
            signals,
            progress: None,
            _expecting: signals.expect(),
        }
    }

    /// [`BriefPoll::new`] for a message from rank `from`, whose link each poll reads
    /// through `progress`.
    pub(crate) fn with_progress(
        signals: &'a WaitSignals,
        progress: &'a dyn Progress,
        from: usize,
    ) -> BriefPoll<'a> {
        BriefPoll {
            progress: Some((progress, from)),
            ..BriefPoll::new(signals)
        }
    }

    /// Pauses briefly (or reads the awaited peer's link) and returns true while the
    /// phase lasts; false once the caller should sleep instead.
    pub(crate) fn again(&mut self) -> bool {
        self.polls += 1;
        match self.progress {
            Some((progress, from)) if progress.progress(from) => {
                // Bytes came: look for the message at once, and keep polling while they
                // flow (a large body takes many reads).
                self.start = Instant::now();
                return true;
            }
            // An empty look was a system call, not a spin: yield before the next, so
            // that the threads that will send what we wait for can run.
            Some(_) => {}
            None if self.polls <= SPINS => {
                std::hint::spin_loop();
                return true;
            }
            None => {}
        }
        let waited = self.start.elapsed();
        let body_coming = self.signals.receiving.load(Ordering::Relaxed) > 0;
        if waited < POLL_BEFORE_SLEEP || (body_coming && waited < POLL_WHILE_RECEIVING) {
            std::thread::yield_now();
            true
        } else {
            false
        }
    }
}
