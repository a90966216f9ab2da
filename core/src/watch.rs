//! `WATCH`: optimistic locking for `MULTI`/`EXEC`.
//!
//! A client that watches a key registers in the engine's [`WatchRegistry`]; any
//! command that changes the key afterwards marks the client dirty, and its next
//! `EXEC` replies with a null array instead of running the transaction.
//!
//! Changes are observed at the storage level: while at least one key is watched,
//! every command runs on a [`WatchTxn`], a [`Txn`] that forwards to the backend and
//! notes which keys a mutation actually changed (a `SET NX` that does nothing, a `DEL`
//! of a missing key or an `SADD` of a present member change nothing). So every command
//! family, `MOVE`/`COPY` into another database, `SORT ... STORE`, `FLUSHDB`,
//! `FLUSHALL` and `SWAPDB` are covered without per-command code. The marks happen
//! inside the writer's atomic scope and `EXEC` checks the flag inside its own scope,
//! which also locks the watched keys, so a write either precedes the check (and
//! aborts the transaction) or follows the whole transaction.
//!
//! Expiry is not a command: a watched key that had a deadline when it was watched
//! and is gone at `EXEC` time expired meanwhile (any other removal would have marked
//! the client), which aborts `EXEC` as Redis' `isWatchedKeyExpired` does, whether the
//! key was removed lazily, by the active cycle, or not yet at all. A key already
//! expired when it was watched counts as missing.
//!
//! When nobody watches, the cost on the write path is one atomic load.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};

use bytes::Bytes;
use parking_lot::Mutex;

use crate::clients::{ClientHandle, FLAG_DIRTY_CAS};
use crate::storage::{
    ConsumerInfo, GroupInfo, NodeLimits, PendingEntry, StreamGroupOps, StreamId, StreamMeta,
    StreamNode, StreamOps,
};
use crate::storage::{
    DbIndex, DbStats, End, HashOps, IncrError, KeyMeta, LexRange, ListOps, ObjectInfo, ScanPage,
    ScoreRange, SetOps, StorageResult, TtlUpdate, Txn, UnixMillis, ZSetOps,
};
use crate::tracking::Changes;

/// One client's dirty flag, shared between its session and the registry.
#[derive(Debug, Default)]
pub struct Watcher {
    dirty: AtomicBool,
    /// The client, whose `CLIENT LIST` shows `flags=d` once dirty.
    client: Weak<ClientHandle>,
}

impl Watcher {
    fn mark_dirty(&self) {
        self.dirty.store(true, Ordering::Release);
        if let Some(client) = self.client.upgrade() {
            client.set_flag(FLAG_DIRTY_CAS, true);
        }
    }
}

impl Watcher {
    /// Whether a watched key changed since it was watched.
    pub fn is_dirty(&self) -> bool {
        self.dirty.load(Ordering::Acquire)
    }
}

#[derive(Debug)]
struct Entry {
    db: DbIndex,
    watcher: Arc<Watcher>,
}

/// Every watched key, by name, with the clients watching it.
#[derive(Debug, Default)]
pub struct WatchRegistry {
    /// Number of watch registrations: a command checks this before anything else.
    registrations: AtomicUsize,
    keys: Mutex<HashMap<Bytes, Vec<Entry>>>,
}

impl WatchRegistry {
    /// Whether any client watches any key (a cheap check for every command).
    #[inline]
    pub fn any(&self) -> bool {
        self.registrations.load(Ordering::Acquire) > 0
    }

    /// Number of (client, key) watch registrations.
    pub fn registrations(&self) -> usize {
        self.registrations.load(Ordering::Acquire)
    }

    fn add(&self, db: DbIndex, key: &Bytes, watcher: &Arc<Watcher>) {
        let mut keys = self.keys.lock();
        keys.entry(key.clone()).or_default().push(Entry {
            db,
            watcher: watcher.clone(),
        });
        self.registrations.fetch_add(1, Ordering::AcqRel);
    }

    fn remove_all(&self, watched: &[WatchedKey], watcher: &Arc<Watcher>) {
        let mut keys = self.keys.lock();
        for w in watched {
            if let Some(entries) = keys.get_mut(&w.key) {
                let before = entries.len();
                entries.retain(|e| !(e.db == w.db && Arc::ptr_eq(&e.watcher, watcher)));
                let removed = before - entries.len();
                if entries.is_empty() {
                    keys.remove(&w.key);
                }
                self.registrations.fetch_sub(removed, Ordering::AcqRel);
            }
        }
    }

