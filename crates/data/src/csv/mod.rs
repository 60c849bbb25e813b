//! Reading CSV files (RFC 4180) into data frames, in parallel and by byte parts.
//!
//! [`CsvReader`] is a builder of read options; [`CsvReader::read_path`] (or
//! [`CsvReader::read_bytes`]) returns a [`CsvFile`]: the [`DataFrame`], the file's
//! [`Schema`] (with column names) and the [`Deviations`] report, as the SoR reader does.
//!
//! The format: records end with `\n` or `\r\n` (the last one may have neither); fields
//! are separated by a delimiter (`,` by default); a field may be quoted with `"`, and
//! then holds delimiters, line breaks and quotes written `""`. An empty field is a
//! missing value (a quoted empty field `""` is an empty string). The first record is a
//! header of column names unless [`CsvReader::header`] says otherwise (then columns are
//! named `c0, c1, ...`). A UTF-8 byte-order mark at the start is skipped. Every record is
//! a row: a blank line is a row of missing values. A record with a different number of
//! fields from the schema is *ragged*.
//!
//! Types are inferred from the first 500 records: an unsigned 0 or 1 (or `true`/`false`)
//! is BOOL, other integers that fit 64 bits I64, other numbers F64, the rest STRING, each
//! column widened to the most general type among its values; a quoted value is typed by
//! its text; a column with no value in the sample is STRING. A schema may be given
//! instead ([`CsvReader::schema`]). An empty input has no header: an error unless a
//! schema is given. Distributed loads (`DistFrame::read`) also sample every part
//! ([`CsvReader::sample_bytes`]) and widen a column when a later value needs it
//! ([`CsvReader::read_bytes_or_misfit`]).
//!
//! Reads are strict by default: the first ragged record, malformed field (a quote inside
//! an unquoted field, a missing closing quote, text after one) or value that does not
//! fit its column fails the read with an error naming the file, line and column. With
//! `strict(false)` such rows are kept (their bad fields missing) and counted.
//!
//! How bytes flow: a quote's parity decides everything (see `records`): a `\n` ends a
//! record exactly when an even number of quotes precede it. So a byte range, given only
//! the parity of the quotes before it, finds its first record exactly. A read cuts its
//! byte part into pieces, counts each piece's quotes in parallel, takes the exclusive
//! prefix of those counts, and parses each piece's records in parallel into column
//! builders; the pieces' frames are concatenated without copying. A part of a file
//! ([`CsvReader::part`]) is the records whose first byte lies in that byte range; the
//! parity at its start is counted, or given by the caller (a distributed load takes it
//! from an exclusive scan of the ranks' counts, [`CsvReader::part_quotes_path`]). For any
//! cut, sequential, parallel and part-by-part reads give the same rows.
//!
//! ```
//! use eau2_data::csv::CsvReader;
//! use eau2_data::frame::DataType;
//!
//! let text = b"id,name,score\n1,\"Smith, J\",2.5\r\n2,\"say \"\"hi\"\"\n\",\n";
//! let file = CsvReader::new().read_bytes(text)?;
//! assert_eq!(file.schema.types(), &[DataType::I64, DataType::String, DataType::F64]);
//! assert_eq!(file.schema.name(1)?, "name");
//! assert_eq!(file.frame.get_as::<&[u8]>(1, 0)?, Some(&b"Smith, J"[..]));
//! assert_eq!(file.frame.get_as::<&[u8]>(1, 1)?, Some(&b"say \"hi\"\n"[..]));
//! assert_eq!(file.frame.get_as::<f64>(2, 1)?, None);
//!
//! // A ragged record is an error naming its line.
//! let err = CsvReader::new().read_bytes(b"a,b\n1,2\n3\n").unwrap_err();
//! assert_eq!(err.to_string(), "<bytes>:3: column 1: the record has 1 fields, not 2: \"3\"");
//! # Ok::<(), eau2_data::Error>(())
//! ```

mod infer;
mod parse;
pub(crate) mod records;
mod source;
mod types;

use std::path::Path;

use rayon::prelude::*;

use crate::blocks::{BlockReader, Records, MAX_FRAME_BLOCK_BYTES};
use crate::error::{Error, Result};
use crate::frame::{DataFrame, DataType, Schema, DEFAULT_CHUNK_LEN};
use crate::sor::parse::Cancel;
pub use crate::sor::{Deviations, Misfit};
use parse::{Part, Plan, Stop};
use source::{Source, STEP};

