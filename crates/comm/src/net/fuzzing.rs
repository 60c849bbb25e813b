//! Entry points for the cargo-fuzz targets in `fuzz/` (feature `fuzzing`): the decoders
//! that read bytes from untrusted or peer connections, driven without sockets. Not part
//! of the supported API.

use std::io::{self, Read};

pub use super::control::Control;
pub use super::frame::{FrameReader, InFrame, Limits, ReadError};
pub use super::hello::{
    judge_hello, judge_peer_hello, proves_job, secrets_match, Expect, HelloRead, HelloReader,
    Rejection, MAX_HELLO_HEADER,
};

/// A stream that hands out `bytes` in pieces of the given sizes (cycled; 0 means "would
/// block"), then the end of the stream.
pub struct Pieces<'a> {
    bytes: &'a [u8],
    sizes: &'a [u8],
    turn: usize,
    /// The last read would have blocked: the next one makes progress, so that no
    /// choice of sizes stalls a reader forever.
    blocked: bool,
}

impl<'a> Pieces<'a> {
    /// `bytes` in pieces of `sizes` (no sizes: all at once).
    pub fn new(bytes: &'a [u8], sizes: &'a [u8]) -> Pieces<'a> {
        Pieces {
            bytes,
            sizes,
            turn: 0,
            blocked: false,
        }
    }

    /// The bytes not read yet.
    pub fn rest(&self) -> &'a [u8] {
        self.bytes
    }
}

impl Read for Pieces<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let size = match self.sizes.get(self.turn % self.sizes.len().max(1)) {
            Some(&s) => s as usize,
            None => usize::MAX,
        };
        self.turn += 1;
        if size == 0 && !self.blocked && !self.bytes.is_empty() {
            self.blocked = true;
            return Err(io::ErrorKind::WouldBlock.into());
        }
        self.blocked = false;
        let n = size.max(1).min(buf.len()).min(self.bytes.len());
        buf[..n].copy_from_slice(&self.bytes[..n]);
        self.bytes = &self.bytes[n..];
        Ok(n)
    }
}

/// Reads every frame a peer's `stream` holds, as the network thread does: the frames
/// decoded, and how the stream ended (`None` for a clean end between frames).
pub fn read_frames(stream: &mut impl Read, limits: Limits) -> (Vec<InFrame>, Option<String>) {
    let mut reader = FrameReader::new(limits);
    let mut frames = Vec::new();
    loop {
        match reader.read_from(&mut super::aligned::Zeroing(stream), &mut frames) {
            Ok(()) => continue,
            Err(ReadError::Closed) => return (frames, None),
            Err(ReadError::Io(e)) => return (frames, Some(format!("io: {e}"))),
            Err(ReadError::Protocol(why)) => return (frames, Some(format!("protocol: {why}"))),
        }
    }
}

/// Reads a stranger's first frame as rendezvous does: the hello, or why the connection
/// is dropped.
pub fn read_hello(stream: &mut impl Read) -> Result<Control, String> {
    let mut reader = HelloReader::new();
    loop {
        match reader.read_from(stream) {
            Ok(HelloRead::Waiting) => continue,
            Ok(HelloRead::Done(control)) => return Ok(control),
            Err(e) => return Err(e.to_string()),
        }
    }
}
