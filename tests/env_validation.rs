//! Every `EAU2_*` value is checked, by real processes (issue 20, item 7): eau2-launch
//! refuses a bad one before starting any rank, a rank started by hand refuses it at
//! start, and the secret file of plain srun's wire-up is checked for type and mode
//! without blocking on a FIFO. Every run has a deadline; nothing here can hang.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use eau2_testkit::{bin, free_port, launch_command, run_with_deadline, Finished};

const DEADLINE: Duration = Duration::from_secs(120);

/// A fresh folder for one test's files.
fn scratch(name: &str) -> PathBuf {
    eau2_testkit::scratch(&format!("envval-{name}"))
}

/// `cmd` with no EAU2_*, PMI, PMIx or Slurm variable inherited from the test's own
/// environment, so that only what the test sets counts.
fn clean(mut cmd: Command) -> Command {
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy().into_owned();
        if ["EAU2_", "PMI", "SLURM_", "OMPI_"]
            .iter()
            .any(|p| key.starts_with(p))
        {
            cmd.env_remove(key);
        }
    }
    cmd
}

/// `cluster-check kv` on 2 ranks through eau2-launch with `env` added.
fn launch_kv(env: &[(&str, &str)]) -> Finished {
    let mut cmd = clean(launch_command(2, &bin("cluster-check"), &["kv"]));
    cmd.envs(env.iter().copied());
    run_with_deadline(&mut cmd, DEADLINE)
}

#[test]
fn launcher_refuses_each_bad_value_before_starting_ranks() {
    let cases = [
        (
            "EAU2_PEER_TIMEOUT",
            "abc",
            "expected seconds, e.g. 10 or 2.5",
        ),
        (
            "EAU2_PEER_TIMEOUT",
            "0.05",
            "heartbeats go every quarter of it",
        ),
        ("EAU2_RENDEZVOUS_TIMEOUT", "0", "expected seconds"),
        (
            "EAU2_EXCHANGE_ROUND_BYTES",
            "abc",
            "a whole number of bytes",
        ),
        ("EAU2_PROGRESS_SECS", "abc", "expected seconds"),
        ("EAU2_MSG_WINDOW", "64M", "a whole number of bytes"),
        ("EAU2_NET_POLL_US", "fast", "microseconds"),
        ("EAU2_STATS", "yes", "json:FILE"),
        ("EAU2_LOG", "eau2=loud", "a filter such as warn"),
    ];
    for (var, value, says) in cases {
        let out = launch_kv(&[(var, value)]);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{var}={value}: exit status\n{}",
            out.stderr
        );
        let quoted = format!("eau2-launch: {var}={value:?}: expected ");
        assert!(
            out.stderr.contains(&quoted),
            "{var}={value}: {}",
            out.stderr
        );
        assert!(out.stderr.contains(says), "{var}={value}: {}", out.stderr);
        assert!(out.stderr.contains("no rank was started"), "{}", out.stderr);
        assert!(!out.stdout.contains("kv ok"), "{}", out.stdout);
    }
    // Several bad values: each is named, in one run.
    let out = launch_kv(&[("EAU2_PEER_TIMEOUT", "abc"), ("EAU2_PROGRESS_SECS", "x")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        out.stderr.contains("EAU2_PEER_TIMEOUT=\"abc\""),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("EAU2_PROGRESS_SECS=\"x\""),
        "{}",
        out.stderr
    );
}

#[test]
fn good_values_run_and_a_misspelt_name_is_warned_about() {
    let out = launch_kv(&[
        ("EAU2_PEER_TIMEOUT", "2.5"),
        ("EAU2_EXCHANGE_ROUND_BYTES", "300"),
        ("EAU2_PROGRESS_SECS", "0.05"),
        ("EAU2_PEER_TIMOUT", "5"),
    ]);
    out.assert_success();
    assert!(
        out.stderr.contains(
            "EAU2_PEER_TIMOUT is set but nothing reads it; did you mean EAU2_PEER_TIMEOUT?"
        ),
        "{}",
        out.stderr
    );
    assert_eq!(
        out.stderr.matches("EAU2_PEER_TIMOUT is set").count(),
        1,
        "said once, by the launcher, not by every rank: {}",
        out.stderr
    );
}

#[test]
fn a_rank_started_by_hand_refuses_bad_values_at_start() {
    for (var, value, says) in [
        (
            "EAU2_PEER_TIMEOUT",
            "0.05",
            "not under 1 s: heartbeats go every quarter of it",
        ),
        (
            "EAU2_EXCHANGE_ROUND_BYTES",
            "abc",
            "a whole number of bytes",
        ),
        ("EAU2_PROGRESS_SECS", "abc", "expected seconds"),
    ] {
        let mut cmd = clean(Command::new(bin("cluster-check")));
        cmd.arg("kv").env(var, value);
        let out = run_with_deadline(&mut cmd, DEADLINE);
        assert_eq!(out.status.code(), Some(2), "{var}={value}: {}", out.stderr);
        assert!(
            out.stderr.contains(&format!("{var}={value:?}: expected ")),
            "{var}={value}: {}",
            out.stderr
        );
        assert!(out.stderr.contains(says), "{var}={value}: {}", out.stderr);
        assert!(!out.stdout.contains("kv ok"));
    }
}

