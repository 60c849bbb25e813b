//! The job's token: fresh from the kernel when a wire-up service can hand it out, or
//! derived from a per-user key when nothing can (plain `srun`).
//!
//! A derived token must be something only the job's own processes can compute. Slurm's
//! variables (job id, step id, node list) are public to every user of the cluster, so a
//! token made from them alone would be no secret. We key it instead with a secret of the
//! user's: 32 random bytes in `~/.eau2/secret` (mode 0600, created on first use; override
//! the path with `EAU2_SECRET_FILE`), so the token is HMAC-SHA256(secret, job and step).
//! Ranks on several hosts need that file to be the same on all of them, which a shared
//! home directory (usual on Slurm clusters) gives.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::error::{Error, Result};

/// A fresh token: 32 lowercase hex digits (128 bits) from `/dev/urandom`.
pub fn fresh() -> Result<String> {
    Ok(to_hex(&random_bytes::<16>()?))
}

/// The token of job `context` under the user's key at `key_file`, creating the key if the
/// file does not exist yet.
pub fn derived(key_file: &Path, context: &str) -> Result<String> {
    let key = read_or_create_key(key_file)?;
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&key)
        .map_err(|_| Error::Config("HMAC refused the key".into()))?;
    mac.update(context.as_bytes());
    Ok(to_hex(&mac.finalize().into_bytes()[..16]))
}

/// Where the user's key lives: `EAU2_SECRET_FILE`, else `$HOME/.eau2/secret`.
pub fn key_path(get: &dyn Fn(&str) -> Option<String>) -> Result<PathBuf> {
    if let Some(path) = get("EAU2_SECRET_FILE").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    let home = get("HOME").filter(|h| !h.is_empty()).ok_or_else(|| {
        Error::Config(
            "neither EAU2_SECRET_FILE nor HOME is set: no place for the key that secures \
             a job started by plain srun (or export EAU2_TOKEN)"
                .into(),
        )
    })?;
    Ok(Path::new(&home).join(".eau2").join("secret"))
}

fn read_or_create_key(path: &Path) -> Result<Vec<u8>> {
    if !path.exists() {
        create_key(path)?;
    }
    let meta = fs::metadata(path).map_err(|e| Error::io_path("reading", path, e))?;
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me || meta.permissions().mode() & 0o077 != 0 {
        return Err(Error::Config(format!(
            "{} must belong to you and be readable by you alone (chmod 600): it is the \
             key of your jobs' tokens",
            path.display()
        )));
    }
    let mut key = Vec::new();
    File::open(path)
        .and_then(|mut f| f.read_to_end(&mut key))
        .map_err(|e| Error::io_path("reading", path, e))?;
    if key.len() < 16 {
        return Err(Error::Config(format!(
            "{} holds {} bytes; a key needs at least 16 (delete it to get a new one)",
            path.display(),
            key.len()
        )));
    }
    Ok(key)
}

/// Creates the key file atomically: written under a temporary name, then hard-linked into
/// place, which fails if another rank (on this host, or on another over a shared home)
/// got there first; everyone then reads the one that won.
fn create_key(path: &Path) -> Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| Error::Config(format!("{} has no directory", path.display())))?;
    fs::create_dir_all(dir).map_err(|e| Error::io_path("creating", dir, e))?;
    let tmp = dir.join(format!(".secret.{}.{}", std::process::id(), fresh()?));
    let written = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .and_then(|mut f| {
            f.write_all(&random_bytes::<32>().map_err(io::Error::other)?)?;
            f.sync_all()
        });
    let linked = written.and_then(|()| match fs::hard_link(&tmp, path) {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        other => other,
    });
    let _ = fs::remove_file(&tmp);
    linked.map_err(|e| Error::io_path("creating the key file", path, e))
}

fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut bytes = [0u8; N];
    File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| Error::io("reading /dev/urandom", e))?;
    Ok(bytes)
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
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

    #[test]
    fn derived_tokens_depend_on_key_and_job() {
        let dir = std::env::temp_dir().join(format!("eau2-secret-{}", fresh().unwrap()));
        let key = dir.join("sub").join("secret");
        let t1 = derived(&key, "slurm-1.0").unwrap();
        assert_eq!(
            t1,
            derived(&key, "slurm-1.0").unwrap(),
            "same key, same job"
        );
        assert_ne!(t1, derived(&key, "slurm-1.1").unwrap());
        assert_eq!(t1.len(), 32);
        let mode = fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);

        fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).unwrap();
        let err = derived(&key, "slurm-1.0").unwrap_err().to_string();
        assert!(err.contains("chmod 600"), "{err}");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn key_path_prefers_the_variable() {
        let get = |k: &str| match k {
            "HOME" => Some("/home/u".to_string()),
            _ => None,
        };
        assert_eq!(key_path(&get).unwrap(), Path::new("/home/u/.eau2/secret"));
        assert!(key_path(&|_| None).is_err());
        let set = |k: &str| (k == "EAU2_SECRET_FILE").then(|| "/k".to_string());
        assert_eq!(key_path(&set).unwrap(), Path::new("/k"));
    }
}
