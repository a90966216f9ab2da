//! One database's keys within one shard: the key table plus the expires index of its
//! volatile keys, and the access bookkeeping (LRU clock, LFU counter).

use foldhash::fast::FixedState;
use indexmap::map::raw_entry_v1::RawEntryMut;
use indexmap::map::RawEntryApiV1;
use indexmap::IndexMap;

use ferrokv_core::storage::{StorageError, StorageResult, UnixMillis};

use crate::hash::{hash_key, hash_state};
use crate::table::{Entry, Loc, SegTable, LFU_INIT};
use crate::value::SmallBytes;

/// Redis' default `lfu-log-factor`.
const LFU_LOG_FACTOR: f64 = 10.0;
/// Redis' default `lfu-decay-time`, in seconds (one minute).
const LFU_DECAY_SECS: u32 = 60;

/// Keys of one database in one shard.
#[derive(Debug)]
pub struct Db {
    /// Every key.
    pub table: SegTable,
    /// Absolute expiry (Unix ms) of the volatile keys only. Its hash for a key equals
    /// [`hash_key`], so lookups reuse the hash already computed for the table.
    pub expires: IndexMap<SmallBytes, u64, FixedState>,
    /// Heap bytes of the keys copied into `expires`.
    expires_heap: usize,
    /// Round-robin position of active expiry in `expires`.
    pub expire_cursor: usize,
}

impl Default for Db {
    fn default() -> Self {
        Db::new()
    }
}

/// A key is expired once the clock is past its expiry time (Redis: `now > when`).
#[inline]
pub fn is_past(at: UnixMillis, now_ms: UnixMillis) -> bool {
    now_ms > at
}

impl Db {
    /// An empty database.
    pub fn new() -> Db {
        Db {
            table: SegTable::new(),
            expires: IndexMap::with_hasher(*hash_state()),
            expires_heap: 0,
            expire_cursor: 0,
        }
    }

    /// Expiry of a key, looked up with its precomputed hash.
    #[inline]
    pub fn expire_of(&self, hash: u64, key: &[u8]) -> Option<UnixMillis> {
        self.expires
            .raw_entry_v1()
            .from_key_hashed_nocheck(hash, key)
            .map(|(_, &at)| at)
    }

    /// Records an expiry in the index (the caller sets the entry's `volatile` flag).
    pub fn put_expire(&mut self, hash: u64, key: &[u8], at: UnixMillis) {
        match self
            .expires
            .raw_entry_mut_v1()
            .from_key_hashed_nocheck(hash, key)
        {
            RawEntryMut::Occupied(mut o) => {
                o.insert(at);
            }
            RawEntryMut::Vacant(v) => {
                let k = SmallBytes::from_slice(key);
                self.expires_heap += k.heap_bytes();
                v.insert_hashed_nocheck(hash, k, at);
            }
        }
    }

    /// Removes a key from the expires index.
    pub fn drop_expire(&mut self, hash: u64, key: &[u8]) {
        if let RawEntryMut::Occupied(o) = self
            .expires
            .raw_entry_mut_v1()
            .from_key_hashed_nocheck(hash, key)
        {
            let (k, _) = o.swap_remove_entry();
            self.expires_heap -= k.heap_bytes();
        }
    }

    /// Whether the entry at `loc` is volatile and past its expiry.
    #[inline]
    pub fn is_expired(&self, loc: Loc, hash: u64, key: &[u8], now_ms: UnixMillis) -> bool {
        self.table.get(loc).volatile
            && self
                .expire_of(hash, key)
                .is_some_and(|at| is_past(at, now_ms))
    }

    /// Finds a live key and its expiry; an expired key is removed and reported
    /// missing (lazy expiry).
    #[inline]
    pub fn lookup(
        &mut self,
        hash: u64,
        key: &[u8],
        now_ms: UnixMillis,
    ) -> Option<(Loc, Option<UnixMillis>)> {
        let loc = self.table.find(hash, key)?;
        if !self.table.get(loc).volatile {
            return Some((loc, None));
        }
        match self.expire_of(hash, key) {
            Some(at) if is_past(at, now_ms) => {
                self.remove(loc, hash, key);
                None
            }
            at => Some((loc, at)),
        }
    }

    /// Removes the entry at `loc` and its expiry.
    pub fn remove(&mut self, loc: Loc, hash: u64, key: &[u8]) -> Entry {
        let entry = self.table.remove(loc, hash);
        if entry.volatile {
            self.drop_expire(hash, key);
        }
        entry
    }

    /// Inserts an absent key, with its expiry if any.
    pub fn insert(
        &mut self,
        hash: u64,
        mut entry: Entry,
        expire: Option<UnixMillis>,
    ) -> StorageResult<Loc> {
        entry.volatile = expire.is_some();
        let key = entry.key.clone();
        let loc = self.table.insert(hash, entry).map_err(|_| {
            StorageError::Io("more than 255 keys share one 64-bit hash".to_string())
        })?;
        if let Some(at) = expire {
            self.put_expire(hash, key.as_slice(), at);
        }
        Ok(loc)
    }

    /// Removes the key at `index` of the expires index if it is past due; returns
    /// whether it was.
    pub fn expire_index_if_due(&mut self, index: usize, now_ms: UnixMillis) -> bool {
        let Some((key, &at)) = self.expires.get_index(index) else {
            return false;
        };
        if !is_past(at, now_ms) {
            return false;
        }
        let hash = hash_key(key.as_slice());
        if let Some(loc) = self.table.find(hash, key.as_slice()) {
            self.table.remove(loc, hash);
        }
        if let Some((k, _)) = self.expires.swap_remove_index(index) {
            self.expires_heap -= k.heap_bytes();
        }
        true
    }

    /// Approximate bytes used by this database's keys, values and indexes.
    pub fn memory_bytes(&self) -> usize {
        // indexmap: an entry (hash, key, value) plus an index slot (usize + control).
        let per_expire = 8 + std::mem::size_of::<SmallBytes>() + 8 + 9;
        self.table.memory_bytes() + self.expires.capacity() * per_expire + self.expires_heap
    }
}

/// Small, fast PRNG (xorshift64*) for LFU increments and random sampling; each shard
/// owns one, so no shared state is touched on the hot path.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a non-zero-ized seed.
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
    entry.freq = counter;
    entry.lru = now_s;
}
