//! The fast path: one pass over the bytes of a line whose every field fits its column.
//!
//! The general path ([`super::field`] then [`super::literal`]) first finds the line's end,
//! then lexes each field into a [`Field`](super::field::Field), then classifies and
//! converts it. Nearly every line of a real file is plain: `<`, a value of the column's
//! type, `>`, with white space around. For those, this module reads each field straight
//! as its column's type, in the same pass that finds the line's end.
//!
//! It never decides anything the general path would decide differently: whenever a line
//! holds something unusual (a deviation, a malformed field, a field past the schema, a
//! literal it does not convert itself such as `001`, an 11-digit INT or a FLOAT it cannot
//! round exactly), [`parse_line`] gives up on the whole line and the caller reads that line
//! again with the general path. Lines are converted into a block of [`Stage`]s, one per
//! column, and only the rows before the one given up on are appended to the column
//! builders, so giving up leaves no trace. Appending a block at a time also lets the
//! builders take values in bulk and validity bits a word at a time.

use super::field::is_space;
use crate::frame::{ColumnBuilder, DataType};

/// Rows per block: the fast path stages up to this many rows of each column before
/// appending them to the column builders, one validity word at a time.
pub(crate) const BLOCK: usize = 64;

/// Up to [`BLOCK`] rows of one column, converted by the fast path and waiting to be
/// appended to the column's builder in bulk. Row `r` is present when bit `r` of `valid`
/// is set; a missing row holds the value a missing push leaves (0, false, empty).
pub(crate) struct Stage {
    valid: u64,
    values: Values,
}

/// The staged values of one column, by type.
// One stage per column lives for a whole part: the unused space of the smaller variants
// costs nothing, while boxing the arrays would add a pointer chase per value.
#[allow(clippy::large_enum_variant)]
enum Values {
    /// Bit `r` is row `r`'s BOOL.
    Bool(u64),
    Int([i32; BLOCK]),
    Float([f32; BLOCK]),
    I64([i64; BLOCK]),
    /// Row `r`'s STRING is the bytes `start..end` of the input.
    Str([(usize, usize); BLOCK]),
    /// A column the read leaves out: its fields are only scanned for their end.
    Skip,
}

impl Stage {
    /// An empty stage for a `dtype` column.
    pub(crate) fn new(dtype: DataType) -> Stage {
        let values = match dtype {
            DataType::Bool => Values::Bool(0),
            DataType::Int => Values::Int([0; BLOCK]),
            DataType::Float => Values::Float([0.0; BLOCK]),
            DataType::String => Values::Str([(0, 0); BLOCK]),
            DataType::I64 => Values::I64([0; BLOCK]),
            // Plans with F64 columns do not take the fast path (see `Plan::fast`); an
            // unused stage needs no values.
            DataType::F64 => Values::Bool(0),
        };
        Stage { valid: 0, values }
    }

    /// A stage for a column the read leaves out (a projection): its fields are only
    /// scanned for their end, never converted or checked.
    pub(crate) fn skip() -> Stage {
        Stage {
            valid: 0,
            values: Values::Skip,
        }
    }

    /// Forgets the staged rows, for a new block.
    #[inline]
    pub(crate) fn clear(&mut self) {
        self.valid = 0;
        if let Values::Bool(bits) = &mut self.values {
            *bits = 0;
        }
    }

    /// Makes row `row` missing.
    #[inline]
    fn set_missing(&mut self, row: usize) {
        match &mut self.values {
            // Clear, not set: the bits start clear and each row is written once.
            Values::Bool(_) => {}
            Values::Int(v) => v[row] = 0,
            Values::Float(v) => v[row] = 0.0,
            Values::I64(v) => v[row] = 0,
            Values::Str(v) => v[row] = (0, 0),
            Values::Skip => {}
        }
    }

    /// Appends staged rows `0..rows` (at most the builder's
    /// [`room`](ColumnBuilder::room)) to `builder`; `bytes` is the input that string
    /// rows point into.
    #[inline]
    pub(crate) fn append_to(&self, rows: usize, builder: &mut ColumnBuilder, bytes: &[u8]) {
        let chunk = builder.current();
        match &self.values {
            Values::Bool(bits) => chunk.extend_bools(*bits, self.valid, rows),
            Values::Int(v) => chunk.extend_ints(&v[..rows], self.valid),
            Values::Float(v) => chunk.extend_floats(&v[..rows], self.valid),
            Values::I64(v) => chunk.extend_i64s(&v[..rows], self.valid),
            Values::Str(v) => chunk.extend_strs(
                v[..rows].iter().map(|&(start, end)| &bytes[start..end]),
                self.valid,
            ),
            // A left-out column has no builder.
            Values::Skip => {}
        }
        builder.row_done();
    }
}

