//! A connection to a peer rank, shared by the network thread and every sending thread.
//!
//! Only the network thread reads a link. Any thread may write to it: a sender whose
//! frame finds the queue empty writes it to the socket itself, and only what the socket
//! does not take at once is left queued for the network thread to finish. A small
//! request thus leaves without waking the network thread, which in a VM saves a
//! cross-CPU wake-up per message (see the latency benchmark in bench/RESULTS.md).

use std::collections::VecDeque;
use std::io;
use std::net::Shutdown;

use mio::net::TcpStream;
use parking_lot::Mutex;

use super::frame::OutFrame;

/// One peer rank's connection.
pub(crate) struct Link {
    rank: usize,
    stream: TcpStream,
    out: Mutex<Outgoing>,
}

/// Frames not yet fully written, oldest first. The lock is held across each write so
/// that frames never interleave on the wire.
#[derive(Default)]
struct Outgoing {
    queue: VecDeque<OutFrame>,
    closed: bool,
}

/// What [`Link::send`] did with a frame.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Sent {
    /// Written in full, or dropped because the link is closed (whoever closed it has
    /// reported the peer lost).
    Done,
    /// Left queued: the network thread must flush the link.
    Queued,
}

impl Link {
    /// Wraps `stream`, which must already be registered with the network thread's poll.
    pub(crate) fn new(rank: usize, stream: TcpStream) -> Link {
        Link {
            rank,
            stream,
            out: Mutex::new(Outgoing::default()),
        }
    }

    /// The peer's rank.
    pub(crate) fn rank(&self) -> usize {
        self.rank
    }

    /// The socket, for reading and (de)registration by the network thread.
    pub(crate) fn stream(&self) -> &TcpStream {
        &self.stream
    }

    /// Writes `frame` now if nothing is ahead of it, else queues it. A write error also
    /// leaves the frame queued: the network thread's flush meets the same error and
    /// closes the link with its reason.
    pub(crate) fn send(&self, mut frame: OutFrame) -> Sent {
        let mut out = self.out.lock();
        if out.closed {
            return Sent::Done;
        }
        if out.queue.is_empty() {
            if let Ok(true) = frame.write_to(&mut &self.stream) {
                return Sent::Done;
            }
        }
        out.queue.push_back(frame);
        Sent::Queued
    }

    /// Writes queued frames until the socket would block. An error means the link is
    /// broken and should be closed.
    ///
    /// When a sender holds the lock, this returns at once: that sender either leaves
    /// nothing queued or asks for another flush after releasing it. Waiting instead would
    /// be costly, since epoll reports the link writable along with every arrival, and the
    /// sender may have been preempted right after its write woke the peer.
    pub(crate) fn flush(&self) -> io::Result<()> {
        let Some(mut out) = self.out.try_lock() else {
            return Ok(());
        };
        while let Some(front) = out.queue.front_mut() {
            if !front.write_to(&mut &self.stream)? {
                return Ok(());
            }
            out.queue.pop_front();
        }
        Ok(())
    }

    /// Whether every frame sent so far has been written (or dropped by a close).
    pub(crate) fn is_flushed(&self) -> bool {
        self.out.lock().queue.is_empty()
    }

    /// Drops what is queued, refuses later frames and shuts the socket down, so the peer
    /// sees the end of the stream even while other threads still hold this link.
    pub(crate) fn close(&self) {
        let mut out = self.out.lock();
        out.closed = true;
        out.queue.clear();
        let _ = self.stream.shutdown(Shutdown::Both);
    }
}
