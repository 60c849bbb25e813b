//! `linus`: degrees of collaboration in a users × projects × commits graph.
//!
//! Stage 0 starts from one user. Each stage tags every project in which a user tagged in
//! the previous stage authored a commit, then every user who authored a commit in a newly
//! tagged project. Rank 0 prints the totals tagged so far after each stage.
//!
//! Every rank parses its own byte range of `commits.ltgt` and keeps those rows at home;
//! each stage is two scans of the local rows on all cores, each followed by an
//! all-reduce of the newly tagged set (a bitmap) so that every rank knows it.

mod data;
mod stages;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;

use data::{resolve_start, Graph};
use stages::Search;

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
    /// Rows per chunk of the loaded frames.
    #[arg(long, default_value_t = eau2::frame::DEFAULT_CHUNK_LEN)]
    chunk_rows: usize,
}

fn main() -> ExitCode {
    let args = Args::parse();
    eau2::run(|node| {
        let started = Instant::now();
        let graph = Graph::load(node, &args.data, args.chunk_rows)?;
        let start = resolve_start(node, &args.data, &args.start, graph.users)?;
        let loaded = started.elapsed();
        if node.rank() == 0 {
            eprintln!(
                "linus: loaded {} commits, {} users, {} projects in {:.2} s; start uid {start}",
                graph.commits.nrows(),
                graph.users,
                graph.projects,
                loaded.as_secs_f64()
            );
        }
        let mut search = Search::new(&graph, start);
        for stage in 0..args.degrees {
            let totals = search.step(node)?;
            if node.rank() == 0 {
                println!(
                    "stage {stage}: {} projects, {} users",
                    totals.projects, totals.users
                );
                eprintln!(
                    "linus: stage {stage} done: {} new projects, {} new users, {} local commit rows scanned twice",
                    totals.new_projects, totals.new_users, search.local_rows()
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
        Ok(())
    })
}
