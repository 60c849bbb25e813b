//! Sorting: a sample sort over all ranks, and top-k.
//!
//! Rows are ordered by their key columns (each ascending or descending), missing values
//! last in either direction, NaN above every other float; rows with equal keys keep
//! their order in the input frame (the sort is stable: a row's global index is the last
//! key). Every key is therefore unique, which is what makes the result the same on any
//! number of ranks.
//!
//! Sample sort: every rank draws keys evenly spaced over its rows, as many as its share
//! of the rows ([`SAMPLES_PER_RANK`] per rank in all); every rank gets every sample
//! (all-gather) and picks the same n - 1 splitters at the quantiles; each row goes to
//! the rank of its splitter range (one exchange); each rank sorts what it got on all
//! cores. Rank r's rows then all come before rank r + 1's, so the frame, in rank order,
//! is sorted.
//!
//! Top-k: each rank picks its k first rows, every rank gets those candidates (an
//! all-gather of at most k x n rows) and keeps the k first; rank 0 holds the result.

use std::sync::Arc;

use rayon::prelude::*;

use super::column_indices;
use super::keys::{encode, encode_tied, KeyRef, Keys};
use super::shuffle::{decode_blocks, encode_blocks, exchange, Block, Collector, Source};
use super::take::{build, flatten_frame, take};
use crate::error::{DataError, Result};
use crate::frame::DataFrame;
use crate::table::DistFrame;

/// How many sample keys the sort draws per rank (in all, spread by the ranks' shares).
pub const SAMPLES_PER_RANK: u64 = 256;

/// Sort keys of a frame: the columns and their directions.
struct Order {
    cols: Vec<usize>,
    descending: Vec<bool>,
}

impl Order {
    fn new(frame: &DistFrame<'_>, by: &[&str], descending: &[bool]) -> Result<Order> {
        let cols = column_indices(frame.schema(), by)?;
        let descending = match descending.len() {
            1 => vec![descending[0]; cols.len()],
            n if n == cols.len() => descending.to_vec(),
            n => {
                return Err(DataError::Schema(format!(
                    "sort by {by:?}: {n} directions given for {} keys (give one, or one per key)",
                    cols.len()
                ))
                .into())
            }
        };
        if cols.is_empty() {
            return Err(DataError::Schema("sort by no column".into()).into());
        }
        Ok(Order { cols, descending })
    }

    /// The sort keys of one row chunk, made unique by the rows' global indices.
    fn keys(&self, source: &Source) -> Keys {
        let len = source.chunks.first().map_or(0, |c| c.len()) as u64;
        let rows: Vec<u64> = (source.first_row..source.first_row + len).collect();
        encode_tied(&source.chunks, &self.cols, &self.descending, Some(&rows))
    }

    /// The rows of `received` in key order, as a local frame of `chunk_len`-row chunks.
    fn sort_local(
        &self,
        received: &DataFrame,
        rows: &[u64],
        chunk_len: usize,
    ) -> Result<DataFrame> {
        // The keys without their ties, and the ties beside them: comparing (key, tie)
        // is comparing the tied encoding (the key encoding is prefix-free), but a key
        // of up to 16 bytes is then all in its integer prefix, so most comparisons
        // never look at the bytes (an I64 key with its tie would need 17). Encoded
        // per chunk, on all cores.
        let pieces = chunk_keys(received, &self.cols, &self.descending);
        let flat = flatten_frame(received);
        let perm = match pieces.as_deref().and_then(|p| short_key_order(p, rows)) {
            Some(perm) => perm,
            None => long_key_order(&encode(&flat, &self.cols, &self.descending), rows),
        };
        let sources: Vec<_> = flat.iter().map(|c| (&**c, perm.as_slice())).collect();
        build(received.schema(), &sources, chunk_len)
    }
}

/// The longest key [`short_key_order`] takes: its bytes and a 32-bit rank fill a `u128`.
const SHORT_KEY: usize = 12;

