//! One network thread, several services: the store and the message plane share every
//! link. The first byte of each message header names the service it belongs to; the
//! [`Router`] strips it and hands the rest to that service on the network thread.

use bytes::Bytes;

use crate::net::{Handler, NetHandle, Outbox};

/// The services that ride on the network, by the header byte that names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum ServiceId {
    /// The key/value store ([`crate::kv`]).
    Store = 0,
    /// Tagged point-to-point messages ([`crate::msg`]).
    Messages = 1,
    /// Gauge updates ([`crate::gauge`]).
    Gauges = 2,
}

/// A service's side of the network thread: like [`Handler`], with the service byte
/// already stripped. Its methods run on the network thread and must not block.
pub(crate) trait Service: Send + Sync {
    /// A message for this service from rank `from`.
    fn on_message(&self, from: usize, header: &[u8], body: Bytes, out: &mut Replies<'_>);
    /// Rank `rank` is gone without saying goodbye (or the network failed).
    fn on_peer_lost(&self, rank: usize, reason: &str);
}

/// The header of a message for `service`: its byte, then `header`.
pub(crate) fn header_for(service: ServiceId, header: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + header.len());
    out.push(service as u8);
    out.extend_from_slice(header);
    out
}

/// Sends a message for `service` from a program thread.
pub(crate) fn send(
    net: &NetHandle,
    service: ServiceId,
    to: usize,
    header: &[u8],
    body: Bytes,
) -> crate::Result<()> {
    send_aligned(net, service, to, header, body, 0)
}

/// [`send`] of a body of elements of alignment `body_align` (0 for bytes).
pub(crate) fn send_aligned(
    net: &NetHandle,
    service: ServiceId,
    to: usize,
    header: &[u8],
    body: Bytes,
    body_align: u8,
) -> crate::Result<()> {
    net.send_aligned(to, header_for(service, header), body, body_align)
}

/// Replies a service queues from the network thread; they leave when it returns.
pub(crate) struct Replies<'a> {
    service: ServiceId,
    out: &'a mut Outbox,
}

impl Replies<'_> {
    /// Queues a message for the same service at rank `to`.
    pub(crate) fn send(&mut self, to: usize, header: &[u8], body: Bytes) {
        self.out.send(to, header_for(self.service, header), body);
    }
}

/// The network thread's handler: dispatches each message to its service.
pub(crate) struct Router {
    pub(crate) rank: usize,
    pub(crate) store: std::sync::Arc<dyn Service>,
    pub(crate) messages: std::sync::Arc<dyn Service>,
    pub(crate) gauges: std::sync::Arc<dyn Service>,
}

impl Handler for Router {
    fn on_message(&mut self, from: usize, header: Vec<u8>, body: Bytes, out: &mut Outbox) {
        let (service, id) = match header.first() {
            Some(&b) if b == ServiceId::Store as u8 => (&self.store, ServiceId::Store),
            Some(&b) if b == ServiceId::Messages as u8 => (&self.messages, ServiceId::Messages),
            Some(&b) if b == ServiceId::Gauges as u8 => (&self.gauges, ServiceId::Gauges),
            other => {
                // A peer of the same job speaking another protocol version: a bug we
                // cannot recover from locally; say so and drop the message.
                tracing::error!(
                    rank = self.rank,
                    "ignoring a message from rank {from} for unknown service {other:?}"
                );
                return;
            }
        };
        let mut replies = Replies { service: id, out };
        service.on_message(from, &header[1..], body, &mut replies);
    }

    fn on_peer_lost(&mut self, rank: usize, reason: &str) {
        self.store.on_peer_lost(rank, reason);
        self.messages.on_peer_lost(rank, reason);
        self.gauges.on_peer_lost(rank, reason);
    }
}
