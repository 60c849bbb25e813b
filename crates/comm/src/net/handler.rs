//! The upper layer's side of the network thread: the [`Handler`] it calls and the
//! [`Outbox`] it queues replies in. Apart from the rest of `net` so that the event loop
//! and the handle both depend on it, and it on nothing of theirs.

use bytes::Bytes;

/// The upper layer's side of the network thread. Its methods run on that thread, so they
/// must not block: look things up, queue replies, wake waiters, return.
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
