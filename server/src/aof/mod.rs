//! The append-only file, in Redis 7's multi-part layout: in `dir/appenddirname`, a
//! base file (the dataset as commands, or an RDB image), increment files (commands
//! propagated since) and a manifest naming them (`appendonly.aof.manifest`).
//!
//! - Writing: the engine feeds every propagated unit ([`AofWriter`] is its
//!   [`PropagationSink`]) into a buffer, as RESP commands with `SELECT` when the
//!   database changes. Under `appendfsync always` a syncer thread writes and fsyncs
//!   whatever accumulated (one fsync for every client's writes meanwhile: group
//!   commit) and the connection holds its replies until its position is synced;
//!   under `everysec` and `no` the connection writes the buffer to the file itself
//!   before replying (as Redis writes before its event loop sleeps), and the syncer
//!   fsyncs once a second (`everysec`) or never (`no`).
//! - Loading: the files are replayed through the engine in manifest order. A cut-off
//!   command (or open `MULTI`) at the end of the last file is dropped with a warning
//!   and the file truncated under `aof-load-truncated yes`; anything else stops the
//!   start-up naming the file and offset.
//! - Rewriting (`BGREWRITEAOF`, auto rewrite, `CONFIG SET appendonly yes`): inside
//!   one whole-keyspace scope the dataset is serialized into memory and a new
//!   increment file is opened, so the base and the increments meet exactly; the base
//!   is then written by a background thread and the manifest switched atomically
//!   (written to a temporary file, renamed).

pub mod check;
pub mod cow;
pub mod disk;
pub mod dump;
pub mod format;

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use bytes::Bytes;
use ferrokv_core::config::Config;
use ferrokv_core::propagate::{AofControl, DurableWait, Propagated, PropagationSink};
use ferrokv_core::storage::{DbIndex, Scope};
use ferrokv_core::{Engine, Session};
use parking_lot::{Condvar, Mutex};

use format::{
    encode_command, encode_parts, CommandReader, FileKind, Manifest, ManifestEntry, ReadError,
};

/// `appendfsync`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsyncPolicy {
    /// fsync before every reply (group commit).
    Always,
    /// fsync once a second in the background.
    EverySec,
    /// Leave it to the OS.
    No,
}

impl FsyncPolicy {
    /// Reads `appendfsync` from the configuration.
    pub fn from_config(config: &Config) -> FsyncPolicy {
        match config.get("appendfsync").as_deref() {
            Some("always") => FsyncPolicy::Always,
            Some("no") => FsyncPolicy::No,
            _ => FsyncPolicy::EverySec,
        }
    }

    fn code(self) -> u8 {
        self as u8
    }

    fn from_code(code: u8) -> FsyncPolicy {
        match code {
            0 => FsyncPolicy::Always,
            1 => FsyncPolicy::EverySec,
            _ => FsyncPolicy::No,
        }
    }
}

/// Where the AOF lives: `dir/appenddirname` and the `appendfilename` prefix.
#[derive(Debug, Clone)]
pub struct AofPaths {
    /// The AOF directory.
    pub dir: PathBuf,
    /// The file name prefix (`appendonly.aof`).
    pub name: String,
}

impl AofPaths {
    /// From `dir`, `appenddirname` and `appendfilename`.
    pub fn from_config(config: &Config) -> AofPaths {
        let dir = PathBuf::from(config.get("dir").unwrap_or_else(|| ".".into()));
        let sub = config
            .get("appenddirname")
            .unwrap_or_else(|| "appendonlydir".into());
        AofPaths {
            dir: dir.join(sub),
            name: config
                .get("appendfilename")
                .unwrap_or_else(|| "appendonly.aof".into()),
        }
    }

    /// A Redis 6-style single AOF file in `dir`.
    pub fn legacy(&self) -> PathBuf {
        self.dir.parent().unwrap_or(Path::new(".")).join(&self.name)
    }

