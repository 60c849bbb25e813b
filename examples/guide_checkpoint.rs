//! docs/failures.md: a loop that resumes from its latest checkpoint when
//! `eau2-launch --tolerate K` restarts the job after a lost rank.
//! Run: `target/debug/eau2-launch --tolerate 1 -n 3 target/debug/examples/guide_checkpoint`

use std::process::ExitCode;

fn main() -> ExitCode {
    eau2::run(|node| {
        // (next iteration, running total): the state each rank saves.
        let (start, mut total): (u64, u64) = node.restore()?.unwrap_or((0, 0));
        for i in start..1000 {
            total += node.comm().all_reduce(i, |a, b| a + b)?;
            node.checkpoint(&(i + 1, total))?;
        }
        if node.rank() == 0 {
            println!("total {total}");
        }
        Ok(())
    })
}
