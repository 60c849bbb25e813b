//! Reading Parquet into a [`DistFrame`](super::DistFrame): one file or a folder of them
//! (a dataset), row groups spread over the ranks by bytes, only the asked-for columns.
//!
//! Every rank opens every file and reads its footer (a few KiB); the ranks compare what
//! they opened (device, inode, length, modification time) so they all read one version,
//! and every later read goes through the descriptor opened then. The row groups of all
//! files, in file-name then file order, are cut into one contiguous run per rank with
//! about the same compressed bytes each; rank r decodes its run (its row groups in
//! parallel), so the frame's rows are the dataset's rows in order, rank after rank, and
//! nothing crosses the network but the footers' fingerprints.
//!
//! [`ReadOptions::filter`] prunes row groups whose statistics prove no row can match,
//! then keeps exactly the matching rows of the others.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use eau2_arrow::{Bounds, ParquetFile};

use super::{Group, ReadOptions};
use crate::error::{DataError, Error, Result};
use crate::frame::{Bitmap, Chunk, Column, DataFrame, DataType, Schema, Value, DEFAULT_CHUNK_LEN};
use crate::sor::{Deviations, FileIdentity};

/// A comparison of a [`Filter`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// A value to compare a column with in a [`Filter`].
#[derive(Clone, Debug, PartialEq)]
pub enum Scalar {
    /// Compared with BOOL columns.
    Bool(bool),
    /// Compared with INT and I64 columns (and FLOAT/F64 ones, as a float).
    Int(i64),
    /// Compared with FLOAT and F64 columns.
    Float(f64),
    /// Compared bytewise with STRING columns.
    Str(String),
}

/// A row predicate `column op value` for [`ReadOptions::filter`]: rows whose value is
/// missing never match.
#[derive(Clone, Debug, PartialEq)]
pub struct Filter {
    column: String,
    op: Cmp,
    value: Scalar,
}

impl Filter {
    /// The predicate `column op value`.
    pub fn new(column: impl Into<String>, op: Cmp, value: Scalar) -> Filter {
        Filter {
            column: column.into(),
            op,
            value,
        }
    }
}

impl ReadOptions {
    /// Keeps only the rows where `column op value` holds (Parquet only). Row groups
    /// whose statistics show that no row can match are not read at all; the rest are
    /// read and filtered exactly, so the result is the same with or without statistics.
    /// Several filters must all hold. The column need not be among
    /// [`ReadOptions::columns`].
    pub fn filter(mut self, column: &str, op: Cmp, value: Scalar) -> Self {
        self.filters.push(Filter::new(column, op, value));
        self
    }
}

/// The `.parquet` files of a folder, by name; or the file itself.
fn dataset_files(path: &Path) -> Result<Vec<PathBuf>> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let entries = std::fs::read_dir(path).map_err(|e| Error::io_path("listing", path, e))?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io_path("listing", path, e))?;
        let p = entry.path();
        let is_parquet = p
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("parquet"));
        if is_parquet && p.is_file() {
            files.push(p);
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(DataError::Schema(format!(
            "{}: a folder read as a Parquet dataset holds no .parquet file",
            path.display()
        ))
        .into());
    }
    Ok(files)
}

/// What this rank opened: each file's identity and footer.
fn open_all(files: &[PathBuf]) -> Result<Vec<(FileIdentity, ParquetFile)>> {
    files
        .iter()
        .map(|p| {
            let file = ParquetFile::open(p)?;
            Ok((file.identity()?, file))
        })
        .collect()
}

/// Collective: this rank's rows of the Parquet file or dataset at `path`.
pub(crate) fn load(
    group: &impl Group,
    path: &Path,
    options: &ReadOptions,
) -> Result<(DataFrame, Deviations)> {
    if options.names.is_some() || options.schema.is_some() || !options.types.is_empty() {
        return Err(DataError::Schema(format!(
            "{}: a Parquet file names and types its own columns; ReadOptions::names, types \
             and schema do not apply (choose columns with ReadOptions::columns)",
            path.display()
        ))
        .into());
    }
    // Every rank opens everything, and says whether it could and what it opened.
    let opened = dataset_files(path).and_then(|files| open_all(&files));
    let mine: std::result::Result<Vec<FileIdentity>, String> = match &opened {
        Ok(o) => Ok(o.iter().map(|(id, _)| *id).collect()),
        Err(e) => Err(e.to_string()),
    };
    let all: Vec<(Option<Vec<FileIdentity>>, Option<String>)> =
        group.gather((mine.clone().ok(), mine.err()))?;
    if let Some((rank, why)) = all
        .iter()
        .enumerate()
        .find_map(|(r, (_, e))| e.as_ref().map(|e| (r, e)))
    {
        return Err(match opened {
            Err(e) => e,
            Ok(_) => Error::App(format!(
                "rank {rank} could not open {}: {why}",
                path.display()
            )),
        });
    }
    let opened = opened?;
    if all
        .iter()
        .any(|(ids, _)| ids.as_deref() != all[0].0.as_deref())
    {
        return Err(Error::io_path(
            "loading",
            path,
            std::io::Error::other(
                "the ranks opened different versions of the Parquet data (a file was replaced \
                 or added while they opened it); nothing was read: load it again once it is \
                 no longer being changed",
            ),
        ));
    }
    group.opened(all[0].0.as_deref().unwrap_or_default())?;
    let loaded = load_opened(group.rank(), group.size(), &opened, options);
    // Every rank learns whether every rank loaded, so none waits for another that gave
    // up. (The files were read through descriptors whose identities the ranks agreed
    // on above: there is no later check to make.)
    let frame = super::settle(group, loaded, || Ok(()))?;
    Ok((frame, Deviations::default()))
}

