//! Ranks as threads: a whole job inside one process, for tests and experiments.
//!
//! [`run_local`] (or [`Local`] with settings) starts one thread per rank. Each thread
//! joins the job exactly as a process would (rendezvous over loopback, its own network
//! thread, its own part of the store), so the program under test runs the same code
//! paths as under `eau2-launch`. Nothing is read from or written to the environment, so
//! several jobs can run at once in one test binary:
//! - rank 0's rendezvous listener is bound to `127.0.0.1:0` before any thread starts, so
//!   there is no fixed port and no window in which another job could take it;
//! - every job draws a fresh random token and job id, so two jobs never join each other.
//!
//! Failure works as across processes. A rank whose program returns an error or panics
//! records its failure (the first one recorded is the job's), then closes its links
//! without a goodbye ([`Comm::vanish`](eau2_comm::Comm::vanish)): its peers see it vanish
//! and every pending or later operation of theirs fails naming it, so they all return
//! promptly instead of waiting for it. [`Local::timeout`] bounds a whole job the same
//! way: when it is over, every rank vanishes and the job fails with a timeout.
//!
//! ```
//! # fn main() -> eau2::Result<()> {
//! // Four ranks in this process; each returns its rank's share of a sum.
//! let sums = eau2::run_local(4, |node| {
//!     let total = node.comm().all_reduce(node.rank() as u64, |a, b| a + b)?;
//!     Ok((node.rank(), total))
//! })?;
//! assert_eq!(sums, vec![(0, 6), (1, 6), (2, 6), (3, 6)]);
//! # Ok(())
//! # }
//! ```

use std::any::Any;
use std::net::TcpListener;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use super::wireup::secret;
use super::Node;
use crate::error::{CommError, Error, Result};
use crate::net::{vars, NetConfig, DEFAULT_MSG_WINDOW, DEFAULT_PEER_TIMEOUT};

/// Runs `program` as `ranks` ranks, each on a thread of this process with its own
/// [`Node`], and returns each rank's result in rank order, or the error of the rank that
/// failed first (wrapped in [`Error::Rank`], which names it). A panic in a rank is
/// caught and reported as that rank's error.
///
/// The default settings are those of [`Local::new`]; use [`Local`] to change them.
pub fn run_local<T, F>(ranks: usize, program: F) -> Result<Vec<T>>
where
    F: Fn(&Node) -> Result<T> + Sync,
    T: Send,
{
    Local::new(ranks).run(program)
}

/// A job of ranks run as threads, with its settings: what the launch environment's
/// variables (`EAU2_PEER_TIMEOUT`, ...) set for a job of processes, given here
/// explicitly, since threads share one environment.
#[derive(Clone, Debug)]
pub struct Local {
    ranks: usize,
    rendezvous_timeout: Duration,
    peer_timeout: Duration,
    msg_window: u64,
    timeout: Option<Duration>,
}

impl Local {
    /// A job of `ranks` ranks with the runtime's defaults: rendezvous within 30 s, a
    /// peer silent for 10 s is lost, a 64 MiB message window per peer.
    pub fn new(ranks: usize) -> Local {
        Local {
            ranks,
            rendezvous_timeout: vars::DEFAULT_RENDEZVOUS_TIMEOUT,
            peer_timeout: DEFAULT_PEER_TIMEOUT,
            msg_window: DEFAULT_MSG_WINDOW,
            timeout: None,
        }
    }

    /// How long the whole job may take (none by default). When it is over, the job
    /// fails with a timeout: every rank's links are closed, so that each rank's waits
    /// inside eau2 fail at once and a test that would hang (say, a rank waiting for a
    /// message that is never sent) fails instead.
    pub fn timeout(mut self, limit: Duration) -> Local {
        self.timeout = Some(limit);
        self
    }

    /// How long the ranks may take to meet (`EAU2_RENDEZVOUS_TIMEOUT` for processes).
    pub fn rendezvous_timeout(mut self, timeout: Duration) -> Local {
        self.rendezvous_timeout = timeout;
        self
    }

    /// How long a rank's network may stay silent before its peers fail naming it
    /// (`EAU2_PEER_TIMEOUT` for processes).
    pub fn peer_timeout(mut self, timeout: Duration) -> Local {
        self.peer_timeout = timeout;
        self
    }

