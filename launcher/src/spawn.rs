//! Starting one rank: its environment, its process group, its output pumps.
//!
//! All ranks of a job share one process group, led by rank 0, separate from the launcher's.
//! That lets the launcher signal the whole job, including anything the ranks started, with
//! one `kill(-pgid, …)`; and it keeps a terminal's Ctrl-C from hitting the ranks directly,
//! so they get exactly one signal, the one the launcher forwards. Being outside the
//! terminal's foreground group, a rank reading the terminal would be stopped, so the ranks'
//! stdin is `/dev/null`.
//!
//! Should the launcher itself die without cleaning up (SIGKILL), Linux's parent-death
//! signal kills each rank so that no job runs on unsupervised.
//!
//! A rank on another host is started through the rsh command ([`remote`]); the local
//! process is then that command, in a process group of its own, and signals reach the
//! rank as lines on the command's stdin, which the launcher keeps ([`Rank::control`]).
//!
//! [`remote`]: crate::remote

use std::ffi::OsString;
use std::io;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};

use eau2_comm::net::vars;
use libc::pid_t;

use crate::output::{Dest, Pump};
use crate::remote;

/// What every rank of a job shares.
pub struct JobSpec<'a> {
    /// The resolved executable.
    pub program: &'a Path,
    /// Passed unchanged to every rank.
    pub args: &'a [OsString],
    /// The number of ranks, `EAU2_SIZE`.
    pub size: u32,
    /// Rank 0's rendezvous address, `EAU2_MASTER`.
    pub master: &'a str,
    /// The job's secret, `EAU2_TOKEN`.
    pub token: &'a str,
    /// The job's id, `EAU2_JOB_ID`: fresh per job, checked in every hello.
    pub job_id: &'a str,
    /// Whether output lines get a `[RANK] ` prefix.
    pub prefix: bool,
    /// Each rank's host, `None` for a rank started here directly.
    pub hosts: &'a [Option<String>],
    /// The rsh command's words, for ranks on other hosts.
    pub rsh: &'a [String],
    /// The directory remote ranks start in (the launcher's), when known.
    pub cwd: Option<&'a Path>,
    /// Which attempt of the job this is, `EAU2_EPOCH` (0 unless `--tolerate` restarted it).
    pub epoch: u32,
    /// Where the ranks' stdout goes: the launcher's, or the attempt's spool.
    pub stdout: Dest,
    /// The job's checkpoint folder name, `EAU2_CHECKPOINTS`, and K, `EAU2_TOLERATE`
    /// (with `--tolerate K` only: the ranks keep K copies of what they save).
    pub checkpoints: Option<(&'a str, u32)>,
}

/// A started rank.
pub struct Rank {
    /// Its number, 0-based.
    pub rank: u32,
    /// Its process.
    pub child: Child,
    /// The threads copying its stdout and stderr.
    pub pumps: Vec<Pump>,
    /// For a rank on another host: its host, and the rsh command's stdin, on which signal
    /// names are written to forward them.
    pub remote: Option<(String, ChildStdin)>,
}

/// Starts rank `rank`. `group` is the job's process group, `None` when starting the
/// first local rank, which then founds the group with its own pid as the id.
pub fn spawn_rank(spec: &JobSpec<'_>, rank: u32, group: Option<pid_t>) -> io::Result<Rank> {
    let attempt = vars::Attempt {
        size: spec.size,
        master: spec.master,
        token: spec.token,
        job_id: spec.job_id,
        epoch: spec.epoch,
    };
    let mut env: Vec<(&str, String)> = vars::for_rank(rank, &attempt).into();
    if let Some((name, tolerate)) = spec.checkpoints {
        env.push((vars::CHECKPOINTS, name.to_string()));
        env.push((vars::TOLERATE, tolerate.to_string()));
    }
    let host = spec.hosts.get(rank as usize).cloned().flatten();
    let mut command = match &host {
        None => {
            let mut command = Command::new(spec.program);
            command
                .args(spec.args)
                .envs(env.iter().map(|(k, v)| (k, v)))
                .stdin(Stdio::null())
                .process_group(group.unwrap_or(0));
            command
        }
        Some(host) => {
            // ssh passes no environment: carry the job's variables and the user's other
            // EAU2_* settings (EAU2_LOG, EAU2_RENDEZVOUS_TIMEOUT, ...) explicitly.
            let mut all: Vec<(String, String)> = env
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect();
            let ours: Vec<&str> = env.iter().map(|(k, _)| *k).collect();
            all.extend(remote::forwarded_vars(std::env::vars_os(), &ours));
            let words = remote::remote_words(spec.cwd, &all, spec.program, spec.args);
            let mut command = remote::rsh_command(spec.rsh, host, &words).ok_or_else(|| {
                io::Error::new(io::ErrorKind::InvalidInput, "the rsh command is empty")
            })?;
            // A group of its own: the job's group signals must not kill the rsh command,
            // which forwards them as lines on its stdin instead.
            command.stdin(Stdio::piped()).process_group(0);
            command
        }
    };
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    die_with_launcher(&mut command);

    let mut child = command.spawn()?;
    let pipes = (child.stdout.take(), child.stderr.take());
    let (Some(stdout), Some(stderr)) = pipes else {
        unreachable!("stdout and stderr were both configured as pipes");
    };
    let pumps = Pump::start(rank, stdout, spec.stdout.clone(), spec.prefix).and_then(|out| {
        let err = Pump::start(rank, stderr, Dest::Stderr, spec.prefix)?;
        Ok(vec![out, err])
    });
    let remote = match (host, child.stdin.take()) {
        (Some(host), Some(stdin)) => Some((host, stdin)),
        _ => None,
    };
    match pumps {
        Ok(pumps) => Ok(Rank {
            rank,
            child,
            pumps,
            remote,
        }),
        Err(e) => {
            // Without pumps its output would fill the pipe and block it; better not to run.
            let _ = child.kill();
            let _ = child.wait();
            Err(e)
        }
    }
}

/// Arranges for the child to be killed if the launcher dies first (Linux only).
#[cfg(target_os = "linux")]
fn die_with_launcher(command: &mut Command) {
    let launcher = std::process::id() as pid_t;
    let hook = move || {
        // SAFETY: prctl and getppid are async-signal-safe and touch no memory of ours.
        unsafe {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(io::Error::last_os_error());
            }
            // The launcher may have died before the prctl took effect, in which case no
            // signal will come; the child has been re-parented and must not start. (An OS
            // error code, because allocating a message between fork and exec could deadlock
            // on an allocator lock held by another thread at the time of the fork.)
            if libc::getppid() != launcher {
                return Err(io::Error::from_raw_os_error(libc::ESRCH));
            }
        }
        Ok(())
    };
    // SAFETY: the hook runs between fork and exec; it makes only async-signal-safe calls
    // and never allocates.
    unsafe {
        command.pre_exec(hook);
    }
}

/// Elsewhere there is no parent-death signal; the process group still lets the launcher
/// stop the job whenever it is itself able to.
#[cfg(not(target_os = "linux"))]
fn die_with_launcher(_command: &mut Command) {}
