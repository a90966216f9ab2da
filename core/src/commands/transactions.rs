//! Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH.
//!
//! While a client is in `MULTI`, the engine queues its commands (after checking
//! them as Redis' `processCommand` does) instead of running them, and runs `EXEC`
//! itself: every queued command inside one atomic scope over the union of their keys
//! and the watched ones (see `Engine::execute`). The handlers here cover the
//! commands' own replies: starting and discarding the queue, registering watches, and
//! `EXEC` outside a transaction.

use bytes::Bytes;
use ferrokv_protocol::Frame;

use crate::command::{CmdError, CmdFlags, CmdResult, CommandSpec, Ctx, KeyPositions};

/// The commands a client queued since `MULTI`.
#[derive(Debug, Default)]
pub struct MultiState {
    /// Queued commands, resolved, with their arguments, in order.
    pub commands: Vec<(&'static CommandSpec, Vec<Bytes>)>,
    /// A command was refused while queuing: `EXEC` replies `EXECABORT`.
    pub failed: bool,
}

const TX: &[&str] = &["transaction"];
const FLAGS: CmdFlags = CmdFlags::NOSCRIPT
    .or(CmdFlags::LOADING)
    .or(CmdFlags::STALE)
    .or(CmdFlags::FAST)
    .or(CmdFlags::ALLOW_BUSY);

const BASE: CommandSpec = CommandSpec {
    arity: 1,
    flags: FLAGS,
    acl: TX,
    group: "transactions",
    ..CommandSpec::DEFAULT
};

/// Transaction command specs.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "multi",
        since: "1.2.0",
        summary: "Mark the start of a transaction block",
        handler: Some(multi),
        ..BASE
    },
    CommandSpec {
        name: "exec",
        flags: CmdFlags::NOSCRIPT
            .or(CmdFlags::LOADING)
            .or(CmdFlags::STALE)
            .or(CmdFlags::SKIP_SLOWLOG),
        since: "1.2.0",
        summary: "Execute all commands issued after MULTI",
        handler: Some(exec),
        ..BASE
    },
    CommandSpec {
        name: "discard",
        since: "2.0.0",
        summary: "Discard all commands issued after MULTI",
        handler: Some(discard),
        ..BASE
    },
    CommandSpec {
        name: "watch",
        arity: -2,
        keys: KeyPositions::ALL,
        since: "2.2.0",
        summary: "Watch the given keys to determine execution of the MULTI/EXEC block",
        syntax: "key [key ...]",
        handler: Some(watch),
        ..BASE
    },
    CommandSpec {
        name: "unwatch",
        since: "2.2.0",
        summary: "Forget about all watched keys",
        handler: Some(unwatch),
        ..BASE
    },
];

fn multi(ctx: &mut Ctx<'_>, _argv: &[Bytes]) -> CmdResult {
    if ctx.session.multi.is_some() {
        return Err(CmdError::err("MULTI calls can not be nested"));
    }
    ctx.session.multi = Some(MultiState::default());
    Ok(Frame::ok())
}

/// Reached only outside a transaction: inside one, the engine runs `EXEC` itself.
fn exec(_ctx: &mut Ctx<'_>, _argv: &[Bytes]) -> CmdResult {
    Err(CmdError::err("EXEC without MULTI"))
}

fn discard(ctx: &mut Ctx<'_>, _argv: &[Bytes]) -> CmdResult {
    if ctx.session.multi.take().is_none() {
        return Err(CmdError::err("DISCARD without MULTI"));
    }
    ctx.session.watched.unwatch_all();
    Ok(Frame::ok())
}

/// Runs inside a scope locking the keys, so that no write falls between reading a
/// key's expiry and the registration.
fn watch(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    if ctx.session.multi.is_some() {
        return Err(CmdError::err("WATCH inside MULTI is not allowed"));
    }
    // No point in watching more once a watched key changed (as Redis).
    if ctx.session.watched.is_dirty() {
        return Ok(Frame::ok());
    }
    let db = ctx.db();
    for key in &argv[1..] {
        if ctx.session.watched.contains(db, key) {
            continue;
        }
        let deadline = ctx.txn.meta(db, key)?.and_then(|m| m.expire_at);
        let client = ctx.session.client.clone();
        ctx.session
            .watched
            .watch(&ctx.engine.watches, &client, db, key, deadline);
    }
    Ok(Frame::ok())
}

