//! The store's wire protocol, carried as the header of network messages. Values travel
//! as message bodies, never inside these headers.

use speedy::{Readable, Writable};

use crate::error::{Error, Result};

/// A store request or reply. `id` pairs a reply with its request.
#[derive(Clone, Debug, PartialEq, Eq, Readable, Writable)]
#[speedy(tag_type = u8)]
pub(crate) enum Message {
    /// Store the body under `name` (homed at the receiver).
    Put { id: u64, name: String },
    /// The put is done; `conflict` when the key already held different bytes.
    PutDone { id: u64, conflict: bool },
    /// Send the value of `name`; with `wait`, once it has been put.
    Get { id: u64, name: String, wait: bool },
    /// The value asked for is the body.
    Found { id: u64 },
    /// The key asked for (without `wait`) is not there.
    Missing { id: u64 },
    /// The key asked for (or put) belongs to a freed family.
    Freed { id: u64 },
}

impl Message {
    pub(crate) fn encode(&self) -> Vec<u8> {
        self.write_to_vec()
            .expect("encoding a store message into memory cannot fail")
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Message> {
        Message::read_from_buffer(bytes).map_err(|e| Error::decode(format!("store message: {e}")))
    }
}
