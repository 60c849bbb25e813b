//! The network thread: one mio `Poll` over the listener, the waker and every peer link.
//!
//! It never blocks and never runs user code. It alone reads the links; incoming data
//! frames go to the upper layer's [`Handler`], which may queue replies through an
//! [`Outbox`]. Senders write to links themselves ([`Link::send`]) and hand the network
//! thread [`Command`]s through a channel, with a `mio::Waker`, only to finish writes the
//! socket did not take at once, and to shut down.

use std::io;
use std::net::TcpListener as StdListener;
use std::os::fd::AsRawFd;
use std::sync::mpsc::{Receiver, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use mio::net::{TcpListener, TcpStream};
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token, Waker};

use super::control::Control;
use super::frame::{FrameReader, InFrame, Limits, OutFrame, ReadError};
use super::link::{Link, Sent};
use super::rendezvous::{log, HELLO_LIMITS};
use super::{Handler, Outbox};

pub(crate) const LISTENER: Token = Token(0);
pub(crate) const WAKER: Token = Token(1);
const FIRST_CONN: usize = 2;

/// How long a normal shutdown may spend flushing queued frames to peers.
const FLUSH_DEADLINE: Duration = Duration::from_secs(10);

/// What program threads ask of the network thread.
pub(crate) enum Command {
    /// A sender left frames queued on the link to this rank: write them.
    Flush { to: usize },
    /// Say goodbye to every peer, flush, close, and report on the channel.
    Shutdown { done: Sender<()> },
    /// Report on the channel once everything queued so far is written (the process is
    /// about to exit on an error, and its last words should reach its peers).
    Drain { done: Sender<()> },
}

/// Who is at the other end of a connection.
enum Peer {
    Rank(Arc<Link>),
    /// Connected after rendezvous and not yet rejected. Nothing is ever sent to it.
    Stranger(TcpStream),
}

struct Conn {
    peer: Peer,
    reader: FrameReader,
    said_goodbye: bool,
}

impl Conn {
    fn stream(&self) -> &TcpStream {
        match &self.peer {
            Peer::Rank(link) => link.stream(),
            Peer::Stranger(stream) => stream,
        }
    }
}

/// The state owned by the network thread.
pub(crate) struct EventLoop {
    rank: usize,
    token: String,
    poll: Poll,
    listener: TcpListener,
    conns: Vec<Option<Conn>>,
    /// Rank -> index of its connection while it is open.
    by_rank: Vec<Option<usize>>,
    commands: Receiver<Command>,
    handler: Box<dyn Handler>,
    shutting_down: Option<(Sender<()>, Instant)>,
    /// Whether this rank has told its peers about a lost rank (it does so once).
    relayed_loss: bool,
    /// Who waits for every link to be flushed.
    draining: Vec<Sender<()>>,
}

