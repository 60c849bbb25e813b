//! Program 4: the commits whose committer is not their author, with both names, sorted
//! by pid, author name, committer name, saved to one CSV file
//! (`pid,author_name,committer_name`) with `write_csv`; prints the number of rows saved.
//! Polars twin: bench/polars/programs/filter_join_sort_save.py.
//! Run: `eau2-launch -n 4 target/debug/examples/filter_join_sort_save [DATA_DIR] [OUT_CSV]`

use std::path::PathBuf;

use eau2::frame::{CsvWriteOptions, Schema};
use eau2::kv::Key;
use eau2::sor::SorReader;
use eau2::table::{DistFrame, JoinKind};

fn main() -> std::process::ExitCode {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or("datasets/git-small".into()),
    );
    let out = std::env::args()
        .nth(2)
        .unwrap_or("filter_join_sort_save.csv".into());
    eau2::run(|node| {
        let schema = Schema::from_codes("III")?.with_names(&["pid", "a", "c"])?;
        let reader = SorReader::new().schema(schema).strict(true);
        let (commits, _) = DistFrame::load_sor(
            node,
            &Key::new("commits", 0),
            &dir.join("commits.ltgt"),
            &reader,
        )?;
        let schema = Schema::from_codes("IS")?.with_names(&["uid", "name"])?;
        let reader = SorReader::new().schema(schema).strict(true);
        let (users, _) = DistFrame::load_sor(
            node,
            &Key::new("users", 0),
            &dir.join("users.ltgt"),
            &reader,
        )?;
        let other = commits.filter(|row| Ok(row.get_int("a")? != row.get_int("c")?))?;
        let named = other.join_on(&users, &["a"], &["uid"], JoinKind::Inner)?;
        let named = named.join_on(&users, &["c"], &["uid"], JoinKind::Inner)?;
        let text = |s: Option<&[u8]>| String::from_utf8_lossy(s.unwrap_or_default()).into_owned();
        let named = named.with_column("author_name", |r| Ok(text(r.get_str("name")?)))?;
        let named = named.with_column("committer_name", |r| Ok(text(r.get_str("name_right")?)))?;
        let cols = ["pid", "author_name", "committer_name"];
        let saved = named.select(&cols)?.sort_by(&cols, &[false])?;
        saved.write_csv(out.as_ref(), &CsvWriteOptions::new())?;
        if node.rank() == 0 {
            println!("{} rows saved", saved.nrows());
        }
        Ok(())
    })
}
