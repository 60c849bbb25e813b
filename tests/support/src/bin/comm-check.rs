//! A probe program for the message plane's and the collectives' multi-process tests.
//! Run on N ranks as `comm-check SCENARIO [ARGS]`; every rank checks what it sees against
//! a plain sequential computation, and the job fails (non-zero exit) on any mismatch.
//! Rank 0 prints `SCENARIO ok` on success.
//!
//! Every rank can compute every rank's input from the seed, so each checks its results
//! against a sequential fold over all inputs without any extra communication.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use eau2::{Bytes, Error, Node, Result};
use eau2_testkit::check;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(scenario) = args.first().cloned() else {
        eprintln!("usage: comm-check collectives SEED|ordering|bounded|die RANK");
        return ExitCode::from(2);
    };
    let number = |i: usize| -> Result<u64> {
        args.get(i)
            .and_then(|a| a.parse().ok())
            .ok_or_else(|| Error::Config(format!("argument {i} must be a number")))
    };
    eau2::run(|node| {
        match scenario.as_str() {
            "collectives" => collectives(node, number(1)?)?,
            "ordering" => ordering(node)?,
            "bounded" => bounded(node)?,
            "die" => die(node, number(1)? as usize)?,
            other => return Err(Error::Config(format!("unknown scenario {other:?}"))),
        }
        if node.rank() == 0 {
            println!("{scenario} ok");
        }
        Ok(())
    })
}

/// SplitMix64: a tiny deterministic generator, so that every rank can draw every
/// rank's input.
struct Rng(u64);

