//! The type of a column, on its own (it needs no error type), so that the data
//! layer's errors can name types without depending on schemas.

use std::fmt;

use serde::{Deserialize, Serialize};
use speedy::{Readable, Writable};

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
}

impl DataType {
    /// The least general type that holds the values of both `self` and `other`, for type
    /// inference: STRING holds anything; a float type holds any number (F64 when either
    /// side is 64-bit, since an I64 does not fit an f32); among integers the wider wins
    /// (BOOL < INT < I64). On SoR's four types this is their order of generality.
    pub fn widen(self, other: DataType) -> DataType {
        use DataType::*;
        let is_64 = |t| matches!(t, I64 | F64);
        match (self, other) {
            (String, _) | (_, String) => String,
            (a, b) if matches!(a, Float | F64) || matches!(b, Float | F64) => {
                if is_64(a) || is_64(b) {
                    F64
                } else {
                    Float
                }
            }
            (I64, _) | (_, I64) => I64,
            (Int, _) | (_, Int) => Int,
            _ => Bool,
        }
    }

    /// [`DataType::widen`] over optional types, `None` meaning "no value seen yet".
    pub fn widen_seen(seen: Option<DataType>, next: Option<DataType>) -> Option<DataType> {
        match (seen, next) {
            (Some(a), Some(b)) => Some(a.widen(b)),
            (a, b) => a.or(b),
        }
    }
}

impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
