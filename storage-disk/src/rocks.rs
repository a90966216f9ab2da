//! [`RocksStore`]: the [`OrderedStore`] on RocksDB, one column family per keyspace.

use std::ffi::CStr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use ferrokv_core::storage::{StorageError, StorageResult};
use parking_lot::RwLock;
use rocksdb::compaction_filter::{CompactionFilter, Decision};
use rocksdb::compaction_filter_factory::{CompactionFilterContext, CompactionFilterFactory};
use rocksdb::{
    properties, BlockBasedIndexType, BlockBasedOptions, Cache, ColumnFamily,
    ColumnFamilyDescriptor, DBCompressionType, ErrorKind, Options, ReadOptions, ReadTier,
    WriteOptions, DB,
};

use crate::backend::{now_ms, KvBackend};
use crate::encoding::{decode_subkey, meta_key, raw_expire_at, MetaRecord};
use crate::store::{BatchOp, Keyspace, OrderedStore, StoreError, StoreResult, Visitor, WriteBatch};

/// The disk backend: the generic layer over RocksDB.
pub type DiskBackend = KvBackend<RocksStore>;

/// Metadata records expired longer ago than this are dropped by compaction. The
/// grace keeps compaction from racing commands that are about to expire the key
/// themselves; the active cycle normally gets there first anyway.
const COMPACTION_GRACE_MS: u64 = 10_000;

/// Tuning knobs for [`RocksStore`]; the defaults suit a small server.
#[derive(Debug, Clone)]
pub struct RocksConfig {
    /// Shared LRU cache for data, index and filter blocks.
    pub block_cache_bytes: usize,
    /// Memtable size per column family before it is flushed to an SST file.
    pub write_buffer_bytes: usize,
}

impl Default for RocksConfig {
    fn default() -> Self {
        RocksConfig {
            block_cache_bytes: 256 << 20,
            write_buffer_bytes: 64 << 20,
        }
    }
}

fn err(e: rocksdb::Error) -> StoreError {
    StoreError(e.into_string())
}

/// Runs `f`, which may wait for the disk, without stalling the async runtime: on a
/// worker of a multi-threaded tokio runtime through `block_in_place` (the worker hands
/// its other tasks to a new thread meanwhile); anywhere else (a plain or blocking
/// thread, a current-thread runtime) directly.
///
/// Only reads that miss the memtables and the block cache, and writes that RocksDB
/// would stall, come here: the common path stays on the worker, since a
/// `block_in_place` per command costs more than the command.
fn blocking<R>(f: impl FnOnce() -> R) -> R {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(h) if h.runtime_flavor() == RuntimeFlavor::MultiThread => tokio::task::block_in_place(f),
        _ => f(),
    }
}

fn incomplete(e: &rocksdb::Error) -> bool {
    e.kind() == ErrorKind::Incomplete
}

/// The database as the `subkeys` compaction filter reaches it: set once the
/// database is open, emptied (under the write lock, so after any lookup in progress)
/// before it closes.
type SharedDb = Arc<RwLock<Option<Arc<DB>>>>;

/// Makes one [`SubKeyFilter`] per compaction (each runs on one thread).
struct SubKeyFilterFactory {
    db: SharedDb,
    dropped: Arc<AtomicU64>,
}

impl CompactionFilterFactory for SubKeyFilterFactory {
    type Filter = SubKeyFilter;

    fn create(&mut self, _context: CompactionFilterContext) -> SubKeyFilter {
        SubKeyFilter {
            db: self.db.clone(),
            dropped: self.dropped.clone(),
            last: None,
        }
    }

    fn name(&self) -> &CStr {
        c"ferrokv-stale-subkeys"
    }
}

/// What the metadata says about one incarnation's sub-keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// The key's current collection has this version.
    Live(u64),
    /// The key is gone or holds a string: every sub-key under it is stale.
    Gone,
    /// The lookup failed or the store is closing: keep everything.
    Unknown,
}

/// Drops sub-keys whose version is not the current version of their key's
/// metadata record (deleted, overwritten or expired collections), reading the
/// metadata with a plain (snapshot-free) point lookup. A version never comes back
/// once it is not current (versions are unique per incarnation), so a record found
/// stale can go at any time; compaction only sees committed records, whose
/// metadata was written in the same batch.
struct SubKeyFilter {
    db: SharedDb,
    /// Bytes of the records dropped, for `dataset_bytes`.
    dropped: Arc<AtomicU64>,
    /// The last key looked up (consecutive records mostly share it).
    last: Option<(Vec<u8>, Verdict)>,
}

