//! RDB snapshots: SAVE / BGSAVE / LASTSAVE and their INFO fields, restart with the
//! same directory (every type survives), snapshots at shutdown under save rules,
//! MISCONF after a failed background save, cross-loading of dump.rdb with a real
//! redis-server in both directions, and BGSAVE's point-in-time guarantee.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use ferrokv_core::rdb::read::{Checksum, Item};
use ferrokv_core::rdb::{RdbReader, Value};
use ferrokv_tests::dataset::{contents, fill};
use ferrokv_tests::*;

/// A field of `INFO persistence`.
async fn info_field(c: &mut RawClient, name: &str) -> String {
    let info = text(&c.send(&["INFO", "persistence"]).await);
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .unwrap_or_else(|| panic!("{name} in INFO persistence"))
        .trim()
        .to_string()
}

/// Waits for a background save to end (polling INFO, no timing assertion).
async fn wait_bgsave(c: &mut RawClient) {
    while info_field(c, "rdb_bgsave_in_progress").await != "0" {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Every key of a dump.rdb file, read with ferrokv's reader.
fn read_rdb(path: &Path) -> BTreeMap<(usize, String), Value> {
    let file = std::fs::File::open(path).expect("dump.rdb exists");
    let mut r = RdbReader::open(std::io::BufReader::new(file)).expect("RDB header");
    let mut out = BTreeMap::new();
    loop {
        match r.next_item().expect("valid RDB") {
            Item::Key(e) => {
                let key = String::from_utf8_lossy(&e.key).into_owned();
                out.insert((e.db, key), e.value.normalized());
            }
            Item::Eof(c) => {
                assert!(matches!(c, Checksum::Ok), "{c:?}");
                return out;
            }
            _ => {}
        }
    }
}

fn dump_path(server: &TestServer) -> std::path::PathBuf {
    server.dir().expect("server dir").join("dump.rdb")
}

backend_tests! {
    async fn save_bgsave_lastsave_and_info(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["SET", "k", "v"]).await, ok());
        assert_eq!(info_field(&mut c, "rdb_changes_since_last_save").await, "1");
        assert_eq!(c.send(&["SAVE"]).await, ok());
        assert_eq!(info_field(&mut c, "rdb_changes_since_last_save").await, "0");
        assert_eq!(info_field(&mut c, "rdb_last_bgsave_status").await, "ok");
        let last = as_int(&c.send(&["LASTSAVE"]).await);
        assert!(last > 1_600_000_000, "{last}");
        assert_eq!(
            info_field(&mut c, "rdb_last_save_time").await,
            last.to_string()
        );
        assert!(dump_path(server).is_file());
        assert_eq!(c.send(&["BGSAVE", "x"]).await, err("ERR syntax error"));
        assert_eq!(
            c.send(&["SAVE", "x"]).await,
            err("ERR wrong number of arguments for 'save' command")
        );
        assert_eq!(
            c.send(&["LASTSAVE", "x"]).await,
            err("ERR wrong number of arguments for 'lastsave' command")
        );
        assert_eq!(c.send(&["BGSAVE"]).await, simple("Background saving started"));
        wait_bgsave(&mut c).await;
        assert_eq!(info_field(&mut c, "rdb_last_bgsave_status").await, "ok");
        // SCHEDULE with no save running starts one at once.
        assert_eq!(
            c.send(&["BGSAVE", "SCHEDULE"]).await,
            simple("Background saving started")
        );
        wait_bgsave(&mut c).await;
        assert_eq!(c.send(&["MULTI"]).await, ok());
        assert_eq!(c.send(&["SAVE"]).await, err("ERR Command not allowed inside a transaction"));
        c.send(&["DISCARD"]).await;
        let keys = read_rdb(&dump_path(server));
        assert_eq!(keys.len(), 1);
    }

    async fn bgsave_is_point_in_time(server: &TestServer) {
        let mut c = server.raw().await;
        let mut other = server.raw().await;
        fill(&mut c, 5, "pre:", 400).await;
        for i in 0..3000 {
            c.send(&["SET", &format!("s:{i}"), &format!("before-{i}")]).await;
        }
        let before = contents(&mut c).await;
        assert_eq!(c.send(&["BGSAVE"]).await, simple("Background saving started"));
        // Writes acknowledged after BGSAVE replied, while it may still be running.
        for i in (0..3000).step_by(7) {
            other.send(&["SET", &format!("s:{i}"), "after"]).await;
            other.send(&["SET", &format!("post:{i}"), "x"]).await;
        }
        other.send(&["DEL", "pre:1", "pre:2"]).await;
        wait_bgsave(&mut c).await;
        let saved = read_rdb(&dump_path(server));
        let extra: Vec<_> = saved.keys().filter(|(_, k)| !before.contains_key(k)).collect();
        assert!(extra.is_empty(), "{extra:?}");
        assert_eq!(saved.len(), before.len());
        for i in 0..3000 {
            let v = &saved[&(0, format!("s:{i}"))];
            assert_eq!(v, &Value::String(format!("before-{i}").into()));
        }
        assert!(saved.keys().all(|(_, k)| !k.starts_with("post:")));
        assert!(saved.contains_key(&(0, "pre:1".to_string())));
    }

    async fn misconf_after_a_failed_background_save(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["CONFIG", "SET", "save", "3600 1"]).await, ok());
        // A directory where the file should go makes the rename fail.
        let blocker = dump_path(server);
        std::fs::create_dir(&blocker).expect("mkdir");
        std::fs::write(blocker.join("x"), b"x").expect("file in the way");
        c.send(&["SET", "k", "v"]).await;
        assert_eq!(c.send(&["BGSAVE"]).await, simple("Background saving started"));
        wait_bgsave(&mut c).await;
        assert_eq!(info_field(&mut c, "rdb_last_bgsave_status").await, "err");
        let reply = c.send(&["SET", "k", "w"]).await;
        assert!(text(&reply).starts_with("MISCONF "), "{reply:?}");
        assert_eq!(c.send(&["GET", "k"]).await, bulk("v"));
        assert_eq!(c.send(&["CONFIG", "SET", "stop-writes-on-bgsave-error", "no"]).await, ok());
        assert_eq!(c.send(&["SET", "k", "w"]).await, ok());
        assert_eq!(c.send(&["CONFIG", "SET", "stop-writes-on-bgsave-error", "yes"]).await, ok());
        std::fs::remove_dir_all(&blocker).expect("rmdir");
        assert_eq!(c.send(&["BGSAVE"]).await, simple("Background saving started"));
        wait_bgsave(&mut c).await;
        assert_eq!(info_field(&mut c, "rdb_last_bgsave_status").await, "ok");
        assert_eq!(c.send(&["SET", "k", "x"]).await, ok());
        assert_eq!(c.send(&["CONFIG", "SET", "save", ""]).await, ok());
    }
}