    /// Marks every client watching one of `keys` as dirty.
    pub fn touch(&self, keys: &[(DbIndex, Bytes)]) {
        if keys.is_empty() || !self.any() {
            return;
        }
        let map = self.keys.lock();
        for (db, key) in keys {
            if let Some(entries) = map.get(key) {
                for e in entries.iter().filter(|e| e.db == *db) {
                    e.watcher.mark_dirty();
                }
            }
        }
    }

    /// The watched keys of database `db`.
    pub fn watched_in(&self, db: DbIndex) -> Vec<Bytes> {
        if !self.any() {
            return Vec::new();
        }
        self.keys
            .lock()
            .iter()
            .filter(|(_, entries)| entries.iter().any(|e| e.db == db))
            .map(|(key, _)| key.clone())
            .collect()
    }
}

/// A key one client watches.
#[derive(Debug, Clone)]
pub struct WatchedKey {
    /// Its database.
    pub db: DbIndex,
    /// Its name.
    pub key: Bytes,
    /// Its expiry when it was watched; `None` if it was persistent or missing.
    pub deadline: Option<UnixMillis>,
}

/// The keys one connection watches; unwatched on `EXEC`, `DISCARD`, `UNWATCH`,
/// `RESET` and when the connection goes away (drop).
#[derive(Debug, Default)]
pub struct WatchSet {
    registry: Option<Arc<WatchRegistry>>,
    watcher: Option<Arc<Watcher>>,
    keys: Vec<WatchedKey>,
}

impl WatchSet {
    /// Whether no key is watched.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The watched keys, in `WATCH` order.
    pub fn keys(&self) -> &[WatchedKey] {
        &self.keys
    }

    /// Whether a watched key changed since it was watched.
    pub fn is_dirty(&self) -> bool {
        self.watcher.as_ref().is_some_and(|w| w.is_dirty())
    }

    /// Whether `key` of `db` is already watched.
    pub fn contains(&self, db: DbIndex, key: &[u8]) -> bool {
        self.keys.iter().any(|w| w.db == db && w.key == key)
    }

    /// Watches `key` of `db` (once) through `registry`. Called inside a scope that
    /// locks the key, so no write to it can slip between reading its `deadline` and
    /// the registration.
    pub fn watch(
        &mut self,
        registry: &Arc<WatchRegistry>,
        client: &Arc<ClientHandle>,
        db: DbIndex,
        key: &Bytes,
        deadline: Option<UnixMillis>,
    ) {
        if self.contains(db, key) {
            return;
        }
        let watcher = self
            .watcher
            .get_or_insert_with(|| {
                Arc::new(Watcher {
                    dirty: AtomicBool::new(false),
                    client: Arc::downgrade(client),
                })
            })
            .clone();
        self.registry.get_or_insert_with(|| registry.clone());
        registry.add(db, key, &watcher);
        self.keys.push(WatchedKey {
            db,
            key: key.clone(),
            deadline,
        });
    }

    /// Forgets every watched key and the dirty flag.
    pub fn unwatch_all(&mut self) {
        if let (Some(registry), Some(watcher)) = (&self.registry, &self.watcher) {
            if !self.keys.is_empty() {
                registry.remove_all(&self.keys, watcher);
            }
            if let Some(client) = watcher.client.upgrade() {
                client.set_flag(FLAG_DIRTY_CAS, false);
            }
        }
        self.keys.clear();
        self.watcher = None;
    }

    /// Whether a key that had an expiry when it was watched is gone now: it expired
    /// after `WATCH` (a command removing it would have made the set dirty). Must run
    /// in a scope that locks the watched keys.
    pub fn expired_since_watch(&self, txn: &mut dyn Txn) -> bool {
        self.keys
            .iter()
            .any(|w| w.deadline.is_some() && !matches!(txn.meta(w.db, &w.key), Ok(Some(_))))
    }
}

impl Drop for WatchSet {
    fn drop(&mut self) {
        self.unwatch_all();
    }
}

