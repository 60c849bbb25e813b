//! Writing a distributed frame as text, collectively: into one file, each rank writing its
//! own rows at its own offset, or into one part file per rank.
//!
//! How bytes flow, for one file:
//! 1. every rank formats the row chunks it stores (on all cores) just to learn the size
//!    of each chunk's text, keeping the text of the first [`KEPT_TEXT`] bytes so that
//!    small frames are not formatted twice; a value the format cannot express fails
//!    here, before any file is touched;
//! 2. the ranks agree on where each chunk's text goes. A frame built collectively has
//!    each rank's rows in one run, rank after rank, so an exclusive scan of the ranks'
//!    byte counts gives each rank its offset; for any other layout (a published frame
//!    deals its chunks round-robin) every rank gathers every chunk's size instead;
//! 3. rank 0 creates a temporary file beside the destination ([`replace`]) and tells the
//!    others where it is, through a broadcast that is also the barrier they wait at;
//! 4. every rank writes its chunks' text at their offsets with positional writes, in
//!    batches of about [`BATCH`] bytes, formatting again what it did not keep, and
//!    flushes them; an all-reduce tells every rank whether every rank succeeded;
//! 5. only then rank 0 renames the temporary over the destination and broadcasts how
//!    that went. On any failure the temporary is removed and the destination untouched.
//!
//! Part files go into a temporary folder that rank 0 swaps in for the destination
//! folder the same way.
//!
//! No rank ever holds more than its own rows, and of their text at most [`KEPT_TEXT`]
//! bytes plus a batch per thread.

mod ipc;
mod parquet;
mod phases;
mod placed;
mod replace;

use std::fs::File;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use rayon::prelude::*;

use super::DistFrame;
use crate::error::{Error, Result};
use crate::frame::{CsvWriteOptions, TextFormat};
use phases::Clock;
use replace::{FileId, Temp};

/// About how many bytes of text a thread formats before it writes them (1 MiB).
static BATCH: AtomicUsize = AtomicUsize::new(1 << 20);

/// How many rows are formatted between checks of the batch's size.
const ROWS_PER_STEP: usize = 256;

/// How many bytes of formatted text a rank keeps from the sizing pass to the writing pass
/// (64 MiB; beyond it, chunks are formatted again): small frames are formatted once, large
/// ones never cost more than this.
static KEPT_TEXT: AtomicUsize = AtomicUsize::new(64 << 20);

/// Sets [`KEPT_TEXT`] and [`BATCH`] for this process, so that tests can make small
/// frames take the paths of large ones. Only for tests.
#[doc(hidden)]
pub fn set_write_buffers(kept_text: usize, batch: usize) {
    KEPT_TEXT.store(kept_text, Ordering::Relaxed);
    BATCH.store(batch.max(1), Ordering::Relaxed);
}

/// One of this rank's row chunks, sized by the first pass.
struct Sized {
    /// The chunk's index in the frame.
    chunk: usize,
    /// The length of its text.
    size: u64,
    /// The text itself, when kept.
    text: Option<Vec<u8>>,
}

impl<'n> DistFrame<'n> {
    /// Collective: writes the frame as CSV into one file at `path`, exactly as
    /// [`DataFrame::write_csv`](crate::frame::DataFrame::write_csv) would write the whole
    /// frame. Each rank formats and writes the rows it stores at their place in a
    /// temporary file beside `path`; no rank holds the whole frame. The temporary is
    /// renamed over `path` only once every rank has written and flushed its rows, so
    /// `path` holds either what it held before or the whole new file. Every rank must
    /// call it, with the same arguments; every rank returns an error naming `path` and
    /// the failing rank if any rank failed (and then `path` is unchanged).
    pub fn write_csv(&self, path: &Path, options: &CsvWriteOptions) -> Result<()> {
        options.validate()?;
        self.write_text(path, &TextFormat::Csv(options.clone()))
    }

    /// Collective: writes the frame as SoR text into one file at `path`, as
    /// [`DataFrame::write_sor`](crate::frame::DataFrame::write_sor) would; see
    /// [`DistFrame::write_csv`]. A value SoR cannot express fails the call on every
    /// rank before the file is created.
    pub fn write_sor(&self, path: &Path) -> Result<()> {
        self.write_text(path, &TextFormat::Sor)
    }

