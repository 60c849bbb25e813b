//! Wire-up: how ranks started by a foreign launcher learn rank 0's address and the job's
//! token when nobody exported `EAU2_MASTER`.
//!
//! Launchers of MPI programs run a small key/value service for exactly this, and we use
//! it the way an MPI library does:
//! 1. rank 0 binds a listener on port 0 of every interface, draws a fresh token, and
//!    publishes `PORT/ADDR,...` (its interfaces' addresses, see [`hosts`]) and the token;
//! 2. every rank enters the service's fence, after which the values are visible to all;
//! 3. the other ranks read them and pick the address that reaches rank 0 from their host;
//! 4. everyone finalizes (launchers treat a rank that leaves without it as crashed).
//!
//! The services: PMI-1 or PMI-2 on the socket `PMI_FD` ([`pmi`]: MPICH's Hydra, Slurm's
//! `pmi2` plugin), PMIx ([`pmix`]: Open MPI's `mpirun`, `srun --mpi=pmix`). Plain `srun`
//! offers none, so there every rank computes the same answer from Slurm's variables
//! ([`slurm`]), with a token keyed by the user's own secret ([`secret`]).
//!
//! The whole exchange has the rendezvous deadline: it runs on a helper thread, and a
//! service that does not answer in time fails the rank with a message saying which.

pub mod hosts;
pub mod pmi;
pub mod pmix;
pub mod secret;
pub mod slurm;

use std::net::{Ipv4Addr, TcpListener};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::sync::{mpsc, Arc};
use std::time::Duration;

use crate::error::{Error, Result};
use crate::net::vars;
use pmi::{PmiClient, PmiVersion};
use pmix::Pmix;
use slurm::SlurmStep;

/// The key under which rank 0 publishes `PORT/ADDR,...`.
const MASTER_KEY: &str = "eau2-master";
/// The key under which rank 0 publishes the token.
const TOKEN_KEY: &str = "eau2-token";

/// A launcher's wire-up service, found in the environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Service {
    /// PMI-1 or PMI-2 on an inherited socket (`PMI_FD`).
    Pmi {
        /// The socket's file descriptor.
        fd: i32,
        /// The protocol to speak.
        version: PmiVersion,
        /// `PMI_JOBID`, which Slurm's PMI-2 server wants back in `fullinit`.
        jobid: Option<String>,
    },
    /// PMIx, through the PMIx client library (`PMIX_NAMESPACE` is set).
    Pmix,
    /// No service: plain `srun`, whose variables fix rank 0's host and port.
    Slurm {
        /// The step, from Slurm's variables.
        step: SlurmStep,
        /// The token the user exported (`EAU2_TOKEN`), if any.
        token: Option<String>,
        /// The user's key for deriving a token otherwise.
        key_file: secret::KeyFile,
    },
}

impl Service {
    /// Finds the service the launcher offers, from its variables; `None` if there is none.
    pub fn detect(get: &dyn Fn(&str) -> Option<String>) -> Result<Option<Service>> {
        if let Some(fd) = get("PMI_FD") {
            let fd = fd
                .trim()
                .parse()
                .map_err(|_| Error::Config(format!("PMI_FD={fd:?} is not a file descriptor")))?;
            let version = match vars::pmi_version(get)? {
                None | Some(1) => PmiVersion::V1,
                _ => PmiVersion::V2,
            };
            let jobid = get("PMI_JOBID").filter(|j| !j.is_empty());
            return Ok(Some(Service::Pmi { fd, version, jobid }));
        }
        if get("PMIX_NAMESPACE").is_some() {
            return Ok(Some(Service::Pmix));
        }
        if let Some(step) = SlurmStep::from_vars(get)? {
            let token = get(vars::TOKEN).filter(|t| !t.is_empty());
            return Ok(Some(Service::Slurm {
                step,
                token,
                key_file: secret::key_path(get)?,
            }));
        }
        Ok(None)
    }

    /// A short name for messages.
    pub fn name(&self) -> &'static str {
        match self {
            Service::Pmi {
                version: PmiVersion::V1,
                ..
            } => "PMI-1",
            Service::Pmi {
                version: PmiVersion::V2,
                ..
            } => "PMI-2",
            Service::Pmix => "PMIx",
            Service::Slurm { .. } => "Slurm's variables",
        }
    }
}

