//! A rank's incoming messages, and the credit each peer has to send it more.
//!
//! Flow control is by credit, per pair of ranks. A sender may have at most `window`
//! bytes (each message counted as its body plus [`MESSAGE_OVERHEAD`]) sent to one peer
//! and not yet credited back; past that it waits. A receiver credits bytes back once the
//! program has consumed them: riding on its next message to that peer, in a credit
//! message of its own once half a window has been consumed, or at once when the sender
//! has said it is waiting. So no message waits for an acknowledgement, and a receiver
//! holds at most `window` unconsumed bytes from each peer, plus one message of any size
//! (up to the frame limit), which a sender with nothing in flight may always send so
//! that messages larger than the window still go.

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use bytes::Bytes;
use parking_lot::{Condvar, Mutex, MutexGuard};

use crate::brief_poll::BriefPoll;
use crate::error::{Error, Result};
use crate::waited::WaitClock;

/// What each message costs against the window beyond its body: a flood of empty messages
/// is bounded too.
pub const MESSAGE_OVERHEAD: u64 = 64;

/// The window cost of a message with a body of `len` bytes.
pub(crate) fn cost(len: usize) -> u64 {
    len as u64 + MESSAGE_OVERHEAD
}

/// A message waiting to be received.
pub(crate) struct Letter {
    pub(crate) from: usize,
    /// A small word the collectives use (a total length, ...); 0 for user messages.
    pub(crate) aux: u64,
    pub(crate) body: Bytes,
}

/// The flow-control state between this rank and one peer.
#[derive(Default)]
struct Flow {
    /// Bytes we sent to the peer that it has not credited back yet.
    in_flight: u64,
    /// We told the peer we are waiting for credit and have not heard back since.
    asked: bool,
    /// Bytes from the peer that the program has consumed and we have not credited back.
    consumed: u64,
    /// The peer told us it is waiting for credit.
    peer_waiting: bool,
}

struct State {
    /// Tag -> messages in arrival order (ordered per sender, since each link is).
    queues: HashMap<u64, VecDeque<Letter>>,
    flows: Vec<Flow>,
    /// Set once any rank is lost: every wait then fails, naming it.
    broken: Option<(usize, String)>,
}

impl State {
    fn check(&self) -> Result<()> {
        match &self.broken {
            Some((rank, reason)) => Err(Error::PeerLost {
                rank: *rank,
                reason: reason.clone(),
            }),
            None => Ok(()),
        }
    }

    /// Removes the first message with `tag` (from `from`, or from anyone).
    fn take(&mut self, from: Option<usize>, tag: u64) -> Option<Letter> {
        let queue = self.queues.get_mut(&tag)?;
        let at = match from {
            None => 0,
            Some(rank) => queue.iter().position(|l| l.from == rank)?,
        };
        let letter = queue.remove(at);
        if queue.is_empty() {
            self.queues.remove(&tag);
        }
        letter
    }
}

/// Incoming messages and per-peer credit, shared by program threads and the network
/// thread.
pub(crate) struct Mailbox {
    rank: usize,
    window: u64,
    state: Mutex<State>,
    /// Signalled when a message arrives or the job breaks.
    arrived: Condvar,
    /// Signalled when credit arrives or the job breaks.
    credited: Condvar,
    /// Time program threads spent waiting here, for messages or for credit.
    pub(crate) waited: WaitClock,
}

/// What a sender must do after [`Mailbox::reserve`] returns.
pub(crate) struct Reserved {
    /// Credit to hand back to the destination, riding on this message.
    pub(crate) credit: u64,
}

/// What the waiting sender must tell the destination: that it waits for credit.
pub(crate) enum Reserve {
    /// The message may go now.
    Go(Reserved),
    /// No room: send a credit request to the destination, then call again.
    Ask,
}

impl Mailbox {
    /// A mailbox for `rank` in a job of `size`, with `window` bytes of credit per peer.
    pub(crate) fn new(rank: usize, size: usize, window: u64) -> Mailbox {
        Mailbox {
            rank,
            window,
            state: Mutex::new(State {
                queues: HashMap::new(),
                flows: (0..size).map(|_| Flow::default()).collect(),
                broken: None,
            }),
            arrived: Condvar::new(),
            credited: Condvar::new(),
            waited: WaitClock::default(),
        }
    }

