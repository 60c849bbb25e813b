//! A probe program for the runtime's multi-process tests. Run on N ranks through
//! eau2-launch as `cluster-check SCENARIO [ARGS]`; every rank checks what it sees and the
//! job fails (non-zero exit) on any mismatch. Rank 0 prints `SCENARIO ok` on success.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use eau2::error::CommError;
use eau2::frame::{DataFrame, Row, RowWriter, Rower, Schema, Writer};
use eau2::kv::Key;
use eau2::table::{DistFrame, Format, ReadOptions};
use eau2::{Bytes, Error, Node, Result};
use eau2_testkit::check;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(scenario) = args.first().cloned() else {
        eprintln!(
            "usage: cluster-check kv|wait|big MIB|concurrent|collectives|panic RANK|frames SOR_FILE|strangers READY_FILE GO_FILE"
        );
        return ExitCode::from(2);
    };
    eau2::run(|node| {
        match scenario.as_str() {
            "kv" => kv(node)?,
            "wait" => wait_before_put(node)?,
            "big" => big(node, arg(&args, 1)?)?,
            "concurrent" => concurrent(node)?,
            "collectives" => collectives(node)?,
            "panic" => panic_at(node, arg(&args, 1)?)?,
            "frames" => frames(node, &path_arg(&args, 1)?)?,
            "strangers" => strangers(node, &path_arg(&args, 1)?, &path_arg(&args, 2)?)?,
            other => return Err(Error::Config(format!("unknown scenario {other:?}"))),
        }
        if node.rank() == 0 {
            println!("{scenario} ok");
        }
        Ok(())
    })
}

fn arg(args: &[String], i: usize) -> Result<usize> {
    args.get(i)
        .and_then(|a| a.parse().ok())
        .ok_or_else(|| Error::Config(format!("argument {i} must be a number")))
}

fn path_arg(args: &[String], i: usize) -> Result<PathBuf> {
    args.get(i)
        .map(PathBuf::from)
        .ok_or_else(|| Error::Config(format!("argument {i} must be a path")))
}

/// Put/get across ranks, missing keys, write-once semantics.
fn kv(node: &Node) -> Result<()> {
    let (rank, size) = (node.rank(), node.size());
    let kv = node.comm().kv();
    kv.put(
        &Key::new(format!("k{rank}"), (rank + 1) % size),
        vec![rank as u8; 10 + rank],
    )?;
    node.comm().barrier()?;
    for r in 0..size {
        let got = kv.get(&Key::new(format!("k{r}"), (r + 1) % size))?;
        check(got.as_deref() == Some(&vec![r as u8; 10 + r][..]), || {
            format!("rank {rank} read key k{r} as {got:?}")
        })?;
    }
    for home in 0..size {
        let absent = kv.get(&Key::new("never-put", home))?;
        check(absent.is_none(), || {
            format!("never-put@{home} was {absent:?}")
        })?;
    }
    // Write-once: same bytes again is fine, different bytes conflict, at any home.
    let mine = Key::new(format!("once{rank}"), (rank + size - 1) % size);
    kv.put(&mine, "a")?;
    kv.put(&mine, "a")?;
    match kv.put(&mine, "b") {
        Err(CommError::KeyConflict(_)) => {}
        other => return Err(Error::App(format!("second put of {mine} gave {other:?}"))),
    }
    match kv.put(&Key::new("x", size), "v") {
        Err(CommError::Config(_)) => {}
        other => {
            return Err(Error::App(format!(
                "put to a home past the job gave {other:?}"
            )))
        }
    }
    Ok(())
}

