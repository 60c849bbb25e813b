//! The launcher's own signal handling.
//!
//! SIGINT, SIGTERM and SIGHUP sent to the launcher must reach the ranks, which live in their
//! own process group (see `spawn`) and so do not get the terminal's Ctrl-C themselves. The
//! handler only records the signal in atomics, the one thing that is async-signal-safe; the
//! monitor loop, which wakes every few milliseconds anyway, notices and does the forwarding.
//!
//! SIGHUP is caught as well as the two the job's contract names because a closed terminal
//! would otherwise kill the launcher and leave the ranks running without it.

use std::io;
use std::mem;
use std::ptr;
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};

use libc::c_int;

/// The signals whose arrival stops the job and is forwarded to every rank.
const CAUGHT: [c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

/// The first caught signal, or 0 before any arrived. The first one decides the exit status.
static FIRST: AtomicI32 = AtomicI32::new(0);

/// How many caught signals arrived; a later one while the job is stopping means "hurry".
static COUNT: AtomicUsize = AtomicUsize::new(0);

/// The handler: atomics only, nothing that allocates or locks.
extern "C" fn record(signal: c_int) {
    let _ = FIRST.compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst);
    COUNT.fetch_add(1, Ordering::SeqCst);
}

/// Installs the handlers. Call before spawning any rank so no signal slips through.
///
/// A signal the launcher inherited as ignored stays ignored: that is how `nohup` and
/// background jobs of non-interactive shells ask to be left alone.
///
/// SIGCHLD is reset to its default because an inherited "ignore" would make the kernel reap
/// the ranks itself, and the launcher could no longer learn how they ended.
pub fn install() -> io::Result<()> {
    // SAFETY: `sigaction` is given valid pointers to fully initialized structs, and the
    // handler installed is async-signal-safe (it only touches atomics).
    unsafe {
        let mut default: libc::sigaction = mem::zeroed();
        default.sa_sigaction = libc::SIG_DFL;
        libc::sigemptyset(&mut default.sa_mask);
        if libc::sigaction(libc::SIGCHLD, &default, ptr::null_mut()) != 0 {
            return Err(io::Error::last_os_error());
        }

        for signal in CAUGHT {
            let mut old: libc::sigaction = mem::zeroed();
            if libc::sigaction(signal, ptr::null(), &mut old) != 0 {
                return Err(io::Error::last_os_error());
            }
            if old.sa_sigaction == libc::SIG_IGN {
                continue;
            }
            let mut action: libc::sigaction = mem::zeroed();
            action.sa_sigaction = record as extern "C" fn(c_int) as libc::sighandler_t;
            libc::sigemptyset(&mut action.sa_mask);
            // Restarting keeps the output threads' blocking reads and writes from failing
            // with EINTR just because a signal landed on their thread.
            action.sa_flags = libc::SA_RESTART;
            if libc::sigaction(signal, &action, ptr::null_mut()) != 0 {
                return Err(io::Error::last_os_error());
            }
        }
    }
    Ok(())
}

/// The first caught signal, if any has arrived.
pub fn first() -> Option<c_int> {
    match FIRST.load(Ordering::SeqCst) {
        0 => None,
        signal => Some(signal),
    }
}

/// How many caught signals have arrived so far.
pub fn count() -> usize {
    COUNT.load(Ordering::SeqCst)
}
