//! `eau2-launch`: starts an eau2 job, N ranked processes of one program, and sees it through.
//!
//! # A job's life
//! 1. **Parse and resolve.** The command line is checked and PROGRAM resolved to one
//!    executable ([`resolve`]), an app folder such as `apps/linus` naming the binary cargo
//!    built from it. Mistakes end here, before any process exists.
//! 2. **Prepare.** The launcher takes over SIGINT, SIGTERM and SIGHUP ([`signals`]), draws
//!    a fresh secret token and job id ([`token`]), places the ranks on the hosts of
//!    `--hostfile` or `-H` ([`hosts`]), and settles rank 0's rendezvous address
//!    ([`master`]).
//! 3. **Spawn.** Ranks 0 to N-1 start in that order ([`spawn`]): here directly, or on
//!    another host through the rsh command ([`remote`]). Rank 0 goes first so that
//!    its rendezvous listener has the best chance of being up when the others say hello;
//!    nothing here waits for it, so they must still be ready to retry. Each rank gets
//!    `EAU2_RANK`, `EAU2_SIZE`, `EAU2_MASTER`, `EAU2_TOKEN` and `EAU2_JOB_ID`, and the
//!    local ones share one process group so the job can be signalled as a whole.
//! 4. **Run.** Two threads per rank copy its stdout and stderr to the launcher's, whole
//!    lines at a time, prefixed `[RANK] ` ([`output`]). The main thread watches the ranks
//!    ([`monitor`]).
//! 5. **End.** When every rank has exited 0, the job succeeded. When one fails, the
//!    launcher is signalled, or `--timeout` passes, the others are sent SIGTERM (or the
//!    caught signal), then SIGKILL if they linger. Either way the launcher reaps every rank,
//!    waits for their output to be written and exits with a status saying how it went.
//! 6. **Restart (`--tolerate K`).** When the job ended because ranks were lost (killed,
//!    host gone, frozen: [`monitor::Job::watch`] tells these from a rank's own failure),
//!    steps 2-5 run again under the next epoch (`EAU2_EPOCH`) with a fresh token, job id
//!    and rendezvous address, up to K times. Meanwhile the ranks' stdout goes to a spool
//!    per attempt ([`output::Spool`]) and only the last attempt's is written out.
//!    docs/failures.md says what this means for a program.
//!
//! # Exit status
//! 0 all ranks exited 0; 1 a rank failed or the job could not start; 2 a usage error;
//! 124 `--timeout` passed; 128 + n the launcher caught signal n (129 SIGHUP, 130 SIGINT,
//! 143 SIGTERM).

use std::ffi::{OsStr, OsString};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use eau2_comm::net::{token, vars};

mod hosts;
mod master;
mod monitor;
mod output;
mod remote;
mod resolve;
mod signals;
mod spawn;
mod status;
mod statusline;

use monitor::{Job, Loss, Outcome};
use output::{Dest, Spool};
use spawn::JobSpec;