/// The default number of records that schema inference looks at.
pub const DEFAULT_INFER_ROWS: usize = 500;

/// Below this many bytes per piece, splitting a read for parallel parsing costs more
/// than it saves.
const DEFAULT_MIN_PART_LEN: usize = 256 * 1024;

/// How many pieces a parallel read cuts its range into, per rayon thread (as the SoR
/// reader does, so that a thread that loses its core for a while delays little).
const PIECES_PER_THREAD: usize = 16;

/// The UTF-8 byte-order mark, skipped at the start of a file.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Options for reading a CSV file; a builder. `CsvReader::new()` expects a header,
/// splits at `,`, infers the schema, reads the whole file in parallel and is strict.
#[derive(Clone, Debug)]
pub struct CsvReader {
    schema: Option<Schema>,
    header: bool,
    delimiter: u8,
    strict: bool,
    part: (usize, usize),
    odd_before: Option<bool>,
    chunk_len: usize,
    parallel: bool,
    infer_rows: usize,
    min_part_len: usize,
    memory_map: bool,
    /// The file columns to build, in this order (all when `None`).
    columns: Option<Vec<usize>>,
}

impl Default for CsvReader {
    fn default() -> Self {
        CsvReader {
            schema: None,
            header: true,
            delimiter: b',',
            strict: true,
            part: (0, 1),
            odd_before: None,
            chunk_len: DEFAULT_CHUNK_LEN,
            parallel: true,
            infer_rows: DEFAULT_INFER_ROWS,
            min_part_len: DEFAULT_MIN_PART_LEN,
            memory_map: true,
            columns: None,
        }
    }
}

/// The result of a read.
#[derive(Clone, Debug)]
pub struct CsvFile {
    /// The rows read.
    pub frame: DataFrame,
    /// The file's schema, every column named.
    pub schema: Schema,
    /// The rows that were ragged or had a field that was malformed or did not fit its
    /// column (always none after a strict read).
    pub deviations: Deviations,
}

impl CsvReader {
    /// A reader with the default options.
    pub fn new() -> Self {
        Self::default()
    }

    /// Uses `schema` instead of inferring one. Its column names are kept; unnamed
    /// columns take the header's names (or `c0, c1, ...`). With a header, the header must
    /// have as many fields as the schema has columns.
    pub fn schema(mut self, schema: Schema) -> Self {
        self.schema = Some(schema);
        self
    }

    /// The schema given with [`CsvReader::schema`], if any.
    pub fn given_schema(&self) -> Option<&Schema> {
        self.schema.as_ref()
    }

    /// Whether the reader is strict ([`CsvReader::strict`]).
    pub fn is_strict(&self) -> bool {
        self.strict
    }

    /// Whether the first record is a header ([`CsvReader::header`]).
    pub fn has_header(&self) -> bool {
        self.header
    }

    /// The field separator ([`CsvReader::delimiter`]).
    pub fn delimiter_byte(&self) -> u8 {
        self.delimiter
    }

    /// How many records inference looks at ([`CsvReader::infer_rows`]).
    pub fn rows_to_infer(&self) -> usize {
        self.infer_rows
    }

    /// The chunk length ([`CsvReader::chunk_len`]).
    pub fn chunk_rows(&self) -> usize {
        self.chunk_len
    }

    /// Whether the first record is a header of column names (the default) or data.
    pub fn header(mut self, yes: bool) -> Self {
        self.header = yes;
        self
    }

    /// The field separator (`,` by default; `\t`, `;`, `|` ...). A quote or a line end
    /// cannot be one.
    pub fn delimiter(mut self, byte: u8) -> Self {
        self.delimiter = byte;
        self
    }

    /// In strict mode (the default) the first ragged record, malformed field or value
    /// that does not fit its column fails the read with [`Error::Parse`]; otherwise the
    /// row is kept, its bad fields missing, and counted in [`CsvFile::deviations`].
    pub fn strict(mut self, yes: bool) -> Self {
        self.strict = yes;
        self
    }

    /// Reads part `index` (from 0) of `count` even byte pieces: the records whose first
    /// byte lies in bytes `L * index / count .. L * (index + 1) / count` of an input of
    /// `L` bytes (records found by quote parity, so a quoted line break never starts
    /// one). Reading parts `0..count` and concatenating them reads every row once, in
    /// order. The header and the inferred schema always come from the start of the file,
    /// so every part has the same schema. A read fails with [`Error::OutOfRange`] when
    /// `index >= count`.
    pub fn part(mut self, index: usize, count: usize) -> Self {
        self.part = (index, count);
        self.odd_before = None;
        self
    }

