//! Collective operations over the message plane, with the algorithms MPI libraries use.
//!
//! Every rank calls the same collectives in the same order (the SPMD contract, as in
//! MPI), from one thread at a time. Each call draws the next sequence number, which with
//! a step number names its messages (tags at or above
//! [`RESERVED_TAGS`](crate::msg::RESERVED_TAGS)), so a fast rank already in the next call
//! never mixes with a slow one.
//!
//! A program that breaks the contract fails on every rank within a fraction of a second,
//! with an [`Error::Spmd`] naming the ranks and their calls ("rank 0 is in all_gather
//! #12 but rank 1 is in finish #12"), instead of hanging: each message carries its
//! call's operation, root and sizes, and a wait that cannot end any more says so (see
//! `op` and `msg::matching`).
//!
//! The algorithms, by operation (see each function for its exact rule):
//!
//! | operation | small values | large values |
//! |---|---|---|
//! | [`Comm::barrier`] | dissemination, ceil(log2 n) rounds | |
//! | [`Comm::broadcast_bytes`] | binomial tree | pipelined chain of segments (32 MiB up) |
//! | [`Comm::all_reduce`] (any type) | recursive doubling, rank order kept | same |
//! | [`Comm::all_reduce_slice`], [`Comm::all_reduce_elementwise`] (plain vectors) | recursive doubling | ring reduce-scatter + ring all-gather |
//! | [`Comm::reduce`] / [`Comm::reduce_slice`] | binomial tree | ring reduce-scatter + gather |
//! | [`Comm::gather_bytes`], [`Comm::scatter_bytes`] | direct | direct |
//! | [`Comm::all_gather_bytes`] | ring | ring, forwarding without copies |
//! | [`Comm::all_to_all_bytes`] | pairwise exchange | pairwise exchange |
//! | [`Comm::scan`], [`Comm::exclusive_scan`] | recursive doubling | same |
//!
//! No rank is a funnel: in an all-reduce of S bytes each rank sends and receives
//! O(S) bytes whatever n is (about 2S for the ring). Plain numeric vectors travel as
//! their bytes: the slices of the `_slice` forms ([`Pod`]), and in the typed calls
//! ([`Comm::broadcast`], [`Comm::all_reduce`], ...) any `Vec` of a primitive number
//! type, sent from its own memory and received into memory that becomes the receiver's
//! vector (one copy only for a rank's own value, or a body still being forwarded); other
//! values are encoded with speedy ([`Wire`]). A typed call's messages name its value
//! type, so ranks that disagree on it fail instead of decoding each other's bytes.
//!
//! ```
//! use eau2_comm::{net::NetConfig, Comm};
//!
//! let comm = Comm::connect(&NetConfig::new(0, 1, "127.0.0.1:0", "secret"))?;
//! let mut bits = vec![0b01u64, 0b10];
//! comm.all_reduce_slice(&mut bits, |acc, other| {
//!     acc.iter_mut().zip(other).for_each(|(a, b)| *a |= b)
//! })?;
//! assert_eq!(comm.all_gather(comm.rank() as u32)?, vec![0]);
//! # Ok::<(), eau2_comm::Error>(())
//! ```

mod exchange;
mod layout;
mod lent;
pub(crate) mod op;
mod plain;
mod reduce;
mod tree;

use bytes::Bytes;

use crate::endpoint::Comm;
use crate::error::{Error, Result};
use crate::msg::Tag;
#[cfg(test)]
use crate::msg::RESERVED_TAGS;
use op::Op;

pub use bytemuck::Pod;

// Defined beside the plain-vector fast path, which `op` also uses, so that no module
// of this folder imports this one back.
pub use plain::Wire;

/// One collective call: its sequence number names the messages of its steps, and its
/// operation rides on each of them.
pub(crate) struct Call<'c> {
    comm: &'c Comm,
    seq: u64,
    op: Op,
    /// The call's `collective` span, entered for as long as the call lasts, so that a
    /// subscriber with `FmtSpan::CLOSE` reports each call's time. Collectives can be
    /// called in tight loops: a disabled `debug_span!` costs one branch.
    span: tracing::span::EnteredSpan,
}

