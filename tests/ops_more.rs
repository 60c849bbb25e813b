//! The operators of issue 19 (concat, semi and anti joins, membership filters, rename,
//! head, global aggregates) on 1, 3 and 4 ranks run as threads over real sockets, each
//! against a plain sequential computation over the same rows. Inputs are the seeded
//! frames of `eau2_testkit::ops_data` (missing values in every column, keys skewed over
//! eight values), split unevenly over the ranks (rank 0 may hold nothing) in chunks
//! that do not divide the rows; some are sorted by key first, and some are empty.

use std::collections::BTreeSet;
use std::time::Duration;

use eau2::frame::Schema;
use eau2::table::{Agg, DistFrame, JoinKind};
use eau2::{Local, Node, Result};
use eau2_testkit::cells::{table_of, Cell, Table};
use eau2_testkit::ops_data::{dims, facts, load_share, row_text};

/// The rank counts every check runs on.
const RANKS: [usize; 3] = [1, 3, 4];

/// Runs `program` on `n` ranks as threads, with a deadline so that no test hangs; the
/// lines rank 0 returns.
fn job(n: usize, program: impl Fn(&Node) -> Result<Vec<String>> + Sync) -> Vec<String> {
    let mut out = Local::new(n)
        .timeout(Duration::from_secs(120))
        .run(program)
        .unwrap_or_else(|e| panic!("job on {n} ranks failed: {e}"));
    out.swap_remove(0)
}

/// Every row of `frame` as text, in the frame's order (each rank fetches all of it).
fn rows_of(frame: &DistFrame<'_>) -> Result<Vec<String>> {
    Ok(table_of(&frame.to_local()?)
        .iter()
        .map(|r| row_text(r))
        .collect())
}

fn texts(table: &[Vec<Option<Cell>>]) -> Vec<String> {
    table.iter().map(|r| row_text(r)).collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// Facts sorted by `k` (missing last), the way a file ordered by key arrives.
fn sorted_by_k(t: &(Schema, Table)) -> (Schema, Table) {
    let mut rows = t.1.clone();
    rows.sort_by_key(|r| match &r[0] {
        Some(Cell::Int(k)) => (0, *k),
        _ => (1, 0),
    });
    (t.0.clone(), rows)
}

#[test]
fn concat_keeps_every_input_in_order_and_moves_nothing() {
    let a = facts(1, 300);
    let b = facts(2, 41);
    let empty = facts(3, 0);
    let mut want = texts(&a.1);
    want.extend(texts(&b.1));
    want.extend(texts(&a.1));
    for n in RANKS {
        let got = job(n, |node| {
            let fa = load_share(node, "a", &a, 7)?;
            let fb = load_share(node, "b", &b, 5)?;
            let fe = load_share(node, "e", &empty, 4)?;
            let both = DistFrame::concat(&[&fa, &fe, &fb, &fa])?;
            // Chunks stay where they were: every rank stores as many rows as before.
            let held = |f: &DistFrame<'_>| -> u64 {
                f.local_chunks()
                    .iter()
                    .map(|&i| f.descriptor().chunks[i].rows)
                    .sum()
            };
            if held(&both) != 2 * held(&fa) + held(&fb) {
                return Err(eau2::Error::App("concat moved rows".into()));
            }
            assert_eq!(both.schema(), fa.schema());
            rows_of(&both)
        });
        assert_eq!(got, want, "concat on {n} ranks");
    }
}

#[test]
fn concat_of_different_schemas_names_both() {
    let a = facts(1, 30);
    let d = dims(1, 10);
    for n in RANKS {
        let errs = job(n, |node| {
            let fa = load_share(node, "a", &a, 7)?;
            let fd = load_share(node, "d", &d, 3)?;
            let renamed = fa.rename(&[("v", "w")])?;
            let one = DistFrame::concat(&[&fa, &fd]).err().map(|e| e.to_string());
            let two = DistFrame::concat(&[&fa, &renamed])
                .err()
                .map(|e| e.to_string());
            let none = DistFrame::concat(&[]).err().map(|e| e.to_string());
            Ok(vec![one, two, none].into_iter().flatten().collect())
        });
        assert_eq!(errs.len(), 3, "{errs:?}");
        assert!(
            errs[0].contains("k: INT, name: STRING") && errs[0].contains("k: INT, s: STRING"),
            "{}",
            errs[0]
        );
        assert!(
            errs[1].contains("w: INT") && errs[1].contains("v: INT"),
            "{}",
            errs[1]
        );
        assert!(errs[2].contains("no frames"), "{}", errs[2]);
    }
}

