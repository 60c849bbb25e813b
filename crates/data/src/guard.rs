//! Surviving a memory-mapped file that shrinks during a read.
//!
//! Touching a page of a mapping past the end of a file that another process truncated
//! raises SIGBUS, which kills the process with no message. While a [`Guard`] is alive,
//! a SIGBUS handler recognises faults inside its mapping, maps a page of zeros over the
//! missing page so the reader carries on, and marks the guard [hit](Guard::hit); the
//! reader then reports that the file changed instead of a result. Faults anywhere else
//! go to the handler that was there before (by default, death by SIGBUS, as without us).
//!
//! The handler only reads atomics, calls `mmap` and `sigaction` (plain system calls on
//! Linux), and allocates nothing: what a signal handler may do.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, Once};

/// How many mappings may be guarded at once; more are read unguarded (as before).
const SLOTS: usize = 64;

struct Slot {
    start: AtomicUsize,
    len: AtomicUsize,
    hit: AtomicBool,
}

#[allow(clippy::declare_interior_mutable_const)]
const FREE: Slot = Slot {
    start: AtomicUsize::new(0),
    len: AtomicUsize::new(0),
    hit: AtomicBool::new(false),
};

static GUARDED: [Slot; SLOTS] = [FREE; SLOTS];
/// Serialises taking and freeing slots (never touched by the handler).
static CLAIM: Mutex<()> = Mutex::new(());
static INSTALL: Once = Once::new();
static PAGE: AtomicUsize = AtomicUsize::new(4096);
/// The SIGBUS action before ours, to hand foreign faults back to.
static mut PREVIOUS: Option<libc::sigaction> = None;

/// Watches the memory `start..start + len` (a file mapping) for SIGBUS until dropped.
/// Other readers of mapped files (linus maps its input block by block) use it too, as
/// [`MapGuard`](crate::sor::MapGuard).
pub struct Guard {
    slot: Option<usize>,
}

impl Guard {
    /// Guards `bytes`, which must be a mapping that outlives the guard.
    pub fn new(bytes: &[u8]) -> Guard {
        INSTALL.call_once(install);
        let _claim = CLAIM.lock().unwrap_or_else(|e| e.into_inner());
        let slot = GUARDED
            .iter()
            .position(|s| s.len.load(Ordering::Acquire) == 0);
        if let Some(i) = slot {
            let s = &GUARDED[i];
            s.hit.store(false, Ordering::Release);
            s.start.store(bytes.as_ptr() as usize, Ordering::Release);
            s.len.store(bytes.len(), Ordering::Release);
        }
        Guard { slot }
    }

    /// Whether a page of the mapping was gone when touched (the file shrank).
    pub fn hit(&self) -> bool {
        self.slot
            .is_some_and(|i| GUARDED[i].hit.load(Ordering::Acquire))
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(i) = self.slot {
            let _claim = CLAIM.lock().unwrap_or_else(|e| e.into_inner());
            GUARDED[i].len.store(0, Ordering::Release);
            GUARDED[i].start.store(0, Ordering::Release);
        }
    }
}

fn install() {
    // SAFETY: sysconf and sigaction have no memory-safety preconditions; the structs
    // passed are fully initialised. PREVIOUS is written here once, under the Once, before
    // the handler that reads it can run.
    unsafe {
        let page = libc::sysconf(libc::_SC_PAGESIZE);
        if page > 0 {
            PAGE.store(page as usize, Ordering::Release);
        }
        let mut ours: libc::sigaction = std::mem::zeroed();
        let handler: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
            on_sigbus;
        ours.sa_sigaction = handler as *const () as usize;
        ours.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
        libc::sigemptyset(&mut ours.sa_mask);
        let mut previous: libc::sigaction = std::mem::zeroed();
        if libc::sigaction(libc::SIGBUS, &ours, &mut previous) == 0 {
            PREVIOUS = Some(previous);
        }
    }
}

extern "C" fn on_sigbus(
    _signal: libc::c_int,
    info: *mut libc::siginfo_t,
    _context: *mut libc::c_void,
) {
    // SAFETY: the kernel passes a valid siginfo for an SA_SIGINFO handler; si_addr is
    // the faulting address for SIGBUS.
    let addr = unsafe { (*info).si_addr() } as usize;
    let page = PAGE.load(Ordering::Acquire);
    for slot in &GUARDED {
        let start = slot.start.load(Ordering::Acquire);
        let len = slot.len.load(Ordering::Acquire);
        if len > 0 && addr >= start && addr < start + len {
            let at = addr & !(page - 1);
            // SAFETY: the page lies inside a live file mapping that this process owns
            // (the guard outlives the reads); replacing it with private zeros only
            // changes what the reader sees there, and the read is then reported as failed.
            let mapped = unsafe {
                libc::mmap(
                    at as *mut libc::c_void,
                    page,
                    libc::PROT_READ,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                    -1,
                    0,
                )
            };
            if mapped != libc::MAP_FAILED {
                slot.hit.store(true, Ordering::Release);
                return;
            }
        }
    }
    // Not ours: put the previous action back; returning re-runs the faulting access,
    // which then meets it.
    // SAFETY: PREVIOUS was set before this handler was installed and never changes.
    unsafe {
        let previous = std::ptr::addr_of!(PREVIOUS).read();
        match previous {
            Some(action) => libc::sigaction(libc::SIGBUS, &action, std::ptr::null_mut()),
            None => libc::signal(libc::SIGBUS, libc::SIG_DFL) as libc::c_int,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A mapped file truncated under the reader: reading on gives zeros instead of a
    /// SIGBUS, and the guard says so.
    #[test]
    fn a_truncated_mapping_reads_zeros_and_is_noticed() {
        let path = std::env::temp_dir().join(format!("eau2-guard-{}", std::process::id()));
        let mut file = std::fs::File::create(&path).unwrap();
        file.write_all(&vec![7u8; 1 << 20]).unwrap();
        let file = std::fs::File::open(&path).unwrap();
        // SAFETY: a test file only this test touches; it is truncated on purpose.
        let map = unsafe { memmap2::Mmap::map(&file) }.unwrap();
        let guard = Guard::new(&map);
        assert!(!guard.hit());
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(4096)
            .unwrap();
        let sum: u64 = map.iter().map(|&b| b as u64).sum();
        assert_eq!(sum, 7 * 4096, "the pages past the new end read as zeros");
        assert!(guard.hit());
        drop(guard);
        drop(map);
        let _ = std::fs::remove_file(&path);
    }
}
