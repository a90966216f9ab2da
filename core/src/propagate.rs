//! Command propagation (Redis' `alsoPropagate` / `propagatePendingCommands`): after a
//! write command, the engine hands the effect of the command, as commands, to whoever
//! listens (the append-only file today, replicas later).
//!
//! What is propagated follows Redis 7.0:
//! - a write command that changed something is propagated as it was called, unless
//!   its handler rewrote it with [`Ctx::propagate_as`] (relative expiry becomes
//!   absolute `PEXPIREAT` / `SET ... PXAT`, `INCRBYFLOAT` becomes `SET ... KEEPTTL`,
//!   `SPOP` becomes `SREM`, blocking pops their non-blocking forms, ...); a command
//!   that changed nothing (`DEL` of a missing key, `SADD` of a present member) is not
//!   propagated. Changes are observed at the storage level, by running write commands
//!   on a [`WatchTxn`](crate::watch::WatchTxn) while propagation is on.
//! - keys removed because they expired, by a command's lookup or by the active cycle,
//!   are propagated as `DEL` (`UNLINK` under `lazyfree-lazy-expire yes`).
//! - everything one execution unit (a command, or a whole `MULTI`/`EXEC`) propagated
//!   is handed over together, wrapped in `MULTI` ... `EXEC` when there is more than
//!   one command, inside the unit's atomic scope: two units touching the same key
//!   reach the sink in the order they ran.
//!
//! Each command carries its database; the sink emits `SELECT` when it changes. With
//! nobody listening, a command pays one relaxed atomic load.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::RwLock;

use crate::command::{CmdFlags, CommandSpec, Ctx};
use crate::engine::Engine;
use crate::session::Session;
use crate::storage::{DbIndex, Txn};

/// One propagated command and the database it applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Propagated {
    /// The database selected for it.
    pub db: DbIndex,
    /// The command and its arguments.
    pub argv: Vec<Bytes>,
}

/// Receives the propagated commands (the AOF writer, later replication).
pub trait PropagationSink: Send + Sync {
    /// Takes one execution unit's commands, already wrapped in `MULTI`/`EXEC` when
    /// needed, in order. Called inside the unit's atomic scope, so it must not block
    /// for long nor run commands. Returns a position the server can later wait on to
    /// know that the unit is durable (`appendfsync always`).
    fn feed(&self, unit: &[Propagated]) -> u64;
}

/// The append-only file's controls that commands reach (`BGREWRITEAOF`, `CONFIG SET
/// appendonly`, `INFO persistence`). Core knows no files: the server installs one.
pub trait AofControl: Send + Sync {
    /// Starts a background rewrite; the reply text, or the error text.
    fn rewrite(&self) -> Result<String, String>;
    /// Turns the append-only file on (starting from a fresh base) or off.
    fn set_enabled(&self, on: bool) -> Result<(), String>;
    /// The `aof_*` fields of `INFO persistence`, in Redis' order.
    fn info(&self) -> Vec<(&'static str, String)>;
    /// Re-reads the parameters it caches (after `CONFIG SET`).
    fn refresh(&self);
    /// Makes the units fed up to `position` as durable as `appendfsync` asks before
    /// a reply that depends on them goes out: a future to await (`always`), or
    /// `None` when nothing needs waiting for. `u64::MAX` means everything fed so far.
    fn durable(&self, position: u64) -> Option<DurableWait>;
}

/// Sees each write command's keys inside its scope before it runs: a rewrite's
/// copy-on-write (the AOF base records a key's value as it was when the rewrite
/// started, before the first write that changes it).
pub trait WriteObserver: Send + Sync {
    /// `keys` (names; the command may write them in any database) are about to be
    /// written through `txn`; `whole_keyspace` when the command may write every
    /// key (FLUSHDB, FLUSHALL, SWAPDB), in which case `txn` holds everything.
    fn before_write(&self, txn: &mut dyn Txn, keys: &[&[u8]], whole_keyspace: bool);
}

/// A wait for durability, run by the server's async runtime (core has none).
pub type DurableWait = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// The engine's propagation state: the sink, if any, and a flag read by every command.
#[derive(Default)]
pub struct Propagation {
    active: AtomicBool,
    observing: AtomicBool,
    observer: RwLock<Option<Arc<dyn WriteObserver>>>,
    sink: RwLock<Option<Arc<dyn PropagationSink>>>,
    control: RwLock<Option<Arc<dyn AofControl>>>,
}

impl Propagation {
    /// Whether anybody listens: one relaxed load.
    #[inline]
    pub fn active(&self) -> bool {
        self.active.load(Ordering::Relaxed)
    }

