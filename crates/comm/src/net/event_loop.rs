//! The network thread: one mio `Poll` over the listener, the waker and every peer link.
//!
//! It never blocks and never runs user code. It reads every link (a program thread
//! waiting for a peer may read that one link too, taking turns: see `read_side`);
//! incoming data frames go to the upper layer's [`Handler`], which may queue replies
//! through an [`Outbox`]. Senders write to links themselves ([`Link::send`]) and hand
//! the network thread [`Command`]s through a channel, with a `mio::Waker`, only to
//! finish writes the socket did not take at once, to handle what a reading program
//! thread left, and to shut down.
//!
//! [`Handler`]: super::handler::Handler
//! [`Outbox`]: super::handler::Outbox
//! [`Handler::on_peer_lost`]: super::handler::Handler::on_peer_lost
//!
//! Every tick (a fraction of the peer timeout) it also keeps the job honest:
//! - **liveness**: a [`Control::Heartbeat`] goes on every link idle for a while, so a
//!   rank computing for minutes still shows it is alive; a rank not heard from for longer
//!   than the peer timeout is declared lost ([`Handler::on_peer_lost`]), naming it;
//! - **strangers** (connections after rendezvous) get a [`HelloReader`] of a few KiB, a
//!   short deadline, and a cap on how many may wait at once; their rejections are
//!   logged through a [`RejectLog`], a count rather than a line each in a flood.

use std::io;
use std::net::TcpListener as StdListener;
use std::os::fd::AsRawFd;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use mio::net::{TcpListener, TcpStream};
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token, Waker};

use super::control::Control;
use super::frame::{InFrame, Limits, OutFrame, ReadError};
use super::handler::SharedHandler;
use super::hello::{proves_job, Expect, HelloRead, HelloReader};
use super::link::{Link, Sent};
use super::ratelog::{accept_waiting, RejectLog};
use super::read_side::{deliver, ReadSide};
use crate::brief_poll::{WaitSignals, POLL_WHILE_RECEIVING};

pub(crate) const LISTENER: Token = Token(0);
pub(crate) const WAKER: Token = Token(1);
const FIRST_CONN: usize = 2;

/// How long a normal shutdown may spend flushing queued frames to peers.
const FLUSH_DEADLINE: Duration = Duration::from_secs(10);

/// How long a connection made after rendezvous may take to say hello.
const STRANGER_WAIT: Duration = Duration::from_secs(2);

/// How many connections made after rendezvous may wait to say hello at once; more are
/// closed as they arrive. No rank connects after rendezvous, so this costs the job
/// nothing and bounds what strangers can make a rank hold.
pub(crate) const MAX_STRANGERS: usize = 256;

/// What program threads ask of the network thread.
pub(crate) enum Command {
    /// A sender left frames queued on the link to this rank: write them.
    Flush { to: usize },
    /// A program thread reading the link from this rank left frames (or the end of the
    /// stream) that only the network thread handles: handle them, and read on.
    Read { from: usize },
    /// Say goodbye to every peer, flush, close, and report on the channel.
    Shutdown { done: Sender<()> },
    /// Report on the channel once everything queued so far is written (the process is
    /// about to exit on an error, and its last words should reach its peers).
    Drain { done: Sender<()> },
    /// Close every link without a goodbye and stop, as if the process had died: for a
    /// rank that fails while other ranks live on in the same process (`run_local`).
    Abort { done: Sender<()> },
}

/// The settings of one rank's network thread.
pub(crate) struct LoopConfig {
    /// This rank.
    pub rank: usize,
    /// The job's size.
    pub size: usize,
    /// The job's secret.
    pub token: String,
    /// The job's id.
    pub job_id: String,
    /// Frame limits for peer ranks.
    pub limits: Limits,
    /// How long a peer may stay silent before it is declared lost.
    pub peer_timeout: Duration,
    /// How long after bytes came in the loop keeps polling while a program thread waits.
    pub poll_for: Duration,
}

impl LoopConfig {
    /// How often the loop looks at the clock: often enough to notice silence within a
    /// small fraction of the timeout.
    fn tick(&self) -> Duration {
        (self.peer_timeout / 8).clamp(Duration::from_millis(10), Duration::from_millis(500))
    }

