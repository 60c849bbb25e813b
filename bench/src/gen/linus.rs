//! A synthetic collaboration graph in git-small's shape, for the Linus job.
//!
//! Three files: `projects.ltgt` (`<pid> <"owner/name">`), `users.ltgt`
//! (`<uid> <"name">`) and `commits.ltgt` (`<pid> <author uid> <committer uid>`). Which
//! project a commit belongs to, who authored it and who committed it are drawn from
//! [`PowerLaw`]s over ranks, so a few projects and users account for most commits and
//! most have few or none, as in real histories. An [`AffinePerm`] per table turns ranks
//! into ids, so the heavy ids are scattered; [`LinusSummary`] names the heaviest, and the
//! heaviest user is called "Linus Torvalds" and the heaviest project "torvalds/linux".
//!
//! Every file is made of blocks of [`ROWS_PER_BLOCK`] rows, each drawn from its own
//! generator (see [`Xoshiro256::for_block`]), so the output depends only on the
//! [`LinusConfig`].

use std::fs;
use std::path::{Path, PathBuf};

use eau2::{Error, Result};

use super::blocks::{write_blocks, Block, Progress};
use super::dist::{AffinePerm, PowerLaw};
use super::fmt::{push_int_field, push_quoted_field, push_u64};
use super::rng::Xoshiro256;
use super::words::{push_person_name, ADJECTIVES, NOUNS, OWNERS};

/// Rows per generated block. Part of the output's definition: changing it changes the
/// bytes produced for a seed.
pub const ROWS_PER_BLOCK: u64 = 1 << 16;

/// The chance that a commit's committer is drawn separately instead of being its author
/// (maintainers applying patches).
pub const OTHER_COMMITTER: f64 = 0.1;

/// The stream numbers that keep the three files' random numbers apart.
const PROJECTS_STREAM: u64 = 0;
const USERS_STREAM: u64 = 1;
const COMMITS_STREAM: u64 = 2;
/// Keys for the rank-to-id permutations, mixed with the seed.
const USER_PERM_KEY: u64 = 0x7573_6572; // "user"
const PROJECT_PERM_KEY: u64 = 0x7072_6f6a; // "proj"

/// What to generate.
#[derive(Clone, Debug)]
pub struct LinusConfig {
    /// Rows of `commits.ltgt`.
    pub commits: u64,
    /// Rows of `users.ltgt`; uids are `0..users`.
    pub users: u64,
    /// Rows of `projects.ltgt`; pids are `0..projects`.
    pub projects: u64,
    /// The seed; the same configuration always gives the same bytes.
    pub seed: u64,
    /// The power-law exponent of activity (1 is Zipf's law; 0 is uniform).
    pub skew: f64,
    /// Whether to scatter ranks over ids; without it uid 0 and pid 0 are the heaviest.
    pub scramble: bool,
}

impl LinusConfig {
    /// Checks that the configuration describes a valid data set.
    pub fn validate(&self) -> Result<()> {
        // Ids are SoR INTs, which are 32-bit signed.
        let max = i32::MAX as u64 + 1;
        if self.users > max || self.projects > max {
            return Err(Error::Config(format!(
                "--users and --projects must be at most {max}: ids are 32-bit SoR INTs"
            )));
        }
        if self.commits > 0 && (self.users == 0 || self.projects == 0) {
            return Err(Error::Config(
                "commits need at least one user and one project".into(),
            ));
        }
        if !(self.skew >= 0.0 && self.skew.is_finite()) {
            return Err(Error::Config(format!(
                "--skew must be a finite number >= 0, not {}",
                self.skew
            )));
        }
        Ok(())
    }

    /// The rank-to-uid permutation.
    fn user_perm(&self) -> AffinePerm {
        self.perm(self.users, USER_PERM_KEY)
    }

    /// The rank-to-pid permutation.
    fn project_perm(&self) -> AffinePerm {
        self.perm(self.projects, PROJECT_PERM_KEY)
    }

    fn perm(&self, n: u64, key: u64) -> AffinePerm {
        if self.scramble {
            AffinePerm::new(n.max(1), self.seed ^ key)
        } else {
            AffinePerm::identity(n.max(1))
        }
    }

    /// The uid of the heaviest user (rank 0), who is named "Linus Torvalds"; `None` without
    /// users.
    pub fn top_user(&self) -> Option<u64> {
        (self.users > 0).then(|| self.user_perm().apply(0))
    }

    /// The pid of the heaviest project (rank 0), "torvalds/linux"; `None` without projects.
    pub fn top_project(&self) -> Option<u64> {
        (self.projects > 0).then(|| self.project_perm().apply(0))
    }

    /// Total rows of the three files, the unit of [`Progress`].
    pub fn total_rows(&self) -> u64 {
        self.commits + self.users + self.projects
    }
}

/// What [`generate`] wrote.
#[derive(Clone, Debug)]
pub struct LinusSummary {
    /// Each file written, with its size in bytes and row count.
    pub files: Vec<(PathBuf, u64, u64)>,
    /// The uid drawn most often as author (rank 0): "Linus Torvalds".
    pub top_user: Option<u64>,
    /// The pid drawn most often (rank 0): "torvalds/linux".
    pub top_project: Option<u64>,
}

impl LinusSummary {
    /// Bytes written over all files.
    pub fn bytes(&self) -> u64 {
        self.files.iter().map(|f| f.1).sum()
    }
}

