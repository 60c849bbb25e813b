//! Collectives where every rank has something for every other: all-to-all and scans.

use bytes::Bytes;

use super::op::{Kind, Op};
use super::{plain, Call, Wire};
use crate::endpoint::Comm;
use crate::error::{Error, Result};

impl Comm {
    /// Sends `parts[i]` to rank `i` and returns, at index `j`, what rank `j` sent here
    /// (MPI's all-to-all-v: parts may differ in size, and be empty).
    ///
    /// Pairwise exchange: in step k each rank sends to rank `r + k` and receives from
    /// rank `r - k`, so in every step each rank has one partner to send to and one to
    /// hear from. All sends are posted before the receives (they return at once unless
    /// a partner's window is full), which overlaps the steps; parts travel as they are,
    /// without copies.
    pub fn all_to_all_bytes(&self, parts: Vec<Bytes>) -> Result<Vec<Bytes>> {
        let mut received = vec![Bytes::new(); self.size()];
        self.all_to_all_as(Op::plain(Kind::AllToAll), parts, |from, bytes| {
            received[from] = bytes;
            Ok(())
        })?;
        Ok(received)
    }

    /// [`Comm::all_to_all_bytes`] as operation `op`: calls `each(from, part)` for the
    /// part from every rank (this rank's own first), as it arrives, so that a typed
    /// all-to-all decodes one part while others are on their way.
    pub(crate) fn all_to_all_as(
        &self,
        op: Op,
        mut parts: Vec<Bytes>,
        mut each: impl FnMut(usize, Bytes) -> Result<()>,
    ) -> Result<()> {
        let call = Call::new(self, op, Some(parts.iter().map(Bytes::len).sum()));
        let (rank, n) = (self.rank(), self.size());
        if parts.len() != n {
            return Err(Error::Config(format!(
                "all-to-all on rank {rank}: {} parts for {n} ranks",
                parts.len()
            )));
        }
        for step in 1..n {
            let to = (rank + step) % n;
            call.send(to, 0, std::mem::take(&mut parts[to]))?;
        }
        each(rank, std::mem::take(&mut parts[rank]))?;
        for step in 1..n {
            let from = (rank + n - step) % n;
            each(from, call.recv(from, 0)?)?;
        }
        Ok(())
    }

    /// The inclusive prefix combination: rank r gets `v0 ⊕ v1 ⊕ ... ⊕ vr`, with `merge`
    /// associative (not necessarily commutative). Recursive doubling: in round k each
    /// rank passes what it has to rank `r + 2^k` and folds in what rank `r - 2^k` passed
    /// it, ceil(log2 n) rounds.
    pub fn scan<T: Wire + Clone>(&self, value: T, merge: impl FnMut(T, T) -> T) -> Result<T> {
        Ok(self.scans(value, merge)?.0)
    }

    /// The exclusive prefix combination: rank r gets `v0 ⊕ ... ⊕ v(r-1)`, and rank 0
    /// `None`. The same algorithm as [`Comm::scan`]; e.g. the exclusive scan of byte
    /// counts gives each rank its offset in a shared file.
    pub fn exclusive_scan<T: Wire + Clone>(
        &self,
        value: T,
        merge: impl FnMut(T, T) -> T,
    ) -> Result<Option<T>> {
        Ok(self.scans(value, merge)?.1)
    }

    /// Both scans at once: `(inclusive, exclusive)`.
    fn scans<T: Wire + Clone>(
        &self,
        value: T,
        mut merge: impl FnMut(T, T) -> T,
    ) -> Result<(T, Option<T>)> {
        let call = Call::new(self, Op::typed::<T>(Kind::Scan, None), None);
        let (rank, n) = (self.rank(), self.size());
        // `inclusive` covers ranks (rank - distance, rank]; `exclusive` the same less
        // this rank itself.
        let mut inclusive = value;
        let mut exclusive: Option<T> = None;
        let mut distance = 1;
        let mut round = 0;
        while distance < n {
            if rank + distance < n {
                call.send(rank + distance, round, plain::copied_body(&inclusive)?)?;
            }
            if rank >= distance {
                let lower: T =
                    plain::from_body(call.recv(rank - distance, round)?, || "a scan".into())?;
                exclusive = Some(match exclusive {
                    Some(e) => merge(lower.clone(), e),
                    None => lower.clone(),
                });
                inclusive = merge(lower, inclusive);
            }
            distance *= 2;
            round += 1;
        }
        Ok((inclusive, exclusive))
    }
}
