//! Reading the bytes of a file that a read needs, with `pread`, and noticing when the
//! file changes underneath.
//!
//! A memory-mapped file that another process truncates kills the reader with SIGBUS on
//! the first page past the new end, and one rewritten in place feeds it a mix of old and
//! new bytes. So files are read into memory instead, and only the window of bytes the
//! read's span needs: a part of a file reads its own piece (plus the byte before it and
//! the rest of its last line), not the whole file. The length and modification time
//! taken when the file is opened are checked when the read ends: a file that shrank (a
//! short read), grew or was rewritten meanwhile is an error naming it, never a silent
//! partial result. Line numbers before the window, needed only to report a deviation,
//! are counted by streaming that prefix, after the fact.
//!
//! Pieces of the window are read in parallel: on a warm page cache, copying is what
//! costs, and rayon's threads share it.

use std::fs::{File, Metadata};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use rayon::prelude::*;

use super::range;
use super::Span;
use crate::error::{Error, Result};

/// Pieces read by one `pread` each, in parallel.
const READ_PIECE: usize = 8 << 20;
/// How much more is read at a time to finish a part's last line.
const LINE_STEP: usize = 64 << 10;

/// The bytes of a file that a span needs, and where its lines are in them.
pub(crate) struct Window {
    /// The bytes `offset .. offset + bytes.len()` of the file.
    pub bytes: Vec<u8>,
    /// The span's whole lines, as offsets into `bytes`.
    pub start: usize,
    pub end: usize,
    offset: u64,
    file: Opened,
}

/// An open file and what it looked like when opened.
struct Opened {
    file: File,
    path: PathBuf,
    len: u64,
    modified: Option<SystemTime>,
}

impl Opened {
    fn open(path: &Path) -> Result<Opened> {
        let file = File::open(path).map_err(|e| Error::io_path("opening", path, e))?;
        let meta = metadata(&file, path)?;
        if meta.is_dir() {
            return Err(Error::io_path(
                "reading",
                path,
                io::Error::new(io::ErrorKind::InvalidInput, "is a directory"),
            ));
        }
        Ok(Opened {
            file,
            path: path.to_path_buf(),
            len: meta.len(),
            modified: meta.modified().ok(),
        })
    }

    /// Fills `buf` from `at`; a short read means the file shrank.
    fn read_at(&self, buf: &mut [u8], at: u64) -> Result<()> {
        self.file.read_exact_at(buf, at).map_err(|e| {
            if e.kind() == io::ErrorKind::UnexpectedEof {
                self.changed(&format!(
                    "it ended before byte {} although it had {} bytes when the read began",
                    at + buf.len() as u64,
                    self.len
                ))
            } else {
                Error::io_path("reading", &self.path, e)
            }
        })
    }

