//! Column types and schemas.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use speedy::{Readable, Writable};

use crate::error::{Error, Result};

pub use super::datatype::DataType;

impl DataType {
    /// Parses a one-letter code (`B`, `I`, `F`, `S`, `L`, `D`) or a name (`BOOL`, `int`,
    /// `i64`, ...).
    pub fn parse(text: &str) -> Result<DataType> {
        match text.to_ascii_uppercase().as_str() {
            "B" | "BOOL" => Ok(DataType::Bool),
            "I" | "INT" => Ok(DataType::Int),
            "F" | "FLOAT" => Ok(DataType::Float),
            "S" | "STRING" => Ok(DataType::String),
            "L" | "I64" => Ok(DataType::I64),
            "D" | "F64" => Ok(DataType::F64),
            _ => Err(Error::Schema(format!(
                "unknown column type {text:?} (expected B, I, F, S, L or D)"
            ))),
        }
    }
}

/// The column types and names of a frame.
///
/// Every column has a name. Columns given none are called `c0`, `c1`, ... after their
/// position when added (the first such name not already taken), so a SoR file, which has
/// no header, still has names to look columns up by; a projection keeps the names of the
/// columns it takes. Names given explicitly must be unique; [`Schema::index`] finds the
/// first column of a name (only a projection that takes one column twice repeats one).
///
/// The names are shared, not copied, between clones: a frame's schema is cloned for
/// every chunk and every operator's output, and a CSV header can be hundreds of MB of
/// names. Building a schema of many columns at once ([`Schema::from_columns`],
/// [`Schema::named`], [`Schema::new`], [`Schema::with_names`]) takes time linear in
/// their number; [`Schema::push`] checks the new name against every column, so a loop
/// of pushes is quadratic.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Readable, Writable)]
pub struct Schema {
    types: Vec<DataType>,
    names: Names,
}

/// Column names shared by the clones of a schema (copied on write). Encoded exactly as
/// the `Vec<String>` it wraps, so the wire and serde formats do not change.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Names(Arc<Vec<String>>);

impl Names {
    /// The names, for changing them: copies them first if another schema shares them.
    fn make_mut(&mut self) -> &mut Vec<String> {
        Arc::make_mut(&mut self.0)
    }
}

impl Serialize for Names {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.0.as_slice().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Names {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        Ok(Names(Arc::new(Vec::<String>::deserialize(d)?)))
    }
}

impl<'a, C: speedy::Context> Readable<'a, C> for Names {
    fn read_from<R: speedy::Reader<'a, C>>(reader: &mut R) -> std::result::Result<Self, C::Error> {
        Ok(Names(Arc::new(Vec::<String>::read_from(reader)?)))
    }
}

impl<C: speedy::Context> Writable<C> for Names {
    fn write_to<T: ?Sized + speedy::Writer<C>>(
        &self,
        writer: &mut T,
    ) -> std::result::Result<(), C::Error> {
        self.0.as_ref().write_to(writer)
    }
}

/// Finds, in time independent of their number, which of a list of names equals a given
/// one: the hash of each name maps to the first column with that hash. Keeps hashes,
/// not copies of the names, so that a header of millions of names is not held twice.
/// A few names are compared directly instead: hashing a single 100 MB name costs more
/// than comparing it to a few others (which stops at the lengths).
struct NameIndex {
    first: Option<(HashMap<u64, usize>, RandomState)>,
}

/// Up to this many names, [`NameIndex`] compares instead of hashing.
const HASH_ABOVE: usize = 32;

impl NameIndex {
    fn new() -> NameIndex {
        NameIndex { first: None }
    }

    /// The index in `names` (the names added so far, in order) of the first one equal
    /// to `name`; when there is none, records `name` as the next one, `names[names.len()]`.
    fn find_or_add(&mut self, names: &[String], name: &str) -> Option<usize> {
        if self.first.is_none() {
            if names.len() < HASH_ABOVE {
                return names.iter().position(|n| n == name);
            }
            // Past a few names: hash the ones so far (the first of a repeated name wins).
            let hasher = RandomState::new();
            let mut first = HashMap::with_capacity(names.len() * 2);
            for (i, n) in names.iter().enumerate() {
                first.entry(hasher.hash_one(n.as_str())).or_insert(i);
            }
            self.first = Some((first, hasher));
        }
        let (first, hasher) = self.first.as_mut().expect("built just above");
        match first.entry(hasher.hash_one(name)) {
            Entry::Occupied(e) if names[*e.get()] == name => Some(*e.get()),
            // Two different names with one 64-bit hash: rare enough to look for it the
            // slow way.
            Entry::Occupied(_) => names.iter().position(|n| n == name),
            Entry::Vacant(e) => {
                e.insert(names.len());
                None
            }
        }
    }
}