fn unwatch(ctx: &mut Ctx<'_>, _argv: &[Bytes]) -> CmdResult {
    ctx.session.watched.unwatch_all();
    Ok(Frame::ok())
}

#[cfg(test)]
mod tests {
    use crate::testing::{engine, run, session};
    use ferrokv_protocol::Frame;

    fn queued() -> Frame {
        Frame::simple("QUEUED")
    }

    #[test]
    fn multi_exec_runs_the_queue_in_order() {
        let e = engine();
        let mut s = session(&e);
        assert_eq!(run(&e, &mut s, &["MULTI"]), Frame::ok());
        assert_eq!(run(&e, &mut s, &["SET", "a", "1"]), queued());
        assert_eq!(run(&e, &mut s, &["INCR", "a"]), queued());
        assert_eq!(run(&e, &mut s, &["GET", "a"]), queued());
        assert_eq!(
            run(&e, &mut s, &["EXEC"]),
            Frame::Array(vec![Frame::ok(), Frame::Integer(2), Frame::bulk("2")])
        );
        assert_eq!(run(&e, &mut s, &["GET", "a"]), Frame::bulk("2"));
        // An empty transaction replies an empty array.
        assert_eq!(run(&e, &mut s, &["MULTI"]), Frame::ok());
        assert_eq!(run(&e, &mut s, &["EXEC"]), Frame::Array(vec![]));
    }

    #[test]
    fn errors_outside_and_inside_a_transaction() {
        let e = engine();
        let mut s = session(&e);
        assert_eq!(
            run(&e, &mut s, &["EXEC"]),
            Frame::error("ERR EXEC without MULTI")
        );
        assert_eq!(
            run(&e, &mut s, &["DISCARD"]),
            Frame::error("ERR DISCARD without MULTI")
        );
        assert_eq!(
            run(&e, &mut s, &["EXEC", "x"]),
            Frame::error("ERR wrong number of arguments for 'exec' command")
        );
        assert_eq!(run(&e, &mut s, &["MULTI"]), Frame::ok());
        assert_eq!(
            run(&e, &mut s, &["MULTI"]),
            Frame::error("ERR MULTI calls can not be nested")
        );
        assert_eq!(
            run(&e, &mut s, &["WATCH", "k"]),
            Frame::error("ERR WATCH inside MULTI is not allowed")
        );
        assert_eq!(run(&e, &mut s, &["SET", "s", "x"]), queued());
        assert_eq!(run(&e, &mut s, &["INCR", "s"]), queued());
        assert_eq!(run(&e, &mut s, &["LPUSH", "s", "1"]), queued());
        // Neither the nested MULTI nor the WATCH abort the transaction; runtime
        // errors belong to their command only.
        assert_eq!(
            run(&e, &mut s, &["EXEC"]),
            Frame::Array(vec![
                Frame::ok(),
                Frame::error("ERR value is not an integer or out of range"),
                Frame::error("WRONGTYPE Operation against a key holding the wrong kind of value"),
            ])
        );
    }

    #[test]
    fn queue_time_errors_abort_exec() {
        let e = engine();
        let mut s = session(&e);
        let abort = Frame::error("EXECABORT Transaction discarded because of previous errors.");
        for bad in [&["FOO", "a"][..], &["SET", "a"][..], &["SHUTDOWN"][..]] {
            assert_eq!(run(&e, &mut s, &["MULTI"]), Frame::ok());
            assert_eq!(run(&e, &mut s, &["SET", "k", "v"]), queued());
            assert!(run(&e, &mut s, bad).is_error(), "{bad:?}");
            assert_eq!(run(&e, &mut s, &["SET", "j", "v"]), queued());
            assert_eq!(run(&e, &mut s, &["EXEC"]), abort);
            assert_eq!(run(&e, &mut s, &["EXISTS", "k", "j"]), Frame::Integer(0));
        }
        // A refused EXEC ends the transaction at once.
        assert_eq!(run(&e, &mut s, &["MULTI"]), Frame::ok());
        assert_eq!(
            run(&e, &mut s, &["EXEC", "x"]),
            Frame::error(
                "EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command"
            )
        );
        assert!(s.multi.is_none());
        assert_eq!(run(&e, &mut s, &["MULTI"]), Frame::ok());
        assert_eq!(
            run(&e, &mut s, &["SHUTDOWN"]),
            Frame::error("ERR Command not allowed inside a transaction")
        );
        assert_eq!(run(&e, &mut s, &["DISCARD"]), Frame::ok());
        assert_eq!(
            run(&e, &mut s, &["EXEC"]),
            Frame::error("ERR EXEC without MULTI")
        );
    }

