//! Building frames: from an array or a scalar of [`Element`]s, row by row with a
//! [`FrameBuilder`], or from a [`Writer`] visitor.
//!
//! Every builder cuts the columns into chunks of one length at the same rows, which is
//! the layout a [`DataFrame`] requires.

use super::chunk::{ChunkBuilder, Value};
use super::column::{ColumnBuilder, DEFAULT_CHUNK_LEN};
use super::dataframe::DataFrame;
use super::types::{DataType, Schema};
use super::visitor::{RowWriter, Writer};
use crate::error::{Error, Result};

mod sealed {
    /// Keeps [`Element`](super::Element) closed: `DataFrame::from_array` relies on every
    /// element giving a value of its own `DTYPE`, which only our impls promise.
    pub trait Sealed {}
}

/// A Rust value that can be stored in a frame: `bool` (BOOL), `i32` (INT), `f32`
/// (FLOAT), `i64` (I64), `f64` (F64), `&str`, `String`, `&[u8]` and `Vec<u8>` (STRING),
/// and `Option<T>` of any of these, where `None` is a missing value.
///
/// An unsuffixed literal takes Rust's default type: `from_array(&[1, 2])` is INT (`i32`)
/// but `from_array(&[0.5])` is F64 (`f64`); write `0.5f32` for FLOAT.
///
/// The trait is sealed: its impls are exactly these.
pub trait Element: sealed::Sealed {
    /// The column type of this element.
    const DTYPE: DataType;

    /// The element as a [`Value`]; `None` when missing.
    fn value(&self) -> Option<Value<'_>>;

    /// Appends the element to a chunk being built; an error when the builder is not of
    /// type [`Element::DTYPE`].
    fn push_to(&self, builder: &mut ChunkBuilder) -> Result<()> {
        builder.push_value(self.value())
    }

    /// Appends the element to a column being built; an error when the builder is not of
    /// type [`Element::DTYPE`].
    fn push_to_column(&self, builder: &mut ColumnBuilder) -> Result<()> {
        builder.push(self.value())
    }
}

macro_rules! element {
    ($ty:ty, $dtype:ident, |$v:ident| $value:expr) => {
        impl sealed::Sealed for $ty {}
        impl Element for $ty {
            const DTYPE: DataType = DataType::$dtype;
            #[inline]
            fn value(&self) -> Option<Value<'_>> {
                let $v = self;
                Some($value)
            }
        }
    };
}

element!(bool, Bool, |v| Value::Bool(*v));
element!(i32, Int, |v| Value::Int(*v));
element!(f32, Float, |v| Value::Float(*v));
element!(i64, I64, |v| Value::I64(*v));
element!(f64, F64, |v| Value::F64(*v));
element!(&str, String, |v| Value::Str(v.as_bytes()));
element!(String, String, |v| Value::Str(v.as_bytes()));
element!(&[u8], String, |v| Value::Str(v));
element!(Vec<u8>, String, |v| Value::Str(v));

impl<T: Element> sealed::Sealed for Option<T> {}
impl<T: Element> Element for Option<T> {
    const DTYPE: DataType = T::DTYPE;
    #[inline]
    fn value(&self) -> Option<Value<'_>> {
        self.as_ref().and_then(T::value)
    }
}

impl DataFrame {
    /// A one-column frame of `values`, in chunks of [`DEFAULT_CHUNK_LEN`] rows.
    pub fn from_array<T: Element>(values: &[T]) -> DataFrame {
        DataFrame::from_array_chunked(values, DEFAULT_CHUNK_LEN)
    }

    /// A one-column frame of `values`, in chunks of `chunk_len` rows (at least 1).
    pub fn from_array_chunked<T: Element>(values: &[T], chunk_len: usize) -> DataFrame {
        let mut column = ColumnBuilder::new(T::DTYPE, chunk_len);
        for v in values {
            // Element is sealed and each impl yields values of its DTYPE.
            v.push_to_column(&mut column)
                .expect("an Element's value has the Element's type");
        }
        DataFrame::new(Schema::new(vec![T::DTYPE]), vec![column.finish()])
            .expect("a one-column frame has one chunk layout")
    }

    /// A frame of one row and one column holding `value` (which may be missing).
    pub fn from_scalar<T: Element>(value: T) -> DataFrame {
        DataFrame::from_array(std::slice::from_ref(&value))
    }

