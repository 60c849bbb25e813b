//! Reading SoR (schema-on-read) files into data frames.
//!
//! [`SorReader`] is a builder of read options; [`SorReader::read_path`] (or
//! [`SorReader::read_bytes`]) returns a [`SorFile`]: the [`DataFrame`], the file's
//! [`Schema`] and the [`Deviations`] report. The format is specified in `docs/sor-format.md`.
//!
//! How bytes flow: a file is opened once and read through the shared block reader
//! ([`crate::blocks::BlockReader`]); the lines to read are found (by the range rule of
//! `docs/sor-format.md` for a [`SorReader::range`], with small reads at its ends, or as
//! the lines beginning in an even byte piece for a [`SorReader::part`]); the schema is
//! given or inferred from the first of those rows; they are cut into about sixteen blocks
//! per rayon thread (at most [`crate::blocks::MAX_FRAME_BLOCK_BYTES`] each), and each
//! block is mapped (guarded, so a file shrinking under the read is an error rather than
//! a SIGBUS; or read with `pread`, [`SorReader::memory_map`]), read line by line into
//! typed column builders (plain lines by a fast path
//! that converts each field straight from its bytes, any other line by the general lexer,
//! which decides every deviation) and unmapped, so the file's resident pages stay at the
//! blocks in flight; the blocks' frames are then concatenated without copying. Bytes in
//! memory ([`SorReader::read_bytes`]) are cut into pieces the same way. Line numbers, needed only to report deviations, are counted afterwards and only
//! for the first deviating row, and are always numbers in the whole file.
//!
//! Where the format leaves room, this reader decides:
//! - Every line is a row: a blank (or white-space-only) line is a row whose fields are
//!   all missing, so `<>\n\n` (the suite's `0.sor`) has two rows. A final `\n` does
//!   not start another row.
//! - [`SorReader::range`] follows the format's range rule literally: when `from` is not
//!   0, reading starts after the first `\n` at or after `from` (so a range starting
//!   exactly at a line's first byte skips that line too), and the last line is kept only
//!   when its `\n` lies inside `from .. from + len` or the range reaches the end of the
//!   file.
//!   That rule does not tile a file exactly: of two adjacent ranges, the line holding
//!   the byte where they meet is read by neither. So a file cut into byte ranges for
//!   several workers is read with [`SorReader::part`] instead, where a line belongs to
//!   the piece holding its first byte and every line is read exactly once.
//! - Any field past the schema's last column makes its row deviate, even `<>`.
//! - Missing and malformed fields do not type a column during inference; a malformed
//!   field still counts towards the width. An unsigned integer of value 0 or 1 with
//!   leading zeros (`001`) is a BOOL literal.
//! - Columns left out by [`SorReader::columns`] are not read: their fields are only
//!   scanned for their end (the closing `>`, honouring a quoted string), and the fields
//!   after the last column read not at all. So strict mode and the deviation report
//!   apply to the columns read; a value that does not fit a column left out is not an
//!   error. Only a field left out that is malformed so that it may move the fields after
//!   it (an unclosed `<` or quote, stray text) makes its row deviate. Schema inference
//!   still looks at whole lines.
//! - A FLOAT literal beyond f32's range reads as an infinity.
//!
//! ```
//! use eau2_data::frame::{DataType, Value};
//! use eau2_data::sor::SorReader;
//!
//! let text = b"<1> <hi> <1.5>\n<0> <\"ho ho\"> <2>\n<1> <x> <oops>\n";
//! // Infer the schema from the first two rows only; the third then deviates.
//! let reader = SorReader::new().infer_rows(2);
//! let file = reader.read_bytes(text)?;
//! assert_eq!(file.schema.types(), &[DataType::Bool, DataType::String, DataType::Float]);
//! assert_eq!(file.frame.get(1, 1)?, Some(Value::Str(b"ho ho")));
//! assert_eq!(file.frame.get_as::<f32>(2, 1)?, Some(2.0));
//! // `oops` is not a FLOAT: stored as missing and reported.
//! assert_eq!(file.frame.get_as::<f32>(2, 2)?, None);
//! assert_eq!((file.deviations.rows, file.deviations.first_line), (1, Some(3)));
//!
//! // Strict mode turns that deviation into an error naming line, column and text.
//! let err = reader.strict(true).read_bytes(text).unwrap_err();
//! assert_eq!(err.to_string(), "<bytes>:3: column 2: a STRING value does not fit a FLOAT column: \"<oops>\"");
//! # Ok::<(), eau2_data::Error>(())
//! ```

mod fast;
mod field;
mod infer;
mod input;
mod ints;
pub(crate) mod literal;
pub(crate) mod parse;
mod range;

pub use crate::file::{FileIdentity, FileStamp};
pub use crate::guard::Guard as MapGuard;
pub use ints::{field_text, int_columns, int_rows, IntColumns};

use std::path::Path;

use rayon::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::blocks::{BlockReader, Records};
use crate::error::{Error, Result};
use crate::frame::{DataFrame, DataType, Schema, DEFAULT_CHUNK_LEN};
use input::{InFile, InMemory, Input, Span};
use parse::{Cancel, Part, Plan, Stop};

/// The default number of rows that schema inference looks at.
pub const DEFAULT_INFER_ROWS: usize = 500;

/// Below this many bytes per piece, splitting a read for parallel parsing costs more
/// than it saves.
const DEFAULT_MIN_PART_LEN: usize = 256 * 1024;

