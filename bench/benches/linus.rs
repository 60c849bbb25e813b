//! The Linus job at scale: load and compute wall times and each rank's peak RSS for
//! several numbers of ranks, against a single-process reference BFS measured in the same
//! run.
//!
//! ```text
//! cargo build --release && cargo bench -p eau2-bench --bench linus -- \
//!     [--scale 10m|full] [--commits N] [--users U] [--projects P] [--seed S] \
//!     [--degrees K] [--ranks 1,2,4] [--runs 3] [--data-root DIR]
//! ```
//!
//! `--scale 10m` (the default) is 10M commits, 3M users, 10M projects, seed 1, 4 degrees;
//! `--scale full` is the real GHTorrent size the job was written for (117,936,711
//! commits, 32,411,734 users, 125,486,231 projects, seed 7, 7 degrees; about 11 GB of
//! text). The explicit flags override the scale's values. The data set is generated once
//! (deterministically) under `target/bench-data/` (or `--data-root`) and reused.
//!
//! The reference is the plainest fast program for the job: one thread, the (project,
//! author) pairs in one vector, two scans per stage with bit vectors. Its load and
//! compute times are the baselines of the ranks' (which include starting the processes
//! and the rendezvous). Every run's answer must equal the reference's, or the benchmark
//! fails. Each run's peak RSS is reported for its largest rank and summed over its
//! ranks; the data files are in the page cache, which no process's RSS counts.
//!
//! Run without `--bench` (as `cargo test --all-targets` does) it is a smoke test on a
//! tiny data set.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use clap::Parser;
use eau2_bench::chart::LineChart;
use eau2_bench::gen::blocks::Progress;
use eau2_bench::gen::linus::{generate, LinusConfig};
use eau2_bench::measure::{time_once, Stat, Timing};
use eau2_bench::report::{load_average, machine, Report};

/// The data sets the benchmark knows by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Scale {
    /// 10M commits, 3M users, 10M projects, seed 1, 4 degrees: the quick loop.
    #[value(name = "10m")]
    TenMillion,
    /// The GHTorrent size: 117,936,711 commits, 32,411,734 users, 125,486,231 projects,
    /// seed 7, 7 degrees.
    Full,
}

impl Scale {
    /// (commits, users, projects, seed, degrees).
    fn shape(self) -> (u64, u64, u64, u64, usize) {
        match self {
            Scale::TenMillion => (10_000_000, 3_000_000, 10_000_000, 1, 4),
            Scale::Full => (117_936_711, 32_411_734, 125_486_231, 7, 7),
        }
    }
}

/// The Linus job at scale, against a single-process reference BFS.
#[derive(Parser, Debug)]
struct Args {
    /// A named data set and degree count; the flags below override its values.
    #[arg(long, value_enum, default_value_t = Scale::TenMillion)]
    scale: Scale,
    /// Rows of commits.ltgt.
    #[arg(long)]
    commits: Option<u64>,
    /// Rows of users.ltgt.
    #[arg(long)]
    users: Option<u64>,
    /// Rows of projects.ltgt.
    #[arg(long)]
    projects: Option<u64>,
    /// The generator's seed.
    #[arg(long)]
    seed: Option<u64>,
    /// Stages (degrees) to run.
    #[arg(long)]
    degrees: Option<usize>,
    /// Where generated data sets are kept (default: `target/bench-data`).
    #[arg(long)]
    data_root: Option<PathBuf>,
    /// The numbers of ranks to run with.
    #[arg(long, value_delimiter = ',', default_values_t = [1, 2, 4])]
    ranks: Vec<usize>,
    /// Timed runs of each configuration; medians are reported.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Also draw the report as SVG charts in this folder (e.g. `../bench/charts`: cargo
    /// runs benches from the bench crate's folder).
    #[arg(long)]
    charts: Option<PathBuf>,
    /// Set by `cargo bench`; without it this is a quick smoke test.
    #[arg(long, hide = true)]
    bench: bool,
}

/// The run's settings, with the scale's values filled in.
struct Settings {
    commits: u64,
    users: u64,
    projects: u64,
    seed: u64,
    degrees: usize,
    ranks: Vec<usize>,
    runs: usize,
    data_root: Option<PathBuf>,
    charts: Option<PathBuf>,
}

