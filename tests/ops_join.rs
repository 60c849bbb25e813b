//! Inner and left joins on every kind of key the join's index lays out differently
//! (integer ids in a narrow range, integers spread wide, I64, BOOL, STRING, two columns),
//! with the key distributions users meet: one key on 90% of the rows, every key equal,
//! repeated keys on both sides (their cross product), missing keys, ranks without rows.
//! On 1, 3 and 4 ranks (threads over real sockets), with the right side broadcast (many
//! left rows) and co-partitioned (many right rows), against a sequential nested-loop
//! join of the same rows.

use std::time::Duration;

use eau2::frame::{DataType, Schema};
use eau2::table::JoinKind;
use eau2::{Local, Node, Result};
use eau2_testkit::cells::{table_of, Cell, Table};
use eau2_testkit::ops_data::{load_share, nested_loop_join, row_text, Rng};

/// The rank counts every check runs on.
const RANKS: [usize; 3] = [1, 3, 4];

/// The key column types, each with how a small number becomes a key value.
const KEY_TYPES: [&str; 6] = ["int", "int_wide", "i64", "bool", "string", "two"];

/// How keys are drawn.
const SHAPES: [&str; 4] = ["skewed", "equal", "repeated", "missing"];

/// (left rows, right rows): the right side broadcast on up to 4 ranks, then
/// co-partitioned on more than one.
const SIZES: [(usize, usize); 2] = [(200, 60), (60, 200)];

/// Runs `program` on `n` ranks as threads, with a deadline so that no test hangs; the
/// lines rank 0 returns.
fn job(n: usize, program: impl Fn(&Node) -> Result<Vec<String>> + Sync) -> Vec<String> {
    let mut out = Local::new(n)
        .timeout(Duration::from_secs(300))
        .run(program)
        .unwrap_or_else(|e| panic!("job on {n} ranks failed: {e}"));
    out.swap_remove(0)
}

/// Key number `v` as a value of key type `ty` (for "two", its first column).
fn key_cell(ty: &str, v: u64) -> Cell {
    let v = v as i64;
    match ty {
        "int" | "two" => Cell::Int(v as i32 - 3),
        // Values far apart: no slot per value.
        "int_wide" => Cell::Int((v * 40_000_000 - 1_000_000_000) as i32),
        "i64" => Cell::I64(v * 1_000_000_007 - (1 << 62)),
        "bool" => Cell::Bool(v % 2 == 0),
        _ => Cell::Str(format!("key\0{v}").into_bytes()),
    }
}

fn key_type(ty: &str) -> DataType {
    match ty {
        "int" | "int_wide" | "two" => DataType::Int,
        "i64" => DataType::I64,
        "bool" => DataType::Bool,
        _ => DataType::String,
    }
}

/// A key number drawn for `shape`, or `None` for a missing key.
fn draw(shape: &str, rng: &mut Rng) -> Option<u64> {
    match shape {
        "skewed" => Some(if rng.chance(90) { 7 } else { rng.below(40) }),
        "equal" => Some(5),
        "repeated" => Some(rng.below(12)),
        _ => (!rng.chance(30)).then(|| rng.below(12)),
    }
}

/// A side of the join: key column `k`, a second key column `k2` (INT, used by the
/// "two" key type), and a payload naming the row.
fn side(ty: &str, shape: &str, rows: usize, seed: u64, payload: &str) -> (Schema, Table) {
    let mut schema = Schema::default();
    schema.push(key_type(ty), Some("k".into()));
    schema.push(DataType::Int, Some("k2".into()));
    schema.push(DataType::String, Some(payload.into()));
    let mut rng = Rng::new(seed);
    let table = (0..rows)
        .map(|i| {
            let k = draw(shape, &mut rng);
            let k2 = if ty == "two" {
                (!rng.chance(5)).then(|| Cell::Int(rng.below(2) as i32))
            } else {
                Some(Cell::Int(0))
            };
            vec![
                k.map(|v| key_cell(ty, v)),
                k2,
                Some(Cell::Str(format!("{payload}{i}").into_bytes())),
            ]
        })
        .collect();
    (schema, table)
}

/// The key columns a join of key type `ty` is on.
fn on(ty: &str) -> Vec<&'static str> {
    if ty == "two" {
        vec!["k", "k2"]
    } else {
        vec!["k"]
    }
}

