//! In-memory storage backend for ferrokv: a sharded keyspace built for speed and few
//! bytes per key.
//!
//! - [`SHARDS`] shards, each behind its own mutex; a key's shard is the top bits of its
//!   64-bit hash and is the same in every database, so cross-database `MOVE`/`COPY`
//!   lock one shard. A command locks its keys' shards in ascending order.
//! - Inside a shard, each database is an extendible-hashing table of small segments
//!   (`table.rs`); SCAN cursors are positions in the 64-bit hash space (pages are
//!   taken in hash order, key by key), so they survive any number of splits.
//! - Entries are 56 bytes with the key and a short value inline; only volatile keys
//!   have an expiry record (9 bytes, beside their segment's entries).
#![deny(unsafe_code)]
#![warn(missing_docs)]

mod db;
mod dense;
mod hash;
mod hashes;
mod index;
mod list;
mod packed;
mod set;
mod snapshot;
mod table;
mod value;
mod zset;

use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use parking_lot::{Mutex, MutexGuard};
use smallvec::SmallVec;

use ferrokv_core::storage::{
    DbIndex, DbStats, EncodingLimits, ExpireStats, HashOps, IncrError, KeyMeta, KeyType, ListOps,
    ObjectInfo, ScanPage, Scope, SetOps, StorageBackend, StorageError, StorageResult, StreamOps,
    TtlUpdate, Txn, UnixMillis, ZSetOps,
};
use ferrokv_core::util::number::{format_i64, parse_i64};

use crate::db::{decayed_freq, record_access, Db, Expired, Rng};
pub use crate::hash::SHARDS;
use crate::hash::{hash_key, local_of, shard_of, SHARD_BITS};
use crate::hashes::HashHandle;
use crate::list::ListHandle;
use crate::set::SetHandle;
use crate::table::{Entry, LFU_INIT};
use crate::value::{SmallBytes, StrValue, Value};
use crate::zset::ZSetHandle;

/// Volatile keys sampled per database and round of active expiry (Redis'
/// `ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP`).
const EXPIRE_SAMPLE: usize = 20;

/// One shard: its part of every database.
#[derive(Debug)]
struct Shard {
    dbs: Box<[Db]>,
    rng: Rng,
}

/// A shard's lock on a cache line of its own, so neighbouring shards' locks do not
/// contend through false sharing.
#[derive(Debug)]
#[repr(align(64))]
struct PaddedShard(Mutex<Shard>);

/// Collection encoding thresholds, changed by `CONFIG SET` while commands run: each
/// a relaxed atomic, read when a command opens a collection (a command racing with
/// `CONFIG SET` may see a mix of old and new values, which only moves when a
/// collection converts).
#[derive(Debug, Default)]
struct Limits {
    hash_entries: AtomicUsize,
    hash_value: AtomicUsize,
    intset_entries: AtomicUsize,
    zset_entries: AtomicUsize,
    zset_value: AtomicUsize,
    list_size: AtomicI64,
}

impl Limits {
    fn store(&self, l: EncodingLimits) {
        self.hash_entries
            .store(l.hash_max_listpack_entries, Ordering::Relaxed);
        self.hash_value
            .store(l.hash_max_listpack_value, Ordering::Relaxed);
        self.intset_entries
            .store(l.set_max_intset_entries, Ordering::Relaxed);
        self.zset_entries
            .store(l.zset_max_listpack_entries, Ordering::Relaxed);
        self.zset_value
            .store(l.zset_max_listpack_value, Ordering::Relaxed);
        self.list_size
            .store(l.list_max_listpack_size, Ordering::Relaxed);
    }

    fn load(&self) -> EncodingLimits {
        EncodingLimits {
            hash_max_listpack_entries: self.hash_entries.load(Ordering::Relaxed),
            hash_max_listpack_value: self.hash_value.load(Ordering::Relaxed),
            set_max_intset_entries: self.intset_entries.load(Ordering::Relaxed),
            zset_max_listpack_entries: self.zset_entries.load(Ordering::Relaxed),
            zset_max_listpack_value: self.zset_value.load(Ordering::Relaxed),
            list_max_listpack_size: self.list_size.load(Ordering::Relaxed),
        }
    }
}

/// The in-memory backend.
#[derive(Debug)]
pub struct MemoryBackend {
    shards: Box<[PaddedShard]>,
    databases: usize,
    /// Next shard active expiry visits.
    expire_pos: AtomicUsize,
    limits: Limits,
    /// Whether a snapshot runs (checked by every scope once its locks are held).
    snapping: std::sync::atomic::AtomicBool,
    /// The running snapshot's copy-on-write state.
    cow: Mutex<Option<std::sync::Arc<snapshot::Cow>>>,
    /// Serializes snapshots.
    snapshot_lock: Mutex<()>,
}

fn unix_now_ms() -> UnixMillis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as UnixMillis)
        .unwrap_or(0)
}

