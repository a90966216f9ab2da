//! HyperLogLog commands: PFADD, PFCOUNT, PFMERGE, PFDEBUG, PFSELFTEST. An HLL is a
//! string holding Redis' exact bytes, so the tests compare GET output with bytes
//! redis-server 7.0 produced for the same additions, and a differential test runs
//! random additions, merges and counts against a real redis-server, comparing every
//! reply (GET bytes included) on both backends.

use ferrokv_tests::*;

/// The bytes redis-server 7.0 holds after `PFADD h a b c`: header (sparse, stale
/// cache) and `Z:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603`.
const ABC: &[u8] = b"HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x60\xf3\x80\x50\xb1\x84\x4b\xfb\x80\x42\x5a";

fn bytes_of(frame: &Frame) -> Vec<u8> {
    match frame {
        Frame::Bulk(b) => b.to_vec(),
        other => panic!("expected a bulk reply, got {other:?}"),
    }
}

/// `e{from}..e{to-1}`.
fn elements(from: usize, to: usize) -> Vec<String> {
    (from..to).map(|i| format!("e{i}")).collect()
}

/// PFADD of many elements in one command.
async fn pfadd(c: &mut RawClient, key: &str, members: &[String]) -> Frame {
    let mut cmd = vec!["PFADD", key];
    cmd.extend(members.iter().map(String::as_str));
    c.send(&cmd).await
}

const NOT_HLL: &str = "WRONGTYPE Key is not a valid HyperLogLog string value.";
const CORRUPT: &str = "INVALIDOBJ Corrupted HLL object detected";

/// `keyspace_hits` and `keyspace_misses` from INFO stats.
async fn hits_misses(c: &mut RawClient) -> (i64, i64) {
    let info = text(&c.send(&["INFO", "stats"]).await);
    let get = |name: &str| -> i64 {
        info.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}:")))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(-1)
    };
    (get("keyspace_hits"), get("keyspace_misses"))
}

