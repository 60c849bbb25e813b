//! Program 5: the Linus stages with operators only. Stage k tags every project in which
//! a user tagged at stage k - 1 authored a commit (stage 0: "Linus Torvalds" alone),
//! then every user who authored a commit in a newly tagged project. Each stage keeps
//! only what is new (anti joins on the one column needed, before the distinct, so that
//! it sees few rows once most are known), so it works on the new users and projects
//! alone (`new_u`, `new_p`: the users and projects first tagged at this stage).
//! Prints `STAGE PROJECTS USERS` (totals so far) for stages 0 to 3. Polars twin:
//! bench/polars/programs/linus.py.
//! Run: `eau2-launch -n 4 target/debug/examples/linus [DATA_DIR]`

use std::env::args;

use eau2::table::{DistFrame, ReadOptions};

fn main() -> std::process::ExitCode {
    let dir = args().nth(1).unwrap_or("datasets/git-small".into());
    eau2::run(|node| {
        let names = ReadOptions::new().names(&["pid", "author", "committer"]);
        let commits = DistFrame::read_with(node, format!("{dir}/commits.ltgt"), &names)?;
        let names = ReadOptions::new().names(&["uid", "name"]);
        let users = DistFrame::read_with(node, format!("{dir}/users.ltgt"), &names)?;
        let linus = users.filter(|r| Ok(r.get_as::<&[u8]>("name")? == Some(b"Linus Torvalds")))?;
        let mut new_u = linus.select(&["uid"])?.rename(&[("uid", "author")])?;
        let mut users = new_u.select(&["author"])?;
        let mut projects = commits.select(&["pid"])?.head(0)?;
        for stage in 0..4 {
            let tagged = commits.semi_join(&new_u, &["author"])?.select(&["pid"])?;
            let new_p = tagged.anti_join(&projects, &["pid"])?.distinct()?;
            projects = DistFrame::concat(&[&projects, &new_p])?;
            let tagged = commits.semi_join(&new_p, &["pid"])?.select(&["author"])?;
            new_u = tagged.anti_join(&users, &["author"])?.distinct()?;
            users = DistFrame::concat(&[&users, &new_u])?;
            if node.rank() == 0 {
                println!("{stage} {} {}", projects.nrows(), users.nrows());
            }
        }
        Ok(())
    })
}
