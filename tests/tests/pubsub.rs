//! Pub/sub end to end: SUBSCRIBE UNSUBSCRIBE PSUBSCRIBE PUNSUBSCRIBE PUBLISH PUBSUB
//! SSUBSCRIBE SUNSUBSCRIBE SPUBLISH in RESP2 and RESP3 with several concurrent
//! clients, subscribed-mode restrictions, message order, introspection, and the
//! output buffer limits that disconnect a subscriber that stops reading.
//!
//! Every expected reply was checked against redis-server 7.0
//! (`FERROKV_TESTS_TARGET=redis cargo test -p ferrokv-tests --test pubsub`).

use std::time::{Duration, Instant};

use ferrokv_protocol::RespVersion;
use ferrokv_tests::*;

/// Sends a command without reading its reply.
async fn fire(c: &mut RawClient, args: &[&str]) {
    let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    c.send_bytes(&request(&args)).await;
}

/// Reads `n` frames.
async fn read_n(c: &mut RawClient, n: usize) -> Vec<Frame> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(c.read_frame().await);
    }
    out
}

/// A RESP2 pub/sub frame (an array) of bulk strings and a final count.
fn event(word: &str, name: Option<&str>, count: i64) -> Frame {
    arr(vec![bulk(word), name.map_or(nil(), bulk), int(count)])
}

/// The RESP3 form of [`event`]: a push frame.
fn push_event(word: &str, name: Option<&str>, count: i64) -> Frame {
    Frame::Push(items(&event(word, name, count)).to_vec())
}

fn message(channel: &str, payload: &str) -> Frame {
    bulks(&["message", channel, payload])
}

fn pmessage(pattern: &str, channel: &str, payload: &str) -> Frame {
    bulks(&["pmessage", pattern, channel, payload])
}

/// Asserts that nothing more arrives for a little while.
async fn quiet(c: &mut RawClient) {
    assert_eq!(c.try_read_frame(Duration::from_millis(100)).await, None);
}

/// A client switched to RESP3.
async fn resp3(server: &TestServer) -> RawClient {
    let mut c = server.raw().await;
    assert!(matches!(c.send(&["HELLO", "3"]).await, Frame::Map(_)));
    c
}

fn refusal(cmd: &str) -> Frame {
    err(&format!(
        "ERR Can't execute '{cmd}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
    ))
}

/// The `field:` value of an INFO section.
fn info_field(info: &Frame, field: &str) -> Option<u64> {
    text(info)
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .and_then(|v| v.trim().parse().ok())
}

/// Resident memory of the server: this process's (the server runs inside the test),
/// or redis-server's `used_memory_rss` when testing against it.
async fn server_rss(admin: &mut RawClient) -> u64 {
    if against_redis() {
        let info = admin.send(&["INFO", "memory"]).await;
        return info_field(&info, "used_memory_rss").expect("used_memory_rss");
    }
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .expect("VmRSS")
        * 1024
}

/// Waits until `PUBSUB NUMSUB channel` reports `n`.
async fn wait_numsub(admin: &mut RawClient, channel: &str, n: i64) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let reply = admin.send(&["PUBSUB", "NUMSUB", channel]).await;
        if reply == arr(vec![bulk(channel), int(n)]) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "NUMSUB {channel} stuck at {reply:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

