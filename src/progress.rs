//! Progress of long work, shown by rank 0 for the whole job: bytes parsed by every rank
//! during a collective load, rows done in each stage of a multi-stage job.
//!
//! Every rank creates the same [`Progress`] at the same point (it draws a gauge, see
//! [`eau2_comm::gauge`]) and counts its own work with [`Progress::add`], one relaxed
//! atomic add. A reporter thread per rank publishes that count to rank 0 four times a
//! second when it changed (16 bytes, outside flow control); rank 0's reporter sums the
//! latest counts and draws. So a load's hot loop pays an atomic add per block, and the
//! network a message per rank per 250 ms.
//!
//! How rank 0 shows it ([`Display`], chosen once per process by [`set_display`], which
//! apps call through [`crate::console`]; the default is [`Display::Off`]):
//! - [`Display::Bar`]: an `indicatif` bar on standard error, which is a terminal;
//! - [`Display::Launcher`]: under `eau2-launch` whose standard error is a terminal
//!   (it says so in `EAU2_STATUS_COLS`, the terminal's width): the same bar, drawn by
//!   the launcher as its terminal's last line. Rank 0 sends each drawing as one
//!   status line on its standard error (`ESC _ eau2-status;TEXT ESC \`), which the
//!   launcher takes out of the output and draws below the ranks' prefixed lines,
//!   clearing it while it writes them, so no line is garbled;
//! - [`Display::Lines`]: a plain line every 5 s (`EAU2_PROGRESS_SECS`) when standard
//!   error is not a terminal, and a last one when work that lasted that long ends;
//! - [`Display::Off`]: nothing (`--quiet`), and no reporter threads.
//!
//! ```
//! eau2::run(|node| {
//!     let parse = eau2::progress::Progress::bytes(node, "parse", 1 << 20);
//!     parse.add(1 << 20); // each rank counts its own bytes
//!     parse.finish();
//!     Ok(())
//! });
//! ```

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle, TermLike};
use parking_lot::{Condvar, Mutex};

use crate::Node;
use eau2_comm::gauge::Gauge;
use eau2_comm::net::vars;

/// The variable in which eau2-launch tells its ranks that its standard error is a
/// terminal, and its width: rank 0 then sends status lines for the launcher to draw.
pub const STATUS_ENV: &str = "EAU2_STATUS_COLS";

/// What starts a status line on rank 0's standard error (an APC string, which a
/// terminal that meets one by mistake ignores).
pub const STATUS_START: &str = "\x1b_eau2-status;";

/// What ends a status line, before its newline.
pub const STATUS_END: &str = "\x1b\\";

/// How often non-zero ranks publish their counts.
const PUBLISH_EVERY: Duration = Duration::from_millis(250);

/// The variable that sets how often [`Display::Lines`] prints, in seconds.
pub const LINES_ENV: &str = "EAU2_PROGRESS_SECS";

/// How often [`Display::Lines`] prints: `EAU2_PROGRESS_SECS`, else every 5 s. A bad
/// value stops [`crate::run`] at start; a program that set one later (or runs threads
/// with [`crate::run_local`]) gets an error logged and the default.
fn line_every() -> Duration {
    vars::progress_every(&vars::process_env).unwrap_or_else(|e| {
        tracing::error!("{e}; printing every {:?}", vars::DEFAULT_PROGRESS_EVERY);
        vars::DEFAULT_PROGRESS_EVERY
    })
}

/// How rank 0 shows progress; see the module's notes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Display {
    /// Nothing.
    Off,
    /// Plain lines on standard error every 5 s.
    Lines,
    /// A bar on standard error, a terminal.
    Bar,
    /// A bar drawn by eau2-launch, this many columns wide.
    Launcher(u16),
}

