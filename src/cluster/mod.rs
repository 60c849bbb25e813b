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
//!    the store (`kv()`), tagged messages (`send`, `recv`) and collectives (`barrier`,
//!    `broadcast`, `gather`, `scatter`, `reduce`, `all_reduce`, `all_gather`,
//!    `all_to_all`, `scan`), all from the communication layer's [`Comm`](eau2_comm::Comm);
//! 4. **finish**: a final barrier ([`Comm::finish`](eau2_comm::Comm::finish)), so nobody leaves while others may
//!    still need it, then goodbyes on every link. The final barrier is a collective of
//!    its own kind: a rank still in another collective, or waiting for a message from
//!    this one, fails at once naming it (an SPMD mistake, such as a collective called
//!    under `if rank == 0`), rather than take it for its own call or wait. A program
//!    that fails exits at once instead: its peers see it vanish and fail too, naming it,
//!    rather than wait forever.
//!
//! ```
//! use std::process::ExitCode;
//!
//! fn main() -> ExitCode {
//!     eau2::run(|node| {
//!         // Each rank contributes its rank; everyone learns the sum.
//!         let sum = node.comm().all_reduce(node.rank() as u64, |a, b| a + b)?;
//!         let n = node.size() as u64;
//!         assert_eq!(sum, n * (n - 1) / 2);
//!         Ok(())
//!     })
//! }
//! # main();
//! ```

pub(crate) mod checkpoint;
pub(crate) mod checkpoint_folder;
mod env;
mod local;
mod node;
mod temps;
mod wireup;

use std::process::ExitCode;

use crate::error::Result;
use node::explained;

pub use eau2_comm::collectives::{Pod, Wire};
pub use env::{check_also, LaunchEnv, VarCheck};
pub use local::{run_local, Local};
pub use node::Node;

/// Runs an SPMD program: reads the launch environment, joins the job, calls `program`
/// with this rank's [`Node`], and leaves cleanly. Errors are printed with the rank and give
/// a failing exit code; use it as `fn main() -> ExitCode { eau2::run(|node| ...) }`.
///
/// Errors are `tracing` errors; if the program installed no subscriber, `run` installs
/// [`crate::logging::Fallback`] so they are always seen. With `EAU2_STATS` (or an app's
/// `--stats`), every rank's statistics are gathered at rank 0 after the program
/// ([`crate::stats`]).
pub fn run(program: impl FnOnce(&Node) -> Result<()>) -> ExitCode {
    crate::logging::ensure();
    let env = match LaunchEnv::from_env() {
        Ok(env) => env,
        Err(e) => {
            tracing::error!("{e}");
            return ExitCode::from(2);
        }
    };
    let started = std::time::Instant::now();
    let node = match Node::join(&env) {
        Ok(node) => node,
        Err(e) => {
            tracing::error!("rank {} could not join the job: {e}", env.rank);
            return failure(&e);
        }
    };
    let stats = crate::stats::StatsMode::from_env();
    let result = program(&node).and_then(|()| match stats {
        crate::stats::StatsMode::Off => Ok(()),
        ref mode => crate::stats::report(&node, started.elapsed(), mode),
    });
    if let Err(e) = result {
        let e = explained(node.comm(), e);
        tracing::error!("rank {}: error: {e}", env.rank);
        node.comm().abort();
        return failure(&e);
    }
    let leftovers = checkpoint::Leftovers::of(&node);
    match node.shutdown() {
        Ok(()) => {
            // Past the final barrier every rank has finished its program: no restart
            // needs this rank's checkpoints any more.
            if let Some(leftovers) = leftovers {
                leftovers.remove();
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            tracing::error!("rank {}: error while leaving the job: {e}", env.rank);
            failure(&e)
        }
    }
}

/// The exit status of a rank that failed with `e`: [`vars::EXIT_PEER_LOST`] when it failed
/// because another rank was lost, so that `eau2-launch --tolerate` can tell a lost rank's
/// consequences (worth a restart) from a program's own failure (which a restart would
/// only repeat); 1 otherwise.
///
/// [`vars::EXIT_PEER_LOST`]: crate::net::vars::EXIT_PEER_LOST
fn failure(e: &crate::Error) -> ExitCode {
    if e.lost_rank().is_some() {
        ExitCode::from(crate::net::vars::EXIT_PEER_LOST)
    } else {
        ExitCode::FAILURE
    }
}