/// Writes `projects.ltgt`, `users.ltgt` and `commits.ltgt` into `dir` (created if missing).
pub fn generate(cfg: &LinusConfig, dir: &Path, progress: &mut Progress) -> Result<LinusSummary> {
    cfg.validate()?;
    fs::create_dir_all(dir).map_err(|e| Error::io_path("creating directory", dir, e))?;
    let mut files = Vec::new();
    let path = dir.join("projects.ltgt");
    let bytes = write_projects(cfg, &path, progress)?;
    files.push((path, bytes, cfg.projects));
    let path = dir.join("users.ltgt");
    let bytes = write_users(cfg, &path, progress)?;
    files.push((path, bytes, cfg.users));
    let path = dir.join("commits.ltgt");
    let bytes = write_commits(cfg, &path, progress)?;
    files.push((path, bytes, cfg.commits));
    Ok(LinusSummary {
        files,
        top_user: cfg.top_user(),
        top_project: cfg.top_project(),
    })
}

/// The rows `first..end` of block `block` of a table of `rows` rows.
fn block_rows(block: u64, rows: u64) -> std::ops::Range<u64> {
    let first = block * ROWS_PER_BLOCK;
    first..(first + ROWS_PER_BLOCK).min(rows)
}

fn block_count(rows: u64) -> u64 {
    rows.div_ceil(ROWS_PER_BLOCK)
}

/// Writes `projects.ltgt` to `path`; returns its size in bytes.
pub fn write_projects(cfg: &LinusConfig, path: &Path, progress: &mut Progress) -> Result<u64> {
    let table = NameTable {
        seed: cfg.seed,
        stream: PROJECTS_STREAM,
        rows: cfg.projects,
        top: cfg.top_project(),
        top_name: b"torvalds/linux",
        row_bytes: 40,
    };
    table.write(path, progress, |rng, pid, name| {
        // The pid suffix makes names unique; the words make them look real.
        name.extend_from_slice(rng.pick(OWNERS).as_bytes());
        name.push(b'/');
        name.extend_from_slice(rng.pick(ADJECTIVES).as_bytes());
        name.push(b'-');
        name.extend_from_slice(rng.pick(NOUNS).as_bytes());
        name.push(b'-');
        push_u64(name, pid);
    })
}

/// Writes `users.ltgt` to `path`; returns its size in bytes.
pub fn write_users(cfg: &LinusConfig, path: &Path, progress: &mut Progress) -> Result<u64> {
    let table = NameTable {
        seed: cfg.seed,
        stream: USERS_STREAM,
        rows: cfg.users,
        top: cfg.top_user(),
        top_name: b"Linus Torvalds",
        row_bytes: 32,
    };
    table.write(path, progress, |rng, uid, name| {
        // "Ada Lovelace 17": the uid suffix makes every name unique.
        push_person_name(rng, name);
        name.push(b' ');
        push_u64(name, uid);
    })
}

/// A table of `<id> <"name">` rows for ids `0..rows`, such as users.ltgt.
struct NameTable {
    seed: u64,
    /// The PRNG stream of this file.
    stream: u64,
    rows: u64,
    /// The heaviest id, which gets `top_name` instead of a made-up one.
    top: Option<u64>,
    top_name: &'static [u8],
    /// A guess of the bytes per row, for buffer sizes.
    row_bytes: usize,
}

impl NameTable {
    /// Writes the table; `name_of` appends the made-up name of an id, drawing from the
    /// block's PRNG (never called for the top id, so its draws do not shift).
    fn write(
        &self,
        path: &Path,
        progress: &mut Progress,
        name_of: impl Fn(&mut Xoshiro256, u64, &mut Vec<u8>) + Sync,
    ) -> Result<u64> {
        let make = |block: u64| {
            let mut rng = Xoshiro256::for_block(self.seed, self.stream, block);
            let range = block_rows(block, self.rows);
            let mut out = Vec::with_capacity(range.clone().count() * self.row_bytes);
            let mut name = Vec::with_capacity(64);
            for id in range.clone() {
                name.clear();
                if Some(id) == self.top {
                    name.extend_from_slice(self.top_name);
                } else {
                    name_of(&mut rng, id, &mut name);
                }
                push_int_field(&mut out, id);
                out.push(b' ');
                push_quoted_field(&mut out, &name);
                out.push(b'\n');
            }
            Block {
                bytes: out,
                units: range.end - range.start,
            }
        };
        write_blocks(path, block_count(self.rows), make, progress)
    }
}

/// Writes `commits.ltgt` to `path`; returns its size in bytes.
pub fn write_commits(cfg: &LinusConfig, path: &Path, progress: &mut Progress) -> Result<u64> {
    cfg.validate()?;
    if cfg.commits == 0 {
        return write_blocks(path, 0, |_| Block::default(), progress);
    }
    let users = PowerLaw::new(cfg.users, cfg.skew);
    let projects = PowerLaw::new(cfg.projects, cfg.skew);
    let user_perm = cfg.user_perm();
    let project_perm = cfg.project_perm();
    let make = |block: u64| {
        let mut rng = Xoshiro256::for_block(cfg.seed, COMMITS_STREAM, block);
        let range = block_rows(block, cfg.commits);
        let mut out = Vec::with_capacity(range.clone().count() * 30);
        for _ in range.clone() {
            let pid = project_perm.apply(projects.sample(&mut rng));
            let author = user_perm.apply(users.sample(&mut rng));
            let committer = if rng.chance(OTHER_COMMITTER) {
                user_perm.apply(users.sample(&mut rng))
            } else {
                author
            };
            push_int_field(&mut out, pid);
            out.push(b' ');
            push_int_field(&mut out, author);
            out.push(b' ');
            push_int_field(&mut out, committer);
            out.push(b'\n');
        }
        Block {
            bytes: out,
            units: range.end - range.start,
        }
    };
    write_blocks(path, block_count(cfg.commits), make, progress)
}
