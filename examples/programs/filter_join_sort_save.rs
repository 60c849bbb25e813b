//! Issue 9, program 4: the commits whose committer is not their author, with both
//! names, sorted by project, author name, committer name, saved to one CSV file
//! (`pid,name,name_right`: author's name, committer's name) with `write_csv`; prints the number of rows saved. Polars
//! version: bench/polars/programs/filter_join_sort_save.py.
//! Run: `eau2-launch -n 4 target/debug/examples/filter_join_sort_save [DATA_DIR] [OUT_CSV]`

use std::path::PathBuf;

use eau2::frame::CsvWriteOptions;
use eau2::table::{DistFrame, JoinKind};

fn main() -> std::process::ExitCode {
    let default = concat!(env!("CARGO_MANIFEST_DIR"), "/datasets/git-small");
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or(default.into()));
    let out = std::env::args()
        .nth(2)
        .unwrap_or("filter_join_sort_save.csv".into());
    eau2::run(|node| {
        let commits = DistFrame::read_sor(node, &dir.join("commits.ltgt"), &["pid", "a", "c"])?;
        let users = DistFrame::read_sor(node, &dir.join("users.ltgt"), &["uid", "name"])?;
        let other = commits.filter(|row| Ok(row.get_int("a")? != row.get_int("c")?))?;
        let named = other
            .join_on(&users, &["a"], &["uid"], JoinKind::Inner)?
            .select(&["pid", "name", "c"])?;
        let named = named.join_on(&users, &["c"], &["uid"], JoinKind::Inner)?;
        let sorted = named
            .sort_by(&["pid", "name", "name_right"], &[false])?
            .select(&["pid", "name", "name_right"])?;
        sorted.write_csv(out.as_ref(), &CsvWriteOptions::new())?;
        if node.rank() == 0 {
            println!("{} rows saved", sorted.nrows());
        }
        Ok(())
    })
}