    /// Installs (or, with `None`, removes) the sink.
    pub fn set_sink(&self, sink: Option<Arc<dyn PropagationSink>>) {
        let mut slot = self.sink.write();
        self.active.store(sink.is_some(), Ordering::SeqCst);
        *slot = sink;
    }

    /// Whether a [`WriteObserver`] is installed: one relaxed load.
    #[inline]
    pub fn observing(&self) -> bool {
        self.observing.load(Ordering::Relaxed)
    }

    /// Installs (or removes) the write observer. Installing it inside a
    /// whole-keyspace scope makes it see every write that follows that instant.
    pub fn set_observer(&self, observer: Option<Arc<dyn WriteObserver>>) {
        let mut slot = self.observer.write();
        self.observing.store(observer.is_some(), Ordering::SeqCst);
        *slot = observer;
    }

    /// Installs the append-only file's controls.
    pub fn set_control(&self, control: Arc<dyn AofControl>) {
        *self.control.write() = Some(control);
    }

    /// The append-only file's controls, if a server installed them.
    pub fn control(&self) -> Option<Arc<dyn AofControl>> {
        self.control.read().clone()
    }

    /// Hands `unit` to the sink (wrapping it in `MULTI`/`EXEC` if it holds more than
    /// one command); returns the sink's durability position, 0 without a sink.
    pub fn feed(&self, mut unit: Vec<Propagated>) -> u64 {
        if unit.is_empty() {
            return 0;
        }
        let guard = self.sink.read();
        let Some(sink) = guard.as_ref() else {
            return 0;
        };
        if unit.len() > 1 {
            let db = unit[0].db;
            unit.insert(
                0,
                Propagated {
                    db,
                    argv: vec![Bytes::from_static(b"MULTI")],
                },
            );
            let db = unit[unit.len() - 1].db;
            unit.push(Propagated {
                db,
                argv: vec![Bytes::from_static(b"EXEC")],
            });
        }
        sink.feed(&unit)
    }
}

/// A session's propagation in progress: the current unit and the current command's
/// explicit rewrite.
#[derive(Debug, Default)]
pub struct Pending {
    /// Commands of the unit so far.
    pub unit: Vec<Propagated>,
    /// Set by [`Ctx::propagate_as`] / [`Ctx::propagate_none`]: what the current
    /// command propagates instead of its own argv.
    pub rewritten: Option<Vec<Vec<Bytes>>>,
    /// Set by [`Ctx::propagate_always`]: the rewrite goes out even if the command
    /// changed nothing.
    pub forced: bool,
    /// Highest durability position of the units this session fed (the server waits
    /// for it before replying under `appendfsync always`).
    pub position: u64,
}

impl Engine {
    /// Before a write command runs (while a rewrite observes writes): hands the
    /// observer the keys it may write, `SORT ... STORE`'s destination included.
    pub(crate) fn observe_write(&self, spec: &CommandSpec, argv: &[Bytes], txn: &mut dyn Txn) {
        let guard = self.propagation.observer.read();
        let Some(observer) = guard.as_ref() else {
            return;
        };
        let mut keys: Vec<&[u8]> = spec
            .keys
            .key_indexes(argv)
            .into_iter()
            .map(|i| argv[i].as_ref())
            .collect();
        if spec.name == "sort" {
            let store = argv.iter().position(|a| a.eq_ignore_ascii_case(b"store"));
            if let Some(dest) = store.and_then(|i| argv.get(i + 1)) {
                keys.push(dest);
            }
        }
        let whole = spec.flags.has(CmdFlags::WHOLE_KEYSPACE);
        observer.before_write(txn, &keys, whole);
    }