/// Converts up to `block` (at most [`BLOCK`]) lines from `start` into rows `0..` of
/// `stages`, stopping early at the end of `bytes` or at a line that needs the general
/// path. Returns how many rows were staged and where the first line not staged starts.
/// Only the first `read` stages are looked at (the columns after the last one read).
#[inline]
pub(crate) fn parse_block(
    bytes: &[u8],
    start: usize,
    stages: &mut [Stage],
    read: usize,
    block: usize,
) -> (usize, usize) {
    debug_assert!(block <= BLOCK);
    stages.iter_mut().for_each(Stage::clear);
    let rest_unread = read < stages.len();
    let mut pos = start;
    let mut staged = 0;
    while staged < block && pos < bytes.len() {
        let Some(next) = parse_line(bytes, pos, &mut stages[..read], staged, rest_unread) else {
            break;
        };
        staged += 1;
        pos = next;
    }
    (staged, pos)
}

/// Converts the line that starts at `start` in `bytes`, which ends where the range of
/// lines ends, when every field of it fits its column: stages its values as row `row`
/// of `stages` (one per column; missing for fields the line does not have) and returns
/// the offset where the next line starts. `None` when the line needs the general path;
/// row `row` of `stages` then holds nothing meaningful. With `rest_unread`, the fields
/// after the last stage (once every stage has its field) are not looked at: the line
/// is skipped to its end.
#[inline]
pub(crate) fn parse_line(
    bytes: &[u8],
    start: usize,
    stages: &mut [Stage],
    row: usize,
    rest_unread: bool,
) -> Option<usize> {
    let mut cursor = Cursor { bytes, pos: start };
    let mut filled = 0;
    for stage in stages.iter_mut() {
        if !cursor.open() {
            break;
        }
        cursor.field(stage, row)?;
        filled += 1;
    }
    // A short row: its remaining fields are missing.
    for stage in &mut stages[filled..] {
        stage.set_missing(row);
    }
    if rest_unread && filled == stages.len() {
        // A SoR line holds no `\n` inside a field, so its end is the next `\n`.
        let at = cursor.pos.min(bytes.len());
        return Some(memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |i| at + i + 1));
    }
    cursor.skip_space();
    cursor.line_end()
}

