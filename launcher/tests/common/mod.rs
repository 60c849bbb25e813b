//! Running the real `eau2-launch` from tests, never without a deadline.
//!
//! Every launcher started here runs in a process group of its own, so that on a missed
//! deadline the test can kill it (its ranks then die of their parent-death signal) and fail
//! instead of hanging.

#![allow(dead_code)] // Each test file uses a different part of this.

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// The launcher under test.
pub const LAUNCHER: &str = env!("CARGO_BIN_EXE_eau2-launch");

/// Long enough for a loaded two-core machine, short enough that a hang is noticed.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// A launcher run that has ended.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub elapsed: Duration,
}

impl Finished {
    /// The exit code; panics if the launcher itself died of a signal.
    pub fn code(&self) -> i32 {
        self.status
            .code()
            .unwrap_or_else(|| panic!("launcher died of a signal: {:?}", self.status))
    }

    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }

    pub fn stdout_lines(&self) -> Vec<String> {
        self.stdout().lines().map(str::to_string).collect()
    }
}

/// Runs `eau2-launch ARGS` to completion (within [`DEADLINE`]).
pub fn launch(args: &[&str]) -> Finished {
    run(Command::new(LAUNCHER).args(args))
}

/// Runs a prepared launcher command to completion (within [`DEADLINE`]).
pub fn run(command: &mut Command) -> Finished {
    let started = Instant::now();
    let mut child = spawn(command);
    let stdout = collect(child.stdout.take().expect("stdout is piped"));
    let stderr = collect(child.stderr.take().expect("stderr is piped"));
    let status = wait(&mut child, DEADLINE);
    let elapsed = started.elapsed();
    Finished {
        status,
        // The launcher has exited, so these pipes are at end of file: the joins are prompt.
        stdout: stdout.join().expect("stdout reader panicked"),
        stderr: stderr.join().expect("stderr reader panicked"),
        elapsed,
    }
}

/// Starts a prepared launcher command with piped output in a process group of its own.
///
/// Retries "text file busy": a test binary that just wrote an executable can briefly see
/// that when a fork on another of its threads still holds the write descriptor.
pub fn spawn(command: &mut Command) -> Child {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    // The launcher leaves alone a signal it inherited as ignored (as `nohup` and a
    // non-interactive shell's background jobs ask); the tests that signal it must not
    // depend on how the test run itself was started, so it gets the defaults.
    // SAFETY: `signal` is async-signal-safe and the hook allocates nothing.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(command, || {
            for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
                libc::signal(signal, libc::SIG_DFL);
            }
            Ok(())
        });
    }
    let mut attempts = 0;
    loop {
        match command.spawn() {
            Ok(child) => return child,
            Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) && attempts < 100 => {
                attempts += 1;
                thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("cannot start {command:?}: {e}"),
        }
    }
}

/// Reads a stream to its end on a thread of its own.
fn collect<R: Read + Send + 'static>(mut source: R) -> JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = source.read_to_end(&mut bytes);
        bytes
    })
}

/// Waits for the launcher to exit; kills it and fails the test if `limit` passes first.
pub fn wait(child: &mut Child, limit: Duration) -> ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait failed") {
            return status;
        }
        if Instant::now() >= deadline {
            kill_group(child);
            let _ = child.wait();
            panic!("eau2-launch did not finish within {limit:?}");
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// SIGKILLs the launcher's process group (see [`spawn`]).
pub fn kill_group(child: &Child) {
    // SAFETY: kill has no memory-safety preconditions; the group is the unreaped child's.
    unsafe {
        libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL);
    }
}

/// A launcher whose stdout is read line by line while it runs.
pub struct Running {
    pub child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
    stderr: Option<JoinHandle<Vec<u8>>>,
}

impl Running {
    /// Starts `eau2-launch ARGS`.
    pub fn start(args: &[&str]) -> Running {
        let mut child = spawn(Command::new(LAUNCHER).args(args));
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = collect(child.stderr.take().expect("stderr is piped"));
        let (send, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Running {
            child,
            lines,
            seen: Vec::new(),
            stderr: Some(stderr),
        }
    }

    /// Waits until `count` stdout lines satisfying `pred` have been seen.
    pub fn wait_for_lines(&mut self, count: usize, pred: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + DEADLINE;
        while self.seen.iter().filter(|l| pred(l)).count() < count {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.seen.push(line),
                Err(_) => {
                    kill_group(&self.child);
                    let _ = self.child.wait();
                    panic!("expected lines never came; saw {:?}", self.seen);
                }
            }
        }
    }

    /// The stdout lines seen so far.
    pub fn seen(&self) -> &[String] {
        &self.seen
    }

    /// Sends `signal` to the launcher process only.
    pub fn signal(&self, signal: libc::c_int) {
        // SAFETY: kill has no memory-safety preconditions; the pid is our unreaped child's.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, signal);
        }
    }

    /// Waits for the launcher to exit; returns its status, all stdout lines and its stderr.
    pub fn finish(mut self) -> (ExitStatus, Vec<String>, String) {
        let status = wait(&mut self.child, DEADLINE);
        // The launcher has exited, so its stdout reaches end of file and the channel closes.
        while let Ok(line) = self.lines.recv_timeout(DEADLINE) {
            self.seen.push(line);
        }
        let stderr = self.stderr.take().expect("finish is called once");
        let stderr = stderr.join().expect("stderr reader panicked");
        (
            status,
            self.seen,
            String::from_utf8_lossy(&stderr).into_owned(),
        )
    }
}

/// A fresh scratch directory under the system's temp dir, removed when dropped.
pub struct Scratch {
    pub path: std::path::PathBuf,
}

impl Scratch {
    pub fn new(tag: &str) -> Scratch {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "eau2-launch-test-{tag}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).expect("cannot create scratch dir");
        Scratch { path }
    }

    pub fn join(&self, rel: impl AsRef<Path>) -> std::path::PathBuf {
        self.path.join(rel)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
