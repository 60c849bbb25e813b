//! The core of a distributed frame: the [`DistFrame`] handle, how its chunks are stored
//! and fetched, its constructors and accessors, and the freeing of an operator's result
//! when its handle drops. It imports none of the operators (`ops`, `read`, `write`),
//! which build on it in `impl DistFrame` blocks of their own.

use std::collections::VecDeque;
use std::sync::Arc;

use parking_lot::Mutex;
use rayon::prelude::*;

use super::descriptor::Descriptor;
use crate::cluster::Node;
use crate::error::{DataError, Error, Result};
use crate::frame::{
    visit_chunk_rows, Chunk, Column, ColumnRef, DataFrame, DataType, Element, FromValue, Rower,
    Schema, Value, Writer, DEFAULT_CHUNK_LEN,
};
use crate::kv::{Key, Object};
use crate::sor::Deviations;
use crate::Bytes;

/// How many decoded chunks a handle keeps for random access by (column, row).
const DECODED_CHUNKS: usize = 16;

/// Decoded chunks keyed by (column, chunk index), oldest first; a named type because
/// clippy finds the spelled-out one too complex for a field.
type RecentChunks = VecDeque<((usize, usize), Arc<Chunk>)>;

/// A handle on a distributed frame, bound to this rank's [`Node`].
pub struct DistFrame<'n> {
    pub(super) node: &'n Node,
    pub(super) key: Key,
    pub(super) desc: Arc<Descriptor>,
    /// Recently used chunks (shared with the store, or decoded from other ranks' bytes),
    /// for getters that walk rows one by one.
    pub(super) recent: Mutex<RecentChunks>,
    /// An operator's result, under a name of its own: freed when the handle is dropped
    /// (see the `ops` module).
    pub(super) temp: bool,
    /// The deviations of the load that made the frame (see [`DistFrame::deviations`]).
    pub(super) deviations: Deviations,
}

/// A chunk as the store keeps it at its home: decoded, once, and encoded only for the
/// ranks that fetch it.
struct StoredChunk(Arc<Chunk>);

impl Object for StoredChunk {
    fn encode(&self) -> Bytes {
        Bytes::from(self.0.to_bytes())
    }

    fn size(&self) -> usize {
        self.0.byte_size()
    }
}

/// Stores column `col`'s chunk `local` of `frame` as chunk `global` of the distributed
/// frame `desc` under `key`: decoded if it is homed here, as bytes otherwise.
fn store_chunk(
    node: &Node,
    key: &Key,
    desc: &Descriptor,
    frame: &DataFrame,
    (col, local, global): (usize, usize, usize),
) -> Result<()> {
    let chunk = StoredChunk(Arc::clone(frame.chunk(col, local)));
    node.comm()
        .kv()
        .put_object(&desc.chunk_key(key, col, global), Arc::new(chunk))
        .map_err(|e| name_taken(key, e.into()))
}

/// A conflict on one of a frame's keys (chunk or descriptor) reported as the frame's name
/// being taken, rather than as the internal key that happened to clash first.
fn name_taken(key: &Key, e: Error) -> Error {
    match e {
        Error::Comm(crate::error::CommError::KeyConflict(_)) => Error::NameTaken {
            name: key.name().to_string(),
        },
        other => other,
    }
}

