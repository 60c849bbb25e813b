//! Sending a caller's memory without copying it, MPI style: the message refers to the
//! borrowed bytes, and the sender waits until nothing refers to them any more.
//!
//! A large all-reduce sends blocks of the caller's own vector. Copying each block into
//! a buffer of its own, so that it can outlive the call, cost a memory pass per block:
//! on two ranks and 16 MiB, two passes of 8 MiB in a call that moves 16 MiB each way.
//! [`lend`] lends the block instead: the body handed to the message plane is a
//! [`Bytes`] over the borrowed memory whose owner signals when it is dropped (once the
//! frame is written in full, or thrown away because its link closed), and `lend` does
//! not return, or unwind, before that signal. So the borrow outlives every use of the
//! memory, and no caller can end it early: the wait is not theirs to skip.
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

/// The owner of a lent body inside its [`Bytes`]: a view of memory that the [`lend`]
/// call keeps borrowed until this is dropped.
struct LentView {
    ptr: *const u8,
    len: usize,
    release: Arc<Release>,
}

// SAFETY: the view only reads memory that stays borrowed (shared) by the `lend` call
// until the view is dropped; reading it from another thread is what a `&[u8]` allows.
unsafe impl Send for LentView {}

impl AsRef<[u8]> for LentView {
    fn as_ref(&self) -> &[u8] {
        // SAFETY: `ptr..ptr + len` is the `&[u8]` passed to the `lend` call that made
        // this view, which does not return (or unwind) before this view is dropped.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl Drop for LentView {
    fn drop(&mut self) {
        *self.release.done.lock() = true;
        self.release.dropped.notify_all();
    }
}

/// Calls `with` on a message body that refers to `bytes` in place, and returns what it
/// returns once nothing refers to the body any more. The body must go to other ranks (a
/// message to this rank would stay in its mailbox until received, and the wait with it).
pub(crate) fn lend<R>(bytes: &[u8], with: impl FnOnce(Bytes) -> R) -> R {
    let release = Arc::new(Release::default());
    let view = LentView {
        ptr: bytes.as_ptr(),
        len: bytes.len(),
        release: Arc::clone(&release),
    };
    // Declared before the body exists, so dropped after it on every path, unwinding
    // included: its drop is the wait.
    let _wait = WaitForRelease(&release);
    with(Bytes::from_owner(view))
}

/// Waits, when dropped, until the lent body's last reference is gone.
struct WaitForRelease<'a>(&'a Release);

impl Drop for WaitForRelease<'_> {
    fn drop(&mut self) {
        let mut done = self.0.done.lock();
        while !*done {
            self.0.dropped.wait(&mut done);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    #[test]
    fn lend_returns_after_the_last_reference_is_gone() {
        let data = vec![7u8; 1000];
        let read = Arc::new(AtomicBool::new(false));
        let holder = lend(&data[10..20], |body| {
            assert_eq!(&body[..], &[7; 10]);
            let slice = body.slice(2..4);
            drop(body);
            let read = Arc::clone(&read);
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(20));
                assert_eq!(&slice[..], &[7, 7]);
                read.store(true, Ordering::SeqCst);
                drop(slice);
            })
        });
        // `lend` returned only once the holder had dropped its slice, after reading it.
        assert!(read.load(Ordering::SeqCst));
        holder.join().unwrap();
    }
}
