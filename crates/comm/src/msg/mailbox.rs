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

use super::matching::{Matching, Position, QUERY_AFTER};
use crate::brief_poll::BriefPoll;
use crate::collectives::op::Op;
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

/// Why every wait fails from now on.
enum Broken {
    /// A rank is gone.
    Lost(usize, String),
    /// Ranks are in different collectives (see `matching`).
    Spmd(String),
}

struct State {
    /// Tag -> messages in arrival order (ordered per sender, since each link is).
    queues: HashMap<u64, VecDeque<Letter>>,
    flows: Vec<Flow>,
    /// Set once any rank is lost or the ranks' collectives differ: every wait then
    /// fails, saying why.
    broken: Option<Broken>,
    /// Where every rank is in its collectives.
    matching: Matching,
    /// A mistake this rank's program threads found, for them to tell every peer.
    untold: Option<String>,
}

impl State {
    fn check(&self) -> Result<()> {
        match &self.broken {
            Some(Broken::Lost(rank, reason)) => Err(Error::PeerLost {
                rank: *rank,
                reason: reason.clone(),
            }),
            Some(Broken::Spmd(reason)) => Err(Error::Spmd(reason.clone())),
            None => Ok(()),
        }
    }

    /// Fails every wait with an SPMD mistake; false if one was already known (a
    /// mistake replaces a lost rank, which is often its consequence).
    fn break_spmd(&mut self, reason: String) -> bool {
        if matches!(self.broken, Some(Broken::Spmd(_))) {
            return false;
        }
        self.broken = Some(Broken::Spmd(reason));
        true
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
    size: usize,
    window: u64,
    state: Mutex<State>,
    /// Signalled when a message arrives or the job breaks.
    arrived: Condvar,
    /// Signalled when credit arrives or the job breaks.
    credited: Condvar,
    /// Time program threads spent waiting here, for messages or for credit.
    pub(crate) waited: WaitClock,
}

/// A collective call this rank has started ([`Mailbox::start_call`]).
pub(crate) struct Started {
    /// The call's number.
    pub(crate) seq: u64,
    /// Ranks to tell that this rank is here: they asked.
    pub(crate) tell: Vec<usize>,
    /// What to tell them: this call.
    pub(crate) at: Position,
    /// A message for this call that already arrived belongs to another operation.
    pub(crate) mistake: bool,
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
            size,
            window,
            state: Mutex::new(State {
                queues: HashMap::new(),
                flows: (0..size).map(|_| Flow::default()).collect(),
                broken: None,
                matching: Matching::new(rank, size),
                untold: None,
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
    ///
    /// A wait that lasts [`QUERY_AFTER`] calls `long_wait` once (without the lock), if
    /// given: collectives then ask the ranks they wait for where they are. A wait that
    /// can no longer end (see `matching`) fails at once, naming the ranks.
    pub(crate) fn receive(
        &self,
        from: Option<usize>,
        tag: u64,
        deadline: Option<Instant>,
        mut poll: BriefPoll<'_>,
        mut long_wait: Option<&dyn Fn()>,
    ) -> Result<Option<(Letter, u64)>> {
        let mut state = self.state.lock();
        let mut polling = true;
        let mut ask_at = None;
        let mut checked = None;
        let letter = loop {
            state.check()?;
            if let Some(letter) = state.take(from, tag) {
                break letter;
            }
            let changes = Some(state.matching.changes());
            if checked != changes {
                checked = changes;
                if let Err(reason) = state.matching.check_wait(from, tag) {
                    self.spmd_locked(&mut state, reason, true);
                    state.check()?;
                }
            }
            if polling {
                // The lock is released while we pause, so look again under it before
                // sleeping: a letter delivered in that gap notified nobody.
                polling = MutexGuard::unlocked(&mut state, || poll.again());
                continue;
            }
            if long_wait.is_some() {
                let at = *ask_at.get_or_insert_with(|| Instant::now() + QUERY_AFTER);
                if Instant::now() >= at {
                    if let Some(ask) = long_wait.take() {
                        MutexGuard::unlocked(&mut state, ask);
                    }
                    continue;
                }
            }
            let wake_at = match (deadline, ask_at.filter(|_| long_wait.is_some())) {
                (Some(d), Some(a)) => Some(d.min(a)),
                (d, a) => d.or(a),
            };
            match wake_at {
                None => self.waited.time(|| self.arrived.wait(&mut state)),
                Some(at) => {
                    let timed_out = self
                        .waited
                        .time(|| self.arrived.wait_until(&mut state, at))
                        .timed_out();
                    if timed_out && deadline.is_some_and(|d| Instant::now() >= d) {
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
            state.broken = Some(Broken::Lost(rank, reason.to_string()));
        }
        self.wake_all();
    }

    /// Every other rank of the job.
    pub(crate) fn peers(&self) -> impl Iterator<Item = usize> {
        let (rank, size) = (self.rank, self.size);
        (0..size).filter(move |&r| r != rank)
    }

    fn wake_all(&self) {
        self.arrived.notify_all();
        self.credited.notify_all();
    }

    /// This rank starts a collective call of `op`: returns its number and the ranks
    /// that asked to be told when this rank got here, with what to tell them. A message
    /// of another operation that already arrived for this call breaks the job (the
    /// mistake is then [`Mailbox::untold`], and `mistake` is set).
    pub(crate) fn start_call(&self, op: Op) -> Started {
        let mut state = self.state.lock();
        let (seq, tell, checked) = state.matching.start(op);
        // Tests lose a rank here, at a point of the program every run reaches.
        crate::net::fault::at_collective(self.rank, seq);
        let mistake = checked.is_err();
        if let Err(reason) = checked {
            self.spmd_locked(&mut state, reason, true);
        }
        Started {
            seq,
            tell,
            at: state.matching.position(),
            mistake,
        }
    }

    /// A collective message of call `seq` for `op` arrived from `from` (on the network
    /// thread, before it is delivered): returns the mistake to tell every peer when it
    /// belongs to another operation than this rank's call of that number.
    pub(crate) fn check_arrival(&self, from: usize, seq: u64, op: Op) -> Option<String> {
        let mut state = self.state.lock();
        let reason = state.matching.arrived(from, seq, op).err()?;
        self.spmd_locked(&mut state, reason, false)
    }

    /// Breaks the job for an SPMD mistake this rank found; returns the reason to tell
    /// every peer if it is new. `later`: program threads tell them (see `untold`).
    fn spmd_locked(&self, state: &mut State, reason: String, later: bool) -> Option<String> {
        let reason = format!("found by rank {}: {reason}", self.rank);
        let new = state.break_spmd(reason.clone());
        self.wake_all();
        match (new, later) {
            (true, true) => {
                state.untold = Some(reason);
                None
            }
            (true, false) => Some(reason),
            (false, _) => None,
        }
    }

    /// The SPMD mistake that broke the job, if one did.
    pub(crate) fn mistake(&self) -> Option<Error> {
        match &self.state.lock().broken {
            Some(Broken::Spmd(reason)) => Some(Error::Spmd(reason.clone())),
            _ => None,
        }
    }

    /// A mistake a program thread found and has not told the peers yet.
    pub(crate) fn untold(&self) -> Option<String> {
        self.state.lock().untold.take()
    }

    /// A peer reports an SPMD mistake: every wait fails with it. Returns true if it is
    /// news to this rank (to be passed on).
    pub(crate) fn spmd_reported(&self, reason: &str) -> bool {
        let mut state = self.state.lock();
        let new = state.break_spmd(reason.to_string());
        self.wake_all();
        new
    }

    /// `from` told this rank where it is.
    pub(crate) fn told(&self, from: usize, position: Position) {
        self.state.lock().matching.told(from, position);
        self.arrived.notify_all();
    }

    /// `from` waits for a message of call `seq` and asks where this rank is.
    pub(crate) fn asked(&self, from: usize, seq: u64) -> Position {
        self.state.lock().matching.asked(from, seq)
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