impl<'n> DistFrame<'n> {
    fn new(node: &'n Node, key: &Key, desc: Descriptor) -> DistFrame<'n> {
        DistFrame {
            node,
            key: key.clone(),
            desc: Arc::new(desc),
            recent: Mutex::new(VecDeque::new()),
            temp: false,
            deviations: Deviations::default(),
        }
    }

    /// The frame stored under `key`, waiting until it has been stored.
    pub fn get(node: &'n Node, key: &Key) -> Result<DistFrame<'n>> {
        let bytes = node.comm().kv().wait_and_get(key)?;
        Ok(DistFrame::new(node, key, Descriptor::decode(&bytes, key)?))
    }

    /// Stores a local frame under `key`, its row chunks spread round-robin over the
    /// ranks. One rank calls this; the others can [`DistFrame::get`] the result.
    pub fn publish(node: &'n Node, key: &Key, frame: &DataFrame) -> Result<DistFrame<'n>> {
        let size = node.size();
        let desc = Descriptor::new(
            frame.schema().clone(),
            (0..frame.chunk_count()).map(|i| {
                let rows = frame.chunk_rows(i);
                (rows.end - rows.start, i % size)
            }),
        );
        let cells: Vec<(usize, usize)> = (0..frame.chunk_count())
            .flat_map(|i| (0..frame.ncols()).map(move |c| (c, i)))
            .collect();
        cells
            .par_iter()
            .try_for_each(|&(c, i)| store_chunk(node, key, &desc, frame, (c, i, i)))?;
        node.comm()
            .kv()
            .put(key, desc.encode())
            .map_err(|e| name_taken(key, e.into()))?;
        Ok(DistFrame::new(node, key, desc))
    }

    /// A one-column frame of `values`, published under `key`.
    pub fn from_array<T: Element>(
        node: &'n Node,
        key: &Key,
        values: &[T],
    ) -> Result<DistFrame<'n>> {
        DistFrame::publish(node, key, &DataFrame::from_array(values))
    }

    /// A one-row, one-column frame holding `value`, published under `key`.
    pub fn from_scalar<T: Element>(node: &'n Node, key: &Key, value: T) -> Result<DistFrame<'n>> {
        DistFrame::publish(node, key, &DataFrame::from_scalar(value))
    }

    /// A frame filled by `writer` while it is not done, published under `key`.
    pub fn from_writer(
        node: &'n Node,
        key: &Key,
        schema: Schema,
        writer: &mut impl Writer,
    ) -> Result<DistFrame<'n>> {
        let frame = DataFrame::from_writer(schema, DEFAULT_CHUNK_LEN, writer)?;
        DistFrame::publish(node, key, &frame)
    }

    /// Collective: every rank contributes the rows of `local`, which stay at that rank;
    /// the frame's rows are rank 0's, then rank 1's, and so on. Every rank must call it
    /// with the same key and frames of the same column types; each gets the handle.
    pub fn from_local_parts(node: &'n Node, key: &Key, local: &DataFrame) -> Result<DistFrame<'n>> {
        let order = vec![node.rank() as u64; local.chunk_count()];
        DistFrame::assemble(node, key, local, &order)
    }

    /// Collective: stores every rank's `local` chunks at that rank as one frame, whose
    /// chunks are ordered by `order[i]` (one entry per local chunk), then by rank, then by
    /// local position. Every rank computes the same layout from the gathered orders.
    pub(super) fn assemble(
        node: &'n Node,
        key: &Key,
        local: &DataFrame,
        order: &[u64],
    ) -> Result<DistFrame<'n>> {
        let rows: Vec<(u64, u64)> = (0..local.chunk_count())
            .map(|i| {
                let r = local.chunk_rows(i);
                (order[i], r.end - r.start)
            })
            .collect();
        // The types and a hash of the names, not the schema: a CSV header can be hundreds
        // of MB of names, and every rank derived them from the same file (issue 20).
        let local_schema = local.schema();
        let parts: Vec<RankLayout> = node.comm().all_gather((
            local_schema.types().to_vec(),
            names_hash(local_schema.names()),
            rows,
        ))?;
        let (types, hash, _) = &parts[0];
        if let Some(r) = parts.iter().position(|(t, _, _)| t != types) {
            let codes = |t: &[DataType]| t.iter().map(|t| t.code()).collect::<String>();
            return Err(DataError::Schema(format!(
                "frame {key}: rank {r} contributed columns {} but rank 0 contributed {}",
                codes(&parts[r].0),
                codes(types)
            ))
            .into());
        }
        // Rank 0's names win, as they always have; only sent when some rank's differ.
        let schema = if parts.iter().all(|(_, h, _)| h == hash) {
            local_schema.clone()
        } else {
            let root = (node.rank() == 0).then(|| local_schema.clone());
            node.comm().broadcast(0, root)?
        };
        // (order, rank, local index, rows) of every chunk of the job, in frame order.
        let mut all: Vec<(u64, usize, usize, u64)> = parts
            .iter()
            .enumerate()
            .flat_map(|(rank, (_, _, chunks))| {
                chunks
                    .iter()
                    .enumerate()
                    .map(move |(i, &(o, n))| (o, rank, i, n))
            })
            .collect();
        all.sort_unstable();
        let desc = Descriptor::new(schema, all.iter().map(|&(_, rank, _, n)| (n, rank)));
        // Where each of this rank's chunks sits in the frame.
        let mut global = vec![0; local.chunk_count()];
        for (g, &(_, rank, i, _)) in all.iter().enumerate() {
            if rank == node.rank() {
                global[i] = g;
            }
        }
        let cells: Vec<(usize, usize)> = (0..local.chunk_count())
            .flat_map(|i| (0..local.ncols()).map(move |c| (c, i)))
            .collect();
        cells
            .par_iter()
            .try_for_each(|&(c, i)| store_chunk(node, key, &desc, local, (c, i, global[i])))?;
        if node.rank() == 0 {
            node.comm()
                .kv()
                .put(key, desc.encode())
                .map_err(|e| name_taken(key, e.into()))?;
        }
        Ok(DistFrame::new(node, key, desc))
    }

    /// The key the frame is stored under.
    pub fn key(&self) -> &Key {
        &self.key
    }

    /// The layout: schema and row chunks.
    pub fn descriptor(&self) -> &Descriptor {
        &self.desc
    }

    /// The schema.
    pub fn schema(&self) -> &Schema {
        &self.desc.schema
    }

    /// The number of rows.
    pub fn nrows(&self) -> u64 {
        self.desc.nrows()
    }

    /// The number of columns.
    pub fn ncols(&self) -> usize {
        self.desc.schema.width()
    }

    /// The number of row chunks.
    pub fn chunk_count(&self) -> usize {
        self.desc.chunks.len()
    }

    /// The indices of the row chunks stored at this rank.
    pub fn local_chunks(&self) -> Vec<usize> {
        let me = self.node.rank() as u32;
        (0..self.chunk_count())
            .filter(|&i| self.desc.chunks[i].home == me)
            .collect()
    }

    /// Column `col`'s chunk `chunk`, from this rank's store or fetched from its home.
    pub fn chunk(&self, col: usize, chunk: usize) -> Result<Arc<Chunk>> {
        let dtype = self.desc.schema.dtype(col)?;
        if chunk >= self.chunk_count() {
            return Err(DataError::OutOfRange {
                what: "chunk",
                index: chunk as u64,
                len: self.chunk_count() as u64,
            }
            .into());
        }
        // Recent chunks first: getters walking rows ask for the same chunk again and
        // again, and the store's look-up needs the key's name spelled out.
        if let Some((_, c)) = self
            .recent
            .lock()
            .iter()
            .find(|(at, _)| *at == (col, chunk))
        {
            return Ok(Arc::clone(c));
        }
        let key = self.desc.chunk_key(&self.key, col, chunk);
        let decoded = match self.node.comm().kv().local_object::<StoredChunk>(&key) {
            Some(stored) => Arc::clone(&stored.0),
            None => Arc::new(Chunk::from_bytes(
                &self.node.comm().kv().wait_and_get(&key)?,
            )?),
        };
        let info = self.desc.chunks[chunk];
        if decoded.dtype() != dtype || decoded.len() as u64 != info.rows {
            return Err(Error::decode(format!(
                "chunk {chunk} of column {col} of frame {}: {} rows of {}, expected {} of {dtype}",
                self.key,
                decoded.len(),
                decoded.dtype(),
                info.rows
            )));
        }
        let mut recent = self.recent.lock();
        if recent.len() == DECODED_CHUNKS {
            recent.pop_front();
        }
        recent.push_back(((col, chunk), Arc::clone(&decoded)));
        Ok(decoded)
    }

    /// Every column's chunk `chunk`: one block of whole rows.
    pub fn row_chunk(&self, chunk: usize) -> Result<Vec<Arc<Chunk>>> {
        (0..self.ncols()).map(|c| self.chunk(c, chunk)).collect()
    }

    /// Calls `f` with the value at (`col`, `row`) (`None` when missing); `col` is an
    /// index or a name.
    pub fn with_value<T>(
        &self,
        col: impl ColumnRef,
        row: u64,
        f: impl FnOnce(Option<Value<'_>>) -> T,
    ) -> Result<T> {
        let col = self.desc.schema.resolve(col)?;
        let (chunk, offset) = self.desc.locate(row)?;
        Ok(f(self.chunk(col, chunk)?.value(offset)))
    }

    /// The value at (`col`, `row`) of a column checked to be of type `want`, through `f`.
    /// The value at (`col`, `row`) as a `T` (`bool`, `i32`, `f32`, `i64`, `f64` or,
    /// copied out of its chunk, `Vec<u8>`); `Ok(None)` when missing, an error naming the
    /// column when it is not of `T`'s type.
    pub fn get_as<T: for<'a> FromValue<'a>>(
        &self,
        col: impl ColumnRef,
        row: u64,
    ) -> Result<Option<T>> {
        let col = self.desc.schema.resolve_typed(col, T::DTYPE)?;
        self.with_value(col, row, |v| v.and_then(T::from_value))
    }

    /// Runs `rower` over the rows this rank stores, on all cores: each rayon task starts
    /// from a clone of `rower` as it is now, and the clones are joined in row order into
    /// `rower`. Rows report their global index.
    pub fn local_map<R: Rower + Clone + Send>(&self, rower: &mut R) -> Result<()> {
        let local = self.local_chunks();
        let joined = local
            .par_iter()
            .try_fold_with(rower.clone(), |mut r, &i| {
                let chunks = self.row_chunk(i)?;
                visit_chunk_rows(self.schema(), &chunks, self.desc.chunks[i].start, &mut r)?;
                Ok::<R, Error>(r)
            })
            .try_reduce_with(|mut left, right| {
                left.join(right);
                Ok(left)
            });
        if let Some(joined) = joined {
            *rower = joined?;
        }
        Ok(())
    }

    /// Runs `rower` over every row of the frame, in order, on this rank; the next chunk
    /// is fetched while the current one is visited.
    pub fn map<R: Rower>(&self, rower: &mut R) -> Result<()> {
        if self.chunk_count() == 0 {
            return Ok(());
        }
        let mut current = self.row_chunk(0)?;
        for i in 0..self.chunk_count() {
            let next = std::thread::scope(|s| {
                let prefetch =
                    (i + 1 < self.chunk_count()).then(|| s.spawn(move || self.row_chunk(i + 1)));
                visit_chunk_rows(self.schema(), &current, self.desc.chunks[i].start, rower)?;
                prefetch
                    .map(|p| {
                        p.join()
                            .map_err(|_| Error::internal("a chunk prefetch panicked"))?
                    })
                    .transpose()
            })?;
            match next {
                Some(chunks) => current = chunks,
                None => break,
            }
        }
        Ok(())
    }

    /// The whole frame, fetched to this rank.
    pub fn to_local(&self) -> Result<DataFrame> {
        let columns = (0..self.ncols())
            .map(|c| {
                let chunks = (0..self.chunk_count())
                    .map(|i| self.chunk(c, i))
                    .collect::<Result<Vec<_>>>()?;
                Ok(Column::from_chunks(self.desc.schema.dtype(c)?, chunks)?)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(DataFrame::new(self.schema().clone(), columns)?)
    }
}

/// What each rank tells the others when a frame is stored: its column types, a hash of
/// its column names and its chunks' (order, rows).
type RankLayout = (Vec<DataType>, u64, Vec<(u64, u64)>);

/// A hash of column names that is the same in every process of a job (fixed keys), for
/// ranks to check they agree on the names without sending them.
fn names_hash(names: &[String]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    names.hash(&mut h);
    h.finish()
}

impl Drop for DistFrame<'_> {
    /// A temporary frame (an operator's result) is freed lazily: see the `ops` module's notes.
    fn drop(&mut self) {
        if self.temp {
            self.node.temps().dropped(self.key.name());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::ReadOptions;

    /// Reusing a frame's key is an error that names the key readably (a chunk key's parts
    /// are separated by NULs, which must not reach the message).
    #[test]
    fn reusing_a_key_is_a_readable_error() {
        let node = Node::standalone().unwrap();
        let key = Key::new("numbers", 0);
        DistFrame::from_array(&node, &key, &[1, 2, 3]).unwrap();
        let err = match DistFrame::from_array(&node, &key, &[4, 5]) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("a second frame under one key was accepted"),
        };
        assert!(err.contains("frame \"numbers\""), "{err}");
        assert!(err.contains("write-once"), "{err}");
        // Not the internal key of the chunk that clashed first.
        assert!(!err.contains("/0/"), "{err}");
        assert!(!err.chars().any(|c| c.is_control()), "{err:?}");
    }

    /// A SoR read takes the names of the file's columns (else c0, c1, ...); under a
    /// chosen key the frame is found again with `get`, and that key holds no other frame.
    #[test]
    fn sor_reads_name_columns_and_keep_their_key() {
        let node = Node::standalone().unwrap();
        let path = std::env::temp_dir().join(format!("eau2-names-{}.sor", std::process::id()));
        std::fs::write(&path, "<1> <\"ripgrep\">\n<2> <\"clap\">\n").unwrap();
        let key = Key::new("loaded", 0);
        let options = ReadOptions::new().names(&["pid", "name"]).key(key.clone());
        let loaded = DistFrame::read_with(&node, &path, &options).unwrap();
        assert_eq!(loaded.key(), &key);
        let again = DistFrame::get(&node, &key).unwrap();
        assert_eq!(again.schema().names(), ["pid", "name"]);
        assert_eq!(
            again.get_as::<Vec<u8>>("name", 1).unwrap(),
            Some(b"clap".to_vec())
        );
        // The same frame again is the same value (the store's puts are idempotent);
        // another frame under that key is refused.
        DistFrame::read_with(&node, &path, &options).unwrap();
        let other = ReadOptions::new().names(&["id", "title"]).key(key.clone());
        let err = DistFrame::read_with(&node, &path, &other).err().unwrap();
        assert!(err.to_string().contains("frame \"loaded\""), "{err}");
        let read = DistFrame::read(&node, &path).unwrap();
        assert_eq!(read.schema().names(), ["c0", "c1"]);
        assert_eq!(read.get_as::<i32>("c0", 0).unwrap(), Some(1));
        let wrong = ReadOptions::new().names(&["pid"]);
        assert!(DistFrame::read_with(&node, &path, &wrong).is_err());
        std::fs::remove_file(&path).unwrap();
    }

    /// A frame without rows writes the CSV header alone, and an empty SoR file.
    #[test]
    fn empty_frames_write_the_header_alone() {
        let node = Node::standalone().unwrap();
        let schema = Schema::named([("a", DataType::Int), ("b c", DataType::String)]).unwrap();
        let frame =
            DistFrame::from_local_parts(&node, &Key::new("empty", 0), &DataFrame::empty(schema))
                .unwrap();
        let dir = std::env::temp_dir().join(format!("eau2-empty-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let csv = crate::frame::CsvWriteOptions::new();
        frame.write_csv(&dir.join("e.csv"), &csv).unwrap();
        assert_eq!(std::fs::read(dir.join("e.csv")).unwrap(), b"a,b c\n");
        frame.write_sor(&dir.join("e.sor")).unwrap();
        assert_eq!(std::fs::read(dir.join("e.sor")).unwrap(), b"");
        let part = frame.write_csv_parts(&dir.join("parts"), &csv).unwrap();
        assert_eq!(std::fs::read(part).unwrap(), b"a,b c\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn getters_by_name_and_type_errors() {
        let node = Node::standalone().unwrap();
        let schema = Schema::named([("n", DataType::I64), ("x", DataType::F64)]).unwrap();
        let mut b = crate::frame::FrameBuilder::new(schema, 2);
        for i in 0..3i64 {
            b.push_row(&[Some(Value::I64(i << 40)), Some(Value::F64(i as f64 / 3.0))])
                .unwrap();
        }
        let frame = DistFrame::publish(&node, &Key::new("wide", 0), &b.finish()).unwrap();
        assert_eq!(frame.get_as::<i64>("n", 2).unwrap(), Some(2 << 40));
        assert_eq!(frame.get_as::<f64>("x", 1).unwrap(), Some(1.0 / 3.0));
        let err = frame.get_as::<i32>("n", 0).unwrap_err().to_string();
        assert_eq!(err, "column 0 (\"n\") is I64, not INT");
        let err = frame.get_as::<f64>("y", 0).unwrap_err().to_string();
        assert!(err.contains("\"y\"") && err.contains("n, x"), "{err}");
    }

    /// A rank's own chunks live in the store once, decoded: the frame hands out the very
    /// chunks it was built from, and other ranks get their encoding.
    #[test]
    fn local_chunks_are_stored_once_and_encoded_on_request() {
        let node = Node::standalone().unwrap();
        let values: Vec<i32> = (0..200_000).collect();
        let local = DataFrame::from_array(&values);
        let key = Key::new("once", 0);
        let frame = DistFrame::from_local_parts(&node, &key, &local).unwrap();
        assert!(local.chunk_count() > 1);
        for i in 0..local.chunk_count() {
            assert!(Arc::ptr_eq(&frame.chunk(0, i).unwrap(), local.chunk(0, i)));
            let stored = node
                .comm()
                .kv()
                .get(&frame.descriptor().chunk_key(&key, 0, i));
            assert_eq!(stored.unwrap().unwrap(), local.chunk(0, i).to_bytes());
        }
        let (values_stored, bytes) = node.comm().kv().local_usage();
        assert_eq!(values_stored, local.chunk_count() + 1); // the chunks and the descriptor
        assert!(
            bytes < 200_000 * 4 + 64 * 1024,
            "{bytes} bytes for 800,000 of data"
        );
    }
}
