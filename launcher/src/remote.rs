//! Starting a rank on another host: `RSH HOST COMMAND...`, as Open MPI calls its
//! `plm_rsh_agent` (`ssh` by default).
//!
//! COMMAND is `exec /bin/sh -c SCRIPT`, whatever the user's login shell, with SCRIPT a
//! small POSIX shell script quoted so that `ssh`, which joins its arguments with spaces
//! for the remote shell, and an rsh script that runs `sh -c "$*"` both hand it over
//! unchanged. It
//! 1. goes to the launcher's working directory (when the host has it), so relative paths
//!    in the arguments mean the same everywhere, as under `mpirun`;
//! 2. starts a watcher in the background that reads signal names (`TERM`, `INT`, `HUP`,
//!    `KILL`), one per line, from the script's stdin, which is a pipe from the launcher
//!    carried by the rsh command, and sends each to the script's process group (the rank
//!    and whatever it started, as a local job's group signal does); at end of file (the
//!    launcher, or the rsh connection, is gone) it kills the group, so no rank runs on
//!    unsupervised. (A signal it forwards reaches the watcher too: it catches it, and a
//!    `read` so interrupted, status above 128, is no end of file.)
//! 3. runs the program in the foreground with the job's variables and stdin from
//!    `/dev/null`. Not in the background: a non-interactive shell starts background
//!    commands with SIGINT ignored, and a forwarded Ctrl-C would then do nothing. The
//!    script itself catches the signals it forwards (a no-op trap, reset for the program
//!    by exec) so that it lives on to report the program's status;
//! 4. exits with the program's status (128 + N when it died of signal N).
//!
//! The rsh command must give the script a process group of its own, as `ssh` does (sshd
//! starts each command in a new session); the launcher starts the rsh command in its own
//! group too, for rsh commands that stay on this machine.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::Command;

/// The words of the remote command for one rank.
pub fn remote_words(
    cwd: Option<&Path>,
    env: &[(String, String)],
    program: &Path,
    args: &[OsString],
) -> Vec<OsString> {
    let mut script: Vec<u8> = Vec::new();
    if let Some(cwd) = cwd {
        script.extend_from_slice(b"cd ");
        script.extend_from_slice(&quote(cwd.as_os_str()));
        script.extend_from_slice(b" 2>/dev/null || cd; ");
    }
    // Keep our stdin (the signal pipe) on fd 3: a background list's stdin is /dev/null.
    script.extend_from_slice(
        b"exec 3<&0; trap : INT TERM HUP QUIT; \
          (trap : INT TERM HUP QUIT; while :; do if read -r s; then kill -s \"$s\" 0; \
          elif [ $? -le 128 ]; then break; fi; done; kill -s KILL 0) \
          <&3 >/dev/null 2>&1 & w=$!; exec 3<&-; ",
    );
    for (name, value) in env {
        script.extend_from_slice(name.as_bytes());
        script.push(b'=');
        script.extend_from_slice(&quote(OsStr::new(value)));
        script.push(b' ');
    }
    script.extend_from_slice(&quote(program.as_os_str()));
    for arg in args {
        script.push(b' ');
        script.extend_from_slice(&quote(arg));
    }
    script.extend_from_slice(b" </dev/null; r=$?; kill -s KILL \"$w\" 2>/dev/null; exit \"$r\"");
    // Handed to `sh` explicitly: ssh runs the command with the user's login shell, which
    // may be csh or another that does not read this script's syntax. One word: `ssh` joins
    // words with spaces anyway, and `sh -c "$*"` sees the same text.
    let mut command = b"exec /bin/sh -c ".to_vec();
    command.extend_from_slice(&quote(OsStr::from_bytes(&script)));
    vec![OsString::from(OsStr::from_bytes(&command))]
}

/// The variables of the launcher's environment that remote ranks get too: every `EAU2_*`
/// one but those the launcher sets itself (`ours`), and `RUST_BACKTRACE`. Names that are
/// not plain shell identifiers, and values that are not UTF-8, are left out.
pub fn forwarded_vars(
    vars: impl Iterator<Item = (OsString, OsString)>,
    ours: &[&str],
) -> Vec<(String, String)> {
    vars.filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .filter(|(k, _)| {
            (k.starts_with("EAU2_") || k == "RUST_BACKTRACE")
                && !ours.contains(&k.as_str())
                && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        })
        .collect()
}

/// The rsh command line for `host`: the words of `rsh` (split on white space, so
/// `--rsh "ssh -p 2222"` works), the host, then the remote command.
pub fn rsh_command(rsh: &[String], host: &str, words: &[OsString]) -> Option<Command> {
    let (program, fixed) = rsh.split_first()?;
    let mut command = Command::new(program);
    command.args(fixed).arg(host).args(words);
    Some(command)
}

/// The words of the rsh command (`--rsh`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rsh(pub Vec<String>);

