//! The relational operators across real processes: each operator run by `ops-check` on
//! 1 to 4 ranks over seeded random frames with missing values, split unevenly over the
//! ranks in chunks that do not divide the rows, against a plain sequential computation
//! here; and reads of freed frames failing at once.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use eau2_testkit::cells::{Cell, Table};
use eau2_testkit::ops_data::{dims, facts, nested_loop_join, row_text};
use eau2_testkit::{bin, launch_probe};

const DEADLINE: Duration = Duration::from_secs(180);

/// Column indices of the facts frame.
const K: usize = 0;
const S: usize = 1;
const V: usize = 2;
const F: usize = 3;
const B: usize = 4;

/// Runs `op` on `n` ranks; returns the schema line and the row lines rank 0 printed.
fn run(
    n: usize,
    op: &str,
    (seed, rows, right, chunk): Config,
    env: &[(&str, &str)],
) -> (String, Vec<String>) {
    let args = [
        op.to_string(),
        seed.to_string(),
        rows.to_string(),
        right.to_string(),
        chunk.to_string(),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = launch_probe(n, &bin("ops-check"), &args, env, DEADLINE);
    let lines = out.unprefixed_lines();
    let schema = lines
        .iter()
        .find_map(|l| l.strip_prefix("schema\t"))
        .unwrap_or_else(|| panic!("no schema line in:\n{}", out.stdout))
        .to_string();
    let rows = lines
        .iter()
        .filter_map(|l| l.strip_prefix("row\t").map(str::to_string))
        .collect();
    (schema, rows)
}

/// The column names of a schema line (`name:TYPE|...`).
fn names(schema: &str) -> Vec<&str> {
    schema
        .split('|')
        .map(|c| c.split(':').next().unwrap_or(""))
        .collect()
}

fn lines(table: &[Vec<Option<Cell>>]) -> Vec<String> {
    table.iter().map(|r| row_text(r)).collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn int(c: &Option<Cell>) -> Option<i32> {
    match c {
        Some(Cell::Int(i)) => Some(*i),
        _ => None,
    }
}

fn float(c: &Option<Cell>) -> Option<f32> {
    match c {
        Some(Cell::Float(b)) => Some(f32::from_bits(*b)),
        _ => None,
    }
}

/// Present values in their type's order (floats by value).
fn cmp_present(a: &Cell, b: &Cell) -> Ordering {
    match (a, b) {
        (Cell::Float(x), Cell::Float(y)) => f32::from_bits(*x).total_cmp(&f32::from_bits(*y)),
        (Cell::Int(x), Cell::Int(y)) => x.cmp(y),
        (Cell::Bool(x), Cell::Bool(y)) => x.cmp(y),
        (Cell::Str(x), Cell::Str(y)) => x.cmp(y),
        _ => panic!("cells of different types"),
    }
}

/// Missing last whatever the direction.
fn cmp_cell(a: &Option<Cell>, b: &Option<Cell>, descending: bool) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(x), Some(y)) if descending => cmp_present(y, x),
        (Some(x), Some(y)) => cmp_present(x, y),
    }
}

fn f(v: f32) -> Option<Cell> {
    Some(Cell::Float(v.to_bits()))
}

fn d(v: f64) -> Option<Cell> {
    Some(Cell::F64(v.to_bits()))
}

/// The group-by of ops-check, sequentially.
fn group_by(t: &Table) -> Vec<String> {
    let mut groups: BTreeMap<String, Vec<&Vec<Option<Cell>>>> = BTreeMap::new();
    for row in t {
        groups.entry(row_text(&row[..2])).or_default().push(row);
    }
    let mut out = Vec::new();
    for rows in groups.values() {
        let vs: Vec<i32> = rows.iter().filter_map(|r| int(&r[V])).collect();
        let fs: Vec<f32> = rows.iter().filter_map(|r| float(&r[F])).collect();
        let smax = rows.iter().filter_map(|r| r[S].clone()).max_by(cmp_present);
        let bmin = rows.iter().filter_map(|r| r[B].clone()).min_by(cmp_present);
        let fmax = fs.iter().copied().max_by(f32::total_cmp);
        let fsum: f64 = fs.iter().fold(0.0, |a, &x| a + f64::from(x));
        let distinct: BTreeSet<i32> = vs.iter().copied().collect();
        let row = vec![
            rows[0][K].clone(),
            rows[0][S].clone(),
            Some(Cell::I64(rows.len() as i64)),
            Some(Cell::I64(vs.len() as i64)),
            Some(Cell::I64(vs.iter().map(|&v| i64::from(v)).sum())),
            d(fsum),
            vs.iter().min().map(|&v| Cell::Int(v)),
            smax,
            if fs.is_empty() {
                None
            } else {
                d(fsum / fs.len() as f64)
            },
            Some(Cell::I64(distinct.len() as i64)),
            bmin,
            fmax.and_then(f),
        ];
        out.push(row_text(&row));
    }
    sorted(out)
}

