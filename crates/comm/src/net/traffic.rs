//! What went over each link: data messages and their bytes, each way, counted with
//! relaxed atomics (a few nanoseconds per message), and the marks that give a
//! consistent cut of those counts across the job.
//!
//! Counts are of the upper layer's messages (header plus body bytes, as handed to
//! [`NetHandle::send`](super::NetHandle::send)), not of wire framing, heartbeats or
//! goodbyes, so what rank i counts as sent to rank j is what rank j counts as received
//! from rank i. A message is counted as sent under its link's lock, when its place on
//! the wire is decided, and as received when the network thread dispatches it.
//!
//! A cut ([`NetHandle::traffic_cut`](super::NetHandle::traffic_cut)): each rank sends a
//! mark on every link, recording its sent counts at that point of the link's stream;
//! the receiver records its received counts when the mark arrives. Links are FIFO, so
//! the two sides of each pair then agree exactly (Chandy and Lamport's snapshot), even
//! with messages still in flight when the cut began.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use parking_lot::Mutex;

/// One direction's count of a link's data messages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flow {
    /// Messages.
    pub msgs: u64,
    /// Header and body bytes of those messages.
    pub bytes: u64,
}

/// The traffic between this rank and one peer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PeerTraffic {
    /// What this rank sent to the peer.
    pub sent: Flow,
    /// What this rank received from the peer.
    pub received: Flow,
}

/// A link's counters, shared by the senders and the network thread.
#[derive(Default)]
pub(crate) struct LinkTraffic {
    sent_msgs: AtomicU64,
    sent_bytes: AtomicU64,
    recv_msgs: AtomicU64,
    recv_bytes: AtomicU64,
    /// Received counts when the peer's latest mark arrived, until a cut takes them.
    mark: Mutex<Option<Flow>>,
}

impl LinkTraffic {
    /// Counts a message of `bytes` sent (called under the link's lock).
    pub(crate) fn sent(&self, bytes: u64) {
        self.sent_msgs.fetch_add(1, Relaxed);
        self.sent_bytes.fetch_add(bytes, Relaxed);
    }

    /// Counts a message of `bytes` received (called by the network thread only).
    pub(crate) fn received(&self, bytes: u64) {
        self.recv_msgs.fetch_add(1, Relaxed);
        self.recv_bytes.fetch_add(bytes, Relaxed);
    }

    /// The sent counts so far.
    pub(crate) fn sent_flow(&self) -> Flow {
        Flow {
            msgs: self.sent_msgs.load(Relaxed),
            bytes: self.sent_bytes.load(Relaxed),
        }
    }

    /// The received counts so far.
    pub(crate) fn received_flow(&self) -> Flow {
        Flow {
            msgs: self.recv_msgs.load(Relaxed),
            bytes: self.recv_bytes.load(Relaxed),
        }
    }

    /// Both directions so far.
    pub(crate) fn now(&self) -> PeerTraffic {
        PeerTraffic {
            sent: self.sent_flow(),
            received: self.received_flow(),
        }
    }

    /// The peer's mark arrived: everything it sent before the mark has been counted.
    pub(crate) fn mark_arrived(&self) {
        *self.mark.lock() = Some(self.received_flow());
    }

    /// The received counts at the peer's mark, once it has arrived (taking it).
    pub(crate) fn take_mark(&self) -> Option<Flow> {
        self.mark.lock().take()
    }
}
