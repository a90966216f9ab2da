//! RDB snapshots of a running engine: `SAVE`, `BGSAVE`, the `save` rules, the
//! dirty counter and the state `INFO persistence` reports.
//!
//! A save walks [`StorageBackend::snapshot`] into an [`RdbSaver`] writing
//! `temp-<pid>-<n>.rdb` in `dir`, syncs it and renames it over `dbfilename`, as
//! Redis does. `BGSAVE` runs the same on a thread of its own: there is no fork, so
//! the snapshot's point-in-time guarantee is the backend's (see
//! `StorageBackend::snapshot`).

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use ferrokv_protocol::Frame;

use crate::config::Config;
use crate::engine::Engine;
use crate::rdb::store::{LoadStats, RdbSaver};
use crate::rdb::write::WriteOptions;
use crate::storage::{EncodingLimits, StorageBackend};

/// Seconds before a failed background save may be retried by the save rules
/// (Redis' `CONFIG_BGSAVE_RETRY_DELAY`).
const RETRY_DELAY_SECS: u64 = 5;

/// Longest a `BGSAVE` waits for its snapshot to fix its point in time.
const START_WAIT: std::time::Duration = std::time::Duration::from_millis(200);

/// Redis' MISCONF error, refused to writes after a failed background save while
/// `stop-writes-on-bgsave-error` is on.
pub const MISCONF: &str = "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Snapshot state shared by the engine, its commands and background saves.
#[derive(Debug)]
pub struct Persistence {
    /// Changes since the last successful save (`rdb_changes_since_last_save`).
    pub dirty: AtomicU64,
    dirty_at_start: AtomicU64,
    last_save: AtomicU64,
    last_ok: AtomicBool,
    in_progress: AtomicBool,
    scheduled: AtomicBool,
    last_bgsave_secs: AtomicI64,
    started: parking_lot::Mutex<Option<Instant>>,
    last_try: AtomicU64,
    saves: AtomicU64,
    keys_processed: AtomicU64,
    keys_total: AtomicU64,
    loaded_keys: AtomicU64,
    loaded_expired: AtomicU64,
    temp_counter: AtomicU64,
}

impl Default for Persistence {
    fn default() -> Self {
        Persistence {
            dirty: AtomicU64::new(0),
            dirty_at_start: AtomicU64::new(0),
            last_save: AtomicU64::new(now_secs()),
            last_ok: AtomicBool::new(true),
            in_progress: AtomicBool::new(false),
            scheduled: AtomicBool::new(false),
            last_bgsave_secs: AtomicI64::new(-1),
            started: parking_lot::Mutex::new(None),
            last_try: AtomicU64::new(0),
            saves: AtomicU64::new(0),
            keys_processed: AtomicU64::new(0),
            keys_total: AtomicU64::new(0),
            loaded_keys: AtomicU64::new(0),
            loaded_expired: AtomicU64::new(0),
            temp_counter: AtomicU64::new(0),
        }
    }
}

/// Values `INFO persistence` reports about snapshots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersistenceInfo {
    /// `rdb_changes_since_last_save`.
    pub changes_since_last_save: u64,
    /// `rdb_bgsave_in_progress`.
    pub bgsave_in_progress: bool,
    /// `rdb_last_save_time`.
    pub last_save_time: u64,
    /// `rdb_last_bgsave_status` is `ok`.
    pub last_bgsave_ok: bool,
    /// `rdb_last_bgsave_time_sec`.
    pub last_bgsave_time_sec: i64,
    /// `rdb_current_bgsave_time_sec`.
    pub current_bgsave_time_sec: i64,
    /// `rdb_saves`.
    pub saves: u64,
    /// `current_save_keys_processed`.
    pub keys_processed: u64,
    /// `current_save_keys_total`.
    pub keys_total: u64,
    /// `rdb_last_load_keys_loaded`.
    pub loaded_keys: u64,
    /// `rdb_last_load_keys_expired`.
    pub loaded_expired: u64,
}

