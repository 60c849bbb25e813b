//! Relational operators against polars, on the same data in the same run: CSV read of
//! about 1 GB, group-by count + sum over 50M rows with 1M keys, inner join of 50M x 5M
//! rows, sort of 50M rows, and the number of distinct `k2` per `k1` (`count_distinct`),
//! the distinct `k2` (`distinct`) and aggregates without keys (`agg`), those three not
//! run unless named in `--cases`. eau2 runs on 1, 2 and 4 ranks (`eau2-ops` under
//! `eau2-launch`); polars runs in a Python virtual environment that `bench/polars/setup.sh`
//! makes (pip from PyPI), with every core.
//!
//! ```text
//! cargo build --release && cargo bench -p eau2-bench --bench ops -- \
//!     [--scale full|small|1/N] [--cases csv,groupby,join,sort] [--ranks 1,2,4] [--runs 3] \
//!     [--python PATH] [--data-root DIR]
//! ```
//!
//! `--scale small` divides every size by 50 for a quick check, `--scale 1/N` by N. The
//! data (`mixed.csv`, `facts.csv`, `dim.csv`, see `eau2_bench::gen::ops`) is generated
//! once under `target/bench-data/` (or `--data-root`) and read through once before the
//! runs, so every run reads it from the page cache. Each run is a fresh process (or job): its
//! time is the case's own (the inputs of group-by, join and sort are loaded untimed; the
//! CSV case times the read), and its peak RSS is the process's (for eau2, the largest
//! rank's and the sum over ranks). Every eau2 result must have as many rows as polars'.
//!
//! A case eau2 has no operator for yet (`eau2-ops` exits with status 3) is reported as
//! such; polars still runs it. Without `--python`, and when the virtual environment
//! cannot be made, polars is left out and said so.
//!
//! Run without `--bench` (as `cargo test --all-targets` does) it is a smoke test on tiny
//! data that uses polars only if its environment already exists.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use clap::Parser;
use eau2_bench::gen::blocks::Progress;
use eau2_bench::gen::ops::{files_of, generate, OpsConfig};
use eau2_bench::measure::{Stat, Timing};
use eau2_bench::report::{load_average, machine, Report};

/// The data sizes, as the divisor of the full sizes: `full` (1), `small` (50) or `1/N`.
fn parse_scale(text: &str) -> Result<u64, String> {
    match text {
        "full" => Ok(1),
        "small" => Ok(50),
        _ => text
            .strip_prefix("1/")
            .and_then(|n| n.parse::<u64>().ok())
            .filter(|&n| n > 0)
            .ok_or_else(|| format!("scale {text:?}: give full, small or 1/N (N > 0)")),
    }
}

/// How a scale divisor is written back.
fn scale_name(by: u64) -> String {
    match by {
        1 => "full".into(),
        50 => "small".into(),
        n => format!("1/{n}"),
    }
}

/// Relational operators on eau2 (1, 2, 4 ranks) against polars.
#[derive(Parser, Debug)]
struct Args {
    /// The data sizes: `full` (a CSV of about 1 GB; 50M facts, 1M group keys, 5M join
    /// keys), `small` (every size divided by 50) or `1/N` (divided by N).
    #[arg(long, value_parser = parse_scale, default_value = "full")]
    scale: u64,
    /// The cases to run (also `count_distinct`, `distinct` and `agg`).
    #[arg(long, value_delimiter = ',', default_values_t = ["csv".to_string(), "groupby".into(), "join".into(), "sort".into()])]
    cases: Vec<String>,
    /// The numbers of ranks eau2 runs with.
    #[arg(long, value_delimiter = ',', default_values_t = [1, 2, 4])]
    ranks: Vec<usize>,
    /// Timed runs of each configuration; medians are reported.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// The Python with polars (default: the one `bench/polars/setup.sh` makes).
    #[arg(long)]
    python: Option<PathBuf>,
    /// Where generated data sets are kept (default: `target/bench-data`).
    #[arg(long)]
    data_root: Option<PathBuf>,
    /// Set by `cargo bench`; without it this is a quick smoke test.
    #[arg(long, hide = true)]
    bench: bool,
}

