//! Printing rows as CSV (RFC 4180) that reads back to the same values.
//!
//! Kept beside the SoR printer rather than with a CSV reader so that
//! [`super::TextFormat`] prints every format from one place; the format is documented on
//! [`crate::frame::DataFrame::write_csv`].

use std::io::Write;
use std::sync::Arc;

use super::chunk::{Chunk, ChunkData};
use super::print::write_int;
use super::types::Schema;
use crate::error::{Error, Result};

/// Options for printing CSV; a builder. The default: `,` between fields, a header line
/// of column names, `\n` after every record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvWriteOptions {
    delimiter: u8,
    header: bool,
    crlf: bool,
}

impl Default for CsvWriteOptions {
    fn default() -> Self {
        CsvWriteOptions {
            delimiter: b',',
            header: true,
            crlf: false,
        }
    }
}

impl CsvWriteOptions {
    /// The default options.
    pub fn new() -> Self {
        Self::default()
    }

    /// Separates fields with `byte` (`,` by default; e.g. `b'\t'` or `b';'`). It must
    /// not be `"`, `\r` or `\n`, which would make the output ambiguous: writing with
    /// such a delimiter is an error.
    pub fn delimiter(mut self, byte: u8) -> Self {
        self.delimiter = byte;
        self
    }

    /// Whether to write a header line of the column names first (the default).
    pub fn header(mut self, yes: bool) -> Self {
        self.header = yes;
        self
    }

    /// Ends records with `\r\n`, as RFC 4180 writes them, instead of `\n` (the default,
    /// as most tools write CSV).
    pub fn crlf(mut self, yes: bool) -> Self {
        self.crlf = yes;
        self
    }

    /// The field delimiter.
    pub fn get_delimiter(&self) -> u8 {
        self.delimiter
    }

    /// True when a header line is written.
    pub fn has_header(&self) -> bool {
        self.header
    }

    /// Checks that the delimiter leaves the output unambiguous.
    pub fn validate(&self) -> Result<()> {
        match self.delimiter {
            b'"' | b'\r' | b'\n' => Err(Error::Schema(format!(
                "{:?} cannot be a CSV delimiter",
                self.delimiter as char
            ))),
            _ => Ok(()),
        }
    }

    fn line_end(&self) -> &'static [u8] {
        if self.crlf {
            b"\r\n"
        } else {
            b"\n"
        }
    }
}

/// Appends the header line: the column names, quoted where needed.
pub(crate) fn write_csv_header(buf: &mut Vec<u8>, schema: &Schema, options: &CsvWriteOptions) {
    for (col, name) in schema.names().iter().enumerate() {
        if col > 0 {
            buf.push(options.delimiter);
        }
        write_field(buf, name.as_bytes(), options.delimiter);
    }
    buf.extend_from_slice(options.line_end());
}

/// Appends row `offset` of `chunks` (one per column) as one CSV record.
pub(crate) fn write_csv_row(
    buf: &mut Vec<u8>,
    chunks: &[Arc<Chunk>],
    offset: usize,
    options: &CsvWriteOptions,
) {
    for (col, chunk) in chunks.iter().enumerate() {
        if col > 0 {
            buf.push(options.delimiter);
        }
        if chunk.is_missing(offset) {
            continue;
        }
        match chunk.data() {
            ChunkData::Bool(b) => buf.extend_from_slice(match b.get(offset) {
                true => b"true",
                false => b"false",
            }),
            ChunkData::Int(v) => write_int(buf, v[offset].into()),
            ChunkData::I64(v) => write_int(buf, v[offset]),
            // `{:?}` is the shortest text that parses back to the same float, always
            // with a `.` or an exponent, so a reader infers a float again.
            ChunkData::Float(v) => write!(buf, "{:?}", v[offset]).expect("a Vec takes writes"),
            ChunkData::F64(v) => write!(buf, "{:?}", v[offset]).expect("a Vec takes writes"),
            ChunkData::String { offsets, bytes } => {
                let text = &bytes[offsets[offset] as usize..offsets[offset + 1] as usize];
                write_field(buf, text, options.delimiter);
            }
        }
    }
    buf.extend_from_slice(options.line_end());
}

