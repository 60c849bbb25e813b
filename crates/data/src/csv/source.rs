//! Where a CSV read's head (header and first records) and an in-memory read's bytes
//! come from: memory, or a file read with `pread` window by window (only its head: the
//! records of a file are read block by block through [`crate::blocks::BlockReader`]).

use std::borrow::Cow;

use rayon::prelude::*;

use super::records::count_quotes;
use crate::error::Result;
use crate::file::Opened;

/// How much a file read asks for at a time when it looks for a record's end.
pub(crate) const STEP: usize = 64 << 10;
/// How much is read at a time when counting quotes or lines in the bytes before a part.
const COUNT_STEP: usize = 8 << 20;

/// The bytes of an input, by file offsets.
pub(crate) enum Source<'a> {
    /// All of it, in memory.
    Memory(&'a [u8]),
    /// A file read with `pread`.
    File(&'a Opened),
}

impl Source<'_> {
    /// The input's length.
    pub(crate) fn len(&self) -> usize {
        match self {
            Source::Memory(b) => b.len(),
            Source::File(f) => f.len,
        }
    }

    /// Whether all of it is already in memory (so reading is free).
    pub(crate) fn in_memory(&self) -> bool {
        matches!(self, Source::Memory(_))
    }

    /// The bytes `from..to` (clamped to the input).
    pub(crate) fn read(&self, from: usize, to: usize) -> Result<Cow<'_, [u8]>> {
        let to = to.min(self.len());
        let from = from.min(to);
        match self {
            Source::Memory(b) => Ok(Cow::Borrowed(&b[from..to])),
            Source::File(f) => Ok(Cow::Owned(f.read(from, to)?)),
        }
    }

    /// The number of quotes in `from..to`, counted in parallel blocks.
    pub(crate) fn count_quotes(&self, from: usize, to: usize) -> Result<u64> {
        match self {
            Source::Memory(b) => Ok(b[from..to].par_chunks(1 << 20).map(count_quotes).sum()),
            Source::File(_) => {
                let mut total = 0;
                let mut at = from;
                while at < to {
                    let next = to.min(at + COUNT_STEP);
                    let block = self.read(at, next)?;
                    total += block.par_chunks(1 << 20).map(count_quotes).sum::<u64>();
                    at = next;
                }
                Ok(total)
            }
        }
    }

    /// The 1-based line number of the byte at `offset` (one more than the `\n`s before).
    pub(crate) fn line_number(&self, offset: usize) -> Result<u64> {
        let mut count = 1u64;
        let mut at = 0;
        while at < offset {
            let next = offset.min(at + COUNT_STEP);
            let block = self.read(at, next)?;
            count += memchr::memchr_iter(b'\n', &block).count() as u64;
            at = next;
        }
        Ok(count)
    }

    /// An error if the file changed since it was opened.
    pub(crate) fn finish(&self) -> Result<()> {
        match self {
            Source::Memory(_) => Ok(()),
            Source::File(f) => f.check_unchanged(),
        }
    }
}
