//! `linus`: degrees of collaboration in a users × projects × commits graph.
//!
//! Stage 0 starts from one user. Each stage tags every project in which a user tagged in
//! the previous stage authored a commit, then every user who authored a commit in a newly
//! tagged project. Rank 0 prints the totals tagged so far after each stage.
//!
//! Each rank loads its share of the commits ([`load`], through the library's block
//! reader for SoR or its Parquet reader, only the two id columns it needs) and groups
//! them into cells of nearby ids
//! ([`cells`]). Every half-stage walks the rank's commits ([`edges`]: dense scans of a
//! list that drops the commits of tagged projects, or sparse walks of an index once that
//! list is short), then the ranks take the union of what they found (`eau2::set`).

mod cells;
mod edges;
mod load;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use eau2::set::{self, IdSet};

use edges::{Direction, Edges, Strategy};
use load::{DataFormat, Graph, LoadOptions, Start};

/// Degrees of collaboration: who is how many projects away from a start user.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Folder holding projects.ltgt, users.ltgt and commits.ltgt (or, with `--format
    /// parquet`, projects.parquet, users.parquet and commits.parquet).
    #[arg(long, default_value = "datasets/git-small")]
    data: PathBuf,
    /// The data folder's files: SoR (.ltgt) or Parquet (columns pid, name / uid, name /
    /// pid, author, committer).
    #[arg(long, value_enum, default_value_t = DataFormat::Sor)]
    format: DataFormat,
    /// The start user: a name from the users file, or a numeric uid.
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
    /// Commits are grouped by blocks of 2^BITS project ids (31: no grouping).
    #[arg(long, value_name = "BITS", default_value_t = cells::DEFAULT_BLOCK_BITS)]
    project_cell_bits: u32,
    /// Commits are grouped by blocks of 2^BITS uids (31: no grouping).
    #[arg(long, value_name = "BITS", default_value_t = cells::DEFAULT_BLOCK_BITS)]
    author_cell_bits: u32,
    #[command(flatten)]
    console: eau2_console::ConsoleArgs,
}

/// Milliseconds since `t`, for the log.
fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

fn main() -> ExitCode {
    let args = Args::parse();
    args.console.install();
    eau2::run(|node| {
        let started = Instant::now();
        let opts = LoadOptions {
            block_bytes: args.block_bytes,
            format: args.format,
        };
        let graph = Graph::load(node, &args.data, &Start::parse(&args.start), opts)?;
        let (loaded, rank0) = (started.elapsed(), node.rank() == 0);
        if rank0 {
            let (c, u, p, s) = (graph.commits, graph.users, graph.projects, graph.start);
            eprintln!(
                "linus: {c} commits, uids below {u}, pids below {p}, start uid {s}; rank 0 read {}",
                graph.times.join(", ")
            );
        }
        let (cell_bits, uid_bits) = (args.project_cell_bits, args.author_cell_bits);
        let grid = cells::Grid::new(graph.users, graph.projects, cell_bits, uid_bits);
        let mut edges = Edges::new(graph.segments, grid, args.strategy);
        // Tagged so far, the same on every rank; bitmaps, as every commit looks them up.
        let (mut users, mut projects) = (
            IdSet::new_bitmap(graph.users)?,
            IdSet::new_bitmap(graph.projects)?,
        );
        let mut frontier = IdSet::from_ids(graph.users, vec![graph.start as u32])?;
        users.union_with(&frontier)?;
        for stage in 0..args.degrees {
            let (stage_started, mut log) = (Instant::now(), Vec::new());
            let _span = tracing::debug_span!(target: "eau2::linus", "linus_stage", stage).entered();
            let label = format!("stage {}/{}", stage + 1, args.degrees);
            let progress = eau2::progress::Progress::rows(node, &label, None);
            // A half-stage: this rank's walk, then the union of what every rank found,
            // which is all new (every rank skips tagged ids).
            let mut half = |dir, frontier: &IdSet, tagged: &mut IdSet| -> eau2::Result<IdSet> {
                let walk_started = Instant::now();
                let (local, walk) = edges.expand(dir, frontier, tagged)?;
                let (walked, union_started) = (ms(walk_started), Instant::now());
                progress.add(walk.commits as u64);
                let found = set::union(node, &local)?;
                tagged.union_with(&found)?;
                let how = ["dense scan", "sparse walk"][usize::from(walk.sparse)];
                let form = ["bitmap", "id list"][usize::from(found.is_list())];
                let (n, c) = (found.len(), walk.commits);
                log.push(format!(
                    "{n} new ({how} of {c} commits {walked:.0} ms, union as {form} {:.0} ms)",
                    ms(union_started)
                ));
                Ok(found)
            };
            let new_projects = half(Direction::UsersToProjects, &frontier, &mut projects)?;
            frontier = half(Direction::ProjectsToUsers, &new_projects, &mut users)?;
            progress.finish();
            if rank0 {
                println!(
                    "stage {stage}: {} projects, {} users",
                    projects.len(),
                    users.len()
                );
                let (took, live) = (ms(stage_started), edges.live());
                eprintln!("linus: stage {stage} in {took:.0} ms: projects {}, users {}; rank 0 has {live} live commits", log[0], log[1]);
            }
        }
        if rank0 {
            let compute = (started.elapsed() - loaded).as_secs_f64();
            eprintln!(
                "linus: load {:.2} s, compute {compute:.2} s",
                loaded.as_secs_f64()
            );
        }
        eprintln!(
            "linus: rank {} peak RSS {} MiB",
            node.rank(),
            eau2::stats::peak_rss_bytes() >> 20
        );
        Ok(())
    })
}
