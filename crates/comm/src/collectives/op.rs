//! What a collective call is, as every message of the call tells its receiver.
//!
//! Calls are matched across ranks by sequence number, so two ranks that call different
//! collectives at the same point of their programs (an SPMD mistake: `if rank == 0 {
//! sort(..) }`) would otherwise exchange each other's messages as if they belonged
//! together, and hang or compute garbage. Each collective message therefore carries its
//! call's [`Op`]: the operation, its root and the sizes that must agree. A receiver whose
//! own call at that sequence number differs fails the job (see `msg::matching`).

use std::fmt;

use speedy::{Readable, Writable};

use crate::msg::{Tag, RESERVED_TAGS};

/// Bits of a tag that hold the step within one call; the rest hold the call's number.
pub(crate) const STEP_BITS: u32 = 16;

/// The sequence numbers tags can hold: calls are numbered modulo this.
const SEQ_MASK: u64 = (RESERVED_TAGS - 1) >> STEP_BITS;

/// The tag of step `step` of call number `seq`.
pub(crate) fn tag_of(seq: u64, step: u32) -> Tag {
    debug_assert!(step < 1 << STEP_BITS);
    RESERVED_TAGS | (seq & SEQ_MASK) << STEP_BITS | step as u64
}

/// The call number of a collective's tag, or `None` for a user tag.
pub(crate) fn seq_of(tag: Tag) -> Option<u64> {
    (tag >= RESERVED_TAGS).then_some((tag & !RESERVED_TAGS) >> STEP_BITS)
}

/// A call's number as tags carry it (calls are counted modulo 2^47).
pub(crate) fn wrap_seq(seq: u64) -> u64 {
    seq & SEQ_MASK
}

/// The collective operations, as they appear on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Readable, Writable)]
#[speedy(tag_type = u8)]
pub(crate) enum Kind {
    Barrier,
    Broadcast,
    Gather,
    Scatter,
    AllGather,
    AllToAll,
    AllReduce,
    Reduce,
    AllReduceSlice,
    ReduceSlice,
    Scan,
    /// [`crate::Comm::all_reduce_elementwise`].
    AllReduceElementwise,
    /// The final barrier of a rank whose program has returned ([`crate::Comm::finish`]).
    Finish,
    /// The all-gather by which ranks learn what machines they run on (`layout.rs`).
    Layout,
}

impl Kind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Barrier => "barrier",
            Kind::Broadcast => "broadcast",
            Kind::Gather => "gather",
            Kind::Scatter => "scatter",
            Kind::AllGather => "all_gather",
            Kind::AllToAll => "all_to_all",
            Kind::AllReduce => "all_reduce",
            Kind::Reduce => "reduce",
            Kind::AllReduceSlice => "all_reduce_slice",
            Kind::ReduceSlice => "reduce_slice",
            Kind::Scan => "scan",
            Kind::AllReduceElementwise => "all_reduce_elementwise",
            Kind::Finish => "finish",
            Kind::Layout => "the layout step of an all_reduce of a plain vector",
        }
    }
}

/// "Not part of this operation" for [`Op::root`] and [`Op::len`].
const NONE: u64 = u64::MAX;

/// One collective call as far as ranks must agree on it: two ranks' calls with the same
/// sequence number must have equal `Op`s.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Readable, Writable)]
pub(crate) struct Op {
    pub(crate) kind: Kind,
    /// The root rank, for rooted operations.
    root: u64,
    /// The element count, for plain-vector reductions.
    len: u64,
    /// The element size in bytes, for plain-vector reductions (0 otherwise).
    elem: u32,
    /// A hash of the value type's name, for typed calls (0 for the byte and slice
    /// forms): ranks exchanging values of different types would decode each other's
    /// as garbage, or fail on a message of the wrong size.
    ty: u32,
    /// For typed calls whose value is a plain vector, its elements' alignment, which
    /// their bodies' frames carry (see `net::aligned`); 0 for everything else. It
    /// follows from the value type, so it never makes equal calls differ.
    body_align: u8,
}

impl Op {
    /// An operation without a root or sizes.
    pub(crate) fn plain(kind: Kind) -> Op {
        Op {
            kind,
            root: NONE,
            len: NONE,
            elem: 0,
            ty: 0,
            body_align: 0,
        }
    }

