//! Tagged point-to-point messages between ranks, beside the store on the same links.
//!
//! [`Comm::send`] hands a body to rank `to` under a `tag`; [`Comm::recv`] takes the next
//! message with that tag from a given rank, [`Comm::recv_any`] from whichever rank sent
//! one first. Messages from one sender with one tag arrive in the order sent. A send
//! returns once the message is written to the socket or queued for the network thread:
//! there is no acknowledgement round trip, and the body's bytes are written straight
//! from the caller's buffer and received into one buffer of their own.
//!
//! Memory stays bounded by credit-based flow control (see `mailbox`): a sender that
//! outruns its receiver waits until the receiver's program consumes what it has. A
//! receiver holds at most [`NetConfig::msg_window`](crate::net::NetConfig) unconsumed
//! bytes from each peer, plus one message of any size. As with MPI's blocking sends, a
//! program that receives in a different order than it sends can therefore wait forever
//! once a window is full; the collectives never do.
//!
//! Tags at or above [`RESERVED_TAGS`] belong to the collectives.
//!
//! ```
//! use eau2_comm::{Comm, net::NetConfig, Bytes};
//!
//! // A job of one rank may message itself.
//! let comm = Comm::connect(&NetConfig::new(0, 1, "127.0.0.1:0", "secret"))?;
//! comm.send(0, 7, Bytes::from_static(b"hello"))?;
//! assert_eq!(&comm.recv(0, 7)?[..], b"hello");
//! # Ok::<(), eau2_comm::Error>(())
//! ```

mod mailbox;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use speedy::{Readable, Writable};

use crate::endpoint::Comm;
use crate::error::{Error, Result};
use crate::route::{self, Replies, Service, ServiceId};

pub(crate) use mailbox::Mailbox;
pub use mailbox::MESSAGE_OVERHEAD;

/// A message tag: user tags are below [`RESERVED_TAGS`].
pub type Tag = u64;

/// The first tag reserved for the collectives.
pub const RESERVED_TAGS: Tag = 1 << 63;

/// The message plane's wire protocol, carried in network message headers.
#[derive(Clone, Debug, PartialEq, Eq, Readable, Writable)]
#[speedy(tag_type = u8)]
enum Header {
    /// A message: the body is its payload. `credit` hands back window bytes of the
    /// receiver's messages to us that our program has consumed.
    Data { tag: u64, aux: u64, credit: u64 },
    /// Window bytes handed back, on their own.
    Credit { bytes: u64 },
    /// The sender is waiting for credit.
    CreditPlease,
}

impl Header {
    fn encode(&self) -> Vec<u8> {
        self.write_to_vec()
            .expect("encoding a message header into memory cannot fail")
    }
}

/// Serves the message plane on the network thread: queues arrivals, applies credit.
pub(crate) struct MessageService {
    pub(crate) mailbox: Arc<Mailbox>,
}

impl Service for MessageService {
    fn on_message(&self, from: usize, header: &[u8], body: Bytes, out: &mut Replies<'_>) {
        match Header::read_from_buffer(header) {
            Ok(Header::Data { tag, aux, credit }) => {
                self.mailbox.deliver(from, tag, aux, credit, body)
            }
            Ok(Header::Credit { bytes }) => self.mailbox.credit(from, bytes),
            Ok(Header::CreditPlease) => {
                let bytes = self.mailbox.peer_waits(from);
                if bytes > 0 {
                    out.send(from, &Header::Credit { bytes }.encode(), Bytes::new());
                }
            }
            Err(e) => self.mailbox.fail(
                from,
                &format!("rank {from} sent an undecodable message header: {e}"),
            ),
        }
    }

    fn on_peer_lost(&self, rank: usize, reason: &str) {
        self.mailbox.fail(rank, reason);
    }
}

impl Comm {
    fn check_rank(&self, rank: usize, role: &str) -> Result<()> {
        if rank < self.size() {
            Ok(())
        } else {
            Err(Error::Config(format!(
                "rank {} cannot {role} rank {rank} in a job of {}",
                self.rank(),
                self.size()
            )))
        }
    }

