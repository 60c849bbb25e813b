//! Finding rank 0 under plain `srun` (no PMI plugin), from Slurm's variables alone.
//!
//! With nothing to publish through, every rank must compute the same answer by itself:
//! - **host**: the first node of `SLURM_STEP_NODELIST`, where Slurm's block distribution
//!   (its default) puts task 0. Rank 0 checks that it really is there (`SLURMD_NODENAME`)
//!   and says so when it is not (`-m cyclic` still starts task 0 on the first node;
//!   `-m arbitrary` may not);
//! - **port**: derived from the job and step ids inside a range (`EAU2_SLURM_PORTS`,
//!   default 21000-28999, below Linux's ephemeral ports), so two steps running at once
//!   rarely meet on one; when they do, rank 0 cannot bind and says which port and why;
//! - **token**: keyed with the user's own secret ([`super::secret::derived`]), since
//!   everything in Slurm's variables is public to every user of the cluster;
//! - **job id**: `slurm-JOB.STEP`, checked in every hello, so ranks of two steps never mix.

use crate::error::{Error, Result};
use crate::net::vars;

/// The default range of rendezvous ports for plain `srun`.
pub const DEFAULT_PORTS: (u16, u16) = (21000, 28999);

/// What the rule needs from Slurm's variables.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlurmStep {
    /// `SLURM_JOB_ID`.
    pub job: u64,
    /// `SLURM_STEP_ID`.
    pub step: u64,
    /// The first node of `SLURM_STEP_NODELIST` (or `SLURM_NODELIST`).
    pub first_node: String,
    /// `SLURMD_NODENAME`: the node this task runs on, when set.
    pub this_node: Option<String>,
    /// The port range, inclusive.
    pub ports: (u16, u16),
}

impl SlurmStep {
    /// Reads the step from Slurm's variables; `None` when this is not a Slurm step.
    pub fn from_vars(get: &dyn Fn(&str) -> Option<String>) -> Result<Option<SlurmStep>> {
        let (Some(job), Some(step)) = (get("SLURM_JOB_ID"), get("SLURM_STEP_ID")) else {
            return Ok(None);
        };
        let nodes = get("SLURM_STEP_NODELIST")
            .or_else(|| get("SLURM_NODELIST"))
            .ok_or_else(|| Error::Config("SLURM_STEP_NODELIST is not set".into()))?;
        let ports = vars::slurm_ports(get)?.unwrap_or(DEFAULT_PORTS);
        Ok(Some(SlurmStep {
            job: parse_id("SLURM_JOB_ID", &job)?,
            step: parse_id("SLURM_STEP_ID", &step)?,
            first_node: first_host(&nodes)?,
            this_node: get("SLURMD_NODENAME"),
            ports,
        }))
    }

    /// The rendezvous port of this step.
    pub fn port(&self) -> u16 {
        let (lo, hi) = self.ports;
        let span = u64::from(hi - lo) + 1;
        // Consecutive jobs land on ports far apart; steps of one job next to each other.
        let slot = (self.job.wrapping_mul(61).wrapping_add(self.step)) % span;
        lo + slot as u16
    }

    /// The job id checked in hellos.
    pub fn job_id(&self) -> String {
        format!("slurm-{}.{}", self.job, self.step)
    }

    /// For rank 0: an error when this node is not the one the other ranks will dial.
    pub fn check_rank0_node(&self) -> Result<()> {
        match &self.this_node {
            Some(here) if *here != self.first_node => Err(Error::Config(format!(
                "rank 0 runs on {here}, but under plain srun the other ranks look for it on \
                 {}, the first node of the step; use srun's default block distribution, or \
                 --mpi=pmi2, or export EAU2_MASTER",
                self.first_node
            ))),
            _ => Ok(()),
        }
    }
}

fn parse_id(var: &str, text: &str) -> Result<u64> {
    text.trim()
        .parse()
        .map_err(|_| vars::VarError::new(var, text, "a whole number").into())
}

/// The first host of a Slurm host list such as `node[07-09,12],gpu1` (`node07`): each
/// bracket of the first entry replaced by the first number in it, padding kept.
pub fn first_host(list: &str) -> Result<String> {
    let bad = |why: &str| Error::Config(format!("the Slurm node list {list:?} {why}"));
    let mut out = String::new();
    let mut rest = list.trim();
    loop {
        let stop = rest.find(['[', ',']).unwrap_or(rest.len());
        out.push_str(&rest[..stop]);
        rest = &rest[stop..];
        if !rest.starts_with('[') {
            break;
        }
        let close = rest.find(']').ok_or_else(|| bad("has an unclosed `[`"))?;
        let first = rest[1..close]
            .split([',', '-'])
            .next()
            .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| bad("has a range that does not start with a number"))?;
        out.push_str(first);
        rest = &rest[close + 1..];
    }
    if out.is_empty() {
        return Err(bad("names no host"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn first_hosts() {
        assert_eq!(first_host("node1").unwrap(), "node1");
        assert_eq!(first_host("node[07-09,12],gpu1").unwrap(), "node07");
        assert_eq!(first_host("a,b[1-2]").unwrap(), "a");
        assert_eq!(first_host("rack[2-3]-n[010-020]").unwrap(), "rack2-n010");
        for bad in ["", "n[1-2", "n[x]", "n[]"] {
            assert!(first_host(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ports_stay_in_range_and_differ_between_steps() {
        let mut step = SlurmStep {
            job: 123456,
            step: 0,
            first_node: "n1".into(),
            this_node: Some("n1".into()),
            ports: DEFAULT_PORTS,
        };
        let p0 = step.port();
        step.step = 1;
        assert_ne!(p0, step.port());
        for job in [0, 1, u64::MAX] {
            step.job = job;
            assert!((21000..=28999).contains(&step.port()));
        }
        assert_eq!(step.job_id(), format!("slurm-{}.1", u64::MAX));
        assert!(step.check_rank0_node().is_ok());
        step.this_node = Some("n2".into());
        let err = step.check_rank0_node().unwrap_err().to_string();
        assert!(err.contains("n2") && err.contains("n1"), "{err}");
    }

    #[test]
    fn reads_variables() {
        let vars: HashMap<&str, &str> = [
            ("SLURM_JOB_ID", "77"),
            ("SLURM_STEP_ID", "2"),
            ("SLURM_STEP_NODELIST", "c[3-4]"),
            ("EAU2_SLURM_PORTS", "30000-30009"),
        ]
        .into();
        let get = |k: &str| vars.get(k).map(|v| v.to_string());
        let step = SlurmStep::from_vars(&get).unwrap().unwrap();
        assert_eq!(
            (step.job, step.step, step.first_node.as_str()),
            (77, 2, "c3")
        );
        assert!((30000..=30009).contains(&step.port()));
        assert_eq!(SlurmStep::from_vars(&|_| None).unwrap(), None);
        for bad in ["1", "0-5", "9-8", "a-b"] {
            let get = |k: &str| (k == "EAU2_SLURM_PORTS").then(|| bad.to_string());
            assert!(vars::slurm_ports(&get).is_err(), "{bad}");
        }
    }
}
