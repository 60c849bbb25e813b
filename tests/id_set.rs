//! `eau2::set` across ranks: union, intersection and difference of the ranks' local
//! `IdSet`s for 1 to 4 ranks, as threads joined over loopback (`run_local`) and as
//! processes started by eau2-launch, against a sequential model every rank can compute. Sets are empty, full, random,
//! small (combined as lists) and large (combined as bitmaps around a ring), with bounds
//! that are not multiples of 64 and ranks whose local forms differ.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use eau2::set::{self, AtomicIds, IdSet};
use eau2::{Error, Local, Node, Result};
use eau2_testkit::{launch_command, run_with_deadline};

/// A hang fails the test instead of blocking it.
const DEADLINE: Duration = Duration::from_secs(120);

/// A tiny deterministic generator (splitmix64), so every rank can rebuild every
/// rank's set.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// The ids rank `rank` holds in case `case`: `per_mille` of the ids below `bound`, drawn
/// at random, plus ids every rank shares (0 and the last id), so intersections are not
/// always empty.
fn ids_of(case: u64, rank: usize, bound: usize, per_mille: u64) -> Vec<u32> {
    (0..bound as u32)
        .filter(|&i| {
            let shared = i == 0 || i as usize + 1 == bound;
            shared || mix(case << 40 ^ (rank as u64) << 32 ^ u64::from(i)) % 1000 < per_mille
        })
        .collect()
}

/// `ids` below `bound` as a list on odd ranks and as a bitmap on even ones: the
/// ranks' forms differ.
fn local_set(rank: usize, bound: usize, ids: &[u32]) -> Result<IdSet> {
    let mut set = if rank % 2 == 0 {
        IdSet::new_bitmap(bound)?
    } else {
        IdSet::new(bound)?
    };
    for &id in ids {
        set.insert(id)?;
    }
    Ok(set)
}

fn run<T: Send>(n: usize, program: impl Fn(&Node) -> Result<T> + Sync) -> Result<Vec<T>> {
    Local::new(n).timeout(DEADLINE).run(program)
}

/// (bound, per mille of the ids each rank holds): small sets combine as lists, large
/// ones as bitmaps (4M ids: a 512 KiB bitmap, which goes around the ring).
const CASES: [(usize, u64); 9] = [
    (0, 0),
    (1, 1000),
    (65, 0),
    (65, 1000),
    (1000, 3),
    (1000, 500),
    (100_003, 1),
    (100_003, 200),
    (4 << 20, 30),
];

/// Collective: every case of `CASES` on this job's ranks, each rank checking its results
/// against the model; fails naming the case, the operation and the rank.
fn check_every_case(node: &Node) -> Result<()> {
    let (n, r) = (node.size(), node.rank());
    for (case, &(bound, per_mille)) in CASES.iter().enumerate() {
        let case = case as u64;
        let all: Vec<Vec<u32>> = (0..n).map(|r| ids_of(case, r, bound, per_mille)).collect();
        let minus: Vec<Vec<u32>> = (0..n).map(|r| ids_of(case + 100, r, bound, 2)).collect();
        let sets: Vec<BTreeSet<u32>> = all.iter().map(|v| v.iter().copied().collect()).collect();
        let union: BTreeSet<u32> = sets.iter().flatten().copied().collect();
        let common: Vec<u32> = union
            .iter()
            .copied()
            .filter(|id| sets.iter().all(|s| s.contains(id)))
            .collect();
        let removed: BTreeSet<u32> = minus.iter().flatten().copied().collect();
        let fresh: Vec<u32> = union.difference(&removed).copied().collect();
        let local = local_set(r, bound, &all[r])?;
        let minus = local_set(r + 1, bound, &minus[r])?;
        let got = [
            (
                "union",
                set::union(node, &local)?.to_vec(),
                union.into_iter().collect(),
            ),
            (
                "intersection",
                set::intersection(node, &local)?.to_vec(),
                common,
            ),
            (
                "difference",
                set::difference(node, &local, &minus)?.to_vec(),
                fresh,
            ),
        ];
        for (op, got, want) in got {
            if got != want {
                return Err(Error::App(format!(
                    "{op} differs from the model: n {n}, bound {bound}, {per_mille}/1000, rank {r}"
                )));
            }
        }
    }
    Ok(())
}

