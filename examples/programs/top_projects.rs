//! Program 1: the 10 projects with the most commits, as `COUNT PID NAME`, by count
//! descending, ties by pid ascending. Polars twin: bench/polars/programs/top_projects.py.
//! Run: `eau2-launch -n 4 target/debug/examples/top_projects [DATA_DIR]`

use std::path::PathBuf;

use eau2::frame::Schema;
use eau2::kv::Key;
use eau2::sor::SorReader;
use eau2::table::{Agg, DistFrame, JoinKind};

fn main() -> std::process::ExitCode {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or("datasets/git-small".into()),
    );
    eau2::run(|node| {
        // Declared types, strict: a commits file ordered by pid still reads right.
        let schema = Schema::from_codes("III")?.with_names(&["pid", "author", "committer"])?;
        let reader = SorReader::new().schema(schema).strict(true);
        let (commits, _) = DistFrame::load_sor(
            node,
            &Key::new("commits", 0),
            &dir.join("commits.ltgt"),
            &reader,
        )?;
        let schema = Schema::from_codes("IS")?.with_names(&["pid", "name"])?;
        let reader = SorReader::new().schema(schema).strict(true);
        let (projects, _) = DistFrame::load_sor(
            node,
            &Key::new("projects", 0),
            &dir.join("projects.ltgt"),
            &reader,
        )?;
        let counts = commits.group_by(&["pid"])?.agg(&[Agg::count()])?;
        let named = counts.join(&projects, &["pid"], JoinKind::Left)?;
        let top = named.top_k(10, &["count", "pid"], &[true, false])?;
        top.select(&["count", "pid", "name"])?.print()
    })
}
