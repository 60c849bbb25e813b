//! `DistFrame::read_with` of SoR and CSV files read block by block, across real
//! processes (n = 1, 3, 4): records that cross the blocks' boundaries (quoted line
//! breaks, records longer than a block) load as a sequential read does; each column
//! read alone is that column of the full load; only the columns read are checked, and
//! their errors name file and line; a file cut short while the ranks read it fails the
//! load naming it.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use eau2_testkit::{
    bin, launch_command, launch_probe, load_check, run_with_deadline, scratch, wait_for_paths,
    Finished,
};

const DEADLINE: Duration = Duration::from_secs(180);
const SIZES: [usize; 3] = [1, 3, 4];

fn dir(name: &str) -> PathBuf {
    scratch(&format!("read-blocks-{name}"))
}

fn load(n: usize, path: &Path, options: &[&str]) -> Finished {
    load_check(n, path, options, DEADLINE)
}

/// Rank 0's rows of a successful load (values separated by spaces).
fn rows(n: usize, path: &Path, options: &[&str]) -> Vec<Vec<String>> {
    let out = load(n, path, options);
    out.assert_success();
    out.unprefixed_lines()
        .iter()
        .filter_map(|l| l.strip_prefix("row "))
        .map(|l| l.split(' ').map(str::to_string).collect())
        .collect()
}

/// A CSV file of about 1.5 MB (several blocks per rank) whose records hold quoted line
/// breaks, one of them longer than a block (600 KB), so block boundaries fall inside
/// quoted fields.
fn quoted_csv() -> Vec<u8> {
    let mut out = b"id,note,score\n".to_vec();
    for i in 0..12_000 {
        let note = match i % 3 {
            0 => format!("\"a \"\"quote\"\"\nand a break {i}\""),
            1 => format!("\"{}\"", "x,\n".repeat(i % 60)),
            _ => format!("plain{i}"),
        };
        out.extend_from_slice(format!("{i},{note},{i}.5\r\n").as_bytes());
        if i == 6_000 {
            let long = "long\n\"\",".repeat(75_000);
            out.extend_from_slice(format!("-1,\"{long}\",0\n").as_bytes());
        }
    }
    out
}

#[test]
fn quoted_records_across_blocks_load_as_a_sequential_read() {
    let d = dir("csv");
    let path = d.join("quoted.csv");
    std::fs::write(&path, quoted_csv()).unwrap();
    for n in SIZES {
        launch_probe(
            n,
            &bin("csv-check"),
            &["csv", path.to_str().unwrap(), "1", "1000"],
            &[],
            DEADLINE,
        );
    }
    std::fs::remove_dir_all(&d).unwrap();
}

/// A SoR file of about 1 MB: INT, STRING (no spaces), FLOAT and BOOL columns.
fn plain_sor(rows: usize) -> String {
    (0..rows)
        .map(|i| format!("<{i}> <\"s>{i}<\"> <{i}.5> <{}>\n", i % 2))
        .collect()
}

#[test]
fn each_column_alone_equals_that_column_of_the_full_load() {
    let d = dir("alone");
    let path = d.join("plain.sor");
    std::fs::write(&path, plain_sor(40_000)).unwrap();
    let names = "names=a,b,c,d";
    for n in SIZES {
        let full = rows(n, &path, &[names]);
        assert_eq!(full.len(), 40_000);
        for (c, name) in ["a", "b", "c", "d"].iter().enumerate() {
            let alone = rows(n, &path, &[names, &format!("columns={name}")]);
            let want: Vec<Vec<String>> = full.iter().map(|r| vec![r[c].clone()]).collect();
            assert!(alone == want, "n = {n}, column {name}");
        }
    }
    std::fs::remove_dir_all(&d).unwrap();
}

/// Only the columns read are checked: a value no type holds (a malformed last field) or
/// one that does not fit a fixed type fails a load that reads its column, naming the
/// file and line, and nothing when its column is left out.
#[test]
fn only_the_columns_read_are_checked_and_their_errors_name_the_line() {
    let d = dir("checked");
    let mut text = plain_sor(30_000);
    text.push_str("<x> <\"s\"> <1.5> <\"unclosed\n");
    text.push_str(&plain_sor(100));
    let path = d.join("bad.sor");
    std::fs::write(&path, &text).unwrap();
    let names = "names=a,b,c,d";
    for n in SIZES {
        let out = load(n, &path, &[names]);
        assert!(!out.status.success(), "n = {n}: {}", out.stdout);
        assert!(
            out.stderr.contains("bad.sor:30001: column 3"),
            "n = {n}: {}",
            out.stderr
        );
        let out = load(n, &path, &[names, "columns=a,c"]);
        out.assert_success();
        assert!(out.stdout.contains("deviations 0 -"), "{}", out.stdout);
        // `<x>` does not fit a fixed to INT: an error naming the line when a is read ...
        let out = load(n, &path, &[names, "types=a:I", "columns=a"]);
        assert!(!out.status.success(), "n = {n}: {}", out.stdout);
        assert!(
            out.stderr.contains("bad.sor:30001: column 0") && out.stderr.contains("declared"),
            "n = {n}: {}",
            out.stderr
        );
        // ... and nothing when it is not.
        let read = rows(n, &path, &[names, "types=a:I", "columns=c,b"]);
        assert_eq!(read.len(), 30_101);
        assert_eq!(read[30_000], ["1.5", "s"]);
    }
    std::fs::remove_dir_all(&d).unwrap();
}

/// A file cut short after every rank opened it, before any block is read: the blocks
/// past the new end read zeros (mapped, under the SIGBUS guard) or come up short, and
/// the load fails on every rank naming the file.
#[test]
fn a_file_cut_short_while_the_ranks_read_it_fails_naming_it() {
    for (name, text) in [
        ("cut.sor", plain_sor(40_000).into_bytes()),
        ("cut.csv", quoted_csv()),
    ] {
        let d = dir(name);
        let hooks = d.join("hooks");
        std::fs::create_dir_all(&hooks).unwrap();
        let path = d.join(name);
        std::fs::write(&path, &text).unwrap();
        std::fs::write(hooks.join("hold-opened.1"), b"").unwrap();
        let mut cmd = launch_command(3, &bin("load-check"), &["read", path.to_str().unwrap()]);
        cmd.env("EAU2_TEST_LOAD_HOOK", &hooks);
        let job = std::thread::spawn(move || run_with_deadline(&mut cmd, DEADLINE));
        let all: Vec<PathBuf> = (0..3)
            .map(|r| hooks.join(format!("opened.{r}.0")))
            .collect();
        wait_for_paths(&all, Instant::now() + DEADLINE);
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(text.len() as u64 / 3)
            .unwrap();
        std::fs::remove_file(hooks.join("hold-opened.1")).unwrap();
        let out = job.join().unwrap();
        assert!(!out.status.success(), "{name}: {}", out.stdout);
        assert!(
            out.stderr.contains(name) && out.stderr.contains("changed"),
            "{name}: {}",
            out.stderr
        );
        std::fs::remove_dir_all(&d).unwrap();
    }
}
