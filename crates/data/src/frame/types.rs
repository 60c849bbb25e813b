//! Column types and schemas.

use std::fmt;

use serde::{Deserialize, Serialize};
use speedy::{Readable, Writable};

use crate::error::{Error, Result};

/// The type of a column.
///
/// The first four are SoR's types, declared in SoR's order of generality
/// (`Bool < Int < Float < String`), which schema inference relies on. The 64-bit types
/// come after them (aggregates produce them; the SoR reader never infers them), so the
/// derived order puts them last and the wire tags of the first four never change.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    Readable,
    Writable,
)]
#[speedy(tag_type = u8)]
pub enum DataType {
    /// `0` or `1`.
    Bool,
    /// A 32-bit signed integer.
    Int,
    /// A 32-bit float.
    Float,
    /// UTF-8 bytes (not validated: SoR strings are bytes).
    String,
    /// A 64-bit signed integer (counts, sums).
    I64,
    /// A 64-bit float (means).
    F64,
}

impl DataType {
    /// Every type, in declaration order.
    pub const ALL: [DataType; 6] = [
        DataType::Bool,
        DataType::Int,
        DataType::Float,
        DataType::String,
        DataType::I64,
        DataType::F64,
    ];

    /// The type's name: `BOOL`, `INT`, `FLOAT`, `STRING` (as SoR tools print them),
    /// `I64`, `F64`.
    pub fn name(self) -> &'static str {
        match self {
            DataType::Bool => "BOOL",
            DataType::Int => "INT",
            DataType::Float => "FLOAT",
            DataType::String => "STRING",
            DataType::I64 => "I64",
            DataType::F64 => "F64",
        }
    }

    /// The one-letter code: the course's `B`, `I`, `F`, `S`, and `L` (long) for I64 and
    /// `D` (double) for F64, letters that SoR schemas do not use.
    pub fn code(self) -> char {
        match self {
            DataType::Bool => 'B',
            DataType::Int => 'I',
            DataType::Float => 'F',
            DataType::String => 'S',
            DataType::I64 => 'L',
            DataType::F64 => 'D',
        }
    }

    /// True for the four types a SoR file can hold (BOOL, INT, FLOAT, STRING).
    pub fn is_sor(self) -> bool {
        !matches!(self, DataType::I64 | DataType::F64)
    }

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

impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The column types and names of a frame.
///
/// Every column has a name. Columns given none are called `c0`, `c1`, ... after their
/// position when added (the first such name not already taken), so a SoR file, which has
/// no header, still has names to look columns up by; a projection keeps the names of the
/// columns it takes. Names given explicitly must be unique; [`Schema::index`] finds the
/// first column of a name (only a projection that takes one column twice repeats one).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Readable, Writable)]
pub struct Schema {
    types: Vec<DataType>,
    names: Vec<String>,
}

impl Schema {
    /// A schema of columns named `c0`, `c1`, ...
    pub fn new(types: Vec<DataType>) -> Schema {
        let mut schema = Schema::default();
        for t in types {
            schema.push(t, None);
        }
        schema
    }

    /// A schema of named columns, e.g. `Schema::named([("pid", DataType::Int), ("name",
    /// DataType::String)])`; an error when a name repeats.
    pub fn named<N: Into<String>>(
        columns: impl IntoIterator<Item = (N, DataType)>,
    ) -> Result<Schema> {
        let mut schema = Schema::default();
        for (name, dtype) in columns {
            schema.try_push(dtype, name.into())?;
        }
        Ok(schema)
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
        for (i, name) in names.iter().enumerate() {
            let name = name.as_ref();
            if let Some(j) = names[..i].iter().position(|n| n.as_ref() == name) {
                return Err(Error::Schema(format!(
                    "column name {name:?} is given to columns {j} and {i}"
                )));
            }
        }
        self.names = names.iter().map(|n| n.as_ref().to_string()).collect();
        Ok(self)
    }

    /// The one-letter codes of the columns, e.g. `"IIS"`.
    pub fn codes(&self) -> String {
        self.types.iter().map(|t| t.code()).collect()
    }

    /// Appends a column named `name`, or the first free default name `c<k>` (`k` from
    /// the column's position) when `None`. A name already taken gets the same treatment
    /// as `None`; use [`Schema::try_push`] to have that be an error.
    pub fn push(&mut self, dtype: DataType, name: Option<String>) {
        let name = match name {
            Some(n) if self.index_of(&n).is_none() => n,
            _ => self.default_name(),
        };
        self.types.push(dtype);
        self.names.push(name);
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
        self.names.push(name);
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
        &self.names
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
        Ok(&self.names[col])
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
                self.names[col] = name;
                Ok(())
            }
        }
    }

    /// The index of the (first) column called `name`, or `None`.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// The index of the (first) column called `name`; an error naming it and listing
    /// the columns there are.
    pub fn index(&self, name: &str) -> Result<usize> {
        self.index_of(name).ok_or_else(|| Error::NoSuchColumn {
            name: name.to_string(),
            available: self.names.clone(),
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
            name: self.names.get(col).cloned().unwrap_or_default(),
            expected: want,
            found,
        }
    }

    /// The schema of the columns `cols`, in that order, with their names.
    pub fn project(&self, cols: &[usize]) -> Result<Schema> {
        let mut out = Schema::default();
        for &c in cols {
            out.types.push(self.dtype(c)?);
            out.names.push(self.names[c].clone());
        }
        Ok(out)
    }

    /// Checks a schema that came from outside (decoded bytes): one name per column.
    pub fn validate(&self) -> Result<()> {
        if self.names.len() == self.types.len() {
            Ok(())
        } else {
            Err(Error::decode(format!(
                "schema of {} types has {} names",
                self.types.len(),
                self.names.len()
            )))
        }
    }
}

mod sealed {
    /// Keeps [`ColumnRef`](super::ColumnRef) closed to the impls below.
    pub trait Sealed {}
}

/// A way to name a column: its index (`usize`) or its name (`&str`, `&String`).
///
/// Every getter that takes a column takes one of these, so `row.get_int(1)` and
/// `row.get_int("pid")` both work. A name is looked up on each call (a scan of the
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
