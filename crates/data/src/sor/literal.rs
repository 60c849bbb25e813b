//! Classifying a bare (unquoted) field's text as a BOOL, INT, FLOAT or STRING literal,
//! and turning numeric literals into values straight from their bytes.
//!
//! Everything here works on ASCII byte slices and allocates nothing: the reader calls
//! it once per field of a file that may have hundreds of millions of fields.

use crate::frame::DataType;

/// What a bare literal is, with its value where that is cheap to have.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Literal<'a> {
    /// An unsigned integer whose value is 0 or 1 (`0`, `1`, `001`).
    Bool(bool),
    /// A signed or greater-than-one integer that fits 32 bits.
    Int(i32),
    /// A decimal number with a `.` or an exponent, or an integer too large for 32 bits.
    Float(&'a [u8]),
    /// Anything else.
    Str(&'a [u8]),
}

impl Literal<'_> {
    /// The least general column type that holds this literal.
    pub(crate) fn dtype(&self) -> DataType {
        match self {
            Literal::Bool(_) => DataType::Bool,
            Literal::Int(_) => DataType::Int,
            Literal::Float(_) => DataType::Float,
            Literal::Str(_) => DataType::String,
        }
    }
}

/// The shape of a number, as found by [`scan_number`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct NumberShape {
    /// A leading `+` or `-` was written.
    signed: bool,
    /// The literal is an integer (no `.`, no exponent).
    integral: bool,
    /// For an integral literal, its value when it fits an `i32`.
    int_value: Option<i32>,
}

/// Recognizes `[+-]? digits* ('.' digits*)? ([eE] [+-]? digits+)?` with at least one
/// mantissa digit, covering the whole slice. `None` when the text is not a number.
fn scan_number(text: &[u8]) -> Option<NumberShape> {
    let mut i = 0;
    let negative = text.first() == Some(&b'-');
    let signed = matches!(text.first(), Some(b'+' | b'-'));
    if signed {
        i = 1;
    }
    // i64 comfortably holds -2^31 and +2^31 - 1; past 2^32 we only need to know it
    // no longer fits, so saturate instead of overflowing.
    let mut magnitude: i64 = 0;
    let int_start = i;
    while let Some(&b) = text.get(i) {
        if !b.is_ascii_digit() {
            break;
        }
        magnitude = (magnitude * 10 + i64::from(b - b'0')).min(1 << 33);
        i += 1;
    }
    let mut digits = i - int_start;
    let mut integral = true;
    if text.get(i) == Some(&b'.') {
        integral = false;
        i += 1;
        let frac_start = i;
        while text.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        digits += i - frac_start;
    }
    if digits == 0 {
        return None;
    }
    if matches!(text.get(i), Some(b'e' | b'E')) {
        integral = false;
        i += 1;
        if matches!(text.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exp_start = i;
        while text.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == exp_start {
            return None;
        }
    }
    if i != text.len() {
        return None;
    }
    let int_value = if integral {
        let value = if negative { -magnitude } else { magnitude };
        i32::try_from(value).ok()
    } else {
        None
    };
    Some(NumberShape {
        signed,
        integral,
        int_value,
    })
}

/// Classifies a bare literal (non-empty, no white space) by SoR's inference rules: an
/// unsigned integer of value 0 or 1 is BOOL, another integer that fits 32 bits is INT,
/// any other number is FLOAT, the rest is STRING.
pub(crate) fn classify(text: &[u8]) -> Literal<'_> {
    match scan_number(text) {
        None => Literal::Str(text),
        Some(shape) => match shape.int_value {
            Some(v @ (0 | 1)) if !shape.signed => Literal::Bool(v == 1),
            Some(v) => Literal::Int(v),
            None => Literal::Float(text),
        },
    }
}

/// The least general column type that holds a bare literal when 64-bit columns are
/// allowed (safe loading): as [`classify`], except that an integer too large for 32
/// bits that fits 64 is I64, not FLOAT, so that it is kept exactly.
#[inline]
pub(crate) fn wide_dtype(text: &[u8]) -> DataType {
    match classify(text) {
        Literal::Float(t) if parse_i64(t).is_some() => DataType::I64,
        literal => literal.dtype(),
    }
}

