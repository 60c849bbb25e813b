//! One column's values for a run of rows: the unit that is stored, shipped and visited.
//!
//! A [`Chunk`] is a typed vector plus a validity [`Bitmap`] (set = present). Missing slots
//! hold a default value (0, false, the empty string) so that the vectors stay dense.
//! A chunk encodes to one contiguous buffer with speedy; numeric vectors are copied in
//! bulk, little-endian, so encoding and decoding run at memory speed.

use speedy::{Readable, Writable};

use super::bitmap::Bitmap;
use super::types::DataType;
use crate::error::{Error, Result};

/// The values of a chunk, by type.
#[derive(Clone, Debug, PartialEq, Readable, Writable)]
#[speedy(tag_type = u8)]
pub enum ChunkData {
    /// BOOL values, one bit each.
    Bool(Bitmap),
    /// INT values.
    Int(Vec<i32>),
    /// FLOAT values.
    Float(Vec<f32>),
    /// STRING values: value `i` is `bytes[offsets[i]..offsets[i + 1]]`.
    String {
        /// `len + 1` increasing offsets into `bytes`, starting at 0.
        offsets: Vec<u64>,
        /// The concatenated bytes of every value.
        bytes: Vec<u8>,
    },
    /// I64 values (after the SoR types, so their wire tags are unchanged).
    I64(Vec<i64>),
    /// F64 values.
    F64(Vec<f64>),
}

/// One column's values for a run of consecutive rows.
#[derive(Clone, Debug, PartialEq, Readable, Writable)]
pub struct Chunk {
    valid: Bitmap,
    data: ChunkData,
}

/// A borrowed value of any type; `None` in an `Option<Value>` means missing.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value<'a> {
    /// A BOOL value.
    Bool(bool),
    /// An INT value.
    Int(i32),
    /// A FLOAT value.
    Float(f32),
    /// A STRING value (UTF-8 bytes, not validated).
    Str(&'a [u8]),
    /// An I64 value.
    I64(i64),
    /// An F64 value.
    F64(f64),
}

/// A Rust type that a column's values can be read as, by the one generic getter of
/// chunks, rows and frames (`row.get_as::<i32>("pid")?`): `bool` (BOOL), `i32` (INT),
/// `f32` (FLOAT), `i64` (I64), `f64` (F64), and `&[u8]` or `Vec<u8>` (STRING). Sealed.
pub trait FromValue<'a>: Sized + sealed_value::Sealed {
    /// The column type whose values read as `Self`.
    const DTYPE: DataType;
    /// The value as `Self`; `None` for a value of another type.
    fn from_value(value: Value<'a>) -> Option<Self>;
}

mod sealed_value {
    pub trait Sealed {}
}

macro_rules! from_value {
    ($t:ty, $dtype:ident, $variant:ident, |$v:ident| $out:expr) => {
        impl sealed_value::Sealed for $t {}
        impl<'a> FromValue<'a> for $t {
            const DTYPE: DataType = DataType::$dtype;
            #[inline]
            fn from_value(value: Value<'a>) -> Option<Self> {
                match value {
                    Value::$variant($v) => Some($out),
                    _ => None,
                }
            }
        }
    };
}
from_value!(bool, Bool, Bool, |v| v);
from_value!(i32, Int, Int, |v| v);
from_value!(f32, Float, Float, |v| v);
from_value!(i64, I64, I64, |v| v);
from_value!(f64, F64, F64, |v| v);
from_value!(Vec<u8>, String, Str, |v| v.to_vec());

impl sealed_value::Sealed for &[u8] {}
impl<'a> FromValue<'a> for &'a [u8] {
    const DTYPE: DataType = DataType::String;
    #[inline]
    fn from_value(value: Value<'a>) -> Option<Self> {
        match value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
}

