//! Jobs over four hosts: network namespaces joined by a bridge, each host with one address
//! in 198.18.0.0/24 (the benchmarking range; nothing else is used), and `eau2-launch
//! --hostfile ... --rsh <a script that runs ip netns exec>` starting the ranks on them.
//!
//! Checked: linus gives the right answer with one rank per host (so every rank listens on,
//! and advertises, its host's address); ranks really run on their hosts; a rank killed
//! on a remote host fails the whole job at once, naming it, and leaves nothing running;
//! `--timeout` and a forwarded SIGINT reach the remote ranks; with `--tolerate`, a host
//! whose processes are all killed restarts the job, which then gives the right answer. The same hosts also run
//! linus under `mpiexec.hydra` (PMI-1) and Open MPI's `mpirun` (PMIx) with no eau2
//! variables, both started from host 1 with the same rsh script: the wire-up across
//! hosts, where each rank must pick the address of rank 0 that reaches it.
//!
//! Needs root and `ip`; without them (or the MPI launchers) each test prints
//! `SKIPPED: <why>` and passes.

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use eau2_testkit::{bin, repo_root, run_with_deadline, wait_until, Finished};

const HOSTS: usize = 4;
const DEADLINE: Duration = Duration::from_secs(60);
const LAST_STAGE: &str = "stage 3: 18 projects, 5312 users";

/// Four hosts in namespaces, removed again on drop.
struct Cluster {
    id: String,
    dir: PathBuf,
}

