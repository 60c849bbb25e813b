//! PROGRAM spelled as an app folder or a bare name, and the errors for ones that don't exist.
//!
//! These tests copy the launcher into a scratch "target directory" next to a fake app
//! binary, so that the launcher's own location, as the real thing sees it, is under test.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;

use common::{launch, run, Scratch, LAUNCHER};

/// Held by each test while it writes executables and runs them: a fork on another test
/// thread while a file is open for writing would make executing it fail ("text file busy").
static SERIAL: Mutex<()> = Mutex::new(());

/// A scratch layout: `bin/eau2-launch` (a copy), `bin/eau2-fake` (a script) and the app
/// folders `apps/fake` and `apps/ghost` (never built).
struct Layout {
    scratch: Scratch,
}

impl Layout {
    fn new() -> Layout {
        let scratch = Scratch::new("lookup");
        fs::create_dir_all(scratch.join("bin")).unwrap();
        fs::create_dir_all(scratch.join("apps/fake")).unwrap();
        fs::create_dir_all(scratch.join("apps/ghost")).unwrap();
        fs::copy(LAUNCHER, scratch.join("bin/eau2-launch")).unwrap();
        let fake = scratch.join("bin/eau2-fake");
        fs::write(
            &fake,
            "#!/bin/sh\necho \"fake $EAU2_RANK of $EAU2_SIZE: $*\"\n",
        )
        .unwrap();
        fs::set_permissions(&fake, fs::Permissions::from_mode(0o755)).unwrap();
        Layout { scratch }
    }

    fn launcher(&self) -> Command {
        let mut command = Command::new(self.scratch.join("bin/eau2-launch"));
        command.current_dir(&self.scratch.path);
        command
    }

    fn bin(&self, name: &str) -> PathBuf {
        self.scratch.join("bin").join(name)
    }
}

fn lock() -> std::sync::MutexGuard<'static, ()> {
    // A test that failed while holding the lock poisons it; the others can still run.
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

#[test]
fn app_folder_runs_the_binary_built_from_it() {
    let _serial = lock();
    let layout = Layout::new();
    for program in ["apps/fake", "apps/fake/", "./apps/fake"] {
        let run = run(layout.launcher().args(["-n", "2", program, "-x", "y"]));
        assert_eq!(run.code(), 0, "{program}: {}", run.stderr());
        let mut lines = run.stdout_lines();
        lines.sort();
        assert_eq!(
            lines,
            ["[0] fake 0 of 2: -x y", "[1] fake 1 of 2: -x y"],
            "{program}"
        );
    }
}

#[test]
fn bare_name_finds_the_workspace_binary() {
    let _serial = lock();
    let layout = Layout::new();
    let run = run(layout.launcher().args(["-n", "1", "fake"]));
    assert_eq!(run.code(), 0, "{}", run.stderr());
    assert_eq!(run.stdout(), "[0] fake 0 of 1: \n");
}

#[test]
fn missing_app_binary_says_where_it_looked_and_how_to_build_it() {
    let _serial = lock();
    let layout = Layout::new();
    let run = run(layout.launcher().args(["-n", "2", "apps/ghost"]));
    let stderr = run.stderr();
    assert_eq!(run.code(), 1, "{stderr}");
    assert!(
        stderr.contains("no binary for app folder `apps/ghost`"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&layout.bin("ghost").display().to_string()),
        "{stderr}"
    );
    assert!(
        stderr.contains(&layout.bin("eau2-ghost").display().to_string()),
        "{stderr}"
    );
    assert!(stderr.contains("cargo build"), "{stderr}");
    assert!(stderr.contains("-p ghost"), "{stderr}");
    assert!(stderr.contains("--workspace"), "{stderr}");
    assert_eq!(run.stdout(), "");
}

#[test]
fn unknown_program_is_an_error() {
    let _serial = lock();
    let run = launch(&["-n", "2", "no-such-program-anywhere"]);
    assert_eq!(run.code(), 1);
    assert!(
        run.stderr()
            .contains("program `no-such-program-anywhere` not found"),
        "{}",
        run.stderr()
    );
    let run = launch(&["-n", "2", "/no/such/path"]);
    assert_eq!(run.code(), 1);
    assert!(run.stderr().contains("does not exist"), "{}", run.stderr());
}

#[test]
fn usage_errors_exit_2() {
    let _serial = lock();
    for args in [
        &["-n", "0", "/bin/sh"][..],
        &["/bin/sh"],
        &["-n", "2"],
        &["-n", "2", "--timeout", "soon", "/bin/sh"],
        &["-n", "2", "--master", "no-port", "/bin/sh"],
        &["-n", "2", "--frobnicate", "/bin/sh"],
    ] {
        let run = launch(args);
        assert_eq!(run.code(), 2, "{args:?}: {}", run.stderr());
        assert!(!run.stderr().is_empty(), "{args:?}");
    }
}

#[test]
fn help_documents_every_flag() {
    let _serial = lock();
    let run = launch(&["--help"]);
    assert_eq!(run.code(), 0);
    let help = run.stdout();
    for flag in [
        "-n",
        "--master",
        "--timeout",
        "--no-prefix",
        "PROGRAM",
        "ARGS",
    ] {
        assert!(help.contains(flag), "{flag} missing from:\n{help}");
    }
}
