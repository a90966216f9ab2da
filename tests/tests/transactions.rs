//! MULTI / EXEC / DISCARD / WATCH / UNWATCH with several clients: queuing and
//! EXECABORT, runtime errors, every way a watched key can change (writes by anyone,
//! FLUSHDB, FLUSHALL, SWAPDB, RENAME, MOVE, expiry, creation), blocking commands
//! inside a transaction, and EXEC's atomicity against concurrent readers and writers.
//! Replies were checked against redis-server 7.0 (`FERROKV_TESTS_TARGET=redis`).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ferrokv_tests::*;

fn queued() -> Frame {
    simple("QUEUED")
}

fn execabort() -> Frame {
    err("EXECABORT Transaction discarded because of previous errors.")
}

/// Runs `MULTI; PING; EXEC` and returns EXEC's reply: `[PONG]` if the transaction
/// ran, a null array if a watched key changed.
async fn exec_ping(c: &mut RawClient) -> Frame {
    assert_eq!(c.send(&["MULTI"]).await, ok());
    assert_eq!(c.send(&["PING"]).await, queued());
    c.send(&["EXEC"]).await
}

fn ran() -> Frame {
    arr(vec![simple("PONG")])
}

/// Polls `INFO section` until `check` accepts it (fails after 5 s).
async fn wait_for_info(c: &mut RawClient, section: &str, check: impl Fn(&str) -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let info = text(&c.send(&["INFO", section]).await);
        if check(&info) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "INFO {section} never matched: {info}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

backend_tests! {
    async fn exec_runs_the_queue_in_order(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["MULTI"]).await, ok());
        assert_eq!(c.send(&["SET", "a", "1"]).await, queued());
        assert_eq!(c.send(&["INCR", "a"]).await, queued());
        assert_eq!(c.send(&["RPUSH", "l", "x", "y"]).await, queued());
        assert_eq!(c.send(&["LRANGE", "l", "0", "-1"]).await, queued());
        assert_eq!(c.send(&["GET", "a"]).await, queued());
        // Nothing ran yet: another client sees none of it.
        let mut other = server.raw().await;
        assert_eq!(other.send(&["EXISTS", "a", "l"]).await, int(0));
        assert_eq!(
            c.send(&["EXEC"]).await,
            arr(vec![ok(), int(2), int(2), bulks(&["x", "y"]), bulk("2")])
        );
        assert_eq!(other.send(&["GET", "a"]).await, bulk("2"));
        // An empty transaction.
        assert_eq!(c.send(&["MULTI"]).await, ok());
        assert_eq!(c.send(&["EXEC"]).await, arr(vec![]));
        // SELECT inside the transaction applies to the commands after it.
        assert_eq!(c.send(&["MULTI"]).await, ok());
        assert_eq!(c.send(&["SELECT", "2"]).await, queued());
        assert_eq!(c.send(&["SET", "a", "db2"]).await, queued());
        assert_eq!(c.send(&["EXEC"]).await, arr(vec![ok(), ok()]));
        assert_eq!(c.send(&["GET", "a"]).await, bulk("db2"));
        assert_eq!(other.send(&["GET", "a"]).await, bulk("2"));
    }

    async fn runtime_errors_belong_to_their_command(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["SET", "s", "x"]).await, ok());
        assert_eq!(c.send(&["MULTI"]).await, ok());
        assert_eq!(c.send(&["INCR", "s"]).await, queued());
        assert_eq!(c.send(&["LPUSH", "s", "1"]).await, queued());
        assert_eq!(c.send(&["SET", "t", "1"]).await, queued());
        assert_eq!(c.send(&["SET", "t", "1", "BADOPT"]).await, queued());
        assert_eq!(
            c.send(&["EXEC"]).await,
            arr(vec![not_integer(), wrongtype(), ok(), syntax_error()])
        );
        assert_eq!(c.send(&["GET", "t"]).await, bulk("1"));
    }

    async fn queuing_errors_abort_exec(server: &TestServer) {
        let mut c = server.raw().await;
        let bad: [(&[&str], Frame); 3] = [
            (
                &["NOSUCH", "a"],
                err("ERR unknown command 'NOSUCH', with args beginning with: 'a' "),
            ),
            (&["SET", "a"], wrong_args("set")),
            (&["SHUTDOWN"], err("ERR Command not allowed inside a transaction")),
        ];
        for (command, reply) in bad {
            assert_eq!(c.send(&["MULTI"]).await, ok());
            assert_eq!(c.send(&["SET", "k", "v"]).await, queued());
            assert_eq!(c.send(command).await, reply);
            // Later commands are still answered QUEUED.
            assert_eq!(c.send(&["SET", "j", "v"]).await, queued());
            assert_eq!(c.send(&["EXEC"]).await, execabort());
            assert_eq!(c.send(&["EXISTS", "k", "j"]).await, int(0));
        }
        assert_eq!(c.send(&["EXEC"]).await, err("ERR EXEC without MULTI"));
        // A refused EXEC ends the transaction at once.
        assert_eq!(c.send(&["WATCH", "w"]).await, ok());
        assert_eq!(c.send(&["MULTI"]).await, ok());
        assert_eq!(c.send(&["SET", "k", "v"]).await, queued());
        assert_eq!(
            c.send(&["EXEC", "x"]).await,
            err("EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command")
        );
        assert_eq!(c.send(&["SET", "j", "v"]).await, ok());
        assert_eq!(c.send(&["EXISTS", "k"]).await, int(0));
        assert_eq!(c.send(&["EXEC"]).await, err("ERR EXEC without MULTI"));
        // ... and its watches.
        assert_eq!(c.send(&["SET", "w", "1"]).await, ok());
        assert_eq!(exec_ping(&mut c).await, ran());
    }

    async fn nested_multi_and_watch_inside_multi_do_not_abort(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["MULTI"]).await, ok());
        assert_eq!(c.send(&["MULTI"]).await, err("ERR MULTI calls can not be nested"));
        assert_eq!(c.send(&["SET", "a", "1"]).await, queued());
        assert_eq!(
            c.send(&["WATCH", "a"]).await,
            err("ERR WATCH inside MULTI is not allowed")
        );
        assert_eq!(c.send(&["EXEC"]).await, arr(vec![ok()]));
        assert_eq!(c.send(&["GET", "a"]).await, bulk("1"));
    }

    async fn exec_and_discard_without_multi(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["EXEC"]).await, err("ERR EXEC without MULTI"));
        assert_eq!(c.send(&["DISCARD"]).await, err("ERR DISCARD without MULTI"));
        assert_eq!(c.send(&["MULTI", "x"]).await, wrong_args("multi"));
        assert_eq!(c.send(&["WATCH"]).await, wrong_args("watch"));
        assert_eq!(c.send(&["UNWATCH", "x"]).await, wrong_args("unwatch"));
        assert_eq!(c.send(&["UNWATCH"]).await, ok());
    }

    async fn discard_drops_the_queue_and_the_watches(server: &TestServer) {
        let mut c = server.raw().await;
        let mut other = server.raw().await;
        assert_eq!(c.send(&["WATCH", "w"]).await, ok());
        assert_eq!(c.send(&["MULTI"]).await, ok());
        assert_eq!(c.send(&["SET", "a", "1"]).await, queued());
        assert_eq!(c.send(&["DISCARD"]).await, ok());
        assert_eq!(c.send(&["EXISTS", "a"]).await, int(0));
        // The watch went with the transaction.
        assert_eq!(other.send(&["SET", "w", "1"]).await, ok());
        assert_eq!(exec_ping(&mut c).await, ran());
    }

    async fn pipelined_transaction(server: &TestServer) {
        let mut c = server.raw().await;
        let mut batch = Vec::new();
        for args in [
            &["MULTI"][..],
            &["INCR", "p"],
            &["INCR", "p"],
            &["EXEC"],
            &["GET", "p"],
        ] {
            let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
            batch.extend(request(&args));
        }
        c.send_bytes(&batch).await;
        assert_eq!(c.read_frame().await, ok());
        assert_eq!(c.read_frame().await, queued());
        assert_eq!(c.read_frame().await, queued());
        assert_eq!(c.read_frame().await, ints(&[1, 2]));
        assert_eq!(c.read_frame().await, bulk("2"));
    }

    async fn watch_aborts_when_another_client_writes(server: &TestServer) {
        let mut c = server.raw().await;
        let mut other = server.raw().await;
        assert_eq!(c.send(&["SET", "k", "1"]).await, ok());
        assert_eq!(c.send(&["WATCH", "k"]).await, ok());
        assert_eq!(other.send(&["INCR", "k"]).await, int(2));
        assert_eq!(c.send(&["MULTI"]).await, ok());
        assert_eq!(c.send(&["SET", "k", "mine"]).await, queued());
        assert_eq!(c.send(&["EXEC"]).await, nil_array());
        assert_eq!(c.send(&["GET", "k"]).await, bulk("2"));
        // EXEC unwatched everything: the next transaction runs.
        assert_eq!(other.send(&["INCR", "k"]).await, int(3));
        assert_eq!(exec_ping(&mut c).await, ran());
        // One key of several.
        assert_eq!(c.send(&["WATCH", "a", "b", "k", "c", "d"]).await, ok());
        assert_eq!(other.send(&["DEL", "k"]).await, int(1));
        assert_eq!(exec_ping(&mut c).await, nil_array());
        // Collections too.
        assert_eq!(c.send(&["WATCH", "h"]).await, ok());
        assert_eq!(other.send(&["HSET", "h", "f", "v"]).await, int(1));
        assert_eq!(exec_ping(&mut c).await, nil_array());
    }

    async fn watch_aborts_on_the_watchers_own_write(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["WATCH", "k"]).await, ok());
        assert_eq!(c.send(&["SET", "k", "v"]).await, ok());
        assert_eq!(exec_ping(&mut c).await, nil_array());
        // EXPIRE on a watched key is a change.
        assert_eq!(c.send(&["WATCH", "k"]).await, ok());
        assert_eq!(c.send(&["EXPIRE", "k", "100"]).await, int(1));
        assert_eq!(exec_ping(&mut c).await, nil_array());
        // SORT ... STORE even with an empty result (it deletes the destination).
        assert_eq!(c.send(&["WATCH", "k"]).await, ok());
        assert_eq!(c.send(&["SORT", "emptylist", "STORE", "k"]).await, int(0));
        assert_eq!(exec_ping(&mut c).await, nil_array());
    }

    async fn watch_aborts_when_a_missing_key_is_created(server: &TestServer) {
        let mut c = server.raw().await;
        let mut other = server.raw().await;
        assert_eq!(c.send(&["WATCH", "new"]).await, ok());
        assert_eq!(other.send(&["SADD", "new", "m"]).await, int(1));
        assert_eq!(exec_ping(&mut c).await, nil_array());
    }

    async fn reads_and_no_op_writes_do_not_abort(server: &TestServer) {
        let mut c = server.raw().await;
        let mut other = server.raw().await;
        assert_eq!(c.send(&["SET", "k", "1"]).await, ok());
        assert_eq!(c.send(&["WATCH", "k", "missing"]).await, ok());
        assert_eq!(other.send(&["GET", "k"]).await, bulk("1"));
        assert_eq!(other.send(&["EXISTS", "missing"]).await, int(0));
        assert_eq!(c.send(&["GET", "k"]).await, bulk("1"));
        assert_eq!(other.send(&["SET", "other", "1"]).await, ok());
        assert_eq!(exec_ping(&mut c).await, ran());
    }

    async fn unwatch_forgets_the_watched_keys(server: &TestServer) {
        let mut c = server.raw().await;
        let mut other = server.raw().await;
        assert_eq!(c.send(&["WATCH", "k"]).await, ok());
        assert_eq!(other.send(&["SET", "k", "1"]).await, ok());
        assert_eq!(c.send(&["UNWATCH"]).await, ok());
        assert_eq!(exec_ping(&mut c).await, ran());
        // UNWATCH inside MULTI is queued.
        assert_eq!(c.send(&["MULTI"]).await, ok());
        assert_eq!(c.send(&["UNWATCH"]).await, queued());
        assert_eq!(c.send(&["EXEC"]).await, arr(vec![ok()]));
    }

    async fn flushdb_and_flushall_touch_existing_watched_keys(server: &TestServer) {
        let mut c = server.raw().await;
        let mut other = server.raw().await;
        // FLUSHDB of another database does not touch it.
        assert_eq!(c.send(&["SET", "x", "30"]).await, ok());
        assert_eq!(c.send(&["WATCH", "x"]).await, ok());
        assert_eq!(other.send(&["SELECT", "1"]).await, ok());
        assert_eq!(other.send(&["FLUSHDB"]).await, ok());
        assert_eq!(exec_ping(&mut c).await, ran());
        // FLUSHALL from another database does.
        assert_eq!(c.send(&["WATCH", "x"]).await, ok());
        assert_eq!(other.send(&["FLUSHALL"]).await, ok());
        assert_eq!(exec_ping(&mut c).await, nil_array());
        // A watched key that does not exist is not affected.
        assert_eq!(c.send(&["WATCH", "x"]).await, ok());
        assert_eq!(other.send(&["FLUSHALL"]).await, ok());
        assert_eq!(exec_ping(&mut c).await, ran());
        // FLUSHDB of the watched key's database.
        assert_eq!(c.send(&["SET", "x", "30"]).await, ok());
        assert_eq!(c.send(&["WATCH", "x"]).await, ok());
        assert_eq!(other.send(&["SELECT", "0"]).await, ok());
        assert_eq!(other.send(&["FLUSHDB"]).await, ok());
        assert_eq!(exec_ping(&mut c).await, nil_array());
        assert_eq!(c.send(&["WATCH", "x"]).await, ok());
        assert_eq!(other.send(&["FLUSHDB"]).await, ok());
        assert_eq!(exec_ping(&mut c).await, ran());
    }

    async fn swapdb_touches_watched_keys_that_exist_in_either_db(server: &TestServer) {
        let mut c = server.raw().await;
        let mut other = server.raw().await;
        // The key exists in the watched database.
        assert_eq!(c.send(&["SET", "x", "1"]).await, ok());
        assert_eq!(c.send(&["WATCH", "x"]).await, ok());
        assert_eq!(other.send(&["SWAPDB", "0", "1"]).await, ok());
        assert_eq!(exec_ping(&mut c).await, nil_array());
        // Now it exists only in db 1, and comes back.
        assert_eq!(c.send(&["EXISTS", "x"]).await, int(0));
        assert_eq!(c.send(&["WATCH", "x"]).await, ok());
        assert_eq!(other.send(&["SWAPDB", "1", "0"]).await, ok());
        assert_eq!(exec_ping(&mut c).await, nil_array());
        // In neither database: untouched.
        assert_eq!(c.send(&["WATCH", "nowhere"]).await, ok());
        assert_eq!(other.send(&["SWAPDB", "0", "1"]).await, ok());
        assert_eq!(exec_ping(&mut c).await, ran());
        // A database not involved: untouched.
        assert_eq!(c.send(&["SELECT", "5"]).await, ok());
        assert_eq!(c.send(&["SET", "y", "1"]).await, ok());
        assert_eq!(c.send(&["WATCH", "y"]).await, ok());
        assert_eq!(other.send(&["SWAPDB", "0", "1"]).await, ok());
        assert_eq!(exec_ping(&mut c).await, ran());
    }

    async fn rename_and_move_onto_and_away_from_a_watched_key(server: &TestServer) {
        let mut c = server.raw().await;
        let mut other = server.raw().await;
        // RENAME onto.
        assert_eq!(other.send(&["SET", "src", "1"]).await, ok());
        assert_eq!(c.send(&["WATCH", "dst"]).await, ok());
        assert_eq!(other.send(&["RENAME", "src", "dst"]).await, ok());
        assert_eq!(exec_ping(&mut c).await, nil_array());
        // RENAME away.
        assert_eq!(c.send(&["WATCH", "dst"]).await, ok());
        assert_eq!(other.send(&["RENAME", "dst", "away"]).await, ok());
        assert_eq!(exec_ping(&mut c).await, nil_array());
        // MOVE away to another database.
        assert_eq!(c.send(&["WATCH", "away"]).await, ok());
        assert_eq!(other.send(&["MOVE", "away", "3"]).await, int(1));
        assert_eq!(exec_ping(&mut c).await, nil_array());
        // MOVE into the watcher's database.
        assert_eq!(other.send(&["SET", "m", "1"]).await, ok());
        assert_eq!(c.send(&["SELECT", "3"]).await, ok());
        assert_eq!(c.send(&["WATCH", "m"]).await, ok());
        assert_eq!(other.send(&["MOVE", "m", "3"]).await, int(1));
        assert_eq!(exec_ping(&mut c).await, nil_array());
        // COPY ... DB into it.
        assert_eq!(other.send(&["SET", "cp", "1"]).await, ok());
        assert_eq!(c.send(&["WATCH", "cp"]).await, ok());
        assert_eq!(other.send(&["COPY", "cp", "cp", "DB", "3"]).await, int(1));
        assert_eq!(exec_ping(&mut c).await, nil_array());
        // The same name in another database is another key.
        assert_eq!(c.send(&["WATCH", "m"]).await, ok());
        assert_eq!(other.send(&["SET", "m", "db0"]).await, ok());
        assert_eq!(exec_ping(&mut c).await, ran());
    }

    async fn watched_key_that_expires_aborts_exec(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["SET", "k", "v"]).await, ok());
        assert_eq!(c.send(&["PEXPIRE", "k", "20"]).await, int(1));
        assert_eq!(c.send(&["WATCH", "k"]).await, ok());
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(exec_ping(&mut c).await, nil_array());
        // Expired and removed (by a read, or by the active cycle) before EXEC.
        assert_eq!(c.send(&["SET", "k", "v", "PX", "20"]).await, ok());
        assert_eq!(c.send(&["WATCH", "k"]).await, ok());
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(c.send(&["GET", "k"]).await, nil());
        assert_eq!(exec_ping(&mut c).await, nil_array());
        // Removed by the active expiry cycle, nobody reading it.
        assert_eq!(c.send(&["SET", "k", "v", "PX", "20"]).await, ok());
        assert_eq!(c.send(&["WATCH", "k"]).await, ok());
        let mut other = server.raw().await;
        wait_for_info(&mut other, "keyspace", |info| !info.contains("db0:")).await;
        assert_eq!(exec_ping(&mut c).await, nil_array());
        // A volatile key that does not expire before EXEC does not abort.
        assert_eq!(c.send(&["SET", "k", "v", "EX", "100"]).await, ok());
        assert_eq!(c.send(&["WATCH", "k"]).await, ok());
        assert_eq!(exec_ping(&mut c).await, ran());
        // A key already expired when watched counts as missing.
        assert_eq!(c.send(&["SET", "stale", "v", "PX", "1"]).await, ok());
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(c.send(&["WATCH", "stale"]).await, ok());
        assert_eq!(exec_ping(&mut c).await, ran());
    }

    async fn aborted_exec_is_a_null_in_resp3(server: &TestServer) {
        let mut c = server.raw().await;
        assert!(matches!(c.send(&["HELLO", "3"]).await, Frame::Map(_)));
        assert_eq!(c.send(&["WATCH", "k"]).await, ok());
        assert_eq!(c.send(&["SET", "k", "v"]).await, ok());
        assert_eq!(c.send(&["MULTI"]).await, ok());
        c.send_bytes(&request(&[b"EXEC"])).await;
        let (frame, raw) = c.read_reply().await;
        assert_eq!(frame, nil());
        assert_eq!(&raw[..], b"_\r\n");
        let mut c2 = server.raw().await;
        assert_eq!(c2.send(&["WATCH", "k"]).await, ok());
        assert_eq!(c2.send(&["SET", "k", "v"]).await, ok());
        assert_eq!(c2.send(&["MULTI"]).await, ok());
        c2.send_bytes(&request(&[b"EXEC"])).await;
        let (_, raw) = c2.read_reply().await;
        assert_eq!(&raw[..], b"*-1\r\n");
    }

    async fn quit_inside_multi_closes(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["MULTI"]).await, ok());
        assert_eq!(c.send(&["SET", "q", "1"]).await, queued());
        assert_eq!(c.send(&["QUIT"]).await, ok());
        assert!(c.is_closed().await);
        let mut other = server.raw().await;
        assert_eq!(other.send(&["EXISTS", "q"]).await, int(0));
    }

    async fn reset_leaves_the_transaction(server: &TestServer) {
        let mut c = server.raw().await;
        let mut other = server.raw().await;
        assert_eq!(c.send(&["WATCH", "k"]).await, ok());
        assert_eq!(c.send(&["MULTI"]).await, ok());
        assert_eq!(c.send(&["SET", "r", "1"]).await, queued());
        assert_eq!(c.send(&["RESET"]).await, simple("RESET"));
        assert_eq!(c.send(&["EXEC"]).await, err("ERR EXEC without MULTI"));
        assert_eq!(c.send(&["EXISTS", "r"]).await, int(0));
        assert_eq!(other.send(&["SET", "k", "1"]).await, ok());
        assert_eq!(exec_ping(&mut c).await, ran());
    }

    async fn blocking_commands_inside_multi_do_not_block(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["MULTI"]).await, ok());
        assert_eq!(c.send(&["BLPOP", "empty", "0"]).await, queued());
        assert_eq!(c.send(&["BLMOVE", "empty", "d", "LEFT", "LEFT", "0"]).await, queued());
        assert_eq!(c.send(&["BZPOPMIN", "emptyz", "0"]).await, queued());
        assert_eq!(c.send(&["RPUSH", "l", "x"]).await, queued());
        assert_eq!(c.send(&["BRPOP", "l", "0"]).await, queued());
        let reply = tokio::time::timeout(Duration::from_secs(5), c.send(&["EXEC"]))
            .await
            .expect("EXEC must not block");
        assert_eq!(
            reply,
            arr(vec![nil_array(), nil(), nil_array(), int(1), bulks(&["l", "x"])])
        );
        // Still usable afterwards.
        assert_eq!(c.send(&["PING"]).await, simple("PONG"));
    }

    async fn exec_serves_clients_blocked_on_keys_it_wrote(server: &TestServer) {
        let mut blocked = server.raw().await;
        let mut c = server.raw().await;
        blocked
            .send_bytes(&request(&[b"BLPOP", b"q", b"0"]))
            .await;
        wait_for_info(&mut c, "clients", |info| info.contains("blocked_clients:1")).await;
        assert_eq!(c.send(&["MULTI"]).await, ok());
        assert_eq!(c.send(&["RPUSH", "q", "a", "b"]).await, queued());
        assert_eq!(c.send(&["LLEN", "q"]).await, queued());
        assert_eq!(c.send(&["EXEC"]).await, ints(&[2, 2]));
        // The blocked client is served after the whole transaction.
        assert_eq!(blocked.read_frame().await, bulks(&["q", "a"]));
        assert_eq!(c.send(&["LRANGE", "q", "0", "-1"]).await, bulks(&["b"]));
    }

    async fn commandstats_count_queued_commands_when_they_run(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["CONFIG", "RESETSTAT"]).await, ok());
        assert_eq!(c.send(&["SET", "s", "x"]).await, ok());
        assert_eq!(c.send(&["MULTI"]).await, ok());
        assert_eq!(c.send(&["INCR", "a"]).await, queued());
        assert_eq!(c.send(&["INCR", "s"]).await, queued());
        assert_eq!(c.send(&["EXEC"]).await, arr(vec![int(1), not_integer()]));
        assert_eq!(c.send(&["MULTI"]).await, ok());
        assert_eq!(c.send(&["INCR", "a"]).await, queued());
        assert_eq!(c.send(&["DISCARD"]).await, ok());
        assert_eq!(c.send(&["MULTI"]).await, ok());
        assert_eq!(
            c.send(&["SHUTDOWN"]).await,
            err("ERR Command not allowed inside a transaction")
        );
        assert_eq!(c.send(&["EXEC"]).await, execabort());
        let stats = text(&c.send(&["INFO", "commandstats"]).await);
        let line = |name: &str| {
            stats
                .lines()
                .find(|l| l.starts_with(&format!("cmdstat_{name}:")))
                .unwrap_or_else(|| panic!("no {name} in {stats}"))
                .to_string()
        };
        assert!(line("incr").starts_with("cmdstat_incr:calls=2,"), "{stats}");
        assert!(line("incr").ends_with("rejected_calls=0,failed_calls=1"), "{stats}");
        assert!(line("multi").starts_with("cmdstat_multi:calls=3,"), "{stats}");
        assert!(line("exec").starts_with("cmdstat_exec:calls=2,"), "{stats}");
        assert!(line("exec").ends_with("rejected_calls=0,failed_calls=1"), "{stats}");
        assert!(line("shutdown").ends_with("rejected_calls=1,failed_calls=0"), "{stats}");
        let errors = text(&c.send(&["INFO", "errorstats"]).await);
        assert!(errors.contains("errorstat_EXECABORT:count=1"), "{errors}");
    }

    async fn disconnect_forgets_the_watches(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["WATCH", "a", "b"]).await, ok());
        if !against_redis() {
            assert_eq!(server.engine().watches.registrations(), 2);
        }
        drop(c);
        if !against_redis() {
            let engine = server.engine().clone();
            assert!(
                eventually(Duration::from_secs(5), || {
                    let n = engine.watches.registrations();
                    async move { n == 0 }
                })
                .await
            );
        }
        let mut other = server.raw().await;
        assert_eq!(other.send(&["SET", "a", "1"]).await, ok());
    }

    async fn exec_is_atomic_for_concurrent_readers(server: &TestServer) {
        let done = Arc::new(AtomicBool::new(false));
        let mut readers = Vec::new();
        for _ in 0..3 {
            let mut r = server.raw().await;
            let done = done.clone();
            readers.push(tokio::spawn(async move {
                let mut reads = 0u64;
                while !done.load(Ordering::Relaxed) {
                    let reply = r.send(&["MGET", "a", "b"]).await;
                    let values = items(&reply).to_vec();
                    assert_eq!(values[0], values[1], "MGET saw a half-applied transaction");
                    reads += 1;
                }
                reads
            }));
        }
        // Two writers increment both keys in transactions of their own, with 100
        // other writes between the two increments (sent as one pipeline) so that a
        // transaction that was not atomic would leave readers a wide window.
        let mut transaction = request(&[b"MULTI"]);
        transaction.extend(request(&[b"INCR", b"a"]));
        for _ in 0..100 {
            transaction.extend(request(&[b"INCR", b"pad"]));
        }
        transaction.extend(request(&[b"INCR", b"b"]));
        transaction.extend(request(&[b"EXEC"]));
        let transaction = Arc::new(transaction);
        let mut writers = Vec::new();
        for _ in 0..2 {
            let mut w = server.raw().await;
            let transaction = transaction.clone();
            writers.push(tokio::spawn(async move {
                for _ in 0..200 {
                    w.send_bytes(&transaction).await;
                    assert_eq!(w.read_frame().await, ok());
                    for _ in 0..102 {
                        assert_eq!(w.read_frame().await, queued());
                    }
                    let reply = w.read_frame().await;
                    let values = items(&reply);
                    assert_eq!(values.len(), 102);
                    assert_eq!(values[0], values[101], "another EXEC interleaved");
                }
            }));
        }
        for w in writers {
            w.await.expect("writer");
        }
        done.store(true, Ordering::Relaxed);
        for r in readers {
            assert!(r.await.expect("reader") > 0);
        }
        let mut c = server.raw().await;
        assert_eq!(c.send(&["MGET", "a", "b"]).await, bulks(&["400", "400"]));
    }

    async fn watch_cas_increments_lose_no_update(server: &TestServer) {
        let successes = Arc::new(AtomicU64::new(0));
        let mut tasks = Vec::new();
        for _ in 0..4 {
            let mut c = server.raw().await;
            let successes = successes.clone();
            tasks.push(tokio::spawn(async move {
                for _ in 0..50 {
                    loop {
                        assert_eq!(c.send(&["WATCH", "counter"]).await, ok());
                        let current = match c.send(&["GET", "counter"]).await {
                            Frame::Null => 0,
                            f => text(&f).parse::<i64>().expect("a number"),
                        };
                        assert_eq!(c.send(&["MULTI"]).await, ok());
                        let next = (current + 1).to_string();
                        assert_eq!(c.send(&["SET", "counter", &next]).await, queued());
                        match c.send(&["EXEC"]).await {
                            Frame::NullArray => continue,
                            reply => {
                                assert_eq!(reply, arr(vec![ok()]));
                                successes.fetch_add(1, Ordering::Relaxed);
                                break;
                            }
                        }
                    }
                }
            }));
        }
        for t in tasks {
            t.await.expect("task");
        }
        let mut c = server.raw().await;
        assert_eq!(successes.load(Ordering::Relaxed), 200);
        assert_eq!(c.send(&["GET", "counter"]).await, bulk("200"));
    }
}
