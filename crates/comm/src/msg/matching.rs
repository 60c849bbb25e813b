//! Checking that ranks are in the same collective: SPMD mistakes fail fast.
//!
//! Every rank must call the same collectives in the same order. A rank that does not
//! (a collective under `if rank == 0`, a skipped iteration, another root) would wait
//! for a message that never comes, or take another call's message as its own. So each
//! rank keeps, beside its mailbox, what it knows of where every rank is:
//! - its own calls: their numbers and [`Op`]s (the last few);
//! - each collective message's [`Op`], which rides on the message: compared on arrival
//!   with this rank's call of that number, or, for a call it has not reached yet, when
//!   it gets there;
//! - each peer's latest call as the peer last told it: peers tell when asked (a
//!   collective wait that lasts [`QUERY_AFTER`] asks the ranks it waits for, who answer
//!   at once and again when they reach the call asked about) and announce their
//!   [`finish`](crate::Comm::finish) to everyone.
//!
//! Facts only grow more certain: a peer's position only moves forward, and what a peer
//! sent before telling its position has arrived before that news (links are ordered).
//! So a wait fails as soon as the message it waits for can no longer come: the sender
//! is in another operation of the same number, or already past it, or (for a
//! point-to-point message) has finished its program.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use crate::collectives::op::{describe, seq_of, wrap_seq, Op};
use crate::msg::Tag;

/// How long a collective wait lasts before it asks the ranks it waits for where they
/// are: long enough that waits for a busy rank rarely ask, short enough that a mistake
/// whose messages never come fails well within a second.
pub(crate) const QUERY_AFTER: Duration = Duration::from_millis(200);

/// How many of its own calls a rank remembers, for messages that arrive after it has
/// moved on (a mismatched call may return without receiving them).
const RECENT: usize = 16;

/// A rank's latest collective call, as it tells its peers: number and operation.
pub(crate) type Position = Option<(u64, Op)>;

/// What this rank knows of every rank's collective calls.
pub(crate) struct Matching {
    rank: usize,
    /// Calls started so far.
    calls: u64,
    /// This rank's latest calls, newest last: (number, operation).
    recent: VecDeque<(u64, Op)>,
    /// Calls this rank has not reached: the first message that arrived for each.
    early: HashMap<u64, (usize, Op)>,
    /// Each rank's latest call as far as this rank knows.
    peers: Vec<Position>,
    /// Ranks waiting for a message of call `seq` from this rank, to be told when this
    /// rank reaches it.
    watchers: Vec<(usize, u64)>,
    /// Counts changes of what is known, so that a wait checks again only after one.
    changes: u64,
}

/// What the ranks must do instead, after an error about their collectives.
const RULE: &str = "every rank must call the same collectives, with the same roots and sizes, \
                    in the same order";

/// The error text for two ranks in different operations of one call number.
fn differ(a: usize, a_op: &Op, b: usize, b_op: &Op, seq: u64) -> String {
    format!(
        "rank {a} is in {} but rank {b} is in {}; {RULE}",
        describe(a_op, seq),
        describe(b_op, seq)
    )
}

impl Matching {
    /// Nothing known yet, for `rank` in a job of `size`.
    pub(crate) fn new(rank: usize, size: usize) -> Matching {
        Matching {
            rank,
            calls: 0,
            recent: VecDeque::with_capacity(RECENT),
            early: HashMap::new(),
            peers: vec![None; size],
            watchers: Vec::new(),
            changes: 0,
        }
    }

    /// A number that changes whenever what is known does (see [`Matching::check_wait`]).
    pub(crate) fn changes(&self) -> u64 {
        self.changes
    }

    /// This rank's latest call.
    pub(crate) fn position(&self) -> Position {
        self.recent.back().copied()
    }

