//! Server-wide counters reported by `INFO stats`.

use std::sync::atomic::{AtomicU64, Ordering};

/// Monotonic counters, updated with relaxed atomics from every connection.
#[derive(Debug, Default)]
pub struct Stats {
    /// `total_connections_received`.
    pub connections_received: AtomicU64,
    /// `rejected_connections` (over `maxclients`).
    pub rejected_connections: AtomicU64,
    /// `total_commands_processed`.
    pub commands_processed: AtomicU64,
    /// `keyspace_hits`.
    pub keyspace_hits: AtomicU64,
    /// `keyspace_misses`.
    pub keyspace_misses: AtomicU64,
    /// `expired_keys` (removed by the active cycle).
    pub expired_keys: AtomicU64,
    /// `total_net_input_bytes`.
    pub net_input_bytes: AtomicU64,
    /// `total_net_output_bytes`.
    pub net_output_bytes: AtomicU64,
    /// `total_error_replies`.
    pub error_replies: AtomicU64,
}

impl Stats {
    /// Adds `n` to a counter.
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// Reads a counter.
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    /// Counts a key lookup as a hit or a miss.
    pub fn lookup(&self, hit: bool) {
        let c = if hit {
            &self.keyspace_hits
        } else {
            &self.keyspace_misses
        };
        c.fetch_add(1, Ordering::Relaxed);
    }
}