impl SubKeyFilter {
    fn lookup(&self, meta: &[u8]) -> Verdict {
        let guard = self.db.read();
        let Some(db) = guard.as_ref() else {
            return Verdict::Unknown;
        };
        let Some(cf) = db.cf_handle(Keyspace::Meta.name()) else {
            return Verdict::Unknown;
        };
        match db.get_cf(cf, meta) {
            Ok(None) => Verdict::Gone,
            Ok(Some(raw)) => match MetaRecord::decode(Bytes::from(raw)) {
                Ok(rec) if rec.key_type == ferrokv_core::storage::KeyType::String => Verdict::Gone,
                Ok(rec) => Verdict::Live(rec.version),
                Err(_) => Verdict::Unknown,
            },
            Err(_) => Verdict::Unknown,
        }
    }
}

impl CompactionFilter for SubKeyFilter {
    fn filter(&mut self, _level: u32, key: &[u8], value: &[u8]) -> Decision {
        let Some(sk) = decode_subkey(key) else {
            return Decision::Keep;
        };
        let mk = meta_key(sk.db, sk.hash, sk.key);
        let verdict = match &self.last {
            Some((k, v)) if *k == mk => *v,
            _ => {
                let v = self.lookup(&mk);
                self.last = Some((mk, v));
                v
            }
        };
        let stale = match verdict {
            Verdict::Live(v) => v != sk.version,
            Verdict::Gone => true,
            Verdict::Unknown => false,
        };
        if !stale {
            return Decision::Keep;
        }
        self.dropped
            .fetch_add((key.len() + value.len()) as u64, Ordering::Relaxed);
        Decision::Remove
    }

    fn name(&self) -> &CStr {
        c"ferrokv-stale-subkeys"
    }
}

/// An [`OrderedStore`] in a RocksDB directory.
pub struct RocksStore {
    db: Arc<DB>,
    /// The compaction filter's handle on `db`, emptied when the store closes.
    shared: SharedDb,
    /// Bytes of stale sub-keys the compaction filter dropped.
    dropped: Arc<AtomicU64>,
    path: PathBuf,
    /// Reads that only look at memtables and the block cache, failing with
    /// `Incomplete` rather than reading a file.
    cache_only: ReadOptions,
    /// Writes that fail with `Incomplete` rather than wait for a write stall.
    no_stall: WriteOptions,
    /// Reads and writes that had to wait (done under `block_in_place`).
    waits: AtomicU64,
    /// Moving average of the share of bursts that waited, in 1/1024ths.
    waiting_bursts: AtomicU32,
}

/// Share of recent bursts (in 1/1024ths) that had to wait beyond which whole bursts
/// run under one `block_in_place`: one handoff of the worker per burst instead of
/// one per read that misses the block cache.
const BLOCKING_BURSTS: u32 = 256;

impl std::fmt::Debug for RocksStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RocksStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn cf_options(
    ks: Keyspace,
    cache: &Cache,
    config: &RocksConfig,
    shared: &SharedDb,
    dropped: &Arc<AtomicU64>,
) -> Options {
    let mut table = BlockBasedOptions::default();
    table.set_block_cache(cache);
    table.set_cache_index_and_filter_blocks(true);
    table.set_pin_l0_filter_and_index_blocks_in_cache(true);
    table.set_format_version(5);
    // Partitioned index and filters: a file's index and bloom filter are split into
    // 4 KB blocks under a small pinned top level, so the cache holds the parts in use.
    // Whole-file filters (4 MB for a 64 MB file) are larger than a shard of a small
    // block cache and were re-read from the file on every lookup: a 5M-member sorted
    // set loading into a 64 MB cache fell from ~60k to under 1k inserts per second.
    table.set_index_type(BlockBasedIndexType::TwoLevelIndexSearch);
    table.set_partition_filters(true);
    table.set_metadata_block_size(4096);
    table.set_pin_top_level_index_and_filter(true);
    table.set_cache_index_and_filter_blocks_with_high_priority(true);
    if matches!(ks, Keyspace::Meta | Keyspace::SubKey) {
        // Point lookups dominate: a full-key bloom filter skips most SST reads.
        table.set_bloom_filter(10.0, false);
    }
    let mut opts = Options::default();
    opts.set_block_based_table_factory(&table);
    opts.set_compression_type(DBCompressionType::Lz4);
    opts.set_level_compaction_dynamic_level_bytes(true);
    opts.set_write_buffer_size(config.write_buffer_bytes);
    if ks == Keyspace::SubKey {
        // Stale elements of deleted or overwritten collections go at compaction.
        opts.set_compaction_filter_factory(SubKeyFilterFactory {
            db: shared.clone(),
            dropped: dropped.clone(),
        });
    }
    if ks == Keyspace::Meta {
        // Overwriting a key whose record is in the active memtable rewrites it there
        // when the new record is no longer, instead of adding another version: the
        // memtable stays as small as the set of keys written since the last flush,
        // so its skiplist (whose walk dominates a write) has fewer levels and
        // flushes come less often. What RocksDB gives up: readers of the memtable
        // other than point lookups may see a record change under them. Iterations
        // of this keyspace (SCAN, KEYS, RANDOMKEY, counting at open) hold every
        // lock stripe, so no write runs meanwhile. Needs non-concurrent memtable
        // writes (set in `open_with`).
        opts.set_inplace_update_support(true);
        // One record at a time: drop keys long expired (the expiry index entry is
        // left for the active cycle, which also corrects the key counters).
        opts.set_compaction_filter("ferrokv-expired-metadata", |_level, _key, value| {
            match raw_expire_at(value) {
                Some(at) if at.saturating_add(COMPACTION_GRACE_MS) <= now_ms() => Decision::Remove,
                _ => Decision::Keep,
            }
        });
    }
    opts
}

