//! The cluster runtime across real processes on 127.0.0.1, through eau2-launch.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use eau2_testkit::{bin, free_port, launch, launch_probe, run_with_deadline, Finished};

const DEADLINE: Duration = Duration::from_secs(120);

fn check(n: usize, args: &[&str]) -> Finished {
    launch_probe(n, &bin("cluster-check"), args, &[], DEADLINE)
}

#[test]
fn put_and_get_across_ranks() {
    for n in [1, 2, 4, 8] {
        check(n, &["kv"]);
    }
}

#[test]
fn wait_and_get_issued_before_the_put() {
    for n in [1, 2, 4, 8] {
        check(n, &["wait"]);
    }
}

#[test]
fn a_256_mib_value_crosses_the_network() {
    check(2, &["big", "256"]);
}

#[test]
fn many_concurrent_gets() {
    for n in [2, 4] {
        check(n, &["concurrent"]);
    }
}

#[test]
fn every_collective_for_any_size() {
    for n in [1, 2, 3, 4, 8] {
        check(n, &["collectives"]);
    }
}

#[test]
fn distributed_frames_for_any_size() {
    let dir = std::env::temp_dir().join(format!("eau2-frames-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sor = dir.join("rows.sor");
    let text: String = (0..30_000)
        .map(|i| format!("<{i}> <\"w{i}\"> <{}>\n", i as f32 * 0.5))
        .collect();
    std::fs::write(&sor, text).unwrap();
    for n in [1, 2, 3, 4] {
        check(n, &["frames", sor.to_str().unwrap()]);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_rank_that_panics_fails_the_job_quickly_and_is_named() {
    let out = launch(4, &bin("cluster-check"), &["panic", "2"], DEADLINE);
    assert!(!out.status.success(), "job succeeded:\n{}", out.stderr);
    assert!(
        out.stderr.contains("rank 2"),
        "the failed rank is not named:\n{}",
        out.stderr
    );
    // Generous bound: the job must end by itself, not by the test's deadline.
    assert!(
        out.elapsed < Duration::from_secs(30),
        "took {:?}",
        out.elapsed
    );
}

/// Runs rank `rank` of a job of `size` alone, with a rendezvous deadline of 1 s. Rank 0
/// listens on a port of its own choosing (a port picked beforehand could be taken by a
/// concurrent test before rank 0 binds it); other ranks get an address where nobody
/// listens.
fn lone_rank(rank: usize, size: usize) -> Finished {
    let master = if rank == 0 {
        "127.0.0.1:0".to_string()
    } else {
        format!("127.0.0.1:{}", free_port())
    };
    let mut cmd = Command::new(bin("cluster-check"));
    cmd.arg("kv")
        .env("EAU2_RANK", rank.to_string())
        .env("EAU2_SIZE", size.to_string())
        .env("EAU2_MASTER", master)
        .env("EAU2_TOKEN", "t")
        .env("EAU2_RENDEZVOUS_TIMEOUT", "1");
    run_with_deadline(&mut cmd, DEADLINE)
}

#[test]
fn a_missing_rank_fails_rendezvous_naming_it() {
    // Only rank 0 of a job of 3 is started.
    let out = lone_rank(0, 3);
    assert!(!out.status.success());
    assert!(
        out.stderr.contains("ranks 1, 2 never arrived"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_worker_without_its_master_fails_rendezvous() {
    let out = lone_rank(1, 2);
    assert!(!out.status.success());
    assert!(
        out.stderr.contains("could not reach the master"),
        "{}",
        out.stderr
    );
}

#[test]
fn other_launchers_variables_start_a_job_without_eau2_launch() {
    for (rank_var, size_var) in [
        ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"),
        ("PMI_RANK", "PMI_SIZE"),
        ("SLURM_PROCID", "SLURM_NTASKS"),
    ] {
        let master = format!("127.0.0.1:{}", free_port());
        let deadline = Instant::now() + DEADLINE;
        let mut ranks: Vec<_> = (0..3)
            .map(|rank| {
                Command::new(bin("cluster-check"))
                    .arg("collectives")
                    .env(rank_var, rank.to_string())
                    .env(size_var, "3")
                    .env("EAU2_MASTER", &master)
                    .env_remove("EAU2_RANK")
                    .stdout(std::process::Stdio::piped())
                    .spawn()
                    .expect("starting a rank")
            })
            .collect();
        for (rank, child) in ranks.iter_mut().enumerate() {
            let status = eau2_testkit::wait_until(child, deadline)
                .unwrap_or_else(|| panic!("rank {rank} under {rank_var} did not finish"));
            assert!(status.success(), "rank {rank} under {rank_var}: {status}");
        }
        let mut out = String::new();
        ranks[0]
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out.trim(), "collectives ok", "under {rank_var}");
    }
}

/// Encodes the start of a frame the way the runtime does: the 13-byte prefix (header
/// length, body length, body alignment 0: bytes), a speedy header, and zeros up to a
/// multiple of 64 bytes.
fn frame(header: &[u8], body_len: u64) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&(header.len() as u32).to_le_bytes());
    f.extend_from_slice(&body_len.to_le_bytes());
    f.push(0);
    f.extend_from_slice(header);
    f.resize(f.len().next_multiple_of(64), 0);
    f
}

/// The header of a `PeerHello { rank, token, job_id }` (variant 3 of the control enum),
/// with an empty job id.
fn peer_hello(rank: u32, token: &str) -> Vec<u8> {
    let mut h = vec![3u8];
    h.extend_from_slice(&rank.to_le_bytes());
    h.extend_from_slice(&(token.len() as u32).to_le_bytes());
    h.extend_from_slice(token.as_bytes());
    h.extend_from_slice(&0u32.to_le_bytes());
    h
}

/// Sends `bytes` to `addr` and waits (with a deadline) for the server to close.
fn expect_rejected(addr: &str, bytes: &[u8]) {
    let mut s = TcpStream::connect(addr).expect("connecting to rank 0");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(bytes).expect("sending to rank 0");
    let mut buf = [0u8; 64];
    match s.read(&mut buf) {
        Ok(0) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        other => panic!("rank 0 did not close a bad connection: {other:?}"),
    }
}

#[test]
fn bad_tokens_and_oversized_frames_are_rejected_without_harm() {
    let port = free_port();
    let master = format!("127.0.0.1:{port}");
    let dir = std::env::temp_dir().join(format!("eau2-strangers-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (ready, go) = (dir.join("ready"), dir.join("go"));
    let mut cmd = Command::new(bin("eau2-launch"));
    cmd.args(["-n", "3", "--master", &master])
        .arg(bin("cluster-check"))
        .args(["strangers", ready.to_str().unwrap(), go.to_str().unwrap()]);
    let job = std::thread::spawn(move || run_with_deadline(&mut cmd, DEADLINE));

    // Rank 0 writes `ready` once rendezvous is over; it keeps listening on the master
    // address for the job's whole life.
    let started = Instant::now();
    while !ready.exists() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "rank 0 never became ready"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    drop(TcpStream::connect(&master).expect("connecting to rank 0")); // a silent stranger
    expect_rejected(&master, &frame(&peer_hello(1, "wrong-token"), 0));
    expect_rejected(&master, &frame(&[0xff; 8], 1 << 40));
    expect_rejected(&master, &frame(&[0xee; 5], 0));
    std::fs::write(&go, b"go").unwrap();

    let out = job.join().expect("job thread");
    let _ = std::fs::remove_dir_all(&dir);
    out.assert_success();
    assert!(out.stdout.contains("strangers ok"), "{}", out.stdout);
    assert!(out.stderr.contains("wrong job token"), "{}", out.stderr);
    assert!(out.stderr.contains("exceeds the limit"), "{}", out.stderr);
}
