//! Moving rows between ranks: every rank sends each of its rows to the rank a routing
//! function picks, over the communication plane's all-to-all.
//!
//! Rows travel in bulk: each sender gathers, per source chunk and destination, the rows
//! going there into one chunk per column, and the blocks for one destination are encoded
//! together into one message body (numeric vectors are copied as bytes). A rank's rows
//! are sent in rounds of about [`ROUND_BYTES`] of source chunks, so the send buffers stay
//! bounded however large the frame is; every rank runs as many rounds as the rank with
//! the most data (an all-reduce of the counts decides), sending empty parts when it has
//! nothing left. What a rank receives is its share of the result, which it keeps.
//!
//! Received rows are ordered by round, then by sender rank, then by the sender's chunk
//! order, then by row: the same order on every run; with rows' global indices carried
//! along (`with_rows`), a receiver can restore the source order of what it got.

use std::sync::Arc;

use rayon::prelude::*;
use speedy::{Readable, Writable};

use super::keys::{encode, hash_short, owner, short_keys};
use super::take::take;
use crate::cluster::Node;
use crate::error::{Error, Result};
use crate::frame::{Chunk, Column, DataFrame, Schema};
use crate::table::DistFrame;
use crate::Bytes;

/// The bytes of source chunks a rank sends in one round of an exchange, unless the
/// environment variable `EAU2_EXCHANGE_ROUND_BYTES` says otherwise (tests set it small
/// to run many rounds).
pub const ROUND_BYTES: usize = eau2_comm::net::vars::DEFAULT_EXCHANGE_ROUND_BYTES;

/// The round size in force: [`ROUND_BYTES`] or `EAU2_EXCHANGE_ROUND_BYTES` (a bad value
/// is an error naming it).
fn round_bytes() -> Result<usize> {
    Ok(eau2_comm::net::vars::exchange_round_bytes(
        &eau2_comm::net::vars::process_env,
    )?)
}

/// Rows of one source chunk bound for one rank: one chunk per column, and the rows'
/// global indices in the source frame when asked for.
#[derive(Readable, Writable)]
pub(crate) struct Block {
    /// The global indices of the rows (empty unless asked for).
    pub(crate) rows: Vec<u64>,
    /// One chunk per column.
    pub(crate) chunks: Vec<Chunk>,
}

/// One row chunk held by this rank: its chunks (one per column) and its first row's
/// global index.
pub(crate) struct Source {
    pub(crate) chunks: Vec<Arc<Chunk>>,
    pub(crate) first_row: u64,
}

/// What a rank received: its rows as a local frame and, when asked for, their global
/// indices in the source frame.
pub(crate) struct Received {
    pub(crate) frame: DataFrame,
    pub(crate) rows: Vec<u64>,
}

/// Encodes blocks for the wire.
pub(crate) fn encode_blocks(blocks: &[Block]) -> Result<Bytes> {
    blocks
        .write_to_vec()
        .map(Bytes::from)
        .map_err(|e| Error::decode(format!("cannot encode rows for an exchange: {e}")))
}

/// Decodes blocks from rank `from`, checking them against `schema`.
pub(crate) fn decode_blocks(bytes: &[u8], schema: &Schema, from: usize) -> Result<Vec<Block>> {
    let blocks = Vec::<Block>::read_from_buffer(bytes)
        .map_err(|e| Error::decode(format!("rows sent by rank {from}: {e}")))?;
    check_blocks(&blocks, schema, from)?;
    Ok(blocks)
}

/// Checks that blocks from rank `from` fit `schema`: one chunk per column, of its type,
/// all of one length, with as many row indices (when any).
fn check_blocks(blocks: &[Block], schema: &Schema, from: usize) -> Result<()> {
    for b in blocks {
        let ok = b.chunks.len() == schema.width()
            && b.chunks
                .iter()
                .zip(schema.types())
                .all(|(c, &t)| c.dtype() == t)
            && b.chunks.iter().all(|c| c.len() == b.chunks[0].len())
            && (b.rows.is_empty() || b.chunks.first().is_none_or(|c| c.len() == b.rows.len()));
        if !ok {
            return Err(Error::decode(format!(
                "rows sent by rank {from} do not fit the schema {}",
                schema.codes()
            )));
        }
    }
    Ok(())
}

/// Collective: the one all-to-all that operators' data crosses. Sends `per_dest[r]`
/// (this rank's part for rank `r`: rows, partial groups, pairs) to every rank `r`, each
/// part encoded on its own core, and returns the part every rank sent this one, by
/// sender rank; this rank's own part is kept as it is, never encoded. `check(from,
/// part)` vets each other rank's part once decoded; `what` names the parts in errors.
pub(crate) fn swap<T>(
    node: &Node,
    mut per_dest: Vec<T>,
    what: &str,
    check: impl Fn(usize, &T) -> Result<()> + Sync,
) -> Result<Vec<T>>
where
    T: Default
        + Send
        + Sync
        + Writable<speedy::LittleEndian>
        + for<'a> Readable<'a, speedy::LittleEndian>,
{
    let me = node.rank();
    let mine = std::mem::take(&mut per_dest[me]);
    let bodies = per_dest
        .par_iter()
        .map(|part| {
            part.write_to_vec()
                .map(Bytes::from)
                .map_err(|e| Error::decode(format!("cannot encode {what} for an exchange: {e}")))
        })
        .collect::<Result<Vec<_>>>()?;
    drop(per_dest);
    let received = node.comm().all_to_all_bytes(bodies)?;
    let mut all = received
        .par_iter()
        .enumerate()
        .map(|(from, bytes)| {
            if from == me {
                return Ok(T::default());
            }
            let part = T::read_from_buffer(bytes)
                .map_err(|e| Error::decode(format!("{what} sent by rank {from}: {e}")))?;
            check(from, &part)?;
            Ok(part)
        })
        .collect::<Result<Vec<_>>>()?;
    all[me] = mine;
    Ok(all)
}

