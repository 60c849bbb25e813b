//! A failing rank, a timeout or a stray process ends the job promptly and says why.

mod common;

use std::time::Duration;

use common::{launch, Scratch};

/// Far below the 60 s the healthy ranks sleep: finishing sooner proves they were stopped.
const PROMPT: Duration = Duration::from_secs(30);

#[test]
fn all_ranks_succeeding_means_success() {
    let run = launch(&["-n", "4", "/bin/sh", "-c", "exit 0"]);
    assert_eq!(run.code(), 0);
    assert_eq!(run.stderr(), "");
}

#[test]
fn a_rank_exiting_nonzero_stops_the_others() {
    let run = launch(&[
        "-n",
        "3",
        "/bin/sh",
        "-c",
        r#"if [ "$EAU2_RANK" = 1 ]; then echo "last words" >&2; exit 3; fi; sleep 60"#,
    ]);
    let stderr = run.stderr();
    assert_eq!(run.code(), 1, "stderr: {stderr}");
    assert!(
        stderr.contains("eau2-launch: rank 1 failed: exit status 3"),
        "{stderr}"
    );
    assert!(stderr.contains("[1] last words"), "{stderr}");
    assert!(run.elapsed < PROMPT, "took {:?}", run.elapsed);
}

#[test]
fn a_rank_exiting_nonzero_fails_the_job_even_if_others_succeed() {
    let run = launch(&[
        "-n",
        "3",
        "/bin/sh",
        "-c",
        r#"[ "$EAU2_RANK" = 2 ] && exit 5; exit 0"#,
    ]);
    assert_eq!(run.code(), 1);
    assert!(run.stderr().contains("rank 2 failed: exit status 5"));
}

#[test]
fn a_rank_killed_by_a_signal_is_named_as_such() {
    let run = launch(&[
        "-n",
        "3",
        "/bin/sh",
        "-c",
        r#"if [ "$EAU2_RANK" = 2 ]; then kill -9 $$; fi; sleep 60"#,
    ]);
    let stderr = run.stderr();
    assert_eq!(run.code(), 1, "stderr: {stderr}");
    assert!(
        stderr.contains("eau2-launch: rank 2 failed: killed by signal 9 (SIGKILL)"),
        "{stderr}"
    );
    assert!(run.elapsed < PROMPT, "took {:?}", run.elapsed);
}

#[test]
fn timeout_stops_the_job_with_124() {
    let run = launch(&["-n", "2", "--timeout", "0.5", "/bin/sh", "-c", "sleep 60"]);
    let stderr = run.stderr();
    assert_eq!(run.code(), 124, "stderr: {stderr}");
    assert!(
        stderr.contains("eau2-launch: job timed out after 0.5 s; stopping 2 ranks"),
        "{stderr}"
    );
    assert!(run.elapsed < PROMPT, "took {:?}", run.elapsed);
}

#[test]
fn ranks_ignoring_sigterm_are_killed_after_the_grace_period() {
    let run = launch(&[
        "-n",
        "2",
        "--timeout",
        "0.5",
        "/bin/sh",
        "-c",
        "trap '' TERM; sleep 60",
    ]);
    assert_eq!(run.code(), 124, "stderr: {}", run.stderr());
    assert!(run.elapsed < PROMPT, "took {:?}", run.elapsed);
}

#[test]
fn processes_left_behind_by_ranks_do_not_keep_the_job_alive() {
    // The background sleep inherits the rank's stdout; unless the launcher kills it, the
    // launcher would wait for that pipe to close for a minute.
    let run = launch(&["-n", "2", "/bin/sh", "-c", "sleep 60 & echo started"]);
    assert_eq!(run.code(), 0, "stderr: {}", run.stderr());
    assert_eq!(run.stdout_lines().len(), 2);
    assert!(run.elapsed < PROMPT, "took {:?}", run.elapsed);
}

#[test]
fn a_pipe_held_open_outside_the_job_is_not_waited_for() {
    // `setsid` takes the sleep out of the job's process group, beyond the launcher's reach.
    // The rank lingers a little so that the launcher's clean-up cannot catch the sleep
    // before it has left the group.
    let run = launch(&[
        "-n",
        "1",
        "/bin/sh",
        "-c",
        "setsid sleep 8 & sleep 0.5; echo started",
    ]);
    assert_eq!(run.code(), 0, "stderr: {}", run.stderr());
    assert_eq!(run.stdout(), "[0] started\n");
    assert!(run.stderr().contains("still held open"), "{}", run.stderr());
    assert!(
        run.elapsed < Duration::from_secs(8),
        "took {:?}",
        run.elapsed
    );
}

#[test]
fn a_program_that_cannot_be_executed_is_reported() {
    let scratch = Scratch::new("noexec");
    let bogus = scratch.join("bogus");
    // Its interpreter does not exist, so exec fails. (A file in no executable format at
    // all would not do: exec falls back to running it with /bin/sh.)
    std::fs::write(&bogus, "#!/nonexistent/interpreter\n").unwrap();
    std::fs::set_permissions(&bogus, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let run = launch(&["-n", "2", bogus.to_str().unwrap()]);
    assert_eq!(run.code(), 1);
    assert!(
        run.stderr().contains("eau2-launch: cannot start rank 0"),
        "{}",
        run.stderr()
    );
}
