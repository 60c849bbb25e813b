//! The distributed key/value store: immutable values, each at its key's home rank.
//!
//! A [`Kv`] is one rank's view of the store. Its principal types:
//! - [`Key`]: a name plus a home rank;
//! - [`Kv`]: `put` sends a value to its key's home, `get` asks the home (or the local
//!   cache), `wait_and_get` waits at the home until the key is put.
//!
//! Requests are written to the home's link by the requesting thread ([`crate::net`]);
//! the home answers on its own network thread from its local store, so a rank busy
//! computing still serves its values. Keys are write-once: putting different bytes to a
//! key is an error, putting the same bytes again is a no-op. Because values never change,
//! any copy (the cache) is always correct. If any rank leaves the job unexpectedly, every
//! pending and later operation fails with [`Error::PeerLost`] naming it: an SPMD job
//! cannot go on without one of its ranks, and failing fast beats hanging.
//!
//! The store is not a mailbox: a key is never put again with other bytes. One-off
//! messages between ranks go over [`crate::msg`].
//!
//! Keys can be removed by *family* ([`Kv::free_family`]): the family of a name is its
//! part before the first NUL byte, so a distributed frame's descriptor and its chunks are
//! one family. A freed family leaves a tombstone (its name, once) at every rank that
//! freed it: later gets, waits and puts of its keys, and waits already pending at the
//! home, fail with [`Error::Freed`] instead of waiting for a value that will never come.
//! A freed name is never reused.
//!
//! ```
//! use eau2_comm::kv::Key;
//! use eau2_comm::{net::NetConfig, Comm};
//!
//! // A job of one rank: every key's home is rank 0.
//! let comm = Comm::connect(&NetConfig::new(0, 1, "127.0.0.1:0", "")).unwrap();
//! let kv = comm.kv();
//! let key = Key::new("greeting", 0);
//! kv.put(&key, "hello").unwrap();
//! assert_eq!(&kv.wait_and_get(&key).unwrap()[..], b"hello");
//! assert!(kv.get(&Key::new("nothing", 0)).unwrap().is_none());
//! ```

mod cache;
mod key;
mod message;
mod store;
mod value;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender, TryRecvError};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use parking_lot::Mutex;

use crate::brief_poll::BriefPoll;
use crate::error::{Error, Result};
use crate::net::NetHandle;
use crate::route::{self, Replies, Service, ServiceId};
use cache::Cache;
use message::Message;
use store::{family, Lookup, Store, Waiter};

use crate::waited::WaitClock;
pub use key::Key;
pub use value::Object;
use value::Value;

/// The default byte budget of the cache of remote values.
pub const DEFAULT_CACHE_BYTES: usize = 256 << 20;

/// One rank's handle on the distributed store. Shared by reference between threads.
pub struct Kv {
    shared: Arc<Shared>,
    net: Arc<NetHandle>,
}

/// A reply to one of our requests.
enum Reply {
    Found(Bytes),
    Missing,
    PutDone { conflict: bool },
    Freed,
}

/// State shared between program threads and the network thread.
pub(crate) struct Shared {
    rank: usize,
    size: usize,
    store: Mutex<Store>,
    pending: Mutex<HashMap<u64, SyncSender<Result<Reply>>>>,
    cache: Mutex<Cache>,
    next_id: AtomicU64,
    /// Set (before waiters are failed) once any rank is lost; see `fail`.
    broken: AtomicBool,
    broken_by: Mutex<Option<(usize, String)>>,
    /// Time program threads spent waiting for answers and for keys to be put.
    pub(crate) waited: WaitClock,
}

impl Shared {
    fn check(&self) -> Result<()> {
        if self.broken.load(Ordering::SeqCst) {
            Err(self.broken_error())
        } else {
            Ok(())
        }
    }

