//! Printing rows as SoR text that reads back to the same values. The format is
//! documented on [`crate::frame::DataFrame::write_sor`], the one place users see it.

use std::io::Write;
use std::sync::Arc;

use super::chunk::{Chunk, ChunkData};
use crate::error::{Error, Result};

/// Checks that SoR can express every value of one row chunk (`chunks`, one per column,
/// whose first row is global row `first_row`); the error names the first value, in row
/// order, that it cannot.
pub(crate) fn check_sor(chunks: &[Arc<Chunk>], first_row: u64) -> Result<()> {
    // The first bad (offset, column, reason) in this row chunk.
    let mut first: Option<(usize, usize, String)> = None;
    for (col, chunk) in chunks.iter().enumerate() {
        if let Some((offset, reason)) = first_unwritable(chunk) {
            let earlier = match &first {
                None => true,
                Some((best, _, _)) => offset < *best,
            };
            if earlier {
                first = Some((offset, col, reason));
            }
        }
    }
    match first {
        Some((offset, col, reason)) => {
            let row = first_row + offset as u64;
            Err(Error::Schema(format!(
                "cannot write row {row}, column {col} as SoR: {reason}"
            )))
        }
        None => Ok(()),
    }
}

/// The first row of `chunk` whose value SoR cannot express, and why.
fn first_unwritable(chunk: &Chunk) -> Option<(usize, String)> {
    match chunk.data() {
        ChunkData::Float(v) => {
            let valid = chunk.validity();
            let i = (0..v.len()).find(|&i| valid.get(i) && !v[i].is_finite())?;
            Some((i, format!("the float {} is not finite", v[i])))
        }
        ChunkData::F64(v) => {
            let valid = chunk.validity();
            let i = (0..v.len()).find(|&i| valid.get(i) && !v[i].is_finite())?;
            Some((i, format!("the float {} is not finite", v[i])))
        }
        ChunkData::String { offsets, bytes } => {
            // One vectorized scan of all the chunk's bytes; missing values hold no bytes,
            // so a hit always lies inside a present string.
            let at = memchr::memchr3(b'"', b'\n', b'\r', bytes)?;
            let row = offsets.partition_point(|&o| o <= at as u64) - 1;
            let what = match bytes[at] {
                b'"' => "a double quote",
                b'\n' => "a line feed",
                _ => "a carriage return",
            };
            Some((row, format!("the string contains {what}")))
        }
        ChunkData::Bool(_) | ChunkData::Int(_) | ChunkData::I64(_) => None,
    }
}

/// Appends row `offset` of `chunks` (one per column) and its line end to `buf`, as SoR.
pub(crate) fn write_sor_row(buf: &mut Vec<u8>, chunks: &[Arc<Chunk>], offset: usize) {
    for (col, chunk) in chunks.iter().enumerate() {
        if col > 0 {
            buf.push(b' ');
        }
        buf.push(b'<');
        if !chunk.is_missing(offset) {
            write_value(buf, chunk.data(), offset);
        }
        buf.push(b'>');
    }
    buf.push(b'\n');
}

/// Appends the present value at `offset` of `data`, without brackets.
fn write_value(buf: &mut Vec<u8>, data: &ChunkData, offset: usize) {
    match data {
        ChunkData::Bool(b) => buf.push(if b.get(offset) { b'1' } else { b'0' }),
        // A bare 0 or 1 would be inferred as BOOL.
        ChunkData::Int(v) => match v[offset] {
            0 => buf.extend_from_slice(b"+0"),
            1 => buf.extend_from_slice(b"+1"),
            n => write_int(buf, n.into()),
        },
        ChunkData::I64(v) => match v[offset] {
            0 => buf.extend_from_slice(b"+0"),
            1 => buf.extend_from_slice(b"+1"),
            n => write_int(buf, n),
        },
        ChunkData::F64(v) => {
            // As for FLOAT: shortest round-trip text, with a `.` or an exponent.
            write!(buf, "{:?}", v[offset]).expect("writing to a Vec cannot fail");
        }
        ChunkData::Float(v) => {
            // `{:?}` is Rust's shortest text that parses back to the same f32, and it
            // always has a `.` or an exponent (`1.0`, `1e20`, `2.5e-9`); values were
            // checked to be finite.
            let start = buf.len();
            write!(buf, "{:?}", v[offset]).expect("writing to a Vec cannot fail");
            debug_assert!(buf[start..].iter().any(|&c| c == b'.' || c == b'e'));
        }
        ChunkData::String { offsets, bytes } => {
            buf.push(b'"');
            buf.extend_from_slice(&bytes[offsets[offset] as usize..offsets[offset + 1] as usize]);
            buf.push(b'"');
        }
    }
}

