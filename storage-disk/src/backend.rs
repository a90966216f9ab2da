//! [`KvBackend`]: the generic layer mapping the typed [`StorageBackend`] onto any
//! [`OrderedStore`]. See the crate docs for the layout.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use ferrokv_core::storage::{
    DbIndex, DbStats, EncodingLimits, ExpireStats, KeyType, Scope, StorageBackend, StorageError,
    StorageResult, Txn, UnixMillis,
};
use parking_lot::{ArcMutexGuard, Mutex, MutexGuard, RawMutex, RwLock};

use crate::encoding::{
    db_range, decode_dbmap, decode_expiry_key, decode_field_expiry_key, decode_field_value,
    decode_meta_key, decode_subkey, encode_dbmap, expiry_key, field_expiry_seek, hashed_suffix,
    key_hash, meta_key, prefix_end, raw_expire_at, subkey_prefix, MetaRecord, PhysDb,
    LAYOUT_VERSION, SYS_DBMAP, SYS_LAYOUT, SYS_VERSION,
};
use crate::mem::MemStore;
use crate::store::{Keyspace, OrderedStore, StoreError, WriteBatch};
use crate::txn::{KvTxn, Pending};

/// Number of lock stripes. A key's stripe depends only on its name, so one stripe
/// covers the key in every database (as `Scope::Keys` promises).
pub const STRIPES: usize = 1024;

/// Largest supported number of databases (physical ids must leave room for the
/// exclusive end of a database's key range in a `u16`).
pub const MAX_DATABASES: usize = u16::MAX as usize - 1;

/// Expired index entries the active cycle settles under one set of locks and one
/// batch.
const EXPIRE_CHUNK: usize = 64;

/// Collection versions reserved by one write of the [`SYS_VERSION`] high-water
/// mark: one small system write per this many new collections.
const VERSION_BLOCK: u64 = 1 << 16;

/// Hands out collection versions: unique for the life of the store, also across
/// restarts, because the high-water mark is persisted before a version below it is
/// used.
#[derive(Debug)]
struct Versions {
    next: u64,
    /// Versions below this are covered by the persisted mark.
    reserved: u64,
}

/// Default size of the row cache ([`KvBackend::with_row_cache`]).
pub const DEFAULT_ROW_CACHE_BYTES: usize = 64 << 20;

/// Bytes a row cache entry costs beyond its key and record (table slot, `Vec` and
/// `Bytes` headers, allocator rounding); an estimate, for the budget only.
const ROW_OVERHEAD: usize = 96;

/// One lock stripe: what its mutex guards is the stripe's share of the row cache.
///
/// The row cache maps metadata keys to their committed record, or to `None` for a key
/// known absent. A RocksDB point lookup walks a memtable skiplist (a dozen or more
/// cache misses) before the block cache; a command's reads of its own keys come
/// here first. It holds only what the store holds right now: it is read and changed
/// only under the stripe's lock, filled from reads of the store made under that
/// lock and updated by every commit under it, after the store accepted the batch.
/// Records with an expiry are never kept (the RocksDB compaction filter drops such
/// records behind the backend's back), nor is anything after a range delete.
#[derive(Debug, Default)]
pub(crate) struct Stripe {
    rows: HashMap<Vec<u8>, Option<Bytes>, foldhash::fast::RandomState>,
    bytes: usize,
}

impl Stripe {
    fn cost(key: &[u8], value: &Option<Bytes>) -> usize {
        key.len() + value.as_ref().map_or(0, |v| v.len()) + ROW_OVERHEAD
    }

    /// The committed record of metadata key `key`, if cached: `Some(None)` means
    /// the key is known absent.
    pub(crate) fn get(&self, key: &[u8]) -> Option<Option<Bytes>> {
        self.rows.get(key).cloned()
    }

    /// Records the committed state of `key`: its record (if persistent, otherwise
    /// forgets it) or `None` for absent. Evicts arbitrary entries beyond `cap`.
    pub(crate) fn put(&mut self, key: Vec<u8>, value: Option<Bytes>, cap: usize) {
        if value.as_deref().is_some_and(|v| raw_expire_at(v).is_some()) {
            self.remove(&key);
            return;
        }
        let cost = Self::cost(&key, &value);
        if cost > cap {
            self.remove(&key);
            return;
        }
        let key_len = key.len();
        if let Some(old) = self.rows.insert(key, value) {
            self.bytes -= key_len + old.map_or(0, |v| v.len()) + ROW_OVERHEAD;
        }
        self.bytes += cost;
        while self.bytes > cap {
            // Any entry: table order is hash order, unrelated to use.
            let Some(victim) = self.rows.keys().next().cloned() else {
                break;
            };
            self.remove(&victim);
        }
    }