    fn broken_error(&self) -> Error {
        match &*self.broken_by.lock() {
            Some((rank, reason)) => Error::PeerLost {
                rank: *rank,
                reason: reason.clone(),
            },
            None => Error::Shutdown("the store has failed".into()),
        }
    }

    /// Marks the job broken and fails every waiting operation. The flag is set first, and
    /// new waits check it after registering, so no wait can slip between the two.
    fn fail(&self, rank: usize, reason: &str) {
        {
            let mut by = self.broken_by.lock();
            if by.is_none() {
                *by = Some((rank, reason.to_string()));
            }
        }
        self.broken.store(true, Ordering::SeqCst);
        let pending: Vec<_> = self.pending.lock().drain().collect();
        for (_, tx) in pending {
            let _ = tx.try_send(Err(self.broken_error()));
        }
        let waiters = self.store.lock().drain_waiters();
        for waiter in waiters {
            if let Waiter::Local(tx) = waiter {
                let _ = tx.try_send(Err(self.broken_error()));
            }
        }
    }

    /// Stores a value homed here and wakes its waiters; remote waiters are answered
    /// through `send`.
    fn put_local(
        &self,
        name: &str,
        value: Value,
        mut send: impl FnMut(usize, Vec<u8>, Bytes),
    ) -> Result<()> {
        let waiters = self.store.lock().put(name, value.clone())?;
        if waiters.is_empty() {
            return Ok(());
        }
        // Waiters want bytes: encode an object once for all of them.
        let value = value.bytes();
        for waiter in waiters {
            match waiter {
                Waiter::Local(tx) => {
                    let _ = tx.try_send(Ok(value.clone()));
                }
                Waiter::Remote { rank, id } => {
                    send(rank, Message::Found { id }.encode(), value.clone())
                }
            }
        }
        Ok(())
    }

    fn complete(&self, id: u64, reply: Reply) {
        if let Some(tx) = self.pending.lock().remove(&id) {
            let _ = tx.try_send(Ok(reply));
        }
    }
}

/// Serves the store on the network thread.
pub(crate) struct StoreService {
    pub(crate) shared: Arc<Shared>,
}

impl Service for StoreService {
    fn on_message(&self, from: usize, header: &[u8], body: Bytes, out: &mut Replies<'_>) {
        let message = match Message::decode(header) {
            Ok(m) => m,
            Err(e) => {
                // A peer speaking another protocol version is a bug we cannot recover
                // from locally; say so loudly and drop the message.
                tracing::error!(
                    rank = self.shared.rank,
                    "ignoring a store message from rank {from}: {e}"
                );
                return;
            }
        };
        match message {
            Message::Put { id, name } => {
                let result = self
                    .shared
                    .put_local(&name, Value::Bytes(body), |to, h, b| out.send(to, &h, b));
                let reply = match result {
                    Err(Error::Freed(_)) => Message::Freed { id },
                    other => Message::PutDone {
                        id,
                        conflict: matches!(other, Err(Error::KeyConflict(_))),
                    },
                };
                out.send(from, &reply.encode(), Bytes::new());
            }
            Message::Get { id, name, wait } => {
                let waiter = wait.then_some(Waiter::Remote { rank: from, id });
                match self.shared.store.lock().get(&name, waiter) {
                    Lookup::Ready(v) => out.send(from, &Message::Found { id }.encode(), v.bytes()),
                    Lookup::Absent if wait => {}
                    Lookup::Absent => {
                        out.send(from, &Message::Missing { id }.encode(), Bytes::new())
                    }
                    Lookup::Freed => out.send(from, &Message::Freed { id }.encode(), Bytes::new()),
                }
            }
            Message::PutDone { id, conflict } => {
                self.shared.complete(id, Reply::PutDone { conflict })
            }
            Message::Found { id } => self.shared.complete(id, Reply::Found(body)),
            Message::Missing { id } => self.shared.complete(id, Reply::Missing),
            Message::Freed { id } => self.shared.complete(id, Reply::Freed),
        }
    }

