//! The ferrokv network server: a tokio accept loop that feeds pipelined RESP requests
//! to the [`Engine`] and writes each batch of replies in one write. The storage backend
//! is chosen at start (`backend memory|disk`); nothing here knows how it stores data.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use ferrokv_core::config::Config;
use ferrokv_core::storage::StorageBackend;
use ferrokv_core::Engine;
use tokio::net::TcpListener;
use tokio::sync::Notify;

pub mod aof;
mod connection;

pub use connection::serve_connection;

/// Startup options of ferrokv's own that are not configuration parameters (so not
/// in `CONFIG GET`, nor in a config file): given on the command line only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerOptions {
    /// `--disk-cache SIZE`: the disk backend's total cache budget (RocksDB block
    /// cache plus the row cache), so that a server over a data set larger than memory
    /// can be held to a known footprint. `None` keeps the backend's defaults.
    pub disk_cache_bytes: Option<usize>,
}

/// Share of `--disk-cache` given to the row cache: the defaults' ratio (64 MiB of
/// row cache beside a 256 MiB block cache). The block cache gets the rest, since it
/// serves collection elements and index blocks as well as metadata.
const ROW_CACHE_DIVISOR: usize = 5;

impl ServerOptions {
    /// Removes ferrokv's own options (`--disk-cache SIZE`, SIZE as redis.conf memory
    /// values: `64mb`, `1gb`, bytes) from `args`, leaving the Redis directives.
    pub fn take_from(args: &mut Vec<String>) -> Result<ServerOptions, String> {
        let mut options = ServerOptions::default();
        let mut i = 0;
        while i < args.len() {
            if !args[i].eq_ignore_ascii_case("--disk-cache") {
                i += 1;
                continue;
            }
            let value = args
                .get(i + 1)
                .ok_or("--disk-cache needs a size (e.g. --disk-cache 64mb)")?;
            let bytes = ferrokv_core::config::memtoull(value)
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(|| format!("--disk-cache: '{value}' is not a memory size"))?;
            options.disk_cache_bytes = Some(bytes);
            args.drain(i..i + 2);
        }
        Ok(options)
    }

    /// The RocksDB block cache and row cache sizes `--disk-cache` asks for.
    pub fn disk_caches(&self) -> Option<(usize, usize)> {
        self.disk_cache_bytes.map(|total| {
            let row = total / ROW_CACHE_DIVISOR;
            (total - row, row)
        })
    }
}

/// Builds the engine over the backend the configuration names.
pub fn build_engine(config: Config) -> anyhow::Result<Arc<Engine>> {
    build_engine_with(config, &ServerOptions::default())
}

/// [`build_engine`] with ferrokv's own startup options.
pub fn build_engine_with(config: Config, options: &ServerOptions) -> anyhow::Result<Arc<Engine>> {
    let databases = config.get_i64("databases").max(1) as usize;
    let memory = !matches!(config.get("backend").as_deref(), Some("disk"));
    let backend: Arc<dyn StorageBackend> = match config.get("backend").as_deref() {
        Some("disk") => {
            let dir = PathBuf::from(config.get("dir").unwrap_or_else(|| ".".into()));
            let path = dir.join("ferrokv-disk");
            let mut rocks = ferrokv_storage_disk::RocksConfig::default();
            let caches = options.disk_caches();
            if let Some((block, _)) = caches {
                rocks.block_cache_bytes = block;
            }
            let mut backend =
                ferrokv_storage_disk::DiskBackend::open_with(&path, databases, &rocks).map_err(
                    |e| anyhow::anyhow!("cannot open disk backend at {}: {e:?}", path.display()),
                )?;
            if let Some((_, row)) = caches {
                backend = backend.with_row_cache(row);
            }
            Arc::new(backend)
        }
        _ => Arc::new(ferrokv_storage_memory::MemoryBackend::new(databases)),
    };
    let engine = Arc::new(Engine::new(backend, config));
    if memory {
        // As Redis: the append-only file, when on, is the data set; otherwise the
        // snapshot is loaded.
        if engine.config.get("appendonly").as_deref() != Some("yes") {
            load_snapshot(&engine)?;
        }
        let aof = aof::AofManager::start(&engine)?;
        aof.spawn_cron();
    } else {
        // The disk backend's write-ahead log follows `appendfsync`.
        aof::disk::DiskDurability::start(&engine);
    }
    Ok(engine)
}

