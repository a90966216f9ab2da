//! Point-in-time snapshots without fork (`SAVE`, `BGSAVE`, an AOF base) while
//! clients keep writing.
//!
//! A snapshot installs a [`Cow`] with every shard locked for an instant: that is
//! its point in time. It then walks one shard at a time, copying one segment (at
//! most a few hundred keys) under that shard's lock and serializing the copy with
//! no lock held, and marks the shard done at its end. Until a shard is done, the first write to one of its keys — any `Txn`
//! mutation, including opening a collection — first saves the key's value as it
//! was (or that it did not exist) in the shard's `saved` map, and the walk uses
//! that saved value instead of the live one. Extra memory is therefore one segment's
//! copy, the names of the current shard's keys, and the values of the keys written
//! in shards not yet done; a request waits at most for one segment's copy.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use ferrokv_core::storage::{
    DbIndex, EncodingLimits, SnapshotSink, StorageResult, UnixMillis, ValueRef,
};
use parking_lot::Mutex;

use crate::hash::{shard_of, SHARDS};
use crate::hashes::HashHandle;
use crate::list::ListHandle;
use crate::set::SetHandle;
use crate::value::Value;
use crate::zset::ZSetHandle;
use crate::{unix_now_ms, MemTxn, MemoryBackend};

/// A value kept for the snapshot: `None` if the key did not exist at its start.
type Saved = Option<(Value, Option<UnixMillis>)>;

/// One shard's saved values, by database and key.
type SavedMap = HashMap<(DbIndex, Vec<u8>), Saved>;

/// The state of a running snapshot.
#[derive(Debug)]
pub(crate) struct Cow {
    /// Shards already copied: writes there need not save anything.
    done: Box<[AtomicBool]>,
    /// Per shard, keys' values as they were at the snapshot's start.
    saved: Box<[Mutex<SavedMap>]>,
}

impl Cow {
    fn new() -> Cow {
        Cow {
            done: (0..SHARDS).map(|_| AtomicBool::new(false)).collect(),
            saved: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
        }
    }
}

impl MemTxn<'_> {
    /// Before a write to `key` in `db`: saves its current value for a running
    /// snapshot whose walk has not copied its shard yet (once per key).
    pub(crate) fn preserve(&mut self, db: DbIndex, key: &[u8]) {
        let Some(cow) = self.cow.clone() else {
            return;
        };
        let h = self.hash(key);
        let s = shard_of(h);
        if cow.done[s].load(Ordering::Acquire) {
            return;
        }
        let Ok(pos) = self.shard_pos(h) else {
            return;
        };
        let mut saved = cow.saved[s].lock();
        let id = (db, key.to_vec());
        if saved.contains_key(&id) {
            return;
        }
        let shard = &self.guards[pos].1;
        let value = shard.dbs.get(db).and_then(|d| {
            let loc = d.table.find(h, key)?;
            Some((d.table.get(loc).value.clone(), d.table.expire_of(loc)))
        });
        saved.insert(id, value);
    }

    /// Before `FLUSHDB`/`SWAPDB`: saves every key of `db` in the shards not copied yet.
    pub(crate) fn preserve_db(&mut self, db: DbIndex) {
        let Some(cow) = self.cow.clone() else {
            return;
        };
        for (s, guard) in self.guards.iter() {
            let s = usize::from(*s);
            if cow.done[s].load(Ordering::Acquire) {
                continue;
            }
            let Some(d) = guard.dbs.get(db) else {
                continue;
            };
            let mut saved = cow.saved[s].lock();
            for seg in d.table.segments() {
                for e in seg.entries() {
                    saved
                        .entry((db, e.key.as_slice().to_vec()))
                        .or_insert_with(|| Some((e.value.clone(), seg.expire_of(e))));
                }
            }
        }
    }
}

/// One key of a shard's copy.
struct Copied {
    db: DbIndex,
    key: Vec<u8>,
    value: Value,
    expire_at: Option<UnixMillis>,
}

impl MemoryBackend {
    /// The running snapshot, if any (read by every scope once its locks are held).
    pub(crate) fn current_cow(&self) -> Option<Arc<Cow>> {
        if self.snapping.load(Ordering::Acquire) {
            self.cow.lock().clone()
        } else {
            None
        }
    }