    /// After a command ran: records what it propagates (its rewrite, or its argv if
    /// it changed something).
    pub(crate) fn note_propagation(&self, session: &mut Session, argv: &[Bytes], dirty: bool) {
        let db = session.db;
        let pending = &mut session.propagation;
        let forced = std::mem::take(&mut pending.forced);
        match pending.rewritten.take() {
            Some(list) if dirty || forced => pending
                .unit
                .extend(list.into_iter().map(|argv| Propagated { db, argv })),
            None if dirty => pending.unit.push(Propagated {
                db,
                argv: argv.to_vec(),
            }),
            _ => {}
        }
    }

    /// At the end of an execution unit, inside its scope: feeds the unit to the sink.
    pub(crate) fn flush_propagation(&self, session: &mut Session) {
        if session.propagation.unit.is_empty() {
            return;
        }
        let unit = std::mem::take(&mut session.propagation.unit);
        let position = self.propagation.feed(unit);
        let pending = &mut session.propagation;
        pending.position = pending.position.max(position);
    }

    /// Propagates the removal of an expired key (lazy expiry or the active cycle) as
    /// Redis' `deleteExpiredKeyAndPropagate`.
    pub fn expired_command(&self, db: DbIndex, key: &[u8]) -> Propagated {
        Propagated {
            db,
            argv: self.deletion_command(key),
        }
    }

    /// How a deletion because of a past expiry time is propagated: `DEL key`, or
    /// `UNLINK key` under `lazyfree-lazy-expire yes`.
    pub fn deletion_command(&self, key: &[u8]) -> Vec<Bytes> {
        let lazy = self.config.get("lazyfree-lazy-expire").as_deref() == Some("yes");
        let name: &'static [u8] = if lazy { b"UNLINK" } else { b"DEL" };
        vec![Bytes::from_static(name), Bytes::copy_from_slice(key)]
    }
}

impl Ctx<'_> {
    /// Whether propagation is on (so a handler builds its rewrite only then).
    #[inline]
    pub fn propagating(&self) -> bool {
        self.engine.propagation.active()
    }

    /// Propagates `argv` for this command instead of the command as called, if the
    /// command changed something; called several times, propagates each, in order
    /// (Redis' `alsoPropagate` and `rewriteClientCommandVector`). A no-op when nobody
    /// listens.
    pub fn propagate_as(&mut self, argv: Vec<Bytes>) {
        if self.propagating() {
            self.session
                .propagation
                .rewritten
                .get_or_insert_with(Vec::new)
                .push(argv);
        }
    }

    /// Propagates nothing for this command, whatever it changed (`preventCommandPropagation`).
    pub fn propagate_none(&mut self) {
        if self.propagating() {
            self.session
                .propagation
                .rewritten
                .get_or_insert_with(Vec::new);
        }
    }

    /// Propagates this command as called even if it changed nothing (Redis'
    /// `forceCommandPropagation`: FLUSHDB, FLUSHALL, SWAPDB).
    pub fn propagate_always(&mut self, argv: &[Bytes]) {
        if self.propagating() {
            self.session.propagation.forced = true;
            self.propagate_as(argv.to_vec());
        }
    }
}

/// Helper for rewrites: a bulk argument from a static name.
pub fn arg(name: &'static str) -> Bytes {
    Bytes::from_static(name.as_bytes())
}

