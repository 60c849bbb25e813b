//! Loading the three files of a collaboration graph, and finding the start user.

use std::path::Path;

use eau2::frame::{Row, RowBlock, Rower, Schema};
use eau2::kv::Key;
use eau2::sor::SorReader;
use eau2::table::DistFrame;
use eau2::{Error, Node, Result};

/// The loaded graph: the commits, distributed by rows, and the sizes of the id spaces.
pub struct Graph<'n> {
    /// Columns: project id, author id (the committer column is not loaded).
    pub commits: DistFrame<'n>,
    /// One more than the largest user id.
    pub users: usize,
    /// One more than the largest project id.
    pub projects: usize,
}

/// The smallest and largest value of an INT column, and how many rows miss one.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct IdRange {
    min: Option<i32>,
    max: Option<i32>,
    missing: u64,
}

impl IdRange {
    fn add(&mut self, value: Option<i32>) {
        match value {
            Some(v) => {
                self.min = min_opt(self.min, Some(v));
                self.max = max_opt(self.max, Some(v));
            }
            None => self.missing += 1,
        }
    }

    fn merge(self, other: IdRange) -> IdRange {
        IdRange {
            min: min_opt(self.min, other.min),
            max: max_opt(self.max, other.max),
            missing: self.missing + other.missing,
        }
    }

    /// The form the collectives carry.
    fn to_wire(self) -> (Option<i32>, Option<i32>, u64) {
        (self.min, self.max, self.missing)
    }

    fn from_wire((min, max, missing): (Option<i32>, Option<i32>, u64)) -> IdRange {
        IdRange { min, max, missing }
    }
}

fn min_opt(a: Option<i32>, b: Option<i32>) -> Option<i32> {
    a.into_iter().chain(b).min()
}

fn max_opt(a: Option<i32>, b: Option<i32>) -> Option<i32> {
    a.into_iter().chain(b).max()
}

/// The [`IdRange`] of each of some INT columns, gathered in one scan of the rows.
#[derive(Clone)]
struct IdRanges {
    cols: Vec<usize>,
    ranges: Vec<IdRange>,
}

impl IdRanges {
    /// Collective: the range of each of `cols` over the whole frame, in `cols` order.
    fn of(frame: &DistFrame<'_>, node: &Node, cols: &[usize]) -> Result<Vec<IdRange>> {
        let mut scan = IdRanges {
            cols: cols.to_vec(),
            ranges: vec![IdRange::default(); cols.len()],
        };
        frame.local_map(&mut scan)?;
        let local: Vec<_> = scan.ranges.into_iter().map(IdRange::to_wire).collect();
        let merged = node.all_reduce(local, |a, b| {
            a.into_iter()
                .zip(b)
                .map(|(x, y)| IdRange::from_wire(x).merge(IdRange::from_wire(y)).to_wire())
                .collect()
        })?;
        Ok(merged.into_iter().map(IdRange::from_wire).collect())
    }
}

impl Rower for IdRanges {
    fn accept(&mut self, row: &Row<'_>) -> bool {
        for (range, &col) in self.ranges.iter_mut().zip(&self.cols) {
            range.add(row.get_int(col));
        }
        true
    }

    fn accept_block(&mut self, block: &RowBlock<'_>) {
        for (range, &col) in self.ranges.iter_mut().zip(&self.cols) {
            let chunk = block.column(col);
            match chunk.ints() {
                // The common case, no missing ids: min and max of a plain slice.
                Some(ints) if chunk.missing_count() == 0 => {
                    let block_range = IdRange {
                        min: ints.iter().copied().min(),
                        max: ints.iter().copied().max(),
                        missing: 0,
                    };
                    *range = range.merge(block_range);
                }
                _ => block.rows().for_each(|row| range.add(row.get_int(col))),
            }
        }
    }

    fn join(&mut self, other: Self) {
        for (range, theirs) in self.ranges.iter_mut().zip(other.ranges) {
            *range = range.merge(theirs);
        }
    }
}

fn reader(codes: &str, cols: &[usize], chunk_rows: usize) -> Result<SorReader> {
    Ok(SorReader::new()
        .schema(Schema::from_codes(codes)?)
        .columns(cols)
        .chunk_len(chunk_rows))
}

