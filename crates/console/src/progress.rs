//! How rank 0 shows the job's progress ([`eau2::progress`] counts it on every rank):
//! an [`eau2::progress::Screen`] chosen by [`Display`], installed with [`set_display`]
//! (which [`crate::ConsoleArgs::install`] calls; without it nothing is shown):
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

use std::io::{IsTerminal, Write};
use std::sync::OnceLock;
use std::time::Duration;

use eau2::net::vars;
use eau2::progress::{Screen, Unit, View, Work};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle, TermLike};
use parking_lot::Mutex;

/// The variable in which eau2-launch tells its ranks that its standard error is a
/// terminal, and its width: rank 0 then sends status lines for the launcher to draw.
pub use vars::STATUS_COLS as STATUS_ENV;

/// What starts and ends a status line on rank 0's standard error (the launch contract,
/// shared with eau2-launch).
pub use vars::{STATUS_END, STATUS_START};

/// The variable that sets how often [`Display::Lines`] prints, in seconds.
pub const LINES_ENV: &str = "EAU2_PROGRESS_SECS";

/// How often [`Display::Lines`] prints: `EAU2_PROGRESS_SECS`, else every 5 s. A bad
/// value stops [`eau2::run`] at start; a program that set one later (or runs threads
/// with [`eau2::run_local`]) gets an error logged and the default.
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

/// Sets how this process shows progress (once; later calls are ignored): installs the
/// matching [`Screen`] in the library, none for [`Display::Off`].
pub fn set_display(display: Display) {
    if DISPLAY.set(display).is_ok() && display != Display::Off {
        eau2::progress::set_screen(Box::new(Console(display)));
    }
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

/// The library's [`Screen`] for a display other than [`Display::Off`].
struct Console(Display);

impl Screen for Console {
    fn period(&self) -> Duration {
        match self.0 {
            Display::Lines => line_every(),
            Display::Off | Display::Bar | Display::Launcher(_) => Duration::from_millis(100),
        }
    }

    fn view(&self, work: &Work) -> Box<dyn View> {
        match self.0 {
            Display::Off | Display::Lines => Box::new(Lines {
                work: work.clone(),
                every: self.period(),
            }),
            Display::Bar => bar(work, ProgressDrawTarget::stderr_with_hz(10)),
            Display::Launcher(cols) => bar(
                work,
                ProgressDrawTarget::term_like_with_hz(Box::new(StatusLine::new(cols)), 5),
            ),
        }
    }
}

/// A bar for `work` drawn on `target`, made the process's [`ACTIVE`] one.
fn bar(work: &Work, target: ProgressDrawTarget) -> Box<dyn View> {
    let bar = ProgressBar::with_draw_target(work.total, target);
    let template = match (work.unit, work.total.is_some()) {
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
    bar.set_message(work.label.clone());
    *ACTIVE.lock() = Some(bar.clone());
    Box::new(Bar(bar))
}

/// A bar being drawn.
struct Bar(ProgressBar);

impl View for Bar {
    fn update(&mut self, position: u64, _: Duration) {
        self.0.set_position(position);
    }

    fn finish(self: Box<Self>, position: u64, _: Duration) {
        self.0.set_position(position);
        *ACTIVE.lock() = None;
        self.0.finish_and_clear();
    }
}

/// Plain lines, one per period.
struct Lines {
    work: Work,
    every: Duration,
}

impl Lines {
    fn say(&self, position: u64, elapsed: Duration) {
        // Work shorter than one period says nothing; longer work ends with a line.
        if elapsed >= self.every {
            let w = &self.work;
            let line = line(&w.label, w.unit, position, w.total, elapsed.as_secs_f64());
            // Standard error gone: nothing to show progress on.
            let _ = writeln!(std::io::stderr().lock(), "{line}");
        }
    }
}

impl View for Lines {
    fn update(&mut self, position: u64, elapsed: Duration) {
        self.say(position, elapsed);
    }

    fn finish(self: Box<Self>, position: u64, elapsed: Duration) {
        self.say(position, elapsed);
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
