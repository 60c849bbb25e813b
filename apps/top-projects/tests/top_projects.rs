//! top-projects through eau2-launch on the bundled data, against a plain count of the
//! commits file done here.

use std::collections::HashMap;
use std::time::Duration;

use eau2_testkit::{bin, launch, repo_root};

const DEADLINE: Duration = Duration::from_secs(180);

/// The first field of a SoR line `<a> <b> ...`, without its brackets.
fn fields(line: &str) -> Vec<String> {
    line.split('>')
        .filter_map(|f| f.trim().strip_prefix('<'))
        .map(|f| f.trim_matches('"').to_string())
        .collect()
}

/// `COUNT PID NAME` lines of the `top` projects with the most commits, counted here.
fn expected(top: usize) -> Vec<String> {
    let dir = repo_root().join("datasets/git-small");
    let commits = std::fs::read_to_string(dir.join("commits.ltgt")).unwrap();
    let mut counts: HashMap<i64, u64> = HashMap::new();
    for line in commits.lines().filter(|l| !l.trim().is_empty()) {
        let pid: i64 = fields(line)[0].parse().unwrap();
        *counts.entry(pid).or_default() += 1;
    }
    let projects = std::fs::read_to_string(dir.join("projects.ltgt")).unwrap();
    let names: HashMap<i64, String> = projects
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f = fields(l);
            (f[0].parse().unwrap(), f[1].clone())
        })
        .collect();
    let mut all: Vec<(u64, i64)> = counts.into_iter().map(|(p, c)| (c, p)).collect();
    all.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    all.iter()
        .take(top)
        .map(|&(c, p)| format!("{c} {p} {}", names[&p]))
        .collect()
}

fn top_projects(n: usize, args: &[&str]) -> Vec<String> {
    let data = repo_root().join("datasets/git-small");
    let mut all = vec!["--data", data.to_str().unwrap(), "--quiet"];
    all.extend_from_slice(args);
    let out = launch(n, &bin("top-projects"), &all, DEADLINE);
    out.assert_success();
    out.unprefixed_lines()
}

#[test]
fn the_top_ten_match_a_plain_count_on_1_and_4_ranks() {
    let want = expected(10);
    assert_eq!(want.len(), 10);
    for n in [1, 4] {
        assert_eq!(top_projects(n, &[]), want, "{n} ranks");
    }
}

#[test]
fn every_project_and_a_short_list_on_3_ranks() {
    assert_eq!(top_projects(3, &["--top", "100"]), expected(100));
    assert_eq!(top_projects(3, &["--top", "1"]), expected(1));
}
