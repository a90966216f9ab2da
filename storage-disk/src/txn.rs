//! [`KvTxn`]: one atomic scope of [`KvBackend`]. Reads go through an overlay of the
//! scope's own pending writes; the writes are committed as one batch at the end.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;

use bytes::Bytes;
use ferrokv_core::storage::{
    DbIndex, DbStats, KeyMeta, KeyType, ObjectInfo, ScanPage, StorageError, StorageResult,
    TtlUpdate, Txn, UnixMillis,
};
use rand::Rng;

use crate::backend::{io, KvBackend, Locks};
use crate::encoding::{
    db_range, decode_meta_key, encode_dbmap, expiry_key, is_redis_int, key_hash, meta_key,
    meta_seek, raw_expire_at, MetaRecord, PhysDb, FLAG_RAW, SYS_DBMAP,
};
use crate::store::{Keyspace, OrderedStore, WriteBatch};

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
}

impl Pending {
    pub(crate) fn new(dbmap: Arc<Vec<PhysDb>>) -> Pending {
        Pending {
            dbmap,
            dbmap_changed: false,
            overlay: Default::default(),
            ranges: Vec::new(),
            deltas: Vec::new(),
        }
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
        } = self;
        let mut batch = WriteBatch::new();
        let flushed = !ranges.is_empty();
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

    fn get_raw(&mut self, ks: Keyspace, key: &[u8]) -> StorageResult<Option<Bytes>> {
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

    fn put_raw(&mut self, ks: Keyspace, key: Vec<u8>, value: Option<Bytes>) {
        self.p.overlay[ks.index()].insert(key, value);
    }

    /// Visits `start <= key < end` of the store as this scope sees it: the store
    /// merged with pending writes and range deletes.
    fn visit(
        &self,
        ks: Keyspace,
        start: &[u8],
        end: &[u8],
        f: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> StorageResult<()> {
        if start >= end {
            return Ok(());
        }
        let mut pending = self.p.overlay[ks.index()]
            .range::<[u8], _>((Bound::Included(start), Bound::Excluded(end)))
            .peekable();
        let mut stopped = false;
        let hidden = self
            .p
            .ranges
            .iter()
            .any(|(k, s, e)| *k == ks && s.as_slice() <= start && e.as_slice() >= end);
        if !hidden {
            self.backend
                .store
                .scan(ks, start, Some(end), &mut |k, v| {
                    // Pending records sorting before this one come first.
                    while let Some((pk, pv)) = pending.next_if(|(pk, _)| pk.as_slice() < k) {
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
                })
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

    /// The key's record if live; an expired one is deleted (lazy expiry).
    fn live(&mut self, db: PhysDb, key: &[u8]) -> StorageResult<Option<MetaRecord>> {
        match self.load(db, key)? {
            Some(rec) if rec.is_expired(self.now) => {
                self.write_record(db, key, Some(&rec), None);
                Ok(None)
            }
            other => Ok(other),
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
        let mk = meta_key(db, key_hash(key), key);
        self.put_raw(Keyspace::Meta, mk, new.map(|r| Bytes::from(r.encode())));
        let d = self.delta(db);
        d.keys += i64::from(new.is_some()) - i64::from(old.is_some());
        d.expires += i64::from(new_at != 0) - i64::from(old_at != 0);
    }

    /// Deletes records an iteration found expired.
    fn delete_expired(&mut self, db: PhysDb, expired: Vec<(Vec<u8>, Bytes)>) -> StorageResult<()> {
        for (key, raw) in expired {
            let rec = MetaRecord::decode(raw).map_err(io)?;
            self.write_record(db, &key, Some(&rec), None);
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
        if remove_src {
            self.write_record(sdb, src, Some(&rec), None);
        }
        self.write_record(ddb, dst, old.as_ref(), Some(&rec));
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

    // Transitional: collections land in this backend in the next commits.
    fn with_list(
        &mut self,
        _db: DbIndex,
        _key: &[u8],
        _create: bool,
        _body: &mut dyn FnMut(&mut dyn ferrokv_core::storage::ListOps),
    ) -> StorageResult<bool> {
        Err(StorageError::Io(
            "lists are not available on this backend yet".into(),
        ))
    }
    fn with_hash(
        &mut self,
        _db: DbIndex,
        _key: &[u8],
        _create: bool,
        _body: &mut dyn FnMut(&mut dyn ferrokv_core::storage::HashOps),
    ) -> StorageResult<bool> {
        Err(StorageError::Io(
            "hashes are not available on this backend yet".into(),
        ))
    }
    fn with_set(
        &mut self,
        _db: DbIndex,
        _key: &[u8],
        _create: bool,
        _body: &mut dyn FnMut(&mut dyn ferrokv_core::storage::SetOps),
    ) -> StorageResult<bool> {
        Err(StorageError::Io(
            "sets are not available on this backend yet".into(),
        ))
    }
    fn with_zset(
        &mut self,
        _db: DbIndex,
        _key: &[u8],
        _create: bool,
        _body: &mut dyn FnMut(&mut dyn ferrokv_core::storage::ZSetOps),
    ) -> StorageResult<bool> {
        Err(StorageError::Io(
            "sorted sets are not available on this backend yet".into(),
        ))
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
            KeyType::List => "quicklist",
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
}
