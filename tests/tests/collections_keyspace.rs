//! Keyspace commands on every collection type: TYPE, OBJECT ENCODING (and its
//! conversions under CONFIG SET thresholds), COPY, RENAME, MOVE, DEL and EXPIRE of
//! big keys, SCAN ... TYPE, and the encoding parameters through CONFIG.

use ferrokv_tests::*;

/// Fills `key` with `n` elements of `kind` through pipelined commands.
async fn fill(c: &mut RawClient, kind: &str, key: &str, n: usize) {
    let mut batch = Vec::new();
    for i in 0..n {
        let member = format!("member:{i}");
        let score = i.to_string();
        let args: Vec<&[u8]> = match kind {
            "list" => vec![b"RPUSH", key.as_bytes(), member.as_bytes()],
            "hash" => vec![b"HSET", key.as_bytes(), member.as_bytes(), b"v"],
            "set" => vec![b"SADD", key.as_bytes(), member.as_bytes()],
            _ => vec![b"ZADD", key.as_bytes(), score.as_bytes(), member.as_bytes()],
        };
        batch.extend(request(&args));
    }
    c.send_bytes(&batch).await;
    for _ in 0..n {
        let reply = c.read_frame().await;
        assert!(matches!(reply, Frame::Integer(_)), "{reply:?}");
    }
}

async fn card(c: &mut RawClient, kind: &str, key: &str) -> Frame {
    let cmd = match kind {
        "list" => "LLEN",
        "hash" => "HLEN",
        "set" => "SCARD",
        _ => "ZCARD",
    };
    c.send(&[cmd, key]).await
}

const KINDS: [&str; 4] = ["list", "hash", "set", "zset"];

