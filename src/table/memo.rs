//! Operator outputs saved and reused across attempts ("memos"), so that a job that
//! `eau2-launch --tolerate K` restarts after a lost rank continues from the boundary of
//! the last operator every rank completed instead of from its inputs.
//!
//! Only when the job keeps checkpoints (`--tolerate K > 0` under eau2-launch); without
//! them [`op`] runs the operator's body and nothing else, not even a collective.
//!
//! **Numbering.** Every outermost operator the program enters (an operator that another
//! operator calls does not count) takes the next number of a per-node sequence. Every
//! rank calls operators in the same order, so the numbers agree, and they are the same
//! in every attempt up to the point where the program's course depends on them (it
//! never does: a resumed operator returns the same frame as the first attempt's).
//! Temporary names (`~N`) are not used: a skipped operator draws none of its inner ones.
//!
//! **Save.** When operator N finishes, each rank writes its chunks of the output (each
//! with its place in the frame's order, the global chunk index, and the schema) to its
//! `op-R-E-N` file, sends a copy to its buddy, which keeps `opcopy-R-E-N`, then an
//! all-reduce and a `done` marker: the protocol of `node.checkpoint`
//! (`cluster::checkpoint::save`). The copy is left out for a rank whose buddy's folder is
//! its own (one host): a copy beside the original protects nothing. Chunks are encoded
//! as the store sends them between ranks ([`Chunk::to_bytes`]).
//!
//! **Resume.** At an attempt's first operator the ranks tell each other (one
//! all-gather) their folder's identity and, from the second attempt on, which memos
//! they hold. The operators 1..P whose memos are complete (some rank marked done, every
//! rank can read its part from its own file or its buddy's copy) are resumed: their
//! bodies do not run, and each rank rebuilds its chunks of the output from its part, in
//! the saved order, so the frame has the rows, order and chunk layout of the first
//! attempt's. Later operators save memos again, so a second loss resumes later still.
//!
//! **Inputs.** A load records the identity of the files it read (`load-R-L` files, L
//! counting the attempt's loads); a later attempt whose load L reads another version
//! (the file was replaced) drops every memo and resumes nothing from that load on, with
//! a note on stderr: memos of the old content must not meet a load of the new.

use std::fs;
use std::os::unix::fs::MetadataExt as _;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use speedy::{Readable, Writable};

use super::DistFrame;
use crate::cluster::checkpoint::{fetch, save};
use crate::cluster::checkpoint_folder::{
    buddies_by_folder, complete, file, read_whole, remove_held, write_whole, CheckpointFolder,
    Holdings, MemoPlan, MemoState, Stamp, MEMOS,
};
use crate::cluster::Node;
use crate::error::{Error, Result};
use crate::frame::{Chunk, Schema};
use crate::kv::Key;
use crate::sor::FileIdentity;
use crate::table::ops::frame_of_row_chunks;

/// What a memo file holds before its chunks.
#[derive(Readable, Writable)]
struct Header {
    /// The operator that made it (`sort_by`, `join`, ...): a resumed attempt whose
    /// operator of this number is another one does not take it.
    operator: String,
    /// The output's schema.
    schema: Schema,
    /// The output's key, when it is not an operator's temporary name (which a resumed
    /// attempt draws afresh).
    key: Option<(String, u32)>,
    /// Per chunk of this rank: its place in the frame's order (its global index).
    order: Vec<u64>,
    /// The encoded length of each column chunk, chunk by chunk, column by column.
    lens: Vec<u64>,
}

/// Leaves an operator: one level less deep.
struct Depth<'a>(&'a MemoState);

