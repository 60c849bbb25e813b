//! SoR parsing throughput: eau2's reader against sorer (the course's reference parser) and
//! against counting lines with memchr, the floor no line-oriented parser can beat.
//!
//! ```text
//! cargo bench -p eau2-bench --bench sor -- [--mb N] [--runs K] [--keep]
//! ```
//!
//! Two files of at least `--mb` MB are generated (deterministically) under Cargo's
//! target tmp dir: a commits-like file of three INT columns, and a mixed file with every
//! type (BOOL, INT, FLOAT, quoted STRING with spaces, missing fields, short rows). For each
//! file, every contender parses it once untimed (warming the page cache and checking that
//! all agree on the row count), then `--runs` timed rounds follow. A round runs each
//! contender once, so a burst of load from another process on this shared machine hurts
//! every contender alike instead of one of them. The medians are printed as a Markdown
//! table (see `eau2_bench::report`).
//!
//! Run without `--bench` (as `cargo test --all-targets` does) it is a smoke test: tiny
//! files, one round, the same agreement checks.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use eau2::frame::Schema;
use eau2::sor::SorReader;
use eau2_bench::gen::blocks::Progress;
use eau2_bench::gen::linus::{self, LinusConfig};
use eau2_bench::gen::mixed::{self, MixedConfig, MIXED_SCHEMA};
use eau2_bench::measure::{time_once, Timing};
use eau2_bench::report::{load_average, machine, Report};

/// SoR parsing throughput: eau2 vs sorer vs a memchr line count.
#[derive(Parser, Debug)]
struct Args {
    /// Minimum size of each generated file, in MB (10^6 bytes).
    #[arg(long, default_value_t = 100)]
    mb: u64,
    /// Timed rounds per file; medians are reported.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Keep the generated files (they are deleted at the end otherwise).
    #[arg(long)]
    keep: bool,
    /// Also draw the report as SVG charts in this folder (e.g. `../bench/charts`: cargo
    /// runs benches from the bench crate's folder).
    #[arg(long)]
    charts: Option<PathBuf>,
    /// Set by `cargo bench`; without it this is a quick smoke test (as under `cargo test`).
    #[arg(long, hide = true)]
    bench: bool,
}

/// One way of reading a file; returns the number of rows it found.
type Contender<'a> = (&'a str, Box<dyn Fn(&Path) -> Result<u64, String> + 'a>);

fn main() -> ExitCode {
    let mut args = Args::parse();
    if !args.bench {
        args.mb = 1;
        args.runs = 1;
    }
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sor bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), String> {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("sor-bench");
    fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let target = args.mb * 1_000_000;

    let commits = dir.join(format!("commits-{}mb.sor", args.mb));
    // About 29 bytes per row with 3 million users and 10 million projects.
    let rows = generate_at_least(target, target / 29, |rows| {
        let cfg = LinusConfig {
            commits: rows,
            users: 3_000_000,
            projects: 10_000_000,
            seed: 1,
            skew: 1.0,
            scramble: true,
        };
        linus::write_commits(&cfg, &commits, &mut Progress::hidden())
    })?;
    eprintln!("generated {} ({rows} rows)", commits.display());
    bench_file(args, &commits, rows, "III", threads)?;

    let mixed_path = dir.join(format!("mixed-{}mb.sor", args.mb));
    // About 97 bytes per row.
    let rows = generate_at_least(target, target / 97, |rows| {
        mixed::generate(
            &MixedConfig { rows, seed: 1 },
            &mixed_path,
            &mut Progress::hidden(),
        )
    })?;
    eprintln!("generated {} ({rows} rows)", mixed_path.display());
    bench_file(args, &mixed_path, rows, MIXED_SCHEMA, threads)?;

    if !args.keep {
        for p in [&commits, &mixed_path] {
            fs::remove_file(p).map_err(|e| format!("removing {}: {e}", p.display()))?;
        }
    }
    Ok(())
}

/// Generates with `rows` rows, starting from a guess and growing it until the file has at
/// least `target` bytes; returns the row count used. Generation is deterministic, so the
/// same target always gives the same file.
fn generate_at_least(
    target: u64,
    guess: u64,
    mut write: impl FnMut(u64) -> eau2::Result<u64>,
) -> Result<u64, String> {
    let mut rows = guess.max(1);
    loop {
        let bytes = write(rows).map_err(|e| e.to_string())?;
        if bytes >= target {
            return Ok(rows);
        }
        // Aim 1% over, so one more try is nearly always enough.
        rows = (rows as f64 * target as f64 / bytes.max(1) as f64 * 1.01).ceil() as u64;
    }
}

fn sorer_schema(codes: &str) -> Vec<sorer::schema::DataType> {
    use sorer::schema::DataType as S;
    codes
        .chars()
        .map(|c| match c {
            'B' => S::Bool,
            'I' => S::Int,
            'F' => S::Float,
            _ => S::String,
        })
        .collect()
}

