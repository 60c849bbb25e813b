//! The values homed at this rank, who is waiting for the ones not yet put, and the
//! families of keys that were freed.

use std::collections::{HashMap, HashSet};
use std::sync::mpsc::SyncSender;

use bytes::Bytes;

use super::value::Value;
use crate::error::{Error, Result};

/// Someone blocked in `wait_and_get` on a key that has not been put yet.
pub(crate) enum Waiter {
    /// A thread of this process.
    Local(SyncSender<Result<Bytes>>),
    /// A request from another rank, answered with a `Value` message.
    Remote { rank: usize, id: u64 },
}

enum Slot {
    Ready(Value),
    Waiting(Vec<Waiter>),
}

/// What a lookup found.
pub(crate) enum Lookup {
    Ready(Value),
    /// Not there; with `wait`, the waiter was registered.
    Absent,
    /// The key's family was freed: it will never have a value.
    Freed,
}

/// The family of a key name: the part before the first NUL byte (the whole name when it
/// has none). A distributed frame's descriptor and chunk keys share one family, so one
/// tombstone covers them all.
pub(crate) fn family(name: &str) -> &str {
    name.split('\0').next().unwrap_or(name)
}

/// Key name -> value or waiters, for the keys homed here, and the freed families.
#[derive(Default)]
pub(crate) struct Store {
    slots: HashMap<String, Slot>,
    /// Families removed by [`Store::free_family`]: one short string per freed frame, so
    /// that a late get fails at once instead of waiting for a value that never comes.
    freed: HashSet<String>,
}

impl Store {
    /// True when `name`'s family was freed.
    pub(crate) fn is_freed(&self, name: &str) -> bool {
        !self.freed.is_empty() && self.freed.contains(family(name))
    }

    /// Removes every key of `family` homed here and remembers the family as freed.
    /// Returns the waiters of its keys, which the caller fails.
    pub(crate) fn free_family(&mut self, family_name: &str) -> Vec<Waiter> {
        let mut waiters = Vec::new();
        self.slots.retain(|name, slot| {
            if family(name) != family_name {
                return true;
            }
            if let Slot::Waiting(ws) = slot {
                waiters.append(ws);
            }
            false
        });
        self.freed.insert(family_name.to_string());
        waiters
    }

    /// Stores `value` under `name`. Returns the waiters to wake. Putting the same value
    /// again is a no-op; a different one is a conflict (keys are write-once), and a key
    /// of a freed family is [`Error::Freed`] (names are never reused).
    pub(crate) fn put(&mut self, name: &str, value: Value) -> Result<Vec<Waiter>> {
        if self.is_freed(name) {
            return Err(Error::Freed(name.to_string()));
        }
        match self.slots.get_mut(name) {
            Some(Slot::Ready(existing)) => {
                if existing.same_as(&value) {
                    Ok(Vec::new())
                } else {
                    Err(Error::KeyConflict(name.to_string()))
                }
            }
            Some(slot @ Slot::Waiting(_)) => {
                let Slot::Waiting(waiters) = std::mem::replace(slot, Slot::Ready(value)) else {
                    unreachable!("matched Waiting above")
                };
                Ok(waiters)
            }
            None => {
                self.slots.insert(name.to_string(), Slot::Ready(value));
                Ok(Vec::new())
            }
        }
    }

    /// Looks `name` up; when absent and `waiter` is given, registers it.
    pub(crate) fn get(&mut self, name: &str, waiter: Option<Waiter>) -> Lookup {
        if self.is_freed(name) {
            return Lookup::Freed;
        }
        match (self.slots.get_mut(name), waiter) {
            (Some(Slot::Ready(v)), _) => Lookup::Ready(v.clone()),
            (Some(Slot::Waiting(ws)), Some(w)) => {
                ws.push(w);
                Lookup::Absent
            }
            (None, Some(w)) => {
                self.slots.insert(name.to_string(), Slot::Waiting(vec![w]));
                Lookup::Absent
            }
            (_, None) => Lookup::Absent,
        }
    }

    /// Removes every waiter (to fail them when the job breaks).
    pub(crate) fn drain_waiters(&mut self) -> Vec<Waiter> {
        let mut out = Vec::new();
        self.slots.retain(|_, slot| match slot {
            Slot::Ready(_) => true,
            Slot::Waiting(ws) => {
                out.append(ws);
                false
            }
        });
        out
    }