/// What the wire-up settles for one rank.
#[derive(Debug)]
pub struct Settled {
    /// The `host:port` to dial (rank 0: the address it listens on).
    pub master: String,
    /// The job's token, never empty.
    pub token: String,
    /// The job's id, checked in hellos.
    pub job_id: String,
    /// Rank 0's listener, already bound.
    pub listener: Option<Arc<TcpListener>>,
}

/// Runs the wire-up through `service` for `rank`, within `timeout`.
pub fn settle(service: &Service, rank: usize, timeout: Duration) -> Result<Settled> {
    let (tx, rx) = mpsc::channel();
    let service_owned = service.clone();
    std::thread::Builder::new()
        .name("eau2-wireup".into())
        .spawn(move || {
            let _ = tx.send(exchange(&service_owned, rank, timeout));
        })
        .map_err(|e| Error::io("starting the wire-up thread", e))?;
    match rx.recv_timeout(timeout) {
        Ok(result) => result,
        // The helper thread is left blocked in the service; the rank fails and exits.
        Err(_) => Err(Error::Config(format!(
            "rank {rank}: the launcher's wire-up ({}) did not complete within {:?} \
             (EAU2_RENDEZVOUS_TIMEOUT); is every rank running?",
            service.name(),
            timeout
        ))),
    }
}

/// A key/value service with a fence.
trait Kvs {
    fn job_id(&self) -> String;
    fn put(&mut self, key: &str, value: &str) -> Result<()>;
    fn fence(&mut self) -> Result<()>;
    fn get(&mut self, from: usize, key: &str) -> Result<String>;
    fn finalize(self: Box<Self>) -> Result<()>;
}

impl Kvs for PmiClient<UnixStream> {
    fn job_id(&self) -> String {
        format!("pmi:{}", self.job())
    }
    fn put(&mut self, key: &str, value: &str) -> Result<()> {
        PmiClient::put(self, key, value)
    }
    fn fence(&mut self) -> Result<()> {
        PmiClient::fence(self)
    }
    fn get(&mut self, from: usize, key: &str) -> Result<String> {
        PmiClient::get(self, from, key)
    }
    fn finalize(self: Box<Self>) -> Result<()> {
        PmiClient::finalize(*self)
    }
}

impl Kvs for Pmix {
    fn job_id(&self) -> String {
        format!("pmix:{}", self.nspace())
    }
    fn put(&mut self, key: &str, value: &str) -> Result<()> {
        Pmix::put(self, key, value)
    }
    fn fence(&mut self) -> Result<()> {
        Pmix::fence(self)
    }
    fn get(&mut self, from: usize, key: &str) -> Result<String> {
        Pmix::get(self, from, key)
    }
    fn finalize(self: Box<Self>) -> Result<()> {
        Pmix::finalize(*self)
    }
}

fn exchange(service: &Service, rank: usize, timeout: Duration) -> Result<Settled> {
    let mut kvs: Box<dyn Kvs> = match service {
        Service::Pmi { fd, version, jobid } => {
            let stream = pmi_socket(*fd)?;
            stream
                .set_read_timeout(Some(timeout))
                .map_err(|e| Error::io("setting a timeout on the PMI socket", e))?;
            Box::new(PmiClient::init(stream, *version, rank, jobid.as_deref())?)
        }
        Service::Pmix => Box::new(Pmix::init()?),
        Service::Slurm {
            step,
            token,
            key_file,
        } => return slurm_rule(step, token.as_deref(), key_file, rank),
    };
    let settled = if rank == 0 {
        let (listener, port) = bind_wildcard(0)?;
        let token = secret::fresh()?;
        kvs.put(MASTER_KEY, &hosts::publish(port, &hosts::local_addrs()?))?;
        kvs.put(TOKEN_KEY, &token)?;
        kvs.fence()?;
        Settled {
            master: format!("{}:{port}", Ipv4Addr::UNSPECIFIED),
            token,
            job_id: kvs.job_id(),
            listener: Some(Arc::new(listener)),
        }
    } else {
        kvs.fence()?;
        let published = kvs.get(0, MASTER_KEY)?;
        let token = kvs.get(0, TOKEN_KEY)?;
        Settled {
            master: hosts::choose(&published, &hosts::local_addrs()?)?,
            token,
            job_id: kvs.job_id(),
            listener: None,
        }
    };
    if settled.token.is_empty() {
        return Err(Error::Config("rank 0 published an empty token".into()));
    }
    kvs.finalize()?;
    Ok(settled)
}