backend_tests! {
    async fn keyspace_statistics(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["PFADD", "h", "a"]).await, int(1));
        assert_eq!(c.send(&["PFADD", "h", "b"]).await, int(1));
        assert_eq!(hits_misses(&mut c).await, (0, 0), "PFADD looks up for writing");
        assert_eq!(c.send(&["PFCOUNT", "h"]).await, int(2));
        assert_eq!(c.send(&["PFCOUNT", "nokey"]).await, int(0));
        assert_eq!(hits_misses(&mut c).await, (1, 1));
        assert_eq!(c.send(&["PFCOUNT", "h", "nokey", "h"]).await, int(2));
        assert_eq!(hits_misses(&mut c).await, (3, 2));
        assert_eq!(c.send(&["PFMERGE", "h", "nokey"]).await, ok());
        assert_eq!(hits_misses(&mut c).await, (4, 3));
    }

    async fn pfadd_and_pfcount_hold_redis_bytes(server: &TestServer) {
        let mut c = server.raw().await;
        // Creating the key counts as an update even without elements.
        assert_eq!(c.send(&["PFADD", "empty"]).await, int(1));
        assert_eq!(
            bytes_of(&c.send(&["GET", "empty"]).await),
            b"HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x7f\xff"
        );
        assert_eq!(c.send(&["PFADD", "empty"]).await, int(0));
        assert_eq!(c.send(&["PFCOUNT", "empty"]).await, int(0));
        assert_eq!(c.send(&["PFADD", "h", "a", "b", "c"]).await, int(1));
        assert_eq!(bytes_of(&c.send(&["GET", "h"]).await), ABC);
        assert_eq!(c.send(&["PFADD", "h", "a", "c"]).await, int(0));
        assert_eq!(c.send(&["PFCOUNT", "h"]).await, int(3));
        // PFCOUNT stored the cardinality in the header, valid.
        assert_eq!(
            bytes_of(&c.send(&["GETRANGE", "h", "8", "15"]).await),
            b"\x03\x00\x00\x00\x00\x00\x00\x00"
        );
        // An addition that changes nothing keeps the cache valid.
        assert_eq!(c.send(&["PFADD", "h", "b"]).await, int(0));
        assert_eq!(c.send(&["GETRANGE", "h", "15", "15"]).await, bulk(b"\x00"));
        assert_eq!(c.send(&["PFADD", "h", "d"]).await, int(1));
        assert_eq!(c.send(&["GETRANGE", "h", "15", "15"]).await, bulk(b"\x80"));
        assert_eq!(c.send(&["PFCOUNT", "h"]).await, int(4));
        assert_eq!(c.send(&["PFCOUNT", "missing"]).await, int(0));
        assert_eq!(c.send(&["TYPE", "h"]).await, simple("string"));
        assert_eq!(c.send(&["OBJECT", "ENCODING", "h"]).await, bulk("raw"));
        // Binary and empty elements.
        assert_eq!(c.send_bin(&[b"PFADD", b"bin", b"", b"\x00\xff"]).await, int(1));
        assert_eq!(c.send(&["PFCOUNT", "bin"]).await, int(2));
        // PFADD and PFCOUNT keep the key's time to live.
        assert_eq!(c.send(&["EXPIRE", "h", "100"]).await, int(1));
        assert_eq!(c.send(&["PFADD", "h", "e", "f"]).await, int(1));
        assert_eq!(c.send(&["PFCOUNT", "h"]).await, int(6));
        assert!(as_int(&c.send(&["TTL", "h"]).await) > 0);
    }

    async fn set_of_redis_bytes_counts(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send_bin(&[b"SET", b"h", ABC]).await, ok());
        assert_eq!(c.send(&["PFCOUNT", "h"]).await, int(3));
        assert_eq!(c.send(&["PFADD", "h", "a", "b", "c"]).await, int(0));
        assert_eq!(c.send(&["PFDEBUG", "DECODE", "h"]).await,
            bulk("Z:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603"));
        // A hand-made dense HLL with every register at 1.
        let mut dense = b"HYLL\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80".to_vec();
        dense.extend([0x41u8, 0x10, 0x04].repeat(4096));
        assert_eq!(dense.len(), 12304);
        assert_eq!(c.send_bin(&[b"SET", b"d", &dense]).await, ok());
        assert_eq!(c.send(&["PFDEBUG", "ENCODING", "d"]).await, simple("dense"));
        assert_eq!(c.send(&["PFCOUNT", "d"]).await, int(23637));
    }

    async fn pfcount_of_several_keys_is_the_union_and_writes_nothing(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(pfadd(&mut c, "a", &elements(0, 3000)).await, int(1));
        assert_eq!(pfadd(&mut c, "b", &elements(2000, 2500)).await, int(1));
        assert_eq!(pfadd(&mut c, "c", &elements(2500, 4000)).await, int(1));
        let before = c.send(&["GET", "a"]).await;
        let union = as_int(&c.send(&["PFCOUNT", "a", "b", "c", "missing"]).await);
        assert!((union - 4000).abs() < 4000 * 5 / 100, "{union}");
        assert_eq!(c.send(&["GET", "a"]).await, before, "the union changed nothing");
        // Counting one key with itself is that key's count.
        let one = c.send(&["PFCOUNT", "b"]).await;
        assert_eq!(c.send(&["PFCOUNT", "b", "b"]).await, one);
        assert_eq!(c.send(&["PFCOUNT", "missing", "missing2"]).await, int(0));
    }

    async fn pfmerge_merges_into_the_destination(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["PFADD", "h1", "a", "b", "c"]).await, int(1));
        assert_eq!(c.send(&["PFADD", "h2", "b", "c", "d"]).await, int(1));
        assert_eq!(c.send(&["PFMERGE", "m", "h1", "h2", "missing"]).await, ok());
        assert_eq!(c.send(&["PFCOUNT", "m"]).await, int(4));
        assert_eq!(c.send(&["PFDEBUG", "ENCODING", "m"]).await, simple("sparse"));
        // The destination is one of the sources.
        assert_eq!(c.send(&["PFADD", "d", "x", "y"]).await, int(1));
        assert_eq!(c.send(&["PFMERGE", "d", "h1"]).await, ok());
        assert_eq!(c.send(&["PFCOUNT", "d"]).await, int(5));
        // Only a destination: created empty, or left as is.
        assert_eq!(c.send(&["PFMERGE", "new"]).await, ok());
        assert_eq!(c.send(&["PFCOUNT", "new"]).await, int(0));
        assert_eq!(c.send(&["PFMERGE", "d"]).await, ok());
        assert_eq!(c.send(&["PFCOUNT", "d"]).await, int(5));
        // A dense source makes the destination dense.
        assert_eq!(c.send(&["PFADD", "dense", "z"]).await, int(1));
        assert_eq!(c.send(&["PFDEBUG", "TODENSE", "dense"]).await, int(1));
        assert_eq!(c.send(&["PFMERGE", "m", "dense"]).await, ok());
        assert_eq!(c.send(&["PFDEBUG", "ENCODING", "m"]).await, simple("dense"));
        assert_eq!(c.send(&["PFCOUNT", "m"]).await, int(5));
        // Merged from sparse copies the registers exactly.
        assert_eq!(c.send(&["PFMERGE", "copy", "h1"]).await, ok());
        assert_eq!(bytes_of(&c.send(&["GET", "copy"]).await), ABC);
    }

    async fn pfdebug_subcommands(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["PFADD", "h", "a", "b", "c"]).await, int(1));
        assert_eq!(c.send(&["PFDEBUG", "ENCODING", "h"]).await, simple("sparse"));
        assert_eq!(
            c.send(&["pfdebug", "decode", "h"]).await,
            bulk("Z:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603")
        );
        // GETREG converts to dense.
        let regs = c.send(&["PFDEBUG", "GETREG", "h"]).await;
        let regs: Vec<i64> = items(&regs).iter().map(as_int).collect();
        assert_eq!(regs.len(), 16384);
        assert_eq!((regs[8436], regs[12711], regs[15780]), (1, 2, 1));
        assert_eq!(regs.iter().filter(|r| **r != 0).count(), 3);
        assert_eq!(c.send(&["PFDEBUG", "ENCODING", "h"]).await, simple("dense"));
        assert_eq!(c.send(&["STRLEN", "h"]).await, int(12304));
        assert_eq!(c.send(&["PFDEBUG", "DECODE", "h"]).await, err("ERR HLL encoding is not sparse"));
        assert_eq!(c.send(&["PFDEBUG", "TODENSE", "h"]).await, int(0));
        assert_eq!(c.send(&["PFCOUNT", "h"]).await, int(3));
        assert_eq!(c.send(&["PFADD", "s", "x"]).await, int(1));
        assert_eq!(c.send(&["PFDEBUG", "TODENSE", "s"]).await, int(1));
        assert_eq!(c.send(&["PFDEBUG", "ENCODING", "s"]).await, simple("dense"));
        assert_eq!(
            c.send(&["PFDEBUG", "NOPE", "h"]).await,
            err("ERR Unknown PFDEBUG subcommand 'NOPE'")
        );
        assert_eq!(
            c.send(&["PFDEBUG", "NOPE", "missing"]).await,
            err("ERR The specified key does not exist")
        );
        assert_eq!(c.send(&["PFDEBUG", "GETREG"]).await, wrong_args("pfdebug"));
        assert_eq!(c.send(&["PFDEBUG", "GETREG", "h", "x"]).await, wrong_args("pfdebug"));
        assert_eq!(c.send(&["SET", "str", "x"]).await, ok());
        assert_eq!(c.send(&["PFDEBUG", "ENCODING", "str"]).await, err(NOT_HLL));
    }

    async fn sparse_promotes_to_dense_past_the_configured_size(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["CONFIG", "GET", "hll-sparse-max-bytes"]).await, bulks(&["hll-sparse-max-bytes", "3000"]));
        assert_eq!(c.send(&["CONFIG", "SET", "hll-sparse-max-bytes", "30"]).await, ok());
        let mut i = 0;
        while c.send(&["PFDEBUG", "ENCODING", "h"]).await != simple("dense") {
            assert_eq!(c.send(&["PFADD", "h", &format!("e{i}")]).await, int(1));
            i += 1;
            assert!(i < 100, "never promoted");
            if c.send(&["PFDEBUG", "ENCODING", "h"]).await == simple("sparse") {
                assert!(as_int(&c.send(&["STRLEN", "h"]).await) <= 30);
            }
        }
        assert_eq!(c.send(&["STRLEN", "h"]).await, int(12304));
        assert_eq!(c.send(&["PFCOUNT", "h"]).await, int(i));
    }

    async fn errors_and_corruption(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["PFADD"]).await, wrong_args("pfadd"));
        assert_eq!(c.send(&["PFCOUNT"]).await, wrong_args("pfcount"));
        assert_eq!(c.send(&["PFMERGE"]).await, wrong_args("pfmerge"));
        assert_eq!(c.send(&["PFSELFTEST", "x"]).await, wrong_args("pfselftest"));
        assert_eq!(c.send(&["LPUSH", "list", "x"]).await, int(1));
        assert_eq!(c.send(&["PFADD", "list", "a"]).await, wrongtype());
        assert_eq!(c.send(&["PFCOUNT", "list"]).await, wrongtype());
        assert_eq!(c.send(&["PFCOUNT", "list", "other"]).await, wrongtype());
        assert_eq!(c.send(&["PFMERGE", "list"]).await, wrongtype());
        assert_eq!(c.send(&["PFMERGE", "dst", "list"]).await, wrongtype());
        assert_eq!(c.send(&["EXISTS", "dst"]).await, int(0));
        assert_eq!(c.send(&["SET", "str", "hello"]).await, ok());
        assert_eq!(c.send(&["PFADD", "str", "a"]).await, err(NOT_HLL));
        assert_eq!(c.send(&["PFCOUNT", "str"]).await, err(NOT_HLL));
        assert_eq!(c.send(&["PFCOUNT", "str", "x"]).await, err(NOT_HLL));
        assert_eq!(c.send(&["PFMERGE", "dst", "str"]).await, err(NOT_HLL));
        assert_eq!(c.send(&["SET", "int", "12345678901234567"]).await, ok());
        assert_eq!(c.send(&["PFCOUNT", "int"]).await, err(NOT_HLL));
        // Broken magic, unknown encoding, dense of the wrong length.
        assert_eq!(c.send(&["PFADD", "h", "a", "b", "c"]).await, int(1));
        assert_eq!(c.send(&["SETRANGE", "h", "0", "hyll"]).await, int(27));
        assert_eq!(c.send(&["PFCOUNT", "h"]).await, err(NOT_HLL));
        assert_eq!(c.send(&["SETRANGE", "h", "0", "HYLL\x02"]).await, int(27));
        assert_eq!(c.send(&["PFADD", "h", "z"]).await, err(NOT_HLL));
        assert_eq!(c.send(&["SETRANGE", "h", "4", "\x00"]).await, int(27));
        assert_eq!(c.send(&["PFCOUNT", "h"]).await, err(NOT_HLL));
        // A sparse body covering too many registers.
        assert_eq!(c.send(&["SETRANGE", "h", "4", "\x01"]).await, int(27));
        assert_eq!(c.send(&["APPEND", "h", "\x00"]).await, int(28));
        assert_eq!(c.send(&["PFCOUNT", "h"]).await, err(CORRUPT));
        assert_eq!(c.send(&["PFCOUNT", "h", "h"]).await, err(CORRUPT));
        assert_eq!(c.send(&["PFMERGE", "dst", "h"]).await, err(CORRUPT));
        assert_eq!(c.send(&["PFDEBUG", "GETREG", "h"]).await, err(CORRUPT));
        assert_eq!(c.send(&["PFDEBUG", "TODENSE", "h"]).await, err(CORRUPT));
        // Too few registers: an element past the end cannot be placed.
        assert_eq!(c.send_bin(&[b"SET", b"short", b"HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x40\x00"]).await, ok());
        assert_eq!(c.send(&["PFCOUNT", "short"]).await, err(CORRUPT));
        assert_eq!(c.send(&["PFADD", "short", "a"]).await, err(CORRUPT));
        assert_eq!(c.send(&["PFDEBUG", "DECODE", "short"]).await, bulk("Z:1"));
    }

    async fn keyspace_events(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["CONFIG", "SET", "notify-keyspace-events", "KEAn"]).await, ok());
        let mut sub = server.raw().await;
        sub.send(&["PSUBSCRIBE", "__keyevent@0__:*"]).await;
        assert_eq!(c.send(&["PFADD", "h", "a"]).await, int(1));
        assert_eq!(c.send(&["PFADD", "h", "a"]).await, int(0));
        assert_eq!(c.send(&["PFADD", "h", "b"]).await, int(1));
        assert_eq!(c.send(&["PFCOUNT", "h"]).await, int(2));
        assert_eq!(c.send(&["PFMERGE", "m", "h"]).await, ok());
        assert_eq!(c.send(&["PUBLISH", "__keyevent@0__:end", "x"]).await, int(1));
        let mut events = Vec::new();
        loop {
            let msg = sub.read_frame().await;
            let parts = items(&msg);
            let channel = text(&parts[2]);
            if channel.ends_with(":end") {
                break;
            }
            events.push(format!("{channel} {}", text(&parts[3])));
        }
        assert_eq!(
            events,
            [
                "__keyevent@0__:new h",
                "__keyevent@0__:pfadd h",
                "__keyevent@0__:pfadd h",
                "__keyevent@0__:new m",
                "__keyevent@0__:pfadd m",
            ]
        );
    }
}

