//! The communication layer: rendezvous, then one event-loop thread that reads every socket.
//!
//! A rank's network life has three steps:
//! 1. [`connect`] runs rendezvous (every rank meets rank 0, learns the directory of
//!    listening addresses and dials its peers, all proving the job's token);
//! 2. it then starts the network thread, a mio `Poll` loop over the peer links and the
//!    listener, and returns a [`NetHandle`];
//! 3. program threads [`NetHandle::send`] opaque messages (a small header plus a bulk
//!    body) to ranks; the loop hands incoming ones to the upper layer's [`Handler`] on the
//!    network thread, and [`NetHandle::shutdown`] says goodbye to every peer and closes.
//!
//! The network thread reads the sockets and runs the [`Handler`]; so does, for one
//! peer's link, a program thread waiting for a message from that peer, in its polling
//! phase (see `read_side`). A sending thread whose
//! frame finds nothing queued on the link writes it itself, and leaves the rest (when the
//! socket is full) for the network thread, which it wakes through a channel and a
//! `mio::Waker`. Handing every small request to the network thread cost one more
//! thread wake-up per get: kv get p50 went from 1.41x to about 1.2x the raw TCP round
//! trip when senders started writing (bench/RESULTS.md).
//!
//! While a program thread waits for a peer, the network thread keeps polling for
//! [`NetConfig::net_poll`] after bytes last came in instead of sleeping: the usual answer
//! then takes no thread wake-up on this side (kv get p50 38 us -> 21 us on the
//! development VM, where waking an idle vCPU costs tens of microseconds).
//!
//! Bytes on the wire are length-prefixed frames; bodies are written from and read into
//! single buffers. Bodies of 64 KiB or more are received into recycled buffers: a process
//! keeps up to 16 of each power-of-two size, 256 MiB at most, while no value uses them
//! (`pool`). A frame
//! over the size limit, an unknown message or a wrong token closes that connection with
//! a logged reason. A peer that disappears without saying goodbye is reported through
//! [`Handler::on_peer_lost`], and so is one that stays silent for longer than
//! [`NetConfig::peer_timeout`]: the network threads send heartbeats on idle links, so
//! silence means a frozen or unreachable process, never a long computation. Nothing above
//! this module sees a socket.
//!
//! Trust: a connection is a stranger until its first frame, read into a buffer of a few
//! KiB with a deadline of a couple of seconds, proves the job's token (compared in
//! constant time) and job id. Strangers delay no rendezvous (hellos are read side by
//! side), are capped in number after it, and their rejections are logged as counts.
//!
//! ```
//! use eau2_comm::net::{connect, Handler, NetConfig, Outbox};
//!
//! struct Echo;
//! impl Handler for Echo {
//!     fn on_message(&mut self, from: usize, header: Vec<u8>, body: eau2_comm::Bytes, out: &mut Outbox) {
//!         out.send(from, header, body); // echo it back
//!     }
//!     fn on_peer_lost(&mut self, _rank: usize, _reason: &str) {}
//! }
//!
//! // A job of one rank has no peers: the loop runs, with nothing to talk to.
//! let cfg = NetConfig::new(0, 1, "127.0.0.1:0", "secret");
//! let net = connect(&cfg, Box::new(Echo)).unwrap();
//! net.shutdown().unwrap();
//! ```

pub(crate) mod aligned;
mod control;
mod event_loop;
pub mod fault;
mod frame;
mod greet;
mod handler;
mod hello;
mod link;
mod pool;
mod ratelog;
mod read_side;
mod rendezvous;
pub mod token;
mod traffic;
pub mod vars;

pub use handler::{Handler, Outbox};
pub use traffic::{Flow, PeerTraffic};

pub(crate) use pool::copy_of;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::Bytes;
use mio::Waker;
use parking_lot::Mutex;