    /// Tells a part read whether an odd number of quotes lie before its byte range,
    /// sparing it from counting them: the exclusive prefix sum of
    /// [`CsvReader::part_quotes_path`] over the parts before, modulo 2. A wrong value
    /// gives wrong records; for tests and distributed loads.
    pub fn quotes_before_part(mut self, odd: bool) -> Self {
        self.odd_before = Some(odd);
        self
    }

    /// Builds only the file columns `cols` (0-based), in this order, as the frame's
    /// columns; a column may be named twice. The columns left out are not read: their
    /// fields are only found (by quote parity) and never decoded, so strict mode and the
    /// deviation count apply to the columns read (a ragged record still deviates: the
    /// record's shape is not a column's). A read fails with [`Error::OutOfRange`] when a
    /// column is past the file's last.
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

    /// Whether to parse pieces on rayon's threads (the default). The result is the same
    /// either way, up to where chunks are cut.
    pub fn parallel(mut self, yes: bool) -> Self {
        self.parallel = yes;
        self
    }

    /// How many records (after the header) schema inference looks at.
    pub fn infer_rows(mut self, rows: usize) -> Self {
        self.infer_rows = rows;
        self
    }

    /// The smallest piece, in bytes, that a parallel read cuts its part into. Only for
    /// tests that need small inputs to be split.
    #[doc(hidden)]
    pub fn min_part_len(mut self, bytes: usize) -> Self {
        self.min_part_len = bytes.max(1);
        self
    }

    /// Maps each block of a file into memory (`true`, the default; guarded, so a file
    /// that shrinks is an error, not a SIGBUS) or reads it with `pread` (`false`). Either
    /// way a part reads only its own blocks (plus the rest of its last record), and a file
    /// that changes during the read is an error naming it.
    pub fn memory_map(mut self, yes: bool) -> Self {
        self.memory_map = yes;
        self
    }

    /// The schema of the file at `path`: the given one (named by the header), or the one
    /// inferred from its header and first records.
    pub fn infer_path(&self, path: &Path) -> Result<Schema> {
        self.infer_file(&self.open(path)?)
    }

    /// [`CsvReader::infer_path`] of an open file: only its head is read.
    pub fn infer_file(&self, file: &BlockReader) -> Result<Schema> {
        let schema = self.schema_of(&Source::File(file.opened()));
        file.check()?;
        schema.map(|h| h.0)
    }

    /// The schema of `bytes`, as [`CsvReader::infer_path`].
    pub fn infer_bytes(&self, bytes: &[u8]) -> Result<Schema> {
        self.schema_of(&Source::Memory(bytes)).map(|h| h.0)
    }

    /// The number of quotes in this reader's byte part of the file at `path` (the whole
    /// file by default): what ranks sum with an exclusive scan to learn the parity before
    /// their parts ([`CsvReader::quotes_before_part`]).
    pub fn part_quotes_path(&self, path: &Path) -> Result<u64> {
        self.part_quotes_file(&self.open(path)?)
    }

    /// [`CsvReader::part_quotes_path`] of an open file, counted block by block. When
    /// `file` already reads this reader's part, the counts stay with it for the read.
    pub fn part_quotes_file(&self, file: &BlockReader) -> Result<u64> {
        let (from, to) = self.byte_part(file.file_len() as usize)?;
        if file.bounds() == (from as u64, to as u64) {
            return file.count_quotes();
        }
        file.clone().part(self.part.0, self.part.1)?.count_quotes()
    }

    /// The number of quotes in this reader's byte part of `bytes`.
    pub fn part_quotes_bytes(&self, bytes: &[u8]) -> Result<u64> {
        self.part_quotes(&Source::Memory(bytes))
    }

    /// Reads the file at `path` (its configured part) block by block (see
    /// [`CsvReader::read_file`]).
    pub fn read_path(&self, path: &Path) -> Result<CsvFile> {
        self.read_file(&self.open(path)?)
    }