/// PFSELFTEST (ten million additions: slow in debug builds, so it gets a long wait and
/// one backend, the test being independent of storage).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pfselftest_passes() {
    let server = start(Backend::Memory).await;
    let mut c = server.raw().await;
    c.send_bytes(&request(&[b"PFSELFTEST"])).await;
    let reply = c.try_read_frame(std::time::Duration::from_secs(600)).await;
    assert_eq!(reply, Some(ok()));
    server.stop().await;
}

/// Random additions, merges and counts on a few keys, with small and default sparse
/// limits, against redis-server 7.0: every reply must match, GET bytes included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_hll_ops_match_redis() {
    if against_redis() {
        return;
    }
    let Some(redis) = RedisServer::start().await else {
        eprintln!("SKIPPED: redis-server not found");
        return;
    };
    let memory = start(Backend::Memory).await;
    let disk = start(Backend::Disk).await;
    let mut clients = [redis.raw().await, memory.raw().await, disk.raw().await];
    let names = ["redis", "memory", "disk"];
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move |n: u64| {
        seed ^= seed >> 12;
        seed ^= seed << 25;
        seed ^= seed >> 27;
        seed.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    };
    let keys = ["h0", "h1", "h2", "h3"];
    for round in 0..3 {
        let limit = ["3000", "200", "12000"][round];
        for c in clients.iter_mut() {
            assert_eq!(c.send(&["FLUSHALL"]).await, ok());
            assert_eq!(
                c.send(&["CONFIG", "SET", "hll-sparse-max-bytes", limit])
                    .await,
                ok()
            );
        }
        for step in 0..400 {
            let key = keys[next(4) as usize];
            let other = keys[next(4) as usize];
            let cmd: Vec<String> = match next(10) {
                0..=5 => {
                    let big = next(4) == 0;
                    let n = 1 + next(if big { 400 } else { 8 });
                    let base = next(100_000);
                    let mut cmd = vec!["PFADD".to_string(), key.to_string()];
                    cmd.extend((0..n).map(|i| format!("m{}", base + i * (1 + next(3)))));
                    cmd
                }
                6 => vec!["PFCOUNT".into(), key.into()],
                7 => vec!["PFCOUNT".into(), key.into(), other.into(), "nokey".into()],
                8 => vec!["PFMERGE".into(), key.into(), other.into()],
                _ => vec!["PFDEBUG".into(), "ENCODING".into(), key.into()],
            };
            let args: Vec<&str> = cmd.iter().map(String::as_str).collect();
            let mut replies = Vec::new();
            for c in clients.iter_mut() {
                replies.push(c.send(&args).await);
                replies.push(c.send(&["GET", key]).await);
            }
            for (i, pair) in replies.chunks(2).enumerate().skip(1) {
                assert_eq!(
                    pair,
                    &replies[0..2],
                    "round {round} step {step} `{}`: {} differs from redis",
                    args.iter().take(4).copied().collect::<Vec<_>>().join(" "),
                    names[i]
                );
            }
        }
        // Redis-made bytes count the same in ferrokv.
        for key in keys {
            let value = clients[0].send(&["GET", key]).await;
            let Frame::Bulk(value) = value else { continue };
            let count = clients[0].send(&["PFCOUNT", key]).await;
            for c in clients.iter_mut().skip(1) {
                assert_eq!(c.send_bin(&[b"SET", b"copy", &value]).await, ok());
                assert_eq!(c.send(&["PFCOUNT", "copy"]).await, count);
            }
        }
    }
    memory.stop().await;
    disk.stop().await;
}

