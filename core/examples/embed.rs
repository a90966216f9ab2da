//! Embedding the ferrokv engine with a backend of your own.
//!
//! A backend implements [`StorageBackend`] (a keyspace with atomic scopes). This one
//! wraps the crate's `SimpleBackend` and counts the scopes it runs, which is the shape
//! of any adapter: lock what the scope names, hand the engine a `Txn`, commit.
//! Run with `cargo run -p ferrokv-core --example embed`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use ferrokv_core::config::Config;
use ferrokv_core::storage::{ExpireStats, Scope, StorageBackend, StorageResult, Txn};
use ferrokv_core::testing::SimpleBackend;
use ferrokv_core::{Engine, Session};

/// A backend that counts the atomic scopes it runs.
struct CountingBackend {
    inner: SimpleBackend,
    scopes: AtomicU64,
}

impl StorageBackend for CountingBackend {
    fn name(&self) -> &'static str {
        "counting"
    }
    fn databases(&self) -> usize {
        self.inner.databases()
    }
    fn atomic(&self, scope: Scope<'_>, body: &mut dyn FnMut(&mut dyn Txn)) -> StorageResult<()> {
        self.scopes.fetch_add(1, Ordering::Relaxed);
        self.inner.atomic(scope, body)
    }
    fn active_expire(&self, budget: usize) -> ExpireStats {
        self.inner.active_expire(budget)
    }
    fn dataset_bytes(&self) -> u64 {
        self.inner.dataset_bytes()
    }
    fn flush_to_disk(&self) -> StorageResult<()> {
        self.inner.flush_to_disk()
    }
}

fn main() {
    let backend = Arc::new(CountingBackend {
        inner: SimpleBackend::new(16),
        scopes: AtomicU64::new(0),
    });
    let engine = Engine::new(backend.clone(), Config::new());
    let client = engine
        .clients
        .register("embedded".into(), "embedded".into(), None);
    let mut session = Session::new(client);

    for words in [
        &["SET", "greeting", "hello"][..],
        &["APPEND", "greeting", " world"],
        &["GET", "greeting"],
    ] {
        let argv: Vec<Bytes> = words
            .iter()
            .map(|w| Bytes::copy_from_slice(w.as_bytes()))
            .collect();
        println!(
            "{} -> {:?}",
            words.join(" "),
            engine.execute(&mut session, &argv)
        );
    }
    println!(
        "atomic scopes run: {}",
        backend.scopes.load(Ordering::Relaxed)
    );
}
