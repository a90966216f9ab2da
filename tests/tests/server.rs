//! Server commands (INFO, CONFIG GET/SET/RESETSTAT/HELP) and disk persistence across
//! restarts.

use std::collections::BTreeMap;
use std::time::Duration;

use ferrokv_tests::*;

/// The `name:value` fields of an INFO reply.
fn info_fields(info: &str) -> BTreeMap<String, String> {
    info.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn info_sections(info: &str) -> Vec<String> {
    info.lines()
        .filter_map(|l| l.strip_prefix("# "))
        .map(str::to_string)
        .collect()
}

/// A CONFIG GET reply as a sorted map.
fn config_map(frame: &Frame) -> BTreeMap<String, String> {
    let flat: Vec<String> = match frame {
        Frame::Map(pairs) => pairs.iter().flat_map(|(k, v)| [text(k), text(v)]).collect(),
        other => items(other).iter().map(text).collect(),
    };
    assert_eq!(flat.len() % 2, 0, "CONFIG GET reply has pairs: {frame:?}");
    flat.chunks(2)
        .map(|p| (p[0].clone(), p[1].clone()))
        .collect()
}

backend_tests! {
    async fn info_default_sections(server: &TestServer) {
        let mut c = server.raw().await;
        c.send(&["SET", "k", "v"]).await;
        let reply = c.send(&["INFO"]).await;
        assert!(matches!(reply, Frame::Bulk(_)), "INFO is a bulk string: {reply:?}");
        let info = text(&reply);
        assert!(info.starts_with("# Server\r\n"), "{info}");
        assert!(info.ends_with("\r\n"));
        assert!(!info.contains("\n\n") && !info.replace("\r\n", "").contains('\n'), "lines end with CRLF");
        assert_eq!(
            info_sections(&info),
            ["Server", "Clients", "Memory", "Persistence", "Stats", "Replication", "CPU", "Modules", "Errorstats", "Cluster", "Keyspace"]
        );
        let fields = info_fields(&info);
        assert!(fields["redis_version"].starts_with("7.0."), "{}", fields["redis_version"]);
        assert_eq!(fields["redis_mode"], "standalone");
        assert_eq!(fields["arch_bits"], "64");
        assert_eq!(fields["run_id"].len(), 40);
        assert_eq!(fields["role"], "master");
        assert_eq!(fields["cluster_enabled"], "0");
        assert_eq!(fields["maxmemory_policy"], "noeviction");
        assert_eq!(fields["maxclients"], "10000");
        assert_eq!(fields["db0"], "keys=1,expires=0,avg_ttl=0");
        assert_eq!(fields["hz"], "10");
        for name in ["used_memory", "connected_clients", "total_commands_processed", "keyspace_hits", "uptime_in_seconds", "process_id"] {
            assert!(fields[name].parse::<u64>().is_ok(), "{name}={}", fields[name]);
        }
        assert!(!c.send(&["INFO", "default"]).await.is_error());
    }

    async fn info_selected_sections(server: &TestServer) {
        let mut c = server.raw().await;
        let info = text(&c.send(&["INFO", "server"]).await);
        assert_eq!(info_sections(&info), ["Server"]);
        assert!(info.ends_with("\r\n\r\n") || info.ends_with("\r\n"));
        let info = text(&c.send(&["INFO", "server", "clients"]).await);
        assert_eq!(info_sections(&info), ["Server", "Clients"]);
        let info = text(&c.send(&["INFO", "CLIENTS"]).await);
        assert_eq!(info_sections(&info), ["Clients"]);
        assert_eq!(c.send(&["INFO", "nosuchsection"]).await, bulk(""));
        let all = text(&c.send(&["INFO", "all"]).await);
        let sections = info_sections(&all);
        assert!(sections.contains(&"Commandstats".to_string()), "{sections:?}");
        assert!(sections.contains(&"Latencystats".to_string()) || sections.contains(&"Errorstats".to_string()));
        let everything = text(&c.send(&["INFO", "everything"]).await);
        assert!(info_sections(&everything).contains(&"Commandstats".to_string()));
        let cmdstats = text(&c.send(&["INFO", "commandstats"]).await);
        assert_eq!(info_sections(&cmdstats), ["Commandstats"]);
        assert!(cmdstats.contains("cmdstat_info:calls="), "INFO commandstats lacks cmdstat_info: {cmdstats:?}");
    }

    async fn info_keyspace_and_stats(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["INFO", "keyspace"]).await, bulk("# Keyspace\r\n"));
        c.send(&["MSET", "a", "1", "b", "2", "c", "3"]).await;
        c.send(&["EXPIRE", "a", "1000"]).await;
        c.send(&["SELECT", "5"]).await;
        c.send(&["SET", "x", "1"]).await;
        let info = text(&c.send(&["INFO", "keyspace"]).await);
        let fields = info_fields(&info);
        assert!(fields["db0"].starts_with("keys=3,expires=1,avg_ttl="), "{info}");
        assert_eq!(fields["db5"], "keys=1,expires=0,avg_ttl=0");
        assert_eq!(info_sections(&info), ["Keyspace"]);
        assert!(info.find("db0:").unwrap() < info.find("db5:").unwrap());

        let before = info_fields(&text(&c.send(&["INFO", "stats"]).await));
        c.send(&["GET", "x"]).await;
        c.send(&["GET", "x"]).await;
        c.send(&["GET", "missing"]).await;
        let after = info_fields(&text(&c.send(&["INFO", "stats"]).await));
        let delta = |name: &str| after[name].parse::<i64>().unwrap() - before[name].parse::<i64>().unwrap();
        assert_eq!(delta("keyspace_hits"), 2);
        assert_eq!(delta("keyspace_misses"), 1);
        assert_eq!(delta("total_commands_processed"), 4);

        let clients = info_fields(&text(&c.send(&["INFO", "clients"]).await));
        let _other = server.raw().await;
        let mut third = server.raw().await;
        third.send(&["PING"]).await;
        let more = info_fields(&text(&c.send(&["INFO", "clients"]).await));
        assert_eq!(more["connected_clients"].parse::<i64>().unwrap(), clients["connected_clients"].parse::<i64>().unwrap() + 2);
    }

    async fn info_errorstats(server: &TestServer) {
        let mut c = server.raw().await;
        c.send(&["CONFIG", "RESETSTAT"]).await;
        c.send(&["INCR", "a", "b"]).await;
        c.send(&["SET", "s", "x"]).await;
        c.send(&["INCR", "s"]).await;
        let info = text(&c.send(&["INFO", "errorstats"]).await);
        let stats = info_fields(&info);
        assert_eq!(stats.get("errorstat_ERR").map(String::as_str), Some("count=2"), "INFO errorstats: {info:?}");
        let s = info_fields(&text(&c.send(&["INFO", "stats"]).await));
        assert_eq!(s["total_error_replies"], "2");
    }

    async fn config_get(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["CONFIG", "GET", "maxmemory"]).await, bulks(&["maxmemory", "0"]));
        assert_eq!(c.send(&["CONFIG", "GET", "timeout"]).await, bulks(&["timeout", "0"]));
        assert_eq!(c.send(&["CONFIG", "GET", "maxmemory-policy"]).await, bulks(&["maxmemory-policy", "noeviction"]));
        assert_eq!(c.send(&["CONFIG", "GET", "databases"]).await, bulks(&["databases", "16"]));
        assert_eq!(c.send(&["CONFIG", "GET", "proto-max-bulk-len"]).await, bulks(&["proto-max-bulk-len", "536870912"]));
        assert_eq!(c.send(&["CONFIG", "GET", "nosuchparam"]).await, arr(vec![]));
        let several = config_map(&c.send(&["CONFIG", "GET", "maxmemory", "timeout", "hz"]).await);
        assert_eq!(several.len(), 3);
        assert_eq!(several["hz"], "10");
        let globbed = config_map(&c.send(&["CONFIG", "GET", "*max-*-entries*"]).await);
        let names: Vec<&str> = globbed.keys().map(|k| k.as_str()).collect();
        assert_eq!(
            names,
            ["hash-max-listpack-entries", "hash-max-ziplist-entries", "set-max-intset-entries", "zset-max-listpack-entries", "zset-max-ziplist-entries"]
        );
        assert_eq!(globbed["set-max-intset-entries"], "512");
        let all = config_map(&c.send(&["CONFIG", "GET", "*"]).await);
        assert!(all.len() > 150, "CONFIG GET * lists every parameter: {}", all.len());
        assert_eq!(all["appendonly"], "no");
        assert_eq!(c.send(&["CONFIG", "GET"]).await, wrong_args("config|get"));
        assert_eq!(c.send(&["CONFIG"]).await, wrong_args("config"));
        assert_eq!(c.send(&["CONFIG", "foo"]).await, err("ERR unknown subcommand 'foo'. Try CONFIG HELP."));
    }

    async fn config_set(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["CONFIG", "SET", "maxmemory", "10mb"]).await, ok());
        assert_eq!(c.send(&["CONFIG", "GET", "maxmemory"]).await, bulks(&["maxmemory", "10485760"]));
        assert_eq!(c.send(&["CONFIG", "SET", "maxmemory", "1gb", "timeout", "10"]).await, ok());
        assert_eq!(c.send(&["CONFIG", "GET", "maxmemory"]).await, bulks(&["maxmemory", "1073741824"]));
        assert_eq!(c.send(&["CONFIG", "GET", "timeout"]).await, bulks(&["timeout", "10"]));
        assert_eq!(c.send(&["CONFIG", "SET", "MAXMEMORY", "0"]).await, ok());
        assert_eq!(c.send(&["CONFIG", "GET", "maxmemory"]).await, bulks(&["maxmemory", "0"]));
        assert_eq!(c.send(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"]).await, ok());
        assert_eq!(c.send(&["CONFIG", "GET", "maxmemory-policy"]).await, bulks(&["maxmemory-policy", "allkeys-lru"]));
        let info = info_fields(&text(&c.send(&["INFO", "memory"]).await));
        assert_eq!(info["maxmemory_policy"], "allkeys-lru");
        assert_eq!(c.send(&["CONFIG", "SET", "timeout", "0"]).await, ok());
        assert_eq!(c.send(&["CONFIG", "SET", "hz", "20"]).await, ok());
        assert_eq!(c.send(&["CONFIG", "GET", "hz"]).await, bulks(&["hz", "20"]));
    }

    async fn config_set_errors(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(
            c.send(&["CONFIG", "SET", "foo", "bar"]).await,
            err("ERR Unknown option or number of arguments for CONFIG SET - 'foo'")
        );
        assert_eq!(
            c.send(&["CONFIG", "SET", "maxmemory", "1", "foo", "bar"]).await,
            err("ERR Unknown option or number of arguments for CONFIG SET - 'foo'")
        );
        assert_eq!(c.send(&["CONFIG", "GET", "maxmemory"]).await, bulks(&["maxmemory", "0"]), "all or nothing");
        assert_eq!(
            c.send(&["CONFIG", "SET", "timeout", "abc"]).await,
            err("ERR CONFIG SET failed (possibly related to argument 'timeout') - argument couldn't be parsed into an integer")
        );
        assert_eq!(
            c.send(&["CONFIG", "SET", "timeout", "-1"]).await,
            err("ERR CONFIG SET failed (possibly related to argument 'timeout') - argument must be between 0 and 2147483647 inclusive")
        );
        assert_eq!(
            c.send(&["CONFIG", "SET", "maxmemory", "abc"]).await,
            err("ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value")
        );
        assert_eq!(
            c.send(&["CONFIG", "SET", "maxmemory", "10", "maxmemory", "20"]).await,
            err("ERR CONFIG SET failed (possibly related to argument 'maxmemory') - duplicate parameter")
        );
        assert_eq!(
            c.send(&["CONFIG", "SET", "daemonize", "yes"]).await,
            err("ERR CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config")
        );
        assert_eq!(
            c.send(&["CONFIG", "SET", "appendonly", "maybe"]).await,
            err("ERR CONFIG SET failed (possibly related to argument 'appendonly') - argument must be 'yes' or 'no'")
        );
        assert_eq!(
            c.send(&["CONFIG", "SET", "maxmemory-policy", "foo"]).await,
            err("ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction")
        );
        assert_eq!(c.send(&["CONFIG", "SET"]).await, wrong_args("config|set"));
        assert_eq!(c.send(&["CONFIG", "SET", "maxmemory"]).await, wrong_args("config|set"));
        assert_eq!(c.send(&["CONFIG", "SET", "maxmemory", "1", "timeout"]).await, syntax_error());
    }

    async fn config_resetstat_and_help(server: &TestServer) {
        let mut c = server.raw().await;
        c.send(&["GET", "missing"]).await;
        assert_eq!(c.send(&["CONFIG", "RESETSTAT"]).await, ok());
        let stats = info_fields(&text(&c.send(&["INFO", "stats"]).await));
        assert_eq!(stats["keyspace_misses"], "0");
        assert_eq!(stats["total_error_replies"], "0");
        let help = c.send(&["CONFIG", "HELP"]).await;
        let lines = items(&help);
        assert_eq!(lines.len(), 11);
        assert_eq!(lines[0], simple("CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"));
        assert_eq!(lines[1], simple("GET <pattern>"));
        assert_eq!(lines[10], simple("    Prints this help."));
        assert_eq!(c.send(&["CONFIG", "RESETSTAT", "x"]).await, wrong_args("config|resetstat"));
    }

    async fn redis_rs_info_and_config(server: &TestServer) {
        let mut con = server.conn().await;
        let info: String = redis::cmd("INFO").arg("server").query_async(&mut con).await.expect("info");
        assert!(info.contains("redis_version:7.0."));
        let cfg: Vec<String> = redis::cmd("CONFIG").arg("GET").arg("databases").query_async(&mut con).await.expect("config");
        assert_eq!(cfg, ["databases", "16"]);
    }
}

