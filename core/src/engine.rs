//! The engine: finds a command in the table, checks it, locks its keys and runs it.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use ferrokv_protocol::Frame;
use parking_lot::Mutex;

use crate::blocking::BlockingRegistry;
use crate::clients::{ClientRegistry, Waker};
use crate::cmdstats::CommandStats;
use crate::command::{CmdError, CmdFlags, CommandSpec, Ctx};
use crate::commands;
use crate::commands::transactions::MultiState;
use crate::config::Config;
use crate::session::Session;
use crate::stats::Stats;
use crate::storage::{DbIndex, EncodingLimits, ExpireStats, Scope, StorageBackend, Txn};
use crate::watch::{WatchRegistry, WatchTxn};

/// How `SHUTDOWN` asked the server to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShutdownMode {
    /// `SHUTDOWN` / `SHUTDOWN SAVE`: persist if configured, then exit.
    Save,
    /// `SHUTDOWN NOSAVE`: exit without saving.
    NoSave,
}

/// The command engine shared by every connection.
pub struct Engine {
    backend: Arc<dyn StorageBackend>,
    table: HashMap<Vec<u8>, &'static CommandSpec>,
    /// Runtime configuration (`CONFIG GET/SET`).
    pub config: Config,
    /// Connected clients.
    pub clients: ClientRegistry,
    /// `INFO stats` counters.
    pub stats: Stats,
    /// `INFO commandstats` and `INFO errorstats` counters.
    pub command_stats: CommandStats,
    /// Clients parked by blocking commands.
    pub blocking: BlockingRegistry,
    /// Pub/sub subscriptions and delivery queues.
    pub pubsub: crate::pubsub::PubSub,
    /// Enabled keyspace notification classes (`notify-keyspace-events`).
    pub notify: crate::notify::Notifier,
    /// Keys clients `WATCH`.
    pub watches: Arc<WatchRegistry>,
    /// Client-side caching: keys tracking clients read, broadcast prefixes.
    pub tracking: crate::tracking::Tracking,
    /// `CLIENT PAUSE` state.
    pub pause: crate::pause::Pause,
    /// Where write commands' effects go (the append-only file).
    pub propagation: crate::propagate::Propagation,
    /// When the engine started (`uptime_in_seconds`).
    pub started: Instant,
    /// Random 40-hex-digit id of this run (`run_id`).
    pub run_id: String,
    /// Snapshot state: dirty counter, last save, background save.
    pub persistence: Arc<crate::persistence::Persistence>,
    shutdown: Mutex<Option<ShutdownMode>>,
    shutdown_waker: Mutex<Option<Waker>>,
    /// The backend's `dataset_bytes`, measured outside any command scope: backends lock
    /// their data to measure it, so INFO (which runs inside a scope) cannot ask directly.
    dataset_bytes: AtomicU64,
    /// `stream-node-max-entries` and `stream-node-max-bytes`, refreshed with the
    /// encoding limits, so XADD reads two atomics instead of the configuration.
    stream_node_limits: [AtomicU64; 2],
}

impl Engine {
    /// An engine over `backend` with configuration `config`.
    pub fn new(backend: Arc<dyn StorageBackend>, config: Config) -> Engine {
        let specs = commands::all();
        let command_stats = CommandStats::new(specs.iter().copied());
        let table = specs
            .iter()
            .map(|spec| (spec.name.as_bytes().to_vec(), *spec))
            .collect();
        let dataset_bytes = backend.dataset_bytes();
        let run_id = (0..40)
            .map(|_| format!("{:x}", rand::random::<u8>() & 0xf))
            .collect();
        let engine = Engine {
            backend,
            table,
            config,
            clients: ClientRegistry::default(),
            stats: Stats::default(),
            command_stats,
            blocking: BlockingRegistry::default(),
            pubsub: Default::default(),
            notify: Default::default(),
            watches: Arc::default(),
            tracking: Default::default(),
            pause: Default::default(),
            propagation: Default::default(),
            started: Instant::now(),
            run_id,
            persistence: Arc::default(),
            shutdown: Mutex::new(None),
            shutdown_waker: Mutex::new(None),
            dataset_bytes: AtomicU64::new(dataset_bytes),
            stream_node_limits: [AtomicU64::new(100), AtomicU64::new(4096)],
        };
        engine.apply_encoding_limits();
        engine.notify.refresh(&engine.config);
        engine.tracking.refresh(&engine.config);
        engine
    }