    /// The manifest's path.
    pub fn manifest(&self) -> PathBuf {
        self.dir.join(format!("{}.manifest", self.name))
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn base_name(&self, seq: u64, rdb: bool) -> String {
        let ext = if rdb { "rdb" } else { "aof" };
        format!("{}.{seq}.base.{ext}", self.name)
    }

    fn incr_name(&self, seq: u64) -> String {
        format!("{}.{seq}.incr.aof", self.name)
    }

    /// Reads the manifest; `None` when there is none.
    pub fn read_manifest(&self) -> anyhow::Result<Option<Manifest>> {
        let path = self.manifest();
        match std::fs::read_to_string(&path) {
            Ok(text) => Manifest::parse(&text)
                .map(Some)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(anyhow::anyhow!("cannot read {}: {e}", path.display())),
        }
    }

    /// Writes the manifest atomically: a temporary file, fsynced, renamed over it,
    /// then the directory fsynced (Redis' `writeAofManifestFile`).
    fn write_manifest(&self, manifest: &Manifest) -> std::io::Result<()> {
        let temp = self.dir.join(format!("temp-{}.manifest", self.name));
        let mut f = File::create(&temp)?;
        f.write_all(manifest.render().as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&temp, self.manifest())?;
        sync_dir(&self.dir)
    }
}

/// Writes `new` as the manifest and deletes the files `old` named that `new` does
/// not; returns the bytes of increment files deleted.
fn switch_manifest(paths: &AofPaths, old: &Manifest, new: &Manifest) -> std::io::Result<u64> {
    paths.write_manifest(new)?;
    let keep: Vec<&str> = new.files().map(|e| e.name.as_str()).collect();
    let mut removed_incr = 0;
    for e in old.files().chain(&old.history) {
        if !keep.contains(&e.name.as_str()) {
            if e.kind == FileKind::Incr {
                removed_incr += std::fs::metadata(paths.file(&e.name)).map_or(0, |m| m.len());
            }
            let _ = std::fs::remove_file(paths.file(&e.name));
        }
    }
    Ok(removed_incr)
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

// ---------------------------------------------------------------------------------
// Loading.
// ---------------------------------------------------------------------------------

/// What loading found.
#[derive(Debug, Default, Clone)]
pub struct LoadReport {
    /// Commands replayed.
    pub commands: u64,
    /// Whether a truncated tail was dropped.
    pub truncated: bool,
}

/// Replays the AOF directory named by `paths` through `engine` (start-up). Returns
/// the manifest loaded (`None` when there was no AOF directory).
pub fn load(engine: &Engine, paths: &AofPaths) -> anyhow::Result<Option<(Manifest, LoadReport)>> {
    let Some(manifest) = paths.read_manifest()? else {
        return Ok(None);
    };
    let files: Vec<(PathBuf, bool)> = manifest
        .files()
        .map(|e| (paths.file(&e.name), e.kind == FileKind::Incr))
        .collect();
    let report = replay_files(engine, &files)?;
    Ok(Some((manifest, report)))
}

/// Replays a Redis 6-style single AOF file (`dir/appendfilename`), if there is one.
pub fn load_legacy(engine: &Engine, paths: &AofPaths) -> anyhow::Result<Option<LoadReport>> {
    let legacy = paths.legacy();
    if !legacy.is_file() {
        return Ok(None);
    }
    replay_files(engine, &[(legacy, false)]).map(Some)
}

/// Replays `files` (path, whether it is an increment) in order through a loader
/// session that never blocks.
fn replay_files(engine: &Engine, files: &[(PathBuf, bool)]) -> anyhow::Result<LoadReport> {
    let allow_truncated = engine.config.get("aof-load-truncated").as_deref() != Some("no");
    let client = engine
        .clients
        .register("aof-loader".into(), String::new(), None);
    let mut session = Session::new(client.clone());
    session.no_block = true;
    let mut report = LoadReport::default();
    let result = (|| {
        for (i, (path, incr)) in files.iter().enumerate() {
            let last = i + 1 == files.len();
            let data = match std::fs::read(path) {
                Ok(d) => Bytes::from(d),
                // Redis tolerates a missing last increment (created but not yet written).
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && *incr && last => continue,
                Err(e) => anyhow::bail!("cannot open the AOF file {}: {e}", path.display()),
            };
            if data.starts_with(b"REDIS") {
                // An RDB preamble (`aof-use-rdb-preamble yes`): the hook for the RDB
                // reader, which is not built yet.
                anyhow::bail!(
                    "{}: the base file is an RDB image; loading it needs the RDB reader (not built yet)",
                    path.display()
                );
            }
            replay_file(
                engine,
                &mut session,
                path,
                data,
                last,
                allow_truncated,
                &mut report,
            )?;
        }
        Ok(())
    })();
    engine.clients.unregister(client.id);
    result.map(|()| report)
}

fn replay_file(
    engine: &Engine,
    session: &mut Session,
    path: &Path,
    data: Bytes,
    last: bool,
    allow_truncated: bool,
    report: &mut LoadReport,
) -> anyhow::Result<()> {
    let len = data.len();
    let mut reader = CommandReader::new(data);
    let mut multi_at: Option<usize> = None;
    let stop = loop {
        match reader.next_command() {
            Ok(Some((start, argv))) => {
                if engine.command(&argv[0]).is_none() {
                    anyhow::bail!(
                        "Unknown command '{}' reading the append only file {} at offset {start}",
                        String::from_utf8_lossy(&argv[0]),
                        path.display()
                    );
                }
                if argv[0].eq_ignore_ascii_case(b"multi") {
                    multi_at = Some(start);
                } else if argv[0].eq_ignore_ascii_case(b"exec") {
                    multi_at = None;
                }
                engine.execute(session, &argv);
                report.commands += 1;
            }
            Ok(None) => break multi_at.map(|at| ReadError::Truncated { at }),
            Err(ReadError::Truncated { at }) => {
                break Some(ReadError::Truncated {
                    at: multi_at.unwrap_or(at),
                })
            }
            Err(e) => break Some(e),
        }
    };
    match stop {
        None => Ok(()),
        Some(ReadError::Truncated { at }) if last && allow_truncated => {
            eprintln!(
                "!!! Warning: short read while loading the AOF file {}!!! AOF loaded anyway because aof-load-truncated is enabled; truncating it to {at} bytes (was {len})",
                path.display()
            );
            // An open transaction is dropped, as Redis reverts it.
            session.multi = None;
            let f = OpenOptions::new().write(true).open(path)?;
            f.set_len(at as u64)?;
            f.sync_all()?;
            report.truncated = true;
            Ok(())
        }
        Some(ReadError::Truncated { at }) => anyhow::bail!(
            "Unexpected end of file reading the append only file {} at offset {at}. You can: 1) Make a backup of your AOF file, then use ./ferrokv-server --check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.",
            path.display()
        ),
        Some(ReadError::Corrupt { at, reason }) => anyhow::bail!(
            "Bad file format reading the append only file {} at offset {at} ({reason}): make a backup of your AOF file, then use ./ferrokv-server --check-aof --fix <filename.manifest>",
            path.display()
        ),
    }
}

// ---------------------------------------------------------------------------------
// Writing.
// ---------------------------------------------------------------------------------

/// Commands fed but not yet written to the file.
struct Buffer {
    data: Vec<u8>,
    /// Database the file's last `SELECT` chose (`None` at the start of a file).
    db: Option<DbIndex>,
    /// Total bytes fed since the writer started.
    appended: u64,
    /// Last `#TS:` annotation written (seconds), under `aof-timestamp-enabled`.
    last_ts: u64,
}

/// The file commands are appended to.
struct Output {
    file: Arc<File>,
    /// Total bytes written (a position in the same space as `Buffer::appended`).
    written: u64,
    /// Bytes in the current increment file.
    incr_size: u64,
    manifest: Manifest,
    /// Bytes in the increment files before the current one, and in the base.
    other_incr_size: u64,
    base_size: u64,
}

/// The running AOF: buffer, file and syncer. Installed as the engine's propagation
/// sink.
pub struct AofWriter {
    paths: AofPaths,
    buffer: Mutex<Buffer>,
    output: Mutex<Output>,
    policy: AtomicU8,
    timestamps: AtomicBool,
    /// Bytes fsynced (for `appendfsync always` waiters).
    synced: tokio::sync::watch::Sender<u64>,
    wake: Condvar,
    wake_lock: Mutex<bool>,
    stopped: AtomicBool,
    /// While a rewrite runs and `no-appendfsync-on-rewrite` is yes, fsyncs are skipped.
    skip_fsync: AtomicBool,
    last_write_ok: AtomicBool,
    delayed_fsync: AtomicU64,
}

impl AofWriter {
    /// Opens the writer over `manifest`'s last increment file (created if needed).
    fn open(
        paths: AofPaths,
        mut manifest: Manifest,
        config: &Config,
    ) -> anyhow::Result<Arc<AofWriter>> {
        std::fs::create_dir_all(&paths.dir)?;
        if manifest.incrs.is_empty() {
            let seq = manifest.next_incr_seq();
            manifest.incrs.push(ManifestEntry {
                name: paths.incr_name(seq),
                seq,
                kind: FileKind::Incr,
            });
            paths.write_manifest(&manifest)?;
        }
        let current = manifest
            .incrs
            .last()
            .expect("an increment file")
            .name
            .clone();
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(paths.file(&current))?;
        let incr_size = file.metadata()?.len();
        let size_of =
            |e: &ManifestEntry| std::fs::metadata(paths.file(&e.name)).map_or(0, |m| m.len());
        let base_size = manifest.base.as_ref().map_or(0, size_of);
        let other: u64 = manifest.incrs[..manifest.incrs.len() - 1]
            .iter()
            .map(size_of)
            .sum();
        let (synced, _) = tokio::sync::watch::channel(0);
        let writer = Arc::new(AofWriter {
            paths,
            buffer: Mutex::new(Buffer {
                data: Vec::with_capacity(64 * 1024),
                db: None,
                appended: 0,
                last_ts: 0,
            }),
            output: Mutex::new(Output {
                file: Arc::new(file),
                written: 0,
                incr_size,
                manifest,
                other_incr_size: other,
                base_size,
            }),
            policy: AtomicU8::new(FsyncPolicy::from_config(config).code()),
            timestamps: AtomicBool::new(false),
            synced,
            wake: Condvar::new(),
            wake_lock: Mutex::new(false),
            stopped: AtomicBool::new(false),
            skip_fsync: AtomicBool::new(false),
            last_write_ok: AtomicBool::new(true),
            delayed_fsync: AtomicU64::new(0),
        });
        writer.refresh(config);
        let syncer = writer.clone();
        std::thread::Builder::new()
            .name("aof-sync".into())
            .spawn(move || syncer.sync_loop())?;
        Ok(writer)
    }

    /// Re-reads `appendfsync` and `aof-timestamp-enabled`.
    fn refresh(&self, config: &Config) {
        self.policy
            .store(FsyncPolicy::from_config(config).code(), Ordering::Relaxed);
        self.timestamps.store(
            config.get("aof-timestamp-enabled").as_deref() == Some("yes"),
            Ordering::Relaxed,
        );
    }

    fn policy(&self) -> FsyncPolicy {
        FsyncPolicy::from_code(self.policy.load(Ordering::Relaxed))
    }

    /// Writes everything fed up to now to the file (no fsync); returns the position
    /// written.
    fn write_pending(&self) -> u64 {
        let mut out = self.output.lock();
        self.write_locked(&mut out)
    }

    fn write_locked(&self, out: &mut Output) -> u64 {
        let (data, upto) = {
            let mut buf = self.buffer.lock();
            if buf.data.is_empty() {
                return buf.appended;
            }
            let cap = buf.data.capacity().min(1 << 20);
            (
                std::mem::replace(&mut buf.data, Vec::with_capacity(cap)),
                buf.appended,
            )
        };
        match (&*out.file).write_all(&data) {
            Ok(()) => self.last_write_ok.store(true, Ordering::Relaxed),
            Err(e) => {
                // Redis would retry and refuse writes; we report it and go on.
                eprintln!("Error writing to the AOF file: {e}");
                self.last_write_ok.store(false, Ordering::Relaxed);
            }
        }
        out.written = upto;
        out.incr_size += data.len() as u64;
        upto
    }

    /// The syncer thread: under `always`, writes and fsyncs whatever accumulated as
    /// soon as there is any; otherwise writes leftovers and, under `everysec`,
    /// fsyncs once a second.
    fn sync_loop(self: Arc<Self>) {
        let mut last_sync = Instant::now();
        while !self.stopped.load(Ordering::Acquire) {
            let policy = self.policy();
            {
                let mut pending = self.wake_lock.lock();
                if !*pending {
                    let wait = match policy {
                        FsyncPolicy::Always => Duration::from_millis(100),
                        _ => Duration::from_millis(1000)
                            .saturating_sub(last_sync.elapsed())
                            .max(Duration::from_millis(10)),
                    };
                    self.wake.wait_for(&mut pending, wait);
                }
                *pending = false;
            }
            if self.stopped.load(Ordering::Acquire) {
                break;
            }
            match policy {
                FsyncPolicy::Always => self.sync_now(),
                FsyncPolicy::EverySec if last_sync.elapsed() >= Duration::from_millis(1000) => {
                    self.sync_now();
                    last_sync = Instant::now();
                }
                FsyncPolicy::EverySec => {}
                FsyncPolicy::No => {
                    self.write_pending();
                    self.synced.send_replace(u64::MAX);
                }
            }
        }
    }

    /// Writes what is pending and fsyncs the current file, then wakes the waiters.
    fn sync_now(&self) {
        let (file, upto) = {
            let mut out = self.output.lock();
            let upto = self.write_locked(&mut out);
            (out.file.clone(), upto)
        };
        if *self.synced.borrow() >= upto {
            return;
        }
        if !self.skip_fsync.load(Ordering::Relaxed) {
            if let Err(e) = file.sync_data() {
                eprintln!("Error syncing the AOF file: {e}");
                self.delayed_fsync.fetch_add(1, Ordering::Relaxed);
                return;
            }
        }
        self.synced.send_replace(upto);
    }

    fn wake_syncer(&self) {
        *self.wake_lock.lock() = true;
        self.wake.notify_one();
    }

    /// Makes `position` as durable as the policy asks before the reply goes out:
    /// `always` returns a future that resolves once it is fsynced; `everysec` and
    /// `no` write it to the file now and return `None`.
    fn durable(&self, position: u64) -> Option<DurableWait> {
        match self.policy() {
            FsyncPolicy::Always => {
                let target = position.min(self.buffer.lock().appended);
                if *self.synced.borrow() >= target {
                    return None;
                }
                self.wake_syncer();
                let mut rx = self.synced.subscribe();
                Some(Box::pin(async move {
                    let _ = rx.wait_for(|s| *s >= target).await;
                }))
            }
            _ => {
                let written = self.output.lock().written;
                if written < position {
                    self.write_pending();
                }
                None
            }
        }
    }

    /// Writes and fsyncs everything, and stops the syncer (shutdown, `appendonly no`).
    fn close(&self) {
        self.sync_now_forced();
        self.stopped.store(true, Ordering::Release);
        self.wake_syncer();
    }

    fn sync_now_forced(&self) {
        let (file, upto) = {
            let mut out = self.output.lock();
            let upto = self.write_locked(&mut out);
            (out.file.clone(), upto)
        };
        let _ = file.sync_data();
        self.synced.send_replace(upto);
    }

    /// Starts a new increment file for a rewrite (inside a whole-keyspace scope, so
    /// no command runs meanwhile): what was fed so far goes to the old file, which
    /// is fsynced; the manifest lists the new file after the old ones. Returns the
    /// manifest as it stands and the new increment's entry.
    fn switch_incr(&self) -> std::io::Result<(Manifest, ManifestEntry)> {
        let mut out = self.output.lock();
        self.write_locked(&mut out);
        out.file.sync_data()?;
        let seq = out.manifest.next_incr_seq();
        let entry = ManifestEntry {
            name: self.paths.incr_name(seq),
            seq,
            kind: FileKind::Incr,
        };
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.paths.file(&entry.name))?;
        let mut manifest = out.manifest.clone();
        manifest.incrs.push(entry.clone());
        self.paths.write_manifest(&manifest)?;
        out.file = Arc::new(file);
        out.other_incr_size += out.incr_size;
        out.incr_size = 0;
        out.manifest = manifest.clone();
        // The new file starts without a selected database.
        self.buffer.lock().db = None;
        Ok((manifest, entry))
    }

    /// After a rewrite wrote `base`: the manifest becomes that base plus the
    /// increments from `first_new` on; the files it no longer names are deleted.
    fn install_base(
        &self,
        base: ManifestEntry,
        base_size: u64,
        first_new: u64,
    ) -> std::io::Result<()> {
        let mut out = self.output.lock();
        let old = out.manifest.clone();
        let manifest = Manifest {
            base: Some(base),
            history: Vec::new(),
            incrs: old
                .incrs
                .iter()
                .filter(|e| e.seq >= first_new)
                .cloned()
                .collect(),
        };
        let removed_incr = switch_manifest(&self.paths, &old, &manifest)?;
        out.other_incr_size = out.other_incr_size.saturating_sub(removed_incr);
        out.base_size = base_size;
        out.manifest = manifest;
        Ok(())
    }

    /// `aof_current_size`: base plus increments.
    fn current_size(&self) -> u64 {
        let out = self.output.lock();
        out.base_size + out.other_incr_size + out.incr_size
    }

    fn base_size(&self) -> u64 {
        self.output.lock().base_size
    }
}

impl PropagationSink for AofWriter {
    fn feed(&self, unit: &[Propagated]) -> u64 {
        let timestamps = self.timestamps.load(Ordering::Relaxed);
        let mut buf = self.buffer.lock();
        let before = buf.data.len();
        if timestamps {
            let now = ferrokv_core::clients::unix_ms() / 1000;
            if now > buf.last_ts {
                buf.last_ts = now;
                buf.data
                    .extend_from_slice(format!("#TS:{now}\r\n").as_bytes());
            }
        }
        for cmd in unit {
            if buf.db != Some(cmd.db) {
                let db = cmd.db.to_string();
                encode_parts(&mut buf.data, &[b"SELECT", db.as_bytes()]);
                buf.db = Some(cmd.db);
            }
            encode_command(&mut buf.data, &cmd.argv);
        }
        buf.appended += (buf.data.len() - before) as u64;
        let position = buf.appended;
        drop(buf);
        if self.policy() == FsyncPolicy::Always {
            self.wake_syncer();
        }
        position
    }
}

// ---------------------------------------------------------------------------------
// The manager: state across enable/disable, rewrites, INFO.
// ---------------------------------------------------------------------------------

/// What a rewrite does besides writing a new base.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RewriteMode {
    /// The AOF is on: a new increment file starts where the base ends.
    Rewrite,
    /// Turning the AOF on: the writer starts where the base ends.
    Enable,
    /// The AOF is off (`BGREWRITEAOF` anyway): only a new base in the manifest.
    Standalone,
}

