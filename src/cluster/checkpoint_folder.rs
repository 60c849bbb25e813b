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
//! R's part), `COPY-R-E-N` (rank R's part, kept by one of R's buddies) and `DONE-H-E-N`
//! (rank H saw (E, N) complete). The names say whose part it is, since the ranks of one
//! host share the folder.
//!
//! **Replicas.** Under `--tolerate K` every part has K copies besides its own file, at
//! K buddies: the ranks after it in the ring (`r + 1`, `r + 2`, ...), and for operator
//! outputs only those whose folders differ from the owner's and from each other's (a
//! copy in a folder that already holds one protects nothing). So a saved stamp survives
//! any K lost hosts while it has K buddies on other hosts ([`buddies_by_folder`]).

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
    /// How many copies of each part go to buddies (K of `--tolerate K`).
    pub(crate) replicas: usize,
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
    /// Per rank: the buddies it sends copies of its memos to (see
    /// [`buddies_by_folder`]).
    pub(crate) buddies: Vec<Vec<usize>>,
    /// What each rank held when the attempt began.
    pub(crate) held: Vec<Holdings>,
    /// The stamps of operators 1, 2, ... that are resumed (a prefix of the program).
    pub(crate) resume: Vec<Stamp>,
}

impl CheckpointFolder {
    /// The folder `name` under this host's temporary folder, for attempt `epoch` of a job
    /// that keeps `replicas` copies of each part.
    pub(crate) fn new(name: &str, epoch: u32, replicas: usize) -> CheckpointFolder {
        CheckpointFolder {
            dir: std::env::temp_dir().join(name),
            epoch,
            replicas,
            saved: AtomicU64::new(0),
            memos: MemoState::default(),
        }
    }

    /// Makes the folder if it is not there yet (every save and record goes into it).
    pub(crate) fn create(&self) -> Result<()> {
        fs::create_dir_all(&self.dir).map_err(|e| Error::io_path("creating", &self.dir, e))
    }
}

/// What a rank holds of each saved stamp of one kind, as it tells the others.
#[derive(Readable, Writable, Clone, Debug, Default, PartialEq)]
pub(crate) struct Holdings {
    /// Stamps whose own file this rank has.
    pub(crate) own: Vec<Stamp>,
    /// The copies in this rank's folder: (whose part, stamp). Ranks of one host share
    /// the folder, so each of them reports the same copies and any can send one.
    pub(crate) copies: Vec<(usize, Stamp)>,
    /// Stamps this rank, or a rank of this host, marked done.
    pub(crate) done: Vec<Stamp>,
}

impl Holdings {
    /// What `rank` holds in `dir` of `kinds`.
    pub(crate) fn scan(dir: &Path, kinds: &Kinds, rank: usize) -> Holdings {
        Holdings {
            own: stamps(dir, kinds.own, Some(rank)),
            copies: named(dir, kinds.copy),
            done: stamps(dir, kinds.done, None),
        }
    }
}

/// Writes `bytes` to `path` whole or not at all: a temporary beside it, then a rename.
pub(crate) fn write_whole(path: &Path, bytes: &[u8]) -> Result<()> {
    write_whole_with(path, &|w| w.write_all(bytes))
}

/// Writes what `part` writes to `path`, whole or not at all: into a temporary beside
/// it (buffered), then a rename. Streaming lets a large part go to the file without
/// being put together in memory first. The temporary is this process's own: two ranks
/// of one host may write the same copy at once (both buddies of its owner), and each
/// rename then puts a whole file in place.
pub(crate) fn write_whole_with(path: &Path, part: &WritePart<'_>) -> Result<()> {
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    let file = fs::File::create(&tmp).map_err(|e| Error::io_path("creating", &tmp, e))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    part(&mut out)
        .and_then(|()| out.flush())
        .map_err(|e| Error::io_path("writing saved state (what --tolerate keeps under TMPDIR: operator outputs and checkpoints) to", &tmp, e))?;
    drop(out);
    fs::rename(&tmp, path).map_err(|e| Error::io_path("renaming saved state to", path, e))
}

/// Writes a rank's part of a saved stamp to a stream (a file, or a buffer for the copy
/// sent to the buddy).
pub(crate) type WritePart<'a> = dyn Fn(&mut dyn std::io::Write) -> std::io::Result<()> + 'a;

/// Reads the file `path` whole.
pub(crate) fn read_whole(path: &Path) -> Result<Vec<u8>> {
    fs::read(path).map_err(|e| Error::io_path("reading", path, e))
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

/// The (rank, stamp) of every file `KIND-R-E-N` in `dir` (none when it does not exist),
/// sorted.
fn named(dir: &Path, kind: &str) -> Vec<(usize, Stamp)> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<(usize, Stamp)> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| parse(&e.file_name().to_string_lossy(), kind))
        .collect();
    found.sort_unstable();
    found
}