    #[test]
    fn discard_drops_the_queue_and_the_watches() {
        let e = engine();
        let mut s = session(&e);
        let mut other = session(&e);
        assert_eq!(run(&e, &mut s, &["WATCH", "w"]), Frame::ok());
        assert_eq!(run(&e, &mut s, &["MULTI"]), Frame::ok());
        assert_eq!(run(&e, &mut s, &["SET", "a", "1"]), queued());
        assert_eq!(run(&e, &mut s, &["DISCARD"]), Frame::ok());
        assert_eq!(run(&e, &mut s, &["EXISTS", "a"]), Frame::Integer(0));
        assert!(s.watched.is_empty());
        assert_eq!(e.watches.registrations(), 0);
        assert_eq!(run(&e, &mut other, &["SET", "w", "1"]), Frame::ok());
        assert_eq!(run(&e, &mut s, &["MULTI"]), Frame::ok());
        assert_eq!(run(&e, &mut s, &["EXEC"]), Frame::Array(vec![]));
    }

    #[test]
    fn watch_aborts_on_writes_by_anyone() {
        let e = engine();
        let mut s = session(&e);
        let mut other = session(&e);
        run(&e, &mut s, &["SET", "k", "1"]);
        let writers: [(&[&str], Frame); 3] = [
            (&["SET", "k", "2"], Frame::ok()),
            (&["INCR", "k"], Frame::Integer(2)),
            (&["DEL", "k"], Frame::Integer(1)),
        ];
        for (writer, reply) in writers {
            run(&e, &mut s, &["SET", "k", "1"]);
            assert_eq!(run(&e, &mut s, &["WATCH", "k"]), Frame::ok());
            assert_eq!(run(&e, &mut other, writer), reply);
            assert_eq!(run(&e, &mut s, &["MULTI"]), Frame::ok());
            assert_eq!(run(&e, &mut s, &["SET", "k", "mine"]), queued());
            assert_eq!(run(&e, &mut s, &["EXEC"]), Frame::NullArray, "{writer:?}");
            assert_ne!(run(&e, &mut s, &["GET", "k"]), Frame::bulk("mine"));
            assert_eq!(e.watches.registrations(), 0);
        }
        // The watcher's own write counts too.
        assert_eq!(run(&e, &mut s, &["WATCH", "k"]), Frame::ok());
        run(&e, &mut s, &["SET", "k", "own"]);
        run(&e, &mut s, &["MULTI"]);
        assert_eq!(run(&e, &mut s, &["EXEC"]), Frame::NullArray);
    }

    #[test]
    fn writes_that_change_nothing_and_reads_do_not_abort() {
        let e = engine();
        let mut s = session(&e);
        let mut other = session(&e);
        run(&e, &mut s, &["SET", "k", "1"]);
        run(&e, &mut s, &["SADD", "set", "m"]);
        run(&e, &mut s, &["ZADD", "z", "1", "m"]);
        assert_eq!(
            run(&e, &mut s, &["WATCH", "k", "set", "z", "missing"]),
            Frame::ok()
        );
        assert_eq!(run(&e, &mut other, &["GET", "k"]), Frame::bulk("1"));
        assert_eq!(run(&e, &mut other, &["SET", "k", "2", "NX"]), Frame::Null);
        assert_eq!(
            run(&e, &mut other, &["SADD", "set", "m"]),
            Frame::Integer(0)
        );
        assert_eq!(
            run(&e, &mut other, &["ZADD", "z", "1", "m"]),
            Frame::Integer(0)
        );
        assert_eq!(run(&e, &mut other, &["DEL", "missing"]), Frame::Integer(0));
        assert_eq!(
            run(&e, &mut other, &["LPUSHX", "missing", "x"]),
            Frame::Integer(0)
        );
        assert_eq!(
            run(&e, &mut other, &["SMEMBERS", "set"]),
            Frame::Set(vec![Frame::bulk("m")])
        );
        run(&e, &mut s, &["MULTI"]);
        run(&e, &mut s, &["GET", "k"]);
        assert_eq!(
            run(&e, &mut s, &["EXEC"]),
            Frame::Array(vec![Frame::bulk("1")])
        );
    }

