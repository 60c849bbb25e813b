//! Row keys: the values of a few columns of one row, encoded as bytes that compare,
//! hash and sort like the values themselves.
//!
//! Every relational operator needs the same three things of its key columns: equality
//! (group-by, join, distinct), a hash that is the same on every rank (which rank owns a
//! key) and an order (sort, top-k). One encoding serves all three: per key column, a tag
//! byte (`1` present, `2` missing, so missing values sort last in either direction) and
//! then the value in a byte form whose unsigned lexicographic order is the value's order
//! (the "memcomparable" encodings of ordered key-value stores):
//!
//! | type | bytes |
//! |---|---|
//! | BOOL | `0` or `1` |
//! | INT, I64 | big-endian, sign bit flipped |
//! | FLOAT, F64 | big-endian IEEE bits, flipped so negatives sort first; `-0.0` is `0.0`, every NaN one NaN above `+inf` |
//! | STRING | the bytes, each `0` written `0 255`, then `0 0` |
//!
//! A descending column's value bytes (not its tag) are inverted. The encodings are
//! prefix-free, so a row's key is the plain concatenation of its columns'.
//!
//! This module is the one place that knows column types for keys: a new column type
//! needs an arm in [`ColumnView`] and in [`decode_into`].

use std::hash::BuildHasher;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::frame::{Bitmap, Chunk, ChunkBuilder, ChunkData, DataType};

/// The tag of a present value.
const PRESENT: u8 = 1;
/// The tag of a missing value: above [`PRESENT`], so missing values sort last.
const MISSING: u8 = 2;

/// The seed of the key hash: fixed, so every rank sends a key to the same rank.
const HASH_SEED: u64 = 0x5eed_ea02_0f5a_11ed;

/// The first 16 bytes of a key, big-endian, zero-padded.
#[inline]
fn prefix_of(key: &[u8]) -> u128 {
    let mut buf = [0u8; 16];
    let n = key.len().min(16);
    buf[..n].copy_from_slice(&key[..n]);
    u128::from_be_bytes(buf)
}

/// An encoded key with its first 16 bytes as one integer, so that most comparisons and
/// equality tests are one integer operation rather than a `memcmp` call.
///
/// The keys of one operation form a prefix-free set (each column's encoding is), so two
/// keys of at most 16 bytes with equal prefixes are equal, and two keys whose prefixes
/// differ compare as their prefixes do; only longer keys with equal prefixes compare
/// their bytes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct KeyRef<'a> {
    pub(crate) prefix: u128,
    pub(crate) bytes: &'a [u8],
}

impl<'a> KeyRef<'a> {
    /// The key `bytes`.
    #[inline]
    pub(crate) fn of(bytes: &'a [u8]) -> KeyRef<'a> {
        KeyRef {
            prefix: prefix_of(bytes),
            bytes,
        }
    }

    /// The key's hash, the same on every rank and in every run.
    #[inline]
    pub(crate) fn hash(&self) -> u64 {
        if self.bytes.len() <= 16 {
            hash_short(self.prefix)
        } else {
            foldhash::fast::FixedState::with_seed(HASH_SEED).hash_one(self.bytes)
        }
    }
}

impl PartialEq for KeyRef<'_> {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        self.prefix == other.prefix && (self.bytes.len() <= 16 || self.bytes == other.bytes)
    }
}

impl Eq for KeyRef<'_> {}

impl PartialOrd for KeyRef<'_> {
    #[inline]
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for KeyRef<'_> {
    #[inline]
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.prefix
            .cmp(&other.prefix)
            .then_with(|| self.bytes.cmp(other.bytes))
    }
}

/// The hash of a key of at most 16 bytes whose prefix is `prefix`: [`KeyRef::hash`] of
/// that key, for callers that hold prefixes only ([`short_keys`]).
#[inline]
pub(crate) fn hash_short(prefix: u128) -> u64 {
    foldhash::fast::FixedState::with_seed(HASH_SEED).hash_one(prefix)
}

/// The keys of one row chunk when each fits in 16 bytes: per row its prefix (the whole
/// key, see [`KeyRef`]) and whether a key value is missing. Made straight from the
/// values by [`fill_prefixes`], without writing any key bytes: what joins and exchanges
/// by short keys (integers, a few narrow columns) need.
pub(crate) struct ShortKeys {
    /// Row `i`'s key.
    pub(crate) prefixes: Vec<u128>,
    /// Row `i` has a missing key value; empty when no row does.
    missing: Vec<bool>,
}

