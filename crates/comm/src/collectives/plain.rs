//! How a typed collective's value travels: a vector of a primitive number type as its
//! bytes, anything else encoded with speedy.
//!
//! The typed calls (`broadcast(0, Some(vec))`, `all_reduce(vec, merge)`, ...) are the
//! ones a newcomer writes first, and most of the values they carry are plain vectors.
//! Encoding such a vector with speedy is a copy into a fresh buffer (after a length
//! prefix) and decoding it another: on 1 MiB, a broadcast spent more time copying than
//! moving the bytes. So a `Vec<E>` of a primitive number type `E` (the integers, `f32`
//! and `f64`) is recognised by its type id and sent straight from its own memory: lent
//! for the duration of the send when the caller keeps the vector ([`with_body`]), or
//! handed over when the call consumes it ([`into_body`]). Its frames name the elements'
//! alignment ([`body_align`]), so the receiver reads the body into an allocation fit to
//! be the vector and hands that over without a copy ([`from_body`], `net::aligned`).
//!
//! Without specialization, a type can only be recognised among a list of known ones,
//! so a vector of a user's own `Pod` type goes through speedy (which copies the
//! elements of primitive-only types as one block). Every rank of a job runs one
//! program, so they agree on the path; a rank expecting another type fails on the
//! value type its call's [`Op`](super::op::Op) carries, before any byte is decoded.

use std::any::{Any, TypeId};
use std::borrow::Cow;
use std::time::Duration;

use bytes::Bytes;

use bytemuck::Pod;
use speedy::{LittleEndian, Readable, Writable};

use super::lent::lend;
use crate::error::{Error, Result};
use crate::net::aligned;

/// Types that collectives can carry: anything speedy encodes and decodes that owns its
/// data. A `Vec` of a primitive number type (`Vec<u64>`, `Vec<f32>`, ...) travels as its
/// bytes, without encoding; other values are encoded with speedy. (`'static` lets the
/// collectives recognise plain vectors by their type id; a type that decodes from any
/// buffer borrows nothing from it, so this excludes no type that could travel before.)
pub trait Wire: for<'a> Readable<'a, LittleEndian> + Writable<LittleEndian> + 'static {}

impl<T> Wire for T where T: for<'a> Readable<'a, LittleEndian> + Writable<LittleEndian> + 'static {}

/// Encodes a value for the wire.
fn encode<T: Wire>(value: &T) -> Result<Bytes> {
    value
        .write_to_vec()
        .map(Bytes::from)
        .map_err(|e| Error::decode(format!("cannot encode a collective's value: {e}")))
}

/// Calls `$found!(E)` for the element type `E` of `$t` when `$t` is `Vec<E>` for a
/// primitive number type `E`. The type ids are constants, so each use compiles to the
/// one branch that applies.
macro_rules! for_plain_vec {
    ($t:ty, $found:ident) => {
        for_plain_vec!(@each $t, $found,
            u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, f32, f64)
    };
    (@each $t:ty, $found:ident, $($e:ty),*) => {
        $(
            if TypeId::of::<$t>() == TypeId::of::<Vec<$e>>() {
                $found!($e);
            }
        )*
    };
}

/// Moves `value` into a `B` when `A` and `B` are the same type, else gives it back.
fn cast<A: 'static, B: 'static>(value: A) -> std::result::Result<B, A> {
    let mut slot = Some(value);
    if let Some(same) = (&mut slot as &mut dyn Any).downcast_mut::<Option<B>>() {
        if let Some(value) = same.take() {
            return Ok(value);
        }
    }
    match slot {
        Some(value) => Err(value),
        None => unreachable!("the slot is emptied only when the types are the same"),
    }
}

/// The bytes of `value` when it is a plain vector (see the module doc), else `None`.
pub(crate) fn plain_bytes<T: Wire>(value: &T) -> Option<&[u8]> {
    macro_rules! found {
        ($e:ty) => {
            let any: &dyn Any = value;
            return any
                .downcast_ref::<Vec<$e>>()
                .map(|v| bytemuck::cast_slice::<$e, u8>(v));
        };
    }
    for_plain_vec!(T, found);
    None
}

/// Calls `with` on a message body holding `value`: its own memory, lent until `with`
/// returns and the body has left, when it is a plain vector (so the body must go only
/// to other ranks, and no clone of it may outlive `with`); else its encoding.
pub(crate) fn with_body<T: Wire, R>(value: &T, with: impl FnOnce(Bytes) -> Result<R>) -> Result<R> {
    match plain_bytes(value) {
        Some(bytes) => lend(bytes, with),
        None => with(encode(value)?),
    }
}

/// A message body holding `value`, without a copy when it is a plain vector (the body
/// owns the vector).
pub(crate) fn into_body<T: Wire>(value: T) -> Result<Bytes> {
    macro_rules! found {
        ($e:ty) => {
            return match cast::<T, Vec<$e>>(value) {
                Ok(vec) => Ok(owned_body(vec)),
                Err(value) => encode(&value),
            };
        };
    }
    for_plain_vec!(T, found);
    encode(&value)
}

/// A copy of `value` in a message body that can outlive it (a recycled buffer when
/// large), for values that the caller keeps and a send must not wait on.
pub(crate) fn copied_body<T: Wire>(value: &T) -> Result<Bytes> {
    match plain_bytes(value) {
        Some(bytes) => Ok(crate::net::copy_of(bytes)),
        None => encode(value),
    }
}

