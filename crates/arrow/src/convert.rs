//! A [`DataFrame`] as Arrow [`RecordBatch`]es and back.
//!
//! eau2 and Arrow lay values out alike: a dense vector per column and a validity bitmap
//! whose bit `i` (least significant first, in little-endian words) says whether row `i`
//! has a value. So [`to_arrow`] hands Arrow the chunks' own memory: each Arrow buffer
//! points into a chunk and keeps that chunk alive (an `Arc` clone), nothing is copied.
//! [`from_arrow`] moves Arrow buffers into chunks where Arrow allocated them as Rust
//! vectors of the same element type and nobody else holds them (an array that came from
//! [`to_arrow`] and is dropped meanwhile is copied, as are buffers the Parquet decoder
//! allocated with its own alignment); otherwise it copies once.

use std::ptr::NonNull;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Date64Type, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt16Type, UInt32Type, UInt8Type,
};
use arrow_array::{
    Array, ArrayRef, ArrowPrimitiveType, BooleanArray, Float32Array, Float64Array, Int32Array,
    Int64Array, LargeBinaryArray, LargeStringArray, OffsetSizeTrait, PrimitiveArray, RecordBatch,
    RecordBatchOptions,
};
use arrow_buffer::alloc::Allocation;
use arrow_buffer::{BooleanBuffer, Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::{DataType as ArrowType, Field, Schema as ArrowSchema, SchemaRef, TimeUnit};
use eau2_data::frame::{Bitmap, Chunk, ChunkData, Column, DataFrame, DataType, Schema};
use eau2_data::{Error, Result};

/// The Arrow type eau2 writes for `dtype`. STRING is `LargeUtf8` because eau2's string
/// offsets are 64-bit, so they are handed over as they are.
pub fn arrow_type(dtype: DataType) -> ArrowType {
    match dtype {
        DataType::Bool => ArrowType::Boolean,
        DataType::Int => ArrowType::Int32,
        DataType::Float => ArrowType::Float32,
        DataType::String => ArrowType::LargeUtf8,
        DataType::I64 => ArrowType::Int64,
        DataType::F64 => ArrowType::Float64,
    }
}

/// The eau2 type that holds every value of Arrow type `arrow`, if there is one.
///
/// Besides the six direct matches (Boolean, Int32, Int64, Float32, Float64, and
/// Utf8/LargeUtf8/Utf8View or their Binary twins as STRING), narrower integers widen
/// without loss (Int8/Int16/UInt8/UInt16 to INT, UInt32 to I64), and dates and
/// timestamps keep their raw count: Date32 (days since 1970-01-01) as INT, Date64
/// (milliseconds) and Timestamp (in its own unit, time zone dropped) as I64. Anything
/// else (UInt64, decimals, Float16, nested types, ...) has no eau2 type.
pub fn eau2_type(arrow: &ArrowType) -> Option<DataType> {
    Some(match arrow {
        ArrowType::Boolean => DataType::Bool,
        ArrowType::Int8
        | ArrowType::Int16
        | ArrowType::UInt8
        | ArrowType::UInt16
        | ArrowType::Int32
        | ArrowType::Date32 => DataType::Int,
        ArrowType::UInt32 | ArrowType::Int64 | ArrowType::Date64 | ArrowType::Timestamp(..) => {
            DataType::I64
        }
        ArrowType::Float32 => DataType::Float,
        ArrowType::Float64 => DataType::F64,
        ArrowType::Utf8
        | ArrowType::LargeUtf8
        | ArrowType::Utf8View
        | ArrowType::Binary
        | ArrowType::LargeBinary
        | ArrowType::BinaryView => DataType::String,
        _ => return None,
    })
}

/// The Arrow schema of an eau2 schema: the same names, every column nullable.
pub fn to_arrow_schema(schema: &Schema) -> SchemaRef {
    let fields: Vec<Field> = schema
        .names()
        .iter()
        .zip(schema.types())
        .map(|(name, &t)| Field::new(name, arrow_type(t), true))
        .collect();
    Arc::new(ArrowSchema::new(fields))
}

/// The eau2 schema of an Arrow schema; an error naming the first column whose type
/// eau2 has no equivalent for (see [`eau2_type`]). `what` names the data in the error
/// (a file, say).
pub fn to_eau2_schema(schema: &ArrowSchema, what: &str) -> Result<Schema> {
    let columns = schema
        .fields()
        .iter()
        .map(|f| match eau2_type(f.data_type()) {
            Some(t) => Ok((f.name().clone(), t)),
            None => Err(unsupported(what, f.name(), f.data_type())),
        })
        .collect::<Result<Vec<_>>>()?;
    Schema::named(columns)
}

/// The error for a column of Arrow type `arrow` that eau2 cannot hold.
pub(crate) fn unsupported(what: &str, column: &str, arrow: &ArrowType) -> Error {
    Error::Schema(format!(
        "{what}: column {column:?} is of type {arrow}, which eau2 has no type for (eau2 reads \
         booleans, integers, floats, strings/binary, dates and timestamps); leave it out \
         with a projection (ReadOptions::columns)"
    ))
}

/// The frame as Arrow record batches, one per row chunk, sharing the chunks' memory
/// (no value is copied; each buffer keeps its chunk alive). STRING columns whose bytes
/// are all UTF-8 become `LargeUtf8`, others `LargeBinary` (SoR strings are bytes).
///
/// ```
/// use eau2_arrow::{from_arrow, to_arrow};
/// use eau2_data::frame::{DataFrame, DataType, FrameBuilder, Schema, Value};
///
/// let mut b = FrameBuilder::new(Schema::named([("n", DataType::Int)])?, 2);
/// for v in [Some(1), None, Some(3)] {
///     b.push_row(&[v.map(Value::Int)])?;
/// }
/// let df = b.finish();
/// let batches = to_arrow(&df)?;
/// assert_eq!(batches.len(), 2); // one per chunk
/// assert_eq!(batches[0].column(0).null_count(), 1);
/// let back = from_arrow(batches[0].schema(), batches)?;
/// assert_eq!(back, df);
/// # Ok::<(), eau2_data::Error>(())
/// ```
pub fn to_arrow(df: &DataFrame) -> Result<Vec<RecordBatch>> {
    let mut batches = Vec::with_capacity(df.chunk_count());
    let mut schema = to_arrow_schema(df.schema());
    for i in 0..df.chunk_count() {
        let arrays: Vec<ArrayRef> = df.row_chunk(i).iter().map(chunk_to_arrow).collect();
        // A STRING chunk that is not UTF-8 is LargeBinary: the batch's schema says so.
        let fields: Vec<Field> = schema
            .fields()
            .iter()
            .zip(&arrays)
            .map(|(f, a)| Field::new(f.name(), a.data_type().clone(), true))
            .collect();
        let here = Arc::new(ArrowSchema::new(fields));
        if here != schema {
            schema = here;
        }
        let options = RecordBatchOptions::new().with_row_count(Some(df.chunk_rows(i).count()));
        let batch = RecordBatch::try_new_with_options(schema.clone(), arrays, &options)
            .map_err(|e| Error::Schema(format!("building an Arrow batch of chunk {i}: {e}")))?;
        batches.push(batch);
    }
    Ok(batches)
}

/// An Arrow buffer over `values`, which live inside `owner`'s heap memory; the buffer
/// holds a clone of `owner` so the memory stays valid as long as the buffer does.
fn share<T: Copy>(owner: &Arc<Chunk>, values: &[T]) -> Buffer {
    let len = std::mem::size_of_val(values);
    // A slice's pointer is never null (an empty one is dangling but aligned).
    let ptr = NonNull::new(values.as_ptr() as *mut u8).expect("slice pointers are non-null");
    let keep: Arc<dyn Allocation> = owner.clone();
    // SAFETY: `values` is `len` bytes of a vector inside the chunk `owner` points to.
    // Chunks are immutable once built and `keep` holds the chunk alive until Arrow drops
    // the buffer, so the bytes stay valid and unchanged for the buffer's whole life.
    unsafe { Buffer::from_custom_allocation(ptr, len, keep) }
}

/// The bits of `bitmap` (inside `owner`) as an Arrow boolean buffer, without copying.
fn share_bits(owner: &Arc<Chunk>, bitmap: &Bitmap) -> BooleanBuffer {
    BooleanBuffer::new(share(owner, bitmap.words()), 0, bitmap.len())
}

/// One chunk as an Arrow array over the chunk's own memory (see [`to_arrow`]).
pub fn chunk_to_arrow(chunk: &Arc<Chunk>) -> ArrayRef {
    let nulls =
        (chunk.missing_count() > 0).then(|| NullBuffer::new(share_bits(chunk, chunk.validity())));
    match chunk.data() {
        ChunkData::Bool(bits) => Arc::new(BooleanArray::new(share_bits(chunk, bits), nulls)),
        ChunkData::Int(v) => Arc::new(Int32Array::new(ScalarBuffer::from(share(chunk, v)), nulls)),
        ChunkData::Float(v) => Arc::new(Float32Array::new(
            ScalarBuffer::from(share(chunk, v)),
            nulls,
        )),
        ChunkData::I64(v) => Arc::new(Int64Array::new(ScalarBuffer::from(share(chunk, v)), nulls)),
        ChunkData::F64(v) => Arc::new(Float64Array::new(
            ScalarBuffer::from(share(chunk, v)),
            nulls,
        )),
        ChunkData::String { offsets, bytes } => {
            // eau2's u64 offsets are Arrow's i64 ones: the same bytes, read as signed
            // (a chunk never holds 2^63 bytes). They rise from 0, as Arrow requires.
            let offsets = OffsetBuffer::new(ScalarBuffer::<i64>::from(share(chunk, offsets)));
            let values = share(chunk, bytes);
            // try_new checks the bytes are UTF-8 with every offset on a character
            // boundary; SoR strings need not be, and then stay bytes.
            if let Ok(a) = LargeStringArray::try_new(offsets.clone(), values.clone(), nulls.clone())
            {
                return Arc::new(a);
            }
            Arc::new(LargeBinaryArray::new(offsets, values, nulls))
        }
    }
}

/// A frame of `batches`, which all have `schema`: one row chunk per non-empty batch
/// (an empty input gives an empty frame of that schema). Buffers move into the chunks
/// where Arrow's memory is a vector of the same type no one else holds; otherwise the
/// values are copied once. Null slots are zeroed (eau2 keeps defaults there). An error
/// names the first column whose type eau2 has no equivalent for (see [`eau2_type`]).
pub fn from_arrow(
    schema: SchemaRef,
    batches: impl IntoIterator<Item = RecordBatch>,
) -> Result<DataFrame> {
    let eau2 = to_eau2_schema(&schema, "Arrow data")?;
    let mut columns: Vec<Vec<Arc<Chunk>>> = vec![Vec::new(); eau2.width()];
    for batch in batches {
        if batch.num_columns() != eau2.width() {
            return Err(Error::Schema(format!(
                "an Arrow batch of {} columns among batches of {}",
                batch.num_columns(),
                eau2.width()
            )));
        }
        if batch.num_rows() == 0 {
            continue;
        }
        let (_, arrays, _) = batch.into_parts();
        for (i, array) in arrays.into_iter().enumerate() {
            let name = &eau2.names()[i];
            let chunk = array_to_chunk(array, eau2.types()[i])
                .map_err(|e| Error::Schema(format!("Arrow column {name:?}: {e}")))?;
            columns[i].push(Arc::new(chunk));
        }
    }
    let columns = columns
        .into_iter()
        .zip(eau2.types())
        .map(|(chunks, &t)| Column::from_chunks(t, chunks))
        .collect::<Result<Vec<_>>>()?;
    DataFrame::new(eau2, columns)
}

/// One Arrow array as a chunk of `dtype` (as [`eau2_type`] maps the array's type).
pub fn array_to_chunk(array: ArrayRef, dtype: DataType) -> Result<Chunk> {
    let valid = validity(array.nulls(), array.len())?;
    let data = match (array.data_type(), dtype) {
        (ArrowType::Boolean, DataType::Bool) => {
            let values = array.as_boolean().values().clone();
            let mut bits = bitmap_of(&values)?;
            clear_missing_bits(&mut bits, &valid)?;
            ChunkData::Bool(bits)
        }
        (ArrowType::Int32, _) => ChunkData::Int(take_primitive::<Int32Type>(array, &valid)),
        (ArrowType::Int64, _) => ChunkData::I64(take_primitive::<Int64Type>(array, &valid)),
        (ArrowType::Float32, _) => ChunkData::Float(take_primitive::<Float32Type>(array, &valid)),
        (ArrowType::Float64, _) => ChunkData::F64(take_primitive::<Float64Type>(array, &valid)),
        (ArrowType::Int8, _) => ChunkData::Int(widen::<Int8Type, i32>(&array, &valid)),
        (ArrowType::Int16, _) => ChunkData::Int(widen::<Int16Type, i32>(&array, &valid)),
        (ArrowType::UInt8, _) => ChunkData::Int(widen::<UInt8Type, i32>(&array, &valid)),
        (ArrowType::UInt16, _) => ChunkData::Int(widen::<UInt16Type, i32>(&array, &valid)),
        (ArrowType::Date32, _) => ChunkData::Int(widen::<Date32Type, i32>(&array, &valid)),
        (ArrowType::UInt32, _) => ChunkData::I64(widen::<UInt32Type, i64>(&array, &valid)),
        (ArrowType::Date64, _) => ChunkData::I64(widen::<Date64Type, i64>(&array, &valid)),
        (ArrowType::Timestamp(unit, _), _) => ChunkData::I64(match unit {
            TimeUnit::Second => widen::<TimestampSecondType, i64>(&array, &valid),
            TimeUnit::Millisecond => widen::<TimestampMillisecondType, i64>(&array, &valid),
            TimeUnit::Microsecond => widen::<TimestampMicrosecondType, i64>(&array, &valid),
            TimeUnit::Nanosecond => widen::<TimestampNanosecondType, i64>(&array, &valid),
        }),
        (ArrowType::LargeUtf8, _) => {
            let (offsets, values, _) = array.as_string::<i64>().clone().into_parts();
            drop(array);
            take_strings(offsets, values, &valid)
        }
        (ArrowType::LargeBinary, _) => {
            let (offsets, values, _) = array.as_binary::<i64>().clone().into_parts();
            drop(array);
            take_strings(offsets, values, &valid)
        }
        (ArrowType::Utf8, _) => {
            let (offsets, values, _) = array.as_string::<i32>().clone().into_parts();
            take_strings(offsets, values, &valid)
        }
        (ArrowType::Binary, _) => {
            let (offsets, values, _) = array.as_binary::<i32>().clone().into_parts();
            take_strings(offsets, values, &valid)
        }
        (ArrowType::Utf8View, _) => {
            let a = array.as_string_view();
            copy_strings((0..a.len()).map(|i| a.value(i).as_bytes()), &valid)
        }
        (ArrowType::BinaryView, _) => {
            let a = array.as_binary_view();
            copy_strings((0..a.len()).map(|i| a.value(i)), &valid)
        }
        (other, _) => {
            return Err(Error::Schema(format!(
                "Arrow type {other} has no eau2 type"
            )))
        }
    };
    if data.dtype() != dtype {
        return Err(Error::Schema(format!(
            "an Arrow {} array cannot be a {dtype} chunk",
            array_type_name(&data)
        )));
    }
    Chunk::from_parts(valid, data)
}

/// The eau2 type name of `data`, for errors.
fn array_type_name(data: &ChunkData) -> &'static str {
    data.dtype().name()
}

