//! Progress of long work, counted on every rank and shown by rank 0 for the whole job:
//! bytes parsed by every rank during a collective load, rows done in each stage of a
//! multi-stage job.
//!
//! Every rank creates the same [`Progress`] at the same point (it draws a gauge, see
//! [`eau2_comm::gauge`]) and counts its own work with [`Progress::add`], one relaxed
//! atomic add. A reporter thread per rank publishes that count to rank 0 four times a
//! second when it changed (16 bytes, outside flow control); rank 0's reporter sums the
//! latest counts and hands them to the process's [`Screen`].
//!
//! The library only counts: what rank 0 draws (a bar, plain lines) is the [`Screen`] a
//! front end installed with [`set_screen`] (the `eau2-console` crate's, through its
//! `ConsoleArgs`). Without one, nothing is shown and no reporter threads run.
//!
//! ```
//! eau2::run(|node| {
//!     let parse = eau2::progress::Progress::bytes(node, "parse", 1 << 20);
//!     parse.add(1 << 20); // each rank counts its own bytes
//!     parse.finish();
//!     Ok(())
//! });
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use crate::Node;
use eau2_comm::gauge::Gauge;

/// How often non-zero ranks publish their counts.
const PUBLISH_EVERY: Duration = Duration::from_millis(250);

/// What a [`Progress`] counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// Bytes (of input parsed, say).
    Bytes,
    /// Rows (or other items) done.
    Rows,
}

/// A piece of work as rank 0 shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Work {
    /// What the work is called (`load`, `stage 2/4`).
    pub label: String,
    /// What it counts.
    pub unit: Unit,
    /// The job's total, when known.
    pub total: Option<u64>,
}

/// How a process shows progress on rank 0, installed once by a front end with
/// [`set_screen`].
pub trait Screen: Send + Sync {
    /// How often rank 0 calls [`View::update`] for each piece of work.
    fn period(&self) -> Duration;
    /// Starts showing `work`.
    fn view(&self, work: &Work) -> Box<dyn View>;
}

/// One piece of work being shown on rank 0, told the job's count every
/// [`Screen::period`] and once more when the work ends.
pub trait View: Send {
    /// The job's count `position`, `elapsed` after the work started.
    fn update(&mut self, position: u64, elapsed: Duration);
    /// The work ended with the job's count at `position`, `elapsed` after it started.
    fn finish(self: Box<Self>, position: u64, elapsed: Duration);
}

static SCREEN: OnceLock<Box<dyn Screen>> = OnceLock::new();

/// Installs how this process shows progress (once; later calls are ignored). Every rank
/// installs one (non-zero ranks only publish their counts), or none does.
pub fn set_screen(screen: Box<dyn Screen>) {
    let _ = SCREEN.set(screen);
}

/// A piece of work whose job-wide progress rank 0 shows. Create it on every rank at
/// the same point; count with [`Progress::add`]; end with [`Progress::finish`] (or drop).
pub struct Progress {
    counter: Arc<AtomicU64>,
    reporter: Option<Reporter>,
}

struct Reporter {
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: JoinHandle<()>,
}

impl Progress {
    /// Progress in bytes, `total` for the whole job (all ranks together).
    pub fn bytes(node: &Node, label: &str, total: u64) -> Progress {
        Progress::start(node, label, Unit::Bytes, Some(total))
    }

    /// Progress in rows, with the job's `total` when known.
    pub fn rows(node: &Node, label: &str, total: Option<u64>) -> Progress {
        Progress::start(node, label, Unit::Rows, total)
    }

    fn start(node: &Node, label: &str, unit: Unit, total: Option<u64>) -> Progress {
        // Drawn on every rank whatever the screen, so the gauges of all ranks match.
        let gauge = node.comm().new_gauge();
        let counter = Arc::new(AtomicU64::new(0));
        let reporter = SCREEN.get().and_then(|screen| {
            let stop = Arc::new((Mutex::new(false), Condvar::new()));
            let work = Work {
                label: label.to_string(),
                unit,
                total,
            };
            let job = ReportJob {
                gauge,
                counter: Arc::clone(&counter),
                stop: Arc::clone(&stop),
            };
            // Rank 0's view starts here, so that it exists before any count.
            let view = (node.rank() == 0).then(|| screen.view(&work));
            let period = screen.period();
            std::thread::Builder::new()
                .name("eau2-progress".into())
                .spawn(move || match view {
                    Some(view) => job.show(view, period),
                    None => job.publish(),
                })
                .map(|thread| Reporter { stop, thread })
                .map_err(|e| tracing::warn!("no progress display: {e}"))
                .ok()
        });
        Progress { counter, reporter }
    }

    /// Counts `n` more units done by this rank.
    #[inline]
    pub fn add(&self, n: u64) {
        self.counter.fetch_add(n, Ordering::Relaxed);
    }

    /// The counter [`Progress::add`] adds to, for code that only takes an atomic (the
    /// SoR reader, say).
    pub fn counter(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.counter)
    }

    /// Ends the display of this work (rank 0 clears its bar).
    pub fn finish(self) {}
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(r) = self.reporter.take() {
            *r.stop.0.lock() = true;
            r.stop.1.notify_all();
            // A reporter that panicked has nothing left to clean up.
            let _ = r.thread.join();
        }
    }
}

/// What a reporter thread needs.
struct ReportJob {
    gauge: Gauge,
    counter: Arc<AtomicU64>,
    stop: Arc<(Mutex<bool>, Condvar)>,
}

impl ReportJob {
    /// Waits `d`, or until stopped; says whether to go on.
    fn wait(&self, d: Duration) -> bool {
        let mut stopped = self.stop.0.lock();
        if !*stopped {
            self.stop.1.wait_for(&mut stopped, d);
        }
        !*stopped
    }

    /// A non-zero rank: publishes its count when it changed.
    fn publish(self) {
        let mut last = 0;
        loop {
            let go_on = self.wait(PUBLISH_EVERY);
            let now = self.counter.load(Ordering::Relaxed);
            if now != last {
                last = now;
                // A lost rank 0 fails the job elsewhere; progress just stops.
                if self.gauge.publish(now).is_err() {
                    return;
                }
            }
            if !go_on {
                return;
            }
        }
    }

    /// The job's count: rank 0's own, plus every other rank's latest.
    fn position(&self) -> u64 {
        self.counter.load(Ordering::Relaxed) + self.gauge.total()
    }

    /// Rank 0: updates `view` every `period` until stopped.
    fn show(self, mut view: Box<dyn View>, period: Duration) {
        let started = Instant::now();
        while self.wait(period) {
            view.update(self.position(), started.elapsed());
        }
        view.finish(self.position(), started.elapsed());
    }
}
