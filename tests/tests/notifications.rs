//! Keyspace notifications end to end: a RESP2 client `PSUBSCRIBE`s to
//! `__key*__:*` while another writes, and every command family is checked for the
//! exact sequence of messages (event names, channel names with the database, the
//! order of `new`, the command's event and `del`), class filtering, `expired` from
//! lazy and active expiry, and `CONFIG SET/GET notify-keyspace-events`.
//!
//! Every expected sequence was checked against redis-server 7.0
//! (`FERROKV_TESTS_TARGET=redis cargo test -p ferrokv-tests --test notifications`);
//! the hash field expiry commands (Redis 7.4) run against ferrokv only.

use std::time::{Duration, Instant};

use ferrokv_tests::*;

/// One `(channel, message)` pair as a pattern subscriber receives it.
type Event = (String, String);

/// A subscriber to every keyspace and keyevent channel, and a writer.
struct Watch {
    sub: RawClient,
    writer: RawClient,
    syncs: u64,
}

impl Watch {
    /// Sets `notify-keyspace-events` to `flags` and subscribes.
    async fn new(server: &TestServer, flags: &str) -> Watch {
        let mut writer = server.raw().await;
        assert_eq!(
            writer
                .send(&["CONFIG", "SET", "notify-keyspace-events", flags])
                .await,
            ok()
        );
        let mut sub = server.raw().await;
        assert_eq!(
            sub.send(&["PSUBSCRIBE", "__key*__:*"]).await,
            arr(vec![bulk("psubscribe"), bulk("__key*__:*"), int(1)])
        );
        Watch {
            sub,
            writer,
            syncs: 0,
        }
    }

    /// Runs one command on the writer and returns its reply.
    async fn run(&mut self, args: &[&str]) -> Frame {
        self.writer.send(args).await
    }

    /// The events published since the last call, in order. A marker published by
    /// the writer after its commands (matched by the same pattern) ends the batch.
    async fn events(&mut self) -> Vec<Event> {
        self.syncs += 1;
        let marker = self.syncs.to_string();
        self.writer
            .send(&["PUBLISH", "__key__:sync", &marker])
            .await;
        let mut out = Vec::new();
        loop {
            let (channel, message) = pmessage(&self.sub.read_frame().await);
            if channel == "__key__:sync" && message == marker {
                return out;
            }
            out.push((channel, message));
        }
    }

    /// Waits up to `within` for the events published without any command (active
    /// expiry) until `n` have arrived.
    async fn wait_events(&mut self, n: usize, within: Duration) -> Vec<Event> {
        let deadline = Instant::now() + within;
        let mut out = Vec::new();
        while out.len() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.sub.try_read_frame(left).await {
                Some(frame) => out.push(pmessage(&frame)),
                None => break,
            }
        }
        out
    }
}

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
        assert!(Instant::now() < deadline, "never saw {n} blocked clients");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The channel and payload of a `pmessage`.
fn pmessage(frame: &Frame) -> Event {
    let parts = items(frame);
    assert_eq!(parts.len(), 4, "not a pmessage: {frame:?}");
    assert_eq!(text(&parts[0]), "pmessage", "not a pmessage: {frame:?}");
    (text(&parts[2]), text(&parts[3]))
}

/// The keyspace then keyevent messages of each `(event, key)` in db 0.
fn both(list: &[(&str, &str)]) -> Vec<Event> {
    both_in(0, list)
}

/// [`both`] in database `db`.
fn both_in(db: usize, list: &[(&str, &str)]) -> Vec<Event> {
    list.iter()
        .flat_map(|(event, key)| {
            [
                (format!("__keyspace@{db}__:{key}"), event.to_string()),
                (format!("__keyevent@{db}__:{event}"), key.to_string()),
            ]
        })
        .collect()
}

/// Only the keyspace messages of each `(event, key)` in db 0.
fn keyspace(list: &[(&str, &str)]) -> Vec<Event> {
    list.iter()
        .map(|(event, key)| (format!("__keyspace@0__:{key}"), event.to_string()))
        .collect()
}

/// Only the keyevent messages of each `(event, key)` in `db`.
fn keyevent(db: usize, list: &[(&str, &str)]) -> Vec<Event> {
    list.iter()
        .map(|(event, key)| (format!("__keyevent@{db}__:{event}"), key.to_string()))
        .collect()
}

