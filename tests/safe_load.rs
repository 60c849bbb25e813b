//! `DistFrame::read_with` across real processes (n = 1, 3, 4): loads that never lose a
//! value silently. Files are generated with values known independently, and rank 0's
//! printout of the loaded frame is compared with those values, row by row.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use eau2_testkit::{
    bin, launch_command, load_check, run_with_deadline, scratch, wait_for_paths, Finished,
};

const DEADLINE: Duration = Duration::from_secs(180);
const SIZES: [usize; 3] = [1, 3, 4];

fn dir(name: &str) -> PathBuf {
    scratch(&format!("safe-load-{name}"))
}

fn load(n: usize, path: &Path, options: &[&str]) -> Finished {
    load_check(n, path, options, DEADLINE)
}

/// Rank 0's printout of a successful load: schema line, deviations line and rows.
fn loaded(n: usize, path: &Path, options: &[&str]) -> (String, String, Vec<String>) {
    let out = load(n, path, options);
    out.assert_success();
    let lines = out.unprefixed_lines();
    assert_eq!(
        lines.last().map(String::as_str),
        Some("read ok"),
        "{}",
        out.stdout
    );
    let schema = lines
        .iter()
        .find(|l| l.starts_with("schema "))
        .unwrap()
        .clone();
    let dev = lines
        .iter()
        .find(|l| l.starts_with("deviations "))
        .unwrap()
        .clone();
    let rows = lines
        .iter()
        .filter_map(|l| l.strip_prefix("row "))
        .map(str::to_string)
        .collect();
    (schema, dev, rows)
}

/// A load that must fail; returns its standard error.
fn fails(n: usize, path: &Path, options: &[&str]) -> String {
    let out = load(n, path, options);
    assert!(
        !out.status.success(),
        "the load succeeded:\n{}\n{}",
        out.stdout,
        out.stderr
    );
    assert!(!out.stdout.contains("read ok"), "{}", out.stdout);
    out.stderr
}

/// Commits ordered by project: the first 6,000 rows have pid 0 or 1 (what the first
/// 500 lines show), later ones larger pids, as in issue 19.
fn sorted_commits(rows: usize) -> Vec<(i64, i64, i64)> {
    (0..rows as i64)
        .map(|i| {
            let pid = if i < 6000 { i % 2 } else { i / 7 };
            (pid, (i * 7919) % 1000, i)
        })
        .collect()
}

#[test]
fn a_file_sorted_by_key_keeps_every_value() {
    let d = dir("sorted");
    let rows = sorted_commits(20_000);
    let sor: String = rows
        .iter()
        .map(|(p, u, c)| format!("<{p}> <{u}> <{c}>\n"))
        .collect();
    let csv: String = std::iter::once("pid,uid,cid\n".to_string())
        .chain(rows.iter().map(|(p, u, c)| format!("{p},{u},{c}\n")))
        .collect();
    std::fs::write(d.join("commits.sor"), sor).unwrap();
    std::fs::write(d.join("commits.csv"), csv).unwrap();
    let want: Vec<String> = rows
        .iter()
        .map(|(p, u, c)| format!("{p} {u} {c}"))
        .collect();
    for n in SIZES {
        let (schema, dev, got) = loaded(n, &d.join("commits.sor"), &["names=pid,uid,cid"]);
        assert_eq!(schema, "schema III pid,uid,cid");
        assert_eq!(dev, "deviations 0 -");
        assert_eq!(got, want, "n = {n}");
        let (schema, dev, got) = loaded(n, &d.join("commits.csv"), &[]);
        assert_eq!(schema, "schema LLL pid,uid,cid");
        assert_eq!(dev, "deviations 0 -");
        assert_eq!(got, want, "n = {n}");
    }
    // The SoR format's own rule, asked for, still loses the later pids, and says so.
    let (schema, dev, got) = loaded(3, &d.join("commits.sor"), &["sor_rule", "allow"]);
    assert_eq!(schema, "schema BII c0,c1,c2");
    assert!(dev.starts_with("deviations "), "{dev}");
    let lost = got.iter().filter(|l| l.starts_with("null ")).count();
    assert_eq!(dev, format!("deviations {lost} 6001"));
    assert!(lost > rows.len() / 2);
    // ... and without `allow`, losing most rows fails the load, naming file and count.
    let err = fails(3, &d.join("commits.sor"), &["sor_rule"]);
    assert!(
        err.contains("commits.sor") && err.contains(&format!("{lost} of 20000 rows")),
        "{err}"
    );
    std::fs::remove_dir_all(&d).unwrap();
}

