//! The one place where CSV text meets column types: which type a field's text asks for
//! during inference, and how a field's text becomes a value of its column's type.
//!
//! Literals are classified by SoR's rules (`sor::literal`), widened to the 64-bit types as
//! polars does: an unsigned 0 or 1 (or `true`/`false`) is BOOL, another integer that fits
//! 64 bits I64, any other number (or `NaN`, `inf`) F64, the rest STRING. A schema given by the user may also ask for SoR's
//! 32-bit INT and FLOAT.

use crate::frame::{ColumnBuilder, DataType};
use crate::sor::literal::{
    classify, parse_bool, parse_f64, parse_float, parse_i64, parse_int, Literal,
};

/// The column type a value's text asks for. A quoted text is classified like a bare one
/// (quotes are CSV syntax, not a type), except that a quoted empty text is a STRING.
#[inline]
pub(crate) fn value_type(text: &[u8]) -> DataType {
    if text.is_empty() {
        return DataType::String;
    }
    if word_bool(text).is_some() {
        return DataType::Bool;
    }
    if special_float(text).is_some() {
        return DataType::F64;
    }
    numeric_type(classify(text))
}

/// `true` or `false` in any case: what `write_csv` (and polars) print for a BOOL, read
/// back as one. SoR's `0` and `1` are BOOL too.
fn word_bool(text: &[u8]) -> Option<bool> {
    if text.eq_ignore_ascii_case(b"true") {
        Some(true)
    } else if text.eq_ignore_ascii_case(b"false") {
        Some(false)
    } else {
        None
    }
}

/// A NaN or an infinity as `write_csv` and polars print them (`NaN`, `inf`, `-inf`; any
/// case, `infinity` too), which SoR's number grammar has no literal for.
fn special_float(text: &[u8]) -> Option<f64> {
    let unsigned = match text.first()? {
        b'+' | b'-' => &text[1..],
        _ => text,
    };
    let special = [&b"nan"[..], b"inf", b"infinity"]
        .iter()
        .any(|w| unsigned.eq_ignore_ascii_case(w));
    // Rust's float parser takes exactly these spellings.
    special.then(|| std::str::from_utf8(text).ok()?.parse().ok())?
}

fn csv_bool(text: &[u8]) -> Option<bool> {
    parse_bool(text).or_else(|| word_bool(text))
}

fn csv_f64(text: &[u8]) -> Option<f64> {
    parse_f64(text).or_else(|| special_float(text))
}

fn csv_f32(text: &[u8]) -> Option<f32> {
    parse_float(text).or_else(|| special_float(text).map(|v| v as f32))
}

/// The column type for a classified literal: integers stay integers up to 64 bits.
#[inline]
fn numeric_type(literal: Literal<'_>) -> DataType {
    match literal {
        Literal::Bool(_) => DataType::Bool,
        Literal::Int(_) => DataType::I64,
        Literal::Float(text) if parse_i64(text).is_some() => DataType::I64,
        Literal::Float(_) => DataType::F64,
        Literal::Str(_) => DataType::String,
    }
}

/// The type of a column none of whose sampled values says anything: STRING, which takes
/// whatever the rest of the file holds.
pub(crate) const UNTYPED: DataType = DataType::String;

/// A column being read: its type and its builder, or no builder for a column that a
/// projection leaves out (its fields are then never decoded nor checked).
pub(crate) struct Slot {
    pub dtype: DataType,
    pub builder: Option<ColumnBuilder>,
}

impl Slot {
    /// Pushes a missing value.
    #[inline]
    pub(crate) fn push_missing(&mut self) {
        if let Some(builder) = &mut self.builder {
            builder.current().push_missing();
            builder.row_done();
        }
    }

    /// Converts `text` to the column's type and pushes it; on failure pushes nothing and
    /// returns the type the text would need.
    #[inline]
    pub(crate) fn push(&mut self, text: &[u8]) -> Result<(), DataType> {
        let Some(builder) = &mut self.builder else {
            return self.check(text);
        };
        let current = builder.current();
        match self.dtype {
            DataType::Bool => current.push_bool(csv_bool(text).ok_or_else(|| value_type(text))?),
            DataType::Int => current.push_int(parse_int(text).ok_or_else(|| value_type(text))?),
            DataType::Float => current.push_float(csv_f32(text).ok_or_else(|| value_type(text))?),
            DataType::I64 => current.push_i64(parse_i64(text).ok_or_else(|| value_type(text))?),
            DataType::F64 => current.push_f64(csv_f64(text).ok_or_else(|| value_type(text))?),
            DataType::String => current.push_str(text),
        }
        builder.row_done();
        Ok(())
    }

    /// Whether `text` converts to the column's type, as [`Slot::push`] would convert it,
    /// without storing it.
    #[inline]
    fn check(&self, text: &[u8]) -> Result<(), DataType> {
        let fits = match self.dtype {
            DataType::Bool => csv_bool(text).is_some(),
            DataType::Int => parse_int(text).is_some(),
            DataType::Float => csv_f32(text).is_some(),
            DataType::I64 => parse_i64(text).is_some(),
            DataType::F64 => csv_f64(text).is_some(),
            DataType::String => true,
        };
        if fits {
            Ok(())
        } else {
            Err(value_type(text))
        }
    }
}
