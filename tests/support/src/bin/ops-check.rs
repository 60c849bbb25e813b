//! A probe program for the relational operators' multi-process tests. Run on N ranks as
//! `ops-check OP SEED ROWS RIGHT_ROWS CHUNK`: every rank builds its uneven share of the
//! seeded random frames of `eau2_testkit::ops_data` (ROWS facts, RIGHT_ROWS dims) in
//! chunks of CHUNK rows, runs operator OP, and rank 0 prints the result, one
//! `row\t...` line per row in the result's order, after a `schema\t...` line, then
//! `OP ok`. The test compares those lines with a sequential computation.
//!
//! `ops-check freed` checks instead that reading a freed frame, or one whose temporary
//! handle was dropped, fails with the "freed" error, and that a wait pending when its
//! family is freed fails too, on every rank.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use eau2::frame::{DataFrame, Row};
use eau2::kv::Key;
use eau2::table::{Agg, DistFrame, JoinKind};
use eau2::{Error, Node, Result};
use eau2_testkit::cells::table_of;
use eau2_testkit::check;
use eau2_testkit::ops_data::{dims, facts, frame_of, part, row_text};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(op) = args.first().cloned() else {
        eprintln!("usage: ops-check OP SEED ROWS RIGHT_ROWS CHUNK | ops-check freed");
        return ExitCode::from(2);
    };
    let number = |i: usize| -> Result<usize> {
        args.get(i)
            .and_then(|a| a.parse().ok())
            .ok_or_else(|| Error::Config(format!("argument {i} must be a number")))
    };
    eau2::run(|node| {
        if op == "freed" {
            freed(node)?;
        } else if op == "file" {
            let path = args
                .get(1)
                .ok_or_else(|| Error::Config("file needs a path".into()))?;
            let local = file_pipeline(&DistFrame::read(node, path)?)?.to_local()?;
            if node.rank() == 0 {
                print(&local);
            }
        } else {
            let (seed, rows, right_rows, chunk) = (number(1)?, number(2)?, number(3)?, number(4)?);
            let facts = load(node, "facts", facts(seed as u64, rows), chunk)?;
            let dims = load(node, "dims", dims(seed as u64, right_rows), chunk)?;
            let result = match op.as_str() {
                "drift" => drift(node, &facts)?,
                _ => run_op(&op, &facts, &dims)?,
            };
            let local = result.to_local()?;
            if node.rank() == 0 {
                print(&local);
            }
        }
        if node.rank() == 0 {
            println!("{op} ok");
        }
        Ok(())
    })
}

/// This rank's uneven share of a seeded table, as one distributed frame.
fn load<'n>(
    node: &'n Node,
    name: &str,
    (schema, table): (eau2::frame::Schema, eau2_testkit::cells::Table),
    chunk: usize,
) -> Result<DistFrame<'n>> {
    let mine = part(node.rank(), node.size(), table.len());
    let local = frame_of(&schema, &table[mine], chunk);
    DistFrame::from_local_parts(node, &Key::new(name, 0), &local)
}

fn run_op<'n>(op: &str, facts: &DistFrame<'n>, dims: &DistFrame<'n>) -> Result<DistFrame<'n>> {
    match op {
        "filter" => {
            facts.filter(|row: &Row<'_>| Ok(row.get_as::<i32>("v")?.is_some_and(|v| v > 0)))
        }
        "with_column" => facts.with_column("w", |row: &Row<'_>| {
            let (v, k) = (row.get_as::<i32>("v")?, row.get_as::<i32>("k")?);
            Ok(v.zip(k).map(|(v, k)| v * 2 + k))
        }),
        "select" => facts.select(&["f", "k"]),
        "repartition" => facts.repartition(&["k", "s"]),
        "group_by" => facts.group_by(&["k", "s"])?.agg(&[
            Agg::count(),
            Agg::count_of("v"),
            Agg::sum("v"),
            Agg::sum("f"),
            Agg::min("v"),
            Agg::max("s").alias("smax"),
            Agg::mean("f"),
            Agg::count_distinct("v"),
            Agg::min("b"),
            Agg::max("f"),
        ]),
        "distinct" => facts.select(&["k", "s"])?.distinct(),
        "join_inner" => facts.join(dims, &["k"], JoinKind::Inner),
        "join_left" => facts.join(dims, &["k"], JoinKind::Left),
        // Self joins on two key columns: INT and STRING (keys of any length, hashed as
        // bytes), INT and BOOL (short keys, an open-addressing table).
        "join_ks" => facts.join(
            &facts.select(&["k", "s", "v"])?,
            &["k", "s"],
            JoinKind::Inner,
        ),
        "join_kb" => facts.join(
            &facts.select(&["k", "b", "f"])?,
            &["k", "b"],
            JoinKind::Left,
        ),
        "sort" => facts.sort_by(&["k", "v"], &[false, true]),
        "sort_long" => facts.sort_by(&["s", "f"], &[true, false]),
        "sort_mixed" => facts.sort_by(&["f", "b", "k"], &[true, false, true]),
        "top_k" => facts.top_k(7, &["f"], &[true]),
        "pipeline" => pipeline(facts, dims),
        other => Err(Error::Config(format!("unknown operator {other:?}"))),
    }
}

