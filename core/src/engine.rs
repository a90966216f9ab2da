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
    /// Where write commands' effects go (the append-only file).
    pub propagation: crate::propagate::Propagation,
    /// When the engine started (`uptime_in_seconds`).
    pub started: Instant,
    /// Random 40-hex-digit id of this run (`run_id`).
    pub run_id: String,
    shutdown: Mutex<Option<ShutdownMode>>,
    shutdown_waker: Mutex<Option<Waker>>,
    /// The backend's `dataset_bytes`, measured outside any command scope: backends lock
    /// their data to measure it, so INFO (which runs inside a scope) cannot ask directly.
    dataset_bytes: AtomicU64,
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
            propagation: Default::default(),
            started: Instant::now(),
            run_id,
            shutdown: Mutex::new(None),
            shutdown_waker: Mutex::new(None),
            dataset_bytes: AtomicU64::new(dataset_bytes),
        };
        engine.apply_encoding_limits();
        engine.notify.refresh(&engine.config);
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
    }

    /// The storage backend.
    pub fn backend(&self) -> &dyn StorageBackend {
        &*self.backend
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

    /// Runs one command for `session` and returns its reply.
    pub fn execute(&self, session: &mut Session, argv: &[Bytes]) -> Frame {
        if session.multi.is_some() {
            if let Some(reply) = self.execute_in_multi(session, argv) {
                return reply;
            }
        }
        Stats::add(&self.stats.commands_processed, 1);
        let reply = match self.resolve(argv) {
            Ok(spec) => {
                let reply = self.run_counted(session, spec, argv);
                let extra = std::mem::take(&mut session.extra_written_keys);
                if self.blocking.any() && spec.flags.has(CmdFlags::WRITE) {
                    let keys: Vec<&Bytes> = spec
                        .keys
                        .key_indexes(argv)
                        .into_iter()
                        .map(|i| &argv[i])
                        .chain(&extra)
                        .collect();
                    self.serve_blocked(session.db, &keys);
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
                if let Some(multi) = session.multi.as_mut() {
                    // No sense keeping the commands of a transaction that will abort.
                    if !multi.failed {
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
                keys.extend(
                    spec.keys
                        .key_indexes(argv)
                        .into_iter()
                        .map(|i| argv[i].clone()),
                );
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
                if note_written && spec.flags.has(CmdFlags::WRITE) {
                    let db = session.db;
                    written.extend(
                        spec.keys
                            .key_indexes(argv)
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
                let reply = self.run(&mut session, spec, &waiter.argv);
                if matches!(reply, Frame::Null | Frame::NullArray | Frame::Error(_)) {
                    return None;
                }
                let written: Vec<&Bytes> = spec
                    .keys
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
                        .keys
                        .key_indexes(argv)
                        .into_iter()
                        .map(|i| argv[i].clone())
                        .collect();
                    self.backend.atomic(Scope::Keys(&keys), &mut body)
                }
            }
        };
        match committed {
            Ok(()) => {
                reply.unwrap_or_else(|| Frame::error("ERR storage backend did not run the command"))
            }
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
        if self.propagation.observing() && spec.flags.has(CmdFlags::WRITE) {
            self.observe_write(spec, argv, txn);
        }
        let propagating = self.propagation.active();
        if self.watches.any() || (propagating && spec.flags.has(CmdFlags::WRITE)) {
            let mut watched = WatchTxn::new(txn, &self.watches);
            let reply = invoke(session, &mut watched);
            let dirty = watched.changed();
            watched.finish();
            if propagating && spec.flags.has(CmdFlags::WRITE) {
                self.note_propagation(session, argv, dirty);
            }
            reply
        } else {
            let reply = invoke(session, txn);
            if propagating {
                self.note_propagation(session, argv, false);
            }
            reply
        }
    }

    /// One step of active expiry, as Redis' `activeExpireCycle` runs `hz` times a second.
    pub fn active_expire_cycle(&self) -> ExpireStats {
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
        multi.commands = Vec::new();
    }
}

/// The key arguments as one slice of `argv` when they are adjacent (step 1), which
/// saves collecting them for the usual commands.
fn contiguous_keys<'a>(spec: &CommandSpec, argv: &'a [Bytes]) -> Option<&'a [Bytes]> {
    let keys = spec.keys;
    if keys.step > 1 || keys.numkeys_at > 0 {
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
