//! Copying the ranks' output to the launcher's, one whole line at a time.
//!
//! Each rank's stdout and stderr is a pipe drained by its own [`Pump`] thread. A pump reads
//! whatever bytes arrive, holds back an unfinished last line, and writes the finished lines
//! (each prefixed with `[RANK] ` unless prefixes are off) in a single write while holding the
//! lock of the launcher's stdout or stderr. Lines from different ranks therefore interleave
//! only at line boundaries, however the ranks split their writes. The bytes are never
//! decoded, so output that is not UTF-8 passes through untouched.
//!
//! Under `--tolerate`, stdout pumps write to the attempt's [`Spool`] instead, a file that
//! the launcher copies out only once it knows the attempt is the job's last.
//!
//! A pump ends at end of file, i.e. once every process holding the pipe's write end (the
//! rank, and anything it started that inherited the pipe) is gone. [`drain`] waits for that,
//! but gives up on a pipe that stays open and silent after all ranks have ended.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::statusline;

/// Bytes read from a pipe at a time.
const READ_CHUNK: usize = 64 * 1024;

/// Pumps need little stack, and a job may have many of them.
const PUMP_STACK: usize = 64 * 1024;

/// How long [`drain`] waits for a pipe that is open but silent before abandoning it.
const IDLE_GIVE_UP: Duration = Duration::from_secs(1);

/// How often [`drain`] looks at the pumps.
const DRAIN_POLL: Duration = Duration::from_millis(20);

/// Pump states, kept in an `AtomicU8` so [`drain`] can tell a pump waiting for input (which
/// may never come) from one writing to a slow reader of our output (which must be let finish).
const READING: u8 = 0;
const WRITING: u8 = 1;
const DONE: u8 = 2;

/// Bytes read by all pumps together; [`drain`] watches it to tell silence from progress.
static BYTES_READ: AtomicU64 = AtomicU64::new(0);

/// Set once a write to the launcher's stdout or stderr has failed, so it is reported once.
static WRITE_FAILED: AtomicBool = AtomicBool::new(false);

/// Where a pump writes.
#[derive(Clone, Debug)]
pub enum Dest {
    /// The launcher's stdout.
    Stdout,
    /// The launcher's stderr.
    Stderr,
    /// A spool holding the attempt's stdout until the launcher knows whether it counts.
    Spool(Arc<Spool>),
}

impl Dest {
    /// Writes `bytes` in one go while holding the stream's lock (and around the status
    /// line, when there is one).
    fn write_locked(&self, bytes: &[u8]) -> io::Result<()> {
        statusline::around(matches!(self, Dest::Stderr), || match self {
            Dest::Stdout => {
                let mut out = io::stdout().lock();
                out.write_all(bytes)?;
                out.flush()
            }
            Dest::Stderr => {
                let mut err = io::stderr().lock();
                err.write_all(bytes)?;
                err.flush()
            }
            Dest::Spool(spool) => {
                spool.append(bytes);
                Ok(())
            }
        })
    }
}

/// The ranks' stdout of one attempt of a job run with `--tolerate`, held in an unnamed
/// temporary file (so memory stays bounded however much they print) until the attempt
/// ends. The launcher then copies it to its own stdout ([`Spool::release`]) if the
/// attempt is the job's last, or drops it if the job is started again: every line of
/// the job's stdout comes out exactly once, from the attempt that counts. Lines of
/// different ranks keep the order in which the launcher received them, as without a
/// spool.
#[derive(Debug)]
pub struct Spool {
    /// The file (already unlinked) and the first write error, if any.
    inner: Mutex<SpoolFile>,
}

#[derive(Debug)]
struct SpoolFile {
    file: File,
    /// A failed write loses output; it is reported at release rather than stopping the
    /// pump, which would make the rank fail on a closed pipe.
    error: Option<io::Error>,
}

