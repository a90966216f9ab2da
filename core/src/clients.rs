//! Registry of connected clients: what `CLIENT LIST/INFO/KILL` and `INFO clients`
//! read. Connections own their sockets; the registry only holds shared metadata and a
//! way to ask a connection to close.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use parking_lot::Mutex;

/// Callback that wakes a connection task so it notices it was killed.
pub type Waker = Box<dyn Fn() + Send + Sync>;

/// Shared metadata of one connected client.
pub struct ClientHandle {
    /// Unique, increasing id (`CLIENT ID`).
    pub id: u64,
    /// Peer address `ip:port`.
    pub addr: String,
    /// Local address `ip:port`.
    pub laddr: String,
    /// When the connection was accepted.
    pub created: Instant,
    /// `CLIENT SETNAME` / `HELLO ... SETNAME`.
    pub name: Mutex<Option<Bytes>>,
    /// Selected db, mirrored from the session for `CLIENT LIST`.
    pub db: AtomicUsize,
    /// Protocol version (2 or 3), mirrored for `CLIENT LIST`.
    pub resp: AtomicU8,
    /// Unix ms of the last command, for `idle=` and the idle `timeout`.
    pub last_interaction_ms: AtomicU64,
    /// Name of the last command (`cmd=`).
    pub last_cmd: Mutex<String>,
    /// Bytes waiting in the query buffer (`qbuf=`), reported by the connection.
    pub query_buffer: AtomicUsize,
    /// Bytes waiting in the output buffer (`omem=`), reported by the connection.
    pub output_buffer: AtomicUsize,
    /// Set by `CLIENT KILL`; the connection closes as soon as it sees it.
    pub killed: AtomicBool,
    /// Parked by a blocking command (`flags=b`).
    pub blocked: AtomicBool,
    /// Channels, patterns and shard channels subscribed (`sub=`, `psub=`, `ssub=`;
    /// any of them makes `flags=P`), mirrored by the pub/sub registry.
    pub subscriptions: [AtomicUsize; 3],
    /// Client-side caching state (`CLIENT TRACKING`), read by the writers that
    /// invalidate this client's keys.
    pub tracking: crate::tracking::ClientTracking,
    /// Queued commands while in `MULTI` (`multi=`), -1 outside a transaction.
    pub multi: std::sync::atomic::AtomicI64,
    /// Connection-level flags other clients see (`CLIENT LIST` `flags=`,
    /// `CLIENT KILL`): see the `FLAG_*` constants.
    pub flags: std::sync::atomic::AtomicU32,
    /// The queue of out-of-band frames (pub/sub messages, RESP3 pushes such as
    /// tracking invalidations) the connection drains into its socket; created on
    /// first use, possibly by another client (an invalidation redirected here).
    outbox: Mutex<Option<Arc<crate::pubsub::Subscriber>>>,
    /// Whether `outbox` was ever filled: spares most commands the lock.
    has_outbox: AtomicBool,
    waker: Option<Waker>,
}

/// `flags=x`: inside `MULTI`.
pub const FLAG_MULTI: u32 = 1;
/// `flags=d`: a watched key changed (the next `EXEC` will fail).
pub const FLAG_DIRTY_CAS: u32 = 1 << 1;
/// `flags=e`: `CLIENT NO-EVICT on`.
pub const FLAG_NO_EVICT: u32 = 1 << 2;
/// `flags=T`: `CLIENT NO-TOUCH on` (Redis 7.2).
pub const FLAG_NO_TOUCH: u32 = 1 << 3;

impl std::fmt::Debug for ClientHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientHandle")
            .field("id", &self.id)
            .field("addr", &self.addr)
            .finish()
    }
}

