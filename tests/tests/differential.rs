//! Differential tests: the same command scripts against a real `redis-server` 7.0 and
//! ferrokv (memory backend), comparing every reply byte for byte, in RESP2 and RESP3.
//!
//! Script lines are split as redis-cli splits them (quotes, `\xHH`). A prefix changes the
//! comparison: `~` compares array replies as sorted multisets (KEYS, SCAN), `?` compares
//! only the reply's type (values that legitimately differ: TTL in ms, INFO, TIME), `!`
//! runs the command without comparing. Skipped, with a visible message, when
//! `redis-server` is not installed.

use std::io::Write;

use ferrokv_protocol::{split_args, Frame};
use ferrokv_tests::*;

#[derive(Clone, Copy, PartialEq, Debug)]
enum Compare {
    Exact,
    Sorted,
    TypeOnly,
    Skip,
}

struct Line {
    compare: Compare,
    args: Vec<Vec<u8>>,
    text: String,
}

fn parse_script(script: &str) -> Vec<Line> {
    script
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (compare, rest) = match l.as_bytes()[0] {
                b'~' => (Compare::Sorted, &l[1..]),
                b'?' => (Compare::TypeOnly, &l[1..]),
                b'!' => (Compare::Skip, &l[1..]),
                _ => (Compare::Exact, l),
            };
            let args =
                split_args(rest.trim().as_bytes()).unwrap_or_else(|| panic!("bad script line {l}"));
            Line {
                compare,
                args,
                text: l.to_string(),
            }
        })
        .collect()
}

fn kind(frame: &Frame) -> &'static str {
    match frame {
        Frame::Simple(_) => "simple",
        Frame::Error(_) => "error",
        Frame::Integer(_) => "integer",
        Frame::Bulk(_) => "bulk",
        Frame::Null => "null",
        Frame::NullArray => "null-array",
        Frame::Array(_) => "array",
        Frame::Map(_) => "map",
        Frame::Set(_) => "set",
        Frame::Double(_) | Frame::DoubleText(_) => "double",
        Frame::Boolean(_) => "boolean",
        Frame::BigNumber(_) => "bignumber",
        Frame::Verbatim { .. } => "verbatim",
        Frame::Push(_) => "push",
        Frame::Attribute(..) => "attribute",
    }
}

/// The sorted wire encodings of an array's items (for SCAN, the keys array).
fn sorted_items(frame: &Frame) -> Option<Vec<String>> {
    let items = match frame {
        Frame::Array(v) | Frame::Set(v) => v,
        Frame::Map(pairs) => {
            let mut v: Vec<String> = pairs.iter().map(|p| format!("{p:?}")).collect();
            v.sort();
            v.insert(0, "map".into());
            return Some(v);
        }
        _ => return None,
    };
    // SCAN: [cursor, [keys]] — compare the cursor and the sorted keys.
    if items.len() == 2 && matches!(items[1], Frame::Array(_)) {
        let mut keys: Vec<String> = match &items[1] {
            Frame::Array(v) => v.iter().map(|f| format!("{f:?}")).collect(),
            _ => unreachable!(),
        };
        keys.sort();
        keys.insert(0, format!("cursor {:?}", items[0]));
        return Some(keys);
    }
    let mut v: Vec<String> = items.iter().map(|f| format!("{f:?}")).collect();
    v.sort();
    Some(v)
}

/// Runs `script` on both servers (after `setup` on each connection) and returns every
/// difference, described.
async fn run_both(redis: &mut RawClient, ferrokv: &mut RawClient, script: &str) -> Vec<String> {
    let mut diffs = Vec::new();
    for line in parse_script(script) {
        let args: Vec<&[u8]> = line.args.iter().map(|a| a.as_slice()).collect();
        let (want, want_wire) = redis.send_raw_reply(&args).await;
        let (got, got_wire) = ferrokv.send_raw_reply(&args).await;
        let same = match line.compare {
            Compare::Exact => want_wire == got_wire,
            Compare::Sorted => match (sorted_items(&want), sorted_items(&got)) {
                (Some(a), Some(b)) => a == b,
                _ => want_wire == got_wire,
            },
            Compare::TypeOnly => kind(&want) == kind(&got),
            Compare::Skip => true,
        };
        if !same {
            diffs.push(format!(
                "{}\n    redis:   {}\n    ferrokv: {}",
                line.text,
                String::from_utf8_lossy(&want_wire).escape_debug(),
                String::from_utf8_lossy(&got_wire).escape_debug()
            ));
        }
    }
    diffs
}

