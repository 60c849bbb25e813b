//! docs/spmd.md: a distributed program and its unit test, with ranks as threads.
//! Run: `target/debug/eau2-launch -n 3 target/debug/examples/guide_testing`
//! Test: `cargo test --example guide_testing`

use std::process::ExitCode;

use eau2::Node;

/// Every rank sums its share of 0..1000; every rank gets the total.
fn total(node: &Node) -> eau2::Result<u64> {
    let (rank, n) = (node.rank() as u64, node.size() as u64);
    let mine: u64 = (0..1000).filter(|i| i % n == rank).sum();
    Ok(node.comm().all_reduce(mine, |a, b| a + b)?)
}

fn main() -> ExitCode {
    eau2::run(|node| {
        let sum = total(node)?;
        if node.rank() == 0 {
            println!("total: {sum}");
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use eau2::{Error, Local};

    #[test]
    fn the_total_does_not_depend_on_the_number_of_ranks() {
        for n in 1..=4 {
            let totals = eau2::run_local(n, super::total).unwrap();
            assert_eq!(totals, vec![499_500; n]);
        }
    }

    #[test]
    fn a_failing_rank_is_named() {
        // A timeout makes a test that would hang fail instead.
        let result = Local::new(3)
            .peer_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(60))
            .run(|node| {
                if node.rank() == 1 {
                    return Err(Error::App("the input is bad".into()));
                }
                super::total(node)
            });
        let error = result.unwrap_err();
        assert_eq!(error.to_string(), "rank 1: the input is bad");
    }
}
