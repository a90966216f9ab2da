//! Moving values between the storage traits and the RDB format: `DUMP` of one key,
//! `RESTORE` of one value, a whole snapshot written as a file, and a file loaded
//! into a backend.

use std::io::{Read, Write};

use bytes::Bytes;

use super::read::{Checksum, Item};
use super::write::{standard_aux, WriteOptions};
use super::{RdbError, RdbReader, RdbWriter, Value};
use crate::storage::{
    self, DbIndex, Scope, SnapshotSink, StorageBackend, StorageError, StorageResult, TtlUpdate,
    Txn, UnixMillis, ValueRef,
};

fn io_err(e: std::io::Error) -> StorageError {
    StorageError::Io(e.to_string())
}

/// The `DUMP` payload of `key`: value encoding, RDB version, CRC64. `None` if the
/// key does not exist.
pub fn dump_key(
    txn: &mut dyn Txn,
    db: DbIndex,
    key: &[u8],
    opts: WriteOptions,
) -> StorageResult<Option<Vec<u8>>> {
    let Some(meta) = txn.meta(db, key)? else {
        return Ok(None);
    };
    let opts = WriteOptions {
        checksum: true,
        ..opts
    };
    let out = storage::with_value(txn, db, key, meta.key_type, |v| {
        let mut w = RdbWriter::new(Vec::new(), opts);
        w.value(v)?;
        w.finish_payload()
    })?;
    out.transpose().map_err(io_err)
}

/// Stores `value` at `key` (replacing whatever is there) with `expire_at`. An
/// empty collection stores nothing, as Redis never keeps one.
pub fn store_value(
    txn: &mut dyn Txn,
    db: DbIndex,
    key: &[u8],
    value: &Value,
    expire_at: Option<UnixMillis>,
) -> StorageResult<()> {
    txn.delete(db, key)?;
    match value {
        Value::String(s) => {
            let ttl = expire_at.map_or(TtlUpdate::Clear, TtlUpdate::At);
            return txn.set_string(db, key, s, ttl);
        }
        Value::List(items) => {
            txn.with_list(db, key, true, &mut |ops| {
                for i in items {
                    ops.push(storage::End::Tail, i);
                }
            })?;
        }
        Value::Set(items) => {
            txn.with_set(db, key, true, &mut |ops| {
                for i in items {
                    ops.insert(i);
                }
            })?;
        }
        Value::ZSet(items) => {
            txn.with_zset(db, key, true, &mut |ops| {
                for (m, s) in items {
                    ops.insert(m, *s);
                }
            })?;
        }
        Value::Hash(fields) => {
            txn.with_hash(db, key, true, &mut |ops| {
                for (f, v, at) in fields {
                    ops.set(f, v);
                    if at.is_some() {
                        ops.set_field_expire(f, *at);
                    }
                }
            })?;
        }
    }
    if expire_at.is_some() {
        txn.set_expire(db, key, expire_at)?;
    }
    Ok(())
}

/// A [`SnapshotSink`] writing an RDB file.
pub struct RdbSaver<W: Write> {
    writer: RdbWriter<W>,
    current_db: Option<DbIndex>,
    keys: u64,
}

impl<W: Write> RdbSaver<W> {
    /// Starts a file on `out`: magic and Redis' aux fields.
    pub fn new(
        out: W,
        opts: WriteOptions,
        ctime_secs: u64,
        used_mem: u64,
        aof_base: bool,
    ) -> StorageResult<RdbSaver<W>> {
        let mut writer = RdbWriter::new(out, opts);
        writer
            .header(&standard_aux(ctime_secs, used_mem, aof_base))
            .map_err(io_err)?;
        Ok(RdbSaver {
            writer,
            current_db: None,
            keys: 0,
        })
    }

    /// Keys written so far.
    pub fn keys(&self) -> u64 {
        self.keys
    }

    /// Ends the file (EOF, CRC64) and returns the output and its size.
    pub fn finish(self) -> StorageResult<(W, u64)> {
        let size = self.writer.written() + 9; // EOF opcode and CRC64
        let w = self.writer.finish().map_err(io_err)?;
        Ok((w, size))
    }
}

impl<W: Write> SnapshotSink for RdbSaver<W> {
    fn begin_db(&mut self, db: DbIndex, keys: u64, expires: u64) -> StorageResult<()> {
        if self.current_db == Some(db) {
            return Ok(());
        }
        self.current_db = Some(db);
        self.writer.select_db(db, keys, expires).map_err(io_err)
    }

    fn key(
        &mut self,
        db: DbIndex,
        key: &[u8],
        expire_at: Option<UnixMillis>,
        value: ValueRef<'_>,
    ) -> StorageResult<()> {
        if self.current_db != Some(db) {
            self.current_db = Some(db);
            self.writer.select_db(db, 0, 0).map_err(io_err)?;
        }
        self.keys += 1;
        self.writer.key(key, expire_at, value).map_err(io_err)
    }
}

/// What loading a file found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoadStats {
    /// Keys stored.
    pub keys: u64,
    /// Keys skipped because they had already expired.
    pub expired: u64,
    /// Empty collections skipped.
    pub empty: u64,
    /// Function libraries met (not loaded: ferrokv has no functions yet).
    pub functions: u64,
    /// Aux fields, in file order.
    pub aux: Vec<(Bytes, Bytes)>,
    /// The checksum's state.
    pub checksum: Option<Checksum>,
}

