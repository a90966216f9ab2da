//! SORT and SORT_RO end to end: numeric and ALPHA order over lists, sets and sorted
//! sets, LIMIT edge cases, BY nosort, BY/GET patterns over strings and hash fields
//! (including the tie order of Redis' partial quicksort), STORE, errors and keyspace
//! statistics. Expected replies were checked against Redis 7.0
//! (`FERROKV_TESTS_TARGET=redis`).

use ferrokv_tests::*;

/// `words` split on spaces, as bulk strings ("" for an empty reply).
fn words(s: &str) -> Frame {
    bulks(&s.split_whitespace().collect::<Vec<_>>())
}

/// Bulk strings with "-" standing for nil.
fn with_nils(items: &[&str]) -> Frame {
    arr(items
        .iter()
        .map(|w| if *w == "-" { nil() } else { bulk(w) })
        .collect())
}

fn not_double() -> Frame {
    err("ERR One or more scores can't be converted into double")
}

async fn cmd(c: &mut RawClient, args: &[&str]) -> Frame {
    c.send(args).await
}

/// The list a..j with string weights w_a=3 w_b=1 w_c=2 w_e=1 and hashes h_a{f=9,g=z},
/// h_b{f=1}, h_c{f=5}.
async fn weights(c: &mut RawClient) {
    let mut rpush = vec!["RPUSH", "l"];
    rpush.extend("a b c d e f g h i j".split(' '));
    assert_eq!(cmd(c, &rpush).await, int(10));
    assert_eq!(
        cmd(c, &["MSET", "w_a", "3", "w_b", "1", "w_c", "2", "w_e", "1"]).await,
        ok()
    );
    assert_eq!(cmd(c, &["HSET", "h_a", "f", "9", "g", "z"]).await, int(2));
    assert_eq!(cmd(c, &["HSET", "h_b", "f", "1"]).await, int(1));
    assert_eq!(cmd(c, &["HSET", "h_c", "f", "5"]).await, int(1));
}

