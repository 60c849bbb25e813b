//! Loading the three files of a collaboration graph, and finding the start user.

use std::path::Path;

use eau2::dist::DistFrame;
use eau2::frame::{Row, Rower, Schema};
use eau2::kv::Key;
use eau2::sor::SorReader;
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

/// The smallest and largest values of some INT columns, and how many rows miss one.
#[derive(Clone, Debug, Default)]
struct IdRange {
    cols: Vec<usize>,
    min: Option<i32>,
    max: Option<i32>,
    missing: u64,
}

impl IdRange {
    fn of(cols: &[usize]) -> IdRange {
        IdRange {
            cols: cols.to_vec(),
            ..IdRange::default()
        }
    }

    fn per_column(
        frame: &DistFrame<'_>,
        node: &Node,
        col: usize,
    ) -> Result<(Option<i32>, Option<i32>, u64)> {
        let mut r = IdRange::of(&[col]);
        frame.local_map(&mut r)?;
        node.all_reduce((r.min, r.max, r.missing), |a, b| {
            (min_opt(a.0, b.0), max_opt(a.1, b.1), a.2 + b.2)
        })
    }
}

fn min_opt(a: Option<i32>, b: Option<i32>) -> Option<i32> {
    a.into_iter().chain(b).min()
}

fn max_opt(a: Option<i32>, b: Option<i32>) -> Option<i32> {
    a.into_iter().chain(b).max()
}

impl Rower for IdRange {
    fn accept(&mut self, row: &Row<'_>) -> bool {
        for &c in &self.cols {
            match row.get_int(c) {
                Some(v) => {
                    self.min = min_opt(self.min, Some(v));
                    self.max = max_opt(self.max, Some(v));
                }
                None => self.missing += 1,
            }
        }
        true
    }

    fn join(&mut self, other: Self) {
        self.min = min_opt(self.min, other.min);
        self.max = max_opt(self.max, other.max);
        self.missing += other.missing;
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
    let (min, max, missing) = IdRange::per_column(&frame, node, 0)?;
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
        for (col, what, limit, file) in [
            (0, "project", projects, "projects.ltgt"),
            (1, "author", users, "users.ltgt"),
        ] {
            let (min, max, missing) = IdRange::per_column(&commits, node, col)?;
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