    /// Forgets `key`.
    pub(crate) fn remove(&mut self, key: &[u8]) {
        if let Some((k, v)) = self.rows.remove_entry(key) {
            self.bytes -= Self::cost(&k, &v);
        }
    }

    /// Forgets everything.
    pub(crate) fn clear(&mut self) {
        self.rows.clear();
        self.bytes = 0;
    }
}

/// A held stripe.
type StripeGuard = ArcMutexGuard<RawMutex, Stripe>;

/// The stripes a scope (or a group commit) holds.
pub(crate) struct Locks {
    /// Every stripe, indexed by stripe number.
    all: bool,
    /// Stripe numbers held, ascending, matching `guards` (unused with `all`).
    idx: Vec<usize>,
    guards: Vec<StripeGuard>,
}

impl Locks {
    fn none() -> Locks {
        Locks {
            all: false,
            idx: Vec::new(),
            guards: Vec::new(),
        }
    }

    /// The stripe `i`, if held.
    pub(crate) fn stripe(&mut self, i: usize) -> Option<&mut Stripe> {
        let pos = if self.all {
            i
        } else {
            self.idx.binary_search(&i).ok()?
        };
        self.guards.get_mut(pos).map(|g| &mut **g)
    }

    /// Adds the stripes `need` (ascending) without waiting; false if one is taken
    /// (those acquired so far stay held).
    fn try_add(&mut self, stripes: &[Arc<Mutex<Stripe>>], need: &[usize]) -> bool {
        if self.all {
            return true;
        }
        for &i in need {
            if let Err(pos) = self.idx.binary_search(&i) {
                let Some(g) = stripes[i].try_lock_arc() else {
                    return false;
                };
                self.idx.insert(pos, i);
                self.guards.insert(pos, g);
            }
        }
        true
    }
}

/// Scopes at most a group commit collects before committing them (bounds how long
/// it holds its stripes and the size of its batch).
const GROUP_MAX_SCOPES: usize = 64;

/// Pending record writes beyond which a group commits before its next scope.
const GROUP_MAX_WRITES: usize = 1024;

/// Scopes a group runs before it gives way to a scope waiting for a stripe.
/// Giving way means a commit (a WAL write) and a lock handover between threads;
/// on a hot key, two connections' pipelines did that at every command, so a
/// group first finishes a pipeline of this many commands (a few tens of
/// microseconds more for the waiter).
const GROUP_YIELD_SCOPES: usize = 16;

/// The group commit open on this thread ([`StorageBackend::group`]).
struct Group {
    /// Address of the backend that opened it: scopes of another backend on this
    /// thread are not grouped.
    owner: usize,
    locks: Locks,
    pending: Option<Pending>,
    scopes: usize,
    /// The first failure of a commit of this group.
    error: Option<StorageError>,
}

thread_local! {
    static GROUP: RefCell<Option<Box<Group>>> = const { RefCell::new(None) };
}

/// Takes this thread's group out if `owner` opened it.
fn take_group(owner: usize) -> Option<Box<Group>> {
    GROUP.with(|g| {
        let mut g = g.borrow_mut();
        if g.as_ref().is_some_and(|g| g.owner == owner) {
            g.take()
        } else {
            None
        }
    })
}

/// Puts a group taken by [`take_group`] back, also when a command panicked: its
/// writes and stripes are then dropped and the group reports the loss.
struct PutBack(Option<Box<Group>>);

impl Drop for PutBack {
    fn drop(&mut self) {
        if let Some(mut g) = self.0.take() {
            if std::thread::panicking() {
                g.pending = None;
                g.locks = Locks::none();
                g.error
                    .get_or_insert(StorageError::Io("a command panicked".into()));
            }
            GROUP.with(|t| *t.borrow_mut() = Some(g));
        }
    }
}

/// Current wall-clock time in Unix milliseconds.
pub(crate) fn now_ms() -> UnixMillis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

pub(crate) fn io(e: StoreError) -> StorageError {
    StorageError::Io(e.0)
}

/// Key and volatile-key counts of one physical database, kept in memory so
/// `DBSIZE` and `INFO keyspace` cost nothing.
#[derive(Debug, Default)]
pub(crate) struct Counter {
    pub(crate) keys: AtomicU64,
    pub(crate) expires: AtomicU64,
}

impl Counter {
    pub(crate) fn add(&self, keys: i64, expires: i64) {
        // Two's-complement wrapping add: a negative delta subtracts.
        self.keys.fetch_add(keys as u64, Ordering::Relaxed);
        self.expires.fetch_add(expires as u64, Ordering::Relaxed);
    }

    pub(crate) fn stats(&self) -> DbStats {
        DbStats {
            keys: clamp(self.keys.load(Ordering::Relaxed)),
            expires: clamp(self.expires.load(Ordering::Relaxed)),
        }
    }
}

