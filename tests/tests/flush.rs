//! FLUSHDB/FLUSHALL followed by rewrites of the same keys: a key written after a
//! flush must survive a later flush of another database (the disk backend's
//! in-place memtable updates once hid such keys under the first flush's range
//! tombstone).

use ferrokv_tests::*;

backend_tests! {
    async fn keys_rewritten_after_flushdb_survive_other_flushes(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["SET", "x", "30"]).await, ok());
        assert_eq!(c.send(&["FLUSHDB"]).await, ok());
        assert_eq!(c.send(&["SET", "x", "31"]).await, ok());
        assert_eq!(c.send(&["SELECT", "1"]).await, ok());
        assert_eq!(c.send(&["FLUSHDB"]).await, ok());
        assert_eq!(c.send(&["SELECT", "0"]).await, ok());
        assert_eq!(c.send(&["GET", "x"]).await, bulk("31"));
        // Same with FLUSHALL and a collection.
        assert_eq!(c.send(&["RPUSH", "l", "a"]).await, int(1));
        assert_eq!(c.send(&["FLUSHALL"]).await, ok());
        assert_eq!(c.send(&["SET", "x", "32"]).await, ok());
        assert_eq!(c.send(&["RPUSH", "l", "b"]).await, int(1));
        assert_eq!(c.send(&["SELECT", "2"]).await, ok());
        assert_eq!(c.send(&["FLUSHDB"]).await, ok());
        assert_eq!(c.send(&["SELECT", "0"]).await, ok());
        assert_eq!(c.send(&["GET", "x"]).await, bulk("32"));
        assert_eq!(c.send(&["LRANGE", "l", "0", "-1"]).await, bulks(&["b"]));
        assert_eq!(c.send(&["DBSIZE"]).await, int(2));
    }
}