/// A [`Txn`] that forwards to the backend's and records the keys each mutation
/// changed, so that clients watching them can be marked dirty. A `Txn` method with
/// a default body composed of other methods needs no entry here (the default runs
/// on this wrapper, so its writes are recorded); one a backend overrides must be
/// forwarded here, recording what it changed.
///
/// The same record serves client-side caching: [`WatchTxn::finish`] returns the
/// changed keys, the keys lazy expiry removed and whether a database was flushed
/// (see `tracking.rs`).
pub struct WatchTxn<'a> {
    inner: &'a mut dyn Txn,
    registry: &'a WatchRegistry,
    touched: Vec<(DbIndex, Bytes)>,
    expired: Vec<(DbIndex, Bytes)>,
    flushed: bool,
    /// Whether a mutation changed something (kept even when keys are not recorded).
    changed: bool,
    /// Whether changed keys are recorded (someone watches keys); when nobody does,
    /// the wrapper only tells whether the command changed anything (propagation).
    record: bool,
}

impl<'a> WatchTxn<'a> {
    /// Wraps `inner`; [`WatchTxn::finish`] marks the watchers of what changed.
    pub fn new(inner: &'a mut dyn Txn, registry: &'a WatchRegistry) -> WatchTxn<'a> {
        WatchTxn {
            inner,
            registry,
            touched: Vec::new(),
            expired: Vec::new(),
            flushed: false,
            changed: false,
            record: registry.any(),
        }
    }

    /// The keys changed so far.
    pub fn touched(&self) -> &[(DbIndex, Bytes)] {
        &self.touched
    }

    /// Also records the changed keys when `on` though nobody watches (tracking
    /// clients need them).
    pub fn recording_keys(mut self, on: bool) -> Self {
        self.record |= on;
        self
    }

    /// Whether a mutation changed something (whether or not keys were recorded).
    pub fn changed(&self) -> bool {
        self.changed
    }

    /// Marks the clients watching the changed keys dirty (inside the scope) and
    /// returns what changed, lazily expired keys included (drained from the
    /// backend's log if the command did not announce them).
    pub fn finish(mut self) -> Changes {
        self.registry.touch(&self.touched);
        let expired = &mut self.expired;
        self.inner
            .drain_expired(&mut |db, key| expired.push((db, Bytes::copy_from_slice(key))));
        Changes {
            touched: self.touched,
            expired: self.expired,
            flushed: self.flushed,
        }
    }

    fn note(&mut self, db: DbIndex, key: &[u8]) {
        self.changed = true;
        if self.record {
            self.touched.push((db, Bytes::copy_from_slice(key)));
        }
    }

    fn note_if(&mut self, changed: &StorageResult<bool>, db: DbIndex, key: &[u8]) {
        if matches!(changed, Ok(true)) {
            self.note(db, key);
        }
    }

    fn exists(&mut self, db: DbIndex, key: &[u8]) -> bool {
        matches!(self.inner.meta(db, key), Ok(Some(_)))
    }
}