/// A counter that wrapped below zero (which only a bug could cause) reads as 0.
fn clamp(v: u64) -> u64 {
    if v > i64::MAX as u64 {
        0
    } else {
        v
    }
}

/// The Redis keyspace over an ordered store: metadata records, expiry index, striped
/// key locks and one write batch per atomic scope.
pub struct KvBackend<S: OrderedStore> {
    pub(crate) store: S,
    pub(crate) name: &'static str,
    pub(crate) databases: usize,
    stripes: Box<[Arc<Mutex<Stripe>>]>,
    /// Row cache budget of one stripe, in bytes.
    pub(crate) row_cap: usize,
    /// Logical database -> physical id (the key prefix); swapped by `SWAPDB`.
    pub(crate) dbmap: RwLock<Arc<Vec<PhysDb>>>,
    /// Indexed by physical id.
    pub(crate) counters: Box<[Counter]>,
    expire_cursor: AtomicUsize,
    /// Scopes waiting for a stripe; while some are, groups past
    /// [`GROUP_YIELD_SCOPES`] commit at their next scope instead of holding their
    /// stripes to the end of their burst.
    waiting: AtomicUsize,
    /// Set when a commit failed: writes are refused until
    /// [`KvBackend::clear_failure`], since `atomic` cannot report the loss.
    pub(crate) failure: Mutex<Option<String>>,
    /// Whether `failure` is set: read by every write, so kept apart from the mutex
    /// (whose cache line two cores would otherwise pass back and forth).
    failed: std::sync::atomic::AtomicBool,
    versions: Mutex<Versions>,
    /// Thresholds of Redis' compact encodings, for `OBJECT ENCODING`.
    limits: RwLock<EncodingLimits>,
    /// Where the next sweep of stale sub-keys starts (stores without a compaction
    /// filter).
    sweep_cursor: Mutex<Vec<u8>>,
    /// Approximate bytes of stale sub-keys left by deleted or replaced collections
    /// and not yet removed, which `dataset_bytes` discounts; and how many bytes the
    /// store had reported dropped when this was last brought up to date.
    garbage: Mutex<(u64, u64)>,
}

impl<S: OrderedStore> std::fmt::Debug for KvBackend<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KvBackend")
            .field("name", &self.name)
            .field("databases", &self.databases)
            .finish_non_exhaustive()
    }
}

impl KvBackend<MemStore> {
    /// A volatile backend over a [`MemStore`]: the full generic layer with no disk,
    /// for tests and embedders.
    pub fn new_in_memory(databases: usize) -> KvBackend<MemStore> {
        KvBackend::with_store(MemStore::new(), databases, "disk-mem")
            .expect("an empty MemStore always opens")
    }
}

impl<S: OrderedStore> KvBackend<S> {
    /// Opens the keyspace kept in `store` with `databases` logical databases.
    ///
    /// Cost: one full scan of the metadata keyspace to rebuild the per-database key
    /// counters (`DBSIZE` is then free). Fails if the store holds another layout
    /// version.
    pub fn with_store(store: S, databases: usize, name: &'static str) -> StorageResult<Self> {
        if databases == 0 || databases > MAX_DATABASES {
            return Err(StorageError::Io(format!(
                "databases must be between 1 and {MAX_DATABASES}, got {databases}"
            )));
        }
        let mut init = WriteBatch::new();
        match store.get(Keyspace::System, SYS_LAYOUT).map_err(io)? {
            Some(v) if v.as_slice() == [LAYOUT_VERSION] => {}
            Some(v) => {
                return Err(StorageError::Io(format!(
                    "store layout version {v:?} is not supported (this build: {LAYOUT_VERSION})"
                )))
            }
            None => {
                let mut any = false;
                store
                    .scan(Keyspace::Meta, b"", None, &mut |_, _| {
                        any = true;
                        false
                    })
                    .map_err(io)?;
                if any {
                    return Err(StorageError::Io(
                        "store holds data but no layout record".into(),
                    ));
                }
                init.put(Keyspace::System, SYS_LAYOUT.to_vec(), vec![LAYOUT_VERSION]);
            }
        }
        let mut map = match store.get(Keyspace::System, SYS_DBMAP).map_err(io)? {
            Some(raw) => decode_dbmap(&raw).map_err(io)?,
            None => Vec::new(),
        };
        if map.len() < databases {
            // New logical databases get the unused physical ids len..databases.
            map.extend(map.len() as PhysDb..databases as PhysDb);
            init.put(Keyspace::System, SYS_DBMAP.to_vec(), encode_dbmap(&map));
        }
        let next_version = match store.get(Keyspace::System, SYS_VERSION).map_err(io)? {
            Some(raw) => u64::from_be_bytes(
                raw.as_slice()
                    .try_into()
                    .map_err(|_| StorageError::Io("corrupt version record".into()))?,
            ),
            None => 1,
        };
        if !init.is_empty() {
            store.write(init).map_err(io)?;
        }

        let counters: Box<[Counter]> = (0..map.len()).map(|_| Counter::default()).collect();
        store
            .scan(Keyspace::Meta, b"", None, &mut |k, v| {
                if let Some((db, _, _)) = decode_meta_key(k) {
                    if let Some(c) = counters.get(usize::from(db)) {
                        c.add(1, i64::from(raw_expire_at(v).is_some()));
                    }
                }
                true
            })
            .map_err(io)?;

        Ok(KvBackend {
            store,
            name,
            databases,
            stripes: (0..STRIPES).map(|_| Arc::default()).collect(),
            row_cap: DEFAULT_ROW_CACHE_BYTES / STRIPES,
            dbmap: RwLock::new(Arc::new(map)),
            counters,
            expire_cursor: AtomicUsize::new(0),
            waiting: AtomicUsize::new(0),
            failure: Mutex::new(None),
            failed: std::sync::atomic::AtomicBool::new(false),
            versions: Mutex::new(Versions {
                next: next_version,
                reserved: next_version,
            }),
            limits: RwLock::new(EncodingLimits::default()),
            sweep_cursor: Mutex::new(Vec::new()),
            garbage: Mutex::new((0, 0)),
        })
    }