/// Plain `srun`: rank 0 listens on the step's port on every interface; the others dial
/// the step's first node.
fn slurm_rule(
    step: &SlurmStep,
    token: Option<&str>,
    key_file: &secret::KeyFile,
    rank: usize,
) -> Result<Settled> {
    let token = match token {
        Some(t) => t.to_string(),
        None => secret::derived(key_file, &step.job_id())?,
    };
    let port = step.port();
    if rank == 0 {
        step.check_rank0_node()?;
        let (listener, _) = bind_wildcard(port).map_err(|e| {
            Error::Config(format!(
                "rank 0 cannot listen on port {port}, derived from SLURM_JOB_ID={} and \
                 SLURM_STEP_ID={} within EAU2_SLURM_PORTS: {e}; another step may hold it: \
                 rerun, choose another range, or use srun --mpi=pmi2",
                step.job, step.step
            ))
        })?;
        Ok(Settled {
            master: format!("{}:{port}", Ipv4Addr::UNSPECIFIED),
            token,
            job_id: step.job_id(),
            listener: Some(Arc::new(listener)),
        })
    } else {
        Ok(Settled {
            master: format!("{}:{port}", step.first_node),
            token,
            job_id: step.job_id(),
            listener: None,
        })
    }
}

fn bind_wildcard(port: u16) -> Result<(TcpListener, u16)> {
    let listener = TcpListener::bind((Ipv4Addr::UNSPECIFIED, port))
        .map_err(|e| Error::io(format!("binding the rendezvous listener on port {port}"), e))?;
    let port = listener
        .local_addr()
        .map_err(|e| Error::io("reading the rendezvous listener's port", e))?
        .port();
    Ok((listener, port))
}