    /// A frame of `schema` filled by `writer`, one row per [`Writer::visit`] call while
    /// [`Writer::done`] is false, in chunks of `chunk_len` rows.
    ///
    /// Fails with the first error a `set` call made in a row (a wrong type or a column
    /// past the end), even if the writer ignored it.
    pub fn from_writer(
        schema: Schema,
        chunk_len: usize,
        writer: &mut impl Writer,
    ) -> Result<DataFrame> {
        let mut builder = FrameBuilder::new(schema, chunk_len);
        builder.fill_from(writer)?;
        Ok(builder.finish())
    }
}

/// Builds a [`DataFrame`] row by row, cutting every column into chunks of `chunk_len`
/// rows at the same places.
///
/// A schema without columns builds a frame without rows, whatever is pushed: a frame's
/// row count is the length of its columns.
#[derive(Debug)]
pub struct FrameBuilder {
    schema: Schema,
    columns: Vec<ColumnBuilder>,
    rows: u64,
}

impl FrameBuilder {
    /// An empty builder of frames of `schema`, in chunks of `chunk_len` rows (at least 1).
    pub fn new(schema: Schema, chunk_len: usize) -> FrameBuilder {
        let columns = schema
            .types()
            .iter()
            .map(|&t| ColumnBuilder::new(t, chunk_len))
            .collect();
        FrameBuilder {
            schema,
            columns,
            rows: 0,
        }
    }

    /// The schema being built.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The number of rows pushed so far.
    pub fn nrows(&self) -> u64 {
        self.rows
    }

