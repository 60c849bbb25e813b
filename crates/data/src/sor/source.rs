//! Reading SoR files with `pread`, piece by piece, and noticing when a file changes
//! underneath.
//!
//! A memory-mapped file that another process truncates kills the reader with SIGBUS on
//! the first page past the new end, and one rewritten in place feeds it a mix of old and
//! new bytes. So files are read, not mapped, and never whole up front: the span's first
//! and last lines are found with small reads at its ends, then each parallel piece reads
//! its own bytes (plus the byte before it and the rest of its last line) right before it
//! parses them, while they are still in the cache, so the copy costs little. A part of a
//! file reads only its part. The length and modification time taken when the file is
//! opened are checked when the read ends: a file that shrank (a short read), grew or was
//! rewritten meanwhile is an error naming it, never a silent partial result. Line
//! numbers, needed only to report a deviation, are counted afterwards by streaming the
//! file up to it.

use std::cell::RefCell;
use std::fs::{File, Metadata};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::guard::Guard;
use super::infer;
use super::parse::{self, Cancel, Part, Plan, Stop};
use super::range;
use super::{Input, Span};
use crate::error::{Error, Result};
use crate::frame::Schema;

/// The largest piece a file is cut into: small enough that a piece read by one thread
/// is still in its cache when the same thread parses it.
const MAX_PIECE: usize = 2 << 20;
/// A piece buffer larger than this is not kept for the next read.
const KEEP_BUFFER: usize = 64 << 20;
/// How much is read at a time when looking for a line end.
const LINE_STEP: usize = 64 << 10;
/// How much is read at a time when counting lines.
const COUNT_STEP: usize = 8 << 20;

/// The whole lines of a file that a span covers, `start..end` in file offsets.
pub(crate) struct FileSpan {
    file: Opened,
    start: usize,
    end: usize,
}

/// What a file looked like when a read began: its length and modification time. A read
/// that finds either different at its end may have mixed two versions of the file, and
/// fails instead of returning that. Other readers of files (linus) use it too.
#[derive(Clone, Debug)]
pub struct FileStamp {
    path: PathBuf,
    len: u64,
    modified: Option<SystemTime>,
}

impl FileStamp {
    /// Stamps `file`, opened from `path`, as it is now.
    pub fn of(file: &File, path: &Path) -> Result<FileStamp> {
        let meta = metadata(file, path)?;
        Ok(FileStamp {
            path: path.to_path_buf(),
            len: meta.len(),
            modified: meta.modified().ok(),
        })
    }

    /// The file's length in bytes when stamped.
    pub fn length(&self) -> u64 {
        self.len
    }

    /// An error unless `file` still has the length and modification time it had when
    /// stamped.
    pub fn check(&self, file: &File) -> Result<()> {
        let meta = metadata(file, &self.path)?;
        if meta.len() != self.len {
            return Err(self.changed(&format!(
                "it had {} bytes when the read began and has {} now",
                self.len,
                meta.len()
            )));
        }
        if meta.modified().ok() != self.modified {
            return Err(self.changed("it was modified while it was being read"));
        }
        Ok(())
    }

    /// The error for a file found changed during the read, saying `how`.
    pub fn changed(&self, how: &str) -> Error {
        Error::io_path(
            "reading",
            &self.path,
            io::Error::other(format!(
                "the file changed during the read ({how}); the result would have been \
                 partial or mixed, so nothing was read: read it again once it is no longer \
                 being written"
            )),
        )
    }
}

/// Which version of a file a descriptor reads: device, inode, length and modification
/// time. Two descriptors with equal identities read the same bytes (unless the file is
/// rewritten in place, which the stamp check at the end of a read catches); a file
/// renamed over the path between two opens has another inode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, speedy::Readable, speedy::Writable)]
pub struct FileIdentity {
    /// The device holding the file.
    pub device: u64,
    /// The file's inode on that device.
    pub inode: u64,
    /// The length in bytes.
    pub len: u64,
    /// The modification time: seconds and nanoseconds since the epoch.
    pub mtime: (i64, i64),
}