    /// Collective: writes the frame as CSV into one file per rank, `dir/part-00000.csv`,
    /// `dir/part-00001.csv`, ...: the parts are written into a temporary folder that
    /// replaces `dir` in one step once every rank has written its part, so `dir` holds
    /// either the old parts or all the new ones. Part files of an earlier write are gone
    /// afterwards; other plain files in `dir` are kept. Part `r` holds the rows rank `r` stores, in row
    /// order, after its own header line; for a frame built collectively (rows ordered by
    /// rank) the parts in order hold the frame's rows in order. Returns this rank's part.
    pub fn write_csv_parts(&self, dir: &Path, options: &CsvWriteOptions) -> Result<PathBuf> {
        options.validate()?;
        self.write_text_parts(dir, &TextFormat::Csv(options.clone()))
    }

    /// Collective: writes the frame as SoR text into one file per rank,
    /// `dir/part-00000.sor`, ...; see [`DistFrame::write_csv_parts`].
    pub fn write_sor_parts(&self, dir: &Path) -> Result<PathBuf> {
        self.write_text_parts(dir, &TextFormat::Sor)
    }

    /// Collective: writes the frame in `format` into one file at `path`; see
    /// [`DistFrame::write_csv`].
    pub fn write_text(&self, path: &Path, format: &TextFormat) -> Result<()> {
        let mut clock = Clock::start();
        let node = self.node;
        let me = node.rank();
        let header = format.header(self.schema());
        let sized = self.size_local_text(format);

        // Where this rank's chunks go, and the file's length, or the first rank that
        // could not format its rows.
        let (offsets, total, failed) = if self.ranks_in_order() {
            let own_header = if me == 0 { header.len() as u64 } else { 0 };
            let mine = own_header + sized.as_ref().map_or(0, |s| s.iter().map(|c| c.size).sum());
            let start = node.comm().exclusive_scan(mine, |a, b| a + b)?.unwrap_or(0);
            let failure = sized.is_err().then_some(me as u32);
            let (failed, total) = node
                .comm()
                .all_reduce((failure, mine), |a, b| (first_failure(a.0, b.0), a.1 + b.1))?;
            let mut at = start + own_header;
            let offsets = sized.as_ref().map_or(Vec::new(), |s| {
                s.iter()
                    .map(|c| {
                        let offset = at;
                        at += c.size;
                        offset
                    })
                    .collect()
            });
            (offsets, total, failed)
        } else {
            let sizes: Option<Vec<u64>> = sized
                .as_ref()
                .ok()
                .map(|s| s.iter().map(|c| c.size).collect());
            let all = node.comm().all_gather(sizes)?;
            match all.iter().position(Option::is_none) {
                Some(r) => (Vec::new(), 0, Some(r as u32)),
                None => {
                    let starts = self.chunk_offsets(header.len() as u64, &all);
                    let total = starts.last().copied().unwrap_or(header.len() as u64);
                    let mine = sized
                        .as_ref()
                        .map_or(Vec::new(), |s| s.iter().map(|c| starts[c.chunk]).collect());
                    (mine, total, None)
                }
            }
        };
        let sized = agree(sized, failed, |r| {
            format!("rank {r} could not format its rows for {}", path.display())
        })?;
        clock.lap("size");

        // Rank 0 makes the temporary and tells the others where it is; nothing is
        // written at `path` itself until every rank has written and flushed its rows.
        let made = (me == 0).then(|| Temp::create_file(path, total));
        let temp = self.share_temp(made, path, false)?;
        clock.lap("temporary");
        let written = temp.and_then(|temp| {
            self.write_local_text(
                (temp.file(), temp.path()),
                me == 0,
                format,
                &header,
                &sized,
                &offsets,
            )?;
            clock.lap("write");
            temp.sync()?;
            clock.lap("flush");
            Ok(temp)
        });
        let temp = self.agree_written(written, path)?;
        clock.lap("agree");

        // Every rank wrote its rows durably: rank 0 renames the temporary into place.
        // The other ranks hold theirs until rank 0 is done (dropping it would remove it).
        let (renamed, held) = match me {
            0 => (Some(temp.replace_file(path)), None),
            _ => (None, Some(temp)),
        };
        let agreed = self.agree_renamed(renamed, path);
        // After a failure (rank 0 lost, say) the survivors remove the temporary.
        if let (Some(temp), true) = (held, agreed.is_ok()) {
            temp.keep();
        }
        clock.lap("rename");
        agreed
    }