impl Drop for Depth<'_> {
    fn drop(&mut self) {
        self.0.depth.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Runs the operator `body` (named `operator`, e.g. `"sort_by"`) of a program on `node`:
/// when the job keeps checkpoints and this is an outermost operator, its output is
/// resumed from an earlier attempt's memo (the body does not run) or saved as a memo
/// once the body has made it.
pub(crate) fn op<'n>(
    node: &'n Node,
    operator: &'static str,
    body: impl FnOnce() -> Result<DistFrame<'n>>,
) -> Result<DistFrame<'n>> {
    let Some(ck) = node.checkpoints() else {
        return body();
    };
    let memos = &ck.memos;
    let outer = memos.depth.fetch_add(1, Ordering::SeqCst) == 0;
    let _depth = Depth(memos);
    if !outer {
        return body();
    }
    let n = memos.next.fetch_add(1, Ordering::SeqCst) + 1;
    let plan = plan(node, ck)?;
    if let Some(&stamp) = plan.resume.get(n as usize - 1) {
        match resume(node, ck, &plan, stamp, operator)? {
            Ok(out) => return Ok(out),
            Err(saved) => stop_resuming(node, ck, (n, operator), &saved),
        }
    }
    let out = body()?;
    save_output(node, ck, &plan, ((ck.epoch, n), operator), &out)?;
    Ok(out)
}

/// Operator `n` of this attempt is `operator`, but the memo saved under that number was
/// made by `saved`: the program's operators are not the same sequence in every attempt
/// (its course depends on something besides its inputs). Resuming goes no further:
/// operators from `n` on are computed again, and the earlier attempts' memos of them
/// are removed so that no later attempt mixes them with this one's. Every rank reads
/// the same name (every part of a memo was saved by the same operator), so all decide
/// alike without a collective.
fn stop_resuming(node: &Node, ck: &CheckpointFolder, (n, operator): (u64, &str), saved: &str) {
    resume_only(&ck.memos, n as usize - 1);
    remove_held(&ck.dir, &MEMOS, node.rank(), |stamp| stamp.1 >= n);
    if node.rank() == 0 {
        tracing::warn!(
            "operator {n} is {operator} in this attempt but was {saved} when its output was \
             saved: the program's operators differ between attempts (does their order depend \
             on something besides the program's inputs?); operators from {n} on are computed \
             again"
        );
    }
}

/// Cuts the attempt's agreed plan to resume only its first `keep` operators; the rest
/// are computed again. Every rank cuts alike (each caller's decision is the same on
/// every rank).
fn resume_only(memos: &MemoState, keep: usize) {
    let mut slot = memos.plan.lock();
    if let Some(plan) = slot.as_ref() {
        let mut cut = (**plan).clone();
        cut.resume.truncate(keep);
        *slot = Some(Arc::new(cut));
    }
}

/// Runs the operator `body` of a program on `node` without saving its output: for the
/// operators whose output shares its input's chunks (select, rename, concat), which a
/// restarted attempt re-runs on its resumed inputs at no cost, and whose memo would
/// write the same bytes again. Operators it calls inside are not numbered, as under
/// [`op`]; it takes no number itself, so the resumed prefix is unchanged by it.
pub(crate) fn shared<'n>(
    node: &'n Node,
    body: impl FnOnce() -> Result<DistFrame<'n>>,
) -> Result<DistFrame<'n>> {
    let Some(ck) = node.checkpoints() else {
        return body();
    };
    ck.memos.depth.fetch_add(1, Ordering::SeqCst);
    let _depth = Depth(&ck.memos);
    body()
}

/// The attempt's plan, agreed at its first operator (a collective then, and only then).
fn plan(node: &Node, ck: &CheckpointFolder) -> Result<Arc<MemoPlan>> {
    let mut slot = ck.memos.plan.lock();
    if let Some(plan) = slot.as_ref() {
        return Ok(Arc::clone(plan));
    }
    let rank = node.rank();
    ck.create()?;
    let meta = fs::metadata(&ck.dir).map_err(|e| Error::io_path("reading", &ck.dir, e))?;
    let held = match ck.epoch {
        0 => Holdings::default(),
        _ => Holdings::scan(&ck.dir, &MEMOS, rank),
    };
    let changed = ck.memos.changed.load(Ordering::SeqCst);
    let all: Vec<((u64, u64), Holdings, bool)> =
        node.comm()
            .all_gather(((meta.dev(), meta.ino()), held, changed))?;
    let folders: Vec<(u64, u64)> = all.iter().map(|(f, _, _)| *f).collect();
    let buddies = buddies_by_folder(&folders, ck.replicas);
    let changed = all.iter().any(|(_, _, c)| *c);
    let held: Vec<Holdings> = all.into_iter().map(|(_, h, _)| h).collect();
    let resume = if changed {
        drop_all(node, ck);
        if rank == 0 {
            tracing::warn!(
                "an input changed since the operators' outputs were saved (a file was \
                 replaced): every operator is computed again"
            );
        }
        Vec::new()
    } else {
        resumable(&complete(&held))
    };
    if rank == 0 && ck.epoch > 0 {
        let epochs = resume.iter().map(|s| s.0).max().unwrap_or(0);
        tracing::warn!("resumed {} operators saved by epoch {epochs}", resume.len());
    }
    let plan = Arc::new(MemoPlan {
        buddies,
        held,
        resume,
    });
    *slot = Some(Arc::clone(&plan));
    Ok(plan)
}