    #[test]
    fn watch_aborts_on_creation_flush_swapdb_move_and_rename() {
        let e = engine();
        let mut s = session(&e);
        let mut o = session(&e);
        let aborted = |e: &crate::Engine, s: &mut crate::Session| {
            run(e, s, &["MULTI"]);
            run(e, s, &["PING"]);
            run(e, s, &["EXEC"]) == Frame::NullArray
        };
        // Creation of a missing key.
        run(&e, &mut s, &["WATCH", "new"]);
        run(&e, &mut o, &["RPUSH", "new", "x"]);
        assert!(aborted(&e, &mut s));
        // FLUSHDB touches existing watched keys only.
        run(&e, &mut o, &["SET", "x", "1"]);
        run(&e, &mut s, &["WATCH", "x"]);
        run(&e, &mut o, &["FLUSHDB"]);
        assert!(aborted(&e, &mut s));
        run(&e, &mut s, &["WATCH", "x"]);
        run(&e, &mut o, &["FLUSHALL"]);
        assert!(!aborted(&e, &mut s));
        // FLUSHALL from another database.
        run(&e, &mut o, &["SET", "x", "1"]);
        run(&e, &mut s, &["WATCH", "x"]);
        run(&e, &mut o, &["SELECT", "3"]);
        run(&e, &mut o, &["FLUSHALL"]);
        assert!(aborted(&e, &mut s));
        // SWAPDB bringing a key in.
        run(&e, &mut o, &["SET", "y", "1"]);
        run(&e, &mut s, &["WATCH", "y"]);
        assert_eq!(run(&e, &mut o, &["SWAPDB", "0", "3"]), Frame::ok());
        assert!(aborted(&e, &mut s));
        run(&e, &mut s, &["WATCH", "nothing"]);
        run(&e, &mut o, &["SWAPDB", "0", "3"]);
        assert!(!aborted(&e, &mut s));
        // MOVE into the watched key's database, RENAME onto and away from it.
        run(&e, &mut o, &["SELECT", "0"]);
        run(&e, &mut o, &["FLUSHALL"]);
        run(&e, &mut o, &["SET", "m", "1"]);
        run(&e, &mut s, &["SELECT", "5"]);
        run(&e, &mut s, &["WATCH", "m"]);
        assert_eq!(run(&e, &mut o, &["MOVE", "m", "5"]), Frame::Integer(1));
        assert!(aborted(&e, &mut s));
        run(&e, &mut s, &["SELECT", "0"]);
        run(&e, &mut o, &["SET", "src", "1"]);
        run(&e, &mut s, &["WATCH", "dst"]);
        run(&e, &mut o, &["RENAME", "src", "dst"]);
        assert!(aborted(&e, &mut s));
        run(&e, &mut s, &["WATCH", "dst"]);
        run(&e, &mut o, &["RENAME", "dst", "elsewhere"]);
        assert!(aborted(&e, &mut s));
        // A key with the same name in another database is another key.
        run(&e, &mut s, &["WATCH", "elsewhere"]);
        run(&e, &mut o, &["SELECT", "1"]);
        run(&e, &mut o, &["SET", "elsewhere", "1"]);
        assert!(!aborted(&e, &mut s));
    }

    #[test]
    fn watched_key_expiring_aborts_exec() {
        let e = engine();
        let mut s = session(&e);
        run(&e, &mut s, &["SET", "k", "v", "PX", "30"]);
        run(&e, &mut s, &["WATCH", "k"]);
        std::thread::sleep(std::time::Duration::from_millis(50));
        run(&e, &mut s, &["MULTI"]);
        run(&e, &mut s, &["PING"]);
        assert_eq!(run(&e, &mut s, &["EXEC"]), Frame::NullArray);
        // A key with a later deadline does not abort.
        run(&e, &mut s, &["SET", "k", "v", "EX", "100"]);
        run(&e, &mut s, &["WATCH", "k"]);
        run(&e, &mut s, &["MULTI"]);
        run(&e, &mut s, &["PING"]);
        assert_eq!(
            run(&e, &mut s, &["EXEC"]),
            Frame::Array(vec![Frame::simple("PONG")])
        );
        // Already expired when watched: it counts as missing.
        run(&e, &mut s, &["SET", "gone", "v", "PX", "1"]);
        std::thread::sleep(std::time::Duration::from_millis(5));
        run(&e, &mut s, &["WATCH", "gone"]);
        run(&e, &mut s, &["MULTI"]);
        run(&e, &mut s, &["PING"]);
        assert_eq!(
            run(&e, &mut s, &["EXEC"]),
            Frame::Array(vec![Frame::simple("PONG")])
        );
    }

