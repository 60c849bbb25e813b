//! The Linus job at scale: load and compute wall times and each rank's peak RSS for
//! several numbers of ranks, against a single-process reference BFS measured in the same
//! run.
//!
//! ```text
//! cargo build --release && cargo bench -p eau2-bench --bench linus -- \
//!     [--commits 10M] [--users 3M] [--projects 10M] [--ranks 1,2,4] [--runs 3]
//! ```
//!
//! The data set is generated once (deterministically) under `target/bench-data/` and
//! reused. The reference is the plainest fast program for the job: one thread, the
//! (project, author) pairs in one vector, two scans per stage with bit vectors. Its
//! compute time is the baseline of the ranks' compute time; loading is reported apart.
//! Every run's answer must equal the reference's, or the benchmark fails.
//!
//! Run without `--bench` (as `cargo test --all-targets` does) it is a smoke test on a
//! tiny data set.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use clap::Parser;
use eau2_bench::gen::blocks::Progress;
use eau2_bench::gen::linus::{generate, LinusConfig};
use eau2_bench::measure::{time_once, Stat, Timing};
use eau2_bench::report::{load_average, machine, Report};

/// The Linus job at scale, against a single-process reference BFS.
#[derive(Parser, Debug)]
struct Args {
    /// Rows of commits.ltgt.
    #[arg(long, default_value_t = 10_000_000)]
    commits: u64,
    /// Rows of users.ltgt.
    #[arg(long, default_value_t = 3_000_000)]
    users: u64,
    /// Rows of projects.ltgt.
    #[arg(long, default_value_t = 10_000_000)]
    projects: u64,
    /// Stages (degrees) to run.
    #[arg(long, default_value_t = 4)]
    degrees: usize,
    /// The numbers of ranks to run with.
    #[arg(long, value_delimiter = ',', default_values_t = [1, 2, 4])]
    ranks: Vec<usize>,
    /// Timed runs of each configuration; medians are reported.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Set by `cargo bench`; without it this is a quick smoke test.
    #[arg(long, hide = true)]
    bench: bool,
}

fn main() -> ExitCode {
    let mut args = Args::parse();
    if !args.bench {
        (args.commits, args.users, args.projects, args.runs) = (20_000, 3_000, 2_000, 1);
        args.ranks = vec![1, 2];
    }
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("linus bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `target/<profile>`, where the workspace's binaries are.
fn bin_dir() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| format!("locating the bench binary: {e}"))?;
    exe.parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .ok_or_else(|| "the bench binary is not under target/<profile>/deps".to_string())
}

fn run(args: &Args) -> Result<(), String> {
    let bins = bin_dir()?;
    let (launcher, linus) = (bins.join("eau2-launch"), bins.join("linus"));
    for b in [&launcher, &linus] {
        if !b.is_file() {
            return Err(format!(
                "{} is missing: run `cargo build --release` (or `cargo build` for the smoke test) first",
                b.display()
            ));
        }
    }
    let cfg = LinusConfig {
        commits: args.commits,
        users: args.users,
        projects: args.projects,
        seed: 1,
        skew: 1.0,
        scramble: true,
    };
    let dir = bins.parent().ok_or("target has no parent")?.join(format!(
        "bench-data/linus-{}-{}-{}",
        args.commits, args.users, args.projects
    ));
    if !dir.join("commits.ltgt").is_file() {
        eprintln!("generating {} ...", dir.display());
        generate(&cfg, &dir, &mut Progress::new(cfg.total_rows())).map_err(|e| e.to_string())?;
    }
    let start = cfg.top_user().ok_or("the data set has no users")? as usize;

    let (commits, ref_load) = time_once(|| read_commits(&dir.join("commits.ltgt")));
    let commits = commits?;
    let mut expected = Vec::new();
    let ref_compute = Timing::new(
        (0..args.runs.max(1))
            .map(|_| {
                let (lines, took) = time_once(|| reference_bfs(&commits, args, start));
                expected = lines;
                took
            })
            .collect(),
    );
    drop(commits);

    let mut report = Report::new(format!(
        "Linus, {} commits, {} users, {} projects, {} degrees from uid {start}",
        args.commits, args.users, args.projects, args.degrees
    ));
    report.command(format!(
        "cargo bench -p eau2-bench --bench linus -- --commits {} --users {} --projects {} --ranks {} --runs {}",
        args.commits,
        args.users,
        args.projects,
        args.ranks.iter().map(usize::to_string).collect::<Vec<_>>().join(","),
        args.runs
    ));
    report.add(
        "reference BFS (1 thread) compute",
        "s",
        ref_compute.seconds(),
    );
    report.add(
        "reference BFS load (plain parse)",
        "s",
        Stat::single(ref_load.as_secs_f64()),
    );
    for &n in &args.ranks {
        let mut runs = Vec::new();
        for _ in 0..args.runs.max(1) {
            runs.push(run_linus(
                &launcher,
                &linus,
                n,
                &dir,
                start,
                args.degrees,
                &expected,
            )?);
        }
        let pick = |f: fn(&Run) -> Duration| Timing::new(runs.iter().map(f).collect()).seconds();
        let name = |what: &str| format!("eau2 linus n={n} {what}");
        report.add(&name("end to end"), "s", pick(|r| r.wall));
        report.add(&name("load"), "s", pick(|r| r.load));
        report.add_vs(
            &name("compute"),
            "s",
            pick(|r| r.compute),
            "reference BFS (1 thread) compute",
        );
        let rss = runs.iter().map(|r| r.peak_rss_mib).max().unwrap_or(0);
        report.add(
            &name("peak RSS of the largest rank"),
            "MiB",
            Stat::single(rss as f64),
        );
        report.ratio(
            &format!("n={n} compute / reference compute (lower is faster)"),
            &name("compute"),
            "reference BFS (1 thread) compute",
            "s",
        );
    }
    let load = load_average().unwrap_or_else(|| "unknown".into());
    report.note(format!("{}; load average before: {load}", machine()));
    report.note("each configuration's answer equals the reference's, stage by stage".to_string());
    report.note(format!("answer: {}", expected.join("; ")));
    report.print();
    Ok(())
}

