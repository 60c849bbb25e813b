//! Parquet through eau2 (issue 22): `eau2-convert` on 1 to 4 real ranks (SoR -> Parquet
//! -> CSV equals the sequential conversion; folder datasets; projection; damaged files),
//! and the library's filters and empty frames on ranks as threads. Files written by
//! polars read right where a polars venv exists (else SKIPPED).

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

use eau2::arrow::{write_parquet_file, ParquetFile, ParquetWriteOptions};
use eau2::frame::{DataFrame, DataType, Schema};
use eau2::table::{Cmp, DistFrame, ReadOptions, Scalar};
use eau2::{run_local, Node};
use eau2_testkit::{bin, launch, repo_root, run_with_deadline, Finished};

const DEADLINE: Duration = Duration::from_secs(120);

/// A fresh folder for one test.
fn scratch(name: &str) -> PathBuf {
    eau2_testkit::scratch(&format!("parquet-{name}"))
}

/// `eau2-convert ARGS` on `n` ranks; must succeed.
fn convert(n: usize, args: &[&str]) -> Finished {
    let mut all = args.to_vec();
    all.push("--quiet");
    let out = launch(n, &bin("eau2-convert"), &all, DEADLINE);
    out.assert_success();
    out
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A SoR file users break things with: the first 600 rows' `pid` are 0 or 1 (BOOL by
/// SoR's 500-line rule), sorted skewed keys, a missing value in every column, strings
/// with commas and quotes, floats, bools.
fn sample_sor(rows: usize) -> String {
    let mut s = String::new();
    for r in 0..rows {
        let pid = if r < 600 { r % 2 } else { 1000 + r / 7 };
        let pid = if r % 97 == 3 {
            String::new()
        } else {
            pid.to_string()
        };
        let name = match r % 11 {
            0 => String::new(),
            1 => "\"with, comma\"".to_string(),
            2 => "\"two  spaces\"".to_string(),
            _ => format!("\"n{r}\""),
        };
        let x = if r % 13 == 5 {
            String::new()
        } else {
            format!("{}.25", r as i64 - 300)
        };
        let b = if r % 17 == 7 {
            String::new()
        } else {
            if r % 3 == 0 { "1" } else { "0" }.to_string()
        };
        writeln!(s, "<{pid}> <{name}> <{x}> <{b}>").unwrap();
    }
    s
}

#[test]
fn sor_to_parquet_to_csv_on_1_to_4_ranks_equals_the_sequential_conversion() {
    let d = scratch("roundtrip");
    let sor = d.join("in.sor");
    fs::write(&sor, sample_sor(5000)).unwrap();
    let want = d.join("want.csv");
    convert(1, &[p(&sor), p(&want)]);
    let want = fs::read(&want).unwrap();
    assert!(
        want.starts_with(b"c0,c1,c2,c3\n"),
        "{}",
        String::from_utf8_lossy(&want[..40])
    );
    for n in 1..=4 {
        let pq = d.join(format!("t{n}.parquet"));
        convert(n, &[p(&sor), p(&pq), "--row-group-rows", "300"]);
        let file = ParquetFile::open(&pq).unwrap();
        assert_eq!(file.rows(), 5000);
        assert!(
            file.row_groups().len() >= 17,
            "{n} ranks: {:?}",
            file.row_groups()
        );
        for m in [1, n.min(3), 4] {
            let csv = d.join(format!("t{n}-{m}.csv"));
            convert(m, &[p(&pq), p(&csv)]);
            assert!(
                fs::read(&csv).unwrap() == want,
                "written on {n} ranks, read on {m}"
            );
        }
        // zstd reads back the same.
        let z = d.join(format!("z{n}.parquet"));
        convert(n, &[p(&sor), p(&z), "--compression", "zstd"]);
        let csv = d.join(format!("z{n}.csv"));
        convert(2, &[p(&z), p(&csv)]);
        assert!(fs::read(&csv).unwrap() == want, "zstd written on {n} ranks");
    }
    fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_folder_dataset_with_uneven_row_groups_reads_in_order_on_1_to_4_ranks() {
    let d = scratch("dataset");
    let sor = d.join("in.sor");
    fs::write(&sor, sample_sor(4001)).unwrap();
    let want = d.join("want.csv");
    convert(1, &[p(&sor), p(&want)]);
    let want = fs::read(&want).unwrap();
    // Three parts of uneven sizes, cut into row groups of 250 rows and a remainder.
    let set = d.join("set");
    convert(
        3,
        &[
            p(&sor),
            p(&set),
            "--parts",
            "--to",
            "parquet",
            "--row-group-rows",
            "250",
        ],
    );
    // A file that is not Parquet in the folder is ignored.
    fs::write(set.join("README.txt"), "notes").unwrap();
    let names: Vec<_> = fs::read_dir(&set)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 4, "{names:?}");
    for n in 1..=4 {
        let csv = d.join(format!("set{n}.csv"));
        convert(n, &[p(&set), p(&csv)]);
        assert!(
            fs::read(&csv).unwrap() == want,
            "the dataset read on {n} ranks"
        );
    }
    fs::remove_dir_all(&d).unwrap();
}

#[test]
fn projection_keeps_the_named_columns_in_order() {
    let d = scratch("projection");
    let sor = d.join("in.sor");
    fs::write(&sor, sample_sor(1000)).unwrap();
    let pq = d.join("t.parquet");
    convert(2, &[p(&sor), p(&pq)]);
    let csv = d.join("t.csv");
    convert(3, &[p(&pq), p(&csv), "--columns", "c2,c0"]);
    let text = fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("c2,c0"));
    assert_eq!(lines.next(), Some("-300.25,0"));
    assert_eq!(text.lines().count(), 1001);
    let missing = launch(
        2,
        &bin("eau2-convert"),
        &[p(&pq), p(&csv), "--columns", "nope"],
        DEADLINE,
    );
    assert!(!missing.status.success());
    assert!(missing.stderr.contains("nope"), "{}", missing.stderr);
    fs::remove_dir_all(&d).unwrap();
}

