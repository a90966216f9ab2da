//! DUMP and RESTORE: payload round trips for every type and encoding, RESTORE's
//! options and errors (BUSYKEY, TTL, IDLETIME/FREQ, checksum, bad data), payloads
//! produced by redis-server 7.0 restored here, and both directions against a live
//! redis-server when one is installed.

use ferrokv_tests::dataset::{contents, fill};
use ferrokv_tests::*;

/// A DUMP reply's payload bytes.
async fn dump(c: &mut RawClient, key: &str) -> Vec<u8> {
    match c.send(&["DUMP", key]).await {
        Frame::Bulk(b) => b.to_vec(),
        other => panic!("DUMP {key}: {other:?}"),
    }
}

async fn restore(c: &mut RawClient, key: &str, ttl: &str, payload: &[u8], opts: &[&str]) -> Frame {
    let mut args: Vec<&[u8]> = vec![b"RESTORE", key.as_bytes(), ttl.as_bytes(), payload];
    args.extend(opts.iter().map(|o| o.as_bytes()));
    c.send_bin(&args).await
}

/// `SET k 1` dumped by redis-server 7.0.15.
const REDIS_INT_PAYLOAD: &[u8] = b"\x00\xc0\x01\x0a\x00\x26\x78\xe7\xb6\xd1\x01\x11\xfc";
/// `RPUSH l a 1 300 -5` dumped by redis-server 7.0.15 (quicklist 2, listpack).
const REDIS_LIST_PAYLOAD: &[u8] = b"\x12\x01\x02\x12\x12\x00\x00\x00\x04\x00\x81\x61\x02\x01\x01\xc1\x2c\x02\xdf\xfb\x02\xff\x0a\x00\xfc\x86\x21\xe7\x6d\x5e\x1f\xba";
/// `ZADD z 1.5 a 2 b` dumped by redis-server 7.0.15 (listpack).
const REDIS_ZSET_PAYLOAD: &[u8] = b"\x11\x14\x14\x00\x00\x00\x04\x00\x81\x61\x02\x83\x31\x2e\x35\x04\x81\x62\x02\x02\x01\xff\x0a\x00\xfa\x02\xb4\x25\xaf\x18\x87\x63";
/// `SADD si 1 2 3` dumped by redis-server 7.0.15 (intset).
const REDIS_INTSET_PAYLOAD: &[u8] = b"\x0b\x0e\x02\x00\x00\x00\x03\x00\x00\x00\x01\x00\x02\x00\x03\x00\x0a\x00\xa5\x02\x5c\xe2\x6d\x6e\x4d\x1b";