/// How many pieces a parallel read cuts its range into, per rayon thread. Threads take
/// pieces as they go, so the last piece bounds how long one thread may wait for another
/// at the end: on a shared machine, where a thread can lose its core for a while, small
/// pieces keep both busy (16 measured 5-10% faster than 4 on 100 MB files with 2
/// threads). Each piece ends its chunks early, so more pieces also mean a few more,
/// shorter chunks.
const PIECES_PER_THREAD: usize = 16;

/// Options for reading a SoR file; a builder. `SorReader::new()` infers the schema,
/// reads the whole file in parallel, builds every column and keeps deviating rows.
#[derive(Clone, Debug)]
pub struct SorReader {
    schema: Option<Schema>,
    names: Option<Vec<String>>,
    strict: bool,
    span: Span,
    columns: Option<Vec<usize>>,
    chunk_len: usize,
    parallel: bool,
    infer_rows: usize,
    min_part_len: usize,
    memory_map: bool,
    /// Whether I64 and F64 columns may be read (see [`SorReader::wide_types`]).
    wide: bool,
    /// Where the bytes of each parsed piece are counted, for a progress display.
    progress: Option<Arc<AtomicU64>>,
}

impl Default for SorReader {
    fn default() -> Self {
        SorReader {
            schema: None,
            names: None,
            strict: false,
            span: Span::WHOLE,
            columns: None,
            chunk_len: DEFAULT_CHUNK_LEN,
            parallel: true,
            infer_rows: DEFAULT_INFER_ROWS,
            min_part_len: DEFAULT_MIN_PART_LEN,
            memory_map: true,
            wide: false,
            progress: None,
        }
    }
}

/// The result of a read.
#[derive(Clone, Debug)]
pub struct SorFile {
    /// The rows read, with the projected columns only.
    pub frame: DataFrame,
    /// The schema of the whole file (every column, before projection).
    pub schema: Schema,
    /// The rows that did not fit the schema.
    pub deviations: Deviations,
}

/// The first field of a strict read that did not fit its column, in a form a loader can
/// act on (widen the column and read again) or turn into an error
/// ([`Misfit::into_error`]).
#[derive(Clone, Debug, PartialEq, Eq, speedy::Readable, speedy::Writable)]
pub struct Misfit {
    /// The 1-based line number in the whole file.
    pub line: u64,
    /// The 0-based column of the file.
    pub column: usize,
    /// The field as written (shortened when very long).
    pub text: String,
    /// Why it does not fit.
    pub reason: String,
    /// The least general type that would hold the value; `None` when no type would (a
    /// malformed field, a field past the last column, a ragged record).
    pub found: Option<DataType>,
}

impl Misfit {
    /// The strict-mode parse error for this misfit in `file`.
    pub fn into_error(self, file: &str) -> Error {
        Error::Parse {
            file: file.to_string(),
            line: self.line,
            column: self.column,
            text: self.text,
            reason: self.reason,
        }
    }
}

/// How many rows deviated from the schema (had a field that did not fit its column,
/// was malformed, or lay past the last column), and where the first one is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Deviations {
    /// The number of deviating rows (each counted once, however many bad fields it has).
    pub rows: u64,
    /// The 1-based line number, in the whole file, of the first deviating row.
    pub first_line: Option<u64>,
}

impl SorReader {
    /// A reader with the default options.
    pub fn new() -> Self {
        Self::default()
    }

    /// Uses `schema` instead of inferring one. It may hold only SoR's four types (BOOL,
    /// INT, FLOAT, STRING) unless [`SorReader::wide_types`] allows I64 and F64; else a
    /// read with an I64 or F64 column fails naming it.
    pub fn schema(mut self, schema: Schema) -> Self {
        self.schema = Some(schema);
        self
    }

    /// Names the file's columns (SoR files have no header), one name per column of the
    /// file, before any projection by [`SorReader::columns`]; all different. Without
    /// names, columns are called `c0`, `c1`, ... after their position in the file. A
    /// read fails when the number of names is not the file's (or the given schema's)
    /// number of columns. Replaces the names of a given schema.
    ///
    /// ```
    /// use eau2_data::sor::SorReader;
    ///
    /// let file = SorReader::new().names(&["pid", "name"]).read_bytes(b"<7> <linux>\n")?;
    /// assert_eq!(file.frame.get_as::<&[u8]>("name", 0)?, Some(&b"linux"[..]));
    /// assert!(SorReader::new().names(&["pid"]).read_bytes(b"<7> <linux>\n").is_err());
    /// # Ok::<(), eau2_data::Error>(())
    /// ```
    pub fn names<N: AsRef<str>>(mut self, names: &[N]) -> Self {
        self.names = Some(names.iter().map(|n| n.as_ref().to_string()).collect());
        self
    }

    /// In strict mode the first deviating field fails the read with [`Error::Parse`];
    /// otherwise (the default) it is stored as missing and counted.
    pub fn strict(mut self, yes: bool) -> Self {
        self.strict = yes;
        self
    }

