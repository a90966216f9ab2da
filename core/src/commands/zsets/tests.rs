//! Unit tests of the sorted set family against the reference backend: every command,
//! option and error, both protocols, keyspace statistics, and randomized cross-checks
//! between the counting, ranking and range commands.

use bytes::Bytes;
use ferrokv_protocol::{Frame, RespVersion};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::engine::Engine;
use crate::stats::Stats;
use crate::testing::{engine, run, session};
use crate::Session;

/// An engine with one client session.
struct T {
    e: Engine,
    s: Session,
}

impl T {
    fn new() -> T {
        let e = engine();
        let s = session(&e);
        T { e, s }
    }

    fn r(&mut self, words: &[&str]) -> Frame {
        run(&self.e, &mut self.s, words)
    }

    fn resp3(&mut self) {
        self.s.resp = RespVersion::Resp3;
    }

    fn stats(&self) -> (u64, u64) {
        (
            Stats::get(&self.e.stats.keyspace_hits),
            Stats::get(&self.e.stats.keyspace_misses),
        )
    }

    /// Members of `key` in ascending order, as text.
    fn members(&mut self, key: &str) -> Vec<String> {
        texts(&self.r(&["ZRANGE", key, "0", "-1"]))
    }
}

fn err(msg: &str) -> Frame {
    Frame::error(msg)
}

fn int(n: i64) -> Frame {
    Frame::Integer(n)
}

fn bulk(s: &str) -> Frame {
    Frame::bulk(s)
}

fn bulks(items: &[&str]) -> Frame {
    Frame::Array(items.iter().map(|s| bulk(s)).collect())
}

fn nil() -> Frame {
    Frame::Null
}

fn empty() -> Frame {
    Frame::Array(Vec::new())
}

fn arity(cmd: &str) -> Frame {
    err(&format!(
        "ERR wrong number of arguments for '{cmd}' command"
    ))
}

fn wrongtype() -> Frame {
    err("WRONGTYPE Operation against a key holding the wrong kind of value")
}

fn syntax() -> Frame {
    err("ERR syntax error")
}

fn not_integer() -> Frame {
    err("ERR value is not an integer or out of range")
}

fn not_float() -> Frame {
    err("ERR value is not a valid float")
}

fn not_float_range() -> Frame {
    err("ERR min or max is not a float")
}

fn not_lex_range() -> Frame {
    err("ERR min or max not valid string range item")
}

/// A RESP3 `[member, score]` pair.
fn pair(member: &str, score: f64) -> Frame {
    Frame::Array(vec![bulk(member), Frame::Double(score)])
}

fn texts(frame: &Frame) -> Vec<String> {
    match frame {
        Frame::Array(items) => items
            .iter()
            .map(|f| match f {
                Frame::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
                other => panic!("expected bulk, got {other:?}"),
            })
            .collect(),
        other => panic!("expected an array, got {other:?}"),
    }
}

fn as_int(frame: &Frame) -> i64 {
    match frame {
        Frame::Integer(n) => *n,
        other => panic!("expected an integer, got {other:?}"),
    }
}

/// A set `z` = a:1 b:2 c:3 d:4 e:5.
fn abcde() -> T {
    let mut t = T::new();
    assert_eq!(
        t.r(&["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"]),
        int(5)
    );
    t
}

// ---------------------------------------------------------------------------------
// ZADD / ZINCRBY.
// ---------------------------------------------------------------------------------

#[test]
fn zadd_adds_updates_and_counts() {
    let mut t = T::new();
    assert_eq!(t.r(&["ZADD", "z", "1", "a"]), int(1));
    assert_eq!(t.r(&["ZADD", "z", "2", "a", "3", "b"]), int(1));
    assert_eq!(t.r(&["ZSCORE", "z", "a"]), bulk("2"));
    // CH counts changed scores too; an unchanged score is no change.
    assert_eq!(
        t.r(&["ZADD", "z", "CH", "5", "a", "3", "b", "1", "c"]),
        int(2)
    );
    assert_eq!(t.r(&["ZADD", "z", "ch", "5", "a"]), int(0));
    // The same member twice: the last score wins, counted once as added.
    assert_eq!(t.r(&["ZADD", "n", "1", "x", "2", "x"]), int(1));
    assert_eq!(t.r(&["ZSCORE", "n", "x"]), bulk("2"));
    assert_eq!(t.r(&["TYPE", "z"]), Frame::simple("zset"));
    // Scores: infinities, exponents, hex, integers printed without fraction.
    assert_eq!(
        t.r(&["ZADD", "s", "-inf", "lo", "+INF", "hi", "1e3", "k", "0x10", "h", "0.1", "f"]),
        int(5)
    );
    assert_eq!(
        t.r(&["ZRANGE", "s", "0", "-1", "WITHSCORES"]),
        bulks(&[
            "lo",
            "-inf",
            "f",
            "0.10000000000000001",
            "h",
            "16",
            "k",
            "1000",
            "hi",
            "inf"
        ])
    );
}

#[test]
fn zadd_nx_xx_gt_lt() {
    let mut t = T::new();
    t.r(&["ZADD", "z", "5", "a"]);
    // NX never updates.
    assert_eq!(t.r(&["ZADD", "z", "NX", "1", "a", "1", "b"]), int(1));
    assert_eq!(t.r(&["ZSCORE", "z", "a"]), bulk("5"));
    // XX never adds.
    assert_eq!(t.r(&["ZADD", "z", "XX", "CH", "6", "a", "1", "c"]), int(1));
    assert_eq!(t.r(&["ZSCORE", "z", "c"]), nil());
    assert_eq!(t.r(&["ZSCORE", "z", "a"]), bulk("6"));
    // GT / LT only move scores in their direction, but still add new members.
    assert_eq!(
        t.r(&["ZADD", "z", "GT", "CH", "3", "a", "7", "b", "0", "new"]),
        int(2)
    );
    assert_eq!(t.r(&["ZSCORE", "z", "a"]), bulk("6"));
    assert_eq!(t.r(&["ZSCORE", "z", "b"]), bulk("7"));
    assert_eq!(t.r(&["ZADD", "z", "LT", "CH", "3", "a", "8", "b"]), int(1));
    assert_eq!(t.r(&["ZSCORE", "z", "a"]), bulk("3"));
    assert_eq!(t.r(&["ZSCORE", "z", "b"]), bulk("7"));
    // An equal score is neither greater nor less.
    assert_eq!(t.r(&["ZADD", "z", "GT", "CH", "3", "a"]), int(0));
    // XX with GT/LT is allowed.
    assert_eq!(
        t.r(&["ZADD", "z", "XX", "GT", "CH", "10", "a", "10", "zz"]),
        int(1)
    );
    assert_eq!(t.r(&["ZSCORE", "z", "zz"]), nil());
    // XX on a missing key creates nothing.
    assert_eq!(t.r(&["ZADD", "missing", "XX", "1", "a"]), int(0));
    assert_eq!(t.r(&["EXISTS", "missing"]), int(0));
    // Options are case-insensitive and may repeat.
    assert_eq!(t.r(&["ZADD", "z", "nx", "NX", "1", "q"]), int(1));
}

#[test]
fn zadd_incr() {
    let mut t = T::new();
    assert_eq!(t.r(&["ZADD", "z", "INCR", "1.5", "a"]), bulk("1.5"));
    assert_eq!(t.r(&["ZADD", "z", "INCR", "1.5", "a"]), bulk("3"));
    assert_eq!(t.r(&["ZADD", "z", "INCR", "CH", "-1", "a"]), bulk("2"));
    // Blocked by NX / XX / GT / LT: nil.
    assert_eq!(t.r(&["ZADD", "z", "NX", "INCR", "1", "a"]), nil());
    assert_eq!(t.r(&["ZADD", "z", "XX", "INCR", "1", "b"]), nil());
    assert_eq!(t.r(&["ZADD", "z", "GT", "INCR", "-1", "a"]), nil());
    assert_eq!(t.r(&["ZADD", "z", "LT", "INCR", "1", "a"]), nil());
    assert_eq!(t.r(&["ZADD", "z", "GT", "INCR", "1", "a"]), bulk("3"));
    assert_eq!(t.r(&["ZADD", "z", "GT", "INCR", "7", "new"]), bulk("7"));
    assert_eq!(t.r(&["ZADD", "nokey", "XX", "INCR", "1", "a"]), nil());
    assert_eq!(t.r(&["EXISTS", "nokey"]), int(0));
    // inf + -inf is NaN: refused, nothing changes.
    assert_eq!(t.r(&["ZADD", "z", "1", "i", "INCR", "inf", "i"]), syntax());
    t.r(&["ZADD", "z", "inf", "i"]);
    assert_eq!(
        t.r(&["ZADD", "z", "INCR", "-inf", "i"]),
        err("ERR resulting score is not a number (NaN)")
    );
    assert_eq!(t.r(&["ZSCORE", "z", "i"]), bulk("inf"));
    assert_eq!(
        t.r(&["ZADD", "z", "INCR", "1", "a", "2", "b"]),
        err("ERR INCR option supports a single increment-element pair")
    );
}

#[test]
fn zadd_errors() {
    let mut t = T::new();
    assert_eq!(t.r(&["ZADD", "z", "1"]), arity("zadd"));
    assert_eq!(t.r(&["ZADD", "z"]), arity("zadd"));
    assert_eq!(t.r(&["ZADD", "z", "NX", "1"]), syntax());
    assert_eq!(t.r(&["ZADD", "z", "1", "a", "2"]), syntax());
    assert_eq!(t.r(&["ZADD", "z", "NX", "XX"]), syntax());
    assert_eq!(
        t.r(&["ZADD", "z", "NX", "XX", "1", "a"]),
        err("ERR XX and NX options at the same time are not compatible")
    );
    let gtlt = err("ERR GT, LT, and/or NX options at the same time are not compatible");
    assert_eq!(t.r(&["ZADD", "z", "GT", "LT", "1", "a"]), gtlt);
    assert_eq!(t.r(&["ZADD", "z", "NX", "GT", "1", "a"]), gtlt);
    assert_eq!(t.r(&["ZADD", "z", "LT", "NX", "1", "a"]), gtlt);
    for bad in [
        "abc", "nan", "NaN", "", " 1", "1 ", "1e400", "-1e400", "1e-400", "1x",
    ] {
        assert_eq!(t.r(&["ZADD", "z", bad, "a"]), not_float(), "{bad:?}");
    }
    // A bad score anywhere means nothing is added.
    assert_eq!(t.r(&["ZADD", "z", "1", "a", "x", "b"]), not_float());
    assert_eq!(t.r(&["EXISTS", "z"]), int(0));
    // Errors about the arguments come before WRONGTYPE; WRONGTYPE before XX's no-op.
    t.r(&["SET", "str", "v"]);
    assert_eq!(t.r(&["ZADD", "str", "x", "a"]), not_float());
    assert_eq!(t.r(&["ZADD", "str", "1", "a"]), wrongtype());
    assert_eq!(t.r(&["ZADD", "str", "XX", "1", "a"]), wrongtype());
    assert_eq!(t.r(&["GET", "str"]), bulk("v"));
}

