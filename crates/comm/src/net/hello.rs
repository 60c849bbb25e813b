//! The first frame of every connection: reading it without trusting the sender, and
//! judging it.
//!
//! A connection proves it belongs to the job with its first frame, a [`Control::Hello`]
//! (to rank 0 during rendezvous) or a [`Control::PeerHello`] (to a peer). Until then it
//! is a stranger: [`HelloReader`] reads exactly one small frame from it, into a buffer
//! that grows only as far as [`MAX_HELLO_HEADER`], and never reads past the frame, so
//! that whatever a real peer sends next is left in the socket for the event loop. The
//! `judge_*` functions then decide, comparing the secret token in constant time.

use std::io::{self, Read};

use speedy::Readable;

use super::control::Control;
use super::frame::{padding, PREFIX_LEN};

/// The largest hello header accepted: a rank number, a listening address, the token and
/// the job id fit many times over.
pub const MAX_HELLO_HEADER: u32 = 4096;

/// What reading a hello gave.
#[derive(Debug)]
pub enum HelloRead {
    /// The stream has no more bytes for now; call again when it is readable.
    Waiting,
    /// The hello frame, decoded.
    Done(Control),
}

/// Reads one body-less frame of at most [`MAX_HELLO_HEADER`] header bytes from a
/// non-blocking stream, a piece at a time, never past its end.
#[derive(Debug, Default)]
pub struct HelloReader {
    buf: Vec<u8>,
    /// How many bytes the frame has in all (prefix, header, padding); known once the
    /// prefix is in.
    need: Option<usize>,
}

impl HelloReader {
    /// A reader that has seen nothing yet.
    pub fn new() -> HelloReader {
        HelloReader::default()
    }

    /// Reads what `stream` has, up to the end of the frame. An error means the
    /// connection is to be dropped: closed early, broken, too large or undecodable.
    pub fn read_from(&mut self, stream: &mut impl Read) -> io::Result<HelloRead> {
        loop {
            let want = self.need.unwrap_or(PREFIX_LEN);
            if self.buf.len() == want {
                if self.need.is_none() {
                    self.need = Some(frame_len(&self.buf)?);
                    continue;
                }
                return decode(&self.buf).map(HelloRead::Done);
            }
            let have = self.buf.len();
            self.buf.resize(want, 0);
            match stream.read(&mut self.buf[have..]) {
                Ok(0) => {
                    self.buf.truncate(have);
                    let what = if have == 0 {
                        "closed the connection without saying hello"
                    } else {
                        "closed the connection in the middle of its hello"
                    };
                    return Err(io::Error::new(io::ErrorKind::UnexpectedEof, what));
                }
                Ok(n) => self.buf.truncate(have + n),
                Err(e) => {
                    self.buf.truncate(have);
                    match e.kind() {
                        io::ErrorKind::WouldBlock => return Ok(HelloRead::Waiting),
                        io::ErrorKind::Interrupted => {}
                        _ => return Err(e),
                    }
                }
            }
        }
    }
}

/// The whole length of the frame whose prefix is `prefix`, if it may be a hello.
fn frame_len(prefix: &[u8]) -> io::Result<usize> {
    let header_len = u32::from_le_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]);
    let mut body = [0u8; 8];
    body.copy_from_slice(&prefix[4..12]);
    let body_len = u64::from_le_bytes(body);
    if header_len > MAX_HELLO_HEADER || body_len != 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "a first frame of {header_len} header bytes and {body_len} body bytes exceeds \
                 the limit for a hello ({MAX_HELLO_HEADER} and 0)"
            ),
        ));
    }
    let head = PREFIX_LEN + header_len as usize;
    Ok(head + padding(head))
}

fn decode(frame: &[u8]) -> io::Result<Control> {
    let header_len = u32::from_le_bytes([frame[0], frame[1], frame[2], frame[3]]) as usize;
    Control::read_from_buffer(&frame[PREFIX_LEN..PREFIX_LEN + header_len]).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("an undecodable first frame: {e}"),
        )
    })
}

