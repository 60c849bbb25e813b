//! `Format::Words` across real processes (n = 1, 3, 4): every word of a text exactly
//! once, in order, whatever the byte parts cut through, and a clear error for a file
//! that is not there.

use std::path::PathBuf;
use std::time::Duration;

use eau2_testkit::{bin, launch_command, run_with_deadline, Finished};

const DEADLINE: Duration = Duration::from_secs(180);

fn temp(name: &str, text: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("eau2-words-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn load(n: usize, path: &std::path::Path, options: &[&str]) -> Finished {
    let mut args = vec!["read", path.to_str().unwrap(), "format=words"];
    args.extend_from_slice(options);
    run_with_deadline(&mut launch_command(n, &bin("load-check"), &args), DEADLINE)
}

/// A text whose words are long and short, separated by every kind of ASCII white space
/// in runs, with non-ASCII bytes inside words: any even cut lands mid-word somewhere.
fn text() -> Vec<u8> {
    let mut text = Vec::new();
    let separators: [&[u8]; 6] = [b" ", b"\t", b"\r\n", b"\x0b", b"\x0c  ", b"\n\n"];
    for i in 0..3000usize {
        let word = format!("w{}{}", i % 97, "\u{e9}x".repeat(i % 11));
        text.extend_from_slice(word.as_bytes());
        text.extend_from_slice(separators[i % separators.len()]);
    }
    text.extend_from_slice(b"last-word-without-white-space");
    text
}

#[test]
fn every_word_once_in_order_at_any_rank_count() {
    let text = text();
    let path = temp("words.txt", &text);
    let expected: Vec<String> = text
        .split(|b| b" \t\n\x0b\x0c\r".contains(b))
        .filter(|w| !w.is_empty())
        .map(|w| String::from_utf8_lossy(w).into_owned())
        .collect();
    for n in [1, 3, 4] {
        let out = load(n, &path, &[]);
        out.assert_success();
        let lines = out.unprefixed_lines();
        assert!(lines.iter().any(|l| l == "schema S word"), "{}", out.stdout);
        let rows: Vec<String> = lines
            .iter()
            .filter_map(|l| l.strip_prefix("row "))
            .map(str::to_string)
            .collect();
        assert_eq!(rows.len(), expected.len(), "n = {n}");
        assert_eq!(rows, expected, "n = {n}");
    }
}

#[test]
fn a_missing_file_names_its_path() {
    let out = load(3, std::path::Path::new("/no/such/words.txt"), &[]);
    assert!(!out.status.success());
    assert!(out.stderr.contains("/no/such/words.txt"), "{}", out.stderr);
}
