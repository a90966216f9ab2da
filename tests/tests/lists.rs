//! List commands (non-blocking): LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP (with COUNT) LLEN
//! LRANGE LINDEX LSET LINSERT LREM LTRIM LPOS LMOVE RPOPLPUSH LMPOP, with their error
//! replies, expiry interplay, exact RESP2 nulls and keyspace statistics. Every expected
//! reply holds against a real Redis 7.0 (`FERROKV_TESTS_TARGET=redis`).

use ferrokv_tests::*;

/// `[key, [items...]]`, LMPOP's reply.
fn mpop(key: &str, items: &[&str]) -> Frame {
    arr(vec![bulk(key), bulks(items)])
}

/// An empty array reply.
fn empty() -> Frame {
    arr(vec![])
}

/// One `name:value` field of an INFO reply.
fn info_field(info: &Frame, name: &str) -> i64 {
    let text = text(info);
    let prefix = format!("{name}:");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("INFO lacks {name}"))
        .trim()
        .parse()
        .expect("numeric INFO field")
}

async fn lrange_all(c: &mut RawClient, key: &str) -> Frame {
    c.send(&["LRANGE", key, "0", "-1"]).await
}

backend_tests! {
    async fn push_pop_and_len(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["LPUSH", "k", "a"]).await, int(1));
        assert_eq!(c.send(&["LPUSH", "k", "b", "c"]).await, int(3));
        assert_eq!(c.send(&["RPUSH", "k", "x", "y"]).await, int(5));
        assert_eq!(lrange_all(&mut c, "k").await, bulks(&["c", "b", "a", "x", "y"]));
        assert_eq!(c.send(&["LLEN", "k"]).await, int(5));
        assert_eq!(c.send(&["TYPE", "k"]).await, simple("list"));
        assert_eq!(c.send(&["LPOP", "k"]).await, bulk("c"));
        assert_eq!(c.send(&["RPOP", "k"]).await, bulk("y"));
        assert_eq!(c.send(&["lpop", "k"]).await, bulk("b"));
        assert_eq!(c.send(&["rpop", "k"]).await, bulk("x"));
        assert_eq!(c.send(&["LPOP", "k"]).await, bulk("a"));
        // The last pop deleted the key.
        assert_eq!(c.send(&["EXISTS", "k"]).await, int(0));
        assert_eq!(c.send(&["TYPE", "k"]).await, simple("none"));
        assert_eq!(c.send(&["LPOP", "k"]).await, nil());
        assert_eq!(c.send(&["RPOP", "k"]).await, nil());
        assert_eq!(c.send(&["LLEN", "k"]).await, int(0));
        // Binary-safe and empty elements.
        assert_eq!(c.send_bin(&[b"RPUSH", b"bin\x00", b"", b"\r\n\x00\xff"]).await, int(2));
        assert_eq!(
            c.send_bin(&[b"LRANGE", b"bin\x00", b"0", b"-1"]).await,
            arr(vec![bulk(""), bulk(b"\r\n\x00\xff")])
        );
        assert_eq!(c.send_bin(&[b"RPOP", b"bin\x00"]).await, bulk(b"\r\n\x00\xff"));
        assert_eq!(c.send_bin(&[b"RPOP", b"bin\x00"]).await, bulk(""));
        assert_eq!(c.send_bin(&[b"EXISTS", b"bin\x00"]).await, int(0));
    }

    async fn pushx_only_on_existing_lists(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["LPUSHX", "k", "a"]).await, int(0));
        assert_eq!(c.send(&["RPUSHX", "k", "a", "b"]).await, int(0));
        assert_eq!(c.send(&["EXISTS", "k"]).await, int(0));
        c.send(&["RPUSH", "k", "m"]).await;
        assert_eq!(c.send(&["LPUSHX", "k", "h1", "h2"]).await, int(3));
        assert_eq!(c.send(&["RPUSHX", "k", "t1", "t2"]).await, int(5));
        assert_eq!(lrange_all(&mut c, "k").await, bulks(&["h2", "h1", "m", "t1", "t2"]));
    }

    async fn pop_with_count(server: &TestServer) {
        let mut c = server.raw().await;
        c.send(&["RPUSH", "k", "a", "b", "c", "d", "e"]).await;
        assert_eq!(c.send(&["LPOP", "k", "2"]).await, bulks(&["a", "b"]));
        assert_eq!(c.send(&["RPOP", "k", "2"]).await, bulks(&["e", "d"]));
        assert_eq!(c.send(&["LPOP", "k", "0"]).await, empty());
        assert_eq!(c.send(&["RPOP", "k", "0"]).await, empty());
        assert_eq!(c.send(&["LLEN", "k"]).await, int(1));
        assert_eq!(c.send(&["LPOP", "k", "10"]).await, bulks(&["c"]));
        assert_eq!(c.send(&["EXISTS", "k"]).await, int(0));
        c.send(&["RPUSH", "k", "a", "b"]).await;
        assert_eq!(c.send(&["RPOP", "k", "9223372036854775807"]).await, bulks(&["b", "a"]));
        // A missing key with a count is a null array, whatever the count.
        assert_eq!(c.send(&["LPOP", "k", "1"]).await, nil_array());
        assert_eq!(c.send(&["RPOP", "k", "5"]).await, nil_array());
        assert_eq!(c.send(&["LPOP", "k", "0"]).await, nil_array());
        // Errors.
        c.send(&["RPUSH", "k", "a"]).await;
        let range = err("ERR value is out of range, must be positive");
        assert_eq!(c.send(&["LPOP", "k", "-1"]).await, range);
        assert_eq!(c.send(&["RPOP", "k", "abc"]).await, range);
        assert_eq!(c.send(&["LPOP", "missing", "-5"]).await, range);
        assert_eq!(c.send(&["LPOP", "k", "1", "2"]).await, wrong_args("lpop"));
        assert_eq!(c.send(&["RPOP", "k", "1", "2"]).await, wrong_args("rpop"));
        assert_eq!(c.send(&["LPOP"]).await, wrong_args("lpop"));
        assert_eq!(c.send(&["RPOP"]).await, wrong_args("rpop"));
        assert_eq!(lrange_all(&mut c, "k").await, bulks(&["a"]));
    }

    async fn null_replies_on_the_wire(server: &TestServer) {
        let mut c = server.raw().await;
        c.send(&["RPUSH", "k", "a"]).await;
        let cases: &[(&[&[u8]], &[u8])] = &[
            (&[b"LPOP", b"missing"], b"$-1\r\n"),
            (&[b"RPOP", b"missing", b"2"], b"*-1\r\n"),
            (&[b"LPOP", b"missing", b"0"], b"*-1\r\n"),
            (&[b"LPOP", b"k", b"0"], b"*0\r\n"),
            (&[b"LINDEX", b"k", b"5"], b"$-1\r\n"),
            (&[b"LINDEX", b"missing", b"0"], b"$-1\r\n"),
            (&[b"LPOS", b"k", b"zz"], b"$-1\r\n"),
            (&[b"LPOS", b"missing", b"a"], b"$-1\r\n"),
            (&[b"LPOS", b"missing", b"a", b"COUNT", b"0"], b"*0\r\n"),
            (&[b"LRANGE", b"missing", b"0", b"-1"], b"*0\r\n"),
            (&[b"LMOVE", b"missing", b"d", b"LEFT", b"LEFT"], b"$-1\r\n"),
            (&[b"RPOPLPUSH", b"missing", b"d"], b"$-1\r\n"),
            (&[b"LMPOP", b"1", b"missing", b"LEFT"], b"*-1\r\n"),
            (&[b"LMPOP", b"1", b"k", b"LEFT"], b"*2\r\n$1\r\nk\r\n*1\r\n$1\r\na\r\n"),
        ];
        for (args, wire) in cases {
            let (_, got) = c.send_raw_reply(args).await;
            assert_eq!(&got[..], *wire, "{:?}", args.iter().map(|a| String::from_utf8_lossy(a)).collect::<Vec<_>>());
        }
        // RESP3 has a single null.
        c.send(&["HELLO", "3"]).await;
        let resp3: [&[&[u8]]; 3] = [
            &[b"LPOP", b"missing"],
            &[b"LPOP", b"missing", b"3"],
            &[b"LMPOP", b"1", b"missing", b"RIGHT"],
        ];
        for args in resp3 {
            let (_, got) = c.send_raw_reply(args).await;
            assert_eq!(&got[..], b"_\r\n");
        }
    }

    async fn lrange_ranges(server: &TestServer) {
        let mut c = server.raw().await;
        c.send(&["RPUSH", "k", "a", "b", "c", "d"]).await;
        let cases: &[(&str, &str, &[&str])] = &[
            ("0", "-1", &["a", "b", "c", "d"]),
            ("0", "0", &["a"]),
            ("1", "2", &["b", "c"]),
            ("-2", "-1", &["c", "d"]),
            ("-100", "1", &["a", "b"]),
            ("2", "100", &["c", "d"]),
            ("-100", "100", &["a", "b", "c", "d"]),
            ("4", "10", &[]),
            ("2", "1", &[]),
            ("-1", "-2", &[]),
            ("0", "-5", &[]),
            ("-9223372036854775808", "9223372036854775807", &["a", "b", "c", "d"]),
        ];
        for (start, stop, want) in cases {
            assert_eq!(c.send(&["LRANGE", "k", start, stop]).await, bulks(want), "LRANGE {start} {stop}");
        }
        assert_eq!(c.send(&["LRANGE", "missing", "0", "-1"]).await, empty());
        assert_eq!(c.send(&["LRANGE", "k", "a", "1"]).await, not_integer());
        assert_eq!(c.send(&["LRANGE", "k", "0", "1.0"]).await, not_integer());
        assert_eq!(c.send(&["LRANGE", "missing", "0", "x"]).await, not_integer());
        assert_eq!(c.send(&["LRANGE", "k", "0"]).await, wrong_args("lrange"));
        assert_eq!(c.send(&["LRANGE", "k", "0", "1", "2"]).await, wrong_args("lrange"));
    }

    async fn lindex_and_lset(server: &TestServer) {
        let mut c = server.raw().await;
        c.send(&["RPUSH", "k", "a", "b", "c"]).await;
        assert_eq!(c.send(&["LINDEX", "k", "0"]).await, bulk("a"));
        assert_eq!(c.send(&["LINDEX", "k", "2"]).await, bulk("c"));
        assert_eq!(c.send(&["LINDEX", "k", "-1"]).await, bulk("c"));
        assert_eq!(c.send(&["LINDEX", "k", "-3"]).await, bulk("a"));
        assert_eq!(c.send(&["LINDEX", "k", "3"]).await, nil());
        assert_eq!(c.send(&["LINDEX", "k", "-4"]).await, nil());
        assert_eq!(c.send(&["LINDEX", "k", "x"]).await, not_integer());
        // A missing key is nil before the index is even parsed.
        assert_eq!(c.send(&["LINDEX", "missing", "x"]).await, nil());
        assert_eq!(c.send(&["LINDEX", "k"]).await, wrong_args("lindex"));

        assert_eq!(c.send(&["LSET", "k", "0", "A"]).await, ok());
        assert_eq!(c.send(&["LSET", "k", "-1", "C"]).await, ok());
        assert_eq!(c.send(&["LSET", "k", "1", ""]).await, ok());
        assert_eq!(lrange_all(&mut c, "k").await, bulks(&["A", "", "C"]));
        let range = err("ERR index out of range");
        assert_eq!(c.send(&["LSET", "k", "3", "v"]).await, range);
        assert_eq!(c.send(&["LSET", "k", "-4", "v"]).await, range);
        assert_eq!(c.send(&["LSET", "k", "x", "v"]).await, not_integer());
        let no_key = err("ERR no such key");
        assert_eq!(c.send(&["LSET", "missing", "0", "v"]).await, no_key);
        assert_eq!(c.send(&["LSET", "missing", "x", "v"]).await, no_key);
        assert_eq!(c.send(&["EXISTS", "missing"]).await, int(0));
        assert_eq!(c.send(&["LSET", "k", "0"]).await, wrong_args("lset"));
        assert_eq!(lrange_all(&mut c, "k").await, bulks(&["A", "", "C"]));
    }

    async fn linsert(server: &TestServer) {
        let mut c = server.raw().await;
        c.send(&["RPUSH", "k", "a", "b", "a"]).await;
        assert_eq!(c.send(&["LINSERT", "k", "BEFORE", "a", "x"]).await, int(4));
        assert_eq!(c.send(&["LINSERT", "k", "after", "a", "y"]).await, int(5));
        assert_eq!(c.send(&["LINSERT", "k", "After", "b", "z"]).await, int(6));
        assert_eq!(c.send(&["LINSERT", "k", "AFTER", "a", "last"]).await, int(7));
        assert_eq!(lrange_all(&mut c, "k").await, bulks(&["x", "a", "last", "y", "b", "z", "a"]));
        c.send(&["RPUSH", "one", "p"]).await;
        assert_eq!(c.send(&["LINSERT", "one", "AFTER", "p", "q"]).await, int(2));
        assert_eq!(c.send(&["LINSERT", "one", "BEFORE", "p", "o"]).await, int(3));
        assert_eq!(lrange_all(&mut c, "one").await, bulks(&["o", "p", "q"]));
        // Pivot not found: -1; missing key: 0 (and nothing is created).
        assert_eq!(c.send(&["LINSERT", "k", "BEFORE", "nope", "v"]).await, int(-1));
        assert_eq!(c.send(&["LINSERT", "missing", "BEFORE", "a", "v"]).await, int(0));
        assert_eq!(c.send(&["EXISTS", "missing"]).await, int(0));
        assert_eq!(c.send(&["LINSERT", "k", "MIDDLE", "a", "v"]).await, syntax_error());
        assert_eq!(c.send(&["LINSERT", "missing", "MIDDLE", "a", "v"]).await, syntax_error());
        assert_eq!(c.send(&["LINSERT", "k", "BEFORE", "a"]).await, wrong_args("linsert"));
        assert_eq!(c.send(&["LLEN", "k"]).await, int(7));
    }

    async fn lrem(server: &TestServer) {
        let mut c = server.raw().await;
        let cases: &[(&str, &str, i64, &[&str])] = &[
            ("2", "a", 2, &["b", "c", "a", "b"]),
            ("-2", "a", 2, &["a", "b", "c", "b"]),
            ("0", "a", 3, &["b", "c", "b"]),
            ("-1", "b", 1, &["a", "b", "a", "c", "a"]),
            ("1", "b", 1, &["a", "a", "c", "a", "b"]),
            ("100", "a", 3, &["b", "c", "b"]),
            ("0", "zz", 0, &["a", "b", "a", "c", "a", "b"]),
            ("-9223372036854775808", "a", 3, &["b", "c", "b"]),
        ];
        for (count, element, removed, left) in cases {
            c.send(&["DEL", "k"]).await;
            c.send(&["RPUSH", "k", "a", "b", "a", "c", "a", "b"]).await;
            assert_eq!(c.send(&["LREM", "k", count, element]).await, int(*removed), "LREM {count} {element}");
            assert_eq!(lrange_all(&mut c, "k").await, bulks(left), "LREM {count} {element}");
        }
        c.send(&["DEL", "k"]).await;
        c.send(&["RPUSH", "k", "a", "a"]).await;
        assert_eq!(c.send(&["LREM", "k", "0", "a"]).await, int(2));
        assert_eq!(c.send(&["EXISTS", "k"]).await, int(0));
        assert_eq!(c.send(&["LREM", "missing", "0", "a"]).await, int(0));
        assert_eq!(c.send(&["LREM", "k", "x", "a"]).await, not_integer());
        assert_eq!(c.send(&["LREM", "k", "0"]).await, wrong_args("lrem"));
    }

    async fn ltrim(server: &TestServer) {
        let mut c = server.raw().await;
        let cases: &[(&str, &str, &[&str])] = &[
            ("0", "-1", &["a", "b", "c", "d", "e"]),
            ("1", "-2", &["b", "c", "d"]),
            ("-2", "100", &["d", "e"]),
            ("-100", "0", &["a"]),
            ("2", "2", &["c"]),
            ("0", "100", &["a", "b", "c", "d", "e"]),
        ];
        for (start, stop, want) in cases {
            c.send(&["DEL", "k"]).await;
            c.send(&["RPUSH", "k", "a", "b", "c", "d", "e"]).await;
            assert_eq!(c.send(&["LTRIM", "k", start, stop]).await, ok());
            assert_eq!(lrange_all(&mut c, "k").await, bulks(want), "LTRIM {start} {stop}");
        }
        for (start, stop) in [("3", "1"), ("5", "10"), ("-1", "-2"), ("0", "-6")] {
            c.send(&["DEL", "k"]).await;
            c.send(&["RPUSH", "k", "a", "b", "c", "d", "e"]).await;
            assert_eq!(c.send(&["LTRIM", "k", start, stop]).await, ok());
            assert_eq!(c.send(&["EXISTS", "k"]).await, int(0), "LTRIM {start} {stop}");
        }
        assert_eq!(c.send(&["LTRIM", "missing", "0", "1"]).await, ok());
        assert_eq!(c.send(&["EXISTS", "missing"]).await, int(0));
        assert_eq!(c.send(&["LTRIM", "missing", "x", "1"]).await, not_integer());
        assert_eq!(c.send(&["LTRIM", "k", "0", "y"]).await, not_integer());
        assert_eq!(c.send(&["LTRIM", "k", "0"]).await, wrong_args("ltrim"));
    }

    async fn lpos(server: &TestServer) {
        let mut c = server.raw().await;
        c.send(&["RPUSH", "k", "a", "b", "c", "a", "b", "c", "a"]).await;
        let cases: &[(&[&str], Frame)] = &[
            (&[], int(0)),
            (&["RANK", "2"], int(3)),
            (&["RANK", "3"], int(6)),
            (&["RANK", "4"], nil()),
            (&["RANK", "-1"], int(6)),
            (&["RANK", "-3"], int(0)),
            (&["RANK", "-4"], nil()),
            (&["RANK", "9223372036854775807"], nil()),
            (&["COUNT", "0"], ints(&[0, 3, 6])),
            (&["COUNT", "2"], ints(&[0, 3])),
            (&["COUNT", "10"], ints(&[0, 3, 6])),
            (&["RANK", "2", "COUNT", "0"], ints(&[3, 6])),
            (&["RANK", "-1", "COUNT", "0"], ints(&[6, 3, 0])),
            (&["RANK", "-2", "COUNT", "1"], ints(&[3])),
            (&["RANK", "5", "COUNT", "0"], empty()),
            (&["MAXLEN", "1"], int(0)),
            (&["RANK", "2", "MAXLEN", "3"], nil()),
            (&["RANK", "2", "MAXLEN", "4"], int(3)),
            (&["COUNT", "0", "MAXLEN", "4"], ints(&[0, 3])),
            (&["RANK", "-1", "MAXLEN", "1"], int(6)),
            (&["RANK", "-2", "MAXLEN", "3"], nil()),
            (&["RANK", "-1", "COUNT", "0", "MAXLEN", "5"], ints(&[6, 3])),
            (&["MAXLEN", "0"], int(0)),
            (&["rank", "1", "RANK", "2"], int(3)),
            (&["count", "1", "Count", "0"], ints(&[0, 3, 6])),
            (&["maxlen", "1", "MAXLEN", "0", "RANK", "3"], int(6)),
            // Redis negates the rank in a C long: the most negative one stays negative.
            (&["RANK", "-9223372036854775808"], int(6)),
            (&["RANK", "-9223372036854775808", "COUNT", "1"], ints(&[6, 3, 0])),
        ];
        for (opts, want) in cases {
            let mut cmd = vec!["LPOS", "k", "a"];
            cmd.extend_from_slice(opts);
            assert_eq!(&c.send(&cmd).await, want, "LPOS k a {opts:?}");
        }
        assert_eq!(c.send(&["LPOS", "k", "c"]).await, int(2));
        assert_eq!(c.send(&["LPOS", "k", "c", "RANK", "-1"]).await, int(5));
        assert_eq!(c.send(&["LPOS", "k", "zz"]).await, nil());
        assert_eq!(c.send(&["LPOS", "k", "zz", "COUNT", "3"]).await, empty());
        assert_eq!(c.send(&["LPOS", "missing", "a"]).await, nil());
        assert_eq!(c.send(&["LPOS", "missing", "a", "COUNT", "1"]).await, empty());
        assert_eq!(c.send(&["LPOS", "missing", "a", "RANK", "-1"]).await, nil());
    }

    async fn lpos_errors(server: &TestServer) {
        let mut c = server.raw().await;
        c.send(&["RPUSH", "k", "a"]).await;
        c.send(&["SET", "str", "v"]).await;
        let rank0 = err("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list");
        assert_eq!(c.send(&["LPOS", "k", "a", "RANK", "0"]).await, rank0);
        assert_eq!(c.send(&["LPOS", "missing", "a", "RANK", "0"]).await, rank0);
        // Options are checked before the key's type.
        assert_eq!(c.send(&["LPOS", "str", "a", "RANK", "0"]).await, rank0);
        assert_eq!(c.send(&["LPOS", "k", "a", "RANK", "x"]).await, not_integer());
        let count = err("ERR COUNT can't be negative");
        assert_eq!(c.send(&["LPOS", "k", "a", "COUNT", "-1"]).await, count);
        assert_eq!(c.send(&["LPOS", "k", "a", "COUNT", "x"]).await, count);
        let maxlen = err("ERR MAXLEN can't be negative");
        assert_eq!(c.send(&["LPOS", "k", "a", "MAXLEN", "-1"]).await, maxlen);
        assert_eq!(c.send(&["LPOS", "k", "a", "MAXLEN", "x"]).await, maxlen);
        assert_eq!(c.send(&["LPOS", "k", "a", "RANK"]).await, syntax_error());
        assert_eq!(c.send(&["LPOS", "k", "a", "COUNT"]).await, syntax_error());
        assert_eq!(c.send(&["LPOS", "k", "a", "FOO", "1"]).await, syntax_error());
        assert_eq!(c.send(&["LPOS", "k", "a", "1"]).await, syntax_error());
        assert_eq!(c.send(&["LPOS", "k"]).await, wrong_args("lpos"));
    }

    async fn lmove_and_rpoplpush(server: &TestServer) {
        let mut c = server.raw().await;
        c.send(&["RPUSH", "src", "a", "b", "c"]).await;
        assert_eq!(c.send(&["LMOVE", "src", "dst", "LEFT", "RIGHT"]).await, bulk("a"));
        assert_eq!(c.send(&["LMOVE", "src", "dst", "right", "left"]).await, bulk("c"));
        assert_eq!(lrange_all(&mut c, "src").await, bulks(&["b"]));
        assert_eq!(lrange_all(&mut c, "dst").await, bulks(&["c", "a"]));
        assert_eq!(c.send(&["LMOVE", "src", "dst", "LEFT", "LEFT"]).await, bulk("b"));
        assert_eq!(c.send(&["EXISTS", "src"]).await, int(0));
        assert_eq!(lrange_all(&mut c, "dst").await, bulks(&["b", "c", "a"]));
        assert_eq!(c.send(&["LMOVE", "src", "dst", "LEFT", "LEFT"]).await, nil());
        assert_eq!(c.send(&["LMOVE", "dst", "dst2", "RIGHT", "RIGHT"]).await, bulk("a"));
        assert_eq!(lrange_all(&mut c, "dst2").await, bulks(&["a"]));
        assert_eq!(c.send(&["RPOPLPUSH", "dst", "other"]).await, bulk("c"));
        assert_eq!(c.send(&["RPOPLPUSH", "dst", "other"]).await, bulk("b"));
        assert_eq!(c.send(&["EXISTS", "dst"]).await, int(0));
        assert_eq!(lrange_all(&mut c, "other").await, bulks(&["b", "c"]));
        assert_eq!(c.send(&["RPOPLPUSH", "missing", "other"]).await, nil());
        assert_eq!(c.send(&["EXISTS", "missing"]).await, int(0));
        // Same key: a rotation.
        c.send(&["RPUSH", "r", "1", "2", "3"]).await;
        assert_eq!(c.send(&["LMOVE", "r", "r", "LEFT", "RIGHT"]).await, bulk("1"));
        assert_eq!(lrange_all(&mut c, "r").await, bulks(&["2", "3", "1"]));
        assert_eq!(c.send(&["LMOVE", "r", "r", "RIGHT", "LEFT"]).await, bulk("1"));
        assert_eq!(c.send(&["RPOPLPUSH", "r", "r"]).await, bulk("3"));
        assert_eq!(lrange_all(&mut c, "r").await, bulks(&["3", "1", "2"]));
        assert_eq!(c.send(&["LMOVE", "r", "r", "LEFT", "LEFT"]).await, bulk("3"));
        assert_eq!(c.send(&["LMOVE", "r", "r", "RIGHT", "RIGHT"]).await, bulk("2"));
        assert_eq!(lrange_all(&mut c, "r").await, bulks(&["3", "1", "2"]));
    }

    async fn lmove_errors(server: &TestServer) {
        let mut c = server.raw().await;
        c.send(&["RPUSH", "src", "a", "b"]).await;
        c.send(&["SET", "str", "v"]).await;
        // A destination of another type leaves the source untouched.
        assert_eq!(c.send(&["LMOVE", "src", "str", "LEFT", "LEFT"]).await, wrongtype());
        assert_eq!(c.send(&["RPOPLPUSH", "src", "str"]).await, wrongtype());
        assert_eq!(lrange_all(&mut c, "src").await, bulks(&["a", "b"]));
        assert_eq!(c.send(&["GET", "str"]).await, bulk("v"));
        assert_eq!(c.send(&["LMOVE", "str", "src", "LEFT", "LEFT"]).await, wrongtype());
        assert_eq!(c.send(&["LMOVE", "str", "str", "LEFT", "LEFT"]).await, wrongtype());
        assert_eq!(c.send(&["RPOPLPUSH", "str", "dst"]).await, wrongtype());
        assert_eq!(c.send(&["EXISTS", "dst"]).await, int(0));
        // A missing source is nil whatever the destination holds.
        assert_eq!(c.send(&["LMOVE", "missing", "str", "LEFT", "LEFT"]).await, nil());
        assert_eq!(c.send(&["RPOPLPUSH", "missing", "str"]).await, nil());
        // Directions are checked first.
        assert_eq!(c.send(&["LMOVE", "src", "dst", "UP", "LEFT"]).await, syntax_error());
        assert_eq!(c.send(&["LMOVE", "src", "dst", "LEFT", "DOWN"]).await, syntax_error());
        assert_eq!(c.send(&["LMOVE", "str", "dst", "LEFT", "X"]).await, syntax_error());
        assert_eq!(c.send(&["LMOVE", "missing", "dst", "X", "LEFT"]).await, syntax_error());
        assert_eq!(c.send(&["LMOVE", "src", "dst", "LEFT"]).await, wrong_args("lmove"));
        assert_eq!(c.send(&["LMOVE", "src", "dst", "LEFT", "LEFT", "x"]).await, wrong_args("lmove"));
        assert_eq!(c.send(&["RPOPLPUSH", "src"]).await, wrong_args("rpoplpush"));
        assert_eq!(c.send(&["RPOPLPUSH", "src", "a", "b"]).await, wrong_args("rpoplpush"));
        assert_eq!(lrange_all(&mut c, "src").await, bulks(&["a", "b"]));
    }

    async fn lmpop(server: &TestServer) {
        let mut c = server.raw().await;
        c.send(&["RPUSH", "b", "1", "2", "3", "4"]).await;
        c.send(&["RPUSH", "c", "x"]).await;
        assert_eq!(c.send(&["LMPOP", "3", "a", "b", "c", "LEFT"]).await, mpop("b", &["1"]));
        assert_eq!(c.send(&["LMPOP", "2", "b", "c", "right", "COUNT", "2"]).await, mpop("b", &["4", "3"]));
        assert_eq!(c.send(&["lmpop", "2", "b", "c", "Left", "count", "10"]).await, mpop("b", &["2"]));
        assert_eq!(c.send(&["EXISTS", "b"]).await, int(0));
        assert_eq!(c.send(&["LMPOP", "2", "b", "c", "LEFT"]).await, mpop("c", &["x"]));
        assert_eq!(c.send(&["LMPOP", "2", "b", "c", "LEFT"]).await, nil_array());
        assert_eq!(c.send(&["LMPOP", "1", "b", "LEFT", "COUNT", "5"]).await, nil_array());
        // The same key twice is fine.
        c.send(&["RPUSH", "d", "p", "q"]).await;
        assert_eq!(c.send(&["LMPOP", "2", "d", "d", "RIGHT", "COUNT", "9223372036854775807"]).await, mpop("d", &["q", "p"]));
    }

    async fn lmpop_errors(server: &TestServer) {
        let mut c = server.raw().await;
        c.send(&["RPUSH", "k", "a", "b"]).await;
        c.send(&["SET", "str", "v"]).await;
        let numkeys = err("ERR numkeys should be greater than 0");
        for bad in ["0", "-1", "abc", "1.5"] {
            assert_eq!(c.send(&["LMPOP", bad, "k", "LEFT"]).await, numkeys, "{bad}");
        }
        let count = err("ERR count should be greater than 0");
        for bad in ["0", "-1", "abc"] {
            assert_eq!(c.send(&["LMPOP", "1", "k", "LEFT", "COUNT", bad]).await, count, "{bad}");
        }
        for bad in [
            &["LMPOP", "2", "k", "LEFT"][..],
            &["LMPOP", "3", "k", "LEFT"],
            &["LMPOP", "9223372036854775807", "k", "LEFT"],
            &["LMPOP", "1", "k", "MIDDLE"],
            &["LMPOP", "1", "k", "LEFT", "COUNT"],
            &["LMPOP", "1", "k", "LEFT", "COUNT", "1", "COUNT", "1"],
            &["LMPOP", "1", "k", "LEFT", "FOO"],
            &["LMPOP", "1", "k", "LEFT", "1"],
        ] {
            assert_eq!(c.send(bad).await, syntax_error(), "{bad:?}");
        }
        assert_eq!(c.send(&["LMPOP", "1", "k"]).await, wrong_args("lmpop"));
        assert_eq!(c.send(&["LMPOP"]).await, wrong_args("lmpop"));
        // A key of another type fails only when met before a non-empty list.
        assert_eq!(c.send(&["LMPOP", "2", "str", "k", "LEFT"]).await, wrongtype());
        assert_eq!(c.send(&["LMPOP", "2", "missing", "str", "LEFT"]).await, wrongtype());
        assert_eq!(lrange_all(&mut c, "k").await, bulks(&["a", "b"]));
        assert_eq!(c.send(&["LMPOP", "2", "k", "str", "LEFT"]).await, mpop("k", &["a"]));
    }

    async fn wrong_type_everywhere(server: &TestServer) {
        let mut c = server.raw().await;
        c.send(&["SET", "str", "v"]).await;
        for cmd in [
            &["LPUSH", "str", "a"][..],
            &["RPUSH", "str", "a"],
            &["LPUSHX", "str", "a"],
            &["RPUSHX", "str", "a"],
            &["LPOP", "str"],
            &["RPOP", "str", "2"],
            &["LPOP", "str", "0"],
            &["LLEN", "str"],
            &["LRANGE", "str", "0", "-1"],
            &["LINDEX", "str", "0"],
            &["LINDEX", "str", "x"],
            &["LSET", "str", "0", "v"],
            &["LSET", "str", "x", "v"],
            &["LINSERT", "str", "BEFORE", "a", "b"],
            &["LREM", "str", "0", "a"],
            &["LTRIM", "str", "0", "1"],
            &["LPOS", "str", "a"],
            &["LPOS", "str", "a", "COUNT", "0"],
            &["LMOVE", "str", "dst", "LEFT", "RIGHT"],
            &["RPOPLPUSH", "str", "dst"],
            &["LMPOP", "1", "str", "LEFT"],
        ] {
            assert_eq!(c.send(cmd).await, wrongtype(), "{cmd:?}");
        }
        assert_eq!(c.send(&["GET", "str"]).await, bulk("v"));
        assert_eq!(c.send(&["EXISTS", "dst"]).await, int(0));
        // And the other way round.
        c.send(&["RPUSH", "l", "a"]).await;
        assert_eq!(c.send(&["GET", "l"]).await, wrongtype());
        assert_eq!(c.send(&["APPEND", "l", "x"]).await, wrongtype());
        assert_eq!(c.send(&["SET", "l", "x"]).await, ok());
        assert_eq!(c.send(&["TYPE", "l"]).await, simple("string"));
    }

    async fn arity_errors(server: &TestServer) {
        let mut c = server.raw().await;
        for (cmd, too_few) in [
            ("lpush", &["LPUSH", "k"][..]),
            ("rpush", &["RPUSH", "k"]),
            ("lpushx", &["LPUSHX", "k"]),
            ("rpushx", &["RPUSHX", "k"]),
            ("lpop", &["LPOP"]),
            ("rpop", &["RPOP"]),
            ("llen", &["LLEN"]),
            ("lrange", &["LRANGE", "k", "0"]),
            ("lindex", &["LINDEX", "k"]),
            ("lset", &["LSET", "k", "0"]),
            ("linsert", &["LINSERT", "k", "BEFORE", "a"]),
            ("lrem", &["LREM", "k", "0"]),
            ("ltrim", &["LTRIM", "k", "0"]),
            ("lpos", &["LPOS", "k"]),
            ("lmove", &["LMOVE", "a", "b", "LEFT"]),
            ("rpoplpush", &["RPOPLPUSH", "a"]),
            ("lmpop", &["LMPOP", "1", "k"]),
        ] {
            assert_eq!(c.send(too_few).await, wrong_args(cmd), "{too_few:?}");
        }
        for (cmd, too_many) in [
            ("llen", &["LLEN", "a", "b"][..]),
            ("lindex", &["LINDEX", "k", "0", "1"]),
            ("lset", &["LSET", "k", "0", "v", "w"]),
            ("linsert", &["LINSERT", "k", "BEFORE", "a", "b", "c"]),
            ("lrem", &["LREM", "k", "0", "a", "b"]),
            ("ltrim", &["LTRIM", "k", "0", "1", "2"]),
            ("lpop", &["LPOP", "k", "1", "2"]),
            ("rpop", &["RPOP", "k", "1", "2"]),
        ] {
            assert_eq!(c.send(too_many).await, wrong_args(cmd), "{too_many:?}");
        }
        assert_eq!(c.send(&["DBSIZE"]).await, int(0));
    }

    async fn expiry_interplay(server: &TestServer) {
        let mut c = server.raw().await;
        c.send(&["RPUSH", "k", "a", "b", "c"]).await;
        assert_eq!(c.send(&["EXPIRE", "k", "100"]).await, int(1));
        // Element edits keep the key's TTL.
        c.send(&["LPUSH", "k", "z"]).await;
        c.send(&["RPOP", "k"]).await;
        c.send(&["LSET", "k", "0", "y"]).await;
        c.send(&["LINSERT", "k", "AFTER", "y", "x"]).await;
        c.send(&["LREM", "k", "1", "x"]).await;
        c.send(&["LTRIM", "k", "0", "1"]).await;
        let ttl = as_int(&c.send(&["TTL", "k"]).await);
        assert!((90..=100).contains(&ttl), "TTL {ttl}");
        assert_eq!(lrange_all(&mut c, "k").await, bulks(&["y", "a"]));
        // A single-element list rotated onto itself keeps its TTL too.
        c.send(&["RPUSH", "one", "x"]).await;
        c.send(&["EXPIRE", "one", "100"]).await;
        assert_eq!(c.send(&["LMOVE", "one", "one", "LEFT", "RIGHT"]).await, bulk("x"));
        let ttl = as_int(&c.send(&["TTL", "one"]).await);
        assert!((90..=100).contains(&ttl), "TTL {ttl}");
        // A destination created by LMOVE has no TTL; an emptied source is gone with its TTL.
        assert_eq!(c.send(&["LMOVE", "one", "fresh", "LEFT", "LEFT"]).await, bulk("x"));
        assert_eq!(c.send(&["TTL", "fresh"]).await, int(-1));
        assert_eq!(c.send(&["TTL", "one"]).await, int(-2));
        c.send(&["RPUSH", "one", "again"]).await;
        assert_eq!(c.send(&["TTL", "one"]).await, int(-1));
        // An expired list is a missing key to every list command.
        c.send(&["RPUSH", "gone", "a", "b"]).await;
        c.send(&["PEXPIRE", "gone", "1"]).await;
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        assert_eq!(c.send(&["LLEN", "gone"]).await, int(0));
        assert_eq!(c.send(&["LPUSHX", "gone", "a"]).await, int(0));
        assert_eq!(c.send(&["LPOP", "gone", "1"]).await, nil_array());
        assert_eq!(c.send(&["LSET", "gone", "0", "v"]).await, err("ERR no such key"));
        assert_eq!(c.send(&["RPUSH", "gone", "c"]).await, int(1));
        assert_eq!(c.send(&["TTL", "gone"]).await, int(-1));
    }

    async fn long_lists(server: &TestServer) {
        let mut c = server.raw().await;
        let n = 3000;
        let values: Vec<String> = (0..n).map(|i| format!("v{i}")).collect();
        for chunk in values.chunks(500) {
            let mut cmd = vec!["RPUSH", "big"];
            cmd.extend(chunk.iter().map(String::as_str));
            c.send(&cmd).await;
        }
        assert_eq!(c.send(&["LLEN", "big"]).await, int(n as i64));
        let want: Vec<&str> = values[1500..1510].iter().map(String::as_str).collect();
        assert_eq!(c.send(&["LRANGE", "big", "1500", "1509"]).await, bulks(&want));
        assert_eq!(items(&c.send(&["LRANGE", "big", "0", "-1"]).await).len(), n);
        assert_eq!(c.send(&["LINDEX", "big", "2345"]).await, bulk("v2345"));
        assert_eq!(c.send(&["LINDEX", "big", "-2"]).await, bulk("v2998"));
        assert_eq!(c.send(&["LSET", "big", "1234", "changed"]).await, ok());
        assert_eq!(c.send(&["LPOS", "big", "changed"]).await, int(1234));
        assert_eq!(c.send(&["LPOS", "big", "v2999", "MAXLEN", "2999"]).await, nil());
        assert_eq!(c.send(&["LPOS", "big", "v2999", "RANK", "-1", "MAXLEN", "1"]).await, int(2999));
        assert_eq!(c.send(&["LINSERT", "big", "BEFORE", "v2999", "ins"]).await, int(n as i64 + 1));
        assert_eq!(c.send(&["LINDEX", "big", "-2"]).await, bulk("ins"));
        assert_eq!(c.send(&["LREM", "big", "-1", "ins"]).await, int(1));
        assert_eq!(c.send(&["LTRIM", "big", "1000", "1999"]).await, ok());
        assert_eq!(c.send(&["LLEN", "big"]).await, int(1000));
        assert_eq!(c.send(&["LINDEX", "big", "0"]).await, bulk("v1000"));
        let popped = c.send(&["RPOP", "big", "400"]).await;
        assert_eq!(items(&popped).len(), 400);
        assert_eq!(items(&popped)[0], bulk("v1999"));
        assert_eq!(c.send(&["LMPOP", "1", "big", "LEFT", "COUNT", "2"]).await, mpop("big", &["v1000", "v1001"]));
        assert_eq!(c.send(&["LLEN", "big"]).await, int(598));
        // Large elements.
        let large = "x".repeat(1 << 20);
        assert_eq!(c.send(&["LPUSH", "large", &large, "small"]).await, int(2));
        assert_eq!(c.send(&["LINDEX", "large", "1"]).await, bulk(&large));
        assert_eq!(c.send(&["LPOS", "large", &large]).await, int(1));
        assert_eq!(c.send(&["RPOPLPUSH", "large", "large2"]).await, bulk(&large));
        assert_eq!(c.send(&["LRANGE", "large2", "0", "-1"]).await, bulks(&[large.as_str()]));
    }

    async fn lists_per_database(server: &TestServer) {
        let mut c = server.raw().await;
        c.send(&["RPUSH", "k", "db0"]).await;
        assert_eq!(c.send(&["SELECT", "1"]).await, ok());
        assert_eq!(c.send(&["LLEN", "k"]).await, int(0));
        c.send(&["RPUSH", "k", "db1"]).await;
        assert_eq!(c.send(&["LMOVE", "k", "j", "LEFT", "LEFT"]).await, bulk("db1"));
        assert_eq!(c.send(&["SELECT", "0"]).await, ok());
        assert_eq!(lrange_all(&mut c, "k").await, bulks(&["db0"]));
        assert_eq!(c.send(&["EXISTS", "j"]).await, int(0));
        assert_eq!(c.send(&["MOVE", "k", "1"]).await, int(1));
        assert_eq!(c.send(&["SELECT", "1"]).await, ok());
        assert_eq!(lrange_all(&mut c, "k").await, bulks(&["db0"]));
        assert_eq!(lrange_all(&mut c, "j").await, bulks(&["db1"]));
    }

    async fn keyspace_hits_and_misses(server: &TestServer) {
        let mut c = server.raw().await;
        c.send(&["RPUSH", "k", "a", "b"]).await;
        c.send(&["SET", "str", "v"]).await;
        assert_eq!(c.send(&["CONFIG", "RESETSTAT"]).await, ok());
        // Writes count nothing.
        for cmd in [
            &["LPOP", "k"][..],
            &["LPOP", "missing"],
            &["RPUSH", "k", "a"],
            &["LPUSHX", "missing", "a"],
            &["LSET", "k", "0", "z"],
            &["LINSERT", "k", "BEFORE", "z", "y"],
            &["LREM", "k", "0", "nothing"],
            &["LTRIM", "k", "0", "-1"],
            &["LMOVE", "k", "d", "LEFT", "LEFT"],
            &["RPOPLPUSH", "missing", "d"],
            &["LMPOP", "2", "missing", "d", "LEFT"],
        ] {
            c.send(cmd).await;
        }
        let info = c.send(&["INFO", "stats"]).await;
        assert_eq!((info_field(&info, "keyspace_hits"), info_field(&info, "keyspace_misses")), (0, 0));
        // Reads count one lookup each, another type being a hit; argument errors found
        // before the lookup count nothing.
        for cmd in [
            &["LLEN", "k"][..],
            &["LLEN", "missing"],
            &["LRANGE", "k", "0", "-1"],
            &["LRANGE", "missing", "0", "-1"],
            &["LINDEX", "k", "0"],
            &["LINDEX", "missing", "x"],
            &["LPOS", "k", "a"],
            &["LPOS", "missing", "a"],
            &["LLEN", "str"],
            &["LRANGE", "missing", "x", "1"],
            &["LPOS", "missing", "a", "RANK", "0"],
        ] {
            c.send(cmd).await;
        }
        let info = c.send(&["INFO", "stats"]).await;
        assert_eq!((info_field(&info, "keyspace_hits"), info_field(&info, "keyspace_misses")), (5, 4));
    }
}

/// Lists outlive a restart of the disk backend.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disk_lists_survive_restart() {
    let server = start(Backend::Disk).await;
    let mut c = server.raw().await;
    c.send(&["RPUSH", "k", "a", "b", "c"]).await;
    c.send(&["LSET", "k", "1", "B"]).await;
    c.send(&["RPUSH", "t", "x"]).await;
    c.send(&["EXPIRE", "t", "1000"]).await;
    c.send(&["RPUSH", "gone", "x"]).await;
    c.send(&["LPOP", "gone"]).await;
    drop(c);
    let server = server.restart().await;
    let mut c = server.raw().await;
    assert_eq!(lrange_all(&mut c, "k").await, bulks(&["a", "B", "c"]));
    assert_eq!(c.send(&["TYPE", "k"]).await, simple("list"));
    assert!(as_int(&c.send(&["TTL", "t"]).await) > 900);
    assert_eq!(c.send(&["EXISTS", "gone"]).await, int(0));
    assert_eq!(c.send(&["RPOP", "k", "2"]).await, bulks(&["c", "B"]));
    server.stop().await;
}