/// A position in the bytes of a range of lines.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    #[inline]
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    #[inline]
    fn skip_space(&mut self) {
        while self.peek().is_some_and(is_space) {
            self.pos += 1;
        }
    }

    /// Consumes `byte` if it comes next.
    #[inline]
    fn eat(&mut self, byte: u8) -> bool {
        let found = self.peek() == Some(byte);
        self.pos += usize::from(found);
        found
    }

    /// The end of the line, once its fields are read: a `\n`, a `\r\n`, or the end of
    /// the range (after an optional `\r`, as [`Lines`](super::range::Lines) reads it).
    /// Returns where the next line starts; `None` if anything else comes first (text
    /// outside `<...>`, a field past the schema, a lone `\r`).
    #[inline]
    fn line_end(&self) -> Option<usize> {
        let len = self.bytes.len();
        match self.peek() {
            None => Some(len),
            Some(b'\n') => Some(self.pos + 1),
            Some(b'\r') => match self.bytes.get(self.pos + 1) {
                Some(b'\n') => Some(self.pos + 2),
                None => Some(len),
                Some(_) => None,
            },
            Some(_) => None,
        }
    }

    /// The `<` opening the next field, after optional white space; false (with only
    /// white space skipped) when the line has no next field.
    #[inline]
    fn open(&mut self) -> bool {
        // Fields are nearly always one space apart, or none (the line's first field).
        match self.peek() {
            Some(b'<') => self.pos += 1,
            Some(b' ') if self.bytes.get(self.pos + 1) == Some(&b'<') => self.pos += 2,
            _ => {
                self.skip_space();
                return self.eat(b'<');
            }
        }
        true
    }

    /// The `>` closing a field, after optional white space.
    #[inline]
    fn close(&mut self) -> Option<()> {
        self.skip_space();
        self.eat(b'>').then_some(())
    }

    /// Skips a field the read leaves out, just after its `<`: past its `>`, or past a
    /// quoted string's closing quote and the `>` after it. `None` (the general path then
    /// reads the line) for anything unusual: a line end, a quote or a `<` where a plain
    /// field has none, or no closing quote on the line.
    #[inline]
    fn skip_field(&mut self) -> Option<()> {
        self.skip_space();
        if self.peek() == Some(b'"') {
            let rest = &self.bytes[self.pos + 1..];
            let close = memchr::memchr2(b'"', b'\n', rest)?;
            if rest[close] != b'"' {
                return None;
            }
            self.pos += close + 2;
            return self.close();
        }
        loop {
            match self.peek()? {
                b'>' => {
                    self.pos += 1;
                    return Some(());
                }
                b'\n' | b'"' | b'<' => return None,
                _ => self.pos += 1,
            }
        }
    }

    /// One field, just after its `<`, staged as row `row` of its column's `stage`.
    #[inline]
    fn field(&mut self, stage: &mut Stage, row: usize) -> Option<()> {
        // Each arm stages a value and says whether it is present; a missing one is
        // staged as what a missing push leaves (the BOOL bits start clear).
        let present = match &mut stage.values {
            Values::Bool(bits) => {
                let value = self.value(Self::tight_bool, Self::bool_value)?;
                *bits |= u64::from(value == Some(true)) << row;
                value.is_some()
            }
            Values::Int(v) => {
                let value = self.value(Self::tight_int, Self::int_value)?;
                v[row] = value.unwrap_or(0);
                value.is_some()
            }
            Values::Float(v) => {
                let value = self.value(Self::tight_float, Self::float_value)?;
                v[row] = value.unwrap_or(0.0);
                value.is_some()
            }
            Values::I64(v) => {
                let value = self.value(|_| None, Self::i64_value)?;
                v[row] = value.unwrap_or(0);
                value.is_some()
            }
            Values::Str(v) => {
                let value = self.value(|_| None, Self::string_value)?;
                v[row] = value.unwrap_or((0, 0));
                value.is_some()
            }
            Values::Skip => return self.skip_field(),
        };
        stage.valid |= u64::from(present) << row;
        Some(())
    }

    /// A field's value, just after its `<`: `Some(None)` for a missing one (`<>`),
    /// `None` when the field needs the general path. Most fields are written tightly,
    /// with no white space inside the brackets, and `tight` reads those a word at a time;
    /// `spaced` reads the rest byte by byte after the white space.
    #[inline]
    fn value<T>(
        &mut self,
        tight: impl FnOnce(&mut Self) -> Option<T>,
        spaced: impl FnOnce(&mut Self) -> Option<T>,
    ) -> Option<Option<T>> {
        if let Some(value) = tight(self) {
            return Some(Some(value));
        }
        self.skip_space();
        if self.eat(b'>') {
            return Some(None);
        }
        spaced(self).map(Some)
    }

    /// `0>` or `1>` right after the `<`: the BOOL, with the cursor past the `>`. `None`,
    /// the cursor unmoved, for anything else.
    #[inline]
    fn tight_bool(&mut self) -> Option<bool> {
        let value = match self.bytes.get(self.pos..self.pos + 2)? {
            b"0>" => false,
            b"1>" => true,
            _ => return None,
        };
        self.pos += 2;
        Some(value)
    }

    /// An optional sign, 1 to 10 digits and `>` right after the `<`: the INT, with the
    /// cursor past the `>`. `None`, the cursor unmoved, for anything else, and for
    /// values that do not fit an `i32` (the byte-wise reading then decides).
    #[inline]
    fn tight_int(&mut self) -> Option<i32> {
        let first = self.peek()?;
        let negative = first == b'-';
        let start = self.pos + usize::from(negative || first == b'+');
        let (magnitude, end) = tight_digits(self.bytes, start)?;
        if self.bytes.get(end) != Some(&b'>') {
            return None;
        }
        let magnitude = magnitude as i64;
        let value = i32::try_from(if negative { -magnitude } else { magnitude }).ok()?;
        self.pos = end + 1;
        Some(value)
    }

    /// An optional sign, digits, optionally `.` and more digits (at least one digit in
    /// all, at most 7 before and 7 after the point), and `>` right after the `<`: the
    /// FLOAT, when [`exact_f32`] rounds it, with the cursor past the `>`. `None`, the
    /// cursor unmoved, for anything else (exponents included).
    #[inline]
    fn tight_float(&mut self) -> Option<f32> {
        let first = self.peek()?;
        let negative = first == b'-';
        let start = self.pos + usize::from(negative || first == b'+');
        let int_word = word_at(self.bytes, start)?;
        let int_digits = leading_digits(int_word);
        if int_digits == 8 {
            return None;
        }
        let mut mantissa = some_digits_value(int_word, int_digits);
        let mut frac_digits = 0;
        let mut end = start + int_digits;
        match (int_word >> (8 * int_digits)) as u8 {
            b'>' => {}
            b'.' => {
                let frac_word = word_at(self.bytes, end + 1)?;
                frac_digits = leading_digits(frac_word);
                if frac_digits == 8 || (frac_word >> (8 * frac_digits)) as u8 != b'>' {
                    return None;
                }
                mantissa =
                    mantissa * POW10[frac_digits] + some_digits_value(frac_word, frac_digits);
                end += 1 + frac_digits;
            }
            _ => return None,
        }
        if int_digits + frac_digits == 0 {
            return None;
        }
        let magnitude = exact_f32(mantissa, -(frac_digits as i32))?;
        self.pos = end + 1;
        Some(if negative { -magnitude } else { magnitude })
    }

    /// `0` or `1`, and the closing `>`. Other BOOL spellings (`001`) are left to the
    /// general path.
    #[inline]
    fn bool_value(&mut self) -> Option<bool> {
        let value = match self.peek()? {
            b'0' => false,
            b'1' => true,
            _ => return None,
        };
        self.pos += 1;
        self.close()?;
        Some(value)
    }

    /// An optional sign, then the digits (at most 10, the length of `i32::MIN`'s), and
    /// the closing `>`; the value must fit an `i32`. Longer spellings (leading zeros) go
    /// to the general path.
    #[inline]
    fn int_value(&mut self) -> Option<i32> {
        let negative = self.peek() == Some(b'-');
        if negative || self.peek() == Some(b'+') {
            self.pos += 1;
        }
        // An eleventh digit is left where `close` fails on it.
        let (magnitude, digits) = self.digits(10);
        if digits == 0 {
            return None;
        }
        let value = if negative {
            -(magnitude as i64)
        } else {
            magnitude as i64
        };
        let value = i32::try_from(value).ok()?;
        self.close()?;
        Some(value)
    }

    /// An optional sign, then at most 18 digits (so the value fits an `i64` whatever
    /// they are), and the closing `>`. Longer spellings go to the general path.
    #[inline]
    fn i64_value(&mut self) -> Option<i64> {
        let negative = self.peek() == Some(b'-');
        if negative || self.peek() == Some(b'+') {
            self.pos += 1;
        }
        let (magnitude, digits) = self.digits(18);
        if digits == 0 {
            return None;
        }
        self.close()?;
        let magnitude = magnitude as i64;
        Some(if negative { -magnitude } else { magnitude })
    }

    /// Reads at most `max` decimal digits (`max` <= 19, so the value fits a u64): their
    /// value and how many there were. The first (up to) eight are read at once.
    #[inline]
    fn digits(&mut self, max: usize) -> (u64, usize) {
        let start = self.pos;
        let mut value = 0u64;
        if let Some(word) = self.word() {
            let n = leading_digits(word).min(max);
            if n == 0 {
                return (0, 0);
            }
            value = digits_value(word, n);
            self.pos += n;
            if n < 8 {
                return (value, n);
            }
        }
        // Past eight digits, or near the end of the range.
        while self.pos - start < max {
            let Some(d) = self
                .peek()
                .map(|b| b.wrapping_sub(b'0'))
                .filter(|&d| d <= 9)
            else {
                break;
            };
            value = value * 10 + u64::from(d);
            self.pos += 1;
        }
        (value, self.pos - start)
    }

    /// The eight bytes from the cursor as a little-endian word (the first byte lowest),
    /// when there are eight left.
    #[inline]
    fn word(&self) -> Option<u64> {
        let bytes = self.bytes.get(self.pos..self.pos + 8)?;
        Some(u64::from_le_bytes(bytes.try_into().ok()?))
    }

    /// A decimal number, `[+-]? digits* ('.' digits*)? ([eE] [+-]? digits+)?` with at least
    /// one mantissa digit, rounded to the nearest f32, and the closing `>`. Only numbers
    /// that [`exact_f32`] rounds exactly are read here; the rest go to the general path.
    #[inline]
    fn float_value(&mut self) -> Option<f32> {
        let negative = self.peek() == Some(b'-');
        if negative || self.peek() == Some(b'+') {
            self.pos += 1;
        }
        // 19 digits cannot overflow a u64. A digit past them (or past the exponent's
        // three) is left where `close` fails on it: such numbers go to the general path.
        let (int_part, int_digits) = self.digits(19);
        let mut mantissa = int_part;
        let mut frac_digits = 0;
        if self.eat(b'.') {
            let (frac, n) = self.digits(19 - int_digits);
            frac_digits = n;
            mantissa = mantissa * POW10[n] + frac;
        }
        if int_digits + frac_digits == 0 {
            return None;
        }
        let mut exponent = 0i32;
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            let negative_exp = self.peek() == Some(b'-');
            if negative_exp || self.peek() == Some(b'+') {
                self.pos += 1;
            }
            let (exp, n) = self.digits(3);
            if n == 0 {
                return None;
            }
            exponent = if negative_exp {
                -(exp as i32)
            } else {
                exp as i32
            };
        }
        let magnitude = exact_f32(mantissa, exponent - frac_digits as i32)?;
        self.close()?;
        Some(if negative { -magnitude } else { magnitude })
    }

    /// A STRING field's value, quoted or one bare word, as a range of the input, and
    /// the closing `>`.
    #[inline]
    fn string_value(&mut self) -> Option<(usize, usize)> {
        if self.eat(b'"') {
            let start = self.pos;
            let len = memchr::memchr2(b'"', b'\n', &self.bytes[start..])?;
            if self.bytes[start + len] != b'"' {
                // The quote does not close on this line.
                return None;
            }
            self.pos = start + len + 1;
            self.close()?;
            return Some((start, start + len));
        }
        // A bare word: any bytes but white space, `<` and `>`, up to the `>` (white space
        // may come only just before it).
        let start = self.pos;
        self.pos += find_word_end(&self.bytes[start..])?;
        match self.peek()? {
            b'>' | b' ' | b'\t' => {
                let end = self.pos;
                self.close()?;
                Some((start, end))
            }
            // `<` or `\n`.
            _ => None,
        }
    }
}

