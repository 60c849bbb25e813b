//! `eau2-gen`: writes large, skewed, reproducible data sets for eau2's benchmarks.
//!
//! A thin command line over [`eau2_bench::gen`]; see `eau2-gen --help`.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand};
use eau2::{Error, Result};
use eau2_bench::gen::blocks::Progress;
use eau2_bench::gen::linus::{self, LinusConfig, LinusSummary};
use eau2_bench::gen::mixed::{self, MixedConfig, MIXED_SCHEMA};
use eau2_bench::gen::text::{self, TextConfig};
use eau2_bench::measure::mb_per_s;

/// Writes large, skewed, reproducible SoR data sets for eau2's benchmarks.
///
/// The output depends only on the flags (the seed included), never on the number of
/// threads or the machine: the same command always writes the same bytes. Counts accept
/// `_` separators and a decimal suffix: 10_000_000, 10M, 2G, 500k. A progress line is shown
/// on standard error when it is a terminal.
#[derive(Parser, Debug)]
#[command(name = "eau2-gen", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// A collaboration graph in git-small's shape, for the Linus job.
    // The long help is an attribute, not a doc comment, because its `<pid>` notation
    // would read as HTML tags to rustdoc.
    #[command(
        long_about = "A collaboration graph in git-small's shape, for the Linus job: \
        projects.ltgt (<pid> <\"owner/name\">), users.ltgt (<uid> <\"name\">) and \
        commits.ltgt (<pid> <author uid> <committer uid>).\n\n\
        Projects and authors are drawn from power laws: a few are very active, most are \
        not. The most active user is named \"Linus Torvalds\" and the most active project \
        \"torvalds/linux\"; their ids are printed at the end and written to DIR/README.md. \
        About 10% of commits have a committer other than the author."
    )]
    Linus {
        /// Rows of commits.ltgt.
        #[arg(long, value_name = "N", value_parser = parse_count)]
        commits: u64,
        /// Rows of users.ltgt; uids are 0..U (at most 2^31).
        #[arg(long, value_name = "U", value_parser = parse_count)]
        users: u64,
        /// Rows of projects.ltgt; pids are 0..P (at most 2^31).
        #[arg(long, value_name = "P", value_parser = parse_count)]
        projects: u64,
        /// The seed of the data set.
        #[arg(long, value_name = "S", default_value_t = 42)]
        seed: u64,
        /// The power-law exponent of activity: 1 is Zipf's law, 0 is uniform, larger is
        /// more skewed.
        #[arg(long, value_name = "A", default_value_t = 1.0)]
        skew: f64,
        /// Keep the most active users and projects at the lowest ids (uid 0 and pid 0 are
        /// the heaviest) instead of scattering them over the id range.
        #[arg(long)]
        no_scramble: bool,
        /// The directory to write into (created if missing).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Word-like text with Zipf-distributed word frequencies, for word-count benchmarks:
    /// lines of 4 to 15 made-up words separated by single spaces.
    Text {
        /// The exact size of the file in bytes.
        #[arg(long, value_name = "N", value_parser = parse_count)]
        bytes: u64,
        /// The number of distinct words (at most 2^26).
        #[arg(long, value_name = "V", default_value = "100k", value_parser = parse_count)]
        vocabulary: u64,
        /// The power-law exponent of word frequencies: 1 is Zipf's law.
        #[arg(long, value_name = "A", default_value_t = 1.0)]
        skew: f64,
        /// The seed of the text.
        #[arg(long, value_name = "S", default_value_t = 42)]
        seed: u64,
        /// The file to write.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// A SoR file with every column type (schema BIFSISFB: quoted strings with spaces,
    /// missing fields, short rows), for parser benchmarks.
    Mixed {
        /// Rows of the file.
        #[arg(long, value_name = "N", value_parser = parse_count)]
        rows: u64,
        /// The seed of the file.
        #[arg(long, value_name = "S", default_value_t = 42)]
        seed: u64,
        /// The file to write.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

/// Parses `12345`, `12_345`, `10k`, `10M`, `2G` (decimal multipliers).
fn parse_count(text: &str) -> std::result::Result<u64, String> {
    let t: String = text.chars().filter(|&c| c != '_').collect();
    let (digits, mult) = match t.chars().last() {
        Some('k' | 'K') => (&t[..t.len() - 1], 1_000),
        Some('m' | 'M') => (&t[..t.len() - 1], 1_000_000),
        Some('g' | 'G') => (&t[..t.len() - 1], 1_000_000_000),
        _ => (&t[..], 1),
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(|| format!("{text:?} is not a count (e.g. 1000, 10_000, 10k, 10M, 2G)"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("eau2-gen: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> Result<()> {
    let start = Instant::now();
    match command {
        Command::Linus {
            commits,
            users,
            projects,
            seed,
            skew,
            no_scramble,
            out,
        } => {
            let cfg = LinusConfig {
                commits,
                users,
                projects,
                seed,
                skew,
                scramble: !no_scramble,
            };
            cfg.validate()?;
            let mut progress = Progress::new(cfg.total_rows());
            let summary = linus::generate(&cfg, &out, &mut progress)?;
            progress.finish();
            let elapsed = start.elapsed();
            write_readme(&cfg, &summary, &out)?;
            for (path, bytes, rows) in &summary.files {
                println!("{}: {rows} rows, {bytes} bytes", path.display());
            }
            if let Some(uid) = summary.top_user {
                println!("most active user: uid {uid} (\"Linus Torvalds\")");
            }
            if let Some(pid) = summary.top_project {
                println!("most active project: pid {pid} (\"torvalds/linux\")");
            }
            print_speed(summary.bytes(), elapsed);
        }
        Command::Text {
            bytes,
            vocabulary,
            skew,
            seed,
            out,
        } => {
            let cfg = TextConfig {
                bytes,
                vocabulary,
                skew,
                seed,
            };
            cfg.validate()?;
            let mut progress = Progress::new(bytes);
            let written = text::generate(&cfg, &out, &mut progress)?;
            progress.finish();
            println!("{}: {written} bytes", out.display());
            print_speed(written, start.elapsed());
        }
        Command::Mixed { rows, seed, out } => {
            let mut progress = Progress::new(rows);
            let written = mixed::generate(&MixedConfig { rows, seed }, &out, &mut progress)?;
            progress.finish();
            println!(
                "{}: {rows} rows, {written} bytes, schema {MIXED_SCHEMA}",
                out.display()
            );
            print_speed(written, start.elapsed());
        }
    }
    Ok(())
}

fn print_speed(bytes: u64, elapsed: std::time::Duration) {
    println!(
        "{:.1} MB in {:.2} s: {:.0} MB/s",
        bytes as f64 / 1e6,
        elapsed.as_secs_f64(),
        mb_per_s(bytes, elapsed)
    );
}

/// Records how the data set was made and which ids are the heavy hitters, next to the data
/// (as git-small's README does), so a later reader needs no guesswork.
fn write_readme(cfg: &LinusConfig, summary: &LinusSummary, dir: &Path) -> Result<()> {
    let path = dir.join("README.md");
    let mut text = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = writeln!(
        text,
        "# Synthetic collaboration graph\n\n\
         Written by `eau2-gen linus --commits {} --users {} --projects {} --seed {} --skew {}{}`;\n\
         the same command always writes the same bytes.\n",
        cfg.commits,
        cfg.users,
        cfg.projects,
        cfg.seed,
        cfg.skew,
        if cfg.scramble { "" } else { " --no-scramble" }
    );
    for (file, bytes, rows) in &summary.files {
        let name = file.file_name().unwrap_or_default().to_string_lossy();
        let _ = writeln!(text, "- {name}: {rows} rows, {bytes} bytes");
    }
    if let Some(uid) = summary.top_user {
        let _ = writeln!(
            text,
            "\nThe most active user is uid {uid}, \"Linus Torvalds\" (start the Linus job there)."
        );
    }
    if let Some(pid) = summary.top_project {
        let _ = writeln!(
            text,
            "The most active project is pid {pid}, \"torvalds/linux\"."
        );
    }
    fs::write(&path, text).map_err(|e| Error::io_path("writing", &path, e))
}
