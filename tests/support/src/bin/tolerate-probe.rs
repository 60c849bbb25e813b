//! A probe program for `eau2-launch --tolerate` (tests/tolerate.rs). Run on N ranks as
//! `tolerate-probe loop ITERS`: a hand-written SPMD loop of ITERS all-reduces. Every
//! rank prints `rank R iter I sum S` on stdout for each iteration, and rank 0 prints
//! `loop ok HASH` at the end (HASH folds every sum); each rank says `rank R epoch E` on
//! stderr as it starts, so a test can see which attempt it is. A test kills or freezes a
//! rank at a chosen collective call with `EAU2_TEST_FAULT` and checks that the job's
//! stdout equals a fault-free run's.
//!
//! `tolerate-probe ckpt ITERS`: the same loop, resumable: it starts from
//! `node.restore()` (saying `rank R resumes at I` on stderr) and saves
//! `node.checkpoint(&(i + 1, hash))` after each iteration (3 collective calls an
//! iteration: the all-reduce and the checkpoint's two). Only rank 0 prints, at the end:
//! `ckpt ok HASH`, the same whatever attempt the iterations ran in.

use std::process::ExitCode;

use eau2::Error;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let parsed = match (args.first().map(String::as_str), args.get(1)) {
        (Some(mode @ ("loop" | "ckpt")), Some(n)) => n.parse::<u64>().ok().map(|n| (mode, n)),
        _ => None,
    };
    let Some((mode, iters)) = parsed else {
        eprintln!("usage: tolerate-probe loop|ckpt ITERS");
        return ExitCode::from(2);
    };
    let resumable = mode == "ckpt";
    eau2::run(|node| {
        eprintln!("rank {} epoch {}", node.rank(), node.epoch());
        let (start, mut hash): (u64, u64) = match resumable {
            true => node.restore()?.unwrap_or((0, 0)),
            false => (0, 0),
        };
        if resumable {
            eprintln!("rank {} resumes at {start}", node.rank());
        }
        for i in start..iters {
            let mine = (node.rank() as u64 + 1) * (i + 1);
            let sum = node.comm().all_reduce(mine, |a, b| a + b)?;
            let n = node.size() as u64;
            if sum != (i + 1) * n * (n + 1) / 2 {
                return Err(Error::App(format!("iteration {i}: sum {sum} is wrong")));
            }
            hash = hash.wrapping_mul(31).wrapping_add(sum);
            if resumable {
                node.checkpoint(&(i + 1, hash))?;
            } else {
                println!("rank {} iter {i} sum {sum}", node.rank());
            }
        }
        if node.rank() == 0 {
            println!("{mode} ok {hash}");
        }
        Ok(())
    })
}
