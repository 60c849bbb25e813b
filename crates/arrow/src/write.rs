//! Writing frames as Parquet: encoded in parallel as separate parts, stitched into one
//! file.
//!
//! A Parquet file is `PAR1`, the row groups' bytes, a footer (schema, and every row
//! group's column chunks with their byte offsets and statistics), the footer's length
//! and `PAR1` again. Row groups never point at each other, so row groups encoded
//! independently (by several threads, or several ranks) can be laid end to end and
//! described by one footer whose offsets are shifted to where each landed:
//! [`encode_parts`] encodes a frame's row groups on all cores into [`ParquetPart`]s,
//! and [`stitch_footer`] writes the footer of parts laid end to end. A distributed
//! write does the same across ranks, each rank writing its parts' bytes at its own
//! offset and rank 0 the footer.

use std::io::Write;
use std::path::Path;

use std::sync::Arc;

use arrow_array::{RecordBatch, RecordBatchOptions};
use arrow_schema::{Field, Schema as ArrowSchema, SchemaRef};
use bytes::Bytes;
use eau2_data::frame::{Chunk, ChunkData, Column, DataFrame};
use eau2_data::{Error, Result};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::{
    FileMetaData, ParquetMetaData, ParquetMetaDataReader, ParquetMetaDataWriter, RowGroupMetaData,
};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;
use rayon::prelude::*;

use crate::convert::{to_arrow, to_arrow_schema};

/// The magic bytes at both ends of a Parquet file.
pub const MAGIC: &[u8; 4] = b"PAR1";

/// How values are compressed in a Parquet file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Codec {
    /// Snappy: fast, moderate ratio; what polars, Spark and pyarrow default to.
    Snappy,
    /// Zstandard at a level (1 to 22; 3 is zstd's own default).
    Zstd(i32),
    /// No compression.
    Uncompressed,
}

/// Options for writing Parquet: snappy, row groups of about 1 Mi rows, statistics
/// (min, max, null count) for every column chunk, so readers can skip row groups.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParquetWriteOptions {
    codec: Codec,
    row_group_rows: usize,
    required: Option<Vec<bool>>,
}

impl Default for ParquetWriteOptions {
    fn default() -> Self {
        ParquetWriteOptions {
            codec: Codec::Snappy,
            row_group_rows: 1 << 20,
            required: None,
        }
    }
}

impl ParquetWriteOptions {
    /// The defaults (snappy, about 1 Mi rows per row group).
    pub fn new() -> Self {
        Self::default()
    }

    /// Compresses with `codec`.
    pub fn codec(mut self, codec: Codec) -> Self {
        self.codec = codec;
        self
    }

    /// Row groups of at most `rows` rows: whole row chunks are gathered until they hold
    /// `rows` rows (these encode in parallel), and cut into groups of `rows` rows (the
    /// last of each gathering may be shorter).
    pub fn row_group_rows(mut self, rows: usize) -> Self {
        self.row_group_rows = rows.max(1);
        self
    }

    /// Declares the columns whose flag is `true` required (never null) in the file's
    /// schema, which spares encoding and decoding their definition levels; a column
    /// declared so that has a missing value fails the write. Without this,
    /// [`encode_part`] and [`encode_parts`] declare every column optional (parts
    /// stitched into one file must agree), while [`write_parquet`],
    /// [`write_parquet_file`] and the distributed writes declare required the columns
    /// without a missing value in the whole frame (over all ranks).
    pub fn required(mut self, columns: Vec<bool>) -> Self {
        self.required = Some(columns);
        self
    }

    /// These options with the required columns decided for `df` unless they are set.
    pub(crate) fn deciding_required(&self, df: &DataFrame) -> ParquetWriteOptions {
        let mut options = self.clone();
        if options.required.is_none() {
            options.required = Some(without_missing(df));
        }
        options
    }

    /// The codec.
    pub fn get_codec(&self) -> Codec {
        self.codec
    }

