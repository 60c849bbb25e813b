//! Parsing a range of whole CSV records into column builders, once the schema is fixed.

use super::records::{decode, split_record, Field, RawField};
use super::types::Slot;
use crate::frame::{Column, ColumnBuilder, DataType};
use crate::sor::parse::Cancel;

/// How long error texts may get: a malformed field can run to the end of a huge record.
const MAX_TEXT: usize = 120;

/// What to build from a range.
pub(crate) struct Plan<'a> {
    /// The column types.
    pub types: &'a [DataType],
    /// Which columns to build (one flag per column); the others are not decoded.
    pub build: &'a [bool],
    /// The field separator.
    pub delimiter: u8,
    /// Rows per chunk.
    pub chunk_len: usize,
    /// Whether the first deviation stops the read.
    pub strict: bool,
}

/// The first deviating field of a strict read.
#[derive(Clone, Debug)]
pub(crate) struct Deviation {
    /// Where the field's record starts in the bytes parsed.
    pub record_start: usize,
    /// The field's 0-based column.
    pub column: usize,
    /// The field (or for a ragged record, the record) as written, shortened.
    pub text: Vec<u8>,
    /// Why it deviates.
    pub reason: String,
    /// The type the field's value would need; `None` for a malformed field or a ragged
    /// record, which no column type holds.
    pub found: Option<DataType>,
}

/// Why a range stopped early.
#[derive(Debug)]
pub(crate) enum Stop {
    /// Strict mode met a deviation.
    Deviation(Deviation),
    /// An earlier range failed, so this range's result cannot matter.
    Cancelled,
}

/// The rows of one range.
#[derive(Debug)]
pub(crate) struct Part {
    /// One column per schema column; `None` for a column not built.
    pub columns: Vec<Option<Column>>,
    /// How many rows deviated.
    pub deviated_rows: u64,
    /// Where the first deviating record starts.
    pub first_deviation: Option<usize>,
}

/// Parses the records of `bytes[start..end]` (`start` a record start, `end` a record
/// start or the end of the input) by `plan`. `part` is this range's index among the
/// ranges of one read, for `cancel`.
///
/// Every record is a row. A blank record is a row of missing values; a record with
/// another number of fields than the schema has columns (ragged) deviates, its absent
/// fields are missing and its extra fields dropped; a field that is malformed or does not
/// fit its column deviates and is stored as missing.
pub(crate) fn parse_range(
    bytes: &[u8],
    start: usize,
    end: usize,
    plan: &Plan<'_>,
    part: usize,
    cancel: &Cancel,
) -> Result<Part, Stop> {
    let width = plan.types.len();
    let mut slots: Vec<Slot> = plan
        .types
        .iter()
        .zip(plan.build)
        .map(|(&dtype, &build)| Slot {
            dtype,
            // A row takes at least one byte, so the range holds at most `end - start`.
            builder: build
                .then(|| ColumnBuilder::with_expected_rows(dtype, plan.chunk_len, end - start)),
        })
        .collect();
    let mut fields: Vec<RawField> = Vec::with_capacity(width + 1);
    let mut deviated_rows = 0;
    let mut first_deviation = None;
    let mut pos = start;
    while pos < end {
        if plan.strict && cancel.should_stop(part) {
            return Err(Stop::Cancelled);
        }
        let next = split_record(bytes, pos, end, plan.delimiter, &mut fields);
        if let Some((column, text, reason, found)) = push_record(bytes, &fields, &mut slots) {
            if plan.strict {
                cancel.fail(part);
                let text = match text {
                    Some(f) => &bytes[f.start..f.end],
                    None => record_text(bytes, pos, next),
                };
                return Err(Stop::Deviation(Deviation {
                    record_start: pos,
                    column,
                    text: text[..text.len().min(MAX_TEXT)].to_vec(),
                    reason,
                    found,
                }));
            }
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

/// A record without its line end.
fn record_text(bytes: &[u8], start: usize, next: usize) -> &[u8] {
    let mut text = &bytes[start..next];
    for end in [b'\n', b'\r'] {
        if text.last() == Some(&end) {
            text = &text[..text.len() - 1];
        }
    }
    text
}

/// The first problem of a row: its column, the field it is in (`None` for the whole
/// record), why, and the type the value would need (`None` when no type would do).
type RowProblem = (usize, Option<RawField>, String, Option<DataType>);

/// Pushes one row; returns its first problem.
#[inline]
fn push_record(bytes: &[u8], fields: &[RawField], slots: &mut [Slot]) -> Option<RowProblem> {
    let width = slots.len();
    if fields.is_empty() {
        slots.iter_mut().for_each(Slot::push_missing);
        return None;
    }
    let mut problem = None;
    for (c, slot) in slots.iter_mut().enumerate() {
        let Some(&raw) = fields.get(c) else {
            slot.push_missing();
            problem.get_or_insert_with(|| (c, None, ragged(fields.len(), width), None));
            continue;
        };
        // A column left out is not decoded nor checked.
        if slot.builder.is_none() {
            continue;
        }
        let failed = match decode(bytes, raw) {
            Field::Missing => {
                slot.push_missing();
                continue;
            }
            Field::Bare(text) => slot.push(text),
            Field::Quoted(text) => slot.push(&text),
            Field::Malformed(why) => {
                slot.push_missing();
                problem.get_or_insert_with(|| {
                    (c, Some(raw), format!("malformed field ({why})"), None)
                });
                continue;
            }
        };
        if let Err(found) = failed {
            slot.push_missing();
            problem.get_or_insert_with(|| {
                (
                    c,
                    Some(raw),
                    format!("a {found} value does not fit a {} column", slot.dtype),
                    Some(found),
                )
            });
        }
    }
    if fields.len() > width && problem.is_none() {
        problem = Some((width, None, ragged(fields.len(), width), None));
    }
    problem
}

fn ragged(found: usize, width: usize) -> String {
    format!("the record has {found} fields, not {width}")
}
