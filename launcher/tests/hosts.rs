//! `--hostfile`, `-H` and `--rsh` without any other host: mistakes are reported before
//! anything starts, local host names start ranks directly, and the rsh command is called
//! as `CMD HOST COMMAND...`. (Real remote hosts: tests/multihost.rs at the top.)

mod common;

use std::fs;

use common::launch;

#[test]
fn a_missing_hostfile_is_named() {
    let run = launch(&["--hostfile", "/nonexistent/hosts", "/bin/true"]);
    assert_eq!(run.code(), 1, "{}", run.stderr());
    assert!(
        run.stderr()
            .contains("cannot read the hostfile /nonexistent/hosts"),
        "{}",
        run.stderr()
    );
}

#[test]
fn a_bad_hostfile_line_is_named() {
    let path = std::env::temp_dir().join(format!("eau2-hosts-{}", std::process::id()));
    fs::write(&path, "node1 slots=2\nnode2 slots=many\n").expect("writing a hostfile");
    let run = launch(&["--hostfile", path.to_str().expect("utf-8"), "/bin/true"]);
    let _ = fs::remove_file(&path);
    assert_eq!(run.code(), 1, "{}", run.stderr());
    assert!(
        run.stderr().contains(":2: `many` is not a number of slots"),
        "{}",
        run.stderr()
    );
}

#[test]
fn more_ranks_than_slots_is_an_error() {
    let run = launch(&["-n", "5", "-H", "a:2,b:2", "/bin/true"]);
    assert_eq!(run.code(), 1, "{}", run.stderr());
    assert!(
        run.stderr().contains("5 ranks do not fit in the 4 slots"),
        "{}",
        run.stderr()
    );
}

#[test]
fn local_host_names_start_ranks_here() {
    // An rsh command that always fails proves it is not used.
    let run = launch(&[
        "-H",
        "localhost:2",
        "--rsh",
        "/bin/false",
        "/bin/sh",
        "-c",
        "echo \"$EAU2_RANK of $EAU2_SIZE\"",
    ]);
    assert_eq!(run.code(), 0, "{}", run.stderr());
    let mut lines = run.stdout_lines();
    lines.sort();
    assert_eq!(lines, ["[0] 0 of 2", "[1] 1 of 2"]);
}

#[test]
fn the_rsh_command_gets_the_host_then_the_command() {
    // `echo` as the rsh command prints what it was given instead of running it.
    let run = launch(&["-H", "198.18.0.9", "--rsh", "/bin/echo", "/bin/true"]);
    assert_eq!(run.code(), 0, "{}", run.stderr());
    let lines = run.stdout_lines();
    assert_eq!(lines.len(), 1, "{lines:?}");
    let line = &lines[0];
    // The script goes to /bin/sh whatever the login shell, so it is quoted once more:
    // each of its own quotes reads '\''.
    assert!(
        line.starts_with("[0] 198.18.0.9 exec /bin/sh -c '"),
        "{line}"
    );
    let q = |s: &str| format!("'\\''{s}");
    for part in [
        format!("EAU2_RANK={}", q("0")),
        format!("EAU2_SIZE={}", q("1")),
        format!("EAU2_JOB_ID={}", q("eau2-launch-")),
        q("/bin/true"),
        // Rank 0 is remote: it listens on its host, on a port drawn for the job.
        format!("EAU2_MASTER={}", q("198.18.0.9:2")),
    ] {
        assert!(line.contains(&part), "{part} missing from {line}");
    }
}