    /// The arrow-rs writer properties these options mean for `df`: dictionary encoding
    /// only for the columns whose first values repeat (see [`mostly_distinct`]).
    fn properties(&self, df: &DataFrame) -> Result<WriterProperties> {
        let compression = match self.codec {
            Codec::Snappy => Compression::SNAPPY,
            Codec::Uncompressed => Compression::UNCOMPRESSED,
            Codec::Zstd(level) => Compression::ZSTD(
                ZstdLevel::try_new(level)
                    .map_err(|e| Error::Schema(format!("zstd level {level}: {e}")))?,
            ),
        };
        let mut builder = WriterProperties::builder();
        for (name, column) in df.schema().names().iter().zip(df.columns()) {
            if column.chunks().first().is_some_and(|c| mostly_distinct(c)) {
                builder =
                    builder.set_column_dictionary_enabled(ColumnPath::from(name.as_str()), false);
            }
        }
        Ok(builder
            .set_compression(compression)
            // Min/max/null counts per column chunk, in the footer: what row-group
            // pruning reads. No page index, so parts can be stitched by the footer alone.
            .set_statistics_enabled(EnabledStatistics::Chunk)
            .set_offset_index_disabled(true)
            .set_max_row_group_row_count(Some(self.row_group_rows))
            .set_created_by(format!("eau2 {}", env!("CARGO_PKG_VERSION")))
            .build())
    }
}

/// For each column of `df`, whether none of its values is missing.
pub fn without_missing(df: &DataFrame) -> Vec<bool> {
    df.columns()
        .iter()
        .map(|c| c.chunks().iter().all(|ch| ch.missing_count() == 0))
        .collect()
}

/// The Arrow schema a file of `df` is written with: eau2's, with the `required` columns
/// not nullable.
fn file_schema(df: &DataFrame, required: &[bool]) -> SchemaRef {
    let fields: Vec<Field> = to_arrow_schema(df.schema())
        .fields()
        .iter()
        .zip(required)
        .map(|(f, &r)| f.as_ref().clone().with_nullable(!r))
        .collect();
    Arc::new(ArrowSchema::new(fields))
}

/// How many of a column's first values [`mostly_distinct`] looks at.
const DICTIONARY_SAMPLE: usize = 4096;

/// Whether more than half of the first [`DICTIONARY_SAMPLE`] present values of `chunk`
/// differ. arrow-rs dictionary-encodes every column until its dictionary outgrows a
/// page (1 MiB) and only then falls back to plain values, so a column of mostly
/// distinct values (a sequence, measurements) pays for hashing and writes a
/// dictionary page no reader gains from; such columns are written plain from the
/// start. BOOL columns are never dictionary-encoded anyway.
fn mostly_distinct(chunk: &Chunk) -> bool {
    let valid = chunk.validity();
    let present = |i: &usize| valid.get(*i);
    let n = chunk.len().min(DICTIONARY_SAMPLE);
    let mut seen = std::collections::HashSet::with_capacity(n);
    let mut count = 0usize;
    let mut add = |bits: u64| {
        count += 1;
        seen.insert(bits);
    };
    match chunk.data() {
        ChunkData::Bool(_) => return false,
        ChunkData::Int(v) => (0..n).filter(present).for_each(|i| add(v[i] as u64)),
        ChunkData::Float(v) => (0..n)
            .filter(present)
            .for_each(|i| add(v[i].to_bits().into())),
        ChunkData::I64(v) => (0..n).filter(present).for_each(|i| add(v[i] as u64)),
        ChunkData::F64(v) => (0..n).filter(present).for_each(|i| add(v[i].to_bits())),
        ChunkData::String { offsets, bytes } => (0..n).filter(present).for_each(|i| {
            let value = &bytes[offsets[i] as usize..offsets[i + 1] as usize];
            let mut h = std::hash::DefaultHasher::new();
            std::hash::Hash::hash(value, &mut h);
            add(std::hash::Hasher::finish(&h));
        }),
    }
    seen.len() * 2 > count && count >= 64
}

/// Row groups encoded on their own, to be laid end to end with others.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParquetPart {
    /// The row groups' bytes, as they go between the leading magic and the footer (a
    /// view into the buffer they were encoded into: never copied).
    pub body: Bytes,
    /// The part's own footer (Thrift `FileMetaData`), its offsets counted from the start
    /// of a file where `body` follows the leading magic.
    pub footer: Vec<u8>,
}