backend_tests! {
    async fn sort_numeric_and_alpha(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(cmd(&mut c, &["RPUSH", "l", "3", "1", "2", "", " 5", "0x10", "-1.5e0"]).await, int(7));
        assert_eq!(cmd(&mut c, &["SORT", "l"]).await, bulks(&["-1.5e0", "", "1", "2", "3", " 5", "0x10"]));
        assert_eq!(cmd(&mut c, &["SORT_RO", "l", "DESC"]).await, bulks(&["0x10", " 5", "3", "2", "1", "", "-1.5e0"]));
        // Equal scores are ordered by the elements' bytes (reversed by DESC).
        assert_eq!(cmd(&mut c, &["RPUSH", "t", "1", "01", "1.0", "+1", "2"]).await, int(5));
        assert_eq!(cmd(&mut c, &["SORT", "t"]).await, words("+1 01 1 1.0 2"));
        assert_eq!(cmd(&mut c, &["SORT", "t", "DESC"]).await, words("2 1.0 1 01 +1"));
        assert_eq!(cmd(&mut c, &["RPUSH", "inf", "inf", "-infinity", "1"]).await, int(3));
        assert_eq!(cmd(&mut c, &["SORT", "inf"]).await, words("-infinity 1 inf"));
        // ALPHA is byte order.
        assert_eq!(cmd(&mut c, &["RPUSH", "w", "b", "a", "B", "10", "9", "", "ab"]).await, int(7));
        assert_eq!(cmd(&mut c, &["SORT", "w", "ALPHA"]).await, bulks(&["", "10", "9", "B", "a", "ab", "b"]));
        assert_eq!(cmd(&mut c, &["SORT", "w", "ALPHA", "DESC"]).await, bulks(&["b", "ab", "a", "B", "9", "10", ""]));
        assert_eq!(cmd(&mut c, &["SORT", "w"]).await, not_double());
        // Sets and sorted sets.
        assert_eq!(cmd(&mut c, &["SADD", "s", "10", "9", "-1.5", "100"]).await, int(4));
        assert_eq!(cmd(&mut c, &["SORT", "s"]).await, words("-1.5 9 10 100"));
        assert_eq!(cmd(&mut c, &["SORT", "s", "ALPHA"]).await, words("-1.5 10 100 9"));
        assert_eq!(cmd(&mut c, &["ZADD", "z", "3", "1", "1", "3", "2", "2"]).await, int(3));
        assert_eq!(cmd(&mut c, &["SORT", "z"]).await, words("1 2 3"));
        assert_eq!(cmd(&mut c, &["SORT", "z", "DESC", "ALPHA"]).await, words("3 2 1"));
        // A missing key is an empty list.
        assert_eq!(cmd(&mut c, &["SORT", "nokey"]).await, arr(vec![]));
        assert_eq!(cmd(&mut c, &["SORT_RO", "nokey", "BY", "nosort", "DESC"]).await, arr(vec![]));
        // Options are case-insensitive; the last of ASC/DESC wins.
        assert_eq!(cmd(&mut c, &["sort", "t", "desc", "Asc", "limit", "0", "2"]).await, words("+1 01"));
        // Last: once a value overflows, Redis 7.0 leaves errno at ERANGE and refuses
        // every later non-integer weight on that thread (ferrokv does not copy that).
        for bad in ["nan", "1e400", "1e-310", "abc", "1 ", "1e"] {
            assert_eq!(cmd(&mut c, &["RPUSH", "bad", "1", bad]).await, int(2));
            assert_eq!(cmd(&mut c, &["SORT", "bad"]).await, not_double(), "{bad:?}");
            assert_eq!(cmd(&mut c, &["SORT", "bad", "ALPHA"]).await, bulks(&["1", bad]));
            assert_eq!(cmd(&mut c, &["DEL", "bad"]).await, int(1));
        }
    }

    async fn sort_binary_elements(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send_bin(&[b"RPUSH", b"n", b"a\0c", b"a\0b", b"a"]).await, int(3));
        // Without STORE, Redis compares C strings (strcoll): the part after a NUL is
        // ignored and equal strings keep their order. STORE compares whole strings.
        assert_eq!(cmd(&mut c, &["SORT", "n", "ALPHA"]).await, bulks(&["a\0c", "a\0b", "a"]));
        assert_eq!(cmd(&mut c, &["SORT", "n", "ALPHA", "STORE", "d"]).await, int(3));
        assert_eq!(cmd(&mut c, &["LRANGE", "d", "0", "-1"]).await, bulks(&["a", "a\0b", "a\0c"]));
        // Numeric weights stop at the NUL too.
        assert_eq!(c.send_bin(&[b"RPUSH", b"m", b"3\0x", b"2", b"\0"]).await, int(3));
        assert_eq!(cmd(&mut c, &["SORT", "m"]).await, bulks(&["\0", "2", "3\0x"]));
        assert_eq!(c.send_bin(&[b"SET", b"k\xff", b"v"]).await, ok());
        assert_eq!(c.send_bin(&[b"RPUSH", b"keys", b"\xff"]).await, int(1));
        assert_eq!(c.send_bin(&[b"SORT", b"keys", b"BY", b"nosort", b"GET", b"k*"]).await, bulks(&["v"]));
    }

    async fn sort_limit(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(cmd(&mut c, &["RPUSH", "l", "5", "3", "9", "1", "7"]).await, int(5));
        let cases: &[(&str, &str, &str)] = &[
            ("1", "2", "3 5"),
            ("-5", "2", "1 3"),
            ("2", "-1", "5 7 9"),
            ("2", "-100", "5 7 9"),
            ("10", "1", ""),
            ("0", "0", ""),
            ("4", "100", "9"),
            ("5", "1", ""),
            ("9223372036854775807", "9223372036854775807", ""),
            ("-9223372036854775808", "-9223372036854775808", "1 3 5 7 9"),
            ("-1", "9223372036854775807", "1 3 5 7 9"),
        ];
        for (offset, count, want) in cases {
            assert_eq!(
                cmd(&mut c, &["SORT", "l", "LIMIT", offset, count]).await,
                words(want),
                "LIMIT {offset} {count}"
            );
        }
        assert_eq!(cmd(&mut c, &["SORT", "l", "DESC", "LIMIT", "1", "2"]).await, words("7 5"));
        assert_eq!(cmd(&mut c, &["SORT", "l", "LIMIT", "0", "1", "LIMIT", "1", "1"]).await, words("3"));
        for (offset, count) in [("0", "0"), ("0", "-1"), ("5", "5"), ("-1", "1")] {
            assert_eq!(cmd(&mut c, &["SORT", "nokey", "LIMIT", offset, count]).await, arr(vec![]));
        }
    }

    async fn sort_by_nosort(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(cmd(&mut c, &["RPUSH", "l", "5", "3", "9", "1", "7"]).await, int(5));
        let cases: &[(&[&str], &str)] = &[
            (&[], "5 3 9 1 7"),
            (&["DESC"], "7 1 9 3 5"),
            (&["LIMIT", "1", "2"], "3 9"),
            (&["DESC", "LIMIT", "1", "2"], "1 9"),
            (&["DESC", "LIMIT", "4", "10"], "5"),
            (&["LIMIT", "5", "1"], ""),
            (&["LIMIT", "2", "0"], ""),
            (&["LIMIT", "-3", "2"], "5 3"),
            // A constant BY stops sorting even if a later BY has a star.
            (&["BY", "w_*"], "5 3 9 1 7"),
        ];
        for (extra, want) in cases {
            let mut argv = vec!["SORT", "l", "BY", "nosort"];
            argv.extend_from_slice(extra);
            assert_eq!(cmd(&mut c, &argv).await, words(want), "{extra:?}");
        }
        assert_eq!(cmd(&mut c, &["SORT", "l", "BY", "w_*", "BY", "const", "DESC"]).await, words("7 1 9 3 5"));
        assert_eq!(cmd(&mut c, &["ZADD", "z", "3", "c", "1", "a", "2", "b", "5", "e", "4", "d"]).await, int(5));
        let cases: &[(&[&str], &str)] = &[
            (&[], "a b c d e"),
            (&["DESC"], "e d c b a"),
            (&["DESC", "LIMIT", "1", "2"], "d c"),
            (&["LIMIT", "1", "2"], "b c"),
            (&["LIMIT", "3", "-1"], "d e"),
            (&["LIMIT", "9", "1"], ""),
        ];
        for (extra, want) in cases {
            let mut argv = vec!["SORT", "z", "BY", "nosort"];
            argv.extend_from_slice(extra);
            assert_eq!(cmd(&mut c, &argv).await, words(want), "{extra:?}");
        }
        assert_eq!(cmd(&mut c, &["SORT", "z"]).await, not_double());
        // A set under BY nosort ... STORE is sorted ALPHA, so replicas agree.
        assert_eq!(cmd(&mut c, &["SADD", "s", "3", "1", "2", "10"]).await, int(4));
        assert_eq!(cmd(&mut c, &["SORT", "s", "BY", "nosort", "STORE", "d"]).await, int(4));
        assert_eq!(cmd(&mut c, &["LRANGE", "d", "0", "-1"]).await, words("1 10 2 3"));
        assert_eq!(
            cmd(&mut c, &["SORT", "s", "BY", "nosort", "DESC", "STORE", "d", "LIMIT", "1", "2"]).await,
            int(2)
        );
        assert_eq!(cmd(&mut c, &["LRANGE", "d", "0", "-1"]).await, words("2 10"));
        assert_eq!(
            sorted_texts(&cmd(&mut c, &["SORT", "s", "BY", "nosort"]).await),
            vec!["1", "10", "2", "3"]
        );
    }

    async fn sort_by_patterns(server: &TestServer) {
        let mut c = server.raw().await;
        weights(&mut c).await;
        assert_eq!(cmd(&mut c, &["SET", "w_f", "x"]).await, ok());
        let cases: &[(&[&str], &str)] = &[
            // Missing weights sort first; equal ALPHA weights keep the list's order.
            (&["ALPHA"], "d g h i j b e c a f"),
            (&["ALPHA", "DESC"], "f a c b e d g h i j"),
            // With LIMIT, Redis' partial quicksort decides the order of equal weights.
            (&["ALPHA", "LIMIT", "0", "3"], "i j g"),
            (&["ALPHA", "LIMIT", "2", "3"], "g h d"),
            (&["ALPHA", "LIMIT", "5", "3"], "b e c"),
            (&["ALPHA", "DESC", "LIMIT", "0", "4"], "f a c b"),
        ];
        for (extra, want) in cases {
            let mut argv = vec!["SORT", "l", "BY", "w_*"];
            argv.extend_from_slice(extra);
            assert_eq!(cmd(&mut c, &argv).await, words(want), "{extra:?}");
        }
        assert_eq!(cmd(&mut c, &["SORT", "l", "BY", "w_*"]).await, not_double());
        assert_eq!(cmd(&mut c, &["DEL", "w_f"]).await, int(1));
        let cases: &[(&[&str], &str)] = &[
            // Missing numeric weights are 0; ties go by the element.
            (&["BY", "w_*"], "d f g h i j b e c a"),
            (&["BY", "w_*", "DESC"], "a c e b j i h g f d"),
            (&["BY", "w_*", "LIMIT", "0", "3"], "d f g"),
            (&["BY", "h_*->f"], "d e f g h i j b c a"),
            (&["BY", "h_*->f", "ALPHA"], "d e f g h i j b c a"),
            (&["BY", "h_*->g", "ALPHA"], "b c d e f g h i j a"),
            (&["BY", "h_*->g", "ALPHA", "DESC"], "a b c d e f g h i j"),
            // Keys of the wrong type read as missing.
            (&["BY", "h_*"], "a b c d e f g h i j"),
            (&["BY", "w_*->f"], "a b c d e f g h i j"),
        ];
        for (extra, want) in cases {
            let mut argv = vec!["SORT", "l"];
            argv.extend_from_slice(extra);
            assert_eq!(cmd(&mut c, &argv).await, words(want), "{extra:?}");
        }
        // The weights of a sorted set's members, not their scores, decide.
        assert_eq!(cmd(&mut c, &["ZADD", "z", "1", "a", "2", "b", "3", "c"]).await, int(3));
        assert_eq!(cmd(&mut c, &["SORT", "z", "BY", "w_*"]).await, words("b c a"));
        assert_eq!(cmd(&mut c, &["SADD", "s", "a", "b", "c", "e"]).await, int(4));
        assert_eq!(cmd(&mut c, &["SORT", "s", "BY", "w_*", "DESC"]).await, words("a c e b"));
    }

    async fn sort_partial_quicksort_ties(server: &TestServer) {
        let mut c = server.raw().await;
        // 60 elements (so the partition picks its pivot from nine samples) with five
        // distinct ALPHA weights and some missing ones.
        let elems: Vec<String> = (0..60).map(|i| format!("e{:02}", (i * 37) % 60)).collect();
        let mut rpush = vec!["RPUSH", "big"];
        rpush.extend(elems.iter().map(String::as_str));
        assert_eq!(cmd(&mut c, &rpush).await, int(60));
        for i in 0..60 {
            let m = (i * 13) % 7;
            if m != 0 {
                let w = &"abcdef"[m - 1..m];
                assert_eq!(cmd(&mut c, &["SET", &format!("w_e{i:02}"), w]).await, ok());
            }
        }
        let cases: &[(&[&str], &str)] = &[
            (&[], "e00 e14 e28 e42 e56 e07 e21 e35 e49 e06 e20 e34 e48 e13 e27 e41 e55 e05 e19 e33 e47 e12 e26 e40 e54 e11 e25 e39 e53 e04 e18 e32 e46 e10 e24 e38 e52 e03 e17 e31 e45 e59 e37 e51 e02 e16 e30 e44 e58 e09 e23 e01 e15 e29 e43 e57 e08 e22 e36 e50"),
            (&["DESC"], "e01 e15 e29 e43 e57 e08 e22 e36 e50 e37 e51 e02 e16 e30 e44 e58 e09 e23 e10 e24 e38 e52 e03 e17 e31 e45 e59 e11 e25 e39 e53 e04 e18 e32 e46 e05 e19 e33 e47 e12 e26 e40 e54 e06 e20 e34 e48 e13 e27 e41 e55 e00 e14 e28 e42 e56 e07 e21 e35 e49"),
            (&["LIMIT", "10", "15"], "e41 e27 e13 e06 e20 e34 e55 e47 e19 e33 e05 e54 e40 e26 e12"),
            (&["LIMIT", "0", "20"], "e56 e14 e49 e07 e28 e00 e42 e21 e35 e48 e41 e27 e13 e06 e20 e34 e55 e47 e19 e33"),
            (&["DESC", "LIMIT", "5", "20"], "e50 e36 e57 e43 e02 e16 e51 e30 e09 e58 e44 e37 e23 e10 e45 e17 e59 e03 e38 e24"),
            (&["LIMIT", "45", "100"], "e09 e16 e37 e30 e02 e58 e22 e43 e29 e15 e01 e08 e57 e36 e50"),
            (&["DESC", "LIMIT", "30", "1"], "e53"),
        ];
        for (extra, want) in cases {
            let mut argv = vec!["SORT", "big", "BY", "w_*", "ALPHA"];
            argv.extend_from_slice(extra);
            assert_eq!(cmd(&mut c, &argv).await, words(want), "{extra:?}");
        }
    }

    async fn sort_get_patterns(server: &TestServer) {
        let mut c = server.raw().await;
        weights(&mut c).await;
        assert_eq!(
            cmd(&mut c, &["SORT", "l", "BY", "w_*", "GET", "#", "GET", "w_*", "GET", "h_*->f", "LIMIT", "6", "4"]).await,
            with_nils(&["b", "1", "1", "e", "1", "-", "c", "2", "5", "a", "3", "9"])
        );
        // Constant patterns, '->' with no field and fields of non-hashes give nil.
        assert_eq!(
            cmd(&mut c, &["SORT", "l", "BY", "nosort", "GET", "nothing", "GET", "h_*", "GET", "h_*->", "GET", "#", "LIMIT", "0", "2"]).await,
            with_nils(&["-", "-", "-", "a", "-", "-", "-", "b"])
        );
        // '->' splits at its first occurrence after the star.
        assert_eq!(cmd(&mut c, &["HSET", "x_a", "f->g", "deep"]).await, int(1));
        assert_eq!(cmd(&mut c, &["SET", "k_a_end", "mid"]).await, ok());
        assert_eq!(cmd(&mut c, &["SET", "h->a", "arrow-before-star"]).await, ok());
        assert_eq!(
            cmd(&mut c, &["SORT_RO", "l", "BY", "nosort", "GET", "x_*->f->g", "GET", "k_*_end", "GET", "w_*->f", "GET", "h->*", "LIMIT", "0", "1"]).await,
            with_nils(&["deep", "mid", "-", "arrow-before-star"])
        );
        assert_eq!(cmd(&mut c, &["SORT", "nokey", "GET", "#", "GET", "w_*"]).await, arr(vec![]));
        assert_eq!(
            cmd(&mut c, &["SORT", "l", "BY", "w_*", "ALPHA", "DESC", "GET", "h_*->f", "LIMIT", "0", "3"]).await,
            with_nils(&["9", "5", "1"])
        );
    }

    async fn sort_store(server: &TestServer) {
        let mut c = server.raw().await;
        weights(&mut c).await;
        assert_eq!(cmd(&mut c, &["SORT", "l", "BY", "w_*", "STORE", "dst", "GET", "w_*"]).await, int(10));
        // Missing GET values are stored as empty strings.
        assert_eq!(
            cmd(&mut c, &["LRANGE", "dst", "0", "-1"]).await,
            bulks(&["", "", "", "", "", "", "1", "1", "2", "3"])
        );
        assert_eq!(
            cmd(&mut c, &["SORT", "l", "STORE", "dst2", "BY", "w_*", "LIMIT", "0", "2", "GET", "#", "GET", "h_*->f"]).await,
            int(4)
        );
        assert_eq!(cmd(&mut c, &["LRANGE", "dst2", "0", "-1"]).await, bulks(&["d", "", "f", ""]));
        // A failed sort leaves the destination alone.
        assert_eq!(cmd(&mut c, &["SET", "dst", "x", "EX", "100"]).await, ok());
        assert_eq!(cmd(&mut c, &["SORT", "l", "STORE", "dst"]).await, not_double());
        assert_eq!(cmd(&mut c, &["GET", "dst"]).await, bulk("x"));
        // STORE replaces any type and drops the TTL.
        assert_eq!(cmd(&mut c, &["SORT", "l", "ALPHA", "DESC", "STORE", "dst", "LIMIT", "0", "3"]).await, int(3));
        assert_eq!(cmd(&mut c, &["TYPE", "dst"]).await, simple("list"));
        assert_eq!(cmd(&mut c, &["TTL", "dst"]).await, int(-1));
        assert_eq!(cmd(&mut c, &["LRANGE", "dst", "0", "-1"]).await, words("j i h"));
        // The last STORE wins.
        assert_eq!(cmd(&mut c, &["SORT", "l", "ALPHA", "STORE", "x1", "STORE", "x2", "LIMIT", "0", "1"]).await, int(1));
        assert_eq!(cmd(&mut c, &["EXISTS", "x1", "x2"]).await, int(1));
        assert_eq!(cmd(&mut c, &["LRANGE", "x2", "0", "-1"]).await, words("a"));
        // An empty result deletes the destination.
        assert_eq!(cmd(&mut c, &["SORT", "l", "ALPHA", "LIMIT", "0", "0", "STORE", "dst"]).await, int(0));
        assert_eq!(cmd(&mut c, &["EXISTS", "dst"]).await, int(0));
        assert_eq!(cmd(&mut c, &["SET", "dst", "x"]).await, ok());
        assert_eq!(cmd(&mut c, &["SORT", "nokey", "STORE", "dst"]).await, int(0));
        assert_eq!(cmd(&mut c, &["EXISTS", "dst"]).await, int(0));
        // Sorting a key into itself.
        assert_eq!(cmd(&mut c, &["RPUSH", "self", "3", "1", "2"]).await, int(3));
        assert_eq!(cmd(&mut c, &["SORT", "self", "DESC", "STORE", "self"]).await, int(3));
        assert_eq!(cmd(&mut c, &["LRANGE", "self", "0", "-1"]).await, words("3 2 1"));
        // Into another database's view: STORE writes the selected database.
        assert_eq!(cmd(&mut c, &["SELECT", "1"]).await, ok());
        assert_eq!(cmd(&mut c, &["SORT", "l", "STORE", "dst"]).await, int(0));
        assert_eq!(cmd(&mut c, &["EXISTS", "dst"]).await, int(0));
    }

    async fn sort_errors(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(cmd(&mut c, &["RPUSH", "l", "1"]).await, int(1));
        assert_eq!(cmd(&mut c, &["SET", "str", "v"]).await, ok());
        assert_eq!(cmd(&mut c, &["HSET", "h", "f", "v"]).await, int(1));
        for name in ["SORT", "SORT_RO"] {
            assert_eq!(cmd(&mut c, &[name, "str"]).await, wrongtype());
            assert_eq!(cmd(&mut c, &[name, "h", "BY", "nosort"]).await, wrongtype());
            // Option errors come before the type check.
            assert_eq!(cmd(&mut c, &[name, "str", "foo"]).await, syntax_error());
            assert_eq!(cmd(&mut c, &[name, "str", "LIMIT", "x", "1"]).await, not_integer());
            for bad in [
                &["foo"][..],
                &["LIMIT", "1"],
                &["LIMIT"],
                &["BY"],
                &["GET"],
                &["ALPHA", "LIMIT", "0"],
                &["GET", "#", "nosuch"],
            ] {
                let mut argv = vec![name, "l"];
                argv.extend_from_slice(bad);
                assert_eq!(cmd(&mut c, &argv).await, syntax_error(), "{argv:?}");
            }
            assert_eq!(cmd(&mut c, &[name, "l", "LIMIT", "1", "x"]).await, not_integer());
            assert_eq!(cmd(&mut c, &[name, "l", "LIMIT", "1.5", "1"]).await, not_integer());
            assert_eq!(cmd(&mut c, &[name, "l", "LIMIT", "x", "1", "foo"]).await, not_integer());
            assert_eq!(cmd(&mut c, &[name, "l", "foo", "LIMIT", "x", "1"]).await, syntax_error());
            assert_eq!(cmd(&mut c, &[name]).await, wrong_args(&name.to_lowercase()));
        }
        assert_eq!(cmd(&mut c, &["SORT", "l", "STORE"]).await, syntax_error());
        assert_eq!(cmd(&mut c, &["SORT_RO", "l", "STORE", "d"]).await, syntax_error());
        assert_eq!(cmd(&mut c, &["EXISTS", "d"]).await, int(0));
    }

    async fn sort_keyspace_stats(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(cmd(&mut c, &["RPUSH", "l", "a", "b", "c"]).await, int(3));
        assert_eq!(cmd(&mut c, &["SET", "w_a", "1"]).await, ok());
        assert_eq!(cmd(&mut c, &["HSET", "h_b", "f", "1"]).await, int(1));
        let stats = |info: &Frame| -> (i64, i64) {
            let text = text(info);
            let field = |name: &str| -> i64 {
                text.lines()
                    .find_map(|l| l.strip_prefix(name))
                    .and_then(|v| v.trim().parse().ok())
                    .expect("stat present")
            };
            (field("keyspace_hits:"), field("keyspace_misses:"))
        };
        assert_eq!(cmd(&mut c, &["CONFIG", "RESETSTAT"]).await, ok());
        assert_eq!(
            cmd(&mut c, &["SORT", "l", "BY", "w_*", "GET", "#", "GET", "h_*->f", "GET", "w_*"]).await,
            with_nils(&["b", "1", "-", "c", "-", "-", "a", "-", "1"])
        );
        // The sorted key, then every key a pattern named.
        assert_eq!(stats(&cmd(&mut c, &["INFO", "stats"]).await), (4, 6));
        assert_eq!(cmd(&mut c, &["CONFIG", "RESETSTAT"]).await, ok());
        assert_eq!(cmd(&mut c, &["SORT", "nokey", "BY", "w_*", "GET", "w_*"]).await, arr(vec![]));
        assert_eq!(stats(&cmd(&mut c, &["INFO", "stats"]).await), (0, 1));
    }
}
