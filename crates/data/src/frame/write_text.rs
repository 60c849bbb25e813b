//! A frame's text output: [`DataFrame::write_text`] in any [`TextFormat`], and the SoR
//! and CSV shorthands (`write_sor`, `to_sor_string`, `write_csv`, ...). Above the
//! formats and their row printers, which know nothing of it.

use std::io::{self, Write};

use super::csv_print::CsvWriteOptions;
use super::dataframe::DataFrame;
use super::text::{TextFormat, FLUSH_AT};
use crate::error::{Error, Result};

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

impl DataFrame {
    /// Writes the frame as SoR text to `out`: one line per row, fields `<...>`
    /// separated by one space, `\n` after every row.
    ///
    /// | type    | written as |
    /// |---------|------------|
    /// | missing | `<>` |
    /// | BOOL    | `<0>`, `<1>` |
    /// | INT     | decimal, but `<+0>` and `<+1>` so that inference sees INT, not BOOL |
    /// | FLOAT   | the shortest text that parses back to the same `f32`, always with a `.` or an exponent (`<1.0>`, `<2.5e-9>`) so that inference sees FLOAT |
    /// | STRING  | always double-quoted (`<"a b">`) so that inference sees STRING; the bytes are written as they are |
    /// | I64     | as INT (decimal, `<+0>`, `<+1>`) |
    /// | F64     | as FLOAT, the shortest text that parses back to the same `f64` |
    ///
    /// SoR has no 64-bit types: I64 and F64 columns print as numbers, and read back as
    /// INT and FLOAT (an integer beyond 32 bits reads as a FLOAT), so their values
    /// round-trip only when they fit the 32-bit types; CSV keeps them exactly.
    ///
    /// Some values have no SoR spelling: non-finite floats, and strings containing `"`,
    /// `\n` or `\r` (SoR has no escapes). Printing a frame that holds one is an error
    /// naming the first such value's row and column, found before anything is written.
    /// An I/O error may leave partial output.
    ///
    /// The text reads back, through the SoR reader with schema inference, to the same
    /// values, except:
    /// - a column whose values in the first 500 rows are all missing is inferred as
    ///   BOOL; read such text with the frame's schema instead;
    /// - a frame without rows prints nothing, which reads back as a frame without
    ///   columns;
    /// - column names are not written (SoR has no header), and the chunk layout is the
    ///   reader's choice.
    ///
    /// ```
    /// use eau2_data::frame::{DataFrame, FrameBuilder, Schema, Value};
    ///
    /// let mut b = FrameBuilder::new(Schema::from_codes("IFSB")?, 1024);
    /// b.push_row(&[Some(Value::Int(1)), Some(Value::Float(1.5)), Some(Value::Str(b"a b")), None])?;
    /// let df = b.finish();
    /// assert_eq!(df.to_sor_string()?, "<+1> <1.5> <\"a b\"> <>\n");
    /// # Ok::<(), eau2_data::Error>(())
    /// ```
    pub fn write_sor<W: Write>(&self, out: W) -> Result<()> {
        self.write_text(out, &TextFormat::Sor)
    }

    /// The frame as SoR text, as bytes: strings are bytes and need not be UTF-8.
    pub fn to_sor_bytes(&self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.write_sor(&mut out)?;
        Ok(out)
    }

    /// The frame as SoR text; an error when a string is not UTF-8 (use
    /// [`DataFrame::to_sor_bytes`] for those).
    pub fn to_sor_string(&self) -> Result<String> {
        String::from_utf8(self.to_sor_bytes()?).map_err(|e| {
            Error::decode(format!(
                "SoR text is not UTF-8 (at byte {}); use to_sor_bytes",
                e.utf8_error().valid_up_to()
            ))
        })
    }

    /// Prints the frame as SoR text on standard output.
    pub fn print(&self) -> Result<()> {
        self.write_sor(io::stdout().lock())
    }
}

impl DataFrame {
    /// Writes the frame as CSV (RFC 4180) to `out`: a header line of the column names
    /// (unless [`CsvWriteOptions::header`] is off), then one record per row.
    ///
    /// | value   | written as |
    /// |---------|------------|
    /// | missing | an empty field |
    /// | BOOL    | `true`, `false` |
    /// | INT, I64 | decimal |
    /// | FLOAT, F64 | the shortest text that parses back to the same value, with a `.` or an exponent (`1.0`, `2.5e-9`); `NaN`, `inf`, `-inf` |
    /// | STRING  | as is, or quoted: see below |
    ///
    /// A field (a string or a name) is enclosed in `"` when it holds the delimiter, `"`,
    /// `\r` or `\n`, with each `"` doubled; an empty string is written `""` so that it
    /// differs from a missing value. String bytes are written as they are (they need not
    /// be UTF-8). So every value reads back exactly, floats included.
    ///
    /// ```
    /// use eau2_data::frame::{CsvWriteOptions, DataType, FrameBuilder, Schema, Value};
    ///
    /// let schema = Schema::named([("id", DataType::Int), ("name", DataType::String)])?;
    /// let mut b = FrameBuilder::new(schema, 1024);
    /// b.push_row(&[Some(Value::Int(1)), Some(Value::Str(b"say \"hi\", then go"))])?;
    /// b.push_row(&[None, Some(Value::Str(b""))])?;
    /// let csv = b.finish().to_csv_bytes(&CsvWriteOptions::new())?;
    /// assert_eq!(csv, b"id,name\n1,\"say \"\"hi\"\", then go\"\n,\"\"\n");
    /// # Ok::<(), eau2_data::Error>(())
    /// ```
    pub fn write_csv<W: Write>(&self, out: W, options: &CsvWriteOptions) -> Result<()> {
        options.validate()?;
        self.write_text(out, &TextFormat::Csv(options.clone()))
    }

    /// The frame as CSV bytes (see [`DataFrame::write_csv`]).
    pub fn to_csv_bytes(&self, options: &CsvWriteOptions) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.write_csv(&mut out, options)?;
        Ok(out)
    }
}