/// Why a save could not start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SaveError {
    /// A background save is running.
    InProgress,
    /// Writing the file failed.
    Failed(String),
}

impl Persistence {
    /// Counts `n` changes to the dataset.
    pub fn add_dirty(&self, n: u64) {
        self.dirty.fetch_add(n, Ordering::Relaxed);
    }

    /// Unix time of the last successful save (`LASTSAVE`).
    pub fn last_save(&self) -> u64 {
        self.last_save.load(Ordering::Relaxed)
    }

    /// Whether a background save is running.
    pub fn in_progress(&self) -> bool {
        self.in_progress.load(Ordering::Acquire)
    }

    /// Whether writes must be refused with `MISCONF`.
    pub fn writes_refused(&self, config: &Config) -> bool {
        !self.last_ok.load(Ordering::Relaxed)
            && config.get_i64("stop-writes-on-bgsave-error") == 1
            && !save_rules(config).is_empty()
    }

    /// Records the result of loading a file at start-up.
    pub fn note_loaded(&self, stats: &LoadStats) {
        self.loaded_keys.store(stats.keys, Ordering::Relaxed);
        self.loaded_expired.store(stats.expired, Ordering::Relaxed);
    }

    /// The fields of `INFO persistence` about snapshots.
    pub fn info(&self) -> PersistenceInfo {
        let current = self
            .started
            .lock()
            .map_or(-1, |t| t.elapsed().as_secs() as i64);
        PersistenceInfo {
            changes_since_last_save: self.dirty.load(Ordering::Relaxed),
            bgsave_in_progress: self.in_progress(),
            last_save_time: self.last_save(),
            last_bgsave_ok: self.last_ok.load(Ordering::Relaxed),
            last_bgsave_time_sec: self.last_bgsave_secs.load(Ordering::Relaxed),
            current_bgsave_time_sec: current,
            saves: self.saves.load(Ordering::Relaxed),
            keys_processed: self.keys_processed.load(Ordering::Relaxed),
            keys_total: self.keys_total.load(Ordering::Relaxed),
            loaded_keys: self.loaded_keys.load(Ordering::Relaxed),
            loaded_expired: self.loaded_expired.load(Ordering::Relaxed),
        }
    }

    fn begin(&self) {
        self.dirty_at_start
            .store(self.dirty.load(Ordering::Relaxed), Ordering::Relaxed);
        self.last_try.store(now_secs(), Ordering::Relaxed);
        self.keys_processed.store(0, Ordering::Relaxed);
        self.keys_total.store(0, Ordering::Relaxed);
    }

    fn end(&self, result: &Result<u64, String>) {
        match result {
            Ok(_) => {
                let before = self.dirty_at_start.load(Ordering::Relaxed);
                let _ = self
                    .dirty
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |d| {
                        Some(d.saturating_sub(before))
                    });
                self.last_save.store(now_secs(), Ordering::Relaxed);
                self.saves.fetch_add(1, Ordering::Relaxed);
                self.last_ok.store(true, Ordering::Relaxed);
            }
            Err(_) => self.last_ok.store(false, Ordering::Relaxed),
        }
    }
}

/// The `save` rules as (seconds, changes) pairs; empty when saving is off.
pub fn save_rules(config: &Config) -> Vec<(u64, u64)> {
    let value = config.get("save").unwrap_or_default();
    let nums: Vec<u64> = value
        .split_whitespace()
        .filter_map(|n| n.parse().ok())
        .collect();
    nums.chunks_exact(2).map(|c| (c[0], c[1])).collect()
}