    /// An error unless the file still has the length and modification time it had when
    /// opened.
    fn check_unchanged(&self) -> Result<()> {
        let meta = metadata(&self.file, &self.path)?;
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

    fn changed(&self, how: &str) -> Error {
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

fn metadata(file: &File, path: &Path) -> Result<Metadata> {
    file.metadata()
        .map_err(|e| Error::io_path("reading the metadata of", path, e))
}

impl Window {
    /// Opens `path` and reads the bytes `span` needs.
    pub(crate) fn read(path: &Path, span: Span) -> Result<Window> {
        let file = Opened::open(path)?;
        let len = usize::try_from(file.len).map_err(|_| {
            Error::io_path(
                "reading",
                path,
                io::Error::other("the file is larger than this machine's address space"),
            )
        })?;
        let window = match span {
            Span::Range {
                from,
                len: range_len,
            } => {
                let from = usize::try_from(from).map_or(len, |f| f.min(len));
                // The lines whose `\n` lies before `stop`, or to the end.
                let stop = range_len
                    .and_then(|l| (from as u64).checked_add(l))
                    .and_then(|s| usize::try_from(s).ok())
                    .map_or(len, |s| s.min(len));
                let bytes = read_span(&file, from, stop)?;
                let (start, end) = range_in_window(&bytes, from == 0, stop >= len);
                Window {
                    bytes,
                    start,
                    end,
                    offset: from as u64,
                    file,
                }
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
                let (a, b) = (at(index), at(index + 1));
                // The byte before the piece says whether a line begins at its start; its
                // last line runs past its end to a `\n`.
                let w0 = a.saturating_sub(1);
                let mut bytes = read_span(&file, w0, b)?;
                finish_line(&file, &mut bytes, w0, len)?;
                let rel = |x: usize| {
                    if x == 0 || x >= len {
                        x.min(len) - w0
                    } else {
                        range::line_start_at_or_after(&bytes, x - w0)
                    }
                };
                let start = rel(a);
                let end = rel(b).max(start);
                Window {
                    bytes,
                    start,
                    end,
                    offset: w0 as u64,
                    file,
                }
            }
        };
        window.file.check_unchanged()?;
        Ok(window)
    }

    /// The number of lines before the window (its `\n`s), read from the file now.
    pub(crate) fn lines_before(&self) -> Result<u64> {
        let mut count = 0u64;
        let mut buf = vec![0u8; READ_PIECE.min(self.offset as usize)];
        let mut at = 0u64;
        while at < self.offset {
            let n = buf.len().min((self.offset - at) as usize);
            self.file.read_at(&mut buf[..n], at)?;
            count += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
            at += n as u64;
        }
        self.file.check_unchanged()?;
        Ok(count)
    }
}

/// The bytes `from..to` of the file, read in parallel pieces.
fn read_span(file: &Opened, from: usize, to: usize) -> Result<Vec<u8>> {
    let mut bytes = vec![0u8; to.saturating_sub(from)];
    bytes
        .par_chunks_mut(READ_PIECE)
        .enumerate()
        .try_for_each(|(i, piece)| file.read_at(piece, (from + i * READ_PIECE) as u64))?;
    Ok(bytes)
}

/// Reads on from the end of `bytes` (which start at `w0`) to just past the next `\n`,
/// or the end of the file, so that the window's last line is whole. When `bytes` is
/// empty nothing needs finishing.
fn finish_line(file: &Opened, bytes: &mut Vec<u8>, w0: usize, len: usize) -> Result<()> {
    if bytes.is_empty() {
        return Ok(());
    }
    let mut searched = bytes.len() - 1;
    loop {
        if memchr::memchr(b'\n', &bytes[searched..]).is_some() {
            return Ok(());
        }
        let at = w0 + bytes.len();
        if at >= len {
            return Ok(());
        }
        searched = bytes.len();
        let n = LINE_STEP.min(len - at);
        bytes.resize(bytes.len() + n, 0);
        let tail = bytes.len() - n;
        file.read_at(&mut bytes[tail..], at as u64)?;
    }
}

/// `SOR.md`'s rule for a range, applied to the window `from..stop` of the file that
/// holds its bytes (`reaches_end` when `stop` is the file's end): the lines
/// [`range::literal`] finds in the whole file, as offsets into the window.
fn range_in_window(bytes: &[u8], from_zero: bool, reaches_end: bool) -> (usize, usize) {
    let n = bytes.len();
    let start = if from_zero {
        0
    } else {
        // Past the first `\n` at or after `from`; none in the window means none before
        // `stop`, so no line of the range is whole.
        memchr::memchr(b'\n', bytes).map_or(n, |i| i + 1)
    };
    let end = if reaches_end {
        n
    } else {
        memchr::memrchr(b'\n', bytes).map_or(0, |i| i + 1)
    };
    (start, end.max(start))
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
        let same = |reader: SorReader, what: &str| {
            let from_file = reader.read_path(&path).unwrap();
            let from_memory = reader.read_bytes(&text).unwrap();
            assert_eq!(from_file.schema, from_memory.schema, "{what}");
            assert_eq!(rows(&from_file.frame), rows(&from_memory.frame), "{what}");
            assert_eq!(from_file.deviations, from_memory.deviations, "{what}");
            let inferred = reader.infer_path(&path).unwrap();
            assert_eq!(inferred, from_memory.schema, "{what}");
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
