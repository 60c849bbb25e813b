//! Reading one byte part of a file in blocks of whole records, on all cores: the
//! machinery under the line readers (SoR block columns, linus) and the word reader
//! ([`crate::words`], `Format::Words`).
//!
//! **Which records a part reads.** A file of `L` bytes is cut into `count` even byte
//! parts; part `i` reads the records that *begin* in `L * i / count .. L * (i + 1) /
//! count`, so every record is read by exactly one part (the rule of
//! `SorReader::part`). A record begins at byte 0 and after every byte that ends one
//! ([`Records`]: `\n` for lines, ASCII white space for words). The format decides only
//! that one byte class: everything else (the cuts, the mapping, the checks) is shared.
//!
//! **Blocks.** A part is cut again into blocks of about
//! [`BlockReader::block_bytes`] bytes by the same rule; rayon's threads take blocks as
//! they go and hand each to the caller's parser as whole records, in place. Each block
//! is memory-mapped on its own (every page mapped in one go) and unmapped when parsed:
//! no copy out of the page cache, and the mapped pages, which count towards the
//! process's resident set while mapped, stay at the blocks in flight rather than the
//! whole file. A file that cannot be mapped (a pipe, a special file) is read with
//! `pread` instead, block by block.
//!
//! **Files that change.** The reader opens the path once; every block is read through
//! that descriptor, and its [`FileIdentity`] lets a group of ranks check that they all
//! opened one version. Each map is watched by the SIGBUS guard (a page gone because the
//! file shrank reads as zeros and fails the read), and the length and modification time
//! taken at open are compared when a read ends: a changed file is an error naming it,
//! never a crash or a partial answer.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use memmap2::{Mmap, MmapOptions};
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::file::{FileIdentity, Opened};
use crate::guard::Guard as MapGuard;

/// The block size a [`BlockReader`] uses unless told otherwise: big enough that mapping
/// costs little per byte, small enough that a few blocks per thread stay in the cache.
pub const DEFAULT_BLOCK_BYTES: usize = 8 << 20;

/// The largest block the frame readers (SoR, CSV) cut a part into: they cut it into
/// about sixteen blocks per thread, as many as they would parse in parallel, up to this
/// size. Blocks of 8 MiB made a 1.5 GB SoR read 7% slower than 47 MB ones (more, shorter
/// chunks to build and concatenate); the resident file pages stay at a few blocks.
pub const MAX_FRAME_BLOCK_BYTES: usize = 64 << 20;

/// Bytes mapped past a block's end to finish its last record; doubled while the record
/// is longer (a record is never cut, however long).
const TAIL: usize = 4096;

/// What ends a record: the one thing a format tells the block machinery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Records {
    /// Lines: a record ends at `\n` (which belongs to it). SoR's records.
    Lines,
    /// Words: a record ends at ASCII white space (space, `\t`, `\n`, `\v`, `\f`, `\r`);
    /// a run of white space holds no word.
    Words,
    /// CSV records (RFC 4180): a record ends at a `\n` outside double quotes, that is
    /// after an even number of quotes in the file. The reader counts each block's quotes
    /// first, so a quoted field with line breaks may cross a block boundary.
    Csv,
}

impl Records {
    /// Whether `byte` ends a record (so that a record begins after it); for
    /// [`Records::Csv`], when it lies outside quotes.
    #[inline]
    pub fn ends(self, byte: u8) -> bool {
        match self {
            Records::Lines | Records::Csv => byte == b'\n',
            Records::Words => is_word_space(byte),
        }
    }

    /// The offset of the first byte of `bytes` that ends a record.
    #[inline]
    fn find_end(self, bytes: &[u8]) -> Option<usize> {
        match self {
            Records::Lines | Records::Csv => memchr::memchr(b'\n', bytes),
            Records::Words => bytes.iter().position(|&b| is_word_space(b)),
        }
    }
}

/// The bytes that separate words: ASCII space, `\t`, `\n`, `\v`, `\f`, `\r`.
#[inline]
pub fn is_word_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// An error in one record of a block, before its line number is known: the block's
/// parser returns it and [`BlockReader::map_blocks`] turns it into an
/// [`Error::Record`] naming the file, the line and the reader.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordFault {
    /// The offset of the record's first byte in the block's bytes.
    pub at: usize,
    /// What is wrong, e.g. "field 2: `x` is not an INT".
    pub message: String,
}