    /// A version for a new incarnation of a collection, never handed out before by
    /// this store.
    pub(crate) fn new_version(&self) -> StorageResult<u64> {
        let mut v = self.versions.lock();
        if v.next >= v.reserved {
            let mark = v.next.saturating_add(VERSION_BLOCK);
            let mut batch = WriteBatch::new();
            batch.put(
                Keyspace::System,
                SYS_VERSION.to_vec(),
                mark.to_be_bytes().to_vec(),
            );
            self.store.write(batch).map_err(io)?;
            v.reserved = mark;
        }
        let out = v.next;
        v.next += 1;
        Ok(out)
    }

    /// Records stale sub-key bytes a committed batch left behind.
    pub(crate) fn add_garbage(&self, bytes: u64) {
        if bytes > 0 {
            let mut g = self.garbage.lock();
            self.settle_garbage(&mut g);
            g.0 = g.0.saturating_add(bytes);
        }
    }

    /// Forgets the stale bytes counted so far: a flush removed the stale records
    /// of its database with the rest (those of other databases then count as data
    /// until they go).
    pub(crate) fn reset_garbage(&self) {
        let mut g = self.garbage.lock();
        g.0 = 0;
        g.1 = self.store.dropped_stale_bytes();
    }

    /// Takes off what the store dropped since last time. (Stale records from before
    /// the store was opened are not counted when left, so the balance stops at 0.)
    fn settle_garbage(&self, g: &mut (u64, u64)) -> u64 {
        let dropped = self.store.dropped_stale_bytes();
        g.0 = g.0.saturating_sub(dropped.saturating_sub(g.1));
        g.1 = dropped;
        g.0
    }

    /// The current encoding thresholds.
    pub(crate) fn limits(&self) -> EncodingLimits {
        *self.limits.read()
    }

    /// One step of the sweep of stale collection sub-keys, for stores that do not
    /// drop them by themselves ([`OrderedStore::drops_stale_subkeys`]): looks at up
    /// to `budget` collection incarnations found in `subkeys` from where the last
    /// step stopped (one seek and one metadata read each, skipping their
    /// elements), and range-deletes those whose version is no longer their key's.
    /// Returns how many incarnations it removed. Wraps around at the end.
    ///
    /// Runs without key locks: a version that is not current never becomes current
    /// again, and a collection's sub-keys and metadata are committed in one batch,
    /// so a record seen stale is stale for good.
    pub fn sweep_subkeys(&self, budget: usize) -> usize {
        let mut cursor = self.sweep_cursor.lock();
        let mut removed = 0;
        let mut batch = WriteBatch::new();
        for _ in 0..budget {
            let mut first = None;
            let scanned = self
                .store
                .scan(Keyspace::SubKey, &cursor, None, &mut |k, _| {
                    first = Some(k.to_vec());
                    false
                });
            if let Err(e) = scanned {
                self.record_failure(&e);
                return removed;
            }
            let Some(first) = first else {
                // The end: start over next time.
                cursor.clear();
                break;
            };
            let Some(sk) = decode_subkey(&first) else {
                cursor.clone_from(&first);
                cursor.push(0);
                continue;
            };
            let prefix = first[..sk.prefix_len].to_vec();
            let end = prefix_end(&prefix).unwrap_or_else(|| db_range(sk.db).1);
            let live = match self
                .store
                .get(Keyspace::Meta, &meta_key(sk.db, sk.hash, sk.key))
            {
                Ok(None) => false,
                Ok(Some(raw)) => match MetaRecord::decode(Bytes::from(raw)) {
                    Ok(rec) => rec.key_type != KeyType::String && rec.version == sk.version,
                    // Unreadable: keep, someone will have to look at it.
                    Err(_) => true,
                },
                Err(e) => {
                    self.record_failure(&e);
                    return removed;
                }
            };
            if !live {
                // Count what goes, for `dataset_bytes`.
                let mut bytes = 0u64;
                let counted =
                    self.store
                        .scan(Keyspace::SubKey, &prefix, Some(&end), &mut |k, v| {
                            bytes += (k.len() + v.len()) as u64;
                            true
                        });
                if let Err(e) = counted {
                    self.record_failure(&e);
                    return removed;
                }
                let mut g = self.garbage.lock();
                g.0 = g.0.saturating_sub(bytes);
                batch.delete_range(Keyspace::SubKey, prefix, end.clone());
                removed += 1;
            }
            *cursor = end;
        }
        if !batch.is_empty() {
            if let Err(e) = self.store.write(batch) {
                self.record_failure(&e);
                return 0;
            }
        }
        removed
    }

