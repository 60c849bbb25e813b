//! Typed INT columns of a block of SoR lines, read straight from the bytes without
//! building a frame: what a program that needs a few id columns of a huge file reads
//! (linus: the two ids of every commit), block by block through a
//! [`BlockReader`](crate::blocks::BlockReader).
//!
//! Only the asked-for columns are parsed. A field before the last asked-for column that
//! is not asked for is only scanned for its end (`>`, or the closing quote's `>`), and
//! the fields after it are not looked at: a projected read costs what its columns cost,
//! not what the line holds. So, unlike [`SorReader`](super::SorReader), nothing
//! outside the asked-for columns is checked.
//!
//! An INT column holds what the format says (`docs/sor-format.md`): an unquoted BOOL or
//! INT literal (`7`, `-3`, `+1`, `001`), or a missing value (`<>`, or a line that ends
//! before the field). Anything else in an asked-for column is a [`RecordFault`] naming
//! the column and the field as written.

use super::field::{Field, FieldLexer};
use crate::blocks::{count_newlines, LineStarts, RecordFault};

/// The asked-for INT columns of one block of lines.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IntColumns {
    /// The block's lines (rows), blank ones included.
    pub rows: usize,
    /// One vector of `rows` values per asked-for column, in the order asked; 0 where the
    /// value is missing.
    pub values: Vec<Vec<i32>>,
    /// Per asked-for column, the rows (0-based in the block, ascending) whose value is
    /// missing.
    pub missing: Vec<Vec<u32>>,
}

impl IntColumns {
    /// Whether row `row` of asked-for column `k` is missing.
    pub fn is_missing(&self, k: usize, row: usize) -> bool {
        self.missing[k].binary_search(&(row as u32)).is_ok()
    }
}

/// The file columns `columns` (0-based, any order, no repeats) of every line of `block`
/// as INT values; a fault at the first line where one of them holds something else.
///
/// ```
/// let block = b"<1> <\"a\"> <10>\n<2> <\"b, c\"> <>\n< -3 > <x>\n";
/// let ints = eau2_data::sor::int_columns(block, &[2, 0]).unwrap();
/// assert_eq!(ints.rows, 3);
/// assert_eq!(ints.values, vec![vec![10, 0, 0], vec![1, 2, -3]]);
/// assert_eq!(ints.missing, vec![vec![1, 2], vec![]]);
/// let fault = eau2_data::sor::int_columns(block, &[1]).unwrap_err();
/// assert_eq!(fault.message, "column 1: \"<\\\"a\\\">\" is not an INT");
/// ```
pub fn int_columns(block: &[u8], columns: &[usize]) -> Result<IntColumns, RecordFault> {
    // Counting lines first sizes the vectors exactly: no regrowth copies, no slack.
    let lines = count_newlines(block) + usize::from(block.last().is_some_and(|&b| b != b'\n'));
    let mut out = IntColumns {
        rows: 0,
        values: columns.iter().map(|_| Vec::with_capacity(lines)).collect(),
        missing: vec![Vec::new(); columns.len()],
    };
    let mut at = 0u32;
    out.rows = int_rows(block, columns, |_, row| {
        for (k, value) in row.iter().enumerate() {
            out.values[k].push(value.unwrap_or(0));
            if value.is_none() {
                out.missing[k].push(at);
            }
        }
        at += 1;
        Ok(())
    })?;
    Ok(out)
}