/// The rows in (key, tie) order when every key has at most [`SHORT_KEY`] bytes (one
/// numeric column, say): each row is then one `u128`, its key's bytes above its rank in
/// tie order, and sorting those plain integers is the whole sort. `None` for longer keys
/// or more than `u32::MAX` rows.
fn short_key_order(pieces: &[Keys], ties: &[u64]) -> Option<Vec<u32>> {
    let len: usize = pieces.iter().map(Keys::len).sum();
    if u32::try_from(len).is_err()
        || len != ties.len()
        || pieces
            .par_iter()
            .any(|k| (0..k.len()).any(|i| k.get(i).len() > SHORT_KEY))
    {
        return None;
    }
    let prefixes: Vec<u128> = pieces
        .iter()
        .flat_map(|k| (0..k.len()).map(move |i| k.key(i).prefix))
        .collect();
    // The rows in tie order: already so when the ties increase (always on one rank).
    let by_tie: Option<Vec<u32>> = if ties.par_windows(2).all(|w| w[0] < w[1]) {
        None
    } else {
        let mut t: Vec<u128> = ties
            .par_iter()
            .enumerate()
            .map(|(i, &tie)| u128::from(tie) << 32 | i as u128)
            .collect();
        t.par_sort_unstable();
        Some(t.into_par_iter().map(|x| x as u32).collect())
    };
    let row = |j: u32| by_tie.as_ref().map_or(j, |t| t[j as usize]);
    // A key of at most 12 bytes leaves the prefix's low 32 bits zero.
    let mut packed: Vec<u128> = (0..len as u32)
        .into_par_iter()
        .map(|j| prefixes[row(j) as usize] | u128::from(j))
        .collect();
    packed.par_sort_unstable();
    Some(packed.into_par_iter().map(|x| row(x as u32)).collect())
}

/// The keys of `frame`'s rows, one [`Keys`] per row chunk, encoded in parallel; `None`
/// when the columns' chunks do not line up (then the caller encodes the flattened frame).
fn chunk_keys(frame: &DataFrame, cols: &[usize], descending: &[bool]) -> Option<Vec<Keys>> {
    let columns = frame.columns();
    let first = columns.first()?.chunks();
    let aligned = columns.iter().all(|c| {
        c.chunks().len() == first.len()
            && c.chunks()
                .iter()
                .zip(first)
                .all(|(a, b)| a.len() == b.len())
    });
    if !aligned {
        return None;
    }
    Some(
        (0..first.len())
            .into_par_iter()
            .map(|k| {
                let chunks: Vec<_> = columns.iter().map(|c| Arc::clone(&c.chunks()[k])).collect();
                encode(&chunks, cols, descending)
            })
            .collect(),
    )
}

/// The rows in (key, tie) order, for keys of any length: (prefix, tie, row) triples,
/// whose key bytes are compared only when their prefixes are equal and a key is longer
/// than its prefix.
fn long_key_order(keys: &Keys, ties: &[u64]) -> Vec<u32> {
    // (prefix, tie, row, whether the key is longer than its prefix).
    let mut order: Vec<(u128, u64, u32, bool)> = (0..keys.len())
        .into_par_iter()
        .map(|i| {
            (
                keys.key(i).prefix,
                ties[i],
                i as u32,
                keys.get(i).len() > 16,
            )
        })
        .collect();
    order.par_sort_unstable_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| match a.3 || b.3 {
                true => keys.get(a.2 as usize).cmp(keys.get(b.2 as usize)),
                // Equal prefixes of short keys: equal keys.
                false => std::cmp::Ordering::Equal,
            })
            .then(a.1.cmp(&b.1))
    });
    order.into_iter().map(|(_, _, r, _)| r).collect()
}

