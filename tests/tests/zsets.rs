//! Sorted set commands end to end: ZADD (every option) ZINCRBY ZREM ZCARD ZCOUNT
//! ZLEXCOUNT ZSCORE ZMSCORE ZRANK ZREVRANK, the range family (ZRANGE with BYSCORE BYLEX
//! REV LIMIT WITHSCORES, ZRANGESTORE, ZREVRANGE, Z[REV]RANGEBYSCORE, Z[REV]RANGEBYLEX,
//! ZREMRANGEBY*), ZPOPMIN ZPOPMAX ZMPOP ZRANDMEMBER, the algebra (ZUNION ZINTER ZDIFF,
//! their STORE forms, ZINTERCARD) and ZSCAN, in RESP2 and RESP3, with their errors, on
//! small sets and on sets past `zset-max-listpack-entries`.
//!
//! Every expectation here is checked against a real Redis 7.0 with
//! `FERROKV_TESTS_TARGET=redis cargo test -p ferrokv-tests --test zsets`.

use ferrokv_tests::*;

/// A RESP3 double.
fn dbl(d: f64) -> Frame {
    Frame::Double(d)
}

/// A RESP3 `[member, score]` pair.
fn pair(member: &str, score: f64) -> Frame {
    arr(vec![bulk(member), dbl(score)])
}

/// An empty array.
fn empty() -> Frame {
    arr(vec![])
}

/// The bulk strings of an array reply, as text, in reply order.
fn texts(frame: &Frame) -> Vec<String> {
    items(frame).iter().map(text).collect()
}

/// `z` = a:1 b:2 c:3 d:4 e:5.
async fn abcde(c: &mut RawClient) {
    assert_eq!(
        c.send(&["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"])
            .await,
        int(5)
    );
}

