//! Reading a rank's place in the job from its environment.
//!
//! `eau2-launch` sets `EAU2_RANK`, `EAU2_SIZE`, `EAU2_MASTER` and `EAU2_TOKEN`. Other
//! launchers set only a rank and a size, under their own names; those are accepted too,
//! so the same binary runs under `mpirun` or `srun` once `EAU2_MASTER` is given. With
//! none of them set, the process is rank 0 of a job of 1.

use std::time::Duration;

use crate::error::{Error, Result};
use crate::net::NetConfig;

/// The rank/size variable pairs understood, in order of preference, with the launcher
/// that sets them.
const RANK_SIZE_VARS: [(&str, &str, &str); 4] = [
    ("EAU2_RANK", "EAU2_SIZE", "eau2-launch"),
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
    /// The job's secret (empty when the launcher set none).
    pub token: String,
    /// How long rendezvous may take (`EAU2_RENDEZVOUS_TIMEOUT`, seconds; default 30).
    pub rendezvous_timeout: Duration,
    /// How long a peer may be silent before the job fails naming it
    /// (`EAU2_PEER_TIMEOUT`, seconds; default 10).
    pub peer_timeout: Duration,
    /// Which launcher's variables gave the rank and size, or "standalone".
    pub source: &'static str,
}

impl LaunchEnv {
    /// Reads the process environment.
    pub fn from_env() -> Result<LaunchEnv> {
        LaunchEnv::from_vars(|name| std::env::var(name).ok())
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
        let master = get("EAU2_MASTER").filter(|m| !m.is_empty());
        if size > 1 && master.is_none() {
            return Err(Error::Config(format!(
                "EAU2_MASTER is not set: a job of {size} ranks needs rank 0's host:port \
                 (eau2-launch sets it; under {source}, export it yourself)"
            )));
        }
        let rendezvous_timeout = seconds(&get, "EAU2_RENDEZVOUS_TIMEOUT", 30.0)?;
        let peer_timeout = seconds(&get, "EAU2_PEER_TIMEOUT", 10.0)?;
        Ok(LaunchEnv {
            rank,
            size,
            master,
            token: get("EAU2_TOKEN").unwrap_or_default(),
            rendezvous_timeout,
            peer_timeout,
            source,
        })
    }

    /// The network configuration for this process.
    pub fn net_config(&self) -> NetConfig {
        let master = self.master.as_deref().unwrap_or("127.0.0.1:0");
        let mut cfg = NetConfig::new(self.rank, self.size, master, &self.token);
        cfg.rendezvous_timeout = self.rendezvous_timeout;
        cfg.peer_timeout = self.peer_timeout;
        cfg
    }
}

/// The duration in seconds that variable `var` gives, or `default` seconds.
fn seconds(get: &impl Fn(&str) -> Option<String>, var: &str, default: f64) -> Result<Duration> {
    let Some(text) = get(var) else {
        return Ok(Duration::from_secs_f64(default));
    };
    let secs: f64 = text
        .trim()
        .parse()
        .map_err(|_| Error::Config(format!("{var}={text:?} is not a number of seconds")))?;
    match Duration::try_from_secs_f64(secs) {
        Ok(d) if !d.is_zero() => Ok(d),
        _ => Err(Error::Config(format!(
            "{var}={text:?} is not a valid duration (a positive number of seconds)"
        ))),
    }
}

fn parse_count(var: &str, text: &str) -> Result<usize> {
    text.trim()
        .parse()
        .map_err(|_| Error::Config(format!("{var}={text:?} is not a whole number")))
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
        assert_eq!(e.net_config().master, "127.0.0.1:4000");
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
        assert!(env(&[("EAU2_RENDEZVOUS_TIMEOUT", "soon")]).is_err());
        assert!(env(&[("EAU2_PEER_TIMEOUT", "-1")]).is_err());
        let e = env(&[("EAU2_PEER_TIMEOUT", "2.5")]).unwrap();
        assert_eq!(e.net_config().peer_timeout, Duration::from_millis(2500));
        assert_eq!(env(&[]).unwrap().peer_timeout, Duration::from_secs(10));
    }

    #[test]
    fn single_rank_needs_no_master() {
        let e = env(&[("SLURM_PROCID", "0"), ("SLURM_NTASKS", "1")]).unwrap();
        assert_eq!(e.size, 1);
    }
}
