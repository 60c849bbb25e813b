//! A small CSV printer for tests: the fuzz target and the property tests print frames
//! with it and read them back. (It is deliberately plain and independent of the
//! project's own `write_csv`, so that it can serve as a reference for both.)

use eau2::frame::{DataFrame, Value};

/// Prints `frame` as CSV: a header of its column names (`c{i}` for unnamed columns) when
/// `header`, then one record per row, fields separated by `delimiter`, lines ended by
/// `\n`. A missing value is an empty field; a BOOL is `0` or `1`; a FLOAT is printed in
/// Rust's shortest round-trip form (an infinity as `1e39` or `-1e39`, which read back as
/// infinities); a STRING is quoted (inner quotes doubled) when it is empty, holds the
/// delimiter, a quote, `\r` or `\n`, or begins like a byte-order mark. A NaN is `NaN`, or
/// `-NaN` when its sign bit is set (`-nan` reads as such a NaN, and the checks compare
/// floats by their bits).
pub fn to_csv(frame: &DataFrame, header: bool, delimiter: u8) -> Vec<u8> {
    let mut out = Vec::new();
    if header {
        for c in 0..frame.ncols() {
            if c > 0 {
                out.push(delimiter);
            }
            let name = frame.schema().name(c).expect("in range");
            push_text(&mut out, name.as_bytes(), delimiter);
        }
        out.push(b'\n');
    }
    for r in 0..frame.nrows() {
        for c in 0..frame.ncols() {
            if c > 0 {
                out.push(delimiter);
            }
            match frame.get(c, r).expect("in range") {
                None => {}
                Some(Value::Bool(b)) => out.push(if b { b'1' } else { b'0' }),
                Some(Value::Int(i)) => out.extend_from_slice(i.to_string().as_bytes()),
                Some(Value::Float(f)) if f.is_finite() => {
                    out.extend_from_slice(format!("{f:?}").as_bytes())
                }
                Some(Value::Float(f)) if f.is_infinite() => {
                    out.extend_from_slice(if f > 0.0 { b"1e39" } else { b"-1e39" })
                }
                Some(Value::Float(f)) => out.extend_from_slice(nan_text(f.is_sign_negative())),
                Some(Value::I64(i)) => out.extend_from_slice(i.to_string().as_bytes()),
                Some(Value::F64(f)) if f.is_finite() => {
                    out.extend_from_slice(format!("{f:?}").as_bytes())
                }
                Some(Value::F64(f)) if f.is_infinite() => {
                    out.extend_from_slice(if f > 0.0 { b"1e309" } else { b"-1e309" })
                }
                Some(Value::F64(f)) => out.extend_from_slice(nan_text(f.is_sign_negative())),
                Some(Value::Str(s)) => push_text(&mut out, s, delimiter),
            }
        }
        out.push(b'\n');
    }
    out
}

/// A NaN's text, keeping its sign bit.
fn nan_text(negative: bool) -> &'static [u8] {
    if negative {
        b"-NaN"
    } else {
        b"NaN"
    }
}

/// Pushes a text field, quoted when it must be.
fn push_text(out: &mut Vec<u8>, text: &[u8], delimiter: u8) {
    let quote = text.is_empty()
        || text.starts_with(b"\xEF")
        || text
            .iter()
            .any(|&b| b == delimiter || matches!(b, b'"' | b'\r' | b'\n'));
    if !quote {
        out.extend_from_slice(text);
        return;
    }
    out.push(b'"');
    for &b in text {
        if b == b'"' {
            out.push(b'"');
        }
        out.push(b);
    }
    out.push(b'"');
}
