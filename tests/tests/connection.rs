//! Connection and server-state commands: PING ECHO QUIT HELLO SELECT SWAPDB DBSIZE
//! FLUSHDB FLUSHALL TIME CLIENT * RESET, over real TCP on both backends.

use std::time::Duration;

use ferrokv_tests::*;

backend_tests! {
    async fn ping_replies_pong_or_echoes(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["PING"]).await, simple("PONG"));
        assert_eq!(c.send(&["ping"]).await, simple("PONG"));
        assert_eq!(c.send(&["PING", "hello world"]).await, bulk("hello world"));
        assert_eq!(c.send(&["PING", ""]).await, bulk(""));
        assert_eq!(c.send(&["PING", "a", "b"]).await, wrong_args("ping"));
    }

    async fn echo_returns_its_argument(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["ECHO", "hello"]).await, bulk("hello"));
        assert_eq!(c.send_bin(&[b"ECHO", b"\x00\xff\r\n"]).await, bulk(b"\x00\xff\r\n"));
        assert_eq!(c.send(&["ECHO"]).await, wrong_args("echo"));
        assert_eq!(c.send(&["ECHO", "a", "b"]).await, wrong_args("echo"));
    }

    async fn quit_replies_ok_and_closes(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["QUIT"]).await, ok());
        assert!(c.is_closed().await, "QUIT must close the connection");
        // Commands pipelined after QUIT are not executed.
        let mut c = server.raw().await;
        c.send_bytes(&[request(&[b"QUIT"]), request(&[b"SET", b"after-quit", b"1"])].concat()).await;
        assert_eq!(c.read_frame().await, ok());
        assert!(c.is_closed().await);
        let mut d = server.raw().await;
        assert_eq!(d.send(&["EXISTS", "after-quit"]).await, int(0));
    }

    async fn hello_2_replies_flat_array(server: &TestServer) {
        let mut c = server.raw().await;
        let (frame, wire) = c.send_raw_reply(&[b"HELLO", b"2"]).await;
        assert!(wire.starts_with(b"*14\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n"), "{wire:?}");
        let v = items(&frame);
        assert_eq!(v.len(), 14);
        let keys: Vec<String> = v.iter().step_by(2).map(text).collect();
        assert_eq!(keys, ["server", "version", "proto", "id", "mode", "role", "modules"]);
        assert_eq!(v[5], int(2));
        assert_eq!(v[9], bulk("standalone"));
        assert_eq!(v[11], bulk("master"));
        assert_eq!(v[13], arr(vec![]));
        let id = as_int(&v[7]);
        assert_eq!(c.send(&["CLIENT", "ID"]).await, int(id));
        // Without arguments HELLO reports and keeps the current protocol.
        let frame = c.send(&["HELLO"]).await;
        assert_eq!(items(&frame)[5], int(2));
    }

    async fn hello_3_switches_to_resp3_on_the_wire(server: &TestServer) {
        let mut c = server.raw().await;
        c.send(&["SET", "a", "v"]).await;
        let (frame, wire) = c.send_raw_reply(&[b"HELLO", b"3"]).await;
        assert!(wire.starts_with(b"%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n"), "{wire:?}");
        assert!(wire.ends_with(b"$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n"), "{wire:?}");
        let Frame::Map(pairs) = frame else { panic!("HELLO 3 must reply with a map") };
        assert_eq!(pairs[2], (bulk("proto"), int(3)));

        // Nulls are `_` in RESP3.
        let (_, wire) = c.send_raw_reply(&[b"GET", b"missing"]).await;
        assert_eq!(&wire[..], b"_\r\n");
        let (_, wire) = c.send_raw_reply(&[b"MGET", b"a", b"missing"]).await;
        assert_eq!(&wire[..], b"*2\r\n$1\r\nv\r\n_\r\n");
        let (_, wire) = c.send_raw_reply(&[b"CLIENT", b"GETNAME"]).await;
        assert_eq!(&wire[..], b"_\r\n");
        // CONFIG GET is a map in RESP3.
        let (_, wire) = c.send_raw_reply(&[b"CONFIG", b"GET", b"maxmemory"]).await;
        assert_eq!(&wire[..], b"%1\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n");
        // INCRBYFLOAT stays a bulk string.
        let (_, wire) = c.send_raw_reply(&[b"INCRBYFLOAT", b"f", b"1.5"]).await;
        assert_eq!(&wire[..], b"$3\r\n1.5\r\n");
        // CLIENT INFO is a verbatim string in RESP3.
        let (frame, wire) = c.send_raw_reply(&[b"CLIENT", b"INFO"]).await;
        assert!(wire.starts_with(b"="), "{wire:?}");
        assert!(text(&frame).contains(" resp=3"), "{frame:?}");

        // And back to RESP2.
        let (_, wire) = c.send_raw_reply(&[b"HELLO", b"2"]).await;
        assert!(wire.starts_with(b"*14\r\n"));
        let (_, wire) = c.send_raw_reply(&[b"GET", b"missing"]).await;
        assert_eq!(&wire[..], b"$-1\r\n");
        let (_, wire) = c.send_raw_reply(&[b"CONFIG", b"GET", b"maxmemory"]).await;
        assert_eq!(&wire[..], b"*2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n");
    }

    async fn hello_errors(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["HELLO", "4"]).await, err("NOPROTO unsupported protocol version"));
        assert_eq!(c.send(&["HELLO", "1"]).await, err("NOPROTO unsupported protocol version"));
        assert_eq!(c.send(&["HELLO", "abc"]).await, err("ERR Protocol version is not an integer or out of range"));
        assert_eq!(c.send(&["HELLO", "3", "FOO"]).await, err("ERR Syntax error in HELLO option 'FOO'"));
        assert_eq!(c.send(&["HELLO", "3", "SETNAME"]).await, err("ERR Syntax error in HELLO option 'SETNAME'"));
        // A failed HELLO leaves the protocol alone.
        let (_, wire) = c.send_raw_reply(&[b"GET", b"missing"]).await;
        assert_eq!(&wire[..], b"$-1\r\n");
    }

    async fn hello_setname(server: &TestServer) {
        let mut c = server.raw().await;
        let frame = c.send(&["HELLO", "3", "SETNAME", "myname"]).await;
        assert!(matches!(frame, Frame::Map(_)), "{frame:?}");
        assert_eq!(c.send(&["CLIENT", "GETNAME"]).await, bulk("myname"));
        assert_eq!(
            c.send(&["HELLO", "3", "SETNAME", "bad name"]).await,
            err("ERR Client names cannot contain spaces, newlines or special characters.")
        );
        assert_eq!(c.send(&["CLIENT", "GETNAME"]).await, bulk("myname"));
    }

    async fn select_switches_database(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["SET", "k", "db0"]).await, ok());
        assert_eq!(c.send(&["SELECT", "1"]).await, ok());
        assert_eq!(c.send(&["GET", "k"]).await, nil());
        assert_eq!(c.send(&["SET", "k", "db1"]).await, ok());
        assert_eq!(c.send(&["SELECT", "15"]).await, ok());
        assert_eq!(c.send(&["DBSIZE"]).await, int(0));
        assert_eq!(c.send(&["SELECT", "0"]).await, ok());
        assert_eq!(c.send(&["GET", "k"]).await, bulk("db0"));
        // Each connection has its own current database.
        let mut d = server.raw().await;
        assert_eq!(d.send(&["SELECT", "1"]).await, ok());
        assert_eq!(d.send(&["GET", "k"]).await, bulk("db1"));
        assert_eq!(c.send(&["GET", "k"]).await, bulk("db0"));
    }

    async fn select_errors(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["SELECT", "16"]).await, err("ERR DB index is out of range"));
        assert_eq!(c.send(&["SELECT", "-1"]).await, err("ERR DB index is out of range"));
        assert_eq!(c.send(&["SELECT", "abc"]).await, not_integer());
        assert_eq!(c.send(&["SELECT", "1.5"]).await, not_integer());
        assert_eq!(c.send(&["SELECT"]).await, wrong_args("select"));
        assert_eq!(c.send(&["SELECT", "1", "2"]).await, wrong_args("select"));
    }

    async fn swapdb_swaps_contents(server: &TestServer) {
        let mut c = server.raw().await;
        let mut other = server.raw().await;
        assert_eq!(other.send(&["SELECT", "1"]).await, ok());
        c.send(&["SET", "a", "in0"]).await;
        c.send(&["SET", "b", "in0"]).await;
        other.send(&["SET", "a", "in1"]).await;
        assert_eq!(c.send(&["SWAPDB", "0", "1"]).await, ok());
        // Both connections see the swap without selecting again.
        assert_eq!(c.send(&["GET", "a"]).await, bulk("in1"));
        assert_eq!(c.send(&["DBSIZE"]).await, int(1));
        assert_eq!(other.send(&["GET", "a"]).await, bulk("in0"));
        assert_eq!(other.send(&["DBSIZE"]).await, int(2));
        assert_eq!(c.send(&["SWAPDB", "1", "1"]).await, ok());
        assert_eq!(other.send(&["DBSIZE"]).await, int(2));
    }

    async fn swapdb_errors(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["SWAPDB", "a", "1"]).await, err("ERR invalid first DB index"));
        assert_eq!(c.send(&["SWAPDB", "0", "b"]).await, err("ERR invalid second DB index"));
        assert_eq!(c.send(&["SWAPDB", "0", "16"]).await, err("ERR DB index is out of range"));
        assert_eq!(c.send(&["SWAPDB", "-1", "0"]).await, err("ERR DB index is out of range"));
        assert_eq!(c.send(&["SWAPDB", "0"]).await, wrong_args("swapdb"));
    }

    async fn dbsize_counts_keys(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["DBSIZE"]).await, int(0));
        for i in 0..25 {
            c.send(&["SET", &format!("k{i}"), "v"]).await;
        }
        assert_eq!(c.send(&["DBSIZE"]).await, int(25));
        c.send(&["DEL", "k0", "k1"]).await;
        assert_eq!(c.send(&["DBSIZE"]).await, int(23));
        assert_eq!(c.send(&["DBSIZE", "x"]).await, wrong_args("dbsize"));
    }

    async fn flushdb_and_flushall(server: &TestServer) {
        let mut c = server.raw().await;
        c.send(&["SET", "a", "1"]).await;
        c.send(&["SELECT", "2"]).await;
        c.send(&["SET", "b", "1"]).await;
        c.send(&["SET", "c", "1"]).await;
        assert_eq!(c.send(&["FLUSHDB"]).await, ok());
        assert_eq!(c.send(&["DBSIZE"]).await, int(0));
        c.send(&["SET", "b", "1"]).await;
        assert_eq!(c.send(&["FLUSHDB", "ASYNC"]).await, ok());
        assert_eq!(c.send(&["DBSIZE"]).await, int(0));
        c.send(&["SET", "b", "1"]).await;
        assert_eq!(c.send(&["FLUSHDB", "sync"]).await, ok());
        assert_eq!(c.send(&["DBSIZE"]).await, int(0));
        c.send(&["SELECT", "0"]).await;
        assert_eq!(c.send(&["DBSIZE"]).await, int(1), "FLUSHDB only empties the current database");
        c.send(&["SELECT", "3"]).await;
        c.send(&["SET", "x", "1"]).await;
        assert_eq!(c.send(&["FLUSHALL"]).await, ok());
        assert_eq!(c.send(&["DBSIZE"]).await, int(0));
        c.send(&["SELECT", "0"]).await;
        assert_eq!(c.send(&["DBSIZE"]).await, int(0));
        c.send(&["SET", "a", "1"]).await;
        assert_eq!(c.send(&["FLUSHALL", "ASYNC"]).await, ok());
        assert_eq!(c.send(&["DBSIZE"]).await, int(0));
        assert_eq!(c.send(&["FLUSHALL", "SYNC"]).await, ok());
        assert_eq!(c.send(&["FLUSHALL", "foo"]).await, syntax_error());
        assert_eq!(c.send(&["FLUSHDB", "foo"]).await, syntax_error());
        assert_eq!(c.send(&["FLUSHALL", "SYNC", "x"]).await, syntax_error());
    }

    async fn time_is_now(server: &TestServer) {
        let mut c = server.raw().await;
        let reply = c.send(&["TIME"]).await;
        let v = items(&reply);
        assert_eq!(v.len(), 2);
        let secs: i64 = text(&v[0]).parse().expect("seconds");
        let micros: i64 = text(&v[1]).parse().expect("microseconds");
        assert!((secs - unix_now()).abs() <= 2, "TIME {secs} vs {}", unix_now());
        assert!((0..1_000_000).contains(&micros));
        assert!(matches!(v[0], Frame::Bulk(_)), "TIME items are bulk strings");
        assert_eq!(c.send(&["TIME", "x"]).await, wrong_args("time"));
    }

    async fn client_id_setname_getname(server: &TestServer) {
        let mut c = server.raw().await;
        let a = as_int(&c.send(&["CLIENT", "ID"]).await);
        // A connection made after `c` was served gets a larger id.
        let mut d = server.raw().await;
        let b = as_int(&d.send(&["CLIENT", "ID"]).await);
        assert!(a > 0 && b > a, "ids increase: {a} {b}");
        assert_eq!(c.send(&["CLIENT", "ID"]).await, int(a));
        assert_eq!(c.send(&["CLIENT", "GETNAME"]).await, nil());
        assert_eq!(c.send(&["CLIENT", "SETNAME", "worker-1"]).await, ok());
        assert_eq!(c.send(&["CLIENT", "GETNAME"]).await, bulk("worker-1"));
        assert_eq!(d.send(&["CLIENT", "GETNAME"]).await, nil());
        assert_eq!(
            c.send(&["CLIENT", "SETNAME", "a b"]).await,
            err("ERR Client names cannot contain spaces, newlines or special characters.")
        );
        assert_eq!(
            c.send(&["CLIENT", "SETNAME", "a\nb"]).await,
            err("ERR Client names cannot contain spaces, newlines or special characters.")
        );
        assert_eq!(c.send(&["CLIENT", "GETNAME"]).await, bulk("worker-1"));
        // An empty name clears it.
        assert_eq!(c.send(&["CLIENT", "SETNAME", ""]).await, ok());
        assert_eq!(c.send(&["CLIENT", "GETNAME"]).await, nil());
        assert_eq!(c.send(&["CLIENT", "SETNAME"]).await, wrong_args("client|setname"));
        assert_eq!(c.send(&["CLIENT", "ID", "x"]).await, wrong_args("client|id"));
        assert_eq!(c.send(&["CLIENT", "GETNAME", "x"]).await, wrong_args("client|getname"));
        assert_eq!(c.send(&["CLIENT", "FOO"]).await, err("ERR unknown subcommand 'FOO'. Try CLIENT HELP."));
        assert_eq!(c.send(&["CLIENT"]).await, wrong_args("client"));
    }

    async fn client_list_and_info(server: &TestServer) {
        let mut c = server.raw().await;
        let mut d = server.raw().await;
        let a = as_int(&c.send(&["CLIENT", "ID"]).await);
        let b = as_int(&d.send(&["CLIENT", "ID"]).await);
        c.send(&["CLIENT", "SETNAME", "lister"]).await;
        d.send(&["SELECT", "3"]).await;

        let list = c.send(&["CLIENT", "LIST"]).await;
        assert!(matches!(list, Frame::Bulk(_)), "CLIENT LIST is a bulk string in RESP2: {list:?}");
        let list = text(&list);
        assert!(list.ends_with('\n'));
        let lines: Vec<&str> = list.lines().collect();
        let mine = lines.iter().find(|l| l.starts_with(&format!("id={a} "))).expect("own line");
        assert!(mine.contains(" name=lister "), "{mine}");
        assert!(mine.contains(" db=0 "), "{mine}");
        assert!(mine.contains(" cmd=client|list "), "{mine}");
        assert!(mine.contains(" laddr="), "{mine}");
        assert!(mine.contains(" resp=2"), "{mine}");
        let other = lines.iter().find(|l| l.starts_with(&format!("id={b} "))).expect("other line");
        assert!(other.contains(" db=3 "), "{other}");
        assert!(other.contains(" name= "), "{other}");
        assert!(other.contains(" cmd=select "), "{other}");
        // Fields in Redis 7.0's order.
        let fields: Vec<&str> = mine.split(' ').map(|f| f.split('=').next().unwrap_or("")).collect();
        let expected = [
            "id", "addr", "laddr", "fd", "name", "age", "idle", "flags", "db", "sub", "psub", "ssub", "multi", "qbuf",
            "qbuf-free", "argv-mem", "multi-mem", "rbs", "rbp", "obl", "oll", "omem", "tot-mem", "events", "cmd", "user",
            "redir", "resp",
        ];
        assert_eq!(fields, expected);

        let only = text(&c.send(&["CLIENT", "LIST", "ID", &b.to_string()]).await);
        assert_eq!(only.lines().count(), 1);
        assert!(only.starts_with(&format!("id={b} ")));
        let both = text(&c.send(&["CLIENT", "LIST", "ID", &a.to_string(), &b.to_string(), "999999"]).await);
        assert_eq!(both.lines().count(), 2);
        let normal = text(&c.send(&["CLIENT", "LIST", "TYPE", "normal"]).await);
        assert!(normal.lines().count() >= 2);
        assert_eq!(c.send(&["CLIENT", "LIST", "TYPE", "pubsub"]).await, bulk(""));
        assert_eq!(c.send(&["CLIENT", "LIST", "ID", "abc"]).await, err("ERR Invalid client ID"));
        assert_eq!(c.send(&["CLIENT", "LIST", "TYPE", "foo"]).await, err("ERR Unknown client type 'foo'"));
        assert_eq!(c.send(&["CLIENT", "LIST", "foo"]).await, syntax_error());

        let info = text(&c.send(&["CLIENT", "INFO"]).await);
        assert!(info.starts_with(&format!("id={a} ")), "{info}");
        assert!(info.ends_with('\n'));
        assert_eq!(info.lines().count(), 1);
        assert!(info.contains(" cmd=client|info "), "{info}");
        assert_eq!(c.send(&["CLIENT", "INFO", "x"]).await, wrong_args("client|info"));
    }

    async fn client_kill(server: &TestServer) {
        let mut killer = server.raw().await;
        let mut victim = server.raw().await;
        let victim_id = as_int(&victim.send(&["CLIENT", "ID"]).await);
        assert_eq!(killer.send(&["CLIENT", "KILL", "ID", &victim_id.to_string()]).await, int(1));
        assert!(victim.is_closed().await, "killed client is disconnected");
        assert_eq!(killer.send(&["CLIENT", "KILL", "ID", &victim_id.to_string()]).await, int(0));

        // The old form: CLIENT KILL addr:port.
        let mut victim = server.raw().await;
        let info = text(&victim.send(&["CLIENT", "INFO"]).await);
        let addr = info.split(' ').find_map(|f| f.strip_prefix("addr=")).expect("addr field").to_string();
        assert_eq!(killer.send(&["CLIENT", "KILL", &addr]).await, ok());
        assert!(victim.is_closed().await);
        assert_eq!(killer.send(&["CLIENT", "KILL", &addr]).await, err("ERR No such client"));

        // New form with ADDR, and SKIPME.
        let mut victim = server.raw().await;
        let info = text(&victim.send(&["CLIENT", "INFO"]).await);
        let addr = info.split(' ').find_map(|f| f.strip_prefix("addr=")).expect("addr field").to_string();
        assert_eq!(killer.send(&["CLIENT", "KILL", "ADDR", &addr]).await, int(1));
        assert!(victim.is_closed().await);
        let own = text(&killer.send(&["CLIENT", "INFO"]).await);
        let own_addr = own.split(' ').find_map(|f| f.strip_prefix("addr=")).expect("addr field").to_string();
        assert_eq!(killer.send(&["CLIENT", "KILL", "ADDR", &own_addr, "SKIPME", "yes"]).await, int(0));
        assert_eq!(killer.send(&["PING"]).await, simple("PONG"));

        assert_eq!(killer.send(&["CLIENT", "KILL", "ID", "abc"]).await, err("ERR client-id should be greater than 0"));
        assert_eq!(killer.send(&["CLIENT", "KILL", "ID", "0"]).await, err("ERR client-id should be greater than 0"));
        assert_eq!(killer.send(&["CLIENT", "KILL", "1.2.3.4:5"]).await, err("ERR No such client"));
        assert_eq!(killer.send(&["CLIENT", "KILL", "ID"]).await, err("ERR No such client"));
        assert_eq!(killer.send(&["CLIENT", "KILL", "ID", "1", "SKIPME"]).await, syntax_error());
        assert_eq!(killer.send(&["CLIENT", "KILL", "FOO", "bar"]).await, syntax_error());
        assert_eq!(killer.send(&["CLIENT", "KILL"]).await, wrong_args("client|kill"));

        // Killing yourself: the reply is still delivered, then the connection closes.
        // The new form skips the caller by default.
        let own_id = as_int(&killer.send(&["CLIENT", "ID"]).await);
        assert_eq!(killer.send(&["CLIENT", "KILL", "ID", &own_id.to_string()]).await, int(0));
        assert_eq!(killer.send(&["CLIENT", "KILL", "ID", &own_id.to_string(), "SKIPME", "no"]).await, int(1));
        assert!(killer.is_closed().await);
    }

    async fn reset_restores_connection_defaults(server: &TestServer) {
        let mut c = server.raw().await;
        c.send(&["SET", "k", "db0"]).await;
        c.send(&["HELLO", "3"]).await;
        c.send(&["SELECT", "4"]).await;
        c.send(&["CLIENT", "SETNAME", "named"]).await;
        let (frame, wire) = c.send_raw_reply(&[b"RESET"]).await;
        assert_eq!(frame, simple("RESET"));
        assert_eq!(&wire[..], b"+RESET\r\n");
        let (_, wire) = c.send_raw_reply(&[b"GET", b"missing"]).await;
        assert_eq!(&wire[..], b"$-1\r\n", "RESET goes back to RESP2");
        assert_eq!(c.send(&["GET", "k"]).await, bulk("db0"), "RESET selects db 0");
        assert_eq!(c.send(&["CLIENT", "GETNAME"]).await, nil());
        assert_eq!(c.send(&["RESET", "x"]).await, wrong_args("reset"));
    }

    async fn redis_rs_client_works(server: &TestServer) {
        let mut con = server.conn().await;
        let pong: String = redis::cmd("PING").query_async(&mut con).await.expect("ping");
        assert_eq!(pong, "PONG");
        let () = redis::cmd("SET").arg("rs").arg(42).query_async(&mut con).await.expect("set");
        let v: i64 = redis::cmd("INCR").arg("rs").query_async(&mut con).await.expect("incr");
        assert_eq!(v, 43);
        let got: Option<String> = redis::cmd("GET").arg("missing").query_async(&mut con).await.expect("get");
        assert_eq!(got, None);
        let e = redis::cmd("INCR").arg("rs").arg("x").query_async::<i64>(&mut con).await.expect_err("arity");
        assert!(e.to_string().contains("wrong number of arguments for 'incr' command"), "{e}");
    }

    async fn many_concurrent_clients(server: &TestServer) {
        let mut tasks = Vec::new();
        for t in 0..16 {
            let addr = server.addr;
            tasks.push(tokio::spawn(async move {
                let mut c = RawClient::connect(addr).await;
                for i in 0..50 {
                    let key = format!("c{t}:{i}");
                    assert_eq!(c.send(&["SET", &key, &i.to_string()]).await, ok());
                    assert_eq!(c.send(&["GET", &key]).await, bulk(i.to_string()));
                }
            }));
        }
        for t in tasks {
            t.await.expect("client task");
        }
        let mut c = server.raw().await;
        assert_eq!(c.send(&["DBSIZE"]).await, int(16 * 50));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
