//! Writing a file as an ordered sequence of independently generated blocks.
//!
//! The generators describe a file as `blocks` numbered pieces and a function that makes
//! piece `i` (a [`Block`]) from nothing but its number. [`write_blocks`] makes a window of
//! pieces in parallel on rayon's pool while the previous window is being written, and
//! writes them in number order. Since a piece never depends on the thread that made it or
//! on the pieces before it, the file's bytes depend only on the generator's inputs.
//! [`Progress`] reports how far the whole run (possibly several files) has got.

use std::fs::{self, File};
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use eau2::{Error, Result};
use rayon::prelude::*;

/// One generated piece of a file.
#[derive(Debug, Default)]
pub struct Block {
    /// The bytes, written as they are.
    pub bytes: Vec<u8>,
    /// How much work the piece stands for (rows, or bytes for text), for [`Progress`].
    pub units: u64,
}

/// Writes `blocks` pieces, made by `make(0)`, `make(1)`, ..., to `path` in that order, and
/// returns the number of bytes written.
///
/// The file appears under its name only when complete: it is written as
/// `<path>.partial` and renamed at the end, so an interrupted run never leaves a
/// plausible-looking short file behind.
pub fn write_blocks<F>(path: &Path, blocks: u64, make: F, progress: &mut Progress) -> Result<u64>
where
    F: Fn(u64) -> Block + Sync,
{
    let partial = partial_path(path);
    let result = write_to(&partial, blocks, &make, progress);
    match result {
        Ok(bytes) => {
            fs::rename(&partial, path).map_err(|e| Error::io_path("renaming", &partial, e))?;
            Ok(bytes)
        }
        Err(e) => {
            // Best effort: the error being reported matters more than a failed cleanup.
            let _ = fs::remove_file(&partial);
            Err(e)
        }
    }
}

fn partial_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    path.with_file_name(name)
}

fn write_to<F>(path: &Path, blocks: u64, make: &F, progress: &mut Progress) -> Result<u64>
where
    F: Fn(u64) -> Block + Sync,
{
    let mut file = File::create(path).map_err(|e| Error::io_path("creating", path, e))?;
    // Enough pieces in flight to keep every core busy, few enough that the window's memory
    // (a few MB per piece) stays small.
    let window = (rayon::current_num_threads() as u64 * 4).max(4);
    let mut written = 0u64;
    let mut ready: Vec<Block> = Vec::new();
    let mut next = 0u64;
    while next < blocks || !ready.is_empty() {
        let end = (next + window).min(blocks);
        // Write the previous window on this thread while the pool makes the next one.
        let (wrote, made) = rayon::join(
            || -> io::Result<u64> {
                let mut n = 0;
                for block in &ready {
                    file.write_all(&block.bytes)?;
                    n += block.bytes.len() as u64;
                }
                Ok(n)
            },
            || {
                (next..end)
                    .into_par_iter()
                    .map(make)
                    .collect::<Vec<Block>>()
            },
        );
        written += wrote.map_err(|e| Error::io_path("writing", path, e))?;
        for block in &ready {
            progress.advance(block.units, block.bytes.len() as u64);
        }
        ready = made;
        next = end;
    }
    file.flush()
        .map_err(|e| Error::io_path("writing", path, e))?;
    Ok(written)
}

/// A one-line progress display on standard error: percent done and MB written, redrawn in
/// place at most ten times a second. Silent unless standard error is a terminal, so logs
/// and test output stay clean.
#[derive(Debug)]
pub struct Progress {
    enabled: bool,
    total_units: u64,
    done_units: u64,
    bytes: u64,
    last_draw: Option<Instant>,
}

impl Progress {
    /// A display for a run of `total_units` units, shown only if standard error is a
    /// terminal.
    pub fn new(total_units: u64) -> Progress {
        Progress::with_display(total_units, io::stderr().is_terminal())
    }

    /// A display that is shown or not as `enabled` says.
    pub fn with_display(total_units: u64, enabled: bool) -> Progress {
        Progress {
            enabled,
            total_units,
            done_units: 0,
            bytes: 0,
            last_draw: None,
        }
    }

    /// A display that never draws.
    pub fn hidden() -> Progress {
        Progress::with_display(0, false)
    }

    /// Records `units` more units done and `bytes` more bytes written.
    pub fn advance(&mut self, units: u64, bytes: u64) {
        self.done_units += units;
        self.bytes += bytes;
        let due = match self.last_draw {
            None => true,
            Some(t) => t.elapsed() >= Duration::from_millis(100),
        };
        if self.enabled && due {
            self.draw();
        }
    }

    /// Total bytes recorded so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Draws the final state and ends the line, if the display is shown.
    pub fn finish(&mut self) {
        if self.enabled {
            self.draw();
            eprintln!();
        }
    }

    fn draw(&mut self) {
        let pct = if self.total_units == 0 {
            100.0
        } else {
            100.0 * self.done_units as f64 / self.total_units as f64
        };
        // `\r` and "erase to end of line" redraw in place; a failed write to a terminal is
        // not worth stopping the generator for.
        let _ = write!(
            io::stderr().lock(),
            "\r\x1b[K{pct:5.1}%  {:.1} MB written",
            self.bytes as f64 / 1e6
        );
        self.last_draw = Some(Instant::now());
    }
}