impl RecordFault {
    /// A fault in the record starting at `at`.
    pub fn new(at: usize, message: impl Into<String>) -> RecordFault {
        RecordFault {
            at,
            message: message.into(),
        }
    }
}

/// One file opened for reading one byte part of it in parallel blocks of whole records.
/// Cloning it is cheap and shares the open descriptor, so every clone reads the same
/// version of the file.
///
/// ```
/// use eau2_data::blocks::{BlockReader, Records};
/// # let path = std::env::temp_dir().join(format!("eau2-blocks-doc-{}", std::process::id()));
/// std::fs::write(&path, "one\ntwo\nthree\n")?;
/// // The lines beginning in the second half of the file's bytes, in blocks of ~4 bytes.
/// let reader = BlockReader::open(&path, Records::Lines)?.part(1, 2)?.block_bytes(4);
/// let lines: Vec<usize> = reader.map_blocks(|block| Ok(block.split(|&b| b == b'\n').count()))?;
/// assert_eq!(lines.iter().sum::<usize>() - lines.len(), 1); // "three"
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct BlockReader {
    file: Arc<Opened>,
    identity: FileIdentity,
    records: Records,
    /// The part: records beginning in `start..end` are read.
    start: u64,
    end: u64,
    /// A record is known to begin here, and none is read before it: 0, or a CSV file's
    /// first data record (after its header), or the first line of a SoR range.
    first_record: u64,
    block_bytes: usize,
    /// Whether blocks are memory-mapped (else read with `pread`).
    map: bool,
    /// [`Records::Csv`]: whether an odd number of quotes lie before the part's start,
    /// when the caller knows (else counted).
    odd_before: Option<bool>,
    /// [`Records::Csv`]: the quotes of each block of the part, counted once.
    quotes: OnceLock<Vec<u64>>,
    /// Who reads, for error messages ("rank 2").
    reader: Option<String>,
    /// Where the bytes of parsed blocks are counted, for a progress display.
    progress: Option<Arc<AtomicU64>>,
}

/// One block of a part: the records beginning in file offsets `from..to`, and (for
/// [`Records::Csv`]) whether an odd number of quotes lie before `from` and before `to`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Block {
    /// The first byte where a record of the block may begin.
    pub from: u64,
    /// The byte after the last where one may begin.
    pub to: u64,
    odd_from: bool,
    odd_to: bool,
}

impl Block {
    /// The block of records beginning in `from..to` of a file without quotes to track
    /// (lines or words).
    pub(crate) fn plain(from: u64, to: u64) -> Block {
        Block {
            from,
            to,
            odd_from: false,
            odd_to: false,
        }
    }
}

/// A block's bytes: mapped, or read into memory when the file cannot be mapped.
enum Bytes {
    Map(Mmap),
    Read(Vec<u8>),
}

impl std::ops::Deref for Bytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Map(map) => map,
            Bytes::Read(bytes) => bytes,
        }
    }
}

/// The bytes around a block and the range of them its records cover.
struct Held {
    /// Watches a mapped block from the moment it is mapped (the search for its records
    /// touches its pages too). Declared before the bytes: it must stop watching before
    /// the map goes.
    guard: Option<MapGuard>,
    bytes: Option<Bytes>,
    records: std::ops::Range<usize>,
    /// The file offset of `bytes[0]`.
    offset: u64,
}

impl Held {
    fn view(&self) -> &[u8] {
        self.bytes.as_deref().unwrap_or(&[])
    }

    /// Whether a page of the mapped block vanished while it was read (the file shrank).
    fn vanished(&self) -> bool {
        self.guard.as_ref().is_some_and(MapGuard::hit)
    }
}

impl BlockReader {
    /// Opens `path` to read its `records`: the whole file, in blocks of
    /// [`DEFAULT_BLOCK_BYTES`]. An error naming the path when it cannot be opened or is a
    /// directory.
    pub fn open(path: &Path, records: Records) -> Result<BlockReader> {
        let file = Opened::open(path)?;
        let identity = file.identity()?;
        let end = file.len as u64;
        Ok(BlockReader {
            file: Arc::new(file),
            identity,
            records,
            start: 0,
            end,
            first_record: 0,
            block_bytes: DEFAULT_BLOCK_BYTES,
            map: true,
            odd_before: None,
            quotes: OnceLock::new(),
            reader: None,
            progress: None,
        })
    }