/// The disk backend keeps keys, values, TTLs and databases across a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disk_restart_keeps_keys_values_and_expiries() {
    let server = start(Backend::Disk).await;
    let mut c = server.raw().await;
    c.send(&["SET", "plain", "value"]).await;
    c.send_bin(&[b"SET", b"bin\x00key", b"\x00\xff\r\n"]).await;
    c.send(&["SET", "counter", "41"]).await;
    c.send(&["INCR", "counter"]).await;
    c.send(&["SET", "volatile", "v", "EX", "1000"]).await;
    let pat = unix_now_ms() + 5_000_000;
    c.send(&["SET", "volatile_ms", "v", "PXAT", &pat.to_string()])
        .await;
    c.send(&["SET", "short", "v", "PX", "300"]).await;
    c.send(&["SETRANGE", "ranged", "12", "x"]).await;
    c.send(&["SELECT", "3"]).await;
    c.send(&["SET", "in_db3", "x"]).await;
    c.send(&["SELECT", "0"]).await;
    c.send(&["SET", "deleted", "x"]).await;
    c.send(&["DEL", "deleted"]).await;
    let mut batch = Vec::new();
    for i in 0..1000 {
        batch.extend(request(&[
            b"SET",
            format!("bulk:{i}").as_bytes(),
            format!("{i}").as_bytes(),
        ]));
    }
    c.send_bytes(&batch).await;
    for _ in 0..1000 {
        c.read_frame().await;
    }
    drop(c);

    let server = server.restart().await;
    let mut c = server.raw().await;
    assert_eq!(c.send(&["GET", "plain"]).await, bulk("value"));
    assert_eq!(
        c.send_bin(&[b"GET", b"bin\x00key"]).await,
        bulk(b"\x00\xff\r\n")
    );
    assert_eq!(c.send(&["GET", "counter"]).await, bulk("42"));
    assert_eq!(c.send(&["INCR", "counter"]).await, int(43));
    let ttl = as_int(&c.send(&["TTL", "volatile"]).await);
    assert!((990..=1000).contains(&ttl), "TTL survives: {ttl}");
    assert_eq!(c.send(&["PEXPIRETIME", "volatile_ms"]).await, int(pat));
    assert_eq!(c.send(&["TTL", "plain"]).await, int(-1));
    assert_eq!(
        c.send(&["GET", "ranged"]).await,
        bulk(b"\0\0\0\0\0\0\0\0\0\0\0\0x")
    );
    assert_eq!(c.send(&["EXISTS", "deleted"]).await, int(0));
    assert_eq!(c.send(&["GET", "bulk:999"]).await, bulk("999"));
    c.send(&["SELECT", "3"]).await;
    assert_eq!(c.send(&["GET", "in_db3"]).await, bulk("x"));
    assert_eq!(c.send(&["DBSIZE"]).await, int(1));
    c.send(&["SELECT", "0"]).await;
    // The short TTL keeps running across the restart.
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(c.send(&["EXISTS", "short"]).await, int(0));
    // plain, bin, counter, volatile, volatile_ms, ranged and 1000 bulk keys.
    assert_eq!(c.send(&["DBSIZE"]).await, int(1006));
    drop(c);

    // FLUSHALL is durable too.
    let mut c = server.raw().await;
    assert_eq!(c.send(&["FLUSHALL"]).await, ok());
    c.send(&["SET", "after", "flush"]).await;
    drop(c);
    let server = server.restart().await;
    let mut c = server.raw().await;
    assert_eq!(c.send(&["DBSIZE"]).await, int(1));
    assert_eq!(c.send(&["GET", "after"]).await, bulk("flush"));
    c.send(&["SELECT", "3"]).await;
    assert_eq!(c.send(&["DBSIZE"]).await, int(0));
    drop(c);
    server.stop().await;
}

/// SWAPDB and MOVE survive a restart on the disk backend.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disk_restart_after_swapdb_and_move() {
    let server = start(Backend::Disk).await;
    let mut c = server.raw().await;
    c.send(&["SET", "a", "db0"]).await;
    c.send(&["SET", "m", "moved"]).await;
    c.send(&["MOVE", "m", "2"]).await;
    c.send(&["SELECT", "1"]).await;
    c.send(&["SET", "b", "db1"]).await;
    assert_eq!(c.send(&["SWAPDB", "0", "1"]).await, ok());
    drop(c);
    let server = server.restart().await;
    let mut c = server.raw().await;
    assert_eq!(c.send(&["GET", "b"]).await, bulk("db1"));
    assert_eq!(c.send(&["EXISTS", "a"]).await, int(0));
    c.send(&["SELECT", "1"]).await;
    assert_eq!(c.send(&["GET", "a"]).await, bulk("db0"));
    c.send(&["SELECT", "2"]).await;
    assert_eq!(c.send(&["GET", "m"]).await, bulk("moved"));
    drop(c);
    server.stop().await;
}
