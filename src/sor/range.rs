//! Byte ranges of whole lines: the `from`/`len` rule, splitting a range for parallel
//! parsing, iterating over lines, and (lazily) line numbers.
//!
//! The rule: a line belongs to the range that holds its first byte. So a range's start
//! moves forward to the first line that begins at or after `from` (a partial first line
//! is skipped), and its end moves forward the same way to the first line beginning at
//! or after `from + len` (the last line is kept even when its `\n` lies past the end).
//! Because both ends move by the same function of the offset, adjacent ranges meet
//! exactly, and N ranges that tile a file read each of its lines exactly once.

/// The offset of the first line that begins at or after `offset`: `offset` itself when
/// it is 0 or follows a `\n`, otherwise just past the next `\n`, or `bytes.len()`.
pub(crate) fn line_start_at_or_after(bytes: &[u8], offset: usize) -> usize {
    if offset == 0 || offset >= bytes.len() {
        return offset.min(bytes.len());
    }
    memchr::memchr(b'\n', &bytes[offset - 1..]).map_or(bytes.len(), |i| offset + i)
}

/// The whole lines covered by the byte range `from .. from + len` (to the end when
/// `len` is `None`), as `start..end` offsets into `bytes`.
pub(crate) fn resolve(bytes: &[u8], from: u64, len: Option<u64>) -> (usize, usize) {
    let clamp = |x: u64| usize::try_from(x).unwrap_or(usize::MAX).min(bytes.len());
    let start = line_start_at_or_after(bytes, clamp(from));
    let end = match len {
        None => bytes.len(),
        Some(len) => line_start_at_or_after(bytes, clamp(from.saturating_add(len))),
    };
    (start, end.max(start))
}

/// Splits the lines of `start..end` into at most `parts` ranges of whole lines, each
/// (except possibly the last) at least `min_len` bytes long. Every line of the input
/// range is in exactly one output range; empty ranges are left out, but at least one
/// range (possibly empty) is returned.
pub(crate) fn split(
    bytes: &[u8],
    start: usize,
    end: usize,
    parts: usize,
    min_len: usize,
) -> Vec<(usize, usize)> {
    let total = end - start;
    let parts = parts.clamp(1, (total / min_len.max(1)).max(1));
    let mut out = Vec::with_capacity(parts);
    let mut from = start;
    for i in 1..=parts {
        let cut = if i == parts {
            end
        } else {
            // `total * i / parts` without overflow for any realistic file size.
            let target = start + (total as u128 * i as u128 / parts as u128) as usize;
            line_start_at_or_after(bytes, target).clamp(from, end)
        };
        if cut > from {
            out.push((from, cut));
            from = cut;
        }
    }
    if out.is_empty() {
        out.push((start, start));
    }
    out
}

/// The lines of a range of whole lines, each without its `\n` or `\r\n`, with the offset
/// where it starts.
#[derive(Clone, Debug)]
pub(crate) struct Lines<'a> {
    bytes: &'a [u8],
    pos: usize,
    end: usize,
}

impl<'a> Lines<'a> {
    /// The lines of `bytes[start..end]`, where `start` begins a line and `end` begins a
    /// line or is the end of `bytes`.
    pub(crate) fn new(bytes: &'a [u8], start: usize, end: usize) -> Self {
        Lines {
            bytes,
            pos: start,
            end,
        }
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = (usize, &'a [u8]);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.end {
            return None;
        }
        let start = self.pos;
        let rest = &self.bytes[start..self.end];
        let (mut line, next) = match memchr::memchr(b'\n', rest) {
            Some(i) => (&rest[..i], start + i + 1),
            None => (rest, self.end),
        };
        // A `\r` before the `\n` is part of the line ending; so is one that ends a file
        // whose final `\n` is missing.
        if let [head @ .., b'\r'] = line {
            line = head;
        }
        self.pos = next;
        Some((start, line))
    }
}