    fn on_peer_lost(&self, rank: usize, reason: &str) {
        self.shared.fail(rank, reason);
    }
}

impl Kv {
    /// The state of `rank`'s part of the store in a job of `size`, and the service
    /// that serves it on the network thread.
    pub(crate) fn service(rank: usize, size: usize) -> StoreService {
        let shared = Arc::new(Shared {
            rank,
            size,
            store: Mutex::new(Store::default()),
            pending: Mutex::new(HashMap::new()),
            cache: Mutex::new(Cache::new(DEFAULT_CACHE_BYTES)),
            next_id: AtomicU64::new(1),
            broken: AtomicBool::new(false),
            broken_by: Mutex::new(None),
            waited: WaitClock::default(),
        });
        StoreService { shared }
    }

    /// This rank's handle on the store that `service` serves, sending through `net`.
    pub(crate) fn new(service: &StoreService, net: Arc<NetHandle>) -> Kv {
        Kv {
            shared: Arc::clone(&service.shared),
            net,
        }
    }

    /// This rank.
    pub fn rank(&self) -> usize {
        self.shared.rank
    }

    /// The number of ranks.
    pub fn size(&self) -> usize {
        self.shared.size
    }

    /// Sets the byte budget of the cache of remote values (0 disables caching).
    pub fn set_cache_budget(&self, bytes: usize) {
        self.shared.cache.lock().set_budget(bytes);
    }

    /// How many values this rank stores as their home, and their total bytes.
    pub fn local_usage(&self) -> (usize, usize) {
        self.shared.store.lock().usage()
    }

    /// Time this rank's threads have spent waiting for the store: for other ranks'
    /// answers and for keys to be put.
    pub fn waited(&self) -> Duration {
        self.shared.waited.total()
    }

    /// How many waits (from any rank) are registered here for keys not yet put: a
    /// diagnostic, and how tests make sure a wait is in place before the put.
    pub fn waiting(&self) -> usize {
        self.shared.store.lock().waiter_count()
    }

    fn check_home(&self, key: &Key) -> Result<()> {
        if key.home() < self.shared.size {
            Ok(())
        } else {
            Err(Error::Config(format!(
                "key {key} names home rank {} in a job of {} ranks",
                key.home(),
                self.shared.size
            )))
        }
    }

    /// Stores `value` under `key`, at the key's home. Returns once the home has it.
    /// Putting different bytes to a key that has a value is [`Error::KeyConflict`].
    pub fn put(&self, key: &Key, value: impl Into<Bytes>) -> Result<()> {
        self.check_home(key)?;
        self.shared.check()?;
        let value = value.into();
        if key.home() == self.shared.rank {
            return self.put_here(key, Value::Bytes(value));
        }
        let name = key.name().to_string();
        match self.request(key, None, |id| Message::Put { id, name }, value)? {
            Reply::PutDone { conflict: false } => Ok(()),
            Reply::PutDone { conflict: true } => Err(Error::KeyConflict(key.to_string())),
            Reply::Freed => Err(Error::Freed(key.to_string())),
            _ => Err(Error::Protocol(format!(
                "unexpected reply to a put of {key}"
            ))),
        }
    }

    /// Stores `value` under `key`, kept decoded if the key is homed here: this rank's
    /// [`Kv::local_object`] then returns the same object, and it is encoded only for
    /// ranks that ask for its bytes. A key homed elsewhere gets the encoded bytes.
    pub fn put_object<T: Object>(&self, key: &Key, value: Arc<T>) -> Result<()> {
        if key.home() != self.shared.rank {
            return self.put(key, value.encode());
        }
        self.shared.check()?;
        self.put_here(key, Value::object(value))
    }