/// Start an eau2 job: N ranks of PROGRAM that meet through rank 0.
///
/// Every rank gets EAU2_RANK (0..N-1), EAU2_SIZE (N), EAU2_MASTER (rank 0's rendezvous
/// address) and EAU2_TOKEN (a secret fresh for each job). Their output is copied to the
/// launcher's, line by line, each line prefixed with `[RANK] `. If a rank fails, the others
/// are stopped, unless --tolerate allows the job to be started again. Exit status: 0 all
/// ranks exited 0; 1 a rank failed or could not be started; 2 usage error; 124 timeout;
/// 129/130/143 stopped by SIGHUP/SIGINT/SIGTERM.
#[derive(Parser, Debug)]
#[command(
    name = "eau2-launch",
    version,
    override_usage = "eau2-launch [OPTIONS] -n <N> PROGRAM [ARGS]...\n       \
                      eau2-launch [OPTIONS] (--hostfile FILE | -H HOST:SLOTS,...) [-n N] PROGRAM [ARGS]..."
)]
struct Cli {
    /// Number of ranks (processes) to start, at least 1 [default with --hostfile or -H:
    /// every slot].
    #[arg(short = 'n', long = "ranks", value_name = "N", value_parser = clap::value_parser!(u32).range(1..),
          required_unless_present_any = ["hostfile", "host"])]
    ranks: Option<u32>,

    /// Run ranks on the hosts of FILE: lines `HOST [slots=N]` as Open MPI reads them; ranks
    /// fill each host's slots in order.
    #[arg(long, value_name = "FILE", conflicts_with = "host")]
    hostfile: Option<PathBuf>,

    /// Run ranks on these hosts, `host1:2,host2:2` (a host without `:N` has one slot).
    #[arg(short = 'H', long = "host", value_name = "HOST[:SLOTS],...")]
    host: Option<String>,

    /// The command that starts a rank on another host, called as `CMD HOST COMMAND...`.
    #[arg(long, value_name = "CMD", default_value = "ssh", value_parser = remote::parse_rsh)]
    rsh: remote::Rsh,

    /// Address rank 0 listens on for the rendezvous [default: 127.0.0.1 on a free port; with
    /// remote hosts, rank 0's host on a random port in 20000-29999].
    #[arg(long, value_name = "HOST:PORT", value_parser = master::parse)]
    master: Option<String>,

    /// Stop the job (exit status 124) if it is still running after SECS seconds; fractions
    /// allowed.
    #[arg(long, value_name = "SECS", value_parser = parse_timeout)]
    timeout: Option<Timeout>,

    /// Copy the ranks' output without the `[RANK] ` prefix.
    #[arg(long)]
    no_prefix: bool,

    /// Survive up to K lost ranks: when a rank is lost (killed by a signal, its host gone,
    /// or frozen past EAU2_PEER_TIMEOUT), stop the others and start the whole job again
    /// under the next EAU2_EPOCH, up to K times. The ranks' stdout is held back (in a
    /// temporary file) and written once their attempt is the last, so it comes out
    /// exactly once; stderr streams live. A rank that fails by itself (an error, a
    /// crash) is not restarted. The restarted job resumes the DistFrame operators it had
    /// completed (their outputs are saved under each host's TMPDIR, with K copies on
    /// other hosts) and a program's node.checkpoint state (EAU2_CHECKPOINTS names the
    /// job's folder). [default: EAU2_TOLERATE, else 0: the first lost rank fails the
    /// job]
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u32).range(0..=100))]
    tolerate: Option<u32>,

    /// The program every rank runs, then its arguments.
    ///
    /// PROGRAM is an executable's path, an app folder such as apps/linus (runs the binary
    /// built from it, found next to eau2-launch), or a name looked up next to eau2-launch and
    /// then on PATH. The ARGS are passed unchanged to every rank, even those that look like
    /// flags of eau2-launch.
    // One list rather than two positionals: clap stops looking for its own flags only once
    // the last positional has begun, and PROGRAM's arguments must never be taken as ours.
    #[arg(
        value_name = "PROGRAM [ARGS]",
        required = true,
        num_args = 1..,
        trailing_var_arg = true
    )]
    command: Vec<OsString>,
}

impl Cli {
    /// PROGRAM; clap guarantees the command has at least this one word.
    fn program(&self) -> &OsStr {
        &self.command[0]
    }

    /// The ARGS after PROGRAM.
    fn args(&self) -> &[OsString] {
        &self.command[1..]
    }
}

/// A `--timeout` value: the duration, and the text given, to quote it back unchanged.
#[derive(Clone, Debug)]
struct Timeout {
    duration: Duration,
    text: String,
}

/// clap's value parser for `--timeout`: a positive, finite number of seconds.
fn parse_timeout(s: &str) -> Result<Timeout, String> {
    let secs: f64 = s
        .parse()
        .map_err(|_| format!("`{s}` is not a number of seconds"))?;
    let duration = Duration::try_from_secs_f64(secs)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("`{s}` is not a positive number of seconds"))?;
    Ok(Timeout {
        duration,
        text: s.to_string(),
    })
}

