//! Collectives that combine values: reduce, all-reduce, and their plain-vector forms.

use std::ops::Range;

use bytes::Bytes;

use super::lent::lend;
use super::op::{Kind, Op};
use super::plain::{self, as_elements, element_count};
use super::{Call, Pod, Wire};
use crate::endpoint::Comm;
use crate::error::{Error, Result};

/// Plain vectors are all-reduced by recursive doubling while that sends under this many
/// bytes per rank in all (the vector once per round), else on a ring. Doubling takes
/// fewer steps; the ring sends about twice the vector whatever n is. So no rank sends or
/// receives more than max(this, about 2S) bytes for a vector of S bytes.
pub(crate) const RING_FROM: usize = 256 << 10;

/// Whether a plain vector of `bytes` bytes and `len` elements goes around the ring in a
/// job of `n` ranks (else by recursive doubling, or a binomial tree for a reduce).
fn use_ring(bytes: usize, len: usize, n: usize) -> bool {
    let rounds = n.next_power_of_two().trailing_zeros() as usize;
    len >= n && bytes.saturating_mul(rounds) >= RING_FROM
}

/// How the ranks of a job of `n` pair up for recursive doubling when `n` is not a power
/// of two: the first `2 * rem` ranks fold in pairs (even into odd) before and get the
/// result back after, so the doubling runs on `p` ranks whose blocks stay in rank order.
struct Doubling {
    /// The largest power of two not above n.
    p: usize,
    /// n - p: how many pairs fold.
    rem: usize,
}

impl Doubling {
    fn new(n: usize) -> Doubling {
        let p = if n.is_power_of_two() {
            n
        } else {
            n.next_power_of_two() / 2
        };
        Doubling { p, rem: n - p }
    }

    /// This rank's index among the `p` that double, or `None` for a folded even rank.
    fn index(&self, rank: usize) -> Option<usize> {
        if rank < 2 * self.rem {
            (rank % 2 == 1).then_some(rank / 2)
        } else {
            Some(rank - self.rem)
        }
    }

    /// The rank with doubling index `index`.
    fn rank(&self, index: usize) -> usize {
        if index < self.rem {
            2 * index + 1
        } else {
            index + self.rem
        }
    }
}

/// How recursive doubling moves values of type `V` between ranks.
trait Carry<V> {
    /// Calls `with` on a message body holding `value`, which must leave for another
    /// rank before `with` returns, and no clone of it outlive `with` (it may be lent).
    fn lent<R>(&self, value: &V, with: impl FnOnce(Bytes) -> Result<R>) -> Result<R>;
    /// A message body holding `value`, which the caller no longer needs.
    fn give(&self, value: V) -> Result<Bytes>;
    /// The value a partner's body holds.
    fn receive(&self, body: Bytes) -> Result<V>;
}

/// Values of a typed call: plain vectors as their bytes, others encoded.
struct Typed;

impl<T: Wire> Carry<T> for Typed {
    fn lent<R>(&self, value: &T, with: impl FnOnce(Bytes) -> Result<R>) -> Result<R> {
        plain::with_body(value, with)
    }

    fn give(&self, value: T) -> Result<Bytes> {
        plain::into_body(value)
    }

    fn receive(&self, body: Bytes) -> Result<T> {
        plain::from_body(body, || "a partner in an all-reduce".into())
    }
}

/// The vectors of [`Comm::all_reduce_slice`], all of `len` elements.
struct Slice {
    len: usize,
}

impl<T: Pod + Send> Carry<Vec<T>> for Slice {
    fn lent<R>(&self, value: &Vec<T>, with: impl FnOnce(Bytes) -> Result<R>) -> Result<R> {
        lend(bytemuck::cast_slice(value), with)
    }

    fn give(&self, value: Vec<T>) -> Result<Bytes> {
        Ok(plain::owned_body(value))
    }

    fn receive(&self, body: Bytes) -> Result<Vec<T>> {
        let elements = as_elements::<T>(&body, "an all-reduce")?;
        expect_len(elements.len(), self.len, "a partner in an all-reduce")?;
        Ok(elements.into_owned())
    }
}