/// The facts rows whose `k` (present) is among the present keys of `right` (semi), or
/// not (anti), in order.
fn semi_anti(t: &Table, right_keys: &BTreeSet<String>, cols: &[usize], semi: bool) -> Vec<String> {
    t.iter()
        .filter(|r| {
            let found = key_of(r, cols).is_some_and(|k| right_keys.contains(&k));
            found == semi
        })
        .map(|r| row_text(r))
        .collect()
}

/// Row `r`'s key at `cols` as text, when every key value is present.
fn key_of(r: &[Option<Cell>], cols: &[usize]) -> Option<String> {
    let cells: Vec<Option<Cell>> = cols.iter().map(|&c| r[c].clone()).collect();
    cells.iter().all(Option::is_some).then(|| row_text(&cells))
}

/// The present keys (all key columns present) of `t` at `cols`.
fn key_set(t: &Table, cols: &[usize]) -> BTreeSet<String> {
    t.iter().filter_map(|r| key_of(r, cols)).collect()
}

#[test]
fn semi_and_anti_joins_match_a_sequential_run() {
    // 30 dims are broadcast (the left side keeps its order); 900 are co-partitioned.
    for (seed, rows, right) in [(4, 500, 30), (5, 500, 900), (6, 0, 40), (7, 200, 0)] {
        let t = facts(seed, rows);
        let d = dims(seed, right);
        let keys = key_set(&d.1, &[0]);
        let want_semi = semi_anti(&t.1, &keys, &[0], true);
        let want_anti = semi_anti(&t.1, &keys, &[0], false);
        for n in RANKS {
            let got = job(n, |node| {
                let f = load_share(node, "f", &t, 9)?;
                let dd = load_share(node, "d", &d, 4)?;
                let semi = f.semi_join(&dd, &["k"])?;
                let anti = f.join(&dd, &["k"], JoinKind::Anti)?;
                assert_eq!(semi.schema(), f.schema());
                assert_eq!(anti.schema(), f.schema());
                let mut out = rows_of(&semi)?;
                out.push("--".into());
                out.extend(rows_of(&anti)?);
                Ok(out)
            });
            let at = got.iter().position(|l| l == "--").expect("separator");
            let what = format!("seed {seed}, {rows} x {right} rows, {n} ranks");
            assert_eq!(
                sorted(got[..at].to_vec()),
                sorted(want_semi.clone()),
                "semi, {what}"
            );
            assert_eq!(
                sorted(got[at + 1..].to_vec()),
                sorted(want_anti.clone()),
                "anti, {what}"
            );
        }
    }
}

#[test]
fn semi_and_anti_joins_on_two_columns_of_sorted_keys() {
    let t = sorted_by_k(&facts(8, 600));
    let other = facts(9, 40);
    let keys = key_set(&other.1, &[0, 1]);
    let want_semi = sorted(semi_anti(&t.1, &keys, &[0, 1], true));
    let want_anti = sorted(semi_anti(&t.1, &keys, &[0, 1], false));
    for n in RANKS {
        let got = job(n, |node| {
            let f = load_share(node, "f", &t, 11)?;
            let o = load_share(node, "o", &other, 6)?;
            let semi = f.join(&o, &["k", "s"], JoinKind::Semi)?;
            let anti = f.anti_join(&o, &["k", "s"])?;
            let mut out = rows_of(&semi)?;
            out.push("--".into());
            out.extend(rows_of(&anti)?);
            Ok(out)
        });
        let at = got.iter().position(|l| l == "--").expect("separator");
        assert_eq!(sorted(got[..at].to_vec()), want_semi, "semi on {n} ranks");
        assert_eq!(
            sorted(got[at + 1..].to_vec()),
            want_anti,
            "anti on {n} ranks"
        );
    }
}