impl<'c> Call<'c> {
    /// Starts a call of `op`, in which this rank contributes `bytes` (when known up
    /// front). Ranks that asked to hear when this rank got here are told; a mistake
    /// found here fails the call's first send or receive.
    fn new(comm: &'c Comm, op: Op, bytes: Option<usize>) -> Call<'c> {
        let started = comm.mailbox().start_call(op);
        if !started.tell.is_empty() {
            comm.tell_position(&started.tell, started.at);
        }
        if started.mistake {
            comm.tell_mistake();
        }
        let seq = started.seq;
        let span = tracing::debug_span!(
            "collective",
            op = op.kind.name(),
            bytes = bytes.map(|b| b as u64),
            n = comm.size() as u64,
            rank = comm.rank() as u64,
            seq
        );
        Call {
            comm,
            seq,
            op,
            span: span.entered(),
        }
    }

    /// Records the bytes this rank moves in the call once they are known: an encoded
    /// value's size is known only after encoding, a broadcast's only once it arrived.
    fn record_bytes(&self, bytes: usize) {
        self.span.record("bytes", bytes as u64);
    }

    fn rank(&self) -> usize {
        self.comm.rank()
    }

    fn size(&self) -> usize {
        self.comm.size()
    }

    fn tag(&self, step: u32) -> Tag {
        op::tag_of(self.seq, step)
    }

    fn send(&self, to: usize, step: u32, body: Bytes) -> Result<()> {
        self.comm.post(to, self.tag(step), 0, body, Some(&self.op))
    }

    fn send_aux(&self, to: usize, step: u32, aux: u64, body: Bytes) -> Result<()> {
        self.comm
            .post(to, self.tag(step), aux, body, Some(&self.op))
    }

    fn recv(&self, from: usize, step: u32) -> Result<Bytes> {
        Ok(self.comm.take(Some(from), self.tag(step), None)?.2)
    }

    /// The step's message from whoever sent it: `(from, aux, body)`.
    fn recv_any(&self, step: u32) -> Result<(usize, u64, Bytes)> {
        self.comm.take(None, self.tag(step), None)
    }
}

impl Comm {
    pub(crate) fn check_root(&self, root: usize) -> Result<()> {
        if root < self.size() {
            Ok(())
        } else {
            Err(Error::Config(format!(
                "root rank {root} is not in a job of {} ranks",
                self.size()
            )))
        }
    }

    /// [`Comm::broadcast_bytes`] for any [`Wire`] type. Only the root's `value` matters;
    /// the others may pass `None`, and get a copy of the root's. The root gets its own
    /// value back; a plain vector leaves straight from its memory.
    pub fn broadcast<T: Wire>(&self, root: usize, value: Option<T>) -> Result<T> {
        self.check_root(root)?;
        let op = Op::rooted(op::Kind::Broadcast, root).of::<T>();
        let value = match value {
            None if self.rank() == root => {
                return Err(Error::Config(format!(
                    "broadcast from rank {root}: the root passed no value"
                )))
            }
            value => value,
        };
        // Every rank records its bytes once it has its body (`broadcast_value_on`).
        let call = Call::new(self, op, None);
        self.broadcast_value_on(&call, root, 0, value)
    }

    /// [`Comm::broadcast`] as a phase of `call` from step `first_step` on; the root
    /// passes `Some`.
    pub(crate) fn broadcast_value_on<T: Wire>(
        &self,
        call: &Call<'_>,
        root: usize,
        first_step: u32,
        value: Option<T>,
    ) -> Result<T> {
        let Some(value) = value.filter(|_| self.rank() == root) else {
            let bytes = self.broadcast_on(call, root, first_step, Bytes::new())?;
            call.record_bytes(bytes.len());
            // An inner rank of the tree has passed the value on; its sends may still be
            // leaving (see `plain::from_forwarded_body`).
            let what = || format!("a broadcast from rank {root}");
            let patience = forward_patience(bytes.len());
            return plain::from_forwarded_body(bytes, patience, what);
        };
        plain::with_body(&value, |body| {
            call.record_bytes(body.len());
            self.broadcast_on(call, root, first_step, body).map(drop)
        })?;
        Ok(value)
    }

