//! [`KvTxn`]: one atomic scope of [`KvBackend`]. Reads go through an overlay of the
//! scope's own pending writes; the writes are committed as one batch at the end.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;

use bytes::Bytes;
use ferrokv_core::storage::{
    DbIndex, DbStats, HashOps, KeyMeta, KeyType, ListOps, ObjectInfo, ScanPage, SetOps,
    StorageError, StorageResult, StreamOps, TtlUpdate, Txn, UnixMillis, ZSetOps,
};
use rand::Rng;

use crate::backend::{io, KvBackend, Locks};
use crate::collections::{Coll, HashView, ListView, SetView, ZSetView};
use crate::encoding::{
    db_range, decode_field_value, decode_hashed_suffix, decode_meta_key, encode_dbmap, expiry_key,
    field_expiry_key, is_redis_int, key_hash, meta_key, meta_seek, prefix_end, raw_expire_at,
    subkey_prefix, MetaRecord, PhysDb, FLAG_BIG, FLAG_RAW, SYS_DBMAP,
};
use crate::store::{Keyspace, OrderedStore, WriteBatch};
use crate::streams::StreamView;

/// Most expired records one read-only iteration (`SCAN`, `KEYS`, `RANDOMKEY`) deletes
/// lazily, to bound the batch it leaves behind.
const LAZY_DELETE_CAP: usize = 1000;

/// Pending change of one physical database's counters.
#[derive(Debug, Clone, Copy, Default)]
struct Delta {
    keys: i64,
    expires: i64,
    /// The database was flushed in this scope: counters restart from 0.
    reset: bool,
}

/// Writes made by one scope, or by the scopes of a group commit, not yet committed.
pub(crate) struct Pending {
    dbmap: Arc<Vec<PhysDb>>,
    dbmap_changed: bool,
    /// Pending writes per keyspace; `None` is a delete.
    overlay: [BTreeMap<Vec<u8>, Option<Bytes>>; 4],
    /// Pending range deletes, applied before the overlay at commit.
    ranges: Vec<(Keyspace, Vec<u8>, Vec<u8>)>,
    /// Indexed by physical database id, grown on first write.
    deltas: Vec<Delta>,
    /// A collection operation failed to read the store: none of these writes may
    /// be applied (the commit reports this error instead).
    poisoned: Option<StorageError>,
    /// Approximate bytes of stored sub-keys of collections this batch deletes or
    /// replaces, left in the store for compaction or the sweeper.
    dead_bytes: u64,
}

impl Pending {
    pub(crate) fn new(dbmap: Arc<Vec<PhysDb>>) -> Pending {
        Pending {
            dbmap,
            dbmap_changed: false,
            overlay: Default::default(),
            ranges: Vec::new(),
            deltas: Vec::new(),
            poisoned: None,
            dead_bytes: 0,
        }
    }

    /// Whether a failed read made this batch unusable.
    pub(crate) fn is_poisoned(&self) -> bool {
        self.poisoned.is_some()
    }

    /// Number of pending record writes.
    pub(crate) fn len(&self) -> usize {
        self.overlay.iter().map(|m| m.len()).sum::<usize>() + self.ranges.len()
    }

    /// Takes the current database table, unless this batch changed it. (Within a
    /// group commit the table cannot change while the group holds stripes: `SWAPDB`
    /// needs all of them.)
    pub(crate) fn refresh_dbmap(&mut self, dbmap: Arc<Vec<PhysDb>>) {
        if !self.dbmap_changed {
            self.dbmap = dbmap;
        }
    }