/// Appends one text field, quoted when it is empty or holds the delimiter, `"`, `\r` or
/// `\n` (RFC 4180, with the empty string quoted so that it differs from a missing value).
fn write_field(buf: &mut Vec<u8>, text: &[u8], delimiter: u8) {
    let quote = text.is_empty()
        || memchr::memchr3(b'"', b'\n', b'\r', text).is_some()
        || memchr::memchr(delimiter, text).is_some();
    if !quote {
        buf.extend_from_slice(text);
        return;
    }
    buf.push(b'"');
    let mut rest = text;
    while let Some(at) = memchr::memchr(b'"', rest) {
        buf.extend_from_slice(&rest[..=at]);
        buf.push(b'"');
        rest = &rest[at + 1..];
    }
    buf.extend_from_slice(rest);
    buf.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{DataFrame, DataType, FrameBuilder, Value};

    fn csv(df: &DataFrame, options: &CsvWriteOptions) -> String {
        String::from_utf8(df.to_csv_bytes(options).unwrap()).unwrap()
    }

    #[test]
    fn prints_every_type_and_missing_values() {
        let schema = Schema::from_codes("BIFSLD").unwrap();
        let mut b = FrameBuilder::new(schema, 2);
        b.push_row(&[
            Some(Value::Bool(true)),
            Some(Value::Int(-7)),
            Some(Value::Float(0.1)),
            Some(Value::Str(b"plain")),
            Some(Value::I64(i64::MIN)),
            Some(Value::F64(0.1)),
        ])
        .unwrap();
        b.push_row(&[None, None, None, None, None, None]).unwrap();
        b.push_row(&[
            Some(Value::Bool(false)),
            Some(Value::Int(0)),
            Some(Value::Float(1e20)),
            Some(Value::Str(b"")),
            Some(Value::I64(1 << 40)),
            Some(Value::F64(f64::NAN)),
        ])
        .unwrap();
        let df = b.finish();
        assert_eq!(
            csv(&df, &CsvWriteOptions::new()),
            "c0,c1,c2,c3,c4,c5\n\
             true,-7,0.1,plain,-9223372036854775808,0.1\n\
             ,,,,,\n\
             false,0,1e20,\"\",1099511627776,NaN\n"
        );
        let options = CsvWriteOptions::new()
            .header(false)
            .delimiter(b'\t')
            .crlf(true);
        assert_eq!(
            csv(&df.project(&[1, 3]).unwrap(), &options),
            "-7\tplain\r\n\t\r\n0\t\"\"\r\n"
        );
    }

    #[test]
    fn quotes_what_needs_quoting() {
        let names = ["a,b", "say \"x\"", "plain"];
        let schema = Schema::new(vec![DataType::String; 3])
            .with_names(&names)
            .unwrap();
        let mut b = FrameBuilder::new(schema, 8);
        for s in ["x,y", "two\nlines", "cr\r", "\"", "a;b", "é ü", " spaced "] {
            let v = Some(Value::Str(s.as_bytes()));
            b.push_row(&[v, v, v]).unwrap();
        }
        let got = csv(&b.finish().project(&[0]).unwrap(), &CsvWriteOptions::new());
        assert_eq!(
            got,
            "\"a,b\"\n\"x,y\"\n\"two\nlines\"\n\"cr\r\"\n\"\"\"\"\na;b\né ü\n spaced \n"
        );
        let df = DataFrame::from_array(&["a;b", "a,b"]);
        let got = csv(&df, &CsvWriteOptions::new().delimiter(b';'));
        assert_eq!(got, "c0\n\"a;b\"\na,b\n");
        assert!(df
            .to_csv_bytes(&CsvWriteOptions::new().delimiter(b'"'))
            .is_err());
    }

    #[test]
    fn floats_read_back_exactly() {
        let mut bits = 0x2545_f491_4f6c_dd1du64;
        let mut values = Vec::new();
        for _ in 0..5000 {
            bits ^= bits << 13;
            bits ^= bits >> 7;
            bits ^= bits << 17;
            let f = f64::from_bits(bits);
            if f.is_finite() {
                values.push(f);
            }
        }
        let df = DataFrame::from_array(&values);
        let text = csv(&df, &CsvWriteOptions::new().header(false));
        let back: Vec<u64> = text
            .lines()
            .map(|l| l.parse::<f64>().unwrap().to_bits())
            .collect();
        let want: Vec<u64> = values.iter().map(|f| f.to_bits()).collect();
        assert_eq!(back, want);
        let narrow: Vec<f32> = values
            .iter()
            .map(|&f| f as f32)
            .filter(|f| f.is_finite())
            .collect();
        let text = csv(
            &DataFrame::from_array(&narrow),
            &CsvWriteOptions::new().header(false),
        );
        let back: Vec<u32> = text
            .lines()
            .map(|l| l.parse::<f32>().unwrap().to_bits())
            .collect();
        assert_eq!(back, narrow.iter().map(|f| f.to_bits()).collect::<Vec<_>>());
    }

    #[test]
    fn empty_frames_print_the_header_only() {
        let df = DataFrame::empty(Schema::named([("x", DataType::Int)]).unwrap());
        assert_eq!(csv(&df, &CsvWriteOptions::new()), "x\n");
        assert_eq!(csv(&df, &CsvWriteOptions::new().header(false)), "");
    }
}