#[test]
fn negative_zero_keeps_its_sign_only_outside_a_listpack() {
    let mut t = T::new();
    // A new set starts as a listpack, which stores -0 as the integer 0.
    assert_eq!(t.r(&["ZADD", "z", "-0", "a"]), int(1));
    assert_eq!(t.r(&["ZSCORE", "z", "a"]), bulk("0"));
    // The reference backend reports an existing sorted set as "skiplist", where Redis
    // keeps -0 (the end-to-end tests run the real backends' listpacks).
    assert_eq!(t.r(&["ZADD", "z", "-0", "b"]), int(1));
    assert_eq!(t.r(&["ZSCORE", "z", "b"]), bulk("-0"));
    // -0 == 0: not an update. The INCR reply is the sum itself.
    assert_eq!(t.r(&["ZADD", "z", "CH", "0", "b"]), int(0));
    assert_eq!(t.r(&["ZINCRBY", "z", "-0.0", "b"]), bulk("-0"));
    assert_eq!(t.r(&["ZCOUNT", "z", "0", "0"]), int(2));
    assert_eq!(
        t.r(&["ZUNION", "1", "z", "WEIGHTS", "-1", "WITHSCORES"]),
        bulks(&["a", "-0", "b", "0"])
    );
    // A new set past zset-max-listpack-value starts as a skiplist.
    let long = "x".repeat(65);
    assert_eq!(t.r(&["ZADD", "long", "-0", &long, "-0", "s"]), int(2));
    assert_eq!(t.r(&["ZSCORE", "long", "s"]), bulk("-0"));
    // Stores: a result that fits a listpack folds every -0...
    assert_eq!(
        t.r(&["ZUNIONSTORE", "d", "1", "z", "WEIGHTS", "-1"]),
        int(2)
    );
    assert_eq!(t.r(&["ZMSCORE", "d", "a", "b"]), bulks(&["0", "0"]));
    assert_eq!(t.r(&["ZUNIONSTORE", "d", "1", "long"]), int(2));
    assert_eq!(t.r(&["ZMSCORE", "d", "s", &long]), bulks(&["-0", "-0"]));
    assert_eq!(
        t.r(&["CONFIG", "SET", "zset-max-listpack-entries", "1"]),
        Frame::ok()
    );
    assert_eq!(t.r(&["ZUNIONSTORE", "d", "1", "z"]), int(2));
    assert_eq!(t.r(&["ZMSCORE", "d", "a", "b"]), bulks(&["0", "-0"]));
    // ... ZRANGESTORE adds one by one: members before the conversion lose the sign.
    assert_eq!(t.r(&["ZADD", "n", "1", "o"]), int(1));
    assert_eq!(t.r(&["ZADD", "n", "-0", "p", "-0", "q"]), int(2));
    assert_eq!(t.r(&["ZRANGESTORE", "d", "n", "0", "1"]), int(2));
    assert_eq!(t.r(&["ZMSCORE", "d", "p", "q"]), bulks(&["0", "-0"]));
    t.resp3();
    assert_eq!(t.r(&["ZSCORE", "z", "b"]), Frame::Double(-0.0));
}

#[test]
fn zincrby() {
    let mut t = T::new();
    assert_eq!(t.r(&["ZINCRBY", "z", "2", "a"]), bulk("2"));
    assert_eq!(t.r(&["ZINCRBY", "z", "0.5", "a"]), bulk("2.5"));
    assert_eq!(t.r(&["ZINCRBY", "z", "-10", "a"]), bulk("-7.5"));
    assert_eq!(
        t.r(&["ZINCRBY", "z", "0.1", "b"]),
        bulk("0.10000000000000001")
    );
    assert_eq!(t.r(&["ZINCRBY", "z", "abc", "a"]), not_float());
    assert_eq!(t.r(&["ZINCRBY", "z", "1"]), arity("zincrby"));
    assert_eq!(t.r(&["ZINCRBY", "z", "1", "a", "b"]), arity("zincrby"));
    // The increment goes through ZADD's option parser, as in Redis.
    assert_eq!(t.r(&["ZINCRBY", "z", "nx", "a"]), syntax());
    t.r(&["ZADD", "z", "-inf", "m"]);
    assert_eq!(
        t.r(&["ZINCRBY", "z", "+inf", "m"]),
        err("ERR resulting score is not a number (NaN)")
    );
    assert_eq!(t.r(&["ZINCRBY", "z", "1", "m"]), bulk("-inf"));
    t.r(&["SET", "str", "v"]);
    assert_eq!(t.r(&["ZINCRBY", "str", "1", "a"]), wrongtype());
    t.resp3();
    assert_eq!(t.r(&["ZINCRBY", "z", "1", "a"]), Frame::Double(-6.5));
}

// ---------------------------------------------------------------------------------
// ZREM, ZCARD, ZSCORE, ZMSCORE, ZRANK, ZREVRANK.
// ---------------------------------------------------------------------------------

#[test]
fn zrem_and_zcard() {
    let mut t = abcde();
    assert_eq!(t.r(&["ZCARD", "z"]), int(5));
    assert_eq!(t.r(&["ZREM", "z", "a", "x", "a", "b"]), int(2));
    assert_eq!(t.r(&["ZCARD", "z"]), int(3));
    assert_eq!(t.r(&["ZREM", "missing", "a"]), int(0));
    assert_eq!(t.r(&["ZREM", "z", "c", "d", "e", "f"]), int(3));
    assert_eq!(t.r(&["EXISTS", "z"]), int(0));
    assert_eq!(t.r(&["ZCARD", "z"]), int(0));
    assert_eq!(t.r(&["ZREM", "z"]), arity("zrem"));
    assert_eq!(t.r(&["ZCARD"]), arity("zcard"));
    assert_eq!(t.r(&["ZCARD", "a", "b"]), arity("zcard"));
    t.r(&["SET", "str", "v"]);
    assert_eq!(t.r(&["ZREM", "str", "a"]), wrongtype());
    assert_eq!(t.r(&["ZCARD", "str"]), wrongtype());
}

#[test]
fn zscore_zmscore_zrank() {
    let mut t = abcde();
    assert_eq!(t.r(&["ZSCORE", "z", "c"]), bulk("3"));
    assert_eq!(t.r(&["ZSCORE", "z", "x"]), nil());
    assert_eq!(t.r(&["ZSCORE", "missing", "x"]), nil());
    assert_eq!(
        t.r(&["ZMSCORE", "z", "a", "x", "e"]),
        Frame::Array(vec![bulk("1"), nil(), bulk("5")])
    );
    assert_eq!(
        t.r(&["ZMSCORE", "missing", "a", "b"]),
        Frame::Array(vec![nil(), nil()])
    );
    assert_eq!(t.r(&["ZRANK", "z", "a"]), int(0));
    assert_eq!(t.r(&["ZRANK", "z", "e"]), int(4));
    assert_eq!(t.r(&["ZREVRANK", "z", "a"]), int(4));
    assert_eq!(t.r(&["ZREVRANK", "z", "e"]), int(0));
    assert_eq!(t.r(&["ZRANK", "z", "x"]), nil());
    assert_eq!(t.r(&["ZREVRANK", "missing", "x"]), nil());
    // Equal scores rank by member bytes.
    t.r(&["ZADD", "same", "1", "b", "1", "a", "1", "c"]);
    assert_eq!(t.r(&["ZRANK", "same", "a"]), int(0));
    assert_eq!(t.r(&["ZRANK", "same", "c"]), int(2));
    assert_eq!(t.r(&["ZSCORE", "z"]), arity("zscore"));
    assert_eq!(t.r(&["ZSCORE", "z", "a", "b"]), arity("zscore"));
    assert_eq!(t.r(&["ZMSCORE", "z"]), arity("zmscore"));
    assert_eq!(t.r(&["ZRANK", "z"]), arity("zrank"));
    assert_eq!(t.r(&["ZREVRANK", "z", "a", "b"]), arity("zrevrank"));
    t.r(&["SET", "str", "v"]);
    for cmd in ["ZSCORE", "ZMSCORE", "ZRANK", "ZREVRANK"] {
        assert_eq!(t.r(&[cmd, "str", "a"]), wrongtype(), "{cmd}");
    }
    t.resp3();
    assert_eq!(t.r(&["ZSCORE", "z", "c"]), Frame::Double(3.0));
    assert_eq!(
        t.r(&["ZMSCORE", "z", "a", "x"]),
        Frame::Array(vec![Frame::Double(1.0), nil()])
    );
}

// ---------------------------------------------------------------------------------
// ZCOUNT, ZLEXCOUNT.
// ---------------------------------------------------------------------------------

