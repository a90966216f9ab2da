//! The server under hostile or careless clients: bad frames, huge declared lengths,
//! abrupt disconnects, connection limits, idle timeouts, big replies.

use std::time::Duration;

use ferrokv_tests::*;

/// Resident memory of this process (where the in-process server runs), in bytes.
fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

/// The number of clients the server reports.
async fn connected_clients(c: &mut RawClient) -> i64 {
    let info = text(&c.send(&["INFO", "clients"]).await);
    info.lines()
        .find_map(|l| l.strip_prefix("connected_clients:"))
        .expect("connected_clients")
        .trim()
        .parse()
        .expect("a number")
}

backend_tests! {
    async fn malformed_frame_closes_only_that_connection(server: &TestServer) {
        let mut others = Vec::new();
        for i in 0..5 {
            let mut c = server.raw().await;
            c.send(&["SET", &format!("k{i}"), "v"]).await;
            others.push(c);
        }
        for garbage in [&b"*1\r\n$x\r\n"[..], b"*-5x\r\n", b"*2\r\n$3\r\nGET\r\n+oops\r\n", b"SET \"unterminated\r\n"] {
            let mut bad = server.raw().await;
            bad.send_bytes(garbage).await;
            let reply = bad.read_frame().await;
            assert_err_prefix(&reply, "ERR Protocol error: ");
            assert!(bad.is_closed().await, "connection closed after {garbage:?}");
        }
        for (i, c) in others.iter_mut().enumerate() {
            assert_eq!(c.send(&["GET", &format!("k{i}")]).await, bulk("v"));
        }
    }

    async fn huge_declared_lengths_do_not_allocate(server: &TestServer) {
        let before = rss_bytes();
        let mut pending = Vec::new();
        for i in 0..40 {
            let mut c = server.raw().await;
            // Legal declared sizes (just under proto-max-bulk-len) with no body behind them.
            let key = format!("big{i}");
            c.send_bytes(format!("*3\r\n$3\r\nSET\r\n${}\r\n{key}\r\n$536870000\r\n", key.len()).as_bytes()).await;
            c.send_bytes(&[b'x'; 1000]).await;
            pending.push(c);
        }
        let mut many = server.raw().await;
        many.send_bytes(b"*1000000\r\n$3\r\nGET\r\n").await;
        let mut probe = server.raw().await;
        assert_eq!(probe.send(&["PING"]).await, simple("PONG"));
        assert_eq!(probe.send(&["DBSIZE"]).await, int(0));
        for c in pending.iter_mut() {
            assert_eq!(c.try_read_frame(Duration::from_millis(10)).await, None, "no reply before the body");
        }
        if let (Some(before), Some(after)) = (before, rss_bytes()) {
            if !against_redis() {
                let grown = after.saturating_sub(before);
                assert!(grown < 256 << 20, "40 declared 512 MB bulks grew the process by {} MB", grown >> 20);
            }
        }
        // Dropping them is clean, and the server goes on.
        drop(pending);
        drop(many);
        assert_eq!(probe.send(&["SET", "after", "1"]).await, ok());
        assert_eq!(probe.send(&["GET", "after"]).await, bulk("1"));
    }

    async fn abrupt_disconnects_mid_request(server: &TestServer) {
        for i in 0..50 {
            let mut c = server.raw().await;
            let req = request(&[b"SET", format!("half{i}").as_bytes(), b"value"]);
            c.send_bytes(&req[..req.len() / 2]).await;
            drop(c);
        }
        // Also disconnect with replies still unread.
        for _ in 0..20 {
            let mut c = server.raw().await;
            let batch: Vec<u8> = (0..200).flat_map(|_| request(&[b"PING"])).collect();
            c.send_bytes(&batch).await;
            drop(c);
        }
        let mut probe = server.raw().await;
        assert_eq!(probe.send(&["DBSIZE"]).await, int(0), "no half request was executed");
        let settled = {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
            loop {
                let n = connected_clients(&mut probe).await;
                if n == 1 || tokio::time::Instant::now() > deadline {
                    break n;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        };
        assert_eq!(settled, 1, "disconnected clients are forgotten");
    }

    async fn maxclients_rejects_extra_connections(server: &TestServer) {
        let mut first = server.raw().await;
        assert_eq!(first.send(&["CONFIG", "SET", "maxclients", "2"]).await, ok());
        let mut second = server.raw().await;
        assert_eq!(second.send(&["PING"]).await, simple("PONG"));
        let mut third = server.raw().await;
        assert_eq!(third.read_frame().await, err("ERR max number of clients reached"));
        assert!(third.is_closed().await);
        // The rejected connection does not count; existing clients still work.
        assert_eq!(first.send(&["PING"]).await, simple("PONG"));
        assert_eq!(connected_clients(&mut first).await, 2);
        let stats = text(&first.send(&["INFO", "stats"]).await);
        assert!(stats.contains("rejected_connections:1\r\n"), "{stats}");
        // Once a slot frees up, new clients get in.
        drop(second);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while connected_clients(&mut first).await > 1 {
            assert!(tokio::time::Instant::now() < deadline, "closed client still counted");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let mut fourth = server.raw().await;
        assert_eq!(fourth.send(&["PING"]).await, simple("PONG"));
        assert_eq!(first.send(&["CONFIG", "SET", "maxclients", "10000"]).await, ok());
    }

    async fn idle_timeout_closes_idle_clients(server: &TestServer) {
        let mut admin = server.raw().await;
        // `idle` is already waiting for a request when the timeout is set; `late` connects
        // afterwards. Both must be closed.
        let mut idle = server.raw().await;
        assert_eq!(idle.send(&["PING"]).await, simple("PONG"));
        assert_eq!(admin.send(&["CONFIG", "SET", "timeout", "1"]).await, ok());
        let mut late = server.raw().await;
        assert_eq!(late.send(&["PING"]).await, simple("PONG"));
        // `admin` keeps talking; the others say nothing.
        let start = tokio::time::Instant::now();
        let (mut idle_closed, mut late_closed) = (false, false);
        while start.elapsed() < Duration::from_secs(4) && !(idle_closed && late_closed) {
            assert_eq!(admin.send(&["PING"]).await, simple("PONG"));
            if !late_closed && late.is_closed_within(Duration::from_millis(100)).await {
                late_closed = true;
                assert!(start.elapsed() >= Duration::from_millis(900), "closed too early: {:?}", start.elapsed());
            }
            if !idle_closed && idle.is_closed_within(Duration::from_millis(100)).await {
                idle_closed = true;
            }
        }
        assert!(late_closed, "a client connected after CONFIG SET timeout 1 was not closed within 4 s of idling");
        assert!(idle_closed, "a client idle since before CONFIG SET timeout 1 was not closed within 4 s");
        assert_eq!(admin.send(&["PING"]).await, simple("PONG"), "active clients stay connected");
        assert_eq!(admin.send(&["CONFIG", "SET", "timeout", "0"]).await, ok());
        let mut later = server.raw().await;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(later.send(&["PING"]).await, simple("PONG"), "timeout 0 disables it");
    }

    async fn connection_churn(server: &TestServer) {
        let mut tasks = Vec::new();
        for t in 0..8 {
            let addr = server.addr;
            tasks.push(tokio::spawn(async move {
                for i in 0..25 {
                    let mut c = RawClient::connect(addr).await;
                    assert_eq!(c.send(&["SET", &format!("churn{t}:{i}"), "1"]).await, ok());
                    if i % 2 == 0 {
                        assert_eq!(c.send(&["QUIT"]).await, ok());
                    }
                }
            }));
        }
        for t in tasks {
            t.await.expect("task");
        }
        let mut probe = server.raw().await;
        assert_eq!(probe.send(&["DBSIZE"]).await, int(200));
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while connected_clients(&mut probe).await > 1 {
            assert!(tokio::time::Instant::now() < deadline, "closed clients still counted");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let stats = text(&probe.send(&["INFO", "stats"]).await);
        let total: i64 = stats
            .lines()
            .find_map(|l| l.strip_prefix("total_connections_received:"))
            .expect("total_connections_received")
            .trim()
            .parse()
            .expect("number");
        assert!(total >= 201, "total_connections_received {total}");
    }

    async fn big_values_and_big_replies(server: &TestServer) {
        let mut c = server.raw().await;
        let value = vec![b'v'; 10 << 20];
        assert_eq!(c.send_bin(&[b"SET", b"ten-mb", &value]).await, ok());
        assert_eq!(c.send(&["STRLEN", "ten-mb"]).await, int(10 << 20));
        assert_eq!(c.send(&["GET", "ten-mb"]).await, bulk(&value));
        // A 10 MB reply assembled from many keys.
        let kb = vec![b'k'; 1024];
        let mut batch = Vec::new();
        for i in 0..10_000 {
            batch.extend(request(&[b"SET", format!("m{i}").as_bytes(), &kb]));
        }
        c.send_bytes(&batch).await;
        for _ in 0..10_000 {
            assert_eq!(c.read_frame().await, ok());
        }
        let mut args: Vec<Vec<u8>> = vec![b"MGET".to_vec()];
        args.extend((0..10_000).map(|i| format!("m{i}").into_bytes()));
        let refs: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
        let reply = c.send_bin(&refs).await;
        let v = items(&reply);
        assert_eq!(v.len(), 10_000);
        assert!(v.iter().all(|f| *f == bulk(&kb)));
        // A slow reader does not stall other clients.
        let mut slow = server.raw().await;
        slow.send_bytes(&request(&refs)).await;
        let mut fast = server.raw().await;
        assert_eq!(fast.send(&["PING"]).await, simple("PONG"));
        assert_eq!(items(&slow.read_frame().await).len(), 10_000);
    }

    async fn kill_during_pipeline(server: &TestServer) {
        let mut victim = server.raw().await;
        let id = as_int(&victim.send(&["CLIENT", "ID"]).await);
        let mut killer = server.raw().await;
        // The victim pipelines its own kill in the middle: later commands never run.
        let mut batch = request(&[b"SET", b"before", b"1"]);
        batch.extend(request(&[b"CLIENT", b"KILL", b"ID", id.to_string().as_bytes(), b"SKIPME", b"no"]));
        batch.extend(request(&[b"SET", b"after", b"1"]));
        victim.send_bytes(&batch).await;
        assert_eq!(victim.read_frame().await, ok());
        assert_eq!(victim.read_frame().await, int(1));
        assert!(victim.is_closed().await);
        assert_eq!(killer.send(&["EXISTS", "before", "after"]).await, int(1));
    }

    async fn concurrent_read_modify_write_is_atomic(server: &TestServer) {
        const TASKS: usize = 8;
        const OPS: usize = 250;
        let mut tasks = Vec::new();
        for t in 0..TASKS {
            let addr = server.addr;
            tasks.push(tokio::spawn(async move {
                let mut c = RawClient::connect(addr).await;
                let mut batch = Vec::new();
                for i in 0..OPS {
                    batch.extend(request(&[b"INCR", b"counter"]));
                    batch.extend(request(&[b"INCRBY", b"by3", b"3"]));
                    batch.extend(request(&[b"INCRBYFLOAT", b"float", b"0.5"]));
                    batch.extend(request(&[b"APPEND", b"log", b"ab"]));
                    batch.extend(request(&[b"SETRANGE", b"ranges", format!("{}", t * OPS + i).as_bytes(), b"x"]));
                }
                c.send_bytes(&batch).await;
                for _ in 0..OPS * 5 {
                    let reply = c.read_frame().await;
                    assert!(!reply.is_error(), "{reply:?}");
                }
            }));
        }
        for t in tasks {
            t.await.expect("task");
        }
        let total = (TASKS * OPS) as i64;
        let mut c = server.raw().await;
        assert_eq!(c.send(&["GET", "counter"]).await, bulk(total.to_string()));
        assert_eq!(c.send(&["GET", "by3"]).await, bulk((3 * total).to_string()));
        assert_eq!(c.send(&["GET", "float"]).await, bulk((total / 2).to_string()));
        assert_eq!(c.send(&["STRLEN", "log"]).await, int(2 * total));
        assert_eq!(c.send(&["GET", "ranges"]).await, bulk("x".repeat(total as usize)));
    }

    async fn concurrent_conditional_writes_have_one_winner(server: &TestServer) {
        for round in 0..10 {
            let key = format!("race{round}");
            let mut tasks = Vec::new();
            for t in 0..6 {
                let addr = server.addr;
                let key = key.clone();
                tasks.push(tokio::spawn(async move {
                    let mut c = RawClient::connect(addr).await;
                    let setnx = c.send(&["SETNX", &key, &t.to_string()]).await;
                    let set_nx = c.send(&["SET", &format!("{key}:b"), &t.to_string(), "NX"]).await;
                    let msetnx = c.send(&["MSETNX", &format!("{key}:c"), "1", &format!("{key}:d"), "1"]).await;
                    (setnx == int(1), set_nx == ok(), msetnx == int(1))
                }));
            }
            let mut wins = (0, 0, 0);
            for t in tasks {
                let (a, b, c) = t.await.expect("task");
                wins.0 += a as i32;
                wins.1 += b as i32;
                wins.2 += c as i32;
            }
            assert_eq!(wins, (1, 1, 1), "round {round}: exactly one winner each");
        }
        // Exactly one GETDEL gets the value.
        let mut c = server.raw().await;
        for round in 0..10 {
            let key = format!("take{round}");
            c.send(&["SET", &key, "prize"]).await;
            let mut tasks = Vec::new();
            for _ in 0..6 {
                let addr = server.addr;
                let key = key.clone();
                tasks.push(tokio::spawn(async move {
                    let mut c = RawClient::connect(addr).await;
                    c.send(&["GETDEL", &key]).await == bulk("prize")
                }));
            }
            let mut winners = 0;
            for t in tasks {
                winners += t.await.expect("task") as i32;
            }
            assert_eq!(winners, 1, "round {round}: exactly one GETDEL wins");
        }
    }

    async fn flush_while_writing(server: &TestServer) {
        let writer = {
            let addr = server.addr;
            tokio::spawn(async move {
                let mut c = RawClient::connect(addr).await;
                for i in 0..2000 {
                    let reply = c.send(&["SET", &format!("w{i}"), "v"]).await;
                    assert_eq!(reply, ok());
                }
            })
        };
        let mut c = server.raw().await;
        for _ in 0..20 {
            assert_eq!(c.send(&["FLUSHALL"]).await, ok());
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        writer.await.expect("writer");
        let size = as_int(&c.send(&["DBSIZE"]).await);
        assert!((0..=2000).contains(&size));
        let keys = items(&c.send(&["KEYS", "*"]).await).len() as i64;
        assert_eq!(keys, size, "DBSIZE agrees with KEYS after concurrent flushes");
        assert_eq!(c.send(&["FLUSHALL"]).await, ok());
        assert_eq!(c.send(&["DBSIZE"]).await, int(0));
    }
}