    fn check_user_tag(tag: Tag) -> Result<()> {
        if tag < RESERVED_TAGS {
            Ok(())
        } else {
            Err(Error::Config(format!(
                "message tag {tag:#x} is reserved for the collectives (user tags are below {RESERVED_TAGS:#x})"
            )))
        }
    }

    /// Sends `body` to rank `to` under `tag`. Returns once the message is on its way
    /// (written or queued), waiting only while `to`'s window for this rank is full.
    pub fn send(&self, to: usize, tag: Tag, body: Bytes) -> Result<()> {
        Self::check_user_tag(tag)?;
        self.post(to, tag, 0, body)
    }

    /// The next message with `tag` from rank `from`, waiting for it.
    pub fn recv(&self, from: usize, tag: Tag) -> Result<Bytes> {
        Self::check_user_tag(tag)?;
        self.check_rank(from, "receive from")?;
        Ok(self.take(Some(from), tag, None)?.2)
    }

    /// The next message with `tag` from any rank, and who sent it.
    pub fn recv_any(&self, tag: Tag) -> Result<(usize, Bytes)> {
        Self::check_user_tag(tag)?;
        let (from, _, body) = self.take(None, tag, None)?;
        Ok((from, body))
    }

    /// Like [`Comm::recv`], failing with [`Error::Timeout`] after `timeout`.
    pub fn recv_timeout(&self, from: usize, tag: Tag, timeout: Duration) -> Result<Bytes> {
        Self::check_user_tag(tag)?;
        self.check_rank(from, "receive from")?;
        Ok(self.take(Some(from), tag, Some(timeout))?.2)
    }

    /// Bytes (counting [`MESSAGE_OVERHEAD`] per message) that other ranks have sent
    /// here and the program has not received yet.
    pub fn unconsumed_bytes(&self) -> u64 {
        self.mailbox().unconsumed()
    }

    /// Sends a message with any tag and an `aux` word: the collectives' entry point.
    pub(crate) fn post(&self, to: usize, tag: Tag, aux: u64, body: Bytes) -> Result<()> {
        self.check_rank(to, "send to")?;
        let mailbox = self.mailbox();
        if to == self.rank() {
            // To itself: straight into the mailbox, outside flow control (there is no
            // other party to wait for).
            mailbox.deliver(to, tag, aux, 0, body);
            return Ok(());
        }
        // A full window waits for the receiver's credit: a wait for a peer like any other.
        let expecting = self.net().expecting();
        let credit = loop {
            match mailbox.reserve(to, body.len())? {
                mailbox::Reserve::Go(reserved) => break reserved.credit,
                mailbox::Reserve::Ask => route::send(
                    self.net(),
                    ServiceId::Messages,
                    to,
                    &Header::CreditPlease.encode(),
                    Bytes::new(),
                )?,
            }
        };
        drop(expecting);
        let header = Header::Data { tag, aux, credit }.encode();
        route::send(self.net(), ServiceId::Messages, to, &header, body)
    }

    /// Takes the next message with `tag` from `from` (or anyone): `(from, aux, body)`.
    pub(crate) fn take(
        &self,
        from: Option<usize>,
        tag: Tag,
        timeout: Option<Duration>,
    ) -> Result<(usize, u64, Bytes)> {
        let deadline = timeout.map(|t| Instant::now() + t);
        let received = self
            .mailbox()
            .receive(from, tag, deadline, self.net().brief_poll())?;
        let Some((letter, credit)) = received else {
            let who = from.map_or("any rank".to_string(), |r| format!("rank {r}"));
            return Err(Error::Timeout(format!(
                "rank {} waiting for a message with tag {tag:#x} from {who} for {:?}",
                self.rank(),
                timeout.unwrap_or_default()
            )));
        };
        if credit > 0 {
            let header = Header::Credit { bytes: credit }.encode();
            route::send(
                self.net(),
                ServiceId::Messages,
                letter.from,
                &header,
                Bytes::new(),
            )?;
        }
        Ok((letter.from, letter.aux, letter.body))
    }
}
