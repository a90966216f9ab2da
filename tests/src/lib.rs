//! End-to-end test harness for ferrokv.
//!
//! Every test talks to a real server over TCP: [`start`] runs one inside the test's tokio
//! runtime on an ephemeral port, over the memory backend or the disk backend (in a
//! temporary directory the [`TestServer`] keeps alive). [`RawClient`] speaks RESP byte by
//! byte, so tests can check exactly what goes on the wire; [`TestServer::conn`] gives a
//! `redis-rs` connection for the ordinary cases.
//!
//! [`backend_tests!`] writes each test body once and instantiates it for both backends:
//!
//! ```text
//! ferrokv_tests::backend_tests! {
//!     async fn ping(server: &TestServer) {
//!         let mut c = server.raw().await;
//!         assert_eq!(c.send(&["PING"]).await, simple("PONG"));
//!     }
//! }
//! ```
//!
//! expands into `ping(server)` plus `memory::ping` and `disk::ping`, two
//! `#[tokio::test(flavor = "multi_thread", worker_threads = 2)]` tests.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
pub mod dataset;

use ferrokv_core::config::Config;
use ferrokv_core::Engine;
pub use ferrokv_protocol::Frame;
use ferrokv_protocol::{decode_frame, encode, RespVersion};
use ferrokv_server::RunningServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long a client waits for a reply before the test fails.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(10);

/// Which storage backend a test server runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The sharded in-memory backend.
    Memory,
    /// The RocksDB backend, in a temporary directory.
    Disk,
}

/// A ferrokv server running inside the test's runtime.
pub struct TestServer {
    /// Where it listens (127.0.0.1 and an ephemeral port).
    pub addr: SocketAddr,
    /// The backend it runs on.
    pub backend: Backend,
    server: Option<RunningServer>,
    /// A real redis-server standing in for ferrokv (`FERROKV_TESTS_TARGET=redis`).
    reference: Option<RedisServer>,
    /// The disk backend's directory; removed when the server is dropped.
    dir: Option<tempfile::TempDir>,
    /// Startup configuration, replayed on [`TestServer::restart`].
    startup: Vec<(String, String)>,
}

/// Starts a server on `backend` with the default configuration.
pub async fn start(backend: Backend) -> TestServer {
    start_with(backend, &[]).await
}

/// Whether the suite runs against a real `redis-server` instead of ferrokv, to check the
/// expected replies themselves: `FERROKV_TESTS_TARGET=redis cargo test -p ferrokv-tests`.
/// Tests that look inside the engine cannot run that way.
pub fn against_redis() -> bool {
    std::env::var("FERROKV_TESTS_TARGET").is_ok_and(|v| v == "redis")
}

/// Starts a server on `backend` in a fresh temporary `dir` that outlives restarts,
/// with extra startup configuration: for persistence tests (the memory backend
/// writes its append-only file there).
pub async fn start_persistent(backend: Backend, options: &[(&str, &str)]) -> TestServer {
    let dir = tempfile::Builder::new()
        .prefix("ferrokv-test")
        .tempdir()
        .expect("tempdir");
    let startup = options
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    launch(backend, Some(dir), startup, "0").await
}

/// Starts a server on `backend` with extra startup configuration (`name`, `value`).
pub async fn start_with(backend: Backend, options: &[(&str, &str)]) -> TestServer {
    // Every server gets a directory of its own, so snapshots (dump.rdb) never mix.
    let dir = Some(
        tempfile::Builder::new()
            .prefix("ferrokv-test")
            .tempdir()
            .expect("tempdir"),
    );
    let mut startup: Vec<(String, String)> = options
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    // No save rules unless a test asks for them: stopping a server then writes no
    // snapshot (Redis' default rules would).
    if !startup.iter().any(|(k, _)| k.eq_ignore_ascii_case("save")) {
        startup.insert(0, ("save".to_string(), String::new()));
    }
    launch(backend, dir, startup, "0").await
}