/// The validity of `len` rows: Arrow's null buffer, or all present.
fn validity(nulls: Option<&NullBuffer>, len: usize) -> Result<Bitmap> {
    match nulls {
        None => Ok(Bitmap::filled(len, true)),
        Some(n) => bitmap_of(n.inner()),
    }
}

/// An Arrow boolean buffer as a bitmap: moved when it is a whole vector of words at
/// offset 0, else copied a byte at a time into words.
fn bitmap_of(bits: &BooleanBuffer) -> Result<Bitmap> {
    let len = bits.len();
    if bits.offset() == 0 && bits.inner().len() == len.div_ceil(64) * 8 {
        if let Ok(words) = bits.inner().clone().into_vec::<u64>() {
            return Bitmap::from_words(words, len).map_err(Error::Schema);
        }
    }
    // `sliced` starts the bits at bit 0 of its first byte (copying only if unaligned).
    let bytes = bits.sliced();
    let words = bytes
        .as_slice()
        .chunks(8)
        .take(len.div_ceil(64))
        .map(|c| {
            let mut w = [0u8; 8];
            w[..c.len()].copy_from_slice(c);
            u64::from_le_bytes(w)
        })
        .collect();
    Bitmap::from_words(words, len).map_err(Error::Schema)
}

/// Clears the value bits of missing rows (eau2 keeps `false` there), a word at a time.
fn clear_missing_bits(bits: &mut Bitmap, valid: &Bitmap) -> Result<()> {
    if valid.all_set() {
        return Ok(());
    }
    let words = bits
        .words()
        .iter()
        .zip(valid.words())
        .map(|(b, v)| b & v)
        .collect();
    *bits = Bitmap::from_words(words, bits.len()).map_err(Error::Schema)?;
    Ok(())
}