    /// Writes everything as one batch, then publishes counters, the database table
    /// and the row cache, and releases the stripes.
    pub(crate) fn commit<S: OrderedStore>(
        self,
        backend: &KvBackend<S>,
        mut locks: Locks,
    ) -> StorageResult<()> {
        let Pending {
            dbmap,
            dbmap_changed,
            overlay,
            ranges,
            deltas,
            poisoned,
            dead_bytes,
        } = self;
        if let Some(e) = poisoned {
            return Err(e);
        }
        let mut batch = WriteBatch::new();
        // Only range deletes of metadata (FLUSHDB) touch what the row cache holds.
        let flushed = ranges.iter().any(|(ks, _, _)| *ks == Keyspace::Meta);
        for (ks, start, end) in ranges {
            batch.delete_range(ks, start, end);
        }
        let [system, meta, subkey, expiry] = overlay;
        for (ks, map) in [
            (Keyspace::System, system),
            (Keyspace::SubKey, subkey),
            (Keyspace::Expiry, expiry),
        ] {
            for (k, v) in map {
                match v {
                    Some(v) => batch.put(ks, k, Vec::from(v)),
                    None => batch.delete(ks, k),
                }
            }
        }
        // Copied: the records go to the row cache after the write.
        for (k, v) in &meta {
            match v {
                Some(v) => batch.put(Keyspace::Meta, k.clone(), v.to_vec()),
                None => batch.delete(Keyspace::Meta, k.clone()),
            }
        }
        if dbmap_changed {
            batch.put(Keyspace::System, SYS_DBMAP.to_vec(), encode_dbmap(&dbmap));
        }
        if batch.is_empty() {
            return Ok(());
        }
        if let Err(e) = backend.store.write(batch) {
            backend.record_failure(&e);
            return Err(StorageError::Io(e.0));
        }
        if flushed {
            if let Err(e) = backend.store.after_range_delete(Keyspace::Meta) {
                backend.record_failure(&e);
                return Err(StorageError::Io(e.0));
            }
        }
        for (db, d) in deltas.iter().enumerate() {
            let c = &backend.counters[db];
            if d.reset {
                c.keys.store(0, std::sync::atomic::Ordering::Relaxed);
                c.expires.store(0, std::sync::atomic::Ordering::Relaxed);
            }
            c.add(d.keys, d.expires);
        }
        if dbmap_changed {
            *backend.dbmap.write() = dbmap;
        }
        if flushed {
            backend.reset_garbage();
        }
        backend.add_garbage(dead_bytes);

        // The row cache follows the store, under the same locks.
        let mut unheld = Vec::new();
        if flushed {
            // Range deletes (FLUSHDB) hold every stripe; forget everything.
            for i in 0..crate::backend::STRIPES {
                match locks.stripe(i) {
                    Some(s) => s.clear(),
                    None => unheld.push(i),
                }
            }
        }
        let cap = backend.row_cap;
        let mut unheld_keys = Vec::new();
        for (k, v) in meta {
            let stripe = decode_meta_key(&k).map(|(_, h, _)| KvBackend::<S>::stripe_of(h));
            match stripe.and_then(|i| locks.stripe(i)) {
                Some(s) => s.put(k, v, cap),
                None => unheld_keys.push((stripe, k)),
            }
        }
        drop(locks);
        // A command wrote keys its scope did not name: forget them now.
        for i in unheld {
            backend.lock_one(i).clear();
        }
        for (stripe, k) in unheld_keys {
            if let Some(i) = stripe {
                backend.lock_one(i).remove(&k);
            }
        }
        Ok(())
    }
}

/// The [`Txn`] handed to a command by [`KvBackend`]'s `atomic`.
pub struct KvTxn<'a, S: OrderedStore> {
    backend: &'a KvBackend<S>,
    /// The scope's stripes, with their row caches.
    locks: Locks,
    now: UnixMillis,
    p: Pending,
    /// Keys lazy expiry removed (logical database, key), for `drain_expired`.
    expired: Vec<(DbIndex, Bytes)>,
    /// Clients are paused: expired keys are reported missing but not removed.
    keep_expired: bool,
}

impl<'a, S: OrderedStore> KvTxn<'a, S> {
    pub(crate) fn new(
        backend: &'a KvBackend<S>,
        now: UnixMillis,
        locks: Locks,
        pending: Pending,
    ) -> Self {
        KvTxn {
            backend,
            locks,
            now,
            p: pending,
            expired: Vec::new(),
            keep_expired: false,
        }
    }

    /// Commits the scope's writes and releases its stripes.
    pub(crate) fn commit(self) -> StorageResult<()> {
        self.p.commit(self.backend, self.locks)
    }

    /// The stripes and the writes, left pending for a group commit.
    pub(crate) fn into_parts(self) -> (Locks, Pending) {
        (self.locks, self.p)
    }

    fn phys(&self, db: DbIndex) -> StorageResult<PhysDb> {
        if db >= self.backend.databases {
            return Err(StorageError::Io(format!("database {db} out of range")));
        }
        Ok(self.p.dbmap[db])
    }

    fn writable(&self) -> StorageResult<()> {
        match self.backend.failure() {
            None => Ok(()),
            Some(e) => Err(StorageError::Io(format!(
                "writes disabled after a failed commit: {e}"
            ))),
        }
    }

