//! Distributed writes appear whole or not at all, tried the way they break, with real
//! ranks started by eau2-launch: a rank or the launcher killed with SIGKILL at moments
//! spread over the write, two jobs writing one path at once, a disk that fills up. After
//! each, the destination holds exactly the old bytes or exactly a complete new write, and
//! a later write leaves no temporary behind. Files and part folders, on 1 and 3 ranks.

use std::fs::{self, File};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use eau2::frame::CsvWriteOptions;
use eau2_testkit::frames::{all_types, share_start};
use eau2_testkit::{bin, launch_command, run_with_deadline, wait_until, SmallTmpfs};

/// The longest any job may take.
const DEADLINE: Duration = Duration::from_secs(120);
/// Rows of the new write: about 23 MB of CSV, long enough to be killed in the middle.
const ROWS: u64 = 300_000;
/// Kills per kind of trial, at moments spread evenly over an undisturbed write's time.
const TRIALS: usize = 8;
/// What a file or folder that is neither old nor new is called in failure messages.
const NEITHER: &str = "neither the old nor a new write";

/// A fresh folder for one test.
fn scratch(name: &str) -> PathBuf {
    eau2_testkit::scratch(&format!("wsafe-{name}"))
}

/// A file of a write by name and content (one unnamed entry for a single file), as
/// [`expected`] gives them.
type Entry = (String, Vec<u8>);

/// What a write of rows `0..rows` on `n` ranks puts in its file (`parts` false: one
/// entry) or its part files (`part-NNNNN.csv`, one per rank), by name.
fn expected(rows: u64, n: usize, parts: bool) -> Vec<Entry> {
    let csv = CsvWriteOptions::new();
    if !parts {
        let bytes = all_types(0..rows, 4096).to_csv_bytes(&csv).unwrap();
        return vec![(String::new(), bytes)];
    }
    (0..n)
        .map(|r| {
            let mine = share_start(rows, r, n)..share_start(rows, r + 1, n);
            let bytes = all_types(mine, 4096).to_csv_bytes(&csv).unwrap();
            (format!("part-{r:05}.csv"), bytes)
        })
        .collect()
}

/// A file not written by eau2 that a part folder holds; every write must keep it.
const KEPT: (&str, &[u8]) = ("notes.txt", b"the user's own file\n");

/// The old content: a file, or a folder of four part files (more than any job here
/// writes) plus [`KEPT`].
fn old_content(parts: bool) -> Vec<Entry> {
    if !parts {
        return vec![(String::new(), b"old,content\n1,2\n".repeat(1000))];
    }
    (0..4)
        .map(|r| {
            (
                format!("part-{r:05}.csv"),
                format!("old part {r}\n").into_bytes(),
            )
        })
        .collect()
}

/// Puts `content` (see [`expected`]) at `dest`, replacing what is there.
fn put(dest: &Path, parts: bool, content: &[Entry]) {
    let _ = fs::remove_file(dest);
    let _ = fs::remove_dir_all(dest);
    if !parts {
        fs::write(dest, &content[0].1).unwrap();
        return;
    }
    fs::create_dir(dest).unwrap();
    for (name, bytes) in content {
        fs::write(dest.join(name), bytes).unwrap();
    }
    fs::write(dest.join(KEPT.0), KEPT.1).unwrap();
}

/// What `dest` holds now, in the form of [`expected`] ([`KEPT`] left out, after checking
/// that it is there).
fn content(dest: &Path, parts: bool) -> Vec<Entry> {
    if !parts {
        let bytes = fs::read(dest).unwrap_or_else(|e| panic!("reading {}: {e}", dest.display()));
        return vec![(String::new(), bytes)];
    }
    let mut found: Vec<Entry> = fs::read_dir(dest)
        .unwrap_or_else(|e| panic!("listing {}: {e}", dest.display()))
        .map(|e| {
            let e = e.unwrap();
            let name = e.file_name().into_string().unwrap();
            (name, fs::read(e.path()).unwrap())
        })
        .collect();
    found.sort();
    let kept = found.iter().position(|(name, _)| name == KEPT.0);
    let kept = kept.unwrap_or_else(|| panic!("{} lost {}", dest.display(), KEPT.0));
    assert_eq!(found.remove(kept).1, KEPT.1, "{} changed", KEPT.0);
    found
}