/// Recursive doubling of a value of any kind, keeping rank order: after the round with
/// distance d each rank holds the combination of an aligned block of 2d ranks, and two
/// partners always combine `lower block, higher block`. So every rank ends with the same
/// value, and `merge` need only be associative, not commutative. Values leave without
/// copies when `carry` can lend them; each received one is copied once, into the value
/// handed to `merge`.
fn doubling<V>(
    call: &Call<'_>,
    value: V,
    carry: &impl Carry<V>,
    mut merge: impl FnMut(V, V) -> V,
) -> Result<V> {
    let (rank, n) = (call.rank(), call.size());
    if n == 1 {
        return Ok(value);
    }
    let plan = Doubling::new(n);
    let last = 1 + plan.p.trailing_zeros();
    let Some(index) = plan.index(rank) else {
        // A folded even rank: hand the value to the odd partner, get the result back.
        call.send(rank + 1, 0, carry.give(value)?)?;
        return carry.receive(call.recv(rank + 1, last)?);
    };
    let mut value = value;
    if rank < 2 * plan.rem {
        let lower = carry.receive(call.recv(rank - 1, 0)?)?;
        value = merge(lower, value);
    }
    let mut distance = 1;
    let mut round = 1;
    while distance < plan.p {
        let partner = plan.rank(index ^ distance);
        let theirs = carry.lent(&value, |body| {
            call.send(partner, round, body)?;
            call.recv(partner, round)
        })?;
        let theirs = carry.receive(theirs)?;
        value = if partner < rank {
            merge(theirs, value)
        } else {
            merge(value, theirs)
        };
        distance *= 2;
        round += 1;
    }
    if rank < 2 * plan.rem {
        carry.lent(&value, |body| call.send(rank - 1, last, body))?;
    }
    Ok(value)
}

/// The bytes of a slice of `T`, copied into a buffer that can travel (a recycled one
/// when large: a ring sends such blocks every step).
fn to_bytes<T: Pod>(elements: &[T]) -> Bytes {
    crate::net::copy_of(bytemuck::cast_slice(elements))
}

/// The element range of block `i` when `len` elements are cut into `n` near-equal
/// blocks, the longer ones first.
fn block(len: usize, n: usize, i: usize) -> Range<usize> {
    let (base, extra) = (len / n, len % n);
    let start = i * base + i.min(extra);
    start..start + base + usize::from(i < extra)
}

/// Checks that a received vector or block has the length this rank expects.
fn expect_len(got: usize, want: usize, from: &str) -> Result<()> {
    if got == want {
        Ok(())
    } else {
        Err(Error::Protocol(format!(
            "{from} sent {got} elements where {want} were expected \
             (do all ranks pass vectors of the same length?)"
        )))
    }
}

impl Comm {
    /// Combines every rank's `value` with `merge`; every rank gets the result.
    ///
    /// Recursive doubling (ceil(log2 n) rounds, plus two when n is not a power of two),
    /// combining in rank order: `merge` must be associative, as in MPI, but need not be
    /// commutative, and every rank gets exactly the same result. Each round sends the
    /// whole value; for large plain vectors [`Comm::all_reduce_slice`] sends about
    /// twice the vector in all instead. A plain vector on a crowded job (some machine
    /// runs more ranks than it has CPUs, `EAU2_CROWDED`) goes to rank 0 by a binomial
    /// tree, in the same order, and comes back by a broadcast: fewer bytes in all where
    /// the ranks' copies compete for cores.
    pub fn all_reduce<T: Wire>(&self, value: T, merge: impl FnMut(T, T) -> T) -> Result<T> {
        let size = plain::plain_bytes(&value).map(<[u8]>::len);
        // On a crowded job, plain vectors (the large values) go to rank 0 by a binomial
        // tree and back by a broadcast: 2(n - 1) transfers and n - 1 merges in all,
        // where recursive doubling makes n log2 n of each. With cores to spare the
        // doubling's log2 n steps are faster; without, the volume decides (16 MiB on 8
        // ranks of 2 cores: 67-76 ms against 123-131 ms; bench/RESULTS.md, session 10).
        let by_volume = size.is_some() && self.size() > 2 && self.crowded()?;
        let call = Call::new(self, Op::typed::<T>(Kind::AllReduce, None), size);
        if by_volume {
            let reduced = self.reduce_in(&call, 0, value, merge)?;
            // The reduce and its hand-over use steps 0 and 1 (see `reduce_in`).
            return self.broadcast_value_on(&call, 0, 2, reduced);
        }
        doubling(&call, value, &Typed, merge)
    }