/// This rank's share of the opened files (the same on every rank): schema checks,
/// pruning, the split by bytes, decoding, exact filtering.
fn load_opened(
    rank: usize,
    size: usize,
    files: &[(FileIdentity, ParquetFile)],
    options: &ReadOptions,
) -> Result<DataFrame> {
    let first = &files[0].1;
    // The columns to decode: the projection, then any filter column not in it.
    let mut names: Vec<String> = match &options.columns {
        Some(w) => w.clone(),
        None => first
            .arrow_schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect(),
    };
    let projected = names.len();
    for f in &options.filters {
        if !names.contains(&f.column) {
            names.push(f.column.clone());
        }
    }
    let mut schema: Option<Schema> = None;
    let mut plan: Vec<(usize, Vec<usize>)> = Vec::new(); // (file, its column indexes)
    for (k, (_, file)) in files.iter().enumerate() {
        let indexes = file.column_indexes(Some(&names))?;
        let here = file.schema_of(&indexes)?;
        match &schema {
            None => schema = Some(here),
            Some(s) if s.types() != here.types() => {
                return Err(DataError::Schema(format!(
                    "Parquet file {} has columns {:?} of types {} where {} has {}: the files \
                     of a dataset must agree",
                    file.path().display(),
                    names,
                    here.codes(),
                    first.path().display(),
                    s.codes()
                ))
                .into())
            }
            Some(_) => {}
        }
        plan.push((k, indexes));
    }
    let schema = schema.expect("a dataset has at least one file");
    let filters = options
        .filters
        .iter()
        .map(|f| {
            let at = names
                .iter()
                .position(|n| *n == f.column)
                .expect("filter columns were added");
            check_filter(f, schema.types()[at]).map(|()| (at, f))
        })
        .collect::<Result<Vec<_>>>()?;

    // Every row group of the dataset that may hold a matching row, in order.
    let mut groups: Vec<(usize, usize, u64)> = Vec::new(); // (file, group, bytes)
    for (k, indexes) in &plan {
        let file = &files[*k].1;
        for (g, info) in file.row_groups().iter().enumerate() {
            let may_match = filters
                .iter()
                .all(|(at, f)| file.bounds(g, indexes[*at]).is_none_or(|b| may_hold(&b, f)));
            if may_match && info.rows > 0 {
                groups.push((*k, g, info.bytes.max(1)));
            }
        }
    }
    let (from, to) = share_by_bytes(&groups, rank, size);
    let chunk_len = options.chunk_len.unwrap_or(DEFAULT_CHUNK_LEN);
    let mut parts = Vec::new();
    let mut i = from;
    while i < to {
        // Consecutive row groups of one file decode together (in parallel).
        let k = groups[i].0;
        let mut ids = Vec::new();
        while i < to && groups[i].0 == k {
            ids.push(groups[i].1);
            i += 1;
        }
        parts.push(files[k].1.read(&ids, &plan[k].1, chunk_len)?);
    }
    let frame = if parts.is_empty() {
        DataFrame::empty(schema)
    } else {
        DataFrame::concat(parts)?
    };
    let frame = if filters.is_empty() {
        frame
    } else {
        keep_matching(&frame, &filters)?
    };
    // Drop the filter-only columns.
    if projected == frame.ncols() {
        Ok(frame)
    } else {
        Ok(frame.project(&(0..projected).collect::<Vec<_>>())?)
    }
}