/// The powers of ten that fit a u64 (a table: `u64::pow` is a loop).
const POW10: [u64; 20] = {
    let mut table = [1u64; 20];
    let mut i = 1;
    while i < 20 {
        table[i] = table[i - 1] * 10;
        i += 1;
    }
    table
};

/// Powers of ten that f64 represents exactly (5^22 < 2^53).
const EXACT_POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// `mantissa * 10^exponent` rounded to the nearest f32 (ties to even), when that can be
/// had cheaply and exactly; `None` otherwise (the general path then rounds it).
///
/// With `mantissa < 2^53` and `|exponent| <= 22`, both operands are exact f64 values, so
/// one f64 multiplication or division rounds the true value `x` correctly to `d`
/// (Clinger's fast path). Rounding `d` again to f32 gives the f32 nearest to `x` unless
/// `d` is exactly halfway between two f32 values: f32 values and their midpoints are
/// f64 values, so rounding to f64 never moves `x` across one, only onto one. Those
/// halfway cases are left out. Every nonzero result lies between 1e-22 and 9e37, inside
/// f32's normal range, where "halfway" means that the 29 low bits of d's 52-bit fraction, the
/// bits that f32 drops, are exactly 1 followed by zeros.
#[inline]
pub(crate) fn exact_f32(mantissa: u64, exponent: i32) -> Option<f32> {
    if mantissa >= 1 << 53 || !(-22..=22).contains(&exponent) {
        return None;
    }
    let m = mantissa as f64;
    let d = if exponent >= 0 {
        m * EXACT_POW10[exponent as usize]
    } else {
        m / EXACT_POW10[exponent.unsigned_abs() as usize]
    };
    const DROPPED: u64 = (1 << 29) - 1;
    if d.to_bits() & DROPPED == 1 << 28 {
        return None;
    }
    Some(d as f32)
}

