//! The message plane on the network thread: its wire protocol ([`Header`]) and the
//! [`MessageService`] that queues arrivals in the [`Mailbox`] and applies credit. The
//! program threads' side is `Comm`'s methods in the parent module.

use std::sync::Arc;

use bytes::Bytes;
use speedy::{Readable, Writable};

use super::mailbox::Mailbox;
use super::matching::Position;
use crate::collectives::op::{seq_of, Op};
use crate::route::{Replies, Service};

/// The message plane's wire protocol, carried in network message headers.
#[derive(Clone, Debug, PartialEq, Eq, Readable, Writable)]
#[speedy(tag_type = u8)]
pub(super) enum Header {
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
    pub(super) fn encode(&self) -> Vec<u8> {
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
