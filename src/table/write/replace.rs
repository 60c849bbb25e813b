//! Replacing a file or a folder whole or not at all: the new content is built under a
//! temporary name beside the destination, made durable, and renamed over it in one step.
//!
//! A temporary is named `.NAME.eau2-tmp-ID` in the destination's folder (NAME the
//! destination's file name, ID unique per job and attempt), so that a rename never
//! crosses file systems. Every process that writes into a temporary holds a shared
//! `flock` on it for as long as it writes; the lock goes away with the process, however
//! it ends. Before a new write to a destination, [`sweep`] removes the temporaries of
//! that destination nobody holds a lock on: those of a job that was killed (a rank, the
//! launcher, a signal) before it could remove them itself.

use std::ffi::{CString, OsString};
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};

/// What follows a destination's name in the names of its temporaries.
const MARK: &str = ".eau2-tmp-";

/// How many names [`Temp::create_file`] and [`Temp::create_dir`] try before giving up:
/// a name is given up only when a concurrent [`sweep`] removed it between its creation
/// and its lock, or when it already exists.
const ATTEMPTS: usize = 8;

/// Which file a temporary is, so that every rank can check it opened the one rank 0 made:
/// its inode number (not the device, which differs between hosts sharing a folder).
pub(super) type FileId = u64;

/// A temporary this process holds a shared lock on while the value lives. Dropping it
/// removes the temporary unless [`Temp::keep`] was called: a failed or abandoned write
/// leaves nothing behind.
pub(super) struct Temp {
    /// Where the temporary is.
    path: PathBuf,
    /// The open file (or folder) the lock is held through.
    handle: File,
    /// Whether a folder (removed as a tree).
    is_dir: bool,
    /// Set once the temporary became the destination (or was handed on).
    kept: bool,
}

impl Temp {
    /// Creates a new temporary file beside `dest`, of length `len` (a sparse file, filled
    /// by positional writes), with the permissions of the file it replaces when there is
    /// one. Removes stale temporaries of `dest` first.
    pub(super) fn create_file(dest: &Path, len: u64) -> Result<Temp> {
        let dest = &resolve(dest);
        sweep(dest);
        let mode = fs::metadata(dest)
            .ok()
            .filter(|m| m.is_file())
            .map(|m| m.permissions().mode());
        let temp = Temp::create(dest, false)?;
        let set = |e| Error::io_path("sizing the temporary", &temp.path, e);
        temp.handle.set_len(len).map_err(set)?;
        if let Some(mode) = mode {
            let perms = fs::Permissions::from_mode(mode);
            temp.handle.set_permissions(perms).map_err(set)?;
        }
        Ok(temp)
    }

    /// Creates a new temporary folder beside `dest` (which must be a folder or missing),
    /// after removing stale temporaries. Fails at once, before anything is written, when
    /// `dest` holds an entry `carry` accepts that [`Temp::replace_dir`] could not keep.
    pub(super) fn create_dir(dest: &Path, carry: &impl Fn(&str) -> bool) -> Result<Temp> {
        let dest = &resolve(dest);
        match fs::metadata(dest) {
            Ok(m) if !m.is_dir() => {
                return Err(Error::App(format!(
                    "{} exists and is not a folder",
                    dest.display()
                )))
            }
            Ok(_) => carry_over(dest, None, carry)?,
            Err(_) => {}
        }
        sweep(dest);
        Temp::create(dest, true)
    }