/// Current Unix time in milliseconds.
pub fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl ClientHandle {
    /// Asks the connection to close (`CLIENT KILL`).
    pub fn kill(&self) {
        self.killed.store(true, Ordering::SeqCst);
        self.wake();
    }

    /// Wakes the connection task (kill, or a push queue created by another client).
    pub fn wake(&self) {
        if let Some(w) = &self.waker {
            w();
        }
    }

    /// The client's push queue, if it has one.
    pub fn queue(&self) -> Option<Arc<crate::pubsub::Subscriber>> {
        if !self.has_outbox.load(Ordering::Acquire) {
            return None;
        }
        self.outbox.lock().clone()
    }

    /// The client's push queue, created (and the connection woken to drain it) if
    /// it had none.
    pub fn push_queue(self: &Arc<Self>) -> Arc<crate::pubsub::Subscriber> {
        let mut slot = self.outbox.lock();
        if let Some(q) = &*slot {
            return q.clone();
        }
        let q = Arc::new(crate::pubsub::Subscriber::new(self.clone()));
        *slot = Some(q.clone());
        self.has_outbox.store(true, Ordering::Release);
        drop(slot);
        self.wake();
        q
    }

    /// Whether a connection flag (`FLAG_*`) is set.
    pub fn has_flag(&self, flag: u32) -> bool {
        self.flags.load(Ordering::Relaxed) & flag != 0
    }

    /// Sets or clears a connection flag (`FLAG_*`).
    pub fn set_flag(&self, flag: u32, on: bool) {
        if on {
            self.flags.fetch_or(flag, Ordering::Relaxed);
        } else {
            self.flags.fetch_and(!flag, Ordering::Relaxed);
        }
    }

    /// Whether the client has any channel, pattern or shard channel subscription
    /// (Redis' `CLIENT_PUBSUB`).
    pub fn is_subscribed(&self) -> bool {
        self.subscriptions
            .iter()
            .any(|n| n.load(Ordering::Relaxed) > 0)
    }

    /// Redis' `flags=` letters of `CLIENT LIST`, in Redis' order (`N` for none).
    pub fn flag_letters(&self) -> String {
        let flags = self.flags.load(Ordering::Relaxed);
        let tracking = self.tracking.flags();
        let mut out = String::new();
        let mut put = |on: bool, c: char| {
            if on {
                out.push(c);
            }
        };
        use crate::tracking as t;
        put(self.is_subscribed(), 'P');
        put(flags & FLAG_MULTI != 0, 'x');
        put(self.blocked.load(Ordering::Relaxed), 'b');
        put(tracking & t::ON != 0, 't');
        put(tracking & t::BROKEN_REDIRECT != 0, 'R');
        put(tracking & t::BCAST != 0, 'B');
        put(flags & FLAG_DIRTY_CAS != 0, 'd');
        put(flags & FLAG_NO_EVICT != 0, 'e');
        put(flags & FLAG_NO_TOUCH != 0, 'T');
        if out.is_empty() {
            out.push('N');
        }
        out
    }

    /// Whether `CLIENT KILL` targeted this client.
    pub fn is_killed(&self) -> bool {
        self.killed.load(Ordering::Relaxed)
    }

    /// Records the time of the last interaction (`idle=`, the idle `timeout`). The
    /// server calls it once per read rather than per command, saving a clock read
    /// per pipelined command.
    pub fn touch(&self, now_ms: u64) {
        self.last_interaction_ms.store(now_ms, Ordering::Relaxed);
    }

    /// Records the last command for `cmd=`.
    pub fn note_command(&self, name: &str) {
        let mut last = self.last_cmd.lock();
        if last.as_str() != name {
            last.clear();
            last.push_str(name);
        }
    }

    /// The client's name, if set.
    pub fn name(&self) -> Option<Bytes> {
        self.name.lock().clone()
    }

    /// One `CLIENT LIST` line (without the trailing newline), with Redis 7.0's fields.
    pub fn info_line(&self) -> String {
        let now = unix_ms();
        let name = self
            .name()
            .map(|n| String::from_utf8_lossy(&n).into_owned())
            .unwrap_or_default();
        let idle = now.saturating_sub(self.last_interaction_ms.load(Ordering::Relaxed)) / 1000;
        let qbuf = self.query_buffer.load(Ordering::Relaxed);
        let omem = self.output_buffer.load(Ordering::Relaxed);
        let subs = self
            .subscriptions
            .each_ref()
            .map(|n| n.load(Ordering::Relaxed));
        format!(
            "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} multi={} qbuf={} qbuf-free={} argv-mem=0 multi-mem=0 rbs=16384 rbp=0 obl=0 oll=0 omem={} tot-mem={} events=r cmd={} user=default redir={} resp={}",
            self.id,
            self.addr,
            self.laddr,
            self.id + 7,
            name,
            self.created.elapsed().as_secs(),
            idle,
            self.flag_letters(),
            self.db.load(Ordering::Relaxed),
            subs[0],
            subs[1],
            subs[2],
            self.multi.load(Ordering::Relaxed),
            qbuf,
            16384usize.saturating_sub(qbuf),
            omem,
            qbuf + omem + 16384,
            self.last_cmd.lock(),
            self.tracking.redirect_for_list(),
            self.resp.load(Ordering::Relaxed),
        )
    }
}

/// All connected clients, by id.
#[derive(Default)]
pub struct ClientRegistry {
    next_id: AtomicU64,
    clients: Mutex<BTreeMap<u64, Arc<ClientHandle>>>,
}

impl ClientRegistry {
    /// Registers a new connection and returns its shared handle.
    pub fn register(&self, addr: String, laddr: String, waker: Option<Waker>) -> Arc<ClientHandle> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let handle = Arc::new(ClientHandle {
            id,
            addr,
            laddr,
            created: Instant::now(),
            name: Mutex::new(None),
            db: AtomicUsize::new(0),
            resp: AtomicU8::new(2),
            last_interaction_ms: AtomicU64::new(unix_ms()),
            last_cmd: Mutex::new(String::from("NULL")),
            query_buffer: AtomicUsize::new(0),
            output_buffer: AtomicUsize::new(0),
            killed: AtomicBool::new(false),
            blocked: AtomicBool::new(false),
            subscriptions: Default::default(),
            tracking: Default::default(),
            multi: std::sync::atomic::AtomicI64::new(-1),
            flags: Default::default(),
            outbox: Mutex::new(None),
            has_outbox: AtomicBool::new(false),
            waker,
        });
        self.clients.lock().insert(id, handle.clone());
        handle
    }

    /// Removes a closed connection, dropping its push queue (which refers back to
    /// the handle).
    pub fn unregister(&self, id: u64) {
        let client = self.clients.lock().remove(&id);
        if let Some(client) = client {
            client.outbox.lock().take();
        }
    }

    /// Number of connected clients.
    pub fn len(&self) -> usize {
        self.clients.lock().len()
    }

    /// Whether no client is connected.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Snapshot of all clients, ordered by id.
    pub fn all(&self) -> Vec<Arc<ClientHandle>> {
        self.clients.lock().values().cloned().collect()
    }

    /// The client with this id.
    pub fn get(&self, id: u64) -> Option<Arc<ClientHandle>> {
        self.clients.lock().get(&id).cloned()
    }
}