    /// Combines every rank's `value` with `merge` at `root`, in rank order (so `merge`
    /// must be associative, not commutative). The root gets `Some(result)`, the others
    /// `None`. A binomial tree towards rank 0, whose subtrees hold runs of consecutive
    /// ranks; rank 0 then hands the result to `root` if that is another rank.
    pub fn reduce<T: Wire>(
        &self,
        root: usize,
        value: T,
        merge: impl FnMut(T, T) -> T,
    ) -> Result<Option<T>> {
        self.check_root(root)?;
        let call = Call::new(self, Op::typed::<T>(Kind::Reduce, Some(root)), None);
        self.reduce_in(&call, root, value, merge)
    }

    /// [`Comm::reduce`]'s binomial tree, in `call`.
    fn reduce_in<T: Wire>(
        &self,
        call: &Call<'_>,
        root: usize,
        value: T,
        mut merge: impl FnMut(T, T) -> T,
    ) -> Result<Option<T>> {
        let (rank, n) = (self.rank(), self.size());
        let mut value = value;
        let mut mask = 1;
        while mask < n {
            if rank & mask != 0 {
                call.send(rank - mask, 0, plain::into_body(value)?)?;
                return self.reduced_at(call, root, None);
            }
            if rank + mask < n {
                let higher = plain::from_body(call.recv(rank + mask, 0)?, || "a reduce".into())?;
                value = merge(value, higher);
            }
            mask *= 2;
        }
        self.reduced_at(call, root, Some(value))
    }

    /// Moves a reduction's result from rank 0 (which has it as `value`) to `root`.
    fn reduced_at<T: Wire>(
        &self,
        call: &Call<'_>,
        root: usize,
        value: Option<T>,
    ) -> Result<Option<T>> {
        let rank = self.rank();
        match (root, rank) {
            (0, 0) => Ok(value),
            (_, 0) => {
                if let Some(v) = value {
                    call.send(root, 1, plain::into_body(v)?)?;
                }
                Ok(None)
            }
            (root, rank) if root == rank => Ok(Some(plain::from_body(call.recv(0, 1)?, || {
                "a reduce".into()
            })?)),
            _ => Ok(None),
        }
    }

    /// Combines the ranks' vectors element by element, in place: afterwards every rank's
    /// `data` holds the combination of all of them. `combine(acc, other)` folds `other`
    /// into `acc` (two slices of the same length); it must be commutative and
    /// associative element by element (bitwise OR, min, integer sums; float sums may
    /// round differently than a sequential fold). Every rank passes the same length.
    ///
    /// Small vectors go by recursive doubling (while it sends under 256 KiB per rank in
    /// all); larger ones around a ring: a reduce-scatter (n - 1 steps, each rank
    /// combining one block per step) then an all-gather of the combined blocks, so each
    /// rank sends and receives about twice the vector whatever n is. Elements travel as
    /// their bytes.
    pub fn all_reduce_slice<T: Pod + Send + Sync>(
        &self,
        data: &mut [T],
        combine: impl Fn(&mut [T], &[T]),
    ) -> Result<()> {
        self.all_reduce_slice_as(Kind::AllReduceSlice, data, combine)
    }

    /// [`Comm::all_reduce_slice`] as operation `kind` (the name errors give the call).
    fn all_reduce_slice_as<T: Pod + Send + Sync>(
        &self,
        kind: Kind,
        data: &mut [T],
        combine: impl Fn(&mut [T], &[T]),
    ) -> Result<()> {
        let call = Call::new(
            self,
            Op::vector::<T>(kind, None, data.len()),
            Some(size_of_val(data)),
        );
        let n = self.size();
        if n == 1 {
            return Ok(());
        }
        if !use_ring(size_of_val(data), data.len(), n) {
            let carry = Slice { len: data.len() };
            let combined = doubling(&call, data.to_vec(), &carry, |mut lower: Vec<T>, higher| {
                combine(&mut lower, &higher);
                lower
            })?;
            data.copy_from_slice(&combined);
            return Ok(());
        }
        let owned = ring_reduce_scatter(&call, data, &combine)?;
        ring_all_gather(&call, data, owned)
    }

