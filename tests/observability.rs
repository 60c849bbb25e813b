//! Observability, with real processes through eau2-launch: the library never prints,
//! `EAU2_LOG` selects span lines, rank 0's progress bar keeps the ranks' prefixed lines
//! whole on a terminal, and `EAU2_STATS=json:FILE` counts the same bytes on both sides
//! of every pair of ranks.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use eau2_testkit::{bin, launch_command, repo_root, run_with_deadline, Finished};

const DEADLINE: Duration = Duration::from_secs(120);

/// The library crates' sources (not the apps, the launcher or the tests).
const LIBRARY_SOURCES: [&str; 3] = ["src", "crates/data/src", "crates/comm/src"];

/// Macros that print.
const PRINTS: [&str; 5] = ["println!", "eprintln!", "print!", "eprint!", "dbg!"];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a source folder") {
        let path = entry.expect("a folder entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The `file:line`s of `text` that use a printing macro outside comments and
/// `#[cfg(test)]` items (skipped by counting braces from the item's first `{`).
fn prints_in(text: &str, file: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut skip_next_item = false;
    let mut depth: i64 = 0;
    let mut in_test = false;
    for (i, line) in text.lines().enumerate() {
        let code = line.trim_start();
        if code.starts_with("//") {
            continue;
        }
        let code = code.split(" //").next().unwrap_or(code);
        if code.starts_with("#[cfg(test)]") {
            skip_next_item = true;
            continue;
        }
        if skip_next_item && !in_test && code.contains('{') {
            in_test = true;
            skip_next_item = false;
            depth = 0;
        }
        if in_test {
            depth += code.matches('{').count() as i64 - code.matches('}').count() as i64;
            if depth <= 0 {
                in_test = false;
            }
            continue;
        }
        if skip_next_item && code.ends_with(';') {
            // `#[cfg(test)] mod tests;` or a single test-only statement.
            skip_next_item = false;
            continue;
        }
        for mac in PRINTS {
            let hit = code.match_indices(mac).any(|(at, _)| {
                // `eprintln!` is not also a `println!`; identifiers end at the match.
                at == 0 || !code.as_bytes()[at - 1].is_ascii_alphanumeric()
            });
            if hit {
                found.push(format!("{file}:{}: {}", i + 1, line.trim()));
                break;
            }
        }
    }
    found
}

#[test]
fn the_library_never_prints() {
    let root = repo_root();
    let mut files = Vec::new();
    for dir in LIBRARY_SOURCES {
        rust_files(&root.join(dir), &mut files);
    }
    assert!(files.len() > 20, "found only {files:?}");
    let mut found = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("a readable source file");
        let name = file
            .strip_prefix(&root)
            .unwrap_or(file)
            .display()
            .to_string();
        found.extend(prints_in(&text, &name));
    }
    assert!(
        found.is_empty(),
        "library code prints (use tracing):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_scanner_finds_prints_and_skips_tests_and_comments() {
    let text = "fn a() {\n    eprintln!(\"x\");\n}\n/// println!(\"doc\")\n// dbg!(1)\n\
                #[cfg(test)]\nmod tests {\n    fn b() { println!(\"t\"); }\n}\n\
                fn c() { dbg!(2); }\n";
    let found = prints_in(text, "f.rs");
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0].starts_with("f.rs:2:"), "{found:?}");
    assert!(found[1].starts_with("f.rs:10:"), "{found:?}");
}

/// Runs the probe's `scenario` on `n` ranks with `env` (and no inherited EAU2_LOG,
/// EAU2_STATS or status-line settings).
fn probe(n: usize, args: &[&str], env: &[(&str, &str)]) -> Finished {
    let mut cmd = launch_command(n, &bin("obs-probe"), args);
    for var in [
        "EAU2_LOG",
        "EAU2_STATS",
        "EAU2_STATUS_COLS",
        "EAU2_PROGRESS_SECS",
    ] {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().copied());
    let out = run_with_deadline(&mut cmd, DEADLINE);
    out.assert_success();
    assert!(
        out.stdout.contains(&format!("{} ok", args[0])),
        "{}",
        out.stdout
    );
    out
}

