//! Byte ranges of whole lines: the two rules that turn byte offsets into lines,
//! splitting a range for parallel parsing, iterating over lines, and (lazily) line
//! numbers.
//!
//! [`literal`] is the range rule of `docs/sor-format.md` for a `from`/`len` range, used
//! by [`SorReader::range`](super::SorReader::range) and so by `eau2-sor -from/-len`: when
//! `from` is not 0, reading starts after the first `\n` at or after `from`, and the last
//! line is kept only when its `\n` lies inside `from .. from + len` or the range reaches
//! the end of the input. This rule does not tile an input: of two adjacent ranges
//! `a .. b` and `b .. c`, the first drops the line holding byte `b` (its `\n` is at or
//! after `b`) and the second skips it (the first `\n` at or after `b` is that line's
//! own), so that line is read by neither.
//!
//! [`first_byte`] is the rule that does tile: a line belongs to the range that holds its
//! first byte, so both ends of a range move forward by the same function of the offset
//! ([`line_start_at_or_after`]) and adjacent ranges meet exactly. [`part`] (behind
//! [`SorReader::part`](super::SorReader::part)) and [`split`] (parallel parsing) use it.

/// The offset of the first line that begins at or after `offset`: `offset` itself when
/// it is 0 or follows a `\n`, otherwise just past the next `\n`, or `bytes.len()`.
pub(crate) fn line_start_at_or_after(bytes: &[u8], offset: usize) -> usize {
    if offset == 0 || offset >= bytes.len() {
        return offset.min(bytes.len());
    }
    memchr::memchr(b'\n', &bytes[offset - 1..]).map_or(bytes.len(), |i| offset + i)
}

/// The whole lines that the range rule of `docs/sor-format.md` reads from the byte range
/// `from .. from + len` (to the end when `len` is `None`), as `start..end` offsets into
/// `bytes`.
///
/// `start` is 0 when `from` is 0, else just past the first `\n` at or after `from`.
/// `end` is the end of `bytes` when the range reaches it (`from + len >= bytes.len()`,
/// which keeps a last line without `\n`), else just past the last `\n` before
/// `from + len`.
pub(crate) fn literal(bytes: &[u8], from: u64, len: Option<u64>) -> (usize, usize) {
    let n = bytes.len();
    let start = if from == 0 {
        0
    } else {
        let at = usize::try_from(from).map_or(n, |f| f.min(n));
        memchr::memchr(b'\n', &bytes[at..]).map_or(n, |i| at + i + 1)
    };
    // `None` when the range reaches the end of the input (an overflowing end does too).
    let stop = len
        .and_then(|len| from.checked_add(len))
        .and_then(|stop| usize::try_from(stop).ok())
        .filter(|&stop| stop < n);
    let end = match stop {
        None => n,
        Some(stop) => memchr::memrchr(b'\n', &bytes[..stop]).map_or(0, |i| i + 1),
    };
    (start, end.max(start))
}

/// The whole lines whose first byte lies in `from .. to` (clamped to `bytes`), as
/// `start..end` offsets into `bytes`.
pub(crate) fn first_byte(bytes: &[u8], from: usize, to: usize) -> (usize, usize) {
    let start = line_start_at_or_after(bytes, from);
    (start, line_start_at_or_after(bytes, to).max(start))
}

/// The whole lines of piece `index` of `count` (`index < count`): those whose first
/// byte lies in `L * index / count .. L * (index + 1) / count` for `L = bytes.len()`.
/// Pieces `0..count` together hold every line exactly once, in order.
pub(crate) fn part(bytes: &[u8], index: usize, count: usize) -> (usize, usize) {
    debug_assert!(index < count);
    // In u128 so that `L * index` cannot overflow.
    let at = |i: usize| (bytes.len() as u128 * i as u128 / count as u128) as usize;
    first_byte(bytes, at(index), at(index + 1))
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
        let (line, next) = line_at(self.bytes, start, self.end);
        self.pos = next;
        Some((start, line))
    }
}