#[test]
fn semi_join_of_mismatched_key_types_is_an_error() {
    let t = facts(1, 20);
    for n in RANKS {
        let errs = job(n, |node| {
            let f = load_share(node, "f", &t, 9)?;
            let e = f.semi_join_err(&f)?;
            Ok(vec![e])
        });
        assert!(
            errs[0].contains("\"v\"") && errs[0].contains("FLOAT"),
            "{}",
            errs[0]
        );
    }
}

/// A short form for the test above: joins `v` (INT) with `f` (FLOAT).
trait SemiErr {
    fn semi_join_err(&self, other: &Self) -> Result<String>;
}

impl SemiErr for DistFrame<'_> {
    fn semi_join_err(&self, other: &Self) -> Result<String> {
        match self.join_on(other, &["v"], &["f"], JoinKind::Semi) {
            Ok(_) => Err(eau2::Error::App(
                "a join of INT with FLOAT was accepted".into(),
            )),
            Err(e) => Ok(e.to_string()),
        }
    }
}

#[test]
fn membership_filters_keep_order_and_skip_missing_values() {
    for (seed, rows, right) in [(10, 400, 25), (11, 0, 10), (12, 300, 0)] {
        let t = facts(seed, rows);
        let d = dims(seed, right);
        let want_frame = semi_anti(&t.1, &key_set(&d.1, &[0]), &[0], true);
        let words: BTreeSet<String> = [&b"a"[..], "été".as_bytes(), b""]
            .iter()
            .map(|w| row_text(&[Some(Cell::Str(w.to_vec()))]))
            .collect();
        let want_list = semi_anti(&t.1, &words, &[1], true);
        for n in RANKS {
            let got = job(n, |node| {
                let f = load_share(node, "f", &t, 7)?;
                let dd = load_share(node, "d", &d, 3)?;
                let mut out = rows_of(&f.filter_in("k", &dd, "k")?)?;
                out.push("--".into());
                out.extend(rows_of(&f.filter_in_list("s", &["a", "été", ""])?)?);
                out.push("--".into());
                out.push(
                    f.filter_in_list("k", &[1i64])
                        .err()
                        .map(|e| e.to_string())
                        .unwrap_or_default(),
                );
                out.push(
                    f.filter_in("k", &dd, "name")
                        .err()
                        .map(|e| e.to_string())
                        .unwrap_or_default(),
                );
                let nothing: [Option<i32>; 1] = [None];
                out.push(f.filter_in_list("k", &nothing)?.nrows().to_string());
                Ok(out)
            });
            let what = format!("seed {seed}, {n} ranks");
            let cut: Vec<usize> = got
                .iter()
                .enumerate()
                .filter(|(_, l)| *l == "--")
                .map(|(i, _)| i)
                .collect();
            assert_eq!(got[..cut[0]], want_frame[..], "filter_in, {what}");
            assert_eq!(
                got[cut[0] + 1..cut[1]],
                want_list[..],
                "filter_in_list, {what}"
            );
            let errs = &got[cut[1] + 1..];
            assert!(
                errs[0].contains("INT") && errs[0].contains("I64"),
                "{}",
                errs[0]
            );
            assert!(
                errs[1].contains("\"name\"") && errs[1].contains("STRING"),
                "{}",
                errs[1]
            );
            assert_eq!(errs[2], "0", "a missing value in the list matches nothing");
        }
    }
}

