//! Reading Parquet files into frames: chosen row groups, chosen columns.
//!
//! [`ParquetFile::open`] reads a file's footer once (its schema, row groups and their
//! statistics); [`ParquetFile::read`] decodes the row groups asked for, in parallel on
//! all cores, each row group with its own reader, and only the columns asked for: the
//! others are never read from disk. Batches of decoded Arrow arrays become row chunks
//! through [`crate::convert`].

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_schema::{DataType as ArrowType, Field, Schema as ArrowSchema, SchemaRef};
use eau2_data::frame::{DataFrame, Schema, DEFAULT_CHUNK_LEN};
use eau2_data::sor::FileIdentity;
use eau2_data::{Error, Result};
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use parquet::arrow::ProjectionMask;
use parquet::file::metadata::ParquetMetaData;
use parquet::file::statistics::Statistics;
use rayon::prelude::*;

use crate::convert::{array_to_chunk, eau2_type, unsupported};
use crate::source::Positional;

/// One Parquet file, its footer read: schema, row groups, statistics.
#[derive(Clone, Debug)]
pub struct ParquetFile {
    path: PathBuf,
    file: Positional,
    meta: ArrowReaderMetadata,
}

/// The size of one row group, for spreading row groups over ranks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RowGroupInfo {
    /// Its rows.
    pub rows: u64,
    /// Its compressed bytes on disk (what reading it costs).
    pub bytes: u64,
}

/// A column's smallest and largest value in one row group, as its statistics say.
#[derive(Clone, Debug, PartialEq)]
pub enum Bounds {
    /// Integers (any width), as i64.
    Int(i64, i64),
    /// Floats, as f64.
    Float(f64, f64),
    /// Byte strings (compared bytewise).
    Bytes(Vec<u8>, Vec<u8>),
    /// Booleans.
    Bool(bool, bool),
}

/// Errors of the Parquet decoder, naming the file.
pub(crate) fn parquet_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Decode(format!("Parquet file {}: {e}", path.display()))
}