    /// Reads only part `index` of `count` even byte parts: the records beginning in it.
    /// An error for a part that does not exist.
    pub fn part(mut self, index: usize, count: usize) -> Result<BlockReader> {
        if index >= count {
            return Err(Error::OutOfRange {
                what: "part",
                index: index as u64,
                len: count as u64,
            });
        }
        let len = self.file.len as u64;
        let at = |i: usize| (u128::from(len) * i as u128 / count as u128) as u64;
        (self.start, self.end) = (at(index), at(index + 1));
        self.odd_before = None;
        self.quotes = OnceLock::new();
        Ok(self)
    }

    /// Reads the records beginning in `start..end`, where `start` is known to begin one
    /// (a SoR range's first line) and no record before it is read.
    pub(crate) fn starting_at(mut self, start: u64, end: u64) -> BlockReader {
        let len = self.file.len as u64;
        self.start = start.min(len);
        self.end = end.clamp(self.start, len);
        self.first_record = self.start;
        self.odd_before = None;
        self.quotes = OnceLock::new();
        self
    }

    /// Reads no record before `offset`, where one is known to begin (a CSV file's first
    /// data record, after its header): the part keeps its bounds.
    pub(crate) fn first_record_at(mut self, offset: u64) -> BlockReader {
        self.first_record = offset;
        self
    }

    /// Reads part `rank` of `size` (as [`BlockReader::part`]), naming the rank in every
    /// error about a record ("(read by rank 2)").
    pub fn for_rank(self, rank: usize, size: usize) -> Result<BlockReader> {
        let mut reader = self.part(rank, size)?;
        reader.reader = Some(format!("rank {rank}"));
        Ok(reader)
    }

    /// Cuts the part into blocks of about `bytes` bytes (at least 1).
    pub fn block_bytes(mut self, bytes: usize) -> BlockReader {
        self.block_bytes = bytes.max(1);
        self.quotes = OnceLock::new();
        self
    }

    /// Maps each block (`true`, the default) or reads it with `pread` (`false`: a copy,
    /// but no signal handler is involved). A file that cannot be mapped is read either way.
    pub fn memory_map(mut self, yes: bool) -> BlockReader {
        self.map = yes;
        self
    }

    /// [`Records::Csv`]: tells the reader whether an odd number of quotes lie before its
    /// part, sparing it from counting them (a distributed load learns it from an
    /// exclusive scan of every part's [`BlockReader::count_quotes`]). A wrong value gives
    /// wrong records.
    pub fn quotes_before(mut self, odd: bool) -> BlockReader {
        self.odd_before = Some(odd);
        self
    }

    /// Counts the bytes of each block parsed in `counter` (one relaxed add per block).
    pub fn counting(mut self, counter: Arc<AtomicU64>) -> BlockReader {
        self.progress = Some(counter);
        self
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        self.file.path()
    }

    /// The file's length in bytes when it was opened.
    pub fn file_len(&self) -> u64 {
        self.file.len as u64
    }

    /// The open file, for the formats' small reads (a CSV header).
    pub(crate) fn opened(&self) -> &Opened {
        &self.file
    }

    /// The byte range whose records this reader reads.
    pub fn bounds(&self) -> (u64, u64) {
        (self.start, self.end)
    }

    /// What ends a record.
    pub fn records(&self) -> Records {
        self.records
    }

    /// Which version of the file this reader reads (taken when it was opened).
    pub fn identity(&self) -> FileIdentity {
        self.identity
    }

    /// An error naming the file if it changed (length or modification time) since it
    /// was opened.
    pub fn check(&self) -> Result<()> {
        self.file.check_unchanged()
    }

    /// Runs `parse` on every block of the part's records, in parallel, and returns the
    /// results in file order. `parse` gets a block's bytes: whole records, the last
    /// one's ending byte included when the file has it (for [`Records::Words`] a block
    /// may also begin and end with white space). A [`RecordFault`] it returns becomes an
    /// [`Error::Record`] naming the file, the line and the reader; a file that changed
    /// during the read is an error naming it.
    pub fn map_blocks<T: Send>(
        &self,
        parse: impl Fn(&[u8]) -> std::result::Result<T, RecordFault> + Sync,
    ) -> Result<Vec<T>> {
        let parsed = self
            .blocks()?
            .par_iter()
            .map(|block| {
                self.with_block(block, |view, records, offset| {
                    parse(&view[records.clone()]).map_err(|fault| {
                        self.fault(offset + (records.start + fault.at) as u64, fault)
                    })
                })?
            })
            .collect::<Result<Vec<T>>>()?;
        self.check()?;
        Ok(parsed)
    }

