//! Helpers for eau2's multi-process tests: where the built binaries are, and running a
//! job through `eau2-launch` with a deadline so that no test can hang.
//!
//! The binaries come from `cargo test --workspace`, which builds every workspace binary
//! before it runs any test.

pub mod cells;
pub mod csv_text;
pub mod frames;
pub mod fuzz_checks;
pub mod ops_data;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// The repository's root folder.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the repository root exists")
}

/// `../shared` beside the repository, when present (the course material and big files).
pub fn shared_dir() -> Option<PathBuf> {
    let dir = repo_root().join("../shared");
    dir.is_dir().then_some(dir)
}

/// The folder holding the binaries of the running test's build (target/debug or
/// target/release).
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test knows its own path");
    // Test executables live in <target>/<profile>/deps/.
    exe.parent()
        .and_then(Path::parent)
        .expect("test executables live two levels below the profile folder")
        .to_path_buf()
}

/// The path of the workspace binary `name`, which must have been built.
pub fn bin(name: &str) -> PathBuf {
    let path = bin_dir().join(name);
    assert!(
        path.is_file(),
        "{} is missing: run the tests with `cargo test --workspace`, which builds every binary",
        path.display()
    );
    path
}

/// What a finished process printed and how it ended.
#[derive(Debug)]
pub struct Finished {
    /// The exit status.
    pub status: ExitStatus,
    /// Everything written to standard output.
    pub stdout: String,
    /// Everything written to standard error.
    pub stderr: String,
    /// How long it ran.
    pub elapsed: Duration,
}

impl Finished {
    /// Panics with the whole output unless the process succeeded.
    pub fn assert_success(&self) -> &Self {
        assert!(
            self.status.success(),
            "process failed with {}\n--- stdout\n{}\n--- stderr\n{}",
            self.status,
            self.stdout,
            self.stderr
        );
        self
    }

    /// Standard output lines with the launcher's `[rank] ` prefix removed, in order.
    pub fn unprefixed_lines(&self) -> Vec<String> {
        self.stdout
            .lines()
            .map(
                |l| match l.strip_prefix('[').and_then(|r| r.split_once("] ")) {
                    Some((rank, rest)) if rank.chars().all(|c| c.is_ascii_digit()) => {
                        rest.to_string()
                    }
                    _ => l.to_string(),
                },
            )
            .collect()
    }
}

/// Runs `cmd` to completion, killing it and panicking if it outlives `deadline`.
pub fn run_with_deadline(cmd: &mut Command, deadline: Duration) -> Finished {
    let started = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let status = wait_until(&mut child, started + deadline);
    let stdout = stdout.join().expect("reader thread");
    let stderr = stderr.join().expect("reader thread");
    let Some(status) = status else {
        panic!(
            "{cmd:?} did not finish within {deadline:?}\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
        );
    };
    Finished {
        status,
        stdout,
        stderr,
        elapsed: started.elapsed(),
    }
}