    /// Sets the row cache budget (default [`DEFAULT_ROW_CACHE_BYTES`]; 0 disables
    /// it): committed metadata records of recently used persistent keys (strings
    /// with their value) and keys known absent, so that commands on hot keys skip
    /// the store's point lookup. The budget is an estimate including overheads.
    pub fn with_row_cache(mut self, bytes: usize) -> Self {
        self.row_cap = bytes / STRIPES;
        for s in self.stripes.iter() {
            s.lock().clear();
        }
        self
    }

    /// The underlying store, for maintenance (compaction, backups) and tests.
    ///
    /// Writing keys through it bypasses the row cache: call
    /// [`KvBackend::clear_row_cache`] afterwards.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Empties the row cache (after writing to [`KvBackend::store`] directly).
    pub fn clear_row_cache(&self) {
        for s in self.stripes.iter() {
            s.lock().clear();
        }
    }

    /// The error of the commit that failed, if one did; writes are refused while it
    /// is set.
    pub fn failure(&self) -> Option<String> {
        if !self.failed.load(Ordering::Acquire) {
            return None;
        }
        self.failure.lock().clone()
    }

    /// Re-enables writes after a failed commit, once the operator fixed the cause
    /// (freed disk space, ...).
    pub fn clear_failure(&self) {
        let mut f = self.failure.lock();
        *f = None;
        self.failed.store(false, Ordering::Release);
    }

    pub(crate) fn record_failure(&self, e: &StoreError) {
        eprintln!("ferrokv-storage-disk: commit failed, refusing writes: {e}");
        let mut f = self.failure.lock();
        *f = Some(e.0.clone());
        self.failed.store(true, Ordering::Release);
    }

    pub(crate) fn stripe_of(hash: u64) -> usize {
        (hash % STRIPES as u64) as usize
    }

