//! Watching a running job and deciding when, and how, it ends.
//!
//! A [`Job`] holds the started ranks. [`Job::watch`] polls them every [`POLL`] until one of
//! four things happens: every rank exited 0; some rank failed (non-zero exit or a signal);
//! the launcher caught a signal; or the timeout passed. Except for the first, the remaining
//! ranks are then stopped by [`Job::stop`]: a polite signal to the job's process group,
//! [`GRACE`] to comply, then SIGKILL. [`Job::finish`] clears out anything the ranks left
//! behind, reaps them and waits for their output to be written.

use std::thread;
use std::time::{Duration, Instant};

use libc::{c_int, pid_t};

use eau2_comm::net::vars;

use crate::output::{self, Pump};
use crate::signals;
use crate::spawn::Rank;
use crate::status::{self, signal_name, Status};
use crate::statusline;

/// How often the ranks are looked at: quick enough to feel instant, slow enough to cost
/// nothing.
pub const POLL: Duration = Duration::from_millis(20);

/// How long stopping ranks get between the polite signal and SIGKILL.
pub const GRACE: Duration = Duration::from_secs(1);

/// How long to wait for a failed rank's last output before reporting its failure.
const LAST_WORDS: Duration = Duration::from_millis(200);

/// How long, under `--tolerate`, the launcher watches a job whose first failed rank did
/// not die of a signal before it decides what happened: long enough for the ranks whose
/// peers told them of a loss (an eau2 job's ranks hear of it within a second) to end too.
const SETTLE: Duration = Duration::from_secs(1);

/// A rank the job lost (killed, its host gone, or frozen), rather than one that failed by
/// itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Loss {
    /// Its number.
    pub rank: u32,
    /// Its host, when it ran on another one.
    pub host: Option<String>,
    /// How it was lost, for messages: "killed by signal 9, SIGKILL".
    pub how: String,
    /// Whether its host looks gone: the rsh command failed (ssh's status 255), so a
    /// restart should not place ranks there again.
    pub host_gone: bool,
}

impl std::fmt::Display for Loss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "rank {}", self.rank)?;
        if let Some(host) = &self.host {
            write!(f, " on {host}")?;
        }
        write!(f, " lost ({})", self.how)
    }
}

/// Why a job ended; decides the launcher's exit status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every rank exited 0.
    Success,
    /// A rank failed, or the job could not be started; the others were stopped.
    Failed,
    /// The launcher caught this signal and forwarded it.
    Signaled(c_int),
    /// `--timeout` passed.
    TimedOut,
    /// Under `--tolerate`: these ranks were lost, and the others were stopped; the job
    /// can be started again.
    Lost(Vec<Loss>),
}

impl Outcome {
    /// The launcher's exit status: 0, 1, 128 + signal as shells report signal deaths, or
    /// 124 for a timeout as coreutils' `timeout` does.
    pub fn exit_code(&self) -> i32 {
        match *self {
            Outcome::Success => 0,
            Outcome::Failed | Outcome::Lost(_) => 1,
            Outcome::Signaled(signal) => 128 + signal,
            Outcome::TimedOut => 124,
        }
    }
}

/// One started rank and what is known about its end.
struct Member {
    rank: Rank,
    /// Set once the rank has exited (it stays unreaped until [`Job::finish`]).
    status: Option<Status>,
}

impl Member {
    fn pid(&self) -> pid_t {
        self.rank.child.id() as pid_t
    }

    /// How this rank was lost, if its end (seen before the launcher signalled anything)
    /// says it was: killed by a signal that is not a crash's (itself, or the program under
    /// a wrapper that exited 128 + N), or, on another host, killed there likewise or cut
    /// off with its rsh connection.
    fn loss(&self) -> Option<Loss> {
        let status = self.status?;
        let host_gone = self.rank.remote.is_some() && status == Status::Exited(255);
        let how = match (status, &self.rank.remote) {
            (Status::Signaled { signal, .. }, _) if !is_crash(signal) => {
                format!("killed by signal {signal}, {}", signal_name(signal))
            }
            (Status::Exited(255), Some(_)) => {
                "the rsh command failed: host or connection gone".to_string()
            }
            (Status::Exited(code), Some(_)) if is_signal_status(code) => {
                format!("killed by {} there", signal_name(code - 128))
            }
            // A wrapper (a shell script, /usr/bin/time) reports its program's death by
            // signal N as exit status 128 + N, as the remote wrapper does.
            (Status::Exited(code), None) if is_signal_status(code) => format!(
                "exit status {code}: its program was killed by {}",
                signal_name(code - 128)
            ),
            _ => return None,
        };
        Some(Loss {
            rank: self.rank.rank,
            host: self.rank.remote.as_ref().map(|(host, _)| host.clone()),
            how,
            host_gone,
        })
    }