use crate::brief_poll::{BriefPoll, Expecting, Progress, WaitSignals};
use crate::error::{Error, Result};
use event_loop::{poll_with_waker, Command, EventLoop, LoopConfig};
use frame::{Limits, OutFrame};
use handler::SharedHandler;
use link::{Link, Sent};
use read_side::deliver;

/// The default largest frame body: values of hundreds of MiB fit.
pub const DEFAULT_MAX_FRAME: u64 = 2 << 30;

/// The default message window per peer (see [`NetConfig::msg_window`]).
pub const DEFAULT_MSG_WINDOW: u64 = 64 << 20;
/// The default [`NetConfig::net_poll`].
pub const DEFAULT_NET_POLL: Duration = Duration::from_micros(50);
/// The default [`NetConfig::peer_timeout`].
pub const DEFAULT_PEER_TIMEOUT: Duration = Duration::from_secs(10);

/// Where and how a rank joins its job.
#[derive(Clone, Debug)]
pub struct NetConfig {
    /// This process's rank, `0..size`.
    pub rank: usize,
    /// The number of ranks.
    pub size: usize,
    /// `host:port` of rank 0's rendezvous listener.
    pub master: String,
    /// The job's shared secret; connections that do not present it are refused.
    pub token: String,
    /// The job's identity (e.g. a launcher's job id, or a random one per job); ranks of
    /// two jobs never join each other even if they share a port and a token.
    pub job_id: String,
    /// How long rendezvous may take before failing with the missing ranks named.
    pub rendezvous_timeout: Duration,
    /// The largest frame body accepted from a peer.
    pub max_frame: u64,
    /// How many bytes of unconsumed messages a rank holds from each peer before that
    /// peer's sends wait (see [`crate::msg`]).
    pub msg_window: u64,
    /// For rank 0: a listener already bound, used instead of binding `master`. A launch
    /// environment binds port 0 itself so that it can publish the real port (through
    /// PMI, say) before rendezvous starts, with no window in which another process could
    /// take the port.
    pub listener: Option<Arc<std::net::TcpListener>>,
    /// How long a peer may send nothing at all (not even the heartbeats its network
    /// thread sends on idle links) before it is declared lost (`EAU2_PEER_TIMEOUT`).
    pub peer_timeout: Duration,
    /// How long the network thread keeps polling its sockets after bytes came in, instead
    /// of sleeping, while a program thread waits for a peer (`EAU2_NET_POLL_US`; zero
    /// turns it off). It halves the small round trip on a VM, where waking a sleeping
    /// thread costs tens of microseconds, for at most this much CPU after each frame.
    pub net_poll: Duration,
    /// Whether some machine of the job runs more ranks than it has CPUs
    /// (`EAU2_CROWDED`); `None`: the ranks find out at the first call that needs it.
    pub crowded: Option<bool>,
}

impl NetConfig {
    /// A configuration with the default timeouts (rendezvous 30 s, peers 10 s) and frame
    /// limit.
    pub fn new(rank: usize, size: usize, master: &str, token: &str) -> NetConfig {
        NetConfig {
            rank,
            size,
            master: master.to_string(),
            token: token.to_string(),
            job_id: String::new(),
            rendezvous_timeout: vars::DEFAULT_RENDEZVOUS_TIMEOUT,
            max_frame: DEFAULT_MAX_FRAME,
            msg_window: DEFAULT_MSG_WINDOW,
            listener: None,
            peer_timeout: DEFAULT_PEER_TIMEOUT,
            net_poll: DEFAULT_NET_POLL,
            crowded: None,
        }
    }
}

/// The program threads' handle on the network thread.
pub struct NetHandle {
    rank: usize,
    size: usize,
    /// Rank -> the link to it (`None` for this rank), written to directly by senders.
    links: Vec<Option<Arc<Link>>>,
    stopped: AtomicBool,
    commands: mpsc::Sender<Command>,
    waker: Option<Arc<Waker>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    /// Waiting program threads and large reads in progress (see
    /// [`NetHandle::expecting`], [`NetHandle::brief_poll`]).
    waits: Arc<WaitSignals>,
    /// The handler, for the messages a waiting program thread reads itself (`None` in
    /// a job of one rank, which has no links).
    handler: Option<SharedHandler>,
}

