//! A link's incoming side, which the network thread and a waiting program thread share.
//!
//! The network thread reads every link. A program thread that waits for a message from
//! one peer may also read that peer's link itself, in its polling phase (MPI's progress
//! in the caller): on a host with fewer cores than threads, handing each arrival from
//! the network thread to the waiter cost a thread switch per burst of bytes (about 48
//! per 1 MiB broadcast on the receiving rank), and the two threads competed for one
//! core while the bytes came in.
//!
//! Whoever reads a link holds its [`ReadSide`] for the whole turn, reading and
//! delivering, so frames are delivered in the order they came (messages from one peer
//! must not overtake each other). A thread that finds the side taken does not wait: it
//! marks the link as missed, and the holder reads once more after letting go (see
//! [`Reading::in_turn`]). Epoll reports each arrival once (edge-triggered), so without
//! the mark an arrival during another thread's turn, after its last read, could sit
//! unread.
//!
//! A program thread handles only data, heartbeats and traffic marks. Any other frame (a
//! goodbye, a relayed loss), and the end of the stream, are left in the side, with the
//! frames after them, for the network thread, which owns the link's fate.

use std::collections::VecDeque;
use std::io::{self, Read};
use std::mem::MaybeUninit;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use mio::net::TcpStream;
use parking_lot::Mutex;

use super::aligned::ReadUninit;
use super::control::Control;
use super::frame::{FrameReader, InFrame, Limits, ReadError};
use super::handler::{Outbox, SharedHandler};
use super::traffic::LinkTraffic;
use crate::brief_poll::WaitSignals;

/// A link's incoming side and the mark of a missed turn.
pub(crate) struct Reading {
    side: Mutex<ReadSide>,
    /// Set by a thread that wanted a turn while another had it.
    missed: AtomicBool,
    /// Whether a large body is half read, as counted in [`WaitSignals::receiving`]. An
    /// atomic beside the lock, so that closing the link can uncount it whoever holds
    /// the side.
    mid_body: AtomicBool,
}

/// What the reader of a link keeps between turns.
pub(crate) struct ReadSide {
    reader: FrameReader,
    /// When a byte last came from the peer.
    last_heard: Instant,
    /// Frames a program thread read but left for the network thread, oldest first.
    left: VecDeque<InFrame>,
    /// The end of the stream, when a program thread met it (after the `left` frames).
    left_end: Option<ReadError>,
}

impl Reading {
    /// The incoming side of a fresh link, enforcing `limits`.
    pub(crate) fn new(limits: Limits) -> Reading {
        Reading {
            side: Mutex::new(ReadSide {
                reader: FrameReader::new(limits),
                last_heard: Instant::now(),
                left: VecDeque::new(),
                left_end: None,
            }),
            missed: AtomicBool::new(false),
            mid_body: AtomicBool::new(false),
        }
    }

    /// Runs `turn` with the side if no other thread has it, and again as long as some
    /// thread wanted it meanwhile; returns at once if another thread has it (which then
    /// takes the turn this call wanted). `turn` returns false to stop early (its link
    /// closed).
    pub(crate) fn in_turn(&self, mut turn: impl FnMut(&mut ReadSide) -> bool) {
        loop {
            let mut side = match self.side.try_lock() {
                Some(side) => side,
                None => {
                    self.missed.store(true, Ordering::SeqCst);
                    // The holder may have let go before seeing the mark: try once more.
                    match self.side.try_lock() {
                        Some(side) => side,
                        None => return,
                    }
                }
            };
            // Marks made before this point are covered: this turn reads after them.
            self.missed.store(false, Ordering::SeqCst);
            let go_on = turn(&mut side);
            drop(side);
            if !go_on || !self.missed.swap(false, Ordering::SeqCst) {
                return;
            }
        }
    }

    /// When a byte last came from the peer (waits while another thread has a turn).
    pub(crate) fn last_heard(&self) -> Instant {
        self.side.lock().last_heard
    }

    /// Uncounts a half-read body: the link is closing and will read no more.
    pub(crate) fn forget_body(&self, waits: &WaitSignals) {
        self.set_mid_body(false, waits);
    }

    fn set_mid_body(&self, mid_body: bool, waits: &WaitSignals) {
        if self.mid_body.swap(mid_body, Ordering::Relaxed) != mid_body {
            match mid_body {
                true => waits.receiving.fetch_add(1, Ordering::Relaxed),
                false => waits.receiving.fetch_sub(1, Ordering::Relaxed),
            };
        }
    }

    /// Reads what `stream` has and appends the complete frames to `out`, keeping the
    /// side's clock and the rank's count of half-read bodies. Returns whether any byte
    /// came, and the end of the stream if it was met (frames before it are in `out`).
    pub(crate) fn read(
        &self,
        side: &mut ReadSide,
        stream: &TcpStream,
        waits: &WaitSignals,
        out: &mut Vec<InFrame>,
    ) -> (bool, Option<ReadError>) {
        let mut stream = stream;
        let mut heard = Heard {
            inner: &mut stream,
            any: false,
        };
        let end = side.reader.read_from(&mut heard, out).err();
        if heard.any {
            side.last_heard = Instant::now();
        }
        let mid_body = end.is_none() && side.reader.mid_body();
        self.set_mid_body(mid_body, waits);
        (heard.any, end)
    }
}

impl ReadSide {
    /// Whether a program thread left frames or the stream's end for the network thread
    /// (nobody else may read the link before it has dealt with them).
    pub(crate) fn has_left(&self) -> bool {
        !self.left.is_empty() || self.left_end.is_some()
    }