    /// A reduction or scan of values of type `T`, rooted at `root` when there is one.
    pub(crate) fn typed<T: 'static>(kind: Kind, root: Option<usize>) -> Op {
        Op {
            root: root.map_or(NONE, |r| r as u64),
            ty: type_hash::<T>(),
            body_align: super::plain::body_align::<T>(),
            ..Op::plain(kind)
        }
    }

    /// A rooted operation.
    pub(crate) fn rooted(kind: Kind, root: usize) -> Op {
        Op {
            root: root as u64,
            ..Op::plain(kind)
        }
    }

    /// This operation, carrying values of type `T` (a typed call).
    pub(crate) fn of<T: 'static>(self) -> Op {
        Op {
            ty: type_hash::<T>(),
            body_align: super::plain::body_align::<T>(),
            ..self
        }
    }

    /// A reduction of `len` plain elements of `T`, rooted at `root` when there is one.
    pub(crate) fn vector<T>(kind: Kind, root: Option<usize>, len: usize) -> Op {
        Op {
            kind,
            root: root.map_or(NONE, |r| r as u64),
            len: len as u64,
            elem: size_of::<T>() as u32,
            ty: 0,
            body_align: 0,
        }
    }

    /// The alignment the frames of this call's bodies carry (0 for bytes).
    pub(crate) fn body_align(&self) -> u8 {
        self.body_align
    }

    /// Whether this is the final barrier of a rank that has finished its program.
    pub(crate) fn is_finish(&self) -> bool {
        self.kind == Kind::Finish
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind.name())?;
        let mut parts = Vec::new();
        if self.root != NONE {
            parts.push(format!("root {}", self.root));
        }
        if self.len != NONE {
            parts.push(format!("{} elements of {} bytes", self.len, self.elem));
        }
        if self.ty != 0 {
            parts.push(match type_name_of(self.ty) {
                Some(name) => format!("value type {name}"),
                None => format!("value type #{:08x}, not one this rank uses", self.ty),
            });
        }
        if !parts.is_empty() {
            write!(f, "({})", parts.join(", "))?;
        }
        Ok(())
    }
}

/// FNV-1a of `T`'s name, folded to 32 bits and never 0: the same on every rank of a job
/// (they run one program), and different for different types in practice. The name is
/// remembered, so that an error about the call can name the type.
fn type_hash<T>() -> u32 {
    let name = std::any::type_name::<T>();
    let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    });
    let hash = ((hash >> 32) as u32 ^ hash as u32).max(1);
    let mut names = TYPE_NAMES.lock();
    if !names.iter().any(|&(h, _)| h == hash) {
        names.push((hash, name));
    }
    hash
}

/// The value types of this process's typed calls so far, by hash: a program uses a
/// handful, so a list searched in order is enough.
static TYPE_NAMES: parking_lot::Mutex<Vec<(u32, &'static str)>> =
    parking_lot::Mutex::new(Vec::new());

/// The name of a value type this process's typed calls used, by its hash.
fn type_name_of(hash: u32) -> Option<&'static str> {
    let names = TYPE_NAMES.lock();
    names
        .iter()
        .find(|&&(h, _)| h == hash)
        .map(|&(_, name)| name)
}

/// `op #seq`, with what a finish means, as error messages name a call.
pub(crate) fn describe(op: &Op, seq: u64) -> String {
    if op.is_finish() {
        format!("finish #{seq} (its program has returned)")
    } else {
        format!("{op} #{seq}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_give_back_their_call() {
        for seq in [0, 1, 12, SEQ_MASK] {
            assert_eq!(seq_of(tag_of(seq, 7)), Some(seq));
        }
        assert_eq!(seq_of(5), None);
        assert_eq!(seq_of(tag_of(SEQ_MASK + 3, 0)), Some(2));
    }

    #[test]
    fn descriptions_name_roots_and_sizes() {
        assert_eq!(
            describe(&Op::rooted(Kind::Broadcast, 2), 4),
            "broadcast(root 2) #4"
        );
        assert_eq!(
            Op::vector::<u64>(Kind::AllReduceSlice, None, 10).to_string(),
            "all_reduce_slice(10 elements of 8 bytes)"
        );
        assert_ne!(
            Op::vector::<u64>(Kind::AllReduceSlice, None, 10),
            Op::vector::<u32>(Kind::AllReduceSlice, None, 10)
        );
        assert!(describe(&Op::plain(Kind::Finish), 3).starts_with("finish #3"));
        let (a, b) = (
            Op::typed::<u64>(Kind::AllReduce, None),
            Op::typed::<u32>(Kind::AllReduce, None),
        );
        assert_ne!(a, b);
        assert_eq!(a, Op::typed::<u64>(Kind::AllReduce, None));
        assert!(a.to_string().starts_with("all_reduce(value type "), "{a}");
        let (b32, b64) = (
            Op::rooted(Kind::Broadcast, 0).of::<Vec<u32>>(),
            Op::rooted(Kind::Broadcast, 0).of::<Vec<u64>>(),
        );
        assert_ne!(b32, b64);
        assert_ne!(b64, Op::rooted(Kind::Broadcast, 0));
        assert_eq!(
            b64.to_string(),
            "broadcast(root 0, value type alloc::vec::Vec<u64>)"
        );
        let unknown = Op {
            ty: 7,
            ..Op::plain(Kind::Gather)
        };
        assert!(
            unknown.to_string().contains("#00000007, not one"),
            "{unknown}"
        );
    }
}
