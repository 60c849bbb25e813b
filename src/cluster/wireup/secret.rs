//! The job's token: fresh from the kernel when a wire-up service can hand it out, or
//! derived from a per-user key when nothing can (plain `srun`).
//!
//! A derived token must be something only the job's own processes can compute. Slurm's
//! variables (job id, step id, node list) are public to every user of the cluster, so a
//! token made from them alone would be no secret. We key it instead with a secret of the
//! user's: 32 random bytes in `~/.eau2/secret` (folder mode 0700 and file mode 0600,
//! created on first use and refused when another user could read them, or when the path
//! is not a regular file; override the path with `EAU2_SECRET_FILE`), so the token is
//! HMAC-SHA256(secret, job and step). Ranks on several hosts need that file to be the same on all of them, which a shared
//! home directory (usual on Slurm clusters) gives.

use std::fs::{self, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::error::{Error, Result};
use crate::net::token;

/// A fresh token: 32 lowercase hex digits (128 bits) from `/dev/urandom`.
pub fn fresh() -> Result<String> {
    token::fresh().map_err(|e| Error::io("reading /dev/urandom", e))
}

/// Where the user's key lives, and the private folder around it that must stay private.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyFile {
    /// The key file.
    pub path: PathBuf,
    /// `~/.eau2` when the key is in its default place: created mode 0700 and refused
    /// when another user could enter it. `None` for `EAU2_SECRET_FILE`, whose folder the
    /// user chose (the file itself is still checked).
    pub private_dir: Option<PathBuf>,
}

/// The most bytes a key file may hold: eau2 writes 32; a larger file is something else.
const MAX_KEY_BYTES: u64 = 4096;

/// The token of job `context` under the user's key in `key`, creating the key (and its
/// private folder) if they do not exist yet.
pub fn derived(key: &KeyFile, context: &str) -> Result<String> {
    if let Some(dir) = &key.private_dir {
        ensure_private_dir(dir)?;
    }
    let key = read_or_create_key(&key.path)?;
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&key)
        .map_err(|_| Error::Config("HMAC refused the key".into()))?;
    mac.update(context.as_bytes());
    Ok(token::to_hex(&mac.finalize().into_bytes()[..16]))
}

/// Where the user's key lives: `EAU2_SECRET_FILE`, else `$HOME/.eau2/secret`.
pub fn key_path(get: &dyn Fn(&str) -> Option<String>) -> Result<KeyFile> {
    if let Some(path) = get("EAU2_SECRET_FILE").filter(|p| !p.is_empty()) {
        return Ok(KeyFile {
            path: PathBuf::from(path),
            private_dir: None,
        });
    }
    let home = get("HOME").filter(|h| !h.is_empty()).ok_or_else(|| {
        Error::Config(
            "neither EAU2_SECRET_FILE nor HOME is set: no place for the key that secures \
             a job started by plain srun (or export EAU2_TOKEN)"
                .into(),
        )
    })?;
    let dir = Path::new(&home).join(".eau2");
    Ok(KeyFile {
        path: dir.join("secret"),
        private_dir: Some(dir),
    })
}

/// What kind of thing `meta` describes, for messages.
fn kind(meta: &fs::Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_file() {
        "a regular file"
    } else if t.is_dir() {
        "a folder"
    } else if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else {
        "not a regular file"
    }
}

/// The effective user id of this process.
fn my_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// Checks that `meta` (of `path`) belongs to this user and has no permission bits for
/// group or others; `chmod` is the mode to tell the user to set.
fn check_private(path: &Path, meta: &fs::Metadata, chmod: &str) -> Result<()> {
    if meta.uid() != my_uid() {
        return Err(Error::Config(format!(
            "{} belongs to user id {}, not to you (user id {}): the key of your jobs' \
             tokens must be yours alone; remove it, or point EAU2_SECRET_FILE elsewhere",
            path.display(),
            meta.uid(),
            my_uid()
        )));
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(Error::Config(format!(
            "{} has mode {mode:03o}: other users could read or replace the key of your \
             jobs' tokens; run `chmod {chmod} {}` (and, if it may have been read, delete \
             the key so a new one is made)",
            path.display(),
            path.display()
        )));
    }
    Ok(())
}