impl Schema {
    /// A schema of columns named `c0`, `c1`, ...
    pub fn new(types: Vec<DataType>) -> Schema {
        Schema::from_columns(types.into_iter().map(|t| (t, None)))
    }

    /// A schema of the columns `(type, name)`, named as [`Schema::push`] names them: a
    /// column without a name, or with one an earlier column has, gets the first free
    /// default name `c<k>`, `k` from its position. Linear in the number of columns.
    pub fn from_columns(columns: impl IntoIterator<Item = (DataType, Option<String>)>) -> Schema {
        let columns = columns.into_iter();
        let mut types = Vec::with_capacity(columns.size_hint().0);
        let mut names: Vec<String> = Vec::with_capacity(columns.size_hint().0);
        let mut index = NameIndex::new();
        for (dtype, name) in columns {
            let name = match name {
                Some(n) if index.find_or_add(&names, &n).is_none() => n,
                _ => (names.len()..)
                    .map(|k| format!("c{k}"))
                    .find(|n| index.find_or_add(&names, n).is_none())
                    .expect("some c<k> is free: there are finitely many columns"),
            };
            types.push(dtype);
            names.push(name);
        }
        Schema {
            types,
            names: Names(Arc::new(names)),
        }
    }

    /// A schema of named columns, e.g. `Schema::named([("pid", DataType::Int), ("name",
    /// DataType::String)])`; an error when a name repeats. Linear in the number of
    /// columns.
    pub fn named<N: Into<String>>(
        columns: impl IntoIterator<Item = (N, DataType)>,
    ) -> Result<Schema> {
        let mut types = Vec::new();
        let mut names = Vec::new();
        for (name, dtype) in columns {
            types.push(dtype);
            names.push(name.into());
        }
        if let Some((j, i)) = first_repeat(&names) {
            return Err(Error::Schema(format!(
                "column name {:?} is already column {j}'s",
                names[i]
            )));
        }
        Ok(Schema {
            types,
            names: Names(Arc::new(names)),
        })
    }