/// Every rank waits for a key homed at the next rank, which is put only once the home
/// sees the wait registered.
fn wait_before_put(node: &Node) -> Result<()> {
    let (rank, size) = (node.rank(), node.size());
    let kv = node.comm().kv();
    let wanted = Key::new("late", (rank + 1) % size);
    let value = std::thread::scope(|s| {
        let waiter = s.spawn(|| kv.wait_and_get_timeout(&wanted, Duration::from_secs(60)));
        // The key homed here is awaited by rank-1 (and by us when size == 1).
        let deadline = Instant::now() + Duration::from_secs(60);
        while kv.waiting() == 0 {
            if Instant::now() > deadline {
                return Err(CommError::Timeout("no wait was registered here".into()).into());
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        kv.put(&Key::new("late", rank), format!("late from {rank}"))?;
        waiter
            .join()
            .map_err(|_| Error::App("waiter panicked".into()))?
            .map_err(Error::from)
    })?;
    let expected = format!("late from {}", (rank + 1) % size);
    check(value == expected.as_bytes(), || {
        format!("got {value:?}, expected {expected}")
    })?;
    // A deadline that passes is an error, not a hang.
    match kv.wait_and_get_timeout(
        &Key::new("never", (rank + 1) % size),
        Duration::from_millis(50),
    ) {
        Err(CommError::Timeout(_)) => Ok(()),
        other => Err(Error::App(format!(
            "waiting for a key never put gave {other:?}"
        ))),
    }
}

/// A value of `mib` MiB from rank 0 to the last rank and back.
fn big(node: &Node, mib: usize) -> Result<()> {
    let (rank, size) = (node.rank(), node.size());
    let last = size - 1;
    let pattern = |seed: u8| -> Vec<u8> {
        (0..mib << 20)
            .map(|i| (i as u32).wrapping_mul(2654435761).to_le_bytes()[3] ^ seed)
            .collect()
    };
    let kv = node.comm().kv();
    if rank == 0 {
        let started = Instant::now();
        kv.put(&Key::new("big-out", last), pattern(1))?;
        eprintln!("put {mib} MiB to rank {last} in {:?}", started.elapsed());
    }
    if rank == last {
        kv.put(&Key::new("big-back", 0), pattern(2))?;
        let got = kv.wait_and_get(&Key::new("big-out", last))?;
        check(got == pattern(1), || "big-out arrived damaged".into())?;
    }
    if rank == 0 {
        let started = Instant::now();
        let got = kv.wait_and_get(&Key::new("big-back", 0))?;
        check(got.len() == mib << 20 && got == pattern(2), || {
            "big-back arrived damaged".into()
        })?;
        eprintln!(
            "waited {:?} for {mib} MiB from rank {last}",
            started.elapsed()
        );
        if last != 0 {
            let fetched = kv.get(&Key::new("big-out", last))?;
            check(fetched.map(|b| b.len()) == Some(mib << 20), || {
                "get of big-out failed".into()
            })?;
        }
    }
    Ok(())
}

/// Many threads getting many keys from every rank at once.
fn concurrent(node: &Node) -> Result<()> {
    let (rank, size) = (node.rank(), node.size());
    let kv = node.comm().kv();
    kv.set_cache_budget(0);
    const KEYS: usize = 200;
    for i in 0..KEYS {
        kv.put(
            &Key::new(format!("c{i}"), rank),
            Bytes::from(format!("{rank}:{i}")),
        )?;
    }
    node.comm().barrier()?;
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..8)
            .map(|t| {
                s.spawn(move || -> Result<()> {
                    for j in 0..500 {
                        let home = (t + j) % size;
                        let i = (j * 7 + t) % KEYS;
                        let got = kv.get(&Key::new(format!("c{i}"), home))?;
                        let want = format!("{home}:{i}");
                        check(got.as_deref() == Some(want.as_bytes()), || {
                            format!("c{i}@{home} read as {got:?}")
                        })?;
                    }
                    Ok(())
                })
            })
            .collect();
        workers
            .into_iter()
            .try_for_each(|w| w.join().map_err(|_| Error::App("worker panicked".into()))?)
    })
}