impl Cluster {
    /// Builds the hosts, or says why it cannot.
    fn new() -> Result<Cluster, String> {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return Err("network namespaces need root".into());
        }
        if Command::new("ip")
            .arg("-V")
            .stdout(Stdio::null())
            .status()
            .map(|s| !s.success())
            .unwrap_or(true)
        {
            return Err("`ip` (iproute2) is not installed".into());
        }
        // Short and unique among concurrent tests: interface names have 15 bytes at most.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let id = format!("{:05x}", (std::process::id() ^ nanos) & 0xfffff);
        let dir = std::env::temp_dir().join(format!("eau2-multihost-{id}"));
        fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        let cluster = Cluster { id, dir };
        cluster.build()?;
        Ok(cluster)
    }

    fn switch(&self) -> String {
        format!("eau2sw-{}", self.id)
    }

    fn host_ns(&self, k: usize) -> String {
        format!("eau2h{k}-{}", self.id)
    }

    /// The address of host `k` (1-based), which is also its name in hostfiles.
    fn addr(k: usize) -> String {
        format!("198.18.0.{k}")
    }

    fn build(&self) -> Result<(), String> {
        let sw = self.switch();
        ip(&["netns", "add", &sw])?;
        ip(&["-n", &sw, "link", "set", "lo", "up"])?;
        ip(&["-n", &sw, "link", "add", "br0", "type", "bridge"])?;
        ip(&["-n", &sw, "link", "set", "br0", "up"])?;
        for k in 1..=HOSTS {
            let ns = self.host_ns(k);
            let (here, there) = (format!("e{}h{k}", self.id), format!("e{}s{k}", self.id));
            ip(&["netns", "add", &ns])?;
            ip(&[
                "link", "add", &here, "netns", &ns, "type", "veth", "peer", "name", &there,
                "netns", &sw,
            ])?;
            ip(&["-n", &ns, "link", "set", "lo", "up"])?;
            let cidr = format!("{}/24", Cluster::addr(k));
            ip(&["-n", &ns, "addr", "add", &cidr, "dev", &here])?;
            ip(&["-n", &ns, "link", "set", &here, "up"])?;
            ip(&["-n", &sw, "link", "set", &there, "master", "br0"])?;
            ip(&["-n", &sw, "link", "set", &there, "up"])?;
        }
        Ok(())
    }

    /// An rsh script: `rsh 198.18.0.K COMMAND...` runs COMMAND on host K, as ssh would,
    /// with host K's own temporary directory ([`Cluster::tmp`]).
    fn rsh(&self) -> PathBuf {
        let path = self.dir.join("rsh");
        let script = format!(
            "#!/bin/sh\n# eau2 multihost test: run COMMAND in host K's namespace.\n\
             host=$1; shift; k=${{host##*.}}\nmkdir -p \"{dir}/tmp-$k\"\n\
             TMPDIR=\"{dir}/tmp-$k\" exec ip netns exec \"eau2h$k-{id}\" sh -c \"$*\"\n",
            dir = self.dir.display(),
            id = self.id
        );
        eau2_testkit::write_script(&path, &script);
        path
    }

    /// An rsh script like [`Cluster::rsh`] that behaves as ssh does when a host goes down
    /// mid-job: it stays outside the host (a parent of the command, as the ssh client is)
    /// and, once the file `gone-K` exists beside it, exits 255, ssh's status for a lost
    /// connection, and refuses to start anything more on host K.
    fn rsh_with_outages(&self) -> PathBuf {
        let path = self.dir.join("rsh-outages");
        let script = format!(
            "#!/bin/sh\n# eau2 multihost test: run COMMAND in host K's namespace, unless K is down.\n\
             host=$1; shift; k=${{host##*.}}; gone=\"{dir}/gone-$k\"\n\
             [ -e \"$gone\" ] && exit 255\nmkdir -p \"{dir}/tmp-$k\"\n\
             TMPDIR=\"{dir}/tmp-$k\" ip netns exec \"eau2h$k-{id}\" sh -c \"$*\"\n\
             r=$?; [ -e \"$gone\" ] && exit 255; exit $r\n",
            dir = self.dir.display(),
            id = self.id
        );
        eau2_testkit::write_script(&path, &script);
        path
    }

    /// Host `k`'s temporary directory (its `TMPDIR`). The hosts share one file system
    /// and one host name, so without it Open MPI's daemons would all make their session
    /// directories under /tmp/ompi.HOSTNAME.UID/ at once and race to create the same
    /// ones ("File exists"), as daemons on real hosts never do.
    fn tmp(&self, k: usize) -> PathBuf {
        let dir = self.dir.join(format!("tmp-{k}"));
        fs::create_dir_all(&dir).expect("creating a host's temporary directory");
        dir
    }

    /// A hostfile naming the hosts, one slot each.
    fn hostfile(&self) -> PathBuf {
        let path = self.dir.join("hostfile");
        let lines: String = (1..=HOSTS)
            .map(|k| format!("{} slots=1\n", Cluster::addr(k)))
            .collect();
        fs::write(&path, format!("# four namespaces\n{lines}")).expect("writing the hostfile");
        path
    }

    /// The processes still running on host `k`.
    fn pids(&self, k: usize) -> Vec<String> {
        let out = Command::new("ip")
            .args(["netns", "pids", &self.host_ns(k)])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        out.split_whitespace().map(str::to_string).collect()
    }

    /// A process on host `k` whose command line (NUL-separated) is `cmdline`.
    fn find(&self, k: usize, cmdline: &str) -> Option<String> {
        self.pids(k).into_iter().find(|pid| {
            fs::read(PathBuf::from("/proc").join(pid).join("cmdline"))
                .map(|c| c.strip_suffix(b"\0").unwrap_or(&c) == cmdline.as_bytes())
                .unwrap_or(false)
        })
    }

    /// Waits (at most 10 s) until no process is left on any host.
    fn assert_empty(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let left: Vec<String> = (1..=HOSTS).flat_map(|k| self.pids(k)).collect();
            if left.is_empty() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "processes left running on the hosts: {left:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn launcher(&self, hosts: &[&str]) -> Command {
        let mut cmd = Command::new(bin("eau2-launch"));
        cmd.args(hosts)
            .arg("--rsh")
            .arg(self.rsh())
            .current_dir(repo_root());
        cmd
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for k in 1..=HOSTS {
            for pid in self.pids(k) {
                let _ = Command::new("kill").args(["-9", &pid]).status();
            }
            let _ = ip(&["netns", "del", &self.host_ns(k)]);
        }
        let _ = ip(&["netns", "del", &self.switch()]);
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("ip {}: {e}", args.join(" ")))?;
    if !out.status.success() {
        return Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(())
}

fn cluster_or_skip() -> Option<Cluster> {
    match Cluster::new() {
        Ok(c) => Some(c),
        Err(why) => {
            println!("SKIPPED: {why}");
            None
        }
    }
}

fn show(run: &Finished) -> String {
    format!(
        "status {}\n--- stdout\n{}\n--- stderr\n{}",
        run.status, run.stdout, run.stderr
    )
}

