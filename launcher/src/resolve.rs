//! Turning PROGRAM into the executable every rank runs.
//!
//! Three spellings are accepted:
//! - an app folder such as `apps/linus` (any existing directory): the binary cargo builds
//!   from it, which sits next to `eau2-launch` itself because the whole workspace shares one
//!   target directory. The binary is named after the folder, or `eau2-` plus the folder's
//!   name (`apps/sor` builds `eau2-sor`);
//! - a path containing `/`: used as is;
//! - a bare name: first the workspace binaries next to `eau2-launch`, then `PATH`, as a shell
//!   would.
//!
//! Resolution happens once, before anything is spawned, so a typo costs one clear message
//! instead of N identical spawn failures.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Why PROGRAM could not be resolved, with everything the user needs to fix it.
#[derive(Debug)]
pub struct NotFound {
    /// What was being looked for, e.g. "no binary for app folder `apps/linus`".
    what: String,
    /// Every path that was checked, in order.
    tried: Vec<PathBuf>,
    /// Further places searched that are too many to list (the `PATH` entries).
    also: Option<String>,
    /// How to make the lookup succeed, when we can tell.
    hint: Option<String>,
}

impl fmt::Display for NotFound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.what)?;
        if !self.tried.is_empty() {
            write!(f, "; tried:")?;
            for path in &self.tried {
                write!(f, "\n  {}", path.display())?;
            }
        }
        if let Some(also) = &self.also {
            write!(f, "\n  {also}")?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n{hint}")?;
        }
        Ok(())
    }
}

/// Resolves PROGRAM to an executable path.
///
/// `bin_dir` is where the workspace's binaries live (the directory of the running
/// `eau2-launch`); `path_var` is the value of `PATH`. Both are parameters so tests can point
/// them at scratch directories.
pub fn resolve(
    program: &OsStr,
    bin_dir: &Path,
    path_var: Option<&OsStr>,
) -> Result<PathBuf, NotFound> {
    if program.is_empty() {
        return Err(NotFound {
            what: "PROGRAM is empty".to_string(),
            tried: Vec::new(),
            also: None,
            hint: None,
        });
    }
    let path = Path::new(program);
    if path.is_dir() {
        return resolve_app_folder(path, bin_dir);
    }
    if program.as_bytes().contains(&b'/') {
        return resolve_path(path);
    }
    resolve_bare_name(program, bin_dir, path_var)
}

/// `apps/linus` → `<bin_dir>/linus` or `<bin_dir>/eau2-linus`.
fn resolve_app_folder(dir: &Path, bin_dir: &Path) -> Result<PathBuf, NotFound> {
    // Canonicalizing gives `.` and `apps/linus/` a real last component to name the binary by.
    let name = fs::canonicalize(dir)
        .ok()
        .and_then(|p| p.file_name().map(OsStr::to_os_string))
        .or_else(|| dir.file_name().map(OsStr::to_os_string));
    let Some(name) = name else {
        return Err(NotFound {
            what: format!("cannot tell which app `{}` is", dir.display()),
            tried: Vec::new(),
            also: None,
            hint: None,
        });
    };
    let tried = workspace_candidates(&name, bin_dir);
    if let Some(found) = tried.iter().find(|p| is_executable(p)) {
        return Ok(found.clone());
    }
    let package = package_name(&dir.join("Cargo.toml"))
        .unwrap_or_else(|| name.to_string_lossy().into_owned());
    let release = if bin_dir.file_name() == Some(OsStr::new("release")) {
        " --release"
    } else {
        ""
    };
    Err(NotFound {
        what: format!("no binary for app folder `{}`", dir.display()),
        tried,
        also: None,
        hint: Some(format!(
            "build it with `cargo build{release} -p {package}` \
             (or every app with `cargo build{release} --workspace`)"
        )),
    })
}