    /// How long each phase of the last distributed write to one file made by this rank
    /// took: `size` (formatting to learn sizes, and placing), `temporary` (making and
    /// sharing the temporary), `write`, `flush` (fdatasync), `agree` (all ranks succeeded?),
    /// `rename` (into place, folder flushed, outcome shared). For benchmarks.
    #[doc(hidden)]
    pub fn last_write_phases() -> Vec<(&'static str, Duration)> {
        phases::last()
    }

    /// Collective: writes the frame in `format` into one part file per rank under `dir`;
    /// see [`DistFrame::write_csv_parts`].
    pub fn write_text_parts(&self, dir: &Path, format: &TextFormat) -> Result<PathBuf> {
        let node = self.node;
        let me = node.rank();
        let header = format.header(self.schema());
        let sized = self.size_local_text(format);
        let name = format!("part-{me:05}.{}", format.extension());
        let failure = sized.is_err().then_some(me as u32);
        let failed = node.comm().all_reduce(failure, first_failure)?;
        let sized = agree(sized, failed, |r| {
            format!("rank {r} could not format its rows for {}", dir.display())
        })?;

        // The parts go into a temporary folder, swapped in for `dir` once all are there.
        // Files in the old folder that are not parts of this format are kept.
        let extension = format.extension();
        let carry = |name: &str| !is_part(name, extension);
        let made = (me == 0).then(|| Temp::create_dir(dir, &carry));
        let temp = self.share_temp(made, dir, true)?;
        let written = temp.and_then(|temp| {
            let part = temp.path().join(&name);
            let mut at = header.len() as u64;
            let offsets: Vec<u64> = sized
                .iter()
                .map(|c| {
                    let offset = at;
                    at += c.size;
                    offset
                })
                .collect();
            let file = File::create(&part).map_err(|e| Error::io_path("creating", &part, e))?;
            file.set_len(at)
                .map_err(|e| Error::io_path("setting the length of", &part, e))?;
            self.write_local_text((&file, &part), true, format, &header, &sized, &offsets)?;
            file.sync_data()
                .map_err(|e| Error::io_path("flushing", &part, e))?;
            Ok(temp)
        });
        self.swap_in_parts(written, dir, &carry)?;
        Ok(dir.join(name))
    }

    /// The last phases of a write of one part per rank: all ranks agree they wrote their
    /// parts into the temporary folder, rank 0 swaps it in for `dir` (bringing along the
    /// old folder's entries that `carry` keeps), all learn how that went.
    fn swap_in_parts(
        &self,
        written: Result<Temp>,
        dir: &Path,
        carry: &impl Fn(&str) -> bool,
    ) -> Result<()> {
        let temp = self.agree_written(written, dir)?;
        let (replaced, held) = match self.node.rank() {
            0 => (Some(temp.replace_dir(dir, carry)), None),
            _ => (None, Some(temp)),
        };
        let agreed = self.agree_renamed(replaced, dir);
        // After a failure (rank 0 lost, say) the survivors remove the temporary.
        if let (Some(temp), true) = (held, agreed.is_ok()) {
            temp.keep();
        }
        agreed
    }