    /// Reads this reader's part of an open file block by block: records are cut by quote
    /// parity (each block's quotes counted first, so a quoted line break may cross a
    /// block boundary), and each block is mapped (or read, see
    /// [`CsvReader::memory_map`]), parsed into column chunks and unmapped, so resident
    /// memory stays at the blocks in flight. A file that changes during the read is an
    /// error naming it; errors name the file and the line.
    pub fn read_file(&self, file: &BlockReader) -> Result<CsvFile> {
        let label = file.path().display().to_string();
        self.read_file_or_misfit_as(file, self.strict)?
            .map_err(|m| m.into_error(&label))
    }

    /// A strict read of an open file that returns the first field that does not fit as
    /// a [`Misfit`] (as [`CsvReader::read_bytes_or_misfit`]).
    pub fn read_file_or_misfit(
        &self,
        file: &BlockReader,
    ) -> Result<std::result::Result<CsvFile, Misfit>> {
        self.read_file_or_misfit_as(file, true)
    }

    /// The types of a sample of this reader's part of an open file, as
    /// [`CsvReader::sample_bytes`] takes them from memory: only the sampled records are
    /// read (and the part's quotes counted, to find where records begin).
    pub fn sample_file(&self, file: &BlockReader) -> Result<Vec<Option<DataType>>> {
        let (_, _, data_start) = self.schema_of(&Source::File(file.opened()))?;
        let reader = self.part_reader(file, data_start)?;
        let (from, to) = reader.bounds();
        let mut types = Vec::new();
        let head = reader.records_at(from, self.infer_rows)?;
        let (seen, next) = infer::observe(
            &head,
            0,
            head.len(),
            self.delimiter,
            self.infer_rows,
            &mut types,
        );
        for k in 1..=SAMPLE_WINDOWS {
            let at = from + ((to - from) as u128 * k as u128 / (SAMPLE_WINDOWS as u128 + 1)) as u64;
            let window = reader.records_at(at, WINDOW_ROWS)?;
            let w = window.len();
            infer::observe(&window, 0, w, self.delimiter, WINDOW_ROWS, &mut types);
        }
        // The part's last records, where a sorted column keeps its largest values.
        if seen > 0 {
            let record_len = next.div_ceil(seen).max(1) as u64;
            let at = to
                .saturating_sub(record_len * 2 * WINDOW_ROWS as u64)
                .max(from);
            let tail = reader.records_at(at, 4 * WINDOW_ROWS)?;
            let t = tail.len();
            infer::observe(&tail, 0, t, self.delimiter, 4 * WINDOW_ROWS, &mut types);
        }
        file.check()?;
        Ok(types)
    }

    /// Reads CSV text from memory; errors name the input `<bytes>`.
    pub fn read_bytes(&self, bytes: &[u8]) -> Result<CsvFile> {
        self.read_bytes_labeled(bytes, "<bytes>")
    }

    /// Reads CSV text from memory; errors name the input `label`.
    pub fn read_bytes_labeled(&self, bytes: &[u8], label: &str) -> Result<CsvFile> {
        self.read_labeled(&Source::Memory(bytes), label)
    }

    /// A strict read of `bytes` that returns the first field that does not fit as a
    /// [`Misfit`] instead of an error, so that a loader can widen its column and read
    /// again.
    pub fn read_bytes_or_misfit(
        &self,
        bytes: &[u8],
    ) -> Result<std::result::Result<CsvFile, Misfit>> {
        let strict = CsvReader {
            strict: true,
            ..self.clone()
        };
        strict.read_source(&Source::Memory(bytes))
    }