/// Every collective from every root.
fn collectives(node: &Node) -> Result<()> {
    let (rank, size) = (node.rank(), node.size());
    node.comm().barrier()?;
    for root in 0..size {
        let value = (rank == root).then(|| format!("from {root}"));
        let got: String = node.comm().broadcast(root, value)?;
        check(got == format!("from {root}"), || {
            format!("broadcast from {root} gave {got}")
        })?;

        let gathered = node.comm().gather(root, rank as u64 * 10)?;
        let expected = (rank == root).then(|| (0..size as u64).map(|r| r * 10).collect::<Vec<_>>());
        check(gathered == expected, || {
            format!("gather to {root} gave {gathered:?}")
        })?;

        // A non-commutative merge shows the fold runs in rank order.
        let reduced = node
            .comm()
            .reduce(root, rank.to_string(), |a, b| format!("{a},{b}"))?;
        let expected = (rank == root).then(|| {
            (0..size)
                .map(|r| r.to_string())
                .collect::<Vec<_>>()
                .join(",")
        });
        check(reduced == expected, || {
            format!("reduce to {root} gave {reduced:?}")
        })?;
    }
    let sum = node.comm().all_reduce(rank as u64 + 1, |a, b| a + b)?;
    let n = size as u64;
    check(sum == n * (n + 1) / 2, || {
        format!("all_reduce sum gave {sum}")
    })?;
    let all = node.comm().all_gather(rank as u32)?;
    check(all == (0..size as u32).collect::<Vec<_>>(), || {
        format!("all_gather gave {all:?}")
    })?;
    let bits: Vec<u64> = node.comm().all_reduce(vec![1u64 << rank], |a, b| {
        a.iter().zip(&b).map(|(x, y)| x | y).collect()
    })?;
    check(bits == vec![(1u64 << size) - 1], || {
        format!("all_reduce of bitsets gave {bits:?}")
    })?;
    for _ in 0..20 {
        node.comm().barrier()?;
    }
    Ok(())
}

/// Sums column 0 (INT) and records which rows it saw, in order.
#[derive(Clone, Default)]
struct SumRows {
    sum: i64,
    rows: Vec<u64>,
}

impl Rower for SumRows {
    fn accept(&mut self, row: &Row<'_>) -> bool {
        self.sum += i64::from(
            row.get_as::<i32>(0)
                .expect("column 0 is an INT")
                .unwrap_or(0),
        );
        self.rows.push(row.index());
        row.get_as::<i32>(0)
            .expect("column 0 is an INT")
            .is_some_and(|v| v % 2 == 0)
    }
    fn join(&mut self, other: Self) {
        self.sum += other.sum;
        self.rows.extend(other.rows);
    }
}

/// Fills `n` rows of (INT i, STRING "s{i}").
struct Rows {
    next: i32,
    n: i32,
}

impl Writer for Rows {
    fn visit(&mut self, row: &mut RowWriter<'_>) {
        let _ = row.set_int(0, self.next);
        let _ = row.set_str(1, format!("s{}", self.next));
        self.next += 1;
    }
    fn done(&self) -> bool {
        self.next == self.n
    }
}

