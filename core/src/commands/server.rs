//! Server commands: DBSIZE, FLUSHDB, FLUSHALL, SWAPDB, TIME, SHUTDOWN, LOLWUT and the
//! CONFIG container (GET, SET, RESETSTAT, REWRITE, HELP). INFO is in [`super::info`]
//! and COMMAND in [`super::command_docs`].

use std::sync::atomic::Ordering;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use ferrokv_protocol::Frame;

use crate::command::{CmdError, CmdFlags, CmdResult, CommandSpec, Ctx};
use crate::commands::args::is;
use crate::commands::object::help_reply;
use crate::stats::Stats;
use crate::util::number::parse_i64;

const KEYSPACE_DANGEROUS: &[&str] = &["keyspace", "dangerous"];
const ADMIN: CmdFlags = CmdFlags::ADMIN
    .or(CmdFlags::NOSCRIPT)
    .or(CmdFlags::LOADING)
    .or(CmdFlags::STALE);
const LOADING_STALE: CmdFlags = CmdFlags::LOADING.or(CmdFlags::STALE);
const FLUSH_SYNTAX: &str = "[ASYNC | SYNC]";

/// A `server`-group spec with the usual defaults.
const SERVER: CommandSpec = CommandSpec {
    group: "server",
    ..CommandSpec::DEFAULT
};

/// Server command specs.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "dbsize",
        arity: 1,
        flags: CmdFlags::READONLY
            .or(CmdFlags::FAST)
            .or(CmdFlags::WHOLE_KEYSPACE),
        acl: &["keyspace"],
        summary: "Returns the number of keys in the database.",
        handler: Some(dbsize),
        ..SERVER
    },
    CommandSpec {
        name: "flushdb",
        arity: -1,
        flags: CmdFlags::WRITE.or(CmdFlags::WHOLE_KEYSPACE),
        acl: KEYSPACE_DANGEROUS,
        summary: "Remove all keys from the current database.",
        syntax: FLUSH_SYNTAX,
        handler: Some(flushdb),
        ..SERVER
    },
    CommandSpec {
        name: "flushall",
        arity: -1,
        flags: CmdFlags::WRITE.or(CmdFlags::WHOLE_KEYSPACE),
        acl: KEYSPACE_DANGEROUS,
        summary: "Removes all keys from all databases.",
        syntax: FLUSH_SYNTAX,
        handler: Some(flushall),
        ..SERVER
    },
    CommandSpec {
        name: "swapdb",
        arity: 3,
        flags: CmdFlags::WRITE
            .or(CmdFlags::FAST)
            .or(CmdFlags::WHOLE_KEYSPACE),
        acl: KEYSPACE_DANGEROUS,
        since: "4.0.0",
        summary: "Swaps two Redis databases.",
        syntax: "index1 index2",
        handler: Some(swapdb),
        ..SERVER
    },
    CommandSpec {
        name: "time",
        arity: 1,
        flags: LOADING_STALE.or(CmdFlags::FAST),
        since: "2.6.0",
        summary: "Returns the server time.",
        handler: Some(time),
        ..SERVER
    },
    CommandSpec {
        name: "shutdown",
        arity: -1,
        flags: ADMIN.or(CmdFlags::NO_MULTI).or(CmdFlags::ALLOW_BUSY),
        summary: "Synchronously saves the database(s) to disk and shuts down the Redis server.",
        syntax: "[NOSAVE | SAVE] [NOW] [FORCE] [ABORT]",
        handler: Some(shutdown),
        ..SERVER
    },
    CommandSpec {
        name: "lolwut",
        arity: -1,
        flags: CmdFlags::READONLY.or(CmdFlags::FAST),
        since: "5.0.0",
        summary: "Displays computer art and the Redis version",
        syntax: "[VERSION version]",
        handler: Some(lolwut),
        ..SERVER
    },
    CommandSpec {
        name: "config",
        arity: -2,
        since: "2.0.0",
        summary: "A container for server configuration commands.",
        syntax: "<subcommand> [<arg> ...]",
        subcommands: CONFIG_SUBCOMMANDS,
        ..SERVER
    },
];

