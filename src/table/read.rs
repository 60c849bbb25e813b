//! One short way to read a file into a [`DistFrame`], safely (issues 19 and 20).
//!
//! [`DistFrame::read`] and [`DistFrame::read_with`] load a SoR or CSV file collectively:
//! each rank parses its own byte part and keeps its rows at home, into a temporary frame
//! (no key to invent). How a load stays trustworthy:
//!
//! - **One version.** Every rank opens the path once (a [`BlockReader`]) and reads the
//!   sample, the quote count and the rows through that one descriptor, block by block
//!   (resident memory stays at the blocks in flight, not the file). The ranks compare the
//!   identities (device, inode, size, modification time) they opened before parsing;
//!   if a file was renamed over the path between their opens they all open it again (a
//!   few times), else the load fails naming the file. A file changed in place during
//!   the read fails the load naming it. Never a blend of two versions.
//! - **No silent corruption (the default).** The schema is inferred from samples spread
//!   over the whole file: every rank samples its own part (its first lines, windows at
//!   evenly spaced offsets, its last lines) and the ranks agree on the widest type per
//!   column (BOOL < INT < I64 < F64, any text STRING; SoR keeps its FLOAT for decimals,
//!   and an integer beyond 32 bits is I64, not a rounded FLOAT). If a later value still
//!   does not fit, the ranks widen that column together and parse again; where no type
//!   would do (a malformed field, a ragged record, a column whose type the user fixed)
//!   the load fails naming file, line, column, the type and the option that sets it.
//! - **Honest leniency.** [`ReadOptions::lenient`] and [`ReadOptions::sor_rule`] store
//!   misfits as missing values; the count and first line are in
//!   [`DistFrame::deviations`] and a `tracing` warning, and a load where more than half
//!   of the rows deviate fails unless [`ReadOptions::allow_deviations`] says otherwise.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::cluster::Node;
use crate::collectives::Wire;
use crate::csv::CsvReader;
use crate::error::{DataError, Error, Result};
use crate::frame::{DataFrame, DataType, Schema};
use crate::kv::Key;
use crate::sor::{Deviations, FileIdentity, Misfit, SorReader};
use eau2_data::blocks::{BlockReader, Records};

use super::DistFrame;

// Parquet has its own loader (issue 22), a child module so it reads these options.
#[path = "parquet.rs"]
mod parquet;
pub use parquet::{Cmp, Filter, Scalar};

/// The ranks that load a file together (a job's ranks, [`Node`]). Every agreement of a
/// load goes through [`Group::gather`], so the load logic names no transport.
pub(crate) trait Group {
    /// This process's index in the group.
    fn rank(&self) -> usize;
    /// The number of processes in the group.
    fn size(&self) -> usize;
    /// Collective: every member's `value`, in rank order.
    fn gather<T: Wire>(&self, value: T) -> Result<Vec<T>>;
    /// The members agreed that the load reads the files of identities `ids`: a job that
    /// saves operator outputs records them (`table::memo::loaded`).
    fn opened(&self, _ids: &[FileIdentity]) -> Result<()> {
        Ok(())
    }
}

impl Group for Node {
    fn rank(&self) -> usize {
        Node::rank(self)
    }
    fn size(&self) -> usize {
        Node::size(self)
    }
    fn gather<T: Wire>(&self, value: T) -> Result<Vec<T>> {
        Ok(self.comm().all_gather(value)?)
    }
    fn opened(&self, ids: &[FileIdentity]) -> Result<()> {
        super::memo::loaded(self, ids)
    }
}

/// How many times the ranks open a file again when they found different versions.
const OPEN_ATTEMPTS: usize = 4;

/// The environment variable of the test hook that forces the race of a file replaced
/// while ranks open it (see [`test_hook`]). Not for use outside tests.
const HOOK_VAR: &str = "EAU2_TEST_LOAD_HOOK";

/// The file formats [`DistFrame::read_with`] reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Schema-on-read text (`docs/sor-format.md`); no header, so columns are named by
    /// [`ReadOptions::names`] or `c0, c1, ...`.
    Sor,
    /// RFC 4180 CSV, with a header unless [`ReadOptions::header`] says otherwise.
    Csv,
    /// Plain text as its words: one STRING column (named `word`, or by
    /// [`ReadOptions::names`]) holding every maximal run of bytes that are not ASCII
    /// white space (space, `\t`, `\n`, `\v`, `\f`, `\r`), byte for byte. Rank r holds
    /// the words that begin in the r-th byte part of the file. Never taken from an
    /// extension: ask for it with [`ReadOptions::format`].
    Words,
    /// Apache Parquet: one file, or a folder of `.parquet` files read as one dataset
    /// (`docs/parquet.md`).
    Parquet,
}

