//! Loading a collaboration graph: each file read once, each rank its own share, and only
//! what the search needs kept.
//!
//! - `projects.ltgt` and `users.ltgt` are scanned, never stored: the search needs only
//!   the bound of each id space (one more than the largest id) and the start user's uid,
//!   found by name in the same pass over `users.ltgt`.
//! - `commits.ltgt` is parsed into plain `(project, author)` pairs, one vector per block
//!   of the file (the committer column is skipped unread). Those vectors are the only
//!   copy of the commits the rank ever holds.
//!
//! Each file is read through the library's block reader (`eau2::blocks::BlockReader`:
//! the lines beginning in this rank's byte part, in parallel blocks, each mapped and
//! unmapped in turn, the file checked unchanged at the end) and its id columns parsed by
//! `eau2::sor::int_columns`, which reads only the asked-for columns of a block.
//!
//! Everything a rank learns from its share (maxima, counts, the start uid) is merged in a
//! single all-reduce, after which every rank checks the same facts and fails with the
//! same message.

use std::path::Path;
use std::time::{Duration, Instant};

use eau2::blocks::{count_newlines, BlockReader, RecordFault, Records};
use eau2::sor::{field_text, int_columns, int_rows, FileIdentity};
use eau2::{Error, Node, Result};
use memchr::memmem;
use speedy::{Readable, Writable};

/// One commit, as the search needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Commit {
    /// The project's id.
    pub project: u32,
    /// The author's uid.
    pub author: u32,
}

/// How the start user is named on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Start {
    /// A uid.
    Uid(usize),
    /// A name to look up in `users.ltgt`.
    Name(String),
}

impl Start {
    /// A number is a uid; anything else is a name.
    pub fn parse(text: &str) -> Start {
        match text.trim().parse::<usize>() {
            Ok(uid) => Start::Uid(uid),
            Err(_) => Start::Name(text.to_string()),
        }
    }
}