    /// The bytes of unreceived messages a rank holds from each peer before that peer's
    /// sends wait (`EAU2_MSG_WINDOW` for processes); a small window makes flow control
    /// easy to exercise in tests.
    pub fn msg_window(mut self, bytes: u64) -> Local {
        self.msg_window = bytes;
        self
    }

    /// Runs `program` on every rank; see [`run_local`]. Returns once every rank's thread
    /// has ended (its network thread included). Once a rank has failed, every wait of
    /// the others inside eau2 fails at once, naming it; only a rank busy in its own code
    /// keeps this waiting until that code returns, as it would keep a process running.
    pub fn run<T, F>(&self, program: F) -> Result<Vec<T>>
    where
        F: Fn(&Node) -> Result<T> + Sync,
        T: Send,
    {
        if self.ranks == 0 {
            return Err(Error::Config("run_local needs at least one rank".into()));
        }
        self.check()?;
        let configs = self.configs()?;
        let job = Job::new(self.ranks);
        let (done, finished) = mpsc::channel();
        let results: Vec<Option<T>> = thread::scope(|scope| {
            let handles: Vec<_> = configs
                .into_iter()
                .map(|cfg| {
                    let (program, job, done) = (&program, &job, done.clone());
                    thread::Builder::new()
                        .name(format!("eau2-rank-{}", cfg.rank))
                        .spawn_scoped(scope, move || {
                            let result = rank_main(&cfg, program, job);
                            let _ = done.send(());
                            result
                        })
                })
                .collect();
            let started = handles.iter().filter(|h| h.is_ok()).count();
            if let Some(limit) = self.timeout {
                job.watch(&finished, started, limit);
            }
            handles
                .into_iter()
                .enumerate()
                .map(|(rank, handle)| match handle {
                    // A rank thread never unwinds (its program's panics are caught), so
                    // a join error would be a bug in `rank_main`; report it all the same.
                    Ok(handle) => handle.join().unwrap_or_else(|payload| {
                        job.record(rank, Error::App(panic_text(&*payload)));
                        None
                    }),
                    Err(e) => {
                        job.record(rank, Error::io("starting a rank's thread", e));
                        None
                    }
                })
                .collect()
        });
        // A thread that could not start left the others waiting for it at rendezvous;
        // they fail there within the rendezvous timeout, and its error is recorded.
        if let Some(error) = job.first.lock().take() {
            return Err(error);
        }
        results
            .into_iter()
            .enumerate()
            .map(|(rank, result)| {
                result.ok_or_else(|| Error::Rank {
                    rank,
                    source: Box::new(Error::internal("the rank's thread ended without a result")),
                })
            })
            .collect()
    }

    /// One network configuration per rank, sharing rank 0's listener, a fresh token and
    /// a fresh job id.
    /// Refuses what a job of processes would refuse in its variables: timeouts under
    /// [`vars::MIN_TIMEOUT`], and bad values of the variables the ranks' threads still
    /// read from the shared environment (shuffle rounds, progress lines), found now
    /// rather than in the middle of the job.
    fn check(&self) -> Result<()> {
        for (setting, given, why) in [
            ("peer_timeout", self.peer_timeout, vars::TIMEOUT_FLOOR_WHY),
            (
                "rendezvous_timeout",
                self.rendezvous_timeout,
                vars::RENDEZVOUS_FLOOR_WHY,
            ),
        ] {
            if given < vars::MIN_TIMEOUT {
                return Err(Error::Config(format!(
                    "Local::{setting}({given:?}): expected at least {:?}: {why}",
                    vars::MIN_TIMEOUT
                )));
            }
        }
        vars::exchange_round_bytes(&vars::process_env)?;
        vars::progress_every(&vars::process_env)?;
        Ok(())
    }

    fn configs(&self) -> Result<Vec<NetConfig>> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .map_err(|e| Error::io("binding rank 0's listener on 127.0.0.1:0", e))?;
        let master = listener
            .local_addr()
            .map_err(|e| Error::io("reading rank 0's listener address", e))?
            .to_string();
        let listener = Arc::new(listener);
        let token = secret::fresh()?;
        let job_id = format!("local-{}", secret::fresh()?);
        Ok((0..self.ranks)
            .map(|rank| {
                let mut cfg = NetConfig::new(rank, self.ranks, &master, &token);
                cfg.job_id = job_id.clone();
                cfg.rendezvous_timeout = self.rendezvous_timeout;
                cfg.peer_timeout = self.peer_timeout;
                cfg.msg_window = self.msg_window;
                cfg.listener = (rank == 0).then(|| Arc::clone(&listener));
                cfg
            })
            .collect())
    }
}