    /// Waits until a message of `len` body bytes to `to` fits in its window (a peer with
    /// nothing in flight always takes one), then counts it as in flight. Returns
    /// [`Reserve::Ask`] the first time it would wait, so the caller can tell the peer.
    pub(crate) fn reserve(&self, to: usize, len: usize) -> Result<Reserve> {
        let cost = cost(len);
        let mut state = self.state.lock();
        loop {
            state.check()?;
            let window = self.window;
            let flow = &mut state.flows[to];
            if flow.in_flight == 0 || flow.in_flight + cost <= window {
                flow.in_flight += cost;
                let credit = std::mem::take(&mut flow.consumed);
                if credit > 0 {
                    flow.peer_waiting = false;
                }
                return Ok(Reserve::Go(Reserved { credit }));
            }
            if !flow.asked {
                flow.asked = true;
                return Ok(Reserve::Ask);
            }
            self.waited.time(|| self.credited.wait(&mut state));
        }
    }

    /// Delivers a message that arrived (or was sent to this rank by itself), with the
    /// credit that rode on it.
    pub(crate) fn deliver(&self, from: usize, tag: u64, aux: u64, credit: u64, body: Bytes) {
        let mut state = self.state.lock();
        if credit > 0 {
            Self::credit_locked(&mut state, from, credit);
            self.credited.notify_all();
        }
        state
            .queues
            .entry(tag)
            .or_default()
            .push_back(Letter { from, aux, body });
        self.arrived.notify_all();
    }

    /// Credit from `from` for bytes we sent it.
    pub(crate) fn credit(&self, from: usize, bytes: u64) {
        let mut state = self.state.lock();
        Self::credit_locked(&mut state, from, bytes);
        self.credited.notify_all();
    }

    fn credit_locked(state: &mut State, from: usize, bytes: u64) {
        let flow = &mut state.flows[from];
        flow.in_flight = flow.in_flight.saturating_sub(bytes);
        flow.asked = false;
    }

    /// `from` waits for credit. Returns the credit to send it now, if any; otherwise
    /// the next consumption of its bytes is credited at once.
    pub(crate) fn peer_waits(&self, from: usize) -> u64 {
        let mut state = self.state.lock();
        let flow = &mut state.flows[from];
        let credit = std::mem::take(&mut flow.consumed);
        flow.peer_waiting = credit == 0;
        credit
    }

    /// Takes the first message with `tag` from `from` (or anyone), waiting for it until
    /// `deadline`. Returns the message and the credit to send back to its sender now
    /// (0 when none is due yet).
    pub(crate) fn receive(
        &self,
        from: Option<usize>,
        tag: u64,
        deadline: Option<Instant>,
        mut poll: BriefPoll<'_>,
    ) -> Result<Option<(Letter, u64)>> {
        let mut state = self.state.lock();
        let mut polling = true;
        let letter = loop {
            state.check()?;
            if let Some(letter) = state.take(from, tag) {
                break letter;
            }
            if polling {
                // The lock is released while we pause, so look again under it before
                // sleeping: a letter delivered in that gap notified nobody.
                polling = MutexGuard::unlocked(&mut state, || poll.again());
                continue;
            }
            match deadline {
                None => self.waited.time(|| self.arrived.wait(&mut state)),
                Some(d) => {
                    if self
                        .waited
                        .time(|| self.arrived.wait_until(&mut state, d))
                        .timed_out()
                    {
                        state.check()?;
                        match state.take(from, tag) {
                            Some(letter) => break letter,
                            None => return Ok(None),
                        }
                    }
                }
            }
        };
        if letter.from == self.rank {
            return Ok(Some((letter, 0)));
        }
        let half = self.window / 2;
        let flow = &mut state.flows[letter.from];
        flow.consumed += cost(letter.body.len());
        let due = if flow.peer_waiting || flow.consumed >= half {
            flow.peer_waiting = false;
            std::mem::take(&mut flow.consumed)
        } else {
            0
        };
        Ok(Some((letter, due)))
    }

    /// Fails every wait, now and later, naming the lost rank.
    pub(crate) fn fail(&self, rank: usize, reason: &str) {
        let mut state = self.state.lock();
        if state.broken.is_none() {
            state.broken = Some((rank, reason.to_string()));
        }
        self.arrived.notify_all();
        self.credited.notify_all();
    }

    /// Bytes (with overheads) of messages waiting to be received, from other ranks.
    pub(crate) fn unconsumed(&self) -> u64 {
        let state = self.state.lock();
        state
            .queues
            .values()
            .flatten()
            .filter(|l| l.from != self.rank)
            .map(|l| cost(l.body.len()))
            .sum()
    }
}
