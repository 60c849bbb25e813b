//! `linus`: degrees of collaboration in a users × projects × commits graph.
//!
//! Stage 0 starts from one user. Each stage tags every project in which a user tagged in
//! the previous stage authored a commit, then every user who authored a commit in a newly
//! tagged project. Rank 0 prints the totals tagged so far after each stage.
//!
//! How a run goes (see each module's notes):
//! - [`load`]: every rank reads the lines that begin in its byte piece of each file, in
//!   parallel blocks (`eau2::blocks`), reading only the fields it needs
//!   (`eau2::sor::int_columns`): the
//!   largest id of `projects.ltgt` and `users.ltgt` (and the start user's uid, by name),
//!   and the `(project, author)` pairs of `commits.ltgt`, kept once, as plain vectors.
//! - [`search`]: every stage walks the rank's commits twice ([`edges`]: dense scans of a
//!   list that drops the commits of tagged projects, or sparse walks of an index once
//!   that list is short), and after each walk one all-reduce merges what the ranks found
//!   ([`found`]: id lists while small, bitmaps ([`bits`]) when large).

mod bits;
mod cells;
mod edges;
mod found;
mod load;
mod search;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;

use edges::{Edges, Strategy, Walk};
use load::{Graph, LoadOptions, Start};
use search::{HalfReport, Search};

/// Degrees of collaboration: who is how many projects away from a start user.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Folder holding projects.ltgt, users.ltgt and commits.ltgt.
    #[arg(long, default_value = "datasets/git-small")]
    data: PathBuf,
    /// The start user: a name from users.ltgt, or a numeric uid.
    #[arg(long, default_value = "Linus Torvalds")]
    start: String,
    /// How many stages (degrees) to run.
    #[arg(long, default_value_t = 4)]
    degrees: usize,
    /// Bytes of a file each thread reads and parses at a time.
    #[arg(long, default_value_t = 4 << 20)]
    block_bytes: usize,
    /// How stages walk the commits: dense scans that switch to an index for small
    /// frontiers (auto), dense scans only, or the index always (for tests).
    #[arg(long, value_enum, default_value_t = Strategy::Auto)]
    strategy: Strategy,
    /// Commits are grouped by blocks of 2^BITS project ids (31: no grouping); see the
    /// `cells` module.
    #[arg(long, value_name = "BITS", default_value_t = cells::DEFAULT_BLOCK_BITS)]
    project_cell_bits: u32,
    /// Commits are grouped by blocks of 2^BITS uids (31: no grouping).
    #[arg(long, value_name = "BITS", default_value_t = cells::DEFAULT_BLOCK_BITS)]
    author_cell_bits: u32,
    #[command(flatten)]
    console: eau2_console::ConsoleArgs,
}

/// This process's CPU time (user + system) so far, from `/proc/self/stat` (in clock
/// ticks, which Linux fixes at 100 per second for this interface).
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // The fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

/// This process's peak resident set size (Linux's `VmHWM`), when the OS reports it.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The commits a half-stage walked on this rank: the stage progress counts them as rows.
fn walked(h: &HalfReport) -> u64 {
    match h.walk {
        Walk::Dense { scanned } => scanned as u64,
        Walk::Sparse { visited } => visited as u64,
    }
}

/// A half-stage, in a few words for the progress report.
fn describe(h: &HalfReport) -> String {
    let walk = match h.walk {
        Walk::Dense { scanned } => format!("dense scan of {scanned} commits"),
        Walk::Sparse { visited } => format!("sparse walk of {visited} commits"),
    };
    let form = if h.as_list { "id list" } else { "bitmap" };
    format!(
        "{walk} {:.0} ms, union as {form} {:.0} ms",
        h.walk_time.as_secs_f64() * 1e3,
        h.union_time.as_secs_f64() * 1e3
    )
}

fn main() -> ExitCode {
    let args = Args::parse();
    args.console.install();
    eau2::run(|node| {
        let started = Instant::now();
        let start = Start::parse(&args.start);
        let opts = LoadOptions {
            block_bytes: args.block_bytes,
        };
        let graph = Graph::load(node, &args.data, &start, opts)?;
        let loaded = started.elapsed();
        if node.rank() == 0 {
            eprintln!(
                "linus: loaded {} commits, uids below {}, pids below {} in {:.2} s; start uid {}",
                graph.commits,
                graph.users,
                graph.projects,
                loaded.as_secs_f64(),
                graph.start
            );
            let times: Vec<String> = graph
                .times
                .iter()
                .map(|(file, t)| format!("{file} {:.2} s", t.as_secs_f64()))
                .collect();
            eprintln!(
                "linus: rank 0 read {} (cpu {:.2} s so far)",
                times.join(", "),
                cpu_seconds()
            );
        }
        let grouping = Instant::now();
        let grid = cells::Grid::new(
            graph.users,
            graph.projects,
            args.project_cell_bits,
            args.author_cell_bits,
        );
        let edges = Edges::new(graph.segments, grid, args.strategy);
        if node.rank() == 0 {
            eprintln!(
                "linus: rank 0 grouped its commits into {} cells in {:.0} ms (cpu {:.2} s so far)",
                edges.pieces(),
                grouping.elapsed().as_secs_f64() * 1e3,
                cpu_seconds()
            );
        }
        let mut search = Search::new(edges, graph.users, graph.projects, graph.start);
        for stage in 0..args.degrees {
            let stage_started = Instant::now();
            let _span = tracing::debug_span!(target: "eau2::linus", "linus_stage", stage).entered();
            let label = format!("stage {}/{}", stage + 1, args.degrees);
            let progress = eau2::progress::Progress::rows(node, &label, None);
            let (totals, [to_projects, to_users]) = search.step(node)?;
            progress.add(walked(&to_projects) + walked(&to_users));
            progress.finish();
            if node.rank() == 0 {
                println!(
                    "stage {stage}: {} projects, {} users",
                    totals.projects, totals.users
                );
                eprintln!(
                    "linus: stage {stage} in {:.0} ms (cpu {:.2} s so far): {} new projects ({}), {} new users ({}); rank 0 has {} live commits{}",
                    stage_started.elapsed().as_secs_f64() * 1e3,
                    cpu_seconds(),
                    totals.new_projects,
                    describe(&to_projects),
                    totals.new_users,
                    describe(&to_users),
                    search.live_commits(),
                    if search.indexed() { ", indexed" } else { "" }
                );
            }
        }
        if node.rank() == 0 {
            eprintln!(
                "linus: load {:.2} s, compute {:.2} s",
                loaded.as_secs_f64(),
                (started.elapsed() - loaded).as_secs_f64()
            );
        }
        if let Some(kib) = peak_rss_kib() {
            eprintln!("linus: rank {} peak RSS {} MiB", node.rank(), kib / 1024);
        }
        Ok(())
    })
}
