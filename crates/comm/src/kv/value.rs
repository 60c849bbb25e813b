//! What the store holds: plain bytes, or objects kept decoded at their home.
//!
//! A rank computing on its own values wants them decoded (a data frame's chunks, say);
//! other ranks want bytes. An [`Object`] lives at its home once, decoded, and is encoded
//! only when someone asks for its bytes: a remote `get`, or a local one that wants bytes.

use std::any::Any;
use std::sync::Arc;

use bytes::Bytes;

/// A value kept decoded at its home rank and encoded on request. Its encoding must never
/// change: keys are write-once, and any rank may cache the bytes it got.
pub trait Object: Send + Sync + 'static {
    /// The value's bytes, as [`Kv::get`](super::Kv::get) hands them to any rank.
    fn encode(&self) -> Bytes;
    /// About how many bytes the value occupies in memory, for usage reports.
    fn size(&self) -> usize;
}

/// A stored value.
#[derive(Clone)]
pub(crate) enum Value {
    Bytes(Bytes),
    Object {
        object: Arc<dyn Object>,
        /// The same allocation, for downcasting to the concrete type.
        any: Arc<dyn Any + Send + Sync>,
    },
}

impl Value {
    /// Wraps a decoded object.
    pub(crate) fn object<T: Object>(value: Arc<T>) -> Value {
        Value::Object {
            object: Arc::clone(&value) as Arc<dyn Object>,
            any: value,
        }
    }

    /// The value's bytes, encoding an object.
    pub(crate) fn bytes(&self) -> Bytes {
        match self {
            Value::Bytes(b) => b.clone(),
            Value::Object { object, .. } => object.encode(),
        }
    }

    /// The object, if this is one of type `T`.
    pub(crate) fn downcast<T: Object>(&self) -> Option<Arc<T>> {
        match self {
            Value::Bytes(_) => None,
            Value::Object { any, .. } => Arc::clone(any).downcast().ok(),
        }
    }

    /// About how many bytes the value occupies.
    pub(crate) fn size(&self) -> usize {
        match self {
            Value::Bytes(b) => b.len(),
            Value::Object { object, .. } => object.size(),
        }
    }

    /// Whether two values are the same: the same object, or the same bytes.
    pub(crate) fn same_as(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Bytes(a), Value::Bytes(b)) => a == b,
            (Value::Object { any: a, .. }, Value::Object { any: b, .. }) if Arc::ptr_eq(a, b) => {
                true
            }
            _ => self.bytes() == other.bytes(),
        }
    }
}