#[test]
fn rename_changes_names_only() {
    let t = facts(13, 250);
    let want = texts(&t.1);
    for n in RANKS {
        let got = job(n, |node| {
            let f = load_share(node, "f", &t, 8)?;
            let g = f.rename(&[("k", "key"), ("b", "flag")])?;
            assert_eq!(g.schema().names(), ["key", "s", "v", "f", "flag"]);
            assert_eq!(g.schema().types(), f.schema().types());
            // Swapping two names in one call is fine; a clash or an unknown name is not.
            let swapped = f.rename(&[("k", "s"), ("s", "k")])?;
            assert_eq!(swapped.schema().names()[..2], ["s", "k"]);
            let clash = f.rename(&[("k", "s")]).err().map(|e| e.to_string());
            let unknown = f.rename(&[("nope", "x")]).err().map(|e| e.to_string());
            let twice = f
                .rename(&[("k", "a"), ("k", "b")])
                .err()
                .map(|e| e.to_string());
            let mut out = rows_of(&g)?;
            out.extend(
                [clash, unknown, twice]
                    .into_iter()
                    .map(Option::unwrap_or_default),
            );
            Ok(out)
        });
        assert_eq!(got[..want.len()], want[..], "rename on {n} ranks");
        let errs = &got[want.len()..];
        assert!(errs[0].contains("\"s\""), "{}", errs[0]);
        assert!(errs[1].contains("\"nope\""), "{}", errs[1]);
        assert!(errs[2].contains("twice"), "{}", errs[2]);
    }
}

#[test]
fn head_takes_the_first_rows_in_frame_order() {
    let t = sorted_by_k(&facts(14, 333));
    let all = texts(&t.1);
    let counts = [0u64, 1, 7, 8, 100, 333, 1000];
    for n in RANKS {
        let got = job(n, |node| {
            let f = load_share(node, "f", &t, 7)?;
            let mut out = Vec::new();
            for &c in &counts {
                let h = f.head(c)?;
                out.push(format!("# {c} {}", h.nrows()));
                out.extend(rows_of(&h)?);
            }
            // A head of an operator's result, and `limit`, its other name.
            let sorted = f.sort_by(&["v"], &[true])?;
            out.push(format!("# limit {}", sorted.limit(3)?.nrows()));
            out.extend(rows_of(&sorted.limit(3)?)?);
            out.extend(rows_of(&sorted)?.into_iter().take(3));
            Ok(out)
        });
        let mut want = Vec::new();
        for &c in &counts {
            let k = (c as usize).min(all.len());
            want.push(format!("# {c} {k}"));
            want.extend(all[..k].iter().cloned());
        }
        assert_eq!(got[..want.len()], want[..], "head on {n} ranks");
        let rest = &got[want.len()..];
        assert_eq!(rest[0], "# limit 3");
        assert_eq!(
            rest[1..4],
            rest[4..7],
            "limit of a sorted frame on {n} ranks"
        );
    }
}

#[test]
fn global_aggregates_give_one_row_even_when_empty() {
    for rows in [500, 0] {
        let t = facts(15, rows);
        let vs: Vec<i64> =
            t.1.iter()
                .filter_map(|r| match &r[2] {
                    Some(Cell::Int(v)) => Some(i64::from(*v)),
                    _ => None,
                })
                .collect();
        let distinct: BTreeSet<i64> = vs.iter().copied().collect();
        let opt = |v: Option<&i64>| v.map_or("NA".to_string(), i64::to_string);
        let want = format!(
            "{}|{}|{}|{}|{}|{}",
            rows,
            vs.len(),
            vs.iter().sum::<i64>(),
            opt(vs.iter().min()),
            opt(vs.iter().max()),
            distinct.len()
        );
        for n in RANKS {
            let got = job(n, |node| {
                let f = load_share(node, "f", &t, 6)?;
                let g = f.agg(&[
                    Agg::count(),
                    Agg::count_of("v"),
                    Agg::sum("v"),
                    Agg::min("v"),
                    Agg::max("v"),
                    Agg::count_distinct("v"),
                ])?;
                assert_eq!(
                    g.schema().names(),
                    [
                        "count",
                        "v_count",
                        "v_sum",
                        "v_min",
                        "v_max",
                        "v_count_distinct"
                    ]
                );
                rows_of(&g)
            });
            assert_eq!(got, std::slice::from_ref(&want), "{rows} rows on {n} ranks");
        }
    }
}

