//! docs/frames.md: load a SoR file collectively, then local_map, filter and map.
//! Run from the repository's root:
//! `target/debug/eau2-launch -n 3 target/debug/examples/guide_commits [DATA_DIR]`

use std::path::PathBuf;
use std::process::ExitCode;

use eau2::frame::{Row, Rower};
use eau2::kv::Key;
use eau2::table::{DistFrame, ReadOptions};

/// Counts commits per project id (column "pid").
#[derive(Clone)]
struct PerProject(Vec<u64>);

impl Rower for PerProject {
    fn accept(&mut self, row: &Row<'_>) -> bool {
        // A wrong name or type is an error naming the column; `accept` cannot return it,
        // so it stops the program here. `None` is a missing value.
        if let Some(p) = row.get_as::<i32>("pid").expect("pid is an INT column") {
            self.0[p as usize] += 1;
        }
        true
    }

    fn join(&mut self, other: Self) {
        self.0.iter_mut().zip(other.0).for_each(|(a, b)| *a += b);
    }
}

/// Keeps the commits whose committer is not their author.
#[derive(Clone)]
struct CommittedByOther;

impl Rower for CommittedByOther {
    fn accept(&mut self, row: &Row<'_>) -> bool {
        let id = |name| row.get_as::<i32>(name).expect("user ids are INT columns");
        id("author") != id("committer")
    }

    fn join(&mut self, _other: Self) {}
}

/// Remembers the first `n` rows it visits.
struct FirstRows(usize, Vec<String>);

impl Rower for FirstRows {
    fn accept(&mut self, row: &Row<'_>) -> bool {
        if self.1.len() < self.0 {
            let ids: Vec<String> = (0..row.width())
                .map(|c| format!("{:?}", row.get_as::<i32>(c).expect("INT columns")))
                .collect();
            let line = format!("row {}: {}", row.index(), ids.join(" "));
            self.1.push(line);
        }
        true
    }

    fn join(&mut self, other: Self) {
        self.1.extend(other.1);
    }
}

fn main() -> ExitCode {
    eau2::run(|node| {
        let dir = std::env::args()
            .nth(1)
            .map_or(PathBuf::from("datasets/git-small"), PathBuf::from);

        // Every rank parses its own part of the file; no row crosses the network. SoR
        // files have no header: the options name the columns (else c0, c1, ...).
        let options = ReadOptions::new()
            .names(&["pid", "author", "committer"])
            .chunk_len(16_384);
        let commits = DistFrame::read_with(node, dir.join("commits.ltgt"), &options)?;
        let deviations = commits.deviations();

        // The small file of project names, under a key of our choice: any rank, or a
        // later stage, can find it again with DistFrame::get(node, &key).
        let key = Key::new("projects", 0);
        let options = ReadOptions::new().names(&["pid", "name"]).key(key);
        let projects = DistFrame::read_with(node, dir.join("projects.ltgt"), &options)?;

        // local_map: each rank counts over the chunks it holds, on all its cores ...
        let mut counts = PerProject(vec![0; projects.nrows() as usize]);
        commits.local_map(&mut counts)?;
        let local_chunks = commits.local_chunks().len();
        // ... and the partial counts are summed across ranks.
        let mut totals = counts.0;
        node.comm().all_reduce_slice(&mut totals, |acc, other| {
            acc.iter_mut().zip(other).for_each(|(a, b)| *a += b)
        })?;
        let chunks_per_rank: Option<Vec<usize>> = node.comm().gather(0, local_chunks)?;

        // filter: a collective that makes a new frame; each rank filters its own chunks.
        let by_others = commits.filter_with(&Key::new("by-others", 0), &CommittedByOther)?;

        if let Some(chunks_per_rank) = chunks_per_rank {
            println!(
                "commits: {} rows, schema {}, {} chunks, per rank {chunks_per_rank:?}, {} deviating rows",
                commits.nrows(),
                commits.schema().codes(),
                commits.chunk_count(),
                deviations.rows
            );
            let mut top: Vec<(u64, usize)> = totals.iter().copied().zip(0..).collect();
            top.sort_unstable_by(|a, b| b.cmp(a));
            for &(count, pid) in &top[..3] {
                let name = projects
                    .get_as::<Vec<u8>>("name", pid as u64)?
                    .unwrap_or_default();
                println!("{count:>6} commits  {}", String::from_utf8_lossy(&name));
            }
            println!("committed by someone else: {} rows", by_others.nrows());
            // map: every row, in order, on this rank (chunks held elsewhere are fetched).
            let mut first = FirstRows(3, Vec::new());
            by_others.map(&mut first)?;
            for line in first.1 {
                println!("  {line}");
            }
        }
        Ok(())
    })
}