/// Joins the job described by `cfg` and starts the network thread, which hands incoming
/// messages to `handler`. A job of one rank skips rendezvous.
pub fn connect(cfg: &NetConfig, handler: Box<dyn Handler>) -> Result<NetHandle> {
    if cfg.size == 0 || cfg.rank >= cfg.size {
        return Err(Error::Config(format!(
            "rank {} is not in a job of {} ranks",
            cfg.rank, cfg.size
        )));
    }
    let (tx, rx) = mpsc::channel();
    if cfg.size == 1 {
        // Nobody to talk to: no sockets, no thread. Sends have no valid destination.
        return Ok(NetHandle {
            rank: 0,
            size: 1,
            links: vec![None],
            stopped: AtomicBool::new(false),
            commands: tx,
            waker: None,
            thread: Mutex::new(None),
            waits: Default::default(),
            handler: None,
        });
    }
    let joined = rendezvous::rendezvous(cfg)?;
    let (poll, waker) = poll_with_waker().map_err(|e| Error::io("creating the event loop", e))?;
    let loop_cfg = LoopConfig {
        rank: cfg.rank,
        size: cfg.size,
        token: cfg.token.clone(),
        job_id: cfg.job_id.clone(),
        limits: Limits {
            max_header: 1 << 20,
            max_body: cfg.max_frame,
        },
        peer_timeout: cfg.peer_timeout,
        poll_for: cfg.net_poll,
    };
    let waits = Arc::new(WaitSignals::default());
    let handler = SharedHandler::new(handler);
    let (event_loop, links) = EventLoop::new(
        loop_cfg,
        poll,
        joined.listener,
        joined.links,
        rx,
        handler.clone(),
        Arc::clone(&waits),
    )
    .map_err(|e| Error::io("registering connections with the event loop", e))?;
    let thread = std::thread::Builder::new()
        .name(format!("eau2-net-{}", cfg.rank))
        .spawn(move || event_loop.run())
        .map_err(|e| Error::io("starting the network thread", e))?;
    Ok(NetHandle {
        rank: cfg.rank,
        size: cfg.size,
        links,
        stopped: AtomicBool::new(false),
        commands: tx,
        waker: Some(Arc::new(waker)),
        thread: Mutex::new(Some(thread)),
        waits,
        handler: Some(handler),
    })
}

impl NetHandle {
    /// This rank.
    pub fn rank(&self) -> usize {
        self.rank
    }

    /// The number of ranks.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Sends a message to rank `to`. Returns once it is written to the socket or queued
    /// for the network thread, not once delivered; messages to a given rank arrive in
    /// the order they were sent. A message to a rank already lost is dropped: that loss
    /// has been reported to the [`Handler`].
    pub fn send(&self, to: usize, header: Vec<u8>, body: Bytes) -> Result<()> {
        self.send_aligned(to, header, body, 0)
    }

    /// [`NetHandle::send`] of a body of elements of alignment `body_align` (0 for bytes),
    /// which the receiver allocates with that alignment (see `aligned`).
    pub(crate) fn send_aligned(
        &self,
        to: usize,
        header: Vec<u8>,
        body: Bytes,
        body_align: u8,
    ) -> Result<()> {
        let Some(Some(link)) = self.links.get(to) else {
            return Err(Error::Config(format!(
                "rank {} cannot send to rank {to} in a job of {}",
                self.rank, self.size
            )));
        };
        if self.stopped.load(Ordering::Acquire) {
            return Err(Error::Shutdown("the network has been shut down".into()));
        }
        if link.send(OutFrame::data(header, body, body_align)) == Sent::Queued {
            self.flush_later(to)?;
        }
        Ok(())
    }

