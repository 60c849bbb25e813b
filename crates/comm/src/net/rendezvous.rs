//! Assembling a job: every rank meets rank 0, learns where the others listen, and dials
//! its peers. This runs once, before the event loop takes the connections over.
//!
//! - Rank 0 listens on the master address and collects one [`Control::Hello`] per rank.
//! - Every other rank binds its own listener (port 0), dials the master, says hello with
//!   its listening address, the job's token and the job's id, and waits for the
//!   [`Control::Directory`].
//! - Then rank `k` dials ranks `1..k` (the master link already joins it to rank 0) and
//!   accepts ranks `k+1..size`, each greeting with a [`Control::PeerHello`].
//!
//! Hellos are received by a [`Greeter`], which reads every connection side by side with
//! a short deadline each: strangers, silent or not, neither delay nor fail a rendezvous,
//! and a timeout names only the ranks that never said hello. Dialling and the master's
//! answers use blocking sockets with deadlines.

use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::thread;
use std::time::{Duration, Instant};

use bytes::Bytes;
use speedy::Readable;

use super::control::Control;
use super::frame::{padding, OutFrame, PREFIX_LEN};
use super::greet::Greeter;
use super::hello::{judge_hello, judge_peer_hello, Expect, Rejection};
use super::NetConfig;
use crate::error::{Error, Result};

/// The largest frame a rank accepts from the master during rendezvous (the directory
/// holds one address per rank).
const MAX_DIRECTORY: u32 = 16 << 20;

/// The connections of an assembled job.
pub(crate) struct Joined {
    /// The link to each rank, `None` at our own index.
    pub links: Vec<Option<TcpStream>>,
    /// Our listener, kept so that late or stray connections can be answered and closed.
    pub listener: TcpListener,
}

/// Runs rendezvous for `cfg.rank`.
pub(crate) fn rendezvous(cfg: &NetConfig) -> Result<Joined> {
    let deadline = Instant::now() + cfg.rendezvous_timeout;
    if cfg.rank == 0 {
        master(cfg, deadline)
    } else {
        worker(cfg, deadline)
    }
}

fn expect(cfg: &NetConfig) -> Expect<'_> {
    Expect {
        size: cfg.size,
        token: &cfg.token,
        job_id: &cfg.job_id,
    }
}

fn master(cfg: &NetConfig, deadline: Instant) -> Result<Joined> {
    let listener = match &cfg.listener {
        Some(bound) => bound
            .try_clone()
            .map_err(|e| Error::io("sharing rank 0's pre-bound listener", e))?,
        None => bind_master(&cfg.master)?,
    };
    let mut links: Vec<Option<TcpStream>> = (0..cfg.size).map(|_| None).collect();
    let mut addrs = vec![String::new(); cfg.size];
    addrs[0] = cfg.master.clone();
    let mut arrived = 1;
    let mut greeter = Greeter::new(cfg.rank, &listener)?;
    while arrived < cfg.size {
        let Some(mut greeted) = greeter.next(deadline)? else {
            let missing: Vec<usize> = (1..cfg.size).filter(|&r| links[r].is_none()).collect();
            return Err(Error::RendezvousLost {
                rank: missing[0],
                msg: format!(
                    "{} never arrived at the master {} within {:?} (EAU2_RENDEZVOUS_TIMEOUT)",
                    ranks_phrase(&missing),
                    cfg.master,
                    cfg.rendezvous_timeout
                ),
            });
        };
        let reason = match judge_hello(greeted.control, expect(cfg)) {
            Ok((rank, _)) if links[rank].is_some() => format!("rank {rank} arrived twice"),
            Ok((rank, listen)) => {
                addrs[rank] = listen;
                links[rank] = Some(greeted.stream);
                arrived += 1;
                continue;
            }
            Err(Rejection::Stranger(why)) => {
                greeter.reject(&greeted.from, &why);
                continue;
            }
            Err(Rejection::Refused(reason)) => reason,
        };
        tracing::warn!(rank = cfg.rank, "refused {}: {reason}", greeted.from);
        let _ = write_control(&mut greeted.stream, &Control::Refused { reason });
    }
    drop(greeter);
    for (rank, link) in links.iter_mut().enumerate() {
        if let Some(stream) = link {
            write_control(
                stream,
                &Control::Directory {
                    addrs: addrs.clone(),
                },
            )
            .map_err(|e| Error::RendezvousLost {
                rank,
                msg: format!(
                    "rank {rank} went away before it got the directory: {}",
                    plain_io(&e)
                ),
            })?;
        }
    }
    Ok(Joined { links, listener })
}

