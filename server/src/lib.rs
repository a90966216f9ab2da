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

mod connection;

pub use connection::serve_connection;

/// Builds the engine over the backend the configuration names.
pub fn build_engine(config: Config) -> anyhow::Result<Arc<Engine>> {
    let databases = config.get_i64("databases").max(1) as usize;
    let backend: Arc<dyn StorageBackend> = match config.get("backend").as_deref() {
        Some("disk") => {
            let dir = PathBuf::from(config.get("dir").unwrap_or_else(|| ".".into()));
            let path = dir.join("ferrokv-disk");
            let backend =
                ferrokv_storage_disk::DiskBackend::open(&path, databases).map_err(|e| {
                    anyhow::anyhow!("cannot open disk backend at {}: {e:?}", path.display())
                })?;
            Arc::new(backend)
        }
        _ => Arc::new(ferrokv_storage_memory::MemoryBackend::new(databases)),
    };
    Ok(Arc::new(Engine::new(backend, config)))
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
    let expiry = tokio::spawn(active_expiry(engine.clone()));
    let cron = tokio::spawn(clients_cron(engine.clone()));
    let accept = accept_loop(engine.clone(), listener);
    tokio::select! {
        result = accept => result?,
        _ = stop => {}
        _ = shutdown.notified() => {}
    }
    expiry.abort();
    cron.abort();
    for client in engine.clients.all() {
        client.kill();
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
/// timeout` apply to connections that are already waiting.
async fn clients_cron(engine: Arc<Engine>) {
    loop {
        tokio::time::sleep(Duration::from_millis(1000)).await;
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