backend_tests! {
    async fn type_and_encodings_follow_redis(server: &TestServer) {
        let mut c = server.raw().await;
        for kind in KINDS {
            fill(&mut c, kind, kind, 3).await;
            assert_eq!(c.send(&["TYPE", kind]).await, simple(kind));
        }
        assert_eq!(c.send(&["OBJECT", "ENCODING", "list"]).await, bulk("quicklist"));
        assert_eq!(c.send(&["OBJECT", "ENCODING", "hash"]).await, bulk("listpack"));
        assert_eq!(c.send(&["OBJECT", "ENCODING", "set"]).await, bulk("hashtable"));
        assert_eq!(c.send(&["OBJECT", "ENCODING", "zset"]).await, bulk("listpack"));
        // Integer sets are intsets until set-max-intset-entries.
        assert_eq!(c.send(&["SADD", "ints", "1", "2", "-3"]).await, int(3));
        assert_eq!(c.send(&["OBJECT", "ENCODING", "ints"]).await, bulk("intset"));
        assert_eq!(c.send(&["SADD", "ints", "x"]).await, int(1));
        assert_eq!(c.send(&["OBJECT", "ENCODING", "ints"]).await, bulk("hashtable"));
        // Thresholds from CONFIG SET apply to the next write.
        assert_eq!(c.send(&["CONFIG", "SET", "hash-max-listpack-entries", "4"]).await, ok());
        assert_eq!(c.send(&["CONFIG", "SET", "zset-max-listpack-value", "5"]).await, ok());
        assert_eq!(c.send(&["CONFIG", "SET", "set-max-intset-entries", "2"]).await, ok());
        assert_eq!(
            c.send(&["CONFIG", "GET", "hash-max-listpack-entries"]).await,
            bulks(&["hash-max-listpack-entries", "4"])
        );
        assert_eq!(
            c.send(&["CONFIG", "GET", "hash-max-ziplist-entries"]).await,
            bulks(&["hash-max-ziplist-entries", "4"])
        );
        assert_eq!(c.send(&["HSET", "hash", "a", "1", "b", "2"]).await, int(2));
        assert_eq!(c.send(&["OBJECT", "ENCODING", "hash"]).await, bulk("hashtable"));
        assert_eq!(c.send(&["ZADD", "zset", "1", "longer"]).await, int(1));
        assert_eq!(c.send(&["OBJECT", "ENCODING", "zset"]).await, bulk("skiplist"));
        assert_eq!(c.send(&["SADD", "ints2", "1", "2", "3"]).await, int(3));
        assert_eq!(c.send(&["OBJECT", "ENCODING", "ints2"]).await, bulk("hashtable"));
        // Long values convert too.
        assert_eq!(c.send(&["HSET", "h2", "f", &"v".repeat(65)]).await, int(1));
        assert_eq!(c.send(&["OBJECT", "ENCODING", "h2"]).await, bulk("hashtable"));
        assert_eq!(c.send(&["OBJECT", "ENCODING", "missing"]).await, nil());
    }

    async fn copy_rename_move_and_delete_big_collections(server: &TestServer) {
        let mut c = server.raw().await;
        for kind in KINDS {
            let key = format!("big-{kind}");
            fill(&mut c, kind, &key, 3000).await;
            assert_eq!(c.send(&["PEXPIRE", &key, "100000"]).await, int(1));
            // COPY keeps the value and the expiry; the copy is independent.
            let copy = format!("{key}-copy");
            assert_eq!(c.send(&["COPY", &key, &copy]).await, int(1));
            assert_eq!(card(&mut c, kind, &copy).await, int(3000));
            assert!(as_int(&c.send(&["PTTL", &copy]).await) > 90000);
            assert_eq!(c.send(&["COPY", &key, &copy]).await, int(0));
            assert_eq!(c.send(&["DEL", &key]).await, int(1));
            assert_eq!(card(&mut c, kind, &copy).await, int(3000));
            assert_eq!(c.send(&["EXISTS", &key]).await, int(0));
            // A new key of the same name starts empty, whatever the old one held.
            fill(&mut c, kind, &key, 1).await;
            assert_eq!(card(&mut c, kind, &key).await, int(1));
            // RENAME over it replaces it.
            assert_eq!(c.send(&["RENAME", &copy, &key]).await, ok());
            assert_eq!(card(&mut c, kind, &key).await, int(3000));
            assert_eq!(c.send(&["EXISTS", &copy]).await, int(0));
            // MOVE to another database and back.
            assert_eq!(c.send(&["MOVE", &key, "3"]).await, int(1));
            assert_eq!(c.send(&["EXISTS", &key]).await, int(0));
            assert_eq!(c.send(&["SELECT", "3"]).await, ok());
            assert_eq!(card(&mut c, kind, &key).await, int(3000));
            assert_eq!(c.send(&["TYPE", &key]).await, simple(kind));
            assert_eq!(c.send(&["MOVE", &key, "0"]).await, int(1));
            assert_eq!(c.send(&["SELECT", "0"]).await, ok());
            assert_eq!(card(&mut c, kind, &key).await, int(3000));
            // COPY to another db with REPLACE.
            assert_eq!(c.send(&["COPY", &key, &key, "DB", "5"]).await, int(1));
            assert_eq!(c.send(&["SELECT", "5"]).await, ok());
            assert_eq!(card(&mut c, kind, &key).await, int(3000));
            assert_eq!(c.send(&["FLUSHDB"]).await, ok());
            assert_eq!(c.send(&["SELECT", "0"]).await, ok());
            assert_eq!(c.send(&["UNLINK", &key]).await, int(1));
            assert_eq!(c.send(&["EXISTS", &key]).await, int(0));
        }
        assert_eq!(c.send(&["DBSIZE"]).await, int(0));
    }

    async fn set_over_a_collection_replaces_it(server: &TestServer) {
        let mut c = server.raw().await;
        for kind in KINDS {
            fill(&mut c, kind, "k", 50).await;
            assert_eq!(c.send(&["GET", "k"]).await, wrongtype());
            assert_eq!(c.send(&["APPEND", "k", "x"]).await, wrongtype());
            assert_eq!(c.send(&["SET", "k", "v"]).await, ok());
            assert_eq!(c.send(&["GET", "k"]).await, bulk("v"));
            assert_eq!(c.send(&["DEL", "k"]).await, int(1));
            fill(&mut c, kind, "k", 2).await;
            assert_eq!(card(&mut c, kind, "k").await, int(2));
            assert_eq!(c.send(&["DEL", "k"]).await, int(1));
        }
    }

    async fn collections_expire(server: &TestServer) {
        let mut c = server.raw().await;
        for kind in KINDS {
            fill(&mut c, kind, kind, 5).await;
            assert_eq!(c.send(&["PEXPIRE", kind, "20"]).await, int(1));
        }
        tokio::time::sleep(std::time::Duration::from_millis(40)).await;
        for kind in KINDS {
            assert_eq!(card(&mut c, kind, kind).await, int(0));
            assert_eq!(c.send(&["TYPE", kind]).await, simple("none"));
        }
        // Writing to an expired collection starts a new one.
        assert_eq!(c.send(&["RPUSH", "l", "a"]).await, int(1));
        assert_eq!(c.send(&["PEXPIRE", "l", "20"]).await, int(1));
        tokio::time::sleep(std::time::Duration::from_millis(40)).await;
        assert_eq!(c.send(&["RPUSH", "l", "b"]).await, int(1));
        assert_eq!(c.send(&["LRANGE", "l", "0", "-1"]).await, bulks(&["b"]));
        assert_eq!(c.send(&["TTL", "l"]).await, int(-1));
    }

    async fn scan_type_filters_every_type(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["SET", "s1", "v"]).await, ok());
        for kind in KINDS {
            for i in 0..3 {
                fill(&mut c, kind, &format!("{kind}{i}"), 2).await;
            }
        }
        for (kind, want) in [
            ("string", vec!["s1"]),
            ("list", vec!["list0", "list1", "list2"]),
            ("hash", vec!["hash0", "hash1", "hash2"]),
            ("set", vec!["set0", "set1", "set2"]),
            ("zset", vec!["zset0", "zset1", "zset2"]),
            ("stream", vec![]),
        ] {
            let mut found = Vec::new();
            let mut cursor = "0".to_string();
            loop {
                let reply = c.send(&["SCAN", &cursor, "COUNT", "5", "TYPE", kind]).await;
                let parts = items(&reply);
                cursor = text(&parts[0]);
                found.extend(items(&parts[1]).iter().map(text));
                if cursor == "0" {
                    break;
                }
            }
            found.sort();
            assert_eq!(found, want, "SCAN TYPE {kind}");
        }
        assert_eq!(
            sorted_texts(&c.send(&["KEYS", "zset*"]).await),
            vec!["zset0", "zset1", "zset2"]
        );
        assert_eq!(c.send(&["DBSIZE"]).await, int(13));
    }
}
