//! `eau2::run_local`: whole jobs as threads of this test process.
//!
//! Each call waits on a helper thread with a deadline, so a bug that hangs a job fails
//! the test instead of hanging it.

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use eau2::frame::DataFrame;
use eau2::kv::Key;
use eau2::table::DistFrame;
use eau2::{run_local, Error, Local, Node, Result};
use eau2_testkit::scratch;

/// Long enough for a loaded machine; a hang fails the test instead of blocking it.
const DEADLINE: Duration = Duration::from_secs(90);

/// Runs `job` on its own thread and returns what it returns, failing the test if it takes
/// longer than `DEADLINE`.
fn within<T: Send + 'static>(job: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(job());
    });
    rx.recv_timeout(DEADLINE)
        .unwrap_or_else(|_| panic!("the job did not finish within {DEADLINE:?}"))
}

#[test]
fn results_come_back_in_rank_order_for_any_size() {
    for n in 1..=8 {
        let results = within(move || {
            run_local(n, |node| {
                let everyone: Vec<u64> = node.comm().all_gather(node.rank() as u64)?;
                Ok((node.rank(), node.size(), everyone))
            })
        })
        .unwrap();
        let expected: Vec<_> = (0..n)
            .map(|r| (r, n, (0..n as u64).collect::<Vec<_>>()))
            .collect();
        assert_eq!(results, expected, "n = {n}");
    }
}

#[test]
fn collectives_messages_and_the_store_work_inside() {
    let results = within(|| {
        Local::new(4)
            .msg_window(64 << 10)
            .peer_timeout(Duration::from_secs(20))
            .run(|node| {
                let (rank, n) = (node.rank(), node.size());
                let sum = node.comm().all_reduce(rank as u64 + 1, |a, b| a + b)?;
                let root: String = node
                    .comm()
                    .broadcast(0, (rank == 0).then(|| "hello".to_string()))?;
                let prefix = node
                    .comm()
                    .exclusive_scan(10u64, |a, b| a + b)?
                    .unwrap_or(0);
                let swapped: Vec<u64> = node
                    .comm()
                    .all_to_all((0..n as u64).map(|to| 100 * rank as u64 + to).collect())?;
                // A ring of messages larger than the window: flow control, not a hang.
                let big = eau2::Bytes::from(vec![rank as u8; 200 << 10]);
                node.comm().send((rank + 1) % n, 7, big)?;
                let got = node.comm().recv((rank + n - 1) % n, 7)?;
                let from_left = got.iter().all(|&b| b as usize == (rank + n - 1) % n);
                node.comm().kv().put(
                    &Key::new(format!("k{rank}"), rank),
                    eau2::Bytes::from(vec![rank as u8]),
                )?;
                let right = (rank + 1) % n;
                let theirs = node
                    .comm()
                    .kv()
                    .wait_and_get(&Key::new(format!("k{right}"), right))?;
                Ok((
                    sum,
                    root,
                    prefix,
                    swapped,
                    from_left,
                    theirs[0] as usize == right,
                ))
            })
    })
    .unwrap();
    for (rank, (sum, root, prefix, swapped, from_left, store_ok)) in results.into_iter().enumerate()
    {
        assert_eq!(sum, 10);
        assert_eq!(root, "hello");
        assert_eq!(prefix, 10 * rank as u64);
        assert_eq!(
            swapped,
            (0..4u64)
                .map(|from| 100 * from + rank as u64)
                .collect::<Vec<_>>()
        );
        assert!(from_left && store_ok, "rank {rank}");
    }
}

#[test]
fn a_dist_frame_round_trips_inside() {
    let values: Vec<Option<i32>> = (0..50_000).map(|i| (i % 5 != 0).then_some(i)).collect();
    let expected = values.clone();
    let results = within(move || {
        run_local(3, move |node: &Node| {
            let key = Key::new("numbers", 0);
            if node.rank() == 0 {
                DistFrame::publish(node, &key, &DataFrame::from_array_chunked(&values, 1000))?;
            }
            let frame = DistFrame::get(node, &key)?;
            let local = frame.to_local()?;
            let back: Vec<Option<i32>> = (0..local.nrows())
                .map(|row| local.get_as::<i32>(0, row))
                .collect::<std::result::Result<_, _>>()?;
            // Every rank owns some chunks, and together they own each one once.
            let owned = node
                .comm()
                .all_reduce(frame.local_chunks().len(), |a, b| a + b)?;
            Ok((back, owned == frame.chunk_count()))
        })
    })
    .unwrap();
    for (back, owned_once) in results {
        assert_eq!(back, expected);
        assert!(owned_once);
    }
}

/// Asserts that `error` is rank `rank`'s and says `words`.
fn assert_names(error: &Error, rank: usize, words: &str) {
    assert!(
        matches!(error, Error::Rank { rank: r, .. } if *r == rank),
        "expected rank {rank}'s error, got: {error}"
    );
    let text = error.to_string();
    assert!(
        text.starts_with(&format!("rank {rank}: ")) && text.contains(words),
        "{text}"
    );
}