/// Parses a BOOL literal: an unsigned run of digits whose value is 0 or 1.
#[inline]
pub(crate) fn parse_bool(text: &[u8]) -> Option<bool> {
    // The common spellings first; the loop only runs for leading zeros like `001`.
    match text {
        b"0" => Some(false),
        b"1" => Some(true),
        [] => None,
        _ => {
            let (last, zeros) = text.split_last()?;
            if zeros.iter().all(|&b| b == b'0') && matches!(last, b'0' | b'1') {
                Some(*last == b'1')
            } else {
                None
            }
        }
    }
}

/// Parses a literal that an INT column accepts (a BOOL or INT literal): an optional
/// sign and digits, with a value that fits 32 bits.
#[inline]
pub(crate) fn parse_int(text: &[u8]) -> Option<i32> {
    let (negative, digits) = match text.split_first()? {
        (b'-', rest) => (true, rest),
        (b'+', rest) => (false, rest),
        _ => (false, text),
    };
    if digits.is_empty() {
        return None;
    }
    let mut value: i64 = 0;
    for &b in digits {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        value = value * 10 + i64::from(d);
        if value > 1 << 31 {
            return None;
        }
    }
    i32::try_from(if negative { -value } else { value }).ok()
}

/// Parses a literal that an I64 column accepts (a BOOL, INT or integral number): an
/// optional sign and digits, with a value that fits 64 bits.
#[inline]
pub(crate) fn parse_i64(text: &[u8]) -> Option<i64> {
    if let Some(v) = parse_int(text) {
        return Some(i64::from(v));
    }
    let shape = scan_number(text)?;
    if !shape.integral {
        return None;
    }
    // The scan accepted only a sign and ASCII digits here, which `i64`'s parser takes.
    std::str::from_utf8(text).ok()?.parse::<i64>().ok()
}

/// Parses a literal that an F64 column accepts (any number) into the nearest f64.
#[inline]
pub(crate) fn parse_f64(text: &[u8]) -> Option<f64> {
    scan_number(text)?;
    // As in `parse_float`: the scan leaves only text Rust's float grammar accepts.
    std::str::from_utf8(text).ok()?.parse::<f64>().ok()
}

/// Parses a literal that a FLOAT column accepts (a BOOL, INT or FLOAT literal) into the
/// nearest f32. `None` when the text is not a number.
#[inline]
pub(crate) fn parse_float(text: &[u8]) -> Option<f32> {
    if let Some(v) = fast_float(text) {
        return Some(v);
    }
    scan_number(text)?;
    // The scan accepted only ASCII digits, signs, `.` and `e`, which is both valid
    // UTF-8 and within the grammar of Rust's (correctly rounding) float parser.
    std::str::from_utf8(text).ok()?.parse::<f32>().ok()
}

