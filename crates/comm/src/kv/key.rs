//! Keys: a name and the rank that is the value's home.

use std::fmt;

use serde::{Deserialize, Serialize};
use speedy::{Readable, Writable};

/// A key of the distributed store. The home rank holds the value; every other rank asks
/// the home for it (and may cache it, since values never change).
#[derive(
    Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Readable, Writable,
)]
pub struct Key {
    name: String,
    home: u32,
}

impl Key {
    /// The key `name` whose value lives at rank `home`.
    pub fn new(name: impl Into<String>, home: usize) -> Key {
        Key {
            name: name.into(),
            home: home as u32,
        }
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The home rank.
    pub fn home(&self) -> usize {
        self.home as usize
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}@{}", self.name, self.home)
    }
}