impl ParquetFile {
    /// Opens `path` and reads its footer. A file that is not Parquet (wrong magic,
    /// truncated, a damaged footer) is an error naming it.
    pub fn open(path: impl AsRef<Path>) -> Result<ParquetFile> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|e| Error::io_path("opening", path, e))?;
        ParquetFile::from_file(file, path)
    }

    /// Reads the footer of `file`, an open descriptor of `path`. Every later read goes
    /// through this descriptor with positional reads, so a caller that agreed on one
    /// version of the file reads that version, even if the path is replaced meanwhile.
    pub fn from_file(file: File, path: &Path) -> Result<ParquetFile> {
        let file = Positional::new(file).map_err(|e| Error::io_path("reading", path, e))?;
        let meta = ArrowReaderMetadata::load(&file, ArrowReaderOptions::new())
            .map_err(|e| parquet_error(path, e))?;
        let meta = with_large_strings(meta);
        Ok(ParquetFile {
            path: path.to_path_buf(),
            file,
            meta,
        })
    }

    /// The open descriptor every read goes through.
    pub fn file(&self) -> &File {
        self.file.file()
    }

    /// The identity (device, inode, length, modification time) of the file opened, for
    /// ranks to check they all read one version.
    pub fn identity(&self) -> Result<FileIdentity> {
        crate::source::identity(self.file(), &self.path)
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's Arrow schema (every column, supported by eau2 or not).
    pub fn arrow_schema(&self) -> &SchemaRef {
        self.meta.schema()
    }

    /// The footer.
    pub fn metadata(&self) -> &Arc<ParquetMetaData> {
        self.meta.metadata()
    }

    /// The file's total row count.
    pub fn rows(&self) -> u64 {
        self.metadata().file_metadata().num_rows().max(0) as u64
    }

    /// Each row group's rows and compressed bytes, in file order.
    pub fn row_groups(&self) -> Vec<RowGroupInfo> {
        self.metadata()
            .row_groups()
            .iter()
            .map(|rg| RowGroupInfo {
                rows: rg.num_rows().max(0) as u64,
                bytes: rg.compressed_size().max(0) as u64,
            })
            .collect()
    }

    /// The indexes of the named columns (all columns for `None`), in the order given;
    /// an error naming the file for a name it does not have.
    pub fn column_indexes<S: AsRef<str>>(&self, columns: Option<&[S]>) -> Result<Vec<usize>> {
        let schema = self.arrow_schema();
        match columns {
            None => Ok((0..schema.fields().len()).collect()),
            Some(names) => names
                .iter()
                .map(|n| {
                    schema
                        .index_of(n.as_ref())
                        .map_err(|_| Error::NoSuchColumn {
                            name: format!(
                                "{} (in Parquet file {})",
                                n.as_ref(),
                                self.path.display()
                            ),
                            available: schema.fields().iter().map(|f| f.name().clone()).collect(),
                        })
                })
                .collect(),
        }
    }

    /// The eau2 schema of the columns at `indexes`: an error naming the file, the column
    /// and its type for a column eau2 has no type for (see [`crate::eau2_type`]).
    pub fn schema_of(&self, indexes: &[usize]) -> Result<Schema> {
        let schema = self.arrow_schema();
        let what = format!("Parquet file {}", self.path.display());
        let columns = indexes
            .iter()
            .map(|&i| {
                let f = schema.field(i);
                eau2_type(f.data_type())
                    .map(|t| (f.name().clone(), t))
                    .ok_or_else(|| unsupported(&what, f.name(), f.data_type()))
            })
            .collect::<Result<Vec<_>>>()?;
        Schema::named(columns)
    }

    /// The bounds of column `column` (an index into the Arrow schema) in row group
    /// `group`, when the file has statistics for it.
    pub fn bounds(&self, group: usize, column: usize) -> Option<Bounds> {
        let rg = self.metadata().row_groups().get(group)?;
        // A top-level flat column's leaf has the same index as its field.
        let stats = rg.columns().get(column)?.statistics()?;
        Some(match stats {
            Statistics::Boolean(s) => Bounds::Bool(*s.min_opt()?, *s.max_opt()?),
            Statistics::Int32(s) => Bounds::Int(*s.min_opt()? as i64, *s.max_opt()? as i64),
            Statistics::Int64(s) => Bounds::Int(*s.min_opt()?, *s.max_opt()?),
            Statistics::Float(s) => Bounds::Float(*s.min_opt()? as f64, *s.max_opt()? as f64),
            Statistics::Double(s) => Bounds::Float(*s.min_opt()?, *s.max_opt()?),
            Statistics::ByteArray(s) if s.min_is_exact() && s.max_is_exact() => {
                Bounds::Bytes(s.min_opt()?.data().to_vec(), s.max_opt()?.data().to_vec())
            }
            _ => return None,
        })
    }

    /// Decodes row groups `groups` (in that order), columns `indexes` (in that order),
    /// into one frame, with row chunks of at most `chunk_len` rows (a row group's last
    /// chunk may be shorter). Row groups decode in parallel.
    pub fn read(&self, groups: &[usize], indexes: &[usize], chunk_len: usize) -> Result<DataFrame> {
        let schema = self.schema_of(indexes)?;
        let count = self.metadata().num_row_groups();
        if let Some(&bad) = groups.iter().find(|&&g| g >= count) {
            return Err(Error::OutOfRange {
                what: "row group",
                index: bad as u64,
                len: count as u64,
            });
        }
        let parts = groups
            .par_iter()
            .map(|&g| self.read_group(g, indexes, &schema, chunk_len))
            .collect::<Result<Vec<_>>>()?;
        if parts.is_empty() {
            return Ok(DataFrame::empty(schema));
        }
        DataFrame::concat(parts)
    }

    /// Reads the whole file (every row group), columns by name (`None` for all).
    pub fn read_all<S: AsRef<str>>(&self, columns: Option<&[S]>) -> Result<DataFrame> {
        let indexes = self.column_indexes(columns)?;
        let groups: Vec<usize> = (0..self.metadata().num_row_groups()).collect();
        self.read(&groups, &indexes, DEFAULT_CHUNK_LEN)
    }

    /// One row group, columns `indexes` in that order, as a frame of `schema`.
    fn read_group(
        &self,
        group: usize,
        indexes: &[usize],
        schema: &Schema,
        chunk_len: usize,
    ) -> Result<DataFrame> {
        let path = &self.path;
        let mut sorted: Vec<usize> = indexes.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        let mask = ProjectionMask::roots(self.meta.parquet_schema(), sorted.iter().copied());
        let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(
            self.file.clone(),
            self.meta.clone(),
        )
        .with_projection(mask)
        .with_row_groups(vec![group])
        .with_batch_size(chunk_len.max(1))
        .build()
        .map_err(|e| parquet_error(path, e))?;
        // The decoder yields the projected columns in file order; `at[k]` is where the
        // k-th requested column sits among them.
        let at: Vec<usize> = indexes
            .iter()
            .map(|i| sorted.binary_search(i).expect("every index is in `sorted`"))
            .collect();
        let mut columns: Vec<Vec<Arc<eau2_data::frame::Chunk>>> = vec![Vec::new(); indexes.len()];
        for batch in reader {
            let batch =
                batch.map_err(|e| parquet_error(path, format!("row group {group}: {e}")))?;
            if batch.num_rows() == 0 {
                continue;
            }
            let (_, arrays, _) = batch.into_parts();
            let mut arrays: Vec<Option<_>> = arrays.into_iter().map(Some).collect();
            for (k, &j) in at.iter().enumerate() {
                // A column asked for twice shares the decoded array.
                let array = match arrays[j].take() {
                    Some(a) => {
                        if at[k + 1..].contains(&j) {
                            arrays[j] = Some(a.clone());
                        }
                        a
                    }
                    None => continue,
                };
                let chunk = array_to_chunk(array, schema.types()[k]).map_err(|e| {
                    parquet_error(path, format!("column {:?}: {e}", schema.names()[k]))
                })?;
                columns[k].push(Arc::new(chunk));
            }
        }
        let columns = columns
            .into_iter()
            .zip(schema.types())
            .map(|(chunks, &t)| eau2_data::frame::Column::from_chunks(t, chunks))
            .collect::<Result<Vec<_>>>()?;
        DataFrame::new(schema.clone(), columns)
    }
}