/// Which of `candidates` (named) `dest` holds exactly.
fn which<'a>(dest: &Path, parts: bool, candidates: &[(&'a str, &[Entry])]) -> &'a str {
    let now = content(dest, parts);
    candidates
        .iter()
        .find(|(_, c)| *c == now.as_slice())
        .map_or(NEITHER, |(name, _)| name)
}

/// The temporaries eau2 left in `dir`.
fn temporaries(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains(".eau2-tmp-"))
        .collect()
}

/// `write-probe big` on `n` ranks writing rows `0..rows` to `dest`, as a command.
fn big(n: usize, dest: &Path, rows: u64, parts: bool) -> Command {
    let rows = rows.to_string();
    let mode = if parts { "parts" } else { "file" };
    launch_command(
        n,
        &bin("write-probe"),
        &["big", dest.to_str().unwrap(), &rows, mode],
    )
}

/// Runs `write-probe big ... report` on `n` ranks, which must fail on every rank, and
/// returns each rank's error message (the job itself succeeds: the probe reports the
/// failure and ends well, so that the launcher stops no rank before it has printed).
fn failing(n: usize, dest: &Path, rows: u64, parts: bool) -> Vec<String> {
    let rows = rows.to_string();
    let mode = if parts { "parts" } else { "file" };
    let args = ["big", dest.to_str().unwrap(), &rows, mode, "report"];
    let out = run_with_deadline(&mut launch_command(n, &bin("write-probe"), &args), DEADLINE);
    out.assert_success();
    let errors: Vec<String> = out
        .unprefixed_lines()
        .into_iter()
        .filter_map(|l| l.strip_prefix("write failed: ").map(String::from))
        .collect();
    assert_eq!(errors.len(), n, "every rank fails:\n{}", out.stdout);
    errors
}

/// Starts `cmd` with its output going to `log`.
fn start(cmd: &mut Command, log: &Path) -> Child {
    let out = File::create(log).unwrap();
    cmd.stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"))
}

/// Waits until the probe logging to `log` says it starts writing; returns when.
fn wait_for_writing(log: &Path) -> Instant {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let said = fs::read_to_string(log).unwrap_or_default();
        if said.lines().any(|l| l == "[0] writing") {
            return Instant::now();
        }
        assert!(
            Instant::now() < deadline,
            "the probe never started writing:\n{said}"
        );
        thread::sleep(Duration::from_millis(2));
    }
}

/// The processes whose parent is `pid` (the ranks, for a launcher).
fn children(pid: u32) -> Vec<i32> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| {
            let pid_here: i32 = e.file_name().to_str()?.parse().ok()?;
            let stat = fs::read_to_string(e.path().join("stat")).ok()?;
            // The fields after the command name (in parentheses): state, parent, ...
            let rest = &stat[stat.rfind(')')? + 2..];
            let parent: u32 = rest.split(' ').nth(1)?.parse().ok()?;
            (parent == pid).then_some(pid_here)
        })
        .collect()
}

/// Whether process `pid` is gone (or a zombie nobody reaps).
fn gone(pid: i32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rfind(')')
            .is_some_and(|at| stat[at + 2..].starts_with('Z')),
    }
}

fn sigkill(pid: i32) {
    // SAFETY: kill(2) touches no memory; the pid is a process this test started.
    unsafe { libc::kill(pid, libc::SIGKILL) };
}

/// What to kill.
#[derive(Clone, Copy, Debug)]
enum Victim {
    /// One of the ranks (a different one each trial).
    Rank,
    /// The launcher itself (its ranks then die with it).
    Launcher,
}