    /// After how long without writing a link gets a heartbeat.
    fn heartbeat_every(&self) -> Duration {
        (self.peer_timeout / 4).min(Duration::from_secs(1))
    }
}

/// A connection to a peer rank, as the network thread sees it.
struct RankConn {
    link: Arc<Link>,
    said_goodbye: bool,
}

/// A connection made after rendezvous, not yet rejected. Nothing is ever sent to it.
struct Stranger {
    stream: TcpStream,
    hello: HelloReader,
    since: Instant,
    from: String,
}

enum Conn {
    Rank(RankConn),
    Stranger(Stranger),
}

impl Conn {
    fn stream(&self) -> &TcpStream {
        match self {
            Conn::Rank(c) => c.link.stream(),
            Conn::Stranger(s) => &s.stream,
        }
    }
}

/// The state owned by the network thread.
pub(crate) struct EventLoop {
    cfg: LoopConfig,
    poll: Poll,
    listener: TcpListener,
    conns: Vec<Option<Conn>>,
    /// Rank -> index of its connection while it is open.
    by_rank: Vec<Option<usize>>,
    strangers: usize,
    rejects: RejectLog,
    /// Accepting failed (out of file descriptors, say): try again at the next tick,
    /// since the edge-triggered listener will not report the queued connections again.
    retry_accept: bool,
    commands: Receiver<Command>,
    handler: SharedHandler,
    shutting_down: Option<(Sender<()>, Instant)>,
    /// Whether this rank has told its peers about a lost rank (it does so once).
    relayed_loss: bool,
    /// Who waits for every link to be flushed.
    draining: Vec<Sender<()>>,
    /// Set by [`Command::Abort`]: the loop ends at the end of this turn.
    aborted: bool,
    /// When this thread last read bytes from a peer link. (Room to send opening up does
    /// not count: it showed no clear gain in an A/B, and every write would keep the loop
    /// spinning. Nor do bytes a waiting program thread read itself: it needs no help.)
    last_traffic: Instant,
    /// Program threads' waits, and this thread's large reads, for each other.
    waits: Arc<WaitSignals>,
}

impl EventLoop {
    /// Registers the rendezvous connections with a fresh poll and returns the loop with
    /// the links (by rank), which senders share. The waker must have been created on
    /// `poll`'s registry with token [`WAKER`].
    pub(crate) fn new(
        cfg: LoopConfig,
        poll: Poll,
        listener: StdListener,
        streams: Vec<Option<std::net::TcpStream>>,
        commands: Receiver<Command>,
        handler: SharedHandler,
        waits: Arc<WaitSignals>,
    ) -> io::Result<(EventLoop, Vec<Option<Arc<Link>>>)> {
        listener.set_nonblocking(true)?;
        let mut listener = TcpListener::from_std(listener);
        poll.registry()
            .register(&mut listener, LISTENER, Interest::READABLE)?;
        let mut conns = Vec::new();
        let mut links = vec![None; streams.len()];
        let mut by_rank = vec![None; streams.len()];
        for (peer, stream) in streams.into_iter().enumerate() {
            let Some(stream) = stream else { continue };
            stream.set_nonblocking(true)?;
            stream.set_read_timeout(None)?;
            let mut stream = TcpStream::from_std(stream);
            let index = conns.len();
            poll.registry().register(
                &mut stream,
                Token(FIRST_CONN + index),
                Interest::READABLE | Interest::WRITABLE,
            )?;
            let link = Arc::new(Link::new(peer, stream, cfg.limits));
            conns.push(Some(Conn::Rank(RankConn {
                link: Arc::clone(&link),
                said_goodbye: false,
            })));
            links[peer] = Some(link);
            by_rank[peer] = Some(index);
        }
        let event_loop = EventLoop {
            rejects: RejectLog::new(cfg.rank),
            cfg,
            poll,
            listener,
            conns,
            by_rank,
            strangers: 0,
            retry_accept: false,
            commands,
            handler,
            shutting_down: None,
            relayed_loss: false,
            draining: Vec::new(),
            aborted: false,
            last_traffic: Instant::now(),
            waits,
        };
        Ok((event_loop, links))
    }