    /// Locks stripe `i` alone (to fix its row cache after a scope that did not
    /// hold it).
    pub(crate) fn lock_one(&self, i: usize) -> MutexGuard<'_, Stripe> {
        self.stripes[i].lock()
    }

    fn lock_stripes(&self, mut idx: Vec<usize>) -> Locks {
        // Always ascending, so two scopes can never wait on each other in a cycle.
        idx.sort_unstable();
        idx.dedup();
        let guards = idx.iter().map(|&i| self.lock_stripe(i)).collect();
        Locks {
            all: false,
            idx,
            guards,
        }
    }

    fn lock_stripe(&self, i: usize) -> StripeGuard {
        self.stripes[i].try_lock_arc().unwrap_or_else(|| {
            // Groups see this and commit early, releasing their stripes.
            self.waiting.fetch_add(1, Ordering::Relaxed);
            let g = self.stripes[i].lock_arc();
            self.waiting.fetch_sub(1, Ordering::Relaxed);
            g
        })
    }

    fn stripes_of(keys: &[Bytes]) -> Vec<usize> {
        let mut idx: Vec<usize> = keys.iter().map(|k| Self::stripe_of(key_hash(k))).collect();
        idx.sort_unstable();
        idx.dedup();
        idx
    }

    fn lock(&self, scope: Scope<'_>) -> Locks {
        match scope {
            Scope::All => Locks {
                all: true,
                idx: Vec::new(),
                guards: (0..STRIPES).map(|i| self.lock_stripe(i)).collect(),
            },
            Scope::Keys(keys) => self.lock_stripes(Self::stripes_of(keys)),
        }
    }

    fn group_owner(&self) -> usize {
        self as *const Self as *const () as usize
    }

    /// Commits what a group collected and releases its stripes.
    fn flush_group(&self, g: &mut Group) {
        let locks = std::mem::replace(&mut g.locks, Locks::none());
        if let Some(p) = g.pending.take() {
            if let Err(e) = p.commit(self, locks) {
                g.error.get_or_insert(e);
            }
        }
        g.scopes = 0;
    }

    /// Runs one `Scope::Keys` scope inside this thread's group: its stripes join the
    /// group's (committing the group first if one is taken, so a group never waits
    /// while holding stripes) and its writes join the group's batch.
    fn grouped(&self, g: Box<Group>, keys: &[Bytes], body: &mut dyn FnMut(&mut dyn Txn)) {
        let mut put_back = PutBack(Some(g));
        let g = put_back.0.as_mut().expect("just put");
        let need = Self::stripes_of(keys);
        let full = g.scopes >= GROUP_MAX_SCOPES
            || (g.scopes >= GROUP_YIELD_SCOPES && self.waiting.load(Ordering::Relaxed) > 0)
            || g.pending
                .as_ref()
                .is_some_and(|p| p.len() >= GROUP_MAX_WRITES);
        if full || !g.locks.try_add(&self.stripes, &need) {
            self.flush_group(g);
            g.locks = self.lock_stripes(need);
        }
        let dbmap = self.dbmap.read().clone();
        let pending = match g.pending.take() {
            Some(mut p) => {
                p.refresh_dbmap(dbmap);
                p
            }
            None => Pending::new(dbmap),
        };
        let locks = std::mem::replace(&mut g.locks, Locks::none());
        let mut txn = KvTxn::new(self, now_ms(), locks, pending);
        body(&mut txn);
        let (locks, pending) = txn.into_parts();
        g.locks = locks;
        let poisoned = pending.is_poisoned();
        g.pending = Some(pending);
        g.scopes += 1;
        if poisoned {
            // A failed read voided this scope's writes, and with them the group's
            // so far: fail the group now, so the scopes after it start afresh.
            self.flush_group(g);
        }
    }

    /// Settles a chunk of due expiry entries of one physical database under their
    /// locks, in one batch.
    fn expire_chunk(
        &self,
        db: PhysDb,
        entries: &[Vec<u8>],
        stats: &mut ExpireStats,
        on_expired: &mut dyn FnMut(DbIndex, &[u8]),
    ) {
        let parsed: Vec<(UnixMillis, &[u8], u64)> = entries
            .iter()
            .filter_map(|e| decode_expiry_key(e))
            .map(|(_, at, key)| (at, key, key_hash(key)))
            .collect();
        let _guards = self.lock_stripes(parsed.iter().map(|p| Self::stripe_of(p.2)).collect());
        let mut batch = WriteBatch::new();
        let mut removed = 0i64;
        let mut dead_bytes = 0;
        // Keys whose record goes (or went with the compaction filter), to report.
        let mut gone: Vec<&[u8]> = Vec::new();
        for ((at, key, hash), entry) in parsed.into_iter().zip(entries) {
            // Re-read under the lock: a command may have settled the key meanwhile.
            match self.store.get(Keyspace::Expiry, entry) {
                Ok(Some(_)) => {}
                Ok(None) => continue,
                Err(e) => {
                    self.record_failure(&e);
                    return;
                }
            }
            let mk = meta_key(db, hash, key);
            let meta = match self.store.get(Keyspace::Meta, &mk) {
                Ok(m) => m,
                Err(e) => {
                    self.record_failure(&e);
                    return;
                }
            };
            match meta {
                Some(raw) if raw_expire_at(&raw) == Some(at) => {
                    // A collection's elements stay for the compaction filter or the
                    // sweeper.
                    if let Ok(rec) = MetaRecord::decode(Bytes::from(raw)) {
                        dead_bytes += rec.bytes;
                    }
                    batch.delete(Keyspace::Meta, mk);
                    gone.push(key);
                }
                Some(_) => {}
                None => gone.push(key),
            }
            // Otherwise the record this entry indexed was dropped by the compaction
            // filter (commands keep record and entry in step): it was still counted.
            batch.delete(Keyspace::Expiry, entry.clone());
            removed += 1;
        }
        if batch.is_empty() {
            return;
        }
        match self.store.write(batch) {
            Ok(()) => {
                self.counters[usize::from(db)].add(-removed, -removed);
                stats.expired += removed as u64;
                self.add_garbage(dead_bytes);
                if !gone.is_empty() {
                    let map = self.dbmap.read().clone();
                    if let Some(logical) = map.iter().position(|&p| p == db) {
                        for key in gone {
                            on_expired(logical, key);
                        }
                    }
                }
            }
            Err(e) => self.record_failure(&e),
        }
    }
}

