//! Assembling a job: every rank meets rank 0, learns where the others listen, and dials
//! its peers. This runs once, with blocking sockets and deadlines, before the event loop
//! takes the connections over.
//!
//! - Rank 0 listens on the master address and collects one [`Control::Hello`] per rank.
//! - Every other rank binds its own listener (port 0), dials the master, says hello with
//!   its listening address and the job's token, and waits for the [`Control::Directory`].
//! - Then rank `k` dials ranks `1..k` (the master link already joins it to rank 0) and
//!   accepts ranks `k+1..size`, each greeting with a [`Control::PeerHello`].

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::thread;
use std::time::{Duration, Instant};

use bytes::Bytes;
use speedy::Readable;

use super::control::Control;
use super::frame::{padding, Limits, OutFrame, PREFIX_LEN};
use super::NetConfig;
use crate::error::{Error, Result};

/// Limits for frames from connections that have not proved they belong to the job: a
/// stranger cannot make us allocate much.
pub(crate) const HELLO_LIMITS: Limits = Limits {
    max_header: 64 * 1024,
    max_body: 0,
};

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

fn master(cfg: &NetConfig, deadline: Instant) -> Result<Joined> {
    let listener = match &cfg.listener {
        Some(bound) => bound
            .try_clone()
            .map_err(|e| Error::io("sharing rank 0's pre-bound listener", e))?,
        None => TcpListener::bind(resolve(&cfg.master)?).map_err(|e| {
            Error::Rendezvous(format!("rank 0 cannot listen on {}: {e}", cfg.master))
        })?,
    };
    listener
        .set_nonblocking(true)
        .map_err(|e| Error::io("setting the master listener non-blocking", e))?;
    let mut links: Vec<Option<TcpStream>> = (0..cfg.size).map(|_| None).collect();
    let mut addrs = vec![String::new(); cfg.size];
    addrs[0] = cfg.master.clone();
    let mut arrived = 1;
    while arrived < cfg.size {
        let Some(mut stream) = accept_until(&listener, deadline)? else {
            let missing: Vec<usize> = (1..cfg.size).filter(|&r| links[r].is_none()).collect();
            return Err(Error::Rendezvous(format!(
                "{} never arrived at the master {} within {:.1} s",
                ranks_phrase(&missing),
                cfg.master,
                cfg.rendezvous_timeout.as_secs_f64()
            )));
        };
        let from = peer_label(&stream);
        let hello = match read_control(&mut stream, hello_deadline(deadline)) {
            Ok(c) => c,
            Err(e) => {
                log(cfg.rank, &format!("rejected connection from {from}: {e}"));
                continue;
            }
        };
        let (rank, size, listen, token) = match hello {
            Control::Hello {
                rank,
                size,
                listen,
                token,
            } => (rank, size, listen, token),
            Control::PeerHello { token, .. } if token != cfg.token => {
                log(
                    cfg.rank,
                    &format!("rejected connection from {from}: wrong job token"),
                );
                continue;
            }
            other => {
                log(
                    cfg.rank,
                    &format!("rejected connection from {from}: expected a hello, got {other:?}"),
                );
                continue;
            }
        };
        if token != cfg.token {
            log(
                cfg.rank,
                &format!("rejected connection from {from}: wrong job token"),
            );
            continue;
        }
        let rank = rank as usize;
        let refusal = if size as usize != cfg.size {
            Some(format!(
                "rank {rank} was told the job has {size} ranks, the master has {}",
                cfg.size
            ))
        } else if rank == 0 || rank >= cfg.size {
            Some(format!(
                "rank {rank} is out of range for a job of {}",
                cfg.size
            ))
        } else if links[rank].is_some() {
            Some(format!("rank {rank} arrived twice"))
        } else {
            None
        };
        if let Some(reason) = refusal {
            log(cfg.rank, &format!("refused {from}: {reason}"));
            let _ = write_control(&mut stream, &Control::Refused { reason });
            continue;
        }
        addrs[rank] = listen;
        links[rank] = Some(stream);
        arrived += 1;
    }
    for (rank, link) in links.iter_mut().enumerate() {
        if let Some(stream) = link {
            write_control(
                stream,
                &Control::Directory {
                    addrs: addrs.clone(),
                },
            )
            .map_err(|e| Error::Rendezvous(format!("sending the directory to rank {rank}: {e}")))?;
        }
    }
    Ok(Joined { links, listener })
}