#[test]
fn zcount_ranges() {
    let mut t = abcde();
    assert_eq!(t.r(&["ZCOUNT", "z", "-inf", "+inf"]), int(5));
    assert_eq!(t.r(&["ZCOUNT", "z", "2", "4"]), int(3));
    assert_eq!(t.r(&["ZCOUNT", "z", "(2", "4"]), int(2));
    assert_eq!(t.r(&["ZCOUNT", "z", "(2", "(4"]), int(1));
    assert_eq!(t.r(&["ZCOUNT", "z", "4", "2"]), int(0));
    assert_eq!(t.r(&["ZCOUNT", "z", "(3", "(3"]), int(0));
    assert_eq!(t.r(&["ZCOUNT", "z", "3", "3"]), int(1));
    assert_eq!(t.r(&["ZCOUNT", "z", "1.5", "inf"]), int(4));
    assert_eq!(t.r(&["ZCOUNT", "z", "-INF", "(-inf"]), int(0));
    // strtod's leniency in ranges: the empty string and "(" are 0, leading space is fine.
    assert_eq!(t.r(&["ZCOUNT", "z", "", " 2"]), int(2));
    assert_eq!(t.r(&["ZCOUNT", "z", "(", "1"]), int(1));
    assert_eq!(t.r(&["ZCOUNT", "missing", "0", "1"]), int(0));
    for (min, max) in [
        ("a", "1"),
        ("1", "b"),
        ("nan", "1"),
        ("1", "(nan"),
        ("[1", "2"),
        ("1 ", "2"),
    ] {
        assert_eq!(
            t.r(&["ZCOUNT", "z", min, max]),
            not_float_range(),
            "{min} {max}"
        );
    }
    assert_eq!(t.r(&["ZCOUNT", "z", "0"]), arity("zcount"));
    t.r(&["SET", "str", "v"]);
    assert_eq!(t.r(&["ZCOUNT", "str", "x", "1"]), not_float_range());
    assert_eq!(t.r(&["ZCOUNT", "str", "0", "1"]), wrongtype());
}

#[test]
fn zlexcount_ranges() {
    let mut t = T::new();
    t.r(&[
        "ZADD", "z", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e",
    ]);
    assert_eq!(t.r(&["ZLEXCOUNT", "z", "-", "+"]), int(5));
    assert_eq!(t.r(&["ZLEXCOUNT", "z", "[b", "[d"]), int(3));
    assert_eq!(t.r(&["ZLEXCOUNT", "z", "(b", "[d"]), int(2));
    assert_eq!(t.r(&["ZLEXCOUNT", "z", "(b", "(d"]), int(1));
    assert_eq!(t.r(&["ZLEXCOUNT", "z", "[d", "[b"]), int(0));
    assert_eq!(t.r(&["ZLEXCOUNT", "z", "+", "-"]), int(0));
    assert_eq!(t.r(&["ZLEXCOUNT", "z", "[", "(c"]), int(2));
    assert_eq!(t.r(&["ZLEXCOUNT", "z", "[bb", "+"]), int(3));
    assert_eq!(t.r(&["ZLEXCOUNT", "missing", "-", "+"]), int(0));
    for (min, max) in [
        ("a", "+"),
        ("-", "e"),
        ("", "+"),
        ("--", "+"),
        ("-", "+x"),
        ("0", "1"),
    ] {
        assert_eq!(
            t.r(&["ZLEXCOUNT", "z", min, max]),
            not_lex_range(),
            "{min} {max}"
        );
    }
    assert_eq!(t.r(&["ZLEXCOUNT", "z", "-"]), arity("zlexcount"));
    t.r(&["SET", "str", "v"]);
    assert_eq!(t.r(&["ZLEXCOUNT", "str", "x", "+"]), not_lex_range());
    assert_eq!(t.r(&["ZLEXCOUNT", "str", "-", "+"]), wrongtype());
}

// ---------------------------------------------------------------------------------
// The range family.
// ---------------------------------------------------------------------------------

#[test]
fn zrange_by_rank() {
    let mut t = abcde();
    assert_eq!(
        t.r(&["ZRANGE", "z", "0", "-1"]),
        bulks(&["a", "b", "c", "d", "e"])
    );
    assert_eq!(t.r(&["ZRANGE", "z", "1", "2"]), bulks(&["b", "c"]));
    assert_eq!(t.r(&["ZRANGE", "z", "-2", "-1"]), bulks(&["d", "e"]));
    assert_eq!(t.r(&["ZRANGE", "z", "-100", "0"]), bulks(&["a"]));
    assert_eq!(t.r(&["ZRANGE", "z", "3", "100"]), bulks(&["d", "e"]));
    assert_eq!(t.r(&["ZRANGE", "z", "3", "1"]), empty());
    assert_eq!(t.r(&["ZRANGE", "z", "5", "10"]), empty());
    assert_eq!(t.r(&["ZRANGE", "z", "0", "-6"]), empty());
    assert_eq!(t.r(&["ZRANGE", "z", "0", "1", "REV"]), bulks(&["e", "d"]));
    assert_eq!(
        t.r(&["ZRANGE", "z", "0", "1", "WITHSCORES"]),
        bulks(&["a", "1", "b", "2"])
    );
    assert_eq!(
        t.r(&["ZRANGE", "z", "0", "1", "withscores", "WITHSCORES", "rev"]),
        bulks(&["e", "5", "d", "4"])
    );
    assert_eq!(
        t.r(&["ZREVRANGE", "z", "0", "-1"]),
        bulks(&["e", "d", "c", "b", "a"])
    );
    assert_eq!(
        t.r(&["ZREVRANGE", "z", "-2", "-1", "WITHSCORES"]),
        bulks(&["b", "2", "a", "1"])
    );
    assert_eq!(t.r(&["ZRANGE", "missing", "0", "-1"]), empty());
    assert_eq!(t.r(&["ZRANGE", "z", "a", "1"]), not_integer());
    assert_eq!(t.r(&["ZRANGE", "z", "0", "1.5"]), not_integer());
    assert_eq!(t.r(&["ZRANGE", "z", "0"]), arity("zrange"));
    assert_eq!(t.r(&["ZREVRANGE", "z", "0"]), arity("zrevrange"));
    assert_eq!(t.r(&["ZRANGE", "z", "0", "1", "foo"]), syntax());
    assert_eq!(t.r(&["ZREVRANGE", "z", "0", "1", "REV"]), syntax());
    assert_eq!(t.r(&["ZREVRANGE", "z", "0", "1", "BYSCORE"]), syntax());
    t.resp3();
    assert_eq!(
        t.r(&["ZRANGE", "z", "0", "1", "WITHSCORES"]),
        Frame::Array(vec![pair("a", 1.0), pair("b", 2.0)])
    );
    assert_eq!(t.r(&["ZRANGE", "z", "0", "1"]), bulks(&["a", "b"]));
}

#[test]
fn zrange_byscore_and_bylex() {
    let mut t = abcde();
    assert_eq!(
        t.r(&["ZRANGE", "z", "2", "4", "BYSCORE"]),
        bulks(&["b", "c", "d"])
    );
    assert_eq!(
        t.r(&["ZRANGE", "z", "(2", "+inf", "BYSCORE"]),
        bulks(&["c", "d", "e"])
    );
    // REV takes the range as max min.
    assert_eq!(
        t.r(&["ZRANGE", "z", "4", "(1", "BYSCORE", "REV"]),
        bulks(&["d", "c", "b"])
    );
    assert_eq!(t.r(&["ZRANGE", "z", "(1", "4", "BYSCORE", "REV"]), empty());
    assert_eq!(
        t.r(&[
            "ZRANGE",
            "z",
            "-inf",
            "inf",
            "BYSCORE",
            "LIMIT",
            "1",
            "2",
            "WITHSCORES"
        ]),
        bulks(&["b", "2", "c", "3"])
    );
    assert_eq!(
        t.r(&[
            "ZRANGE",
            "z",
            "+inf",
            "-inf",
            "BYSCORE",
            "REV",
            "LIMIT",
            "1",
            "1",
            "WITHSCORES"
        ]),
        bulks(&["d", "4"])
    );
    t.r(&["ZADD", "lex", "0", "a", "0", "b", "0", "c", "0", "d"]);
    assert_eq!(
        t.r(&["ZRANGE", "lex", "[b", "+", "BYLEX"]),
        bulks(&["b", "c", "d"])
    );
    assert_eq!(
        t.r(&["ZRANGE", "lex", "+", "(b", "BYLEX", "REV"]),
        bulks(&["d", "c"])
    );
    assert_eq!(
        t.r(&["ZRANGE", "lex", "-", "+", "BYLEX", "LIMIT", "1", "2"]),
        bulks(&["b", "c"])
    );
    // Errors, in Redis' order: options, conflicts, then the range, then the key.
    assert_eq!(
        t.r(&["ZRANGE", "z", "0", "-1", "LIMIT", "0", "1"]),
        err(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
        )
    );
    assert_eq!(
        t.r(&["ZRANGE", "z", "-", "+", "BYLEX", "WITHSCORES"]),
        err("ERR syntax error, WITHSCORES not supported in combination with BYLEX")
    );
    assert_eq!(
        t.r(&["ZRANGE", "z", "a", "b", "BYSCORE"]),
        not_float_range()
    );
    assert_eq!(t.r(&["ZRANGE", "z", "a", "b", "BYLEX"]), not_lex_range());
    assert_eq!(
        t.r(&["ZRANGE", "z", "0", "1", "BYSCORE", "BYLEX"]),
        syntax()
    );
    assert_eq!(
        t.r(&["ZRANGE", "z", "0", "1", "BYSCORE", "BYSCORE"]),
        syntax()
    );
    assert_eq!(t.r(&["ZRANGE", "z", "0", "1", "REV", "REV"]), syntax());
    assert_eq!(
        t.r(&["ZRANGE", "z", "0", "1", "BYSCORE", "LIMIT", "0"]),
        syntax()
    );
    assert_eq!(
        t.r(&["ZRANGE", "z", "0", "1", "BYSCORE", "LIMIT", "x", "1"]),
        not_integer()
    );
    assert_eq!(
        t.r(&["ZRANGE", "z", "0", "1", "BYSCORE", "LIMIT", "0", "x"]),
        not_integer()
    );
    t.r(&["SET", "str", "v"]);
    assert_eq!(t.r(&["ZRANGE", "str", "0", "-1"]), wrongtype());
    assert_eq!(t.r(&["ZRANGE", "str", "a", "b"]), not_integer());
    assert_eq!(t.r(&["ZRANGE", "str", "0", "1", "BYLEX"]), not_lex_range());
    assert_eq!(t.r(&["ZRANGE", "str", "[a", "[b", "BYLEX"]), wrongtype());
}