impl EventLoop {
    /// Registers the rendezvous connections with a fresh poll and returns the loop with
    /// the links (by rank), which senders share. The waker must have been created on
    /// `poll`'s registry with token [`WAKER`].
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        rank: usize,
        token: String,
        poll: Poll,
        listener: StdListener,
        streams: Vec<Option<std::net::TcpStream>>,
        limits: Limits,
        commands: Receiver<Command>,
        handler: Box<dyn Handler>,
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
            let link = Arc::new(Link::new(peer, stream));
            conns.push(Some(Conn {
                peer: Peer::Rank(Arc::clone(&link)),
                reader: FrameReader::new(limits),
                said_goodbye: false,
            }));
            links[peer] = Some(link);
            by_rank[peer] = Some(index);
        }
        let event_loop = EventLoop {
            rank,
            token,
            poll,
            listener,
            conns,
            by_rank,
            commands,
            handler,
            shutting_down: None,
            relayed_loss: false,
            draining: Vec::new(),
        };
        Ok((event_loop, links))
    }

    /// Runs until shutdown completes or the poll itself fails.
    pub(crate) fn run(mut self) {
        let mut events = Events::with_capacity(256);
        loop {
            let waiting = self.shutting_down.is_some() || !self.draining.is_empty();
            let timeout = waiting.then_some(Duration::from_millis(20));
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                log(self.rank, &format!("poll failed: {e}; the network is down"));
                self.fail_everyone(&format!("rank {}'s network thread failed: {e}", self.rank));
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
            if !self.draining.is_empty() && self.rank_links().all(|link| link.is_flushed()) {
                for done in self.draining.drain(..) {
                    let _ = done.send(());
                }
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

    fn drain_commands(&mut self) {
        while let Ok(command) = self.commands.try_recv() {
            match command {
                Command::Flush { to } => self.flush_rank(to),
                Command::Drain { done } => {
                    for index in 0..self.conns.len() {
                        self.flush(index);
                    }
                    self.draining.push(done);
                }
                Command::Shutdown { done } => {
                    for rank in 0..self.by_rank.len() {
                        self.send(rank, OutFrame::new(&Control::Goodbye, Bytes::new()));
                    }
                    self.shutting_down = Some((done, Instant::now()));
                }
            }
        }
    }

    /// Sends a frame to `rank` from the network thread. Frames to ranks that are gone
    /// are dropped: the handler has already been told the rank is lost.
    fn send(&mut self, rank: usize, frame: OutFrame) {
        let Some(index) = self.by_rank.get(rank).copied().flatten() else {
            return;
        };
        let queued = match &self.conns[index] {
            Some(Conn {
                peer: Peer::Rank(link),
                ..
            }) => link.send(frame) == Sent::Queued,
            _ => return,
        };
        if queued {
            self.flush(index);
        }
    }

    /// The links of the ranks still connected.
    fn rank_links(&self) -> impl Iterator<Item = &Arc<Link>> {
        self.conns
            .iter()
            .flatten()
            .filter_map(|conn| match &conn.peer {
                Peer::Rank(link) => Some(link),
                Peer::Stranger(_) => None,
            })
    }

    fn flush_rank(&mut self, rank: usize) {
        if let Some(Some(index)) = self.by_rank.get(rank).copied() {
            self.flush(index);
        }
    }

    fn flush(&mut self, index: usize) {
        let result = match &self.conns[index] {
            Some(Conn {
                peer: Peer::Rank(link),
                ..
            }) => link.flush(),
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
        let mut frames = Vec::new();
        let result = {
            let Some(conn) = self.conns[index].as_mut() else {
                return;
            };
            let mut stream = match &conn.peer {
                Peer::Rank(link) => link.stream(),
                Peer::Stranger(stream) => stream,
            };
            conn.reader.read_from(&mut stream, &mut frames)
        };
        for frame in frames {
            if self.conns[index].is_none() {
                return;
            }
            self.dispatch(index, frame);
        }
        match result {
            Ok(()) => {}
            Err(ReadError::Closed) => self.close(index, "connection closed"),
            Err(ReadError::Io(e)) => self.close(index, &format!("connection broken: {e}")),
            Err(ReadError::Protocol(why)) => {
                let who = self.describe(index);
                log(
                    self.rank,
                    &format!("closing the connection with {who}: {why}"),
                );
                self.close(index, &format!("protocol error: {why}"));
            }
        }
    }

    fn dispatch(&mut self, index: usize, frame: InFrame) {
        let Some(conn) = self.conns[index].as_mut() else {
            return;
        };
        let from = match &conn.peer {
            Peer::Rank(link) => Some(link.rank()),
            Peer::Stranger(_) => None,
        };
        match (from, frame.control) {
            (Some(from), Control::Data(header)) => {
                let mut outbox = Outbox::default();
                self.handler
                    .on_message(from, header, frame.body, &mut outbox);
                for (to, header, body) in outbox.frames {
                    self.send(to, OutFrame::new(&Control::Data(header), body));
                }
            }
            (Some(_), Control::Goodbye) => conn.said_goodbye = true,
            (Some(from), Control::Lost { rank, reason }) => {
                let reason = format!("{reason} (reported by rank {from})");
                self.lose(rank as usize, &reason);
            }
            (Some(from), other) => {
                log(
                    self.rank,
                    &format!("closing the connection with rank {from}: unexpected {other:?}"),
                );
                self.close(index, "protocol error: unexpected message");
            }
            (None, control) => {
                let who = self.describe(index);
                let why = match control {
                    Control::Hello { token, .. } | Control::PeerHello { token, .. }
                        if token != self.token =>
                    {
                        "wrong job token".to_string()
                    }
                    Control::Hello { rank, .. } | Control::PeerHello { rank, .. } => {
                        format!("rank {rank} arrived after rendezvous was over")
                    }
                    other => format!("expected a hello, got {other:?}"),
                };
                log(self.rank, &format!("rejected connection from {who}: {why}"));
                self.close(index, &why);
            }
        }
    }

    fn accept_strangers(&mut self) {
        loop {
            match self.listener.accept() {
                Ok((mut stream, _)) => {
                    let index = self.free_slot();
                    if let Err(e) = self.poll.registry().register(
                        &mut stream,
                        Token(FIRST_CONN + index),
                        Interest::READABLE,
                    ) {
                        log(self.rank, &format!("cannot watch a new connection: {e}"));
                        continue;
                    }
                    self.conns[index] = Some(Conn {
                        peer: Peer::Stranger(stream),
                        reader: FrameReader::new(HELLO_LIMITS),
                        said_goodbye: false,
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    log(self.rank, &format!("accept failed: {e}"));
                    return;
                }
            }
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
            Some(Conn {
                peer: Peer::Rank(link),
                ..
            }) => format!("rank {}", link.rank()),
            Some(conn) => conn
                .stream()
                .peer_addr()
                .map(|a| a.to_string())
                .unwrap_or_else(|_| "an unknown peer".into()),
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
        if let Peer::Rank(link) = conn.peer {
            link.close();
            self.by_rank[link.rank()] = None;
            if !conn.said_goodbye {
                self.lose(link.rank(), reason);
            }
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
            if rank != self.rank {
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