/// The encoding options `rdbcompression`, `rdbchecksum` and the collection
/// thresholds select.
pub fn write_options(config: &Config) -> WriteOptions {
    let size = |name: &str| config.get_i64(name).max(0) as usize;
    WriteOptions {
        compress: config.get_i64("rdbcompression") == 1,
        checksum: config.get_i64("rdbchecksum") == 1,
        limits: EncodingLimits {
            hash_max_listpack_entries: size("hash-max-listpack-entries"),
            hash_max_listpack_value: size("hash-max-listpack-value"),
            set_max_intset_entries: size("set-max-intset-entries"),
            zset_max_listpack_entries: size("zset-max-listpack-entries"),
            zset_max_listpack_value: size("zset-max-listpack-value"),
            list_max_listpack_size: config.get_i64("list-max-listpack-size"),
        },
    }
}

/// `dir` + `dbfilename`.
pub fn rdb_path(config: &Config) -> PathBuf {
    let dir = config.get("dir").unwrap_or_else(|| ".".into());
    let file = config
        .get("dbfilename")
        .unwrap_or_else(|| "dump.rdb".into());
    Path::new(&dir).join(file)
}

/// Everything a save needs, captured when it starts so that a background save
/// does not see later `CONFIG SET`s.
struct SaveJob {
    backend: Arc<dyn StorageBackend>,
    state: Arc<Persistence>,
    opts: WriteOptions,
    path: PathBuf,
    temp: PathBuf,
    used_mem: u64,
}

impl SaveJob {
    fn new(engine: &Engine) -> SaveJob {
        let state = engine.persistence.clone();
        let path = rdb_path(&engine.config);
        let n = state.temp_counter.fetch_add(1, Ordering::Relaxed);
        let temp = path.with_file_name(format!("temp-{}-{n}.rdb", std::process::id()));
        SaveJob {
            backend: engine.backend_arc(),
            state,
            opts: write_options(&engine.config),
            path,
            temp,
            used_mem: engine.dataset_bytes(),
        }
    }

    /// Writes the snapshot, calling `started` when its point in time is fixed;
    /// returns the number of keys.
    fn write(&self, started: &mut dyn FnMut()) -> Result<u64, String> {
        let file = File::create(&self.temp).map_err(|e| {
            format!(
                "Failed opening the temp RDB file {} (in server root dir {}) for saving: {e}",
                self.temp.display(),
                self.path
                    .parent()
                    .map_or(".".into(), |p| p.display().to_string())
            )
        })?;
        let out = BufWriter::with_capacity(1 << 20, file);
        let result = (|| {
            let mut saver = RdbSaver::new(out, self.opts, now_secs(), self.used_mem, false)
                .map_err(|e| format!("{e:?}"))?;
            self.backend
                .snapshot(&mut saver, started)
                .map_err(|e| format!("{e:?}"))?;
            let keys = saver.keys();
            let (out, _) = saver.finish().map_err(|e| format!("{e:?}"))?;
            let file = out.into_inner().map_err(|e| e.to_string())?;
            file.sync_all().map_err(|e| e.to_string())?;
            std::fs::rename(&self.temp, &self.path).map_err(|e| e.to_string())?;
            Ok(keys)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&self.temp);
        }
        result
    }

    fn run(self, started: &mut dyn FnMut()) -> Result<u64, String> {
        let result = self.write(started);
        if let Ok(keys) = &result {
            self.state.keys_processed.store(*keys, Ordering::Relaxed);
        }
        self.state.end(&result);
        result
    }
}

/// `SAVE`: writes the snapshot now, on this thread.
pub fn save(engine: &Engine) -> Result<u64, SaveError> {
    let state = &engine.persistence;
    if state.in_progress() {
        return Err(SaveError::InProgress);
    }
    state.begin();
    SaveJob::new(engine)
        .run(&mut || {})
        .map_err(SaveError::Failed)
}