impl Value<'_> {
    /// The type of this value.
    pub fn dtype(&self) -> DataType {
        match self {
            Value::Bool(_) => DataType::Bool,
            Value::Int(_) => DataType::Int,
            Value::Float(_) => DataType::Float,
            Value::Str(_) => DataType::String,
            Value::I64(_) => DataType::I64,
            Value::F64(_) => DataType::F64,
        }
    }
}

impl ChunkData {
    /// The type of the values.
    pub fn dtype(&self) -> DataType {
        match self {
            ChunkData::Bool(_) => DataType::Bool,
            ChunkData::Int(_) => DataType::Int,
            ChunkData::Float(_) => DataType::Float,
            ChunkData::String { .. } => DataType::String,
            ChunkData::I64(_) => DataType::I64,
            ChunkData::F64(_) => DataType::F64,
        }
    }
}

impl Chunk {
    /// The type of the values.
    pub fn dtype(&self) -> DataType {
        self.data.dtype()
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.valid.len()
    }

    /// True when the chunk has no rows.
    pub fn is_empty(&self) -> bool {
        self.valid.is_empty()
    }

    /// About how many bytes the chunk's values and validity occupy in memory.
    pub fn byte_size(&self) -> usize {
        let rows = self.len();
        let bits = rows.div_ceil(8);
        bits + match &self.data {
            ChunkData::Bool(_) => bits,
            ChunkData::Int(_) | ChunkData::Float(_) => rows * 4,
            ChunkData::I64(_) | ChunkData::F64(_) => rows * 8,
            ChunkData::String { offsets, bytes } => offsets.len() * 8 + bytes.len(),
        }
    }

    /// The validity bitmap: bit `i` is set when row `i` has a value.
    pub fn validity(&self) -> &Bitmap {
        &self.valid
    }

    /// The typed values (missing slots hold defaults).
    pub fn data(&self) -> &ChunkData {
        &self.data
    }

    /// How many rows are missing.
    pub fn missing_count(&self) -> usize {
        self.len() - self.valid.count_ones()
    }

    /// True when row `i` is missing. Panics when `i >= len()`.
    #[inline]
    pub fn is_missing(&self, i: usize) -> bool {
        !self.valid.get(i)
    }