    /// A schema from a string of one-letter codes, e.g. `"IIS"`; columns are named `c0`,
    /// `c1`, ...
    pub fn from_codes(codes: &str) -> Result<Schema> {
        let types = codes
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| DataType::parse(&c.to_string()))
            .collect::<Result<Vec<_>>>()?;
        Ok(Schema::new(types))
    }

    /// This schema with its columns renamed to `names`, one per column, all different.
    pub fn with_names<N: AsRef<str>>(mut self, names: &[N]) -> Result<Schema> {
        if names.len() != self.width() {
            return Err(Error::Schema(format!(
                "{} column names given for {} columns ({})",
                names.len(),
                self.width(),
                self.codes()
            )));
        }
        let names: Vec<String> = names.iter().map(|n| n.as_ref().to_string()).collect();
        if let Some((j, i)) = first_repeat(&names) {
            return Err(Error::Schema(format!(
                "column name {:?} is given to columns {j} and {i}",
                names[i]
            )));
        }
        self.names = Names(Arc::new(names));
        Ok(self)
    }

    /// The one-letter codes of the columns, e.g. `"IIS"`.
    pub fn codes(&self) -> String {
        self.types.iter().map(|t| t.code()).collect()
    }

    /// Appends a column named `name`, or the first free default name `c<k>` (`k` from
    /// the column's position) when `None`. A name already taken gets the same treatment
    /// as `None`; use [`Schema::try_push`] to have that be an error. Looks at every
    /// column: build a wide schema with [`Schema::from_columns`] instead.
    pub fn push(&mut self, dtype: DataType, name: Option<String>) {
        let name = match name {
            Some(n) if self.index_of(&n).is_none() => n,
            _ => self.default_name(),
        };
        self.types.push(dtype);
        self.names.make_mut().push(name);
    }

    /// Appends a column named `name`; an error when a column already has that name.
    pub fn try_push(&mut self, dtype: DataType, name: impl Into<String>) -> Result<()> {
        let name = name.into();
        if let Some(i) = self.index_of(&name) {
            return Err(Error::Schema(format!(
                "column name {name:?} is already column {i}'s"
            )));
        }
        self.types.push(dtype);
        self.names.make_mut().push(name);
        Ok(())
    }

    /// The first `c<k>`, from `k` = the next column's position, that no column has.
    fn default_name(&self) -> String {
        (self.width()..)
            .map(|k| format!("c{k}"))
            .find(|n| self.index_of(n).is_none())
            .expect("some c<k> is free: there are finitely many columns")
    }

    /// The number of columns.
    pub fn width(&self) -> usize {
        self.types.len()
    }

    /// The column types, in order.
    pub fn types(&self) -> &[DataType] {
        &self.types
    }

    /// The column names, in order.
    pub fn names(&self) -> &[String] {
        &self.names.0
    }

    /// The type of column `col`.
    pub fn dtype(&self, col: usize) -> Result<DataType> {
        self.types.get(col).copied().ok_or(Error::OutOfRange {
            what: "column",
            index: col as u64,
            len: self.types.len() as u64,
        })
    }

    /// The name of column `col`.
    pub fn name(&self, col: usize) -> Result<&str> {
        self.dtype(col)?;
        Ok(&self.names()[col])
    }

    /// Renames column `col`; an error when another column has that name.
    pub fn set_name(&mut self, col: usize, name: impl Into<String>) -> Result<()> {
        self.dtype(col)?;
        let name = name.into();
        match self.index_of(&name) {
            Some(other) if other != col => Err(Error::Schema(format!(
                "column name {name:?} is already column {other}'s"
            ))),
            _ => {
                self.names.make_mut()[col] = name;
                Ok(())
            }
        }
    }

    /// The index of the (first) column called `name`, or `None`.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.names().iter().position(|n| n == name)
    }

    /// The index of the (first) column called `name`; an error naming it and listing
    /// the columns there are.
    pub fn index(&self, name: &str) -> Result<usize> {
        self.index_of(name).ok_or_else(|| Error::NoSuchColumn {
            name: name.to_string(),
            available: self.names().to_vec(),
        })
    }

    /// The index of column `col` (an index or a name), checked to exist.
    pub fn resolve(&self, col: impl ColumnRef) -> Result<usize> {
        col.resolve(self)
    }

    /// The index of column `col` (an index or a name), checked to exist and to have type
    /// `want`; a [`Error::TypeMismatch`] naming the column otherwise.
    pub fn resolve_typed(&self, col: impl ColumnRef, want: DataType) -> Result<usize> {
        let index = col.resolve(self)?;
        self.check_type(index, want)?;
        Ok(index)
    }

    /// Checks that column `col` exists and has type `want`.
    pub fn check_type(&self, col: usize, want: DataType) -> Result<()> {
        let found = self.dtype(col)?;
        if found == want {
            Ok(())
        } else {
            Err(self.mismatch(col, want, found))
        }
    }

    /// The error for a `want` access to column `col`, which is `found`.
    #[cold]
    pub(crate) fn mismatch(&self, col: usize, want: DataType, found: DataType) -> Error {
        Error::TypeMismatch {
            column: col,
            name: self.names().get(col).cloned().unwrap_or_default(),
            expected: want,
            found,
        }
    }

    /// The columns a read builds, in the frame's order (`columns`, or every column), and
    /// for each of this schema's columns whether it is built; an error names a column
    /// past the last. Readers parse only the built columns.
    pub fn columns_to_build(&self, columns: Option<&[usize]>) -> Result<(Vec<usize>, Vec<bool>)> {
        let width = self.width();
        let cols: Vec<usize> = match columns {
            Some(cols) => cols.to_vec(),
            None => (0..width).collect(),
        };
        let mut build = vec![false; width];
        for &c in &cols {
            let Some(b) = build.get_mut(c) else {
                return Err(Error::OutOfRange {
                    what: "column",
                    index: c as u64,
                    len: width as u64,
                });
            };
            *b = true;
        }
        Ok((cols, build))
    }

    /// The schema of the columns `cols`, in that order, with their names.
    pub fn project(&self, cols: &[usize]) -> Result<Schema> {
        // Every column in order (a read without projection): the same schema, its names
        // shared rather than copied (a header may hold 100 MB of them).
        if cols.len() == self.width() && cols.iter().enumerate().all(|(i, &c)| i == c) {
            return Ok(self.clone());
        }
        let mut types = Vec::with_capacity(cols.len());
        let mut names = Vec::with_capacity(cols.len());
        for &c in cols {
            types.push(self.dtype(c)?);
            names.push(self.names()[c].clone());
        }
        Ok(Schema {
            types,
            names: Names(Arc::new(names)),
        })
    }

    /// Checks a schema that came from outside (decoded bytes): one name per column.
    pub fn validate(&self) -> Result<()> {
        if self.names().len() == self.types.len() {
            Ok(())
        } else {
            Err(Error::decode(format!(
                "schema of {} types has {} names",
                self.types.len(),
                self.names().len()
            )))
        }
    }
}

