//! `linus`: degrees of collaboration in a users × projects × commits graph.
//!
//! Stage 0 starts from one user. Each stage tags every project in which a user tagged in
//! the previous stage authored a commit, then every user who authored a commit in a newly
//! tagged project. Rank 0 prints the totals tagged so far after each stage.
//!
//! Each rank loads its share of the commits ([`load`], through the library's block
//! reader, only the two INT columns it needs) and groups them into cells of nearby ids
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
use load::{Graph, LoadOptions, Start};

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
    /// Commits are grouped by blocks of 2^BITS project ids (31: no grouping).
    #[arg(long, value_name = "BITS", default_value_t = cells::DEFAULT_BLOCK_BITS)]
    project_cell_bits: u32,
    /// Commits are grouped by blocks of 2^BITS uids (31: no grouping).
    #[arg(long, value_name = "BITS", default_value_t = cells::DEFAULT_BLOCK_BITS)]
    author_cell_bits: u32,
    #[command(flatten)]
    console: eau2::console::ConsoleArgs,
}

fn main() -> ExitCode {
    let args = Args::parse();
    args.console.install();
    eau2::run(|node| {
        let started = Instant::now();
        let opts = LoadOptions {
            block_bytes: args.block_bytes,
        };
        let graph = Graph::load(node, &args.data, &Start::parse(&args.start), opts)?;
        let loaded = started.elapsed();
        if node.rank() == 0 {
            let times: Vec<String> = graph
                .times
                .iter()
                .map(|(f, t)| format!("{f} {:.2} s", t.as_secs_f64()))
                .collect();
            eprintln!(
                "linus: {} commits, uids below {}, pids below {}, start uid {}; rank 0 read {}",
                graph.commits,
                graph.users,
                graph.projects,
                graph.start,
                times.join(", ")
            );
        }
        let grid = cells::Grid::new(
            graph.users,
            graph.projects,
            args.project_cell_bits,
            args.author_cell_bits,
        );
        let mut edges = Edges::new(graph.segments, grid, args.strategy);
        // Tagged so far, the same on every rank; bitmaps, as every commit looks them up.
        let mut users = IdSet::new_bitmap(graph.users)?;
        let mut projects = IdSet::new_bitmap(graph.projects)?;
        let mut frontier = IdSet::from_ids(graph.users, vec![graph.start as u32])?;
        users.union_with(&frontier)?;
        for stage in 0..args.degrees {
            let stage_started = Instant::now();
            let _span = tracing::debug_span!(target: "eau2::linus", "linus_stage", stage).entered();
            let progress = eau2::progress::Progress::rows(
                node,
                &format!("stage {}/{}", stage + 1, args.degrees),
                None,
            );
            // A half-stage: this rank's walk, then the union of what every rank found,
            // which is all new (every rank skips tagged ids).
            let mut log = Vec::new();
            let mut half = |dir, frontier: &IdSet, tagged: &mut IdSet| -> eau2::Result<IdSet> {
                let walk_started = Instant::now();
                let (local, walk) = edges.expand(dir, frontier, tagged)?;
                let (walked, union_started) = (walk_started.elapsed(), Instant::now());
                progress.add(walk.commits as u64);
                let found = set::union(node, &local)?;
                tagged.union_with(&found)?;
                log.push(format!(
                    "{} new ({} of {} commits {:.0} ms, union as {} {:.0} ms)",
                    found.len(),
                    if walk.sparse {
                        "sparse walk"
                    } else {
                        "dense scan"
                    },
                    walk.commits,
                    walked.as_secs_f64() * 1e3,
                    if found.is_list() { "id list" } else { "bitmap" },
                    union_started.elapsed().as_secs_f64() * 1e3
                ));
                Ok(found)
            };
            let new_projects = half(Direction::UsersToProjects, &frontier, &mut projects)?;
            frontier = half(Direction::ProjectsToUsers, &new_projects, &mut users)?;
            progress.finish();
            if node.rank() == 0 {
                println!(
                    "stage {stage}: {} projects, {} users",
                    projects.len(),
                    users.len()
                );
                eprintln!(
                    "linus: stage {stage} in {:.0} ms: projects {}, users {}; rank 0 has {} live commits",
                    stage_started.elapsed().as_secs_f64() * 1e3,
                    log[0],
                    log[1],
                    edges.live()
                );
            }
        }
        if node.rank() == 0 {
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