/// `BGSAVE`: starts a save on a thread of its own; returns at once.
pub fn bgsave(engine: &Engine) -> Result<(), SaveError> {
    let state = engine.persistence.clone();
    if state
        .in_progress
        .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
        .is_err()
    {
        return Err(SaveError::InProgress);
    }
    state.scheduled.store(false, Ordering::Relaxed);
    state.begin();
    *state.started.lock() = Some(Instant::now());
    let job = SaveJob::new(engine);
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let spawned = std::thread::Builder::new()
        .name("ferrokv-bgsave".into())
        .spawn(move || {
            let state = job.state.clone();
            let started = Instant::now();
            let result = job.run(&mut || {
                let _ = tx.send(());
            });
            if let Err(e) = &result {
                eprintln!("Background saving error: {e}");
            }
            state
                .last_bgsave_secs
                .store(started.elapsed().as_secs() as i64, Ordering::Relaxed);
            *state.started.lock() = None;
            state.in_progress.store(false, Ordering::Release);
        });
    if let Err(e) = spawned {
        engine
            .persistence
            .in_progress
            .store(false, Ordering::Release);
        *engine.persistence.started.lock() = None;
        return Err(SaveError::Failed(e.to_string()));
    }
    // Reply once the snapshot's point in time is fixed. The wait is bounded: a
    // backend that cannot start while this thread holds locks (a disk backend's
    // pipelined group) starts right after, with this burst's writes included.
    let _ = rx.recv_timeout(START_WAIT);
    Ok(())
}

/// `BGSAVE SCHEDULE` while a save runs: start another when it ends.
pub fn schedule_bgsave(engine: &Engine) {
    engine.persistence.scheduled.store(true, Ordering::Relaxed);
}

/// Called about once a second: starts a scheduled background save, or one a `save`
/// rule asks for (a failed save is retried after a delay, as Redis does).
pub fn cron(engine: &Engine) {
    let state = &engine.persistence;
    if state.in_progress() {
        return;
    }
    if state.scheduled.load(Ordering::Relaxed) {
        let _ = bgsave(engine);
        return;
    }
    let now = now_secs();
    let dirty = state.dirty.load(Ordering::Relaxed);
    let since_save = now.saturating_sub(state.last_save());
    let may_retry = state.last_ok.load(Ordering::Relaxed)
        || now.saturating_sub(state.last_try.load(Ordering::Relaxed)) > RETRY_DELAY_SECS;
    let due = save_rules(&engine.config)
        .into_iter()
        .any(|(secs, changes)| dirty >= changes && since_save >= secs);
    if due && may_retry {
        let _ = bgsave(engine);
    }
}

/// Waits for a running background save to end (`SHUTDOWN`, tests).
pub fn wait_bgsave(engine: &Engine) {
    while engine.persistence.in_progress() {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// Work a command hands to the engine to run after its storage scope ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deferred {
    /// `SAVE`.
    Save,
    /// `SHUTDOWN`: save first when `save` is set or save rules exist and `nosave`
    /// is not; a failed save stops the shutdown unless `force`.
    Shutdown {
        /// `SAVE` given.
        save: bool,
        /// `NOSAVE` given.
        nosave: bool,
        /// `FORCE` given.
        force: bool,
    },
}

/// Runs deferred work; its reply replaces the command's.
pub fn run_deferred(engine: &Engine, session: &mut crate::Session, work: Deferred) -> Frame {
    match work {
        Deferred::Save => match save(engine) {
            Ok(_) => Frame::ok(),
            Err(SaveError::InProgress) => Frame::error("ERR Background save already in progress"),
            Err(SaveError::Failed(e)) => {
                eprintln!("SAVE failed: {e}");
                Frame::error("ERR")
            }
        },
        Deferred::Shutdown {
            save: asked,
            nosave,
            force,
        } => {
            let rules = !save_rules(&engine.config).is_empty();
            if asked || (rules && !nosave) {
                wait_bgsave(engine);
                if let Err(e) = save(engine) {
                    eprintln!("Error trying to save the DB, can't exit: {e:?}");
                    if !force {
                        return Frame::error("ERR Errors trying to SHUTDOWN. Check logs.");
                    }
                }
            }
            engine.request_shutdown(if nosave {
                crate::ShutdownMode::NoSave
            } else {
                crate::ShutdownMode::Save
            });
            session.close_after_reply = true;
            Frame::ok()
        }
    }
}