static CONFIG_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "get",
        arity: -3,
        flags: ADMIN,
        since: "2.0.0",
        summary: "Returns the effective values of configuration parameters.",
        syntax: "parameter [parameter ...]",
        handler: Some(config_get),
        ..SERVER
    },
    CommandSpec {
        name: "set",
        arity: -4,
        flags: ADMIN,
        since: "2.0.0",
        summary: "Sets configuration parameters in-flight.",
        syntax: "parameter value [parameter value ...]",
        handler: Some(config_set),
        ..SERVER
    },
    CommandSpec {
        name: "resetstat",
        arity: 2,
        flags: ADMIN,
        since: "2.0.0",
        summary: "Resets the server's statistics.",
        handler: Some(config_resetstat),
        ..SERVER
    },
    CommandSpec {
        name: "rewrite",
        arity: 2,
        flags: ADMIN,
        since: "2.8.0",
        summary: "Persists the effective configuration to file.",
        handler: Some(config_rewrite),
        ..SERVER
    },
    CommandSpec {
        name: "help",
        arity: 2,
        flags: LOADING_STALE,
        since: "5.0.0",
        summary: "Returns helpful text about the different subcommands.",
        handler: Some(config_help),
        ..SERVER
    },
];

fn dbsize(ctx: &mut Ctx<'_>, _argv: &[Bytes]) -> CmdResult {
    let db = ctx.db();
    Ok(Frame::Integer(ctx.txn.db_size(db)?.keys as i64))
}

/// The optional `ASYNC | SYNC` of FLUSHDB/FLUSHALL (both flush at once here).
fn check_flush_mode(argv: &[Bytes]) -> Result<(), CmdError> {
    match argv {
        [_] => Ok(()),
        [_, mode] if is(mode, "sync") || is(mode, "async") => Ok(()),
        _ => Err(CmdError::syntax()),
    }
}

fn flushdb(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    check_flush_mode(argv)?;
    let db = ctx.db();
    ctx.txn.flush_db(db)?;
    ctx.propagate_always(argv);
    Ok(Frame::ok())
}

fn flushall(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    check_flush_mode(argv)?;
    for db in 0..ctx.engine.databases() {
        ctx.txn.flush_db(db)?;
    }
    ctx.propagate_always(argv);
    Ok(Frame::ok())
}

/// A DB index as Redis' `getIntFromObjectOrReply` reads it, with `what` as the error.
fn db_index(arg: &[u8], what: &str) -> Result<i64, CmdError> {
    parse_i64(arg)
        .filter(|n| i32::try_from(*n).is_ok())
        .ok_or_else(|| CmdError::err(what))
}

fn swapdb(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let a = db_index(&argv[1], "invalid first DB index")?;
    let b = db_index(&argv[2], "invalid second DB index")?;
    let count = ctx.engine.databases() as i64;
    if !(0..count).contains(&a) || !(0..count).contains(&b) {
        return Err(CmdError::err("DB index is out of range"));
    }
    if a != b {
        ctx.txn.swap_db(a as usize, b as usize)?;
    }
    ctx.propagate_always(argv);
    Ok(Frame::ok())
}

fn time(_ctx: &mut Ctx<'_>, _argv: &[Bytes]) -> CmdResult {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Ok(Frame::Array(vec![
        Frame::bulk(now.as_secs().to_string()),
        Frame::bulk(now.subsec_micros().to_string()),
    ]))
}