/// Splits `--rsh`'s value into words; an error when it has none.
pub fn parse_rsh(text: &str) -> Result<Rsh, String> {
    let words: Vec<String> = text.split_ascii_whitespace().map(str::to_string).collect();
    if words.is_empty() {
        return Err("--rsh needs a command".into());
    }
    Ok(Rsh(words))
}

/// Whether `host` names this machine, so that its ranks are started directly.
pub fn is_local(host: &str, this_host: &str) -> bool {
    host == "localhost"
        || host == "127.0.0.1"
        || host == "::1"
        || (!this_host.is_empty()
            && (host == this_host || host.split('.').next() == this_host.split('.').next()))
}

/// This machine's host name, or "" when it cannot be read.
pub fn this_host() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most buf.len() bytes into buf.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return String::new();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// Quotes a word for a POSIX shell: `'...'`, each `'` inside written `'\''`.
fn quote(word: &OsStr) -> Vec<u8> {
    let mut out = vec![b'\''];
    for &b in word.as_bytes() {
        if b == b'\'' {
            out.extend_from_slice(b"'\\''");
        } else {
            out.push(b);
        }
    }
    out.push(b'\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::unix::process::{CommandExt, ExitStatusExt};
    use std::process::Stdio;

    fn run_holding_stdin(script: &OsStr) -> std::process::Output {
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(script)
            .process_group(0)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take();
        let out = child.wait_with_output().unwrap();
        drop(stdin);
        out
    }

    #[test]
    fn quoting_survives_a_shell() {
        let args: Vec<OsString> = ["a b", "it's", "$HOME", "", "-n"]
            .iter()
            .map(OsString::from)
            .collect();
        let words = remote_words(
            Some(Path::new("/")),
            &[("EAU2_RANK".into(), "3".into())],
            Path::new("/bin/sh"),
            &[
                OsString::from("-c"),
                OsString::from("printf '<%s>' \"$EAU2_RANK\" \"$@\""),
                OsString::from("sh"),
            ]
            .into_iter()
            .chain(args)
            .collect::<Vec<_>>(),
        );
        // As an rsh script would: sh -c "$*". The launcher holds stdin open while the
        // rank runs (end of file means "the launcher is gone").
        let out = run_holding_stdin(&words[0]);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "<3><a b><it's><$HOME><><-n>"
        );
        assert!(out.status.success());
    }

    #[test]
    fn signals_arrive_through_stdin_and_eof_kills() {
        use std::io::{BufRead, BufReader};
        let args = ["-c".into(), "echo ready; exec sleep 30".into()];
        let words = remote_words(None, &[], Path::new("/bin/sh"), &args);
        let start = || {
            let mut child = Command::new("sh")
                .arg("-c")
                .arg(&words[0])
                .process_group(0)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            // Signals are forwarded once the program runs (the launcher sends none sooner
            // than a poll after the start; one sent before the program's exec would be lost,
            // and the launcher's SIGKILL after its grace period still ends the rank).
            let mut line = String::new();
            BufReader::new(child.stdout.take().unwrap())
                .read_line(&mut line)
                .unwrap();
            assert_eq!(line, "ready\n");
            child
        };
        let mut child = start();
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"TERM\n").unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(128 + libc::SIGTERM), "{status:?}");
        drop(stdin);

        let mut child = start();
        drop(child.stdin.take());
        let status = child.wait().unwrap();
        assert_eq!(status.signal(), Some(libc::SIGKILL), "{status:?}");
    }

    #[test]
    fn exit_status_is_the_programs() {
        let words = remote_words(
            None,
            &[],
            Path::new("/bin/sh"),
            &["-c".into(), "exit 7".into()],
        );
        assert_eq!(run_holding_stdin(&words[0]).status.code(), Some(7));
    }

    #[test]
    fn user_settings_are_forwarded() {
        let vars = [
            ("EAU2_LOG", "debug"),
            ("EAU2_RANK", "9"),
            ("PATH", "/bin"),
            ("RUST_BACKTRACE", "1"),
            ("EAU2_X-Y", "bad name"),
        ]
        .map(|(k, v)| (OsString::from(k), OsString::from(v)));
        let got = forwarded_vars(vars.into_iter(), &["EAU2_RANK"]);
        assert_eq!(
            got,
            [("EAU2_LOG", "debug"), ("RUST_BACKTRACE", "1")].map(|(k, v)| (k.into(), v.into()))
        );
    }

    #[test]
    fn rsh_words_and_local_names() {
        assert_eq!(
            parse_rsh(" ssh  -p 2222 ").unwrap().0,
            ["ssh", "-p", "2222"]
        );
        assert!(parse_rsh("  ").is_err());
        let cmd = rsh_command(&["ssh".into(), "-x".into()], "h1", &["cmd".into()]).unwrap();
        let argv: Vec<&OsStr> = cmd.get_args().collect();
        assert_eq!(cmd.get_program(), "ssh");
        assert_eq!(argv, ["-x", "h1", "cmd"]);
        assert!(is_local("localhost", "vm"));
        assert!(is_local("vm.example", "vm"));
        assert!(!is_local("198.18.0.2", "vm"));
    }
}