async fn launch(
    backend: Backend,
    dir: Option<tempfile::TempDir>,
    startup: Vec<(String, String)>,
    port: &str,
) -> TestServer {
    if against_redis() {
        let dir_path = dir.as_ref().expect("dir").path().to_path_buf();
        let mut args = vec!["--dir".to_string(), dir_path.display().to_string()];
        for (k, v) in &startup {
            args.push(format!("--{k}"));
            args.push(v.clone());
        }
        let reference = RedisServer::start_args(&args)
            .await
            .expect("FERROKV_TESTS_TARGET=redis needs redis-server");
        return TestServer {
            addr: reference.addr,
            backend,
            server: None,
            reference: Some(reference),
            dir,
            startup,
        };
    }
    let config = Config::new();
    config.set_startup("bind", "127.0.0.1").expect("bind");
    config.set_startup("port", port).expect("port");
    if let Some(dir) = &dir {
        if backend == Backend::Disk {
            config.set_startup("backend", "disk").expect("backend disk");
        }
        config
            .set_startup("dir", dir.path().to_str().expect("utf-8 tempdir"))
            .expect("dir");
    }
    for (name, value) in &startup {
        config
            .set_startup(name, value)
            .unwrap_or_else(|e| panic!("config {name} {value}: {e:?}"));
    }
    let server = RunningServer::start(config).await.expect("server starts");
    TestServer {
        addr: server.addr,
        backend,
        server: Some(server),
        reference: None,
        dir,
        startup,
    }
}

impl TestServer {
    /// The engine behind the server, for white-box checks.
    pub fn engine(&self) -> &Arc<Engine> {
        &self
            .server
            .as_ref()
            .expect("a running ferrokv server")
            .engine
    }

    /// The server's directory (`dir`: dump.rdb, the disk backend's files).
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_ref().map(|d| d.path())
    }

    /// A new raw RESP connection.
    pub async fn raw(&self) -> RawClient {
        RawClient::connect(self.addr).await
    }

    /// A new `redis-rs` multiplexed connection.
    pub async fn conn(&self) -> redis::aio::MultiplexedConnection {
        let client = redis::Client::open(format!("redis://{}/", self.addr)).expect("client");
        client
            .get_multiplexed_async_connection()
            .await
            .expect("redis-rs connects")
    }

    /// Stops the server (closing clients and flushing the backend). The disk directory
    /// lives on until the `TestServer` is dropped.
    pub async fn shutdown(&mut self) {
        if let Some(mut reference) = self.reference.take() {
            let mut c = reference.raw().await;
            c.send_bytes(&request(&[b"SHUTDOWN", b"SAVE"])).await;
            let _ = reference.child.wait();
        }
        if let Some(server) = self.server.take() {
            let engine = Arc::downgrade(&server.engine);
            server.stop().await.expect("server stops cleanly");
            // Connection tasks notice the stop asynchronously; the backend (and the disk
            // backend's directory lock) is released when the last of them lets go.
            let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
            while engine.strong_count() > 0 {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "the engine is still referenced 5 s after stop()"
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }

    /// Stops the server and starts a new one over the same directory and configuration,
    /// on the same port when it is still free.
    pub async fn restart(mut self) -> TestServer {
        self.shutdown().await;
        let dir = self.dir.take();
        let startup = std::mem::take(&mut self.startup);
        let port = self.addr.port().to_string();
        let config_port = if std::net::TcpListener::bind(("127.0.0.1", self.addr.port())).is_ok() {
            port.as_str()
        } else {
            "0"
        };
        launch(self.backend, dir, startup, config_port).await
    }

    /// Stops the server.
    pub async fn stop(mut self) {
        self.shutdown().await;
    }

    /// Stops the server and hands over its directory (kept alive by the caller).
    pub async fn stop_keep_dir(mut self) -> Option<tempfile::TempDir> {
        self.shutdown().await;
        self.dir.take()
    }

    /// Changes a startup option for the next [`TestServer::restart`].
    pub fn set_startup_option(&mut self, name: &str, value: &str) {
        self.startup.retain(|(k, _)| k != name);
        self.startup.push((name.to_string(), value.to_string()));
    }
}

/// The `ferrokv-server` binary of this build, (re)built once per test process so
/// that it matches the sources (`cargo test` builds only the library the tests link):
/// tests that must kill a server with SIGKILL run it as a separate process.
pub fn ferrokv_server_binary() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let exe = std::env::current_exe().expect("test executable");
            // target/<profile>/deps/<test> -> target/<profile>/ferrokv-server
            let profile_dir = exe
                .parent()
                .and_then(|deps| deps.parent())
                .expect("target profile directory");
            let binary = profile_dir.join("ferrokv-server");
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let release = profile_dir.file_name().is_some_and(|n| n == "release");
            let mut cmd = Command::new(cargo);
            cmd.args([
                "build",
                "-q",
                "-p",
                "ferrokv-server",
                "--bin",
                "ferrokv-server",
            ]);
            if release {
                cmd.arg("--release");
            }
            let status = cmd.status();
            assert!(
                status.is_ok_and(|s| s.success()) || binary.is_file(),
                "building ferrokv-server failed"
            );
            binary
        })
        .clone()
}

