//! `eau2-launch --tolerate K`: a job that loses a rank is started again, whole, under the
//! next epoch, and its answer (stdout, written files) equals a fault-free run's.
//!
//! Ranks are lost at exact points of the program, not at guessed moments: the victim
//! sends itself SIGKILL (or SIGSTOP) as it starts its Nth collective call
//! (`EAU2_TEST_FAULT=RANK:EPOCH:CALL:kill|stop`), so no test depends on timing. Every run
//! has a deadline.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use eau2_testkit::{bin, files_under, run_with_deadline, write_script, Finished, SmallTmpfs};

/// Generous: a debug build on a busy two-core machine, and a restart or two.
const DEADLINE: Duration = Duration::from_secs(240);

/// Runs `program args` on `n` ranks with `--tolerate k` (none when `k` is `None`) and
/// `env` added.
fn run(n: usize, k: Option<u32>, program: &Path, args: &[&str], env: &[(&str, &str)]) -> Finished {
    let mut cmd = Command::new(bin("eau2-launch"));
    if let Some(k) = k {
        cmd.arg("--tolerate").arg(k.to_string());
    }
    cmd.arg("-n").arg(n.to_string()).arg(program).args(args);
    cmd.env_remove("EAU2_TEST_FAULT")
        .env_remove("EAU2_TOLERATE")
        .envs(env.iter().copied());
    run_with_deadline(&mut cmd, DEADLINE)
}

/// The stdout lines, sorted: ranks' lines interleave differently from run to run.
fn sorted(out: &Finished) -> Vec<String> {
    let mut lines: Vec<String> = out.stdout.lines().map(str::to_string).collect();
    lines.sort();
    lines
}

/// Panics unless the job succeeded after exactly the restarts `restarts` says, each
/// named with its lost rank.
fn assert_recovered(out: &Finished, lost: &[(usize, &str)], k: u32) {
    out.assert_success();
    for (i, (rank, how)) in lost.iter().enumerate() {
        let said = format!("eau2-launch: rank {rank} lost ({how}");
        let restarting = format!("in epoch {i}; restarting ({} of {k})", i + 1);
        assert!(
            out.stderr
                .lines()
                .any(|l| l.starts_with(&said) && l.ends_with(&restarting)),
            "no `{said}... {restarting}` line in:\n{}",
            out.stderr
        );
    }
    assert_eq!(
        out.stderr.matches("restarting (").count(),
        lost.len(),
        "{}",
        out.stderr
    );
}

const KILLED: &str = "killed by signal 9, SIGKILL";

/// A hand-written collective loop survives a kill -9 of each rank, rank 0 included, at
/// different points; stdout equals the fault-free run's, every line exactly once, and
/// the ranks of the second attempt know they are in epoch 1.
#[test]
fn collective_loop_survives_a_kill_of_each_rank() {
    let probe = bin("tolerate-probe");
    let clean = run(3, Some(0), &probe, &["loop", "30"], &[]);
    clean.assert_success();
    assert_eq!(sorted(&clean).len(), 3 * 30 + 1, "{}", clean.stdout);
    for victim in 0..3 {
        let fault = format!("{victim}:0:{}:kill", 2 + 11 * victim);
        let out = run(
            3,
            Some(1),
            &probe,
            &["loop", "30"],
            &[("EAU2_TEST_FAULT", &fault)],
        );
        assert_recovered(&out, &[(victim, KILLED)], 1);
        assert_eq!(sorted(&out), sorted(&clean), "victim {victim}");
        for rank in 0..3 {
            assert!(
                out.stderr
                    .contains(&format!("[{rank}] rank {rank} epoch 1")),
                "{}",
                out.stderr
            );
        }
    }
}