    /// Whether this local rank is stopped (`kill -STOP`, a frozen process), as
    /// /proc/PID/stat tells on Linux; false where that cannot be read.
    fn is_stopped(&self) -> bool {
        if self.rank.remote.is_some() {
            return false;
        }
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{}/stat", self.pid())) else {
            return false;
        };
        // The state follows the command name, which is in parentheses and may hold any
        // character, so look after the last `)`.
        stat.rsplit_once(')')
            .and_then(|(_, rest)| rest.trim_start().chars().next())
            .is_some_and(|state| state == 'T' || state == 't')
    }
}

/// Whether exit status `code` is how a shell reports a child killed by a signal that is
/// not a crash's: 128 + N for a known signal N.
fn is_signal_status(code: i32) -> bool {
    code > 128 && signal_name(code - 128) != "unknown signal" && !is_crash(code - 128)
}

/// Whether `signal` is one a process gets for its own doing (a crash, an abort, a
/// resource limit it ran into): it would get it again, so it is not restarted.
fn is_crash(signal: c_int) -> bool {
    matches!(
        signal,
        libc::SIGSEGV
            | libc::SIGBUS
            | libc::SIGILL
            | libc::SIGFPE
            | libc::SIGABRT
            | libc::SIGSYS
            | libc::SIGTRAP
            | libc::SIGXCPU
            | libc::SIGXFSZ
    )
}

/// The ranks of one job.
#[derive(Default)]
pub struct Job {
    members: Vec<Member>,
    /// The job's process group: rank 0's pid, once rank 0 is started.
    group: Option<pid_t>,
}

impl Job {
    /// An empty job; ranks are added as they start.
    pub fn new() -> Job {
        Job::default()
    }

    /// The process group later ranks must join, `None` before rank 0 is added.
    pub fn group(&self) -> Option<pid_t> {
        self.group
    }

    /// Adds a started rank. The first rank started here (not through rsh) must come
    /// before the other local ones: its pid names the group.
    pub fn add(&mut self, rank: Rank) {
        if self.group.is_none() && rank.remote.is_none() {
            self.group = Some(rank.child.id() as pid_t);
        }
        self.members.push(Member { rank, status: None });
    }

    /// How many ranks have not exited yet.
    fn running(&self) -> usize {
        self.members.iter().filter(|m| m.status.is_none()).count()
    }

    /// Records the end of every rank that has exited since the last look; returns the
    /// indices of those that failed.
    fn sweep(&mut self) -> Vec<usize> {
        let mut failed = Vec::new();
        for (i, member) in self.members.iter_mut().enumerate() {
            if member.status.is_some() {
                continue;
            }
            // The launcher never reaps a rank before `finish`, and `signals::install` keeps
            // the kernel from doing so, so the pid is always our unreaped child here.
            let status = status::peek_exit(member.pid())
                .expect("a rank was reaped before the launcher was done with it");
            if let Some(status) = status {
                member.status = Some(status);
                if !status.success() {
                    failed.push(i);
                }
            }
        }
        failed
    }

    /// Sends `signal` to the job: its process group, which holds every local rank and
    /// whatever it started, plus any running rank that has moved to a group of its own;
    /// and to each rank on another host, through its rsh command ([`forward_remote`]).
    fn signal_all(&self, signal: c_int) {
        for member in &self.members {
            forward_remote(member, signal);
        }
        self.signal_local(signal);
    }

    /// Sends `signal` to the local ranks only: the job's process group, and any running
    /// local rank that has moved to a group of its own.
    fn signal_local(&self, signal: c_int) {
        let Some(group) = self.group else { return };
        // SAFETY: kill and getpgid have no memory-safety preconditions. Neither the group
        // id nor a rank's pid can have been recycled: the ranks, rank 0 (the group's
        // leader) included, stay unreaped until `finish` is done signalling. Failures
        // (ESRCH) only mean there is nobody left to signal.
        unsafe {
            libc::kill(-group, signal);
            let local = |m: &&Member| m.status.is_none() && m.rank.remote.is_none();
            for member in self.members.iter().filter(local) {
                if libc::getpgid(member.pid()) != group {
                    libc::kill(member.pid(), signal);
                }
            }
        }
    }

