//! Keyspace commands: DEL UNLINK EXISTS TYPE RENAME RENAMENX COPY MOVE KEYS SCAN
//! RANDOMKEY TOUCH OBJECT.

use std::collections::HashSet;
use std::time::Duration;

use ferrokv_tests::*;

/// Runs a full SCAN iteration with `extra` arguments; returns every key seen (with
/// repetitions) and the number of calls.
async fn scan_all(c: &mut RawClient, extra: &[&str]) -> (Vec<String>, usize) {
    let mut cursor = "0".to_string();
    let mut keys = Vec::new();
    let mut calls = 0;
    loop {
        let mut args = vec!["SCAN", cursor.as_str()];
        args.extend_from_slice(extra);
        let reply = c.send(&args).await;
        calls += 1;
        let v = items(&reply);
        assert_eq!(v.len(), 2, "SCAN reply {reply:?}");
        assert!(
            matches!(v[0], Frame::Bulk(_)),
            "the cursor is a bulk string: {reply:?}"
        );
        cursor = text(&v[0]);
        keys.extend(items(&v[1]).iter().map(text));
        if cursor == "0" {
            return (keys, calls);
        }
        assert!(calls < 1_000_000, "SCAN does not terminate");
    }
}

async fn keys(c: &mut RawClient, pattern: &str) -> Vec<String> {
    sorted_texts(&c.send(&["KEYS", pattern]).await)
}

