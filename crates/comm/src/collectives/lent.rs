//! Sending a caller's memory without copying it, MPI style: the message refers to the
//! borrowed bytes, and the sender waits until nothing refers to them any more.
//!
//! A large all-reduce sends blocks of the caller's own vector. Copying each block into
//! a buffer of its own, so that it can outlive the call, cost a memory pass per block:
//! on two ranks and 16 MiB, two passes of 8 MiB in a call that moves 16 MiB each way.
//! A [`Lent`] lends the block instead. The body handed to the message plane is a
//! [`Bytes`] over the borrowed memory whose owner signals when it is dropped: once the
//! frame is written in full, or thrown away because its link closed. [`Lent::wait`]
//! (and the drop of a `Lent`, on every path, early returns included) blocks until then,
//! so the borrow outlives every use of the memory.
//!
//! Every link that holds such a frame either writes it or is closed within the peer
//! timeout (a silent peer is declared lost and its link closed), so the wait ends.

use std::sync::Arc;

use bytes::Bytes;
use parking_lot::{Condvar, Mutex};

/// Whether a lent body is still referred to.
#[derive(Default)]
struct Release {
    done: Mutex<bool>,
    dropped: Condvar,
}

/// The owner of a lent body inside its [`Bytes`]: a view of memory that the lending
/// [`Lent`] keeps borrowed until this is dropped.
struct LentView {
    ptr: *const u8,
    len: usize,
    release: Arc<Release>,
}

// SAFETY: the view only reads memory that stays borrowed (shared) by the lending thread
// until the view is dropped; reading it from another thread is what a `&[u8]` allows.
unsafe impl Send for LentView {}

impl AsRef<[u8]> for LentView {
    fn as_ref(&self) -> &[u8] {
        // SAFETY: `ptr..ptr + len` is a live `&[u8]` borrowed by the `Lent` that made
        // this view, which does not return (or drop) before this view is dropped.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl Drop for LentView {
    fn drop(&mut self) {
        *self.release.done.lock() = true;
        self.release.dropped.notify_all();
    }
}

/// Bytes of the caller lent to one message; see the module's documentation.
pub(crate) struct Lent<'a> {
    release: Arc<Release>,
    _borrow: std::marker::PhantomData<&'a [u8]>,
}

impl<'a> Lent<'a> {
    /// Lends `bytes`: returns the guard that keeps them borrowed and the message body
    /// that refers to them. The body must go to another rank (a message to this rank
    /// would keep it in the mailbox until received, after the guard waits for it).
    pub(crate) fn new(bytes: &'a [u8]) -> (Lent<'a>, Bytes) {
        let release = Arc::new(Release::default());
        let view = LentView {
            ptr: bytes.as_ptr(),
            len: bytes.len(),
            release: Arc::clone(&release),
        };
        let lent = Lent {
            release,
            _borrow: std::marker::PhantomData,
        };
        (lent, Bytes::from_owner(view))
    }

    /// Waits until no message refers to the lent bytes.
    pub(crate) fn wait(self) {
        // The drop does the waiting, so that early returns wait too.
    }
}

impl Drop for Lent<'_> {
    fn drop(&mut self) {
        let mut done = self.release.done.lock();
        while !*done {
            self.release.dropped.wait(&mut done);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    #[test]
    fn the_lender_waits_for_the_last_reference() {
        let data = vec![7u8; 1000];
        let (lent, body) = Lent::new(&data[10..20]);
        assert_eq!(&body[..], &[7; 10]);
        let slice = body.slice(2..4);
        drop(body);
        let read = Arc::new(AtomicBool::new(false));
        let holder = {
            let read = Arc::clone(&read);
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(20));
                assert_eq!(&slice[..], &[7, 7]);
                read.store(true, Ordering::SeqCst);
                drop(slice);
            })
        };
        // Returns only once the holder has dropped its slice, hence after it read it.
        lent.wait();
        assert!(read.load(Ordering::SeqCst));
        holder.join().unwrap();
    }
}