#[test]
fn zrangebyscore_and_limit_edges() {
    let mut t = abcde();
    assert_eq!(
        t.r(&["ZRANGEBYSCORE", "z", "-inf", "+inf"]),
        bulks(&["a", "b", "c", "d", "e"])
    );
    assert_eq!(
        t.r(&["ZRANGEBYSCORE", "z", "(1", "3", "WITHSCORES"]),
        bulks(&["b", "2", "c", "3"])
    );
    assert_eq!(
        t.r(&["ZREVRANGEBYSCORE", "z", "3", "(1"]),
        bulks(&["c", "b"])
    );
    assert_eq!(t.r(&["ZREVRANGEBYSCORE", "z", "(1", "3"]), empty());
    let all = ["ZRANGEBYSCORE", "z", "-inf", "inf", "LIMIT"];
    let limit = |t: &mut T, o: &str, c: &str| t.r(&[all[0], all[1], all[2], all[3], all[4], o, c]);
    assert_eq!(limit(&mut t, "1", "2"), bulks(&["b", "c"]));
    assert_eq!(limit(&mut t, "1", "-1"), bulks(&["b", "c", "d", "e"]));
    assert_eq!(limit(&mut t, "1", "-5"), bulks(&["b", "c", "d", "e"]));
    assert_eq!(limit(&mut t, "1", "0"), empty());
    assert_eq!(limit(&mut t, "10", "1"), empty());
    // A negative offset skips everything (Redis' `while (ln && offset--)`).
    assert_eq!(limit(&mut t, "-1", "2"), empty());
    assert_eq!(
        t.r(&[
            "ZREVRANGEBYSCORE",
            "z",
            "+inf",
            "-inf",
            "WITHSCORES",
            "LIMIT",
            "0",
            "2"
        ]),
        bulks(&["e", "5", "d", "4"])
    );
    assert_eq!(t.r(&["ZRANGEBYSCORE", "z", "0", "1", "BYSCORE"]), syntax());
    assert_eq!(t.r(&["ZRANGEBYSCORE", "z", "0", "1", "REV"]), syntax());
    assert_eq!(
        t.r(&["ZRANGEBYSCORE", "z", "0", "1", "LIMIT", "1"]),
        syntax()
    );
    assert_eq!(t.r(&["ZRANGEBYSCORE", "z", "x", "1"]), not_float_range());
    assert_eq!(t.r(&["ZRANGEBYSCORE", "z", "0"]), arity("zrangebyscore"));
    assert_eq!(
        t.r(&["ZREVRANGEBYSCORE", "z", "0"]),
        arity("zrevrangebyscore")
    );
    assert_eq!(t.r(&["ZRANGEBYSCORE", "missing", "0", "1"]), empty());
    t.resp3();
    assert_eq!(
        t.r(&["ZRANGEBYSCORE", "z", "4", "5", "WITHSCORES"]),
        Frame::Array(vec![pair("d", 4.0), pair("e", 5.0)])
    );
}

#[test]
fn zrangebylex_family() {
    let mut t = T::new();
    t.r(&[
        "ZADD", "z", "0", "alpha", "0", "bar", "0", "cool", "0", "down", "0", "elephant",
    ]);
    assert_eq!(
        t.r(&["ZRANGEBYLEX", "z", "-", "+"]),
        bulks(&["alpha", "bar", "cool", "down", "elephant"])
    );
    assert_eq!(
        t.r(&["ZRANGEBYLEX", "z", "[bar", "(down"]),
        bulks(&["bar", "cool"])
    );
    assert_eq!(t.r(&["ZRANGEBYLEX", "z", "(b", "[c"]), bulks(&["bar"]));
    assert_eq!(
        t.r(&["ZREVRANGEBYLEX", "z", "+", "[c"]),
        bulks(&["elephant", "down", "cool"])
    );
    assert_eq!(t.r(&["ZREVRANGEBYLEX", "z", "-", "+"]), empty());
    assert_eq!(
        t.r(&["ZREVRANGEBYLEX", "z", "+", "-", "LIMIT", "1", "2"]),
        bulks(&["down", "cool"])
    );
    assert_eq!(
        t.r(&["ZRANGEBYLEX", "z", "-", "+", "LIMIT", "-1", "2"]),
        empty()
    );
    assert_eq!(
        t.r(&["ZRANGEBYLEX", "z", "-", "+", "LIMIT", "3", "-1"]),
        bulks(&["down", "elephant"])
    );
    assert_eq!(
        t.r(&["ZRANGEBYLEX", "z", "-", "+", "WITHSCORES"]),
        err("ERR syntax error, WITHSCORES not supported in combination with BYLEX")
    );
    assert_eq!(t.r(&["ZRANGEBYLEX", "z", "-", "+", "BYLEX"]), syntax());
    assert_eq!(t.r(&["ZRANGEBYLEX", "z", "a", "+"]), not_lex_range());
    assert_eq!(t.r(&["ZREVRANGEBYLEX", "z", "+", "b"]), not_lex_range());
    assert_eq!(t.r(&["ZRANGEBYLEX", "z", "-"]), arity("zrangebylex"));
    assert_eq!(t.r(&["ZRANGEBYLEX", "missing", "-", "+"]), empty());
    // Binary members compare as bytes.
    let argv: Vec<Bytes> = ["ZADD", "bin", "0", "\u{1}", "0", "\u{7f}", "0", "A"]
        .iter()
        .map(|s| Bytes::copy_from_slice(s.as_bytes()))
        .collect();
    assert_eq!(t.e.execute(&mut t.s, &argv), int(3));
    assert_eq!(
        t.r(&["ZRANGEBYLEX", "bin", "(\u{1}", "+"]),
        bulks(&["A", "\u{7f}"])
    );
}

#[test]
fn zrangestore() {
    let mut t = abcde();
    assert_eq!(t.r(&["ZRANGESTORE", "dst", "z", "0", "-1", "REV"]), int(5));
    assert_eq!(
        t.r(&["ZRANGE", "dst", "0", "-1", "WITHSCORES"]),
        bulks(&["a", "1", "b", "2", "c", "3", "d", "4", "e", "5"])
    );
    assert_eq!(
        t.r(&["ZRANGESTORE", "dst", "z", "(1", "3", "BYSCORE"]),
        int(2)
    );
    assert_eq!(t.members("dst"), ["b", "c"]);
    assert_eq!(
        t.r(&[
            "ZRANGESTORE",
            "dst",
            "z",
            "+inf",
            "-inf",
            "BYSCORE",
            "REV",
            "LIMIT",
            "0",
            "2"
        ]),
        int(2)
    );
    assert_eq!(t.members("dst"), ["d", "e"]);
    assert_eq!(
        t.r(&["ZRANGESTORE", "dst", "z", "[a", "[b", "BYLEX"]),
        int(2)
    );
    // An empty result deletes the destination; so does a missing source.
    assert_eq!(t.r(&["ZRANGESTORE", "dst", "z", "10", "20"]), int(0));
    assert_eq!(t.r(&["EXISTS", "dst"]), int(0));
    t.r(&["SET", "dst", "v"]);
    assert_eq!(t.r(&["ZRANGESTORE", "dst", "missing", "0", "-1"]), int(0));
    assert_eq!(t.r(&["EXISTS", "dst"]), int(0));
    // Any type at the destination is replaced, and its TTL dropped.
    t.r(&["SET", "dst", "v", "EX", "100"]);
    assert_eq!(t.r(&["ZRANGESTORE", "dst", "z", "0", "0"]), int(1));
    assert_eq!(t.r(&["TYPE", "dst"]), Frame::simple("zset"));
    assert_eq!(t.r(&["TTL", "dst"]), int(-1));
    // The source may be the destination.
    assert_eq!(t.r(&["ZRANGESTORE", "z", "z", "1", "2"]), int(2));
    assert_eq!(t.members("z"), ["b", "c"]);
    assert_eq!(
        t.r(&["ZRANGESTORE", "dst", "z", "0", "-1", "WITHSCORES"]),
        syntax()
    );
    assert_eq!(t.r(&["ZRANGESTORE", "dst", "z", "0"]), arity("zrangestore"));
    t.r(&["SET", "str", "v"]);
    assert_eq!(t.r(&["ZRANGESTORE", "dst", "str", "0", "-1"]), wrongtype());
    assert_eq!(t.r(&["TYPE", "dst"]), Frame::simple("zset"));
    assert_eq!(t.r(&["ZRANGESTORE", "str", "z", "0", "-1"]), int(2));
    assert_eq!(t.r(&["TYPE", "str"]), Frame::simple("zset"));
}

#[test]
fn zremrange_family() {
    let mut t = abcde();
    assert_eq!(t.r(&["ZREMRANGEBYRANK", "z", "1", "2"]), int(2));
    assert_eq!(t.members("z"), ["a", "d", "e"]);
    assert_eq!(t.r(&["ZREMRANGEBYRANK", "z", "-1", "-1"]), int(1));
    assert_eq!(t.r(&["ZREMRANGEBYRANK", "z", "5", "10"]), int(0));
    assert_eq!(t.r(&["ZREMRANGEBYRANK", "z", "1", "0"]), int(0));
    assert_eq!(t.r(&["ZREMRANGEBYRANK", "z", "0", "-1"]), int(2));
    assert_eq!(t.r(&["EXISTS", "z"]), int(0));
    let mut t = abcde();
    assert_eq!(t.r(&["ZREMRANGEBYSCORE", "z", "(1", "3"]), int(2));
    assert_eq!(t.members("z"), ["a", "d", "e"]);
    assert_eq!(t.r(&["ZREMRANGEBYSCORE", "z", "10", "20"]), int(0));
    assert_eq!(t.r(&["ZREMRANGEBYSCORE", "z", "-inf", "+inf"]), int(3));
    assert_eq!(t.r(&["EXISTS", "z"]), int(0));
    let mut t = T::new();
    t.r(&["ZADD", "z", "0", "a", "0", "b", "0", "c", "0", "d"]);
    assert_eq!(t.r(&["ZREMRANGEBYLEX", "z", "(a", "[c"]), int(2));
    assert_eq!(t.members("z"), ["a", "d"]);
    assert_eq!(t.r(&["ZREMRANGEBYLEX", "z", "-", "+"]), int(2));
    assert_eq!(t.r(&["EXISTS", "z"]), int(0));
    // Missing keys, errors (range parsing first, then the key).
    for cmd in ["ZREMRANGEBYRANK", "ZREMRANGEBYSCORE"] {
        assert_eq!(t.r(&[cmd, "missing", "0", "1"]), int(0));
    }
    assert_eq!(t.r(&["ZREMRANGEBYLEX", "missing", "-", "+"]), int(0));
    t.r(&["SET", "str", "v"]);
    assert_eq!(t.r(&["ZREMRANGEBYRANK", "str", "a", "1"]), not_integer());
    assert_eq!(
        t.r(&["ZREMRANGEBYSCORE", "str", "a", "1"]),
        not_float_range()
    );
    assert_eq!(t.r(&["ZREMRANGEBYLEX", "str", "a", "+"]), not_lex_range());
    assert_eq!(t.r(&["ZREMRANGEBYRANK", "str", "0", "1"]), wrongtype());
    assert_eq!(t.r(&["ZREMRANGEBYSCORE", "str", "0", "1"]), wrongtype());
    assert_eq!(t.r(&["ZREMRANGEBYLEX", "str", "-", "+"]), wrongtype());
    assert_eq!(
        t.r(&["ZREMRANGEBYRANK", "z", "0"]),
        arity("zremrangebyrank")
    );
    assert_eq!(
        t.r(&["ZREMRANGEBYSCORE", "z", "0", "1", "2"]),
        arity("zremrangebyscore")
    );
    assert_eq!(t.r(&["ZREMRANGEBYLEX", "z"]), arity("zremrangebylex"));
}

