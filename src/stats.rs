//! Job statistics: what each rank sent and received, how long it computed and waited,
//! its peak memory and what it stored, gathered at rank 0 when the program ends.
//!
//! Asked for with `EAU2_STATS=1` (or an app's `--stats`, [`request_table`]): rank 0
//! hands a [`JobStats`] to the [`Reporter`] a front end installed with [`set_reporter`]
//! (the `eau2-console` crate's prints a table, one row per rank, on standard error, and
//! `EAU2_STATS=json:FILE` writes the same to FILE as JSON). Without a reporter nothing is
//! gathered, and rank 0 warns that the statistics asked for cannot be shown.
//! [`crate::run`] collects them after the program returns on every rank: a traffic cut (see `eau2_comm::net`), so that what rank i counts as sent to
//! rank j is exactly what rank j counts as received from rank i, then a `gather`. The
//! counters themselves are always on: relaxed atomic adds per message and a clock read
//! per wait.
//!
//! Times: `wall` is the program's time on the rank (from joining to returning);
//! `network_wait` the time its threads spent blocked on the network (messages and
//! collectives, a peer's full window, the store's answers), summed over threads; `user`
//! is `wall - network_wait`, at least 0 (several threads waiting at once can add up to
//! more than `wall`).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use serde::Serialize;
use speedy::{Readable, Writable};

use crate::error::Result;
use crate::net::vars;
use crate::Node;

/// The variable that asks for statistics.
pub const ENV: &str = "EAU2_STATS";

/// Where statistics go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StatsMode {
    /// Nowhere.
    Off,
    /// A table on rank 0's standard error.
    Table,
    /// JSON in this file, written by rank 0.
    Json(PathBuf),
}

static FLAG: AtomicBool = AtomicBool::new(false);

/// What shows a job's statistics on rank 0 as the [`StatsMode`] says (never called with
/// [`StatsMode::Off`]).
pub type Reporter = fn(&JobStats, &StatsMode) -> Result<()>;

static REPORTER: OnceLock<Reporter> = OnceLock::new();

/// Installs how rank 0 shows the statistics (once; later calls are ignored). Every rank
/// of a job installs one, or none does: gathering them is collective.
pub fn set_reporter(reporter: Reporter) {
    let _ = REPORTER.set(reporter);
}

/// Asks for the table as `--stats` does (`EAU2_STATS` still chooses JSON if it says so).
pub fn request_table() {
    FLAG.store(true, Ordering::Relaxed);
}

impl StatsMode {
    /// Reads `EAU2_STATS`: unset, empty or `0` is off (unless [`request_table`] was
    /// called), `1` the table, `json:FILE` JSON. Any other value is refused by
    /// [`crate::run`] at start; one set later is logged as an error and gives the table.
    pub fn from_env() -> StatsMode {
        let flag = FLAG.load(Ordering::Relaxed);
        match vars::stats(&vars::process_env) {
            Ok(vars::Stats::Json(path)) => StatsMode::Json(path),
            Ok(vars::Stats::Table) => StatsMode::Table,
            Ok(vars::Stats::Off) if flag => StatsMode::Table,
            Ok(vars::Stats::Off) => StatsMode::Off,
            Err(e) => {
                tracing::error!("{e}; printing the table");
                StatsMode::Table
            }
        }
    }
}

/// Traffic with one peer, as one rank counted it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Readable, Writable)]
pub struct PeerStats {
    /// The peer's rank.
    pub peer: u32,
    /// Bytes (message headers and bodies) sent to the peer.
    pub sent_bytes: u64,
    /// Messages sent to the peer.
    pub sent_msgs: u64,
    /// Bytes received from the peer.
    pub recv_bytes: u64,
    /// Messages received from the peer.
    pub recv_msgs: u64,
}