    #[test]
    fn unwatch_reset_and_drop_forget_the_watches() {
        let e = engine();
        let mut s = session(&e);
        let mut o = session(&e);
        run(&e, &mut s, &["WATCH", "a", "b", "a"]);
        assert_eq!(e.watches.registrations(), 2);
        run(&e, &mut o, &["SET", "a", "1"]);
        assert_eq!(run(&e, &mut s, &["UNWATCH"]), Frame::ok());
        assert_eq!(e.watches.registrations(), 0);
        run(&e, &mut s, &["MULTI"]);
        run(&e, &mut s, &["GET", "a"]);
        assert_eq!(
            run(&e, &mut s, &["EXEC"]),
            Frame::Array(vec![Frame::bulk("1")])
        );
        // UNWATCH inside MULTI is queued and harmless.
        run(&e, &mut s, &["MULTI"]);
        assert_eq!(run(&e, &mut s, &["UNWATCH"]), queued());
        assert_eq!(run(&e, &mut s, &["EXEC"]), Frame::Array(vec![Frame::ok()]));
        // RESET ends the transaction and the watches.
        run(&e, &mut s, &["WATCH", "a"]);
        run(&e, &mut s, &["MULTI"]);
        assert_eq!(run(&e, &mut s, &["RESET"]), Frame::simple("RESET"));
        assert!(s.multi.is_none());
        assert_eq!(e.watches.registrations(), 0);
        assert_eq!(
            run(&e, &mut s, &["EXEC"]),
            Frame::error("ERR EXEC without MULTI")
        );
        // Dropping the session (disconnect) unwatches.
        run(&e, &mut s, &["WATCH", "a", "b"]);
        assert_eq!(e.watches.registrations(), 2);
        drop(s);
        assert_eq!(e.watches.registrations(), 0);
        assert!(!e.watches.any());
    }

    #[test]
    fn blocking_commands_inside_multi_do_not_block() {
        let e = engine();
        let mut s = session(&e);
        run(&e, &mut s, &["MULTI"]);
        run(&e, &mut s, &["BLPOP", "empty", "0"]);
        run(&e, &mut s, &["RPUSH", "l", "x"]);
        run(&e, &mut s, &["BRPOP", "l", "0"]);
        assert_eq!(
            run(&e, &mut s, &["EXEC"]),
            Frame::Array(vec![
                Frame::NullArray,
                Frame::Integer(1),
                Frame::Array(vec![Frame::bulk("l"), Frame::bulk("x")]),
            ])
        );
        assert!(s.blocked.is_none());
        assert!(!s.no_block);
    }

    #[test]
    fn commandstats_count_the_queued_commands_at_exec() {
        let e = engine();
        let mut s = session(&e);
        run(&e, &mut s, &["SET", "s", "x"]);
        run(&e, &mut s, &["MULTI"]);
        run(&e, &mut s, &["INCR", "a"]);
        run(&e, &mut s, &["INCR", "s"]);
        run(&e, &mut s, &["EXEC"]);
        run(&e, &mut s, &["MULTI"]);
        run(&e, &mut s, &["FOO"]);
        run(&e, &mut s, &["EXEC"]);
        run(&e, &mut s, &["MULTI"]);
        run(&e, &mut s, &["SHUTDOWN"]);
        run(&e, &mut s, &["DISCARD"]);
        let lines = e.command_stats.command_lines().join("\n");
        assert!(lines.contains("cmdstat_incr:calls=2,"), "{lines}");
        assert!(lines.contains("rejected_calls=0,failed_calls=1"), "{lines}");
        assert!(lines.contains("cmdstat_multi:calls=3,"), "{lines}");
        assert!(lines.contains("cmdstat_exec:calls=2,"), "{lines}");
        assert!(lines.contains("cmdstat_shutdown:calls=0,"), "{lines}");
        let errors = e.command_stats.error_lines().join("\n");
        assert!(errors.contains("errorstat_EXECABORT:count=1"), "{errors}");
    }
}
