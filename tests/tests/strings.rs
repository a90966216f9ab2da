//! String commands: SET (every option) GET GETEX GETDEL GETSET MGET MSET MSETNX SETNX
//! SETEX PSETEX INCR DECR INCRBY DECRBY INCRBYFLOAT APPEND STRLEN GETRANGE SUBSTR SETRANGE
//! LCS, with their error replies.

use ferrokv_tests::*;

fn pttl_in(frame: &Frame, lo: i64, hi: i64) -> bool {
    let t = as_int(frame);
    (lo..=hi).contains(&t)
}

backend_tests! {
    async fn set_and_get(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["GET", "k"]).await, nil());
        assert_eq!(c.send(&["SET", "k", "v"]).await, ok());
        assert_eq!(c.send(&["GET", "k"]).await, bulk("v"));
        assert_eq!(c.send(&["SET", "k", "v2"]).await, ok());
        assert_eq!(c.send(&["GET", "k"]).await, bulk("v2"));
        // Binary-safe keys and values, empty values.
        assert_eq!(c.send_bin(&[b"SET", b"\x00bin\xff", b"\r\n\x00\xfe"]).await, ok());
        assert_eq!(c.send_bin(&[b"GET", b"\x00bin\xff"]).await, bulk(b"\r\n\x00\xfe"));
        assert_eq!(c.send(&["SET", "empty", ""]).await, ok());
        assert_eq!(c.send(&["GET", "empty"]).await, bulk(""));
        assert_eq!(c.send(&["EXISTS", "empty"]).await, int(1));
        // A large value.
        let big = "x".repeat(1 << 20);
        assert_eq!(c.send(&["SET", "big", &big]).await, ok());
        assert_eq!(c.send(&["GET", "big"]).await, bulk(&big));
        assert_eq!(c.send(&["STRLEN", "big"]).await, int(1 << 20));
        // Arity.
        assert_eq!(c.send(&["SET", "k"]).await, wrong_args("set"));
        assert_eq!(c.send(&["GET"]).await, wrong_args("get"));
        assert_eq!(c.send(&["GET", "a", "b"]).await, wrong_args("get"));
    }

    async fn set_nx_xx(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["SET", "k", "1", "XX"]).await, nil());
        assert_eq!(c.send(&["EXISTS", "k"]).await, int(0));
        assert_eq!(c.send(&["SET", "k", "1", "NX"]).await, ok());
        assert_eq!(c.send(&["SET", "k", "2", "NX"]).await, nil());
        assert_eq!(c.send(&["GET", "k"]).await, bulk("1"));
        assert_eq!(c.send(&["SET", "k", "3", "xx"]).await, ok());
        assert_eq!(c.send(&["GET", "k"]).await, bulk("3"));
        assert_eq!(c.send(&["SET", "k", "v", "NX", "XX"]).await, syntax_error());
        assert_eq!(c.send(&["SET", "k", "v", "XX", "NX"]).await, syntax_error());
        // Repeating an option is fine.
        assert_eq!(c.send(&["SET", "k", "4", "XX", "XX"]).await, ok());
    }

    async fn set_get_option(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["SET", "k", "v", "GET"]).await, nil());
        assert_eq!(c.send(&["GET", "k"]).await, bulk("v"));
        assert_eq!(c.send(&["SET", "k", "v2", "GET"]).await, bulk("v"));
        assert_eq!(c.send(&["GET", "k"]).await, bulk("v2"));
        // NX and GET together (allowed since 7.0): returns the old value, sets nothing.
        assert_eq!(c.send(&["SET", "k", "v3", "NX", "GET"]).await, bulk("v2"));
        assert_eq!(c.send(&["GET", "k"]).await, bulk("v2"));
        assert_eq!(c.send(&["SET", "n", "v", "NX", "GET"]).await, nil());
        assert_eq!(c.send(&["GET", "n"]).await, bulk("v"));
        assert_eq!(c.send(&["SET", "k", "v4", "XX", "GET"]).await, bulk("v2"));
        assert_eq!(c.send(&["SET", "missing", "v", "XX", "GET"]).await, nil());
        assert_eq!(c.send(&["EXISTS", "missing"]).await, int(0));
        assert_eq!(c.send(&["SET", "k", "v5", "GET", "GET"]).await, bulk("v4"));
        assert_eq!(c.send(&["SET", "k", "v6", "GET", "EX", "100"]).await, bulk("v5"));
        assert!(pttl_in(&c.send(&["PTTL", "k"]).await, 99_000, 100_000));
    }

    async fn set_expiry_options(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["SET", "k", "v", "EX", "100"]).await, ok());
        assert!(pttl_in(&c.send(&["PTTL", "k"]).await, 99_000, 100_000));
        assert_eq!(c.send(&["SET", "k", "v", "PX", "100000"]).await, ok());
        assert!(pttl_in(&c.send(&["PTTL", "k"]).await, 99_000, 100_000));
        let at = unix_now() + 200;
        assert_eq!(c.send(&["SET", "k", "v", "EXAT", &at.to_string()]).await, ok());
        assert_eq!(c.send(&["EXPIRETIME", "k"]).await, int(at));
        let pat = unix_now_ms() + 300_000;
        assert_eq!(c.send(&["SET", "k", "v", "PXAT", &pat.to_string()]).await, ok());
        assert_eq!(c.send(&["PEXPIRETIME", "k"]).await, int(pat));
        // KEEPTTL keeps it; a plain SET clears it.
        assert_eq!(c.send(&["SET", "k", "v2", "KEEPTTL"]).await, ok());
        assert_eq!(c.send(&["PEXPIRETIME", "k"]).await, int(pat));
        assert_eq!(c.send(&["GET", "k"]).await, bulk("v2"));
        assert_eq!(c.send(&["SET", "k", "v3"]).await, ok());
        assert_eq!(c.send(&["TTL", "k"]).await, int(-1));
        // Options are case-insensitive.
        assert_eq!(c.send(&["SET", "k", "v", "ex", "50"]).await, ok());
        assert!(pttl_in(&c.send(&["PTTL", "k"]).await, 49_000, 50_000));
        // An expiry time already in the past deletes the key.
        assert_eq!(c.send(&["SET", "k", "v", "PXAT", "1"]).await, ok());
        assert_eq!(c.send(&["EXISTS", "k"]).await, int(0));
    }

    async fn set_errors(server: &TestServer) {
        let mut c = server.raw().await;
        let invalid = err("ERR invalid expire time in 'set' command");
        assert_eq!(c.send(&["SET", "k", "v", "EX", "0"]).await, invalid);
        assert_eq!(c.send(&["SET", "k", "v", "EX", "-1"]).await, invalid);
        assert_eq!(c.send(&["SET", "k", "v", "PX", "0"]).await, invalid);
        assert_eq!(c.send(&["SET", "k", "v", "EXAT", "0"]).await, invalid);
        assert_eq!(c.send(&["SET", "k", "v", "PXAT", "-5"]).await, invalid);
        assert_eq!(c.send(&["SET", "k", "v", "EX", "9999999999999999"]).await, invalid);
        assert_eq!(c.send(&["SET", "k", "v", "PX", "9223372036854775807"]).await, invalid);
        assert_eq!(c.send(&["SET", "k", "v", "EX", "abc"]).await, not_integer());
        assert_eq!(c.send(&["SET", "k", "v", "PX", "1.5"]).await, not_integer());
        assert_eq!(c.send(&["SET", "k", "v", "EX", "99999999999999999999"]).await, not_integer());
        assert_eq!(c.send(&["SET", "k", "v", "EX"]).await, syntax_error());
        assert_eq!(c.send(&["SET", "k", "v", "EX", "10", "PX", "100"]).await, syntax_error());
        assert_eq!(c.send(&["SET", "k", "v", "EX", "10", "EXAT", "100"]).await, syntax_error());
        assert_eq!(c.send(&["SET", "k", "v", "KEEPTTL", "EX", "10"]).await, syntax_error());
        assert_eq!(c.send(&["SET", "k", "v", "PX", "10", "KEEPTTL"]).await, syntax_error());
        assert_eq!(c.send(&["SET", "k", "v", "foo"]).await, syntax_error());
        assert_eq!(c.send(&["SET", "k", "v", "10"]).await, syntax_error());
        // None of them wrote anything.
        assert_eq!(c.send(&["EXISTS", "k"]).await, int(0));
    }

    async fn getex_sets_or_clears_expiry(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["GETEX", "missing"]).await, nil());
        assert_eq!(c.send(&["GETEX", "missing", "EX", "10"]).await, nil());
        c.send(&["SET", "k", "v"]).await;
        assert_eq!(c.send(&["GETEX", "k"]).await, bulk("v"));
        assert_eq!(c.send(&["TTL", "k"]).await, int(-1));
        assert_eq!(c.send(&["GETEX", "k", "EX", "100"]).await, bulk("v"));
        assert!(pttl_in(&c.send(&["PTTL", "k"]).await, 99_000, 100_000));
        assert_eq!(c.send(&["GETEX", "k", "PX", "200000"]).await, bulk("v"));
        assert!(pttl_in(&c.send(&["PTTL", "k"]).await, 199_000, 200_000));
        let at = unix_now() + 500;
        assert_eq!(c.send(&["GETEX", "k", "EXAT", &at.to_string()]).await, bulk("v"));
        assert_eq!(c.send(&["EXPIRETIME", "k"]).await, int(at));
        let pat = unix_now_ms() + 600_000;
        assert_eq!(c.send(&["GETEX", "k", "PXAT", &pat.to_string()]).await, bulk("v"));
        assert_eq!(c.send(&["PEXPIRETIME", "k"]).await, int(pat));
        assert_eq!(c.send(&["GETEX", "k", "PERSIST"]).await, bulk("v"));
        assert_eq!(c.send(&["TTL", "k"]).await, int(-1));
        // A past time deletes the key after returning it.
        assert_eq!(c.send(&["GETEX", "k", "PXAT", "1"]).await, bulk("v"));
        assert_eq!(c.send(&["EXISTS", "k"]).await, int(0));
    }

    async fn getex_errors(server: &TestServer) {
        let mut c = server.raw().await;
        c.send(&["SET", "k", "v"]).await;
        let invalid = err("ERR invalid expire time in 'getex' command");
        assert_eq!(c.send(&["GETEX", "k", "EX", "0"]).await, invalid);
        assert_eq!(c.send(&["GETEX", "k", "PX", "-10"]).await, invalid);
        assert_eq!(c.send(&["GETEX", "k", "EX", "abc"]).await, not_integer());
        assert_eq!(c.send(&["GETEX", "k", "EX", "10", "PX", "10"]).await, syntax_error());
        assert_eq!(c.send(&["GETEX", "k", "PERSIST", "EX", "10"]).await, syntax_error());
        assert_eq!(c.send(&["GETEX", "k", "foo"]).await, syntax_error());
        assert_eq!(c.send(&["GETEX", "k", "EX"]).await, syntax_error());
        assert_eq!(c.send(&["GETEX"]).await, wrong_args("getex"));
        assert_eq!(c.send(&["TTL", "k"]).await, int(-1));
    }

    async fn getdel_and_getset(server: &TestServer) {
        let mut c = server.raw().await;
        c.send(&["SET", "k", "v"]).await;
        assert_eq!(c.send(&["GETDEL", "k"]).await, bulk("v"));
        assert_eq!(c.send(&["GETDEL", "k"]).await, nil());
        assert_eq!(c.send(&["EXISTS", "k"]).await, int(0));
        assert_eq!(c.send(&["GETDEL"]).await, wrong_args("getdel"));
        assert_eq!(c.send(&["GETDEL", "a", "b"]).await, wrong_args("getdel"));

        assert_eq!(c.send(&["GETSET", "g", "1"]).await, nil());
        assert_eq!(c.send(&["GETSET", "g", "2"]).await, bulk("1"));
        assert_eq!(c.send(&["GET", "g"]).await, bulk("2"));
        // GETSET clears the TTL.
        c.send(&["EXPIRE", "g", "100"]).await;
        assert_eq!(c.send(&["GETSET", "g", "3"]).await, bulk("2"));
        assert_eq!(c.send(&["TTL", "g"]).await, int(-1));
        assert_eq!(c.send(&["GETSET", "g"]).await, wrong_args("getset"));
    }

    async fn mget_mset_msetnx(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["MSET", "a", "1", "b", "2", "c", "3"]).await, ok());
        assert_eq!(c.send(&["MGET", "a", "b", "missing", "c"]).await, arr(vec![bulk("1"), bulk("2"), nil(), bulk("3")]));
        assert_eq!(c.send(&["MGET", "missing"]).await, arr(vec![nil()]));
        // The last value wins for a repeated key.
        assert_eq!(c.send(&["MSET", "d", "1", "d", "2"]).await, ok());
        assert_eq!(c.send(&["GET", "d"]).await, bulk("2"));
        // MSET clears TTLs.
        c.send(&["EXPIRE", "a", "100"]).await;
        c.send(&["MSET", "a", "x"]).await;
        assert_eq!(c.send(&["TTL", "a"]).await, int(-1));
        assert_eq!(c.send(&["MSET", "a"]).await, wrong_args("mset"));
        assert_eq!(c.send(&["MSET", "a", "1", "b"]).await, wrong_args("mset"));
        assert_eq!(c.send(&["MGET"]).await, wrong_args("mget"));

        assert_eq!(c.send(&["MSETNX", "x", "1", "y", "2"]).await, int(1));
        assert_eq!(c.send(&["MSETNX", "y", "9", "z", "3"]).await, int(0));
        assert_eq!(c.send(&["EXISTS", "z"]).await, int(0), "MSETNX is all or nothing");
        assert_eq!(c.send(&["GET", "y"]).await, bulk("2"));
        assert_eq!(c.send(&["MSETNX", "w", "1", "w", "2"]).await, int(1));
        assert_eq!(c.send(&["GET", "w"]).await, bulk("2"));
        assert_eq!(c.send(&["MSETNX", "a", "1", "b"]).await, wrong_args("msetnx"));
    }

    async fn setnx_setex_psetex(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["SETNX", "k", "1"]).await, int(1));
        assert_eq!(c.send(&["SETNX", "k", "2"]).await, int(0));
        assert_eq!(c.send(&["GET", "k"]).await, bulk("1"));
        assert_eq!(c.send(&["SETNX", "k"]).await, wrong_args("setnx"));

        assert_eq!(c.send(&["SETEX", "e", "100", "v"]).await, ok());
        assert_eq!(c.send(&["GET", "e"]).await, bulk("v"));
        assert!(pttl_in(&c.send(&["PTTL", "e"]).await, 99_000, 100_000));
        assert_eq!(c.send(&["SETEX", "e", "0", "v"]).await, err("ERR invalid expire time in 'setex' command"));
        assert_eq!(c.send(&["SETEX", "e", "-5", "v"]).await, err("ERR invalid expire time in 'setex' command"));
        assert_eq!(c.send(&["SETEX", "e", "abc", "v"]).await, not_integer());
        assert_eq!(c.send(&["SETEX", "e", "10"]).await, wrong_args("setex"));

        assert_eq!(c.send(&["PSETEX", "p", "100000", "v"]).await, ok());
        assert!(pttl_in(&c.send(&["PTTL", "p"]).await, 99_000, 100_000));
        assert_eq!(c.send(&["PSETEX", "p", "0", "v"]).await, err("ERR invalid expire time in 'psetex' command"));
        assert_eq!(c.send(&["PSETEX", "p", "x", "v"]).await, not_integer());
        assert_eq!(c.send(&["PSETEX", "p", "10", "v", "x"]).await, wrong_args("psetex"));
    }

    async fn incr_decr_family(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["INCR", "n"]).await, int(1));
        assert_eq!(c.send(&["INCR", "n"]).await, int(2));
        assert_eq!(c.send(&["DECR", "n"]).await, int(1));
        assert_eq!(c.send(&["INCRBY", "n", "100"]).await, int(101));
        assert_eq!(c.send(&["INCRBY", "n", "-200"]).await, int(-99));
        assert_eq!(c.send(&["DECRBY", "n", "1"]).await, int(-100));
        assert_eq!(c.send(&["DECRBY", "n", "-100"]).await, int(0));
        assert_eq!(c.send(&["GET", "n"]).await, bulk("0"));
        assert_eq!(c.send(&["DECR", "m"]).await, int(-1));
        assert_eq!(c.send(&["DECRBY", "m2", "5"]).await, int(-5));
        assert_eq!(c.send(&["INCRBY", "m3", "-5"]).await, int(-5));
        // A value SET as text counts.
        c.send(&["SET", "t", "41"]).await;
        assert_eq!(c.send(&["INCR", "t"]).await, int(42));
        c.send(&["SET", "t", "-9223372036854775807"]).await;
        assert_eq!(c.send(&["DECR", "t"]).await, int(i64::MIN));
        // INCR keeps the TTL.
        c.send(&["SET", "ttl", "1", "EX", "100"]).await;
        c.send(&["INCR", "ttl"]).await;
        assert!(pttl_in(&c.send(&["PTTL", "ttl"]).await, 99_000, 100_000));
        // Arity.
        assert_eq!(c.send(&["INCR"]).await, wrong_args("incr"));
        assert_eq!(c.send(&["INCR", "a", "b"]).await, wrong_args("incr"));
        assert_eq!(c.send(&["DECR"]).await, wrong_args("decr"));
        assert_eq!(c.send(&["INCRBY", "n"]).await, wrong_args("incrby"));
        assert_eq!(c.send(&["DECRBY", "n"]).await, wrong_args("decrby"));
    }

    async fn incr_errors(server: &TestServer) {
        let mut c = server.raw().await;
        for bad in ["abc", " 1", "1 ", "+1", "01", "-0", "1.5", "", "99999999999999999999", "0x10"] {
            c.send(&["SET", "s", bad]).await;
            assert_eq!(c.send(&["INCR", "s"]).await, not_integer(), "INCR on {bad:?}");
            assert_eq!(c.send(&["GET", "s"]).await, bulk(bad), "failed INCR leaves {bad:?}");
        }
        c.send(&["SET", "n", "0"]).await;
        assert_eq!(c.send(&["INCRBY", "n", "abc"]).await, not_integer());
        assert_eq!(c.send(&["INCRBY", "n", "1.5"]).await, not_integer());
        assert_eq!(c.send(&["INCRBY", "n", "9223372036854775808"]).await, not_integer());
        assert_eq!(c.send(&["DECRBY", "n", ""]).await, not_integer());

        c.send(&["SET", "n", "9223372036854775807"]).await;
        assert_eq!(c.send(&["INCR", "n"]).await, err("ERR increment or decrement would overflow"));
        assert_eq!(c.send(&["INCRBY", "n", "1"]).await, err("ERR increment or decrement would overflow"));
        assert_eq!(c.send(&["GET", "n"]).await, bulk("9223372036854775807"));
        c.send(&["SET", "n", "-9223372036854775808"]).await;
        assert_eq!(c.send(&["DECR", "n"]).await, err("ERR increment or decrement would overflow"));
        assert_eq!(c.send(&["INCRBY", "n", "-1"]).await, err("ERR increment or decrement would overflow"));
        c.send(&["SET", "z", "0"]).await;
        assert_eq!(c.send(&["DECRBY", "z", "-9223372036854775808"]).await, err("ERR decrement would overflow"));
        assert_eq!(c.send(&["DECRBY", "z", "9223372036854775807"]).await, int(-i64::MAX));
    }

    async fn incrbyfloat_formats_like_redis(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["INCRBYFLOAT", "f", "10.5"]).await, bulk("10.5"));
        assert_eq!(c.send(&["INCRBYFLOAT", "f", "0.1"]).await, bulk("10.6"));
        assert_eq!(c.send(&["INCRBYFLOAT", "f", "-5.0e3"]).await, bulk("-4989.39999999999999991"));
        assert_eq!(c.send(&["GET", "f"]).await, bulk("-4989.39999999999999991"));
        assert_eq!(c.send(&["INCRBYFLOAT", "g", "3.0e3"]).await, bulk("3000"));
        assert_eq!(c.send(&["INCRBYFLOAT", "g", "1.1e-10"]).await, bulk("3000.00000000011000001"));
        assert_eq!(c.send(&["INCRBYFLOAT", "i", "0.1"]).await, bulk("0.1"));
        assert_eq!(c.send(&["INCRBYFLOAT", "i", "0.2"]).await, bulk("0.3"));
        assert_eq!(c.send(&["INCRBYFLOAT", "j", "5"]).await, bulk("5"));
        assert_eq!(c.send(&["INCRBYFLOAT", "neg", "-0.0"]).await, bulk("0"));
        assert_eq!(c.send(&["INCRBYFLOAT", "big", "12345678901234567890"]).await, bulk("12345678901234567890"));
        assert_eq!(c.send(&["INCRBYFLOAT", "sm", "1.23456789012345678901234567890"]).await, bulk("1.23456789012345679"));
        c.send(&["SET", "hex", "0x10"]).await;
        assert_eq!(c.send(&["INCRBYFLOAT", "hex", "1"]).await, bulk("17"));
        c.send(&["SET", "int", "7"]).await;
        assert_eq!(c.send(&["INCRBYFLOAT", "int", "0.5"]).await, bulk("7.5"));
        // Long double range: 1e308 + 1e308 is finite.
        c.send(&["SET", "h", "1e308"]).await;
        let huge = text(&c.send(&["INCRBYFLOAT", "h", "1e308"]).await);
        assert_eq!(huge.len(), 309);
        assert!(huge.starts_with("19999999999999999999337175931169129132112"), "{huge}");
        // Keeps the TTL.
        c.send(&["SET", "ttl", "1", "EX", "100"]).await;
        c.send(&["INCRBYFLOAT", "ttl", "1.5"]).await;
        assert!(pttl_in(&c.send(&["PTTL", "ttl"]).await, 99_000, 100_000));
    }

    async fn incrbyfloat_errors(server: &TestServer) {
        let mut c = server.raw().await;
        let not_float = err("ERR value is not a valid float");
        for bad in ["abc", " 1", "1 ", "nan", "", "1e", "--1"] {
            assert_eq!(c.send(&["INCRBYFLOAT", "j", bad]).await, not_float, "increment {bad:?}");
        }
        c.send(&["SET", "s", "abc"]).await;
        assert_eq!(c.send(&["INCRBYFLOAT", "s", "1"]).await, not_float);
        c.send(&["SET", "f", "1.5"]).await;
        assert_eq!(c.send(&["INCRBYFLOAT", "f", "inf"]).await, err("ERR increment would produce NaN or Infinity"));
        assert_eq!(c.send(&["INCRBYFLOAT", "f", "-inf"]).await, err("ERR increment would produce NaN or Infinity"));
        assert_eq!(c.send(&["GET", "f"]).await, bulk("1.5"));
        assert_eq!(c.send(&["INCRBYFLOAT", "f"]).await, wrong_args("incrbyfloat"));
    }

    async fn append_and_strlen(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["APPEND", "a", "hello"]).await, int(5));
        assert_eq!(c.send(&["APPEND", "a", " world"]).await, int(11));
        assert_eq!(c.send(&["GET", "a"]).await, bulk("hello world"));
        assert_eq!(c.send(&["APPEND", "a", ""]).await, int(11));
        assert_eq!(c.send(&["STRLEN", "a"]).await, int(11));
        assert_eq!(c.send(&["STRLEN", "missing"]).await, int(0));
        // Integers are appended to as text.
        c.send(&["SET", "num", "123"]).await;
        assert_eq!(c.send(&["APPEND", "num", "4"]).await, int(4));
        assert_eq!(c.send(&["INCR", "num"]).await, int(1235));
        assert_eq!(c.send(&["STRLEN", "num"]).await, int(4));
        // APPEND keeps the TTL.
        c.send(&["EXPIRE", "a", "100"]).await;
        c.send(&["APPEND", "a", "!"]).await;
        assert!(pttl_in(&c.send(&["PTTL", "a"]).await, 99_000, 100_000));
        assert_eq!(c.send(&["APPEND", "a"]).await, wrong_args("append"));
        assert_eq!(c.send(&["STRLEN", "a", "b"]).await, wrong_args("strlen"));
        assert_eq!(c.send(&["STRLEN"]).await, wrong_args("strlen"));
    }

    async fn getrange_and_substr(server: &TestServer) {
        let mut c = server.raw().await;
        c.send(&["SET", "a", "hello world"]).await;
        assert_eq!(c.send(&["GETRANGE", "a", "0", "4"]).await, bulk("hello"));
        assert_eq!(c.send(&["GETRANGE", "a", "-5", "-1"]).await, bulk("world"));
        assert_eq!(c.send(&["GETRANGE", "a", "0", "-1"]).await, bulk("hello world"));
        assert_eq!(c.send(&["GETRANGE", "a", "5", "3"]).await, bulk(""));
        assert_eq!(c.send(&["GETRANGE", "a", "-100", "100"]).await, bulk("hello world"));
        assert_eq!(c.send(&["GETRANGE", "a", "100", "200"]).await, bulk(""));
        assert_eq!(c.send(&["GETRANGE", "a", "0", "-100"]).await, bulk("h"));
        assert_eq!(c.send(&["GETRANGE", "a", "-1", "-5"]).await, bulk(""));
        assert_eq!(c.send(&["GETRANGE", "a", "10", "10"]).await, bulk("d"));
        assert_eq!(c.send(&["GETRANGE", "a", "11", "11"]).await, bulk(""));
        assert_eq!(c.send(&["GETRANGE", "missing", "0", "-1"]).await, bulk(""));
        c.send(&["SET", "e", ""]).await;
        assert_eq!(c.send(&["GETRANGE", "e", "0", "-1"]).await, bulk(""));
        c.send(&["SET", "n", "12345"]).await;
        assert_eq!(c.send(&["GETRANGE", "n", "1", "2"]).await, bulk("23"));
        assert_eq!(c.send(&["GETRANGE", "a", "x", "1"]).await, not_integer());
        assert_eq!(c.send(&["GETRANGE", "a", "0", "9223372036854775808"]).await, not_integer());
        assert_eq!(c.send(&["GETRANGE", "a", "0"]).await, wrong_args("getrange"));

        assert_eq!(c.send(&["SUBSTR", "a", "0", "4"]).await, bulk("hello"));
        assert_eq!(c.send(&["SUBSTR", "a", "-3", "-1"]).await, bulk("rld"));
        assert_eq!(c.send(&["SUBSTR", "a", "0"]).await, wrong_args("substr"));
    }

    async fn setrange(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["SETRANGE", "sr", "5", "hi"]).await, int(7));
        assert_eq!(c.send(&["GET", "sr"]).await, bulk(b"\0\0\0\0\0hi"));
        assert_eq!(c.send(&["SETRANGE", "sr", "0", "HELLO"]).await, int(7));
        assert_eq!(c.send(&["GET", "sr"]).await, bulk("HELLOhi"));
        assert_eq!(c.send(&["SETRANGE", "sr", "6", "ya"]).await, int(8));
        assert_eq!(c.send(&["GET", "sr"]).await, bulk("HELLOhya"));
        assert_eq!(c.send(&["SETRANGE", "sr", "1", ""]).await, int(8));
        assert_eq!(c.send(&["SETRANGE", "sr", "536870911", ""]).await, int(8), "empty value never grows");
        // An empty value on a missing key creates nothing.
        assert_eq!(c.send(&["SETRANGE", "new", "0", ""]).await, int(0));
        assert_eq!(c.send(&["SETRANGE", "new", "100", ""]).await, int(0));
        assert_eq!(c.send(&["EXISTS", "new"]).await, int(0));
        // Works on integers as text.
        c.send(&["SET", "n", "12345"]).await;
        assert_eq!(c.send(&["SETRANGE", "n", "1", "9"]).await, int(5));
        assert_eq!(c.send(&["INCR", "n"]).await, int(19346));
        assert_eq!(c.send(&["SETRANGE", "sr", "-1", "x"]).await, err("ERR offset is out of range"));
        assert_eq!(
            c.send(&["SETRANGE", "sr", "536870912", "x"]).await,
            err("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
        );
        assert_eq!(
            c.send(&["SETRANGE", "sr", "536870911", "xy"]).await,
            err("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
        );
        assert_eq!(c.send(&["SETRANGE", "sr", "abc", "x"]).await, not_integer());
        assert_eq!(c.send(&["SETRANGE", "sr", "1"]).await, wrong_args("setrange"));
    }

    async fn lcs(server: &TestServer) {
        let mut c = server.raw().await;
        c.send(&["MSET", "key1", "ohmytext", "key2", "mynewtext"]).await;
        assert_eq!(c.send(&["LCS", "key1", "key2"]).await, bulk("mytext"));
        assert_eq!(c.send(&["LCS", "key1", "key2", "LEN"]).await, int(6));
        let range = |a: i64, b: i64| ints(&[a, b]);
        assert_eq!(
            c.send(&["LCS", "key1", "key2", "IDX"]).await,
            arr(vec![
                bulk("matches"),
                arr(vec![arr(vec![range(4, 7), range(5, 8)]), arr(vec![range(2, 3), range(0, 1)])]),
                bulk("len"),
                int(6),
            ])
        );
        assert_eq!(
            c.send(&["LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"]).await,
            arr(vec![bulk("matches"), arr(vec![arr(vec![range(4, 7), range(5, 8), int(4)])]), bulk("len"), int(6)])
        );
        assert_eq!(
            c.send(&["LCS", "key1", "key2", "IDX", "WITHMATCHLEN"]).await,
            arr(vec![
                bulk("matches"),
                arr(vec![arr(vec![range(4, 7), range(5, 8), int(4)]), arr(vec![range(2, 3), range(0, 1), int(2)])]),
                bulk("len"),
                int(6),
            ])
        );
        assert_eq!(
            c.send(&["LCS", "key1", "key2", "MINMATCHLEN", "-5", "IDX"]).await,
            c.send(&["LCS", "key1", "key2", "IDX"]).await
        );
        assert_eq!(c.send(&["LCS", "key1", "key2", "LEN", "WITHMATCHLEN"]).await, int(6));
        assert_eq!(c.send(&["LCS", "key1", "missing"]).await, bulk(""));
        assert_eq!(c.send(&["LCS", "missing1", "missing2", "LEN"]).await, int(0));
        c.send(&["MSET", "x", "ABCBDAB", "y", "BDCABA"]).await;
        assert_eq!(c.send(&["LCS", "x", "y", "LEN"]).await, int(4));
        assert_eq!(
            c.send(&["LCS", "key1", "key2", "LEN", "IDX"]).await,
            err("ERR If you want both the length and indexes, please just use IDX.")
        );
        assert_eq!(c.send(&["LCS", "key1", "key2", "foo"]).await, syntax_error());
        assert_eq!(c.send(&["LCS", "key1", "key2", "MINMATCHLEN", "abc"]).await, not_integer());
        assert_eq!(c.send(&["LCS", "key1", "key2", "MINMATCHLEN"]).await, syntax_error());
        assert_eq!(c.send(&["LCS", "key1"]).await, wrong_args("lcs"));

        // RESP3: IDX replies with a map.
        c.send(&["HELLO", "3"]).await;
        let (_, wire) = c.send_raw_reply(&[b"LCS", b"key1", b"key2", b"IDX", b"MINMATCHLEN", b"4", b"WITHMATCHLEN"]).await;
        assert_eq!(
            &wire[..],
            b"%2\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n$3\r\nlen\r\n:6\r\n"
        );
    }

    async fn redis_rs_strings(server: &TestServer) {
        let mut con = server.conn().await;
        let () = redis::cmd("MSET").arg("a").arg("1").arg("b").arg("2").query_async(&mut con).await.expect("mset");
        let got: Vec<Option<String>> =
            redis::cmd("MGET").arg("a").arg("b").arg("c").query_async(&mut con).await.expect("mget");
        assert_eq!(got, vec![Some("1".into()), Some("2".into()), None]);
        let f: f64 = redis::cmd("INCRBYFLOAT").arg("a").arg(0.5).query_async(&mut con).await.expect("incrbyfloat");
        assert_eq!(f, 1.5);
        let len: i64 = redis::cmd("APPEND").arg("b").arg("345").query_async(&mut con).await.expect("append");
        assert_eq!(len, 4);
    }
}