/// The first repeated name in `names` as `(first column, repeating column)`, or `None`.
fn first_repeat(names: &[String]) -> Option<(usize, usize)> {
    let mut index = NameIndex::new();
    for (i, name) in names.iter().enumerate() {
        if let Some(j) = index.find_or_add(&names[..i], name) {
            return Some((j, i));
        }
    }
    None
}

mod sealed {
    /// Keeps [`ColumnRef`](super::ColumnRef) closed to the impls below.
    pub trait Sealed {}
}

/// A way to name a column: its index (`usize`) or its name (`&str`, `&String`).
///
/// Every getter that takes a column takes one of these, so `row.get_as::<i32>(1)` and
/// `row.get_as::<i32>("pid")` both work. A name is looked up on each call (a scan of the
/// names); a loop over many rows is faster with the index found once by
/// [`Schema::index`].
pub trait ColumnRef: sealed::Sealed + Copy {
    /// The column's index in `schema`: an error when there is no such column.
    fn resolve(&self, schema: &Schema) -> Result<usize>;
}

impl sealed::Sealed for usize {}
impl ColumnRef for usize {
    #[inline]
    fn resolve(&self, schema: &Schema) -> Result<usize> {
        if *self < schema.width() {
            Ok(*self)
        } else {
            Err(Error::OutOfRange {
                what: "column",
                index: *self as u64,
                len: schema.width() as u64,
            })
        }
    }
}

impl sealed::Sealed for &str {}
impl ColumnRef for &str {
    fn resolve(&self, schema: &Schema) -> Result<usize> {
        schema.index(self)
    }
}