    /// Makes a temporary with a fresh name, locks it, and checks that no concurrent sweep
    /// removed it between the two (then tries another name).
    fn create(dest: &Path, is_dir: bool) -> Result<Temp> {
        let mut last = None;
        for _ in 0..ATTEMPTS {
            let path = temp_name(dest)?;
            let made = if is_dir {
                fs::create_dir(&path)
            } else {
                OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o666)
                    .open(&path)
                    .map(drop)
            };
            if let Err(e) = made {
                if e.kind() == io::ErrorKind::AlreadyExists {
                    last = Some(e);
                    continue;
                }
                return Err(Error::io(
                    format!("creating a temporary beside {}", dest.display()),
                    e,
                ));
            }
            match Temp::open(&path, is_dir, None) {
                Ok(temp) => return Ok(temp),
                Err(OpenError::Gone) => last = None,
                Err(OpenError::Failed(e)) => {
                    remove(&path, is_dir);
                    return Err(e);
                }
            }
        }
        let e = last.unwrap_or_else(|| io::Error::other("removed by a concurrent write"));
        Err(Error::io(
            format!(
                "creating a temporary beside {} ({ATTEMPTS} names tried)",
                dest.display()
            ),
            e,
        ))
    }

    /// Opens and locks the temporary `path` that rank 0 made, checking that it is the file
    /// `id` (the same file, not another one of that name).
    pub(super) fn join(path: &Path, is_dir: bool, id: FileId) -> Result<Temp> {
        match Temp::open(path, is_dir, Some(id)) {
            Ok(temp) => Ok(temp),
            Err(OpenError::Failed(e)) => Err(e),
            Err(OpenError::Gone) => Err(Error::App(format!(
                "the temporary {} was removed or replaced before this rank opened it",
                path.display()
            ))),
        }
    }

    /// Opens `path`, takes a shared lock on it, and checks that the name still leads to
    /// the locked file (and that it is `id`, when given).
    fn open(path: &Path, is_dir: bool, id: Option<FileId>) -> Result<Temp, OpenError> {
        let mut options = OpenOptions::new();
        options.read(true).write(!is_dir);
        let handle = match options.open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(OpenError::Gone),
            Err(e) => return Err(OpenError::Failed(Error::io_path("opening", path, e))),
        };
        let mut temp = Temp {
            path: path.to_path_buf(),
            handle,
            is_dir,
            // Until it is checked to be ours, never remove what the name leads to.
            kept: true,
        };
        lock(&temp.handle, libc::LOCK_SH)
            .map_err(|e| OpenError::Failed(Error::io_path("locking", path, e)))?;
        let mine = temp
            .handle
            .metadata()
            .map_err(|e| OpenError::Failed(Error::io_path("examining", path, e)))?;
        let named = fs::symlink_metadata(path).ok();
        let same = named.is_some_and(|n| n.dev() == mine.dev() && n.ino() == mine.ino());
        if !same || id.is_some_and(|id| id != mine.ino()) {
            return Err(OpenError::Gone);
        }
        temp.kept = false;
        Ok(temp)
    }

    /// The temporary's path.
    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// The open temporary file, to write into.
    pub(super) fn file(&self) -> &File {
        &self.handle
    }

    /// Which file the temporary is, for [`Temp::join`].
    pub(super) fn id(&self) -> Result<FileId> {
        let m = self
            .handle
            .metadata()
            .map_err(|e| Error::io_path("examining", &self.path, e))?;
        Ok(m.ino())
    }

    /// Makes what this process wrote into the temporary durable (its data and size:
    /// `fdatasync`, which skips timestamps).
    pub(super) fn sync(&self) -> Result<()> {
        self.handle
            .sync_data()
            .map_err(|e| Error::io_path("flushing", &self.path, e))
    }

    /// Keeps the temporary when this value is dropped (it was renamed away, or another
    /// process removes it).
    pub(super) fn keep(mut self) {
        self.kept = true;
    }

    /// Renames the temporary file over `dest`, then makes the rename durable.
    pub(super) fn replace_file(self, dest: &Path) -> Result<()> {
        let dest = resolve(dest);
        fs::rename(&self.path, &dest).map_err(|e| {
            Error::io(
                format!("renaming {} to {}", self.path.display(), dest.display()),
                e,
            )
        })?;
        self.keep();
        sync_dir(parent(&dest))
    }

    /// Puts the temporary folder in the place of the folder `dest` in one step and removes
    /// the old one; files of the old folder that `carry` accepts by name are kept
    /// (hard-linked into the new folder first).
    pub(super) fn replace_dir(self, dest: &Path, carry: &impl Fn(&str) -> bool) -> Result<()> {
        let dest = resolve(dest);
        let exists = match fs::symlink_metadata(&dest) {
            Ok(m) if m.is_dir() => true,
            Ok(_) => {
                return Err(Error::App(format!(
                    "{} exists and is not a folder",
                    dest.display()
                )))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => false,
            Err(e) => return Err(Error::io_path("examining", &dest, e)),
        };
        if exists {
            carry_over(&dest, Some(&self.path), carry)?;
        }
        sync_dir(&self.path)?;
        let swapped = if exists {
            rename2(&self.path, &dest, libc::RENAME_EXCHANGE)
        } else {
            match rename2(&self.path, &dest, libc::RENAME_NOREPLACE) {
                // Made meanwhile by someone else: swap with it instead.
                Err(e) if e.raw_os_error() == Some(libc::EEXIST) => {
                    carry_over(&dest, Some(&self.path), carry)?;
                    rename2(&self.path, &dest, libc::RENAME_EXCHANGE)
                }
                other => other,
            }
        };
        let old_at_temp = match swapped {
            Ok(old) => old,
            Err(e) if matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS)) => {
                // A file system without renameat2: move the old folder aside first; for a
                // moment the destination is missing, but no data is lost.
                swap_in_two_steps(&self.path, &dest, exists)?
            }
            Err(e) => {
                return Err(Error::io(
                    format!(
                        "putting {} in place of {}",
                        self.path.display(),
                        dest.display()
                    ),
                    e,
                ))
            }
        };
        sync_dir(parent(&dest))?;
        if old_at_temp {
            // The old folder now has the temporary's name: dropping `self` removes it.
            Ok(())
        } else {
            self.keep();
            Ok(())
        }
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        if !self.kept {
            discard(&self.path, self.is_dir);
        }
    }
}

