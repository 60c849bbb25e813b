//! SPMD mistakes fail fast, on real processes on 127.0.0.1: ranks that call different
//! collectives (another operation, root or length, a collective under `if rank == 0`, a
//! skipped iteration) or wait for a rank that has finished its program fail every rank
//! with an error naming the ranks and their calls, instead of hanging until a timeout.
//!
//! Ranks are started without the launcher (which stops the others once one fails), so
//! that every rank's own error can be checked. Peer timeouts are long: a mistake caught
//! only by a timeout would show as a hang, which the deadline turns into a failure.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use eau2_testkit::{bin, free_port, run_with_deadline, wait_until};

/// Far longer than a mistake may take to fail, far shorter than any timeout involved.
const DEADLINE: Duration = Duration::from_secs(60);

/// How each rank of a job ended: success, and its standard error.
struct Rank {
    ok: bool,
    stderr: String,
}

/// Runs `spmd-mistake SCENARIO` on `n` ranks (without the launcher) and returns how
/// each rank ended; panics if any is still running at the deadline (after killing all).
fn job(n: usize, scenario: &str) -> Vec<Rank> {
    let master = format!("127.0.0.1:{}", free_port());
    let deadline = Instant::now() + DEADLINE;
    let mut ranks: Vec<Child> = (0..n)
        .map(|rank| {
            Command::new(bin("spmd-mistake"))
                .arg(scenario)
                .env("EAU2_RANK", rank.to_string())
                .env("EAU2_SIZE", n.to_string())
                .env("EAU2_MASTER", &master)
                .env("EAU2_TOKEN", "spmd-test")
                .env("EAU2_PEER_TIMEOUT", "600")
                .env_remove("EAU2_LOG")
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("starting a rank")
        })
        .collect();
    let mut ended = Vec::new();
    for rank in 0..n {
        let status = wait_until(&mut ranks[rank], deadline);
        let Some(status) = status else {
            for child in &mut ranks {
                let _ = child.kill();
                let _ = child.wait();
            }
            panic!("{scenario} on {n} ranks: rank {rank} still runs after {DEADLINE:?}");
        };
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut ranks[rank].stderr.take().unwrap(), &mut stderr)
            .unwrap();
        ended.push(Rank {
            ok: status.success(),
            stderr,
        });
    }
    ended
}

/// Runs a mistake on `n` ranks and checks that every rank failed with an SPMD mistake
/// whose text contains every one of `all` on every rank; returns the ranks' errors.
fn fails_everywhere(n: usize, scenario: &str, all: &[&str]) -> Vec<String> {
    let ranks = job(n, scenario);
    for (rank, r) in ranks.iter().enumerate() {
        assert!(
            !r.ok,
            "{scenario}: rank {rank} of {n} succeeded:\n{}",
            r.stderr
        );
        assert!(
            r.stderr.contains("SPMD mistake"),
            "{scenario}: rank {rank} of {n} does not report an SPMD mistake:\n{}",
            r.stderr
        );
        for want in all {
            assert!(
                r.stderr.contains(want),
                "{scenario}: rank {rank} of {n} does not say {want:?}:\n{}",
                r.stderr
            );
        }
    }
    ranks.into_iter().map(|r| r.stderr).collect()
}

#[test]
fn a_collective_on_rank_0_only_fails_every_rank_naming_the_finished_ones() {
    for n in [2, 3, 4] {
        fails_everywhere(
            n,
            "only0-all-gather",
            &["rank 0 is in all_gather(value type ", "finish #0"],
        );
        fails_everywhere(
            n,
            "only0-broadcast",
            &["broadcast(root 0, value type ", "finish #0"],
        );
        // A distributed sort: several collectives on rank 0, none on the others.
        let errors = fails_everywhere(n, "only0-sort", &["(its program has returned)"]);
        assert!(errors[0].contains("rank 0 is in"), "{}", errors[0]);
    }
}

#[test]
fn a_barrier_against_an_all_reduce_fails_every_rank() {
    for n in [2, 3, 4] {
        fails_everywhere(
            n,
            "barrier-vs-all-reduce",
            &["barrier #0", "all_reduce(value type "],
        );
    }
}

#[test]
fn broadcasts_and_gathers_from_different_roots_fail_every_rank() {
    for n in [2, 3, 4] {
        fails_everywhere(
            n,
            "broadcast-roots",
            &["broadcast(root 0) #0", "broadcast(root 1) #0"],
        );
        // Both roots only receive: nobody sends the other a message of the call.
        fails_everywhere(
            n,
            "gather-roots",
            &[
                "gather(root 0, value type u64) #0",
                "gather(root 1, value type u64) #0",
            ],
        );
    }
}