/// Creates `~/.eau2` mode 0700 if missing, then checks that it is a folder of this
/// user's that no one else can enter.
fn ensure_private_dir(dir: &Path) -> Result<()> {
    match fs::DirBuilder::new().mode(0o700).create(dir) {
        // The umask can only narrow 0700; set it exactly so the folder stays usable.
        Ok(()) => fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .map_err(|e| Error::io_path("setting the mode of", dir, e))?,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(Error::io_path("creating", dir, e)),
    }
    let meta = fs::metadata(dir).map_err(|e| Error::io_path("reading", dir, e))?;
    if !meta.is_dir() {
        return Err(Error::Config(format!(
            "{} is {}, not a folder: eau2 keeps the key of your jobs' tokens in it; move \
             it away",
            dir.display(),
            kind(&meta)
        )));
    }
    check_private(dir, &meta, "700")
}

/// Refuses anything but a regular file at `path`, before it is opened (opening a FIFO
/// would block until something writes to it, and a device may act on being opened).
fn check_regular(path: &Path, meta: &fs::Metadata) -> Result<()> {
    if meta.is_file() {
        return Ok(());
    }
    Err(Error::Config(format!(
        "{} is {}, not a regular file: it cannot be the key of your jobs' tokens; remove \
         it (a new key is then made), or point EAU2_SECRET_FILE at the key file",
        path.display(),
        kind(meta)
    )))
}

fn read_or_create_key(path: &Path) -> Result<Vec<u8>> {
    let stat = match fs::metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            create_key(path)?;
            fs::metadata(path)
        }
        other => other,
    }
    .map_err(|e| Error::io_path("reading", path, e))?;
    check_regular(path, &stat)?;
    // Non-blocking, and checked again once open: the path may have been replaced by a
    // FIFO between the check and the open.
    let mut file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|e| Error::io_path("opening", path, e))?;
    let meta = file
        .metadata()
        .map_err(|e| Error::io_path("reading", path, e))?;
    check_regular(path, &meta)?;
    check_private(path, &meta, "600")?;
    let mut key = Vec::new();
    (&mut file)
        .take(MAX_KEY_BYTES + 1)
        .read_to_end(&mut key)
        .map_err(|e| Error::io_path("reading", path, e))?;
    if key.len() < 16 || key.len() as u64 > MAX_KEY_BYTES {
        return Err(Error::Config(format!(
            "{} holds {}{} bytes; a key has 16 to {MAX_KEY_BYTES} (eau2 makes 32; delete \
             the file to get a new one)",
            path.display(),
            if key.len() as u64 > MAX_KEY_BYTES {
                "over "
            } else {
                ""
            },
            key.len().min(MAX_KEY_BYTES as usize)
        )));
    }
    Ok(key)
}