    /// The part's blocks, in file order. For [`Records::Csv`] this counts the quotes of
    /// the part (once per reader), and of the file before it unless told
    /// ([`BlockReader::quotes_before`]).
    pub fn blocks(&self) -> Result<Vec<Block>> {
        let bounds = self.block_bounds();
        let mut odd = match self.records {
            Records::Csv => self.odd_before_part()?,
            _ => false,
        };
        let counts = match self.records {
            Records::Csv => Some(self.block_quotes()?),
            _ => None,
        };
        Ok(bounds
            .windows(2)
            .enumerate()
            .map(|(i, w)| {
                let odd_from = odd;
                if let Some(counts) = counts {
                    odd ^= counts[i] % 2 == 1;
                }
                Block {
                    from: w[0],
                    to: w[1],
                    odd_from,
                    odd_to: odd,
                }
            })
            .collect())
    }

    /// Runs `parse` on `block`'s bytes (mapped or read): the whole view, the range of it
    /// that holds the block's records, and the file offset of the view's first byte. A
    /// file that shrank while the block was mapped is an error naming it; the bytes are
    /// unmapped when `parse` returns. Progress is counted here.
    pub fn with_block<T>(
        &self,
        block: &Block,
        parse: impl FnOnce(&[u8], std::ops::Range<usize>, u64) -> T,
    ) -> Result<T> {
        let held = self.hold(block)?;
        let parsed = parse(held.view(), held.records.clone(), held.offset);
        if let Some(counter) = &self.progress {
            counter.fetch_add(block.to - block.from, Ordering::Relaxed);
        }
        if held.vanished() {
            return Err(self.changed("part of it vanished while it was being read"));
        }
        Ok(parsed)
    }

    /// [`Records::Csv`]: the number of quotes in the part's bytes (counted block by block,
    /// once per reader, and kept for the read).
    pub fn count_quotes(&self) -> Result<u64> {
        Ok(self.block_quotes()?.iter().sum())
    }

    /// The quotes of each block's bytes (`from..to`), counted in parallel, once.
    fn block_quotes(&self) -> Result<&Vec<u64>> {
        if let Some(counts) = self.quotes.get() {
            return Ok(counts);
        }
        let bounds = self.block_bounds();
        let counts = bounds
            .par_windows(2)
            .map(|w| self.count_quotes_in(w[0], w[1]))
            .collect::<Result<Vec<u64>>>()?;
        Ok(self.quotes.get_or_init(|| counts))
    }

    /// The quotes in the file's bytes `from..to`, a block at a time.
    fn count_quotes_in(&self, from: u64, to: u64) -> Result<u64> {
        let mut total = 0;
        let mut at = from;
        while at < to {
            let next = to.min(at + self.block_bytes.max(TAIL) as u64);
            let bytes = self.bytes_at(at, (next - at) as usize)?;
            let guard = match &bytes {
                Some(Bytes::Map(map)) => Some(MapGuard::new(map)),
                _ => None,
            };
            total += crate::csv::records::count_quotes(bytes.as_deref().unwrap_or(&[]));
            if guard.as_ref().is_some_and(MapGuard::hit) {
                return Err(self.changed("part of it vanished while it was being read"));
            }
            drop(guard);
            at = next;
        }
        Ok(total)
    }

    /// Whether an odd number of quotes lie before the part.
    fn odd_before_part(&self) -> Result<bool> {
        match self.odd_before {
            Some(odd) => Ok(odd),
            None => Ok(self.count_quotes_in(0, self.start)? % 2 == 1),
        }
    }

    /// Whether an odd number of quotes lie before file offset `at` (within the part).
    fn odd_before(&self, at: u64) -> Result<bool> {
        let mut odd = self.odd_before_part()?;
        let counts = self.block_quotes()?;
        let bounds = self.block_bounds();
        let mut from = self.start;
        for (i, w) in bounds.windows(2).enumerate() {
            if w[1] > at {
                break;
            }
            odd ^= counts[i] % 2 == 1;
            from = w[1];
        }
        Ok(odd ^ (self.count_quotes_in(from, at.max(from))? % 2 == 1))
    }

