//! linus under the real foreign launchers, with no eau2 variables: the ranks find each other
//! through the launcher's own wire-up service (PMI-1 and PMI-2 under MPICH's Hydra and
//! Slurm's pmi2 plugin, PMIx under Open MPI and `srun --mpi=pmix`) or, under plain `srun`,
//! through Slurm's variables.
//!
//! A launcher that is not installed (or a Slurm that does not answer) makes its test print
//! `SKIPPED: <why>` and pass; `.ci/setup-launchers` installs them all so that CI runs them.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use eau2_testkit::{bin, repo_root, run_with_deadline, Finished};

/// What rank 0 of linus prints last on the bundled data set, on any number of ranks.
const LAST_STAGE: &str = "stage 3: 18 projects, 5312 users";

/// Long enough for a loaded two-core machine; a hang is still noticed.
const DEADLINE: Duration = Duration::from_secs(90);

/// The eau2 variables a test's own environment might carry (a test run under
/// eau2-launch, say): none may reach the ranks, or they would not need the wire-up.
const EAU2_VARS: [&str; 6] = [
    "EAU2_RANK",
    "EAU2_SIZE",
    "EAU2_MASTER",
    "EAU2_TOKEN",
    "EAU2_JOB_ID",
    "EAU2_PMI_VERSION",
];

/// Where `program` is on PATH, if anywhere.
fn which(program: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(program))
            .find(|p| p.is_file())
    })
}

/// A launcher command running linus on 4 ranks over the bundled data set.
fn linus_under(launcher: &Path, flags: &[&str]) -> Command {
    let mut cmd = Command::new(launcher);
    cmd.args(flags)
        .arg(bin("linus"))
        .arg("--data")
        .arg(repo_root().join("datasets/git-small"))
        .current_dir(std::env::temp_dir());
    for var in EAU2_VARS {
        cmd.env_remove(var);
    }
    cmd
}

fn assert_right_answer(what: &str, run: &Finished) {
    assert!(
        run.status.success() && run.stdout.lines().any(|l| l == LAST_STAGE),
        "{what}: expected `{LAST_STAGE}` and success, got {}\n--- stdout\n{}\n--- stderr\n{}",
        run.status,
        run.stdout,
        run.stderr
    );
    println!("{what}: {LAST_STAGE}");
}

#[test]
fn mpiexec_hydra_pmi1_and_pmi2() {
    let Some(hydra) = which("mpiexec.hydra") else {
        println!("SKIPPED: mpiexec.hydra is not installed (Debian package mpich)");
        return;
    };
    let run = run_with_deadline(&mut linus_under(&hydra, &["-n", "4"]), DEADLINE);
    assert_right_answer("mpiexec.hydra -n 4 (PMI-1)", &run);
    let mut pmi2 = linus_under(&hydra, &["-n", "4"]);
    pmi2.env("EAU2_PMI_VERSION", "2");
    assert_right_answer(
        "mpiexec.hydra -n 4 (PMI-2)",
        &run_with_deadline(&mut pmi2, DEADLINE),
    );
}

#[test]
fn mpirun_open_mpi_pmix() {
    let Some(mpirun) = which("mpirun.openmpi") else {
        println!("SKIPPED: mpirun.openmpi is not installed (Debian package openmpi-bin)");
        return;
    };
    // Open MPI refuses to run as root unless told twice; 4 ranks on 2 cores need
    // --oversubscribe.
    let mut cmd = linus_under(&mpirun, &["--oversubscribe", "-n", "4"]);
    cmd.env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
    assert_right_answer("mpirun -n 4", &run_with_deadline(&mut cmd, DEADLINE));
}

/// Whether a Slurm controller answers and has a node ready; `Err` says why not.
fn slurm_ready() -> Result<std::path::PathBuf, String> {
    let srun = which("srun").ok_or("srun is not installed (Debian package slurm-wlm)")?;
    // A Slurm whose controller is down can keep sinfo retrying for long: `timeout` bounds
    // it, and a silent Slurm means "skip", not "fail".
    let mut sinfo = Command::new("timeout");
    sinfo
        .args(["15", "sinfo", "-h", "-o", "%t"])
        .stdin(Stdio::null());
    let out = run_with_deadline(&mut sinfo, Duration::from_secs(30));
    let ready = out
        .stdout
        .lines()
        .any(|s| ["idle", "mix", "alloc"].iter().any(|w| s.starts_with(w)));
    if !out.status.success() || !ready {
        return Err(format!(
            "no Slurm node is ready (sinfo: {} {}); .ci/setup-launchers starts one",
            out.stdout.trim(),
            out.stderr.trim()
        ));
    }
    Ok(srun)
}

fn srun_linus(srun: &Path, flags: &[&str], secret_dir: &Path) -> Command {
    let mut all = vec!["-n", "4", "--overcommit"];
    all.extend_from_slice(flags);
    let mut cmd = linus_under(srun, &all);
    // Plain srun derives the token from the user's key; keep the test's key to itself.
    cmd.env("EAU2_SECRET_FILE", secret_dir.join("secret"));
    cmd
}

#[test]
fn srun_with_pmi2_pmix_and_plain() {
    let srun = match slurm_ready() {
        Ok(srun) => srun,
        Err(why) => {
            println!("SKIPPED: {why}");
            return;
        }
    };
    let secret_dir = std::env::temp_dir().join(format!("eau2-launchers-{}", std::process::id()));
    std::fs::create_dir_all(&secret_dir).expect("a temporary folder");

    let mut pmi2 = srun_linus(&srun, &["--mpi=pmi2"], &secret_dir);
    assert_right_answer(
        "srun --mpi=pmi2 -n 4 (PMI-1)",
        &run_with_deadline(&mut pmi2, DEADLINE),
    );
    let mut pmi2_v2 = srun_linus(&srun, &["--mpi=pmi2"], &secret_dir);
    pmi2_v2.env("EAU2_PMI_VERSION", "2");
    assert_right_answer(
        "srun --mpi=pmi2 -n 4 (PMI-2)",
        &run_with_deadline(&mut pmi2_v2, DEADLINE),
    );
    let mut plain = srun_linus(&srun, &["--mpi=none"], &secret_dir);
    assert_right_answer(
        "srun --mpi=none -n 4 (Slurm's variables)",
        &run_with_deadline(&mut plain, DEADLINE),
    );

    let plugins = run_with_deadline(
        Command::new(&srun).arg("--mpi=list").stdin(Stdio::null()),
        Duration::from_secs(20),
    );
    if format!("{}{}", plugins.stdout, plugins.stderr).contains("pmix") {
        let mut pmix = srun_linus(&srun, &["--mpi=pmix"], &secret_dir);
        assert_right_answer(
            "srun --mpi=pmix -n 4",
            &run_with_deadline(&mut pmix, DEADLINE),
        );
    } else {
        println!("SKIPPED: srun --mpi=pmix (this Slurm has no pmix plugin)");
    }
    let _ = std::fs::remove_dir_all(&secret_dir);
}
