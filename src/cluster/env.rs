//! Reading a rank's place in the job from its environment.
//!
//! `eau2-launch` sets `EAU2_RANK`, `EAU2_SIZE`, `EAU2_MASTER`, `EAU2_TOKEN` and
//! `EAU2_JOB_ID`. Other launchers set only a rank and a size, under their own names; those
//! are accepted too. Under them, rank 0's address and the token come from `EAU2_MASTER`
//! (and `EAU2_TOKEN`) when the user exported them, and otherwise from the launcher's own
//! wire-up service ([`super::wireup`]: PMI-1/PMI-2, PMIx, or Slurm's variables). With
//! none of these variables set, the process is rank 0 of a job of 1.

use std::time::Duration;

use parking_lot::Mutex;

use super::wireup::{self, Service};
use crate::error::{Error, Result};
use crate::net::{vars, NetConfig};

impl From<vars::VarError> for Error {
    fn from(e: vars::VarError) -> Error {
        Error::Config(e.to_string())
    }
}

/// A check of one variable's value, added with [`check_also`].
pub type VarCheck = fn(&str) -> std::result::Result<(), vars::VarError>;

/// Checks of variables that a front end reads and the library does not, run at start
/// with the library's own.
static EXTRA_CHECKS: Mutex<Vec<(&'static str, VarCheck)>> = Mutex::new(Vec::new());

/// Has [`LaunchEnv`] (so [`crate::run`], at start) also check variable `name` with
/// `check` when it is set: for a front end's own variables (eau2-console's `EAU2_LOG`),
/// so that a bad value stops the rank at once, naming it, like the library's.
/// A later check of the same name replaces the earlier one.
pub fn check_also(name: &'static str, check: VarCheck) {
    let mut checks = EXTRA_CHECKS.lock();
    checks.retain(|&(n, _)| n != name);
    checks.push((name, check));
}

/// The rank/size variable pairs understood, in order of preference, with the launcher
/// that sets them.
const RANK_SIZE_VARS: [(&str, &str, &str); 4] = [
    (vars::RANK, vars::SIZE, "eau2-launch"),
    ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "Open MPI"),
    ("PMI_RANK", "PMI_SIZE", "MPICH/Hydra"),
    ("SLURM_PROCID", "SLURM_NTASKS", "Slurm"),
];

/// Where this process stands in its job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LaunchEnv {
    /// This process's rank.
    pub rank: usize,
    /// The number of ranks.
    pub size: usize,
    /// Rank 0's rendezvous address; required when `size > 1`.
    pub master: Option<String>,
    /// The job's secret (empty when the launcher set none; the wire-up then draws one).
    pub token: String,
    /// The job's id, checked in every hello: `EAU2_JOB_ID`, or the launcher's own.
    pub job_id: String,
    /// The launcher's wire-up service, used when `master` is not given.
    pub wireup: Option<Service>,
    /// How long rendezvous may take (`EAU2_RENDEZVOUS_TIMEOUT`, seconds; default 30).
    pub rendezvous_timeout: Duration,
    /// How long a peer may be silent before the job fails naming it
    /// (`EAU2_PEER_TIMEOUT`, seconds; default 10).
    pub peer_timeout: Duration,
    /// Which launcher's variables gave the rank and size, or "standalone".
    pub source: &'static str,
    /// Unconsumed message bytes a rank holds from each peer before that peer's sends
    /// wait (`EAU2_MSG_WINDOW`, bytes; default 64 MiB).
    pub msg_window: u64,
    /// How long the network thread polls after bytes came in while the program waits
    /// (`EAU2_NET_POLL_US`, microseconds; default 50, 0 for never).
    pub net_poll: Duration,
    /// Whether some machine runs more ranks than it has CPUs (`EAU2_CROWDED`, 1 or 0;
    /// unset: the ranks find out when a collective needs to know).
    pub crowded: Option<bool>,
    /// Which attempt of the job this is (`EAU2_EPOCH`; 0, the first, unless
    /// `eau2-launch --tolerate` restarted the job after a lost rank).
    pub epoch: u32,
    /// The job's checkpoint folder name (`EAU2_CHECKPOINTS`, set by `eau2-launch
    /// --tolerate`), or `None`: then `Node::checkpoint` keeps nothing.
    pub checkpoints: Option<String>,
    /// How many losses the job survives (`EAU2_TOLERATE`, which eau2-launch passes to
    /// its ranks with `--tolerate K`): with checkpoints, each saved part gets that many
    /// copies on buddy ranks.
    pub tolerate: u32,
}