    /// The bytes of at most `count` whole records beginning at or after `at` in the
    /// part (none past its end), read with `pread`: a sample of the part. Empty when no
    /// record begins there.
    pub fn records_at(&self, at: u64, count: usize) -> Result<Vec<u8>> {
        // No record is read before the first one known (a CSV file's first data record).
        let at = at.clamp(self.start, self.end).max(self.first_record);
        if at >= self.end {
            return Ok(Vec::new());
        }
        let odd = match self.records {
            Records::Csv if at > self.first_record => self.odd_before(at)?,
            _ => false,
        };
        let len = self.file.len as u64;
        let read_from = at.saturating_sub(1);
        let mut want = TAIL as u64 * 4;
        loop {
            let to = len.min(read_from + want);
            let view = self.file.read(read_from as usize, to as usize)?;
            let at_end = to >= len;
            let first = if at == self.first_record {
                Some((at - read_from) as usize)
            } else {
                self.record_start(&view, (at - read_from) as usize, odd)
            };
            let Some(first) = first else {
                if at_end {
                    return Ok(Vec::new());
                }
                want *= 2;
                continue;
            };
            if read_from + first as u64 >= self.end {
                return Ok(Vec::new());
            }
            // The ends of `count` records, none beginning at or past the part's end.
            let mut pos = first;
            let mut whole = true;
            for _ in 0..count {
                if pos >= view.len() || read_from + pos as u64 >= self.end {
                    break;
                }
                match self.record_start(&view, pos + 1, false) {
                    Some(next) => pos = next,
                    None if at_end => pos = view.len(),
                    None => {
                        whole = false;
                        break;
                    }
                }
            }
            if whole {
                return Ok(view[first..pos].to_vec());
            }
            want *= 2;
        }
    }

    /// The bytes of the last `count` lines beginning in the part (fewer when it has
    /// fewer), read with `pread`: where a file sorted by a column keeps its largest
    /// values, for a sample.
    pub(crate) fn last_lines(&self, count: usize) -> Result<Vec<u8>> {
        let mut want = 4 * TAIL as u64;
        loop {
            let from = self.end.saturating_sub(want).max(self.start);
            let bytes = self.file.read(from as usize, self.end as usize)?;
            // A `\n` that is the part's last byte ends its last line rather than
            // beginning another.
            let body = &bytes[..bytes.len().saturating_sub(1)];
            if let Some(cut) = memchr::memrchr_iter(b'\n', body).nth(count.saturating_sub(1)) {
                return self.records_at(from + cut as u64 + 1, count);
            }
            if from == self.start {
                return self.records_at(from, count);
            }
            want *= 4;
        }
    }

    /// The lines that the range rule of `docs/sor-format.md` reads from the bytes
    /// `from .. from + len` (to the end when `None`), as `start..end` file offsets of
    /// whole lines, found with small reads at the range's ends: `start` is 0 when `from`
    /// is, else just past the first `\n` at or after `from`; `end` is the file's end
    /// when the range reaches it, else just past the last `\n` before `from + len`.
    pub(crate) fn range_rule(&self, from: u64, len: Option<u64>) -> Result<(u64, u64)> {
        let n = self.file.len;
        let at = usize::try_from(from).map_or(n, |f| f.min(n));
        let stop = len
            .and_then(|l| from.checked_add(l))
            .and_then(|s| usize::try_from(s).ok())
            .filter(|&s| s < n);
        let start = if from == 0 {
            0
        } else {
            // Past the first `\n` at or after `from`; when there is none before `stop`,
            // no line of the range is whole and the range is empty.
            let limit = stop.unwrap_or(n);
            self.file.newline_after(at, limit)?.map_or(limit, |p| p + 1)
        };
        let end = match stop {
            None => n,
            Some(stop) => self.file.newline_before(at, stop)?.map_or(0, |p| p + 1),
        };
        Ok((start as u64, end.max(start) as u64))
    }

    /// The part's blocks when records are not CSV (no quotes to count).
    pub(crate) fn plain_blocks(&self) -> Vec<Block> {
        self.block_bounds()
            .windows(2)
            .map(|w| Block::plain(w[0], w[1]))
            .collect()
    }

    /// The offset in `view` of the first record beginning at or after `offset` (at
    /// least 1; `odd`: whether an odd number of quotes lie before it, for CSV), if the
    /// view holds one.
    fn record_start(&self, view: &[u8], offset: usize, odd: bool) -> Option<usize> {
        match self.records {
            Records::Csv => crate::csv::records::record_start_at_or_after(view, 0, offset, odd),
            records => records
                .find_end(view.get(offset - 1..)?)
                .map(|end| offset + end),
        }
    }

    /// The block starts of the part, and its end.
    fn block_bounds(&self) -> Vec<u64> {
        let len = self.end - self.start;
        let blocks = len.div_ceil(self.block_bytes as u64).max(1);
        (0..=blocks)
            .map(|i| self.start + (u128::from(len) * u128::from(i) / u128::from(blocks)) as u64)
            .collect()
    }