impl Txn for WatchTxn<'_> {
    fn now_ms(&self) -> UnixMillis {
        self.inner.now_ms()
    }

    fn meta(&mut self, db: DbIndex, key: &[u8]) -> StorageResult<Option<KeyMeta>> {
        self.inner.meta(db, key)
    }

    fn delete(&mut self, db: DbIndex, key: &[u8]) -> StorageResult<bool> {
        let r = self.inner.delete(db, key);
        self.note_if(&r, db, key);
        r
    }

    fn set_expire(
        &mut self,
        db: DbIndex,
        key: &[u8],
        at: Option<UnixMillis>,
    ) -> StorageResult<bool> {
        let r = self.inner.set_expire(db, key, at);
        self.note_if(&r, db, key);
        r
    }

    fn get_string(&mut self, db: DbIndex, key: &[u8]) -> StorageResult<Option<Bytes>> {
        self.inner.get_string(db, key)
    }

    fn read_string(
        &mut self,
        db: DbIndex,
        key: &[u8],
        read: &mut dyn FnMut(&[u8]),
    ) -> StorageResult<bool> {
        self.inner.read_string(db, key, read)
    }

    fn string_len(&mut self, db: DbIndex, key: &[u8]) -> StorageResult<Option<usize>> {
        self.inner.string_len(db, key)
    }

    fn set_string(
        &mut self,
        db: DbIndex,
        key: &[u8],
        value: &[u8],
        ttl: TtlUpdate,
    ) -> StorageResult<()> {
        let r = self.inner.set_string(db, key, value, ttl);
        if r.is_ok() {
            self.note(db, key);
        }
        r
    }

    fn incr_by(
        &mut self,
        db: DbIndex,
        key: &[u8],
        delta: i64,
    ) -> StorageResult<Result<i64, IncrError>> {
        let r = self.inner.incr_by(db, key, delta);
        if matches!(r, Ok(Ok(_))) {
            self.note(db, key);
        }
        r
    }

    fn update_string(
        &mut self,
        db: DbIndex,
        key: &[u8],
        create: bool,
        edit: &mut dyn FnMut(&mut Vec<u8>),
    ) -> StorageResult<bool> {
        let r = self.inner.update_string(db, key, create, edit);
        self.note_if(&r, db, key);
        r
    }

    fn with_list(
        &mut self,
        db: DbIndex,
        key: &[u8],
        create: bool,
        body: &mut dyn FnMut(&mut dyn ListOps),
    ) -> StorageResult<bool> {
        let mut changed = false;
        let r = self.inner.with_list(db, key, create, &mut |ops| {
            let mut rec = RecordList {
                inner: ops,
                changed: false,
            };
            body(&mut rec);
            changed |= rec.changed;
        });
        if changed {
            self.note(db, key);
        }
        r
    }

    fn with_hash(
        &mut self,
        db: DbIndex,
        key: &[u8],
        create: bool,
        body: &mut dyn FnMut(&mut dyn HashOps),
    ) -> StorageResult<bool> {
        let mut changed = false;
        let r = self.inner.with_hash(db, key, create, &mut |ops| {
            let mut rec = RecordHash {
                inner: ops,
                changed: false,
            };
            body(&mut rec);
            changed |= rec.changed;
        });
        if changed {
            self.note(db, key);
        }
        r
    }

    fn with_set(
        &mut self,
        db: DbIndex,
        key: &[u8],
        create: bool,
        body: &mut dyn FnMut(&mut dyn SetOps),
    ) -> StorageResult<bool> {
        let mut changed = false;
        let r = self.inner.with_set(db, key, create, &mut |ops| {
            let mut rec = RecordSet {
                inner: ops,
                changed: false,
            };
            body(&mut rec);
            changed |= rec.changed;
        });
        if changed {
            self.note(db, key);
        }
        r
    }

    fn with_zset(
        &mut self,
        db: DbIndex,
        key: &[u8],
        create: bool,
        body: &mut dyn FnMut(&mut dyn ZSetOps),
    ) -> StorageResult<bool> {
        let mut changed = false;
        let r = self.inner.with_zset(db, key, create, &mut |ops| {
            let mut rec = RecordZSet {
                inner: ops,
                changed: false,
            };
            body(&mut rec);
            changed |= rec.changed;
        });
        if changed {
            self.note(db, key);
        }
        r
    }

    fn with_stream(
        &mut self,
        db: DbIndex,
        key: &[u8],
        create: bool,
        body: &mut dyn FnMut(&mut dyn StreamOps),
    ) -> StorageResult<bool> {
        // Creating the stream (XGROUP CREATE ... MKSTREAM) touches the key.
        let created = create && self.inner.meta(db, key)?.is_none();
        let mut changed = false;
        let r = self.inner.with_stream(db, key, create, &mut |ops| {
            let mut rec = RecordStream {
                inner: ops,
                changed: created,
            };
            body(&mut rec);
            changed |= rec.changed;
        });
        if changed {
            self.note(db, key);
        }
        r
    }

    fn rename(
        &mut self,
        src_db: DbIndex,
        src: &[u8],
        dst_db: DbIndex,
        dst: &[u8],
    ) -> StorageResult<bool> {
        let r = self.inner.rename(src_db, src, dst_db, dst);
        if matches!(r, Ok(true)) {
            self.note(src_db, src);
            self.note(dst_db, dst);
        }
        r
    }

    fn copy(
        &mut self,
        src_db: DbIndex,
        src: &[u8],
        dst_db: DbIndex,
        dst: &[u8],
    ) -> StorageResult<bool> {
        let r = self.inner.copy(src_db, src, dst_db, dst);
        self.note_if(&r, dst_db, dst);
        r
    }

    fn touch(&mut self, db: DbIndex, key: &[u8]) -> StorageResult<bool> {
        self.inner.touch(db, key)
    }

    fn object_info(&mut self, db: DbIndex, key: &[u8]) -> StorageResult<Option<ObjectInfo>> {
        self.inner.object_info(db, key)
    }

    fn scan(&mut self, db: DbIndex, cursor: u64, count: usize) -> StorageResult<ScanPage> {
        self.inner.scan(db, cursor, count)
    }

    fn keys(
        &mut self,
        db: DbIndex,
        keep: &mut dyn FnMut(&[u8]) -> bool,
    ) -> StorageResult<Vec<Bytes>> {
        self.inner.keys(db, keep)
    }

    fn random_key(&mut self, db: DbIndex) -> StorageResult<Option<Bytes>> {
        self.inner.random_key(db)
    }

    fn db_size(&mut self, db: DbIndex) -> StorageResult<DbStats> {
        self.inner.db_size(db)
    }

    /// Watched keys of `db` that exist are changed by the flush (Redis'
    /// `touchAllWatchedKeysInDb`); missing or already expired ones are not.
    fn flush_db(&mut self, db: DbIndex) -> StorageResult<()> {
        for key in self.registry.watched_in(db) {
            if self.exists(db, &key) {
                self.changed = true;
                self.touched.push((db, key));
            }
        }
        self.flushed = true;
        self.inner.flush_db(db)
    }

    /// A watched key of either database changes if it exists in either of them.
    fn swap_db(&mut self, a: DbIndex, b: DbIndex) -> StorageResult<()> {
        for db in [a, b] {
            for key in self.registry.watched_in(db) {
                if self.exists(a, &key) || self.exists(b, &key) {
                    self.changed = true;
                    self.touched.push((db, key));
                }
            }
        }
        self.inner.swap_db(a, b)
    }

    fn set_no_touch(&mut self, on: bool) {
        self.inner.set_no_touch(on)
    }

    fn set_keep_expired(&mut self, on: bool) {
        self.inner.set_keep_expired(on)
    }

    fn drain_expired(&mut self, visit: &mut dyn FnMut(DbIndex, &[u8])) {
        let expired = &mut self.expired;
        self.inner.drain_expired(&mut |db, key| {
            expired.push((db, Bytes::copy_from_slice(key)));
            visit(db, key)
        })
    }
}

