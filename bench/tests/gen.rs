//! End-to-end tests of the `eau2-gen` binary: the real executable, small sizes.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const GEN: &str = env!("CARGO_BIN_EXE_eau2-gen");

/// A fresh, empty directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("gen-tests")
        .join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(args: &[&str], threads: Option<usize>) -> Output {
    let mut cmd = Command::new(GEN);
    cmd.args(args);
    if let Some(n) = threads {
        cmd.env("RAYON_NUM_THREADS", n.to_string());
    }
    cmd.output().unwrap()
}

fn run_ok(args: &[&str]) -> String {
    let out = run(args, None);
    assert!(
        out.status.success(),
        "eau2-gen {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Generates a Linus data set into `dir`; returns the generator's stdout.
fn linus(dir: &Path, commits: u64, users: u64, projects: u64, seed: u64, extra: &[&str]) -> String {
    let (c, u, p, s) = (
        commits.to_string(),
        users.to_string(),
        projects.to_string(),
        seed.to_string(),
    );
    let mut args = vec![
        "linus",
        "--commits",
        &c,
        "--users",
        &u,
        "--projects",
        &p,
        "--seed",
        &s,
        "--out",
        dir.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    run_ok(&args)
}

fn read(dir: &Path, file: &str) -> Vec<u8> {
    fs::read(dir.join(file)).unwrap()
}

fn lines(dir: &Path, file: &str) -> Vec<String> {
    String::from_utf8(read(dir, file))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// Parses `<digits>` at the start of `s`; returns the number and the rest.
fn int_field(s: &str) -> Option<(u64, &str)> {
    let rest = s.strip_prefix('<')?;
    let end = rest.find('>')?;
    let digits = &rest[..end];
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((digits.parse().ok()?, &rest[end + 1..]))
}

/// Parses a whole `<id> <"text">` line.
fn id_and_name(line: &str) -> Option<(u64, &str)> {
    let (id, rest) = int_field(line)?;
    let name = rest.strip_prefix(" <\"")?.strip_suffix("\">")?;
    if name.is_empty() || name.contains('"') {
        return None;
    }
    Some((id, name))
}

/// Parses a whole `<a> <b> <c>` line.
fn three_ints(line: &str) -> Option<[u64; 3]> {
    let (a, rest) = int_field(line)?;
    let (b, rest) = int_field(rest.strip_prefix(' ')?)?;
    let (c, rest) = int_field(rest.strip_prefix(' ')?)?;
    rest.is_empty().then_some([a, b, c])
}

/// The number after `label` in the generator's output, e.g. "most active user: uid ".
fn reported(stdout: &str, label: &str) -> u64 {
    let at = stdout
        .find(label)
        .unwrap_or_else(|| panic!("no {label:?} in {stdout}"));
    stdout[at + label.len()..]
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

const FILES: [&str; 3] = ["projects.ltgt", "users.ltgt", "commits.ltgt"];

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let (a, b, c) = (scratch("det-a"), scratch("det-b"), scratch("det-c"));
    // More than one block (65536 rows) of commits, so block seeding is exercised.
    linus(&a, 150_000, 2_000, 300, 7, &[]);
    linus(&b, 150_000, 2_000, 300, 7, &[]);
    linus(&c, 150_000, 2_000, 300, 8, &[]);
    for f in FILES {
        assert!(read(&a, f) == read(&b, f), "{f} differs for the same seed");
        assert!(
            read(&a, f) != read(&c, f),
            "{f} is the same for another seed"
        );
    }
}

#[test]
fn output_does_not_depend_on_thread_count() {
    let args = |dir: &Path| -> Vec<String> {
        [
            "linus",
            "--commits",
            "200000",
            "--users",
            "70000",
            "--projects",
            "500",
            "--out",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([dir.to_str().unwrap().to_string()])
        .collect()
    };
    let (one, three) = (scratch("threads-1"), scratch("threads-3"));
    for (dir, n) in [(&one, 1), (&three, 3)] {
        let a = args(dir);
        let out = run(&a.iter().map(String::as_str).collect::<Vec<_>>(), Some(n));
        assert!(out.status.success());
    }
    for f in FILES {
        assert!(
            read(&one, f) == read(&three, f),
            "{f} depends on the thread count"
        );
    }
}

#[test]
fn rows_ids_and_format() {
    let dir = scratch("format");
    let (commits, users, projects) = (100_000u64, 1_000u64, 40u64);
    let out = linus(&dir, commits, users, projects, 3, &[]);

    let p = lines(&dir, "projects.ltgt");
    assert_eq!(p.len() as u64, projects);
    for (i, line) in p.iter().enumerate() {
        let (pid, name) = id_and_name(line).unwrap_or_else(|| panic!("bad project line {line:?}"));
        assert_eq!(pid, i as u64, "pids are dense and in order");
        assert!(
            name.contains('/'),
            "project name {name:?} is not owner/name"
        );
    }

    let u = lines(&dir, "users.ltgt");
    assert_eq!(u.len() as u64, users);
    let mut names = HashSet::new();
    for (i, line) in u.iter().enumerate() {
        let (uid, name) = id_and_name(line).unwrap_or_else(|| panic!("bad user line {line:?}"));
        assert_eq!(uid, i as u64, "uids are dense and in order");
        assert!(names.insert(name.to_string()), "user name {name:?} repeats");
    }
    assert!(names.iter().any(|n| n.contains(' ')), "names have spaces");

    let c = lines(&dir, "commits.ltgt");
    assert_eq!(c.len() as u64, commits);
    let mut same = 0;
    for line in &c {
        let [pid, author, committer] =
            three_ints(line).unwrap_or_else(|| panic!("bad commit line {line:?}"));
        assert!(
            pid < projects && author < users && committer < users,
            "{line:?}"
        );
        same += usize::from(author == committer);
    }
    let share = same as f64 / c.len() as f64;
    assert!(
        (0.85..0.97).contains(&share),
        "committer = author in {share:.3}"
    );

    // Every file ends with a newline, and the reported ids exist.
    for f in FILES {
        assert_eq!(read(&dir, f).last(), Some(&b'\n'), "{f}");
    }
    let top = reported(&out, "most active user: uid ") as usize;
    assert_eq!(id_and_name(&u[top]).unwrap().1, "Linus Torvalds");
    let top = reported(&out, "most active project: pid ") as usize;
    assert_eq!(id_and_name(&p[top]).unwrap().1, "torvalds/linux");
    let readme = fs::read_to_string(dir.join("README.md")).unwrap();
    assert!(readme.contains(&format!("pid {top}")));
}

#[test]
fn activity_is_skewed_and_the_reported_top_user_is_the_top_author() {
    let dir = scratch("skew");
    let users = 5_000u64;
    let out = linus(&dir, 200_000, users, 1_000, 11, &[]);
    let mut authored: HashMap<u64, u64> = HashMap::new();
    let mut in_project: HashMap<u64, u64> = HashMap::new();
    for line in lines(&dir, "commits.ltgt") {
        let [pid, author, _] = three_ints(&line).unwrap();
        *authored.entry(author).or_default() += 1;
        *in_project.entry(pid).or_default() += 1;
    }
    let mut counts: Vec<(u64, u64)> = authored.iter().map(|(&u, &n)| (n, u)).collect();
    counts.sort_unstable_by(|a, b| b.cmp(a));
    let top_1pct: u64 = counts
        .iter()
        .take((users / 100) as usize)
        .map(|c| c.0)
        .sum();
    let share = top_1pct as f64 / 200_000.0;
    assert!(
        share > 0.2,
        "top 1% of users author only {share:.3} of commits"
    );
    // ... and the typical user authors far fewer commits than the mean.
    let mut per_user: Vec<u64> = (0..users)
        .map(|u| authored.get(&u).copied().unwrap_or(0))
        .collect();
    per_user.sort_unstable();
    let (median, mean) = (per_user[per_user.len() / 2], 200_000 / users);
    assert!(
        median * 3 < mean,
        "median user authors {median} commits, mean {mean}"
    );
    assert_eq!(counts[0].1, reported(&out, "most active user: uid "));
    let top_project = in_project.iter().max_by_key(|e| *e.1).unwrap().0;
    assert_eq!(*top_project, reported(&out, "most active project: pid "));
    // Scrambling spreads the heavy hitters: the ten heaviest are not uids 0..10.
    assert!(counts.iter().take(10).any(|c| c.1 >= 10));
}

#[test]
fn no_scramble_puts_the_heaviest_at_id_zero() {
    let dir = scratch("no-scramble");
    let out = linus(&dir, 50_000, 500, 50, 1, &["--no-scramble"]);
    assert_eq!(reported(&out, "most active user: uid "), 0);
    assert_eq!(reported(&out, "most active project: pid "), 0);
    assert_eq!(lines(&dir, "users.ltgt")[0], "<0> <\"Linus Torvalds\">");
}

#[test]
fn empty_tables_are_fine() {
    let dir = scratch("empty");
    linus(&dir, 0, 0, 0, 1, &[]);
    for f in FILES {
        assert!(read(&dir, f).is_empty(), "{f}");
    }
}

#[test]
fn text_has_exact_size_and_zipf_words() {
    let dir = scratch("text");
    let (a, b) = (dir.join("a.txt"), dir.join("b.txt"));
    let bytes = 3_000_000u64; // three blocks, the last one partial
    for path in [&a, &b] {
        run_ok(&[
            "text",
            "--bytes",
            "3M",
            "--seed",
            "5",
            "--out",
            path.to_str().unwrap(),
        ]);
    }
    let text = fs::read(&a).unwrap();
    assert_eq!(text.len() as u64, bytes);
    assert!(text == fs::read(&b).unwrap(), "text is not deterministic");
    let text = String::from_utf8(text).unwrap();
    let mut freq: HashMap<&str, u64> = HashMap::new();
    let mut total = 0u64;
    for w in text.split_ascii_whitespace() {
        assert!(w.bytes().all(|c| c.is_ascii_lowercase()), "odd word {w:?}");
        *freq.entry(w).or_default() += 1;
        total += 1;
    }
    let mut counts: Vec<u64> = freq.values().copied().collect();
    counts.sort_unstable_by(|x, y| y.cmp(x));
    // With Zipf's law over 100k words the ten commonest take roughly a quarter of the text.
    let top10: u64 = counts.iter().take(10).sum();
    assert!(
        top10 as f64 > 0.15 * total as f64,
        "top 10 words: {top10} of {total}"
    );
    assert!(freq.len() > 10_000, "only {} distinct words", freq.len());
}

#[test]
fn mixed_rows_follow_the_schema() {
    let dir = scratch("mixed");
    let path = dir.join("m.sor");
    run_ok(&["mixed", "--rows", "40000", "--out", path.to_str().unwrap()]);
    let text = fs::read_to_string(&path).unwrap();
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(rows.len(), 40_000);
    let mut short = 0;
    for row in &rows {
        // Quoted strings hold no `<` or `>`, so brackets count the fields.
        let fields = row.matches('<').count();
        assert_eq!(fields, row.matches('>').count(), "{row:?}");
        assert!((1..=8).contains(&fields), "{row:?}");
        short += usize::from(fields < 8);
    }
    assert!(short > 0 && short < rows.len() / 10, "{short} short rows");
    assert!(text.contains("<>") && text.contains("<\""));
}

#[test]
fn help_documents_every_flag() {
    let top = run_ok(&["--help"]);
    for sub in ["linus", "text", "mixed"] {
        assert!(top.contains(sub), "{sub} missing from --help");
    }
    let help = run_ok(&["linus", "--help"]);
    for flag in [
        "--commits",
        "--users",
        "--projects",
        "--seed",
        "--skew",
        "--no-scramble",
        "--out",
    ] {
        assert!(help.contains(flag), "{flag} missing from linus --help");
    }
    let help = run_ok(&["text", "--help"]);
    for flag in ["--bytes", "--vocabulary", "--skew", "--seed", "--out"] {
        assert!(help.contains(flag), "{flag} missing from text --help");
    }
}

#[test]
fn errors_give_a_message_and_a_failing_status() {
    let dir = scratch("errors");
    // A bad flag and a bad number.
    for args in [
        vec!["linus", "--commits", "10", "--users", "5", "--bogus"],
        vec![
            "linus",
            "--commits",
            "ten",
            "--users",
            "5",
            "--projects",
            "5",
            "--out",
            "x",
        ],
        vec!["linus", "--users", "5", "--projects", "5", "--out", "x"],
    ] {
        let out = run(&args, None);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(!out.stderr.is_empty(), "{args:?} said nothing");
    }
    // An unwritable directory: a path below a regular file.
    let file = dir.join("a-file");
    fs::write(&file, b"x").unwrap();
    let target = file.join("sub");
    let out = run(
        &[
            "linus",
            "--commits",
            "10",
            "--users",
            "5",
            "--projects",
            "5",
            "--out",
            target.to_str().unwrap(),
        ],
        None,
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(target.to_str().unwrap()),
        "error does not name the path: {err}"
    );
    // Commits without users cannot have valid ids.
    let out = run(
        &[
            "linus",
            "--commits",
            "10",
            "--users",
            "0",
            "--projects",
            "5",
            "--out",
            dir.to_str().unwrap(),
        ],
        None,
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("user"));
}

/// Pins the exact bytes of a tiny data set: any change to the PRNG, the seeding, the
/// distributions or the format shows up here, since it would silently change every data
/// set generated from a published seed.
#[test]
fn golden_output_for_seed_1() {
    let dir = scratch("golden");
    linus(&dir, 6, 100, 10, 1, &[]);
    let commits = "<3> <16> <16>\n<1> <37> <37>\n<1> <83> <83>\n\
                   <9> <93> <93>\n<4> <10> <10>\n<0> <16> <16>\n";
    assert_eq!(
        String::from_utf8(read(&dir, "commits.ltgt")).unwrap(),
        commits
    );
    assert_eq!(
        lines(&dir, "users.ltgt")[..2],
        ["<0> <\"José Yılmaz 0\">", "<1> <\"Aoife Spärck Jones 1\">"]
    );
    assert_eq!(
        lines(&dir, "projects.ltgt")[..2],
        ["<0> <\"xenon/jolly-kernel-0\">", "<1> <\"torvalds/linux\">"]
    );
}