/// Lines of a span closing (`FmtSpan::CLOSE`).
fn span_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.contains("close time.busy="))
        .collect()
}

#[test]
fn spans_show_only_when_eau2_log_asks() {
    let quiet = probe(3, &["traffic"], &[]);
    assert!(
        span_lines(&quiet.stderr).is_empty() && !quiet.stderr.contains("DEBUG"),
        "the default filter showed debug output:\n{}",
        quiet.stderr
    );
    for filter in ["debug", "eau2=debug"] {
        let out = probe(3, &["traffic"], &[("EAU2_LOG", filter)]);
        let spans = span_lines(&out.stderr);
        for rank in 0..3 {
            for op in ["all_reduce", "all_to_all", "barrier"] {
                let want = format!("op=\"{op}\"");
                assert!(
                    spans
                        .iter()
                        .any(|l| l.starts_with(&format!("[{rank}] ")) && l.contains(&want)),
                    "EAU2_LOG={filter}: no {op} span from rank {rank}:\n{}",
                    out.stderr
                );
            }
            // The broadcast of an encoded string names its size on the root and the
            // receivers alike.
            assert!(
                spans.iter().any(|l| l.starts_with(&format!("[{rank}] "))
                    && l.contains("op=\"broadcast\"")
                    && l.contains("bytes=54")),
                "EAU2_LOG={filter}: no broadcast span with its size from rank {rank}:\n{}",
                out.stderr
            );
        }
    }
    // A filter for one crate's module shows only its spans.
    let out = probe(2, &["traffic"], &[("EAU2_LOG", "eau2_data=debug")]);
    assert!(span_lines(&out.stderr).is_empty(), "{}", out.stderr);
}

#[test]
fn progress_on_a_terminal_keeps_prefixed_lines_whole() {
    if Command::new("script").arg("--version").output().is_err() {
        println!("SKIPPED: no `script` (util-linux) to run the launcher on a pseudo-terminal");
        return;
    }
    let ranks = 3;
    let run = |extra: &str| {
        let line = format!(
            "{} -n {ranks} {} progress {extra}",
            bin("eau2-launch").display(),
            bin("obs-probe").display()
        );
        let mut cmd = Command::new("script");
        cmd.args(["-qec", &line, "/dev/null"]);
        for var in ["EAU2_LOG", "EAU2_STATS", "EAU2_STATUS_COLS"] {
            cmd.env_remove(var);
        }
        let out = run_with_deadline(&mut cmd, DEADLINE);
        out.assert_success();
        out
    };

    let out = run("");
    // What a terminal shows of each line: the text after its last carriage return,
    // once the clear-line sequence that follows it is applied.
    let mut seen = Vec::new();
    let mut statuses = 0;
    for raw in out.stdout.split('\n') {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        statuses += raw.matches("probe [").count();
        let visible = raw.rsplit('\r').next().unwrap_or("");
        let visible = visible.strip_prefix("\x1b[2K").unwrap_or(visible);
        if visible.is_empty() {
            continue;
        }
        assert!(
            !visible.contains('\x1b'),
            "an escape sequence leaked into {visible:?}"
        );
        seen.push(visible.to_string());
    }
    let mut expected = vec!["[0] progress ok".to_string()];
    for rank in 0..ranks {
        for i in 0..40 {
            expected.push(format!("[{rank}] out {i} of rank {rank}"));
            expected.push(format!("[{rank}] err {i} of rank {rank}"));
        }
    }
    let (mut seen_sorted, mut expected) = (seen.clone(), expected);
    seen_sorted.sort();
    expected.sort();
    assert_eq!(
        seen_sorted,
        expected,
        "lines were garbled, lost or added:\n{}",
        seen.join("\n")
    );
    println!("the status line was drawn {statuses} times");

    // --quiet: no bar at all.
    let quiet = run("--quiet");
    assert!(
        !quiet.stdout.contains("probe [") && !quiet.stdout.contains("\x1b[2K"),
        "{}",
        quiet.stdout
    );
}