/// Creates the key file atomically: written under a temporary name, then hard-linked into
/// place, which fails if another rank (on this host, or on another over a shared home)
/// got there first; everyone then reads the one that won. A missing folder is created
/// mode 0700, the file mode 0600, exactly, whatever the umask.
fn create_key(path: &Path) -> Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| Error::io_path("creating", dir, e))?;
    let tmp = dir.join(format!(".secret.{}.{}", std::process::id(), fresh()?));
    let written = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .and_then(|mut f| {
            f.set_permissions(fs::Permissions::from_mode(0o600))?;
            f.write_all(&token::random_bytes::<32>()?)?;
            f.sync_all()
        });
    let linked = written.and_then(|()| match fs::hard_link(&tmp, path) {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        other => other,
    });
    let _ = fs::remove_file(&tmp);
    linked.map_err(|e| Error::io_path("creating the key file", path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_tokens_are_long_and_differ() {
        let (a, b) = (fresh().unwrap(), fresh().unwrap());
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
    }

    /// A fresh, empty scratch folder.
    fn scratch() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("eau2-secret-{}", fresh().unwrap()));
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// The key file `path`, outside any private folder (as `EAU2_SECRET_FILE` gives).
    fn file(path: &Path) -> KeyFile {
        KeyFile {
            path: path.to_path_buf(),
            private_dir: None,
        }
    }

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn derived_tokens_depend_on_key_and_job() {
        let dir = scratch();
        let key = file(&dir.join("sub").join("secret"));
        let t1 = derived(&key, "slurm-1.0").unwrap();
        assert_eq!(
            t1,
            derived(&key, "slurm-1.0").unwrap(),
            "same key, same job"
        );
        assert_ne!(t1, derived(&key, "slurm-1.1").unwrap());
        assert_eq!(t1.len(), 32);
        assert_eq!(mode(&key.path), 0o600);
        assert_eq!(mode(&dir.join("sub")), 0o700, "a folder made for the key");

        fs::set_permissions(&key.path, fs::Permissions::from_mode(0o644)).unwrap();
        let err = derived(&key, "slurm-1.0").unwrap_err().to_string();
        assert!(err.contains("chmod 600"), "{err}");
        assert!(err.contains("mode 644"), "{err}");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_default_folder_is_made_private_and_must_stay_so() {
        let home = scratch();
        let get = |k: &str| (k == "HOME").then(|| home.to_string_lossy().into_owned());
        let key = key_path(&get).unwrap();
        let eau2 = home.join(".eau2");
        assert_eq!(key.private_dir.as_deref(), Some(eau2.as_path()));
        derived(&key, "slurm-1.0").unwrap();
        assert_eq!((mode(&eau2), mode(&key.path)), (0o700, 0o600));

        for open in [0o755, 0o777, 0o750] {
            fs::set_permissions(&eau2, fs::Permissions::from_mode(open)).unwrap();
            let err = derived(&key, "slurm-1.0").unwrap_err().to_string();
            assert!(
                err.contains(&format!("chmod 700 {}", eau2.display())),
                "{err}"
            );
        }
        fs::set_permissions(&eau2, fs::Permissions::from_mode(0o700)).unwrap();
        derived(&key, "slurm-1.0").unwrap();

        // ~/.eau2 as a file: refused, not replaced.
        fs::remove_dir_all(&eau2).unwrap();
        fs::write(&eau2, b"x").unwrap();
        let err = derived(&key, "slurm-1.0").unwrap_err().to_string();
        assert!(err.contains("not a folder"), "{err}");
        assert_eq!(fs::read(&eau2).unwrap(), b"x");
        fs::remove_dir_all(&home).unwrap();
    }

    #[test]
    fn a_fifo_or_folder_as_key_is_refused_at_once() {
        let dir = scratch();
        let fifo = dir.join("fifo");
        let c_path = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: c_path is a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
        // The old code blocked here forever, waiting for a writer.
        let err = derived(&file(&fifo), "j").unwrap_err().to_string();
        assert!(
            err.contains("is a FIFO (named pipe), not a regular file"),
            "{err}"
        );
        let err = derived(&file(&dir), "j").unwrap_err().to_string();
        assert!(err.contains("is a folder, not a regular file"), "{err}");
        let err = derived(&file(Path::new("/dev/null")), "j")
            .unwrap_err()
            .to_string();
        assert!(err.contains("character device"), "{err}");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn another_users_key_or_folder_is_refused() {
        if my_uid() != 0 {
            eprintln!("SKIPPED: giving a file to another user needs root");
            return;
        }
        let home = scratch();
        let get = |k: &str| (k == "HOME").then(|| home.to_string_lossy().into_owned());
        let key = key_path(&get).unwrap();
        derived(&key, "j").unwrap();
        let chown = |path: &Path, uid: u32| std::os::unix::fs::chown(path, Some(uid), None);
        chown(&key.path, 65534).unwrap();
        let err = derived(&key, "j").unwrap_err().to_string();
        assert!(
            err.contains("belongs to user id 65534, not to you"),
            "{err}"
        );
        chown(&key.path, 0).unwrap();
        let dir = key.private_dir.clone().unwrap();
        chown(&dir, 65534).unwrap();
        let err = derived(&key, "j").unwrap_err().to_string();
        assert!(err.contains(".eau2 belongs to user id 65534"), "{err}");
        fs::remove_dir_all(&home).unwrap();
    }

    #[test]
    fn short_or_huge_keys_are_refused() {
        let dir = scratch();
        let key = file(&dir.join("secret"));
        for (len, says) in [(3, "holds 3 bytes"), (5000, "holds over 4096 bytes")] {
            fs::write(&key.path, vec![7u8; len]).unwrap();
            fs::set_permissions(&key.path, fs::Permissions::from_mode(0o600)).unwrap();
            let err = derived(&key, "j").unwrap_err().to_string();
            assert!(err.contains(says), "{err}");
        }
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn key_path_prefers_the_variable() {
        let get = |k: &str| match k {
            "HOME" => Some("/home/u".to_string()),
            _ => None,
        };
        let default = key_path(&get).unwrap();
        assert_eq!(default.path, Path::new("/home/u/.eau2/secret"));
        assert_eq!(
            default.private_dir.as_deref(),
            Some(Path::new("/home/u/.eau2"))
        );
        assert!(key_path(&|_| None).is_err());
        let set = |k: &str| (k == "EAU2_SECRET_FILE").then(|| "/k".to_string());
        assert_eq!(key_path(&set).unwrap(), file(Path::new("/k")));
    }
}
