//! Reading the fields of a SoR line that the job needs, straight from the bytes.
//!
//! A line is a sequence of fields `<...>` separated by white space. The job needs only
//! leading INT fields (ids) and, in `users.ltgt`, one STRING field (a name), so this
//! reads those and skips the rest of the line unread: no column builders, no schema, no
//! copies. An id is written `<` [white space] [`+`] digits [white space] `>`, and a
//! missing value as `<>`; a name as a quoted `"..."` or a bare word.

/// White space inside a line: SoR allows it around and inside the brackets.
#[inline]
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r')
}

/// Skips white space from `i`.
#[inline]
fn skip_space(line: &[u8], mut i: usize) -> usize {
    while i < line.len() && is_space(line[i]) {
        i += 1;
    }
    i
}

/// An id field as read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Id {
    /// A non-negative INT that fits 32 bits (SoR INTs are `i32`).
    Value(u32),
    /// `<>`: no value.
    Missing,
    /// The line ended before this field.
    Absent,
}

/// Reads the id field starting at or after `i` (white space first is skipped). Returns
/// it and the offset just past its `>` (or of the line's end for [`Id::Absent`]). `line`
/// may run past the line's `\n`, which ends the line. The error says what is wrong.
#[inline]
pub fn id_field(line: &[u8], i: usize) -> Result<(Id, usize), &'static str> {
    let mut i = skip_space(line, i);
    match line.get(i) {
        None | Some(b'\n') => return Ok((Id::Absent, i)),
        Some(b'<') => i += 1,
        Some(_) => return Err("expected a field starting with '<'"),
    }
    i = skip_space(line, i);
    match line.get(i) {
        Some(b'>') => return Ok((Id::Missing, i + 1)),
        Some(b'+') => i += 1,
        Some(b'-') => return Err("a negative id"),
        _ => {}
    }
    let digits_start = i;
    let mut value: u64 = 0;
    while let Some(&b) = line.get(i) {
        if !b.is_ascii_digit() {
            break;
        }
        // Saturating far above i32::MAX is enough to report "too large".
        value = (value * 10 + u64::from(b - b'0')).min(1 << 40);
        i += 1;
    }
    if i == digits_start {
        return Err("an id that is not an integer");
    }
    i = skip_space(line, i);
    if line.get(i) != Some(&b'>') {
        return Err("an id that is not an integer");
    }
    if value > i32::MAX as u64 {
        return Err("an id larger than an INT (2^31 - 1)");
    }
    Ok((Id::Value(value as u32), i + 1))
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
fn swar_digits(line: &[u8], p: usize) -> Option<(u64, usize)> {
    let word: [u8; 8] = line.get(p..p + 8)?.try_into().ok()?;
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
    while let Some(&b) = line.get(end) {
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
fn scalar_digits(line: &[u8], p: usize) -> Option<(u64, usize)> {
    let mut j = p;
    let mut value: u64 = 0;
    while let Some(&b) = line.get(j) {
        if !b.is_ascii_digit() {
            break;
        }
        value = (value * 10 + u64::from(b - b'0')).min(1 << 40);
        j += 1;
    }
    (j > p).then_some((value, j))
}

/// The fast path of [`id_field`] for the form every generated file uses: `<digits>`
/// exactly at `i`, with no white space. `None` for any other form, which [`id_field`]
/// then reads (or rejects) in full.
#[inline(always)]
pub fn plain_id(line: &[u8], i: usize) -> Option<(u32, usize)> {
    if line.get(i) != Some(&b'<') {
        return None;
    }
    let (value, end) = swar_digits(line, i + 1).or_else(|| scalar_digits(line, i + 1))?;
    if line.get(end) != Some(&b'>') || value > i32::MAX as u64 {
        return None;
    }
    Some((value as u32, end + 1))
}

/// The bit mask of the `\n` bytes of the first 64 bytes of `chunk` (bit `j` for byte
/// `j`); `chunk` must hold at least 64 bytes.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn newline_mask(chunk: &[u8]) -> u64 {
    use std::arch::x86_64::{_mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8};
    assert!(chunk.len() >= 64);
    // SAFETY: SSE2 is part of x86_64, and each unaligned 16-byte load reads inside the
    // first 64 bytes of `chunk`, which the assert above guarantees.
    unsafe {
        let newline = _mm_set1_epi8(b'\n' as i8);
        let mut mask = 0u64;
        for lane in 0..4 {
            let v = _mm_loadu_si128(chunk.as_ptr().add(lane * 16).cast());
            let hits = _mm_movemask_epi8(_mm_cmpeq_epi8(v, newline)) as u32 as u64;
            mask |= hits << (lane * 16);
        }
        mask
    }
}

/// The bit mask of the `\n` bytes of the first 64 bytes of `chunk` (bit `j` for byte
/// `j`).
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn newline_mask(chunk: &[u8]) -> u64 {
    chunk[..64]
        .iter()
        .enumerate()
        .fold(0, |m, (j, &b)| m | u64::from(b == b'\n') << j)
}

/// How many `\n` bytes `bytes` holds, 64 at a time.
pub fn count_newlines(bytes: &[u8]) -> usize {
    let chunks = bytes.chunks_exact(64);
    let tail = chunks.remainder();
    let full: usize = chunks.map(|c| newline_mask(c).count_ones() as usize).sum();
    full + tail.iter().filter(|&&b| b == b'\n').count()
}

/// The offsets of the line starts of a buffer (0 first, unless it is empty), found from
/// 64-byte masks of its `\n`s. A table row is ~45 bytes, so this costs about one mask per
/// row instead of one search call per row; and since no line start waits for the
/// previous line to be parsed, the processor overlaps the parsing of neighbouring lines.
pub struct LineStarts<'a> {
    bytes: &'a [u8],
    /// The offset of the chunk `mask` covers.
    base: usize,
    /// The `\n`s of that chunk not yet visited.
    mask: u64,
    started: bool,
}