#[test]
fn union_intersection_and_difference_match_a_sequential_model_for_1_to_4_ranks() {
    for n in 1..=4 {
        run(n, check_every_case).unwrap();
    }
}

/// Set by the process ranks of the test below when every check passed.
static RANK_PASSED: AtomicBool = AtomicBool::new(false);

/// One rank of [`the_collectives_agree_with_the_model_across_processes`]: this test
/// executable, started by eau2-launch with `ID_SET_PROCESS_RANK` set. Run by the suite
/// itself (without that variable) it does nothing.
#[test]
fn rank_of_a_process_job() {
    if std::env::var_os("ID_SET_PROCESS_RANK").is_none() {
        return;
    }
    let _ = eau2::run(|node| {
        check_every_case(node)?;
        if node.rank() == 0 {
            println!("\nid-set ok");
        }
        RANK_PASSED.store(true, Ordering::SeqCst);
        Ok(())
    });
    assert!(
        RANK_PASSED.load(Ordering::SeqCst),
        "this rank's checks failed"
    );
}

#[test]
fn the_collectives_agree_with_the_model_across_processes() {
    let exe = std::env::current_exe().unwrap();
    for n in 1..=4 {
        let args = [
            "--exact",
            "rank_of_a_process_job",
            "--nocapture",
            "--test-threads",
            "1",
        ];
        let mut cmd = launch_command(n, &exe, &args);
        cmd.env("ID_SET_PROCESS_RANK", "1");
        let out = run_with_deadline(&mut cmd, DEADLINE);
        out.assert_success();
        assert!(
            out.stdout.lines().any(|l| l == "[0] id-set ok"),
            "n {n}:\n{}\n{}",
            out.stdout,
            out.stderr
        );
    }
}

#[test]
fn one_full_bitmap_and_small_lists_combine_whatever_the_forms() {
    for n in 1..=4 {
        let bound = 1_000_001;
        let results = run(n, |node| {
            let local = match node.rank() {
                0 => IdSet::full(bound)?,
                r => IdSet::from_ids(bound, vec![r as u32, 999_999])?,
            };
            let union = set::union(node, &local)?;
            let common = set::intersection(node, &local)?;
            Ok((
                union.len(),
                union.is_list(),
                common.to_vec(),
                common.is_list(),
            ))
        })
        .unwrap();
        for (rank, (len, list, common, common_list)) in results.into_iter().enumerate() {
            assert_eq!(len, bound, "n {n} rank {rank}");
            assert!(!list, "a full union is a bitmap");
            let want: Vec<u32> = match n {
                1 => (0..bound as u32).collect(),
                2 => vec![1, 999_999],
                _ => vec![999_999],
            };
            assert_eq!(common, want, "n {n} rank {rank}");
            assert_eq!(common_list, n > 1, "a small intersection is a list");
        }
    }
}

#[test]
fn empty_sets_everywhere_give_the_empty_set() {
    for n in 1..=4 {
        let results = run(n, |node| {
            let empty = AtomicIds::new(10_000)?.finish()?;
            Ok((
                set::union(node, &empty)?.is_empty(),
                set::intersection(node, &empty)?.is_empty(),
                set::difference(node, &empty, &empty)?.is_empty(),
            ))
        })
        .unwrap();
        assert!(results.iter().all(|&r| r == (true, true, true)), "n {n}");
    }
}

#[test]
fn ranks_with_different_bounds_fail_with_an_error_naming_them() {
    for n in 2..=4 {
        let e = run(n, |node| {
            let bound = if node.rank() == n - 1 { 99 } else { 100 };
            set::union(node, &IdSet::new(bound)?)
        })
        .unwrap_err()
        .to_string();
        assert!(
            e.contains(&format!("rank {} passes a set of ids below 99", n - 1))
                && e.contains("rank 0 one below 100"),
            "n {n}: {e}"
        );
    }
    let e = run(1, |node| {
        set::difference(node, &IdSet::new(5)?, &IdSet::new(6)?)
    })
    .unwrap_err()
    .to_string();
    assert!(e.contains("different bounds (5 and 6)"), "{e}");
}
