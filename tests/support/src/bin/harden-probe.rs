//! A probe program for the hardening tests (tests/hardening.rs). Run on N ranks through
//! eau2-launch as `harden-probe SCENARIO [ARGS]`; rank 0 prints `SCENARIO ok` on success.
//!
//! - `idle SECS`: every rank computes (sleeps) for SECS without touching the network,
//!   then meets the others: heartbeats must keep the links alive meanwhile.
//! - `stoppable DIR`: every rank writes its pid to `DIR/rank-R.pid`, then meets the
//!   others every few milliseconds for up to a minute; the test stops one rank, and the
//!   others must fail naming it. Finishing the minute is an error: nothing was noticed.
//! - `hold READY GO`: rank 0 writes its pid to `READY` once the job is assembled and
//!   waits (up to two minutes) for the file `GO`; then every rank meets the others.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use eau2::error::CommError;
use eau2::{Error, Node, Result};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(scenario) = args.first().cloned() else {
        eprintln!("usage: harden-probe idle SECS | stoppable DIR | hold READY GO");
        return ExitCode::from(2);
    };
    eau2::run(|node| {
        match scenario.as_str() {
            "idle" => idle(node, &arg(&args, 1)?)?,
            "stoppable" => stoppable(node, &path(&args, 1)?)?,
            "hold" => hold(node, &path(&args, 1)?, &path(&args, 2)?)?,
            other => return Err(Error::Config(format!("unknown scenario {other:?}"))),
        }
        if node.rank() == 0 {
            println!("{scenario} ok");
        }
        Ok(())
    })
}

fn arg(args: &[String], i: usize) -> Result<String> {
    args.get(i)
        .cloned()
        .ok_or_else(|| Error::Config(format!("argument {i} is missing")))
}

fn path(args: &[String], i: usize) -> Result<PathBuf> {
    arg(args, i).map(PathBuf::from)
}

/// Writes `text` to `path` in one step (through a rename), so a reader never sees half.
fn publish(path: &Path, text: &str) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).map_err(|e| Error::io_path("writing", &tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io_path("renaming", &tmp, e))
}

fn idle(node: &Node, secs: &str) -> Result<()> {
    let secs: f64 = secs
        .parse()
        .map_err(|_| Error::Config(format!("{secs:?} is not a number of seconds")))?;
    node.comm().barrier()?;
    std::thread::sleep(Duration::from_secs_f64(secs));
    node.comm().barrier()?;
    let total = node.comm().all_reduce(node.rank() as u64, |a, b| a + b)?;
    let n = node.size() as u64;
    if total != n * (n - 1) / 2 {
        return Err(Error::App(format!("all_reduce gave {total}")));
    }
    Ok(())
}

fn stoppable(node: &Node, dir: &Path) -> Result<()> {
    let pid_file = dir.join(format!("rank-{}.pid", node.rank()));
    publish(&pid_file, &std::process::id().to_string())?;
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        node.comm().barrier()?;
        std::thread::sleep(Duration::from_millis(5));
    }
    Err(CommError::Timeout("a minute passed and no rank was found frozen".into()).into())
}

fn hold(node: &Node, ready: &Path, go: &Path) -> Result<()> {
    if node.rank() == 0 {
        publish(ready, &std::process::id().to_string())?;
        let deadline = Instant::now() + Duration::from_secs(120);
        while !go.exists() {
            if Instant::now() > deadline {
                return Err(CommError::Timeout(format!("{} never appeared", go.display())).into());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    Ok(node.comm().barrier()?)
}
