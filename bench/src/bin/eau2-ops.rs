//! The eau2 side of the relational-operator benchmark (`benches/ops.rs`), run on N ranks
//! through eau2-launch as `eau2-ops CASE DATA_DIR`. Every rank loads what the case needs
//! (untimed, except for the `csv` case, whose work is the load), then all ranks time the
//! case between two barriers. This is what `bench/polars/ops.py` times: the same inputs
//! read untimed, then `group_by("k1")` with a count and a sum of `v`, an inner join with
//! `dim` on `k2`, a sort by `k2`, or `group_by("k1")` with the number of distinct `k2`
//! (`count_distinct`: many groups, each with a set of values), or the distinct `k2`
//! (`distinct`: one column's unique values), or aggregates over every row without keys
//! (`agg`: count, sum and mean of `v`, min and max of `k2`); the timed span ends when every rank holds its part
//! of the result. Rank 0 prints `time SECONDS rows ROWS`; every rank prints
//! `rss MIB`, its peak resident set size.
//!
//! Cases whose operators eau2 does not have yet exit with status 3 and say so; adding
//! one is a `prepare` (the untimed load) and a `timed` arm below.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use eau2::kv::Key;
use eau2::table::{Agg, DistFrame, JoinKind, ReadOptions};
use eau2::{Error, Node, Result};

use eau2_bench::OPS_CASES as CASES;

/// The exit status for a case eau2 cannot run yet.
const UNSUPPORTED: u8 = 3;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(case), Some(dir)) = (args.first(), args.get(1)) else {
        eprintln!("usage: eau2-ops {} DATA_DIR", CASES.join("|"));
        return ExitCode::from(2);
    };
    if !CASES.contains(&case.as_str()) {
        eprintln!(
            "eau2-ops: unknown case {case:?} (cases: {})",
            CASES.join(", ")
        );
        return ExitCode::from(2);
    }
    if !supported(case) {
        eprintln!("eau2-ops: the {case} case needs an operator eau2 does not have yet");
        return ExitCode::from(UNSUPPORTED);
    }
    let dir = PathBuf::from(dir);
    let case = case.clone();
    eau2::run(move |node| {
        let inputs = prepare(node, &case, &dir)?;
        node.comm().barrier()?;
        let started = Instant::now();
        let rows = timed(node, &case, &dir, &inputs)?;
        node.comm().barrier()?;
        let took = started.elapsed();
        if node.rank() == 0 {
            println!("time {:.6} rows {rows}", took.as_secs_f64());
        }
        println!("rss {}", peak_rss_mib().unwrap_or(0));
        Ok(())
    })
}

/// Whether eau2 has the operators of `case`.
fn supported(case: &str) -> bool {
    CASES.contains(&case)
}

/// The inputs a case loads before its timed part.
struct Inputs<'n> {
    /// `facts.csv` (`k1,k2,v`): group-by, join (left side) and sort.
    facts: Option<DistFrame<'n>>,
    /// `dim.csv` (`k2,w`): the join's right side.
    dim: Option<DistFrame<'n>>,
}

/// Loads `name` from `dir` as the frame `key`, with its header's column names.
fn load<'n>(node: &'n Node, dir: &Path, name: &str, key: &str) -> Result<DistFrame<'n>> {
    let options = ReadOptions::new().key(Key::new(key, 0));
    DistFrame::read_with(node, dir.join(name), &options)
}

/// The untimed part of a case: loading its inputs (as polars' side does).
fn prepare<'n>(node: &'n Node, case: &str, dir: &Path) -> Result<Inputs<'n>> {
    let facts = match case {
        "groupby" | "join" | "sort" | "count_distinct" | "distinct" | "agg" => {
            Some(load(node, dir, "facts.csv", "facts")?)
        }
        _ => None,
    };
    let dim = match case {
        "join" => Some(load(node, dir, "dim.csv", "dim")?),
        _ => None,
    };
    Ok(Inputs { facts, dim })
}

/// A loaded input, or an error naming the case and the input.
fn need<'a, 'n>(f: &'a Option<DistFrame<'n>>, case: &str, what: &str) -> Result<&'a DistFrame<'n>> {
    f.as_ref()
        .ok_or_else(|| Error::Config(format!("case {case}: {what} was not loaded")))
}

/// The timed part of a case; returns the rows of its result.
fn timed(node: &Node, case: &str, dir: &Path, inputs: &Inputs<'_>) -> Result<u64> {
    match case {
        "csv" => {
            let options = ReadOptions::new().key(Key::new("mixed", 0));
            let frame = DistFrame::read_with(node, dir.join("mixed.csv"), &options)?;
            Ok(frame.nrows())
        }
        "groupby" => {
            let facts = need(&inputs.facts, case, "facts")?;
            let out = facts
                .group_by(&["k1"])?
                .agg(&[Agg::count(), Agg::sum("v").alias("sum")])?;
            Ok(out.nrows())
        }
        "count_distinct" => {
            let facts = need(&inputs.facts, case, "facts")?;
            let out = facts
                .group_by(&["k1"])?
                .agg(&[Agg::count_distinct("k2").alias("distinct")])?;
            Ok(out.nrows())
        }
        "distinct" => {
            // The distinct values of one column (what the Linus stages do per stage).
            let facts = need(&inputs.facts, case, "facts")?;
            Ok(facts.select(&["k2"])?.distinct()?.nrows())
        }
        "agg" => {
            let facts = need(&inputs.facts, case, "facts")?;
            let out = facts.agg(&[
                Agg::count(),
                Agg::sum("v"),
                Agg::mean("v"),
                Agg::min("k2"),
                Agg::max("k2"),
            ])?;
            Ok(out.nrows())
        }
        "join" => {
            let facts = need(&inputs.facts, case, "facts")?;
            let dim = need(&inputs.dim, case, "dim")?;
            Ok(facts.join(dim, &["k2"], JoinKind::Inner)?.nrows())
        }
        "sort" => {
            let facts = need(&inputs.facts, case, "facts")?;
            Ok(facts.sort_by(&["k2"], &[false])?.nrows())
        }
        other => Err(Error::Config(format!("case {other} is not timed yet"))),
    }
}

/// This process's peak resident set size (Linux's `VmHWM`), when the OS reports it.
fn peak_rss_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}