#[test]
fn all_reduce_slices_of_different_lengths_fail_every_rank() {
    for n in [2, 3, 4] {
        fails_everywhere(
            n,
            "slice-lengths",
            &[
                "all_reduce_slice(10 elements of 8 bytes) #0",
                "all_reduce_slice(11 elements of 8 bytes) #0",
            ],
        );
    }
}

#[test]
fn all_reduces_of_different_value_types_fail_every_rank() {
    for n in [2, 3, 4] {
        let errors = fails_everywhere(n, "value-types", &["all_reduce(value type "]);
        // The two calls are told apart by their value types alone.
        let line = errors[0]
            .lines()
            .find(|l| l.contains("SPMD"))
            .unwrap_or_default();
        let types: Vec<&str> = line
            .match_indices("value type ")
            .map(|(i, _)| &line[i..i + 19])
            .collect();
        assert!(types.len() == 2 && types[0] != types[1], "{line}");
    }
}

/// On a crowded job a vector's all-reduce takes the reduce + broadcast path, while a
/// number's stays with recursive doubling: a rank with the wrong type still fails with
/// the others, at once, whichever path each took.
#[test]
fn a_vector_all_reduce_against_a_number_fails_every_rank() {
    for n in [2, 3, 4] {
        fails_everywhere(n, "vector-vs-scalar", &["all_reduce(value type "]);
        fails_everywhere(n, "vector-vs-scalar-found", &["all_reduce"]);
    }
}

#[test]
fn a_rank_skipping_an_iteration_fails_every_rank_at_the_end() {
    for n in [2, 3, 4] {
        // The calls agree in kind until the skipping rank finishes one call early.
        fails_everywhere(
            n,
            "skip-one",
            &["all_reduce(value type ", ") #9", "finish #9"],
        );
    }
}

#[test]
fn a_receive_from_a_rank_that_finished_fails_naming_it() {
    for n in [2, 3, 4] {
        let ranks = job(n, "recv-from-finished");
        let err = &ranks[0].stderr;
        assert!(!ranks[0].ok, "rank 0 succeeded:\n{err}");
        assert!(
            err.contains("rank 1 is in finish #") && err.contains("waits for a message with tag 7"),
            "rank 0 of {n}:\n{err}"
        );
        for (rank, r) in ranks.iter().enumerate() {
            assert!(!r.ok, "rank {rank} of {n} succeeded:\n{}", r.stderr);
        }
    }
}

/// No false alarms: a rank late to every collective (long enough that the others ask
/// where it is) and a late point-to-point message are not mistakes.
#[test]
fn a_late_rank_is_not_a_mistake() {
    for n in [2, 3] {
        for (rank, r) in job(n, "slow").iter().enumerate() {
            assert!(r.ok, "rank {rank} of {n} failed:\n{}", r.stderr);
        }
    }
}

/// Under eau2-launch with a long --timeout, the job fails (not by the timeout) and the
/// launcher names a failing rank; the output names the ranks' calls.
#[test]
fn eau2_launch_reports_the_mistake_and_the_failing_rank() {
    let mut cmd = Command::new(bin("eau2-launch"));
    cmd.args(["--timeout", "300", "-n", "3"])
        .arg(bin("spmd-mistake"))
        .arg("only0-all-gather")
        .env_remove("EAU2_LOG");
    let out = run_with_deadline(&mut cmd, DEADLINE);
    assert_eq!(out.status.code(), Some(1), "{}\n{}", out.stdout, out.stderr);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(all.contains("eau2-launch: rank"), "{all}");
    assert!(
        all.contains("SPMD mistake") && all.contains("all_gather(value type "),
        "{all}"
    );
}

/// Ranks as threads (`run_local`): the same mistakes fail the job, not its timeout.
#[test]
fn run_local_reports_a_collective_on_one_rank_and_other_roots() {
    for n in [2, 3, 4] {
        let job = eau2::Local::new(n).timeout(Duration::from_secs(120));
        let err = job
            .run(|node| {
                if node.rank() == 0 {
                    node.comm().all_gather(1u64)?;
                }
                Ok(())
            })
            .expect_err("a collective on rank 0 only must fail");
        let text = err.to_string();
        assert!(
            text.contains("SPMD mistake") && text.contains("all_gather(value type u64) #0"),
            "{n} ranks: {text}"
        );
        let err = eau2::Local::new(n)
            .timeout(Duration::from_secs(120))
            .run(|node| Ok(node.comm().gather(node.rank() % 2, 1u64).map(|_| ())?))
            .expect_err("gathers at two roots must fail");
        assert!(
            err.to_string()
                .contains("gather(root 1, value type u64) #0"),
            "{n} ranks: {err}"
        );
    }
}
