//! Loading a collaboration graph: each file read once, each rank its own share, and only
//! what the search needs kept.
//!
//! - `projects` and `users` are scanned, never stored: the search needs only the bound
//!   of each id space (one more than the largest id) and the start user's uid, found by
//!   name in the same pass over `users`.
//! - `commits` is read into plain `(project, author)` pairs, one vector per block of the
//!   file; the committer column is never read. Those vectors are the only copy of the
//!   commits the rank ever holds.
//!
//! SoR files go through the library's block reader (`eau2::table::open_part`: the lines
//! beginning in this rank's byte part, in parallel blocks, each mapped and unmapped in
//! turn, one version of the file on every rank) and `eau2::sor::int_rows`, which parses
//! only the id columns of a line. Parquet files go through `DistFrame::read_with` with a
//! projection, and each rank walks the chunks it holds. Both feed the same rows to
//! [`add_row`], so both formats get the same checks.
//!
//! Everything a rank learns from its share (maxima, counts, the start uid) is merged in a
//! single all-reduce, after which every rank checks the same facts and fails with the
//! same message.

use std::fmt::Display;
use std::path::Path;
use std::time::Instant;

use eau2::blocks::{count_newlines, RecordFault, Records};
use eau2::frame::{Chunk, ChunkData, DataType};
use eau2::progress::Progress;
use eau2::sor::{field_text, int_columns, int_rows};
use eau2::table::{open_part, DistFrame, ReadOptions};
use eau2::{Error, Node, Result};
use memchr::memmem;
use rayon::prelude::*;
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
    /// A name to look up in the users file.
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

/// The files a graph's folder holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DataFormat {
    /// `projects.ltgt`, `users.ltgt`, `commits.ltgt` (SoR, no header).
    Sor,
    /// `projects.parquet` (pid, name), `users.parquet` (uid, name), `commits.parquet`
    /// (pid, author, committer).
    Parquet,
}

/// The three tables of a graph, in the order they are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Table {
    Projects,
    Users,
    Commits,
}

impl Table {
    const ALL: [Table; 3] = [Table::Projects, Table::Users, Table::Commits];

    /// The table's file in `format`.
    fn file(self, format: DataFormat) -> String {
        let table = ["projects", "users", "commits"][self as usize];
        format!("{table}.{}", ["ltgt", "parquet"][format as usize])
    }