impl Rng {
    fn new(seed: u64, stream: u64) -> Rng {
        let mut rng = Rng(seed ^ stream.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        rng.next();
        rng
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn bytes(&mut self, len: usize) -> Bytes {
        Bytes::from((0..len).map(|_| self.next() as u8).collect::<Vec<u8>>())
    }
}

/// Lengths that cover the empty case, odd sizes, and both sides of the algorithms'
/// thresholds (256 KiB switches all-reduce to a ring; 32 MiB, tested apart, broadcast
/// to a chain).
const ELEMENTS: [usize; 7] = [0, 1, 7, 1000, 40_000, 70_001, 300_000];
const BYTE_LENS: [usize; 7] = [0, 1, 100, 65_537, 262_144, 700_001, 2_500_000];

/// Rounds of every collective on random inputs, each result against a sequential fold.
fn collectives(node: &Node, seed: u64) -> Result<()> {
    let (rank, n) = (node.rank(), node.size());
    for round in 0..6u64 {
        // Draws shared by all ranks (lengths, roots), then one stream per rank's input.
        let mut shared = Rng::new(seed, round);
        let input = |r: usize| Rng::new(seed, (round + 1) << 20 | r as u64);
        node.comm().barrier()?;

        // Plain vectors: OR of u64 words and wrapping sums of u32, all-reduce and reduce.
        let len = ELEMENTS[shared.below(ELEMENTS.len() as u64) as usize];
        let words = |r: usize| {
            let mut g = input(r);
            (0..len).map(|_| 1u64 << g.below(64)).collect::<Vec<u64>>()
        };
        let mut mine = words(rank);
        node.comm().all_reduce_slice(&mut mine, |acc, other| {
            acc.iter_mut().zip(other).for_each(|(a, b)| *a |= b)
        })?;
        let expected = (0..n).map(words).reduce(|mut a, b| {
            a.iter_mut().zip(&b).for_each(|(x, y)| *x |= y);
            a
        });
        check(Some(&mine) == expected.as_ref(), || {
            format!("round {round}: all_reduce_slice OR of {len} words differs")
        })?;
        let counts = |r: usize| {
            let mut g = input(r);
            (0..len).map(|_| g.next() as u32).collect::<Vec<u32>>()
        };
        let root = shared.below(n as u64) as usize;
        let mut mine = counts(rank);
        node.comm().reduce_slice(root, &mut mine, |acc, other| {
            acc.iter_mut()
                .zip(other)
                .for_each(|(a, b)| *a = a.wrapping_add(*b))
        })?;
        if rank == root {
            let expected = (0..n).map(counts).reduce(|mut a, b| {
                a.iter_mut()
                    .zip(&b)
                    .for_each(|(x, y)| *x = x.wrapping_add(*y));
                a
            });
            check(Some(&mine) == expected.as_ref(), || {
                format!("round {round}: reduce_slice sum of {len} at {root} differs")
            })?;
        }

        // Any type, merged in rank order: concatenation is not commutative.
        let word = |r: usize| format!("<{r}:{}>", input(r).below(1000));
        let all: String = (0..n).map(word).collect();
        let got = node.comm().all_reduce(word(rank), |a, b| a + &b)?;
        check(got == all, || format!("all_reduce gave {got}, not {all}"))?;
        let got = node.comm().reduce(root, word(rank), |a, b| a + &b)?;
        let want = (rank == root).then(|| all.clone());
        check(got == want, || format!("reduce to {root} gave {got:?}"))?;
        let prefix: String = (0..=rank).map(word).collect();
        let got = node.comm().scan(word(rank), |a, b| a + &b)?;
        check(got == prefix, || format!("scan gave {got}, not {prefix}"))?;
        let before: String = (0..rank).map(word).collect();
        let got = node.comm().exclusive_scan(word(rank), |a, b| a + &b)?;
        let want = (rank > 0).then_some(before);
        check(got == want, || {
            format!("exclusive_scan gave {got:?}, not {want:?}")
        })?;

        // Bytes of every size, from a random root.
        let blen = BYTE_LENS[shared.below(BYTE_LENS.len() as u64) as usize];
        let value = |r: usize| input(r).bytes(blen);
        let got = node.comm().broadcast_bytes(root, value(rank))?;
        check(got == value(root), || {
            format!("broadcast of {blen} bytes from {root} differs")
        })?;
        if round == 0 {
            // Large enough for the pipelined chain (from 32 MiB), with a partial segment.
            let big = |r: usize| input(r).bytes((32 << 20) + 12_345);
            let got = node.comm().broadcast_bytes(root, big(rank))?;
            check(got == big(root), || {
                format!("a chained broadcast from {root} differs")
            })?;
        }
        // Different sizes per rank for gather, all-gather and scatter.
        let sized = |r: usize| {
            let mut g = input(r);
            let len = BYTE_LENS[g.below(BYTE_LENS.len() as u64) as usize] / 4;
            g.bytes(len)
        };
        let got = node.comm().gather_bytes(root, sized(rank))?;
        let want = (rank == root).then(|| (0..n).map(sized).collect::<Vec<_>>());
        check(got == want, || format!("gather to {root} differs"))?;
        let got = node.comm().all_gather_bytes(sized(rank))?;
        check(got == (0..n).map(sized).collect::<Vec<_>>(), || {
            "all_gather differs".into()
        })?;
        let part = |from: usize, to: usize| {
            let mut g = Rng::new(
                seed ^ 0x5ca7,
                (round << 32) | (from as u64) << 16 | to as u64,
            );
            let len = BYTE_LENS[g.below(BYTE_LENS.len() as u64) as usize] / 8;
            g.bytes(len)
        };
        let parts = (rank == root).then(|| (0..n).map(|to| part(root, to)).collect());
        let got = node.comm().scatter_bytes(root, parts)?;
        check(got == part(root, rank), || {
            format!("scatter from {root} differs")
        })?;
        let got = node
            .comm()
            .all_to_all_bytes((0..n).map(|to| part(rank, to)).collect())?;
        let want: Vec<Bytes> = (0..n).map(|from| part(from, rank)).collect();
        check(got == want, || "all_to_all differs".into())?;
        let got: Vec<u64> = node
            .comm()
            .all_to_all((0..n).map(|to| (rank * 100 + to) as u64).collect())?;
        let want: Vec<u64> = (0..n).map(|from| (from * 100 + rank) as u64).collect();
        check(got == want, || format!("typed all_to_all gave {got:?}"))?;
        let got: u32 = node
            .comm()
            .scatter(root, (rank == root).then(|| (0..n as u32).collect()))?;
        check(got == rank as u32, || format!("typed scatter gave {got}"))?;
    }
    Ok(())
}

/// Every rank sends every other rank numbered messages on three tags, interleaved;
/// each (sender, tag) stream must arrive in order, also through `recv_any`.
fn ordering(node: &Node) -> Result<()> {
    const PER_TAG: u32 = 300;
    let (rank, n) = (node.rank(), node.size());
    for seq in 0..PER_TAG {
        for to in (0..n).filter(|&to| to != rank) {
            for tag in 1..=3u64 {
                // Every 50th message is large, so that some frames are queued.
                let len = if seq % 50 == 0 { 200_000 } else { 8 };
                let mut body = vec![tag as u8; len];
                body[..4].copy_from_slice(&seq.to_le_bytes());
                node.comm().send(to, tag, Bytes::from(body))?;
            }
        }
    }
    let seq_of = |b: &Bytes| u32::from_le_bytes(b[..4].try_into().expect("4 bytes"));
    for from in (0..n).filter(|&f| f != rank) {
        // Tags 2 and 3 first: receiving out of tag order must not disturb either.
        for tag in [3u64, 2] {
            for seq in 0..PER_TAG {
                let got = seq_of(&node.comm().recv(from, tag)?);
                check(got == seq, || {
                    format!("from {from} tag {tag}: got message {got}, expected {seq}")
                })?;
            }
        }
    }
    let mut next = vec![0u32; n];
    for _ in 0..PER_TAG as usize * (n - 1) {
        let (from, body) = node.comm().recv_any(1)?;
        let got = seq_of(&body);
        check(got == next[from], || {
            format!(
                "recv_any: from {from} got message {got}, expected {}",
                next[from]
            )
        })?;
        next[from] += 1;
    }
    check(
        node.comm()
            .recv_timeout(0, 99, Duration::from_millis(20))
            .is_err(),
        || "a receive with nothing to receive did not time out".into(),
    )?;
    Ok(node.comm().barrier()?)
}

/// Every other rank sends rank 0 far more than its window while rank 0 receives
/// nothing yet: what rank 0 holds must stay within the windows (run it with
/// `EAU2_MSG_WINDOW` small), and everything must still arrive, intact and in order.
fn bounded(node: &Node) -> Result<()> {
    const MESSAGES: u32 = 200;
    const LEN: usize = 256 << 10;
    let (rank, n) = (node.rank(), node.size());
    let window: u64 = std::env::var("EAU2_MSG_WINDOW")
        .ok()
        .and_then(|w| w.parse().ok())
        .unwrap_or(64 << 20);
    if rank != 0 {
        for seq in 0..MESSAGES {
            node.comm().send(0, 5, Bytes::from(vec![seq as u8; LEN]))?;
        }
        return Ok(node.comm().barrier()?);
    }
    // Each sender may hold a window plus one message of overhead in flight.
    let bound = (n as u64 - 1) * (window + LEN as u64 + 64);
    // Wait until the senders have filled what they may (or 10 s passed), watching the
    // bound all along; then receive everything.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut peak = 0;
    while Instant::now() < deadline && peak < (n as u64 - 1) * window / 2 {
        peak = peak.max(node.comm().unconsumed_bytes());
        check(peak <= bound, || {
            format!("rank 0 holds {peak} unconsumed bytes, over the bound of {bound}")
        })?;
        std::thread::sleep(Duration::from_millis(1));
    }
    for from in 1..n {
        for seq in 0..MESSAGES {
            let body = node.comm().recv(from, 5)?;
            peak = peak.max(node.comm().unconsumed_bytes());
            check(
                body.len() == LEN && body.iter().all(|&b| b == seq as u8),
                || format!("message {seq} from {from} damaged"),
            )?;
        }
    }
    check(peak <= bound, || {
        format!("rank 0 held {peak} unconsumed bytes, over the bound of {bound}")
    })?;
    println!("peak unconsumed {peak} of bound {bound}");
    Ok(node.comm().barrier()?)
}

/// Ranks all-reduce and all-to-all in a loop; rank `victim` exits in the middle of
/// the third all-reduce. The others must fail, naming it, not hang.
fn die(node: &Node, victim: usize) -> Result<()> {
    let rank = node.rank();
    let mut data = vec![1u64; 1 << 17];
    for i in 0..1000 {
        if i == 3 && rank == victim {
            eprintln!("rank {rank}: exiting on purpose");
            std::process::exit(3);
        }
        node.comm().all_reduce_slice(&mut data, |acc, other| {
            acc.iter_mut().zip(other).for_each(|(a, b)| *a |= b)
        })?;
        node.comm()
            .all_to_all_bytes(vec![Bytes::from(vec![0u8; 1000]); node.size()])?;
    }
    Err(Error::App(format!("rank {victim} never died")))
}
