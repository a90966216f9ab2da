//! Compact byte strings and values: short keys and strings live inside the table
//! entry itself, so a small key costs no allocation at all.

use ferrokv_core::storage::KeyType;
use ferrokv_core::util::number::parse_i64;

use crate::hashes::Hash;
use crate::list::List;
use crate::set::Set;
use crate::zset::ZSet;
use ferrokv_core::util::stream::MemStream;

/// Longest byte string stored inline.
pub const INLINE_CAP: usize = 23;

/// Length of an inline byte string. A fieldless enum rather than a `u8` so that the
/// 232 impossible values form a niche: enums wrapping [`SmallBytes`] (the value
/// enum, its future collection variants) stay 24 bytes without a tag of their own.
#[allow(missing_docs)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum InlineLen {
    L0,
    L1,
    L2,
    L3,
    L4,
    L5,
    L6,
    L7,
    L8,
    L9,
    L10,
    L11,
    L12,
    L13,
    L14,
    L15,
    L16,
    L17,
    L18,
    L19,
    L20,
    L21,
    L22,
    L23,
}

impl InlineLen {
    const ALL: [InlineLen; INLINE_CAP + 1] = [
        InlineLen::L0,
        InlineLen::L1,
        InlineLen::L2,
        InlineLen::L3,
        InlineLen::L4,
        InlineLen::L5,
        InlineLen::L6,
        InlineLen::L7,
        InlineLen::L8,
        InlineLen::L9,
        InlineLen::L10,
        InlineLen::L11,
        InlineLen::L12,
        InlineLen::L13,
        InlineLen::L14,
        InlineLen::L15,
        InlineLen::L16,
        InlineLen::L17,
        InlineLen::L18,
        InlineLen::L19,
        InlineLen::L20,
        InlineLen::L21,
        InlineLen::L22,
        InlineLen::L23,
    ];
}

/// Inline storage; `repr(C)` pins the length byte last so that a heap pointer of the
/// other variant can share the first 16 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct InlineBuf {
    data: [u8; INLINE_CAP],
    len: InlineLen,
}

/// A byte string in 24 bytes: up to [`INLINE_CAP`] bytes inline, longer ones in an
/// exactly sized heap allocation (no capacity word, no spare room).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SmallBytes {
    /// Short string stored in place.
    Inline(InlineBuf),
    /// Longer string on the heap.
    Heap(Box<[u8]>),
}

const _: () = assert!(std::mem::size_of::<SmallBytes>() == 24);
const _: () = assert!(std::mem::size_of::<Option<SmallBytes>>() == 24);

impl SmallBytes {
    /// Copies `bytes` into the most compact representation.
    #[inline]
    pub fn from_slice(bytes: &[u8]) -> SmallBytes {
        if bytes.len() <= INLINE_CAP {
            let mut data = [0u8; INLINE_CAP];
            data[..bytes.len()].copy_from_slice(bytes);
            SmallBytes::Inline(InlineBuf {
                data,
                len: InlineLen::ALL[bytes.len()],
            })
        } else {
            SmallBytes::Heap(bytes.into())
        }
    }

    /// The bytes.
    #[inline]
    pub fn as_slice(&self) -> &[u8] {
        match self {
            SmallBytes::Inline(buf) => &buf.data[..buf.len as usize],
            SmallBytes::Heap(b) => b,
        }
    }

    /// Number of bytes.
    #[inline]
    pub fn len(&self) -> usize {
        match self {
            SmallBytes::Inline(buf) => buf.len as usize,
            SmallBytes::Heap(b) => b.len(),
        }
    }

    /// Bytes allocated outside the 24-byte body (for memory accounting).
    #[inline]
    pub fn heap_bytes(&self) -> usize {
        match self {
            SmallBytes::Inline(_) => 0,
            SmallBytes::Heap(b) => b.len(),
        }
    }

    /// Whether the bytes are stored in place.
    #[cfg(test)]
    pub fn is_inline(&self) -> bool {
        matches!(self, SmallBytes::Inline(_))
    }
}

impl std::hash::Hash for SmallBytes {
    // Must hash exactly like `[u8]` so lookups by slice find owned keys.
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state)
    }
}

impl std::borrow::Borrow<[u8]> for SmallBytes {
    fn borrow(&self) -> &[u8] {
        self.as_slice()
    }
}

