//! Hash commands: HSET HSETNX HMSET HGET HMGET HDEL HLEN HSTRLEN HEXISTS HKEYS HVALS
//! HGETALL (a map in RESP3) HINCRBY HINCRBYFLOAT HRANDFIELD HSCAN with their error
//! replies, and Redis 7.4's hash field expiry (HEXPIRE HPEXPIRE HEXPIREAT HPEXPIREAT
//! HTTL HPTTL HEXPIRETIME HPEXPIRETIME HPERSIST). The field expiry tests skip
//! themselves against a real redis-server older than 7.4.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use ferrokv_tests::*;

/// The `name:value` fields of an INFO reply.
fn info_fields(info: &str) -> BTreeMap<String, String> {
    info.lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_string(), v.trim().to_string()))
        .collect()
}

/// Keyspace (hits, misses) from INFO stats.
async fn hits_misses(c: &mut RawClient) -> (i64, i64) {
    let info = info_fields(&text(&c.send(&["INFO", "stats"]).await));
    (
        info["keyspace_hits"].parse().expect("hits"),
        info["keyspace_misses"].parse().expect("misses"),
    )
}

/// A field -> value map from a flat RESP2 field/value array.
fn pairs(frame: &Frame) -> BTreeMap<String, String> {
    let flat: Vec<String> = items(frame).iter().map(text).collect();
    assert_eq!(flat.len() % 2, 0, "odd field/value list {flat:?}");
    flat.chunks(2)
        .map(|p| (p[0].clone(), p[1].clone()))
        .collect()
}

/// The expected map of `n` fields `f<i>` -> `v<i>`.
fn numbered(n: usize) -> BTreeMap<String, String> {
    (0..n).map(|i| (format!("f{i}"), format!("v{i}"))).collect()
}