    /// The types of a sample of this reader's part of `bytes` (found by quote parity as a
    /// read finds it): the first records of the part and windows of records at evenly
    /// spaced offsets in it. One entry per column of the widest sampled record, `None`
    /// where no value typed the column. Ranks of a load each sample their own part and
    /// agree on the widest type per column; the header's names come from
    /// [`CsvReader::infer_bytes`].
    pub fn sample_bytes(&self, bytes: &[u8]) -> Result<Vec<Option<DataType>>> {
        self.check_options()?;
        let src = Source::Memory(bytes);
        let origin = if bytes.starts_with(BOM) { BOM.len() } else { 0 };
        // The header is one record: skipping it needs no names (a huge header would
        // cost a copy of itself).
        let data_start = if self.header {
            first_record_end(bytes, origin)
        } else {
            origin
        };
        let (from, to) = self.byte_part(bytes.len())?;
        let mut odd = match self.odd_before {
            Some(odd) => odd,
            None => src.count_quotes(0, from)? % 2 == 1,
        };
        let mut types = Vec::new();
        let mut last = from;
        // The part's first records tell how long a record is, which places a last window
        // over the part's last records (where a sorted column keeps its largest values).
        let mut record_len = None;
        let mut sampled_to = 0;
        let window = |k: usize| {
            from + ((to - from) as u128 * k as u128 / (SAMPLE_WINDOWS as u128 + 1)) as usize
        };
        for k in 0..=SAMPLE_WINDOWS + 1 {
            let at = match (k, record_len) {
                (k, _) if k <= SAMPLE_WINDOWS => window(k),
                (_, Some(len)) => to.saturating_sub(len * 2 * WINDOW_ROWS).max(last),
                (_, None) => break,
            };
            odd ^= records::count_quotes(&bytes[last..at]) % 2 == 1;
            last = at;
            // A window that starts before where the last one ended goes on from there, a
            // known record start: looking for one from `at` could scan a huge record
            // (a 100 MB header) once per window.
            let found = if at < sampled_to {
                Some(sampled_to)
            } else {
                records::record_start_at_or_after(bytes, origin, at, odd)
            };
            let Some(start) = found else {
                break;
            };
            let start = start.max(data_start);
            if start >= to {
                sampled_to = usize::MAX;
                continue;
            }
            let rows = match k {
                0 => self.infer_rows,
                k if k <= SAMPLE_WINDOWS => WINDOW_ROWS,
                _ => 4 * WINDOW_ROWS,
            };
            let (seen, next) =
                infer::observe(bytes, start, bytes.len(), self.delimiter, rows, &mut types);
            sampled_to = next;
            if k == 0 && seen > 0 {
                record_len = Some((next - start).div_ceil(seen).max(1));
            }
        }
        Ok(types)
    }

    /// Opens `path` to read its CSV records, mapped or not as configured.
    fn open(&self, path: &Path) -> Result<BlockReader> {
        Ok(BlockReader::open(path, Records::Csv)?.memory_map(self.memory_map))
    }

    /// `file` reading this reader's part, no record before `data_start`, with the quote
    /// parity before the part when the reader was told it. Keeps `file`'s quote counts
    /// when it already reads that part.
    fn part_reader(&self, file: &BlockReader, data_start: usize) -> Result<BlockReader> {
        let (from, to) = self.byte_part(file.file_len() as usize)?;
        let mut reader = if file.bounds() == (from as u64, to as u64) {
            file.clone()
        } else {
            file.clone().part(self.part.0, self.part.1)?
        };
        if let Some(odd) = self.odd_before {
            reader = reader.quotes_before(odd);
        }
        let pieces = if self.parallel {
            PIECES_PER_THREAD * rayon::current_num_threads()
        } else {
            1
        };
        let size = ((to - from) / pieces).clamp(
            self.min_part_len,
            MAX_FRAME_BLOCK_BYTES.max(self.min_part_len),
        );
        reader = reader.block_bytes(size);
        Ok(reader.first_record_at(data_start as u64))
    }

    /// Reads this reader's part of an open file block by block, strict or not; in
    /// strict mode the first deviation is returned as a [`Misfit`].
    fn read_file_or_misfit_as(
        &self,
        file: &BlockReader,
        strict: bool,
    ) -> Result<std::result::Result<CsvFile, Misfit>> {
        let label = file.path().display().to_string();
        let _span = tracing::debug_span!("csv_read", path = %label).entered();
        let read = (|| {
            let (schema, _, data_start) = self.schema_of(&Source::File(file.opened()))?;
            let reader = self.part_reader(file, data_start)?;
            let blocks = reader.blocks()?;
            let (cols, build, projected) = self.projection(&schema)?;
            let plan = Plan {
                types: schema.types(),
                build: &build,
                delimiter: self.delimiter,
                chunk_len: self.chunk_len,
                strict,
            };
            let cancel = Cancel::new();
            let parse = |(i, block): (usize, &crate::blocks::Block)| {
                reader.with_block(block, |view, records, offset| {
                    let offset = offset as usize;
                    let mut part =
                        parse::parse_range(view, records.start, records.end, &plan, i, &cancel);
                    match &mut part {
                        Ok(p) => p.first_deviation = p.first_deviation.map(|o| o + offset),
                        Err(Stop::Deviation(d)) => d.record_start += offset,
                        Err(Stop::Cancelled) => {}
                    }
                    part
                })
            };
            let results: Vec<std::result::Result<Part, Stop>> = if self.parallel && blocks.len() > 1
            {
                blocks
                    .par_iter()
                    .enumerate()
                    .map(parse)
                    .collect::<Result<_>>()?
            } else {
                blocks
                    .iter()
                    .enumerate()
                    .map(parse)
                    .collect::<Result<_>>()?
            };
            self.assemble(results, schema, &cols, projected, |o| {
                reader.line_number(o as u64)
            })
        })();
        // A change explains any error the read made of the bytes, so it comes first.
        file.check()?;
        read
    }