    /// How many waiters (local and remote) are registered for keys not yet put.
    pub(crate) fn waiter_count(&self) -> usize {
        self.slots
            .values()
            .map(|s| match s {
                Slot::Ready(_) => 0,
                Slot::Waiting(ws) => ws.len(),
            })
            .sum()
    }

    /// How many values are stored, and their total size in bytes.
    pub(crate) fn usage(&self) -> (usize, usize) {
        self.slots
            .values()
            .filter_map(|s| match s {
                Slot::Ready(v) => Some(v.size()),
                Slot::Waiting(_) => None,
            })
            .fold((0, 0), |(n, b), len| (n + 1, b + len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::sync_channel;

    fn bytes(b: &'static [u8]) -> Value {
        Value::Bytes(Bytes::from_static(b))
    }

    #[test]
    fn write_once_semantics() {
        let mut s = Store::default();
        assert!(s.put("k", bytes(b"a")).unwrap().is_empty());
        assert!(s.put("k", bytes(b"a")).unwrap().is_empty());
        assert!(matches!(
            s.put("k", bytes(b"b")),
            Err(Error::KeyConflict(_))
        ));
        assert_eq!(s.usage(), (1, 1));
    }

    #[test]
    fn waiters_are_returned_on_put() {
        let mut s = Store::default();
        let (tx, _rx) = sync_channel(1);
        assert!(matches!(
            s.get("k", Some(Waiter::Local(tx))),
            Lookup::Absent
        ));
        assert!(matches!(
            s.get("k", Some(Waiter::Remote { rank: 1, id: 7 })),
            Lookup::Absent
        ));
        let waiters = s.put("k", bytes(b"v")).unwrap();
        assert_eq!(waiters.len(), 2);
        assert!(matches!(s.get("k", None), Lookup::Ready(v) if &v.bytes()[..] == b"v"));
    }

    #[test]
    fn freed_families_fail_puts_gets_and_waiters() {
        let mut s = Store::default();
        s.put("f", bytes(b"desc")).unwrap();
        s.put("f\u{0}1\u{0}2", bytes(b"chunk")).unwrap();
        s.put("g\u{0}0", bytes(b"other")).unwrap();
        let (tx, _rx) = sync_channel(1);
        assert!(matches!(
            s.get("f\u{0}9", Some(Waiter::Local(tx))),
            Lookup::Absent
        ));
        let waiters = s.free_family("f");
        assert_eq!(waiters.len(), 1);
        assert!(matches!(s.get("f", None), Lookup::Freed));
        assert!(matches!(s.get("f\u{0}1\u{0}2", None), Lookup::Freed));
        assert!(matches!(
            s.put("f\u{0}3", bytes(b"x")),
            Err(Error::Freed(_))
        ));
        assert!(matches!(s.get("g\u{0}0", None), Lookup::Ready(_)));
        assert!(!s.is_freed("ff"));
        assert_eq!(s.usage(), (1, 5));
    }

    struct Answer(u64);

    impl super::super::Object for Answer {
        fn encode(&self) -> Bytes {
            Bytes::copy_from_slice(&self.0.to_le_bytes())
        }
        fn size(&self) -> usize {
            8
        }
    }

    #[test]
    fn objects_are_kept_decoded_and_compared_by_their_encoding() {
        let mut s = Store::default();
        let answer = std::sync::Arc::new(Answer(42));
        s.put("k", Value::object(std::sync::Arc::clone(&answer)))
            .unwrap();
        let Lookup::Ready(v) = s.get("k", None) else {
            panic!("not stored")
        };
        assert!(std::sync::Arc::ptr_eq(
            &v.downcast::<Answer>().unwrap(),
            &answer
        ));
        assert_eq!(v.bytes(), Bytes::copy_from_slice(&42u64.to_le_bytes()));
        // The same object, or its very bytes, again: no-ops; anything else conflicts.
        s.put("k", Value::object(std::sync::Arc::clone(&answer)))
            .unwrap();
        s.put("k", Value::Bytes(v.bytes())).unwrap();
        let other = Value::object(std::sync::Arc::new(Answer(7)));
        assert!(matches!(s.put("k", other), Err(Error::KeyConflict(_))));
        assert_eq!(s.usage(), (1, 8));
    }
}