/// A frozen rank (SIGSTOP) is declared lost by its peers after EAU2_PEER_TIMEOUT, named
/// as frozen, and the job is started again.
#[test]
fn a_frozen_rank_is_detected_and_replaced() {
    let probe = bin("tolerate-probe");
    let clean = run(3, None, &probe, &["loop", "10"], &[]);
    clean.assert_success();
    let out = run(
        3,
        Some(1),
        &probe,
        &["loop", "10"],
        &[
            ("EAU2_TEST_FAULT", "1:0:4:stop"),
            ("EAU2_PEER_TIMEOUT", "2"),
        ],
    );
    assert_recovered(&out, &[(1, "frozen")], 1);
    assert_eq!(sorted(&out), sorted(&clean));
}

/// A rank frozen before it reaches rendezvous (here its wrapper script stops itself
/// before it starts the program, rank 0 included) makes the others fail rendezvous
/// with status 75, as a loss, and the job is started again; without `--tolerate` the
/// job fails naming the missing rank.
#[test]
fn a_rank_frozen_before_rendezvous_is_replaced() {
    let probe = bin("tolerate-probe");
    let clean = run(3, None, &probe, &["loop", "5"], &[]);
    clean.assert_success();
    let dir = scratch("rendezvous");
    for victim in [0, 2] {
        let script = dir.join(format!("freeze-{victim}.sh"));
        write_script(
            &script,
            &format!(
                "#!/bin/sh\nif [ \"$EAU2_RANK\" = {victim} ] && [ \"${{EAU2_EPOCH:-0}}\" = 0 ]; then kill -STOP $$; fi\nexec \"$@\"\n"
            ),
        );
        let script_args = [probe.to_str().unwrap(), "loop", "5"];
        let out = run(
            3,
            Some(1),
            &script,
            &script_args,
            &[("EAU2_RENDEZVOUS_TIMEOUT", "2")],
        );
        assert_recovered(&out, &[(victim, "frozen")], 1);
        assert_eq!(sorted(&out), sorted(&clean), "victim {victim}");

        let out = run(
            3,
            None,
            &script,
            &script_args,
            &[("EAU2_RENDEZVOUS_TIMEOUT", "2")],
        );
        assert!(!out.status.success(), "{}", out.stderr);
        let named = if victim == 0 {
            "could not reach the master".to_string()
        } else {
            format!("rank {victim} never arrived at the master")
        };
        assert!(
            out.stderr.contains(&named),
            "{named:?} not in:\n{}",
            out.stderr
        );
        assert!(
            out.stderr
                .contains("exit status 75 (it stopped because another rank was lost)"),
            "{}",
            out.stderr
        );
    }
}

/// Under a fixed `--master`, every attempt's rank 0 listens on the same port: a restart
/// after rank 0 is killed gets it again.
#[test]
fn a_restart_under_a_fixed_master_reuses_its_port() {
    let probe = bin("tolerate-probe");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let master = format!("127.0.0.1:{port}");
    let mut cmd = Command::new(bin("eau2-launch"));
    cmd.args(["--tolerate", "1", "--master", &master, "-n", "3"])
        .arg(&probe)
        .args(["loop", "5"])
        .env_remove("EAU2_TOLERATE")
        .env("EAU2_TEST_FAULT", "0:0:3:kill");
    let out = run_with_deadline(&mut cmd, DEADLINE);
    assert_recovered(&out, &[(0, KILLED)], 1);
    let clean = run(3, None, &probe, &["loop", "5"], &[]);
    assert_eq!(sorted(&out), sorted(&clean));
}