    /// [`Comm::gather_bytes`] for any [`Wire`] type. Like `broadcast`, `all_reduce` and
    /// `all_to_all`, it takes the rank's value by value: the root's own becomes its place
    /// in the result without a copy (clone a value you keep).
    pub fn gather<T: Wire>(&self, root: usize, value: T) -> Result<Option<Vec<T>>> {
        let op = Op::rooted(op::Kind::Gather, root).of::<T>();
        let mut all = Vec::new();
        let at_root = plain::with_body(&value, |body| {
            self.gather_as(op, root, body, |from, bytes| {
                if from != root {
                    all.push(plain::from_body(bytes, || in_call(from, "a gather"))?);
                }
                Ok(())
            })
        })?;
        if at_root {
            all.insert(root, value);
        }
        Ok(at_root.then_some(all))
    }

    /// Every rank's `value`, in rank order, on every rank. The value is taken by value:
    /// the rank's own becomes its place in the result without a copy (clone a value
    /// you keep).
    pub fn all_gather<T: Wire>(&self, value: T) -> Result<Vec<T>> {
        let op = Op::plain(op::Kind::AllGather).of::<T>();
        let mut all: Vec<Option<T>> = std::iter::repeat_with(|| None).take(self.size()).collect();
        // A plain vector becomes its received body once the ring no longer forwards it,
        // so those are kept until the ring is done (see `plain::from_body`); other
        // values are decoded while the next one is on its way.
        let keep = plain::body_align::<T>() != 0;
        let mut kept: Vec<(usize, Bytes)> = Vec::new();
        let rank = self.rank();
        plain::with_body(&value, |body| {
            self.all_gather_as(op, body, |from, bytes| {
                if from == rank {
                    // Moved into its place below.
                } else if keep {
                    kept.push((from, bytes.clone()));
                } else {
                    let what = || in_call(from, "an all-gather");
                    all[from] = Some(plain::from_body(bytes.clone(), what)?);
                }
                Ok(())
            })
        })?;
        all[rank] = Some(value);
        // The last bodies this rank forwarded may still be leaving: wait for them a
        // little rather than copy them (see `forward_patience`).
        for (from, bytes) in kept {
            let patience = forward_patience(bytes.len());
            let what = || in_call(from, "an all-gather");
            all[from] = Some(plain::from_forwarded_body(bytes, patience, what)?);
        }
        all.into_iter()
            .map(|value| value.ok_or_else(|| Error::Protocol("an all-gather missed a rank".into())))
            .collect()
    }

    /// Hands `values[i]` from `root` to rank `i`; every rank returns its own. Ranks
    /// other than the root pass `None`. The root keeps its own value without a copy.
    pub fn scatter<T: Wire>(&self, root: usize, values: Option<Vec<T>>) -> Result<T> {
        let op = Op::rooted(op::Kind::Scatter, root).of::<T>();
        let values = match values {
            Some(values) if self.rank() == root => values,
            _ => {
                let bytes = self.scatter_as(op, root, None)?;
                return plain::from_body(bytes, || format!("a scatter from rank {root}"));
            }
        };
        let (own, parts) = parts_of(values, root)?;
        self.scatter_as(op, root, Some(parts))?;
        own.ok_or_else(|| missing_own("scatter", root))
    }