    /// The error for the file found changed, saying how.
    fn changed(&self, how: &str) -> Error {
        let error = self.file.changed(how);
        match &self.reader {
            Some(reader) => Error::io(
                format!("reading {} (by {reader})", self.path().display()),
                std::io::Error::other(error.to_string()),
            ),
            None => error,
        }
    }

    /// Maps (or reads) the records that begin in the block.
    fn hold(&self, block: &Block) -> Result<Held> {
        let (from, to) = (block.from, block.to);
        let empty = Held {
            guard: None,
            bytes: None,
            records: 0..0,
            offset: to,
        };
        if from >= to || self.first_record >= to {
            return Ok(empty);
        }
        // The byte before `from` tells whether a record begins exactly at `from`.
        let read_from = from.saturating_sub(1);
        let block_end = (to - read_from) as usize;
        let mut want = block_end + TAIL;
        loop {
            let bytes = self.bytes_at(read_from, want)?;
            let guard = match &bytes {
                Some(Bytes::Map(map)) => Some(MapGuard::new(map)),
                _ => None,
            };
            let have = bytes.as_deref().map_or(0, <[u8]>::len);
            let at_end = read_from + have as u64 >= self.file.len as u64;
            let view: &[u8] = bytes.as_deref().unwrap_or(&[]);
            let first = if from <= self.first_record {
                (self.first_record - read_from) as usize
            } else {
                // A record that began before the block and runs past it leaves the block
                // without a record of its own.
                let within = &view[..block_end.min(have)];
                match self.record_start(within, (from - read_from) as usize, block.odd_from) {
                    Some(start) => start,
                    None => return Ok(empty),
                }
            };
            if first >= block_end.min(have) {
                return Ok(empty);
            }
            // The block's last record ends where the first record beginning at or after
            // the block's end begins.
            let finish = match self.record_start(view, block_end, block.odd_to) {
                Some(end) => end,
                None if !at_end => {
                    want *= 2;
                    continue;
                }
                None => have,
            };
            return Ok(Held {
                guard,
                bytes,
                records: first..finish,
                offset: read_from,
            });
        }
    }

    /// Maps up to `want` bytes at `offset` (fewer at the end of the file; `None` for
    /// none), every page at once rather than one fault at a time; reads them when the
    /// file cannot be mapped or the reader was told not to map.
    fn bytes_at(&self, offset: u64, want: usize) -> Result<Option<Bytes>> {
        let len = self.file.len as u64;
        let n = want.min((len - offset.min(len)) as usize);
        if n == 0 {
            return Ok(None);
        }
        let map = if self.map {
            // SAFETY: the map is read only and lives only while its block is parsed. A
            // file truncated meanwhile would raise SIGBUS on the missing pages: the
            // callers guard the map while they read it, which turns that into an error.
            unsafe {
                MmapOptions::new()
                    .offset(offset)
                    .len(n)
                    .populate()
                    .map(self.file.file())
                    .ok()
            }
        } else {
            None
        };
        match map {
            Some(map) => Ok(Some(Bytes::Map(map))),
            None => {
                let from = offset as usize;
                Ok(Some(Bytes::Read(self.file.read(from, from + n)?)))
            }
        }
    }

    /// The error for `fault` in the record starting at file offset `offset`.
    fn fault(&self, offset: u64, fault: RecordFault) -> Error {
        let line = self.line_number(offset).unwrap_or(0);
        let message = match &self.reader {
            Some(reader) => format!("{} (read by {reader})", fault.message),
            None => fault.message,
        };
        Error::Record {
            file: self.path().display().to_string(),
            line,
            message,
        }
    }

    /// The 1-based number of the line holding byte `offset`: counting the `\n`s before
    /// it is a pass over the file's head, paid only when there is an error to report.
    pub fn line_number(&self, offset: u64) -> Result<u64> {
        self.file.line_number(offset as usize)
    }
}

/// The bit mask of the `\n` bytes of the first 64 bytes of `chunk` (bit `j` for byte
/// `j`); `chunk` must hold at least 64 bytes.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn newline_mask(chunk: &[u8]) -> u64 {
    use std::arch::x86_64::{_mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8};
    assert!(chunk.len() >= 64);
    // SAFETY: SSE2 is part of x86_64, and each unaligned 16-byte load reads inside the
    // first 64 bytes of `chunk`, which the assert above guarantees.
    unsafe {
        let newline = _mm_set1_epi8(b'\n' as i8);
        let mut mask = 0u64;
        for lane in 0..4 {
            let v = _mm_loadu_si128(chunk.as_ptr().add(lane * 16).cast());
            let hits = _mm_movemask_epi8(_mm_cmpeq_epi8(v, newline)) as u32 as u64;
            mask |= hits << (lane * 16);
        }
        mask
    }
}