/// Appends `n` in decimal; cheaper than the formatting machinery for the most common
/// value type. Shared with the CSV printer.
pub(crate) fn write_int(buf: &mut Vec<u8>, n: i64) {
    let mut digits = [0u8; 20];
    let mut len = 0;
    // unsigned_abs handles i64::MIN.
    let mut rest = n.unsigned_abs();
    loop {
        digits[len] = b'0' + (rest % 10) as u8;
        len += 1;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    if n < 0 {
        buf.push(b'-');
    }
    buf.extend(digits[..len].iter().rev());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{DataFrame, FrameBuilder, Schema, Value};
    use std::io;

    fn text<T: crate::frame::Element>(values: &[T]) -> String {
        DataFrame::from_array_chunked(values, 2)
            .to_sor_string()
            .unwrap()
    }

    #[test]
    fn prints_each_type() {
        assert_eq!(text(&[Some(true), Some(false), None]), "<1>\n<0>\n<>\n");
        assert_eq!(
            text(&[Some(0), Some(1), Some(2), Some(-1), Some(-0), None]),
            "<+0>\n<+1>\n<2>\n<-1>\n<+0>\n<>\n"
        );
        assert_eq!(
            text(&[i32::MIN, i32::MAX, 10, -10]),
            "<-2147483648>\n<2147483647>\n<10>\n<-10>\n"
        );
        assert_eq!(
            text(&[1.0f32, 1.5, -0.0, 0.1, 2.5e-9, 1e20, 1e16, 16777216.0, -3.25e-5]),
            "<1.0>\n<1.5>\n<-0.0>\n<0.1>\n<2.5e-9>\n<1e20>\n<1e16>\n<16777216.0>\n<-3.25e-5>\n"
        );
        assert_eq!(
            text(&[f32::MAX, f32::MIN_POSITIVE, 1e-45]),
            "<3.4028235e38>\n<1.1754944e-38>\n<1e-45>\n"
        );
        assert_eq!(text(&[None::<f32>]), "<>\n");
        assert_eq!(
            text(&[
                Some("a b"),
                Some(""),
                Some("<>"),
                Some("x\ty"),
                Some("é"),
                None
            ]),
            "<\"a b\">\n<\"\">\n<\"<>\">\n<\"x\ty\">\n<\"é\">\n<>\n"
        );
    }

    #[test]
    fn prints_rows_of_mixed_columns() {
        let mut b = FrameBuilder::new(Schema::from_codes("IFSB").unwrap(), 2);
        b.push_row(&[
            Some(Value::Int(1)),
            Some(Value::Float(1.5)),
            Some(Value::Str(b"a b")),
            None,
        ])
        .unwrap();
        b.push_row(&[None, None, None, Some(Value::Bool(true))])
            .unwrap();
        b.push_row(&[
            Some(Value::Int(42)),
            Some(Value::Float(-2.0)),
            Some(Value::Str(b"")),
            Some(Value::Bool(false)),
        ])
        .unwrap();
        let df = b.finish();
        assert_eq!(
            df.to_sor_string().unwrap(),
            "<+1> <1.5> <\"a b\"> <>\n<> <> <> <1>\n<42> <-2.0> <\"\"> <0>\n"
        );
        assert_eq!(
            df.to_sor_bytes().unwrap(),
            df.to_sor_string().unwrap().as_bytes()
        );
        let mut out = Vec::new();
        df.write_sor(&mut out).unwrap();
        assert_eq!(out, df.to_sor_bytes().unwrap());
    }

    #[test]
    fn prints_wide_numbers_as_numbers() {
        assert_eq!(
            text(&[
                Some(0i64),
                Some(1),
                Some(-1),
                Some(i64::MIN),
                Some(i64::MAX),
                None
            ]),
            "<+0>\n<+1>\n<-1>\n<-9223372036854775808>\n<9223372036854775807>\n<>\n"
        );
        assert_eq!(
            text(&[Some(0.1f64), Some(1.0), Some(1e300), None]),
            "<0.1>\n<1.0>\n<1e300>\n<>\n"
        );
        let df = DataFrame::from_array(&[1.0f64, f64::NAN]);
        assert!(error_of(&df).contains("row 1, column 0"));
    }

    #[test]
    fn empty_frames_print_nothing() {
        let df = DataFrame::empty(Schema::from_codes("IS").unwrap());
        assert_eq!(df.to_sor_string().unwrap(), "");
    }

    #[test]
    fn strings_are_bytes() {
        let df = DataFrame::from_array(&[&b"\xff\xfe"[..]]);
        assert_eq!(df.to_sor_bytes().unwrap(), b"<\"\xff\xfe\">\n");
        assert!(matches!(df.to_sor_string(), Err(Error::Decode(_))));
    }

    #[test]
    fn floats_round_trip_exactly() {
        // Every printed float parses back to the same bits, over a spread of bit
        // patterns (all exponents, many mantissas).
        let mut bits = 0x9e37_79b9u32;
        for _ in 0..20_000 {
            bits = bits.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let f = f32::from_bits(bits);
            if !f.is_finite() {
                continue;
            }
            let line = text(&[f]);
            let body = &line[1..line.len() - 2];
            assert!(body.contains('.') || body.contains('e'), "{body}");
            assert_eq!(
                body.parse::<f32>().unwrap().to_bits(),
                f.to_bits(),
                "{body}"
            );
        }
    }

    fn error_of(df: &DataFrame) -> String {
        let mut out = Vec::new();
        let err = df.write_sor(&mut out).unwrap_err();
        // Nothing was written before the error was found.
        assert!(out.is_empty());
        assert!(matches!(err, Error::Schema(_)));
        err.to_string()
    }

    #[test]
    fn unwritable_values_are_errors_naming_row_and_column() {
        for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            let df = DataFrame::from_array_chunked(&[Some(1.0f32), None, Some(bad)], 2);
            let msg = error_of(&df);
            assert!(msg.contains("row 2, column 0"), "{msg}");
            assert!(msg.contains("not finite"), "{msg}");
        }
        for (s, what) in [
            ("say \"hi\"", "double quote"),
            ("two\nlines", "line feed"),
            ("cr\r", "carriage return"),
        ] {
            let df = DataFrame::from_array_chunked(&[Some("ok"), None, Some("fine"), Some(s)], 2);
            let msg = error_of(&df);
            assert!(msg.contains("row 3, column 0"), "{msg}");
            assert!(msg.contains(what), "{msg}");
        }
    }

    #[test]
    fn the_first_unwritable_value_in_row_order_is_reported() {
        let mut b = FrameBuilder::new(Schema::from_codes("SF").unwrap(), 4);
        b.push_row(&[Some(Value::Str(b"a")), Some(Value::Float(1.0))])
            .unwrap();
        b.push_row(&[Some(Value::Str(b"b")), Some(Value::Float(f32::NAN))])
            .unwrap();
        b.push_row(&[Some(Value::Str(b"\"")), Some(Value::Float(f32::NAN))])
            .unwrap();
        let msg = error_of(&b.finish());
        assert!(msg.contains("row 1, column 1"), "{msg}");
    }

    #[test]
    fn large_frames_flush_in_pieces() {
        let values: Vec<i32> = (0..50_000).collect();
        let df = DataFrame::from_array_chunked(&values, 4096);
        let text = df.to_sor_string().unwrap();
        assert_eq!(text.lines().count(), 50_000);
        assert!(text.starts_with("<+0>\n<+1>\n<2>\n"));
        assert!(text.ends_with("<49999>\n"));
    }

    #[test]
    fn io_errors_are_reported() {
        struct Broken;
        impl Write for Broken {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::other("disk on fire"))
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let err = DataFrame::from_scalar(3).write_sor(Broken).unwrap_err();
        assert!(matches!(err, Error::Io { .. }));
        assert!(err.to_string().contains("disk on fire"));
    }
}
