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

/// Shows the name quoted, with escapes for anything unprintable, and the home rank:
/// `"numbers"@0`. A NUL in a name separates the parts of a derived key (a distributed
/// frame's chunk keys are its name, column and chunk); each further part is shown after a
/// `/`, bare when it is plain text (`"numbers"/0/3@1`), so an error about a key never
/// carries raw control characters.
impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = self.name.split('\0');
        // `split` yields at least one part, even of an empty name.
        write!(f, "{:?}", parts.next().unwrap_or_default())?;
        for part in parts {
            let plain = !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'));
            if plain {
                write!(f, "/{part}")?;
            } else {
                write!(f, "/{part:?}")?;
            }
        }
        write!(f, "@{}", self.home)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_readable() {
        assert_eq!(Key::new("numbers", 0).to_string(), "\"numbers\"@0");
        assert_eq!(
            Key::new("numbers\u{0}0\u{0}3", 1).to_string(),
            "\"numbers\"/0/3@1"
        );
        assert_eq!(
            Key::new("a b\u{0}x y\u{0}", 2).to_string(),
            "\"a b\"/\"x y\"/\"\"@2"
        );
        assert_eq!(
            Key::new("tab\there\n", 0).to_string(),
            "\"tab\\there\\n\"@0"
        );
        let shown = Key::new("f\u{0}\u{1}", 0).to_string();
        assert!(!shown.chars().any(|c| c.is_control()), "{shown}");
    }
}