    /// Stores a value homed at this rank; remote waiters get its bytes over the network.
    fn put_here(&self, key: &Key, value: Value) -> Result<()> {
        let put = self.shared.put_local(key.name(), value, |to, h, b| {
            // A failed send means the network is down; the waiter then fails with the
            // job, so there is nothing more to do here.
            let _ = route::send(&self.net, ServiceId::Store, to, &h, b);
        });
        // Name the key as a remote put's conflict does: with its home.
        put.map_err(|e| match e {
            Error::KeyConflict(_) => Error::KeyConflict(key.to_string()),
            Error::Freed(_) => Error::Freed(key.to_string()),
            other => other,
        })
    }

    /// The object of type `T` stored under `key` at this rank by [`Kv::put_object`], or
    /// `None` (not homed here, not put yet, put as bytes, or of another type).
    pub fn local_object<T: Object>(&self, key: &Key) -> Option<Arc<T>> {
        if key.home() != self.shared.rank {
            return None;
        }
        match self.shared.store.lock().get(key.name(), None) {
            Lookup::Ready(v) => v.downcast(),
            Lookup::Absent | Lookup::Freed => None,
        }
    }

    /// The value of `key`, or `None` when it has not been put (yet).
    pub fn get(&self, key: &Key) -> Result<Option<Bytes>> {
        self.check_home(key)?;
        self.shared.check()?;
        self.check_not_freed(key)?;
        if key.home() == self.shared.rank {
            return match self.shared.store.lock().get(key.name(), None) {
                Lookup::Ready(v) => Ok(Some(v.bytes())),
                Lookup::Absent => Ok(None),
                Lookup::Freed => Err(Error::Freed(key.to_string())),
            };
        }
        if let Some(v) = self.shared.cache.lock().get(key) {
            return Ok(Some(v));
        }
        let name = key.name().to_string();
        let get = |id| Message::Get {
            id,
            name,
            wait: false,
        };
        match self.request(key, None, get, Bytes::new())? {
            Reply::Found(v) => {
                self.shared.cache.lock().insert(key.clone(), v.clone());
                Ok(Some(v))
            }
            Reply::Missing => Ok(None),
            Reply::Freed => Err(Error::Freed(key.to_string())),
            Reply::PutDone { .. } => Err(Error::Protocol(format!(
                "unexpected reply to a get of {key}"
            ))),
        }
    }

    /// The value of `key`, waiting at its home until someone puts it.
    pub fn wait_and_get(&self, key: &Key) -> Result<Bytes> {
        self.wait(key, None)
    }

    /// Like [`Kv::wait_and_get`], giving up with [`Error::Timeout`] after `timeout`.
    pub fn wait_and_get_timeout(&self, key: &Key, timeout: Duration) -> Result<Bytes> {
        self.wait(key, Some(timeout))
    }

    fn wait(&self, key: &Key, timeout: Option<Duration>) -> Result<Bytes> {
        self.check_home(key)?;
        self.shared.check()?;
        self.check_not_freed(key)?;
        if key.home() == self.shared.rank {
            let (tx, rx) = sync_channel(1);
            let found = self
                .shared
                .store
                .lock()
                .get(key.name(), Some(Waiter::Local(tx)));
            match found {
                Lookup::Ready(v) => return Ok(v.bytes()),
                Lookup::Freed => return Err(Error::Freed(key.to_string())),
                Lookup::Absent => {}
            }
            self.shared.check()?;
            return self.shared.waited.time(|| {
                let poll = self.net.brief_poll();
                receive(&rx, timeout, poll, || format!("waiting for key {key}"))
            });
        }
        if let Some(v) = self.shared.cache.lock().get(key) {
            return Ok(v);
        }
        let name = key.name().to_string();
        let get = |id| Message::Get {
            id,
            name,
            wait: true,
        };
        match self.request(key, timeout, get, Bytes::new())? {
            Reply::Found(v) => {
                self.shared.cache.lock().insert(key.clone(), v.clone());
                Ok(v)
            }
            Reply::Freed => Err(Error::Freed(key.to_string())),
            _ => Err(Error::Protocol(format!(
                "unexpected reply to a wait for {key}"
            ))),
        }
    }

