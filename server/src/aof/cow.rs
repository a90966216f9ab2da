//! A point-in-time dump of the keyspace without fork and without holding every key
//! for the whole walk (the base of a rewrite).
//!
//! At the rewrite's instant (inside a whole-keyspace scope, where the next increment
//! file also starts) a [`CowDump`] is installed as the engine's write observer. From
//! then on, a key is dumped at most once, whichever comes first:
//! - a write command about to change it dumps its current value (still the value of
//!   the instant, since every write after the instant passes here first), or records
//!   that it did not exist;
//! - the walk, one SCAN page per short whole-keyspace scope, dumps the keys no write
//!   has reached yet.
//!
//! A key is known by a 128-bit hash of (db, key) in `done`, so the memory kept is
//! about 20 bytes per key. Keys removed by expiry (not a command) are simply missing
//! from the base; their `DEL` is in the increment after it.

use std::collections::HashSet;
use std::hash::{BuildHasher, Hash, Hasher};

use ferrokv_core::propagate::WriteObserver;
use ferrokv_core::storage::{DbIndex, Scope, StorageBackend, StorageResult, Txn};
use parking_lot::Mutex;

use super::dump::dump_key;
use super::format::encode_parts;

/// Keys per walk step (each one brief whole-keyspace scope).
const PAGE: usize = 256;

/// The dumped commands waiting to be written, and the database they last selected.
#[derive(Default)]
struct Out {
    data: Vec<u8>,
    db: Option<DbIndex>,
    keys: u64,
}

/// The copy-on-write dump of one rewrite.
pub struct CowDump {
    databases: usize,
    seeds: (
        std::collections::hash_map::RandomState,
        std::collections::hash_map::RandomState,
    ),
    done: Mutex<HashSet<u128>>,
    out: Mutex<Out>,
    error: Mutex<Option<String>>,
}

impl CowDump {
    /// A dump over `databases` databases.
    pub fn new(databases: usize) -> CowDump {
        CowDump {
            databases,
            seeds: Default::default(),
            done: Mutex::new(HashSet::new()),
            out: Mutex::new(Out::default()),
            error: Mutex::new(None),
        }
    }

    fn id(&self, db: DbIndex, key: &[u8]) -> u128 {
        let half = |seed: &std::collections::hash_map::RandomState| {
            let mut h = seed.build_hasher();
            db.hash(&mut h);
            key.hash(&mut h);
            h.finish()
        };
        (u128::from(half(&self.seeds.0)) << 64) | u128::from(half(&self.seeds.1))
    }

    /// Dumps `key` of `db` as it is now, unless it was dumped (or found missing)
    /// before. Runs in a scope that holds the key.
    fn dump_once(&self, txn: &mut dyn Txn, db: DbIndex, key: &[u8]) {
        if !self.done.lock().insert(self.id(db, key)) {
            return;
        }
        let mut data = Vec::new();
        match dump_key(txn, db, key, &mut data) {
            Ok(false) => {}
            Ok(true) => {
                let mut out = self.out.lock();
                if out.db != Some(db) {
                    encode_parts(&mut out.data, &[b"SELECT", db.to_string().as_bytes()]);
                    out.db = Some(db);
                }
                out.data.extend_from_slice(&data);
                out.keys += 1;
            }
            Err(e) => *self.error.lock() = Some(format!("reading {key:?}: {e:?}")),
        }
    }

    /// Dumps every key of `db` not dumped yet, from `cursor` to the end, in one
    /// scope (a whole-keyspace write is about to run).
    fn dump_rest(&self, txn: &mut dyn Txn, db: DbIndex) -> StorageResult<()> {
        let mut cursor = 0;
        loop {
            let page = txn.scan(db, cursor, PAGE)?;
            for key in &page.keys {
                self.dump_once(txn, db, key);
            }
            cursor = page.next_cursor;
            if cursor == 0 {
                return Ok(());
            }
        }
    }

    /// The walk: one SCAN page per whole-keyspace scope; `flush` receives the dumped
    /// commands after each page (outside the scope).
    pub fn walk(
        &self,
        backend: &dyn StorageBackend,
        flush: &mut dyn FnMut(&[u8]) -> std::io::Result<()>,
    ) -> anyhow::Result<u64> {
        for db in 0..self.databases {
            let mut cursor = 0;
            loop {
                let mut failed = None;
                backend
                    .atomic(Scope::All, &mut |txn| match txn.scan(db, cursor, PAGE) {
                        Ok(page) => {
                            for key in &page.keys {
                                self.dump_once(txn, db, key);
                            }
                            cursor = page.next_cursor;
                        }
                        Err(e) => failed = Some(e),
                    })
                    .map_err(|e| anyhow::anyhow!("{e:?}"))?;
                if let Some(e) = failed {
                    anyhow::bail!("reading the keyspace: {e:?}");
                }
                self.flush_to(flush)?;
                if cursor == 0 {
                    break;
                }
            }
        }
        Ok(self.out.lock().keys)
    }

    /// Passes what was dumped so far to `flush`.
    pub fn flush_to(
        &self,
        flush: &mut dyn FnMut(&[u8]) -> std::io::Result<()>,
    ) -> anyhow::Result<()> {
        if let Some(e) = self.error.lock().take() {
            anyhow::bail!(e);
        }
        let data = std::mem::take(&mut self.out.lock().data);
        if !data.is_empty() {
            flush(&data)?;
        }
        Ok(())
    }
}

impl WriteObserver for CowDump {
    fn before_write(&self, txn: &mut dyn Txn, keys: &[&[u8]], whole_keyspace: bool) {
        if whole_keyspace {
            for db in 0..self.databases {
                if let Err(e) = self.dump_rest(txn, db) {
                    *self.error.lock() = Some(format!("reading the keyspace: {e:?}"));
                }
            }
            return;
        }
        // A command may write its keys in another database (MOVE, COPY ... DB).
        for key in keys {
            for db in 0..self.databases {
                self.dump_once(txn, db, key);
            }
        }
    }
}