/// Aggregates without keys (a fold per chunk, no hash table) agree with the keyed
/// group-by on one constant key, for every aggregate over every column type: missing
/// values in every column, a column with no value present, chunks of 100 rows (so
/// validity words only partly full), rows sorted by key, and ranks holding no row.
#[test]
fn global_aggregates_of_every_type_match_a_group_by_on_one_key() {
    let t = facts(17, 1000);
    let mut no_v = t.clone();
    for row in &mut no_v.1 {
        row[2] = None;
        row[3] = None;
    }
    let tables = [t.clone(), sorted_by_k(&t), no_v, facts(18, 20)];
    let mut aggs = vec![
        Agg::count(),
        Agg::count_of("s"),
        Agg::min("s"),
        Agg::max("s"),
        Agg::count_distinct("s"),
    ];
    for c in ["k", "v", "f", "b"] {
        aggs.extend([
            Agg::count_of(c),
            Agg::sum(c),
            Agg::min(c),
            Agg::max(c),
            Agg::mean(c),
            Agg::count_distinct(c),
        ]);
    }
    for (i, table) in tables.iter().enumerate() {
        for n in RANKS {
            let got = job(n, |node| {
                let f = load_share(node, "f", table, 100)?;
                let global = f.agg(&aggs)?;
                let names: Vec<String> = global.schema().names().to_vec();
                let names: Vec<&str> = names.iter().map(String::as_str).collect();
                let keyed = f
                    .with_column("one", |_| Ok(1i32))?
                    .group_by(&["one"])?
                    .agg(&aggs)?
                    .select(&names)?;
                Ok(vec![
                    rows_of(&global)?.join("\n"),
                    rows_of(&keyed)?.join("\n"),
                ])
            });
            assert_eq!(got[0], got[1], "table {i} on {n} ranks");
            let count = got[0].split('|').next().unwrap_or_default();
            assert_eq!(count, table.1.len().to_string(), "table {i} on {n} ranks");
        }
    }
}

/// Many groups, one of them holding half the rows, counting distinct strings of which
/// many are longer than the 16 bytes a value's prefix holds and share that prefix.
#[test]
fn count_distinct_of_long_strings_in_many_skewed_groups() {
    let mut schema = Schema::default();
    schema.push(eau2::frame::DataType::I64, Some("g".into()));
    schema.push(eau2::frame::DataType::String, Some("s".into()));
    let mut rng = eau2_testkit::ops_data::Rng::new(16);
    let table: Table = (0..3000)
        .map(|_| {
            let g = if rng.chance(50) {
                Some(Cell::I64(0))
            } else {
                (!rng.chance(5)).then(|| Cell::I64(rng.below(700) as i64))
            };
            let s = (!rng.chance(10)).then(|| {
                let tail = rng.below(12);
                let text = match rng.below(3) {
                    0 => format!("{tail}"),
                    1 => format!("a-shared-prefix-of-twenty\0{tail}"),
                    _ => format!("a-shared-prefix-of-twenty{tail}"),
                };
                Cell::Str(text.into_bytes())
            });
            vec![g, s]
        })
        .collect();
    let mut want: std::collections::BTreeMap<String, BTreeSet<String>> = Default::default();
    for r in &table {
        let set = want.entry(row_text(&r[..1])).or_default();
        if r[1].is_some() {
            set.insert(row_text(&r[1..]));
        }
    }
    let want = sorted(
        want.iter()
            .map(|(g, set)| format!("{g}|{}", set.len()))
            .collect(),
    );
    let t = (schema, table);
    for n in RANKS {
        let got = job(n, |node| {
            let f = load_share(node, "f", &t, 97)?;
            let counts = f.group_by(&["g"])?.agg(&[Agg::count_distinct("s")])?;
            rows_of(&counts)
        });
        assert_eq!(sorted(got), want, "count_distinct on {n} ranks");
    }
}

