//! The status line: rank 0's progress bar, drawn by the launcher as the last line of its
//! terminal, below the ranks' prefixed output.
//!
//! When the launcher's standard error is a terminal it tells the ranks so, with the
//! terminal's width, in `EAU2_STATUS_COLS`. Rank 0 then sends each drawing of its bar
//! as one line on its standard error, `ESC _ eau2-status;TEXT ESC \`, which rank 0's
//! pump takes out of the output and hands to [`set`]. Every write of ranks' lines to the
//! terminal goes through [`around`], which clears the status line, writes the lines and
//! draws the status line again, all under one lock, so a prefixed line is never mixed
//! with the bar. Rank 0 is the only writer of the status; the pumps the only writers of
//! lines.

use std::io::{self, IsTerminal, Write};

use eau2_comm::net::vars::{STATUS_COLS as ENV, STATUS_END, STATUS_START};
use parking::Mutex;

/// What starts a status line ([`STATUS_START`], shared with the ranks).
const START: &[u8] = STATUS_START.as_bytes();
/// What ends it, before the newline.
const END: &[u8] = STATUS_END.as_bytes();

mod parking {
    //! `std`'s mutex, shrugging off poisoning: a panicking pump must not stop the others.
    pub struct Mutex<T>(std::sync::Mutex<T>);

    impl<T> Mutex<T> {
        pub const fn new(value: T) -> Mutex<T> {
            Mutex(std::sync::Mutex::new(value))
        }

        pub fn lock(&self) -> std::sync::MutexGuard<'_, T> {
            self.0.lock().unwrap_or_else(|e| e.into_inner())
        }
    }
}

struct State {
    /// The terminal's width, when status lines are on.
    cols: Option<u16>,
    /// The text shown now (empty: no status line).
    text: Vec<u8>,
    stdout_is_terminal: bool,
}

static STATE: Mutex<State> = Mutex::new(State {
    cols: None,
    text: Vec::new(),
    stdout_is_terminal: false,
});

/// Turns status lines on when standard error is a terminal, and tells the ranks (their
/// environment is inherited from the launcher's); otherwise makes sure they are off.
/// Call before any thread starts.
pub fn setup() {
    if io::stderr().is_terminal() {
        let cols = terminal_cols().unwrap_or(80);
        let mut state = STATE.lock();
        state.cols = Some(cols);
        state.stdout_is_terminal = io::stdout().is_terminal();
        std::env::set_var(ENV, cols.to_string());
    } else {
        std::env::remove_var(ENV);
    }
}

/// Whether status lines are on.
pub fn enabled() -> bool {
    STATE.lock().cols.is_some()
}

/// The width of the terminal on standard error.
fn terminal_cols() -> Option<u16> {
    // SAFETY: TIOCGWINSZ writes a winsize into the struct it is given.
    let mut size: libc::winsize = unsafe { std::mem::zeroed() };
    let ok = unsafe { libc::ioctl(libc::STDERR_FILENO, libc::TIOCGWINSZ, &mut size) } == 0;
    (ok && size.ws_col > 0).then_some(size.ws_col)
}

/// Clears the status line.
const CLEAR: &[u8] = b"\r\x1b[2K";

/// Writes the status text, cut to the terminal's width.
fn draw(err: &mut impl Write, text: &[u8], cols: u16) -> io::Result<()> {
    if text.is_empty() {
        return Ok(());
    }
    let text = String::from_utf8_lossy(text);
    let shown: String = text.chars().take(cols.saturating_sub(1) as usize).collect();
    err.write_all(shown.as_bytes())?;
    err.flush()
}

/// Runs `write` (which writes ranks' lines to stdout, or to stderr if `to_stderr`) with
/// the status line cleared first and drawn again after.
pub fn around<R>(to_stderr: bool, write: impl FnOnce() -> io::Result<R>) -> io::Result<R> {
    let state = STATE.lock();
    let Some(cols) = state.cols else {
        return write();
    };
    let shown = !state.text.is_empty() && (to_stderr || state.stdout_is_terminal);
    if shown {
        io::stderr().lock().write_all(CLEAR)?;
    }
    let result = write();
    if shown {
        draw(&mut io::stderr().lock(), &state.text, cols)?;
    }
    result
}

/// Shows `text` as the status line (empty: removes it).
pub fn set(text: &[u8]) {
    let mut state = STATE.lock();
    let Some(cols) = state.cols else { return };
    if state.text == text {
        return;
    }
    state.text = text.to_vec();
    let mut err = io::stderr().lock();
    // Nothing better to do if the terminal is gone.
    let _ = err
        .write_all(CLEAR)
        .and_then(|()| draw(&mut err, text, cols));
}

/// Removes the status line for good: at the end of the job, or before the launcher's
/// own messages about a job ending badly (status lines that still come are dropped).
pub fn clear() {
    set(b"");
    STATE.lock().cols = None;
}

/// Takes the status lines out of `lines` (finished lines, each ending with a newline):
/// returns the other lines and the text of the last status line, if any.
pub fn take_status(lines: &[u8]) -> (Vec<u8>, Option<Vec<u8>>) {
    let mut rest = Vec::with_capacity(lines.len());
    let mut status = None;
    for line in lines.split_inclusive(|&b| b == b'\n') {
        let body = line.strip_suffix(b"\n").unwrap_or(line);
        match body.strip_prefix(START).and_then(|b| b.strip_suffix(END)) {
            Some(text) => status = Some(text.to_vec()),
            None => rest.extend_from_slice(line),
        }
    }
    (rest, status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines_are_taken_out() {
        let input = b"a\n\x1b_eau2-status;50%\x1b\\\nb\n\x1b_eau2-status;60%\x1b\\\n";
        let (rest, status) = take_status(input);
        assert_eq!(rest, b"a\nb\n");
        assert_eq!(status.as_deref(), Some(&b"60%"[..]));
        let (rest, status) = take_status(b"\x1b_eau2-status;x\n");
        assert_eq!(rest, b"\x1b_eau2-status;x\n");
        assert_eq!(status, None);
    }
}
