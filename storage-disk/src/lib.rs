//! Disk storage backend for ferrokv, for data larger than RAM.
//!
//! Two levels, as in Kvrocks:
//!
//! 1. [`OrderedStore`]: a small sorted-bytes store with a few keyspaces, forward
//!    iteration and atomic write batches. [`RocksStore`] (RocksDB, feature `rocksdb`)
//!    and [`MemStore`] (`BTreeMap`s) implement it; so can an embedder's store.
//! 2. [`KvBackend`]: one generic layer implementing the engine's
//!    [`StorageBackend`](ferrokv_core::storage::StorageBackend) over any ordered
//!    store. [`DiskBackend`] is the RocksDB instance.
//!
//! ```
//! use ferrokv_core::storage::{Scope, StorageBackend, TtlUpdate};
//! use ferrokv_storage_disk::KvBackend;
//!
//! // The same layer as `DiskBackend::open(dir, 16)`, over an in-memory store.
//! let backend = KvBackend::new_in_memory(16);
//! backend.atomic(Scope::All, &mut |txn| {
//!     txn.set_string(0, b"greeting", b"hello", TtlUpdate::Clear).unwrap();
//!     let value = txn.get_string(0, b"greeting").unwrap();
//!     assert_eq!(value.as_deref(), Some(&b"hello"[..]));
//! }).unwrap();
//! ```
//!
//! # Layout
//!
//! Physical database ids (`db`, u16 big-endian) prefix every record; a table in the
//! system keyspace maps logical databases (`SELECT n`) to physical ids, so `SWAPDB`
//! rewrites one small record.
//!
//! * **Metadata** (`db | xxh3_64(key) | key`): one record per key with format, type,
//!   flags and expiry; strings carry their value inline (lz4-compressed above 64 bytes
//!   when that saves an eighth), collections a version and an element count. Ordering
//!   by hash makes a `SCAN` cursor simply the next hash to visit: a page ends after
//!   whole hash values, so keys that exist throughout an iteration are all returned
//!   whatever is inserted or deleted meanwhile.
//! * **Expiry index** (`db | expire_at ms | key`, empty value): one entry per volatile
//!   key, kept in step with the metadata by every write, read in time order by the
//!   active expiry cycle. Keyed by database first so `FLUSHDB` is a range delete.
//! * **Sub-keys** (collections): one record per element, keyed
//!   `db | hash | key length (u32) | key | version | element`: list elements by a
//!   sequence number (contiguous `head..tail`, kept in the metadata), hash fields and
//!   set members by a 32-bit element hash then the element (so `HSCAN`/`SSCAN`
//!   cursors are hash positions), sorted sets by a hashed member record (member ->
//!   score) plus a score index record (order-preserving score | member) that score
//!   ranges, ranks and lex ranges walk; the metadata marks where the index's live
//!   records begin and end, so pops from either end never walk the tombstones of
//!   earlier pops. The metadata's version is fresh for every
//!   incarnation (a persisted counter), so deleting or overwriting a big collection
//!   is O(1); stale elements are dropped later by a RocksDB compaction filter on
//!   `subkeys` that compares versions, or by [`KvBackend::sweep_subkeys`] on other
//!   stores. `RENAME`/`COPY`/`MOVE` of a collection rewrite its elements (O(n)).
//!   Hash fields with an expiry have entries in the expiry index too, removed by the
//!   active cycle. `docs/storage-disk.md` lists every operation's cost.
//!
//! # Concurrency and atomicity
//!
//! A scope locks 1024 stripes chosen by key hash (all of them, in ascending order, for
//! `Scope::All`). Its reads see its own pending writes through an overlay; its writes
//! go to the store as one batch when the scope ends, and key counters (`DBSIZE`) are
//! updated then. Counters are rebuilt at open by one scan of the metadata keyspace.
//!
//! **Row cache.** Each stripe's mutex also guards that stripe's share of a row cache
//! (64 MiB by default, [`KvBackend::with_row_cache`]): the committed metadata record
//! of recently used persistent keys (a string with its value) or the fact that a key
//! is absent. A RocksDB point lookup walks a memtable skiplist, a dozen or more cache
//! misses, before the block cache; commands on hot keys skip it. The cache is filled
//! by reads of the store under the stripe lock and updated by every commit under it
//! after the store accepted the batch, so it never differs from the store. Records
//! with an expiry are never cached (RocksDB's compaction filter drops them behind the
//! backend's back); range deletes clear it. Writing through [`KvBackend::store`]
//! bypasses it ([`KvBackend::clear_row_cache`]).
//!
//! **Group commit.** Inside
//! [`StorageBackend::group`](ferrokv_core::storage::StorageBackend::group) (the
//! server wraps the requests of one read from a client in it) scopes of `Scope::Keys`
//! do not commit: they keep their stripes and leave their writes pending for the
//! scopes that follow, and the group commits everything as one batch (one WAL
//! record, one pass of RocksDB's write thread) before the replies are sent. A group
//! takes further stripes with `try_lock` only: when one is taken, when a scope
//! elsewhere is waiting for a stripe (once the group ran 16 scopes), or after 64
//! scopes or 1024 writes, it commits and releases first, so it never waits while
//! holding stripes. `Scope::All` and `flush_to_disk` commit the thread's group first.
//!
//! **Blocking.** Commands run on the server's async workers. [`RocksStore`] reads
//! memtables and block cache only (`ReadTier::BlockCache`) and repeats a read that
//! would need a file under `tokio::task::block_in_place`; writes fail fast on a write
//! stall and are repeated the same way; iterations too read cached data first and,
//! when they reach a block that is not cached, go on under `block_in_place` from the
//! record after the last one visited (collection walks run on every LRANGE, SPOP or
//! ZPOPMIN, where a `block_in_place` per walk cost more than the walk). While
//! more than a quarter of recent bursts had to wait (a working set beyond the block
//! cache), whole bursts run under one `block_in_place` instead
//! ([`OrderedStore::run_burst`]).
//!
//! # Limitations
//!
//! * `update_string` (APPEND, SETRANGE, SETBIT) reads and rewrites the whole value.
//! * Rank operations on sorted sets walk the score index from the nearer end;
//!   lexicographic ranges over mixed scores walk it all.
//! * `OBJECT IDLETIME`/`FREQ` report 0: access times are not recorded on disk.
//! * `atomic` cannot report a failed commit, so after one the backend refuses writes
//!   (reads still work) until [`KvBackend::clear_failure`]; `flush_to_disk` reports it.
#![deny(unsafe_code)]
#![warn(missing_docs)]

mod backend;
mod collections;
pub mod encoding;
mod mem;
#[cfg(feature = "rocksdb")]
mod rocks;
pub mod store;
mod streams;
mod txn;

pub use backend::{KvBackend, DEFAULT_ROW_CACHE_BYTES, MAX_DATABASES, STRIPES};
pub use mem::MemStore;
#[cfg(feature = "rocksdb")]
pub use rocks::{DiskBackend, RocksConfig, RocksStore};
pub use store::{Keyspace, OrderedStore, StoreError, StoreResult, WriteBatch};
pub use txn::KvTxn;
