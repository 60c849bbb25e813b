//! What a distributed frame is, as stored under its key: the schema and, per row chunk,
//! its first row, its length and its home rank.

use speedy::{Readable, Writable};

use crate::error::{Error, Result};
use crate::frame::{locate_row, Schema};
use crate::kv::Key;

/// One row chunk of a distributed frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Readable, Writable)]
pub struct ChunkInfo {
    /// The global index of its first row.
    pub start: u64,
    /// How many rows it has.
    pub rows: u64,
    /// The rank that stores it (for every column).
    pub home: u32,
}

/// A distributed frame's layout.
#[derive(Clone, Debug, PartialEq, Readable, Writable)]
pub struct Descriptor {
    /// The column types and names.
    pub schema: Schema,
    /// The row chunks, in row order.
    pub chunks: Vec<ChunkInfo>,
}

impl Descriptor {
    /// A descriptor for chunks of `rows[i]` rows at `homes[i]`, in order.
    pub fn new(schema: Schema, layout: impl IntoIterator<Item = (u64, usize)>) -> Descriptor {
        let mut start = 0;
        let chunks = layout
            .into_iter()
            .map(|(rows, home)| {
                let info = ChunkInfo {
                    start,
                    rows,
                    home: home as u32,
                };
                start += rows;
                info
            })
            .collect();
        Descriptor { schema, chunks }
    }

    /// The total number of rows.
    pub fn nrows(&self) -> u64 {
        self.chunks.last().map_or(0, |c| c.start + c.rows)
    }

    /// The key of column `col`'s chunk `chunk` in the frame stored under `frame`.
    pub fn chunk_key(&self, frame: &Key, col: usize, chunk: usize) -> Key {
        Key::new(
            format!("{}\0{col}\0{chunk}", frame.name()),
            self.chunks[chunk].home as usize,
        )
    }

    /// The chunk holding `row`.
    pub fn locate(&self, row: u64) -> Result<(usize, usize)> {
        Ok(locate_row(row, self.nrows(), &self.chunks, |c| c.start)?)
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        self.write_to_vec()
            .expect("encoding a descriptor into memory cannot fail")
    }

    /// Decodes a descriptor stored under `key` (named in errors), checking that its
    /// chunks tile the rows. Public for the fuzz targets only.
    #[doc(hidden)]
    pub fn decode(bytes: &[u8], key: &Key) -> Result<Descriptor> {
        let d = Descriptor::read_from_buffer(bytes)
            .map_err(|e| Error::decode(format!("frame descriptor under {key}: {e}")))?;
        if d.schema.validate().is_err() {
            return Err(Error::decode(format!(
                "frame descriptor under {key}: a schema of {} types and {} names",
                d.schema.width(),
                d.schema.names().len()
            )));
        }
        // Checked sums: a damaged descriptor must be an error, not an overflow (found by
        // the descriptor_decode fuzz target).
        let end = |c: &ChunkInfo| c.start.checked_add(c.rows);
        let contiguous = d.chunks.windows(2).all(|w| end(&w[0]) == Some(w[1].start));
        let last_ends = d.chunks.last().is_none_or(|c| end(c).is_some());
        if !contiguous || !last_ends || d.chunks.first().is_some_and(|c| c.start != 0) {
            return Err(Error::decode(format!(
                "frame descriptor under {key}: chunks do not tile the rows"
            )));
        }
        Ok(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::DataType;

    #[test]
    fn locate_and_round_trip() {
        let d = Descriptor::new(
            Schema::new(vec![DataType::Int]),
            [(3, 0), (0, 1), (2, 1), (5, 0)],
        );
        assert_eq!(d.nrows(), 10);
        assert_eq!(d.locate(0).unwrap(), (0, 0));
        assert_eq!(d.locate(3).unwrap(), (2, 0));
        assert_eq!(d.locate(9).unwrap(), (3, 4));
        assert!(d.locate(10).is_err());
        let key = Key::new("f", 0);
        assert_eq!(Descriptor::decode(&d.encode(), &key).unwrap(), d);
        assert!(Descriptor::decode(&d.encode()[..5], &key).is_err());
    }
}