fn main() {
    // Usage errors exit with 2 and --help / --version with 0, as clap does by default.
    let cli = Cli::parse();
    init_logging();
    statusline::setup();
    // A bad EAU2_* value would stop every rank; say so once, before starting any.
    let bad = check_environment();
    if !bad.is_empty() {
        for problem in bad {
            eprintln!("eau2-launch: {problem}");
        }
        eprintln!("eau2-launch: no rank was started");
        process::exit(2);
    }
    for warning in vars::unknown_warnings() {
        eprintln!("eau2-launch: warning: {warning}");
    }
    let code = match launch(&cli) {
        Ok(outcome) => outcome.exit_code(),
        Err(message) => {
            eprintln!("eau2-launch: {message}");
            1
        }
    };
    statusline::clear();
    // The output pumps write whole lines, so nothing should be buffered; flush regardless.
    let _ = io::stdout().flush();
    process::exit(code);
}

/// The launcher's own diagnostics (`tracing` events, e.g. each rank started) go to
/// standard error, filtered by `EAU2_LOG` as the ranks' are (default: warnings and
/// errors). Its messages to the user (usage, a failed rank) are not logs: they always
/// show.
fn init_logging() {
    // A bad filter is reported by `check_environment`, and the launcher then stops.
    let filter = log_filter()
        .and_then(Result::ok)
        .unwrap_or_else(|| tracing_subscriber::EnvFilter::new("warn"));
    // A second subscriber cannot be installed; there is none before this one.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(io::stderr)
        .with_ansi(false)
        .try_init();
}

/// `EAU2_LOG` parsed, or `None` when it is unset or empty.
fn log_filter() -> Option<Result<tracing_subscriber::EnvFilter, vars::VarError>> {
    let spec = vars::process_env(vars::LOG).filter(|s| !s.trim().is_empty())?;
    Some(
        tracing_subscriber::EnvFilter::try_new(&spec).map_err(|e| vars::log_filter_error(&spec, e)),
    )
}

/// Every EAU2_* variable of the launcher's environment that the ranks (which inherit
/// them) or the launcher would refuse, one message each. Run after
/// [`statusline::setup`], which sets `EAU2_STATUS_COLS`; `EAU2_MASTER` is skipped, since
/// each rank gets the launcher's own.
fn check_environment() -> Vec<String> {
    let mut bad = vars::check_all(&vars::process_env);
    bad.retain(|e| e.name != vars::MASTER);
    if let Some(Err(e)) = log_filter() {
        bad.push(e);
    }
    bad.iter().map(ToString::to_string).collect()
}

/// Runs the job described by `cli`: its first attempt, and under `--tolerate K` up to K
/// more after lost ranks. An `Err` is a message for a job that could not start.
fn launch(cli: &Cli) -> Result<Outcome, String> {
    let bin_dir = launcher_dir()?;
    let program = resolve::resolve(cli.program(), &bin_dir, std::env::var_os("PATH").as_deref())
        .map_err(|e| e.to_string())?;
    let tolerate = match cli.tolerate {
        Some(k) => k,
        // Checked by `check_environment` before anything started.
        None => vars::tolerate(&vars::process_env).unwrap_or(0),
    };

    let mut placement = place_ranks(cli)?;
    signals::install().map_err(|e| format!("cannot install signal handlers: {e}"))?;
    // The timeout counts from just before rank 0 first starts, across attempts. One too
    // far in the future to be represented is as good as none.
    let deadline = cli.timeout.as_ref().and_then(|t| {
        let at = Instant::now().checked_add(t.duration)?;
        Some((at, t.text.as_str()))
    });
    // One checkpoint folder name for every attempt (`Node::checkpoint`), removed on this
    // host when the job ends, however it ends; the ranks of other hosts remove theirs
    // when the job succeeds.
    let checkpoints = match tolerate {
        0 => None,
        _ => Some(
            token::fresh()
                .map(|id| format!("eau2-checkpoints-{}", &id[..16]))
                .map_err(|e| format!("cannot read /dev/urandom: {e}"))?,
        ),
    };
    let _folder = checkpoints
        .as_deref()
        .map(|name| RemovedOnDrop(std::env::temp_dir().join(name)));
    let mut lost: Vec<(u32, Vec<Loss>)> = Vec::new();
    for epoch in 0.. {
        let spool = if tolerate > 0 {
            let spool = Spool::new(&std::env::temp_dir()).map_err(|e| {
                format!(
                    "cannot create a file in {} to hold the ranks' output back \
                     (--tolerate): {e}",
                    std::env::temp_dir().display()
                )
            })?;
            Some(Arc::new(spool))
        } else {
            None
        };
        let outcome = attempt(
            cli,
            &program,
            &placement,
            (epoch, checkpoints.as_deref().map(|name| (name, tolerate))),
            spool.clone(),
            deadline,
        )?;
        debug_assert!(tolerate > 0 || !matches!(outcome, Outcome::Lost(_)));
        let retry = match &outcome {
            Outcome::Lost(losses) => {
                lost.push((epoch, losses.clone()));
                let said: Vec<String> = losses.iter().map(ToString::to_string).collect();
                let said = said.join(", ");
                if epoch < tolerate {
                    eprintln!(
                        "eau2-launch: {said} in epoch {epoch}; restarting ({} of {tolerate})",
                        epoch + 1
                    );
                    let gone: Vec<&str> = losses
                        .iter()
                        .filter(|l| l.host_gone)
                        .filter_map(|l| l.host.as_deref())
                        .collect();
                    for (rank, host) in move_off(&mut placement, &gone) {
                        eprintln!(
                            "eau2-launch: rank {rank} moves to {}",
                            host.as_deref().unwrap_or("this host")
                        );
                    }
                    true
                } else {
                    eprintln!(
                        "eau2-launch: {said} in epoch {epoch}; no restart left (--tolerate \
                         {tolerate}); lost: {}",
                        history(&lost)
                    );
                    false
                }
            }
            _ => false,
        };
        if retry {
            // The attempt's output is dropped with its spool: the next one prints it.
            continue;
        }
        if let Some(spool) = spool {
            // The last attempt's stdout, whatever its outcome, is the job's.
            if let Err(e) = spool.release() {
                eprintln!("eau2-launch: {e}");
                return Ok(Outcome::Failed);
            }
        }
        return Ok(outcome);
    }
    unreachable!("the attempts loop returns")
}