    /// The byte range of this reader's part.
    fn byte_part(&self, len: usize) -> Result<(usize, usize)> {
        let (index, count) = self.part;
        if index >= count {
            return Err(Error::OutOfRange {
                what: "part",
                index: index as u64,
                len: count as u64,
            });
        }
        let at = |i: usize| (len as u128 * i as u128 / count as u128) as usize;
        Ok((at(index), at(index + 1)))
    }

    fn part_quotes(&self, src: &Source<'_>) -> Result<u64> {
        let (from, to) = self.byte_part(src.len())?;
        src.count_quotes(from, to)
    }

    fn check_options(&self) -> Result<()> {
        if matches!(self.delimiter, b'"' | b'\n' | b'\r') {
            return Err(Error::Schema(format!(
                "{:?} cannot be a CSV delimiter",
                self.delimiter as char
            )));
        }
        Ok(())
    }

    /// The schema (named), where the byte-order mark ends, and where the first data
    /// record starts, from the start of the input.
    fn schema_of(&self, src: &Source<'_>) -> Result<(Schema, usize, usize)> {
        self.check_options()?;
        let len = src.len();
        let rows = if self.schema.is_some() {
            0
        } else {
            self.infer_rows
        };
        let wanted = rows + usize::from(self.header);
        // The header's names are needed unless a given schema names every column.
        let want_names = self.schema.as_ref().is_none_or(|given| {
            given
                .names()
                .iter()
                .enumerate()
                .any(|(c, n)| is_default_name(c, n))
        });
        // Read a prefix that holds the header and the sample (all of it from memory).
        let mut size = if src.in_memory() { len } else { 4 * STEP };
        let (head, origin) = loop {
            let prefix = src.read(0, size)?;
            let origin = if prefix.starts_with(BOM) {
                BOM.len()
            } else {
                0
            };
            let whole = prefix.len() == len;
            // The prefix's last whole record ends where the last record start lies.
            let end = if whole {
                prefix.len()
            } else {
                let odd = records::count_quotes(&prefix) % 2 == 1;
                last_record_start(&prefix, origin, odd)
            };
            let enough = whole || records_in(&prefix, origin, end, self.delimiter) >= wanted;
            if enough {
                let head = infer::head(
                    &prefix,
                    origin,
                    end,
                    (self.header, want_names),
                    self.delimiter,
                    rows,
                );
                break (head, origin);
            }
            size = size.saturating_mul(4);
        };
        if self.schema.is_none() && self.header && len <= origin {
            return Err(Error::Schema(
                "no header: the CSV input is empty (give a schema to read an empty file as \
                 a frame without rows)"
                    .into(),
            ));
        }
        let data_start = head.data_start;
        let schema = match &self.schema {
            None => head.into_schema(),
            Some(given) => {
                if let Some(width) = head.header_width.filter(|&w| w > 0) {
                    if width != given.width() {
                        return Err(Error::Schema(format!(
                            "the header has {width} columns but the given schema has {}",
                            given.width()
                        )));
                    }
                }
                if !want_names {
                    // Shares the given names (no copy of a huge header).
                    return Ok((given.clone(), origin, data_start));
                }
                // A name given in the schema wins; a column the schema left with its
                // default name (`c<k>`) takes the header's.
                let names = given.names();
                Schema::from_columns(given.types().iter().enumerate().map(|(c, &dtype)| {
                    let name = match &head.names {
                        Some(_) if is_default_name(c, &names[c]) => head.name(c),
                        _ => names[c].clone(),
                    };
                    (dtype, Some(name))
                }))
            }
        };
        Ok((schema, origin, data_start))
    }

    /// Reads this reader's part of `src`, a strict read's first misfit an error naming
    /// `label`.
    fn read_labeled(&self, src: &Source<'_>, label: &str) -> Result<CsvFile> {
        self.read_source(src)?.map_err(|m| m.into_error(label))
    }

