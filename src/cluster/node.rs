//! A rank's context, [`Node`]: its communication layer and the state of the frames its
//! operators make.

use super::checkpoint_folder::CheckpointFolder;
use super::env::LaunchEnv;
use super::temps::Temps;
use crate::error::Result;
use eau2_comm::Comm;

/// One rank's context: who it is ([`Node::rank`], [`Node::size`]), and through
/// [`Node::comm`] the store, messages and collectives (`node.comm().all_reduce(..)`).
pub struct Node {
    comm: Comm,
    /// Names and lazy frees of the frames that operators make.
    temps: Temps,
    /// Which attempt of the job this is.
    epoch: u32,
    /// Where [`Node::checkpoint`] keeps its files, when the job can be restarted.
    checkpoints: Option<CheckpointFolder>,
}

impl Node {
    /// Joins the job described by `env`.
    pub fn join(env: &LaunchEnv) -> Result<Node> {
        let mut node = Node::connect(&env.net_config()?)?;
        node.epoch = env.epoch;
        node.checkpoints = env
            .checkpoints
            .as_deref()
            .map(|name| CheckpointFolder::new(name, env.epoch, env.tolerate.max(1) as usize));
        Ok(node)
    }

    /// Joins the job described by a network configuration.
    pub(crate) fn connect(cfg: &crate::net::NetConfig) -> Result<Node> {
        Ok(Node {
            comm: Comm::connect(cfg)?,
            temps: Temps::default(),
            epoch: 0,
            checkpoints: None,
        })
    }

    /// A job of one: rank 0 of 1, no network.
    pub fn standalone() -> Result<Node> {
        Node::join(&LaunchEnv::from_vars(|_| None)?)
    }

    /// The job's checkpoint folder, when `eau2-launch --tolerate` can restart the job.
    pub(crate) fn checkpoints(&self) -> Option<&CheckpointFolder> {
        self.checkpoints.as_ref()
    }

    /// The names and dropped handles of operators' result frames.
    pub(crate) fn temps(&self) -> &Temps {
        &self.temps
    }

    /// The communication layer: messages, collectives and the store.
    pub fn comm(&self) -> &Comm {
        &self.comm
    }

    /// This rank's number, `0..size()`.
    pub fn rank(&self) -> usize {
        self.comm.rank()
    }

    /// The number of ranks in the job.
    pub fn size(&self) -> usize {
        self.comm.size()
    }

    /// Which attempt of the job this is: 0 for the first. Under `eau2-launch --tolerate
    /// K`, a job that lost a rank is started again from the beginning, every rank anew,
    /// with the next epoch (see docs/failures.md). Most programs never need to know: the
    /// rerun recomputes the same answer, and eau2's writes replace their destination
    /// whole. A program with side effects of its own (a row sent to a database, a mail)
    /// can use it to tell a rerun from the first run.
    pub fn epoch(&self) -> u32 {
        self.epoch
    }

    /// Leaves the job cleanly: the final barrier ([`Comm::finish`]), so that no rank
    /// leaves while another may still ask it for data, then goodbyes to every peer.
    ///
    /// When the final barrier fails, this rank leaves as a failing one does
    /// ([`Comm::abort`]): what it has to tell its peers (such as the SPMD mistake it
    /// found) is written before its links close.
    pub fn shutdown(self) -> Result<()> {
        if let Err(e) = self.comm.finish() {
            self.comm.abort();
            return Err(explained(&self.comm, e.into()));
        }
        Ok(self.comm.shutdown()?)
    }
}

/// `e`, or the SPMD mistake behind it: a rank that left because of a mistake is seen as
/// lost by operations outside the message plane (the store), which do not hear of the
/// mistake itself.
pub(super) fn explained(comm: &Comm, e: crate::Error) -> crate::Error {
    match (e.lost_rank(), comm.spmd_mistake()) {
        (Some(_), Some(mistake)) => mistake.into(),
        _ => e,
    }
}