/// Zeroes the slots of missing rows, visiting only the words of the validity that have
/// a missing row, and in them only the missing rows.
fn zero_missing<T: Default + Copy>(values: &mut [T], valid: &Bitmap) {
    if valid.all_set() {
        return;
    }
    for (w, &word) in valid.words().iter().enumerate() {
        let mut missing = !word;
        while missing != 0 {
            let i = w * 64 + missing.trailing_zeros() as usize;
            match values.get_mut(i) {
                Some(v) => *v = T::default(),
                None => return, // the bits past the last row
            }
            missing &= missing - 1;
        }
    }
}

/// The values of a primitive array of the same layout as eau2's, moved when Arrow holds
/// them as a vector no one else shares, else copied; missing slots zeroed.
fn take_primitive<T: ArrowPrimitiveType>(array: ArrayRef, valid: &Bitmap) -> Vec<T::Native>
where
    T::Native: Default,
{
    let owned: PrimitiveArray<T> = array.as_primitive::<T>().clone();
    drop(array);
    let (_, values, _) = owned.into_parts();
    let mut values = match values.into_inner().into_vec::<T::Native>() {
        Ok(v) => v,
        Err(buffer) => buffer.typed_data::<T::Native>().to_vec(),
    };
    zero_missing(&mut values, valid);
    values
}