/// Rank 0 of a 2-rank plain-srun step (Slurm's variables, no PMI), which derives its
/// token from the secret file, with `env` added and the umask 0 (the widest).
fn srun_rank0(home: &Path, env: &[(&str, &str)]) -> Finished {
    let port = free_port().to_string();
    let ports = format!("{port}-{port}");
    let mut cmd = clean(Command::new(bin("cluster-check")));
    cmd.arg("kv")
        .env("HOME", home)
        .env("SLURM_PROCID", "0")
        .env("SLURM_NTASKS", "2")
        .env("SLURM_JOB_ID", "77")
        .env("SLURM_STEP_ID", "0")
        .env("SLURM_STEP_NODELIST", "localhost")
        .env("EAU2_SLURM_PORTS", &ports)
        .envs(env.iter().copied());
    // SAFETY: umask is async-signal-safe and touches nothing but this child's mask.
    unsafe {
        cmd.pre_exec(|| {
            libc::umask(0);
            Ok(())
        });
    }
    run_with_deadline(&mut cmd, DEADLINE)
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn a_fifo_as_the_secret_file_fails_at_once_naming_it() {
    let dir = scratch("fifo");
    let fifo = dir.join("secret");
    let c_path = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: c_path is a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
    // A stall would last the whole rendezvous timeout and then blame missing ranks.
    let out = srun_rank0(
        &dir,
        &[
            ("EAU2_SECRET_FILE", fifo.to_str().unwrap()),
            ("EAU2_RENDEZVOUS_TIMEOUT", "100"),
        ],
    );
    assert!(!out.status.success());
    assert!(
        out.stderr
            .contains("is a FIFO (named pipe), not a regular file"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("did not complete"), "{}", out.stderr);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_secret_folder_and_file_are_created_private_and_checked() {
    let home = scratch("home");
    // Rank 1 never comes: rank 0 makes the key, then gives up on rendezvous after 1 s.
    let timeout = [("EAU2_RENDEZVOUS_TIMEOUT", "1")];
    let out = srun_rank0(&home, &timeout);
    assert!(!out.status.success());
    assert!(
        out.stderr.contains("rank 1 never arrived"),
        "{}",
        out.stderr
    );
    let eau2 = home.join(".eau2");
    assert_eq!(mode(&eau2), 0o700, "~/.eau2 under umask 0");
    assert_eq!(mode(&eau2.join("secret")), 0o600, "the key under umask 0");

    // Opened up to the world: refused, with the chmod to run.
    std::fs::set_permissions(&eau2, std::fs::Permissions::from_mode(0o777)).unwrap();
    let out = srun_rank0(&home, &timeout);
    let chmod = format!("chmod 700 {}", eau2.display());
    assert!(out.stderr.contains(&chmod), "{}", out.stderr);
    assert!(!out.stderr.contains("never arrived"), "{}", out.stderr);

    std::fs::set_permissions(&eau2, std::fs::Permissions::from_mode(0o700)).unwrap();
    let key = eau2.join("secret");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = srun_rank0(&home, &timeout);
    let chmod = format!("chmod 600 {}", key.display());
    assert!(out.stderr.contains(&chmod), "{}", out.stderr);
    std::fs::remove_dir_all(&home).unwrap();
}

#[test]
fn an_app_started_by_hand_refuses_a_bad_eau2_log_at_start() {
    // obs-probe installs eau2-console, which has the runtime check EAU2_LOG too.
    let mut cmd = clean(Command::new(bin("obs-probe")));
    cmd.arg("traffic").env("EAU2_LOG", "eau2=loud");
    let out = run_with_deadline(&mut cmd, DEADLINE);
    assert_eq!(out.status.code(), Some(2), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("EAU2_LOG=\"eau2=loud\": expected a filter"),
        "{}",
        out.stderr
    );
    assert!(!out.stdout.contains("traffic ok"), "{}", out.stdout);
}

#[test]
fn a_program_without_the_console_shows_warnings_and_says_it_cannot_show_stats() {
    // cluster-check installs no subscriber: run's fallback writes warnings on stderr.
    let mut cmd = clean(Command::new(bin("cluster-check")));
    cmd.arg("kv").env("EAU2_STATS", "1");
    let out = run_with_deadline(&mut cmd, DEADLINE);
    out.assert_success();
    assert!(out.stdout.contains("kv ok"), "{}", out.stdout);
    assert!(
        out.stderr
            .contains("WARN eau2::stats: EAU2_STATS asks for statistics"),
        "{}",
        out.stderr
    );
}