impl LaunchEnv {
    /// Reads the process environment.
    pub fn from_env() -> Result<LaunchEnv> {
        let env = LaunchEnv::from_vars(vars::process_env)?;
        // A misspelt name would otherwise be ignored in silence; rank 0 alone says so,
        // once per job (eau2-launch has said so already for its jobs).
        if env.rank == 0 && env.source != "eau2-launch" {
            for warning in vars::unknown_warnings() {
                tracing::warn!("{warning}");
            }
        }
        Ok(env)
    }

    /// Reads variables through `get` (the environment, or a map in tests).
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Result<LaunchEnv> {
        let mut found = None;
        for (rank_var, size_var, source) in RANK_SIZE_VARS {
            if let Some(rank) = get(rank_var) {
                let size = get(size_var).ok_or_else(|| {
                    Error::Config(format!("{rank_var} is set but {size_var} is not"))
                })?;
                let rank = parse_count(rank_var, &rank)?;
                let size = parse_count(size_var, &size)?;
                found = Some((rank, size, source));
                break;
            }
        }
        let (rank, size, source) = found.unwrap_or((0, 1, "standalone"));
        if size == 0 || rank >= size {
            return Err(Error::Config(format!(
                "rank {rank} is not in a job of {size} ranks (from {source}'s variables)"
            )));
        }
        let master = vars::master(&get)?;
        let wireup = match (&master, size) {
            (None, 2..) => Some(Service::detect(&get)?.ok_or_else(|| {
                Error::Config(format!(
                    "EAU2_MASTER is not set and {source} offers no wire-up service \
                     (PMI_FD, PMIX_NAMESPACE, or a Slurm step): a job of {size} ranks needs \
                     rank 0's host:port; export EAU2_MASTER=host:port and EAU2_TOKEN"
                ))
            })?),
            _ => None,
        };
        // Every EAU2_* value is checked here, also those read later (progress, stats,
        // shuffles), so that a bad one stops the rank at once with its name rather than
        // being found, or ignored, in the middle of the job.
        let mut bad = vars::check_all(&get);
        for (name, check) in EXTRA_CHECKS.lock().iter() {
            if let Some(Err(e)) = get(name).map(|value| check(&value)) {
                bad.push(e);
            }
        }
        if !bad.is_empty() {
            let lines: Vec<String> = bad.iter().map(ToString::to_string).collect();
            return Err(Error::Config(lines.join("\n")));
        }
        Ok(LaunchEnv {
            rank,
            size,
            master,
            token: get(vars::TOKEN).unwrap_or_default(),
            job_id: job_id_from(&get),
            wireup,
            rendezvous_timeout: vars::rendezvous_timeout(&get)?,
            peer_timeout: vars::peer_timeout(&get)?,
            source,
            msg_window: vars::msg_window(&get)?,
            net_poll: vars::net_poll(&get)?,
            crowded: vars::crowded(&get)?,
            epoch: vars::epoch(&get)?,
            checkpoints: vars::checkpoints(&get)?,
            tolerate: vars::tolerate(&get)?,
        })
    }

    /// The network configuration for this process. Under a foreign launcher with no
    /// `EAU2_MASTER`, this runs the wire-up through the launcher's service first (rank 0
    /// binds its listener and publishes it; the others learn where it is).
    pub fn net_config(&self) -> Result<NetConfig> {
        let mut cfg = match (&self.master, &self.wireup) {
            (None, Some(service)) => {
                let settled = wireup::settle(service, self.rank, self.rendezvous_timeout)?;
                let mut cfg = NetConfig::new(self.rank, self.size, &settled.master, &settled.token);
                cfg.job_id = settled.job_id;
                cfg.listener = settled.listener;
                cfg
            }
            (master, _) => {
                let master = master.as_deref().unwrap_or("127.0.0.1:0");
                let mut cfg = NetConfig::new(self.rank, self.size, master, &self.token);
                cfg.job_id = self.job_id.clone();
                cfg
            }
        };
        cfg.rendezvous_timeout = self.rendezvous_timeout;
        cfg.msg_window = self.msg_window;
        cfg.peer_timeout = self.peer_timeout;
        cfg.net_poll = self.net_poll;
        cfg.crowded = self.crowded;
        Ok(cfg)
    }
}

