//! `eau2-launch --tolerate 1` against a `kill -9` at a random moment, as an operator's
//! mistake or the OOM killer would deliver it: in the middle of a load, a group-by, a
//! join, a sort, a write or a checkpointed collective loop, whatever each is doing then.
//!
//! tests/tolerate.rs loses ranks at exact collective calls, so each recovery path is
//! hit on purpose. Here the moment is drawn at random (seeded; the seed, victim and
//! delay are in every failure message), so the kill also lands where no fault point
//! is: inside a rendezvous, halfway through a frame, between a write's flush and its
//! rename. Whatever the moment, the job must succeed with the fault-free answer. The
//! pass condition does not depend on timing: a kill that comes after its victim has
//! exited simply loses nothing (the test counts those and says so).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use eau2_testkit::{
    bin, files_under, run_with_deadline, scratch, wait_for_paths, write_script, Finished,
};

/// Generous: a debug build on a busy two-core machine, and a restart.
const DEADLINE: Duration = Duration::from_secs(240);

/// Ranks in every job here.
const RANKS: usize = 3;

/// A small, seeded generator (xorshift64*): the delays need no statistical quality,
/// only a seed a failure message can give back.
struct Draw(u64);

impl Draw {
    fn new() -> Draw {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64);
        Draw(nanos | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A fraction in [lo, hi).
    fn between(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// One job to break: a program, its arguments, and the files it writes (compared with a
/// fault-free run's) if any.
struct Job {
    name: &'static str,
    program: PathBuf,
    args: Vec<String>,
    /// The folder the program writes its output files into, emptied before each run.
    output_dir: Option<PathBuf>,
}

/// The wrapper every rank runs under: it notes the rank's process id (the program's
/// own, since it `exec`s it) in `pids/pid-RANK-EPOCH`, so the test can kill it.
fn wrapper(dir: &Path) -> PathBuf {
    let path = dir.join("note-pid.sh");
    write_script(
        &path,
        &format!(
            "#!/bin/sh\necho $$ > '{}/pid-'\"$EAU2_RANK-${{EAU2_EPOCH:-0}}\"\nexec \"$@\"\n",
            dir.join("pids").display()
        ),
    );
    path
}

/// Runs `job` under `--tolerate 1`; with `kill = Some((victim, delay))`, kills `victim`
/// of the first attempt `delay` after every rank of it has started.
fn run(job: &Job, dir: &Path, kill: Option<(usize, Duration)>) -> (Finished, bool) {
    let pids = dir.join("pids");
    let _ = fs::remove_dir_all(&pids);
    fs::create_dir_all(&pids).unwrap();
    if let Some(out) = &job.output_dir {
        let _ = fs::remove_dir_all(out);
        fs::create_dir_all(out).unwrap();
    }
    let mut cmd = Command::new(bin("eau2-launch"));
    cmd.args(["--tolerate", "1", "-n", &RANKS.to_string()])
        .arg(wrapper(dir))
        .arg(&job.program)
        .args(&job.args)
        .env_remove("EAU2_TEST_FAULT")
        .env_remove("EAU2_TOLERATE");
    let killer = kill.map(|(victim, delay)| {
        let pids = pids.clone();
        thread::spawn(move || {
            let started: Vec<PathBuf> = (0..RANKS)
                .map(|r| pids.join(format!("pid-{r}-0")))
                .collect();
            wait_for_paths(&started, Instant::now() + DEADLINE);
            thread::sleep(delay);
            let pid = fs::read_to_string(&started[victim]).unwrap();
            // Fails (and kills nothing) when the victim has already exited.
            Command::new("kill")
                .args(["-9", pid.trim()])
                .stderr(std::process::Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
    });
    let out = run_with_deadline(&mut cmd, DEADLINE);
    let killed = killer.is_some_and(|k| k.join().unwrap());
    (out, killed)
}

/// Breaks `job` once per rank, each at a random moment of its run, and checks every
/// run ends with the fault-free answer (stdout and written files).
fn survive_random_kills(job: &Job) {
    let dir = scratch(&format!("random-kill-{}", job.name));
    let (clean, _) = run(job, &dir, None);
    clean.assert_success();
    let want_files = job.output_dir.as_deref().map(files_under);
    let mut draw = Draw::new();
    let seed = draw.0;
    let mut missed = 0;
    for victim in 0..RANKS {
        // The first attempt's ranks run for about `clean.elapsed` less the launcher's
        // start-up; aim inside that.
        let delay = clean.elapsed.mul_f64(draw.between(0.0, 0.8));
        let what = format!(
            "{}: rank {victim} killed {delay:?} after start (seed {seed}, fault-free run {:?})",
            job.name, clean.elapsed
        );
        let (out, killed) = run(job, &dir, Some((victim, delay)));
        assert!(
            out.status.success(),
            "{what}: the job failed\n--- stdout\n{}\n--- stderr\n{}",
            out.stdout,
            out.stderr
        );
        let restarted = out.stderr.contains("restarting (1 of 1)");
        if let Some(resumed) = out
            .stderr
            .lines()
            .find(|l| l.contains("resumed ") && l.contains(" operators saved by epoch"))
        {
            eprintln!("{what}: {resumed}");
        }
        if restarted {
            let said = format!("eau2-launch: rank {victim} lost (killed by signal 9");
            assert!(
                out.stderr.contains(&said),
                "{what}: no `{said}` in\n{}",
                out.stderr
            );
        } else {
            // The kill came after the victim's work: nothing was lost.
            missed += 1;
            assert!(
                killed || !out.stderr.contains("lost"),
                "{what}\n{}",
                out.stderr
            );
        }
        assert_eq!(out.stdout, clean.stdout, "{what}: stdout differs");
        if let (Some(out_dir), Some(want)) = (&job.output_dir, &want_files) {
            assert!(
                files_under(out_dir) == *want,
                "{what}: the files differ from the fault-free run's"
            );
        }
    }
    eprintln!(
        "{}: {} of {RANKS} kills landed during the job (seed {seed})",
        job.name,
        RANKS - missed
    );
    let _ = fs::remove_dir_all(&dir);
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| a.to_string()).collect()
}

/// ops-check's `name` on `rows` seeded facts and `right_rows` dimension rows (their keys
/// are below 10, so a join's result has about `rows * right_rows / 11` rows: keep it
/// small).
fn ops(name: &'static str, rows: &str, right_rows: &str) -> Job {
    Job {
        name,
        program: bin("ops-check"),
        args: strings(&[name, "17", rows, right_rows, "4096"]),
        output_dir: None,
    }
}

#[test]
fn group_by_survives_a_kill_at_a_random_moment() {
    survive_random_kills(&ops("group_by", "300000", "20"));
}

#[test]
fn join_survives_a_kill_at_a_random_moment() {
    survive_random_kills(&ops("join_inner", "60000", "20"));
}

/// Six operators in a row: a kill after some have completed resumes those from their
/// saved outputs (`resumed N operators saved by epoch E` on stderr), whatever the moment.
#[test]
fn an_operator_pipeline_survives_a_kill_at_a_random_moment() {
    survive_random_kills(&ops("pipeline", "200000", "20"));
}

#[test]
fn sort_survives_a_kill_at_a_random_moment() {
    survive_random_kills(&ops("sort", "100000", "20"));
}

#[test]
fn a_checkpointed_loop_survives_a_kill_at_a_random_moment() {
    survive_random_kills(&Job {
        name: "ckpt",
        program: bin("tolerate-probe"),
        args: strings(&["ckpt", "2000"]),
        output_dir: None,
    });
}

#[test]
fn a_load_survives_a_kill_at_a_random_moment() {
    let dir = scratch("random-kill-load-input");
    let path = dir.join("t.csv");
    fs::write(&path, eau2_testkit::scores_csv(300_000, 997, 7)).unwrap();
    survive_random_kills(&Job {
        name: "load",
        program: bin("load-check"),
        args: strings(&["read", path.to_str().unwrap()]),
        output_dir: None,
    });
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn a_write_survives_a_kill_at_a_random_moment() {
    let out = scratch("random-kill-write-output");
    survive_random_kills(&Job {
        name: "write",
        program: bin("write-probe"),
        args: strings(&["write", out.to_str().unwrap(), "100000"]),
        output_dir: Some(out.clone()),
    });
    let _ = fs::remove_dir_all(&out);
}