fn worker(cfg: &NetConfig, deadline: Instant) -> Result<Joined> {
    let mut master = dial_until(&cfg.master, deadline).map_err(|e| {
        unreachable(
            0,
            e,
            format!(
                "rank {} could not reach the master at {}",
                cfg.rank, cfg.master
            ),
        )
    })?;
    // Listen on the interface that reaches the master: that is the address peers can use.
    let local_ip = master
        .local_addr()
        .map_err(|e| Error::io("reading the master link's local address", e))?
        .ip();
    let listener = TcpListener::bind((local_ip, 0))
        .map_err(|e| Error::io(format!("binding a peer listener on {local_ip}"), e))?;
    let listen = listener
        .local_addr()
        .map_err(|e| Error::io("reading the peer listener's address", e))?;
    write_control(
        &mut master,
        &Control::Hello {
            rank: cfg.rank as u32,
            size: cfg.size as u32,
            listen: listen.to_string(),
            token: cfg.token.clone(),
            job_id: cfg.job_id.clone(),
        },
    )
    .map_err(|e| master_gone(cfg, "while rank {rank} said hello", &e))?;
    let addrs = match read_control(&mut master, MAX_DIRECTORY, deadline) {
        Ok(Control::Directory { addrs }) if addrs.len() == cfg.size => addrs,
        Ok(Control::Refused { reason }) => {
            return Err(Error::Rendezvous(format!(
                "the master refused rank {}: {reason}",
                cfg.rank
            )))
        }
        Ok(other) => {
            return Err(Error::Rendezvous(format!(
                "expected the directory from the master at {}, got {}",
                cfg.master,
                other.kind()
            )))
        }
        Err(e) if e.kind() == io::ErrorKind::TimedOut => {
            // Rank 0 is the rank this one knows is late (it may be frozen, or waiting for
            // others that did not come, whom it names).
            return Err(Error::RendezvousLost {
                rank: 0,
                msg: format!(
                    "rank {} said hello to the master (rank 0 at {}) but got no directory \
                     within {:?} (EAU2_RENDEZVOUS_TIMEOUT): other ranks did not arrive (rank 0 \
                     names them)",
                    cfg.rank, cfg.master, cfg.rendezvous_timeout
                ),
            });
        }
        Err(e) => {
            return Err(master_gone(
                cfg,
                "while rank {rank} waited for the directory",
                &e,
            ))
        }
    };

    let mut links: Vec<Option<TcpStream>> = (0..cfg.size).map(|_| None).collect();
    links[0] = Some(master);
    for (peer, addr) in addrs.iter().enumerate().take(cfg.rank).skip(1) {
        let mut stream = dial_until(addr, deadline).map_err(|e| {
            unreachable(
                peer,
                e,
                format!("rank {} could not reach rank {peer} at {addr}", cfg.rank),
            )
        })?;
        write_control(
            &mut stream,
            &Control::PeerHello {
                rank: cfg.rank as u32,
                token: cfg.token.clone(),
                job_id: cfg.job_id.clone(),
            },
        )
        .map_err(|e| Error::RendezvousLost {
            rank: peer,
            msg: format!(
                "rank {peer} at {addr} went away while rank {} greeted it: {}",
                cfg.rank,
                plain_io(&e)
            ),
        })?;
        links[peer] = Some(stream);
    }

    let mut waiting: Vec<usize> = (cfg.rank + 1..cfg.size).collect();
    let mut greeter = Greeter::new(cfg.rank, &listener)?;
    while !waiting.is_empty() {
        let Some(greeted) = greeter.next(deadline)? else {
            waiting.sort_unstable();
            return Err(Error::RendezvousLost {
                rank: waiting[0],
                msg: format!(
                    "{} never connected to rank {} within {:?} (EAU2_RENDEZVOUS_TIMEOUT)",
                    ranks_phrase(&waiting),
                    cfg.rank,
                    cfg.rendezvous_timeout
                ),
            });
        };
        match judge_peer_hello(greeted.control, expect(cfg)) {
            Ok(rank) => match waiting.iter().position(|&r| r == rank) {
                Some(i) => {
                    waiting.swap_remove(i);
                    links[rank] = Some(greeted.stream);
                }
                None => greeter.reject(
                    &greeted.from,
                    &format!(
                        "rank {rank} is not expected to connect to rank {}",
                        cfg.rank
                    ),
                ),
            },
            Err(Rejection::Stranger(why) | Rejection::Refused(why)) => {
                greeter.reject(&greeted.from, &why)
            }
        }
    }
    drop(greeter);
    Ok(Joined { links, listener })
}

