//! Program 4: the commits whose committer is not their author, with both names, sorted
//! by pid, author name, committer name, saved to one CSV file
//! (`pid,author_name,committer_name`) with `write_csv`; prints the number of rows saved.
//! Polars twin: bench/polars/programs/filter_join_sort_save.py.
//! Run: `eau2-launch -n 4 target/debug/examples/filter_join_sort_save [DATA_DIR] [OUT_CSV]`

use std::env::args;

use eau2::frame::CsvWriteOptions;
use eau2::table::{DistFrame, JoinKind, ReadOptions};

fn main() -> std::process::ExitCode {
    let dir = args().nth(1).unwrap_or("datasets/git-small".into());
    let out = args().nth(2).unwrap_or("filter_join_sort_save.csv".into());
    eau2::run(|node| {
        let names = ReadOptions::new().names(&["pid", "a", "c"]);
        let commits = DistFrame::read_with(node, format!("{dir}/commits.ltgt"), &names)?;
        let names = ReadOptions::new().names(&["uid", "name"]);
        let users = DistFrame::read_with(node, format!("{dir}/users.ltgt"), &names)?;
        let other = commits.filter(|row| Ok(row.get_as::<i32>("a")? != row.get_as::<i32>("c")?))?;
        let named = other.join_on(&users, &["a"], &["uid"], JoinKind::Inner)?;
        let named = named.join_on(&users, &["c"], &["uid"], JoinKind::Inner)?;
        let named = named.rename(&[("name", "author_name"), ("name_right", "committer_name")])?;
        let cols = ["pid", "author_name", "committer_name"];
        let saved = named.select(&cols)?.sort_by(&cols, &[false])?;
        saved.write_csv(out.as_ref(), &CsvWriteOptions::new())?;
        if node.rank() == 0 {
            println!("{} rows saved", saved.nrows());
        }
        Ok(())
    })
}