/// A folder removed, with what it holds, when this value is dropped.
struct RemovedOnDrop(PathBuf);

impl Drop for RemovedOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Moves the ranks placed on the `gone` hosts to the remaining hosts of the job, each to
/// the one running the fewest of its ranks (the earliest on a tie): a restart must not
/// wait for a host that is down. Returns the moved ranks and their new hosts. When no
/// host is left, nothing moves (the restart then finds out for itself).
fn move_off(placement: &mut [Option<String>], gone: &[&str]) -> Vec<(u32, Option<String>)> {
    let is_gone = |h: &Option<String>| h.as_deref().is_some_and(|h| gone.contains(&h));
    let mut left: Vec<(Option<String>, usize)> = Vec::new();
    for host in placement.iter().filter(|h| !is_gone(h)) {
        match left.iter_mut().find(|(h, _)| h == host) {
            Some((_, count)) => *count += 1,
            None => left.push((host.clone(), 1)),
        }
    }
    let mut moved = Vec::new();
    if left.is_empty() {
        return moved;
    }
    for (rank, host) in placement.iter_mut().enumerate() {
        if is_gone(host) {
            // `left` is not empty, so there is a least-loaded host.
            let Some(target) = left.iter_mut().min_by_key(|(_, count)| *count) else {
                break;
            };
            target.1 += 1;
            *host = target.0.clone();
            moved.push((rank as u32, host.clone()));
        }
    }
    moved
}

/// Every lost rank so far with its epoch: "rank 2 in epoch 0, rank 1 in epoch 1".
fn history(lost: &[(u32, Vec<Loss>)]) -> String {
    let all: Vec<String> = lost
        .iter()
        .flat_map(|(epoch, losses)| {
            losses
                .iter()
                .map(move |l| format!("rank {} in epoch {epoch}", l.rank))
        })
        .collect();
    all.join(", ")
}

/// How long a restart under a fixed `--master` waits for the last attempt's rank 0 to
/// release the port.
const RELEASE_WAIT: Duration = Duration::from_secs(10);