backend_tests! {
    async fn subscribe_confirms_every_channel(server: &TestServer) {
        let mut c = server.raw().await;
        fire(&mut c, &["SUBSCRIBE", "a", "b", "a"]).await;
        let (first, wire_bytes) = c.read_reply().await;
        assert_eq!(first, event("subscribe", Some("a"), 1));
        assert_eq!(&wire_bytes[..], b"*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n");
        assert_eq!(
            read_n(&mut c, 2).await,
            vec![event("subscribe", Some("b"), 2), event("subscribe", Some("a"), 2)]
        );
        // Patterns count with channels; shard channels on their own.
        fire(&mut c, &["PSUBSCRIBE", "x*", "y*"]).await;
        assert_eq!(
            read_n(&mut c, 2).await,
            vec![event("psubscribe", Some("x*"), 3), event("psubscribe", Some("y*"), 4)]
        );
        fire(&mut c, &["SSUBSCRIBE", "s1", "s2"]).await;
        assert_eq!(
            read_n(&mut c, 2).await,
            vec![event("ssubscribe", Some("s1"), 1), event("ssubscribe", Some("s2"), 2)]
        );
        assert_eq!(c.send(&["SUBSCRIBE"]).await, wrong_args("subscribe"));
        assert_eq!(c.send(&["PSUBSCRIBE"]).await, wrong_args("psubscribe"));
        assert_eq!(c.send(&["SSUBSCRIBE"]).await, wrong_args("ssubscribe"));
        quiet(&mut c).await;
    }

    async fn unsubscribe_named_all_and_none(server: &TestServer) {
        let mut c = server.raw().await;
        // Nothing to leave: one confirmation with a nil name.
        let (reply, wire_bytes) = c.send_raw_reply(&[b"UNSUBSCRIBE"]).await;
        assert_eq!(reply, event("unsubscribe", None, 0));
        assert_eq!(&wire_bytes[..], b"*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n");
        assert_eq!(c.send(&["PUNSUBSCRIBE"]).await, event("punsubscribe", None, 0));
        assert_eq!(c.send(&["SUNSUBSCRIBE"]).await, event("sunsubscribe", None, 0));
        // Not in subscribed mode after that.
        assert_eq!(c.send(&["GET", "k"]).await, nil());

        fire(&mut c, &["SUBSCRIBE", "a", "b"]).await;
        read_n(&mut c, 2).await;
        assert_eq!(c.send(&["PSUBSCRIBE", "p*"]).await, event("psubscribe", Some("p*"), 3));
        assert_eq!(c.send(&["SSUBSCRIBE", "s"]).await, event("ssubscribe", Some("s"), 1));
        // A channel never subscribed is confirmed with the unchanged count.
        assert_eq!(c.send(&["UNSUBSCRIBE", "zz"]).await, event("unsubscribe", Some("zz"), 3));
        fire(&mut c, &["UNSUBSCRIBE"]).await;
        // One confirmation per channel (in the server's order), counting down.
        let all = read_n(&mut c, 2).await;
        let counts: Vec<i64> = all.iter().map(|f| as_int(&items(f)[2])).collect();
        assert_eq!(counts, vec![2, 1]);
        let mut names: Vec<String> = all.iter().map(|f| text(&items(f)[1])).collect();
        names.sort();
        assert_eq!(names, vec!["a", "b"]);
        assert!(all.iter().all(|f| items(f)[0] == bulk("unsubscribe")));
        assert_eq!(c.send(&["PUNSUBSCRIBE", "p*", "q*"]).await, event("punsubscribe", Some("p*"), 0));
        assert_eq!(c.read_frame().await, event("punsubscribe", Some("q*"), 0));
        // The shard subscription still holds the client in subscribed mode.
        assert_eq!(c.send(&["GET", "k"]).await, refusal("get"));
        assert_eq!(c.send(&["SUNSUBSCRIBE"]).await, event("sunsubscribe", Some("s"), 0));
        assert_eq!(c.send(&["GET", "k"]).await, nil());
        quiet(&mut c).await;
    }

    async fn resp2_subscribed_mode_allows_only_subscription_commands(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["SUBSCRIBE", "ch"]).await, event("subscribe", Some("ch"), 1));
        assert_eq!(c.send(&["GET", "k"]).await, refusal("get"));
        assert_eq!(c.send(&["set", "k", "v"]).await, refusal("set"));
        assert_eq!(c.send(&["CONFIG", "GET", "maxmemory"]).await, refusal("config|get"));
        assert_eq!(c.send(&["PUBLISH", "ch", "m"]).await, refusal("publish"));
        assert_eq!(c.send(&["PUBSUB", "NUMPAT"]).await, refusal("pubsub|numpat"));
        // Unknown commands and arity errors are reported first.
        assert_eq!(c.send(&["GET"]).await, wrong_args("get"));
        assert_err_prefix(&c.send(&["NOSUCH"]).await, "ERR unknown command 'NOSUCH'");
        // PING answers in the shape of a message.
        let (pong, wire_bytes) = c.send_raw_reply(&[b"PING"]).await;
        assert_eq!(pong, bulks(&["pong", ""]));
        assert_eq!(&wire_bytes[..], b"*2\r\n$4\r\npong\r\n$0\r\n\r\n");
        assert_eq!(c.send(&["PING", "hello"]).await, bulks(&["pong", "hello"]));
        assert_eq!(c.send(&["PING", "a", "b"]).await, wrong_args("ping"));
        // RESET leaves subscribed mode without confirmations.
        assert_eq!(c.send(&["RESET"]).await, simple("RESET"));
        assert_eq!(c.send(&["PING"]).await, simple("PONG"));
        assert_eq!(c.send(&["GET", "k"]).await, nil());
        let mut p = server.raw().await;
        assert_eq!(p.send(&["PUBLISH", "ch", "m"]).await, int(0));
        quiet(&mut c).await;
        // QUIT is allowed and closes.
        assert_eq!(c.send(&["PSUBSCRIBE", "*"]).await, event("psubscribe", Some("*"), 1));
        assert_eq!(c.send(&["QUIT"]).await, ok());
        assert!(c.is_closed().await);
        wait_numsub(&mut p, "ch", 0).await;
        assert_eq!(p.send(&["PUBSUB", "NUMPAT"]).await, int(0));
    }

    async fn resp3_subscribers_get_pushes_and_run_any_command(server: &TestServer) {
        let mut c = resp3(server).await;
        let (reply, wire_bytes) = c.send_raw_reply(&[b"SUBSCRIBE", b"ch"]).await;
        assert_eq!(reply, push_event("subscribe", Some("ch"), 1));
        assert_eq!(&wire_bytes[..], b">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n");
        assert_eq!(c.send(&["SET", "k", "v"]).await, ok());
        assert_eq!(c.send(&["GET", "k"]).await, bulk("v"));
        assert_eq!(c.send(&["PING"]).await, simple("PONG"));
        assert_eq!(c.send(&["PING", "x"]).await, bulk("x"));
        let mut p = server.raw().await;
        assert_eq!(p.send(&["PUBLISH", "ch", "hello"]).await, int(1));
        let (msg, wire_bytes) = c.read_reply().await;
        assert_eq!(msg, Frame::Push(items(&message("ch", "hello")).to_vec()));
        assert_eq!(&wire_bytes[..], b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$5\r\nhello\r\n");
        // Publishing to itself: the message comes before the reply.
        fire(&mut c, &["PUBLISH", "ch", "self"]).await;
        assert_eq!(c.read_frame().await, Frame::Push(items(&message("ch", "self")).to_vec()));
        assert_eq!(c.read_frame().await, int(1));
        assert_eq!(c.send(&["PSUBSCRIBE", "c*"]).await, push_event("psubscribe", Some("c*"), 2));
        assert_eq!(c.send(&["SSUBSCRIBE", "s"]).await, push_event("ssubscribe", Some("s"), 1));
        assert_eq!(p.send(&["SPUBLISH", "s", "m"]).await, int(1));
        assert_eq!(c.read_frame().await, Frame::Push(bulks(&["smessage", "s", "m"]).items_vec()));
        assert_eq!(c.send(&["UNSUBSCRIBE"]).await, push_event("unsubscribe", Some("ch"), 1));
        assert_eq!(c.send(&["PUNSUBSCRIBE"]).await, push_event("punsubscribe", Some("c*"), 0));
        assert_eq!(c.send(&["SUNSUBSCRIBE"]).await, push_event("sunsubscribe", Some("s"), 0));
        let (none, wire_bytes) = c.send_raw_reply(&[b"UNSUBSCRIBE"]).await;
        assert_eq!(none, push_event("unsubscribe", None, 0));
        assert_eq!(&wire_bytes[..], b">3\r\n$11\r\nunsubscribe\r\n_\r\n:0\r\n");
        // HELLO 2 while subscribed: back to arrays and to subscribed-mode rules.
        assert_eq!(c.send(&["SUBSCRIBE", "ch"]).await, push_event("subscribe", Some("ch"), 1));
        assert!(matches!(c.send(&["HELLO", "2"]).await, Frame::Array(_)));
        assert_eq!(p.send(&["PUBLISH", "ch", "two"]).await, int(1));
        let (msg, wire_bytes) = c.read_reply().await;
        assert_eq!(msg, message("ch", "two"));
        assert_eq!(wire(&msg, RespVersion::Resp2), wire_bytes.to_vec());
        assert_eq!(c.send(&["GET", "k"]).await, refusal("get"));
        assert_eq!(c.send(&["PING"]).await, bulks(&["pong", ""]));
        quiet(&mut c).await;
    }

    async fn publish_counts_channel_and_pattern_receivers(server: &TestServer) {
        let mut a = server.raw().await;
        let mut b = server.raw().await;
        let mut c = resp3(server).await;
        let mut p = server.raw().await;
        assert_eq!(a.send(&["SUBSCRIBE", "news.tech"]).await, event("subscribe", Some("news.tech"), 1));
        fire(&mut a, &["PSUBSCRIBE", "news.*", "n*", "news.*"]).await;
        read_n(&mut a, 3).await;
        assert_eq!(b.send(&["PSUBSCRIBE", "news.*"]).await, event("psubscribe", Some("news.*"), 1));
        assert_eq!(c.send(&["PSUBSCRIBE", "news.[st]*"]).await, push_event("psubscribe", Some("news.[st]*"), 1));
        // a: channel + 2 patterns, b: 1 pattern, c: 1 pattern.
        assert_eq!(p.send(&["PUBLISH", "news.tech", "hi"]).await, int(5));
        assert_eq!(a.read_frame().await, message("news.tech", "hi"));
        let mut rest = read_n(&mut a, 2).await;
        rest.sort_by_key(|f| text(&items(f)[1]));
        assert_eq!(rest, vec![pmessage("n*", "news.tech", "hi"), pmessage("news.*", "news.tech", "hi")]);
        assert_eq!(b.read_frame().await, pmessage("news.*", "news.tech", "hi"));
        assert_eq!(
            c.read_frame().await,
            Frame::Push(items(&pmessage("news.[st]*", "news.tech", "hi")).to_vec())
        );
        // Only patterns match this one; matching is case-sensitive.
        assert_eq!(p.send(&["PUBLISH", "news.arts", "x"]).await, int(3));
        assert_eq!(p.send(&["PUBLISH", "NEWS.tech", "x"]).await, int(0));
        assert_eq!(p.send(&["PUBLISH", "nothing", "x"]).await, int(1));
        assert_eq!(p.send(&["PUBLISH", "other", "x"]).await, int(0));
        // Shard channels are a namespace of their own: no patterns, no plain channels.
        assert_eq!(p.send(&["SPUBLISH", "news.tech", "x"]).await, int(0));
        assert_eq!(p.send(&["PUBLISH", "ch"]).await, wrong_args("publish"));
        assert_eq!(p.send(&["SPUBLISH", "ch"]).await, wrong_args("spublish"));
        assert_eq!(b.read_frame().await, pmessage("news.*", "news.arts", "x"));
        let mut got = read_n(&mut a, 3).await;
        got.sort_by_key(|f| format!("{f:?}"));
        assert_eq!(
            got,
            vec![
                pmessage("n*", "news.arts", "x"),
                pmessage("n*", "nothing", "x"),
                pmessage("news.*", "news.arts", "x"),
            ]
        );
        quiet(&mut c).await;
        // Binary-safe payloads and channel names.
        assert_eq!(b.send(&["PUNSUBSCRIBE"]).await, event("punsubscribe", Some("news.*"), 0));
        let chan: &[u8] = b"bin\x00\r\nchan";
        let payload: &[u8] = b"\x00\xff\r\n*3\r\n";
        fire(&mut b, &["SUBSCRIBE", "placeholder"]).await;
        b.read_frame().await;
        assert_eq!(b.send_bin(&[b"SUBSCRIBE", chan]).await, arr(vec![bulk("subscribe"), bulk(chan), int(2)]));
        assert_eq!(p.send_bin(&[b"PUBLISH", chan, payload]).await, int(1));
        assert_eq!(b.read_frame().await, arr(vec![bulk("message"), bulk(chan), bulk(payload)]));
        quiet(&mut a).await;
        quiet(&mut b).await;
    }

    async fn shard_channels(server: &TestServer) {
        let mut s = server.raw().await;
        let mut p = server.raw().await;
        fire(&mut s, &["SSUBSCRIBE", "s", "s", "t"]).await;
        assert_eq!(
            read_n(&mut s, 3).await,
            vec![
                event("ssubscribe", Some("s"), 1),
                event("ssubscribe", Some("s"), 1),
                event("ssubscribe", Some("t"), 2),
            ]
        );
        assert_eq!(p.send(&["SPUBLISH", "s", "m"]).await, int(1));
        assert_eq!(s.read_frame().await, bulks(&["smessage", "s", "m"]));
        assert_eq!(p.send(&["PUBLISH", "s", "m"]).await, int(0));
        assert_eq!(sorted_texts(&p.send(&["PUBSUB", "SHARDCHANNELS"]).await), vec!["s", "t"]);
        assert_eq!(p.send(&["PUBSUB", "SHARDCHANNELS", "t*"]).await, bulks(&["t"]));
        assert_eq!(p.send(&["PUBSUB", "CHANNELS"]).await, arr(vec![]));
        assert_eq!(
            p.send(&["PUBSUB", "SHARDNUMSUB", "s", "x"]).await,
            arr(vec![bulk("s"), int(1), bulk("x"), int(0)])
        );
        assert_eq!(p.send(&["PUBSUB", "NUMSUB", "s"]).await, arr(vec![bulk("s"), int(0)]));
        assert_eq!(s.send(&["SUNSUBSCRIBE", "s"]).await, event("sunsubscribe", Some("s"), 1));
        assert_eq!(p.send(&["SPUBLISH", "s", "m"]).await, int(0));
        quiet(&mut s).await;
    }

    async fn pubsub_introspection(server: &TestServer) {
        let mut p = server.raw().await;
        assert_eq!(p.send(&["PUBSUB", "CHANNELS"]).await, arr(vec![]));
        assert_eq!(p.send(&["PUBSUB", "NUMPAT"]).await, int(0));
        assert_eq!(p.send(&["PUBSUB", "NUMSUB"]).await, arr(vec![]));
        let mut subs = Vec::new();
        for (i, channels) in [&["a", "b"][..], &["a"], &["a", "c"]].iter().enumerate() {
            let mut c = if i == 1 { resp3(server).await } else { server.raw().await };
            let mut args = vec!["SUBSCRIBE"];
            args.extend_from_slice(channels);
            fire(&mut c, &args).await;
            read_n(&mut c, channels.len()).await;
            fire(&mut c, &["PSUBSCRIBE", "a*", if i == 0 { "b*" } else { "a*" }]).await;
            read_n(&mut c, 2).await;
            subs.push(c);
        }
        assert_eq!(sorted_texts(&p.send(&["PUBSUB", "CHANNELS"]).await), vec!["a", "b", "c"]);
        assert_eq!(sorted_texts(&p.send(&["PUBSUB", "CHANNELS", "*"]).await), vec!["a", "b", "c"]);
        assert_eq!(sorted_texts(&p.send(&["PUBSUB", "CHANNELS", "[ab]"]).await), vec!["a", "b"]);
        assert_eq!(p.send(&["PUBSUB", "CHANNELS", "z*"]).await, arr(vec![]));
        assert_eq!(
            p.send(&["PUBSUB", "NUMSUB", "a", "b", "c", "d", "a"]).await,
            arr(vec![bulk("a"), int(3), bulk("b"), int(1), bulk("c"), int(1), bulk("d"), int(0), bulk("a"), int(3)])
        );
        // Distinct patterns, not subscriptions.
        assert_eq!(p.send(&["PUBSUB", "NUMPAT"]).await, int(2));
        assert_eq!(p.send(&["PUBSUB", "SHARDCHANNELS"]).await, arr(vec![]));
        assert_eq!(p.send(&["PUBSUB", "SHARDNUMSUB"]).await, arr(vec![]));
        // Errors.
        assert_eq!(p.send(&["PUBSUB"]).await, wrong_args("pubsub"));
        assert_eq!(
            p.send(&["PUBSUB", "CHANNELS", "a", "b"]).await,
            err("ERR unknown subcommand or wrong number of arguments for 'CHANNELS'. Try PUBSUB HELP.")
        );
        assert_eq!(
            p.send(&["PUBSUB", "shardchannels", "a", "b"]).await,
            err("ERR unknown subcommand or wrong number of arguments for 'shardchannels'. Try PUBSUB HELP.")
        );
        assert_eq!(p.send(&["PUBSUB", "NUMPAT", "x"]).await, wrong_args("pubsub|numpat"));
        assert_eq!(p.send(&["PUBSUB", "foo"]).await, err("ERR unknown subcommand 'foo'. Try PUBSUB HELP."));
        let help = p.send(&["PUBSUB", "HELP"]).await;
        assert_eq!(items(&help).len(), 14);
        assert_eq!(items(&help)[0], simple("PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"));
        assert_eq!(items(&help)[13], simple("    Prints this help."));
        // Channels and patterns go away with their last subscriber.
        drop(subs.remove(0));
        wait_numsub(&mut p, "b", 0).await;
        assert_eq!(sorted_texts(&p.send(&["PUBSUB", "CHANNELS"]).await), vec!["a", "c"]);
        assert_eq!(p.send(&["PUBSUB", "NUMPAT"]).await, int(1));
        wait_numsub(&mut p, "a", 2).await;
        drop(subs);
        wait_numsub(&mut p, "a", 0).await;
        assert_eq!(p.send(&["PUBSUB", "CHANNELS"]).await, arr(vec![]));
        assert_eq!(p.send(&["PUBSUB", "NUMPAT"]).await, int(0));
    }

    async fn client_list_shows_subscriptions(server: &TestServer) {
        let mut c = server.raw().await;
        let id = as_int(&c.send(&["CLIENT", "ID"]).await);
        fire(&mut c, &["SUBSCRIBE", "a", "b"]).await;
        read_n(&mut c, 2).await;
        assert_eq!(c.send(&["PSUBSCRIBE", "p"]).await, event("psubscribe", Some("p"), 3));
        assert_eq!(c.send(&["SSUBSCRIBE", "s"]).await, event("ssubscribe", Some("s"), 1));
        let mut admin = server.raw().await;
        let list = text(&admin.send(&["CLIENT", "LIST", "ID", &id.to_string()]).await);
        assert!(list.contains(" flags=P "), "{list}");
        assert!(list.contains(" sub=2 psub=1 ssub=1 "), "{list}");
        assert_eq!(c.send(&["RESET"]).await, simple("RESET"));
        let list = text(&admin.send(&["CLIENT", "LIST", "ID", &id.to_string()]).await);
        assert!(list.contains(" flags=N "), "{list}");
        assert!(list.contains(" sub=0 psub=0 ssub=0 "), "{list}");
    }

    async fn info_stats_and_client_type_pubsub(server: &TestServer) {
        let mut c = server.raw().await;
        let id = as_int(&c.send(&["CLIENT", "ID"]).await).to_string();
        fire(&mut c, &["SUBSCRIBE", "a", "b"]).await;
        read_n(&mut c, 2).await;
        assert_eq!(c.send(&["PSUBSCRIBE", "p*"]).await, event("psubscribe", Some("p*"), 3));
        assert_eq!(c.send(&["SSUBSCRIBE", "s"]).await, event("ssubscribe", Some("s"), 1));
        let mut admin = server.raw().await;
        let stats = admin.send(&["INFO", "stats"]).await;
        assert_eq!(info_field(&stats, "pubsub_channels"), Some(2));
        assert_eq!(info_field(&stats, "pubsub_patterns"), Some(1));
        assert_eq!(info_field(&stats, "pubsubshard_channels"), Some(1));
        let pubsub = text(&admin.send(&["CLIENT", "LIST", "TYPE", "pubsub"]).await);
        assert!(pubsub.contains(&format!("id={id} ")), "{pubsub}");
        assert_eq!(pubsub.lines().count(), 1, "{pubsub}");
        let normal = text(&admin.send(&["CLIENT", "LIST", "TYPE", "normal"]).await);
        assert!(!normal.contains(&format!("id={id} ")), "{normal}");
        assert_eq!(admin.send(&["CLIENT", "KILL", "TYPE", "pubsub"]).await, int(1));
        assert!(c.is_closed().await);
        let stats = admin.send(&["INFO", "stats"]).await;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let mut stats = stats;
        while info_field(&stats, "pubsub_channels") != Some(0) {
            assert!(std::time::Instant::now() < deadline, "channels never released");
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            stats = admin.send(&["INFO", "stats"]).await;
        }
    }

    async fn many_messages_arrive_in_publish_order(server: &TestServer) {
        const N: usize = 5000;
        let mut plain = server.raw().await;
        let mut pattern = server.raw().await;
        let mut pushes = resp3(server).await;
        assert_eq!(plain.send(&["SUBSCRIBE", "ordered"]).await, event("subscribe", Some("ordered"), 1));
        assert_eq!(pattern.send(&["PSUBSCRIBE", "ord*"]).await, event("psubscribe", Some("ord*"), 1));
        assert_eq!(pushes.send(&["SUBSCRIBE", "ordered"]).await, push_event("subscribe", Some("ordered"), 1));
        let readers = [plain, pattern, pushes].map(|mut c| {
            tokio::spawn(async move {
                let mut got = Vec::with_capacity(N);
                for _ in 0..N {
                    let frame = c.read_frame().await;
                    let last = items(&frame).last().expect("payload").clone();
                    got.push(text(&last));
                }
                quiet(&mut c).await;
                got
            })
        });
        // Pipelined in bursts, so many messages are in flight at once.
        let mut p = server.raw().await;
        for burst in 0..N / 100 {
            let mut bytes = Vec::new();
            for i in burst * 100..(burst + 1) * 100 {
                let payload = format!("m{i}");
                bytes.extend(request(&[b"PUBLISH", b"ordered", payload.as_bytes()]));
            }
            p.send_bytes(&bytes).await;
            for _ in 0..100 {
                assert_eq!(p.read_frame().await, int(3));
            }
        }
        let expected: Vec<String> = (0..N).map(|i| format!("m{i}")).collect();
        for reader in readers {
            assert_eq!(reader.await.expect("reader"), expected);
        }
    }

    async fn concurrent_publishers_give_every_subscriber_one_order(server: &TestServer) {
        const PUBLISHERS: usize = 4;
        const EACH: usize = 1000;
        let mut subscribers = Vec::new();
        for i in 0..3 {
            let mut c = if i == 2 { resp3(server).await } else { server.raw().await };
            let reply = c.send(&["SUBSCRIBE", "shared"]).await;
            assert_eq!(items(&reply)[2], int(1));
            subscribers.push(c);
        }
        let readers: Vec<_> = subscribers
            .into_iter()
            .map(|mut c| {
                tokio::spawn(async move {
                    let mut got = Vec::with_capacity(PUBLISHERS * EACH);
                    for _ in 0..PUBLISHERS * EACH {
                        let frame = c.read_frame().await;
                        got.push(text(&items(&frame)[2]));
                    }
                    got
                })
            })
            .collect();
        let mut publishers = Vec::new();
        for p in 0..PUBLISHERS {
            let mut c = server.raw().await;
            publishers.push(tokio::spawn(async move {
                for burst in 0..EACH / 50 {
                    let mut bytes = Vec::new();
                    for i in burst * 50..(burst + 1) * 50 {
                        let payload = format!("{p}:{i}");
                        bytes.extend(request(&[b"PUBLISH", b"shared", payload.as_bytes()]));
                    }
                    c.send_bytes(&bytes).await;
                    for _ in 0..50 {
                        assert_eq!(c.read_frame().await, int(3));
                    }
                }
            }));
        }
        for p in publishers {
            p.await.expect("publisher");
        }
        let mut orders = Vec::new();
        for reader in readers {
            orders.push(reader.await.expect("reader"));
        }
        // Each publisher's messages in its order...
        for p in 0..PUBLISHERS {
            let mine: Vec<&String> = orders[0]
                .iter()
                .filter(|m| m.starts_with(&format!("{p}:")))
                .collect();
            let expected: Vec<String> = (0..EACH).map(|i| format!("{p}:{i}")).collect();
            assert_eq!(mine, expected.iter().collect::<Vec<_>>());
        }
        // ...and the same interleaving for every subscriber of the channel.
        assert_eq!(orders[0], orders[1]);
        assert_eq!(orders[0], orders[2]);
    }

    async fn resp3_subscriber_receives_messages_while_blocked(server: &TestServer) {
        let mut c = resp3(server).await;
        assert_eq!(c.send(&["SUBSCRIBE", "ch"]).await, push_event("subscribe", Some("ch"), 1));
        fire(&mut c, &["BLPOP", "list", "0"]).await;
        let mut p = server.raw().await;
        // Wait until the BLPOP is parked.
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let info = p.send(&["INFO", "clients"]).await;
            if info_field(&info, "blocked_clients") == Some(1) {
                break;
            }
            assert!(Instant::now() < deadline, "BLPOP never blocked");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(p.send(&["PUBLISH", "ch", "while-blocked"]).await, int(1));
        assert_eq!(c.read_frame().await, Frame::Push(items(&message("ch", "while-blocked")).to_vec()));
        assert_eq!(p.send(&["RPUSH", "list", "x"]).await, int(1));
        assert_eq!(c.read_frame().await, bulks(&["list", "x"]));
    }

    async fn subscriber_that_stops_reading_is_disconnected_with_bounded_memory(server: &TestServer) {
        // Defaults: pubsub 32mb 8mb 60. About 1 GB is published in total.
        const PAYLOAD: usize = 1 << 20;
        const MESSAGES: usize = 1024;
        const PIPELINE: usize = 8;
        let mut admin = server.raw().await;
        let mut lazy = server.raw().await;
        assert_eq!(lazy.send(&["SUBSCRIBE", "firehose"]).await, event("subscribe", Some("firehose"), 1));
        // A reader alongside, which keeps up and stays connected.
        let mut reader = server.raw().await;
        assert_eq!(reader.send(&["SUBSCRIBE", "trickle"]).await, event("subscribe", Some("trickle"), 1));
        let baseline = server_rss(&mut admin).await;
        let payload = vec![b'x'; PAYLOAD];
        let one = request(&[b"PUBLISH", b"firehose", &payload]);
        let burst: Vec<u8> = one.iter().copied().cycle().take(one.len() * PIPELINE).collect();
        let mut p = server.raw().await;
        let mut peak = baseline;
        let mut receivers = Vec::with_capacity(MESSAGES);
        for _ in 0..MESSAGES / PIPELINE {
            p.send_bytes(&burst).await;
            for _ in 0..PIPELINE {
                receivers.push(as_int(&p.read_frame().await));
            }
            peak = peak.max(server_rss(&mut admin).await);
        }
        // Every message reached the subscriber until it was closed, none after.
        let delivered = receivers.iter().take_while(|&&n| n == 1).count();
        assert!(delivered < 64, "the subscriber was never closed: {delivered} deliveries");
        assert!(receivers[delivered..].iter().all(|&n| n == 0), "{receivers:?}");
        assert!(lazy.is_closed().await);
        wait_numsub(&mut admin, "firehose", 0).await;
        let growth = peak.saturating_sub(baseline);
        assert!(
            growth < 320 << 20,
            "resident memory grew by {} MB while 1 GB was published",
            growth >> 20
        );
        // The server and the other subscriber are fine.
        assert_eq!(p.send(&["PUBLISH", "trickle", "still here"]).await, int(1));
        assert_eq!(reader.read_frame().await, message("trickle", "still here"));
    }

    async fn soft_limit_disconnects_after_its_seconds(server: &TestServer) {
        let mut admin = server.raw().await;
        assert_eq!(
            admin.send(&["CONFIG", "SET", "client-output-buffer-limit", "pubsub 0 1mb 1"]).await,
            ok()
        );
        let mut lazy = server.raw().await;
        assert_eq!(lazy.send(&["SUBSCRIBE", "c"]).await, event("subscribe", Some("c"), 1));
        let payload = vec![b'y'; 1 << 20];
        let mut p = server.raw().await;
        // Enough to fill the socket buffers and go over the soft limit.
        for _ in 0..32 {
            assert_eq!(p.send_bin(&[b"PUBLISH", b"c", &payload]).await, int(1));
        }
        // Over the soft limit for less than its seconds: still connected.
        assert_eq!(p.send(&["PUBSUB", "NUMSUB", "c"]).await, arr(vec![bulk("c"), int(1)]));
        // Closed once it has stayed over for longer than 1 s, without a further
        // message (the server's cron checks the clients over their soft limit).
        wait_numsub(&mut admin, "c", 0).await;
        assert!(lazy.is_closed().await);
    }

    async fn normal_client_output_limit(server: &TestServer) {
        let mut c = server.raw().await;
        let big = vec![b'z'; 3 << 20];
        assert_eq!(c.send_bin(&[b"SET", b"big", &big]).await, ok());
        assert_eq!(c.send(&["GET", "big"]).await, bulk(&big));
        assert_eq!(
            c.send(&["CONFIG", "SET", "client-output-buffer-limit", "normal 1mb 0 0"]).await,
            ok()
        );
        // Applied within a second (the server caches the limits).
        tokio::time::sleep(Duration::from_millis(1100)).await;
        assert_eq!(c.send(&["STRLEN", "big"]).await, int(3 << 20));
        fire(&mut c, &["GET", "big"]).await;
        assert!(c.is_closed().await);
        let mut d = server.raw().await;
        assert_eq!(d.send(&["PING"]).await, simple("PONG"));
    }
}

/// `Frame::items` as an owned vector, for building push frames.
trait ItemsVec {
    fn items_vec(&self) -> Vec<Frame>;
}

impl ItemsVec for Frame {
    fn items_vec(&self) -> Vec<Frame> {
        items(self).to_vec()
    }
}