/// The stamps of the files `KIND-rank-E-N` in `dir` (of any rank when `None`), sorted.
fn stamps(dir: &Path, kind: &str, rank: Option<usize>) -> Vec<Stamp> {
    let mut found: Vec<Stamp> = named(dir, kind)
        .into_iter()
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

/// Removes, of the stamps `which` picks, `rank`'s own parts and markers in `dir` and
/// every copy there. Copies are not one rank's: the ranks of a host share the folder,
/// and every caller removes stamps no rank needs any more (older than a complete one,
/// or all). A file that will not go is left (it is only space, removed with the folder
/// when the job ends); two ranks removing the same copy is harmless.
pub(crate) fn remove_held(dir: &Path, kinds: &Kinds, rank: usize, which: impl Fn(Stamp) -> bool) {
    for (kind, whose) in [
        (kinds.own, Some(rank)),
        (kinds.copy, None),
        (kinds.done, Some(rank)),
    ] {
        for (r, stamp) in named(dir, kind) {
            if whose.is_none_or(|w| w == r) && which(stamp) {
                let _ = fs::remove_file(file(dir, kind, r, stamp));
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

/// Per rank, its buddies when every rank keeps `replicas` copies: the next ranks of the
/// ring (`r + 1`, `r + 2`, ...), at most one per other rank. For saves whose folders are
/// not known (checkpoints: see [`buddies_by_folder`] for operator outputs).
pub(crate) fn ring_buddies(size: usize, replicas: usize) -> Vec<Vec<usize>> {
    (0..size)
        .map(|r| {
            (1..=replicas.min(size - 1))
                .map(|d| (r + d) % size)
                .collect()
        })
        .collect()
}

/// Per rank, its buddies when rank `r` saves into the folder `folders[r]` and keeps
/// `replicas` copies: the next ranks of the ring whose folders differ from `r`'s and
/// from those already picked, so that every copy is on another host. A job on one host
/// has no buddies: a copy beside the original protects nothing.
pub(crate) fn buddies_by_folder<F: PartialEq>(folders: &[F], replicas: usize) -> Vec<Vec<usize>> {
    let size = folders.len();
    (0..size)
        .map(|r| {
            let mut picked: Vec<usize> = Vec::new();
            for b in (1..size).map(|d| (r + d) % size) {
                if picked.len() == replicas {
                    break;
                }
                let taken = |f: &F| *f == folders[r] || picked.iter().any(|&p| folders[p] == *f);
                if !taken(&folders[b]) {
                    picked.push(b);
                }
            }
            picked
        })
        .collect()
}

/// Which rank can hand rank `r` its part of `stamp`: `r` itself (its own file), else the
/// first rank (by number) whose folder holds a copy of it; `None` when no rank can.
/// Every rank computes the same answer from the same holdings.
pub(crate) fn keeper(all: &[Holdings], r: usize, stamp: &Stamp) -> Option<usize> {
    if all[r].own.contains(stamp) {
        return Some(r);
    }
    (0..all.len()).find(|&s| s != r && all[s].copies.contains(&(r, *stamp)))
}

/// Whether rank `r`'s part of `stamp` is at hand (see [`keeper`]).
pub(crate) fn gettable(all: &[Holdings], r: usize, stamp: &Stamp) -> bool {
    keeper(all, r, stamp).is_some()
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

    /// Rank `r`'s holdings among `n` ranks with one copy each, at the next rank: `copies`
    /// are of the previous rank's part.
    fn held(r: usize, n: usize, own: &[Stamp], copies: &[Stamp], done: &[Stamp]) -> Holdings {
        Holdings {
            own: own.to_vec(),
            copies: copies.iter().map(|&s| ((r + n - 1) % n, s)).collect(),
            done: done.to_vec(),
        }
    }

    /// Holdings of `n` ranks, each from (own, copies of the previous rank, done).
    fn ring(parts: &[(&[Stamp], &[Stamp], &[Stamp])]) -> Vec<Holdings> {
        let n = parts.len();
        parts
            .iter()
            .enumerate()
            .map(|(r, (own, copies, done))| held(r, n, own, copies, done))
            .collect()
    }

    #[test]
    fn the_latest_checkpoint_every_rank_can_get_wins() {
        let (a, b, c) = ((0, 1), (0, 2), (1, 1));
        // Every rank has its own files of a and b; b was marked done by rank 1 only.
        let all = ring(&[
            (&[a, b], &[a, b], &[a]),
            (&[a, b], &[a, b], &[b]),
            (&[a, b], &[a, b], &[a]),
        ]);
        assert_eq!(latest_complete(&all), Some(b));
        // Rank 2's host is gone (it has nothing); its buddy, rank 0, keeps copies of it.
        let all = ring(&[
            (&[a, b], &[a, b], &[b]),
            (&[a, b], &[a, b], &[b]),
            (&[], &[], &[]),
        ]);
        assert_eq!(latest_complete(&all), Some(b));
        assert_eq!(keeper(&all, 2, &b), Some(0));
        assert_eq!(keeper(&all, 1, &b), Some(1));
        // ... unless rank 0 lost its copy of b too (two losses at once): b cannot be
        // restored, and a's completion was forgotten when b completed, so nothing is.
        let all = ring(&[
            (&[a, b], &[a], &[b]),
            (&[a, b], &[a, b], &[b]),
            (&[], &[], &[]),
        ]);
        assert_eq!(latest_complete(&all), None);
        // A later attempt's checkpoint is later, whatever its number.
        let all = ring(&[(&[b, c], &[b, c], &[c]), (&[b, c], &[b, c], &[b])]);
        assert_eq!(latest_complete(&all), Some(c));
        // Nothing done: nothing to restore.
        let all = ring(&[(&[a], &[a], &[]), (&[a], &[a], &[])]);
        assert_eq!(latest_complete(&all), None);
        // Every complete stamp, in order.
        let all = ring(&[(&[a, b, c], &[], &[a, c]), (&[a, b, c], &[], &[b])]);
        assert_eq!(complete(&all), vec![a, b, c]);
    }

    #[test]
    fn with_two_copies_a_part_survives_its_owner_and_one_buddy() {
        let a = (0, 1);
        // Four ranks, each part copied to the next two; ranks 1 and 2 lost everything.
        // Rank 1's copies were at 2 (gone) and 3; rank 2's at 3 and 0.
        let copies = |of: &[usize]| -> Vec<(usize, Stamp)> { of.iter().map(|&r| (r, a)).collect() };
        let all = vec![
            Holdings {
                own: vec![a],
                copies: copies(&[2, 3]),
                done: vec![a],
            },
            Holdings::default(),
            Holdings::default(),
            Holdings {
                own: vec![a],
                copies: copies(&[1, 2]),
                done: vec![a],
            },
        ];
        assert_eq!(keeper(&all, 1, &a), Some(3));
        assert_eq!(keeper(&all, 2, &a), Some(0));
        assert_eq!(complete(&all), vec![a]);
    }

    #[test]
    fn buddies_are_the_next_ranks_and_on_other_hosts_when_hosts_are_known() {
        assert_eq!(ring_buddies(4, 1), vec![vec![1], vec![2], vec![3], vec![0]]);
        assert_eq!(ring_buddies(3, 2), vec![vec![1, 2], vec![2, 0], vec![0, 1]]);
        // More copies than other ranks: one per other rank.
        assert_eq!(ring_buddies(2, 5), vec![vec![1], vec![0]]);
        // Two ranks per host (hosts A A B B C C): the copies skip the rank's own host
        // and a host that already has one.
        let hosts = ['A', 'A', 'B', 'B', 'C', 'C'];
        let b = buddies_by_folder(&hosts, 2);
        assert_eq!(b[0], vec![2, 4]);
        assert_eq!(b[1], vec![2, 4]);
        assert_eq!(b[3], vec![4, 0]);
        assert_eq!(b[5], vec![0, 2]);
        // Fewer other hosts than copies: as many as there are hosts.
        assert_eq!(
            buddies_by_folder(&['A', 'B', 'A', 'B'], 3),
            vec![vec![1], vec![2], vec![3], vec![0]]
        );
        // One host: no copies at all.
        assert_eq!(
            buddies_by_folder(&['A'; 3], 1),
            vec![Vec::<usize>::new(); 3]
        );
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
            "opcopy-2-0-4",
            "opdone-2-0-3",
            "own-1-0-1",
        ] {
            write_whole(&dir.join(name), b"x").unwrap();
        }
        let h = Holdings::scan(&dir, &MEMOS, 1);
        let want = Holdings {
            own: vec![(0, 3)],
            copies: vec![(0, (0, 3)), (2, (0, 4))],
            done: vec![(0, 3)],
        };
        assert_eq!(h, want);
        // Rank 1's own parts and markers go, and every copy; rank 2's own part stays.
        remove_held(&dir, &MEMOS, 1, |_| true);
        let left = Holdings {
            own: vec![],
            copies: vec![],
            done: vec![(0, 3)],
        };
        assert_eq!(Holdings::scan(&dir, &MEMOS, 1), left);
        assert_eq!(Holdings::scan(&dir, &MEMOS, 2).own, vec![(0, 3)]);
        assert_eq!(Holdings::scan(&dir, &CHECKPOINTS, 1).own, vec![(0, 1)]);
        fs::remove_dir_all(&dir).unwrap();
    }
}