/// The bit mask of the `\n` bytes of the first 64 bytes of `chunk` (bit `j` for byte
/// `j`).
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn newline_mask(chunk: &[u8]) -> u64 {
    chunk[..64]
        .iter()
        .enumerate()
        .fold(0, |m, (j, &b)| m | u64::from(b == b'\n') << j)
}

/// How many `\n` bytes `bytes` holds, 64 at a time.
pub fn count_newlines(bytes: &[u8]) -> usize {
    let chunks = bytes.chunks_exact(64);
    let tail = chunks.remainder();
    let full: usize = chunks.map(|c| newline_mask(c).count_ones() as usize).sum();
    full + tail.iter().filter(|&&b| b == b'\n').count()
}

/// The offsets of the line starts of a block (0 first, unless it is empty), found from
/// 64-byte masks of its `\n`s: about one mask per short line instead of one search call
/// per line, and no line start waits for the previous line to be parsed, so the
/// processor overlaps the parsing of neighbouring lines.
pub struct LineStarts<'a> {
    bytes: &'a [u8],
    /// The offset of the chunk `mask` covers.
    base: usize,
    /// The `\n`s of that chunk not yet visited.
    mask: u64,
    started: bool,
}

impl<'a> LineStarts<'a> {
    /// The line starts of `bytes`.
    pub fn new(bytes: &'a [u8]) -> LineStarts<'a> {
        LineStarts {
            bytes,
            base: 0,
            mask: 0,
            started: false,
        }
    }

    /// The mask of the chunk at `base`, padded past the end of the bytes.
    #[inline(always)]
    fn mask_at(&self, base: usize) -> u64 {
        match self.bytes.get(base..base + 64) {
            Some(chunk) => newline_mask(chunk),
            None => {
                let mut last = [0u8; 64];
                let tail = &self.bytes[base..];
                last[..tail.len()].copy_from_slice(tail);
                newline_mask(&last)
            }
        }
    }
}

impl Iterator for LineStarts<'_> {
    type Item = usize;

