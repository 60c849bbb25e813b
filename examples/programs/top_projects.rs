//! Issue 9, program 1: the 10 projects with the most commits, as `COUNT PID NAME`, by
//! count descending, ties by pid ascending. Polars version: bench/polars/programs/top_projects.py.
//! Run: `eau2-launch -n 4 target/debug/examples/top_projects [DATA_DIR]`

use std::path::PathBuf;

use eau2::table::{Agg, DistFrame, JoinKind};

fn main() -> std::process::ExitCode {
    let default = concat!(env!("CARGO_MANIFEST_DIR"), "/datasets/git-small");
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or(default.into()));
    eau2::run(|node| {
        let commits = DistFrame::read_sor(
            node,
            &dir.join("commits.ltgt"),
            &["pid", "author", "committer"],
        )?;
        let projects = DistFrame::read_sor(node, &dir.join("projects.ltgt"), &["pid", "name"])?;
        let counts = commits.group_by(&["pid"])?.agg(&[Agg::count()])?;
        let named = counts.join(&projects, &["pid"], JoinKind::Left)?;
        named
            .top_k(10, &["count", "pid"], &[true, false])?
            .select(&["count", "pid", "name"])?
            .print()
    })
}
