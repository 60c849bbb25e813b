//! The five everyday programs (examples/programs) through eau2-launch with 1, 3 and 4
//! ranks, on git-small and on a copy of it whose commits are ordered by project (its
//! first 2,287 rows have pid 0, the next 9,076 pid 1: a reader that guesses types from
//! the first rows sees a BOOL column there). Every output is checked against a plain
//! computation over the SoR files done here, without eau2. And each program is at most
//! 1.5 times as long as its polars twin (bench/polars/programs), counted by
//! bench/program_lines.sh.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use eau2_testkit::{bin_dir, launch, repo_root, run_with_deadline};

const DEADLINE: Duration = Duration::from_secs(180);

/// The rank counts every program runs with.
const RANKS: [usize; 3] = [1, 3, 4];

/// The bundled data set.
fn small() -> PathBuf {
    repo_root().join("datasets/git-small")
}

/// A data set in a fresh folder, removed when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A copy of git-small in a fresh folder for test `test`, its commits sorted by pid.
fn by_pid(test: &str) -> Scratch {
    let dir = std::env::temp_dir().join(format!("eau2-programs-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for file in ["projects.ltgt", "users.ltgt"] {
        std::fs::copy(small().join(file), dir.join(file)).unwrap();
    }
    let text = std::fs::read_to_string(small().join("commits.ltgt")).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.sort_by_key(|l| fields(l)[0].parse::<i64>().unwrap());
    assert!(lines[..2000].iter().all(|l| l.starts_with("<0>")));
    std::fs::write(dir.join("commits.ltgt"), lines.join("\n") + "\n").unwrap();
    Scratch(dir)
}

/// The fields of a SoR line `<a> <"b"> ...`, without brackets and quotes.
fn fields(line: &str) -> Vec<String> {
    line.split('>')
        .filter_map(|f| f.trim().strip_prefix('<'))
        .map(|f| f.trim_matches('"').to_string())
        .collect()
}

/// The rows of the SoR file `file` in `dir`.
fn rows(dir: &Path, file: &str) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(dir.join(file)).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(fields)
        .collect()
}

/// The commits in `dir` as (pid, author, committer).
fn commits(dir: &Path) -> Vec<(i64, i64, i64)> {
    let num = |s: &String| s.parse::<i64>().unwrap();
    rows(dir, "commits.ltgt")
        .iter()
        .map(|r| (num(&r[0]), num(&r[1]), num(&r[2])))
        .collect()
}

/// The names of the ids in the two-column file `file` in `dir`.
fn names(dir: &Path, file: &str) -> HashMap<i64, String> {
    rows(dir, file)
        .into_iter()
        .map(|r| (r[0].parse().unwrap(), r[1].clone()))
        .collect()
}

/// Runs example `name` on `n` ranks with `args` and returns its output lines.
fn run(name: &str, n: usize, args: &[&str]) -> Vec<String> {
    let program = bin_dir().join("examples").join(name);
    assert!(
        program.is_file(),
        "{} is missing: build it with `cargo build --examples` (plain `cargo test` does)",
        program.display()
    );
    let out = launch(n, &program, args, DEADLINE);
    out.assert_success();
    out.unprefixed_lines()
}

/// The output of `name` on data `dir` (then `args`), the same on 1, 3 and 4 ranks.
fn output(name: &str, dir: &Path, args: &[&str]) -> Vec<String> {
    let mut all = vec![dir.to_str().unwrap()];
    all.extend_from_slice(args);
    let one = run(name, 1, &all);
    for n in &RANKS[1..] {
        assert_eq!(
            run(name, *n, &all),
            one,
            "{name}: 1 rank and {n} ranks differ"
        );
    }
    one
}

fn top_projects_reference(dir: &Path) -> Vec<String> {
    let mut counts: HashMap<i64, u64> = HashMap::new();
    for (pid, _, _) in commits(dir) {
        *counts.entry(pid).or_default() += 1;
    }
    let names = names(dir, "projects.ltgt");
    let mut all: Vec<(u64, i64)> = counts.into_iter().map(|(p, c)| (c, p)).collect();
    all.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    all.iter()
        .take(10)
        .map(|&(c, p)| format!("{c} {p} {}", names[&p]))
        .collect()
}

#[test]
fn top_projects_match_a_plain_count() {
    let sorted = by_pid("top");
    for dir in [small(), sorted.0.clone()] {
        let want = top_projects_reference(&dir);
        assert_eq!(want.len(), 10);
        assert_eq!(output("top_projects", &dir, &[]), want, "{}", dir.display());
    }
}

fn projects_per_user_reference(dir: &Path) -> Vec<String> {
    let mut per_user: HashMap<i64, HashSet<i64>> = HashMap::new();
    for (pid, author, _) in commits(dir) {
        per_user.entry(author).or_default().insert(pid);
    }
    let mut hist: BTreeMap<usize, u64> = BTreeMap::new();
    for projects in per_user.values() {
        *hist.entry(projects.len()).or_default() += 1;
    }
    hist.iter().map(|(p, u)| format!("{p} {u}")).collect()
}

#[test]
fn projects_per_user_match_a_plain_histogram() {
    let sorted = by_pid("per-user");
    for dir in [small(), sorted.0.clone()] {
        let want = projects_per_user_reference(&dir);
        assert!(want.len() > 3, "{want:?}");
        assert_eq!(output("projects_per_user", &dir, &[]), want);
    }
}