    /// Combines the ranks' vectors element by element with `combine(a, b)`, a closure
    /// over two elements; every rank gets the combined vector back. The short form of
    /// [`Comm::all_reduce_slice`] for the call a newcomer writes first:
    ///
    /// ```
    /// # use eau2_comm::{net::NetConfig, Comm};
    /// # let comm = Comm::connect(&NetConfig::new(0, 1, "127.0.0.1:0", "secret"))?;
    /// let totals = comm.all_reduce_elementwise(vec![1u64, 2, 3], |a, b| a + b)?;
    /// assert_eq!(totals, [1, 2, 3]);
    /// # Ok::<(), eau2_comm::Error>(())
    /// ```
    ///
    /// Because `combine` sees single elements, large vectors can be cut into blocks
    /// that different ranks combine (a ring reduce-scatter, then an all-gather), so each
    /// rank sends and receives about twice the vector whatever n is; [`Comm::all_reduce`]
    /// with a closure over whole vectors must send the whole vector ceil(log2 n) times.
    /// So `combine` must be associative and commutative (sums, min, max, bitwise
    /// operations; float sums may round differently than a sequential fold, but every
    /// rank gets the same bits). Every rank passes a vector of the same length: a rank
    /// that does not fails the call on every rank, naming the lengths.
    pub fn all_reduce_elementwise<T: Pod + Send + Sync>(
        &self,
        values: Vec<T>,
        combine: impl Fn(T, T) -> T,
    ) -> Result<Vec<T>> {
        let mut values = values;
        self.all_reduce_slice_as(Kind::AllReduceElementwise, &mut values, |acc, other| {
            acc.iter_mut()
                .zip(other)
                .for_each(|(a, &b)| *a = combine(*a, b))
        })?;
        Ok(values)
    }

    /// Combines the ranks' vectors element by element into `root`'s `data` (the others'
    /// `data` is left partly combined). The same rules as [`Comm::all_reduce_slice`];
    /// large vectors go by a ring reduce-scatter, then each rank sends its combined block
    /// to the root.
    pub fn reduce_slice<T: Pod + Send + Sync>(
        &self,
        root: usize,
        data: &mut [T],
        combine: impl Fn(&mut [T], &[T]),
    ) -> Result<()> {
        self.check_root(root)?;
        let call = Call::new(
            self,
            Op::vector::<T>(Kind::ReduceSlice, Some(root), data.len()),
            Some(size_of_val(data)),
        );
        let n = self.size();
        if n == 1 {
            return Ok(());
        }
        if !use_ring(size_of_val(data), data.len(), n) {
            // Small: a tree over whole vectors, as the generic reduce does.
            let len = data.len();
            let mismatch = std::cell::Cell::new(None);
            let combined = self.reduce_in(&call, root, PlainVec(data.to_vec()), |mut a, b| {
                if a.0.len() == b.0.len() {
                    combine(&mut a.0, &b.0);
                } else {
                    mismatch.set(Some(b.0.len()));
                }
                a
            })?;
            if let Some(got) = mismatch.get() {
                expect_len(got, len, "a rank in a reduce")?;
            }
            if let Some(PlainVec(v)) = combined {
                data.copy_from_slice(&v);
            }
            return Ok(());
        }
        let owned = ring_reduce_scatter(&call, data, &combine)?;
        let rank = self.rank();
        let len = data.len();
        let step = (n - 1) as u32;
        if rank != root {
            return call.send(root, step, to_bytes(&data[block(len, n, owned)]));
        }
        for from in (0..n).filter(|&r| r != root) {
            let which = (from + 1) % n; // the block rank `from` ends up owning
            let range = block(len, n, which);
            let bytes = call.recv(from, step)?;
            let elements = as_elements::<T>(&bytes, "a reduce")?;
            expect_len(elements.len(), range.len(), &format!("rank {from}"))?;
            data[range].copy_from_slice(&elements);
        }
        Ok(())
    }
}

/// A plain vector carried by the generic reduce as its raw bytes.
struct PlainVec<T>(Vec<T>);

impl<'a, T: Pod> speedy::Readable<'a, speedy::LittleEndian> for PlainVec<T> {
    fn read_from<R: speedy::Reader<'a, speedy::LittleEndian>>(
        reader: &mut R,
    ) -> std::result::Result<Self, speedy::Error> {
        let bytes: Vec<u8> = reader.read_value()?;
        if bytes.len() % size_of::<T>() != 0 {
            return Err(speedy::Error::custom("a plain vector of partial elements"));
        }
        Ok(PlainVec(bytemuck::pod_collect_to_vec(&bytes)))
    }
}

