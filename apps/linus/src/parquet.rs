//! Loading a collaboration graph from Parquet: `projects.parquet` (pid, name),
//! `users.parquet` (uid, name) and `commits.parquet` (pid, author, committer).
//!
//! Each file is read through the library (`DistFrame::read_with`: row groups spread over
//! the ranks by bytes, one version of the file, only the named columns decoded), so the
//! committer column and, unless the start user is named, the users' names are never read
//! from disk. The rank then walks the chunks it holds, on all cores, into the same facts
//! and `(project, author)` pairs as the SoR loader; the frames are dropped on return.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use eau2::frame::{Bitmap, Chunk, ChunkData};
use eau2::table::{DistFrame, ReadOptions};
use eau2::{Error, Node, Result};
use rayon::prelude::*;

use crate::load::{max_opt, min_opt, range_merge, widen, Commit, Facts, Shares, Start};

/// The ids of one INT or I64 chunk, or of a BOOL one: SoR's typing rule makes a column
/// of only 0s and 1s BOOL, so a small table converted from SoR may hold its ids so.
enum Ids<'a> {
    Bool(&'a Bitmap),
    Int(&'a [i32]),
    I64(&'a [i64]),
}

impl Ids<'_> {
    /// Row `r`'s value (0 where missing).
    fn get(&self, r: usize) -> i64 {
        match self {
            Ids::Bool(b) => i64::from(b.get(r)),
            Ids::Int(v) => i64::from(v[r]),
            Ids::I64(v) => v[r],
        }
    }
}

/// One id column of a loaded file, for error messages.
struct IdColumn<'a> {
    file: &'a Path,
    name: &'a str,
}

impl IdColumn<'_> {
    /// The chunk's ids; an error unless the column is INT, I64 or BOOL.
    fn ids<'c>(&self, chunk: &'c Chunk) -> Result<Ids<'c>> {
        match chunk.data() {
            ChunkData::Bool(b) => Ok(Ids::Bool(b)),
            ChunkData::Int(v) => Ok(Ids::Int(v)),
            ChunkData::I64(v) => Ok(Ids::I64(v)),
            other => Err(Error::App(format!(
                "{}: column {:?} holds {} values, not integer ids",
                self.file.display(),
                self.name,
                other.dtype()
            ))),
        }
    }

    /// `value` (of global row `row`) as an id; an error for a negative or too large one.
    fn id(&self, value: i64, row: u64) -> Result<u32> {
        u32::try_from(value).map_err(|_| {
            Error::App(format!(
                "{}: row {row}: column {:?}: {value} is not an id (ids are 0..=4294967295)",
                self.file.display(),
                self.name
            ))
        })
    }
}

/// This rank's chunks of `frame` (every column), each with its first row.
fn local_rows(frame: &DistFrame<'_>) -> Result<Vec<(u64, Vec<Arc<Chunk>>)>> {
    frame
        .local_chunks()
        .into_iter()
        .map(|i| Ok((frame.descriptor().chunks[i].start, frame.row_chunk(i)?)))
        .collect()
}

/// Collective: the frame of `columns` of the Parquet file `dir/file`.
fn open<'n>(node: &'n Node, dir: &Path, file: &str, columns: &[&str]) -> Result<DistFrame<'n>> {
    DistFrame::read_with(node, dir.join(file), &ReadOptions::new().columns(columns))
}

/// What one table's chunk holds: its largest id and the smallest id with the start
/// user's name.
fn scan_table(
    column: &IdColumn<'_>,
    start: u64,
    chunks: &[Arc<Chunk>],
    name: Option<&[u8]>,
) -> Result<(Option<u32>, Option<u32>)> {
    let ids = column.ids(&chunks[0])?;
    let valid = chunks[0].validity();
    let (mut max, mut named) = (None, None);
    for r in 0..chunks[0].len() {
        let row = start + r as u64;
        if !valid.get(r) {
            return Err(Error::App(format!(
                "{}: row {row}: column {:?}: a row without its id",
                column.file.display(),
                column.name
            )));
        }
        let id = column.id(ids.get(r), row)?;
        max = max_opt(max, Some(id));
        if let (Some(name), Some(names)) = (name, chunks.get(1)) {
            if names.get_as::<&[u8]>(r) == Some(name) {
                named = min_opt(named, Some(id));
            }
        }
    }
    Ok((max, named))
}

