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
//! Tags at or above [`RESERVED_TAGS`] belong to the collectives, whose messages also
//! say which operation they belong to, so that ranks in different collectives fail at
//! once rather than wait (see `matching`). A point-to-point wait on a rank that has
//! finished its program fails too, naming it.
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
pub(crate) mod matching;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use speedy::{Readable, Writable};

use crate::collectives::op::{seq_of, Op};
use crate::endpoint::Comm;
use crate::error::{Error, Result};
use crate::route::{self, Replies, Service, ServiceId};
use matching::Position;

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
    /// A collective's message: as `Data`, with the operation of its call.
    Collective {
        tag: u64,
        aux: u64,
        credit: u64,
        op: Op,
    },
    /// Where the sender is in its collectives: its latest call.
    Status { at: Position },
    /// The sender waits for a message of call `seq` from the receiver and asks where
    /// it is (now, and again once it reaches that call).
    Where { seq: u64 },
    /// Ranks are in different collectives: every wait fails with this reason.
    Mistake { reason: String },
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
            Ok(Header::Collective {
                tag,
                aux,
                credit,
                op,
            }) => {
                let seq = seq_of(tag).unwrap_or_default();
                if let Some(reason) = self.mailbox.check_arrival(from, seq, op) {
                    self.tell_everyone(&reason, None, out);
                }
                self.mailbox.deliver(from, tag, aux, credit, body)
            }
            Ok(Header::Status { at }) => self.mailbox.told(from, at),
            Ok(Header::Where { seq }) => {
                let at = self.mailbox.asked(from, seq);
                out.send(from, &Header::Status { at }.encode(), Bytes::new());
            }
            Ok(Header::Mistake { reason }) => {
                // Passed on, so that every rank hears it before it hears of the ranks
                // that leave because of it.
                if self.mailbox.spmd_reported(&reason) {
                    self.tell_everyone(&reason, Some(from), out);
                }
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

impl MessageService {
    /// Tells every peer but `except` of an SPMD mistake, from the network thread.
    fn tell_everyone(&self, reason: &str, except: Option<usize>, out: &mut Replies<'_>) {
        let header = Header::Mistake {
            reason: reason.to_string(),
        }
        .encode();
        for to in self.mailbox.peers().filter(|&r| Some(r) != except) {
            out.send(to, &header, Bytes::new());
        }
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
        self.post(to, tag, 0, body, None)
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

    /// Sends a message with any tag and an `aux` word: the collectives' entry point,
    /// with their call's operation (`op`).
    pub(crate) fn post(
        &self,
        to: usize,
        tag: Tag,
        aux: u64,
        body: Bytes,
        op: Option<&Op>,
    ) -> Result<()> {
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
        let header = match op {
            None => Header::Data { tag, aux, credit },
            Some(&op) => Header::Collective {
                tag,
                aux,
                credit,
                op,
            },
        }
        .encode();
        route::send(self.net(), ServiceId::Messages, to, &header, body)
    }

    /// Tells `to` where this rank is in its collectives.
    pub(crate) fn tell_position(&self, to: &[usize], at: Position) {
        let header = Header::Status { at }.encode();
        for &rank in to {
            // A peer that is gone needs no news; its loss fails the job anyway.
            let _ = route::send(self.net(), ServiceId::Messages, rank, &header, Bytes::new());
        }
    }

    /// Tells every peer of an SPMD mistake this rank's program found, if there is one
    /// it has not told yet.
    pub(crate) fn tell_mistake(&self) {
        if let Some(reason) = self.mailbox().untold() {
            let header = Header::Mistake { reason }.encode();
            for rank in self.mailbox().peers() {
                let _ = route::send(self.net(), ServiceId::Messages, rank, &header, Bytes::new());
            }
        }
    }

    /// Asks the ranks a collective wait waits for (`from`, or everyone) where they are.
    fn ask_where(&self, from: Option<usize>, tag: Tag) {
        let Some(seq) = seq_of(tag) else { return };
        let header = Header::Where { seq }.encode();
        let ask = |rank: usize| {
            let _ = route::send(self.net(), ServiceId::Messages, rank, &header, Bytes::new());
        };
        match from {
            Some(rank) if rank != self.rank() => ask(rank),
            Some(_) => {}
            None => self.mailbox().peers().for_each(ask),
        }
    }

    /// Takes the next message with `tag` from `from` (or anyone): `(from, aux, body)`.
    pub(crate) fn take(
        &self,
        from: Option<usize>,
        tag: Tag,
        timeout: Option<Duration>,
    ) -> Result<(usize, u64, Bytes)> {
        let deadline = timeout.map(|t| Instant::now() + t);
        let ask = || self.ask_where(from, tag);
        let long_wait = seq_of(tag).is_some().then_some(&ask as &dyn Fn());
        let received =
            self.mailbox()
                .receive(from, tag, deadline, self.net().brief_poll(), long_wait);
        if received.is_err() {
            self.tell_mistake();
        }
        let received = received?;
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