    /// Runs until shutdown completes or the poll itself fails.
    pub(crate) fn run(mut self) {
        let mut events = Events::with_capacity(256);
        let tick = self.cfg.tick();
        let mut last_tick = Instant::now();
        loop {
            let waiting = self.shutting_down.is_some() || !self.draining.is_empty();
            let timeout = if self.keeps_polling() {
                std::thread::yield_now();
                Duration::ZERO
            } else if waiting {
                Duration::from_millis(20).min(tick)
            } else {
                tick
            };
            if let Err(e) = self.poll.poll(&mut events, Some(timeout)) {
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                tracing::error!(
                    rank = self.cfg.rank,
                    "poll failed: {e}; the network is down"
                );
                self.fail_everyone(&format!(
                    "rank {}'s network thread failed: {e}",
                    self.cfg.rank
                ));
                return;
            }
            for event in events.iter() {
                match event.token() {
                    LISTENER => self.accept_strangers(),
                    WAKER => {}
                    Token(t) => {
                        let index = t - FIRST_CONN;
                        if event.is_readable() || event.is_read_closed() || event.is_error() {
                            self.read(index);
                        }
                        if event.is_writable() {
                            self.flush(index);
                        }
                    }
                }
            }
            // Commands may arrive without a wake-up being distinct from other events, so
            // drain them on every turn; the channel is cheap to poll.
            self.drain_commands();
            if self.aborted {
                return;
            }
            if !self.draining.is_empty() && self.rank_links().all(|link| link.is_flushed()) {
                for done in self.draining.drain(..) {
                    let _ = done.send(());
                }
            }
            if last_tick.elapsed() >= tick {
                last_tick = Instant::now();
                self.tick();
            }
            if let Some((_, started)) = &self.shutting_down {
                let flushed = self.rank_links().all(|link| link.is_flushed());
                if flushed || started.elapsed() > FLUSH_DEADLINE {
                    self.close_links();
                    let (done, _) = self.shutting_down.take().expect("checked above");
                    let _ = done.send(());
                    return;
                }
            }
        }
    }

    /// Whether the next turn should look at the sockets without sleeping: while a
    /// program thread of this rank waits for a peer and bytes came in on a peer link in
    /// the last [`LoopConfig::poll_for`]. Such a wait is
    /// usually answered within tens of microseconds, and a thread asleep in
    /// `epoll_wait` takes about as long again to wake (on a VM, an idle vCPU's wake-up:
    /// 30 us or more measured on the development machine); a large body arrives in many
    /// such steps. A rank whose threads all compute, or whose peers have
    /// gone quiet, sleeps as before, so polling takes no CPU from computation.
    ///
    /// While a large body is half read, the rest is on its way: the loop then polls for
    /// up to [`POLL_WHILE_RECEIVING`] after the last bytes, as waiting program threads
    /// do, rather than sleep between the sender's bursts. A kv get of 4 MiB went from
    /// 0.84 / 0.99 / 0.82 of a raw transfer to 0.90 / 1.05 / 0.96 (alternated runs;
    /// broadcast and all-gather of 1 MiB unchanged; bench/RESULTS.md, session 10).
    fn keeps_polling(&self) -> bool {
        let window =
            if self.cfg.poll_for.is_zero() || self.waits.receiving.load(Ordering::Relaxed) == 0 {
                self.cfg.poll_for
            } else {
                POLL_WHILE_RECEIVING.max(self.cfg.poll_for)
            };
        self.waits.expecting.load(Ordering::Relaxed) > 0 && self.last_traffic.elapsed() < window
    }