#[test]
fn damaged_parquet_fails_every_rank_naming_the_file() {
    let d = scratch("damaged");
    let sor = d.join("in.sor");
    fs::write(&sor, sample_sor(20000)).unwrap();
    let good = d.join("good.parquet");
    convert(1, &[p(&sor), p(&good), "--compression", "none"]);
    let bytes = fs::read(&good).unwrap();
    let n = bytes.len();
    let truncated = d.join("truncated.parquet");
    fs::write(&truncated, &bytes[..n / 2]).unwrap();
    let magic = d.join("magic.parquet");
    let mut m = bytes.clone();
    m[n - 4..].copy_from_slice(b"PARX");
    fs::write(&magic, &m).unwrap();
    let page = d.join("page.parquet");
    let mut g = bytes.clone();
    // Page headers and values of the first row group's first columns.
    for b in &mut g[4..n / 3] {
        *b = 0xEE;
    }
    fs::write(&page, &g).unwrap();
    for bad in [&truncated, &magic, &page] {
        let out_csv = d.join("out.csv");
        let out = launch(2, &bin("eau2-convert"), &[p(bad), p(&out_csv)], DEADLINE);
        assert!(
            !out.status.success(),
            "{} read:\n{}",
            bad.display(),
            out.stderr
        );
        let name = bad.file_name().unwrap().to_str().unwrap();
        assert!(out.stderr.contains(name), "{}", out.stderr);
        assert!(!out_csv.exists());
    }
    fs::remove_dir_all(&d).unwrap();
}

/// Runs `job` on `n` ranks as threads, failing the test past the deadline.
fn on_ranks<T: Send + 'static>(
    n: usize,
    job: impl Fn(&Node) -> eau2::Result<T> + Send + Sync + 'static,
) -> Vec<T> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(run_local(n, job));
    });
    rx.recv_timeout(DEADLINE)
        .expect("the job finished in time")
        .unwrap()
}

/// A frame of `rows` rows: k (INT, sorted, k = row), v (I64 = row * 10, missing every
/// 5th row), s (STRING).
fn keyed(rows: i32) -> DataFrame {
    let mut b = eau2::frame::FrameBuilder::new(
        Schema::named([
            ("k", DataType::Int),
            ("v", DataType::I64),
            ("s", DataType::String),
        ])
        .unwrap(),
        100,
    );
    for r in 0..rows {
        let s = format!("s{r}");
        b.push_row(&[
            Some(eau2::frame::Value::Int(r)),
            (r % 5 != 0).then_some(eau2::frame::Value::I64(r as i64 * 10)),
            Some(eau2::frame::Value::Str(s.as_bytes())),
        ])
        .unwrap();
    }
    b.finish()
}

#[test]
fn filters_prune_row_groups_and_keep_exactly_the_matching_rows() {
    let d = scratch("filter");
    let path = d.join("k.parquet");
    write_parquet_file(
        &keyed(1000),
        &path,
        &ParquetWriteOptions::new().row_group_rows(100),
    )
    .unwrap();
    for n in [1, 3] {
        let path = path.clone();
        let got = on_ranks(n, move |node| {
            let options = ReadOptions::new()
                .filter("k", Cmp::Ge, Scalar::Int(250))
                .filter("v", Cmp::Lt, Scalar::Int(3000))
                .columns(&["s", "v"]);
            let f = DistFrame::read_with(node, &path, &options)?;
            let local = f.to_local()?;
            Ok((f.schema().codes(), local.to_sor_string()?))
        });
        let (codes, text) = &got[0];
        assert_eq!(codes, "SL");
        // Rows 250..300 with v present (r % 5 != 0): 40 rows.
        let want: String = (250..300)
            .filter(|r| r % 5 != 0)
            .map(|r| format!("<\"s{r}\"> <{}>\n", r * 10))
            .collect();
        assert_eq!(text, &want, "{n} ranks");
    }
    fs::remove_dir_all(&d).unwrap();
}

