//! Message tags, apart so that the collectives' operations and the mailbox can name them
//! without depending on the message plane's API.

/// A message tag: user tags are below [`RESERVED_TAGS`].
pub type Tag = u64;

/// The first tag reserved for the collectives.
pub const RESERVED_TAGS: Tag = 1 << 63;