/// A frame with one column of every fixed-width type, values from small domains (so
/// groups repeat), missing values in every column, `-0.0` beside `0.0` and NaNs in the
/// float columns, and one key value (`i = 99`) whose every `v` is missing; with the
/// rows in the order given (`sorted`: by `i`, the way a file ordered by key arrives).
fn fixed_width_table(seed: u64, rows: usize, sorted: bool) -> (Schema, Table) {
    use eau2::frame::DataType::{Bool, Float, Int, F64, I64};
    let mut schema = Schema::default();
    for (t, name) in [
        (Bool, "b"),
        (Int, "i"),
        (Float, "f"),
        (I64, "l"),
        (F64, "d"),
        (Int, "v"),
    ] {
        schema.push(t, Some(name.into()));
    }
    let mut rng = eau2_testkit::ops_data::Rng::new(seed);
    let mut table: Table = (0..rows)
        .map(|r| {
            let mut cell = |make: &mut dyn FnMut(&mut eau2_testkit::ops_data::Rng) -> Cell| {
                (!rng.chance(7)).then(|| make(&mut rng))
            };
            let floats = [0.0f64, -0.0, 1.5, -2.25, f64::NAN, f64::INFINITY, 1e300];
            let b = cell(&mut |g| Cell::Bool(g.chance(50)));
            let i = cell(&mut |g| Cell::Int(g.below(300) as i32 - 150));
            let f = cell(&mut |g| Cell::Float((floats[g.below(6) as usize] as f32).to_bits()));
            let l =
                cell(&mut |g| Cell::I64([i64::MIN, -1, 0, 1 << 40, i64::MAX][g.below(5) as usize]));
            let d = cell(&mut |g| Cell::F64(floats[g.below(7) as usize].to_bits()));
            let v = cell(&mut |g| Cell::Int(g.below(40) as i32));
            if r % 50 == 0 {
                vec![b, Some(Cell::Int(99)), f, l, d, None]
            } else {
                vec![b, i, f, l, d, v]
            }
        })
        .collect();
    if sorted {
        table.sort_by_key(|r| match &r[1] {
            Some(Cell::Int(k)) => (0, *k),
            _ => (1, 0),
        });
    }
    (schema, table)
}

/// A cell as group-by compares it: `-0.0` is `0.0`, every NaN is one NaN.
fn canonical(cell: &Option<Cell>) -> Option<Cell> {
    match cell {
        Some(Cell::Float(bits)) => {
            let v = f32::from_bits(*bits);
            let v = if v.is_nan() {
                f32::NAN
            } else if v == 0.0 {
                0.0
            } else {
                v
            };
            Some(Cell::Float(v.to_bits()))
        }
        Some(Cell::F64(bits)) => {
            let v = f64::from_bits(*bits);
            let v = if v.is_nan() {
                f64::NAN
            } else if v == 0.0 {
                0.0
            } else {
                v
            };
            Some(Cell::F64(v.to_bits()))
        }
        other => other.clone(),
    }
}

/// `count_distinct` of every fixed-width column per every fixed-width key (the same
/// column included), and `distinct` of every column, against a sequential count: a
/// missing key is a group, missing values are not counted, and a group with no present
/// value counts 0.
#[test]
fn count_distinct_and_distinct_by_one_fixed_width_key_match_a_sequential_count() {
    let names = ["b", "i", "f", "l", "d", "v"];
    for (seed, rows, by_key) in [(21, 1500, false), (22, 1500, true), (23, 0, false)] {
        let t = fixed_width_table(seed, rows, by_key);
        let mut want = Vec::new();
        for k in 0..names.len() {
            let mut distinct: BTreeSet<String> = BTreeSet::new();
            for r in &t.1 {
                distinct.insert(row_text(&[canonical(&r[k])]));
            }
            want.push(sorted(distinct.into_iter().collect()));
            for v in 0..names.len() {
                let mut sets: std::collections::BTreeMap<String, BTreeSet<String>> =
                    Default::default();
                for r in &t.1 {
                    let set = sets.entry(row_text(&[canonical(&r[k])])).or_default();
                    if r[v].is_some() {
                        set.insert(row_text(&[canonical(&r[v])]));
                    }
                }
                want.push(sorted(
                    sets.iter()
                        .map(|(g, s)| format!("{g}|{}", s.len()))
                        .collect(),
                ));
            }
        }
        for n in RANKS {
            let got = job(n, |node| {
                let f = load_share(node, "f", &t, 13)?;
                let mut out = Vec::new();
                for k in names {
                    let d = f.select(&[k])?.distinct()?;
                    out.push(sorted(rows_of(&d)?).join("\n"));
                    for v in names {
                        let c = f.group_by(&[k])?.agg(&[Agg::count_distinct(v)])?;
                        assert_eq!(
                            c.schema().names(),
                            [k.to_string(), format!("{v}_count_distinct")]
                        );
                        out.push(sorted(rows_of(&c)?).join("\n"));
                    }
                }
                Ok(out)
            });
            let want: Vec<String> = want.iter().map(|w| w.join("\n")).collect();
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                let (k, v) = (i / (names.len() + 1), i % (names.len() + 1));
                let what = match v {
                    0 => format!("distinct of {}", names[k]),
                    v => format!("count_distinct of {} by {}", names[v - 1], names[k]),
                };
                assert_eq!(g, w, "{what}, seed {seed}, {rows} rows, on {n} ranks");
            }
            assert_eq!(got.len(), want.len());
        }
    }
}