/// `node.checkpoint` / `node.restore`: a resumable loop that loses a rank (each rank in
/// turn, rank 0 included) resumes from its latest checkpoint instead of from the start,
/// and ends with the fault-free answer; with K = 2, a second loss in the resumed
/// attempt resumes again, later. The checkpoint folder is gone once the job ends.
#[test]
fn a_checkpointed_loop_resumes_where_it_was() {
    let probe = bin("tolerate-probe");
    let tmp = scratch("ckpt");
    let clean = run(3, Some(1), &probe, &["ckpt", "20"], &[]);
    clean.assert_success();
    assert_eq!(clean.stdout.lines().count(), 1, "{}", clean.stdout);
    assert!(
        clean.stderr.contains("rank 0 resumes at 0"),
        "{}",
        clean.stderr
    );
    // A restore finds nothing, then 3 collective calls an iteration: call 1 + 3i + 1 is
    // iteration i's all-reduce, after i checkpoints.
    for victim in 0..3 {
        let fault = format!("{victim}:0:{}:kill", 2 + 3 * (7 + victim));
        let tmp_dir = tmp.to_str().unwrap();
        let out = run(
            3,
            Some(1),
            &probe,
            &["ckpt", "20"],
            &[("EAU2_TEST_FAULT", &fault), ("TMPDIR", tmp_dir)],
        );
        assert_recovered(&out, &[(victim, KILLED)], 1);
        assert_eq!(out.stdout, clean.stdout, "victim {victim}");
        let resumed = format!("rank {victim} resumes at {}", 7 + victim);
        assert!(
            out.stderr.contains(&resumed),
            "{resumed:?} not in:\n{}",
            out.stderr
        );
        let left: Vec<_> = fs::read_dir(&tmp).unwrap().collect();
        assert!(left.is_empty(), "left behind: {left:?}");
    }
    let out = run(
        3,
        Some(2),
        &probe,
        &["ckpt", "20"],
        &[("EAU2_TEST_FAULT", "1:0:14:kill,2:1:20:kill")],
    );
    assert_recovered(&out, &[(1, KILLED), (2, KILLED)], 2);
    assert_eq!(out.stdout, clean.stdout);
    assert!(out.stderr.contains("rank 0 resumes at 4"), "{}", out.stderr);
    // Epoch 1 resumes at 4: its restore takes 2 calls, iteration i then calls 3 + 3(i - 4)
    // to 5 + 3(i - 4); call 20 is iteration 9's checkpoint's last (its commit), which
    // never completes: the latest whole checkpoint is iteration 8's, state 9.
    assert!(out.stderr.contains("rank 0 resumes at 9"), "{}", out.stderr);
}

/// With K = 2 a second loss, in the restarted attempt, is survived too.
#[test]
fn a_second_loss_is_survived_with_k_2() {
    let probe = bin("tolerate-probe");
    let clean = run(4, None, &probe, &["loop", "12"], &[]);
    clean.assert_success();
    let out = run(
        4,
        Some(2),
        &probe,
        &["loop", "12"],
        &[("EAU2_TEST_FAULT", "1:0:3:kill,3:1:7:kill")],
    );
    assert_recovered(&out, &[(1, KILLED), (3, KILLED)], 2);
    assert_eq!(sorted(&out), sorted(&clean));
}

/// Past K losses the job fails, naming every lost rank and its epoch; no third attempt
/// is started, and the answer is not printed.
#[test]
fn past_k_losses_the_job_fails_naming_every_lost_rank() {
    let out = run(
        3,
        Some(1),
        &bin("tolerate-probe"),
        &["loop", "10"],
        &[("EAU2_TEST_FAULT", "0:0:3:kill,2:1:4:kill")],
    );
    assert_eq!(out.status.code(), Some(1), "{}", out.stderr);
    assert!(
        out.stderr.contains(
            "eau2-launch: rank 2 lost (killed by signal 9, SIGKILL) in epoch 1; no restart \
             left (--tolerate 1); lost: rank 0 in epoch 0, rank 2 in epoch 1"
        ),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("epoch 2"), "{}", out.stderr);
    assert!(!out.stdout.contains("loop ok"), "{}", out.stdout);
}

/// Without --tolerate (and with --tolerate 0) a lost rank fails the job as before: the
/// rank is named and nothing is started again.
#[test]
fn without_tolerate_a_lost_rank_fails_the_job() {
    for k in [None, Some(0)] {
        let out = run(
            3,
            k,
            &bin("tolerate-probe"),
            &["loop", "10"],
            &[("EAU2_TEST_FAULT", "2:0:4:kill")],
        );
        assert_eq!(out.status.code(), Some(1), "{}", out.stderr);
        assert!(
            out.stderr
                .contains("eau2-launch: rank 2 failed: killed by signal 9 (SIGKILL)"),
            "{}",
            out.stderr
        );
        assert!(!out.stderr.contains("restarting"), "{}", out.stderr);
        assert!(!out.stderr.contains("epoch 1"), "{}", out.stderr);
    }
}