fn shutdown(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let (mut nosave, mut save, mut other, mut abort) = (false, false, false, false);
    let mut force = false;
    for arg in &argv[1..] {
        if is(arg, "nosave") {
            nosave = true;
        } else if is(arg, "save") {
            save = true;
        } else if is(arg, "now") || is(arg, "force") {
            other = true;
            force |= is(arg, "force");
        } else if is(arg, "abort") {
            abort = true;
        } else {
            return Err(CmdError::syntax());
        }
    }
    if (abort && (nosave || save || other)) || (nosave && save) {
        return Err(CmdError::syntax());
    }
    if abort {
        // Shutting down here never waits (no lagging replicas), so there is never one
        // in progress to abort.
        return Err(CmdError::err("No shutdown in progress."));
    }
    // Redis' prepareForShutdown (snapshot, then stop) runs once the scope is released.
    ctx.session.deferred = Some(crate::persistence::Deferred::Shutdown {
        save,
        nosave,
        force,
    });
    Ok(Frame::ok())
}

fn lolwut(_ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    if argv.len() >= 3 && is(&argv[1], "version") {
        parse_i64(&argv[2]).ok_or_else(CmdError::not_integer)?;
    }
    let text = format!("Redis ver. {}\n", crate::REDIS_VERSION);
    Ok(Frame::Verbatim {
        format: *b"txt",
        text: Bytes::from(text),
    })
}

fn config_get(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let patterns: Vec<&[u8]> = argv[2..].iter().map(|a| a.as_ref()).collect();
    let pairs = ctx.engine.config.get_matching(&patterns);
    Ok(Frame::Map(
        pairs
            .into_iter()
            .map(|(name, value)| (Frame::bulk(name), Frame::bulk(value)))
            .collect(),
    ))
}

fn config_set(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    if argv.len() % 2 == 1 {
        return Err(CmdError::syntax());
    }
    let text = |b: &Bytes| String::from_utf8_lossy(b).into_owned();
    let pairs: Vec<(String, String)> = argv[2..]
        .chunks(2)
        .map(|p| (text(&p[0]), text(&p[1])))
        .collect();
    let local = is_local_address(&ctx.session.client.addr);
    ctx.engine
        .config
        .set_many(&pairs, local)
        .map_err(CmdError::err)?;
    ctx.engine.apply_encoding_limits();
    ctx.engine.notify.refresh(&ctx.engine.config);
    ctx.engine.tracking.refresh(&ctx.engine.config);
    if let Some(aof) = ctx.engine.propagation.control() {
        aof.refresh();
        if pairs
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("appendonly"))
        {
            let on = ctx.engine.config.get("appendonly").as_deref() == Some("yes");
            aof.set_enabled(on).map_err(CmdError::err)?;
        }
    }
    Ok(Frame::ok())
}

/// Whether a peer address is this host as Redis' `islocalClient` sees it: a Unix
/// socket, `127.0.0.1` or `::1`.
pub fn is_local_address(addr: &str) -> bool {
    let host = addr.rsplit_once(':').map_or(addr, |(host, _)| host);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    match host.parse::<std::net::IpAddr>() {
        Ok(_) => host == "127.0.0.1" || host == "::1",
        Err(_) => true,
    }
}

fn config_resetstat(ctx: &mut Ctx<'_>, _argv: &[Bytes]) -> CmdResult {
    reset_stats(&ctx.engine.stats);
    ctx.engine.command_stats.reset();
    Ok(Frame::ok())
}

/// Zeroes every `INFO stats` counter, as Redis' `resetServerStats`.
pub fn reset_stats(stats: &Stats) {
    for counter in [
        &stats.connections_received,
        &stats.rejected_connections,
        &stats.commands_processed,
        &stats.keyspace_hits,
        &stats.keyspace_misses,
        &stats.expired_keys,
        &stats.net_input_bytes,
        &stats.net_output_bytes,
        &stats.error_replies,
    ] {
        counter.store(0, Ordering::Relaxed);
    }
}

fn config_rewrite(ctx: &mut Ctx<'_>, _argv: &[Bytes]) -> CmdResult {
    ctx.engine.config.rewrite().map_err(CmdError::err)?;
    Ok(Frame::ok())
}

const CONFIG_HELP: &[&str] = &[
    "GET <pattern>",
    "    Return parameters matching the glob-like <pattern> and their values.",
    "SET <directive> <value>",
    "    Set the configuration <directive> to <value>.",
    "RESETSTAT",
    "    Reset statistics reported by the INFO command.",
    "REWRITE",
    "    Rewrite the configuration file.",
];

