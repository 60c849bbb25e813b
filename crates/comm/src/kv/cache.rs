//! A bounded cache of values fetched from other ranks. Values are immutable, so a cached
//! copy is never stale; the bound only keeps memory in check.

use std::collections::{HashMap, VecDeque};

use bytes::Bytes;

use super::key::Key;

/// First-in, first-out eviction under a byte budget.
pub(crate) struct Cache {
    values: HashMap<Key, Bytes>,
    order: VecDeque<Key>,
    bytes: usize,
    budget: usize,
}

impl Cache {
    pub(crate) fn new(budget: usize) -> Cache {
        Cache {
            values: HashMap::new(),
            order: VecDeque::new(),
            bytes: 0,
            budget,
        }
    }

    pub(crate) fn get(&self, key: &Key) -> Option<Bytes> {
        self.values.get(key).cloned()
    }

    pub(crate) fn insert(&mut self, key: Key, value: Bytes) {
        if value.len() > self.budget || self.values.contains_key(&key) {
            return;
        }
        while self.bytes + value.len() > self.budget {
            let Some(old) = self.order.pop_front() else {
                break;
            };
            if let Some(v) = self.values.remove(&old) {
                self.bytes -= v.len();
            }
        }
        self.bytes += value.len();
        self.order.push_back(key.clone());
        self.values.insert(key, value);
    }

    /// Drops every cached value of the family `name` (see [`super::Kv::free_family`]).
    pub(crate) fn remove_family(&mut self, name: &str) {
        let before = self.values.len();
        self.values
            .retain(|key, _| super::store::family(key.name()) != name);
        if self.values.len() != before {
            self.order.retain(|key| self.values.contains_key(key));
            self.bytes = self.values.values().map(Bytes::len).sum();
        }
    }

    pub(crate) fn set_budget(&mut self, budget: usize) {
        self.budget = budget;
        while self.bytes > self.budget {
            let Some(old) = self.order.pop_front() else {
                break;
            };
            if let Some(v) = self.values.remove(&old) {
                self.bytes -= v.len();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_oldest_under_budget() {
        let mut c = Cache::new(10);
        c.insert(Key::new("a", 1), Bytes::from(vec![0; 6]));
        c.insert(Key::new("b", 1), Bytes::from(vec![0; 4]));
        assert!(c.get(&Key::new("a", 1)).is_some());
        c.insert(Key::new("c", 1), Bytes::from(vec![0; 5]));
        assert!(c.get(&Key::new("a", 1)).is_none());
        assert!(c.get(&Key::new("b", 1)).is_some());
        assert!(c.get(&Key::new("c", 1)).is_some());
        c.insert(Key::new("huge", 1), Bytes::from(vec![0; 11]));
        assert!(c.get(&Key::new("huge", 1)).is_none());
        c.set_budget(0);
        assert!(c.get(&Key::new("c", 1)).is_none());
    }
}
