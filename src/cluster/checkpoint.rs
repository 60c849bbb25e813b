//! Checkpoints of a program's own state, for jobs that `eau2-launch --tolerate K`
//! restarts after a lost rank: [`Node::checkpoint`] saves each rank's state at a point
//! every rank reaches, and [`Node::restore`] hands it back in the next attempt, so a
//! hand-written SPMD loop resumes where the job last got to instead of from the start.
//!
//! **Where the state lives.** A restart ends every process of the job, so the state is
//! kept in files: in the folder `$TMPDIR/NAME` of the rank's host, NAME being the job's
//! (`EAU2_CHECKPOINTS`, set by eau2-launch when K > 0). Each rank writes its own state
//! there and sends a copy to its buddy, the next rank (rank `(r + 1) % n`, on another
//! host whenever the job has several), which writes it to the same folder of *its* host.
//! A rank whose host is gone, and which the launcher moved to another host, gets its
//! state back from that copy.
//!
//! **When a checkpoint counts.** A checkpoint is complete once every rank has written
//! its file and its buddy's copy: the all-reduce that ends [`Node::checkpoint`] passes
//! only then, and each rank then writes a `done` marker and removes its older files. A
//! restore takes the latest checkpoint that some rank marked done and whose state is
//! still at hand for every rank (its own file, or its buddy's copy); a loss during a
//! checkpoint leaves the one before it. Checkpoints are named by (epoch, number), so
//! one saved in a later attempt is later whatever the numbers.
//!
//! Files (all in the job's folder; the names say whose state, of which checkpoint, and
//! who holds it, since the ranks of one host share the folder):
//! `own-R-E-N` (rank R's state), `copy-R-E-N` (rank R's state, kept by R's buddy),
//! `done-H-E-N` (rank H saw checkpoint (E, N) complete).

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use bytes::Bytes;
use speedy::{Readable, Writable};

use super::node::Node;
use crate::collectives::Wire;
use crate::error::{Error, Result};

/// A checkpoint's name: the attempt that saved it and its number in that attempt
/// (from 1). Ordered in time.
type Stamp = (u32, u64);

/// What a rank holds of each checkpoint, as it tells the others in a restore.
#[derive(Readable, Writable, Clone, Debug, Default)]
struct Holdings {
    /// Checkpoints whose own file this rank has.
    own: Vec<Stamp>,
    /// Checkpoints whose copy of the previous rank's state this rank has.
    copies: Vec<Stamp>,
    /// Checkpoints this rank, or a rank of this host, marked done.
    done: Vec<Stamp>,
}

fn io_err(action: &str, path: &Path, e: std::io::Error) -> Error {
    Error::io_path(action, path, e)
}

/// Writes `bytes` to `path` whole or not at all: a temporary beside it, then a rename.
fn write_whole(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let mut file = fs::File::create(&tmp).map_err(|e| io_err("creating", &tmp, e))?;
    file.write_all(bytes)
        .map_err(|e| io_err("writing a checkpoint to", &tmp, e))?;
    drop(file);
    fs::rename(&tmp, path).map_err(|e| io_err("renaming a checkpoint to", path, e))
}

/// Parses `KIND-R-E-N` into (R, (E, N)) when the name is of that kind.
fn parse(name: &str, kind: &str) -> Option<(usize, Stamp)> {
    let rest = name.strip_prefix(kind)?.strip_prefix('-')?;
    let mut parts = rest.split('-');
    let rank = parts.next()?.parse().ok()?;
    let epoch = parts.next()?.parse().ok()?;
    let n = parts.next()?.parse().ok()?;
    parts.next().is_none().then_some((rank, (epoch, n)))
}

/// The stamps of the files `KIND-rank-E-N` in `dir` (none when it does not exist).
fn stamps(dir: &Path, kind: &str, rank: Option<usize>) -> Vec<Stamp> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<Stamp> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| parse(&e.file_name().to_string_lossy(), kind))
        .filter(|(r, _)| rank.is_none_or(|want| *r == want))
        .map(|(_, stamp)| stamp)
        .collect();
    found.sort_unstable();
    found
}

fn file(dir: &Path, kind: &str, rank: usize, (epoch, n): Stamp) -> PathBuf {
    dir.join(format!("{kind}-{rank}-{epoch}-{n}"))
}