/// `big` = m0..m199 with score i (past the compact-encoding threshold of 128).
async fn big(c: &mut RawClient) {
    let mut args = vec!["ZADD".to_string(), "big".to_string()];
    for i in 0..200 {
        args.push(i.to_string());
        args.push(format!("m{i:03}"));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(c.send(&args).await, int(200));
}

backend_tests! {
    async fn zadd_options_and_replies(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["ZADD", "z", "1", "a", "2", "b"]).await, int(2));
        assert_eq!(c.send(&["ZADD", "z", "3", "a", "1", "c"]).await, int(1));
        assert_eq!(c.send(&["ZADD", "z", "CH", "4", "a", "1", "c", "0", "d"]).await, int(2));
        assert_eq!(c.send(&["ZADD", "z", "NX", "9", "a", "5", "e"]).await, int(1));
        assert_eq!(c.send(&["ZSCORE", "z", "a"]).await, bulk("4"));
        assert_eq!(c.send(&["ZADD", "z", "XX", "CH", "9", "a", "5", "new"]).await, int(1));
        assert_eq!(c.send(&["ZSCORE", "z", "new"]).await, nil());
        assert_eq!(c.send(&["ZADD", "z", "GT", "CH", "1", "a", "10", "b", "7", "f"]).await, int(2));
        assert_eq!(c.send(&["ZSCORE", "z", "a"]).await, bulk("9"));
        assert_eq!(c.send(&["ZADD", "z", "LT", "CH", "1", "a", "20", "b"]).await, int(1));
        assert_eq!(c.send(&["ZRANGE", "z", "0", "-1", "WITHSCORES"]).await,
            bulks(&["d", "0", "a", "1", "c", "1", "e", "5", "f", "7", "b", "10"]));
        assert_eq!(c.send(&["ZADD", "z", "INCR", "2.5", "a"]).await, bulk("3.5"));
        assert_eq!(c.send(&["ZADD", "z", "NX", "INCR", "1", "a"]).await, nil());
        assert_eq!(c.send(&["ZADD", "z", "GT", "INCR", "-1", "a"]).await, nil());
        assert_eq!(c.send(&["ZADD", "missing", "XX", "1", "a"]).await, int(0));
        assert_eq!(c.send(&["ZADD", "missing", "XX", "INCR", "1", "a"]).await, nil());
        assert_eq!(c.send(&["EXISTS", "missing"]).await, int(0));
        // Errors.
        assert_eq!(c.send(&["ZADD", "z", "NX", "XX", "1", "a"]).await,
            err("ERR XX and NX options at the same time are not compatible"));
        assert_eq!(c.send(&["ZADD", "z", "GT", "LT", "1", "a"]).await,
            err("ERR GT, LT, and/or NX options at the same time are not compatible"));
        assert_eq!(c.send(&["ZADD", "z", "NX", "GT", "1", "a"]).await,
            err("ERR GT, LT, and/or NX options at the same time are not compatible"));
        assert_eq!(c.send(&["ZADD", "z", "INCR", "1", "a", "2", "b"]).await,
            err("ERR INCR option supports a single increment-element pair"));
        assert_eq!(c.send(&["ZADD", "z", "nan", "a"]).await, err("ERR value is not a valid float"));
        assert_eq!(c.send(&["ZADD", "z", "1e400", "a"]).await, err("ERR value is not a valid float"));
        assert_eq!(c.send(&["ZADD", "z", " 1", "a"]).await, err("ERR value is not a valid float"));
        assert_eq!(c.send(&["ZADD", "z", "1", "a", "2"]).await, syntax_error());
        assert_eq!(c.send(&["ZADD", "z", "NX", "1"]).await, syntax_error());
        assert_eq!(c.send(&["ZADD", "z", "1"]).await, wrong_args("zadd"));
        assert_eq!(c.send(&["ZADD", "z", "inf", "i"]).await, int(1));
        assert_eq!(c.send(&["ZADD", "z", "INCR", "-inf", "i"]).await,
            err("ERR resulting score is not a number (NaN)"));
        assert_eq!(c.send(&["SET", "s", "v"]).await, ok());
        assert_eq!(c.send(&["ZADD", "s", "1", "a"]).await, wrongtype());
        assert_eq!(c.send(&["ZADD", "s", "x", "a"]).await, err("ERR value is not a valid float"));
    }

    async fn score_formatting(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["ZADD", "z", "0.1", "a", "1e20", "b", "-inf", "c", "3.0", "d",
            "123456789012345678", "e", "0x10", "f", "-0", "g", "1e-310", "h"]).await, int(8));
        assert_eq!(c.send(&["ZRANGE", "z", "0", "-1", "WITHSCORES"]).await, bulks(&[
            "c", "-inf", "g", "0", "h", "9.9999999999999694e-311", "a", "0.10000000000000001",
            "d", "3", "f", "16", "e", "1.2345678901234568e+17", "b", "1e+20",
        ]));
        assert_eq!(c.send(&["ZINCRBY", "z", "-0.0", "new"]).await, bulk("-0"));
        assert_eq!(c.send(&["ZSCORE", "z", "new"]).await, bulk("0"));
        assert_eq!(c.send(&["ZINCRBY", "z", "1.5", "d"]).await, bulk("4.5"));
        // A big set (past zset-max-listpack-entries, or with a member past
        // zset-max-listpack-value) keeps -0.
        big(&mut c).await;
        assert_eq!(c.send(&["ZADD", "big", "-0", "neg"]).await, int(1));
        assert_eq!(c.send(&["ZSCORE", "big", "neg"]).await, bulk("-0"));
        let long = "x".repeat(65);
        assert_eq!(c.send(&["ZADD", "long", "-0", &long, "-0", "short"]).await, int(2));
        assert_eq!(c.send(&["ZRANGE", "long", "0", "-1", "WITHSCORES"]).await,
            bulks(&["short", "-0", &long, "-0"]));
        assert_eq!(c.send(&["ZUNIONSTORE", "u", "1", "z", "WEIGHTS", "-1"]).await, int(9));
        assert_eq!(c.send(&["ZSCORE", "u", "g"]).await, bulk("0"));
        assert_eq!(c.send(&["ZUNIONSTORE", "u", "1", "long"]).await, int(2));
        assert_eq!(c.send(&["ZSCORE", "u", "short"]).await, bulk("-0"));
        assert_eq!(c.send(&["ZRANGESTORE", "u", "long", "0", "0"]).await, int(1));
        assert_eq!(c.send(&["ZSCORE", "u", "short"]).await, bulk("0"));
        // A listpack converts before taking a member it cannot hold: the members added
        // before keep no sign, those after do; stores follow the same rule.
        assert_eq!(c.send(&["CONFIG", "SET", "zset-max-listpack-entries", "2"]).await, ok());
        assert_eq!(c.send(&["ZADD", "grow", "-0", "a", "-0", "b", "-0", "c"]).await, int(3));
        assert_eq!(c.send(&["ZRANGE", "grow", "0", "-1", "WITHSCORES"]).await,
            bulks(&["a", "0", "b", "0", "c", "-0"]));
        assert_eq!(c.send(&["ZADD", "small", "1", "a"]).await, int(1));
        assert_eq!(c.send(&["ZADD", "small", "-0", "a"]).await, int(0));
        assert_eq!(c.send(&["ZSCORE", "small", "a"]).await, bulk("0"));
        assert_eq!(c.send(&["ZRANGESTORE", "u", "long", "0", "-1", "REV"]).await, int(2));
        assert_eq!(c.send(&["ZRANGE", "u", "0", "-1", "WITHSCORES"]).await,
            bulks(&["short", "-0", &long, "-0"]));
        assert_eq!(c.send(&["ZRANGESTORE", "u", "grow", "0", "-1"]).await, int(3));
        assert_eq!(c.send(&["ZRANGE", "u", "0", "-1", "WITHSCORES"]).await,
            bulks(&["a", "0", "b", "0", "c", "-0"]));
        assert_eq!(c.send(&["ZUNIONSTORE", "u", "1", "grow"]).await, int(3));
        assert_eq!(c.send(&["ZRANGE", "u", "0", "-1", "WITHSCORES"]).await,
            bulks(&["a", "0", "b", "0", "c", "-0"]));
        assert_eq!(c.send(&["ZINTERSTORE", "u", "1", "grow", "WEIGHTS", "-1"]).await, int(3));
        assert_eq!(c.send(&["ZRANGE", "u", "0", "-1", "WITHSCORES"]).await,
            bulks(&["a", "-0", "b", "-0", "c", "0"]));
        assert_eq!(c.send(&["CONFIG", "SET", "zset-max-listpack-entries", "128"]).await, ok());
        c.send(&["HELLO", "3"]).await;
        assert_eq!(c.send(&["ZSCORE", "z", "a"]).await, dbl(0.1));
        let (_, wire) = c.send_raw_reply(&[b"ZSCORE", b"z", b"a"]).await;
        assert_eq!(&wire[..], b",0.10000000000000001\r\n");
        let (_, wire) = c.send_raw_reply(&[b"ZSCORE", b"z", b"c"]).await;
        assert_eq!(&wire[..], b",-inf\r\n");
        assert_eq!(c.send(&["ZINCRBY", "z", "1", "d"]).await, dbl(5.5));
        assert_eq!(c.send(&["ZADD", "z", "INCR", "1", "d"]).await, dbl(6.5));
        assert_eq!(c.send(&["ZMSCORE", "z", "d", "nope"]).await, arr(vec![dbl(6.5), nil()]));
    }

    async fn zrem_zcard_zscore_zrank(server: &TestServer) {
        let mut c = server.raw().await;
        abcde(&mut c).await;
        assert_eq!(c.send(&["ZCARD", "z"]).await, int(5));
        assert_eq!(c.send(&["ZSCORE", "z", "c"]).await, bulk("3"));
        assert_eq!(c.send(&["ZSCORE", "z", "x"]).await, nil());
        assert_eq!(c.send(&["ZMSCORE", "z", "a", "x", "e"]).await, arr(vec![bulk("1"), nil(), bulk("5")]));
        assert_eq!(c.send(&["ZMSCORE", "missing", "a"]).await, arr(vec![nil()]));
        assert_eq!(c.send(&["ZRANK", "z", "b"]).await, int(1));
        assert_eq!(c.send(&["ZREVRANK", "z", "b"]).await, int(3));
        assert_eq!(c.send(&["ZRANK", "z", "x"]).await, nil());
        assert_eq!(c.send(&["ZRANK", "missing", "x"]).await, nil());
        assert_eq!(c.send(&["ZREM", "z", "a", "x", "b", "a"]).await, int(2));
        assert_eq!(c.send(&["ZCARD", "z"]).await, int(3));
        assert_eq!(c.send(&["ZREM", "z", "c", "d", "e"]).await, int(3));
        assert_eq!(c.send(&["EXISTS", "z"]).await, int(0));
        assert_eq!(c.send(&["ZCARD", "z"]).await, int(0));
        assert_eq!(c.send(&["ZREM", "z"]).await, wrong_args("zrem"));
        assert_eq!(c.send(&["ZMSCORE", "z"]).await, wrong_args("zmscore"));
        assert_eq!(c.send(&["SET", "s", "v"]).await, ok());
        for cmd in ["ZCARD", "ZSCORE", "ZMSCORE", "ZRANK", "ZREVRANK", "ZREM"] {
            let args: Vec<&str> = if cmd == "ZCARD" { vec![cmd, "s"] } else { vec![cmd, "s", "a"] };
            assert_eq!(c.send(&args).await, wrongtype(), "{cmd}");
        }
    }

    async fn zcount_and_zlexcount(server: &TestServer) {
        let mut c = server.raw().await;
        abcde(&mut c).await;
        assert_eq!(c.send(&["ZCOUNT", "z", "-inf", "+inf"]).await, int(5));
        assert_eq!(c.send(&["ZCOUNT", "z", "(1", "3"]).await, int(2));
        assert_eq!(c.send(&["ZCOUNT", "z", "(1", "(3"]).await, int(1));
        assert_eq!(c.send(&["ZCOUNT", "z", "3", "1"]).await, int(0));
        assert_eq!(c.send(&["ZCOUNT", "z", "", " 2"]).await, int(2));
        assert_eq!(c.send(&["ZCOUNT", "z", "a", "1"]).await, err("ERR min or max is not a float"));
        assert_eq!(c.send(&["ZCOUNT", "z", "nan", "1"]).await, err("ERR min or max is not a float"));
        assert_eq!(c.send(&["ZCOUNT", "missing", "0", "1"]).await, int(0));
        assert_eq!(c.send(&["ZADD", "l", "0", "a", "0", "b", "0", "c", "0", "d"]).await, int(4));
        assert_eq!(c.send(&["ZLEXCOUNT", "l", "-", "+"]).await, int(4));
        assert_eq!(c.send(&["ZLEXCOUNT", "l", "[b", "(d"]).await, int(2));
        assert_eq!(c.send(&["ZLEXCOUNT", "l", "(a", "[z"]).await, int(3));
        assert_eq!(c.send(&["ZLEXCOUNT", "l", "+", "-"]).await, int(0));
        assert_eq!(c.send(&["ZLEXCOUNT", "l", "a", "+"]).await,
            err("ERR min or max not valid string range item"));
        assert_eq!(c.send(&["ZLEXCOUNT", "l", "-", "++"]).await,
            err("ERR min or max not valid string range item"));
        assert_eq!(c.send(&["SET", "s", "v"]).await, ok());
        assert_eq!(c.send(&["ZCOUNT", "s", "0", "1"]).await, wrongtype());
        assert_eq!(c.send(&["ZCOUNT", "s", "x", "1"]).await, err("ERR min or max is not a float"));
        assert_eq!(c.send(&["ZLEXCOUNT", "s", "-", "+"]).await, wrongtype());
    }

    async fn zrange_every_form(server: &TestServer) {
        let mut c = server.raw().await;
        abcde(&mut c).await;
        assert_eq!(c.send(&["ZRANGE", "z", "0", "-1"]).await, bulks(&["a", "b", "c", "d", "e"]));
        assert_eq!(c.send(&["ZRANGE", "z", "-2", "100"]).await, bulks(&["d", "e"]));
        assert_eq!(c.send(&["ZRANGE", "z", "3", "1"]).await, empty());
        assert_eq!(c.send(&["ZRANGE", "z", "0", "1", "REV", "WITHSCORES"]).await, bulks(&["e", "5", "d", "4"]));
        assert_eq!(c.send(&["ZRANGE", "z", "(1", "4", "BYSCORE"]).await, bulks(&["b", "c", "d"]));
        assert_eq!(c.send(&["ZRANGE", "z", "4", "(1", "BYSCORE", "REV", "LIMIT", "1", "5"]).await,
            bulks(&["c", "b"]));
        assert_eq!(c.send(&["ZRANGE", "z", "-inf", "inf", "BYSCORE", "LIMIT", "-1", "5"]).await, empty());
        assert_eq!(c.send(&["ZRANGE", "z", "-inf", "inf", "BYSCORE", "LIMIT", "3", "-1"]).await,
            bulks(&["d", "e"]));
        assert_eq!(c.send(&["ZRANGE", "z", "[b", "(d", "BYLEX"]).await, bulks(&["b", "c"]));
        assert_eq!(c.send(&["ZRANGE", "z", "+", "-", "BYLEX", "REV", "LIMIT", "0", "2"]).await,
            bulks(&["e", "d"]));
        assert_eq!(c.send(&["ZREVRANGE", "z", "0", "1", "WITHSCORES"]).await, bulks(&["e", "5", "d", "4"]));
        assert_eq!(c.send(&["ZRANGEBYSCORE", "z", "2", "3", "WITHSCORES"]).await, bulks(&["b", "2", "c", "3"]));
        assert_eq!(c.send(&["ZREVRANGEBYSCORE", "z", "+inf", "(3", "LIMIT", "0", "1"]).await, bulks(&["e"]));
        assert_eq!(c.send(&["ZRANGEBYLEX", "z", "-", "[b"]).await, bulks(&["a", "b"]));
        assert_eq!(c.send(&["ZREVRANGEBYLEX", "z", "(c", "-"]).await, bulks(&["b", "a"]));
        assert_eq!(c.send(&["ZRANGE", "missing", "0", "-1"]).await, empty());
        // Errors.
        assert_eq!(c.send(&["ZRANGE", "z", "0", "-1", "LIMIT", "0", "1"]).await,
            err("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"));
        assert_eq!(c.send(&["ZRANGE", "z", "-", "+", "BYLEX", "WITHSCORES"]).await,
            err("ERR syntax error, WITHSCORES not supported in combination with BYLEX"));
        assert_eq!(c.send(&["ZRANGEBYLEX", "z", "-", "+", "WITHSCORES"]).await,
            err("ERR syntax error, WITHSCORES not supported in combination with BYLEX"));
        assert_eq!(c.send(&["ZREVRANGE", "z", "0", "1", "LIMIT", "0", "1"]).await,
            err("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"));
        assert_eq!(c.send(&["ZRANGE", "z", "a", "b", "BYSCORE"]).await, err("ERR min or max is not a float"));
        assert_eq!(c.send(&["ZRANGE", "z", "a", "b", "BYLEX"]).await,
            err("ERR min or max not valid string range item"));
        assert_eq!(c.send(&["ZRANGE", "z", "a", "b"]).await, not_integer());
        assert_eq!(c.send(&["ZRANGE", "z", "0", "1", "BYSCORE", "BYLEX"]).await, syntax_error());
        assert_eq!(c.send(&["ZRANGE", "z", "0", "1", "REV", "REV"]).await, syntax_error());
        assert_eq!(c.send(&["ZRANGE", "z", "0", "1", "BYSCORE", "LIMIT", "0"]).await, syntax_error());
        assert_eq!(c.send(&["ZRANGE", "z", "0", "1", "BYSCORE", "LIMIT", "x", "1"]).await, not_integer());
        assert_eq!(c.send(&["ZRANGEBYSCORE", "z", "0", "1", "REV"]).await, syntax_error());
        assert_eq!(c.send(&["ZRANGE", "z", "0"]).await, wrong_args("zrange"));
        assert_eq!(c.send(&["SET", "s", "v"]).await, ok());
        assert_eq!(c.send(&["ZRANGE", "s", "0", "-1"]).await, wrongtype());
        assert_eq!(c.send(&["ZRANGE", "s", "0", "-1", "BYLEX"]).await,
            err("ERR min or max not valid string range item"));
        // RESP3 WITHSCORES: [member, score] pairs.
        c.send(&["HELLO", "3"]).await;
        assert_eq!(c.send(&["ZRANGE", "z", "0", "1", "WITHSCORES"]).await, arr(vec![pair("a", 1.0), pair("b", 2.0)]));
        assert_eq!(c.send(&["ZRANGEBYSCORE", "z", "5", "5", "WITHSCORES"]).await, arr(vec![pair("e", 5.0)]));
        assert_eq!(c.send(&["ZREVRANGE", "z", "0", "0", "WITHSCORES"]).await, arr(vec![pair("e", 5.0)]));
        assert_eq!(c.send(&["ZRANGE", "z", "0", "1"]).await, bulks(&["a", "b"]));
    }

    async fn ranges_on_a_big_set(server: &TestServer) {
        let mut c = server.raw().await;
        big(&mut c).await;
        assert_eq!(c.send(&["ZCARD", "big"]).await, int(200));
        assert_eq!(c.send(&["ZRANGE", "big", "150", "152"]).await, bulks(&["m150", "m151", "m152"]));
        assert_eq!(c.send(&["ZRANGE", "big", "0", "1", "REV"]).await, bulks(&["m199", "m198"]));
        assert_eq!(c.send(&["ZRANGE", "big", "(10", "12", "BYSCORE", "WITHSCORES"]).await,
            bulks(&["m011", "11", "m012", "12"]));
        assert_eq!(c.send(&["ZRANGEBYSCORE", "big", "100", "+inf", "LIMIT", "90", "5"]).await,
            bulks(&["m190", "m191", "m192", "m193", "m194"]));
        assert_eq!(c.send(&["ZREVRANGEBYSCORE", "big", "+inf", "-inf", "LIMIT", "199", "5"]).await,
            bulks(&["m000"]));
        assert_eq!(c.send(&["ZCOUNT", "big", "(50", "150"]).await, int(100));
        assert_eq!(c.send(&["ZRANK", "big", "m123"]).await, int(123));
        assert_eq!(c.send(&["ZREVRANK", "big", "m123"]).await, int(76));
        assert_eq!(c.send(&["ZREMRANGEBYRANK", "big", "0", "9"]).await, int(10));
        assert_eq!(c.send(&["ZREMRANGEBYSCORE", "big", "(189", "+inf"]).await, int(10));
        assert_eq!(c.send(&["ZCARD", "big"]).await, int(180));
        assert_eq!(c.send(&["ZPOPMIN", "big", "2"]).await, bulks(&["m010", "10", "m011", "11"]));
        assert_eq!(c.send(&["ZPOPMAX", "big"]).await, bulks(&["m189", "189"]));
        assert_eq!(c.send(&["ZRANGESTORE", "dst", "big", "0", "4"]).await, int(5));
        assert_eq!(c.send(&["ZRANGE", "dst", "0", "-1"]).await, bulks(&["m012", "m013", "m014", "m015", "m016"]));
        // Equal scores: lexicographic queries over many members.
        let mut args = vec!["ZADD".to_string(), "lex".to_string()];
        for i in 0..300 {
            args.push("0".into());
            args.push(format!("k{i:03}"));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_eq!(c.send(&args).await, int(300));
        assert_eq!(c.send(&["ZLEXCOUNT", "lex", "[k100", "(k200"]).await, int(100));
        assert_eq!(c.send(&["ZRANGEBYLEX", "lex", "(k297", "+"]).await, bulks(&["k298", "k299"]));
        assert_eq!(c.send(&["ZREVRANGEBYLEX", "lex", "[k002", "-", "LIMIT", "1", "10"]).await,
            bulks(&["k001", "k000"]));
        assert_eq!(c.send(&["ZREMRANGEBYLEX", "lex", "[k010", "[k019"]).await, int(10));
        assert_eq!(c.send(&["ZCARD", "lex"]).await, int(290));
    }

    async fn zrangestore_destination(server: &TestServer) {
        let mut c = server.raw().await;
        abcde(&mut c).await;
        assert_eq!(c.send(&["ZRANGESTORE", "dst", "z", "0", "-1", "REV"]).await, int(5));
        assert_eq!(c.send(&["ZRANGE", "dst", "0", "-1", "WITHSCORES"]).await,
            bulks(&["a", "1", "b", "2", "c", "3", "d", "4", "e", "5"]));
        assert_eq!(c.send(&["ZRANGESTORE", "dst", "z", "[c", "+", "BYLEX", "LIMIT", "1", "1"]).await, int(1));
        assert_eq!(c.send(&["ZRANGE", "dst", "0", "-1"]).await, bulks(&["d"]));
        assert_eq!(c.send(&["ZRANGESTORE", "dst", "z", "10", "20"]).await, int(0));
        assert_eq!(c.send(&["EXISTS", "dst"]).await, int(0));
        assert_eq!(c.send(&["SET", "dst", "v", "EX", "100"]).await, ok());
        assert_eq!(c.send(&["ZRANGESTORE", "dst", "z", "0", "0"]).await, int(1));
        assert_eq!(c.send(&["TYPE", "dst"]).await, simple("zset"));
        assert_eq!(c.send(&["TTL", "dst"]).await, int(-1));
        assert_eq!(c.send(&["ZRANGESTORE", "dst", "missing", "0", "-1"]).await, int(0));
        assert_eq!(c.send(&["EXISTS", "dst"]).await, int(0));
        assert_eq!(c.send(&["ZRANGESTORE", "dst", "z", "0", "-1", "WITHSCORES"]).await, syntax_error());
        assert_eq!(c.send(&["ZRANGESTORE", "dst", "z", "0"]).await, wrong_args("zrangestore"));
        assert_eq!(c.send(&["SET", "s", "v"]).await, ok());
        assert_eq!(c.send(&["ZRANGESTORE", "dst", "s", "0", "-1"]).await, wrongtype());
        assert_eq!(c.send(&["ZRANGESTORE", "z", "z", "1", "1"]).await, int(1));
        assert_eq!(c.send(&["ZRANGE", "z", "0", "-1"]).await, bulks(&["b"]));
    }

    async fn zremrange_commands(server: &TestServer) {
        let mut c = server.raw().await;
        abcde(&mut c).await;
        assert_eq!(c.send(&["ZREMRANGEBYRANK", "z", "-2", "-1"]).await, int(2));
        assert_eq!(c.send(&["ZREMRANGEBYSCORE", "z", "(1", "2"]).await, int(1));
        assert_eq!(c.send(&["ZRANGE", "z", "0", "-1"]).await, bulks(&["a", "c"]));
        assert_eq!(c.send(&["ZREMRANGEBYLEX", "z", "-", "+"]).await, int(2));
        assert_eq!(c.send(&["EXISTS", "z"]).await, int(0));
        assert_eq!(c.send(&["ZREMRANGEBYRANK", "z", "0", "-1"]).await, int(0));
        assert_eq!(c.send(&["ZREMRANGEBYRANK", "z", "x", "1"]).await, not_integer());
        assert_eq!(c.send(&["ZREMRANGEBYSCORE", "z", "x", "1"]).await, err("ERR min or max is not a float"));
        assert_eq!(c.send(&["ZREMRANGEBYLEX", "z", "x", "+"]).await,
            err("ERR min or max not valid string range item"));
        assert_eq!(c.send(&["SET", "s", "v"]).await, ok());
        assert_eq!(c.send(&["ZREMRANGEBYRANK", "s", "0", "1"]).await, wrongtype());
        assert_eq!(c.send(&["ZREMRANGEBYSCORE", "s", "0", "1"]).await, wrongtype());
        assert_eq!(c.send(&["ZREMRANGEBYLEX", "s", "-", "+"]).await, wrongtype());
    }

    async fn zpop_and_zmpop(server: &TestServer) {
        let mut c = server.raw().await;
        abcde(&mut c).await;
        assert_eq!(c.send(&["ZPOPMIN", "z"]).await, bulks(&["a", "1"]));
        assert_eq!(c.send(&["ZPOPMAX", "z", "2"]).await, bulks(&["e", "5", "d", "4"]));
        assert_eq!(c.send(&["ZPOPMIN", "z", "0"]).await, empty());
        assert_eq!(c.send(&["ZPOPMIN", "missing"]).await, empty());
        assert_eq!(c.send(&["ZPOPMIN", "z", "-1"]).await, err("ERR value is out of range, must be positive"));
        assert_eq!(c.send(&["ZPOPMIN", "z", "x"]).await, err("ERR value is out of range, must be positive"));
        assert_eq!(c.send(&["ZPOPMIN", "z", "1", "1"]).await, syntax_error());
        assert_eq!(c.send(&["ZMPOP", "2", "missing", "z", "MAX", "COUNT", "5"]).await,
            arr(vec![bulk("z"), arr(vec![bulks(&["c", "3"]), bulks(&["b", "2"])])]));
        assert_eq!(c.send(&["EXISTS", "z"]).await, int(0));
        assert_eq!(c.send(&["ZMPOP", "1", "z", "MIN"]).await, nil_array());
        assert_eq!(c.send(&["ZMPOP", "0", "z", "MIN"]).await, err("ERR numkeys should be greater than 0"));
        assert_eq!(c.send(&["ZMPOP", "x", "z", "MIN"]).await, err("ERR numkeys should be greater than 0"));
        assert_eq!(c.send(&["ZMPOP", "2", "z", "MIN"]).await, syntax_error());
        assert_eq!(c.send(&["ZMPOP", "1", "z", "FOO"]).await, syntax_error());
        assert_eq!(c.send(&["ZMPOP", "1", "z", "MIN", "COUNT", "0"]).await,
            err("ERR count should be greater than 0"));
        assert_eq!(c.send(&["ZMPOP", "1", "z", "MIN", "COUNT", "1", "COUNT", "1"]).await, syntax_error());
        assert_eq!(c.send(&["ZMPOP", "1", "z"]).await, wrong_args("zmpop"));
        assert_eq!(c.send(&["SET", "s", "v"]).await, ok());
        assert_eq!(c.send(&["ZPOPMIN", "s"]).await, wrongtype());
        assert_eq!(c.send(&["ZMPOP", "2", "missing", "s", "MIN"]).await, wrongtype());
        // RESP3: ZPOPMIN without COUNT stays flat; with COUNT, and ZMPOP, nest pairs.
        c.send(&["HELLO", "3"]).await;
        assert_eq!(c.send(&["ZADD", "r", "1", "a", "2", "b", "3", "c"]).await, int(3));
        assert_eq!(c.send(&["ZPOPMIN", "r"]).await, arr(vec![bulk("a"), dbl(1.0)]));
        assert_eq!(c.send(&["ZPOPMIN", "r", "1"]).await, arr(vec![pair("b", 2.0)]));
        assert_eq!(c.send(&["ZMPOP", "1", "r", "MAX"]).await, arr(vec![bulk("r"), arr(vec![pair("c", 3.0)])]));
        assert_eq!(c.send(&["ZMPOP", "1", "r", "MAX"]).await, Frame::Null);
    }

    async fn zrandmember_forms(server: &TestServer) {
        let mut c = server.raw().await;
        abcde(&mut c).await;
        let all = ["a", "b", "c", "d", "e"];
        let one = text(&c.send(&["ZRANDMEMBER", "z"]).await);
        assert!(all.contains(&one.as_str()));
        assert_eq!(c.send(&["ZRANDMEMBER", "z", "5"]).await, bulks(&["e", "d", "c", "b", "a"]));
        assert_eq!(c.send(&["ZRANDMEMBER", "z", "9", "WITHSCORES"]).await,
            bulks(&["e", "5", "d", "4", "c", "3", "b", "2", "a", "1"]));
        let mut three = texts(&c.send(&["ZRANDMEMBER", "z", "3"]).await);
        three.sort();
        three.dedup();
        assert_eq!(three.len(), 3);
        let many = texts(&c.send(&["ZRANDMEMBER", "z", "-20"]).await);
        assert_eq!(many.len(), 20);
        assert!(many.iter().all(|m| all.contains(&m.as_str())));
        let scored = texts(&c.send(&["ZRANDMEMBER", "z", "-4", "WITHSCORES"]).await);
        assert_eq!(scored.len(), 8);
        for p in scored.chunks(2) {
            assert_eq!(p[1], (p[0].as_bytes()[0] - b'a' + 1).to_string());
        }
        assert_eq!(c.send(&["ZRANDMEMBER", "z", "0"]).await, empty());
        assert_eq!(c.send(&["ZRANDMEMBER", "missing"]).await, nil());
        assert_eq!(c.send(&["ZRANDMEMBER", "missing", "2"]).await, empty());
        assert_eq!(c.send(&["ZRANDMEMBER", "z", "x"]).await, not_integer());
        assert_eq!(c.send(&["ZRANDMEMBER", "z", "1", "x"]).await, syntax_error());
        assert_eq!(c.send(&["ZRANDMEMBER", "z", "-9223372036854775808"]).await,
            err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"));
        assert_eq!(c.send(&["ZRANDMEMBER", "z", "-4611686018427387905", "WITHSCORES"]).await,
            err("ERR value is out of range"));
        assert_eq!(c.send(&["SET", "s", "v"]).await, ok());
        assert_eq!(c.send(&["ZRANDMEMBER", "s"]).await, wrongtype());
        assert_eq!(c.send(&["ZRANDMEMBER", "s", "1"]).await, wrongtype());
        // Big set: distinct picks.
        big(&mut c).await;
        let mut picks = texts(&c.send(&["ZRANDMEMBER", "big", "30"]).await);
        picks.sort();
        picks.dedup();
        assert_eq!(picks.len(), 30);
        let mut picks = texts(&c.send(&["ZRANDMEMBER", "big", "150"]).await);
        picks.sort();
        picks.dedup();
        assert_eq!(picks.len(), 150);
        c.send(&["HELLO", "3"]).await;
        assert_eq!(c.send(&["ZRANDMEMBER", "z", "5", "WITHSCORES"]).await, arr(vec![
            pair("e", 5.0), pair("d", 4.0), pair("c", 3.0), pair("b", 2.0), pair("a", 1.0),
        ]));
    }

    async fn algebra(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["ZADD", "z1", "1", "a", "2", "b", "3", "c"]).await, int(3));
        assert_eq!(c.send(&["ZADD", "z2", "10", "b", "20", "c", "30", "d"]).await, int(3));
        assert_eq!(c.send(&["SADD", "s", "a", "c", "x"]).await, int(3));
        assert_eq!(c.send(&["ZUNION", "2", "z1", "z2", "WITHSCORES"]).await,
            bulks(&["a", "1", "b", "12", "c", "23", "d", "30"]));
        assert_eq!(c.send(&["ZUNION", "2", "z1", "z2", "WEIGHTS", "2", "-1", "AGGREGATE", "MAX", "WITHSCORES"]).await,
            bulks(&["d", "-30", "c", "6", "b", "4", "a", "2"]).sort_pairs());
        assert_eq!(c.send(&["ZINTER", "2", "z1", "z2"]).await, bulks(&["b", "c"]));
        assert_eq!(c.send(&["ZINTER", "2", "z1", "z2", "AGGREGATE", "MIN", "WITHSCORES"]).await,
            bulks(&["b", "2", "c", "3"]));
        assert_eq!(c.send(&["ZDIFF", "2", "z2", "z1", "WITHSCORES"]).await, bulks(&["d", "30"]));
        assert_eq!(c.send(&["ZUNION", "2", "z1", "s", "WITHSCORES"]).await,
            bulks(&["x", "1", "a", "2", "b", "2", "c", "4"]));
        assert_eq!(c.send(&["ZINTER", "2", "s", "z2", "WITHSCORES"]).await, bulks(&["c", "21"]));
        assert_eq!(c.send(&["ZDIFF", "2", "s", "z1"]).await, bulks(&["x"]));
        assert_eq!(c.send(&["ZINTERCARD", "2", "z1", "z2"]).await, int(2));
        assert_eq!(c.send(&["ZINTERCARD", "3", "z1", "z2", "s", "LIMIT", "5"]).await, int(1));
        assert_eq!(c.send(&["ZINTERCARD", "2", "z1", "z2", "LIMIT", "1"]).await, int(1));
        // Stores.
        assert_eq!(c.send(&["ZUNIONSTORE", "dst", "2", "z1", "z2", "WEIGHTS", "1", "0.5"]).await, int(4));
        assert_eq!(c.send(&["ZRANGE", "dst", "0", "-1", "WITHSCORES"]).await,
            bulks(&["a", "1", "b", "7", "c", "13", "d", "15"]));
        assert_eq!(c.send(&["ZINTERSTORE", "dst", "2", "z1", "z2"]).await, int(2));
        assert_eq!(c.send(&["ZDIFFSTORE", "dst", "2", "z1", "z2"]).await, int(1));
        assert_eq!(c.send(&["ZRANGE", "dst", "0", "-1", "WITHSCORES"]).await, bulks(&["a", "1"]));
        assert_eq!(c.send(&["ZINTERSTORE", "dst", "2", "z1", "missing"]).await, int(0));
        assert_eq!(c.send(&["EXISTS", "dst"]).await, int(0));
        assert_eq!(c.send(&["ZUNIONSTORE", "s", "2", "s", "z1"]).await, int(4));
        assert_eq!(c.send(&["TYPE", "s"]).await, simple("zset"));
        // inf + -inf = 0; 0 * inf = 0.
        assert_eq!(c.send(&["ZADD", "i1", "inf", "a"]).await, int(1));
        assert_eq!(c.send(&["ZADD", "i2", "-inf", "a"]).await, int(1));
        assert_eq!(c.send(&["ZUNIONSTORE", "sum", "2", "i1", "i2"]).await, int(1));
        assert_eq!(c.send(&["ZSCORE", "sum", "a"]).await, bulk("0"));
        assert_eq!(c.send(&["ZINTER", "2", "i1", "i2", "WEIGHTS", "0", "1", "WITHSCORES"]).await,
            bulks(&["a", "-inf"]));
        // Errors.
        assert_eq!(c.send(&["ZUNION", "0", "z1"]).await,
            err("ERR at least 1 input key is needed for 'zunion' command"));
        assert_eq!(c.send(&["ZINTERSTORE", "d", "0", "z1"]).await,
            err("ERR at least 1 input key is needed for 'zinterstore' command"));
        assert_eq!(c.send(&["ZINTERCARD", "0", "z1"]).await,
            err("ERR at least 1 input key is needed for 'zintercard' command"));
        assert_eq!(c.send(&["ZUNION", "x", "z1"]).await, not_integer());
        assert_eq!(c.send(&["ZUNION", "3", "z1", "z2"]).await, syntax_error());
        assert_eq!(c.send(&["ZUNION", "2", "z1", "z2", "WEIGHTS", "1"]).await, syntax_error());
        assert_eq!(c.send(&["ZUNION", "1", "z1", "WEIGHTS", "x"]).await, err("ERR weight value is not a float"));
        assert_eq!(c.send(&["ZUNION", "1", "z1", "AGGREGATE", "AVG"]).await, syntax_error());
        assert_eq!(c.send(&["ZDIFF", "1", "z1", "WEIGHTS", "1"]).await, syntax_error());
        assert_eq!(c.send(&["ZUNIONSTORE", "d", "1", "z1", "WITHSCORES"]).await, syntax_error());
        assert_eq!(c.send(&["ZINTERCARD", "1", "z1", "LIMIT", "-1"]).await, err("ERR LIMIT can't be negative"));
        assert_eq!(c.send(&["ZINTERCARD", "1", "z1", "WITHSCORES"]).await, syntax_error());
        assert_eq!(c.send(&["ZUNION", "1"]).await, wrong_args("zunion"));
        assert_eq!(c.send(&["ZUNIONSTORE", "d", "1"]).await, wrong_args("zunionstore"));
        assert_eq!(c.send(&["SET", "str", "v"]).await, ok());
        assert_eq!(c.send(&["ZUNION", "2", "z1", "str", "BAD"]).await, wrongtype());
        assert_eq!(c.send(&["ZINTERCARD", "1", "str"]).await, wrongtype());
        c.send(&["HELLO", "3"]).await;
        assert_eq!(c.send(&["ZINTER", "2", "z1", "z2", "WITHSCORES"]).await,
            arr(vec![pair("b", 12.0), pair("c", 23.0)]));
        assert_eq!(c.send(&["ZDIFF", "1", "z1", "WITHSCORES"]).await,
            arr(vec![pair("a", 1.0), pair("b", 2.0), pair("c", 3.0)]));
    }

    async fn zscan_pages(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["ZADD", "z", "1", "a", "2.5", "b", "1e20", "c", "-inf", "d", "123456789012345678", "e"]).await, int(5));
        // A small set comes whole, its scores as the compact encoding stores them.
        assert_eq!(c.send(&["ZSCAN", "z", "0"]).await,
            arr(vec![bulk("0"), bulks(&["d", "-inf", "a", "1", "b", "2.5", "e", "123456789012345680", "c", "1e+20"])]));
        assert_eq!(c.send(&["ZSCAN", "z", "0", "MATCH", "[bc]", "COUNT", "100"]).await,
            arr(vec![bulk("0"), bulks(&["b", "2.5", "c", "1e+20"])]));
        assert_eq!(c.send(&["ZSCAN", "missing", "0"]).await, arr(vec![bulk("0"), empty()]));
        assert_eq!(c.send(&["ZSCAN", "missing", "0", "COUNT", "0"]).await, arr(vec![bulk("0"), empty()]));
        assert_eq!(c.send(&["ZSCAN", "z", "x"]).await, err("ERR invalid cursor"));
        assert_eq!(c.send(&["ZSCAN", "z", "0", "COUNT", "0"]).await, syntax_error());
        assert_eq!(c.send(&["ZSCAN", "z", "0", "TYPE", "zset"]).await, syntax_error());
        assert_eq!(c.send(&["ZSCAN", "z"]).await, wrong_args("zscan"));
        assert_eq!(c.send(&["SET", "s", "v"]).await, ok());
        assert_eq!(c.send(&["ZSCAN", "s", "0"]).await, wrongtype());
        // A big set is paged; a full iteration sees every member once at least.
        big(&mut c).await;
        let mut cursor = "0".to_string();
        let mut seen = std::collections::BTreeMap::new();
        for _ in 0..1000 {
            let reply = c.send(&["ZSCAN", "big", &cursor, "COUNT", "20"]).await;
            let parts = items(&reply);
            cursor = text(&parts[0]);
            for p in texts(&parts[1]).chunks(2) {
                seen.insert(p[0].clone(), p[1].clone());
            }
            if cursor == "0" {
                break;
            }
        }
        assert_eq!(cursor, "0");
        assert_eq!(seen.len(), 200);
        assert_eq!(seen["m042"], "42");
        assert_eq!(c.send(&["ZADD", "big", "123456789012345678", "m042"]).await, int(0));
        let mut cursor = "0".to_string();
        let mut found = None;
        for _ in 0..1000 {
            let reply = c.send(&["ZSCAN", "big", &cursor, "MATCH", "m042"]).await;
            let parts = items(&reply);
            cursor = text(&parts[0]);
            if let [_, score] = &texts(&parts[1])[..] {
                found = Some(score.clone());
            }
            if cursor == "0" {
                break;
            }
        }
        assert_eq!(found.as_deref(), Some("1.2345678901234568e+17"));
        // RESP3 keeps scores as bulk strings.
        c.send(&["HELLO", "3"]).await;
        assert_eq!(c.send(&["ZSCAN", "z", "0", "MATCH", "b"]).await, arr(vec![bulk("0"), bulks(&["b", "2.5"])]));
    }

    async fn expiry_and_keyspace(server: &TestServer) {
        let mut c = server.raw().await;
        abcde(&mut c).await;
        // Element writes keep the key's TTL.
        assert_eq!(c.send(&["EXPIRE", "z", "100"]).await, int(1));
        assert_eq!(c.send(&["ZADD", "z", "6", "f"]).await, int(1));
        assert_eq!(c.send(&["ZINCRBY", "z", "1", "f"]).await, bulk("7"));
        assert_eq!(c.send(&["ZREM", "z", "f"]).await, int(1));
        assert_eq!(c.send(&["ZPOPMIN", "z"]).await, bulks(&["a", "1"]));
        assert!(as_int(&c.send(&["TTL", "z"]).await) > 90);
        // An expired set is gone for every command.
        assert_eq!(c.send(&["PEXPIRE", "z", "1"]).await, int(1));
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        assert_eq!(c.send(&["ZCARD", "z"]).await, int(0));
        assert_eq!(c.send(&["ZRANGE", "z", "0", "-1"]).await, empty());
        assert_eq!(c.send(&["ZADD", "z", "1", "x"]).await, int(1));
        assert_eq!(c.send(&["TTL", "z"]).await, int(-1));
        assert_eq!(c.send(&["ZRANGE", "z", "0", "-1"]).await, bulks(&["x"]));
        // Generic commands see a zset.
        assert_eq!(c.send(&["TYPE", "z"]).await, simple("zset"));
        assert_eq!(c.send(&["RENAME", "z", "z2"]).await, ok());
        assert_eq!(c.send(&["ZSCORE", "z2", "x"]).await, bulk("1"));
        assert_eq!(c.send(&["DEL", "z2"]).await, int(1));
        assert_eq!(c.send(&["ZCARD", "z2"]).await, int(0));
        // Binary-safe members.
        assert_eq!(c.send_bin(&[b"ZADD", b"bin", b"1", b"\x00\xff\r\n"]).await, int(1));
        assert_eq!(c.send_bin(&[b"ZSCORE", b"bin", b"\x00\xff\r\n"]).await, bulk("1"));
        assert_eq!(c.send_bin(&[b"ZRANGE", b"bin", b"0", b"-1"]).await, arr(vec![bulk(b"\x00\xff\r\n")]));
    }
}

/// Test-only: a flat `member score ...` array ordered by score, then member.
trait SortPairs {
    fn sort_pairs(self) -> Frame;
}

impl SortPairs for Frame {
    fn sort_pairs(self) -> Frame {
        let t = texts(&self);
        let mut pairs: Vec<(String, String)> =
            t.chunks(2).map(|p| (p[0].clone(), p[1].clone())).collect();
        pairs.sort_by(|a, b| {
            let (x, y): (f64, f64) = (a.1.parse().expect("score"), b.1.parse().expect("score"));
            x.partial_cmp(&y)
                .expect("no NaN")
                .then_with(|| a.0.cmp(&b.0))
        });
        arr(pairs
            .into_iter()
            .flat_map(|(m, s)| [bulk(m), bulk(s)])
            .collect())
    }
}