    /// Appends one row: exactly one value per column (`None` = missing), each of its
    /// column's type. On error nothing is appended.
    pub fn push_row(&mut self, row: &[Option<Value<'_>>]) -> Result<()> {
        // Check the whole row first so that a bad value cannot leave the columns at
        // different lengths.
        if row.len() != self.schema.width() {
            return Err(Error::Schema(format!(
                "a row of {} values does not fit a schema of {} columns",
                row.len(),
                self.schema.width()
            )));
        }
        for (col, (value, &dtype)) in row.iter().zip(self.schema.types()).enumerate() {
            if let Some(v) = value {
                if v.dtype() != dtype {
                    return Err(self.schema.mismatch(col, v.dtype(), dtype));
                }
            }
        }
        for (builder, value) in self.columns.iter_mut().zip(row) {
            builder.push(*value)?;
        }
        self.rows += 1;
        Ok(())
    }

    /// Appends the rows `writer` writes, while [`Writer::done`] is false; returns how
    /// many. Fails with the first error a `set` call made in a row, even if the writer
    /// ignored it; the rows before that row are kept.
    pub fn fill_from(&mut self, writer: &mut impl Writer) -> Result<u64> {
        let first = self.rows;
        // One RowWriter for all rows, so its buffers are reused.
        let mut row = RowWriter::new(&self.schema, self.rows);
        while !writer.done() {
            row.reset(self.rows);
            writer.visit(&mut row);
            if let Some(err) = row.take_error() {
                return Err(err);
            }
            // RowWriter checked every value's type, so these pushes cannot fail.
            for (col, builder) in self.columns.iter_mut().enumerate() {
                builder.push(row.get(col))?;
            }
            self.rows += 1;
        }
        Ok(self.rows - first)
    }

    /// The frame of the rows pushed so far.
    pub fn finish(self) -> DataFrame {
        let columns = self.columns.into_iter().map(|c| c.finish()).collect();
        DataFrame::new(self.schema, columns)
            .expect("columns filled in lockstep with one chunk length share one layout")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(df: &DataFrame, col: usize) -> Vec<Option<String>> {
        (0..df.nrows())
            .map(|r| df.get(col, r).unwrap().map(|v| format!("{v:?}")))
            .collect()
    }

    fn check<T: Element>(array: &[T], want: &[Option<Value<'_>>]) {
        let df = DataFrame::from_array_chunked(array, 2);
        assert_eq!(df.schema().types(), [T::DTYPE]);
        assert_eq!(df.nrows(), want.len() as u64);
        assert_eq!(df.chunk_count(), want.len().div_ceil(2));
        let got: Vec<_> = (0..df.nrows()).map(|r| df.get(0, r).unwrap()).collect();
        assert_eq!(got, want);
        // The default chunk length keeps small arrays in one chunk (none when empty).
        assert_eq!(
            DataFrame::from_array(array).chunk_count(),
            want.len().min(1)
        );
    }

    #[test]
    fn from_array_of_each_type() {
        use Value::*;
        check(
            &[true, false, true],
            &[Some(Bool(true)), Some(Bool(false)), Some(Bool(true))],
        );
        check(&[1, -2, 3], &[Some(Int(1)), Some(Int(-2)), Some(Int(3))]);
        check(&[0.5f32, -1e9], &[Some(Float(0.5)), Some(Float(-1e9))]);
        check(&[1i64 << 40, -1], &[Some(I64(1 << 40)), Some(I64(-1))]);
        check(&[Some(0.25), None], &[Some(F64(0.25)), None]);
        check(
            &["a", "", "b c"],
            &[Some(Str(b"a")), Some(Str(b"")), Some(Str(b"b c"))],
        );
        check(&[String::from("x")], &[Some(Str(b"x"))]);
        check(&[&b"\xff\x00"[..]], &[Some(Str(b"\xff\x00"))]);
        check(&[vec![1u8, 2]], &[Some(Str(&[1, 2]))]);
        check(&[Some(true), None], &[Some(Bool(true)), None]);
        check(&[None, Some(7), None], &[None, Some(Int(7)), None]);
        check(&[None, Some(1.5f32)], &[None, Some(Float(1.5))]);
        check(&[Some("s"), None], &[Some(Str(b"s")), None]);
        check(&[None::<String>], &[None]);
        check(&[Some(vec![9u8])], &[Some(Str(&[9]))]);
        check(&[None::<&[u8]>], &[None]);
        check::<i32>(&[], &[]);
    }

    #[test]
    fn from_scalar_of_each_type() {
        let cases = [
            (DataFrame::from_scalar(true), DataType::Bool, "Bool(true)"),
            (DataFrame::from_scalar(-4), DataType::Int, "Int(-4)"),
            (
                DataFrame::from_scalar(2.5f32),
                DataType::Float,
                "Float(2.5)",
            ),
            (
                DataFrame::from_scalar("hi"),
                DataType::String,
                "Str([104, 105])",
            ),
            (
                DataFrame::from_scalar(String::from("hi")),
                DataType::String,
                "Str([104, 105])",
            ),
            (
                DataFrame::from_scalar(&b"hi"[..]),
                DataType::String,
                "Str([104, 105])",
            ),
            (
                DataFrame::from_scalar(b"hi".to_vec()),
                DataType::String,
                "Str([104, 105])",
            ),
        ];
        for (df, dtype, want) in cases {
            assert_eq!(df.schema().types(), [dtype]);
            assert_eq!(values(&df, 0), [Some(want.to_string())]);
        }
        let missing = DataFrame::from_scalar(None::<f32>);
        assert_eq!(missing.schema().types(), [DataType::Float]);
        assert_eq!(missing.nrows(), 1);
        assert!(missing.is_missing(0, 0).unwrap());
    }

    /// Writes `n` rows of every type: row i is (i odd, i, i / 4, "r<i>"), with column
    /// i % 4 left missing.
    struct Rows {
        next: i32,
        n: i32,
    }
    impl Writer for Rows {
        fn visit(&mut self, row: &mut RowWriter<'_>) {
            let i = self.next;
            assert_eq!(row.index(), i as u64);
            let skip = (i % 4) as usize;
            let results = [
                (skip != 0).then(|| row.set_bool(0, i % 2 == 1)),
                (skip != 1).then(|| row.set_int(1, i)),
                (skip != 2).then(|| row.set_float(2, i as f32 / 4.0)),
                (skip != 3).then(|| row.set_str(3, format!("r{i}"))),
            ];
            results.into_iter().flatten().for_each(|r| r.unwrap());
            self.next += 1;
        }
        fn done(&self) -> bool {
            self.next >= self.n
        }
    }

    #[test]
    fn from_writer_fills_each_type() {
        let schema = Schema::from_codes("BIFS").unwrap();
        let df = DataFrame::from_writer(schema.clone(), 3, &mut Rows { next: 0, n: 10 }).unwrap();
        assert_eq!(df.nrows(), 10);
        assert_eq!(df.chunk_count(), 4);
        for i in 0..10i32 {
            let r = i as u64;
            let skip = i % 4;
            assert_eq!(
                df.get_as::<bool>(0, r).unwrap(),
                (skip != 0).then_some(i % 2 == 1)
            );
            assert_eq!(df.get_as::<i32>(1, r).unwrap(), (skip != 1).then_some(i));
            assert_eq!(
                df.get_as::<f32>(2, r).unwrap(),
                (skip != 2).then_some(i as f32 / 4.0)
            );
            let s = format!("r{i}");
            assert_eq!(
                df.get_as::<&[u8]>(3, r).unwrap(),
                (skip != 3).then_some(s.as_bytes())
            );
        }
        let empty = DataFrame::from_writer(schema.clone(), 3, &mut Rows { next: 0, n: 0 }).unwrap();
        assert_eq!(empty, DataFrame::empty(schema));
    }

    #[test]
    fn from_writer_fails_on_ignored_type_errors() {
        struct Bad(u32);
        impl Writer for Bad {
            fn visit(&mut self, row: &mut RowWriter<'_>) {
                self.0 += 1;
                if self.0 == 3 {
                    // Ignoring the Result does not hide the mistake.
                    let _ = row.set_str(0, "not an int");
                } else {
                    row.set_int(0, 1).unwrap();
                }
            }
            fn done(&self) -> bool {
                self.0 >= 5
            }
        }
        let schema = Schema::from_codes("I").unwrap();
        let err = DataFrame::from_writer(schema.clone(), 2, &mut Bad(0)).unwrap_err();
        assert!(matches!(
            err,
            Error::TypeMismatch {
                column: 0,
                expected: DataType::String,
                found: DataType::Int,
                ..
            }
        ));
        // fill_from keeps the rows before the bad one.
        let mut b = FrameBuilder::new(schema, 2);
        assert!(b.fill_from(&mut Bad(0)).is_err());
        assert_eq!(b.nrows(), 2);
        assert_eq!(b.finish().nrows(), 2);
    }

    #[test]
    fn frame_builder_pushes_rows_and_checks_types() {
        let schema = Schema::from_codes("IS").unwrap();
        let mut b = FrameBuilder::new(schema.clone(), 2);
        b.push_row(&[Some(Value::Int(1)), Some(Value::Str(b"a"))])
            .unwrap();
        b.push_row(&[None, None]).unwrap();
        // Wrong type: an error naming the column, and nothing appended.
        let err = b
            .push_row(&[Some(Value::Int(2)), Some(Value::Float(1.0))])
            .unwrap_err();
        assert!(matches!(
            err,
            Error::TypeMismatch {
                column: 1,
                expected: DataType::Float,
                found: DataType::String,
                ..
            }
        ));
        assert!(b.push_row(&[Some(Value::Bool(true)), None]).is_err());
        // Wrong width.
        assert!(b.push_row(&[Some(Value::Int(2))]).is_err());
        assert!(b.push_row(&[None, None, None]).is_err());
        b.push_row(&[Some(Value::Int(3)), Some(Value::Str(b"c"))])
            .unwrap();
        assert_eq!(b.nrows(), 3);
        assert_eq!(b.schema(), &schema);
        let df = b.finish();
        assert_eq!(df.nrows(), 3);
        assert_eq!(df.chunk_count(), 2);
        assert_eq!(df.get_as::<i32>(0, 2).unwrap(), Some(3));
        assert_eq!(df.get_as::<&[u8]>(1, 1).unwrap(), None);
        assert_eq!(df.get_as::<&[u8]>(1, 2).unwrap(), Some(&b"c"[..]));
    }

    #[test]
    fn element_pushes_into_builders() {
        let mut chunk = ChunkBuilder::new(DataType::Int, 2);
        5.push_to(&mut chunk).unwrap();
        None::<i32>.push_to(&mut chunk).unwrap();
        assert!("x".push_to(&mut chunk).is_err());
        let chunk = chunk.finish();
        assert_eq!(chunk.len(), 2);
        assert_eq!(chunk.get_as::<i32>(0), Some(5));
        let mut col = ColumnBuilder::new(DataType::String, 1);
        "a".push_to_column(&mut col).unwrap();
        Some(String::from("b")).push_to_column(&mut col).unwrap();
        assert!(true.push_to_column(&mut col).is_err());
        assert_eq!(col.finish().chunks().len(), 2);
    }
}
