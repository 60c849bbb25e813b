//! Receive buffers for large message bodies: page-aligned, and recycled when large.
//!
//! A large body is read straight into one buffer of its final size. Two things about that
//! buffer decide how fast the kernel can copy into it, both measured on the development
//! VM (bench/RESULTS.md):
//! - Where it starts. The allocator puts large blocks 16 bytes into a page, and copies
//!   to such an address ran at about half the speed of copies to a page boundary. Every
//!   body buffer is therefore over-allocated by up to a page and used from the first
//!   page boundary in it.
//! - Whether it is new memory. New memory pays a page fault per 4 KiB page (in a VM,
//!   sometimes one in the host as well): a 64 MiB raw TCP transfer into fresh memory ran
//!   at 27-67% of the same transfer into a reused buffer. Received values are usually
//!   short-lived (a chunk is decoded into a column and dropped), so the buffer of a body
//!   of [`RECYCLED_MIN`] or more comes back here when the last [`Bytes`] referring to it
//!   drops, and the next body of a similar size reuses it.
//!
//! Medium bodies (a collective's blocks: 64 KiB to 1 MiB) are recycled too, and so are
//! the copies a collective sends ([`copy_of`]). Left to the allocator, glibc serves
//! them with `mmap` at first and, once its adaptive threshold rises, from heaps that it
//! trims after each burst: either way every call faulted its pages in again. On 8 ranks,
//! an all-to-all of 1 MiB took 4.4 ms after an all-reduce and 2.9 ms alone (median of
//! 15); recycling these buffers took the first to 3.3 ms (bench/RESULTS.md, session 4).
//! The pool keeps at most [`PER_CLASS`] buffers of each power-of-two size and
//! [`POOL_BYTES`] in all; past that, returned buffers are freed.

use bytes::Bytes;
use parking_lot::Mutex;

/// Bodies at least this large are recycled; smaller ones are cheap to allocate and the
/// allocator keeps their memory warm anyway (they stay under glibc's `mmap` threshold).
pub(crate) const RECYCLED_MIN: usize = 64 << 10;
/// The most memory the pool keeps while no value uses it.
const POOL_BYTES: usize = 256 << 20;
/// The most buffers the pool keeps of each power-of-two capacity: enough for a rank's
/// blocks in flight in a collective on a few dozen ranks, while a flood of one size
/// cannot push out the buffers of others.
const PER_CLASS: usize = 16;
/// Where in its allocation a body starts: a page boundary.
const ALIGN: usize = 4096;

static POOL: Mutex<Vec<BodyBuf>> = Mutex::new(Vec::new());

/// A buffer for one body: `len` bytes starting at a page boundary inside `buf`.
pub(crate) struct BodyBuf {
    buf: Vec<u8>,
    start: usize,
    len: usize,
}

impl BodyBuf {
    /// A zeroed buffer (fresh pages from the allocator, so no memset) of `len` bytes.
    fn new(len: usize) -> BodyBuf {
        let buf = vec![0; len + ALIGN - 1];
        let start = (ALIGN - buf.as_ptr() as usize % ALIGN) % ALIGN;
        BodyBuf { buf, start, len }
    }

    /// The most bytes a body in this buffer can have.
    fn capacity(&self) -> usize {
        self.buf.len() - self.start
    }

    /// The body's bytes.
    pub(crate) fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.buf[self.start..self.start + self.len]
    }

    /// The body's length.
    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

impl std::fmt::Debug for BodyBuf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BodyBuf")
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

impl AsRef<[u8]> for BodyBuf {
    fn as_ref(&self) -> &[u8] {
        &self.buf[self.start..self.start + self.len]
    }
}

/// A buffer for a body of exactly `len` bytes, whose contents the caller will overwrite
/// in full: a recycled one when the pool has one of a fitting size, else a new one.
pub(crate) fn take(len: usize) -> BodyBuf {
    if len >= RECYCLED_MIN {
        let mut pool = POOL.lock();
        // The smallest buffer that is large enough; one over twice the size would pin
        // too much memory behind a smaller value.
        let fitting = pool
            .iter()
            .enumerate()
            .filter(|(_, b)| b.capacity() >= len && b.capacity() / 2 <= len)
            .min_by_key(|(_, b)| b.capacity())
            .map(|(i, _)| i);
        if let Some(i) = fitting {
            let mut buf = pool.swap_remove(i);
            buf.len = len;
            return buf;
        }
    }
    BodyBuf::new(len)
}

