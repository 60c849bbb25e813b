//! Gathering rows by index: what every operator does once it knows which rows go where.

use std::sync::Arc;

use rayon::prelude::*;

use crate::error::Result;
use crate::frame::{Chunk, ChunkBuilder, ChunkData, Column, DataFrame, Schema};

/// The row index that stands for "no row": the gathered value is missing (the right
/// side of an unmatched row in a left join).
pub(crate) const NO_ROW: u32 = u32::MAX;

/// Appends the values of `src` at `rows` to `out` (of `src`'s type); [`NO_ROW`] appends a
/// missing value. Works in blocks of 64 rows: one validity word and one bulk extend per
/// block, and one match on the type per call.
pub(crate) fn gather_into(out: &mut ChunkBuilder, src: &Chunk, rows: &[u32]) {
    gather_known(out, src, rows, src.validity().all_set());
}

/// [`gather_into`] for a caller that knows whether every value of `src` is present
/// (`all_valid`), as a caller gathering many pieces of one chunk does: a row's validity
/// then needs no look-up in the bitmap, which for a random gather is a second cache
/// miss beside the value's.
fn gather_known(out: &mut ChunkBuilder, src: &Chunk, rows: &[u32], all_valid: bool) {
    let valid = src.validity();
    let present = |r: u32| r != NO_ROW && (all_valid || valid.get(r as usize));
    // The validity word of a block; a missing row's value is the type's default, as
    // the bulk extends expect.
    let word = |block: &[u32]| {
        block
            .iter()
            .enumerate()
            .fold(0u64, |w, (b, &r)| w | u64::from(present(r)) << b)
    };
    // Each arm extends the builder's own type: `out` was made from `src`'s type.
    match src.data() {
        ChunkData::Bool(v) => {
            for block in rows.chunks(64) {
                let valid = word(block);
                let values = block.iter().enumerate().fold(0u64, |w, (b, &r)| {
                    w | u64::from(valid >> b & 1 == 1 && v.get(r as usize)) << b
                });
                out.extend_bools(values, valid, block.len());
            }
        }
        ChunkData::Int(v) => gather_numbers(v, rows, word, |b, w| out.extend_ints(b, w)),
        ChunkData::Float(v) => gather_numbers(v, rows, word, |b, w| out.extend_floats(b, w)),
        ChunkData::I64(v) => gather_numbers(v, rows, word, |b, w| out.extend_i64s(b, w)),
        ChunkData::F64(v) => gather_numbers(v, rows, word, |b, w| out.extend_f64s(b, w)),
        ChunkData::String { offsets, bytes } => {
            for block in rows.chunks(64) {
                let valid = word(block);
                let values = block.iter().enumerate().map(|(b, &r)| {
                    if valid >> b & 1 == 1 {
                        let r = r as usize;
                        &bytes[offsets[r] as usize..offsets[r + 1] as usize]
                    } else {
                        &[][..]
                    }
                });
                out.extend_strs(values, valid);
            }
        }
    }
}

/// The numeric arm of [`gather_into`]: for each block of 64 rows, the values at `rows`
/// (the default where `word` marks a row missing) go to `extend` with the block's
/// validity word.
fn gather_numbers<T: Copy + Default>(
    values: &[T],
    rows: &[u32],
    word: impl Fn(&[u32]) -> u64,
    mut extend: impl FnMut(&[T], u64),
) {
    let mut buf = [T::default(); 64];
    for (at, block) in rows.chunks(64).enumerate() {
        let valid = word(block);
        for (b, &r) in block.iter().enumerate() {
            // Random picks wait on memory: ask for a value some rows ahead.
            if let Some(v) = rows
                .get(at * 64 + b + AHEAD)
                .and_then(|&a| values.get(a as usize))
            {
                prefetch(v);
            }
            buf[b] = if valid >> b & 1 == 1 {
                values[r as usize]
            } else {
                T::default()
            };
        }
        extend(&buf[..block.len()], valid);
    }
}

/// How many rows ahead a gather asks for the values it will copy.
const AHEAD: usize = 32;

/// The rows `rows` of `src` as a new chunk.
pub(crate) fn take(src: &Chunk, rows: &[u32]) -> Chunk {
    let mut out = ChunkBuilder::new(src.dtype(), rows.len());
    gather_into(&mut out, src, rows);
    out.finish()
}

/// One column made of the chunks `chunks` laid end to end (a local frame's column).
pub(crate) fn flatten(chunks: &[Arc<Chunk>], dtype: crate::frame::DataType) -> Arc<Chunk> {
    if chunks.len() == 1 {
        return Arc::clone(&chunks[0]);
    }
    let total = chunks.iter().map(|c| c.len()).sum();
    let mut out = ChunkBuilder::new(dtype, total);
    for c in chunks {
        out.extend_from_chunk(c);
    }
    Arc::new(out.finish())
}

/// Every column of `frame` flattened to one chunk.
pub(crate) fn flatten_frame(frame: &DataFrame) -> Vec<Arc<Chunk>> {
    frame
        .columns()
        .par_iter()
        .map(|c| flatten(c.chunks(), c.dtype()))
        .collect()
}

/// A frame of `schema` whose column `c` is `sources[c].0` gathered at `sources[c].1`
/// (all pick lists of one length), cut into chunks of `chunk_len` rows, built in
/// parallel over chunks and columns.
pub(crate) fn build(
    schema: &Schema,
    sources: &[(&Chunk, &[u32])],
    chunk_len: usize,
) -> Result<DataFrame> {
    Ok(DataFrame::new(
        schema.clone(),
        build_columns(sources, chunk_len)?,
    )?)
}

/// The columns of [`build`]: column `c` is `sources[c].0` gathered at `sources[c].1`.
pub(crate) fn build_columns(sources: &[(&Chunk, &[u32])], chunk_len: usize) -> Result<Vec<Column>> {
    let rows = sources.first().map_or(0, |s| s.1.len());
    let chunk_len = chunk_len.max(1);
    let pieces = rows.div_ceil(chunk_len);
    let columns = sources
        .par_iter()
        .map(|(src, picks)| {
            let all_valid = src.validity().all_set();
            let chunks: Vec<Arc<Chunk>> = (0..pieces)
                .into_par_iter()
                .map(|p| {
                    let at = p * chunk_len..((p + 1) * chunk_len).min(rows);
                    let mut out = ChunkBuilder::new(src.dtype(), at.len());
                    gather_known(&mut out, src, &picks[at], all_valid);
                    Arc::new(out.finish())
                })
                .collect();
            Column::from_chunks(src.dtype(), chunks)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(columns)
}

/// Asks the processor to bring the cache line of `item` closer, without waiting for it.
#[inline(always)]
pub(crate) fn prefetch<T>(item: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is only a hint: it reads nothing into the program and never
    // faults, and `item` is a valid reference anyway.
    unsafe {
        std::arch::x86_64::_mm_prefetch(
            (item as *const T).cast::<i8>(),
            std::arch::x86_64::_MM_HINT_T0,
        );
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = item;
}