/// Enough rows that senders compact their pairs as they go (a key with many rows and
/// few values, the rest repeating too), and a later part of the input that is all
/// distinct: the counts are still exact.
#[test]
fn count_distinct_stays_exact_across_compactions_of_repeated_pairs() {
    let mut schema = Schema::default();
    schema.push(eau2::frame::DataType::I64, Some("k".into()));
    schema.push(eau2::frame::DataType::Int, Some("v".into()));
    let rows = 300_000i64;
    let table: Table = (0..rows)
        .map(|r| {
            let (k, v) = if r < 200_000 {
                (if r % 3 == 0 { 0 } else { r % 1000 }, r % 5)
            } else {
                (r % 50_000, r) // distinct values from here on
            };
            let v = (r % 11 != 0).then_some(Cell::Int(v as i32));
            vec![Some(Cell::I64(k)), v]
        })
        .collect();
    let mut sets: std::collections::BTreeMap<i64, BTreeSet<i32>> = Default::default();
    for r in &table {
        let Some(Cell::I64(k)) = r[0] else {
            unreachable!()
        };
        let set = sets.entry(k).or_default();
        if let Some(Cell::Int(v)) = r[1] {
            set.insert(v);
        }
    }
    let want = sorted(
        sets.iter()
            .map(|(k, s)| format!("{k}|{}", s.len()))
            .collect(),
    );
    let t = (schema, table);
    for n in [1, 3] {
        let got = job(n, |node| {
            let f = load_share(node, "f", &t, 4096)?;
            rows_of(&f.group_by(&["k"])?.agg(&[Agg::count_distinct("v")])?)
        });
        assert_eq!(sorted(got), want, "on {n} ranks");
    }
}

/// Left rows `(k INT, v I64)`: keys spread over 0..1000, a few missing.
fn keyed_rows(rows: usize) -> (Schema, Table) {
    let mut schema = Schema::default();
    schema.push(eau2::frame::DataType::Int, Some("k".into()));
    schema.push(eau2::frame::DataType::I64, Some("v".into()));
    let table = (0..rows)
        .map(|i| {
            let k = (i % 211 != 0).then(|| Cell::Int((i * 7 % 1000) as i32));
            vec![k, Some(Cell::I64(i as i64 - 300))]
        })
        .collect();
    (schema, table)
}

