//! A probe program for SPMD mistakes: ranks that call different collectives, or wait for
//! a rank that has finished. Run on N ranks as `spmd-mistake SCENARIO`; every scenario
//! but `slow` is a mistake that must fail every rank at once, naming the ranks and their
//! calls. `slow` is correct (one rank arrives late at each collective) and must succeed;
//! rank 0 then prints `slow ok`.

use std::process::ExitCode;
use std::time::Duration;

use eau2::kv::Key;
use eau2::table::DistFrame;
use eau2::{Bytes, Error, Node, Result};
use eau2_testkit::ops_data::{facts, frame_of, part};

fn main() -> ExitCode {
    let Some(scenario) = std::env::args().nth(1) else {
        eprintln!("usage: spmd-mistake SCENARIO");
        return ExitCode::from(2);
    };
    if scenario == "vector-vs-scalar" {
        // Crowded by decree: no layout step. `vector-vs-scalar-found` lets the ranks find
        // out, and on a crowded machine the vector's rank is in the layout step while
        // the others are in the all-reduce itself.
        std::env::set_var("EAU2_CROWDED", "1");
    }
    eau2::run(|node| {
        let rank = node.rank();
        match scenario.as_str() {
            // A collective under `if rank == 0`; the others go straight to the end.
            "only0-sort" => {
                let frame = load(node)?;
                if rank == 0 {
                    frame.sort_by(&["k"], &[false])?;
                }
            }
            "only0-all-gather" => {
                if rank == 0 {
                    node.comm().all_gather(7u64)?;
                }
            }
            "only0-broadcast" => {
                if rank == 0 {
                    node.comm().broadcast(0, Some(7u64))?;
                }
            }
            // Rank 0 in a barrier, the others in an all-reduce.
            "barrier-vs-all-reduce" => {
                if rank == 0 {
                    node.comm().barrier()?;
                } else {
                    node.comm().all_reduce(1u64, |a, b| a + b)?;
                }
            }
            // Odd ranks broadcast from rank 1, even ones from rank 0.
            "broadcast-roots" => {
                let root = rank % 2;
                node.comm()
                    .broadcast_bytes(root, Bytes::from_static(b"value"))?;
            }
            // Odd ranks gather at rank 1, even ones at rank 0: the two roots only wait.
            "gather-roots" => {
                node.comm().gather(rank % 2, rank as u64)?;
            }
            // The last rank passes a longer vector.
            "slice-lengths" => {
                let len = if rank + 1 == node.size() { 11 } else { 10 };
                let mut data = vec![1u64; len];
                node.comm().all_reduce_slice(&mut data, |a, b| {
                    a.iter_mut().zip(b).for_each(|(x, y)| *x += y)
                })?;
            }
            // Rank 0 sums u64 values, the others u32 ones.
            "value-types" => {
                if rank == 0 {
                    node.comm().all_reduce(1u64, |a, b| a + b)?;
                } else {
                    node.comm().all_reduce(1u32, |a, b| a + b)?;
                }
            }
            // Rank 0 all-reduces a vector, the others a number.
            "vector-vs-scalar" | "vector-vs-scalar-found" => {
                if rank == 0 {
                    node.comm().all_reduce(vec![1u64; 4], |a, _| a)?;
                } else {
                    node.comm().all_reduce(1u64, |a, b| a + b)?;
                }
            }
            // The last rank skips one iteration of a loop of all-reduces.
            "skip-one" => {
                for i in 0..10 {
                    if rank + 1 == node.size() && i == 5 {
                        continue;
                    }
                    node.comm().all_reduce(i as u64, |a, b| a + b)?;
                }
            }
            // Rank 0 waits for a point-to-point message that rank 1 never sends.
            "recv-from-finished" => {
                if rank == 0 {
                    node.comm().recv(1, 7)?;
                }
            }
            // Correct, but the last rank comes late to each call, so that the others'
            // waits outlast the time after which they ask where it is.
            "slow" => {
                let late = || {
                    if rank + 1 == node.size() {
                        std::thread::sleep(Duration::from_millis(600));
                    }
                };
                late();
                let all = node.comm().gather(0, rank as u64)?;
                if rank == 0 && all != Some((0..node.size() as u64).collect()) {
                    return Err(Error::App(format!("slow: gathered {all:?}")));
                }
                late();
                let sum = node.comm().all_reduce(rank as u64, |a, b| a + b)?;
                let n = node.size() as u64;
                if sum != n * (n - 1) / 2 {
                    return Err(Error::App(format!("slow: sum {sum}")));
                }
                late();
                if rank == 1 {
                    node.comm().send(0, 3, Bytes::from_static(b"late"))?;
                }
                if rank == 0 {
                    node.comm().recv(1, 3)?;
                }
                late();
                if rank == 0 {
                    println!("slow ok");
                }
            }
            other => return Err(Error::Config(format!("unknown scenario {other:?}"))),
        }
        Ok(())
    })
}

/// This rank's share of a small seeded table, as one distributed frame.
fn load(node: &Node) -> Result<DistFrame<'_>> {
    let (schema, table) = facts(3, 200);
    let mine = part(node.rank(), node.size(), table.len());
    let local = frame_of(&schema, &table[mine], 16);
    DistFrame::from_local_parts(node, &Key::new("facts", 0), &local)
}