/// Calls `row` with the offset of each line of `block` and its file columns `columns`
/// (0-based, any order, no repeats) as INT values (`None` where missing), in order, and
/// returns the number of lines: [`int_columns`] without the vectors, for a caller that
/// keeps something else per row. A fault at the first line where an asked-for field is
/// not an INT, or the first that `row` returns, ends the block.
///
/// ```
/// let block = b"<1> <5>\n<2> <>\n";
/// let mut pairs = Vec::new();
/// let rows = eau2_data::sor::int_rows(block, &[0, 1], |_, ids| {
///     pairs.push((ids[0], ids[1]));
///     Ok(())
/// })
/// .unwrap();
/// assert_eq!((rows, pairs), (2, vec![(Some(1), Some(5)), (Some(2), None)]));
/// ```
pub fn int_rows(
    block: &[u8],
    columns: &[usize],
    mut row: impl FnMut(usize, &[Option<i32>]) -> Result<(), RecordFault>,
) -> Result<usize, RecordFault> {
    let width = columns.iter().max().map_or(0, |&c| c + 1);
    // For each file column up to the last asked for: which output it fills.
    let mut slots: Vec<Option<usize>> = vec![None; width];
    for (k, &c) in columns.iter().enumerate() {
        slots[c] = Some(k);
    }
    let mut values = vec![None; columns.len()];
    let mut rows = 0;
    for start in LineStarts::new(block) {
        rows += 1;
        if !plain_line(block, start, &slots, &mut values) {
            let end = memchr::memchr(b'\n', &block[start..]).map_or(block.len(), |i| start + i);
            let mut line = &block[start..end];
            if let [head @ .., b'\r'] = line {
                line = head;
            }
            general_line(line, &slots, &mut values)
                .map_err(|message| RecordFault::new(start, message))?;
        }
        row(start, &values)?;
    }
    Ok(rows)
}

/// The text of field `column` of one line (without its line ending): the bytes between
/// the quotes or of the bare word; `None` when the field is missing or the line ends
/// first; an error saying why when a field up to it is malformed.
///
/// ```
/// let line = b"<3> <\"Linus Torvalds\"> <x>";
/// assert_eq!(eau2_data::sor::field_text(line, 1), Ok(Some(&b"Linus Torvalds"[..])));
/// assert_eq!(eau2_data::sor::field_text(line, 5), Ok(None));
/// ```
pub fn field_text(line: &[u8], column: usize) -> Result<Option<&[u8]>, String> {
    let mut lexer = FieldLexer::new(line);
    for c in 0..=column {
        let Some((field, _)) = lexer.next_field() else {
            return Ok(None);
        };
        match field {
            Field::Malformed(m) => return Err(format!("column {c}: malformed field ({m})")),
            _ if c < column => {}
            Field::Missing => return Ok(None),
            Field::Bare(text) | Field::Quoted(text) => return Ok(Some(text)),
        }
    }
    Ok(None)
}

/// Reads one line by the format's lexer into `values`.
fn general_line(
    line: &[u8],
    slots: &[Option<usize>],
    values: &mut [Option<i32>],
) -> Result<(), String> {
    values.fill(None);
    let mut lexer = FieldLexer::new(line);
    for (c, slot) in slots.iter().enumerate() {
        let Some((field, text)) = lexer.next_field() else {
            break;
        };
        let Some(k) = *slot else { continue };
        match field {
            Field::Missing => {}
            Field::Bare(word) => match parse_int(word) {
                Some(v) => values[k] = Some(v),
                None => return Err(not_int(c, text)),
            },
            Field::Quoted(_) => return Err(not_int(c, text)),
            Field::Malformed(why) => {
                return Err(format!(
                    "column {c}: malformed field ({why}): {:?}",
                    String::from_utf8_lossy(text)
                ))
            }
        }
    }
    Ok(())
}

/// The fault message for field `text` of column `c`, which is not an INT.
fn not_int(c: usize, text: &[u8]) -> String {
    const LONGEST: usize = 60;
    let shown = String::from_utf8_lossy(&text[..text.len().min(LONGEST)]);
    format!("column {c}: {shown:?} is not an INT")
}

/// An INT literal (or a BOOL one, which an INT column holds): sign, digits, in `i32`'s
/// range.
fn parse_int(word: &[u8]) -> Option<i32> {
    let (negative, digits) = match word {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, word),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let magnitude = digits
        .iter()
        .fold(0i64, |v, &d| (v * 10 + i64::from(d - b'0')).min(1 << 40));
    i32::try_from(if negative { -magnitude } else { magnitude }).ok()
}

