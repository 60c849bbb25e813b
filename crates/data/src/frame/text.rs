//! [`TextFormat`]: the text formats a frame's rows print in (SoR and CSV), a block of rows
//! at a time, so that a local frame and the ranks of a distributed one format rows the
//! same way.

use std::io::Write;
use std::ops::Range;
use std::sync::Arc;

use super::chunk::Chunk;
use super::csv_print::{write_csv_header, write_csv_row, CsvWriteOptions};
use super::dataframe::DataFrame;
use super::print::{check_sor, write_sor_row};
use super::types::Schema;
use crate::error::{Error, Result};

/// How much text to gather before handing it to the output: few large writes, so an
/// unbuffered `File` or socket is still fast.
pub(crate) const FLUSH_AT: usize = 1 << 16;

/// A text format for rows: SoR (see [`DataFrame::write_sor`]) or CSV (see
/// [`DataFrame::write_csv`]).
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

impl DataFrame {
    /// Writes the frame to `out` in `format`: the header, then every row in order, in
    /// writes of about 64 KiB. Every value is checked before anything is written, so a
    /// value the format cannot express fails the call with no output; an I/O error may
    /// leave partial output.
    pub fn write_text<W: Write>(&self, mut out: W, format: &TextFormat) -> Result<()> {
        for i in 0..self.chunk_count() {
            format.check_rows(&self.row_chunk(i), self.chunk_rows(i).start)?;
        }
        let io_err = |e| Error::io(format!("writing {} text", format.extension()), e);
        let mut buf = format.header(self.schema());
        buf.reserve(FLUSH_AT + 1024);
        for i in 0..self.chunk_count() {
            let chunks = self.row_chunk(i);
            let rows = self.chunk_rows(i);
            let len = (rows.end - rows.start) as usize;
            // Rows a few at a time, so that the buffer stays near FLUSH_AT.
            for start in (0..len).step_by(64) {
                format.write_rows(&mut buf, &chunks, start..len.min(start + 64));
                if buf.len() >= FLUSH_AT {
                    out.write_all(&buf).map_err(io_err)?;
                    buf.clear();
                }
            }
        }
        out.write_all(&buf).map_err(io_err)?;
        out.flush().map_err(io_err)
    }
}
