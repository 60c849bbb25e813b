//! Schema inference: the column count and types from the first rows of a range.

use super::field::{Field, FieldLexer};
use super::literal::{classify, wide_dtype};
use super::range::{line_start_at_or_after, Lines};
use crate::frame::{DataType, Schema};

/// Infers the schema of the first `rows` lines of `bytes[start..end]` (a range of whole
/// lines): as many columns as the longest of those rows has fields, each typed by the
/// most general of its values. Missing and malformed fields say nothing about a type (a
/// malformed field still counts towards the width); a column with no typed value is BOOL.
pub(crate) fn infer(bytes: &[u8], start: usize, end: usize, rows: usize) -> Schema {
    let mut types: Vec<Option<DataType>> = Vec::new();
    observe(bytes, start, end, rows, false, &mut types);
    Schema::new(
        types
            .into_iter()
            .map(|t| t.unwrap_or(DataType::Bool))
            .collect(),
    )
}

/// How many windows of lines, at evenly spaced offsets, [`sample`] looks at besides the
/// first lines.
pub(crate) const SAMPLE_WINDOWS: usize = 16;
/// How many lines each of those windows holds.
pub(crate) const WINDOW_ROWS: usize = 32;

/// The types seen in a sample of the whole lines `bytes[start..end]` spread over all of
/// it: the first `rows` lines, then [`SAMPLE_WINDOWS`] windows of [`WINDOW_ROWS`] lines at
/// evenly spaced offsets (a file sorted by a column shows its later values there). One
/// entry per column of the widest sampled row, `None` where no value typed it. With
/// `wide`, an integer beyond 32 bits is I64 rather than FLOAT.
pub(crate) fn sample(
    bytes: &[u8],
    start: usize,
    end: usize,
    rows: usize,
    wide: bool,
) -> Vec<Option<DataType>> {
    let mut types = Vec::new();
    observe(bytes, start, end, rows, wide, &mut types);
    for at in window_offsets(start, end) {
        let from = line_start_at_or_after(&bytes[..end], at);
        observe(bytes, from, end, WINDOW_ROWS, wide, &mut types);
    }
    // And the last lines, where a file sorted by a column keeps its largest values.
    let mut tail = end;
    for _ in 0..=WINDOW_ROWS {
        match memchr::memrchr(b'\n', &bytes[start..tail.saturating_sub(1).max(start)]) {
            Some(i) => tail = start + i + 1,
            None => {
                tail = start;
                break;
            }
        }
    }
    observe(bytes, tail, end, WINDOW_ROWS + 1, wide, &mut types);
    types
}

/// Where the [`SAMPLE_WINDOWS`] windows of a sample of `start..end` begin (before
/// moving to a line start): evenly spaced, neither end included.
pub(crate) fn window_offsets(start: usize, end: usize) -> impl Iterator<Item = usize> {
    let len = end - start;
    (1..=SAMPLE_WINDOWS)
        .map(move |k| start + (len as u128 * k as u128 / (SAMPLE_WINDOWS as u128 + 1)) as usize)
}

/// Widens `types` by the values of the first `rows` lines of `bytes[start..end]`.
pub(crate) fn observe(
    bytes: &[u8],
    start: usize,
    end: usize,
    rows: usize,
    wide: bool,
    types: &mut Vec<Option<DataType>>,
) {
    for (_, line) in Lines::new(bytes, start, end).take(rows) {
        let mut lexer = FieldLexer::new(line);
        let mut col = 0;
        while let Some((field, _)) = lexer.next_field() {
            let seen = match field {
                Field::Missing | Field::Malformed(_) => None,
                Field::Quoted(_) => Some(DataType::String),
                Field::Bare(text) if wide => Some(wide_dtype(text)),
                Field::Bare(text) => Some(classify(text).dtype()),
            };
            if col == types.len() {
                types.push(None);
            }
            types[col] = DataType::widen_seen(types[col], seen);
            col += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(text: &str, rows: usize) -> String {
        let bytes = text.as_bytes();
        infer(bytes, 0, bytes.len(), rows).codes()
    }

    #[test]
    fn suite_schemas() {
        // schema1.sor, schema2.sor, schema3.sor of the conformance suite.
        assert_eq!(codes("<1><hello><>\n<12><1.2><>\n", 500), "ISB");
        assert_eq!(codes("<1>\n<hello><0>\n<1.1><0><2>\n", 500), "SBI");
        assert_eq!(codes("<0><3><3.3><str>\n<3><5.5><r><h>\n", 500), "IFSS");
        assert_eq!(codes("<>\n\n", 500), "B");
        assert_eq!(
            codes(
                "<1> <>   <1.2> <hi>\n<0> <12> <-.2> < \"ho ho ho\" >\n",
                500
            ),
            "BIFS"
        );
    }

    #[test]
    fn generality_order() {
        assert_eq!(codes("<0>\n<1>", 500), "B");
        assert_eq!(codes("<0>\n<+1>", 500), "I");
        assert_eq!(codes("<0>\n<2>", 500), "I");
        assert_eq!(codes("<0>\n<-0>", 500), "I");
        assert_eq!(codes("<1>\n<2147483648>", 500), "F");
        assert_eq!(codes("<1>\n<1e3>\n<7>", 500), "F");
        assert_eq!(codes("<1.5>\n<\"1\">", 500), "S");
        assert_eq!(codes("<1.5>\n<x>\n<2>", 500), "S");
    }

    #[test]
    fn width_is_the_longest_row() {
        assert_eq!(codes("<1>\n<1><2><a>\n<>", 500), "BIS");
        assert_eq!(codes("", 500), "");
        assert_eq!(codes("\n\n", 500), "");
    }

    #[test]
    fn missing_and_malformed_do_not_type() {
        assert_eq!(codes("<><1. 2><\"x>", 500), "BBB");
        assert_eq!(codes("<><1. 2>\n<3><4>", 500), "II");
    }

    #[test]
    fn samples_see_values_late_in_a_sorted_file() {
        // 2,000 rows of 0/1, then larger values, then one beyond 32 bits at the end.
        let mut text = String::new();
        for i in 0..4000 {
            let pid = if i < 2000 { i % 2 } else { i };
            text.push_str(&format!("<{pid}> <1.5>\n"));
        }
        text.push_str("<5000000000> <2>\n");
        let bytes = text.as_bytes();
        assert_eq!(codes(&text, 500), "BF");
        let types = sample(bytes, 0, bytes.len(), 500, true);
        assert_eq!(types, [Some(DataType::I64), Some(DataType::Float)]);
        // Without `wide`, SoR's rule: a big integer is a FLOAT.
        let types = sample(bytes, 0, bytes.len(), 500, false);
        assert_eq!(types[0], Some(DataType::Float));
        assert!(sample(b"", 0, 0, 500, true).is_empty());
    }

    #[test]
    fn only_the_first_rows_count() {
        assert_eq!(codes("<1>\n<1>\n<hello><1><1>", 2), "B");
        assert_eq!(codes("<1>\n<1>\n<hello><1><1>", 3), "SBB");
        assert_eq!(codes("<1>\n<1>", 0), "");
    }
}
