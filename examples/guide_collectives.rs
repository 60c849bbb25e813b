//! docs/spmd.md: every collective once. Every rank makes the same calls in the same order.
//! Run: `target/debug/eau2-launch -n 3 target/debug/examples/guide_collectives`
//! Test (ranks as threads, no launcher): `cargo test --example guide_collectives`

use std::process::ExitCode;

use eau2::Node;

fn main() -> ExitCode {
    eau2::run(|node| {
        for line in collectives(node)? {
            println!("{line}");
        }
        Ok(())
    })
}

/// The program, apart from `main` so that tests can run it: rank 0 returns the lines
/// to print, the other ranks none.
fn collectives(node: &Node) -> eau2::Result<Vec<String>> {
    let (rank, n) = (node.rank() as u64, node.size());
    let mut lines: Vec<String> = Vec::new();

    // barrier: nobody goes on until everyone has arrived.
    node.comm().barrier()?;

    // broadcast: rank 0 decides, everyone learns. Only the root's value is used.
    let setting = (rank == 0).then(|| String::from("chunk-rows=65536"));
    let setting: String = node.comm().broadcast(0, setting)?;
    lines.push(format!("broadcast: {setting}"));

    // all_reduce: combine one value per rank; every rank gets the result.
    let total = node.comm().all_reduce(rank + 1, |a, b| a + b)?;
    lines.push(format!("all_reduce of rank + 1: {total}"));

    // reduce: the same, but only the root gets it (Some), the others get None.
    let max = node.comm().reduce(0, rank * 10, |a, b| a.max(b))?;
    lines.push(format!("reduce (max of rank * 10) at rank 0: {max:?}"));

    // all_reduce_slice: element-wise over a plain vector, in place, on every rank.
    let mut histogram = vec![0u64; 4];
    histogram[rank as usize % 4] += 1;
    node.comm().all_reduce_slice(&mut histogram, |acc, other| {
        acc.iter_mut().zip(other).for_each(|(a, b)| *a += b)
    })?;
    lines.push(format!("all_reduce_slice of rank % 4: {histogram:?}"));

    // all_gather: one value from every rank, in rank order, on every rank.
    let squares: Vec<u64> = node.comm().all_gather(rank * rank)?;
    lines.push(format!("all_gather of rank^2: {squares:?}"));

    // scatter: rank 0 hands element i to rank i.
    let work = (rank == 0).then(|| (0..n as u64).map(|i| 100 * i).collect());
    let mine: u64 = node.comm().scatter(0, work)?;

    // all_to_all: element i goes to rank i; element j of the result came from rank j.
    let outgoing: Vec<String> = (0..n).map(|to| format!("{rank}->{to}")).collect();
    let incoming: Vec<String> = node.comm().all_to_all(outgoing)?;

    // scan / exclusive_scan: prefix sums, e.g. where each rank's rows start.
    let my_rows = 10 * (rank + 1);
    let end = node.comm().scan(my_rows, |a, b| a + b)?;
    let start = node
        .comm()
        .exclusive_scan(my_rows, |a, b| a + b)?
        .unwrap_or(0);

    // gather: one line from every rank, collected at rank 0 (the others get None).
    let mine = format!(
        "rank {rank}: scatter gave {mine}; all_to_all got {incoming:?}; rows {start}..{end}"
    );
    match node.comm().gather(0, mine)? {
        Some(all) => lines.extend(all),
        None => lines.clear(),
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    /// The same program on 1 to 4 ranks, each a thread of the test process.
    #[test]
    fn every_rank_count_gives_the_same_answers() {
        for n in 1..=4 {
            let lines = eau2::run_local(n, super::collectives).unwrap();
            let root = &lines[0];
            let sum = n * (n + 1) / 2;
            assert!(
                root.contains(&format!("all_reduce of rank + 1: {sum}")),
                "{root:?}"
            );
            assert_eq!(root.len(), 5 + n, "five results, then one line per rank");
            assert!(
                lines[1..].iter().all(Vec::is_empty),
                "only rank 0 has lines"
            );
        }
    }
}