/// Helper for rewrites: an integer argument.
pub fn int_arg(n: i64) -> Bytes {
    Bytes::from(n.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{engine, run, session};
    use parking_lot::Mutex;

    /// Records every unit it is fed, as `db:ARG ARG ...` lines.
    #[derive(Default)]
    struct Recorder(Mutex<Vec<Vec<String>>>);

    impl PropagationSink for Recorder {
        fn feed(&self, unit: &[Propagated]) -> u64 {
            let lines = unit
                .iter()
                .map(|p| {
                    let args: Vec<String> = p
                        .argv
                        .iter()
                        .map(|a| String::from_utf8_lossy(a).into_owned())
                        .collect();
                    format!("{}:{}", p.db, args.join(" "))
                })
                .collect();
            let mut units = self.0.lock();
            units.push(lines);
            units.len() as u64
        }
    }

    fn recording() -> (Engine, Arc<Recorder>) {
        let engine = engine();
        let recorder = Arc::new(Recorder::default());
        engine.propagation.set_sink(Some(recorder.clone()));
        (engine, recorder)
    }

    fn take(recorder: &Recorder) -> Vec<Vec<String>> {
        std::mem::take(&mut *recorder.0.lock())
    }

    fn unit(lines: &[&str]) -> Vec<String> {
        lines.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn unchanged_writes_and_reads_are_not_propagated() {
        let (engine, rec) = recording();
        let mut s = session(&engine);
        run(&engine, &mut s, &["SADD", "s", "a"]);
        run(&engine, &mut s, &["SADD", "s", "a"]);
        run(&engine, &mut s, &["DEL", "missing"]);
        run(&engine, &mut s, &["GET", "s"]);
        run(&engine, &mut s, &["EXPIRE", "missing", "10"]);
        run(&engine, &mut s, &["PERSIST", "s"]);
        assert_eq!(take(&rec), vec![unit(&["0:SADD s a"])]);
        assert!(s.propagation.position > 0);
    }

    #[test]
    fn relative_times_become_absolute() {
        let (engine, rec) = recording();
        let mut s = session(&engine);
        run(&engine, &mut s, &["SET", "k", "v", "EX", "100"]);
        run(&engine, &mut s, &["PSETEX", "p", "5000", "v"]);
        run(&engine, &mut s, &["EXPIRE", "k", "200", "GT"]);
        run(&engine, &mut s, &["GETEX", "p", "PERSIST"]);
        run(&engine, &mut s, &["EXPIRE", "p", "-5"]);
        run(&engine, &mut s, &["HSET", "h", "f", "1"]);
        run(
            &engine,
            &mut s,
            &["HEXPIRE", "h", "100", "FIELDS", "1", "f"],
        );
        let units = take(&rec);
        let names: Vec<&str> = units
            .iter()
            .map(|u| u[0].split(' ').next().unwrap_or(""))
            .collect();
        assert_eq!(
            names,
            [
                "0:SET",
                "0:SET",
                "0:PEXPIREAT",
                "0:PERSIST",
                "0:DEL",
                "0:HSET",
                "0:HPEXPIREAT"
            ]
        );
        assert!(units[0][0].contains(" PXAT "), "{units:?}");
        assert!(units[1][0].starts_with("0:SET p v PXAT "), "{units:?}");
        assert!(units[6][0].ends_with(" FIELDS 1 f"), "{units:?}");
    }

    #[test]
    fn non_deterministic_commands_propagate_their_effect() {
        let (engine, rec) = recording();
        let mut s = session(&engine);
        run(&engine, &mut s, &["INCRBYFLOAT", "f", "1.5"]);
        run(&engine, &mut s, &["HINCRBYFLOAT", "h", "x", "0.25"]);
        run(&engine, &mut s, &["SADD", "one", "m"]);
        run(&engine, &mut s, &["SPOP", "one"]);
        run(&engine, &mut s, &["SADD", "many", "a", "b"]);
        run(&engine, &mut s, &["SPOP", "many", "5"]);
        run(&engine, &mut s, &["FLUSHDB"]);
        run(&engine, &mut s, &["FLUSHDB"]);
        let units = take(&rec);
        assert_eq!(units[0], unit(&["0:SET f 1.5 KEEPTTL"]));
        assert_eq!(units[1], unit(&["0:HSET h x 0.25"]));
        assert_eq!(units[3], unit(&["0:SREM one m"]));
        assert_eq!(units[5], unit(&["0:DEL many"]));
        // FLUSHDB is propagated even when there was nothing to flush.
        assert_eq!(units[6..], [unit(&["0:FLUSHDB"]), unit(&["0:FLUSHDB"])]);
    }

    #[test]
    fn multi_key_pops_name_the_key_they_popped_from() {
        let (engine, rec) = recording();
        let mut s = session(&engine);
        run(&engine, &mut s, &["RPUSH", "l", "a", "b", "c"]);
        run(&engine, &mut s, &["ZADD", "z", "1", "a", "2", "b"]);
        take(&rec);
        run(
            &engine,
            &mut s,
            &["LMPOP", "2", "none", "l", "RIGHT", "COUNT", "2"],
        );
        run(
            &engine,
            &mut s,
            &["ZMPOP", "2", "none", "z", "MAX", "COUNT", "5"],
        );
        run(&engine, &mut s, &["BLPOP", "none", "l", "0"]);
        run(&engine, &mut s, &["LMPOP", "1", "none", "LEFT"]);
        assert_eq!(
            take(&rec),
            vec![
                unit(&["0:RPOP l 2"]),
                unit(&["0:ZPOPMAX z 2"]),
                unit(&["0:LPOP l"])
            ]
        );
    }

    #[test]
    fn transactions_are_wrapped_and_carry_their_databases() {
        let (engine, rec) = recording();
        let mut s = session(&engine);
        run(&engine, &mut s, &["MULTI"]);
        run(&engine, &mut s, &["SET", "a", "1"]);
        run(&engine, &mut s, &["SELECT", "3"]);
        run(&engine, &mut s, &["INCR", "a"]);
        run(&engine, &mut s, &["GET", "a"]);
        run(&engine, &mut s, &["EXEC"]);
        assert_eq!(
            take(&rec),
            vec![unit(&["0:MULTI", "0:SET a 1", "3:INCR a", "3:EXEC"])]
        );
        // One write in a transaction needs no wrapping.
        run(&engine, &mut s, &["MULTI"]);
        run(&engine, &mut s, &["SET", "b", "1"]);
        run(&engine, &mut s, &["EXEC"]);
        assert_eq!(take(&rec), vec![unit(&["3:SET b 1"])]);
    }

    #[test]
    fn expired_keys_are_deleted_before_the_command_that_found_them() {
        let (engine, rec) = recording();
        let mut s = session(&engine);
        run(&engine, &mut s, &["SET", "k", "v", "PX", "1"]);
        std::thread::sleep(std::time::Duration::from_millis(5));
        take(&rec);
        run(&engine, &mut s, &["GET", "k"]);
        assert_eq!(take(&rec), vec![unit(&["0:DEL k"])]);
        run(&engine, &mut s, &["SET", "k2", "v", "PX", "1"]);
        std::thread::sleep(std::time::Duration::from_millis(5));
        take(&rec);
        engine
            .config
            .set("lazyfree-lazy-expire", "yes")
            .expect("config");
        run(&engine, &mut s, &["APPEND", "k2", "x"]);
        let units = take(&rec);
        assert_eq!(
            units,
            vec![unit(&["0:MULTI", "0:UNLINK k2", "0:APPEND k2 x", "0:EXEC"])]
        );
    }

    #[test]
    fn nothing_is_recorded_without_a_sink() {
        let engine = engine();
        let mut s = session(&engine);
        run(&engine, &mut s, &["SET", "k", "v", "EX", "10"]);
        assert!(s.propagation.unit.is_empty());
        assert!(s.propagation.rewritten.is_none());
        assert_eq!(s.propagation.position, 0);
    }
}
