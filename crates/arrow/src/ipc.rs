//! Arrow IPC files (Feather v2): frames written and read as record batches.

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::ops::Range;
use std::path::{Path, PathBuf};

use arrow_ipc::reader::FileReader;
use arrow_ipc::writer::{
    write_message, CompressionContext, DictionaryTracker, FileWriter, IpcDataGenerator,
    IpcWriteOptions,
};
use eau2_data::frame::DataFrame;
use eau2_data::sor::FileIdentity;
use eau2_data::{Error, Result};

use arrow_schema::SchemaRef;

use crate::convert::{from_arrow, to_arrow, to_arrow_schema, to_eau2_schema};

/// The error of the IPC codec on `path`.
fn ipc_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Decode(format!("Arrow IPC file {}: {e}", path.display()))
}

/// Writes `df` as an Arrow IPC file at `path`, one record batch per row chunk (created or
/// truncated; not atomic).
pub fn write_ipc_file(df: &DataFrame, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let file = File::create(path).map_err(|e| Error::io_path("creating", path, e))?;
    let schema = to_arrow_schema(df.schema());
    let mut writer = FileWriter::try_new(BufWriter::with_capacity(1 << 20, file), &schema)
        .map_err(|e| ipc_error(path, e))?;
    for batch in to_arrow(df)? {
        writer.write(&batch).map_err(|e| ipc_error(path, e))?;
    }
    writer.finish().map_err(|e| ipc_error(path, e))?;
    let file = writer
        .into_inner()
        .map_err(|e| ipc_error(path, e))?
        .into_inner()
        .map_err(|e| Error::io_path("writing", path, e.into_error()))?;
    file.sync_all()
        .map_err(|e| Error::io_path("flushing", path, e))
}

/// Where one record batch message sits in an Arrow IPC file: its first byte, the length
/// of its metadata (the length prefix, flatbuffer and padding) and of its body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpcBlock {
    /// The message's offset: in a part's bytes ([`IpcPart`]), or in the file.
    pub offset: u64,
    /// The length of its metadata.
    pub meta_len: u32,
    /// The length of its body.
    pub body_len: u64,
}

/// Record batches encoded as the messages of an Arrow IPC file, without the file's
/// header and footer: what a rank writes of a file that several ranks write together
/// ([`ipc_header`] opens it, [`ipc_footer`] ends it, with every block at its offset in
/// the file).
pub struct IpcPart {
    /// The messages, one after the other.
    pub bytes: Vec<u8>,
    /// Where each message is in `bytes`.
    pub blocks: Vec<IpcBlock>,
}

/// The file's magic, which opens and ends it.
const IPC_MAGIC: &[u8; 6] = b"ARROW1";

/// The alignment of the messages of the IPC files written in parts (arrow-rs' default).
const IPC_ALIGNMENT: usize = 64;

/// The options of the IPC files written in parts: the alignment and metadata version
/// the header and footer name too.
fn part_options() -> Result<IpcWriteOptions> {
    IpcWriteOptions::try_new(IPC_ALIGNMENT, false, arrow_ipc::MetadataVersion::V5)
        .map_err(encode_error)
}

/// The error of an IPC encoding that has no file yet.
fn encode_error(e: impl std::fmt::Display) -> Error {
    Error::Decode(format!("encoding Arrow IPC: {e}"))
}

/// Encodes `df` as the record batch messages of an Arrow IPC file, one batch per row
/// chunk (see [`IpcPart`]).
pub fn encode_ipc_batches(df: &DataFrame) -> Result<IpcPart> {
    let options = part_options()?;
    let generator = IpcDataGenerator::default();
    let mut tracker = DictionaryTracker::new(true);
    let mut compression = CompressionContext::default();
    let mut part = IpcPart {
        bytes: Vec::new(),
        blocks: Vec::new(),
    };
    for batch in to_arrow(df)? {
        let (dictionaries, message) = generator
            .encode(&batch, &mut tracker, &options, &mut compression)
            .map_err(encode_error)?;
        if !dictionaries.is_empty() {
            // eau2's columns never become dictionary arrays; a footer of record batches
            // alone could not describe them.
            return Err(encode_error("dictionary-encoded columns are not supported"));
        }
        let offset = part.bytes.len() as u64;
        let (meta, body) =
            write_message(&mut part.bytes, message, &options).map_err(encode_error)?;
        part.blocks.push(IpcBlock {
            offset,
            meta_len: meta as u32,
            body_len: body as u64,
        });
    }
    Ok(part)
}

/// The opening of an Arrow IPC file of frames of `schema`: the magic, padding and the
/// schema message. Its length is where the first record batch goes.
pub fn ipc_header(schema: &eau2_data::frame::Schema) -> Result<Vec<u8>> {
    let options = part_options()?;
    let mut header = Vec::new();
    header.extend_from_slice(IPC_MAGIC);
    let aligned = IPC_MAGIC.len().next_multiple_of(IPC_ALIGNMENT);
    header.resize(aligned, 0);
    let message = IpcDataGenerator::default().schema_to_bytes_with_dictionary_tracker(
        &to_arrow_schema(schema),
        &mut DictionaryTracker::new(true),
        &options,
    );
    write_message(&mut header, message, &options).map_err(encode_error)?;
    Ok(header)
}