/// `meta` with every top-level string or binary column decoded as its 64-bit-offset
/// Arrow type: eau2's string offsets are 64-bit, so the decoder's buffers then move into
/// chunks whole instead of being copied. `meta` as it is if arrow-rs refuses the hint.
fn with_large_strings(meta: ArrowReaderMetadata) -> ArrowReaderMetadata {
    let schema = meta.schema();
    let large = |t: &ArrowType| match t {
        ArrowType::Utf8 | ArrowType::Utf8View => Some(ArrowType::LargeUtf8),
        ArrowType::Binary | ArrowType::BinaryView => Some(ArrowType::LargeBinary),
        _ => None,
    };
    if !schema
        .fields()
        .iter()
        .any(|f| large(f.data_type()).is_some())
    {
        return meta;
    }
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| match large(f.data_type()) {
            Some(t) => f.as_ref().clone().with_data_type(t),
            None => f.as_ref().clone(),
        })
        .collect();
    let hinted = Arc::new(ArrowSchema::new_with_metadata(
        fields,
        schema.metadata().clone(),
    ));
    let options = ArrowReaderOptions::new().with_schema(hinted);
    ArrowReaderMetadata::try_new(meta.metadata().clone(), options).unwrap_or(meta)
}

/// Reads a whole Parquet file into a frame, columns by name (`None` for all).
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("eau2-arrow-doc-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// use eau2_arrow::{read_parquet, write_parquet_file, ParquetWriteOptions};
/// use eau2_data::frame::{DataFrame, DataType, FrameBuilder, Schema, Value};
/// let mut b = FrameBuilder::new(Schema::named([("id", DataType::Int), ("name", DataType::String)])?, 4);
/// b.push_row(&[Some(Value::Int(1)), Some(Value::Str(b"ann"))])?;
/// b.push_row(&[Some(Value::Int(2)), None])?;
/// let df = b.finish();
/// let path = dir.join("people.parquet");
/// write_parquet_file(&df, &path, &ParquetWriteOptions::default())?;
/// let names = read_parquet(&path, Some(&["name"]))?;
/// assert_eq!(names.get_as::<&[u8]>("name", 0)?, Some(&b"ann"[..]));
/// assert_eq!(names.get_as::<&[u8]>("name", 1)?, None);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn read_parquet<S: AsRef<str>>(
    path: impl AsRef<Path>,
    columns: Option<&[S]>,
) -> Result<DataFrame> {
    ParquetFile::open(path)?.read_all(columns)
}