fn config_help(_ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    Ok(help_reply(&argv[0], CONFIG_HELP))
}

#[cfg(test)]
mod tests {
    use super::is_local_address;
    use crate::stats::Stats;
    use crate::testing::{engine, run, session};
    use crate::ShutdownMode;
    use ferrokv_protocol::Frame;

    fn int(n: i64) -> Frame {
        Frame::Integer(n)
    }

    fn arity(name: &str) -> Frame {
        Frame::error(format!(
            "ERR wrong number of arguments for '{name}' command"
        ))
    }

    #[test]
    fn dbsize_flushdb_flushall() {
        let e = engine();
        let mut s = session(&e);
        assert_eq!(run(&e, &mut s, &["DBSIZE"]), int(0));
        run(&e, &mut s, &["SET", "a", "1"]);
        run(&e, &mut s, &["SET", "b", "1"]);
        run(&e, &mut s, &["SELECT", "1"]);
        run(&e, &mut s, &["SET", "c", "1"]);
        assert_eq!(run(&e, &mut s, &["dbsize"]), int(1));
        assert_eq!(run(&e, &mut s, &["DBSIZE", "x"]), arity("dbsize"));
        assert_eq!(run(&e, &mut s, &["FLUSHDB", "ASYNC"]), Frame::ok());
        assert_eq!(run(&e, &mut s, &["DBSIZE"]), int(0));
        run(&e, &mut s, &["SELECT", "0"]);
        assert_eq!(run(&e, &mut s, &["DBSIZE"]), int(2));
        assert_eq!(
            run(&e, &mut s, &["FLUSHDB", "now"]),
            Frame::error("ERR syntax error")
        );
        assert_eq!(
            run(&e, &mut s, &["FLUSHDB", "sync", "sync"]),
            Frame::error("ERR syntax error")
        );
        assert_eq!(
            run(&e, &mut s, &["FLUSHALL", "x"]),
            Frame::error("ERR syntax error")
        );
        run(&e, &mut s, &["SELECT", "1"]);
        run(&e, &mut s, &["SET", "c", "1"]);
        assert_eq!(run(&e, &mut s, &["FLUSHALL", "SYNC"]), Frame::ok());
        assert_eq!(run(&e, &mut s, &["DBSIZE"]), int(0));
        run(&e, &mut s, &["SELECT", "0"]);
        assert_eq!(run(&e, &mut s, &["DBSIZE"]), int(0));
        assert_eq!(run(&e, &mut s, &["FLUSHALL"]), Frame::ok());
    }

    #[test]
    fn swapdb() {
        let e = engine();
        let mut s = session(&e);
        run(&e, &mut s, &["SET", "a", "0"]);
        assert_eq!(run(&e, &mut s, &["SWAPDB", "0", "3"]), Frame::ok());
        assert_eq!(run(&e, &mut s, &["DBSIZE"]), int(0));
        run(&e, &mut s, &["SELECT", "3"]);
        assert_eq!(run(&e, &mut s, &["GET", "a"]), Frame::bulk("0"));
        assert_eq!(run(&e, &mut s, &["SWAPDB", "3", "3"]), Frame::ok());
        assert_eq!(
            run(&e, &mut s, &["SWAPDB", "x", "y"]),
            Frame::error("ERR invalid first DB index")
        );
        assert_eq!(
            run(&e, &mut s, &["SWAPDB", "0", "y"]),
            Frame::error("ERR invalid second DB index")
        );
        assert_eq!(
            run(&e, &mut s, &["SWAPDB", "0", "4294967296"]),
            Frame::error("ERR invalid second DB index")
        );
        assert_eq!(
            run(&e, &mut s, &["SWAPDB", "0", "16"]),
            Frame::error("ERR DB index is out of range")
        );
        assert_eq!(
            run(&e, &mut s, &["SWAPDB", "-1", "0"]),
            Frame::error("ERR DB index is out of range")
        );
        assert_eq!(run(&e, &mut s, &["SWAPDB", "0"]), arity("swapdb"));
    }

