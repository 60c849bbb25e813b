//! Issue 9, program 2: how many users authored commits in 1, 2, 3, ... distinct projects,
//! as `PROJECTS USERS` lines by number of projects. Polars version:
//! bench/polars/programs/projects_per_user.py.
//! Run: `eau2-launch -n 4 target/debug/examples/projects_per_user [DATA_DIR]`

use std::path::PathBuf;

use eau2::table::{Agg, DistFrame};

fn main() -> std::process::ExitCode {
    let default = concat!(env!("CARGO_MANIFEST_DIR"), "/datasets/git-small");
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or(default.into()));
    eau2::run(|node| {
        let commits = DistFrame::read_sor(
            node,
            &dir.join("commits.ltgt"),
            &["pid", "author", "committer"],
        )?;
        let per_user = commits
            .group_by(&["author"])?
            .agg(&[Agg::count_distinct("pid").alias("projects")])?;
        let hist = per_user
            .group_by(&["projects"])?
            .agg(&[Agg::count().alias("users")])?;
        hist.sort_by(&["projects"], &[false])?.print()
    })
}
