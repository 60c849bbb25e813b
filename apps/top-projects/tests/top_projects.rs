//! top-projects through eau2-launch on the bundled data, on a copy of it ordered by
//! project, and on a broken copy, against a plain count of the commits file done here.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use eau2_testkit::{bin, launch, repo_root};

const DEADLINE: Duration = Duration::from_secs(180);

/// The fields of a SoR line `<a> <"b"> ...`, without brackets and quotes.
fn fields(line: &str) -> Vec<String> {
    line.split('>')
        .filter_map(|f| f.trim().strip_prefix('<'))
        .map(|f| f.trim_matches('"').to_string())
        .collect()
}

/// The bundled data set.
fn small() -> PathBuf {
    repo_root().join("datasets/git-small")
}

/// A fresh folder for one test's files.
fn scratch(test: &str) -> PathBuf {
    eau2_testkit::scratch(&format!("top-{test}"))
}

/// `COUNT PID NAME` lines of the `top` projects with the most commits in `dir`, counted
/// here.
fn expected(dir: &Path, top: usize) -> Vec<String> {
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

fn top_projects(n: usize, data: &Path, args: &[&str]) -> Vec<String> {
    let mut all = vec!["--data", data.to_str().unwrap(), "--quiet"];
    all.extend_from_slice(args);
    let out = launch(n, &bin("top-projects"), &all, DEADLINE);
    out.assert_success();
    out.unprefixed_lines()
}

#[test]
fn the_top_ten_match_a_plain_count_on_1_and_4_ranks() {
    let want = expected(&small(), 10);
    assert_eq!(want.len(), 10);
    for n in [1, 4] {
        assert_eq!(top_projects(n, &small(), &[]), want, "{n} ranks");
    }
}

#[test]
fn every_project_and_a_short_list_on_3_ranks() {
    assert_eq!(
        top_projects(3, &small(), &["--top", "100"]),
        expected(&small(), 100)
    );
    assert_eq!(
        top_projects(3, &small(), &["--top", "1"]),
        expected(&small(), 1)
    );
}

/// The bundled commits sorted by pid: their first 2,287 rows have pid 0 and the next
/// 9,076 pid 1, so a reader that infers types from the first rows sees a BOOL column.
#[test]
fn commits_ordered_by_project_give_the_same_answer() {
    let dir = scratch("ordered");
    let text = std::fs::read_to_string(small().join("commits.ltgt")).unwrap();
    let mut lines: Vec<(i64, &str)> = text
        .lines()
        .map(|l| (fields(l)[0].parse().unwrap(), l))
        .collect();
    lines.sort_by_key(|&(pid, _)| pid);
    assert!(lines[..1000].iter().all(|&(pid, _)| pid == 0));
    let sorted: String = lines.iter().map(|(_, l)| format!("{l}\n")).collect();
    std::fs::write(dir.join("commits.ltgt"), sorted).unwrap();
    std::fs::copy(small().join("projects.ltgt"), dir.join("projects.ltgt")).unwrap();
    let want = expected(&dir, 18);
    assert_eq!(want, expected(&small(), 18));
    for n in [1, 2, 3] {
        assert_eq!(top_projects(n, &dir, &["--top", "18"]), want, "{n} ranks");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A pid that is not a number fails the run on every rank count, naming the file and
/// the line, instead of becoming a missing pid.
#[test]
fn a_bad_pid_fails_naming_the_file_and_line() {
    let dir = scratch("bad");
    let mut text = std::fs::read_to_string(small().join("commits.ltgt")).unwrap();
    let at = text.match_indices('\n').nth(49_999).unwrap().0 + 1; // line 50,001
    text.insert_str(at, "<\"linux\"> <1> <1>\n");
    std::fs::write(dir.join("commits.ltgt"), text).unwrap();
    std::fs::copy(small().join("projects.ltgt"), dir.join("projects.ltgt")).unwrap();
    for n in [1, 3] {
        let data = dir.to_str().unwrap();
        let out = launch(
            n,
            &bin("top-projects"),
            &["--data", data, "--quiet"],
            DEADLINE,
        );
        assert!(!out.status.success(), "{n} ranks: {out:?}");
        assert!(
            out.stderr.contains("commits.ltgt"),
            "{n} ranks: {}",
            out.stderr
        );
        assert!(out.stderr.contains("50001"), "{n} ranks: {}", out.stderr);
        assert!(out.stdout.trim().is_empty(), "{n} ranks: {}", out.stdout);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `--csv` reads commits.csv and projects.csv (with a header) and gives the same rows.
#[test]
fn csv_files_give_the_same_answer() {
    let dir = scratch("csv");
    for (file, header) in [
        ("commits", "pid,author,committer"),
        ("projects", "pid,name"),
    ] {
        let text = std::fs::read_to_string(small().join(format!("{file}.ltgt"))).unwrap();
        let mut csv = format!("{header}\n");
        for line in text.lines() {
            let f = fields(line);
            assert!(f.iter().all(|v| !v.contains(['"', ','])), "{line}");
            csv += &(f.join(",") + "\n");
        }
        std::fs::write(dir.join(format!("{file}.csv")), csv).unwrap();
    }
    for n in [1, 3] {
        let got = top_projects(n, &dir, &["--csv", "--top", "18"]);
        assert_eq!(got, expected(&small(), 18), "{n} ranks");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
