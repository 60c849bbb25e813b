//! The job's folder of saved state, shared by the two things that save into it:
//! checkpoints of a program's own state ([`Node::checkpoint`](super::Node::checkpoint))
//! and the saved outputs of DistFrame operators ("memos", `table::memo`). Here is what
//! both need and what needs no [`Node`](super::Node): the per-node state (the folder,
//! the attempt, counters), the files' names, what a rank holds, writing a file whole,
//! and which saved stamps are complete. Kept apart from the logic that uses the node, as
//! `temps` is from the operators, so that the node that owns this state needs nothing
//! from the modules that use the node.
//!
//! **Files.** Every saved thing is named by a [`Stamp`] (the attempt that saved it and
//! its number in that attempt) and a [`Kinds`] of three file kinds: `OWN-R-E-N` (rank
//! R's part), `COPY-R-E-N` (rank R's part, kept by R's buddy, the next rank) and
//! `DONE-H-E-N` (rank H saw (E, N) complete). The names say whose part and who holds
//! it, since the ranks of one host share the folder.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64};
use std::sync::Arc;

use parking_lot::Mutex;
use speedy::{Readable, Writable};

use crate::error::{Error, Result};

/// A saved thing's name: the attempt that saved it and its number in that attempt (from
/// 1). Ordered in time for checkpoints.
pub(crate) type Stamp = (u32, u64);

/// The three file kinds of one sort of saved state (see the module's notes).
pub(crate) struct Kinds {
    /// A rank's own part.
    pub(crate) own: &'static str,
    /// The copy of the previous rank's part.
    pub(crate) copy: &'static str,
    /// The marker of a complete save.
    pub(crate) done: &'static str,
}

/// The files of `node.checkpoint`.
pub(crate) const CHECKPOINTS: Kinds = Kinds {
    own: "own",
    copy: "copy",
    done: "done",
};

/// The files of operator outputs (memos); the stamp's number is the operator's.
pub(crate) const MEMOS: Kinds = Kinds {
    own: "op",
    copy: "opcopy",
    done: "opdone",
};

/// The job's folder and the counters of what this attempt has saved.
pub(crate) struct CheckpointFolder {
    /// `$TMPDIR/NAME` on this host.
    pub(crate) dir: PathBuf,
    /// The attempt, which names this attempt's saves.
    pub(crate) epoch: u32,
    /// How many checkpoints this attempt has begun.
    pub(crate) saved: AtomicU64,
    /// The state of operator memos.
    pub(crate) memos: MemoState,
}

/// The per-node state of operator memos: the operator sequence and what this attempt
/// decided to resume.
#[derive(Default)]
pub(crate) struct MemoState {
    /// How many outermost operators the program has entered in this attempt.
    pub(crate) next: AtomicU64,
    /// How deep in operators the program is now (0 outside any): only the outermost
    /// counts, since operators call each other.
    pub(crate) depth: AtomicU32,
    /// How many loads the program has made in this attempt.
    pub(crate) loads: AtomicU64,
    /// Whether a load before the first operator read another version of a file than
    /// the earlier attempt's load of that number did.
    pub(crate) changed: AtomicBool,
    /// What the ranks agreed at the attempt's first operator; `None` before it.
    pub(crate) plan: Mutex<Option<Arc<MemoPlan>>>,
}

/// What the ranks agreed at an attempt's first operator.
#[derive(Clone, Debug, Default)]
pub(crate) struct MemoPlan {
    /// Per rank: whether it sends a copy of its memos to its buddy (whose folder is
    /// another one).
    pub(crate) copy_to_buddy: Vec<bool>,
    /// What each rank held when the attempt began.
    pub(crate) held: Vec<Holdings>,
    /// The stamps of operators 1, 2, ... that are resumed (a prefix of the program).
    pub(crate) resume: Vec<Stamp>,
}

impl CheckpointFolder {
    /// The folder `name` under this host's temporary folder, for attempt `epoch`.
    pub(crate) fn new(name: &str, epoch: u32) -> CheckpointFolder {
        CheckpointFolder {
            dir: std::env::temp_dir().join(name),
            epoch,
            saved: AtomicU64::new(0),
            memos: MemoState::default(),
        }
    }
}

/// What a rank holds of each saved stamp of one kind, as it tells the others.
#[derive(Readable, Writable, Clone, Debug, Default, PartialEq)]
pub(crate) struct Holdings {
    /// Stamps whose own file this rank has.
    pub(crate) own: Vec<Stamp>,
    /// Stamps whose copy of the previous rank's part this rank has.
    pub(crate) copies: Vec<Stamp>,
    /// Stamps this rank, or a rank of this host, marked done.
    pub(crate) done: Vec<Stamp>,
}

impl Holdings {
    /// What `rank` (of `size`) holds in `dir` of `kinds`.
    pub(crate) fn scan(dir: &Path, kinds: &Kinds, rank: usize, size: usize) -> Holdings {
        Holdings {
            own: stamps(dir, kinds.own, Some(rank)),
            copies: stamps(dir, kinds.copy, Some(rank_before(rank, size))),
            done: stamps(dir, kinds.done, None),
        }
    }
}

/// An I/O error naming the path.
pub(crate) fn io_err(action: &str, path: &Path, e: std::io::Error) -> Error {
    Error::io_path(action, path, e)
}