#[test]
fn progress_off_a_terminal_is_plain_lines_from_rank_0() {
    // The probe's work lasts at least 600 ms, longer than the 0.1 s period, so rank 0
    // ends it with a line whatever the timing.
    let env = [("EAU2_PROGRESS_SECS", "0.1")];
    let out = probe(3, &["progress"], &env);
    let lines: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains("eau2: probe: "))
        .collect();
    assert!(!lines.is_empty(), "{}", out.stderr);
    assert!(
        lines
            .iter()
            .all(|l| l.starts_with("[0] eau2: probe: ") && l.contains(" of 117.19 KiB (")),
        "{lines:?}"
    );
    let quiet = probe(3, &["progress", "--quiet"], &env);
    assert!(!quiet.stderr.contains("eau2: probe"), "{}", quiet.stderr);
}

#[test]
fn gauges_reach_rank_0_from_every_rank() {
    for n in [1, 4] {
        probe(n, &["gauges"], &[]);
    }
}

#[test]
fn stats_json_counts_the_same_bytes_on_both_sides() {
    let ranks = 4;
    let path = std::env::temp_dir().join(format!("eau2-stats-{}.json", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let spec = format!("json:{}", path.display());
    probe(ranks, &["traffic"], &[("EAU2_STATS", spec.as_str())]);
    let text = std::fs::read_to_string(&path).expect("rank 0 wrote the statistics");
    let _ = std::fs::remove_file(&path);
    let json: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    assert_eq!(json["ranks"], ranks);
    let per_rank = json["per_rank"].as_array().expect("per_rank");
    assert_eq!(per_rank.len(), ranks);
    let get = |r: usize, peer: usize, field: &str| -> u64 {
        let peers = per_rank[r]["peers"].as_array().expect("peers");
        let p = peers
            .iter()
            .find(|p| p["peer"] == peer)
            .unwrap_or_else(|| panic!("rank {r} has no entry for peer {peer}: {text}"));
        p[field].as_u64().expect("a count")
    };
    for (i, stats) in per_rank.iter().enumerate() {
        assert_eq!(stats["rank"], i);
        for field in ["wall_secs", "user_secs", "network_wait_secs"] {
            assert!(stats[field].as_f64().is_some(), "{field}: {text}");
        }
        assert!(stats["peak_rss_bytes"].as_u64().unwrap_or(0) > 0, "{text}");
        let mut sent = 0;
        for j in (0..ranks).filter(|&j| j != i) {
            // Every rank talks to every other (all_to_all), and both sides agree.
            assert!(
                get(i, j, "sent_bytes") > 0,
                "rank {i} sent nothing to {j}: {text}"
            );
            assert_eq!(
                get(i, j, "sent_bytes"),
                get(j, i, "recv_bytes"),
                "{i} -> {j}"
            );
            assert_eq!(get(i, j, "sent_msgs"), get(j, i, "recv_msgs"), "{i} -> {j}");
            sent += get(i, j, "sent_bytes");
        }
        assert_eq!(stats["sent_bytes"], sent, "{text}");
    }
    // The ring of user messages alone sends at least 15,000 bytes per rank.
    assert!(per_rank[1]["sent_bytes"].as_u64().unwrap() >= 15_000 * 2);
    // The store holds each rank's one value.
    assert!(per_rank.iter().all(|r| r["chunks_stored"] == 1), "{text}");
}

#[test]
fn stats_table_has_a_row_per_rank() {
    let out = probe(3, &["traffic", "--stats"], &[]);
    let table: Vec<&str> = out
        .stderr
        .lines()
        .skip_while(|l| !l.contains("eau2 stats (3 ranks)"))
        .collect();
    assert!(table.len() >= 5, "{}", out.stderr);
    for (rank, line) in table[2..5].iter().enumerate() {
        let cells: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(cells.len(), 10, "{line}");
        assert_eq!(cells[1], rank.to_string(), "{line}");
    }
}