    /// Reads the lines of the byte range `from .. from + len` (to the end of the file when
    /// `len` is `None`) by the range rule of `docs/sor-format.md`, which `eau2-sor
    /// -from/-len` follows:
    /// - when `from` is not 0, reading starts after the first `\n` at or after `from`,
    ///   so a partial first line is skipped, and so is a line that begins exactly at
    ///   `from` (the first `\n` at or after `from` is its own);
    /// - the last line is kept only when its `\n` lies inside the range (before
    ///   `from + len`), or when the range reaches the end of the file (`len` is `None`
    ///   or `from + len` is at least the file's length); a last line without `\n` is
    ///   kept only in that second case.
    ///
    /// Adjacent ranges do not tile a file: the line holding the byte where they meet is
    /// read by neither. To read a file in pieces, one per worker, use
    /// [`SorReader::part`]. Replaces an earlier `range` or `part`; the default,
    /// `range(0, None)`, is the whole file.
    ///
    /// ```
    /// use eau2_data::sor::SorReader;
    ///
    /// let text = b"<1>\n<2>\n<3>\n<4>\n";
    /// // Bytes 4..12: line <2> starts at 4 and is skipped; <3>'s `\n` is at 11, inside;
    /// // <4>'s is at 15, outside.
    /// let file = SorReader::new().range(4, Some(8)).read_bytes(text)?;
    /// assert_eq!(file.frame.nrows(), 1);
    /// assert_eq!(file.frame.get_as::<i32>(0, 0)?, Some(3));
    /// # Ok::<(), eau2_data::Error>(())
    /// ```
    pub fn range(mut self, from: u64, len: Option<u64>) -> Self {
        self.span = Span::Range { from, len };
        self
    }

    /// Reads piece `index` (from 0) of `count` even pieces of the input: the lines whose
    /// first byte lies in bytes `L * index / count .. L * (index + 1) / count` of an
    /// input of `L` bytes. Because a line belongs to the piece holding its first byte,
    /// reading parts `0..count` and concatenating them reads every row of the input
    /// exactly once, in order; `part(0, 1)` is the whole input. This is how `count`
    /// workers load one file, e.g. `SorReader::new().schema(s).part(rank, size)`.
    ///
    /// Without a given schema, the schema is inferred from the first rows of this part,
    /// so different parts may infer different schemas; for a distributed load, infer
    /// the file's schema once with `range(0, None)` and give it to every part. Line
    /// numbers in errors and deviation reports are numbers in the whole file.
    ///
    /// Replaces an earlier `range` or `part`. A read fails with [`Error::OutOfRange`]
    /// when `index >= count` (so always when `count` is 0).
    ///
    /// ```
    /// use eau2_data::sor::SorReader;
    ///
    /// let text = b"<1>\n<22>\n<333>\n<4444>\n";
    /// let mut rows = Vec::new();
    /// for rank in 0..3 {
    ///     let part = SorReader::new().part(rank, 3).read_bytes(text)?;
    ///     for row in 0..part.frame.nrows() {
    ///         rows.push(part.frame.get_as::<i32>(0, row)?.unwrap());
    ///     }
    /// }
    /// assert_eq!(rows, [1, 22, 333, 4444]);
    /// # Ok::<(), eau2_data::Error>(())
    /// ```
    pub fn part(mut self, index: usize, count: usize) -> Self {
        self.span = Span::Part { index, count };
        self
    }

    /// The schema given with [`SorReader::schema`], if any.
    pub fn given_schema(&self) -> Option<&Schema> {
        self.schema.as_ref()
    }

    /// The names given with [`SorReader::names`], if any.
    pub fn given_names(&self) -> Option<&[String]> {
        self.names.as_deref()
    }

    /// The projection given with [`SorReader::columns`], if any.
    pub fn given_columns(&self) -> Option<&[usize]> {
        self.columns.as_deref()
    }

    /// Whether the reader is strict ([`SorReader::strict`]).
    pub fn is_strict(&self) -> bool {
        self.strict
    }

    /// How many rows inference looks at ([`SorReader::infer_rows`]).
    pub fn rows_to_infer(&self) -> usize {
        self.infer_rows
    }

    /// The chunk length ([`SorReader::chunk_len`]).
    pub fn chunk_rows(&self) -> usize {
        self.chunk_len
    }

    /// Builds only the file columns `cols`, in this order, as the frame's columns (a
    /// column may be named twice). The others are not read: their fields are only
    /// scanned for their end, so strict mode and the deviation report apply to the
    /// columns read (see the module's notes).
    pub fn columns(mut self, cols: &[usize]) -> Self {
        self.columns = Some(cols.to_vec());
        self
    }

    /// Cuts column chunks every `rows` rows (at least 1). Parallel reads may end a
    /// chunk early at the end of each piece of the file.
    pub fn chunk_len(mut self, rows: usize) -> Self {
        self.chunk_len = rows.max(1);
        self
    }

    /// Whether to parse pieces of the range on rayon's threads (the default). The result
    /// is the same either way, up to where chunks are cut.
    pub fn parallel(mut self, yes: bool) -> Self {
        self.parallel = yes;
        self
    }

    /// How many rows (from the start of the range or part) schema inference looks at.
    pub fn infer_rows(mut self, rows: usize) -> Self {
        self.infer_rows = rows;
        self
    }

    /// The smallest piece, in bytes, that a parallel read cuts the range into. Only for
    /// tests that need small inputs to be split.
    #[doc(hidden)]
    pub fn min_part_len(mut self, bytes: usize) -> Self {
        self.min_part_len = bytes.max(1);
        self
    }

