//! Client management end to end, with several concurrent clients: CLIENT PAUSE /
//! UNPAUSE (WRITE and ALL), CLIENT REPLY, CLIENT NO-EVICT, CLIENT NO-TOUCH (Redis
//! 7.2), CLIENT KILL with every filter, CLIENT LIST / INFO fields (`flags=`,
//! `multi=`, `redir=`) and filters, RESET, and the RESP2 subscribed-mode check.
//!
//! Every expected reply was checked against redis-server 7.0
//! (`FERROKV_TESTS_TARGET=redis cargo test -p ferrokv-tests --test client_management`);
//! NO-TOUCH (Redis 7.2) and `CLIENT KILL MAXAGE` (Redis 7.4) run against ferrokv only.
//! Pauses are checked by ordering (a held write has not happened while reads go on),
//! never by timing.

use std::time::Duration;

use ferrokv_tests::*;

/// Sends a command without reading its reply.
async fn fire(c: &mut RawClient, args: &[&str]) {
    let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    c.send_bytes(&request(&args)).await;
}

async fn client_id(c: &mut RawClient) -> i64 {
    as_int(&c.send(&["CLIENT", "ID"]).await)
}

/// One field of a client's `CLIENT LIST` line, looked up by id from `admin`.
async fn field_of(admin: &mut RawClient, id: i64, field: &str) -> String {
    let list = text(&admin.send(&["CLIENT", "LIST", "ID", &id.to_string()]).await);
    let line = list
        .lines()
        .next()
        .unwrap_or_else(|| panic!("client {id} listed"));
    line.split_whitespace()
        .find_map(|f| f.strip_prefix(&format!("{field}=")))
        .unwrap_or_else(|| panic!("{field}= in {line}"))
        .to_string()
}

/// The `addr=` / `laddr=` of a client.
async fn addr_of(c: &mut RawClient, field: &str) -> String {
    let id = client_id(c).await;
    field_of(c, id, field).await
}

/// Asserts that no reply arrives for a little while (a held command).
async fn no_reply_yet(c: &mut RawClient) {
    assert_eq!(c.try_read_frame(Duration::from_millis(100)).await, None);
}

/// Whether this run targets a server older than the feature (named in the message).
fn skipped(test: &str, feature: &str) -> bool {
    if against_redis() {
        eprintln!("{test}: skipped against redis-server ({feature})");
        return true;
    }
    false
}