impl Settings {
    fn new(args: Args) -> Settings {
        let (commits, users, projects, seed, degrees) = args.scale.shape();
        let mut s = Settings {
            commits: args.commits.unwrap_or(commits),
            users: args.users.unwrap_or(users),
            projects: args.projects.unwrap_or(projects),
            seed: args.seed.unwrap_or(seed),
            degrees: args.degrees.unwrap_or(degrees),
            ranks: args.ranks,
            runs: args.runs,
            data_root: args.data_root,
            charts: args.charts,
        };
        if !args.bench {
            (s.commits, s.users, s.projects, s.runs) = (20_000, 3_000, 2_000, 1);
            s.ranks = vec![1, 2];
        }
        s
    }
}

fn main() -> ExitCode {
    let args = Settings::new(Args::parse());
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

fn run(args: &Settings) -> Result<(), String> {
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
        seed: args.seed,
        skew: 1.0,
        scramble: true,
    };
    let root = match &args.data_root {
        Some(root) => root.clone(),
        None => bins
            .parent()
            .ok_or("target has no parent")?
            .join("bench-data"),
    };
    let dir = root.join(format!(
        "linus-{}-{}-{}-seed{}",
        args.commits, args.users, args.projects, args.seed
    ));
    if !dir.join("commits.ltgt").is_file() {
        eprintln!("generating {} ...", dir.display());
        generate(&cfg, &dir, &mut Progress::new(cfg.total_rows())).map_err(|e| e.to_string())?;
    }
    let start = cfg.top_user().ok_or("the data set has no users")? as usize;

    let (commits, ref_load) = time_once(|| read_commits(&dir.join("commits.ltgt")));
    let commits = commits?;
    let reference_rss = peak_rss_mib();
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
        "cargo bench -p eau2-bench --bench linus -- --commits {} --users {} --projects {} --seed {} --degrees {} --ranks {} --runs {}",
        args.commits,
        args.users,
        args.projects,
        args.seed,
        args.degrees,
        args.ranks.iter().map(usize::to_string).collect::<Vec<_>>().join(","),
        args.runs
    ));
    const REF_COMPUTE: &str = "reference BFS (1 thread) compute";
    const REF_LOAD: &str = "reference BFS load (plain parse)";
    const REF_TOTAL: &str = "reference BFS end to end (load + median compute)";
    report.add(REF_COMPUTE, "s", ref_compute.seconds());
    report.add(REF_LOAD, "s", Stat::single(ref_load.as_secs_f64()));
    report.add(
        REF_TOTAL,
        "s",
        Stat::single((ref_load + ref_compute.median()).as_secs_f64()),
    );
    if let Some(rss) = reference_rss {
        report.add(
            "reference BFS peak RSS (after its load)",
            "MiB",
            Stat::single(rss as f64),
        );
    }
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
        report.add_vs(&name("end to end"), "s", pick(|r| r.wall), REF_TOTAL);
        report.add_vs(&name("load"), "s", pick(|r| r.load), REF_LOAD);
        report.add_vs(&name("compute"), "s", pick(|r| r.compute), REF_COMPUTE);
        let largest = runs.iter().map(|r| r.largest_rss_mib).max().unwrap_or(0);
        let summed = runs.iter().map(|r| r.summed_rss_mib).max().unwrap_or(0);
        report.add(
            &name("peak RSS of the largest rank"),
            "MiB",
            Stat::single(largest as f64),
        );
        report.add(
            &name("peak RSS summed over ranks"),
            "MiB",
            Stat::single(summed as f64),
        );
        report.ratio(
            &format!("n={n} end to end / reference end to end (lower is faster)"),
            &name("end to end"),
            REF_TOTAL,
            "s",
        );
    }
    for &n in args.ranks.iter().filter(|&&n| n != 1) {
        if args.ranks.contains(&1) {
            report.ratio(
                &format!("n={n} end to end / n=1 end to end"),
                &format!("eau2 linus n={n} end to end"),
                "eau2 linus n=1 end to end",
                "s",
            );
        }
    }
    let load = load_average().unwrap_or_else(|| "unknown".into());
    report.note(format!("{}; load average before: {load}", machine()));
    report.note(format!(
        "load average after: {}",
        load_average().unwrap_or_else(|| "unknown".into())
    ));
    report.note("each configuration's answer equals the reference's, stage by stage".to_string());
    report.note(format!("answer: {}", expected.join("; ")));
    let stem = format!("linus-{}-commits", args.commits);
    let charts = args.charts.as_deref();
    let drawn = |e: std::io::Error| format!("drawing the charts: {e}");
    report.publish(charts, Some(&stem)).map_err(drawn)?;
    if let Some(dir) = charts {
        // Time against ranks: eau2 at each n, the single-process reference as a level line.
        let at = |what: &str| -> Vec<(f64, f64)> {
            args.ranks
                .iter()
                .filter_map(|&n| {
                    Some((
                        n as f64,
                        report.value(&format!("eau2 linus n={n} {what}"), "s")?,
                    ))
                })
                .collect()
        };
        let level = |name: &str| -> Vec<(f64, f64)> {
            let v = report.value(name, "s").unwrap_or(0.0);
            args.ranks.iter().map(|&n| (n as f64, v)).collect()
        };
        let path = dir.join(format!("{stem}-vs-ranks.svg"));
        LineChart::new(report.title(), "ranks", "seconds (median)")
            .series("eau2 end to end", at("end to end"))
            .series("eau2 load", at("load"))
            .series("eau2 compute", at("compute"))
            .series("reference BFS end to end", level(REF_TOTAL))
            .series("reference BFS compute", level(REF_COMPUTE))
            .save(&path)
            .map_err(drawn)?;
        println!("- chart: {}", path.display());
    }
    Ok(())
}