    /// Rank 0 passes the temporary it `made` for `dest` (the others `None`); every rank
    /// gets its own handle on it, or this rank's failure to open it. Fails on every rank
    /// when rank 0 could not make it.
    fn share_temp(
        &self,
        made: Option<Result<Temp>>,
        dest: &Path,
        is_dir: bool,
    ) -> Result<Result<Temp>> {
        let told = made.as_ref().map(|m| match m.as_ref().map(Temp::id) {
            Ok(Ok(id)) => (None, temp_bytes(m), id),
            Ok(Err(e)) => (Some(e.to_string()), Vec::new(), 0),
            Err(e) => (Some(e.to_string()), Vec::new(), 0),
        });
        let (why, at, id): (Option<String>, Vec<u8>, FileId) =
            self.node.comm().broadcast(0, told)?;
        match (made, why) {
            (Some(Err(e)), _) => Err(not_written(dest, 0, &e.to_string())),
            (_, Some(why)) => Err(not_written(dest, 0, &why)),
            (Some(Ok(temp)), None) => Ok(Ok(temp)),
            (None, None) => {
                let at = PathBuf::from(std::ffi::OsString::from_vec(at));
                Ok(Temp::join(&at, is_dir, id))
            }
        }
    }

    /// Whether every rank wrote its share into the temporary: this rank's temporary when
    /// all did, else an error naming `dest` and the first rank that failed (the
    /// temporary is then removed, and `dest` is untouched).
    fn agree_written(&self, written: Result<Temp>, dest: &Path) -> Result<Temp> {
        let me = self.node.rank() as u32;
        let failure = written.as_ref().err().map(|e| (me, e.to_string()));
        let failed = self.node.comm().all_reduce(failure, first_failure)?;
        match (written, failed) {
            (Ok(temp), None) => Ok(temp),
            (_, Some((r, why))) => Err(not_written(dest, r, &why)),
            (Err(e), None) => Err(e),
        }
    }

    /// Rank 0's result of putting the temporary in place (the others pass `None`), on
    /// every rank.
    fn agree_renamed(&self, renamed: Option<Result<()>>, dest: &Path) -> Result<()> {
        let why = renamed
            .as_ref()
            .map(|r| r.as_ref().err().map(|e| e.to_string()));
        match self.node.comm().broadcast(0, why)? {
            None => Ok(()),
            Some(why) => Err(not_written(dest, 0, &why)),
        }
    }

    /// True when the frame's non-empty chunks are ordered by home rank (rank 0's, then
    /// rank 1's, ...): then each rank's text is one run of the file, placed by an
    /// exclusive scan.
    fn ranks_in_order(&self) -> bool {
        let homes = self
            .desc
            .chunks
            .iter()
            .filter(|c| c.rows > 0)
            .map(|c| c.home);
        homes.clone().zip(homes.skip(1)).all(|(a, b)| a <= b)
    }

    /// Where each chunk's text starts, after a header of `header` bytes, given every
    /// rank's chunk sizes (`sizes[r]`: the sizes of rank `r`'s chunks, in row order); one
    /// more entry at the end holds the file's length.
    fn chunk_offsets(&self, header: u64, sizes: &[Option<Vec<u64>>]) -> Vec<u64> {
        let mut next = vec![0usize; sizes.len()];
        let mut starts = Vec::with_capacity(self.chunk_count() + 1);
        let mut at = header;
        for info in &self.desc.chunks {
            starts.push(at);
            let home = info.home as usize;
            // Every rank sized exactly the chunks homed at it, in order.
            let size = sizes[home]
                .as_ref()
                .and_then(|s| s.get(next[home]))
                .copied();
            at += size.unwrap_or(0);
            next[home] += 1;
        }
        starts.push(at);
        starts
    }

    /// The first pass: the size of the text of each row chunk this rank stores (in row
    /// order), keeping texts while they fit in [`KEPT_TEXT`].
    fn size_local_text(&self, format: &TextFormat) -> Result<Vec<Sized>> {
        let (budget, batch) = (
            KEPT_TEXT.load(Ordering::Relaxed),
            BATCH.load(Ordering::Relaxed),
        );
        let kept = AtomicUsize::new(0);
        self.local_chunks()
            .par_iter()
            .map(|&i| {
                let chunks = self.row_chunk(i)?;
                let info = self.desc.chunks[i];
                format.check_rows(&chunks, info.start)?;
                let len = info.rows as usize;
                let mut text = Vec::new();
                let mut keeping = true;
                let mut dropped = 0u64;
                for start in (0..len).step_by(ROWS_PER_STEP) {
                    let before = text.len();
                    format.write_rows(&mut text, &chunks, start..len.min(start + ROWS_PER_STEP));
                    let added = text.len() - before;
                    if keeping && kept.fetch_add(added, Ordering::Relaxed) + added > budget {
                        // Over budget: give back this chunk's share and only count.
                        kept.fetch_sub(text.len(), Ordering::Relaxed);
                        keeping = false;
                    }
                    if !keeping && text.len() >= batch {
                        dropped += text.len() as u64;
                        text.clear();
                    }
                }
                Ok(Sized {
                    chunk: i,
                    size: dropped + text.len() as u64,
                    text: keeping.then_some(text),
                })
            })
            .collect()
    }