    /// The value at row `i`, `None` when missing. Panics when `i >= len()`.
    #[inline]
    pub fn value(&self, i: usize) -> Option<Value<'_>> {
        if !self.valid.get(i) {
            return None;
        }
        Some(match &self.data {
            ChunkData::Bool(b) => Value::Bool(b.get(i)),
            ChunkData::Int(v) => Value::Int(v[i]),
            ChunkData::Float(v) => Value::Float(v[i]),
            ChunkData::String { offsets, bytes } => {
                Value::Str(&bytes[offsets[i] as usize..offsets[i + 1] as usize])
            }
            ChunkData::I64(v) => Value::I64(v[i]),
            ChunkData::F64(v) => Value::F64(v[i]),
        })
    }

    /// The value at row `i` as a `T` (`bool`, `i32`, `f32`, `i64`, `f64`, `&[u8]`,
    /// `Vec<u8>`); `None` when missing or when the chunk is not of `T`'s type. This is
    /// the unchecked layer under `Row` and the frames' getters, which check the column's
    /// type first and report a mismatch as an error.
    #[inline]
    pub fn get_as<'a, T: FromValue<'a>>(&'a self, i: usize) -> Option<T> {
        self.value(i).and_then(T::from_value)
    }

    /// The INT values as a slice (missing slots hold 0), or `None` for other types.
    /// The fast path for scans that check validity separately.
    pub fn ints(&self) -> Option<&[i32]> {
        match &self.data {
            ChunkData::Int(v) => Some(v),
            _ => None,
        }
    }

    /// The FLOAT values as a slice (missing slots hold 0.0), or `None` for other types.
    pub fn floats(&self) -> Option<&[f32]> {
        match &self.data {
            ChunkData::Float(v) => Some(v),
            _ => None,
        }
    }

    /// The I64 values as a slice (missing slots hold 0), or `None` for other types.
    pub fn i64s(&self) -> Option<&[i64]> {
        match &self.data {
            ChunkData::I64(v) => Some(v),
            _ => None,
        }
    }

    /// The F64 values as a slice (missing slots hold 0.0), or `None` for other types.
    pub fn f64s(&self) -> Option<&[f64]> {
        match &self.data {
            ChunkData::F64(v) => Some(v),
            _ => None,
        }
    }

    /// Encodes the chunk into one contiguous buffer.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Writing to a Vec cannot fail; an error here would be a speedy bug.
        self.write_to_vec()
            .expect("encoding a chunk into memory cannot fail")
    }

    /// Decodes a chunk from [`Chunk::to_bytes`] output, checking its invariants so that
    /// a damaged buffer is an error here rather than a panic later.
    pub fn from_bytes(bytes: &[u8]) -> Result<Chunk> {
        let chunk = Chunk::read_from_buffer(bytes)
            .map_err(|e| Error::decode(format!("column chunk: {e}")))?;
        chunk.validate()?;
        Ok(chunk)
    }

    /// A chunk of `data` with validity `valid` (bit set = present), checked like a
    /// decoded chunk: the lengths must agree and string offsets rise from 0 to the end of
    /// the bytes. Missing slots should hold the type's default (0, false, empty), as
    /// every builder leaves them. For adapters that move whole vectors in (Arrow).
    pub fn from_parts(valid: Bitmap, data: ChunkData) -> Result<Chunk> {
        let chunk = Chunk { valid, data };
        chunk.validate()?;
        Ok(chunk)
    }

    /// The chunk's validity and values, moved out (the inverse of [`Chunk::from_parts`]).
    pub fn into_parts(self) -> (Bitmap, ChunkData) {
        (self.valid, self.data)
    }

    fn validate(&self) -> Result<()> {
        let n = self.valid.len();
        let ok = self.valid.validate()
            && match &self.data {
                ChunkData::Bool(b) => b.len() == n && b.validate(),
                ChunkData::Int(v) => v.len() == n,
                ChunkData::Float(v) => v.len() == n,
                ChunkData::I64(v) => v.len() == n,
                ChunkData::F64(v) => v.len() == n,
                ChunkData::String { offsets, bytes } => {
                    offsets.len() == n + 1
                        && offsets[0] == 0
                        && offsets.windows(2).all(|w| w[0] <= w[1])
                        && offsets[n] == bytes.len() as u64
                }
            };
        if ok {
            Ok(())
        } else {
            Err(Error::decode("column chunk: inconsistent lengths"))
        }
    }
}

/// Builds one [`Chunk`] value by value.
#[derive(Clone, Debug)]
pub struct ChunkBuilder {
    valid: Bitmap,
    data: ChunkData,
}

impl ChunkBuilder {
    /// An empty builder for values of type `dtype`, with room for `capacity` rows.
    pub fn new(dtype: DataType, capacity: usize) -> ChunkBuilder {
        let data = match dtype {
            DataType::Bool => ChunkData::Bool(Bitmap::with_capacity(capacity)),
            DataType::Int => ChunkData::Int(Vec::with_capacity(capacity)),
            DataType::Float => ChunkData::Float(Vec::with_capacity(capacity)),
            DataType::I64 => ChunkData::I64(Vec::with_capacity(capacity)),
            DataType::F64 => ChunkData::F64(Vec::with_capacity(capacity)),
            DataType::String => {
                let mut offsets = Vec::with_capacity(capacity + 1);
                offsets.push(0);
                ChunkData::String {
                    offsets,
                    bytes: Vec::new(),
                }
            }
        };
        ChunkBuilder {
            valid: Bitmap::with_capacity(capacity),
            data,
        }
    }

    /// The type being built.
    pub fn dtype(&self) -> DataType {
        self.data.dtype()
    }

    /// The number of rows so far.
    pub fn len(&self) -> usize {
        self.valid.len()
    }

    /// True when no rows have been pushed.
    pub fn is_empty(&self) -> bool {
        self.valid.is_empty()
    }