/// The error of a rank whose master link broke during rendezvous, in words: `during`
/// says when, with `{rank}` standing for the rank.
fn master_gone(cfg: &NetConfig, during: &str, e: &io::Error) -> Error {
    Error::RendezvousLost {
        rank: 0,
        msg: format!(
            "the master (rank 0 at {}) went away {}: {}; rank 0 failed or was stopped, and \
             its own output says why",
            cfg.master,
            during.replace("{rank}", &cfg.rank.to_string()),
            plain_io(e)
        ),
    }
}

/// The error of a rank that could not dial `peer` (`what` says who dialled whom): a
/// deadline that passed while `peer` did not listen is that rank's loss (it may be frozen
/// or gone); any other failure (an address that does not resolve) is the job's own.
fn unreachable(peer: usize, e: io::Error, what: String) -> Error {
    if e.kind() == io::ErrorKind::TimedOut {
        Error::RendezvousLost {
            rank: peer,
            msg: format!(
                "{what}: nothing listened there before the deadline (EAU2_RENDEZVOUS_TIMEOUT)"
            ),
        }
    } else {
        Error::Rendezvous(format!("{what}: {e}"))
    }
}

/// An I/O error in words a user reads without knowing sockets.
fn plain_io(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::UnexpectedEof => "it closed the connection".into(),
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe => "the connection was reset".into(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => {
            "it stopped answering before the deadline".into()
        }
        _ => e.to_string(),
    }
}

/// Binds rank 0's rendezvous listener for the master address `master` (`host:port`).
///
/// An IP address is bound as given. A host name is bound on the wildcard address of its
/// port (on loopback only, when the name resolves to loopback addresses only): a name
/// may resolve here to another of this host's addresses than the one other hosts reach
/// (Debian's `127.0.1.1 hostname` line), and the wildcard serves both. Either way the
/// name must be this host's, or rank 0 says which host it is on.
fn bind_master(master: &str) -> Result<TcpListener> {
    let (host, port) = split_host_port(master)?;
    let addrs: Vec<SocketAddr> = if let Ok(ip) = host.parse::<IpAddr>() {
        vec![SocketAddr::new(ip, port)]
    } else {
        (host, port)
            .to_socket_addrs()
            .map_err(|e| Error::Config(format!("the master address {master:?}: {e}")))?
            .collect()
    };
    let local: Vec<SocketAddr> = addrs
        .iter()
        .copied()
        .filter(|a| TcpListener::bind((a.ip(), 0)).is_ok())
        .collect();
    let Some(first) = local.first() else {
        let list: Vec<String> = addrs.iter().map(|a| a.ip().to_string()).collect();
        return Err(Error::Rendezvous(format!(
            "the master address {master} names {host} ({}), but rank 0 runs on host {}, \
             which has none of those addresses: start rank 0 on {host}, or set EAU2_MASTER \
             to an address of rank 0's host",
            list.join(", "),
            this_host()
        )));
    };
    let bind_to = if host.parse::<IpAddr>().is_ok() || local.iter().all(|a| a.ip().is_loopback()) {
        *first
    } else if first.is_ipv4() {
        SocketAddr::from(([0, 0, 0, 0], port))
    } else {
        SocketAddr::from(([0u16; 8], port))
    };
    TcpListener::bind(bind_to).map_err(|e| {
        Error::Rendezvous(format!(
            "rank 0 cannot listen on {bind_to} for the master address {master}: {e}"
        ))
    })
}