    /// [`StorageBackend::snapshot`](ferrokv_core::storage::StorageBackend::snapshot)
    /// by shard copies and copy-on-write (see the module documentation).
    pub(crate) fn cow_snapshot(
        &self,
        sink: &mut dyn SnapshotSink,
        started: &mut dyn FnMut(),
    ) -> StorageResult<()> {
        // One snapshot at a time: a second waits for the first.
        let _one = self.snapshot_lock.lock();
        let cow = Arc::new(Cow::new());
        let start_ms = {
            let guards: Vec<_> = self.shards.iter().map(|s| s.0.lock()).collect();
            *self.cow.lock() = Some(cow.clone());
            self.snapping.store(true, Ordering::Release);
            drop(guards);
            unix_now_ms()
        };
        started();
        let limits = self.limits.load();
        let result =
            (0..SHARDS).try_for_each(|s| self.walk_shard(&cow, s, start_ms, &limits, sink));
        self.snapping.store(false, Ordering::Release);
        *self.cow.lock() = None;
        result
    }

    /// Walks one shard segment by segment, each copied under the shard's lock and
    /// serialized without it. A split keeps the low half in place and appends the
    /// high half, so walking segment indexes up to the current count meets every
    /// entry at least once; `walked` drops the repeats, and keys written meanwhile
    /// come from `saved`.
    fn walk_shard(
        &self,
        cow: &Cow,
        s: usize,
        start_ms: UnixMillis,
        limits: &EncodingLimits,
        sink: &mut dyn SnapshotSink,
    ) -> StorageResult<()> {
        let mut walked: HashSet<(DbIndex, Vec<u8>)> = HashSet::new();
        for db in 0..self.databases {
            let mut seg = 0;
            loop {
                let mut items: Vec<Copied> = Vec::new();
                {
                    let shard = self.shards[s].0.lock();
                    let Some(segment) = shard.dbs[db].table.segments().get(seg) else {
                        break;
                    };
                    let saved = cow.saved[s].lock();
                    for e in segment.entries() {
                        let id = (db, e.key.as_slice().to_vec());
                        if saved.contains_key(&id) || walked.contains(&id) {
                            continue;
                        }
                        items.push(Copied {
                            db,
                            key: id.1.clone(),
                            value: e.value.clone(),
                            expire_at: segment.expire_of(e),
                        });
                        walked.insert(id);
                    }
                }
                seg += 1;
                emit_all(sink, items, start_ms, limits)?;
            }
        }
        let mut saved = {
            let _shard = self.shards[s].0.lock();
            cow.done[s].store(true, Ordering::Release);
            std::mem::take(&mut *cow.saved[s].lock())
        };
        let mut items = Vec::new();
        for ((db, key), value) in saved.drain() {
            if let (Some((value, expire_at)), false) = (value, walked.contains(&(db, key.clone())))
            {
                items.push(Copied {
                    db,
                    key,
                    value,
                    expire_at,
                });
            }
        }
        items.sort_by_key(|c| c.db);
        emit_all(sink, items, start_ms, limits)
    }
}

/// Serializes copied keys (all of one database, or sorted by database), skipping
/// keys already expired when the snapshot started.
fn emit_all(
    sink: &mut dyn SnapshotSink,
    items: Vec<Copied>,
    start_ms: UnixMillis,
    limits: &EncodingLimits,
) -> StorageResult<()> {
    let mut current = None;
    for mut c in items {
        if c.expire_at.is_some_and(|at| at <= start_ms) {
            continue;
        }
        if current != Some(c.db) {
            current = Some(c.db);
            sink.begin_db(c.db, 0, 0)?;
        }
        emit(sink, &mut c, limits, start_ms)?;
    }
    Ok(())
}

