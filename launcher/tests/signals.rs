//! Signals sent to the launcher reach every rank, and the exit status tells which it was.

mod common;

use common::Running;

/// Each rank announces its trap, then waits; the trap writes a marker and exits 0.
fn trapping(signal: &str) -> String {
    format!(
        r#"trap 'echo "caught {signal} $EAU2_RANK"; exit 0' {signal}
           echo "ready $EAU2_RANK"
           sleep 60 & wait
           echo "not interrupted $EAU2_RANK""#
    )
}

/// Starts N trapping ranks, signals the launcher once all are ready, and checks the result.
fn forwards(signal_name: &str, signal: libc::c_int, expected_code: i32) {
    const N: usize = 3;
    let script = trapping(signal_name);
    let mut job = Running::start(&["-n", &N.to_string(), "/bin/sh", "-c", &script]);
    job.wait_for_lines(N, |l| l.contains("] ready "));
    job.signal(signal);
    let (status, lines, stderr) = job.finish();
    assert_eq!(status.code(), Some(expected_code), "stderr: {stderr}");
    for rank in 0..N {
        let marker = format!("[{rank}] caught {signal_name} {rank}");
        assert!(lines.contains(&marker), "no {marker:?} in {lines:?}");
    }
    assert!(
        !lines.iter().any(|l| l.contains("not interrupted")),
        "{lines:?}"
    );
    assert!(
        stderr.contains(&format!(
            "caught SIG{signal_name}; forwarding it to {N} ranks"
        )),
        "{stderr}"
    );
}

#[test]
fn sigterm_is_forwarded_and_exits_143() {
    forwards("TERM", libc::SIGTERM, 143);
}

#[test]
fn sigint_is_forwarded_and_exits_130() {
    forwards("INT", libc::SIGINT, 130);
}

#[test]
fn ranks_ignoring_a_forwarded_signal_are_still_stopped() {
    let script = r#"trap '' INT; echo "ready $EAU2_RANK"; sleep 60"#;
    let mut job = Running::start(&["-n", "2", "/bin/sh", "-c", script]);
    job.wait_for_lines(2, |l| l.contains("] ready "));
    let started = std::time::Instant::now();
    job.signal(libc::SIGINT);
    let (status, _, stderr) = job.finish();
    assert_eq!(status.code(), Some(130), "stderr: {stderr}");
    // SIGKILL after the grace period, long before the ranks' sleep would end.
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
}

/// Whether process `pid` has terminated (gone, or a zombie nobody has reaped yet).
#[cfg(target_os = "linux")]
fn is_dead(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the parenthesized command name, which may itself hold spaces.
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with(['Z', 'X'])),
        Err(_) => true,
    }
}

#[cfg(target_os = "linux")]
#[test]
fn ranks_die_with_a_launcher_killed_outright() {
    use std::time::{Duration, Instant};

    // `exec` makes the rank itself the sleeper, so its death is what is observed.
    let script = r#"echo "pid $$"; exec sleep 60"#;
    let mut job = Running::start(&["-n", "2", "/bin/sh", "-c", script]);
    job.wait_for_lines(2, |l| l.contains("] pid "));
    let pids: Vec<u32> = job
        .seen()
        .iter()
        .filter_map(|l| l.rsplit_once(' ').and_then(|(_, p)| p.parse().ok()))
        .collect();
    assert_eq!(pids.len(), 2, "{:?}", job.seen());

    // SIGKILL leaves the launcher no chance to clean up; the parent-death signal must.
    job.signal(libc::SIGKILL);
    let (status, _, _) = job.finish();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(libc::SIGKILL)
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while !pids.iter().all(|&pid| is_dead(pid)) {
        assert!(
            Instant::now() < deadline,
            "ranks {pids:?} outlived the launcher"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