impl Display {
    /// The display for this process: off when `quiet`, else a bar through the launcher
    /// when [`STATUS_ENV`] says so, a bar when standard error is a terminal, lines
    /// otherwise.
    pub fn detect(quiet: bool) -> Display {
        if quiet {
            return Display::Off;
        }
        match vars::status_cols(&vars::process_env) {
            Ok(Some(cols)) => return Display::Launcher(cols.max(20)),
            Ok(None) => {}
            // eau2-launch sets it; a bad one means it was set by hand.
            Err(e) => tracing::error!("{e}; drawing no launcher status line"),
        }
        if std::io::stderr().is_terminal() {
            Display::Bar
        } else {
            Display::Lines
        }
    }
}

static DISPLAY: OnceLock<Display> = OnceLock::new();

/// The bar being drawn in this process, if any, for [`suspend`].
static ACTIVE: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// Sets how this process shows progress (once; later calls are ignored).
pub fn set_display(display: Display) {
    let _ = DISPLAY.set(display);
}

/// How this process shows progress.
pub fn display() -> Display {
    DISPLAY.get().copied().unwrap_or(Display::Off)
}

/// Runs `f` (which writes to the terminal) with the in-process bar cleared, then draws
/// it again, so that the written lines stay whole.
pub fn suspend<R>(f: impl FnOnce() -> R) -> R {
    let bar = ACTIVE.lock().clone();
    match bar {
        Some(bar) => bar.suspend(f),
        None => f(),
    }
}

/// What a [`Progress`] counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Unit {
    Bytes,
    Rows,
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
        // Drawn on every rank whatever the display, so the gauges of all ranks match.
        let gauge = node.new_gauge();
        let counter = Arc::new(AtomicU64::new(0));
        let display = display();
        let reporter = (display != Display::Off)
            .then(|| {
                let stop = Arc::new((Mutex::new(false), Condvar::new()));
                let job = ReportJob {
                    rank: node.rank(),
                    gauge,
                    counter: Arc::clone(&counter),
                    stop: Arc::clone(&stop),
                    label: label.to_string(),
                    unit,
                    total,
                    display,
                };
                std::thread::Builder::new()
                    .name("eau2-progress".into())
                    .spawn(move || job.run())
                    .map(|thread| Reporter { stop, thread })
                    .map_err(|e| tracing::warn!("no progress display: {e}"))
                    .ok()
            })
            .flatten();
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
    rank: usize,
    gauge: Gauge,
    counter: Arc<AtomicU64>,
    stop: Arc<(Mutex<bool>, Condvar)>,
    label: String,
    unit: Unit,
    total: Option<u64>,
    display: Display,
}

impl ReportJob {
    fn run(self) {
        if self.rank == 0 {
            self.show();
        } else {
            self.publish();
        }
    }

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

    /// Rank 0: draws until stopped.
    fn show(self) {
        match self.display {
            Display::Off => {}
            Display::Lines => self.show_lines(),
            Display::Bar => self.show_bar(ProgressDrawTarget::stderr_with_hz(10)),
            Display::Launcher(cols) => self.show_bar(ProgressDrawTarget::term_like_with_hz(
                Box::new(StatusLine::new(cols)),
                5,
            )),
        }
    }