/// `./bin/prog`, `/bin/sh`: taken literally, but checked now for a clearer error.
fn resolve_path(path: &Path) -> Result<PathBuf, NotFound> {
    if is_executable(path) {
        return Ok(path.to_path_buf());
    }
    let what = if path.exists() {
        format!("`{}` is not an executable file", path.display())
    } else {
        format!("`{}` does not exist", path.display())
    };
    Err(NotFound {
        what,
        tried: Vec::new(),
        also: None,
        hint: None,
    })
}

/// `linus`, `sh`: the workspace's binaries first, then `PATH`.
fn resolve_bare_name(
    name: &OsStr,
    bin_dir: &Path,
    path_var: Option<&OsStr>,
) -> Result<PathBuf, NotFound> {
    let tried = workspace_candidates(name, bin_dir);
    if let Some(found) = tried.iter().find(|p| is_executable(p)) {
        return Ok(found.clone());
    }
    if let Some(path_var) = path_var {
        let on_path = std::env::split_paths(path_var)
            // An empty PATH entry means the current directory, which we do not search: a
            // program in the working directory is spelled `./prog`, as in a shell.
            .filter(|dir| !dir.as_os_str().is_empty())
            .map(|dir| dir.join(name))
            .find(|p| is_executable(p));
        if let Some(found) = on_path {
            return Ok(found);
        }
    }
    let shown = name.to_string_lossy();
    let hint = Path::new(name)
        .is_file()
        .then(|| format!("there is a `{shown}` in the current directory: run it as `./{shown}`"));
    Err(NotFound {
        what: format!("program `{shown}` not found"),
        tried,
        also: Some(format!("`{shown}` in each directory on PATH")),
        hint,
    })
}

/// The two names a workspace binary may have, in the order they are tried.
fn workspace_candidates(name: &OsStr, bin_dir: &Path) -> Vec<PathBuf> {
    let mut prefixed = OsString::from("eau2-");
    prefixed.push(name);
    vec![bin_dir.join(name), bin_dir.join(prefixed)]
}