impl<'n> DistFrame<'n> {
    /// Collective: the rows sorted by the columns `by`, each descending when its entry
    /// of `descending` is true (one entry applies to every key). Missing values come
    /// last, ties keep the input's order; see the module's notes.
    pub fn sort_by(&self, by: &[&str], descending: &[bool]) -> Result<DistFrame<'n>> {
        let order = Order::new(self, by, descending)?;
        let node = self.node;
        let n = node.size();
        if n == 1 {
            // Nothing to exchange: every row is here, in frame order.
            let local = self.to_local()?;
            let rows: Vec<u64> = (0..local.nrows()).collect();
            let sorted = order.sort_local(&local, &rows, self.out_chunk_len())?;
            return DistFrame::finish(node, &sorted);
        }
        let sources = self.sources()?;
        let keys: Vec<Keys> = sources.par_iter().map(|s| order.keys(s)).collect();
        // Samples: this rank's share of SAMPLES_PER_RANK x n, evenly spaced.
        let local_rows: u64 = keys.iter().map(|k| k.len() as u64).sum();
        let total = self.nrows().max(1);
        let wanted = (local_rows * SAMPLES_PER_RANK * n as u64)
            .div_ceil(total)
            .min(local_rows);
        let mut samples: Vec<Vec<u8>> = Vec::with_capacity(wanted as usize);
        // Sample i is local row i x local_rows / wanted, counted across the chunks.
        let mut chunk = 0;
        let mut before = 0u64;
        for i in 0..wanted {
            let at = i * local_rows / wanted;
            while at >= before + keys[chunk].len() as u64 {
                before += keys[chunk].len() as u64;
                chunk += 1;
            }
            samples.push(keys[chunk].get((at - before) as usize).to_vec());
        }
        let mut all: Vec<Vec<u8>> = node.all_gather(&samples)?.into_iter().flatten().collect();
        all.sort_unstable();
        // Splitters as key references, for comparisons with the rows' keys.
        let splitters: Vec<KeyRef<'_>> = (1..n)
            .filter_map(|k| all.get(k * all.len() / n))
            .map(|s| KeyRef::of(s))
            .collect();
        let route = |i: usize, _: &Source| -> Vec<u32> {
            let k = &keys[i];
            (0..k.len())
                .map(|r| splitters.partition_point(|s| *s <= k.key(r)) as u32)
                .collect()
        };
        let received = exchange(node, self.schema(), &sources, route, true)?;
        drop(keys);
        drop(sources);
        let sorted = order.sort_local(&received.frame, &received.rows, self.out_chunk_len())?;
        DistFrame::finish(node, &sorted)
    }

    /// Collective: the first `k` rows in the order of [`DistFrame::sort_by`]`(by,
    /// descending)`, without sorting the frame: each rank offers its own first `k`, and
    /// the best `k` of those are the result (held by rank 0).
    pub fn top_k(&self, k: usize, by: &[&str], descending: &[bool]) -> Result<DistFrame<'n>> {
        let order = Order::new(self, by, descending)?;
        let node = self.node;
        let sources = self.sources()?;
        let keys: Vec<Keys> = sources.par_iter().map(|s| order.keys(s)).collect();
        let cmp = |a: &(usize, u32), b: &(usize, u32)| {
            keys[a.0]
                .key(a.1 as usize)
                .cmp(&keys[b.0].key(b.1 as usize))
        };
        let best = |mut rows: Vec<(usize, u32)>| {
            if rows.len() > k && k > 0 {
                rows.select_nth_unstable_by(k - 1, cmp);
            }
            rows.truncate(k);
            rows
        };
        // The first k of each chunk, then the first k of those.
        let per_chunk: Vec<Vec<(usize, u32)>> = keys
            .par_iter()
            .enumerate()
            .map(|(s, ks)| best((0..ks.len() as u32).map(|r| (s, r)).collect()))
            .collect();
        let mut all = best(per_chunk.into_iter().flatten().collect());
        all.sort_unstable_by(cmp);
        // The candidates, one block per row chunk they come from.
        let mut blocks = Vec::new();
        for (s, source) in sources.iter().enumerate() {
            let rows: Vec<u32> = all.iter().filter(|c| c.0 == s).map(|c| c.1).collect();
            if rows.is_empty() {
                continue;
            }
            blocks.push(Block {
                rows: rows
                    .iter()
                    .map(|&r| source.first_row + u64::from(r))
                    .collect(),
                chunks: source.chunks.iter().map(|c| take(c, &rows)).collect(),
            });
        }
        let offered = node.all_gather_bytes(encode_blocks(&blocks)?)?;
        let local = if node.rank() == 0 {
            let mut collector = Collector::default();
            for (from, bytes) in offered.iter().enumerate() {
                for b in decode_blocks(bytes, self.schema(), from)? {
                    collector.push(b);
                }
            }
            let candidates = collector.finish(self.schema())?;
            let sorted = order.sort_local(&candidates.frame, &candidates.rows, k.max(1))?;
            let flat = flatten_frame(&sorted);
            let first: Vec<u32> = (0..(k as u64).min(sorted.nrows()) as u32).collect();
            let sources: Vec<_> = flat.iter().map(|c| (&**c, first.as_slice())).collect();
            build(self.schema(), &sources, self.out_chunk_len())?
        } else {
            DataFrame::empty(self.schema().clone())
        };
        DistFrame::finish(node, &local)
    }
}
