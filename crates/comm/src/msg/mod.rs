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
mod service;
mod tag;

use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::collectives::op::{seq_of, Op};
use crate::endpoint::Comm;
use crate::error::{Error, Result};
use crate::route::{self, ServiceId};
use matching::Position;
use service::Header;

pub(crate) use mailbox::Mailbox;
pub use mailbox::MESSAGE_OVERHEAD;
pub(crate) use service::MessageService;
pub use tag::{Tag, RESERVED_TAGS};

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
        let body_align = op.map_or(0, |op| op.body_align());
        route::send_aligned(
            self.net(),
            ServiceId::Messages,
            to,
            &header,
            body,
            body_align,
        )
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
        let received = self.mailbox().receive(
            from,
            tag,
            deadline,
            self.net().brief_poll_from(from),
            long_wait,
        );
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
