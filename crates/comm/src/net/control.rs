//! The messages the network layer itself speaks. Everything above it rides in
//! [`Control::Data`] as opaque bytes.
//!
//! New variants go at the end: a variant's tag is its position.

use speedy::{Readable, Writable};

/// A frame's header.
#[derive(Clone, Debug, PartialEq, Eq, Readable, Writable)]
#[speedy(tag_type = u8)]
pub enum Control {
    /// A rank introduces itself to the master during rendezvous.
    Hello {
        /// The sender's rank.
        rank: u32,
        /// The job size the sender was told.
        size: u32,
        /// Where the sender accepts peer connections (`host:port`).
        listen: String,
        /// The job's secret.
        token: String,
        /// The job's id: ranks of two jobs never mix, even sharing a port and a token.
        job_id: String,
    },
    /// The master's answer once every rank has said hello: the listening address of each
    /// rank, indexed by rank.
    Directory {
        /// `host:port` per rank.
        addrs: Vec<String>,
    },
    /// The master's answer to a hello it refuses, with the reason.
    Refused {
        /// Why.
        reason: String,
    },
    /// A rank introduces itself to a peer it dialled.
    PeerHello {
        /// The sender's rank.
        rank: u32,
        /// The job's secret.
        token: String,
        /// The job's id.
        job_id: String,
    },
    /// Upper-layer payload: an encoded message header; the frame body carries bulk bytes.
    Data(Vec<u8>),
    /// The sender is leaving normally; the connection closing next is not a failure.
    Goodbye,
    /// The sender lost rank `rank` and is about to fail: its peers fail naming the rank
    /// that was lost first, not the sender, whose own exit they may see before they
    /// notice the first loss themselves.
    Lost {
        /// The rank that was lost.
        rank: u32,
        /// What the sender observed.
        reason: String,
    },
    /// The sender's network thread is alive; sent on links idle for a while, so that a
    /// frozen or unreachable rank is noticed (see `NetConfig::peer_timeout`).
    Heartbeat,
    /// A traffic mark: every data frame the sender wrote on this link before it has
    /// arrived (see `traffic`).
    Mark,
}

impl Control {
    /// The variant's name, for messages about frames from untrusted senders (whose
    /// contents are not worth echoing).
    pub fn kind(&self) -> &'static str {
        match self {
            Control::Hello { .. } => "a hello",
            Control::Directory { .. } => "a directory",
            Control::Refused { .. } => "a refusal",
            Control::PeerHello { .. } => "a peer greeting",
            Control::Data(_) => "a data frame",
            Control::Goodbye => "a goodbye",
            Control::Lost { .. } => "a report of a lost rank",
            Control::Heartbeat => "a heartbeat",
            Control::Mark => "a traffic mark",
        }
    }
}