/// Encodes `df` as one Parquet part (its row groups cut as `options` say), on this
/// thread.
pub fn encode_part(df: &DataFrame, options: &ParquetWriteOptions) -> Result<ParquetPart> {
    let props = options.properties(df)?;
    let required = match &options.required {
        Some(r) => r.clone(),
        None => vec![false; df.ncols()],
    };
    if required.len() != df.ncols() {
        return Err(Error::Schema(format!(
            "{} required-column flags for a frame of {} columns",
            required.len(),
            df.ncols()
        )));
    }
    let schema = file_schema(df, &required);
    // Room for the values uncompressed: the encoded part never regrows (and so is never
    // copied); pages of the reservation it does not use are never touched.
    let room: usize = df
        .columns()
        .iter()
        .flat_map(|c| c.chunks())
        .map(|c| c.byte_size())
        .sum::<usize>()
        + (64 << 10);
    let mut writer = ArrowWriter::try_new(Vec::with_capacity(room), schema.clone(), Some(props))
        .map_err(|e| Error::Schema(format!("starting a Parquet writer: {e}")))?;
    let mut rows_in_group = 0usize;
    for batch in to_arrow(df)? {
        // A STRING chunk that is not UTF-8 came out as LargeBinary; Parquet strings
        // must be UTF-8, so say which column rather than write a binary column.
        if let Some((f, _)) = batch
            .schema()
            .fields()
            .iter()
            .zip(schema.fields())
            .find(|(a, b)| a.data_type() != b.data_type())
        {
            return Err(Error::Schema(format!(
                "column {:?} holds bytes that are not UTF-8, which Parquet strings cannot \
                 hold",
                f.name()
            )));
        }
        // The same arrays under the file's schema (required columns not nullable).
        let rows = RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
        let batch =
            RecordBatch::try_new_with_options(schema.clone(), batch.columns().to_vec(), &rows)
                .map_err(|e| {
                    Error::Schema(format!(
                        "a column declared required (ParquetWriteOptions::required) has missing \
                     values: {e}"
                    ))
                })?;
        rows_in_group += batch.num_rows();
        writer
            .write(&batch)
            .map_err(|e| Error::Schema(format!("encoding Parquet: {e}")))?;
        if rows_in_group >= options.row_group_rows {
            writer
                .flush()
                .map_err(|e| Error::Schema(format!("encoding Parquet: {e}")))?;
            rows_in_group = 0;
        }
    }
    let file = writer
        .into_inner()
        .map_err(|e| Error::Schema(format!("finishing Parquet: {e}")))?;
    split(file)
}

/// Splits a whole in-memory Parquet file into its body and footer, without copying the
/// body.
fn split(file: Vec<u8>) -> Result<ParquetPart> {
    let n = file.len();
    let bad = || Error::decode("an encoded Parquet part has no valid footer");
    if n < 12 || &file[..4] != MAGIC || &file[n - 4..] != MAGIC {
        return Err(bad());
    }
    let footer_len = u32::from_le_bytes(file[n - 8..n - 4].try_into().map_err(|_| bad())?) as usize;
    let footer_at = n
        .checked_sub(8 + footer_len)
        .filter(|&a| a >= 4)
        .ok_or_else(bad)?;
    let footer = file[footer_at..n - 8].to_vec();
    Ok(ParquetPart {
        footer,
        body: Bytes::from(file).slice(4..footer_at),
    })
}

/// Encodes `df` as parts of about `options.row_group_rows` rows each, one per thread at
/// a time on all cores; a frame without rows gives one part without row groups (which
/// still carries the schema).
pub fn encode_parts(df: &DataFrame, options: &ParquetWriteOptions) -> Result<Vec<ParquetPart>> {
    let groups = cut_groups(df, options.row_group_rows)?;
    if groups.is_empty() {
        return Ok(vec![encode_part(df, options)?]);
    }
    groups.par_iter().map(|g| encode_part(g, options)).collect()
}

/// `df`'s row chunks gathered into frames of at least `rows` rows (the last may hold
/// fewer), sharing the chunks.
fn cut_groups(df: &DataFrame, rows: usize) -> Result<Vec<DataFrame>> {
    let mut groups = Vec::new();
    let mut start = 0;
    let mut held = 0u64;
    for i in 0..df.chunk_count() {
        held += df.chunk_rows(i).count() as u64;
        if held >= rows as u64 || i + 1 == df.chunk_count() {
            let columns = df
                .columns()
                .iter()
                .map(|c| Column::from_chunks(c.dtype(), c.chunks()[start..=i].to_vec()))
                .collect::<Result<Vec<_>>>()?;
            groups.push(DataFrame::new(df.schema().clone(), columns)?);
            start = i + 1;
            held = 0;
        }
    }
    Ok(groups)
}

