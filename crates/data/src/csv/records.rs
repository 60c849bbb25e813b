//! Where CSV records begin and end, and what their fields are, decided by quote parity.
//!
//! Under RFC 4180 a `"` only ever opens or closes a quoted stretch (`""` inside quotes is
//! a close and an immediate reopen), so whether a byte lies inside quotes is the parity
//! of the number of `"` bytes before it. This reader takes that as the *definition*: a
//! `\n` ends a record, and a delimiter ends a field, exactly when an even number of
//! quotes precede it. A field is then whatever lies between two such separators, and is
//! decoded on its own ([`decode`]): empty is missing, `"..."` with its inner quotes
//! doubled is a quoted value, anything else with a quote in it is malformed.
//!
//! Because every boundary is a function of the bytes before it, any byte range can find
//! its first record from the quote count of the bytes before it alone: counting quotes is
//! a parallel reduction and an exclusive prefix over ranges (a prefix sum in one process,
//! `exclusive_scan` across ranks) gives each range its parity, so sequential, parallel
//! and per-rank reads all cut the same records.

use std::borrow::Cow;

/// The number of `"` bytes in `bytes`: a popcount of [`masks`]' quote mask, 64 bytes at
/// a time.
pub(crate) fn count_quotes(bytes: &[u8]) -> u64 {
    let mut blocks = bytes.chunks_exact(64);
    let mut total = 0u64;
    for block in &mut blocks {
        let block: &[u8; 64] = block.try_into().expect("chunks_exact gives 64 bytes");
        total += u64::from(masks64(block, b'"').2.count_ones());
    }
    total + blocks.remainder().iter().filter(|&&b| b == b'"').count() as u64
}

/// Where the first record beginning at or after `offset` starts, given `odd`: whether an
/// odd number of quotes lie in `bytes[..offset]`. A record begins at `origin` (the first
/// byte after a byte-order mark) and after each `\n` outside quotes. `None` when no `\n`
/// outside quotes lies at or after `offset - 1` in `bytes`: then the input's end is the
/// answer, or, when `bytes` is a window that ends before its file does, the answer lies
/// beyond the window.
pub(crate) fn record_start_at_or_after(
    bytes: &[u8],
    origin: usize,
    offset: usize,
    odd: bool,
) -> Option<usize> {
    if offset <= origin {
        return Some(origin.min(bytes.len()));
    }
    if offset > bytes.len() {
        return None;
    }
    // Whether a record begins at `offset` depends on the byte before it, which lies
    // inside quotes exactly when the parity before it is odd.
    let mut inside = odd ^ (bytes[offset - 1] == b'"');
    let mut at = offset - 1;
    loop {
        if inside {
            // Skip to the closing quote.
            match memchr::memchr(b'"', &bytes[at..]) {
                Some(i) => {
                    at += i + 1;
                    inside = false;
                }
                None => return None,
            }
        } else {
            match memchr::memchr2(b'\n', b'"', &bytes[at..]) {
                Some(i) if bytes[at + i] == b'\n' => return Some(at + i + 1),
                Some(i) => {
                    at += i + 1;
                    inside = true;
                }
                None => return None,
            }
        }
    }
}

/// One field of a record, as the bytes `start..end` of the input, and whether it holds a
/// quote (which is rare, and means it must be decoded rather than taken as written).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RawField {
    pub start: usize,
    pub end: usize,
    pub quoted: bool,
}

