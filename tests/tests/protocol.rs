//! The RESP request protocol as Redis 7.0 parses it: multibulk and inline requests,
//! protocol errors (reply, then close), unknown commands, pipelining and partial frames.

use std::time::Duration;

use ferrokv_tests::*;

/// Sends `bytes`, expects exactly `reply` and then the server closing the connection.
async fn expect_protocol_error(server: &TestServer, bytes: &[u8], reply: &str) {
    let mut c = server.raw().await;
    c.send_bytes(bytes).await;
    assert_eq!(
        c.read_frame().await,
        err(reply),
        "after sending {:?}",
        String::from_utf8_lossy(bytes)
    );
    assert!(
        c.is_closed().await,
        "a protocol error closes the connection ({:?})",
        String::from_utf8_lossy(bytes)
    );
}

backend_tests! {
    async fn protocol_errors_reply_and_close(server: &TestServer) {
        expect_protocol_error(server, b"*a\r\n", "ERR Protocol error: invalid multibulk length").await;
        expect_protocol_error(server, b"*3000000000\r\n", "ERR Protocol error: invalid multibulk length").await;
        expect_protocol_error(server, b"*1\r\nfoo\r\n", "ERR Protocol error: expected '$', got 'f'").await;
        expect_protocol_error(server, b"*1\r\n$-5\r\n", "ERR Protocol error: invalid bulk length").await;
        expect_protocol_error(server, b"*1\r\n$abc\r\n", "ERR Protocol error: invalid bulk length").await;
        expect_protocol_error(server, b"*2\r\n$3\r\nGET\r\n:1\r\n", "ERR Protocol error: expected '$', got ':'").await;
    }

    async fn two_gigabyte_bulk_is_rejected(server: &TestServer) {
        expect_protocol_error(server, b"*1\r\n$2147483648\r\n", "ERR Protocol error: invalid bulk length").await;
        // Just over proto-max-bulk-len (512 MB) as well.
        expect_protocol_error(server, b"*1\r\n$536870913\r\n", "ERR Protocol error: invalid bulk length").await;
    }

    async fn too_big_inline_and_counts(server: &TestServer) {
        expect_protocol_error(server, &vec![b'a'; 70_000], "ERR Protocol error: too big inline request").await;
        let mut bulk_count = b"*1\r\n$".to_vec();
        bulk_count.extend(vec![b'1'; 70_000]);
        expect_protocol_error(server, &bulk_count, "ERR Protocol error: too big bulk count string").await;
        let mut mbulk_count = b"*".to_vec();
        mbulk_count.extend(vec![b'1'; 70_000]);
        expect_protocol_error(server, &mbulk_count, "ERR Protocol error: too big mbulk count string").await;
    }

    async fn protocol_error_spares_other_clients(server: &TestServer) {
        let mut good = server.raw().await;
        good.send(&["SET", "k", "v"]).await;
        let mut bad = server.raw().await;
        bad.send(&["PING"]).await;
        // Valid commands before the bad frame in the same write are executed and answered.
        bad.send_bytes(b"*1\r\n$4\r\nPING\r\n*x\r\n").await;
        assert_eq!(bad.read_frame().await, simple("PONG"));
        assert_eq!(bad.read_frame().await, err("ERR Protocol error: invalid multibulk length"));
        assert!(bad.is_closed().await);
        assert_eq!(good.send(&["GET", "k"]).await, bulk("v"));
        let mut fresh = server.raw().await;
        assert_eq!(fresh.send(&["GET", "k"]).await, bulk("v"));
    }

    async fn unknown_command(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["foo", "a"]).await, err("ERR unknown command 'foo', with args beginning with: 'a' "));
        assert_eq!(c.send(&["foo"]).await, err("ERR unknown command 'foo', with args beginning with: "));
        assert_eq!(c.send(&["FOO", "a", "b"]).await, err("ERR unknown command 'FOO', with args beginning with: 'a' 'b' "));
        assert_eq!(c.send(&[""]).await, err("ERR unknown command '', with args beginning with: "));
        // Newlines become spaces; arguments stop after 128 characters.
        assert_eq!(
            c.send(&["foo", "a\nb", "c"]).await,
            err("ERR unknown command 'foo', with args beginning with: 'a b' 'c' ")
        );
        let long = "x".repeat(130);
        assert_eq!(
            c.send(&["foo", &long, "b"]).await,
            err(&format!("ERR unknown command 'foo', with args beginning with: '{}' ", "x".repeat(128)))
        );
        let long_name = "y".repeat(200);
        assert_eq!(
            c.send(&[&long_name, "b"]).await,
            err(&format!("ERR unknown command '{}', with args beginning with: 'b' ", "y".repeat(128)))
        );
        // The connection stays usable.
        assert_eq!(c.send(&["PING"]).await, simple("PONG"));
        // Unknown subcommands.
        assert_eq!(c.send(&["CONFIG", "nope"]).await, err("ERR unknown subcommand 'nope'. Try CONFIG HELP."));
        // Commands are case-insensitive.
        assert_eq!(c.send(&["pInG"]).await, simple("PONG"));
        assert_eq!(c.send(&["set", "k", "v"]).await, ok());
        assert_eq!(c.send(&["GeT", "k"]).await, bulk("v"));
    }

    async fn wrong_type_of_value(server: &TestServer) {
        let mut c = server.raw().await;
        c.send(&["SET", "s", "abc"]).await;
        assert_eq!(c.send(&["INCR", "s"]).await, not_integer());
        assert_eq!(c.send(&["INCRBY", "s", "1"]).await, not_integer());
        assert_eq!(c.send(&["DECR", "s"]).await, not_integer());
        assert_eq!(c.send(&["INCRBYFLOAT", "s", "1"]).await, err("ERR value is not a valid float"));
        assert_eq!(c.send(&["GET", "s"]).await, bulk("abc"));
    }

    async fn inline_commands(server: &TestServer) {
        let mut c = server.raw().await;
        c.send_bytes(b"PING\r\n").await;
        assert_eq!(c.read_frame().await, simple("PONG"));
        c.send_bytes(b"PING\n").await;
        assert_eq!(c.read_frame().await, simple("PONG"));
        c.send_bytes(b"SET k \"hello world\"\r\n").await;
        assert_eq!(c.read_frame().await, ok());
        c.send_bytes(b"GET k\r\n").await;
        assert_eq!(c.read_frame().await, bulk("hello world"));
        c.send_bytes(b"set k2 \"\\x41\\n\\t\"\r\nget k2\r\n").await;
        assert_eq!(c.read_frame().await, ok());
        assert_eq!(c.read_frame().await, bulk("A\n\t"));
        c.send_bytes(b"set k3 'single quoted'\r\nget k3\r\n").await;
        assert_eq!(c.read_frame().await, ok());
        assert_eq!(c.read_frame().await, bulk("single quoted"));
        c.send_bytes(b"   set   k4    spaced   \r\nget k4\r\n").await;
        assert_eq!(c.read_frame().await, ok());
        assert_eq!(c.read_frame().await, bulk("spaced"));
        // Empty lines and empty multibulks are skipped silently.
        c.send_bytes(b"\r\n\r\n   \r\n*0\r\n*-1\r\nPING\r\n").await;
        assert_eq!(c.read_frame().await, simple("PONG"));
        c.send_bytes(b"foo a b\r\n").await;
        assert_eq!(c.read_frame().await, err("ERR unknown command 'foo', with args beginning with: 'a' 'b' "));
        c.send_bytes(b"GET\r\n").await;
        assert_eq!(c.read_frame().await, wrong_args("get"));
        // Mixed inline and multibulk in one write.
        c.send_bytes(b"PING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\nPING x\r\n").await;
        assert_eq!(c.read_frame().await, simple("PONG"));
        assert_eq!(c.read_frame().await, bulk("hi"));
        assert_eq!(c.read_frame().await, bulk("x"));
    }

    async fn inline_unbalanced_quotes(server: &TestServer) {
        expect_protocol_error(server, b"SET \"a b\r\n", "ERR Protocol error: unbalanced quotes in request").await;
        expect_protocol_error(server, b"set k 'it''s'\r\n", "ERR Protocol error: unbalanced quotes in request").await;
        expect_protocol_error(server, b"set a \"b\"c\r\n", "ERR Protocol error: unbalanced quotes in request").await;
    }

    async fn pipelining_1000_commands_in_one_write(server: &TestServer) {
        let mut c = server.raw().await;
        let mut batch = Vec::new();
        for i in 0..1000 {
            match i % 4 {
                0 => batch.extend(request(&[b"SET", format!("p{i}").as_bytes(), format!("v{i}").as_bytes()])),
                1 => batch.extend(request(&[b"GET", format!("p{}", i - 1).as_bytes()])),
                2 => batch.extend(request(&[b"INCR", b"counter"])),
                _ => batch.extend(request(&[b"ECHO", format!("e{i}").as_bytes()])),
            }
        }
        c.send_bytes(&batch).await;
        let mut incrs = 0;
        for i in 0..1000 {
            let reply = c.read_frame().await;
            match i % 4 {
                0 => assert_eq!(reply, ok(), "reply {i}"),
                1 => assert_eq!(reply, bulk(format!("v{}", i - 1)), "reply {i}"),
                2 => {
                    incrs += 1;
                    assert_eq!(reply, int(incrs), "reply {i}");
                }
                _ => assert_eq!(reply, bulk(format!("e{i}")), "reply {i}"),
            }
        }
        assert_eq!(c.send(&["DBSIZE"]).await, int(251));
        // Inline pipelining too.
        let inline: Vec<u8> = (0..1000).flat_map(|i| format!("ECHO {i}\r\n").into_bytes()).collect();
        c.send_bytes(&inline).await;
        for i in 0..1000 {
            assert_eq!(c.read_frame().await, bulk(i.to_string()));
        }
    }

    async fn requests_split_across_writes(server: &TestServer) {
        let mut c = server.raw().await;
        let req = request(&[b"SET", b"split", b"value-in-pieces"]);
        for byte in &req {
            c.send_bytes(&[*byte]).await;
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
        assert_eq!(c.read_frame().await, ok());
        // A complete command then half of the next: only the first is answered.
        c.send_bytes(b"*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPI").await;
        assert_eq!(c.read_frame().await, simple("PONG"));
        assert_eq!(c.try_read_frame(Duration::from_millis(200)).await, None);
        c.send_bytes(b"NG\r\n").await;
        assert_eq!(c.read_frame().await, simple("PONG"));
        assert_eq!(c.send(&["GET", "split"]).await, bulk("value-in-pieces"));
    }

    async fn declared_bulk_without_body_waits(server: &TestServer) {
        let mut c = server.raw().await;
        c.send_bytes(b"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1000000\r\n").await;
        // Nothing to answer until the body arrives.
        assert_eq!(c.try_read_frame(Duration::from_millis(300)).await, None);
        // Others keep being served meanwhile.
        let mut other = server.raw().await;
        assert_eq!(other.send(&["PING"]).await, simple("PONG"));
        assert_eq!(other.send(&["EXISTS", "a"]).await, int(0));
        // Part of the body: still nothing.
        c.send_bytes(&vec![b'x'; 500_000]).await;
        assert_eq!(c.try_read_frame(Duration::from_millis(200)).await, None);
        c.send_bytes(&vec![b'x'; 500_000]).await;
        c.send_bytes(b"\r\n").await;
        assert_eq!(c.read_frame().await, ok());
        assert_eq!(other.send(&["STRLEN", "a"]).await, int(1_000_000));
    }

    async fn binary_safe_arguments(server: &TestServer) {
        let mut c = server.raw().await;
        let all: Vec<u8> = (0..=255u8).collect();
        assert_eq!(c.send_bin(&[b"SET", &all, &all]).await, ok());
        assert_eq!(c.send_bin(&[b"GET", &all]).await, bulk(&all));
        // Bulk bodies containing CRLF and '*' / '$' bytes.
        let tricky = b"*1\r\n$4\r\nPING\r\n";
        assert_eq!(c.send_bin(&[b"SET", b"t", tricky]).await, ok());
        assert_eq!(c.send_bin(&[b"GET", b"t"]).await, bulk(tricky));
        assert_eq!(c.send_bin(&[b"ECHO", b""]).await, bulk(""));
    }
}
