//! Linus through eau2-launch: on the bundled data against its README's table, and on
//! generated graphs against a plain single-process BFS written here.

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use eau2_testkit::{bin, launch, repo_root, run_with_deadline, scratch};

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
    linus_with_log(n, args).0
}

/// The stage lines and the standard error of a successful run.
fn linus_with_log(n: usize, args: &[&str]) -> (Vec<String>, String) {
    let out = launch(n, &bin("linus"), args, DEADLINE);
    out.assert_success();
    (stage_lines(&out.stdout), out.stderr)
}

/// Writes a generated graph into a fresh temporary folder.
fn generate(name: &str, seed: u64, commits: u64, users: u64, projects: u64) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("eau2-linus-{}-{name}-{seed}", std::process::id()));
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
    dir
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
        let dir = generate("bfs", seed, commits, users, projects);
        for start in [0usize, 5] {
            let expected = reference(&dir, start, 5);
            for n in [1, 2, 3, 4] {
                // Small blocks cut lines across block and rank boundaries; small cells
                // spread the commits over many cells.
                let got = linus(
                    n,
                    &[
                        "--data",
                        dir.to_str().unwrap(),
                        "--start",
                        &start.to_string(),
                        "--degrees",
                        "5",
                        "--block-bytes",
                        "4096",
                        "--project-cell-bits",
                        "5",
                        "--author-cell-bits",
                        "6",
                    ],
                );
                assert_eq!(got, expected, "seed {seed}, start {start}, n = {n}");
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// Dense scans only, sparse walks of the index whenever the frontier is a list, and the
/// automatic switch between them: the same answers, and the automatic run really takes
/// both paths and sends both id lists and bitmaps.
#[test]
fn dense_and_sparse_walks_agree() {
    let dir = generate("walks", 7, 20000, 3000, 400);
    let data = dir.to_str().unwrap();
    for start in [0usize, 17] {
        let expected = reference(&dir, start, 6);
        for n in [1, 2, 4] {
            for strategy in ["auto", "dense", "sparse"] {
                let (got, log) = linus_with_log(
                    n,
                    &[
                        "--data",
                        data,
                        "--start",
                        &start.to_string(),
                        "--degrees",
                        "6",
                        "--strategy",
                        strategy,
                    ],
                );
                assert_eq!(got, expected, "start {start}, n = {n}, {strategy}");
                let (dense, sparse) = (log.contains("dense scan"), log.contains("sparse walk"));
                match strategy {
                    "dense" => assert!(dense && !sparse, "{log}"),
                    "sparse" => assert!(sparse, "{log}"),
                    _ if start == 0 => {
                        assert!(dense && sparse, "{log}");
                        assert!(
                            log.contains("as id list") && log.contains("as bitmap"),
                            "{log}"
                        );
                    }
                    _ => {}
                }
            }
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Files written with the white space and signs SoR allows, with missing ids and a blank
/// line, read like their plain twins.
#[test]
fn sor_spellings_of_ids_read_like_plain_ones() {
    let dir = scratch("linus-spelling");
    std::fs::write(
        dir.join("projects.ltgt"),
        "<0> <\"p0\">\n< 1 > <p1>\n<+2> <\"p 2\">\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("users.ltgt"),
        "<0> <\"Ada\">\n<1>\t<\"Linus Torvalds\">\n<2> <Bob>\n<3> <\"Linus Torvalds 2\">\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("commits.ltgt"),
        "<0> <1> <1>\n< 1 >  <+0>\n<2> <> <2>\n\n<2> <3> <3>\n<1> <1>\n<2> <0>\n",
    )
    .unwrap();
    for n in [1, 2, 3] {
        let (got, log) = linus_with_log(n, &["--data", dir.to_str().unwrap(), "--degrees", "3"]);
        assert_eq!(
            got,
            vec![
                "stage 0: 2 projects, 2 users",
                "stage 1: 3 projects, 3 users",
                "stage 2: 3 projects, 3 users",
            ],
            "n = {n}: {log}"
        );
        assert!(
            log.contains("2 commits miss a project or author id"),
            "{log}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_malformed_commit_names_its_file_line_and_rank() {
    let dir = scratch("linus-malformed");
    std::fs::write(dir.join("projects.ltgt"), "<0> <\"p0\">\n").unwrap();
    std::fs::write(dir.join("users.ltgt"), "<0> <\"u0\">\n").unwrap();
    std::fs::write(
        dir.join("commits.ltgt"),
        "<0> <0> <0>\n<0> <0> <0>\n<0> <zero> <0>\n",
    )
    .unwrap();
    let out = launch(
        1,
        &bin("linus"),
        &["--data", dir.to_str().unwrap(), "--start", "0"],
        DEADLINE,
    );
    assert!(!out.status.success());
    let path = dir.join("commits.ltgt");
    let expected = format!(
        "{}:3: column 1: \"<zero>\" is not an INT (read by rank 0)",
        path.display()
    );
    assert!(out.stderr.contains(&expected), "{}", out.stderr);
    std::fs::remove_dir_all(&dir).unwrap();
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
    let dir = scratch("linus-bad-ids");
    std::fs::write(dir.join("projects.ltgt"), "<0> <\"p0\">\n<1> <\"p1\">\n").unwrap();
    std::fs::write(
        dir.join("users.ltgt"),
        "<0> <\"u0\">\n<1> <\"u1\">\n<2> <\"u2\">\n",
    )
    .unwrap();
    for (commits, message) in [
        (
            "<0> <1> <1>\n<1> <7> <7>\n",
            "author id 7 is unknown: users.ltgt has ids below 3",
        ),
        (
            "<0> <1> <1>\n<2> <0> <0>\n",
            "project id 2 is unknown: projects.ltgt has ids below 2",
        ),
        (
            "<0> <1> <1>\n<1> <-2> <2>\n",
            "commits.ltgt:2: column 1: -2 is not an id",
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

/// Converts the SoR graph in `sor` to Parquet in a fresh folder with eau2-convert (on 2
/// ranks, small row groups so that 3 and 4 ranks each read several), with the column
/// names `--format parquet` reads.
fn to_parquet(sor: &Path, name: &str) -> std::path::PathBuf {
    let dir = scratch(&format!("linus-pq-{name}"));
    for (table, names) in [
        ("commits", "pid,author,committer"),
        ("projects", "pid,name"),
        ("users", "uid,name"),
    ] {
        let from = sor.join(format!("{table}.ltgt"));
        let to = dir.join(format!("{table}.parquet"));
        let args = [
            from.to_str().unwrap(),
            to.to_str().unwrap(),
            "--names",
            names,
            "--row-group-rows",
            "2000",
        ];
        launch(2, &bin("eau2-convert"), &args, DEADLINE).assert_success();
    }
    dir
}

#[test]
fn git_small_as_parquet_gives_the_stages_of_its_sor_files() {
    let sor = repo_root().join("datasets/git-small");
    let dir = to_parquet(&sor, "git-small");
    let data = dir.to_str().unwrap();
    let expected = linus(1, &["--data", sor.to_str().unwrap()]);
    assert_eq!(expected[1], "stage 1: 18 projects, 5312 users");
    for n in [1, 3, 4] {
        let (got, log) = linus_with_log(n, &["--data", data, "--format", "parquet"]);
        assert_eq!(got, expected, "n = {n}: {log}");
        assert!(log.contains("commits.parquet"), "{log}");
        // A start uid: the users' names are not needed.
        let args = ["--data", data, "--format", "parquet", "--start", "2441"];
        assert_eq!(linus(n, &args[..]), expected, "n = {n}, a start uid");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn parquet_graphs_with_missing_ids_read_like_their_sor_files() {
    let sor = generate("pq-bfs", 9, 6000, 900, 80);
    // Every 97th commit loses its author (a null in Parquet); the reference reads the
    // commits without them.
    let text = std::fs::read_to_string(sor.join("commits.ltgt")).unwrap();
    let (mut holed, mut kept) = (String::new(), String::new());
    for (i, line) in text.lines().enumerate() {
        if i % 97 == 5 {
            let fields: Vec<&str> = line.split('>').collect();
            holed.push_str(&format!("{}> <> {}>\n", fields[0], fields[2].trim()));
        } else {
            holed.push_str(&format!("{line}\n"));
            kept.push_str(&format!("{line}\n"));
        }
    }
    std::fs::write(sor.join("commits.ltgt"), holed).unwrap();
    let clean = sor.join("clean");
    std::fs::create_dir_all(&clean).unwrap();
    std::fs::write(clean.join("commits.ltgt"), kept).unwrap();
    let dir = to_parquet(&sor, "bfs");
    for start in [0usize, 5] {
        let expected = reference(&clean, start, 4);
        for n in [1, 3, 4] {
            let args = [
                "--data",
                dir.to_str().unwrap(),
                "--format",
                "parquet",
                "--start",
                &start.to_string(),
            ];
            let (got, log) = linus_with_log(n, &[&args[..], &["--degrees", "4"]].concat());
            assert_eq!(got, expected, "start {start}, n = {n}");
            assert!(
                log.contains("62 commits miss a project or author id"),
                "{log}"
            );
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_dir_all(&sor).unwrap();
}

#[test]
fn parquet_graphs_get_the_checks_of_sor_ones() {
    let sor = scratch("linus-checks-sor");
    std::fs::write(sor.join("projects.ltgt"), "<0> <\"p0\">\n<1> <\"p1\">\n").unwrap();
    std::fs::write(
        sor.join("users.ltgt"),
        "<0> <\"Ann\">\n<1> <\"Bob\">\n<2> <\"Cy\">\n",
    )
    .unwrap();
    for (commits, start, message) in [
        (
            "<0> <1> <1>\n<1> <7> <7>\n",
            "Ann",
            "author id 7 is unknown: users.parquet has ids below 3",
        ),
        (
            "<0> <1> <1>\n<2> <0> <0>\n",
            "Bob",
            "project id 2 is unknown: projects.parquet has ids below 2",
        ),
        ("<0> <1> <1>\n<1> <2> <2>\n", "Dee", "no user named \"Dee\""),
        (
            "<0> <1> <1>\n<1> <2> <2>\n",
            "9",
            "start uid 9 is not a user id (users.parquet has ids below 3)",
        ),
        (
            "<0> <1> <1>\n<1> <-2> <2>\n",
            "Ann",
            "row 1: column author: -2 is not an id",
        ),
    ] {
        std::fs::write(sor.join("commits.ltgt"), commits).unwrap();
        let dir = to_parquet(&sor, "checks");
        for n in [1, 2] {
            let args = ["--data", dir.to_str().unwrap(), "--format", "parquet"];
            let out = launch(
                n,
                &bin("linus"),
                &[&args[..], &["--start", start]].concat(),
                DEADLINE,
            );
            assert!(!out.status.success(), "n = {n}: {commits:?} was accepted");
            assert!(out.stderr.contains(message), "n = {n}: {}", out.stderr);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
    // A file without the needed column names it.
    std::fs::write(sor.join("commits.ltgt"), "<0> <1> <1>\n").unwrap();
    let dir = to_parquet(&sor, "columns");
    let renamed =
        std::env::temp_dir().join(format!("eau2-linus-pq-cols-{}.ltgt", std::process::id()));
    std::fs::copy(sor.join("users.ltgt"), &renamed).unwrap();
    let users = dir.join("users.parquet");
    let args = [
        renamed.to_str().unwrap(),
        users.to_str().unwrap(),
        "--names",
        "id,name",
    ];
    launch(1, &bin("eau2-convert"), &args, DEADLINE).assert_success();
    let out = launch(
        2,
        &bin("linus"),
        &["--data", dir.to_str().unwrap(), "--format", "parquet"],
        DEADLINE,
    );
    assert!(!out.status.success());
    assert!(
        out.stderr.contains("uid") && out.stderr.contains("users.parquet"),
        "{}",
        out.stderr
    );
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_dir_all(&sor).unwrap();
    std::fs::remove_file(&renamed).unwrap();
}

#[test]
fn a_user_row_without_its_uid_is_named_in_either_format() {
    let sor = scratch("linus-no-uid");
    std::fs::write(sor.join("projects.ltgt"), "<0> <\"p0\">\n").unwrap();
    std::fs::write(sor.join("users.ltgt"), "<0> <\"Ann\">\n<> <\"Bob\">\n").unwrap();
    std::fs::write(sor.join("commits.ltgt"), "<0> <0> <0>\n").unwrap();
    let parquet = to_parquet(&sor, "no-uid");
    for (dir, format, message) in [
        (&sor, "sor", "users.ltgt:2: a row without its id"),
        (
            &parquet,
            "parquet",
            "users.parquet: row 1: a row without its id",
        ),
    ] {
        for n in [1, 2] {
            let args = ["--data", dir.to_str().unwrap(), "--format", format];
            let out = launch(n, &bin("linus"), &args, DEADLINE);
            assert!(!out.status.success(), "n = {n}, {format}: accepted");
            assert!(out.stderr.contains(message), "n = {n}: {}", out.stderr);
        }
    }
    std::fs::remove_dir_all(&sor).unwrap();
    std::fs::remove_dir_all(&parquet).unwrap();
}
