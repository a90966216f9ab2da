//! A deliberately simple backend (one lock, plain maps) and helpers to run commands
//! without a network. Used by the engine's unit tests and as the smallest example of
//! embedding `core` with a custom store; not built for speed, and its `SCAN` cursor
//! is a position in key order, so keys inserted during an iteration may shift it.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use ferrokv_protocol::Frame;
use parking_lot::Mutex;

use crate::clients::unix_ms;
use crate::config::Config;
use crate::engine::Engine;
use crate::session::Session;
use crate::storage::*;

mod collections;

pub use collections::{Data, HashView};

#[derive(Clone)]
struct Item {
    value: Data,
    expire_at: Option<UnixMillis>,
}

type Db = BTreeMap<Bytes, Item>;

/// One global lock over plain ordered maps.
pub struct SimpleBackend {
    dbs: Mutex<Vec<Db>>,
    databases: usize,
}

impl SimpleBackend {
    /// An empty store with `databases` databases.
    pub fn new(databases: usize) -> SimpleBackend {
        SimpleBackend {
            dbs: Mutex::new(vec![Db::new(); databases]),
            databases,
        }
    }
}

struct SimpleTxn<'a> {
    dbs: &'a mut Vec<Db>,
    now: UnixMillis,
    /// Keys removed by lazy expiry, for `drain_expired`.
    expired: Vec<(DbIndex, Bytes)>,
}

impl SimpleTxn<'_> {
    fn live(&mut self, db: DbIndex, key: &[u8]) -> Option<&mut Item> {
        let expired =
            matches!(self.dbs[db].get(key), Some(i) if i.expire_at.is_some_and(|t| t <= self.now));
        if expired {
            self.dbs[db].remove(key);
            self.expired.push((db, Bytes::copy_from_slice(key)));
        }
        self.dbs[db].get_mut(key)
    }
}

impl SimpleTxn<'_> {
    /// The string at `key`, `WrongType` for another type.
    fn string(&mut self, db: DbIndex, key: &[u8]) -> StorageResult<Option<&mut Vec<u8>>> {
        match self.live(db, key) {
            None => Ok(None),
            Some(Item {
                value: Data::Str(s),
                ..
            }) => Ok(Some(s)),
            Some(_) => Err(StorageError::WrongType),
        }
    }

    /// Runs `body` on the collection at `key` if it has type `kind` (creating an
    /// empty one with `empty` when asked), then drops it if left empty.
    fn collection(
        &mut self,
        db: DbIndex,
        key: &[u8],
        create: bool,
        empty: fn() -> Data,
        body: &mut dyn FnMut(&mut Data, UnixMillis),
    ) -> StorageResult<bool> {
        let now = self.now;
        let kind = empty().key_type();
        match self.live(db, key) {
            Some(item) if item.value.key_type() != kind => return Err(StorageError::WrongType),
            Some(_) => {}
            None if !create => return Ok(false),
            None => {
                self.dbs[db].insert(
                    Bytes::copy_from_slice(key),
                    Item {
                        value: empty(),
                        expire_at: None,
                    },
                );
            }
        }
        let item = self.dbs[db].get_mut(key).expect("present");
        body(&mut item.value, now);
        if item.value.is_empty_collection() {
            self.dbs[db].remove(key);
        }
        Ok(true)
    }
}

