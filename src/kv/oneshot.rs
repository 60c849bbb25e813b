//! One-shot reply channels whose receivers sleep on a per-thread socket pair.
//!
//! Why not a futex-based channel: the network thread hands a reply to a program thread
//! and then goes straight back to `epoll_wait`. A futex wake-up gives the scheduler no
//! hint of that, so it sends the woken thread to another CPU; in a VM, waking a halted
//! vCPU costs tens of microseconds, several times a whole loopback round trip. A write to
//! a Unix socket wakes its reader *synchronously* (the kernel's `WF_SYNC` hint: the waker
//! is about to sleep), so the reader runs on the waker's CPU as soon as it blocks, which
//! is what a TCP round trip gets too. Each thread that waits owns one socket pair (two
//! file descriptors), made the first time it waits and kept for the thread's life.

use std::cell::RefCell;
use std::io::{self, Read, Write};
use std::marker::PhantomData;
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// A waiting thread's bell: the read end stays with the thread, the write end is shared
/// with whoever will answer.
struct Bell {
    rx: UnixStream,
    tx: Arc<UnixStream>,
}

impl Bell {
    fn new() -> io::Result<Bell> {
        let (rx, tx) = UnixStream::pair()?;
        // A full socket already holds a ring the reader has not seen: dropping more is fine.
        tx.set_nonblocking(true)?;
        Ok(Bell {
            rx,
            tx: Arc::new(tx),
        })
    }
}

thread_local! {
    static BELL: RefCell<Option<Bell>> = const { RefCell::new(None) };
}

/// The answer's state, shared by both halves.
enum State<T> {
    Empty,
    Sent(T),
    /// The sender was dropped without sending.
    Closed,
    /// The receiver took the value.
    Taken,
}

struct Shared<T> {
    state: Mutex<State<T>>,
    bell: Arc<UnixStream>,
}

impl<T> Shared<T> {
    fn settle(&self, new: State<T>) {
        {
            let mut state = self.state.lock();
            if !matches!(*state, State::Empty) {
                return;
            }
            *state = new;
        }
        // Errors mean the bell is full (the receiver will wake anyway) or the receiving
        // thread is gone (nobody to wake).
        let _ = (&*self.bell).write(&[1]);
    }
}

/// The answering half; may be sent to any thread.
pub(crate) struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// The waiting half. It is bound to the thread that made the channel (it sleeps on that
/// thread's bell), hence not `Send`.
pub(crate) struct Receiver<T> {
    shared: Arc<Shared<T>>,
    _not_send: PhantomData<*const ()>,
}

/// Why [`Receiver::recv`] returned without a value.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum RecvError {
    /// The deadline passed first.
    Timeout,
    /// The sender was dropped without sending.
    Closed,
}

/// A new channel whose receiver waits on the calling thread.
pub(crate) fn channel<T>() -> io::Result<(Sender<T>, Receiver<T>)> {
    let bell = BELL.with(|cell| -> io::Result<Arc<UnixStream>> {
        let mut cell = cell.borrow_mut();
        if cell.is_none() {
            *cell = Some(Bell::new()?);
        }
        Ok(Arc::clone(&cell.as_ref().expect("just made").tx))
    })?;
    let shared = Arc::new(Shared {
        state: Mutex::new(State::Empty),
        bell,
    });
    Ok((
        Sender {
            shared: Arc::clone(&shared),
        },
        Receiver {
            shared,
            _not_send: PhantomData,
        },
    ))
}

impl<T> Sender<T> {
    /// Delivers the answer and wakes the receiver. A second send is ignored.
    pub(crate) fn send(self, value: T) {
        self.shared.settle(State::Sent(value));
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.shared.settle(State::Closed);
    }
}

impl<T> Receiver<T> {
    /// Waits for the answer, until `timeout` when given.
    pub(crate) fn recv(&self, timeout: Option<Duration>) -> Result<T, RecvError> {
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            {
                let mut state = self.shared.state.lock();
                match std::mem::replace(&mut *state, State::Taken) {
                    State::Sent(value) => return Ok(value),
                    State::Closed | State::Taken => return Err(RecvError::Closed),
                    State::Empty => *state = State::Empty,
                }
            }
            let remaining = match deadline {
                None => None,
                Some(d) => match d.checked_duration_since(Instant::now()) {
                    Some(r) if !r.is_zero() => Some(r),
                    _ => return Err(RecvError::Timeout),
                },
            };
            wait_for_ring(remaining);
        }
    }
}

/// Sleeps on this thread's bell until it rings or `timeout` passes. Rings meant for
/// earlier channels may wake it early; callers re-check their state, so that is harmless.
fn wait_for_ring(timeout: Option<Duration>) {
    BELL.with(|cell| {
        let cell = cell.borrow();
        let bell = cell
            .as_ref()
            .expect("a receiver's thread made its bell when it made the channel");
        if bell.rx.set_read_timeout(timeout).is_err() {
            // Only a zero timeout is refused, and callers never pass one.
            return;
        }
        let mut rings = [0u8; 64];
        // Timeouts and interruptions return to the caller, which re-checks and retries.
        let _ = (&bell.rx).read(&mut rings);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivers_across_threads() {
        let (tx, rx) = channel().unwrap();
        std::thread::spawn(move || tx.send(42));
        assert_eq!(rx.recv(Some(Duration::from_secs(10))), Ok(42));
    }

    #[test]
    fn times_out_then_ignores_stale_rings() {
        let (tx, rx) = channel::<u8>().unwrap();
        assert_eq!(
            rx.recv(Some(Duration::from_millis(5))),
            Err(RecvError::Timeout)
        );
        // An answer to an abandoned channel rings this thread's bell; the next channel
        // must not mistake that ring for its own answer.
        tx.send(1);
        let (tx2, rx2) = channel::<u8>().unwrap();
        assert_eq!(
            rx2.recv(Some(Duration::from_millis(5))),
            Err(RecvError::Timeout)
        );
        tx2.send(2);
        assert_eq!(rx2.recv(None), Ok(2));
    }

    #[test]
    fn a_dropped_sender_closes() {
        let (tx, rx) = channel::<u8>().unwrap();
        std::thread::spawn(move || drop(tx));
        assert_eq!(
            rx.recv(Some(Duration::from_secs(10))),
            Err(RecvError::Closed)
        );
    }

    #[test]
    fn many_threads_each_with_their_own_bell() {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                std::thread::spawn(move || {
                    for j in 0..200 {
                        let (tx, rx) = channel().unwrap();
                        std::thread::spawn(move || tx.send(i * 1000 + j));
                        assert_eq!(rx.recv(Some(Duration::from_secs(10))), Ok(i * 1000 + j));
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
    }
}
