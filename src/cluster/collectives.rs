//! Collective operations, built on the store's one-off messages: rank `a` sends `v` to
//! rank `b` by putting it under a fresh key homed at `b`, and `b` takes it.
//!
//! Every rank must call the same collectives in the same order (the SPMD contract): each
//! call draws the next sequence number, which names its keys, so calls never mix even when
//! a fast rank is already in the next one.

use bytes::Bytes;
use speedy::{LittleEndian, Readable, Writable};

use super::Node;
use crate::error::{Error, Result};
use crate::kv::Key;

/// Types that collectives can carry: anything speedy encodes and decodes.
pub trait Wire: for<'a> Readable<'a, LittleEndian> + Writable<LittleEndian> {}

impl<T> Wire for T where T: for<'a> Readable<'a, LittleEndian> + Writable<LittleEndian> {}

/// Encodes a value for the wire.
pub(crate) fn encode<T: Wire>(value: &T) -> Result<Bytes> {
    value
        .write_to_vec()
        .map(Bytes::from)
        .map_err(|e| Error::decode(format!("cannot encode a collective's value: {e}")))
}

/// Decodes a value from the wire.
pub(crate) fn decode<T: Wire>(bytes: &[u8]) -> Result<T> {
    T::read_from_buffer(bytes).map_err(|e| Error::decode(format!("a collective's value: {e}")))
}

/// The name of the message from `from` in collective call `seq`. The leading NUL keeps
/// these out of any name a program would choose.
fn message_key(seq: u64, from: usize, to: usize) -> Key {
    Key::new(format!("\0coll/{seq}/{from}"), to)
}

impl Node {
    fn next_seq(&self) -> u64 {
        self.collective_seq
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }

    fn send_to(&self, seq: u64, to: usize, value: Bytes) -> Result<()> {
        Ok(self.kv().put(&message_key(seq, self.rank(), to), value)?)
    }

    fn receive_from(&self, seq: u64, from: usize) -> Result<Bytes> {
        Ok(self
            .kv()
            .wait_and_take(&message_key(seq, from, self.rank()), None)?)
    }

    fn check_root(&self, root: usize) -> Result<()> {
        if root < self.size() {
            Ok(())
        } else {
            Err(Error::Config(format!(
                "root rank {root} is not in a job of {} ranks",
                self.size()
            )))
        }
    }

    /// Returns once every rank has called `barrier`.
    pub fn barrier(&self) -> Result<()> {
        self.gather_bytes(0, Bytes::new())?;
        self.broadcast_bytes(0, Bytes::new())?;
        Ok(())
    }

    /// Sends `value` from `root` to every rank; every rank returns the root's value. Ranks
    /// other than the root pass anything (their value is ignored).
    pub fn broadcast_bytes(&self, root: usize, value: Bytes) -> Result<Bytes> {
        self.check_root(root)?;
        let seq = self.next_seq();
        if self.rank() == root {
            for to in (0..self.size()).filter(|&r| r != root) {
                self.send_to(seq, to, value.clone())?;
            }
            Ok(value)
        } else {
            self.receive_from(seq, root)
        }
    }

    /// Collects every rank's `value` at `root`, in rank order. The root gets
    /// `Some(values)`, the others `None`.
    pub fn gather_bytes(&self, root: usize, value: Bytes) -> Result<Option<Vec<Bytes>>> {
        self.check_root(root)?;
        let seq = self.next_seq();
        if self.rank() != root {
            self.send_to(seq, root, value)?;
            return Ok(None);
        }
        let mut all = Vec::with_capacity(self.size());
        for from in 0..self.size() {
            if from == root {
                all.push(value.clone());
            } else {
                all.push(self.receive_from(seq, from)?);
            }
        }
        Ok(Some(all))
    }

    /// [`Node::broadcast_bytes`] for any [`Wire`] type. Only the root's `value` matters;
    /// the others may pass `None`.
    pub fn broadcast<T: Wire>(&self, root: usize, value: Option<T>) -> Result<T> {
        let bytes = if self.rank() == root {
            let value = value.ok_or_else(|| {
                Error::Config(format!(
                    "broadcast from rank {root}: the root passed no value"
                ))
            })?;
            encode(&value)?
        } else {
            Bytes::new()
        };
        decode(&self.broadcast_bytes(root, bytes)?)
    }

    /// [`Node::gather_bytes`] for any [`Wire`] type.
    pub fn gather<T: Wire>(&self, root: usize, value: &T) -> Result<Option<Vec<T>>> {
        match self.gather_bytes(root, encode(value)?)? {
            Some(all) => all
                .iter()
                .map(|b| decode(b))
                .collect::<Result<_>>()
                .map(Some),
            None => Ok(None),
        }
    }

    /// Combines every rank's `value` with `merge` at `root`, folding in rank order
    /// (`merge(merge(v0, v1), v2)...`), so a non-commutative merge is still deterministic.
    /// The root gets `Some(result)`, the others `None`.
    pub fn reduce<T: Wire>(
        &self,
        root: usize,
        value: T,
        merge: impl FnMut(T, T) -> T,
    ) -> Result<Option<T>> {
        match self.gather(root, &value)? {
            Some(all) => Ok(all.into_iter().reduce(merge)),
            None => Ok(None),
        }
    }

    /// [`Node::reduce`] to rank 0, then a broadcast of the result: every rank gets it.
    pub fn all_reduce<T: Wire>(&self, value: T, merge: impl FnMut(T, T) -> T) -> Result<T> {
        let reduced = self.reduce(0, value, merge)?;
        self.broadcast(0, reduced)
    }

    /// Every rank's `value`, in rank order, on every rank.
    pub fn all_gather<T: Wire>(&self, value: &T) -> Result<Vec<T>> {
        let gathered = self.gather(0, value)?;
        self.broadcast(0, gathered)
    }
}
