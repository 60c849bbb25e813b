//! Program 2: how many users authored commits in 1, 2, 3, ... distinct projects, as
//! `PROJECTS USERS` lines by number of projects. Polars twin:
//! bench/polars/programs/projects_per_user.py.
//! Run: `eau2-launch -n 4 target/debug/examples/projects_per_user [DATA_DIR]`

use std::env::args;

use eau2::table::{Agg, DistFrame, ReadOptions};

fn main() -> std::process::ExitCode {
    let dir = args().nth(1).unwrap_or("datasets/git-small".into());
    eau2::run(|node| {
        let names = ReadOptions::new().names(&["pid", "author", "committer"]);
        let commits = DistFrame::read_with(node, format!("{dir}/commits.ltgt"), &names)?;
        // Distinct (author, pid) pairs, then a count per author: faster than
        // Agg::count_distinct with many groups.
        let pairs = commits.select(&["author", "pid"])?.distinct()?;
        let per_user = pairs.group_by(&["author"])?.agg(&[Agg::count_of("pid")])?;
        let hist = per_user.group_by(&["pid_count"])?.agg(&[Agg::count()])?;
        hist.sort_by(&["pid_count"], &[false])?.print()
    })
}
