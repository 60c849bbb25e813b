//! The sending half of a connection to a peer rank, shared by the network thread and the
//! program's threads.
//!
//! A frame to an idle connection is written by the sending thread itself: handing it to
//! the network thread would cost a wake-up and a context switch on every request, which
//! is most of a small `get`'s latency. Only when the socket would block does the rest of
//! the frame wait in the link's queue, which the network thread drains when the socket
//! turns writable. One lock keeps frames whole and in order.

use std::collections::VecDeque;
use std::io;
use std::sync::Arc;

use mio::net::TcpStream;
use parking_lot::Mutex;

use super::frame::OutFrame;

/// What became of a frame handed to [`Link::send`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Sent {
    /// Written to the socket completely.
    Written,
    /// Waiting in the queue (in part or whole) for the socket to take more.
    Queued,
    /// Dropped: the connection is closed (the peer's loss has been reported).
    Dropped,
}

#[derive(Default)]
struct Outgoing {
    queue: VecDeque<OutFrame>,
    closed: bool,
}

/// The writing side of one peer connection.
pub(crate) struct Link {
    stream: Arc<TcpStream>,
    out: Mutex<Outgoing>,
}

impl Link {
    /// A link writing to `stream` (which the network thread also reads).
    pub(crate) fn new(stream: Arc<TcpStream>) -> Link {
        Link {
            stream,
            out: Mutex::new(Outgoing::default()),
        }
    }

    /// Writes `frame` now if nothing is queued before it, else queues it. A write error
    /// closes the link; the network thread hears of the broken connection when it reads.
    pub(crate) fn send(&self, mut frame: OutFrame) -> Sent {
        let mut out = self.out.lock();
        if out.closed {
            return Sent::Dropped;
        }
        if out.queue.is_empty() {
            match frame.write_to(&mut &*self.stream) {
                Ok(true) => return Sent::Written,
                Ok(false) => {}
                Err(_) => {
                    out.closed = true;
                    return Sent::Dropped;
                }
            }
        }
        out.queue.push_back(frame);
        Sent::Queued
    }

    /// Writes queued frames until the socket would block. `Ok(true)` when the queue is
    /// empty.
    pub(crate) fn flush(&self) -> io::Result<bool> {
        let mut out = self.out.lock();
        while let Some(front) = out.queue.front_mut() {
            match front.write_to(&mut &*self.stream) {
                Ok(true) => {
                    out.queue.pop_front();
                }
                Ok(false) => return Ok(false),
                Err(e) => {
                    out.closed = true;
                    out.queue.clear();
                    return Err(e);
                }
            }
        }
        Ok(true)
    }

    /// True when nothing waits to be written.
    pub(crate) fn is_idle(&self) -> bool {
        self.out.lock().queue.is_empty()
    }

    /// Drops what is queued and refuses further frames.
    pub(crate) fn close(&self) {
        let mut out = self.out.lock();
        out.closed = true;
        out.queue.clear();
    }
}