    /// Maps each block of a file into memory (`true`, the default) or reads it with
    /// `pread` (`false`). Either way only the blocks of the part or range are read, one
    /// per thread at a time, and a file that changes during the read is an error naming
    /// it, never a crash or a partial result. A map is faster where copying is slow
    /// (20-25% on an INT-only file on a loaded 2-core VM); with `pread` no signal handler
    /// is involved.
    pub fn memory_map(mut self, yes: bool) -> Self {
        self.memory_map = yes;
        self
    }

    /// Allows I64 and F64 columns in a given schema (an integer too large for 32 bits is
    /// then read exactly, and inference by [`SorReader::sample_bytes`] calls it I64). Off
    /// by default: the SoR format has only BOOL, INT, FLOAT and STRING, and `eau2-sor`
    /// keeps to them. Distributed loads turn it on, so that no value is rounded.
    pub fn wide_types(mut self, yes: bool) -> Self {
        self.wide = yes;
        self
    }

    /// The types of a sample of the configured range or part of `bytes`, spread over all
    /// of it: its first rows ([`SorReader::infer_rows`]), windows at evenly spaced
    /// offsets, and its last lines. One entry per column of the widest sampled row,
    /// `None` where no value typed the column. Ranks of a load each sample their own part
    /// and agree on the widest type per column.
    pub fn sample_bytes(&self, bytes: &[u8]) -> Result<Vec<Option<DataType>>> {
        let (start, end) = self.span.resolve(bytes)?;
        InMemory { bytes, start, end }.sample(self.infer_rows, self.wide)
    }

    /// [`SorReader::sample_bytes`] of the configured range or part of an open file:
    /// only the sampled lines are read.
    pub fn sample_file(&self, file: &BlockReader) -> Result<Vec<Option<DataType>>> {
        InFile::new(file, self.span)?.sample(self.infer_rows, self.wide)
    }

    /// Reads SoR text from memory; errors name the input `label`.
    pub fn read_bytes_labeled(&self, bytes: &[u8], label: &str) -> Result<SorFile> {
        self.read_labeled(bytes, label)
    }

    /// A strict read of `bytes` that returns the first field that does not fit as a
    /// [`Misfit`] instead of an error, so that a loader can widen its column and read
    /// again. Other errors (a schema that does not fit the options, a bad part) are
    /// errors.
    pub fn read_bytes_or_misfit(
        &self,
        bytes: &[u8],
    ) -> Result<std::result::Result<SorFile, Misfit>> {
        let (start, end) = self.span.resolve(bytes)?;
        let strict = SorReader {
            strict: true,
            ..self.clone()
        };
        strict.read_input(&InMemory { bytes, start, end })
    }

    /// Counts the bytes of the input parsed so far in `counter` (one relaxed add per
    /// piece, about sixteen pieces per thread), for a progress display.
    pub fn progress(mut self, counter: Arc<AtomicU64>) -> Self {
        self.progress = Some(counter);
        self
    }

    /// Infers the schema of the file at `path`, over the configured range or part, without
    /// reading the rest of the file.
    pub fn infer_path(&self, path: &Path) -> Result<Schema> {
        self.infer_file(&self.open(path)?)
    }

    /// [`SorReader::infer_path`] of an open file.
    pub fn infer_file(&self, file: &BlockReader) -> Result<Schema> {
        let schema = self.schema_for(&InFile::new(file, self.span)?);
        file.check()?;
        schema
    }

    /// Infers the schema of `bytes` over the configured range or part (or returns the
    /// given schema).
    pub fn infer_bytes(&self, bytes: &[u8]) -> Result<Schema> {
        let (start, end) = self.span.resolve(bytes)?;
        self.schema_for(&InMemory { bytes, start, end })
    }

    /// Reads the file at `path` block by block (see [`SorReader::read_file`]).
    pub fn read_path(&self, path: &Path) -> Result<SorFile> {
        self.read_file(&self.open(path)?)
    }

    /// Reads the configured range or part of an open file, block by block: each block of
    /// whole lines is mapped (or read, see [`SorReader::memory_map`]), parsed into the
    /// frame's column chunks and unmapped, so resident memory stays at the blocks in
    /// flight. A file that changes during the read is an error naming it, never a crash
    /// or a partial result; errors name the file and the line.
    pub fn read_file(&self, file: &BlockReader) -> Result<SorFile> {
        let label = file.path().display().to_string();
        let _span = tracing::debug_span!("sor_read", path = %label).entered();
        let read = self.read_input(&InFile::new(file, self.span)?);
        // A change explains any error the read made of the bytes, so it comes first.
        file.check()?;
        read?.map_err(|m| m.into_error(&label))
    }

    /// A strict read of an open file that returns the first field that does not fit as
    /// a [`Misfit`] (as [`SorReader::read_bytes_or_misfit`]).
    pub fn read_file_or_misfit(
        &self,
        file: &BlockReader,
    ) -> Result<std::result::Result<SorFile, Misfit>> {
        let strict = SorReader {
            strict: true,
            ..self.clone()
        };
        let read = strict.read_input(&InFile::new(file, self.span)?);
        file.check()?;
        read
    }

    /// Opens `path` to read its lines, mapped or not as configured.
    fn open(&self, path: &Path) -> Result<BlockReader> {
        Ok(BlockReader::open(path, Records::Lines)?.memory_map(self.memory_map))
    }

    /// Reads SoR text from memory; errors name the input `<bytes>`.
    pub fn read_bytes(&self, bytes: &[u8]) -> Result<SorFile> {
        self.read_labeled(bytes, "<bytes>")
    }