/// Values that only the end of the file (or a spot no sample window sees) holds: an
/// integer beyond 32 bits in the last row, a string in the middle of a numeric column.
#[test]
fn late_wide_values_widen_their_column() {
    let d = dir("late");
    let rows = 30_000;
    let value = |i: usize| -> (String, String, String) {
        let big = if i == rows - 1 {
            "5000000000".to_string()
        } else {
            (i % 2).to_string()
        };
        let mixed = if i == 17_777 {
            "n/a".to_string()
        } else {
            (i * 3).to_string()
        };
        let late_int = if i == 29_000 {
            "3000000000".to_string()
        } else {
            (i % 100).to_string()
        };
        (big, mixed, late_int)
    };
    let mut sor = String::new();
    let mut csv = String::from("big,mixed,late\n");
    let mut want = Vec::new();
    for i in 0..rows {
        let (a, b, c) = value(i);
        sor.push_str(&format!("<{a}> <{b}> <{c}>\n"));
        csv.push_str(&format!("{a},{b},{c}\n"));
        want.push(format!("{a} {b} {c}"));
    }
    std::fs::write(d.join("late.sor"), sor).unwrap();
    std::fs::write(d.join("late.csv"), csv).unwrap();
    for n in SIZES {
        let (schema, dev, got) = loaded(n, &d.join("late.sor"), &[]);
        assert_eq!(schema, "schema LSL c0,c1,c2", "n = {n}");
        assert_eq!(dev, "deviations 0 -");
        assert_eq!(got, want, "n = {n}");
        let (schema, _, got) = loaded(n, &d.join("late.csv"), &["chunk_len=1000"]);
        assert_eq!(schema, "schema LSL big,mixed,late", "n = {n}");
        assert_eq!(got, want, "n = {n}");
    }
    // A type the user fixed is not widened: the load fails naming file, line, column,
    // the type and the option that sets it.
    let err = fails(
        3,
        &d.join("late.sor"),
        &["names=big,mixed,late", "types=mixed:I"],
    );
    assert!(err.contains("late.sor:17778: column 1"), "{err}");
    assert!(err.contains("\"mixed\" was declared INT"), "{err}");
    assert!(err.contains("ReadOptions::types"), "{err}");
    // Lenient with a fixed type: the misfit is missing, counted and located.
    let (_, dev, got) = loaded(4, &d.join("late.csv"), &["types=mixed:L", "lenient"]);
    assert_eq!(dev, "deviations 1 17779");
    assert_eq!(got[17_777], format!("{} null {}", 17_777 % 2, 17_777 % 100));
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn projection_and_overrides_by_name() {
    let d = dir("proj");
    let rows = sorted_commits(5_000);
    let sor: String = rows
        .iter()
        .map(|(p, u, c)| format!("<{p}> <{u}> <{c}>\n"))
        .collect();
    std::fs::write(d.join("c.sor"), sor).unwrap();
    for n in SIZES {
        let opts = ["names=pid,uid,cid", "types=cid:L,uid:F", "columns=cid,pid"];
        let (schema, _, got) = loaded(n, &d.join("c.sor"), &opts);
        assert_eq!(schema, "schema LB cid,pid");
        let want: Vec<String> = rows
            .iter()
            .map(|(p, _, c)| format!("{c} {}", *p == 1))
            .collect();
        assert_eq!(got, want);
    }
    let err = fails(3, &d.join("c.sor"), &["names=pid,uid,cid", "columns=nope"]);
    assert!(err.contains("nope"), "{err}");
    let err = fails(3, &d.join("c.sor"), &["names=pid,uid"]);
    assert!(
        err.contains("2 column names given") && err.contains("c.sor"),
        "{err}"
    );
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn lenient_loads_report_few_deviations_and_fail_on_mostly_deviations() {
    let d = dir("lenient");
    let mut few = String::new();
    let mut most = String::new();
    for i in 0..10_000 {
        let bad = i % 1000 == 999;
        few.push_str(&if bad {
            format!("<x{i}> <{i}>\n")
        } else {
            format!("<{i}> <{i}>\n")
        });
        most.push_str(&if i % 3 == 0 {
            format!("<{i}> <{i}>\n")
        } else {
            format!("<y> <{i}>\n")
        });
    }
    std::fs::write(d.join("few.sor"), &few).unwrap();
    std::fs::write(d.join("most.sor"), &most).unwrap();
    for n in SIZES {
        let (_, dev, got) = loaded(n, &d.join("few.sor"), &["types=c0:I", "lenient"]);
        assert_eq!(dev, "deviations 10 1000");
        assert_eq!(got[999], "null 999");
        assert_eq!(got[1000], "1000 1000");
        let err = fails(n, &d.join("most.sor"), &["types=c0:I", "lenient"]);
        assert!(
            err.contains("most.sor") && err.contains("6666 of 10000 rows"),
            "{err}"
        );
        assert!(err.contains("first at line 2"), "{err}");
        let (_, dev, _) = loaded(n, &d.join("most.sor"), &["types=c0:I", "lenient", "allow"]);
        assert_eq!(dev, "deviations 6666 2");
        // Safe (the default): nothing is lost, the column is text.
        let (schema, dev, _) = loaded(n, &d.join("most.sor"), &[]);
        assert_eq!(
            (schema.as_str(), dev.as_str()),
            ("schema SI c0,c1", "deviations 0 -")
        );
    }
    std::fs::remove_dir_all(&d).unwrap();
}

/// 10 MB of random bytes never load as a frame with exit 0, in any mode.
#[test]
fn random_bytes_do_not_load() {
    let d = dir("random");
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let bytes: Vec<u8> = (0..10 << 20)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    std::fs::write(d.join("noise.sor"), &bytes).unwrap();
    std::fs::write(d.join("noise.csv"), &bytes).unwrap();
    for opts in [&[][..], &["lenient"], &["sor_rule"]] {
        fails(4, &d.join("noise.sor"), opts);
        fails(4, &d.join("noise.csv"), opts);
    }
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn empty_files() {
    let d = dir("empty");
    std::fs::write(d.join("e.csv"), b"").unwrap();
    std::fs::write(d.join("e.sor"), b"").unwrap();
    std::fs::write(d.join("e.txt"), b"").unwrap();
    for n in SIZES {
        let err = fails(n, &d.join("e.csv"), &[]);
        assert!(err.contains("e.csv") && err.contains("no header"), "{err}");
        let (schema, dev, rows) = loaded(n, &d.join("e.sor"), &[]);
        assert_eq!(
            (schema.trim_end(), dev.as_str()),
            ("schema", "deviations 0 -")
        );
        assert!(rows.is_empty());
        let err = fails(n, &d.join("e.txt"), &[]);
        assert!(err.contains("cannot tell the format"), "{err}");
    }
    std::fs::remove_dir_all(&d).unwrap();
}

fn version(rows: usize, tag: i64) -> (String, Vec<String>) {
    let text = (0..rows).map(|i| format!("<{}> <{tag}>\n", i)).collect();
    let want = (0..rows).map(|i| format!("{i} {tag}")).collect();
    (text, want)
}

/// A new version renamed over the path while the ranks open it: forced by the test hook
/// (rank 3 opens only after the others did and the file was replaced). The ranks see
/// different inodes, open again, and load the new version whole; never a blend.
#[test]
fn a_file_replaced_while_ranks_open_it_loads_one_version() {
    let (old, _) = version(40_000, 1);
    let (new, want_new) = version(25_000, 2);
    for trial in 0..4 {
        let d = dir(&format!("replace{trial}"));
        let hooks = d.join("hooks");
        std::fs::create_dir_all(&hooks).unwrap();
        let path = d.join("v.sor");
        std::fs::write(&path, &old).unwrap();
        let held = 3 - trial % 4;
        std::fs::write(hooks.join(format!("hold-open.{held}")), b"").unwrap();
        let mut cmd = launch_command(4, &bin("load-check"), &["read", path.to_str().unwrap()]);
        cmd.env("EAU2_TEST_LOAD_HOOK", &hooks);
        let hooks_for_job = hooks.clone();
        let job = std::thread::spawn(move || run_with_deadline(&mut cmd, DEADLINE));
        let others: Vec<PathBuf> = (0..4)
            .filter(|&r| r != held)
            .map(|r| hooks_for_job.join(format!("opened.{r}.0")))
            .collect();
        wait_for_paths(&others, Instant::now() + DEADLINE);
        std::fs::write(d.join("v.sor.new"), &new).unwrap();
        std::fs::rename(d.join("v.sor.new"), &path).unwrap();
        std::fs::remove_file(hooks.join(format!("hold-open.{held}"))).unwrap();
        let out = job.join().unwrap();
        out.assert_success();
        let rows: Vec<String> = out
            .unprefixed_lines()
            .iter()
            .filter_map(|l| l.strip_prefix("row "))
            .map(str::to_string)
            .collect();
        assert_eq!(rows, want_new, "trial {trial}");
        assert!(
            hooks.join(format!("opened.{held}.1")).exists(),
            "no second open"
        );
        std::fs::remove_dir_all(&d).unwrap();
    }
}

/// A file rewritten in place after the ranks opened it fails the load naming it.
#[test]
fn a_file_changed_during_the_load_fails_naming_it() {
    let (old, _) = version(40_000, 1);
    let d = dir("inplace");
    let hooks = d.join("hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    let path = d.join("w.sor");
    std::fs::write(&path, &old).unwrap();
    std::fs::write(hooks.join("hold-opened.2"), b"").unwrap();
    let mut cmd = launch_command(4, &bin("load-check"), &["read", path.to_str().unwrap()]);
    cmd.env("EAU2_TEST_LOAD_HOOK", &hooks);
    let job = std::thread::spawn(move || run_with_deadline(&mut cmd, DEADLINE));
    let all: Vec<PathBuf> = (0..4)
        .map(|r| hooks.join(format!("opened.{r}.0")))
        .collect();
    wait_for_paths(&all, Instant::now() + DEADLINE);
    // Appending keeps the inode: the identities agree, the change is found at the end.
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    f.write_all(b"<7> <7>\n").unwrap();
    drop(f);
    std::fs::remove_file(hooks.join("hold-opened.2")).unwrap();
    let out = job.join().unwrap();
    assert!(!out.status.success(), "{}", out.stdout);
    assert!(
        out.stderr.contains("w.sor") && out.stderr.contains("changed"),
        "{}",
        out.stderr
    );
    std::fs::remove_dir_all(&d).unwrap();
}

/// A path replaced between the ranks' opens on every try: after four tries every rank
/// fails, naming the file, and nothing is loaded.
#[test]
fn a_file_replaced_at_every_open_fails_naming_it() {
    let d = dir("replaced-always");
    let hooks = d.join("hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    let path = d.join("x.sor");
    std::fs::write(&path, version(1000, 0).0).unwrap();
    for attempt in 0..4 {
        std::fs::write(hooks.join(format!("hold-open.1.{attempt}")), b"").unwrap();
    }
    let mut cmd = launch_command(3, &bin("load-check"), &["read", path.to_str().unwrap()]);
    cmd.env("EAU2_TEST_LOAD_HOOK", &hooks);
    let job = std::thread::spawn(move || run_with_deadline(&mut cmd, DEADLINE));
    let deadline = Instant::now() + DEADLINE;
    for attempt in 0..4 {
        let others: Vec<PathBuf> = [0, 2]
            .iter()
            .map(|r| hooks.join(format!("opened.{r}.{attempt}")))
            .collect();
        wait_for_paths(&others, deadline);
        let next = d.join("x.sor.next");
        std::fs::write(&next, version(1000 + attempt, attempt as i64 + 1).0).unwrap();
        std::fs::rename(&next, &path).unwrap();
        std::fs::remove_file(hooks.join(format!("hold-open.1.{attempt}"))).unwrap();
    }
    let out = job.join().unwrap();
    assert!(!out.status.success(), "{}", out.stdout);
    assert!(
        out.stderr.contains("x.sor") && out.stderr.contains("replaced while the ranks opened it"),
        "{}",
        out.stderr
    );
    assert!(!out.stdout.contains("read ok"));
    std::fs::remove_dir_all(&d).unwrap();
}