    #[test]
    fn time_and_lolwut() {
        let e = engine();
        let mut s = session(&e);
        let Frame::Array(parts) = run(&e, &mut s, &["TIME"]) else {
            panic!("TIME is not an array")
        };
        let [Frame::Bulk(secs), Frame::Bulk(usec)] = parts.as_slice() else {
            panic!("bad TIME {parts:?}")
        };
        assert!(std::str::from_utf8(secs).unwrap().parse::<u64>().unwrap() > 1_600_000_000);
        assert!(std::str::from_utf8(usec).unwrap().parse::<u64>().unwrap() < 1_000_000);
        assert_eq!(run(&e, &mut s, &["TIME", "x"]), arity("time"));
        let text = format!("Redis ver. {}\n", crate::REDIS_VERSION);
        assert_eq!(
            run(&e, &mut s, &["LOLWUT"]),
            Frame::Verbatim {
                format: *b"txt",
                text: text.clone().into()
            }
        );
        assert_eq!(
            run(&e, &mut s, &["LOLWUT", "VERSION", "6", "1", "2"]),
            Frame::Verbatim {
                format: *b"txt",
                text: text.into()
            }
        );
        assert_eq!(
            run(&e, &mut s, &["LOLWUT", "VERSION", "x"]),
            Frame::error("ERR value is not an integer or out of range")
        );
    }

    #[test]
    fn shutdown_parses_like_redis() {
        let e = engine();
        let mut s = session(&e);
        for bad in [
            &["SHUTDOWN", "x"][..],
            &["SHUTDOWN", "SAVE", "NOSAVE"],
            &["SHUTDOWN", "ABORT", "NOW"],
        ] {
            assert_eq!(run(&e, &mut s, bad), Frame::error("ERR syntax error"));
        }
        assert_eq!(
            run(&e, &mut s, &["SHUTDOWN", "ABORT"]),
            Frame::error("ERR No shutdown in progress.")
        );
        assert_eq!(e.shutdown_requested(), None);
        assert!(!s.close_after_reply);
        assert_eq!(
            run(&e, &mut s, &["SHUTDOWN", "NOSAVE", "NOW", "FORCE"]),
            Frame::ok()
        );
        assert_eq!(e.shutdown_requested(), Some(ShutdownMode::NoSave));
        assert!(s.close_after_reply);
        let e = engine();
        let mut s = session(&e);
        assert_eq!(run(&e, &mut s, &["shutdown"]), Frame::ok());
        assert_eq!(e.shutdown_requested(), Some(ShutdownMode::Save));
    }

    fn map(pairs: &[(&str, &str)]) -> Frame {
        Frame::Map(
            pairs
                .iter()
                .map(|(k, v)| (Frame::bulk(k), Frame::bulk(v)))
                .collect(),
        )
    }