impl Txn for SimpleTxn<'_> {
    fn now_ms(&self) -> UnixMillis {
        self.now
    }
    fn meta(&mut self, db: DbIndex, key: &[u8]) -> StorageResult<Option<KeyMeta>> {
        Ok(self.live(db, key).map(|i| KeyMeta {
            key_type: i.value.key_type(),
            expire_at: i.expire_at,
        }))
    }
    fn delete(&mut self, db: DbIndex, key: &[u8]) -> StorageResult<bool> {
        let existed = self.live(db, key).is_some();
        self.dbs[db].remove(key);
        Ok(existed)
    }
    fn set_expire(
        &mut self,
        db: DbIndex,
        key: &[u8],
        at: Option<UnixMillis>,
    ) -> StorageResult<bool> {
        Ok(self.live(db, key).map(|i| i.expire_at = at).is_some())
    }
    fn get_string(&mut self, db: DbIndex, key: &[u8]) -> StorageResult<Option<Bytes>> {
        Ok(self.string(db, key)?.map(|s| Bytes::copy_from_slice(s)))
    }
    fn string_len(&mut self, db: DbIndex, key: &[u8]) -> StorageResult<Option<usize>> {
        Ok(self.string(db, key)?.map(|s| s.len()))
    }
    fn set_string(
        &mut self,
        db: DbIndex,
        key: &[u8],
        value: &[u8],
        ttl: TtlUpdate,
    ) -> StorageResult<()> {
        let old = self.live(db, key).and_then(|i| i.expire_at);
        let expire_at = match ttl {
            TtlUpdate::Clear => None,
            TtlUpdate::Keep => old,
            TtlUpdate::At(t) => Some(t),
        };
        self.dbs[db].insert(
            Bytes::copy_from_slice(key),
            Item {
                value: Data::Str(value.to_vec()),
                expire_at,
            },
        );
        Ok(())
    }
    fn update_string(
        &mut self,
        db: DbIndex,
        key: &[u8],
        create: bool,
        edit: &mut dyn FnMut(&mut Vec<u8>),
    ) -> StorageResult<bool> {
        if let Some(s) = self.string(db, key)? {
            edit(s);
            return Ok(true);
        }
        if !create {
            return Ok(false);
        }
        let mut value = Vec::new();
        edit(&mut value);
        self.dbs[db].insert(
            Bytes::copy_from_slice(key),
            Item {
                value: Data::Str(value),
                expire_at: None,
            },
        );
        Ok(true)
    }
    fn with_list(
        &mut self,
        db: DbIndex,
        key: &[u8],
        create: bool,
        body: &mut dyn FnMut(&mut dyn ListOps),
    ) -> StorageResult<bool> {
        let empty = || Data::List(Default::default());
        self.collection(db, key, create, empty, &mut |d, _| {
            if let Data::List(l) = d {
                body(l)
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
        let empty = || Data::Hash(Default::default());
        self.collection(db, key, create, empty, &mut |d, now| {
            if let Data::Hash(map) = d {
                body(&mut HashView { map, now })
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
        let empty = || Data::Set(Default::default());
        self.collection(db, key, create, empty, &mut |d, _| {
            if let Data::Set(s) = d {
                body(s)
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
        let empty = || Data::ZSet(Default::default());
        self.collection(db, key, create, empty, &mut |d, _| {
            if let Data::ZSet(z) = d {
                body(z)
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
        let empty = || Data::Stream(Box::default());
        self.collection(db, key, create, empty, &mut |d, _| {
            if let Data::Stream(s) = d {
                body(&mut **s)
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
        let Some(item) = self.live(src_db, src).cloned() else {
            return Ok(false);
        };
        self.dbs[src_db].remove(src);
        self.dbs[dst_db].insert(Bytes::copy_from_slice(dst), item);
        Ok(true)
    }
    fn copy(
        &mut self,
        src_db: DbIndex,
        src: &[u8],
        dst_db: DbIndex,
        dst: &[u8],
    ) -> StorageResult<bool> {
        let Some(item) = self.live(src_db, src).cloned() else {
            return Ok(false);
        };
        self.dbs[dst_db].insert(Bytes::copy_from_slice(dst), item);
        Ok(true)
    }
    fn touch(&mut self, db: DbIndex, key: &[u8]) -> StorageResult<bool> {
        Ok(self.live(db, key).is_some())
    }
    fn object_info(&mut self, db: DbIndex, key: &[u8]) -> StorageResult<Option<ObjectInfo>> {
        Ok(self.live(db, key).map(|i| ObjectInfo {
            encoding: i.value.encoding(),
            idle_ms: 0,
            freq: 0,
        }))
    }
    fn scan(&mut self, db: DbIndex, cursor: u64, count: usize) -> StorageResult<ScanPage> {
        let keys: Vec<Bytes> = self.dbs[db]
            .keys()
            .skip(cursor as usize)
            .take(count)
            .cloned()
            .collect();
        let next = cursor as usize + keys.len();
        let next_cursor = if next >= self.dbs[db].len() {
            0
        } else {
            next as u64
        };
        Ok(ScanPage { next_cursor, keys })
    }
    fn keys(
        &mut self,
        db: DbIndex,
        keep: &mut dyn FnMut(&[u8]) -> bool,
    ) -> StorageResult<Vec<Bytes>> {
        let now = self.now;
        let expired = &mut self.expired;
        self.dbs[db].retain(|k, i| {
            let live = i.expire_at.is_none_or(|t| t > now);
            if !live {
                expired.push((db, k.clone()));
            }
            live
        });
        Ok(self.dbs[db].keys().filter(|k| keep(k)).cloned().collect())
    }
    fn random_key(&mut self, db: DbIndex) -> StorageResult<Option<Bytes>> {
        let len = self.dbs[db].len();
        if len == 0 {
            return Ok(None);
        }
        let pick = rand::random::<usize>() % len;
        Ok(self.dbs[db].keys().nth(pick).cloned())
    }
    fn db_size(&mut self, db: DbIndex) -> StorageResult<DbStats> {
        let d = &self.dbs[db];
        Ok(DbStats {
            keys: d.len() as u64,
            expires: d.values().filter(|i| i.expire_at.is_some()).count() as u64,
        })
    }
    fn flush_db(&mut self, db: DbIndex) -> StorageResult<()> {
        self.dbs[db].clear();
        Ok(())
    }
    fn swap_db(&mut self, a: DbIndex, b: DbIndex) -> StorageResult<()> {
        self.dbs.swap(a, b);
        Ok(())
    }
    fn drain_expired(&mut self, visit: &mut dyn FnMut(DbIndex, &[u8])) {
        for (db, key) in self.expired.drain(..) {
            visit(db, &key);
        }
    }
}

impl StorageBackend for SimpleBackend {
    fn name(&self) -> &'static str {
        "simple"
    }
    fn databases(&self) -> usize {
        self.databases
    }
    fn atomic(&self, _scope: Scope<'_>, body: &mut dyn FnMut(&mut dyn Txn)) -> StorageResult<()> {
        let mut dbs = self.dbs.lock();
        let mut txn = SimpleTxn {
            dbs: &mut dbs,
            now: unix_ms(),
            expired: Vec::new(),
        };
        body(&mut txn);
        Ok(())
    }
    fn active_expire(&self, budget: usize) -> ExpireStats {
        self.active_expire_reporting(budget, &mut |_, _| {})
    }
    fn active_expire_reporting(
        &self,
        _budget: usize,
        on_expired: &mut dyn FnMut(DbIndex, &[u8]),
    ) -> ExpireStats {
        let now = unix_ms();
        let mut stats = ExpireStats::default();
        for (index, db) in self.dbs.lock().iter_mut().enumerate() {
            let before = db.len();
            db.retain(|key, i| {
                let live = i.expire_at.is_none_or(|t| t > now);
                if !live {
                    on_expired(index, key);
                }
                live
            });
            stats.expired += (before - db.len()) as u64;
            stats.sampled += before as u64;
            // Expired hash fields go too, and a hash left empty with them.
            for item in db.values_mut() {
                if let Data::Hash(map) = &mut item.value {
                    map.retain(|_, (_, t)| t.is_none_or(|t| t > now));
                }
            }
            db.retain(|_, i| !i.value.is_empty_collection());
        }
        stats
    }
    fn dataset_bytes(&self) -> u64 {
        let dbs = self.dbs.lock();
        dbs.iter()
            .flat_map(|d| d.iter())
            .map(|(k, i)| (k.len() + i.value.bytes()) as u64)
            .sum()
    }
    fn flush_to_disk(&self) -> StorageResult<()> {
        Ok(())
    }
}

/// An engine over a fresh [`SimpleBackend`] with default configuration.
pub fn engine() -> Engine {
    let config = Config::new();
    // No save rules: a SHUTDOWN in a unit test writes no dump.rdb.
    let _ = config.set_startup("save", "");
    Engine::new(Arc::new(SimpleBackend::new(16)), config)
}

/// A session registered with `engine`, as a new connection gets.
pub fn session(engine: &Engine) -> Session {
    Session::new(
        engine
            .clients
            .register("127.0.0.1:1".into(), "127.0.0.1:6379".into(), None),
    )
}

/// Runs one command given as words.
pub fn run(engine: &Engine, session: &mut Session, words: &[&str]) -> Frame {
    let argv: Vec<Bytes> = words
        .iter()
        .map(|w| Bytes::copy_from_slice(w.as_bytes()))
        .collect();
    engine.execute(session, &argv)
}