    #[inline(always)]
    fn next(&mut self) -> Option<usize> {
        if !self.started {
            self.started = true;
            if self.bytes.is_empty() {
                return None;
            }
            self.mask = self.mask_at(0);
            return Some(0);
        }
        loop {
            if self.mask != 0 {
                let start = self.base + self.mask.trailing_zeros() as usize + 1;
                self.mask &= self.mask - 1;
                if start < self.bytes.len() {
                    return Some(start);
                }
                continue;
            }
            self.base += 64;
            if self.base >= self.bytes.len() {
                return None;
            }
            self.mask = self.mask_at(self.base);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn temp_file(name: &str, text: &[u8]) -> PathBuf {
        let path = std::env::temp_dir().join(format!("eau2-blocks-{}-{name}", std::process::id()));
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Every record, read by `size` parts with blocks of every size, comes back exactly
    /// once and in order.
    fn every_record_once(records: Records, text: &[u8], expected: Vec<String>) {
        let path = temp_file(&format!("{records:?}"), text);
        for size in [1, 2, 3, 7, 64] {
            for block in [1, 5, 64, 1000, 1 << 20] {
                let mut got = Vec::new();
                for rank in 0..size {
                    let reader = BlockReader::open(&path, records)
                        .unwrap()
                        .part(rank, size)
                        .unwrap()
                        .block_bytes(block);
                    let blocks = reader
                        .map_blocks(|b| Ok(String::from_utf8_lossy(b).into_owned()))
                        .unwrap();
                    got.extend(blocks.iter().flat_map(|b| {
                        match records {
                            Records::Lines | Records::Csv => {
                                b.lines().map(str::to_string).collect::<Vec<_>>()
                            }
                            Records::Words => b
                                .split(|c: char| c.is_ascii() && is_word_space(c as u8))
                                .filter(|w| !w.is_empty())
                                .map(str::to_string)
                                .collect(),
                        }
                    }));
                }
                assert_eq!(
                    got, expected,
                    "{records:?}: {size} parts, blocks of {block}"
                );
            }
        }
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn every_line_is_read_once_whatever_the_cut() {
        let text: Vec<u8> = (0..300)
            .flat_map(|i| format!("line {i} {}\n", "x".repeat(i % 37)).into_bytes())
            .chain(b"\n\nlast line without a newline".iter().copied())
            .collect();
        let expected = String::from_utf8_lossy(&text)
            .lines()
            .map(str::to_string)
            .collect();
        every_record_once(Records::Lines, &text, expected);
    }

    #[test]
    fn every_word_is_read_once_whatever_the_cut() {
        let text =
            "  the quick\tbrown\r\n\x0bfox \x0cjumps  over ünïcode lazy-dog\n\n  end".repeat(40);
        let expected = text
            .split(|c: char| c.is_ascii() && is_word_space(c as u8))
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect();
        every_record_once(Records::Words, text.as_bytes(), expected);
    }

    #[test]
    fn empty_and_tiny_files() {
        for text in [&b""[..], b"\n", b"x", b" "] {
            let path = temp_file("tiny", text);
            for size in 1..4 {
                let mut lines = 0;
                for rank in 0..size {
                    let reader = BlockReader::open(&path, Records::Lines)
                        .unwrap()
                        .part(rank, size)
                        .unwrap();
                    lines += reader
                        .map_blocks(|b| Ok(usize::from(!b.is_empty())))
                        .unwrap()
                        .iter()
                        .sum::<usize>();
                }
                assert_eq!(lines, usize::from(!text.is_empty()), "{text:?} in {size}");
            }
            std::fs::remove_file(path).unwrap();
        }
        let path = temp_file("parts", b"a\n");
        let err = BlockReader::open(&path, Records::Lines)
            .unwrap()
            .part(2, 2)
            .err()
            .unwrap();
        assert!(err.to_string().contains("part 2"), "{err}");
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn a_fault_names_the_file_line_and_rank() {
        let path = temp_file("fault", b"a\nb\nbad\nc\n");
        let reader = BlockReader::open(&path, Records::Lines)
            .unwrap()
            .for_rank(0, 1)
            .unwrap()
            .block_bytes(2);
        let err = reader
            .map_blocks(|b| match b.windows(3).position(|w| w == b"bad") {
                Some(at) => Err(RecordFault::new(at, "a bad line")),
                None => Ok(()),
            })
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            format!("{}:3: a bad line (read by rank 0)", path.display())
        );
        std::fs::remove_file(path).unwrap();
    }

    /// A file that grows between the open and the end of the read is an error, not a
    /// result from the old bytes.
    #[test]
    fn a_file_changed_during_the_read_is_an_error() {
        let path = temp_file("grows", b"a\nb\n");
        let reader = BlockReader::open(&path, Records::Lines).unwrap();
        let err = reader
            .map_blocks(|b| {
                std::fs::write(&path, b"a\nb\nc\n").unwrap();
                Ok(b.len())
            })
            .unwrap_err()
            .to_string();
        assert!(err.contains("changed during the read"), "{err}");
        assert!(err.contains(&path.display().to_string()), "{err}");
        std::fs::remove_file(path).unwrap();
    }

    /// Files under /sys say 4096 bytes and hold fewer; they cannot be mapped, so they are
    /// read, and the short read is an error.
    #[test]
    fn a_file_shorter_than_it_says_is_an_error() {
        let path = Path::new("/sys/devices/system/cpu/online");
        if std::fs::metadata(path).map(|m| m.len()).ok() != Some(4096) {
            eprintln!("SKIPPED: {} is not a 4096-byte sysfs file", path.display());
            return;
        }
        let reader = BlockReader::open(path, Records::Words).unwrap();
        let err = reader.map_blocks(|b| Ok(b.len())).unwrap_err().to_string();
        assert!(err.contains("changed during the read"), "{err}");
    }

    #[test]
    fn line_starts_are_found_across_mask_boundaries() {
        let text: Vec<u8> = (0..300)
            .flat_map(|i| "x".repeat(i % 70).into_bytes().into_iter().chain([b'\n']))
            .collect();
        let starts: Vec<usize> = LineStarts::new(&text).collect();
        let mut expected = vec![0];
        expected.extend(
            text.iter()
                .enumerate()
                .filter(|(i, &b)| b == b'\n' && i + 1 < text.len())
                .map(|(i, _)| i + 1),
        );
        assert_eq!(starts, expected);
        assert_eq!(count_newlines(&text), 300);
    }
}