/// Runs one attempt of the job: epoch `epoch`, with a fresh token, job id and rendezvous
/// address, so that no process of an earlier attempt (a remote rank still being torn
/// down) can join this one or be taken for one of its ranks.
fn attempt(
    cli: &Cli,
    program: &Path,
    placement: &[Option<String>],
    (epoch, checkpoints): (u32, Option<(&str, u32)>),
    spool: Option<Arc<Spool>>,
    deadline: Option<(Instant, &str)>,
) -> Result<Outcome, String> {
    let size = placement.len() as u32;
    let remote_rank0 = placement.iter().position(Option::is_some).map(|_| {
        // Rank 0's host as the others can reach it: its name in the host list, or this
        // machine's name when rank 0 runs here.
        placement[0].clone().unwrap_or_else(remote::this_host)
    });
    let token = token::fresh().map_err(|e| format!("cannot read /dev/urandom: {e}"))?;
    let job_id = token::fresh()
        .map(|id| format!("eau2-launch-{}", &id[..16]))
        .map_err(|e| format!("cannot read /dev/urandom: {e}"))?;
    let master = match (&cli.master, remote_rank0) {
        (Some(master), _) => {
            if epoch > 0 && !master::wait_until_released(master, RELEASE_WAIT) {
                eprintln!(
                    "eau2-launch: {master} (--master) still accepts connections {} s after \
                     the last attempt ended; starting rank 0 there anyway",
                    RELEASE_WAIT.as_secs()
                );
            }
            master.clone()
        }
        (None, Some(host)) => master::pick_remote(&host, &token),
        (None, None) => master::pick_free()
            .map_err(|e| format!("cannot find a free port for the rendezvous: {e}"))?,
    };
    let cwd = std::env::current_dir().ok();
    let spec = JobSpec {
        program,
        args: cli.args(),
        size,
        master: &master,
        token: &token,
        job_id: &job_id,
        prefix: !cli.no_prefix,
        hosts: placement,
        rsh: &cli.rsh.0,
        cwd: cwd.as_deref(),
        epoch,
        stdout: spool.map_or(Dest::Stdout, Dest::Spool),
        checkpoints,
    };

    let mut job = Job::new();
    for rank in 0..size {
        if signals::first().is_some() {
            // Interrupted while starting: start no more; `watch` stops those already running.
            break;
        }
        match spawn::spawn_rank(&spec, rank, job.group()) {
            Ok(started) => {
                tracing::debug!(rank, epoch, program = %program.display(), "started rank");
                job.add(started)
            }
            Err(e) => {
                eprintln!(
                    "eau2-launch: cannot start rank {rank} ({}): {e}",
                    program.display()
                );
                job.stop(libc::SIGTERM);
                job.finish();
                return Ok(Outcome::Failed);
            }
        }
    }
    // Only a job that may be restarted holds its stdout back: the spool says so.
    let outcome = job.watch(deadline, matches!(spec.stdout, Dest::Spool(_)));
    job.finish();
    Ok(outcome)
}

/// The host of each rank: `None` for those started here (no host list, or a host that
/// names this machine), the host's name for the others.
fn place_ranks(cli: &Cli) -> Result<Vec<Option<String>>, String> {
    let hosts = match (&cli.hostfile, &cli.host) {
        (Some(path), _) => hosts::read_hostfile(path).map_err(|e| e.to_string())?,
        (None, Some(list)) => hosts::parse_host_list(list).map_err(|e| e.to_string())?,
        (None, None) => {
            let n = cli.ranks.unwrap_or(1);
            return Ok(vec![None; n as usize]);
        }
    };
    let n = cli.ranks.unwrap_or_else(|| hosts::total_slots(&hosts));
    let here = remote::this_host();
    Ok(hosts::place(&hosts, n)
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|host| (!remote::is_local(&host, &here)).then_some(host))
        .collect())
}

