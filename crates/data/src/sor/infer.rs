//! Schema inference: the column count and types from the first rows of a range.

use super::field::{Field, FieldLexer};
use super::literal::classify;
use super::range::Lines;
use crate::frame::{DataType, Schema};

/// Infers the schema of the first `rows` lines of `bytes[start..end]` (a range of whole
/// lines): as many columns as the longest of those rows has fields, each typed by the
/// most general of its values. Missing and malformed fields say nothing about a type (a
/// malformed field still counts towards the width); a column with no typed value is BOOL.
pub(crate) fn infer(bytes: &[u8], start: usize, end: usize, rows: usize) -> Schema {
    // `None` = no value seen yet; BOOL is the fallback only at the end.
    let mut types: Vec<Option<DataType>> = Vec::new();
    for (_, line) in Lines::new(bytes, start, end).take(rows) {
        let mut lexer = FieldLexer::new(line);
        let mut col = 0;
        while let Some((field, _)) = lexer.next_field() {
            let seen = match field {
                Field::Missing | Field::Malformed(_) => None,
                Field::Quoted(_) => Some(DataType::String),
                Field::Bare(text) => Some(classify(text).dtype()),
            };
            if col == types.len() {
                types.push(None);
            }
            types[col] = DataType::widen_seen(types[col], seen);
            col += 1;
        }
    }
    Schema::new(
        types
            .into_iter()
            .map(|t| t.unwrap_or(DataType::Bool))
            .collect(),
    )
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
    fn only_the_first_rows_count() {
        assert_eq!(codes("<1>\n<1>\n<hello><1><1>", 2), "B");
        assert_eq!(codes("<1>\n<1>\n<hello><1><1>", 3), "SBB");
        assert_eq!(codes("<1>\n<1>", 0), "");
    }
}