impl RocksStore {
    /// Opens (creating if needed) the store in directory `path` with default tuning.
    pub fn open(path: impl AsRef<Path>) -> StoreResult<RocksStore> {
        RocksStore::open_with(path, &RocksConfig::default())
    }

    /// Opens (creating if needed) the store in directory `path`.
    pub fn open_with(path: impl AsRef<Path>, config: &RocksConfig) -> StoreResult<RocksStore> {
        let path = path.as_ref().to_path_buf();
        let cache = Cache::new_lru_cache(config.block_cache_bytes);
        let mut db_opts = Options::default();
        db_opts.create_if_missing(true);
        db_opts.create_missing_column_families(true);
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        db_opts.increase_parallelism(cpus.clamp(2, 16) as i32);
        db_opts.set_max_background_jobs(cpus.clamp(2, 8) as i32);
        db_opts.set_keep_log_file_num(10);
        // Required by the metadata keyspace's in-place updates. Concurrent inserts
        // would also rebuild the skiplist splice for every key, where a single
        // writer reuses it between the sorted keys of a batch.
        db_opts.set_allow_concurrent_memtable_write(false);
        let shared: SharedDb = Arc::default();
        let dropped = Arc::new(AtomicU64::new(0));
        let cfs = Keyspace::ALL.into_iter().map(|ks| {
            let opts = cf_options(ks, &cache, config, &shared, &dropped);
            ColumnFamilyDescriptor::new(ks.name(), opts)
        });
        let db = Arc::new(DB::open_cf_descriptors(&db_opts, &path, cfs).map_err(err)?);
        *shared.write() = Some(db.clone());
        let mut cache_only = ReadOptions::default();
        cache_only.set_read_tier(ReadTier::BlockCache);
        let mut no_stall = WriteOptions::default();
        no_stall.set_no_slowdown(true);
        Ok(RocksStore {
            db,
            shared,
            dropped,
            path,
            cache_only,
            no_stall,
            waits: AtomicU64::new(0),
            waiting_bursts: AtomicU32::new(0),
        })
    }

