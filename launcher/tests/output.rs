//! The ranks' output reaches the launcher's whole lines at a time, prefixed by rank.

mod common;

use common::launch;

#[test]
fn lines_are_prefixed_with_the_rank() {
    let run = launch(&[
        "-n",
        "3",
        "/bin/sh",
        "-c",
        r#"echo "out $EAU2_RANK"; echo "err $EAU2_RANK" >&2"#,
    ]);
    assert_eq!(run.code(), 0);
    let mut out = run.stdout_lines();
    out.sort();
    assert_eq!(out, ["[0] out 0", "[1] out 1", "[2] out 2"]);
    let mut err: Vec<String> = run.stderr().lines().map(str::to_string).collect();
    err.sort();
    assert_eq!(err, ["[0] err 0", "[1] err 1", "[2] err 2"]);
}

#[test]
fn no_prefix_copies_lines_verbatim() {
    let run = launch(&[
        "-n",
        "2",
        "--no-prefix",
        "/bin/sh",
        "-c",
        r#"echo "out $EAU2_RANK"; echo "err $EAU2_RANK" >&2"#,
    ]);
    assert_eq!(run.code(), 0);
    let mut out = run.stdout_lines();
    out.sort();
    assert_eq!(out, ["out 0", "out 1"]);
    let mut err: Vec<String> = run.stderr().lines().map(str::to_string).collect();
    err.sort();
    assert_eq!(err, ["err 0", "err 1"]);
}

#[test]
fn a_last_line_without_newline_is_printed_and_ended() {
    let run = launch(&["-n", "1", "/bin/sh", "-c", r"printf 'first\nno newline'"]);
    assert_eq!(run.code(), 0);
    assert_eq!(run.stdout(), "[0] first\n[0] no newline\n");
}

#[test]
fn bytes_that_are_not_utf8_pass_through() {
    let run = launch(&["-n", "1", "/bin/sh", "-c", r"printf 'a\377\376b\n\200'"]);
    assert_eq!(run.code(), 0);
    assert_eq!(run.stdout, b"[0] a\xff\xfeb\n[0] \x80\n");
}

#[test]
fn arguments_after_program_reach_every_rank_unchanged() {
    let run = launch(&[
        "-n",
        "2",
        "/bin/sh",
        "-c",
        r#"for a in "$@"; do echo "$EAU2_RANK <$a>"; done"#,
        "sh",
        "-n",
        "5",
        "--timeout",
        "--no-prefix",
        "--",
        "-",
        "two words",
        "",
    ]);
    assert_eq!(run.code(), 0, "stderr: {}", run.stderr());
    for rank in 0..2 {
        let got: Vec<String> = run
            .stdout_lines()
            .into_iter()
            .filter_map(|l| {
                l.strip_prefix(&format!("[{rank}] {rank} "))
                    .map(String::from)
            })
            .collect();
        assert_eq!(
            got,
            [
                "<-n>",
                "<5>",
                "<--timeout>",
                "<--no-prefix>",
                "<-->",
                "<->",
                "<two words>",
                "<>"
            ],
            "rank {rank}; all output: {}",
            run.stdout()
        );
    }
}

/// Checks that `text` holds exactly `LINES` intact lines per rank, in each rank's order.
fn check_intact(text: &str, ranks: u32, stream: &str) {
    const LINES: usize = 2000;
    let payload = "0".repeat(200);
    let mut next = vec![0usize; ranks as usize];
    for line in text.lines() {
        // Each line reads `[R] R I 000…0`; anything else means lines got mixed up.
        let mut parts = line.splitn(4, ' ');
        let (Some(prefix), Some(rank), Some(index), Some(rest)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            panic!("{stream}: malformed line {line:?}");
        };
        let rank: usize = rank
            .parse()
            .unwrap_or_else(|_| panic!("{stream}: {line:?}"));
        assert_eq!(prefix, format!("[{rank}]"), "{stream}: {line:?}");
        assert_eq!(
            index,
            next[rank].to_string(),
            "{stream}: rank {rank}'s lines out of order or lost"
        );
        assert!(rest == payload, "{stream}: damaged line {line:?}");
        next[rank] += 1;
    }
    assert!(
        next.iter().all(|&n| n == LINES),
        "{stream}: lines per rank {next:?}"
    );
}

#[test]
fn long_outputs_of_many_ranks_never_mix_within_a_line() {
    // Every line is written in two pieces, so the launcher sees partial lines all the time.
    let script = r#"
        line=$(printf '%0200d' 0)
        i=0
        while [ $i -lt 2000 ]; do
            printf '%s ' "$EAU2_RANK $i"; printf '%s\n' "$line"
            printf '%s ' "$EAU2_RANK $i" >&2; printf '%s\n' "$line" >&2
            i=$((i + 1))
        done
    "#;
    let run = launch(&["-n", "4", "/bin/sh", "-c", script]);
    assert_eq!(run.code(), 0);
    check_intact(&run.stdout(), 4, "stdout");
    check_intact(&run.stderr(), 4, "stderr");
}