/// A job of 4 whose rank `bad` fails with `fail` after everyone has met; the others wait
/// for a message it never sends, so only its loss can release them.
fn job_failing_at(bad: usize, fail: fn() -> Result<()>) -> Result<Vec<()>> {
    Local::new(4)
        .peer_timeout(Duration::from_secs(30))
        .run(move |node| {
            node.comm().barrier()?;
            if node.rank() == bad {
                return fail();
            }
            node.comm().recv(bad, 1)?;
            Ok(())
        })
}

#[test]
fn an_error_in_one_rank_fails_the_job_naming_it() {
    let error =
        within(|| job_failing_at(2, || Err(Error::App("the input is bad".into())))).unwrap_err();
    assert_names(&error, 2, "the input is bad");
}

#[test]
fn a_panic_in_one_rank_fails_the_job_naming_it() {
    let error = within(|| job_failing_at(1, || panic!("index out of range"))).unwrap_err();
    assert_names(&error, 1, "panicked: index out of range");
    // A formatted panic message (a String payload) is kept too.
    let error = within(|| job_failing_at(3, || panic!("row {}", 12))).unwrap_err();
    assert_names(&error, 3, "panicked: row 12");
}

#[test]
fn a_rank_failing_at_once_fails_the_job_naming_it() {
    // No barrier first: the others may still be finishing rendezvous when it leaves.
    for n in [2, 5, 8] {
        let error = within(move || {
            Local::new(n).run(move |node| {
                if node.rank() == n - 1 {
                    return Err(Error::App("early".into()));
                }
                Ok(node.comm().all_reduce(1u64, |a, b| a + b)?)
            })
        })
        .unwrap_err();
        assert_names(&error, n - 1, "early");
    }
}

#[test]
fn a_failing_rank_zero_fails_the_job_naming_it() {
    let error = within(|| job_failing_at(0, || Err(Error::App("no data".into())))).unwrap_err();
    assert_names(&error, 0, "no data");
}

#[test]
fn a_job_that_would_hang_fails_at_its_timeout() {
    // Every rank waits for a message from the next, which nobody sends: a deadlock
    // among running ranks (a wait on a rank that has finished would fail at once, as an
    // SPMD mistake). Only the job's timeout ends this.
    let error = within(|| {
        Local::new(3).timeout(Duration::from_secs(2)).run(|node| {
            node.comm().recv((node.rank() + 1) % node.size(), 5)?;
            Ok(())
        })
    })
    .unwrap_err();
    assert!(
        matches!(error, Error::Comm(eau2::error::CommError::Timeout(_))),
        "{error}"
    );
    assert!(
        error.to_string().contains("did not finish within 2s"),
        "{error}"
    );
    // A job that finishes in time is not affected.
    let ok = within(|| {
        Local::new(2)
            .timeout(Duration::from_secs(60))
            .run(|node| Ok(node.rank()))
    });
    assert_eq!(ok.unwrap(), vec![0, 1]);
}

#[test]
fn two_jobs_run_at_once() {
    let job = |offset: u64| {
        within(move || {
            run_local(4, move |node| {
                let mut total = 0;
                for round in 0..20 {
                    total += node
                        .comm()
                        .all_reduce(offset + round + node.rank() as u64, |a, b| a + b)?;
                }
                Ok(total)
            })
        })
    };
    let a = thread::spawn(move || job(0));
    let b = thread::spawn(move || job(1000));
    let (a, b) = (a.join().unwrap().unwrap(), b.join().unwrap().unwrap());
    // Each round sums offset + round + rank over 4 ranks.
    let expect = |offset: u64| (0..20).map(|r| 4 * (offset + r) + 6).sum::<u64>();
    assert_eq!(a, vec![expect(0); 4]);
    assert_eq!(b, vec![expect(1000); 4]);
}

#[test]
fn zero_ranks_is_an_error() {
    assert!(run_local(0, |_| Ok(())).is_err());
}

/// `eau2::table::open_part` (a program's own reading of a file in blocks): the ranks'
/// parts hold every line of the file exactly once, in order, for any number of ranks
/// and a block size that cuts the parts into many blocks.
#[test]
fn open_part_hands_every_line_to_exactly_one_rank() {
    let dir = scratch("open-part");
    let path = dir.join("lines.sor");
    let text: String = (0..5000)
        .map(|i| format!("<{i}> <\"row {i}\">\n"))
        .collect();
    std::fs::write(&path, &text).unwrap();
    for n in [1, 2, 3, 5] {
        let file = path.clone();
        let parts = within(move || {
            run_local(n, move |node| {
                let reader = eau2::table::open_part(node, &file, eau2::blocks::Records::Lines)?
                    .block_bytes(1000);
                Ok(reader.map_blocks(|block| Ok(block.to_vec()))?.concat())
            })
        })
        .unwrap();
        assert!(
            parts.iter().all(|p| !p.is_empty()),
            "n = {n}: an empty part"
        );
        assert_eq!(parts.concat(), text.as_bytes(), "n = {n}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
