//! The SPMD program shown in README.md, kept here so that `cargo test` compiles it:
//! `eau2-launch -n 3 target/debug/examples/readme`.

use std::process::ExitCode;

fn main() -> ExitCode {
    eau2::run(|node| {
        let sum = node.comm().all_reduce(node.rank() as u64, |a, b| a + b)?;
        // A ring: each rank greets its right neighbour and hears from its left.
        let (rank, n) = (node.rank(), node.size());
        let (right, left) = ((rank + 1) % n, (rank + n - 1) % n);
        node.comm()
            .send(right, 7, eau2::Bytes::from(format!("hello from {rank}")))?;
        let greeting = node.comm().recv(left, 7)?;
        if node.rank() == 0 {
            println!("{} ranks, sum of ranks {sum}", node.size());
            println!("{}", String::from_utf8_lossy(&greeting));
        }
        Ok(())
    })
}