/// Joins in which every left row with a key matches exactly one right row (a foreign
/// key), so whole left chunks pass into the result unchanged: inner, left and semi joins
/// against a sequential computation, with the right side broadcast (many left rows) and
/// co-partitioned (few), in chunks of 64 and 100 rows.
#[test]
fn foreign_key_joins_match_a_sequential_run() {
    let mut schema = Schema::default();
    schema.push(eau2::frame::DataType::Int, Some("k".into()));
    schema.push(eau2::frame::DataType::String, Some("name".into()));
    let names: Table = (0..1000)
        .map(|k| {
            vec![
                Some(Cell::Int(k)),
                Some(Cell::Str(format!("n{k}").into_bytes())),
            ]
        })
        .collect();
    let right = (schema, names);
    for rows in [600, 5000] {
        let left = keyed_rows(rows);
        let name = |row: &[Option<Cell>]| match &row[0] {
            Some(Cell::Int(k)) => Some(Cell::Str(format!("n{k}").into_bytes())),
            _ => None,
        };
        let with_name = |row: &Vec<Option<Cell>>| {
            let mut out = row.clone();
            out.push(name(row));
            row_text(&out)
        };
        let inner: Vec<String> = left
            .1
            .iter()
            .filter(|r| r[0].is_some())
            .map(with_name)
            .collect();
        let left_join: Vec<String> = left.1.iter().map(with_name).collect();
        let semi = texts(
            &left
                .1
                .iter()
                .filter(|r| r[0].is_some())
                .cloned()
                .collect::<Vec<_>>(),
        );
        for n in RANKS {
            for chunk in [64, 100] {
                let got = job(n, |node| {
                    let l = load_share(node, "l", &left, chunk)?;
                    let r = load_share(node, "r", &right, chunk)?;
                    let mut out = Vec::new();
                    for kind in [JoinKind::Inner, JoinKind::Left, JoinKind::Semi] {
                        out.push(rows_of(&l.join(&r, &["k"], kind)?)?);
                    }
                    Ok(out.into_iter().map(|rows| rows.join("\n")).collect())
                });
                let what = format!("{rows} left rows on {n} ranks, chunks of {chunk}");
                let got: Vec<Vec<String>> = got
                    .iter()
                    .map(|g| sorted(g.lines().map(str::to_string).collect()))
                    .collect();
                assert_eq!(got[0], sorted(inner.clone()), "inner join, {what}");
                assert_eq!(got[1], sorted(left_join.clone()), "left join, {what}");
                assert_eq!(got[2], sorted(semi.clone()), "semi join, {what}");
            }
        }
    }
}

/// Sorts whose INT and I64 key columns come back from the sorted keys: extreme values,
/// missing values, both directions, a second key after a missing first one, and a tie
/// order to keep; against a stable sequential sort.
#[test]
fn sorts_by_integer_keys_give_back_every_value_exactly() {
    let extremes = [i64::MIN, i64::MAX, -1, 0, 1, i64::MIN + 1];
    let (schema, mut table) = keyed_rows(700);
    for (i, row) in table.iter_mut().enumerate() {
        row[1] = (i % 13 != 5).then(|| Cell::I64(extremes[i % 6] ^ (i as i64 % 3)));
    }
    let t = (schema, table);
    let key = |c: &Option<Cell>| match c {
        Some(Cell::Int(v)) => Some(i64::from(*v)),
        Some(Cell::I64(v)) => Some(*v),
        _ => None,
    };
    // Missing last in either direction.
    let cmp = |a: Option<i64>, b: Option<i64>, desc: bool| match (a, b) {
        (Some(a), Some(b)) if desc => b.cmp(&a),
        (Some(a), Some(b)) => a.cmp(&b),
        (a, b) => a.is_none().cmp(&b.is_none()),
    };
    let by = |cols: &[(usize, bool)]| {
        let mut rows = t.1.clone();
        rows.sort_by(|a, b| {
            cols.iter()
                .map(|&(c, d)| cmp(key(&a[c]), key(&b[c]), d))
                .find(|o| o.is_ne())
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        texts(&rows)
    };
    let want = [
        by(&[(1, true)]),
        by(&[(1, false)]),
        by(&[(0, false), (1, true)]),
    ];
    for n in RANKS {
        let got = job(n, |node| {
            let f = load_share(node, "f", &t, 90)?;
            let mut out = vec![rows_of(&f.sort_by(&["v"], &[true])?)?];
            out.push(rows_of(&f.sort_by(&["v"], &[false])?)?);
            out.push(rows_of(&f.sort_by(&["k", "v"], &[false, true])?)?);
            Ok(out.into_iter().map(|rows| rows.join("\n")).collect())
        });
        for (i, w) in want.iter().enumerate() {
            assert_eq!(got[i], w.join("\n"), "sort {i} on {n} ranks");
        }
    }
}