/// A loaded graph: this rank's commits and what every rank knows about the id spaces.
pub struct Graph {
    /// This rank's commits, one vector per block of `commits.ltgt` it read.
    pub segments: Vec<Vec<Commit>>,
    /// One more than the largest uid of `users.ltgt`.
    pub users: usize,
    /// One more than the largest pid of `projects.ltgt`.
    pub projects: usize,
    /// Commits with both ids, over all ranks.
    pub commits: u64,
    /// The start user's uid.
    pub start: usize,
    /// How long this rank took to read each file.
    pub times: Vec<(&'static str, Duration)>,
}

/// What a rank learns from its shares of the three files; merged over ranks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Readable, Writable)]
pub(crate) struct Facts {
    /// Largest pid of the projects.
    pub(crate) projects_max: Option<u32>,
    /// Largest uid of the users.
    pub(crate) users_max: Option<u32>,
    /// Smallest and largest project id among commits.
    pub(crate) commit_projects: Option<(u32, u32)>,
    /// Smallest and largest author id among commits.
    pub(crate) commit_authors: Option<(u32, u32)>,
    /// Commits with both ids.
    pub(crate) commits: u64,
    /// Commits missing an id.
    pub(crate) missing: u64,
    /// The smallest uid named like the start user.
    pub(crate) start: Option<u32>,
}

pub(crate) fn max_opt(a: Option<u32>, b: Option<u32>) -> Option<u32> {
    a.max(b)
}

pub(crate) fn min_opt(a: Option<u32>, b: Option<u32>) -> Option<u32> {
    a.into_iter().chain(b).min()
}

pub(crate) fn range_merge(a: Option<(u32, u32)>, b: Option<(u32, u32)>) -> Option<(u32, u32)> {
    match (a, b) {
        (Some((lo, hi)), Some((lo2, hi2))) => Some((lo.min(lo2), hi.max(hi2))),
        (x, None) | (None, x) => x,
    }
}

impl Facts {
    fn merge(self, o: Facts) -> Facts {
        Facts {
            projects_max: max_opt(self.projects_max, o.projects_max),
            users_max: max_opt(self.users_max, o.users_max),
            commit_projects: range_merge(self.commit_projects, o.commit_projects),
            commit_authors: range_merge(self.commit_authors, o.commit_authors),
            commits: self.commits + o.commits,
            missing: self.missing + o.missing,
            start: min_opt(self.start, o.start),
        }
    }
}

/// What one block of an id table (projects.ltgt, users.ltgt) holds.
#[derive(Clone, Copy, Debug, Default)]
struct TableBlock {
    max: Option<u32>,
    /// The smallest uid whose name is the one searched for.
    named: Option<u32>,
}

/// The fault for the negative id in column `column` of the line at `start`.
fn negative(start: usize, column: usize) -> RecordFault {
    RecordFault::new(start, format!("column {column}: a negative id"))
}

/// Scans a block of `<id> <"name"> ...` lines: the largest id, and the smallest id named
/// `name` if one is given. Every line must have an id.
fn scan_table(
    bytes: &[u8],
    name: Option<&memmem::Finder<'_>>,
) -> std::result::Result<TableBlock, RecordFault> {
    let mut out = TableBlock::default();
    let mut max = None;
    int_rows(bytes, &[0], |start, id| match id[0] {
        Some(v) if v >= 0 => {
            max = max.max(Some(v as u32));
            Ok(())
        }
        Some(_) => Err(negative(start, 0)),
        None => Err(RecordFault::new(start, "a row without its id")),
    })?;
    out.max = max;
    // The name is looked for in the block as a whole and only its hits are read as
    // fields: a scan for one pattern costs far less than reading every name.
    if let Some(finder) = name {
        for hit in finder.find_iter(bytes) {
            let start = memchr::memrchr(b'\n', &bytes[..hit]).map_or(0, |nl| nl + 1);
            let end = memchr::memchr(b'\n', &bytes[hit..]).map_or(bytes.len(), |nl| hit + nl);
            let line = bytes[start..end]
                .strip_suffix(b"\r")
                .unwrap_or(&bytes[start..end]);
            let text = field_text(line, 1).map_err(|m| RecordFault::new(start, m))?;
            if text == Some(finder.needle()) {
                let uid = int_columns(line, &[0])?.values[0].first().copied();
                out.named = min_opt(out.named, uid.map(|u| u as u32));
            }
        }
    }
    Ok(out)
}

/// One block of commits, parsed.
struct CommitBlock {
    commits: Vec<Commit>,
    projects: Option<(u32, u32)>,
    authors: Option<(u32, u32)>,
    missing: u64,
}

pub(crate) fn widen(range: &mut Option<(u32, u32)>, v: u32) {
    *range = Some(match *range {
        Some((lo, hi)) => (lo.min(v), hi.max(v)),
        None => (v, v),
    });
}

/// Parses a block of `<project> <author> ...` lines; later fields are skipped unread.
/// A line missing either id is counted, not kept.
fn parse_commits(bytes: &[u8]) -> std::result::Result<CommitBlock, RecordFault> {
    // Counting lines first sizes the vector exactly: no regrowth copies, no slack.
    let mut out = CommitBlock {
        commits: Vec::with_capacity(count_newlines(bytes) + 1),
        projects: None,
        authors: None,
        missing: 0,
    };
    let (mut pmin, mut pmax, mut amin, mut amax) = (u32::MAX, 0u32, u32::MAX, 0u32);
    int_rows(bytes, &[0, 1], |start, ids| {
        match (ids[0], ids[1]) {
            (Some(p), Some(a)) if p >= 0 && a >= 0 => {
                let (project, author) = (p as u32, a as u32);
                (pmin, pmax) = (pmin.min(project), pmax.max(project));
                (amin, amax) = (amin.min(author), amax.max(author));
                out.commits.push(Commit { project, author });
            }
            _ => {
                if let Some(c) = ids.iter().position(|v| v.is_some_and(|v| v < 0)) {
                    return Err(negative(start, c));
                }
                out.missing += 1;
            }
        }
        Ok(())
    })?;
    if !out.commits.is_empty() {
        widen(&mut out.projects, pmin);
        widen(&mut out.projects, pmax);
        widen(&mut out.authors, amin);
        widen(&mut out.authors, amax);
    }
    Ok(out)
}

/// Collective: an error on every rank unless all ranks opened the same version of each
/// file (a file replaced while they opened it would give each rank a share of another
/// file, and a wrong answer).
fn same_versions(node: &Node, readers: [&BlockReader; 3]) -> Result<()> {
    let mine: Vec<FileIdentity> = readers.iter().map(|r| r.identity()).collect();
    let all: Vec<Vec<FileIdentity>> = node.comm().all_gather(&mine)?;
    for (i, reader) in readers.iter().enumerate() {
        if let Some(other) = all.iter().position(|ids| ids.get(i) != Some(&mine[i])) {
            return Err(Error::App(format!(
                "{}: rank {other} opened another version of the file than rank {} (it was \
                 replaced while the ranks opened it); nothing was computed: run again once \
                 it is no longer being replaced",
                reader.path().display(),
                node.rank()
            )));
        }
    }
    Ok(())
}

/// The files a graph's folder holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DataFormat {
    /// `projects.ltgt`, `users.ltgt`, `commits.ltgt` (SoR, no header).
    Sor,
    /// `projects.parquet` (pid, name), `users.parquet` (uid, name), `commits.parquet`
    /// (pid, author, committer).
    Parquet,
}

