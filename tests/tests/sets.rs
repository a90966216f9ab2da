//! Set commands: SADD SREM SCARD SISMEMBER SMISMEMBER SMEMBERS SPOP SRANDMEMBER SMOVE
//! SINTER SINTERCARD SINTERSTORE SUNION SUNIONSTORE SDIFF SDIFFSTORE SSCAN, with their
//! error replies, RESP2/RESP3 reply shapes and keyspace statistics. Set replies have no
//! defined order, so members are compared sorted.

use std::collections::BTreeSet;

use ferrokv_tests::*;

/// Adds `members` to `key`, in one SADD.
async fn sadd(c: &mut RawClient, key: &str, members: &[String]) -> Frame {
    let mut cmd = vec!["SADD", key];
    cmd.extend(members.iter().map(String::as_str));
    c.send(&cmd).await
}

/// `prefix0 .. prefix{n-1}`.
fn names(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}")).collect()
}

/// The members of a set or array reply, sorted.
fn members(frame: &Frame) -> Vec<String> {
    sorted_texts(frame)
}

/// A keyspace counter from `INFO stats`.
async fn stat(c: &mut RawClient, name: &str) -> i64 {
    let info = text(&c.send(&["INFO", "stats"]).await);
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .unwrap_or_else(|| panic!("{name} in INFO stats"))
        .trim()
        .parse()
        .expect("a number")
}

/// Every member seen by a full SSCAN iteration with these options.
async fn sscan_all(c: &mut RawClient, key: &str, opts: &[&str]) -> Vec<String> {
    let mut cursor = "0".to_string();
    let mut seen = Vec::new();
    for _ in 0..100_000 {
        let mut cmd = vec!["SSCAN", key, cursor.as_str()];
        cmd.extend_from_slice(opts);
        let reply = c.send(&cmd).await;
        let parts = items(&reply);
        assert_eq!(parts.len(), 2, "{reply:?}");
        seen.extend(items(&parts[1]).iter().map(text));
        cursor = text(&parts[0]);
        if cursor == "0" {
            return seen;
        }
    }
    panic!("SSCAN did not finish");
}

