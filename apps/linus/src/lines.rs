//! Reading one rank's share of a text file, in blocks of whole lines, on all cores.
//!
//! A file of `L` bytes is cut into `size` even byte pieces; rank `r` reads the lines that
//! *begin* in piece `r` (the rule of `SorReader::part`, so every line is read by exactly
//! one rank). Its piece is cut again into blocks of about `block_bytes` bytes (linus's
//! `--block-bytes`), which rayon's threads read and hand to a parser one at a time, each
//! block being the lines that begin in it.
//!
//! Each block is memory-mapped on its own, with its pages mapped in one go, parsed in
//! place and unmapped. Reading through a map saves copying every byte of 11 GB of text
//! out of the page cache (`read` spent about a sixth of the load's CPU time in that
//! copy); mapping one block at a time keeps the mapped file pages, which count towards
//! the process's resident set while mapped, at a few blocks per rank instead of the
//! whole file.
//!
//! A file that changes under the read is an error, never a crash or a partial answer:
//! each map is watched by eau2's SIGBUS guard (a page gone because the file shrank reads
//! as zeros and marks the block), and the file's length and modification time are
//! compared before and after. A file that cannot be mapped (a pipe, a special file) is
//! read with `pread` instead.

use std::fs::File;
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use eau2::sor::{FileStamp, MapGuard};
use eau2::{Error, Result};
use memmap2::{Mmap, MmapOptions};
use rayon::prelude::*;

/// Bytes read past a block's end to finish its last line; doubled while the line is
/// longer (a line is never cut, however long).
const TAIL: usize = 4096;

/// An error in one line of a file, before the line's number is known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineFault {
    /// The byte offset of the line's start, relative to the block's bytes.
    pub at: usize,
    /// What is wrong, e.g. "field 2: a negative id".
    pub message: String,
}

impl LineFault {
    /// A fault in the line starting at `at`.
    pub fn new(at: usize, message: impl Into<String>) -> LineFault {
        LineFault {
            at,
            message: message.into(),
        }
    }
}

/// One rank's share of a file, read in parallel blocks of whole lines.
pub struct LineReader {
    path: PathBuf,
    file: File,
    file_len: u64,
    /// The rank's byte piece: lines beginning in `start..end` are its own.
    start: u64,
    end: u64,
    block_bytes: usize,
    rank: usize,
    /// The file's length and modification time as the read began.
    stamp: FileStamp,
    /// Where the bytes of parsed blocks are counted, for the progress display.
    progress: Option<Arc<AtomicU64>>,
}

/// A piece of a file: mapped, or read into memory when it cannot be mapped.
enum Piece {
    Map(Mmap),
    Read(Vec<u8>),
}

impl std::ops::Deref for Piece {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Piece::Map(map) => map,
            Piece::Read(bytes) => bytes,
        }
    }
}

/// A piece of a file and the range of it that a block's lines cover.
struct Mapped {
    map: Option<Piece>,
    lines: Range<usize>,
    /// The file offset of the piece's first byte.
    offset: u64,
}

impl Mapped {
    fn bytes(&self) -> &[u8] {
        self.map.as_ref().map_or(&[], |m| &m[self.lines.clone()])
    }

    /// Watches the piece for pages that vanish under it, when it is a map.
    fn guard(&self) -> Option<MapGuard> {
        match &self.map {
            Some(Piece::Map(map)) => Some(MapGuard::new(map)),
            _ => None,
        }
    }
}

impl LineReader {
    /// Opens `path` for rank `rank` of `size`, reading blocks of about `block_bytes`.
    pub fn open(path: &Path, rank: usize, size: usize, block_bytes: usize) -> Result<LineReader> {
        let file = File::open(path).map_err(|e| Error::io_path("opening", path, e))?;
        let stamp = FileStamp::of(&file, path)?;
        let file_len = stamp.length();
        let piece = |r: usize| (u128::from(file_len) * r as u128 / size.max(1) as u128) as u64;
        Ok(LineReader {
            path: path.to_path_buf(),
            file,
            file_len,
            start: piece(rank),
            end: piece(rank + 1),
            block_bytes: block_bytes.max(1),
            rank,
            stamp,
            progress: None,
        })
    }