    /// Appends a missing value.
    #[inline]
    pub fn push_missing(&mut self) {
        self.valid.push(false);
        match &mut self.data {
            ChunkData::Bool(b) => b.push(false),
            ChunkData::Int(v) => v.push(0),
            ChunkData::Float(v) => v.push(0.0),
            ChunkData::I64(v) => v.push(0),
            ChunkData::F64(v) => v.push(0.0),
            ChunkData::String { offsets, bytes } => offsets.push(bytes.len() as u64),
        }
    }

    /// Appends a BOOL. Panics if the builder is not BOOL (a caller bug).
    #[inline]
    pub fn push_bool(&mut self, value: bool) {
        match &mut self.data {
            ChunkData::Bool(b) => b.push(value),
            _ => panic!("push_bool on a {} chunk", self.dtype()),
        }
        self.valid.push(true);
    }

    /// Appends an INT. Panics if the builder is not INT (a caller bug).
    #[inline]
    pub fn push_int(&mut self, value: i32) {
        match &mut self.data {
            ChunkData::Int(v) => v.push(value),
            _ => panic!("push_int on a {} chunk", self.dtype()),
        }
        self.valid.push(true);
    }

    /// Appends a FLOAT. Panics if the builder is not FLOAT (a caller bug).
    #[inline]
    pub fn push_float(&mut self, value: f32) {
        match &mut self.data {
            ChunkData::Float(v) => v.push(value),
            _ => panic!("push_float on a {} chunk", self.dtype()),
        }
        self.valid.push(true);
    }

    /// Appends an I64. Panics if the builder is not I64 (a caller bug).
    #[inline]
    pub fn push_i64(&mut self, value: i64) {
        match &mut self.data {
            ChunkData::I64(v) => v.push(value),
            _ => panic!("push_i64 on a {} chunk", self.dtype()),
        }
        self.valid.push(true);
    }

    /// Appends an F64. Panics if the builder is not F64 (a caller bug).
    #[inline]
    pub fn push_f64(&mut self, value: f64) {
        match &mut self.data {
            ChunkData::F64(v) => v.push(value),
            _ => panic!("push_f64 on a {} chunk", self.dtype()),
        }
        self.valid.push(true);
    }

    /// Appends a STRING. Panics if the builder is not STRING (a caller bug).
    #[inline]
    pub fn push_str(&mut self, value: &[u8]) {
        match &mut self.data {
            ChunkData::String { offsets, bytes } => {
                bytes.extend_from_slice(value);
                offsets.push(bytes.len() as u64);
            }
            _ => panic!("push_str on a {} chunk", self.dtype()),
        }
        self.valid.push(true);
    }

    /// Appends up to 64 BOOLs at once: row `i` is bit `i` of `values`, present when bit
    /// `i` of `valid` is set (a missing row's value bit should be clear, as
    /// [`ChunkBuilder::push_missing`] leaves it). Panics if the builder is not BOOL.
    #[inline]
    pub fn extend_bools(&mut self, values: u64, valid: u64, n: usize) {
        match &mut self.data {
            ChunkData::Bool(b) => b.extend_from_word(values, n),
            _ => panic!("extend_bools on a {} chunk", self.dtype()),
        }
        self.valid.extend_from_word(valid, n);
    }

    /// Appends up to 64 INTs at once, row `i` present when bit `i` of `valid` is set (a
    /// missing row's value should be 0, as [`ChunkBuilder::push_missing`] leaves it).
    /// Panics if the builder is not INT.
    #[inline]
    pub fn extend_ints(&mut self, values: &[i32], valid: u64) {
        match &mut self.data {
            ChunkData::Int(v) => v.extend_from_slice(values),
            _ => panic!("extend_ints on a {} chunk", self.dtype()),
        }
        self.valid.extend_from_word(valid, values.len());
    }