#[test]
fn linus_over_four_hosts() {
    let Some(cluster) = cluster_or_skip() else {
        return;
    };
    let hostfile = cluster.hostfile();
    let mut cmd = cluster.launcher(&["--hostfile", hostfile.to_str().expect("utf-8 path")]);
    cmd.arg(bin("linus"));
    let run = run_with_deadline(&mut cmd, DEADLINE);
    assert!(
        run.status.success() && run.stdout.lines().any(|l| l == format!("[0] {LAST_STAGE}")),
        "{}",
        show(&run)
    );
    cluster.assert_empty();
}

/// Where `program` is on PATH, if anywhere.
fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(program))
            .find(|p| p.is_file())
    })
}

/// A command run on host 1 (`ip netns exec`), with no eau2 variables.
fn on_host1(cluster: &Cluster, program: &std::path::Path) -> Command {
    let mut cmd = Command::new("ip");
    cmd.args(["netns", "exec", &cluster.host_ns(1)])
        .arg(program)
        .current_dir(repo_root())
        .env("TMPDIR", cluster.tmp(1));
    for var in [
        "EAU2_RANK",
        "EAU2_SIZE",
        "EAU2_MASTER",
        "EAU2_TOKEN",
        "EAU2_JOB_ID",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

fn all_hosts() -> String {
    (1..=HOSTS).map(Cluster::addr).collect::<Vec<_>>().join(",")
}

#[test]
fn mpiexec_hydra_over_four_hosts() {
    let Some(hydra) = which("mpiexec.hydra") else {
        println!("SKIPPED: mpiexec.hydra is not installed (Debian package mpich)");
        return;
    };
    let Some(cluster) = cluster_or_skip() else {
        return;
    };
    let mut cmd = on_host1(&cluster, &hydra);
    // Hydra's proxies call back to mpiexec on host 1's interface.
    cmd.args(["-hosts", &all_hosts(), "-n", "4", "-launcher", "rsh"])
        .arg("-launcher-exec")
        .arg(cluster.rsh())
        .args(["-iface", &format!("e{}h1", cluster.id)])
        .arg(bin("linus"));
    let run = run_with_deadline(&mut cmd, DEADLINE);
    assert!(
        run.status.success() && run.stdout.lines().any(|l| l == LAST_STAGE),
        "{}",
        show(&run)
    );
    cluster.assert_empty();
}

#[test]
fn mpirun_over_four_hosts() {
    let Some(mpirun) = which("mpirun.openmpi") else {
        println!("SKIPPED: mpirun.openmpi is not installed (Debian package openmpi-bin)");
        return;
    };
    let Some(cluster) = cluster_or_skip() else {
        return;
    };
    let mut cmd = on_host1(&cluster, &mpirun);
    // Open MPI's daemons talk over the hosts' subnet; root needs its consent twice.
    cmd.args(["--host", &all_hosts(), "-n", "4", "--mca", "plm_rsh_agent"])
        .arg(cluster.rsh())
        .args(["--mca", "oob_tcp_if_include", "198.18.0.0/24"])
        .arg(bin("linus"))
        .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
    let run = run_with_deadline(&mut cmd, DEADLINE);
    assert!(
        run.status.success() && run.stdout.lines().any(|l| l == LAST_STAGE),
        "{}",
        show(&run)
    );
    cluster.assert_empty();
}

#[test]
fn ranks_run_on_their_hosts() {
    let Some(cluster) = cluster_or_skip() else {
        return;
    };
    let hosts = "198.18.0.1:2,198.18.0.2,198.18.0.3,198.18.0.4";
    let mut cmd = cluster.launcher(&["-H", hosts, "-n", "5"]);
    // Each rank prints the addresses of the host it runs on.
    cmd.args([
        "/bin/sh",
        "-c",
        "ip -4 -o addr show scope global | awk '{print $4}'",
    ]);
    let run = run_with_deadline(&mut cmd, DEADLINE);
    let mut lines = run.stdout_lines_sorted();
    lines.dedup();
    assert_eq!(
        lines,
        [
            "[0] 198.18.0.1/24",
            "[1] 198.18.0.1/24",
            "[2] 198.18.0.2/24",
            "[3] 198.18.0.3/24",
            "[4] 198.18.0.4/24"
        ],
        "{}",
        show(&run)
    );
    assert!(run.status.success(), "{}", show(&run));
}

#[test]
fn a_rank_killed_on_a_remote_host_fails_the_job() {
    let Some(cluster) = cluster_or_skip() else {
        return;
    };
    let hostfile = cluster.hostfile();
    let mut cmd = cluster.launcher(&["--hostfile", hostfile.to_str().expect("utf-8 path")]);
    // Every rank waits a minute; the test kills rank 2 (on host 3) from outside.
    cmd.args(["/bin/sh", "-c", "exec sleep 60"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = cmd.spawn().expect("starting eau2-launch");
    let stderr = child.stderr.take().expect("piped");
    let stderr = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut { stderr }, &mut text);
        text
    });
    let deadline = started + DEADLINE;
    let victim = loop {
        if let Some(pid) = cluster.find(3, "sleep\u{0}60") {
            break pid;
        }
        assert!(Instant::now() < deadline, "rank 2 never started on host 3");
        std::thread::sleep(Duration::from_millis(20));
    };
    let killed = Command::new("kill").args(["-9", &victim]).status();
    assert!(
        killed.map(|s| s.success()).unwrap_or(false),
        "kill -9 {victim}"
    );
    let status = wait_until(&mut child, deadline).expect("eau2-launch ended before the deadline");
    let stderr = stderr.join().expect("stderr reader");
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("rank 2 on 198.18.0.3 failed") && stderr.contains("killed by SIGKILL"),
        "{stderr}"
    );
    // The other ranks were stopped at once, not after their minute.
    assert!(started.elapsed() < Duration::from_secs(30), "{stderr}");
    cluster.assert_empty();
}

