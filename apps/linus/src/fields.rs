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

/// The fast path of [`id_field`] for the form every generated file uses: `<digits>`
/// exactly at `i`, with no white space and at most ten digits. `None` for any other
/// form, which [`id_field`] then reads (or rejects) in full.
#[inline(always)]
pub fn plain_id(line: &[u8], i: usize) -> Option<(u32, usize)> {
    if line.get(i) != Some(&b'<') {
        return None;
    }
    let mut j = i + 1;
    let mut value: u64 = 0;
    while let Some(&b) = line.get(j) {
        let digit = b.wrapping_sub(b'0');
        if digit > 9 {
            break;
        }
        value = value * 10 + u64::from(digit);
        j += 1;
        if j - i > 11 {
            return None;
        }
    }
    if j == i + 1 || line.get(j) != Some(&b'>') || value > i32::MAX as u64 {
        return None;
    }
    Some((value as u32, j + 1))
}

/// The offset just past the `\n` ending the line that contains `i`, found byte by byte:
/// for the few bytes left of a commit line that beats a call to `memchr`.
#[inline(always)]
pub fn next_line_short(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() {
        if bytes[i] == b'\n' {
            return i + 1;
        }
        i += 1;
    }
    bytes.len()
}

/// Calls `f` with the offset of every line start of `bytes` (0 first, unless `bytes` is
/// empty). Line ends are found 64 bytes at a time as a bit mask, which the compiler turns
/// into vector compares: a table row is ~45 bytes, so this replaces one search call per
/// row by about one mask per row.
pub fn for_each_line_start<E>(
    bytes: &[u8],
    mut f: impl FnMut(usize) -> Result<(), E>,
) -> Result<(), E> {
    if bytes.is_empty() {
        return Ok(());
    }
    f(0)?;
    let mut visit = |base: usize, mut mask: u64| -> Result<(), E> {
        while mask != 0 {
            let start = base + mask.trailing_zeros() as usize + 1;
            if start < bytes.len() {
                f(start)?;
            }
            mask &= mask - 1;
        }
        Ok(())
    };
    let chunks = bytes.chunks_exact(64);
    let tail = chunks.remainder();
    for (k, chunk) in chunks.enumerate() {
        let mut mask = 0u64;
        for (j, &b) in chunk.iter().enumerate() {
            mask |= u64::from(b == b'\n') << j;
        }
        visit(k * 64, mask)?;
    }
    let mut mask = 0u64;
    for (j, &b) in tail.iter().enumerate() {
        mask |= u64::from(b == b'\n') << j;
    }
    visit(bytes.len() - tail.len(), mask)
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

/// The offset just past the `\n` that ends the line containing `i` (or `line.len()`).
#[inline]
pub fn next_line(bytes: &[u8], i: usize) -> usize {
    match memchr::memchr(b'\n', &bytes[i.min(bytes.len())..]) {
        Some(n) => i + n + 1,
        None => bytes.len(),
    }
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
    fn next_line_skips_past_the_newline() {
        assert_eq!(next_line(b"ab\ncd", 0), 3);
        assert_eq!(next_line(b"ab\ncd", 3), 5);
        assert_eq!(next_line_short(b"ab\ncd", 0), 3);
        assert_eq!(next_line_short(b"ab\ncd", 3), 5);
    }

    #[test]
    fn the_plain_form_agrees_with_the_general_reader() {
        for text in [&b"<17> "[..], b"<0>", b"<2147483647>", b"<2147483648>", b"< 1>", b"<+1>", b"<>", b"<12345678901>", b"x"] {
            match plain_id(text, 0) {
                Some((v, end)) => assert_eq!(id_field(text, 0), Ok((Id::Value(v), end))),
                None => assert!(!matches!(id_field(text, 0), Ok((Id::Value(_), _))) || text.contains(&b' ') || text.contains(&b'+')),
            }
        }
    }

    #[test]
    fn line_starts_are_found_across_mask_boundaries() {
        let text: Vec<u8> = (0..300).flat_map(|i| "x".repeat(i % 70).into_bytes().into_iter().chain([b'\n'])).collect();
        let mut starts = Vec::new();
        for_each_line_start(&text, |s| -> Result<(), ()> {
            starts.push(s);
            Ok(())
        })
        .unwrap();
        let mut expected = vec![0];
        expected.extend(text.iter().enumerate().filter(|(i, &b)| b == b'\n' && i + 1 < text.len()).map(|(i, _)| i + 1));
        assert_eq!(starts, expected);
    }
}
