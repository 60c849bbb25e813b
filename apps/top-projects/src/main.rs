//! top-projects: the N projects with the most commits, one per line as `COUNT PID NAME`,
//! by count descending, ties by pid ascending.
//!
//! It reads like the polars program it mirrors: load the commits (pid, author, committer)
//! and the projects (pid, name), count commits per pid with a group-by, join the counts
//! with the names, keep the top N. Every step is distributed: each rank parses its part
//! of each file, counts its own rows before the counts are exchanged by pid, and offers
//! its own best N to the final top-N.
//!
//! `eau2-launch -n 4 target/release/top-projects [--data DIR] [--top N] [--quiet] [--stats]`

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use eau2::kv::Key;
use eau2::sor::SorReader;
use eau2::table::{Agg, DistFrame, JoinKind};

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
    /// `--quiet` (no progress, no timing line on standard error) and `--stats`.
    #[command(flatten)]
    console: eau2::console::ConsoleArgs,
}

fn main() -> ExitCode {
    let args = Args::parse();
    args.console.install();
    eau2::run(|node| {
        let started = Instant::now();
        let reader = SorReader::new();
        let load = |name: &str| {
            let path = args.data.join(format!("{name}.ltgt"));
            DistFrame::load_sor(node, &Key::new(name, 0), &path, &reader).map(|(f, _)| f)
        };
        // Columns without a header are named c0, c1, ...: pid is c0 in both files.
        let commits = load("commits")?;
        let projects = load("projects")?;

        let counts = commits.group_by(&["c0"])?.agg(&[Agg::count()])?;
        let named = counts.join(&projects, &["c0"], JoinKind::Left)?;
        let top = named.top_k(args.top, &["count", "c0"], &[true, false])?;

        let top = top.to_local()?; // at most N rows
        if node.rank() == 0 {
            for row in 0..top.nrows() {
                let count = top.get_i64("count", row)?.unwrap_or(0);
                let pid = top.get_int("c0", row)?.unwrap_or(-1);
                let name = top.get_str("c1", row)?.unwrap_or_default();
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
