//! `DistFrame::write_csv` / `write_sor` (one file, each rank writing at its own offset)
//! and their part-file forms, on 1 to 3 real ranks: the files must equal, byte for byte,
//! a sequential write of the same rows.

use std::fs;
use std::path::Path;
use std::time::Duration;

use eau2::frame::CsvWriteOptions;
use eau2_testkit::frames::{all_types, needs_quoting};
use eau2_testkit::{bin, launch_probe};

const DEADLINE: Duration = Duration::from_secs(120);
/// Enough rows for several chunks per rank, and an uneven split over 3 ranks.
const ROWS: u64 = 1_001;

fn read(path: &Path) -> Vec<u8> {
    fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// The part files under `dir`, in order.
fn parts(dir: &Path, extension: &str) -> Vec<Vec<u8>> {
    let mut names: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == extension))
        .collect();
    names.sort();
    names.iter().map(|p| read(p)).collect()
}

#[test]
fn one_file_and_parts_equal_the_sequential_write_on_1_to_3_ranks() {
    check_writes(&[]);
}

/// With tiny buffers, most chunks are formatted twice (their text is not kept) and
/// written in several batches each: the same bytes must come out.
#[test]
fn tiny_buffers_give_the_same_bytes() {
    check_writes(&["20000", "1000"]);
}

/// Runs the probe on 1 to 3 ranks with `buffers` (KEPT BATCH, or nothing) and checks
/// every file it wrote.
fn check_writes(buffers: &[&str]) {
    let csv = CsvWriteOptions::new();
    let whole = all_types(0..ROWS, 64);
    let want_csv = whole.to_csv_bytes(&csv).unwrap();
    let want_sor = whole.to_sor_bytes().unwrap();
    let want_quoted = needs_quoting(0..ROWS, 64).to_csv_bytes(&csv).unwrap();
    let header_len = want_csv.iter().position(|&b| b == b'\n').unwrap() + 1;
    let (header, body) = want_csv.split_at(header_len);

    for n in 1..=3 {
        let dir = std::env::temp_dir().join(format!(
            "eau2-write-{}-{n}-{}",
            std::process::id(),
            buffers.len()
        ));
        let _ = fs::remove_dir_all(&dir);
        // A part left by an earlier, larger job must not survive the new write.
        fs::create_dir_all(dir.join("ordered-csv")).unwrap();
        fs::write(dir.join("ordered-csv/part-00007.csv"), "stale").unwrap();

        let rows = ROWS.to_string();
        let mut args = vec!["write", dir.to_str().unwrap(), &rows];
        args.extend_from_slice(buffers);
        let out = launch_probe(n, &bin("write-probe"), &args, &[], DEADLINE);
        // Every rank reported the SoR failure of the quoted frame, naming the value.
        let failures = out
            .stderr
            .lines()
            .filter(|l| l.contains("quoted.sor: "))
            .count();
        assert_eq!(failures, n, "{}", out.stderr);
        assert!(out.stderr.contains("cannot write row"), "{}", out.stderr);
        let failures = out
            .stderr
            .lines()
            .filter(|l| l.contains("nowhere: "))
            .count();
        assert_eq!(failures, n, "{}", out.stderr);
        assert!(out.stderr.contains("creating "), "{}", out.stderr);

        for name in ["ordered", "dealt"] {
            let got = read(&dir.join(format!("{name}.csv")));
            assert!(got == want_csv, "{name}.csv differs on {n} ranks");
            let got = read(&dir.join(format!("{name}.sor")));
            assert!(got == want_sor, "{name}.sor differs on {n} ranks");
        }
        assert!(
            read(&dir.join("quoted.csv")) == want_quoted,
            "quoted.csv on {n} ranks"
        );

        // One CSV part per rank, each with the header; their bodies in order are the rows.
        let csv_parts = parts(&dir.join("ordered-csv"), "csv");
        assert_eq!(csv_parts.len(), n);
        let mut bodies = Vec::new();
        for part in &csv_parts {
            assert!(part.starts_with(header), "a part lacks the header");
            bodies.extend_from_slice(&part[header.len()..]);
        }
        assert!(bodies == body, "CSV parts differ on {n} ranks");
        let sor_parts = parts(&dir.join("ordered-sor"), "sor");
        assert_eq!(sor_parts.len(), n);
        assert!(
            sor_parts.concat() == want_sor,
            "SoR parts differ on {n} ranks"
        );

        fs::remove_dir_all(&dir).unwrap();
    }
}