impl DataFormat {
    /// The file of `table` ("projects", "users" or "commits") in this format.
    pub fn file(self, table: &str) -> String {
        match self {
            DataFormat::Sor => format!("{table}.ltgt"),
            DataFormat::Parquet => format!("{table}.parquet"),
        }
    }
}

/// How a graph is read.
#[derive(Clone, Copy, Debug)]
pub struct LoadOptions {
    /// Bytes per block of a file (each thread reads one block at a time; SoR only).
    pub block_bytes: usize,
    /// The files' format.
    pub format: DataFormat,
}

/// What a rank read from its shares of the three files, before the ranks merge it.
pub(crate) struct Shares {
    /// What the rank learnt about ids and the start user.
    pub(crate) facts: Facts,
    /// The rank's commits, in pieces.
    pub(crate) segments: Vec<Vec<Commit>>,
    /// How long each file took.
    pub(crate) times: Vec<(&'static str, Duration)>,
}

impl Graph {
    /// Collective: loads the graph in `dir`, each rank its own share of each file, and
    /// checks that the commits name known ids and that the start user exists.
    pub fn load(node: &Node, dir: &Path, start: &Start, opts: LoadOptions) -> Result<Graph> {
        let _span = tracing::debug_span!(target: "eau2::linus", "linus_load", dir = %dir.display())
            .entered();
        let shares = match opts.format {
            DataFormat::Sor => read_sor(node, dir, start, opts)?,
            DataFormat::Parquet => crate::parquet::read(node, dir, start)?,
        };
        let Shares {
            facts,
            segments,
            times,
        } = shares;
        let file = |table| dir.join(opts.format.file(table));
        let facts = node.comm().all_reduce(facts, Facts::merge)?;
        let bound = |max: Option<u32>| max.map_or(0, |m| m as usize + 1);
        let (users, projects) = (bound(facts.users_max), bound(facts.projects_max));
        let path = file("commits");
        let path = path.display();
        for (range, what, limit, table) in [
            (facts.commit_projects, "project", projects, "projects"),
            (facts.commit_authors, "author", users, "users"),
        ] {
            if let Some((lo, hi)) = range {
                if hi as usize >= limit {
                    return Err(Error::App(format!(
                        "{path}: {what} ids range over {lo}..={hi} but {} has ids below {limit}",
                        opts.format.file(table)
                    )));
                }
            }
        }
        if facts.missing > 0 && node.rank() == 0 {
            eprintln!(
                "linus: warning: {path}: {} commits miss a project or author id and are skipped",
                facts.missing
            );
        }
        let start = match start {
            Start::Uid(uid) if *uid < users => *uid,
            Start::Uid(uid) => {
                return Err(Error::App(format!(
                    "start uid {uid} is not a user id ({} has ids below {users})",
                    opts.format.file("users")
                )))
            }
            Start::Name(name) => match facts.start {
                Some(uid) => uid as usize,
                None => {
                    return Err(Error::App(format!(
                        "no user named {name:?} in {}",
                        file("users").display()
                    )))
                }
            },
        };
        Ok(Graph {
            segments,
            users,
            projects,
            commits: facts.commits,
            start,
            times,
        })
    }
}

/// Collective: this rank's shares of the SoR files in `dir`.
fn read_sor(node: &Node, dir: &Path, start: &Start, opts: LoadOptions) -> Result<Shares> {
    let (rank, size) = (node.rank(), node.size());
    // One bar for the three files: every rank parses its piece of each.
    let files = ["projects.ltgt", "users.ltgt", "commits.ltgt"];
    let total = files
        .iter()
        .filter_map(|f| std::fs::metadata(dir.join(f)).ok())
        .map(|m| m.len())
        .sum();
    let progress = eau2::progress::Progress::bytes(node, "load", total);
    let open = |file: &str| -> Result<BlockReader> {
        Ok(BlockReader::open(&dir.join(file), Records::Lines)?
            .for_rank(rank, size)?
            .block_bytes(opts.block_bytes)
            .counting(progress.counter()))
    };
    let mut facts = Facts::default();

    let mut times = Vec::with_capacity(3);
    let clock = Instant::now();
    let projects = open("projects.ltgt")?;
    let users = open("users.ltgt")?;
    let commits = open("commits.ltgt")?;
    same_versions(node, [&projects, &users, &commits])?;
    for b in projects.map_blocks(|bytes| scan_table(bytes, None))? {
        facts.projects_max = max_opt(facts.projects_max, b.max);
    }
    drop(projects);
    times.push(("projects.ltgt", clock.elapsed()));

    let finder = match start {
        Start::Name(name) => Some(memmem::Finder::new(name.as_bytes())),
        Start::Uid(_) => None,
    };
    for b in users.map_blocks(|bytes| scan_table(bytes, finder.as_ref()))? {
        facts.users_max = max_opt(facts.users_max, b.max);
        facts.start = min_opt(facts.start, b.named);
    }
    drop(users);
    times.push(("users.ltgt", clock.elapsed() - times[0].1));

    let mut segments = Vec::new();
    for b in commits.map_blocks(parse_commits)? {
        facts.commit_projects = range_merge(facts.commit_projects, b.projects);
        facts.commit_authors = range_merge(facts.commit_authors, b.authors);
        facts.commits += b.commits.len() as u64;
        facts.missing += b.missing;
        if !b.commits.is_empty() {
            segments.push(b.commits);
        }
    }
    times.push(("commits.ltgt", clock.elapsed() - times[0].1 - times[1].1));
    Ok(Shares {
        facts,
        segments,
        times,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commits_keep_two_ids_and_count_the_missing() {
        let b = parse_commits(b"<1> <2> <2>\n<3> <> <4>\n\n< 5 > <6>\n").unwrap();
        assert_eq!(
            b.commits,
            vec![
                Commit {
                    project: 1,
                    author: 2
                },
                Commit {
                    project: 5,
                    author: 6
                }
            ]
        );
        assert_eq!(
            (b.projects, b.authors, b.missing),
            (Some((1, 5)), Some((2, 6)), 2)
        );
    }

    #[test]
    fn a_bad_commit_field_is_a_fault_at_its_line() {
        let text = b"<1> <2> <2>\n<3> <x> <4>\n";
        let fault = parse_commits(text).err().unwrap();
        assert_eq!(
            fault,
            RecordFault::new(12, "column 1: \"<x>\" is not an INT")
        );
    }

    #[test]
    fn tables_give_their_largest_id_and_the_named_uid() {
        let text = b"<0> <\"Ada\">\n<9> <\"Linus Torvalds\">\n<4> <\"Linus Torvalds 2\">\n<2> <\"Linus Torvalds\">\n";
        let finder = memmem::Finder::new("Linus Torvalds");
        let b = scan_table(text, Some(&finder)).unwrap();
        assert_eq!((b.max, b.named), (Some(9), Some(2)));
        assert!(scan_table(b"<1> <a>\n<> <b>\n", None).is_err());
    }

    #[test]
    fn facts_merge() {
        let a = Facts {
            projects_max: Some(3),
            commit_projects: Some((1, 3)),
            commits: 5,
            start: Some(7),
            ..Facts::default()
        };
        let b = Facts {
            users_max: Some(9),
            commit_projects: Some((0, 2)),
            commits: 1,
            missing: 2,
            ..Facts::default()
        };
        let m = a.merge(b);
        assert_eq!(m.commit_projects, Some((0, 3)));
        assert_eq!(
            (m.projects_max, m.users_max, m.commits, m.missing, m.start),
            (Some(3), Some(9), 6, 2, Some(7))
        );
    }
}