/// The stamps of operators 1, 2, ... while each has a complete memo (the latest attempt's
/// when several have one): a prefix of the program, its last consistent point.
fn resumable(complete: &[Stamp]) -> Vec<Stamp> {
    let mut resume = Vec::new();
    for n in 1.. {
        match complete.iter().filter(|s| s.1 == n).max() {
            Some(&stamp) => resume.push(stamp),
            None => break,
        }
    }
    resume
}

/// Removes every memo this rank keeps (its own parts, its copies, its markers).
fn drop_all(node: &Node, ck: &CheckpointFolder) {
    remove_held(&ck.dir, &MEMOS, node.rank(), |_| true);
}

/// Collective: saves this rank's part of `out`, the output of the operator `stamp`
/// names.
fn save_output(
    node: &Node,
    ck: &CheckpointFolder,
    plan: &MemoPlan,
    (stamp, operator): (Stamp, &str),
    out: &DistFrame<'_>,
) -> Result<()> {
    let local = out.local_chunks();
    let ncols = out.ncols();
    let cells: Vec<(usize, usize)> = local
        .iter()
        .flat_map(|&i| (0..ncols).map(move |c| (c, i)))
        .collect();
    let chunks: Vec<Arc<Chunk>> = cells
        .iter()
        .map(|&(c, i)| out.chunk(c, i))
        .collect::<Result<_>>()?;
    let lens = chunks
        .iter()
        .map(|c| Writable::<speedy::LittleEndian>::bytes_needed(&**c).map(|n| n as u64))
        .collect::<std::result::Result<Vec<u64>, _>>()
        .map_err(|e| Error::internal(format!("sizing a chunk for a memo: {e}")))?;
    let header = Header {
        operator: operator.to_string(),
        schema: out.schema().clone(),
        key: (!out.temp).then(|| (out.key.name().to_string(), out.key.home() as u32)),
        order: local.iter().map(|&i| i as u64).collect(),
        lens,
    };
    let head = header
        .write_to_vec()
        .map_err(|e| Error::internal(format!("encoding a memo's header: {e}")))?;
    // Streamed to the file chunk by chunk, each encoded as the store sends it to another
    // rank: no copy of the output is put together in memory.
    let part = |w: &mut dyn std::io::Write| -> std::io::Result<()> {
        w.write_all(&(head.len() as u64).to_le_bytes())?;
        w.write_all(&head)?;
        for chunk in &chunks {
            chunk
                .write_to_stream(&mut *w)
                .map_err(std::io::Error::other)?;
        }
        Ok(())
    };
    save(node, ck, &MEMOS, stamp, &part, &plan.buddies)
}