/// A list view that notes whether a mutation changed the list.
struct RecordList<'a> {
    inner: &'a mut dyn ListOps,
    changed: bool,
}

impl ListOps for RecordList<'_> {
    fn len(&mut self) -> usize {
        self.inner.len()
    }
    fn is_empty(&mut self) -> bool {
        self.inner.is_empty()
    }
    fn push(&mut self, end: End, value: &[u8]) {
        self.changed = true;
        self.inner.push(end, value)
    }
    fn pop(&mut self, end: End) -> Option<Bytes> {
        let r = self.inner.pop(end);
        self.changed |= r.is_some();
        r
    }
    fn get(&mut self, index: usize) -> Option<Bytes> {
        self.inner.get(index)
    }
    fn set(&mut self, index: usize, value: &[u8]) -> bool {
        let r = self.inner.set(index, value);
        self.changed |= r;
        r
    }
    fn iter(&mut self, start: usize, rev: bool, visit: &mut dyn FnMut(usize, &[u8]) -> bool) {
        self.inner.iter(start, rev, visit)
    }
    fn insert(&mut self, index: usize, value: &[u8]) {
        self.changed = true;
        self.inner.insert(index, value)
    }
    fn remove(&mut self, indexes: &[usize]) {
        self.changed |= !indexes.is_empty();
        self.inner.remove(indexes)
    }
    fn trim(&mut self, start: usize, end: usize) {
        // LTRIM signals the key even when it keeps everything, as in Redis.
        self.changed = true;
        self.inner.trim(start, end)
    }
}

/// A hash view that notes whether a mutation changed the hash.
struct RecordHash<'a> {
    inner: &'a mut dyn HashOps,
    changed: bool,
}