/// One run of a case.
struct Run {
    seconds: f64,
    rows: u64,
    /// The largest process's peak RSS.
    largest_rss_mib: u64,
    /// Summed over the processes (one for polars).
    summed_rss_mib: u64,
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ops bench: {e}");
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

fn run(mut args: Args) -> Result<(), String> {
    let bins = bin_dir()?;
    let (launcher, ops) = (bins.join("eau2-launch"), bins.join("eau2-ops"));
    for b in [&launcher, &ops] {
        if !b.is_file() {
            return Err(format!(
                "{} is missing: run `cargo build --release` (or `cargo build` for the smoke test) first",
                b.display()
            ));
        }
    }
    let mut cfg = OpsConfig::full().scaled_down(args.scale);
    if let Some(bad) = args
        .cases
        .iter()
        .find(|c| !eau2_bench::OPS_CASES.contains(&c.as_str()))
    {
        return Err(format!(
            "unknown case {bad:?} (cases: {})",
            eau2_bench::OPS_CASES.join(", ")
        ));
    }
    if !args.bench {
        cfg = OpsConfig::full().scaled_down(20_000);
        args.runs = 1;
        args.ranks = vec![1, 2];
    }
    let root = match &args.data_root {
        Some(root) => root.clone(),
        None => bins
            .parent()
            .ok_or("target has no parent")?
            .join("bench-data"),
    };
    let dir = root.join(cfg.dir_name());
    eprintln!("data in {} ...", dir.display());
    let mut files: Vec<&str> = args
        .cases
        .iter()
        .flat_map(|c| files_of(c))
        .copied()
        .collect();
    files.sort_unstable();
    files.dedup();
    generate(
        &cfg,
        &dir,
        &files,
        &mut Progress::new(cfg.mixed_rows + cfg.fact_rows + cfg.join_keys),
    )
    .map_err(|e| e.to_string())?;
    warm(&dir, &files)?;
    let python = find_python(&args, &bins);

    let mut report = Report::new(format!(
        "Relational operators vs polars: CSV {} rows ({} MB), facts {} rows, {} group keys, {} join keys",
        cfg.mixed_rows,
        file_mb(&dir.join("mixed.csv")),
        cfg.fact_rows,
        cfg.group_keys,
        cfg.join_keys
    ));
    report.command(format!(
        "cargo bench -p eau2-bench --bench ops -- --scale {} --cases {} --ranks {} --runs {}",
        scale_name(args.scale),
        args.cases.join(","),
        args.ranks
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(","),
        args.runs
    ));
    report.note(
        "both sides time the same span: the csv case times the read; group-by, join and \
         sort load their inputs first, untimed, and time the operator until every part of \
         the result is held (eau2: between two barriers)",
    );
    let load_before = load_average().unwrap_or_else(|| "unknown".into());
    for case in &args.cases {
        let baseline = format!("polars {case}");
        let mut polars_rows = None;
        match &python {
            Some(py) => {
                let script = repo_root(&bins)?.join("bench/polars/ops.py");
                let mut runs = Vec::new();
                for _ in 0..args.runs.max(1) {
                    let mut cmd = Command::new(py);
                    cmd.arg(&script).arg(case).arg(&dir);
                    runs.push(run_command(cmd, &baseline)?.ok_or("polars cannot run a case")?);
                }
                polars_rows = Some(runs[0].rows);
                add_runs(&mut report, &baseline, &runs, None);
            }
            None => {
                report.note(format!("{baseline}: not run (no Python with polars)"));
            }
        }
        for &n in &args.ranks {
            let name = format!("eau2 {case} n={n}");
            let mut runs = Vec::new();
            for _ in 0..args.runs.max(1) {
                let mut cmd = Command::new(&launcher);
                cmd.args(["-n", &n.to_string(), "--timeout", "1200"])
                    .arg(&ops)
                    .arg(case)
                    .arg(&dir);
                match run_command(cmd, &name)? {
                    Some(run) => runs.push(run),
                    None => break,
                }
            }
            if runs.is_empty() {
                report.note(format!("{name}: eau2 has no operator for this case yet"));
                continue;
            }
            if let Some(rows) = polars_rows {
                if runs.iter().any(|r| r.rows != rows) {
                    return Err(format!("{name} gave {} rows, polars {rows}", runs[0].rows));
                }
            }
            let vs = python.as_ref().map(|_| baseline.as_str());
            add_runs(&mut report, &name, &runs, vs);
            if python.is_some() {
                report.ratio(
                    &format!("{case}: eau2 n={n} / polars time (lower is faster)"),
                    &format!("{name} time"),
                    &format!("{baseline} time"),
                    "s",
                );
            }
        }
    }
    report.note(format!("{}; load average before: {load_before}", machine()));
    report.note(format!(
        "load average after: {}",
        load_average().unwrap_or_else(|| "unknown".into())
    ));
    report.print();
    Ok(())
}

/// Adds a configuration's time and memory rows.
fn add_runs(report: &mut Report, name: &str, runs: &[Run], baseline: Option<&str>) {
    let timing = Timing::new(
        runs.iter()
            .map(|r| std::time::Duration::from_secs_f64(r.seconds))
            .collect(),
    );
    let time = format!("{name} time");
    match baseline {
        Some(b) => report.add_vs(&time, "s", timing.seconds(), &format!("{b} time")),
        None => report.add(&time, "s", timing.seconds()),
    };
    let largest = runs.iter().map(|r| r.largest_rss_mib).max().unwrap_or(0);
    let summed = runs.iter().map(|r| r.summed_rss_mib).max().unwrap_or(0);
    report.add(
        &format!("{name} peak RSS (largest process)"),
        "MiB",
        Stat::single(largest as f64),
    );
    report.add(
        &format!("{name} peak RSS (summed over processes)"),
        "MiB",
        Stat::single(summed as f64),
    );
}

/// Runs a case's command and reads its `time SECONDS rows ROWS` and `rss MIB` lines
/// (each possibly behind a launcher's `[rank] ` prefix). `None` when the command says
/// the case is not supported (exit status 3).
fn run_command(mut cmd: Command, what: &str) -> Result<Option<Run>, String> {
    let out = cmd.output().map_err(|e| format!("running {what}: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() == Some(3) || stderr.contains("does not have yet") {
        return Ok(None);
    }
    if !out.status.success() {
        return Err(format!("{what} failed ({}):\n{stderr}", out.status));
    }
    let mut run = Run {
        seconds: f64::NAN,
        rows: 0,
        largest_rss_mib: 0,
        summed_rss_mib: 0,
    };
    for line in stdout.lines() {
        let line = match line.split_once("] ") {
            Some((prefix, rest)) if prefix.starts_with('[') => rest,
            _ => line,
        };
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["time", secs, "rows", rows] => {
                run.seconds = secs
                    .parse()
                    .map_err(|_| format!("{what}: bad time {secs}"))?;
                run.rows = rows
                    .parse()
                    .map_err(|_| format!("{what}: bad rows {rows}"))?;
            }
            ["rss", mib] => {
                let mib: u64 = mib.parse().map_err(|_| format!("{what}: bad rss {mib}"))?;
                run.largest_rss_mib = run.largest_rss_mib.max(mib);
                run.summed_rss_mib += mib;
            }
            _ => {}
        }
    }
    if run.seconds.is_nan() {
        return Err(format!("{what} printed no time:\n{stdout}\n{stderr}"));
    }
    Ok(Some(run))
}

/// Reads every data file once, so that the runs find them in the page cache.
fn warm(dir: &Path, files: &[&str]) -> Result<(), String> {
    for name in files {
        let path = dir.join(name);
        let mut file =
            std::fs::File::open(&path).map_err(|e| format!("opening {}: {e}", path.display()))?;
        std::io::copy(&mut file, &mut std::io::sink())
            .map_err(|e| format!("reading {}: {e}", path.display()))?;
    }
    Ok(())
}

fn file_mb(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len() / 1_000_000)
}

/// The repository's root: `target/<profile>/../..`.
fn repo_root(bins: &Path) -> Result<PathBuf, String> {
    bins.parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .ok_or_else(|| "target is not inside the repository".to_string())
}

/// The Python to run polars with: `--python`, else the one `bench/polars/setup.sh` makes
/// (running it in bench mode only; the smoke test uses an existing one or none).
fn find_python(args: &Args, bins: &Path) -> Option<PathBuf> {
    if let Some(py) = &args.python {
        return Some(py.clone());
    }
    let root = repo_root(bins).ok()?;
    let venv_python = root.join("target/bench-polars-venv/bin/python");
    let has_polars = |py: &Path| {
        Command::new(py)
            .args(["-c", "import polars"])
            .status()
            .is_ok_and(|s| s.success())
    };
    if venv_python.is_file() && has_polars(&venv_python) {
        return Some(venv_python);
    }
    if !args.bench {
        return None;
    }
    eprintln!("making the polars environment (bench/polars/setup.sh) ...");
    let out = Command::new("bash")
        .arg(root.join("bench/polars/setup.sh"))
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!(
            "could not make the polars environment; polars is left out:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        return None;
    }
    let py = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    has_polars(&py).then_some(py)
}