/// The value a body holds. A plain vector received in an allocation of its elements'
/// alignment (see `net::aligned`) becomes the vector itself; one still shared (a
/// broadcast forwarding it), sent by this rank to itself, or in a misfitting buffer is
/// copied once. `what` names its sender in an error, and is called only then.
pub(crate) fn from_body<T: Wire>(bytes: Bytes, what: impl Fn() -> String) -> Result<T> {
    from_forwarded_body(bytes, Duration::ZERO, what)
}

/// [`from_body`] of a body this rank has just forwarded to others: a plain vector
/// waits up to `patience` for those sends to finish before it is copied instead (see
/// `aligned::take_vec`).
pub(crate) fn from_forwarded_body<T: Wire>(
    bytes: Bytes,
    patience: Duration,
    what: impl Fn() -> String,
) -> Result<T> {
    macro_rules! found {
        ($e:ty) => {
            let vec: Vec<$e> = match aligned::take_vec::<$e>(bytes, patience) {
                Ok(vec) => vec,
                Err(bytes) => {
                    if bytes.len() >= aligned::LARGE {
                        aligned::keep_freed_memory();
                    }
                    match as_elements::<$e>(&bytes, "") {
                        Ok(elements) => elements.into_owned(),
                        Err(_) => return Err(element_count::<$e>(&bytes, &what()).unwrap_err()),
                    }
                }
            };
            return match cast::<Vec<$e>, T>(vec) {
                Ok(value) => Ok(value),
                Err(_) => unreachable!("T is Vec<{}>", stringify!($e)),
            };
        };
    }
    for_plain_vec!(T, found);
    T::read_from_buffer(&bytes).map_err(|e| Error::decode(format!("{}: {e}", what())))
}

/// The alignment of the elements of `T` when it is a plain vector, which its bodies'
/// frames carry so that receivers allocate them fit to become the vector; 0 (bytes)
/// for any other type.
pub(crate) fn body_align<T: 'static>() -> u8 {
    macro_rules! found {
        ($e:ty) => {
            return align_of::<$e>() as u8;
        };
    }
    for_plain_vec!(T, found);
    0
}

/// A message body that owns `vec` and reads it as bytes: no copy.
pub(crate) fn owned_body<E: Pod + Send>(vec: Vec<E>) -> Bytes {
    Bytes::from_owner(Owned(vec))
}

/// A plain vector inside a [`Bytes`], which reads it as bytes.
struct Owned<E>(Vec<E>);

impl<E: Pod> AsRef<[u8]> for Owned<E> {
    fn as_ref(&self) -> &[u8] {
        bytemuck::cast_slice(&self.0)
    }
}

/// How many elements of `T` received bytes hold; an error when they end mid-element.
pub(crate) fn element_count<T: Pod>(bytes: &[u8], what: &str) -> Result<usize> {
    if bytes.len() % size_of::<T>() != 0 {
        return Err(Error::Protocol(format!(
            "{what}: {} bytes is not a whole number of {}-byte elements",
            bytes.len(),
            size_of::<T>()
        )));
    }
    Ok(bytes.len() / size_of::<T>())
}

/// Views received bytes as a slice of `T`, copying only when they are misaligned.
pub(crate) fn as_elements<'b, T: Pod>(bytes: &'b [u8], what: &str) -> Result<Cow<'b, [T]>> {
    element_count::<T>(bytes, what)?;
    Ok(match bytemuck::try_cast_slice(bytes) {
        Ok(elements) => Cow::Borrowed(elements),
        Err(_) => Cow::Owned(bytemuck::pod_collect_to_vec(bytes)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_vectors_are_recognised_and_others_are_not() {
        assert!(plain_bytes(&vec![0.5f32]).is_some() && plain_bytes(&vec![-1i8]).is_some());
        assert!(plain_bytes(&7u64).is_none() && plain_bytes(&vec![String::new()]).is_none());
        assert!(plain_bytes(&vec![(1u32, 2u32)]).is_none());
        assert!(plain_bytes(&(vec![1u32], vec![2u64])).is_none());
        assert_eq!(plain_bytes(&vec![1u16, 2]), Some(&[1u8, 0, 2, 0][..]));
        assert_eq!(plain_bytes(&String::from("ab")), None);
    }

    #[test]
    fn bodies_give_back_their_values() {
        let words = vec![1u64, u64::MAX, 3];
        let body = into_body(words.clone()).unwrap();
        assert_eq!(
            body.len(),
            24,
            "a plain vector travels without a length prefix"
        );
        assert_eq!(
            from_body::<Vec<u64>>(body.clone(), || "test".into()).unwrap(),
            words
        );
        let text = vec![String::from("a"), String::new()];
        let body = into_body(text.clone()).unwrap();
        assert_eq!(
            from_body::<Vec<String>>(body, || "test".into()).unwrap(),
            text
        );
        let floats = vec![0.5f64, -1.0];
        let back = with_body(&floats, |b| from_body::<Vec<f64>>(b, || "test".into())).unwrap();
        assert_eq!(back, floats);
        assert_eq!(
            from_body::<Vec<u32>>(copied_body(&vec![7u32; 3]).unwrap(), || "t".into()).unwrap(),
            vec![7; 3]
        );
    }

    #[test]
    fn misaligned_and_partial_bodies_are_handled() {
        let bytes: Vec<u8> = (0..17).collect();
        let bytes = Bytes::from(bytes);
        let back: Vec<u64> = from_body(bytes.slice(1..17), || "test".into()).unwrap();
        assert_eq!(back, bytemuck::pod_collect_to_vec::<u8, u64>(&bytes[1..17]));
        let err = from_body::<Vec<u64>>(bytes.slice(..12), || "rank 3".into()).unwrap_err();
        assert!(err.to_string().contains("rank 3: 12 bytes"), "{err}");
    }
}