/// What the ranks of one job share with each other and with the thread that started
/// them.
struct Job {
    /// The job's first failure: set once, by the first rank to fail (or the timeout).
    first: Mutex<Option<Error>>,
    /// Each rank's node while it runs, so that a timeout can close them all.
    nodes: Mutex<Vec<Option<Arc<Node>>>>,
}

impl Job {
    fn new(ranks: usize) -> Job {
        Job {
            first: Mutex::new(None),
            nodes: Mutex::new((0..ranks).map(|_| None).collect()),
        }
    }

    /// Records `error` as rank `rank`'s, unless the job failed before.
    fn record(&self, rank: usize, error: Error) {
        self.first_failure(Error::Rank {
            rank,
            source: Box::new(error),
        });
    }

    fn first_failure(&self, error: Error) {
        let mut first = self.first.lock();
        if first.is_none() {
            *first = Some(error);
        }
    }

    /// Waits until `ranks` ranks have reported on `finished`, or `limit` has passed;
    /// then the job fails with a timeout and every rank's node vanishes, which fails
    /// every wait inside eau2 on every rank.
    fn watch(&self, finished: &mpsc::Receiver<()>, ranks: usize, limit: Duration) {
        let deadline = Instant::now() + limit;
        for _ in 0..ranks {
            let left = deadline.saturating_duration_since(Instant::now());
            if finished.recv_timeout(left).is_err() {
                self.first_failure(Error::Comm(CommError::Timeout(format!(
                    "the job of {ranks} ranks did not finish within {:?}",
                    limit
                ))));
                let running: Vec<Arc<Node>> = self.nodes.lock().iter().flatten().cloned().collect();
                for node in running {
                    node.comm().vanish();
                }
                return;
            }
        }
    }
}

/// One rank's whole life: join, run, leave. Returns the program's value, or `None`
/// after recording the failure. A failure is recorded *before* the rank vanishes, so
/// the errors its vanishing causes in other ranks are never taken for the first.
fn rank_main<T>(
    cfg: &NetConfig,
    program: &(impl Fn(&Node) -> Result<T> + Sync),
    job: &Job,
) -> Option<T> {
    let node = match Node::connect(cfg) {
        Ok(node) => Arc::new(node),
        Err(e) => {
            job.record(cfg.rank, e);
            return None;
        }
    };
    job.nodes.lock()[cfg.rank] = Some(Arc::clone(&node));
    let result = run_rank(cfg.rank, &node, program, job);
    job.nodes.lock()[cfg.rank] = None;
    result
}

/// Runs `program` on a rank that has joined, then leaves: the final barrier and
/// goodbyes, or on failure (recorded first) vanishing.
fn run_rank<T>(
    rank: usize,
    node: &Node,
    program: &(impl Fn(&Node) -> Result<T> + Sync),
    job: &Job,
) -> Option<T> {
    let outcome = catch_unwind(AssertUnwindSafe(|| program(node)))
        .unwrap_or_else(|payload| Err(Error::App(panic_text(&*payload))))
        // The final barrier, as `run` has: nobody leaves while others may need it.
        .and_then(|value| Ok(node.comm().finish().map(|()| value)?));
    let result = match outcome {
        Ok(value) => node.comm().shutdown().map(|()| value),
        Err(e) => {
            job.record(rank, e);
            node.comm().vanish();
            return None;
        }
    };
    result.map_err(|e| job.record(rank, e.into())).ok()
}

/// What a panic said, as an error message.
fn panic_text(payload: &(dyn Any + Send)) -> String {
    let text = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(a value that is not a string)");
    format!("panicked: {text}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_under_a_second_are_refused_naming_the_setting() {
        let err = Local::new(2)
            .peer_timeout(Duration::from_millis(50))
            .run(|_| Ok(()))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("Local::peer_timeout(50ms): expected at least 1s"),
            "{err}"
        );
        assert!(err.contains("heartbeats"), "{err}");
        let err = Local::new(2)
            .rendezvous_timeout(Duration::from_millis(999))
            .run(|_| Ok(()))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("Local::rendezvous_timeout(999ms)"), "{err}");
        let ok = Local::new(2)
            .peer_timeout(Duration::from_secs(1))
            .run(|node| Ok(node.rank()));
        assert_eq!(ok.unwrap(), vec![0, 1]);
    }
}