    fn delta(&mut self, db: PhysDb) -> &mut Delta {
        let i = usize::from(db);
        if self.p.deltas.len() <= i {
            self.p.deltas.resize(i + 1, Delta::default());
        }
        &mut self.p.deltas[i]
    }

    fn in_deleted_range(&self, ks: Keyspace, key: &[u8]) -> bool {
        self.p
            .ranges
            .iter()
            .any(|(k, s, e)| *k == ks && key >= s.as_slice() && key < e.as_slice())
    }

    /// The command's clock.
    pub(crate) fn now(&self) -> UnixMillis {
        self.now
    }

    /// The backend the scope runs on.
    pub(crate) fn backend(&self) -> &'a KvBackend<S> {
        self.backend
    }

    /// Makes the scope's writes unusable: its commit fails with `e`.
    pub(crate) fn poison(&mut self, e: StorageError) {
        self.p.poisoned.get_or_insert(e);
    }

    /// One record as this scope sees it.
    pub(crate) fn get_raw(&mut self, ks: Keyspace, key: &[u8]) -> StorageResult<Option<Bytes>> {
        if let Some(v) = self.p.overlay[ks.index()].get(key) {
            return Ok(v.clone());
        }
        if self.in_deleted_range(ks, key) {
            return Ok(None);
        }
        let store = &self.backend.store;
        if ks == Keyspace::Meta {
            let stripe = decode_meta_key(key)
                .and_then(|(_, hash, _)| self.locks.stripe(KvBackend::<S>::stripe_of(hash)));
            if let Some(stripe) = stripe {
                if let Some(cached) = stripe.get(key) {
                    return Ok(cached);
                }
                let value = store.get(ks, key).map_err(io)?.map(Bytes::from);
                stripe.put(key.to_vec(), value.clone(), self.backend.row_cap);
                return Ok(value);
            }
        }
        Ok(store.get(ks, key).map_err(io)?.map(Bytes::from))
    }

    /// Queues a write (`None` deletes).
    pub(crate) fn put_raw(&mut self, ks: Keyspace, key: Vec<u8>, value: Option<Bytes>) {
        self.p.overlay[ks.index()].insert(key, value);
    }

    /// Queues the removal of every record with `start <= key < end` (applied before
    /// the scope's other writes, so pending writes inside the range are dropped
    /// now and later ones survive it).
    pub(crate) fn delete_range(&mut self, ks: Keyspace, start: Vec<u8>, end: Vec<u8>) {
        if start >= end {
            return;
        }
        self.drop_pending(ks, &start, &end);
        self.p.ranges.push((ks, start, end));
    }

    /// Forgets pending writes with `start <= key < end`; returns the bytes the
    /// forgotten puts would have written.
    fn drop_pending(&mut self, ks: Keyspace, start: &[u8], end: &[u8]) -> u64 {
        let map = &mut self.p.overlay[ks.index()];
        if map
            .range::<[u8], _>((Bound::Included(start), Bound::Excluded(end)))
            .next()
            .is_none()
        {
            return 0;
        }
        let mut tail = map.split_off(start);
        let mut rest = tail.split_off(end);
        map.append(&mut rest);
        tail.iter()
            .map(|(k, v)| v.as_ref().map_or(0, |v| (k.len() + v.len()) as u64))
            .sum()
    }

    /// Forgets every pending write and range delete of sub-keys within a dead
    /// incarnation's prefix: its records are stale anyway (the compaction filter or
    /// the sweeper drops those already stored), so they need not reach the store.
    /// Returns the bytes of the forgotten puts.
    pub(crate) fn forget_incarnation(&mut self, db: PhysDb, key: &[u8], version: u64) -> u64 {
        let start = subkey_prefix(db, key, version);
        let Some(end) = prefix_end(&start) else {
            return 0;
        };
        let forgotten = self.drop_pending(Keyspace::SubKey, &start, &end);
        self.p.ranges.retain(|(ks, s, e)| {
            !(*ks == Keyspace::SubKey
                && s.as_slice() >= start.as_slice()
                && e.as_slice() <= end.as_slice())
        });
        forgotten
    }

    /// Visits `start <= key < end` of the store as this scope sees it: the store
    /// merged with pending writes and range deletes.
    pub(crate) fn visit(
        &self,
        ks: Keyspace,
        start: &[u8],
        end: &[u8],
        f: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> StorageResult<()> {
        self.visit_dir(ks, start, end, false, f)
    }

    /// As [`KvTxn::visit`], in descending key order when `rev`.
    pub(crate) fn visit_dir(
        &self,
        ks: Keyspace,
        start: &[u8],
        end: &[u8],
        rev: bool,
        f: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> StorageResult<()> {
        if start >= end {
            return Ok(());
        }
        let range = self.p.overlay[ks.index()]
            .range::<[u8], _>((Bound::Included(start), Bound::Excluded(end)));
        type Pend<'m> = Box<dyn Iterator<Item = (&'m Vec<u8>, &'m Option<Bytes>)> + 'm>;
        let mut pending = if rev {
            Box::new(range.rev()) as Pend<'_>
        } else {
            Box::new(range) as Pend<'_>
        }
        .peekable();
        // Whether a pending key comes before store key `k` in visiting order.
        let before = |pk: &Vec<u8>, k: &[u8]| {
            if rev {
                pk.as_slice() > k
            } else {
                pk.as_slice() < k
            }
        };
        let mut stopped = false;
        let hidden = self
            .p
            .ranges
            .iter()
            .any(|(k, s, e)| *k == ks && s.as_slice() <= start && e.as_slice() >= end);
        if !hidden {
            let store = &self.backend.store;
            let mut visit = |k: &[u8], v: &[u8]| {
                // Pending records sorting before this one come first.
                while let Some((pk, pv)) = pending.next_if(|(pk, _)| before(pk, k)) {
                    if let Some(pv) = pv {
                        if !f(pk, pv) {
                            stopped = true;
                            return false;
                        }
                    }
                }
                let keep_going = match pending.next_if(|(pk, _)| pk.as_slice() == k) {
                    Some((_, Some(pv))) => f(k, pv),
                    Some((_, None)) => true,
                    None if self.in_deleted_range(ks, k) => true,
                    None => f(k, v),
                };
                stopped = !keep_going;
                keep_going
            };
            if rev {
                store.scan_rev(ks, start, Some(end), &mut visit)
            } else {
                store.scan(ks, start, Some(end), &mut visit)
            }
            .map_err(io)?;
        }
        if !stopped {
            for (pk, pv) in pending {
                if let Some(pv) = pv {
                    if !f(pk, pv) {
                        break;
                    }
                }
            }
        }
        Ok(())
    }

    /// The key's record even if expired.
    fn load(&mut self, db: PhysDb, key: &[u8]) -> StorageResult<Option<MetaRecord>> {
        match self.get_raw(Keyspace::Meta, &meta_key(db, key_hash(key), key))? {
            Some(raw) => Ok(Some(MetaRecord::decode(raw).map_err(io)?)),
            None => Ok(None),
        }
    }

    /// The key's record if live; an expired one is deleted (lazy expiry) and noted
    /// for `drain_expired`.
    fn live(&mut self, db: PhysDb, key: &[u8]) -> StorageResult<Option<MetaRecord>> {
        match self.load(db, key)? {
            Some(rec) if rec.is_expired(self.now) => {
                if !self.keep_expired {
                    self.write_record(db, key, Some(&rec), None);
                    self.note_expired(db, key);
                }
                Ok(None)
            }
            other => Ok(other),
        }
    }

    /// Notes a key of physical database `db` removed by lazy expiry.
    #[cold]
    fn note_expired(&mut self, db: PhysDb, key: &[u8]) {
        if let Some(logical) = self.p.dbmap.iter().position(|&p| p == db) {
            self.expired.push((logical, Bytes::copy_from_slice(key)));
        }
    }

    /// Replaces the key's record `old` (as read in this scope) by `new`, keeping the
    /// expiry index and counters in step.
    fn write_record(
        &mut self,
        db: PhysDb,
        key: &[u8],
        old: Option<&MetaRecord>,
        new: Option<&MetaRecord>,
    ) {
        let old_at = old.map_or(0, |r| r.expire_at);
        let new_at = new.map_or(0, |r| r.expire_at);
        if old_at != new_at {
            if old_at != 0 {
                self.put_raw(Keyspace::Expiry, expiry_key(db, old_at, key), None);
            }
            if new_at != 0 {
                let entry = expiry_key(db, new_at, key);
                self.put_raw(Keyspace::Expiry, entry, Some(Bytes::new()));
            }
        }
        if let Some(old) = old.filter(|r| r.key_type != KeyType::String) {
            if !matches!(new, Some(n) if n.key_type != KeyType::String && n.version == old.version)
            {
                let forgotten = self.forget_incarnation(db, key, old.version);
                self.p.dead_bytes += old.bytes.saturating_sub(forgotten);
            }
        }
        let mk = meta_key(db, key_hash(key), key);
        self.put_raw(Keyspace::Meta, mk, new.map(|r| Bytes::from(r.encode())));
        let d = self.delta(db);
        d.keys += i64::from(new.is_some()) - i64::from(old.is_some());
        d.expires += i64::from(new_at != 0) - i64::from(old_at != 0);
    }

    /// Deletes records an iteration found expired.
    fn delete_expired(&mut self, db: PhysDb, expired: Vec<(Vec<u8>, Bytes)>) -> StorageResult<()> {
        if self.keep_expired {
            return Ok(());
        }
        for (key, raw) in expired {
            let rec = MetaRecord::decode(raw).map_err(io)?;
            self.write_record(db, &key, Some(&rec), None);
            self.note_expired(db, &key);
        }
        Ok(())
    }

    fn string_record(&mut self, db: PhysDb, key: &[u8]) -> StorageResult<Option<MetaRecord>> {
        match self.live(db, key)? {
            Some(rec) if rec.key_type != KeyType::String => Err(StorageError::WrongType),
            other => Ok(other),
        }
    }

    fn duplicate(
        &mut self,
        src_db: DbIndex,
        src: &[u8],
        dst_db: DbIndex,
        dst: &[u8],
        remove_src: bool,
    ) -> StorageResult<bool> {
        let (sdb, ddb) = (self.phys(src_db)?, self.phys(dst_db)?);
        let Some(rec) = self.live(sdb, src)? else {
            return Ok(false);
        };
        if sdb == ddb && src == dst {
            return Ok(true);
        }
        let old = self.live(ddb, dst)?;
        self.writable()?;
        let mut new = rec.clone();
        if rec.key_type != KeyType::String {
            // Sub-keys are named after their key: rewrite them all under `dst`, in
            // a fresh incarnation (O(n)).
            new.version = self.backend.new_version()?;
            let from = subkey_prefix(sdb, src, rec.version);
            let to = subkey_prefix(ddb, dst, new.version);
            let end = prefix_end(&from).unwrap_or_else(|| db_range(sdb).1);
            // Records are named after the key: adjust the byte count.
            let per_record = to.len() as i128 - from.len() as i128;
            let bytes = i128::from(rec.bytes) + per_record * i128::from(rec.len);
            new.bytes = bytes.clamp(0, i128::from(u64::MAX)) as u64;
            let mut records = Vec::new();
            self.visit(Keyspace::SubKey, &from, &end, &mut |k, v| {
                records.push((k[from.len()..].to_vec(), Bytes::copy_from_slice(v)));
                true
            })?;
            for (suffix, value) in records {
                if rec.key_type == KeyType::Hash {
                    let at = decode_field_value(&value).and_then(|(at, _)| at);
                    if let (Some(at), Some((_, field))) = (at, decode_hashed_suffix(&suffix)) {
                        let entry = field_expiry_key(ddb, at, dst, new.version, field);
                        self.put_raw(Keyspace::Expiry, entry, Some(Bytes::new()));
                    }
                }
                let mut k = to.clone();
                k.extend_from_slice(&suffix);
                self.put_raw(Keyspace::SubKey, k, Some(value));
            }
        }
        if remove_src {
            self.write_record(sdb, src, Some(&rec), None);
        }
        self.write_record(ddb, dst, old.as_ref(), Some(&new));
        Ok(true)
    }

    /// Runs `run` on the collection of type `ty` at `key` (see [`Txn::with_list`]):
    /// reads the metadata, hands `run` a [`Coll`] over the key's current
    /// incarnation (a fresh one if `create`), then stores the new metadata, or
    /// deletes the key if it was left empty.
    fn with_coll(
        &mut self,
        db: DbIndex,
        key: &[u8],
        create: bool,
        ty: KeyType,
        run: &mut dyn FnMut(&mut Coll<'_, 'a, S>),
    ) -> StorageResult<bool> {
        let pdb = self.phys(db)?;
        let old = self.live(pdb, key)?;
        let rec = match &old {
            Some(r) if r.key_type != ty => return Err(StorageError::WrongType),
            Some(r) => r.clone(),
            None if create => {
                self.writable()?;
                MetaRecord::collection(ty, self.backend.new_version()?)
            }
            None => return Ok(false),
        };
        let mut coll = Coll::new(self, pdb, key, rec);
        run(&mut coll);
        let (rec, err, wrote) = coll.finish();
        let err = err.or_else(|| wrote.then(|| self.writable().err()).flatten());
        if let Some(e) = err {
            self.poison(e.clone());
            return Err(e);
        }
        // Streams stay when empty (Redis keeps them and their groups).
        if rec.len == 0 && ty != KeyType::Stream {
            if let Some(old) = &old {
                self.write_record(pdb, key, Some(old), None);
            }
            if !matches!(&old, Some(o) if o.version == rec.version) {
                // Created (or moved to a fresh incarnation) in this view: its
                // records are only pending writes.
                self.forget_incarnation(pdb, key, rec.version);
            }
        } else if old.as_ref() != Some(&rec) {
            self.write_record(pdb, key, old.as_ref(), Some(&rec));
        }
        Ok(true)
    }
}

impl<S: OrderedStore> Txn for KvTxn<'_, S> {
    fn now_ms(&self) -> UnixMillis {
        self.now
    }

    fn meta(&mut self, db: DbIndex, key: &[u8]) -> StorageResult<Option<KeyMeta>> {
        let db = self.phys(db)?;
        Ok(self.live(db, key)?.map(|r| KeyMeta {
            key_type: r.key_type,
            expire_at: r.expiry(),
        }))
    }

    fn delete(&mut self, db: DbIndex, key: &[u8]) -> StorageResult<bool> {
        let db = self.phys(db)?;
        let Some(rec) = self.live(db, key)? else {
            return Ok(false);
        };
        self.writable()?;
        self.write_record(db, key, Some(&rec), None);
        Ok(true)
    }

    fn set_expire(
        &mut self,
        db: DbIndex,
        key: &[u8],
        at: Option<UnixMillis>,
    ) -> StorageResult<bool> {
        let db = self.phys(db)?;
        let Some(rec) = self.live(db, key)? else {
            return Ok(false);
        };
        // 0 means "persistent" on disk; time 0 is as expired as time 1.
        let at = at.map_or(0, |t| t.max(1));
        if rec.expire_at != at {
            self.writable()?;
            let mut new = rec.clone();
            new.expire_at = at;
            self.write_record(db, key, Some(&rec), Some(&new));
        }
        Ok(true)
    }

    fn get_string(&mut self, db: DbIndex, key: &[u8]) -> StorageResult<Option<Bytes>> {
        let db = self.phys(db)?;
        match self.string_record(db, key)? {
            Some(rec) => Ok(Some(rec.string_value().map_err(io)?)),
            None => Ok(None),
        }
    }

    fn string_len(&mut self, db: DbIndex, key: &[u8]) -> StorageResult<Option<usize>> {
        let db = self.phys(db)?;
        Ok(self.string_record(db, key)?.map(|r| r.len as usize))
    }

    fn set_string(
        &mut self,
        db: DbIndex,
        key: &[u8],
        value: &[u8],
        ttl: TtlUpdate,
    ) -> StorageResult<()> {
        let db = self.phys(db)?;
        let old = self.live(db, key)?;
        self.writable()?;
        let at = match ttl {
            TtlUpdate::Clear => 0,
            TtlUpdate::Keep => old.as_ref().map_or(0, |r| r.expire_at),
            TtlUpdate::At(t) => t.max(1),
        };
        let new = MetaRecord::string(value, at, 0);
        self.write_record(db, key, old.as_ref(), Some(&new));
        Ok(())
    }

    fn update_string(
        &mut self,
        db: DbIndex,
        key: &[u8],
        create: bool,
        edit: &mut dyn FnMut(&mut Vec<u8>),
    ) -> StorageResult<bool> {
        let db = self.phys(db)?;
        let old = self.string_record(db, key)?;
        let mut buf = match &old {
            Some(rec) => rec.string_value().map_err(io)?.to_vec(),
            None if create => Vec::new(),
            None => return Ok(false),
        };
        self.writable()?;
        edit(&mut buf);
        let at = old.as_ref().map_or(0, |r| r.expire_at);
        let new = MetaRecord::string(&buf, at, FLAG_RAW);
        self.write_record(db, key, old.as_ref(), Some(&new));
        Ok(true)
    }

    fn with_list(
        &mut self,
        db: DbIndex,
        key: &[u8],
        create: bool,
        body: &mut dyn FnMut(&mut dyn ListOps),
    ) -> StorageResult<bool> {
        self.with_coll(db, key, create, KeyType::List, &mut |c| {
            body(&mut ListView(c))
        })
    }

    fn with_hash(
        &mut self,
        db: DbIndex,
        key: &[u8],
        create: bool,
        body: &mut dyn FnMut(&mut dyn HashOps),
    ) -> StorageResult<bool> {
        self.with_coll(db, key, create, KeyType::Hash, &mut |c| {
            body(&mut HashView(c))
        })
    }

    fn with_set(
        &mut self,
        db: DbIndex,
        key: &[u8],
        create: bool,
        body: &mut dyn FnMut(&mut dyn SetOps),
    ) -> StorageResult<bool> {
        self.with_coll(db, key, create, KeyType::Set, &mut |c| {
            body(&mut SetView(c))
        })
    }

    fn with_zset(
        &mut self,
        db: DbIndex,
        key: &[u8],
        create: bool,
        body: &mut dyn FnMut(&mut dyn ZSetOps),
    ) -> StorageResult<bool> {
        self.with_coll(db, key, create, KeyType::ZSet, &mut |c| {
            body(&mut ZSetView(c))
        })
    }

    fn with_stream(
        &mut self,
        db: DbIndex,
        key: &[u8],
        create: bool,
        body: &mut dyn FnMut(&mut dyn StreamOps),
    ) -> StorageResult<bool> {
        self.with_coll(db, key, create, KeyType::Stream, &mut |c| {
            body(&mut StreamView(c))
        })
    }

    fn rename(
        &mut self,
        src_db: DbIndex,
        src: &[u8],
        dst_db: DbIndex,
        dst: &[u8],
    ) -> StorageResult<bool> {
        self.duplicate(src_db, src, dst_db, dst, true)
    }

    fn copy(
        &mut self,
        src_db: DbIndex,
        src: &[u8],
        dst_db: DbIndex,
        dst: &[u8],
    ) -> StorageResult<bool> {
        self.duplicate(src_db, src, dst_db, dst, false)
    }

    fn touch(&mut self, db: DbIndex, key: &[u8]) -> StorageResult<bool> {
        let db = self.phys(db)?;
        Ok(self.live(db, key)?.is_some())
    }

    fn object_info(&mut self, db: DbIndex, key: &[u8]) -> StorageResult<Option<ObjectInfo>> {
        let db = self.phys(db)?;
        let Some(rec) = self.live(db, key)? else {
            return Ok(None);
        };
        let encoding = match rec.key_type {
            KeyType::String if rec.flags & FLAG_RAW != 0 => "raw",
            KeyType::String if rec.len <= 20 && is_redis_int(&rec.string_value().map_err(io)?) => {
                "int"
            }
            KeyType::String if rec.len <= 44 => "embstr",
            KeyType::String => "raw",
            // Lists are always quicklists in Redis 7.0; the others report the
            // compact encoding until they outgrew it once (as Redis converts).
            KeyType::List => "quicklist",
            KeyType::Hash if rec.flags & FLAG_BIG == 0 => "listpack",
            KeyType::Set if rec.flags & FLAG_BIG == 0 => "intset",
            KeyType::ZSet if rec.flags & FLAG_BIG == 0 => "listpack",
            KeyType::Hash | KeyType::Set => "hashtable",
            KeyType::ZSet => "skiplist",
            KeyType::Stream => "stream",
        };
        // Access times are not tracked on disk (a write per read would be too dear).
        Ok(Some(ObjectInfo {
            encoding,
            idle_ms: 0,
            freq: 0,
        }))
    }

    fn scan(&mut self, db: DbIndex, cursor: u64, count: usize) -> StorageResult<ScanPage> {
        let pdb = self.phys(db)?;
        let want = count.max(1);
        // Expired records cost work too; bound it so a page stays cheap.
        let max_visit = want.saturating_mul(10);
        let (_, end) = db_range(pdb);
        let now = self.now;
        let mut keys = Vec::new();
        let mut expired = Vec::new();
        let mut last_hash: Option<u64> = None;
        let mut visited = 0usize;
        let mut next_cursor = 0;
        self.visit(
            Keyspace::Meta,
            &meta_seek(pdb, cursor),
            &end,
            &mut |k, v| {
                let Some((_, hash, key)) = decode_meta_key(k) else {
                    return true;
                };
                if let Some(last) = last_hash {
                    // Finish the current hash value before stopping, so the cursor
                    // (the next hash) never skips a key.
                    if hash != last && (keys.len() >= want || visited >= max_visit) {
                        next_cursor = last + 1;
                        return false;
                    }
                }
                last_hash = Some(hash);
                visited += 1;
                match raw_expire_at(v) {
                    Some(at) if at <= now => {
                        if expired.len() < LAZY_DELETE_CAP {
                            expired.push((key.to_vec(), Bytes::copy_from_slice(v)));
                        }
                    }
                    _ => keys.push(Bytes::copy_from_slice(key)),
                }
                true
            },
        )?;
        self.delete_expired(pdb, expired)?;
        Ok(ScanPage { next_cursor, keys })
    }

    fn keys(
        &mut self,
        db: DbIndex,
        keep: &mut dyn FnMut(&[u8]) -> bool,
    ) -> StorageResult<Vec<Bytes>> {
        let pdb = self.phys(db)?;
        let (start, end) = db_range(pdb);
        let now = self.now;
        let mut out = Vec::new();
        let mut expired = Vec::new();
        self.visit(Keyspace::Meta, &start, &end, &mut |k, v| {
            let Some((_, _, key)) = decode_meta_key(k) else {
                return true;
            };
            if raw_expire_at(v).is_some_and(|at| at <= now) {
                if expired.len() < LAZY_DELETE_CAP {
                    expired.push((key.to_vec(), Bytes::copy_from_slice(v)));
                }
            } else if keep(key) {
                out.push(Bytes::copy_from_slice(key));
            }
            true
        })?;
        self.delete_expired(pdb, expired)?;
        Ok(out)
    }

    fn random_key(&mut self, db: DbIndex) -> StorageResult<Option<Bytes>> {
        let pdb = self.phys(db)?;
        let (start, end) = db_range(pdb);
        let pivot = meta_seek(pdb, rand::thread_rng().gen_range(1..=u64::MAX));
        let now = self.now;
        let mut found = None;
        let mut expired = Vec::new();
        // From a random hash to the end, then wrap around to the start.
        for (from, to) in [(&pivot, &end), (&start, &pivot)] {
            self.visit(Keyspace::Meta, from, to, &mut |k, v| {
                let Some((_, _, key)) = decode_meta_key(k) else {
                    return true;
                };
                match raw_expire_at(v) {
                    Some(at) if at <= now => {
                        if expired.len() < LAZY_DELETE_CAP {
                            expired.push((key.to_vec(), Bytes::copy_from_slice(v)));
                        }
                        true
                    }
                    _ => {
                        found = Some(Bytes::copy_from_slice(key));
                        false
                    }
                }
            })?;
            if found.is_some() {
                break;
            }
        }
        self.delete_expired(pdb, expired)?;
        Ok(found)
    }

    fn db_size(&mut self, db: DbIndex) -> StorageResult<DbStats> {
        let pdb = usize::from(self.phys(db)?);
        let committed = self.backend.counters[pdb].stats();
        let d = self.p.deltas.get(pdb).copied().unwrap_or_default();
        let (keys, expires) = if d.reset {
            (0, 0)
        } else {
            (committed.keys as i64, committed.expires as i64)
        };
        Ok(DbStats {
            keys: (keys + d.keys).max(0) as u64,
            expires: (expires + d.expires).max(0) as u64,
        })
    }

    fn flush_db(&mut self, db: DbIndex) -> StorageResult<()> {
        let pdb = self.phys(db)?;
        self.writable()?;
        let (start, end) = db_range(pdb);
        for ks in [Keyspace::Meta, Keyspace::SubKey, Keyspace::Expiry] {
            let map = &mut self.p.overlay[ks.index()];
            let mut tail = map.split_off(start.as_slice());
            let mut rest = tail.split_off(end.as_slice());
            map.append(&mut rest);
            self.p.ranges.push((ks, start.clone(), end.clone()));
        }
        *self.delta(pdb) = Delta {
            keys: 0,
            expires: 0,
            reset: true,
        };
        Ok(())
    }

    fn swap_db(&mut self, a: DbIndex, b: DbIndex) -> StorageResult<()> {
        self.phys(a)?;
        self.phys(b)?;
        self.writable()?;
        if a != b {
            Arc::make_mut(&mut self.p.dbmap).swap(a, b);
            self.p.dbmap_changed = true;
        }
        Ok(())
    }

    fn set_keep_expired(&mut self, on: bool) {
        self.keep_expired = on;
    }

    fn drain_expired(&mut self, visit: &mut dyn FnMut(DbIndex, &[u8])) {
        for (db, key) in self.expired.drain(..) {
            visit(db, &key);
        }
    }
}