/// The end of an Arrow IPC file of frames of `schema` whose record batches are at
/// `blocks` (offsets in the file, in file order): the end-of-stream marker, the footer,
/// its length and the magic.
pub fn ipc_footer(schema: &eau2_data::frame::Schema, blocks: &[IpcBlock]) -> Result<Vec<u8>> {
    let mut fbb = flatbuffers::FlatBufferBuilder::new();
    let records: Vec<arrow_ipc::Block> = blocks
        .iter()
        .map(|b| arrow_ipc::Block::new(b.offset as i64, b.meta_len as i32, b.body_len as i64))
        .collect();
    let dictionaries = fbb.create_vector::<arrow_ipc::Block>(&[]);
    let records = fbb.create_vector(&records);
    let arrow_schema = to_arrow_schema(schema);
    let fb_schema =
        arrow_ipc::convert::IpcSchemaEncoder::new().schema_to_fb_offset(&mut fbb, &arrow_schema);
    let mut footer = arrow_ipc::FooterBuilder::new(&mut fbb);
    footer.add_version(arrow_ipc::MetadataVersion::V5);
    footer.add_schema(fb_schema);
    footer.add_dictionaries(dictionaries);
    footer.add_recordBatches(records);
    let root = footer.finish();
    fbb.finish(root, None);
    let footer = fbb.finished_data();
    let mut tail = Vec::with_capacity(footer.len() + 24);
    // The end-of-stream marker: a continuation word and a zero length.
    tail.extend_from_slice(&0xFFFF_FFFFu32.to_le_bytes());
    tail.extend_from_slice(&0u32.to_le_bytes());
    tail.extend_from_slice(footer);
    tail.extend_from_slice(&(footer.len() as i32).to_le_bytes());
    tail.extend_from_slice(IPC_MAGIC);
    Ok(tail)
}

/// An Arrow IPC file opened for reading: its schema and the number of its record
/// batches known, any run of batches read on demand. Several processes that each open
/// the file and read their own run read it in parallel (`eau2-convert` does).
pub struct IpcFile {
    path: PathBuf,
    reader: FileReader<BufReader<File>>,
}

impl IpcFile {
    /// Opens `path` and reads its footer; an error naming the file if it is not an Arrow
    /// IPC file.
    pub fn open(path: impl AsRef<Path>) -> Result<IpcFile> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|e| Error::io_path("opening", path, e))?;
        IpcFile::from_file(file, path)
    }

    /// Reads the footer of `file`, an open descriptor of `path` (named in errors); every
    /// later read goes through it, so the version of the file opened is the one read.
    pub fn from_file(file: File, path: &Path) -> Result<IpcFile> {
        let reader = FileReader::try_new(BufReader::with_capacity(1 << 20, file), None)
            .map_err(|e| ipc_error(path, e))?;
        Ok(IpcFile {
            path: path.to_path_buf(),
            reader,
        })
    }

    /// The identity (device, inode, length, modification time) of the file opened, for
    /// ranks to check they all read one version.
    pub fn identity(&self) -> Result<FileIdentity> {
        crate::source::identity(self.reader.get_ref().get_ref(), &self.path)
    }

    /// How many record batches the file holds.
    pub fn batches(&self) -> usize {
        self.reader.num_batches()
    }

    /// The file's Arrow schema.
    pub fn arrow_schema(&self) -> SchemaRef {
        self.reader.schema()
    }

    /// Record batches `batches` (a run, in file order) as a frame of one row chunk per
    /// non-empty batch; an error naming the file for a damaged batch, a run past the
    /// last batch or a column type eau2 has no equivalent for.
    pub fn read(&mut self, batches: Range<usize>) -> Result<DataFrame> {
        let path = &self.path;
        let schema = self.reader.schema();
        let what = format!("Arrow IPC file {}", path.display());
        // The schema is checked before any batch is read.
        to_eau2_schema(&schema, &what)?;
        if batches.end > self.batches() {
            return Err(ipc_error(
                path,
                format!(
                    "batches {batches:?} asked for, the file has {}",
                    self.batches()
                ),
            ));
        }
        let mut read = Vec::with_capacity(batches.len());
        if !batches.is_empty() {
            self.reader
                .set_index(batches.start)
                .map_err(|e| ipc_error(path, e))?;
            for i in batches {
                let batch = self
                    .reader
                    .next()
                    .ok_or_else(|| ipc_error(path, format!("record batch {i} is missing")))?
                    .map_err(|e| ipc_error(path, format!("record batch {i}: {e}")))?;
                read.push(batch);
            }
        }
        from_arrow(schema, read).map_err(|e| match e {
            Error::Schema(m) => Error::Schema(format!("{what}: {m}")),
            other => other,
        })
    }
}

/// Reads the Arrow IPC file at `path` into a frame, one row chunk per record batch; an
/// error naming the file for a damaged file or a column type eau2 has no equivalent for.
pub fn read_ipc_file(path: impl AsRef<Path>) -> Result<DataFrame> {
    let mut file = IpcFile::open(path)?;
    let all = 0..file.batches();
    file.read(all)
}
