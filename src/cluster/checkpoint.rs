//! Checkpoints of a program's own state, for jobs that `eau2-launch --tolerate K`
//! restarts after a lost rank: [`Node::checkpoint`] saves each rank's state at a point
//! every rank reaches, and [`Node::restore`] hands it back in the next attempt, so a
//! hand-written SPMD loop resumes where the job last got to instead of from the start.
//!
//! **Where the state lives.** A restart ends every process of the job, so the state is
//! kept in files: in the folder `$TMPDIR/NAME` of the rank's host, NAME being the job's
//! (`EAU2_CHECKPOINTS`, set by eau2-launch when K > 0). Each rank writes its own state
//! there and sends a copy to each of its K buddies, the next ranks (`r + 1`, ...,
//! `r + K`, on other hosts whenever the ranks are spread over hosts), which write it to
//! the same folder of *their* hosts. A rank whose host is gone, and which the launcher
//! moved to another host, gets its state back from a copy.
//!
//! **When a checkpoint counts.** A checkpoint is complete once every rank has written
//! its file and its buddy's copy: the all-reduce that ends [`Node::checkpoint`] passes
//! only then, and each rank then writes a `done` marker and removes its older files. A
//! restore takes the latest checkpoint that some rank marked done and whose state is
//! still at hand for every rank (its own file, or its buddy's copy); a loss during a
//! checkpoint leaves the one before it. Checkpoints are named by (epoch, number), so
//! one saved in a later attempt is later whatever the numbers.
//!
//! Files: see `checkpoint_folder`, whose naming, holdings and completeness rules the
//! saved outputs of operators (`table::memo`) share; [`save`] and [`fetch`] are the
//! collective protocol both use.

use std::fs;
use std::path::PathBuf;

use bytes::Bytes;

use super::checkpoint_folder::{
    file, keeper, latest_complete, read_whole, remove_held, remove_loads, ring_buddies,
    write_whole, write_whole_with, CheckpointFolder, Holdings, Kinds, Stamp, WritePart,
    CHECKPOINTS, MEMOS,
};
use super::node::Node;
use crate::collectives::Wire;
use crate::error::{Error, Result};
use std::sync::atomic::Ordering;

/// Collective: saves what `part` writes as this rank's part of `stamp` in `kinds`'
/// files: its own file, a copy at each of its buddies (`buddies[r]` are rank r's), then
/// an all-reduce, after which every part and copy is written and each rank marks the
/// stamp done. When no rank has a buddy, the exchange is left out.
pub(crate) fn save(
    node: &Node,
    ck: &CheckpointFolder,
    kinds: &Kinds,
    stamp: Stamp,
    part: &WritePart<'_>,
    buddies: &[Vec<usize>],
) -> Result<()> {
    let (rank, size) = (node.rank(), node.size());
    ck.create()?;
    let own = file(&ck.dir, kinds.own, rank, stamp);
    write_whole_with(&own, part)?;
    if buddies.iter().any(|b| !b.is_empty()) {
        // The copies go to the buddies in one all-to-all: the same bytes in each of this
        // rank's buddies' slots, and a copy from every rank that counts this one a buddy.
        let mut out = vec![Bytes::new(); size];
        if !buddies[rank].is_empty() {
            let mut bytes = Vec::new();
            part(&mut bytes).map_err(|e| Error::io_path("encoding the copy of", &own, e))?;
            let bytes = Bytes::from(bytes);
            for &b in &buddies[rank] {
                out[b] = bytes.clone();
            }
        }
        let got = node.comm().all_to_all_bytes(out)?;
        for (from, theirs) in buddies.iter().enumerate() {
            if theirs.contains(&rank) {
                write_whole(&file(&ck.dir, kinds.copy, from, stamp), &got[from])?;
            }
        }
    }
    // Complete on every rank once this passes.
    node.comm().all_reduce(1u64, |a, b| a + b)?;
    write_whole(&file(&ck.dir, kinds.done, rank, stamp), b"")
}

/// Collective: this rank's part of the complete `stamp` of `kinds`, from its own file or,
/// when it has none (its host was lost and it was moved), from a copy that a buddy keeps
/// and sends it (the [`keeper`] every rank picks alike). `all` is what every rank holds.
/// The exchange is left out when every rank has its own file, unless `always` (which
/// keeps a checkpoint's restore at a fixed number of collective calls).
pub(crate) fn fetch(
    node: &Node,
    ck: &CheckpointFolder,
    kinds: &Kinds,
    stamp: Stamp,
    all: &[Holdings],
    always: bool,
) -> Result<Vec<u8>> {
    let (rank, size) = (node.rank(), node.size());
    let mut got = Vec::new();
    if always || (0..size).any(|r| !all[r].own.contains(&stamp)) {
        let mut out = vec![Bytes::new(); size];
        for (r, slot) in out.iter_mut().enumerate() {
            if r != rank && keeper(all, r, &stamp) == Some(rank) {
                *slot = Bytes::from(read_whole(&file(&ck.dir, kinds.copy, r, stamp))?);
            }
        }
        got = node.comm().all_to_all_bytes(out)?;
    }
    match keeper(all, rank, &stamp) {
        Some(k) if k == rank => read_whole(&file(&ck.dir, kinds.own, rank, stamp)),
        Some(k) => Ok(got[k].to_vec()),
        None => Err(Error::internal(format!(
            "rank {rank} has no part of {stamp:?}, which every rank agreed was complete"
        ))),
    }
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
        let buddies = ring_buddies(self.size(), ck.replicas);
        save(
            self,
            ck,
            &CHECKPOINTS,
            stamp,
            &|w| w.write_all(&bytes),
            &buddies,
        )?;
        // Older checkpoints are no longer needed (best effort: a file left behind is only
        // space, removed with the folder when the job ends).
        remove_held(&ck.dir, &CHECKPOINTS, self.rank(), |old| old < stamp);
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
        let rank = self.rank();
        let mine = Holdings::scan(&ck.dir, &CHECKPOINTS, rank);
        let all: Vec<Holdings> = self.comm().all_gather(mine)?;
        let Some(stamp) = latest_complete(&all) else {
            return Ok(None);
        };
        let bytes = fetch(self, ck, &CHECKPOINTS, stamp, &all, true)?;
        let state = S::read_from_buffer(&bytes).map_err(|e| {
            Error::decode(format!(
                "rank {rank}'s state of checkpoint {stamp:?} does not decode as the type \
                 restore asked for: {e}"
            ))
        })?;
        Ok(Some(state))
    }
}

/// The checkpoint and memo files a rank keeps, noted before it leaves the job, to be removed once
/// it has left cleanly ([`Leftovers::remove`]).
pub(crate) struct Leftovers {
    dir: PathBuf,
    rank: usize,
}

impl Leftovers {
    /// What `node` keeps, when the job keeps checkpoints.
    pub(crate) fn of(node: &Node) -> Option<Leftovers> {
        node.checkpoints().map(|ck| Leftovers {
            dir: ck.dir.clone(),
            rank: node.rank(),
        })
    }

    /// Removes the files, once the job has succeeded (every rank passed the final
    /// barrier, so nothing can restart it). The launcher removes its own host's folder
    /// as well; this reaches the other hosts.
    pub(crate) fn remove(self) {
        for kinds in [&CHECKPOINTS, &MEMOS] {
            remove_held(&self.dir, kinds, self.rank, |_| true);
        }
        remove_loads(&self.dir, self.rank);
        // Empty once every rank of this host is done with it; until then this fails.
        let _ = fs::remove_dir(&self.dir);
    }
}