/// Fills `key` with `n` fields `f<i>` -> `v<i>` in one pipelined burst.
async fn fill(c: &mut RawClient, key: &str, n: usize) {
    let mut args: Vec<String> = vec!["HSET".into(), key.into()];
    for i in 0..n {
        args.push(format!("f{i}"));
        args.push(format!("v{i}"));
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(c.send(&refs).await, int(n as i64));
}

/// Whether this run targets a server without hash field expiry (Redis 7.0).
fn no_field_expiry(test: &str) -> bool {
    if against_redis() {
        eprintln!("{test}: skipped against redis-server (hash field expiry is Redis 7.4)");
        return true;
    }
    false
}

backend_tests! {
    async fn hset_hget_and_friends(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["HGET", "h", "a"]).await, nil());
        assert_eq!(c.send(&["HSET", "h", "a", "1"]).await, int(1));
        assert_eq!(c.send(&["HSET", "h", "a", "2", "b", "3", "c", "4"]).await, int(2));
        assert_eq!(c.send(&["HGET", "h", "a"]).await, bulk("2"));
        assert_eq!(c.send(&["HGET", "h", "nope"]).await, nil());
        assert_eq!(c.send(&["HSET", "h", "d", "1", "d", "2"]).await, int(1));
        assert_eq!(c.send(&["HGET", "h", "d"]).await, bulk("2"));
        assert_eq!(c.send(&["HMSET", "h", "a", "x", "e", "y"]).await, ok());
        assert_eq!(c.send(&["HGET", "h", "a"]).await, bulk("x"));
        assert_eq!(c.send(&["HLEN", "h"]).await, int(5));
        assert_eq!(c.send(&["TYPE", "h"]).await, simple("hash"));
        // Binary-safe fields and values, empty ones included.
        assert_eq!(c.send_bin(&[b"HSET", b"h", b"\x00f\xff", b"\r\n\x00"]).await, int(1));
        assert_eq!(c.send_bin(&[b"HGET", b"h", b"\x00f\xff"]).await, bulk(b"\r\n\x00"));
        assert_eq!(c.send(&["HSET", "h", "", ""]).await, int(1));
        assert_eq!(c.send(&["HGET", "h", ""]).await, bulk(""));
        assert_eq!(c.send(&["HSTRLEN", "h", ""]).await, int(0));
        assert_eq!(c.send(&["HEXISTS", "h", ""]).await, int(1));
        // A large value.
        let big = "x".repeat(100_000);
        assert_eq!(c.send(&["HSET", "h", "big", &big]).await, int(1));
        assert_eq!(c.send(&["HGET", "h", "big"]).await, bulk(&big));
        assert_eq!(c.send(&["HSTRLEN", "h", "big"]).await, int(100_000));
        // HSETNX.
        assert_eq!(c.send(&["HSETNX", "h", "a", "new"]).await, int(0));
        assert_eq!(c.send(&["HGET", "h", "a"]).await, bulk("x"));
        assert_eq!(c.send(&["HSETNX", "h", "z", "new"]).await, int(1));
        assert_eq!(c.send(&["HSETNX", "fresh", "f", "v"]).await, int(1));
        assert_eq!(c.send(&["HGET", "fresh", "f"]).await, bulk("v"));
        // HMGET.
        assert_eq!(c.send(&["HMGET", "h", "a", "nope", "b"]).await, arr(vec![bulk("x"), nil(), bulk("3")]));
        assert_eq!(c.send(&["HMGET", "nokey", "a", "b"]).await, arr(vec![nil(), nil()]));
        // HLEN, HSTRLEN, HEXISTS.
        assert_eq!(c.send(&["HLEN", "nokey"]).await, int(0));
        assert_eq!(c.send(&["HSTRLEN", "h", "b"]).await, int(1));
        assert_eq!(c.send(&["HSTRLEN", "h", "nope"]).await, int(0));
        assert_eq!(c.send(&["HSTRLEN", "nokey", "a"]).await, int(0));
        assert_eq!(c.send(&["HEXISTS", "h", "a"]).await, int(1));
        assert_eq!(c.send(&["HEXISTS", "h", "nope"]).await, int(0));
        assert_eq!(c.send(&["HEXISTS", "nokey", "a"]).await, int(0));
    }

    async fn hdel_removes_fields_and_the_empty_hash(server: &TestServer) {
        let mut c = server.raw().await;
        c.send(&["HSET", "h", "a", "1", "b", "2", "c", "3"]).await;
        assert_eq!(c.send(&["HDEL", "h", "a"]).await, int(1));
        assert_eq!(c.send(&["HDEL", "h", "a", "nope"]).await, int(0));
        assert_eq!(c.send(&["HLEN", "h"]).await, int(2));
        assert_eq!(c.send(&["HDEL", "h", "b", "c", "b", "x"]).await, int(2));
        assert_eq!(c.send(&["EXISTS", "h"]).await, int(0));
        assert_eq!(c.send(&["HDEL", "h", "a"]).await, int(0));
        assert_eq!(c.send(&["KEYS", "*"]).await, arr(vec![]));
        // A hash keeps its key-level TTL while it lives.
        c.send(&["HSET", "v", "a", "1", "b", "2"]).await;
        c.send(&["EXPIRE", "v", "100"]).await;
        c.send(&["HSET", "v", "c", "3"]).await;
        c.send(&["HDEL", "v", "a"]).await;
        assert!((99..=100).contains(&as_int(&c.send(&["TTL", "v"]).await)));
    }

    async fn hkeys_hvals_hgetall(server: &TestServer) {
        let mut c = server.raw().await;
        c.send(&["HSET", "h", "b", "2", "a", "1", "c", "3"]).await;
        assert_eq!(sorted_texts(&c.send(&["HKEYS", "h"]).await), ["a", "b", "c"]);
        assert_eq!(sorted_texts(&c.send(&["HVALS", "h"]).await), ["1", "2", "3"]);
        let all = c.send(&["HGETALL", "h"]).await;
        assert_eq!(pairs(&all), [("a", "1"), ("b", "2"), ("c", "3")].iter().map(|(f, v)| (f.to_string(), v.to_string())).collect());
        // Keys and values come in the same order.
        let keys: Vec<String> = items(&c.send(&["HKEYS", "h"]).await).iter().map(text).collect();
        let vals: Vec<String> = items(&c.send(&["HVALS", "h"]).await).iter().map(text).collect();
        let flat: Vec<String> = items(&all).iter().map(text).collect();
        assert_eq!(keys, flat.iter().step_by(2).cloned().collect::<Vec<_>>());
        assert_eq!(vals, flat.iter().skip(1).step_by(2).cloned().collect::<Vec<_>>());
        assert_eq!(c.send(&["HKEYS", "nokey"]).await, arr(vec![]));
        assert_eq!(c.send(&["HVALS", "nokey"]).await, arr(vec![]));
        assert_eq!(c.send(&["HGETALL", "nokey"]).await, arr(vec![]));
        // RESP3: HGETALL is a map, HKEYS an array.
        c.send(&["HSET", "one", "f", "v"]).await;
        let (_, wire) = c.send_raw_reply(&[b"HGETALL", b"one"]).await;
        assert_eq!(&wire[..], b"*2\r\n$1\r\nf\r\n$1\r\nv\r\n");
        c.send(&["HELLO", "3"]).await;
        let (_, wire) = c.send_raw_reply(&[b"HGETALL", b"one"]).await;
        assert_eq!(&wire[..], b"%1\r\n$1\r\nf\r\n$1\r\nv\r\n");
        let (_, wire) = c.send_raw_reply(&[b"HGETALL", b"nokey"]).await;
        assert_eq!(&wire[..], b"%0\r\n");
        let (_, wire) = c.send_raw_reply(&[b"HKEYS", b"one"]).await;
        assert_eq!(&wire[..], b"*1\r\n$1\r\nf\r\n");
        let (_, wire) = c.send_raw_reply(&[b"HGET", b"one", b"nope"]).await;
        assert_eq!(&wire[..], b"_\r\n");
    }

    async fn big_hashes(server: &TestServer) {
        let mut c = server.raw().await;
        // Past every listpack limit: many fields, then long values.
        fill(&mut c, "h", 1000).await;
        assert_eq!(c.send(&["HLEN", "h"]).await, int(1000));
        assert_eq!(pairs(&c.send(&["HGETALL", "h"]).await), numbered(1000));
        assert_eq!(c.send(&["HGET", "h", "f777"]).await, bulk("v777"));
        let long = "y".repeat(1000);
        c.send(&["HSET", "small", "a", "1"]).await;
        assert_eq!(c.send(&["HSET", "small", "long", &long]).await, int(1));
        assert_eq!(c.send(&["HGET", "small", "long"]).await, bulk(&long));
        assert_eq!(c.send(&["HGET", "small", "a"]).await, bulk("1"));
        // Deleting all fields of the big hash deletes it.
        let mut args: Vec<String> = vec!["HDEL".into(), "h".into()];
        args.extend((0..1000).map(|i| format!("f{i}")));
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_eq!(c.send(&refs).await, int(1000));
        assert_eq!(c.send(&["EXISTS", "h"]).await, int(0));
    }

    async fn hincrby(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["HINCRBY", "h", "n", "5"]).await, int(5));
        assert_eq!(c.send(&["HINCRBY", "h", "n", "-7"]).await, int(-2));
        assert_eq!(c.send(&["HGET", "h", "n"]).await, bulk("-2"));
        c.send(&["HSET", "h", "max", "9223372036854775807", "min", "-9223372036854775808", "f", "1.5", "sp", " 1", "z", "01"]).await;
        let overflow = err("ERR increment or decrement would overflow");
        assert_eq!(c.send(&["HINCRBY", "h", "max", "1"]).await, overflow);
        assert_eq!(c.send(&["HINCRBY", "h", "min", "-1"]).await, overflow);
        assert_eq!(c.send(&["HINCRBY", "h", "max", "0"]).await, int(i64::MAX));
        assert_eq!(c.send(&["HINCRBY", "h", "min", "1"]).await, int(i64::MIN + 1));
        for field in ["f", "sp", "z"] {
            assert_eq!(c.send(&["HINCRBY", "h", field, "1"]).await, err("ERR hash value is not an integer"));
        }
        assert_eq!(c.send(&["HINCRBY", "h", "n", "x"]).await, not_integer());
        assert_eq!(c.send(&["HINCRBY", "h", "n", "1.5"]).await, not_integer());
        assert_eq!(c.send(&["HINCRBY", "h", "n", "99999999999999999999"]).await, not_integer());
        assert_eq!(c.send(&["HGET", "h", "n"]).await, bulk("-2"));
    }

    async fn hincrbyfloat(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["HINCRBYFLOAT", "h", "f", "10.5"]).await, bulk("10.5"));
        assert_eq!(c.send(&["HINCRBYFLOAT", "h", "f", "0.1"]).await, bulk("10.6"));
        assert_eq!(c.send(&["HGET", "h", "f"]).await, bulk("10.6"));
        assert_eq!(c.send(&["HINCRBYFLOAT", "h", "f", "-10.6"]).await, bulk("0"));
        assert_eq!(c.send(&["HINCRBYFLOAT", "h", "e", "1.0e1"]).await, bulk("10"));
        assert_eq!(c.send(&["HINCRBYFLOAT", "h", "x", "0x10"]).await, bulk("16"));
        assert_eq!(c.send(&["HINCRBYFLOAT", "h", "p", "1.10000000000000000001"]).await, bulk("1.1"));
        c.send(&["HSET", "h", "int", "5", "big", "1e400", "huge", "1e4932", "w", "abc", "sp", " 1"]).await;
        assert_eq!(c.send(&["HINCRBYFLOAT", "h", "int", "2.5"]).await, bulk("7.5"));
        assert_eq!(c.send(&["HINCRBYFLOAT", "h", "big", "-1e400"]).await, bulk("0"));
        let bad = err("ERR hash value is not a float");
        assert_eq!(c.send(&["HINCRBYFLOAT", "h", "w", "1"]).await, bad);
        assert_eq!(c.send(&["HINCRBYFLOAT", "h", "sp", "1"]).await, bad);
        assert_eq!(c.send(&["HINCRBYFLOAT", "h", "huge", "1e4932"]).await, err("ERR increment would produce NaN or Infinity"));
        let not_float = err("ERR value is not a valid float");
        assert_eq!(c.send(&["HINCRBYFLOAT", "h", "f", "abc"]).await, not_float);
        assert_eq!(c.send(&["HINCRBYFLOAT", "h", "f", ""]).await, not_float);
        let nan_inf = err("ERR value is NaN or Infinity");
        assert_eq!(c.send(&["HINCRBYFLOAT", "new", "f", "inf"]).await, nan_inf);
        assert_eq!(c.send(&["HINCRBYFLOAT", "new", "f", "-inf"]).await, nan_inf);
        assert_eq!(c.send(&["EXISTS", "new"]).await, int(0));
        // RESP3 still replies with a bulk string.
        c.send(&["HELLO", "3"]).await;
        let (_, wire) = c.send_raw_reply(&[b"HINCRBYFLOAT", b"h", b"int", b"1"]).await;
        assert_eq!(&wire[..], b"$3\r\n8.5\r\n");
    }

    async fn hrandfield(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["HRANDFIELD", "nokey"]).await, nil());
        assert_eq!(c.send(&["HRANDFIELD", "nokey", "5"]).await, arr(vec![]));
        assert_eq!(c.send(&["HRANDFIELD", "nokey", "-5", "WITHVALUES"]).await, arr(vec![]));
        c.send(&["HSET", "h", "a", "1", "b", "2", "c", "3"]).await;
        let all = ["a", "b", "c"];
        for _ in 0..10 {
            assert!(all.contains(&text(&c.send(&["HRANDFIELD", "h"]).await).as_str()));
        }
        assert_eq!(c.send(&["HRANDFIELD", "h", "0"]).await, arr(vec![]));
        assert_eq!(c.send(&["HRANDFIELD", "h", "0", "WITHVALUES"]).await, arr(vec![]));
        assert_eq!(sorted_texts(&c.send(&["HRANDFIELD", "h", "3"]).await), all);
        assert_eq!(sorted_texts(&c.send(&["HRANDFIELD", "h", "10"]).await), all);
        for _ in 0..10 {
            let two = sorted_texts(&c.send(&["HRANDFIELD", "h", "2"]).await);
            assert_eq!(two.len(), 2);
            assert_ne!(two[0], two[1]);
        }
        let many = sorted_texts(&c.send(&["HRANDFIELD", "h", "-20"]).await);
        assert_eq!(many.len(), 20);
        assert!(many.iter().all(|f| all.contains(&f.as_str())));
        // WITHVALUES: flat in RESP2.
        let flat = c.send(&["HRANDFIELD", "h", "-6", "withvalues"]).await;
        assert_eq!(items(&flat).len(), 12);
        for p in items(&flat).chunks(2) {
            let expected = match text(&p[0]).as_str() { "a" => "1", "b" => "2", _ => "3" };
            assert_eq!(text(&p[1]), expected);
        }
        assert_eq!(pairs(&c.send(&["HRANDFIELD", "h", "5", "WITHVALUES"]).await).len(), 3);
        // A bigger hash: distinct picks of every size.
        fill(&mut c, "big", 300).await;
        for count in [1, 10, 99, 100, 101, 250, 299] {
            let got = sorted_texts(&c.send(&["HRANDFIELD", "big", &count.to_string()]).await);
            assert_eq!(got.len(), count);
            assert_eq!(got.iter().collect::<BTreeSet<_>>().len(), count);
            let with = pairs(&c.send(&["HRANDFIELD", "big", &count.to_string(), "WITHVALUES"]).await);
            assert_eq!(with.len(), count);
            assert!(with.iter().all(|(f, v)| v == &f.replace('f', "v")));
        }
        // RESP3: WITHVALUES gives [field, value] pairs.
        c.send(&["HSET", "one", "f", "v"]).await;
        c.send(&["HELLO", "3"]).await;
        let (_, wire) = c.send_raw_reply(&[b"HRANDFIELD", b"one", b"-2", b"WITHVALUES"]).await;
        assert_eq!(&wire[..], b"*2\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n");
        let (_, wire) = c.send_raw_reply(&[b"HRANDFIELD", b"one", b"1", b"WITHVALUES"]).await;
        assert_eq!(&wire[..], b"*1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n");
        let (_, wire) = c.send_raw_reply(&[b"HRANDFIELD", b"one", b"2"]).await;
        assert_eq!(&wire[..], b"*1\r\n$1\r\nf\r\n");
        let (_, wire) = c.send_raw_reply(&[b"HRANDFIELD", b"nokey"]).await;
        assert_eq!(&wire[..], b"_\r\n");
    }

    async fn hrandfield_errors(server: &TestServer) {
        let mut c = server.raw().await;
        c.send(&["HSET", "h", "a", "1"]).await;
        c.send(&["SET", "str", "x"]).await;
        assert_eq!(c.send(&["HRANDFIELD", "h", "abc"]).await, not_integer());
        assert_eq!(c.send(&["HRANDFIELD", "str", "abc"]).await, not_integer());
        assert_eq!(c.send(&["HRANDFIELD", "h", "abc", "foo"]).await, not_integer());
        assert_eq!(
            c.send(&["HRANDFIELD", "h", "-9223372036854775808"]).await,
            err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
        );
        assert_eq!(c.send(&["HRANDFIELD", "h", "1", "foo"]).await, syntax_error());
        assert_eq!(c.send(&["HRANDFIELD", "h", "1", "WITHVALUES", "x"]).await, syntax_error());
        assert_eq!(c.send(&["HRANDFIELD", "str", "1", "foo"]).await, syntax_error());
        let range = err("ERR value is out of range");
        assert_eq!(c.send(&["HRANDFIELD", "h", "-9223372036854775807", "WITHVALUES"]).await, range);
        assert_eq!(c.send(&["HRANDFIELD", "h", "4611686018427387904", "WITHVALUES"]).await, range);
        assert_eq!(c.send(&["HRANDFIELD", "h", "4611686018427387903", "WITHVALUES"]).await, bulks(&["a", "1"]));
        assert_eq!(c.send(&["HRANDFIELD", "h", "9223372036854775807"]).await, bulks(&["a"]));
        assert_eq!(c.send(&["HRANDFIELD", "str"]).await, wrongtype());
        assert_eq!(c.send(&["HRANDFIELD", "str", "1"]).await, wrongtype());
        assert_eq!(c.send(&["HRANDFIELD"]).await, wrong_args("hrandfield"));
    }

    async fn hscan(server: &TestServer) {
        let mut c = server.raw().await;
        let empty = arr(vec![bulk("0"), arr(vec![])]);
        assert_eq!(c.send(&["HSCAN", "nokey", "0"]).await, empty);
        // A missing key never gets to the options.
        assert_eq!(c.send(&["HSCAN", "nokey", "0", "COUNT", "0"]).await, empty);
        assert_eq!(c.send(&["HSCAN", "nokey", "0", "foo"]).await, empty);
        c.send(&["HSET", "h", "a", "1", "b", "2", "ab", "3"]).await;
        // Iterates to the end, whatever the pages.
        let mut seen = BTreeMap::new();
        let mut cursor = "0".to_string();
        loop {
            let page = c.send(&["HSCAN", "h", &cursor]).await;
            cursor = text(&items(&page)[0]);
            seen.extend(pairs(&items(&page)[1]));
            if cursor == "0" {
                break;
            }
        }
        assert_eq!(seen.len(), 3);
        assert_eq!(seen["ab"], "3");
        // MATCH filters on the field.
        let mut matched = BTreeSet::new();
        let mut cursor = "0".to_string();
        loop {
            let page = c.send(&["HSCAN", "h", &cursor, "MATCH", "a*", "COUNT", "100"]).await;
            cursor = text(&items(&page)[0]);
            matched.extend(pairs(&items(&page)[1]).into_keys());
            if cursor == "0" {
                break;
            }
        }
        assert_eq!(matched.into_iter().collect::<Vec<_>>(), ["a", "ab"]);
        // Errors: the cursor first, then the type, then the options.
        assert_eq!(c.send(&["HSCAN", "h", "abc"]).await, err("ERR invalid cursor"));
        assert_eq!(c.send(&["HSCAN", "nokey", "abc"]).await, err("ERR invalid cursor"));
        assert_eq!(c.send(&["HSCAN", "h", "0", "COUNT", "0"]).await, syntax_error());
        assert_eq!(c.send(&["HSCAN", "h", "0", "COUNT", "x"]).await, not_integer());
        assert_eq!(c.send(&["HSCAN", "h", "0", "MATCH"]).await, syntax_error());
        assert_eq!(c.send(&["HSCAN", "h", "0", "TYPE", "hash"]).await, syntax_error());
        c.send(&["SET", "str", "x"]).await;
        assert_eq!(c.send(&["HSCAN", "str", "abc"]).await, err("ERR invalid cursor"));
        assert_eq!(c.send(&["HSCAN", "str", "0", "COUNT", "0"]).await, wrongtype());
        assert_eq!(c.send(&["HSCAN", "h"]).await, wrong_args("hscan"));
    }

    async fn hscan_big_hash_in_pages(server: &TestServer) {
        let mut c = server.raw().await;
        fill(&mut c, "h", 2000).await;
        let mut seen = BTreeMap::new();
        let mut cursor = "0".to_string();
        let mut calls = 0;
        loop {
            let page = c.send(&["HSCAN", "h", &cursor, "COUNT", "50"]).await;
            cursor = text(&items(&page)[0]);
            seen.extend(pairs(&items(&page)[1]));
            calls += 1;
            assert!(calls < 10_000, "HSCAN never ended");
            if cursor == "0" {
                break;
            }
        }
        assert_eq!(seen, numbered(2000));
        let mut matched = BTreeSet::new();
        let mut cursor = "0".to_string();
        loop {
            let page = c.send(&["HSCAN", "h", &cursor, "MATCH", "f1?9", "COUNT", "200"]).await;
            cursor = text(&items(&page)[0]);
            matched.extend(pairs(&items(&page)[1]).into_keys());
            if cursor == "0" {
                break;
            }
        }
        assert_eq!(matched.len(), 10);
        assert!(matched.contains("f109") && matched.contains("f199"));
    }

    async fn wrong_type_and_arity(server: &TestServer) {
        let mut c = server.raw().await;
        c.send(&["SET", "str", "x"]).await;
        for cmd in [
            &["HSET", "str", "a", "1"][..],
            &["HSETNX", "str", "a", "1"],
            &["HMSET", "str", "a", "1"],
            &["HGET", "str", "a"],
            &["HMGET", "str", "a"],
            &["HDEL", "str", "a"],
            &["HLEN", "str"],
            &["HSTRLEN", "str", "a"],
            &["HEXISTS", "str", "a"],
            &["HKEYS", "str"],
            &["HVALS", "str"],
            &["HGETALL", "str"],
            &["HINCRBY", "str", "a", "1"],
            &["HINCRBYFLOAT", "str", "a", "1"],
            &["HRANDFIELD", "str"],
            &["HSCAN", "str", "0"],
        ] {
            assert_eq!(c.send(cmd).await, wrongtype(), "{cmd:?}");
        }
        assert_eq!(c.send(&["GET", "str"]).await, bulk("x"));
        // An odd pair count is an arity error even on a string.
        assert_eq!(c.send(&["HSET", "str", "a", "1", "b"]).await, wrong_args("hset"));
        assert_eq!(c.send(&["HMSET", "h", "a", "1", "b"]).await, wrong_args("hmset"));
        // Other commands on a hash.
        c.send(&["HSET", "h", "a", "1"]).await;
        assert_eq!(c.send(&["GET", "h"]).await, wrongtype());
        assert_eq!(c.send(&["INCR", "h"]).await, wrongtype());
        for (cmd, args) in [
            ("hset", &["HSET", "h", "a"][..]),
            ("hsetnx", &["HSETNX", "h", "a"]),
            ("hmset", &["HMSET", "h"]),
            ("hget", &["HGET", "h"]),
            ("hmget", &["HMGET", "h"]),
            ("hdel", &["HDEL", "h"]),
            ("hlen", &["HLEN"]),
            ("hlen", &["HLEN", "h", "x"]),
            ("hstrlen", &["HSTRLEN", "h"]),
            ("hexists", &["HEXISTS", "h", "a", "b"]),
            ("hkeys", &["HKEYS"]),
            ("hvals", &["HVALS", "h", "x"]),
            ("hgetall", &["HGETALL"]),
            ("hincrby", &["HINCRBY", "h", "a"]),
            ("hincrbyfloat", &["HINCRBYFLOAT", "h", "a", "1", "2"]),
            ("hrandfield", &["HRANDFIELD"]),
            ("hscan", &["HSCAN", "h"]),
        ] {
            assert_eq!(c.send(args).await, wrong_args(cmd), "{args:?}");
        }
    }

    async fn keyspace_hits_and_misses(server: &TestServer) {
        let mut c = server.raw().await;
        c.send(&["HSET", "h", "a", "1"]).await;
        c.send(&["SET", "str", "x"]).await;
        let before = hits_misses(&mut c).await;
        // Writes do not count.
        c.send(&["HSET", "h", "b", "2"]).await;
        c.send(&["HINCRBY", "h", "n", "1"]).await;
        c.send(&["HDEL", "nokey", "a"]).await;
        for cmd in [
            &["HGET", "h", "a"][..],
            &["HMGET", "h", "a"],
            &["HLEN", "h"],
            &["HSTRLEN", "h", "a"],
            &["HEXISTS", "h", "a"],
            &["HKEYS", "h"],
            &["HVALS", "h"],
            &["HGETALL", "h"],
            &["HRANDFIELD", "h"],
            &["HRANDFIELD", "h", "2"],
            &["HSCAN", "h", "0"],
            &["HGET", "str", "a"],
        ] {
            c.send(cmd).await;
        }
        c.send(&["HGET", "nokey", "a"]).await;
        c.send(&["HGETALL", "nokey"]).await;
        let after = hits_misses(&mut c).await;
        assert_eq!((after.0 - before.0, after.1 - before.1), (12, 2));
    }

    // ---------------------------------------------------------------------------------
    // Hash field expiry (Redis 7.4).
    // ---------------------------------------------------------------------------------

    async fn field_expiry_set_read_persist(server: &TestServer) {
        if no_field_expiry("field_expiry_set_read_persist") {
            return;
        }
        let mut c = server.raw().await;
        c.send(&["HSET", "h", "a", "1", "b", "2", "c", "3"]).await;
        let at = unix_now_ms() + 100_000;
        assert_eq!(c.send(&["HPEXPIREAT", "h", &at.to_string(), "FIELDS", "2", "a", "nope"]).await, ints(&[1, -2]));
        assert_eq!(c.send(&["HPEXPIRETIME", "h", "FIELDS", "3", "a", "b", "nope"]).await, ints(&[at, -1, -2]));
        assert_eq!(c.send(&["HEXPIRETIME", "h", "FIELDS", "1", "a"]).await, ints(&[(at + 999) / 1000]));
        let pttl = as_int(&items(&c.send(&["HPTTL", "h", "FIELDS", "1", "a"]).await)[0]);
        assert!((99_000..=100_000).contains(&pttl), "{pttl}");
        assert_eq!(c.send(&["HTTL", "h", "FIELDS", "2", "a", "b"]).await, ints(&[100, -1]));
        assert_eq!(c.send(&["HEXPIRE", "h", "50", "FIELDS", "1", "b"]).await, ints(&[1]));
        let ttl = as_int(&items(&c.send(&["HPTTL", "h", "fields", "1", "b"]).await)[0]);
        assert!((49_000..=50_000).contains(&ttl), "{ttl}");
        assert_eq!(c.send(&["HPEXPIRE", "h", "70000", "FIELDS", "1", "b"]).await, ints(&[1]));
        let secs = unix_now() + 300;
        assert_eq!(c.send(&["HEXPIREAT", "h", &secs.to_string(), "FIELDS", "1", "c"]).await, ints(&[1]));
        assert_eq!(c.send(&["HPEXPIRETIME", "h", "FIELDS", "1", "c"]).await, ints(&[secs * 1000]));
        // The fields stay readable; the key itself has no TTL.
        assert_eq!(pairs(&c.send(&["HGETALL", "h"]).await).len(), 3);
        assert_eq!(c.send(&["TTL", "h"]).await, int(-1));
        assert_eq!(c.send(&["HPERSIST", "h", "FIELDS", "3", "a", "nope", "a"]).await, ints(&[1, -2, -1]));
        assert_eq!(c.send(&["HTTL", "h", "FIELDS", "1", "a"]).await, ints(&[-1]));
        // A missing key: -2 for every field, and nothing is created.
        assert_eq!(c.send(&["HTTL", "nokey", "FIELDS", "2", "a", "b"]).await, ints(&[-2, -2]));
        assert_eq!(c.send(&["HPERSIST", "nokey", "FIELDS", "1", "a"]).await, ints(&[-2]));
        assert_eq!(c.send(&["HEXPIRE", "nokey", "10", "FIELDS", "1", "a"]).await, ints(&[-2]));
        assert_eq!(c.send(&["EXISTS", "nokey"]).await, int(0));
        // RESP3 wire form.
        c.send(&["HELLO", "3"]).await;
        let (_, wire) = c.send_raw_reply(&[b"HTTL", b"h", b"FIELDS", b"2", b"a", b"nope"]).await;
        assert_eq!(&wire[..], b"*2\r\n:-1\r\n:-2\r\n");
    }

    async fn field_expiry_conditions(server: &TestServer) {
        if no_field_expiry("field_expiry_conditions") {
            return;
        }
        let mut c = server.raw().await;
        c.send(&["HSET", "h", "f", "1", "g", "2", "a", "3"]).await;
        let t = unix_now_ms() + 100_000;
        let (early, late) = (t - 50_000, t + 50_000);
        let cases: [(&str, i64, &str, i64); 12] = [
            ("XX", t, "f", 0),
            ("GT", t, "f", 0),
            ("LT", t, "g", 1),
            ("NX", t, "f", 1),
            ("NX", late, "f", 0),
            ("GT", t, "f", 0),
            ("GT", early, "f", 0),
            ("LT", t, "f", 0),
            ("LT", late, "f", 0),
            ("gt", late, "f", 1),
            ("lt", early, "f", 1),
            ("xx", t, "f", 1),
        ];
        for (cond, at, field, expected) in cases {
            let reply = c.send(&["HPEXPIREAT", "h", &at.to_string(), cond, "FIELDS", "1", field]).await;
            assert_eq!(reply, ints(&[expected]), "{cond} {at} {field}");
        }
        assert_eq!(c.send(&["HPEXPIRETIME", "h", "FIELDS", "3", "f", "g", "a"]).await, ints(&[t, t, -1]));
        assert_eq!(c.send(&["HPEXPIREAT", "h", &late.to_string(), "GT", "FIELDS", "3", "g", "a", "nope"]).await, ints(&[1, 0, -2]));
        // Conditions come before a past time deletes the field.
        assert_eq!(c.send(&["HPEXPIREAT", "h", "1", "NX", "FIELDS", "1", "f"]).await, ints(&[0]));
        assert_eq!(c.send(&["HPEXPIREAT", "h", "1", "LT", "FIELDS", "1", "f"]).await, ints(&[2]));
        assert_eq!(c.send(&["HEXISTS", "h", "f"]).await, int(0));
    }

    async fn field_expiry_in_the_past_deletes(server: &TestServer) {
        if no_field_expiry("field_expiry_in_the_past_deletes") {
            return;
        }
        let mut c = server.raw().await;
        c.send(&["HSET", "h", "a", "1", "b", "2", "c", "3"]).await;
        assert_eq!(c.send(&["HPEXPIREAT", "h", "0", "FIELDS", "1", "a"]).await, ints(&[2]));
        assert_eq!(c.send(&["HEXPIRE", "h", "0", "FIELDS", "1", "b"]).await, ints(&[2]));
        assert_eq!(c.send(&["HGET", "h", "a"]).await, nil());
        assert_eq!(c.send(&["HLEN", "h"]).await, int(1));
        assert_eq!(c.send(&["HEXPIREAT", "h", "1", "FIELDS", "2", "c", "c"]).await, ints(&[2, -2]));
        assert_eq!(c.send(&["EXISTS", "h"]).await, int(0));
    }

    async fn fields_expire_on_their_own(server: &TestServer) {
        if no_field_expiry("fields_expire_on_their_own") {
            return;
        }
        let mut c = server.raw().await;
        c.send(&["HSET", "h", "a", "1", "b", "2"]).await;
        c.send(&["HSET", "g", "a", "1"]).await;
        assert_eq!(c.send(&["HPEXPIRE", "h", "30", "FIELDS", "1", "a"]).await, ints(&[1]));
        assert_eq!(c.send(&["HPEXPIRE", "g", "30", "FIELDS", "1", "a"]).await, ints(&[1]));
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(c.send(&["HGET", "h", "a"]).await, nil());
        assert_eq!(c.send(&["HEXISTS", "h", "a"]).await, int(0));
        assert_eq!(c.send(&["HTTL", "h", "FIELDS", "2", "a", "b"]).await, ints(&[-2, -1]));
        assert_eq!(c.send(&["HGETALL", "h"]).await, bulks(&["b", "2"]));
        assert_eq!(c.send(&["HKEYS", "h"]).await, bulks(&["b"]));
        assert_eq!(c.send(&["HVALS", "h"]).await, bulks(&["2"]));
        assert_eq!(c.send(&["HRANDFIELD", "h", "-3"]).await, bulks(&["b", "b", "b"]));
        let page = c.send(&["HSCAN", "h", "0", "COUNT", "100"]).await;
        assert_eq!(items(&page)[1], bulks(&["b", "2"]));
        // A hash whose last field expired is gone, by access or by the active cycle.
        assert!(eventually(Duration::from_secs(5), || {
            let addr = server.addr;
            async move { RawClient::connect(addr).await.send(&["EXISTS", "g"]).await == int(0) }
        }).await);
        // An expired field is a missing one for HSETNX and HINCRBY.
        assert_eq!(c.send(&["HPEXPIRE", "h", "30", "FIELDS", "1", "b"]).await, ints(&[1]));
        c.send(&["HSET", "h", "n", "5"]).await;
        assert_eq!(c.send(&["HPEXPIRE", "h", "30", "FIELDS", "1", "n"]).await, ints(&[1]));
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(c.send(&["HSETNX", "h", "b", "new"]).await, int(1));
        assert_eq!(c.send(&["HINCRBY", "h", "n", "1"]).await, int(1));
        assert_eq!(c.send(&["HTTL", "h", "FIELDS", "2", "b", "n"]).await, ints(&[-1, -1]));
    }

    async fn writes_and_field_expiry(server: &TestServer) {
        if no_field_expiry("writes_and_field_expiry") {
            return;
        }
        let mut c = server.raw().await;
        c.send(&["HSET", "h", "a", "1", "n", "5", "x", "1.5"]).await;
        let at = unix_now_ms() + 100_000;
        c.send(&["HPEXPIREAT", "h", &at.to_string(), "FIELDS", "3", "a", "n", "x"]).await;
        // HINCRBY and HINCRBYFLOAT keep the expiry; HSET and HMSET clear it.
        assert_eq!(c.send(&["HINCRBY", "h", "n", "1"]).await, int(6));
        assert_eq!(c.send(&["HINCRBYFLOAT", "h", "x", "1"]).await, bulk("2.5"));
        assert_eq!(c.send(&["HPEXPIRETIME", "h", "FIELDS", "2", "n", "x"]).await, ints(&[at, at]));
        assert_eq!(c.send(&["HSET", "h", "a", "2"]).await, int(0));
        assert_eq!(c.send(&["HMSET", "h", "n", "1"]).await, ok());
        assert_eq!(c.send(&["HPEXPIRETIME", "h", "FIELDS", "3", "a", "n", "x"]).await, ints(&[-1, -1, at]));
        assert_eq!(c.send(&["HDEL", "h", "x"]).await, int(1));
        assert_eq!(c.send(&["HTTL", "h", "FIELDS", "1", "x"]).await, ints(&[-2]));
        // RENAME and COPY take the field expiries along.
        c.send(&["HPEXPIREAT", "h", &at.to_string(), "FIELDS", "1", "a"]).await;
        assert_eq!(c.send(&["COPY", "h", "h2"]).await, int(1));
        assert_eq!(c.send(&["RENAME", "h", "h3"]).await, ok());
        assert_eq!(c.send(&["HPEXPIRETIME", "h2", "FIELDS", "2", "a", "n"]).await, ints(&[at, -1]));
        assert_eq!(c.send(&["HPEXPIRETIME", "h3", "FIELDS", "2", "a", "n"]).await, ints(&[at, -1]));
    }

    async fn field_expiry_errors(server: &TestServer) {
        if no_field_expiry("field_expiry_errors") {
            return;
        }
        let mut c = server.raw().await;
        c.send(&["HSET", "h", "f", "1"]).await;
        c.send(&["SET", "str", "x"]).await;
        let fields_missing = err("ERR Mandatory argument FIELDS is missing or not at the right position");
        let count = err("ERR Parameter `numFields` should be greater than 0");
        let mismatch = err("ERR The `numfields` parameter must match the number of arguments");
        assert_eq!(c.send(&["HEXPIRE", "h", "10", "FIELD", "1", "f"]).await, fields_missing);
        assert_eq!(c.send(&["HEXPIRE", "h", "10", "NX", "XX", "FIELDS", "1", "f"]).await, fields_missing);
        assert_eq!(c.send(&["HEXPIRE", "h", "10", "FIELDS", "0", "f"]).await, count);
        assert_eq!(c.send(&["HEXPIRE", "h", "10", "FIELDS", "abc", "f"]).await, count);
        assert_eq!(c.send(&["HEXPIRE", "h", "10", "FIELDS", "2", "f"]).await, mismatch);
        assert_eq!(c.send(&["HEXPIRE", "h", "10", "FIELDS", "1", "f", "g"]).await, mismatch);
        assert_eq!(c.send(&["HEXPIRE", "h", "abc", "FIELDS", "1", "f"]).await, not_integer());
        assert_eq!(c.send(&["HEXPIRE", "h", "-1", "FIELDS", "1", "f"]).await, err("ERR invalid expire time, must be >= 0"));
        let max: i64 = (1 << 46) - 1;
        assert_eq!(c.send(&["HPEXPIREAT", "h", &(max + 1).to_string(), "FIELDS", "1", "f"]).await, err("ERR invalid expire time in 'hpexpireat' command"));
        assert_eq!(c.send(&["HEXPIRE", "h", &(max / 1000).to_string(), "FIELDS", "1", "f"]).await, err("ERR invalid expire time in 'hexpire' command"));
        assert_eq!(c.send(&["HPEXPIRE", "h", &max.to_string(), "FIELDS", "1", "f"]).await, err("ERR invalid expire time in 'hpexpire' command"));
        assert_eq!(c.send(&["HEXPIREAT", "h", "9223372036854775807", "FIELDS", "1", "f"]).await, err("ERR invalid expire time in 'hexpireat' command"));
        assert_eq!(c.send(&["HPEXPIREAT", "h", &max.to_string(), "FIELDS", "1", "f"]).await, ints(&[1]));
        assert_eq!(c.send(&["HEXPIRE", "str", "abc", "FIELD", "1", "f"]).await, wrongtype());
        assert_eq!(c.send(&["HEXPIRE", "nokey", "10", "FIELDS", "2", "f"]).await, mismatch);
        assert_eq!(c.send(&["HEXPIRE", "h", "10", "FIELDS", "1"]).await, wrong_args("hexpire"));
        // The TTL family and HPERSIST word the count error differently.
        let count = err("ERR Number of fields must be a positive integer");
        for cmd in ["HTTL", "HPTTL", "HEXPIRETIME", "HPEXPIRETIME", "HPERSIST"] {
            assert_eq!(c.send(&[cmd, "h", "FIELD", "1", "f"]).await, fields_missing, "{cmd}");
            assert_eq!(c.send(&[cmd, "h", "FIELDS", "0", "f"]).await, count, "{cmd}");
            assert_eq!(c.send(&[cmd, "h", "FIELDS", "2", "f"]).await, mismatch, "{cmd}");
            assert_eq!(c.send(&[cmd, "str", "FIELDS", "1", "f"]).await, wrongtype(), "{cmd}");
            assert_eq!(c.send(&[cmd, "h", "FIELDS", "1"]).await, wrong_args(&cmd.to_ascii_lowercase()), "{cmd}");
        }
    }
}

