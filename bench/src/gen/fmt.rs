//! Appending numbers as text, without `format!`.
//!
//! The generator writes hundreds of millions of integers; going through `fmt::Write`
//! would cost more than generating them. These helpers write the digits straight into the
//! output buffer.

/// Appends the decimal digits of `v`.
#[inline]
pub fn push_u64(out: &mut Vec<u8>, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// Appends `v` with a leading `-` when negative.
#[inline]
pub fn push_i64(out: &mut Vec<u8>, v: i64) {
    if v < 0 {
        out.push(b'-');
    }
    push_u64(out, v.unsigned_abs());
}

/// Appends `<v>`, an integer SoR field.
#[inline]
pub fn push_int_field(out: &mut Vec<u8>, v: u64) {
    out.push(b'<');
    push_u64(out, v);
    out.push(b'>');
}

/// Appends `<"text">`, a quoted SoR string field; `text` must not hold `"` or a newline.
#[inline]
pub fn push_quoted_field(out: &mut Vec<u8>, text: &[u8]) {
    debug_assert!(!text.contains(&b'"') && !text.contains(&b'\n'));
    out.extend_from_slice(b"<\"");
    out.extend_from_slice(text);
    out.extend_from_slice(b"\">");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_match_std_formatting() {
        let mut out = Vec::new();
        for v in [
            0i64,
            7,
            -7,
            10,
            99,
            100,
            i32::MAX as i64,
            i32::MIN as i64,
            i64::MIN,
        ] {
            out.clear();
            push_i64(&mut out, v);
            assert_eq!(out, v.to_string().as_bytes());
        }
        out.clear();
        push_u64(&mut out, u64::MAX);
        assert_eq!(out, u64::MAX.to_string().as_bytes());
    }
}