/// Outcome counters of rewrites for `INFO persistence`.
#[derive(Debug, Default)]
struct RewriteStats {
    last_ok: bool,
    rewrites: u64,
    consecutive_failures: u64,
    last_time_sec: i64,
    started: Option<Instant>,
    scheduled: bool,
}

/// Where a rewrite's base goes: the manifest as the rewrite found it and, when the
/// AOF is on, the writer and the increment file that follows the base.
struct Switched {
    writer: Option<(Arc<AofWriter>, ManifestEntry)>,
    manifest: Manifest,
}

/// The AOF's controls, installed in the engine (`AofControl`) for the memory backend.
pub struct AofManager {
    me: Weak<AofManager>,
    engine: Weak<Engine>,
    paths: AofPaths,
    writer: Mutex<Option<Arc<AofWriter>>>,
    rewriting: AtomicBool,
    stats: Mutex<RewriteStats>,
}

impl AofManager {
    /// Loads the AOF if `appendonly yes` (replaying it through `engine`), opens it
    /// for appending, and installs the controls and the sink. A server started with
    /// `appendonly yes` and no AOF directory writes a fresh base first.
    pub fn start(engine: &Arc<Engine>) -> anyhow::Result<Arc<AofManager>> {
        let paths = AofPaths::from_config(&engine.config);
        let manager = Arc::new_cyclic(|me| AofManager {
            me: me.clone(),
            engine: Arc::downgrade(engine),
            paths: paths.clone(),
            writer: Mutex::new(None),
            rewriting: AtomicBool::new(false),
            stats: Mutex::new(RewriteStats {
                last_ok: true,
                last_time_sec: -1,
                ..Default::default()
            }),
        });
        engine.propagation.set_control(manager.clone());
        if engine.config.get("appendonly").as_deref() != Some("yes") {
            return Ok(manager);
        }
        let started = Instant::now();
        match load(engine, &paths)? {
            Some((manifest, report)) => {
                eprintln!(
                    "DB loaded from append only file: {:.3} seconds ({} commands{})",
                    started.elapsed().as_secs_f64(),
                    report.commands,
                    if report.truncated {
                        ", truncated tail dropped"
                    } else {
                        ""
                    }
                );
                let writer = AofWriter::open(paths, manifest, &engine.config)?;
                *manager.writer.lock() = Some(writer.clone());
                engine.propagation.set_sink(Some(writer));
            }
            None => {
                // No AOF directory: a Redis 6-style single file is loaded and turned
                // into the multi-part layout; otherwise the AOF starts from an empty
                // base, as Redis creates one.
                if let Some(report) = load_legacy(engine, &paths)? {
                    eprintln!(
                        "DB loaded from the single append only file {}: {} commands; writing the multi-part AOF",
                        paths.legacy().display(),
                        report.commands
                    );
                }
                manager.enable_now(engine)?;
            }
        }
        Ok(manager)
    }