    /// Counts the bytes of each block parsed in `counter` (one relaxed add per block).
    pub fn counting(mut self, counter: Arc<AtomicU64>) -> LineReader {
        self.progress = Some(counter);
        self
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The block starts of the rank's piece, and its end.
    fn block_bounds(&self) -> Vec<u64> {
        let len = self.end - self.start;
        let blocks = len.div_ceil(self.block_bytes as u64).max(1);
        (0..=blocks)
            .map(|i| self.start + (u128::from(len) * u128::from(i) / u128::from(blocks)) as u64)
            .collect()
    }

    /// Runs `parse` on every block of the rank's lines, in parallel, and returns the
    /// results in file order. `parse` gets the block's bytes (whole lines, the last one's
    /// `\n` included when the file has it); a [`LineFault`] it returns becomes an error
    /// naming the file, the line's number and the rank.
    pub fn map_blocks<T: Send>(
        &self,
        parse: impl Fn(&[u8]) -> std::result::Result<T, LineFault> + Sync,
    ) -> Result<Vec<T>> {
        let bounds = self.block_bounds();
        let parsed = bounds
            .par_windows(2)
            .map(|w| {
                let mapped = self.map_lines(w[0], w[1])?;
                let guard = mapped.guard();
                let start = mapped.offset + mapped.lines.start as u64;
                let parsed = parse(mapped.bytes());
                if let Some(counter) = &self.progress {
                    counter.fetch_add(w[1] - w[0], Ordering::Relaxed);
                }
                if guard.is_some_and(|g| g.hit()) {
                    return Err(self.changed("part of it vanished while it was being read"));
                }
                parsed.map_err(|fault| self.fault(start + fault.at as u64, &fault))
            })
            .collect::<Result<Vec<T>>>()?;
        self.stamp.check(&self.file)?;
        Ok(parsed)
    }

    /// The error for a file found changed during the read, saying how and by which rank.
    fn changed(&self, how: &str) -> Error {
        Error::App(format!(
            "{} (read by rank {})",
            self.stamp.changed(how),
            self.rank
        ))
    }

    /// Maps the lines that begin in `from..to`.
    fn map_lines(&self, from: u64, to: u64) -> Result<Mapped> {
        // One byte before `from` tells whether a line begins exactly at `from`.
        let read_from = from.saturating_sub(1);
        let mut want = (to - read_from) as usize + TAIL;
        loop {
            let map = self.map_at(read_from, want)?;
            let bytes: &[u8] = map.as_deref().unwrap_or(&[]);
            let have = bytes.len();
            let at_end = read_from + have as u64 >= self.file_len;
            let first = if from == 0 {
                0
            } else {
                match memchr::memchr(b'\n', bytes) {
                    Some(nl) => nl + 1,
                    // A line that began before this block runs past everything mapped.
                    None if !at_end => {
                        want *= 2;
                        continue;
                    }
                    None => have,
                }
            };
            let block_end = (to - read_from) as usize;
            if first >= block_end {
                // No line begins in this block.
                return Ok(Mapped {
                    map: None,
                    lines: 0..0,
                    offset: to,
                });
            }
            // The block's last line ends at the first `\n` at or after `block_end - 1`.
            let finish = match memchr::memchr(b'\n', &bytes[block_end - 1..]) {
                Some(nl) => block_end + nl,
                None if !at_end => {
                    want *= 2;
                    continue;
                }
                None => have,
            };
            return Ok(Mapped {
                map,
                lines: first..finish,
                offset: read_from,
            });
        }
    }

    /// Maps up to `want` bytes at `offset` (fewer at the end of the file; `None` for
    /// none), with every page mapped at once rather than one fault at a time; reads them
    /// when the file cannot be mapped.
    fn map_at(&self, offset: u64, want: usize) -> Result<Option<Piece>> {
        let n = want.min((self.file_len - offset.min(self.file_len)) as usize);
        if n == 0 {
            return Ok(None);
        }
        // SAFETY: the map is read only and lives only while its block is parsed. A file
        // truncated meanwhile would raise SIGBUS on the missing pages: the caller guards
        // the map while it reads it (MapGuard), which turns that into an error.
        let map = unsafe {
            MmapOptions::new()
                .offset(offset)
                .len(n)
                .populate()
                .map(&self.file)
        };
        match map {
            Ok(map) => Ok(Some(Piece::Map(map))),
            Err(_) => self.read_at(offset, n).map(|b| Some(Piece::Read(b))),
        }
    }

    /// Reads `n` bytes at `offset`; fewer than the file's length promised means it shrank.
    fn read_at(&self, offset: u64, n: usize) -> Result<Vec<u8>> {
        let mut bytes = vec![0; n];
        let mut filled = 0;
        while filled < n {
            match self
                .file
                .read_at(&mut bytes[filled..], offset + filled as u64)
            {
                Ok(0) => {
                    return Err(self.changed(&format!(
                        "it ended at byte {} of the {} it had when the read began",
                        offset + filled as u64,
                        self.file_len
                    )))
                }
                Ok(got) => filled += got,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(Error::io(
                        format!("reading {} at byte {offset}", self.path.display()),
                        e,
                    ))
                }
            }
        }
        Ok(bytes)
    }