    fn drain_commands(&mut self) {
        while let Ok(command) = self.commands.try_recv() {
            match command {
                Command::Flush { to } => self.flush_rank(to),
                Command::Read { from } => {
                    if let Some(Some(index)) = self.by_rank.get(from).copied() {
                        self.read(index);
                    }
                }
                Command::Shutdown { done } => {
                    for rank in 0..self.by_rank.len() {
                        self.send(rank, OutFrame::new(&Control::Goodbye, Bytes::new()));
                    }
                    self.shutting_down = Some((done, Instant::now()));
                }
                Command::Drain { done } => {
                    for index in 0..self.conns.len() {
                        self.flush(index);
                    }
                    self.draining.push(done);
                }
                Command::Abort { done } => {
                    // This rank's own waits fail too (other threads of a rank run as a
                    // thread may still wait on it), then the peers see the links drop.
                    let reason = format!("rank {} left the job", self.cfg.rank);
                    self.fail_everyone(&reason);
                    self.aborted = true;
                    let _ = done.send(());
                }
            }
        }
    }

    /// The periodic work: heartbeats out, silent ranks and slow strangers dropped.
    fn tick(&mut self) {
        self.rejects.roll();
        if self.retry_accept {
            self.retry_accept = false;
            self.accept_strangers();
        }
        let heartbeat_every = self.cfg.heartbeat_every();
        for index in 0..self.conns.len() {
            match &self.conns[index] {
                Some(Conn::Stranger(s)) if s.since.elapsed() >= STRANGER_WAIT => {
                    let from = s.from.clone();
                    let why = format!("said no hello within {} s", STRANGER_WAIT.as_secs());
                    self.rejects.reject(&from, &why);
                    self.close(index, &why);
                }
                Some(Conn::Rank(c)) if !c.said_goodbye => {
                    let idle = c.link.idle_for().is_some_and(|d| d >= heartbeat_every);
                    if idle && self.shutting_down.is_none() {
                        let rank = c.link.rank();
                        self.send(rank, OutFrame::new(&Control::Heartbeat, Bytes::new()));
                    }
                    self.check_heard(index);
                }
                _ => {}
            }
        }
    }

    /// Declares the rank on connection `index` lost if nothing came from it for longer
    /// than the peer timeout. Reads first: bytes may be waiting that this thread, busy
    /// with other links, has not read yet.
    fn check_heard(&mut self, index: usize) {
        if self.overdue(index).is_none() {
            return;
        }
        self.read(index);
        if let Some((rank, silent)) = self.overdue(index) {
            let reason = format!(
                "no sign of life from rank {rank} for {} ms (the limit, EAU2_PEER_TIMEOUT, \
                 is {:?}): it is frozen (stopped, or its machine hangs) or unreachable",
                silent.as_millis(),
                self.cfg.peer_timeout
            );
            tracing::error!(rank = self.cfg.rank, "{reason}");
            self.close(index, &reason);
        }
    }

    /// The rank on connection `index` and how long nothing has come from it, if that
    /// is longer than the peer timeout.
    fn overdue(&self, index: usize) -> Option<(usize, Duration)> {
        let Some(Conn::Rank(c)) = &self.conns[index] else {
            return None;
        };
        let silent = c.link.reading().last_heard().elapsed();
        (silent > self.cfg.peer_timeout).then(|| (c.link.rank(), silent))
    }

    /// Sends a frame to `rank` from the network thread. Frames to ranks that are gone
    /// are dropped: the handler has already been told the rank is lost.
    fn send(&mut self, rank: usize, frame: OutFrame) {
        let Some(index) = self.by_rank.get(rank).copied().flatten() else {
            return;
        };
        let queued = match &self.conns[index] {
            Some(Conn::Rank(c)) => c.link.send(frame) == Sent::Queued,
            _ => return,
        };
        if queued {
            self.flush(index);
        }
    }

    /// The links of the ranks still connected.
    fn rank_links(&self) -> impl Iterator<Item = &Arc<Link>> {
        self.conns.iter().flatten().filter_map(|conn| match conn {
            Conn::Rank(c) => Some(&c.link),
            Conn::Stranger(_) => None,
        })
    }

    fn flush_rank(&mut self, rank: usize) {
        if let Some(Some(index)) = self.by_rank.get(rank).copied() {
            self.flush(index);
        }
    }