impl Spool {
    /// A new empty spool in `dir` (the temporary folder), removed from the folder at once
    /// so that nothing is left behind however the launcher ends.
    pub fn new(dir: &Path) -> io::Result<Spool> {
        let mut last = None;
        for attempt in 0..8u32 {
            let path = dir.join(format!(
                ".eau2-launch-stdout-{}-{attempt}-{}",
                std::process::id(),
                SPOOLS.fetch_add(1, Ordering::Relaxed)
            ));
            match OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
            {
                Ok(file) => {
                    // Unlinked, the file lives on through the open handle only.
                    fs::remove_file(&path)?;
                    return Ok(Spool {
                        inner: Mutex::new(SpoolFile { file, error: None }),
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::other("no spool name was free")))
    }

    /// Appends framed lines; remembers the first failure.
    fn append(&self, bytes: &[u8]) {
        let mut spool = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if spool.error.is_none() {
            if let Err(e) = spool.file.write_all(bytes) {
                spool.error = Some(e);
            }
        }
    }

    /// Copies everything spooled to the launcher's stdout. Call once the ranks' pumps
    /// are drained. Fails when spooling lost output or stdout cannot be written.
    pub fn release(&self) -> io::Result<()> {
        let mut spool = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(e) = spool.error.take() {
            return Err(io::Error::new(
                e.kind(),
                format!("the ranks' standard output could not be held back: {e}"),
            ));
        }
        spool.file.seek(SeekFrom::Start(0))?;
        let mut out = io::stdout().lock();
        io::copy(&mut spool.file, &mut out)?;
        out.flush()
    }
}

/// Spools made so far, for unique names.
static SPOOLS: AtomicU64 = AtomicU64::new(0);

/// The thread copying one of a rank's streams.
pub struct Pump {
    /// The rank whose stream this is, for messages.
    rank: u32,
    handle: JoinHandle<()>,
    state: Arc<AtomicU8>,
}

impl Pump {
    /// Starts a thread copying `source` to `dest`, prefixing lines with `[rank] ` if `prefix`.
    pub fn start<R>(rank: u32, source: R, dest: Dest, prefix: bool) -> io::Result<Pump>
    where
        R: Read + Send + 'static,
    {
        let state = Arc::new(AtomicU8::new(READING));
        let prefix = if prefix {
            format!("[{rank}] ").into_bytes()
        } else {
            Vec::new()
        };
        let name = match dest {
            Dest::Stdout | Dest::Spool(_) => format!("rank{rank}-stdout"),
            Dest::Stderr => format!("rank{rank}-stderr"),
        };
        let handle = thread::Builder::new()
            .name(name)
            .stack_size(PUMP_STACK)
            .spawn({
                let state = Arc::clone(&state);
                // Rank 0's standard error carries its progress bar's status lines.
                let status = rank == 0 && matches!(dest, Dest::Stderr) && statusline::enabled();
                move || {
                    copy_lines(source, &dest, &prefix, &state, status);
                    state.store(DONE, Ordering::SeqCst);
                }
            })?;
        Ok(Pump {
            rank,
            handle,
            state,
        })
    }

    /// Whether the pump has reached end of file and written everything it read.
    pub fn is_done(&self) -> bool {
        self.state.load(Ordering::SeqCst) == DONE
    }
}

/// The pump's body: read, frame finished lines, write them, until end of file. With
/// `status`, status lines are taken out and drawn as the status line instead.
fn copy_lines<R: Read>(mut source: R, dest: &Dest, prefix: &[u8], state: &AtomicU8, status: bool) {
    let mut chunk = vec![0u8; READ_CHUNK];
    // Bytes of a line whose newline has not arrived yet.
    let mut pending = Vec::new();
    let mut framed = Vec::new();
    loop {
        let n = match source.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            // A read error on a pipe means it is unusable; treat it as the end.
            Err(_) => break,
        };
        BYTES_READ.fetch_add(n as u64, Ordering::Relaxed);
        let new = &chunk[..n];
        // If the new bytes hold no newline, no line was finished: keep accumulating.
        let Some(last_newline) = new.iter().rposition(|&b| b == b'\n') else {
            pending.extend_from_slice(new);
            continue;
        };
        pending.extend_from_slice(&new[..=last_newline]);
        if status {
            let (rest, text) = statusline::take_status(&pending);
            if let Some(text) = text {
                statusline::set(&text);
            }
            pending = rest;
        }
        framed.clear();
        if !pending.is_empty() {
            frame_lines(prefix, &pending, &mut framed);
        }
        pending.clear();
        pending.extend_from_slice(&new[last_newline + 1..]);
        if !framed.is_empty() && !write(dest, &framed, state) {
            // Our own output is gone (say, `| head` exited). Returning drops `source`, so
            // the rank meets a closed pipe, just as if it had been writing there itself.
            return;
        }
    }
    if !pending.is_empty() {
        // The rank's last line had no newline; end it so the next line starts cleanly.
        pending.push(b'\n');
        framed.clear();
        frame_lines(prefix, &pending, &mut framed);
        write(dest, &framed, state);
    }
}

/// Writes framed lines, marking the pump as writing meanwhile. Returns false on failure.
fn write(dest: &Dest, bytes: &[u8], state: &AtomicU8) -> bool {
    state.store(WRITING, Ordering::SeqCst);
    let result = dest.write_locked(bytes);
    state.store(READING, Ordering::SeqCst);
    match result {
        Ok(()) => true,
        Err(e) => {
            if !WRITE_FAILED.swap(true, Ordering::SeqCst) {
                let stream = match dest {
                    Dest::Stdout | Dest::Spool(_) => "stdout",
                    Dest::Stderr => "stderr",
                };
                // If stderr itself is what failed, this message is lost too; nothing better
                // can be done about it.
                let _ = writeln!(
                    io::stderr().lock(),
                    "eau2-launch: cannot write the ranks' output to {stream}: {e}; \
                     no longer forwarding it"
                );
            }
            false
        }
    }
}

/// Appends `lines`, which must end with a newline, to `out` with `prefix` before each line.
pub fn frame_lines(prefix: &[u8], lines: &[u8], out: &mut Vec<u8>) {
    debug_assert_eq!(lines.last(), Some(&b'\n'));
    if prefix.is_empty() {
        out.extend_from_slice(lines);
        return;
    }
    for line in lines.split_inclusive(|&b| b == b'\n') {
        out.extend_from_slice(prefix);
        out.extend_from_slice(line);
    }
}

/// Waits for every pump to finish, once all ranks have ended.
///
/// A pipe stays open while anything that inherited it lives, e.g. a daemon a rank started
/// in a session of its own. Waiting for such a pipe could take forever, so once every
/// unfinished pump is waiting for input and none has read anything for a while, the rest
/// are abandoned with a note saying whose output may be cut short. A pump busy *writing*
/// is always waited for: it is only slowed by whoever reads our output.
pub fn drain(mut pumps: Vec<Pump>) {
    let mut last_bytes = BYTES_READ.load(Ordering::Relaxed);
    let mut quiet_since = Instant::now();
    loop {
        let (done, open): (Vec<Pump>, Vec<Pump>) = pumps.into_iter().partition(Pump::is_done);
        for pump in done {
            // A pump thread that panicked has nothing left to flush; its panic message
            // already went to stderr.
            let _ = pump.handle.join();
        }
        pumps = open;
        if pumps.is_empty() {
            return;
        }

        let bytes = BYTES_READ.load(Ordering::Relaxed);
        let all_waiting = pumps
            .iter()
            .all(|p| p.state.load(Ordering::SeqCst) == READING);
        if bytes != last_bytes || !all_waiting {
            last_bytes = bytes;
            quiet_since = Instant::now();
        } else if quiet_since.elapsed() >= IDLE_GIVE_UP {
            let mut ranks: Vec<u32> = pumps.iter().map(|p| p.rank).collect();
            ranks.dedup();
            let ranks: Vec<String> = ranks.iter().map(u32::to_string).collect();
            eprintln!(
                "eau2-launch: output of rank(s) {} is still held open by a process that \
                 outlived its rank; not waiting for it",
                ranks.join(", ")
            );
            return;
        }
        thread::sleep(DRAIN_POLL);
    }
}

/// Waits up to `limit` for the given pumps to finish; says whether they all did.
///
/// Used before reporting a failed rank, so that its last words come out before the report.
pub fn settle(pumps: &[Pump], limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if pumps.iter().all(Pump::is_done) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(5));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_every_line() {
        let mut out = Vec::new();
        frame_lines(b"[3] ", b"a\n\nbc\n", &mut out);
        assert_eq!(out, b"[3] a\n[3] \n[3] bc\n");
    }

    #[test]
    fn without_prefix_bytes_pass_through() {
        let mut out = b"x".to_vec();
        frame_lines(b"", b"\xff\xfe\nz\n", &mut out);
        assert_eq!(out, b"x\xff\xfe\nz\n");
    }
}