impl HashOps for RecordHash<'_> {
    fn len(&mut self) -> usize {
        self.inner.len()
    }
    fn is_empty(&mut self) -> bool {
        self.inner.is_empty()
    }
    fn get(&mut self, field: &[u8]) -> Option<Bytes> {
        self.inner.get(field)
    }
    fn set(&mut self, field: &[u8], value: &[u8]) -> bool {
        // Overwriting a field with any value counts, as HSET signals it.
        self.changed = true;
        self.inner.set(field, value)
    }
    fn remove(&mut self, field: &[u8]) -> bool {
        let r = self.inner.remove(field);
        self.changed |= r;
        r
    }
    fn for_each(&mut self, visit: &mut dyn FnMut(&[u8], &[u8]) -> bool) {
        self.inner.for_each(visit)
    }
    fn random(&mut self, seed: u64) -> Option<(Bytes, Bytes)> {
        self.inner.random(seed)
    }
    fn scan(&mut self, cursor: u64, count: usize, visit: &mut dyn FnMut(&[u8], &[u8])) -> u64 {
        self.inner.scan(cursor, count, visit)
    }
    fn field_expire(&mut self, field: &[u8]) -> Option<Option<UnixMillis>> {
        self.inner.field_expire(field)
    }
    fn set_field_expire(&mut self, field: &[u8], at: Option<UnixMillis>) -> bool {
        let r = self.inner.set_field_expire(field, at);
        self.changed |= r;
        r
    }
}

/// A set view that notes whether a mutation changed the set.
struct RecordSet<'a> {
    inner: &'a mut dyn SetOps,
    changed: bool,
}

impl SetOps for RecordSet<'_> {
    fn len(&mut self) -> usize {
        self.inner.len()
    }
    fn is_empty(&mut self) -> bool {
        self.inner.is_empty()
    }
    fn contains(&mut self, member: &[u8]) -> bool {
        self.inner.contains(member)
    }
    fn insert(&mut self, member: &[u8]) -> bool {
        let r = self.inner.insert(member);
        self.changed |= r;
        r
    }
    fn remove(&mut self, member: &[u8]) -> bool {
        let r = self.inner.remove(member);
        self.changed |= r;
        r
    }
    fn for_each(&mut self, visit: &mut dyn FnMut(&[u8]) -> bool) {
        self.inner.for_each(visit)
    }
    fn random(&mut self, seed: u64) -> Option<Bytes> {
        self.inner.random(seed)
    }
    fn scan(&mut self, cursor: u64, count: usize, visit: &mut dyn FnMut(&[u8])) -> u64 {
        self.inner.scan(cursor, count, visit)
    }
}

/// A sorted set view that notes whether a mutation changed the set.
struct RecordZSet<'a> {
    inner: &'a mut dyn ZSetOps,
    changed: bool,
}

impl ZSetOps for RecordZSet<'_> {
    fn len(&mut self) -> usize {
        self.inner.len()
    }
    fn is_empty(&mut self) -> bool {
        self.inner.is_empty()
    }
    fn score(&mut self, member: &[u8]) -> Option<f64> {
        self.inner.score(member)
    }
    fn insert(&mut self, member: &[u8], score: f64) -> Option<f64> {
        let r = self.inner.insert(member, score);
        // Re-adding a member with its score is no change (ZADD's "updated" rule).
        self.changed |= r != Some(score);
        r
    }
    fn remove(&mut self, member: &[u8]) -> bool {
        let r = self.inner.remove(member);
        self.changed |= r;
        r
    }
    fn rank(&mut self, member: &[u8], rev: bool) -> Option<usize> {
        self.inner.rank(member, rev)
    }
    fn range_by_rank(
        &mut self,
        start: usize,
        rev: bool,
        visit: &mut dyn FnMut(&[u8], f64) -> bool,
    ) {
        self.inner.range_by_rank(start, rev, visit)
    }
    fn range_by_score(
        &mut self,
        range: &ScoreRange,
        rev: bool,
        visit: &mut dyn FnMut(&[u8], f64) -> bool,
    ) {
        self.inner.range_by_score(range, rev, visit)
    }
    fn range_by_lex(
        &mut self,
        range: &LexRange,
        rev: bool,
        visit: &mut dyn FnMut(&[u8], f64) -> bool,
    ) {
        self.inner.range_by_lex(range, rev, visit)
    }
    fn count_by_score(&mut self, range: &ScoreRange) -> usize {
        self.inner.count_by_score(range)
    }
    fn count_by_lex(&mut self, range: &LexRange) -> usize {
        self.inner.count_by_lex(range)
    }
    fn scan(&mut self, cursor: u64, count: usize, visit: &mut dyn FnMut(&[u8], f64)) -> u64 {
        self.inner.scan(cursor, count, visit)
    }
}

