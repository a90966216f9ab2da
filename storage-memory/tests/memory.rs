//! Bytes per key for a million small string keys (reported, not asserted: the number
//! is tracked by hand against redis-server's `used_memory_dataset`).

use bytes::Bytes;
use ferrokv_core::storage::{Scope, StorageBackend, TtlUpdate};
use ferrokv_storage_memory::MemoryBackend;

#[test]
fn bytes_per_key_million_small_strings() {
    const N: usize = 1_000_000;
    let backend = MemoryBackend::new(16);
    let empty = backend.dataset_bytes();
    let rss_before = rss_bytes();
    let batch = 1000;
    for start in (0..N).step_by(batch) {
        let keys: Vec<Bytes> = (start..start + batch)
            .map(|i| Bytes::from(format!("key:{i:07}")))
            .collect();
        backend
            .atomic(Scope::Keys(&keys), &mut |t| {
                for k in &keys {
                    t.set_string(0, k, b"value:0123", TtlUpdate::Clear)
                        .expect("set");
                }
            })
            .expect("atomic");
    }
    let size = {
        let mut s = 0;
        backend
            .atomic(Scope::All, &mut |t| s = t.db_size(0).expect("db_size").keys)
            .expect("atomic");
        s
    };
    assert_eq!(size, N as u64);
    let used = backend.dataset_bytes() - empty;
    println!(
        "memory backend: {N} keys `key:NNNNNNN` with 10-byte values: {used} bytes, {:.1} bytes/key",
        used as f64 / N as f64
    );
    let rss_after = rss_bytes();
    // The same keys made volatile: the cost of the expires index.
    let at = 4_000_000_000_000;
    for start in (0..N).step_by(batch) {
        let keys: Vec<Bytes> = (start..start + batch)
            .map(|i| Bytes::from(format!("key:{i:07}")))
            .collect();
        backend
            .atomic(Scope::Keys(&keys), &mut |t| {
                for k in &keys {
                    t.set_expire(0, k, Some(at)).expect("expire");
                }
            })
            .expect("atomic");
    }
    let volatile = backend.dataset_bytes() - empty - used;
    println!(
        "  with an expiry on every key: +{volatile} bytes, +{:.1} bytes/key",
        volatile as f64 / N as f64
    );
    if let (Some(a), Some(b)) = (rss_before, rss_after) {
        println!(
            "  process RSS grew {} bytes, {:.1} bytes/key (includes allocator overhead)",
            b.saturating_sub(a),
            b.saturating_sub(a) as f64 / N as f64
        );
    }
    assert!(used > 0);
}

/// Resident set size from /proc (Linux), to cross-check the estimate.
fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}
