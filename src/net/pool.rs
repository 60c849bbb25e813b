//! Recycled receive buffers for large message bodies.
//!
//! A large body is read straight into one buffer of its final size. When that buffer is
//! new memory, the transfer pays a page fault per 4 KiB page, and in a VM a fault may
//! also fault in the host: on the development VM a 64 MiB raw TCP transfer into fresh
//! memory ran at 27-64% of the same transfer into a reused buffer (bench/RESULTS.md).
//! Received values are usually short-lived (a chunk is decoded into a column and
//! dropped), so the buffer of a large body comes back here when the last [`Bytes`]
//! referring to it drops, and the next large body of a similar size reuses it.
//!
//! The pool holds a few buffers and a bounded number of bytes; past that, returned
//! buffers are simply freed.

use bytes::Bytes;
use parking_lot::Mutex;

/// Bodies at least this large are recycled; smaller ones are cheap to allocate and the
/// allocator keeps their memory warm anyway.
pub(crate) const RECYCLED_MIN: usize = 1 << 20;
/// The most memory the pool keeps while no value uses it.
const POOL_BYTES: usize = 256 << 20;
/// The most buffers the pool keeps.
const POOL_BUFFERS: usize = 8;

static POOL: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

/// A buffer of exactly `len` bytes whose contents the caller will overwrite in full: a
/// recycled one when the pool has one of a fitting size, else a new zeroed one.
pub(crate) fn take(len: usize) -> Vec<u8> {
    if len >= RECYCLED_MIN {
        let mut pool = POOL.lock();
        // The smallest buffer that is large enough; one over twice the size would pin
        // too much memory behind a smaller value.
        let fitting = pool
            .iter()
            .enumerate()
            .filter(|(_, b)| b.len() >= len && b.len() / 2 <= len)
            .min_by_key(|(_, b)| b.len())
            .map(|(i, _)| i);
        if let Some(i) = fitting {
            let mut buf = pool.swap_remove(i);
            buf.truncate(len);
            return buf;
        }
    }
    vec![0; len]
}

/// Turns a filled body into the value handed to the upper layer; a large one returns its
/// buffer to the pool once the last reference to it drops.
pub(crate) fn into_bytes(body: Vec<u8>) -> Bytes {
    if body.len() >= RECYCLED_MIN {
        Bytes::from_owner(Recycled(body))
    } else {
        Bytes::from(body)
    }
}

/// The owner of a large received body; dropping it gives the buffer back.
struct Recycled(Vec<u8>);

impl AsRef<[u8]> for Recycled {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for Recycled {
    fn drop(&mut self) {
        let buf = std::mem::take(&mut self.0);
        let mut pool = POOL.lock();
        let kept: usize = pool.iter().map(Vec::capacity).sum();
        if pool.len() < POOL_BUFFERS && kept + buf.capacity() <= POOL_BYTES {
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

        let big = take(RECYCLED_MIN * 4);
        let address = big.as_ptr();
        let value = into_bytes(big);
        let alias = value.slice(10..20);
        drop(value);
        // A slice still refers to the buffer: nothing is back yet.
        let fresh = take(RECYCLED_MIN * 4);
        assert_ne!(fresh.as_ptr(), address);
        drop(alias);
        // Back now; a request for under half its size does not take it...
        let smaller = take(RECYCLED_MIN + 1);
        assert_ne!(smaller.as_ptr(), address);
        // ...a slightly smaller one does, at the requested length.
        let again = take(RECYCLED_MIN * 4 - 100);
        assert_eq!(
            (again.as_ptr(), again.len()),
            (address, RECYCLED_MIN * 4 - 100)
        );
    }
}
