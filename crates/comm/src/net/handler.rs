//! The upper layer's side of the network thread: the [`Handler`] it calls and the
//! [`Outbox`] it queues replies in. Apart from the rest of `net` so that the event loop
//! and the handle both depend on it, and it on nothing of theirs.

use std::sync::Arc;

use bytes::Bytes;
use parking_lot::Mutex;

/// The upper layer's side of the network thread. Its methods run on that thread, or on
/// a program thread that reads a peer's link while it waits for that peer (one thread
/// at a time), so they must not block: look things up, queue replies, wake waiters,
/// return.
pub trait Handler: Send + 'static {
    /// A message from rank `from`: the header bytes it sent and its body.
    fn on_message(&mut self, from: usize, header: Vec<u8>, body: Bytes, out: &mut Outbox);
    /// Rank `rank` is gone without saying goodbye (or the network failed).
    fn on_peer_lost(&mut self, rank: usize, reason: &str);
}

/// Messages a [`Handler`] queues for sending when it returns.
#[derive(Default)]
pub struct Outbox {
    pub(super) frames: Vec<(usize, Vec<u8>, Bytes)>,
}

impl Outbox {
    /// Queues a message to rank `to`.
    pub fn send(&mut self, to: usize, header: Vec<u8>, body: Bytes) {
        self.frames.push((to, header, body));
    }
}

/// The handler, shared by the network thread and the program threads that read links
/// while they wait. Calls take turns, each while its thread holds the turn of the link
/// the message came on, so messages from one peer reach the handler in order.
#[derive(Clone)]
pub(crate) struct SharedHandler(Arc<Mutex<Box<dyn Handler>>>);

impl SharedHandler {
    /// Shares `handler`.
    pub(crate) fn new(handler: Box<dyn Handler>) -> SharedHandler {
        SharedHandler(Arc::new(Mutex::new(handler)))
    }

    /// Hands a message from rank `from` to the handler; returns the replies it queued,
    /// for the caller to send once the handler is free again.
    pub(crate) fn on_message(&self, from: usize, header: Vec<u8>, body: Bytes) -> Outbox {
        let mut outbox = Outbox::default();
        self.0.lock().on_message(from, header, body, &mut outbox);
        outbox
    }

    /// Tells the handler that rank `rank` is gone.
    pub(crate) fn on_peer_lost(&self, rank: usize, reason: &str) {
        self.0.lock().on_peer_lost(rank, reason);
    }
}
