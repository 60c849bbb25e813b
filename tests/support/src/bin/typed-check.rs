//! A probe program for the typed collectives of plain vectors (`Vec<u64>`, `Vec<f32>`,
//! ...), which travel as their bytes. Run on N ranks as `typed-check SCENARIO [SEED]`:
//! - `plain SEED`: every typed collective on vectors of every primitive number type, of
//!   0, 1, 7, 1001 elements and just over 1 MiB, with different lengths on different
//!   ranks, each result against the same computation done locally; rank 0 prints
//!   `plain ok`.
//! - `wrong-type`: rank 0 broadcasts a `Vec<u32>` where the others expect a `Vec<u64>`:
//!   every rank must fail with an error naming the value types (non-zero exit).
//! - `wrong-length`: rank 0 passes `all_reduce_elementwise` one element more than the
//!   others: every rank must fail with an error naming the lengths (non-zero exit).

use std::fmt::Debug;
use std::process::ExitCode;

use eau2::collectives::{Pod, Wire};
use eau2::{Error, Node, Result};
use eau2_testkit::check;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let scenario = args.first().cloned().unwrap_or_default();
    let seed: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1);
    eau2::run(|node| {
        match scenario.as_str() {
            "plain" => every_type(node, seed)?,
            "wrong-type" => wrong_type(node)?,
            "wrong-length" => wrong_length(node)?,
            other => {
                return Err(Error::Config(format!(
                    "unknown scenario {other:?} (plain SEED | wrong-type | wrong-length)"
                )))
            }
        }
        if node.rank() == 0 {
            println!("{scenario} ok");
        }
        Ok(())
    })
}

fn every_type(node: &Node, seed: u64) -> Result<()> {
    plain::<u8>(node, seed, |x| x as u8)?;
    plain::<u16>(node, seed, |x| x as u16)?;
    plain::<u32>(node, seed, |x| x as u32)?;
    plain::<u64>(node, seed, |x| x)?;
    plain::<u128>(node, seed, |x| (x as u128) << 64 | x.rotate_left(7) as u128)?;
    plain::<usize>(node, seed, |x| x as usize)?;
    plain::<i8>(node, seed, |x| x as i8)?;
    plain::<i16>(node, seed, |x| x as i16)?;
    plain::<i32>(node, seed, |x| x as i32)?;
    plain::<i64>(node, seed, |x| x as i64)?;
    plain::<i128>(node, seed, |x| -((x as i128) << 60))?;
    // Floats from integers, so that no NaN makes equal vectors compare unequal.
    plain::<f32>(node, seed, |x| (x % 1_000_003) as f32 * -0.25)?;
    plain::<f64>(node, seed, |x| (x >> 11) as f64 / 3.0)?;
    float_sums_agree(node, seed)
}

/// An element-wise float sum may round differently from a sequential loop, but every
/// rank must get the same bits (a ring hands each block out from the rank that summed
/// it), and the sum must be close to the sequential one.
fn float_sums_agree(node: &Node, seed: u64) -> Result<()> {
    let n = node.size();
    // Small (doubling) and large (ring) vectors, of values of very different sizes.
    for len in [3usize, 100_003] {
        let value = |r: usize, i: usize| {
            let x = draw(seed, 7 << 16 | r as u64, i as u64);
            (x >> 11) as f64 * f64::powi(10.0, (x % 9) as i32 - 4) / 9e15
        };
        let mine: Vec<f64> = (0..len).map(|i| value(node.rank(), i)).collect();
        let got = node.comm().all_reduce_elementwise(mine, |a, b| a + b)?;
        let bits: Vec<u64> = got.iter().map(|x| x.to_bits()).collect();
        let everyone = node.comm().all_gather(bits.clone())?;
        check(everyone.iter().all(|b| *b == bits), || {
            format!("ranks got different bits from an f64 sum of {len} elements")
        })?;
        let close = got.iter().enumerate().all(|(i, &x)| {
            let want: f64 = (0..n).map(|r| value(r, i)).sum();
            (x - want).abs() <= 1e-12 * want.abs().max(1.0)
        });
        check(close, || format!("an f64 sum of {len} elements is off"))?;
    }
    Ok(())
}