impl Node {
    /// Collective: saves `state` as this rank's part of a checkpoint of the job, so that
    /// if a rank is lost later and `eau2-launch --tolerate K` starts the job again,
    /// [`Node::restore`] hands each rank back its `state` of the latest checkpoint that
    /// every rank completed. Every rank calls it at the same point of the program (as
    /// any collective). It returns once every rank's state and a copy of it on another
    /// rank (on another host where there is one) are written, so a checkpoint survives
    /// any one loss: a process, or a whole host.
    ///
    /// Without `--tolerate` (or under mpirun, mpiexec and srun, which restart nothing)
    /// nothing is saved and the call returns at once. Keep the state small (counters,
    /// accumulators, a few vectors): it is written to a file and sent once over the
    /// network each time. See docs/failures.md.
    ///
    /// ```
    /// eau2::run(|node| {
    ///     // Resume from the latest checkpoint of an earlier attempt, if there is one.
    ///     let (start, mut total): (u64, u64) = node.restore()?.unwrap_or((0, 0));
    ///     for i in start..10 {
    ///         total += node.comm().all_reduce(i, |a, b| a + b)?;
    ///         node.checkpoint(&(i + 1, total))?;
    ///     }
    ///     assert_eq!(total, 45 * node.size() as u64);
    ///     Ok(())
    /// });
    /// ```
    pub fn checkpoint<S: Wire>(&self, state: &S) -> Result<()> {
        let Some(ck) = self.checkpoints() else {
            return Ok(());
        };
        let stamp = (ck.epoch, ck.saved.fetch_add(1, Ordering::Relaxed) + 1);
        let bytes = state
            .write_to_vec()
            .map_err(|e| Error::internal(format!("encoding a checkpoint's state: {e}")))?;
        fs::create_dir_all(&ck.dir).map_err(|e| io_err("creating", &ck.dir, e))?;
        let (rank, size) = (self.rank(), self.size());
        write_whole(&file(&ck.dir, "own", rank, stamp), &bytes)?;
        // The copy goes to the buddy (an all-to-all with one full slot: every rank sends
        // one state and receives one).
        let buddy = (rank + 1) % size;
        let mut out = vec![Bytes::new(); size];
        out[buddy] = Bytes::from(bytes);
        let from = rank_before(rank, size);
        let got = self.comm().all_to_all_bytes(out)?;
        write_whole(&file(&ck.dir, "copy", from, stamp), &got[from])?;
        // Complete on every rank once this passes.
        self.comm().all_reduce(1u64, |a, b| a + b)?;
        write_whole(&file(&ck.dir, "done", rank, stamp), b"")?;
        // Older checkpoints are no longer needed (best effort: a file left behind is only
        // space, removed with the folder when the job ends).
        remove_held(&ck.dir, (rank, from), |old| old < stamp);
        Ok(())
    }

    /// Collective: this rank's state of the latest checkpoint that the job completed in an
    /// earlier attempt ([`Node::checkpoint`]), or `None` when there is none (the first
    /// attempt, a job without `--tolerate`, or a loss before the first checkpoint).
    /// Every rank calls it at the same point, normally once, at the start of the program;
    /// all get a state from the same checkpoint, or all get `None`.
    pub fn restore<S: Wire>(&self) -> Result<Option<S>> {
        let Some(ck) = self.checkpoints() else {
            return Ok(None);
        };
        let (rank, size) = (self.rank(), self.size());
        let from = rank_before(rank, size);
        let mine = Holdings {
            own: stamps(&ck.dir, "own", Some(rank)),
            copies: stamps(&ck.dir, "copy", Some(from)),
            done: stamps(&ck.dir, "done", None),
        };
        let all: Vec<Holdings> = self.comm().all_gather(&mine)?;
        let Some(stamp) = latest_complete(&all) else {
            return Ok(None);
        };
        // A rank without its own file gets the copy its buddy (the next rank) keeps: this
        // rank keeps the previous rank's.
        let mut out = vec![Bytes::new(); size];
        if !all[from].own.contains(&stamp) {
            let path = file(&ck.dir, "copy", from, stamp);
            out[from] = Bytes::from(fs::read(&path).map_err(|e| io_err("reading", &path, e))?);
        }
        let got = self.comm().all_to_all_bytes(out)?;
        let bytes = if mine.own.contains(&stamp) {
            let path = file(&ck.dir, "own", rank, stamp);
            fs::read(&path).map_err(|e| io_err("reading", &path, e))?
        } else {
            got[(rank + 1) % size].to_vec()
        };
        let state = S::read_from_buffer(&bytes).map_err(|e| {
            Error::decode(format!(
                "rank {rank}'s state of checkpoint {stamp:?} does not decode as the type \
                 restore asked for: {e}"
            ))
        })?;
        Ok(Some(state))
    }
}