impl Format {
    /// The format a path's extension says (`.sor` or `.ltgt`, the extension of the
    /// bundled data sets and of eau2-gen's files; `.csv`, `.tsv`; `.parquet`, `.pq`), if
    /// any; a folder is a Parquet dataset.
    pub fn of_path(path: &Path) -> Option<Format> {
        if path.is_dir() {
            return Some(Format::Parquet);
        }
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "sor" | "ltgt" => Some(Format::Sor),
            "csv" | "tsv" => Some(Format::Csv),
            "parquet" | "pq" => Some(Format::Parquet),
            _ => None,
        }
    }
}

/// How a load treats a value that does not fit the inferred or given type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
enum Mode {
    /// Widen the column, or fail naming the value (the default).
    #[default]
    Safe,
    /// Store it as missing, count it, fail when most rows deviate.
    Lenient,
    /// SoR's own rule: types from the first 500 lines, misfits missing and counted.
    SorRule,
}

/// Options for [`DistFrame::read_with`]; a builder. `ReadOptions::new()` takes the
/// format from the file's extension, infers names (CSV header) and types from samples of
/// the whole file, builds every column, and fails rather than lose a value.
///
/// ```
/// # let node = eau2::Node::standalone()?;
/// # let dir = std::env::temp_dir().join(format!("eau2-read-doc-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// # let path = dir.join("commits.sor");
/// # std::fs::write(&path, "<0> <7> <1>\n<0> <8> <2>\n<12> <7> <3>\n")?;
/// use eau2::frame::DataType;
/// use eau2::table::{DistFrame, ReadOptions};
/// let commits = DistFrame::read_with(&node, &path, &ReadOptions::new()
///     .names(&["pid", "uid", "cid"])
///     .types(&[("cid", DataType::I64)])
///     .columns(&["pid", "cid"]))?;
/// assert_eq!(commits.schema().codes(), "IL");
/// assert_eq!(commits.get_as::<i32>("pid", 2)?, Some(12));
/// assert_eq!(commits.deviations().rows, 0);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct ReadOptions {
    format: Option<Format>,
    names: Option<Vec<String>>,
    types: Vec<(String, DataType)>,
    schema: Option<Schema>,
    columns: Option<Vec<String>>,
    mode: Mode,
    allow_deviations: bool,
    delimiter: Option<u8>,
    header: bool,
    chunk_len: Option<usize>,
    /// The key the frame is stored under; `None` for a temporary frame.
    key: Option<Key>,
    /// Row filters (Parquet: row groups pruned by statistics).
    filters: Vec<Filter>,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            format: None,
            names: None,
            types: Vec::new(),
            schema: None,
            columns: None,
            mode: Mode::Safe,
            allow_deviations: false,
            delimiter: None,
            header: true,
            chunk_len: None,
            key: None,
            filters: Vec::new(),
        }
    }
}

impl ReadOptions {
    /// The default options.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads the file as `format` whatever its extension.
    pub fn format(mut self, format: Format) -> Self {
        self.format = Some(format);
        self
    }

    /// Names the file's columns, one name per column of the file (before
    /// [`ReadOptions::columns`]). SoR files have no header; for CSV these replace the
    /// header's names.
    pub fn names<N: AsRef<str>>(mut self, names: &[N]) -> Self {
        self.names = Some(names.iter().map(|n| n.as_ref().to_string()).collect());
        self
    }

    /// Fixes the types of the named columns (like polars' `schema_overrides`); the other
    /// columns are inferred. A value that does not fit a fixed type fails the load (or,
    /// lenient, becomes missing and is counted).
    pub fn types<N: AsRef<str>>(mut self, types: &[(N, DataType)]) -> Self {
        self.types
            .extend(types.iter().map(|(n, t)| (n.as_ref().to_string(), *t)));
        self
    }

    /// Fixes every column's type (and, where given, name): no inference.
    pub fn schema(mut self, schema: Schema) -> Self {
        self.schema = Some(schema);
        self
    }

    /// Keeps only the named columns, in this order. The other columns are not read:
    /// their fields are only scanned for their end (SoR: the closing `>`; CSV: the next
    /// separator outside quotes), so a load with a projection costs what its columns
    /// cost, and the safe defaults, strict mode and the deviation count apply to the
    /// columns read: a value in a column left out is never an error. The schema is still
    /// inferred from whole lines.
    pub fn columns<N: AsRef<str>>(mut self, names: &[N]) -> Self {
        self.columns = Some(names.iter().map(|n| n.as_ref().to_string()).collect());
        self
    }

    /// Values that do not fit their column become missing values instead of failing the
    /// load; they are counted in [`DistFrame::deviations`] and reported with a warning.
    /// A load where more than half of the rows deviate still fails (see
    /// [`ReadOptions::allow_deviations`]).
    pub fn lenient(mut self) -> Self {
        self.mode = Mode::Lenient;
        self
    }

    /// The default: a value that no type of its column can hold fails the load; one that
    /// a wider type holds widens the column.
    pub fn strict(mut self) -> Self {
        self.mode = Mode::Safe;
        self
    }

    /// The SoR format's own rule: types inferred from the first 500 lines of the file,
    /// values that do not fit them missing (counted, as with [`ReadOptions::lenient`]).
    /// What `eau2-sor` does; lossy on files whose first lines are not representative.
    pub fn sor_rule(mut self) -> Self {
        self.mode = Mode::SorRule;
        self
    }