    /// The error for `fault` in the line starting at file offset `offset`.
    fn fault(&self, offset: u64, fault: &LineFault) -> Error {
        let line = match self.line_number(offset) {
            Ok(n) => n.to_string(),
            Err(_) => format!("byte {offset}"),
        };
        Error::App(format!(
            "{}:{line}: {} (read by rank {})",
            self.path.display(),
            fault.message,
            self.rank
        ))
    }

    /// The 1-based number of the line starting at `offset`: counting the `\n`s before it
    /// is a pass over the file's head, paid only when there is an error to report.
    fn line_number(&self, offset: u64) -> Result<u64> {
        let mut buf = vec![0; 1 << 20];
        let (mut at, mut lines) = (0u64, 1u64);
        while at < offset {
            let n = ((offset - at) as usize).min(buf.len());
            self.file
                .read_exact_at(&mut buf[..n], at)
                .map_err(|e| Error::io_path("reading", &self.path, e))?;
            lines += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
            at += n as u64;
        }
        Ok(lines)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_file(name: &str, text: &[u8]) -> PathBuf {
        let path = std::env::temp_dir().join(format!("linus-lines-{}-{name}", std::process::id()));
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Every line, read by `size` ranks with tiny blocks, comes back exactly once.
    #[test]
    fn every_line_is_read_once_whatever_the_cut() {
        let text: Vec<u8> = (0..500)
            .flat_map(|i| format!("line {i} {}\n", "x".repeat(i % 37)).into_bytes())
            .chain(b"last line without a newline".iter().copied())
            .collect();
        let path = temp_file("cuts", &text);
        let expected: Vec<String> = String::from_utf8_lossy(&text)
            .lines()
            .map(str::to_string)
            .collect();
        for size in [1, 2, 3, 7] {
            for block in [1, 5, 64, 1000, 1 << 20] {
                let mut got = Vec::new();
                for rank in 0..size {
                    let reader = LineReader::open(&path, rank, size, block).unwrap();
                    let blocks = reader
                        .map_blocks(|b| Ok(String::from_utf8_lossy(b).into_owned()))
                        .unwrap();
                    got.extend(blocks.iter().flat_map(|b| b.lines().map(str::to_string)));
                }
                assert_eq!(got, expected, "size {size}, block {block}");
            }
        }
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn a_fault_names_the_file_line_and_rank() {
        let path = temp_file("fault", b"a\nb\nbad\nc\n");
        let reader = LineReader::open(&path, 0, 1, 2).unwrap();
        let err = reader
            .map_blocks(|b| match b.windows(3).position(|w| w == b"bad") {
                Some(at) => Err(LineFault::new(at, "a bad line")),
                None => Ok(()),
            })
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&format!(
                "{}:3: a bad line (read by rank 0)",
                path.display()
            )),
            "{err}"
        );
        std::fs::remove_file(path).unwrap();
    }
}
