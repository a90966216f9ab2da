//! The storage traits the engine runs on. `core` knows no concrete backend: the
//! in-memory and RocksDB backends, or an embedder's own store, implement these.
//!
//! A command runs inside one atomic scope ([`StorageBackend::atomic`]): the backend
//! locks what the scope names, hands the command a [`Txn`], and applies every write
//! the command made as one unit. Operations are typed and element-level so that a
//! disk backend never loads a whole collection to touch one element.

use bytes::Bytes;

/// Index of a logical database (`SELECT n`).
pub type DbIndex = usize;

/// Milliseconds since the Unix epoch; expiry times are absolute in this unit.
pub type UnixMillis = u64;

/// The Redis type of the value stored at a key, as `TYPE` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyType {
    /// Strings, including bitmaps and HyperLogLogs.
    String,
    /// Lists.
    List,
    /// Hashes.
    Hash,
    /// Sets.
    Set,
    /// Sorted sets (and geo sets).
    ZSet,
    /// Streams.
    Stream,
}

impl KeyType {
    /// The name `TYPE` and `SCAN ... TYPE` use.
    pub fn name(self) -> &'static str {
        match self {
            KeyType::String => "string",
            KeyType::List => "list",
            KeyType::Hash => "hash",
            KeyType::Set => "set",
            KeyType::ZSet => "zset",
            KeyType::Stream => "stream",
        }
    }

    /// Parses a `TYPE` name (case-insensitive), as `SCAN ... TYPE` accepts it.
    pub fn from_name(name: &[u8]) -> Option<KeyType> {
        let lower = name.to_ascii_lowercase();
        [
            KeyType::String,
            KeyType::List,
            KeyType::Hash,
            KeyType::Set,
            KeyType::ZSet,
            KeyType::Stream,
        ]
        .into_iter()
        .find(|t| t.name().as_bytes() == lower.as_slice())
    }
}

/// What a write does to the key's time to live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TtlUpdate {
    /// Remove any expiry (plain `SET`).
    Clear,
    /// Keep the current expiry (`SET ... KEEPTTL`, `APPEND`, `SETRANGE`).
    Keep,
    /// Expire at this absolute time.
    At(UnixMillis),
}

/// Metadata of a live key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyMeta {
    /// The value's type.
    pub key_type: KeyType,
    /// Absolute expiry, if the key is volatile.
    pub expire_at: Option<UnixMillis>,
}

/// Internal details `OBJECT` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectInfo {
    /// Redis' encoding name (`embstr`, `int`, `raw`, `listpack`, ...).
    pub encoding: &'static str,
    /// Milliseconds since the key was last accessed.
    pub idle_ms: u64,
    /// Logarithmic access frequency counter (LFU).
    pub freq: u8,
}

/// Error from a typed operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageError {
    /// The key holds a value of another type; replied as `WRONGTYPE`.
    WrongType,
    /// The store failed (I/O, corruption); replied as `ERR` and logged.
    Io(String),
}

/// Result of a typed operation.
pub type StorageResult<T> = Result<T, StorageError>;

/// What an atomic scope locks.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    /// Only these keys, in every database (a key is locked by name, so `MOVE` and
    /// `COPY ... DB` need no extra entries).
    Keys(&'a [Bytes]),
    /// The whole keyspace: `KEYS`, `SCAN`, `FLUSHDB`, `SWAPDB`, `DBSIZE`, ...
    All,
}

/// One page of a `SCAN`-style iteration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanPage {
    /// Cursor for the next call; 0 when the iteration is complete.
    pub next_cursor: u64,
    /// Keys found in this page (possibly more or fewer than asked).
    pub keys: Vec<Bytes>,
}

/// Counters a backend reports for `INFO keyspace` and `INFO stats`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DbStats {
    /// Keys in the database.
    pub keys: u64,
    /// Keys with an expiry.
    pub expires: u64,
}

/// Work done by one active-expiry step.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExpireStats {
    /// Volatile keys examined.
    pub sampled: u64,
    /// Keys found expired and removed.
    pub expired: u64,
}

/// Operations available inside an atomic scope. Every read applies lazy expiry first:
/// an expired key is removed and reported as missing, as in Redis.
pub trait Txn {
    /// The command's clock: fixed for the whole scope, as Redis caches `mstime()` per
    /// command, so a command never sees a key expire halfway through.
    fn now_ms(&self) -> UnixMillis;

    /// Type and expiry of a live key, or `None` if it does not exist.
    fn meta(&mut self, db: DbIndex, key: &[u8]) -> StorageResult<Option<KeyMeta>>;

    /// Removes a key of any type; returns whether it existed.
    fn delete(&mut self, db: DbIndex, key: &[u8]) -> StorageResult<bool>;

    /// Sets or clears a live key's expiry; returns false if the key does not exist.
    fn set_expire(
        &mut self,
        db: DbIndex,
        key: &[u8],
        at: Option<UnixMillis>,
    ) -> StorageResult<bool>;