    fn flush(&mut self, index: usize) {
        let result = match &self.conns[index] {
            Some(Conn::Rank(c)) => c.link.flush(),
            _ => return,
        };
        if let Err(e) = result {
            // Read what the peer sent before it went: its last words may say which rank
            // failed first (a `Lost` relay), which is the better reason to report.
            self.read(index);
            self.close(index, &format!("write failed: {e}"));
        }
    }

    fn read(&mut self, index: usize) {
        match &self.conns[index] {
            Some(Conn::Rank(_)) => self.read_rank(index),
            Some(Conn::Stranger(_)) => self.read_stranger(index),
            None => {}
        }
    }

    /// Reads the link on connection `index`, unless a program thread is reading it
    /// (which then reads once more on this thread's behalf: see `read_side`).
    fn read_rank(&mut self, index: usize) {
        let Some(Conn::Rank(conn)) = &self.conns[index] else {
            return;
        };
        let link = Arc::clone(&conn.link);
        link.reading()
            .in_turn(|side| self.read_turn(index, &link, side));
    }

    /// One turn at reading `link` (connection `index`): first what a program thread left
    /// here, then the socket. Returns whether the connection is still open.
    fn read_turn(&mut self, index: usize, link: &Link, side: &mut ReadSide) -> bool {
        let (mut frames, mut end) = side.take_left();
        if end.is_none() {
            let (heard, read_end) =
                link.reading()
                    .read(side, link.stream(), &self.waits, &mut frames);
            if heard {
                self.last_traffic = Instant::now();
            }
            end = read_end;
        }
        for frame in frames {
            if self.conns[index].is_none() {
                return false;
            }
            self.dispatch(index, frame);
        }
        if self.conns[index].is_none() {
            return false;
        }
        match end {
            None => return true,
            Some(ReadError::Closed) => self.close(index, "connection closed"),
            Some(ReadError::Io(e)) => self.close(index, &format!("connection broken: {e}")),
            Some(ReadError::Protocol(why)) => {
                let who = self.describe(index);
                tracing::warn!(
                    rank = self.cfg.rank,
                    "closing the connection with {who}: {why}"
                );
                self.close(index, &format!("protocol error: {why}"));
            }
        }
        false
    }

    fn dispatch(&mut self, index: usize, frame: InFrame) {
        let Some(Conn::Rank(conn)) = &self.conns[index] else {
            return;
        };
        let from = conn.link.rank();
        let frame = match deliver(frame, from, conn.link.traffic(), &self.handler) {
            Ok(outbox) => {
                for (to, header, body) in outbox.frames {
                    self.send(to, OutFrame::data(header, body, 0));
                }
                return;
            }
            Err(frame) => frame,
        };
        match frame.control {
            Control::Goodbye => {
                if let Some(Conn::Rank(conn)) = self.conns[index].as_mut() {
                    conn.said_goodbye = true;
                }
            }
            Control::Lost { rank, reason } => {
                let reason = format!("{reason} (reported by rank {from})");
                self.lose(rank as usize, &reason);
            }
            other => {
                tracing::warn!(
                    rank = self.cfg.rank,
                    "closing the connection with rank {from}: unexpected {}",
                    other.kind()
                );
                self.close(index, "protocol error: unexpected message");
            }
        }
    }

    /// Reads a stranger's hello and rejects it with the reason: after rendezvous nobody
    /// may join, so even a rank of this job is turned away (saying so, for the logs).
    fn read_stranger(&mut self, index: usize) {
        let Some(Conn::Stranger(s)) = self.conns[index].as_mut() else {
            return;
        };
        let why = match s.hello.read_from(&mut s.stream) {
            Ok(HelloRead::Waiting) => return,
            Ok(HelloRead::Done(control)) => {
                let expect = Expect {
                    size: self.cfg.size,
                    token: &self.cfg.token,
                    job_id: &self.cfg.job_id,
                };
                match control {
                    Control::Hello {
                        rank,
                        token,
                        job_id,
                        ..
                    }
                    | Control::PeerHello {
                        rank,
                        token,
                        job_id,
                    } => match proves_job(&token, &job_id, expect) {
                        Ok(()) => format!("rank {rank} arrived after rendezvous was over"),
                        Err(rejection) => rejection.reason().to_string(),
                    },
                    other => format!("expected a hello, got {}", other.kind()),
                }
            }
            Err(e) => e.to_string(),
        };
        let from = s.from.clone();
        self.rejects.reject(&from, &why);
        self.close(index, &why);
    }