backend_tests! {
    async fn nothing_is_published_by_default(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(
            c.send(&["CONFIG", "GET", "notify-keyspace-events"]).await,
            bulks(&["notify-keyspace-events", ""])
        );
        let mut sub = server.raw().await;
        sub.send(&["PSUBSCRIBE", "__key*__:*"]).await;
        c.send(&["SET", "a", "1"]).await;
        c.send(&["RPUSH", "l", "x"]).await;
        c.send(&["DEL", "a", "l"]).await;
        c.send(&["PUBLISH", "__key__:sync", "1"]).await;
        assert_eq!(
            pmessage(&sub.read_frame().await),
            ("__key__:sync".to_string(), "1".to_string())
        );
    }

    async fn config_round_trip(server: &TestServer) {
        let mut c = server.raw().await;
        for (set, get) in [
            ("KEA", "AKE"),
            ("Kl$", "$lK"),
            ("Elx", "lxE"),
            ("En", "nE"),
            ("gKEm", "gKEm"),
            ("xz", "zx"),
            ("A", "A"),
            ("", ""),
        ] {
            assert_eq!(
                c.send(&["CONFIG", "SET", "notify-keyspace-events", set]).await,
                ok(),
                "{set}"
            );
            assert_eq!(
                c.send(&["CONFIG", "GET", "notify-keyspace-events"]).await,
                bulks(&["notify-keyspace-events", get]),
                "{set}"
            );
        }
        assert_eq!(
            c.send(&["CONFIG", "SET", "notify-keyspace-events", "KEA n"]).await,
            err("ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")
        );
        assert_eq!(
            c.send(&["CONFIG", "GET", "notify-keyspace-events"]).await,
            bulks(&["notify-keyspace-events", ""]),
            "a refused value changes nothing"
        );
    }

    async fn config_set_switches_events_on_and_off(server: &TestServer) {
        let mut w = Watch::new(server, "KEA").await;
        w.run(&["SET", "a", "1"]).await;
        assert_eq!(w.events().await, both(&[("set", "a")]));
        w.run(&["CONFIG", "SET", "notify-keyspace-events", ""]).await;
        w.run(&["SET", "a", "2"]).await;
        w.run(&["DEL", "a"]).await;
        assert_eq!(w.events().await, vec![]);
        w.run(&["CONFIG", "SET", "notify-keyspace-events", "Eg"]).await;
        w.run(&["SET", "a", "2"]).await;
        w.run(&["DEL", "a"]).await;
        assert_eq!(w.events().await, keyevent(0, &[("del", "a")]));
    }

    async fn classes_filter_events(server: &TestServer) {
        // Keyspace channel, list class only.
        let mut w = Watch::new(server, "Kl").await;
        w.run(&["SET", "s", "v"]).await;
        w.run(&["RPUSH", "l", "a", "b"]).await;
        w.run(&["LPOP", "l"]).await;
        w.run(&["EXPIRE", "l", "100"]).await;
        w.run(&["DEL", "l", "s"]).await;
        w.run(&["SADD", "st", "m"]).await;
        assert_eq!(w.events().await, keyspace(&[("rpush", "l"), ("lpop", "l")]));
        // Keyevent channel, string class only, in another database.
        w.run(&["CONFIG", "SET", "notify-keyspace-events", "E$"]).await;
        w.run(&["SELECT", "3"]).await;
        w.run(&["INCR", "n"]).await;
        w.run(&["DEL", "n"]).await;
        w.run(&["RPUSH", "l", "a"]).await;
        assert_eq!(w.events().await, keyevent(3, &[("incrby", "n")]));
        // Classes without K or E publish nothing; K or E without classes neither.
        for flags in ["A", "g$lshzxn", "K", "E", "KE"] {
            w.run(&["CONFIG", "SET", "notify-keyspace-events", flags]).await;
            w.run(&["SET", "k", "v"]).await;
            w.run(&["DEL", "k"]).await;
            assert_eq!(w.events().await, vec![], "{flags}");
        }
        // Generic class only.
        w.run(&["CONFIG", "SET", "notify-keyspace-events", "Kg"]).await;
        w.run(&["SELECT", "0"]).await;
        w.run(&["SET", "k", "v"]).await;
        w.run(&["EXPIRE", "k", "100"]).await;
        w.run(&["RENAME", "k", "k2"]).await;
        w.run(&["DEL", "k2"]).await;
        assert_eq!(
            w.events().await,
            keyspace(&[
                ("expire", "k"),
                ("rename_from", "k"),
                ("rename_to", "k2"),
                ("del", "k2"),
            ])
        );
    }

    async fn new_events_are_their_own_class(server: &TestServer) {
        // `A` leaves out `n`.
        let mut w = Watch::new(server, "KEA").await;
        w.run(&["SET", "a", "1"]).await;
        w.run(&["RPUSH", "l", "x"]).await;
        assert_eq!(w.events().await, both(&[("set", "a"), ("rpush", "l")]));
        // `n` alone: only creations, never overwrites.
        w.run(&["CONFIG", "SET", "notify-keyspace-events", "En"]).await;
        w.run(&["SET", "a", "2"]).await;
        w.run(&["SET", "b", "1"]).await;
        w.run(&["RPUSH", "l", "y"]).await;
        w.run(&["HSET", "h", "f", "v"]).await;
        w.run(&["HSET", "h", "g", "v"]).await;
        w.run(&["SADD", "s", "m"]).await;
        w.run(&["ZADD", "z", "1", "m"]).await;
        w.run(&["INCR", "n"]).await;
        w.run(&["APPEND", "ap", "x"]).await;
        assert_eq!(
            w.events().await,
            keyevent(
                0,
                &[
                    ("new", "b"),
                    ("new", "h"),
                    ("new", "s"),
                    ("new", "z"),
                    ("new", "n"),
                    ("new", "ap"),
                ]
            )
        );
    }

    async fn string_commands(server: &TestServer) {
        let mut w = Watch::new(server, "KEAn").await;
        assert_eq!(w.run(&["SET", "a", "1"]).await, ok());
        assert_eq!(w.run(&["SET", "a", "2"]).await, ok());
        assert_eq!(w.run(&["SET", "b", "1", "EX", "100"]).await, ok());
        assert_eq!(w.run(&["SET", "a", "3", "GET"]).await, bulk("2"));
        assert_eq!(w.run(&["SET", "a", "4", "NX"]).await, nil());
        assert_eq!(w.run(&["SET", "a", "5", "XX", "KEEPTTL"]).await, ok());
        assert_eq!(w.run(&["SET", "zz", "5", "XX"]).await, nil());
        assert_eq!(
            w.events().await,
            both(&[
                ("new", "a"),
                ("set", "a"),
                ("set", "a"),
                ("new", "b"),
                ("set", "b"),
                ("expire", "b"),
                ("set", "a"),
                ("set", "a"),
            ])
        );
        assert_eq!(w.run(&["SETNX", "c", "1"]).await, int(1));
        assert_eq!(w.run(&["SETNX", "c", "1"]).await, int(0));
        assert_eq!(w.run(&["SETEX", "d", "100", "v"]).await, ok());
        assert_eq!(w.run(&["PSETEX", "e", "100000", "v"]).await, ok());
        assert_eq!(w.run(&["GETSET", "a", "9"]).await, bulk("5"));
        assert_eq!(w.run(&["GETSET", "gs", "9"]).await, nil());
        assert_eq!(
            w.events().await,
            both(&[
                ("new", "c"),
                ("set", "c"),
                ("new", "d"),
                ("set", "d"),
                ("expire", "d"),
                ("new", "e"),
                ("set", "e"),
                ("expire", "e"),
                ("set", "a"),
                ("new", "gs"),
                ("set", "gs"),
            ])
        );
        assert_eq!(w.run(&["MSET", "a", "1", "f", "2"]).await, ok());
        assert_eq!(w.run(&["MSETNX", "g", "1", "h", "2"]).await, int(1));
        assert_eq!(w.run(&["MSETNX", "g", "1", "i", "2"]).await, int(0));
        assert_eq!(w.run(&["GETDEL", "g"]).await, bulk("1"));
        assert_eq!(w.run(&["GETDEL", "nosuch"]).await, nil());
        assert_eq!(
            w.events().await,
            both(&[
                ("set", "a"),
                ("new", "f"),
                ("set", "f"),
                ("new", "g"),
                ("set", "g"),
                ("new", "h"),
                ("set", "h"),
                ("del", "g"),
            ])
        );
        assert_eq!(w.run(&["GETEX", "a", "EX", "100"]).await, bulk("1"));
        assert_eq!(w.run(&["GETEX", "a", "PERSIST"]).await, bulk("1"));
        assert_eq!(w.run(&["GETEX", "a", "PERSIST"]).await, bulk("1"));
        assert_eq!(w.run(&["GETEX", "a"]).await, bulk("1"));
        assert_eq!(w.run(&["GETEX", "nosuch", "EX", "100"]).await, nil());
        assert_eq!(w.run(&["GETEX", "a", "PXAT", "1"]).await, bulk("1"));
        assert_eq!(
            w.events().await,
            both(&[("expire", "a"), ("persist", "a"), ("del", "a")])
        );
        assert_eq!(w.run(&["INCR", "n"]).await, int(1));
        assert_eq!(w.run(&["INCRBY", "n", "5"]).await, int(6));
        assert_eq!(w.run(&["DECR", "n"]).await, int(5));
        assert_eq!(w.run(&["DECRBY", "n", "2"]).await, int(3));
        assert_eq!(w.run(&["INCRBY", "n", "0"]).await, int(3));
        assert_eq!(w.run(&["INCR", "f"]).await, int(3));
        assert_eq!(w.run(&["SET", "t", "text"]).await, ok());
        assert_eq!(w.run(&["INCR", "t"]).await, not_integer());
        assert_eq!(w.run(&["INCRBYFLOAT", "nf", "1.5"]).await, bulk("1.5"));
        assert_eq!(w.run(&["INCRBYFLOAT", "nf", "1.5"]).await, bulk("3"));
        assert_eq!(
            w.run(&["INCRBYFLOAT", "t", "1"]).await,
            err("ERR value is not a valid float")
        );
        assert_eq!(
            w.events().await,
            both(&[
                ("new", "n"),
                ("incrby", "n"),
                ("incrby", "n"),
                ("incrby", "n"),
                ("incrby", "n"),
                ("incrby", "n"),
                ("incrby", "f"),
                ("new", "t"),
                ("set", "t"),
                ("new", "nf"),
                ("incrbyfloat", "nf"),
                ("incrbyfloat", "nf"),
            ])
        );
        assert_eq!(w.run(&["APPEND", "s", "abc"]).await, int(3));
        assert_eq!(w.run(&["APPEND", "s", "def"]).await, int(6));
        assert_eq!(w.run(&["APPEND", "s", ""]).await, int(6));
        assert_eq!(w.run(&["SETRANGE", "s", "1", "X"]).await, int(6));
        assert_eq!(w.run(&["SETRANGE", "s2", "0", ""]).await, int(0));
        assert_eq!(w.run(&["SETRANGE", "s", "0", ""]).await, int(6));
        assert_eq!(w.run(&["SETRANGE", "s3", "2", "ab"]).await, int(4));
        assert_eq!(w.run(&["RPUSH", "l", "x"]).await, int(1));
        assert_eq!(w.run(&["APPEND", "l", "x"]).await, wrongtype());
        assert_eq!(w.run(&["SETRANGE", "l", "0", "x"]).await, wrongtype());
        assert_eq!(
            w.events().await,
            both(&[
                ("new", "s"),
                ("append", "s"),
                ("append", "s"),
                ("append", "s"),
                ("setrange", "s"),
                ("new", "s3"),
                ("setrange", "s3"),
                ("new", "l"),
                ("rpush", "l"),
            ])
        );
        // Reads publish nothing.
        for cmd in [
            vec!["GET", "s"],
            vec!["MGET", "s", "a"],
            vec!["STRLEN", "s"],
            vec!["GETRANGE", "s", "0", "1"],
            vec!["LCS", "s", "s3"],
            vec!["EXISTS", "s"],
        ] {
            w.run(&cmd).await;
        }
        assert_eq!(w.events().await, vec![]);
    }

    async fn bitmap_commands(server: &TestServer) {
        let mut w = Watch::new(server, "KEAn").await;
        assert_eq!(w.run(&["SETBIT", "bits", "3", "1"]).await, int(0));
        assert_eq!(w.run(&["SETBIT", "bits", "3", "1"]).await, int(1));
        assert_eq!(w.run(&["SETBIT", "bits", "3", "0"]).await, int(1));
        assert_eq!(w.run(&["SETBIT", "bits", "100", "0"]).await, int(0));
        assert_eq!(w.run(&["SETBIT", "bits", "100", "0"]).await, int(0));
        assert_eq!(w.run(&["SETBIT", "zero", "7", "0"]).await, int(0));
        assert_eq!(
            w.events().await,
            both(&[
                ("new", "bits"),
                ("setbit", "bits"),
                ("setbit", "bits"),
                ("setbit", "bits"),
                ("new", "zero"),
                ("setbit", "zero"),
            ])
        );
        assert_eq!(
            w.run(&["BITFIELD", "bf", "SET", "u8", "0", "1"]).await,
            ints(&[0])
        );
        assert_eq!(
            w.run(&["BITFIELD", "bf", "SET", "u8", "0", "1"]).await,
            ints(&[1])
        );
        assert_eq!(w.run(&["BITFIELD", "bf", "GET", "u8", "0"]).await, ints(&[1]));
        assert_eq!(
            w.run(&["BITFIELD", "bf2", "GET", "u8", "0"]).await,
            ints(&[0])
        );
        assert_eq!(
            w.run(&["BITFIELD", "bf", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "300"])
                .await,
            arr(vec![nil()])
        );
        assert_eq!(
            w.run(&[
                "BITFIELD", "bf", "INCRBY", "u8", "0", "300", "OVERFLOW", "FAIL", "INCRBY",
                "u8", "0", "300"
            ])
            .await,
            arr(vec![int(45), nil()])
        );
        assert_eq!(
            w.run(&["BITFIELD_RO", "bf", "GET", "u8", "0"]).await,
            ints(&[45])
        );
        assert_eq!(
            w.events().await,
            both(&[("new", "bf"), ("setbit", "bf"), ("setbit", "bf")])
        );
        assert_eq!(w.run(&["BITOP", "AND", "dest", "bits", "bf"]).await, int(13));
        assert_eq!(w.run(&["BITOP", "OR", "dest", "bits", "bf"]).await, int(13));
        assert_eq!(w.run(&["BITOP", "AND", "dest", "nosuch", "nosuch2"]).await, int(0));
        assert_eq!(w.run(&["BITOP", "AND", "dest", "nosuch", "nosuch2"]).await, int(0));
        assert_eq!(
            w.events().await,
            both(&[("new", "dest"), ("set", "dest"), ("set", "dest"), ("del", "dest")])
        );
    }

    async fn generic_commands(server: &TestServer) {
        let mut w = Watch::new(server, "KEAn").await;
        w.run(&["MSET", "a", "1", "b", "2"]).await;
        w.events().await;
        assert_eq!(w.run(&["DEL", "a", "b", "nosuch"]).await, int(2));
        w.run(&["SET", "a", "1"]).await;
        assert_eq!(w.run(&["UNLINK", "a", "a"]).await, int(1));
        assert_eq!(
            w.events().await,
            both(&[
                ("del", "a"),
                ("del", "b"),
                ("new", "a"),
                ("set", "a"),
                ("del", "a"),
            ])
        );
        w.run(&["MSET", "a", "1", "b", "2"]).await;
        w.events().await;
        assert_eq!(w.run(&["RENAME", "a", "b"]).await, ok());
        assert_eq!(w.run(&["RENAME", "b", "b"]).await, ok());
        assert_eq!(w.run(&["RENAME", "nosuch", "x"]).await, err("ERR no such key"));
        assert_eq!(w.run(&["RENAMENX", "b", "c"]).await, int(1));
        w.run(&["SET", "d", "1"]).await;
        assert_eq!(w.run(&["RENAMENX", "c", "d"]).await, int(0));
        assert_eq!(
            w.events().await,
            both(&[
                ("new", "b"),
                ("rename_from", "a"),
                ("rename_to", "b"),
                ("new", "c"),
                ("rename_from", "b"),
                ("rename_to", "c"),
                ("new", "d"),
                ("set", "d"),
            ])
        );
        assert_eq!(w.run(&["MOVE", "d", "1"]).await, int(1));
        w.run(&["SET", "d", "1"]).await;
        w.run(&["SELECT", "1"]).await;
        assert_eq!(w.run(&["MOVE", "d", "0"]).await, int(0));
        w.run(&["SELECT", "0"]).await;
        let mut want = both_in(1, &[("new", "d")]);
        want.extend(both_in(0, &[("move_from", "d")]));
        want.extend(both_in(1, &[("move_to", "d")]));
        want.extend(both(&[("new", "d"), ("set", "d")]));
        assert_eq!(w.events().await, want);
        assert_eq!(w.run(&["COPY", "c", "x"]).await, int(1));
        assert_eq!(w.run(&["COPY", "c", "x"]).await, int(0));
        assert_eq!(w.run(&["COPY", "c", "x", "REPLACE"]).await, int(1));
        assert_eq!(w.run(&["COPY", "nosuch", "x", "REPLACE"]).await, int(0));
        assert_eq!(w.run(&["COPY", "c", "y", "DB", "2"]).await, int(1));
        let mut want = both(&[
            ("new", "x"),
            ("copy_to", "x"),
            ("new", "x"),
            ("copy_to", "x"),
        ]);
        want.extend(both_in(2, &[("new", "y"), ("copy_to", "y")]));
        assert_eq!(w.events().await, want);
        assert_eq!(w.run(&["EXPIRE", "c", "100"]).await, int(1));
        assert_eq!(w.run(&["EXPIRE", "c", "100", "NX"]).await, int(0));
        assert_eq!(w.run(&["PEXPIRE", "c", "100000"]).await, int(1));
        assert_eq!(w.run(&["EXPIREAT", "c", "99999999999"]).await, int(1));
        assert_eq!(w.run(&["PEXPIREAT", "c", "99999999999999"]).await, int(1));
        assert_eq!(w.run(&["EXPIRE", "nosuch", "100"]).await, int(0));
        assert_eq!(w.run(&["PERSIST", "c"]).await, int(1));
        assert_eq!(w.run(&["PERSIST", "c"]).await, int(0));
        assert_eq!(w.run(&["EXPIRE", "c", "0"]).await, int(1));
        w.run(&["SET", "c", "1"]).await;
        assert_eq!(w.run(&["PEXPIRE", "c", "-5"]).await, int(1));
        w.run(&["SET", "c", "1"]).await;
        assert_eq!(w.run(&["EXPIREAT", "c", "1"]).await, int(1));
        assert_eq!(
            w.events().await,
            both(&[
                ("expire", "c"),
                ("expire", "c"),
                ("expire", "c"),
                ("expire", "c"),
                ("persist", "c"),
                ("del", "c"),
                ("new", "c"),
                ("set", "c"),
                ("del", "c"),
                ("new", "c"),
                ("set", "c"),
                ("del", "c"),
            ])
        );
        // Reads, FLUSHDB, SWAPDB and FLUSHALL publish nothing.
        w.run(&["SET", "z", "1"]).await;
        w.events().await;
        for cmd in [
            vec!["TOUCH", "z"],
            vec!["TYPE", "z"],
            vec!["TTL", "z"],
            vec!["KEYS", "*"],
            vec!["SCAN", "0"],
            vec!["RANDOMKEY"],
            vec!["DBSIZE"],
            vec!["FLUSHDB"],
            vec!["SWAPDB", "0", "1"],
            vec!["SWAPDB", "0", "1"],
            vec!["FLUSHALL"],
        ] {
            w.run(&cmd).await;
        }
        assert_eq!(w.events().await, vec![]);
    }

    async fn list_commands(server: &TestServer) {
        let mut w = Watch::new(server, "KEAn").await;
        assert_eq!(w.run(&["LPUSH", "l", "a", "b"]).await, int(2));
        assert_eq!(w.run(&["RPUSH", "l", "c"]).await, int(3));
        assert_eq!(w.run(&["LPUSHX", "nol", "x"]).await, int(0));
        assert_eq!(w.run(&["RPUSHX", "l", "d"]).await, int(4));
        assert_eq!(w.run(&["LPUSHX", "l", "e"]).await, int(5));
        assert_eq!(w.run(&["LINSERT", "l", "BEFORE", "a", "X"]).await, int(6));
        assert_eq!(w.run(&["LINSERT", "l", "BEFORE", "nosuch", "X"]).await, int(-1));
        assert_eq!(w.run(&["LINSERT", "nol", "BEFORE", "a", "X"]).await, int(0));
        assert_eq!(w.run(&["LSET", "l", "0", "Y"]).await, ok());
        assert_eq!(w.run(&["LSET", "l", "99", "Y"]).await, err("ERR index out of range"));
        assert_eq!(w.run(&["LSET", "nol", "0", "Y"]).await, err("ERR no such key"));
        assert_eq!(
            w.events().await,
            both(&[
                ("new", "l"),
                ("lpush", "l"),
                ("rpush", "l"),
                ("rpush", "l"),
                ("lpush", "l"),
                ("linsert", "l"),
                ("lset", "l"),
            ])
        );
        assert_eq!(w.run(&["LREM", "l", "0", "nosuch"]).await, int(0));
        assert_eq!(w.run(&["LREM", "l", "1", "X"]).await, int(1));
        assert_eq!(w.run(&["LTRIM", "l", "0", "-1"]).await, ok());
        assert_eq!(w.run(&["LTRIM", "l", "0", "1"]).await, ok());
        assert_eq!(w.run(&["LTRIM", "nol", "0", "1"]).await, ok());
        assert_eq!(w.run(&["LPOP", "l"]).await, bulk("Y"));
        assert_eq!(w.run(&["LPOP", "l", "0"]).await, arr(vec![]));
        assert_eq!(w.run(&["RPOP", "l", "5"]).await, bulks(&["b"]));
        assert_eq!(w.run(&["RPOP", "l"]).await, nil());
        assert_eq!(
            w.events().await,
            both(&[
                ("lrem", "l"),
                ("ltrim", "l"),
                ("ltrim", "l"),
                ("lpop", "l"),
                ("rpop", "l"),
                ("del", "l"),
            ])
        );
        w.run(&["RPUSH", "l", "a"]).await;
        assert_eq!(w.run(&["LREM", "l", "0", "a"]).await, int(1));
        w.run(&["RPUSH", "l", "a", "b"]).await;
        assert_eq!(w.run(&["LTRIM", "l", "5", "10"]).await, ok());
        assert_eq!(
            w.events().await,
            both(&[
                ("new", "l"),
                ("rpush", "l"),
                ("lrem", "l"),
                ("del", "l"),
                ("new", "l"),
                ("rpush", "l"),
                ("ltrim", "l"),
                ("del", "l"),
            ])
        );
        w.run(&["RPUSH", "l", "a", "b", "c"]).await;
        w.events().await;
        assert_eq!(w.run(&["LMOVE", "l", "l2", "LEFT", "RIGHT"]).await, bulk("a"));
        assert_eq!(w.run(&["RPOPLPUSH", "l", "l2"]).await, bulk("c"));
        assert_eq!(w.run(&["LMOVE", "l2", "l2", "LEFT", "LEFT"]).await, bulk("c"));
        assert_eq!(w.run(&["LMOVE", "nosuch", "l2", "LEFT", "LEFT"]).await, nil());
        assert_eq!(w.run(&["LMOVE", "l", "l2", "LEFT", "RIGHT"]).await, bulk("b"));
        assert_eq!(
            w.events().await,
            both(&[
                ("new", "l2"),
                ("rpush", "l2"),
                ("lpop", "l"),
                ("lpush", "l2"),
                ("rpop", "l"),
                ("lpush", "l2"),
                ("lpop", "l2"),
                ("rpush", "l2"),
                ("lpop", "l"),
                ("del", "l"),
            ])
        );
        w.run(&["RPUSH", "l", "a", "b"]).await;
        w.events().await;
        assert_eq!(
            w.run(&["LMPOP", "2", "nosuch", "l", "RIGHT", "COUNT", "5"]).await,
            arr(vec![bulk("l"), bulks(&["b", "a"])])
        );
        assert_eq!(w.run(&["LMPOP", "1", "l", "LEFT"]).await, nil_array());
        assert_eq!(w.events().await, both(&[("rpop", "l"), ("del", "l")]));
        // Reads publish nothing.
        w.run(&["RPUSH", "l", "a", "b"]).await;
        w.events().await;
        for cmd in [
            vec!["LLEN", "l"],
            vec!["LRANGE", "l", "0", "-1"],
            vec!["LINDEX", "l", "0"],
            vec!["LPOS", "l", "a"],
        ] {
            w.run(&cmd).await;
        }
        assert_eq!(w.events().await, vec![]);
    }

    async fn blocking_commands(server: &TestServer) {
        let mut w = Watch::new(server, "KEAn").await;
        // Data already there: the same events as the non-blocking forms.
        w.run(&["RPUSH", "l", "a", "b"]).await;
        w.events().await;
        assert_eq!(w.run(&["BLPOP", "l", "1"]).await, bulks(&["l", "a"]));
        assert_eq!(w.run(&["BRPOP", "l", "1"]).await, bulks(&["l", "b"]));
        assert_eq!(w.events().await, both(&[("lpop", "l"), ("rpop", "l"), ("del", "l")]));
        w.run(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]).await;
        w.events().await;
        assert_eq!(w.run(&["BZPOPMIN", "z", "1"]).await, bulks(&["z", "a", "1"]));
        assert_eq!(
            w.run(&["BZMPOP", "1", "1", "z", "MAX"]).await,
            arr(vec![bulk("z"), arr(vec![bulks(&["c", "3"])])])
        );
        assert_eq!(w.run(&["BZPOPMAX", "z", "1"]).await, bulks(&["z", "b", "2"]));
        assert_eq!(
            w.events().await,
            both(&[("zpopmin", "z"), ("zpopmax", "z"), ("zpopmax", "z"), ("del", "z")])
        );
        // A client served by a later write: the write's events, then the pop's.
        let mut blocked = server.raw().await;
        let mut admin = server.raw().await;
        let cases: [(&[&str], &[&str], Vec<Event>); 4] = [
            (
                &["BLPOP", "bl", "0"],
                &["LPUSH", "bl", "a"],
                both(&[("new", "bl"), ("lpush", "bl"), ("lpop", "bl"), ("del", "bl")]),
            ),
            (
                &["BLMOVE", "src", "dst", "LEFT", "RIGHT", "0"],
                &["RPUSH", "src", "a", "b"],
                both(&[
                    ("new", "src"),
                    ("rpush", "src"),
                    ("new", "dst"),
                    ("rpush", "dst"),
                    ("lpop", "src"),
                ]),
            ),
            (
                &["BZPOPMIN", "bz", "0"],
                &["ZADD", "bz", "1", "a"],
                both(&[("new", "bz"), ("zadd", "bz"), ("zpopmin", "bz"), ("del", "bz")]),
            ),
            (
                &["BLMPOP", "0", "1", "bl2", "LEFT", "COUNT", "3"],
                &["RPUSH", "bl2", "a", "b"],
                both(&[("new", "bl2"), ("rpush", "bl2"), ("lpop", "bl2"), ("del", "bl2")]),
            ),
        ];
        for (block, write, want) in cases {
            let args: Vec<&[u8]> = block.iter().map(|a| a.as_bytes()).collect();
            blocked.send_bytes(&request(&args)).await;
            wait_blocked(&mut admin, 1).await;
            w.run(write).await;
            assert!(!matches!(blocked.read_frame().await, Frame::Null), "{block:?}");
            assert_eq!(w.events().await, want, "{block:?}");
        }
    }

    async fn hash_commands(server: &TestServer) {
        let mut w = Watch::new(server, "KEAn").await;
        assert_eq!(w.run(&["HSET", "h", "a", "1", "b", "2"]).await, int(2));
        assert_eq!(w.run(&["HSET", "h", "a", "1"]).await, int(0));
        assert_eq!(w.run(&["HMSET", "h", "c", "3"]).await, ok());
        assert_eq!(w.run(&["HSETNX", "h", "a", "9"]).await, int(0));
        assert_eq!(w.run(&["HSETNX", "h", "z", "9"]).await, int(1));
        assert_eq!(w.run(&["HSETNX", "h2", "z", "9"]).await, int(1));
        assert_eq!(w.run(&["HDEL", "h", "nosuch"]).await, int(0));
        assert_eq!(w.run(&["HDEL", "h", "a", "b"]).await, int(2));
        assert_eq!(w.run(&["HINCRBY", "h", "n", "1"]).await, int(1));
        assert_eq!(w.run(&["HINCRBYFLOAT", "h", "f", "1.5"]).await, bulk("1.5"));
        assert_eq!(
            w.run(&["HINCRBY", "h", "f", "1"]).await,
            err("ERR hash value is not an integer")
        );
        assert_eq!(w.run(&["HDEL", "h", "c", "z", "n", "f"]).await, int(4));
        assert_eq!(w.run(&["HINCRBY", "h3", "n", "1"]).await, int(1));
        assert_eq!(w.run(&["HINCRBYFLOAT", "h4", "n", "1"]).await, bulk("1"));
        assert_eq!(
            w.events().await,
            both(&[
                ("new", "h"),
                ("hset", "h"),
                ("hset", "h"),
                ("hset", "h"),
                ("hset", "h"),
                ("new", "h2"),
                ("hset", "h2"),
                ("hdel", "h"),
                ("hincrby", "h"),
                ("hincrbyfloat", "h"),
                ("hdel", "h"),
                ("del", "h"),
                ("new", "h3"),
                ("hincrby", "h3"),
                ("new", "h4"),
                ("hincrbyfloat", "h4"),
            ])
        );
        for cmd in [
            vec!["HGET", "h3", "n"],
            vec!["HMGET", "h3", "n"],
            vec!["HGETALL", "h3"],
            vec!["HLEN", "h3"],
            vec!["HKEYS", "h3"],
            vec!["HVALS", "h3"],
            vec!["HEXISTS", "h3", "n"],
            vec!["HSTRLEN", "h3", "n"],
            vec!["HRANDFIELD", "h3"],
            vec!["HSCAN", "h3", "0"],
        ] {
            w.run(&cmd).await;
        }
        assert_eq!(w.events().await, vec![]);
    }

    /// Hash field expiry (Redis 7.4): `hexpire`, `hpersist`, and `hdel` (then `del`)
    /// for fields given a time already past.
    async fn hash_field_expiry_commands(server: &TestServer) {
        if against_redis() {
            return;
        }
        let mut w = Watch::new(server, "KEA").await;
        w.run(&["HSET", "h", "a", "1", "b", "2"]).await;
        w.events().await;
        assert_eq!(
            w.run(&["HEXPIRE", "h", "100", "FIELDS", "2", "a", "nosuch"]).await,
            ints(&[1, -2])
        );
        assert_eq!(
            w.run(&["HEXPIRE", "h", "100", "NX", "FIELDS", "1", "a"]).await,
            ints(&[0])
        );
        assert_eq!(
            w.run(&["HPEXPIRE", "h", "100000", "FIELDS", "1", "b"]).await,
            ints(&[1])
        );
        assert_eq!(w.run(&["HPERSIST", "h", "FIELDS", "1", "a"]).await, ints(&[1]));
        assert_eq!(w.run(&["HPERSIST", "h", "FIELDS", "1", "a"]).await, ints(&[-1]));
        assert_eq!(
            w.run(&["HEXPIREAT", "h", "1", "FIELDS", "1", "a"]).await,
            ints(&[2])
        );
        assert_eq!(
            w.run(&["HPEXPIREAT", "h", "1", "FIELDS", "1", "b"]).await,
            ints(&[2])
        );
        assert_eq!(
            w.events().await,
            both(&[
                ("hexpire", "h"),
                ("hexpire", "h"),
                ("hpersist", "h"),
                ("hdel", "h"),
                ("hdel", "h"),
                ("del", "h"),
            ])
        );
    }

    async fn set_commands(server: &TestServer) {
        let mut w = Watch::new(server, "KEAn").await;
        assert_eq!(w.run(&["SADD", "s", "a", "b"]).await, int(2));
        assert_eq!(w.run(&["SADD", "s", "a"]).await, int(0));
        assert_eq!(w.run(&["SREM", "s", "nosuch"]).await, int(0));
        assert_eq!(w.run(&["SREM", "s", "a"]).await, int(1));
        assert_eq!(w.run(&["SPOP", "s"]).await, bulk("b"));
        assert_eq!(w.run(&["SPOP", "s"]).await, nil());
        assert_eq!(
            w.events().await,
            both(&[
                ("new", "s"),
                ("sadd", "s"),
                ("srem", "s"),
                ("spop", "s"),
                ("del", "s"),
            ])
        );
        w.run(&["SADD", "s", "a", "b", "c", "d"]).await;
        w.events().await;
        assert_eq!(w.run(&["SPOP", "s", "0"]).await, arr(vec![]));
        assert_eq!(items(&w.run(&["SPOP", "s", "2"]).await).len(), 2);
        assert_eq!(items(&w.run(&["SPOP", "s", "5"]).await).len(), 2);
        assert_eq!(w.run(&["SPOP", "s", "5"]).await, arr(vec![]));
        assert_eq!(
            w.events().await,
            both(&[("spop", "s"), ("spop", "s"), ("del", "s")])
        );
        w.run(&["SADD", "s", "a", "b", "c"]).await;
        w.events().await;
        assert_eq!(w.run(&["SMOVE", "s", "s2", "a"]).await, int(1));
        assert_eq!(w.run(&["SMOVE", "s", "s2", "nosuch"]).await, int(0));
        assert_eq!(w.run(&["SMOVE", "s", "s", "b"]).await, int(1));
        assert_eq!(w.run(&["SMOVE", "s", "s2", "b"]).await, int(1));
        w.run(&["SADD", "s", "a"]).await;
        assert_eq!(w.run(&["SMOVE", "s", "s2", "a"]).await, int(1));
        assert_eq!(w.run(&["SMOVE", "s", "s2", "c"]).await, int(1));
        assert_eq!(
            w.events().await,
            both(&[
                ("srem", "s"),
                ("new", "s2"),
                ("sadd", "s2"),
                ("srem", "s"),
                ("sadd", "s2"),
                ("sadd", "s"),
                ("srem", "s"),
                ("srem", "s"),
                ("del", "s"),
                ("sadd", "s2"),
            ])
        );
        w.run(&["SADD", "s3", "x", "y"]).await;
        w.run(&["SADD", "s4", "y", "z"]).await;
        w.events().await;
        assert_eq!(w.run(&["SINTERSTORE", "d1", "s3", "s4"]).await, int(1));
        assert_eq!(w.run(&["SUNIONSTORE", "d1", "s3", "s4"]).await, int(3));
        assert_eq!(w.run(&["SDIFFSTORE", "d1", "s3", "s4"]).await, int(1));
        assert_eq!(w.run(&["SINTERSTORE", "d1", "s3", "nosuch"]).await, int(0));
        assert_eq!(w.run(&["SINTERSTORE", "d1", "s3", "nosuch"]).await, int(0));
        assert_eq!(w.run(&["SDIFFSTORE", "d2", "nosuch", "s3"]).await, int(0));
        w.run(&["SET", "d3", "string"]).await;
        assert_eq!(w.run(&["SUNIONSTORE", "d3", "s3"]).await, int(2));
        assert_eq!(w.run(&["SUNIONSTORE", "d3", "nosuch"]).await, int(0));
        assert_eq!(
            w.events().await,
            both(&[
                ("new", "d1"),
                ("sinterstore", "d1"),
                ("sunionstore", "d1"),
                ("sdiffstore", "d1"),
                ("del", "d1"),
                ("new", "d3"),
                ("set", "d3"),
                ("sunionstore", "d3"),
                ("del", "d3"),
            ])
        );
        for cmd in [
            vec!["SCARD", "s3"],
            vec!["SISMEMBER", "s3", "x"],
            vec!["SMISMEMBER", "s3", "x"],
            vec!["SMEMBERS", "s3"],
            vec!["SRANDMEMBER", "s3"],
            vec!["SINTER", "s3", "s4"],
            vec!["SINTERCARD", "2", "s3", "s4"],
            vec!["SUNION", "s3", "s4"],
            vec!["SDIFF", "s3", "s4"],
            vec!["SSCAN", "s3", "0"],
        ] {
            w.run(&cmd).await;
        }
        assert_eq!(w.events().await, vec![]);
    }

    async fn sorted_set_commands(server: &TestServer) {
        let mut w = Watch::new(server, "KEAn").await;
        assert_eq!(w.run(&["ZADD", "z", "1", "a", "2", "b"]).await, int(2));
        assert_eq!(w.run(&["ZADD", "z", "1", "a"]).await, int(0));
        assert_eq!(w.run(&["ZADD", "z", "5", "a"]).await, int(0));
        assert_eq!(w.run(&["ZADD", "z", "XX", "1", "nosuch"]).await, int(0));
        assert_eq!(w.run(&["ZADD", "zx", "XX", "1", "nosuch"]).await, int(0));
        assert_eq!(w.run(&["ZADD", "z", "NX", "1", "a"]).await, int(0));
        assert_eq!(w.run(&["ZADD", "z", "GT", "1", "a"]).await, int(0));
        assert_eq!(w.run(&["ZADD", "z", "INCR", "1", "a"]).await, bulk("6"));
        assert_eq!(w.run(&["ZADD", "z", "CH", "1", "a"]).await, int(1));
        assert_eq!(w.run(&["ZINCRBY", "z", "1", "b"]).await, bulk("3"));
        assert_eq!(w.run(&["ZINCRBY", "z", "0", "b"]).await, bulk("3"));
        assert_eq!(w.run(&["ZINCRBY", "z2", "1", "b"]).await, bulk("1"));
        assert_eq!(
            w.events().await,
            both(&[
                ("new", "z"),
                ("zadd", "z"),
                ("zadd", "z"),
                ("zincr", "z"),
                ("zadd", "z"),
                ("zincr", "z"),
                ("new", "z2"),
                ("zincr", "z2"),
            ])
        );
        assert_eq!(w.run(&["ZREM", "z", "nosuch"]).await, int(0));
        assert_eq!(w.run(&["ZREM", "z", "a"]).await, int(1));
        w.run(&["ZADD", "z", "1", "a", "2", "c", "3", "d"]).await;
        assert_eq!(w.run(&["ZREMRANGEBYSCORE", "z", "100", "200"]).await, int(0));
        assert_eq!(w.run(&["ZREMRANGEBYSCORE", "z", "0", "1"]).await, int(1));
        assert_eq!(w.run(&["ZREMRANGEBYRANK", "z", "0", "0"]).await, int(1));
        assert_eq!(w.run(&["ZREM", "z2", "b"]).await, int(1));
        w.run(&["ZADD", "lex", "0", "x", "0", "y", "0", "w"]).await;
        assert_eq!(w.run(&["ZREMRANGEBYLEX", "lex", "[x", "[x"]).await, int(1));
        assert_eq!(w.run(&["ZREMRANGEBYLEX", "lex", "-", "+"]).await, int(2));
        assert_eq!(w.run(&["ZREMRANGEBYLEX", "lex", "-", "+"]).await, int(0));
        assert_eq!(
            w.events().await,
            both(&[
                ("zrem", "z"),
                ("zadd", "z"),
                ("zremrangebyscore", "z"),
                ("zremrangebyrank", "z"),
                ("zrem", "z2"),
                ("del", "z2"),
                ("new", "lex"),
                ("zadd", "lex"),
                ("zremrangebylex", "lex"),
                ("zremrangebylex", "lex"),
                ("del", "lex"),
            ])
        );
        w.run(&["ZADD", "z", "0", "x", "0", "y"]).await;
        w.events().await;
        assert_eq!(w.run(&["ZPOPMIN", "z"]).await, bulks(&["x", "0"]));
        assert_eq!(w.run(&["ZPOPMAX", "z", "0"]).await, arr(vec![]));
        assert_eq!(
            w.run(&["ZPOPMAX", "z", "10"]).await,
            bulks(&["d", "3", "b", "3", "y", "0"])
        );
        assert_eq!(w.run(&["ZPOPMIN", "z"]).await, arr(vec![]));
        w.run(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]).await;
        assert_eq!(
            w.run(&["ZMPOP", "1", "z", "MIN", "COUNT", "1"]).await,
            arr(vec![bulk("z"), arr(vec![bulks(&["a", "1"])])])
        );
        assert_eq!(
            w.events().await,
            both(&[
                ("zpopmin", "z"),
                ("zpopmax", "z"),
                ("del", "z"),
                ("new", "z"),
                ("zadd", "z"),
                ("zpopmin", "z"),
            ])
        );
        w.run(&["DEL", "z"]).await;
        w.run(&["ZADD", "z1", "1", "a", "2", "b"]).await;
        w.run(&["ZADD", "z3", "1", "b", "3", "c"]).await;
        w.events().await;
        assert_eq!(w.run(&["ZUNIONSTORE", "o", "2", "z1", "z3"]).await, int(3));
        assert_eq!(w.run(&["ZINTERSTORE", "o", "2", "z1", "z3"]).await, int(1));
        assert_eq!(w.run(&["ZDIFFSTORE", "o", "2", "z1", "z3"]).await, int(1));
        assert_eq!(w.run(&["ZUNIONSTORE", "o", "1", "nosuch"]).await, int(0));
        assert_eq!(w.run(&["ZUNIONSTORE", "o", "1", "nosuch"]).await, int(0));
        assert_eq!(w.run(&["ZRANGESTORE", "o", "z1", "0", "-1"]).await, int(2));
        assert_eq!(w.run(&["ZRANGESTORE", "o", "z1", "5", "10"]).await, int(0));
        assert_eq!(w.run(&["ZRANGESTORE", "o", "z1", "5", "10"]).await, int(0));
        assert_eq!(w.run(&["ZINTERSTORE", "o2", "2", "z1", "nosuch"]).await, int(0));
        assert_eq!(
            w.events().await,
            both(&[
                ("new", "o"),
                ("zunionstore", "o"),
                ("zinterstore", "o"),
                ("zdiffstore", "o"),
                ("del", "o"),
                ("new", "o"),
                ("zrangestore", "o"),
                ("del", "o"),
            ])
        );
        for cmd in [
            vec!["ZCARD", "z1"],
            vec!["ZCOUNT", "z1", "-inf", "+inf"],
            vec!["ZLEXCOUNT", "z1", "-", "+"],
            vec!["ZSCORE", "z1", "a"],
            vec!["ZMSCORE", "z1", "a"],
            vec!["ZRANK", "z1", "a"],
            vec!["ZREVRANK", "z1", "a"],
            vec!["ZRANGE", "z1", "0", "-1"],
            vec!["ZRANGEBYSCORE", "z1", "-inf", "+inf"],
            vec!["ZRANDMEMBER", "z1"],
            vec!["ZUNION", "2", "z1", "z3"],
            vec!["ZINTERCARD", "2", "z1", "z3"],
            vec!["ZSCAN", "z1", "0"],
        ] {
            w.run(&cmd).await;
        }
        assert_eq!(w.events().await, vec![]);
    }

    async fn sort_store(server: &TestServer) {
        let mut w = Watch::new(server, "KEAn").await;
        w.run(&["RPUSH", "l", "3", "1", "2"]).await;
        w.events().await;
        assert_eq!(w.run(&["SORT", "l", "STORE", "out"]).await, int(3));
        assert_eq!(w.run(&["SORT", "l", "STORE", "out"]).await, int(3));
        assert_eq!(w.run(&["SORT", "nosuch", "STORE", "out"]).await, int(0));
        assert_eq!(w.run(&["SORT", "nosuch", "STORE", "out"]).await, int(0));
        assert_eq!(w.run(&["SORT", "l", "LIMIT", "0", "0", "STORE", "out2"]).await, int(0));
        assert_eq!(w.run(&["SORT", "l"]).await, bulks(&["1", "2", "3"]));
        assert_eq!(
            w.events().await,
            both(&[
                ("new", "out"),
                ("sortstore", "out"),
                ("sortstore", "out"),
                ("del", "out"),
            ])
        );
    }

    async fn transactions_publish_in_order(server: &TestServer) {
        let mut w = Watch::new(server, "KEAn").await;
        w.run(&["SET", "a", "1"]).await;
        w.events().await;
        assert_eq!(w.run(&["MULTI"]).await, ok());
        assert_eq!(w.run(&["SET", "m", "1"]).await, simple("QUEUED"));
        assert_eq!(w.run(&["LPUSH", "ml", "a"]).await, simple("QUEUED"));
        assert_eq!(w.run(&["DEL", "a"]).await, simple("QUEUED"));
        assert_eq!(w.run(&["INCR", "m"]).await, simple("QUEUED"));
        assert_eq!(
            w.run(&["EXEC"]).await,
            arr(vec![ok(), int(1), int(1), int(2)])
        );
        assert_eq!(
            w.events().await,
            both(&[
                ("new", "m"),
                ("set", "m"),
                ("new", "ml"),
                ("lpush", "ml"),
                ("del", "a"),
                ("incrby", "m"),
            ])
        );
        // A discarded transaction publishes nothing.
        w.run(&["MULTI"]).await;
        w.run(&["SET", "m", "2"]).await;
        w.run(&["DISCARD"]).await;
        assert_eq!(w.events().await, vec![]);
    }

    async fn databases_name_the_channels(server: &TestServer) {
        let mut w = Watch::new(server, "KEA").await;
        w.run(&["SELECT", "9"]).await;
        w.run(&["SET", "k", "v"]).await;
        w.run(&["SELECT", "15"]).await;
        w.run(&["RPUSH", "k", "v"]).await;
        let mut want = both_in(9, &[("set", "k")]);
        want.extend(both_in(15, &[("rpush", "k")]));
        assert_eq!(w.events().await, want);
        // Binary-safe keys.
        w.run(&["SELECT", "0"]).await;
        w.run(&["SET", "a b:\u{e9}", "v"]).await;
        assert_eq!(w.events().await, both(&[("set", "a b:\u{e9}")]));
    }

    async fn reads_of_missing_keys_publish_keymiss(server: &TestServer) {
        let mut w = Watch::new(server, "Em").await;
        let reads: &[&[&str]] = &[
            &["GET", "m1"],
            &["MGET", "m2", "m3"],
            &["STRLEN", "m4"],
            &["GETRANGE", "m5", "0", "1"],
            &["EXISTS", "m6"],
            &["TYPE", "m7"],
            &["TTL", "m8"],
            &["PTTL", "m9"],
            &["EXPIRETIME", "m10"],
            &["OBJECT", "ENCODING", "m11"],
            &["TOUCH", "m12"],
            &["GETBIT", "m13", "0"],
            &["BITCOUNT", "m14"],
            &["BITPOS", "m15", "1"],
            &["BITFIELD_RO", "m16", "GET", "u8", "0"],
            &["BITFIELD", "m17", "GET", "u8", "0"],
            &["LCS", "m18", "m19"],
            &["LLEN", "m20"],
            &["LRANGE", "m21", "0", "1"],
            &["LINDEX", "m22", "0"],
            &["LPOS", "m23", "a"],
            &["HGET", "m24", "f"],
            &["HGETALL", "m25"],
            &["HLEN", "m26"],
            &["HEXISTS", "m27", "f"],
            &["HRANDFIELD", "m28"],
            &["HSCAN", "m29", "0"],
            &["SCARD", "m30"],
            &["SISMEMBER", "m31", "a"],
            &["SMEMBERS", "m32"],
            &["SRANDMEMBER", "m33"],
            &["SINTER", "m34", "m35"],
            &["SUNION", "m36"],
            &["SDIFF", "m37"],
            &["SINTERCARD", "1", "m38"],
            &["SSCAN", "m39", "0"],
            &["ZCARD", "m40"],
            &["ZSCORE", "m41", "a"],
            &["ZRANGE", "m42", "0", "1"],
            &["ZRANGEBYSCORE", "m43", "0", "1"],
            &["ZRANK", "m44", "a"],
            &["ZUNION", "1", "m45"],
            &["ZINTER", "1", "m46"],
            &["ZDIFF", "1", "m47"],
            &["ZRANDMEMBER", "m48"],
            &["ZSCAN", "m49", "0"],
            &["SORT", "m50"],
            &["SORT_RO", "m51"],
            &["GETEX", "m52"],
            &["GETDEL", "m53"],
            &["HMGET", "m54", "f"],
            &["ZMSCORE", "m55", "a"],
            &["SMISMEMBER", "m56", "a"],
            &["ZCOUNT", "m57", "0", "1"],
            &["ZLEXCOUNT", "m58", "-", "+"],
            &["HSTRLEN", "m59", "f"],
            &["HKEYS", "m60"],
            &["HVALS", "m61"],
            &["COPY", "m62", "x"],
        ];
        let mut want = Vec::new();
        for args in reads {
            w.run(args).await;
            for key in args.iter().filter(|a| a.starts_with('m') && a.len() > 1) {
                if *key != "m11" {
                    want.push(("keymiss", *key));
                }
            }
        }
        assert_eq!(w.events().await, keyevent(0, &want));
        // Writes and hits publish no keymiss; nor does a key of another type.
        w.run(&["SET", "s", "1"]).await;
        w.run(&["GET", "s"]).await;
        w.run(&["LPUSH", "l", "a"]).await;
        assert_eq!(w.run(&["GET", "l"]).await, wrongtype());
        w.run(&["LPOP", "m65"]).await;
        w.run(&["DEL", "m66"]).await;
        w.run(&["APPEND", "m67", "x"]).await;
        w.run(&["RENAME", "m63", "x"]).await;
        assert_eq!(w.events().await, vec![]);
        // SORT's BY and GET patterns: the weights first, then the values.
        w.run(&["RPUSH", "sl", "1", "2"]).await;
        assert_eq!(
            w.run(&["SORT", "sl", "BY", "w_*", "GET", "o_*"]).await,
            arr(vec![nil(), nil()])
        );
        assert_eq!(
            w.events().await,
            keyevent(
                0,
                &[
                    ("keymiss", "w_1"),
                    ("keymiss", "w_2"),
                    ("keymiss", "o_1"),
                    ("keymiss", "o_2"),
                ]
            )
        );
    }

    async fn lazy_expiry_publishes_expired(server: &TestServer) {
        let mut w = Watch::new(server, "KEAn").await;
        // Whether a read finds it or the active cycle gets there first, the key's
        // `expired` comes once, before anything done to the name afterwards.
        assert_eq!(w.run(&["SET", "k", "v", "PX", "50"]).await, ok());
        assert_eq!(w.run(&["SET", "k2", "v", "PX", "50"]).await, ok());
        assert_eq!(w.run(&["SET", "k3", "v", "PX", "50"]).await, ok());
        let mut got = w.events().await;
        tokio::time::sleep(Duration::from_millis(80)).await;
        assert_eq!(w.run(&["GET", "k"]).await, nil());
        assert_eq!(w.run(&["RPUSH", "k2", "a"]).await, int(1));
        assert_eq!(w.run(&["SET", "k3", "v"]).await, ok());
        got.extend(w.events().await);
        let is_expired = |(c, m): &Event| m == "expired" || c.ends_with(":expired");
        let mut expired: Vec<Event> = got.iter().filter(|e| is_expired(e)).cloned().collect();
        expired.sort();
        let mut want = both(&[("expired", "k"), ("expired", "k2"), ("expired", "k3")]);
        want.sort();
        assert_eq!(expired, want, "{got:?}");
        let rest: Vec<Event> = got.iter().filter(|e| !is_expired(e)).cloned().collect();
        assert_eq!(
            rest,
            both(&[
                ("new", "k"),
                ("set", "k"),
                ("expire", "k"),
                ("new", "k2"),
                ("set", "k2"),
                ("expire", "k2"),
                ("new", "k3"),
                ("set", "k3"),
                ("expire", "k3"),
                ("new", "k2"),
                ("rpush", "k2"),
                ("new", "k3"),
                ("set", "k3"),
            ])
        );
        for key in ["k2", "k3"] {
            let channel = format!("__keyspace@0__:{key}");
            let expired_at = got
                .iter()
                .position(|(c, m)| *c == channel && m == "expired")
                .expect("expired");
            let recreated_at = got
                .iter()
                .rposition(|(c, m)| *c == channel && m == "new")
                .expect("new");
            assert!(expired_at < recreated_at, "{key}: {got:?}");
        }
        // Without `x`, nothing.
        w.run(&["CONFIG", "SET", "notify-keyspace-events", "KE$"]).await;
        w.run(&["SET", "q", "v", "PX", "10"]).await;
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert_eq!(w.run(&["GET", "q"]).await, nil());
        assert_eq!(w.events().await, both(&[("set", "q")]));
    }

    async fn active_expiry_publishes_expired(server: &TestServer) {
        let mut w = Watch::new(server, "Ex").await;
        w.run(&["SELECT", "5"]).await;
        w.run(&["SET", "k", "v", "PX", "10"]).await;
        w.run(&["RPUSH", "l", "a"]).await;
        w.run(&["PEXPIRE", "l", "10"]).await;
        w.run(&["SET", "stays", "v", "EX", "100"]).await;
        // Nobody touches them: only the active cycle (hz 10) can report these (some
        // may already have come on a slow machine).
        let mut got = w.events().await;
        got.extend(w.wait_events(2 - got.len().min(2), Duration::from_secs(5)).await);
        got.sort();
        assert_eq!(got, keyevent(5, &[("expired", "k"), ("expired", "l")]));
        // Keyspace channel too, and nothing else meanwhile.
        w.run(&["CONFIG", "SET", "notify-keyspace-events", "KEx"]).await;
        w.run(&["SET", "k", "v", "PX", "10"]).await;
        let got = w.wait_events(2, Duration::from_secs(5)).await;
        assert_eq!(
            got,
            vec![
                ("__keyspace@5__:k".to_string(), "expired".to_string()),
                ("__keyevent@5__:expired".to_string(), "k".to_string()),
            ]
        );
        assert_eq!(w.events().await, vec![]);
    }
}
