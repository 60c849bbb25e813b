//! Collectives that move values without combining them: barrier, broadcast, gather,
//! scatter and all-gather.

use bytes::Bytes;

use super::op::{Kind, Op};
use super::Call;
use crate::endpoint::Comm;
use crate::error::{Error, Result};

/// Broadcasts of at least this many bytes go down a pipelined chain; smaller ones down
/// a binomial tree. Measured with 4 and 8 ranks on one 2-core host, the tree was faster
/// up to 16 MiB: with every rank on the same cores the chain's pipelining gains
/// nothing, and each of its segments costs a wake-up per hop. At 64 MiB the chain was
/// faster (570-970 ms against 1290 ms at n = 8): the tree's root sends the whole value
/// log2(n) times.
pub(crate) const CHAIN_FROM: usize = 32 << 20;

/// The segment size of a chained broadcast of `len` bytes: small enough that the chain
/// fills quickly, large enough that per-message costs stay small.
fn segment_len(len: usize) -> usize {
    // The last bound keeps the segment count within a call's step numbers.
    (len / 8).clamp(1 << 20, 8 << 20).max(len.div_ceil(1 << 15))
}

/// The top bit of a broadcast's `aux` word: set when the value travels down a chain.
const CHAINED: u64 = 1 << 63;

impl Comm {
    /// Returns once every rank has called `barrier`. Dissemination: in round k each rank
    /// signals rank `r + 2^k` and waits for rank `r - 2^k`, ceil(log2 n) rounds in all.
    pub fn barrier(&self) -> Result<()> {
        self.barrier_with(Call::new(self, Op::plain(Kind::Barrier), Some(0)), &[])
    }

    /// The final barrier of a rank whose program has returned: every rank calls it last,
    /// before [`Comm::shutdown`]. It first tells every peer that this rank has finished,
    /// so that a rank still in another collective, or waiting for a point-to-point
    /// message from this one, fails at once naming it ([`Error::Spmd`]) instead of
    /// waiting until a timeout.
    pub fn finish(&self) -> Result<()> {
        let op = Op::plain(Kind::Finish);
        let peers: Vec<usize> = self.mailbox().peers().collect();
        self.barrier_with(Call::new(self, op, Some(0)), &peers)
    }

    /// A dissemination barrier in `call`, after telling `announce` where this rank is.
    fn barrier_with(&self, call: Call<'_>, announce: &[usize]) -> Result<()> {
        if !announce.is_empty() {
            self.tell_position(announce, Some((call.seq, call.op)));
        }
        let (rank, n) = (self.rank(), self.size());
        let mut distance = 1;
        let mut round = 0;
        while distance < n {
            call.send((rank + distance) % n, round, Bytes::new())?;
            call.recv((rank + n - distance) % n, round)?;
            distance *= 2;
            round += 1;
        }
        Ok(())
    }

    /// Sends `value` from `root` to every rank; every rank returns the root's value.
    /// Ranks other than the root pass anything (their value is ignored).
    ///
    /// Values under 32 MiB go down a binomial tree (ceil(log2 n) hops); larger ones
    /// down a chain of ranks in segments, each rank forwarding a segment as soon as it
    /// has it, so every rank receives the value once and the root sends it once.
    /// Receivers learn which from the first message's `aux` word.
    pub fn broadcast_bytes(&self, root: usize, value: Bytes) -> Result<Bytes> {
        self.broadcast_as(Op::rooted(Kind::Broadcast, root), root, value)
    }

    /// [`Comm::broadcast_bytes`] as operation `op` (which names the value type of a
    /// typed call).
    pub(crate) fn broadcast_as(&self, op: Op, root: usize, value: Bytes) -> Result<Bytes> {
        self.check_root(root)?;
        let call = Call::new(self, op, Some(value.len()));
        self.broadcast_on(&call, root, 0, value)
    }

    /// [`Comm::broadcast_bytes`] as a phase of `call` whose messages have steps from
    /// `first_step` on (earlier phases use the steps before it).
    pub(crate) fn broadcast_on(
        &self,
        call: &Call<'_>,
        root: usize,
        first_step: u32,
        value: Bytes,
    ) -> Result<Bytes> {
        let n = self.size();
        if n == 1 {
            return Ok(value);
        }
        let me = (self.rank() + n - root) % n; // rank relative to the root
        let real = |relative: usize| (relative + root) % n;
        if me == 0 {
            let len = value.len();
            if len < CHAIN_FROM || n == 2 {
                binomial_children(me, n, |child| {
                    call.send_aux(real(child), first_step, len as u64, value.clone())
                })?;
            } else {
                let segment = segment_len(len);
                for (i, start) in (0..len).step_by(segment).enumerate() {
                    let piece = value.slice(start..(start + segment).min(len));
                    call.send_aux(real(1), first_step + i as u32, CHAINED | len as u64, piece)?;
                }
            }
            return Ok(value);
        }
        let (from, aux, first) = call.recv_any(first_step)?;
        if aux & CHAINED == 0 {
            binomial_children(me, n, |child| {
                call.send_aux(real(child), first_step, aux, first.clone())
            })?;
            return Ok(first);
        }
        // A chain: receive the segments from the previous rank, pass each on.
        let len = (aux & !CHAINED) as usize;
        let segments = len.div_ceil(segment_len(len));
        let next = (me + 1 < n).then(|| real(me + 1));
        let mut out = Vec::with_capacity(len);
        let mut piece = first;
        for i in 0..segments {
            if i > 0 {
                piece = call.recv(from, first_step + i as u32)?;
            }
            if let Some(next) = next {
                call.send_aux(next, first_step + i as u32, aux, piece.clone())?;
            }
            out.extend_from_slice(&piece);
        }
        if out.len() != len {
            return Err(Error::Protocol(format!(
                "a broadcast from rank {root} announced {len} bytes and delivered {}",
                out.len()
            )));
        }
        Ok(Bytes::from(out))
    }

