//! What the job's ranks run on, learnt once by one small all-gather at the first call
//! that needs it: whether some machine runs more ranks than it has CPUs.
//!
//! On such a crowded job the ranks' message copies (loopback or not) compete for the
//! same cores, so the bytes a collective moves in all, not its number of steps, set its
//! time, and a collective may pick its algorithm for that (`Comm::all_reduce`).

use bytes::Bytes;

use super::op::{Kind, Op};
use crate::endpoint::Comm;
use crate::error::{Error, Result};

impl Comm {
    /// Collective the first time (every rank must call it at the same point, which
    /// typed calls of one value type do), cached after: whether some machine of the job
    /// runs more ranks than it has CPUs online.
    pub(crate) fn crowded(&self) -> Result<bool> {
        if let Some(&crowded) = self.crowded.get() {
            return Ok(crowded);
        }
        let mine = [machine_id(self.rank()), cpus_online()];
        let mut all: Vec<[u64; 2]> = Vec::with_capacity(self.size());
        let body = Bytes::copy_from_slice(bytemuck::cast_slice(&mine));
        self.all_gather_as(Op::plain(Kind::Layout), body, |from, bytes| {
            let words = <[u64; 2]>::try_from(bytemuck::pod_collect_to_vec::<u8, u64>(bytes))
                .map_err(|_| {
                    Error::Protocol(format!(
                        "rank {from} sent a layout of {} bytes",
                        bytes.len()
                    ))
                })?;
            all.push(words);
            Ok(())
        })?;
        let crowded = all.iter().any(|&[machine, cpus]| {
            let ranks = all.iter().filter(|[m, _]| *m == machine).count() as u64;
            ranks > cpus
        });
        Ok(*self.crowded.get_or_init(|| crowded))
    }
}

/// An id of the machine (the running kernel) this process runs on: ranks in network
/// namespaces or containers of one machine share its CPUs and its id. Where the kernel
/// does not say, an id of this rank alone, so that it never counts as crowded.
fn machine_id(rank: usize) -> u64 {
    use std::hash::{Hash, Hasher};
    match std::fs::read_to_string("/proc/sys/kernel/random/boot_id") {
        Ok(id) => {
            // `DefaultHasher::new` has fixed keys: every process hashes alike.
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            id.trim().hash(&mut hasher);
            hasher.finish() | 1 << 63
        }
        Err(_) => rank as u64,
    }
}

/// The CPUs online on this machine (not this process's share of them: ranks bound to
/// distinct cores do not compete).
fn cpus_online() -> u64 {
    #[cfg(unix)]
    {
        // SAFETY: sysconf only reads a system setting.
        let online = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
        if online > 0 {
            return online as u64;
        }
    }
    std::thread::available_parallelism().map_or(1, |n| n.get() as u64)
}