/// SplitMix64, so that every rank can draw every rank's input.
fn draw(seed: u64, stream: u64, i: u64) -> u64 {
    let mut z = (seed ^ stream.wrapping_mul(0x9e37_79b9_7f4a_7c15))
        .wrapping_add((i + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Every typed collective on vectors of `E` (made from random words by `make`).
fn plain<E>(node: &Node, seed: u64, make: fn(u64) -> E) -> Result<()>
where
    E: Pod + PartialOrd + Debug + Send + Sync,
    Vec<E>: Wire,
{
    let (rank, n) = (node.rank(), node.size());
    let name = std::any::type_name::<E>();
    // Empty, one, odd, a few KiB, and just over 1 MiB (not a whole number of words).
    let lens = [0, 1, 7, 1001, (1 << 20) / size_of::<E>() + 3];
    // The vector of rank `r` for stream `s`, of length `len`.
    let vector = |r: usize, s: u64, len: usize| -> Vec<E> {
        (0..len as u64)
            .map(|i| make(draw(seed, s << 16 | r as u64, i)))
            .collect()
    };
    // A length that differs from rank to rank.
    let mixed = |r: usize, s: u64| lens[(draw(seed ^ 0xabc, s << 16 | r as u64, 0) % 5) as usize];
    let own = |r: usize, s: u64| vector(r, s, mixed(r, s));
    for (i, &len) in lens.iter().enumerate() {
        let root = (i + seed as usize) % n;
        let s = (i as u64 + 1) * 16;
        let what = |op: &str| format!("{op} of Vec<{name}> ({len} elements, root {root})");

        let got: Vec<E> = node
            .comm()
            .broadcast(root, (rank == root).then(|| vector(root, s, len)))?;
        check(got == vector(root, s, len), || what("broadcast"))?;

        // Element by element, the same length everywhere.
        let got = node
            .comm()
            .all_reduce(vector(rank, s + 1, len), |mut a, b| {
                for (x, y) in a.iter_mut().zip(b) {
                    if y > *x {
                        *x = y;
                    }
                }
                a
            })?;
        let want = (0..n).map(|r| vector(r, s + 1, len)).reduce(|mut a, b| {
            a.iter_mut().zip(b).for_each(|(x, y)| {
                if y > *x {
                    *x = y
                }
            });
            a
        });
        check(Some(got) == want, || what("all_reduce (max)"))?;
        // The same maximum through the closure over elements, which cuts the vector
        // into blocks (a ring from 256 KiB per rank in all).
        let got = node
            .comm()
            .all_reduce_elementwise(vector(rank, s + 1, len), |x, y| if y > x { y } else { x })?;
        check(Some(got) == want, || what("all_reduce_elementwise (max)"))?;
        // And a minimum of an input whose first elements mislead (equal on every rank).
        let mut input = vector(rank, s + 5, len);
        if let Some(first) = input.first_mut() {
            *first = make(0);
        }
        let want = (0..n).map(|r| {
            let mut v = vector(r, s + 5, len);
            if let Some(first) = v.first_mut() {
                *first = make(0);
            }
            v
        });
        let want = want.reduce(|a, b| {
            a.into_iter()
                .zip(b)
                .map(|(x, y)| if y < x { y } else { x })
                .collect()
        });
        let got = node
            .comm()
            .all_reduce_elementwise(input, |x, y| if y < x { y } else { x })?;
        check(Some(got) == want, || what("all_reduce_elementwise (min)"))?;

        // Concatenation: lengths differ by rank, and the order of ranks must hold.
        let concat = |mut a: Vec<E>, b: Vec<E>| {
            a.extend(b);
            a
        };
        let all: Vec<E> = (0..n).flat_map(|r| own(r, s + 2)).collect();
        let got = node.comm().all_reduce(own(rank, s + 2), concat)?;
        check(got == all, || what("all_reduce (concatenation)"))?;
        let got = node.comm().reduce(root, own(rank, s + 2), concat)?;
        check(got == (rank == root).then(|| all.clone()), || {
            what("reduce")
        })?;
        let got = node.comm().scan(own(rank, s + 2), concat)?;
        let prefix: Vec<E> = (0..=rank).flat_map(|r| own(r, s + 2)).collect();
        check(got == prefix, || what("scan"))?;

        let each: Vec<Vec<E>> = (0..n).map(|r| own(r, s + 3)).collect();
        let got = node.comm().gather(root, own(rank, s + 3))?;
        check(got == (rank == root).then(|| each.clone()), || {
            what("gather")
        })?;
        let got = node.comm().all_gather(own(rank, s + 3))?;
        check(got == each, || what("all_gather"))?;

        // Part `from -> to` of an all-to-all or a scatter, of a length of its own.
        let part = |from: usize, to: usize| {
            let s = s + 4 + (to as u64) * 64;
            own(from, s)
        };
        let got = node
            .comm()
            .all_to_all((0..n).map(|to| part(rank, to)).collect())?;
        let want: Vec<Vec<E>> = (0..n).map(|from| part(from, rank)).collect();
        check(got == want, || what("all_to_all"))?;
        let parts = (rank == root).then(|| (0..n).map(|to| part(root, to)).collect());
        let got: Vec<E> = node.comm().scatter(root, parts)?;
        check(got == part(root, rank), || what("scatter"))?;
    }
    Ok(())
}

/// Rank 0 broadcasts `Vec<u32>`, the others expect `Vec<u64>`: the call must fail
/// (returning the error fails the rank), not hand back the bytes reinterpreted.
fn wrong_type(node: &Node) -> Result<()> {
    if node.rank() == 0 {
        // The sender cannot know yet: it hears of the mistake from the receivers.
        node.comm().broadcast(0, Some(vec![1u32, 2, 3, 4]))?;
    } else {
        let got: Vec<u64> = node.comm().broadcast(0, None)?;
        eprintln!("rank {} received {got:?} without an error", node.rank());
    }
    // The mistake must surface by the next call at the latest.
    node.comm().barrier()?;
    Err(Error::App("a wrong-typed broadcast went unnoticed".into()))
}

/// Rank 0 all-reduces 5 elements where the others pass 4: the call must fail on every
/// rank (an element-wise combination of different lengths has no meaning).
fn wrong_length(node: &Node) -> Result<()> {
    let len = if node.rank() == 0 { 5 } else { 4 };
    let got = node
        .comm()
        .all_reduce_elementwise(vec![1u64; len], |a, b| a + b)?;
    eprintln!("rank {} received {got:?} without an error", node.rank());
    node.comm().barrier()?;
    Err(Error::App(
        "an all-reduce of different lengths went unnoticed".into(),
    ))
}