/// Takes over the inherited PMI socket, after checking that `fd` is an open socket.
fn pmi_socket(fd: i32) -> Result<UnixStream> {
    let mut kind: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: getsockopt only writes an int into `kind`; it fails on a bad or non-socket fd.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_TYPE,
            (&mut kind as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    if fd < 0 || rc != 0 {
        return Err(Error::Config(format!(
            "PMI_FD={fd} is not an open socket ({}); was this started by mpiexec or srun?",
            std::io::Error::last_os_error()
        )));
    }
    // SAFETY: the fd is open, a socket, and ours alone: the launcher handed it to this
    // process for its PMI client, which this is; nothing else in the process uses it.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    Ok(UnixStream::from(owned))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::io::{BufRead, BufReader, Write};
    use std::os::fd::IntoRawFd;
    use std::sync::{Barrier, Mutex};

    /// A PMI-1 server for one client connection, sharing `kvs` and `barrier` with the
    /// servers of the job's other ranks, as Hydra's proxies do.
    fn serve_pmi1(
        conn: UnixStream,
        kvs: Arc<Mutex<HashMap<String, String>>>,
        barrier: Arc<Barrier>,
    ) {
        let mut out = conn.try_clone().expect("cloning the fake server's socket");
        for line in BufReader::new(conn).lines() {
            let Ok(line) = line else { return };
            let fields = pmi::parse_v1(&line).expect("the client sends key=value pairs");
            let reply = match fields["cmd"].as_str() {
                "init" => "cmd=response_to_init pmi_version=1 pmi_subversion=1 rc=0".into(),
                "get_my_kvsname" => "cmd=my_kvsname kvsname=kvs_fake rc=0".into(),
                "put" => {
                    let mut kvs = kvs.lock().expect("kvs lock");
                    kvs.insert(fields["key"].clone(), fields["value"].clone());
                    "cmd=put_result rc=0".into()
                }
                "barrier_in" => {
                    barrier.wait();
                    "cmd=barrier_out".into()
                }
                "get" => match kvs.lock().expect("kvs lock").get(&fields["key"]) {
                    Some(v) => format!("cmd=get_result rc=0 value={v}"),
                    None => "cmd=get_result rc=-1 msg=key_not_found".into(),
                },
                "finalize" => "cmd=finalize_ack".into(),
                other => panic!("unexpected PMI command {other}"),
            };
            writeln!(out, "{reply}").expect("answering the client");
        }
    }

    #[test]
    fn two_ranks_settle_through_a_pmi1_server() {
        let kvs = Arc::new(Mutex::new(HashMap::new()));
        let barrier = Arc::new(Barrier::new(2));
        let timeout = Duration::from_secs(20);
        let ranks: Vec<_> = (0..2)
            .map(|rank| {
                let (client, server) = UnixStream::pair().expect("a socket pair");
                let (kvs, barrier) = (Arc::clone(&kvs), Arc::clone(&barrier));
                std::thread::spawn(move || serve_pmi1(server, kvs, barrier));
                let service = Service::Pmi {
                    fd: client.into_raw_fd(),
                    version: PmiVersion::V1,
                    jobid: None,
                };
                std::thread::spawn(move || settle(&service, rank, timeout))
            })
            .collect();
        let mut settled: Vec<Settled> = ranks
            .into_iter()
            .map(|t| t.join().expect("a settling rank").expect("settled"))
            .collect();
        let worker = settled.pop().expect("rank 1");
        let master = settled.pop().expect("rank 0");
        let listener = master.listener.expect("rank 0 has its listener");
        let port = listener.local_addr().expect("bound").port();
        assert_ne!(port, 0);
        assert_eq!(master.master, format!("0.0.0.0:{port}"));
        assert!(worker.master.ends_with(&format!(":{port}")), "{worker:?}");
        // Rank 1 can really reach rank 0 at the address it chose.
        std::net::TcpStream::connect(&worker.master).expect("dialing rank 0");
        assert_eq!(master.token, worker.token);
        assert_eq!(master.token.len(), 32);
        assert_eq!(
            (master.job_id.as_str(), worker.job_id.as_str()),
            ("pmi:kvs_fake", "pmi:kvs_fake")
        );
    }

    #[test]
    fn a_silent_service_times_out() {
        let (client, _server) = UnixStream::pair().expect("a socket pair");
        let service = Service::Pmi {
            fd: client.into_raw_fd(),
            version: PmiVersion::V1,
            jobid: None,
        };
        let err = settle(&service, 1, Duration::from_millis(200)).unwrap_err();
        assert!(err.to_string().contains("PMI"), "{err}");
    }

    #[test]
    fn plain_srun_rule() {
        // Hold a port, and point the rule's range at it alone: rank 0 cannot listen.
        let held = TcpListener::bind((Ipv4Addr::UNSPECIFIED, 0)).expect("a free port");
        let port = held.local_addr().expect("bound").port();
        let step = SlurmStep {
            job: 42,
            step: 1,
            first_node: "localhost".into(),
            this_node: Some("localhost".into()),
            ports: (port, port),
        };
        let key = secret::KeyFile {
            path: std::env::temp_dir().join(format!("eau2-rule-{}", secret::fresh().unwrap())),
            private_dir: None,
        };
        let err = slurm_rule(&step, None, &key, 0).unwrap_err().to_string();
        assert!(
            err.contains(&format!("port {port}")) && err.contains("SLURM_JOB_ID=42"),
            "{err}"
        );
        drop(held);

        let rank0 = slurm_rule(&step, None, &key, 0).expect("rank 0 listens");
        let rank1 = slurm_rule(&step, None, &key, 1).expect("rank 1 knows where");
        assert_eq!(rank1.master, format!("localhost:{port}"));
        assert_eq!(rank0.token, rank1.token, "both derive the same token");
        assert_eq!(rank0.job_id, "slurm-42.1");
        let given = slurm_rule(&step, Some("exported"), &key, 1).expect("an exported token");
        assert_eq!(given.token, "exported");
        let _ = std::fs::remove_file(&key.path);
    }

    #[test]
    fn a_bad_pmi_fd_is_named() {
        let service = Service::Pmi {
            fd: 1_000_000,
            version: PmiVersion::V1,
            jobid: None,
        };
        let err = settle(&service, 0, Duration::from_secs(5)).unwrap_err();
        assert!(err.to_string().contains("PMI_FD=1000000"), "{err}");
    }
}