    /// The directory the store lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn cf(&self, ks: Keyspace) -> StoreResult<&ColumnFamily> {
        self.db
            .cf_handle(ks.name())
            .ok_or_else(|| StoreError(format!("column family {} missing", ks.name())))
    }

    /// Read options of an iteration over `start..end` (descending when `rev`).
    fn iter_options(start: &[u8], end: Option<&[u8]>, rev: bool, cache_only: bool) -> ReadOptions {
        let mut ro = ReadOptions::default();
        if let Some(end) = end {
            ro.set_iterate_upper_bound(end.to_vec());
        }
        if rev {
            ro.set_iterate_lower_bound(start.to_vec());
        }
        if cache_only {
            ro.set_read_tier(ReadTier::BlockCache);
        }
        ro
    }

    /// Visits `start..end` in key order (descending when `rev`) until `visit`
    /// returns false.
    ///
    /// Collection walks (LRANGE, pops from a sorted set, SPOP) iterate on every
    /// command, and a `block_in_place` per iteration costs more than a short walk
    /// (it hands the worker's other tasks to another thread). So the walk first
    /// reads memtables and the block cache only; if it needs a file, it goes on
    /// under `block_in_place` from the record after the last one visited, in a new
    /// iterator, whose view is newer. That is the same view for every range the
    /// caller keeps writers out of (a collection's records under its key lock,
    /// the metadata under every stripe); the lock-free walks (expiry index,
    /// sweeper) re-check what they find under the lock anyway.
    fn iterate(
        &self,
        ks: Keyspace,
        start: &[u8],
        end: Option<&[u8]>,
        rev: bool,
        visit: &mut Visitor<'_>,
    ) -> StoreResult<()> {
        if end.is_some_and(|end| end <= start) {
            return Ok(());
        }
        let cf = self.cf(ks)?;
        // The last record visited, where a walk that must wait resumes.
        let mut last: Option<Vec<u8>> = None;
        let mut walk = |ro: ReadOptions, from: &[u8], last: &mut Option<Vec<u8>>| {
            let mut it = self.db.raw_iterator_cf_opt(cf, ro);
            if rev {
                it.seek_to_last();
            } else {
                it.seek(from);
            }
            while let (Some(k), Some(v)) = (it.key(), it.value()) {
                if !visit(k, v) {
                    return Ok(());
                }
                let buf = last.get_or_insert_with(Vec::new);
                buf.clear();
                buf.extend_from_slice(k);
                if rev {
                    it.prev();
                } else {
                    it.next();
                }
            }
            it.status()
        };
        match walk(Self::iter_options(start, end, rev, true), start, &mut last) {
            Err(e) if incomplete(&e) => {}
            other => return other.map_err(err),
        }
        self.waits.fetch_add(1, Ordering::Relaxed);
        let (from, to) = match (last.take(), rev) {
            (None, _) => (start.to_vec(), end.map(<[u8]>::to_vec)),
            (Some(mut k), false) => {
                k.push(0);
                (k, end.map(<[u8]>::to_vec))
            }
            (Some(k), true) => (start.to_vec(), Some(k)),
        };
        if to.as_deref().is_some_and(|to| to <= from.as_slice()) {
            return Ok(());
        }
        blocking(|| {
            let ro = Self::iter_options(&from, to.as_deref(), rev, false);
            walk(ro, &from, &mut last)
        })
        .map_err(err)
    }

    /// Flushes memtables and compacts every column family fully: reclaims space
    /// (and runs the expiry compaction filter) now rather than in the background.
    pub fn compact_all(&self) -> StoreResult<()> {
        for ks in Keyspace::ALL {
            let cf = self.cf(ks)?;
            self.db.flush_cf(cf).map_err(err)?;
            self.db.compact_range_cf(cf, None::<&[u8]>, None::<&[u8]>);
        }
        Ok(())
    }
}

impl Drop for RocksStore {
    fn drop(&mut self) {
        // Waits for a filter lookup in progress; later ones keep everything. The
        // database then closes when `db` drops, on this thread.
        *self.shared.write() = None;
    }
}

impl OrderedStore for RocksStore {
    fn get(&self, ks: Keyspace, key: &[u8]) -> StoreResult<Option<Vec<u8>>> {
        let cf = self.cf(ks)?;
        match self.db.get_cf_opt(cf, key, &self.cache_only) {
            Err(e) if incomplete(&e) => {
                self.waits.fetch_add(1, Ordering::Relaxed);
                blocking(|| self.db.get_cf(cf, key)).map_err(err)
            }
            other => other.map_err(err),
        }
    }

    fn multi_get(&self, ks: Keyspace, keys: &[&[u8]]) -> StoreResult<Vec<Option<Vec<u8>>>> {
        let cf = self.cf(ks)?;
        let mut out = self
            .db
            .multi_get_cf_opt(keys.iter().map(|k| (cf, *k)), &self.cache_only);
        if out.iter().any(|r| r.as_ref().is_err_and(incomplete)) {
            self.waits.fetch_add(1, Ordering::Relaxed);
            blocking(|| {
                for (r, k) in out.iter_mut().zip(keys) {
                    if r.as_ref().is_err_and(incomplete) {
                        *r = self.db.get_cf(cf, k);
                    }
                }
            });
        }
        out.into_iter().map(|r| r.map_err(err)).collect()
    }