impl<'a> LineStarts<'a> {
    /// The line starts of `bytes`.
    pub fn new(bytes: &'a [u8]) -> LineStarts<'a> {
        LineStarts {
            bytes,
            base: 0,
            mask: 0,
            started: false,
        }
    }

    /// The mask of the chunk at `base`, padded past the end of the bytes.
    #[inline(always)]
    fn mask_at(&self, base: usize) -> u64 {
        match self.bytes.get(base..base + 64) {
            Some(chunk) => newline_mask(chunk),
            None => {
                let mut last = [0u8; 64];
                let tail = &self.bytes[base..];
                last[..tail.len()].copy_from_slice(tail);
                newline_mask(&last)
            }
        }
    }
}

impl Iterator for LineStarts<'_> {
    type Item = usize;

    #[inline(always)]
    fn next(&mut self) -> Option<usize> {
        if !self.started {
            self.started = true;
            if self.bytes.is_empty() {
                return None;
            }
            self.mask = self.mask_at(0);
            return Some(0);
        }
        loop {
            if self.mask != 0 {
                let start = self.base + self.mask.trailing_zeros() as usize + 1;
                self.mask &= self.mask - 1;
                if start < self.bytes.len() {
                    return Some(start);
                }
                continue;
            }
            self.base += 64;
            if self.base >= self.bytes.len() {
                return None;
            }
            self.mask = self.mask_at(self.base);
        }
    }
}