/// `--tolerate 1`: every process of host 3 is killed (its rank and, with `outage`, the
/// host is then down for good) in the middle of a collective loop; the job starts again
/// and prints what a fault-free run prints. The victim freezes itself at its 10th
/// collective (`EAU2_TEST_FAULT`), so the test kills it at a known point, not at a guessed
/// moment. `mode` is the probe's: `loop`, or `ckpt` for the loop that resumes from its
/// checkpoints. Returns the launcher's stderr.
fn lose_host_3(cluster: &Cluster, outage: bool, mode: &str) -> String {
    lose_host_3_running(cluster, outage, &bin("tolerate-probe"), &[mode, "30"])
}

/// [`lose_host_3`] for any program: `probe args`.
fn lose_host_3_running(
    cluster: &Cluster,
    outage: bool,
    probe: &std::path::Path,
    args: &[&str],
) -> String {
    lose_hosts(cluster, (outage, &[3], 1), probe, args)
}

/// Runs `probe args` over the four hosts with `--tolerate k`; rank 2 (host 3) freezes at
/// its 10th collective, then every process on each host of `hosts` (3 first) is killed
/// at once, and with `outage` those hosts stay down. Checks that the job succeeds after
/// one restart with the fault-free output, and returns the launcher's stderr.
fn lose_hosts(
    cluster: &Cluster,
    (outage, hosts, k): (bool, &[usize], u32),
    probe: &std::path::Path,
    args: &[&str],
) -> String {
    let hostfile = cluster.hostfile();
    let hostfile = hostfile.to_str().expect("utf-8 path");
    let mut clean = cluster.launcher(&["--hostfile", hostfile]);
    clean.arg(probe).args(args);
    let clean = run_with_deadline(&mut clean, DEADLINE);
    assert!(clean.status.success(), "{}", show(&clean));

    let mut cmd = Command::new(bin("eau2-launch"));
    let rsh = match outage {
        true => cluster.rsh_with_outages(),
        false => cluster.rsh(),
    };
    cmd.args([
        "--hostfile",
        hostfile,
        "--tolerate",
        &k.to_string(),
        "--rsh",
    ])
    .arg(rsh)
    .current_dir(repo_root())
    .arg(probe)
    .args(args)
    .env("EAU2_TEST_FAULT", "2:0:10:stop")
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = cmd.spawn().expect("starting eau2-launch");
    let pipe = |p: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut p) = p {
                let _ = p.read_to_string(&mut text);
            }
            text
        })
    };
    let stdout = pipe(child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = pipe(child.stderr.take().map(|p| Box::new(p) as _));
    let deadline = started + DEADLINE;
    // Rank 2 (host 3) stops itself; then everything on host 3 is killed.
    let stopped = |pid: &String| {
        fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|s| {
                s.rsplit_once(')')
                    .map(|(_, r)| r.trim_start().starts_with('T'))
            })
            .unwrap_or(false)
    };
    while !cluster.pids(3).iter().any(stopped) {
        let ended = child.try_wait().expect("waiting for eau2-launch");
        assert!(ended.is_none(), "eau2-launch ended first: {ended:?}");
        assert!(Instant::now() < deadline, "rank 2 never froze on host 3");
        std::thread::sleep(Duration::from_millis(20));
    }
    for &host in hosts {
        if outage {
            fs::write(cluster.dir.join(format!("gone-{host}")), "").expect("marking a host down");
        }
    }
    for &host in hosts {
        for pid in cluster.pids(host) {
            let _ = Command::new("kill").args(["-9", &pid]).status();
        }
    }
    let status = wait_until(&mut child, deadline).expect("eau2-launch ended before the deadline");
    let (stdout, stderr) = (
        stdout.join().expect("reader"),
        stderr.join().expect("reader"),
    );
    assert!(status.success(), "{status}\n{stderr}");
    assert!(
        stderr.contains("eau2-launch: rank 2 on 198.18.0.3 lost (")
            && stderr.contains(&format!("in epoch 0; restarting (1 of {k})")),
        "{stderr}"
    );
    let sorted = |text: &str| {
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        lines.sort();
        lines
    };
    assert_eq!(sorted(&stdout), sorted(&clean.stdout), "{stderr}");
    cluster.assert_empty();
    stderr
}

