//! Where the lines of a SoR read come from: bytes in memory ([`InMemory`]), or a file
//! read block by block through the shared [`BlockReader`] ([`InFile`]): each block of
//! whole lines is mapped (or read), parsed into column chunks and unmapped, so resident
//! memory stays at the blocks in flight, not the file.

use super::infer;
use super::parse::{self, Cancel, Part, Plan, Stop};
use super::range;
use crate::blocks::{Block, BlockReader, MAX_FRAME_BLOCK_BYTES};
use crate::error::{Error, Result};
use crate::frame::{DataType, Schema};

/// Which lines of the input a read covers: the last of `SorReader::range` and
/// `SorReader::part` called wins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Span {
    /// The range rule of `docs/sor-format.md` over the bytes `from .. from + len` (to the
    /// end when `None`).
    Range { from: u64, len: Option<u64> },
    /// The lines beginning in the `index`-th of `count` even byte pieces.
    Part { index: usize, count: usize },
}

impl Span {
    /// The whole input.
    pub(crate) const WHOLE: Span = Span::Range { from: 0, len: None };

    /// The lines of `bytes` this span covers, as `start..end` offsets of whole lines; an
    /// error for a part that does not exist.
    pub(crate) fn resolve(self, bytes: &[u8]) -> Result<(usize, usize)> {
        match self {
            Span::Range { from, len } => Ok(range::literal(bytes, from, len)),
            Span::Part { index, count } if index < count => Ok(range::part(bytes, index, count)),
            Span::Part { index, count } => Err(Error::OutOfRange {
                what: "part",
                index: index as u64,
                len: count as u64,
            }),
        }
    }
}

/// Where the lines of a read come from. Offsets are in the input's own terms.
pub(crate) trait Input: Sync {
    /// The schema of the first `rows` lines.
    fn infer(&self, rows: usize) -> Result<Schema>;
    /// The types of a sample spread over the lines (see [`infer::sample`]).
    fn sample(&self, rows: usize, wide: bool) -> Result<Vec<Option<DataType>>>;
    /// The lines cut into at most `parts` pieces for parallel parsing, each (but the
    /// last) at least `min_len` bytes.
    fn pieces(&self, parts: usize, min_len: usize) -> Vec<(usize, usize)>;
    /// Parses piece number `index`.
    fn parse(
        &self,
        piece: (usize, usize),
        plan: &Plan<'_>,
        index: usize,
        cancel: &Cancel,
    ) -> Result<std::result::Result<Part, Stop>>;
    /// The 1-based line number, in the whole input, of the line holding `offset`.
    fn line_number(&self, offset: usize) -> Result<u64>;
    /// Called once every piece is parsed: an error if the input changed meanwhile.
    fn finish(&self) -> Result<()>;
}

/// The whole lines `start..end` of bytes in memory.
pub(crate) struct InMemory<'a> {
    pub(crate) bytes: &'a [u8],
    pub(crate) start: usize,
    pub(crate) end: usize,
}

impl Input for InMemory<'_> {
    fn infer(&self, rows: usize) -> Result<Schema> {
        Ok(infer::infer(self.bytes, self.start, self.end, rows))
    }

    fn sample(&self, rows: usize, wide: bool) -> Result<Vec<Option<DataType>>> {
        Ok(infer::sample(self.bytes, self.start, self.end, rows, wide))
    }

    fn pieces(&self, parts: usize, min_len: usize) -> Vec<(usize, usize)> {
        range::split(self.bytes, self.start, self.end, parts, min_len)
    }

    fn parse(
        &self,
        (s, e): (usize, usize),
        plan: &Plan<'_>,
        index: usize,
        cancel: &Cancel,
    ) -> Result<std::result::Result<Part, Stop>> {
        Ok(parse::parse_part(self.bytes, s, e, plan, index, cancel))
    }

    fn line_number(&self, offset: usize) -> Result<u64> {
        Ok(range::line_number(self.bytes, offset))
    }

    fn finish(&self) -> Result<()> {
        Ok(())
    }
}

/// The lines of a file that a span covers, read block by block.
pub(crate) struct InFile {
    reader: BlockReader,
}

impl InFile {
    /// The lines of `reader`'s file that `span` covers (a part by the first-byte rule, a
    /// range by the range rule of `docs/sor-format.md`, found with small reads at its
    /// ends).
    pub(crate) fn new(reader: &BlockReader, span: Span) -> Result<InFile> {
        let reader = match span {
            Span::Part { index, count } => reader.clone().part(index, count)?,
            Span::Range { from, len } => {
                let (start, end) = reader.range_rule(from, len)?;
                reader.clone().starting_at(start, end)
            }
        };
        Ok(InFile { reader })
    }
}

impl Input for InFile {
    fn infer(&self, rows: usize) -> Result<Schema> {
        let (start, _) = self.reader.bounds();
        let head = self.reader.records_at(start, rows)?;
        Ok(infer::infer(&head, 0, head.len(), rows))
    }

    fn sample(&self, rows: usize, wide: bool) -> Result<Vec<Option<DataType>>> {
        let (start, end) = self.reader.bounds();
        let mut types = Vec::new();
        let head = self.reader.records_at(start, rows)?;
        infer::observe(&head, 0, head.len(), rows, wide, &mut types);
        for at in infer::window_offsets(start as usize, end as usize) {
            let window = self.reader.records_at(at as u64, infer::WINDOW_ROWS)?;
            infer::observe(
                &window,
                0,
                window.len(),
                infer::WINDOW_ROWS,
                wide,
                &mut types,
            );
        }
        let tail = self.reader.last_lines(infer::WINDOW_ROWS + 1)?;
        infer::observe(
            &tail,
            0,
            tail.len(),
            infer::WINDOW_ROWS + 1,
            wide,
            &mut types,
        );
        Ok(types)
    }

    fn pieces(&self, parts: usize, min_len: usize) -> Vec<(usize, usize)> {
        let (start, end) = self.reader.bounds();
        let total = (end - start) as usize;
        let size = (total / parts.max(1)).clamp(min_len.max(1), MAX_FRAME_BLOCK_BYTES.max(min_len));
        self.reader
            .clone()
            .block_bytes(size)
            .plain_blocks()
            .into_iter()
            .map(|b| (b.from as usize, b.to as usize))
            .collect()
    }

    fn parse(
        &self,
        (from, to): (usize, usize),
        plan: &Plan<'_>,
        index: usize,
        cancel: &Cancel,
    ) -> Result<std::result::Result<Part, Stop>> {
        let block = Block::plain(from as u64, to as u64);
        let parsed = self.reader.with_block(&block, |view, records, offset| {
            let offset = offset as usize;
            match parse::parse_part(view, records.start, records.end, plan, index, cancel) {
                Ok(mut part) => {
                    part.first_deviation = part.first_deviation.map(|o| o + offset);
                    Ok(part)
                }
                Err(Stop::Deviation(mut d)) => {
                    d.line_start += offset;
                    Err(Stop::Deviation(d))
                }
                Err(Stop::Cancelled) => Err(Stop::Cancelled),
            }
        })?;
        Ok(parsed)
    }

    fn line_number(&self, offset: usize) -> Result<u64> {
        self.reader.line_number(offset as u64)
    }

    fn finish(&self) -> Result<()> {
        self.reader.check()
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
        let path = std::env::temp_dir().join(format!("eau2-input-{name}-{}", std::process::id()));
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