/// Splits the record starting at `start` (a record start) in `bytes[..end]` into its
/// fields, appended to `fields` (cleared first); returns where the next record starts
/// (`end` for the last one). A `\r` before the `\n` that ends a record is not part of its
/// last field. A blank record (nothing before its line end) has no fields.
///
/// The bytes are read 64 at a time as bit masks (delimiters, line ends, quotes, each a
/// loop the compiler turns into vector compares); a prefix XOR of the quote mask marks
/// the bytes inside quotes, and the delimiters and line ends outside them are the
/// separators. So a record costs a few mask computations however its fields are quoted.
#[inline]
pub(crate) fn split_record(
    bytes: &[u8],
    start: usize,
    end: usize,
    delimiter: u8,
    fields: &mut Vec<RawField>,
) -> usize {
    fields.clear();
    let bytes = &bytes[..end];
    let mut field_start = start;
    // Whether the open field holds a quote in a block already passed.
    let mut field_quoted = false;
    // All ones when the current block starts inside quotes.
    let mut inside = 0u64;
    let mut at = start;
    while at < end {
        let block = &bytes[at..end.min(at + 64)];
        let (delimiters, line_ends, quotes) = masks(block, delimiter);
        let quoted_bytes = prefix_xor(quotes) ^ inside;
        let mut separators = (delimiters | line_ends) & !quoted_bytes;
        while separators != 0 {
            let p = separators.trailing_zeros() as usize;
            let sep = at + p;
            // The field's quotes in this block: bits from its start (or the block's) to p.
            let from = field_start.saturating_sub(at);
            let here = quotes & ((1u64 << p) - 1) & !((1u64 << from) - 1);
            let quoted = field_quoted || here != 0;
            if bytes[sep] == b'\n' {
                push_last(bytes, field_start, sep, quoted, fields);
                return sep + 1;
            }
            fields.push(RawField {
                start: field_start,
                end: sep,
                quoted,
            });
            field_start = sep + 1;
            field_quoted = false;
            separators &= separators - 1;
        }
        let from = field_start.saturating_sub(at);
        if from < 64 && quotes >> from != 0 {
            field_quoted = true;
        }
        // Bit 63 of the prefix XOR is the parity after the block (also for a short one).
        inside = if quoted_bytes >> 63 == 1 { !0 } else { 0 };
        at += block.len();
    }
    if inside != 0 {
        // An unclosed quote runs to the end of the input, line ends and all.
        fields.push(RawField {
            start: field_start,
            end,
            quoted: true,
        });
    } else {
        push_last(bytes, field_start, end, field_quoted, fields);
    }
    end
}

/// The positions of the delimiter, `\n` and `"` in a block of at most 64 bytes, as bits.
#[inline]
fn masks(block: &[u8], delimiter: u8) -> (u64, u64, u64) {
    match <&[u8; 64]>::try_from(block) {
        Ok(full) => masks64(full, delimiter),
        Err(_) => {
            // A short block, padded; the padding's bits are cleared.
            let mut padded = [0u8; 64];
            padded[..block.len()].copy_from_slice(block);
            let keep = (1u64 << block.len()) - 1;
            let (d, n, q) = masks64(&padded, delimiter);
            (d & keep, n & keep, q & keep)
        }
    }
}

/// [`masks`] of a full block, with SSE2 compares (part of every x86_64 CPU).
#[cfg(target_arch = "x86_64")]
#[inline]
fn masks64(block: &[u8; 64], delimiter: u8) -> (u64, u64, u64) {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8,
    };
    let (mut d, mut n, mut q) = (0u64, 0u64, 0u64);
    // SAFETY: SSE2 is in the x86_64 baseline, so these intrinsics are always available;
    // each load reads 16 bytes at offset 0, 16, 32 or 48 of a 64-byte array (unaligned
    // loads allow any address).
    unsafe {
        let dv = _mm_set1_epi8(delimiter as i8);
        let nv = _mm_set1_epi8(b'\n' as i8);
        let qv = _mm_set1_epi8(b'"' as i8);
        for k in 0..4 {
            let v = _mm_loadu_si128(block.as_ptr().add(16 * k) as *const __m128i);
            let bits = |m| u64::from(_mm_movemask_epi8(m) as u16) << (16 * k);
            d |= bits(_mm_cmpeq_epi8(v, dv));
            n |= bits(_mm_cmpeq_epi8(v, nv));
            q |= bits(_mm_cmpeq_epi8(v, qv));
        }
    }
    (d, n, q)
}