/// A `ferrokv-server` process (see [`ferrokv_server_binary`]); killed on drop.
pub struct ServerProcess {
    /// Where it listens.
    pub addr: SocketAddr,
    child: Child,
}

impl ServerProcess {
    /// Starts `ferrokv-server` on a free port with `--name value` arguments.
    pub async fn start(args: &[(&str, &str)]) -> ServerProcess {
        let binary = ferrokv_server_binary();
        for _ in 0..5 {
            let port = {
                let l = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
                l.local_addr().expect("addr").port()
            };
            let mut cmd = Command::new(&binary);
            cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1"]);
            for (k, v) in args {
                cmd.arg(format!("--{k}")).arg(v);
            }
            let child = cmd
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn ferrokv-server");
            let mut server = ServerProcess {
                addr: SocketAddr::from(([127, 0, 0, 1], port)),
                child,
            };
            for _ in 0..250 {
                if let Ok(stream) = TcpStream::connect(server.addr).await {
                    drop(stream);
                    return server;
                }
                if let Ok(Some(_)) = server.child.try_wait() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        panic!("ferrokv-server did not come up");
    }

    /// Kills the process with SIGKILL and waits for it.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A RESP client that shows exactly what the server sends.
pub struct RawClient {
    stream: TcpStream,
    buf: BytesMut,
    /// Encoding of the requests: always RESP2 multibulk (requests have no RESP3 form).
    closed: bool,
}

impl RawClient {
    /// Connects to `addr`.
    pub async fn connect(addr: SocketAddr) -> RawClient {
        let stream = TcpStream::connect(addr).await.expect("connects");
        stream.set_nodelay(true).expect("nodelay");
        RawClient {
            stream,
            buf: BytesMut::with_capacity(16 * 1024),
            closed: false,
        }
    }

    /// Sends one command as a multibulk request and reads its reply.
    pub async fn send(&mut self, args: &[&str]) -> Frame {
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        self.send_bin(&args).await
    }

    /// Sends one command with binary arguments and reads its reply.
    pub async fn send_bin(&mut self, args: &[&[u8]]) -> Frame {
        self.send_bytes(&request(args)).await;
        self.read_frame().await
    }

    /// Sends one command and returns its reply frame with the exact bytes it came in.
    pub async fn send_raw_reply(&mut self, args: &[&[u8]]) -> (Frame, Bytes) {
        self.send_bytes(&request(args)).await;
        self.read_reply().await
    }

    /// Writes bytes as they are.
    pub async fn send_bytes(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.expect("write to server");
    }

    /// Reads one reply, failing the test after [`REPLY_TIMEOUT`] or on EOF.
    pub async fn read_frame(&mut self) -> Frame {
        self.read_reply().await.0
    }

    /// Reads one reply and the bytes it was encoded in.
    pub async fn read_reply(&mut self) -> (Frame, Bytes) {
        match self.try_read_reply(REPLY_TIMEOUT).await {
            Some(reply) => reply,
            None if self.closed => panic!("connection closed while waiting for a reply"),
            None => panic!("no reply within {REPLY_TIMEOUT:?}"),
        }
    }

    /// Reads one reply if one arrives within `wait`; None on timeout or EOF.
    pub async fn try_read_frame(&mut self, wait: Duration) -> Option<Frame> {
        self.try_read_reply(wait).await.map(|(f, _)| f)
    }

    async fn try_read_reply(&mut self, wait: Duration) -> Option<(Frame, Bytes)> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let before = self.buf.clone();
            match decode_frame(&mut self.buf) {
                Ok(Some(frame)) => {
                    let used = before.len() - self.buf.len();
                    return Some((frame, before.freeze().slice(..used)));
                }
                Ok(None) => {}
                Err(e) => panic!(
                    "server sent an undecodable reply: {e:?}: {:?}",
                    String::from_utf8_lossy(&self.buf)
                ),
            }
            if self.closed {
                return None;
            }
            self.buf.reserve(16 * 1024);
            match tokio::time::timeout_at(deadline, self.stream.read_buf(&mut self.buf)).await {
                Err(_) => return None,
                Ok(Ok(0)) | Ok(Err(_)) => self.closed = true,
                Ok(Ok(_)) => {}
            }
        }
    }

    /// Whether the server has closed the connection (waits up to two seconds for EOF,
    /// discarding anything it still sends).
    pub async fn is_closed(&mut self) -> bool {
        self.is_closed_within(Duration::from_secs(2)).await
    }

    /// Whether the server closes the connection within `wait`.
    pub async fn is_closed_within(&mut self, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        while !self.closed {
            self.buf.clear();
            self.buf.reserve(16 * 1024);
            match tokio::time::timeout_at(deadline, self.stream.read_buf(&mut self.buf)).await {
                Err(_) => return false,
                Ok(Ok(0)) | Ok(Err(_)) => self.closed = true,
                Ok(Ok(_)) => {}
            }
        }
        true
    }

    /// Bytes received but not yet decoded as a reply.
    pub fn pending(&self) -> &[u8] {
        &self.buf
    }
}

/// A multibulk request for `args`.
pub fn request(args: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + args.iter().map(|a| a.len() + 16).sum::<usize>());
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for arg in args {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// How `frame` goes on the wire in `version`.
pub fn wire(frame: &Frame, version: RespVersion) -> Vec<u8> {
    let mut out = BytesMut::new();
    encode(frame, version, &mut out);
    out.to_vec()
}

/// `+OK`.
pub fn ok() -> Frame {
    Frame::ok()
}

/// A simple string reply.
pub fn simple(s: &str) -> Frame {
    Frame::Simple(Bytes::copy_from_slice(s.as_bytes()))
}

/// An error reply (`code message`, as written after the `-`).
pub fn err(s: &str) -> Frame {
    Frame::Error(Bytes::copy_from_slice(s.as_bytes()))
}

/// A bulk string reply.
pub fn bulk(s: impl AsRef<[u8]>) -> Frame {
    Frame::bulk(s)
}

/// An integer reply.
pub fn int(n: i64) -> Frame {
    Frame::Integer(n)
}

/// The null bulk reply (`$-1` in RESP2).
pub fn nil() -> Frame {
    Frame::Null
}

/// The null array reply (`*-1` in RESP2).
pub fn nil_array() -> Frame {
    Frame::NullArray
}

/// An array reply.
pub fn arr(items: Vec<Frame>) -> Frame {
    Frame::Array(items)
}

/// An array of bulk strings.
pub fn bulks(items: &[&str]) -> Frame {
    Frame::Array(items.iter().map(bulk).collect())
}

/// An array of integers.
pub fn ints(items: &[i64]) -> Frame {
    Frame::Array(items.iter().copied().map(Frame::Integer).collect())
}

/// The text of a bulk, simple, verbatim or error reply, or the integer as text.
pub fn text(frame: &Frame) -> String {
    match frame {
        Frame::Simple(b)
        | Frame::Error(b)
        | Frame::Bulk(b)
        | Frame::BigNumber(b)
        | Frame::DoubleText(b) => String::from_utf8_lossy(b).into_owned(),
        Frame::Verbatim { text, .. } => String::from_utf8_lossy(text).into_owned(),
        Frame::Integer(n) => n.to_string(),
        other => panic!("expected a string reply, got {other:?}"),
    }
}

/// The integer of an integer reply.
pub fn as_int(frame: &Frame) -> i64 {
    match frame {
        Frame::Integer(n) => *n,
        other => panic!("expected an integer reply, got {other:?}"),
    }
}

/// The items of an array (or set/push) reply.
pub fn items(frame: &Frame) -> &[Frame] {
    match frame {
        Frame::Array(v) | Frame::Set(v) | Frame::Push(v) => v,
        other => panic!("expected an array reply, got {other:?}"),
    }
}

/// The bulk strings of an array reply, as text, sorted.
pub fn sorted_texts(frame: &Frame) -> Vec<String> {
    let mut v: Vec<String> = items(frame).iter().map(text).collect();
    v.sort();
    v
}

/// Asserts that `frame` is an error whose text starts with `prefix`.
#[track_caller]
pub fn assert_err_prefix(frame: &Frame, prefix: &str) {
    match frame {
        Frame::Error(b) if b.starts_with(prefix.as_bytes()) => {}
        other => panic!("expected an error starting with {prefix:?}, got {other:?}"),
    }
}

/// `ERR wrong number of arguments for '<cmd>' command`, as Redis 7.0 words it.
pub fn wrong_args(cmd: &str) -> Frame {
    err(&format!(
        "ERR wrong number of arguments for '{cmd}' command"
    ))
}

/// `ERR syntax error`.
pub fn syntax_error() -> Frame {
    err("ERR syntax error")
}

/// `ERR value is not an integer or out of range`.
pub fn not_integer() -> Frame {
    err("ERR value is not an integer or out of range")
}

/// The WRONGTYPE error.
pub fn wrongtype() -> Frame {
    err("WRONGTYPE Operation against a key holding the wrong kind of value")
}

/// Polls `check` every 20 ms until it returns true or `within` has passed.
pub async fn eventually<F, Fut>(within: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The current Unix time in seconds.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
}

/// The current Unix time in milliseconds.
pub fn unix_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64
}

/// A small deterministic generator (xorshift64*), so that a failure replays exactly.
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
    /// One of `items`.
    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
    /// A number in `lo..=hi`.
    pub fn int(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }
}

