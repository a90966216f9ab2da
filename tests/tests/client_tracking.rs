//! Client-side caching end to end: CLIENT TRACKING (default mode, REDIRECT, BCAST,
//! PREFIX, OPTIN, OPTOUT, NOLOOP), CLIENT CACHING, CLIENT GETREDIR, CLIENT
//! TRACKINGINFO, with several concurrent clients: invalidations on writes from any
//! client, on lazy and active expiry, on FLUSHDB/FLUSHALL, RESP3 pushes and RESP2
//! redirection to `__redis__:invalidate`, and the INFO counters.
//!
//! Every expected reply was checked against redis-server 7.0
//! (`FERROKV_TESTS_TARGET=redis cargo test -p ferrokv-tests --test client_tracking`).
//! Ordering is asserted, never timing: a write's invalidation is queued before the
//! writer's reply, so once the writer has its reply, a PING on the tracking
//! connection returns after the invalidation.

use std::time::Duration;

use ferrokv_tests::*;

/// Sends a command without reading its reply.
async fn fire(c: &mut RawClient, args: &[&str]) {
    let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    c.send_bytes(&request(&args)).await;
}

/// Reads frames up to the next one that is not a push, collecting the pushes.
async fn reply_and_pushes(c: &mut RawClient) -> (Frame, Vec<Frame>) {
    let mut pushes = Vec::new();
    loop {
        match c.read_frame().await {
            Frame::Push(items) => pushes.push(Frame::Push(items)),
            reply => return (reply, pushes),
        }
    }
}

/// Sends a command and returns its reply and the pushes that came before it.
async fn send_seeing(c: &mut RawClient, args: &[&str]) -> (Frame, Vec<Frame>) {
    fire(c, args).await;
    reply_and_pushes(c).await
}

/// The pushes received up to a PING's reply: everything queued for the client before.
async fn pushes_so_far(c: &mut RawClient) -> Vec<Frame> {
    let (pong, pushes) = send_seeing(c, &["PING"]).await;
    assert_eq!(pong, simple("PONG"));
    pushes
}

/// `>2 invalidate [keys]`.
fn invalidate(keys: &[&str]) -> Frame {
    Frame::Push(vec![bulk("invalidate"), bulks(keys)])
}

/// `>2 invalidate _` (a flush).
fn invalidate_all() -> Frame {
    Frame::Push(vec![bulk("invalidate"), nil()])
}

/// The RESP2 message a redirect target subscribed to `__redis__:invalidate` gets.
fn invalidate_message(keys: Option<&[&str]>) -> Frame {
    arr(vec![
        bulk("message"),
        bulk("__redis__:invalidate"),
        keys.map_or(nil(), bulks),
    ])
}

/// A client switched to RESP3.
async fn resp3(server: &TestServer) -> RawClient {
    let mut c = server.raw().await;
    assert!(matches!(c.send(&["HELLO", "3"]).await, Frame::Map(_)));
    c
}

/// A RESP3 client with tracking on (extra `CLIENT TRACKING on` options).
async fn tracker(server: &TestServer, options: &[&str]) -> RawClient {
    let mut c = resp3(server).await;
    let mut args = vec!["CLIENT", "TRACKING", "on"];
    args.extend_from_slice(options);
    assert_eq!(c.send(&args).await, ok());
    c
}

async fn client_id(c: &mut RawClient) -> i64 {
    as_int(&c.send(&["CLIENT", "ID"]).await)
}

/// An INFO field as a number.
async fn info_number(c: &mut RawClient, section: &str, field: &str) -> i64 {
    let info = text(&c.send(&["INFO", section]).await);
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or_else(|| panic!("no {field} in INFO {section}"))
        .trim()
        .parse()
        .expect("a number")
}

/// The `flags=` field of a client's CLIENT INFO line.
async fn my_flags(c: &mut RawClient) -> String {
    let line = text(&c.send(&["CLIENT", "INFO"]).await);
    line.split_whitespace()
        .find_map(|f| f.strip_prefix("flags="))
        .expect("flags=")
        .to_string()
}