    /// Hands the collection encoding thresholds of the configuration to the backend
    /// (at start and after `CONFIG SET`).
    pub fn apply_encoding_limits(&self) {
        let c = &self.config;
        let size = |name: &str| c.get_i64(name).max(0) as usize;
        self.backend.set_encoding_limits(EncodingLimits {
            hash_max_listpack_entries: size("hash-max-listpack-entries"),
            hash_max_listpack_value: size("hash-max-listpack-value"),
            set_max_intset_entries: size("set-max-intset-entries"),
            zset_max_listpack_entries: size("zset-max-listpack-entries"),
            zset_max_listpack_value: size("zset-max-listpack-value"),
            list_max_listpack_size: c.get_i64("list-max-listpack-size"),
        });
        let [entries, bytes] = &self.stream_node_limits;
        entries.store(
            c.get_i64("stream-node-max-entries").max(0) as u64,
            Ordering::Relaxed,
        );
        bytes.store(
            c.get_i64("stream-node-max-bytes").max(0) as u64,
            Ordering::Relaxed,
        );
    }

    /// `stream-node-max-entries` and `stream-node-max-bytes` as last applied.
    pub fn stream_node_limits(&self) -> crate::storage::NodeLimits {
        let [entries, bytes] = &self.stream_node_limits;
        crate::storage::NodeLimits {
            max_entries: entries.load(Ordering::Relaxed),
            max_bytes: bytes.load(Ordering::Relaxed),
        }
    }

    /// The storage backend.
    pub fn backend(&self) -> &dyn StorageBackend {
        &*self.backend
    }

    /// The storage backend, shared (a background save holds it).
    pub fn backend_arc(&self) -> Arc<dyn StorageBackend> {
        self.backend.clone()
    }