/// [`masks`] of a full block, byte by byte (other architectures).
#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn masks64(block: &[u8; 64], delimiter: u8) -> (u64, u64, u64) {
    let (mut d, mut n, mut q) = (0u64, 0u64, 0u64);
    for (i, &b) in block.iter().enumerate() {
        d |= u64::from(b == delimiter) << i;
        n |= u64::from(b == b'\n') << i;
        q |= u64::from(b == b'"') << i;
    }
    (d, n, q)
}

/// Bit i of the result is the XOR of bits 0..=i of `x`: over a quote mask, whether an
/// odd number of quotes lie at or before each byte.
#[inline]
fn prefix_xor(mut x: u64) -> u64 {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    x
}

/// The straightforward splitter (a `memchr3` per field), kept as the oracle that the
/// mask splitter is tested against. Splits the record starting at `start` into its
/// fields, appended to `fields` (cleared first); returns where the next record starts
/// (`end` for the last one). A `\r` before the `\n` that ends a record is not part of its
/// last field. A blank record (nothing before its line end) has no fields.
#[cfg(test)]
fn split_record_reference(
    bytes: &[u8],
    start: usize,
    end: usize,
    delimiter: u8,
    fields: &mut Vec<RawField>,
) -> usize {
    fields.clear();
    let bytes = &bytes[..end];
    let mut field_start = start;
    let mut quoted = false;
    let mut at = start;
    loop {
        match memchr::memchr3(delimiter, b'\n', b'"', &bytes[at..]) {
            None => {
                push_last(bytes, field_start, end, quoted, fields);
                return end;
            }
            Some(i) => {
                let j = at + i;
                match bytes[j] {
                    b'\n' => {
                        push_last(bytes, field_start, j, quoted, fields);
                        return j + 1;
                    }
                    b'"' => {
                        quoted = true;
                        // The stretch up to the closing quote is inside quotes: no
                        // separator there counts.
                        match memchr::memchr(b'"', &bytes[j + 1..]) {
                            Some(k) => at = j + 1 + k + 1,
                            None => {
                                fields.push(RawField {
                                    start: field_start,
                                    end,
                                    quoted,
                                });
                                return end;
                            }
                        }
                    }
                    _ => {
                        fields.push(RawField {
                            start: field_start,
                            end: j,
                            quoted,
                        });
                        field_start = j + 1;
                        quoted = false;
                        at = j + 1;
                    }
                }
            }
        }
    }
}

/// Pushes a record's last field, `start..line_end` without a final `\r`; nothing for a
/// blank record.
#[inline]
fn push_last(bytes: &[u8], start: usize, line_end: usize, quoted: bool, out: &mut Vec<RawField>) {
    let end = if line_end > start && bytes[line_end - 1] == b'\r' {
        line_end - 1
    } else {
        line_end
    };
    if out.is_empty() && end == start && !quoted {
        return;
    }
    out.push(RawField { start, end, quoted });
}

/// A field's meaning.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Field<'a> {
    /// Nothing between the separators.
    Missing,
    /// Text as written, without quotes.
    Bare(&'a [u8]),
    /// A quoted value with its doubled quotes undone.
    Quoted(Cow<'a, [u8]>),
    /// A quote where RFC 4180 allows none.
    Malformed(&'static str),
}

/// Decodes a field's bytes.
#[inline]
pub(crate) fn decode<'a>(bytes: &'a [u8], f: RawField) -> Field<'a> {
    let text = &bytes[f.start..f.end];
    if !f.quoted {
        return if text.is_empty() {
            Field::Missing
        } else {
            Field::Bare(text)
        };
    }
    decode_quoted(text)
}