/// One run of the job.
struct Run {
    wall: Duration,
    load: Duration,
    compute: Duration,
    peak_rss_mib: u64,
}

fn run_linus(
    launcher: &Path,
    linus: &Path,
    n: usize,
    dir: &Path,
    start: usize,
    degrees: usize,
    expected: &[String],
) -> Result<Run, String> {
    let started = Instant::now();
    let out = Command::new(launcher)
        .args(["-n", &n.to_string(), "--timeout", "600"])
        .arg(linus)
        .arg("--data")
        .arg(dir)
        .args([
            "--start",
            &start.to_string(),
            "--degrees",
            &degrees.to_string(),
        ])
        .output()
        .map_err(|e| format!("running {}: {e}", launcher.display()))?;
    let wall = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!(
            "linus on {n} ranks failed ({}):\n{stderr}",
            out.status
        ));
    }
    let lines: Vec<String> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("[0] "))
        .map(str::to_string)
        .collect();
    if lines != expected {
        return Err(format!(
            "linus on {n} ranks answered {lines:?}, the reference {expected:?}"
        ));
    }
    // "linus: load X s, compute Y s" and "linus: rank R peak RSS M MiB" on stderr.
    let mut load = None;
    let mut compute = None;
    let mut rss = 0;
    for line in stderr.lines() {
        if let Some(rest) = line.split("linus: load ").nth(1) {
            let mut secs = rest
                .split(|c: char| !(c.is_ascii_digit() || c == '.'))
                .filter(|s| !s.is_empty())
                .filter_map(|s| s.parse::<f64>().ok());
            load = secs.next();
            compute = secs.next();
        }
        if let Some(rest) = line.split(" peak RSS ").nth(1) {
            let mib: u64 = rest
                .split_whitespace()
                .next()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            rss = rss.max(mib);
        }
    }
    let (Some(load), Some(compute)) = (load, compute) else {
        return Err(format!("linus printed no timings:\n{stderr}"));
    };
    Ok(Run {
        wall,
        load: Duration::from_secs_f64(load),
        compute: Duration::from_secs_f64(compute),
        peak_rss_mib: rss,
    })
}

/// The (project, author) pairs of a commits file, read the plain way: the first two
/// integers of every line.
fn read_commits(path: &Path) -> Result<Vec<(u32, u32)>, String> {
    let text = std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    let mut pairs = Vec::with_capacity(text.len() / 24);
    for line in text.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let mut ids = line
            .split(|&b| !b.is_ascii_digit())
            .filter(|s| !s.is_empty())
            .map(|s| s.iter().fold(0u32, |n, &d| n * 10 + u32::from(d - b'0')));
        match (ids.next(), ids.next()) {
            (Some(p), Some(a)) => pairs.push((p, a)),
            _ => return Err(format!("{}: a line without two ids", path.display())),
        }
    }
    Ok(pairs)
}

/// The single-process reference: per stage, one scan for the projects of the frontier
/// users and one for the users of the new projects.
fn reference_bfs(commits: &[(u32, u32)], args: &Args, start: usize) -> Vec<String> {
    let mut users = vec![false; args.users as usize];
    let mut projects = vec![false; args.projects as usize];
    let mut frontier = vec![false; args.users as usize];
    users[start] = true;
    frontier[start] = true;
    let mut lines = Vec::with_capacity(args.degrees);
    let (mut n_users, mut n_projects) = (1usize, 0usize);
    for stage in 0..args.degrees {
        let mut new_projects = vec![false; args.projects as usize];
        for &(p, a) in commits {
            if frontier[a as usize] && !projects[p as usize] && !new_projects[p as usize] {
                new_projects[p as usize] = true;
                n_projects += 1;
            }
        }
        for (tagged, new) in projects.iter_mut().zip(&new_projects) {
            *tagged |= *new;
        }
        let mut next = vec![false; args.users as usize];
        for &(p, a) in commits {
            if new_projects[p as usize] && !users[a as usize] {
                users[a as usize] = true;
                next[a as usize] = true;
                n_users += 1;
            }
        }
        frontier = next;
        lines.push(format!(
            "stage {stage}: {n_projects} projects, {n_users} users"
        ));
    }
    lines
}