/// The directory holding the running `eau2-launch`, where cargo also puts the apps.
fn launcher_dir() -> Result<PathBuf, String> {
    let exe = std::env::current_exe()
        .map_err(|e| format!("cannot tell where eau2-launch is installed: {e}"))?;
    exe.parent()
        .map(PathBuf::from)
        .ok_or_else(|| format!("`{}` has no parent directory", exe.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("eau2-launch").chain(args.iter().copied()))
    }

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn everything_after_program_belongs_to_the_program() {
        let cli = parse(&[
            "-n",
            "2",
            "prog",
            "-n",
            "5",
            "--timeout",
            "x",
            "--",
            "-v",
            "a b",
        ])
        .unwrap();
        assert_eq!(cli.ranks, Some(2));
        assert_eq!(cli.program(), "prog");
        let args: Vec<&str> = cli.args().iter().map(|a| a.to_str().unwrap()).collect();
        assert_eq!(args, ["-n", "5", "--timeout", "x", "--", "-v", "a b"]);
        assert!(cli.timeout.is_none());
    }

    #[test]
    fn flag_like_first_argument_is_passed_through() {
        let cli = parse(&["-n", "1", "--no-prefix", "/bin/sh", "-c", "echo hi"]).unwrap();
        assert!(cli.no_prefix);
        assert_eq!(cli.program(), "/bin/sh");
        assert_eq!(cli.args(), ["-c", "echo hi"]);
    }

    #[test]
    fn options_parse() {
        let cli = parse(&["--ranks", "3", "--master", "h:1", "--timeout", "0.25", "p"]).unwrap();
        assert_eq!(cli.master.as_deref(), Some("h:1"));
        let timeout = cli.timeout.unwrap();
        assert_eq!(timeout.duration, Duration::from_millis(250));
        assert_eq!(timeout.text, "0.25");
        assert_eq!(cli.tolerate, None);
        let cli = parse(&["--tolerate", "2", "-n", "3", "p", "--tolerate", "9"]).unwrap();
        assert_eq!(cli.tolerate, Some(2));
        assert_eq!(cli.args(), ["--tolerate", "9"]);
    }

    #[test]
    fn host_options_parse() {
        let cli = parse(&["-H", "a:2,b:2", "--rsh", "ssh -p 22", "p"]).unwrap();
        assert_eq!(cli.ranks, None);
        assert_eq!(cli.rsh.0, ["ssh", "-p", "22"]);
        let placed = place_ranks(&cli).unwrap();
        assert_eq!(
            placed,
            [Some("a"), Some("a"), Some("b"), Some("b")].map(|h| h.map(String::from))
        );
        let cli = parse(&["-n", "3", "-H", "localhost:2,b", "p"]).unwrap();
        assert_eq!(cli.rsh.0, ["ssh"]);
        assert_eq!(place_ranks(&cli).unwrap(), [None, None, Some("b".into())]);
        let cli = parse(&["-n", "5", "-H", "a:2,b:2", "p"]).unwrap();
        assert!(place_ranks(&cli).unwrap_err().contains("slots"));
    }

    #[test]
    fn ranks_move_off_gone_hosts_to_the_least_loaded() {
        let h = |n: &str| Some(n.to_string());
        let mut placement = vec![None, h("a"), h("b"), h("b"), h("c")];
        let moved = move_off(&mut placement, &["b"]);
        assert_eq!(moved, [(2, None), (3, h("a"))]);
        assert_eq!(placement, [None, h("a"), None, h("a"), h("c")]);
        // Nothing gone, nothing moves; every host gone, nothing can.
        assert!(move_off(&mut placement, &["z"]).is_empty());
        let mut all_gone = vec![h("a"), h("a")];
        assert!(move_off(&mut all_gone, &["a"]).is_empty());
        assert_eq!(all_gone, [h("a"), h("a")]);
    }

    #[test]
    fn bad_usage_is_rejected() {
        for bad in [
            &["-n", "0", "p"][..],
            &["-n", "-1", "p"],
            &["-n", "two", "p"],
            &["p"],
            &["-n", "2"],
            &["-n", "2", "--master", "nohost", "p"],
            &["-n", "2", "--timeout", "0", "p"],
            &["-n", "2", "--timeout", "-1", "p"],
            &["-n", "2", "--timeout", "inf", "p"],
            &["-n", "2", "--timeout", "NaN", "p"],
            &["-n", "2", "--bogus", "p"],
            &["-n", "2", "--tolerate", "-1", "p"],
            &["-n", "2", "--tolerate", "101", "p"],
            &["-n", "2", "--tolerate", "x", "p"],
            &["--hostfile", "f", "-H", "a", "p"],
            &["-H", "a", "--rsh", " ", "p"],
        ] {
            let err = parse(bad).expect_err(&format!("{bad:?} was accepted"));
            assert_eq!(err.exit_code(), 2, "{bad:?}");
        }
    }
}
