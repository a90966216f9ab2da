//! One database's keys within one shard, with lazy expiry and the access bookkeeping
//! (LRU clock, LFU counter).

use ferrokv_core::storage::{DbIndex, StorageError, StorageResult, UnixMillis};

use crate::dense::Dense;
use crate::hash::hash_key;
use crate::table::{is_past, Entry, ExpireCursor, Loc, SegTable, LFU_INIT};
use crate::value::{SmallBytes, Value};

/// Redis' default `lfu-log-factor`.
const LFU_LOG_FACTOR: f64 = 10.0;
/// Redis' default `lfu-decay-time`, in seconds (one minute).
const LFU_DECAY_SECS: u32 = 60;

/// Where lookups record the keys lazy expiry removes (with their database), until
/// `Txn::drain_expired` reports them for `expired` keyspace events.
pub struct Expired<'a> {
    /// The database of the keys looked up.
    pub db: DbIndex,
    /// The scope's log.
    pub keys: &'a mut Vec<(DbIndex, SmallBytes)>,
    /// Leave expired keys in place (reported missing): clients are paused.
    pub keep: bool,
}

impl Expired<'_> {
    /// Records that `key` was removed as expired.
    #[cold]
    pub fn note(&mut self, key: &[u8]) {
        self.keys.push((self.db, SmallBytes::from_slice(key)));
    }
}

/// Keys of one database in one shard.
#[derive(Debug, Default)]
pub struct Db {
    /// Every key, with the expiries of the volatile ones.
    pub table: SegTable,
    /// Round-robin position of active expiry.
    pub expire_cursor: ExpireCursor,
    /// Keys of hashes that have (or had) fields with an expiry, for active field
    /// expiry. Stale names (deleted keys, hashes whose volatile fields are gone)
    /// are dropped when active expiry meets them.
    volatile_hashes: Dense<SmallBytes>,
    /// Round-robin position in `volatile_hashes`.
    volatile_hash_cursor: usize,
}

impl Db {
    /// An empty database.
    pub fn new() -> Db {
        Db::default()
    }

    /// Whether the entry at `loc` is past its expiry.
    #[inline]
    pub fn is_expired(&self, loc: Loc, now_ms: UnixMillis) -> bool {
        self.table.get(loc).is_volatile()
            && self
                .table
                .expire_of(loc)
                .is_some_and(|at| is_past(at, now_ms))
    }

    /// Finds a live key and its expiry; an expired key is removed, noted in
    /// `expired` and reported missing (lazy expiry).
    #[inline]
    pub fn lookup(
        &mut self,
        hash: u64,
        key: &[u8],
        now_ms: UnixMillis,
        expired: &mut Expired<'_>,
    ) -> Option<(Loc, Option<UnixMillis>)> {
        let loc = self.table.find(hash, key)?;
        if !self.table.get(loc).is_volatile() {
            return Some((loc, None));
        }
        match self.table.expire_of(loc) {
            Some(at) if is_past(at, now_ms) => {
                if !expired.keep {
                    self.table.remove(loc, hash);
                    expired.note(key);
                }
                None
            }
            at => Some((loc, at)),
        }
    }

    /// Inserts an absent key, with its expiry if any.
    pub fn insert(
        &mut self,
        hash: u64,
        entry: Entry,
        expire: Option<UnixMillis>,
    ) -> StorageResult<Loc> {
        self.table
            .insert(hash, entry, expire)
            .map_err(|_| StorageError::Io("more than 255 keys share one 64-bit hash".to_string()))
    }

    /// Approximate bytes used by this database's keys, values and indexes.
    pub fn memory_bytes(&self) -> usize {
        self.table.memory_bytes() + self.volatile_hashes.heap_bytes()
    }

    /// Records that the hash at `key` has volatile fields.
    #[inline]
    pub fn note_volatile_hash(&mut self, key: &[u8]) {
        if self.volatile_hashes.find(key).is_none() {
            self.volatile_hashes.push_new(SmallBytes::from_slice(key));
        }
    }

    /// Number of keys in the volatile-hash registry.
    #[cfg(test)]
    pub fn volatile_hash_count(&self) -> usize {
        self.volatile_hashes.len()
    }

    /// One step of active field expiry: visits registered hashes round robin,
    /// removing expired fields (and a hash left empty), for about `budget` field
    /// checks. Returns the work done (fields examined plus hashes visited). A
    /// registered key found expired itself is removed and noted in `expired`.
    pub fn expire_fields(
        &mut self,
        budget: usize,
        now_ms: UnixMillis,
        expired: &mut Expired<'_>,
    ) -> usize {
        let mut work = 0;
        let rounds = self.volatile_hashes.len();
        for _ in 0..rounds {
            let n = self.volatile_hashes.len();
            if work >= budget || n == 0 {
                break;
            }
            let i = self.volatile_hash_cursor % n;
            let key = self.volatile_hashes.get(i).clone();
            let h = hash_key(key.as_slice());
            work += 1;
            let mut keep = false;
            if let Some((loc, _)) = self.lookup(h, key.as_slice(), now_ms, expired) {
                let e = self.table.get_mut(loc);
                if let Value::Hash(hv) = &mut e.value {
                    let before = hv.heap_bytes();
                    let (examined, _) = hv.expire_step(now_ms, budget.saturating_sub(work).max(1));
                    work += examined;
                    let after = hv.heap_bytes();
                    let empty = hv.is_empty();
                    keep = hv.has_volatile();
                    self.table.heap_changed(before, after);
                    if empty {
                        self.table.remove(loc, h);
                    }
                }
            }
            if keep {
                self.volatile_hash_cursor = i + 1;
            } else {
                self.volatile_hashes.swap_remove(i);
                self.volatile_hash_cursor = i;
            }
        }
        work
    }
}

/// Small, fast PRNG (xorshift64*) for LFU increments and random sampling; each shard
/// owns one, so no shared state is touched on the hot path.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed (made odd, so never zero).
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    /// Next 64 random bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `0..n` (`n > 0`).
    #[inline]
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// Uniform in `[0, 1)`.
    #[inline]
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The LFU counter after decaying by the minutes elapsed since the last access.
#[inline]
pub fn decayed_freq(entry: &Entry, now_s: u32) -> u8 {
    let periods = now_s.saturating_sub(entry.lru) / LFU_DECAY_SECS;
    entry
        .freq
        .saturating_sub(u8::try_from(periods).unwrap_or(u8::MAX))
}

/// Records an access: decays and logarithmically increments the LFU counter (Redis'
/// `updateLFU`) and moves the LRU clock.
#[inline]
pub fn record_access(entry: &mut Entry, now_s: u32, rng: &mut Rng) {
    let mut counter = decayed_freq(entry, now_s);
    if counter < u8::MAX {
        let base = f64::from(counter.saturating_sub(LFU_INIT));
        if base == 0.0 || rng.unit() < 1.0 / (base * LFU_LOG_FACTOR + 1.0) {
            counter += 1;
        }
    }
    // Store only what changed: a read of a hot key then leaves its cache line clean,
    // so cores reading the same keys do not bounce it between them.
    if entry.freq != counter {
        entry.freq = counter;
    }
    if entry.lru != now_s {
        entry.lru = now_s;
    }
}