    /// The schema of the read: given or inferred, with the names given, and checked to
    /// hold only SoR's types.
    fn schema_for(&self, input: &impl Input) -> Result<Schema> {
        let schema = match &self.schema {
            Some(schema) => schema.clone(),
            None => input.infer(self.infer_rows)?,
        };
        if let Some(col) = schema
            .types()
            .iter()
            .position(|t| !t.is_sor() && !self.wide)
        {
            return Err(Error::Schema(format!(
                "column {col} ({:?}) is {}, but a SoR file holds only BOOL, INT, FLOAT and STRING",
                schema.names()[col],
                schema.types()[col]
            )));
        }
        match &self.names {
            Some(names) if names.len() != schema.width() => Err(Error::Schema(format!(
                "{} column names given for SoR data of {} columns ({})",
                names.len(),
                schema.width(),
                schema.codes()
            ))),
            Some(names) => schema.with_names(names),
            None => Ok(schema),
        }
    }

    fn read_labeled(&self, bytes: &[u8], label: &str) -> Result<SorFile> {
        let (start, end) = self.span.resolve(bytes)?;
        self.read_input(&InMemory { bytes, start, end })?
            .map_err(|m| m.into_error(label))
    }

    /// Reads the lines of `input`, in parallel pieces unless told otherwise; in strict
    /// mode the first deviation is returned as a [`Misfit`].
    fn read_input(&self, input: &impl Input) -> Result<std::result::Result<SorFile, Misfit>> {
        let schema = self.schema_for(input)?;
        let (cols, build) = schema.columns_to_build(self.columns.as_deref())?;
        let plan = Plan {
            types: schema.types(),
            build: &build,
            chunk_len: self.chunk_len,
            strict: self.strict,
            // The fast path converts SoR's four types and I64.
            fast: !schema.types().contains(&DataType::F64),
        };
        let parts = if self.parallel {
            PIECES_PER_THREAD * rayon::current_num_threads()
        } else {
            1
        };
        let pieces = input.pieces(parts, self.min_part_len);
        let cancel = Cancel::new();
        let parse = |(i, &piece): (usize, &(usize, usize))| {
            let part = input.parse(piece, &plan, i, &cancel);
            if let Some(counter) = &self.progress {
                counter.fetch_add((piece.1 - piece.0) as u64, Ordering::Relaxed);
            }
            part
        };
        let results: Vec<Result<Result<Part, Stop>>> = if self.parallel && pieces.len() > 1 {
            pieces.par_iter().enumerate().map(parse).collect()
        } else {
            pieces.iter().enumerate().map(parse).collect()
        };

        let projected = schema.project(&cols)?;
        let mut frames = Vec::with_capacity(results.len());
        let mut deviations = Deviations::default();
        let mut first_offset = None;
        for result in results {
            let part = match result? {
                Ok(part) => part,
                Err(Stop::Deviation(d)) => {
                    let found = match d.problem {
                        parse::Problem::Mismatch { .. } => Some(field_type(&d.text, self.wide)),
                        _ => None,
                    };
                    return Ok(Err(Misfit {
                        line: input.line_number(d.line_start)?,
                        column: d.column,
                        text: String::from_utf8_lossy(&d.text).into_owned(),
                        reason: d.problem.to_string(),
                        found,
                    }));
                }
                // Only parts after a failed one are cancelled, and that failure comes
                // first in this loop.
                Err(Stop::Cancelled) => unreachable!("a part was cancelled but none failed"),
            };
            deviations.rows += part.deviated_rows;
            first_offset = first_offset.or(part.first_deviation);
            let built = part.columns;
            let columns = cols
                .iter()
                .map(|&c| built[c].clone())
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| Error::Schema("a projected column was not built".into()))?;
            frames.push(DataFrame::new(projected.clone(), columns)?);
        }
        deviations.first_line = match first_offset {
            Some(o) => Some(input.line_number(o)?),
            None => None,
        };
        input.finish()?;
        Ok(Ok(SorFile {
            frame: DataFrame::concat(frames)?,
            schema,
            deviations,
        }))
    }
}

