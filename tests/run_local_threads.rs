//! `run_local` leaves no thread behind, whether the job succeeds or fails.
//!
//! Alone in its test binary, so that no other test's threads move the count.

use std::time::{Duration, Instant};

use eau2::frame::DataFrame;
use eau2::kv::Key;
use eau2::table::DistFrame;
use eau2::{run_local, Error};

/// This process's thread count, from /proc/self/status.
fn threads() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("a Threads: line")
}

/// A job that uses the network, the store and rayon (through `publish`).
fn job(fail_at: Option<usize>) -> eau2::Result<Vec<u64>> {
    run_local(4, move |node| {
        let key = Key::new("t", 0);
        if node.rank() == 0 {
            DistFrame::publish(node, &key, &DataFrame::from_array(&[1i32, 2, 3]))?;
        }
        DistFrame::get(node, &key)?;
        if Some(node.rank()) == fail_at {
            return Err(Error::App("planned".into()));
        }
        Ok(node.comm().all_reduce(1u64, |a, b| a + b)?)
    })
}

#[test]
fn no_thread_is_left_behind() {
    // The first job starts rayon's global pool, which lives as long as the process.
    job(None).unwrap();
    let baseline = threads();
    assert_eq!(job(None).unwrap(), vec![4; 4]);
    assert!(job(Some(2)).is_err());
    assert!(job(Some(0)).is_err());
    // A job stopped by its timeout: every rank waits for a message never sent.
    let stopped = eau2::Local::new(3)
        .timeout(Duration::from_secs(1))
        .run(|node| Ok(node.comm().recv((node.rank() + 1) % 3, 9)?.len()));
    assert!(stopped.is_err());
    let deadline = Instant::now() + Duration::from_secs(30);
    while threads() != baseline && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(threads(), baseline, "threads left behind");
}
