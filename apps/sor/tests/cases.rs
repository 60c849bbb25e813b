//! Runs the SoR conformance suite (`tests/sor-suite/CASES.tsv`) through the built
//! `eau2-sor` binary, and checks its error exits and notes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn suite_dir() -> PathBuf {
    repo_root().join("tests/sor-suite")
}

/// 3.sor is 30 MB and stays out of the repository; it lives in the shared folder next
/// to the repository.
fn big_suite_dir() -> PathBuf {
    repo_root().join("../shared/sor-suite")
}

fn sor(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_eau2-sor"))
        .args(args)
        .output()
        .expect("the eau2-sor binary runs")
}

fn suite_file(name: &str) -> String {
    suite_dir().join(name).to_string_lossy().into_owned()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn conformance_suite() {
    let cases = std::fs::read_to_string(suite_dir().join("CASES.tsv")).expect("CASES.tsv");
    let mut ran = 0;
    let mut skipped = Vec::new();
    let mut failures = Vec::new();
    for (n, line) in cases.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        let [file, arguments, expected] = fields[..] else {
            panic!("CASES.tsv line {}: expected 3 tab-separated fields", n + 1);
        };
        let mut path = suite_dir().join(file);
        if !path.exists() {
            path = big_suite_dir().join(file);
        }
        if !path.exists() {
            skipped.push(format!("{file} {arguments}"));
            continue;
        }
        let path = path.to_string_lossy().into_owned();
        let mut args = vec!["-f", path.as_str()];
        args.extend(arguments.split_whitespace());
        let out = sor(&args);
        ran += 1;
        let want = format!("{expected}\n");
        if !out.status.success() || out.stdout != want.as_bytes() {
            failures.push(format!(
                "line {}: {file} {arguments}: expected {want:?}, got {:?} ({}; stderr {:?})",
                n + 1,
                text(&out.stdout),
                out.status,
                text(&out.stderr)
            ));
        }
    }
    for case in &skipped {
        eprintln!(
            "SKIPPED: {case}: the file is not in {} nor {}",
            suite_dir().display(),
            big_suite_dir().display()
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(ran >= 25, "only {ran} cases ran");
}

/// `-from`/`-len` follow the range rule of docs/sor-format.md on 1.sor (76 bytes; lines
/// start at 0, 6, 10, 14, ..., 64, 70 and the last line's `\n` is its last byte, 75).
#[test]
fn from_and_len_follow_sor_md() {
    let file = suite_file("1.sor");
    let ask = |args: &str| {
        let mut all = vec!["-f", file.as_str()];
        all.extend(args.split_whitespace());
        let out = sor(&all);
        if out.status.success() {
            text(&out.stdout).trim_end().to_string()
        } else {
            format!("exit {:?}", out.status.code())
        }
    };
    // 1..75 leaves out the last line, whose `\n` is at 75; 1..76 reaches the end.
    assert_eq!(ask("-from 1 -len 74 -print_col_idx 0 10"), "\"lo\"");
    assert_eq!(ask("-from 1 -len 74 -print_col_idx 0 11"), "exit Some(1)");
    assert_eq!(ask("-from 1 -len 75 -print_col_idx 0 11"), "\"bye\"");
    // From the first byte of <1> (6), that line is skipped; from its `\n` (9), it is not
    // read either, but the next one is.
    assert_eq!(ask("-from 6 -print_col_idx 0 0"), "\"2\"");
    assert_eq!(ask("-from 9 -print_col_idx 0 0"), "\"2\"");
    assert_eq!(ask("-from 5 -print_col_idx 0 0"), "\"1\"");
    // Ending on <2>'s `\n` (13) drops <2>; ending just after it keeps it.
    assert_eq!(ask("-from 5 -len 8 -is_missing_idx 0 1"), "exit Some(1)");
    assert_eq!(ask("-from 5 -len 9 -print_col_idx 0 1"), "2");
}

#[test]
fn missing_file_exits_1_naming_it() {
    let out = sor(&["-f", "/no/such/dir/x.sor", "-print_col_type", "0"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = text(&out.stderr);
    assert!(err.contains("/no/such/dir/x.sor"), "{err}");
}

#[test]
fn out_of_range_indices_exit_1() {
    let file = suite_file("2.sor");
    for (args, needle) in [
        (
            vec!["-print_col_type", "4"],
            "column 4 is out of range (there are 4)",
        ),
        (vec!["-print_col_idx", "9", "0"], "column 9 is out of range"),
        (
            vec!["-print_col_idx", "0", "2"],
            "row 2 is out of range (there are 2)",
        ),
        (
            vec!["-is_missing_idx", "1", "100"],
            "row 100 is out of range",
        ),
    ] {
        let mut all = vec!["-f", file.as_str()];
        all.extend(args.iter().copied());
        let out = sor(&all);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        let err = text(&out.stderr);
        assert!(
            err.contains(needle) && err.contains("2.sor"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn bad_arguments_exit_2() {
    let file = suite_file("2.sor");
    for args in [
        vec![],
        vec!["-print_col_type", "0"],
        vec!["-f", file.as_str()],
        vec!["-f", file.as_str(), "-print_col_type"],
        vec!["-f", file.as_str(), "-print_col_type", "x"],
        vec!["-f", file.as_str(), "-print_col_idx", "0"],
        vec!["-f", file.as_str(), "-from", "-1", "-print_col_type", "0"],
        vec!["-f", file.as_str(), "-bogus", "-print_col_type", "0"],
        vec![
            "-f",
            file.as_str(),
            "-print_col_type",
            "0",
            "-is_missing_idx",
            "0",
            "0",
        ],
    ] {
        let out = sor(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(text(&out.stderr).contains("--help"), "{args:?}");
    }
}

#[test]
fn help_lists_every_flag() {
    for flag in ["-h", "--help", "-help"] {
        let out = sor(&[flag]);
        assert!(out.status.success());
        let help = text(&out.stdout);
        for name in [
            "-f",
            "-from",
            "-len",
            "-strict",
            "-print_col_type",
            "-print_col_idx",
            "-is_missing_idx",
            "-help",
        ] {
            assert!(help.contains(name), "{name} missing from:\n{help}");
        }
    }
}

#[test]
fn double_dash_spelling_answers_the_same() {
    let file = suite_file("1.sor");
    let out = sor(&[
        "--f",
        &file,
        "--from",
        "1",
        "--len=74",
        "--print-col-idx",
        "0",
        "6",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "\"+2.2\"\n");
}

/// A file whose first 500 rows (the inference window) type the columns BOOL, FLOAT,
/// STRING, followed by a row whose FLOAT does not fit (line 502) and a blank line.
fn deviating_file() -> PathBuf {
    let mut text = String::new();
    for i in 0..501 {
        text.push_str(&format!("<{}><{i}.5><\"s{i}\">\n", i % 2));
    }
    text.push_str("<1><\"bad row\"><x>\n\n");
    let path = std::env::temp_dir().join(format!("eau2-sor-cases-{}.sor", std::process::id()));
    std::fs::write(&path, text).expect("writing a temporary file");
    path
}

#[test]
fn deviations_are_noted_on_stderr_only_and_strict_fails() {
    let path = deviating_file();
    let file = path.to_string_lossy().into_owned();
    let out = sor(&["-f", &file, "-print_col_idx", "1", "501"]);
    assert!(out.status.success());
    assert_eq!(text(&out.stdout), "<>\n");
    let err = text(&out.stderr);
    assert!(
        err.contains("1 row(s)") && err.contains("line 502"),
        "{err}"
    );

    let out = sor(&["-f", &file, "-print_col_idx", "2", "501"]);
    assert_eq!(text(&out.stdout), "\"x\"\n");
    let out = sor(&["-f", &file, "-is_missing_idx", "0", "502"]);
    assert_eq!(text(&out.stdout), "1\n");
    let out = sor(&["-f", &file, "-print_col_idx", "1", "500"]);
    assert_eq!(text(&out.stdout), "500.5\n");

    let out = sor(&["-f", &file, "--strict", "-print_col_idx", "0", "0"]);
    std::fs::remove_file(&path).ok();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = text(&out.stderr);
    assert!(
        err.contains(".sor:502: column 1") && err.contains("bad row"),
        "{err}"
    );
}

#[test]
fn no_note_without_deviations() {
    let out = sor(&["-f", &suite_file("sor_terator.sor"), "-print_col_type", "2"]);
    assert_eq!(text(&out.stdout), "STRING\n");
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
    let out = sor(&[
        "-f",
        &suite_file("sor_terator.sor"),
        "-print_col_idx",
        "3",
        "15",
    ]);
    assert_eq!(text(&out.stdout), "\"bar\"\n");
}
