//! Parsing a range of whole lines into column builders, once the schema is fixed.
//!
//! Each field is converted straight from its bytes to the column's type and pushed
//! through [`ColumnBuilder::current`], so no value is allocated on its own. Columns that
//! are not built (a projection) are not read: their fields are only scanned for their
//! end, and the fields after the last built column not at all, so strict mode and the
//! deviation count apply to the columns read. One exception keeps a read column
//! honest: a field left out, before a read one, that is malformed in a way that may
//! move the fields after it (an unclosed `<` or quote, stray text, a `<` inside a word)
//! makes the row deviate.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::fast::{self, Stage, BLOCK};
use super::field::{Field, FieldLexer, Malformation};
use super::literal::{
    classify, parse_bool, parse_f64, parse_float, parse_i64, parse_int, wide_dtype,
};
use super::range::line_at;
use crate::frame::{Column, ColumnBuilder, DataType};

/// What to build from a range.
#[derive(Clone, Debug)]
pub(crate) struct Plan<'a> {
    /// The file's column types (the full schema).
    pub types: &'a [DataType],
    /// `build[c]` says whether file column `c` is built (else only checked).
    pub build: &'a [bool],
    /// Rows per chunk.
    pub chunk_len: usize,
    /// Whether the first deviation stops the read.
    pub strict: bool,
    /// Whether to try the fast path on each line before the general path (tests turn
    /// it off to check that both read every input alike).
    pub fast: bool,
}

/// Why a field deviates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Problem {
    /// The field is not valid in any type.
    Malformed(Malformation),
    /// A valid value of a more general type than its column.
    Mismatch {
        /// The value's type.
        found: DataType,
        /// The column's type.
        column: DataType,
    },
    /// A field past the schema's last column.
    BeyondSchema {
        /// The schema's width.
        width: usize,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Malformed(m) => write!(f, "malformed field ({m})"),
            Problem::Mismatch { found, column } => {
                write!(f, "a {found} value does not fit a {column} column")
            }
            Problem::BeyondSchema { width } => {
                write!(f, "field beyond the last of the schema's {width} columns")
            }
        }
    }
}

/// The first deviating field of a strict read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Deviation {
    /// Where the field's line starts in the input.
    pub line_start: usize,
    /// The field's 0-based column.
    pub column: usize,
    /// The field as written (shortened when very long).
    pub text: Vec<u8>,
    /// Why it deviates.
    pub problem: Problem,
}

/// Why a part stopped early.
#[derive(Debug)]
pub(crate) enum Stop {
    /// Strict mode met a deviation.
    Deviation(Deviation),
    /// An earlier part failed, so this part's result cannot matter.
    Cancelled,
}

/// The rows of one part: one column per file column that is built.
#[derive(Debug)]
pub(crate) struct Part {
    /// Indexed by file column; `None` for columns that were only checked.
    pub columns: Vec<Option<Column>>,
    /// How many rows deviated.
    pub deviated_rows: u64,
    /// Where the first deviating row starts.
    pub first_deviation: Option<usize>,
}

/// Lets parallel parts of a strict read stop once an earlier part has failed. Holds the
/// index of the earliest failed part; parts after it stop, parts before it go on, since
/// one of them may hold an even earlier deviation.
#[derive(Debug)]
pub(crate) struct Cancel {
    earliest_failure: AtomicUsize,
}

impl Cancel {
    /// No part has failed yet.
    pub(crate) fn new() -> Cancel {
        Cancel {
            earliest_failure: AtomicUsize::new(usize::MAX),
        }
    }

    pub(crate) fn fail(&self, part: usize) {
        self.earliest_failure.fetch_min(part, Ordering::Relaxed);
    }

    pub(crate) fn should_stop(&self, part: usize) -> bool {
        self.earliest_failure.load(Ordering::Relaxed) < part
    }
}

