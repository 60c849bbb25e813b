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
use super::keys::{
    decode_prefixes, encode, encode_tied, exact_in_key, fill_prefixes, fixed_key_width, KeyRef,
    Keys,
};
use super::radix::sort_by_high_bytes;
use super::shuffle::{decode_blocks, encode_blocks, exchange, Block, Collector, Source};
use super::take::{build, build_columns, flatten, flatten_frame, take};
use crate::cluster::Node;
use crate::collectives::Wire;
use crate::error::{DataError, Error, Result};
use crate::frame::{Chunk, ChunkBuilder, Column, DataFrame, DataType};
use crate::table::DistFrame;

/// How many sample keys the sort draws per rank (in all, spread by the ranks' shares).
pub const SAMPLES_PER_RANK: u64 = 256;

/// The longest key sorted as a packed integer: its bytes and a 32-bit row number fill a
/// `u128` (one I64 or F64 column, or a few narrower ones, is such a key).
const SHORT_KEY: usize = 12;

/// Sort keys of a frame: the columns, their directions, and whether every key fits
/// [`SHORT_KEY`] bytes.
struct Order {
    cols: Vec<usize>,
    descending: Vec<bool>,
    short: bool,
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
        let types: Vec<_> = cols.iter().map(|&c| frame.schema().types()[c]).collect();
        let short = fixed_key_width(&types).is_some_and(|w| w <= SHORT_KEY);
        Ok(Order {
            cols,
            descending,
            short,
        })
    }

    /// The sort keys of one row chunk, made unique by the rows' global indices.
    fn keys(&self, source: &Source) -> Keys {
        let len = source.chunks.first().map_or(0, |c| c.len()) as u64;
        let rows: Vec<u64> = (source.first_row..source.first_row + len).collect();
        encode_tied(&source.chunks, &self.cols, &self.descending, Some(&rows))
    }

    /// The short keys of one row chunk, as integers (`self.short` must hold).
    fn prefixes(&self, chunks: &[Arc<Chunk>]) -> Vec<u128> {
        let mut prefixes = vec![0; chunks.first().map_or(0, |c| c.len())];
        self.fill_prefixes(chunks, &mut prefixes);
        prefixes
    }

    /// [`Order::prefixes`] into `out`, one per row.
    fn fill_prefixes(&self, chunks: &[Arc<Chunk>], out: &mut [u128]) {
        fill_prefixes(chunks, &self.cols, &self.descending, out)
            .expect("a short sort key has fixed-width columns of at most 16 bytes");
    }

    /// The rows of `received` in key order, then in the order of their global indices
    /// `rows` (the ties), as a local frame of `chunk_len`-row chunks. Takes `received`
    /// to free its chunks once they are flattened: a sort holds its input, what it
    /// received and its result at once, and this keeps it from holding a fourth copy.
    fn sort_local(
        &self,
        received: DataFrame,
        rows: Vec<u64>,
        chunk_len: usize,
    ) -> Result<DataFrame> {
        let (received, rows) = match in_tie_order(&received, &rows)? {
            Some(reordered) => reordered,
            None => (received, rows),
        };
        let schema = received.schema().clone();
        let Some(prefixes) = self.short.then(|| self.frame_prefixes(&received)) else {
            let flat = flatten_frame(&received);
            drop(received);
            let perm = long_key_order(&encode(&flat, &self.cols, &self.descending), &rows);
            let sources: Vec<_> = flat.iter().map(|c| (&**c, perm.as_slice())).collect();
            return build(&schema, &sources, chunk_len);
        };
        // Key columns whose values the sorted keys hold exactly come back from them
        // (sequential), and are neither flattened nor gathered (random reads).
        let types = schema.types();
        let key_types: Vec<DataType> = self.cols.iter().map(|&c| types[c]).collect();
        let from_keys: Vec<Option<usize>> = (0..schema.width())
            .map(|c| {
                self.cols
                    .iter()
                    .position(|&k| k == c)
                    .filter(|_| exact_in_key(types[c]))
            })
            .collect();
        let flat: Vec<Option<Arc<Chunk>>> = received
            .columns()
            .par_iter()
            .zip(&from_keys)
            .map(|(c, from_keys)| from_keys.is_none().then(|| flatten(c.chunks(), c.dtype())))
            .collect();
        drop(received);
        let (perm, sorted) = short_key_order(prefixes, &rows);
        let mut columns: Vec<Option<Column>> = from_keys
            .par_iter()
            .map(|j| {
                j.map(|j| decoded_column(&sorted, &key_types, &self.descending, j, chunk_len))
                    .transpose()
            })
            .collect::<Result<_>>()?;
        drop(sorted);
        let gathered: Vec<(&Chunk, &[u32])> = flat
            .iter()
            .flatten()
            .map(|c| (&**c, perm.as_slice()))
            .collect();
        let mut gathered = build_columns(&gathered, chunk_len)?.into_iter();
        let columns = columns
            .iter_mut()
            .map(|c| c.take().or_else(|| gathered.next()))
            .collect::<Option<Vec<Column>>>()
            .ok_or_else(|| Error::internal("a sorted frame lost a column"))?;
        Ok(DataFrame::new(schema, columns)?)
    }

    /// The short keys of every row of `frame`, encoded per row chunk on all cores when
    /// the columns' chunks line up (`self.short` must hold).
    fn frame_prefixes(&self, frame: &DataFrame) -> Vec<u128> {
        let Some(chunks) = row_chunks(frame) else {
            return self.prefixes(&flatten_frame(frame));
        };
        let mut prefixes = vec![0; frame.nrows() as usize];
        let mut rest = &mut prefixes[..];
        let mut pieces = Vec::with_capacity(chunks.len());
        for c in &chunks {
            let (piece, after) = rest.split_at_mut(c.first().map_or(0, |c| c.len()));
            pieces.push(piece);
            rest = after;
        }
        pieces
            .into_par_iter()
            .zip(&chunks)
            .for_each(|(piece, c)| self.fill_prefixes(c, piece));
        prefixes
    }
}