fn bench_file(
    args: &Args,
    path: &Path,
    rows: u64,
    codes: &str,
    threads: usize,
) -> Result<(), String> {
    let bytes = fs::metadata(path)
        .map_err(|e| format!("reading metadata of {}: {e}", path.display()))?
        .len();
    let schema = Schema::from_codes(codes).map_err(|e| e.to_string())?;
    let sorer_types = sorer_schema(codes);
    let path_str = path
        .to_str()
        .ok_or_else(|| format!("{} is not UTF-8, which sorer needs", path.display()))?
        .to_string();
    let eau2_read = |parallel: bool| {
        let schema = schema.clone();
        move |p: &Path| -> Result<u64, String> {
            let file = SorReader::new()
                .schema(schema.clone())
                .parallel(parallel)
                .read_path(p)
                .map_err(|e| e.to_string())?;
            if file.deviations.rows != 0 {
                return Err(format!(
                    "eau2 found {} deviating rows (first at line {:?}) in a valid file",
                    file.deviations.rows, file.deviations.first_line
                ));
            }
            Ok(file.frame.nrows())
        }
    };

    // The pure scanning floor: the bytes are read once, outside any timing.
    let in_memory = fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    let eau2_par = format!("eau2 parallel ({threads} threads)");
    let sorer_name = format!("sorer ({threads} threads)");
    let contenders: Vec<Contender> = vec![
        (
            "memchr line count (read + count)",
            Box::new(|p: &Path| {
                let data = fs::read(p).map_err(|e| format!("reading {}: {e}", p.display()))?;
                Ok(memchr::memchr_iter(b'\n', &data).count() as u64)
            }),
        ),
        (
            "memchr line count (in memory)",
            Box::new(|_: &Path| Ok(memchr::memchr_iter(b'\n', &in_memory).count() as u64)),
        ),
        (
            &sorer_name,
            Box::new(|_: &Path| {
                // One byte past the end: sorer 0.1.1 drops the file's last line when the
                // last thread's share ends exactly at the end of the file (it breaks out
                // of its loop before parsing the line that reaches `len`), which happens
                // whenever the size divides evenly by the thread count. Past the end it
                // stops at EOF instead and reads every row.
                let cols = sorer::dataframe::from_file(
                    &path_str,
                    sorer_types.clone(),
                    0,
                    bytes as usize + 1,
                    threads,
                );
                Ok(cols.first().map_or(0, |c| c.len() as u64))
            }),
        ),
        (&eau2_par, Box::new(eau2_read(true))),
        ("eau2 single-core", Box::new(eau2_read(false))),
    ];

    let load_before = load_average();
    // Untimed warm-up, which is also the agreement check.
    let mut notes = Vec::new();
    for (name, read) in &contenders {
        let (found, took) = time_once(|| read(path));
        let found = found?;
        notes.push(format!(
            "{name}: {found} rows (warm-up {:.2} s)",
            took.as_secs_f64()
        ));
        if found != rows {
            return Err(format!(
                "{name} read {found} rows of {}, expected {rows}",
                path.display()
            ));
        }
    }

    let mut samples: Vec<Vec<Duration>> = vec![Vec::new(); contenders.len()];
    for _ in 0..args.runs.max(1) {
        for ((_, read), out) in contenders.iter().zip(&mut samples) {
            let (result, took) = time_once(|| read(path));
            result?;
            out.push(took);
        }
    }

    let memchr_name = contenders[0].0;
    let mut report = Report::new(format!(
        "SoR parse: {} ({:.1} MB, {rows} rows, schema {codes})",
        path.file_name().unwrap_or_default().to_string_lossy(),
        bytes as f64 / 1e6
    ));
    let cmd = if args.bench {
        format!(
            "cargo bench -p eau2-bench --bench sor -- --mb {} --runs {}",
            args.mb, args.runs
        )
    } else {
        "cargo test -p eau2-bench --bench sor (smoke test)".to_string()
    };
    report.command(cmd);
    for ((name, _), times) in contenders.iter().zip(samples) {
        let stat = Timing::new(times).throughput(bytes);
        if name.starts_with("eau2") {
            report.add_vs(name, "MB/s", stat, &sorer_name);
        } else {
            report.add(name, "MB/s", stat);
        }
    }
    report
        .ratio("eau2 parallel / sorer", &eau2_par, &sorer_name, "MB/s")
        .ratio(
            "eau2 single-core / sorer",
            "eau2 single-core",
            &sorer_name,
            "MB/s",
        )
        .ratio(
            "eau2 parallel / memchr floor (read + count)",
            &eau2_par,
            memchr_name,
            "MB/s",
        )
        .ratio(
            "eau2 parallel / memchr count in memory",
            &eau2_par,
            contenders[1].0,
            "MB/s",
        )
        .ratio(
            "eau2 parallel / eau2 single-core (speed-up)",
            &eau2_par,
            "eau2 single-core",
            "MB/s",
        );
    report.note(format!(
        "{} timed rounds, medians; min/max are the slowest/fastest round; {}; file in the page cache",
        args.runs.max(1),
        machine()
    ));
    if let Some(load) = load_before {
        report.note(format!(
            "load average before this file's runs: {load} (other work on the machine)"
        ));
    }
    for n in notes {
        report.note(n);
    }
    if !args.bench {
        report.note("smoke test (run through cargo bench for real numbers)");
    }
    let stem = format!(
        "sor-{}",
        path.file_stem().unwrap_or_default().to_string_lossy()
    );
    report
        .publish(args.charts.as_deref(), Some(&stem))
        .map_err(|e| format!("drawing the charts: {e}"))
}