/// Compares two secrets in time that depends on their lengths only, not on where they
/// first differ, so that a stranger cannot find the token a byte at a time by timing
/// refusals.
pub fn secrets_match(given: &str, expected: &str) -> bool {
    let (a, b) = (given.as_bytes(), expected.as_bytes());
    let mut diff = (a.len() != b.len()) as u8;
    // Walk the expected secret's length whatever was given, so the time does not
    // depend on the given bytes either.
    for (i, &e) in b.iter().enumerate() {
        let g = a.get(i).copied().unwrap_or(!e);
        diff |= g ^ e;
    }
    std::hint::black_box(diff) == 0
}

/// What rank 0 expects of a hello during rendezvous.
#[derive(Clone, Copy, Debug)]
pub struct Expect<'a> {
    /// The job's size.
    pub size: usize,
    /// The job's secret token.
    pub token: &'a str,
    /// The job's id.
    pub job_id: &'a str,
}

/// Why a hello was turned away.
#[derive(Debug, PartialEq, Eq)]
pub enum Rejection {
    /// Not of this job (wrong token or job id, or not a hello at all): close without a
    /// word, so that a stranger learns nothing.
    Stranger(String),
    /// Of this job but not acceptable (wrong size, rank out of range): answer with the
    /// reason, so that the rank fails saying why.
    Refused(String),
}

impl Rejection {
    /// Why, in words.
    pub fn reason(&self) -> &str {
        match self {
            Rejection::Stranger(why) | Rejection::Refused(why) => why,
        }
    }
}

/// Rank 0's verdict on a rendezvous hello: the sender's rank and listening address.
/// Duplicate ranks are for the caller to catch, since only it knows who has arrived.
pub fn judge_hello(hello: Control, expect: Expect<'_>) -> Result<(usize, String), Rejection> {
    let (rank, size, listen) = match hello {
        Control::Hello {
            rank,
            size,
            listen,
            token,
            job_id,
        } => {
            proves_job(&token, &job_id, expect)?;
            (rank as usize, size as usize, listen)
        }
        Control::PeerHello { token, job_id, .. } => {
            proves_job(&token, &job_id, expect)?;
            return Err(Rejection::Stranger(
                "a peer greeting sent to the master during rendezvous".into(),
            ));
        }
        other => {
            return Err(Rejection::Stranger(format!(
                "expected a hello, got {}",
                other.kind()
            )))
        }
    };
    if size != expect.size {
        return Err(Rejection::Refused(format!(
            "rank {rank} was told the job has {size} ranks, the master has {}",
            expect.size
        )));
    }
    if rank == 0 || rank >= expect.size {
        return Err(Rejection::Refused(format!(
            "rank {rank} is out of range for a job of {}",
            expect.size
        )));
    }
    Ok((rank, listen))
}

/// A peer's verdict on the greeting of a rank that dialled it: the sender's rank.
pub fn judge_peer_hello(hello: Control, expect: Expect<'_>) -> Result<usize, Rejection> {
    match hello {
        Control::PeerHello {
            rank,
            token,
            job_id,
        } => {
            proves_job(&token, &job_id, expect)?;
            Ok(rank as usize)
        }
        Control::Hello { token, job_id, .. } => {
            proves_job(&token, &job_id, expect)?;
            Err(Rejection::Stranger(
                "a rendezvous hello sent to a peer".into(),
            ))
        }
        other => Err(Rejection::Stranger(format!(
            "expected a peer greeting, got {}",
            other.kind()
        ))),
    }
}

