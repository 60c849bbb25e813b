//! Linus through eau2-launch: on the bundled data against its README's table, and on
//! generated graphs against a plain single-process BFS written here.

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use eau2_testkit::{bin, launch, repo_root, run_with_deadline};

const DEADLINE: Duration = Duration::from_secs(180);

fn stage_lines(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("[0] "))
        .filter(|l| l.starts_with("stage "))
        .map(str::to_string)
        .collect()
}

fn linus(n: usize, args: &[&str]) -> Vec<String> {
    let out = launch(n, &bin("linus"), args, DEADLINE);
    out.assert_success();
    stage_lines(&out.stdout)
}

#[test]
fn git_small_matches_its_readme_for_any_number_of_ranks() {
    let expected = vec![
        "stage 0: 6 projects, 923 users",
        "stage 1: 18 projects, 5312 users",
        "stage 2: 18 projects, 5312 users",
        "stage 3: 18 projects, 5312 users",
    ];
    let data = repo_root().join("datasets/git-small");
    for n in [1, 2, 3, 4, 8] {
        assert_eq!(
            linus(n, &["--data", data.to_str().unwrap()]),
            expected,
            "n = {n}"
        );
    }
}

#[test]
fn runs_alone_without_a_launcher() {
    let data = repo_root().join("datasets/git-small");
    let mut cmd = std::process::Command::new(bin("linus"));
    cmd.args([
        "--data",
        data.to_str().unwrap(),
        "--start",
        "2441",
        "--degrees",
        "2",
    ]);
    let out = run_with_deadline(&mut cmd, DEADLINE);
    out.assert_success();
    assert_eq!(
        out.stdout.lines().collect::<Vec<_>>(),
        vec![
            "stage 0: 6 projects, 923 users",
            "stage 1: 18 projects, 5312 users"
        ]
    );
}

/// The ids in `<a> <b> ...` rows, one vector per line (a plain reader, independent of
/// eau2's).
fn read_ids(path: &Path, cols: usize) -> Vec<Vec<usize>> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| {
            l.split('>')
                .take(cols)
                .map(|f| f.trim().trim_start_matches('<').trim().parse().unwrap())
                .collect()
        })
        .collect()
}

/// The reference: a plain BFS over the commit rows.
fn reference(dir: &Path, start: usize, degrees: usize) -> Vec<String> {
    let commits = read_ids(&dir.join("commits.ltgt"), 2);
    let mut users: HashSet<usize> = HashSet::from([start]);
    let mut frontier = users.clone();
    let mut projects: HashSet<usize> = HashSet::new();
    let mut lines = Vec::new();
    for stage in 0..degrees {
        let new_projects: HashSet<usize> = commits
            .iter()
            .filter(|c| frontier.contains(&c[1]) && !projects.contains(&c[0]))
            .map(|c| c[0])
            .collect();
        projects.extend(&new_projects);
        frontier = commits
            .iter()
            .filter(|c| new_projects.contains(&c[0]) && !users.contains(&c[1]))
            .map(|c| c[1])
            .collect();
        users.extend(&frontier);
        lines.push(format!(
            "stage {stage}: {} projects, {} users",
            projects.len(),
            users.len()
        ));
    }
    lines
}

#[test]
fn generated_graphs_match_a_plain_bfs() {
    for (seed, commits, users, projects) in [
        (1, 5000, 800, 60),
        (7, 20000, 3000, 400),
        (42, 3000, 2000, 1500),
    ] {
        let dir = std::env::temp_dir().join(format!("eau2-linus-{}-{seed}", std::process::id()));
        let mut gen = std::process::Command::new(bin("eau2-gen"));
        gen.args([
            "linus",
            "--commits",
            &commits.to_string(),
            "--users",
            &users.to_string(),
        ])
        .args([
            "--projects",
            &projects.to_string(),
            "--seed",
            &seed.to_string(),
        ])
        .arg("--out")
        .arg(&dir);
        run_with_deadline(&mut gen, DEADLINE).assert_success();
        for start in [0usize, 5] {
            let expected = reference(&dir, start, 5);
            for n in [1, 2, 3, 4] {
                let got = linus(
                    n,
                    &[
                        "--data",
                        dir.to_str().unwrap(),
                        "--start",
                        &start.to_string(),
                        "--degrees",
                        "5",
                        "--chunk-rows",
                        "1000",
                    ],
                );
                assert_eq!(got, expected, "seed {seed}, start {start}, n = {n}");
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn an_unknown_start_user_is_a_clear_error() {
    let data = repo_root().join("datasets/git-small");
    let out = launch(
        2,
        &bin("linus"),
        &["--data", data.to_str().unwrap(), "--start", "Nobody At All"],
        DEADLINE,
    );
    assert!(!out.status.success());
    assert!(
        out.stderr.contains("no user named \"Nobody At All\""),
        "{}",
        out.stderr
    );
}

#[test]
fn a_missing_data_folder_is_a_clear_error() {
    let out = launch(2, &bin("linus"), &["--data", "/nonexistent/eau2"], DEADLINE);
    assert!(!out.status.success());
    assert!(
        out.stderr.contains("/nonexistent/eau2/projects.ltgt"),
        "{}",
        out.stderr
    );
}

#[test]
fn commits_naming_unknown_ids_are_a_clear_error() {
    let dir = std::env::temp_dir().join(format!("eau2-linus-bad-ids-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("projects.ltgt"), "<0> <\"p0\">\n<1> <\"p1\">\n").unwrap();
    std::fs::write(
        dir.join("users.ltgt"),
        "<0> <\"u0\">\n<1> <\"u1\">\n<2> <\"u2\">\n",
    )
    .unwrap();
    for (commits, message) in [
        (
            "<0> <1> <1>\n<1> <7> <7>\n",
            "author ids range over 1..=7 but users.ltgt has ids below 3",
        ),
        (
            "<0> <1> <1>\n<2> <0> <0>\n",
            "project ids range over 0..=2 but projects.ltgt has ids below 2",
        ),
    ] {
        std::fs::write(dir.join("commits.ltgt"), commits).unwrap();
        for n in [1, 2] {
            let out = launch(
                n,
                &bin("linus"),
                &["--data", dir.to_str().unwrap()],
                DEADLINE,
            );
            assert!(!out.status.success(), "n = {n}: {commits:?} was accepted");
            assert!(out.stderr.contains(message), "n = {n}: {}", out.stderr);
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