    /// Watches the job until it ends; stops the remaining ranks if it ends badly.
    ///
    /// `deadline` is when `--timeout` expires, with `timeout_text` the value as the user
    /// gave it, for the message.
    ///
    /// With `tolerant` (`--tolerate` above 0), a failure caused by lost ranks ends the
    /// watch with [`Outcome::Lost`] naming them (see [`Job::losses`]); a rank that failed
    /// by itself still fails the job.
    pub fn watch(&mut self, deadline: Option<(Instant, &str)>, tolerant: bool) -> Outcome {
        loop {
            let mut failed = self.sweep();
            if !failed.is_empty() {
                statusline::clear();
                if tolerant {
                    if let Some(losses) = self.losses(&mut failed) {
                        self.stop(libc::SIGTERM);
                        return Outcome::Lost(losses);
                    }
                }
                for &i in &failed {
                    let member = &self.members[i];
                    output::settle(&member.rank.pumps, LAST_WORDS);
                    let status = member.status.expect("failed ranks have a status");
                    match &member.rank.remote {
                        None => eprintln!(
                            "eau2-launch: rank {} failed: {status}{}",
                            member.rank.rank,
                            peer_lost_hint(status)
                        ),
                        Some((host, _)) => eprintln!(
                            "eau2-launch: rank {} on {host} failed: {status}{}{}",
                            member.rank.rank,
                            remote_hint(status),
                            peer_lost_hint(status)
                        ),
                    }
                }
                self.stop(libc::SIGTERM);
                return Outcome::Failed;
            }
            if let Some(signal) = signals::first() {
                statusline::clear();
                eprintln!(
                    "eau2-launch: caught {}; forwarding it to {}",
                    signal_name(signal),
                    ranks(self.running())
                );
                self.stop(signal);
                return Outcome::Signaled(signal);
            }
            if self.running() == 0 {
                return Outcome::Success;
            }
            if let Some((deadline, timeout_text)) = deadline {
                if Instant::now() >= deadline {
                    statusline::clear();
                    eprintln!(
                        "eau2-launch: job timed out after {timeout_text} s; stopping {}",
                        ranks(self.running())
                    );
                    self.stop(libc::SIGTERM);
                    return Outcome::TimedOut;
                }
            }
            thread::sleep(POLL);
        }
    }

    /// Decides whether the failures of the ranks at `failed` (indices) are a loss: returns
    /// the lost ranks, or `None` when some rank failed by itself. Called before the
    /// launcher signals anything, so every status seen is the ranks' own.
    ///
    /// A rank killed by a signal other than a crash's (SIGKILL from the OOM killer or a
    /// user, SIGTERM from a scheduler...), or whose remote host or rsh connection is gone,
    /// is lost. If no rank died so, the job is watched a little longer ([`SETTLE`]) for
    /// one that does; then, if every failed rank exited with
    /// [`vars::EXIT_PEER_LOST`] (it stopped because a peer was lost), the lost ranks are
    /// those still running, which their peers gave up on: frozen (stopped ones first,
    /// when some are) or unreachable. A crash (SIGSEGV, SIGABRT, ...) or any other exit
    /// status is the program's own failure, which a restart would only repeat.
    fn losses(&mut self, failed: &mut Vec<usize>) -> Option<Vec<Loss>> {
        if !failed.iter().any(|&i| self.members[i].loss().is_some()) {
            let until = Instant::now() + SETTLE;
            while self.running() > 0 && Instant::now() < until && signals::first().is_none() {
                thread::sleep(POLL);
                failed.extend(self.sweep());
            }
        }
        if signals::first().is_some() {
            return None;
        }
        let lost: Vec<Loss> = failed
            .iter()
            .filter_map(|&i| self.members[i].loss())
            .collect();
        if !lost.is_empty() {
            return Some(lost);
        }
        let peer_lost = Status::Exited(i32::from(vars::EXIT_PEER_LOST));
        if !failed
            .iter()
            .all(|&i| self.members[i].status == Some(peer_lost))
        {
            return None;
        }
        let running: Vec<&Member> = self.members.iter().filter(|m| m.status.is_none()).collect();
        let stopped: Vec<&Member> = running.iter().copied().filter(|m| m.is_stopped()).collect();
        let (silent, how) = if stopped.is_empty() {
            (running, "stopped responding; its peers gave up on it")
        } else {
            (stopped, "frozen: stopped, and its peers gave up on it")
        };
        let lost: Vec<Loss> = silent
            .iter()
            .map(|m| Loss {
                rank: m.rank.rank,
                host: m.rank.remote.as_ref().map(|(host, _)| host.clone()),
                how: how.to_string(),
                host_gone: false,
            })
            .collect();
        (!lost.is_empty()).then_some(lost)
    }

