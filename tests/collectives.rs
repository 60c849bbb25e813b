//! The message plane and the collectives across real processes on 127.0.0.1: every
//! collective against a sequential fold on random inputs for 1 to 8 ranks, message
//! order, the receiver's memory bound, and ranks dying in the middle of a collective.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use eau2_testkit::{bin, free_port, launch, launch_probe, wait_until, Finished};

const DEADLINE: Duration = Duration::from_secs(180);

fn comm_check(n: usize, args: &[&str], env: &[(&str, &str)]) -> Finished {
    launch_probe(n, &bin("comm-check"), args, env, DEADLINE)
}

#[test]
fn every_collective_matches_a_sequential_fold_for_1_to_8_ranks() {
    for n in 1..=8 {
        for seed in [1, 2] {
            comm_check(n, &["collectives", &(seed * 1000 + n).to_string()], &[]);
        }
    }
}

/// With a 4 KiB window nearly every message waits for credit: no collective may
/// deadlock on its own flow control.
#[test]
fn every_collective_completes_when_windows_are_tiny() {
    for n in [2, 3, 5, 8] {
        comm_check(
            n,
            &["collectives", &(77 + n).to_string()],
            &[("EAU2_MSG_WINDOW", "4096")],
        );
    }
}

/// The network thread's polling after data (`EAU2_NET_POLL_US`) only decides when it
/// looks at the sockets: with it off, and with it long enough to cover every wait of a
/// run, results are the same.
#[test]
fn collectives_and_order_hold_with_network_polling_off_and_long() {
    for poll_us in ["0", "100000"] {
        for n in [2, 5] {
            let env = [("EAU2_NET_POLL_US", poll_us)];
            comm_check(n, &["collectives", &(31 + n).to_string()], &env);
            comm_check(n, &["ordering"], &env);
        }
    }
}

/// Typed collectives of plain vectors (which travel as their bytes) of every primitive
/// number type, at 0, 1, odd and 1 MiB+ lengths, different on different ranks, give
/// what the same computation gives locally.
#[test]
fn typed_collectives_of_plain_vectors_round_trip_every_type_and_length() {
    for n in 1..=5 {
        launch_probe(
            n,
            &bin("typed-check"),
            &["plain", &n.to_string()],
            &[],
            DEADLINE,
        );
    }
    // And when nearly every message waits for flow-control credit.
    let tiny = [("EAU2_MSG_WINDOW", "4096")];
    launch_probe(4, &bin("typed-check"), &["plain", "9"], &tiny, DEADLINE);
}

/// A typed all-reduce of plain vectors goes by recursive doubling, or on a crowded job
/// (more ranks than CPUs on a machine) by reduce + broadcast: both keep rank order
/// (the concatenation check) and agree with a local computation, whatever this
/// machine's CPUs would choose.
#[test]
fn typed_all_reduce_agrees_crowded_or_not() {
    for crowded in ["0", "1"] {
        for n in [3, 4, 5] {
            let env = [("EAU2_CROWDED", crowded)];
            launch_probe(n, &bin("typed-check"), &["plain", "7"], &env, DEADLINE);
        }
    }
}

/// A rank receiving a `Vec<u64>` that another broadcast as a `Vec<u32>` fails with an
/// error naming the value types, instead of reading the bytes as the wrong type.
#[test]
fn a_wrong_typed_receive_is_an_error_naming_the_types() {
    for n in [2, 3] {
        let out = launch(n, &bin("typed-check"), &["wrong-type"], DEADLINE);
        let all = format!("{}\n{}", out.stdout, out.stderr);
        assert!(!out.status.success(), "the job succeeded:\n{all}");
        assert!(!all.contains("without an error"), "{all}");
        assert!(!all.contains("went unnoticed"), "{all}");
        assert!(
            all.contains("value type alloc::vec::Vec<u64>") && all.contains("broadcast(root 0"),
            "the error does not name the broadcast and its value type:\n{all}"
        );
    }
}

/// An element-wise all-reduce where one rank passes a longer vector fails on every
/// rank, naming the call and both lengths, instead of combining a prefix.
#[test]
fn an_elementwise_all_reduce_of_different_lengths_is_an_error() {
    for n in [2, 3] {
        let out = launch(n, &bin("typed-check"), &["wrong-length"], DEADLINE);
        let all = format!("{}\n{}", out.stdout, out.stderr);
        assert!(!out.status.success(), "the job succeeded:\n{all}");
        assert!(!all.contains("without an error"), "{all}");
        assert!(!all.contains("went unnoticed"), "{all}");
        assert!(
            all.contains("all_reduce_elementwise(5 elements")
                && all.contains("all_reduce_elementwise(4 elements"),
            "the error does not name the call and both lengths:\n{all}"
        );
    }
}

#[test]
fn messages_arrive_in_order_per_sender_and_tag() {
    for n in [2, 3, 4] {
        comm_check(n, &["ordering"], &[]);
    }
}

#[test]
fn a_receiver_holds_no_more_than_its_windows() {
    // 200 messages of 256 KiB from each sender against a 1 MiB window.
    for n in [2, 4] {
        let out = comm_check(n, &["bounded"], &[("EAU2_MSG_WINDOW", "1048576")]);
        assert!(out.stdout.contains("peak unconsumed"), "{}", out.stdout);
    }
}

/// Starts a job of `n` ranks of `comm-check die VICTIM` without the launcher (which would
/// stop the others itself), and returns each rank's exit status and standard error.
fn die_without_launcher(n: usize, victim: usize) -> Vec<(bool, String)> {
    let master = format!("127.0.0.1:{}", free_port());
    let deadline = Instant::now() + DEADLINE;
    let mut ranks: Vec<_> = (0..n)
        .map(|rank| {
            Command::new(bin("comm-check"))
                .args(["die", &victim.to_string()])
                .env("EAU2_RANK", rank.to_string())
                .env("EAU2_SIZE", n.to_string())
                .env("EAU2_MASTER", &master)
                .env("EAU2_TOKEN", "die-test")
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("starting a rank")
        })
        .collect();
    ranks
        .iter_mut()
        .enumerate()
        .map(|(rank, child)| {
            let status = wait_until(child, deadline)
                .unwrap_or_else(|| panic!("rank {rank} hung after rank {victim} died"));
            let mut err = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
            (status.success(), err)
        })
        .collect()
}

#[test]
fn a_rank_dying_mid_collective_fails_every_rank_naming_it() {
    for (n, victim) in [(2, 1), (4, 0), (4, 2), (5, 4), (8, 5)] {
        let ranks = die_without_launcher(n, victim);
        for (rank, (ok, err)) in ranks.iter().enumerate() {
            assert!(
                !ok,
                "rank {rank} of {n} succeeded although rank {victim} died"
            );
            if rank != victim {
                assert!(
                    err.contains(&format!("rank {victim} is gone")),
                    "rank {rank} of {n} does not name rank {victim}:\n{err}"
                );
            }
        }
    }
}
