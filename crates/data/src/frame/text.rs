//! [`TextFormat`]: the text formats a frame's rows print in (SoR and CSV), a block of rows
//! at a time, so that a local frame and the ranks of a distributed one format rows the
//! same way.

use std::ops::Range;
use std::sync::Arc;

use super::chunk::Chunk;
use super::csv_print::{write_csv_header, write_csv_row, CsvWriteOptions};
use super::print::{check_sor, write_sor_row};
use super::types::Schema;
use crate::error::Result;

/// How much text to gather before handing it to the output: few large writes, so an
/// unbuffered `File` or socket is still fast.
pub(crate) const FLUSH_AT: usize = 1 << 16;

/// A text format for rows: SoR (see [`crate::frame::DataFrame::write_sor`]) or CSV (see
/// [`crate::frame::DataFrame::write_csv`]).
///
/// Printing is three steps, which a writer may spread over threads and processes: the
/// [`TextFormat::header`] once, then for each block of whole rows (a row chunk) a
/// [`TextFormat::check_rows`] and any number of [`TextFormat::write_rows`] calls. The
/// text of a block depends only on its rows, so blocks printed apart and laid end to end
/// in row order are the text of the whole frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TextFormat {
    /// SoR: no header, values SoR cannot express are errors.
    Sor,
    /// CSV with these options: a header line of names, every value expressible.
    Csv(CsvWriteOptions),
}

impl TextFormat {
    /// The usual file extension, without the dot: `sor` or `csv`.
    pub fn extension(&self) -> &'static str {
        match self {
            TextFormat::Sor => "sor",
            TextFormat::Csv(_) => "csv",
        }
    }

    /// The text before the first row: CSV's header line (when asked for), nothing for
    /// SoR.
    pub fn header(&self, schema: &Schema) -> Vec<u8> {
        let mut out = Vec::new();
        if let TextFormat::Csv(options) = self {
            if options.has_header() {
                write_csv_header(&mut out, schema, options);
            }
        }
        out
    }

    /// Checks that every value of one row chunk (`chunks`, one per column, whose first
    /// row is global row `first_row`) can be printed; the error names the first one, in
    /// row order, that cannot (SoR has no spelling for non-finite floats and for strings
    /// holding `"`, `\n` or `\r`; CSV can print anything).
    pub fn check_rows(&self, chunks: &[Arc<Chunk>], first_row: u64) -> Result<()> {
        match self {
            TextFormat::Sor => check_sor(chunks, first_row),
            TextFormat::Csv(_) => Ok(()),
        }
    }

    /// Appends the text of rows `rows` (offsets into the chunks) of one row chunk to
    /// `buf`, each with its line end. The chunks must have passed
    /// [`TextFormat::check_rows`] and be at least `rows.end` long (a shorter one panics,
    /// like slice indexing).
    pub fn write_rows(&self, buf: &mut Vec<u8>, chunks: &[Arc<Chunk>], rows: Range<usize>) {
        match self {
            TextFormat::Sor => rows.for_each(|r| write_sor_row(buf, chunks, r)),
            TextFormat::Csv(options) => rows.for_each(|r| write_csv_row(buf, chunks, r, options)),
        }
    }
}
