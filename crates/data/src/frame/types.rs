//! Column types and schemas.

use std::fmt;

use serde::{Deserialize, Serialize};
use speedy::{Readable, Writable};

use crate::error::{Error, Result};

/// The type of a column. The order is SoR's order of generality:
/// `Bool < Int < Float < String`.
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
}

impl DataType {
    /// The name SoR tools print: `BOOL`, `INT`, `FLOAT`, `STRING`.
    pub fn name(self) -> &'static str {
        match self {
            DataType::Bool => "BOOL",
            DataType::Int => "INT",
            DataType::Float => "FLOAT",
            DataType::String => "STRING",
        }
    }

    /// The one-letter code of the course's schemas: `B`, `I`, `F`, `S`.
    pub fn code(self) -> char {
        match self {
            DataType::Bool => 'B',
            DataType::Int => 'I',
            DataType::Float => 'F',
            DataType::String => 'S',
        }
    }

    /// Parses a one-letter code (`B`, `I`, `F`, `S`) or a name (`BOOL`, `int`, ...).
    pub fn parse(text: &str) -> Result<DataType> {
        match text.to_ascii_uppercase().as_str() {
            "B" | "BOOL" => Ok(DataType::Bool),
            "I" | "INT" => Ok(DataType::Int),
            "F" | "FLOAT" => Ok(DataType::Float),
            "S" | "STRING" => Ok(DataType::String),
            _ => Err(Error::Schema(format!(
                "unknown column type {text:?} (expected B, I, F or S)"
            ))),
        }
    }
}

impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The column types of a frame, with optional column names.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Readable, Writable)]
pub struct Schema {
    types: Vec<DataType>,
    names: Vec<Option<String>>,
}

impl Schema {
    /// A schema of unnamed columns.
    pub fn new(types: Vec<DataType>) -> Schema {
        let names = vec![None; types.len()];
        Schema { types, names }
    }

    /// A schema from a string of one-letter codes, e.g. `"IIS"`.
    pub fn from_codes(codes: &str) -> Result<Schema> {
        let types = codes
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| DataType::parse(&c.to_string()))
            .collect::<Result<Vec<_>>>()?;
        Ok(Schema::new(types))
    }

    /// The one-letter codes of the columns, e.g. `"IIS"`.
    pub fn codes(&self) -> String {
        self.types.iter().map(|t| t.code()).collect()
    }

    /// Appends a column.
    pub fn push(&mut self, dtype: DataType, name: Option<String>) {
        self.types.push(dtype);
        self.names.push(name);
    }

    /// The number of columns.
    pub fn width(&self) -> usize {
        self.types.len()
    }

    /// The column types, in order.
    pub fn types(&self) -> &[DataType] {
        &self.types
    }

    /// The type of column `col`.
    pub fn dtype(&self, col: usize) -> Result<DataType> {
        self.types.get(col).copied().ok_or(Error::OutOfRange {
            what: "column",
            index: col as u64,
            len: self.types.len() as u64,
        })
    }

    /// The name of column `col`, if it has one.
    pub fn name(&self, col: usize) -> Option<&str> {
        self.names.get(col).and_then(|n| n.as_deref())
    }

    /// Gives column `col` a name.
    pub fn set_name(&mut self, col: usize, name: impl Into<String>) -> Result<()> {
        self.dtype(col)?;
        self.names[col] = Some(name.into());
        Ok(())
    }

    /// The index of the column called `name`.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n.as_deref() == Some(name))
    }

    /// The schema of the columns `cols`, in that order.
    pub fn project(&self, cols: &[usize]) -> Result<Schema> {
        let mut out = Schema::default();
        for &c in cols {
            out.push(self.dtype(c)?, self.names[c].clone());
        }
        Ok(out)
    }
}
