//! `linus`: degrees of collaboration in a users × projects × commits graph.
//!
//! Stage 0 starts from one user. Each stage tags every project in which a user tagged in
//! the previous stage authored a commit, then every user who authored a commit in a newly
//! tagged project. Rank 0 prints the totals tagged so far after each stage.
//!
//! Each rank loads its share of the commits ([`load`]) and groups them into cells of
//! nearby ids ([`cells`]). Every stage walks the rank's commits twice ([`edges`]: dense
//! scans of a list that drops the commits of tagged projects, or sparse walks of an
//! index once that list is short), and after each walk the ranks take the union of what
//! they found with `eau2::set::union` ([`search`]).

mod cells;
mod edges;
mod fields;
mod lines;
mod load;
mod search;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;

use edges::{Edges, Strategy};
use load::{Graph, LoadOptions, Start};
use search::{Half, Search};

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

/// A half-stage in a few words, for the log.
fn describe(h: &Half) -> String {
    let ((walk, walked), (found, list, merged)) = (h.walk, h.union);
    let how = if walk.sparse {
        "sparse walk"
    } else {
        "dense scan"
    };
    let form = if list { "id list" } else { "bitmap" };
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
    format!(
        "{found} new ({how} of {} commits {:.0} ms, union as {form} {:.0} ms)",
        walk.commits,
        ms(walked),
        ms(merged)
    )
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
        let grid = cells::Grid::new(
            graph.users,
            graph.projects,
            args.project_cell_bits,
            args.author_cell_bits,
        );
        let edges = Edges::new(graph.segments, grid, args.strategy);
        let mut search = Search::new(edges, graph.users, graph.projects, graph.start)?;
        if node.rank() == 0 {
            eprintln!(
                "linus: loaded {} commits, uids below {}, pids below {} in {:.2} s; start uid {}; rank 0 has {} cells",
                graph.commits, graph.users, graph.projects, loaded.as_secs_f64(), graph.start, search.edges.pieces()
            );
            let times: Vec<String> = graph
                .times
                .iter()
                .map(|(file, t)| format!("{file} {:.2} s", t.as_secs_f64()))
                .collect();
            eprintln!("linus: rank 0 read {}", times.join(", "));
        }
        for stage in 0..args.degrees {
            let stage_started = Instant::now();
            let _span = tracing::debug_span!(target: "eau2::linus", "linus_stage", stage).entered();
            let progress = eau2::progress::Progress::rows(
                node,
                &format!("stage {}/{}", stage + 1, args.degrees),
                None,
            );
            let [to_projects, to_users] = search.step(node)?;
            progress.add((to_projects.walk.0.commits + to_users.walk.0.commits) as u64);
            progress.finish();
            if node.rank() == 0 {
                println!(
                    "stage {stage}: {} projects, {} users",
                    search.projects.len(),
                    search.users.len()
                );
                eprintln!(
                    "linus: stage {stage} in {:.0} ms: projects {}, users {}; rank 0 has {} live commits",
                    stage_started.elapsed().as_secs_f64() * 1e3,
                    describe(&to_projects),
                    describe(&to_users),
                    search.edges.live()
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
        let peak = eau2::stats::peak_rss_bytes() >> 20;
        eprintln!("linus: rank {} peak RSS {peak} MiB", node.rank());
        Ok(())
    })
}