    /// Leaves `frames` and `end` for the network thread, after any left before.
    pub(crate) fn leave(
        &mut self,
        frames: impl IntoIterator<Item = InFrame>,
        end: Option<ReadError>,
    ) {
        self.left.extend(frames);
        if end.is_some() {
            self.left_end = end;
        }
    }

    /// Takes what a program thread left: the frames, then the stream's end if it met it.
    pub(crate) fn take_left(&mut self) -> (Vec<InFrame>, Option<ReadError>) {
        (self.left.drain(..).collect(), self.left_end.take())
    }
}

/// Delivers a frame that rank `from` sent on the link with `traffic`, whichever thread
/// read it: a message goes to the handler (its replies are returned, for the caller to
/// send), a traffic mark is counted, a heartbeat only showed the peer alive. Any other
/// frame (a goodbye, a relayed loss, something unexpected) decides the link's fate,
/// which is the network thread's: it is given back.
pub(crate) fn deliver(
    frame: InFrame,
    from: usize,
    traffic: &LinkTraffic,
    handler: &SharedHandler,
) -> Result<Outbox, InFrame> {
    match frame.control {
        Control::Data(header) => {
            traffic.received((header.len() + frame.body.len()) as u64);
            Ok(handler.on_message(from, header, frame.body))
        }
        Control::Heartbeat => Ok(Outbox::default()),
        Control::Mark => {
            traffic.mark_arrived();
            Ok(Outbox::default())
        }
        control => Err(InFrame {
            control,
            body: frame.body,
        }),
    }
}

/// A reader that notes whether any byte came through.
struct Heard<'a, R> {
    inner: &'a mut R,
    any: bool,
}

impl<R: Read> Read for Heard<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.any |= n > 0;
        Ok(n)
    }
}

// SAFETY: read(2) writes only the bytes it reports, at most the length it is given.
unsafe impl ReadUninit for Heard<'_, &TcpStream> {
    /// A socket reads into uninitialised memory (a large body's own allocation) with
    /// read(2) itself: `Read` takes initialised bytes only.
    fn read_uninit(&mut self, buf: &mut [MaybeUninit<u8>]) -> io::Result<usize> {
        // SAFETY: `buf` is writable memory of `buf.len()` bytes, borrowed for the call.
        let n = unsafe {
            libc::read(
                self.inner.as_raw_fd(),
                buf.as_mut_ptr().cast::<libc::c_void>(),
                buf.len(),
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        self.any |= n > 0;
        Ok(n as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::control::Control;
    use crate::net::frame::{OutFrame, TEST_LIMITS};
    use bytes::Bytes;
    use std::sync::Arc;
    use std::time::Duration;

    const FRAMES: usize = 400;

    /// Frame `seq`'s body: sizes from empty to larger than the reader's buffer, so that
    /// turns end in the middle of frames and of large bodies.
    fn body(seq: usize) -> Bytes {
        let len = [0, 10, 70_000, 300_000][seq % 4];
        Bytes::from(vec![seq as u8; len])
    }

    /// Two threads take turns reading one socket, as the network thread and a waiting
    /// program thread do, while a writer sends frames of every size: each frame must be
    /// taken exactly once, whole, and in the order it was sent.
    #[test]
    fn threads_taking_turns_take_every_frame_once_in_order() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut writing = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (accepted, _) = listener.accept().unwrap();
        accepted.set_nonblocking(true).unwrap();
        let reading = Arc::new(Reading::new(TEST_LIMITS));
        let stream = Arc::new(TcpStream::from_std(accepted));
        let waits = Arc::new(WaitSignals::default());
        let taken = Arc::new(Mutex::new(Vec::new()));

        let writer = std::thread::spawn(move || {
            for seq in 0..FRAMES {
                let header = (seq as u32).to_le_bytes().to_vec();
                let mut frame = OutFrame::data(header, body(seq), 0);
                // A blocking stream takes the whole frame in one call.
                assert!(frame.write_to(&mut writing).unwrap());
            }
            // Open until the readers are done: a reader may look once more after the
            // last frame, and must find nothing rather than the end of the stream.
            writing
        });
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let (reading, stream) = (Arc::clone(&reading), Arc::clone(&stream));
                let (waits, taken) = (Arc::clone(&waits), Arc::clone(&taken));
                std::thread::spawn(move || {
                    let deadline = Instant::now() + Duration::from_secs(60);
                    while taken.lock().len() < FRAMES {
                        assert!(Instant::now() < deadline, "frames stopped coming");
                        reading.in_turn(|side| {
                            let mut frames = Vec::new();
                            let (_, end) = reading.read(side, &stream, &waits, &mut frames);
                            assert!(end.is_none(), "the stream ended early: {end:?}");
                            let mut taken = taken.lock();
                            for frame in frames {
                                let Control::Data(header) = frame.control else {
                                    panic!("unexpected {:?}", frame.control);
                                };
                                let seq = u32::from_le_bytes(header[..4].try_into().unwrap());
                                assert_eq!(frame.body, body(seq as usize), "frame {seq} damaged");
                                taken.push(seq as usize);
                            }
                            true
                        });
                        std::thread::yield_now();
                    }
                })
            })
            .collect();
        let writing = writer.join().unwrap();
        for reader in readers {
            reader.join().unwrap();
        }
        drop(writing);
        assert_eq!(*taken.lock(), (0..FRAMES).collect::<Vec<_>>());
        assert_eq!(waits.receiving.load(Ordering::Relaxed), 0);
    }
}
