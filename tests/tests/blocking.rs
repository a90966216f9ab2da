//! Blocking pops with several clients: BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP BZPOPMIN
//! BZPOPMAX BZMPOP, FIFO order of wake-ups, timeouts, CLIENT UNBLOCK, disconnects and
//! chained moves. Waits are event-driven (the server's `blocked_clients` count), never
//! fixed sleeps, except the short timeouts under test.

use std::time::{Duration, Instant};

use ferrokv_tests::*;

/// Waits until the server reports `n` blocked clients.
async fn wait_blocked(admin: &mut RawClient, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let info = text(&admin.send(&["INFO", "clients"]).await);
        let blocked = info
            .lines()
            .find_map(|l| l.strip_prefix("blocked_clients:"))
            .and_then(|v| v.trim().parse::<usize>().ok());
        if blocked == Some(n) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "never saw {n} blocked clients: {info}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Sends a command without reading its reply.
async fn fire(c: &mut RawClient, args: &[&str]) {
    let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    c.send_bytes(&request(&args)).await;
}

/// Asserts that no reply arrives for a short while (the client is still blocked).
async fn still_blocked(c: &mut RawClient) {
    assert_eq!(c.try_read_frame(Duration::from_millis(50)).await, None);
}

backend_tests! {
    async fn swapdb_serves_a_list_it_brings_in(server: &TestServer) {
        let mut admin = server.raw().await;
        let mut waiter = server.raw().await;
        admin.send(&["SELECT", "1"]).await;
        assert_eq!(admin.send(&["RPUSH", "q", "x"]).await, int(1));
        admin.send(&["SELECT", "0"]).await;
        fire(&mut waiter, &["BLPOP", "q", "0"]).await;
        wait_blocked(&mut admin, 1).await;
        assert_eq!(admin.send(&["SWAPDB", "0", "1"]).await, ok());
        assert_eq!(waiter.read_frame().await, bulks(&["q", "x"]));
    }

    async fn blpop_returns_at_once_when_data_exists(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["RPUSH", "b", "x", "y"]).await, int(2));
        // The first non-empty key in argument order.
        assert_eq!(c.send(&["BLPOP", "a", "b", "0"]).await, bulks(&["b", "x"]));
        assert_eq!(c.send(&["BRPOP", "a", "b", "0"]).await, bulks(&["b", "y"]));
        assert_eq!(c.send(&["EXISTS", "b"]).await, int(0));
        assert_eq!(c.send(&["SET", "s", "v"]).await, ok());
        assert_eq!(c.send(&["BLPOP", "s", "0"]).await, wrongtype());
        assert_eq!(c.send(&["BLPOP", "a", "-1"]).await, err("ERR timeout is negative"));
        assert_eq!(
            c.send(&["BLPOP", "a", "x"]).await,
            err("ERR timeout is not a float or out of range")
        );
        assert_eq!(c.send(&["BLPOP", "a"]).await, wrong_args("blpop"));
    }

    async fn blpop_times_out_with_a_null_array(server: &TestServer) {
        let mut c = server.raw().await;
        let started = Instant::now();
        assert_eq!(c.send(&["BLPOP", "nothing", "0.1"]).await, nil_array());
        let waited = started.elapsed();
        assert!(waited >= Duration::from_millis(90), "returned after {waited:?}");
        assert_eq!(c.send(&["BLMOVE", "nothing", "d", "LEFT", "LEFT", "0.05"]).await, nil_array());
        assert_eq!(c.send(&["BZPOPMIN", "nothing", "0.05"]).await, nil_array());
        assert_eq!(c.send(&["BLMPOP", "0.05", "1", "nothing", "LEFT"]).await, nil_array());
        // The connection keeps working afterwards.
        assert_eq!(c.send(&["PING"]).await, simple("PONG"));
    }

    async fn a_push_serves_the_blocked_client(server: &TestServer) {
        let mut admin = server.raw().await;
        let mut waiter = server.raw().await;
        fire(&mut waiter, &["BLPOP", "q", "0"]).await;
        wait_blocked(&mut admin, 1).await;
        still_blocked(&mut waiter).await;
        assert_eq!(admin.send(&["RPUSH", "q", "job"]).await, int(1));
        assert_eq!(waiter.read_frame().await, bulks(&["q", "job"]));
        // The element went to the waiter: nobody else sees it.
        assert_eq!(admin.send(&["LLEN", "q"]).await, int(0));
        assert_eq!(admin.send(&["EXISTS", "q"]).await, int(0));
        wait_blocked(&mut admin, 0).await;
        assert_eq!(waiter.send(&["PING"]).await, simple("PONG"));
    }

    async fn waiters_are_served_in_fifo_order(server: &TestServer) {
        let mut admin = server.raw().await;
        let mut first = server.raw().await;
        let mut second = server.raw().await;
        let mut third = server.raw().await;
        fire(&mut first, &["BLPOP", "q", "0"]).await;
        wait_blocked(&mut admin, 1).await;
        fire(&mut second, &["BRPOP", "q", "0"]).await;
        wait_blocked(&mut admin, 2).await;
        fire(&mut third, &["BLPOP", "q", "0"]).await;
        wait_blocked(&mut admin, 3).await;
        // Two elements: the two oldest waiters get one each, in order.
        assert_eq!(admin.send(&["RPUSH", "q", "a", "b"]).await, int(2));
        assert_eq!(first.read_frame().await, bulks(&["q", "a"]));
        assert_eq!(second.read_frame().await, bulks(&["q", "b"]));
        still_blocked(&mut third).await;
        assert_eq!(admin.send(&["LLEN", "q"]).await, int(0));
        assert_eq!(admin.send(&["LPUSH", "q", "c"]).await, int(1));
        assert_eq!(third.read_frame().await, bulks(&["q", "c"]));
    }

    async fn a_waiter_on_several_keys_is_served_once(server: &TestServer) {
        let mut admin = server.raw().await;
        let mut waiter = server.raw().await;
        fire(&mut waiter, &["BLPOP", "k1", "k2", "0"]).await;
        wait_blocked(&mut admin, 1).await;
        assert_eq!(admin.send(&["RPUSH", "k2", "two"]).await, int(1));
        assert_eq!(waiter.read_frame().await, bulks(&["k2", "two"]));
        wait_blocked(&mut admin, 0).await;
        // Its registration on k1 is gone too.
        assert_eq!(admin.send(&["RPUSH", "k1", "one"]).await, int(1));
        assert_eq!(admin.send(&["LRANGE", "k1", "0", "-1"]).await, bulks(&["one"]));
    }

    async fn blmove_and_chained_brpoplpush(server: &TestServer) {
        let mut admin = server.raw().await;
        let mut a = server.raw().await;
        let mut b = server.raw().await;
        fire(&mut a, &["BRPOPLPUSH", "list1", "list2", "0"]).await;
        wait_blocked(&mut admin, 1).await;
        fire(&mut b, &["BLMOVE", "list2", "list3", "LEFT", "RIGHT", "0"]).await;
        wait_blocked(&mut admin, 2).await;
        assert_eq!(admin.send(&["RPUSH", "list1", "foo"]).await, int(1));
        // The move into list2 serves the second waiter in turn.
        assert_eq!(a.read_frame().await, bulk("foo"));
        assert_eq!(b.read_frame().await, bulk("foo"));
        assert_eq!(admin.send(&["EXISTS", "list1", "list2"]).await, int(0));
        assert_eq!(admin.send(&["LRANGE", "list3", "0", "-1"]).await, bulks(&["foo"]));
        // Immediate BLMOVE, and its argument errors.
        assert_eq!(
            admin.send(&["BLMOVE", "list3", "list4", "RIGHT", "LEFT", "0"]).await,
            bulk("foo")
        );
        assert_eq!(
            admin.send(&["BLMOVE", "list4", "x", "UP", "LEFT", "0"]).await,
            syntax_error()
        );
        assert_eq!(admin.send(&["SET", "str", "v"]).await, ok());
        assert_eq!(
            admin.send(&["BLMOVE", "list4", "str", "LEFT", "LEFT", "0"]).await,
            wrongtype()
        );
        assert_eq!(admin.send(&["LLEN", "list4"]).await, int(1));
    }

    async fn blmpop_with_count(server: &TestServer) {
        let mut admin = server.raw().await;
        let mut waiter = server.raw().await;
        fire(&mut waiter, &["BLMPOP", "0", "2", "m1", "m2", "RIGHT", "COUNT", "2"]).await;
        wait_blocked(&mut admin, 1).await;
        assert_eq!(admin.send(&["RPUSH", "m2", "a", "b", "c"]).await, int(3));
        assert_eq!(
            waiter.read_frame().await,
            arr(vec![bulk("m2"), bulks(&["c", "b"])])
        );
        assert_eq!(admin.send(&["LRANGE", "m2", "0", "-1"]).await, bulks(&["a"]));
        assert_eq!(
            admin.send(&["BLMPOP", "0", "2", "m1", "m2", "LEFT", "COUNT", "5"]).await,
            arr(vec![bulk("m2"), bulks(&["a"])])
        );
        assert_eq!(
            admin.send(&["BLMPOP", "0", "0", "m1", "LEFT"]).await,
            err("ERR numkeys should be greater than 0")
        );
        assert_eq!(
            admin.send(&["BLMPOP", "0", "1", "m1", "LEFT", "COUNT", "0"]).await,
            err("ERR count should be greater than 0")
        );
        assert_eq!(admin.send(&["BLMPOP", "0", "3", "m1", "LEFT"]).await, syntax_error());
        assert_eq!(admin.send(&["BLMPOP", "0", "1", "m1", "UP"]).await, syntax_error());
        assert_eq!(
            admin.send(&["BLMPOP", "-1", "1", "m1", "LEFT"]).await,
            err("ERR timeout is negative")
        );
    }

    async fn bzpopmin_bzpopmax_bzmpop(server: &TestServer) {
        let mut admin = server.raw().await;
        let mut waiter = server.raw().await;
        assert_eq!(admin.send(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]).await, int(3));
        assert_eq!(admin.send(&["BZPOPMIN", "none", "z", "0"]).await, bulks(&["z", "a", "1"]));
        assert_eq!(admin.send(&["BZPOPMAX", "z", "0"]).await, bulks(&["z", "c", "3"]));
        assert_eq!(
            admin.send(&["BZMPOP", "0", "1", "z", "MIN", "COUNT", "10"]).await,
            arr(vec![bulk("z"), arr(vec![bulks(&["b", "2"])])])
        );
        fire(&mut waiter, &["BZPOPMAX", "z", "0"]).await;
        wait_blocked(&mut admin, 1).await;
        assert_eq!(admin.send(&["ZADD", "z", "5", "e", "4", "d"]).await, int(2));
        assert_eq!(waiter.read_frame().await, bulks(&["z", "e", "5"]));
        assert_eq!(admin.send(&["ZRANGE", "z", "0", "-1"]).await, bulks(&["d"]));
        fire(&mut waiter, &["BZMPOP", "0", "1", "y", "MAX"]).await;
        wait_blocked(&mut admin, 1).await;
        assert_eq!(admin.send(&["ZADD", "y", "1.5", "m"]).await, int(1));
        assert_eq!(
            waiter.read_frame().await,
            arr(vec![bulk("y"), arr(vec![bulks(&["m", "1.5"])])])
        );
        assert_eq!(admin.send(&["BZMPOP", "0", "1", "y", "UP"]).await, syntax_error());
        assert_eq!(admin.send(&["RPUSH", "l", "x"]).await, int(1));
        assert_eq!(admin.send(&["BZPOPMIN", "l", "0"]).await, wrongtype());
    }

    async fn client_unblock(server: &TestServer) {
        let mut admin = server.raw().await;
        let mut waiter = server.raw().await;
        let id = text(&waiter.send(&["CLIENT", "ID"]).await);
        assert_eq!(admin.send(&["CLIENT", "UNBLOCK", &id]).await, int(0));
        fire(&mut waiter, &["BLPOP", "q", "0"]).await;
        wait_blocked(&mut admin, 1).await;
        let list = text(&admin.send(&["CLIENT", "LIST"]).await);
        assert!(list.contains(&format!("id={id} ")) && list.contains("flags=b"), "{list}");
        assert_eq!(admin.send(&["CLIENT", "UNBLOCK", &id, "TIMEOUT"]).await, int(1));
        assert_eq!(waiter.read_frame().await, nil_array());
        fire(&mut waiter, &["BLMOVE", "q", "d", "LEFT", "LEFT", "0"]).await;
        wait_blocked(&mut admin, 1).await;
        assert_eq!(admin.send(&["CLIENT", "UNBLOCK", &id, "ERROR"]).await, int(1));
        assert_eq!(
            waiter.read_frame().await,
            err("UNBLOCKED client unblocked via CLIENT UNBLOCK")
        );
        wait_blocked(&mut admin, 0).await;
        assert_eq!(
            admin.send(&["CLIENT", "UNBLOCK", &id, "MAYBE"]).await,
            err("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
        );
        assert_eq!(admin.send(&["CLIENT", "UNBLOCK", "abc"]).await, not_integer());
        // The unblocked client still works; nothing was consumed.
        assert_eq!(waiter.send(&["RPUSH", "q", "x"]).await, int(1));
        assert_eq!(admin.send(&["LLEN", "q"]).await, int(1));
    }

    async fn a_disconnected_waiter_leaves_no_trace(server: &TestServer) {
        let mut admin = server.raw().await;
        {
            let mut waiter = server.raw().await;
            fire(&mut waiter, &["BLPOP", "q", "0"]).await;
            wait_blocked(&mut admin, 1).await;
        }
        wait_blocked(&mut admin, 0).await;
        assert_eq!(admin.send(&["RPUSH", "q", "kept"]).await, int(1));
        assert_eq!(admin.send(&["LRANGE", "q", "0", "-1"]).await, bulks(&["kept"]));
    }

    async fn commands_pipelined_after_a_blocking_one_wait_their_turn(server: &TestServer) {
        let mut admin = server.raw().await;
        let mut waiter = server.raw().await;
        let mut pipeline = request(&[b"BLPOP", b"q", b"0"]);
        pipeline.extend(request(&[b"PING"]));
        waiter.send_bytes(&pipeline).await;
        wait_blocked(&mut admin, 1).await;
        still_blocked(&mut waiter).await;
        assert_eq!(admin.send(&["RPUSH", "q", "v"]).await, int(1));
        assert_eq!(waiter.read_frame().await, bulks(&["q", "v"]));
        assert_eq!(waiter.read_frame().await, simple("PONG"));
    }

    async fn a_waiter_stays_blocked_while_the_key_has_another_type(server: &TestServer) {
        let mut admin = server.raw().await;
        let mut waiter = server.raw().await;
        fire(&mut waiter, &["BLPOP", "q", "1"]).await;
        wait_blocked(&mut admin, 1).await;
        assert_eq!(admin.send(&["SET", "q", "string"]).await, ok());
        still_blocked(&mut waiter).await;
        assert_eq!(admin.send(&["DEL", "q"]).await, int(1));
        assert_eq!(admin.send(&["RPUSH", "q", "v"]).await, int(1));
        assert_eq!(waiter.read_frame().await, bulks(&["q", "v"]));
    }

    async fn sort_store_serves_a_waiter_on_its_destination(server: &TestServer) {
        let mut admin = server.raw().await;
        let mut waiter = server.raw().await;
        assert_eq!(admin.send(&["RPUSH", "src", "3", "1", "2"]).await, int(3));
        fire(&mut waiter, &["BLPOP", "dst", "0"]).await;
        wait_blocked(&mut admin, 1).await;
        assert_eq!(admin.send(&["SORT", "src", "STORE", "dst"]).await, int(3));
        assert_eq!(waiter.read_frame().await, bulks(&["dst", "1"]));
        assert_eq!(admin.send(&["LRANGE", "dst", "0", "-1"]).await, bulks(&["2", "3"]));
    }
}
