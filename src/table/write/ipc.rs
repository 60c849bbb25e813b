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

use std::path::Path;

use eau2_arrow::{encode_ipc_batches, ipc_footer, ipc_header, IpcBlock, IpcPart};
use rayon::prelude::*;

use super::DistFrame;
use crate::error::Result;

/// What a rank tells the others about each chunk it stores: the chunk's index in the
/// frame, the length of its messages and each message's (offset in them, metadata
/// length, body length).
type ChunkSummary = (u64, u64, Vec<(u64, u32, u64)>);

impl<'n> DistFrame<'n> {
    /// Collective: writes the frame as one Arrow IPC file (Feather v2) at `path`, one
    /// record batch per row chunk, in row order, every rank writing its own chunks. The
    /// file appears whole or not at all: as [`DistFrame::write_csv`], a temporary beside
    /// `path` is renamed over it only once every rank wrote and flushed its batches; on
    /// any failure every rank returns an error naming `path` and the failing rank, and
    /// `path` is unchanged.
    pub fn write_ipc(&self, path: &Path) -> Result<()> {
        let encoded: Result<Vec<(usize, IpcPart)>> = self
            .local_chunks()
            .into_par_iter()
            .map(|i| Ok((i, encode_ipc_batches(&self.local_frame(&[i])?)?)))
            .collect();
        let (encoded, all): (_, Vec<Vec<ChunkSummary>>) = self.gather_encoded(
            encoded,
            |parts| {
                let parts = parts.iter().map(|(i, part)| {
                    let blocks = part.blocks.iter();
                    let blocks = blocks.map(|b| (b.offset, b.meta_len, b.body_len));
                    (*i as u64, part.bytes.len() as u64, blocks.collect())
                });
                parts.collect()
            },
            |r| {
                format!(
                    "rank {r} could not encode its rows as Arrow IPC for {}",
                    path.display()
                )
            },
        )?;

        // Every chunk in row order, where its messages go, and every batch's block.
        let header = ipc_header(self.schema())?;
        let mut chunks: Vec<&ChunkSummary> = all.iter().flatten().collect();
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

        // Rank 0 writes the header and the footer, every rank its own chunks' messages.
        let footer = || Ok(ipc_footer(self.schema(), &blocks)?);
        let pieces = encoded
            .iter()
            .map(|(index, part)| (part.bytes.as_slice(), offsets[index]));
        self.write_placed(path, (&header, bodies_end), footer, pieces)
    }
}