backend_tests! {
    async fn sadd_srem_scard(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["SADD", "s", "a", "b", "a"]).await, int(2));
        assert_eq!(c.send(&["SADD", "s", "b", "c"]).await, int(1));
        assert_eq!(c.send(&["SCARD", "s"]).await, int(3));
        assert_eq!(c.send(&["SCARD", "missing"]).await, int(0));
        assert_eq!(c.send(&["TYPE", "s"]).await, simple("set"));
        assert_eq!(c.send(&["SREM", "s", "a", "zz", "a"]).await, int(1));
        assert_eq!(c.send(&["SREM", "missing", "a"]).await, int(0));
        assert_eq!(members(&c.send(&["SMEMBERS", "s"]).await), ["b", "c"]);
        // The last member out deletes the key.
        assert_eq!(c.send(&["SREM", "s", "b", "c"]).await, int(2));
        assert_eq!(c.send(&["EXISTS", "s"]).await, int(0));
        // Binary-safe, empty and integer-looking members (an intset in Redis).
        assert_eq!(c.send_bin(&[b"SADD", b"bin", b"\x00\xff", b"", b"\r\n"]).await, int(3));
        assert_eq!(c.send_bin(&[b"SISMEMBER", b"bin", b"\x00\xff"]).await, int(1));
        assert_eq!(c.send_bin(&[b"SISMEMBER", b"bin", b""]).await, int(1));
        assert_eq!(c.send(&["SADD", "ints", "1", "2", "-3", "1"]).await, int(3));
        assert_eq!(c.send(&["SISMEMBER", "ints", "01"]).await, int(0));
        assert_eq!(c.send(&["SADD", "ints", "x"]).await, int(1));
        assert_eq!(members(&c.send(&["SMEMBERS", "ints"]).await), ["-3", "1", "2", "x"]);
        // SADD keeps the key's expiry.
        assert_eq!(c.send(&["EXPIRE", "ints", "100"]).await, int(1));
        assert_eq!(c.send(&["SADD", "ints", "y"]).await, int(1));
        assert_eq!(c.send(&["TTL", "ints"]).await, int(100));
        // Wrong type and arity.
        assert_eq!(c.send(&["SET", "str", "v"]).await, ok());
        assert_eq!(c.send(&["SADD", "str", "a"]).await, wrongtype());
        assert_eq!(c.send(&["SREM", "str", "a"]).await, wrongtype());
        assert_eq!(c.send(&["SCARD", "str"]).await, wrongtype());
        assert_eq!(c.send(&["GET", "str"]).await, bulk("v"));
        assert_eq!(c.send(&["SADD", "s"]).await, wrong_args("sadd"));
        assert_eq!(c.send(&["SREM", "s"]).await, wrong_args("srem"));
        assert_eq!(c.send(&["SCARD"]).await, wrong_args("scard"));
        assert_eq!(c.send(&["SCARD", "a", "b"]).await, wrong_args("scard"));
    }

    async fn sismember_smismember(server: &TestServer) {
        let mut c = server.raw().await;
        c.send(&["SADD", "s", "a", "1"]).await;
        assert_eq!(c.send(&["SISMEMBER", "s", "a"]).await, int(1));
        assert_eq!(c.send(&["SISMEMBER", "s", "b"]).await, int(0));
        assert_eq!(c.send(&["SISMEMBER", "missing", "a"]).await, int(0));
        assert_eq!(c.send(&["SMISMEMBER", "s", "a", "b", "1"]).await, ints(&[1, 0, 1]));
        assert_eq!(c.send(&["SMISMEMBER", "missing", "a", "b"]).await, ints(&[0, 0]));
        c.send(&["SET", "str", "v"]).await;
        assert_eq!(c.send(&["SISMEMBER", "str", "a"]).await, wrongtype());
        assert_eq!(c.send(&["SMISMEMBER", "str", "a"]).await, wrongtype());
        assert_eq!(c.send(&["SISMEMBER", "s"]).await, wrong_args("sismember"));
        assert_eq!(c.send(&["SISMEMBER", "s", "a", "b"]).await, wrong_args("sismember"));
        assert_eq!(c.send(&["SMISMEMBER", "s"]).await, wrong_args("smismember"));
    }

    async fn reply_shapes_resp2_and_resp3(server: &TestServer) {
        let mut c = server.raw().await;
        c.send(&["SADD", "s", "a", "b", "c"]).await;
        c.send(&["SADD", "big", "a", "b", "c", "d", "e", "f", "g", "h"]).await;
        // RESP2: everything is an array.
        let (_, wire) = c.send_raw_reply(&[b"SMEMBERS", b"missing"]).await;
        assert_eq!(&wire[..], b"*0\r\n");
        let (_, wire) = c.send_raw_reply(&[b"SPOP", b"missing", b"2"]).await;
        assert_eq!(&wire[..], b"*0\r\n");
        let (_, wire) = c.send_raw_reply(&[b"SPOP", b"missing"]).await;
        assert_eq!(&wire[..], b"$-1\r\n");
        assert!(matches!(c.send(&["SMEMBERS", "s"]).await, Frame::Array(_)));
        // RESP3: SMEMBERS, the algebra and SPOP with a count reply sets; SRANDMEMBER
        // with a count and SSCAN reply arrays.
        c.send(&["HELLO", "3"]).await;
        for cmd in [
            vec!["SMEMBERS", "s"],
            vec!["SINTER", "s", "big"],
            vec!["SUNION", "s", "missing"],
            vec!["SDIFF", "big", "s"],
            vec!["SPOP", "big", "1"],
            vec!["SPOP", "big", "0"],
        ] {
            let reply = c.send(&cmd).await;
            assert!(matches!(reply, Frame::Set(_)), "{cmd:?}: {reply:?}");
        }
        for (cmd, wire) in [
            (&[&b"SMEMBERS"[..], b"missing"][..], &b"~0\r\n"[..]),
            (&[b"SINTER", b"s", b"missing"], b"~0\r\n"),
            (&[b"SPOP", b"missing", b"3"], b"~0\r\n"),
            (&[b"SRANDMEMBER", b"missing", b"3"], b"*0\r\n"),
            (&[b"SRANDMEMBER", b"s", b"0"], b"*0\r\n"),
            (&[b"SRANDMEMBER", b"missing"], b"_\r\n"),
            (&[b"SPOP", b"missing"], b"_\r\n"),
        ] {
            let (_, got) = c.send_raw_reply(cmd).await;
            assert_eq!(&got[..], wire, "{:?}", String::from_utf8_lossy(cmd[0]));
        }
        for cmd in [vec!["SRANDMEMBER", "s", "2"], vec!["SRANDMEMBER", "s", "-2"]] {
            let reply = c.send(&cmd).await;
            assert!(matches!(reply, Frame::Array(_)), "{cmd:?}: {reply:?}");
        }
        let scan = c.send(&["SSCAN", "s", "0"]).await;
        assert!(matches!(&scan, Frame::Array(p) if matches!(p[1], Frame::Array(_))));
        assert_eq!(c.send(&["SMISMEMBER", "s", "a", "z"]).await, ints(&[1, 0]));
    }

    async fn spop(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["SPOP", "missing"]).await, nil());
        c.send(&["SADD", "s", "a", "b", "c"]).await;
        let mut popped = Vec::new();
        for _ in 0..3 {
            popped.push(text(&c.send(&["SPOP", "s"]).await));
        }
        popped.sort();
        assert_eq!(popped, ["a", "b", "c"]);
        assert_eq!(c.send(&["EXISTS", "s"]).await, int(0));
        // Counts: checked before the key; 0 and missing keys reply empty.
        let range = err("ERR value is out of range, must be positive");
        assert_eq!(c.send(&["SPOP", "missing", "-1"]).await, range);
        assert_eq!(c.send(&["SPOP", "missing", "abc"]).await, range);
        assert_eq!(c.send(&["SPOP", "missing", "3"]).await, arr(vec![]));
        assert_eq!(c.send(&["SPOP", "missing", "0"]).await, arr(vec![]));
        c.send(&["SET", "str", "v"]).await;
        assert_eq!(c.send(&["SPOP", "str"]).await, wrongtype());
        assert_eq!(c.send(&["SPOP", "str", "0"]).await, wrongtype());
        assert_eq!(c.send(&["SPOP", "str", "-1"]).await, range);
        assert_eq!(c.send(&["SPOP", "s", "1", "2"]).await, syntax_error());
        assert_eq!(c.send(&["SPOP"]).await, wrong_args("spop"));
        // Distinct members, never popped twice, over both of Redis' strategies (a few
        // draws from a large set, most of a set) and both encodings.
        for (key, all) in [("strs", names("m", 300)), ("nums", names("", 300))] {
            sadd(&mut c, key, &all).await;
            assert_eq!(c.send(&["SPOP", key, "0"]).await, arr(vec![]));
            let mut seen = BTreeSet::new();
            for count in [1usize, 7, 50, 200] {
                let got = members(&c.send(&["SPOP", key, &count.to_string()]).await);
                assert_eq!(got.len(), count);
                for m in got {
                    assert!(all.contains(&m), "{m} was never added");
                    assert!(seen.insert(m), "popped twice");
                }
            }
            assert_eq!(c.send(&["SCARD", key]).await, int(42));
            let rest = members(&c.send(&["SPOP", key, "1000"]).await);
            assert_eq!(rest.len(), 42);
            seen.extend(rest);
            assert_eq!(seen.len(), 300);
            assert_eq!(c.send(&["EXISTS", key]).await, int(0));
        }
        // Exactly the whole set.
        c.send(&["SADD", "t", "x", "y"]).await;
        assert_eq!(members(&c.send(&["SPOP", "t", "2"]).await), ["x", "y"]);
        assert_eq!(c.send(&["EXISTS", "t"]).await, int(0));
    }

    async fn srandmember(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["SRANDMEMBER", "missing"]).await, nil());
        assert_eq!(c.send(&["SRANDMEMBER", "missing", "3"]).await, arr(vec![]));
        assert_eq!(c.send(&["SRANDMEMBER", "missing", "-3"]).await, arr(vec![]));
        c.send(&["SADD", "s", "a", "b", "c"]).await;
        for _ in 0..10 {
            let m = text(&c.send(&["SRANDMEMBER", "s"]).await);
            assert!(["a", "b", "c"].contains(&m.as_str()));
        }
        assert_eq!(c.send(&["SRANDMEMBER", "s", "0"]).await, arr(vec![]));
        assert_eq!(members(&c.send(&["SRANDMEMBER", "s", "3"]).await), ["a", "b", "c"]);
        assert_eq!(members(&c.send(&["SRANDMEMBER", "s", "100"]).await), ["a", "b", "c"]);
        let picks = members(&c.send(&["SRANDMEMBER", "s", "-20"]).await);
        assert_eq!(picks.len(), 20);
        assert!(picks.iter().all(|m| ["a", "b", "c"].contains(&m.as_str())));
        assert_eq!(c.send(&["SCARD", "s"]).await, int(3));
        assert_eq!(c.send(&["SRANDMEMBER", "s", "abc"]).await, not_integer());
        assert_eq!(
            c.send(&["SRANDMEMBER", "s", "-9223372036854775808"]).await,
            err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
        );
        c.send(&["SET", "str", "v"]).await;
        assert_eq!(c.send(&["SRANDMEMBER", "str", "abc"]).await, not_integer());
        assert_eq!(c.send(&["SRANDMEMBER", "str"]).await, wrongtype());
        assert_eq!(c.send(&["SRANDMEMBER", "str", "0"]).await, wrongtype());
        assert_eq!(c.send(&["SRANDMEMBER", "s", "1", "2"]).await, syntax_error());
        assert_eq!(c.send(&["SRANDMEMBER"]).await, wrong_args("srandmember"));
        // Positive counts are distinct whatever strategy applies; the set is unchanged.
        let all = names("m", 600);
        sadd(&mut c, "big", &all).await;
        for count in [1usize, 10, 199, 200, 201, 450, 599, 600, 1000] {
            let got = members(&c.send(&["SRANDMEMBER", "big", &count.to_string()]).await);
            assert_eq!(got.len(), count.min(600), "count {count}");
            let distinct: BTreeSet<&String> = got.iter().collect();
            assert_eq!(distinct.len(), got.len(), "count {count}");
            assert!(got.iter().all(|m| all.contains(m)));
        }
        let got = members(&c.send(&["SRANDMEMBER", "big", "-1000"]).await);
        assert_eq!(got.len(), 1000);
        let distinct: BTreeSet<&String> = got.iter().collect();
        assert!(distinct.len() < 1000, "1000 picks among 600 must repeat");
        assert!(distinct.len() > 300, "picks should spread: {}", distinct.len());
        assert_eq!(c.send(&["SCARD", "big"]).await, int(600));
    }

    async fn smove(server: &TestServer) {
        let mut c = server.raw().await;
        c.send(&["SADD", "src", "a", "b", "c"]).await;
        c.send(&["SADD", "dst", "x"]).await;
        c.send(&["SET", "str", "v"]).await;
        assert_eq!(c.send(&["SMOVE", "src", "dst", "a"]).await, int(1));
        assert_eq!(members(&c.send(&["SMEMBERS", "src"]).await), ["b", "c"]);
        assert_eq!(members(&c.send(&["SMEMBERS", "dst"]).await), ["a", "x"]);
        assert_eq!(c.send(&["SMOVE", "src", "dst", "zz"]).await, int(0));
        // Already in the destination: still leaves the source.
        c.send(&["SADD", "dst", "b"]).await;
        assert_eq!(c.send(&["SMOVE", "src", "dst", "b"]).await, int(1));
        assert_eq!(members(&c.send(&["SMEMBERS", "src"]).await), ["c"]);
        assert_eq!(c.send(&["SCARD", "dst"]).await, int(3));
        // The source empties (deleted); the destination is created.
        assert_eq!(c.send(&["SMOVE", "src", "new", "c"]).await, int(1));
        assert_eq!(c.send(&["EXISTS", "src"]).await, int(0));
        assert_eq!(members(&c.send(&["SMEMBERS", "new"]).await), ["c"]);
        assert_eq!(c.send(&["TTL", "new"]).await, int(-1));
        // Source and destination the same: membership only.
        assert_eq!(c.send(&["SMOVE", "new", "new", "c"]).await, int(1));
        assert_eq!(c.send(&["SMOVE", "new", "new", "q"]).await, int(0));
        assert_eq!(members(&c.send(&["SMEMBERS", "new"]).await), ["c"]);
        // Types: a missing source wins over a wrong-type destination.
        assert_eq!(c.send(&["SMOVE", "missing", "str", "a"]).await, int(0));
        assert_eq!(c.send(&["SMOVE", "new", "str", "c"]).await, wrongtype());
        assert_eq!(c.send(&["SMOVE", "new", "str", "q"]).await, wrongtype());
        assert_eq!(c.send(&["SMOVE", "str", "new", "c"]).await, wrongtype());
        assert_eq!(c.send(&["SMOVE", "str", "str", "c"]).await, wrongtype());
        assert_eq!(members(&c.send(&["SMEMBERS", "new"]).await), ["c"]);
        assert_eq!(c.send(&["SMOVE", "a", "b"]).await, wrong_args("smove"));
        assert_eq!(c.send(&["SMOVE", "a", "b", "c", "d"]).await, wrong_args("smove"));
    }

    async fn sinter_sintercard_sinterstore(server: &TestServer) {
        let mut c = server.raw().await;
        c.send(&["SADD", "a", "1", "2", "3", "x"]).await;
        c.send(&["SADD", "b", "2", "3", "4", "x", "y"]).await;
        c.send(&["SADD", "c", "3", "x", "z"]).await;
        c.send(&["SET", "str", "v"]).await;
        assert_eq!(members(&c.send(&["SINTER", "a", "b", "c"]).await), ["3", "x"]);
        assert_eq!(members(&c.send(&["SINTER", "a", "a"]).await), ["1", "2", "3", "x"]);
        assert_eq!(c.send(&["SINTER", "a", "missing"]).await, arr(vec![]));
        // Every key's type is checked, even after a missing key.
        assert_eq!(c.send(&["SINTER", "missing", "str"]).await, wrongtype());
        assert_eq!(c.send(&["SINTER", "str", "missing"]).await, wrongtype());
        assert_eq!(c.send(&["SINTER"]).await, wrong_args("sinter"));

        assert_eq!(c.send(&["SINTERCARD", "3", "a", "b", "c"]).await, int(2));
        assert_eq!(c.send(&["SINTERCARD", "2", "a", "b"]).await, int(3));
        assert_eq!(c.send(&["SINTERCARD", "2", "a", "b", "LIMIT", "2"]).await, int(2));
        assert_eq!(c.send(&["SINTERCARD", "2", "a", "b", "limit", "0"]).await, int(3));
        assert_eq!(c.send(&["SINTERCARD", "2", "a", "b", "LIMIT", "1", "LIMIT", "9"]).await, int(3));
        assert_eq!(c.send(&["SINTERCARD", "2", "a", "missing"]).await, int(0));
        assert_eq!(c.send(&["SINTERCARD", "2", "missing", "str"]).await, wrongtype());
        let numkeys = err("ERR numkeys should be greater than 0");
        assert_eq!(c.send(&["SINTERCARD", "0", "a"]).await, numkeys);
        assert_eq!(c.send(&["SINTERCARD", "-1", "a"]).await, numkeys);
        assert_eq!(c.send(&["SINTERCARD", "x", "a"]).await, numkeys);
        assert_eq!(
            c.send(&["SINTERCARD", "3", "a", "b"]).await,
            err("ERR Number of keys can't be greater than number of args")
        );
        let negative = err("ERR LIMIT can't be negative");
        assert_eq!(c.send(&["SINTERCARD", "1", "a", "LIMIT", "-1"]).await, negative);
        assert_eq!(c.send(&["SINTERCARD", "1", "a", "LIMIT", "x"]).await, negative);
        assert_eq!(c.send(&["SINTERCARD", "1", "str", "LIMIT", "-1"]).await, negative);
        assert_eq!(c.send(&["SINTERCARD", "1", "a", "LIMIT"]).await, syntax_error());
        assert_eq!(c.send(&["SINTERCARD", "1", "a", "b"]).await, syntax_error());
        assert_eq!(c.send(&["SINTERCARD", "1"]).await, wrong_args("sintercard"));
        // Key extraction follows numkeys.
        assert_eq!(
            c.send(&["COMMAND", "GETKEYS", "SINTERCARD", "2", "a", "b", "LIMIT", "1"]).await,
            bulks(&["a", "b"])
        );

        assert_eq!(c.send(&["SINTERSTORE", "d", "a", "b"]).await, int(3));
        assert_eq!(members(&c.send(&["SMEMBERS", "d"]).await), ["2", "3", "x"]);
        // Into one of its sources; the old value's expiry goes.
        c.send(&["EXPIRE", "d", "100"]).await;
        assert_eq!(c.send(&["SINTERSTORE", "d", "d", "c"]).await, int(2));
        assert_eq!(members(&c.send(&["SMEMBERS", "d"]).await), ["3", "x"]);
        assert_eq!(c.send(&["TTL", "d"]).await, int(-1));
        // Over another type.
        c.send(&["SET", "str2", "v"]).await;
        assert_eq!(c.send(&["SINTERSTORE", "str2", "a", "c"]).await, int(2));
        assert_eq!(c.send(&["TYPE", "str2"]).await, simple("set"));
        // An empty result deletes the destination.
        assert_eq!(c.send(&["SINTERSTORE", "d", "a", "missing"]).await, int(0));
        assert_eq!(c.send(&["EXISTS", "d"]).await, int(0));
        c.send(&["SADD", "d", "old"]).await;
        assert_eq!(c.send(&["SINTERSTORE", "d", "b", "c", "z"]).await, int(0));
        assert_eq!(c.send(&["EXISTS", "d"]).await, int(0));
        // A wrong-type source leaves the destination alone.
        c.send(&["SADD", "d", "old"]).await;
        assert_eq!(c.send(&["SINTERSTORE", "d", "missing", "str"]).await, wrongtype());
        assert_eq!(members(&c.send(&["SMEMBERS", "d"]).await), ["old"]);
        assert_eq!(c.send(&["SINTERSTORE", "d"]).await, wrong_args("sinterstore"));
    }

    async fn sunion_sdiff_and_stores(server: &TestServer) {
        let mut c = server.raw().await;
        c.send(&["SADD", "a", "1", "2", "3", "4", "5"]).await;
        c.send(&["SADD", "b", "2", "x"]).await;
        c.send(&["SADD", "c", "3", "4", "6", "7", "8", "9", "10"]).await;
        c.send(&["SET", "str", "v"]).await;
        assert_eq!(
            members(&c.send(&["SUNION", "a", "missing", "b", "a"]).await),
            ["1", "2", "3", "4", "5", "x"]
        );
        assert_eq!(c.send(&["SUNION", "missing"]).await, arr(vec![]));
        assert_eq!(c.send(&["SUNION", "missing", "str"]).await, wrongtype());
        assert_eq!(c.send(&["SUNION"]).await, wrong_args("sunion"));
        assert_eq!(members(&c.send(&["SDIFF", "a", "b", "missing", "c"]).await), ["1", "5"]);
        assert_eq!(members(&c.send(&["SDIFF", "a", "missing"]).await), ["1", "2", "3", "4", "5"]);
        assert_eq!(c.send(&["SDIFF", "missing", "a"]).await, arr(vec![]));
        assert_eq!(c.send(&["SDIFF", "a", "b", "a"]).await, arr(vec![]));
        assert_eq!(c.send(&["SDIFF", "missing", "str"]).await, wrongtype());
        assert_eq!(c.send(&["SDIFF", "a", "str"]).await, wrongtype());
        assert_eq!(c.send(&["SDIFF"]).await, wrong_args("sdiff"));

        assert_eq!(c.send(&["SUNIONSTORE", "u", "a", "b"]).await, int(6));
        assert_eq!(members(&c.send(&["SMEMBERS", "u"]).await), ["1", "2", "3", "4", "5", "x"]);
        assert_eq!(c.send(&["SUNIONSTORE", "b", "b", "c"]).await, int(9));
        assert_eq!(c.send(&["SCARD", "b"]).await, int(9));
        assert_eq!(c.send(&["SUNIONSTORE", "u", "missing"]).await, int(0));
        assert_eq!(c.send(&["EXISTS", "u"]).await, int(0));
        assert_eq!(c.send(&["SUNIONSTORE", "u", "a", "str"]).await, wrongtype());
        assert_eq!(c.send(&["SUNIONSTORE", "u"]).await, wrong_args("sunionstore"));

        assert_eq!(c.send(&["SDIFFSTORE", "d", "a", "c"]).await, int(3));
        assert_eq!(members(&c.send(&["SMEMBERS", "d"]).await), ["1", "2", "5"]);
        c.send(&["PEXPIRE", "d", "100000"]).await;
        assert_eq!(c.send(&["SDIFFSTORE", "d", "d", "a", "zz"]).await, int(0));
        assert_eq!(c.send(&["EXISTS", "d"]).await, int(0));
        assert_eq!(c.send(&["SDIFFSTORE", "str", "a", "c"]).await, int(3));
        assert_eq!(c.send(&["TYPE", "str"]).await, simple("set"));
        assert_eq!(c.send(&["TTL", "str"]).await, int(-1));
        c.send(&["SET", "str", "v"]).await;
        assert_eq!(c.send(&["SDIFFSTORE", "d", "missing", "str"]).await, wrongtype());
        assert_eq!(c.send(&["SDIFFSTORE", "d"]).await, wrong_args("sdiffstore"));
    }

    async fn algebra_over_large_sets(server: &TestServer) {
        let mut c = server.raw().await;
        // Past set-max-intset-entries (512) and with strings, so Redis uses hash tables.
        let a: BTreeSet<String> = (0..1500).filter(|i| i % 2 == 0).map(|i| i.to_string()).collect();
        let b: BTreeSet<String> = (0..1500).filter(|i| i % 3 == 0).map(|i| i.to_string()).collect();
        let s: BTreeSet<String> = (0..800).map(|i| format!("s{}", i % 700)).chain(
            (0..100).map(|i| (i * 6).to_string())).collect();
        for (key, set) in [("a", &a), ("b", &b), ("s", &s)] {
            let v: Vec<String> = set.iter().cloned().collect();
            assert_eq!(sadd(&mut c, key, &v).await, int(set.len() as i64));
        }
        let list = |s: BTreeSet<String>| s.into_iter().collect::<Vec<_>>();
        let inter = list(&(&a & &b) & &s);
        let union = list(&(&a | &b) | &s);
        let diff = list(&(&a - &b) - &s);
        assert_eq!(inter.len(), 100);
        assert_eq!(members(&c.send(&["SINTER", "a", "b", "s"]).await), inter);
        assert_eq!(members(&c.send(&["SUNION", "a", "b", "s"]).await), union);
        assert_eq!(members(&c.send(&["SDIFF", "a", "b", "s"]).await), diff);
        assert_eq!(c.send(&["SINTERCARD", "3", "a", "b", "s"]).await, int(100));
        for limit in [1i64, 50, 99, 100, 101, 1000] {
            assert_eq!(
                c.send(&["SINTERCARD", "3", "s", "a", "b", "LIMIT", &limit.to_string()]).await,
                int(limit.min(100))
            );
        }
        assert_eq!(c.send(&["SINTERSTORE", "i", "a", "b", "s"]).await, int(100));
        assert_eq!(members(&c.send(&["SMEMBERS", "i"]).await), inter);
        assert_eq!(c.send(&["SUNIONSTORE", "u", "a", "b", "s"]).await, int(union.len() as i64));
        assert_eq!(members(&c.send(&["SMEMBERS", "u"]).await), union);
        assert_eq!(c.send(&["SDIFFSTORE", "a", "a", "b", "s"]).await, int(diff.len() as i64));
        assert_eq!(members(&c.send(&["SMEMBERS", "a"]).await), diff);
        // A small first set against large others (SDIFF walks or probes either way).
        c.send(&["SADD", "small", "0", "6", "7", "s1", "nope"]).await;
        assert_eq!(members(&c.send(&["SDIFF", "small", "b", "s"]).await), ["7", "nope"]);
    }

    async fn sscan(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["SSCAN", "missing", "0"]).await, arr(vec![bulk("0"), arr(vec![])]));
        c.send(&["SET", "str", "v"]).await;
        // Small set (one page in Redis) and a large one (many pages).
        c.send(&["SADD", "small", "apple", "avocado", "banana", "1"]).await;
        let mut got = sscan_all(&mut c, "small", &["COUNT", "1"]).await;
        got.sort();
        assert_eq!(got, ["1", "apple", "avocado", "banana"]);
        let mut got = sscan_all(&mut c, "small", &["MATCH", "a*"]).await;
        got.sort();
        assert_eq!(got, ["apple", "avocado"]);
        let all = names("member:", 1000);
        sadd(&mut c, "big", &all).await;
        for opts in [&[][..], &["COUNT", "7"], &["COUNT", "1000"], &["match", "*", "count", "50"]] {
            let got: BTreeSet<String> = sscan_all(&mut c, "big", opts).await.into_iter().collect();
            assert_eq!(got.len(), 1000, "{opts:?}");
        }
        let got: BTreeSet<String> =
            sscan_all(&mut c, "big", &["MATCH", "member:1?", "COUNT", "20"]).await.into_iter().collect();
        let expect: BTreeSet<String> = (10..20).map(|i| format!("member:{i}")).collect();
        assert_eq!(got, expect);
        // Errors: the cursor first, then the key, then the options.
        let invalid = err("ERR invalid cursor");
        assert_eq!(c.send(&["SSCAN", "small", "x"]).await, invalid);
        assert_eq!(c.send(&["SSCAN", "missing", "x"]).await, invalid);
        assert_eq!(c.send(&["SSCAN", "str", "x"]).await, invalid);
        assert_eq!(
            c.send(&["SSCAN", "missing", "0", "bogus"]).await,
            arr(vec![bulk("0"), arr(vec![])])
        );
        assert_eq!(c.send(&["SSCAN", "str", "0", "bogus"]).await, wrongtype());
        assert_eq!(c.send(&["SSCAN", "str", "0"]).await, wrongtype());
        assert_eq!(c.send(&["SSCAN", "small", "0", "bogus"]).await, syntax_error());
        assert_eq!(c.send(&["SSCAN", "small", "0", "COUNT", "0"]).await, syntax_error());
        assert_eq!(c.send(&["SSCAN", "small", "0", "COUNT", "x"]).await, not_integer());
        assert_eq!(c.send(&["SSCAN", "small", "0", "MATCH"]).await, syntax_error());
        assert_eq!(c.send(&["SSCAN", "small", "0", "TYPE", "set"]).await, syntax_error());
        assert_eq!(c.send(&["SSCAN", "small"]).await, wrong_args("sscan"));
    }

    async fn expired_sets_are_missing(server: &TestServer) {
        let mut c = server.raw().await;
        c.send(&["SADD", "s", "a", "b"]).await;
        c.send(&["SADD", "t", "a"]).await;
        assert_eq!(c.send(&["PEXPIRE", "s", "20"]).await, int(1));
        tokio::time::sleep(std::time::Duration::from_millis(60)).await;
        assert_eq!(c.send(&["SCARD", "s"]).await, int(0));
        assert_eq!(c.send(&["SISMEMBER", "s", "a"]).await, int(0));
        assert_eq!(c.send(&["SINTER", "t", "s"]).await, arr(vec![]));
        assert_eq!(members(&c.send(&["SUNION", "t", "s"]).await), ["a"]);
        // A new set under the expired name starts empty and persistent.
        assert_eq!(c.send(&["SADD", "s", "c"]).await, int(1));
        assert_eq!(members(&c.send(&["SMEMBERS", "s"]).await), ["c"]);
        assert_eq!(c.send(&["TTL", "s"]).await, int(-1));
    }

    async fn keyspace_hits_and_misses(server: &TestServer) {
        let mut c = server.raw().await;
        c.send(&["SADD", "s", "a"]).await;
        c.send(&["SET", "str", "v"]).await;
        assert_eq!(c.send(&["CONFIG", "RESETSTAT"]).await, ok());
        // Writes count nothing.
        c.send(&["SREM", "missing", "a"]).await;
        c.send(&["SPOP", "missing"]).await;
        c.send(&["SMOVE", "missing", "s", "a"]).await;
        c.send(&["SADD", "s", "b"]).await;
        assert_eq!(stat(&mut c, "keyspace_hits").await, 0);
        assert_eq!(stat(&mut c, "keyspace_misses").await, 0);
        c.send(&["SCARD", "s"]).await;
        c.send(&["SISMEMBER", "missing", "a"]).await;
        c.send(&["SMEMBERS", "str"]).await;
        c.send(&["SINTER", "s", "missing", "s"]).await;
        c.send(&["SUNIONSTORE", "dst", "s", "missing"]).await;
        c.send(&["SINTERCARD", "2", "s", "s"]).await;
        c.send(&["SRANDMEMBER", "missing", "3"]).await;
        c.send(&["SSCAN", "s", "0"]).await;
        assert_eq!(stat(&mut c, "keyspace_hits").await, 8);
        assert_eq!(stat(&mut c, "keyspace_misses").await, 4);
    }
}