    #[test]
    fn config_get_and_set() {
        let e = engine();
        let mut s = session(&e);
        assert_eq!(
            run(&e, &mut s, &["CONFIG", "GET", "maxmemory"]),
            map(&[("maxmemory", "0")])
        );
        assert_eq!(
            run(
                &e,
                &mut s,
                &["CONFIG", "GET", "timeout", "hz", "timeout", "nosuch"]
            ),
            map(&[("timeout", "0"), ("hz", "10")])
        );
        assert_eq!(
            run(
                &e,
                &mut s,
                &["config", "set", "maxmemory", "1mb", "hz", "20"]
            ),
            Frame::ok()
        );
        assert_eq!(
            run(&e, &mut s, &["CONFIG", "GET", "maxmemory", "h?"]),
            map(&[("maxmemory", "1048576"), ("hz", "20")])
        );
        assert_eq!(
            run(&e, &mut s, &["CONFIG", "SET", "maxmemory", "1", "hz"]),
            Frame::error("ERR syntax error")
        );
        assert_eq!(
            run(&e, &mut s, &["CONFIG", "SET", "foo", "bar"]),
            Frame::error("ERR Unknown option or number of arguments for CONFIG SET - 'foo'")
        );
        assert_eq!(
            run(&e, &mut s, &["CONFIG", "SET", "port", "1", "databases", "2"]),
            Frame::error("ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config")
        );
        assert_eq!(
            run(&e, &mut s, &["CONFIG", "SET", "appendonly", "x"]),
            Frame::error("ERR CONFIG SET failed (possibly related to argument 'appendonly') - argument must be 'yes' or 'no'")
        );
        assert_eq!(
            run(&e, &mut s, &["CONFIG", "SET", "hz", "1", "hz", "2"]),
            Frame::error(
                "ERR CONFIG SET failed (possibly related to argument 'hz') - duplicate parameter"
            )
        );
        assert_eq!(run(&e, &mut s, &["CONFIG", "GET"]), arity("config|get"));
        assert_eq!(
            run(&e, &mut s, &["CONFIG", "SET", "hz"]),
            arity("config|set")
        );
        assert_eq!(run(&e, &mut s, &["CONFIG"]), arity("config"));
        assert_eq!(
            run(&e, &mut s, &["CONFIG", "FOO"]),
            Frame::error("ERR unknown subcommand 'FOO'. Try CONFIG HELP.")
        );
    }

    #[test]
    fn config_resetstat_rewrite_help() {
        let e = engine();
        let mut s = session(&e);
        run(&e, &mut s, &["GET", "x"]);
        assert!(Stats::get(&e.stats.commands_processed) > 0);
        assert_eq!(run(&e, &mut s, &["CONFIG", "RESETSTAT"]), Frame::ok());
        assert_eq!(Stats::get(&e.stats.commands_processed), 0);
        assert_eq!(Stats::get(&e.stats.keyspace_misses), 0);
        assert_eq!(
            run(&e, &mut s, &["CONFIG", "REWRITE"]),
            Frame::error("ERR The server is running without a config file")
        );
        let path = std::env::temp_dir().join(format!(
            "ferrokv-server-rewrite-{}.conf",
            std::process::id()
        ));
        std::fs::write(&path, "hz 15\n").unwrap();
        e.config.load_file(&path).unwrap();
        run(&e, &mut s, &["CONFIG", "SET", "hz", "25"]);
        assert_eq!(run(&e, &mut s, &["CONFIG", "REWRITE"]), Frame::ok());
        assert!(std::fs::read_to_string(&path)
            .unwrap()
            .starts_with("hz 25\n"));
        std::fs::remove_file(&path).unwrap();
        let Frame::Array(lines) = run(&e, &mut s, &["config", "help"]) else {
            panic!("not an array")
        };
        assert_eq!(
            lines[0],
            Frame::simple("CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
        );
        assert_eq!(lines[1], Frame::simple("GET <pattern>"));
        assert_eq!(lines.len(), 11);
        assert_eq!(
            run(&e, &mut s, &["CONFIG", "RESETSTAT", "x"]),
            arity("config|resetstat")
        );
    }

    #[test]
    fn protected_config_needs_a_local_client() {
        assert!(is_local_address("127.0.0.1:5000"));
        assert!(is_local_address("[::1]:5000"));
        assert!(is_local_address("::1:5000"));
        assert!(is_local_address("/tmp/redis.sock:0"));
        assert!(!is_local_address("10.1.2.3:5000"));
        assert!(!is_local_address("127.0.0.2:5000"));
        let e = engine();
        let mut s = session(&e);
        assert_eq!(
            run(&e, &mut s, &["CONFIG", "SET", "dbfilename", "x.rdb"]),
            Frame::error("ERR CONFIG SET failed (possibly related to argument 'dbfilename') - can't set protected config")
        );
        e.config
            .set_startup("enable-protected-configs", "local")
            .unwrap();
        assert_eq!(
            run(&e, &mut s, &["CONFIG", "SET", "dbfilename", "x.rdb"]),
            Frame::ok()
        );
    }
}
