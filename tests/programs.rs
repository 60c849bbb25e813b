//! The four issue-9 programs (examples/programs) through eau2-launch on git-small with 1
//! and 3 ranks: the same output on both, and the same answers as a plain computation
//! over the SoR files done here.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::time::Duration;

use eau2_testkit::{bin_dir, launch, repo_root};

const DEADLINE: Duration = Duration::from_secs(180);

/// The bundled data set.
fn data() -> PathBuf {
    repo_root().join("datasets/git-small")
}

/// The fields of each line of a SoR file `<a> <"b"> ...`, without brackets and quotes.
fn rows(file: &str) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(data().join(file)).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            line.split('>')
                .filter_map(|f| f.trim().strip_prefix('<'))
                .map(|f| f.trim_matches('"').to_string())
                .collect()
        })
        .collect()
}

/// The commits as (pid, author, committer).
fn commits() -> Vec<(i64, i64, i64)> {
    let num = |s: &String| s.parse::<i64>().unwrap();
    rows("commits.ltgt")
        .iter()
        .map(|r| (num(&r[0]), num(&r[1]), num(&r[2])))
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

/// The output of `name` on 1 and on 3 ranks, checked to be the same.
fn same_on_1_and_3(name: &str) -> Vec<String> {
    let data = data();
    let one = run(name, 1, &[data.to_str().unwrap()]);
    let three = run(name, 3, &[data.to_str().unwrap()]);
    assert_eq!(one, three, "{name}: 1 rank and 3 ranks differ");
    one
}

#[test]
fn top_projects_match_a_plain_count() {
    let mut counts: HashMap<i64, u64> = HashMap::new();
    for (pid, _, _) in commits() {
        *counts.entry(pid).or_default() += 1;
    }
    let names: HashMap<i64, String> = rows("projects.ltgt")
        .into_iter()
        .map(|r| (r[0].parse().unwrap(), r[1].clone()))
        .collect();
    let mut all: Vec<(u64, i64)> = counts.into_iter().map(|(p, c)| (c, p)).collect();
    all.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let want: Vec<String> = all
        .iter()
        .take(10)
        .map(|&(c, p)| format!("{c} {p} {}", names[&p]))
        .collect();
    assert_eq!(same_on_1_and_3("top_projects"), want);
}

#[test]
fn projects_per_user_match_a_plain_histogram() {
    let mut per_user: HashMap<i64, HashSet<i64>> = HashMap::new();
    for (pid, author, _) in commits() {
        per_user.entry(author).or_default().insert(pid);
    }
    let mut hist: BTreeMap<usize, u64> = BTreeMap::new();
    for projects in per_user.values() {
        *hist.entry(projects.len()).or_default() += 1;
    }
    let want: Vec<String> = hist.iter().map(|(p, u)| format!("{p} {u}")).collect();
    assert_eq!(same_on_1_and_3("projects_per_user"), want);
}

#[test]
fn column_stats_match_plain_statistics_of_the_commits() {
    let got = same_on_1_and_3("column_stats");
    let commits = commits();
    let n = commits.len() as f64;
    for (i, name) in ["c0", "c1", "c2"].iter().enumerate() {
        let col: Vec<i64> = commits.iter().map(|c| [c.0, c.1, c.2][i]).collect();
        let line = got
            .iter()
            .find(|l| l.starts_with(&format!("commits {name} ")))
            .unwrap_or_else(|| panic!("no line for commits {name} in {got:?}"));
        let f: Vec<&str> = line.split(' ').collect();
        assert_eq!(f[2].parse::<usize>().unwrap(), col.len(), "{line}");
        let mean = col.iter().sum::<i64>() as f64 / n;
        assert!((f[3].parse::<f64>().unwrap() - mean).abs() < 1e-9, "{line}");
        assert_eq!(f[4], col.iter().min().unwrap().to_string(), "{line}");
        assert_eq!(f[5], col.iter().max().unwrap().to_string(), "{line}");
        assert_eq!(f[6], "0", "{line}");
    }
    // The projects' names: 18 present, a string column has no mean.
    assert!(
        got.iter().any(|l| l.starts_with("projects c1 18 null ")),
        "{got:?}"
    );
}

#[test]
fn filter_join_sort_save_writes_the_same_file_on_1_and_3_ranks() {
    let dir = std::env::temp_dir().join(format!("eau2-programs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let data = data();
    let mut files = Vec::new();
    for n in [1, 3] {
        let out = dir.join(format!("out-{n}.csv"));
        let lines = run(
            "filter_join_sort_save",
            n,
            &[data.to_str().unwrap(), out.to_str().unwrap()],
        );
        files.push((lines, std::fs::read_to_string(&out).unwrap()));
    }
    assert_eq!(files[0], files[1], "1 rank and 3 ranks differ");
    // Every commit whose committer is not its author, once each, sorted.
    let names: HashMap<i64, String> = rows("users.ltgt")
        .into_iter()
        .map(|r| (r[0].parse().unwrap(), r[1].clone()))
        .collect();
    let mut want: Vec<(i64, String, String)> = commits()
        .into_iter()
        .filter(|c| c.1 != c.2)
        .map(|c| (c.0, names[&c.1].clone(), names[&c.2].clone()))
        .collect();
    want.sort();
    assert_eq!(files[0].0, vec![format!("{} rows saved", want.len())]);
    let csv: Vec<&str> = files[0].1.lines().collect();
    assert_eq!(csv[0], "pid,name,name_right");
    assert_eq!(csv.len(), want.len() + 1);
    // Names with a comma or a quote are quoted in the file: compare the plain ones.
    for (line, (pid, a, c)) in csv[1..].iter().zip(&want) {
        if !a.contains([',', '"']) && !c.contains([',', '"']) {
            assert_eq!(*line, format!("{pid},{a},{c}"));
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
