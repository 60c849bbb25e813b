//! docs/spmd.md: ranks, tags and point-to-point messages.
//! Run: `target/debug/eau2-launch -n 3 target/debug/examples/guide_messages`

use std::process::ExitCode;
use std::time::Duration;

use eau2::Bytes;

/// Tags name the kinds of messages a program sends; pick one per conversation.
const GREETING: u64 = 1;
const COUNT: u64 = 2;

fn main() -> ExitCode {
    eau2::run(|node| {
        let (rank, n) = (node.rank(), node.size());

        // A ring: every rank greets its right neighbour and hears from its left one.
        let right = (rank + 1) % n;
        let left = (rank + n - 1) % n;
        let hello = Bytes::from(format!("hello from rank {rank}"));
        node.comm().send(right, GREETING, hello)?;
        let greeting = node.comm().recv(left, GREETING)?;
        let greeting = String::from_utf8_lossy(&greeting);
        println!("rank {rank} of {n} heard: {greeting}");

        // Every rank sends 0, 1, 2 to rank 0 under one tag. Rank 0 takes them as they
        // come, from any rank; from each sender they arrive in the order sent.
        for i in 0..3u32 {
            node.comm()
                .send(0, COUNT, Bytes::copy_from_slice(&i.to_le_bytes()))?;
        }
        if rank == 0 {
            let mut next = vec![0u32; n];
            for _ in 0..3 * n {
                let (from, body) = node.comm().recv_any(COUNT)?;
                let i = u32::from_le_bytes(body[..].try_into().expect("4 bytes"));
                assert_eq!(i, next[from], "messages from one sender keep their order");
                next[from] += 1;
            }
            println!("rank 0 received 0, 1, 2 from each of {n} ranks, in order");

            // Nobody sends tag 99: a receive with a deadline gives up with an error.
            match node
                .comm()
                .recv_timeout(left, 99, Duration::from_millis(200))
            {
                Ok(_) => println!("unexpected message"),
                Err(e) => println!("as expected: {e}"),
            }
        }
        Ok(())
    })
}