/// Removes the files in `dir` that `rank` keeps (its own states, the copies of `from`'s
/// and its markers) of the checkpoints `which` picks; a file that will not go is left.
fn remove_held(dir: &Path, (rank, from): (usize, usize), which: impl Fn(Stamp) -> bool) {
    for (kind, whose) in [("own", rank), ("copy", from), ("done", rank)] {
        for stamp in stamps(dir, kind, Some(whose)) {
            if which(stamp) {
                let _ = fs::remove_file(file(dir, kind, whose, stamp));
            }
        }
    }
}

/// The rank before `rank` in the buddy ring.
fn rank_before(rank: usize, size: usize) -> usize {
    (rank + size - 1) % size
}

/// The latest checkpoint that some rank marked done and whose state every rank can get:
/// from its own file, or from the copy its buddy keeps.
fn latest_complete(all: &[Holdings]) -> Option<Stamp> {
    let size = all.len();
    let mut done: Vec<Stamp> = all.iter().flat_map(|h| h.done.iter().copied()).collect();
    done.sort_unstable();
    done.dedup();
    done.into_iter().rev().find(|stamp| {
        (0..size).all(|r| all[r].own.contains(stamp) || all[(r + 1) % size].copies.contains(stamp))
    })
}

/// The checkpoint files a rank keeps, noted before it leaves the job, to be removed once
/// it has left cleanly ([`Leftovers::remove`]).
pub(crate) struct Leftovers {
    dir: PathBuf,
    rank: usize,
    from: usize,
}

impl Leftovers {
    /// What `node` keeps, when the job keeps checkpoints.
    pub(crate) fn of(node: &Node) -> Option<Leftovers> {
        let (rank, size) = (node.rank(), node.size());
        node.checkpoints().map(|ck| Leftovers {
            dir: ck.dir.clone(),
            rank,
            from: rank_before(rank, size),
        })
    }

    /// Removes the files, once the job has succeeded (every rank passed the final
    /// barrier, so nothing can restart it). The launcher removes its own host's folder
    /// as well; this reaches the other hosts.
    pub(crate) fn remove(self) {
        remove_held(&self.dir, (self.rank, self.from), |_| true);
        // Empty once every rank of this host is done with it; until then this fails.
        let _ = fs::remove_dir(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(own: &[Stamp], copies: &[Stamp], done: &[Stamp]) -> Holdings {
        Holdings {
            own: own.to_vec(),
            copies: copies.to_vec(),
            done: done.to_vec(),
        }
    }

    #[test]
    fn the_latest_checkpoint_every_rank_can_get_wins() {
        let (a, b, c) = ((0, 1), (0, 2), (1, 1));
        // Every rank has its own files of a and b; b was marked done by rank 1 only.
        let all = vec![
            held(&[a, b], &[a, b], &[a]),
            held(&[a, b], &[a, b], &[b]),
            held(&[a, b], &[a, b], &[a]),
        ];
        assert_eq!(latest_complete(&all), Some(b));
        // Rank 2's host is gone (it has nothing); its buddy, rank 0, keeps copies of it.
        let all = vec![
            held(&[a, b], &[a, b], &[b]),
            held(&[a, b], &[a, b], &[b]),
            held(&[], &[], &[]),
        ];
        assert_eq!(latest_complete(&all), Some(b));
        // ... unless rank 0 lost its copy of b too (two losses at once): b cannot be
        // restored, and a's completion was forgotten when b completed, so nothing is.
        let all = vec![
            held(&[a, b], &[a], &[b]),
            held(&[a, b], &[a, b], &[b]),
            held(&[], &[], &[]),
        ];
        assert_eq!(latest_complete(&all), None);
        // A later attempt's checkpoint is later, whatever its number.
        let all = vec![held(&[b, c], &[b, c], &[c]), held(&[b, c], &[b, c], &[b])];
        assert_eq!(latest_complete(&all), Some(c));
        // Nothing done: nothing to restore.
        let all = vec![held(&[a], &[a], &[]), held(&[a], &[a], &[])];
        assert_eq!(latest_complete(&all), None);
    }

    #[test]
    fn file_names_parse_back() {
        assert_eq!(parse("own-3-1-17", "own"), Some((3, (1, 17))));
        assert_eq!(parse("own-3-1-17", "copy"), None);
        assert_eq!(parse("own-3-1-17.tmp", "own"), None);
        assert_eq!(parse("own-3-1", "own"), None);
    }
}
