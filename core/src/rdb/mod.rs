//! Redis' RDB format (version 10, Redis 7.0): the snapshot file (`SAVE`, `BGSAVE`,
//! the AOF base with `aof-use-rdb-preamble`) and the `DUMP`/`RESTORE` payload.
//!
//! - [`write`]: an [`RdbWriter`] over any `std::io::Write` writes the header, aux
//!   fields, databases and keys, then EOF and the CRC64; values are read through the
//!   element-level ops ([`ValueRef`]), so a disk backend streams a big collection
//!   instead of loading it. Encodings follow Redis 7.0: integer and LZF strings,
//!   quicklist 2 lists of listpack nodes, listpack / intset / plain hashes, sets and
//!   sorted sets chosen by the [`EncodingLimits`](crate::storage::EncodingLimits).
//!   A hash with field TTLs is written as Redis 7.4 does (`RDB_TYPE_HASH_METADATA`),
//!   which Redis 7.0 cannot load.
//! - [`read`]: an [`RdbReader`] over any `std::io::Read` yields [`Item`]s with owned
//!   [`Value`]s; it reads every encoding Redis 7.0 writes or loads (ziplist,
//!   listpack, intset, zipmap, quicklist 1 and 2, old string-scored zsets) and the
//!   7.4 hash-field-expiry types, and reports corruption with its offset.
//! - [`store`]: moving values between a [`Txn`](crate::storage::Txn) and the
//!   format: dump one key, restore one key, save a whole keyspace.
//!
//! Streams are not stored by ferrokv yet: the reader rejects stream types with a
//! precise error, and [`ValueRef`]/[`Value`] are where a stream variant goes.

pub mod crc64;
pub mod listpack;
pub mod lzf;
pub mod read;
pub mod store;
pub mod write;

use std::fmt;

use bytes::Bytes;

use crate::storage::UnixMillis;

pub use read::{Item, RdbReader};
pub use write::{RdbWriter, ValueRef};

/// The RDB version ferrokv writes (Redis 7.0's).
pub const RDB_VERSION: u16 = 10;

/// The highest version the reader accepts: Redis 7.4's, whose only additions it
/// knows (hash field expiry types) are read; other unknown types are errors.
pub const RDB_MAX_LOAD_VERSION: u16 = 12;

/// Opcodes that precede a key or introduce file-level records.
pub mod opcode {
    /// Cluster slot info (Redis 7.4+), skipped.
    pub const SLOT_INFO: u8 = 244;
    /// A function library (Redis 7.0).
    pub const FUNCTION2: u8 = 245;
    /// A function in the 7.0 release candidates' format (not loadable).
    pub const FUNCTION_PRE_GA: u8 = 246;
    /// Module aux data.
    pub const MODULE_AUX: u8 = 247;
    /// LRU idle time of the next key, in seconds.
    pub const IDLE: u8 = 248;
    /// LFU counter of the next key.
    pub const FREQ: u8 = 249;
    /// An aux field (name, value).
    pub const AUX: u8 = 250;
    /// Database and expires sizes, a hint.
    pub const RESIZEDB: u8 = 251;
    /// Expiry of the next key in milliseconds.
    pub const EXPIRETIME_MS: u8 = 252;
    /// Expiry of the next key in seconds (old files).
    pub const EXPIRETIME: u8 = 253;
    /// Switch database.
    pub const SELECTDB: u8 = 254;
    /// End of file; the CRC64 follows.
    pub const EOF: u8 = 255;
}

/// Value types (`RDB_TYPE_*`).
pub mod types {
    /// String.
    pub const STRING: u8 = 0;
    /// List of strings (before quicklists).
    pub const LIST: u8 = 1;
    /// Set, members as strings.
    pub const SET: u8 = 2;
    /// Sorted set with scores as text.
    pub const ZSET: u8 = 3;
    /// Hash, field-value strings.
    pub const HASH: u8 = 4;
    /// Sorted set with binary double scores.
    pub const ZSET_2: u8 = 5;
    /// Module value (pre-GA format).
    pub const MODULE_PRE_GA: u8 = 6;
    /// Module value.
    pub const MODULE_2: u8 = 7;
    /// Hash as a zipmap.
    pub const HASH_ZIPMAP: u8 = 9;
    /// List as one ziplist.
    pub const LIST_ZIPLIST: u8 = 10;
    /// Set as an intset.
    pub const SET_INTSET: u8 = 11;
    /// Sorted set as a ziplist.
    pub const ZSET_ZIPLIST: u8 = 12;
    /// Hash as a ziplist.
    pub const HASH_ZIPLIST: u8 = 13;
    /// List as a quicklist of ziplists.
    pub const LIST_QUICKLIST: u8 = 14;
    /// Stream (Redis 5).
    pub const STREAM_LISTPACKS: u8 = 15;
    /// Hash as a listpack.
    pub const HASH_LISTPACK: u8 = 16;
    /// Sorted set as a listpack.
    pub const ZSET_LISTPACK: u8 = 17;
    /// List as a quicklist of listpacks (or plain nodes).
    pub const LIST_QUICKLIST_2: u8 = 18;
    /// Stream (Redis 7.0).
    pub const STREAM_LISTPACKS_2: u8 = 19;
    /// Set as a listpack (Redis 7.2).
    pub const SET_LISTPACK: u8 = 20;
    /// Stream (Redis 7.2).
    pub const STREAM_LISTPACKS_3: u8 = 21;
    /// Hash with field TTLs, plain (Redis 7.4).
    pub const HASH_METADATA: u8 = 24;
    /// Hash with field TTLs as a listpack of triplets (Redis 7.4).
    pub const HASH_LISTPACK_EX: u8 = 25;
}

/// One hash field as stored: name, value and absolute expiry.
pub type HashField = (Bytes, Bytes, Option<UnixMillis>);

/// A value read from an RDB file or payload, owned.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A string (integers already as their decimal text).
    String(Bytes),
    /// A list, head first.
    List(Vec<Bytes>),
    /// A set.
    Set(Vec<Bytes>),
    /// A sorted set's members and scores, in any order.
    ZSet(Vec<(Bytes, f64)>),
    /// A hash's fields, values and field expiry times.
    Hash(Vec<HashField>),
}

impl Value {
    /// The key type this value has.
    pub fn key_type(&self) -> crate::storage::KeyType {
        use crate::storage::KeyType;
        match self {
            Value::String(_) => KeyType::String,
            Value::List(_) => KeyType::List,
            Value::Set(_) => KeyType::Set,
            Value::ZSet(_) => KeyType::ZSet,
            Value::Hash(_) => KeyType::Hash,
        }
    }
}

/// Why an RDB file or payload could not be read.
#[derive(Debug)]
pub enum RdbError {
    /// The underlying reader failed.
    Io(std::io::Error),
    /// The data is malformed at `offset` (bytes from the start).
    Corrupt {
        /// Where the problem was found.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
}

impl fmt::Display for RdbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RdbError::Io(e) => write!(f, "I/O error: {e}"),
            RdbError::Corrupt { offset, reason } => write!(f, "{reason} at offset {offset}"),
        }
    }
}

impl std::error::Error for RdbError {}

impl From<std::io::Error> for RdbError {
    fn from(e: std::io::Error) -> RdbError {
        RdbError::Io(e)
    }
}