/// Loads one id column collectively and returns the size of its id space.
fn id_space(node: &Node, dir: &Path, file: &str, chunk_rows: usize) -> Result<usize> {
    let path = dir.join(file);
    let key = Key::new(format!("linus/{file}"), 0);
    let (frame, deviations) =
        DistFrame::load_sor(node, &key, &path, &reader("IS", &[0], chunk_rows)?)?;
    report_deviations(node, &path, deviations.rows, deviations.first_line);
    let IdRange { min, max, missing } = IdRanges::of(&frame, node, &[0])?[0];
    if missing > 0 || min.is_some_and(|m| m < 0) {
        return Err(Error::App(format!(
            "{}: ids must be present and non-negative ({missing} missing, smallest {min:?})",
            path.display()
        )));
    }
    Ok(max.map_or(0, |m| m as usize + 1))
}

fn report_deviations(node: &Node, path: &Path, rows: u64, first_line: Option<u64>) {
    if rows > 0 && node.rank() == 0 {
        eprintln!(
            "linus: warning: {}: {rows} rows did not fit the schema (first at line {}); their bad fields are treated as missing",
            path.display(),
            first_line.unwrap_or(0)
        );
    }
}

impl<'n> Graph<'n> {
    /// Collective: loads `dir`'s projects, users and commits, each rank its own byte range
    /// of each file, and checks that every commit names known ids.
    pub fn load(node: &'n Node, dir: &Path, chunk_rows: usize) -> Result<Graph<'n>> {
        let projects = id_space(node, dir, "projects.ltgt", chunk_rows)?;
        let users = id_space(node, dir, "users.ltgt", chunk_rows)?;
        let path = dir.join("commits.ltgt");
        let (commits, deviations) = DistFrame::load_sor(
            node,
            &Key::new("linus/commits", 0),
            &path,
            &reader("III", &[0, 1], chunk_rows)?,
        )?;
        report_deviations(node, &path, deviations.rows, deviations.first_line);
        // Both id columns are checked in one scan of the local rows.
        let ranges = IdRanges::of(&commits, node, &[0, 1])?;
        for (range, what, limit, file) in [
            (ranges[0], "project", projects, "projects.ltgt"),
            (ranges[1], "author", users, "users.ltgt"),
        ] {
            let IdRange { min, max, missing } = range;
            if min.is_some_and(|m| m < 0) || max.is_some_and(|m| m as usize >= limit) {
                return Err(Error::App(format!(
                    "{}: {what} ids range over {}..={} but {file} has ids below {limit}",
                    path.display(),
                    min.unwrap_or(0),
                    max.unwrap_or(0)
                )));
            }
            if missing > 0 && node.rank() == 0 {
                eprintln!("linus: warning: {missing} commits have no {what} id and are skipped");
            }
        }
        Ok(Graph {
            commits,
            users,
            projects,
        })
    }
}

/// Collective: the uid named by `start`, either a number or a name in `users.ltgt`.
/// Each rank searches its own byte range of the file; names are read only here, so the
/// name column never stays in memory.
pub fn resolve_start(node: &Node, dir: &Path, start: &str, users: usize) -> Result<usize> {
    if let Ok(uid) = start.trim().parse::<usize>() {
        if uid >= users {
            return Err(Error::App(format!(
                "start uid {uid} is not a user id (users.ltgt has ids below {users})"
            )));
        }
        return Ok(uid);
    }
    let path = dir.join("users.ltgt");
    // `part` reads every line in exactly one rank, which SOR.md's `range` rule does not.
    let part = reader("IS", &[0, 1], eau2::frame::DEFAULT_CHUNK_LEN)?
        .part(node.rank(), node.size())
        .read_path(&path)?
        .frame;
    let mut found: Option<i32> = None;
    for row in 0..part.nrows() {
        if part.get_str(1, row)? == Some(start.as_bytes()) {
            found = min_opt(found, part.get_int(0, row)?);
        }
    }
    drop(part);
    match node.all_reduce(found, min_opt)? {
        Some(uid) if uid >= 0 => Ok(uid as usize),
        _ => Err(Error::App(format!(
            "no user named {start:?} in {}",
            path.display()
        ))),
    }
}
