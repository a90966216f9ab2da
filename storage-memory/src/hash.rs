//! Key hashing. One 64-bit hash per key decides everything: its top bits pick the
//! shard, the following bits the segment, the whole hash is the key's SCAN position,
//! and a remix of the whole hash is the probe hash inside the segment's table.

use std::hash::BuildHasher;
use std::sync::OnceLock;

use foldhash::fast::FixedState;

/// log2 of the number of shards.
pub const SHARD_BITS: u32 = 6;
/// Number of shards; each is behind its own lock.
pub const SHARDS: usize = 1 << SHARD_BITS;

/// The hasher state, seeded once per process so hashes differ between runs (making
/// collisions hard to provoke) but stay stable while the process lives.
pub fn hash_state() -> &'static FixedState {
    static STATE: OnceLock<FixedState> = OnceLock::new();
    STATE.get_or_init(|| {
        // std's RandomState carries per-process random keys; hashing a constant with
        // it yields a random seed without another dependency.
        let seed = std::collections::hash_map::RandomState::new().hash_one(0x5eed_u64);
        FixedState::with_seed(seed)
    })
}

/// The key's 64-bit hash.
#[inline]
pub fn hash_key(key: &[u8]) -> u64 {
    hash_state().hash_one(key)
}

/// Shard of a hash: its top bits, so shard order is hash order.
#[inline]
pub fn shard_of(hash: u64) -> usize {
    (hash >> (64 - SHARD_BITS)) as usize
}

/// The hash with the shard bits shifted out: the position inside the shard, left
/// aligned, whose top bits are the segment prefix.
#[inline]
pub fn local_of(hash: u64) -> u64 {
    hash << SHARD_BITS
}

/// The hash the in-segment table probes with. Keys of one segment share their top
/// bits, which hashbrown would use as control bytes, so the hash is remixed (a folded
/// multiply) to spread every bit over the whole word.
#[inline]
pub fn probe_hash(hash: u64) -> u64 {
    let m = u128::from(hash) * 0x9e37_79b9_7f4a_7c15_u128;
    (m as u64) ^ ((m >> 64) as u64)
}