fn out_of_scope() -> StorageError {
    StorageError::Io("key outside the command's lock scope".to_string())
}

fn needs_all() -> StorageError {
    StorageError::Io("operation needs the whole-keyspace scope".to_string())
}

fn bad_db() -> StorageError {
    StorageError::Io("database index out of range".to_string())
}

impl MemoryBackend {
    /// A backend with `databases` empty databases.
    pub fn new(databases: usize) -> MemoryBackend {
        let seed = hash_key(b"ferrokv-shard-rng");
        let shards = (0..SHARDS)
            .map(|i| {
                PaddedShard(Mutex::new(Shard {
                    dbs: (0..databases).map(|_| Db::new()).collect(),
                    rng: Rng::new(seed ^ (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)),
                }))
            })
            .collect();
        let limits = Limits::default();
        limits.store(EncodingLimits::default());
        MemoryBackend {
            shards,
            databases,
            expire_pos: AtomicUsize::new(0),
            limits,
            snapping: std::sync::atomic::AtomicBool::new(false),
            cow: Mutex::new(None),
            snapshot_lock: Mutex::new(()),
        }
    }
}

impl Default for MemoryBackend {
    fn default() -> Self {
        MemoryBackend::new(16)
    }
}

impl StorageBackend for MemoryBackend {
    fn name(&self) -> &'static str {
        "memory"
    }

    fn databases(&self) -> usize {
        self.databases
    }

    fn atomic(&self, scope: Scope<'_>, body: &mut dyn FnMut(&mut dyn Txn)) -> StorageResult<()> {
        let now_ms = unix_now_ms();
        let mut txn = MemTxn {
            expired: Vec::new(),
            guards: SmallVec::new(),
            all: false,
            now_ms,
            now_s: (now_ms / 1000) as u32,
            hints: SmallVec::new(),
            limits: &self.limits,
            no_touch: false,
            keep_expired: false,
            cow: None,
        };
        match scope {
            Scope::All => {
                txn.all = true;
                txn.guards.extend(
                    self.shards
                        .iter()
                        .enumerate()
                        .map(|(i, s)| (i as u8, s.0.lock())),
                );
            }
            Scope::Keys(keys) => {
                let mut order: SmallVec<[u8; 8]> = SmallVec::with_capacity(keys.len());
                for key in keys {
                    let h = hash_key(key);
                    if txn.hints.len() < txn.hints.inline_size() {
                        txn.hints.push((key.as_ptr() as usize, key.len(), h));
                    }
                    order.push(shard_of(h) as u8);
                }
                order.sort_unstable();
                order.dedup();
                txn.guards.extend(
                    order
                        .into_iter()
                        .map(|i| (i, self.shards[usize::from(i)].0.lock())),
                );
            }
        }
        txn.cow = self.current_cow();
        body(&mut txn);
        Ok(())
    }

    fn set_encoding_limits(&self, limits: EncodingLimits) {
        self.limits.store(limits);
    }

    fn active_expire(&self, budget: usize) -> ExpireStats {
        self.active_expire_reporting(budget, &mut |_, _| {})
    }

    fn active_expire_reporting(
        &self,
        budget: usize,
        on_expired: &mut dyn FnMut(DbIndex, &[u8]),
    ) -> ExpireStats {
        let now_ms = unix_now_ms();
        let mut stats = ExpireStats::default();
        let start = self.expire_pos.load(Ordering::Relaxed);
        let mut spent = 0usize;
        let mut visited = 0;
        while visited < SHARDS && spent < budget {
            let mut shard = self.shards[(start + visited) % SHARDS].0.lock();
            visited += 1;
            loop {
                let (mut sampled, mut expired) = (0usize, 0usize);
                for (index, db) in shard.dbs.iter_mut().enumerate() {
                    let n = EXPIRE_SAMPLE.min(budget - spent - sampled);
                    let Db {
                        table,
                        expire_cursor,
                        ..
                    } = db;
                    let (s, e) = table
                        .expire_step(expire_cursor, n, now_ms, &mut |key| on_expired(index, key));
                    sampled += s;
                    expired += e;
                    if spent + sampled >= budget {
                        break;
                    }
                }
                spent += sampled;
                stats.sampled += sampled as u64;
                stats.expired += expired as u64;
                // Repeat on this shard while more than 10% of the sample had expired.
                if sampled == 0 || expired * 10 <= sampled || spent >= budget {
                    break;
                }
            }
            // Hash fields with an expiry: a bounded step per database that has any.
            let mut gone = Vec::new();
            for (index, db) in shard.dbs.iter_mut().enumerate() {
                if spent >= budget {
                    break;
                }
                let mut sink = Expired {
                    db: index,
                    keys: &mut gone,
                    keep: false,
                };
                spent += db.expire_fields(EXPIRE_SAMPLE.min(budget - spent), now_ms, &mut sink);
            }
            stats.expired += gone.len() as u64;
            for (index, key) in gone {
                on_expired(index, key.as_slice());
            }
        }
        self.expire_pos
            .store((start + visited) % SHARDS, Ordering::Relaxed);
        stats
    }

    fn dataset_bytes(&self) -> u64 {
        self.shards
            .iter()
            .map(|s| {
                let shard = s.0.lock();
                shard.dbs.iter().map(Db::memory_bytes).sum::<usize>() as u64
            })
            .sum()
    }

    fn flush_to_disk(&self) -> StorageResult<()> {
        Ok(())
    }

    fn snapshot(
        &self,
        sink: &mut dyn ferrokv_core::storage::SnapshotSink,
        started: &mut dyn FnMut(),
    ) -> StorageResult<()> {
        self.cow_snapshot(sink, started)
    }
}