/// SAVE, restart over the same directory, identical contents (memory loads
/// dump.rdb; disk is durable by itself and its SAVE is an export).
async fn save_and_restart(backend: Backend) {
    let server = start(backend).await;
    let mut c = server.raw().await;
    fill(&mut c, 1, "k", 500).await;
    c.send(&["SELECT", "2"]).await;
    fill(&mut c, 2, "other", 50).await;
    let db2 = contents(&mut c).await;
    c.send(&["SELECT", "0"]).await;
    let db0 = contents(&mut c).await;
    assert_eq!(c.send(&["SAVE"]).await, ok());
    drop(c);
    let server = server.restart().await;
    let mut c = server.raw().await;
    assert_eq!(contents(&mut c).await, db0);
    c.send(&["SELECT", "2"]).await;
    assert_eq!(contents(&mut c).await, db2);
    if !against_redis() && backend == Backend::Memory {
        assert_eq!(
            info_field(&mut c, "rdb_last_load_keys_loaded").await,
            (db0.len() + db2.len()).to_string()
        );
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn save_and_restart_memory() {
    save_and_restart(Backend::Memory).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn save_and_restart_disk() {
    save_and_restart(Backend::Disk).await;
}

/// With save rules, stopping the server writes a snapshot that the next start loads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_saves_under_save_rules() {
    let server = start_with(Backend::Memory, &[("save", "3600 1")]).await;
    let mut c = server.raw().await;
    fill(&mut c, 3, "k", 100).await;
    let before = contents(&mut c).await;
    drop(c);
    let server = server.restart().await;
    let mut c = server.raw().await;
    assert_eq!(contents(&mut c).await, before);
    server.stop().await;
}

/// ferrokv's dump.rdb loaded by redis-server 7.0 holds the same data.
async fn ferrokv_rdb_loads_in_redis(backend: Backend) {
    if against_redis() {
        return;
    }
    let server = start(backend).await;
    let mut c = server.raw().await;
    fill(&mut c, 7, "k", 400).await;
    let before = contents(&mut c).await;
    assert_eq!(c.send(&["SAVE"]).await, ok());
    let dir = server.dir().expect("dir").display().to_string();
    let args = [
        "--dir".to_string(),
        dir,
        "--dbfilename".into(),
        "dump.rdb".into(),
    ];
    let Some(redis) = RedisServer::start_args(&args).await else {
        eprintln!("redis-server not installed: cross-loading skipped");
        return;
    };
    let mut r = redis.raw().await;
    assert_eq!(contents(&mut r).await, before);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ferrokv_rdb_loads_in_redis_memory() {
    ferrokv_rdb_loads_in_redis(Backend::Memory).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ferrokv_rdb_loads_in_redis_disk() {
    ferrokv_rdb_loads_in_redis(Backend::Disk).await;
}

/// redis-server 7.0's dump.rdb (every encoding: small and big collections, integer
/// and compressed strings) loaded by ferrokv at start holds the same data.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_rdb_loads_in_ferrokv() {
    if against_redis() {
        return;
    }
    let redis_dir = tempfile::tempdir().expect("tempdir");
    let args = [
        "--dir".to_string(),
        redis_dir.path().display().to_string(),
        "--rdbcompression".into(),
        "yes".into(),
    ];
    let Some(redis) = RedisServer::start_args(&args).await else {
        eprintln!("redis-server not installed: cross-loading skipped");
        return;
    };
    let mut r = redis.raw().await;
    fill(&mut r, 9, "k", 400).await;
    r.send(&["SELECT", "5"]).await;
    fill(&mut r, 10, "five", 40).await;
    let db5 = contents(&mut r).await;
    r.send(&["SELECT", "0"]).await;
    let db0 = contents(&mut r).await;
    assert_eq!(r.send(&["SAVE"]).await, ok());
    let server = start(Backend::Memory).await;
    std::fs::copy(
        redis_dir.path().join("dump.rdb"),
        server.dir().expect("dir").join("dump.rdb"),
    )
    .expect("copy dump.rdb");
    let server = server.restart().await;
    let mut c = server.raw().await;
    assert_eq!(contents(&mut c).await, db0);
    c.send(&["SELECT", "5"]).await;
    assert_eq!(contents(&mut c).await, db5);
    server.stop().await;
}
