//! The header and schema inference: column names and types from the first records.

use super::records::{decode, split_record, Field, RawField};
use super::types::{value_type, UNTYPED};
use crate::frame::{DataType, Schema};

/// What the first records of a file say: the header's names (when there is a header)
/// and the types of the sampled rows.
#[derive(Clone, Debug)]
pub(crate) struct Head {
    /// The header's names, `None` without a header or when not asked for.
    pub names: Option<Vec<String>>,
    /// How many fields the header has, `None` without a header.
    pub header_width: Option<usize>,
    /// Where the first data record starts.
    pub data_start: usize,
    /// One entry per column seen in the sample: the most general type of its values,
    /// `None` when no value typed it.
    pub types: Vec<Option<DataType>>,
}

/// Reads the header (when `header`) at `origin` and samples up to `rows` records after
/// it, from `bytes[..end]`; `end` must be a record start or the end of the input. The
/// header's names are decoded only when `want_names` (they can be hundreds of MB; a given
/// schema may name every column already).
pub(crate) fn head(
    bytes: &[u8],
    origin: usize,
    end: usize,
    (header, want_names): (bool, bool),
    delimiter: u8,
    rows: usize,
) -> Head {
    let mut fields: Vec<RawField> = Vec::new();
    let mut pos = origin.min(end);
    let mut header_width = header.then_some(0);
    let names = if header && pos < end {
        pos = split_record(bytes, pos, end, delimiter, &mut fields);
        header_width = Some(fields.len());
        want_names.then(|| {
            fields
                .iter()
                .enumerate()
                .map(|(i, &f)| match decode(bytes, f) {
                    Field::Missing => format!("c{i}"),
                    Field::Bare(t) => String::from_utf8_lossy(t).into_owned(),
                    Field::Quoted(t) => String::from_utf8_lossy(&t).into_owned(),
                    Field::Malformed(_) => {
                        String::from_utf8_lossy(&bytes[f.start..f.end]).into_owned()
                    }
                })
                .collect()
        })
    } else if header {
        Some(Vec::new())
    } else {
        None
    };
    let data_start = pos;
    let mut types: Vec<Option<DataType>> = Vec::new();
    observe(bytes, pos, end, delimiter, rows, &mut types);
    Head {
        names,
        header_width,
        data_start,
        types,
    }
}

/// Widens `types` (one entry per column, growing to the widest record) by the values of
/// up to `rows` records from the record start `pos` in `bytes[..end]`; returns how many
/// records it saw and where the next one starts.
pub(crate) fn observe(
    bytes: &[u8],
    mut pos: usize,
    end: usize,
    delimiter: u8,
    rows: usize,
    types: &mut Vec<Option<DataType>>,
) -> (usize, usize) {
    let mut fields: Vec<RawField> = Vec::new();
    let mut seen = 0;
    while pos < end && seen < rows {
        pos = split_record(bytes, pos, end, delimiter, &mut fields);
        seen += 1;
        if types.len() < fields.len() {
            types.resize(fields.len(), None);
        }
        for (c, &f) in fields.iter().enumerate() {
            let t = match decode(bytes, f) {
                Field::Missing | Field::Malformed(_) => None,
                Field::Bare(t) => Some(value_type(t)),
                Field::Quoted(t) => Some(value_type(&t)),
            };
            types[c] = DataType::widen_seen(types[c], t);
        }
    }
    (seen, pos)
}

impl Head {
    /// The schema: as many columns as the header names (or, without one, as the widest
    /// sampled record has fields), named by the header or `c0, c1, ...`, typed by the
    /// sample (STRING where nothing typed a column).
    ///
    /// Consumes the header's names rather than copying them (a header can be hundreds
    /// of MB), in time linear in the number of columns.
    pub(crate) fn into_schema(self) -> Schema {
        let width = match &self.names {
            Some(names) => names.len(),
            None => self.types.len(),
        };
        let types = self.types;
        let mut names = self.names.unwrap_or_default().into_iter();
        Schema::from_columns((0..width).map(|c| {
            let dtype = types.get(c).copied().flatten().unwrap_or(UNTYPED);
            (dtype, Some(names.next().unwrap_or_else(|| format!("c{c}"))))
        }))
    }

    /// Column `c`'s name: the header's, or `c{c}`.
    pub(crate) fn name(&self, c: usize) -> String {
        self.names
            .as_ref()
            .and_then(|n| n.get(c).cloned())
            .unwrap_or_else(|| format!("c{c}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(text: &str, header: bool) -> (String, Vec<String>) {
        let b = text.as_bytes();
        let s = head(b, 0, b.len(), (header, true), b',', 500).into_schema();
        let names = (0..s.width())
            .map(|c| s.name(c).unwrap().to_string())
            .collect();
        (s.codes(), names)
    }

    #[test]
    fn names_and_types() {
        assert_eq!(
            schema("a,b,\"c,d\"\n1,2,x\n0,-3,\"4.5\"\n", true),
            ("BLS".into(), vec!["a".into(), "b".into(), "c,d".into()])
        );
        assert_eq!(
            schema("1,2.5\n0,\n,7\n", false),
            ("BD".into(), vec!["c0".into(), "c1".into()])
        );
        // Header only: untyped columns are strings.
        assert_eq!(schema("x,y\r\n", true).0, "SS");
        assert_eq!(schema("x,\n", true).1, vec!["x".to_string(), "c1".into()]);
        assert_eq!(schema("", true).0, "");
        // Widening: 0/1 then 2 then 2^31 stays an integer; past 2^63 it is a float.
        assert_eq!(schema("v\n1\n2\n2147483648\n", true).0, "L");
        assert_eq!(schema("v\n1\n9223372036854775808\n", true).0, "D");
        assert_eq!(schema("v\n\"\"\n", true).0, "S");
    }
}
