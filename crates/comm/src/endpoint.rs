//! [`Comm`]: one rank's handle on its job: the network, the store, the message plane
//! and the collectives, all over one set of links served by one network thread.

use std::sync::Arc;

use crate::error::Result;
use crate::gauge::{Gauge, GaugeService, Gauges};
use crate::kv::Kv;
use crate::msg::{Mailbox, MessageService};
use crate::net::{self, NetConfig, NetHandle};
use crate::route::Router;

/// One rank's place in a job: who it is, the store, messages and collectives.
///
/// Program threads share it by reference. Collectives must be called by every rank in
/// the same order, from one thread at a time per rank (as in MPI).
pub struct Comm {
    pub(crate) net: Arc<NetHandle>,
    kv: Kv,
    mailbox: Arc<Mailbox>,
    pub(crate) gauges: Arc<Gauges>,
    /// Whether some machine of the job runs more ranks than it has CPUs, once a
    /// collective needed to know (`collectives::layout`).
    pub(crate) crowded: std::sync::OnceLock<bool>,
}

impl Comm {
    /// Joins the job described by `cfg` (rendezvous included) and starts the network
    /// thread, which serves this rank's part of the store and receives its messages.
    pub fn connect(cfg: &NetConfig) -> Result<Comm> {
        let mailbox = Arc::new(Mailbox::new(cfg.rank, cfg.size, cfg.msg_window));
        let store = Arc::new(Kv::service(cfg.rank, cfg.size));
        let gauges = Arc::new(Gauges::new(cfg.size));
        let router = Router {
            rank: cfg.rank,
            store: Arc::clone(&store) as _,
            messages: Arc::new(MessageService {
                mailbox: Arc::clone(&mailbox),
            }),
            gauges: Arc::new(GaugeService {
                gauges: Arc::clone(&gauges),
            }),
        };
        let net = Arc::new(net::connect(cfg, Box::new(router))?);
        Ok(Comm {
            kv: Kv::new(&store, Arc::clone(&net)),
            net,
            mailbox,
            gauges,
            crowded: cfg
                .crowded
                .map_or_else(std::sync::OnceLock::new, std::sync::OnceLock::from),
        })
    }

    /// This rank, `0..size()`.
    pub fn rank(&self) -> usize {
        self.net.rank()
    }

    /// The number of ranks.
    pub fn size(&self) -> usize {
        self.net.size()
    }

    /// The distributed key/value store.
    pub fn kv(&self) -> &Kv {
        &self.kv
    }

    /// Draws the next gauge (see [`crate::gauge`]). Every rank draws gauges in the same
    /// order, so the k-th gauge of each rank is the same gauge.
    pub fn new_gauge(&self) -> Gauge {
        Gauges::draw(&self.gauges, self.rank(), &self.net)
    }

    pub(crate) fn net(&self) -> &NetHandle {
        &self.net
    }

    pub(crate) fn mailbox(&self) -> &Mailbox {
        &self.mailbox
    }

    /// Time this rank's program threads have spent waiting on the network so far
    /// (summed over threads): for messages (collectives included), for a peer's window
    /// to open, for the store's answers.
    pub fn network_wait(&self) -> std::time::Duration {
        self.mailbox.waited.total() + self.kv.waited()
    }

    /// The messages and bytes sent to and received from each rank so far (see
    /// [`NetHandle::traffic`]).
    pub fn traffic(&self) -> Vec<net::PeerTraffic> {
        self.net.traffic()
    }

    /// Collective: the traffic with each rank at a consistent cut, on which every
    /// pair of ranks agrees (see [`NetHandle::traffic_cut`]).
    pub fn traffic_cut(&self, timeout: std::time::Duration) -> Result<Vec<net::PeerTraffic>> {
        self.net.traffic_cut(timeout)
    }

    /// The SPMD mistake ([`crate::Error::Spmd`]) this rank found or heard of, if any.
    /// An operation outside the message plane (the store) that failed because a rank
    /// left over that mistake reports the rank as lost; this says why it left.
    pub fn spmd_mistake(&self) -> Option<crate::Error> {
        self.mailbox.mistake()
    }

    /// Prepares this process to exit on an error: waits (briefly, at most half a
    /// second) until what it has sent is written, so that its peers learn which rank
    /// failed first, and says no goodbye, so that they fail too.
    pub fn abort(&self) {
        self.net.drain(std::time::Duration::from_millis(500));
    }

    /// Leaves the job at once, as if this rank's process had died: closes every link
    /// without a goodbye and stops the network thread, so that every peer fails its
    /// pending and later operations naming this rank; this rank's own fail too. For a rank that fails while its
    /// process lives on (ranks run as threads); a process exits after [`Comm::abort`]
    /// instead.
    pub fn vanish(&self) {
        self.net.abort();
    }

    /// Leaves the job: says goodbye to every peer and stops the network thread. Call it
    /// only when no rank needs this one any more (after [`Comm::finish`]).
    pub fn shutdown(&self) -> Result<()> {
        self.net.shutdown()
    }
}
