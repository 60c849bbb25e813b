//! Every rank gets the launch environment the runtime expects.

mod common;

use std::collections::BTreeSet;

use common::launch;

/// One rank's report of its environment, parsed from `[R] RANK SIZE MASTER TOKEN`.
#[derive(Debug)]
struct Report {
    prefix_rank: u32,
    rank: u32,
    size: u32,
    master: String,
    token: String,
}

const REPORT: &str = r#"echo "$EAU2_RANK $EAU2_SIZE $EAU2_MASTER $EAU2_TOKEN""#;

fn reports(n: u32, extra: &[&str]) -> Vec<Report> {
    let n_text = n.to_string();
    let mut args = vec!["-n", &n_text];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["/bin/sh", "-c", REPORT]);
    let run = launch(&args);
    assert_eq!(run.code(), 0, "stderr: {}", run.stderr());
    run.stdout_lines()
        .iter()
        .map(|line| {
            let (prefix, rest) = line.split_once(' ').expect("a prefixed line");
            let prefix_rank = prefix
                .strip_prefix('[')
                .and_then(|p| p.strip_suffix(']'))
                .and_then(|p| p.parse().ok())
                .unwrap_or_else(|| panic!("bad prefix in {line:?}"));
            let fields: Vec<&str> = rest.split(' ').collect();
            assert_eq!(fields.len(), 4, "bad report {line:?}");
            Report {
                prefix_rank,
                rank: fields[0].parse().expect("EAU2_RANK is a number"),
                size: fields[1].parse().expect("EAU2_SIZE is a number"),
                master: fields[2].to_string(),
                token: fields[3].to_string(),
            }
        })
        .collect()
}

fn check_job(n: u32) {
    let reports = reports(n, &[]);
    assert_eq!(reports.len(), n as usize, "{reports:?}");
    let ranks: BTreeSet<u32> = reports.iter().map(|r| r.rank).collect();
    assert_eq!(ranks, (0..n).collect(), "each rank exactly once");
    for r in &reports {
        assert_eq!(
            r.prefix_rank, r.rank,
            "the prefix names the rank that wrote the line"
        );
        assert_eq!(r.size, n);
        assert_eq!(r.master, reports[0].master, "one master for the whole job");
        assert_eq!(r.token, reports[0].token, "one token for the whole job");
    }
    let token = &reports[0].token;
    assert_eq!(token.len(), 32, "{token}");
    assert!(
        token
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "{token}"
    );
    let (host, port) = reports[0].master.rsplit_once(':').expect("HOST:PORT");
    assert_eq!(host, "127.0.0.1");
    let port: u16 = port.parse().expect("a port number");
    assert_ne!(port, 0);
}

#[test]
fn one_rank() {
    check_job(1);
}

#[test]
fn two_ranks() {
    check_job(2);
}

#[test]
fn four_ranks() {
    check_job(4);
}

#[test]
fn eight_ranks() {
    check_job(8);
}

#[test]
fn every_job_gets_a_fresh_token() {
    let a = reports(1, &[]);
    let b = reports(1, &[]);
    assert_ne!(a[0].token, b[0].token);
}

#[test]
fn master_flag_is_passed_to_every_rank() {
    let reports = reports(3, &["--master", "node7.example:7077"]);
    assert_eq!(reports.len(), 3);
    assert!(reports.iter().all(|r| r.master == "node7.example:7077"));
}

#[test]
fn ranks_read_an_empty_stdin() {
    // Were stdin inherited, `cat` could wait forever.
    let run = launch(&["-n", "2", "/bin/sh", "-c", "cat; echo done"]);
    assert_eq!(run.code(), 0);
    assert_eq!(run.stdout_lines().len(), 2, "{}", run.stdout());
}