/// Waits for `child` until `deadline`; kills it and returns `None` when that passes.
pub fn wait_until(child: &mut Child, deadline: Instant) -> Option<ExitStatus> {
    loop {
        if let Some(status) = child.try_wait().expect("waiting for a child") {
            return Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        thread::sleep(Duration::from_millis(10));
    }
}

fn drain(stream: Option<impl Read + Send + 'static>) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut s) = stream {
            let _ = s.read_to_end(&mut bytes);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// A `Command` running `program` with `args` on `n` ranks through `eau2-launch`.
pub fn launch_command(n: usize, program: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(bin("eau2-launch"));
    cmd.arg("-n").arg(n.to_string()).arg(program).args(args);
    cmd
}

/// Runs `program args` on `n` ranks through `eau2-launch`, within `deadline`.
pub fn launch(n: usize, program: &Path, args: &[&str], deadline: Duration) -> Finished {
    run_with_deadline(&mut launch_command(n, program, args), deadline)
}

/// Runs probe `program` with `args` on `n` ranks through `eau2-launch`, with `env` added
/// to its environment, and checks that the job succeeded and that rank 0 printed
/// `ARGS[0] ok`, as the probe programs do when every check passed.
pub fn launch_probe(
    n: usize,
    program: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    deadline: Duration,
) -> Finished {
    let mut cmd = launch_command(n, program, args);
    cmd.envs(env.iter().copied());
    let out = run_with_deadline(&mut cmd, deadline);
    out.assert_success();
    let expected = format!("[0] {} ok", args[0]);
    assert!(
        out.stdout.lines().any(|l| l == expected),
        "no {expected:?} line in:\n{}",
        out.stdout
    );
    out
}

/// A free TCP port on 127.0.0.1 (free when asked; the caller binds it soon after).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("binding an ephemeral port on 127.0.0.1")
}

/// `Ok(())` when `ok`, else a failure of the probe program saying `what()`: the probes'
/// one way to assert, so that a failed check ends the rank with an error (and its
/// message) instead of a panic.
pub fn check(ok: bool, what: impl FnOnce() -> String) -> eau2::Result<()> {
    if ok {
        Ok(())
    } else {
        Err(eau2::Error::App(what()))
    }
}

/// Writes `text` to `path` as an executable script (mode 0755), for tests that run a
/// wrapper or a stand-in for a tool.
pub fn write_script(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).expect("the test folder is writable");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .expect("a file the test wrote can be made executable");
}

/// A fresh, empty folder for one test: `<tmp>/eau2-<name>-<pid>`, emptied first if a
/// previous run of the same process id left it.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("eau2-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("the temporary folder is writable");
    dir
}

/// A CSV of `rows` rows `id,name,score`: ids 0.., names `n{id % names}` and scores
/// `{id * mul % 1000}.5` (a small table to load, whose two variants differ everywhere).
pub fn scores_csv(rows: usize, names: usize, mul: usize) -> String {
    let mut text = String::from("id,name,score\n");
    for i in 0..rows {
        text.push_str(&format!("{i},n{},{}.5\n", i % names, i * mul % 1000));
    }
    text
}

/// `load-check read PATH OPTIONS..` on `n` ranks under eau2-launch: the probe the loading
/// tests use to read a file into a DistFrame and print what it holds.
pub fn load_check(n: usize, path: &Path, options: &[&str], deadline: Duration) -> Finished {
    let mut args = vec!["read", path.to_str().expect("test paths are UTF-8")];
    args.extend_from_slice(options);
    run_with_deadline(&mut launch_command(n, &bin("load-check"), &args), deadline)
}

/// Waits until every path exists (files the ranks of a test program create to say they
/// reached a point), or panics at the deadline.
pub fn wait_for_paths(paths: &[PathBuf], deadline: Instant) {
    while !paths.iter().all(|p| p.exists()) {
        assert!(
            Instant::now() < deadline,
            "the ranks did not reach {paths:?}"
        );
        thread::sleep(Duration::from_millis(5));
    }
}

/// Every file under `dir` (path relative to it, bytes), sorted by path: what a test
/// compares to check that two runs left exactly the same files.
pub fn files_under(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut all = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("the test's folder is readable") {
            let path = entry.expect("the test's folder is readable").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path
                    .strip_prefix(dir)
                    .expect("under dir")
                    .display()
                    .to_string();
                all.push((
                    rel,
                    std::fs::read(&path).expect("the test's file is readable"),
                ));
            }
        }
    }
    all.sort();
    all
}

/// A tmpfs of a given size mounted for one test (to fill a disk on purpose), unmounted
/// and removed when dropped, also when the test fails.
pub struct SmallTmpfs(pub PathBuf);

impl SmallTmpfs {
    /// Mounts a tmpfs of `size` (as mount's `size=` option: `256k`, `20m`) on a fresh
    /// folder named after `name`, or says why it cannot (mounting needs root): the
    /// caller prints `SKIPPED: <why>` and passes.
    pub fn mount(name: &str, size: &str) -> Result<SmallTmpfs, String> {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return Err("mounting a small tmpfs needs root".into());
        }
        let dir = scratch(name);
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !out.status.success() {
            let _ = std::fs::remove_dir(&dir);
            return Err(format!(
                "mount failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(SmallTmpfs(dir))
    }
}

impl Drop for SmallTmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
