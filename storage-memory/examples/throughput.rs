//! Rough single-command throughput of the memory backend: one scope per GET or SET, as
//! the server runs them, over random keys `key:NNNNNNNNNNNN`.
//! `cargo run --release -p ferrokv-storage-memory --example throughput [threads] [keys]`.

use std::time::Instant;

use bytes::Bytes;
use ferrokv_core::storage::{Scope, StorageBackend, TtlUpdate};
use ferrokv_storage_memory::MemoryBackend;

/// The key for `i`, built like a server builds argv (a fresh `Bytes` per command).
fn key(i: u64) -> Bytes {
    let mut buf = *b"key:000000000000";
    let mut n = i;
    for b in buf[4..].iter_mut().rev() {
        *b = b'0' + (n % 10) as u8;
        n /= 10;
    }
    Bytes::copy_from_slice(&buf)
}

fn next(x: &mut u64) -> u64 {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    *x
}

fn main() {
    let mut args = std::env::args().skip(1);
    let threads: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(2);
    let keys: u64 = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let ops = 2_000_000;

    // Baseline: a std HashMap read on one thread, to tell memory latency from overhead.
    let map: std::collections::HashMap<Vec<u8>, Vec<u8>> = (0..keys)
        .map(|i| (key(i).to_vec(), b"xxx".to_vec()))
        .collect();
    let start = Instant::now();
    let mut x = 1u64;
    for _ in 0..ops {
        let k = key(next(&mut x) % keys);
        std::hint::black_box(map.get(&k[..]).map(|v| Bytes::copy_from_slice(v)));
    }
    println!(
        "baseline std HashMap GET, 1 thread: {:.0} ns/op",
        start.elapsed().as_secs_f64() * 1e9 / ops as f64
    );
    drop(map);

    let backend = MemoryBackend::new(16);
    for (phase, set) in [("SET", true), ("GET", false)] {
        let start = Instant::now();
        std::thread::scope(|s| {
            for th in 0..threads {
                let backend = &backend;
                s.spawn(move || {
                    let mut x = th as u64 * 0x9e37_79b9 + 1;
                    for _ in 0..ops {
                        let k = key(next(&mut x) % keys);
                        let scope = std::slice::from_ref(&k);
                        backend
                            .atomic(Scope::Keys(scope), &mut |t| {
                                if set {
                                    t.set_string(0, &k, b"xxx", TtlUpdate::Clear).ok();
                                } else {
                                    std::hint::black_box(t.get_string(0, &k).ok());
                                }
                            })
                            .ok();
                    }
                });
            }
        });
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{phase}: {threads} threads, {keys} keys: {:.2} M ops/s ({:.0} ns/op/thread)",
            (threads * ops) as f64 / secs / 1e6,
            secs * 1e9 / ops as f64
        );
    }
}