backend_tests! {
    async fn dump_missing_key_and_arity(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["DUMP", "nope"]).await, nil());
        assert_eq!(
            c.send(&["DUMP"]).await,
            err("ERR wrong number of arguments for 'dump' command")
        );
        assert_eq!(
            c.send(&["RESTORE", "k", "0"]).await,
            err("ERR wrong number of arguments for 'restore' command")
        );
    }

    async fn redis_payloads_restore(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(restore(&mut c, "i", "0", REDIS_INT_PAYLOAD, &[]).await, ok());
        assert_eq!(c.send(&["GET", "i"]).await, bulk("1"));
        assert_eq!(restore(&mut c, "l", "0", REDIS_LIST_PAYLOAD, &[]).await, ok());
        assert_eq!(c.send(&["LRANGE", "l", "0", "-1"]).await, bulks(&["a", "1", "300", "-5"]));
        assert_eq!(c.send(&["RPOP", "l"]).await, bulk("-5"));
        assert_eq!(restore(&mut c, "z", "0", REDIS_ZSET_PAYLOAD, &[]).await, ok());
        assert_eq!(
            c.send(&["ZRANGE", "z", "0", "-1", "WITHSCORES"]).await,
            bulks(&["a", "1.5", "b", "2"])
        );
        assert_eq!(restore(&mut c, "s", "0", REDIS_INTSET_PAYLOAD, &[]).await, ok());
        assert_eq!(sorted_texts(&c.send(&["SMEMBERS", "s"]).await), ["1", "2", "3"]);
        // Small values encode exactly as Redis encodes them.
        assert_eq!(dump(&mut c, "i").await, REDIS_INT_PAYLOAD);
        assert_eq!(dump(&mut c, "z").await, REDIS_ZSET_PAYLOAD);
        assert_eq!(dump(&mut c, "s").await, REDIS_INTSET_PAYLOAD);
    }

    async fn round_trip_of_every_type(server: &TestServer) {
        let mut c = server.raw().await;
        fill(&mut c, 11, "k", 120).await;
        let before = contents(&mut c).await;
        for key in before.keys() {
            let payload = dump(&mut c, key).await;
            let pttl = as_int(&c.send(&["PTTL", key]).await);
            let ttl = if pttl > 0 { pttl.to_string() } else { "0".to_string() };
            assert_eq!(restore(&mut c, key, &ttl, &payload, &["REPLACE"]).await, ok());
            let copy = format!("copy:{key}");
            assert_eq!(restore(&mut c, &copy, &ttl, &payload, &[]).await, ok());
            assert_eq!(c.send(&["TYPE", &copy]).await, c.send(&["TYPE", key]).await);
            c.send(&["DEL", &copy]).await;
        }
        assert_eq!(contents(&mut c).await, before);
    }

    async fn restore_options_and_errors(server: &TestServer) {
        let mut c = server.raw().await;
        c.send(&["SET", "k", "hello"]).await;
        let payload = dump(&mut c, "k").await;
        assert_eq!(
            restore(&mut c, "k", "0", &payload, &[]).await,
            err("BUSYKEY Target key name already exists.")
        );
        assert_eq!(
            restore(&mut c, "n", "-1", &payload, &[]).await,
            err("ERR Invalid TTL value, must be >= 0")
        );
        assert_eq!(
            restore(&mut c, "n", "x", &payload, &[]).await,
            err("ERR value is not an integer or out of range")
        );
        let mut bad = payload.clone();
        bad[1] ^= 1;
        assert_eq!(
            restore(&mut c, "n", "0", &bad, &[]).await,
            err("ERR DUMP payload version or checksum are wrong")
        );
        assert_eq!(
            restore(&mut c, "n", "0", b"short", &[]).await,
            err("ERR DUMP payload version or checksum are wrong")
        );
        assert_eq!(
            restore(&mut c, "n", "0", &payload, &["REPLACE", "BOGUS"]).await,
            err("ERR syntax error")
        );
        assert_eq!(
            restore(&mut c, "n", "0", &payload, &["IDLETIME", "-1"]).await,
            err("ERR Invalid IDLETIME value, must be >= 0")
        );
        assert_eq!(
            restore(&mut c, "n", "0", &payload, &["FREQ", "256"]).await,
            err("ERR Invalid FREQ value, must be >= 0 and <= 255")
        );
        assert_eq!(
            restore(&mut c, "n", "0", &payload, &["IDLETIME", "1", "FREQ", "1"]).await,
            err("ERR syntax error")
        );
        assert_eq!(
            restore(&mut c, "n", "0", &payload, &["IDLETIME"]).await,
            err("ERR syntax error")
        );
        // The key check comes before the TTL and payload checks.
        assert_eq!(
            restore(&mut c, "k", "-1", b"junk", &[]).await,
            err("BUSYKEY Target key name already exists.")
        );
        assert_eq!(restore(&mut c, "n", "0", &payload, &["IDLETIME", "100"]).await, ok());
        assert_eq!(restore(&mut c, "f", "0", &payload, &["FREQ", "5"]).await, ok());
        assert_eq!(c.send(&["GET", "n"]).await, bulk("hello"));
        // A payload whose value does not parse.
        assert_eq!(c.send(&["TYPE", "n"]).await, simple("string"));
    }

    async fn restore_ttl_absttl_and_past_expiry(server: &TestServer) {
        let mut c = server.raw().await;
        c.send(&["SET", "k", "v"]).await;
        let payload = dump(&mut c, "k").await;
        assert_eq!(restore(&mut c, "t", "100000", &payload, &[]).await, ok());
        let pttl = as_int(&c.send(&["PTTL", "t"]).await);
        assert!(pttl > 90_000 && pttl <= 100_000, "{pttl}");
        let at = (std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis()
            + 200_000)
            .to_string();
        assert_eq!(restore(&mut c, "a", &at, &payload, &["ABSTTL"]).await, ok());
        let pttl = as_int(&c.send(&["PTTL", "a"]).await);
        assert!(pttl > 150_000 && pttl <= 200_000, "{pttl}");
        // An absolute time in the past: OK, nothing stored, and REPLACE deletes.
        assert_eq!(restore(&mut c, "p", "1", &payload, &["ABSTTL"]).await, ok());
        assert_eq!(c.send(&["EXISTS", "p"]).await, int(0));
        assert_eq!(restore(&mut c, "k", "1", &payload, &["ABSTTL", "REPLACE"]).await, ok());
        assert_eq!(c.send(&["EXISTS", "k"]).await, int(0));
        // A TTL of 0 means no expiry.
        assert_eq!(restore(&mut c, "z", "0", &payload, &[]).await, ok());
        assert_eq!(c.send(&["PTTL", "z"]).await, int(-1));
    }

    async fn bad_data_format(server: &TestServer) {
        let mut c = server.raw().await;
        // A valid footer around an unknown type byte (200).
        let payload = with_footer(&[200, 1, b'x']);
        assert_eq!(
            restore(&mut c, "n", "0", &payload, &[]).await,
            err("ERR Bad data format")
        );
        // A list whose node is truncated.
        let payload = with_footer(&[18, 1, 2, 10, 1]);
        assert_eq!(
            restore(&mut c, "n", "0", &payload, &[]).await,
            err("ERR Bad data format")
        );
        assert_eq!(c.send(&["EXISTS", "n"]).await, int(0));
    }
}