/// Whether `token` and `job_id` are this job's, both compared whatever the other says.
pub fn proves_job(token: &str, job_id: &str, expect: Expect<'_>) -> Result<(), Rejection> {
    let token_ok = secrets_match(token, expect.token);
    let job_ok = job_id == expect.job_id;
    match (token_ok, job_ok) {
        (true, true) => Ok(()),
        (false, _) => Err(Rejection::Stranger("wrong job token".into())),
        (true, false) => Err(Rejection::Stranger(format!(
            "a rank of another job (job id {job_id:?}, this job is {:?})",
            expect.job_id
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::frame::OutFrame;
    use bytes::Bytes;

    fn wire(control: &Control) -> Vec<u8> {
        let mut out = Vec::new();
        assert!(OutFrame::new(control, Bytes::new())
            .write_to(&mut out)
            .unwrap());
        out
    }

    fn hello(rank: u32, token: &str, job_id: &str) -> Control {
        Control::Hello {
            rank,
            size: 4,
            listen: "127.0.0.1:1".into(),
            token: token.into(),
            job_id: job_id.into(),
        }
    }

    const EXPECT: Expect<'static> = Expect {
        size: 4,
        token: "s3cret",
        job_id: "job-1",
    };

    /// A stream that gives one byte per read, then WouldBlock, and says what is left.
    struct ByteAtATime<'a>(&'a [u8], bool);
    impl Read for ByteAtATime<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.1 = !self.1;
            if self.1 {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            if self.0.is_empty() {
                return Ok(0);
            }
            buf[0] = self.0[0];
            self.0 = &self.0[1..];
            Ok(1)
        }
    }

    #[test]
    fn reads_exactly_one_frame_in_any_pieces() {
        let first = hello(2, "s3cret", "job-1");
        let mut bytes = wire(&first);
        let frame_len = bytes.len();
        bytes.extend_from_slice(&wire(&Control::Goodbye));
        let mut stream = ByteAtATime(&bytes, false);
        let mut reader = HelloReader::new();
        let got = loop {
            if let HelloRead::Done(c) = reader.read_from(&mut stream).unwrap() {
                break c;
            }
        };
        assert_eq!(got, first);
        // What follows the hello is still in the stream, for the event loop.
        assert_eq!(stream.0.len(), bytes.len() - frame_len);
    }

    #[test]
    fn big_or_bodied_first_frames_are_refused_before_reading_them() {
        let mut prefix = Vec::new();
        prefix.extend_from_slice(&(64 * 1024u32).to_le_bytes());
        prefix.extend_from_slice(&0u64.to_le_bytes());
        prefix.push(0);
        let err = HelloReader::new().read_from(&mut &prefix[..]).unwrap_err();
        assert!(err.to_string().contains("exceeds the limit"), "{err}");
        let mut prefix = Vec::new();
        prefix.extend_from_slice(&8u32.to_le_bytes());
        prefix.extend_from_slice(&(1u64 << 40).to_le_bytes());
        prefix.push(0);
        assert!(HelloReader::new().read_from(&mut &prefix[..]).is_err());
    }

    #[test]
    fn early_close_says_so() {
        let bytes = wire(&hello(1, "s3cret", "job-1"));
        let err = HelloReader::new().read_from(&mut &bytes[..20]).unwrap_err();
        assert!(err.to_string().contains("middle of its hello"), "{err}");
    }

    #[test]
    fn secrets_compare_by_value() {
        assert!(secrets_match("abc", "abc"));
        assert!(secrets_match("", ""));
        assert!(!secrets_match("abd", "abc"));
        assert!(!secrets_match("ab", "abc"));
        assert!(!secrets_match("abcd", "abc"));
        assert!(!secrets_match("", "abc"));
    }

    #[test]
    fn hellos_are_judged() {
        assert_eq!(
            judge_hello(hello(2, "s3cret", "job-1"), EXPECT),
            Ok((2, "127.0.0.1:1".to_string()))
        );
        assert!(matches!(
            judge_hello(hello(2, "wrong", "job-1"), EXPECT),
            Err(Rejection::Stranger(why)) if why == "wrong job token"
        ));
        assert!(matches!(
            judge_hello(hello(2, "s3cret", "job-2"), EXPECT),
            Err(Rejection::Stranger(why)) if why.contains("another job")
        ));
        assert!(matches!(
            judge_hello(hello(0, "s3cret", "job-1"), EXPECT),
            Err(Rejection::Refused(_))
        ));
        assert!(matches!(
            judge_hello(hello(9, "s3cret", "job-1"), EXPECT),
            Err(Rejection::Refused(_))
        ));
        let peer = Control::PeerHello {
            rank: 3,
            token: "s3cret".into(),
            job_id: "job-1".into(),
        };
        assert_eq!(judge_peer_hello(peer.clone(), EXPECT), Ok(3));
        assert!(judge_hello(peer, EXPECT).is_err());
        assert!(judge_peer_hello(Control::Goodbye, EXPECT).is_err());
    }
}