#[test]
fn empty_frames_write_and_read_with_their_schema() {
    let d = scratch("empty");
    let path = d.join("e.parquet");
    write_parquet_file(&keyed(0), &path, &ParquetWriteOptions::new()).unwrap();
    let again = d.join("again.parquet");
    let parts = d.join("parts");
    let (p1, a1, pa) = (path.clone(), again.clone(), parts.clone());
    let got = on_ranks(3, move |node| {
        let f = DistFrame::read(node, &p1)?;
        f.write_parquet(&a1, &ParquetWriteOptions::new())?;
        f.write_parquet_parts(&pa, &ParquetWriteOptions::new())?;
        let back = DistFrame::read(node, &a1)?;
        let set = DistFrame::read(node, &pa)?;
        Ok((
            back.nrows(),
            back.schema().codes(),
            set.nrows(),
            set.schema().codes(),
        ))
    });
    assert_eq!(got[0], (0, "ILS".to_string(), 0, "ILS".to_string()));
    fs::remove_dir_all(&d).unwrap();
}

#[test]
fn write_parquet_replaces_the_file_whole_and_keeps_row_order_of_any_layout() {
    let d = scratch("write");
    let path = d.join("out.parquet");
    fs::write(&path, "old").unwrap();
    let p1 = path.clone();
    on_ranks(3, move |node| {
        // Published by rank 0: chunks dealt round-robin, not ordered by rank.
        let f = DistFrame::publish(node, &eau2::kv::Key::new("keyed", 0), &keyed(1234))?;
        f.write_parquet(&p1, &ParquetWriteOptions::new().row_group_rows(100))
    });
    let back = eau2::arrow::read_parquet::<&str>(&path, None).unwrap();
    assert_eq!(
        back.to_sor_string().unwrap(),
        keyed(1234).to_sor_string().unwrap()
    );
    // No temporary left behind.
    assert_eq!(fs::read_dir(&d).unwrap().count(), 1);
    fs::remove_dir_all(&d).unwrap();
}

#[test]
fn files_written_by_polars_read_right() {
    let python = repo_root().join("target/bench-polars-venv/bin/python");
    if !python.is_file() {
        println!(
            "SKIPPED: no polars venv at {} (bash bench/polars/setup.sh makes it)",
            python.display()
        );
        return;
    }
    let d = scratch("polars");
    let pq = d.join("pl.parquet");
    let want = d.join("want.csv");
    let script = r#"
import sys, datetime, polars as pl
n = 3000
df = pl.DataFrame({
    "i": [None if r % 7 == 1 else r - 1500 for r in range(n)],
    "l": [None if r % 7 == 2 else r * 3_000_000_000 for r in range(n)],
    "s": [None if r % 7 == 3 else f"v{r}, \"q\"" for r in range(n)],
    "b": [None if r % 7 == 4 else r % 2 == 0 for r in range(n)],
    "f": [None if r % 7 == 5 else r + 0.5 for r in range(n)],
}, schema={"i": pl.Int32, "l": pl.Int64, "s": pl.Utf8, "b": pl.Boolean, "f": pl.Float64})
df.write_parquet(sys.argv[1], row_group_size=700)
df.write_csv(sys.argv[2])
"#;
    let out = run_with_deadline(
        Command::new(&python)
            .arg("-c")
            .arg(script)
            .arg(&pq)
            .arg(&want),
        DEADLINE,
    );
    if !out.status.success() {
        println!("SKIPPED: polars could not write the file: {}", out.stderr);
        return;
    }
    for n in [1, 2, 4] {
        let csv = d.join(format!("eau2-{n}.csv"));
        convert(n, &[p(&pq), p(&csv)]);
        let got = fs::read_to_string(&csv).unwrap();
        let want = fs::read_to_string(&want).unwrap();
        assert_eq!(got.lines().count(), want.lines().count());
        for (g, w) in got.lines().zip(want.lines()) {
            assert_eq!(g, w, "{n} ranks");
        }
    }
    fs::remove_dir_all(&d).unwrap();
}