/// Why [`Temp::open`] did not give a temporary.
enum OpenError {
    /// The name no longer leads to the file (removed or replaced).
    Gone,
    /// Any other failure.
    Failed(Error),
}

/// A fresh temporary name beside `dest`: `.NAME.eau2-tmp-PID-NANOS-COUNT`.
fn temp_name(dest: &Path) -> Result<PathBuf> {
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let name = dest
        .file_name()
        .ok_or_else(|| Error::Config(format!("{} does not name a file", dest.display())))?;
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let mut temp = OsString::from(".");
    temp.push(name);
    temp.push(format!(
        "{MARK}{}-{nanos}-{}",
        std::process::id(),
        COUNT.fetch_add(1, Ordering::Relaxed)
    ));
    Ok(parent(dest).join(temp))
}

/// The folder `path` is in (`.` for a bare name).
fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// The file a symbolic link `dest` leads to, so that a write replaces the file and keeps
/// the link; `dest` itself otherwise.
fn resolve(dest: &Path) -> PathBuf {
    match fs::symlink_metadata(dest) {
        Ok(m) if m.file_type().is_symlink() => fs::canonicalize(dest).unwrap_or(dest.into()),
        _ => dest.to_path_buf(),
    }
}

/// Removes the temporaries of `dest` that no process holds a lock on: those of writes
/// that were killed. Best effort: what cannot be removed stays for a later sweep.
pub(super) fn sweep(dest: &Path) {
    let Some(name) = dest.file_name() else { return };
    let mut prefix = b".".to_vec();
    prefix.extend_from_slice(name.as_bytes());
    prefix.extend_from_slice(MARK.as_bytes());
    let Ok(entries) = fs::read_dir(parent(dest)) else {
        return;
    };
    for entry in entries.flatten() {
        if !entry.file_name().as_bytes().starts_with(&prefix) {
            continue;
        }
        let path = entry.path();
        let Ok(handle) = File::open(&path) else {
            continue;
        };
        // A temporary being written is locked (shared) by its writers.
        if lock(&handle, libc::LOCK_EX | libc::LOCK_NB).is_ok() {
            let is_dir = handle.metadata().is_ok_and(|m| m.is_dir());
            remove(&path, is_dir);
        }
    }
}

/// Removes a temporary that a failed write leaves: a file is unlinked in one step; a
/// folder is first renamed to a name of its own (one step too, so that no other rank can
/// rename a half-removed folder into place), then removed.
fn discard(path: &Path, is_dir: bool) {
    if !is_dir {
        remove(path, false);
        return;
    }
    let mut doomed = path.as_os_str().to_owned();
    doomed.push(format!("-gone-{}", std::process::id()));
    let doomed = PathBuf::from(doomed);
    if fs::rename(path, &doomed).is_ok() {
        remove(&doomed, true);
    }
}