ferrokv_tests::backend_tests! {
    async fn pause_errors(server: &TestServer) {
        let mut c = server.raw().await;
        let cases: [(&[&str], Frame); 7] = [
            (&["CLIENT", "PAUSE"], wrong_args("client|pause")),
            (&["CLIENT", "PAUSE", "x"], err("ERR timeout is not an integer or out of range")),
            (&["CLIENT", "PAUSE", "-1"], err("ERR timeout is negative")),
            (&["CLIENT", "PAUSE", "100", "maybe"], err("ERR CLIENT PAUSE mode must be WRITE or ALL")),
            (&["CLIENT", "PAUSE", "x", "maybe"], err("ERR CLIENT PAUSE mode must be WRITE or ALL")),
            (
                &["CLIENT", "PAUSE", "100", "write", "x"],
                err("ERR unknown subcommand or wrong number of arguments for 'PAUSE'. Try CLIENT HELP."),
            ),
            (&["CLIENT", "UNPAUSE", "x"], wrong_args("client|unpause")),
        ];
        for (args, reply) in cases {
            assert_eq!(c.send(args).await, reply, "{args:?}");
        }
        // A zero timeout pauses nothing.
        assert_eq!(c.send(&["CLIENT", "PAUSE", "0"]).await, ok());
        assert_eq!(c.send(&["SET", "k", "v"]).await, ok());
        assert_eq!(c.send(&["CLIENT", "UNPAUSE"]).await, ok());
    }

    async fn pause_write_holds_writes_until_unpause(server: &TestServer) {
        let mut admin = server.raw().await;
        let mut writer = server.raw().await;
        let mut reader = server.raw().await;
        let writer_id = client_id(&mut writer).await;
        let mut publisher = server.raw().await;
        let mut sub = server.raw().await;
        sub.send(&["SUBSCRIBE", "ch"]).await;
        assert_eq!(admin.send(&["CLIENT", "PAUSE", "100000", "WRITE"]).await, ok());
        fire(&mut writer, &["SET", "k", "1"]).await;
        // The pipelined read behind the write waits its turn.
        fire(&mut writer, &["GET", "k"]).await;
        fire(&mut publisher, &["PUBLISH", "ch", "hello"]).await;
        // Reads (and commands that neither write nor propagate) go on meanwhile, and
        // the write has not happened.
        assert_eq!(reader.send(&["GET", "k"]).await, nil());
        assert_eq!(reader.send(&["EXISTS", "k"]).await, int(0));
        assert_eq!(reader.send(&["PING"]).await, simple("PONG"));
        // A transaction of reads runs; queuing a write waits.
        assert_eq!(reader.send(&["MULTI"]).await, ok());
        assert_eq!(reader.send(&["GET", "k"]).await, simple("QUEUED"));
        assert_eq!(reader.send(&["EXEC"]).await, arr(vec![nil()]));
        no_reply_yet(&mut writer).await;
        no_reply_yet(&mut publisher).await;
        // A held client shows as blocked.
        assert_eq!(field_of(&mut reader, writer_id, "flags").await, "b");
        let info = text(&reader.send(&["INFO", "clients"]).await);
        assert!(info.contains("blocked_clients:2\r\n"), "{info}");
        assert_eq!(sub.try_read_frame(Duration::from_millis(50)).await, None);
        assert_eq!(admin.send(&["CLIENT", "UNPAUSE"]).await, ok());
        assert_eq!(writer.read_frame().await, ok());
        assert_eq!(writer.read_frame().await, bulk("1"));
        assert_eq!(publisher.read_frame().await, int(1));
        assert_eq!(sub.read_frame().await, bulks(&["message", "ch", "hello"]));
        assert_eq!(reader.send(&["GET", "k"]).await, bulk("1"));
    }

    async fn pause_all_holds_everything_until_its_timeout(server: &TestServer) {
        let mut admin = server.raw().await;
        let mut other = server.raw().await;
        assert_eq!(admin.send(&["SET", "k", "before"]).await, ok());
        assert_eq!(admin.send(&["CLIENT", "PAUSE", "300", "ALL"]).await, ok());
        fire(&mut other, &["GET", "k"]).await;
        fire(&mut other, &["SET", "k", "after"]).await;
        fire(&mut admin, &["PING"]).await;
        // Everything runs once the pause is over, each client's requests in order.
        assert_eq!(other.read_frame().await, bulk("before"));
        assert_eq!(other.read_frame().await, ok());
        assert_eq!(admin.read_frame().await, simple("PONG"));
        assert_eq!(admin.send(&["GET", "k"]).await, bulk("after"));
        // A later, shorter pause does not cut a pause short.
        assert_eq!(admin.send(&["CLIENT", "PAUSE", "100000", "WRITE"]).await, ok());
        assert_eq!(admin.send(&["CLIENT", "PAUSE", "10", "WRITE"]).await, ok());
        tokio::time::sleep(Duration::from_millis(30)).await;
        fire(&mut other, &["SET", "k", "held"]).await;
        no_reply_yet(&mut other).await;
        assert_eq!(admin.send(&["GET", "k"]).await, bulk("after"));
        assert_eq!(admin.send(&["CLIENT", "UNPAUSE"]).await, ok());
        assert_eq!(other.read_frame().await, ok());
    }

    async fn pause_holds_a_clients_pipeline_in_order(server: &TestServer) {
        let mut admin = server.raw().await;
        let mut c = server.raw().await;
        assert_eq!(admin.send(&["CLIENT", "PAUSE", "100000", "WRITE"]).await, ok());
        // A read behind a held write waits too: replies keep the request order.
        fire(&mut c, &["INCR", "n"]).await;
        fire(&mut c, &["GET", "n"]).await;
        fire(&mut c, &["INCR", "n"]).await;
        no_reply_yet(&mut c).await;
        assert_eq!(admin.send(&["GET", "n"]).await, nil());
        assert_eq!(admin.send(&["CLIENT", "UNPAUSE"]).await, ok());
        assert_eq!(c.read_frame().await, int(1));
        assert_eq!(c.read_frame().await, bulk("1"));
        assert_eq!(c.read_frame().await, int(2));
    }

    async fn held_clients_resume_in_the_order_they_were_held(server: &TestServer) {
        let mut admin = server.raw().await;
        assert_eq!(admin.send(&["CLIENT", "PAUSE", "100000", "WRITE"]).await, ok());
        let mut held = Vec::new();
        for i in 0..4 {
            let mut c = server.raw().await;
            let id = client_id(&mut c).await;
            fire(&mut c, &["SET", "k", &format!("v{i}")]).await;
            fire(&mut c, &["RPUSH", "order", &i.to_string()]).await;
            let mut tries = 0;
            while field_of(&mut admin, id, "flags").await != "b" {
                tries += 1;
                assert!(tries < 250, "client {i} is held");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            held.push(c);
        }
        assert_eq!(admin.send(&["CLIENT", "UNPAUSE"]).await, ok());
        for c in &mut held {
            assert_eq!(c.read_frame().await, ok());
            c.read_frame().await;
        }
        assert_eq!(admin.send(&["GET", "k"]).await, bulk("v3"));
        let order = admin.send(&["LRANGE", "order", "0", "-1"]).await;
        assert_eq!(order, bulks(&["0", "1", "2", "3"]));
    }

    async fn expiry_waits_during_a_pause(server: &TestServer) {
        let mut admin = server.raw().await;
        let mut other = server.raw().await;
        fire(&mut admin, &["SET", "k", "v", "PX", "200"]).await;
        fire(&mut admin, &["CLIENT", "PAUSE", "100000", "WRITE"]).await;
        assert_eq!(admin.read_frame().await, ok());
        assert_eq!(admin.read_frame().await, ok());
        tokio::time::sleep(Duration::from_millis(400)).await;
        // The active cycle did not remove it.
        assert_eq!(other.send(&["DBSIZE"]).await, int(1));
        // Reads see it expired but leave it in place until the pause is over.
        assert_eq!(other.send(&["GET", "k"]).await, nil());
        assert_eq!(other.send(&["EXISTS", "k"]).await, int(0));
        assert_eq!(other.send(&["KEYS", "*"]).await, arr(vec![]));
        assert_eq!(other.send(&["SCAN", "0"]).await, arr(vec![bulk("0"), arr(vec![])]));
        // (No RANDOMKEY: redis-server 7.0 loops forever on it here.)
        assert_eq!(other.send(&["DBSIZE"]).await, int(1));
        assert_eq!(admin.send(&["CLIENT", "UNPAUSE"]).await, ok());
        let mut tries = 0;
        while other.send(&["DBSIZE"]).await != int(0) {
            tries += 1;
            assert!(tries < 250, "the key is removed once the pause is over");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn client_reply_on_off_skip(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["CLIENT", "REPLY"]).await, wrong_args("client|reply"));
        assert_eq!(c.send(&["CLIENT", "REPLY", "on", "x"]).await, wrong_args("client|reply"));
        assert_eq!(c.send(&["CLIENT", "REPLY", "maybe"]).await, syntax_error());
        assert_eq!(c.send(&["CLIENT", "REPLY", "ON"]).await, ok());
        fire(&mut c, &["CLIENT", "REPLY", "OFF"]).await;
        fire(&mut c, &["SET", "k", "1"]).await;
        fire(&mut c, &["GET", "k"]).await;
        fire(&mut c, &["NOSUCHCOMMAND"]).await;
        assert_eq!(c.send(&["CLIENT", "REPLY", "ON"]).await, ok());
        assert_eq!(c.send(&["GET", "k"]).await, bulk("1"));
        // SKIP: no reply for itself nor for the next command.
        fire(&mut c, &["CLIENT", "REPLY", "SKIP"]).await;
        fire(&mut c, &["INCR", "k"]).await;
        assert_eq!(c.send(&["INCR", "k"]).await, int(3));
        // SKIP twice: the second is skipped and skips the next.
        fire(&mut c, &["CLIENT", "REPLY", "SKIP"]).await;
        fire(&mut c, &["CLIENT", "REPLY", "SKIP"]).await;
        fire(&mut c, &["PING"]).await;
        assert_eq!(c.send(&["PING", "x"]).await, bulk("x"));
        // SKIP while OFF does nothing more; ON restores replies.
        fire(&mut c, &["CLIENT", "REPLY", "OFF"]).await;
        fire(&mut c, &["CLIENT", "REPLY", "SKIP"]).await;
        assert_eq!(c.send(&["CLIENT", "REPLY", "ON"]).await, ok());
        assert_eq!(c.send(&["ECHO", "back"]).await, bulk("back"));
        // Pushes still arrive while replies are off (RESP3).
        let mut p = server.raw().await;
        assert!(matches!(c.send(&["HELLO", "3"]).await, Frame::Map(_)));
        fire(&mut c, &["CLIENT", "REPLY", "OFF"]).await;
        fire(&mut c, &["SUBSCRIBE", "news"]).await;
        assert_eq!(
            c.read_frame().await,
            Frame::Push(vec![bulk("subscribe"), bulk("news"), int(1)])
        );
        assert_eq!(p.send(&["PUBLISH", "news", "hi"]).await, int(1));
        assert_eq!(c.read_frame().await, Frame::Push(vec![bulk("message"), bulk("news"), bulk("hi")]));
        // RESET answers and turns replies back on.
        assert_eq!(c.send(&["RESET"]).await, simple("RESET"));
        assert_eq!(c.send(&["PING"]).await, simple("PONG"));
    }

    async fn no_evict_flag(server: &TestServer) {
        let mut c = server.raw().await;
        let id = client_id(&mut c).await;
        assert_eq!(c.send(&["CLIENT", "NO-EVICT", "maybe"]).await, syntax_error());
        assert_eq!(c.send(&["CLIENT", "NO-EVICT"]).await, wrong_args("client|no-evict"));
        assert_eq!(c.send(&["CLIENT", "NO-EVICT", "on"]).await, ok());
        assert_eq!(field_of(&mut c, id, "flags").await, "e");
        // RESET keeps it (Redis 7.0).
        assert_eq!(c.send(&["RESET"]).await, simple("RESET"));
        assert_eq!(field_of(&mut c, id, "flags").await, "e");
        assert_eq!(c.send(&["CLIENT", "NO-EVICT", "OFF"]).await, ok());
        assert_eq!(field_of(&mut c, id, "flags").await, "N");
    }

    async fn no_touch_leaves_access_stats_alone(server: &TestServer) {
        if skipped("no_touch_leaves_access_stats_alone", "CLIENT NO-TOUCH is Redis 7.2") {
            return;
        }
        let mut c = server.raw().await;
        let id = client_id(&mut c).await;
        assert_eq!(c.send(&["CLIENT", "NO-TOUCH", "maybe"]).await, syntax_error());
        assert_eq!(c.send(&["CLIENT", "NO-TOUCH"]).await, wrong_args("client|no-touch"));
        assert_eq!(c.send(&["CLIENT", "NO-TOUCH", "on"]).await, ok());
        assert_eq!(field_of(&mut c, id, "flags").await, "T");
        if server.backend == Backend::Memory {
            // With an LFU policy, a fresh key's counter is 5 and its first access
            // makes it 6 (deterministically).
            let mut admin = server.raw().await;
            assert_eq!(admin.send(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"]).await, ok());
            assert_eq!(admin.send(&["SET", "k", "v"]).await, ok());
            assert_eq!(c.send(&["OBJECT", "FREQ", "k"]).await, int(5));
            assert_eq!(c.send(&["GET", "k"]).await, bulk("v"));
            assert_eq!(c.send(&["STRLEN", "k"]).await, int(1));
            assert_eq!(c.send(&["OBJECT", "FREQ", "k"]).await, int(5));
            // TOUCH still touches.
            assert_eq!(c.send(&["TOUCH", "k"]).await, int(1));
            assert_eq!(c.send(&["OBJECT", "FREQ", "k"]).await, int(6));
        }
        // RESET turns it off (Redis 7.2).
        assert_eq!(c.send(&["RESET"]).await, simple("RESET"));
        assert_eq!(field_of(&mut c, id, "flags").await, "N");
    }

    async fn kill_filters(server: &TestServer) {
        let mut admin = server.raw().await;
        let admin_id = client_id(&mut admin).await;
        // ID
        let mut a = server.raw().await;
        let a_id = client_id(&mut a).await;
        assert_eq!(admin.send(&["CLIENT", "KILL", "ID", &a_id.to_string()]).await, int(1));
        assert!(a.is_closed().await);
        assert_eq!(admin.send(&["CLIENT", "KILL", "ID", &a_id.to_string()]).await, int(0));
        // ADDR, and the old form (which may kill the caller itself)
        let mut b = server.raw().await;
        let b_addr = addr_of(&mut b, "addr").await;
        assert_eq!(admin.send(&["CLIENT", "KILL", "ADDR", &b_addr]).await, int(1));
        assert!(b.is_closed().await);
        let mut c = server.raw().await;
        let c_addr = addr_of(&mut c, "addr").await;
        assert_eq!(admin.send(&["CLIENT", "KILL", &c_addr]).await, ok());
        assert!(c.is_closed().await);
        assert_eq!(admin.send(&["CLIENT", "KILL", &c_addr]).await, err("ERR No such client"));
        let mut me = server.raw().await;
        let my_addr = addr_of(&mut me, "addr").await;
        assert_eq!(me.send(&["CLIENT", "KILL", &my_addr]).await, ok());
        assert!(me.is_closed().await);
        // TYPE pubsub / master / replica
        let mut sub = server.raw().await;
        sub.send(&["SUBSCRIBE", "x"]).await;
        assert_eq!(admin.send(&["CLIENT", "KILL", "TYPE", "master"]).await, int(0));
        assert_eq!(admin.send(&["CLIENT", "KILL", "TYPE", "replica"]).await, int(0));
        assert_eq!(admin.send(&["CLIENT", "KILL", "TYPE", "slave"]).await, int(0));
        assert_eq!(admin.send(&["CLIENT", "KILL", "TYPE", "pubsub"]).await, int(1));
        assert!(sub.is_closed().await);
        // LADDR + USER + TYPE normal, skipping the caller by default...
        let mut d = server.raw().await;
        let laddr = addr_of(&mut d, "laddr").await;
        let mut e = server.raw().await;
        assert_eq!(
            admin.send(&["CLIENT", "KILL", "LADDR", &laddr, "USER", "default", "TYPE", "normal"]).await,
            int(2)
        );
        assert!(d.is_closed().await);
        assert!(e.is_closed().await);
        assert_eq!(admin.send(&["PING"]).await, simple("PONG"));
        // ... or not.
        assert_eq!(
            admin.send(&["CLIENT", "KILL", "ID", &admin_id.to_string(), "SKIPME", "yes"]).await,
            int(0)
        );
        assert_eq!(
            admin.send(&["CLIENT", "KILL", "ID", &admin_id.to_string(), "SKIPME", "no"]).await,
            int(1)
        );
        assert!(admin.is_closed().await);
        let mut f = server.raw().await;
        let errors: [(&[&str], Frame); 7] = [
            (&["CLIENT", "KILL", "ID", "0"], err("ERR client-id should be greater than 0")),
            (&["CLIENT", "KILL", "ID", "x"], err("ERR client-id should be greater than 0")),
            (&["CLIENT", "KILL", "TYPE", "x"], err("ERR Unknown client type 'x'")),
            (&["CLIENT", "KILL", "USER", "nobody"], err("ERR No such user 'nobody'")),
            (&["CLIENT", "KILL", "SKIPME", "maybe"], syntax_error()),
            (&["CLIENT", "KILL", "ID", "1", "TYPE"], syntax_error()),
            (&["CLIENT", "KILL"], wrong_args("client|kill")),
        ];
        for (args, reply) in errors {
            assert_eq!(f.send(args).await, reply, "{args:?}");
        }
    }

    async fn kill_maxage(server: &TestServer) {
        if skipped("kill_maxage", "CLIENT KILL MAXAGE is Redis 7.4") {
            return;
        }
        let mut admin = server.raw().await;
        let mut young = server.raw().await;
        assert_eq!(admin.send(&["CLIENT", "KILL", "MAXAGE", "1000"]).await, int(0));
        assert_eq!(
            admin.send(&["CLIENT", "KILL", "MAXAGE", "x"]).await,
            err("ERR maxage is not an integer or out of range")
        );
        assert_eq!(young.send(&["PING"]).await, simple("PONG"));
    }

    async fn client_list_fields_and_filters(server: &TestServer) {
        let mut admin = server.raw().await;
        let mut tx = server.raw().await;
        let tx_id = client_id(&mut tx).await;
        assert_eq!(field_of(&mut admin, tx_id, "multi").await, "-1");
        assert_eq!(field_of(&mut admin, tx_id, "flags").await, "N");
        assert_eq!(tx.send(&["MULTI"]).await, ok());
        assert_eq!(field_of(&mut admin, tx_id, "multi").await, "0");
        assert_eq!(field_of(&mut admin, tx_id, "flags").await, "x");
        assert_eq!(tx.send(&["SET", "a", "1"]).await, simple("QUEUED"));
        assert_eq!(tx.send(&["GET", "a"]).await, simple("QUEUED"));
        assert_eq!(field_of(&mut admin, tx_id, "multi").await, "2");
        assert_eq!(tx.send(&["EXEC"]).await, arr(vec![ok(), bulk("1")]));
        assert_eq!(field_of(&mut admin, tx_id, "multi").await, "-1");
        assert_eq!(field_of(&mut admin, tx_id, "flags").await, "N");
        // A watched key that changed: flags=d until the watches go.
        assert_eq!(tx.send(&["WATCH", "w"]).await, ok());
        assert_eq!(field_of(&mut admin, tx_id, "flags").await, "N");
        assert_eq!(admin.send(&["SET", "w", "1"]).await, ok());
        assert_eq!(field_of(&mut admin, tx_id, "flags").await, "d");
        assert_eq!(tx.send(&["MULTI"]).await, ok());
        assert_eq!(field_of(&mut admin, tx_id, "flags").await, "xd");
        assert_eq!(tx.send(&["EXEC"]).await, nil_array());
        assert_eq!(field_of(&mut admin, tx_id, "flags").await, "N");
        // Pub/sub clients: flags=P and the TYPE filter.
        let mut sub = server.raw().await;
        let sub_id = client_id(&mut sub).await;
        sub.send(&["PSUBSCRIBE", "p*"]).await;
        assert_eq!(field_of(&mut admin, sub_id, "flags").await, "P");
        assert_eq!(field_of(&mut admin, sub_id, "psub").await, "1");
        let pubsub = text(&admin.send(&["CLIENT", "LIST", "TYPE", "pubsub"]).await);
        assert_eq!(pubsub.lines().count(), 1);
        assert!(pubsub.starts_with(&format!("id={sub_id} ")), "{pubsub}");
        let normal = text(&admin.send(&["CLIENT", "LIST", "TYPE", "normal"]).await);
        assert_eq!(normal.lines().count(), 2);
        assert_eq!(text(&admin.send(&["CLIENT", "LIST", "TYPE", "master"]).await), "");
        // ID filter with several ids, unknown ones ignored.
        let both = text(&admin.send(&["CLIENT", "LIST", "ID", &tx_id.to_string(), "999999", &sub_id.to_string()]).await);
        assert_eq!(both.lines().count(), 2);
        assert_eq!(admin.send(&["CLIENT", "LIST", "ID", "x"]).await, err("ERR Invalid client ID"));
        assert_eq!(admin.send(&["CLIENT", "LIST", "TYPE", "x"]).await, err("ERR Unknown client type 'x'"));
        assert_eq!(admin.send(&["CLIENT", "LIST", "x"]).await, syntax_error());
        // Blocked clients: flags=b.
        let mut blocked = server.raw().await;
        let blocked_id = client_id(&mut blocked).await;
        fire(&mut blocked, &["BLPOP", "nothing", "0"]).await;
        let mut tries = 0;
        while field_of(&mut admin, blocked_id, "flags").await != "b" {
            tries += 1;
            assert!(tries < 250, "the blocked client shows flags=b");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(admin.send(&["RPUSH", "nothing", "x"]).await, int(1));
        assert_eq!(blocked.read_frame().await, bulks(&["nothing", "x"]));
        assert_eq!(field_of(&mut admin, blocked_id, "flags").await, "N");
        // redir= and tracking flags.
        assert_eq!(field_of(&mut admin, tx_id, "redir").await, "-1");
        assert_eq!(tx.send(&["CLIENT", "TRACKING", "on", "redirect", &sub_id.to_string()]).await, ok());
        assert_eq!(field_of(&mut admin, tx_id, "redir").await, sub_id.to_string());
        assert_eq!(field_of(&mut admin, tx_id, "flags").await, "t");
    }

    async fn reset_clears_connection_state(server: &TestServer) {
        let mut c = server.raw().await;
        let id = client_id(&mut c).await;
        assert_eq!(c.send(&["SELECT", "3"]).await, ok());
        assert_eq!(c.send(&["CLIENT", "SETNAME", "me"]).await, ok());
        assert_eq!(c.send(&["CLIENT", "TRACKING", "on", "bcast"]).await, ok());
        assert_eq!(c.send(&["MULTI"]).await, ok());
        assert_eq!(c.send(&["SET", "k", "v"]).await, simple("QUEUED"));
        assert_eq!(c.send(&["RESET"]).await, simple("RESET"));
        assert_eq!(field_of(&mut c, id, "flags").await, "N");
        assert_eq!(field_of(&mut c, id, "db").await, "0");
        assert_eq!(field_of(&mut c, id, "name").await, "");
        assert_eq!(field_of(&mut c, id, "multi").await, "-1");
        assert_eq!(c.send(&["CLIENT", "GETREDIR"]).await, int(-1));
        assert_eq!(c.send(&["EXEC"]).await, err("ERR EXEC without MULTI"));
        // A skipped RESET stays skipped (REPLY SKIP is not connection state).
        fire(&mut c, &["CLIENT", "REPLY", "SKIP"]).await;
        fire(&mut c, &["RESET"]).await;
        assert_eq!(c.send(&["PING"]).await, simple("PONG"));
    }

    async fn resp2_subscribed_mode_refusals(server: &TestServer) {
        let mut c = server.raw().await;
        c.send(&["SUBSCRIBE", "ch"]).await;
        let refusal = |name: &str| {
            err(&format!(
                "ERR Can't execute '{name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
            ))
        };
        assert_eq!(c.send(&["GET", "k"]).await, refusal("get"));
        assert_eq!(c.send(&["MULTI"]).await, refusal("multi"));
        assert_eq!(c.send(&["CLIENT", "ID"]).await, refusal("client|id"));
        // Unknown commands and arity errors come first.
        assert_eq!(
            c.send(&["NOPE"]).await,
            err("ERR unknown command 'NOPE', with args beginning with: ")
        );
        assert_eq!(c.send(&["GET"]).await, wrong_args("get"));
        assert_eq!(c.send(&["PING"]).await, bulks(&["pong", ""]));
        assert_eq!(c.send(&["RESET"]).await, simple("RESET"));
        assert_eq!(c.send(&["GET", "k"]).await, nil());
    }
}