/// Forwards stream operations, noting whether any changed the entries. As in Redis
/// 7.0, consumer group state (XREADGROUP, XACK, XCLAIM, XGROUP) and XSETID's counters
/// do not touch watched keys; XADD, XDEL and trims do.
struct RecordStream<'a> {
    inner: &'a mut dyn StreamOps,
    changed: bool,
}

impl StreamOps for RecordStream<'_> {
    fn len(&mut self) -> u64 {
        self.inner.len()
    }
    fn meta(&mut self) -> StreamMeta {
        self.inner.meta()
    }
    fn set_meta(&mut self, meta: &StreamMeta) {
        self.inner.set_meta(meta)
    }
    fn append(&mut self, id: StreamId, fields: &[&[u8]], limits: NodeLimits) {
        self.changed = true;
        self.inner.append(id, fields, limits)
    }
    fn remove(&mut self, id: StreamId, drop_empty_node: bool) -> bool {
        let r = self.inner.remove(id, drop_empty_node);
        self.changed |= r;
        r
    }
    fn range(
        &mut self,
        start: StreamId,
        end: StreamId,
        rev: bool,
        visit: &mut dyn FnMut(StreamId, &[Bytes]) -> bool,
    ) {
        self.inner.range(start, end, rev, visit)
    }
    fn first_node(&mut self) -> Option<StreamNode> {
        self.inner.first_node()
    }
    fn remove_first_node(&mut self) {
        self.changed = true;
        self.inner.remove_first_node()
    }
    fn nodes(&mut self) -> u64 {
        self.inner.nodes()
    }
    fn for_each_node(&mut self, visit: &mut dyn FnMut(StreamId)) {
        self.inner.for_each_node(visit)
    }
    fn groups(&mut self) -> &mut dyn StreamGroupOps {
        self
    }
}

impl StreamGroupOps for RecordStream<'_> {
    fn group(&mut self, group: &[u8]) -> Option<GroupInfo> {
        self.inner.groups().group(group)
    }
    fn set_group(&mut self, group: &[u8], last_id: StreamId, entries_read: Option<u64>) {
        self.inner.groups().set_group(group, last_id, entries_read)
    }
    fn remove_group(&mut self, group: &[u8]) -> bool {
        self.inner.groups().remove_group(group)
    }
    fn for_each_group(&mut self, visit: &mut dyn FnMut(&[u8], &GroupInfo) -> bool) {
        self.inner.groups().for_each_group(visit)
    }
    fn pending(&mut self, group: &[u8], id: StreamId) -> Option<PendingEntry> {
        self.inner.groups().pending(group, id)
    }
    fn set_pending(&mut self, group: &[u8], id: StreamId, entry: &PendingEntry) {
        self.inner.groups().set_pending(group, id, entry)
    }
    fn remove_pending(&mut self, group: &[u8], id: StreamId) -> bool {
        self.inner.groups().remove_pending(group, id)
    }
    fn pending_range(
        &mut self,
        group: &[u8],
        consumer: Option<&[u8]>,
        start: StreamId,
        end: StreamId,
        rev: bool,
        visit: &mut dyn FnMut(StreamId, &PendingEntry) -> bool,
    ) {
        self.inner
            .groups()
            .pending_range(group, consumer, start, end, rev, visit)
    }
    fn consumer(&mut self, group: &[u8], consumer: &[u8]) -> Option<ConsumerInfo> {
        self.inner.groups().consumer(group, consumer)
    }
    fn set_consumer(
        &mut self,
        group: &[u8],
        consumer: &[u8],
        seen_time: UnixMillis,
        active_time: Option<UnixMillis>,
    ) {
        self.inner
            .groups()
            .set_consumer(group, consumer, seen_time, active_time)
    }
    fn remove_consumer(&mut self, group: &[u8], consumer: &[u8]) -> bool {
        self.inner.groups().remove_consumer(group, consumer)
    }
    fn for_each_consumer(
        &mut self,
        group: &[u8],
        visit: &mut dyn FnMut(&[u8], &ConsumerInfo) -> bool,
    ) {
        self.inner.groups().for_each_consumer(group, visit)
    }
}
