//! Expiry commands (EXPIRE PEXPIRE EXPIREAT PEXPIREAT with NX XX GT LT, TTL PTTL
//! EXPIRETIME PEXPIRETIME PERSIST), lazy expiry on access and active expiry in the
//! background.

use std::time::Duration;

use ferrokv_tests::*;

fn within(frame: &Frame, lo: i64, hi: i64) {
    let v = as_int(frame);
    assert!((lo..=hi).contains(&v), "{v} not in {lo}..={hi}");
}

backend_tests! {
    async fn expire_and_ttl(server: &TestServer) {
        let mut c = server.raw().await;
        c.send(&["SET", "k", "v"]).await;
        assert_eq!(c.send(&["TTL", "k"]).await, int(-1));
        assert_eq!(c.send(&["PTTL", "k"]).await, int(-1));
        assert_eq!(c.send(&["TTL", "missing"]).await, int(-2));
        assert_eq!(c.send(&["PTTL", "missing"]).await, int(-2));
        assert_eq!(c.send(&["EXPIRE", "k", "100"]).await, int(1));
        within(&c.send(&["TTL", "k"]).await, 99, 100);
        within(&c.send(&["PTTL", "k"]).await, 99_000, 100_000);
        assert_eq!(c.send(&["PEXPIRE", "k", "50000"]).await, int(1));
        within(&c.send(&["PTTL", "k"]).await, 49_000, 50_000);
        within(&c.send(&["TTL", "k"]).await, 49, 50);
        assert_eq!(c.send(&["EXPIRE", "missing", "10"]).await, int(0));
        assert_eq!(c.send(&["PEXPIRE", "missing", "10"]).await, int(0));
        assert_eq!(c.send(&["EXISTS", "missing"]).await, int(0));
        // The key's value is untouched.
        assert_eq!(c.send(&["GET", "k"]).await, bulk("v"));
        // Overwriting with SET clears the TTL.
        c.send(&["SET", "k", "v2"]).await;
        assert_eq!(c.send(&["TTL", "k"]).await, int(-1));
    }

    async fn expire_in_the_past_deletes(server: &TestServer) {
        let mut c = server.raw().await;
        c.send(&["MSET", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5"]).await;
        assert_eq!(c.send(&["EXPIRE", "a", "0"]).await, int(1));
        assert_eq!(c.send(&["EXPIRE", "b", "-1"]).await, int(1));
        assert_eq!(c.send(&["PEXPIRE", "c", "-100"]).await, int(1));
        assert_eq!(c.send(&["EXPIREAT", "d", "100"]).await, int(1));
        assert_eq!(c.send(&["PEXPIREAT", "e", "1"]).await, int(1));
        assert_eq!(c.send(&["EXISTS", "a", "b", "c", "d", "e"]).await, int(0));
        assert_eq!(c.send(&["DBSIZE"]).await, int(0));
    }

    async fn expireat_and_expiretime(server: &TestServer) {
        let mut c = server.raw().await;
        c.send(&["SET", "k", "v"]).await;
        assert_eq!(c.send(&["EXPIRETIME", "k"]).await, int(-1));
        assert_eq!(c.send(&["PEXPIRETIME", "k"]).await, int(-1));
        assert_eq!(c.send(&["EXPIRETIME", "missing"]).await, int(-2));
        assert_eq!(c.send(&["PEXPIRETIME", "missing"]).await, int(-2));
        let at = unix_now() + 1000;
        assert_eq!(c.send(&["EXPIREAT", "k", &at.to_string()]).await, int(1));
        assert_eq!(c.send(&["EXPIRETIME", "k"]).await, int(at));
        assert_eq!(c.send(&["PEXPIRETIME", "k"]).await, int(at * 1000));
        within(&c.send(&["TTL", "k"]).await, 998, 1000);
        let pat = unix_now_ms() + 2_000_500;
        assert_eq!(c.send(&["PEXPIREAT", "k", &pat.to_string()]).await, int(1));
        assert_eq!(c.send(&["PEXPIRETIME", "k"]).await, int(pat));
        // EXPIRETIME rounds to the nearest second.
        assert_eq!(c.send(&["EXPIRETIME", "k"]).await, int((pat + 500) / 1000));
        assert_eq!(c.send(&["EXPIREAT", "missing", &at.to_string()]).await, int(0));
        // The far future is fine for PEXPIREAT.
        assert_eq!(c.send(&["PEXPIREAT", "k", "9223372036854775806"]).await, int(1));
        assert_eq!(c.send(&["PEXPIRETIME", "k"]).await, int(9223372036854775806));
        assert_eq!(c.send(&["EXPIRETIME", "k"]).await, int(9223372036854776));
    }

    async fn expire_nx_xx_gt_lt(server: &TestServer) {
        let mut c = server.raw().await;
        c.send(&["SET", "a", "1"]).await;
        assert_eq!(c.send(&["EXPIRE", "a", "100", "XX"]).await, int(0), "XX needs a TTL");
        assert_eq!(c.send(&["EXPIRE", "a", "100", "GT"]).await, int(0), "no TTL counts as infinite");
        assert_eq!(c.send(&["EXPIRE", "a", "100", "NX"]).await, int(1));
        assert_eq!(c.send(&["EXPIRE", "a", "200", "NX"]).await, int(0));
        assert_eq!(c.send(&["EXPIRE", "a", "50", "XX"]).await, int(1));
        assert_eq!(c.send(&["EXPIRE", "a", "40", "GT"]).await, int(0));
        assert_eq!(c.send(&["EXPIRE", "a", "60", "GT"]).await, int(1));
        assert_eq!(c.send(&["EXPIRE", "a", "70", "LT"]).await, int(0));
        assert_eq!(c.send(&["EXPIRE", "a", "30", "lt"]).await, int(1));
        within(&c.send(&["TTL", "a"]).await, 29, 30);
        assert_eq!(c.send(&["PERSIST", "a"]).await, int(1));
        assert_eq!(c.send(&["EXPIRE", "a", "100", "LT"]).await, int(1), "any TTL is less than none");
        within(&c.send(&["TTL", "a"]).await, 99, 100);
        // The same flags on the other variants.
        assert_eq!(c.send(&["PEXPIRE", "a", "200000", "GT"]).await, int(1));
        assert_eq!(c.send(&["PEXPIRE", "a", "100000", "GT"]).await, int(0));
        let at = (unix_now() + 50).to_string();
        assert_eq!(c.send(&["EXPIREAT", "a", &at, "LT"]).await, int(1));
        assert_eq!(c.send(&["EXPIREAT", "a", &at, "NX"]).await, int(0));
        let pat = (unix_now_ms() + 10_000).to_string();
        assert_eq!(c.send(&["PEXPIREAT", "a", &pat, "XX"]).await, int(1));
        assert_eq!(c.send(&["PEXPIRETIME", "a"]).await, int(pat.parse().unwrap()));
        assert_eq!(c.send(&["EXPIRE", "missing", "10", "NX"]).await, int(0));
        // A GT/LT/XX that does not apply must not delete, even with a past time.
        c.send(&["SET", "b", "1"]).await;
        assert_eq!(c.send(&["EXPIRE", "b", "-1", "XX"]).await, int(0));
        assert_eq!(c.send(&["EXISTS", "b"]).await, int(1));
    }

    async fn expire_errors(server: &TestServer) {
        let mut c = server.raw().await;
        c.send(&["SET", "a", "1"]).await;
        let incompatible = err("ERR NX and XX, GT or LT options at the same time are not compatible");
        assert_eq!(c.send(&["EXPIRE", "a", "100", "NX", "XX"]).await, incompatible);
        assert_eq!(c.send(&["EXPIRE", "a", "100", "NX", "GT"]).await, incompatible);
        assert_eq!(c.send(&["PEXPIRE", "a", "100", "LT", "NX"]).await, incompatible);
        assert_eq!(
            c.send(&["EXPIRE", "a", "100", "GT", "LT"]).await,
            err("ERR GT and LT options at the same time are not compatible")
        );
        assert_eq!(c.send(&["EXPIRE", "a", "100", "FOO"]).await, err("ERR Unsupported option FOO"));
        assert_eq!(c.send(&["EXPIRE", "a", "abc"]).await, not_integer());
        assert_eq!(c.send(&["PEXPIRE", "a", "1.5"]).await, not_integer());
        assert_eq!(c.send(&["EXPIREAT", "a", ""]).await, not_integer());
        assert_eq!(c.send(&["EXPIRE", "a", "9223372036854775807"]).await, err("ERR invalid expire time in 'expire' command"));
        assert_eq!(c.send(&["EXPIRE", "a", "9223372036854775"]).await, err("ERR invalid expire time in 'expire' command"));
        assert_eq!(
            c.send(&["PEXPIRE", "a", "9223372036854775807"]).await,
            err("ERR invalid expire time in 'pexpire' command")
        );
        assert_eq!(
            c.send(&["EXPIREAT", "a", "9223372036854775807"]).await,
            err("ERR invalid expire time in 'expireat' command")
        );
        assert_eq!(c.send(&["TTL", "a"]).await, int(-1), "failed EXPIREs change nothing");
        assert_eq!(c.send(&["EXPIRE", "a"]).await, wrong_args("expire"));
        assert_eq!(c.send(&["PEXPIRE", "a"]).await, wrong_args("pexpire"));
        assert_eq!(c.send(&["EXPIREAT", "a"]).await, wrong_args("expireat"));
        assert_eq!(c.send(&["PEXPIREAT"]).await, wrong_args("pexpireat"));
        assert_eq!(c.send(&["TTL"]).await, wrong_args("ttl"));
        assert_eq!(c.send(&["PTTL", "a", "b"]).await, wrong_args("pttl"));
        assert_eq!(c.send(&["EXPIRETIME"]).await, wrong_args("expiretime"));
        assert_eq!(c.send(&["PEXPIRETIME", "a", "b"]).await, wrong_args("pexpiretime"));
        assert_eq!(c.send(&["PERSIST"]).await, wrong_args("persist"));
    }

    async fn persist(server: &TestServer) {
        let mut c = server.raw().await;
        c.send(&["SET", "k", "v", "EX", "100"]).await;
        assert_eq!(c.send(&["PERSIST", "k"]).await, int(1));
        assert_eq!(c.send(&["TTL", "k"]).await, int(-1));
        assert_eq!(c.send(&["PERSIST", "k"]).await, int(0));
        assert_eq!(c.send(&["PERSIST", "missing"]).await, int(0));
        assert_eq!(c.send(&["GET", "k"]).await, bulk("v"));
    }

    async fn lazy_expiry_on_access(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["SET", "k", "v", "PX", "150"]).await, ok());
        assert_eq!(c.send(&["GET", "k"]).await, bulk("v"));
        for k in ["k2", "k3", "k4", "k5"] {
            c.send(&["SET", k, "5", "PX", "150"]).await;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert_eq!(c.send(&["GET", "k"]).await, nil());
        assert_eq!(c.send(&["EXISTS", "k2"]).await, int(0));
        assert_eq!(c.send(&["TTL", "k4"]).await, int(-2));
        assert_eq!(c.send(&["TYPE", "k5"]).await, simple("none"));
        // A write on an expired key starts from nothing.
        assert_eq!(c.send(&["INCR", "k3"]).await, int(1));
        assert_eq!(c.send(&["TTL", "k3"]).await, int(-1));
        assert_eq!(c.send(&["SET", "k", "new", "NX"]).await, ok());
        assert_eq!(c.send(&["GET", "k"]).await, bulk("new"));
    }

    async fn active_expiry_removes_untouched_keys(server: &TestServer) {
        let mut c = server.raw().await;
        let mut batch = Vec::new();
        for i in 0..2000 {
            batch.extend(request(&[b"SET", format!("short:{i}").as_bytes(), b"v", b"PX", b"100"]));
        }
        for i in 0..100 {
            batch.extend(request(&[b"SET", format!("long:{i}").as_bytes(), b"v"]));
        }
        c.send_bytes(&batch).await;
        for _ in 0..2100 {
            assert_eq!(c.read_frame().await, ok());
        }
        // Only DBSIZE, which touches no key, until the expired keys are gone.
        let mut probe = server.raw().await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(6);
        let mut last = as_int(&probe.send(&["DBSIZE"]).await);
        while last != 100 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
            last = as_int(&probe.send(&["DBSIZE"]).await);
        }
        let gone = last == 100;
        assert!(gone, "active expiry left DBSIZE at {last}, expected 100");
        let info = text(&c.send(&["INFO", "stats"]).await);
        let expired = info
            .lines()
            .find_map(|l| l.strip_prefix("expired_keys:"))
            .map(|v| v.trim().parse::<i64>().expect("expired_keys"));
        assert!(expired.is_some_and(|n| n >= 2000), "INFO stats expired_keys: {expired:?}");
    }

    async fn expired_keys_are_not_counted_or_listed(server: &TestServer) {
        let mut c = server.raw().await;
        c.send(&["SET", "live", "1"]).await;
        c.send(&["SET", "dead", "1", "PX", "30"]).await;
        tokio::time::sleep(Duration::from_millis(80)).await;
        assert_eq!(c.send(&["MGET", "live", "dead"]).await, arr(vec![bulk("1"), nil()]));
        assert_eq!(c.send(&["KEYS", "*"]).await, bulks(&["live"]));
        let reply = c.send(&["SCAN", "0", "COUNT", "1000"]).await;
        assert_eq!(sorted_texts(&items(&reply)[1]), ["live"]);
        assert_eq!(c.send(&["EXISTS", "dead"]).await, int(0));
        assert_eq!(c.send(&["DBSIZE"]).await, int(1));
    }

    async fn rename_and_copy_carry_expiry_that_then_fires(server: &TestServer) {
        let mut c = server.raw().await;
        c.send(&["SET", "a", "1", "PX", "300"]).await;
        assert_eq!(c.send(&["RENAME", "a", "b"]).await, ok());
        assert_eq!(c.send(&["COPY", "b", "c"]).await, int(1));
        within(&c.send(&["PTTL", "c"]).await, 1, 300);
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(c.send(&["EXISTS", "a", "b", "c"]).await, int(0));
    }

    async fn redis_rs_expiry(server: &TestServer) {
        use redis::AsyncCommands;
        let mut con = server.conn().await;
        let () = con.set_ex("k", "v", 100).await.expect("setex");
        let ttl: i64 = con.ttl("k").await.expect("ttl");
        assert!((99..=100).contains(&ttl));
        let persisted: bool = con.persist("k").await.expect("persist");
        assert!(persisted);
        let ttl: i64 = con.ttl("k").await.expect("ttl");
        assert_eq!(ttl, -1);
    }
}
