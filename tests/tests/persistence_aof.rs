//! The append-only file of the memory backend: random datasets of every type survive
//! a restart through AOF replay (appendfsync always and everysec), MULTI/EXEC blocks,
//! expiry as PEXPIREAT, blocking pops as their non-blocking forms, truncated tails,
//! `--check-aof --fix`, BGREWRITEAOF with writes during the rewrite, `CONFIG SET
//! appendonly yes`, SIGKILL during a write load, and AOF directories moving both ways
//! between ferrokv and redis-server 7.0.
//!
//! Most tests also run against redis-server itself (`FERROKV_TESTS_TARGET=redis`),
//! which checks the expectations; those that look at ferrokv's files or start
//! ferrokv's binary are skipped there.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use ferrokv_tests::*;

/// A random value: an integer, a short word, binary bytes or a longer run.
fn word(rng: &mut Rng) -> String {
    match rng.below(4) {
        0 => rng.below(1000).to_string(),
        1 => format!("w{}", rng.below(50)),
        2 => format!("bin\r\n\0{}", rng.below(10)),
        _ => "x".repeat(1 + rng.below(100) as usize),
    }
}

/// Databases the dumps look at.
const DBS: usize = 4;

/// The whole dataset as text: per database, per key, its type, value (collections
/// sorted where Redis leaves the order open) and absolute expiry.
async fn dump(c: &mut RawClient) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for db in 0..DBS {
        c.send(&["SELECT", &db.to_string()]).await;
        let keys = sorted_texts(&c.send(&["KEYS", "*"]).await);
        for key in keys {
            let kind = text(&c.send(&["TYPE", &key]).await);
            let value = match kind.as_str() {
                "string" => text(&c.send(&["GET", &key]).await),
                "list" => format!("{:?}", c.send(&["LRANGE", &key, "0", "-1"]).await),
                "set" => format!("{:?}", sorted_texts(&c.send(&["SMEMBERS", &key]).await)),
                "hash" => {
                    let flat = c.send(&["HGETALL", &key]).await;
                    let mut pairs: Vec<(String, String)> = items(&flat)
                        .chunks(2)
                        .map(|p| (text(&p[0]), text(&p[1])))
                        .collect();
                    pairs.sort();
                    format!("{pairs:?}")
                }
                "zset" => format!(
                    "{:?}",
                    c.send(&["ZRANGE", &key, "0", "-1", "WITHSCORES"]).await
                ),
                other => other.to_string(),
            };
            let at = as_int(&c.send(&["PEXPIRETIME", &key]).await);
            out.insert(format!("{db}/{key}"), format!("{kind} {value} @{at}"));
        }
    }
    c.send(&["SELECT", "0"]).await;
    out
}

/// Fills the keyspace with `n` random keys of every type across the databases,
/// through commands that propagate in rewritten forms (relative expiry,
/// INCRBYFLOAT, HINCRBYFLOAT, SPOP, GETEX, GETDEL, MOVE ...).
async fn random_dataset(c: &mut RawClient, seed: u64, n: usize) {
    let mut rng = Rng(seed);
    for i in 0..n {
        let db = rng.below(DBS as u64).to_string();
        c.send(&["SELECT", &db]).await;
        let key = format!("k{i}");
        match rng.below(12) {
            0 => c.send(&["SET", &key, &word(&mut rng)]).await,
            1 => c.send(&["SET", &key, &word(&mut rng), "EX", "1000"]).await,
            2 => c.send(&["INCRBYFLOAT", &key, "1.1"]).await,
            3 => {
                let (a, b) = (word(&mut rng), word(&mut rng));
                c.send(&["RPUSH", &key, &a, &b, "tail"]).await;
                c.send(&["LPUSH", &key, "head"]).await
            }
            4 => {
                let (f, v) = (word(&mut rng), word(&mut rng));
                c.send(&["HSET", &key, &f, &v, "n", "1"]).await;
                c.send(&["HINCRBYFLOAT", &key, "n", "2.5"]).await
            }
            5 => {
                let members: Vec<String> = (0..rng.below(80) + 2).map(|j| j.to_string()).collect();
                let mut args = vec!["SADD", key.as_str()];
                args.extend(members.iter().map(String::as_str));
                c.send(&args).await;
                c.send(&["SPOP", &key]).await
            }
            6 => {
                let members: Vec<String> = (0..rng.below(5) + 3).map(|_| word(&mut rng)).collect();
                let mut args = vec!["SADD", key.as_str()];
                args.extend(members.iter().map(String::as_str));
                c.send(&args).await;
                c.send(&["SPOP", &key, "2"]).await
            }
            7 => {
                let m = word(&mut rng);
                c.send(&["ZADD", &key, "1.5", &m, "-inf", "low", "3e100", "big"])
                    .await;
                c.send(&["ZINCRBY", &key, "0.1", "low"]).await
            }
            8 => {
                c.send(&["SET", &key, "v"]).await;
                c.send(&["EXPIRE", &key, "5000"]).await;
                c.send(&["GETEX", &key, "PX", "900000"]).await
            }
            9 => {
                c.send(&["SET", &key, "gone"]).await;
                c.send(&["GETDEL", &key]).await
            }
            10 => {
                c.send(&["SET", &key, "moved"]).await;
                let to = ((rng.below(DBS as u64 - 1) + 1 + db.parse::<u64>().unwrap_or(0))
                    % DBS as u64)
                    .to_string();
                c.send(&["MOVE", &key, &to]).await
            }
            _ => {
                let big: Vec<String> = (0..200).map(|j| format!("e{j}")).collect();
                let mut args = vec!["RPUSH", key.as_str()];
                args.extend(big.iter().map(String::as_str));
                c.send(&args).await;
                c.send(&["LTRIM", &key, "5", "150"]).await
            }
        };
    }
    // Writes that change nothing, and an expired key.
    c.send(&["SELECT", "0"]).await;
    c.send(&["DEL", "no-such-key"]).await;
    c.send(&["SET", "short", "lived", "PX", "1"]).await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    c.send(&["GET", "short"]).await;
}

