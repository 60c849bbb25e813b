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