    /// Reads this reader's part of `src`; in strict mode the first deviation is returned
    /// as a [`Misfit`].
    fn read_source(&self, src: &Source<'_>) -> Result<std::result::Result<CsvFile, Misfit>> {
        let (schema, origin, data_start) = self.schema_of(src)?;
        let len = src.len();
        let (from, to) = self.byte_part(len)?;
        let odd_from = match self.odd_before {
            Some(odd) => odd,
            None => src.count_quotes(0, from)? % 2 == 1,
        };
        // The bytes this part needs: from the byte before its range (which says whether
        // a record starts at `from`) to the end of its last record.
        let offset = from.saturating_sub(1);
        // From memory, all the rest (borrowed, free); from a file, the range, extended
        // below to the end of its last record.
        let w_origin = origin.saturating_sub(offset);
        let mut window = src.read(offset, if src.in_memory() { len } else { to })?;
        let (pieces, cut_parities) = self.cut(&window[from - offset..to - offset], from);
        let odd_to = odd_from ^ cut_parities.last().copied().unwrap_or(false);
        let end = loop {
            match records::record_start_at_or_after(&window, w_origin, to - offset, odd_to) {
                Some(e) => break e,
                None if offset + window.len() >= len => break window.len(),
                None => {
                    let at = offset + window.len();
                    let more = src.read(at, at + window.len() + STEP)?;
                    window.to_mut().extend_from_slice(&more);
                }
            }
        };
        let w_first = data_start.saturating_sub(offset);
        let start_of = |cut: usize, odd: bool| -> usize {
            let s = records::record_start_at_or_after(&window, w_origin, cut - offset, odd)
                .unwrap_or(end);
            s.clamp(w_first.min(end), end)
        };
        // Record starts at each cut, from the parity before it.
        let mut starts = Vec::with_capacity(pieces.len() + 1);
        let mut odd = odd_from;
        for (i, &cut) in pieces.iter().enumerate() {
            // A record start found past this cut is also the first at or after it: a
            // record as long as the part (a huge header) is then scanned once, not once
            // per piece.
            let start = match starts.last() {
                Some(&s) if s >= cut - offset => s,
                _ => start_of(cut, odd),
            };
            starts.push(start);
            odd = odd_from ^ cut_parities[i];
        }
        starts.push(end);
        for i in 1..starts.len() {
            starts[i] = starts[i].max(starts[i - 1]);
        }
        let ranges: Vec<(usize, usize)> = starts
            .windows(2)
            .map(|w| (w[0], w[1]))
            .filter(|(s, e)| s < e)
            .collect();
        let types = schema.types().to_vec();
        let (cols, build, projected) = self.projection(&schema)?;
        let plan = Plan {
            types: &types,
            build: &build,
            delimiter: self.delimiter,
            chunk_len: self.chunk_len,
            strict: self.strict,
        };
        let cancel = Cancel::new();
        let parse = |(i, &(s, e)): (usize, &(usize, usize))| {
            parse::parse_range(&window, s, e, &plan, i, &cancel)
        };
        let results: Vec<std::result::Result<Part, Stop>> = if self.parallel && ranges.len() > 1 {
            ranges.par_iter().enumerate().map(parse).collect()
        } else {
            ranges.iter().enumerate().map(parse).collect()
        };
        src.finish()?;
        self.assemble(results, schema, &cols, projected, |o| {
            src.line_number(offset + o)
        })
    }

    /// The file columns to build (in the frame's order), which file columns are built,
    /// and the frame's schema; an error for a column past the file's last.
    fn projection(&self, schema: &Schema) -> Result<(Vec<usize>, Vec<bool>, Schema)> {
        let (cols, build) = schema.columns_to_build(self.columns.as_deref())?;
        let projected = schema.project(&cols)?;
        Ok((cols, build, projected))
    }

