//! Length-prefixed frames on a byte stream.
//!
//! A frame is a 13-byte prefix (`header_len: u32`, `body_len: u64`, little-endian, and
//! `body_align: u8`), a speedy-encoded [`Control`] header of `header_len` bytes, zeros up
//! to the next multiple of [`ALIGN`] bytes, then `body_len` raw bytes and zeros up to the
//! next multiple again. `body_align` is 0 for a body of bytes, else the alignment of the
//! elements the body holds (1 to 16), which the receiver allocates it with so that a
//! typed receive can keep it as its vector (see `aligned`).
//! Bulk values travel as the body, so they are written straight from the caller's buffer
//! and read straight into one allocation of the right size: no per-element encoding, no
//! quadratic copying.
//!
//! Why the padding: the kernel copies a socket's outgoing bytes into pages at the offset
//! where the writing thread's previous copy ended, and copies whose destination is not
//! 64-byte aligned ran about 25% slower on the development machine (AMD EPYC). With every
//! frame a multiple of 64 bytes and every body starting 64 bytes into it, bodies land
//! aligned on both sides, at the cost of at most 126 bytes per frame.

use std::io::{self, IoSlice, Read, Write};

use bytes::Bytes;
use speedy::{Readable, Writable};

use super::aligned::{self, AlignedBuf, ReadUninit};
use super::control::Control;
use super::pool;

/// Size of the fixed prefix.
pub const PREFIX_LEN: usize = 13;

/// Frames and the bodies in them start at multiples of this many bytes in the stream.
pub const ALIGN: usize = 64;

/// How many zero bytes follow `len` bytes to reach the next multiple of [`ALIGN`].
pub fn padding(len: usize) -> usize {
    (ALIGN - len % ALIGN) % ALIGN
}

/// Zeros to pad with.
static ZEROS: [u8; ALIGN] = [0; ALIGN];

/// Limits applied to incoming frames; a frame over them closes the connection.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// The largest accepted header.
    pub max_header: u32,
    /// The largest accepted body.
    pub max_body: u64,
}

/// A frame ready to be written: prefix, header and padding in one buffer, then the body
/// and its padding.
#[derive(Debug)]
pub struct OutFrame {
    head: Vec<u8>,
    body: Bytes,
    tail: usize,
    written: usize,
    /// For a data frame, the upper layer's bytes (header and body), which the link
    /// counts as sent (`traffic`).
    payload: Option<u64>,
}

impl OutFrame {
    /// Encodes `control` and attaches `body`, a body of bytes.
    pub fn new(control: &Control, body: Bytes) -> OutFrame {
        OutFrame::with_align(control, body, 0)
    }

    /// Encodes `control` and attaches `body`, whose elements have alignment
    /// `body_align` (0 for bytes; see the module doc).
    fn with_align(control: &Control, body: Bytes, body_align: u8) -> OutFrame {
        let header = control
            .write_to_vec()
            .expect("encoding a control message into memory cannot fail");
        let head_len = PREFIX_LEN + header.len();
        let mut head = Vec::with_capacity(head_len + padding(head_len));
        head.extend_from_slice(&(header.len() as u32).to_le_bytes());
        head.extend_from_slice(&(body.len() as u64).to_le_bytes());
        head.push(body_align);
        head.extend_from_slice(&header);
        head.resize(head_len + padding(head_len), 0);
        OutFrame {
            head,
            tail: padding(body.len()),
            body,
            written: 0,
            payload: None,
        }
    }

    /// A data frame: the upper layer's `header`, and `body`, whose elements have
    /// alignment `body_align` (0 for bytes); counted in traffic.
    pub fn data(header: Vec<u8>, body: Bytes, body_align: u8) -> OutFrame {
        let payload = (header.len() + body.len()) as u64;
        let mut frame = OutFrame::with_align(&Control::Data(header), body, body_align);
        frame.payload = Some(payload);
        frame
    }

    /// The bytes a data frame counts in traffic; `None` for control frames.
    pub fn payload(&self) -> Option<u64> {
        self.payload
    }

    fn total(&self) -> usize {
        self.head.len() + self.body.len() + self.tail
    }