    /// Runs the cron (auto rewrite) until the engine goes away.
    pub fn spawn_cron(self: &Arc<Self>) {
        let me = Arc::downgrade(self);
        let _ = std::thread::Builder::new()
            .name("aof-cron".into())
            .spawn(move || loop {
                std::thread::sleep(Duration::from_millis(1000));
                let Some(me) = me.upgrade() else { return };
                if me.engine.strong_count() == 0 {
                    return;
                }
                me.auto_rewrite_check();
            });
    }

    fn auto_rewrite_check(&self) {
        let Some(engine) = self.engine.upgrade() else {
            return;
        };
        let Some(writer) = self.writer.lock().clone() else {
            return;
        };
        if self.rewriting.load(Ordering::Acquire) {
            return;
        }
        let perc = engine.config.get_i64("auto-aof-rewrite-percentage");
        let min = engine.config.get_i64("auto-aof-rewrite-min-size").max(0) as u64;
        if perc <= 0 {
            return;
        }
        let (size, base) = (writer.current_size(), writer.base_size().max(1));
        if size < min {
            return;
        }
        let growth = (size.saturating_sub(base)) * 100 / base;
        if growth >= perc as u64 {
            eprintln!("Starting automatic rewriting of AOF on {growth}% growth");
            let _ = self.start_rewrite(engine, RewriteMode::Rewrite);
        }
    }