/// Why a load failed.
#[derive(Debug)]
pub enum LoadError {
    /// The file is unreadable or corrupt.
    Rdb(RdbError),
    /// The backend refused a write.
    Storage(StorageError),
    /// The CRC64 does not match.
    Checksum {
        /// Stored in the file.
        stored: u64,
        /// Computed from the data.
        computed: u64,
    },
    /// A key names a database beyond `databases`.
    Database(usize),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Rdb(e) => write!(f, "{e}"),
            LoadError::Storage(StorageError::Io(e)) => write!(f, "storage error: {e}"),
            LoadError::Storage(StorageError::WrongType) => write!(f, "storage error"),
            LoadError::Checksum { stored, computed } => write!(
                f,
                "Wrong RDB checksum expected: ({computed:x}) got: ({stored:x})"
            ),
            LoadError::Database(db) => write!(f, "FATAL: Data file was created with a Redis server configured to handle more than {} databases. Exiting (db {db})", db + 1),
        }
    }
}

impl std::error::Error for LoadError {}

/// Keys stored per atomic scope while loading.
const LOAD_BATCH: usize = 512;

/// Loads an RDB file from `input` into `backend`, adding to what it holds (keys of
/// the same name are replaced). Keys already expired at `now` are skipped, as a
/// Redis master does. A checksum mismatch fails the load when `verify` is set.
pub fn load(
    backend: &dyn StorageBackend,
    input: impl Read,
    now: UnixMillis,
    verify: bool,
) -> Result<LoadStats, LoadError> {
    let mut reader = RdbReader::open(input).map_err(LoadError::Rdb)?;
    let mut stats = LoadStats::default();
    let mut batch: Vec<super::read::KeyEntry> = Vec::with_capacity(LOAD_BATCH);
    loop {
        match reader.next_item().map_err(LoadError::Rdb)? {
            Item::Aux { key, value } => stats.aux.push((key, value)),
            Item::Function(_) => stats.functions += 1,
            Item::SelectDb(db) if db >= backend.databases() => return Err(LoadError::Database(db)),
            Item::SelectDb(_) | Item::ResizeDb { .. } | Item::ModuleAux => {}
            Item::Key(entry) => {
                if entry.expire_at.is_some_and(|at| at <= now) {
                    stats.expired += 1;
                    continue;
                }
                if is_empty(&entry.value) {
                    stats.empty += 1;
                    continue;
                }
                batch.push(entry);
                if batch.len() == LOAD_BATCH {
                    stats.keys += store_batch(backend, &mut batch)?;
                }
            }
            Item::Eof(checksum) => {
                stats.keys += store_batch(backend, &mut batch)?;
                if let (true, Checksum::Mismatch { stored, computed }) = (verify, checksum) {
                    return Err(LoadError::Checksum { stored, computed });
                }
                stats.checksum = Some(checksum);
                return Ok(stats);
            }
        }
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::String(_) => false,
        Value::List(v) | Value::Set(v) => v.is_empty(),
        Value::ZSet(v) => v.is_empty(),
        Value::Hash(v) => v.is_empty(),
    }
}

fn store_batch(
    backend: &dyn StorageBackend,
    batch: &mut Vec<super::read::KeyEntry>,
) -> Result<u64, LoadError> {
    if batch.is_empty() {
        return Ok(0);
    }
    let keys: Vec<Bytes> = batch.iter().map(|e| e.key.clone()).collect();
    let mut result = Ok(());
    backend
        .atomic(Scope::Keys(&keys), &mut |txn| {
            result = batch
                .iter()
                .try_for_each(|e| store_value(txn, e.db, &e.key, &e.value, e.expire_at));
        })
        .map_err(LoadError::Storage)?;
    result.map_err(LoadError::Storage)?;
    let n = batch.len() as u64;
    batch.clear();
    Ok(n)
}

/// Reads the value at `key` into an owned [`Value`] with its expiry (tests,
/// comparisons, the AOF rewrite of a single key). `None` if the key is missing.
pub fn export_value(
    txn: &mut dyn Txn,
    db: DbIndex,
    key: &[u8],
) -> StorageResult<Option<(Value, Option<UnixMillis>)>> {
    let Some(meta) = txn.meta(db, key)? else {
        return Ok(None);
    };
    let value = storage::with_value(txn, db, key, meta.key_type, owned)?;
    Ok(value.map(|v| (v, meta.expire_at)))
}

/// Copies a value out of its ops.
pub fn owned(v: ValueRef<'_>) -> Value {
    let b = Bytes::copy_from_slice;
    match v {
        ValueRef::String(s) => Value::String(b(s)),
        ValueRef::List(ops) => {
            let mut out = Vec::new();
            ops.iter(0, false, &mut |_, e| {
                out.push(b(e));
                true
            });
            Value::List(out)
        }
        ValueRef::Set(ops) => {
            let mut out = Vec::new();
            ops.for_each(&mut |e| {
                out.push(b(e));
                true
            });
            Value::Set(out)
        }
        ValueRef::ZSet(ops) => {
            let mut out = Vec::new();
            ops.range_by_rank(0, false, &mut |m, s| {
                out.push((b(m), s));
                true
            });
            Value::ZSet(out)
        }
        ValueRef::Hash(ops) => {
            let mut out = Vec::new();
            ops.for_each_expiring(&mut |f, v, at| {
                out.push((b(f), b(v), at));
                true
            });
            Value::Hash(out)
        }
    }
}

impl Value {
    /// The value with its unordered collections sorted, so two equal values compare
    /// equal whatever order their backends iterate in.
    pub fn normalized(mut self) -> Value {
        match &mut self {
            Value::Set(v) => v.sort(),
            Value::ZSet(v) => v.sort_by(|a, b| a.0.cmp(&b.0)),
            Value::Hash(v) => v.sort_by(|a, b| a.0.cmp(&b.0)),
            Value::String(_) | Value::List(_) => {}
        }
        self
    }
}

#[cfg(test)]
#[path = "store/tests.rs"]
mod tests;