/// The run `from..to` of `groups` (each with its bytes) that rank `rank` of `size`
/// reads: group `i` goes to the rank whose equal share of the total bytes holds the
/// group's middle byte, so runs are contiguous and about equal in bytes.
fn share_by_bytes(groups: &[(usize, usize, u64)], rank: usize, size: usize) -> (usize, usize) {
    let total: u128 = groups.iter().map(|g| g.2 as u128).sum();
    let mut at = 0u128;
    let owner: Vec<usize> = groups
        .iter()
        .map(|g| {
            let middle = at + g.2 as u128 / 2;
            at += g.2 as u128;
            (middle * size as u128)
                .checked_div(total)
                .map_or(0, |o| (o as usize).min(size - 1))
        })
        .collect();
    let from = owner
        .iter()
        .position(|&o| o >= rank)
        .unwrap_or(groups.len());
    let to = owner.iter().position(|&o| o > rank).unwrap_or(groups.len());
    (from, to)
}

/// An error unless `filter`'s value can be compared with a column of type `dtype`.
fn check_filter(filter: &Filter, dtype: DataType) -> Result<()> {
    let ok = matches!(
        (&filter.value, dtype),
        (Scalar::Bool(_), DataType::Bool)
            | (
                Scalar::Int(_),
                DataType::Int | DataType::I64 | DataType::Float | DataType::F64
            )
            | (
                Scalar::Float(_),
                DataType::Int | DataType::I64 | DataType::Float | DataType::F64
            )
            | (Scalar::Str(_), DataType::String)
    );
    if ok {
        Ok(())
    } else {
        Err(DataError::Schema(format!(
            "filter on column {:?} compares a {dtype} column with {:?}",
            filter.column, filter.value
        ))
        .into())
    }
}

/// Whether a row group whose column lies within `bounds` may hold a row matching `f`.
fn may_hold(bounds: &Bounds, f: &Filter) -> bool {
    use std::cmp::Ordering;
    // (value vs min, value vs max), where comparable.
    let (lo, hi) = match (bounds, &f.value) {
        (Bounds::Int(a, b), Scalar::Int(v)) => (v.cmp(a), v.cmp(b)),
        (Bounds::Int(a, b), Scalar::Float(v)) => {
            match (v.partial_cmp(&(*a as f64)), v.partial_cmp(&(*b as f64))) {
                (Some(x), Some(y)) => (x, y),
                _ => return true,
            }
        }
        (Bounds::Float(a, b), Scalar::Float(v)) => match (v.partial_cmp(a), v.partial_cmp(b)) {
            (Some(x), Some(y)) => (x, y),
            _ => return true,
        },
        (Bounds::Float(a, b), Scalar::Int(v)) => {
            let v = *v as f64;
            match (v.partial_cmp(a), v.partial_cmp(b)) {
                (Some(x), Some(y)) => (x, y),
                _ => return true,
            }
        }
        (Bounds::Bytes(a, b), Scalar::Str(v)) => (v.as_bytes().cmp(a), v.as_bytes().cmp(b)),
        (Bounds::Bool(a, b), Scalar::Bool(v)) => (v.cmp(a), v.cmp(b)),
        _ => return true,
    };
    match f.op {
        Cmp::Eq => lo != Ordering::Less && hi != Ordering::Greater,
        // Only a group whose every value equals v (min == max == v) is ruled out.
        Cmp::Ne => !(lo == Ordering::Equal && hi == Ordering::Equal),
        Cmp::Lt => lo == Ordering::Greater, // some value < v iff min < v
        Cmp::Le => lo != Ordering::Less,    // min <= v
        Cmp::Gt => hi == Ordering::Less,    // max > v
        Cmp::Ge => hi != Ordering::Greater, // max >= v
    }
}

/// Whether `value` (a present value of the column) matches `f`.
fn matches(value: Option<Value<'_>>, f: &Filter) -> bool {
    use std::cmp::Ordering;
    let Some(value) = value else { return false };
    let ord: Option<Ordering> = match (value, &f.value) {
        (Value::Bool(x), Scalar::Bool(v)) => Some(x.cmp(v)),
        (Value::Int(x), Scalar::Int(v)) => Some((x as i64).cmp(v)),
        (Value::I64(x), Scalar::Int(v)) => Some(x.cmp(v)),
        (Value::Int(x), Scalar::Float(v)) => (x as f64).partial_cmp(v),
        (Value::I64(x), Scalar::Float(v)) => (x as f64).partial_cmp(v),
        (Value::Float(x), Scalar::Float(v)) => (x as f64).partial_cmp(v),
        (Value::F64(x), Scalar::Float(v)) => x.partial_cmp(v),
        (Value::Float(x), Scalar::Int(v)) => (x as f64).partial_cmp(&(*v as f64)),
        (Value::F64(x), Scalar::Int(v)) => x.partial_cmp(&(*v as f64)),
        (Value::Str(x), Scalar::Str(v)) => Some(x.cmp(v.as_bytes())),
        _ => None,
    };
    let Some(ord) = ord else { return false };
    match f.op {
        Cmp::Eq => ord == Ordering::Equal,
        Cmp::Ne => ord != Ordering::Equal,
        Cmp::Lt => ord == Ordering::Less,
        Cmp::Le => ord != Ordering::Greater,
        Cmp::Gt => ord == Ordering::Greater,
        Cmp::Ge => ord != Ordering::Less,
    }
}