    /// This rank starts a call of `op`: returns its number, the ranks to tell (they
    /// asked to hear when this rank got here), and an error if a message that already
    /// arrived for this call belongs to another operation.
    pub(crate) fn start(&mut self, op: Op) -> (u64, Vec<usize>, Result<(), String>) {
        let seq = wrap_seq(self.calls);
        self.calls += 1;
        self.changes += 1;
        if self.recent.len() == RECENT {
            self.recent.pop_front();
        }
        self.recent.push_back((seq, op));
        let mut tell = Vec::new();
        self.watchers.retain(|&(rank, wanted)| {
            let reached = wanted <= seq;
            if reached {
                tell.push(rank);
            }
            !reached
        });
        let checked = match self.early.remove(&seq) {
            Some((from, theirs)) if theirs != op => Err(differ(self.rank, &op, from, &theirs, seq)),
            _ => Ok(()),
        };
        (seq, tell, checked)
    }

    /// Records that `from` has reached call `seq` (or a later one, if known).
    fn advance(&mut self, from: usize, seq: u64, op: Op) {
        let known = &mut self.peers[from];
        if known.is_none_or(|(s, _)| s < seq) {
            *known = Some((seq, op));
            self.changes += 1;
        }
    }

    /// A message of call `seq`, operation `op`, arrived from `from`: an error if this
    /// rank's call of that number is another operation.
    pub(crate) fn arrived(&mut self, from: usize, seq: u64, op: Op) -> Result<(), String> {
        self.advance(from, seq, op);
        let latest = self.recent.back().map(|&(s, _)| s);
        if latest.is_some_and(|l| seq <= l) {
            return match self.recent.iter().find(|&&(s, _)| s == seq) {
                Some((_, mine)) if *mine != op => Err(differ(self.rank, mine, from, &op, seq)),
                _ => Ok(()),
            };
        }
        match self.early.get(&seq) {
            Some((first, theirs)) if *theirs != op => Err(differ(*first, theirs, from, &op, seq)),
            Some(_) => Ok(()),
            None => {
                self.early.insert(seq, (from, op));
                Ok(())
            }
        }
    }

    /// `from` told this rank its latest call.
    pub(crate) fn told(&mut self, from: usize, position: Position) {
        if let Some((seq, op)) = position {
            self.advance(from, seq, op);
        }
    }

    /// `from` waits for a message of call `seq` from this rank and asks where it is:
    /// returns the answer, and remembers to answer again on reaching that call.
    pub(crate) fn asked(&mut self, from: usize, seq: u64) -> Position {
        let here = self.position();
        if here.is_none_or(|(s, _)| s < seq) {
            self.watchers.push((from, seq));
        }
        here
    }

    /// Whether a wait for a message with `tag` from `from` (or anyone) can still end:
    /// an error naming the ranks and operations when it cannot. The answer changes only
    /// when [`Matching::changes`] does.
    pub(crate) fn check_wait(&self, from: Option<usize>, tag: Tag) -> Result<(), String> {
        let me = self.rank;
        let Some(seq) = seq_of(tag) else {
            return self.check_user_wait(from, tag);
        };
        let Some((latest, mine)) = self.position() else {
            return Ok(());
        };
        if latest != seq {
            return Ok(());
        }
        for (rank, known) in self.peers.iter().enumerate() {
            if let Some((s, theirs)) = known {
                if *s == seq && *theirs != mine {
                    return Err(differ(me, &mine, rank, theirs, seq));
                }
            }
        }
        if let Some(rank) = from {
            if let Some((s, theirs)) = self.peers[rank].filter(|&(s, _)| s > seq) {
                return Err(format!(
                    "rank {rank} is already in {} but rank {me} still waits for its message in \
                     {}; {RULE}",
                    describe(&theirs, s),
                    describe(&mine, seq)
                ));
            }
        }
        Ok(())
    }