    /// [`Error::Freed`] when this rank freed `key`'s family.
    fn check_not_freed(&self, key: &Key) -> Result<()> {
        if self.shared.store.lock().is_freed(key.name()) {
            Err(Error::Freed(key.to_string()))
        } else {
            Ok(())
        }
    }

    /// Removes, at this rank, every key of the family `name` (the keys whose name is
    /// `name` or starts with `name` and a NUL byte) homed here, drops cached copies of
    /// any of its keys, and leaves a tombstone: from then on this rank's gets, waits and
    /// puts of the family's keys fail with [`Error::Freed`], and so do other ranks'
    /// requests for its keys homed here, including waits already pending.
    ///
    /// Each rank frees its own part: a family spread over the ranks is freed when every
    /// rank has called this (a collective free runs a barrier first, so that no rank
    /// still reads what another removes). Freeing a family twice is a no-op.
    pub fn free_family(&self, name: &str) {
        let name = family(name);
        let waiters = self.shared.store.lock().free_family(name);
        self.shared.cache.lock().remove_family(name);
        for waiter in waiters {
            match waiter {
                Waiter::Local(tx) => {
                    let key = format!("{name:?}@{}", self.shared.rank);
                    let _ = tx.try_send(Err(Error::Freed(key)));
                }
                Waiter::Remote { rank, id } => {
                    // A failed send means the network is down; the waiter fails with the
                    // job then.
                    let _ = route::send(
                        &self.net,
                        ServiceId::Store,
                        rank,
                        &Message::Freed { id }.encode(),
                        Bytes::new(),
                    );
                }
            }
        }
    }

    /// Sends a request for `key` to its home and waits for the reply.
    fn request(
        &self,
        key: &Key,
        timeout: Option<Duration>,
        message: impl FnOnce(u64) -> Message,
        body: Bytes,
    ) -> Result<Reply> {
        let id = self.shared.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = sync_channel(1);
        self.shared.pending.lock().insert(id, tx);
        if let Err(e) = self.shared.check() {
            self.shared.pending.lock().remove(&id);
            return Err(e);
        }
        let header = message(id).encode();
        if let Err(e) = route::send(&self.net, ServiceId::Store, key.home(), &header, body) {
            self.shared.pending.lock().remove(&id);
            return Err(e);
        }
        let result = self.shared.waited.time(|| {
            let poll = self.net.brief_poll_from(Some(key.home()));
            receive(&rx, timeout, poll, || {
                format!("waiting for rank {} to answer about key {key}", key.home())
            })
        });
        if result.is_err() {
            self.shared.pending.lock().remove(&id);
        }
        result
    }
}

/// Waits on a reply slot, with an optional deadline: polls briefly (see
/// [`BriefPoll`]), then sleeps.
fn receive<T>(
    rx: &Receiver<Result<T>>,
    timeout: Option<Duration>,
    mut poll: BriefPoll<'_>,
    what: impl FnOnce() -> String,
) -> Result<T> {
    let dropped = |what: String| Error::Shutdown(format!("{what}: the store was dropped"));
    loop {
        match rx.try_recv() {
            Ok(reply) => return reply,
            Err(TryRecvError::Disconnected) => return Err(dropped(what())),
            Err(TryRecvError::Empty) if poll.again() => {}
            Err(TryRecvError::Empty) => break,
        }
    }
    match timeout {
        None => rx.recv().map_err(|_| dropped(what()))?,
        Some(t) => match rx.recv_timeout(t) {
            Ok(r) => r,
            Err(RecvTimeoutError::Timeout) => Err(Error::Timeout(format!("{} for {t:?}", what()))),
            Err(RecvTimeoutError::Disconnected) => Err(dropped(what())),
        },
    }
}