    /// Counts the calling thread as waiting for a peer until the guard drops: meanwhile
    /// the network thread keeps polling for a while after bytes come in instead of
    /// sleeping (see [`NetConfig::net_poll`]).
    pub(crate) fn expecting(&self) -> Expecting<'_> {
        self.waits.expect()
    }

    /// A wait for a peer: its polling phase (see [`crate::brief_poll`]), counted as
    /// expecting a peer (see [`NetHandle::expecting`]) for as long as it lives.
    pub(crate) fn brief_poll(&self) -> BriefPoll<'_> {
        BriefPoll::new(&self.waits)
    }

    /// [`NetHandle::brief_poll`] for a message from `from` (any rank if `None`): when it
    /// names another rank, the polling phase reads that rank's link on the waiting
    /// thread (see [`Progress`]).
    pub(crate) fn brief_poll_from(&self, from: Option<usize>) -> BriefPoll<'_> {
        match from {
            Some(peer) if peer != self.rank && self.handler.is_some() => {
                BriefPoll::with_progress(&self.waits, self, peer)
            }
            _ => self.brief_poll(),
        }
    }

    /// One turn at reading the link from `from` on this thread (see `read_side`): the
    /// data frames go to the handler, and its replies are sent from here. Frames only
    /// the network thread handles, and the end of the stream, are left for it.
    fn read_link(&self, link: &Link, from: usize, handler: &SharedHandler) -> Result<bool> {
        let mut heard = false;
        let mut replies = Vec::new();
        let mut for_network_thread = false;
        link.reading().in_turn(|side| {
            if side.has_left() {
                // The network thread has been asked to deal with it, and reads on then.
                return false;
            }
            let mut frames = Vec::new();
            let (any, end) = link
                .reading()
                .read(side, link.stream(), &self.waits, &mut frames);
            heard |= any;
            let mut frames = frames.into_iter();
            while let Some(frame) = frames.next() {
                match deliver(frame, from, link.traffic(), handler) {
                    Ok(outbox) => replies.extend(outbox.frames),
                    Err(frame) => {
                        side.leave(std::iter::once(frame).chain(frames), end);
                        for_network_thread = true;
                        return false;
                    }
                }
            }
            if end.is_some() {
                side.leave([], end);
                for_network_thread = true;
                return false;
            }
            true
        });
        for (to, header, body) in replies {
            self.send(to, header, body)?;
        }
        if for_network_thread {
            self.commands
                .send(Command::Read { from })
                .map_err(|_| Error::Shutdown("the network thread has stopped".into()))?;
            self.wake()?;
        }
        Ok(heard)
    }

    /// Asks the network thread to write what a sender left queued on the link to `to`.
    fn flush_later(&self, to: usize) -> Result<()> {
        self.commands
            .send(Command::Flush { to })
            .map_err(|_| Error::Shutdown("the network thread has stopped".into()))?;
        self.wake()
    }

    /// The traffic with each rank so far (indexed by rank; zero for this rank). Counts
    /// keep moving while messages flow; see [`NetHandle::traffic_cut`] for counts that
    /// agree across ranks.
    pub fn traffic(&self) -> Vec<PeerTraffic> {
        self.links
            .iter()
            .map(|l| {
                l.as_ref()
                    .map_or_else(PeerTraffic::default, |l| l.traffic().now())
            })
            .collect()
    }

    /// Collective (every rank calls it, in the same place of the program): the traffic
    /// with each rank at a consistent cut, so that what rank i reports as sent to rank j
    /// is exactly what rank j reports as received from rank i. Sends a mark on every
    /// link and waits, until `timeout`, for every peer's mark (see `traffic`).
    pub fn traffic_cut(&self, timeout: Duration) -> Result<Vec<PeerTraffic>> {
        let mut cut = vec![PeerTraffic::default(); self.size];
        for (rank, link) in self.links.iter().enumerate() {
            let Some(link) = link else { continue };
            let (sent, how) = link.mark();
            cut[rank].sent = sent;
            if how == Sent::Queued {
                self.flush_later(rank)?;
            }
        }
        let deadline = std::time::Instant::now() + timeout;
        for (rank, link) in self.links.iter().enumerate() {
            let Some(link) = link else { continue };
            // Once at the end of a job: a short sleep between looks is simpler than a
            // wake-up channel, and costs nothing that matters.
            loop {
                if let Some(received) = link.traffic().take_mark() {
                    cut[rank].received = received;
                    break;
                }
                if link.is_closed() {
                    return Err(Error::PeerLost {
                        rank,
                        reason: format!("the link closed before rank {rank} marked its traffic"),
                    });
                }
                if std::time::Instant::now() >= deadline {
                    return Err(Error::Timeout(format!(
                        "rank {} waiting {timeout:?} for rank {rank}'s traffic mark",
                        self.rank
                    )));
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        Ok(cut)
    }

    fn wake(&self) -> Result<()> {
        match &self.waker {
            Some(waker) => waker
                .wake()
                .map_err(|e| Error::io("waking the network thread", e)),
            None => Ok(()),
        }
    }

    /// Waits up to `timeout` for everything sent so far to be written to the sockets,
    /// without saying goodbye: for a process about to exit on an error, so that its
    /// last frames (such as a report of which rank was lost) reach its peers.
    pub fn drain(&self, timeout: Duration) {
        if self.thread.lock().is_none() {
            return;
        }
        let (done, drained) = mpsc::channel();
        if self.commands.send(Command::Drain { done }).is_ok() && self.wake().is_ok() {
            let _ = drained.recv_timeout(timeout);
        }
    }

    /// Closes every link without a goodbye and stops the network thread: the peers see
    /// this rank vanish, as they would a process that died, and this rank's own pending
    /// operations fail (through [`Handler::on_peer_lost`]). For a rank that fails, or a
    /// job that is stopped, while its process lives on (ranks run as threads); a process
    /// exits instead.
    pub fn abort(&self) {
        let Some(thread) = self.thread.lock().take() else {
            return;
        };
        self.stopped.store(true, Ordering::Release);
        let (done, closed) = mpsc::channel();
        if self.commands.send(Command::Abort { done }).is_ok() && self.wake().is_ok() {
            let _ = closed.recv_timeout(Duration::from_secs(10));
        }
        let _ = thread.join();
    }

    /// Says goodbye to every peer, flushes what is queued and stops the network thread.
    /// Call it once every rank is done with this one (after a final barrier). A process
    /// that fails should exit without calling it: its peers then see the connections drop
    /// and fail too, instead of waiting for it.
    pub fn shutdown(&self) -> Result<()> {
        let Some(thread) = self.thread.lock().take() else {
            return Ok(());
        };
        self.stopped.store(true, Ordering::Release);
        let (done, finished) = mpsc::channel();
        if self.commands.send(Command::Shutdown { done }).is_ok() {
            self.wake()?;
            // The loop answers once flushed (or after its own flush deadline).
            let _ = finished.recv_timeout(Duration::from_secs(30));
        }
        thread
            .join()
            .map_err(|_| Error::Shutdown("the network thread panicked".into()))
    }
}

impl Progress for NetHandle {
    fn progress(&self, from: usize) -> bool {
        let (Some(Some(link)), Some(handler)) = (self.links.get(from), &self.handler) else {
            return false;
        };
        // What this rank left queued for the peer goes first: the peer may be waiting
        // for it before it sends what this thread waits for. A failed write is left
        // for the network thread, which meets it too and closes the link.
        if link.flush().is_err() {
            let _ = self.flush_later(from);
        }
        // A failure here is the network thread's to report (the link's loss reaches
        // the waiter through the handler); the wait itself goes on.
        self.read_link(link, from, handler).unwrap_or(false)
    }
}
