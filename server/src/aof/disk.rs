//! `appendfsync` on the disk backend, which is durable through RocksDB's write-ahead
//! log and needs no AOF files:
//! - `always`: a reply that follows a write waits until the log is synced. The
//!   backend is installed as a propagation sink only to learn which batches wrote
//!   (it keeps nothing); a syncer thread syncs the log once for every batch that
//!   asked meanwhile (group commit across clients), and a batch waits for a sync
//!   that began after it committed.
//! - `everysec`: the syncer syncs the log once a second.
//! - `no`: the log is written on every commit and synced by the OS (and at shutdown).

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use ferrokv_core::propagate::{AofControl, DurableWait, Propagated, PropagationSink};
use ferrokv_core::Engine;
use parking_lot::{Condvar, Mutex};

use super::FsyncPolicy;

/// The disk backend's `appendfsync` controls.
pub struct DiskDurability {
    me: Weak<DiskDurability>,
    engine: Weak<Engine>,
    policy: AtomicU8,
    /// Sync requests made so far (each batch that wrote, under `always`).
    requested: AtomicU64,
    /// The highest request a finished sync covered.
    synced: tokio::sync::watch::Sender<u64>,
    wake: Condvar,
    wake_lock: Mutex<bool>,
    /// Units fed (a sink must return positions; any non-zero one means "wrote").
    fed: AtomicU64,
}

impl DiskDurability {
    /// Installs the controls on `engine` and starts the syncer thread, which ends
    /// with the engine.
    pub fn start(engine: &Arc<Engine>) -> Arc<DiskDurability> {
        let (synced, _) = tokio::sync::watch::channel(0);
        let me = Arc::new_cyclic(|me| DiskDurability {
            me: me.clone(),
            engine: Arc::downgrade(engine),
            policy: AtomicU8::new(FsyncPolicy::from_config(&engine.config).code()),
            requested: AtomicU64::new(0),
            synced,
            wake: Condvar::new(),
            wake_lock: Mutex::new(false),
            fed: AtomicU64::new(0),
        });
        engine.propagation.set_control(me.clone());
        me.refresh();
        let weak = Arc::downgrade(&me);
        let _ = std::thread::Builder::new()
            .name("wal-sync".into())
            .spawn(move || sync_loop(weak));
        me
    }

    fn policy(&self) -> FsyncPolicy {
        FsyncPolicy::from_code(self.policy.load(Ordering::Relaxed))
    }

    fn wake_syncer(&self) {
        *self.wake_lock.lock() = true;
        self.wake.notify_one();
    }
}

/// Syncs the write-ahead log: on request under `always`, once a second under
/// `everysec`.
fn sync_loop(me: Weak<DiskDurability>) {
    let mut since_sync = Duration::ZERO;
    loop {
        let Some(d) = me.upgrade() else { return };
        let policy = d.policy();
        let wait = Duration::from_millis(if policy == FsyncPolicy::Always {
            100
        } else {
            1000
        });
        let woken = {
            let mut pending = d.wake_lock.lock();
            if !*pending {
                d.wake.wait_for(&mut pending, wait);
            }
            std::mem::take(&mut *pending)
        };
        since_sync += if woken { Duration::ZERO } else { wait };
        let Some(engine) = d.engine.upgrade() else {
            return;
        };
        let due = match policy {
            FsyncPolicy::Always => d.requested.load(Ordering::Acquire) > *d.synced.borrow(),
            FsyncPolicy::EverySec => since_sync >= Duration::from_millis(1000),
            FsyncPolicy::No => false,
        };
        if !due {
            continue;
        }
        // Requests made before the sync starts are covered by it.
        let covered = d.requested.load(Ordering::Acquire);
        if let Err(e) = engine.backend().flush_to_disk() {
            eprintln!("syncing the write-ahead log failed: {e:?}");
        }
        since_sync = Duration::ZERO;
        d.synced.send_replace(covered);
    }
}

impl PropagationSink for DiskDurability {
    fn feed(&self, _unit: &[Propagated]) -> u64 {
        self.fed.fetch_add(1, Ordering::Relaxed) + 1
    }
}

impl AofControl for DiskDurability {
    fn rewrite(&self) -> Result<String, String> {
        Err("the disk backend keeps no append only file to rewrite".into())
    }

    fn set_enabled(&self, _on: bool) -> Result<(), String> {
        // The disk backend is always durable; `appendonly` changes nothing on it.
        Ok(())
    }

    fn info(&self) -> Vec<(&'static str, String)> {
        let enabled = self
            .engine
            .upgrade()
            .is_some_and(|e| e.config.get("appendonly").as_deref() == Some("yes"));
        let mut fields: Vec<(&'static str, String)> = vec![
            ("aof_enabled", u8::from(enabled).to_string()),
            ("aof_rewrite_in_progress", "0".into()),
            ("aof_rewrite_scheduled", "0".into()),
            ("aof_last_rewrite_time_sec", "-1".into()),
            ("aof_current_rewrite_time_sec", "-1".into()),
            ("aof_last_bgrewrite_status", "ok".into()),
            ("aof_rewrites", "0".into()),
            ("aof_rewrites_consecutive_failures", "0".into()),
            ("aof_last_write_status", "ok".into()),
            ("aof_last_cow_size", "0".into()),
            ("module_fork_in_progress", "0".into()),
            ("module_fork_last_cow_size", "0".into()),
        ];
        if enabled {
            for name in [
                "aof_current_size",
                "aof_base_size",
                "aof_pending_rewrite",
                "aof_buffer_length",
                "aof_pending_bio_fsync",
                "aof_delayed_fsync",
            ] {
                fields.push((name, "0".into()));
            }
        }
        fields
    }

    /// Installs the counting sink only under `always`, so the other policies cost
    /// the write path nothing.
    fn refresh(&self) {
        let Some(engine) = self.engine.upgrade() else {
            return;
        };
        let policy = FsyncPolicy::from_config(&engine.config);
        self.policy.store(policy.code(), Ordering::Relaxed);
        let sink: Option<Arc<dyn PropagationSink>> = match (policy, self.me.upgrade()) {
            (FsyncPolicy::Always, Some(me)) => Some(me),
            _ => None,
        };
        if sink.is_some() != engine.propagation.active() {
            engine.propagation.set_sink(sink);
        }
        self.wake_syncer();
    }

    fn durable(&self, _position: u64) -> Option<DurableWait> {
        if self.policy() != FsyncPolicy::Always {
            return None;
        }
        let ticket = self.requested.fetch_add(1, Ordering::AcqRel) + 1;
        self.wake_syncer();
        let mut rx = self.synced.subscribe();
        Some(Box::pin(async move {
            let _ = rx.wait_for(|s| *s >= ticket).await;
        }))
    }
}
