//! Logging rejected connections (as `tracing` warnings) without letting a flood of them
//! flood the log: the first few of each window are logged in full, the rest are counted
//! and summed up in one line when the window closes. Also how a listener's waiting connections are taken,
//! which logs its failures here.

use std::time::{Duration, Instant};

/// How long one window lasts.
const WINDOW: Duration = Duration::from_secs(10);
/// How many rejections per window get a line of their own.
const LINES_PER_WINDOW: u32 = 5;

/// Rejections seen by one rank.
pub(crate) struct RejectLog {
    rank: usize,
    window_start: Instant,
    logged: u32,
    suppressed: u64,
    latest: String,
}

impl RejectLog {
    /// A log for `rank`'s rejections.
    pub(crate) fn new(rank: usize) -> RejectLog {
        RejectLog {
            rank,
            window_start: Instant::now(),
            logged: 0,
            suppressed: 0,
            latest: String::new(),
        }
    }

    /// Records that the connection from `from` was rejected because `why`.
    pub(crate) fn reject(&mut self, from: &str, why: &str) {
        self.roll();
        if self.logged < LINES_PER_WINDOW {
            self.logged += 1;
            tracing::warn!(rank = self.rank, "rejected connection from {from}: {why}");
        } else {
            self.suppressed += 1;
            self.latest = format!("from {from}: {why}");
        }
    }

    /// Closes the window if it is over, writing the count of rejections not logged.
    /// Called on every rejection and periodically, so the count is not held back long.
    pub(crate) fn roll(&mut self) {
        if self.window_start.elapsed() < WINDOW {
            return;
        }
        self.flush();
        self.window_start = Instant::now();
        self.logged = 0;
    }

    /// Writes the count of rejections not logged yet, if any.
    pub(crate) fn flush(&mut self) {
        if self.suppressed > 0 {
            tracing::warn!(
                rank = self.rank,
                "rejected {} more connection(s) in the last {:.0} s; the latest {}",
                self.suppressed,
                self.window_start.elapsed().as_secs_f64(),
                self.latest
            );
            self.suppressed = 0;
        }
    }
}

impl Drop for RejectLog {
    fn drop(&mut self) {
        self.flush();
    }
}

/// Takes every connection waiting on a listener (`accept` is its non-blocking accept), in
/// arrival order. "Nothing waiting" ends the round quietly, and an interrupted call or a
/// connection reset before it was taken is skipped. Any other failure (out of file
/// descriptors, say) is logged through `rejects` and ends the round with `retry` set:
/// the connections already accepted may still complete the job, and an edge-triggered
/// listener will not report the ones still queued again.
pub(crate) fn accept_waiting<S>(
    mut accept: impl FnMut() -> std::io::Result<(S, std::net::SocketAddr)>,
    rejects: &mut RejectLog,
    retry: &mut bool,
) -> Vec<(S, std::net::SocketAddr)> {
    use std::io::ErrorKind;
    let mut accepted = Vec::new();
    loop {
        match accept() {
            Ok(conn) => accepted.push(conn),
            Err(e) if e.kind() == ErrorKind::WouldBlock => return accepted,
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::Interrupted | ErrorKind::ConnectionAborted
                ) => {}
            Err(e) => {
                rejects.reject("a connection not accepted", &format!("accept failed: {e}"));
                *retry = true;
                return accepted;
            }
        }
    }
}