ferrokv_tests::backend_tests! {
    async fn option_errors(server: &TestServer) {
        let mut c = server.raw().await;
        let mut other = server.raw().await;
        let other_id = client_id(&mut other).await.to_string();
        let cases: Vec<(Vec<&str>, Frame)> = vec![
            (vec!["CLIENT", "TRACKING"], wrong_args("client|tracking")),
            (vec!["CLIENT", "TRACKING", "maybe"], syntax_error()),
            (vec!["CLIENT", "TRACKING", "maybe", "optin"], syntax_error()),
            (vec!["CLIENT", "TRACKING", "on", "foo"], syntax_error()),
            (vec!["CLIENT", "TRACKING", "on", "redirect"], syntax_error()),
            (vec!["CLIENT", "TRACKING", "on", "prefix"], syntax_error()),
            (vec!["CLIENT", "TRACKING", "on", "redirect", "x"], not_integer()),
            (
                vec!["CLIENT", "TRACKING", "on", "redirect", "999999"],
                err("ERR The client ID you want redirect to does not exist"),
            ),
            (
                vec!["CLIENT", "TRACKING", "on", "redirect", "0"],
                err("ERR The client ID you want redirect to does not exist"),
            ),
            (
                vec!["CLIENT", "TRACKING", "on", "redirect", &other_id, "redirect", &other_id],
                err("ERR A client can only redirect to a single other client"),
            ),
            (
                vec!["CLIENT", "TRACKING", "on", "optin", "optout"],
                err("ERR You can't specify both OPTIN mode and OPTOUT mode"),
            ),
            (
                vec!["CLIENT", "TRACKING", "on", "bcast", "optin"],
                err("ERR OPTIN and OPTOUT are not compatible with BCAST"),
            ),
            (
                vec!["CLIENT", "TRACKING", "on", "prefix", "a"],
                err("ERR PREFIX option requires BCAST mode to be enabled"),
            ),
            (
                vec!["CLIENT", "TRACKING", "on", "bcast", "prefix", "ab", "prefix", "a"],
                err("ERR Prefix 'ab' overlaps with another provided prefix 'a'. Prefixes for a single client must not overlap."),
            ),
            (
                vec!["CLIENT", "TRACKING", "on", "bcast", "prefix", "a", "prefix", "b", "prefix", "a"],
                err("ERR Prefix 'a' overlaps with another provided prefix 'a'. Prefixes for a single client must not overlap."),
            ),
            (
                vec!["CLIENT", "CACHING", "yes"],
                err("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled"),
            ),
            (
                vec!["CLIENT", "CACHING", "maybe"],
                err("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled"),
            ),
            (vec!["CLIENT", "CACHING"], wrong_args("client|caching")),
            (vec!["CLIENT", "GETREDIR", "x"], wrong_args("client|getredir")),
            (vec!["CLIENT", "TRACKINGINFO", "x"], wrong_args("client|trackinginfo")),
            // Options are parsed even to turn tracking off.
            (vec!["CLIENT", "TRACKING", "off", "optin", "optout"], ok()),
        ];
        for (args, reply) in cases {
            assert_eq!(c.send(&args).await, reply, "{args:?}");
        }
        assert_eq!(c.send(&["CLIENT", "TRACKING", "on", "optin"]).await, ok());
        assert_eq!(
            c.send(&["CLIENT", "CACHING", "no"]).await,
            err("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.")
        );
        assert_eq!(c.send(&["CLIENT", "CACHING", "maybe"]).await, syntax_error());
        assert_eq!(
            c.send(&["CLIENT", "TRACKING", "on", "optout"]).await,
            err("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.")
        );
        assert_eq!(
            c.send(&["CLIENT", "TRACKING", "on", "bcast"]).await,
            err("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.")
        );
        assert_eq!(c.send(&["CLIENT", "TRACKING", "off"]).await, ok());
        assert_eq!(c.send(&["CLIENT", "TRACKING", "on", "optout"]).await, ok());
        assert_eq!(
            c.send(&["CLIENT", "CACHING", "yes"]).await,
            err("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.")
        );
        assert_eq!(c.send(&["CLIENT", "TRACKING", "off"]).await, ok());
        assert_eq!(c.send(&["CLIENT", "TRACKING", "on", "bcast", "prefix", "a", "prefix", "b"]).await, ok());
        assert_eq!(
            c.send(&["CLIENT", "TRACKING", "on", "bcast", "prefix", "ab"]).await,
            err("ERR Prefix 'ab' overlaps with an existing prefix 'a'. Prefixes for a single client must not overlap.")
        );
        assert_eq!(
            c.send(&["CLIENT", "TRACKING", "on"]).await,
            err("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.")
        );
        assert_eq!(
            c.send(&["CLIENT", "TRACKING", "on", "bcast", "optout"]).await,
            err("ERR OPTIN and OPTOUT are not compatible with BCAST")
        );
    }

    async fn trackinginfo_getredir_and_client_list(server: &TestServer) {
        let mut c = server.raw().await;
        let mut target = server.raw().await;
        let target_id = client_id(&mut target).await;
        let info = |flags: &[&str], redirect: i64, prefixes: &[&str]| {
            arr(vec![
                bulk("flags"),
                bulks(flags),
                bulk("redirect"),
                int(redirect),
                bulk("prefixes"),
                bulks(prefixes),
            ])
        };
        assert_eq!(c.send(&["CLIENT", "TRACKINGINFO"]).await, info(&["off"], -1, &[]));
        assert_eq!(c.send(&["CLIENT", "GETREDIR"]).await, int(-1));
        assert_eq!(my_flags(&mut c).await, "N");
        assert_eq!(c.send(&["CLIENT", "TRACKING", "on", "optin"]).await, ok());
        assert_eq!(c.send(&["CLIENT", "GETREDIR"]).await, int(0));
        assert_eq!(c.send(&["CLIENT", "CACHING", "yes"]).await, ok());
        // CLIENT CACHING lasts for the next command, CLIENT subcommands excepted.
        assert_eq!(
            c.send(&["CLIENT", "TRACKINGINFO"]).await,
            info(&["on", "optin", "caching-yes"], 0, &[])
        );
        let tid = target_id.to_string();
        assert_eq!(
            c.send(&["CLIENT", "TRACKING", "on", "optin", "noloop", "redirect", &tid]).await,
            ok()
        );
        assert_eq!(
            c.send(&["CLIENT", "TRACKINGINFO"]).await,
            info(&["on", "optin", "caching-yes", "noloop"], target_id, &[])
        );
        assert_eq!(c.send(&["PING"]).await, simple("PONG"));
        assert_eq!(
            c.send(&["CLIENT", "TRACKINGINFO"]).await,
            info(&["on", "optin", "noloop"], target_id, &[])
        );
        assert_eq!(c.send(&["CLIENT", "GETREDIR"]).await, int(target_id));
        let line = text(&c.send(&["CLIENT", "INFO"]).await);
        assert!(line.contains(" flags=t "), "{line}");
        assert!(line.contains(&format!(" redir={target_id} ")), "{line}");
        assert_eq!(c.send(&["CLIENT", "TRACKING", "off"]).await, ok());
        assert_eq!(c.send(&["CLIENT", "TRACKINGINFO"]).await, info(&["off"], -1, &[]));
        assert_eq!(c.send(&["CLIENT", "TRACKING", "on", "bcast", "prefix", "b", "prefix", "a"]).await, ok());
        assert_eq!(c.send(&["CLIENT", "TRACKING", "on", "bcast", "prefix", "c"]).await, ok());
        assert_eq!(
            c.send(&["CLIENT", "TRACKINGINFO"]).await,
            info(&["on", "bcast"], 0, &["a", "b", "c"])
        );
        assert_eq!(my_flags(&mut c).await, "tB");
        // RESP3: a map with a set of flags.
        assert!(matches!(c.send(&["HELLO", "3"]).await, Frame::Map(_)));
        assert_eq!(
            c.send(&["CLIENT", "TRACKINGINFO"]).await,
            Frame::Map(vec![
                (bulk("flags"), Frame::Set(vec![bulk("on"), bulk("bcast")])),
                (bulk("redirect"), int(0)),
                (bulk("prefixes"), bulks(&["a", "b", "c"])),
            ])
        );
    }

    async fn info_counters(server: &TestServer) {
        let mut admin = server.raw().await;
        assert_eq!(info_number(&mut admin, "clients", "tracking_clients").await, 0);
        let mut a = tracker(server, &[]).await;
        let mut b = tracker(server, &[]).await;
        let mut bc = tracker(server, &["bcast", "prefix", "x", "prefix", "y"]).await;
        assert_eq!(info_number(&mut admin, "clients", "tracking_clients").await, 3);
        a.send(&["MGET", "k1", "k2"]).await;
        b.send(&["GET", "k1"]).await;
        assert_eq!(info_number(&mut admin, "stats", "tracking_total_keys").await, 2);
        assert_eq!(info_number(&mut admin, "stats", "tracking_total_items").await, 3);
        assert_eq!(info_number(&mut admin, "stats", "tracking_total_prefixes").await, 2);
        assert_eq!(admin.send(&["SET", "k1", "v"]).await, ok());
        assert_eq!(info_number(&mut admin, "stats", "tracking_total_keys").await, 1);
        assert_eq!(info_number(&mut admin, "stats", "tracking_total_items").await, 1);
        assert_eq!(bc.send(&["CLIENT", "TRACKING", "off"]).await, ok());
        assert_eq!(info_number(&mut admin, "stats", "tracking_total_prefixes").await, 0);
        let (reset, pushes) = send_seeing(&mut b, &["RESET"]).await;
        assert_eq!((reset, pushes), (simple("RESET"), vec![invalidate(&["k1"])]));
        assert_eq!(info_number(&mut admin, "clients", "tracking_clients").await, 1);
        drop(a);
        let gone = eventually(Duration::from_secs(5), || async {
            let mut probe = server.raw().await;
            info_number(&mut probe, "clients", "tracking_clients").await == 0
        })
        .await;
        assert!(gone, "a closed connection no longer tracks");
    }

    async fn invalidation_on_writes_from_any_client(server: &TestServer) {
        let mut a = tracker(server, &[]).await;
        let mut w = server.raw().await;
        // Only keys read are tracked: a write alone does not.
        assert_eq!(a.send(&["SET", "written", "1"]).await, ok());
        assert_eq!(w.send(&["SET", "written", "2"]).await, ok());
        assert_eq!(a.send(&["GET", "k"]).await, nil());
        assert_eq!(a.send(&["HGET", "h", "f"]).await, nil());
        assert_eq!(a.send(&["MGET", "m1", "m2"]).await, arr(vec![nil(), nil()]));
        assert_eq!(a.send(&["EXISTS", "e"]).await, int(0));
        assert_eq!(pushes_so_far(&mut a).await, vec![]);
        // Deleting a missing key changes nothing.
        assert_eq!(w.send(&["DEL", "k"]).await, int(0));
        assert_eq!(w.send(&["SET", "k", "1"]).await, ok());
        assert_eq!(w.send(&["HSET", "h", "f", "v"]).await, int(1));
        assert_eq!(w.send(&["MSET", "m2", "x", "m1", "y"]).await, ok());
        assert_eq!(w.send(&["SET", "e", "1"]).await, ok());
        assert_eq!(
            pushes_so_far(&mut a).await,
            vec![
                invalidate(&["k"]),
                invalidate(&["h"]),
                invalidate(&["m2"]),
                invalidate(&["m1"]),
                invalidate(&["e"]),
            ]
        );
        // Once invalidated, a key is forgotten until it is read again.
        assert_eq!(w.send(&["SET", "k", "2"]).await, ok());
        assert_eq!(pushes_so_far(&mut a).await, vec![]);
        assert_eq!(a.send(&["GET", "k"]).await, bulk("2"));
        // Keys are tracked by name, whatever the database.
        assert_eq!(w.send(&["SELECT", "1"]).await, ok());
        assert_eq!(w.send(&["SET", "k", "other db"]).await, ok());
        assert_eq!(pushes_so_far(&mut a).await, vec![invalidate(&["k"])]);
        // Several tracking clients, each told once.
        let mut b = tracker(server, &[]).await;
        assert_eq!(a.send(&["GET", "shared"]).await, nil());
        assert_eq!(b.send(&["GET", "shared"]).await, nil());
        assert_eq!(w.send(&["SELECT", "0"]).await, ok());
        assert_eq!(w.send(&["RPUSH", "shared", "x"]).await, int(1));
        assert_eq!(pushes_so_far(&mut a).await, vec![invalidate(&["shared"])]);
        assert_eq!(pushes_so_far(&mut b).await, vec![invalidate(&["shared"])]);
        // Tracking off: no more messages, even for keys read before.
        assert_eq!(a.send(&["GET", "late"]).await, nil());
        assert_eq!(a.send(&["CLIENT", "TRACKING", "off"]).await, ok());
        assert_eq!(w.send(&["SET", "late", "1"]).await, ok());
        assert_eq!(pushes_so_far(&mut a).await, vec![]);
    }

    async fn own_writes_invalidate_after_the_reply_unless_noloop(server: &TestServer) {
        let mut a = tracker(server, &[]).await;
        assert_eq!(a.send(&["GET", "k"]).await, nil());
        fire(&mut a, &["SET", "k", "1"]).await;
        assert_eq!(a.read_frame().await, ok());
        assert_eq!(a.read_frame().await, invalidate(&["k"]));
        assert_eq!(a.send(&["GET", "k"]).await, bulk("1"));
        assert_eq!(a.send(&["MGET", "j"]).await, arr(vec![nil()]));
        fire(&mut a, &["MSET", "k", "2", "j", "3"]).await;
        assert_eq!(a.read_frame().await, ok());
        assert_eq!(a.read_frame().await, invalidate(&["k"]));
        assert_eq!(a.read_frame().await, invalidate(&["j"]));
        // Inside a transaction, after EXEC's reply.
        assert_eq!(a.send(&["GET", "k"]).await, bulk("2"));
        assert_eq!(a.send(&["MULTI"]).await, ok());
        assert_eq!(a.send(&["INCR", "k"]).await, simple("QUEUED"));
        assert_eq!(a.send(&["GET", "k"]).await, simple("QUEUED"));
        fire(&mut a, &["EXEC"]).await;
        assert_eq!(a.read_frame().await, arr(vec![int(3), bulk("3")]));
        assert_eq!(a.read_frame().await, invalidate(&["k"]));
        assert_eq!(pushes_so_far(&mut a).await, vec![]);
        // NOLOOP: nothing for the client's own writes, still for others'.
        let mut n = tracker(server, &["noloop"]).await;
        let mut w = server.raw().await;
        assert_eq!(n.send(&["GET", "mine"]).await, nil());
        assert_eq!(n.send(&["SET", "mine", "1"]).await, ok());
        assert_eq!(pushes_so_far(&mut n).await, vec![]);
        assert_eq!(n.send(&["GET", "mine"]).await, bulk("1"));
        assert_eq!(w.send(&["SET", "mine", "2"]).await, ok());
        assert_eq!(pushes_so_far(&mut n).await, vec![invalidate(&["mine"])]);
    }

    async fn invalidation_on_expiry(server: &TestServer) {
        let mut a = tracker(server, &[]).await;
        let mut w = server.raw().await;
        // Found expired by another client's read (or removed by the active cycle
        // first): one invalidation either way. (Skipped if the key expired before
        // the tracking client could read it.)
        assert_eq!(w.send(&["SET", "lazy", "v", "PX", "100"]).await, ok());
        if a.send(&["GET", "lazy"]).await == bulk("v") {
            tokio::time::sleep(Duration::from_millis(150)).await;
            assert_eq!(w.send(&["GET", "lazy"]).await, nil());
            assert_eq!(pushes_so_far(&mut a).await, vec![invalidate(&["lazy"])]);
        }
        // Removed by the active expiry cycle, nobody touching it.
        assert_eq!(w.send(&["SET", "active", "v", "PX", "100"]).await, ok());
        if a.send(&["GET", "active"]).await == bulk("v") {
            let mut tries = 0;
            while w.send(&["DBSIZE"]).await != int(0) {
                tries += 1;
                assert!(tries < 250, "the active cycle removes the key");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            assert_eq!(pushes_so_far(&mut a).await, vec![invalidate(&["active"])]);
        }
        // EXPIRE into the past deletes the key: a modification.
        assert_eq!(w.send(&["SET", "past", "v"]).await, ok());
        assert_eq!(a.send(&["GET", "past"]).await, bulk("v"));
        assert_eq!(w.send(&["PEXPIREAT", "past", "1"]).await, int(1));
        assert_eq!(pushes_so_far(&mut a).await, vec![invalidate(&["past"])]);
    }

    async fn flush_sends_a_null_invalidation(server: &TestServer) {
        let mut a = tracker(server, &[]).await;
        let mut b = tracker(server, &["bcast"]).await;
        let mut w = server.raw().await;
        assert_eq!(a.send(&["GET", "k"]).await, nil());
        // Every tracking client gets it, whether it read anything or not.
        assert_eq!(w.send(&["FLUSHDB"]).await, ok());
        assert_eq!(pushes_so_far(&mut a).await, vec![invalidate_all()]);
        assert_eq!(pushes_so_far(&mut b).await, vec![invalidate_all()]);
        // The table was emptied: a later write of k sends nothing to a.
        assert_eq!(w.send(&["SET", "k", "1"]).await, ok());
        assert_eq!(pushes_so_far(&mut a).await, vec![]);
        assert_eq!(pushes_so_far(&mut b).await, vec![invalidate(&["k"])]);
        assert_eq!(w.send(&["FLUSHALL"]).await, ok());
        assert_eq!(pushes_so_far(&mut a).await, vec![invalidate_all()]);
        // The flushing client's own message follows its reply.
        fire(&mut a, &["FLUSHALL"]).await;
        assert_eq!(a.read_frame().await, ok());
        assert_eq!(a.read_frame().await, invalidate_all());
        assert_eq!(pushes_so_far(&mut b).await, vec![invalidate_all(), invalidate_all()]);
    }

    async fn resp2_redirect_to_invalidate_channel(server: &TestServer) {
        let mut sub = server.raw().await;
        let sub_id = client_id(&mut sub).await.to_string();
        assert_eq!(
            sub.send(&["SUBSCRIBE", "__redis__:invalidate"]).await,
            arr(vec![bulk("subscribe"), bulk("__redis__:invalidate"), int(1)])
        );
        let mut a = server.raw().await;
        let mut w = server.raw().await;
        assert_eq!(a.send(&["CLIENT", "TRACKING", "on", "redirect", &sub_id]).await, ok());
        assert_eq!(a.send(&["GET", "x"]).await, nil());
        assert_eq!(a.send(&["GET", "y"]).await, nil());
        assert_eq!(w.send(&["MSET", "x", "1", "y", "2"]).await, ok());
        assert_eq!(sub.read_frame().await, invalidate_message(Some(&["x"])));
        assert_eq!(sub.read_frame().await, invalidate_message(Some(&["y"])));
        // The tracking client itself, in RESP2, gets nothing.
        assert_eq!(a.send(&["PING"]).await, simple("PONG"));
        assert_eq!(w.send(&["FLUSHDB"]).await, ok());
        assert_eq!(sub.read_frame().await, invalidate_message(None));
        // BCAST with prefixes through the same redirect.
        assert_eq!(a.send(&["CLIENT", "TRACKING", "off"]).await, ok());
        assert_eq!(
            a.send(&["CLIENT", "TRACKING", "on", "bcast", "prefix", "u", "prefix", "v", "redirect", &sub_id]).await,
            ok()
        );
        assert_eq!(w.send(&["MSET", "v2", "1", "u1", "2", "v1", "3", "w", "4"]).await, ok());
        assert_eq!(sub.read_frame().await, invalidate_message(Some(&["u1"])));
        assert_eq!(sub.read_frame().await, invalidate_message(Some(&["v1", "v2"])));
        // The target goes away: the redirect is broken.
        assert_eq!(sub.send(&["QUIT"]).await, ok());
        assert!(sub.is_closed().await);
        let mut tries = 0;
        loop {
            assert_eq!(w.send(&["SET", "u3", "1"]).await, ok());
            if my_flags(&mut a).await == "tRB" {
                break;
            }
            tries += 1;
            assert!(tries < 250, "the broken redirect shows in CLIENT LIST");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(
            a.send(&["CLIENT", "TRACKINGINFO"]).await,
            arr(vec![
                bulk("flags"),
                bulks(&["on", "bcast", "broken_redirect"]),
                bulk("redirect"),
                int(sub_id.parse().unwrap()),
                bulk("prefixes"),
                bulks(&["u", "v"]),
            ])
        );
        // In RESP3 the client is told, each time a message could not be sent.
        assert!(matches!(a.send(&["HELLO", "3"]).await, Frame::Map(_)));
        fire(&mut a, &["SET", "u3", "2"]).await;
        assert_eq!(a.read_frame().await, ok());
        let broken = Frame::Push(vec![
            bulk("tracking-redir-broken"),
            int(sub_id.parse().unwrap()),
        ]);
        assert_eq!(a.read_frame().await, broken);
    }

    async fn resp3_redirect_target(server: &TestServer) {
        // A RESP3 redirect target gets pushes, subscribed or not.
        let mut target = resp3(server).await;
        let target_id = client_id(&mut target).await.to_string();
        let mut a = server.raw().await;
        let mut w = server.raw().await;
        assert_eq!(a.send(&["CLIENT", "TRACKING", "on", "redirect", &target_id]).await, ok());
        assert_eq!(a.send(&["GET", "k"]).await, nil());
        assert_eq!(w.send(&["SET", "k", "1"]).await, ok());
        assert_eq!(target.read_frame().await, invalidate(&["k"]));
        // A RESP2 target without subscriptions gets nothing.
        let mut plain = server.raw().await;
        let plain_id = client_id(&mut plain).await.to_string();
        assert_eq!(a.send(&["CLIENT", "TRACKING", "on", "redirect", &plain_id]).await, ok());
        assert_eq!(a.send(&["GET", "k"]).await, bulk("1"));
        assert_eq!(w.send(&["SET", "k", "2"]).await, ok());
        assert_eq!(plain.send(&["PING"]).await, simple("PONG"));
        assert_eq!(pushes_so_far(&mut target).await, vec![]);
    }

    async fn bcast_prefixes_and_noloop(server: &TestServer) {
        let mut a = tracker(server, &["bcast", "prefix", "user:", "prefix", "cart:"]).await;
        let mut all = tracker(server, &["bcast"]).await;
        let mut w = server.raw().await;
        assert_eq!(w.send(&["MSET", "user:2", "a", "cart:9", "b", "user:1", "c", "other", "d"]).await, ok());
        // One message per prefix, in prefix order, keys sorted.
        assert_eq!(
            pushes_so_far(&mut a).await,
            vec![invalidate(&["cart:9"]), invalidate(&["user:1", "user:2"])]
        );
        assert_eq!(
            pushes_so_far(&mut all).await,
            vec![invalidate(&["cart:9", "other", "user:1", "user:2"])]
        );
        // No read needed, and every modification is sent again.
        assert_eq!(w.send(&["DEL", "user:1"]).await, int(1));
        assert_eq!(w.send(&["SET", "nothing", "x"]).await, ok());
        assert_eq!(pushes_so_far(&mut a).await, vec![invalidate(&["user:1"])]);
        assert_eq!(
            pushes_so_far(&mut all).await,
            vec![invalidate(&["user:1"]), invalidate(&["nothing"])]
        );
        // Own writes arrive after the reply; NOLOOP leaves them out.
        fire(&mut a, &["SET", "user:3", "x"]).await;
        assert_eq!(a.read_frame().await, ok());
        assert_eq!(a.read_frame().await, invalidate(&["user:3"]));
        let mut quiet = tracker(server, &["bcast", "noloop"]).await;
        assert_eq!(quiet.send(&["SET", "mine", "1"]).await, ok());
        assert_eq!(w.send(&["SET", "theirs", "1"]).await, ok());
        assert_eq!(pushes_so_far(&mut quiet).await, vec![invalidate(&["theirs"])]);
        // Reads are not remembered in BCAST mode.
        assert_eq!(a.send(&["GET", "x"]).await, nil());
        assert_eq!(w.send(&["SET", "x", "1"]).await, ok());
        assert_eq!(pushes_so_far(&mut a).await, vec![]);
        // Expiry is broadcast too.
        assert_eq!(w.send(&["SET", "user:t", "v", "PX", "20"]).await, ok());
        assert_eq!(pushes_so_far(&mut a).await, vec![invalidate(&["user:t"])]);
        tokio::time::sleep(Duration::from_millis(40)).await;
        assert_eq!(w.send(&["GET", "user:t"]).await, nil());
        assert_eq!(pushes_so_far(&mut a).await, vec![invalidate(&["user:t"])]);
    }

    async fn optin_and_optout(server: &TestServer) {
        let mut w = server.raw().await;
        let mut i = tracker(server, &["optin"]).await;
        assert_eq!(i.send(&["GET", "plain"]).await, nil());
        assert_eq!(i.send(&["CLIENT", "CACHING", "yes"]).await, ok());
        assert_eq!(i.send(&["GET", "cached"]).await, nil());
        // CACHING applies to one command only.
        assert_eq!(i.send(&["GET", "after"]).await, nil());
        // ... or to a whole transaction.
        assert_eq!(i.send(&["CLIENT", "CACHING", "yes"]).await, ok());
        assert_eq!(i.send(&["MULTI"]).await, ok());
        assert_eq!(i.send(&["GET", "tx1"]).await, simple("QUEUED"));
        assert_eq!(i.send(&["GET", "tx2"]).await, simple("QUEUED"));
        assert_eq!(i.send(&["EXEC"]).await, arr(vec![nil(), nil()]));
        assert_eq!(w.send(&["MSET", "plain", "1", "cached", "1", "after", "1", "tx1", "1", "tx2", "1"]).await, ok());
        assert_eq!(
            pushes_so_far(&mut i).await,
            vec![invalidate(&["cached"]), invalidate(&["tx1"]), invalidate(&["tx2"])]
        );
        let mut o = tracker(server, &["optout"]).await;
        assert_eq!(o.send(&["CLIENT", "CACHING", "no"]).await, ok());
        assert_eq!(o.send(&["GET", "skipped"]).await, nil());
        assert_eq!(o.send(&["GET", "kept"]).await, nil());
        assert_eq!(w.send(&["MSET", "skipped", "1", "kept", "1"]).await, ok());
        assert_eq!(pushes_so_far(&mut o).await, vec![invalidate(&["kept"])]);
    }

    async fn reset_turns_tracking_off(server: &TestServer) {
        let mut a = tracker(server, &["bcast"]).await;
        let mut w = server.raw().await;
        assert_eq!(a.send(&["RESET"]).await, simple("RESET"));
        assert_eq!(w.send(&["SET", "k", "1"]).await, ok());
        assert_eq!(a.send(&["PING"]).await, simple("PONG"));
        assert_eq!(a.try_read_frame(Duration::from_millis(50)).await, None);
        assert_eq!(my_flags(&mut a).await, "N");
    }

    async fn tracking_table_max_keys_evicts(server: &TestServer) {
        let mut admin = server.raw().await;
        assert_eq!(admin.send(&["CONFIG", "SET", "tracking-table-max-keys", "1"]).await, ok());
        let mut a = tracker(server, &[]).await;
        let mut pushes = Vec::new();
        for key in ["a", "b"] {
            let (reply, seen) = send_seeing(&mut a, &["GET", key]).await;
            assert_eq!(reply, nil());
            pushes.extend(seen);
        }
        pushes.extend(pushes_so_far(&mut a).await);
        assert_eq!(pushes.len(), 1, "{pushes:?}");
        assert!(pushes[0] == invalidate(&["a"]) || pushes[0] == invalidate(&["b"]), "{pushes:?}");
        assert_eq!(info_number(&mut admin, "stats", "tracking_total_keys").await, 1);
    }

    async fn concurrent_writers_never_leave_a_stale_cache(server: &TestServer) {
        // A reader caches `k` as client-side caching libraries do, while two writers
        // increment it. Once the writers are done and the reader has seen every
        // invalidation queued for it, its cache is either empty or current.
        let mut reader = tracker(server, &[]).await;
        let mut writers = Vec::new();
        for _ in 0..2 {
            let mut w = server.raw().await;
            writers.push(tokio::spawn(async move {
                for _ in 0..300 {
                    w.send(&["INCR", "k"]).await;
                }
            }));
        }
        let mut cache: Option<Frame> = None;
        for _ in 0..400 {
            let args: &[&str] = if cache.is_some() { &["PING"] } else { &["GET", "k"] };
            let (reply, pushes) = send_seeing(&mut reader, args).await;
            // Pushes before a reply concern earlier reads.
            if !pushes.is_empty() {
                assert!(pushes.iter().all(|p| *p == invalidate(&["k"])), "{pushes:?}");
                cache = None;
            }
            if args[0] == "GET" {
                cache = Some(reply);
            }
        }
        for w in writers {
            w.await.expect("writer");
        }
        if !pushes_so_far(&mut reader).await.is_empty() {
            cache = None;
        }
        let mut check = server.raw().await;
        let current = check.send(&["GET", "k"]).await;
        assert_eq!(current, bulk("600"));
        if let Some(cached) = cache {
            assert_eq!(cached, current, "the cache kept a value that was invalidated");
        }
    }
}