#[test]
fn top_projects_on_parquet_prints_what_it_prints_on_sor() {
    let data = repo_root().join("datasets/git-small");
    let d = scratch("top");
    for (file, names) in [
        ("commits", "pid,author,committer"),
        ("projects", "pid,name"),
    ] {
        let from = data.join(format!("{file}.ltgt"));
        let to = d.join(format!("{file}.parquet"));
        convert(
            2,
            &[
                p(&from),
                p(&to),
                "--names",
                names,
                "--row-group-rows",
                "5000",
            ],
        );
    }
    let top = bin("top-projects");
    let sor = launch(
        2,
        &top,
        &["--data", p(&data), "--top", "7", "--quiet"],
        DEADLINE,
    );
    sor.assert_success();
    for n in [1, 3] {
        let pq = launch(
            n,
            &top,
            &[
                "--data",
                p(&d),
                "--format",
                "parquet",
                "--top",
                "7",
                "--quiet",
            ],
            DEADLINE,
        );
        pq.assert_success();
        assert_eq!(pq.unprefixed_lines(), sor.unprefixed_lines(), "{n} ranks");
        assert_eq!(pq.unprefixed_lines().len(), 7);
    }
    fs::remove_dir_all(&d).unwrap();
}

/// An Arrow IPC file of 23 record batches (uneven: the last is short) converts on 1, 3
/// and 4 ranks, each reading its own run of batches, to the CSV one rank writes; with
/// --columns and --names too; and back through Arrow IPC output.
#[test]
fn arrow_ipc_converts_in_parallel_on_1_3_4_ranks() {
    let d = scratch("ipc");
    let ipc = d.join("k.arrow");
    let df = keyed(2250);
    assert_eq!(df.chunk_count(), 23);
    eau2::arrow::write_ipc_file(&df, &ipc).unwrap();
    assert_eq!(eau2::arrow::IpcFile::open(&ipc).unwrap().batches(), 23);
    let want = d.join("want.csv");
    convert(1, &[p(&ipc), p(&want)]);
    let want = fs::read(&want).unwrap();
    assert!(want.starts_with(b"k,v,s\n0,,s0\n1,10,s1\n"));
    let want_cols = d.join("want-cols.csv");
    convert(
        1,
        &[
            p(&ipc),
            p(&want_cols),
            "--names",
            "a,b,c",
            "--columns",
            "c,a",
        ],
    );
    let want_cols = fs::read(&want_cols).unwrap();
    assert!(want_cols.starts_with(b"c,a\ns0,0\n"));
    for n in [1, 3, 4] {
        let csv = d.join(format!("n{n}.csv"));
        convert(n, &[p(&ipc), p(&csv)]);
        assert!(fs::read(&csv).unwrap() == want, "{n} ranks");
        let cols = d.join(format!("n{n}-cols.csv"));
        let args = [p(&ipc), p(&cols), "--names", "a,b,c", "--columns", "c,a"];
        convert(n, &args);
        assert!(
            fs::read(&cols).unwrap() == want_cols,
            "{n} ranks, projected"
        );
        // IPC to IPC and back to CSV: the same rows.
        let again = d.join(format!("n{n}.arrow"));
        convert(n, &[p(&ipc), p(&again)]);
        let back = d.join(format!("n{n}-back.csv"));
        convert(n, &[p(&again), p(&back)]);
        assert!(fs::read(&back).unwrap() == want, "{n} ranks, IPC -> IPC");
        // Every rank wrote its own batches: arrow-rs reads the file whole, the same rows.
        let read = eau2::arrow::read_ipc_file(&again).unwrap();
        assert_eq!(read.to_sor_string().unwrap(), df.to_sor_string().unwrap());
    }
    // A frame without rows: a header and a footer, the schema kept.
    let empty = d.join("empty.csv");
    fs::write(&empty, "k,v,s\n").unwrap();
    let empty_ipc = d.join("empty.arrow");
    convert(3, &[p(&empty), p(&empty_ipc)]);
    let read = eau2::arrow::read_ipc_file(&empty_ipc).unwrap();
    assert_eq!((read.nrows(), read.ncols()), (0, 3));
    assert_eq!(read.schema().names(), ["k", "v", "s"]);
    // A damaged file fails every rank naming it.
    let bad = d.join("bad.arrow");
    let bytes = fs::read(&ipc).unwrap();
    fs::write(&bad, &bytes[..bytes.len() / 2]).unwrap();
    let out = launch(
        3,
        &bin("eau2-convert"),
        &[p(&bad), p(&d.join("x.csv"))],
        DEADLINE,
    );
    assert!(!out.status.success());
    assert!(out.stderr.contains(p(&bad)), "{}", out.stderr);
    assert!(!d.join("x.csv").exists());
    fs::remove_dir_all(&d).unwrap();
}