    /// Lets a lenient load succeed even when more than half of its rows deviate.
    pub fn allow_deviations(mut self) -> Self {
        self.allow_deviations = true;
        self
    }

    /// The CSV field separator (`,` by default, `\t` for a `.tsv` file).
    pub fn delimiter(mut self, byte: u8) -> Self {
        self.delimiter = Some(byte);
        self
    }

    /// Whether a CSV file's first record is a header (the default).
    pub fn header(mut self, yes: bool) -> Self {
        self.header = yes;
        self
    }

    /// Stores the frame under `key`, so that any rank (or a later stage of the program)
    /// can find it with [`DistFrame::get`]; every rank must pass the same key, and it
    /// must be new to the store. Without a key the frame is temporary: it has a name of
    /// its own and is freed when the handle is dropped.
    pub fn key(mut self, key: Key) -> Self {
        self.key = Some(key);
        self
    }

    /// Cuts column chunks every `rows` rows (mostly for tests).
    pub fn chunk_len(mut self, rows: usize) -> Self {
        self.chunk_len = Some(rows.max(1));
        self
    }

    /// The option a user sets to fix column `name` to `dtype`, as the error messages
    /// spell it.
    fn hint(name: &str, dtype: DataType) -> String {
        format!(
            "set its type with ReadOptions::types(&[(\"{name}\", DataType::{dtype:?})]), or \
             load leniently with ReadOptions::lenient() to keep such values as missing"
        )
    }
}

impl<'n> DistFrame<'n> {
    /// Collective: reads the SoR or CSV file at `path` (format by extension) into a
    /// temporary frame, with the safe defaults of [`ReadOptions::new`]: one version of
    /// the file, types from samples of the whole file, widened where a later value needs
    /// it, and an error naming file, line and column rather than a lost value.
    ///
    /// ```
    /// # let node = eau2::Node::standalone()?;
    /// # let dir = std::env::temp_dir().join(format!("eau2-read-short-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// # let path = dir.join("people.csv");
    /// # std::fs::write(&path, "name,age\nann,41\nbob,\n")?;
    /// use eau2::table::DistFrame;
    /// let people = DistFrame::read(&node, &path)?;
    /// assert_eq!(people.get_as::<i64>("age", 0)?, Some(41));
    /// assert_eq!(people.get_as::<i64>("age", 1)?, None);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn read(node: &'n Node, path: impl AsRef<Path>) -> Result<DistFrame<'n>> {
        DistFrame::read_with(node, path, &ReadOptions::new())
    }

    /// Collective: reads the file at `path` with `options` into a frame, temporary unless
    /// [`ReadOptions::key`] names its key (see [`ReadOptions`]). Every rank must call it
    /// with the same path and options; rank r keeps the rows of the r-th part of the
    /// file, so no row crosses the network.
    pub fn read_with(
        node: &'n Node,
        path: impl AsRef<Path>,
        options: &ReadOptions,
    ) -> Result<DistFrame<'n>> {
        let (frame, deviations) = load_local(node, path.as_ref(), options)?;
        let mut dist = match &options.key {
            Some(key) => DistFrame::from_local_parts(node, key, &frame)?,
            None => DistFrame::finish(node, &frame)?,
        };
        dist.deviations = deviations;
        Ok(dist)
    }

    /// The deviations of the load that made this frame (rows whose misfits a lenient
    /// load kept as missing values, and the first one's line); zero for frames not
    /// loaded leniently from a file.
    pub fn deviations(&self) -> Deviations {
        self.deviations
    }
}

/// Collective over `group`: this rank's rows of the file at `path`, loaded with
/// `options`, and the deviations of the whole load.
pub(crate) fn load_local(
    group: &impl Group,
    path: &Path,
    options: &ReadOptions,
) -> Result<(DataFrame, Deviations)> {
    let _span = tracing::debug_span!("read", path = %path.display()).entered();
    let format = match options.format.or_else(|| Format::of_path(path)) {
        Some(f) => f,
        None => {
            return Err(DataError::Schema(format!(
                "{}: cannot tell the format from the extension (expected .sor, .ltgt, .csv, \
                 .tsv or .parquet); say it with ReadOptions::format(Format::Csv), Format::Sor \
                 or Format::Parquet",
                path.display()
            ))
            .into())
        }
    };
    match format {
        Format::Words => {
            let reader = open_part_of(group, path, Records::Words)?;
            let loaded = load_words(&reader, options);
            return settle(group, loaded, || reader.check());
        }
        Format::Parquet => return parquet::load(group, path, options),
        Format::Sor | Format::Csv => {}
    }
    let records = if format == Format::Sor {
        Records::Lines
    } else {
        Records::Csv
    };
    let file = open_part_of(group, path, records)?;
    let loaded = if format == Format::Sor {
        load_sor(group, &file, options)
    } else {
        load_csv(group, &file, path, options)
    };
    let (frame, deviations) = settle(group, loaded, || file.check())?;
    let deviations = honest(group, path, options, &frame, deviations)?;
    Ok((frame, deviations))
}

