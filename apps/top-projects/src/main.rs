//! top-projects: the N projects with the most commits, one per line as `COUNT PID NAME`,
//! by count descending, ties by pid ascending.
//!
//! It reads like the polars program it mirrors (bench/polars/top_projects.py): load the
//! commits (pid, author, committer) and the projects (pid, name) with declared schemas,
//! count commits per pid with a group-by, keep the top N, and only then join those N
//! with the names. Every step is distributed: each rank parses its part of each file,
//! counts its own rows before the counts are exchanged by pid, and offers its own best
//! N to the final top-N.
//!
//! The schemas are declared, not inferred: SoR's own inference looks at the first 500
//! lines only, and a commits file ordered by project starts with thousands of rows of
//! pid 0 and 1, which would make pid a BOOL column. Reads are strict: a field that does
//! not fit fails the run naming the file and line instead of becoming a missing value.
//!
//! With `--format parquet` it reads commits.parquet and projects.parquet instead (same
//! column names; the types are the files' own: pid INT or I64).
//!
//! `eau2-launch -n 4 target/release/top-projects [--data DIR] [--top N]
//! [--format sor|csv|parquet] [--csv] [--quiet] [--stats]`

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, ValueEnum};
use eau2::frame::{Schema, Value};
use eau2::table::{Agg, DistFrame, JoinKind, ReadOptions};
use eau2::{Node, Result};

/// The projects with the most commits.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Folder holding commits.ltgt (pid, author uid, committer uid) and projects.ltgt
    /// (pid, name).
    #[arg(long, default_value = "datasets/git-small")]
    data: PathBuf,
    /// How many projects to print.
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// Read commits.csv and projects.csv (same columns, a header line) instead of the
    /// SoR files, to compare with tools that read CSV but not SoR (`--format csv`).
    #[arg(long)]
    csv: bool,
    /// The files' format: sor (commits.ltgt, projects.ltgt), csv (commits.csv, ...,
    /// with a header line) or parquet (commits.parquet, ..., typed by the files).
    #[arg(long, value_enum, default_value = "sor")]
    format: Input,
    /// `--quiet` (no progress, no timing line on standard error) and `--stats`.
    #[command(flatten)]
    console: eau2_console::ConsoleArgs,
}

/// The input files' format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Input {
    /// SoR text, `.ltgt`.
    Sor,
    /// CSV with a header line.
    Csv,
    /// Parquet, typed by the files.
    Parquet,
}

/// Collective: reads `dir/file.ltgt` (SoR), `dir/file.csv` or `dir/file.parquet` as
/// `format` says, keeping only the columns `keep` (text: the others are checked but not
/// built; Parquet: the others are not read). Text columns have the SoR type codes
/// `codes` and the names `names`, declared so that a field that does not fit fails the
/// run naming the file, line and column; Parquet files carry their own names and types.
fn load<'n>(
    node: &'n Node,
    (dir, format): (&Path, Input),
    file: &str,
    (codes, names): (&str, &[&str]),
    keep: &[&str],
) -> Result<DistFrame<'n>> {
    let extension = match format {
        Input::Sor => "ltgt",
        Input::Csv => "csv",
        Input::Parquet => "parquet",
    };
    let path = dir.join(format!("{file}.{extension}"));
    let options = match format {
        Input::Parquet => ReadOptions::new().columns(keep),
        _ => {
            let schema = Schema::from_codes(codes)?.with_names(names)?;
            ReadOptions::new().schema(schema).columns(keep)
        }
    };
    DistFrame::read_with(node, &path, &options)
}

/// An integer value of either width as i64 (Parquet files may hold pid as I64).
fn int(value: Option<Value<'_>>) -> Option<i64> {
    match value? {
        Value::Int(i) => Some(i.into()),
        Value::I64(i) => Some(i),
        _ => None,
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    args.console.install();
    eau2::run(|node| {
        let started = Instant::now();
        let format = if args.csv { Input::Csv } else { args.format };
        let from = (args.data.as_path(), format);
        let names = ["pid", "author", "committer"];
        // Only pid is used: the other columns are only scanned for their ends.
        let commits = load(node, from, "commits", ("III", &names), &["pid"])?;
        let names = ["pid", "name"];
        let projects = load(node, from, "projects", ("IS", &names), &names)?;

        let by = ["count", "pid"];
        let counts = commits.group_by(&["pid"])?.agg(&[Agg::count()])?;
        // The top N before the join: the same N rows as joining first (a left join
        // keeps every count), but only N rows go through the join.
        let top = counts.top_k(args.top, &by, &[true, false])?;
        let named = top.join(&projects, &["pid"], JoinKind::Left)?;
        let named = named.top_k(args.top, &by, &[true, false])?.to_local()?;
        if node.rank() == 0 {
            for row in 0..named.nrows() {
                let count = named.get_as::<i64>("count", row)?.unwrap_or(0);
                let pid = int(named.get("pid", row)?).unwrap_or(-1);
                let name = named.get_as::<&[u8]>("name", row)?.unwrap_or_default();
                println!("{count} {pid} {}", String::from_utf8_lossy(name));
            }
            if !args.console.quiet {
                eprintln!(
                    "top-projects: {} commits, {} projects, {} ranks, {:.3} s",
                    commits.nrows(),
                    projects.nrows(),
                    node.size(),
                    started.elapsed().as_secs_f64()
                );
            }
        }
        Ok(())
    })
}