    /// The second pass: writes this rank's chunks' text at `offsets` (one per entry of
    /// `sized`) into the file at `path`, and the header at 0 when this rank writes it
    /// (rank 0 of a single file, or every part).
    fn write_local_text(
        &self,
        (file, path): (&File, &Path),
        writes_header: bool,
        format: &TextFormat,
        header: &[u8],
        sized: &[Sized],
        offsets: &[u64],
    ) -> Result<()> {
        let batch = BATCH.load(Ordering::Relaxed);
        if sized.iter().all(|c| c.size == 0) && (!writes_header || header.is_empty()) {
            return Ok(());
        }
        let write_at = |bytes: &[u8], offset: u64| {
            file.write_all_at(bytes, offset)
                .map_err(|e| Error::io(format!("writing {} at byte {offset}", path.display()), e))
        };
        if writes_header {
            write_at(header, 0)?;
        }
        sized
            .par_iter()
            .zip(offsets)
            .try_for_each(|(c, &offset)| match &c.text {
                Some(text) => write_at(text, offset),
                None => {
                    let chunks = self.row_chunk(c.chunk)?;
                    let len = self.desc.chunks[c.chunk].rows as usize;
                    let mut at = offset;
                    let mut buf = Vec::with_capacity(batch + batch / 4);
                    for start in (0..len).step_by(ROWS_PER_STEP) {
                        format.write_rows(&mut buf, &chunks, start..len.min(start + ROWS_PER_STEP));
                        if buf.len() >= batch {
                            write_at(&buf, at)?;
                            at += buf.len() as u64;
                            buf.clear();
                        }
                    }
                    write_at(&buf, at)?;
                    if at + buf.len() as u64 != offset + c.size {
                        // Formatting is deterministic; a difference is a bug, and the
                        // file would be wrong.
                        return Err(Error::internal(format!(
                            "chunk {} printed {} bytes, then {}",
                            c.chunk,
                            c.size,
                            at + buf.len() as u64 - offset
                        )));
                    }
                    Ok(())
                }
            })
    }
}

/// This rank's `result`, unless another rank (`failed`, the first to fail) failed: then
/// an error saying so (`what(rank)`), so that every rank returns an error. A rank that
/// failed itself returns its own error.
fn agree<T>(result: Result<T>, failed: Option<u32>, what: impl Fn(u32) -> String) -> Result<T> {
    match (result, failed) {
        (Err(e), _) => Err(e),
        (Ok(_), Some(r)) => Err(Error::App(what(r))),
        (Ok(v), None) => Ok(v),
    }
}

/// The first of two failures, a rank or a (rank, why) pair: the lower rank's, so that
/// every rank names the same one whatever order the all-reduce merges in.
fn first_failure<T: Ord>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The error every rank returns when a write to `dest` failed on rank `rank` for `why`.
fn not_written(dest: &Path, rank: u32, why: &str) -> Error {
    Error::App(format!(
        "{} was not written (what was there is unchanged): rank {rank} failed: {why}",
        dest.display()
    ))
}

/// The temporary's path as bytes, to broadcast.
fn temp_bytes(made: &Result<Temp>) -> Vec<u8> {
    made.as_ref()
        .map_or(Vec::new(), |t| t.path().as_os_str().as_bytes().to_vec())
}

/// Whether `name` is a part file of a write in format `extension` (`part-NNNNN.EXT`).
fn is_part(name: &str, extension: &str) -> bool {
    name.strip_prefix("part-")
        .and_then(|rest| rest.strip_suffix(extension))
        .and_then(|rest| rest.strip_suffix('.'))
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}