/// Loads `dir/dbfilename` into the (memory) engine when it exists, as Redis does at
/// start; a corrupt file or a checksum mismatch stops start-up. The disk backend is
/// durable by itself and does not load snapshots.
pub fn load_snapshot(engine: &Engine) -> anyhow::Result<()> {
    let path = ferrokv_core::persistence::rdb_path(&engine.config);
    let file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(anyhow::anyhow!("cannot open {}: {e}", path.display())),
    };
    let started = std::time::Instant::now();
    let verify = engine.config.get_i64("rdbchecksum") == 1;
    let stats = ferrokv_core::rdb::store::load(
        engine.backend(),
        std::io::BufReader::with_capacity(1 << 20, file),
        ferrokv_core::clients::unix_ms(),
        verify,
    )
    .map_err(|e| anyhow::anyhow!("loading {}: {e}", path.display()))?;
    engine.persistence.note_loaded(&stats);
    eprintln!(
        "DB loaded from disk: {:.3} seconds ({} keys, {} expired keys skipped)",
        started.elapsed().as_secs_f64(),
        stats.keys,
        stats.expired
    );
    Ok(())
}

/// Binds the configured address (`bind`, `port`); port 0 picks an ephemeral port.
pub async fn bind(config: &Config) -> anyhow::Result<TcpListener> {
    let port = config.get_i64("port");
    let bind = config.get("bind").unwrap_or_default();
    let host = bind
        .split_whitespace()
        .map(|h| h.trim_start_matches('-'))
        .find(|h| !h.contains(':') || *h == "::1")
        .map(|h| if h == "*" { "0.0.0.0" } else { h })
        .unwrap_or("0.0.0.0")
        .to_string();
    let addr = format!("{host}:{port}");
    TcpListener::bind(&addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))
}

/// Serves clients until `stop` resolves or a client runs `SHUTDOWN`, then makes the
/// data durable. Runs the active expiry cycle `hz` times a second meanwhile.
pub async fn run(
    engine: Arc<Engine>,
    listener: TcpListener,
    stop: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let shutdown = Arc::new(Notify::new());
    {
        let shutdown = shutdown.clone();
        engine.set_shutdown_waker(Box::new(move || shutdown.notify_one()));
    }
    engine.pubsub.refresh_limits(&engine.config);
    let expiry = tokio::spawn(active_expiry(engine.clone()));
    let cron = tokio::spawn(clients_cron(engine.clone()));
    let saver = tokio::spawn(save_cron(engine.clone()));
    let accept = accept_loop(engine.clone(), listener);
    tokio::select! {
        result = accept => result?,
        _ = stop => {}
        _ = shutdown.notified() => {}
    }
    expiry.abort();
    cron.abort();
    saver.abort();
    // A signal (not SHUTDOWN, which saved already) snapshots when save rules exist.
    if engine.shutdown_requested().is_none()
        && !ferrokv_core::persistence::save_rules(&engine.config).is_empty()
    {
        ferrokv_core::persistence::wait_bgsave(&engine);
        if let Err(e) = ferrokv_core::persistence::save(&engine) {
            eprintln!("Error trying to save the DB on shutdown: {e:?}");
        }
    }
    for client in engine.clients.all() {
        client.kill();
    }
    if let Some(aof) = engine.propagation.control() {
        // Everything acknowledged is written and fsynced; the AOF stops with us.
        engine.propagation.set_sink(None);
        let _ = aof.set_enabled(false);
    }
    engine
        .backend()
        .flush_to_disk()
        .map_err(|e| anyhow::anyhow!("flush on shutdown failed: {e:?}"))?;
    Ok(())
}

