//! wordcount through eau2-launch, against an independent count made here.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use eau2_testkit::{bin, launch, shared_dir};

const DEADLINE: Duration = Duration::from_secs(180);

/// The expected report, counted the plain way.
fn reference(text: &[u8], top: usize) -> Vec<String> {
    let mut counts: HashMap<&[u8], u64> = HashMap::new();
    for word in text
        .split(|b| matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))
        .filter(|w| !w.is_empty())
    {
        *counts.entry(word).or_default() += 1;
    }
    let mut ranked: Vec<_> = counts.iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let mut lines = vec![
        format!("words: {}", counts.values().sum::<u64>()),
        format!("distinct words: {}", counts.len()),
    ];
    lines.extend(
        ranked
            .iter()
            .take(top)
            .map(|(w, n)| format!("{n} {}", String::from_utf8_lossy(w))),
    );
    lines
}

fn run(n: usize, file: &Path, extra: &[&str]) -> Vec<String> {
    let mut args = vec![file.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = launch(n, &bin("wordcount"), &args, DEADLINE);
    out.assert_success();
    out.stdout
        .lines()
        .filter_map(|l| l.strip_prefix("[0] "))
        .map(str::to_string)
        .collect()
}

#[test]
fn small_texts_match_an_independent_count() {
    let dir = std::env::temp_dir().join(format!("eau2-wc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let texts: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"one".to_vec(),
        b"  a b\ta\r\nb a \x0b\x0c c  ".to_vec(),
        "Zürich zürich ZÜRICH naïve naïve\n".repeat(50).into_bytes(),
        (0..5000)
            .map(|i| format!("w{} ", (i * 7919) % 97))
            .collect::<String>()
            .into_bytes(),
    ];
    for (i, text) in texts.iter().enumerate() {
        let file = dir.join(format!("t{i}.txt"));
        std::fs::write(&file, text).unwrap();
        for n in [1, 2, 3, 4] {
            assert_eq!(
                run(n, &file, &["--chunk-rows", "64"]),
                reference(text, 10),
                "text {i}, n = {n}"
            );
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn git_docs_counts_for_any_number_of_ranks() {
    let Some(shared) = shared_dir() else {
        eprintln!("SKIPPED: ../shared is absent, so text/git-docs.txt cannot be counted");
        return;
    };
    let file = shared.join("text/git-docs.txt");
    let expected = reference(&std::fs::read(&file).unwrap(), 10);
    assert_eq!(expected[0], "words: 819043");
    assert_eq!(expected[1], "distinct words: 68956");
    for n in [1, 2, 3, 4, 8] {
        assert_eq!(run(n, &file, &[]), expected, "n = {n}");
    }
}

#[test]
fn a_missing_file_is_a_clear_error() {
    let out = launch(2, &bin("wordcount"), &["/nonexistent/words.txt"], DEADLINE);
    assert!(!out.status.success());
    assert!(
        out.stderr.contains("/nonexistent/words.txt"),
        "{}",
        out.stderr
    );
}

/// `--top 0` prints only the totals, and a `--top` past the number of distinct words
/// prints every word, in order, on any number of ranks.
#[test]
fn top_zero_and_top_past_the_distinct_words() {
    let dir = std::env::temp_dir().join(format!("eau2-wc-top-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text: Vec<u8> = (0..3000)
        .map(|i| format!("k{} ", (i * i) % 37))
        .collect::<String>()
        .into_bytes();
    let file = dir.join("t.txt");
    std::fs::write(&file, &text).unwrap();
    for n in [1, 3, 4] {
        assert_eq!(
            run(n, &file, &["--top", "0"]),
            reference(&text, 0),
            "n = {n}"
        );
        let all = run(n, &file, &["--top", "1000", "--chunk-rows", "100"]);
        assert_eq!(all, reference(&text, 1000), "n = {n}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
