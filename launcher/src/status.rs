//! How a rank ended, and how to find out without reaping it.
//!
//! The launcher signals the ranks as a process group whose id is rank 0's pid. The kernel
//! keeps that id from being reused only while some member of the group, even a zombie,
//! still exists. So the monitor only *peeks* at exits (`waitid` with `WNOWAIT`) and reaps
//! the ranks after the last signal to the group has been sent: a group signal can then never
//! hit an unrelated process that inherited a recycled id.

use std::fmt;
use std::io;
use std::mem;

use libc::{c_int, pid_t};

/// The end of one rank.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// The rank returned from main or called exit with this code.
    Exited(i32),
    /// The rank was terminated by a signal.
    Signaled {
        /// The signal number.
        signal: c_int,
        /// Whether the kernel wrote a core dump.
        core_dumped: bool,
    },
}

impl Status {
    /// Only a zero exit code counts as success.
    pub fn success(self) -> bool {
        self == Status::Exited(0)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Status::Exited(code) => write!(f, "exit status {code}"),
            Status::Signaled {
                signal,
                core_dumped,
            } => {
                write!(f, "killed by signal {signal} ({})", signal_name(signal))?;
                if core_dumped {
                    write!(f, ", core dumped")?;
                }
                Ok(())
            }
        }
    }
}

/// The conventional name of a signal, such as `SIGKILL`, for messages.
///
/// Matched against libc's constants rather than a table of numbers because the numbers
/// differ between platforms (SIGBUS is 7 on Linux and 10 on macOS).
pub fn signal_name(signal: c_int) -> &'static str {
    match signal {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGTRAP => "SIGTRAP",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGUSR1 => "SIGUSR1",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGUSR2 => "SIGUSR2",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGALRM => "SIGALRM",
        libc::SIGTERM => "SIGTERM",
        libc::SIGCHLD => "SIGCHLD",
        libc::SIGCONT => "SIGCONT",
        libc::SIGSTOP => "SIGSTOP",
        libc::SIGTSTP => "SIGTSTP",
        libc::SIGTTIN => "SIGTTIN",
        libc::SIGTTOU => "SIGTTOU",
        libc::SIGURG => "SIGURG",
        libc::SIGXCPU => "SIGXCPU",
        libc::SIGXFSZ => "SIGXFSZ",
        libc::SIGVTALRM => "SIGVTALRM",
        libc::SIGPROF => "SIGPROF",
        libc::SIGWINCH => "SIGWINCH",
        libc::SIGIO => "SIGIO",
        libc::SIGSYS => "SIGSYS",
        _ => "unknown signal",
    }
}

/// Reports whether child `pid` has exited, leaving it unreaped (a zombie) if it has.
///
/// Never blocks. Fails only if `pid` is not an unreaped child of this process, which for the
/// launcher's own ranks would be a bug.
pub fn peek_exit(pid: pid_t) -> io::Result<Option<Status>> {
    loop {
        // SAFETY: an all-zero siginfo_t is a valid value, and with WNOHANG the kernel leaves
        // si_pid at 0 when the child has not exited, which is how "still running" is told.
        let mut info: libc::siginfo_t = unsafe { mem::zeroed() };
        // SAFETY: `info` is a valid, writable siginfo_t.
        let rc = unsafe {
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
            )
        };
        if rc != 0 {
            let err = io::Error::last_os_error();
            if err.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(err);
        }
        // SAFETY: after a successful waitid the SIGCHLD fields of the union are the ones set.
        let (child, value) = unsafe { (info.si_pid(), info.si_status()) };
        if child == 0 {
            return Ok(None);
        }
        return Ok(Some(match info.si_code {
            libc::CLD_EXITED => Status::Exited(value),
            code => Status::Signaled {
                signal: value,
                core_dumped: code == libc::CLD_DUMPED,
            },
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;
    use std::time::{Duration, Instant};

    #[test]
    fn statuses_read_like_the_spec() {
        assert_eq!(Status::Exited(3).to_string(), "exit status 3");
        let killed = Status::Signaled {
            signal: libc::SIGKILL,
            core_dumped: false,
        };
        assert_eq!(killed.to_string(), "killed by signal 9 (SIGKILL)");
        let dumped = Status::Signaled {
            signal: libc::SIGSEGV,
            core_dumped: true,
        };
        assert_eq!(
            dumped.to_string(),
            "killed by signal 11 (SIGSEGV), core dumped"
        );
        assert!(Status::Exited(0).success());
        assert!(!Status::Exited(1).success());
        assert_eq!(signal_name(1000), "unknown signal");
    }

    /// Waits (with a deadline) for `peek_exit` to report an end.
    fn peek_until_exit(pid: pid_t) -> Status {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = peek_exit(pid).unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "child {pid} did not exit");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn peeking_sees_exit_codes_and_signals_without_reaping() {
        let mut child = Command::new("/bin/sh")
            .args(["-c", "exit 7"])
            .spawn()
            .unwrap();
        let pid = child.id() as pid_t;
        assert_eq!(peek_until_exit(pid), Status::Exited(7));
        // Still a zombie: peeking again gives the same answer and std can still reap it.
        assert_eq!(peek_exit(pid).unwrap(), Some(Status::Exited(7)));
        assert_eq!(child.wait().unwrap().code(), Some(7));

        let mut child = Command::new("/bin/sh")
            .args(["-c", "kill -USR1 $$"])
            .spawn()
            .unwrap();
        let status = peek_until_exit(child.id() as pid_t);
        assert_eq!(
            status,
            Status::Signaled {
                signal: libc::SIGUSR1,
                core_dumped: false
            }
        );
        child.wait().unwrap();
    }
}