/// `FILE COLUMN ROWS COUNT MEAN MIN MAX` of one integer column without missing values,
/// computed here: the line without its mean, and the mean.
fn describe(file: &str, column: &str, values: &[i64]) -> (String, f64) {
    let mean = values.iter().sum::<i64>() as f64 / values.len() as f64;
    let (min, max) = (values.iter().min().unwrap(), values.iter().max().unwrap());
    let n = values.len();
    (format!("{file} {column} {n} {n} {min} {max}"), mean)
}

#[test]
fn column_stats_match_plain_statistics() {
    let sorted = by_pid("stats");
    for dir in [small(), sorted.0.clone()] {
        let c = commits(&dir);
        let ids = |file: &str| -> Vec<i64> { names(&dir, file).into_keys().collect() };
        let want = [
            describe("commits", "pid", &c.iter().map(|c| c.0).collect::<Vec<_>>()),
            describe(
                "commits",
                "author",
                &c.iter().map(|c| c.1).collect::<Vec<_>>(),
            ),
            describe(
                "commits",
                "committer",
                &c.iter().map(|c| c.2).collect::<Vec<_>>(),
            ),
            describe("projects", "pid", &ids("projects.ltgt")),
            describe("users", "uid", &ids("users.ltgt")),
        ];
        let got = output("column_stats", &dir, &[]);
        assert_eq!(
            got.len(),
            want.len(),
            "one line per numeric column: {got:?}"
        );
        for (line, (text, mean)) in got.iter().zip(&want) {
            // The mean is compared as a number, the rest as text.
            let mut f: Vec<&str> = line.split(' ').collect();
            let m: f64 = f.remove(4).parse().unwrap();
            assert_eq!(f.join(" "), *text, "{line}");
            assert!((m - mean).abs() <= 1e-9 * mean.abs(), "{line}: mean {mean}");
        }
    }
}

#[test]
fn filter_join_sort_save_writes_the_sorted_file() {
    let sorted = by_pid("save");
    for dir in [small(), sorted.0.clone()] {
        let users = names(&dir, "users.ltgt");
        let mut want: Vec<(i64, String, String)> = commits(&dir)
            .into_iter()
            .filter(|c| c.1 != c.2)
            .map(|c| (c.0, users[&c.1].clone(), users[&c.2].clone()))
            .collect();
        want.sort();
        let mut first: Option<String> = None;
        for n in RANKS {
            let out = dir.join(format!("saved-{n}.csv"));
            let args = [dir.to_str().unwrap(), out.to_str().unwrap()];
            let lines = run("filter_join_sort_save", n, &args);
            assert_eq!(
                lines,
                vec![format!("{} rows saved", want.len())],
                "{n} ranks"
            );
            let csv = std::fs::read_to_string(&out).unwrap();
            std::fs::remove_file(&out).unwrap();
            let csv_lines: Vec<&str> = csv.lines().collect();
            assert_eq!(csv_lines[0], "pid,author_name,committer_name");
            assert_eq!(csv_lines.len(), want.len() + 1);
            // Names with a comma or a quote are quoted in the file: compare the plain ones.
            for (line, (pid, a, c)) in csv_lines[1..].iter().zip(&want) {
                if !a.contains([',', '"']) && !c.contains([',', '"']) {
                    assert_eq!(*line, format!("{pid},{a},{c}"));
                }
            }
            let first = first.get_or_insert_with(|| csv.clone());
            assert_eq!(*first, csv, "{n} ranks wrote another file than 1 rank");
        }
    }
}

/// The Linus stages computed here with sets: `STAGE PROJECTS USERS`, totals so far.
fn linus_reference(dir: &Path) -> Vec<String> {
    let start = names(dir, "users.ltgt")
        .into_iter()
        .find(|(_, name)| name == "Linus Torvalds")
        .map(|(uid, _)| uid)
        .unwrap();
    let commits = commits(dir);
    let (mut users, mut projects) = (HashSet::from([start]), HashSet::<i64>::new());
    let mut new_users = users.clone();
    let mut lines = Vec::new();
    for stage in 0..4 {
        let new_projects: HashSet<i64> = commits
            .iter()
            .filter(|c| new_users.contains(&c.1) && !projects.contains(&c.0))
            .map(|c| c.0)
            .collect();
        projects.extend(&new_projects);
        new_users = commits
            .iter()
            .filter(|c| new_projects.contains(&c.0) && !users.contains(&c.1))
            .map(|c| c.1)
            .collect();
        users.extend(&new_users);
        lines.push(format!("{stage} {} {}", projects.len(), users.len()));
    }
    lines
}

#[test]
fn linus_stages_match_a_plain_search() {
    let sorted = by_pid("linus");
    let want = linus_reference(&small());
    // The totals datasets/git-small/README.md gives.
    assert_eq!(want, ["0 6 923", "1 18 5312", "2 18 5312", "3 18 5312"]);
    for dir in [small(), sorted.0.clone()] {
        assert_eq!(output("linus", &dir, &[]), want, "{}", dir.display());
    }
}

/// Each program is at most 1.5 times as long as its polars twin, counted by
/// bench/program_lines.sh (non-blank, non-comment lines without imports).
#[test]
fn every_program_is_at_most_one_and_a_half_times_its_polars_twin() {
    let script = repo_root().join("bench/program_lines.sh");
    let out = run_with_deadline(Command::new("bash").arg(&script), DEADLINE);
    out.assert_success();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 5, "{}", out.stdout);
    for line in lines {
        let f: Vec<&str> = line.split(' ').collect();
        let (eau2, polars): (f64, f64) = (f[1].parse().unwrap(), f[2].parse().unwrap());
        assert!(polars >= 5.0, "{line}: the count found almost nothing");
        assert!(eau2 <= 1.5 * polars, "{line}: eau2 over 1.5x polars' lines");
    }
}