/// A join of facts with dims on k, sequentially.
fn join(t: &Table, d: &Table, left: bool) -> Vec<String> {
    sorted(nested_loop_join(t, d, (&[K], &[0]), &[1], left))
}

/// A join of `t` with itself on the columns `on`, keeping column `kept` of the right
/// side, sequentially; a row whose key has a missing value matches nothing.
fn self_join(t: &Table, on: &[usize], kept: usize, left: bool) -> Vec<String> {
    sorted(nested_loop_join(t, t, (on, on), &[kept], left))
}

/// Stable sort of `t` by (column, descending) keys.
fn sort(t: &Table, by: &[(usize, bool)]) -> Table {
    let mut t = t.clone();
    t.sort_by(|a, b| {
        by.iter()
            .map(|&(c, d)| cmp_cell(&a[c], &b[c], d))
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    });
    t
}

/// What ops-check must print for `op`: the column names and the rows (sorted when the
/// operator's order is unspecified).
fn expected(
    op: &str,
    seed: u64,
    rows: usize,
    right: usize,
) -> (Vec<&'static str>, Vec<String>, bool) {
    let (_, t) = facts(seed, rows);
    let (_, d) = dims(seed, right);
    let all = vec!["k", "s", "v", "f", "b"];
    match op {
        "filter" => {
            let kept: Table = t
                .iter()
                .filter(|r| int(&r[V]).is_some_and(|v| v > 0))
                .cloned()
                .collect();
            (all, lines(&kept), true)
        }
        "with_column" => {
            let out: Table = t
                .iter()
                .map(|r| {
                    let mut r = r.clone();
                    let w = int(&r[V])
                        .zip(int(&r[K]))
                        .map(|(v, k)| Cell::Int(v * 2 + k));
                    r.push(w);
                    r
                })
                .collect();
            (vec!["k", "s", "v", "f", "b", "w"], lines(&out), true)
        }
        "select" => {
            let out: Table = t.iter().map(|r| vec![r[F].clone(), r[K].clone()]).collect();
            (vec!["f", "k"], lines(&out), true)
        }
        "repartition" => (all, sorted(lines(&t)), false),
        "group_by" => (
            vec![
                "k",
                "s",
                "count",
                "v_count",
                "v_sum",
                "f_sum",
                "v_min",
                "smax",
                "f_mean",
                "v_count_distinct",
                "b_min",
                "f_max",
            ],
            group_by(&t),
            false,
        ),
        "distinct" => {
            let set: BTreeSet<String> = t.iter().map(|r| row_text(&r[..2])).collect();
            (vec!["k", "s"], set.into_iter().collect(), false)
        }
        "join_inner" => (
            vec!["k", "s", "v", "f", "b", "name"],
            join(&t, &d, false),
            false,
        ),
        "join_left" => (
            vec!["k", "s", "v", "f", "b", "name"],
            join(&t, &d, true),
            false,
        ),
        "join_ks" => (
            vec!["k", "s", "v", "f", "b", "v_right"],
            self_join(&t, &[K, S], V, false),
            false,
        ),
        "join_kb" => (
            vec!["k", "s", "v", "f", "b", "f_right"],
            self_join(&t, &[K, B], F, true),
            false,
        ),
        "sort" => (all, lines(&sort(&t, &[(K, false), (V, true)])), true),
        "sort_long" => (all, lines(&sort(&t, &[(S, true), (F, false)])), true),
        "sort_mixed" => (
            all,
            lines(&sort(&t, &[(F, true), (B, false), (K, true)])),
            true,
        ),
        "top_k" => {
            let mut s = sort(&t, &[(F, true)]);
            s.truncate(7);
            (all, lines(&s), true)
        }
        other => panic!("no reference for {other}"),
    }
}

