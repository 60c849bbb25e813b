//! Gauges: each rank's latest value of a counter, summed at rank 0. They carry progress
//! (bytes parsed, rows done) from every rank to the rank that shows it.
//!
//! Every rank draws gauges in the same order ([`crate::Comm::new_gauge`]). A rank
//! [`Gauge::publish`]es its current value now and then (a small message to rank 0,
//! outside flow control: rank 0's network thread only overwrites that rank's slot, so
//! nothing queues and memory stays fixed), and rank 0 reads the sum of the latest
//! values with [`Gauge::total`]. Rank 0 keeps each rank's latest two series, so a rank
//! that has already moved on to the next gauge still counts in the one rank 0 shows;
//! values of older series are dropped.
//!
//! ```
//! use eau2_comm::{net::NetConfig, Comm};
//!
//! let comm = Comm::connect(&NetConfig::new(0, 1, "127.0.0.1:0", "secret"))?;
//! let parsed = comm.new_gauge();
//! parsed.publish(4096)?;
//! assert_eq!(parsed.total(), 4096);
//! # Ok::<(), eau2_comm::Error>(())
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::Mutex;

use crate::error::Result;
use crate::net::NetHandle;
use crate::route::{self, Replies, Service, ServiceId};

/// The rank that collects gauges.
const COLLECTOR: usize = 0;

/// Every rank's latest two `(series, value)`s (newest first), kept at rank 0, and the
/// series counter.
pub(crate) struct Gauges {
    latest: Mutex<Vec<[(u64, u64); 2]>>,
    next_series: AtomicU64,
}

impl Gauges {
    /// Gauges for a job of `size` ranks.
    pub(crate) fn new(size: usize) -> Gauges {
        Gauges {
            latest: Mutex::new(vec![[(0, 0); 2]; size]),
            next_series: AtomicU64::new(1),
        }
    }

    fn record(&self, from: usize, series: u64, value: u64) {
        let mut latest = self.latest.lock();
        let Some(slots) = latest.get_mut(from) else {
            return;
        };
        if series > slots[0].0 {
            slots[1] = slots[0];
            slots[0] = (series, value);
        } else if let Some(slot) = slots.iter_mut().find(|(s, _)| *s == series) {
            slot.1 = value;
        }
    }
}

/// Serves gauge updates on rank 0's network thread.
pub(crate) struct GaugeService {
    pub(crate) gauges: std::sync::Arc<Gauges>,
}

impl Service for GaugeService {
    fn on_message(&self, from: usize, header: &[u8], _body: Bytes, _out: &mut Replies<'_>) {
        let word = |i: usize| {
            header
                .get(i * 8..i * 8 + 8)
                .and_then(|b| b.try_into().ok())
                .map(u64::from_le_bytes)
        };
        match (word(0), word(1)) {
            (Some(series), Some(value)) => self.gauges.record(from, series, value),
            _ => tracing::error!(
                "ignoring a gauge update of {} bytes from rank {from}",
                header.len()
            ),
        }
    }

    fn on_peer_lost(&self, _rank: usize, _reason: &str) {}
}

/// One gauge, as a rank holds it: cheap to clone and usable from any thread (a
/// progress reporter's, say), independently of the [`crate::Comm`] it came from.
#[derive(Clone)]
pub struct Gauge {
    series: u64,
    rank: usize,
    net: Arc<NetHandle>,
    gauges: Arc<Gauges>,
}

impl Gauges {
    /// The next gauge of this rank (`rank`, sending through `net`): what
    /// [`crate::Comm::new_gauge`] returns.
    pub(crate) fn draw(gauges: &Arc<Gauges>, rank: usize, net: &Arc<NetHandle>) -> Gauge {
        Gauge {
            series: gauges.next_series.fetch_add(1, Ordering::Relaxed),
            rank,
            net: Arc::clone(net),
            gauges: Arc::clone(gauges),
        }
    }
}

impl std::fmt::Debug for Gauge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gauge")
            .field("series", &self.series)
            .field("latest", &*self.gauges.latest.lock())
            .finish()
    }
}

impl Gauge {
    /// Sets this rank's value of the gauge at rank 0 (a message, unless this is rank
    /// 0). Cheap enough for a few times a second; not for every row.
    pub fn publish(&self, value: u64) -> Result<()> {
        if self.rank == COLLECTOR {
            self.gauges.record(COLLECTOR, self.series, value);
            return Ok(());
        }
        let mut header = [0u8; 16];
        header[..8].copy_from_slice(&self.series.to_le_bytes());
        header[8..].copy_from_slice(&value.to_le_bytes());
        route::send(
            &self.net,
            ServiceId::Gauges,
            COLLECTOR,
            &header,
            Bytes::new(),
        )
    }

    /// At rank 0: the sum over ranks of the latest published values (ranks not heard
    /// from yet count 0). Elsewhere: this rank's own value, if it published one.
    pub fn total(&self) -> u64 {
        self.gauges
            .latest
            .lock()
            .iter()
            .flatten()
            .filter(|(s, _)| *s == self.series)
            .map(|(_, v)| v)
            .sum()
    }
}
