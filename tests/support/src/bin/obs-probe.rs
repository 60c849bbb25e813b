//! A probe program for the observability tests (`tests/observability.rs`). Run on N
//! ranks through eau2-launch as `obs-probe SCENARIO`:
//! - `progress`: every rank counts progress for a while, printing numbered lines on
//!   stdout and stderr meanwhile, so rank 0's bar and the ranks' lines interleave;
//! - `traffic`: messages, collectives and store puts and gets between all ranks, for
//!   the statistics and the log spans;
//! - `gauges`: every rank publishes a gauge, and rank 0 checks the sum once a gather
//!   (whose messages follow the gauges' on each link) has arrived.
//!
//! It takes the apps' `--quiet` and `--stats`. Rank 0 prints `SCENARIO ok` at the end.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use eau2::kv::Key;
use eau2::progress::Progress;
use eau2::{Bytes, Error, Node, Result};

/// Steps of the progress scenario, each 15 ms long.
const STEPS: u64 = 40;

/// The probe's command line.
#[derive(Parser)]
struct Args {
    /// `progress` or `traffic`.
    scenario: String,
    #[command(flatten)]
    console: eau2_console::ConsoleArgs,
}

fn main() -> ExitCode {
    let args = Args::parse();
    args.console.install();
    let scenario = args.scenario;
    eau2::run(|node| {
        match scenario.as_str() {
            "progress" => progress(node)?,
            "traffic" => traffic(node)?,
            "gauges" => gauges(node)?,
            other => return Err(Error::Config(format!("unknown scenario {other:?}"))),
        }
        if node.rank() == 0 {
            println!("{scenario} ok");
        }
        Ok(())
    })
}

fn progress(node: &Node) -> Result<()> {
    let work = Progress::bytes(node, "probe", STEPS * node.size() as u64 * 1000);
    for i in 0..STEPS {
        work.add(1000);
        println!("out {i} of rank {}", node.rank());
        eprintln!("err {i} of rank {}", node.rank());
        std::thread::sleep(Duration::from_millis(15));
    }
    work.finish();
    Ok(node.comm().barrier()?)
}

fn gauges(node: &Node) -> Result<()> {
    let n = node.size() as u64;
    for round in 1..=3u64 {
        // Two gauges at once: rank 0 keeps each rank's latest two.
        let (a, b) = (node.comm().new_gauge(), node.comm().new_gauge());
        a.publish(round * (node.rank() as u64 + 1))?;
        b.publish(7)?;
        // Links are FIFO: once rank 0 has every rank's gather message, it has their
        // gauge updates too.
        node.comm().gather(0, ())?;
        if node.rank() == 0 {
            let want = (round * n * (n + 1) / 2, 7 * n);
            if (a.total(), b.total()) != want {
                return Err(Error::App(format!(
                    "round {round}: rank 0 sums {} and {} where every rank's values make {want:?} ({a:?})",
                    a.total(),
                    b.total(),
                )));
            }
        }
        // No rank starts the next round before rank 0 has checked this one.
        node.comm().barrier()?;
    }
    Ok(())
}

fn traffic(node: &Node) -> Result<()> {
    let (rank, n) = (node.rank(), node.size());
    // A ring of user messages of different sizes.
    for round in 0..5usize {
        let body = Bytes::from(vec![rank as u8; 1000 * (round + 1) * (rank + 1)]);
        node.comm().send((rank + 1) % n, 9, body)?;
        node.comm().recv((rank + n - 1) % n, 9)?;
    }
    // Collectives.
    let sum = node.comm().all_reduce(rank as u64, |a, b| a + b)?;
    assert_eq!(sum, (n * (n - 1) / 2) as u64);
    // An encoded (not plain) value: its span learns its size only once it is encoded
    // or has arrived (a 4-byte length and 50 bytes).
    let said = node
        .comm()
        .broadcast(0, (rank == 0).then(|| "hello".repeat(10)))?;
    assert_eq!(said.len(), 50);
    let mut words = vec![rank as u64; 10_000];
    node.comm().all_reduce_slice(&mut words, |a, b| {
        a.iter_mut().zip(b).for_each(|(x, y)| *x |= y)
    })?;
    node.comm().all_to_all_bytes(
        (0..n)
            .map(|to| Bytes::from(vec![0u8; 100 * (to + 1)]))
            .collect(),
    )?;
    // The store: each rank puts a value homed at the next and reads the previous one's.
    let key = |r: usize| Key::new(format!("obs/{r}"), (r + 1) % n);
    node.comm().kv().put(&key(rank), vec![7u8; 5000 + rank])?;
    let got = node.comm().kv().wait_and_get(&key((rank + n - 1) % n))?;
    assert_eq!(got.len(), 5000 + (rank + n - 1) % n);
    Ok(node.comm().barrier()?)
}