/// After this many lines in a row that the fast path gave up on, a part reads the next
/// [`SKIPPED_LINES`] lines with the general path only, then tries the fast path again.
const MISSES_BEFORE_SKIP: usize = 8;

/// See [`MISSES_BEFORE_SKIP`].
const SKIPPED_LINES: usize = 64;

/// How long error texts may get: a malformed field can run to the end of a huge line.
const MAX_TEXT: usize = 120;

struct Slot {
    dtype: DataType,
    builder: Option<ColumnBuilder>,
}

impl Slot {
    #[inline]
    fn push_missing(&mut self) {
        if let Some(b) = &mut self.builder {
            b.current().push_missing();
            b.row_done();
        }
    }

    /// Converts and pushes one field; on error nothing was pushed. A field of a column
    /// not built is not looked at.
    #[inline]
    fn push(&mut self, field: Field<'_>) -> Result<(), Problem> {
        if self.builder.is_none() {
            return Ok(());
        }
        let text = match field {
            Field::Bare(text) => text,
            Field::Missing => {
                self.push_missing();
                return Ok(());
            }
            Field::Quoted(text) => {
                if self.dtype != DataType::String {
                    return Err(Problem::Mismatch {
                        found: DataType::String,
                        column: self.dtype,
                    });
                }
                if let Some(b) = &mut self.builder {
                    b.current().push_str(text);
                    b.row_done();
                }
                return Ok(());
            }
            Field::Malformed(m) => return Err(Problem::Malformed(m)),
        };
        let mismatch = |column| Problem::Mismatch {
            found: classify(text).dtype(),
            column,
        };
        match self.dtype {
            DataType::Bool => {
                let v = parse_bool(text).ok_or_else(|| mismatch(DataType::Bool))?;
                if let Some(b) = &mut self.builder {
                    b.current().push_bool(v);
                    b.row_done();
                }
            }
            DataType::Int => {
                let v = parse_int(text).ok_or_else(|| mismatch(DataType::Int))?;
                if let Some(b) = &mut self.builder {
                    b.current().push_int(v);
                    b.row_done();
                }
            }
            DataType::Float => {
                let v = parse_float(text).ok_or_else(|| mismatch(DataType::Float))?;
                if let Some(b) = &mut self.builder {
                    b.current().push_float(v);
                    b.row_done();
                }
            }
            DataType::String => {
                if let Some(b) = &mut self.builder {
                    b.current().push_str(text);
                    b.row_done();
                }
            }
            DataType::I64 => {
                let v = parse_i64(text).ok_or_else(|| Problem::Mismatch {
                    found: wide_dtype(text),
                    column: DataType::I64,
                })?;
                if let Some(b) = &mut self.builder {
                    b.current().push_i64(v);
                    b.row_done();
                }
            }
            DataType::F64 => {
                let v = parse_f64(text).ok_or_else(|| mismatch(DataType::F64))?;
                if let Some(b) = &mut self.builder {
                    b.current().push_f64(v);
                    b.row_done();
                }
            }
        }
        Ok(())
    }
}