    /// Sends `values[i]` to rank `i` and returns, at index `j`, what rank `j` sent here.
    /// Values travel without copies on the sending side (a plain vector's memory goes
    /// as it is); this rank's own value is returned as it was passed.
    pub fn all_to_all<T: Wire>(&self, values: Vec<T>) -> Result<Vec<T>> {
        let op = Op::plain(op::Kind::AllToAll).of::<T>();
        let rank = self.rank();
        let (mut own, parts) = parts_of(values, rank)?;
        let mut all: Vec<Option<T>> = std::iter::repeat_with(|| None).take(self.size()).collect();
        self.all_to_all_as(op, parts, |from, bytes| {
            all[from] = match from == rank {
                true => own.take(),
                false => Some(plain::from_body(bytes, || in_call(from, "an all-to-all"))?),
            };
            Ok(())
        })?;
        all.into_iter()
            .map(|value| value.ok_or_else(|| missing_own("all-to-all", rank)))
            .collect()
    }
}

/// How long a broadcast's inner rank waits for its forwards of a plain vector of `len`
/// bytes to leave before it copies the vector instead: about twice what the copy costs
/// (the bytes at 2 GB/s, at least 50 us; 16 MiB: 8 ms). Writing a value to a child that
/// is in the broadcast takes less; a child that is not there yet (still computing, its
/// receive window full) would otherwise hold this rank for as long as it is late.
fn forward_patience(len: usize) -> std::time::Duration {
    std::time::Duration::from_nanos((len as u64 / 2).max(50_000))
}

/// Names the sender of a body in a decoding error: "rank 3 in an all-gather".
fn in_call(from: usize, call: &str) -> String {
    format!("rank {from} in {call}")
}

/// Splits one value per rank into the value kept at `keep` and the bodies to send (an
/// empty one at `keep`).
fn parts_of<T: Wire>(values: Vec<T>, keep: usize) -> Result<(Option<T>, Vec<Bytes>)> {
    let mut own = None;
    let parts = values
        .into_iter()
        .enumerate()
        .map(|(to, value)| {
            if to == keep {
                own = Some(value);
                Ok(Bytes::new())
            } else {
                plain::into_body(value)
            }
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((own, parts))
}

/// The error of a call that succeeded without one of its values: a bug, since the
/// call checks that there is one value per rank.
fn missing_own(what: &str, rank: usize) -> Error {
    Error::Protocol(format!("{what} on rank {rank} lost this rank's own value"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_of_calls_and_steps_never_collide_and_stay_reserved() {
        let comm = Comm::connect(&crate::net::NetConfig::new(0, 1, "127.0.0.1:0", "t")).unwrap();
        let a = Call::new(&comm, Op::plain(op::Kind::Barrier), None);
        let b = Call::new(&comm, Op::plain(op::Kind::Barrier), None);
        assert_ne!(a.tag(0), b.tag(0));
        assert_ne!(a.tag(1), a.tag(0));
        assert!(a.tag(0) >= RESERVED_TAGS && b.tag(65535) >= RESERVED_TAGS);
    }

    /// Two ranks in one process, over 127.0.0.1: a typed broadcast, all-to-all and
    /// gather of plain vectors hand the received bodies over as the vectors (counted
    /// on the receiving thread), with the right contents, at every width.
    #[test]
    fn typed_receives_take_the_received_bodies_without_copies() {
        use crate::net::aligned::TAKEN;
        use crate::net::NetConfig;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let master = format!("127.0.0.1:{port}");
        let rank = |rank: usize| {
            let master = master.clone();
            std::thread::spawn(move || -> Result<usize> {
                let comm = Comm::connect(&NetConfig::new(rank, 2, &master, "typed"))?;
                let big: Vec<u64> = (0..(1 << 17) + 3).map(|i| i * 3 + rank as u64).collect();
                let got = comm.broadcast(0, (rank == 0).then(|| big.clone()))?;
                assert_eq!(got, (0..(1 << 17) + 3).map(|i| i * 3).collect::<Vec<u64>>());
                let odd: Vec<u16> = (0..7).map(|i| i + rank as u16).collect();
                let got = comm.all_to_all(vec![odd.clone(), odd.clone()])?;
                assert_eq!(
                    got[1 - rank],
                    (0..7).map(|i| i + 1 - rank as u16).collect::<Vec<_>>()
                );
                let wide = vec![u128::MAX - rank as u128; 5];
                if let Some(all) = comm.gather(1, wide)? {
                    assert_eq!(all, vec![vec![u128::MAX; 5], vec![u128::MAX - 1; 5]]);
                }
                let empty = comm.broadcast(1, (rank == 1).then(Vec::<f32>::new))?;
                assert!(empty.is_empty());
                comm.finish()?;
                comm.shutdown()?;
                Ok(TAKEN.with(|t| t.get()))
            })
        };
        let (zero, one) = (rank(0), rank(1));
        // Rank 0 receives the all-to-all's part; rank 1 the broadcast's, the
        // all-to-all's part and rank 0's value in the gather.
        assert_eq!(zero.join().unwrap().unwrap(), 1);
        assert_eq!(one.join().unwrap().unwrap(), 3);
    }
}