/// Removes a file or a folder tree, ignoring failures (what stays is stale and swept later).
fn remove(path: &Path, is_dir: bool) {
    let _ = if is_dir {
        fs::remove_dir_all(path)
    } else {
        fs::remove_file(path)
    };
}

/// `flock(2)` on `file` with `how`.
fn lock(file: &File, how: libc::c_int) -> io::Result<()> {
    // SAFETY: flock takes a descriptor `file` keeps open and touches no memory of ours.
    match unsafe { libc::flock(file.as_raw_fd(), how) } {
        0 => Ok(()),
        _ => Err(io::Error::last_os_error()),
    }
}

/// Makes the entries of folder `dir` durable (a rename or a new file in it).
fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io_path("flushing the folder", dir, e))
}

/// `renameat2(2)` from `from` to `to` with `flags`. Returns whether the old `to` now sits
/// at `from` (an exchange).
fn rename2(from: &Path, to: &Path, flags: libc::c_uint) -> io::Result<bool> {
    let c = |p: &Path| {
        CString::new(p.as_os_str().as_bytes())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a NUL byte in a path"))
    };
    let (from_c, to_c) = (c(from)?, c(to)?);
    // SAFETY: both strings are NUL-terminated and outlive the call.
    let done = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            from_c.as_ptr(),
            libc::AT_FDCWD,
            to_c.as_ptr(),
            flags,
        )
    };
    match done {
        0 => Ok(flags & libc::RENAME_EXCHANGE != 0),
        _ => Err(io::Error::last_os_error()),
    }
}

/// Where renameat2 is missing: moves the old folder `dest` (when it `exists`) aside to
/// `temp`-`old`, the new one from `temp` to `dest`, and removes the old one. Returns
/// false: nothing old is left at `temp`.
fn swap_in_two_steps(temp: &Path, dest: &Path, exists: bool) -> Result<bool> {
    let mut aside = temp.as_os_str().to_owned();
    aside.push("-old");
    let aside = PathBuf::from(aside);
    let failed = |e| {
        Error::io(
            format!("putting {} in place of {}", temp.display(), dest.display()),
            e,
        )
    };
    if exists {
        fs::rename(dest, &aside).map_err(failed)?;
    }
    if let Err(e) = fs::rename(temp, dest) {
        if exists {
            let _ = fs::rename(&aside, dest);
        }
        return Err(failed(e));
    }
    remove(&aside, true);
    Ok(false)
}

/// Hard-links into `into` the files of folder `from` whose names `carry` accepts (and
/// those whose names are not UTF-8, which are no part files) and that `into` lacks, so
/// that replacing `from` by `into` keeps them; with `into` `None`, only checks that they
/// can be kept: an entry that is neither a plain file nor a symbolic link cannot.
fn carry_over(from: &Path, into: Option<&Path>, carry: &impl Fn(&str) -> bool) -> Result<()> {
    let entries = fs::read_dir(from).map_err(|e| Error::io_path("listing", from, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io_path("listing", from, e))?;
        let name = entry.file_name();
        let there = into.map(|into| into.join(&name));
        if !name.to_str().is_none_or(carry) || there.as_ref().is_some_and(|t| t.exists()) {
            continue;
        }
        let path = entry.path();
        let kind = entry
            .file_type()
            .map_err(|e| Error::io_path("examining", &path, e))?;
        if !kind.is_symlink() && !kind.is_file() {
            return Err(Error::App(format!(
                "{} holds {}, which is neither a part file nor a plain file; \
                 move it away to write parts into {}",
                from.display(),
                path.display(),
                from.display()
            )));
        }
        let Some(there) = there else { continue };
        if kind.is_symlink() {
            let target = fs::read_link(&path).map_err(|e| Error::io_path("reading", &path, e))?;
            std::os::unix::fs::symlink(target, &there)
                .map_err(|e| Error::io_path("copying the link", &path, e))?;
        } else {
            fs::hard_link(&path, &there).map_err(|e| Error::io_path("keeping", &path, e))?;
        }
    }
    Ok(())
}