/// A hash changed by [`KvBackend::expire_field_chunk`].
struct ExpiringHash {
    key: Vec<u8>,
    hash: u64,
    /// The record as committed.
    old: MetaRecord,
    /// The record after the removals so far.
    rec: MetaRecord,
}

impl<S: OrderedStore> KvBackend<S> {
    /// Removes the expired hash fields a chunk of due field entries points at,
    /// under their keys' locks, in one batch: each entry is re-checked (the field
    /// must still carry exactly that expiry in the same incarnation of the hash),
    /// the hash's count goes down, and a hash left empty is deleted.
    fn expire_field_chunk(&self, db: PhysDb, entries: &[Vec<u8>], now: UnixMillis) {
        let parsed: Vec<_> = entries
            .iter()
            .filter_map(|e| decode_field_expiry_key(e).map(|f| (f, key_hash(f.key), e)))
            .collect();
        let mut locks = self.lock_stripes(parsed.iter().map(|p| Self::stripe_of(p.1)).collect());
        let mut batch = WriteBatch::new();
        let mut hashes: HashMap<Vec<u8>, ExpiringHash> = HashMap::new();
        let mut removed_fields = std::collections::HashSet::new();
        for (f, hash, entry) in parsed {
            match self.store.get(Keyspace::Expiry, entry) {
                Ok(Some(_)) => {}
                Ok(None) => continue,
                Err(e) => return self.record_failure(&e),
            }
            batch.delete(Keyspace::Expiry, entry.clone());
            let mk = meta_key(db, hash, f.key);
            if !hashes.contains_key(&mk) {
                let rec = match self.store.get(Keyspace::Meta, &mk) {
                    Ok(Some(raw)) => MetaRecord::decode(Bytes::from(raw)).ok(),
                    Ok(None) => None,
                    Err(e) => return self.record_failure(&e),
                };
                let Some(rec) = rec else { continue };
                hashes.insert(
                    mk.clone(),
                    ExpiringHash {
                        key: f.key.to_vec(),
                        hash,
                        old: rec.clone(),
                        rec,
                    },
                );
            }
            let h = hashes.get_mut(&mk).expect("inserted above");
            if h.rec.key_type != KeyType::Hash
                || h.rec.version != f.version
                || h.rec.len == 0
                || h.rec.is_expired(now)
            {
                // A stale entry (the hash was deleted or replaced), or a key that
                // its own expiry entry removes.
                continue;
            }
            let mut fk = subkey_prefix(db, f.key, f.version);
            fk.extend_from_slice(&hashed_suffix(f.field));
            if removed_fields.contains(&fk) {
                continue;
            }
            let field = match self.store.get(Keyspace::SubKey, &fk) {
                Ok(v) => v,
                Err(e) => return self.record_failure(&e),
            };
            let due = field
                .as_deref()
                .and_then(decode_field_value)
                .is_some_and(|(at, _)| at == Some(f.at) && f.at <= now);
            if due {
                let size = (fk.len() + field.as_ref().map_or(0, |v| v.len())) as u64;
                h.rec.bytes = h.rec.bytes.saturating_sub(size);
                batch.delete(Keyspace::SubKey, fk.clone());
                removed_fields.insert(fk);
                h.rec.len -= 1;
                h.rec.removed = h.rec.removed.saturating_add(1);
            }
        }
        let mut changed = Vec::new();
        let (mut keys, mut expires) = (0i64, 0i64);
        for (mk, h) in hashes {
            if h.rec == h.old {
                continue;
            }
            if h.rec.len == 0 {
                batch.delete(Keyspace::Meta, mk.clone());
                if h.old.expire_at != 0 {
                    batch.delete(Keyspace::Expiry, expiry_key(db, h.old.expire_at, &h.key));
                    expires -= 1;
                }
                keys -= 1;
                changed.push((mk, h.hash, None));
            } else {
                let value = Bytes::from(h.rec.encode());
                batch.put(Keyspace::Meta, mk.clone(), value.to_vec());
                changed.push((mk, h.hash, Some(value)));
            }
        }
        if batch.is_empty() {
            return;
        }
        if let Err(e) = self.store.write(batch) {
            return self.record_failure(&e);
        }
        self.counters[usize::from(db)].add(keys, expires);
        // The row cache follows the store under the same locks.
        for (mk, hash, value) in changed {
            if let Some(stripe) = locks.stripe(Self::stripe_of(hash)) {
                stripe.put(mk, value, self.row_cap);
            }
        }
    }
}