    /// Makes the AOF durable and stops it (shutdown).
    pub fn shutdown(&self) {
        if let Some(writer) = self.writer.lock().take() {
            writer.close();
        }
    }

    /// Starts the AOF from a fresh base now (start-up without AOF files): like a
    /// rewrite, but synchronous.
    fn enable_now(&self, engine: &Arc<Engine>) -> anyhow::Result<()> {
        self.rewriting.store(true, Ordering::Release);
        let result = self.rewrite(engine, RewriteMode::Enable);
        self.rewriting.store(false, Ordering::Release);
        result
    }

    /// Starts a background rewrite in `mode`.
    fn start_rewrite(&self, engine: Arc<Engine>, mode: RewriteMode) -> Result<(), String> {
        if self
            .rewriting
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return Err("Background append only file rewriting already in progress".into());
        }
        self.stats.lock().started = Some(Instant::now());
        let Some(me) = self.me.upgrade() else {
            self.rewriting.store(false, Ordering::Release);
            return Err("shutting down".into());
        };
        let spawned = std::thread::Builder::new()
            .name("aof-rewrite".into())
            .spawn(move || {
                let started = Instant::now();
                let result = me.rewrite(&engine, mode);
                let mut stats = me.stats.lock();
                stats.started = None;
                stats.last_time_sec = started.elapsed().as_secs() as i64;
                match result {
                    Ok(()) => {
                        stats.last_ok = true;
                        stats.rewrites += 1;
                        stats.consecutive_failures = 0;
                        eprintln!("Background AOF rewrite finished successfully");
                    }
                    Err(e) => {
                        stats.last_ok = false;
                        stats.consecutive_failures += 1;
                        eprintln!("Background AOF rewrite failed: {e:#}");
                    }
                }
                drop(stats);
                me.rewriting.store(false, Ordering::Release);
            });
        if let Err(e) = spawned {
            self.rewriting.store(false, Ordering::Release);
            return Err(format!("Can't start the rewrite thread: {e}"));
        }
        Ok(())
    }

    /// One rewrite. At one instant (a whole-keyspace scope) the next increment file
    /// starts (when enabling, the writer is created and installed there) and a
    /// copy-on-write dump begins ([`cow::CowDump`]); the dump is then walked page by
    /// page into a temporary file while clients keep writing, and the base is
    /// renamed into place and the manifest switched.
    fn rewrite(&self, engine: &Arc<Engine>, mode: RewriteMode) -> anyhow::Result<()> {
        std::fs::create_dir_all(&self.paths.dir)?;
        let cow = Arc::new(cow::CowDump::new(engine.databases()));
        let mut switched: Option<anyhow::Result<Switched>> = None;
        let skip_fsync = engine.config.get("no-appendfsync-on-rewrite").as_deref() == Some("yes");
        engine
            .backend()
            .atomic(Scope::All, &mut |_txn| {
                let result = self.switch_for_rewrite(engine, mode);
                if result.is_ok() {
                    engine.propagation.set_observer(Some(cow.clone()));
                }
                switched = Some(result);
            })
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let switched = switched
            .ok_or_else(|| anyhow::anyhow!("the storage backend did not run the rewrite"))??;
        if let Some((writer, _)) = &switched.writer {
            writer.skip_fsync.store(skip_fsync, Ordering::Relaxed);
        }
        let base = self.write_base(engine, &cow, &switched.manifest);
        engine.propagation.set_observer(None);
        let result = base.and_then(|(base, size)| match &switched.writer {
            Some((writer, new_incr)) => Ok(writer.install_base(base, size, new_incr.seq)?),
            None => {
                let manifest = Manifest {
                    base: Some(base),
                    ..Manifest::default()
                };
                switch_manifest(&self.paths, &switched.manifest, &manifest)?;
                Ok(())
            }
        });
        if let Some((writer, _)) = &switched.writer {
            writer.skip_fsync.store(false, Ordering::Relaxed);
        }
        result
    }

    /// Inside the rewrite's scope: the writer's new increment file (creating and
    /// installing the writer when the AOF is being turned on).
    fn switch_for_rewrite(
        &self,
        engine: &Arc<Engine>,
        mode: RewriteMode,
    ) -> anyhow::Result<Switched> {
        if mode == RewriteMode::Standalone {
            let manifest = self
                .paths
                .read_manifest()
                .ok()
                .flatten()
                .unwrap_or_default();
            return Ok(Switched {
                writer: None,
                manifest,
            });
        }
        if mode == RewriteMode::Enable {
            // Whatever was there belongs to an older run: the new files follow it.
            let old = self
                .paths
                .read_manifest()
                .ok()
                .flatten()
                .unwrap_or_default();
            let seq = old.next_incr_seq();
            let incr = ManifestEntry {
                name: self.paths.incr_name(seq),
                seq,
                kind: FileKind::Incr,
            };
            let mut manifest = old.clone();
            for e in manifest.incrs.drain(..) {
                manifest.history.push(ManifestEntry {
                    kind: FileKind::History,
                    ..e
                });
            }
            manifest.incrs.push(incr.clone());
            // Until the base is written, the old base stays listed as history too.
            if let Some(base) = manifest.base.take() {
                manifest.history.push(ManifestEntry {
                    kind: FileKind::History,
                    ..base
                });
            }
            let writer = AofWriter::open(self.paths.clone(), manifest.clone(), &engine.config)?;
            *self.writer.lock() = Some(writer.clone());
            engine.propagation.set_sink(Some(writer.clone()));
            let manifest = writer.output.lock().manifest.clone();
            return Ok(Switched {
                writer: Some((writer, incr)),
                manifest,
            });
        }
        let writer = self
            .writer
            .lock()
            .clone()
            .ok_or_else(|| anyhow::anyhow!("the AOF was turned off"))?;
        let (manifest, incr) = writer.switch_incr()?;
        Ok(Switched {
            writer: Some((writer, incr)),
            manifest,
        })
    }

    /// Walks `cow` into a temporary file, fsyncs it and renames it to the base after
    /// those `manifest` knows; returns its entry and size. The observer is removed
    /// before the last dumped keys are written, so none is missed.
    fn write_base(
        &self,
        engine: &Engine,
        cow: &cow::CowDump,
        manifest: &Manifest,
    ) -> anyhow::Result<(ManifestEntry, u64)> {
        let seq = manifest
            .base
            .iter()
            .chain(&manifest.history)
            .filter(|e| e.name.contains(".base."))
            .map(|e| e.seq)
            .max()
            .unwrap_or(0)
            + 1;
        let name = self.paths.base_name(seq, false);
        let temp = self
            .paths
            .dir
            .join(format!("temp-rewriteaof-bg-{}.aof", std::process::id()));
        let mut file = std::io::BufWriter::with_capacity(1 << 20, File::create(&temp)?);
        let mut size = 0u64;
        let mut flush = |data: &[u8]| {
            size += data.len() as u64;
            file.write_all(data)
        };
        cow.walk(engine.backend(), &mut flush)?;
        engine.propagation.set_observer(None);
        cow.flush_to(&mut flush)?;
        let file = file.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&temp, self.paths.file(&name))?;
        let base = ManifestEntry {
            name,
            seq,
            kind: FileKind::Base,
        };
        Ok((base, size))
    }

    /// The writer, if the AOF is on.
    pub fn writer(&self) -> Option<Arc<AofWriter>> {
        self.writer.lock().clone()
    }
}

