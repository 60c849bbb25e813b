//! Receiving hellos during rendezvous: every connection to a listener is read at once,
//! side by side, in a small poll loop, so that silent or slow strangers delay nobody.
//!
//! Each connection gets [`HELLO_WAIT`] to send its first frame, read by a
//! [`HelloReader`] (a few KiB at most). At most [`MAX_PENDING`] wait at once; beyond
//! that the oldest is dropped. The caller judges each hello [`Greeter::next`] returns.

use std::collections::VecDeque;
use std::io;
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};

use super::control::Control;
use super::hello::{HelloRead, HelloReader};
use super::ratelog::{accept_waiting, RejectLog};
use crate::error::{Error, Result};

/// How long a fresh connection may take to say hello.
pub(crate) const HELLO_WAIT: Duration = Duration::from_secs(2);

/// How many connections may be waiting to say hello at once.
pub(crate) const MAX_PENDING: usize = 1024;

const LISTENER: Token = Token(0);

/// A hello received, with its connection (blocking again) and where it came from.
pub(crate) struct Greeted {
    pub control: Control,
    pub stream: TcpStream,
    pub from: String,
}

struct Pending {
    stream: TcpStream,
    reader: HelloReader,
    since: Instant,
    from: String,
}

/// Accepts connections on a listener and reads their hellos concurrently.
pub(crate) struct Greeter<'l> {
    poll: Poll,
    events: Events,
    listener: &'l TcpListener,
    /// Slot `i` is the connection registered with token `i + 1`.
    pending: Vec<Option<Pending>>,
    ready: VecDeque<Greeted>,
    rejects: RejectLog,
    /// Accepting failed (out of file descriptors, say): try again soon, since an
    /// edge-triggered listener would not report the connections still queued.
    retry_accept: bool,
}

impl<'l> Greeter<'l> {
    /// Starts watching `listener` (which is made non-blocking) for `rank`.
    pub(crate) fn new(rank: usize, listener: &'l TcpListener) -> Result<Greeter<'l>> {
        let io = |e| Error::io("watching the rendezvous listener", e);
        listener.set_nonblocking(true).map_err(io)?;
        let poll = Poll::new().map_err(io)?;
        poll.registry()
            .register(
                &mut SourceFd(&listener.as_raw_fd()),
                LISTENER,
                Interest::READABLE,
            )
            .map_err(io)?;
        Ok(Greeter {
            poll,
            events: Events::with_capacity(256),
            listener,
            pending: Vec::new(),
            ready: VecDeque::new(),
            rejects: RejectLog::new(rank),
            retry_accept: false,
        })
    }

    /// Logs (rate-limited) that the connection from `from` was turned away.
    pub(crate) fn reject(&mut self, from: &str, why: &str) {
        self.rejects.reject(from, why);
    }

    /// The next hello to arrive, or `None` once `deadline` passes.
    pub(crate) fn next(&mut self, deadline: Instant) -> Result<Option<Greeted>> {
        loop {
            if let Some(greeted) = self.ready.pop_front() {
                return Ok(Some(greeted));
            }
            let now = Instant::now();
            self.expire(now);
            if now >= deadline {
                return Ok(None);
            }
            let wake = self
                .pending
                .iter()
                .flatten()
                .map(|p| p.since + HELLO_WAIT)
                .fold(deadline, Instant::min);
            let mut timeout = wake.saturating_duration_since(now) + Duration::from_millis(1);
            if self.retry_accept {
                self.retry_accept = false;
                self.accept_all();
                timeout = timeout.min(Duration::from_millis(10));
            }
            match self.poll.poll(&mut self.events, Some(timeout)) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::io("waiting for ranks to say hello", e)),
            }
            let tokens: Vec<Token> = self.events.iter().map(|e| e.token()).collect();
            for token in tokens {
                match token {
                    LISTENER => self.accept_all(),
                    Token(t) => self.read(t - 1),
                }
            }
        }
    }

    fn accept_all(&mut self) {
        let listener = self.listener;
        let accepted = accept_waiting(
            || listener.accept(),
            &mut self.rejects,
            &mut self.retry_accept,
        );
        for (stream, addr) in accepted {
            self.admit(stream, addr.to_string());
        }
    }

    fn admit(&mut self, stream: TcpStream, from: String) {
        if self.pending.iter().flatten().count() >= MAX_PENDING {
            self.drop_oldest();
        }
        let slot = match self.pending.iter().position(Option::is_none) {
            Some(i) => i,
            None => {
                self.pending.push(None);
                self.pending.len() - 1
            }
        };
        let registered = stream.set_nonblocking(true).and_then(|_| {
            self.poll.registry().register(
                &mut SourceFd(&stream.as_raw_fd()),
                Token(slot + 1),
                Interest::READABLE,
            )
        });
        if let Err(e) = registered {
            self.rejects
                .reject(&from, &format!("cannot watch the connection: {e}"));
            return;
        }
        self.pending[slot] = Some(Pending {
            stream,
            reader: HelloReader::new(),
            since: Instant::now(),
            from,
        });
        // The hello may be in already.
        self.read(slot);
    }

    fn read(&mut self, slot: usize) {
        let Some(p) = self.pending.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        match p.reader.read_from(&mut p.stream) {
            Ok(HelloRead::Waiting) => {}
            Ok(HelloRead::Done(control)) => {
                let p = self.remove(slot).expect("present above");
                let blocking = p
                    .stream
                    .set_nonblocking(false)
                    .and_then(|_| p.stream.set_nodelay(true));
                match blocking {
                    Ok(()) => self.ready.push_back(Greeted {
                        control,
                        stream: p.stream,
                        from: p.from,
                    }),
                    Err(e) => self.rejects.reject(&p.from, &e.to_string()),
                }
            }
            Err(e) => {
                let p = self.remove(slot).expect("present above");
                self.rejects.reject(&p.from, &e.to_string());
            }
        }
    }

    fn expire(&mut self, now: Instant) {
        for slot in 0..self.pending.len() {
            if let Some(p) = &self.pending[slot] {
                if now >= p.since + HELLO_WAIT {
                    let p = self.remove(slot).expect("present above");
                    let why = format!("said no hello within {} s", HELLO_WAIT.as_secs());
                    self.rejects.reject(&p.from, &why);
                }
            }
        }
    }

    fn drop_oldest(&mut self) {
        let oldest = (0..self.pending.len())
            .filter_map(|i| self.pending[i].as_ref().map(|p| (p.since, i)))
            .min();
        if let Some((_, slot)) = oldest {
            let p = self.remove(slot).expect("present above");
            let why = format!("more than {MAX_PENDING} connections were waiting to say hello");
            self.rejects.reject(&p.from, &why);
        }
    }

    fn remove(&mut self, slot: usize) -> Option<Pending> {
        let p = self.pending.get_mut(slot)?.take()?;
        let _ = self
            .poll
            .registry()
            .deregister(&mut SourceFd(&p.stream.as_raw_fd()));
        Some(p)
    }
}