    /// The spec of a top-level command, by case-insensitive name.
    pub fn command(&self, name: &[u8]) -> Option<&'static CommandSpec> {
        if name.iter().any(|b| b.is_ascii_uppercase()) {
            self.table.get(&name.to_ascii_lowercase()).copied()
        } else {
            self.table.get(name).copied()
        }
    }

    /// Every top-level command spec.
    pub fn commands(&self) -> impl Iterator<Item = &'static CommandSpec> + '_ {
        self.table.values().copied()
    }

    /// Runs one command for `session` and returns its reply. When
    /// `session.suppress_reply` is set afterwards, the reply must not be sent
    /// (`CLIENT REPLY off|skip`).
    pub fn execute(&self, session: &mut Session, argv: &[Bytes]) -> Frame {
        session.suppress_reply = false;
        session.push_mark = None;
        let reply = self.dispatch(session, argv);
        self.after_command(session, argv);
        reply
    }

    /// While clients are paused: the Unix ms until which this request must wait
    /// before [`Engine::execute`] runs it (Redis' `processCommand` pause check, after
    /// the checks that refuse a command outright). `None` when it may run now.
    pub fn must_pause(&self, session: &Session, argv: &[Bytes]) -> Option<u64> {
        let (kind, until) = self.pause.current()?;
        let spec = self.resolve(argv).ok()?;
        if crate::pubsub::refused_in_subscribed_mode(session, spec) {
            return None;
        }
        let writes = |spec: &CommandSpec| {
            spec.flags.has(CmdFlags::WRITE) || spec.flags.has(CmdFlags::MAY_REPLICATE)
        };
        let held = match kind {
            crate::pause::PauseKind::All => true,
            crate::pause::PauseKind::Write => {
                writes(spec)
                    || (spec.name == "exec"
                        && session
                            .multi
                            .as_ref()
                            .is_some_and(|m| m.commands.iter().any(|(s, _)| writes(s))))
            }
        };
        held.then_some(until)
    }

    /// Per-client bookkeeping after every request, as Redis' `resetClient` and
    /// `trackingHandlePendingKeyInvalidations`: the invalidations the command caused
    /// for its own client, the one-command `CLIENT CACHING` and `CLIENT REPLY skip`
    /// states, and the `MULTI` state `CLIENT LIST` shows.
    fn after_command(&self, session: &mut Session, argv: &[Bytes]) {
        if !session.pending_invalidations.is_empty() {
            self.send_pending_invalidations(session);
        }
        let in_multi = session.multi.is_some();
        if session.tracking_caching
            && !in_multi
            && !argv
                .first()
                .is_some_and(|n| n.eq_ignore_ascii_case(b"client"))
        {
            session.tracking_caching = false;
        }
        session.suppress_reply |= session.reply_off || session.reply_skip;
        session.reply_skip = std::mem::take(&mut session.reply_skip_next);
        let queued = session
            .multi
            .as_ref()
            .map_or(-1, |m| m.commands.len() as i64);
        let client = &session.client;
        if client.multi.load(Ordering::Relaxed) != queued {
            client.multi.store(queued, Ordering::Relaxed);
            client.set_flag(crate::clients::FLAG_MULTI, in_multi);
        }
    }

    /// Sends the invalidations a client's own command caused (after its reply).
    fn send_pending_invalidations(&self, session: &mut Session) {
        for message in std::mem::take(&mut session.pending_invalidations) {
            crate::tracking::send(&self.clients, &session.client, &message);
        }
    }

    /// [`Engine::execute`] before the per-client bookkeeping.
    fn dispatch(&self, session: &mut Session, argv: &[Bytes]) -> Frame {
        if let Some(refusal) = crate::pubsub::refuse_in_subscribed_mode(self, session, argv) {
            // Refused as Redis' `rejectCommand`, which also aborts an open transaction.
            flag_transaction(session);
            return refusal;
        }
        if session.multi.is_some() {
            if let Some(reply) = self.execute_in_multi(session, argv) {
                return reply;
            }
        }
        Stats::add(&self.stats.commands_processed, 1);
        let reply = match self.resolve(argv) {
            Ok(spec) if self.refuses_writes(spec) => {
                if let Some(stat) = self.command_stats.get(spec) {
                    stat.rejected.fetch_add(1, Ordering::Relaxed);
                }
                Frame::error(crate::persistence::MISCONF)
            }
            Ok(spec) => {
                let reply = self.run_counted(session, spec, argv);
                if spec.flags.has(CmdFlags::WRITE) && !reply.is_error() {
                    self.persistence.add_dirty(1);
                }
                let extra = std::mem::take(&mut session.extra_written_keys);
                if self.blocking.any() && spec.flags.has(CmdFlags::WRITE) {
                    if spec.flags.has(CmdFlags::WHOLE_KEYSPACE) {
                        // FLUSHALL, FLUSHDB, SWAPDB: any waited key may have
                        // changed (Redis re-checks them: a list brought in by
                        // SWAPDB serves, a stream gone unblocks XREADGROUP).
                        for (db, key) in self.blocking.all_waited_keys() {
                            self.serve_blocked(db, &[&key]);
                        }
                    } else {
                        let keys: Vec<&Bytes> = spec
                            .key_indexes(argv)
                            .into_iter()
                            .map(|i| &argv[i])
                            .chain(&extra)
                            .collect();
                        self.serve_blocked(session.db, &keys);
                    }
                }
                if (session.multi.is_some() || !session.watched.is_empty())
                    && argv[0].eq_ignore_ascii_case(b"reset")
                    && !reply.is_error()
                {
                    // RESET leaves MULTI and forgets the watches (Redis' clearClientConnectionState).
                    session.multi = None;
                    session.watched.unwatch_all();
                }
                reply
            }
            Err((e, spec)) => {
                if let Some(stat) = spec.and_then(|s| self.command_stats.get(s)) {
                    stat.rejected.fetch_add(1, Ordering::Relaxed);
                }
                e.into()
            }
        };
        if let Frame::Error(message) = &reply {
            self.note_error_reply(message);
        }
        reply
    }

    /// Whether `spec` must be refused with `MISCONF` (a failed background save with
    /// `stop-writes-on-bgsave-error yes`): writes and PING, as in Redis.
    fn refuses_writes(&self, spec: &CommandSpec) -> bool {
        (spec.flags.has(CmdFlags::WRITE) || spec.name == "ping")
            && self.persistence.writes_refused(&self.config)
    }

    /// Inside `MULTI`: queues the command, refuses it (flagging the transaction so
    /// that `EXEC` aborts), or runs `EXEC`. `None` for the commands that run at once
    /// even inside a transaction (DISCARD, MULTI, WATCH, QUIT, RESET), as in Redis'
    /// `processCommand`.
    fn execute_in_multi(&self, session: &mut Session, argv: &[Bytes]) -> Option<Frame> {
        let name = argv.first()?;
        let runs_now = ["exec", "discard", "multi", "watch", "quit", "reset"]
            .iter()
            .any(|c| name.eq_ignore_ascii_case(c.as_bytes()));
        let reply = match self.resolve(argv) {
            Err((e, spec)) => {
                Stats::add(&self.stats.commands_processed, 1);
                if let Some(stat) = spec.and_then(|s| self.command_stats.get(s)) {
                    stat.rejected.fetch_add(1, Ordering::Relaxed);
                }
                if name.eq_ignore_ascii_case(b"exec") {
                    // A refused EXEC ends the transaction (Redis' execCommandAbort).
                    session.multi = None;
                    session.watched.unwatch_all();
                    let reason = e.0.strip_prefix("ERR ").unwrap_or(&e.0);
                    CmdError(format!(
                        "EXECABORT Transaction discarded because of: {reason}"
                    ))
                    .into()
                } else {
                    flag_transaction(session);
                    e.into()
                }
            }
            Ok(spec) if runs_now => {
                if !name.eq_ignore_ascii_case(b"exec") {
                    return None;
                }
                self.exec(session, spec)
            }
            Ok(spec) if spec.flags.has(CmdFlags::NO_MULTI) => {
                Stats::add(&self.stats.commands_processed, 1);
                if let Some(stat) = self.command_stats.get(spec) {
                    stat.rejected.fetch_add(1, Ordering::Relaxed);
                }
                flag_transaction(session);
                CmdError::err("Command not allowed inside a transaction").into()
            }
            Ok(spec) => {
                let dirty = session.watched.is_dirty();
                if let Some(multi) = session.multi.as_mut() {
                    // No sense keeping the commands of a transaction that will abort
                    // (Redis' `queueMultiCommand`).
                    if !multi.failed && !dirty {
                        multi.commands.push((spec, argv.to_vec()));
                    }
                }
                return Some(Frame::simple("QUEUED"));
            }
        };
        if let Frame::Error(message) = &reply {
            self.note_error_reply(message);
        }
        Some(reply)
    }

    /// `EXEC` inside a transaction: aborts it for queuing errors (`EXECABORT`) or a
    /// changed watched key (null array), or runs the queue.
    fn exec(&self, session: &mut Session, spec: &'static CommandSpec) -> Frame {
        Stats::add(&self.stats.commands_processed, 1);
        let stat = self.command_stats.get(spec);
        session
            .client
            .note_command(stat.map_or(spec.name, |s| s.name.as_str()));
        let started = Instant::now();
        let state = session.multi.take().unwrap_or_default();
        let reply = if state.failed {
            session.watched.unwatch_all();
            Frame::error("EXECABORT Transaction discarded because of previous errors.")
        } else {
            let (reply, written) = self.exec_queue(session, state);
            if self.blocking.any() && !written.is_empty() {
                let mut dbs: Vec<DbIndex> = written.iter().map(|(db, _)| *db).collect();
                dbs.sort_unstable();
                dbs.dedup();
                for db in dbs {
                    let keys: Vec<&Bytes> = written
                        .iter()
                        .filter(|(d, _)| *d == db)
                        .map(|(_, k)| k)
                        .collect();
                    self.serve_blocked(db, &keys);
                }
            }
            reply
        };
        self.account(stat, started, &reply);
        reply
    }

    /// Runs the queued commands in order inside one atomic scope over all their keys
    /// and the watched ones (everything if one needs the whole keyspace), after
    /// checking the watches under those locks. Returns the reply and the keys the
    /// write commands wrote, to serve blocked clients afterwards.
    fn exec_queue(
        &self,
        session: &mut Session,
        state: MultiState,
    ) -> (Frame, Vec<(DbIndex, Bytes)>) {
        let commands = state.commands;
        if session.watched.is_dirty() {
            session.watched.unwatch_all();
            return (Frame::NullArray, Vec::new());
        }
        let whole = commands
            .iter()
            .any(|(spec, _)| spec.flags.has(CmdFlags::WHOLE_KEYSPACE));
        let mut keys: Vec<Bytes> = Vec::new();
        if !whole {
            for (spec, argv) in &commands {
                keys.extend(spec.key_indexes(argv).into_iter().map(|i| argv[i].clone()));
            }
            keys.extend(session.watched.keys().iter().map(|w| w.key.clone()));
            keys.sort_unstable();
            keys.dedup();
        }
        // Blocking commands answer as their timeout would (Redis' CLIENT_DENY_BLOCKING).
        let no_block = std::mem::replace(&mut session.no_block, true);
        let mut replies = Vec::with_capacity(commands.len());
        let mut written: Vec<(DbIndex, Bytes)> = Vec::new();
        let mut aborted = false;
        let mut body = |txn: &mut dyn Txn| {
            if session.watched.is_dirty() || session.watched.expired_since_watch(txn) {
                aborted = true;
                return;
            }
            session.watched.unwatch_all();
            // Checked under the keys' locks: a client blocked on one of them
            // registered before this scope, so nothing is missed by not collecting
            // written keys when nobody is blocked.
            let note_written = self.blocking.any();
            for (spec, argv) in &commands {
                Stats::add(&self.stats.commands_processed, 1);
                let stat = self.command_stats.get(spec);
                let started = Instant::now();
                let reply = self.call(session, spec, argv, txn);
                self.account(stat, started, &reply);
                if let Frame::Error(message) = &reply {
                    self.note_error_reply(message);
                }
                let extra = std::mem::take(&mut session.extra_written_keys);
                if spec.flags.has(CmdFlags::WRITE) && !reply.is_error() {
                    self.persistence.add_dirty(1);
                }
                if note_written && spec.flags.has(CmdFlags::WRITE) {
                    let db = session.db;
                    written.extend(
                        spec.key_indexes(argv)
                            .into_iter()
                            .map(|i| (db, argv[i].clone()))
                            .chain(extra.into_iter().map(|k| (db, k))),
                    );
                }
                replies.push(reply);
            }
            self.flush_propagation(session);
        };
        let committed = if whole {
            self.backend.atomic(Scope::All, &mut body)
        } else {
            self.backend.atomic(Scope::Keys(&keys), &mut body)
        };
        session.no_block = no_block;
        session.watched.unwatch_all();
        let reply = match committed {
            Err(e) => CmdError::from(e).into(),
            Ok(()) if aborted => Frame::NullArray,
            Ok(()) => Frame::Array(replies),
        };
        (reply, written)
    }

    /// After a write to `keys` of `db`, serves clients blocked on them, oldest first.
    /// A served command that writes (BLMOVE's destination) may make further keys
    /// ready; those are served in turn, as Redis' `handleClientsBlockedOnKeys` does.
    fn serve_blocked(&self, db: DbIndex, keys: &[&Bytes]) {
        let mut ready: VecDeque<Bytes> = self.blocking.waited_keys(db, keys).into();
        while let Some(key) = ready.pop_front() {
            self.blocking.serve_key(db, &key, &mut |waiter| {
                let spec = self.resolve(&waiter.argv).ok()?;
                let mut session = Session::new(waiter.client.clone());
                session.db = waiter.db;
                session.resp = waiter.resp;
                session.no_block = true;
                session.serving = true;
                let reply = self.run(&mut session, spec, &waiter.argv);
                if !session.pending_invalidations.is_empty() {
                    self.send_pending_invalidations(&mut session);
                }
                let final_error = matches!(&reply, Frame::Error(e)
                    if UNBLOCK_ERRORS.iter().any(|u| e.starts_with(u)));
                if matches!(reply, Frame::Null | Frame::NullArray | Frame::Error(_)) && !final_error
                {
                    return None;
                }
                let written: Vec<&Bytes> = spec
                    .key_indexes(&waiter.argv)
                    .into_iter()
                    .map(|i| &waiter.argv[i])
                    .filter(|k| **k != key)
                    .collect();
                ready.extend(self.blocking.waited_keys(db, &written));
                Some(reply)
            });
        }
    }

    /// Counts an error reply for `INFO stats` and `INFO errorstats` (the server calls
    /// it for protocol errors, which never reach `execute`).
    pub fn note_error_reply(&self, message: &[u8]) {
        Stats::add(&self.stats.error_replies, 1);
        self.command_stats.note_error(message);
    }

    /// Finds the spec (or subcommand spec) for `argv` and checks its arity. A refusal
    /// names the spec it is counted against, if one was found.
    fn resolve(
        &self,
        argv: &[Bytes],
    ) -> Result<&'static CommandSpec, (CmdError, Option<&'static CommandSpec>)> {
        let Some(name) = argv.first() else {
            return Err((CmdError::err("empty command"), None));
        };
        let Some(spec) = self.command(name) else {
            return Err((unknown_command(argv), None));
        };
        if spec.subcommands.is_empty() || argv.len() < 2 {
            if !spec.arity_ok(argv.len()) {
                return Err((CmdError::arity(spec.name), Some(spec)));
            }
            return Ok(spec);
        }
        let sub_name = argv[1].to_ascii_lowercase();
        let Some(sub) = spec
            .subcommands
            .iter()
            .find(|s| s.name.as_bytes() == sub_name)
        else {
            let e = CmdError(format!(
                "ERR unknown subcommand '{}'. Try {} HELP.",
                sanitize(&String::from_utf8_lossy(&argv[1]), 128),
                spec.name.to_ascii_uppercase()
            ));
            return Err((e, None));
        };
        if !sub.arity_ok(argv.len()) {
            return Err((
                CmdError::arity(&format!("{}|{}", spec.name, sub.name)),
                Some(sub),
            ));
        }
        Ok(sub)
    }

    /// Runs a resolved command and records it for `INFO commandstats` and `CLIENT LIST`.
    fn run_counted(
        &self,
        session: &mut Session,
        spec: &'static CommandSpec,
        argv: &[Bytes],
    ) -> Frame {
        let stat = self.command_stats.get(spec);
        session
            .client
            .note_command(stat.map_or(spec.name, |s| s.name.as_str()));
        let started = Instant::now();
        let reply = self.run(session, spec, argv);
        self.account(stat, started, &reply);
        reply
    }

    /// Records one call that ran for `INFO commandstats`.
    fn account(
        &self,
        stat: Option<&crate::cmdstats::CommandStat>,
        started: Instant,
        reply: &Frame,
    ) {
        if let Some(stat) = stat {
            stat.calls.fetch_add(1, Ordering::Relaxed);
            stat.usec
                .fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
            if reply.is_error() {
                stat.failed.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Runs a resolved command in its own atomic scope over its keys.
    fn run(&self, session: &mut Session, spec: &'static CommandSpec, argv: &[Bytes]) -> Frame {
        if spec.handler.is_none() {
            return CmdError::arity(spec.name).into();
        }
        let mut reply = None;
        let mut body = |txn: &mut dyn Txn| {
            reply = Some(self.call(session, spec, argv, txn));
            self.flush_propagation(session);
        };
        let committed = if spec.flags.has(CmdFlags::WHOLE_KEYSPACE) {
            self.backend.atomic(Scope::All, &mut body)
        } else {
            match contiguous_keys(spec, argv) {
                // The common case (GET, SET, DEL, MGET...): lock a slice of argv as is.
                Some(keys) => self.backend.atomic(Scope::Keys(keys), &mut body),
                None => {
                    let keys: Vec<Bytes> = spec
                        .key_indexes(argv)
                        .into_iter()
                        .map(|i| argv[i].clone())
                        .collect();
                    self.backend.atomic(Scope::Keys(&keys), &mut body)
                }
            }
        };
        let deferred = session.deferred.take();
        match committed {
            Ok(()) => match deferred {
                Some(work) if !reply.as_ref().is_some_and(Frame::is_error) => {
                    crate::persistence::run_deferred(self, session, work)
                }
                _ => reply
                    .unwrap_or_else(|| Frame::error("ERR storage backend did not run the command")),
            },
            Err(e) => CmdError::from(e).into(),
        }
    }

    /// Runs a resolved command's handler on `txn`, a scope already holding its keys.
    /// While any key is watched, the command runs on a [`WatchTxn`] that marks the
    /// watchers of every key it changes; the check is made here, inside the scope, so
    /// that a `WATCH` of one of these keys either precedes it or follows the command.
    fn call(
        &self,
        session: &mut Session,
        spec: &'static CommandSpec,
        argv: &[Bytes],
        txn: &mut dyn Txn,
    ) -> Frame {
        let Some(handler) = spec.handler else {
            return CmdError::arity(spec.name).into();
        };
        // `CLIENT NO-TOUCH` (Redis 7.2): nothing but TOUCH updates access times.
        let no_touch =
            session.client.has_flag(crate::clients::FLAG_NO_TOUCH) && spec.name != "touch";
        if no_touch {
            txn.set_no_touch(true);
        }
        // While clients are paused, reads leave expired keys in place.
        let keep_expired = !spec.flags.has(CmdFlags::WRITE) && self.pause.is_paused();
        if keep_expired {
            txn.set_keep_expired(true);
        }
        let invoke = |session: &mut Session, txn: &mut dyn Txn| {
            let mut ctx = Ctx {
                engine: self,
                session,
                txn,
            };
            let reply = match handler(&mut ctx, argv) {
                Ok(frame) => frame,
                Err(e) => e.into(),
            };
            ctx.notify_expired();
            reply
        };
        let write = spec.flags.has(CmdFlags::WRITE);
        if write && self.propagation.observing() {
            self.observe_write(spec, argv, txn);
        }
        let propagating = self.propagation.active();
        let tracking = self.tracking.active();
        let reply = if self.watches.any() || tracking || (propagating && write) {
            let mut observed = WatchTxn::new(txn, &self.watches).recording_keys(tracking);
            let reply = invoke(session, &mut observed);
            let dirty = observed.changed();
            let changes = observed.finish();
            if propagating {
                self.note_propagation(session, argv, write && dirty);
            }
            if tracking {
                self.tracking.keys_changed(
                    &self.clients,
                    &changes,
                    &session.client,
                    &mut session.pending_invalidations,
                );
            }
            reply
        } else {
            let reply = invoke(session, txn);
            if propagating {
                self.note_propagation(session, argv, false);
            }
            reply
        };
        if no_touch {
            txn.set_no_touch(false);
        }
        if keep_expired {
            txn.set_keep_expired(false);
        }
        if session.client.tracking.is_on() {
            self.after_tracked_command(session, spec, argv);
        }
        reply
    }

    /// For a tracking client, inside the command's scope: remembers the keys of a
    /// read-only command (Redis' `trackingRememberKeys`, with the OPTIN/OPTOUT rule)
    /// and marks the position of its push queue (see [`Session::push_mark`]).
    fn after_tracked_command(
        &self,
        session: &mut Session,
        spec: &'static CommandSpec,
        argv: &[Bytes],
    ) {
        let flags = session.client.tracking.flags();
        let readonly = spec.flags.has(CmdFlags::READONLY) && !spec.flags.has(CmdFlags::PUBSUB);
        let (optin, optout) = (
            flags & crate::tracking::OPTIN != 0,
            flags & crate::tracking::OPTOUT != 0,
        );
        let caching = session.tracking_caching;
        // OPTIN needs `CLIENT CACHING yes` first, OPTOUT skips after `... no`.
        let wanted = if optin { caching } else { !(optout && caching) };
        if readonly && wanted && flags & crate::tracking::BCAST == 0 {
            let keys = spec.keys.key_indexes(argv);
            self.tracking.remember(
                &self.clients,
                &session.client,
                keys.into_iter().map(|i| &argv[i]),
            );
        }
        if let Some(queue) = session.client.queue() {
            session.push_mark = Some(queue.position());
        }
    }

    /// One step of active expiry, as Redis' `activeExpireCycle` runs `hz` times a second.
    /// Nothing expires while clients are paused.
    pub fn active_expire_cycle(&self) -> ExpireStats {
        if self.pause.is_paused() {
            return ExpireStats::default();
        }
        let stats = crate::notify::active_expire(self, 2000);
        Stats::add(&self.stats.expired_keys, stats.expired);
        self.dataset_bytes
            .store(self.backend.dataset_bytes(), Ordering::Relaxed);
        stats
    }

    /// Bytes used by the data as of the last active expiry cycle (`INFO memory`).
    pub fn dataset_bytes(&self) -> u64 {
        self.dataset_bytes.load(Ordering::Relaxed)
    }

    /// Records a `SHUTDOWN` request and wakes the server.
    pub fn request_shutdown(&self, mode: ShutdownMode) {
        *self.shutdown.lock() = Some(mode);
        if let Some(w) = &*self.shutdown_waker.lock() {
            w();
        }
    }

    /// The pending shutdown request, if any.
    pub fn shutdown_requested(&self) -> Option<ShutdownMode> {
        *self.shutdown.lock()
    }

    /// Installs the callback that wakes the server on `SHUTDOWN`.
    pub fn set_shutdown_waker(&self, waker: Waker) {
        *self.shutdown_waker.lock() = Some(waker);
    }

    /// Number of logical databases.
    pub fn databases(&self) -> usize {
        self.backend.databases()
    }

    /// Counts a connection for `INFO stats`.
    pub fn note_connection(&self) {
        self.stats
            .connections_received
            .fetch_add(1, Ordering::Relaxed);
    }
}

/// Flags the open transaction so that `EXEC` replies `EXECABORT` (Redis'
/// `flagTransaction`): a command was refused while queuing.
fn flag_transaction(session: &mut Session) {
    if let Some(multi) = session.multi.as_mut() {
        multi.failed = true;
    }
}

/// Errors a re-run blocked command answers to end the wait (Redis unblocks an
/// XREADGROUP whose group or stream went away with these); other errors leave the
/// client blocked.
pub const UNBLOCK_ERRORS: [&[u8]; 2] = [
    b"NOGROUP the consumer group this client was blocked on",
    b"UNBLOCKED the stream key no longer exists",
];

/// The key arguments as one slice of `argv` when they are adjacent (step 1), which
/// saves collecting them for the usual commands.
fn contiguous_keys<'a>(spec: &CommandSpec, argv: &'a [Bytes]) -> Option<&'a [Bytes]> {
    let keys = spec.keys;
    if keys.step > 1 || keys.numkeys_at != 0 || spec.extra_keys.is_some() {
        return None;
    }
    let mut indexes = keys.indexes(argv.len());
    let Some(first) = indexes.next() else {
        return Some(&[]);
    };
    let last = indexes.last().unwrap_or(first);
    argv.get(first..=last)
}

/// Truncates to `max` bytes and replaces newlines, as Redis does in error messages.
pub fn sanitize(s: &str, max: usize) -> String {
    let mut out: String = s
        .chars()
        .map(|c| if c == '\r' || c == '\n' { ' ' } else { c })
        .collect();
    if out.len() > max {
        let mut cut = max;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
    }
    out
}

/// Redis' `unknown command` error with the first arguments quoted.
fn unknown_command(argv: &[Bytes]) -> CmdError {
    let mut args = String::new();
    for arg in &argv[1..] {
        if args.len() >= 128 {
            break;
        }
        let room = 128 - args.len();
        args.push_str(&format!(
            "'{}' ",
            sanitize(&String::from_utf8_lossy(arg), room)
        ));
    }
    CmdError(format!(
        "ERR unknown command '{}', with args beginning with: {}",
        sanitize(&String::from_utf8_lossy(&argv[0]), 128),
        args
    ))
}