/// Runs `script` against redis-server and ferrokv in RESP2 and then RESP3; fails with
/// every difference.
async fn differential(name: &str, script: &str) {
    let Some(reference) = RedisServer::start().await else {
        eprintln!("SKIPPED: redis-server not found");
        // libtest captures eprintln! of passing tests; say it on the real stderr as well.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: redis-server not found (differential {name})"
        );
        return;
    };
    let server = start(Backend::Memory).await;
    let mut all = Vec::new();
    for resp3 in [false, true] {
        let mut redis = reference.raw().await;
        let mut ferrokv = server.raw().await;
        redis.send(&["FLUSHALL"]).await;
        ferrokv.send(&["FLUSHALL"]).await;
        if resp3 {
            let a = redis.send(&["HELLO", "3"]).await;
            let b = ferrokv.send(&["HELLO", "3"]).await;
            assert_eq!(kind(&a), "map");
            assert_eq!(kind(&b), "map", "ferrokv HELLO 3: {b:?}");
        }
        let diffs = run_both(&mut redis, &mut ferrokv, script).await;
        let proto = if resp3 { "RESP3" } else { "RESP2" };
        all.extend(diffs.into_iter().map(|d| format!("[{proto}] {d}")));
    }
    server.stop().await;
    assert!(
        all.is_empty(),
        "{name}: {} replies differ from redis-server:\n{}",
        all.len(),
        all.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn differential_strings() {
    differential(
        "strings",
        r#"
        GET k
        SET k v
        GET k
        SET k v2 NX
        SET k v3 XX
        GET k
        SET k v4 GET
        SET k v5 NX GET
        SET n v XX GET
        SET k v KEEPTTL
        SET k v EX 0
        SET k v EX -5
        SET k v EX abc
        SET k v PX 10 EX 10
        SET k v NX XX
        SET k v KEEPTTL PX 100
        SET k v EX
        SET k v bogus
        SET k v EX 9999999999999999
        SET k
        SET k v PX 100000000
        ?PTTL k
        TTL k
        SET k v EXAT 99999999999
        EXPIRETIME k
        SET k v PXAT 99999999999999
        PEXPIRETIME k
        GETEX k PERSIST
        TTL k
        GETEX k EX 100000
        TTL k
        GETEX k EX 0
        GETEX k PX 10 EX 10
        GETEX k foo
        GETEX missing EX 10
        GETEX
        GETDEL k
        GETDEL k
        GETSET g 1
        GETSET g 2
        GETSET g
        MSET a 1 b 2 c 3
        MGET a b nope c
        MSET a
        MSET a 1 b
        MSETNX a 1 z 9
        MSETNX y 1 z 9
        MGET y z
        SETNX a 5
        SETNX fresh 5
        SETEX se 100000 v
        TTL se
        SETEX se 0 v
        SETEX se abc v
        PSETEX ps 100000000 v
        TTL ps
        PSETEX ps -1 v
        INCR counter
        INCR counter
        INCRBY counter 10
        INCRBY counter -100
        DECR counter
        DECRBY counter 7
        DECRBY counter -9223372036854775808
        INCRBY counter abc
        INCRBY counter 9223372036854775807
        INCRBY counter 9223372036854775807
        SET max 9223372036854775807
        INCR max
        SET min -9223372036854775808
        DECR min
        SET s abc
        INCR s
        SET s " 1"
        INCR s
        SET s 007
        INCR s
        SET s -0
        DECR s
        INCR
        INCRBYFLOAT f 10.5
        INCRBYFLOAT f 0.1
        INCRBYFLOAT f -5.0e3
        INCRBYFLOAT f 1.1e-10
        INCRBYFLOAT f 3.0e3
        INCRBYFLOAT f -3000.00000000011
        INCRBYFLOAT f inf
        INCRBYFLOAT f abc
        INCRBYFLOAT f ""
        INCRBYFLOAT g 0.1
        INCRBYFLOAT g 0.2
        INCRBYFLOAT g 0.30000000000000004
        INCRBYFLOAT h 1e308
        INCRBYFLOAT h 1e308
        INCRBYFLOAT i 1.23456789012345678901234567890
        INCRBYFLOAT i -1.23456789012345678901234567890
        INCRBYFLOAT j 5
        INCRBYFLOAT j -5
        INCRBYFLOAT j -0.0
        INCRBYFLOAT k2 12345678901234567890
        INCRBYFLOAT k3 0.0000001
        INCRBYFLOAT k3 1e-20
        INCRBYFLOAT k4 1.5e15
        INCRBYFLOAT k4 0.25
        INCRBYFLOAT k5 -1e-5
        SET hex 0x10
        INCRBYFLOAT hex 1
        SET spaces " 1.5"
        INCRBYFLOAT spaces 1
        SET dot "1."
        INCRBYFLOAT dot 1
        SET lead ".5"
        INCRBYFLOAT lead 1
        INCRBYFLOAT counter 0.5
        INCR counter
        APPEND ap hello
        APPEND ap " world"
        APPEND ap ""
        STRLEN ap
        STRLEN nope
        APPEND counter 9
        GET counter
        GETRANGE ap 0 4
        GETRANGE ap -5 -1
        GETRANGE ap 5 3
        GETRANGE ap -100 100
        GETRANGE ap 100 200
        GETRANGE ap 0 -100
        GETRANGE ap -1 -5
        GETRANGE ap 0 0
        GETRANGE ap -1 -1
        GETRANGE ap 10 10
        GETRANGE ap 11 11
        GETRANGE ap -11 -11
        GETRANGE ap -12 -12
        GETRANGE ap 3 -3
        GETRANGE ap 0 9223372036854775807
        GETRANGE ap -9223372036854775808 9223372036854775807
        GETRANGE ap 0 9223372036854775808
        GETRANGE ap a 1
        GETRANGE nope 0 -1
        GETRANGE nope 5 1
        SET empty ""
        GETRANGE empty 0 -1
        GETRANGE empty -1 0
        SET num 12345
        GETRANGE num 1 -2
        GETRANGE num -2 1
        SUBSTR ap 0 4
        SUBSTR ap -3 -1
        SETRANGE sr 5 hi
        GET sr
        SETRANGE sr 0 HELLO
        SETRANGE sr 6 xyz
        GET sr
        SETRANGE sr -1 x
        SETRANGE sr 536870912 x
        SETRANGE sr 536870911 ""
        SETRANGE nope 0 ""
        EXISTS nope
        SETRANGE num 1 9
        INCR num
        MSET key1 ohmytext key2 mynewtext
        LCS key1 key2
        LCS key1 key2 LEN
        LCS key1 key2 IDX
        LCS key1 key2 IDX MINMATCHLEN 4
        LCS key1 key2 IDX MINMATCHLEN 4 WITHMATCHLEN
        LCS key1 key2 IDX WITHMATCHLEN
        LCS key1 key2 LEN IDX
        LCS key1 key2 foo
        LCS key1 key2 MINMATCHLEN abc
        LCS key1 nope
        LCS nope nope2 IDX
        MSET x ABCBDAB y BDCABA
        LCS x y
        LCS x y IDX WITHMATCHLEN
        MSET r1 "the quick brown fox jumps" r2 "a quick brown dog jumped over"
        LCS r1 r2
        LCS r1 r2 IDX MINMATCHLEN 3 WITHMATCHLEN
        MSET same abcdef same2 abcdef
        LCS same same2 IDX
        LCS same same2 IDX MINMATCHLEN 100
        SET k v PXAT 1
        EXISTS k
        SET k v
        GETEX k EXAT 1
        EXISTS k
        SET k v GET KEEPTTL
        SET k v KEEPTTL GET XX
        SET k v EXAT 99999999999 GET
        SET k 1 PX 100000000 KEEPTTL
        SET "" empty-key
        GET ""
        APPEND "" x
        STRLEN ""
        MSET m1 1 m2 2 m3 3 m4 4 m5 5 m6 6 m7 7 m8 8 m9 9 m10 10
        MGET m1 m2 m3 m4 m5 m6 m7 m8 m9 m10 m11
        SET enc 12
        OBJECT ENCODING enc
        APPEND enc 3
        OBJECT ENCODING enc
        INCR enc
        OBJECT ENCODING enc
        INCRBYFLOAT enc 1.5
        OBJECT ENCODING enc
        SETRANGE enc 0 9
        OBJECT ENCODING enc
        SET enc2 -9223372036854775808
        OBJECT ENCODING enc2
        SET enc3 9223372036854775808
        OBJECT ENCODING enc3
        SET enc4 "12345678901234567890123456789012345678901234"
        OBJECT ENCODING enc4
        SET enc5 "123456789012345678901234567890123456789012345"
        OBJECT ENCODING enc5
        GETSET enc5 1
        OBJECT ENCODING enc5
        INCRBY big 1
        INCRBY big -1
        DECRBY big 0
        "#,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn differential_keys_and_expiry() {
    differential(
        "keys and expiry",
        r#"
        MSET a 1 b 2 c 3 ab 4 "a*b" 5 hello 6 hallo 7
        DEL a a nope
        EXISTS a b b nope
        UNLINK c
        UNLINK
        DEL
        TYPE b
        TYPE nope
        ~KEYS *
        ~KEYS a*
        ~KEYS h?llo
        ~KEYS h[ae]llo
        ~KEYS h[^e]llo
        ~KEYS a\*b
        KEYS nomatch
        ~SCAN 0 COUNT 1000
        ~SCAN 0 MATCH h* COUNT 1000
        ~SCAN 0 TYPE string COUNT 1000
        ~SCAN 0 TYPE list COUNT 1000
        SCAN abc
        SCAN 0 COUNT 0
        SCAN 0 COUNT abc
        SCAN 0 MATCH
        SCAN 0 foo bar
        RENAME b bb
        RENAME nope x
        RENAMENX bb hello
        RENAMENX bb b
        RENAMENX b b
        RENAME b b
        COPY b b2
        COPY b b2
        COPY b b2 REPLACE
        COPY b b DB 1
        COPY b b
        COPY b x DB 99
        COPY b x foo
        COPY nope x
        MOVE b2 1
        MOVE b2 1
        MOVE b 0
        MOVE b 99
        MOVE nope 1
        SELECT 1
        ~KEYS *
        SELECT 0
        TOUCH b hello nope b
        DBSIZE
        OBJECT ENCODING hello
        OBJECT ENCODING ab
        OBJECT ENCODING nope
        SET longstr abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz
        OBJECT ENCODING longstr
        OBJECT REFCOUNT longstr
        OBJECT REFCOUNT ab
        OBJECT FREQ longstr
        OBJECT foo
        OBJECT HELP
        EXPIRE hello 100000
        TTL hello
        EXPIRE hello 200000 NX
        EXPIRE hello 200000 XX
        TTL hello
        EXPIRE hello 100 GT
        EXPIRE hello 300000 GT
        EXPIRE hello 400000 LT
        EXPIRE hello 1000 LT
        TTL hello
        EXPIRE hello 10 NX XX
        EXPIRE hello 10 GT LT
        EXPIRE hello 10 FOO
        EXPIRE hello abc
        EXPIRE hello 9223372036854775807
        PEXPIRE hello 9223372036854775807
        EXPIREAT hello 9223372036854775807
        PEXPIREAT hello 99999999999999
        PEXPIRETIME hello
        EXPIRETIME hello
        PEXPIREAT hello 9223372036854775806
        EXPIRETIME hello
        PERSIST hello
        PERSIST hello
        TTL hello
        PTTL hello
        EXPIRETIME hello
        TTL nope
        PTTL nope
        EXPIRETIME nope
        PEXPIRETIME nope
        EXPIRE nope 10
        PEXPIRE hallo 100000000
        ?PTTL hallo
        TTL hallo
        PEXPIRE hallo 10 LT
        EXISTS hallo
        SET t 1
        EXPIRE t 0
        EXISTS t
        SET t 1
        EXPIREAT t 1
        EXISTS t
        SET t 1
        PEXPIRE t -1 XX
        EXISTS t
        SET t 1 EX 100000
        RENAME t t2
        TTL t2
        SET t3 x
        RENAME t3 t2
        TTL t2
        SET t4 1 EX 100000
        COPY t4 t5
        TTL t5
        GETSET t4 2
        TTL t4
        SET t6 1 EX 100000
        APPEND t6 2
        INCR t6
        TTL t6
        SETRANGE t6 0 9
        TTL t6
        RANDOMKEY x
        EXPIRE
        TTL
        PERSIST
        FLUSHDB
        RANDOMKEY
        SET only 1
        RANDOMKEY
        SWAPDB 0 1
        ~KEYS *
        SWAPDB 0 1
        SWAPDB 0 99
        SWAPDB a 1
        SWAPDB 0 b
        SELECT 99
        SELECT abc
        FLUSHALL foo
        FLUSHDB ASYNC
        DBSIZE
        "#,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn differential_bitmaps() {
    differential(
        "bitmaps",
        r#"
        SETBIT b 7 1
        SETBIT b 7 1
        SETBIT b 100 1
        GET b
        GETBIT b 7
        GETBIT b 100
        GETBIT b 1000
        GETBIT nope 0
        SETBIT b 0 2
        SETBIT b -1 1
        SETBIT b 4294967296 1
        SETBIT b abc 1
        GETBIT b -1
        SET s foobar
        BITCOUNT s
        BITCOUNT s 0 0
        BITCOUNT s 1 1
        BITCOUNT s 1 1 BYTE
        BITCOUNT s 5 30 BIT
        BITCOUNT s 0 -1 BIT
        BITCOUNT s -2 -1
        BITCOUNT s -100 100
        BITCOUNT s 3 1
        BITCOUNT s -1 -100 BIT
        BITCOUNT s 0
        BITCOUNT s 0 1 FOO
        BITCOUNT s a b
        BITCOUNT nope
        SET p "\xff\xf0\x00"
        BITPOS p 0
        SET q "\x00\xff\xf0"
        BITPOS q 1 0
        BITPOS q 1 2
        BITPOS q 1 2 -1 BYTE
        BITPOS q 1 7 15 BIT
        BITPOS q 0 8 -1 BIT
        BITPOS q 1 -1
        BITPOS q 1 -100 -50
        BITPOS q 0 100
        SET z "\x00\x00\x00"
        BITPOS z 1
        BITPOS z 0
        BITPOS z 1 7 -3 BIT
        SET f "\xff\xff\xff"
        BITPOS f 0
        BITPOS f 0 1
        BITPOS f 0 0 -1
        BITPOS f 0 0 -1 BIT
        BITPOS f 1 5 2
        BITPOS nope 0
        BITPOS nope 1
        BITPOS nope 0 0 -1
        BITPOS q 2
        BITPOS q 1 abc
        BITPOS q 1 0 1 FOO
        SET k1 foobar
        SET k2 abcdef
        SET short "\xff"
        BITOP AND dest k1 k2
        GET dest
        BITOP OR dest k1 k2 short
        GET dest
        BITOP XOR dest k1 k2 nope
        GET dest
        BITOP NOT dest k1
        GET dest
        BITOP AND dest short k1
        GET dest
        BITOP AND dest nope nope2
        EXISTS dest
        BITOP NOT dest k1 k2
        BITOP FOO dest k1
        BITOP AND dest
        BITFIELD bf INCRBY i5 100 1 GET u4 0
        BITFIELD bf INCRBY u2 100 1 OVERFLOW SAT INCRBY u2 102 1
        BITFIELD bf INCRBY u2 100 1 OVERFLOW SAT INCRBY u2 102 1
        BITFIELD bf INCRBY u2 100 1 OVERFLOW SAT INCRBY u2 102 1
        BITFIELD bf INCRBY u2 100 1 OVERFLOW SAT INCRBY u2 102 1
        BITFIELD bf OVERFLOW FAIL INCRBY u2 102 1
        BITFIELD bf SET u8 #1 200 GET u8 8 GET u8 #1
        BITFIELD bf SET i8 0 -128 SET u8 0 255
        BITFIELD bf INCRBY u8 0 10
        BITFIELD bf SET i64 0 -1 GET i64 0 GET u63 0 GET i63 1
        BITFIELD bf SET i64 0 9223372036854775807 INCRBY i64 0 1
        BITFIELD bf OVERFLOW SAT INCRBY i64 0 -1
        BITFIELD bf OVERFLOW SAT INCRBY i8 0 -300 OVERFLOW WRAP INCRBY i8 0 -1
        BITFIELD bf OVERFLOW SAT SET u4 0 100 GET u4 0
        BITFIELD bf OVERFLOW FAIL SET u4 0 16 GET u4 0
        BITFIELD bf SET i3 2 -3 GET i3 2 GET u3 2
        BITFIELD bf GET u8 4294967288
        BITFIELD bf GET u64 0
        BITFIELD bf GET i65 0
        BITFIELD bf GET u8 -1
        BITFIELD bf OVERFLOW foo
        BITFIELD bf SET u8 0 abc
        BITFIELD bf FOO
        BITFIELD bf GET u8
        BITFIELD bf
        BITFIELD nope GET i16 0
        EXISTS nope
        BITFIELD_RO bf GET u8 0 GET u4 4
        BITFIELD_RO bf SET u8 0 1
        BITFIELD_RO bf INCRBY u8 0 1
        BITFIELD_RO bf
        GET bf
        "#,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn differential_connection_and_errors() {
    differential(
        "connection and errors",
        r#"
        PING
        PING hello
        PING a b
        ECHO x
        ECHO
        nosuchcommand a b
        nosuchcommand
        GET
        GET a b
        CLIENT GETNAME
        CLIENT SETNAME myname
        CLIENT GETNAME
        CLIENT SETNAME "a b"
        CLIENT SETNAME ""
        CLIENT GETNAME
        CLIENT NOSUCH
        CLIENT KILL 1.2.3.4:5
        CLIENT KILL ID 999999
        CLIENT KILL ID abc
        CLIENT KILL FOO bar
        CLIENT LIST ID abc
        CLIENT LIST TYPE foo
        CLIENT LIST TYPE pubsub
        ?CLIENT LIST
        ?CLIENT INFO
        ?CLIENT ID
        ?TIME
        ?INFO
        ?INFO server
        INFO nosuchsection
        INFO keyspace
        ?OBJECT IDLETIME x
        SELECT 0
        SELECT 16
        DBSIZE
        DBSIZE x
        CONFIG GET maxmemory
        CONFIG GET databases
        ~CONFIG GET *max-*-entries*
        CONFIG GET nosuch
        CONFIG SET maxmemory 10mb
        CONFIG GET maxmemory
        CONFIG SET maxmemory 0
        CONFIG SET foo bar
        CONFIG SET timeout abc
        CONFIG SET timeout -1
        CONFIG SET daemonize yes
        CONFIG SET maxmemory 1 maxmemory 2
        CONFIG SET maxmemory-policy bogus
        CONFIG SET
        CONFIG GET
        CONFIG NOSUCH
        CONFIG HELP
        HELLO 4
        HELLO abc
        HELLO 3 FOO
        RESET
        GET nope
        "#,
    )
    .await;
}

/// SCAN over a few hundred keys with a large COUNT returns the same key set in one go.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn differential_scan_small_sets() {
    let mut script = String::new();
    for i in 0..300 {
        script.push_str(&format!("SET key:{i} {i}\n"));
    }
    for i in 0..50 {
        script.push_str(&format!("SET other:{i} x\n"));
    }
    script.push_str("~SCAN 0 COUNT 1000\n~SCAN 0 MATCH key:1* COUNT 1000\n~SCAN 0 MATCH other:? COUNT 1000\n~KEYS other:*\nDBSIZE\n");
    differential("scan", &script).await;
}

/// Everything a server sends back for `input` on a fresh connection, until it closes the
/// connection or stays quiet for 300 ms; `<closed>` marks a close.
async fn raw_exchange(addr: std::net::SocketAddr, input: &[u8]) -> Vec<u8> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(input).await.expect("write");
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match tokio::time::timeout(std::time::Duration::from_millis(300), stream.read(&mut buf))
            .await
        {
            Err(_) => return out,
            Ok(Ok(0)) | Ok(Err(_)) => {
                out.extend_from_slice(b"<closed>");
                return out;
            }
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
        }
    }
}

/// Replaces the client id in a HELLO reply (`$2\r\nid\r\n:N\r\n`), which legitimately
/// differs between servers.
fn hide_client_id(mut bytes: Vec<u8>) -> Vec<u8> {
    let marker = b"$2\r\nid\r\n:";
    if let Some(at) = bytes.windows(marker.len()).position(|w| w == marker) {
        let start = at + marker.len();
        if let Some(len) = bytes[start..].iter().position(|&b| b == b'\r') {
            bytes.splice(start..start + len, b"ID".iter().copied());
        }
    }
    bytes
}

/// Raw request bytes, well-formed and not: both servers must answer with the same bytes
/// and close (or keep) the connection alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn differential_raw_protocol() {
    let Some(reference) = RedisServer::start().await else {
        eprintln!("SKIPPED: redis-server not found");
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: redis-server not found (differential raw protocol)"
        );
        return;
    };
    let server = start(Backend::Memory).await;
    let inputs: Vec<Vec<u8>> = vec![
        b"PING\r\n".to_vec(),
        b"PING\n".to_vec(),
        b"ping hello\r\n".to_vec(),
        b"\r\n\r\n  \r\nPING\r\n".to_vec(),
        b"*0\r\n*-1\r\nPING\r\n".to_vec(),
        b"SET k \"hello world\"\r\nGET k\r\n".to_vec(),
        b"SET k 'single'\r\nGET k\r\n".to_vec(),
        b"SET k \"\\x41\\n\\t\\\\\"\r\nGET k\r\n".to_vec(),
        b"ECHO \"a\\\"b\"\r\n".to_vec(),
        b"SET \"a b\r\n".to_vec(),
        b"SET k 'it''s'\r\n".to_vec(),
        b"SET a \"b\"c\r\n".to_vec(),
        b"foo a b\r\n".to_vec(),
        b"*2\r\n$3\r\nfoo\r\n$1\r\na\r\n".to_vec(),
        b"*1\r\n$0\r\n\r\n".to_vec(),
        b"*a\r\n".to_vec(),
        b"*-5x\r\n".to_vec(),
        b"*3000000000\r\n".to_vec(),
        b"*1\r\nfoo\r\n".to_vec(),
        b"*1\r\n$-5\r\n".to_vec(),
        b"*1\r\n$abc\r\n".to_vec(),
        b"*1\r\n$2147483648\r\n".to_vec(),
        b"*1\r\n$536870913\r\n".to_vec(),
        b"*2\r\n$3\r\nGET\r\n:1\r\n".to_vec(),
        b"*1\r\n$4\r\nPING\r\n*x\r\n".to_vec(),
        b"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1000000\r\n".to_vec(),
        b"*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPI".to_vec(),
        vec![b'a'; 70_000],
        [b"*1\r\n$".as_slice(), &[b'1'; 70_000]].concat(),
        [b"*".as_slice(), &[b'1'; 70_000]].concat(),
        (0..100)
            .flat_map(|i| format!("ECHO {i}\r\n").into_bytes())
            .collect(),
        b"HELLO 3\r\nGET nope\r\nMGET a nope\r\nCONFIG GET maxmemory\r\n".to_vec(),
        b"QUIT\r\nPING\r\n".to_vec(),
    ];
    let mut tasks = Vec::new();
    for input in inputs {
        let (redis_addr, ferrokv_addr) = (reference.addr, server.addr);
        tasks.push(tokio::spawn(async move {
            let (want, got) = tokio::join!(
                raw_exchange(redis_addr, &input),
                raw_exchange(ferrokv_addr, &input)
            );
            (input, hide_client_id(want), hide_client_id(got))
        }));
    }
    let mut diffs = Vec::new();
    for task in tasks {
        let (input, want, got) = task.await.expect("exchange");
        if want != got {
            let shown: String = String::from_utf8_lossy(&input[..input.len().min(60)])
                .escape_debug()
                .to_string();
            diffs.push(format!(
                "{shown}\n    redis:   {}\n    ferrokv: {}",
                String::from_utf8_lossy(&want).escape_debug(),
                String::from_utf8_lossy(&got).escape_debug()
            ));
        }
    }
    server.stop().await;
    assert!(
        diffs.is_empty(),
        "{} raw exchanges differ from redis-server:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}

fn find_tool(name: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Runs `redis-cli -p PORT args...` and returns its stdout.
async fn redis_cli(port: u16, args: &[&str]) -> String {
    let cli = find_tool("redis-cli").expect("redis-cli");
    let out = tokio::process::Command::new(cli)
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .output()
        .await
        .expect("run redis-cli");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// redis-cli prints the same thing whichever server it talks to.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn differential_redis_cli_output() {
    let (Some(reference), Some(_)) = (RedisServer::start().await, find_tool("redis-cli")) else {
        eprintln!("SKIPPED: redis-server not found");
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: redis-server or redis-cli not found (differential redis-cli)"
        );
        return;
    };
    let server = start(Backend::Memory).await;
    let scripts: &[&[&str]] = &[
        &["SET", "a", "hello world"],
        &["GET", "a"],
        &["--raw", "GET", "a"],
        &["GET", "missing"],
        &["MSET", "x", "1", "y", "2"],
        &["MGET", "x", "missing", "y"],
        &["INCRBYFLOAT", "x", "0.1"],
        &["INCR", "a"],
        &["CONFIG", "GET", "maxmemory"],
        &["--raw", "CONFIG", "GET", "maxmemory"],
        &["-3", "GET", "missing"],
        &["-3", "CONFIG", "GET", "maxmemory"],
        &["EXISTS", "a", "x", "nope"],
        &["TTL", "a"],
        &["nosuchcommand", "a"],
        &["--no-raw", "ECHO", "bin\x01ary"],
        &["DBSIZE"],
    ];
    let mut diffs = Vec::new();
    for args in scripts {
        let want = redis_cli(reference.addr.port(), args).await;
        let got = redis_cli(server.addr.port(), args).await;
        if want != got {
            diffs.push(format!(
                "redis-cli {}\n    redis:   {want:?}\n    ferrokv: {got:?}",
                args.join(" ")
            ));
        }
    }
    server.stop().await;
    assert!(
        diffs.is_empty(),
        "{} redis-cli outputs differ:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}

/// redis-benchmark runs its SET/GET/INCR tests against ferrokv without errors.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_benchmark_runs() {
    let Some(bench) = find_tool("redis-benchmark") else {
        let _ = writeln!(std::io::stderr(), "SKIPPED: redis-benchmark not found");
        return;
    };
    let server = start(Backend::Memory).await;
    let out = tokio::process::Command::new(bench)
        .args(["-h", "127.0.0.1", "-p", &server.addr.port().to_string()])
        .args([
            "-t",
            "ping,set,get,incr,mset",
            "-n",
            "2000",
            "-c",
            "10",
            "-P",
            "4",
            "-q",
        ])
        .output()
        .await
        .expect("run redis-benchmark");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "redis-benchmark failed: {stdout}\n{stderr}"
    );
    for test in ["PING_INLINE", "PING_MBULK", "SET", "GET", "INCR", "MSET"] {
        assert!(
            stdout
                .split(['\r', '\n'])
                .map(str::trim)
                .any(|l| l.starts_with(test) && l.contains("requests per second")),
            "no {test} result in:\n{stdout}\n{stderr}"
        );
    }
    let mut c = server.raw().await;
    assert_eq!(c.send(&["GET", "counter:__rand_int__"]).await, bulk("2000"));
    server.stop().await;
}
