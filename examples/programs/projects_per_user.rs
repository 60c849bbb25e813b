//! Program 2: how many users authored commits in 1, 2, 3, ... distinct projects, as
//! `PROJECTS USERS` lines by number of projects. Polars twin:
//! bench/polars/programs/projects_per_user.py.
//! Run: `eau2-launch -n 4 target/debug/examples/projects_per_user [DATA_DIR]`

use std::path::PathBuf;

use eau2::frame::Schema;
use eau2::kv::Key;
use eau2::sor::SorReader;
use eau2::table::{Agg, DistFrame};

fn main() -> std::process::ExitCode {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or("datasets/git-small".into()),
    );
    eau2::run(|node| {
        let schema = Schema::from_codes("III")?.with_names(&["pid", "author", "committer"])?;
        let reader = SorReader::new().schema(schema).strict(true);
        let (commits, _) = DistFrame::load_sor(
            node,
            &Key::new("commits", 0),
            &dir.join("commits.ltgt"),
            &reader,
        )?;
        let pairs = commits.select(&["author", "pid"])?.distinct()?;
        let per_user = pairs
            .group_by(&["author"])?
            .agg(&[Agg::count().alias("projects")])?;
        let hist = per_user
            .group_by(&["projects"])?
            .agg(&[Agg::count().alias("users")])?;
        hist.sort_by(&["projects"], &[false])?.print()
    })
}