/// Parses the lines of `bytes[start..end]` (a range of whole lines) by `plan`. `part`
/// is this range's index among the ranges of one read, for `cancel`.
///
/// Each line is first tried on the fast path ([`fast::parse_line`]), which reads the
/// plain lines that make up nearly all of a file; a line it gives up on is read again,
/// from its start, by the general path ([`parse_line`]), which decides every deviation.
pub(crate) fn parse_part(
    bytes: &[u8],
    start: usize,
    end: usize,
    plan: &Plan<'_>,
    part: usize,
    cancel: &Cancel,
) -> Result<Part, Stop> {
    let mut slots: Vec<Slot> = plan
        .types
        .iter()
        .zip(plan.build)
        .map(|(&dtype, &build)| Slot {
            dtype,
            // A row takes at least one byte (its `\n`), so the range holds at most
            // `end - start` rows: reserve no more than that for a small range.
            builder: build
                .then(|| ColumnBuilder::with_expected_rows(dtype, plan.chunk_len, end - start)),
        })
        .collect();
    let mut stages: Vec<Stage> = plan
        .types
        .iter()
        .zip(plan.build)
        .map(|(&t, &build)| if build { Stage::new(t) } else { Stage::skip() })
        .collect();
    // The columns after the last one read are not looked at.
    let read = read_width(plan);
    // The fast path must not look past the range's last line.
    let bytes = &bytes[..end];
    let mut deviated_rows = 0u64;
    let mut first_deviation = None;
    let mut pos = start;
    // Lines the fast path gave up on in a row, and lines to read without trying it: where
    // nearly every line deviates, trying first only adds to the general path's work.
    let mut misses = 0;
    let mut skip = 0;
    while pos < end {
        if plan.strict && cancel.should_stop(part) {
            return Err(Stop::Cancelled);
        }
        if skip > 0 {
            skip -= 1;
        } else if plan.fast {
            // A block of rows, never past the end of the chunks being filled (the
            // builders all hold the same number of rows).
            let block = slots
                .iter()
                .find_map(|s| s.builder.as_ref())
                .map_or(BLOCK, |b| b.room().min(BLOCK));
            let (staged, next) = fast::parse_block(bytes, pos, &mut stages, read, block);
            if staged > 0 {
                for (slot, stage) in slots.iter_mut().zip(&stages) {
                    if let Some(builder) = &mut slot.builder {
                        stage.append_to(staged, builder, bytes);
                    }
                }
            }
            pos = next;
            if staged == block || pos == end {
                misses = 0;
                continue;
            }
            misses = if staged > 0 { 1 } else { misses + 1 };
            if misses == MISSES_BEFORE_SKIP {
                misses = 0;
                skip = SKIPPED_LINES;
            }
        }
        // The fast path gave up on the line at `pos` (or is off).
        let (line, next) = line_at(bytes, pos, end);
        if parse_line(line, pos, &mut slots, read, plan, part, cancel)? {
            deviated_rows += 1;
            first_deviation.get_or_insert(pos);
        }
        pos = next;
    }
    Ok(Part {
        columns: slots
            .into_iter()
            .map(|s| s.builder.map(ColumnBuilder::finish))
            .collect(),
        deviated_rows,
        first_deviation,
    })
}

/// How many columns a line is read for: up to the last one built (all without a
/// projection).
fn read_width(plan: &Plan<'_>) -> usize {
    plan.build.iter().rposition(|&b| b).map_or(0, |c| c + 1)
}