impl AofControl for AofManager {
    fn rewrite(&self) -> Result<String, String> {
        let engine = self.engine.upgrade().ok_or("shutting down")?;
        let mode = if self.writer.lock().is_some() {
            RewriteMode::Rewrite
        } else {
            RewriteMode::Standalone
        };
        self.start_rewrite(engine, mode)?;
        Ok("Background append only file rewriting started".into())
    }

    fn set_enabled(&self, on: bool) -> Result<(), String> {
        let engine = self.engine.upgrade().ok_or("shutting down")?;
        if on {
            if self.writer.lock().is_some() {
                return Ok(());
            }
            self.start_rewrite(engine, RewriteMode::Enable)
        } else {
            engine.propagation.set_sink(None);
            self.shutdown();
            Ok(())
        }
    }

    fn refresh(&self) {
        if let (Some(engine), Some(writer)) = (self.engine.upgrade(), self.writer()) {
            writer.refresh(&engine.config);
        }
    }

    fn durable(&self, position: u64) -> Option<DurableWait> {
        self.writer()?.durable(position)
    }

    fn info(&self) -> Vec<(&'static str, String)> {
        let writer = self.writer();
        let stats = self.stats.lock();
        let rewriting = self.rewriting.load(Ordering::Acquire);
        let mut fields = vec![
            ("aof_enabled", u8::from(writer.is_some()).to_string()),
            ("aof_rewrite_in_progress", u8::from(rewriting).to_string()),
            (
                "aof_rewrite_scheduled",
                u8::from(stats.scheduled).to_string(),
            ),
            ("aof_last_rewrite_time_sec", stats.last_time_sec.to_string()),
            (
                "aof_current_rewrite_time_sec",
                stats
                    .started
                    .map_or(-1, |s| s.elapsed().as_secs() as i64)
                    .to_string(),
            ),
            (
                "aof_last_bgrewrite_status",
                if stats.last_ok { "ok" } else { "err" }.into(),
            ),
            ("aof_rewrites", stats.rewrites.to_string()),
            (
                "aof_rewrites_consecutive_failures",
                stats.consecutive_failures.to_string(),
            ),
        ];
        let write_ok = writer
            .as_ref()
            .is_none_or(|w| w.last_write_ok.load(Ordering::Relaxed));
        fields.push((
            "aof_last_write_status",
            if write_ok { "ok" } else { "err" }.into(),
        ));
        fields.push(("aof_last_cow_size", "0".into()));
        fields.push(("module_fork_in_progress", "0".into()));
        fields.push(("module_fork_last_cow_size", "0".into()));
        if let Some(w) = writer {
            let buffered = w.buffer.lock().data.len();
            fields.push(("aof_current_size", w.current_size().to_string()));
            fields.push(("aof_base_size", w.base_size().to_string()));
            fields.push(("aof_pending_rewrite", "0".into()));
            fields.push(("aof_buffer_length", buffered.to_string()));
            fields.push(("aof_pending_bio_fsync", "0".into()));
            fields.push((
                "aof_delayed_fsync",
                w.delayed_fsync.load(Ordering::Relaxed).to_string(),
            ));
        }
        fields
    }
}