impl ShortKeys {
    /// True when row `i`'s key has a missing value (such keys never match in a join).
    #[inline]
    pub(crate) fn has_missing(&self, i: usize) -> bool {
        !self.missing.is_empty() && self.missing[i]
    }
}

/// The short keys of columns `cols` (ascending) of one row chunk, or `None` when a key
/// can take more than 16 bytes (a STRING column, or wide columns together; see
/// [`fixed_key_width`]).
pub(crate) fn short_keys(chunks: &[Arc<Chunk>], cols: &[usize]) -> Option<ShortKeys> {
    let len = chunks.first().map_or(0, |c| c.len());
    let mut prefixes = vec![0u128; len];
    fill_prefixes(chunks, cols, &vec![false; cols.len()], &mut prefixes)?;
    let valid: Vec<&Bitmap> = cols.iter().map(|&c| chunks[c].validity()).collect();
    let missing = if valid.iter().all(|v| v.all_set()) {
        Vec::new()
    } else {
        (0..len).map(|i| valid.iter().any(|v| !v.get(i))).collect()
    };
    Some(ShortKeys { prefixes, missing })
}

/// The rank of `n` that owns a key of hash `hash`: from the high bits, so the low bits,
/// which pick buckets in the local hash tables, stay evenly spread on every rank.
#[inline]
pub(crate) fn owner(hash: u64, n: usize) -> usize {
    ((u128::from(hash >> 32) * n as u128) >> 32) as usize
}

/// The encoded keys of a run of rows: key `i` is `bytes[offsets[i]..offsets[i + 1]]`.
#[derive(Default)]
pub(crate) struct Keys {
    offsets: Vec<usize>,
    bytes: Vec<u8>,
    /// Rows whose key has a missing value (they never match in a join).
    missing: Vec<bool>,
    /// Each key's first 16 bytes (see [`KeyRef`]).
    prefixes: Vec<u128>,
}

impl Keys {
    /// The number of keys.
    pub(crate) fn len(&self) -> usize {
        self.missing.len()
    }

    /// Key `i`'s bytes.
    #[inline]
    pub(crate) fn get(&self, i: usize) -> &[u8] {
        &self.bytes[self.offsets[i]..self.offsets[i + 1]]
    }

    /// Key `i`, for comparisons.
    #[inline]
    pub(crate) fn key(&self, i: usize) -> KeyRef<'_> {
        KeyRef {
            prefix: self.prefixes[i],
            bytes: self.get(i),
        }
    }

    /// True when key `i` has a missing value.
    #[inline]
    pub(crate) fn has_missing(&self, i: usize) -> bool {
        self.missing[i]
    }
}

/// Every value of a fixed-width chunk as the bits its key encoding holds after the tag
/// (distinct values have distinct bits; a missing value gives 0), or `None` for STRING:
/// a value's identity as one integer, without encoding keys.
pub(crate) fn value_bits(chunk: &Chunk) -> Option<Vec<u64>> {
    let view = ColumnView::of(chunk);
    view.width()?;
    Some(
        (0..chunk.len())
            .map(|i| view.bits(i).map_or(0, |(v, _)| v))
            .collect(),
    )
}