/// Appends blocks to a local frame being assembled (chunks and row indices).
#[derive(Default)]
pub(crate) struct Collector {
    columns: Vec<Vec<Arc<Chunk>>>,
    rows: Vec<u64>,
}

impl Collector {
    pub(crate) fn push(&mut self, block: Block) {
        if self.columns.is_empty() {
            self.columns = vec![Vec::new(); block.chunks.len()];
        }
        if block.chunks.first().is_some_and(|c| c.is_empty()) {
            return;
        }
        self.rows.extend(block.rows);
        for (col, chunk) in self.columns.iter_mut().zip(block.chunks) {
            col.push(Arc::new(chunk));
        }
    }

    pub(crate) fn finish(self, schema: &Schema) -> Result<Received> {
        let frame = if self.columns.is_empty() {
            DataFrame::empty(schema.clone())
        } else {
            let columns = self
                .columns
                .into_iter()
                .zip(schema.types())
                .map(|(chunks, &t)| Column::from_chunks(t, chunks))
                .collect::<Result<Vec<_>, _>>()?;
            DataFrame::new(schema.clone(), columns)?
        };
        Ok(Received {
            frame,
            rows: self.rows,
        })
    }
}

/// Splits one source chunk by destination: `dest[i]` is row `i`'s rank. Returns one
/// block per rank (empty ones included).
fn split(source: &Source, dest: &[u32], n: usize, with_rows: bool) -> Vec<Block> {
    let mut picks: Vec<Vec<u32>> = vec![Vec::new(); n];
    for (i, &d) in dest.iter().enumerate() {
        picks[d as usize].push(i as u32);
    }
    picks
        .into_iter()
        .map(|rows| Block {
            chunks: if rows.is_empty() {
                Vec::new()
            } else {
                source.chunks.iter().map(|c| take(c, &rows)).collect()
            },
            rows: if with_rows {
                rows.iter()
                    .map(|&r| source.first_row + u64::from(r))
                    .collect()
            } else {
                Vec::new()
            },
        })
        .collect()
}

/// Collective: sends every row of `sources` (this rank's row chunks of a frame of
/// `schema`) to rank `route(source)[row]`, and returns what this rank received.
/// `route(i, source)` returns one destination per row of `sources[i]`.
pub(crate) fn exchange(
    node: &Node,
    schema: &Schema,
    sources: &[Source],
    route: impl Fn(usize, &Source) -> Vec<u32> + Sync,
    with_rows: bool,
) -> Result<Received> {
    let n = node.size();
    let round_bytes = round_bytes()?;
    // Rounds of about `round_bytes` of source chunks each.
    let mut rounds: Vec<std::ops::Range<usize>> = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (i, s) in sources.iter().enumerate() {
        bytes += s.chunks.iter().map(|c| c.byte_size()).sum::<usize>();
        if bytes >= round_bytes {
            rounds.push(start..i + 1);
            start = i + 1;
            bytes = 0;
        }
    }
    if start < sources.len() {
        rounds.push(start..sources.len());
    }
    let total_rounds = node
        .comm()
        .all_reduce(rounds.len() as u64, |a, b| a.max(b))? as usize;
    let mut collector = Collector::default();
    for round in 0..total_rounds {
        let here = rounds.get(round).cloned().unwrap_or(0..0);
        // Per source chunk, its blocks for every rank.
        let first = here.start;
        let split_blocks: Vec<Vec<Block>> = sources[here]
            .par_iter()
            .enumerate()
            .map(|(i, s)| {
                let dest = route(first + i, s);
                if dest.iter().any(|&d| d as usize >= n) {
                    return Err(Error::internal(format!(
                        "an exchange routed a row to a rank past the {n} ranks of the job"
                    )));
                }
                Ok(split(s, &dest, n, with_rows))
            })
            .collect::<Result<_>>()?;
        let mut per_dest: Vec<Vec<Block>> = (0..n).map(|_| Vec::new()).collect();
        for blocks in split_blocks {
            for (d, b) in blocks.into_iter().enumerate() {
                if !b.chunks.is_empty() {
                    per_dest[d].push(b);
                }
            }
        }
        let decoded = swap(node, per_dest, "rows", |from, blocks| {
            check_blocks(blocks, schema, from)
        })?;
        for block in decoded.into_iter().flatten() {
            collector.push(block);
        }
    }
    collector.finish(schema)
}

impl DistFrame<'_> {
    /// Collective: this rank's rows sent to the ranks their key's hash picks; what this
    /// rank received.
    pub(crate) fn hash_exchange(&self, cols: &[usize], with_rows: bool) -> Result<Received> {
        let n = self.node.size();
        let desc = vec![false; cols.len()];
        let route = |_: usize, s: &Source| -> Vec<u32> {
            // Short keys hash from their prefixes, as their encoded bytes would.
            if let Some(keys) = short_keys(&s.chunks, cols) {
                return keys
                    .prefixes
                    .iter()
                    .map(|&p| owner(hash_short(p), n) as u32)
                    .collect();
            }
            let keys = encode(&s.chunks, cols, &desc);
            (0..keys.len())
                .map(|i| owner(keys.key(i).hash(), n) as u32)
                .collect()
        };
        exchange(self.node, self.schema(), &self.sources()?, route, with_rows)
    }
}
