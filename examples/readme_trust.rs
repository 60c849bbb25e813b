//! The safe short program shown in README.md ("Data you can trust"), kept here so that
//! `cargo test` compiles it and tests/docs_examples.rs checks the quote:
//! `eau2-launch -n 3 target/debug/examples/readme_trust`.

use eau2::table::{Agg, DistFrame, ReadOptions};

fn main() -> std::process::ExitCode {
    eau2::run(|node| {
        let names = ReadOptions::new().names(&["pid", "author", "committer"]);
        let commits = DistFrame::read_with(node, "datasets/git-small/commits.ltgt", &names)?;
        let per_author = commits.group_by(&["author"])?;
        let projects = per_author.agg(&[Agg::count_distinct("pid").alias("projects")])?;
        projects
            .top_k(3, &["projects", "author"], &[true, false])?
            .print()
    })
}