async fn round_trip(fsync: &str, seed: u64) {
    let server = start_persistent(
        Backend::Memory,
        &[("appendonly", "yes"), ("appendfsync", fsync)],
    )
    .await;
    let mut c = server.raw().await;
    random_dataset(&mut c, seed, 300).await;
    let before = dump(&mut c).await;
    assert!(before.len() > 200, "{}", before.len());
    drop(c);
    let server = server.restart().await;
    let mut c = server.raw().await;
    let after = dump(&mut c).await;
    assert_eq!(before, after);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_dataset_round_trips_under_appendfsync_always() {
    round_trip("always", 7).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_dataset_round_trips_under_appendfsync_everysec() {
    round_trip("everysec", 11).await;
}

/// The commands in the AOF directory of `server` (all files, as text).
fn aof_text(dir: &Path) -> String {
    let dir = dir.join("appendonlydir");
    let manifest = std::fs::read_to_string(dir.join("appendonly.aof.manifest")).expect("manifest");
    let mut out = String::new();
    for line in manifest.lines() {
        let name = line.split_whitespace().nth(1).expect("file name");
        out.push_str(&String::from_utf8_lossy(
            &std::fs::read(dir.join(name)).unwrap_or_default(),
        ));
    }
    out
}

/// The commands of an AOF text as argument lists (annotations skipped).
fn commands(text: &str) -> Vec<Vec<String>> {
    let mut lines = text.split("\r\n").filter(|l| !l.starts_with('#'));
    let mut out = Vec::new();
    while let Some(head) = lines.next() {
        let Some(n) = head.strip_prefix('*') else {
            continue;
        };
        let n: usize = n.parse().expect("argc");
        let mut argv = Vec::new();
        for _ in 0..n {
            lines.next();
            argv.push(lines.next().unwrap_or_default().to_string());
        }
        out.push(argv);
    }
    out
}

fn upper(cmds: &[Vec<String>]) -> Vec<Vec<String>> {
    cmds.iter()
        .map(|c| {
            let mut c = c.clone();
            c[0] = c[0].to_ascii_uppercase();
            c
        })
        .collect()
}

fn owned(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_exec_expiry_and_rewritten_commands_in_the_file() {
    if against_redis() {
        return;
    }
    let server = start_persistent(Backend::Memory, &[("appendonly", "yes")]).await;
    let mut c = server.raw().await;
    assert_eq!(c.send(&["MULTI"]).await, simple("OK"));
    c.send(&["SET", "a", "1"]).await;
    c.send(&["INCR", "a"]).await;
    c.send(&["SADD", "s", "m"]).await;
    assert_eq!(c.send(&["EXEC"]).await, arr(vec![ok(), int(2), int(1)]));
    let before = unix_now_ms();
    c.send(&["EXPIRE", "a", "100"]).await;
    c.send(&["SETEX", "b", "100", "v"]).await;
    c.send(&["INCRBYFLOAT", "f", "0.5"]).await;
    c.send(&["SPOP", "s"]).await;
    c.send(&["DEL", "missing"]).await;
    c.send(&["SADD", "t", "x"]).await;
    c.send(&["SADD", "t", "x"]).await; // changes nothing: not propagated
    c.send(&["EXPIRE", "t", "-1"]).await;
    let cmds = upper(&commands(&aof_text(server.dir().expect("dir"))));
    let pos = |name: &str| cmds.iter().position(|c| c[0] == name);
    let multi = pos("MULTI").expect("MULTI in the AOF");
    assert_eq!(cmds[multi + 1], owned(&["SET", "a", "1"]));
    assert_eq!(cmds[multi + 2], owned(&["INCR", "a"]));
    assert_eq!(cmds[multi + 3], owned(&["SADD", "s", "m"]));
    assert_eq!(cmds[multi + 4], owned(&["EXEC"]));
    let pexpireat = &cmds[pos("PEXPIREAT").expect("PEXPIREAT")];
    assert_eq!(pexpireat[1], "a");
    let at: i64 = pexpireat[2].parse().expect("absolute ms");
    assert!(
        at >= before + 100_000 && at <= unix_now_ms() + 100_000,
        "{at}"
    );
    let setex = cmds
        .iter()
        .find(|c| c[0] == "SET" && c.get(1).is_some_and(|k| k == "b"))
        .expect("SETEX as SET");
    assert_eq!(setex[3], "PXAT");
    assert_eq!(
        cmds.iter()
            .find(|c| c.get(1).is_some_and(|k| k == "f"))
            .expect("f"),
        &owned(&["SET", "f", "0.5", "KEEPTTL"])
    );
    assert!(cmds.contains(&owned(&["SREM", "s", "m"])), "{cmds:?}");
    assert!(!cmds
        .iter()
        .any(|c| c[0] == "SPOP" || c[0] == "EXPIRE" || c[0] == "SETEX"));
    assert!(!cmds
        .iter()
        .any(|c| c.get(1).is_some_and(|k| k == "missing")));
    assert_eq!(
        cmds.iter()
            .filter(|c| c[0] == "SADD" && c.get(1).is_some_and(|k| k == "t"))
            .count(),
        1
    );
    assert!(cmds.contains(&owned(&["DEL", "t"])), "{cmds:?}");
    let expected = dump(&mut c).await;
    drop(c);
    let server = server.restart().await;
    let mut c = server.raw().await;
    assert_eq!(dump(&mut c).await, expected);
    assert_eq!(c.send(&["PEXPIRETIME", "a"]).await, int(at));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_pops_are_logged_as_their_non_blocking_forms() {
    let server = start_persistent(Backend::Memory, &[("appendonly", "yes")]).await;
    let mut waiter = server.raw().await;
    let mut c = server.raw().await;
    waiter.send_bytes(&request(&[b"BLPOP", b"l", b"0"])).await;
    waiter
        .send_bytes(&request(&[
            b"BLMOVE", b"src", b"dst", b"LEFT", b"RIGHT", b"0",
        ]))
        .await;
    // Let BLPOP block before the push (it is served by the push either way).
    tokio::time::sleep(Duration::from_millis(100)).await;
    c.send(&["RPUSH", "l", "a", "b"]).await;
    assert_eq!(waiter.read_frame().await, bulks(&["l", "a"]));
    tokio::time::sleep(Duration::from_millis(100)).await;
    c.send(&["RPUSH", "src", "x"]).await;
    assert_eq!(waiter.read_frame().await, bulk("x"));
    c.send(&["ZADD", "z", "1", "one", "2", "two"]).await;
    c.send(&["BZPOPMIN", "z", "0"]).await;
    c.send(&["RPUSH", "m", "1", "2", "3"]).await;
    c.send(&["BLMPOP", "0", "1", "m", "RIGHT", "COUNT", "2"])
        .await;
    let expected = dump(&mut c).await;
    if !against_redis() {
        let cmds = upper(&commands(&aof_text(server.dir().expect("dir"))));
        assert!(cmds.contains(&owned(&["LPOP", "l"])), "{cmds:?}");
        assert!(cmds.contains(&owned(&["LMOVE", "src", "dst", "LEFT", "RIGHT"])));
        assert!(cmds.contains(&owned(&["ZPOPMIN", "z"])));
        assert!(cmds.contains(&owned(&["RPOP", "m", "2"])));
        assert!(!cmds.iter().any(|c| c[0].starts_with('B')), "{cmds:?}");
    }
    drop((c, waiter));
    let server = server.restart().await;
    let mut c = server.raw().await;
    assert_eq!(dump(&mut c).await, expected);
    assert_eq!(c.send(&["LRANGE", "l", "0", "-1"]).await, bulks(&["b"]));
    assert_eq!(c.send(&["LRANGE", "dst", "0", "-1"]).await, bulks(&["x"]));
    server.stop().await;
}

/// The last increment file named by the manifest of `dir`.
fn last_incr(dir: &Path) -> std::path::PathBuf {
    let aof = dir.join("appendonlydir");
    let manifest = std::fs::read_to_string(aof.join("appendonly.aof.manifest")).expect("manifest");
    let name = manifest
        .lines()
        .rfind(|l| l.ends_with("type i"))
        .and_then(|l| l.split_whitespace().nth(1))
        .expect("an increment file")
        .to_string();
    aof.join(name)
}

/// Appends a command cut in the middle to the last increment file.
fn cut_command(dir: &Path) -> u64 {
    let path = last_incr(dir);
    let valid = std::fs::metadata(&path).expect("incr").len();
    let mut data = std::fs::read(&path).expect("incr");
    data.extend_from_slice(b"*3\r\n$3\r\nSET\r\n$3\r\ncut\r\n$5\r\nva");
    std::fs::write(&path, data).expect("write");
    valid
}

/// A memory server started in-process on an existing directory with
/// `appendonly yes` (loading whatever AOF is there).
async fn start_on_aof(dir: &Path) -> Result<ferrokv_server::RunningServer, String> {
    ferrokv_server::RunningServer::start(memory_config(dir, &[("appendonly", "yes")]))
        .await
        .map_err(|e| format!("{e:#}"))
}

/// Runs `commands` on a memory server with `appendonly yes` and stops it; returns
/// its directory (alive as long as the first value is).
async fn stopped_aof(commands: &[&[&str]]) -> (tempfile::TempDir, std::path::PathBuf) {
    let server = start_persistent(Backend::Memory, &[("appendonly", "yes")]).await;
    let mut c = server.raw().await;
    for command in commands {
        c.send(command).await;
    }
    drop(c);
    let dir = server.dir().expect("dir").to_path_buf();
    let kept = server.stop_keep_dir().await.expect("dir");
    (kept, dir)
}

fn memory_config(dir: &Path, options: &[(&str, &str)]) -> ferrokv_core::config::Config {
    let config = ferrokv_core::config::Config::new();
    config.set_startup("port", "0").expect("port");
    config.set_startup("bind", "127.0.0.1").expect("bind");
    config
        .set_startup("dir", dir.to_str().expect("utf-8"))
        .expect("dir");
    for (k, v) in options {
        config.set_startup(k, v).expect("option");
    }
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_tail_loads_only_with_aof_load_truncated_yes() {
    if against_redis() {
        return;
    }
    let (kept_dir, dir) = stopped_aof(&[&["SET", "kept", "1"], &["RPUSH", "list", "a", "b"]]).await;
    // Cut the tail, and try to start with aof-load-truncated no.
    let valid = cut_command(&dir);
    let refused = ferrokv_server::build_engine(memory_config(
        &dir,
        &[("appendonly", "yes"), ("aof-load-truncated", "no")],
    ));
    let message = format!("{:#}", refused.err().expect("start-up refused"));
    assert!(message.contains("Unexpected end of file"), "{message}");
    assert!(message.contains(".incr.aof"), "{message}");
    // With yes: loads, warns, and truncates the file to its last whole command.
    let engine = ferrokv_server::build_engine(memory_config(&dir, &[("appendonly", "yes")]))
        .expect("loads the truncated AOF");
    assert_eq!(
        std::fs::metadata(last_incr(&dir)).expect("incr").len(),
        valid
    );
    if let Some(aof) = engine.propagation.control() {
        let _ = aof.set_enabled(false);
    }
    drop(engine);
    drop(kept_dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corruption_before_the_end_stops_start_up_with_file_and_offset() {
    if against_redis() {
        return;
    }
    let (kept, dir) = stopped_aof(&[&["SET", "a", "1"], &["SET", "b", "2"]]).await;
    let path = last_incr(&dir);
    let mut data = std::fs::read(&path).expect("incr");
    let at = data.len() / 2;
    data[at] = b'?';
    data[at + 1] = b'?';
    std::fs::write(&path, &data).expect("write");
    let refused = ferrokv_server::build_engine(memory_config(&dir, &[("appendonly", "yes")]));
    let message = format!("{:#}", refused.err().expect("start-up refused"));
    assert!(message.contains("Bad file format"), "{message}");
    assert!(message.contains("offset"), "{message}");
    drop(kept);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_aof_reports_and_fixes_a_truncated_tail() {
    if against_redis() {
        return;
    }
    use ferrokv_server::aof::check::{check_aof, CheckOutcome};
    let (kept, dir) = stopped_aof(&[
        &["SET", "a", "1"],
        &["MULTI"],
        &["SET", "b", "1"],
        &["SET", "c", "1"],
        &["EXEC"],
    ])
    .await;
    let aof_dir = dir.join("appendonlydir");
    assert_eq!(check_aof(&aof_dir, false), Ok(CheckOutcome::Valid));
    let valid = cut_command(&dir);
    let incr = last_incr(&dir);
    assert_eq!(
        check_aof(&aof_dir.join("appendonly.aof.manifest"), false),
        Ok(CheckOutcome::Truncated(incr.clone(), valid))
    );
    // The binary: reports, then fixes.
    let binary = ferrokv_server_binary();
    let status = std::process::Command::new(&binary)
        .args(["--check-aof", aof_dir.to_str().expect("utf-8")])
        .stdout(std::process::Stdio::null())
        .status()
        .expect("runs");
    assert!(!status.success());
    let status = std::process::Command::new(&binary)
        .args(["--check-aof", "--fix", aof_dir.to_str().expect("utf-8")])
        .stdout(std::process::Stdio::null())
        .status()
        .expect("runs");
    assert!(status.success());
    assert_eq!(std::fs::metadata(&incr).expect("incr").len(), valid);
    assert_eq!(check_aof(&aof_dir, false), Ok(CheckOutcome::Valid));
    // An open MULTI at the end is cut back to before the MULTI.
    let mut data = std::fs::read(&incr).expect("incr");
    data.extend_from_slice(b"*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\nz\r\n$1\r\n1\r\n");
    std::fs::write(&incr, &data).expect("write");
    assert_eq!(
        check_aof(&aof_dir, true),
        Ok(CheckOutcome::Valid),
        "fixed by cutting the open transaction"
    );
    assert_eq!(std::fs::metadata(&incr).expect("incr").len(), valid);
    // A corrupt byte before the end cannot be fixed.
    let mut data = std::fs::read(&incr).expect("incr");
    data[0] = b'!';
    std::fs::write(&incr, &data).expect("write");
    assert!(matches!(
        check_aof(&aof_dir, true),
        Ok(CheckOutcome::Corrupt(_, 0))
    ));
    drop(kept);
}

async fn info_field(c: &mut RawClient, name: &str) -> String {
    let info = text(&c.send(&["INFO", "persistence"]).await);
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .unwrap_or_else(|| panic!("{name} not in INFO: {info}"))
        .trim()
        .to_string()
}

async fn wait_rewrite_done(c: &mut RawClient, rewrites_before: i64) {
    for _ in 0..500 {
        if info_field(c, "aof_rewrite_in_progress").await == "0"
            && info_field(c, "aof_rewrites")
                .await
                .parse::<i64>()
                .unwrap_or(0)
                > rewrites_before
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the rewrite did not finish");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bgrewriteaof_keeps_writes_made_during_the_rewrite() {
    let server = start_persistent(
        Backend::Memory,
        &[("appendonly", "yes"), ("aof-use-rdb-preamble", "no")],
    )
    .await;
    let mut c = server.raw().await;
    random_dataset(&mut c, 3, 400).await;
    assert_eq!(info_field(&mut c, "aof_enabled").await, "1");
    let rewrites = info_field(&mut c, "aof_rewrites")
        .await
        .parse()
        .unwrap_or(0);
    // A writer keeps incrementing while the rewrite runs.
    let addr = server.addr;
    let writer = tokio::spawn(async move {
        let mut w = RawClient::connect(addr).await;
        let mut acked = 0;
        for i in 0..400 {
            w.send(&["INCR", "counter"]).await;
            w.send(&["SET", &format!("during:{i}"), "v"]).await;
            acked += 1;
        }
        acked
    });
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert_eq!(
        c.send(&["BGREWRITEAOF"]).await,
        simple("Background append only file rewriting started")
    );
    let acked = writer.await.expect("writer");
    wait_rewrite_done(&mut c, rewrites).await;
    assert_eq!(info_field(&mut c, "aof_last_bgrewrite_status").await, "ok");
    if !against_redis() {
        let size: u64 = info_field(&mut c, "aof_base_size")
            .await
            .parse()
            .expect("size");
        assert!(size > 0);
        let dir = server.dir().expect("dir").join("appendonlydir");
        let manifest =
            std::fs::read_to_string(dir.join("appendonly.aof.manifest")).expect("manifest");
        let named: Vec<&str> = manifest
            .lines()
            .filter_map(|l| l.split_whitespace().nth(1))
            .collect();
        assert!(
            manifest.contains("type b") && manifest.contains("type i"),
            "{manifest}"
        );
        // Old files are gone: only what the manifest names (and itself) remain.
        for entry in std::fs::read_dir(&dir).expect("dir") {
            let name = entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned();
            assert!(
                name == "appendonly.aof.manifest" || named.contains(&name.as_str()),
                "stray file {name} ({manifest})"
            );
        }
    }
    assert_eq!(c.send(&["GET", "counter"]).await, bulk(acked.to_string()));
    let expected = dump(&mut c).await;
    drop(c);
    let server = server.restart().await;
    let mut c = server.raw().await;
    assert_eq!(dump(&mut c).await, expected);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_set_appendonly_yes_starts_from_a_fresh_base() {
    let mut server = start_persistent(Backend::Memory, &[("aof-use-rdb-preamble", "no")]).await;
    let mut c = server.raw().await;
    random_dataset(&mut c, 5, 150).await;
    assert_eq!(info_field(&mut c, "aof_enabled").await, "0");
    assert_eq!(c.send(&["CONFIG", "SET", "appendonly", "yes"]).await, ok());
    wait_rewrite_done(&mut c, 0).await;
    assert_eq!(info_field(&mut c, "aof_enabled").await, "1");
    c.send(&["SET", "after", "switch"]).await;
    c.send(&["HSET", "h-after", "f", "v"]).await;
    let expected = dump(&mut c).await;
    drop(c);
    server.set_startup_option("appendonly", "yes");
    let server = server.restart().await;
    let mut c = server.raw().await;
    assert_eq!(dump(&mut c).await, expected);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_rewrite_by_growth_percentage() {
    let server = start_persistent(
        Backend::Memory,
        &[
            ("appendonly", "yes"),
            ("aof-use-rdb-preamble", "no"),
            ("auto-aof-rewrite-min-size", "4096"),
            ("auto-aof-rewrite-percentage", "100"),
        ],
    )
    .await;
    let mut c = server.raw().await;
    let value = "v".repeat(100);
    for i in 0..200 {
        c.send(&["SET", "same", &format!("{value}{i}")]).await;
    }
    let rewritten = eventually(Duration::from_secs(10), || {
        let addr = server.addr;
        async move {
            let mut c = RawClient::connect(addr).await;
            info_field(&mut c, "aof_rewrites").await != "0"
                && info_field(&mut c, "aof_rewrite_in_progress").await == "0"
        }
    })
    .await;
    assert!(rewritten, "no automatic rewrite");
    let expected = dump(&mut c).await;
    drop(c);
    let server = server.restart().await;
    let mut c = server.raw().await;
    assert_eq!(dump(&mut c).await, expected);
    server.stop().await;
}

/// Acknowledged writes of a SIGKILL run: per writer, the highest `i` whose `SET
/// w<j>:<i>` was acknowledged, and when.
async fn write_until_killed(
    dir: &Path,
    backend: &str,
    fsync: &str,
) -> (
    Vec<i64>,
    Vec<Vec<(i64, std::time::Instant)>>,
    std::time::Instant,
) {
    let dir_s = dir.to_str().expect("utf-8").to_string();
    let server = ServerProcess::start(&[
        ("dir", &dir_s),
        ("appendonly", "yes"),
        ("backend", backend),
        ("appendfsync", fsync),
    ])
    .await;
    let addr = server.addr;
    let mut writers = Vec::new();
    for w in 0..4 {
        writers.push(tokio::spawn(async move {
            let mut acked: Vec<(i64, std::time::Instant)> = Vec::new();
            let Ok(mut stream) = tokio::net::TcpStream::connect(addr).await else {
                return acked;
            };
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut buf = [0u8; 64];
            for i in 0i64.. {
                let key = format!("w{w}:{i}");
                let req = request(&[b"SET", key.as_bytes(), b"v"]);
                if stream.write_all(&req).await.is_err() {
                    break;
                }
                // "+OK\r\n" is 5 bytes; anything else (EOF) ends the run.
                let mut got = 0;
                while got < 5 {
                    match stream.read(&mut buf[got..5]).await {
                        Ok(0) | Err(_) => return acked,
                        Ok(n) => got += n,
                    }
                }
                if &buf[..5] != b"+OK\r\n" {
                    return acked;
                }
                acked.push((i, std::time::Instant::now()));
            }
            acked
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let killed_at = std::time::Instant::now();
    // The writers go on until the kill breaks their connections.
    server.kill();
    let mut all = Vec::new();
    for w in writers {
        all.push(w.await.expect("writer"));
    }
    let last = all
        .iter()
        .map(|a| a.last().map_or(-1, |(i, _)| *i))
        .collect();
    (last, all, killed_at)
}

/// How many of writer `w`'s keys 0..=last exist after the restart.
async fn present(c: &mut RawClient, w: usize, last: i64) -> i64 {
    let mut n = 0;
    for i in 0..=last {
        if c.send(&["EXISTS", &format!("w{w}:{i}")]).await == int(1) {
            n += 1;
        }
    }
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_under_appendfsync_always_loses_no_acknowledged_write() {
    if against_redis() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let (last, _, _) = write_until_killed(dir.path(), "memory", "always").await;
    assert!(last.iter().all(|l| *l > 10), "too few writes: {last:?}");
    let server = start_on_aof(dir.path()).await.expect("restart");
    let mut c = RawClient::connect(server.addr).await;
    for (w, last) in last.iter().enumerate() {
        assert_eq!(present(&mut c, w, *last).await, last + 1, "writer {w}");
    }
    server.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_under_appendfsync_everysec_loses_at_most_about_a_second() {
    if against_redis() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let (last, acks, killed_at) = write_until_killed(dir.path(), "memory", "everysec").await;
    assert!(last.iter().all(|l| *l > 10), "too few writes: {last:?}");
    let server = start_on_aof(dir.path()).await.expect("restart");
    let mut c = RawClient::connect(server.addr).await;
    for (w, last) in last.iter().enumerate() {
        let found = present(&mut c, w, *last).await;
        // Lost writes may only be among those acknowledged in the last ~second
        // before the kill (a process kill loses none: writes reach the OS first).
        let recent = acks[w]
            .iter()
            .filter(|(_, at)| killed_at.duration_since(*at) < Duration::from_millis(1100))
            .count() as i64;
        assert!(
            found >= last + 1 - recent,
            "writer {w}: {found} of {}",
            last + 1
        );
    }
    server.stop().await.expect("stops");
}

// ---------------------------------------------------------------------------------
// Cross-loading with redis-server 7.0.
// ---------------------------------------------------------------------------------

async fn redis_with_aof(dir: &Path) -> Option<RedisServer> {
    redis_server_path()?;
    RedisServer::start_args(&[
        "--dir".into(),
        dir.to_str().expect("utf-8").into(),
        "--appendonly".into(),
        "yes".into(),
        "--aof-use-rdb-preamble".into(),
        "no".into(),
    ])
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_server_loads_ferrokvs_aof_directory() {
    if against_redis() || redis_server_path().is_none() {
        return;
    }
    let server = start_persistent(
        Backend::Memory,
        &[("appendonly", "yes"), ("aof-use-rdb-preamble", "no")],
    )
    .await;
    let mut c = server.raw().await;
    random_dataset(&mut c, 21, 200).await;
    // Part of the data in a rewritten base, part in the increment after it.
    c.send(&["BGREWRITEAOF"]).await;
    wait_rewrite_done(&mut c, 0).await;
    random_dataset(&mut c, 22, 100).await;
    let expected = dump(&mut c).await;
    drop(c);
    let dir = server.stop_keep_dir().await.expect("dir");
    let redis = redis_with_aof(dir.path()).await.expect("redis-server");
    let mut r = redis.raw().await;
    assert_eq!(dump(&mut r).await, expected);
    drop(redis);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ferrokv_loads_redis_servers_aof_directory() {
    if against_redis() || redis_server_path().is_none() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let redis = redis_with_aof(dir.path()).await.expect("redis-server");
    let mut r = redis.raw().await;
    random_dataset(&mut r, 31, 200).await;
    assert_eq!(
        r.send(&["BGREWRITEAOF"]).await,
        simple("Background append only file rewriting started")
    );
    for _ in 0..500 {
        if info_field(&mut r, "aof_rewrite_in_progress").await == "0"
            && info_field(&mut r, "aof_rewrites").await != "0"
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    random_dataset(&mut r, 32, 100).await;
    r.send(&["MULTI"]).await;
    r.send(&["INCR", "tx"]).await;
    r.send(&["INCR", "tx"]).await;
    r.send(&["EXEC"]).await;
    let expected = dump(&mut r).await;
    r.send_bytes(&request(&[b"SHUTDOWN"])).await;
    assert!(r.is_closed().await);
    drop(redis);
    let server = start_on_aof(dir.path())
        .await
        .expect("ferrokv loads redis' AOF");
    let mut c = RawClient::connect(server.addr).await;
    assert_eq!(dump(&mut c).await, expected);
    server.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bgrewriteaof_with_the_aof_off_writes_a_base_only() {
    let mut server = start_persistent(Backend::Memory, &[("aof-use-rdb-preamble", "no")]).await;
    let mut c = server.raw().await;
    random_dataset(&mut c, 41, 100).await;
    assert_eq!(
        c.send(&["BGREWRITEAOF"]).await,
        simple("Background append only file rewriting started")
    );
    wait_rewrite_done(&mut c, 0).await;
    assert_eq!(info_field(&mut c, "aof_enabled").await, "0");
    let manifest = std::fs::read_to_string(
        server
            .dir()
            .expect("dir")
            .join("appendonlydir/appendonly.aof.manifest"),
    )
    .expect("manifest");
    assert_eq!(manifest, "file appendonly.aof.1.base.aof seq 1 type b\n");
    let expected = dump(&mut c).await;
    drop(c);
    server.set_startup_option("appendonly", "yes");
    let server = server.restart().await;
    let mut c = server.raw().await;
    assert_eq!(dump(&mut c).await, expected);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_file_aof_is_loaded_and_converted() {
    if against_redis() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let mut legacy = b"*2\r\n$6\r\nSELECT\r\n$1\r\n2\r\n".to_vec();
    legacy.extend_from_slice(b"*3\r\n$3\r\nSET\r\n$3\r\nold\r\n$5\r\nstyle\r\n");
    std::fs::write(dir.path().join("appendonly.aof"), legacy).expect("write");
    let server = start_on_aof(dir.path()).await.expect("loads");
    let mut c = RawClient::connect(server.addr).await;
    c.send(&["SELECT", "2"]).await;
    assert_eq!(c.send(&["GET", "old"]).await, bulk("style"));
    server.stop().await.expect("stops");
    // Now in the multi-part layout: loads again from appendonlydir.
    std::fs::remove_file(dir.path().join("appendonly.aof")).expect("remove");
    let server = start_on_aof(dir.path()).await.expect("loads");
    let mut c = RawClient::connect(server.addr).await;
    c.send(&["SELECT", "2"]).await;
    assert_eq!(c.send(&["GET", "old"]).await, bulk("style"));
    server.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timestamp_annotations_are_written_and_skipped_on_load() {
    let server = start_persistent(
        Backend::Memory,
        &[("appendonly", "yes"), ("aof-timestamp-enabled", "yes")],
    )
    .await;
    let mut c = server.raw().await;
    c.send(&["SET", "a", "1"]).await;
    c.send(&["LPUSH", "l", "x"]).await;
    if !against_redis() {
        let text = aof_text(server.dir().expect("dir"));
        let ts = text
            .lines()
            .find_map(|l| l.strip_prefix("#TS:"))
            .expect("a #TS: annotation");
        let ts: i64 = ts.trim().parse().expect("seconds");
        assert!((ts - unix_now()).abs() < 60, "{ts}");
    }
    let expected = dump(&mut c).await;
    drop(c);
    let dir = server.stop_keep_dir().await.expect("dir");
    if redis_server_path().is_some() {
        // redis-server 7.0 loads the annotated file too.
        let redis = redis_with_aof(dir.path()).await.expect("redis-server");
        let mut r = redis.raw().await;
        assert_eq!(dump(&mut r).await, expected);
    }
}

// ---------------------------------------------------------------------------------
// appendfsync on the disk backend (RocksDB's write-ahead log).
// ---------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn disk_backend_under_appendfsync_always_loses_no_acknowledged_write() {
    if against_redis() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let (last, _, _) = write_until_killed(dir.path(), "disk", "always").await;
    assert!(last.iter().all(|l| *l > 10), "too few writes: {last:?}");
    let config = memory_config(dir.path(), &[("backend", "disk")]);
    let server = ferrokv_server::RunningServer::start(config)
        .await
        .expect("restart");
    let mut c = RawClient::connect(server.addr).await;
    for (w, last) in last.iter().enumerate() {
        assert_eq!(present(&mut c, w, *last).await, last + 1, "writer {w}");
    }
    server.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disk_backend_appendfsync_policies_at_run_time() {
    if against_redis() {
        return;
    }
    let server = start_with(Backend::Disk, &[("appendfsync", "always")]).await;
    // Under always, write batches are tracked (to wait for the log sync) ...
    assert!(server.engine().propagation.active());
    let mut clients = Vec::new();
    for _ in 0..4 {
        clients.push(server.raw().await);
    }
    for round in 0..20 {
        for (i, c) in clients.iter_mut().enumerate() {
            c.send_bytes(&request(&[b"INCR", format!("n{i}").as_bytes()]))
                .await;
        }
        for c in clients.iter_mut() {
            assert_eq!(c.read_frame().await, int(round + 1));
        }
    }
    // ... and not under everysec or no.
    let mut c = server.raw().await;
    assert_eq!(
        c.send(&["CONFIG", "SET", "appendfsync", "everysec"]).await,
        ok()
    );
    assert!(!server.engine().propagation.active());
    assert_eq!(c.send(&["SET", "k", "v"]).await, ok());
    assert_eq!(c.send(&["CONFIG", "SET", "appendfsync", "no"]).await, ok());
    assert_eq!(c.send(&["SET", "k", "w"]).await, ok());
    assert_eq!(
        c.send(&["CONFIG", "SET", "appendfsync", "always"]).await,
        ok()
    );
    assert!(server.engine().propagation.active());
    assert_eq!(c.send(&["SET", "k", "x"]).await, ok());
    assert_err_prefix(&c.send(&["BGREWRITEAOF"]).await, "ERR the disk backend");
    let server = server.restart().await;
    let mut c = server.raw().await;
    assert_eq!(c.send(&["GET", "k"]).await, bulk("x"));
    assert_eq!(c.send(&["GET", "n3"]).await, bulk("20"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rewrite_base_is_point_in_time_while_writes_continue() {
    let server = start_persistent(
        Backend::Memory,
        &[("appendonly", "yes"), ("aof-use-rdb-preamble", "no")],
    )
    .await;
    let mut c = server.raw().await;
    // 30 000 counters, lists and hashes across two databases.
    for db in ["0", "2"] {
        c.send(&["SELECT", db]).await;
        for chunk in 0..30 {
            let mut args: Vec<String> = vec!["MSET".into()];
            for i in chunk * 500..(chunk + 1) * 500 {
                args.push(format!("c{i}"));
                args.push("0".into());
            }
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            c.send(&refs).await;
        }
        for i in 0..200 {
            c.send(&["RPUSH", &format!("l{i}"), "a"]).await;
            c.send(&["HSET", &format!("h{i}"), "n", "0"]).await;
        }
    }
    c.send(&["SELECT", "0"]).await;
    let rewrites = info_field(&mut c, "aof_rewrites")
        .await
        .parse()
        .unwrap_or(0);
    // Writers change keys that existed when the rewrite started, in ways that
    // replaying twice would show (INCR, RPUSH, HINCRBY, RENAME, MOVE, SWAPDB).
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..3u64 {
        let (addr, stop) = (server.addr, stop.clone());
        writers.push(tokio::spawn(async move {
            let mut c = RawClient::connect(addr).await;
            let mut rng = Rng(w + 1);
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) || n < 300 {
                let db = if rng.below(2) == 0 { "0" } else { "2" };
                c.send(&["SELECT", db]).await;
                let i = rng.below(30_000);
                match rng.below(8) {
                    0 => c.send(&["RPUSH", &format!("l{}", i % 200), "x"]).await,
                    1 => {
                        c.send(&["HINCRBY", &format!("h{}", i % 200), "n", "1"])
                            .await
                    }
                    2 => {
                        c.send(&["RENAME", &format!("c{i}"), &format!("r{w}-{n}")])
                            .await
                    }
                    3 => c.send(&["MOVE", &format!("c{i}"), "5"]).await,
                    4 if w == 0 && n == 50 => c.send(&["SWAPDB", "2", "3"]).await,
                    _ => c.send(&["INCR", &format!("c{i}")]).await,
                };
                n += 1;
            }
            n
        }));
    }
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(
        c.send(&["BGREWRITEAOF"]).await,
        simple("Background append only file rewriting started")
    );
    wait_rewrite_done(&mut c, rewrites).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut total = 0;
    for w in writers {
        total += w.await.expect("writer");
    }
    assert!(total >= 900);
    // Every database, including 3 and 5 where SWAPDB and MOVE put keys.
    let mut expected = BTreeMap::new();
    for db in 0..8 {
        c.send(&["SELECT", &db.to_string()]).await;
        for key in sorted_texts(&c.send(&["KEYS", "*"]).await) {
            let kind = text(&c.send(&["TYPE", &key]).await);
            let value = match kind.as_str() {
                "string" => text(&c.send(&["GET", &key]).await),
                "list" => format!("{:?}", c.send(&["LRANGE", &key, "0", "-1"]).await),
                _ => format!("{:?}", c.send(&["HGETALL", &key]).await),
            };
            expected.insert(format!("{db}/{key}"), value);
        }
    }
    drop(c);
    let server = server.restart().await;
    let mut c = server.raw().await;
    for db in 0..8 {
        c.send(&["SELECT", &db.to_string()]).await;
        let keys = sorted_texts(&c.send(&["KEYS", "*"]).await);
        let prefix = format!("{db}/");
        let want: Vec<&String> = expected.keys().filter(|k| k.starts_with(&prefix)).collect();
        assert_eq!(keys.len(), want.len(), "db {db}");
        for key in keys {
            let kind = text(&c.send(&["TYPE", &key]).await);
            let value = match kind.as_str() {
                "string" => text(&c.send(&["GET", &key]).await),
                "list" => format!("{:?}", c.send(&["LRANGE", &key, "0", "-1"]).await),
                _ => format!("{:?}", c.send(&["HGETALL", &key]).await),
            };
            assert_eq!(
                Some(&value),
                expected.get(&format!("{db}/{key}")),
                "{db}/{key}"
            );
        }
    }
    server.stop().await;
}