async fn accept_loop(engine: Arc<Engine>, listener: TcpListener) -> anyhow::Result<()> {
    loop {
        let (socket, peer) = match listener.accept().await {
            Ok(pair) => pair,
            Err(e) => {
                // Out of file descriptors and similar: back off instead of spinning.
                eprintln!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let local = socket.local_addr().unwrap_or(peer);
        tokio::spawn(serve_connection(engine.clone(), socket, peer, local));
    }
}

async fn active_expiry(engine: Arc<Engine>) {
    loop {
        let hz = engine.config.get_i64("hz").clamp(1, 500) as u64;
        tokio::time::sleep(Duration::from_millis(1000 / hz)).await;
        let engine = engine.clone();
        // A disk backend may read from disk: keep that off the async workers.
        let _ = tokio::task::spawn_blocking(move || engine.active_expire_cycle()).await;
    }
}

/// Once a second, closes clients idle for longer than `timeout` seconds (as Redis'
/// `clientsCronHandleTimeout`); reading the setting each round makes `CONFIG SET
/// timeout` apply to connections that are already waiting. It also re-reads
/// `client-output-buffer-limit` for the pub/sub queues (which cache it).
/// Starts background saves the `save` rules (or `BGSAVE SCHEDULE`) ask for.
async fn save_cron(engine: Arc<Engine>) {
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        ferrokv_core::persistence::cron(&engine);
    }
}

async fn clients_cron(engine: Arc<Engine>) {
    loop {
        tokio::time::sleep(Duration::from_millis(1000)).await;
        engine.pubsub.refresh_limits(&engine.config);
        engine.pubsub.enforce_limits();
        let timeout = engine.config.get_i64("timeout");
        if timeout <= 0 {
            continue;
        }
        let now = ferrokv_core::clients::unix_ms();
        for client in engine.clients.all() {
            // Blocked clients have their own timeout, as in Redis.
            if engine.blocking.is_blocked(client.id) {
                continue;
            }
            let last = client
                .last_interaction_ms
                .load(std::sync::atomic::Ordering::Relaxed);
            if now.saturating_sub(last) > timeout as u64 * 1000 {
                client.kill();
            }
        }
    }
}

/// A server started inside the current process, for tests and embedding.
pub struct RunningServer {
    /// The address it listens on.
    pub addr: SocketAddr,
    /// The engine, for inspection.
    pub engine: Arc<Engine>,
    stop: Arc<Notify>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl RunningServer {
    /// Starts a server with `config` on the current tokio runtime.
    pub async fn start(config: Config) -> anyhow::Result<RunningServer> {
        let listener = bind(&config).await?;
        let addr = listener.local_addr()?;
        let engine = build_engine(config)?;
        let stop = Arc::new(Notify::new());
        let stopped = stop.clone();
        let task = tokio::spawn(run(engine.clone(), listener, async move {
            stopped.notified().await
        }));
        Ok(RunningServer {
            addr,
            engine,
            stop,
            task,
        })
    }

    /// Stops accepting, closes clients and flushes the backend.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.stop.notify_one();
        self.task.await?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn disk_cache_option_is_taken_out_of_the_directives() {
        let mut a = args(&["--port", "0", "--disk-cache", "64mb", "--backend", "disk"]);
        let options = ServerOptions::take_from(&mut a).unwrap();
        assert_eq!(a, args(&["--port", "0", "--backend", "disk"]));
        assert_eq!(options.disk_cache_bytes, Some(64 << 20));
        let (block, row) = options.disk_caches().unwrap();
        assert_eq!(block + row, 64 << 20);
        assert_eq!(row, (64 << 20) / 5);

        let mut a = args(&["redis.conf", "--DISK-CACHE", "1000"]);
        let options = ServerOptions::take_from(&mut a).unwrap();
        assert_eq!(a, args(&["redis.conf"]));
        assert_eq!(options.disk_caches(), Some((800, 200)));

        let mut a = args(&["--port", "0"]);
        assert_eq!(
            ServerOptions::take_from(&mut a).unwrap(),
            ServerOptions::default()
        );
        assert_eq!(ServerOptions::default().disk_caches(), None);
    }

    #[test]
    fn disk_cache_option_needs_a_memory_size() {
        let err = ServerOptions::take_from(&mut args(&["--disk-cache"])).unwrap_err();
        assert!(err.contains("needs a size"), "{err}");
        let err = ServerOptions::take_from(&mut args(&["--disk-cache", "64 apples"])).unwrap_err();
        assert!(err.contains("not a memory size"), "{err}");
        let err = ServerOptions::take_from(&mut args(&["--disk-cache", "-1"])).unwrap_err();
        assert!(err.contains("not a memory size"), "{err}");
    }
}