    /// Reads a string value.
    fn get_string(&mut self, db: DbIndex, key: &[u8]) -> StorageResult<Option<Bytes>>;

    /// Length of a string value without copying it.
    fn string_len(&mut self, db: DbIndex, key: &[u8]) -> StorageResult<Option<usize>>;

    /// Stores a string, replacing a value of any type.
    fn set_string(
        &mut self,
        db: DbIndex,
        key: &[u8],
        value: &[u8],
        ttl: TtlUpdate,
    ) -> StorageResult<()>;

    /// Edits a string in place (APPEND, SETRANGE, SETBIT, BITFIELD). A missing key is
    /// created empty when `create` is true; `edit` receives the current bytes. Returns
    /// false if the key is missing and `create` is false. The key's expiry is kept.
    fn update_string(
        &mut self,
        db: DbIndex,
        key: &[u8],
        create: bool,
        edit: &mut dyn FnMut(&mut Vec<u8>),
    ) -> StorageResult<bool>;

    /// Moves a key's value and expiry to `dst` (possibly in another database),
    /// replacing whatever `dst` held. Returns false if `src` does not exist.
    fn rename(
        &mut self,
        src_db: DbIndex,
        src: &[u8],
        dst_db: DbIndex,
        dst: &[u8],
    ) -> StorageResult<bool>;

    /// Copies a key's value and expiry to `dst`, replacing it. Returns false if `src`
    /// does not exist.
    fn copy(
        &mut self,
        src_db: DbIndex,
        src: &[u8],
        dst_db: DbIndex,
        dst: &[u8],
    ) -> StorageResult<bool>;

    /// Records an access (LRU/LFU bookkeeping) without reading the value.
    fn touch(&mut self, db: DbIndex, key: &[u8]) -> StorageResult<bool>;

    /// Details for `OBJECT ENCODING / IDLETIME / FREQ`.
    fn object_info(&mut self, db: DbIndex, key: &[u8]) -> StorageResult<Option<ObjectInfo>>;

    /// One page of a full-keyspace iteration. Needs [`Scope::All`]. A full iteration
    /// returns every key that exists from its start to its end at least once.
    fn scan(&mut self, db: DbIndex, cursor: u64, count: usize) -> StorageResult<ScanPage>;

    /// Every live key for which `keep` is true (`KEYS`). Needs [`Scope::All`].
    fn keys(
        &mut self,
        db: DbIndex,
        keep: &mut dyn FnMut(&[u8]) -> bool,
    ) -> StorageResult<Vec<Bytes>>;

    /// A random live key (`RANDOMKEY`). Needs [`Scope::All`].
    fn random_key(&mut self, db: DbIndex) -> StorageResult<Option<Bytes>>;

    /// Number of keys, possibly counting some expired ones not yet removed (as
    /// Redis' `DBSIZE`). Needs [`Scope::All`].
    fn db_size(&mut self, db: DbIndex) -> StorageResult<DbStats>;

    /// Removes every key of a database. Needs [`Scope::All`].
    fn flush_db(&mut self, db: DbIndex) -> StorageResult<()>;

    /// Exchanges two databases. Needs [`Scope::All`].
    fn swap_db(&mut self, a: DbIndex, b: DbIndex) -> StorageResult<()>;
}

/// A keyspace of typed values the engine can run commands on.
pub trait StorageBackend: Send + Sync {
    /// Short name for logs and `INFO` (`memory`, `disk`).
    fn name(&self) -> &'static str;

    /// Number of logical databases.
    fn databases(&self) -> usize;

    /// Runs `body` with `scope` locked; its writes become visible to other scopes
    /// together (and, on a durable backend, are committed as one batch). An error
    /// means the writes were not applied, so the command must not report success.
    fn atomic(&self, scope: Scope<'_>, body: &mut dyn FnMut(&mut dyn Txn)) -> StorageResult<()>;

    /// Runs `run`, in which the caller executes a burst of commands (one client's
    /// pipelined requests) on this thread and sends none of their replies before
    /// this returns.
    ///
    /// A backend may defer the commits of the scopes opened meanwhile on this
    /// thread and apply them together at the end (group commit): every scope stays
    /// atomic and isolated, since its keys stay locked until then, but its writes
    /// reach the store only when the group commits. An error means writes of the
    /// burst were lost: none of its replies may be sent. The default runs `run`
    /// with no grouping.
    fn group(&self, run: &mut dyn FnMut()) -> StorageResult<()> {
        run();
        Ok(())
    }

    /// One bounded step of active expiry: samples volatile keys and removes expired
    /// ones, spending at most about `budget` key checks.
    fn active_expire(&self, budget: usize) -> ExpireStats;

    /// Approximate bytes used by the data (`INFO memory` `used_memory_dataset`).
    fn dataset_bytes(&self) -> u64;

    /// Makes acknowledged writes durable (`SHUTDOWN`, fsync policy); a no-op for a
    /// volatile backend.
    fn flush_to_disk(&self) -> StorageResult<()>;
}