/// One rank's statistics.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Readable, Writable)]
pub struct RankStats {
    /// The rank.
    pub rank: u32,
    /// Seconds from joining the job to the program's return.
    pub wall_secs: f64,
    /// Seconds computing: `wall_secs - network_wait_secs`, at least 0.
    pub user_secs: f64,
    /// Seconds the rank's threads spent blocked on the network, summed over threads.
    pub network_wait_secs: f64,
    /// Peak resident memory of the process, in bytes (0 where the OS does not say).
    pub peak_rss_bytes: u64,
    /// Values (frame chunks, descriptors, ...) this rank holds as their home.
    pub chunks_stored: u64,
    /// Their bytes.
    pub stored_bytes: u64,
    /// Bytes sent to all peers.
    pub sent_bytes: u64,
    /// Messages sent to all peers.
    pub sent_msgs: u64,
    /// Bytes received from all peers.
    pub recv_bytes: u64,
    /// Messages received from all peers.
    pub recv_msgs: u64,
    /// Per peer (every other rank).
    pub peers: Vec<PeerStats>,
}

/// The statistics of a whole job, as rank 0 writes them.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct JobStats {
    /// The number of ranks.
    pub ranks: u32,
    /// Each rank's, by rank.
    pub per_rank: Vec<RankStats>,
}

/// Collective, after the program: this rank's statistics at a traffic cut, gathered
/// and handed to the [`Reporter`] by rank 0 as `mode` says. `wall` is the program's time
/// on this rank. Without a reporter, rank 0 warns that the statistics cannot be shown.
pub(crate) fn report(node: &Node, wall: Duration, mode: &StatsMode) -> Result<()> {
    let Some(reporter) = REPORTER.get() else {
        if node.rank() == 0 {
            tracing::warn!(
                "{ENV} asks for statistics, but this program installs nothing that shows \
                 them (eau2-console's ConsoleArgs::install does)"
            );
        }
        return Ok(());
    };
    let mine = collect(node, wall)?;
    let Some(all) = node.comm().gather(0, mine)? else {
        return Ok(());
    };
    let job = JobStats {
        ranks: node.size() as u32,
        per_rank: all,
    };
    match mode {
        StatsMode::Off => Ok(()),
        mode => reporter(&job, mode),
    }
}

/// This rank's statistics, its traffic at a cut (collective).
fn collect(node: &Node, wall: Duration) -> Result<RankStats> {
    let wait = node.comm().network_wait();
    // Ranks may finish their programs minutes apart; the barrier waits for the last
    // (as the final barrier would), so the cut's own deadline only covers the marks.
    node.comm().barrier()?;
    let traffic = node.comm().traffic_cut(Duration::from_secs(60))?;
    let peers: Vec<PeerStats> = traffic
        .iter()
        .enumerate()
        .filter(|&(peer, _)| peer != node.rank())
        .map(|(peer, t)| PeerStats {
            peer: peer as u32,
            sent_bytes: t.sent.bytes,
            sent_msgs: t.sent.msgs,
            recv_bytes: t.received.bytes,
            recv_msgs: t.received.msgs,
        })
        .collect();
    let (chunks, stored) = node.comm().kv().local_usage();
    Ok(RankStats {
        rank: node.rank() as u32,
        wall_secs: wall.as_secs_f64(),
        user_secs: wall.saturating_sub(wait).as_secs_f64(),
        network_wait_secs: wait.as_secs_f64(),
        peak_rss_bytes: peak_rss_bytes(),
        chunks_stored: chunks as u64,
        stored_bytes: stored as u64,
        sent_bytes: peers.iter().map(|p| p.sent_bytes).sum(),
        sent_msgs: peers.iter().map(|p| p.sent_msgs).sum(),
        recv_bytes: peers.iter().map(|p| p.recv_bytes).sum(),
        recv_msgs: peers.iter().map(|p| p.recv_msgs).sum(),
        peers,
    })
}

/// The process's peak resident set size: Linux's `VmHWM`, else `getrusage`.
pub fn peak_rss_bytes() -> u64 {
    let hwm = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        });
    if let Some(kib) = hwm {
        return kib * 1024;
    }
    // SAFETY: getrusage only writes the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } == 0 {
        // KiB on Linux and the BSDs.
        usage.ru_maxrss.max(0) as u64 * 1024
    } else {
        0
    }
}