fn emit(
    sink: &mut dyn SnapshotSink,
    c: &mut Copied,
    limits: &EncodingLimits,
    now: UnixMillis,
) -> StorageResult<()> {
    let (db, at) = (c.db, c.expire_at);
    let key = &c.key;
    match &mut c.value {
        Value::Str(s) => sink.key(db, key, at, ValueRef::String(s.as_slice())),
        Value::List(list) => sink.key(
            db,
            key,
            at,
            ValueRef::List(&mut ListHandle { list, limits }),
        ),
        Value::Hash(hash) => sink.key(
            db,
            key,
            at,
            ValueRef::Hash(&mut HashHandle { hash, limits, now }),
        ),
        Value::Set(set) => sink.key(db, key, at, ValueRef::Set(&mut SetHandle { set, limits })),
        Value::ZSet(zset) => sink.key(
            db,
            key,
            at,
            ValueRef::ZSet(&mut ZSetHandle { zset, limits }),
        ),
        // The RDB stream encoding is not written yet: fail the snapshot rather than
        // silently leave the stream out of it.
        Value::Stream(_) => Err(ferrokv_core::storage::StorageError::Io(
            "RDB snapshots cannot hold streams yet".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::mpsc;

    use ferrokv_core::rdb::store::{owned, store_value};
    use ferrokv_core::rdb::Value as RdbValue;
    use ferrokv_core::storage::{Scope, StorageBackend, StorageResult};

    use super::*;

    type Contents = BTreeMap<(DbIndex, Vec<u8>), RdbValue>;

    /// Collects a snapshot; blocks at its first key until `resume` says so.
    struct Collect {
        out: Contents,
        paused: Option<(mpsc::Sender<()>, mpsc::Receiver<()>)>,
    }

    impl SnapshotSink for Collect {
        fn begin_db(&mut self, _: DbIndex, _: u64, _: u64) -> StorageResult<()> {
            Ok(())
        }
        fn key(
            &mut self,
            db: DbIndex,
            key: &[u8],
            _: Option<UnixMillis>,
            value: ValueRef<'_>,
        ) -> StorageResult<()> {
            if let Some((reached, resume)) = self.paused.take() {
                reached.send(()).unwrap();
                resume.recv().unwrap();
            }
            let prev = self
                .out
                .insert((db, key.to_vec()), owned(value).normalized());
            assert!(prev.is_none(), "key emitted twice: {key:?}");
            Ok(())
        }
    }

    fn contents(b: &MemoryBackend) -> Contents {
        let mut out = Contents::new();
        b.atomic(Scope::All, &mut |txn| {
            for db in 0..b.databases() {
                for k in txn.keys(db, &mut |_| true).unwrap() {
                    let (v, _) = ferrokv_core::rdb::store::export_value(txn, db, &k)
                        .unwrap()
                        .unwrap();
                    out.insert((db, k.to_vec()), v.normalized());
                }
            }
        })
        .unwrap();
        out
    }

    fn put(b: &MemoryBackend, db: DbIndex, key: &str, v: RdbValue) {
        let k = [bytes::Bytes::copy_from_slice(key.as_bytes())];
        b.atomic(Scope::Keys(&k), &mut |txn| {
            store_value(txn, db, key.as_bytes(), &v, None).unwrap()
        })
        .unwrap();
    }

    fn s(x: &str) -> RdbValue {
        RdbValue::String(bytes::Bytes::copy_from_slice(x.as_bytes()))
    }

    #[test]
    fn snapshot_holds_the_data_of_its_start_while_writes_go_on() {
        let b = Arc::new(MemoryBackend::new(4));
        for i in 0..2000 {
            put(&b, 0, &format!("k{i}"), s(&format!("v{i}")));
            let list = (0..(i % 7 + 1))
                .map(|j| bytes::Bytes::from(j.to_string()))
                .collect();
            put(&b, 1, &format!("l{i}"), RdbValue::List(list));
        }
        put(&b, 2, "gone-with-flush", s("x"));
        let start = contents(&b);
        let (reached_tx, reached_rx) = mpsc::channel();
        let (resume_tx, resume_rx) = mpsc::channel();
        let walker = {
            let b = b.clone();
            std::thread::spawn(move || {
                let mut sink = Collect {
                    out: Contents::new(),
                    paused: Some((reached_tx, resume_rx)),
                };
                b.snapshot(&mut sink, &mut || {}).unwrap();
                sink.out
            })
        };
        reached_rx.recv().unwrap();
        // The walk has copied at most one shard: write everywhere meanwhile.
        for i in 0..2000 {
            match i % 5 {
                0 => put(&b, 0, &format!("k{i}"), s("changed")),
                1 => {
                    let k = [bytes::Bytes::from(format!("k{i}"))];
                    b.atomic(Scope::Keys(&k), &mut |txn| {
                        txn.delete(0, &k[0]).unwrap();
                    })
                    .unwrap();
                }
                2 => put(&b, 0, &format!("new{i}"), s("new")),
                3 => {
                    let k = [bytes::Bytes::from(format!("l{i}"))];
                    b.atomic(Scope::Keys(&k), &mut |txn| {
                        txn.with_list(1, &k[0], false, &mut |ops| {
                            ops.push(ferrokv_core::storage::End::Head, b"pushed")
                        })
                        .unwrap();
                    })
                    .unwrap();
                }
                _ => {
                    let k = [
                        bytes::Bytes::from(format!("k{i}")),
                        bytes::Bytes::from(format!("renamed{i}")),
                    ];
                    b.atomic(Scope::Keys(&k), &mut |txn| {
                        txn.rename(0, &k[0], 0, &k[1]).unwrap();
                    })
                    .unwrap();
                }
            }
        }
        b.atomic(Scope::All, &mut |txn| txn.flush_db(2).unwrap())
            .unwrap();
        resume_tx.send(()).unwrap();
        let snap = walker.join().unwrap();
        assert_eq!(snap.len(), start.len());
        assert!(
            snap == start,
            "the snapshot differs from the data at its start"
        );
        assert!(b.cow.lock().is_none());
        // Writes after the snapshot keep no copies.
        put(&b, 0, "after", s("x"));
    }
}