/// The exact fast path for plain decimals (no exponent, at most 19 digits): the digits
/// form an integer m and the decimal point a power of ten 10^-k, and
/// [`exact_f32`](super::fast::exact_f32) rounds m * 10^-k correctly in f64 arithmetic
/// (leaving out the rare halfway cases). `None` means "take the slow path", not
/// "invalid".
#[inline]
fn fast_float(text: &[u8]) -> Option<f32> {
    let (negative, rest) = match text.split_first()? {
        (b'-', rest) => (true, rest),
        (b'+', rest) => (false, rest),
        _ => (false, text),
    };
    let mut mantissa: u64 = 0;
    let mut digits = 0usize;
    let mut frac_digits = 0usize;
    let mut seen_dot = false;
    for &b in rest {
        match b {
            b'0'..=b'9' => {
                // 19 digits always fit a u64.
                if digits == 19 {
                    return None;
                }
                mantissa = mantissa * 10 + u64::from(b - b'0');
                digits += 1;
                if seen_dot {
                    frac_digits += 1;
                }
            }
            b'.' if !seen_dot => seen_dot = true,
            // Exponents and anything unusual go to the general parser.
            _ => return None,
        }
    }
    if digits == 0 {
        return None;
    }
    let value = super::fast::exact_f32(mantissa, -(frac_digits as i32))?;
    Some(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_by_the_inference_rules() {
        assert_eq!(classify(b"0"), Literal::Bool(false));
        assert_eq!(classify(b"1"), Literal::Bool(true));
        assert_eq!(classify(b"001"), Literal::Bool(true));
        assert_eq!(classify(b"2"), Literal::Int(2));
        assert_eq!(classify(b"+1"), Literal::Int(1));
        assert_eq!(classify(b"-0"), Literal::Int(0));
        assert_eq!(classify(b"2147483647"), Literal::Int(i32::MAX));
        assert_eq!(classify(b"-2147483648"), Literal::Int(i32::MIN));
        for float in [
            "2147483648",
            "-2147483649",
            "10000000000",
            "1.2",
            "-.2",
            ".12",
            "+2.2",
            "1.",
            "1e5",
            "1E-5",
            "-0.000000002",
            "99999999999999999999999999999",
        ] {
            assert_eq!(
                classify(float.as_bytes()).dtype(),
                DataType::Float,
                "{float}"
            );
        }
        for string in [
            "abc", ".", "+", "-", "e5", "1e", "1e+", "1.2.3", "--1", "1-", "0x10", "inf", "NaN",
            "1,5", "١",
        ] {
            assert_eq!(
                classify(string.as_bytes()).dtype(),
                DataType::String,
                "{string}"
            );
        }
    }

    #[test]
    fn parses_bools_and_ints() {
        assert_eq!(parse_bool(b"0"), Some(false));
        assert_eq!(parse_bool(b"0001"), Some(true));
        assert_eq!(parse_bool(b"2"), None);
        assert_eq!(parse_bool(b"+1"), None);
        assert_eq!(parse_bool(b"10"), None);
        assert_eq!(parse_bool(b""), None);
        assert_eq!(parse_int(b"1"), Some(1));
        assert_eq!(parse_int(b"-17"), Some(-17));
        assert_eq!(parse_int(b"+2147483647"), Some(i32::MAX));
        assert_eq!(parse_int(b"-2147483648"), Some(i32::MIN));
        assert_eq!(parse_int(b"2147483648"), None);
        assert_eq!(parse_int(b"-2147483649"), None);
        assert_eq!(parse_int(b"99999999999999999999999"), None);
        assert_eq!(parse_int(b"-"), None);
        assert_eq!(parse_int(b"1.0"), None);
        assert_eq!(parse_int(b"1a"), None);
    }

    #[test]
    fn parses_floats_exactly() {
        assert_eq!(parse_float(b"1.2"), Some(1.2));
        assert_eq!(parse_float(b"-.2"), Some(-0.2));
        assert_eq!(parse_float(b"+2.2"), Some(2.2));
        assert_eq!(parse_float(b"1"), Some(1.0));
        assert_eq!(parse_float(b"-0.000000002"), Some(-2e-9));
        assert_eq!(parse_float(b"10000000000"), Some(1e10));
        assert_eq!(parse_float(b"1e5"), Some(1e5));
        assert_eq!(parse_float(b"16777217"), Some(16777216.0));
        assert_eq!(parse_float(b"abc"), None);
        assert_eq!(parse_float(b"1e"), None);
        assert_eq!(parse_float(b"inf"), None);
        assert_eq!(parse_float(b"."), None);
        assert!(parse_float(b"-0").unwrap().is_sign_negative());
    }

    #[test]
    fn fast_path_agrees_with_the_standard_parser() {
        // A deterministic sweep over mantissas and decimal point positions: short ones,
        // around 2^24, and up to the fast path's 19 digits.
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        for round in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let mantissa = match round % 5 {
                0 => seed % 100,
                1 => seed % (1 << 24) + 1,
                2 => (1 << 24) - (seed % 3),
                3 => seed % 1_000_000_000,
                _ => seed % 10_000_000_000_000_000_000,
            };
            let digits = mantissa.to_string();
            let point = (seed >> 40) as usize % (digits.len() + 2);
            let text = if point > digits.len() {
                format!("-.{digits}")
            } else {
                format!("{}.{}", &digits[..point], &digits[point..])
            };
            let want: f32 = text.parse().unwrap();
            assert_eq!(parse_float(text.as_bytes()), Some(want), "{text}");
        }
    }
}