/// The tail of a Parquet file made of parts laid end to end after the leading magic:
/// part `k`'s body at byte `4 + body_lens[..k].sum()`. Returns the merged footer, its
/// length and the closing magic; the schema and key-value metadata are the first
/// part's (all parts must have the same schema).
pub fn stitch_footer(footers: &[&[u8]], body_lens: &[u64]) -> Result<Vec<u8>> {
    if footers.is_empty() || footers.len() != body_lens.len() {
        return Err(Error::Schema(format!(
            "cannot stitch {} footers with {} bodies",
            footers.len(),
            body_lens.len()
        )));
    }
    let metas = footers
        .iter()
        .map(|f| {
            ParquetMetaDataReader::decode_metadata(f)
                .map_err(|e| Error::decode(format!("a Parquet part's footer: {e}")))
        })
        .collect::<Result<Vec<ParquetMetaData>>>()?;
    let first = metas[0].file_metadata();
    let schema = first.schema_descr_ptr();
    let mut row_groups = Vec::new();
    let mut shift = 0i64;
    let mut rows = 0i64;
    for (meta, &len) in metas.iter().zip(body_lens) {
        if meta.file_metadata().schema_descr().root_schema() != schema.root_schema() {
            return Err(Error::Schema(
                "cannot stitch Parquet parts of different schemas".into(),
            ));
        }
        for rg in meta.row_groups() {
            row_groups.push(shift_group(rg, shift, row_groups.len(), &schema)?);
            rows += rg.num_rows();
        }
        shift += len as i64;
    }
    let file = FileMetaData::new(
        first.version(),
        rows,
        first.created_by().map(str::to_string),
        first.key_value_metadata().cloned(),
        schema,
        first.column_orders().cloned(),
    );
    let merged = ParquetMetaData::new(file, row_groups);
    let mut out = Vec::new();
    ParquetMetaDataWriter::new(&mut out, &merged)
        .finish()
        .map_err(|e| Error::Schema(format!("writing a Parquet footer: {e}")))?;
    Ok(out)
}

/// Row group `rg` moved `shift` bytes later in the file, as the file's `ordinal`-th.
fn shift_group(
    rg: &RowGroupMetaData,
    shift: i64,
    ordinal: usize,
    schema: &parquet::schema::types::SchemaDescPtr,
) -> Result<RowGroupMetaData> {
    let err = |e: parquet::errors::ParquetError| Error::Schema(format!("moving a row group: {e}"));
    let columns = rg
        .columns()
        .iter()
        .map(|c| {
            c.clone()
                .into_builder()
                .set_data_page_offset(c.data_page_offset() + shift)
                .set_dictionary_page_offset(c.dictionary_page_offset().map(|o| o + shift))
                .set_index_page_offset(c.index_page_offset().map(|o| o + shift))
                .set_bloom_filter_offset(None)
                .set_bloom_filter_length(None)
                .set_offset_index_offset(None)
                .set_offset_index_length(None)
                .set_column_index_offset(None)
                .set_column_index_length(None)
                .build()
                .map_err(err)
        })
        .collect::<Result<Vec<_>>>()?;
    let mut b = RowGroupMetaData::builder(schema.clone())
        .set_num_rows(rg.num_rows())
        .set_total_byte_size(rg.total_byte_size())
        .set_column_metadata(columns);
    if let Some(at) = rg.file_offset() {
        b = b.set_file_offset(at + shift);
    }
    if let Ok(ordinal) = i16::try_from(ordinal) {
        b = b.set_ordinal(ordinal);
    }
    b.build().map_err(err)
}

/// Writes `df` as one Parquet file into `out` (parts encoded on all cores, stitched).
pub fn write_parquet(
    df: &DataFrame,
    mut out: impl Write,
    options: &ParquetWriteOptions,
) -> Result<()> {
    // Every part declares the same columns required: decided on the whole frame.
    let parts = encode_parts(df, &options.deciding_required(df))?;
    let footers: Vec<&[u8]> = parts.iter().map(|p| p.footer.as_slice()).collect();
    let lens: Vec<u64> = parts.iter().map(|p| p.body.len() as u64).collect();
    let tail = stitch_footer(&footers, &lens)?;
    let io = |e| Error::io("writing Parquet", e);
    out.write_all(MAGIC).map_err(io)?;
    for p in &parts {
        out.write_all(&p.body).map_err(io)?;
    }
    out.write_all(&tail).map_err(io)?;
    out.flush().map_err(io)
}

/// Writes `df` as a Parquet file at `path` (created or truncated; not atomic: for
/// whole-or-nothing writes of distributed frames see `DistFrame::write_parquet`).
pub fn write_parquet_file(
    df: &DataFrame,
    path: impl AsRef<Path>,
    options: &ParquetWriteOptions,
) -> Result<()> {
    let path = path.as_ref();
    let file = std::fs::File::create(path).map_err(|e| Error::io_path("creating", path, e))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    write_parquet(df, &mut out, options).map_err(|e| match e {
        Error::Io { source, .. } => Error::io_path("writing", path, source),
        other => other,
    })?;
    let file = out
        .into_inner()
        .map_err(|e| Error::io_path("writing", path, e.into_error()))?;
    file.sync_all()
        .map_err(|e| Error::io_path("flushing", path, e))
}