/// A program whose operators are not the same in every attempt, as one whose course
/// depends on something besides its inputs: the first attempt filters, then counts per
/// key; later attempts (or every attempt with `DRIFT_FORCE` set) sort, then count. A
/// restarted attempt must not take the filter's saved output for its sort, nor the
/// first attempt's counts (of fewer rows) for its own.
fn drift<'n>(node: &Node, facts: &DistFrame<'n>) -> Result<DistFrame<'n>> {
    let rows = match node.epoch() == 0 && std::env::var_os("DRIFT_FORCE").is_none() {
        true => facts.filter(|row: &Row<'_>| Ok(row.get_as::<i32>("v")?.is_some_and(|v| v > 0)))?,
        false => facts.sort_by(&["k"], &[false])?,
    };
    rows.group_by(&["k"])?
        .agg(&[Agg::count()])?
        .sort_by(&["k"], &[false])
}

/// Six operators, each on the previous one's output (the dims join brings several rows
/// per key, and rows with missing keys on both sides).
fn pipeline<'n>(facts: &DistFrame<'n>, dims: &DistFrame<'n>) -> Result<DistFrame<'n>> {
    let kept =
        facts.filter(|row: &Row<'_>| Ok(row.get_as::<i32>("v")?.is_some_and(|v| v > -50)))?;
    let groups = kept.group_by(&["k"])?.agg(&[
        Agg::count(),
        Agg::sum("v").alias("total"),
        Agg::max("f").alias("top"),
    ])?;
    let named = groups.join(dims, &["k"], JoinKind::Left)?;
    let sorted = named.sort_by(&["k", "name"], &[false, true])?;
    let scored = sorted.with_column("score", |row: &Row<'_>| {
        let (n, k) = (row.get_as::<i64>("count")?, row.get_as::<i32>("k")?);
        Ok(n.map(|n| n * 3 + i64::from(k.unwrap_or(-1))))
    })?;
    scored.select(&["k", "name", "score", "total", "top"])
}

/// Three operators on a loaded file.
fn file_pipeline<'n>(rows: &DistFrame<'n>) -> Result<DistFrame<'n>> {
    let kept =
        rows.filter(|row: &Row<'_>| Ok(row.get_as::<i64>("id")?.is_some_and(|i| i % 3 > 0)))?;
    let groups = kept
        .group_by(&["name"])?
        .agg(&[Agg::count(), Agg::sum("score").alias("total")])?;
    groups.sort_by(&["name"], &[false])
}

fn print(frame: &DataFrame) {
    let names: Vec<String> = (0..frame.ncols())
        .map(|c| {
            format!(
                "{}:{}",
                frame.schema().names()[c],
                frame.schema().types()[c]
            )
        })
        .collect();
    println!("schema\t{}", names.join("|"));
    for row in table_of(frame) {
        println!("row\t{}", row_text(&row));
    }
}

/// Asserts that `result` is the "freed" error.
fn is_freed<T>(result: Result<T>, what: &str) -> Result<()> {
    match result {
        Err(e) if e.to_string().contains("freed") => Ok(()),
        Err(e) => Err(Error::App(format!(
            "{what}: expected a freed error, got: {e}"
        ))),
        Ok(_) => Err(Error::App(format!(
            "{what}: a freed frame was still readable"
        ))),
    }
}

fn freed(node: &Node) -> Result<()> {
    let values: Vec<i32> = (0..1000).collect();
    let local = DataFrame::from_array_chunked(&values, 7);
    let key = Key::new("to-free", 0);
    let frame = DistFrame::from_local_parts(node, &key, &local)?;
    let chunks = frame.chunk_count();
    frame.free()?;
    // Every rank, every chunk (local and remote) and the descriptor: an error at once.
    is_freed(
        DistFrame::get(node, &key),
        "the descriptor of a freed frame",
    )?;
    for i in 0..chunks {
        let chunk = Key::new(format!("to-free\0{}\0{i}", 0), i % node.size());
        is_freed(
            node.comm().kv().wait_and_get(&chunk).map_err(Error::from),
            "a chunk",
        )?;
    }

    // A dropped temporary frame is gone once every rank passed the next operator.
    let base = DistFrame::from_local_parts(node, &Key::new("base", 0), &local)?;
    let temp =
        base.filter(|row: &Row<'_>| Ok(row.get_as::<i32>(0)?.is_some_and(|v| v % 3 == 0)))?;
    let temp_key = temp.key().clone();
    check(temp.nrows() as usize == 334 * node.size(), || {
        format!("filter kept {} rows", temp.nrows())
    })?;
    drop(temp);
    let _next = base.select(&["c0"])?;
    node.comm().barrier()?;
    is_freed(DistFrame::get(node, &temp_key), "a dropped temporary frame")?;

    // A wait pending at the home when the family is freed fails instead of hanging.
    let pending = Key::new("pending\0x", 0);
    if node.size() > 1 {
        if node.rank() == 1 {
            std::thread::scope(|s| {
                let waiter = s.spawn(|| node.comm().kv().wait_and_get(&pending));
                node.comm().send(0, 7, eau2::Bytes::new())?;
                let result = waiter
                    .join()
                    .map_err(|_| Error::App("the waiting thread panicked".into()))?;
                is_freed(result.map_err(Error::from), "a pending wait")
            })?;
        } else if node.rank() == 0 {
            node.comm().recv(1, 7)?;
            // The request is on its way: free once it is registered here.
            let deadline = Instant::now() + Duration::from_secs(60);
            while node.comm().kv().waiting() == 0 {
                check(Instant::now() < deadline, || {
                    "the wait never arrived".into()
                })?;
                std::thread::sleep(Duration::from_millis(5));
            }
            node.comm().kv().free_family("pending");
        }
    }
    Ok(node.comm().barrier()?)
}
