//! Writing a distributed frame as one Arrow IPC file (Feather v2), in parallel, through
//! the whole-or-nothing protocol of the other writes.
//!
//! Each rank encodes the row chunks it stores as record batch messages, one batch per
//! chunk, on all its cores ([`eau2_arrow::encode_ipc_batches`]); the ranks exchange each
//! chunk's message lengths (a few bytes a chunk); every rank computes where each chunk's
//! messages go after the header (the magic and the schema message, the same on every
//! rank); rank 0 makes the footer, which lists every record batch at its offset
//! ([`eau2_arrow::ipc_footer`]), and sizes the temporary; each rank writes its messages
//! with positional writes. Batches are in the frame's row order, whatever the chunks'
//! homes.

use std::os::unix::fs::FileExt;
use std::path::Path;

use eau2_arrow::{encode_ipc_batches, ipc_footer, ipc_header, IpcBlock, IpcPart};
use rayon::prelude::*;

use super::replace::Temp;
use super::{agree, DistFrame};
use crate::error::{Error, Result};

/// What a rank tells the others about each chunk it stores: the chunk's index in the
/// frame, the length of its messages and each message's (offset in them, metadata
/// length, body length).
type ChunkSummary = (u64, u64, Vec<(u64, u32, u64)>);

/// A rank's chunk summaries, or why it could not encode its chunks.
type Summary = (Option<Vec<ChunkSummary>>, Option<String>);

impl<'n> DistFrame<'n> {
    /// Collective: writes the frame as one Arrow IPC file (Feather v2) at `path`, one
    /// record batch per row chunk, in row order, every rank writing its own chunks. The
    /// file appears whole or not at all: as [`DistFrame::write_csv`], a temporary beside
    /// `path` is renamed over it only once every rank wrote and flushed its batches; on
    /// any failure every rank returns an error naming `path` and the failing rank, and
    /// `path` is unchanged.
    pub fn write_ipc(&self, path: &Path) -> Result<()> {
        let node = self.node;
        let me = node.rank();
        let encoded: Result<Vec<(usize, IpcPart)>> = self
            .local_chunks()
            .into_par_iter()
            .map(|i| Ok((i, encode_ipc_batches(&self.local_frame(&[i])?)?)))
            .collect();
        let summary: std::result::Result<Vec<ChunkSummary>, String> = match &encoded {
            Ok(parts) => Ok(parts
                .iter()
                .map(|(i, part)| {
                    let blocks = part.blocks.iter();
                    let blocks = blocks.map(|b| (b.offset, b.meta_len, b.body_len));
                    (*i as u64, part.bytes.len() as u64, blocks.collect())
                })
                .collect()),
            Err(e) => Err(e.to_string()),
        };
        let all: Vec<Summary> = node
            .comm()
            .all_gather(&(summary.clone().ok(), summary.err()))?;
        let failed = all.iter().position(|(_, e)| e.is_some()).map(|r| r as u32);
        let encoded = agree(encoded, failed, |r| {
            format!(
                "rank {r} could not encode its rows as Arrow IPC for {}",
                path.display()
            )
        })?;

        // Every chunk in row order, where its messages go, and every batch's block.
        let header = ipc_header(self.schema())?;
        let mut chunks: Vec<&ChunkSummary> = all
            .iter()
            .flat_map(|(parts, _)| parts.iter().flatten())
            .collect();
        chunks.sort_unstable_by_key(|c| c.0);
        let mut at = header.len() as u64;
        let mut offsets = std::collections::HashMap::new();
        let mut blocks = Vec::new();
        for (index, len, messages) in chunks {
            offsets.insert(*index as usize, at);
            blocks.extend(
                messages
                    .iter()
                    .map(|&(offset, meta_len, body_len)| IpcBlock {
                        offset: at + offset,
                        meta_len,
                        body_len,
                    }),
            );
            at += len;
        }
        let bodies_end = at;

        // Rank 0 makes the footer and the temporary file of the final length.
        let made = (me == 0).then(|| {
            let tail = ipc_footer(self.schema(), &blocks)?;
            let temp = Temp::create_file(path, bodies_end + tail.len() as u64)?;
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
                put(&header, 0)?;
                put(tail, bodies_end)?;
            }
            for (index, part) in &encoded {
                put(&part.bytes, offsets[index])?;
            }
            temp.sync()?;
            Ok(temp)
        });
        self.put_in_place(written, path)
    }
}