/// The least general type that holds a field written `text` (with its brackets), for a
/// field that is not malformed: STRING when quoted, else by its literal.
fn field_type(text: &[u8], wide: bool) -> DataType {
    let inner = text.trim_ascii();
    let inner = inner.strip_prefix(b"<").unwrap_or(inner);
    let inner = inner.strip_suffix(b">").unwrap_or(inner).trim_ascii();
    if inner.first() == Some(&b'"') {
        DataType::String
    } else if wide {
        literal::wide_dtype(inner)
    } else {
        literal::classify(inner).dtype()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{DataType, Value};

    /// Every value of a frame, row by row, in a form that compares across chunk layouts.
    fn rows(frame: &DataFrame) -> Vec<Vec<Option<String>>> {
        (0..frame.nrows())
            .map(|r| {
                (0..frame.ncols())
                    .map(|c| {
                        frame.get(c, r).unwrap().map(|v| match v {
                            Value::Bool(b) => format!("{}", b as u8),
                            Value::Int(i) => format!("{i}"),
                            Value::Float(f) => format!("{f:?}"),
                            Value::Str(s) => format!("{:?}", String::from_utf8_lossy(s)),
                            other => format!("{other:?}"),
                        })
                    })
                    .collect()
            })
            .collect()
    }

    fn cell(text: &str) -> Option<String> {
        (text != "-").then(|| text.to_string())
    }

    fn table(rows: &[&[&str]]) -> Vec<Vec<Option<String>>> {
        rows.iter()
            .map(|r| r.iter().map(|s| cell(s)).collect())
            .collect()
    }

    const SUITE_2: &[u8] = b"<1> <>   <1.2> <hi>\n<0> <12> <-.2> < \"ho ho ho\" >\n";

    #[test]
    fn names_name_the_columns_and_default_to_c0() {
        let file = SorReader::new().read_bytes(SUITE_2).unwrap();
        assert_eq!(file.schema.names(), ["c0", "c1", "c2", "c3"]);
        assert_eq!(file.frame.schema().names(), ["c0", "c1", "c2", "c3"]);
        let reader = SorReader::new().names(&["ok", "n", "x", "s"]);
        let file = reader.clone().columns(&[3, 1]).read_bytes(SUITE_2).unwrap();
        assert_eq!(file.schema.names(), ["ok", "n", "x", "s"]);
        assert_eq!(file.frame.schema().names(), ["s", "n"]);
        assert_eq!(file.frame.get_as::<i32>("n", 1).unwrap(), Some(12));
        let err = file.frame.get_as::<i32>("s", 0).unwrap_err().to_string();
        assert_eq!(err, "column 0 (\"s\") is STRING, not INT");
        // Given a schema, the names still apply; a wrong count or a repeat is an error.
        let given = reader
            .clone()
            .schema(Schema::from_codes("BIFS").unwrap())
            .read_bytes(SUITE_2)
            .unwrap();
        assert_eq!(given.frame.schema().names(), ["ok", "n", "x", "s"]);
        let err = SorReader::new()
            .names(&["a"])
            .read_bytes(SUITE_2)
            .unwrap_err();
        assert!(err
            .to_string()
            .contains("1 column names given for SoR data of 4 columns"));
        assert!(SorReader::new()
            .names(&["a", "b", "c", "a"])
            .read_bytes(SUITE_2)
            .is_err());
    }

    #[test]
    fn sixty_four_bit_schemas_are_refused() {
        let schema = Schema::named([("n", DataType::I64)]).unwrap();
        let err = SorReader::new()
            .schema(schema)
            .read_bytes(b"<1>\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("column 0 (\"n\") is I64"), "{err}");
    }

    #[test]
    fn reads_the_suite_file_2() {
        let file = SorReader::new().read_bytes(SUITE_2).unwrap();
        assert_eq!(file.schema.codes(), "BIFS");
        assert_eq!(
            rows(&file.frame),
            table(&[
                &["1", "-", "1.2", "\"hi\""],
                &["0", "12", "-0.2", "\"ho ho ho\""]
            ])
        );
        assert_eq!(file.deviations, Deviations::default());
    }

    #[test]
    fn zero_sor_is_a_missing_row_and_a_blank_row() {
        let file = SorReader::new().read_bytes(b"<>\n\n").unwrap();
        assert_eq!(file.schema.codes(), "B");
        assert_eq!(rows(&file.frame), table(&[&["-"], &["-"]]));
    }

    #[test]
    fn crlf_and_no_final_newline() {
        let file = SorReader::new()
            .read_bytes(b"<1><a>\r\n<0><\"b c\">\r\n<1>")
            .unwrap();
        assert_eq!(
            rows(&file.frame),
            table(&[&["1", "\"a\""], &["0", "\"b c\""], &["1", "-"]])
        );
    }

    #[test]
    fn given_schema_skips_inference() {
        let reader = SorReader::new().schema(Schema::from_codes("FS").unwrap());
        let file = reader.read_bytes(b"<1><2>\n<x><y>\n").unwrap();
        assert_eq!(file.schema.codes(), "FS");
        assert_eq!(
            rows(&file.frame),
            table(&[&["1.0", "\"2\""], &["-", "\"y\""]])
        );
        assert_eq!(file.deviations.rows, 1);
        assert_eq!(file.deviations.first_line, Some(2));
        assert_eq!(reader.infer_bytes(b"<1>").unwrap().codes(), "FS");
    }

    #[test]
    fn rows_after_inference_may_deviate() {
        let text = b"<1><2>\n<1><3>\n<x><4><5>\n<0><2.5>\n";
        let file = SorReader::new().infer_rows(2).read_bytes(text).unwrap();
        assert_eq!(file.schema.codes(), "BI");
        assert_eq!(file.deviations.rows, 2);
        assert_eq!(file.deviations.first_line, Some(3));
        assert_eq!(
            rows(&file.frame),
            table(&[&["1", "2"], &["1", "3"], &["-", "4"], &["0", "-"]])
        );
        match SorReader::new().infer_rows(2).strict(true).read_bytes(text) {
            Err(Error::Parse {
                file,
                line,
                column,
                text,
                reason,
            }) => {
                assert_eq!((file.as_str(), line, column), ("<bytes>", 3, 0));
                assert_eq!(text, "<x>");
                assert_eq!(reason, "a STRING value does not fit a BOOL column");
            }
            other => panic!("expected a parse error, got {other:?}"),
        }
    }

    #[test]
    fn projection_builds_only_the_asked_columns() {
        let text = b"<1><2><a>\n<0><x><b>\n";
        let reader = SorReader::new().infer_rows(1);
        let file = reader.clone().columns(&[2, 0, 2]).read_bytes(text).unwrap();
        assert_eq!(file.schema.codes(), "BIS");
        assert_eq!(file.frame.schema().codes(), "SBS");
        assert_eq!(
            rows(&file.frame),
            table(&[&["\"a\"", "1", "\"a\""], &["\"b\"", "0", "\"b\""]])
        );
        // Column 1 is not read, so its `x` is not checked (only read columns are).
        assert_eq!(file.deviations.rows, 0);
        let all = reader.clone().read_bytes(text).unwrap();
        assert_eq!(all.deviations.rows, 1);
        assert!(matches!(
            SorReader::new().columns(&[3]).read_bytes(text),
            Err(Error::OutOfRange {
                index: 3,
                len: 3,
                ..
            })
        ));
        let none = SorReader::new().columns(&[]).read_bytes(text).unwrap();
        assert_eq!(none.frame.ncols(), 0);
    }

    #[test]
    fn ranges_infer_and_number_lines_in_the_whole_file() {
        // The first line would make column 0 a STRING; the range starts after it.
        // Lines start at 0, 6, 10, 14 and 18.
        let text = b"<abc>\n<1>\n<2>\n<x>\n<3>\n";
        // Bytes 1..15 hold the `\n`s of <1> (9) and <2> (13), not that of <x> (17).
        let reader = SorReader::new().range(1, Some(14)).infer_rows(1);
        assert_eq!(reader.infer_bytes(text).unwrap().codes(), "B");
        let file = reader.read_bytes(text).unwrap();
        assert_eq!(rows(&file.frame), table(&[&["1"], &["-"]]));
        assert_eq!(file.deviations.first_line, Some(3));
        // From <2>'s `\n` (13): the next line on.
        let tail = SorReader::new().range(13, None).read_bytes(text).unwrap();
        assert_eq!(rows(&tail.frame), table(&[&["\"x\""], &["\"3\""]]));
        // From <x>'s first byte (14): <x> is skipped too.
        let tail = SorReader::new().range(14, None).read_bytes(text).unwrap();
        assert_eq!(rows(&tail.frame), table(&[&["3"]]));
    }

    #[test]
    fn parts_infer_from_their_own_rows_and_number_lines_in_the_whole_file() {
        // 22 bytes; in 2 parts the cut is at byte 11, inside <2>, which part 0 keeps.
        let text = b"<abc>\n<1>\n<2>\n<x>\n<3>\n";
        let part = |i| SorReader::new().part(i, 2).infer_rows(2);
        assert_eq!(part(0).infer_bytes(text).unwrap().codes(), "S");
        let first = part(0).read_bytes(text).unwrap();
        assert_eq!(
            rows(&first.frame),
            table(&[&["\"abc\""], &["\"1\""], &["\"2\""]])
        );
        // Part 1's schema comes from <x> and <3>; with BOOL given, <x> deviates on line 4.
        let second = part(1).read_bytes(text).unwrap();
        assert_eq!(second.schema.codes(), "S");
        let given = part(1).schema(Schema::from_codes("B").unwrap());
        let second = given.read_bytes(text).unwrap();
        assert_eq!(rows(&second.frame), table(&[&["-"], &["-"]]));
        assert_eq!(second.deviations.rows, 2);
        assert_eq!(second.deviations.first_line, Some(4));
        let err = given.strict(true).read_bytes(text).unwrap_err();
        assert!(err.to_string().starts_with("<bytes>:4: column 0:"), "{err}");
    }

    #[test]
    fn part_and_range_replace_each_other() {
        let text = b"<1>\n<2>\n<3>\n<4>\n";
        let ints = |reader: SorReader| {
            let file = reader.read_bytes(text).unwrap();
            (0..file.frame.nrows())
                .map(|r| file.frame.get_as::<i32>(0, r).unwrap().unwrap())
                .collect::<Vec<_>>()
        };
        let schema = Schema::from_codes("I").unwrap();
        let reader = SorReader::new().schema(schema);
        assert_eq!(ints(reader.clone()), [1, 2, 3, 4]);
        assert_eq!(ints(reader.clone().part(0, 1)), [1, 2, 3, 4]);
        assert_eq!(ints(reader.clone().part(1, 2)), [3, 4]);
        assert_eq!(ints(reader.clone().range(0, Some(8)).part(1, 2)), [3, 4]);
        assert_eq!(ints(reader.clone().part(1, 2).range(0, Some(8))), [1, 2]);
        assert_eq!(ints(reader.clone().part(3, 4).range(0, None)), [1, 2, 3, 4]);
    }

    #[test]
    fn parts_that_do_not_exist_are_errors() {
        for (index, count) in [(2, 2), (0, 0), (usize::MAX, 3)] {
            let reader = SorReader::new().part(index, count);
            for result in [
                reader.read_bytes(b"<1>\n").map(|f| f.schema),
                reader.infer_bytes(b"<1>\n"),
                reader.read_bytes(b"").map(|f| f.schema),
            ] {
                assert!(
                    matches!(result, Err(Error::OutOfRange { what: "part", .. })),
                    "{result:?}"
                );
            }
        }
        let err = SorReader::new().part(2, 2).read_bytes(b"").unwrap_err();
        assert_eq!(err.to_string(), "part 2 is out of range (there are 2)");
    }

    #[test]
    fn empty_inputs() {
        for text in [&b""[..], b"\n\n", b"  \r\n"] {
            let file = SorReader::new().read_bytes(text).unwrap();
            assert_eq!(file.schema.width(), 0);
            assert_eq!(file.frame.nrows(), 0);
        }
        let dir = std::env::temp_dir().join(format!("eau2-sor-empty-{}", std::process::id()));
        std::fs::write(&dir, b"").unwrap();
        let file = SorReader::new().read_path(&dir).unwrap();
        assert_eq!(file.frame.nrows(), 0);
        std::fs::remove_file(&dir).unwrap();
    }

    #[test]
    fn missing_files_are_io_errors() {
        let err = SorReader::new()
            .read_path(Path::new("/no/such/file.sor"))
            .unwrap_err();
        assert!(matches!(err, Error::Io { .. }));
        assert!(err.to_string().contains("/no/such/file.sor"), "{err}");
    }

    fn generated(rows: usize) -> Vec<u8> {
        let mut text = Vec::new();
        for i in 0..rows {
            let line = match i % 7 {
                0 => format!("<{}> <{}> <{}.5> <\"s {i}\">\n", i % 2, i, i),
                1 => format!("<1><-{i}><{i}e-3><w{i}>\r\n"),
                2 => "\n".to_string(),
                3 => format!("<0><{i}>\n"),
                4 if i % 5 == 0 => "<0><bad><1><x><extra>\n".to_string(),
                5 if i % 3 == 0 => "<1><2><3><\"unclosed\n".to_string(),
                _ => format!("< 1 > < {i} > < .{i} > < \"<{i}>\" >\n"),
            };
            text.extend_from_slice(line.as_bytes());
        }
        text
    }

    #[test]
    fn parallel_equals_sequential() {
        let text = generated(5000);
        let seq = SorReader::new().parallel(false).read_bytes(&text).unwrap();
        assert!(seq.deviations.rows > 0);
        for min_part_len in [1, 100, 5000] {
            for chunk_len in [1, 7, 1000] {
                let par = SorReader::new()
                    .min_part_len(min_part_len)
                    .chunk_len(chunk_len)
                    .read_bytes(&text)
                    .unwrap();
                assert_eq!(par.schema, seq.schema);
                assert_eq!(rows(&par.frame), rows(&seq.frame));
                assert_eq!(par.deviations, seq.deviations);
            }
        }
    }

    #[test]
    fn parallel_strict_reports_the_first_deviation() {
        let mut text = generated(3000);
        text.extend_from_slice(b"<1><1><1><1><1>\n");
        let reader = SorReader::new().infer_rows(3).strict(true);
        let seq = reader
            .clone()
            .parallel(false)
            .read_bytes(&text)
            .unwrap_err();
        let par = reader.min_part_len(64).read_bytes(&text).unwrap_err();
        assert_eq!(seq.to_string(), par.to_string());
        assert_eq!(
            seq.to_string(),
            "<bytes>:13: column 3: malformed field (no closing quote on the line): \"<\\\"unclosed\""
        );
    }

    #[test]
    fn chunks_are_cut_at_chunk_len() {
        let text = generated(100);
        let file = SorReader::new().chunk_len(16).read_bytes(&text).unwrap();
        let col = file.frame.column(0).unwrap();
        assert!(col.chunks().iter().all(|c| c.len() <= 16));
        assert_eq!(col.dtype(), DataType::Bool);
    }
}

#[cfg(test)]
mod wide_tests {
    use super::*;
    use crate::frame::DataType;

    /// With wide types, I64 and F64 columns are read exactly; misfits say what they need.
    #[test]
    fn wide_columns_read_exactly_and_misfits_name_the_type() {
        let text = b"<1> <0.5>\n<5000000000> <2>\n<-9000000000000> <>\n";
        let schema = Schema::named([("n", DataType::I64), ("x", DataType::F64)]).unwrap();
        let reader = SorReader::new().wide_types(true).schema(schema);
        let file = reader.read_bytes(text).unwrap();
        assert_eq!(
            file.frame.get_as::<i64>("n", 1).unwrap(),
            Some(5_000_000_000)
        );
        assert_eq!(
            file.frame.get_as::<i64>("n", 2).unwrap(),
            Some(-9_000_000_000_000)
        );
        assert_eq!(file.frame.get_as::<f64>("x", 0).unwrap(), Some(0.5));
        assert_eq!(file.frame.get_as::<f64>("x", 2).unwrap(), None);
        let int = SorReader::new()
            .wide_types(true)
            .schema(Schema::from_codes("IF").unwrap());
        let misfit = int.read_bytes_or_misfit(text).unwrap().unwrap_err();
        assert_eq!((misfit.line, misfit.column), (2, 0));
        assert_eq!(misfit.found, Some(DataType::I64));
        // Without wide types a big integer is SoR's FLOAT.
        let narrow = SorReader::new().schema(Schema::from_codes("IF").unwrap());
        let misfit = narrow.read_bytes_or_misfit(text).unwrap().unwrap_err();
        assert_eq!(misfit.found, Some(DataType::Float));
        let bad = SorReader::new()
            .schema(Schema::from_codes("I").unwrap())
            .read_bytes_or_misfit(b"<1>\n<\"x>\n<1><2>\n")
            .unwrap()
            .unwrap_err();
        assert_eq!((bad.line, bad.found), (2, None));
        let quoted = SorReader::new()
            .schema(Schema::from_codes("I").unwrap())
            .read_bytes_or_misfit(b"<1>\n< \"x\" >\n")
            .unwrap()
            .unwrap_err();
        assert_eq!(quoted.found, Some(DataType::String));
    }
}
