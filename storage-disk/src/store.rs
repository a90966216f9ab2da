//! The small ordered-bytes store the generic layer runs on.
//!
//! Anything that keeps sorted byte keys in a few separate keyspaces, iterates them in
//! order and applies a batch of writes atomically can carry every Redis type through
//! [`KvBackend`](crate::KvBackend): RocksDB ([`RocksStore`](crate::RocksStore)), a
//! `BTreeMap` ([`MemStore`](crate::MemStore)), or an embedder's own store.

use std::fmt;

/// The separate ordered keyspaces (RocksDB column families) the layout uses.
///
/// Each has its own access pattern, so RocksDB can tune them apart (bloom filters for
/// point lookups on metadata, a compaction filter for expired records).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Keyspace {
    /// Store-wide records: the layout version and the logical-to-physical database
    /// table. Tiny.
    System,
    /// One record per key: type, expiry and, for strings, the value.
    Meta,
    /// Versioned per-element records of collections (hash fields, list items, ...).
    SubKey,
    /// The expiry index: one empty record per volatile key, ordered by expiry time.
    Expiry,
}

impl Keyspace {
    /// Every keyspace, in index order.
    pub const ALL: [Keyspace; 4] = [
        Keyspace::System,
        Keyspace::Meta,
        Keyspace::SubKey,
        Keyspace::Expiry,
    ];

    /// Dense index, for stores that keep keyspaces in an array.
    pub fn index(self) -> usize {
        match self {
            Keyspace::System => 0,
            Keyspace::Meta => 1,
            Keyspace::SubKey => 2,
            Keyspace::Expiry => 3,
        }
    }

    /// Stable name; the RocksDB column family name, so it must never change.
    pub fn name(self) -> &'static str {
        match self {
            Keyspace::System => "default",
            Keyspace::Meta => "metadata",
            Keyspace::SubKey => "subkeys",
            Keyspace::Expiry => "expiry",
        }
    }
}

/// A failure of the underlying store (I/O, corruption, a closed database).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError(pub String);

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StoreError {}

/// Result of a store operation.
pub type StoreResult<T> = Result<T, StoreError>;

/// One write of a [`WriteBatch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchOp {
    /// Insert or replace a record.
    Put(Keyspace, Vec<u8>, Vec<u8>),
    /// Remove a record, if present.
    Delete(Keyspace, Vec<u8>),
    /// Remove every record with `start <= key < end`.
    DeleteRange(Keyspace, Vec<u8>, Vec<u8>),
}

/// Writes applied together by [`OrderedStore::write`], in order: either all of them
/// become visible (and durable together) or none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteBatch {
    /// The writes, applied in this order.
    pub ops: Vec<BatchOp>,
}

impl WriteBatch {
    /// An empty batch.
    pub fn new() -> WriteBatch {
        WriteBatch::default()
    }

    /// Queues an insert or replace.
    pub fn put(&mut self, ks: Keyspace, key: Vec<u8>, value: Vec<u8>) {
        self.ops.push(BatchOp::Put(ks, key, value));
    }

    /// Queues a delete.
    pub fn delete(&mut self, ks: Keyspace, key: Vec<u8>) {
        self.ops.push(BatchOp::Delete(ks, key));
    }

    /// Queues the removal of the half-open range `start..end`.
    pub fn delete_range(&mut self, ks: Keyspace, start: Vec<u8>, end: Vec<u8>) {
        self.ops.push(BatchOp::DeleteRange(ks, start, end));
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Number of queued writes.
    pub fn len(&self) -> usize {
        self.ops.len()
    }
}

/// Visitor for [`OrderedStore::scan`]: gets each record in key order and returns
/// `false` to stop.
pub type Visitor<'a> = dyn FnMut(&[u8], &[u8]) -> bool + 'a;

/// A sorted byte-key store with a few keyspaces and atomic batches: all the generic
/// layer needs to map Redis types onto.
///
/// Implementations must be safe to call from many threads; the generic layer does its
/// own key locking, so the store needs no transactions beyond [`OrderedStore::write`].
pub trait OrderedStore: Send + Sync {
    /// Reads one record.
    fn get(&self, ks: Keyspace, key: &[u8]) -> StoreResult<Option<Vec<u8>>>;

    /// Reads several records of one keyspace; stores with a batched lookup (RocksDB's
    /// `MultiGet`) override it.
    fn multi_get(&self, ks: Keyspace, keys: &[&[u8]]) -> StoreResult<Vec<Option<Vec<u8>>>> {
        keys.iter().map(|k| self.get(ks, k)).collect()
    }

    /// Visits the records with `start <= key < end` (no upper bound when `end` is
    /// `None`) in ascending key order until `visit` returns false. The records come
    /// from a point-in-time view, unaffected by concurrent writes; a store may go on
    /// in a newer view from the record after the last one visited (RocksDB does when
    /// a scan leaves its cache): the generic layer scans consistently only what the
    /// locks it holds keep writers out of. The visitor must not call back into the
    /// store.
    fn scan(
        &self,
        ks: Keyspace,
        start: &[u8],
        end: Option<&[u8]>,
        visit: &mut Visitor<'_>,
    ) -> StoreResult<()>;

    /// As [`OrderedStore::scan`], in descending key order (from the last record
    /// below `end` down to `start`). The default collects the range forward and
    /// visits it backwards, which costs the whole range: stores that can iterate
    /// backwards (both of this crate's) override it.
    fn scan_rev(
        &self,
        ks: Keyspace,
        start: &[u8],
        end: Option<&[u8]>,
        visit: &mut Visitor<'_>,
    ) -> StoreResult<()> {
        let mut records = Vec::new();
        self.scan(ks, start, end, &mut |k, v| {
            records.push((k.to_vec(), v.to_vec()));
            true
        })?;
        for (k, v) in records.iter().rev() {
            if !visit(k, v) {
                break;
            }
        }
        Ok(())
    }

    /// Whether the store removes stale collection sub-keys by itself (RocksDB's
    /// compaction filter on `subkeys`). When false, the backend's active expiry
    /// cycle sweeps them ([`KvBackend::sweep_subkeys`](crate::KvBackend::sweep_subkeys)).
    fn drops_stale_subkeys(&self) -> bool {
        false
    }

    /// Bytes of stale sub-keys the store dropped by itself so far (with
    /// [`OrderedStore::drops_stale_subkeys`]), so that the backend stops discounting
    /// them from [`OrderedStore::approximate_bytes`].
    fn dropped_stale_bytes(&self) -> u64 {
        0
    }

    /// Applies a batch atomically.
    fn write(&self, batch: WriteBatch) -> StoreResult<()>;

    /// Makes every write applied so far durable (flushes and syncs the write-ahead
    /// log).
    fn sync(&self) -> StoreResult<()>;

    /// Called after a batch with range deletes of `ks` was written: a store whose
    /// in-memory buffer updates records in place (keeping their old sequence number)
    /// must flush that buffer now, or a record rewritten after the range delete
    /// would stay hidden under it. The default does nothing.
    fn after_range_delete(&self, _ks: Keyspace) -> StoreResult<()> {
        Ok(())
    }

    /// Approximate bytes of live data, for `INFO memory`.
    fn approximate_bytes(&self) -> u64;

    /// Runs `burst` (one client's batch of commands, which reads and writes through
    /// this store) where the store prefers: a store whose reads sometimes wait for
    /// the disk may move a whole burst off the async worker when recent bursts
    /// needed the disk. The default runs it right here.
    fn run_burst(&self, burst: &mut dyn FnMut()) {
        burst()
    }
}