/// The general path: lexes `line` (which starts at `line_start` in the input) field by
/// field and pushes one value per column, a deviating field as missing; the fields past
/// the first `read` columns are not looked at when columns after them are left out.
/// Returns whether the row deviates; in strict mode a deviation is an error instead.
fn parse_line(
    line: &[u8],
    line_start: usize,
    slots: &mut [Slot],
    read: usize,
    plan: &Plan<'_>,
    part: usize,
    cancel: &Cancel,
) -> Result<bool, Stop> {
    let width = slots.len();
    let mut lexer = FieldLexer::new(line);
    let mut col = 0;
    let mut row_deviates = false;
    while let Some((field, text)) = lexer.next_field() {
        if col == read && read < width {
            break;
        }
        let problem = match slots.get_mut(col) {
            None => Problem::BeyondSchema { width },
            // A field left out is not checked, unless it is malformed in a way that may
            // move the fields after it (all but white space inside a word): then the
            // read fields after it may be wrong, and the row deviates.
            Some(slot) if slot.builder.is_none() && col + 1 < read => match field {
                Field::Malformed(m) if m != Malformation::SpaceInWord => Problem::Malformed(m),
                _ => {
                    col += 1;
                    continue;
                }
            },
            Some(slot) => match slot.push(field) {
                Ok(()) => {
                    col += 1;
                    continue;
                }
                Err(problem) => {
                    slot.push_missing();
                    problem
                }
            },
        };
        if plan.strict {
            cancel.fail(part);
            return Err(Stop::Deviation(Deviation {
                line_start,
                column: col,
                text: text[..text.len().min(MAX_TEXT)].to_vec(),
                problem,
            }));
        }
        row_deviates = true;
        if col >= width {
            // Nothing past the schema is stored, and the row is already counted.
            break;
        }
        col += 1;
    }
    for slot in slots.iter_mut().skip(col) {
        slot.push_missing();
    }
    Ok(row_deviates)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::Value;

    fn run(text: &str, codes: &str, build: Option<&[bool]>, strict: bool) -> Result<Part, Stop> {
        let schema = crate::frame::Schema::from_codes(codes).unwrap();
        let all = vec![true; schema.width()];
        let plan = Plan {
            types: schema.types(),
            build: build.unwrap_or(&all),
            chunk_len: 3,
            strict,
            fast: true,
        };
        let bytes = text.as_bytes();
        parse_part(bytes, 0, bytes.len(), &plan, 0, &Cancel::new())
    }

    fn values(col: &Column) -> Vec<Option<String>> {
        let mut out = Vec::new();
        for chunk in col.chunks() {
            for i in 0..chunk.len() {
                out.push(chunk.value(i).map(|v| match v {
                    Value::Bool(b) => format!("b{}", b as u8),
                    Value::Int(i) => format!("i{i}"),
                    Value::Float(f) => format!("f{f}"),
                    Value::Str(s) => format!("s{}", String::from_utf8_lossy(s)),
                    other => format!("{other:?}"),
                }));
            }
        }
        out
    }

    fn column(part: &Part, c: usize) -> Vec<Option<String>> {
        values(part.columns[c].as_ref().unwrap())
    }

    fn some(items: &[&str]) -> Vec<Option<String>> {
        items
            .iter()
            .map(|s| (!s.is_empty()).then(|| s.to_string()))
            .collect()
    }

    #[test]
    fn less_general_values_fit_more_general_columns() {
        let part = run(
            "<1><1><1><1>\n<0><+1><2><\"+1\">\n<><-7><1e1><+1>\n",
            "BIFS",
            None,
            false,
        )
        .unwrap();
        assert_eq!(part.deviated_rows, 0);
        assert_eq!(column(&part, 0), some(&["b1", "b0", ""]));
        assert_eq!(column(&part, 1), some(&["i1", "i1", "i-7"]));
        assert_eq!(column(&part, 2), some(&["f1", "f2", "f10"]));
        assert_eq!(column(&part, 3), some(&["s1", "s+1", "s+1"]));
    }

    #[test]
    fn trailing_fields_and_blank_lines_are_missing() {
        let part = run("<1>\n\n   \n<0><2>", "BI", None, false).unwrap();
        assert_eq!(column(&part, 0), some(&["b1", "", "", "b0"]));
        assert_eq!(column(&part, 1), some(&["", "", "", "i2"]));
        assert_eq!(part.columns[0].as_ref().unwrap().chunks().len(), 2);
    }

    #[test]
    fn deviating_fields_become_missing_and_rows_count_once() {
        let text = "<1><2>\n<2><x><3>\n<1><1. 2>\n<0><5>\n";
        let part = run(text, "BI", None, false).unwrap();
        assert_eq!(part.deviated_rows, 2);
        assert_eq!(part.first_deviation, Some(7));
        assert_eq!(column(&part, 0), some(&["b1", "", "b1", "b0"]));
        assert_eq!(column(&part, 1), some(&["i2", "", "", "i5"]));
    }

    #[test]
    fn strict_names_the_first_deviating_field() {
        let text = "<1><2>\n<1><2><3>\n<2><x>\n";
        let Err(Stop::Deviation(d)) = run(text, "BI", None, true) else {
            panic!("expected a deviation")
        };
        assert_eq!((d.line_start, d.column), (7, 2));
        assert_eq!(d.text, b"<3>");
        assert_eq!(d.problem, Problem::BeyondSchema { width: 2 });

        let Err(Stop::Deviation(d)) = run("<1><\"bad row\">", "BF", None, true) else {
            panic!("expected a deviation")
        };
        assert_eq!((d.column, d.text.as_slice()), (1, &b"<\"bad row\">"[..]));
        assert_eq!(
            d.problem.to_string(),
            "a STRING value does not fit a FLOAT column"
        );
        assert!(run("<1><2.5>\n", "BF", None, true).is_ok());
    }

    #[test]
    fn beyond_schema_even_when_missing() {
        let part = run("<1><>\n", "B", None, false).unwrap();
        assert_eq!(part.deviated_rows, 1);
        assert_eq!(column(&part, 0), some(&["b1"]));
    }

    #[test]
    fn unbuilt_columns_are_not_checked_nor_built() {
        // Column 1 is left out: its `x` is not checked; with column 2 left out too, the
        // fields after column 0 (an extra one on line 3) are not looked at.
        let text = "<1><2><a>\n<1><x><b>\n<0><3><c><extra>\n";
        for fast in [true, false] {
            let schema = crate::frame::Schema::from_codes("BIS").unwrap();
            let plan = |build: &'static [bool]| Plan {
                types: schema.types(),
                build,
                chunk_len: 3,
                strict: true,
                fast,
            };
            let bytes = text.as_bytes();
            let two = &bytes[..20];
            let part = parse_part(
                two,
                0,
                two.len(),
                &plan(&[false, false, true]),
                0,
                &Cancel::new(),
            );
            let Ok(part) = part else {
                panic!("a strict read of the read columns failed")
            };
            assert!(part.columns[0].is_none() && part.columns[1].is_none());
            assert_eq!(column(&part, 2), some(&["sa", "sb"]));
            // Reading the last column still finds the field past the schema.
            let err = parse_part(
                bytes,
                0,
                bytes.len(),
                &plan(&[false, false, true]),
                0,
                &Cancel::new(),
            );
            assert!(matches!(
                err,
                Err(Stop::Deviation(Deviation { column: 3, .. }))
            ));
            let part = parse_part(
                bytes,
                0,
                bytes.len(),
                &plan(&[true, false, false]),
                0,
                &Cancel::new(),
            );
            assert_eq!(column(&part.unwrap(), 0), some(&["b1", "b1", "b0"]));
            // Reading column 1 finds the `x`.
            let err = parse_part(
                bytes,
                0,
                bytes.len(),
                &plan(&[false, true, false]),
                0,
                &Cancel::new(),
            );
            assert!(matches!(
                err,
                Err(Stop::Deviation(Deviation { column: 1, .. }))
            ));
            // A left-out field that may move the read ones after it still deviates.
            let bad = b"<\"open><1><a>\n";
            let err = parse_part(
                bad,
                0,
                bad.len(),
                &plan(&[false, false, true]),
                0,
                &Cancel::new(),
            );
            assert!(
                matches!(err, Err(Stop::Deviation(Deviation { column: 0, .. }))),
                "{err:?}"
            );
        }
    }

    #[test]
    fn long_texts_are_shortened() {
        let text = format!("<\"{}", "y".repeat(10_000));
        let Err(Stop::Deviation(d)) = run(&text, "S", None, true) else {
            panic!("expected a deviation")
        };
        assert_eq!(d.text.len(), MAX_TEXT);
    }

    #[test]
    fn cancel_stops_later_parts_only() {
        let cancel = Cancel::new();
        cancel.fail(2);
        assert!(cancel.should_stop(3));
        assert!(!cancel.should_stop(1));
        assert!(!cancel.should_stop(2));
    }
}