/// A real `redis-server` process, for differential tests; killed on drop.
pub struct RedisServer {
    /// Where it listens.
    pub addr: SocketAddr,
    child: Child,
}

/// The `redis-server` binary, if one is installed (`REDIS_SERVER` overrides the search).
pub fn redis_server_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("REDIS_SERVER") {
        let p = PathBuf::from(p);
        return p.is_file().then_some(p);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("redis-server"))
        .find(|p| p.is_file())
}

impl RedisServer {
    /// Starts `redis-server` on a free port without persistence; None when it is not
    /// installed.
    pub async fn start() -> Option<RedisServer> {
        RedisServer::start_args(&[]).await
    }

    /// Starts `redis-server` with extra command-line arguments (`--name value`).
    pub async fn start_args(extra: &[String]) -> Option<RedisServer> {
        let binary = redis_server_path()?;
        for _ in 0..5 {
            let port = {
                let l = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
                l.local_addr().expect("addr").port()
            };
            let child = Command::new(&binary)
                .args([
                    "--port",
                    &port.to_string(),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ])
                .args([
                    "--daemonize",
                    "no",
                    "--logfile",
                    "",
                    "--loglevel",
                    "warning",
                ])
                .args(extra)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn redis-server");
            let mut server = RedisServer {
                addr: SocketAddr::from(([127, 0, 0, 1], port)),
                child,
            };
            for _ in 0..100 {
                if let Ok(stream) = TcpStream::connect(server.addr).await {
                    drop(stream);
                    let mut c = RawClient::connect(server.addr).await;
                    if c.send(&["PING"]).await == simple("PONG") {
                        return Some(server);
                    }
                }
                if let Ok(Some(_)) = server.child.try_wait() {
                    break; // port taken between the probe and the spawn: try another
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        panic!("redis-server did not come up");
    }

    /// A new raw connection.
    pub async fn raw(&self) -> RawClient {
        RawClient::connect(self.addr).await
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Writes each test body once and runs it on both backends.
///
/// ```text
/// backend_tests! {
///     async fn name(server: &TestServer) { /* ... */ }
/// }
/// ```
///
/// defines `async fn name(server: &TestServer)` and two tests, `memory::name` and
/// `disk::name`, each starting its own server on that backend.
#[macro_export]
macro_rules! backend_tests {
    ($(
        $(#[$meta:meta])*
        async fn $name:ident($server:ident : &TestServer) $body:block
    )*) => {
        $(
            $(#[$meta])*
            async fn $name($server: &$crate::TestServer) $body
        )*

        mod memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let server = $crate::start($crate::Backend::Memory).await;
                    super::$name(&server).await;
                    server.stop().await;
                }
            )*
        }

        mod disk {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let server = $crate::start($crate::Backend::Disk).await;
                    super::$name(&server).await;
                    server.stop().await;
                }
            )*
        }
    };
}