/// The eight bytes of `bytes` from `at` as a little-endian word, when there are eight.
#[inline]
fn word_at(bytes: &[u8], at: usize) -> Option<u64> {
    let bytes = bytes.get(at..at + 8)?;
    Some(u64::from_le_bytes(bytes.try_into().ok()?))
}

/// The value of the run of 1 to 10 digits at `bytes[start..]`, and where the run ends;
/// `None` when there is no digit there, or more than 10, or too few bytes left to read
/// them a word at a time.
#[inline]
fn tight_digits(bytes: &[u8], start: usize) -> Option<(u64, usize)> {
    let word = word_at(bytes, start)?;
    let n = leading_digits(word);
    if n == 0 {
        return None;
    }
    let value = digits_value(word, n);
    if n < 8 {
        return Some((value, start + n));
    }
    let next = word_at(bytes, start + 8)?;
    let more = leading_digits(next);
    if more > 2 {
        return None;
    }
    let value = value * POW10[more] + some_digits_value(next, more);
    Some((value, start + 8 + more))
}

/// A word's bytes that equal `byte` have their top bit set in the result, and so may
/// bytes after the first such byte (a borrow runs up from it), but no byte before it:
/// the lowest set bit is exact.
#[inline]
fn bytes_equal(word: u64, byte: u8) -> u64 {
    let x = word ^ (LANES * u64::from(byte));
    x.wrapping_sub(LANES) & !x & (LANES * 0x80)
}