/// The transaction of one atomic scope: the locked shards and the command's clock.
struct MemTxn<'a> {
    /// Keys lazy expiry removed, for `drain_expired` (allocated only when one is).
    expired: Vec<(DbIndex, SmallBytes)>,
    /// Locked shards, ascending by index (all of them, in order, for `Scope::All`).
    guards: SmallVec<[(u8, MutexGuard<'a, Shard>); 4]>,
    all: bool,
    now_ms: UnixMillis,
    now_s: u32,
    /// Hashes already computed for the scope's keys, by (address, length) of the key
    /// bytes, so a command touching its own scope key hashes it once.
    hints: SmallVec<[(usize, usize, u64); 4]>,
    /// The backend's collection encoding thresholds.
    limits: &'a Limits,
    /// `CLIENT NO-TOUCH`: reads leave access times and frequencies alone.
    no_touch: bool,
    /// Clients are paused: expired keys are reported missing but not removed.
    keep_expired: bool,
    /// A running snapshot to save values for before they change.
    cow: Option<std::sync::Arc<snapshot::Cow>>,
}

impl MemTxn<'_> {
    #[inline]
    fn hash(&self, key: &[u8]) -> u64 {
        let addr = key.as_ptr() as usize;
        for &(a, l, h) in &self.hints {
            if a == addr && l == key.len() {
                return h;
            }
        }
        hash_key(key)
    }

    /// Where the guard of the key's shard is in `guards`.
    #[inline]
    fn shard_pos(&self, hash: u64) -> StorageResult<usize> {
        let s = shard_of(hash);
        if self.all {
            return Ok(s);
        }
        let pos = if self.guards.len() <= 8 {
            self.guards.iter().position(|(i, _)| usize::from(*i) == s)
        } else {
            self.guards
                .binary_search_by_key(&s, |(i, _)| usize::from(*i))
                .ok()
        };
        pos.ok_or_else(out_of_scope)
    }

    /// The key's database in its shard, with the shard's generator and the log
    /// where lookups note the keys lazy expiry removes.
    #[inline]
    fn db(&mut self, db: DbIndex, hash: u64) -> StorageResult<(&mut Db, &mut Rng, Expired<'_>)> {
        let pos = self.shard_pos(hash)?;
        let MemTxn {
            guards,
            expired,
            keep_expired,
            ..
        } = self;
        let Shard { dbs, rng } = &mut *guards[pos].1;
        let sink = Expired {
            db,
            keys: expired,
            keep: *keep_expired,
        };
        Ok((dbs.get_mut(db).ok_or_else(bad_db)?, rng, sink))
    }

    fn check_all(&self) -> StorageResult<()> {
        if self.all {
            Ok(())
        } else {
            Err(needs_all())
        }
    }

    /// Runs `run` on the collection of type `kind` at `key` (see [`Txn::with_list`]):
    /// on the stored value, or on a new empty one stored afterwards only if `run`
    /// left it non-empty. A collection left empty is deleted; a hash left with
    /// volatile fields is registered for active field expiry.
    fn with_value(
        &mut self,
        db: DbIndex,
        key: &[u8],
        create: bool,
        kind: KeyType,
        run: &mut dyn FnMut(&mut Value, &EncodingLimits, UnixMillis),
    ) -> StorageResult<bool> {
        self.preserve(db, key);
        let (h, now, now_s) = (self.hash(key), self.now_ms, self.now_s);
        let no_touch = self.no_touch;
        let limits = self.limits.load();
        let (d, rng, mut x) = self.db(db, h)?;
        match d.lookup(h, key, now, &mut x) {
            Some((loc, _)) => {
                let e = d.table.get_mut(loc);
                if e.value.key_type() != kind {
                    return Err(StorageError::WrongType);
                }
                if !no_touch {
                    record_access(e, now_s, rng);
                }
                let before = e.value.heap_bytes();
                run(&mut e.value, &limits, now);
                let after = e.value.heap_bytes();
                let empty = e.value.is_empty_collection();
                let volatile = e.value.has_volatile_fields();
                d.table.heap_changed(before, after);
                if empty {
                    d.table.remove(loc, h);
                } else if volatile {
                    d.note_volatile_hash(key);
                }
            }
            None if !create => return Ok(false),
            None => {
                let mut value = Value::empty(kind);
                run(&mut value, &limits, now);
                if !value.is_empty_collection() {
                    let volatile = value.has_volatile_fields();
                    d.insert(h, Entry::new(key, value, now_s), None)?;
                    if volatile {
                        d.note_volatile_hash(key);
                    }
                }
            }
        }
        Ok(true)
    }

    /// Runs `f` on the database in every shard (whole-keyspace operations).
    fn each_db(&mut self, db: DbIndex, mut f: impl FnMut(&mut Db)) -> StorageResult<()> {
        self.check_all()?;
        if self.guards.first().is_some_and(|(_, g)| db >= g.dbs.len()) {
            return Err(bad_db());
        }
        for (_, g) in self.guards.iter_mut() {
            f(&mut g.dbs[db]);
        }
        Ok(())
    }
}