/// A run's seed, facts rows, dims rows and chunk length.
type Config = (u64, usize, usize, usize);

fn check(op: &str, configs: &[Config]) {
    check_with(op, configs, &[]);
}

fn check_with(op: &str, configs: &[Config], env: &[(&str, &str)]) {
    for n in 1..=4 {
        for &(seed, rows, right, chunk) in configs {
            let (want_names, want, ordered) = expected(op, seed, rows, right);
            let (schema, got) = run(n, op, (seed, rows, right, chunk), env);
            let got = if ordered { got } else { sorted(got) };
            let what = format!("{op} on {n} ranks, seed {seed}, {rows} rows, {right} right rows, chunks of {chunk}");
            assert_eq!(names(&schema), want_names, "{what}: columns");
            if op == "group_by" {
                // Counts and integer sums are 64-bit integers, float sums and means
                // 64-bit floats; extremes keep their column's type.
                for typed in [
                    "count:I64",
                    "v_sum:I64",
                    "f_sum:F64",
                    "f_mean:F64",
                    "v_min:INT",
                ] {
                    assert!(schema.contains(typed), "{what}: {typed} in {schema}");
                }
            }
            assert_eq!(got.len(), want.len(), "{what}: row count");
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                assert_eq!(g, w, "{what}: row {i}");
            }
        }
    }
}

/// Row counts and chunk lengths that do not divide each other, and an empty frame.
const CONFIGS: [Config; 3] = [(1, 700, 30, 7), (2, 333, 25, 64), (3, 0, 5, 4)];

#[test]
fn filter_with_column_and_select_match_a_sequential_run() {
    for op in ["filter", "with_column", "select"] {
        check(op, &CONFIGS);
    }
}

#[test]
fn repartition_and_distinct_match_a_sequential_run() {
    for op in ["repartition", "distinct"] {
        check(op, &CONFIGS);
    }
}

#[test]
fn group_by_with_every_aggregate_matches_a_sequential_run() {
    check("group_by", &CONFIGS);
}

#[test]
fn joins_broadcast_and_co_partitioned_match_a_sequential_run() {
    // 30 right rows are broadcast; 900 are more than the left side: co-partitioned.
    let configs = [(4, 500, 30, 9), (5, 500, 900, 13), (6, 0, 40, 3)];
    for op in ["join_inner", "join_left"] {
        check(op, &configs);
    }
}

/// Self joins on two key columns (INT and STRING, INT and BOOL): the right side is as
/// large as the left, so broadcast on 1 and 2 ranks and co-partitioned on 3 and 4.
#[test]
fn self_joins_on_two_key_columns_match_a_sequential_run() {
    let configs = [(9, 300, 0, 7), (10, 0, 0, 5)];
    for op in ["join_ks", "join_kb"] {
        check(op, &configs);
    }
}

#[test]
fn sort_and_top_k_match_a_stable_sequential_sort() {
    // sort_long's keys (a string and a float) are longer than the packed keys of sort's.
    for op in ["sort", "sort_long", "top_k"] {
        check(op, &CONFIGS);
    }
}

/// Enough rows that the radix sort of packed keys makes full passes (its buckets are past
/// the size it leaves to a comparison sort), with a key of every fixed-width type but the
/// 64-bit ones, mixed directions.
#[test]
fn sorts_of_many_rows_by_packed_keys_match_a_stable_sequential_sort() {
    for op in ["sort", "sort_mixed"] {
        check(op, &[(8, 20_000, 5, 997)]);
    }
}

/// Exchanges of a few hundred bytes a round: many rounds, some ranks out of data early.
#[test]
fn exchanges_in_many_small_rounds_give_the_same_results() {
    let env = [("EAU2_EXCHANGE_ROUND_BYTES", "300")];
    let configs = [(7, 400, 500, 5)];
    for op in ["repartition", "sort", "join_left"] {
        check_with(op, &configs, &env);
    }
}

#[test]
fn freed_frames_fail_reads_at_once_on_every_rank() {
    for n in 1..=3 {
        launch_probe(n, &bin("ops-check"), &["freed"], &[], DEADLINE);
    }
}