    /// A point-to-point wait can no longer end once its sender (every other rank, for
    /// a wait on anyone) has finished its program.
    fn check_user_wait(&self, from: Option<usize>, tag: Tag) -> Result<(), String> {
        let finished = |rank: usize| self.peers[rank].filter(|(_, op)| op.is_finish());
        let me = self.rank;
        match from {
            Some(rank) if rank != me => match finished(rank) {
                Some((seq, op)) => Err(format!(
                    "rank {rank} is in {} but rank {me} waits for a message with tag {tag} \
                     from it, which it will never send",
                    describe(&op, seq)
                )),
                None => Ok(()),
            },
            Some(_) => Ok(()),
            None => {
                let others: Vec<usize> = (0..self.peers.len()).filter(|&r| r != me).collect();
                if !others.is_empty() && others.iter().all(|&r| finished(r).is_some()) {
                    Err(format!(
                        "every other rank has finished its program but rank {me} waits for a \
                         message with tag {tag} from any rank"
                    ))
                } else {
                    Ok(())
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collectives::op::{tag_of, Kind};

    fn op(kind: Kind) -> Op {
        Op::plain(kind)
    }

    #[test]
    fn a_message_of_another_operation_fails_on_arrival_before_and_after_the_call() {
        // During the call.
        let mut m = Matching::new(1, 2);
        m.start(op(Kind::Finish)).2.unwrap();
        let err = m.arrived(0, 0, op(Kind::AllGather)).unwrap_err();
        assert!(
            err.starts_with(
                "rank 1 is in finish #0 (its program has returned) but rank 0 is in all_gather #0; "
            ),
            "{err}"
        );
        // Before it: found when this rank gets there.
        let mut m = Matching::new(1, 2);
        m.arrived(0, 0, op(Kind::Barrier)).unwrap();
        assert!(m.start(op(Kind::AllGather)).2.is_err());
        // After it (a call that returned without receiving, e.g. a broadcast's root).
        let mut m = Matching::new(1, 2);
        m.start(Op::rooted(Kind::Broadcast, 1)).2.unwrap();
        m.start(op(Kind::Barrier)).2.unwrap();
        let err = m.arrived(0, 0, Op::rooted(Kind::Broadcast, 0)).unwrap_err();
        assert!(err.contains("broadcast(root 1) #0") && err.contains("broadcast(root 0) #0"));
    }

    #[test]
    fn matching_messages_and_slow_peers_pass() {
        let mut m = Matching::new(0, 3);
        m.arrived(1, 0, op(Kind::Barrier)).unwrap();
        m.arrived(2, 0, op(Kind::Barrier)).unwrap();
        assert!(m.start(op(Kind::Barrier)).2.is_ok());
        m.told(1, None);
        assert!(m.check_wait(Some(1), tag_of(0, 0)).is_ok());
    }

    #[test]
    fn a_wait_fails_once_its_sender_is_elsewhere() {
        let mut m = Matching::new(0, 3);
        m.start(Op::rooted(Kind::Gather, 0)).2.unwrap();
        // Rank 1 is behind: fine.
        m.told(1, None);
        assert!(m.check_wait(Some(1), tag_of(0, 0)).is_ok());
        // Rank 2 is in another gather of the same number.
        m.told(2, Some((0, Op::rooted(Kind::Gather, 2))));
        let err = m.check_wait(Some(1), tag_of(0, 0)).unwrap_err();
        assert!(err.contains("rank 2 is in gather(root 2) #0"), "{err}");
        // Rank 1 went past the call without sending.
        let mut m = Matching::new(0, 2);
        m.start(op(Kind::AllGather)).2.unwrap();
        m.told(1, Some((1, op(Kind::Finish))));
        let err = m.check_wait(Some(1), tag_of(0, 0)).unwrap_err();
        assert!(err.contains("rank 1 is already in finish #1"), "{err}");
    }

    #[test]
    fn askers_hear_again_when_this_rank_gets_there() {
        let mut m = Matching::new(1, 2);
        assert_eq!(m.asked(0, 1), None);
        assert!(m.start(op(Kind::Barrier)).1.is_empty());
        assert_eq!(m.start(op(Kind::Barrier)).1, vec![0]);
        assert!(m.start(op(Kind::Barrier)).1.is_empty());
    }

    #[test]
    fn point_to_point_waits_fail_on_finished_senders_only() {
        let mut m = Matching::new(0, 3);
        m.told(1, Some((4, op(Kind::Finish))));
        assert!(m.check_wait(Some(1), 7).is_err());
        assert!(m.check_wait(Some(2), 7).is_ok());
        assert!(m.check_wait(None, 7).is_ok());
        m.told(2, Some((4, op(Kind::Finish))));
        assert!(m.check_wait(None, 7).is_err());
    }
}