/// A host whose processes are all killed but which is still up: the job restarts there.
#[test]
fn a_host_lost_with_tolerate_restarts_the_job() {
    let Some(cluster) = cluster_or_skip() else {
        return;
    };
    let stderr = lose_host_3(&cluster, false, "loop");
    assert!(!stderr.contains("moves to"), "{stderr}");
}

/// A host that is down for good (its rsh command exits 255, as ssh does): the restarted
/// job places its rank on the least loaded remaining host instead.
#[test]
fn a_host_down_with_tolerate_moves_its_ranks() {
    let Some(cluster) = cluster_or_skip() else {
        return;
    };
    let stderr = lose_host_3(&cluster, true, "loop");
    assert!(
        stderr.contains("rsh command failed")
            && stderr.contains("eau2-launch: rank 2 moves to 198.18.0.1"),
        "{stderr}"
    );
}

/// A host down for good with a checkpointed loop (`node.checkpoint`): rank 2 restarts on
/// host 1, where none of its checkpoint files are (each host has its own temporary
/// folder), and resumes from the copy its buddy, rank 3 on host 4, kept. Its 10th
/// collective call is iteration 2's checkpoint commit (a restore, then 3 calls an
/// iteration), so the latest whole checkpoint holds state 2.
#[test]
fn a_host_down_resumes_from_the_buddys_checkpoint_copy() {
    let Some(cluster) = cluster_or_skip() else {
        return;
    };
    let stderr = lose_host_3(&cluster, true, "ckpt");
    assert!(
        stderr.contains("eau2-launch: rank 2 moves to 198.18.0.1"),
        "{stderr}"
    );
    for rank in 0..4 {
        assert!(
            stderr.contains(&format!("rank {rank} resumes at 2")),
            "rank {rank} did not resume at 2:\n{stderr}"
        );
    }
}

/// A host down for good under a job of DistFrame operators (ops-check's pipeline):
/// rank 2 restarts on host 1, where none of its memo files are, and the restarted
/// attempt still resumes the operators completed before the loss, rank 2's part of each
/// from the copy its buddy, rank 3 on host 4, kept. Over four hosts each operator's
/// save is three calls (its own, the buddy copy's exchange, the all-reduce) after the
/// loads (2) and the first operator's agreement (1): the filter is complete after call
/// 6, and rank 2 freezes at call 10, in the group-by.
#[test]
fn a_host_down_resumes_operators_from_the_buddys_copies() {
    let Some(cluster) = cluster_or_skip() else {
        return;
    };
    let args = ["pipeline", "11", "3000", "40", "64"];
    let stderr = lose_host_3_running(&cluster, true, &bin("ops-check"), &args);
    assert!(
        stderr.contains("eau2-launch: rank 2 moves to 198.18.0.1"),
        "{stderr}"
    );
    assert!(
        stderr.contains("resumed 1 operators saved by epoch 0"),
        "{stderr}"
    );
}