/// Collective: `loaded` when every rank loaded and found its file unchanged (`check`);
/// otherwise an error on every rank, so none waits for another that gave up, and a
/// change of the file under any rank fails them all.
fn settle<T>(
    group: &impl Group,
    loaded: Result<T>,
    check: impl Fn() -> eau2_data::Result<()>,
) -> Result<T> {
    let local = match &loaded {
        Ok(_) => check().err().map(|e| e.to_string()),
        Err(e) => Some(e.to_string()),
    };
    let failures: Vec<Option<String>> = group.gather(local)?;
    if let Some((rank, why)) = failures
        .iter()
        .enumerate()
        .find_map(|(r, f)| f.as_ref().map(|f| (r, f)))
    {
        return match loaded {
            Err(e) => Err(e),
            Ok(_) => match check() {
                Err(e) => Err(e.into()),
                Ok(()) => Err(Error::App(format!("rank {rank} failed the load: {why}"))),
            },
        };
    }
    loaded
}

/// Loads the words beginning in this rank's part of the file (see [`Format::Words`]).
fn load_words(reader: &BlockReader, options: &ReadOptions) -> Result<(DataFrame, Deviations)> {
    let label = reader.path().display();
    if options.schema.is_some() || !options.types.is_empty() {
        return Err(DataError::Schema(format!(
            "{label}: Format::Words reads one STRING column; it takes no types or schema"
        ))
        .into());
    }
    let name = match options.names.as_deref() {
        None => "word",
        Some([name]) => name.as_str(),
        Some(names) => {
            return Err(DataError::Schema(format!(
                "{label}: {} column names given for Format::Words, which reads one column",
                names.len()
            ))
            .into())
        }
    };
    if let Some(columns) = &options.columns {
        if columns.iter().any(|c| c != name) {
            return Err(DataError::NoSuchColumn {
                name: columns
                    .iter()
                    .find(|c| *c != name)
                    .cloned()
                    .unwrap_or_default(),
                available: vec![name.to_string()],
            }
            .into());
        }
    }
    let chunk_len = options.chunk_len.unwrap_or(crate::frame::DEFAULT_CHUNK_LEN);
    let frame = eau2_data::words::read_words(reader, name, chunk_len)?;
    Ok((frame, Deviations::default()))
}

/// A file opened for a load: which version it reads.
trait Version {
    /// The identity of the version opened.
    fn version(&self) -> FileIdentity;
}

impl Version for BlockReader {
    fn version(&self) -> FileIdentity {
        self.identity()
    }
}

/// Collective: this rank's part of the text file at `path`, cut into `records`
/// ([`BlockReader::for_rank`]), opened again until every rank opened the same version
/// of it: a file replaced while the ranks open it would give each rank a part of
/// another file. This is how [`DistFrame::read_with`] opens SoR, CSV and words, for
/// programs that parse their blocks themselves (`apps/linus`); under `--tolerate` the
/// file's identity is recorded like a load's.
pub fn open_part(node: &Node, path: &Path, records: Records) -> Result<BlockReader> {
    open_part_of(node, path, records)
}

/// [`open_part`] for any group of ranks.
fn open_part_of(group: &impl Group, path: &Path, records: Records) -> Result<BlockReader> {
    let (rank, size) = (group.rank(), group.size());
    open_agreed(group, path, |p| {
        BlockReader::open(p, records)?.for_rank(rank, size)
    })
}

/// Collective: opens `path` with `open` on every rank, until all ranks opened the same
/// version.
fn open_agreed<V: Version>(
    group: &impl Group,
    path: &Path,
    open: impl Fn(&Path) -> eau2_data::Result<V>,
) -> Result<V> {
    let mut seen = Vec::new();
    for attempt in 0..OPEN_ATTEMPTS {
        test_hook(group.rank(), attempt, "open");
        let view = open(path);
        test_hook(group.rank(), attempt, "opened");
        let local: std::result::Result<FileIdentity, String> = match &view {
            Ok(v) => Ok(v.version()),
            Err(e) => Err(e.to_string()),
        };
        let all: Vec<(Option<FileIdentity>, Option<String>)> =
            group.gather((local.clone().ok(), local.clone().err()))?;
        if let Some((rank, why)) = all
            .iter()
            .enumerate()
            .find_map(|(r, (_, e))| e.as_ref().map(|e| (r, e)))
        {
            return match view {
                Err(e) => Err(e.into()),
                Ok(_) => Err(Error::App(format!(
                    "rank {rank} could not open {}: {why}",
                    path.display()
                ))),
            };
        }
        let ids: Vec<FileIdentity> = all.into_iter().filter_map(|(id, _)| id).collect();
        if ids.iter().all(|id| *id == ids[0]) {
            group.opened(&ids[..1])?;
            return Ok(view?);
        }
        tracing::warn!(
            path = %path.display(),
            attempt,
            "the ranks opened different versions of the file (it was replaced while they \
             opened it); opening it again"
        );
        seen = ids;
    }
    let versions: Vec<String> = seen
        .iter()
        .enumerate()
        .map(|(r, id)| format!("rank {r}: inode {} of {} bytes", id.inode, id.len))
        .collect();
    Err(Error::io_path(
        "loading",
        path,
        std::io::Error::other(format!(
            "the file was replaced while the ranks opened it, {OPEN_ATTEMPTS} times in a row \
             ({}); nothing was read: load it again once it is no longer being replaced",
            versions.join(", ")
        )),
    ))
}