    /// The frame of the parsed ranges, in order, or the first one's deviation as a
    /// [`Misfit`]; `line_of` numbers the line of an offset in the parsed bytes.
    fn assemble(
        &self,
        results: Vec<std::result::Result<Part, Stop>>,
        schema: Schema,
        cols: &[usize],
        projected: Schema,
        line_of: impl Fn(usize) -> Result<u64>,
    ) -> Result<std::result::Result<CsvFile, Misfit>> {
        let mut frames = Vec::with_capacity(results.len());
        let mut deviations = Deviations::default();
        let mut first_offset = None;
        for result in results {
            let part = match result {
                Ok(part) => part,
                Err(Stop::Deviation(d)) => {
                    return Ok(Err(Misfit {
                        line: line_of(d.record_start)?,
                        column: d.column,
                        text: String::from_utf8_lossy(&d.text).into_owned(),
                        reason: d.reason,
                        found: d.found,
                    }));
                }
                Err(Stop::Cancelled) => {
                    unreachable!("a range was cancelled but none failed before it")
                }
            };
            deviations.rows += part.deviated_rows;
            first_offset = first_offset.or(part.first_deviation);
            let columns = cols
                .iter()
                .map(|&c| part.columns[c].clone())
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| Error::Schema("a projected column was not built".into()))?;
            frames.push(DataFrame::new(projected.clone(), columns)?);
        }
        deviations.first_line = match first_offset {
            Some(o) => Some(line_of(o)?),
            None => None,
        };
        let frame = if frames.is_empty() {
            DataFrame::empty(projected)
        } else {
            DataFrame::concat(frames)?
        };
        Ok(Ok(CsvFile {
            frame,
            schema,
            deviations,
        }))
    }

    /// Cuts `bytes` (a part's byte range, starting at file offset `from`) into pieces for
    /// parallel parsing: the file offsets where the pieces begin, and for each piece the
    /// parity of the quotes from `from` to its end (an inclusive prefix of the pieces'
    /// counts, which are taken in parallel).
    fn cut(&self, bytes: &[u8], from: usize) -> (Vec<usize>, Vec<bool>) {
        let total = bytes.len();
        let parts = if self.parallel {
            PIECES_PER_THREAD * rayon::current_num_threads()
        } else {
            1
        };
        let parts = parts.clamp(1, (total / self.min_part_len).max(1));
        let at = |i: usize| (total as u128 * i as u128 / parts as u128) as usize;
        let counts: Vec<u64> = if parts > 1 {
            (0..parts)
                .into_par_iter()
                .map(|i| records::count_quotes(&bytes[at(i)..at(i + 1)]))
                .collect()
        } else {
            vec![records::count_quotes(bytes)]
        };
        let mut odd = false;
        let parities = counts
            .iter()
            .map(|&c| {
                odd ^= c % 2 == 1;
                odd
            })
            .collect();
        ((0..parts).map(|i| from + at(i)).collect(), parities)
    }
}

/// How many windows of records, at evenly spaced offsets of a part, a sample looks at
/// besides the part's first records.
const SAMPLE_WINDOWS: usize = 16;
/// How many records each of those windows holds.
const WINDOW_ROWS: usize = 32;

/// Where the first record (the header) after `origin` ends, by quote parity.
fn first_record_end(bytes: &[u8], origin: usize) -> usize {
    records::record_start_at_or_after(bytes, origin, origin + 1, false).unwrap_or(bytes.len())
}

/// Where the last record beginning in `prefix` starts (a prefix of a longer input whose
/// quote parity over the whole prefix is `odd`): the end of the last whole record.
fn last_record_start(prefix: &[u8], origin: usize, odd: bool) -> usize {
    // Walk back over line ends, tracking parity, until one outside quotes.
    let mut inside = odd;
    for i in (origin..prefix.len()).rev() {
        match prefix[i] {
            b'"' => inside = !inside,
            b'\n' if !inside => return i + 1,
            _ => {}
        }
    }
    origin.min(prefix.len())
}

/// How many records begin in `bytes[origin..end]`.
fn records_in(bytes: &[u8], origin: usize, end: usize, delimiter: u8) -> usize {
    let mut fields = Vec::new();
    let (mut pos, mut n) = (origin, 0);
    while pos < end {
        pos = records::split_record(bytes, pos, end, delimiter, &mut fields);
        n += 1;
    }
    n
}

/// Whether `name` is column `c`'s default name, `c<c>` (a given schema's column that the
/// header names).
fn is_default_name(c: usize, name: &str) -> bool {
    // Exactly `format!("c{c}")`, without formatting it for each of millions of columns.
    name.strip_prefix('c').is_some_and(|digits| {
        digits.bytes().all(|b| b.is_ascii_digit())
            && (digits.len() == 1 || !digits.starts_with('0'))
            && digits.parse::<usize>().ok() == Some(c)
    })
}

#[cfg(test)]
mod tests;