/// Turns a filled body into the value handed to the upper layer; a large one returns its
/// buffer to the pool once the last reference to it drops.
pub(crate) fn into_bytes(body: BodyBuf) -> Bytes {
    if body.len >= RECYCLED_MIN {
        Bytes::from_owner(Recycled(body))
    } else {
        let window = body.start..body.start + body.len;
        Bytes::from(body.buf).slice(window)
    }
}

/// A copy of `bytes` that can travel: in a page-aligned, recycled buffer when large
/// (so that repeated large sends, such as a collective's blocks, neither fault in new
/// pages nor leave the kernel misaligned copies), else an ordinary allocation.
pub(crate) fn copy_of(bytes: &[u8]) -> Bytes {
    if bytes.len() < RECYCLED_MIN {
        return Bytes::copy_from_slice(bytes);
    }
    let mut body = take(bytes.len());
    body.as_mut_slice().copy_from_slice(bytes);
    into_bytes(body)
}

/// The power of two at or below `capacity`, as an exponent: buffers of one class differ
/// in size by less than 2x.
fn size_class(capacity: usize) -> u32 {
    capacity.max(1).ilog2()
}

/// The owner of a large received body; dropping it gives the buffer back.
struct Recycled(BodyBuf);

impl AsRef<[u8]> for Recycled {
    fn as_ref(&self) -> &[u8] {
        self.0.as_ref()
    }
}

impl Drop for Recycled {
    fn drop(&mut self) {
        let buf = std::mem::replace(
            &mut self.0,
            BodyBuf {
                buf: Vec::new(),
                start: 0,
                len: 0,
            },
        );
        let class = size_class(buf.buf.capacity());
        let mut pool = POOL.lock();
        let kept: usize = pool.iter().map(|b| b.buf.capacity()).sum();
        let of_class = pool
            .iter()
            .filter(|b| size_class(b.buf.capacity()) == class)
            .count();
        if of_class < PER_CLASS && kept + buf.buf.capacity() <= POOL_BYTES {
            pool.push(buf);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pool is process-wide, so one test walks through every rule in order.
    #[test]
    fn recycles_large_buffers_of_fitting_sizes() {
        let small = into_bytes(take(1000));
        assert_eq!(small.len(), 1000);
        assert_eq!(small.as_ptr() as usize % ALIGN, 0);

        let big = take(RECYCLED_MIN * 4);
        let address = big.as_ref().as_ptr();
        assert_eq!(address as usize % ALIGN, 0);
        let value = into_bytes(big);
        let alias = value.slice(10..20);
        drop(value);
        // A slice still refers to the buffer: nothing is back yet.
        let fresh = take(RECYCLED_MIN * 4);
        assert_ne!(fresh.as_ref().as_ptr(), address);
        drop(alias);
        // Back now; a request for under half its size does not take it...
        let smaller = take(RECYCLED_MIN + 1);
        assert_ne!(smaller.as_ref().as_ptr(), address);
        // ...a slightly smaller one does, at the requested length.
        let again = take(RECYCLED_MIN * 4 - 100);
        assert_eq!(
            (again.as_ref().as_ptr(), again.len()),
            (address, RECYCLED_MIN * 4 - 100)
        );

        // Each power-of-two size keeps at most PER_CLASS buffers, whatever comes back.
        let len = RECYCLED_MIN * 3;
        let values: Vec<Bytes> = (0..PER_CLASS + 5).map(|_| into_bytes(take(len))).collect();
        drop(values);
        let class = size_class(take(len).capacity());
        let kept = POOL
            .lock()
            .iter()
            .filter(|b| size_class(b.capacity()) == class)
            .count();
        assert!(kept <= PER_CLASS, "{kept} buffers of one class kept");
        // (Other tests of this binary may hold a few of them right now.)
        assert!(kept >= PER_CLASS / 2, "only {kept} buffers kept");
    }
}