    /// Appends up to 64 FLOATs at once, row `i` present when bit `i` of `valid` is set
    /// (a missing row's value should be 0.0, as [`ChunkBuilder::push_missing`] leaves
    /// it). Panics if the builder is not FLOAT.
    #[inline]
    pub fn extend_floats(&mut self, values: &[f32], valid: u64) {
        match &mut self.data {
            ChunkData::Float(v) => v.extend_from_slice(values),
            _ => panic!("extend_floats on a {} chunk", self.dtype()),
        }
        self.valid.extend_from_word(valid, values.len());
    }

    /// Appends up to 64 I64s at once, row `i` present when bit `i` of `valid` is set (a
    /// missing row's value should be 0, as [`ChunkBuilder::push_missing`] leaves it).
    /// Panics if the builder is not I64.
    #[inline]
    pub fn extend_i64s(&mut self, values: &[i64], valid: u64) {
        match &mut self.data {
            ChunkData::I64(v) => v.extend_from_slice(values),
            _ => panic!("extend_i64s on a {} chunk", self.dtype()),
        }
        self.valid.extend_from_word(valid, values.len());
    }

    /// Appends up to 64 F64s at once, row `i` present when bit `i` of `valid` is set (a
    /// missing row's value should be 0.0, as [`ChunkBuilder::push_missing`] leaves it).
    /// Panics if the builder is not F64.
    #[inline]
    pub fn extend_f64s(&mut self, values: &[f64], valid: u64) {
        match &mut self.data {
            ChunkData::F64(v) => v.extend_from_slice(values),
            _ => panic!("extend_f64s on a {} chunk", self.dtype()),
        }
        self.valid.extend_from_word(valid, values.len());
    }

