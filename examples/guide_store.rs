//! docs/spmd.md: the distributed key/value store and its write-once keys.
//! Run: `target/debug/eau2-launch -n 3 target/debug/examples/guide_store`

use std::process::ExitCode;

use eau2::kv::Key;

fn main() -> ExitCode {
    eau2::run(|node| {
        let (rank, n) = (node.rank(), node.size());
        let kv = node.comm().kv();

        // Each rank stores its partial result under a key homed at itself: the put is
        // local, and the value stays here until some rank asks for it.
        let partial = Key::new(format!("partial-{rank}"), rank);
        kv.put(&partial, format!("{}", (rank + 1) * 1000))?;

        if rank == 0 {
            // wait_and_get waits at the key's home until someone puts it: no barrier is
            // needed between a put on one rank and a read on another.
            let mut sum = 0u64;
            for r in 0..n {
                let bytes = kv.wait_and_get(&Key::new(format!("partial-{r}"), r))?;
                sum += std::str::from_utf8(&bytes).unwrap().parse::<u64>().unwrap();
            }
            println!("sum of {n} partial results: {sum}");

            // get does not wait: a key nobody has put reads as None.
            let nothing = kv.get(&Key::new("never-put", 0))?;
            println!("get of a key nobody put: {nothing:?}");

            // Keys are write-once. Putting the same bytes again is a no-op ...
            kv.put(&partial, "1000")?;
            // ... putting other bytes is an error, and the first value stays.
            match kv.put(&partial, "2000") {
                Ok(()) => println!("unexpected: the key was overwritten"),
                Err(e) => println!("as expected: {e}"),
            }
            let kept = kv.get(&partial)?.unwrap();
            println!("{partial} still holds {}", String::from_utf8_lossy(&kept));
        }
        Ok(())
    })
}