    /// The names of the id columns read, as Parquet names them (SoR numbers them).
    fn id_columns(self) -> &'static [&'static str] {
        match self {
            Table::Projects => &["pid"],
            Table::Users => &["uid"],
            Table::Commits => &["pid", "author"],
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

/// A loaded graph: this rank's commits and what every rank knows about the id spaces.
pub struct Graph {
    /// This rank's commits, one vector per block of the commits file it read.
    pub segments: Vec<Vec<Commit>>,
    /// One more than the largest uid of the users file.
    pub users: usize,
    /// One more than the largest pid of the projects file.
    pub projects: usize,
    /// Commits with both ids, over all ranks.
    pub commits: u64,
    /// The start user's uid.
    pub start: usize,
    /// How long this rank took to read each file, as `file time`.
    pub times: Vec<String>,
}

/// What a rank learns from its shares of the three files; merged over blocks and ranks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Readable, Writable)]
struct Facts {
    /// Largest pid of the projects.
    pid_max: Option<u32>,
    /// Largest uid of the users.
    uid_max: Option<u32>,
    /// Largest project id among commits.
    commit_pid_max: Option<u32>,
    /// Largest author id among commits.
    commit_uid_max: Option<u32>,
    /// Commits with both ids.
    commits: u64,
    /// Commits missing an id.
    missing: u64,
    /// The smallest uid named like the start user.
    start: Option<u32>,
}

/// The smaller of two optional ids (`Option::min` takes `None` as the smallest).
fn min_opt(a: Option<u32>, b: Option<u32>) -> Option<u32> {
    a.into_iter().chain(b).min()
}

impl Facts {
    fn merge(self, o: Facts) -> Facts {
        Facts {
            pid_max: self.pid_max.max(o.pid_max),
            uid_max: self.uid_max.max(o.uid_max),
            commit_pid_max: self.commit_pid_max.max(o.commit_pid_max),
            commit_uid_max: self.commit_uid_max.max(o.commit_uid_max),
            commits: self.commits + o.commits,
            missing: self.missing + o.missing,
            start: min_opt(self.start, o.start),
        }
    }
}

/// What one block of a file holds: its facts and, for commits, the commits.
struct Block {
    facts: Facts,
    commits: Vec<Commit>,
}

/// Adds a row of `table`, given its id columns (`None` where missing, `names` for
/// messages), to a block's `facts` and `commits`. A commit missing an id is counted, not
/// kept; a table row must have its id. The error says what is wrong; the caller says
/// where. (The two are separate locals of the caller, not a `Block`: a push that grows
/// the vector would otherwise pin the facts in memory, costing 8% on a projects scan.)
#[inline(always)]
fn add_row<T>(
    (facts, commits): (&mut Facts, &mut Vec<Commit>),
    table: Table,
    ids: &[Option<T>],
    names: &[&str],
) -> Result<(), String>
where
    T: Copy + Display,
    u32: TryFrom<T>,
{
    let id = |c: usize| -> Result<Option<u32>, String> {
        ids[c]
            .map(|v| {
                u32::try_from(v).map_err(|_| {
                    format!(
                        "column {}: {v} is not an id (ids are 0..=4294967295)",
                        names[c]
                    )
                })
            })
            .transpose()
    };
    match table {
        Table::Commits => match (id(0)?, id(1)?) {
            (Some(project), Some(author)) => commits.push(Commit { project, author }),
            _ => facts.missing += 1,
        },
        Table::Projects | Table::Users => {
            let id = id(0)?.ok_or("a row without its id")?;
            let max = match table {
                Table::Projects => &mut facts.pid_max,
                _ => &mut facts.uid_max,
            };
            *max = (*max).max(Some(id));
        }
    }
    Ok(())
}

impl Block {
    /// The block with its commits' count and largest ids set: one pass over the pairs
    /// at the end costs less than keeping them at every row.
    fn counted(mut self) -> Block {
        let max = |(p, a): (u32, u32), c: &Commit| (p.max(c.project), a.max(c.author));
        let (p, a) = self.commits.iter().fold((0, 0), max);
        let (f, some) = (&mut self.facts, !self.commits.is_empty());
        (f.commit_pid_max, f.commit_uid_max) = (some.then_some(p), some.then_some(a));
        f.commits = self.commits.len() as u64;
        self
    }
}

/// Reads one SoR block of `table`; with a `name`, also the smallest id of a line whose
/// second field is that name.
fn sor_block(
    table: Table,
    bytes: &[u8],
    name: Option<&memmem::Finder<'_>>,
) -> std::result::Result<Block, RecordFault> {
    let (mut facts, mut commits) = (Facts::default(), Vec::new());
    if table == Table::Commits {
        // Counting lines first sizes the vector exactly: no regrowth copies, no slack.
        commits.reserve_exact(count_newlines(bytes) + 1);
    }
    let columns: &[usize] = if table == Table::Commits {
        &[0, 1]
    } else {
        &[0]
    };
    int_rows(bytes, columns, |start, ids| {
        add_row((&mut facts, &mut commits), table, ids, &["0", "1"])
            .map_err(|m| RecordFault::new(start, m))
    })?;
    // The name is looked for in the block as a whole and only its hits are read as
    // fields: a scan for one pattern costs far less than reading every name.
    for hit in name.into_iter().flat_map(|f| f.find_iter(bytes)) {
        let start = memchr::memrchr(b'\n', &bytes[..hit]).map_or(0, |nl| nl + 1);
        let end = memchr::memchr(b'\n', &bytes[hit..]).map_or(bytes.len(), |nl| hit + nl);
        let line = bytes[start..end]
            .strip_suffix(b"\r")
            .unwrap_or(&bytes[start..end]);
        let text = field_text(line, 1).map_err(|m| RecordFault::new(start, m))?;
        if text == name.map(|f| f.needle()) {
            let uid = int_columns(line, &[0])?.values[0].first().copied();
            facts.start = min_opt(facts.start, uid.map(|u| u as u32));
        }
    }
    Ok(Block { facts, commits }.counted())
}

/// Reads one row chunk of a Parquet `table` (`chunks`: its id columns, then the names
/// when `name` is given) whose first row is `first_row`.
fn parquet_block(
    table: Table,
    path: &Path,
    first_row: u64,
    chunks: &[std::sync::Arc<Chunk>],
    name: Option<&[u8]>,
) -> Result<Block> {
    let names = table.id_columns();
    let id_chunks = &chunks[..names.len()];
    for (chunk, column) in id_chunks.iter().zip(names) {
        // SoR's typing rule makes a column of only 0s and 1s BOOL, so a small table
        // converted from SoR may hold its ids so.
        if !matches!(
            chunk.dtype(),
            DataType::Bool | DataType::Int | DataType::I64
        ) {
            return Err(Error::App(format!(
                "{}: column {column:?} holds {} values, not integer ids",
                path.display(),
                chunk.dtype()
            )));
        }
    }
    let dense = id_chunks.iter().all(|c| c.validity().all_set());
    let integer = |chunk: &Chunk, r| match chunk.data() {
        _ if !dense && !chunk.validity().get(r) => None,
        ChunkData::Int(v) => Some(i64::from(v[r])),
        ChunkData::I64(v) => Some(v[r]),
        ChunkData::Bool(b) => Some(i64::from(b.get(r))),
        _ => None,
    };
    let rows = chunks[0].len();
    let capacity = if table == Table::Commits { rows } else { 0 };
    let (mut facts, mut commits) = (Facts::default(), Vec::with_capacity(capacity));
    let mut ids = [None; 2];
    for r in 0..rows {
        for (id, chunk) in ids.iter_mut().zip(id_chunks) {
            *id = integer(chunk, r);
        }
        let row = first_row + r as u64;
        add_row(
            (&mut facts, &mut commits),
            table,
            &ids[..names.len()],
            names,
        )
        .map_err(|m| Error::App(format!("{}: row {row}: {m}", path.display())))?;
        if name.is_some() && chunks[names.len()].get_as::<&[u8]>(r) == name {
            facts.start = min_opt(facts.start, ids[0].map(|v| v as u32));
        }
    }
    Ok(Block { facts, commits }.counted())
}

/// Collective: this rank's blocks of `table`'s file `path`.
fn read_table(
    node: &Node,
    path: &Path,
    table: Table,
    name: Option<&str>,
    opts: LoadOptions,
    progress: &Progress,
) -> Result<Vec<Block>> {
    let name = name.filter(|_| table == Table::Users);
    match opts.format {
        DataFormat::Sor => {
            let finder = name.map(memmem::Finder::new);
            let reader = open_part(node, path, Records::Lines)?
                .block_bytes(opts.block_bytes)
                .counting(progress.counter());
            Ok(reader.map_blocks(|bytes| sor_block(table, bytes, finder.as_ref()))?)
        }
        DataFormat::Parquet => {
            // Only the id columns are decoded, and the names only to find the start user.
            let mut columns = table.id_columns().to_vec();
            columns.extend(name.map(|_| "name"));
            let frame = DistFrame::read_with(node, path, &ReadOptions::new().columns(&columns))?;
            progress.add(std::fs::metadata(path).map_or(0, |m| m.len()) / node.size() as u64);
            let local = frame.local_chunks().into_iter().map(|i| {
                let first_row = frame.descriptor().chunks[i].start;
                Ok((first_row, frame.row_chunk(i)?))
            });
            local
                .collect::<Result<Vec<_>>>()?
                .par_iter()
                .map(|(first_row, chunks)| {
                    parquet_block(table, path, *first_row, chunks, name.map(str::as_bytes))
                })
                .collect()
        }
    }
}

impl Graph {
    /// Collective: loads the graph in `dir`, each rank its own share of each file, and
    /// checks that the commits name known ids and that the start user exists.
    pub fn load(node: &Node, dir: &Path, start: &Start, opts: LoadOptions) -> Result<Graph> {
        let _span = tracing::debug_span!(target: "eau2::linus", "linus_load", dir = %dir.display())
            .entered();
        let file = |table: Table| dir.join(table.file(opts.format));
        // One bar for the three files: every rank reads its piece of each.
        let total = Table::ALL
            .iter()
            .filter_map(|&t| std::fs::metadata(file(t)).ok())
            .map(|m| m.len())
            .sum();
        let progress = Progress::bytes(node, "load", total);
        let name = match start {
            Start::Name(name) => Some(name.as_str()),
            Start::Uid(_) => None,
        };
        let (mut facts, mut segments, mut times) = (Facts::default(), Vec::new(), Vec::new());
        for table in Table::ALL {
            let clock = Instant::now();
            for block in read_table(node, &file(table), table, name, opts, &progress)? {
                facts = facts.merge(block.facts);
                if !block.commits.is_empty() {
                    segments.push(block.commits);
                }
            }
            let took = clock.elapsed();
            times.push(format!("{} {took:.2?}", table.file(opts.format)));
        }
        progress.finish();
        let facts = node.comm().all_reduce(facts, Facts::merge)?;
        let bound = |max: Option<u32>| max.map_or(0, |m| m as usize + 1);
        let (users, projects) = (bound(facts.uid_max), bound(facts.pid_max));
        let commits = file(Table::Commits);
        for (max, what, limit, table) in [
            (facts.commit_pid_max, "project", projects, Table::Projects),
            (facts.commit_uid_max, "author", users, Table::Users),
        ] {
            if let Some(max) = max.filter(|&m| m as usize >= limit) {
                return Err(Error::App(format!(
                    "{}: {what} id {max} is unknown: {} has ids below {limit}",
                    commits.display(),
                    table.file(opts.format)
                )));
            }
        }
        if facts.missing > 0 && node.rank() == 0 {
            eprintln!(
                "linus: warning: {}: {} commits miss a project or author id and are skipped",
                commits.display(),
                facts.missing
            );
        }
        let users_file = Table::Users.file(opts.format);
        let start = match (start, facts.start) {
            (Start::Uid(uid), _) if *uid < users => *uid,
            (Start::Uid(uid), _) => {
                return Err(Error::App(format!(
                    "start uid {uid} is not a user id ({users_file} has ids below {users})"
                )))
            }
            (Start::Name(_), Some(uid)) => uid as usize,
            (Start::Name(name), None) => {
                return Err(Error::App(format!(
                    "no user named {name:?} in {}",
                    dir.join(users_file).display()
                )))
            }
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