/// Corrupted HLLs (random bytes overwritten, sparse and dense) get the same replies,
/// and the same stored bytes afterwards, as from redis-server; nothing panics.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupted_hlls_match_redis() {
    if against_redis() {
        return;
    }
    let Some(redis) = RedisServer::start().await else {
        eprintln!("SKIPPED: redis-server not found");
        return;
    };
    let memory = start(Backend::Memory).await;
    let mut clients = [redis.raw().await, memory.raw().await];
    let mut seed: u64 = 0x1234_5678_9abc_def1;
    let mut next = move |n: u64| {
        seed ^= seed >> 12;
        seed ^= seed << 25;
        seed ^= seed >> 27;
        seed.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    };
    let mut errors = 0;
    for round in 0..600 {
        let n = [5, 50, 500, 5000][next(4) as usize];
        let members = elements(0, n);
        for c in clients.iter_mut() {
            c.send(&["DEL", "h", "m"]).await;
            assert_eq!(pfadd(c, "h", &members).await, int(1));
        }
        let len = as_int(&clients[0].send(&["STRLEN", "h"]).await) as u64;
        // Mostly the registers, sometimes the header.
        let offset = if next(8) == 0 {
            next(16)
        } else {
            16 + next(len - 16)
        };
        let byte = [next(256) as u8];
        let probes: [Vec<&[u8]>; 6] = [
            vec![b"PFCOUNT", b"h"],
            vec![b"PFADD", b"h", b"x", b"y", b"z"],
            vec![b"PFCOUNT", b"h", b"h"],
            vec![b"PFMERGE", b"m", b"h"],
            vec![b"PFDEBUG", b"DECODE", b"h"],
            vec![b"GET", b"h"],
        ];
        let mut replies = Vec::new();
        for c in clients.iter_mut() {
            let off = offset.to_string();
            c.send_bin(&[b"SETRANGE", b"h", off.as_bytes(), &byte])
                .await;
            let mut got = Vec::new();
            for probe in &probes {
                got.push(c.send_bin(probe).await);
            }
            replies.push(got);
        }
        assert_eq!(
            replies[1], replies[0],
            "round {round}: n={n} offset={offset} byte={byte:?}"
        );
        errors += replies[0]
            .iter()
            .filter(|r| matches!(r, Frame::Error(_)))
            .count();
    }
    eprintln!("{errors} error replies compared");
    assert!(errors > 100, "the corruption must show");
    memory.stop().await;
}