/// Two hosts down for good at once under `--tolerate 2`: every operator output has two
/// copies, on the next two hosts, so rank 2's part of the filter survives on host 1
/// although its own file (host 3) and its first copy (rank 3's, host 4) are gone. Ranks
/// 2 and 3 move to hosts 1 and 2, and the restarted attempt resumes the filter.
#[test]
fn two_hosts_down_resume_operators_from_the_second_copies() {
    let Some(cluster) = cluster_or_skip() else {
        return;
    };
    let args = ["pipeline", "11", "3000", "40", "64"];
    let stderr = lose_hosts(&cluster, (true, &[3, 4], 2), &bin("ops-check"), &args);
    for (rank, host) in [(2, 1), (3, 2)] {
        assert!(
            stderr.contains(&format!(
                "eau2-launch: rank {rank} moves to 198.18.0.{host}"
            )),
            "{stderr}"
        );
    }
    assert!(
        stderr.contains("resumed 1 operators saved by epoch 0"),
        "{stderr}"
    );
}

#[test]
fn timeout_and_signals_reach_remote_ranks() {
    let Some(cluster) = cluster_or_skip() else {
        return;
    };
    let hostfile = cluster.hostfile();
    let hostfile = hostfile.to_str().expect("utf-8 path");

    let mut cmd = cluster.launcher(&["--hostfile", hostfile, "--timeout", "1"]);
    cmd.args(["/bin/sleep", "60"]);
    let run = run_with_deadline(&mut cmd, DEADLINE);
    assert_eq!(run.status.code(), Some(124), "{}", show(&run));
    cluster.assert_empty();

    // SIGINT to the launcher reaches every remote rank as SIGINT.
    let mut cmd = cluster.launcher(&["--hostfile", hostfile]);
    cmd.args([
        "/bin/sh",
        "-c",
        "trap 'echo got INT; exit 3' INT; echo ready; while :; do sleep 0.1; done",
    ])
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    // The launcher leaves alone a SIGINT it inherited as ignored (as `nohup` and a
    // non-interactive shell's background jobs ask), so a test run from such a job would
    // wait here for nothing: give it the default disposition, as a terminal would.
    // SAFETY: `signal` is async-signal-safe and the hook allocates nothing.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, || {
            libc::signal(libc::SIGINT, libc::SIG_DFL);
            Ok(())
        });
    }
    let mut child = cmd.spawn().expect("starting eau2-launch");
    let stdout = child.stdout.take().expect("piped");
    // Read stderr as it comes: a pipe nobody reads would stop the launcher once full.
    let mut stderr = child.stderr.take().expect("piped");
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut text);
        text
    });
    let ready = Arc::new(AtomicUsize::new(0));
    let reader = {
        let ready = Arc::clone(&ready);
        std::thread::spawn(move || {
            use std::io::{BufRead, BufReader};
            let mut lines = Vec::new();
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.ends_with("] ready") {
                    ready.fetch_add(1, Ordering::SeqCst);
                }
                lines.push(line);
            }
            lines
        })
    };
    let pid = child.id().to_string();
    let deadline = Instant::now() + DEADLINE;
    let mut sent = false;
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for eau2-launch") {
            break Some(status);
        }
        if Instant::now() >= deadline {
            break wait_until(&mut child, Instant::now());
        }
        // Once every rank has set its trap, interrupt the launcher.
        if !sent && ready.load(Ordering::SeqCst) == HOSTS {
            let _ = Command::new("kill").args(["-INT", &pid]).status();
            sent = true;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let lines = reader.join().expect("reader thread");
    let errors = errors.join().expect("stderr reader thread");
    let Some(status) = status else {
        // Say what was seen, so that a failure here can be told apart: ranks that never
        // said ready, or an interrupt that did not end the job.
        panic!(
            "eau2-launch still ran at the deadline and was killed (ranks ready: {} of \
             {HOSTS}, SIGINT sent: {sent}); its output: {lines:?}; its stderr: {errors}",
            ready.load(Ordering::SeqCst)
        );
    };
    assert_eq!(status.code(), Some(130), "{lines:?} {errors}");
    let got: usize = lines.iter().filter(|l| l.ends_with("] got INT")).count();
    assert_eq!(got, HOSTS, "{lines:?}");
    cluster.assert_empty();
}

trait SortedLines {
    fn stdout_lines_sorted(&self) -> Vec<String>;
}

impl SortedLines for Finished {
    fn stdout_lines_sorted(&self) -> Vec<String> {
        let mut lines: Vec<String> = self.stdout.lines().map(str::to_string).collect();
        lines.sort();
        lines
    }
}