/// The values of a narrower primitive array, widened to `U`; missing slots zeroed.
fn widen<T: ArrowPrimitiveType, U: Default + Copy>(array: &ArrayRef, valid: &Bitmap) -> Vec<U>
where
    T::Native: Into<U>,
{
    let mut values: Vec<U> = array
        .as_primitive::<T>()
        .values()
        .iter()
        .map(|&v| v.into())
        .collect();
    zero_missing(&mut values, valid);
    values
}

/// Strings from Arrow offsets and bytes: moved when the offsets are 64-bit, start at 0
/// and no missing row has bytes; copied in bulk (offsets rebased and widened, the bytes
/// in one piece) when only the first two fail; otherwise copied value by value.
fn take_strings<O: OffsetSizeTrait>(
    offsets: OffsetBuffer<O>,
    values: Buffer,
    valid: &Bitmap,
) -> ChunkData {
    let first = offsets[0].as_usize();
    let end = offsets[offsets.len() - 1].as_usize();
    let clean = valid.all_set()
        || (0..offsets.len() - 1).all(|i| valid.get(i) || offsets[i] == offsets[i + 1]);
    if O::IS_LARGE && first == 0 && clean {
        // 64-bit offsets from 0 are eau2's u64 offsets bit for bit.
        let offs = match offsets.into_inner().into_inner().into_vec::<u64>() {
            Ok(v) => v,
            Err(buffer) => buffer.typed_data::<u64>().to_vec(),
        };
        let bytes = match values.into_vec::<u8>() {
            Ok(mut v) => {
                v.truncate(end);
                v
            }
            Err(b) => b.as_slice()[..end].to_vec(),
        };
        return ChunkData::String {
            offsets: offs,
            bytes,
        };
    }
    if clean {
        let offs = offsets
            .iter()
            .map(|o| (o.as_usize() - first) as u64)
            .collect();
        return ChunkData::String {
            offsets: offs,
            bytes: values.as_slice()[first..end].to_vec(),
        };
    }
    let bytes = values.as_slice();
    copy_strings(
        (0..offsets.len() - 1).map(|i| &bytes[offsets[i].as_usize()..offsets[i + 1].as_usize()]),
        valid,
    )
}

/// Strings copied value by value; missing rows empty.
fn copy_strings<'a>(values: impl Iterator<Item = &'a [u8]>, valid: &Bitmap) -> ChunkData {
    let mut offsets = Vec::with_capacity(valid.len() + 1);
    let mut bytes = Vec::new();
    offsets.push(0u64);
    for (i, v) in values.enumerate() {
        if valid.get(i) {
            bytes.extend_from_slice(v);
        }
        offsets.push(bytes.len() as u64);
    }
    ChunkData::String { offsets, bytes }
}
