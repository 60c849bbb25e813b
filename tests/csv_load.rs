//! `DistFrame::read_with` of a CSV file across real processes: for n = 1 to 4 ranks the distributed
//! frame equals a sequential read of the file, with quoted line breaks, doubled quotes,
//! CRLF line ends and (lenient) ragged rows placed so that the ranks' byte cuts fall
//! inside quoted fields.

use std::time::Duration;

use eau2_testkit::{bin, launch_probe};

const DEADLINE: Duration = Duration::from_secs(120);

/// A CSV text whose records carry quoted line breaks and quotes, so that most byte cuts
/// land inside a quoted field; `ragged` adds records with a wrong field count.
fn text(rows: usize, ragged: bool) -> Vec<u8> {
    let mut out = b"id,flag,score,\"note, quoted\"\r\n".to_vec();
    for i in 0..rows {
        let line = match i % 5 {
            0 => format!("{i},1,{i}.25,\"a \"\"quote\"\"\nand a line break {i}\"\n"),
            1 => format!("{i},0,,\"{}\"\r\n", "long,\n".repeat(i % 40)),
            2 => format!("{i},,-{i}e-2,plain{i}\n"),
            3 if ragged && i % 7 == 3 => format!("{i},1\n"),
            _ => format!("{i},1,0.5,\"\"\n"),
        };
        out.extend_from_slice(line.as_bytes());
    }
    out
}

fn load_everywhere(name: &str, text: &[u8], strict: bool) {
    let dir = std::env::temp_dir().join(format!("eau2-csv-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    let strict = if strict { "1" } else { "0" };
    for n in [1, 2, 3, 4] {
        for chunk_len in ["7", "1000"] {
            launch_probe(
                n,
                &bin("csv-check"),
                &["csv", path.to_str().unwrap(), strict, chunk_len],
                &[],
                DEADLINE,
            );
        }
    }
    let _ = std::fs::remove_file(&path);
}

#[test]
fn csv_read_equals_a_sequential_read_for_any_size() {
    load_everywhere("clean.csv", &text(3_000, false), true);
}

#[test]
fn lenient_csv_read_counts_the_same_deviations() {
    load_everywhere("ragged.csv", &text(3_000, true), false);
}

#[test]
fn tiny_header_only_and_empty_files_load_on_any_size() {
    for (name, text) in [
        ("header-only.csv", &b"a,b\r\n"[..]),
        ("one-row.csv", b"a\n\"1\n2\""),
    ] {
        load_everywhere(name, text, true);
    }
}

/// An empty file has no header: every rank fails the load, naming the file, rather
/// than return a frame of no columns.
#[test]
fn an_empty_file_is_an_error_on_any_size() {
    let dir = std::env::temp_dir().join(format!("eau2-csv-empty-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("empty.csv");
    std::fs::write(&path, b"").unwrap();
    for n in [1, 2, 3, 4] {
        let out = eau2_testkit::launch(
            n,
            &bin("csv-check"),
            &["csv", path.to_str().unwrap(), "1", "1000"],
            DEADLINE,
        );
        assert!(!out.status.success(), "{}", out.stdout);
        assert!(
            out.stderr.contains("empty.csv") && out.stderr.contains("no header"),
            "{}",
            out.stderr
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 20: a huge header (one name of MBs, or a hundred thousand short names with
/// repeats and empty fields) loads on every size with every name intact, named as a
/// one-process read names it, and the rows under it.
#[test]
fn huge_headers_load_with_every_name_on_any_size() {
    let dir = std::env::temp_dir().join(format!("eau2-csv-header-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let long = "n".repeat(4 << 20);
    // Wide: "x0".."x99999", with column 5 repeating column 3's name and column 7 empty,
    // and, late in the header, a name equal to an early column's default name.
    let mut names: Vec<String> = (0..100_000).map(|i| format!("x{i}")).collect();
    names[5] = "x3".into();
    names[7] = String::new();
    names[90_000] = "c5".into();
    let mut want: Vec<String> = names.clone();
    want[5] = "c5".into(); // a repeat takes its default name
    want[7] = "c7".into(); // so does an empty field
    want[90_000] = "c90000".into(); // and a name a default took first
    let wide_row: Vec<String> = (0..100_000).map(|i| (i % 7).to_string()).collect();
    let cases = [
        (
            "long.csv",
            format!("{long}\n1\n2\n"),
            vec![long.clone()],
            vec!["row 1", "row 2"],
        ),
        (
            "wide.csv",
            format!("{}\n{}\n", names.join(","), wide_row.join(",")),
            want,
            vec![],
        ),
    ];
    for (file, text, want, rows) in cases {
        let path = dir.join(file);
        std::fs::write(&path, text).unwrap();
        for n in [1, 2, 4] {
            let out = eau2_testkit::launch(
                n,
                &bin("load-check"),
                &["read", path.to_str().unwrap()],
                DEADLINE,
            );
            assert!(out.status.success(), "{file} n={n}: {}", out.stderr);
            let lines = out.unprefixed_lines();
            let schema = lines.iter().find(|l| l.starts_with("schema ")).unwrap();
            let (_, rest) = schema.split_once(' ').unwrap();
            let (codes, got) = rest.split_once(' ').unwrap();
            assert_eq!(codes.len(), want.len(), "{file} n={n}");
            let got: Vec<&str> = got.split(',').collect();
            assert!(got == want, "{file} n={n}: names differ");
            let got_rows: Vec<&str> = lines
                .iter()
                .filter(|l| l.starts_with("row "))
                .map(String::as_str)
                .collect();
            if !rows.is_empty() {
                assert_eq!(got_rows, rows, "{file} n={n}");
            } else {
                assert_eq!(got_rows.len(), 1, "{file} n={n}");
            }
            assert_eq!(
                lines.last().map(String::as_str),
                Some("read ok"),
                "{file} n={n}"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