    fn scan(
        &self,
        ks: Keyspace,
        start: &[u8],
        end: Option<&[u8]>,
        visit: &mut Visitor<'_>,
    ) -> StoreResult<()> {
        self.iterate(ks, start, end, false, visit)
    }

    fn scan_rev(
        &self,
        ks: Keyspace,
        start: &[u8],
        end: Option<&[u8]>,
        visit: &mut Visitor<'_>,
    ) -> StoreResult<()> {
        self.iterate(ks, start, end, true, visit)
    }

    fn drops_stale_subkeys(&self) -> bool {
        true
    }

    fn dropped_stale_bytes(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    fn write(&self, batch: WriteBatch) -> StoreResult<()> {
        let build = || -> StoreResult<rocksdb::WriteBatch> {
            let mut wb = rocksdb::WriteBatch::default();
            for op in &batch.ops {
                match op {
                    BatchOp::Put(ks, k, v) => wb.put_cf(self.cf(*ks)?, k, v),
                    BatchOp::Delete(ks, k) => wb.delete_cf(self.cf(*ks)?, k),
                    BatchOp::DeleteRange(ks, s, e) => wb.delete_range_cf(self.cf(*ks)?, s, e),
                }
            }
            Ok(wb)
        };
        match self.db.write_opt(build()?, &self.no_stall) {
            // A write stall (memtables full, too many L0 files): nothing was
            // written; wait it out off the async worker.
            Err(e) if incomplete(&e) => {
                self.waits.fetch_add(1, Ordering::Relaxed);
                let wb = build()?;
                blocking(|| self.db.write(wb)).map_err(err)
            }
            other => other.map_err(err),
        }
    }

    fn sync(&self) -> StoreResult<()> {
        self.db.flush_wal(true).map_err(err)
    }

    fn after_range_delete(&self, ks: Keyspace) -> StoreResult<()> {
        // `metadata` updates memtable records in place, and an in-place update keeps
        // the record's old sequence number: a key rewritten after FLUSHDB's range
        // tombstone, over a record still in the memtable, would read as deleted.
        // Flushing the memtable (FLUSHDB is rare and holds every lock) makes every
        // later write a fresh insert above the tombstone.
        if ks == Keyspace::Meta {
            self.db.flush_cf(self.cf(ks)?).map_err(err)?;
        }
        Ok(())
    }

    fn run_burst(&self, burst: &mut dyn FnMut()) {
        // Whether recent bursts (of every connection) had to wait is a property of
        // the workload (working set versus block cache), so one shared average.
        let share = self.waiting_bursts.load(Ordering::Relaxed);
        let before = self.waits.load(Ordering::Relaxed);
        if share >= BLOCKING_BURSTS {
            blocking(burst);
        } else {
            burst();
        }
        let waited = self.waits.load(Ordering::Relaxed) != before;
        // Racy read-modify-write: a lost update only delays the average a little.
        let share = self.waiting_bursts.load(Ordering::Relaxed);
        let next = share - share / 16 + if waited { 1024 / 16 } else { 0 };
        self.waiting_bursts.store(next, Ordering::Relaxed);
    }

    fn approximate_bytes(&self) -> u64 {
        let mut total = 0;
        for ks in Keyspace::ALL {
            let Ok(cf) = self.cf(ks) else { continue };
            for prop in [
                properties::ESTIMATE_LIVE_DATA_SIZE,
                properties::CUR_SIZE_ALL_MEM_TABLES,
            ] {
                if let Ok(Some(n)) = self.db.property_int_value_cf(cf, prop) {
                    total += n;
                }
            }
        }
        total
    }
}

impl KvBackend<RocksStore> {
    /// Opens (creating if needed) the disk keyspace in directory `path`.
    ///
    /// Reopening a directory keeps every key, value and expiry. Cost: one scan of
    /// the metadata column family to rebuild the `DBSIZE` counters.
    pub fn open(path: impl AsRef<Path>, databases: usize) -> StorageResult<DiskBackend> {
        KvBackend::open_with(path, databases, &RocksConfig::default())
    }

    /// [`DiskBackend::open`] with explicit RocksDB tuning.
    pub fn open_with(
        path: impl AsRef<Path>,
        databases: usize,
        config: &RocksConfig,
    ) -> StorageResult<DiskBackend> {
        let store = RocksStore::open_with(path, config).map_err(|e| StorageError::Io(e.0))?;
        KvBackend::with_store(store, databases, "disk")
    }
}