    fn accept_strangers(&mut self) {
        let listener = &self.listener;
        let accepted = accept_waiting(
            || listener.accept(),
            &mut self.rejects,
            &mut self.retry_accept,
        );
        for (mut stream, addr) in accepted {
            let from = addr.to_string();
            if self.strangers >= MAX_STRANGERS {
                // Dropping the stream closes it.
                self.rejects.reject(
                    &from,
                    &format!("more than {MAX_STRANGERS} connections were waiting to say hello"),
                );
                continue;
            }
            let index = self.free_slot();
            if let Err(e) = self.poll.registry().register(
                &mut stream,
                Token(FIRST_CONN + index),
                Interest::READABLE,
            ) {
                self.rejects
                    .reject(&from, &format!("cannot watch the connection: {e}"));
                continue;
            }
            self.conns[index] = Some(Conn::Stranger(Stranger {
                stream,
                hello: HelloReader::new(),
                since: Instant::now(),
                from,
            }));
            self.strangers += 1;
        }
    }

    fn free_slot(&mut self) -> usize {
        if let Some(i) = self.conns.iter().position(Option::is_none) {
            i
        } else {
            self.conns.push(None);
            self.conns.len() - 1
        }
    }

    fn describe(&self, index: usize) -> String {
        match &self.conns[index] {
            Some(Conn::Rank(c)) => format!("rank {}", c.link.rank()),
            Some(Conn::Stranger(s)) => s.from.clone(),
            None => "a closed connection".into(),
        }
    }

    /// Drops a connection. Losing a rank that did not say goodbye is a failure the upper
    /// layer must hear about; losing a stranger is not.
    fn close(&mut self, index: usize, reason: &str) {
        let Some(conn) = self.conns[index].take() else {
            return;
        };
        let fd = conn.stream().as_raw_fd();
        let _ = self.poll.registry().deregister(&mut SourceFd(&fd));
        match conn {
            Conn::Rank(c) => {
                c.link.reading().forget_body(&self.waits);
                c.link.close();
                self.by_rank[c.link.rank()] = None;
                if !c.said_goodbye {
                    self.lose(c.link.rank(), reason);
                }
            }
            Conn::Stranger(_) => self.strangers -= 1,
        }
    }

    /// Rank `rank` is lost: tells the upper layer, and the first time, every other peer,
    /// so that all of them fail naming this rank rather than whichever rank they
    /// happen to see fail next.
    fn lose(&mut self, rank: usize, reason: &str) {
        // The upper layer hears first: sending the relay may meet other broken links,
        // whose losses must not be reported ahead of this one.
        self.handler.on_peer_lost(rank, reason);
        if !self.relayed_loss {
            self.relayed_loss = true;
            let lost = Control::Lost {
                rank: rank as u32,
                reason: reason.to_string(),
            };
            for peer in 0..self.by_rank.len() {
                if peer != rank {
                    self.send(peer, OutFrame::new(&lost, Bytes::new()));
                }
            }
        }
    }

    /// Shuts every link down, so that peers see the end of the stream at once.
    fn close_links(&mut self) {
        for link in self.rank_links() {
            link.close();
        }
    }

    fn fail_everyone(&mut self, reason: &str) {
        for rank in 0..self.by_rank.len() {
            if rank != self.cfg.rank {
                self.handler.on_peer_lost(rank, reason);
            }
        }
        self.close_links();
        if let Some((done, _)) = self.shutting_down.take() {
            let _ = done.send(());
        }
    }
}

/// Creates the poll and its waker together, since the waker must live on that poll.
pub(crate) fn poll_with_waker() -> io::Result<(Poll, Waker)> {
    let poll = Poll::new()?;
    let waker = Waker::new(poll.registry(), WAKER)?;
    Ok((poll, waker))
}