/// `body` + RDB version 10 + its CRC64, as a DUMP payload.
fn with_footer(body: &[u8]) -> Vec<u8> {
    let mut p = body.to_vec();
    p.extend_from_slice(&10u16.to_le_bytes());
    let crc = ferrokv_core::rdb::crc64::crc64(0, &p);
    p.extend_from_slice(&crc.to_le_bytes());
    p
}

/// DUMP in one server, RESTORE in the other, both ways, for every type and size.
async fn cross_restore(backend: Backend) {
    if against_redis() {
        return;
    }
    let Some(redis) = RedisServer::start().await else {
        eprintln!("redis-server not installed: cross-server DUMP/RESTORE skipped");
        return;
    };
    let server = start(backend).await;
    let mut r = redis.raw().await;
    let mut f = server.raw().await;
    fill(&mut r, 21, "fromredis:", 150).await;
    fill(&mut f, 22, "fromferrokv:", 150).await;
    let redis_data = contents(&mut r).await;
    let ferrokv_data = contents(&mut f).await;
    for key in redis_data.keys() {
        let payload = dump(&mut r, key).await;
        assert_eq!(
            restore(&mut f, key, "0", &payload, &[]).await,
            ok(),
            "{key}"
        );
    }
    for key in ferrokv_data.keys() {
        let payload = dump(&mut f, key).await;
        assert_eq!(
            restore(&mut r, key, "0", &payload, &[]).await,
            ok(),
            "{key}"
        );
    }
    // TTLs were not carried (ttl 0): compare values and types only.
    let strip = |m: std::collections::BTreeMap<String, (String, bool, String)>| {
        m.into_iter()
            .map(|(k, (t, _, v))| (k, (t, v)))
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    let all_r = strip(contents(&mut r).await);
    let all_f = strip(contents(&mut f).await);
    assert_eq!(all_r.len(), 300);
    assert_eq!(all_r, all_f);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_restore_with_redis_memory() {
    cross_restore(Backend::Memory).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_restore_with_redis_disk() {
    cross_restore(Backend::Disk).await;
}
