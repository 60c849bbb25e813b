//! eau2-convert run alone and under eau2-launch: the conversions, the usage errors and a
//! missing input. (This file also makes `cargo test --workspace` build the binary that
//! the root crate's tests/parquet.rs runs.)

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use eau2_testkit::{bin, launch, run_with_deadline, scratch};

const DEADLINE: Duration = Duration::from_secs(120);

/// A SoR file of two columns with a string holding a space.
fn sor_input(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("t.sor");
    std::fs::write(&path, "<1> <\"a b\">\n<2> <c>\n<3> <>\n").expect("scratch is writable");
    path
}

#[test]
fn converts_sor_to_csv_alone_and_on_three_ranks() {
    let dir = scratch("convert-sor-csv");
    let input = sor_input(&dir);
    let alone = dir.join("alone.csv");
    run_with_deadline(
        Command::new(bin("eau2-convert")).arg(&input).arg(&alone),
        DEADLINE,
    )
    .assert_success();
    let expected = "c0,c1\n1,a b\n2,c\n3,\n";
    assert_eq!(std::fs::read_to_string(&alone).unwrap(), expected);

    let spread = dir.join("spread.csv");
    let (i, o) = (input.display().to_string(), spread.display().to_string());
    launch(3, &bin("eau2-convert"), &[&i, &o], DEADLINE).assert_success();
    assert_eq!(std::fs::read_to_string(&spread).unwrap(), expected);
}

#[test]
fn an_unknown_output_extension_is_a_usage_error_naming_the_file() {
    let dir = scratch("convert-usage");
    let input = sor_input(&dir);
    let out = run_with_deadline(
        Command::new(bin("eau2-convert"))
            .arg(&input)
            .arg(dir.join("t.xyz")),
        DEADLINE,
    );
    assert_eq!(out.status.code(), Some(2), "{}", out.stderr);
    assert!(
        out.stderr.contains("t.xyz") && out.stderr.contains("--to"),
        "{}",
        out.stderr
    );
    assert!(!dir.join("t.xyz").exists());
}

#[test]
fn a_missing_input_fails_naming_it_and_writes_nothing() {
    let dir = scratch("convert-missing");
    let out_path = dir.join("out.csv");
    let out = run_with_deadline(
        Command::new(bin("eau2-convert"))
            .arg(dir.join("missing.sor"))
            .arg(&out_path),
        DEADLINE,
    );
    assert_eq!(out.status.code(), Some(1), "{}", out.stderr);
    assert!(out.stderr.contains("missing.sor"), "{}", out.stderr);
    assert!(!out_path.exists());
}