/// The offset of the first byte that ends a bare word in `bytes` (`>`, white space,
/// `<` or `\n`), or `None` when there is none.
#[inline]
fn find_word_end(bytes: &[u8]) -> Option<usize> {
    let is_end = |b: u8| matches!(b, b'>' | b' ' | b'\t' | b'<' | b'\n');
    let mut at = 0;
    while let Some(word) = word_at(bytes, at) {
        let found = bytes_equal(word, b'>')
            | bytes_equal(word, b' ')
            | bytes_equal(word, b'\t')
            | bytes_equal(word, b'<')
            | bytes_equal(word, b'\n');
        if found != 0 {
            return Some(at + (found.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    bytes[at..].iter().position(|&b| is_end(b)).map(|i| at + i)
}

/// [`digits_value`], also for `n` = 0.
#[inline]
fn some_digits_value(word: u64, n: usize) -> u64 {
    if n == 0 {
        0
    } else {
        digits_value(word, n)
    }
}

/// Each byte of a word, in every lane.
const LANES: u64 = 0x0101_0101_0101_0101;

/// How many of the eight bytes of `word` (first byte lowest) are ASCII digits before
/// the first that is not.
///
/// Per byte, `b - '0'` has its top bit set when `b < '0'` or `b >= 0xB0`, and
/// `b + 0x46` when `b > '9'` (up to 0xB9), so a byte is a digit exactly when neither
/// is. Borrows and carries cross into the next higher byte, but only from a byte that is
/// not a digit, so every byte up to the first non-digit one is judged exactly.
#[inline]
fn leading_digits(word: u64) -> usize {
    let below = word.wrapping_sub(LANES * u64::from(b'0'));
    let above = word.wrapping_add(LANES * 0x46);
    let not_digit = (below | above) & (LANES * 0x80);
    (not_digit.trailing_zeros() / 8) as usize
}

/// The value of the first `n` bytes of `word` (1 <= n <= 8), which are ASCII digits,
/// the first byte being the most significant digit. The bytes after them are shifted
/// out; the digits are then combined pairwise, in three multiplications in all.
#[inline]
fn digits_value(word: u64, n: usize) -> u64 {
    debug_assert!((1..=8).contains(&n));
    // Digit values, with `8 - n` leading zeros (the lowest bytes) in place of the rest.
    let d = word.wrapping_sub(LANES * u64::from(b'0')) << (8 * (8 - n));
    // Each 16-bit lane: 10 * its low digit + its high digit, a two-digit number.
    let pairs = d.wrapping_mul(10).wrapping_add(d >> 8);
    const LOW: u64 = 0x0000_00FF_0000_00FF;
    // Two-digit numbers at 16-bit lanes 0 and 2 (and 1 and 3) of each 32-bit half,
    // combined into one 8-digit number in bits 32..64.
    const MUL_HIGH: u64 = 100 + (1_000_000 << 32);
    const MUL_LOW: u64 = 1 + (10_000 << 32);
    ((pairs & LOW)
        .wrapping_mul(MUL_HIGH)
        .wrapping_add(((pairs >> 16) & LOW).wrapping_mul(MUL_LOW)))
        >> 32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::Schema;
    use crate::sor::parse::{parse_part, Cancel, Plan};
    use proptest::prelude::*;

    /// A small deterministic generator (xorshift), so that a failing seed reproduces.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }

        fn chance(&mut self, percent: usize) -> bool {
            self.below(100) < percent
        }

        fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            items[self.below(items.len())]
        }
    }

    #[test]
    fn leading_digits_and_their_value() {
        let mut rng = Rng(0x1234_5678_9abc_def1);
        let alphabet = b"0123456789/:<> .e-\x00\xff\xb0\xb9\xba\x2f\x3a\x30\x39";
        for _ in 0..100_000 {
            let bytes: [u8; 8] = std::array::from_fn(|_| alphabet[rng.below(alphabet.len())]);
            let word = u64::from_le_bytes(bytes);
            let n = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
            assert_eq!(leading_digits(word), n, "{bytes:?}");
            for k in 1..=n {
                let want: u64 = std::str::from_utf8(&bytes[..k]).unwrap().parse().unwrap();
                assert_eq!(digits_value(word, k), want, "{bytes:?} {k}");
            }
        }
        // Every byte value right after a run of digits.
        for b in 0..=255u8 {
            let word = u64::from_le_bytes([b'7', b'3', b, b'1', b'1', b'1', b'1', b'1']);
            assert_eq!(leading_digits(word), if b.is_ascii_digit() { 8 } else { 2 });
        }
    }

    #[test]
    fn exact_f32_rounds_like_the_standard_parser() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut checked = 0;
        for round in 0..200_000 {
            let mantissa = match round % 4 {
                0 => rng.next() % 1_000_000_000,
                1 => rng.next() % (1 << 53),
                2 => rng.next() % 100_000,
                _ => (1 << 24) + rng.next() % 64,
            };
            let exponent = rng.below(45) as i32 - 22;
            let text = format!("{mantissa}e{exponent}");
            let want: f32 = text.parse().unwrap();
            if let Some(got) = exact_f32(mantissa, exponent) {
                assert_eq!(got.to_bits(), want.to_bits(), "{text}");
                checked += 1;
            }
        }
        assert!(checked > 190_000, "{checked}");
        // Halfway between two f32 values: left to the general path.
        assert_eq!(exact_f32(16_777_217, 0), None);
        assert_eq!(exact_f32(83_886_085, -1), None);
        assert_eq!(exact_f32(16_777_219, 0), None);
        assert_eq!(exact_f32(16_777_218, 0), Some(16_777_218.0));
        // Past the exact range.
        assert_eq!(exact_f32(1 << 53, 0), None);
        assert_eq!(exact_f32(1, 23), None);
        assert_eq!(exact_f32(1, -23), None);
        assert_eq!(exact_f32(0, 5), Some(0.0));
    }

    /// Every f32 halfway point between a random f32 and the next, written as the
    /// shortest decimal that reads back as that f64: the kind of literal on which
    /// rounding twice would go wrong.
    fn halfway(rng: &mut Rng) -> String {
        let x = f32::from_bits(0x3000_0000 + (rng.next() % 0x2000_0000) as u32);
        let next = f32::from_bits(x.to_bits() + 1);
        let mid = (f64::from(x) + f64::from(next)) / 2.0;
        format!("{mid}")
    }

    /// A literal for a field: with `fit` percent chance one of `dtype`'s own kind, else
    /// any kind at all, including malformed ones.
    fn literal(rng: &mut Rng, dtype: Option<DataType>, fit: usize) -> String {
        let kind = match dtype {
            Some(t) if rng.chance(fit) => t,
            _ => [
                DataType::Bool,
                DataType::Int,
                DataType::Float,
                DataType::String,
                DataType::I64,
            ][rng.below(5)],
        };
        match (kind, rng.below(10)) {
            (_, 0) if rng.chance(30) => rng
                .pick(&[
                    "1 2", "+ 1", "a<b", "\"open", "\"a\" b", "\"a\"b", "1>", "", " ", "\"\"",
                ])
                .to_string(),
            (DataType::Bool, k) if k < 8 => rng.pick(&["0", "1"]).to_string(),
            (DataType::Bool, _) => rng
                .pick(&["001", "000", "01", "10", "+1", "-1", "-0", "2", "00"])
                .to_string(),
            (DataType::Int, k) if k < 6 => (rng.next() as i32 >> rng.below(31)).to_string(),
            (DataType::Int, _) => rng
                .pick(&[
                    "2147483647",
                    "-2147483648",
                    "2147483648",
                    "-2147483649",
                    "+2147483647",
                    "4294967296",
                    "9999999999",
                    "-9999999999",
                    "99999999999",
                    "00000000001",
                    "0000000000",
                    "-0",
                    "+0",
                    "+",
                    "-",
                    "--1",
                    "+-1",
                    "1-",
                    "12345678",
                    "123456789",
                    "1234567890",
                    "0",
                    "1",
                ])
                .to_string(),
            (DataType::I64, k) if k < 5 => {
                let sign = rng.pick(&["", "", "-", "+"]);
                let digits: String = (0..rng.below(21) + 1)
                    .map(|_| char::from(b'0' + rng.below(10) as u8))
                    .collect();
                format!("{sign}{digits}")
            }
            (DataType::I64, _) => rng
                .pick(&[
                    "9223372036854775807",
                    "-9223372036854775808",
                    "9223372036854775808",
                    "999999999999999999",
                    "-999999999999999999",
                    "0000000000000000000001",
                    "5000000000",
                    "-0",
                    "+",
                    "1.5",
                ])
                .to_string(),
            (DataType::Float, k) if k < 3 => {
                let int = rng.next() % 10u64.pow(rng.below(9) as u32 + 1);
                let frac = rng.next() % 10u64.pow(rng.below(5) as u32 + 1);
                let sign = rng.pick(&["", "", "-", "+"]);
                let exp = match rng.below(4) {
                    0 => format!("e{}", rng.below(60) as i32 - 30),
                    1 => format!("E+{}", rng.below(30)),
                    _ => String::new(),
                };
                format!("{sign}{int}.{frac}{exp}")
            }
            (DataType::Float, 3) => halfway(rng),
            (DataType::Float, 4) => {
                let f = f32::from_bits(rng.next() as u32);
                if f.is_finite() {
                    format!("{f:?}")
                } else {
                    "1.5".into()
                }
            }
            (DataType::Float, 5) => {
                // Long mantissas, past 2^53 and past 19 digits.
                let digits: String = (0..rng.below(24) + 1)
                    .map(|_| char::from(b'0' + rng.below(10) as u8))
                    .collect();
                let point = rng.below(digits.len() + 1);
                format!("{}.{}", &digits[..point], &digits[point..])
            }
            (DataType::Float, _) => rng
                .pick(&[
                    ".5",
                    "-.5",
                    "1.",
                    ".",
                    "1e",
                    "1e+",
                    "e5",
                    "1.2.3",
                    "1e400",
                    "1e-400",
                    "0e999",
                    "-0.0",
                    "16777217",
                    "8388608.5",
                    "33554434",
                    "1e22",
                    "1e23",
                    "9007199254740993",
                    "1e-22",
                    "1e-0005",
                    "1E5",
                    "+.5e-3",
                    "1.5x",
                    "inf",
                    "NaN",
                    "0.000000000000000000001",
                    "3.4028236e38",
                ])
                .to_string(),
            (DataType::String, k) if k < 4 => {
                let word: String = (0..rng.below(8) + 1)
                    .map(|_| rng.pick(&["a", "b", "é", "\"", "\r", "_", "1", "€", "."]))
                    .collect();
                word
            }
            (DataType::String, _) => {
                let text: String = (0..rng.below(12))
                    .map(|_| rng.pick(&["a", " ", "<", ">", "é", "\r", "\t", "x y", "1"]))
                    .collect();
                format!("\"{text}\"")
            }
            (DataType::F64, _) => unreachable!("SoR types and I64 only"),
        }
    }

    /// Random SoR text for `types`: mostly fields that fit their columns (so that long
    /// runs take the fast path), with white space, missing fields, short and long rows,
    /// blank lines, CRLF and odd line endings, and now and then anything at all.
    fn text(rng: &mut Rng, types: &[DataType], rows: usize, fit: usize) -> Vec<u8> {
        let pad = |rng: &mut Rng| rng.pick(&["", "", "", "", " ", "  ", "\t", " \t"]);
        let mut out = String::new();
        for row in 0..rows {
            let width = match rng.below(20) {
                0 => 0,
                1 => rng.below(types.len() + 1),
                2 => types.len() + 1 + rng.below(2),
                _ => types.len(),
            };
            out.push_str(pad(rng));
            for col in 0..width {
                let field = match rng.below(30) {
                    0 => "<>".to_string(),
                    1 => format!("<{}>", pad(rng)),
                    2 if rng.chance(20) => rng.pick(&["junk", ">", "<", "<1", "\r"]).to_string(),
                    _ => {
                        let lit = literal(rng, types.get(col).copied(), fit);
                        format!("<{}{lit}{}>", pad(rng), pad(rng))
                    }
                };
                out.push_str(&field);
                out.push_str(pad(rng));
            }
            let last = row + 1 == rows;
            out.push_str(match rng.below(40) {
                0 => "\r\n",
                1 => "\r\r\n",
                2 => "\r \n",
                3 if last => "\r",
                4 if last => "",
                _ => "\n",
            });
        }
        out.into_bytes()
    }

    /// The whole result of parsing `text`, fast path on or off, as a string that tells
    /// every difference (floats print their exact value, `-0.0` included).
    fn parse_all(text: &[u8], plan: &Plan<'_>) -> String {
        format!(
            "{:?}",
            parse_part(text, 0, text.len(), plan, 0, &Cancel::new())
        )
    }

    fn check(seed: u64, codes: &str, chunk_len: usize, strict: bool, fit: usize) {
        let mut rng = Rng(seed | 1);
        let schema = Schema::from_codes(codes).unwrap();
        let types = schema.types();
        let rows = rng.below(300);
        let text = text(&mut rng, types, rows, fit);
        let build: Vec<bool> = types.iter().map(|_| !rng.chance(20)).collect();
        let plan = |fast| Plan {
            types,
            build: &build,
            chunk_len,
            strict,
            fast,
        };
        let general = parse_all(&text, &plan(false));
        let fast = parse_all(&text, &plan(true));
        assert!(
            general == fast,
            "seed {seed} schema {codes} chunk_len {chunk_len} strict {strict}\n\
             text {:?}\ngeneral {general}\nfast {fast}",
            String::from_utf8_lossy(&text)
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        /// On any input, with the fast path or without, a read gives the same columns,
        /// chunk for chunk, the same deviation count and first deviation, and in strict
        /// mode the same error.
        #[test]
        fn fast_path_equals_general_path(
            seed in any::<u64>(),
            codes in "[BIFSL]{0,6}",
            chunk_len in prop::sample::select(vec![1usize, 2, 3, 7, 63, 64, 65, 100, 1 << 16]),
            strict in prop::bool::weighted(0.2),
            fit in prop::sample::select(vec![100usize, 99, 95, 70]),
        ) {
            check(seed, &codes, chunk_len, strict, fit);
        }
    }

    #[test]
    fn fast_path_takes_plain_lines_and_leaves_the_rest() {
        let types = Schema::from_codes("BIFS").unwrap();
        let mut stages: Vec<Stage> = types.types().iter().map(|&t| Stage::new(t)).collect();
        let mut try_line = |line: &str| parse_line(line.as_bytes(), 0, &mut stages, 0, false);
        for plain in [
            "<1><2><3.5><a>",
            " < 0 >\t<-2147483648> <+.5e-3> <\"x y\"> \r\n<junk on the next line",
            "<><>< ><\"\">",
            "<1>",
            "",
            "\r",
            "<1><2><3><ab\r>",
            "<1><2><3><a\"b>\n",
            // Tight fields, read a word at a time, at their limits.
            "<1><2147483647><1234567.1234567><a>\n",
            "<0><-2147483648><-.5><a>\n",
            "<0><+7><+1.><a>\n",
            "<0><-0><-0.0><a>\n",
        ] {
            let end = plain.find('\n').map_or(plain.len(), |i| i + 1);
            assert_eq!(try_line(plain), Some(end), "{plain:?}");
        }
        for unusual in [
            "<001><2><3><a>",
            "<1><2147483648><3><a>",
            "<1><00000000001><3><a>",
            "<1><2><16777217><a>",
            "<1><2><3><a b>",
            "<1><2><3><a<b>",
            "<1><2><3><\"a\nb\">",
            "<1><2><3><a><extra>",
            "<1><2><3><a> junk",
            "<1><2><3><a>\r\r\n",
            "<1><2",
            "<1><\"2\">",
            "<2>",
            "<1><2147483648><3><a>\n",
            "<1><-2147483649><3><a>\n",
            "<1><2><1.5e><a>\n",
            "<1><2><1.5.><a>\n",
            "<1><2><+-1><a>\n",
        ] {
            assert_eq!(try_line(unusual), None, "{unusual:?}");
        }
    }
}