/// Runs a write undisturbed (it must succeed and give the new content), then
/// [`TRIALS`] writes over the old content, each killed (`victim`) at a moment spread
/// over the undisturbed write's duration (from rank 0's `writing` line to its end): afterwards the destination must hold the old
/// content or the new one. A last write must succeed and leave no temporary.
fn kill_trials(n: usize, parts: bool, victim: Victim) {
    let dir = scratch(&format!("kill-{n}-{parts}-{victim:?}"));
    let dest = dir.join(if parts { "out" } else { "out.csv" });
    let log = dir.join("log");
    let new = expected(ROWS, n, parts);
    let old = old_content(parts);
    let candidates = [("old", old.as_slice()), ("new", new.as_slice())];

    put(&dest, parts, &old);
    let mut job = start(&mut big(n, &dest, ROWS, parts), &log);
    let writing = wait_for_writing(&log);
    let status = wait_until(&mut job, Instant::now() + DEADLINE).expect("the write ended");
    let took = writing.elapsed();
    assert!(status.success(), "{}", fs::read_to_string(&log).unwrap());
    assert_eq!(which(&dest, parts, &candidates), "new");

    let mut outcomes = Vec::new();
    for trial in 0..TRIALS {
        put(&dest, parts, &old);
        let mut job = start(&mut big(n, &dest, ROWS, parts), &log);
        let started = Instant::now();
        wait_for_writing(&log);
        // From just before the write to just after it.
        thread::sleep(took.mul_f64(trial as f64 / (TRIALS - 1) as f64 * 1.1));
        let ranks = children(job.id());
        match victim {
            Victim::Rank => {
                if let Some(&rank) = ranks.get(trial % ranks.len().max(1)) {
                    sigkill(rank);
                }
            }
            Victim::Launcher => sigkill(job.id() as i32),
        }
        let status = wait_until(&mut job, started + DEADLINE);
        let status: ExitStatus = status.expect("the killed job ended within the deadline");
        // Ranks outlive a killed launcher only until they notice (PR_SET_PDEATHSIG).
        let deadline = Instant::now() + Duration::from_secs(30);
        while !ranks.iter().all(|&r| gone(r)) {
            assert!(
                Instant::now() < deadline,
                "ranks {ranks:?} outlived the job"
            );
            thread::sleep(Duration::from_millis(10));
        }
        let now = which(&dest, parts, &candidates);
        let said = fs::read_to_string(&log).unwrap_or_default();
        assert_ne!(now, NEITHER, "trial {trial}, exit {status}:\n{said}");
        if status.success() {
            assert_eq!(now, "new", "the job succeeded without writing:\n{said}");
        }
        outcomes.push(format!("{now}/{}", status.code().unwrap_or(-1)));
    }
    println!("{n} ranks, parts {parts}, {victim:?} killed: {outcomes:?}");

    // The next write sweeps what killed writes left.
    run_with_deadline(&mut big(n, &dest, ROWS, parts), DEADLINE).assert_success();
    assert_eq!(which(&dest, parts, &candidates), "new");
    assert_eq!(temporaries(&dir), Vec::<String>::new(), "stale temporaries");
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_rank_killed_mid_write_leaves_the_old_file_or_the_new_one() {
    kill_trials(3, false, Victim::Rank);
}

#[test]
fn a_killed_launcher_leaves_the_old_file_or_the_new_one() {
    kill_trials(3, false, Victim::Launcher);
}

#[test]
fn a_rank_killed_mid_write_leaves_the_old_parts_or_the_new_ones() {
    kill_trials(3, true, Victim::Rank);
}

#[test]
fn a_killed_launcher_leaves_the_old_parts_or_the_new_ones() {
    kill_trials(3, true, Victim::Launcher);
}

#[test]
fn a_single_rank_killed_mid_write_leaves_old_or_new() {
    kill_trials(1, false, Victim::Rank);
    kill_trials(1, true, Victim::Rank);
}

/// Two jobs (2 and 3 ranks, different rows) write one path at once, several times: both
/// succeed, and the path holds one of the two writes whole.
fn concurrent(parts: bool) {
    let dir = scratch(&format!("race-{parts}"));
    let dest = dir.join(if parts { "out" } else { "out.csv" });
    let (rows_a, rows_b) = (200_000, 150_000);
    let a = expected(rows_a, 2, parts);
    let b = expected(rows_b, 3, parts);
    let old = old_content(parts);
    let candidates = [("a", a.as_slice()), ("b", b.as_slice())];
    let mut won = Vec::new();
    for trial in 0..4 {
        put(&dest, parts, &old);
        let (log_a, log_b) = (dir.join("log-a"), dir.join("log-b"));
        let mut job_a = start(&mut big(2, &dest, rows_a, parts), &log_a);
        let mut job_b = start(&mut big(3, &dest, rows_b, parts), &log_b);
        let end = Instant::now() + DEADLINE;
        for (job, log) in [(&mut job_a, &log_a), (&mut job_b, &log_b)] {
            let status = wait_until(job, end).expect("the job ended within the deadline");
            let said = fs::read_to_string(log).unwrap_or_default();
            assert!(status.success(), "trial {trial}: {status}\n{said}");
        }
        let now = which(&dest, parts, &candidates);
        assert_ne!(now, NEITHER, "trial {trial}");
        won.push(now);
    }
    println!("parts {parts}: the last rename came from {won:?}");
    assert_eq!(temporaries(&dir), Vec::<String>::new(), "stale temporaries");
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn two_jobs_writing_one_file_each_write_it_whole() {
    concurrent(false);
}

#[test]
fn two_jobs_writing_one_part_folder_each_write_it_whole() {
    concurrent(true);
}

/// Bytes free for writing under `dir`.
fn free_bytes(dir: &Path) -> u64 {
    let path = std::ffi::CString::new(dir.to_str().unwrap()).unwrap();
    // SAFETY: statvfs fills the zeroed struct it is given; `path` is NUL-terminated.
    unsafe {
        let mut s: libc::statvfs = std::mem::zeroed();
        assert_eq!(libc::statvfs(path.as_ptr(), &mut s), 0, "statvfs");
        s.f_bavail as u64 * s.f_frsize as u64
    }
}

/// A 36 MB write onto a 20 MiB tmpfs holding a 1.6 MB old file (or folder): every rank
/// reports the failure naming the destination, the old content is intact, no temporary
/// is left and the space is free again.
#[test]
fn a_full_disk_fails_the_write_on_every_rank_and_keeps_the_old_content() {
    let mnt = match SmallTmpfs::mount("tmpfs", "20m") {
        Ok(mnt) => mnt,
        Err(why) => {
            println!("SKIPPED: {why}");
            return;
        }
    };
    let empty = free_bytes(&mnt.0);
    for parts in [false, true] {
        let dest = mnt.0.join(if parts { "out" } else { "out.csv" });
        let old = old_content(parts);
        put(&dest, parts, &old);
        let before = free_bytes(&mnt.0);
        let errors = failing(3, &dest, 470_000, parts);
        let named = format!("{} was not written", dest.display());
        for e in &errors {
            assert!(e.starts_with(&named), "{e}");
            assert!(e.contains("No space left"), "{e}");
        }
        // Every rank names the same failing rank.
        let blamed = |e: &String| e.split("rank ").nth(1).map(|r| r[..1].to_string());
        assert!(
            errors.iter().all(|e| blamed(e) == blamed(&errors[0])),
            "{errors:?}"
        );
        assert_eq!(which(&dest, parts, &[("old", old.as_slice())]), "old");
        assert_eq!(
            temporaries(&mnt.0),
            Vec::<String>::new(),
            "stale temporaries"
        );
        assert_eq!(
            free_bytes(&mnt.0),
            before,
            "space not given back (empty: {empty})"
        );
    }
}

/// A temporary some process holds a lock on (a job writing) survives the next write's
/// sweep; one nobody holds (a killed job's) is removed; other hidden files stay.
#[test]
fn the_sweep_removes_only_temporaries_nobody_holds() {
    let dir = scratch("sweep");
    let dest = dir.join("out.csv");
    let live = dir.join(".out.csv.eau2-tmp-1-2-3");
    let dead = dir.join(".out.csv.eau2-tmp-4-5-6");
    let dead_dir = dir.join(".out.csv.eau2-tmp-7-8-9-gone-10");
    let other = dir.join(".other.csv.eau2-tmp-1-2-3");
    for path in [&live, &dead, &other] {
        fs::write(path, "partial").unwrap();
    }
    fs::create_dir_all(dead_dir.join("sub")).unwrap();
    fs::write(dead_dir.join("sub/part-00000.csv"), "partial").unwrap();
    let held = File::open(&live).unwrap();
    // SAFETY: flock on a descriptor `held` keeps open.
    assert_eq!(unsafe { libc::flock(held.as_raw_fd(), libc::LOCK_SH) }, 0);

    run_with_deadline(&mut big(2, &dest, 1000, false), DEADLINE).assert_success();
    let new = expected(1000, 2, false);
    assert_eq!(which(&dest, false, &[("new", new.as_slice())]), "new");
    assert!(live.exists(), "a held temporary was removed");
    assert!(other.exists(), "another file's temporary was removed");
    assert!(
        !dead.exists() && !dead_dir.exists(),
        "a stale temporary stayed"
    );
    drop(held);
    fs::remove_dir_all(&dir).unwrap();
}

/// A symbolic link as the destination: the file it leads to is replaced, the link stays.
#[test]
fn writing_through_a_symlink_replaces_its_target() {
    let dir = scratch("symlink");
    let target = dir.join("real.csv");
    let link = dir.join("link.csv");
    fs::write(&target, "old").unwrap();
    std::os::unix::fs::symlink(&target, &link).unwrap();
    run_with_deadline(&mut big(2, &link, 1000, false), DEADLINE).assert_success();
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    let new = expected(1000, 2, false);
    assert_eq!(which(&target, false, &[("new", new.as_slice())]), "new");
    assert_eq!(temporaries(&dir), Vec::<String>::new());
    fs::remove_dir_all(&dir).unwrap();
}

/// Part files into a folder holding a subfolder (which the swap would drop), or into a
/// path that is a file: refused on every rank, nothing changed, nothing left behind.
#[test]
fn part_folders_that_cannot_be_replaced_whole_are_refused() {
    let dir = scratch("refused");
    let dest = dir.join("out");
    let old = old_content(true);
    put(&dest, true, &old);
    fs::create_dir(dest.join("sub")).unwrap();
    for e in failing(2, &dest, 1000, true) {
        assert!(e.contains("neither a part file"), "{e}");
    }
    fs::remove_dir(dest.join("sub")).unwrap();
    assert_eq!(which(&dest, true, &[("old", old.as_slice())]), "old");

    let file = dir.join("file");
    fs::write(&file, "a file").unwrap();
    for e in failing(2, &file, 1000, true) {
        assert!(e.contains("is not a folder"), "{e}");
    }
    assert_eq!(fs::read(&file).unwrap(), b"a file");
    assert_eq!(temporaries(&dir), Vec::<String>::new());
    fs::remove_dir_all(&dir).unwrap();
}

/// The old part folder's other files survive the swap, whatever their names; its parts
/// of another format do too, and its parts of this format are replaced.
#[test]
fn a_part_folder_keeps_its_other_files() {
    use std::os::unix::ffi::OsStrExt;
    let dir = scratch("others");
    let dest = dir.join("out");
    put(&dest, true, &old_content(true));
    let odd = dest.join(std::ffi::OsStr::from_bytes(b"not-utf8-\xff.bin"));
    fs::write(&odd, "odd").unwrap();
    fs::write(dest.join("part-00000.sor"), "sor part").unwrap();
    run_with_deadline(&mut big(2, &dest, 1000, true), DEADLINE).assert_success();
    assert_eq!(fs::read(&odd).unwrap(), b"odd");
    assert_eq!(fs::read(dest.join("part-00000.sor")).unwrap(), b"sor part");
    fs::remove_file(&odd).unwrap();
    fs::remove_file(dest.join("part-00000.sor")).unwrap();
    let new = expected(1000, 2, true);
    assert_eq!(which(&dest, true, &[("new", new.as_slice())]), "new");
    assert_eq!(temporaries(&dir), Vec::<String>::new());
    fs::remove_dir_all(&dir).unwrap();
}