    fn show_bar(self, target: ProgressDrawTarget) {
        let bar = ProgressBar::with_draw_target(self.total, target);
        let template = match (self.unit, self.total.is_some()) {
            (Unit::Bytes, true) => {
                "{msg} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}"
            }
            (Unit::Bytes, false) => "{msg} {bytes} {binary_bytes_per_sec}",
            (Unit::Rows, true) => "{msg} [{bar:30}] {human_pos}/{human_len} rows {per_sec}",
            (Unit::Rows, false) => "{msg} {human_pos} rows {per_sec}",
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(self.label.clone());
        *ACTIVE.lock() = Some(bar.clone());
        loop {
            let go_on = self.wait(Duration::from_millis(100));
            bar.set_position(self.position());
            if !go_on {
                break;
            }
        }
        *ACTIVE.lock() = None;
        bar.finish_and_clear();
    }

    fn show_lines(self) {
        let started = Instant::now();
        let every = line_every();
        loop {
            let go_on = self.wait(every);
            // Work shorter than one period says nothing; longer work ends with a line.
            if started.elapsed() >= every {
                let pos = self.position();
                let secs = started.elapsed().as_secs_f64();
                let line = line(&self.label, self.unit, pos, self.total, secs);
                // Standard error gone: nothing to show progress on.
                let _ = writeln!(std::io::stderr().lock(), "{line}");
            }
            if !go_on {
                return;
            }
        }
    }
}

/// A plain progress line: `eau2: LABEL: 1.2 GiB of 3.4 GiB (35%), 410.0 MiB/s`.
fn line(label: &str, unit: Unit, pos: u64, total: Option<u64>, secs: f64) -> String {
    let amount = |n: u64| match unit {
        Unit::Bytes => indicatif::BinaryBytes(n).to_string(),
        Unit::Rows => format!("{} rows", indicatif::HumanCount(n)),
    };
    let rate = (pos as f64 / secs.max(1e-9)) as u64;
    let rate = match unit {
        Unit::Bytes => format!("{}/s", indicatif::BinaryBytes(rate)),
        Unit::Rows => format!("{} rows/s", indicatif::HumanCount(rate)),
    };
    match total {
        Some(t) if t > 0 => format!(
            "eau2: {label}: {} of {} ({:.0}%), {rate}",
            amount(pos),
            amount(t),
            pos as f64 * 100.0 / t as f64
        ),
        _ => format!("eau2: {label}: {}, {rate}", amount(pos)),
    }
}

/// indicatif's terminal, as eau2-launch draws it: each drawing of the bar goes out as
/// one status line on standard error (see the module's notes).
#[derive(Debug)]
struct StatusLine {
    cols: u16,
    text: Mutex<(String, String)>,
}

impl StatusLine {
    fn new(cols: u16) -> StatusLine {
        StatusLine {
            cols,
            text: Mutex::new((String::new(), String::new())),
        }
    }
}

impl TermLike for StatusLine {
    fn width(&self) -> u16 {
        self.cols
    }

    fn height(&self) -> u16 {
        1
    }

    fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }

    fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }

    fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }

    fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }

    fn write_line(&self, s: &str) -> std::io::Result<()> {
        // One bar is one line; a line break starts the text over.
        self.text.lock().0 = s.to_string();
        Ok(())
    }

    fn write_str(&self, s: &str) -> std::io::Result<()> {
        let mut text = self.text.lock();
        match s.rsplit_once('\r') {
            Some((_, after)) => text.0 = after.to_string(),
            None => text.0.push_str(s),
        }
        Ok(())
    }

    fn clear_line(&self) -> std::io::Result<()> {
        self.text.lock().0.clear();
        Ok(())
    }

    fn flush(&self) -> std::io::Result<()> {
        let mut text = self.text.lock();
        let (current, sent) = &mut *text;
        if current != sent {
            sent.clone_from(current);
            let clean: String = current.chars().filter(|c| !c.is_control()).collect();
            writeln!(
                std::io::stderr().lock(),
                "{STATUS_START}{clean}{STATUS_END}"
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_lines_say_amount_share_and_rate() {
        let l = line("load", Unit::Bytes, 1 << 20, Some(4 << 20), 2.0);
        assert_eq!(l, "eau2: load: 1.00 MiB of 4.00 MiB (25%), 512.00 KiB/s");
        let l = line("stage 2/4", Unit::Rows, 1500, None, 1.0);
        assert_eq!(l, "eau2: stage 2/4: 1,500 rows, 1,500 rows/s");
    }

    #[test]
    fn the_status_line_keeps_the_last_drawing() {
        let s = StatusLine::new(80);
        s.clear_line().unwrap();
        s.write_str("old").unwrap();
        s.write_str("\rnew").unwrap();
        assert_eq!(s.text.lock().0, "new");
    }
}