/// The join sequentially: each left row in order with its matches in right order (a
/// missing key value matches nothing); a left join keeps unmatched rows with missing
/// right columns. Columns: the left ones, then the right ones but the keys.
fn nested_loop(left: &Table, right: &Table, on: &[usize], kind: JoinKind) -> Vec<String> {
    let kept: Vec<usize> = (0..3).filter(|c| !on.contains(c)).collect();
    nested_loop_join(left, right, (on, on), &kept, kind == JoinKind::Left)
}

/// Every case: (key type, shape, sizes, join kind).
fn cases() -> Vec<(&'static str, &'static str, (usize, usize), JoinKind)> {
    let mut all = Vec::new();
    for ty in KEY_TYPES {
        for shape in SHAPES {
            for sizes in SIZES {
                for kind in [JoinKind::Inner, JoinKind::Left] {
                    all.push((ty, shape, sizes, kind));
                }
            }
        }
    }
    all
}

/// The two sides of a case.
fn sides(ty: &str, shape: &str, (l, r): (usize, usize)) -> ((Schema, Table), (Schema, Table)) {
    (side(ty, shape, l, 11, "l"), side(ty, shape, r, 12, "r"))
}

#[test]
fn joins_on_every_key_layout_and_distribution_match_a_nested_loop() {
    let cases = cases();
    for n in RANKS {
        // One job per rank count runs every case; each case's rows come back as one
        // line per row, after a line naming the case.
        let got = job(n, |node| {
            let mut out = Vec::new();
            for (i, &(ty, shape, sizes, kind)) in cases.iter().enumerate() {
                let (left, right) = sides(ty, shape, sizes);
                let l = load_share(node, &format!("l{i}"), &left, 7)?;
                let r = load_share(node, &format!("r{i}"), &right, 5)?;
                let joined = l.join(&r, &on(ty), kind)?;
                out.push(format!("case {i}"));
                // Only rank 0's lines are checked: the others need not fetch the rows.
                if node.rank() == 0 {
                    out.extend(
                        table_of(&joined.to_local()?)
                            .iter()
                            .map(|row| row_text(row)),
                    );
                }
            }
            Ok(out)
        });
        let mut at = 0;
        for (i, &(ty, shape, sizes, kind)) in cases.iter().enumerate() {
            assert_eq!(got[at], format!("case {i}"));
            let end = got[at + 1..]
                .iter()
                .position(|l| l.starts_with("case "))
                .map_or(got.len(), |p| at + 1 + p);
            let rows = got[at + 1..end].to_vec();
            at = end;
            let (left, right) = sides(ty, shape, sizes);
            let cols: Vec<usize> = (0..on(ty).len()).collect();
            let want = nested_loop(&left.1, &right.1, &cols, kind);
            let what = format!("{kind:?} join on {ty} keys, {shape}, {sizes:?} rows, {n} ranks");
            // A broadcast join keeps the left order; a co-partitioned one does not.
            let broadcast = sizes.1 * (n - 1) <= sizes.0;
            if broadcast {
                assert_eq!(rows, want, "{what}");
            } else {
                let mut rows = rows;
                let mut want = want;
                rows.sort();
                want.sort();
                assert_eq!(rows, want, "{what}");
            }
        }
        assert_eq!(at, got.len());
    }
}

/// A join where every left key is missing, or the left side is empty, or the right one:
/// empty results (inner) or the left rows as they are (left).
#[test]
fn joins_with_nothing_to_match() {
    let (schema, none) = side("int", "equal", 40, 3, "l");
    let none: Table = none
        .into_iter()
        .map(|mut r| {
            r[0] = None;
            r
        })
        .collect();
    let right = side("int", "equal", 30, 4, "r");
    let empty = (right.0.clone(), Table::new());
    for n in RANKS {
        let got = job(n, |node| {
            let l = load_share(node, "l", &(schema.clone(), none.clone()), 6)?;
            let r = load_share(node, "r", &right, 4)?;
            let e = load_share(node, "e", &empty, 4)?;
            let counts = [
                l.join(&r, &["k"], JoinKind::Inner)?.nrows(),
                l.join(&r, &["k"], JoinKind::Left)?.nrows(),
                e.join(&r, &["k"], JoinKind::Inner)?.nrows(),
                r.join(&e, &["k"], JoinKind::Inner)?.nrows(),
                r.join(&e, &["k"], JoinKind::Left)?.nrows(),
            ];
            Ok(counts.iter().map(u64::to_string).collect())
        });
        assert_eq!(got, ["0", "40", "0", "0", "30"], "{n} ranks");
    }
}