    /// Appends up to 64 STRINGs at once, row `i` present when bit `i` of `valid` is set
    /// (a missing row's value should be empty, as [`ChunkBuilder::push_missing`] leaves
    /// it). Panics if the builder is not STRING.
    #[inline]
    pub fn extend_strs<'a>(&mut self, values: impl ExactSizeIterator<Item = &'a [u8]>, valid: u64) {
        let n = values.len();
        match &mut self.data {
            ChunkData::String { offsets, bytes } => {
                offsets.reserve(n);
                for value in values {
                    bytes.extend_from_slice(value);
                    offsets.push(bytes.len() as u64);
                }
            }
            _ => panic!("extend_strs on a {} chunk", self.dtype()),
        }
        self.valid.extend_from_word(valid, n);
    }

    /// Appends every row of `chunk` (of the builder's type) in bulk: a copy of its
    /// vectors, not a value at a time. Panics if the types differ (a caller bug).
    pub fn extend_from_chunk(&mut self, chunk: &Chunk) {
        match (&mut self.data, &chunk.data) {
            (ChunkData::Bool(b), ChunkData::Bool(v)) => b.extend_from_bitmap(v),
            (ChunkData::Int(b), ChunkData::Int(v)) => b.extend_from_slice(v),
            (ChunkData::Float(b), ChunkData::Float(v)) => b.extend_from_slice(v),
            (ChunkData::I64(b), ChunkData::I64(v)) => b.extend_from_slice(v),
            (ChunkData::F64(b), ChunkData::F64(v)) => b.extend_from_slice(v),
            (
                ChunkData::String { offsets, bytes },
                ChunkData::String {
                    offsets: from_offsets,
                    bytes: from_bytes,
                },
            ) => {
                let base = bytes.len() as u64;
                bytes.extend_from_slice(from_bytes);
                offsets.extend(from_offsets[1..].iter().map(|o| base + o));
            }
            (_, other) => panic!(
                "extend_from_chunk: a {} chunk into a {} builder",
                other.dtype(),
                self.dtype()
            ),
        }
        self.valid.extend_from_bitmap(&chunk.valid);
    }

    /// Appends a value, or a missing value for `None`. A value of another type than the
    /// builder's is an error.
    pub fn push_value(&mut self, value: Option<Value<'_>>) -> Result<()> {
        match value {
            None => self.push_missing(),
            Some(v) if v.dtype() != self.dtype() => {
                return Err(Error::Schema(format!(
                    "cannot store a {} value in a {} column",
                    v.dtype(),
                    self.dtype()
                )))
            }
            Some(Value::Bool(b)) => self.push_bool(b),
            Some(Value::Int(i)) => self.push_int(i),
            Some(Value::Float(f)) => self.push_float(f),
            Some(Value::Str(s)) => self.push_str(s),
            Some(Value::I64(i)) => self.push_i64(i),
            Some(Value::F64(f)) => self.push_f64(f),
        }
        Ok(())
    }

    /// Finishes the chunk.
    pub fn finish(self) -> Chunk {
        Chunk {
            valid: self.valid,
            data: self.data,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(dtype: DataType) -> Chunk {
        let mut b = ChunkBuilder::new(dtype, 4);
        for i in 0..5 {
            if i == 2 {
                b.push_missing();
                continue;
            }
            match dtype {
                DataType::Bool => b.push_bool(i % 2 == 0),
                DataType::Int => b.push_int(i * -7),
                DataType::Float => b.push_float(i as f32 / 3.0),
                DataType::String => b.push_str(format!("é{i}").as_bytes()),
                DataType::I64 => b.push_i64(i64::from(i) * -(1 << 40)),
                DataType::F64 => b.push_f64(f64::from(i) / 3.0 + 1e300),
            }
        }
        b.finish()
    }

    #[test]
    fn round_trips_through_bytes() {
        for dtype in DataType::ALL {
            let chunk = sample(dtype);
            assert_eq!(chunk.len(), 5);
            assert_eq!(chunk.missing_count(), 1);
            assert!(chunk.is_missing(2));
            let back = Chunk::from_bytes(&chunk.to_bytes()).unwrap();
            assert_eq!(back, chunk);
        }
    }

    #[test]
    fn extend_from_chunk_equals_value_pushes() {
        for dtype in DataType::ALL {
            let chunk = sample(dtype);
            let mut bulk = ChunkBuilder::new(dtype, 0);
            let mut one_by_one = ChunkBuilder::new(dtype, 0);
            // 13 copies put the second and later ones at every offset in a bitmap word.
            for _ in 0..13 {
                bulk.extend_from_chunk(&chunk);
                for i in 0..chunk.len() {
                    one_by_one.push_value(chunk.value(i)).unwrap();
                }
            }
            assert_eq!(bulk.finish(), one_by_one.finish(), "{dtype}");
        }
    }

    #[test]
    fn typed_getters() {
        let s = sample(DataType::String);
        assert_eq!(s.get_as::<&[u8]>(3), Some("é3".as_bytes()));
        assert_eq!(s.get_as::<&[u8]>(2), None);
        assert_eq!(s.get_as::<i32>(3), None);
        let i = sample(DataType::Int);
        assert_eq!(i.get_as::<i32>(4), Some(-28));
        assert_eq!(i.value(1), Some(Value::Int(-7)));
        assert_eq!(i.ints().unwrap().len(), 5);
        let l = sample(DataType::I64);
        assert_eq!(l.get_as::<i64>(4), Some(-4 << 40));
        assert_eq!(l.value(1), Some(Value::I64(-(1 << 40))));
        assert_eq!(l.get_as::<i32>(4), None);
        assert_eq!(l.i64s().unwrap()[2], 0); // missing
        let d = sample(DataType::F64);
        assert_eq!(d.get_as::<f64>(3), Some(1.0 + 1e300));
        assert_eq!(d.value(2), None);
        assert_eq!(d.f64s().unwrap().len(), 5);
        assert_eq!(d.byte_size(), 1 + 5 * 8);
    }

    #[test]
    fn wide_numbers_encode_in_bulk_little_endian() {
        // The values follow the header as one little-endian block, 8 bytes each.
        let mut b = ChunkBuilder::new(DataType::I64, 3);
        for v in [1i64, -2, i64::MAX] {
            b.push_i64(v);
        }
        let bytes = b.finish().to_bytes();
        let want: Vec<u8> = [1i64, -2, i64::MAX]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        assert!(bytes.windows(24).any(|w| w == want), "{bytes:?}");
        let mut b = ChunkBuilder::new(DataType::F64, 2);
        b.push_f64(f64::MIN_POSITIVE);
        b.push_f64(-0.0);
        let chunk = b.finish();
        let back = Chunk::from_bytes(&chunk.to_bytes()).unwrap();
        assert_eq!(
            back.get_as::<f64>(1).map(f64::to_bits),
            Some((-0.0f64).to_bits())
        );
        assert_eq!(back, chunk);
    }

    #[test]
    fn damaged_bytes_are_errors() {
        let bytes = sample(DataType::String).to_bytes();
        for cut in 0..bytes.len() {
            assert!(Chunk::from_bytes(&bytes[..cut]).is_err());
        }
        let mut flipped = bytes.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 0xff;
        // Either a clean decode of other bytes or an error, never a panic.
        let _ = Chunk::from_bytes(&flipped);
    }

    #[test]
    fn bulk_extends_equal_pushes() {
        // Rows 0..70 in blocks of 1, 5, 64: present unless a multiple of 3.
        let present = |i: usize| i % 3 != 0;
        for dtype in [
            DataType::Bool,
            DataType::Int,
            DataType::Float,
            DataType::String,
        ] {
            let mut pushed = ChunkBuilder::new(dtype, 4);
            let mut bulk = ChunkBuilder::new(dtype, 4);
            let texts: Vec<String> = (0..70).map(|i| format!("s{i}")).collect();
            for (i, text) in texts.iter().enumerate() {
                if !present(i) {
                    pushed.push_missing();
                    continue;
                }
                match dtype {
                    DataType::Bool => pushed.push_bool(i % 2 == 1),
                    DataType::Int => pushed.push_int(i as i32 - 35),
                    DataType::Float => pushed.push_float(i as f32 / 4.0),
                    DataType::String => pushed.push_str(text.as_bytes()),
                    DataType::I64 | DataType::F64 => unreachable!("no bulk extends"),
                }
            }
            let mut at = 0;
            for n in [1, 5, 64] {
                let rows = at..at + n;
                let valid = rows
                    .clone()
                    .enumerate()
                    .fold(0u64, |w, (b, i)| w | u64::from(present(i)) << b);
                match dtype {
                    DataType::Bool => {
                        let values = rows.clone().enumerate().fold(0u64, |w, (b, i)| {
                            w | u64::from(present(i) && i % 2 == 1) << b
                        });
                        bulk.extend_bools(values, valid, n);
                    }
                    DataType::Int => {
                        let v: Vec<i32> = rows
                            .map(|i| if present(i) { i as i32 - 35 } else { 0 })
                            .collect();
                        bulk.extend_ints(&v, valid);
                    }
                    DataType::Float => {
                        let v: Vec<f32> = rows
                            .map(|i| if present(i) { i as f32 / 4.0 } else { 0.0 })
                            .collect();
                        bulk.extend_floats(&v, valid);
                    }
                    DataType::String => {
                        let v: Vec<&[u8]> = rows
                            .map(|i| if present(i) { texts[i].as_bytes() } else { b"" })
                            .collect();
                        bulk.extend_strs(v.into_iter(), valid);
                    }
                    DataType::I64 | DataType::F64 => unreachable!("no bulk extends"),
                }
                at += n;
            }
            assert_eq!(bulk.finish(), pushed.finish(), "{dtype}");
        }
    }

    #[test]
    fn push_value_checks_type() {
        let mut b = ChunkBuilder::new(DataType::Int, 1);
        assert!(b.push_value(Some(Value::Float(1.0))).is_err());
        b.push_value(Some(Value::Int(3))).unwrap();
        b.push_value(None).unwrap();
        assert_eq!(b.finish().missing_count(), 1);
    }
}
