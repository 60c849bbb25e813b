//! What the one-file writes of encoded formats (Parquet, Arrow IPC) share: each rank
//! encodes its rows into pieces, the ranks exchange where each piece goes
//! ([`DistFrame::gather_encoded`]), and every rank writes its pieces into one temporary
//! that rank 0 made, sized and framed with the file's head and tail, before rank 0
//! renames it over the destination ([`DistFrame::write_placed`]).

use std::os::unix::fs::FileExt;
use std::path::Path;

use super::replace::Temp;
use super::{agree, DistFrame};
use crate::error::{Error, Result};
use crate::frame::DataFrame;
use crate::table::ops::frame_of_row_chunks;

impl DistFrame<'_> {
    /// Collective: every rank's `summary` of what it `encoded` (for the others to place
    /// its pieces), or, when some rank could not encode its rows, an error on every rank
    /// naming the first that could not (`what` says what that was).
    pub(super) fn gather_encoded<E, S: crate::collectives::Wire + Clone>(
        &self,
        encoded: Result<E>,
        summary: impl FnOnce(&E) -> S,
        what: impl Fn(u32) -> String,
    ) -> Result<(E, Vec<S>)> {
        let told: std::result::Result<S, String> = match &encoded {
            Ok(e) => Ok(summary(e)),
            Err(e) => Err(e.to_string()),
        };
        let all: Vec<(Option<S>, Option<String>)> = self
            .node
            .comm()
            .all_gather((told.clone().ok(), told.err()))?;
        let failed = all.iter().position(|(_, e)| e.is_some()).map(|r| r as u32);
        let encoded = agree(encoded, failed, what)?;
        let all = all
            .into_iter()
            .map(|(s, _)| s.expect("no rank failed: agreed above"));
        Ok((encoded, all.collect()))
    }

    /// Collective: the end of a one-file write whose pieces every rank has placed. Rank 0
    /// makes the file's `tail` (its footer) and a temporary beside `path` of its final
    /// length, and writes `head` at its start and the tail at `tail_at`; every rank
    /// writes its `pieces` (bytes, offset) with positional writes and flushes them; then
    /// all agree, and rank 0 renames the temporary over `path` ([`Self::put_in_place`]).
    pub(super) fn write_placed<'a>(
        &self,
        path: &Path,
        (head, tail_at): (&[u8], u64),
        tail: impl FnOnce() -> Result<Vec<u8>>,
        pieces: impl Iterator<Item = (&'a [u8], u64)>,
    ) -> Result<()> {
        let made = (self.node.rank() == 0).then(|| {
            let tail = tail()?;
            let temp = Temp::create_file(path, tail_at + tail.len() as u64)?;
            Ok((temp, tail))
        });
        let (made, tail) = match made {
            Some(Ok((temp, tail))) => (Some(Ok(temp)), Some(tail)),
            Some(Err(e)) => (Some(Err(e)), None),
            None => (None, None),
        };
        let temp = self.share_temp(made, path, false)?;
        let written = temp.and_then(|temp| {
            let file = temp.file();
            let put = |bytes: &[u8], at: u64| {
                file.write_all_at(bytes, at)
                    .map_err(|e| Error::io_path("writing", temp.path(), e))
            };
            if let Some(tail) = &tail {
                put(head, 0)?;
                put(tail, tail_at)?;
            }
            for (bytes, at) in pieces {
                put(bytes, at)?;
            }
            temp.sync()?;
            Ok(temp)
        });
        self.put_in_place(written, path)
    }

    /// The last phases of a one-file write: all ranks agree they wrote, rank 0 renames
    /// the temporary over `path`, all learn how that went (the others keep their handle
    /// until then, and remove the temporary after a failure).
    fn put_in_place(&self, written: Result<Temp>, path: &Path) -> Result<()> {
        let temp = self.agree_written(written, path)?;
        let (renamed, held) = match self.node.rank() {
            0 => (Some(temp.replace_file(path)), None),
            _ => (None, Some(temp)),
        };
        let agreed = self.agree_renamed(renamed, path);
        if let (Some(temp), true) = (held, agreed.is_ok()) {
            temp.keep();
        }
        agreed
    }

    /// The row chunks `chunks` (stored here) as one local frame, sharing them.
    pub(super) fn local_frame(&self, chunks: &[usize]) -> Result<DataFrame> {
        let rows = chunks.iter().map(|&i| self.row_chunk(i));
        frame_of_row_chunks(self.schema(), rows.collect::<Result<Vec<_>>>()?)
    }
}