// ---------------------------------------------------------------------------------
// ZPOPMIN, ZPOPMAX, ZMPOP.
// ---------------------------------------------------------------------------------

#[test]
fn zpopmin_zpopmax() {
    let mut t = abcde();
    assert_eq!(t.r(&["ZPOPMIN", "z"]), bulks(&["a", "1"]));
    assert_eq!(t.r(&["ZPOPMAX", "z"]), bulks(&["e", "5"]));
    assert_eq!(t.r(&["ZPOPMIN", "z", "2"]), bulks(&["b", "2", "c", "3"]));
    assert_eq!(t.r(&["ZPOPMIN", "z", "0"]), empty());
    assert_eq!(t.r(&["ZPOPMAX", "z", "10"]), bulks(&["d", "4"]));
    assert_eq!(t.r(&["EXISTS", "z"]), int(0));
    assert_eq!(t.r(&["ZPOPMIN", "z"]), empty());
    assert_eq!(t.r(&["ZPOPMAX", "z", "3"]), empty());
    let positive = err("ERR value is out of range, must be positive");
    assert_eq!(t.r(&["ZPOPMIN", "z", "-1"]), positive);
    assert_eq!(t.r(&["ZPOPMIN", "z", "abc"]), positive);
    assert_eq!(t.r(&["ZPOPMAX", "z", "-0"]), positive);
    assert_eq!(t.r(&["ZPOPMIN", "z", "1", "2"]), syntax());
    assert_eq!(t.r(&["ZPOPMIN"]), arity("zpopmin"));
    t.r(&["SET", "str", "v"]);
    assert_eq!(t.r(&["ZPOPMIN", "str"]), wrongtype());
    assert_eq!(t.r(&["ZPOPMAX", "str", "0"]), wrongtype());
    // RESP3: flat without COUNT, nested pairs with it.
    t.resp3();
    t.r(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
    assert_eq!(
        t.r(&["ZPOPMIN", "z"]),
        Frame::Array(vec![bulk("a"), Frame::Double(1.0)])
    );
    assert_eq!(
        t.r(&["ZPOPMAX", "z", "1"]),
        Frame::Array(vec![pair("c", 3.0)])
    );
    assert_eq!(t.r(&["ZPOPMAX", "z", "0"]), empty());
}

#[test]
fn zmpop() {
    let mut t = T::new();
    t.r(&["ZADD", "z1", "1", "a", "2", "b", "3", "c"]);
    t.r(&["ZADD", "z2", "10", "x"]);
    let one =
        |k: &str, m: &str, s: &str| Frame::Array(vec![bulk(k), Frame::Array(vec![bulks(&[m, s])])]);
    assert_eq!(
        t.r(&["ZMPOP", "2", "missing", "z1", "MIN"]),
        one("z1", "a", "1")
    );
    assert_eq!(t.r(&["ZMPOP", "1", "z1", "max"]), one("z1", "c", "3"));
    assert_eq!(
        t.r(&["ZMPOP", "2", "z1", "z2", "MIN", "COUNT", "10"]),
        Frame::Array(vec![bulk("z1"), Frame::Array(vec![bulks(&["b", "2"])])])
    );
    assert_eq!(t.r(&["EXISTS", "z1"]), int(0));
    assert_eq!(
        t.r(&["ZMPOP", "2", "z1", "z2", "MAX"]),
        one("z2", "x", "10")
    );
    assert_eq!(t.r(&["ZMPOP", "2", "z1", "z2", "MAX"]), Frame::NullArray);
    let numkeys = err("ERR numkeys should be greater than 0");
    assert_eq!(t.r(&["ZMPOP", "0", "z1", "MIN"]), numkeys);
    assert_eq!(t.r(&["ZMPOP", "-1", "z1", "MIN"]), numkeys);
    assert_eq!(t.r(&["ZMPOP", "abc", "z1", "MIN"]), numkeys);
    assert_eq!(t.r(&["ZMPOP", "2", "z1", "MIN"]), syntax());
    assert_eq!(t.r(&["ZMPOP", "1", "z1", "MID"]), syntax());
    assert_eq!(t.r(&["ZMPOP", "1", "z1", "MIN", "COUNT"]), syntax());
    assert_eq!(
        t.r(&["ZMPOP", "1", "z1", "MIN", "COUNT", "1", "COUNT", "1"]),
        syntax()
    );
    assert_eq!(t.r(&["ZMPOP", "1", "z1", "MIN", "FOO", "1"]), syntax());
    let count = err("ERR count should be greater than 0");
    assert_eq!(t.r(&["ZMPOP", "1", "z1", "MIN", "COUNT", "0"]), count);
    assert_eq!(t.r(&["ZMPOP", "1", "z1", "MIN", "COUNT", "x"]), count);
    assert_eq!(t.r(&["ZMPOP", "1", "z1"]), arity("zmpop"));
    // The first existing key decides: WRONGTYPE there, keys after it untouched.
    t.r(&["SET", "str", "v"]);
    t.r(&["ZADD", "z3", "1", "m"]);
    assert_eq!(
        t.r(&["ZMPOP", "3", "missing", "str", "z3", "MIN"]),
        wrongtype()
    );
    assert_eq!(
        t.r(&["ZMPOP", "2", "z3", "str", "MIN"]),
        one("z3", "m", "1")
    );
    t.resp3();
    t.r(&["ZADD", "z4", "1", "a", "2", "b"]);
    assert_eq!(
        t.r(&["ZMPOP", "1", "z4", "MIN", "COUNT", "2"]),
        Frame::Array(vec![
            bulk("z4"),
            Frame::Array(vec![pair("a", 1.0), pair("b", 2.0)])
        ])
    );
    assert_eq!(t.r(&["ZMPOP", "1", "z4", "MIN"]), Frame::NullArray);
}

// ---------------------------------------------------------------------------------
// ZRANDMEMBER.
// ---------------------------------------------------------------------------------

#[test]
fn zrandmember() {
    let mut t = abcde();
    let all = ["a", "b", "c", "d", "e"];
    for _ in 0..20 {
        let picked = t.r(&["ZRANDMEMBER", "z"]);
        let Frame::Bulk(m) = picked else {
            panic!("expected a bulk");
        };
        assert!(all.contains(&std::str::from_utf8(&m).unwrap()));
    }
    assert_eq!(t.r(&["ZRANDMEMBER", "missing"]), nil());
    assert_eq!(t.r(&["ZRANDMEMBER", "missing", "3"]), empty());
    assert_eq!(t.r(&["ZRANDMEMBER", "z", "0"]), empty());
    // A count covering the set returns all of it, highest score first.
    assert_eq!(
        t.r(&["ZRANDMEMBER", "z", "5"]),
        bulks(&["e", "d", "c", "b", "a"])
    );
    assert_eq!(
        t.r(&["ZRANDMEMBER", "z", "100", "WITHSCORES"]),
        bulks(&["e", "5", "d", "4", "c", "3", "b", "2", "a", "1"])
    );
    // Positive counts: distinct members (both strategies: 3 and 1 of 5).
    for count in ["3", "1", "4"] {
        for _ in 0..20 {
            let mut got = texts(&t.r(&["ZRANDMEMBER", "z", count]));
            assert_eq!(got.len(), count.parse::<usize>().unwrap());
            got.sort();
            got.dedup();
            assert_eq!(got.len(), count.parse::<usize>().unwrap());
            assert!(got.iter().all(|m| all.contains(&m.as_str())));
        }
    }
    // Negative counts: repetitions allowed, exactly |count| picks.
    let got = texts(&t.r(&["ZRANDMEMBER", "z", "-50"]));
    assert_eq!(got.len(), 50);
    assert!(got.iter().all(|m| all.contains(&m.as_str())));
    let got = texts(&t.r(&["ZRANDMEMBER", "z", "-3", "WITHSCORES"]));
    assert_eq!(got.len(), 6);
    for pair in got.chunks(2) {
        let expected = (pair[0].as_bytes()[0] - b'a' + 1).to_string();
        assert_eq!(pair[1], expected);
    }
    // A big set and a small count (the one-by-one strategy) and many repetitions.
    for i in 0..200 {
        t.r(&["ZADD", "big", &i.to_string(), &format!("m{i}")]);
    }
    let mut got = texts(&t.r(&["ZRANDMEMBER", "big", "10"]));
    got.sort();
    got.dedup();
    assert_eq!(got.len(), 10);
    assert_eq!(texts(&t.r(&["ZRANDMEMBER", "big", "-10"])).len(), 10);
    // Errors.
    assert_eq!(t.r(&["ZRANDMEMBER", "z", "abc"]), not_integer());
    assert_eq!(
        t.r(&["ZRANDMEMBER", "z", "-9223372036854775808"]),
        err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
    );
    assert_eq!(
        t.r(&["ZRANDMEMBER", "z", "-4611686018427387905", "WITHSCORES"]),
        err("ERR value is out of range")
    );
    assert_eq!(
        t.r(&["ZRANDMEMBER", "z", "4611686018427387904", "WITHSCORES"]),
        err("ERR value is out of range")
    );
    assert_eq!(t.r(&["ZRANDMEMBER", "z", "1", "foo"]), syntax());
    assert_eq!(t.r(&["ZRANDMEMBER", "z", "1", "WITHSCORES", "x"]), syntax());
    assert_eq!(t.r(&["ZRANDMEMBER", "missing", "1", "foo"]), syntax());
    assert_eq!(t.r(&["ZRANDMEMBER"]), arity("zrandmember"));
    t.r(&["SET", "str", "v"]);
    assert_eq!(t.r(&["ZRANDMEMBER", "str"]), wrongtype());
    assert_eq!(t.r(&["ZRANDMEMBER", "str", "0"]), wrongtype());
    assert_eq!(t.r(&["ZRANDMEMBER", "str", "-2"]), wrongtype());
    // RESP3: `[member, score]` pairs.
    t.resp3();
    let picks = t.r(&["ZRANDMEMBER", "z", "-3", "WITHSCORES"]);
    let Frame::Array(items) = &picks else {
        panic!("expected an array, got {picks:?}");
    };
    assert_eq!(items.len(), 3);
    for item in items {
        let Frame::Array(pair) = item else {
            panic!("expected a pair, got {item:?}");
        };
        let (Frame::Bulk(m), Frame::Double(s)) = (&pair[0], &pair[1]) else {
            panic!("expected a member and a double, got {pair:?}");
        };
        assert_eq!(f64::from(m[0] - b'a' + 1), *s);
    }
    assert_eq!(
        t.r(&["ZRANDMEMBER", "z", "5", "WITHSCORES"]),
        Frame::Array(vec![
            pair("e", 5.0),
            pair("d", 4.0),
            pair("c", 3.0),
            pair("b", 2.0),
            pair("a", 1.0)
        ])
    );
    assert_eq!(texts(&t.r(&["ZRANDMEMBER", "z", "2"])).len(), 2);
}

// ---------------------------------------------------------------------------------
// The algebra.
// ---------------------------------------------------------------------------------

/// z1 = a:1 b:2 c:3, z2 = b:10 c:20 d:30, s = {a, c, x} (a plain set).
fn algebra() -> T {
    let mut t = T::new();
    t.r(&["ZADD", "z1", "1", "a", "2", "b", "3", "c"]);
    t.r(&["ZADD", "z2", "10", "b", "20", "c", "30", "d"]);
    assert_eq!(t.r(&["SADD", "s", "a", "c", "x"]), int(3));
    t
}

#[test]
fn zunion_zinter_zdiff() {
    let mut t = algebra();
    assert_eq!(
        t.r(&["ZUNION", "2", "z1", "z2"]),
        bulks(&["a", "b", "c", "d"])
    );
    assert_eq!(
        t.r(&["ZUNION", "2", "z1", "z2", "WITHSCORES"]),
        bulks(&["a", "1", "b", "12", "d", "30", "c", "23"]).sorted_by_score()
    );
    assert_eq!(
        t.r(&[
            "ZUNION",
            "2",
            "z1",
            "z2",
            "WEIGHTS",
            "2",
            "0.5",
            "WITHSCORES"
        ]),
        bulks(&["a", "2", "b", "9", "c", "16", "d", "15"]).sorted_by_score()
    );
    assert_eq!(
        t.r(&["ZUNION", "2", "z1", "z2", "AGGREGATE", "MIN", "WITHSCORES"]),
        bulks(&["a", "1", "b", "2", "c", "3", "d", "30"])
    );
    assert_eq!(
        t.r(&["ZUNION", "2", "z1", "z2", "aggregate", "max", "WITHSCORES"]),
        bulks(&["a", "1", "b", "10", "c", "20", "d", "30"])
    );
    assert_eq!(
        t.r(&["ZINTER", "2", "z1", "z2", "WITHSCORES"]),
        bulks(&["b", "12", "c", "23"])
    );
    assert_eq!(
        t.r(&[
            "ZINTER",
            "2",
            "z1",
            "z2",
            "WEIGHTS",
            "1",
            "-1",
            "AGGREGATE",
            "SUM",
            "WITHSCORES"
        ]),
        bulks(&["c", "-17", "b", "-8"])
    );
    assert_eq!(t.r(&["ZINTER", "2", "z1", "missing"]), empty());
    assert_eq!(
        t.r(&["ZDIFF", "2", "z1", "z2", "WITHSCORES"]),
        bulks(&["a", "1"])
    );
    assert_eq!(
        t.r(&["ZDIFF", "3", "z2", "z1", "missing", "WITHSCORES"]),
        bulks(&["d", "30"])
    );
    assert_eq!(t.r(&["ZDIFF", "2", "z1", "z1"]), empty());
    assert_eq!(t.r(&["ZDIFF", "1", "missing"]), empty());
    // Plain sets count every member with score 1.
    assert_eq!(
        t.r(&["ZUNION", "2", "z1", "s", "WITHSCORES"]),
        bulks(&["x", "1", "a", "2", "b", "2", "c", "4"])
    );
    assert_eq!(
        t.r(&["ZINTER", "2", "s", "z2", "WITHSCORES"]),
        bulks(&["c", "21"])
    );
    assert_eq!(
        t.r(&["ZDIFF", "2", "s", "z1", "WITHSCORES"]),
        bulks(&["x", "1"])
    );
    assert_eq!(t.r(&["ZDIFF", "2", "z1", "s"]), bulks(&["b"]));
    // The same key several times.
    assert_eq!(
        t.r(&["ZUNION", "3", "z1", "z1", "z1", "WITHSCORES"]),
        bulks(&["a", "3", "b", "6", "c", "9"])
    );
    assert_eq!(
        t.r(&["ZINTER", "2", "z1", "z1", "WEIGHTS", "1", "2", "WITHSCORES"]),
        bulks(&["a", "3", "b", "6", "c", "9"])
    );
    t.resp3();
    assert_eq!(
        t.r(&["ZINTER", "2", "z1", "z2", "WITHSCORES"]),
        Frame::Array(vec![pair("b", 12.0), pair("c", 23.0)])
    );
    assert_eq!(t.r(&["ZINTER", "2", "z1", "z2"]), bulks(&["b", "c"]));
}

/// Test-only: orders a flat `member score` array by score, then member.
trait SortedByScore {
    fn sorted_by_score(self) -> Frame;
}

impl SortedByScore for Frame {
    fn sorted_by_score(self) -> Frame {
        let items = texts(&self);
        let mut pairs: Vec<(String, String)> = items
            .chunks(2)
            .map(|p| (p[0].clone(), p[1].clone()))
            .collect();
        pairs.sort_by(|a, b| {
            let (x, y): (f64, f64) = (a.1.parse().unwrap(), b.1.parse().unwrap());
            x.partial_cmp(&y).unwrap().then_with(|| a.0.cmp(&b.0))
        });
        Frame::Array(
            pairs
                .into_iter()
                .flat_map(|(m, s)| [Frame::bulk(m), Frame::bulk(s)])
                .collect(),
        )
    }
}

#[test]
fn algebra_infinities_and_nan() {
    let mut t = T::new();
    t.r(&["ZADD", "i1", "inf", "a", "0", "z"]);
    t.r(&["ZADD", "i2", "-inf", "a", "1", "z"]);
    // inf + -inf sums to 0.
    assert_eq!(
        t.r(&["ZUNION", "2", "i1", "i2", "WITHSCORES"]),
        bulks(&["a", "0", "z", "1"])
    );
    assert_eq!(t.r(&["ZINTERSTORE", "out", "2", "i1", "i2"]), int(2));
    assert_eq!(t.r(&["ZSCORE", "out", "a"]), bulk("0"));
    // A weight of 0 times inf is 0, not NaN.
    assert_eq!(
        t.r(&["ZUNION", "2", "i1", "i2", "WEIGHTS", "0", "1", "WITHSCORES"]),
        bulks(&["a", "-inf", "z", "1"])
    );
    assert_eq!(
        t.r(&[
            "ZINTER",
            "2",
            "i1",
            "i2",
            "WEIGHTS",
            "1",
            "inf",
            "WITHSCORES"
        ]),
        bulks(&["a", "0", "z", "inf"])
    );
    assert_eq!(
        t.r(&["ZINTER", "2", "i1", "i2", "AGGREGATE", "MIN", "WITHSCORES"]),
        bulks(&["a", "-inf", "z", "0"])
    );
}

#[test]
fn algebra_store_forms() {
    let mut t = algebra();
    assert_eq!(t.r(&["ZUNIONSTORE", "dst", "2", "z1", "z2"]), int(4));
    assert_eq!(
        t.r(&["ZRANGE", "dst", "0", "-1", "WITHSCORES"]),
        bulks(&["a", "1", "b", "12", "c", "23", "d", "30"])
    );
    assert_eq!(
        t.r(&["ZINTERSTORE", "dst", "2", "z1", "z2", "AGGREGATE", "MAX"]),
        int(2)
    );
    assert_eq!(
        t.r(&["ZRANGE", "dst", "0", "-1", "WITHSCORES"]),
        bulks(&["b", "10", "c", "20"])
    );
    assert_eq!(t.r(&["ZDIFFSTORE", "dst", "2", "z2", "z1"]), int(1));
    assert_eq!(
        t.r(&["ZRANGE", "dst", "0", "-1", "WITHSCORES"]),
        bulks(&["d", "30"])
    );
    // Empty results delete the destination.
    assert_eq!(t.r(&["ZINTERSTORE", "dst", "2", "z1", "missing"]), int(0));
    assert_eq!(t.r(&["EXISTS", "dst"]), int(0));
    t.r(&["SET", "dst", "v"]);
    assert_eq!(t.r(&["ZDIFFSTORE", "dst", "1", "missing"]), int(0));
    assert_eq!(t.r(&["EXISTS", "dst"]), int(0));
    // The destination may be an input, and may hold any type (replaced, TTL dropped).
    assert_eq!(t.r(&["ZUNIONSTORE", "s", "2", "z1", "s"]), int(4));
    assert_eq!(t.r(&["TYPE", "s"]), Frame::simple("zset"));
    assert_eq!(
        t.r(&["ZRANGE", "s", "0", "-1", "WITHSCORES"]),
        bulks(&["x", "1", "a", "2", "b", "2", "c", "4"])
    );
    t.r(&["SET", "str", "v", "EX", "100"]);
    assert_eq!(t.r(&["ZUNIONSTORE", "str", "1", "z1"]), int(3));
    assert_eq!(t.r(&["TTL", "str"]), int(-1));
    // WITHSCORES is not an option of the STORE forms.
    assert_eq!(
        t.r(&["ZUNIONSTORE", "dst", "1", "z1", "WITHSCORES"]),
        syntax()
    );
    assert_eq!(
        t.r(&["ZDIFFSTORE", "dst", "1", "z1", "WEIGHTS", "1"]),
        syntax()
    );
    assert_eq!(t.r(&["ZUNIONSTORE", "dst", "1"]), arity("zunionstore"));
    assert_eq!(
        t.r(&["ZINTERSTORE", "dst", "0", "z1"]),
        err("ERR at least 1 input key is needed for 'zinterstore' command")
    );
}

#[test]
fn zintercard() {
    let mut t = algebra();
    assert_eq!(t.r(&["ZINTERCARD", "2", "z1", "z2"]), int(2));
    assert_eq!(t.r(&["ZINTERCARD", "2", "z1", "s"]), int(2));
    assert_eq!(t.r(&["ZINTERCARD", "2", "z1", "z2", "LIMIT", "1"]), int(1));
    assert_eq!(t.r(&["ZINTERCARD", "2", "z1", "z2", "LIMIT", "0"]), int(2));
    assert_eq!(t.r(&["ZINTERCARD", "2", "z1", "z2", "LIMIT", "5"]), int(2));
    assert_eq!(
        t.r(&["ZINTERCARD", "1", "z1", "LIMIT", "1", "LIMIT", "2"]),
        int(2)
    );
    assert_eq!(t.r(&["ZINTERCARD", "2", "z1", "missing"]), int(0));
    let negative = err("ERR LIMIT can't be negative");
    assert_eq!(t.r(&["ZINTERCARD", "1", "z1", "LIMIT", "-1"]), negative);
    assert_eq!(t.r(&["ZINTERCARD", "1", "z1", "LIMIT", "x"]), negative);
    assert_eq!(t.r(&["ZINTERCARD", "1", "z1", "LIMIT"]), syntax());
    assert_eq!(t.r(&["ZINTERCARD", "1", "z1", "WITHSCORES"]), syntax());
    assert_eq!(t.r(&["ZINTERCARD", "1", "z1", "WEIGHTS", "1"]), syntax());
    assert_eq!(
        t.r(&["ZINTERCARD", "1", "z1", "AGGREGATE", "MIN"]),
        syntax()
    );
    assert_eq!(
        t.r(&["ZINTERCARD", "0", "z1"]),
        err("ERR at least 1 input key is needed for 'zintercard' command")
    );
    assert_eq!(t.r(&["ZINTERCARD", "x", "z1"]), not_integer());
    assert_eq!(t.r(&["ZINTERCARD", "2", "z1"]), syntax());
    assert_eq!(t.r(&["ZINTERCARD", "1"]), arity("zintercard"));
}

#[test]
fn algebra_errors() {
    let mut t = algebra();
    for cmd in ["ZUNION", "ZINTER", "ZDIFF"] {
        let lower = cmd.to_ascii_lowercase();
        assert_eq!(
            t.r(&[cmd, "0", "z1"]),
            err(&format!(
                "ERR at least 1 input key is needed for '{lower}' command"
            ))
        );
        assert_eq!(
            t.r(&[cmd, "-1", "z1"]),
            err(&format!(
                "ERR at least 1 input key is needed for '{lower}' command"
            ))
        );
        assert_eq!(t.r(&[cmd, "abc", "z1"]), not_integer());
        assert_eq!(t.r(&[cmd, "3", "z1", "z2"]), syntax());
        assert_eq!(t.r(&[cmd, "1", "z1", "FOO"]), syntax());
        assert_eq!(t.r(&[cmd, "1"]), arity(&lower));
    }
    assert_eq!(t.r(&["ZUNION", "2", "z1", "z2", "WEIGHTS", "1"]), syntax());
    assert_eq!(
        t.r(&["ZUNION", "2", "z1", "z2", "WEIGHTS", "1", "x"]),
        err("ERR weight value is not a float")
    );
    assert_eq!(
        t.r(&["ZINTER", "1", "z1", "WEIGHTS", "nan"]),
        err("ERR weight value is not a float")
    );
    assert_eq!(t.r(&["ZUNION", "1", "z1", "AGGREGATE", "AVG"]), syntax());
    assert_eq!(t.r(&["ZUNION", "1", "z1", "AGGREGATE"]), syntax());
    assert_eq!(t.r(&["ZDIFF", "1", "z1", "AGGREGATE", "MIN"]), syntax());
    assert_eq!(t.r(&["ZDIFF", "1", "z1", "WEIGHTS", "1"]), syntax());
    // WRONGTYPE is found before the options are parsed.
    t.r(&["SET", "str", "v"]);
    t.r(&["RPUSH", "list", "v"]);
    assert_eq!(t.r(&["ZUNION", "2", "z1", "str", "FOO"]), wrongtype());
    assert_eq!(t.r(&["ZINTER", "2", "missing", "list"]), wrongtype());
    assert_eq!(t.r(&["ZDIFF", "2", "z1", "str"]), wrongtype());
    assert_eq!(t.r(&["ZINTERCARD", "1", "str"]), wrongtype());
    assert_eq!(t.r(&["ZUNIONSTORE", "dst", "1", "str"]), wrongtype());
    assert_eq!(t.r(&["EXISTS", "dst"]), int(0));
}

// ---------------------------------------------------------------------------------
// ZSCAN.
// ---------------------------------------------------------------------------------

#[test]
fn zscan() {
    let mut t = T::new();
    t.r(&[
        "ZADD",
        "z",
        "1",
        "a",
        "2.5",
        "b",
        "1e20",
        "c",
        "123456789012345678",
        "d",
        "-inf",
        "e",
    ]);
    // The reference backend's sets are all "skiplist": scores print as %.17g (the
    // end-to-end tests cover the compact encoding's integers).
    assert_eq!(
        t.r(&["ZSCAN", "z", "0"]),
        Frame::Array(vec![
            bulk("0"),
            bulks(&[
                "e",
                "-inf",
                "a",
                "1",
                "b",
                "2.5",
                "d",
                "1.2345678901234568e+17",
                "c",
                "1e+20"
            ])
        ])
    );
    assert_eq!(
        t.r(&["ZSCAN", "z", "0", "MATCH", "[ab]", "COUNT", "1"]),
        Frame::Array(vec![bulk("0"), bulks(&["a", "1", "b", "2.5"])])
    );
    assert_eq!(
        t.r(&["ZSCAN", "missing", "0"]),
        Frame::Array(vec![bulk("0"), empty()])
    );
    // A missing key answers before the options are even parsed.
    assert_eq!(
        t.r(&["ZSCAN", "missing", "0", "COUNT", "0"]),
        Frame::Array(vec![bulk("0"), empty()])
    );
    assert_eq!(t.r(&["ZSCAN", "z", "x"]), err("ERR invalid cursor"));
    assert_eq!(t.r(&["ZSCAN", "missing", "x"]), err("ERR invalid cursor"));
    assert_eq!(t.r(&["ZSCAN", "z", "0", "COUNT", "0"]), syntax());
    assert_eq!(t.r(&["ZSCAN", "z", "0", "COUNT", "x"]), not_integer());
    assert_eq!(t.r(&["ZSCAN", "z", "0", "TYPE", "zset"]), syntax());
    assert_eq!(t.r(&["ZSCAN", "z", "0", "MATCH"]), syntax());
    assert_eq!(t.r(&["ZSCAN", "z"]), arity("zscan"));
    t.r(&["SET", "str", "v"]);
    assert_eq!(t.r(&["ZSCAN", "str", "0"]), wrongtype());
    assert_eq!(t.r(&["ZSCAN", "str", "0", "COUNT", "0"]), wrongtype());
    // A bigger set is paged by the backend.
    for i in 0..130 {
        t.r(&["ZADD", "big", &i.to_string(), &format!("m{i}")]);
    }
    t.r(&["ZADD", "big", "123456789012345678", "huge"]);
    let mut seen = Vec::new();
    let mut cursor = "0".to_string();
    loop {
        let reply = t.r(&["ZSCAN", "big", &cursor, "COUNT", "7"]);
        let Frame::Array(parts) = reply else {
            panic!("expected an array");
        };
        cursor = texts(&Frame::Array(vec![parts[0].clone()]))[0].clone();
        seen.extend(texts(&parts[1]));
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(seen.len(), 131 * 2);
    let huge = seen.iter().position(|m| m == "huge").unwrap();
    assert_eq!(seen[huge + 1], "1.2345678901234568e+17");
    // RESP3 still sends scores as bulk strings.
    t.resp3();
    assert_eq!(
        t.r(&["ZSCAN", "z", "0", "MATCH", "a"]),
        Frame::Array(vec![bulk("0"), bulks(&["a", "1"])])
    );
}

// ---------------------------------------------------------------------------------
// Keyspace statistics and the shared helpers.
// ---------------------------------------------------------------------------------

#[test]
fn reads_count_keyspace_hits_and_misses() {
    let mut t = abcde();
    t.r(&["SET", "str", "v"]);
    let before = t.stats();
    let reads: &[&[&str]] = &[
        &["ZCARD", "z"],
        &["ZSCORE", "z", "a"],
        &["ZMSCORE", "z", "a"],
        &["ZRANK", "z", "a"],
        &["ZREVRANK", "z", "a"],
        &["ZCOUNT", "z", "0", "1"],
        &["ZLEXCOUNT", "z", "-", "+"],
        &["ZRANGE", "z", "0", "1"],
        &["ZRANGEBYSCORE", "z", "0", "1"],
        &["ZRANGEBYLEX", "z", "-", "+"],
        &["ZRANDMEMBER", "z"],
        &["ZSCAN", "z", "0"],
    ];
    for words in reads {
        t.r(words);
    }
    assert_eq!(t.stats(), (before.0 + reads.len() as u64, before.1));
    let before = t.stats();
    for words in reads {
        let mut words = words.to_vec();
        words[1] = "missing";
        t.r(&words);
    }
    assert_eq!(t.stats(), (before.0, before.1 + reads.len() as u64));
    // A value of another type is a hit.
    let before = t.stats();
    assert_eq!(t.r(&["ZCARD", "str"]), wrongtype());
    assert_eq!(t.stats(), (before.0 + 1, before.1));
    // The algebra looks up every input; ZRANGESTORE its source.
    let before = t.stats();
    t.r(&["ZUNION", "3", "z", "missing", "z"]);
    t.r(&["ZRANGESTORE", "dst", "z", "0", "0"]);
    assert_eq!(t.stats(), (before.0 + 3, before.1 + 1));
    // Writes count nothing.
    let before = t.stats();
    t.r(&["ZADD", "z", "1", "q"]);
    t.r(&["ZINCRBY", "z", "1", "q"]);
    t.r(&["ZREM", "missing", "q"]);
    t.r(&["ZPOPMIN", "missing"]);
    t.r(&["ZREMRANGEBYRANK", "z", "0", "0"]);
    t.r(&["ZMPOP", "1", "missing", "MIN"]);
    assert_eq!(t.stats(), before);
}

// ---------------------------------------------------------------------------------
// Randomized cross-checks, as Redis' own test suite does them.
// ---------------------------------------------------------------------------------

/// A random score: small integers (many ties), fractions, or an infinity.
fn random_score(rng: &mut StdRng) -> String {
    match rng.gen_range(0..10) {
        0 => "-inf".into(),
        1 => "+inf".into(),
        2..=5 => rng.gen_range(-10..10).to_string(),
        _ => format!("{:.3}", rng.gen_range(-10.0..10.0)),
    }
}

/// A random score-range end, sometimes exclusive.
fn random_bound(rng: &mut StdRng) -> String {
    let s = random_score(rng);
    if rng.gen_bool(0.3) {
        format!("({s}")
    } else {
        s
    }
}

/// A random lex-range end.
fn random_lex_bound(rng: &mut StdRng) -> String {
    match rng.gen_range(0..8) {
        0 => "-".into(),
        1 => "+".into(),
        _ => {
            let len = rng.gen_range(0..3);
            let s: String = (0..len)
                .map(|_| rng.gen_range(b'a'..=b'e') as char)
                .collect();
            if rng.gen_bool(0.5) {
                format!("[{s}")
            } else {
                format!("({s}")
            }
        }
    }
}

#[test]
fn randomized_count_range_and_rank_agree() {
    let mut rng = StdRng::seed_from_u64(0x2e75e7);
    for round in 0..20 {
        let mut t = T::new();
        let n = rng.gen_range(1..60);
        let mut words = vec!["ZADD".to_string(), "z".to_string()];
        for i in 0..n {
            words.push(random_score(&mut rng));
            words.push(format!("m{}", i * 7 % 13 + i));
        }
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        t.r(&words);
        let card = as_int(&t.r(&["ZCARD", "z"]));
        let ordered = t.members("z");
        assert_eq!(ordered.len() as i64, card);
        // ZRANK / ZREVRANK match the position in ZRANGE; ZREVRANGE is its reverse.
        for (i, m) in ordered.iter().enumerate() {
            assert_eq!(t.r(&["ZRANK", "z", m]), int(i as i64), "round {round}");
            assert_eq!(t.r(&["ZREVRANK", "z", m]), int(card - 1 - i as i64));
        }
        let mut rev = texts(&t.r(&["ZREVRANGE", "z", "0", "-1"]));
        rev.reverse();
        assert_eq!(rev, ordered);
        // Scores never decrease along ZRANGE.
        let with = texts(&t.r(&["ZRANGE", "z", "0", "-1", "WITHSCORES"]));
        let scores: Vec<f64> = with.chunks(2).map(|p| p[1].parse().unwrap()).collect();
        assert!(scores.windows(2).all(|w| w[0] <= w[1]));
        for _ in 0..30 {
            let (min, max) = (random_bound(&mut rng), random_bound(&mut rng));
            let range = texts(&t.r(&["ZRANGEBYSCORE", "z", &min, &max]));
            assert_eq!(
                t.r(&["ZCOUNT", "z", &min, &max]),
                int(range.len() as i64),
                "ZCOUNT {min} {max}"
            );
            let mut back = texts(&t.r(&["ZREVRANGEBYSCORE", "z", &max, &min]));
            back.reverse();
            assert_eq!(back, range);
            assert_eq!(texts(&t.r(&["ZRANGE", "z", &min, &max, "BYSCORE"])), range);
            // LIMIT is a window of the full range.
            let (off, cnt) = (rng.gen_range(0..5usize), rng.gen_range(0..5usize));
            let window: Vec<String> = range.iter().skip(off).take(cnt).cloned().collect();
            assert_eq!(
                texts(&t.r(&[
                    "ZRANGEBYSCORE",
                    "z",
                    &min,
                    &max,
                    "LIMIT",
                    &off.to_string(),
                    &cnt.to_string()
                ])),
                window
            );
            // A rank window agrees with ZRANGE's full order.
            let (a, b) = (rng.gen_range(-70..70i64), rng.gen_range(-70..70i64));
            let got = texts(&t.r(&["ZRANGE", "z", &a.to_string(), &b.to_string()]));
            let (s, e) = (
                if a < 0 { (card + a).max(0) } else { a },
                if b < 0 { card + b } else { b.min(card - 1) },
            );
            let expected: Vec<String> = if s > e || s >= card {
                Vec::new()
            } else {
                ordered[s as usize..=e as usize].to_vec()
            };
            assert_eq!(got, expected, "ZRANGE {a} {b}");
        }
    }
}

#[test]
fn randomized_lex_count_and_range_agree() {
    let mut rng = StdRng::seed_from_u64(0x1e7);
    for _ in 0..20 {
        let mut t = T::new();
        let mut words = vec!["ZADD".to_string(), "z".to_string()];
        for _ in 0..rng.gen_range(1..40) {
            let len = rng.gen_range(0..4);
            let m: String = (0..len)
                .map(|_| rng.gen_range(b'a'..=b'e') as char)
                .collect();
            words.push("0".into());
            words.push(m);
        }
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        t.r(&words);
        let all = t.members("z");
        let mut sorted = all.clone();
        sorted.sort();
        assert_eq!(all, sorted, "equal scores order by bytes");
        for _ in 0..40 {
            let (min, max) = (random_lex_bound(&mut rng), random_lex_bound(&mut rng));
            let range = texts(&t.r(&["ZRANGEBYLEX", "z", &min, &max]));
            assert_eq!(
                t.r(&["ZLEXCOUNT", "z", &min, &max]),
                int(range.len() as i64),
                "ZLEXCOUNT {min} {max}"
            );
            let mut back = texts(&t.r(&["ZREVRANGEBYLEX", "z", &max, &min]));
            back.reverse();
            assert_eq!(back, range);
            // Removing the range removes exactly those members.
            let mut copy = T::new();
            copy.r(&words);
            assert_eq!(
                copy.r(&["ZREMRANGEBYLEX", "z", &min, &max]),
                int(range.len() as i64)
            );
            let left: Vec<String> = all.iter().filter(|m| !range.contains(m)).cloned().collect();
            assert_eq!(copy.members("z"), left);
        }
    }
}

#[test]
fn randomized_algebra_matches_a_model() {
    use std::collections::BTreeMap;
    let mut rng = StdRng::seed_from_u64(0xa16e);
    for _ in 0..30 {
        let mut t = T::new();
        let mut models: Vec<BTreeMap<String, f64>> = Vec::new();
        for k in 0..3 {
            let mut model = BTreeMap::new();
            let mut words = vec!["ZADD".to_string(), format!("k{k}")];
            for _ in 0..rng.gen_range(0..12) {
                let member = format!("m{}", rng.gen_range(0..15));
                let score = f64::from(rng.gen_range(-20..20));
                model.insert(member.clone(), score);
                words.push(score.to_string());
                words.push(member);
            }
            if words.len() > 2 {
                let words: Vec<&str> = words.iter().map(String::as_str).collect();
                t.r(&words);
            }
            models.push(model);
        }
        let weights = [1.0, 2.0, -1.0];
        let mut union: BTreeMap<String, f64> = BTreeMap::new();
        for (model, w) in models.iter().zip(weights) {
            for (m, s) in model {
                *union.entry(m.clone()).or_insert(0.0) += s * w;
            }
        }
        let inter: BTreeMap<String, f64> = union
            .iter()
            .filter(|(m, _)| models.iter().all(|model| model.contains_key(*m)))
            .map(|(m, s)| (m.clone(), *s))
            .collect();
        let diff: BTreeMap<String, f64> = models[0]
            .iter()
            .filter(|(m, _)| !models[1].contains_key(*m) && !models[2].contains_key(*m))
            .map(|(m, s)| (m.clone(), *s))
            .collect();
        let as_reply = |model: &BTreeMap<String, f64>| {
            let mut pairs: Vec<(&String, &f64)> = model.iter().collect();
            pairs.sort_by(|a, b| a.1.partial_cmp(b.1).unwrap().then_with(|| a.0.cmp(b.0)));
            Frame::Array(
                pairs
                    .into_iter()
                    .flat_map(|(m, s)| {
                        [
                            Frame::bulk(m),
                            Frame::bulk(ferrokv_protocol::format_double_g17(*s)),
                        ]
                    })
                    .collect(),
            )
        };
        let w = ["WEIGHTS", "1", "2", "-1", "WITHSCORES"];
        let mut args = vec!["ZUNION", "3", "k0", "k1", "k2"];
        args.extend(w);
        assert_eq!(t.r(&args), as_reply(&union));
        args[0] = "ZINTER";
        assert_eq!(t.r(&args), as_reply(&inter));
        assert_eq!(
            t.r(&["ZDIFF", "3", "k0", "k1", "k2", "WITHSCORES"]),
            as_reply(&diff)
        );
        assert_eq!(
            t.r(&["ZINTERCARD", "3", "k0", "k1", "k2"]),
            int(inter.len() as i64)
        );
    }
}

#[test]
fn compact_scan_scores_print_integers_as_integers() {
    use super::listpack_score_text as text;
    assert_eq!(text(1.0), "1");
    assert_eq!(text(-3.0), "-3");
    assert_eq!(text(123456789012345678.0), "123456789012345680");
    assert_eq!(text(4611686018427387904.0), "4611686018427387904");
    assert_eq!(text(5e18), "5e+18");
    assert_eq!(text(2.5), "2.5");
    assert_eq!(text(0.1), "0.10000000000000001");
    assert_eq!(text(f64::NEG_INFINITY), "-inf");
}
