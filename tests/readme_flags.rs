//! README.md documents every binary's flags: each long flag a binary's `--help` lists
//! must appear in the README (as `--flag`, or `-flag` for eau2-sor's one-dash style).

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use eau2_testkit::{bin, run_with_deadline};

/// The user-facing binaries: the launcher, the apps and the tools.
const BINARIES: &[&str] = &[
    "eau2-launch",
    "linus",
    "top-projects",
    "wordcount",
    "demo",
    "eau2-sor",
    "eau2-convert",
    "eau2-gen",
];

/// The long flags (`--name`) that `text` mentions, without `--help` and `--version`,
/// which every binary has.
fn long_flags(text: &str) -> Vec<String> {
    let mut flags: Vec<String> = text
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .filter_map(|word| word.strip_prefix("--"))
        .filter(|name| name.starts_with(|c: char| c.is_ascii_lowercase()))
        .map(|name| name.trim_end_matches('-').to_string())
        .filter(|name| name != "help" && name != "version")
        .collect();
    flags.sort();
    flags.dedup();
    flags
}

#[test]
fn every_binarys_flags_are_in_the_readme() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let mut missing = Vec::new();
    let mut checked = 0;
    for name in BINARIES {
        let out = run_with_deadline(
            Command::new(bin(name)).arg("--help"),
            Duration::from_secs(60),
        );
        let help = format!("{}{}", out.stdout, out.stderr);
        for flag in long_flags(&help) {
            let one_dash = format!("-{}", flag.replace('-', "_"));
            let documented = readme.contains(&format!("--{flag}"))
                || readme.contains(&format!("-{flag}"))
                || readme.contains(&one_dash);
            if !documented {
                missing.push(format!("{name} --{flag}"));
            }
            checked += 1;
        }
    }
    assert!(
        checked >= 30,
        "only {checked} flags found: is --help printing them?"
    );
    assert!(
        missing.is_empty(),
        "flags missing from README.md: {missing:?}"
    );
}