    /// Stops every rank still running: `signal` first, SIGKILL for those still running
    /// after [`GRACE`]. Returns once all ranks have exited.
    ///
    /// A further signal to the launcher while it waits (Ctrl-C pressed again) skips the rest
    /// of the grace period.
    pub fn stop(&mut self, signal: c_int) {
        if self.running() == 0 {
            return;
        }
        let signals_before = signals::count();
        self.signal_all(signal);
        // A stopped local rank (`kill -STOP`, a debugger) keeps a SIGTERM pending until it
        // runs again: wake it, so it ends now instead of at SIGKILL after the grace period.
        self.signal_local(libc::SIGCONT);
        let deadline = Instant::now() + GRACE;
        loop {
            self.sweep();
            if self.running() == 0 {
                return;
            }
            if Instant::now() >= deadline || signals::count() > signals_before {
                break;
            }
            thread::sleep(POLL);
        }
        self.signal_all(libc::SIGKILL);
        while self.running() > 0 {
            thread::sleep(POLL);
            self.sweep();
        }
    }

    /// Ends the job once every rank has exited: kills what the ranks left running in the
    /// job's group (it would hold their output pipes open, or outlive the job), reaps the
    /// ranks and waits until their output has been written.
    pub fn finish(self) {
        debug_assert_eq!(self.running(), 0, "finish called with ranks still running");
        self.signal_all(libc::SIGKILL);
        let mut pumps: Vec<Pump> = Vec::new();
        for mut member in self.members {
            // Every rank is a zombie by now, so this returns at once; an error would mean
            // it was reaped already, and there is nothing more to do for it either way.
            let _ = member.rank.child.wait();
            pumps.append(&mut member.rank.pumps);
        }
        output::drain(pumps);
    }
}

/// Forwards `signal` to a running rank on another host: its name as a line on the rsh
/// command's stdin, which the remote wrapper turns into a `kill`. SIGKILL also kills the
/// local rsh command (its own process group), whose end of file makes the wrapper kill the
/// rank even if the line never arrives.
fn forward_remote(member: &Member, signal: c_int) {
    let Some((_, control)) = &member.rank.remote else {
        return;
    };
    if member.status.is_none() {
        write_signal(control, signal);
    }
    if signal == libc::SIGKILL {
        // SAFETY: kill has no memory-safety preconditions; the rsh command leads its own
        // group and stays unreaped until `finish`, so the id cannot have been recycled.
        // It also clears out anything the rsh command left in its group.
        unsafe {
            libc::kill(-member.pid(), libc::SIGKILL);
        }
    }
}

/// Writes the name of `signal` as a line for the remote wrapper.
fn write_signal(control: &std::process::ChildStdin, signal: c_int) {
    let name = match signal {
        libc::SIGINT => "INT",
        libc::SIGHUP => "HUP",
        libc::SIGKILL => "KILL",
        _ => "TERM",
    };
    // An error means the rsh command is gone already; its rank then dies of end of file.
    let mut control = control;
    let _ = std::io::Write::write_all(&mut control, format!("{name}\n").as_bytes());
}

/// What a remote rank's exit status tells beyond the number: the remote wrapper reports a
/// rank killed by signal N as 128 + N, and ssh reports its own failure as 255.
fn remote_hint(status: Status) -> String {
    match status {
        Status::Exited(255) => " (the rsh command failed: is the host reachable?)".into(),
        Status::Exited(code) if code > 128 => {
            format!(" (killed by {} there)", signal_name(code - 128))
        }
        _ => String::new(),
    }
}

/// What exit status [`vars::EXIT_PEER_LOST`] means, for the message about a failed rank.
fn peer_lost_hint(status: Status) -> &'static str {
    if status == Status::Exited(i32::from(vars::EXIT_PEER_LOST)) {
        " (it stopped because another rank was lost)"
    } else {
        ""
    }
}

/// "1 rank", "4 ranks".
fn ranks(n: usize) -> String {
    if n == 1 {
        "1 rank".to_string()
    } else {
        format!("{n} ranks")
    }
}