/// A test hook, active only when `EAU2_TEST_LOAD_HOOK` names a folder: at each `step`
/// of opening attempt `attempt`, rank `rank` writes `<dir>/<step>.<rank>.<attempt>`, then
/// waits while `<dir>/hold-<step>.<rank>` or `<dir>/hold-<step>.<rank>.<attempt>` exists
/// (at most a minute). Lets a test replace the file exactly between two ranks' opens, so
/// the race is forced, not hoped for.
fn test_hook(rank: usize, attempt: usize, step: &str) {
    let Some(dir) = std::env::var_os(HOOK_VAR).map(PathBuf::from) else {
        return;
    };
    let _ = std::fs::write(dir.join(format!("{step}.{rank}.{attempt}")), b"");
    let holds = [
        dir.join(format!("hold-{step}.{rank}")),
        dir.join(format!("hold-{step}.{rank}.{attempt}")),
    ];
    let deadline = Instant::now() + Duration::from_secs(60);
    while holds.iter().any(|h| h.exists()) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Which columns the user's options fix, and to what, given the file's column names.
fn fixed_types(options: &ReadOptions, names: &[String]) -> Result<Vec<Option<DataType>>> {
    let mut fixed = vec![None; names.len()];
    for (name, dtype) in &options.types {
        let Some(c) = names.iter().position(|n| n == name) else {
            return Err(DataError::NoSuchColumn {
                name: name.clone(),
                available: names.to_vec(),
            }
            .into());
        };
        fixed[c] = Some(*dtype);
    }
    Ok(fixed)
}

/// The projection's file column indices, or `None` for every column.
fn projection(options: &ReadOptions, schema: &Schema) -> Result<Option<Vec<usize>>> {
    options
        .columns
        .as_ref()
        .map(|cols| cols.iter().map(|c| Ok(schema.index(c)?)).collect())
        .transpose()
}

/// Collective: the widest type per column over every rank's sample; `untyped` for a
/// column no rank saw a value of.
fn agree_types(
    group: &impl Group,
    local: Vec<Option<DataType>>,
    untyped: DataType,
) -> Result<Vec<DataType>> {
    let all: Vec<Vec<Option<DataType>>> = group.gather(local)?;
    let width = all.iter().map(Vec::len).max().unwrap_or(0);
    Ok((0..width)
        .map(|c| {
            all.iter()
                .fold(None, |seen, types| {
                    DataType::widen_seen(seen, types.get(c).copied().flatten())
                })
                .unwrap_or(untyped)
        })
        .collect())
}

/// Collective: parses with `read` (a strict read of this rank's part with the given
/// types, or its first misfit) until no rank finds a misfit, widening the misfits'
/// columns on every rank alike; fails where a misfit cannot be widened away.
fn widen_until_fits<T>(
    group: &impl Group,
    label: &str,
    names: &[String],
    mut types: Vec<DataType>,
    fixed: &[Option<DataType>],
    mut read: impl FnMut(&[DataType]) -> Result<std::result::Result<T, Misfit>>,
) -> Result<T> {
    loop {
        let result = read(&types);
        let local: Option<Misfit> = match &result {
            Ok(Err(m)) => Some(m.clone()),
            _ => None,
        };
        let failed = result.as_ref().err().map(ToString::to_string);
        let all: Vec<(Option<Misfit>, Option<String>)> = group.gather((local, failed))?;
        if let Some((rank, why)) = all
            .iter()
            .enumerate()
            .find_map(|(r, (_, e))| e.as_ref().map(|e| (r, e)))
        {
            return match result {
                Err(e) => Err(e),
                Ok(_) => Err(Error::App(format!("rank {rank} failed the load: {why}"))),
            };
        }
        let misfits: Vec<Misfit> = all.into_iter().filter_map(|(m, _)| m).collect();
        if misfits.is_empty() {
            return match result? {
                Ok(read) => Ok(read),
                Err(_) => unreachable!("this rank's misfit was gathered"),
            };
        }
        // Misfits in rank order, so the first that cannot be widened is the earliest in
        // the file.
        let mut widened = types.clone();
        for m in &misfits {
            let name = names.get(m.column).map_or("?", String::as_str);
            let column = widened.get(m.column).copied();
            let target = match (m.found, column, fixed.get(m.column).copied().flatten()) {
                (Some(found), Some(t), None) if t.widen(found) != t => t.widen(found),
                (Some(_), Some(t), None) => t,
                (Some(_), Some(t), Some(_)) => {
                    return Err(misfit_error(
                        label,
                        m,
                        format!(
                            "column {name:?} was declared {t}; {}",
                            ReadOptions::hint(name, DataType::String)
                        ),
                    ))
                }
                _ => {
                    return Err(misfit_error(
                        label,
                        m,
                        "no column type holds it; fix the file, or load leniently with \
                         ReadOptions::lenient() to keep such fields as missing"
                            .to_string(),
                    ))
                }
            };
            if let Some(t) = widened.get_mut(m.column) {
                *t = target;
            }
        }
        if widened == types {
            // A misfit that its own type should hold: a bug, not an input; fail rather
            // than loop.
            return Err(misfit_error(
                label,
                &misfits[0],
                "widening its column did not help".to_string(),
            ));
        }
        tracing::debug!(file = label, from = ?types, to = ?widened, "widening columns and parsing again");
        types = widened;
    }
}

/// The error for misfit `m` in file `label`, with what the user can do.
fn misfit_error(label: &str, m: &Misfit, advice: String) -> Error {
    let mut m = m.clone();
    m.reason = format!("{} ({advice})", m.reason);
    Error::Data(m.into_error(label))
}

/// Loads this rank's part of a SoR file.
fn load_sor(
    group: &impl Group,
    file: &BlockReader,
    options: &ReadOptions,
) -> Result<(DataFrame, Deviations)> {
    let label = file.path().display().to_string();
    let mut reader = SorReader::new()
        .wide_types(!matches!(options.mode, Mode::SorRule))
        .part(group.rank(), group.size());
    if let Some(rows) = options.chunk_len {
        reader = reader.chunk_len(rows);
    }
    let names_of = |width: usize| -> Result<Vec<String>> {
        match &options.names {
            Some(n) if n.len() != width => Err(DataError::Schema(format!(
                "{label}: {} column names given for a SoR file of {width} columns",
                n.len()
            ))
            .into()),
            Some(n) => Ok(n.clone()),
            None => Ok((0..width).map(|c| format!("c{c}")).collect()),
        }
    };
    let (types, names) = match (&options.schema, options.mode) {
        (Some(schema), _) => (
            schema.types().to_vec(),
            match &options.names {
                Some(_) => names_of(schema.width())?,
                None => schema.names().to_vec(),
            },
        ),
        (None, Mode::SorRule) => {
            let schema = SorReader::new().range(0, None).infer_file(file)?;
            (schema.types().to_vec(), names_of(schema.width())?)
        }
        (None, _) => {
            let local = reader.sample_file(file)?;
            let types = agree_types(group, local, DataType::Bool)?;
            let names = names_of(types.len())?;
            (types, names)
        }
    };
    read_part(group, reader, options, file, &label, &names, types)
}

/// Loads this rank's part of a CSV file.
fn load_csv(
    group: &impl Group,
    file: &BlockReader,
    path: &Path,
    options: &ReadOptions,
) -> Result<(DataFrame, Deviations)> {
    let label = file.path().display().to_string();
    let tsv = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("tsv"));
    let delimiter = options.delimiter.unwrap_or(if tsv { b'\t' } else { b',' });
    let mut reader = CsvReader::new().delimiter(delimiter).header(options.header);
    if let Some(rows) = options.chunk_len {
        reader = reader.chunk_len(rows);
    }
    if file.file_len() == 0 && options.header && options.schema.is_none() {
        return Err(DataError::Schema(format!(
            "{label}: the file is empty, so it has no header; give its columns with \
             ReadOptions::schema(..) to load it as a frame without rows"
        ))
        .into());
    }
    // The header's names and the first records' types (every rank alike), or the
    // given schema named by the header.
    let head = match &options.schema {
        Some(s) => reader.clone().schema(s.clone()).infer_file(file)?,
        None => reader.infer_file(file)?,
    };
    let names: Vec<String> = match &options.names {
        Some(n) if n.len() != head.width() => {
            return Err(DataError::Schema(format!(
                "{label}: {} column names given for a CSV file of {} columns",
                n.len(),
                head.width()
            ))
            .into())
        }
        Some(n) => n.clone(),
        None => head.names().to_vec(),
    };
    let part = reader.part(group.rank(), group.size());
    let quotes = part.part_quotes_file(file)? % 2;
    let before: Vec<u64> = group.gather(quotes)?;
    let odd = before[..group.rank()].iter().fold(0, |a, b| a ^ b) == 1;
    let part = part.quotes_before_part(odd);
    let types: Vec<DataType> = match (&options.schema, options.mode) {
        (Some(s), _) => s.types().to_vec(),
        (None, Mode::SorRule) => head.types().to_vec(),
        (None, _) => {
            let mut local = part.sample_file(file)?;
            local.resize(head.width(), None);
            for (seen, &t) in local.iter_mut().zip(head.types()) {
                *seen = DataType::widen_seen(*seen, Some(t));
            }
            let agreed = agree_types(group, local, DataType::String)?;
            agreed[..head.width()].to_vec()
        }
    };
    read_part(group, part, options, file, &label, &names, types)
}