/// A regular file (after following links) with at least one execute bit set.
fn is_executable(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The `name` of the `[package]` in a Cargo.toml, for the build hint.
///
/// A line scan rather than a TOML parser: it only feeds a suggestion, and the manifests in
/// this workspace keep `name = "..."` on one line.
fn package_name(manifest: &Path) -> Option<String> {
    let text = fs::read_to_string(manifest).ok()?;
    let mut in_package = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_package = line == "[package]";
        } else if in_package {
            if let Some(value) = line.strip_prefix("name").map(str::trim_start) {
                if let Some(value) = value.strip_prefix('=') {
                    return Some(value.trim().trim_matches('"').to_string());
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A fresh scratch directory, removed when dropped.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new() -> Scratch {
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let dir = std::env::temp_dir().join(format!(
                "eau2-launch-resolve-{}-{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ));
            fs::create_dir_all(&dir).unwrap();
            Scratch(dir)
        }

        fn dir(&self, rel: &str) -> PathBuf {
            let p = self.0.join(rel);
            fs::create_dir_all(&p).unwrap();
            p
        }

        fn file(&self, rel: &str, mode: u32) -> PathBuf {
            let p = self.0.join(rel);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(&p, "#!/bin/sh\n").unwrap();
            fs::set_permissions(&p, fs::Permissions::from_mode(mode)).unwrap();
            p
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn app_folder_finds_binary_named_after_it() {
        let s = Scratch::new();
        let bin = s.dir("target/release");
        let app = s.dir("apps/linus");
        let exe = s.file("target/release/linus", 0o755);
        assert_eq!(resolve(app.as_os_str(), &bin, None).unwrap(), exe);
    }

    #[test]
    fn app_folder_falls_back_to_eau2_prefix() {
        let s = Scratch::new();
        let bin = s.dir("target/debug");
        let app = s.dir("apps/sor");
        let exe = s.file("target/debug/eau2-sor", 0o755);
        assert_eq!(resolve(app.as_os_str(), &bin, None).unwrap(), exe);
        // A trailing slash names the same folder.
        let slashed = format!("{}/", app.display());
        assert_eq!(resolve(OsStr::new(&slashed), &bin, None).unwrap(), exe);
    }

    #[test]
    fn app_folder_prefers_the_plain_name() {
        let s = Scratch::new();
        let bin = s.dir("bin");
        let app = s.dir("apps/demo");
        let plain = s.file("bin/demo", 0o755);
        s.file("bin/eau2-demo", 0o755);
        assert_eq!(resolve(app.as_os_str(), &bin, None).unwrap(), plain);
    }

    #[test]
    fn missing_app_binary_lists_paths_and_build_command() {
        let s = Scratch::new();
        let bin = s.dir("target/release");
        let app = s.dir("apps/sor");
        fs::write(
            app.join("Cargo.toml"),
            "[package]\nname = \"eau2-sor\"\nversion = \"0.1.0\"\n\n[dependencies]\nname = 1\n",
        )
        .unwrap();
        // Not executable: must not count as built.
        s.file("target/release/sor", 0o644);
        let msg = resolve(app.as_os_str(), &bin, None)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("no binary for app folder"), "{msg}");
        assert!(
            msg.contains(&bin.join("sor").display().to_string()),
            "{msg}"
        );
        assert!(
            msg.contains(&bin.join("eau2-sor").display().to_string()),
            "{msg}"
        );
        assert!(msg.contains("cargo build --release -p eau2-sor"), "{msg}");
        assert!(msg.contains("cargo build --release --workspace"), "{msg}");
    }

    #[test]
    fn build_hint_matches_the_debug_profile_and_folder_name() {
        let s = Scratch::new();
        let bin = s.dir("target/debug");
        let app = s.dir("apps/wordcount");
        let msg = resolve(app.as_os_str(), &bin, None)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("cargo build -p wordcount"), "{msg}");
        assert!(!msg.contains("--release"), "{msg}");
    }

    #[test]
    fn explicit_paths_are_taken_literally() {
        let s = Scratch::new();
        let bin = s.dir("bin");
        let exe = s.file("tools/prog", 0o700);
        assert_eq!(resolve(exe.as_os_str(), &bin, None).unwrap(), exe);

        let missing = s.0.join("tools/nope");
        let msg = resolve(missing.as_os_str(), &bin, None)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("does not exist"), "{msg}");

        let plain = s.file("tools/data.txt", 0o644);
        let msg = resolve(plain.as_os_str(), &bin, None)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("not an executable"), "{msg}");
    }

    #[test]
    fn bare_names_search_bin_dir_then_path() {
        let s = Scratch::new();
        let bin = s.dir("bin");
        let p1 = s.dir("p1");
        let p2 = s.dir("p2");
        let in_bin = s.file("bin/eau2-wordcount", 0o755);
        let on_path = s.file("p2/tool", 0o755);
        s.file("p1/tool", 0o644); // earlier on PATH but not executable
        let path_var = std::env::join_paths([&p1, &p2]).unwrap();

        let found = resolve(OsStr::new("wordcount"), &bin, Some(&path_var)).unwrap();
        assert_eq!(found, in_bin);
        let found = resolve(OsStr::new("tool"), &bin, Some(&path_var)).unwrap();
        assert_eq!(found, on_path);

        let err = resolve(OsStr::new("nosuch"), &bin, Some(&path_var)).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("program `nosuch` not found"), "{msg}");
        assert!(
            msg.contains(&bin.join("eau2-nosuch").display().to_string()),
            "{msg}"
        );
        assert!(msg.contains("PATH"), "{msg}");
    }

    #[test]
    fn empty_program_is_an_error() {
        let s = Scratch::new();
        assert!(resolve(OsStr::new(""), &s.0, None).is_err());
    }

    #[test]
    fn package_name_reads_only_the_package_table() {
        let s = Scratch::new();
        let manifest = s.0.join("Cargo.toml");
        fs::write(
            &manifest,
            "[workspace]\nname = \"x\"\n[package]\nname=\"linus\"\n",
        )
        .unwrap();
        assert_eq!(package_name(&manifest).as_deref(), Some("linus"));
        fs::write(&manifest, "[package]\nversion = \"1\"\n").unwrap();
        assert_eq!(package_name(&manifest), None);
    }
}