impl<T: Pod> speedy::Writable<speedy::LittleEndian> for PlainVec<T> {
    fn write_to<W: ?Sized + speedy::Writer<speedy::LittleEndian>>(
        &self,
        writer: &mut W,
    ) -> std::result::Result<(), speedy::Error> {
        let bytes: &[u8] = bytemuck::cast_slice(&self.0);
        writer.write_u32(bytes.len() as u32)?;
        writer.write_bytes(bytes)
    }
}

/// The reduce-scatter half of the ring: in step k each rank sends block `rank - k` to
/// its right neighbour and folds block `rank - k - 1` from its left into its own data.
/// Returns the block this rank then holds fully combined: `rank + 1`. Blocks leave
/// straight from `data` ([`lend`]), which is changed only once they are sent.
fn ring_reduce_scatter<T: Pod>(
    call: &Call<'_>,
    data: &mut [T],
    combine: &impl Fn(&mut [T], &[T]),
) -> Result<usize> {
    let (rank, n, len) = (call.rank(), call.size(), data.len());
    let (right, left) = ((rank + 1) % n, (rank + n - 1) % n);
    for step in 0..n - 1 {
        let outgoing = block(len, n, (rank + n - step) % n);
        let incoming = block(len, n, (rank + 2 * n - step - 1) % n);
        let bytes = lend(bytemuck::cast_slice(&data[outgoing]), |body| {
            call.send(right, step as u32, body)?;
            receive_block::<T>(call, left, step as u32, incoming.len())
        })?;
        combine(
            &mut data[incoming],
            &as_elements::<T>(&bytes, "an all-reduce")?,
        );
    }
    Ok((rank + 1) % n)
}

/// The all-gather half of the ring: each rank starts with block `owned` combined and
/// passes blocks on to its right, forwarding what it receives without copying it (its
/// own block leaves straight from `data`, lent).
fn ring_all_gather<T: Pod>(call: &Call<'_>, data: &mut [T], owned: usize) -> Result<()> {
    let (rank, n, len) = (call.rank(), call.size(), data.len());
    let (right, left) = ((rank + 1) % n, (rank + n - 1) % n);
    let first = n as u32; // steps 0..n-1 belong to the reduce-scatter
    let which = |step: usize| block(len, n, (owned + 2 * n - step - 1) % n);
    // Step 0 sends this rank's own block, lent: `data` changes only once it is sent.
    let mut bytes = lend(bytemuck::cast_slice(&data[block(len, n, owned)]), |body| {
        call.send(right, first, body)?;
        receive_block::<T>(call, left, first, which(0).len())
    })?;
    for step in 0..n - 1 {
        // Passed on before it is copied in, so the next rank can start on it.
        let forward = step + 1 < n - 1;
        let tag = first + step as u32 + 1;
        if forward {
            call.send(right, tag, bytes.clone())?;
        }
        data[which(step)].copy_from_slice(&as_elements::<T>(&bytes, "an all-reduce")?);
        if forward {
            bytes = receive_block::<T>(call, left, tag, which(step + 1).len())?;
        }
    }
    Ok(())
}

/// Receives step `step`'s block from `left` and checks that it holds `elements` of `T`.
fn receive_block<T: Pod>(
    call: &Call<'_>,
    left: usize,
    step: u32,
    elements: usize,
) -> Result<Bytes> {
    let bytes = call.recv(left, step)?;
    let got = element_count::<T>(&bytes, "an all-reduce")?;
    expect_len(got, elements, &format!("rank {left}"))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_tile_the_vector() {
        for len in [0, 1, 5, 8, 17, 1000] {
            for n in 1..10 {
                let mut next = 0;
                for i in 0..n {
                    let b = block(len, n, i);
                    assert_eq!(b.start, next);
                    next = b.end;
                }
                assert_eq!(next, len);
            }
        }
    }

    #[test]
    fn doubling_plans_pair_every_rank() {
        for n in 1..40 {
            let plan = Doubling::new(n);
            assert!(plan.p.is_power_of_two() && plan.p <= n && 2 * plan.p > n);
            let indices: Vec<_> = (0..n).filter_map(|r| plan.index(r)).collect();
            assert_eq!(indices, (0..plan.p).collect::<Vec<_>>(), "n = {n}");
            for i in 0..plan.p {
                assert_eq!(plan.index(plan.rank(i)), Some(i));
            }
        }
    }
}