/// The fast path: every field up to the last asked-for one written plainly (`<digits>`
/// for an asked-for field, any `<...>` without a line end for the others), separated by
/// spaces or tabs. `false` for any other line, which [`general_line`] then reads.
#[inline(always)]
fn plain_line(
    bytes: &[u8],
    start: usize,
    slots: &[Option<usize>],
    values: &mut [Option<i32>],
) -> bool {
    let mut pos = start;
    for slot in slots {
        while matches!(bytes.get(pos), Some(b' ' | b'\t')) {
            pos += 1;
        }
        match slot {
            Some(k) => match plain_int(bytes, pos) {
                Some((v, end)) => {
                    values[*k] = Some(v as i32);
                    pos = end;
                }
                None => return false,
            },
            None => match field_end(bytes, pos) {
                Some(end) => pos = end,
                None => return false,
            },
        }
    }
    true
}

/// The offset past the field at `pos` (`<` there), found without reading it: past the
/// first `>` (after the closing quote for a quoted field); `None` when the line ends
/// first or the form is unusual.
#[inline(always)]
fn field_end(bytes: &[u8], pos: usize) -> Option<usize> {
    if bytes.get(pos) != Some(&b'<') {
        return None;
    }
    let rest = bytes.get(pos + 1..)?;
    if rest.first() == Some(&b'"') {
        let close = pos + 2 + memchr::memchr2(b'"', b'\n', &rest[1..])?;
        return (bytes[close] == b'"' && bytes.get(close + 1) == Some(&b'>')).then_some(close + 2);
    }
    let end = memchr::memchr2(b'>', b'\n', rest)?;
    (rest[end] == b'>').then_some(pos + 1 + end + 1)
}

/// `0x0101...01` times a byte: that byte in every lane of a word.
const fn lanes(byte: u8) -> u64 {
    0x0101_0101_0101_0101 * byte as u64
}

/// The value of eight decimal digits, one per byte of `x` as values 0..=9, the first
/// (most significant) in the lowest byte: three multiply-and-shift steps combine
/// neighbouring digits, then pairs, then quads (the well-known SWAR parse).
#[inline(always)]
fn eight_digits(x: u64) -> u64 {
    let x = (x & lanes(0x0F)).wrapping_mul(10 * 256 + 1) >> 8;
    let x = (x & 0x00FF_00FF_00FF_00FF).wrapping_mul(100 * 65536 + 1) >> 16;
    (x & 0x0000_FFFF_0000_FFFF).wrapping_mul(10000 * (1 << 32) + 1) >> 32
}

/// Reads the digits at `p` eight at a time; `None` when fewer than eight bytes are left
/// or there is no digit. Returns the value (saturated far above `i32::MAX`) and the
/// offset past the digits.
#[inline(always)]
fn swar_digits(bytes: &[u8], p: usize) -> Option<(u64, usize)> {
    let word: [u8; 8] = bytes.get(p..p + 8)?.try_into().ok()?;
    let x = u64::from_le_bytes(word) ^ lanes(b'0');
    // A byte is a digit when it is below 10 after the xor: adding 0x76 then sets its
    // high bit only if it was not. Carries only run past the first non-digit.
    let non_digits = (x.wrapping_add(lanes(0x76)) | x) & lanes(0x80);
    let n = (non_digits.trailing_zeros() / 8) as usize;
    if n == 0 {
        return None;
    }
    if n < 8 {
        return Some((eight_digits(x << (8 * (8 - n))), p + n));
    }
    let mut value = eight_digits(x);
    let mut end = p + 8;
    while let Some(&b) = bytes.get(end) {
        if !b.is_ascii_digit() {
            break;
        }
        value = (value * 10 + u64::from(b - b'0')).min(1 << 40);
        end += 1;
    }
    Some((value, end))
}

/// The digits at `p`, one byte at a time: the tail of a buffer, where a word does not
/// fit.
#[inline]
fn scalar_digits(bytes: &[u8], p: usize) -> Option<(u64, usize)> {
    let mut j = p;
    let mut value: u64 = 0;
    while let Some(&b) = bytes.get(j) {
        if !b.is_ascii_digit() {
            break;
        }
        value = (value * 10 + u64::from(b - b'0')).min(1 << 40);
        j += 1;
    }
    (j > p).then_some((value, j))
}