/// Collective: the output of the operator `stamp` names, rebuilt from its memo.
/// `Ok(Err(saved))` when the memo was made by another operator, `saved`.
fn resume<'n>(
    node: &'n Node,
    ck: &CheckpointFolder,
    plan: &MemoPlan,
    stamp: Stamp,
    operator: &str,
) -> Result<std::result::Result<DistFrame<'n>, String>> {
    let bytes = fetch(node, ck, &MEMOS, stamp, &plan.held, false)?;
    let path = file(&ck.dir, MEMOS.own, node.rank(), stamp);
    let bad = |why: String| {
        Error::decode(format!(
            "rank {}'s memo of operator {} (saved by epoch {}, {}): {why}",
            node.rank(),
            stamp.1,
            stamp.0,
            path.display()
        ))
    };
    let head_len = bytes
        .get(..8)
        .map(|b| u64::from_le_bytes(b.try_into().unwrap_or_default()) as usize)
        .ok_or_else(|| bad("shorter than its header".into()))?;
    let body_at = 8usize
        .checked_add(head_len)
        .filter(|&end| end <= bytes.len())
        .ok_or_else(|| bad("shorter than its header".into()))?;
    let header =
        Header::read_from_buffer(&bytes[8..body_at]).map_err(|e| bad(format!("header: {e}")))?;
    if header.operator != operator {
        return Ok(Err(header.operator));
    }
    let ncols = header.schema.width();
    if header.lens.len() != header.order.len() * ncols {
        return Err(bad(format!(
            "{} chunk lengths for {} chunks of {ncols} columns",
            header.lens.len(),
            header.order.len()
        )));
    }
    let mut at = body_at;
    let mut rows = Vec::with_capacity(header.order.len());
    for i in 0..header.order.len() {
        let mut row = Vec::with_capacity(ncols);
        for c in 0..ncols {
            let len = header.lens[i * ncols + c] as usize;
            let piece = at
                .checked_add(len)
                .and_then(|end| bytes.get(at..end))
                .ok_or_else(|| bad("shorter than its chunks".into()))?;
            row.push(Arc::new(
                Chunk::from_bytes(piece).map_err(|e| bad(e.to_string()))?,
            ));
            at += len;
        }
        rows.push(row);
    }
    drop(bytes);
    let local = frame_of_row_chunks(&header.schema, rows)?;
    let frame = match header.key {
        None => DistFrame::finish_ordered(node, &local, &header.order)?,
        Some((name, home)) => {
            DistFrame::assemble(node, &Key::new(name, home as usize), &local, &header.order)?
        }
    };
    Ok(Ok(frame))
}

/// A load read the files `ids`: records them in the attempt that first loads, and from
/// the second attempt on checks them against the record. A different version (a file
/// replaced between attempts) drops every memo: the ranks agree on it at the attempt's
/// first operator, or here when that has passed (one all-reduce, only while memos are
/// still being resumed). Without checkpoints, nothing.
pub(crate) fn loaded(node: &Node, ids: &[FileIdentity]) -> Result<()> {
    let Some(ck) = node.checkpoints() else {
        return Ok(());
    };
    let memos = &ck.memos;
    if memos.depth.load(Ordering::SeqCst) > 0 {
        // A load inside an operator is part of what the operator's memo stands for.
        return Ok(());
    }
    let l = memos.loads.fetch_add(1, Ordering::SeqCst) + 1;
    ck.create()?;
    let record = ck.dir.join(format!("load-{}-{l}", node.rank()));
    let now = ids
        .to_vec()
        .write_to_vec()
        .map_err(|e| Error::internal(format!("encoding a load's file identities: {e}")))?;
    // No record yet (the first attempt to load this far) is no difference.
    let before = read_whole(&record).ok();
    let differs = before.as_ref().is_some_and(|before| *before != now);
    if before.is_none() || differs {
        write_whole(&record, &now)?;
    }
    let plan = memos.plan.lock().clone();
    match plan {
        // Before the first operator: told there.
        None => {
            if differs {
                memos.changed.store(true, Ordering::SeqCst);
            }
        }
        // After it, while operators past this point would still be resumed: agree now.
        Some(plan) if (memos.next.load(Ordering::SeqCst) as usize) < plan.resume.len() => {
            let any = node.comm().all_reduce(differs as u64, |a, b| a.max(b))?;
            if any > 0 {
                drop_all(node, ck);
                let done = memos.next.load(Ordering::SeqCst) as usize;
                resume_only(memos, done);
                if node.rank() == 0 {
                    tracing::warn!(
                        "an input changed since the memos were saved: operators from \
                         number {} on are recomputed",
                        done + 1
                    );
                }
            }
        }
        Some(_) => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_resumed_operators_are_a_prefix() {
        assert_eq!(resumable(&[]), Vec::<Stamp>::new());
        // 1 and 2 from epoch 0, 3 from epoch 1; 5 without 4 is not resumed.
        let complete = [(0, 1), (0, 2), (1, 3), (1, 5)];
        assert_eq!(resumable(&complete), vec![(0, 1), (0, 2), (1, 3)]);
        // The latest attempt's memo of an operator wins.
        assert_eq!(resumable(&[(0, 1), (1, 1)]), vec![(1, 1)]);
    }
}
