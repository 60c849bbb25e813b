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
//! Files: see `checkpoint_folder`, whose naming, holdings and completeness rules the
//! saved outputs of operators (`table::memo`) share; [`save`] and [`fetch`] are the
//! collective protocol both use.

use std::fs;
use std::path::PathBuf;

use bytes::Bytes;

use super::checkpoint_folder::{
    file, io_err, latest_complete, rank_before, read_whole, remove_held, remove_loads, write_whole,
    write_whole_with, CheckpointFolder, Holdings, Kinds, Stamp, WritePart, CHECKPOINTS, MEMOS,
};
use super::node::Node;
use crate::collectives::Wire;
use crate::error::{Error, Result};
use std::sync::atomic::Ordering;

/// Collective: saves what `part` writes as this rank's part of `stamp` in `kinds`'
/// files: its own file, a copy at its buddy (the next rank), then an all-reduce, after
/// which every part and copy is written and each rank marks the stamp done. `copies`
/// says which ranks send a copy (`None`: all); when none does, the exchange is left out.
pub(crate) fn save(
    node: &Node,
    ck: &CheckpointFolder,
    kinds: &Kinds,
    stamp: Stamp,
    part: &WritePart<'_>,
    copies: Option<&[bool]>,
) -> Result<()> {
    let (rank, size) = (node.rank(), node.size());
    fs::create_dir_all(&ck.dir).map_err(|e| io_err("creating", &ck.dir, e))?;
    let own = file(&ck.dir, kinds.own, rank, stamp);
    write_whole_with(&own, part)?;
    let sends = |r: usize| copies.is_none_or(|c| c[r]);
    if (0..size).any(sends) {
        // The copy goes to the buddy (an all-to-all with one full slot: every rank sends
        // one part and receives one).
        let buddy = (rank + 1) % size;
        let from = rank_before(rank, size);
        let mut out = vec![Bytes::new(); size];
        if sends(rank) {
            let mut bytes = Vec::new();
            part(&mut bytes).map_err(|e| io_err("encoding the copy of", &own, e))?;
            out[buddy] = Bytes::from(bytes);
        }
        let got = node.comm().all_to_all_bytes(out)?;
        if sends(from) {
            write_whole(&file(&ck.dir, kinds.copy, from, stamp), &got[from])?;
        }
    }
    // Complete on every rank once this passes.
    node.comm().all_reduce(1u64, |a, b| a + b)?;
    write_whole(&file(&ck.dir, kinds.done, rank, stamp), b"")
}

/// Collective: this rank's part of the complete `stamp` of `kinds`, from its own file or,
/// when it has none (its host was lost and it was moved), from the copy its buddy (the
/// next rank) keeps and sends it. `all` is what every rank holds. The exchange is left
/// out when every rank has its own file, unless `always` (which keeps a checkpoint's
/// restore at a fixed number of collective calls).
pub(crate) fn fetch(
    node: &Node,
    ck: &CheckpointFolder,
    kinds: &Kinds,
    stamp: Stamp,
    all: &[Holdings],
    always: bool,
) -> Result<Vec<u8>> {
    let (rank, size) = (node.rank(), node.size());
    let from = rank_before(rank, size);
    let mut got = Vec::new();
    if always || (0..size).any(|r| !all[r].own.contains(&stamp)) {
        // A rank without its own file gets the copy its buddy keeps: this rank keeps the
        // previous rank's.
        let mut out = vec![Bytes::new(); size];
        if !all[from].own.contains(&stamp) {
            out[from] = Bytes::from(read_whole(&file(&ck.dir, kinds.copy, from, stamp))?);
        }
        got = node.comm().all_to_all_bytes(out)?;
    }
    if all[rank].own.contains(&stamp) {
        read_whole(&file(&ck.dir, kinds.own, rank, stamp))
    } else {
        Ok(got[(rank + 1) % size].to_vec())
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
        save(
            self,
            ck,
            &CHECKPOINTS,
            stamp,
            &|w| w.write_all(&bytes),
            None,
        )?;
        // Older checkpoints are no longer needed (best effort: a file left behind is only
        // space, removed with the folder when the job ends).
        let (rank, from) = (self.rank(), rank_before(self.rank(), self.size()));
        remove_held(&ck.dir, &CHECKPOINTS, (rank, from), |old| old < stamp);
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
        let mine = Holdings::scan(&ck.dir, &CHECKPOINTS, rank, size);
        let all: Vec<Holdings> = self.comm().all_gather(&mine)?;
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
        for kinds in [&CHECKPOINTS, &MEMOS] {
            remove_held(&self.dir, kinds, (self.rank, self.from), |_| true);
        }
        remove_loads(&self.dir, self.rank);
        // Empty once every rank of this host is done with it; until then this fails.
        let _ = fs::remove_dir(&self.dir);
    }
}
