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

/// The number of `"` bytes in `bytes` (the loop compiles to wide compares and adds).
pub(crate) fn count_quotes(bytes: &[u8]) -> u64 {
    // Summing per block in a u32 keeps the inner loop narrow enough to vectorize well.
    bytes
        .chunks(1 << 16)
        .map(|block| block.iter().map(|&b| u32::from(b == b'"')).sum::<u32>() as u64)
        .sum()
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