impl Txn for MemTxn<'_> {
    fn now_ms(&self) -> UnixMillis {
        self.now_ms
    }

    fn meta(&mut self, db: DbIndex, key: &[u8]) -> StorageResult<Option<KeyMeta>> {
        let (h, now) = (self.hash(key), self.now_ms);
        let (d, _, mut x) = self.db(db, h)?;
        Ok(d.lookup(h, key, now, &mut x)
            .map(|(loc, expire_at)| KeyMeta {
                key_type: d.table.get(loc).value.key_type(),
                expire_at,
            }))
    }

    fn delete(&mut self, db: DbIndex, key: &[u8]) -> StorageResult<bool> {
        self.preserve(db, key);
        let (h, now) = (self.hash(key), self.now_ms);
        let (d, _, mut x) = self.db(db, h)?;
        let Some(loc) = d.table.find(h, key) else {
            return Ok(false);
        };
        let expired = d.is_expired(loc, now);
        d.table.remove(loc, h);
        if expired {
            x.note(key);
        }
        Ok(!expired)
    }

    fn set_expire(
        &mut self,
        db: DbIndex,
        key: &[u8],
        at: Option<UnixMillis>,
    ) -> StorageResult<bool> {
        self.preserve(db, key);
        let (h, now) = (self.hash(key), self.now_ms);
        let (d, _, mut x) = self.db(db, h)?;
        let Some((loc, _)) = d.lookup(h, key, now, &mut x) else {
            return Ok(false);
        };
        d.table.set_expire(loc, at);
        Ok(true)
    }

    fn get_string(&mut self, db: DbIndex, key: &[u8]) -> StorageResult<Option<Bytes>> {
        let mut out = None;
        self.read_string(db, key, &mut |v| out = Some(Bytes::copy_from_slice(v)))?;
        Ok(out)
    }

    fn read_string(
        &mut self,
        db: DbIndex,
        key: &[u8],
        read: &mut dyn FnMut(&[u8]),
    ) -> StorageResult<bool> {
        let (h, now, now_s) = (self.hash(key), self.now_ms, self.now_s);
        let no_touch = self.no_touch;
        let (d, rng, mut x) = self.db(db, h)?;
        let Some((loc, _)) = d.lookup(h, key, now, &mut x) else {
            return Ok(false);
        };
        let e = d.table.get_mut(loc);
        if !no_touch {
            record_access(e, now_s, rng);
        }
        match &e.value {
            Value::Str(s) => {
                read(s.as_slice());
                Ok(true)
            }
            _ => Err(StorageError::WrongType),
        }
    }

    fn string_len(&mut self, db: DbIndex, key: &[u8]) -> StorageResult<Option<usize>> {
        let mut len = None;
        self.read_string(db, key, &mut |v| len = Some(v.len()))?;
        Ok(len)
    }

    fn set_string(
        &mut self,
        db: DbIndex,
        key: &[u8],
        value: &[u8],
        ttl: TtlUpdate,
    ) -> StorageResult<()> {
        self.preserve(db, key);
        let (h, now, now_s) = (self.hash(key), self.now_ms, self.now_s);
        let (d, rng, mut x) = self.db(db, h)?;
        let Some(loc) = d.table.find(h, key) else {
            let expire = match ttl {
                TtlUpdate::At(at) => Some(at),
                TtlUpdate::Clear | TtlUpdate::Keep => None,
            };
            d.insert(h, Entry::new(key, Value::string(value), now_s), expire)?;
            return Ok(());
        };
        let expired = d.is_expired(loc, now);
        let e = d.table.get_mut(loc);
        if expired {
            // Overwritten in place, but gone as far as anyone can tell.
            x.note(key);
            e.freq = LFU_INIT;
            e.lru = now_s;
        } else {
            // Redis keeps the access history of an overwritten key.
            record_access(e, now_s, rng);
        }
        let before = e.value.heap_bytes();
        e.value = Value::string(value);
        let after = e.value.heap_bytes();
        d.table.heap_changed(before, after);
        match ttl {
            TtlUpdate::At(at) => d.table.set_expire(loc, Some(at)),
            TtlUpdate::Keep if !expired => {}
            TtlUpdate::Keep | TtlUpdate::Clear => d.table.set_expire(loc, None),
        }
        Ok(())
    }

    fn incr_by(
        &mut self,
        db: DbIndex,
        key: &[u8],
        delta: i64,
    ) -> StorageResult<Result<i64, IncrError>> {
        self.preserve(db, key);
        let (h, now, now_s) = (self.hash(key), self.now_ms, self.now_s);
        let no_touch = self.no_touch;
        let (d, rng, mut x) = self.db(db, h)?;
        let mut buf = [0u8; 20];
        let Some((loc, _)) = d.lookup(h, key, now, &mut x) else {
            let digits = format_i64(delta, &mut buf);
            d.insert(h, Entry::new(key, Value::string(digits), now_s), None)?;
            return Ok(Ok(delta));
        };
        let e = d.table.get_mut(loc);
        let Value::Str(s) = &e.value else {
            return Err(StorageError::WrongType);
        };
        let Some(current) = parse_i64(s.as_slice()) else {
            return Ok(Err(IncrError::NotInteger));
        };
        let Some(value) = current.checked_add(delta) else {
            return Ok(Err(IncrError::Overflow));
        };
        if !no_touch {
            record_access(e, now_s, rng);
        }
        // Digits always fit inline: no allocation before or after.
        let before = e.value.heap_bytes();
        e.value = Value::string(format_i64(value, &mut buf));
        let after = e.value.heap_bytes();
        d.table.heap_changed(before, after);
        Ok(Ok(value))
    }

    fn update_string(
        &mut self,
        db: DbIndex,
        key: &[u8],
        create: bool,
        edit: &mut dyn FnMut(&mut Vec<u8>),
    ) -> StorageResult<bool> {
        self.preserve(db, key);
        let (h, now, now_s) = (self.hash(key), self.now_ms, self.now_s);
        let no_touch = self.no_touch;
        let (d, rng, mut x) = self.db(db, h)?;
        let loc = match d.lookup(h, key, now, &mut x) {
            Some((loc, _)) => loc,
            None if create => {
                let empty = Value::Str(StrValue::Raw(Box::default()));
                d.insert(h, Entry::new(key, empty, now_s), None)?
            }
            None => return Ok(false),
        };
        let e = d.table.get_mut(loc);
        if !no_touch {
            record_access(e, now_s, rng);
        }
        let before = e.value.heap_bytes();
        let Value::Str(s) = &mut e.value else {
            return Err(StorageError::WrongType);
        };
        edit(s.make_raw());
        let after = e.value.heap_bytes();
        d.table.heap_changed(before, after);
        Ok(true)
    }

    fn with_list(
        &mut self,
        db: DbIndex,
        key: &[u8],
        create: bool,
        body: &mut dyn FnMut(&mut dyn ListOps),
    ) -> StorageResult<bool> {
        self.with_value(db, key, create, KeyType::List, &mut |v, limits, _| {
            if let Value::List(list) = v {
                body(&mut ListHandle { list, limits });
            }
        })
    }

    fn with_hash(
        &mut self,
        db: DbIndex,
        key: &[u8],
        create: bool,
        body: &mut dyn FnMut(&mut dyn HashOps),
    ) -> StorageResult<bool> {
        self.with_value(db, key, create, KeyType::Hash, &mut |v, limits, now| {
            if let Value::Hash(hash) = v {
                body(&mut HashHandle { hash, limits, now });
            }
        })
    }

    fn with_set(
        &mut self,
        db: DbIndex,
        key: &[u8],
        create: bool,
        body: &mut dyn FnMut(&mut dyn SetOps),
    ) -> StorageResult<bool> {
        self.with_value(db, key, create, KeyType::Set, &mut |v, limits, _| {
            if let Value::Set(set) = v {
                body(&mut SetHandle { set, limits });
            }
        })
    }

    fn with_zset(
        &mut self,
        db: DbIndex,
        key: &[u8],
        create: bool,
        body: &mut dyn FnMut(&mut dyn ZSetOps),
    ) -> StorageResult<bool> {
        self.with_value(db, key, create, KeyType::ZSet, &mut |v, limits, _| {
            if let Value::ZSet(zset) = v {
                body(&mut ZSetHandle { zset, limits });
            }
        })
    }

    fn with_stream(
        &mut self,
        db: DbIndex,
        key: &[u8],
        create: bool,
        body: &mut dyn FnMut(&mut dyn StreamOps),
    ) -> StorageResult<bool> {
        self.with_value(db, key, create, KeyType::Stream, &mut |v, _, _| {
            if let Value::Stream(stream) = v {
                body(&mut **stream);
            }
        })
    }

    fn rename(
        &mut self,
        src_db: DbIndex,
        src: &[u8],
        dst_db: DbIndex,
        dst: &[u8],
    ) -> StorageResult<bool> {
        self.preserve(src_db, src);
        self.preserve(dst_db, dst);
        let (hs, hd, now) = (self.hash(src), self.hash(dst), self.now_ms);
        // Check the destination first so a failure cannot lose the source.
        self.db(dst_db, hd)?;
        let (sd, _, mut x) = self.db(src_db, hs)?;
        let Some((loc, expire)) = sd.lookup(hs, src, now, &mut x) else {
            return Ok(false);
        };
        if src_db == dst_db && src == dst {
            return Ok(true);
        }
        let (mut entry, _) = sd.table.remove(loc, hs);
        let (dd, _, _) = self.db(dst_db, hd)?;
        if let Some(old) = dd.table.find(hd, dst) {
            dd.table.remove(old, hd);
        }
        entry.key = SmallBytes::from_slice(dst);
        let volatile = entry.value.has_volatile_fields();
        dd.insert(hd, entry, expire)?;
        if volatile {
            dd.note_volatile_hash(dst);
        }
        Ok(true)
    }

    fn copy(
        &mut self,
        src_db: DbIndex,
        src: &[u8],
        dst_db: DbIndex,
        dst: &[u8],
    ) -> StorageResult<bool> {
        self.preserve(dst_db, dst);
        let (hs, hd, now, now_s) = (self.hash(src), self.hash(dst), self.now_ms, self.now_s);
        self.db(dst_db, hd)?;
        let (sd, _, mut x) = self.db(src_db, hs)?;
        let Some((loc, expire)) = sd.lookup(hs, src, now, &mut x) else {
            return Ok(false);
        };
        if src_db == dst_db && src == dst {
            return Ok(true);
        }
        let value = sd.table.get(loc).value.clone();
        let (dd, _, _) = self.db(dst_db, hd)?;
        if let Some(old) = dd.table.find(hd, dst) {
            dd.table.remove(old, hd);
        }
        let volatile = value.has_volatile_fields();
        dd.insert(hd, Entry::new(dst, value, now_s), expire)?;
        if volatile {
            dd.note_volatile_hash(dst);
        }
        Ok(true)
    }

    fn touch(&mut self, db: DbIndex, key: &[u8]) -> StorageResult<bool> {
        let (h, now, now_s) = (self.hash(key), self.now_ms, self.now_s);
        let no_touch = self.no_touch;
        let (d, rng, mut x) = self.db(db, h)?;
        let Some((loc, _)) = d.lookup(h, key, now, &mut x) else {
            return Ok(false);
        };
        if !no_touch {
            record_access(d.table.get_mut(loc), now_s, rng);
        }
        Ok(true)
    }

    fn object_info(&mut self, db: DbIndex, key: &[u8]) -> StorageResult<Option<ObjectInfo>> {
        let (h, now, now_s) = (self.hash(key), self.now_ms, self.now_s);
        let (d, _, mut x) = self.db(db, h)?;
        let Some((loc, _)) = d.lookup(h, key, now, &mut x) else {
            return Ok(None);
        };
        let e = d.table.get(loc);
        Ok(Some(ObjectInfo {
            encoding: e.value.encoding(),
            idle_ms: u64::from(now_s.saturating_sub(e.lru)) * 1000,
            freq: decayed_freq(e, now_s),
        }))
    }

    fn scan(&mut self, db: DbIndex, cursor: u64, count: usize) -> StorageResult<ScanPage> {
        // The cursor is a position in the 64-bit hash space (whose top bits are the
        // shard, so cursor order is hash order): a page returns the live keys whose hash
        // lies in [cursor, next_cursor), so a key present for a whole iteration is
        // returned whatever splits, inserts and deletes happen between pages.
        let now = self.now_ms;
        self.check_all()?;
        let count = count.max(1);
        // Expired keys are visited (and removed) but not returned; like Redis' bound of
        // 10 * COUNT buckets per call, this caps one call's work (possibly returning an
        // empty page). Empty segments cost next to nothing and are not counted.
        let max_visits = count.saturating_mul(10);
        let mut visits = 0usize;
        let mut page = ScanPage::default();
        let mut pos = cursor;
        loop {
            let s = shard_of(pos);
            let d = self.guards[s].1.dbs.get_mut(db).ok_or_else(bad_db)?;
            let seg = d.table.segment_at(local_of(pos));
            // At least 1: the loop goes on only while both are below their bound.
            let room = (count - page.keys.len()).min(max_visits - visits);
            let mut expired: SmallVec<[SmallBytes; 4]> = SmallVec::new();
            let stopped_after = seg.scan(pos, room, |e| {
                visits += 1;
                if seg.is_expired(e, now) {
                    expired.push(e.key.clone());
                } else {
                    page.keys.push(Bytes::copy_from_slice(e.key.as_slice()));
                }
                page.keys.len() >= count || visits >= max_visits
            });
            pos = match (stopped_after, seg.end()) {
                // Keys of larger hashes remain in the segment, so `h < u64::MAX`.
                (Some(h), _) => h.wrapping_add(1),
                // The segment is done: continue at its end (which also makes the page
                // that finishes the last segment return 0 rather than an empty page).
                (None, Some(end)) => ((s as u64) << (64 - SHARD_BITS)) | (end >> SHARD_BITS),
                (None, None) if s + 1 == SHARDS => 0,
                (None, None) => ((s + 1) as u64) << (64 - SHARD_BITS),
            };
            for k in expired.into_iter().filter(|_| !self.keep_expired) {
                let h = hash_key(k.as_slice());
                if let Some(loc) = d.table.find(h, k.as_slice()) {
                    d.table.remove(loc, h);
                    self.expired.push((db, k));
                }
            }
            if pos == 0 || page.keys.len() >= count || visits >= max_visits {
                break;
            }
        }
        page.next_cursor = pos;
        Ok(page)
    }

    fn keys(
        &mut self,
        db: DbIndex,
        keep: &mut dyn FnMut(&[u8]) -> bool,
    ) -> StorageResult<Vec<Bytes>> {
        let now = self.now_ms;
        let keep_expired = self.keep_expired;
        let mut out = Vec::new();
        let mut gone = Vec::new();
        self.each_db(db, |d| {
            let mut expired: Vec<SmallBytes> = Vec::new();
            for seg in d.table.segments() {
                for e in seg.entries() {
                    let k = e.key.as_slice();
                    if seg.is_expired(e, now) {
                        expired.push(e.key.clone());
                    } else if keep(k) {
                        out.push(Bytes::copy_from_slice(k));
                    }
                }
            }
            for k in expired.into_iter().filter(|_| !keep_expired) {
                let h = hash_key(k.as_slice());
                if let Some(loc) = d.table.find(h, k.as_slice()) {
                    d.table.remove(loc, h);
                    gone.push((db, k));
                }
            }
        })?;
        self.expired.append(&mut gone);
        Ok(out)
    }

    fn random_key(&mut self, db: DbIndex) -> StorageResult<Option<Bytes>> {
        let now = self.now_ms;
        self.check_all()?;
        if self.guards.first().is_some_and(|(_, g)| db >= g.dbs.len()) {
            return Err(bad_db());
        }
        let mut rng = self.guards[0].1.rng.clone();
        let mut found = None;
        // A few random picks (shard, segment, slot); expired picks are removed.
        for _ in 0..16 {
            let start = rng.below(SHARDS);
            let Some(s) = (0..SHARDS)
                .map(|i| (start + i) % SHARDS)
                .find(|&s| !self.guards[s].1.dbs[db].table.is_empty())
            else {
                break;
            };
            let d = &mut self.guards[s].1.dbs[db];
            let segs = d.table.segment_count();
            let first = rng.below(segs);
            let Some(si) = (0..segs)
                .map(|i| (first + i) % segs)
                .find(|&i| !d.table.segments()[i].entries().is_empty())
            else {
                break;
            };
            let n = d.table.segments()[si].entries().len();
            let Some(loc) = d.table.loc_of(si, rng.below(n)) else {
                break;
            };
            let key = d.table.get(loc).key.clone();
            let h = hash_key(key.as_slice());
            let mut x = Expired {
                db,
                keys: &mut self.expired,
                keep: self.keep_expired,
            };
            if d.lookup(h, key.as_slice(), now, &mut x).is_some() {
                found = Some(Bytes::copy_from_slice(key.as_slice()));
                break;
            }
        }
        self.guards[0].1.rng = rng;
        if found.is_none() && self.keep_expired {
            // Mostly expired keys, which must stay: the first live one, if any.
            let live = self.guards.iter().find_map(|(_, g)| {
                g.dbs[db].table.segments().iter().find_map(|seg| {
                    seg.entries()
                        .iter()
                        .find(|e| !seg.is_expired(e, now))
                        .map(|e| Bytes::copy_from_slice(e.key.as_slice()))
                })
            });
            return Ok(live);
        }
        if found.is_none() {
            // Mostly expired keys: fall back to a walk that removes them as it goes.
            for (_, g) in self.guards.iter_mut() {
                let d = &mut g.dbs[db];
                let mut x = Expired {
                    db,
                    keys: &mut self.expired,
                    keep: false,
                };
                while let Some(key) = d
                    .table
                    .segments()
                    .iter()
                    .find_map(|s| s.entries().first())
                    .map(|e| e.key.clone())
                {
                    let h = hash_key(key.as_slice());
                    if d.lookup(h, key.as_slice(), now, &mut x).is_some() {
                        return Ok(Some(Bytes::copy_from_slice(key.as_slice())));
                    }
                }
            }
        }
        Ok(found)
    }

    fn db_size(&mut self, db: DbIndex) -> StorageResult<DbStats> {
        let mut stats = DbStats::default();
        self.each_db(db, |d| {
            stats.keys += d.table.len() as u64;
            stats.expires += d.table.volatile_count() as u64;
        })?;
        Ok(stats)
    }

    fn flush_db(&mut self, db: DbIndex) -> StorageResult<()> {
        self.preserve_db(db);
        self.each_db(db, |d| *d = Db::new())
    }

    fn swap_db(&mut self, a: DbIndex, b: DbIndex) -> StorageResult<()> {
        self.preserve_db(a);
        self.preserve_db(b);
        self.check_all()?;
        for (_, g) in self.guards.iter_mut() {
            if a >= g.dbs.len() || b >= g.dbs.len() {
                return Err(bad_db());
            }
            g.dbs.swap(a, b);
        }
        Ok(())
    }

    fn set_no_touch(&mut self, on: bool) {
        self.no_touch = on;
    }

    fn set_keep_expired(&mut self, on: bool) {
        self.keep_expired = on;
    }

    fn drain_expired(&mut self, visit: &mut dyn FnMut(DbIndex, &[u8])) {
        for (db, key) in self.expired.drain(..) {
            visit(db, key.as_slice());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrokv_core::storage::{with_hash, End};

    fn keyed<R>(b: &MemoryBackend, key: &[u8], f: impl FnOnce(&mut dyn Txn) -> R) -> R {
        let keys = [Bytes::copy_from_slice(key)];
        let mut f = Some(f);
        let mut out = None;
        b.atomic(Scope::Keys(&keys), &mut |t| out = f.take().map(|f| f(t)))
            .expect("atomic");
        out.expect("body ran")
    }

    fn registry_len(b: &MemoryBackend) -> usize {
        b.shards
            .iter()
            .map(|s| {
                s.0.lock()
                    .dbs
                    .iter()
                    .map(Db::volatile_hash_count)
                    .sum::<usize>()
            })
            .sum()
    }

    #[test]
    fn field_expiry_registry_follows_keys() {
        let b = MemoryBackend::new(2);
        keyed(&b, b"h", |t| {
            let now = t.now_ms();
            with_hash(t, 0, b"h", true, |h| {
                h.set(b"a", b"1");
                h.set(b"b", b"2");
                h.set_field_expire(b"a", Some(now + 3_600_000));
            })
            .unwrap();
        });
        assert_eq!(registry_len(&b), 1);
        // Renaming moves the registration with the value (the old name is stale).
        keyed(&b, b"h", |t| t.rename(0, b"h", 1, b"h")).unwrap();
        assert_eq!(registry_len(&b), 2);
        // Active expiry drops the stale name and keeps the live one.
        for _ in 0..SHARDS {
            b.active_expire(100);
        }
        assert_eq!(registry_len(&b), 1);
        // A hash whose volatile fields are gone leaves the registry.
        keyed(&b, b"h", |t| {
            with_hash(t, 1, b"h", false, |h| h.set_field_expire(b"a", None)).unwrap();
        });
        for _ in 0..SHARDS {
            b.active_expire(100);
        }
        assert_eq!(registry_len(&b), 0);
    }

    #[test]
    fn active_expiry_deletes_a_hash_left_empty() {
        let b = MemoryBackend::new(1);
        keyed(&b, b"h", |t| {
            let now = t.now_ms();
            with_hash(t, 0, b"h", true, |h| {
                for i in 0..600u32 {
                    let f = format!("f{i}");
                    h.set(f.as_bytes(), b"v");
                    h.set_field_expire(f.as_bytes(), Some(now - 1));
                }
            })
            .unwrap();
        });
        let before = b.dataset_bytes();
        for _ in 0..200 {
            b.active_expire(1000);
        }
        assert!(b.dataset_bytes() < before);
        let exists = keyed(&b, b"h", |t| t.meta(0, b"h").unwrap());
        assert_eq!(exists, None, "a hash whose fields all expired is deleted");
        assert_eq!(registry_len(&b), 0);
    }

    #[test]
    fn collection_heap_accounting_returns_to_zero() {
        let b = MemoryBackend::new(1);
        let empty = b.dataset_bytes();
        keyed(&b, b"l", |t| {
            ferrokv_core::storage::with_list(t, 0, b"l", true, |l| {
                for i in 0..2000u32 {
                    l.push(End::Tail, format!("element number {i:010}").as_bytes());
                }
            })
            .unwrap();
        });
        assert!(b.dataset_bytes() > empty + 2000 * 24);
        keyed(&b, b"l", |t| {
            ferrokv_core::storage::with_list(t, 0, b"l", false, |l| {
                while l.pop(End::Head).is_some() {}
            })
            .unwrap();
        });
        assert_eq!(b.dataset_bytes(), empty, "an emptied list is deleted");
    }
}
