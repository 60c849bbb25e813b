//! The SPMD runtime: a rank's context, collectives, and the program entry point.
//!
//! A program's life, as [`run`] drives it:
//! 1. **configure**: [`LaunchEnv`] reads the rank, the size, rank 0's address and the
//!    job's token from the environment (`eau2-launch`, or none at all for a single
//!    process); under `mpirun`, `mpiexec` or `srun` rank 0 publishes its address and a
//!    fresh token through the launcher's wire-up service (`wireup`);
//! 2. **join**: [`Node::join`] runs rendezvous and starts the network thread, which serves
//!    this rank's part of the key/value store from then on;
//! 3. **compute and exchange**: the program gets a [`Node`]: its `rank()` and `size()`,
//!    the store (`kv()`), and collectives (`barrier`, `broadcast`, `gather`, `reduce`,
//!    `all_reduce`, `all_gather`);
//! 4. **finish**: a final barrier, so nobody leaves while others may still need it, then
//!    goodbyes on every link. A program that fails exits at once instead: its peers see
//!    it vanish and fail too, naming it, rather than wait forever.
//!
//! ```
//! use std::process::ExitCode;
//!
//! fn main() -> ExitCode {
//!     eau2::run(|node| {
//!         // Each rank contributes its rank; everyone learns the sum.
//!         let sum = node.all_reduce(node.rank() as u64, |a, b| a + b)?;
//!         let n = node.size() as u64;
//!         assert_eq!(sum, n * (n - 1) / 2);
//!         Ok(())
//!     })
//! }
//! # main();
//! ```

mod collectives;
mod env;
mod wireup;

use std::process::ExitCode;
use std::sync::atomic::AtomicU64;

use crate::error::Result;
use crate::kv::Kv;

pub use collectives::Wire;
pub use env::LaunchEnv;

/// One rank's context: who it is, the store, and the collectives.
pub struct Node {
    kv: Kv,
    collective_seq: AtomicU64,
}

impl Node {
    /// Joins the job described by `env`.
    pub fn join(env: &LaunchEnv) -> Result<Node> {
        Ok(Node {
            kv: Kv::connect(&env.net_config()?)?,
            collective_seq: AtomicU64::new(0),
        })
    }

    /// A job of one: rank 0 of 1, no network.
    pub fn standalone() -> Result<Node> {
        Node::join(&LaunchEnv::from_vars(|_| None)?)
    }

    /// This rank, `0..size()`.
    pub fn rank(&self) -> usize {
        self.kv.rank()
    }

    /// The number of ranks.
    pub fn size(&self) -> usize {
        self.kv.size()
    }

    /// The distributed key/value store.
    pub fn kv(&self) -> &Kv {
        &self.kv
    }

    /// Leaves the job cleanly: a barrier, so that no rank leaves while another may still
    /// ask it for data, then goodbyes to every peer.
    pub fn shutdown(self) -> Result<()> {
        self.barrier()?;
        Ok(self.kv.shutdown()?)
    }
}

/// Runs an SPMD program: reads the launch environment, joins the job, calls `program`
/// with this rank's [`Node`], and leaves cleanly. Errors are printed with the rank and give
/// a failing exit code; use it as `fn main() -> ExitCode { eau2::run(|node| ...) }`.
pub fn run(program: impl FnOnce(&Node) -> Result<()>) -> ExitCode {
    let env = match LaunchEnv::from_env() {
        Ok(env) => env,
        Err(e) => {
            eprintln!("eau2: {e}");
            return ExitCode::from(2);
        }
    };
    let node = match Node::join(&env) {
        Ok(node) => node,
        Err(e) => {
            eprintln!("eau2: rank {} could not join the job: {e}", env.rank);
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = program(&node) {
        eprintln!("eau2: rank {}: error: {e}", env.rank);
        return ExitCode::FAILURE;
    }
    match node.shutdown() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("eau2: rank {}: error while leaving the job: {e}", env.rank);
            ExitCode::FAILURE
        }
    }
}
