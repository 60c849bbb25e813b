//! A connection to a peer rank, shared by the network thread and every sending thread.
//!
//! The network thread reads a link, and so may a program thread waiting for that peer
//! (see `read_side`). Any thread may write to it: a sender whose
//! frame finds the queue empty writes it to the socket itself, and only what the socket
//! does not take at once is left queued for the network thread to finish. A small
//! request thus leaves without waking the network thread, one thread wake-up fewer per
//! message (see the latency benchmark in bench/RESULTS.md).

use std::collections::VecDeque;
use std::io;
use std::net::Shutdown;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use parking_lot::Mutex;

use super::control::Control;
use super::frame::{Limits, OutFrame};
use super::read_side::Reading;
use super::traffic::{Flow, LinkTraffic};

/// One peer rank's connection.
pub(crate) struct Link {
    rank: usize,
    stream: TcpStream,
    out: Mutex<Outgoing>,
    reading: Reading,
    traffic: LinkTraffic,
}

/// Frames not yet fully written, oldest first. The lock is held across each write so
/// that frames never interleave on the wire.
struct Outgoing {
    queue: VecDeque<OutFrame>,
    closed: bool,
    /// When the last frame was written in full: heartbeats go on links idle for a while.
    last_write: Instant,
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
    /// Wraps `stream`, which must already be registered with the network thread's poll;
    /// frames read from it must keep within `limits`.
    pub(crate) fn new(rank: usize, stream: TcpStream, limits: Limits) -> Link {
        Link {
            rank,
            stream,
            out: Mutex::new(Outgoing {
                queue: VecDeque::new(),
                closed: false,
                last_write: Instant::now(),
            }),
            reading: Reading::new(limits),
            traffic: LinkTraffic::default(),
        }
    }

    /// The link's incoming side.
    pub(crate) fn reading(&self) -> &Reading {
        &self.reading
    }

    /// The link's traffic counters.
    pub(crate) fn traffic(&self) -> &LinkTraffic {
        &self.traffic
    }

    /// The peer's rank.
    pub(crate) fn rank(&self) -> usize {
        self.rank
    }

    /// The socket, for reading, and for (de)registration by the network thread.
    pub(crate) fn stream(&self) -> &TcpStream {
        &self.stream
    }

    /// Writes `frame` now if nothing is ahead of it, else queues it. A write error also
    /// leaves the frame queued: the network thread's flush meets the same error and
    /// closes the link with its reason.
    pub(crate) fn send(&self, frame: OutFrame) -> Sent {
        let mut out = self.out.lock();
        if out.closed {
            return Sent::Done;
        }
        if let Some(bytes) = frame.payload() {
            self.traffic.sent(bytes);
        }
        self.send_locked(&mut out, frame)
    }

    /// Sends a traffic mark, returning the sent counts it closes: read under the same
    /// lock that orders frames, so exactly the frames ahead of the mark are counted.
    pub(crate) fn mark(&self) -> (Flow, Sent) {
        let mut out = self.out.lock();
        let sent = self.traffic.sent_flow();
        if out.closed {
            return (sent, Sent::Done);
        }
        let how = self.send_locked(&mut out, OutFrame::new(&Control::Mark, bytes::Bytes::new()));
        (sent, how)
    }

    /// Whether the link has been closed.
    pub(crate) fn is_closed(&self) -> bool {
        self.out.lock().closed
    }

    fn send_locked(&self, out: &mut Outgoing, mut frame: OutFrame) -> Sent {
        if out.queue.is_empty() {
            if let Ok(true) = frame.write_to(&mut &self.stream) {
                out.last_write = Instant::now();
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
            out.last_write = Instant::now();
        }
        Ok(())
    }

    /// How long nothing has been written, or `None` while frames are queued (the link is
    /// busy, not idle) or it is closed, or when a sender holds it right now.
    pub(crate) fn idle_for(&self) -> Option<Duration> {
        let out = self.out.try_lock()?;
        (out.queue.is_empty() && !out.closed).then(|| out.last_write.elapsed())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::control::Control;
    use crate::net::frame::{FrameReader, TEST_LIMITS};
    use bytes::Bytes;
    use std::io::Read;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    const SENDERS: usize = 4;
    const FRAMES: usize = 40;

    /// Sender `t`'s frame `seq`: every other one is large enough that the socket takes
    /// only part of it, so writes by senders and by the flusher interleave.
    fn frame(t: usize, seq: usize) -> (Vec<u8>, Bytes) {
        let len = if seq % 2 == 0 {
            8
        } else {
            (1 << 20) + t * 4096 + seq
        };
        (
            vec![t as u8, seq as u8],
            Bytes::from(vec![(t * 31 + seq) as u8; len]),
        )
    }

    /// A link to rank 1 over loopback TCP, and the blocking stream at its other end.
    fn loopback_link() -> (Link, std::net::TcpStream) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let sending = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (receiving, _) = listener.accept().unwrap();
        sending.set_nonblocking(true).unwrap();
        (
            Link::new(1, TcpStream::from_std(sending), TEST_LIMITS),
            receiving,
        )
    }

    /// Several threads send through one link over real loopback TCP while another
    /// plays the network thread's part, flushing what they leave queued; every frame
    /// must arrive whole, and each sender's frames in the order it sent them.
    #[test]
    fn concurrent_senders_never_interleave_frames() {
        let (link, mut receiving) = loopback_link();
        let link = Arc::new(link);

        let receiver = std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(60);
            receiving
                .set_read_timeout(Some(Duration::from_millis(50)))
                .unwrap();
            let mut reader = FrameReader::new(TEST_LIMITS);
            let mut next_seq = [0usize; SENDERS];
            let mut received = 0;
            while received < SENDERS * FRAMES {
                assert!(Instant::now() < deadline, "only {received} frames arrived");
                let mut frames = Vec::new();
                reader
                    .read_from(
                        &mut crate::net::aligned::Zeroing(&mut receiving),
                        &mut frames,
                    )
                    .unwrap();
                for f in frames {
                    let Control::Data(header) = f.control else {
                        panic!("unexpected {:?}", f.control)
                    };
                    let (t, seq) = (header[0] as usize, header[1] as usize);
                    assert_eq!(seq, next_seq[t], "sender {t}'s frames out of order");
                    assert_eq!(f.body, frame(t, seq).1, "sender {t}'s frame {seq} damaged");
                    next_seq[t] += 1;
                    received += 1;
                }
            }
        });

        let senders: Vec<_> = (0..SENDERS)
            .map(|t| {
                let link = Arc::clone(&link);
                std::thread::spawn(move || {
                    for seq in 0..FRAMES {
                        let (header, body) = frame(t, seq);
                        link.send(OutFrame::new(&Control::Data(header), body));
                    }
                })
            })
            .collect();
        // The network thread's part: flush until every sender is done and nothing is left.
        while !(senders.iter().all(|s| s.is_finished()) && link.is_flushed()) {
            link.flush().unwrap();
            std::thread::yield_now();
        }
        for s in senders {
            s.join().unwrap();
        }
        receiver.join().unwrap();
    }

    #[test]
    fn a_closed_link_drops_frames_and_ends_the_stream() {
        let (link, mut receiving) = loopback_link();
        link.close();
        let (header, body) = frame(0, 0);
        assert_eq!(
            link.send(OutFrame::new(&Control::Data(header), body)),
            Sent::Done
        );
        assert!(link.is_flushed());
        receiving
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut rest = Vec::new();
        assert_eq!(receiving.read_to_end(&mut rest).unwrap(), 0);
    }
}
