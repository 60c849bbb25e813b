//! One open file that every step of a load reads: the sample for inference, the quote
//! count, the parse. Opening the path once per step would let a file renamed over the
//! path in between give each step another version; one descriptor reads one version.

use std::path::Path;

use super::source::{FileIdentity, MappedFile, Opened};
use crate::error::Result;

/// A file opened once and mapped into memory (or, when it cannot be mapped, read whole
/// through the same descriptor), with the identity of the version it reads.
pub struct FileView {
    inner: Inner,
    identity: FileIdentity,
}

enum Inner {
    Mapped(MappedFile),
    Read { file: Opened, bytes: Vec<u8> },
}

impl FileView {
    /// Opens `path` and maps it; an error naming the path when it cannot be opened.
    pub fn open(path: &Path) -> Result<FileView> {
        let opened = Opened::open(path)?;
        let identity = opened.identity()?;
        let inner = match MappedFile::map(opened) {
            Ok(mapped) => Inner::Mapped(mapped),
            Err(file) => {
                let bytes = file.read(0, file.len)?;
                Inner::Read { file, bytes }
            }
        };
        Ok(FileView { inner, identity })
    }

    /// The file's bytes, as they were when it was opened.
    pub fn bytes(&self) -> &[u8] {
        match &self.inner {
            Inner::Mapped(m) => m.bytes(),
            Inner::Read { bytes, .. } => bytes,
        }
    }

    /// Which version of the file this view reads.
    pub fn identity(&self) -> FileIdentity {
        self.identity
    }

    /// The path the file was opened from.
    pub fn path(&self) -> &Path {
        match &self.inner {
            Inner::Mapped(m) => m.opened().path(),
            Inner::Read { file, .. } => file.path(),
        }
    }

    /// An error naming the file if it changed (length, modification time, or a
    /// truncation seen through the map) since it was opened: whatever was read from it
    /// may then mix two versions.
    pub fn check(&self) -> Result<()> {
        match &self.inner {
            Inner::Mapped(m) => m.check(),
            Inner::Read { file, .. } => file.check_unchanged(),
        }
    }
}