/// A format's reader of this rank's part, as [`read_part`] drives it: SoR and CSV alike.
trait PartReader: Clone {
    /// The reader with `schema` for the file's columns.
    fn with_schema(self, schema: Schema) -> Self;
    /// The reader building only the file columns `cols` (the others are checked).
    fn with_columns(self, cols: &[usize]) -> Self;
    /// A read that stores misfits as missing values and counts them.
    fn read_lenient(&self, file: &BlockReader) -> Result<(DataFrame, Deviations)>;
    /// A strict read that returns the first misfit instead of failing on it.
    fn read_or_misfit(
        &self,
        file: &BlockReader,
    ) -> Result<std::result::Result<(DataFrame, Deviations), Misfit>>;
}

/// The two readers have the same builder and read methods (their results differ only
/// in type), so one body serves both.
macro_rules! part_reader {
    ($($reader:ty),*) => {$(
        impl PartReader for $reader {
            fn with_schema(self, schema: Schema) -> Self {
                self.schema(schema)
            }
            fn with_columns(self, cols: &[usize]) -> Self {
                self.columns(cols)
            }
            fn read_lenient(&self, file: &BlockReader) -> Result<(DataFrame, Deviations)> {
                let read = self.clone().strict(false).read_file(file)?;
                Ok((read.frame, read.deviations))
            }
            fn read_or_misfit(
                &self,
                file: &BlockReader,
            ) -> Result<std::result::Result<(DataFrame, Deviations), Misfit>> {
                Ok(self
                    .read_file_or_misfit(file)?
                    .map(|file| (file.frame, file.deviations)))
            }
        }
    )*};
}