/// One column of `chunk_len`-row chunks: key column `j` (of the columns `types`, with
/// directions `descending`) decoded from the sorted short keys `sorted`.
fn decoded_column(
    sorted: &[u128],
    types: &[DataType],
    descending: &[bool],
    j: usize,
    chunk_len: usize,
) -> Result<Column> {
    let chunks = sorted
        .par_chunks(chunk_len.max(1))
        .map(|part| {
            let mut out = ChunkBuilder::new(types[j], part.len());
            decode_prefixes(part, types, descending, j, &mut out)
                .ok_or_else(|| Error::internal("a sort decoded a key column it cannot"))?;
            Ok(Arc::new(out.finish()))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Column::from_chunks(types[j], chunks)?)
}

/// The rows in (key, tie) order when every key is short, and the keys in that order:
/// each row is one `u128`, its key's bytes above its position in tie order, and a
/// stable radix sort on the key bytes is the whole sort.
fn short_key_order(mut prefixes: Vec<u128>, ties: &[u64]) -> (Vec<u32>, Vec<u128>) {
    let by_tie = tie_order(ties);
    let row = |j: u32| by_tie.as_ref().map_or(j, |t| t[j as usize]);
    // A key of at most 12 bytes leaves the prefix's low 32 bits zero.
    let mut packed = match &by_tie {
        None => {
            prefixes
                .par_iter_mut()
                .enumerate()
                .for_each(|(j, p)| *p |= j as u128);
            prefixes
        }
        Some(t) => t
            .par_iter()
            .enumerate()
            .map(|(j, &r)| prefixes[r as usize] | j as u128)
            .collect(),
    };
    // Positions in tie order increase along `packed`, so a stable sort by the key bytes
    // orders equal keys by tie.
    sort_by_high_bytes(&mut packed, 4);
    let perm = packed.par_iter().map(|&x| row(x as u32)).collect();
    (perm, packed)
}

/// True when `ties` strictly increase.
fn increasing(ties: &[u64]) -> bool {
    ties.par_windows(2).all(|w| w[0] < w[1])
}

/// The positions of `ties` in increasing order, or `None` when they already increase
/// (always so on one rank, and after [`in_tie_order`]).
fn tie_order(ties: &[u64]) -> Option<Vec<u32>> {
    if increasing(ties) {
        return None;
    }
    let mut order: Vec<u128> = ties
        .par_iter()
        .enumerate()
        .map(|(i, &tie)| u128::from(tie) << 32 | i as u128)
        .collect();
    sort_by_high_bytes(&mut order, 4);
    Some(order.into_par_iter().map(|x| x as u32).collect())
}

/// `frame`'s row chunks rearranged so that their ties `ties` (one per row) increase, with
/// the ties to match; `None` when they increase already or when rearranging whole chunks
/// cannot make them increase.
///
/// What an exchange delivers is one row chunk per block of a sender's source chunk, its
/// rows in their source order and within that chunk's range of rows, so ordering the
/// chunks by their first tie puts every row in tie order without moving a value. The
/// rows then need no tie permutation, whose random look-ups cost as much as the sort.
fn in_tie_order(frame: &DataFrame, ties: &[u64]) -> Result<Option<(DataFrame, Vec<u64>)>> {
    if increasing(ties) {
        return Ok(None);
    }
    let Some(chunks) = row_chunks(frame) else {
        return Ok(None);
    };
    let mut spans = Vec::with_capacity(chunks.len());
    let mut start = 0;
    for chunk in &chunks {
        let len = chunk.first().map_or(0, |c| c.len());
        spans.push(start..start + len);
        start += len;
    }
    let mut order: Vec<usize> = (0..chunks.len())
        .filter(|&k| !spans[k].is_empty())
        .collect();
    order.sort_unstable_by_key(|&k| ties[spans[k].start]);
    let in_order = order.iter().all(|&k| increasing(&ties[spans[k].clone()]))
        && order
            .windows(2)
            .all(|w| ties[spans[w[0]].end - 1] < ties[spans[w[1]].start]);
    if !in_order {
        return Ok(None);
    }
    let rows: Vec<u64> = order
        .iter()
        .flat_map(|&k| ties[spans[k].clone()].iter().copied())
        .collect();
    let columns = frame
        .columns()
        .iter()
        .enumerate()
        .map(|(c, column)| {
            let chunks = order.iter().map(|&k| Arc::clone(&chunks[k][c])).collect();
            Column::from_chunks(column.dtype(), chunks)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some((
        DataFrame::new(frame.schema().clone(), columns)?,
        rows,
    )))
}

/// The row chunks of `frame` (one chunk per column each), or `None` when the columns'
/// chunks do not line up.
fn row_chunks(frame: &DataFrame) -> Option<Vec<Vec<Arc<Chunk>>>> {
    let columns = frame.columns();
    let first = columns.first()?.chunks();
    let aligned = columns.iter().all(|c| {
        c.chunks().len() == first.len()
            && c.chunks()
                .iter()
                .zip(first)
                .all(|(a, b)| a.len() == b.len())
    });
    aligned.then(|| {
        (0..first.len())
            .map(|k| columns.iter().map(|c| Arc::clone(&c.chunks()[k])).collect())
            .collect()
    })
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

/// Collective: the n - 1 splitters of a sample sort. Every rank draws its share of
/// [`SAMPLES_PER_RANK`] x n sample keys (`sample(chunk, row)` is the key of a row of
/// this rank's chunk `chunk`, of `lens[chunk]` rows), evenly spaced over its rows; every
/// rank gets every sample and picks the same splitters at the quantiles.
fn splitters<S: Wire + Ord>(
    node: &Node,
    total_rows: u64,
    lens: &[usize],
    sample: impl Fn(usize, usize) -> S,
) -> Result<Vec<S>> {
    let n = node.size();
    let local_rows: u64 = lens.iter().map(|&l| l as u64).sum();
    let wanted = (local_rows * SAMPLES_PER_RANK * n as u64)
        .div_ceil(total_rows.max(1))
        .min(local_rows);
    let mut samples: Vec<S> = Vec::with_capacity(wanted as usize);
    // Sample i is local row i x local_rows / wanted, counted across the chunks.
    let mut chunk = 0;
    let mut before = 0u64;
    for i in 0..wanted {
        let at = i * local_rows / wanted;
        while at >= before + lens[chunk] as u64 {
            before += lens[chunk] as u64;
            chunk += 1;
        }
        samples.push(sample(chunk, (at - before) as usize));
    }
    let mut all: Vec<S> = node
        .comm()
        .all_gather(samples)?
        .into_iter()
        .flatten()
        .collect();
    all.sort_unstable();
    let len = all.len();
    let picks: Vec<usize> = (1..n).map(|k| k * len / n).filter(|&i| i < len).collect();
    let mut all: Vec<Option<S>> = all.into_iter().map(Some).collect();
    Ok(picks.into_iter().filter_map(|i| all[i].take()).collect())
}

/// The rank each row goes to: the number of splitters at or below its key.
fn route_rows<S: Ord>(splitters: &[S], len: usize, key: impl Fn(usize) -> S) -> Vec<u32> {
    (0..len)
        .map(|r| {
            let k = key(r);
            splitters.partition_point(|s| *s <= k) as u32
        })
        .collect()
}

impl<'n> DistFrame<'n> {
    /// Collective: the rows sorted by the columns `by`, each descending when its entry
    /// of `descending` is true (one entry applies to every key). Missing values come
    /// last, ties keep the input's order; see the module's notes.
    pub fn sort_by(&self, by: &[&str], descending: &[bool]) -> Result<DistFrame<'n>> {
        crate::table::memo::op(self.node, "sort_by", || {
            let order = Order::new(self, by, descending)?;
            let node = self.node;
            if node.size() == 1 {
                // Nothing to exchange: every row is here, in frame order.
                let local = self.to_local()?;
                let rows: Vec<u64> = (0..local.nrows()).collect();
                let sorted = order.sort_local(local, rows, self.out_chunk_len())?;
                return DistFrame::finish(node, &sorted);
            }
            let sources = self.sources()?;
            let lens: Vec<usize> = sources
                .iter()
                .map(|s| s.chunks.first().map_or(0, |c| c.len()))
                .collect();
            let total = self.nrows();
            // Each row goes to the rank of its splitter range, by (key, global index): short
            // keys compare as (integer, index) pairs, long ones as their tied bytes.
            let received = if order.short {
                let prefixes: Vec<Vec<u128>> = sources
                    .par_iter()
                    .map(|s| order.prefixes(&s.chunks))
                    .collect();
                let tied = |c: usize, r: usize| (prefixes[c][r], sources[c].first_row + r as u64);
                let splitters = splitters(node, total, &lens, tied)?;
                let route = |c: usize, _: &Source| route_rows(&splitters, lens[c], |r| tied(c, r));
                exchange(node, self.schema(), &sources, route, true)?
            } else {
                let keys: Vec<Keys> = sources.par_iter().map(|s| order.keys(s)).collect();
                let splitters = splitters(node, total, &lens, |c, r| keys[c].get(r).to_vec())?;
                let splitters: Vec<KeyRef<'_>> = splitters.iter().map(|s| KeyRef::of(s)).collect();
                let route =
                    |c: usize, _: &Source| route_rows(&splitters, lens[c], |r| keys[c].key(r));
                exchange(node, self.schema(), &sources, route, true)?
            };
            drop(sources);
            let sorted = order.sort_local(received.frame, received.rows, self.out_chunk_len())?;
            DistFrame::finish(node, &sorted)
        })
    }

    /// Collective: the first `k` rows in the order of [`DistFrame::sort_by`]`(by,
    /// descending)`, without sorting the frame: each rank offers its own first `k`, and
    /// the best `k` of those are the result (held by rank 0).
    pub fn top_k(&self, k: usize, by: &[&str], descending: &[bool]) -> Result<DistFrame<'n>> {
        crate::table::memo::op(self.node, "top_k", || {
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
            let offered = node.comm().all_gather_bytes(encode_blocks(&blocks)?)?;
            let local = if node.rank() == 0 {
                let mut collector = Collector::default();
                for (from, bytes) in offered.iter().enumerate() {
                    for b in decode_blocks(bytes, self.schema(), from)? {
                        collector.push(b);
                    }
                }
                let candidates = collector.finish(self.schema())?;
                let sorted = order.sort_local(candidates.frame, candidates.rows, k.max(1))?;
                let flat = flatten_frame(&sorted);
                let first: Vec<u32> = (0..(k as u64).min(sorted.nrows()) as u32).collect();
                let sources: Vec<_> = flat.iter().map(|c| (&**c, first.as_slice())).collect();
                build(self.schema(), &sources, self.out_chunk_len())?
            } else {
                DataFrame::empty(self.schema().clone())
            };
            DistFrame::finish(node, &local)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks that `tie_order` lists the positions of `ties` in increasing order.
    fn check(ties: &[u64]) {
        let order = tie_order(ties);
        let listed: Vec<u64> = match &order {
            Some(o) => o.iter().map(|&i| ties[i as usize]).collect(),
            None => ties.to_vec(),
        };
        let mut expected = ties.to_vec();
        expected.sort_unstable();
        assert_eq!(listed, expected, "{ties:?}");
    }

    #[test]
    fn ties_come_in_order() {
        check(&[]);
        check(&[5]);
        check(&[0, 1, 2, 9]);
        check(&[10, 11, 12, 0, 1, 2, 20, 21, 5, 6]);
        let mut long: Vec<u64> = (1000..1500).collect();
        long.extend(0..1000);
        long.extend((2000..3000).rev());
        check(&long);
    }

    /// A frame of one INT column cut into chunks of the given values.
    fn chunked(parts: &[&[i32]]) -> DataFrame {
        let mut schema = crate::frame::Schema::default();
        schema.push(crate::frame::DataType::Int, None);
        let chunks = parts
            .iter()
            .map(|p| {
                let mut b = crate::frame::ChunkBuilder::new(crate::frame::DataType::Int, p.len());
                p.iter().for_each(|&v| b.push_int(v));
                Arc::new(b.finish())
            })
            .collect();
        let column = Column::from_chunks(crate::frame::DataType::Int, chunks).unwrap();
        DataFrame::new(schema, vec![column]).unwrap()
    }

    #[test]
    fn chunks_are_put_in_tie_order_when_whole_chunks_can_be() {
        // Values equal to their ties: the rearranged frame reads them in order.
        let frame = chunked(&[&[4, 6], &[0, 1, 3], &[7, 8]]);
        let ties = [4, 6, 0, 1, 3, 7, 8];
        let (sorted, rows) = in_tie_order(&frame, &ties).unwrap().unwrap();
        assert_eq!(rows, [0, 1, 3, 4, 6, 7, 8]);
        let values: Vec<i32> = (0..7)
            .map(|i| sorted.get_as::<i32>(0, i).unwrap().unwrap())
            .collect();
        assert_eq!(values, [0, 1, 3, 4, 6, 7, 8]);
        // In order already; and interleaved chunks are left alone.
        assert!(in_tie_order(&chunked(&[&[0, 1], &[2]]), &[0, 1, 2])
            .unwrap()
            .is_none());
        assert!(in_tie_order(&chunked(&[&[4, 6], &[5, 7]]), &[4, 6, 5, 7])
            .unwrap()
            .is_none());
    }

    #[test]
    fn short_keys_order_by_key_then_tie() {
        // Keys 2, 1, 2, 1 (in the top bytes) with ties out of order: key 1's rows come
        // first, each key's rows by tie.
        let prefixes = [2u128 << 96, 1 << 96, 2 << 96, 1 << 96];
        let ties = [30, 40, 10, 20];
        assert_eq!(short_key_order(prefixes.to_vec(), &ties).0, [3, 1, 2, 0]);
    }
}