/// An open file and what it looked like when opened (the CSV reader reads with it too).
pub(crate) struct Opened {
    file: File,
    path: PathBuf,
    pub(crate) len: usize,
    stamp: FileStamp,
}

impl Opened {
    pub(crate) fn open(path: &Path) -> Result<Opened> {
        let file = File::open(path).map_err(|e| Error::io_path("opening", path, e))?;
        let meta = metadata(&file, path)?;
        let stamp = FileStamp::of(&file, path)?;
        if meta.is_dir() {
            return Err(Error::io_path(
                "reading",
                path,
                io::Error::new(io::ErrorKind::InvalidInput, "is a directory"),
            ));
        }
        let len = usize::try_from(meta.len()).map_err(|_| {
            Error::io_path(
                "reading",
                path,
                io::Error::other("the file is larger than this machine's address space"),
            )
        })?;
        Ok(Opened {
            file,
            path: path.to_path_buf(),
            len,
            stamp,
        })
    }

    /// The bytes `from..to`; a short read means the file shrank.
    pub(crate) fn read(&self, from: usize, to: usize) -> Result<Vec<u8>> {
        let mut buf = vec![0u8; to.saturating_sub(from)];
        self.read_into(&mut buf, from)?;
        Ok(buf)
    }

    /// Reads `from..to` into `buf` (which only grows, so a reused buffer is neither
    /// zeroed nor faulted in again), replacing what it held.
    fn read_reusing(&self, buf: &mut Vec<u8>, from: usize, to: usize) -> Result<()> {
        let n = to.saturating_sub(from);
        if buf.len() < n {
            buf.resize(n, 0);
        }
        self.read_into(&mut buf[..n], from)?;
        buf.truncate(n);
        Ok(())
    }

    fn read_into(&self, buf: &mut [u8], at: usize) -> Result<()> {
        self.file.read_exact_at(buf, at as u64).map_err(|e| {
            if e.kind() == io::ErrorKind::UnexpectedEof {
                self.stamp.changed(&format!(
                    "it ended before byte {} although it had {} bytes when the read began",
                    at + buf.len(),
                    self.len
                ))
            } else {
                Error::io_path("reading", &self.path, e)
            }
        })
    }

    /// The offset of the first `\n` in `at..limit`.
    fn newline_after(&self, at: usize, limit: usize) -> Result<Option<usize>> {
        let mut from = at;
        while from < limit {
            let to = limit.min(from + LINE_STEP);
            let block = self.read(from, to)?;
            if let Some(i) = memchr::memchr(b'\n', &block) {
                return Ok(Some(from + i));
            }
            from = to;
        }
        Ok(None)
    }

    /// The offset of the last `\n` in `floor..at`.
    fn newline_before(&self, floor: usize, at: usize) -> Result<Option<usize>> {
        let mut to = at;
        while to > floor {
            let from = floor.max(to.saturating_sub(LINE_STEP));
            let block = self.read(from, to)?;
            if let Some(i) = memchr::memrchr(b'\n', &block) {
                return Ok(Some(from + i));
            }
            to = from;
        }
        Ok(None)
    }

    /// Where the first line beginning at or after `offset` starts (as
    /// [`range::line_start_at_or_after`] says for the whole file).
    fn line_start_at_or_after(&self, offset: usize) -> Result<usize> {
        if offset == 0 || offset >= self.len {
            return Ok(offset.min(self.len));
        }
        Ok(self
            .newline_after(offset - 1, self.len)?
            .map_or(self.len, |p| p + 1))
    }

    /// An error unless the file still has the length and modification time it had when
    /// opened.
    pub(crate) fn check_unchanged(&self) -> Result<()> {
        self.stamp.check(&self.file)
    }