part_reader!(SorReader, CsvReader);

/// Reads this rank's part of `file` with `reader`, the columns named `names` and typed
/// `types` (inferred or given; a type the user fixed wins): a safe load widens columns
/// with the other ranks until every value fits, a lenient one counts misfits. Only the
/// projected columns are built.
fn read_part(
    group: &impl Group,
    reader: impl PartReader,
    options: &ReadOptions,
    file: &BlockReader,
    label: &str,
    names: &[String],
    types: Vec<DataType>,
) -> Result<(DataFrame, Deviations)> {
    let fixed = match &options.schema {
        Some(s) => s.types().iter().copied().map(Some).collect(),
        None => fixed_types(options, names)?,
    };
    let types: Vec<DataType> = types
        .iter()
        .zip(&fixed)
        .map(|(&t, f)| f.unwrap_or(t))
        .collect();
    let schema_of = |types: &[DataType]| -> Result<Schema> {
        Ok(Schema::new(types.to_vec()).with_names(names)?)
    };
    let full = schema_of(&types)?;
    // The columns left out are not read (only scanned for their ends).
    let reader = match projection(options, &full)? {
        Some(cols) => reader.with_columns(&cols),
        None => reader,
    };
    match options.mode {
        Mode::Safe => widen_until_fits(group, label, names, types, &fixed, |types| {
            reader
                .clone()
                .with_schema(schema_of(types)?)
                .read_or_misfit(file)
        }),
        Mode::Lenient | Mode::SorRule => reader.with_schema(full).read_lenient(file),
    }
}