/// A string value. Strings set whole stay in the compact [`SmallBytes`] form; strings
/// edited in place (APPEND, SETRANGE, SETBIT) switch to a growable buffer so a loop of
/// appends is amortized O(1), and report the `raw` encoding as Redis does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StrValue {
    /// Set whole (`SET`, `INCR`, ...): exactly sized.
    Compact(SmallBytes),
    /// Edited in place: has spare capacity for further edits. Boxed so the variant
    /// is one pointer and the value stays 24 bytes.
    #[allow(clippy::box_collection)]
    Raw(Box<Vec<u8>>),
}

const _: () = assert!(std::mem::size_of::<StrValue>() == 24);

impl StrValue {
    /// The bytes.
    #[inline]
    pub fn as_slice(&self) -> &[u8] {
        match self {
            StrValue::Compact(b) => b.as_slice(),
            StrValue::Raw(v) => v.as_slice(),
        }
    }

    /// Bytes allocated outside the 24-byte body.
    pub fn heap_bytes(&self) -> usize {
        match self {
            StrValue::Compact(b) => b.heap_bytes(),
            StrValue::Raw(v) => std::mem::size_of::<Vec<u8>>() + v.capacity(),
        }
    }

    /// The growable buffer, converting a compact string first.
    pub fn make_raw(&mut self) -> &mut Vec<u8> {
        if let StrValue::Compact(b) = self {
            let mut v = Vec::with_capacity(b.len().max(8));
            v.extend_from_slice(b.as_slice());
            *self = StrValue::Raw(Box::new(v));
        }
        match self {
            StrValue::Raw(v) => v,
            // Just converted above.
            StrValue::Compact(_) => unreachable_raw(),
        }
    }

    /// Redis' `OBJECT ENCODING` name for this string.
    pub fn encoding(&self) -> &'static str {
        match self {
            StrValue::Raw(_) => "raw",
            StrValue::Compact(b) => {
                let s = b.as_slice();
                if s.len() <= 20 && parse_i64(s).is_some() {
                    "int"
                } else if s.len() <= 44 {
                    "embstr"
                } else {
                    "raw"
                }
            }
        }
    }
}

#[cold]
fn unreachable_raw() -> ! {
    unreachable!("string was converted to raw just before")
}

/// A stored value. Collections sit in the 24 bytes beside strings thanks to the
/// niche of [`InlineLen`]: lists, hashes, sets and sorted sets are two-variant enums of one
/// pointer (a packed buffer or a boxed table) whose null-pointer niche makes them 16
/// bytes, so a small collection costs one allocation and no header.
#[derive(Clone, Debug)]
pub enum Value {
    /// A string (also bitmaps and HyperLogLogs).
    Str(StrValue),
    /// A list.
    List(List),
    /// A hash.
    Hash(Hash),
    /// A set.
    Set(Set),
    /// A sorted set.
    ZSet(ZSet),
    /// A stream: packed nodes of entries and consumer groups (boxed, rarely many).
    Stream(Box<MemStream>),
}

const _: () = assert!(std::mem::size_of::<Value>() == 24);
const _: () = assert!(std::mem::size_of::<List>() == 16);
const _: () = assert!(std::mem::size_of::<Hash>() == 16);
const _: () = assert!(std::mem::size_of::<Set>() == 16);
const _: () = assert!(std::mem::size_of::<ZSet>() == 16);

impl Value {
    /// A compact string value.
    #[inline]
    pub fn string(bytes: &[u8]) -> Value {
        Value::Str(StrValue::Compact(SmallBytes::from_slice(bytes)))
    }

    /// An empty collection of type `kind` (a string for the other types).
    pub fn empty(kind: KeyType) -> Value {
        match kind {
            KeyType::List => Value::List(List::default()),
            KeyType::Hash => Value::Hash(Hash::default()),
            KeyType::Set => Value::Set(Set::default()),
            KeyType::ZSet => Value::ZSet(ZSet::new()),
            KeyType::Stream => Value::Stream(Box::default()),
            KeyType::String => Value::string(b""),
        }
    }

    /// The Redis type.
    #[inline]
    pub fn key_type(&self) -> KeyType {
        match self {
            Value::Str(_) => KeyType::String,
            Value::List(_) => KeyType::List,
            Value::Hash(_) => KeyType::Hash,
            Value::Set(_) => KeyType::Set,
            Value::ZSet(_) => KeyType::ZSet,
            Value::Stream(_) => KeyType::Stream,
        }
    }