/// A program that fails by itself (an error on every rank; a crash) is not restarted:
/// it would only fail again.
#[test]
fn a_program_failure_is_not_restarted() {
    let out = run(
        2,
        Some(2),
        &bin("ops-check"),
        &["no_such_operator", "1", "40", "10", "8"],
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{}", out.stderr);
    assert!(
        out.stderr.contains("failed: exit status 1"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("restarting"), "{}", out.stderr);

    let crash = "if [ \"$EAU2_RANK\" = 1 ]; then kill -ABRT $$; fi; sleep 30";
    let out = run(2, Some(2), Path::new("/bin/sh"), &["-c", crash], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", out.stderr);
    assert!(
        out.stderr.contains("rank 1 failed: killed by signal 6"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("restarting"), "{}", out.stderr);
}

/// Any program, not only an eau2 one: a rank killed after the others finished still
/// makes the attempt count for nothing, and only the last attempt's stdout is printed.
#[test]
fn only_the_last_attempts_stdout_is_printed() {
    let script = "echo \"rank $EAU2_RANK epoch $EAU2_EPOCH\"; \
                  if [ \"$EAU2_RANK\" = 1 ] && [ \"$EAU2_EPOCH\" = 0 ]; then kill -9 $$; fi";
    let out = run(3, Some(1), Path::new("/bin/sh"), &["-c", script], &[]);
    assert_recovered(&out, &[(1, KILLED)], 1);
    assert_eq!(
        sorted(&out),
        [
            "[0] rank 0 epoch 1",
            "[1] rank 1 epoch 1",
            "[2] rank 2 epoch 1"
        ]
    );

    // A wrapper that reports its program's SIGKILL as exit status 137, as shells and
    // /usr/bin/time do, loses its rank the same way.
    let wrapped = "echo \"rank $EAU2_RANK epoch $EAU2_EPOCH\"; \
                   if [ \"$EAU2_RANK\" = 2 ] && [ \"$EAU2_EPOCH\" = 0 ]; then \
                   sh -c 'kill -9 $$'; exit $?; fi";
    let out = run(3, Some(1), Path::new("/bin/sh"), &["-c", wrapped], &[]);
    let how = "exit status 137: its program was killed by SIGKILL";
    assert_recovered(&out, &[(2, how)], 1);
    assert_eq!(sorted(&out).len(), 3, "{}", out.stdout);
    assert!(
        out.stdout.lines().all(|l| l.ends_with("epoch 1")),
        "{}",
        out.stdout
    );
}

/// The rows ops-check's rank 0 printed for `args` (one operator on seeded data).
fn ops(args: &[&str], k: Option<u32>, fault: Option<&str>) -> Finished {
    let env: Vec<(&str, &str)> = fault.map(|f| ("EAU2_TEST_FAULT", f)).into_iter().collect();
    let out = run(3, k, &bin("ops-check"), args, &env);
    out.assert_success();
    assert!(
        out.stdout.contains(&format!("{} ok", args[0])),
        "{}",
        out.stdout
    );
    out
}

/// Group-by, join and sort survive a kill of each rank at different points of the
/// operator (loading the frames, exchanging, gathering the result) with the same answer,
/// in the same order. (Group-by and join make 5 collective calls in ops-check, sort 7,
/// and 2 more under `--tolerate 1`, where the operator's output is saved;
/// `assert_recovered` fails if a fault point is never reached.)
#[test]
fn operators_survive_a_lost_rank() {
    for (op, faults) in [
        ("group_by", ["0:0:2:kill", "1:0:4:kill", "2:0:5:kill"]),
        ("join_inner", ["1:0:2:kill", "2:0:3:kill", "0:0:5:kill"]),
        ("sort", ["2:0:2:kill", "0:0:4:kill", "1:0:7:kill"]),
    ] {
        let args = [op, "11", "3000", "40", "64"];
        let clean = ops(&args, Some(0), None);
        for fault in faults {
            let out = ops(&args, Some(1), Some(fault));
            let victim: usize = fault[..1].parse().unwrap();
            assert_recovered(&out, &[(victim, KILLED)], 1);
            assert_eq!(out.stdout, clean.stdout, "{op} with {fault}");
        }
    }
}

/// The pipeline of ops-check (six operators: filter, group-by, join, sort, with_column,
/// select) on seeded data, on 3 ranks with `--tolerate k` (`None`: none), `fault`, and
/// `TMPDIR` set to `tmp`.
fn pipeline(k: Option<u32>, fault: Option<&str>, tmp: &Path) -> Finished {
    let mut env = vec![("TMPDIR", tmp.to_str().unwrap())];
    env.extend(fault.map(|f| ("EAU2_TEST_FAULT", f)));
    let args = ["pipeline", "11", "3000", "40", "64"];
    run(3, k, &bin("ops-check"), &args, &env)
}

/// The counts of `resumed N operators saved by epoch E` lines on stderr, in order.
fn resumed(out: &Finished) -> Vec<usize> {
    out.stderr
        .lines()
        .filter(|l| l.contains(" operators saved by epoch "))
        .filter_map(|l| l.split("resumed ").nth(1))
        .map(|rest| rest.split(' ').next().unwrap().parse().unwrap())
        .collect()
}

/// Panics unless `dir` is empty (the memo and checkpoint folder is gone).
fn assert_empty(dir: &Path) {
    let left: Vec<_> = fs::read_dir(dir).unwrap().collect();
    assert!(
        left.is_empty(),
        "left behind in {}: {left:?}",
        dir.display()
    );
}

// The pipeline's collective calls under `--tolerate 1` on one host: 2 loads, then the
// first operator's agreement on what to resume (call 3); each operator then ends with
// its memo's all-reduce (no buddy copy: one folder), which is the last call before it
// counts as complete: the filter's is call 5, the group-by's 8, the join's 14, the
// sort's 19, with_column's 21. select (call 22) shares its input's chunks and is not
// saved but re-run (`memo::shared`). A kill at call C resumes every operator whose
// all-reduce came before C.

/// Operator outputs survive a lost rank (each rank in turn, rank 0 included): the
/// restarted attempt skips the operators completed before the kill (it says how many),
/// and prints the fault-free rows in the fault-free order. No memo file is left after
/// the job.
#[test]
fn completed_operators_are_resumed_after_a_lost_rank() {
    let tmp = scratch("memo");
    let clean = pipeline(Some(0), None, &tmp);
    clean.assert_success();
    assert!(clean.stdout.contains("pipeline ok"), "{}", clean.stdout);
    for (victim, call, done) in [(0, 22, 5), (1, 20, 4), (2, 23, 5), (0, 9, 2)] {
        let fault = format!("{victim}:0:{call}:kill");
        let out = pipeline(Some(1), Some(&fault), &tmp);
        assert_recovered(&out, &[(victim, KILLED)], 1);
        assert_eq!(out.stdout, clean.stdout, "{fault}");
        assert_eq!(resumed(&out), [done], "{fault}: {}", out.stderr);
        assert!(
            out.stderr
                .contains(&format!("resumed {done} operators saved by epoch 0")),
            "{}",
            out.stderr
        );
        assert_empty(&tmp);
    }
}

/// A rank killed during an operator's save (at its all-reduce, after every rank wrote
/// its memo but before any marked it done): that operator is computed again, the ones
/// before it are resumed, and the answer is the fault-free one.
#[test]
fn a_kill_during_a_save_recomputes_that_operator() {
    let tmp = scratch("memo-save");
    let clean = pipeline(None, None, &tmp);
    clean.assert_success();
    for (fault, done) in [("1:0:14:kill", 2), ("0:0:5:kill", 0), ("2:0:19:kill", 3)] {
        let out = pipeline(Some(1), Some(fault), &tmp);
        let victim: usize = fault[..1].parse().unwrap();
        assert_recovered(&out, &[(victim, KILLED)], 1);
        assert_eq!(out.stdout, clean.stdout, "{fault}");
        assert_eq!(resumed(&out), [done], "{fault}: {}", out.stderr);
        assert_empty(&tmp);
    }
}

/// With K = 2, the second attempt's memos are used too: the third attempt resumes the
/// operators of the first (1 to 3) and those the second computed after them.
#[test]
fn a_second_loss_resumes_the_second_attempts_operators_too() {
    let tmp = scratch("memo-k2");
    let clean = pipeline(None, None, &tmp);
    clean.assert_success();
    // Epoch 1 resumes 3 operators (calls 4 to 6 rebuild them); its sort ends at call 11
    // and its with_column at 13.
    for (second, done) in [("2:1:12:kill", 4), ("0:1:14:kill", 5)] {
        let fault = format!("1:0:15:kill,{second}");
        let out = pipeline(Some(2), Some(&fault), &tmp);
        let victim: usize = second[..1].parse().unwrap();
        assert_recovered(&out, &[(1, KILLED), (victim, KILLED)], 2);
        assert_eq!(out.stdout, clean.stdout, "{fault}");
        assert_eq!(resumed(&out), [3, done], "{fault}: {}", out.stderr);
        assert!(
            out.stderr
                .contains(&format!("resumed {done} operators saved by epoch 1")),
            "{}",
            out.stderr
        );
        assert_empty(&tmp);
    }
}

/// Without `--tolerate` (or with 0) operators save nothing: no file under TMPDIR, and
/// not one collective call more (the pipeline makes 17: a kill at the 17th is reached,
/// one at the 18th is not).
#[test]
fn without_tolerate_operators_save_nothing() {
    let tmp = scratch("memo-none");
    for k in [None, Some(0)] {
        let out = pipeline(k, None, &tmp);
        out.assert_success();
        assert!(
            !out.stderr.contains("operators saved by epoch"),
            "{}",
            out.stderr
        );
        assert_empty(&tmp);
        let out = pipeline(k, Some("1:0:18:kill"), &tmp);
        out.assert_success();
        let out = pipeline(k, Some("1:0:17:kill"), &tmp);
        assert_eq!(out.status.code(), Some(1), "{}", out.stderr);
    }
}

/// An input file replaced between attempts: the restarted attempt's load reads the new
/// version, so no operator output saved from the old one is used (every operator is
/// computed again, with a note), and the answer is the new file's. Without the
/// replacement, the same kill resumes the two operators done before it.
#[test]
fn memos_of_a_replaced_input_are_not_used() {
    let dir = scratch("memo-input");
    let tmp = scratch("memo-input-tmp");
    for (name, modulus, mul) in [("a", 13, 7), ("b", 17, 11)] {
        let text = eau2_testkit::scores_csv(5000, modulus, mul);
        fs::write(dir.join(format!("{name}.csv")), text).unwrap();
    }
    let path = dir.join("t.csv");
    let file_args = ["file", path.to_str().unwrap()];
    let answer = |version: &str| {
        fs::copy(dir.join(format!("{version}.csv")), &path).unwrap();
        let out = run(3, None, &bin("ops-check"), &file_args, &[]);
        out.assert_success();
        out.stdout
    };
    let (old, new) = (answer("a"), answer("b"));
    assert_ne!(old, new);
    // The CSV load makes 10 collective calls here; the filter's memo is complete after
    // call 13, the group-by's after 18.
    let fault = [
        ("EAU2_TEST_FAULT", "1:0:18:kill"),
        ("TMPDIR", tmp.to_str().unwrap()),
    ];
    fs::copy(dir.join("a.csv"), &path).unwrap();
    let out = run(3, Some(1), &bin("ops-check"), &file_args, &fault);
    assert_recovered(&out, &[(1, KILLED)], 1);
    assert_eq!(out.stdout, old);
    assert_eq!(resumed(&out), [2], "{}", out.stderr);

    // Each rank's wrapper, in epoch 1, replaces the file once (by rename) before its
    // program starts: the ranks agree on the new version when they open it.
    let script = dir.join("replace.sh");
    let d = dir.to_str().unwrap();
    write_script(
        &script,
        &format!(
            "#!/bin/sh\nif [ \"${{EAU2_EPOCH:-0}}\" = 1 ] && mkdir {d}/replaced 2>/dev/null; then \
             cp {d}/b.csv {d}/t.new && mv {d}/t.new {d}/t.csv; fi\nexec \"$@\"\n"
        ),
    );
    fs::copy(dir.join("a.csv"), &path).unwrap();
    let ops_check = bin("ops-check");
    let wrapped = [ops_check.to_str().unwrap(), file_args[0], file_args[1]];
    let out = run(3, Some(1), &script, &wrapped, &fault);
    assert_recovered(&out, &[(1, KILLED)], 1);
    assert_eq!(out.stdout, new, "{}", out.stderr);
    assert_eq!(resumed(&out), [0], "{}", out.stderr);
    assert!(out.stderr.contains("an input changed"), "{}", out.stderr);
    assert_empty(&tmp);
    let _ = fs::remove_dir_all(&dir);
}

/// A fresh folder under the temporary folder.
fn scratch(name: &str) -> PathBuf {
    eau2_testkit::scratch(&format!("tolerate-{name}"))
}

/// A CSV load survives a lost rank: the rows printed equal a fault-free load's.
#[test]
fn a_load_survives_a_lost_rank() {
    let dir = scratch("load");
    let path = dir.join("t.csv");
    fs::write(&path, eau2_testkit::scores_csv(5000, 97, 7)).unwrap();
    let args = ["read", path.to_str().unwrap()];
    let clean = run(3, None, &bin("load-check"), &args, &[]);
    clean.assert_success();
    for fault in ["0:0:1:kill", "2:0:3:kill"] {
        let out = run(
            3,
            Some(1),
            &bin("load-check"),
            &args,
            &[("EAU2_TEST_FAULT", fault)],
        );
        let victim: usize = fault[..1].parse().unwrap();
        assert_recovered(&out, &[(victim, KILLED)], 1);
        assert_eq!(out.stdout, clean.stdout, "{fault}");
    }
    let _ = fs::remove_dir_all(&dir);
}

/// Writes (one file, part files, CSV and SoR) re-run after a lost rank leave exactly
/// the files of a fault-free run: same names, same bytes, no temporary left behind.
#[test]
fn a_write_survives_a_lost_rank() {
    let clean_dir = scratch("write-clean");
    let args = ["write", clean_dir.to_str().unwrap(), "3000"];
    let clean = run(3, None, &bin("write-probe"), &args, &[]);
    clean.assert_success();
    let want = files_under(&clean_dir);
    assert!(want.len() >= 4, "{want:?}");
    for fault in ["1:0:4:kill", "0:0:12:kill", "2:0:20:kill"] {
        let dir = scratch("write");
        let args = ["write", dir.to_str().unwrap(), "3000"];
        let out = run(
            3,
            Some(1),
            &bin("write-probe"),
            &args,
            &[("EAU2_TEST_FAULT", fault)],
        );
        let victim: usize = fault[..1].parse().unwrap();
        assert_recovered(&out, &[(victim, KILLED)], 1);
        assert!(out.stdout.contains("write ok"), "{}", out.stdout);
        let got = files_under(&dir);
        let names = |f: &[(String, Vec<u8>)]| f.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
        assert_eq!(names(&got), names(&want), "{fault}");
        assert!(
            got == want,
            "{fault}: the files differ from the fault-free run's"
        );
        let _ = fs::remove_dir_all(&dir);
    }
    let _ = fs::remove_dir_all(&clean_dir);
}

/// EAU2_TOLERATE gives the default of --tolerate, and a bad value stops the launcher
/// before any rank starts.
#[test]
fn eau2_tolerate_sets_the_default() {
    let out = run(
        2,
        None,
        &bin("tolerate-probe"),
        &["loop", "5"],
        &[("EAU2_TOLERATE", "1"), ("EAU2_TEST_FAULT", "1:0:2:kill")],
    );
    assert_recovered(&out, &[(1, KILLED)], 1);
    let out = run(
        2,
        None,
        &bin("tolerate-probe"),
        &["loop", "5"],
        &[("EAU2_TOLERATE", "x")],
    );
    assert_eq!(out.status.code(), Some(2), "{}", out.stderr);
    assert!(out.stderr.contains("EAU2_TOLERATE=\"x\""), "{}", out.stderr);
    let out = run(
        2,
        None,
        &bin("tolerate-probe"),
        &["loop", "5"],
        &[("EAU2_TEST_FAULT", "1:kill")],
    );
    assert_eq!(out.status.code(), Some(2), "{}", out.stderr);
}

/// `--timeout` counts across attempts and is not a loss: the job stops with status 124,
/// and nothing is started again; what the ranks printed is still written once.
#[test]
fn a_timeout_is_not_restarted() {
    let script = "echo \"rank $EAU2_RANK epoch $EAU2_EPOCH\"; exec sleep 60";
    let mut cmd = Command::new(bin("eau2-launch"));
    cmd.args([
        "--tolerate",
        "2",
        "--timeout",
        "1.5",
        "-n",
        "2",
        "/bin/sh",
        "-c",
        script,
    ])
    .env_remove("EAU2_TEST_FAULT");
    let out = run_with_deadline(&mut cmd, DEADLINE);
    assert_eq!(out.status.code(), Some(124), "{}", out.stderr);
    assert!(!out.stderr.contains("restarting"), "{}", out.stderr);
    assert_eq!(sorted(&out), ["[0] rank 0 epoch 0", "[1] rank 1 epoch 0"]);
}

/// The folder of saved outputs fills up mid-run (`TMPDIR` on a 256 KiB tmpfs, far less
/// than the pipeline's outputs): the save that does not fit fails the job at once with
/// an error naming the file, as an error of the rank's own (not restarted: it would
/// only happen again), and nothing hangs. Needs root for the mount; says SKIPPED
/// otherwise.
#[test]
fn a_full_folder_fails_the_job_naming_the_file() {
    let tmp = match SmallTmpfs::mount("memo-full", "256k") {
        Ok(mnt) => mnt,
        Err(why) => {
            println!("SKIPPED: {why}");
            return;
        }
    };
    let args = ["pipeline", "11", "20000", "40", "64"];
    let out = run(
        3,
        Some(1),
        &bin("ops-check"),
        &args,
        &[("TMPDIR", tmp.0.to_str().unwrap())],
    );
    drop(tmp);
    assert!(!out.status.success(), "{}", out.stderr);
    assert!(
        out.stderr.contains("No space left on device") && out.stderr.contains("eau2-checkpoints-"),
        "the error should say the disk is full and name the file:\n{}",
        out.stderr
    );
    assert!(!out.stderr.contains("restarting ("), "{}", out.stderr);
}

/// A program whose operators differ between attempts (ops-check's `drift`: the first
/// attempt filters then counts, a restarted one sorts then counts): the restarted
/// attempt does not take the filter's saved output for its sort, nor the first
/// attempt's counts for its own; it says why it stops resuming and ends with the
/// answer of its own course (a fault-free run of it, `DRIFT_FORCE`).
#[test]
fn operators_that_differ_between_attempts_are_not_resumed() {
    let args = ["drift", "11", "3000", "40", "64"];
    let clean = run(
        3,
        Some(1),
        &bin("ops-check"),
        &args,
        &[("DRIFT_FORCE", "1")],
    );
    clean.assert_success();
    // Calls: 2 loads, the agreement (3), the filter (4) and its save (5), the group-by
    // and its save (8): a kill at 9 leaves both saved.
    let out = run(
        3,
        Some(1),
        &bin("ops-check"),
        &args,
        &[("EAU2_TEST_FAULT", "1:0:9:kill")],
    );
    assert_recovered(&out, &[(1, KILLED)], 1);
    assert!(
        out.stderr
            .contains("operator 1 is sort_by in this attempt but was filter"),
        "{}",
        out.stderr
    );
    assert_eq!(out.stdout, clean.stdout);
}
