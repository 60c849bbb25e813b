//! The demo through eau2-launch and alone.

use std::time::Duration;

use eau2_testkit::{bin, launch, run_with_deadline};

const DEADLINE: Duration = Duration::from_secs(120);

#[test]
fn succeeds_on_one_to_four_ranks() {
    for n in [1, 2, 3, 4] {
        let out = launch(n, &bin("demo"), &[], DEADLINE);
        out.assert_success();
        let summarizer = 2 % n;
        assert!(
            out.stdout
                .lines()
                .any(|l| l == format!("[{summarizer}] SUCCESS")),
            "n = {n}:\n{}",
            out.stdout
        );
    }
}

#[test]
fn runs_alone() {
    let out = run_with_deadline(
        std::process::Command::new(bin("demo")).args(["--count", "1000"]),
        DEADLINE,
    );
    out.assert_success();
    assert_eq!(out.stdout.trim(), "SUCCESS");
}