impl<S: OrderedStore> StorageBackend for KvBackend<S> {
    fn name(&self) -> &'static str {
        self.name
    }

    fn databases(&self) -> usize {
        self.databases
    }

    fn atomic(&self, scope: Scope<'_>, body: &mut dyn FnMut(&mut dyn Txn)) -> StorageResult<()> {
        if let Some(mut g) = take_group(self.group_owner()) {
            if let Scope::Keys(keys) = scope {
                self.grouped(g, keys, body);
                return Ok(());
            }
            // `Scope::All` waits for every stripe: commit and release the group's
            // first.
            self.flush_group(&mut g);
            drop(PutBack(Some(g)));
        }
        let locks = self.lock(scope);
        let pending = Pending::new(self.dbmap.read().clone());
        let mut txn = KvTxn::new(self, now_ms(), locks, pending);
        body(&mut txn);
        txn.commit()
    }

    fn group(&self, run: &mut dyn FnMut()) -> StorageResult<()> {
        let owner = self.group_owner();
        let opened = GROUP.with(|g| {
            let mut g = g.borrow_mut();
            if g.is_some() {
                return false;
            }
            *g = Some(Box::new(Group {
                owner,
                locks: Locks::none(),
                pending: None,
                scopes: 0,
                error: None,
            }));
            true
        });
        if !opened {
            // Already in a group (of this backend or another): scopes join it.
            run();
            return Ok(());
        }
        /// Closes the group even if `run` panics (releasing its stripes).
        struct Close;
        impl Drop for Close {
            fn drop(&mut self) {
                GROUP.with(|g| g.borrow_mut().take());
            }
        }
        let close = Close;
        self.store.run_burst(run);
        let group = GROUP.with(|g| g.borrow_mut().take());
        drop(close);
        let Some(mut g) = group else {
            return Ok(());
        };
        self.flush_group(&mut g);
        match g.error {
            None => Ok(()),
            Some(e) => Err(e),
        }
    }

    fn active_expire(&self, budget: usize) -> ExpireStats {
        self.active_expire_reporting(budget, &mut |_, _| {})
    }

    fn active_expire_reporting(
        &self,
        budget: usize,
        on_expired: &mut dyn FnMut(DbIndex, &[u8]),
    ) -> ExpireStats {
        let mut stats = ExpireStats::default();
        let dbs = self.counters.len();
        let now = now_ms();
        let first = self.expire_cursor.load(Ordering::Relaxed) % dbs;
        let mut remaining = budget;
        for i in 0..dbs {
            let db = ((first + i) % dbs) as PhysDb;
            if remaining == 0 {
                // Resume here next time, so every database gets its turn.
                self.expire_cursor.store(usize::from(db), Ordering::Relaxed);
                return stats;
            }
            let (start, _) = db_range(db);
            let end = expiry_key(db, now.saturating_add(1), b"");
            let mut due = Vec::new();
            let scanned = self
                .store
                .scan(Keyspace::Expiry, &start, Some(&end), &mut |k, _| {
                    due.push(k.to_vec());
                    due.len() < remaining
                });
            if let Err(e) = scanned {
                self.record_failure(&e);
                return stats;
            }
            remaining -= due.len();
            stats.sampled += due.len() as u64;
            for chunk in due.chunks(EXPIRE_CHUNK) {
                self.expire_chunk(db, chunk, &mut stats, on_expired);
            }
            if remaining == 0 {
                continue;
            }
            // Hash fields with an expiry: their entries sort after the keys'.
            let start = field_expiry_seek(db, 0);
            let end = field_expiry_seek(db, now.saturating_add(1));
            let mut due = Vec::new();
            let scanned = self
                .store
                .scan(Keyspace::Expiry, &start, Some(&end), &mut |k, _| {
                    due.push(k.to_vec());
                    due.len() < remaining
                });
            if let Err(e) = scanned {
                self.record_failure(&e);
                return stats;
            }
            remaining -= due.len();
            for chunk in due.chunks(EXPIRE_CHUNK) {
                self.expire_field_chunk(db, chunk, now);
            }
        }
        self.expire_cursor.store(first + 1, Ordering::Relaxed);
        if !self.store.drops_stale_subkeys() && budget > 0 {
            self.sweep_subkeys(budget.clamp(1, 256));
        }
        stats
    }

    fn set_encoding_limits(&self, limits: EncodingLimits) {
        *self.limits.write() = limits;
    }

    fn dataset_bytes(&self) -> u64 {
        // Deleting a collection leaves its elements to compaction or the sweeper;
        // they no longer count as data.
        let pending = self.settle_garbage(&mut self.garbage.lock());
        self.store.approximate_bytes().saturating_sub(pending)
    }

    fn flush_to_disk(&self) -> StorageResult<()> {
        // A command of an open group (SAVE in a pipeline) makes the group's earlier
        // writes durable too: commit them first.
        if let Some(mut g) = take_group(self.group_owner()) {
            self.flush_group(&mut g);
            drop(PutBack(Some(g)));
        }
        if let Some(e) = self.failure() {
            return Err(StorageError::Io(format!("an earlier commit failed: {e}")));
        }
        self.store.sync().map_err(io)
    }
}