/// The line of `bytes[start..end]` that begins at `start`, without its `\n` or `\r\n`,
/// and where the next line begins (`end` for the last line).
#[inline]
pub(crate) fn line_at(bytes: &[u8], start: usize, end: usize) -> (&[u8], usize) {
    let rest = &bytes[start..end];
    let (mut line, next) = match memchr::memchr(b'\n', rest) {
        Some(i) => (&rest[..i], start + i + 1),
        None => (rest, end),
    };
    // A `\r` before the `\n` is part of the line ending; so is one that ends a file
    // whose final `\n` is missing.
    if let [head @ .., b'\r'] = line {
        line = head;
    }
    (line, next)
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

    /// The lines `range(from, len)` reads.
    fn read(bytes: &[u8], from: u64, len: Option<u64>) -> Vec<&str> {
        let (s, e) = literal(bytes, from, len);
        lines(bytes, s, e)
    }

    fn none() -> Vec<&'static str> {
        Vec::new()
    }

    #[test]
    fn line_endings() {
        assert_eq!(lines(b"a\r\nb\nc", 0, 6), vec!["a", "b", "c"]);
        assert_eq!(lines(b"a\n\n", 0, 3), vec!["a", ""]);
        assert_eq!(lines(b"a\r", 0, 2), vec!["a"]);
        assert_eq!(lines(b"a\r\r\n", 0, 4), vec!["a\r"]);
        assert_eq!(lines(b"", 0, 0), none());
        assert_eq!(lines(b"\n", 0, 1), vec![""]);
    }

    // Offsets in "aaa\nbbb\nccc\n": lines start at 0, 4 and 8; the `\n`s are at 3, 7, 11.
    const ABC: &[u8] = b"aaa\nbbb\nccc\n";

    #[test]
    fn from_zero_reads_from_the_first_line() {
        assert_eq!(read(ABC, 0, None), vec!["aaa", "bbb", "ccc"]);
        assert_eq!(read(b"", 0, None), none());
        assert_eq!(read(b"x", 0, None), vec!["x"]);
    }

    #[test]
    fn from_at_a_line_start_skips_that_line() {
        // The first `\n` at or after 4 is bbb's own, at 7.
        assert_eq!(read(ABC, 4, None), vec!["ccc"]);
        assert_eq!(read(ABC, 8, None), none());
    }

    #[test]
    fn from_mid_line_skips_the_rest_of_that_line() {
        assert_eq!(read(ABC, 1, None), vec!["bbb", "ccc"]);
        assert_eq!(read(ABC, 2, None), vec!["bbb", "ccc"]);
        assert_eq!(read(ABC, 5, None), vec!["ccc"]);
        assert_eq!(read(ABC, 10, None), none());
    }

    #[test]
    fn from_on_a_newline_starts_at_the_next_line() {
        assert_eq!(read(ABC, 3, None), vec!["bbb", "ccc"]);
        assert_eq!(read(ABC, 7, None), vec!["ccc"]);
        assert_eq!(read(ABC, 11, None), none());
    }

    #[test]
    fn from_at_or_past_the_end_reads_nothing() {
        assert_eq!(read(ABC, 12, None), none());
        assert_eq!(read(ABC, 99, Some(5)), none());
        assert_eq!(read(ABC, u64::MAX, Some(u64::MAX)), none());
    }

    #[test]
    fn len_ending_mid_line_drops_that_line() {
        assert_eq!(read(ABC, 0, Some(2)), none());
        assert_eq!(read(ABC, 0, Some(3)), none());
        assert_eq!(read(ABC, 0, Some(6)), vec!["aaa"]);
        assert_eq!(read(ABC, 1, Some(8)), vec!["bbb"]);
    }

    #[test]
    fn len_ending_on_the_newline_byte_drops_that_line() {
        // The end is exclusive: with from + len = 3, aaa's `\n` (at 3) is outside.
        assert_eq!(read(ABC, 0, Some(3)), none());
        assert_eq!(read(ABC, 0, Some(7)), vec!["aaa"]);
        assert_eq!(read(ABC, 2, Some(5)), none());
    }

    #[test]
    fn len_ending_just_after_a_newline_keeps_that_line() {
        assert_eq!(read(ABC, 0, Some(4)), vec!["aaa"]);
        assert_eq!(read(ABC, 0, Some(8)), vec!["aaa", "bbb"]);
        assert_eq!(read(ABC, 1, Some(7)), vec!["bbb"]);
        assert_eq!(read(ABC, 3, Some(5)), vec!["bbb"]);
    }

    #[test]
    fn ranges_reaching_the_end_keep_the_last_line() {
        // With a final newline, reaching the end is the same as ending after the `\n`.
        assert_eq!(read(ABC, 0, Some(12)), vec!["aaa", "bbb", "ccc"]);
        assert_eq!(read(ABC, 5, Some(7)), vec!["ccc"]);
        assert_eq!(read(ABC, 5, Some(100)), vec!["ccc"]);
        assert_eq!(read(ABC, 0, Some(u64::MAX)), vec!["aaa", "bbb", "ccc"]);
        // Without one, the last line is kept only when the range reaches the end.
        let text = b"aaa\nbbb\nccc";
        assert_eq!(read(text, 0, None), vec!["aaa", "bbb", "ccc"]);
        assert_eq!(read(text, 5, None), vec!["ccc"]);
        assert_eq!(read(text, 5, Some(6)), vec!["ccc"]);
        assert_eq!(read(text, 5, Some(u64::MAX)), vec!["ccc"]);
        assert_eq!(read(text, 5, Some(5)), none());
        assert_eq!(read(text, 0, Some(10)), vec!["aaa", "bbb"]);
    }

    #[test]
    fn crlf_line_ends_at_the_lf() {
        // "a\r\nbb\r\ncc\r\n": the `\r`s are at 1, 5, 9 and the `\n`s at 2, 6, 10.
        let text = b"a\r\nbb\r\ncc\r\n";
        assert_eq!(read(text, 0, None), vec!["a", "bb", "cc"]);
        // Starting on a `\r` still skips to after its `\n`.
        assert_eq!(read(text, 1, None), vec!["bb", "cc"]);
        assert_eq!(read(text, 2, None), vec!["bb", "cc"]);
        assert_eq!(read(text, 3, None), vec!["cc"]);
        // Ending between `\r` and `\n` leaves the `\n` outside: the line is dropped.
        assert_eq!(read(text, 0, Some(2)), none());
        assert_eq!(read(text, 0, Some(3)), vec!["a"]);
        assert_eq!(read(text, 0, Some(6)), vec!["a"]);
        assert_eq!(read(text, 0, Some(7)), vec!["a", "bb"]);
        assert_eq!(read(b"a\r\nb\r", 2, None), vec!["b"]);
    }

    #[test]
    fn empty_results() {
        assert_eq!(read(ABC, 0, Some(0)), none());
        assert_eq!(read(ABC, 5, Some(0)), none());
        // A range inside one line, or from one line's middle to the next one's.
        assert_eq!(read(ABC, 1, Some(2)), none());
        assert_eq!(read(ABC, 1, Some(5)), none());
        assert_eq!(read(b"", 0, Some(10)), none());
        assert_eq!(read(b"", 3, None), none());
        // Start past end: the range's lines are clamped to nothing, never reversed.
        assert_eq!(literal(ABC, 5, Some(1)), (8, 8));
    }

    #[test]
    fn the_suite_range_case() {
        // 1.sor with -from 1 -len 74 (76 bytes): the partial first line is skipped, and
        // so is the last line, whose `\n` is at byte 75, outside 1..75.
        let text = b"<abc>\n<1>\n<2>\n<+1>\n<-0>\n<.12>\n<2.2>\n<+2.2>\n<-.2>\n<\"hello\">\n<hel>\n<lo>\n<bye>\n";
        assert_eq!(text.len(), 76);
        let got = read(text, 1, Some(74));
        assert_eq!(got.first(), Some(&"<1>"));
        assert_eq!(got[6], "<+2.2>");
        assert_eq!(got.last(), Some(&"<lo>"));
    }

    #[test]
    fn adjacent_literal_ranges_lose_the_line_at_the_cut() {
        let text = b"a\nbb\n\nccc\r\nd\n\ne";
        let whole = read(text, 0, None);
        for cut in 1..text.len() {
            let mut got = read(text, 0, Some(cut as u64));
            got.extend(read(text, cut as u64, None));
            let lost = line_number(text, cut) as usize - 1;
            let mut want = whole.clone();
            want.remove(lost);
            assert_eq!(got, want, "cut {cut}");
        }
    }

    #[test]
    fn adjacent_first_byte_ranges_read_every_line_once() {
        let text = b"a\nbb\n\nccc\r\nd\n\ne";
        let whole = read(text, 0, None);
        for cut1 in 0..=text.len() {
            for cut2 in cut1..=text.len() + 2 {
                let mut got = Vec::new();
                for (from, to) in [(0, cut1), (cut1, cut2), (cut2, usize::MAX)] {
                    let (s, e) = first_byte(text, from, to);
                    got.extend(lines(text, s, e));
                }
                assert_eq!(got, whole, "cuts {cut1} {cut2}");
            }
        }
    }

    #[test]
    fn parts_read_every_line_once() {
        for text in [&b""[..], b"\n", b"x", b"a\nbb\n\nccc\r\nd\n\ne", ABC] {
            let whole = read(text, 0, None);
            for count in 1..=text.len() + 3 {
                let mut got = Vec::new();
                let mut at = 0;
                for index in 0..count {
                    let (s, e) = part(text, index, count);
                    // Parts are contiguous, so rows stay in file order.
                    assert_eq!(s, at, "{text:?} part {index} of {count}");
                    at = e;
                    got.extend(lines(text, s, e));
                }
                assert_eq!(at, text.len());
                assert_eq!(got, whole, "{text:?} in {count} parts");
            }
            assert_eq!(part(text, 0, 1), (0, text.len()));
        }
        // A part is the lines beginning in its nominal byte range: 12 bytes in 3 parts
        // of 4 bytes each hold one line each.
        assert_eq!(part(ABC, 1, 3), (4, 8));
        // In 2 parts the cut at byte 6 is inside bbb, which goes to the first part.
        assert_eq!(part(ABC, 0, 2), (0, 8));
        assert_eq!(part(ABC, 1, 2), (8, 12));
    }

    #[test]
    fn split_tiles_the_range() {
        let text: Vec<u8> = (0..500)
            .flat_map(|i| format!("<{i}>{}\n", "x".repeat(i % 13)).into_bytes())
            .collect();
        for (from, to) in [(0, text.len()), (7, text.len() - 3), (100, 100)] {
            let (start, end) = first_byte(&text, from, to);
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