/// Writes `bytes` to `path` whole or not at all: a temporary beside it, then a rename.
pub(crate) fn write_whole(path: &Path, bytes: &[u8]) -> Result<()> {
    write_whole_with(path, &|w| w.write_all(bytes))
}

/// Writes what `part` writes to `path`, whole or not at all: into a temporary beside
/// it (buffered), then a rename. Streaming lets a large part go to the file without
/// being put together in memory first.
pub(crate) fn write_whole_with(path: &Path, part: &WritePart<'_>) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let file = fs::File::create(&tmp).map_err(|e| io_err("creating", &tmp, e))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    part(&mut out)
        .and_then(|()| out.flush())
        .map_err(|e| io_err("writing saved state to", &tmp, e))?;
    drop(out);
    fs::rename(&tmp, path).map_err(|e| io_err("renaming saved state to", path, e))
}

/// Writes a rank's part of a saved stamp to a stream (a file, or a buffer for the copy
/// sent to the buddy).
pub(crate) type WritePart<'a> = dyn Fn(&mut dyn std::io::Write) -> std::io::Result<()> + 'a;

/// Reads the file `path` whole.
pub(crate) fn read_whole(path: &Path) -> Result<Vec<u8>> {
    fs::read(path).map_err(|e| io_err("reading", path, e))
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

/// The file of `kind` for `rank`'s part of `stamp` in `dir`.
pub(crate) fn file(dir: &Path, kind: &str, rank: usize, (epoch, n): Stamp) -> PathBuf {
    dir.join(format!("{kind}-{rank}-{epoch}-{n}"))
}

/// Removes the files of `kinds` in `dir` that `rank` keeps (its own parts, the copies of
/// `from`'s and its markers) of the stamps `which` picks; a file that will not go is
/// left (it is only space, removed with the folder when the job ends).
pub(crate) fn remove_held(
    dir: &Path,
    kinds: &Kinds,
    (rank, from): (usize, usize),
    which: impl Fn(Stamp) -> bool,
) {
    for (kind, whose) in [(kinds.own, rank), (kinds.copy, from), (kinds.done, rank)] {
        for stamp in stamps(dir, kind, Some(whose)) {
            if which(stamp) {
                let _ = fs::remove_file(file(dir, kind, whose, stamp));
            }
        }
    }
}

/// Removes the records of the files `rank`'s loads read (`load-RANK-L`, see
/// `table::memo`).
pub(crate) fn remove_loads(dir: &Path, rank: usize) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let prefix = format!("load-{rank}-");
    for entry in entries.filter_map(|e| e.ok()) {
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// The rank before `rank` in the buddy ring.
pub(crate) fn rank_before(rank: usize, size: usize) -> usize {
    (rank + size - 1) % size
}

/// Whether rank `r`'s part of `stamp` is at hand: its own file, or the copy its buddy
/// (the next rank) keeps.
pub(crate) fn gettable(all: &[Holdings], r: usize, stamp: &Stamp) -> bool {
    all[r].own.contains(stamp) || all[(r + 1) % all.len()].copies.contains(stamp)
}

/// The stamps that some rank marked done and whose part every rank can get (from its
/// own file, or from the copy its buddy keeps), in order.
pub(crate) fn complete(all: &[Holdings]) -> Vec<Stamp> {
    let mut done: Vec<Stamp> = all.iter().flat_map(|h| h.done.iter().copied()).collect();
    done.sort_unstable();
    done.dedup();
    done.retain(|stamp| (0..all.len()).all(|r| gettable(all, r, stamp)));
    done
}

/// The latest complete stamp (see [`complete`]).
pub(crate) fn latest_complete(all: &[Holdings]) -> Option<Stamp> {
    complete(all).pop()
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
        // Every complete stamp, in order.
        let all = vec![held(&[a, b, c], &[], &[a, c]), held(&[a, b, c], &[], &[b])];
        assert_eq!(complete(&all), vec![a, b, c]);
    }

    #[test]
    fn file_names_parse_back() {
        assert_eq!(parse("own-3-1-17", "own"), Some((3, (1, 17))));
        assert_eq!(parse("own-3-1-17", "copy"), None);
        assert_eq!(parse("own-3-1-17.tmp", "own"), None);
        assert_eq!(parse("own-3-1", "own"), None);
        // Memo kinds share a prefix: each parses only its own.
        assert_eq!(parse("opcopy-3-1-17", "op"), None);
        assert_eq!(parse("opcopy-3-1-17", "opcopy"), Some((3, (1, 17))));
    }

    #[test]
    fn holdings_are_found_by_kind_and_rank() {
        let dir = std::env::temp_dir().join(format!("eau2-holdings-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        for name in [
            "op-1-0-3",
            "op-2-0-3",
            "opcopy-0-0-3",
            "opdone-2-0-3",
            "own-1-0-1",
        ] {
            write_whole(&dir.join(name), b"x").unwrap();
        }
        let h = Holdings::scan(&dir, &MEMOS, 1, 3);
        assert_eq!(h, held(&[(0, 3)], &[(0, 3)], &[(0, 3)]));
        remove_held(&dir, &MEMOS, (1, 0), |_| true);
        assert_eq!(
            Holdings::scan(&dir, &MEMOS, 1, 3),
            held(&[], &[], &[(0, 3)])
        );
        assert_eq!(Holdings::scan(&dir, &CHECKPOINTS, 1, 3).own, vec![(0, 1)]);
        fs::remove_dir_all(&dir).unwrap();
    }
}