    /// The file's identity now, through this descriptor.
    pub(crate) fn identity(&self) -> Result<FileIdentity> {
        use std::os::unix::fs::MetadataExt;
        let meta = metadata(&self.file, &self.path)?;
        Ok(FileIdentity {
            device: meta.dev(),
            inode: meta.ino(),
            len: meta.len(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
        })
    }

    /// The path the file was opened from.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The open descriptor (to map blocks of it).
    pub(crate) fn file(&self) -> &File {
        &self.file
    }

    /// The error for this file found changed during the read, saying `how`.
    pub(crate) fn changed(&self, how: &str) -> Error {
        self.stamp.changed(how)
    }
}

fn metadata(file: &File, path: &Path) -> Result<Metadata> {
    file.metadata()
        .map_err(|e| Error::io_path("reading the metadata of", path, e))
}

/// A file mapped into memory, guarded against shrinking while it is read.
pub(crate) struct MappedFile {
    // Declared before the map: the guard must stop watching before the map goes.
    guard: Option<Guard>,
    map: Option<memmap2::Mmap>,
    file: Opened,
}

impl MappedFile {
    /// Maps `path` (an empty file maps to nothing); `None` when the file cannot be
    /// mapped (special files such as those under /sys), which can still be read.
    pub(crate) fn open(path: &Path) -> Result<Option<MappedFile>> {
        Ok(MappedFile::map(Opened::open(path)?).ok())
    }

    /// Maps the open `file` (an empty file maps to nothing); gives the file back when it
    /// cannot be mapped, so that it can still be read through the same descriptor.
    pub(crate) fn map(file: Opened) -> std::result::Result<MappedFile, Opened> {
        if file.len == 0 {
            return Ok(MappedFile {
                guard: None,
                map: None,
                file,
            });
        }
        // SAFETY: the map is only read during this read. Another process may truncate or
        // rewrite the file meanwhile: a truncation makes reads past the new end fault,
        // which the guard turns into zeros and a failed read; any change at all is then
        // caught by `check` and the result discarded.
        let Ok(map) = (unsafe { memmap2::Mmap::map(&file.file) }) else {
            return Err(file);
        };
        Ok(MappedFile {
            guard: Some(Guard::new(&map)),
            map: Some(map),
            file,
        })
    }

    /// The open file behind the map.
    pub(crate) fn opened(&self) -> &Opened {
        &self.file
    }

    /// The file's bytes.
    pub(crate) fn bytes(&self) -> &[u8] {
        self.map.as_deref().unwrap_or(&[])
    }