/// Reads the string field starting at or after `i`: the text between its quotes, or a
/// bare word. Returns it (`None` for `<>` or a line that ends first) and the offset just
/// past its `>`.
pub fn string_field(line: &[u8], i: usize) -> Result<(Option<&[u8]>, usize), &'static str> {
    let mut i = skip_space(line, i);
    match line.get(i) {
        None | Some(b'\n') => return Ok((None, i)),
        Some(b'<') => i += 1,
        Some(_) => return Err("expected a field starting with '<'"),
    }
    i = skip_space(line, i);
    let text = if line.get(i) == Some(&b'"') {
        let start = i + 1;
        let len = line[start..]
            .iter()
            .position(|&b| b == b'"' || b == b'\n')
            .filter(|&n| line[start + n] == b'"')
            .ok_or("a string without its closing quote")?;
        i = start + len + 1;
        Some(&line[start..start + len])
    } else {
        let start = i;
        while line
            .get(i)
            .is_some_and(|&b| !is_space(b) && b != b'>' && b != b'\n')
        {
            i += 1;
        }
        (i > start).then(|| &line[start..i])
    };
    i = skip_space(line, i);
    if line.get(i) != Some(&b'>') {
        return Err("a field without its closing '>'");
    }
    Ok((text, i + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_in_their_written_forms() {
        assert_eq!(id_field(b"<17> <2>", 0), Ok((Id::Value(17), 4)));
        assert_eq!(id_field(b"<17> <2>", 4), Ok((Id::Value(2), 8)));
        assert_eq!(id_field(b" < +5 >x", 0), Ok((Id::Value(5), 7)));
        assert_eq!(id_field(b"<>", 0), Ok((Id::Missing, 2)));
        assert_eq!(id_field(b"< >", 0), Ok((Id::Missing, 3)));
        assert_eq!(id_field(b"  \n<1>", 0), Ok((Id::Absent, 2)));
        assert_eq!(id_field(b"", 0), Ok((Id::Absent, 0)));
        assert_eq!(
            id_field(b"<2147483647>", 0),
            Ok((Id::Value(i32::MAX as u32), 12))
        );
    }

    #[test]
    fn bad_ids_say_why() {
        assert_eq!(id_field(b"<-1>", 0), Err("a negative id"));
        assert_eq!(id_field(b"<1.5>", 0), Err("an id that is not an integer"));
        assert_eq!(id_field(b"<\"7\">", 0), Err("an id that is not an integer"));
        assert_eq!(id_field(b"<7", 0), Err("an id that is not an integer"));
        assert_eq!(
            id_field(b"7>", 0),
            Err("expected a field starting with '<'")
        );
        assert_eq!(
            id_field(b"<2147483648>", 0),
            Err("an id larger than an INT (2^31 - 1)")
        );
    }

    #[test]
    fn strings_quoted_or_bare() {
        let line = b"<3> <\"Linus Torvalds\">\n";
        assert_eq!(
            string_field(line, 3),
            Ok((Some(&b"Linus Torvalds"[..]), 22))
        );
        assert_eq!(string_field(b"< bare >", 0), Ok((Some(&b"bare"[..]), 8)));
        assert_eq!(string_field(b"<>", 0), Ok((None, 2)));
        assert_eq!(string_field(b"\n", 0), Ok((None, 0)));
        assert_eq!(
            string_field(b"<\"open\n\">", 0),
            Err("a string without its closing quote")
        );
    }

    #[test]
    fn the_plain_form_agrees_with_the_general_reader() {
        for text in [
            &b"<17> "[..],
            b"<0>",
            b"<2147483647>",
            b"<2147483648>",
            b"< 1>",
            b"<+1>",
            b"<>",
            b"<12345678901>",
            b"x",
        ] {
            match plain_id(text, 0) {
                Some((v, end)) => assert_eq!(id_field(text, 0), Ok((Id::Value(v), end))),
                None => assert!(
                    !matches!(id_field(text, 0), Ok((Id::Value(_), _)))
                        || text.contains(&b' ')
                        || text.contains(&b'+')
                ),
            }
        }
    }

    #[test]
    fn word_at_a_time_ids_agree_with_the_general_reader() {
        let mut values: Vec<u64> = vec![
            0,
            1,
            9,
            10,
            99,
            12345678,
            99999999,
            100000000,
            123456789,
            2147483647,
            2147483648,
            9999999999,
            12345678901,
        ];
        values.extend((0..2000u64).map(|k| k.wrapping_mul(2654435761) % 3_000_000_000));
        for v in values {
            for suffix in [&b"> <5>\n"[..], b">", b">xxxxxxxxxxxxxxx", b" >", b"x>"] {
                let mut text = b"<".to_vec();
                text.extend_from_slice(v.to_string().as_bytes());
                text.extend_from_slice(suffix);
                let general = match id_field(&text, 0) {
                    Ok((Id::Value(v), end)) if !suffix.starts_with(b" ") => Some((v, end)),
                    _ => None,
                };
                assert_eq!(
                    plain_id(&text, 0),
                    general,
                    "{:?}",
                    String::from_utf8_lossy(&text)
                );
            }
        }
    }

    #[test]
    fn line_starts_are_found_across_mask_boundaries() {
        let text: Vec<u8> = (0..300)
            .flat_map(|i| "x".repeat(i % 70).into_bytes().into_iter().chain([b'\n']))
            .collect();
        let starts: Vec<usize> = LineStarts::new(&text).collect();
        let mut expected = vec![0];
        expected.extend(
            text.iter()
                .enumerate()
                .filter(|(i, &b)| b == b'\n' && i + 1 < text.len())
                .map(|(i, _)| i + 1),
        );
        assert_eq!(starts, expected);
        assert_eq!(count_newlines(&text), 300);
    }
}
