//! Program 1: the 10 projects with the most commits, as `COUNT PID NAME`, by count
//! descending, ties by pid ascending. Polars twin: bench/polars/programs/top_projects.py.
//! Run: `eau2-launch -n 4 target/debug/examples/top_projects [DATA_DIR]`

use std::env::args;

use eau2::table::{Agg, DistFrame, JoinKind, ReadOptions};

fn main() -> std::process::ExitCode {
    let dir = args().nth(1).unwrap_or("datasets/git-small".into());
    eau2::run(|node| {
        // Safe by default: types from samples of the whole file (a commits file ordered
        // by pid reads right), and a value that fits no type fails naming file and line.
        let names = ReadOptions::new().names(&["pid", "author", "committer"]);
        let commits = DistFrame::read_with(node, format!("{dir}/commits.ltgt"), &names)?;
        let names = ReadOptions::new().names(&["pid", "name"]);
        let projects = DistFrame::read_with(node, format!("{dir}/projects.ltgt"), &names)?;
        let counts = commits.group_by(&["pid"])?.agg(&[Agg::count()])?;
        let named = counts.join(&projects, &["pid"], JoinKind::Left)?;
        let top = named.top_k(10, &["count", "pid"], &[true, false])?;
        top.select(&["count", "pid", "name"])?.print()
    })
}