/// Decodes a field that holds a quote: `"` text `"`, where the text's quotes are doubled.
fn decode_quoted(text: &[u8]) -> Field<'_> {
    if text.first() != Some(&b'"') {
        return Field::Malformed("a quote inside an unquoted field");
    }
    if text.len() < 2 || text[text.len() - 1] != b'"' {
        return Field::Malformed(if memchr::memchr(b'"', &text[1..]).is_some() {
            "text after a closing quote"
        } else {
            "no closing quote"
        });
    }
    let inner = &text[1..text.len() - 1];
    if memchr::memchr(b'"', inner).is_none() {
        return Field::Quoted(Cow::Borrowed(inner));
    }
    let mut out = Vec::with_capacity(inner.len());
    let mut i = 0;
    while i < inner.len() {
        if inner[i] == b'"' {
            if inner.get(i + 1) != Some(&b'"') {
                return Field::Malformed("text after a closing quote");
            }
            i += 1;
        }
        out.push(inner[i]);
        i += 1;
    }
    Field::Quoted(Cow::Owned(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(text: &[u8]) -> (Vec<Field<'_>>, usize) {
        let mut raw = Vec::new();
        let next = split_record(text, 0, text.len(), b',', &mut raw);
        (raw.iter().map(|&f| decode(text, f)).collect(), next)
    }

    #[test]
    fn splits_records_by_parity() {
        let (f, next) = fields(b"a,\"b,\nc\",,\"d\"\"e\"\r\nx");
        assert_eq!(
            f,
            vec![
                Field::Bare(b"a"),
                Field::Quoted(Cow::Borrowed(b"b,\nc")),
                Field::Missing,
                Field::Quoted(Cow::Owned(b"d\"e".to_vec())),
            ]
        );
        assert_eq!(next, 18);
        assert_eq!(fields(b"\r\nx").0, vec![]);
        assert_eq!(fields(b"\n").0, vec![]);
        assert_eq!(fields(b",").0, vec![Field::Missing, Field::Missing]);
        assert_eq!(fields(b"\"\"").0, vec![Field::Quoted(Cow::Borrowed(b""))]);
        assert_eq!(
            fields(b"a\"b,c\"").0,
            vec![Field::Malformed("a quote inside an unquoted field")]
        );
        assert_eq!(
            fields(b"\"ab").0,
            vec![Field::Malformed("no closing quote")]
        );
        assert_eq!(
            fields(b"\"a\"b").0,
            vec![Field::Malformed("text after a closing quote")]
        );
    }

    #[test]
    fn mask_splitter_equals_the_reference() {
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let alphabet = b",;\"\n\r ab1";
        for round in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 200) as usize;
            let mut x = seed;
            let text: Vec<u8> = (0..len)
                .map(|_| {
                    x = x
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    alphabet[(x >> 59) as usize % alphabet.len()]
                })
                .collect();
            let delimiter = if round % 2 == 0 { b',' } else { b';' };
            let (mut a, mut b) = (Vec::new(), Vec::new());
            let mut pos = 0;
            while pos < text.len() {
                let next = split_record(&text, pos, text.len(), delimiter, &mut a);
                let want = split_record_reference(&text, pos, text.len(), delimiter, &mut b);
                assert_eq!(
                    (next, &a),
                    (want, &b),
                    "{:?} at {pos}",
                    String::from_utf8_lossy(&text)
                );
                pos = next;
            }
        }
    }

    #[test]
    fn record_starts_follow_parity() {
        let text = b"a,\"x\ny\"\nb\n";
        let quotes_before = |o: usize| count_quotes(&text[..o]) % 2 == 1;
        let starts: Vec<_> = (0..=text.len())
            .map(|o| record_start_at_or_after(text, 0, o, quotes_before(o)).unwrap())
            .collect();
        assert_eq!(starts, vec![0, 8, 8, 8, 8, 8, 8, 8, 8, 10, 10]);
        // A window that ends inside quotes finds nothing.
        assert_eq!(record_start_at_or_after(&text[..6], 0, 3, true), None);
        // Before the origin (after a BOM) the first record is at the origin.
        assert_eq!(
            record_start_at_or_after(b"\xEF\xBB\xBFa\n", 3, 1, false),
            Some(3)
        );
    }
}