/// The disk backend keeps hashes, including field expiries, across a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disk_restart_keeps_hashes() {
    let server = start(Backend::Disk).await;
    let mut c = server.raw().await;
    c.send(&["HSET", "small", "a", "1", "b", "2"]).await;
    fill(&mut c, "big", 1000).await;
    c.send(&["HDEL", "big", "f0"]).await;
    c.send(&["HSET", "gone", "a", "1"]).await;
    c.send(&["HDEL", "gone", "a"]).await;
    let at = unix_now_ms() + 1_000_000;
    if !against_redis() {
        c.send(&["HPEXPIREAT", "small", &at.to_string(), "FIELDS", "1", "a"])
            .await;
    }
    drop(c);

    let server = server.restart().await;
    let mut c = server.raw().await;
    assert_eq!(pairs(&c.send(&["HGETALL", "small"]).await).len(), 2);
    let mut expected = numbered(1000);
    expected.remove("f0");
    assert_eq!(pairs(&c.send(&["HGETALL", "big"]).await), expected);
    assert_eq!(c.send(&["EXISTS", "gone"]).await, int(0));
    if !against_redis() {
        assert_eq!(
            c.send(&["HPEXPIRETIME", "small", "FIELDS", "2", "a", "b"])
                .await,
            ints(&[at, -1])
        );
    }
    server.stop().await;
}
