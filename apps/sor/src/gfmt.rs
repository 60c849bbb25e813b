//! C's `printf("%g", x)`, for printing FLOAT values the way the course's tools did.

/// Formats `value` as C's `%g` does (precision 6): six significant digits, fixed
/// notation when the decimal exponent X satisfies -4 <= X < 6 and exponent notation
/// otherwise (`1e+10`, `-2e-09`: a sign and at least two exponent digits), with
/// trailing zeros and a trailing `.` removed. Like C, the f32 is widened to f64 first.
pub fn format_g(value: f32) -> String {
    format_g_precision(f64::from(value), 6)
}

/// `%.{precision}g` of `value` (precision 0 counts as 1, as in C).
pub fn format_g_precision(value: f64, precision: usize) -> String {
    if value.is_nan() {
        return if value.is_sign_negative() {
            "-nan"
        } else {
            "nan"
        }
        .to_string();
    }
    if value.is_infinite() {
        return if value < 0.0 { "-inf" } else { "inf" }.to_string();
    }
    let precision = precision.max(1);
    // Rust's `{:e}` with a precision rounds the exact binary value correctly (ties to
    // even, like glibc), so its exponent is the X of the C standard's rule: the exponent
    // *after* rounding to `precision` significant digits.
    let sci = format!("{:.*e}", precision - 1, value);
    let (mantissa, exp) = sci
        .split_once('e')
        .expect("Rust's {:e} output always contains an 'e'");
    let exp: i32 = exp.parse().expect("Rust's {:e} exponent is an integer");
    let p = i32::try_from(precision).unwrap_or(i32::MAX);
    if (-4..p).contains(&exp) {
        // Fixed notation with P - 1 - X decimals; X is in range, so this is >= 0.
        let decimals = usize::try_from(p - 1 - exp).unwrap_or(0);
        strip_zeros(format!("{:.*}", decimals, value))
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!(
            "{}e{sign}{:02}",
            strip_zeros(mantissa.to_string()),
            exp.unsigned_abs()
        )
    }
}

/// Drops trailing zeros after a decimal point, then the point itself if bare.
fn strip_zeros(mut text: String) -> String {
    if text.contains('.') {
        let keep = text.trim_end_matches('0').trim_end_matches('.').len();
        text.truncate(keep);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(x: f64) -> String {
        format_g_precision(x, 6)
    }

    #[test]
    fn suite_values() {
        assert_eq!(format_g(1.2), "1.2");
        assert_eq!(format_g(-0.2), "-0.2");
        assert_eq!(format_g(-2e-9), "-2e-09");
        assert_eq!(format_g(1e10), "1e+10");
        assert_eq!(format_g(0.12), "0.12");
        assert_eq!(format_g(2.2), "2.2");
    }

    #[test]
    fn exponent_thresholds() {
        assert_eq!(g(123456.0), "123456");
        assert_eq!(g(999999.0), "999999");
        assert_eq!(g(1e6), "1e+06");
        assert_eq!(g(1234567.0), "1.23457e+06");
        assert_eq!(g(0.0001), "0.0001");
        assert_eq!(g(0.000123456), "0.000123456");
        assert_eq!(g(0.00001), "1e-05");
        assert_eq!(g(0.0000123456), "1.23456e-05");
        assert_eq!(g(1e100), "1e+100");
        assert_eq!(g(1e-100), "1e-100");
        assert_eq!(g(5e-324), "4.94066e-324");
    }

    #[test]
    fn rounding_moves_the_exponent() {
        // Rounding to six digits can carry into a new digit, which decides the style.
        assert_eq!(g(999999.5), "1e+06");
        assert_eq!(g(9999995.0), "1e+07");
        assert_eq!(g(0.000099999951), "0.0001");
        assert_eq!(g(0.00009999949), "9.99995e-05");
        assert_eq!(g(1.0000005), "1");
        assert_eq!(g(1.000005), "1.00001");
        assert_eq!(g(2.5e-5), "2.5e-05");
    }

    #[test]
    fn ties_round_to_even_like_glibc() {
        assert_eq!(g(1234565.0), "1.23456e+06");
        assert_eq!(g(1234575.0), "1.23458e+06");
        assert_eq!(g(0.5), "0.5");
        assert_eq!(format_g_precision(2.5, 1), "2");
        assert_eq!(format_g_precision(3.5, 1), "4");
    }

    #[test]
    fn trailing_zero_removal() {
        assert_eq!(g(100.0), "100");
        assert_eq!(g(100000.0), "100000");
        assert_eq!(g(1.5), "1.5");
        assert_eq!(g(10.25), "10.25");
        assert_eq!(g(1.1e20), "1.1e+20");
        assert_eq!(g(0.1), "0.1");
    }

    #[test]
    fn zero_signs_and_specials() {
        assert_eq!(g(0.0), "0");
        assert_eq!(g(-0.0), "-0");
        assert_eq!(g(-1.0), "-1");
        assert_eq!(g(f64::INFINITY), "inf");
        assert_eq!(g(f64::NEG_INFINITY), "-inf");
        assert_eq!(g(f64::NAN), "nan");
    }

    #[test]
    fn f32_values_are_widened_first() {
        // 0.1f32 is 0.100000001490116..., which %g shows as 0.1; 16777217 is not an f32.
        assert_eq!(format_g(0.1), "0.1");
        assert_eq!(format_g(f32::MAX), "3.40282e+38");
        assert_eq!(format_g(16777216.0), "1.67772e+07");
        assert_eq!(format_g(f32::MIN_POSITIVE), "1.17549e-38");
    }

    #[test]
    fn other_precisions() {
        assert_eq!(format_g_precision(1234.5678, 3), "1.23e+03");
        assert_eq!(format_g_precision(0.0, 0), "0");
        assert_eq!(format_g_precision(123.0, 0), "1e+02");
        assert_eq!(format_g_precision(std::f64::consts::PI, 10), "3.141592654");
    }
}