/// One chunk of commits as `(project, author)` pairs, with the ranges and the number of
/// rows missing an id.
fn parse_commits(
    columns: [&IdColumn<'_>; 2],
    start: u64,
    chunks: &[Arc<Chunk>],
) -> Result<(Vec<Commit>, Facts)> {
    let (projects, authors) = (columns[0].ids(&chunks[0])?, columns[1].ids(&chunks[1])?);
    let (pvalid, avalid) = (chunks[0].validity(), chunks[1].validity());
    let all_valid = pvalid.all_set() && avalid.all_set();
    let mut facts = Facts::default();
    let mut commits = Vec::with_capacity(chunks[0].len());
    let (mut pmin, mut pmax, mut amin, mut amax) = (u32::MAX, 0u32, u32::MAX, 0u32);
    for r in 0..chunks[0].len() {
        let row = start + r as u64;
        let whole = all_valid || (pvalid.get(r) && avalid.get(r));
        if !whole {
            // A present id of a commit missing the other must still be an id.
            if pvalid.get(r) {
                columns[0].id(projects.get(r), row)?;
            }
            if avalid.get(r) {
                columns[1].id(authors.get(r), row)?;
            }
            facts.missing += 1;
            continue;
        }
        let project = columns[0].id(projects.get(r), row)?;
        let author = columns[1].id(authors.get(r), row)?;
        (pmin, pmax) = (pmin.min(project), pmax.max(project));
        (amin, amax) = (amin.min(author), amax.max(author));
        commits.push(Commit { project, author });
    }
    if !commits.is_empty() {
        for (range, lo, hi) in [
            (&mut facts.commit_projects, pmin, pmax),
            (&mut facts.commit_authors, amin, amax),
        ] {
            widen(range, lo);
            widen(range, hi);
        }
    }
    facts.commits = commits.len() as u64;
    Ok((commits, facts))
}

/// Collective: the largest id of table `file` (column `id`) among this rank's rows,
/// and the smallest id whose `name` column is `name`, when one is given (only then is
/// the name column read).
fn scan(
    node: &Node,
    dir: &Path,
    file: &str,
    id: &str,
    name: Option<&[u8]>,
) -> Result<(Option<u32>, Option<u32>)> {
    let columns: &[&str] = if name.is_some() { &[id, "name"] } else { &[id] };
    let frame = open(node, dir, file, columns)?;
    let path = dir.join(file);
    let column = IdColumn {
        file: &path,
        name: id,
    };
    let found = local_rows(&frame)?
        .par_iter()
        .map(|(start, chunks)| scan_table(&column, *start, chunks, name))
        .collect::<Result<Vec<_>>>()?;
    Ok(found
        .into_iter()
        .fold((None, None), |(m, n), (max, named)| {
            (max_opt(m, max), min_opt(n, named))
        }))
}

/// Collective: this rank's shares of the Parquet files in `dir`.
pub(crate) fn read(node: &Node, dir: &Path, start: &Start) -> Result<Shares> {
    let mut facts = Facts::default();
    let clock = Instant::now();
    (facts.projects_max, _) = scan(node, dir, "projects.parquet", "pid", None)?;
    let projects_took = clock.elapsed();
    let name = match start {
        Start::Name(name) => Some(name.as_bytes()),
        Start::Uid(_) => None,
    };
    (facts.users_max, facts.start) = scan(node, dir, "users.parquet", "uid", name)?;
    let users_took = clock.elapsed() - projects_took;

    let file = "commits.parquet";
    let frame = open(node, dir, file, &["pid", "author"])?;
    let path = dir.join(file);
    let (pid, author) = (
        IdColumn {
            file: &path,
            name: "pid",
        },
        IdColumn {
            file: &path,
            name: "author",
        },
    );
    let parsed = local_rows(&frame)?
        .par_iter()
        .map(|(start, chunks)| parse_commits([&pid, &author], *start, chunks))
        .collect::<Result<Vec<_>>>()?;
    let mut segments = Vec::with_capacity(parsed.len());
    for (commits, f) in parsed {
        facts.commit_projects = range_merge(facts.commit_projects, f.commit_projects);
        facts.commit_authors = range_merge(facts.commit_authors, f.commit_authors);
        facts.commits += f.commits;
        facts.missing += f.missing;
        if !commits.is_empty() {
            segments.push(commits);
        }
    }
    let times = vec![
        ("projects.parquet", projects_took),
        ("users.parquet", users_took),
        (file, clock.elapsed() - projects_took - users_took),
    ];
    Ok(Shares {
        facts,
        segments,
        times,
    })
}