fn worker(cfg: &NetConfig, deadline: Instant) -> Result<Joined> {
    let mut master = dial_until(&cfg.master, deadline).map_err(|e| {
        Error::Rendezvous(format!(
            "rank {} could not reach the master at {}: {e}",
            cfg.rank, cfg.master
        ))
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
        },
    )
    .map_err(|e| Error::Rendezvous(format!("saying hello to the master: {e}")))?;
    let addrs = match read_control(&mut master, deadline) {
        Ok(Control::Directory { addrs }) if addrs.len() == cfg.size => addrs,
        Ok(Control::Refused { reason }) => {
            return Err(Error::Rendezvous(format!(
                "the master refused rank {}: {reason}",
                cfg.rank
            )))
        }
        Ok(other) => {
            return Err(Error::Rendezvous(format!(
                "expected the directory from the master, got {other:?}"
            )))
        }
        Err(e) => {
            return Err(Error::Rendezvous(format!(
                "waiting for the directory from the master at {}: {e}",
                cfg.master
            )))
        }
    };

    let mut links: Vec<Option<TcpStream>> = (0..cfg.size).map(|_| None).collect();
    links[0] = Some(master);
    for (peer, addr) in addrs.iter().enumerate().take(cfg.rank).skip(1) {
        let mut stream = dial_until(addr, deadline).map_err(|e| {
            Error::Rendezvous(format!(
                "rank {} could not reach rank {peer} at {addr}: {e}",
                cfg.rank
            ))
        })?;
        write_control(
            &mut stream,
            &Control::PeerHello {
                rank: cfg.rank as u32,
                token: cfg.token.clone(),
            },
        )
        .map_err(|e| Error::Rendezvous(format!("greeting rank {peer}: {e}")))?;
        links[peer] = Some(stream);
    }

    listener
        .set_nonblocking(true)
        .map_err(|e| Error::io("setting the peer listener non-blocking", e))?;
    let mut waiting: Vec<usize> = (cfg.rank + 1..cfg.size).collect();
    while !waiting.is_empty() {
        let Some(mut stream) = accept_until(&listener, deadline)? else {
            return Err(Error::Rendezvous(format!(
                "{} never connected to rank {} within {:.1} s",
                ranks_phrase(&waiting),
                cfg.rank,
                cfg.rendezvous_timeout.as_secs_f64()
            )));
        };
        let from = peer_label(&stream);
        match read_control(&mut stream, hello_deadline(deadline)) {
            Ok(Control::PeerHello { rank, token }) if token == cfg.token => {
                let rank = rank as usize;
                if let Some(i) = waiting.iter().position(|&r| r == rank) {
                    waiting.swap_remove(i);
                    links[rank] = Some(stream);
                } else {
                    log(
                        cfg.rank,
                        &format!(
                            "rejected connection from {from}: rank {rank} is not expected here"
                        ),
                    );
                }
            }
            Ok(Control::PeerHello { .. }) => log(
                cfg.rank,
                &format!("rejected connection from {from}: wrong job token"),
            ),
            Ok(other) => log(
                cfg.rank,
                &format!("rejected connection from {from}: unexpected {other:?}"),
            ),
            Err(e) => log(cfg.rank, &format!("rejected connection from {from}: {e}")),
        }
    }
    Ok(Joined { links, listener })
}

/// How long a fresh connection may take to say hello: a silent stranger must not stall
/// the whole rendezvous.
const HELLO_WAIT: Duration = Duration::from_secs(2);

fn hello_deadline(deadline: Instant) -> Instant {
    deadline.min(Instant::now() + HELLO_WAIT)
}

/// Waits for the next connection until `deadline`; `None` when it passes.
fn accept_until(listener: &TcpListener, deadline: Instant) -> Result<Option<TcpStream>> {
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                stream
                    .set_nonblocking(false)
                    .and_then(|_| stream.set_nodelay(true))
                    .map_err(|e| Error::io("configuring an accepted connection", e))?;
                return Ok(Some(stream));
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if Instant::now() >= deadline {
                    return Ok(None);
                }
                thread::sleep(Duration::from_millis(2));
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::ConnectionAborted => {}
            Err(e) => return Err(Error::io("accepting a connection", e)),
        }
    }
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

/// Reads one body-less frame from a blocking stream, giving up at `deadline`.
fn read_control(stream: &mut TcpStream, deadline: Instant) -> io::Result<Control> {
    let mut prefix = [0u8; PREFIX_LEN];
    read_exact_until(stream, &mut prefix, deadline)?;
    let header_len = u32::from_le_bytes(prefix[0..4].try_into().expect("4 bytes"));
    let body_len = u64::from_le_bytes(prefix[4..12].try_into().expect("8 bytes"));
    if header_len > HELLO_LIMITS.max_header || body_len > HELLO_LIMITS.max_body {
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

fn peer_label(stream: &TcpStream) -> String {
    stream
        .peer_addr()
        .map(|a| a.to_string())
        .unwrap_or_else(|_| "an unknown address".into())
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

/// Network diagnostics go to stderr, tagged with the rank; the launcher adds its own
/// prefix per line, so these stay readable in a job's merged output.
pub(crate) fn log(rank: usize, msg: &str) {
    eprintln!("eau2 net (rank {rank}): {msg}");
}