    /// Bytes allocated outside the 24-byte body, in O(1) (collections keep their
    /// count up to date as they change).
    #[inline]
    pub fn heap_bytes(&self) -> usize {
        match self {
            Value::Str(s) => s.heap_bytes(),
            Value::List(l) => l.heap_bytes(),
            Value::Hash(h) => h.heap_bytes(),
            Value::Set(s) => s.heap_bytes(),
            Value::ZSet(z) => z.heap_bytes(),
            Value::Stream(s) => std::mem::size_of::<MemStream>() + s.heap_bytes(),
        }
    }

    /// Redis' `OBJECT ENCODING` name.
    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Str(s) => s.encoding(),
            Value::List(l) => l.encoding(),
            Value::Hash(h) => h.encoding(),
            Value::Set(s) => s.encoding(),
            Value::ZSet(z) => z.encoding(),
            Value::Stream(_) => "stream",
        }
    }

    /// Whether this is a collection with no elements left (to be deleted).
    #[inline]
    pub fn is_empty_collection(&self) -> bool {
        match self {
            Value::Str(_) => false,
            Value::List(l) => l.is_empty(),
            Value::Hash(h) => h.is_empty(),
            Value::Set(s) => s.is_empty(),
            Value::ZSet(z) => z.is_empty(),
            // Redis keeps empty streams (and their groups).
            Value::Stream(_) => false,
        }
    }

    /// Whether this is a hash with fields that have an expiry.
    #[inline]
    pub fn has_volatile_fields(&self) -> bool {
        matches!(self, Value::Hash(h) if h.has_volatile())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(std::mem::size_of::<SmallBytes>(), 24);
        assert_eq!(std::mem::size_of::<StrValue>(), 24);
        assert_eq!(std::mem::size_of::<Value>(), 24);
        // The shape later collection variants will take keeps the value at 24 bytes.
        #[allow(dead_code)]
        enum Future {
            Str(StrValue),
            List(Box<u64>),
            Hash(Box<u64>),
            Set(Box<u64>),
            ZSet(Box<u64>),
            Stream(Box<u64>),
        }
        assert_eq!(std::mem::size_of::<Future>(), 24);
    }

    #[test]
    fn small_bytes_round_trip() {
        for len in 0..100usize {
            let data: Vec<u8> = (0..len).map(|i| (i * 7 + 1) as u8).collect();
            let s = SmallBytes::from_slice(&data);
            assert_eq!(s.as_slice(), &data[..]);
            assert_eq!(s.len(), len);
            assert_eq!(s.is_inline(), len <= INLINE_CAP);
            assert_eq!(s.heap_bytes(), if len <= INLINE_CAP { 0 } else { len });
            assert_eq!(s.clone(), s);
        }
    }

    #[test]
    fn small_bytes_hash_like_slice() {
        use std::hash::BuildHasher;
        let st = foldhash::fast::FixedState::with_seed(7);
        for s in [
            &b""[..],
            b"abc",
            b"a much longer key that lives on the heap",
        ] {
            assert_eq!(st.hash_one(SmallBytes::from_slice(s)), st.hash_one(s));
        }
    }

    #[test]
    fn encodings() {
        let enc = |s: &[u8]| Value::string(s).encoding();
        assert_eq!(enc(b"0"), "int");
        assert_eq!(enc(b"-12345"), "int");
        assert_eq!(enc(b"9223372036854775807"), "int");
        assert_eq!(enc(b"-9223372036854775808"), "int");
        assert_eq!(enc(b"9223372036854775808"), "embstr");
        assert_eq!(enc(b"-0"), "embstr");
        assert_eq!(enc(b"007"), "embstr");
        assert_eq!(enc(b"+7"), "embstr");
        assert_eq!(enc(b" 7"), "embstr");
        assert_eq!(enc(b""), "embstr");
        assert_eq!(enc(&[b'x'; 44]), "embstr");
        assert_eq!(enc(&[b'x'; 45]), "raw");
        let mut v = StrValue::Compact(SmallBytes::from_slice(b"12"));
        v.make_raw().push(b'3');
        assert_eq!(v.as_slice(), b"123");
        assert_eq!(v.encoding(), "raw");
    }
}