impl sealed::Sealed for &String {}
impl ColumnRef for &String {
    fn resolve(&self, schema: &Schema) -> Result<usize> {
        schema.index(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 20: building a wide schema at once names its columns exactly as pushing
    /// them one by one does (repeats, empty names and names that defaults took first),
    /// and a repeat in a wide list of names is an error naming both columns.
    #[test]
    fn wide_schemas_are_named_as_pushes_name_them() {
        let columns: Vec<(DataType, Option<String>)> = (0..2_000)
            .map(|i| {
                let name = match i % 10 {
                    0 => None,
                    1 => Some(format!("c{}", i + 9)),
                    2 => Some(format!("n{}", i / 4)),
                    _ => Some(format!("n{i}")),
                };
                (DataType::Int, name)
            })
            .collect();
        let mut pushed = Schema::default();
        for (t, n) in columns.clone() {
            pushed.push(t, n);
        }
        let built = Schema::from_columns(columns);
        assert_eq!(built, pushed);
        assert!(built.names().iter().any(|n| n == "c10"));

        let mut names: Vec<String> = (0..100_000).map(|i| format!("n{i}")).collect();
        let named = Schema::named(names.iter().map(|n| (n.clone(), DataType::Bool))).unwrap();
        assert_eq!(named.index("n99999").unwrap(), 99_999);
        names[99_999] = "n12345".into();
        let err = Schema::named(names.iter().map(|n| (n.clone(), DataType::Bool)))
            .unwrap_err()
            .to_string();
        assert!(err.contains("\"n12345\" is already column 12345"), "{err}");
        let err = Schema::new(vec![DataType::Bool; 100_000])
            .with_names(&names)
            .unwrap_err()
            .to_string();
        assert!(err.contains("columns 12345 and 99999"), "{err}");
    }

    /// Clones share the names (a 100 MB header is not copied per chunk) until one of
    /// them changes a name, which changes only that clone.
    #[test]
    fn clones_share_names_until_one_changes() {
        let a = Schema::named([
            ("x".repeat(1000), DataType::Int),
            ("y".into(), DataType::Int),
        ])
        .unwrap();
        let mut b = a.clone();
        assert!(std::ptr::eq(a.names(), b.names()));
        b.set_name(1, "z").unwrap();
        assert_eq!(a.names()[1], "y");
        assert_eq!(b.names()[1], "z");
        // The wire and serde encodings are those of the plain lists.
        let bytes = a.write_to_vec().unwrap();
        assert_eq!(Schema::read_from_buffer(&bytes).unwrap(), a);
        let plain: (Vec<DataType>, Vec<String>) = (a.types().to_vec(), a.names().to_vec());
        assert_eq!(bytes, plain.write_to_vec().unwrap());
    }

    #[test]
    fn widening_follows_generality() {
        use DataType::*;
        for (a, b, want) in [
            (Bool, Int, Int),
            (Int, Float, Float),
            (Float, String, String),
            (Bool, I64, I64),
            (Int, I64, I64),
            (I64, F64, F64),
            (I64, Float, F64),
            (Float, F64, F64),
            (F64, String, String),
            (Bool, Bool, Bool),
        ] {
            assert_eq!(a.widen(b), want, "{a} with {b}");
            assert_eq!(b.widen(a), want, "{b} with {a}");
        }
        // On SoR's four types, widening is their order.
        for a in [Bool, Int, Float, String] {
            for b in [Bool, Int, Float, String] {
                assert_eq!(a.widen(b), a.max(b));
            }
        }
    }

    #[test]
    fn codes_and_names_of_every_type() {
        for t in DataType::ALL {
            assert_eq!(DataType::parse(&t.code().to_string()).unwrap(), t);
            assert_eq!(DataType::parse(t.name()).unwrap(), t);
            assert_eq!(DataType::parse(&t.name().to_lowercase()).unwrap(), t);
        }
        // The 64-bit codes do not clash with SoR's.
        assert_eq!(Schema::from_codes("BIFSLD").unwrap().codes(), "BIFSLD");
        assert!(DataType::ALL.iter().filter(|t| t.is_sor()).count() == 4);
        assert!(DataType::parse("Q").is_err());
    }

    #[test]
    fn unnamed_columns_are_c0_c1() {
        let s = Schema::from_codes("ISL").unwrap();
        assert_eq!(s.names(), ["c0", "c1", "c2"]);
        assert_eq!(s.name(2).unwrap(), "c2");
        assert_eq!(s.index("c1").unwrap(), 1);
        assert!(s.name(3).is_err());
        // A default name skips names that are taken.
        let mut s = Schema::named([("c1", DataType::Int)]).unwrap();
        s.push(DataType::Int, None);
        s.push(DataType::Int, Some("c1".into()));
        assert_eq!(s.names(), ["c1", "c2", "c3"]);
        // A projection keeps the names.
        assert_eq!(s.project(&[2, 0]).unwrap().names(), ["c3", "c1"]);
    }

    #[test]
    fn wrong_names_are_errors_listing_the_columns() {
        let s = Schema::named([("pid", DataType::Int), ("name", DataType::String)]).unwrap();
        let err = s.index("pdi").unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("\"pdi\"") && msg.contains("pid, name"),
            "{msg}"
        );
        assert!(matches!(err, Error::NoSuchColumn { .. }));
        assert_eq!(s.resolve("name").unwrap(), 1);
        assert_eq!(s.resolve(1).unwrap(), 1);
        assert!(matches!(s.resolve(2), Err(Error::OutOfRange { .. })));
        assert!(Schema::named([("a", DataType::Int), ("a", DataType::Int)]).is_err());
        assert!(s.clone().with_names(&["x"]).is_err());
        assert!(s.clone().with_names(&["x", "x"]).is_err());
        assert_eq!(
            s.clone().with_names(&["x", "y"]).unwrap().names(),
            ["x", "y"]
        );
        let mut t = s.clone();
        assert!(t.set_name(0, "name").is_err());
        t.set_name(0, "pid2").unwrap();
        assert_eq!(t.index("pid2").unwrap(), 0);
    }

    #[test]
    fn wrong_types_are_errors_naming_the_column() {
        let s = Schema::named([("pid", DataType::Int), ("name", DataType::String)]).unwrap();
        let err = s.resolve_typed("name", DataType::Int).unwrap_err();
        assert!(matches!(
            err,
            Error::TypeMismatch {
                column: 1,
                expected: DataType::Int,
                found: DataType::String,
                ..
            }
        ));
        let msg = err.to_string();
        assert!(
            msg.contains("\"name\"") && msg.contains("STRING") && msg.contains("INT"),
            "{msg}"
        );
        assert_eq!(s.resolve_typed(0, DataType::Int).unwrap(), 0);
    }
}