/// Splits `host:port` (or `[v6]:port`).
fn split_host_port(addr: &str) -> Result<(&str, u16)> {
    super::vars::split_host_port(addr)
        .ok_or_else(|| Error::Config(format!("bad address {addr:?}: expected host:port")))
}

/// This host's name, for messages.
fn this_host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "(this host)".into())
}

/// Connects to `addr`, retrying while nobody listens there yet, until `deadline`.
fn dial_until(addr: &str, deadline: Instant) -> io::Result<TcpStream> {
    let target =
        resolve(addr).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(io::ErrorKind::TimedOut, "deadline passed"));
        }
        match TcpStream::connect_timeout(&target, left.min(Duration::from_secs(1))) {
            Ok(stream) => {
                stream.set_nodelay(true)?;
                return Ok(stream);
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionRefused
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::WouldBlock
                        | io::ErrorKind::Interrupted
                ) =>
            {
                thread::sleep(Duration::from_millis(10));
            }
            Err(e) => return Err(e),
        }
    }
}

/// Resolves `host:port` to its first address.
pub(crate) fn resolve(addr: &str) -> Result<SocketAddr> {
    addr.to_socket_addrs()
        .map_err(|e| Error::Config(format!("bad address {addr:?}: {e}")))?
        .next()
        .ok_or_else(|| Error::Config(format!("address {addr:?} resolves to nothing")))
}

/// Writes one frame on a blocking stream.
fn write_control(stream: &mut TcpStream, control: &Control) -> io::Result<()> {
    let mut frame = OutFrame::new(control, Bytes::new());
    frame.write_to(stream)?;
    stream.flush()
}

/// Reads one body-less frame of at most `max_header` header bytes from a blocking
/// stream, giving up at `deadline`.
fn read_control(stream: &mut TcpStream, max_header: u32, deadline: Instant) -> io::Result<Control> {
    let mut prefix = [0u8; PREFIX_LEN];
    read_exact_until(stream, &mut prefix, deadline)?;
    let header_len = u32::from_le_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]);
    let mut body_len = [0u8; 8];
    body_len.copy_from_slice(&prefix[4..12]);
    let body_len = u64::from_le_bytes(body_len);
    if header_len > max_header || body_len != 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "frame of {header_len} header bytes and {body_len} body bytes exceeds the limit \
                 during rendezvous"
            ),
        ));
    }
    // The header, then the padding that ends the frame (these frames have no body).
    let header_len = header_len as usize;
    let mut header = vec![0u8; header_len + padding(PREFIX_LEN + header_len)];
    read_exact_until(stream, &mut header, deadline)?;
    Control::read_from_buffer(&header[..header_len])
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("undecodable: {e}")))
}

fn read_exact_until(stream: &mut TcpStream, buf: &mut [u8], deadline: Instant) -> io::Result<()> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(io::Error::new(io::ErrorKind::TimedOut, "deadline passed"));
    }
    stream.set_read_timeout(Some(left))?;
    stream.read_exact(buf).map_err(|e| {
        if e.kind() == io::ErrorKind::WouldBlock {
            io::Error::new(io::ErrorKind::TimedOut, "no answer before the deadline")
        } else {
            e
        }
    })
}

/// "rank 3" or "ranks 2, 5".
pub(crate) fn ranks_phrase(ranks: &[usize]) -> String {
    let mut sorted = ranks.to_vec();
    sorted.sort_unstable();
    let list: Vec<String> = sorted.iter().map(|r| r.to_string()).collect();
    if list.len() == 1 {
        format!("rank {}", list[0])
    } else {
        format!("ranks {}", list.join(", "))
    }
}