/// Collective: the deviations of the whole load, reported with a warning; an error when
/// more than half of the rows deviate and the user did not allow it.
fn honest(
    group: &impl Group,
    path: &Path,
    options: &ReadOptions,
    frame: &DataFrame,
    local: Deviations,
) -> Result<Deviations> {
    let all: Vec<(u64, Option<u64>, u64)> =
        group.gather((local.rows, local.first_line, frame.nrows()))?;
    let deviations = Deviations {
        rows: all.iter().map(|d| d.0).sum(),
        first_line: all.iter().filter_map(|d| d.1).min(),
    };
    let rows: u64 = all.iter().map(|d| d.2).sum();
    if deviations.rows == 0 {
        return Ok(deviations);
    }
    let first = deviations.first_line.unwrap_or(0);
    if group.rank() == 0 {
        tracing::warn!(
            path = %path.display(),
            deviating_rows = deviations.rows,
            rows,
            first_line = first,
            "{} of {rows} rows deviate from the schema (first at line {first}); their \
             misfits were kept as missing values",
            deviations.rows
        );
    }
    if deviations.rows * 2 > rows && !options.allow_deviations {
        return Err(DataError::Schema(format!(
            "{}: {} of {rows} rows deviate from the schema (first at line {first}): this \
             does not look like the file the options describe; nothing was loaded \
             (ReadOptions::allow_deviations() loads it anyway)",
            path.display(),
            deviations.rows
        ))
        .into());
    }
    Ok(deviations)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str, text: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("eau2-read-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    /// A pid column whose first 2,000 rows are 0/1 and whose last row needs 64 bits.
    fn sorted_sor() -> String {
        let mut text = String::new();
        for i in 0..4000i64 {
            let pid = if i < 2000 { i % 2 } else { i };
            text.push_str(&format!("<{pid}> <\"p{i}\">\n"));
        }
        text.push_str("<6000000000> <\"last\">\n");
        text
    }

    #[test]
    fn formats_come_from_extensions() {
        assert_eq!(Format::of_path(Path::new("a/b.SOR")), Some(Format::Sor));
        assert_eq!(Format::of_path(Path::new("b.csv")), Some(Format::Csv));
        assert_eq!(Format::of_path(Path::new("b.tsv")), Some(Format::Csv));
        assert_eq!(Format::of_path(Path::new("b.ltgt")), Some(Format::Sor));
        assert_eq!(Format::of_path(Path::new("b.txt")), None);
        assert_eq!(Format::of_path(Path::new("b")), None);
    }

    /// Every loader keeps every value of a file whose first rows are not representative.
    #[test]
    fn every_loader_keeps_late_values() {
        let node = Node::standalone().unwrap();
        let path = temp("sorted.sor", &sorted_sor());
        let check = |f: &DistFrame<'_>| {
            assert_eq!(f.schema().codes(), "LS");
            assert_eq!(f.get_as::<i64>(0, 1).unwrap(), Some(1));
            assert_eq!(f.get_as::<i64>(0, 2500).unwrap(), Some(2500));
            assert_eq!(f.get_as::<i64>(0, 4000).unwrap(), Some(6_000_000_000));
            assert_eq!(f.deviations(), Deviations::default());
        };
        check(&DistFrame::read(&node, &path).unwrap());
        let keyed = ReadOptions::new().key(Key::new("k", 0));
        check(&DistFrame::read_with(&node, &path, &keyed).unwrap());
        check(&DistFrame::get(&node, &Key::new("k", 0)).unwrap());
        // SoR's own rule, asked for, loses the later values and says how many.
        let options = ReadOptions::new().sor_rule().allow_deviations();
        let f = DistFrame::read_with(&node, &path, &options).unwrap();
        assert_eq!(f.schema().codes(), "BS");
        assert_eq!(f.deviations().rows, 2001);
        assert_eq!(f.deviations().first_line, Some(2001));
    }

    /// `Format::Words`: one STRING column of the words, named as asked, with a clear
    /// error for options that do not apply.
    #[test]
    fn words_load_as_one_string_column() {
        let node = Node::standalone().unwrap();
        let path = temp("words.txt", "  to be\tor\r\nnot \x0bto\x0cbe\n\n");
        let words = ReadOptions::new().format(Format::Words);
        let f = DistFrame::read_with(&node, &path, &words.clone().chunk_len(2)).unwrap();
        assert_eq!(
            (f.nrows(), f.schema().names()),
            (6, &["word".to_string()][..])
        );
        let got: Vec<String> = (0..6)
            .map(|r| String::from_utf8(f.get_as::<Vec<u8>>(0, r).unwrap().unwrap()).unwrap())
            .collect();
        assert_eq!(got, ["to", "be", "or", "not", "to", "be"]);
        let named = words.clone().names(&["w"]).columns(&["w"]);
        assert_eq!(
            DistFrame::read_with(&node, &path, &named).unwrap().nrows(),
            6
        );
        let typed = words.clone().types(&[("word", DataType::Int)]);
        let err = DistFrame::read_with(&node, &path, &typed).err().unwrap();
        assert!(
            err.to_string()
                .contains("Format::Words reads one STRING column"),
            "{err}"
        );
        let empty = temp("empty.txt", "");
        assert_eq!(
            DistFrame::read_with(&node, &empty, &words).unwrap().nrows(),
            0
        );
    }

    #[test]
    fn csv_options_and_an_empty_file_with_a_schema() {
        let node = Node::standalone().unwrap();
        let path = temp("semi.txt", "a;b\n1;x\n2;y\n");
        let options = ReadOptions::new().format(Format::Csv).delimiter(b';');
        let f = DistFrame::read_with(&node, &path, &options).unwrap();
        assert_eq!(f.schema().names(), ["a", "b"]);
        assert_eq!(f.get_as::<i64>("a", 1).unwrap(), Some(2));
        let options = options.header(false).names(&["k", "v"]).columns(&["v"]);
        let f = DistFrame::read_with(&node, &path, &options).unwrap();
        assert_eq!(f.schema().names(), ["v"]);
        assert_eq!(f.nrows(), 3);
        let empty = temp("empty.csv", "");
        assert!(DistFrame::read(&node, &empty).is_err());
        let schema = Schema::named([("a", DataType::Int)]).unwrap();
        let f = DistFrame::read_with(&node, &empty, &ReadOptions::new().schema(schema)).unwrap();
        assert_eq!((f.nrows(), f.schema().codes().as_str()), (0, "I"));
        let missing = DistFrame::read(&node, "/no/such/file.csv").err().unwrap();
        assert!(
            missing.to_string().contains("/no/such/file.csv"),
            "{missing}"
        );
    }
}