/// The 1-based line number of the line containing byte `offset`. Counting newlines is
/// linear in the offset, so this is only called for reported deviations and errors.
pub(crate) fn line_number(bytes: &[u8], offset: usize) -> u64 {
    let upto = &bytes[..offset.min(bytes.len())];
    memchr::memchr_iter(b'\n', upto).count() as u64 + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(bytes: &[u8], start: usize, end: usize) -> Vec<&str> {
        Lines::new(bytes, start, end)
            .map(|(_, l)| std::str::from_utf8(l).unwrap())
            .collect()
    }

    fn read(bytes: &[u8], from: u64, len: Option<u64>) -> Vec<&str> {
        let (s, e) = resolve(bytes, from, len);
        lines(bytes, s, e)
    }

    #[test]
    fn line_endings() {
        assert_eq!(lines(b"a\r\nb\nc", 0, 6), vec!["a", "b", "c"]);
        assert_eq!(lines(b"a\n\n", 0, 3), vec!["a", ""]);
        assert_eq!(lines(b"a\r", 0, 2), vec!["a"]);
        assert_eq!(lines(b"a\r\r\n", 0, 4), vec!["a\r"]);
        assert_eq!(lines(b"", 0, 0), Vec::<&str>::new());
        assert_eq!(lines(b"\n", 0, 1), vec![""]);
    }

    #[test]
    fn from_skips_the_partial_first_line() {
        let text = b"aaa\nbbb\nccc\n";
        assert_eq!(read(text, 0, None), vec!["aaa", "bbb", "ccc"]);
        assert_eq!(read(text, 1, None), vec!["bbb", "ccc"]);
        assert_eq!(read(text, 3, None), vec!["bbb", "ccc"]);
        // A range that starts exactly where a line starts keeps that line.
        assert_eq!(read(text, 4, None), vec!["bbb", "ccc"]);
        assert_eq!(read(text, 5, None), vec!["ccc"]);
        assert_eq!(read(text, 11, None), Vec::<&str>::new());
        assert_eq!(read(text, 12, None), Vec::<&str>::new());
        assert_eq!(read(text, 99, None), Vec::<&str>::new());
    }

    #[test]
    fn len_keeps_the_line_that_starts_inside() {
        let text = b"aaa\nbbb\nccc";
        assert_eq!(read(text, 0, Some(0)), Vec::<&str>::new());
        assert_eq!(read(text, 0, Some(1)), vec!["aaa"]);
        assert_eq!(read(text, 0, Some(4)), vec!["aaa"]);
        assert_eq!(read(text, 0, Some(5)), vec!["aaa", "bbb"]);
        assert_eq!(read(text, 2, Some(4)), vec!["bbb"]);
        assert_eq!(read(text, 5, Some(1)), Vec::<&str>::new());
        assert_eq!(read(text, 5, Some(4)), vec!["ccc"]);
        assert_eq!(read(text, 0, Some(u64::MAX)), vec!["aaa", "bbb", "ccc"]);
        assert_eq!(read(text, u64::MAX, Some(u64::MAX)), Vec::<&str>::new());
    }

    #[test]
    fn the_suite_range_case() {
        // 1.sor with -from 1 -len 74: the first line is partial, the rest are read.
        let text = b"<abc>\n<1>\n<2>\n<+1>\n<-0>\n<.12>\n<2.2>\n<+2.2>\n<-.2>\n<\"hello\">\n<hel>\n<lo>\n<bye>\n";
        let got = read(text, 1, Some(74));
        assert_eq!(got.first(), Some(&"<1>"));
        assert_eq!(got[6], "<+2.2>");
    }

    #[test]
    fn adjacent_ranges_read_every_line_once() {
        let text = b"a\nbb\n\nccc\r\nd\n\ne";
        let whole = read(text, 0, None);
        for cut1 in 0..=text.len() {
            for cut2 in cut1..=text.len() + 2 {
                let mut got = read(text, 0, Some(cut1 as u64));
                got.extend(read(text, cut1 as u64, Some((cut2 - cut1) as u64)));
                got.extend(read(text, cut2 as u64, None));
                assert_eq!(got, whole, "cuts {cut1} {cut2}");
            }
        }
    }

    #[test]
    fn split_tiles_the_range() {
        let text: Vec<u8> = (0..500)
            .flat_map(|i| format!("<{i}>{}\n", "x".repeat(i % 13)).into_bytes())
            .collect();
        for (start, end) in [(0, text.len()), (7, text.len() - 3), (100, 100)] {
            let (start, end) = resolve(&text, start as u64, Some((end - start) as u64));
            let whole = lines(&text, start, end);
            for parts in [1, 2, 3, 8, 1000] {
                for min_len in [1, 50, 10_000] {
                    let ranges = split(&text, start, end, parts, min_len);
                    assert!(ranges.len() <= parts.max(1));
                    let got: Vec<_> = ranges
                        .iter()
                        .flat_map(|&(s, e)| lines(&text, s, e))
                        .collect();
                    assert_eq!(got, whole);
                }
            }
        }
    }

    #[test]
    fn line_numbers() {
        let text = b"a\nb\n\nc";
        assert_eq!(line_number(text, 0), 1);
        assert_eq!(line_number(text, 2), 2);
        assert_eq!(line_number(text, 4), 3);
        assert_eq!(line_number(text, 5), 4);
    }
}
