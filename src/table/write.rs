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
//! 3. rank 0 creates (or truncates) the file and sets its length; the others wait for
//!    it, and learn whether it failed, through a broadcast;
//! 4. every rank writes its chunks' text at their offsets with positional writes, in
//!    batches of about [`BATCH`] bytes, formatting again what it did not keep; a last
//!    all-reduce tells every rank whether every rank succeeded.
//!
//! No rank ever holds more than its own rows, and of their text at most [`KEPT_TEXT`]
//! bytes plus a batch per thread.

use std::fs::{self, File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use super::DistFrame;
use crate::error::{Error, Result};
use crate::frame::{CsvWriteOptions, TextFormat};

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
    /// Collective: writes the frame as CSV into one file at `path`, created or
    /// truncated, exactly as [`DataFrame::write_csv`](crate::frame::DataFrame::write_csv)
    /// would write the whole frame. Each rank formats and writes the rows it stores at
    /// their place in the file; no rank holds the whole frame. Every rank must call it,
    /// with the same arguments; every rank returns an error if any rank failed (and
    /// then the file may be incomplete).
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
    /// `dir/part-00001.csv`, ... (the folder is created if needed, and part files
    /// already there are removed first). Part `r` holds the rows rank `r` stores, in row
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
        let node = self.node;
        let me = node.rank();
        let header = format.header(self.schema());
        let sized = self.size_local_text(format);

        // Where this rank's chunks go, and the file's length, or the first rank that
        // could not format its rows.
        let (offsets, total, failed) = if self.ranks_in_order() {
            let own_header = if me == 0 { header.len() as u64 } else { 0 };
            let mine = own_header + sized.as_ref().map_or(0, |s| s.iter().map(|c| c.size).sum());
            let start = node.exclusive_scan(mine, |a, b| a + b)?.unwrap_or(0);
            let failure = sized.is_err().then_some(me as u32);
            let (failed, total) =
                node.all_reduce((failure, mine), |a, b| (a.0.or(b.0), a.1 + b.1))?;
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
            let all = node.all_gather(&sizes)?;
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

        // Rank 0 makes the file; the broadcast is also the barrier the others wait at.
        let created = if me == 0 {
            create_file(path, total)
        } else {
            Ok(())
        };
        let why = created.as_ref().err().map(|e| e.to_string());
        if let Some(why) = node.broadcast(0, (me == 0).then_some(why))? {
            created?;
            return Err(Error::App(format!("rank 0 failed: {why}")));
        }

        let written = self.write_local_text(path, false, format, &header, &sized, &offsets);
        let failure = written.is_err().then_some(me as u32);
        let failed = node.all_reduce(failure, |a, b| a.or(b))?;
        agree(written, failed, |r| {
            format!(
                "rank {r} failed to write its rows; {} is incomplete",
                path.display()
            )
        })
    }

    /// Collective: writes the frame in `format` into one part file per rank under `dir`;
    /// see [`DistFrame::write_csv_parts`].
    pub fn write_text_parts(&self, dir: &Path, format: &TextFormat) -> Result<PathBuf> {
        let node = self.node;
        let me = node.rank();
        let header = format.header(self.schema());
        let sized = self.size_local_text(format);
        let part = dir.join(format!("part-{me:05}.{}", format.extension()));

        // Rank 0 prepares the folder before the all-reduce, which every rank then passes
        // only after it: the all-reduce is also the barrier before the parts are made.
        let prepared = match me {
            0 => prepare_part_dir(dir, format.extension()),
            _ => Ok(()),
        };
        let failure = (sized.is_err() || prepared.is_err()).then_some(me as u32);
        let failed = node.all_reduce(failure, |a, b| a.or(b))?;
        prepared?;
        let sized = agree(sized, failed, |r| {
            format!(
                "rank {r} could not format or place its rows under {}",
                dir.display()
            )
        })?;

        let mut at = header.len() as u64;
        let offsets: Vec<u64> = sized
            .iter()
            .map(|c| {
                let offset = at;
                at += c.size;
                offset
            })
            .collect();
        let written = create_file(&part, at)
            .and_then(|()| self.write_local_text(&part, true, format, &header, &sized, &offsets));
        let failure = written.is_err().then_some(me as u32);
        let failed = node.all_reduce(failure, |a, b| a.or(b))?;
        agree(written, failed, |r| {
            format!("rank {r} failed to write its part under {}", dir.display())
        })?;
        Ok(part)
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
        path: &Path,
        own_file: bool,
        format: &TextFormat,
        header: &[u8],
        sized: &[Sized],
        offsets: &[u64],
    ) -> Result<()> {
        let batch = BATCH.load(Ordering::Relaxed);
        let writes_header = own_file || self.node.rank() == 0;
        if sized.iter().all(|c| c.size == 0) && (!writes_header || header.is_empty()) {
            return Ok(());
        }
        let file = OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(|e| Error::io_path("opening", path, e))?;
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
                        return Err(Error::App(format!(
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

/// Creates or truncates the file at `path` and sets its length to `len`.
fn create_file(path: &Path, len: u64) -> Result<()> {
    let file = File::create(path).map_err(|e| Error::io_path("creating", path, e))?;
    file.set_len(len)
        .map_err(|e| Error::io_path("setting the length of", path, e))
}

/// Creates `dir` if needed and removes the part files (`part-NNNNN.EXT`) of an earlier
/// write, which a write by fewer ranks would otherwise leave beside the new parts.
fn prepare_part_dir(dir: &Path, extension: &str) -> Result<()> {
    fs::create_dir_all(dir).map_err(|e| Error::io_path("creating the folder", dir, e))?;
    let entries = fs::read_dir(dir).map_err(|e| Error::io_path("listing", dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io_path("listing", dir, e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let is_part = name
            .strip_prefix("part-")
            .and_then(|rest| rest.strip_suffix(extension))
            .and_then(|rest| rest.strip_suffix('.'))
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        if is_part {
            let path = entry.path();
            fs::remove_file(&path).map_err(|e| Error::io_path("removing", &path, e))?;
        }
    }
    Ok(())
}