/// The rows of `frame` where every filter holds (column `at` of the frame).
fn keep_matching(frame: &DataFrame, filters: &[(usize, &Filter)]) -> Result<DataFrame> {
    let mut chunks_out: Vec<Vec<Arc<Chunk>>> = vec![Vec::new(); frame.ncols()];
    for i in 0..frame.chunk_count() {
        let row = frame.row_chunk(i);
        let len = frame.chunk_rows(i).count();
        let mut keep = Bitmap::filled(len, true);
        for &(at, f) in filters {
            let chunk = &row[at];
            for r in 0..len {
                if keep.get(r) && !matches(chunk.value(r), f) {
                    keep.set(r, false);
                }
            }
        }
        for (c, chunk) in crate::frame::take_rows(&row, &keep).into_iter().enumerate() {
            chunks_out[c].push(Arc::new(chunk));
        }
    }
    let columns = chunks_out
        .into_iter()
        .zip(frame.schema().types())
        .map(|(chunks, &t)| Column::from_chunks(t, chunks))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(DataFrame::new(frame.schema().clone(), columns)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_are_contiguous_cover_everything_and_balance_bytes() {
        // One huge group among small ones; uneven sizes.
        let sizes = [10u64, 10, 500, 10, 10, 10, 200, 10, 10, 10];
        let groups: Vec<_> = sizes.iter().enumerate().map(|(i, &b)| (0, i, b)).collect();
        for n in 1..=5 {
            let mut next = 0;
            for r in 0..n {
                let (from, to) = share_by_bytes(&groups, r, n);
                assert_eq!(from, next, "rank {r} of {n}: runs are contiguous");
                assert!(to >= from);
                next = to;
            }
            assert_eq!(next, groups.len(), "{n} ranks cover every group");
        }
        // Two ranks: the 500-byte group alone outweighs the rest, so it ends rank 0's run.
        assert_eq!(share_by_bytes(&groups, 0, 2), (0, 3));
        assert_eq!(share_by_bytes(&[], 0, 3), (0, 0));
    }

    #[test]
    fn statistics_rule_out_only_groups_that_cannot_match() {
        let f = |op, v| Filter::new("x", op, Scalar::Int(v));
        let b = Bounds::Int(10, 20);
        assert!(!may_hold(&b, &f(Cmp::Eq, 9)) && may_hold(&b, &f(Cmp::Eq, 10)));
        assert!(may_hold(&b, &f(Cmp::Eq, 20)) && !may_hold(&b, &f(Cmp::Eq, 21)));
        assert!(!may_hold(&b, &f(Cmp::Lt, 10)) && may_hold(&b, &f(Cmp::Lt, 11)));
        assert!(!may_hold(&b, &f(Cmp::Le, 9)) && may_hold(&b, &f(Cmp::Le, 10)));
        assert!(!may_hold(&b, &f(Cmp::Gt, 20)) && may_hold(&b, &f(Cmp::Gt, 19)));
        assert!(!may_hold(&b, &f(Cmp::Ge, 21)) && may_hold(&b, &f(Cmp::Ge, 20)));
        assert!(may_hold(&b, &f(Cmp::Ne, 15)));
        assert!(!may_hold(&Bounds::Int(7, 7), &f(Cmp::Ne, 7)));
        let s = Filter::new("s", Cmp::Eq, Scalar::Str("m".into()));
        assert!(!may_hold(&Bounds::Bytes(b"n".to_vec(), b"z".to_vec()), &s));
        assert!(may_hold(&Bounds::Bytes(b"a".to_vec(), b"z".to_vec()), &s));
        // Incomparable bounds never rule a group out.
        assert!(may_hold(&Bounds::Bool(false, false), &f(Cmp::Eq, 3)));
    }

    #[test]
    fn rows_match_exactly_and_missing_never_matches() {
        let f = Filter::new("x", Cmp::Ge, Scalar::Float(2.5));
        assert!(matches(Some(Value::Int(3)), &f));
        assert!(!matches(Some(Value::Int(2)), &f));
        assert!(matches(Some(Value::F64(2.5)), &f));
        assert!(!matches(None, &f));
        assert!(!matches(Some(Value::F64(f64::NAN)), &f));
    }
}