backend_tests! {
    async fn del_unlink_exists(server: &TestServer) {
        let mut c = server.raw().await;
        c.send(&["MSET", "a", "1", "b", "2", "c", "3", "d", "4"]).await;
        assert_eq!(c.send(&["EXISTS", "a"]).await, int(1));
        assert_eq!(c.send(&["EXISTS", "a", "a", "missing", "b"]).await, int(3), "EXISTS counts repeats");
        assert_eq!(c.send(&["DEL", "a", "a", "missing"]).await, int(1));
        assert_eq!(c.send(&["EXISTS", "a"]).await, int(0));
        assert_eq!(c.send(&["DEL", "a"]).await, int(0));
        assert_eq!(c.send(&["UNLINK", "b", "b", "c"]).await, int(2));
        assert_eq!(c.send(&["EXISTS", "b", "c", "d"]).await, int(1));
        assert_eq!(c.send(&["UNLINK", "missing"]).await, int(0));
        assert_eq!(c.send(&["DEL"]).await, wrong_args("del"));
        assert_eq!(c.send(&["UNLINK"]).await, wrong_args("unlink"));
        assert_eq!(c.send(&["EXISTS"]).await, wrong_args("exists"));
        // Deleting a volatile key also forgets its TTL.
        c.send(&["SET", "v", "1", "EX", "100"]).await;
        assert_eq!(c.send(&["DEL", "v"]).await, int(1));
        c.send(&["SET", "v", "2"]).await;
        assert_eq!(c.send(&["TTL", "v"]).await, int(-1));
    }

    async fn type_of_keys(server: &TestServer) {
        let mut c = server.raw().await;
        c.send(&["SET", "s", "x"]).await;
        c.send(&["SET", "n", "12"]).await;
        assert_eq!(c.send(&["TYPE", "s"]).await, simple("string"));
        assert_eq!(c.send(&["TYPE", "n"]).await, simple("string"));
        assert_eq!(c.send(&["TYPE", "missing"]).await, simple("none"));
        assert_eq!(c.send(&["TYPE"]).await, wrong_args("type"));
        assert_eq!(c.send(&["TYPE", "a", "b"]).await, wrong_args("type"));
    }

    async fn rename_and_renamenx(server: &TestServer) {
        let mut c = server.raw().await;
        c.send(&["SET", "a", "1"]).await;
        assert_eq!(c.send(&["RENAME", "a", "b"]).await, ok());
        assert_eq!(c.send(&["EXISTS", "a"]).await, int(0));
        assert_eq!(c.send(&["GET", "b"]).await, bulk("1"));
        assert_eq!(c.send(&["RENAME", "b", "b"]).await, ok());
        assert_eq!(c.send(&["GET", "b"]).await, bulk("1"));
        assert_eq!(c.send(&["RENAME", "missing", "x"]).await, err("ERR no such key"));
        assert_eq!(c.send(&["RENAMENX", "missing", "x"]).await, err("ERR no such key"));
        // RENAME overwrites the destination, value and TTL; the source's TTL moves.
        c.send(&["SET", "src", "s", "EX", "100"]).await;
        c.send(&["SET", "dst", "d", "EX", "5000"]).await;
        assert_eq!(c.send(&["RENAME", "src", "dst"]).await, ok());
        assert_eq!(c.send(&["GET", "dst"]).await, bulk("s"));
        let ttl = as_int(&c.send(&["TTL", "dst"]).await);
        assert!((99..=100).contains(&ttl), "TTL moved with the key: {ttl}");
        c.send(&["SET", "p", "1"]).await;
        c.send(&["SET", "q", "2", "EX", "100"]).await;
        c.send(&["RENAME", "p", "q"]).await;
        assert_eq!(c.send(&["TTL", "q"]).await, int(-1));

        c.send(&["SET", "x", "1"]).await;
        c.send(&["SET", "y", "2"]).await;
        assert_eq!(c.send(&["RENAMENX", "x", "y"]).await, int(0));
        assert_eq!(c.send(&["GET", "y"]).await, bulk("2"));
        assert_eq!(c.send(&["RENAMENX", "x", "x"]).await, int(0));
        assert_eq!(c.send(&["RENAMENX", "x", "z"]).await, int(1));
        assert_eq!(c.send(&["GET", "z"]).await, bulk("1"));
        assert_eq!(c.send(&["EXISTS", "x"]).await, int(0));
        assert_eq!(c.send(&["RENAME", "z"]).await, wrong_args("rename"));
        assert_eq!(c.send(&["RENAMENX", "z"]).await, wrong_args("renamenx"));
    }

    async fn copy(server: &TestServer) {
        let mut c = server.raw().await;
        c.send(&["SET", "a", "1", "EX", "100"]).await;
        assert_eq!(c.send(&["COPY", "a", "b"]).await, int(1));
        assert_eq!(c.send(&["GET", "b"]).await, bulk("1"));
        let ttl = as_int(&c.send(&["TTL", "b"]).await);
        assert!((99..=100).contains(&ttl), "COPY keeps the TTL: {ttl}");
        assert_eq!(c.send(&["COPY", "a", "b"]).await, int(0));
        c.send(&["SET", "a", "2"]).await;
        assert_eq!(c.send(&["COPY", "a", "b", "REPLACE"]).await, int(1));
        assert_eq!(c.send(&["GET", "b"]).await, bulk("2"));
        assert_eq!(c.send(&["TTL", "b"]).await, int(-1));
        assert_eq!(c.send(&["COPY", "missing", "x"]).await, int(0));
        assert_eq!(c.send(&["EXISTS", "x"]).await, int(0));
        // Into another database.
        assert_eq!(c.send(&["COPY", "a", "a", "DB", "1"]).await, int(1));
        assert_eq!(c.send(&["COPY", "a", "a", "DB", "1"]).await, int(0));
        c.send(&["SELECT", "1"]).await;
        assert_eq!(c.send(&["GET", "a"]).await, bulk("2"));
        c.send(&["SELECT", "0"]).await;
        // The copy is independent of the original.
        c.send(&["APPEND", "b", "x"]).await;
        assert_eq!(c.send(&["GET", "a"]).await, bulk("2"));
        let same = err("ERR source and destination objects are the same");
        assert_eq!(c.send(&["COPY", "a", "a"]).await, same);
        assert_eq!(c.send(&["COPY", "a", "a", "DB", "0"]).await, same);
        assert_eq!(c.send(&["COPY", "a", "c", "DB", "16"]).await, err("ERR DB index is out of range"));
        assert_eq!(c.send(&["COPY", "a", "c", "DB", "abc"]).await, not_integer());
        assert_eq!(c.send(&["COPY", "a", "c", "foo"]).await, syntax_error());
        assert_eq!(c.send(&["COPY", "a", "c", "DB"]).await, syntax_error());
        assert_eq!(c.send(&["COPY", "a"]).await, wrong_args("copy"));
    }

    async fn move_between_databases(server: &TestServer) {
        let mut c = server.raw().await;
        c.send(&["SET", "a", "1", "EX", "100"]).await;
        assert_eq!(c.send(&["MOVE", "a", "1"]).await, int(1));
        assert_eq!(c.send(&["EXISTS", "a"]).await, int(0));
        c.send(&["SELECT", "1"]).await;
        assert_eq!(c.send(&["GET", "a"]).await, bulk("1"));
        let ttl = as_int(&c.send(&["TTL", "a"]).await);
        assert!((99..=100).contains(&ttl), "MOVE keeps the TTL: {ttl}");
        c.send(&["SELECT", "0"]).await;
        c.send(&["SET", "a", "0"]).await;
        assert_eq!(c.send(&["MOVE", "a", "1"]).await, int(0), "destination exists");
        assert_eq!(c.send(&["GET", "a"]).await, bulk("0"));
        assert_eq!(c.send(&["MOVE", "missing", "1"]).await, int(0));
        assert_eq!(c.send(&["MOVE", "a", "0"]).await, err("ERR source and destination objects are the same"));
        assert_eq!(c.send(&["MOVE", "a", "16"]).await, err("ERR DB index is out of range"));
        assert_eq!(c.send(&["MOVE", "a", "abc"]).await, not_integer());
        assert_eq!(c.send(&["MOVE", "a"]).await, wrong_args("move"));
    }

    async fn keys_glob_patterns(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["KEYS", "*"]).await, arr(vec![]));
        for k in ["hello", "hallo", "hxllo", "hllo", "heeeello", "hillo", "a*b", "a?b", "foo", "foo:bar", "[x]"] {
            c.send(&["SET", k, "1"]).await;
        }
        assert_eq!(keys(&mut c, "*").await.len(), 11);
        assert_eq!(keys(&mut c, "h?llo").await, ["hallo", "hello", "hillo", "hxllo"]);
        assert_eq!(keys(&mut c, "h*llo").await, ["hallo", "heeeello", "hello", "hillo", "hllo", "hxllo"]);
        assert_eq!(keys(&mut c, "h[ae]llo").await, ["hallo", "hello"]);
        assert_eq!(keys(&mut c, "h[^e]llo").await, ["hallo", "hillo", "hxllo"]);
        assert_eq!(keys(&mut c, "h[a-i]llo").await, ["hallo", "hello", "hillo"]);
        assert_eq!(keys(&mut c, "a\\*b").await, ["a*b"]);
        assert_eq!(keys(&mut c, "a\\?b").await, ["a?b"]);
        assert_eq!(keys(&mut c, "a?b").await, ["a*b", "a?b"]);
        assert_eq!(keys(&mut c, "foo*").await, ["foo", "foo:bar"]);
        assert_eq!(keys(&mut c, "\\[x\\]").await, ["[x]"]);
        assert_eq!(keys(&mut c, "nomatch*").await, Vec::<String>::new());
        assert_eq!(keys(&mut c, "foo").await, ["foo"]);
        assert_eq!(c.send(&["KEYS"]).await, wrong_args("keys"));
        assert_eq!(c.send(&["KEYS", "a", "b"]).await, wrong_args("keys"));
    }

    async fn keys_skips_expired(server: &TestServer) {
        let mut c = server.raw().await;
        c.send(&["SET", "live", "1"]).await;
        c.send(&["SET", "dying", "1", "PX", "20"]).await;
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert_eq!(c.send(&["KEYS", "*"]).await, bulks(&["live"]));
    }

    async fn scan_small_and_options(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["SCAN", "0"]).await, arr(vec![bulk("0"), arr(vec![])]));
        c.send(&["MSET", "a", "1", "b", "2", "c", "3", "ab", "4"]).await;
        let (keys, _) = scan_all(&mut c, &[]).await;
        let mut keys = keys;
        keys.sort();
        keys.dedup();
        assert_eq!(keys, ["a", "ab", "b", "c"]);
        let (mut matched, _) = scan_all(&mut c, &["MATCH", "a*", "COUNT", "100"]).await;
        matched.sort();
        assert_eq!(matched, ["a", "ab"]);
        let (typed, _) = scan_all(&mut c, &["TYPE", "string", "COUNT", "100"]).await;
        assert_eq!(typed.len(), 4);
        let (none, _) = scan_all(&mut c, &["TYPE", "list"]).await;
        assert!(none.is_empty());
        let (none, _) = scan_all(&mut c, &["TYPE", "foo"]).await;
        assert!(none.is_empty());
        // Errors.
        assert_eq!(c.send(&["SCAN", "abc"]).await, err("ERR invalid cursor"));
        assert_eq!(c.send(&["SCAN", "18446744073709551616"]).await, err("ERR invalid cursor"));
        assert_eq!(c.send(&["SCAN", "0", "COUNT", "0"]).await, syntax_error());
        assert_eq!(c.send(&["SCAN", "0", "COUNT", "-1"]).await, syntax_error());
        assert_eq!(c.send(&["SCAN", "0", "COUNT", "abc"]).await, not_integer());
        assert_eq!(c.send(&["SCAN", "0", "MATCH"]).await, syntax_error());
        assert_eq!(c.send(&["SCAN", "0", "TYPE"]).await, syntax_error());
        assert_eq!(c.send(&["SCAN", "0", "foo", "1"]).await, syntax_error());
        assert_eq!(c.send(&["SCAN"]).await, wrong_args("scan"));
    }

    async fn scan_full_iteration_covers_every_key(server: &TestServer) {
        let mut c = server.raw().await;
        let mut batch = Vec::new();
        for i in 0..5000 {
            batch.extend(request(&[b"SET", format!("stable:{i}").as_bytes(), b"v"]));
        }
        c.send_bytes(&batch).await;
        for _ in 0..5000 {
            assert_eq!(c.read_frame().await, ok());
        }
        let (keys, calls) = scan_all(&mut c, &["COUNT", "10"]).await;
        let seen: HashSet<&String> = keys.iter().collect();
        assert_eq!(seen.len(), 5000);
        assert!(calls > 100, "COUNT 10 over 5000 keys takes many calls, took {calls}");
        // COUNT is a hint: no reply is absurdly larger than asked.
        let reply = c.send(&["SCAN", "0", "COUNT", "10"]).await;
        assert!(items(&items(&reply)[1]).len() < 200);
    }

    async fn scan_with_concurrent_writes_returns_every_stable_key(server: &TestServer) {
        let mut c = server.raw().await;
        let mut batch = Vec::new();
        for i in 0..5000 {
            batch.extend(request(&[b"SET", format!("stable:{i}").as_bytes(), b"v"]));
        }
        c.send_bytes(&batch).await;
        for _ in 0..5000 {
            assert_eq!(c.read_frame().await, ok());
        }
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let writer = {
            let addr = server.addr;
            let stop = stop.clone();
            tokio::spawn(async move {
                let mut w = RawClient::connect(addr).await;
                let mut i = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    // Grow and shrink the keyspace (forcing rehashing) while SCAN runs.
                    let mut batch = Vec::new();
                    for j in 0..50 {
                        batch.extend(request(&[b"SET", format!("churn:{}", i + j).as_bytes(), b"x"]));
                    }
                    if i >= 1000 {
                        for j in 0..40 {
                            batch.extend(request(&[b"DEL", format!("churn:{}", i - 1000 + j).as_bytes()]));
                        }
                    }
                    w.send_bytes(&batch).await;
                    for _ in 0..(if i >= 1000 { 90 } else { 50 }) {
                        w.read_frame().await;
                    }
                    i += 50;
                }
                i
            })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        let (keys, _) = scan_all(&mut c, &["COUNT", "10"]).await;
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let written = writer.await.expect("writer");
        assert!(written > 0);
        let seen: HashSet<&str> = keys.iter().map(|k| k.as_str()).collect();
        let missing: Vec<String> =
            (0..5000).map(|i| format!("stable:{i}")).filter(|k| !seen.contains(k.as_str())).collect();
        assert!(missing.is_empty(), "{} stable keys never returned, e.g. {:?}", missing.len(), &missing[..missing.len().min(5)]);
        for k in &keys {
            assert!(k.starts_with("stable:") || k.starts_with("churn:"), "unknown key {k}");
        }
    }

    async fn randomkey(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["RANDOMKEY"]).await, nil());
        c.send(&["SET", "only", "1"]).await;
        assert_eq!(c.send(&["RANDOMKEY"]).await, bulk("only"));
        c.send(&["MSET", "a", "1", "b", "2", "c", "3"]).await;
        let mut seen = HashSet::new();
        for _ in 0..200 {
            let k = text(&c.send(&["RANDOMKEY"]).await);
            assert!(["only", "a", "b", "c"].contains(&k.as_str()), "{k}");
            seen.insert(k);
        }
        assert!(seen.len() >= 2, "RANDOMKEY should vary: {seen:?}");
        assert_eq!(c.send(&["RANDOMKEY", "x"]).await, wrong_args("randomkey"));
        // Never returns an expired key.
        c.send(&["FLUSHDB"]).await;
        c.send(&["SET", "gone", "1", "PX", "10"]).await;
        tokio::time::sleep(Duration::from_millis(40)).await;
        assert_eq!(c.send(&["RANDOMKEY"]).await, nil());
    }

    async fn touch(server: &TestServer) {
        let mut c = server.raw().await;
        c.send(&["MSET", "a", "1", "b", "2"]).await;
        assert_eq!(c.send(&["TOUCH", "a", "a", "b", "missing"]).await, int(3));
        assert_eq!(c.send(&["TOUCH", "missing"]).await, int(0));
        assert_eq!(c.send(&["TOUCH"]).await, wrong_args("touch"));
    }

    async fn object_subcommands(server: &TestServer) {
        let mut c = server.raw().await;
        c.send(&["SET", "i", "123"]).await;
        c.send(&["SET", "neg", "-5"]).await;
        c.send(&["SET", "max", "9223372036854775807"]).await;
        c.send(&["SET", "s", "short"]).await;
        c.send(&["SET", "ws", " 5"]).await;
        c.send(&["SET", "big", "99999999999999999999"]).await;
        c.send(&["SET", "long", "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz"]).await;
        assert_eq!(c.send(&["OBJECT", "ENCODING", "i"]).await, bulk("int"));
        assert_eq!(c.send(&["OBJECT", "ENCODING", "neg"]).await, bulk("int"));
        assert_eq!(c.send(&["OBJECT", "ENCODING", "max"]).await, bulk("int"));
        assert_eq!(c.send(&["OBJECT", "ENCODING", "s"]).await, bulk("embstr"));
        assert_eq!(c.send(&["OBJECT", "ENCODING", "ws"]).await, bulk("embstr"));
        assert_eq!(c.send(&["OBJECT", "ENCODING", "big"]).await, bulk("embstr"));
        assert_eq!(c.send(&["OBJECT", "encoding", "long"]).await, bulk("raw"));
        // Appending turns an embstr into raw.
        c.send(&["APPEND", "s", "x"]).await;
        assert_eq!(c.send(&["OBJECT", "ENCODING", "s"]).await, bulk("raw"));
        assert_eq!(c.send(&["OBJECT", "ENCODING", "missing"]).await, nil());

        // Small integers are shared objects.
        assert_eq!(c.send(&["OBJECT", "REFCOUNT", "i"]).await, int(i32::MAX as i64));
        assert_eq!(c.send(&["OBJECT", "REFCOUNT", "long"]).await, int(1));
        assert_eq!(c.send(&["OBJECT", "REFCOUNT", "missing"]).await, nil());

        let idle = as_int(&c.send(&["OBJECT", "IDLETIME", "long"]).await);
        assert!((0..=2).contains(&idle), "{idle}");
        assert_eq!(c.send(&["OBJECT", "IDLETIME", "missing"]).await, nil());
        assert_eq!(
            c.send(&["OBJECT", "FREQ", "long"]).await,
            err("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
        );
        assert_eq!(c.send(&["OBJECT", "FREQ", "missing"]).await, nil());

        let help = c.send(&["OBJECT", "HELP"]).await;
        let lines = items(&help);
        assert_eq!(lines.len(), 15);
        assert_eq!(lines[0], simple("OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"));
        assert_eq!(lines[14], simple("    Prints this help."));

        assert_eq!(c.send(&["OBJECT", "foo"]).await, err("ERR unknown subcommand 'foo'. Try OBJECT HELP."));
        assert_eq!(c.send(&["OBJECT", "ENCODING"]).await, wrong_args("object|encoding"));
        assert_eq!(c.send(&["OBJECT", "HELP", "x"]).await, wrong_args("object|help"));
        assert_eq!(c.send(&["OBJECT"]).await, wrong_args("object"));
    }
}