    /// Writes as much as the stream takes. `Ok(true)` when the frame is complete;
    /// `WouldBlock` surfaces as `Ok(false)`.
    pub fn write_to(&mut self, stream: &mut impl Write) -> io::Result<bool> {
        while self.written < self.total() {
            let (head, body) = (self.head.len(), self.body.len());
            let tail = &ZEROS[..self.tail];
            let result = if self.written < head {
                let slices = [
                    IoSlice::new(&self.head[self.written..]),
                    IoSlice::new(&self.body),
                    IoSlice::new(tail),
                ];
                stream.write_vectored(&slices)
            } else if self.written < head + body {
                let slices = [
                    IoSlice::new(&self.body[self.written - head..]),
                    IoSlice::new(tail),
                ];
                stream.write_vectored(&slices)
            } else {
                stream.write(&tail[self.written - head - body..])
            };
            match result {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => self.written += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }
}

/// One decoded incoming frame.
#[derive(Debug)]
pub struct InFrame {
    /// The control header.
    pub control: Control,
    /// The body (empty for most control messages).
    pub body: Bytes,
}

/// Why a connection's input is unusable.
#[derive(Debug)]
pub enum ReadError {
    /// The peer closed the connection (clean EOF between frames).
    Closed,
    /// An I/O error, or EOF in the middle of a frame.
    Io(io::Error),
    /// The bytes broke the protocol (too large, undecodable).
    Protocol(String),
}

/// Reassembles frames from a non-blocking stream.
#[derive(Debug)]
pub struct FrameReader {
    /// Received bytes live in `buf[start..end]`.
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// A large body being read straight into its own allocation, `filled` bytes so far.
    pending: Option<PendingBody>,
    /// Padding still to be discarded from the stream.
    skip: usize,
    /// Whether the last frame had a large body: then the next read into the buffer is
    /// kept short (see [`PEEK`]).
    after_large: bool,
    limits: Limits,
}

#[derive(Debug)]
struct PendingBody {
    control: Control,
    body: BodyDest,
    filled: usize,
    /// The padding after the body.
    tail: usize,
}

/// Where a body is read to: a recycled buffer for bytes, or an allocation of its
/// elements' alignment.
#[derive(Debug)]
enum BodyDest {
    Bytes(pool::BodyBuf),
    Aligned(AlignedBuf),
}

impl BodyDest {
    /// A buffer for a body of `len` bytes that the frame's prefix says have alignment
    /// `align` (0 for bytes).
    fn new(len: usize, align: u8) -> Result<BodyDest, ReadError> {
        if align == 0 {
            return Ok(BodyDest::Bytes(pool::take(len)));
        }
        AlignedBuf::new(len, align as usize)
            .map(BodyDest::Aligned)
            .ok_or_else(|| {
                ReadError::Protocol(format!(
                    "a body of {len} bytes with alignment {align} (not a power of two up to {})",
                    aligned::MAX_ALIGN
                ))
            })
    }

    fn len(&self) -> usize {
        match self {
            BodyDest::Bytes(b) => b.len(),
            BodyDest::Aligned(b) => b.len(),
        }
    }

    /// Copies `bytes`, the body's first bytes (from the shared read buffer), in.
    fn fill(&mut self, bytes: &[u8]) {
        match self {
            BodyDest::Bytes(b) => b.as_mut_slice()[..bytes.len()].copy_from_slice(bytes),
            BodyDest::Aligned(b) => {
                b.fill(bytes);
            }
        }
    }

    /// Reads the body's next bytes from `stream`, after the `filled` it has.
    fn read_from<S: Read + ReadUninit>(
        &mut self,
        stream: &mut S,
        filled: usize,
    ) -> io::Result<usize> {
        match self {
            BodyDest::Bytes(b) => stream.read(&mut b.as_mut_slice()[filled..]),
            BodyDest::Aligned(b) => b.read_from(stream),
        }
    }

    /// The filled body as the value handed up.
    fn into_bytes(self) -> Bytes {
        match self {
            BodyDest::Bytes(b) => pool::into_bytes(b),
            BodyDest::Aligned(b) => aligned::into_bytes(b),
        }
    }
}

/// Bodies at least this large are read directly into their final buffer.
const DIRECT_BODY: usize = 64 * 1024;
/// How much a read into the buffer takes when a large body may be coming: the first
/// read after the socket was drained, and any read right after a large body (large
/// bodies come in runs: a collective's blocks, chunk after chunk). A full-size read
/// would bring up to 256 KiB of such a body into the buffer, to be copied out again; a
/// short one brings its header, and the body then goes straight to its own buffer. A
/// burst of small frames costs one short read more.
const PEEK: usize = 4096;
const BUFFER_SIZE: usize = 256 * 1024;

impl FrameReader {
    /// A reader enforcing `limits`.
    pub fn new(limits: Limits) -> FrameReader {
        FrameReader {
            buf: vec![0; BUFFER_SIZE],
            start: 0,
            end: 0,
            pending: None,
            skip: 0,
            after_large: false,
            limits,
        }
    }

    /// Whether a large body is being read straight into its buffer.
    pub fn mid_body(&self) -> bool {
        self.pending.is_some()
    }

    /// Reads what is available and appends complete frames to `out`. Returns
    /// `Ok(())` when the stream would block or a read came back short (so the socket is
    /// drained, for edge-triggered polling); an error when it is closed or broken (frames
    /// completed before that are still in `out`).
    ///
    /// Large bodies of elements are read into uninitialised memory, which `stream` must
    /// allow ([`ReadUninit`]; tests wrap an in-memory stream in `aligned::Zeroing`).
    pub(crate) fn read_from<S: Read + ReadUninit>(
        &mut self,
        stream: &mut S,
        out: &mut Vec<InFrame>,
    ) -> Result<(), ReadError> {
        let mut first = true;
        loop {
            self.decode_buffered(out)?;
            let (n, wanted) = match &mut self.pending {
                Some(p) => {
                    let wanted = p.body.len() - p.filled;
                    let n = p.body.read_from(stream, p.filled);
                    (n.inspect(|&n| p.filled += n), wanted)
                }
                None => {
                    self.make_room();
                    // The first read of a turn into an empty buffer, and any read right
                    // after a large body, may meet the start of a large body: take only
                    // a header's worth then (see `PEEK`).
                    let peek = self.after_large || (first && self.start == self.end);
                    first = false;
                    let room = &mut self.buf[self.end..];
                    let short = if peek {
                        room.len().min(PEEK)
                    } else {
                        room.len()
                    };
                    let room = &mut room[..short];
                    let wanted = room.len();
                    (stream.read(room).inspect(|&n| self.end += n), wanted)
                }
            };
            match n {
                // A short read of a stream socket means its receive queue is empty now
                // (epoll(7)), and bytes arriving later raise a new edge: stop here
                // rather than spend a system call on the WouldBlock that would follow.
                // On the latency path that is one call in four.
                Ok(n) if n > 0 && n < wanted => {
                    self.decode_buffered(out)?;
                    return Ok(());
                }
                Ok(0) => {
                    let mid_frame =
                        self.pending.is_some() || self.start < self.end || self.skip > 0;
                    return Err(if mid_frame {
                        ReadError::Io(io::ErrorKind::UnexpectedEof.into())
                    } else {
                        ReadError::Closed
                    });
                }
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.decode_buffered(out)?;
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(ReadError::Io(e)),
            }
        }
    }

    /// Decodes every complete frame in the buffer.
    fn decode_buffered(&mut self, out: &mut Vec<InFrame>) -> Result<(), ReadError> {
        if let Some(p) = &self.pending {
            if p.filled < p.body.len() {
                return Ok(());
            }
            let p = self.pending.take().expect("checked above");
            self.skip = p.tail;
            self.after_large = true;
            out.push(InFrame {
                control: p.control,
                body: p.body.into_bytes(),
            });
        }
        loop {
            let skipped = self.skip.min(self.end - self.start);
            self.start += skipped;
            self.skip -= skipped;
            let avail = &self.buf[self.start..self.end];
            if self.skip > 0 || avail.len() < PREFIX_LEN {
                return Ok(());
            }
            let header_len = u32::from_le_bytes(avail[0..4].try_into().expect("4 bytes"));
            let body_len = u64::from_le_bytes(avail[4..12].try_into().expect("8 bytes"));
            let body_align = avail[12];
            if header_len > self.limits.max_header || body_len > self.limits.max_body {
                return Err(ReadError::Protocol(format!(
                    "frame of {header_len} header bytes and {body_len} body bytes exceeds the limit ({} and {})",
                    self.limits.max_header, self.limits.max_body
                )));
            }
            let header_end = PREFIX_LEN + header_len as usize;
            if avail.len() < header_end {
                return Ok(());
            }
            // Decoded before its padding arrives, so that garbage is refused at once.
            let control = Control::read_from_buffer(&avail[PREFIX_LEN..header_end])
                .map_err(|e| ReadError::Protocol(format!("undecodable message: {e}")))?;
            let body_start = header_end + padding(header_end);
            if avail.len() < body_start {
                return Ok(());
            }
            let body_len = body_len as usize;
            let body_end = body_start + body_len;
            let in_buffer = avail.len() - body_start;
            if in_buffer >= body_len {
                // Recycled when large (see `pool`): a collective's blocks often arrive
                // whole in the read that brought their header.
                let body = if body_align == 0 {
                    pool::copy_of(&avail[body_start..body_end])
                } else {
                    let mut body = BodyDest::new(body_len, body_align)?;
                    body.fill(&avail[body_start..body_end]);
                    body.into_bytes()
                };
                // The padding after the body may not all have arrived yet.
                let frame_end = body_end + padding(body_len);
                let consumed = frame_end.min(avail.len());
                self.skip = frame_end - consumed;
                self.start += consumed;
                self.after_large = body_len >= DIRECT_BODY;
                out.push(InFrame { control, body });
            } else if body_len >= DIRECT_BODY {
                // Big body: one page-aligned buffer of the final size, recycled or new,
                // and the socket reads straight into it.
                let mut body = BodyDest::new(body_len, body_align)?;
                body.fill(&avail[body_start..]);
                self.start = self.end;
                self.pending = Some(PendingBody {
                    control,
                    body,
                    filled: in_buffer,
                    tail: padding(body_len),
                });
                return Ok(());
            } else {
                return Ok(());
            }
        }
    }

    /// Makes free space at the end of the buffer: slides unread bytes to the front, and
    /// grows the buffer when one frame's header and small body need more than it holds.
    fn make_room(&mut self) {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        if self.end < self.buf.len() {
            return;
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            let grown = self.buf.len() * 2;
            self.buf.resize(grown, 0);
        }
    }
}

/// Limits for tests of links over loopback, whose frames have headers of a few bytes.
#[cfg(test)]
pub(crate) const TEST_LIMITS: Limits = Limits {
    max_header: 1 << 10,
    max_body: 1 << 30,
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::aligned::Zeroing;

    const LIMITS: Limits = Limits {
        max_header: 1 << 20,
        max_body: 1 << 30,
    };

    /// A stream that hands out at most `step` bytes per read, then WouldBlock once.
    struct Trickle {
        data: Vec<u8>,
        at: usize,
        step: usize,
        block_next: bool,
    }

    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.block_next {
                self.block_next = false;
                return Err(io::ErrorKind::WouldBlock.into());
            }
            self.block_next = true;
            let n = self.step.min(buf.len()).min(self.data.len() - self.at);
            buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    fn encode(frames: &[(Control, Vec<u8>)]) -> Vec<u8> {
        let mut wire = Vec::new();
        for (c, b) in frames {
            let mut f = OutFrame::new(c, Bytes::from(b.clone()));
            assert!(f.write_to(&mut wire).unwrap());
        }
        wire
    }

    /// Every frame of `wire`, read from a stream that hands out `step` bytes per read,
    /// until the stream ends.
    fn read_trickled(wire: &[u8], step: usize) -> Vec<InFrame> {
        let mut stream = Trickle {
            data: wire.to_vec(),
            at: 0,
            step,
            block_next: false,
        };
        let mut reader = FrameReader::new(LIMITS);
        let mut out = Vec::new();
        loop {
            match reader.read_from(&mut Zeroing(&mut stream), &mut out) {
                Ok(()) => continue,
                Err(ReadError::Closed) => return out,
                Err(e) => panic!("step {step}: {e:?}"),
            }
        }
    }

    #[test]
    fn frames_survive_any_fragmentation() {
        let big: Vec<u8> = (0..300_000u32).map(|i| i as u8).collect();
        let frames = vec![
            (Control::Goodbye, vec![]),
            (Control::Data(vec![1, 2, 3]), vec![9; 10]),
            (Control::Data(vec![]), big.clone()),
            (Control::Goodbye, vec![]),
        ];
        let wire = encode(&frames);
        for step in [1, 7, 4096, 1 << 20] {
            let out = read_trickled(&wire, step);
            assert_eq!(out.len(), frames.len(), "step {step}");
            for (got, (control, body)) in out.iter().zip(&frames) {
                assert_eq!(&got.control, control);
                assert_eq!(&got.body[..], &body[..]);
            }
        }
    }

    /// A stream that notes how many bytes each read asked for.
    struct Recording<'a> {
        data: &'a [u8],
        asked: Vec<usize>,
    }

    impl Read for Recording<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.asked.push(buf.len());
            self.data.read(buf)
        }
    }

    /// A read that may meet the start of a large body is short (the first of a turn,
    /// and any right after a large body), so large bodies go to their own buffers
    /// instead of being copied out of the shared one; a run of small frames goes back to
    /// full-size reads.
    #[test]
    fn reads_that_may_meet_a_large_body_are_short() {
        let large: Vec<u8> = (0..5 * DIRECT_BODY as u32)
            .map(|i| (i % 249) as u8)
            .collect();
        let mut frames = vec![
            (Control::Data(vec![1]), large.clone()),
            (Control::Data(vec![2]), large.clone()),
        ];
        // About 40 KiB of small frames: more than one short read holds.
        frames.extend((0..300u32).map(|i| (Control::Data(vec![3]), vec![i as u8; 70])));
        frames.push((Control::Goodbye, vec![]));
        let wire = encode(&frames);
        let mut stream = Recording {
            data: &wire,
            asked: Vec::new(),
        };
        let mut reader = FrameReader::new(LIMITS);
        let mut out = Vec::new();
        while !matches!(
            reader.read_from(&mut Zeroing(&mut stream), &mut out),
            Err(ReadError::Closed)
        ) {}
        assert_eq!(out.len(), frames.len());
        for (got, (control, body)) in out.iter().zip(&frames) {
            assert_eq!(&got.control, control);
            assert_eq!(&got.body[..], &body[..]);
        }
        // Short first read, rest of body 1, short read, rest of body 2, short read (the
        // first small frames), then a full-size read for the rest of them.
        let asked = &stream.asked;
        assert_eq!(asked[0], PEEK, "{asked:?}");
        assert!(asked[1] > 4 * DIRECT_BODY, "{asked:?}");
        assert_eq!(asked[2], PEEK, "{asked:?}");
        assert!(asked[3] > 4 * DIRECT_BODY, "{asked:?}");
        assert_eq!(asked[4], PEEK, "{asked:?}");
        assert!(asked[5] > 8 * PEEK, "{asked:?}");
    }

    /// `mid_body` says when a large body is half read, which waiters poll on.
    #[test]
    fn mid_body_is_true_only_while_a_large_body_is_incomplete() {
        let wire = encode(&[(Control::Data(vec![1]), vec![5; 3 * DIRECT_BODY])]);
        let mut stream = Trickle {
            data: wire,
            at: 0,
            step: DIRECT_BODY,
            block_next: false,
        };
        let mut reader = FrameReader::new(LIMITS);
        let mut out = Vec::new();
        assert!(!reader.mid_body());
        reader
            .read_from(&mut Zeroing(&mut stream), &mut out)
            .unwrap();
        assert!(reader.mid_body() && out.is_empty());
        while out.is_empty() {
            reader
                .read_from(&mut Zeroing(&mut stream), &mut out)
                .unwrap();
        }
        assert!(!reader.mid_body());
    }

    #[test]
    fn oversized_frames_are_rejected() {
        let mut wire = Vec::new();
        wire.extend_from_slice(&4u32.to_le_bytes());
        wire.extend_from_slice(&(1u64 << 40).to_le_bytes());
        wire.push(0);
        let mut reader = FrameReader::new(LIMITS);
        let mut out = Vec::new();
        let err = reader
            .read_from(&mut Zeroing(&mut &wire[..]), &mut out)
            .unwrap_err();
        assert!(matches!(err, ReadError::Protocol(_)), "{err:?}");
    }

    #[test]
    fn eof_mid_frame_is_an_error_not_a_clean_close() {
        let wire = encode(&[(Control::Data(vec![5; 40]), vec![1; 100])]);
        let mut reader = FrameReader::new(LIMITS);
        let mut out = Vec::new();
        let mut stream = &wire[..wire.len() - 1];
        // The first call may stop at the short read; the next one meets the end.
        let err = (0..3)
            .find_map(|_| reader.read_from(&mut Zeroing(&mut stream), &mut out).err())
            .expect("the stream ends");
        assert!(matches!(err, ReadError::Io(_)), "{err:?}");
    }

    #[test]
    fn frames_and_bodies_start_at_multiples_of_align() {
        for (header, body_len) in [(vec![], 0), (vec![7; 40], 1), (vec![1; 60], 100_000)] {
            let body: Vec<u8> = (0..body_len).map(|i| (i % 251) as u8 + 1).collect();
            let wire = encode(&[(Control::Data(header), body.clone())]);
            assert_eq!(wire.len() % ALIGN, 0);
            let body_start = wire.len() - body_len - padding(body_len);
            assert_eq!(body_start % ALIGN, 0);
            assert_eq!(&wire[body_start..body_start + body_len], &body[..]);
        }
    }

    /// Large bodies land in recycled buffers: a body read into the buffer of an earlier,
    /// longer one must come out exactly as sent, with nothing of the old one in it.
    #[test]
    fn recycled_body_buffers_hold_exactly_the_new_body() {
        let len = 3 << 20;
        let first: Vec<u8> = (0..len).map(|i| (i % 253) as u8).collect();
        let second: Vec<u8> = (0..len - 4097).map(|i| (i % 241) as u8 ^ 0x5a).collect();
        let wire = encode(&[
            (Control::Data(vec![1]), first.clone()),
            (Control::Data(vec![2]), second.clone()),
        ]);
        let mut stream = Trickle {
            data: wire,
            at: 0,
            step: 100_000,
            block_next: false,
        };
        let mut reader = FrameReader::new(LIMITS);
        let mut received = Vec::new();
        while received.len() < 2 {
            let mut out = Vec::new();
            reader
                .read_from(&mut Zeroing(&mut stream), &mut out)
                .unwrap();
            for frame in out {
                // Keep a copy and drop the frame, so that each body's buffer is back in
                // the pool before the next body needs one.
                received.push(frame.body.to_vec());
            }
        }
        assert_eq!(received[0], first);
        assert_eq!(received[1], second);
    }

    #[test]
    fn garbage_headers_are_protocol_errors() {
        let mut wire = Vec::new();
        wire.extend_from_slice(&3u32.to_le_bytes());
        wire.extend_from_slice(&0u64.to_le_bytes());
        wire.push(0);
        wire.extend_from_slice(&[0xff, 0xff, 0xff]);
        let mut reader = FrameReader::new(LIMITS);
        let err = reader
            .read_from(&mut Zeroing(&mut &wire[..]), &mut Vec::new())
            .unwrap_err();
        assert!(matches!(err, ReadError::Protocol(_)), "{err:?}");
    }

    /// Bodies of elements come out in allocations of the alignment their frame names,
    /// whole in the read buffer or read straight into their own, and a typed receive
    /// can keep them as vectors; bytes bodies do not change.
    #[test]
    fn bodies_of_elements_arrive_aligned_and_become_vectors() {
        let words: Vec<u64> = (0..3 * DIRECT_BODY as u64 / 8).map(|i| i * 7).collect();
        let small: Vec<u16> = (0..33).collect();
        let frames = [
            OutFrame::data(
                vec![1],
                Bytes::from(bytemuck::cast_slice(&words).to_vec()),
                8,
            ),
            OutFrame::data(
                vec![2],
                Bytes::from(bytemuck::cast_slice(&small).to_vec()),
                2,
            ),
            OutFrame::data(vec![3], Bytes::new(), 16),
            OutFrame::data(vec![4], Bytes::from(vec![5u8; 3]), 0),
        ];
        let mut wire = Vec::new();
        for mut f in frames {
            assert!(f.write_to(&mut wire).unwrap());
        }
        for step in [5, 4096, 1 << 22] {
            let out = read_trickled(&wire, step);
            assert_eq!(out.len(), 4, "step {step}");
            let mut out = out.into_iter().map(|f| f.body);
            let got: Vec<u64> =
                aligned::take_vec(out.next().unwrap(), std::time::Duration::ZERO).unwrap();
            assert_eq!(got, words, "step {step}");
            let got: Vec<u16> =
                aligned::take_vec(out.next().unwrap(), std::time::Duration::ZERO).unwrap();
            assert_eq!(got, small, "step {step}");
            assert!(out.next().unwrap().is_empty());
            assert_eq!(&out.next().unwrap()[..], &[5u8; 3][..]);
        }
    }

    #[test]
    fn a_body_alignment_other_than_a_small_power_of_two_is_refused() {
        let mut frame = OutFrame::data(vec![1], Bytes::from(vec![0u8; 24]), 24);
        let mut wire = Vec::new();
        assert!(frame.write_to(&mut wire).unwrap());
        let mut out = Vec::new();
        let err = FrameReader::new(LIMITS)
            .read_from(&mut Zeroing(&mut &wire[..]), &mut out)
            .unwrap_err();
        match err {
            ReadError::Protocol(why) => assert!(why.contains("alignment 24"), "{why}"),
            other => panic!("{other:?}"),
        }
    }
}