/// One key column of a row chunk, matched on its type once.
enum ColumnView<'a> {
    Bool(&'a Bitmap),
    Int(&'a [i32]),
    Float(&'a [f32]),
    I64(&'a [i64]),
    F64(&'a [f64]),
    Str(&'a [u64], &'a [u8]),
}

impl<'a> ColumnView<'a> {
    fn of(chunk: &'a Chunk) -> ColumnView<'a> {
        match chunk.data() {
            ChunkData::Bool(b) => ColumnView::Bool(b),
            ChunkData::Int(v) => ColumnView::Int(v),
            ChunkData::Float(v) => ColumnView::Float(v),
            ChunkData::I64(v) => ColumnView::I64(v),
            ChunkData::F64(v) => ColumnView::F64(v),
            ChunkData::String { offsets, bytes } => ColumnView::Str(offsets, bytes),
        }
    }

    /// The number of bits of a value's bytes, for the fixed-width types; `None` for
    /// STRING.
    #[inline]
    fn width(&self) -> Option<u32> {
        match self {
            ColumnView::Bool(_) => Some(8),
            ColumnView::Int(_) | ColumnView::Float(_) => Some(32),
            ColumnView::I64(_) | ColumnView::F64(_) => Some(64),
            ColumnView::Str(..) => None,
        }
    }

    /// Row `i`'s value bytes as an integer and their number in bits ([`Self::width`]),
    /// for the fixed-width types; `None` for STRING.
    #[inline]
    fn bits(&self, i: usize) -> Option<(u64, u32)> {
        let value = match self {
            ColumnView::Bool(b) => u64::from(b.get(i)),
            ColumnView::Int(v) => u64::from((v[i] as u32) ^ (1 << 31)),
            ColumnView::Float(v) => u64::from(float_bits(v[i])),
            ColumnView::I64(v) => (v[i] as u64) ^ (1 << 63),
            ColumnView::F64(v) => double_bits(v[i]),
            ColumnView::Str(..) => return None,
        };
        Some((value, self.width()?))
    }

    /// Appends row `i`'s value bytes (present rows only).
    #[inline]
    fn push(&self, i: usize, out: &mut Vec<u8>) {
        match self {
            ColumnView::Bool(b) => out.push(u8::from(b.get(i))),
            ColumnView::Int(v) => out.extend_from_slice(&((v[i] as u32) ^ (1 << 31)).to_be_bytes()),
            ColumnView::Float(v) => out.extend_from_slice(&float_bits(v[i]).to_be_bytes()),
            ColumnView::I64(v) => out.extend_from_slice(&((v[i] as u64) ^ (1 << 63)).to_be_bytes()),
            ColumnView::F64(v) => out.extend_from_slice(&double_bits(v[i]).to_be_bytes()),
            ColumnView::Str(offsets, bytes) => {
                let s = &bytes[offsets[i] as usize..offsets[i + 1] as usize];
                push_stuffed(s, out);
            }
        }
    }
}

/// A float's bits, ordered like the floats when compared as unsigned integers.
#[inline]
fn float_bits(v: f32) -> u32 {
    let v = if v.is_nan() {
        f32::NAN
    } else if v == 0.0 {
        0.0
    } else {
        v
    };
    let bits = v.to_bits();
    if bits >> 31 == 1 {
        !bits
    } else {
        bits | 1 << 31
    }
}

/// A double's bits, ordered like the doubles (as [`float_bits`]).
#[inline]
fn double_bits(v: f64) -> u64 {
    let v = if v.is_nan() {
        f64::NAN
    } else if v == 0.0 {
        0.0
    } else {
        v
    };
    let bits = v.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | 1 << 63
    }
}

fn double_from_bits(bits: u64) -> f64 {
    f64::from_bits(if bits >> 63 == 1 {
        bits & !(1 << 63)
    } else {
        !bits
    })
}

fn float_from_bits(bits: u32) -> f32 {
    f32::from_bits(if bits >> 31 == 1 {
        bits & !(1 << 31)
    } else {
        !bits
    })
}

/// A string's bytes with each 0 written as `0 255`, then the terminator `0 0`.
#[inline]
fn push_stuffed(s: &[u8], out: &mut Vec<u8>) {
    if memchr_zero(s) {
        for &b in s {
            out.push(b);
            if b == 0 {
                out.push(255);
            }
        }
    } else {
        out.extend_from_slice(s);
    }
    out.extend_from_slice(&[0, 0]);
}

#[inline]
fn memchr_zero(s: &[u8]) -> bool {
    s.contains(&0)
}

/// Encodes the keys of columns `cols` (with `descending[k]` for `cols[k]`) of one row
/// chunk, `chunks` holding one chunk per column of the frame.
pub(crate) fn encode(chunks: &[Arc<Chunk>], cols: &[usize], descending: &[bool]) -> Keys {
    encode_tied(chunks, cols, descending, None)
}

/// Like [`encode`], with 8 big-endian bytes of `ties[i]` appended to key `i`: equal keys
/// then order by the tie (a row's global index), and every key is unique.
pub(crate) fn encode_tied(
    chunks: &[Arc<Chunk>],
    cols: &[usize],
    descending: &[bool],
    ties: Option<&[u64]>,
) -> Keys {
    let len = chunks.first().map_or(0, |c| c.len());
    let views: Vec<(ColumnView<'_>, &Bitmap, bool)> = cols
        .iter()
        .zip(descending)
        .map(|(&c, &d)| (ColumnView::of(&chunks[c]), chunks[c].validity(), d))
        .collect();
    let mut keys = Keys {
        offsets: Vec::with_capacity(len + 1),
        bytes: Vec::with_capacity(len * (cols.len() * 5 + 1)),
        missing: Vec::with_capacity(len),
        prefixes: Vec::with_capacity(len),
    };
    keys.offsets.push(0);
    for i in 0..len {
        let mut missing = false;
        for (view, valid, desc) in &views {
            if !valid.get(i) {
                keys.bytes.push(MISSING);
                missing = true;
                continue;
            }
            keys.bytes.push(PRESENT);
            let at = keys.bytes.len();
            view.push(i, &mut keys.bytes);
            if *desc {
                keys.bytes[at..].iter_mut().for_each(|b| *b = !*b);
            }
        }
        if let Some(ties) = ties {
            keys.bytes.extend_from_slice(&ties[i].to_be_bytes());
        }
        keys.missing.push(missing);
        let at = keys.offsets[i];
        keys.prefixes.push(prefix_of(&keys.bytes[at..]));
        keys.offsets.push(keys.bytes.len());
    }
    keys
}

/// The most bytes a key of columns of `types` can take, when every one has a fixed
/// width (every type but STRING); `None` when a key column is a STRING.
pub(crate) fn fixed_key_width(types: &[DataType]) -> Option<usize> {
    types
        .iter()
        .map(|t| match t {
            DataType::Bool => Some(2),
            DataType::Int | DataType::Float => Some(5),
            DataType::I64 | DataType::F64 => Some(9),
            DataType::String => None,
        })
        .sum()
}

/// Writes the key prefixes ([`KeyRef::prefix`]) of one row chunk's rows into `prefixes`
/// (one per row), computed straight from the values without writing the keys' bytes:
/// what a sort by a short key needs. `None` (and `prefixes` unspecified) unless every
/// key column has a fixed width and a key takes at most 16 bytes ([`fixed_key_width`]),
/// so that the prefix is the whole key.
pub(crate) fn fill_prefixes(
    chunks: &[Arc<Chunk>],
    cols: &[usize],
    descending: &[bool],
    prefixes: &mut [u128],
) -> Option<()> {
    let types: Vec<DataType> = cols.iter().map(|&c| chunks[c].dtype()).collect();
    if fixed_key_width(&types)? > 16 {
        return None;
    }
    let views: Vec<(ColumnView<'_>, &Bitmap, bool)> = cols
        .iter()
        .zip(descending)
        .map(|(&c, &d)| (ColumnView::of(&chunks[c]), chunks[c].validity(), d))
        .collect();
    if views.iter().all(|(_, valid, _)| valid.all_set()) {
        return fixed_prefixes(&views, prefixes);
    }
    for (i, prefix) in prefixes.iter_mut().enumerate() {
        // The key's bytes accumulate at the low end, then move to the top (a prefix is
        // big-endian and zero-padded).
        let mut key = 0u128;
        let mut used = 0u32;
        for (view, valid, desc) in &views {
            if !valid.get(i) {
                key = key << 8 | u128::from(MISSING);
                used += 8;
                continue;
            }
            let (value, width) = view.bits(i)?;
            let value = if *desc {
                !value & (u64::MAX >> (64 - width))
            } else {
                value
            };
            key = (key << 8 | u128::from(PRESENT)) << width | u128::from(value);
            used += 8 + width;
        }
        *prefix = if used == 0 { 0 } else { key << (128 - used) };
    }
    Some(())
}

/// [`fill_prefixes`] when no key value is missing: every key then has the same length,
/// so the keys are built a column at a time, each column's bytes at the same place in
/// every key (a tight loop per column rather than a loop over the columns per row).
fn fixed_prefixes(views: &[(ColumnView<'_>, &Bitmap, bool)], keys: &mut [u128]) -> Option<()> {
    keys.fill(0);
    let mut used = 0;
    for (view, _, desc) in views {
        let width = view.width()?;
        let flip = if *desc { u64::MAX >> (64 - width) } else { 0 };
        let tag = u128::from(PRESENT) << width;
        for (i, key) in keys.iter_mut().enumerate() {
            let (value, _) = view.bits(i)?;
            *key = *key << (8 + width) | tag | u128::from(value ^ flip);
        }
        used += 8 + width;
    }
    if used > 0 {
        keys.iter_mut().for_each(|k| *k <<= 128 - used);
    }
    Some(())
}

/// Decodes one encoded key (ascending columns of `types`) into `builders`, one per key
/// column. `key` must come from [`encode`] over columns of those types.
pub(crate) fn decode_into(
    mut key: &[u8],
    types: &[DataType],
    builders: &mut [ChunkBuilder],
) -> Result<()> {
    let bad = || Error::decode("a row key does not decode (a bug in the operators' encoding)");
    for (dtype, builder) in types.iter().zip(builders.iter_mut()) {
        let (&tag, rest) = key.split_first().ok_or_else(bad)?;
        key = rest;
        if tag == MISSING {
            builder.push_missing();
            continue;
        }
        match dtype {
            DataType::Bool => {
                let (&b, rest) = key.split_first().ok_or_else(bad)?;
                builder.push_bool(b == 1);
                key = rest;
            }
            DataType::Int | DataType::Float => {
                let word: [u8; 4] = key
                    .get(..4)
                    .ok_or_else(bad)?
                    .try_into()
                    .map_err(|_| bad())?;
                let bits = u32::from_be_bytes(word);
                if *dtype == DataType::Int {
                    builder.push_int((bits ^ (1 << 31)) as i32);
                } else {
                    builder.push_float(float_from_bits(bits));
                }
                key = &key[4..];
            }
            DataType::I64 | DataType::F64 => {
                let word: [u8; 8] = key
                    .get(..8)
                    .ok_or_else(bad)?
                    .try_into()
                    .map_err(|_| bad())?;
                let bits = u64::from_be_bytes(word);
                if *dtype == DataType::I64 {
                    builder.push_i64((bits ^ (1 << 63)) as i64);
                } else {
                    builder.push_f64(double_from_bits(bits));
                }
                key = &key[8..];
            }
            DataType::String => {
                let mut value = Vec::new();
                let mut at = 0;
                loop {
                    match (key.get(at), key.get(at + 1)) {
                        (Some(0), Some(0)) => break,
                        (Some(0), Some(255)) => {
                            value.push(0);
                            at += 2;
                        }
                        (Some(&b), _) if b != 0 => {
                            value.push(b);
                            at += 1;
                        }
                        _ => return Err(bad()),
                    }
                }
                builder.push_str(&value);
                key = &key[at + 2..];
            }
        }
    }
    Ok(())
}

/// Appends to `out` the values of key column `col` (of the columns `types`, each
/// descending where `descending` says so) read back from the short keys `prefixes` that
/// [`fill_prefixes`] made of them, in their order: a sort gets its key columns back from
/// its sorted keys in one sequential pass instead of a gather's random reads. Only
/// BOOL, INT and I64 values come back exactly (a float's key has neither `-0.0` nor NaN
/// payloads): for the other types this returns `None` and appends nothing.
pub(crate) fn decode_prefixes(
    prefixes: &[u128],
    types: &[DataType],
    descending: &[bool],
    col: usize,
    out: &mut ChunkBuilder,
) -> Option<()> {
    if !exact_in_key(types[col]) {
        return None;
    }
    let widths: Vec<u32> = types[..=col]
        .iter()
        .map(|&t| match t {
            DataType::Bool => Some(8),
            DataType::Int | DataType::Float => Some(32),
            DataType::I64 | DataType::F64 => Some(64),
            DataType::String => None,
        })
        .collect::<Option<_>>()?;
    let width = widths[col];
    let flip = if descending[col] {
        u64::MAX >> (64 - width)
    } else {
        0
    };
    for &prefix in prefixes {
        // Each column is a tag byte, then (when present) its value's bits.
        let mut key = prefix;
        let mut value = None;
        for &w in &widths {
            let tag = (key >> 120) as u8;
            key <<= 8;
            value = (tag != MISSING).then(|| (key >> (128 - w)) as u64);
            if value.is_some() {
                key <<= w;
            }
        }
        match (value.map(|v| v ^ flip), types[col]) {
            (None, _) => out.push_missing(),
            (Some(v), DataType::Bool) => out.push_bool(v == 1),
            (Some(v), DataType::Int) => out.push_int(((v as u32) ^ (1 << 31)) as i32),
            (Some(v), _) => out.push_i64((v ^ (1 << 63)) as i64),
        }
    }
    Some(())
}

/// Whether a key keeps every bit of a value of type `dtype` (see [`decode_prefixes`]).
pub(crate) fn exact_in_key(dtype: DataType) -> bool {
    matches!(dtype, DataType::Bool | DataType::Int | DataType::I64)
}

/// Appends to `builder` the value of a fixed-width column of type `dtype` whose bits
/// (as [`value_bits`] gives them) are `bits`; `None` appends a missing value. STRING has
/// no bits: asking for it is an internal error.
pub(crate) fn decode_bits_into(
    dtype: DataType,
    bits: Option<u64>,
    builder: &mut ChunkBuilder,
) -> Result<()> {
    let mut key = [0u8; 9];
    let len = match (bits, dtype) {
        (None, _) => {
            key[0] = MISSING;
            1
        }
        (Some(_), DataType::String) => {
            return Err(Error::decode(
                "a STRING value has no fixed-width bits (a bug in the operators)",
            ))
        }
        (Some(v), _) => {
            key[0] = PRESENT;
            let width = match dtype {
                DataType::Bool => 1,
                DataType::Int | DataType::Float => 4,
                _ => 8,
            };
            key[1..=width].copy_from_slice(&v.to_be_bytes()[8 - width..]);
            1 + width
        }
    };
    decode_into(&key[..len], &[dtype], std::slice::from_mut(builder))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::DataFrame;

    fn keys_of(frame: &DataFrame, desc: bool) -> Vec<Vec<u8>> {
        let chunks = frame.row_chunk(0);
        let k = encode(&chunks, &[0], &[desc]);
        (0..k.len()).map(|i| k.get(i).to_vec()).collect()
    }

    #[test]
    fn order_of_bytes_is_order_of_values_with_missing_last() {
        let ints = [
            Some(3),
            None,
            Some(-7),
            Some(i32::MIN),
            Some(i32::MAX),
            Some(0),
        ];
        let frame = DataFrame::from_array(&ints);
        let mut k: Vec<(Vec<u8>, Option<i32>)> =
            keys_of(&frame, false).into_iter().zip(ints).collect();
        k.sort();
        let sorted: Vec<_> = k.iter().map(|p| p.1).collect();
        assert_eq!(
            sorted,
            [
                Some(i32::MIN),
                Some(-7),
                Some(0),
                Some(3),
                Some(i32::MAX),
                None
            ]
        );
        let mut k: Vec<(Vec<u8>, Option<i32>)> =
            keys_of(&frame, true).into_iter().zip(ints).collect();
        k.sort();
        let sorted: Vec<_> = k.iter().map(|p| p.1).collect();
        assert_eq!(
            sorted,
            [
                Some(i32::MAX),
                Some(3),
                Some(0),
                Some(-7),
                Some(i32::MIN),
                None
            ]
        );

        let strs = [
            Some("b"),
            Some("a\0"),
            Some("a"),
            Some(""),
            None,
            Some("ab"),
        ];
        let frame = DataFrame::from_array(&strs);
        let mut k: Vec<(Vec<u8>, Option<&str>)> =
            keys_of(&frame, false).into_iter().zip(strs).collect();
        k.sort();
        let sorted: Vec<_> = k.iter().map(|p| p.1).collect();
        assert_eq!(
            sorted,
            [
                Some(""),
                Some("a"),
                Some("a\0"),
                Some("ab"),
                Some("b"),
                None
            ]
        );

        let floats = [
            Some(1.5f32),
            Some(-0.0),
            Some(0.0),
            Some(f32::NAN),
            Some(-2.0),
            None,
        ];
        let frame = DataFrame::from_array(&floats);
        let k = keys_of(&frame, false);
        assert_eq!(k[1], k[2], "-0.0 and 0.0 are one key");
        assert!(k[4] < k[1] && k[1] < k[0] && k[0] < k[3] && k[3] < k[5]);
    }

    #[test]
    fn keys_decode_to_their_values() {
        let ints = DataFrame::from_array(&[Some(-5), None, Some(9)]);
        let strs = DataFrame::from_array(&[Some("x\0y"), Some(""), None]);
        let floats = DataFrame::from_array(&[Some(-1.25f32), Some(3.0), None]);
        let bools = DataFrame::from_array(&[Some(true), None, Some(false)]);
        let chunks: Vec<Arc<Chunk>> = [&ints, &strs, &floats, &bools]
            .iter()
            .map(|f| Arc::clone(f.chunk(0, 0)))
            .collect();
        let types = [
            DataType::Int,
            DataType::String,
            DataType::Float,
            DataType::Bool,
        ];
        let keys = encode(&chunks, &[0, 1, 2, 3], &[false; 4]);
        let mut builders: Vec<ChunkBuilder> =
            types.iter().map(|&t| ChunkBuilder::new(t, 3)).collect();
        for i in 0..3 {
            decode_into(keys.get(i), &types, &mut builders).unwrap();
        }
        let back: Vec<Chunk> = builders.into_iter().map(ChunkBuilder::finish).collect();
        for (b, c) in back.iter().zip(&chunks) {
            assert_eq!(b, &**c);
        }
        assert!(keys.has_missing(1) && keys.has_missing(2) && !keys.has_missing(0));
    }

    fn encode_prefixes(
        chunks: &[Arc<Chunk>],
        cols: &[usize],
        descending: &[bool],
    ) -> Option<Vec<u128>> {
        let mut prefixes = vec![0; chunks[0].len()];
        fill_prefixes(chunks, cols, descending, &mut prefixes).map(|()| prefixes)
    }

    #[test]
    fn prefixes_are_the_encoded_keys() {
        let ints = DataFrame::from_array(&[Some(-5), None, Some(9), Some(i32::MIN)]);
        let bools = DataFrame::from_array(&[Some(true), None, Some(false), Some(true)]);
        let floats = DataFrame::from_array(&[Some(-1.25f32), Some(3.0), None, Some(f32::NAN)]);
        let strs = DataFrame::from_array(&[Some("a"), None, Some(""), Some("b")]);
        let chunks: Vec<Arc<Chunk>> = [&ints, &bools, &floats, &strs]
            .iter()
            .map(|f| Arc::clone(f.chunk(0, 0)))
            .collect();
        // Every pair of fixed-width columns, each direction.
        for cols in [[0, 1], [1, 0], [0, 2], [2, 1]] {
            for desc in [[false, false], [true, false], [false, true], [true, true]] {
                let keys = encode(&chunks, &cols, &desc);
                let prefixes = encode_prefixes(&chunks, &cols, &desc).unwrap();
                for (i, p) in prefixes.iter().enumerate() {
                    assert_eq!(*p, keys.key(i).prefix, "{cols:?} {desc:?} row {i}");
                }
            }
        }
        // Columns without missing values take the column-at-a-time path.
        let ints = DataFrame::from_array(&[Some(-5), Some(0), Some(9), Some(i32::MIN)]);
        let bools = DataFrame::from_array(&[Some(true), Some(false), Some(false), Some(true)]);
        let longs = DataFrame::from_array(&[Some(-3i64), Some(i64::MAX), Some(0), Some(7)]);
        let full: Vec<Arc<Chunk>> = [&ints, &bools, &longs]
            .iter()
            .map(|f| Arc::clone(f.chunk(0, 0)))
            .collect();
        for cols in [vec![0, 1], vec![2], vec![1, 2], vec![0, 0, 1]] {
            for desc in [false, true] {
                let desc = vec![desc; cols.len()];
                let keys = encode(&full, &cols, &desc);
                let prefixes = encode_prefixes(&full, &cols, &desc).unwrap();
                for (i, p) in prefixes.iter().enumerate() {
                    assert_eq!(*p, keys.key(i).prefix, "{cols:?} {desc:?} row {i}");
                }
            }
        }
        assert!(encode_prefixes(&chunks, &[0, 3], &[false, false]).is_none());
        assert!(encode_prefixes(&chunks, &[0, 0, 0, 0], &[false; 4]).is_none());
        assert_eq!(fixed_key_width(&[DataType::I64, DataType::Int]), Some(14));
    }

    #[test]
    fn owners_cover_every_rank() {
        for n in 1..=5 {
            let mut seen = vec![false; n];
            for i in 0..1000u32 {
                seen[owner(KeyRef::of(&i.to_le_bytes()).hash(), n)] = true;
            }
            assert!(seen.iter().all(|&s| s), "{n}");
        }
    }
}