/// One run of the job.
struct Run {
    wall: Duration,
    load: Duration,
    compute: Duration,
    /// The largest rank's peak RSS.
    largest_rss_mib: u64,
    /// The ranks' peak RSS, summed (an upper bound of the job's peak: the ranks need not
    /// peak at the same moment).
    summed_rss_mib: u64,
}

/// This process's peak resident set size (Linux's `VmHWM`), when the OS reports it.
fn peak_rss_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
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
    let (mut largest, mut summed) = (0, 0);
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
            largest = largest.max(mib);
            summed += mib;
        }
    }
    let (Some(load), Some(compute)) = (load, compute) else {
        return Err(format!("linus printed no timings:\n{stderr}"));
    };
    Ok(Run {
        wall,
        load: Duration::from_secs_f64(load),
        compute: Duration::from_secs_f64(compute),
        largest_rss_mib: largest,
        summed_rss_mib: summed,
    })
}

/// The (project, author) pairs of a commits file, read the plain way: the first two
/// integers of every line, the file streamed in 16 MiB pieces (so that only the pairs
/// stay in memory).
fn read_commits(path: &Path) -> Result<Vec<(u32, u32)>, String> {
    use std::io::Read;
    let err = |e: std::io::Error| format!("reading {}: {e}", path.display());
    let mut file = std::fs::File::open(path).map_err(err)?;
    let len = file.metadata().map_err(err)?.len();
    let mut pairs = Vec::with_capacity((len / 24) as usize);
    let mut buf = vec![0u8; 16 << 20];
    let mut carry = Vec::new();
    loop {
        let n = file.read(&mut buf).map_err(err)?;
        if n == 0 {
            break;
        }
        carry.extend_from_slice(&buf[..n]);
        let Some(last) = carry.iter().rposition(|&b| b == b'\n') else {
            continue;
        };
        parse_pairs(&carry[..=last], &mut pairs, path)?;
        carry.drain(..=last);
    }
    parse_pairs(&carry, &mut pairs, path)?;
    Ok(pairs)
}

/// Appends the first two integers of every line of `text` to `pairs`.
fn parse_pairs(text: &[u8], pairs: &mut Vec<(u32, u32)>, path: &Path) -> Result<(), String> {
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
    Ok(())
}

/// The single-process reference: per stage, one scan for the projects of the frontier
/// users and one for the users of the new projects.
fn reference_bfs(commits: &[(u32, u32)], args: &Settings, start: usize) -> Vec<String> {
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