/// Distributed frames: built by one rank and read by all; built collectively from a SoR
/// file `sor` of rows `<i> <"w{i}"> <i*0.5>`; mapped, filtered and read by (column, row).
fn frames(node: &Node, sor: &Path) -> Result<()> {
    let (rank, size) = (node.rank(), node.size());
    // Each builder on a different rank; every rank reads every frame.
    let values: Vec<Option<i32>> = (0..200_000).map(|i| (i % 7 != 3).then_some(i)).collect();
    if rank == 0 {
        DistFrame::publish(
            node,
            &Key::new("array", 0),
            &DataFrame::from_array_chunked(&values, 1000),
        )?;
    }
    if rank == 1 % size {
        DistFrame::from_scalar(node, &Key::new("scalar", size - 1), 2.5f32)?;
    }
    if rank == 2 % size {
        DistFrame::from_writer(
            node,
            &Key::new("written", 0),
            Schema::from_codes("IS")?,
            &mut Rows { next: 0, n: 5000 },
        )?;
    }
    let array = DistFrame::get(node, &Key::new("array", 0))?;
    check(
        array.nrows() == 200_000 && array.chunk_count() == 200,
        || "array layout".into(),
    )?;
    for row in [0u64, 3, 999, 1000, 123_456, 199_999] {
        let got = array.get_as::<i32>(0, row)?;
        check(got == values[row as usize], || {
            format!("array row {row}: {got:?}")
        })?;
    }
    check(
        array.get_as::<f32>(0, 0).is_err() && array.get_as::<i32>(0, 200_000).is_err(),
        || "bad access accepted".into(),
    )?;
    let scalar = DistFrame::get(node, &Key::new("scalar", size - 1))?;
    check(scalar.get_as::<f32>(0, 0)? == Some(2.5), || "scalar".into())?;
    let written = DistFrame::get(node, &Key::new("written", 0))?;
    check(
        written.get_as::<Vec<u8>>(1, 4321)?.as_deref() == Some(&b"s4321"[..]),
        || "writer frame".into(),
    )?;

    // map: every row, in order, on this rank.
    let expected: i64 = values.iter().flatten().map(|&v| i64::from(v)).sum();
    let mut all = SumRows::default();
    array.map(&mut all)?;
    check(
        all.sum == expected && all.rows == (0..200_000).collect::<Vec<_>>(),
        || "map".into(),
    )?;
    // local_map: only this rank's rows; together, every row once.
    let mut mine = SumRows::default();
    array.local_map(&mut mine)?;
    check(mine.rows.windows(2).all(|w| w[0] < w[1]), || {
        "local_map order".into()
    })?;
    let total = node
        .comm()
        .all_reduce((mine.sum, mine.rows.len() as u64), |a, b| {
            (a.0 + b.0, a.1 + b.1)
        })?;
    check(total == (expected, 200_000), || {
        format!("local_map totals {total:?}")
    })?;
    // filter (collective): the even values, in order.
    let evens = array.filter_with(&Key::new("evens", 0), &SumRows::default())?;
    let want: Vec<i32> = values
        .iter()
        .flatten()
        .copied()
        .filter(|v| v % 2 == 0)
        .collect();
    check(evens.nrows() == want.len() as u64, || {
        format!("filter kept {}", evens.nrows())
    })?;
    for (i, &v) in want.iter().enumerate().step_by(997) {
        let got = evens.get_as::<i32>(0, i as u64)?;
        check(got == Some(v), || {
            format!("filtered row {i}: {got:?}, expected {v}")
        })?;
    }

    // Collective SoR load, whole and projected; every rank keeps its own rows.
    let sor_options = ReadOptions::new().format(Format::Sor);
    let loaded = DistFrame::read_with(node, sor, &sor_options.clone().key(Key::new("sor", 0)))?;
    let deviations = loaded.deviations();
    let n = loaded.nrows();
    check(
        deviations.rows == 0 && loaded.schema().codes() == "ISF",
        || "sor schema".into(),
    )?;
    for row in [0, n / 2, n - 1] {
        let i = row as i32;
        check(loaded.get_as::<i32>(0, row)? == Some(i), || {
            format!("sor row {row}")
        })?;
        check(
            loaded.get_as::<Vec<u8>>(1, row)? == Some(format!("w{i}").into_bytes()),
            || format!("sor row {row} str"),
        )?;
        check(
            loaded.get_as::<f32>(2, row)? == Some(i as f32 * 0.5),
            || format!("sor row {row} float"),
        )?;
    }
    let homes: Vec<usize> = loaded.local_chunks();
    check(
        homes
            .iter()
            .all(|&c| loaded.descriptor().chunks[c].home as usize == rank),
        || "homes".into(),
    )?;
    let names = DistFrame::read_with(node, sor, &sor_options.columns(&["c1"]))?;
    check(names.ncols() == 1 && names.nrows() == n, || {
        "projection".into()
    })?;
    check(
        names.get_as::<Vec<u8>>(0, n - 1)? == Some(format!("w{}", n - 1).into_bytes()),
        || "projected value".into(),
    )?;
    Ok(())
}

/// Rank `victim` panics after a barrier; the others wait for a key that never comes.
fn panic_at(node: &Node, victim: usize) -> Result<()> {
    node.comm().barrier()?;
    if node.rank() == victim {
        panic!("rank {victim} panics on purpose");
    }
    node.comm()
        .kv()
        .wait_and_get(&Key::new("never", victim.min(node.size() - 1)))?;
    Err(Error::App("a key that was never put arrived".into()))
}

/// Rank 0 creates `ready_file` once the job is assembled and waits until the test has
/// thrown bad connections at it (the test then creates `go_file`); the job must still
/// work after.
fn strangers(node: &Node, ready_file: &Path, go_file: &Path) -> Result<()> {
    if node.rank() == 0 {
        std::fs::write(ready_file, b"ready")
            .map_err(|e| Error::io_path("writing", ready_file, e))?;
        let deadline = Instant::now() + Duration::from_secs(60);
        while !go_file.exists() {
            if Instant::now() > deadline {
                return Err(
                    CommError::Timeout(format!("{} never appeared", go_file.display())).into(),
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    kv(node)?;
    collectives(node)
}