/// The job id the environment gives when `EAU2_MASTER` is set by hand: eau2-launch's,
/// else the foreign launcher's (empty when none is known).
fn job_id_from(get: &impl Fn(&str) -> Option<String>) -> String {
    if let Some(id) = get(vars::JOB_ID).filter(|id| !id.is_empty()) {
        return id;
    }
    if let Some(ns) = get("PMIX_NAMESPACE") {
        return format!("pmix:{ns}");
    }
    if let (Some(job), Some(step)) = (get("SLURM_JOB_ID"), get("SLURM_STEP_ID")) {
        return format!("slurm-{job}.{step}");
    }
    String::new()
}

/// A rank or a size from `var`.
fn parse_count(var: &str, text: &str) -> Result<usize> {
    text.trim()
        .parse()
        .map_err(|_| vars::VarError::new(var, text, "a whole number").into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> Result<LaunchEnv> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        LaunchEnv::from_vars(|k| map.get(k).cloned())
    }

    #[test]
    fn standalone_without_variables() {
        let e = env(&[]).unwrap();
        assert_eq!((e.rank, e.size, e.source), (0, 1, "standalone"));
        assert_eq!(e.master, None);
    }

    #[test]
    fn eau2_variables() {
        let e = env(&[
            ("EAU2_RANK", "2"),
            ("EAU2_SIZE", "4"),
            ("EAU2_MASTER", "127.0.0.1:4000"),
            ("EAU2_TOKEN", "s3cret"),
            ("EAU2_RENDEZVOUS_TIMEOUT", "2.5"),
        ])
        .unwrap();
        assert_eq!((e.rank, e.size), (2, 4));
        assert_eq!(e.master.as_deref(), Some("127.0.0.1:4000"));
        assert_eq!(e.token, "s3cret");
        assert_eq!(e.rendezvous_timeout, Duration::from_millis(2500));
        assert_eq!(e.net_config().unwrap().master, "127.0.0.1:4000");
    }

    #[test]
    fn other_launchers() {
        let master = ("EAU2_MASTER", "10.0.0.1:9000");
        for (r, s, source) in [
            ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "Open MPI"),
            ("PMI_RANK", "PMI_SIZE", "MPICH/Hydra"),
            ("SLURM_PROCID", "SLURM_NTASKS", "Slurm"),
        ] {
            let e = env(&[(r, "3"), (s, "8"), master]).unwrap();
            assert_eq!((e.rank, e.size, e.source), (3, 8, source));
            assert_eq!(e.token, "");
        }
    }

    #[test]
    fn eau2_wins_over_others() {
        let e = env(&[
            ("EAU2_RANK", "1"),
            ("EAU2_SIZE", "2"),
            ("SLURM_PROCID", "5"),
            ("SLURM_NTASKS", "6"),
            ("EAU2_MASTER", "h:1"),
        ])
        .unwrap();
        assert_eq!((e.rank, e.size), (1, 2));
    }

    #[test]
    fn bad_values_are_errors() {
        assert!(env(&[("EAU2_RANK", "x"), ("EAU2_SIZE", "2")]).is_err());
        assert!(env(&[
            ("EAU2_RANK", "2"),
            ("EAU2_SIZE", "2"),
            ("EAU2_MASTER", "h:1")
        ])
        .is_err());
        assert!(env(&[("EAU2_RANK", "0")]).is_err());
        assert!(env(&[("PMI_RANK", "0"), ("PMI_SIZE", "0")]).is_err());
        let err = env(&[("SLURM_PROCID", "0"), ("SLURM_NTASKS", "4")]).unwrap_err();
        assert!(err.to_string().contains("EAU2_MASTER"), "{err}");
        assert!(env(&[("PMI_RANK", "0"), ("PMI_SIZE", "2"), ("PMI_FD", "x")]).is_err());
        let bad_version = [
            ("PMI_RANK", "0"),
            ("PMI_SIZE", "2"),
            ("PMI_FD", "3"),
            ("EAU2_PMI_VERSION", "3"),
        ];
        assert!(env(&bad_version).is_err());
        assert!(env(&[("EAU2_RENDEZVOUS_TIMEOUT", "soon")]).is_err());
        assert!(env(&[("EAU2_PEER_TIMEOUT", "-1")]).is_err());
        let err = env(&[("EAU2_PEER_TIMEOUT", "0.05")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("EAU2_PEER_TIMEOUT=\"0.05\""), "{err}");
        let err = env(&[("EAU2_MASTER", "node1")]).unwrap_err().to_string();
        assert!(err.contains("expected host:port"), "{err}");
        // Values read later (shuffles, progress, statistics, logs) are checked at start.
        for (var, value) in [
            ("EAU2_EXCHANGE_ROUND_BYTES", "abc"),
            ("EAU2_PROGRESS_SECS", "abc"),
            ("EAU2_STATS", "yes"),
        ] {
            let err = env(&[(var, value)]).unwrap_err().to_string();
            assert!(
                err.starts_with(&format!("{var}={value:?}: expected")),
                "{err}"
            );
        }
        let e = env(&[("EAU2_PEER_TIMEOUT", "2.5")]).unwrap();
        assert_eq!(
            e.net_config().unwrap().peer_timeout,
            Duration::from_millis(2500)
        );
        assert_eq!(env(&[]).unwrap().peer_timeout, Duration::from_secs(10));
        assert_eq!(env(&[]).unwrap().net_poll, Duration::from_micros(50));
        let e = env(&[("EAU2_NET_POLL_US", "0")]).unwrap();
        assert_eq!(e.net_config().unwrap().net_poll, Duration::ZERO);
        assert!(env(&[("EAU2_NET_POLL_US", "fast")]).is_err());
    }

    #[test]
    fn a_front_ends_variables_are_checked_too() {
        fn check(value: &str) -> std::result::Result<(), vars::VarError> {
            match value {
                "good" => Ok(()),
                bad => Err(vars::VarError::new("EAU2_FRONT_END_TEST", bad, "not good")),
            }
        }
        check_also("EAU2_FRONT_END_TEST", check);
        assert!(env(&[("EAU2_FRONT_END_TEST", "good")]).is_ok());
        let err = env(&[("EAU2_FRONT_END_TEST", "bad")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("not good"), "{err}");
    }

    #[test]
    fn wireup_services_are_found() {
        let pmi = env(&[("PMI_RANK", "1"), ("PMI_SIZE", "4"), ("PMI_FD", "5")]).unwrap();
        assert_eq!(
            pmi.wireup,
            Some(Service::Pmi {
                fd: 5,
                version: wireup::pmi::PmiVersion::V1,
                jobid: None
            })
        );
        let pmi2 = [
            ("SLURM_PROCID", "1"),
            ("SLURM_NTASKS", "4"),
            ("PMI_FD", "5"),
            ("EAU2_PMI_VERSION", "2"),
        ];
        assert!(matches!(
            env(&pmi2).unwrap().wireup,
            Some(Service::Pmi {
                version: wireup::pmi::PmiVersion::V2,
                ..
            })
        ));
        let ompi = [
            ("OMPI_COMM_WORLD_RANK", "0"),
            ("OMPI_COMM_WORLD_SIZE", "2"),
            ("PMIX_NAMESPACE", "prterun-x-1@1"),
        ];
        let e = env(&ompi).unwrap();
        assert_eq!(e.wireup, Some(Service::Pmix));
        assert_eq!(e.job_id, "pmix:prterun-x-1@1");
        let slurm = [
            ("SLURM_PROCID", "0"),
            ("SLURM_NTASKS", "2"),
            ("SLURM_JOB_ID", "9"),
            ("SLURM_STEP_ID", "0"),
            ("SLURM_STEP_NODELIST", "n[1-2]"),
            ("HOME", "/home/u"),
        ];
        let e = env(&slurm).unwrap();
        assert!(matches!(e.wireup, Some(Service::Slurm { .. })), "{e:?}");
        assert_eq!(e.job_id, "slurm-9.0");
        // A master given by hand wins, and eau2-launch's job id is used.
        let by_hand = [
            ("PMI_RANK", "1"),
            ("PMI_SIZE", "4"),
            ("PMI_FD", "5"),
            ("EAU2_MASTER", "h:1"),
            ("EAU2_JOB_ID", "j1"),
        ];
        let e = env(&by_hand).unwrap();
        assert_eq!((e.wireup, e.job_id.as_str()), (None, "j1"));
    }

    #[test]
    fn single_rank_needs_no_master() {
        let e = env(&[("SLURM_PROCID", "0"), ("SLURM_NTASKS", "1")]).unwrap();
        assert_eq!(e.size, 1);
    }
}
