//! The network thread: one mio `Poll` over the listener, the waker and every peer link.
//!
//! It never blocks and never runs user code. Program threads hand it [`Command`]s through
//! a channel and wake it with a `mio::Waker`; incoming data frames go to the upper layer's
//! [`Handler`], which may queue replies through an [`Outbox`].

use std::collections::VecDeque;
use std::io;
use std::net::TcpListener as StdListener;
use std::sync::mpsc::{Receiver, Sender};
use std::time::{Duration, Instant};

use bytes::Bytes;
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token, Waker};

use super::control::Control;
use super::frame::{FrameReader, InFrame, Limits, OutFrame, ReadError};
use super::rendezvous::{log, HELLO_LIMITS};
use super::{Handler, Outbox};

pub(crate) const LISTENER: Token = Token(0);
pub(crate) const WAKER: Token = Token(1);
const FIRST_CONN: usize = 2;

/// How long a normal shutdown may spend flushing queued frames to peers.
const FLUSH_DEADLINE: Duration = Duration::from_secs(10);

/// What program threads ask of the network thread.
pub(crate) enum Command {
    /// Queue a data frame to a rank.
    Send {
        to: usize,
        header: Vec<u8>,
        body: Bytes,
    },
    /// Say goodbye to every peer, flush, close, and report on the channel.
    Shutdown { done: Sender<()> },
}

/// Who is at the other end of a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Peer {
    Rank(usize),
    /// Connected after rendezvous and not yet rejected.
    Stranger,
}

struct Conn {
    stream: TcpStream,
    peer: Peer,
    reader: FrameReader,
    queue: VecDeque<OutFrame>,
    said_goodbye: bool,
}

/// The state owned by the network thread.
pub(crate) struct EventLoop {
    rank: usize,
    token: String,
    poll: Poll,
    listener: TcpListener,
    conns: Vec<Option<Conn>>,
    by_rank: Vec<Option<usize>>,
    commands: Receiver<Command>,
    handler: Box<dyn Handler>,
    shutting_down: Option<(Sender<()>, Instant)>,
}

impl EventLoop {
    /// Registers the rendezvous connections with a fresh poll. The waker must have been
    /// created on `poll`'s registry with token [`WAKER`].
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        rank: usize,
        token: String,
        poll: Poll,
        listener: StdListener,
        links: Vec<Option<std::net::TcpStream>>,
        limits: Limits,
        commands: Receiver<Command>,
        handler: Box<dyn Handler>,
    ) -> io::Result<EventLoop> {
        listener.set_nonblocking(true)?;
        let mut listener = TcpListener::from_std(listener);
        poll.registry()
            .register(&mut listener, LISTENER, Interest::READABLE)?;
        let mut conns = Vec::new();
        let mut by_rank = vec![None; links.len()];
        for (peer, link) in links.into_iter().enumerate() {
            let Some(link) = link else { continue };
            link.set_nonblocking(true)?;
            link.set_read_timeout(None)?;
            let mut stream = TcpStream::from_std(link);
            let index = conns.len();
            poll.registry().register(
                &mut stream,
                Token(FIRST_CONN + index),
                Interest::READABLE | Interest::WRITABLE,
            )?;
            conns.push(Some(Conn {
                stream,
                peer: Peer::Rank(peer),
                reader: FrameReader::new(limits),
                queue: VecDeque::new(),
                said_goodbye: false,
            }));
            by_rank[peer] = Some(index);
        }
        Ok(EventLoop {
            rank,
            token,
            poll,
            listener,
            conns,
            by_rank,
            commands,
            handler,
            shutting_down: None,
        })
    }

    /// Runs until shutdown completes or the poll itself fails.
    pub(crate) fn run(mut self) {
        let mut events = Events::with_capacity(256);
        loop {
            let timeout = self
                .shutting_down
                .as_ref()
                .map(|_| Duration::from_millis(20));
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
            if let Some((_, started)) = &self.shutting_down {
                let flushed = self.conns.iter().flatten().all(|c| c.queue.is_empty());
                if flushed || started.elapsed() > FLUSH_DEADLINE {
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
                Command::Send { to, header, body } => {
                    self.queue(to, OutFrame::new(&Control::Data(header), body))
                }
                Command::Shutdown { done } => {
                    for rank in 0..self.by_rank.len() {
                        self.queue(rank, OutFrame::new(&Control::Goodbye, Bytes::new()));
                    }
                    self.shutting_down = Some((done, Instant::now()));
                }
            }
        }
    }

    /// Queues a frame to `rank` and starts writing it. Frames to ranks that are gone are
    /// dropped: the handler has already been told the rank is lost.
    fn queue(&mut self, rank: usize, frame: OutFrame) {
        let Some(Some(index)) = self.by_rank.get(rank).copied() else {
            return;
        };
        if let Some(conn) = &mut self.conns[index] {
            conn.queue.push_back(frame);
            if conn.queue.len() == 1 {
                self.flush(index);
            }
        }
    }

    fn flush(&mut self, index: usize) {
        let Some(conn) = self.conns[index].as_mut() else {
            return;
        };
        while let Some(front) = conn.queue.front_mut() {
            match front.write_to(&mut conn.stream) {
                Ok(true) => {
                    conn.queue.pop_front();
                }
                Ok(false) => return,
                Err(e) => {
                    let reason = format!("write failed: {e}");
                    self.close(index, &reason);
                    return;
                }
            }
        }
    }

    fn read(&mut self, index: usize) {
        let mut frames = Vec::new();
        let result = {
            let Some(conn) = self.conns[index].as_mut() else {
                return;
            };
            conn.reader.read_from(&mut conn.stream, &mut frames)
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
        match (conn.peer, frame.control) {
            (Peer::Rank(from), Control::Data(header)) => {
                let mut outbox = Outbox::default();
                self.handler
                    .on_message(from, header, frame.body, &mut outbox);
                for (to, header, body) in outbox.frames {
                    self.queue(to, OutFrame::new(&Control::Data(header), body));
                }
            }
            (Peer::Rank(_), Control::Goodbye) => conn.said_goodbye = true,
            (Peer::Rank(from), other) => {
                log(
                    self.rank,
                    &format!("closing the connection with rank {from}: unexpected {other:?}"),
                );
                self.close(index, "protocol error: unexpected message");
            }
            (Peer::Stranger, control) => {
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
                        stream,
                        peer: Peer::Stranger,
                        reader: FrameReader::new(HELLO_LIMITS),
                        queue: VecDeque::new(),
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
                peer: Peer::Rank(r),
                ..
            }) => format!("rank {r}"),
            Some(conn) => conn
                .stream
                .peer_addr()
                .map(|a| a.to_string())
                .unwrap_or_else(|_| "an unknown peer".into()),
            None => "a closed connection".into(),
        }
    }

    /// Drops a connection. Losing a rank that did not say goodbye is a failure the upper
    /// layer must hear about; losing a stranger is not.
    fn close(&mut self, index: usize, reason: &str) {
        let Some(mut conn) = self.conns[index].take() else {
            return;
        };
        let _ = self.poll.registry().deregister(&mut conn.stream);
        if let Peer::Rank(rank) = conn.peer {
            self.by_rank[rank] = None;
            if !conn.said_goodbye {
                self.handler.on_peer_lost(rank, reason);
            }
        }
    }

    fn fail_everyone(&mut self, reason: &str) {
        for rank in 0..self.by_rank.len() {
            if rank != self.rank {
                self.handler.on_peer_lost(rank, reason);
            }
        }
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