    /// An error if the file changed since it was mapped (whatever the read made of it).
    pub(crate) fn check(&self) -> Result<()> {
        if self.guard.as_ref().is_some_and(Guard::hit) {
            return Err(self.file.stamp.changed(&format!(
                "it became shorter than the {} bytes it had when the read began",
                self.file.len
            )));
        }
        self.file.check_unchanged()
    }
}

impl FileSpan {
    /// Opens `path` and finds the lines `span` covers, by the range rule of
    /// `docs/sor-format.md` applied to the whole file (as `Span::resolve` applies them to
    /// bytes in memory).
    pub(crate) fn open(path: &Path, span: Span) -> Result<FileSpan> {
        let file = Opened::open(path)?;
        let len = file.len;
        let (start, end) = match span {
            Span::Range {
                from,
                len: range_len,
            } => {
                let at = usize::try_from(from).map_or(len, |f| f.min(len));
                // `stop` is where the range ends, or the end of the file when it reaches it.
                let stop = range_len
                    .and_then(|l| from.checked_add(l))
                    .and_then(|s| usize::try_from(s).ok())
                    .filter(|&s| s < len);
                let start = if from == 0 {
                    0
                } else {
                    // Past the first `\n` at or after `from`; when there is none before
                    // `stop`, no line of the range is whole and the range is empty.
                    let limit = stop.unwrap_or(len);
                    file.newline_after(at, limit)?.map_or(limit, |p| p + 1)
                };
                let end = match stop {
                    None => len,
                    Some(stop) => file.newline_before(at, stop)?.map_or(0, |p| p + 1),
                };
                (start, end.max(start))
            }
            Span::Part { index, count } => {
                if index >= count {
                    return Err(Error::OutOfRange {
                        what: "part",
                        index: index as u64,
                        len: count as u64,
                    });
                }
                let at = |i: usize| (len as u128 * i as u128 / count as u128) as usize;
                let start = file.line_start_at_or_after(at(index))?;
                let end = file.line_start_at_or_after(at(index + 1))?;
                (start, end.max(start))
            }
        };
        Ok(FileSpan { file, start, end })
    }
}

/// Where a piece's lines are in its buffer, which holds file offsets `offset..`.
struct Piece {
    offset: usize,
    start: usize,
    end: usize,
}

thread_local! {
    /// Each thread reads its pieces into one buffer, reused from piece to piece: a fresh
    /// allocation per piece costs a page fault and a zeroed page per 4 KiB, as much as
    /// the copy itself.
    static PIECE_BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

impl FileSpan {
    /// Reads the lines whose first byte lies in `from..to`, which lie within the span,
    /// into `bytes`.
    fn piece(&self, bytes: &mut Vec<u8>, from: usize, to: usize) -> Result<Piece> {
        // The byte before `from` says whether a line begins there; the span's own start
        // is a line start.
        let offset = if from > self.start { from - 1 } else { from };
        self.file.read_reusing(bytes, offset, to)?;
        // Finish the last line (the span's end is a line start, so not past it).
        if to < self.end && bytes.last() != Some(&b'\n') {
            let rest = self
                .file
                .newline_after(to, self.end)?
                .map_or(self.end, |p| p + 1);
            let more = self.file.read(to, rest)?;
            bytes.extend_from_slice(&more);
        }
        let start = if from > self.start {
            range::line_start_at_or_after(bytes, from - offset)
        } else {
            0
        };
        let end = if to < self.end {
            range::line_start_at_or_after(bytes, to - offset)
        } else {
            bytes.len()
        };
        Ok(Piece {
            offset,
            start,
            end: end.max(start),
        })
    }
}

impl Input for FileSpan {
    fn infer(&self, rows: usize) -> Result<Schema> {
        // The first `rows` lines, a block at a time.
        let mut bytes = Vec::new();
        let mut lines = 0;
        while self.start + bytes.len() < self.end && lines < rows {
            let from = self.start + bytes.len();
            let block = self.file.read(from, self.end.min(from + LINE_STEP))?;
            lines += memchr::memchr_iter(b'\n', &block).count();
            bytes.extend_from_slice(&block);
        }
        Ok(infer::infer(&bytes, 0, bytes.len(), rows))
    }

    fn pieces(&self, parts: usize, min_len: usize) -> Vec<(usize, usize)> {
        // Cut as `range::split` does, into pieces whose lines begin in even byte ranges;
        // a large file into more of them, so that each piece stays in the cache.
        let total = self.end - self.start;
        let parts = parts
            .max(total.div_ceil(MAX_PIECE))
            .clamp(1, (total / min_len.max(1)).max(1));
        let at = |i: usize| self.start + (total as u128 * i as u128 / parts as u128) as usize;
        (0..parts).map(|i| (at(i), at(i + 1))).collect()
    }

    fn parse(
        &self,
        (from, to): (usize, usize),
        plan: &Plan<'_>,
        index: usize,
        cancel: &Cancel,
    ) -> Result<Result<Part, Stop>> {
        let (piece, result) = PIECE_BUFFER.with(|buffer| {
            let mut bytes = buffer.borrow_mut();
            let piece = self.piece(&mut bytes, from, to)?;
            let result = parse::parse_part(&bytes, piece.start, piece.end, plan, index, cancel);
            if bytes.capacity() > KEEP_BUFFER {
                *bytes = Vec::new();
            }
            Ok::<_, Error>((piece, result))
        })?;
        // Offsets in file terms.
        Ok(match result {
            Ok(mut part) => {
                part.first_deviation = part.first_deviation.map(|o| o + piece.offset);
                Ok(part)
            }
            Err(Stop::Deviation(mut d)) => {
                d.line_start += piece.offset;
                Err(Stop::Deviation(d))
            }
            Err(Stop::Cancelled) => Err(Stop::Cancelled),
        })
    }

    fn line_number(&self, offset: usize) -> Result<u64> {
        let mut count = 1u64;
        let mut at = 0;
        while at < offset {
            let to = offset.min(at + COUNT_STEP);
            let block = self.file.read(at, to)?;
            count += memchr::memchr_iter(b'\n', &block).count() as u64;
            at = to;
        }
        self.file.check_unchanged()?;
        Ok(count)
    }

    fn finish(&self) -> Result<()> {
        self.file.check_unchanged()
    }
}

#[cfg(test)]
mod tests {
    use super::super::SorReader;
    use crate::frame::DataFrame;
    use std::io::Write;

    fn rows(frame: &DataFrame) -> Vec<Vec<Option<String>>> {
        (0..frame.nrows())
            .map(|r| {
                (0..frame.ncols())
                    .map(|c| frame.get(c, r).unwrap().map(|v| format!("{v:?}")))
                    .collect()
            })
            .collect()
    }

    fn temp_file(name: &str, text: &[u8]) -> std::path::PathBuf {
        let path = std::env::temp_dir().join(format!("eau2-source-{name}-{}", std::process::id()));
        std::fs::File::create(&path)
            .and_then(|mut f| f.write_all(text))
            .unwrap();
        path
    }

    /// A file read through its windows gives what the same bytes in memory give, for
    /// every part and many ranges, deviations and their whole-file line numbers included.
    #[test]
    fn windows_read_what_memory_reads() {
        let mut text = Vec::new();
        for i in 0..60 {
            match i % 7 {
                0 => text.extend_from_slice(b"<1> <hello> <2.5>\n"),
                1 => text.extend_from_slice(b"<0>   <\"a b\"> <3>\r\n"),
                2 => text.extend_from_slice(b"\n"),
                3 => text.extend_from_slice(b"<x> <y> <z>\n"),
                4 => text.extend_from_slice(b"<1> <> <oops> <extra>\n"),
                5 => text.extend_from_slice(b"<0><w><1e3>\n"),
                _ => text.extend_from_slice(b"<1> <longer string here> <-7>\n"),
            }
        }
        text.extend_from_slice(b"<1> <no newline> <0.5>");
        let path = temp_file("windows", &text);
        let base = SorReader::new().infer_rows(3).min_part_len(16);
        let same_one = |reader: SorReader, what: &str| {
            let from_file = reader.read_path(&path).unwrap();
            let from_memory = reader.read_bytes(&text).unwrap();
            assert_eq!(from_file.schema, from_memory.schema, "{what}");
            assert_eq!(rows(&from_file.frame), rows(&from_memory.frame), "{what}");
            assert_eq!(from_file.deviations, from_memory.deviations, "{what}");
            let inferred = reader.infer_path(&path).unwrap();
            assert_eq!(inferred, from_memory.schema, "{what}");
        };
        let same = |reader: SorReader, what: &str| {
            for map in [false, true] {
                let reader = reader.clone().memory_map(map);
                let what = format!("{what}, memory map {map}");
                same_one(reader, &what);
            }
        };
        same(base.clone(), "whole");
        for count in [1, 2, 3, 7, 50, 2000] {
            for index in 0..count.min(60) {
                same(
                    base.clone().part(index, count),
                    &format!("part {index}/{count}"),
                );
            }
        }
        let n = text.len() as u64;
        for from in (0..n + 3).step_by(7) {
            for len in [None, Some(0), Some(1), Some(19), Some(100), Some(u64::MAX)] {
                same(
                    base.clone().range(from, len),
                    &format!("range {from} {len:?}"),
                );
            }
        }
        // Strict errors name the same line too.
        let strict = base.strict(true).part(1, 3);
        let a = strict.read_path(&path).unwrap_err().to_string();
        let b = strict.read_bytes(&text).unwrap_err().to_string();
        assert_eq!(a.split_once(": ").unwrap().1, b.split_once(": ").unwrap().1);
        let _ = std::fs::remove_file(&path);
    }

    /// A file whose length says more than it holds (as one truncated after it was
    /// opened does) is an error that says the file changed, not a short result. Files
    /// under /sys say 4096 bytes and hold fewer.
    #[test]
    fn a_file_shorter_than_it_said_is_an_error() {
        let path = std::path::Path::new("/sys/devices/system/cpu/online");
        if std::fs::metadata(path).map(|m| m.len()).ok() != Some(4096) {
            eprintln!(
                "SKIPPED: {} is not a 4096-byte sysfs file here",
                path.display()
            );
            return;
        }
        let err = SorReader::new().read_path(path).unwrap_err().to_string();
        assert!(err.contains("changed during the read"), "{err}");
    }
}