    /// Collects every rank's `value` at `root`, in rank order. The root gets
    /// `Some(values)`, the others `None`. Each rank sends straight to the root, which
    /// must receive every byte anyway.
    pub fn gather_bytes(&self, root: usize, value: Bytes) -> Result<Option<Vec<Bytes>>> {
        let mut all = Vec::new();
        let op = Op::rooted(Kind::Gather, root);
        let at_root = self.gather_as(op, root, value, |_, bytes| {
            all.push(bytes);
            Ok(())
        })?;
        Ok(at_root.then_some(all))
    }

    /// [`Comm::gather_bytes`] as operation `op`: at the root, calls `each(from, value)`
    /// for every rank's value in rank order, as it arrives (so that a typed gather
    /// decodes one value while the next is still on its way), and returns whether this
    /// rank is the root.
    pub(crate) fn gather_as(
        &self,
        op: Op,
        root: usize,
        value: Bytes,
        mut each: impl FnMut(usize, Bytes) -> Result<()>,
    ) -> Result<bool> {
        self.check_root(root)?;
        let call = Call::new(self, op, Some(value.len()));
        if self.rank() != root {
            call.send(root, 0, value)?;
            return Ok(false);
        }
        let mut own = value;
        for from in 0..self.size() {
            let value = match from == root {
                true => std::mem::take(&mut own),
                false => call.recv(from, 0)?,
            };
            each(from, value)?;
        }
        Ok(true)
    }

    /// Hands `parts[i]` from `root` to rank `i`; every rank returns its own part. Only
    /// the root's `parts` matter (one per rank); the others pass `None`.
    pub fn scatter_bytes(&self, root: usize, parts: Option<Vec<Bytes>>) -> Result<Bytes> {
        self.scatter_as(Op::rooted(Kind::Scatter, root), root, parts)
    }

    /// [`Comm::scatter_bytes`] as operation `op`.
    pub(crate) fn scatter_as(
        &self,
        op: Op,
        root: usize,
        parts: Option<Vec<Bytes>>,
    ) -> Result<Bytes> {
        self.check_root(root)?;
        let call = Call::new(
            self,
            op,
            parts.as_ref().map(|p| p.iter().map(Bytes::len).sum()),
        );
        if self.rank() != root {
            return call.recv(root, 0);
        }
        let parts = parts.ok_or_else(|| {
            Error::Config(format!(
                "scatter from rank {root}: the root passed no parts"
            ))
        })?;
        if parts.len() != self.size() {
            return Err(Error::Config(format!(
                "scatter from rank {root}: {} parts for {} ranks",
                parts.len(),
                self.size()
            )));
        }
        let mut own = Bytes::new();
        for (to, part) in parts.into_iter().enumerate() {
            if to == root {
                own = part;
            } else {
                call.send(to, 0, part)?;
            }
        }
        Ok(own)
    }

    /// Every rank's `value`, in rank order, on every rank. A ring: in step k each rank
    /// passes its right neighbour the value it received in step k - 1 (its own first),
    /// without copying it, so each rank sends and receives every other value once.
    pub fn all_gather_bytes(&self, value: Bytes) -> Result<Vec<Bytes>> {
        let mut all = vec![Bytes::new(); self.size()];
        self.all_gather_as(Op::plain(Kind::AllGather), value, |from, bytes| {
            all[from] = bytes.clone();
            Ok(())
        })?;
        Ok(all)
    }

    /// [`Comm::all_gather_bytes`] as operation `op`: calls `each(from, value)` for every
    /// rank's value (this rank's first), once it has been passed on, so that a typed
    /// all-gather decodes one value while the next is on its way.
    pub(crate) fn all_gather_as(
        &self,
        op: Op,
        value: Bytes,
        mut each: impl FnMut(usize, &Bytes) -> Result<()>,
    ) -> Result<()> {
        let call = Call::new(self, op, Some(value.len()));
        let (rank, n) = (self.rank(), self.size());
        let (right, left) = ((rank + 1) % n, (rank + n - 1) % n);
        // In step k, the value of rank `rank - k` goes right and that of `rank - k - 1`
        // comes from the left.
        let (mut from, mut current) = (rank, value);
        for step in 0..n.saturating_sub(1) {
            call.send(right, step as u32, current.clone())?;
            each(from, &current)?;
            current = call.recv(left, step as u32)?;
            from = (rank + n - step - 1) % n;
        }
        each(from, &current)
    }
}

/// Calls `send` for each child of relative rank `me` in a binomial tree of `n` ranks
/// rooted at relative rank 0, farthest subtree first (it has the most to pass on).
pub(crate) fn binomial_children(
    me: usize,
    n: usize,
    mut send: impl FnMut(usize) -> Result<()>,
) -> Result<()> {
    // The children of `me` are me + 2^k for every 2^k below me's lowest set bit.
    let limit = if me == 0 {
        n.next_power_of_two()
    } else {
        me & me.wrapping_neg()
    };
    let mut mask = limit / 2;
    while mask > 0 {
        if me + mask < n {
            send(me + mask)?;
        }
        mask /= 2;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every relative rank but 0 has exactly one parent in the tree.
    #[test]
    fn binomial_trees_reach_every_rank_once() {
        for n in 1..40 {
            let mut reached = vec![0; n];
            reached[0] = 1;
            for me in 0..n {
                binomial_children(me, n, |c| {
                    reached[c] += 1;
                    Ok(())
                })
                .unwrap();
            }
            assert!(reached.iter().all(|&r| r == 1), "n = {n}: {reached:?}");
        }
    }
}