/// `<digits>` exactly at `i` with a value up to `i32::MAX`, and the offset past its `>`;
/// `None` for any other form.
#[inline(always)]
fn plain_int(bytes: &[u8], i: usize) -> Option<(u32, usize)> {
    if bytes.get(i) != Some(&b'<') {
        return None;
    }
    let (value, end) = swar_digits(bytes, i + 1).or_else(|| scalar_digits(bytes, i + 1))?;
    if bytes.get(end) != Some(&b'>') || value > i32::MAX as u64 {
        return None;
    }
    Some((value as u32, end + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ints(block: &[u8], columns: &[usize]) -> IntColumns {
        int_columns(block, columns).unwrap()
    }

    #[test]
    fn every_written_form_of_an_int() {
        let block = b"<17> <2>\n < +5 >\t<-2147483648>\r\n<> < >\n\n<001> <0>\n<2147483647>";
        let got = ints(block, &[0, 1]);
        assert_eq!(got.rows, 6);
        assert_eq!(got.values[0], vec![17, 5, 0, 0, 1, i32::MAX]);
        assert_eq!(got.values[1], vec![2, i32::MIN, 0, 0, 0, 0]);
        assert_eq!(got.missing, vec![vec![2, 3], vec![2, 3, 5]]);
        assert!(got.is_missing(1, 5) && !got.is_missing(1, 1));
    }

    #[test]
    fn unread_fields_are_skipped_whatever_they_hold() {
        let block = b"<\"a > b\"> <x y> <1> <not checked\n<bare> <\"q\"> <2>\n";
        let got = ints(block, &[2]);
        assert_eq!(got.values, vec![vec![1, 2]]);
        assert_eq!(ints(block, &[]).rows, 2);
    }

    #[test]
    fn what_is_not_an_int_is_a_fault_at_its_line() {
        for (block, message) in [
            (
                &b"<1> <2>\n<3> <zero>\n"[..],
                "column 1: \"<zero>\" is not an INT",
            ),
            (b"<1> <2>\n<3> <1.5>\n", "column 1: \"<1.5>\" is not an INT"),
            (
                b"<1> <2>\n<3> <\"7\">\n",
                "column 1: \"<\\\"7\\\">\" is not an INT",
            ),
            (
                b"<1> <2>\n<3> <2147483648>\n",
                "column 1: \"<2147483648>\" is not an INT",
            ),
            (
                b"<1> <2>\n<3> <7\n",
                "column 1: malformed field (no closing > on the line): \"<7\"",
            ),
        ] {
            assert_eq!(
                int_columns(block, &[0, 1]),
                Err(RecordFault::new(8, message)),
                "{:?}",
                String::from_utf8_lossy(block)
            );
        }
    }

    #[test]
    fn the_fast_path_agrees_with_the_lexer() {
        let mut values: Vec<u64> = vec![0, 1, 9, 10, 99, 12345678, 99999999, 100000000];
        values.extend([2147483647, 2147483648, 9999999999, 12345678901]);
        values.extend((0..500u64).map(|k| k.wrapping_mul(2654435761) % 3_000_000_000));
        for v in values {
            for suffix in [&b" <5>\n"[..], b"", b"xxxxxxxxxxxxxxx", b"\t<\"s\"> <1>"] {
                let mut line = format!("<{v}>").into_bytes();
                line.extend_from_slice(suffix);
                let mut fast = vec![None];
                let plain = plain_line(&line, 0, &[Some(0)], &mut fast);
                let general = int_columns(&line, &[0]);
                match i32::try_from(v) {
                    Ok(v) => {
                        assert!(plain, "{v}");
                        assert_eq!((fast[0], general.unwrap().values[0][0]), (Some(v), v));
                    }
                    Err(_) => assert!(!plain && general.is_err(), "{v}"),
                }
            }
        }
    }

    #[test]
    fn field_texts() {
        let line = b"<3> <\"Linus Torvalds\"> < bare > <>";
        assert_eq!(field_text(line, 1), Ok(Some(&b"Linus Torvalds"[..])));
        assert_eq!(field_text(line, 2), Ok(Some(&b"bare"[..])));
        assert_eq!(field_text(line, 3), Ok(None));
        assert_eq!(field_text(line, 9), Ok(None));
        assert!(field_text(b"<\"open>", 0).is_err());
    }
}
