//! Stream commands: XADD XLEN XRANGE XREVRANGE XDEL XTRIM XREAD XSETID XINFO, consumer
//! groups (XGROUP, XREADGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM), blocking reads with
//! several clients, and a random differential test against redis-server. IDs are
//! explicit wherever a reply depends on them; expected replies were recorded from
//! redis-server 7.0.15 (the suite also runs against it with
//! `FERROKV_TESTS_TARGET=redis`).

use std::time::Duration;

use ferrokv_tests::*;

/// A reply in a compact text form: `"bulk"`, integers, `+simple`, `!error`, `nil`
/// (null bulk), `nilarr` (null array), `[a,b]`. The node count of Redis' radix tree
/// (`radix-tree-nodes`, an artefact of its structure) is masked as `N`.
fn render(f: &Frame) -> String {
    mask_radix_nodes(&render_exact(f))
}

/// [`render`] without masking.
fn render_exact(f: &Frame) -> String {
    match f {
        Frame::Simple(s) => format!("+{}", String::from_utf8_lossy(s)),
        Frame::Error(s) => format!("!{}", String::from_utf8_lossy(s)),
        Frame::Integer(n) => n.to_string(),
        Frame::Bulk(b) => format!("\"{}\"", String::from_utf8_lossy(b)),
        Frame::Null => "nil".to_string(),
        Frame::NullArray => "nilarr".to_string(),
        Frame::Array(items) => format!(
            "[{}]",
            items.iter().map(render_exact).collect::<Vec<_>>().join(",")
        ),
        other => format!("{other:?}"),
    }
}

fn mask_radix_nodes(s: &str) -> String {
    const TAG: &str = "\"radix-tree-nodes\",";
    let Some(at) = s.find(TAG) else {
        return s.to_string();
    };
    let start = at + TAG.len();
    let digits = s[start..].chars().take_while(char::is_ascii_digit).count();
    format!("{}N{}", &s[..start], mask_radix_nodes(&s[start + digits..]))
}

/// Sends a space-separated command and compares the rendered reply.
async fn check(c: &mut RawClient, cmd: &str, want: &str) {
    let args: Vec<&str> = cmd.split(' ').collect();
    let got = render(&c.send(&args).await);
    assert_eq!(got, want, "{cmd}");
}

/// [`check`] without masking `radix-tree-nodes`.
async fn check_exact(c: &mut RawClient, cmd: &str, want: &str) {
    let args: Vec<&str> = cmd.split(' ').collect();
    let got = render_exact(&c.send(&args).await);
    assert_eq!(got, want, "{cmd}");
}

/// Adds entries `1-1 .. n-1` with these fields to `key`.
async fn fill(c: &mut RawClient, key: &str, n: usize, fields: &[&str]) {
    for i in 1..=n {
        let id = format!("{i}-1");
        let mut cmd = vec!["XADD", key, id.as_str()];
        cmd.extend_from_slice(fields);
        assert_eq!(c.send(&cmd).await, bulk(&id));
    }
}

/// Waits until the server reports `n` blocked clients.
async fn wait_blocked(admin: &mut RawClient, n: usize) {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let info = text(&admin.send(&["INFO", "clients"]).await);
        let blocked = info
            .lines()
            .find_map(|l| l.strip_prefix("blocked_clients:"))
            .and_then(|v| v.trim().parse::<usize>().ok());
        if blocked == Some(n) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never saw {n} blocked clients"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Sends a command without reading its reply.
async fn fire(c: &mut RawClient, cmd: &str) {
    let args: Vec<&[u8]> = cmd.split(' ').map(str::as_bytes).collect();
    c.send_bytes(&request(&args)).await;
}

/// Reads the pending reply of a fired command and compares it rendered.
async fn expect(c: &mut RawClient, want: &str) {
    let got = render(&c.read_frame().await);
    assert_eq!(got, want);
}

/// Asserts that no reply arrives for a short while (the client is still blocked).
async fn still_blocked(c: &mut RawClient) {
    assert_eq!(c.try_read_frame(Duration::from_millis(50)).await, None);
}

/// An integer field of a flat name/value reply.
fn field<'a>(reply: &'a Frame, name: &str) -> &'a Frame {
    let parts = items(reply);
    let at = parts
        .iter()
        .step_by(2)
        .position(|f| text(f) == name)
        .unwrap_or_else(|| panic!("{name} in {reply:?}"));
    &parts[at * 2 + 1]
}

backend_tests! {
    async fn xadd_ids_and_errors(server: &TestServer) {
        let mut c = server.raw().await;
        check(&mut c, "XADD s 1-1 f v g w", r#""1-1""#).await;
        check(&mut c, "XADD s 1-2 f v", r#""1-2""#).await;
        check(&mut c, "XADD s 1-* a b", r#""1-3""#).await;
        check(&mut c, "XADD s 2 a b", r#""2-0""#).await;
        check(&mut c, "XADD s 2-* x y", r#""2-1""#).await;
        check(&mut c, "XADD s 3-* x y", r#""3-0""#).await;
        check(&mut c, "XADD s 1-5 a b", "!ERR The ID specified in XADD is equal or smaller than the target stream top item").await;
        check(&mut c, "XADD s 3-0 a b", "!ERR The ID specified in XADD is equal or smaller than the target stream top item").await;
        check(&mut c, "XADD s 0-0 a b", "!ERR The ID specified in XADD must be greater than 0-0").await;
        check(&mut c, "XADD s 0 a b", "!ERR The ID specified in XADD must be greater than 0-0").await;
        check(&mut c, "XADD s 0-* a b", "!ERR The ID specified in XADD is equal or smaller than the target stream top item").await;
        check(&mut c, "XADD s -5 a b", "!ERR Invalid stream ID specified as stream command argument").await;
        check(&mut c, "XADD s 1-x a b", "!ERR Invalid stream ID specified as stream command argument").await;
        check(&mut c, "XADD s + a b", "!ERR Invalid stream ID specified as stream command argument").await;
        check(&mut c, "XADD s - a b", "!ERR Invalid stream ID specified as stream command argument").await;
        check(&mut c, "XADD s 18446744073709551616-0 a b", "!ERR Invalid stream ID specified as stream command argument").await;
        check(&mut c, "XADD s 5-1 a", "!ERR wrong number of arguments for 'xadd' command").await;
        check(&mut c, "XADD s 5-1 a b c", "!ERR wrong number of arguments for 'xadd' command").await;
        check(&mut c, "XADD s NOMKSTREAM 5-1 a b", r#""5-1""#).await;
        check(&mut c, "XADD nokey NOMKSTREAM 5-1 a b", "nil").await;
        check(&mut c, "EXISTS nokey", "0").await;
        check(&mut c, "XADD s 18446744073709551615-18446744073709551614 a b", r#""18446744073709551615-18446744073709551614""#).await;
        check(&mut c, "XADD s 18446744073709551615-* a b", r#""18446744073709551615-18446744073709551615""#).await;
        check(&mut c, "XADD s 18446744073709551615-* a b", "!ERR The stream has exhausted the last possible ID, unable to add more items").await;
        check(&mut c, "XADD s * a b", "!ERR The stream has exhausted the last possible ID, unable to add more items").await;
        check(&mut c, "XADD new 0-* a b", r#""0-1""#).await;
        check(&mut c, "XRANGE s - +", r#"[["1-1",["f","v","g","w"]],["1-2",["f","v"]],["1-3",["a","b"]],["2-0",["a","b"]],["2-1",["x","y"]],["3-0",["x","y"]],["5-1",["a","b"]],["18446744073709551615-18446744073709551614",["a","b"]],["18446744073709551615-18446744073709551615",["a","b"]]]"#).await;
        check(&mut c, "XRANGE new - +", r#"[["0-1",["a","b"]]]"#).await;
        check(&mut c, "XLEN s", "9").await;
        check(&mut c, "TYPE s", "+stream").await;
        check(&mut c, "OBJECT ENCODING s", r#""stream""#).await;
        check(&mut c, "SET str x", "+OK").await;
        check(&mut c, "XADD str 1-1 a b", "!WRONGTYPE Operation against a key holding the wrong kind of value").await;
        check(&mut c, "XADD str NOMKSTREAM 1-1 a b", "!WRONGTYPE Operation against a key holding the wrong kind of value").await;
        check(&mut c, "XADD s", "!ERR wrong number of arguments for 'xadd' command").await;
        check(&mut c, "XADD s 1-1", "!ERR wrong number of arguments for 'xadd' command").await;
        check(&mut c, "XADD s MAXLEN", "!ERR wrong number of arguments for 'xadd' command").await;
    }

    async fn xadd_trim_options(server: &TestServer) {
        let mut c = server.raw().await;
        check(&mut c, "XADD t MAXLEN 2 1-1 a 1", r#""1-1""#).await;
        check(&mut c, "XADD t MAXLEN 2 2-1 a 2", r#""2-1""#).await;
        check(&mut c, "XADD t MAXLEN = 2 3-1 a 3", r#""3-1""#).await;
        check(&mut c, "XRANGE t - +", r#"[["2-1",["a","2"]],["3-1",["a","3"]]]"#).await;
        check(&mut c, "XADD t MINID 3-1 4-1 a 4", r#""4-1""#).await;
        check(&mut c, "XRANGE t - +", r#"[["3-1",["a","3"]],["4-1",["a","4"]]]"#).await;
        check(&mut c, "XADD t MINID = 4-1 5-1 a 5", r#""5-1""#).await;
        check(&mut c, "XRANGE t - +", r#"[["4-1",["a","4"]],["5-1",["a","5"]]]"#).await;
        check(&mut c, "XADD t MAXLEN ~ 1 6-1 a 6", r#""6-1""#).await;
        check(&mut c, "XLEN t", "3").await;
        check(&mut c, "XADD t MAXLEN ~ 1 LIMIT 10 7-1 a 7", r#""7-1""#).await;
        check(&mut c, "XLEN t", "4").await;
        check(&mut c, "XADD t MAXLEN -1 8-1 a b", "!ERR The MAXLEN argument must be >= 0.").await;
        check(&mut c, "XADD t MAXLEN x 8-1 a b", "!ERR value is not an integer or out of range").await;
        check(&mut c, "XADD t MINID 5 MAXLEN 4 8-1 a b", "!ERR syntax error, MAXLEN and MINID options at the same time are not compatible").await;
        check(&mut c, "XADD t MAXLEN 4 MINID 5 8-1 a b", "!ERR syntax error, MAXLEN and MINID options at the same time are not compatible").await;
        check(&mut c, "XADD t LIMIT 5 8-1 a b", "!ERR syntax error, LIMIT cannot be used without specifying a trimming strategy").await;
        check(&mut c, "XADD t LIMIT 0 8-1 a b", "!ERR syntax error, LIMIT cannot be used without the special ~ option").await;
        check(&mut c, "XADD t MAXLEN 2 LIMIT 5 8-1 a b", "!ERR syntax error, LIMIT cannot be used without the special ~ option").await;
        check(&mut c, "XADD t MAXLEN ~ 2 LIMIT -1 8-1 a b", "!ERR The LIMIT argument must be >= 0.").await;
        check(&mut c, "XADD t MAXLEN ~ 2 LIMIT x 8-1 a b", "!ERR value is not an integer or out of range").await;
        check(&mut c, "XADD t MINID bad 8-1 a b", "!ERR Invalid stream ID specified as stream command argument").await;
        check(&mut c, "XADD t MINID - 8-1 a b", "!ERR Invalid stream ID specified as stream command argument").await;
        check(&mut c, "XADD t maxlen = 0 9-1 a b", r#""9-1""#).await;
        check(&mut c, "XLEN t", "0").await;
        check(&mut c, "XRANGE t - +", "[]").await;
        check(&mut c, "XADD t NOMKSTREAM MAXLEN 0 10-1 a b", r#""10-1""#).await;
        check(&mut c, "XLEN t", "0").await;
        check(&mut c, "XADD t NOMKSTREAM MINID 10-2 11-1 a b", r#""11-1""#).await;
        check(&mut c, "XLEN t", "1").await;
    }

    async fn xtrim_nodes(server: &TestServer) {
        let mut c = server.raw().await;
        fill(&mut c, "big", 250, &["f", "v", "g", "w"]).await;
        check(&mut c, "XLEN big", "250").await;
        check(&mut c, "XDEL big 5-1", "1").await;
        check(&mut c, "XADD big MAXLEN ~ 120 251-1 f v g w", r#""251-1""#).await;
        check(&mut c, "XLEN big", "151").await;
        check(&mut c, "XTRIM big MAXLEN ~ 10", "100").await;
        check(&mut c, "XLEN big", "51").await;
        check(&mut c, "XTRIM big MINID ~ 230-1", "0").await;
        check(&mut c, "XLEN big", "51").await;
        check(&mut c, "XTRIM big MINID 230-1", "29").await;
        check(&mut c, "XLEN big", "22").await;
        check(&mut c, "XRANGE big - + COUNT 1", r#"[["230-1",["f","v","g","w"]]]"#).await;
        check(&mut c, "XTRIM big MAXLEN 3", "19").await;
        check(&mut c, "XRANGE big - +", r#"[["249-1",["f","v","g","w"]],["250-1",["f","v","g","w"]],["251-1",["f","v","g","w"]]]"#).await;
        check(&mut c, "XTRIM big MAXLEN ~ 0", "3").await;
        check(&mut c, "XLEN big", "0").await;
        check(&mut c, "XINFO STREAM big", r#"["length",0,"radix-tree-keys",0,"radix-tree-nodes",N,"last-generated-id","251-1","max-deleted-entry-id","5-1","entries-added",251,"recorded-first-entry-id","0-0","groups",0,"first-entry",nil,"last-entry",nil]"#).await;
    }

    async fn xtrim_limits(server: &TestServer) {
        let mut c = server.raw().await;
        fill(&mut c, "lim", 300, &["f", "v"]).await;
        check(&mut c, "XTRIM lim MAXLEN ~ 0 LIMIT 150", "100").await;
        check(&mut c, "XLEN lim", "200").await;
        check(&mut c, "XTRIM lim MAXLEN ~ 0 LIMIT 99", "0").await;
        check(&mut c, "XLEN lim", "200").await;
        check(&mut c, "XTRIM lim MAXLEN ~ 0 LIMIT 0", "200").await;
        check(&mut c, "XLEN lim", "0").await;
        check(&mut c, "XTRIM lim MAXLEN 0 LIMIT 0", "!ERR syntax error, LIMIT cannot be used without the special ~ option").await;
        check(&mut c, "XTRIM nokey MAXLEN 0", "0").await;
        check(&mut c, "XTRIM nokey bogus", "!ERR wrong number of arguments for 'xtrim' command").await;
        check(&mut c, "XTRIM lim bogus 1", "!ERR syntax error").await;
        check(&mut c, "XTRIM lim MAXLEN", "!ERR wrong number of arguments for 'xtrim' command").await;
        check(&mut c, "XTRIM lim LIMIT 5", "!ERR syntax error, LIMIT cannot be used without specifying a trimming strategy").await;
        check(&mut c, "XTRIM lim MAXLEN 1 LIMIT 5", "!ERR syntax error, LIMIT cannot be used without the special ~ option").await;
        check(&mut c, "XTRIM lim MAXLEN ~ 1 LIMIT 5 extra", "!ERR syntax error").await;
        check(&mut c, "SET str x", "+OK").await;
        check(&mut c, "XTRIM str MAXLEN 1", "!WRONGTYPE Operation against a key holding the wrong kind of value").await;
        check(&mut c, "XTRIM str bogus", "!ERR wrong number of arguments for 'xtrim' command").await;
    }

    async fn xrange_xrevrange(server: &TestServer) {
        let mut c = server.raw().await;
        check(&mut c, "XADD s 1-1 a 1", r#""1-1""#).await;
        check(&mut c, "XADD s 1-2 b 2", r#""1-2""#).await;
        check(&mut c, "XADD s 2-0 c 3", r#""2-0""#).await;
        check(&mut c, "XADD s 3-5 d 4 e 5", r#""3-5""#).await;
        check(&mut c, "XADD s 18446744073709551615-18446744073709551615 z z", r#""18446744073709551615-18446744073709551615""#).await;
        check(&mut c, "XRANGE s - +", r#"[["1-1",["a","1"]],["1-2",["b","2"]],["2-0",["c","3"]],["3-5",["d","4","e","5"]],["18446744073709551615-18446744073709551615",["z","z"]]]"#).await;
        check(&mut c, "XRANGE s - + COUNT 2", r#"[["1-1",["a","1"]],["1-2",["b","2"]]]"#).await;
        check(&mut c, "XRANGE s 1 1", r#"[["1-1",["a","1"]],["1-2",["b","2"]]]"#).await;
        check(&mut c, "XRANGE s 1-2 3", r#"[["1-2",["b","2"]],["2-0",["c","3"]],["3-5",["d","4","e","5"]]]"#).await;
        check(&mut c, "XRANGE s (1-1 (3-5", r#"[["1-2",["b","2"]],["2-0",["c","3"]]]"#).await;
        check(&mut c, "XRANGE s (1 +", r#"[["1-1",["a","1"]],["1-2",["b","2"]],["2-0",["c","3"]],["3-5",["d","4","e","5"]],["18446744073709551615-18446744073709551615",["z","z"]]]"#).await;
        check(&mut c, "XRANGE s - (2", r#"[["1-1",["a","1"]],["1-2",["b","2"]],["2-0",["c","3"]]]"#).await;
        check(&mut c, "XRANGE s 2 1", "[]").await;
        check(&mut c, "XRANGE s - + COUNT 0", "nilarr").await;
        check(&mut c, "XRANGE s - + COUNT -3", "nilarr").await;
        check(&mut c, "XRANGE s - + COUNT 1 COUNT 3", r#"[["1-1",["a","1"]],["1-2",["b","2"]],["2-0",["c","3"]]]"#).await;
        check(&mut c, "XRANGE s - + COUNT", "!ERR syntax error").await;
        check(&mut c, "XRANGE s - + LIMIT 1", "!ERR syntax error").await;
        check(&mut c, "XRANGE s (- +", "!ERR Invalid stream ID specified as stream command argument").await;
        check(&mut c, "XRANGE s - (+", "!ERR Invalid stream ID specified as stream command argument").await;
        check(&mut c, "XRANGE s (18446744073709551615-18446744073709551615 +", "!ERR invalid start ID for the interval").await;
        check(&mut c, "XRANGE s - (0-0", "!ERR invalid end ID for the interval").await;
        check(&mut c, "XRANGE s x +", "!ERR Invalid stream ID specified as stream command argument").await;
        check(&mut c, "XRANGE s - x", "!ERR Invalid stream ID specified as stream command argument").await;
        check(&mut c, "XRANGE s 1-x +", "!ERR Invalid stream ID specified as stream command argument").await;
        check(&mut c, "XRANGE s - + COUNT x", "!ERR value is not an integer or out of range").await;
        check(&mut c, "XRANGE nokey - +", "[]").await;
        check(&mut c, "XRANGE nokey x +", "!ERR Invalid stream ID specified as stream command argument").await;
        check(&mut c, "XREVRANGE s + -", r#"[["18446744073709551615-18446744073709551615",["z","z"]],["3-5",["d","4","e","5"]],["2-0",["c","3"]],["1-2",["b","2"]],["1-1",["a","1"]]]"#).await;
        check(&mut c, "XREVRANGE s + - COUNT 2", r#"[["18446744073709551615-18446744073709551615",["z","z"]],["3-5",["d","4","e","5"]]]"#).await;
        check(&mut c, "XREVRANGE s (3-5 (1-1", r#"[["2-0",["c","3"]],["1-2",["b","2"]]]"#).await;
        check(&mut c, "XREVRANGE s 3 1-2", r#"[["3-5",["d","4","e","5"]],["2-0",["c","3"]],["1-2",["b","2"]]]"#).await;
        check(&mut c, "XREVRANGE s - +", "[]").await;
        check(&mut c, "XREVRANGE s + - COUNT 0", "nilarr").await;
        check(&mut c, "XREVRANGE nokey + -", "[]").await;
        check(&mut c, "SET str x", "+OK").await;
        check(&mut c, "XRANGE str - +", "!WRONGTYPE Operation against a key holding the wrong kind of value").await;
        check(&mut c, "XREVRANGE str + -", "!WRONGTYPE Operation against a key holding the wrong kind of value").await;
        check(&mut c, "XRANGE s -", "!ERR wrong number of arguments for 'xrange' command").await;
        check(&mut c, "XREVRANGE s +", "!ERR wrong number of arguments for 'xrevrange' command").await;
    }

    async fn xdel_xlen(server: &TestServer) {
        let mut c = server.raw().await;
        check(&mut c, "XADD s 1-1 a 1", r#""1-1""#).await;
        check(&mut c, "XADD s 2-1 b 2", r#""2-1""#).await;
        check(&mut c, "XADD s 3-1 c 3", r#""3-1""#).await;
        check(&mut c, "XDEL s 2-1", "1").await;
        check(&mut c, "XDEL s 2-1 3-1 9-9", "1").await;
        check(&mut c, "XLEN s", "1").await;
        check(&mut c, "XRANGE s - +", r#"[["1-1",["a","1"]]]"#).await;
        check(&mut c, "XDEL s 1-1", "1").await;
        check(&mut c, "XLEN s", "0").await;
        check(&mut c, "EXISTS s", "1").await;
        check(&mut c, "XINFO STREAM s", r#"["length",0,"radix-tree-keys",0,"radix-tree-nodes",N,"last-generated-id","3-1","max-deleted-entry-id","3-1","entries-added",3,"recorded-first-entry-id","0-0","groups",0,"first-entry",nil,"last-entry",nil]"#).await;
        check(&mut c, "XDEL s bad", "!ERR Invalid stream ID specified as stream command argument").await;
        check(&mut c, "XDEL s -", "!ERR Invalid stream ID specified as stream command argument").await;
        check(&mut c, "XDEL nokey bad", "0").await;
        check(&mut c, "XDEL nokey 1-1", "0").await;
        check(&mut c, "XLEN nokey", "0").await;
        check(&mut c, "SET str x", "+OK").await;
        check(&mut c, "XDEL str 1-1", "!WRONGTYPE Operation against a key holding the wrong kind of value").await;
        check(&mut c, "XLEN str", "!WRONGTYPE Operation against a key holding the wrong kind of value").await;
        check(&mut c, "XDEL s", "!ERR wrong number of arguments for 'xdel' command").await;
        check(&mut c, "XLEN", "!ERR wrong number of arguments for 'xlen' command").await;
        check(&mut c, "XLEN s extra", "!ERR wrong number of arguments for 'xlen' command").await;
        check(&mut c, "XADD s 4-1 d 4", r#""4-1""#).await;
        check(&mut c, "XADD s 5-1 e 5", r#""5-1""#).await;
        check(&mut c, "XDEL s 5-1 4 bad", "!ERR Invalid stream ID specified as stream command argument").await;
        check(&mut c, "XLEN s", "2").await;
    }

    async fn xsetid(server: &TestServer) {
        let mut c = server.raw().await;
        check(&mut c, "XADD s 5-1 a 1", r#""5-1""#).await;
        check(&mut c, "XSETID s 5-1", "+OK").await;
        check(&mut c, "XSETID s 5-0", "!ERR The ID specified in XSETID is smaller than the target stream top item").await;
        check(&mut c, "XSETID s 10-0", "+OK").await;
        check(&mut c, "XADD s 9-0 a b", "!ERR The ID specified in XADD is equal or smaller than the target stream top item").await;
        check(&mut c, "XADD s 10-0 a b", "!ERR The ID specified in XADD is equal or smaller than the target stream top item").await;
        check(&mut c, "XADD s 10-* a b", r#""10-1""#).await;
        check(&mut c, "XSETID s 20-0 ENTRIESADDED 1", "!ERR The entries_added specified in XSETID is smaller than the target stream length").await;
        check(&mut c, "XSETID s 20-0 ENTRIESADDED 5 MAXDELETEDID 21-0", "!ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id").await;
        check(&mut c, "XSETID s 20-0 ENTRIESADDED 5 MAXDELETEDID 3-0", "+OK").await;
        check(&mut c, "XSETID s 20-0 ENTRIESADDED -1", "!ERR entries_added must be positive").await;
        check(&mut c, "XSETID s 20-0 ENTRIESADDED x", "!ERR value is not an integer or out of range").await;
        check(&mut c, "XSETID s 20-0 MAXDELETEDID x", "!ERR Invalid stream ID specified as stream command argument").await;
        check(&mut c, "XSETID s 20-0 bogus", "!ERR syntax error").await;
        check(&mut c, "XSETID s 20-0 ENTRIESADDED", "!ERR syntax error").await;
        check(&mut c, "XINFO STREAM s", r#"["length",2,"radix-tree-keys",1,"radix-tree-nodes",N,"last-generated-id","20-0","max-deleted-entry-id","3-0","entries-added",5,"recorded-first-entry-id","5-1","groups",0,"first-entry",["5-1",["a","1"]],"last-entry",["10-1",["a","b"]]]"#).await;
        check(&mut c, "XDEL s 5-1 10-0 10-1", "2").await;
        check(&mut c, "XSETID s 1-0", "+OK").await;
        check(&mut c, "XINFO STREAM s", r#"["length",0,"radix-tree-keys",0,"radix-tree-nodes",N,"last-generated-id","1-0","max-deleted-entry-id","10-1","entries-added",5,"recorded-first-entry-id","0-0","groups",0,"first-entry",nil,"last-entry",nil]"#).await;
        check(&mut c, "XSETID nokey 1-0", "!ERR no such key").await;
        check(&mut c, "XSETID s bad", "!ERR Invalid stream ID specified as stream command argument").await;
        check(&mut c, "XSETID s +", "!ERR Invalid stream ID specified as stream command argument").await;
        check(&mut c, "SET str x", "+OK").await;
        check(&mut c, "XSETID str 1-1", "!WRONGTYPE Operation against a key holding the wrong kind of value").await;
        check(&mut c, "XSETID s", "!ERR wrong number of arguments for 'xsetid' command").await;
    }

    async fn xread_nonblocking(server: &TestServer) {
        let mut c = server.raw().await;
        check(&mut c, "XADD a 1-1 f 1", r#""1-1""#).await;
        check(&mut c, "XADD a 2-1 f 2", r#""2-1""#).await;
        check(&mut c, "XADD b 1-1 g 1", r#""1-1""#).await;
        check(&mut c, "XREAD STREAMS a 0", r#"[["a",[["1-1",["f","1"]],["2-1",["f","2"]]]]]"#).await;
        check(&mut c, "XREAD STREAMS a b 0 0", r#"[["a",[["1-1",["f","1"]],["2-1",["f","2"]]]],["b",[["1-1",["g","1"]]]]]"#).await;
        check(&mut c, "XREAD COUNT 1 STREAMS a b 0 1-1", r#"[["a",[["1-1",["f","1"]]]]]"#).await;
        check(&mut c, "XREAD STREAMS a b 2-1 1-1", "nilarr").await;
        check(&mut c, "XREAD STREAMS a $", "nilarr").await;
        check(&mut c, "XREAD STREAMS nokey 0", "nilarr").await;
        check(&mut c, "XREAD STREAMS a nokey 1-1 0", r#"[["a",[["2-1",["f","2"]]]]]"#).await;
        check(&mut c, "XREAD COUNT 0 STREAMS a 0", r#"[["a",[["1-1",["f","1"]],["2-1",["f","2"]]]]]"#).await;
        check(&mut c, "XREAD COUNT -1 STREAMS a 0", r#"[["a",[["1-1",["f","1"]],["2-1",["f","2"]]]]]"#).await;
        check(&mut c, "XREAD streams a 1", r#"[["a",[["1-1",["f","1"]],["2-1",["f","2"]]]]]"#).await;
        check(&mut c, "XREAD STREAMS a 18446744073709551615-18446744073709551615", "nilarr").await;
        check(&mut c, "XREAD STREAMS a", "!ERR wrong number of arguments for 'xread' command").await;
        check(&mut c, "XREAD STREAMS a b 0", "!ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.").await;
        check(&mut c, "XREAD COUNT x STREAMS a 0", "!ERR value is not an integer or out of range").await;
        check(&mut c, "XREAD COUNT", "!ERR wrong number of arguments for 'xread' command").await;
        check(&mut c, "XREAD BLOCK -1 STREAMS a 0", "!ERR timeout is negative").await;
        check(&mut c, "XREAD BLOCK x STREAMS a 0", "!ERR timeout is not an integer or out of range").await;
        check(&mut c, "XREAD BLOCK 0 STREAMS a 0", r#"[["a",[["1-1",["f","1"]],["2-1",["f","2"]]]]]"#).await;
        check(&mut c, "XREAD BLOCK 10 STREAMS a 1-1", r#"[["a",[["2-1",["f","2"]]]]]"#).await;
        check(&mut c, "XREAD GROUP g c STREAMS a 0", "!ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.").await;
        check(&mut c, "XREAD NOACK STREAMS a 0", "!ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.").await;
        check(&mut c, "XREAD STREAMS a >", "!ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.").await;
        check(&mut c, "XREAD STREAMS a bad", "!ERR Invalid stream ID specified as stream command argument").await;
        check(&mut c, "XREAD STREAMS a -", "!ERR Invalid stream ID specified as stream command argument").await;
        check(&mut c, "XREAD bogus STREAMS a 0", "!ERR syntax error").await;
        check(&mut c, "XREAD COUNT 1", "!ERR wrong number of arguments for 'xread' command").await;
        check(&mut c, "SET str x", "+OK").await;
        check(&mut c, "XREAD STREAMS str 0", "!WRONGTYPE Operation against a key holding the wrong kind of value").await;
        check(&mut c, "XREAD STREAMS a str 0 0", "!WRONGTYPE Operation against a key holding the wrong kind of value").await;
    }

    async fn xinfo_stream(server: &TestServer) {
        let mut c = server.raw().await;
        check(&mut c, "XINFO STREAM nokey", "!ERR no such key").await;
        check(&mut c, "XADD s 1-1 a 1", r#""1-1""#).await;
        check(&mut c, "XADD s 2-1 b 2 c 3", r#""2-1""#).await;
        check(&mut c, "XINFO STREAM s", r#"["length",2,"radix-tree-keys",1,"radix-tree-nodes",N,"last-generated-id","2-1","max-deleted-entry-id","0-0","entries-added",2,"recorded-first-entry-id","1-1","groups",0,"first-entry",["1-1",["a","1"]],"last-entry",["2-1",["b","2","c","3"]]]"#).await;
        check(&mut c, "XINFO STREAM s FULL", r#"["length",2,"radix-tree-keys",1,"radix-tree-nodes",N,"last-generated-id","2-1","max-deleted-entry-id","0-0","entries-added",2,"recorded-first-entry-id","1-1","entries",[["1-1",["a","1"]],["2-1",["b","2","c","3"]]],"groups",[]]"#).await;
        check(&mut c, "XINFO STREAM s FULL COUNT 1", r#"["length",2,"radix-tree-keys",1,"radix-tree-nodes",N,"last-generated-id","2-1","max-deleted-entry-id","0-0","entries-added",2,"recorded-first-entry-id","1-1","entries",[["1-1",["a","1"]]],"groups",[]]"#).await;
        check(&mut c, "XINFO STREAM s FULL COUNT 0", r#"["length",2,"radix-tree-keys",1,"radix-tree-nodes",N,"last-generated-id","2-1","max-deleted-entry-id","0-0","entries-added",2,"recorded-first-entry-id","1-1","entries",[["1-1",["a","1"]],["2-1",["b","2","c","3"]]],"groups",[]]"#).await;
        check(&mut c, "XINFO STREAM s FULL COUNT -5", r#"["length",2,"radix-tree-keys",1,"radix-tree-nodes",N,"last-generated-id","2-1","max-deleted-entry-id","0-0","entries-added",2,"recorded-first-entry-id","1-1","entries",[["1-1",["a","1"]],["2-1",["b","2","c","3"]]],"groups",[]]"#).await;
        check(&mut c, "XINFO STREAM s FULL COUNT x", "!ERR value is not an integer or out of range").await;
        check(&mut c, "XINFO STREAM s FULL COUNT", "!ERR unknown subcommand or wrong number of arguments for 'STREAM'. Try XINFO HELP.").await;
        check(&mut c, "XINFO STREAM s FULL bogus 1", "!ERR unknown subcommand or wrong number of arguments for 'STREAM'. Try XINFO HELP.").await;
        check(&mut c, "XINFO STREAM s bogus", "!ERR unknown subcommand or wrong number of arguments for 'STREAM'. Try XINFO HELP.").await;
        check(&mut c, "XDEL s 1-1 2-1", "2").await;
        check(&mut c, "XINFO STREAM s", r#"["length",0,"radix-tree-keys",0,"radix-tree-nodes",N,"last-generated-id","2-1","max-deleted-entry-id","2-1","entries-added",2,"recorded-first-entry-id","0-0","groups",0,"first-entry",nil,"last-entry",nil]"#).await;
        check(&mut c, "XINFO STREAM s FULL", r#"["length",0,"radix-tree-keys",0,"radix-tree-nodes",N,"last-generated-id","2-1","max-deleted-entry-id","2-1","entries-added",2,"recorded-first-entry-id","0-0","entries",[],"groups",[]]"#).await;
        check(&mut c, "SET str x", "+OK").await;
        check(&mut c, "XINFO STREAM str", "!WRONGTYPE Operation against a key holding the wrong kind of value").await;
        check(&mut c, "XINFO STREAM", "!ERR wrong number of arguments for 'xinfo|stream' command").await;
        check(&mut c, "XINFO", "!ERR wrong number of arguments for 'xinfo' command").await;
        check(&mut c, "XINFO bogus", "!ERR unknown subcommand 'bogus'. Try XINFO HELP.").await;
    }

    async fn xgroup_commands(server: &TestServer) {
        let mut c = server.raw().await;
        check(&mut c, "XGROUP CREATE nokey g 0", "!ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.").await;
        check(&mut c, "XGROUP CREATE nokey g $ MKSTREAM", "+OK").await;
        check(&mut c, "XLEN nokey", "0").await;
        check(&mut c, "XINFO GROUPS nokey", r#"[["name","g","consumers",0,"pending",0,"last-delivered-id","0-0","entries-read",nil,"lag",0]]"#).await;
        check(&mut c, "XADD s 1-1 a 1", r#""1-1""#).await;
        check(&mut c, "XADD s 2-1 b 2", r#""2-1""#).await;
        check(&mut c, "XGROUP CREATE s g1 0", "+OK").await;
        check(&mut c, "XGROUP CREATE s g1 0", "!BUSYGROUP Consumer Group name already exists").await;
        check(&mut c, "XGROUP CREATE s g2 $", "+OK").await;
        check(&mut c, "XGROUP CREATE s g3 1-1 ENTRIESREAD 1", "+OK").await;
        check(&mut c, "XGROUP CREATE s g4 0 ENTRIESREAD -1", "+OK").await;
        check(&mut c, "XGROUP CREATE s g5 0 ENTRIESREAD -2", "!ERR value for ENTRIESREAD must be positive or -1").await;
        check(&mut c, "XGROUP CREATE s g5 0 ENTRIESREAD x", "!ERR value is not an integer or out of range").await;
        check(&mut c, "XGROUP CREATE s g5 0 bogus", "!ERR unknown subcommand or wrong number of arguments for 'CREATE'. Try XGROUP HELP.").await;
        check(&mut c, "XGROUP CREATE s g5 bad", "!ERR Invalid stream ID specified as stream command argument").await;
        check(&mut c, "XGROUP CREATE s g5 -", "!ERR Invalid stream ID specified as stream command argument").await;
        check(&mut c, "XGROUP CREATE s g5 0 MKSTREAM ENTRIESREAD 0 extra", "!ERR unknown subcommand or wrong number of arguments for 'CREATE'. Try XGROUP HELP.").await;
        check(&mut c, "XINFO GROUPS s", r#"[["name","g1","consumers",0,"pending",0,"last-delivered-id","0-0","entries-read",nil,"lag",2],["name","g2","consumers",0,"pending",0,"last-delivered-id","2-1","entries-read",nil,"lag",0],["name","g3","consumers",0,"pending",0,"last-delivered-id","1-1","entries-read",1,"lag",1],["name","g4","consumers",0,"pending",0,"last-delivered-id","0-0","entries-read",nil,"lag",2]]"#).await;
        check(&mut c, "XGROUP SETID s g1 1-1", "+OK").await;
        check(&mut c, "XGROUP SETID s g1 $", "+OK").await;
        check(&mut c, "XGROUP SETID s g2 0 ENTRIESREAD 0", "+OK").await;
        check(&mut c, "XGROUP SETID s g2 0 ENTRIESREAD -3", "!ERR value for ENTRIESREAD must be positive or -1").await;
        check(&mut c, "XGROUP SETID s g2 0 bogus 1", "!ERR unknown subcommand or wrong number of arguments for 'SETID'. Try XGROUP HELP.").await;
        check(&mut c, "XGROUP SETID s g2 0 ENTRIESREAD", "!ERR unknown subcommand or wrong number of arguments for 'SETID'. Try XGROUP HELP.").await;
        check(&mut c, "XGROUP SETID s nogroup 0", "!NOGROUP No such consumer group 'nogroup' for key name 's'").await;
        check(&mut c, "XGROUP SETID nokey2 g 0", "!ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.").await;
        check(&mut c, "XGROUP SETID s g3 bad", "!ERR Invalid stream ID specified as stream command argument").await;
        check(&mut c, "XINFO GROUPS s", r#"[["name","g1","consumers",0,"pending",0,"last-delivered-id","2-1","entries-read",nil,"lag",0],["name","g2","consumers",0,"pending",0,"last-delivered-id","0-0","entries-read",0,"lag",2],["name","g3","consumers",0,"pending",0,"last-delivered-id","1-1","entries-read",1,"lag",1],["name","g4","consumers",0,"pending",0,"last-delivered-id","0-0","entries-read",nil,"lag",2]]"#).await;
        check(&mut c, "XGROUP CREATECONSUMER s g1 alice", "1").await;
        check(&mut c, "XGROUP CREATECONSUMER s g1 alice", "0").await;
        check(&mut c, "XGROUP CREATECONSUMER s nogroup alice", "!NOGROUP No such consumer group 'nogroup' for key name 's'").await;
        check(&mut c, "XGROUP DELCONSUMER s g1 bob", "0").await;
        check(&mut c, "XGROUP DELCONSUMER s g1 alice", "0").await;
        check(&mut c, "XGROUP DELCONSUMER s nogroup alice", "!NOGROUP No such consumer group 'nogroup' for key name 's'").await;
        check(&mut c, "XGROUP DESTROY s g4", "1").await;
        check(&mut c, "XGROUP DESTROY s g4", "0").await;
        check(&mut c, "XGROUP DESTROY nokey2 g4", "!ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.").await;
        check(&mut c, "XINFO GROUPS s", r#"[["name","g1","consumers",0,"pending",0,"last-delivered-id","2-1","entries-read",nil,"lag",0],["name","g2","consumers",0,"pending",0,"last-delivered-id","0-0","entries-read",0,"lag",2],["name","g3","consumers",0,"pending",0,"last-delivered-id","1-1","entries-read",1,"lag",1]]"#).await;
        check(&mut c, "XINFO STREAM s", r#"["length",2,"radix-tree-keys",1,"radix-tree-nodes",N,"last-generated-id","2-1","max-deleted-entry-id","0-0","entries-added",2,"recorded-first-entry-id","1-1","groups",3,"first-entry",["1-1",["a","1"]],"last-entry",["2-1",["b","2"]]]"#).await;
        check(&mut c, "SET str x", "+OK").await;
        check(&mut c, "XGROUP CREATE str g 0", "!WRONGTYPE Operation against a key holding the wrong kind of value").await;
        check(&mut c, "XGROUP CREATE str g 0 MKSTREAM", "!WRONGTYPE Operation against a key holding the wrong kind of value").await;
        check(&mut c, "XGROUP DESTROY str g", "!WRONGTYPE Operation against a key holding the wrong kind of value").await;
        check(&mut c, "XGROUP bogus s g", "!ERR unknown subcommand 'bogus'. Try XGROUP HELP.").await;
        check(&mut c, "XGROUP CREATE s", "!ERR wrong number of arguments for 'xgroup|create' command").await;
        check(&mut c, "XGROUP DESTROY s g1 extra", "!ERR wrong number of arguments for 'xgroup|destroy' command").await;
        check(&mut c, "XINFO GROUPS str", "!WRONGTYPE Operation against a key holding the wrong kind of value").await;
    }

    async fn xreadgroup_flow(server: &TestServer) {
        let mut c = server.raw().await;
        check(&mut c, "XADD s 1-1 a 1", r#""1-1""#).await;
        check(&mut c, "XADD s 2-1 b 2", r#""2-1""#).await;
        check(&mut c, "XADD s 3-1 c 3", r#""3-1""#).await;
        check(&mut c, "XGROUP CREATE s g 0", "+OK").await;
        check(&mut c, "XREADGROUP GROUP g alice COUNT 1 STREAMS s >", r#"[["s",[["1-1",["a","1"]]]]]"#).await;
        check(&mut c, "XREADGROUP GROUP g bob STREAMS s >", r#"[["s",[["2-1",["b","2"]],["3-1",["c","3"]]]]]"#).await;
        check(&mut c, "XREADGROUP GROUP g bob STREAMS s >", "nilarr").await;
        check(&mut c, "XPENDING s g", r#"[3,"1-1","3-1",[["alice","1"],["bob","2"]]]"#).await;
        check(&mut c, "XINFO GROUPS s", r#"[["name","g","consumers",2,"pending",3,"last-delivered-id","3-1","entries-read",3,"lag",0]]"#).await;
        check(&mut c, "XREADGROUP GROUP g alice STREAMS s 0", r#"[["s",[["1-1",["a","1"]]]]]"#).await;
        check(&mut c, "XREADGROUP GROUP g bob STREAMS s 0", r#"[["s",[["2-1",["b","2"]],["3-1",["c","3"]]]]]"#).await;
        check(&mut c, "XREADGROUP GROUP g bob COUNT 1 STREAMS s 0", r#"[["s",[["2-1",["b","2"]]]]]"#).await;
        check(&mut c, "XREADGROUP GROUP g bob STREAMS s 2-1", r#"[["s",[["3-1",["c","3"]]]]]"#).await;
        check(&mut c, "XREADGROUP GROUP g carol STREAMS s 0", r#"[["s",[]]]"#).await;
        check(&mut c, "XACK s g 2-1 9-9", "1").await;
        check(&mut c, "XACK s g 2-1", "0").await;
        check(&mut c, "XPENDING s g", r#"[2,"1-1","3-1",[["alice","1"],["bob","1"]]]"#).await;
        check(&mut c, "XDEL s 3-1", "1").await;
        check(&mut c, "XREADGROUP GROUP g bob STREAMS s 0", r#"[["s",[["3-1",nilarr]]]]"#).await;
        check(&mut c, "XACK s g 1-1 3-1", "2").await;
        check(&mut c, "XPENDING s g", "[0,nil,nil,nilarr]").await;
        check(&mut c, "XADD s 4-1 d 4", r#""4-1""#).await;
        check(&mut c, "XREADGROUP GROUP g alice NOACK STREAMS s >", r#"[["s",[["4-1",["d","4"]]]]]"#).await;
        check(&mut c, "XPENDING s g", "[0,nil,nil,nilarr]").await;
        check(&mut c, "XINFO GROUPS s", r#"[["name","g","consumers",3,"pending",0,"last-delivered-id","4-1","entries-read",4,"lag",0]]"#).await;
        check(&mut c, "XINFO STREAM s", r#"["length",3,"radix-tree-keys",1,"radix-tree-nodes",N,"last-generated-id","4-1","max-deleted-entry-id","3-1","entries-added",4,"recorded-first-entry-id","1-1","groups",1,"first-entry",["1-1",["a","1"]],"last-entry",["4-1",["d","4"]]]"#).await;
        check(&mut c, "XGROUP SETID s g 0", "+OK").await;
        check(&mut c, "XREADGROUP GROUP g dave STREAMS s >", r#"[["s",[["1-1",["a","1"]],["2-1",["b","2"]],["4-1",["d","4"]]]]]"#).await;
        check(&mut c, "XPENDING s g", r#"[3,"1-1","4-1",[["dave","3"]]]"#).await;
        check(&mut c, "XINFO GROUPS s", r#"[["name","g","consumers",4,"pending",3,"last-delivered-id","4-1","entries-read",4,"lag",0]]"#).await;
        check(&mut c, "XREADGROUP GROUP g alice STREAMS s $", "!ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.").await;
        check(&mut c, "XREADGROUP GROUP nog alice STREAMS s >", "!NOGROUP No such key 's' or consumer group 'nog' in XREADGROUP with GROUP option").await;
        check(&mut c, "XREADGROUP GROUP g alice STREAMS nokey >", "!NOGROUP No such key 'nokey' or consumer group 'g' in XREADGROUP with GROUP option").await;
        check(&mut c, "XREADGROUP GROUP g alice STREAMS s", "!ERR wrong number of arguments for 'xreadgroup' command").await;
        check(&mut c, "XREADGROUP GROUP g alice STREAMS s bad", "!ERR Invalid stream ID specified as stream command argument").await;
        check(&mut c, "XREADGROUP STREAMS s >", "!ERR wrong number of arguments for 'xreadgroup' command").await;
        check(&mut c, "XREADGROUP GROUP g alice COUNT x STREAMS s >", "!ERR value is not an integer or out of range").await;
        check(&mut c, "XREADGROUP GROUP g alice BLOCK -1 STREAMS s >", "!ERR timeout is negative").await;
        check(&mut c, "XREADGROUP GROUP g alice bogus STREAMS s >", "!ERR syntax error").await;
        check(&mut c, "XACK s g bad", "!ERR Invalid stream ID specified as stream command argument").await;
        check(&mut c, "XACK s nog 1-1", "0").await;
        check(&mut c, "XACK nokey g 1-1", "0").await;
        check(&mut c, "SET str x", "+OK").await;
        check(&mut c, "XREADGROUP GROUP g alice STREAMS str >", "!WRONGTYPE Operation against a key holding the wrong kind of value").await;
        check(&mut c, "XACK str g 1-1", "!WRONGTYPE Operation against a key holding the wrong kind of value").await;
        check(&mut c, "XACK s g", "!ERR wrong number of arguments for 'xack' command").await;
    }

    async fn lag_entries_read(server: &TestServer) {
        let mut c = server.raw().await;
        check(&mut c, "XGROUP CREATE e g $ MKSTREAM", "+OK").await;
        check(&mut c, "XINFO GROUPS e", r#"[["name","g","consumers",0,"pending",0,"last-delivered-id","0-0","entries-read",nil,"lag",0]]"#).await;
        check(&mut c, "XADD e 1-1 a 1", r#""1-1""#).await;
        check(&mut c, "XADD e 2-1 a 2", r#""2-1""#).await;
        check(&mut c, "XADD e 3-1 a 3", r#""3-1""#).await;
        check(&mut c, "XADD e 4-1 a 4", r#""4-1""#).await;
        check(&mut c, "XGROUP CREATE e g0 0", "+OK").await;
        check(&mut c, "XGROUP CREATE e g1 1-1", "+OK").await;
        check(&mut c, "XGROUP CREATE e glast $", "+OK").await;
        check(&mut c, "XGROUP CREATE e gfut 9-9", "+OK").await;
        check(&mut c, "XINFO GROUPS e", r#"[["name","g","consumers",0,"pending",0,"last-delivered-id","0-0","entries-read",nil,"lag",4],["name","g0","consumers",0,"pending",0,"last-delivered-id","0-0","entries-read",nil,"lag",4],["name","g1","consumers",0,"pending",0,"last-delivered-id","1-1","entries-read",nil,"lag",3],["name","gfut","consumers",0,"pending",0,"last-delivered-id","9-9","entries-read",nil,"lag",nil],["name","glast","consumers",0,"pending",0,"last-delivered-id","4-1","entries-read",nil,"lag",0]]"#).await;
        check(&mut c, "XREADGROUP GROUP g0 c COUNT 2 STREAMS e >", r#"[["e",[["1-1",["a","1"]],["2-1",["a","2"]]]]]"#).await;
        check(&mut c, "XINFO GROUPS e", r#"[["name","g","consumers",0,"pending",0,"last-delivered-id","0-0","entries-read",nil,"lag",4],["name","g0","consumers",1,"pending",2,"last-delivered-id","2-1","entries-read",2,"lag",2],["name","g1","consumers",0,"pending",0,"last-delivered-id","1-1","entries-read",nil,"lag",3],["name","gfut","consumers",0,"pending",0,"last-delivered-id","9-9","entries-read",nil,"lag",nil],["name","glast","consumers",0,"pending",0,"last-delivered-id","4-1","entries-read",nil,"lag",0]]"#).await;
        check(&mut c, "XDEL e 3-1", "1").await;
        check(&mut c, "XINFO GROUPS e", r#"[["name","g","consumers",0,"pending",0,"last-delivered-id","0-0","entries-read",nil,"lag",nil],["name","g0","consumers",1,"pending",2,"last-delivered-id","2-1","entries-read",2,"lag",nil],["name","g1","consumers",0,"pending",0,"last-delivered-id","1-1","entries-read",nil,"lag",nil],["name","gfut","consumers",0,"pending",0,"last-delivered-id","9-9","entries-read",nil,"lag",nil],["name","glast","consumers",0,"pending",0,"last-delivered-id","4-1","entries-read",nil,"lag",0]]"#).await;
        check(&mut c, "XREADGROUP GROUP g0 c COUNT 1 STREAMS e >", r#"[["e",[["4-1",["a","4"]]]]]"#).await;
        check(&mut c, "XINFO GROUPS e", r#"[["name","g","consumers",0,"pending",0,"last-delivered-id","0-0","entries-read",nil,"lag",nil],["name","g0","consumers",1,"pending",3,"last-delivered-id","4-1","entries-read",3,"lag",1],["name","g1","consumers",0,"pending",0,"last-delivered-id","1-1","entries-read",nil,"lag",nil],["name","gfut","consumers",0,"pending",0,"last-delivered-id","9-9","entries-read",nil,"lag",nil],["name","glast","consumers",0,"pending",0,"last-delivered-id","4-1","entries-read",nil,"lag",0]]"#).await;
        check(&mut c, "XREADGROUP GROUP g1 c STREAMS e >", r#"[["e",[["2-1",["a","2"]],["4-1",["a","4"]]]]]"#).await;
        check(&mut c, "XINFO GROUPS e", r#"[["name","g","consumers",0,"pending",0,"last-delivered-id","0-0","entries-read",nil,"lag",nil],["name","g0","consumers",1,"pending",3,"last-delivered-id","4-1","entries-read",3,"lag",1],["name","g1","consumers",1,"pending",2,"last-delivered-id","4-1","entries-read",4,"lag",0],["name","gfut","consumers",0,"pending",0,"last-delivered-id","9-9","entries-read",nil,"lag",nil],["name","glast","consumers",0,"pending",0,"last-delivered-id","4-1","entries-read",nil,"lag",0]]"#).await;
        check(&mut c, "XADD e 5-1 a 5", r#""5-1""#).await;
        check(&mut c, "XINFO GROUPS e", r#"[["name","g","consumers",0,"pending",0,"last-delivered-id","0-0","entries-read",nil,"lag",nil],["name","g0","consumers",1,"pending",3,"last-delivered-id","4-1","entries-read",3,"lag",2],["name","g1","consumers",1,"pending",2,"last-delivered-id","4-1","entries-read",4,"lag",1],["name","gfut","consumers",0,"pending",0,"last-delivered-id","9-9","entries-read",nil,"lag",nil],["name","glast","consumers",0,"pending",0,"last-delivered-id","4-1","entries-read",nil,"lag",nil]]"#).await;
        check(&mut c, "XTRIM e MAXLEN 1", "3").await;
        check(&mut c, "XINFO GROUPS e", r#"[["name","g","consumers",0,"pending",0,"last-delivered-id","0-0","entries-read",nil,"lag",1],["name","g0","consumers",1,"pending",3,"last-delivered-id","4-1","entries-read",3,"lag",2],["name","g1","consumers",1,"pending",2,"last-delivered-id","4-1","entries-read",4,"lag",1],["name","gfut","consumers",0,"pending",0,"last-delivered-id","9-9","entries-read",nil,"lag",nil],["name","glast","consumers",0,"pending",0,"last-delivered-id","4-1","entries-read",nil,"lag",1]]"#).await;
        check(&mut c, "XREADGROUP GROUP g c STREAMS e >", r#"[["e",[["5-1",["a","5"]]]]]"#).await;
        check(&mut c, "XINFO GROUPS e", r#"[["name","g","consumers",1,"pending",1,"last-delivered-id","5-1","entries-read",5,"lag",0],["name","g0","consumers",1,"pending",3,"last-delivered-id","4-1","entries-read",3,"lag",2],["name","g1","consumers",1,"pending",2,"last-delivered-id","4-1","entries-read",4,"lag",1],["name","gfut","consumers",0,"pending",0,"last-delivered-id","9-9","entries-read",nil,"lag",nil],["name","glast","consumers",0,"pending",0,"last-delivered-id","4-1","entries-read",nil,"lag",1]]"#).await;
        check(&mut c, "XSETID e 9-9 ENTRIESADDED 10", "+OK").await;
        check(&mut c, "XINFO GROUPS e", r#"[["name","g","consumers",1,"pending",1,"last-delivered-id","5-1","entries-read",5,"lag",5],["name","g0","consumers",1,"pending",3,"last-delivered-id","4-1","entries-read",3,"lag",7],["name","g1","consumers",1,"pending",2,"last-delivered-id","4-1","entries-read",4,"lag",6],["name","gfut","consumers",0,"pending",0,"last-delivered-id","9-9","entries-read",nil,"lag",0],["name","glast","consumers",0,"pending",0,"last-delivered-id","4-1","entries-read",nil,"lag",1]]"#).await;
        check(&mut c, "XDEL e 5-1", "1").await;
        check(&mut c, "XINFO GROUPS e", r#"[["name","g","consumers",1,"pending",1,"last-delivered-id","5-1","entries-read",5,"lag",5],["name","g0","consumers",1,"pending",3,"last-delivered-id","4-1","entries-read",3,"lag",7],["name","g1","consumers",1,"pending",2,"last-delivered-id","4-1","entries-read",4,"lag",6],["name","gfut","consumers",0,"pending",0,"last-delivered-id","9-9","entries-read",nil,"lag",0],["name","glast","consumers",0,"pending",0,"last-delivered-id","4-1","entries-read",nil,"lag",0]]"#).await;
        check(&mut c, "XADD e 10-1 a 10", r#""10-1""#).await;
        check(&mut c, "XINFO GROUPS e", r#"[["name","g","consumers",1,"pending",1,"last-delivered-id","5-1","entries-read",5,"lag",6],["name","g0","consumers",1,"pending",3,"last-delivered-id","4-1","entries-read",3,"lag",8],["name","g1","consumers",1,"pending",2,"last-delivered-id","4-1","entries-read",4,"lag",7],["name","gfut","consumers",0,"pending",0,"last-delivered-id","9-9","entries-read",nil,"lag",1],["name","glast","consumers",0,"pending",0,"last-delivered-id","4-1","entries-read",nil,"lag",1]]"#).await;
    }

    async fn xpending_xclaim_justid(server: &TestServer) {
        let mut c = server.raw().await;
        check(&mut c, "XADD s 1-1 a 1", r#""1-1""#).await;
        check(&mut c, "XADD s 2-1 b 2", r#""2-1""#).await;
        check(&mut c, "XADD s 3-1 c 3", r#""3-1""#).await;
        check(&mut c, "XADD s 4-1 d 4", r#""4-1""#).await;
        check(&mut c, "XGROUP CREATE s g 0", "+OK").await;
        check(&mut c, "XPENDING s g", "[0,nil,nil,nilarr]").await;
        check(&mut c, "XPENDING s g - + 10", "[]").await;
        check(&mut c, "XREADGROUP GROUP g alice COUNT 2 STREAMS s >", r#"[["s",[["1-1",["a","1"]],["2-1",["b","2"]]]]]"#).await;
        check(&mut c, "XREADGROUP GROUP g bob STREAMS s >", r#"[["s",[["3-1",["c","3"]],["4-1",["d","4"]]]]]"#).await;
        check(&mut c, "XPENDING s g", r#"[4,"1-1","4-1",[["alice","2"],["bob","2"]]]"#).await;
        check(&mut c, "XPENDING s g - + 0", "[]").await;
        check(&mut c, "XPENDING s g - + 10 nobody", "[]").await;
        check(&mut c, "XPENDING s g IDLE 100000000 - + 10", "[]").await;
        check(&mut c, "XPENDING s g IDLE 100000000 - + 10 alice", "[]").await;
        check(&mut c, "XPENDING s g IDLE 1 - +", "!ERR syntax error").await;
        check(&mut c, "XPENDING s g - +", "!ERR syntax error").await;
        check(&mut c, "XPENDING s g - + x", "!ERR value is not an integer or out of range").await;
        check(&mut c, "XPENDING s g x + 1", "!ERR Invalid stream ID specified as stream command argument").await;
        check(&mut c, "XPENDING s g - + 1 a b", "[]").await;
        check(&mut c, "XPENDING s nog", "!NOGROUP No such key 's' or consumer group 'nog'").await;
        check(&mut c, "XPENDING nokey g", "!NOGROUP No such key 'nokey' or consumer group 'g'").await;
        check(&mut c, "XPENDING s g IDLE x - + 1", "!ERR value is not an integer or out of range").await;
        check(&mut c, "XCLAIM s g carol 0 1-1 2-1 JUSTID", r#"["1-1","2-1"]"#).await;
        check(&mut c, "XPENDING s g", r#"[4,"1-1","4-1",[["bob","2"],["carol","2"]]]"#).await;
        check(&mut c, "XCLAIM s g carol 100000000 3-1 JUSTID", "[]").await;
        check(&mut c, "XCLAIM s g carol 0 3-1 JUSTID RETRYCOUNT 7", r#"["3-1"]"#).await;
        check(&mut c, "XCLAIM s g carol 0 9-9 JUSTID", "[]").await;
        check(&mut c, "XCLAIM s g carol 0 9-9 JUSTID FORCE", "[]").await;
        check(&mut c, "XCLAIM s g carol 0 4-1", r#"[["4-1",["d","4"]]]"#).await;
        check(&mut c, "XDEL s 1-1", "1").await;
        check(&mut c, "XCLAIM s g alice 0 1-1 JUSTID", "[]").await;
        check(&mut c, "XPENDING s g", r#"[3,"2-1","4-1",[["carol","3"]]]"#).await;
        check(&mut c, "XCLAIM s g alice 0 2-1 JUSTID LASTID 10-0", r#"["2-1"]"#).await;
        check(&mut c, "XINFO GROUPS s", r#"[["name","g","consumers",3,"pending",3,"last-delivered-id","10-0","entries-read",4,"lag",0]]"#).await;
        check(&mut c, "XCLAIM s g alice 0 2-1 bogus", "!ERR Unrecognized XCLAIM option 'bogus'").await;
        check(&mut c, "XCLAIM s g alice x 2-1", "!ERR Invalid min-idle-time argument for XCLAIM").await;
        check(&mut c, "XCLAIM s g alice 0 2-1 IDLE x", "!ERR Invalid IDLE option argument for XCLAIM").await;
        check(&mut c, "XCLAIM s g alice 0 2-1 TIME x", "!ERR Invalid TIME option argument for XCLAIM").await;
        check(&mut c, "XCLAIM s g alice 0 2-1 RETRYCOUNT x", "!ERR Invalid RETRYCOUNT option argument for XCLAIM").await;
        check(&mut c, "XCLAIM s g alice 0 2-1 LASTID x", "!ERR Invalid stream ID specified as stream command argument").await;
        check(&mut c, "XCLAIM s nog alice 0 2-1", "!NOGROUP No such key 's' or consumer group 'nog'").await;
        check(&mut c, "XCLAIM nokey g alice 0 2-1", "!NOGROUP No such key 'nokey' or consumer group 'g'").await;
        check(&mut c, "XADD s 5-1 e 5", r#""5-1""#).await;
        check(&mut c, "XCLAIM s g dave 0 5-1 FORCE JUSTID", r#"["5-1"]"#).await;
        check(&mut c, "XPENDING s g", r#"[4,"2-1","5-1",[["alice","1"],["carol","2"],["dave","1"]]]"#).await;
        check(&mut c, "XCLAIM s g dave 0 5-1 FORCE JUSTID", r#"["5-1"]"#).await;
        check(&mut c, "XAUTOCLAIM s g erin 0 0 COUNT 2 JUSTID", r#"["4-1",["2-1","3-1"],[]]"#).await;
        check(&mut c, "XAUTOCLAIM s g erin 0 0 JUSTID", r#"["0-0",["2-1","3-1","4-1","5-1"],[]]"#).await;
        check(&mut c, "XDEL s 4-1", "1").await;
        check(&mut c, "XAUTOCLAIM s g frank 0 0 COUNT 1 JUSTID", r#"["3-1",["2-1"],[]]"#).await;
        check(&mut c, "XAUTOCLAIM s g frank 0 0 COUNT 10 JUSTID", r#"["0-0",["2-1","3-1","5-1"],["4-1"]]"#).await;
        check(&mut c, "XPENDING s g", r#"[3,"2-1","5-1",[["frank","3"]]]"#).await;
        check(&mut c, "XAUTOCLAIM s g frank 100000000 0 JUSTID", r#"["0-0",[],[]]"#).await;
        check(&mut c, "XAUTOCLAIM s g frank 0 (5-1 JUSTID", r#"["0-0",[],[]]"#).await;
        check(&mut c, "XAUTOCLAIM s g frank 0 0 COUNT 0", "!ERR COUNT must be > 0").await;
        check(&mut c, "XAUTOCLAIM s g frank 0 0 COUNT x", "!ERR COUNT must be > 0").await;
        check(&mut c, "XAUTOCLAIM s g frank 0 0 bogus", "!ERR syntax error").await;
        check(&mut c, "XAUTOCLAIM s g frank x 0", "!ERR Invalid min-idle-time argument for XAUTOCLAIM").await;
        check(&mut c, "XAUTOCLAIM s g frank 0 bad", "!ERR Invalid stream ID specified as stream command argument").await;
        check(&mut c, "XAUTOCLAIM s nog frank 0 0", "!NOGROUP No such key 's' or consumer group 'nog'").await;
        check(&mut c, "XAUTOCLAIM nokey g frank 0 0", "!NOGROUP No such key 'nokey' or consumer group 'g'").await;
        check(&mut c, "SET str x", "+OK").await;
        check(&mut c, "XPENDING str g", "!WRONGTYPE Operation against a key holding the wrong kind of value").await;
        check(&mut c, "XCLAIM str g a 0 1-1", "!WRONGTYPE Operation against a key holding the wrong kind of value").await;
        check(&mut c, "XAUTOCLAIM str g a 0 0", "!WRONGTYPE Operation against a key holding the wrong kind of value").await;
    }

    async fn xautoclaim_entries(server: &TestServer) {
        let mut c = server.raw().await;
        check(&mut c, "XADD s 1-1 a 1", r#""1-1""#).await;
        check(&mut c, "XADD s 2-1 b 2", r#""2-1""#).await;
        check(&mut c, "XADD s 3-1 c 3", r#""3-1""#).await;
        check(&mut c, "XGROUP CREATE s g 0", "+OK").await;
        check(&mut c, "XREADGROUP GROUP g alice STREAMS s >", r#"[["s",[["1-1",["a","1"]],["2-1",["b","2"]],["3-1",["c","3"]]]]]"#).await;
        check(&mut c, "XAUTOCLAIM s g bob 0 0 COUNT 1", r#"["2-1",[["1-1",["a","1"]]],[]]"#).await;
        check(&mut c, "XAUTOCLAIM s g bob 0 0", r#"["0-0",[["1-1",["a","1"]],["2-1",["b","2"]],["3-1",["c","3"]]],[]]"#).await;
        check(&mut c, "XDEL s 2-1", "1").await;
        check(&mut c, "XAUTOCLAIM s g carol 0 0", r#"["0-0",[["1-1",["a","1"]],["3-1",["c","3"]]],["2-1"]]"#).await;
        check(&mut c, "XCLAIM s g dave 0 1-1 3-1", r#"[["1-1",["a","1"]],["3-1",["c","3"]]]"#).await;
        check(&mut c, "XPENDING s g", r#"[2,"1-1","3-1",[["dave","2"]]]"#).await;
        check(&mut c, "XINFO STREAM s", r#"["length",2,"radix-tree-keys",1,"radix-tree-nodes",N,"last-generated-id","3-1","max-deleted-entry-id","2-1","entries-added",3,"recorded-first-entry-id","1-1","groups",1,"first-entry",["1-1",["a","1"]],"last-entry",["3-1",["c","3"]]]"#).await;
    }

    async fn arity_and_types(server: &TestServer) {
        let mut c = server.raw().await;
        check(&mut c, "XADD s", "!ERR wrong number of arguments for 'xadd' command").await;
        check(&mut c, "XADD s *", "!ERR wrong number of arguments for 'xadd' command").await;
        check(&mut c, "XADD s * a", "!ERR wrong number of arguments for 'xadd' command").await;
        check(&mut c, "XLEN", "!ERR wrong number of arguments for 'xlen' command").await;
        check(&mut c, "XRANGE s -", "!ERR wrong number of arguments for 'xrange' command").await;
        check(&mut c, "XREVRANGE s +", "!ERR wrong number of arguments for 'xrevrange' command").await;
        check(&mut c, "XDEL s", "!ERR wrong number of arguments for 'xdel' command").await;
        check(&mut c, "XTRIM s", "!ERR wrong number of arguments for 'xtrim' command").await;
        check(&mut c, "XTRIM s MAXLEN", "!ERR wrong number of arguments for 'xtrim' command").await;
        check(&mut c, "XREAD STREAMS", "!ERR wrong number of arguments for 'xread' command").await;
        check(&mut c, "XREADGROUP GROUP g c STREAMS", "!ERR wrong number of arguments for 'xreadgroup' command").await;
        check(&mut c, "XSETID s", "!ERR wrong number of arguments for 'xsetid' command").await;
        check(&mut c, "XACK s g", "!ERR wrong number of arguments for 'xack' command").await;
        check(&mut c, "XPENDING s", "!ERR wrong number of arguments for 'xpending' command").await;
        check(&mut c, "XCLAIM s g c 0", "!ERR wrong number of arguments for 'xclaim' command").await;
        check(&mut c, "XAUTOCLAIM s g c 0", "!ERR wrong number of arguments for 'xautoclaim' command").await;
        check(&mut c, "XGROUP", "!ERR wrong number of arguments for 'xgroup' command").await;
        check(&mut c, "XGROUP CREATE s g", "!ERR wrong number of arguments for 'xgroup|create' command").await;
        check(&mut c, "XGROUP SETID s g", "!ERR wrong number of arguments for 'xgroup|setid' command").await;
        check(&mut c, "XGROUP DESTROY s", "!ERR wrong number of arguments for 'xgroup|destroy' command").await;
        check(&mut c, "XGROUP CREATECONSUMER s g", "!ERR wrong number of arguments for 'xgroup|createconsumer' command").await;
        check(&mut c, "XGROUP DELCONSUMER s g", "!ERR wrong number of arguments for 'xgroup|delconsumer' command").await;
        check(&mut c, "XINFO", "!ERR wrong number of arguments for 'xinfo' command").await;
        check(&mut c, "XINFO STREAM", "!ERR wrong number of arguments for 'xinfo|stream' command").await;
        check(&mut c, "XINFO GROUPS", "!ERR wrong number of arguments for 'xinfo|groups' command").await;
        check(&mut c, "XINFO CONSUMERS s", "!ERR wrong number of arguments for 'xinfo|consumers' command").await;
        check(&mut c, "XINFO GROUPS s extra", "!ERR wrong number of arguments for 'xinfo|groups' command").await;
        check(&mut c, "LPUSH l a", "1").await;
        check(&mut c, "XADD l * a b", "!WRONGTYPE Operation against a key holding the wrong kind of value").await;
        check(&mut c, "XLEN l", "!WRONGTYPE Operation against a key holding the wrong kind of value").await;
        check(&mut c, "XRANGE l - +", "!WRONGTYPE Operation against a key holding the wrong kind of value").await;
        check(&mut c, "XREVRANGE l + -", "!WRONGTYPE Operation against a key holding the wrong kind of value").await;
        check(&mut c, "XDEL l 1-1", "!WRONGTYPE Operation against a key holding the wrong kind of value").await;
        check(&mut c, "XTRIM l MAXLEN 1", "!WRONGTYPE Operation against a key holding the wrong kind of value").await;
        check(&mut c, "XREAD STREAMS l 0", "!WRONGTYPE Operation against a key holding the wrong kind of value").await;
        check(&mut c, "XREADGROUP GROUP g c STREAMS l >", "!WRONGTYPE Operation against a key holding the wrong kind of value").await;
        check(&mut c, "XSETID l 1-1", "!WRONGTYPE Operation against a key holding the wrong kind of value").await;
        check(&mut c, "XACK l g 1-1", "!WRONGTYPE Operation against a key holding the wrong kind of value").await;
        check(&mut c, "XPENDING l g", "!WRONGTYPE Operation against a key holding the wrong kind of value").await;
        check(&mut c, "XCLAIM l g c 0 1-1", "!WRONGTYPE Operation against a key holding the wrong kind of value").await;
        check(&mut c, "XAUTOCLAIM l g c 0 0", "!WRONGTYPE Operation against a key holding the wrong kind of value").await;
        check(&mut c, "XGROUP CREATE l g 0", "!WRONGTYPE Operation against a key holding the wrong kind of value").await;
        check(&mut c, "XGROUP SETID l g 0", "!WRONGTYPE Operation against a key holding the wrong kind of value").await;
        check(&mut c, "XGROUP DESTROY l g", "!WRONGTYPE Operation against a key holding the wrong kind of value").await;
        check(&mut c, "XGROUP CREATECONSUMER l g c", "!WRONGTYPE Operation against a key holding the wrong kind of value").await;
        check(&mut c, "XGROUP DELCONSUMER l g c", "!WRONGTYPE Operation against a key holding the wrong kind of value").await;
        check(&mut c, "XINFO STREAM l", "!WRONGTYPE Operation against a key holding the wrong kind of value").await;
        check(&mut c, "XINFO GROUPS l", "!WRONGTYPE Operation against a key holding the wrong kind of value").await;
        check(&mut c, "XINFO CONSUMERS l g", "!WRONGTYPE Operation against a key holding the wrong kind of value").await;
        check(&mut c, "XADD s 1-1 a b", r#""1-1""#).await;
        check(&mut c, "LPUSH s x", "!WRONGTYPE Operation against a key holding the wrong kind of value").await;
        check(&mut c, "GET s", "!WRONGTYPE Operation against a key holding the wrong kind of value").await;
        check(&mut c, "TYPE s", "+stream").await;
        check(&mut c, "OBJECT ENCODING s", r#""stream""#).await;
        check(&mut c, "SCAN 0 TYPE stream", r#"["0",["s"]]"#).await;
        check(&mut c, "RENAME s s2", "+OK").await;
        check(&mut c, "XRANGE s2 - +", r#"[["1-1",["a","b"]]]"#).await;
        check(&mut c, "COPY s2 s3", "1").await;
        check(&mut c, "XRANGE s3 - +", r#"[["1-1",["a","b"]]]"#).await;
        check(&mut c, "DEL s2 s3", "2").await;
        check(&mut c, "EXISTS s2 s3", "0").await;
    }


    async fn getkeys_and_edge_values(server: &TestServer) {
        let mut c = server.raw().await;
        check(&mut c, "COMMAND GETKEYS XREAD COUNT 2 STREAMS a b 0 0", r#"["a","b"]"#).await;
        check(&mut c, "COMMAND GETKEYS XREADGROUP GROUP g c BLOCK 5 NOACK STREAMS a 0", r#"["a"]"#).await;
        check(&mut c, "COMMAND GETKEYS XADD s * a b", r#"["s"]"#).await;
        check(&mut c, "XADD s 1-1 a 1", r#""1-1""#).await;
        check(&mut c, "XGROUP CREATE s g 0", "+OK").await;
        check(&mut c, "XREADGROUP GROUP g c STREAMS s >", r#"[["s",[["1-1",["a","1"]]]]]"#).await;
        check(&mut c, "XCLAIM s g d 0 1-1 IDLE -9223372036854775808 JUSTID", r#"["1-1"]"#).await;
        check(&mut c, "XCLAIM s g d 0 1-1 IDLE 9223372036854775807 JUSTID", r#"["1-1"]"#).await;
        check(&mut c, "XCLAIM s g d 0 1-1 TIME -5 JUSTID", r#"["1-1"]"#).await;
        check(&mut c, "XPENDING s g", r#"[1,"1-1","1-1",[["d","1"]]]"#).await;
        check(&mut c, "XADD s 1-1 a 1", "!ERR The ID specified in XADD is equal or smaller than the target stream top item").await;
        check(&mut c, r#"XADD s 2-1 007 -0 -12 12 9223372036854775807 -9223372036854775808 a """#, r#""2-1""#).await;
        check(&mut c, "XADD s 3-1 007 x -0 y -12 z 9223372036854775807 q -9223372036854775808 r a s", r#""3-1""#).await;
        check(&mut c, "XRANGE s 2 3", r#"[["2-1",["007","-0","-12","12","9223372036854775807","-9223372036854775808","a",""""]],["3-1",["007","x","-0","y","-12","z","9223372036854775807","q","-9223372036854775808","r","a","s"]]]"#).await;
        check(&mut c, "XREAD STREAMS s s 1 2", r#"[["s",[["1-1",["a","1"]],["2-1",["007","-0","-12","12","9223372036854775807","-9223372036854775808","a",""""]],["3-1",["007","x","-0","y","-12","z","9223372036854775807","q","-9223372036854775808","r","a","s"]]]],["s",[["2-1",["007","-0","-12","12","9223372036854775807","-9223372036854775808","a",""""]],["3-1",["007","x","-0","y","-12","z","9223372036854775807","q","-9223372036854775808","r","a","s"]]]]]"#).await;
    }

    async fn nodes_split_at_listpack_bytes(server: &TestServer) {
        let mut c = server.raw().await;
        fill(&mut c, "big", 60, &["f", "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv"]).await;
        check(&mut c, "XTRIM big MAXLEN ~ 10", "36").await;
        check(&mut c, "XLEN big", "24").await;
        check(&mut c, "XADD big 61-1 f 1 g 2", r#""61-1""#).await;
        check(&mut c, "CONFIG SET stream-node-max-bytes 300", "+OK").await;
        check(&mut c, "XADD big 62-1 f vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv", r#""62-1""#).await;
        check(&mut c, "XADD big 63-1 f vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv", r#""63-1""#).await;
        check(&mut c, "XADD big 64-1 f vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv", r#""64-1""#).await;
        check(&mut c, "XTRIM big MAXLEN ~ 2", "25").await;
        check(&mut c, "XLEN big", "3").await;
        check(&mut c, "XRANGE big - + COUNT 1", r#"[["62-1",["f","vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv"]]]"#).await;
        check(&mut c, "CONFIG SET stream-node-max-bytes 4096", "+OK").await;
    }

    async fn radix_tree_counts_match_redis(server: &TestServer) {
        let mut c = server.raw().await;
        check_exact(&mut c, "CONFIG SET stream-node-max-entries 2", "+OK").await;
        check_exact(&mut c, "XGROUP CREATE s g $ MKSTREAM", "+OK").await;
        check_exact(&mut c, "XINFO STREAM s", r#"["length",0,"radix-tree-keys",0,"radix-tree-nodes",1,"last-generated-id","0-0","max-deleted-entry-id","0-0","entries-added",0,"recorded-first-entry-id","0-0","groups",1,"first-entry",nil,"last-entry",nil]"#).await;
        check_exact(&mut c, "XADD s 1-0 a 1", r#""1-0""#).await;
        check_exact(&mut c, "XINFO STREAM s", r#"["length",1,"radix-tree-keys",1,"radix-tree-nodes",2,"last-generated-id","1-0","max-deleted-entry-id","0-0","entries-added",1,"recorded-first-entry-id","1-0","groups",1,"first-entry",["1-0",["a","1"]],"last-entry",["1-0",["a","1"]]]"#).await;
        check_exact(&mut c, "XADD s 2-0 a 1", r#""2-0""#).await;
        check_exact(&mut c, "XADD s 3-0 a 1", r#""3-0""#).await;
        check_exact(&mut c, "XINFO STREAM s", r#"["length",3,"radix-tree-keys",2,"radix-tree-nodes",6,"last-generated-id","3-0","max-deleted-entry-id","0-0","entries-added",3,"recorded-first-entry-id","1-0","groups",1,"first-entry",["1-0",["a","1"]],"last-entry",["3-0",["a","1"]]]"#).await;
        check_exact(&mut c, "XADD s 300-0 a 1", r#""300-0""#).await;
        check_exact(&mut c, "XADD s 70000-0 a 1", r#""70000-0""#).await;
        check_exact(&mut c, "XADD s 70000-5 a 1", r#""70000-5""#).await;
        check_exact(&mut c, "XADD s 1795326002051-0 a 1", r#""1795326002051-0""#).await;
        check_exact(&mut c, "XADD s 1795326002051-1 a 1", r#""1795326002051-1""#).await;
        check_exact(&mut c, "XADD s 1795326002052-0 a 1", r#""1795326002052-0""#).await;
        check_exact(&mut c, "XINFO STREAM s", r#"["length",9,"radix-tree-keys",5,"radix-tree-nodes",18,"last-generated-id","1795326002052-0","max-deleted-entry-id","0-0","entries-added",9,"recorded-first-entry-id","1-0","groups",1,"first-entry",["1-0",["a","1"]],"last-entry",["1795326002052-0",["a","1"]]]"#).await;
        check_exact(&mut c, "XDEL s 300-0 70000-0", "2").await;
        check_exact(&mut c, "XINFO STREAM s", r#"["length",7,"radix-tree-keys",5,"radix-tree-nodes",18,"last-generated-id","1795326002052-0","max-deleted-entry-id","70000-0","entries-added",9,"recorded-first-entry-id","1-0","groups",1,"first-entry",["1-0",["a","1"]],"last-entry",["1795326002052-0",["a","1"]]]"#).await;
        check_exact(&mut c, "XTRIM s MAXLEN ~ 2", "4").await;
        check_exact(&mut c, "XINFO STREAM s", r#"["length",3,"radix-tree-keys",2,"radix-tree-nodes",6,"last-generated-id","1795326002052-0","max-deleted-entry-id","70000-0","entries-added",9,"recorded-first-entry-id","1795326002051-0","groups",1,"first-entry",["1795326002051-0",["a","1"]],"last-entry",["1795326002052-0",["a","1"]]]"#).await;
        check_exact(&mut c, "CONFIG SET stream-node-max-entries 100", "+OK").await;
    }

    async fn command_info_of_stream_reads(server: &TestServer) {
        let mut c = server.raw().await;
        check(&mut c, "COMMAND INFO xread xreadgroup", r#"[["xread",-4,[+readonly,+blocking,+movablekeys],0,0,0,[+@read,+@stream,+@slow,+@blocking],[],[["flags",[+RO,+access],"begin_search",["type","keyword","spec",["keyword","STREAMS","startfrom",1]],"find_keys",["type","range","spec",["lastkey",-1,"keystep",1,"limit",2]]]],[]],["xreadgroup",-7,[+write,+blocking,+movablekeys],0,0,0,[+@write,+@stream,+@slow,+@blocking],[],[["flags",[+RO,+access],"begin_search",["type","keyword","spec",["keyword","STREAMS","startfrom",4]],"find_keys",["type","range","spec",["lastkey",-1,"keystep",1,"limit",2]]]],[]]]"#).await;
        check(&mut c, "COMMAND GETKEYSANDFLAGS XREADGROUP GROUP g c STREAMS a b 0 0", r#"[["a",[+RO,+access]],["b",[+RO,+access]]]"#).await;
    }

    async fn watch_sees_entry_changes_not_group_state(server: &TestServer) {
        let mut a = server.raw().await;
        let mut b = server.raw().await;
        // (command, whether it aborts a transaction watching the stream), as Redis
        // 7.0: entry changes and creation do, consumer group state and XSETID do not.
        let cases = [
            ("XADD s 2-1 a b", true),
            ("XDEL s 1-1", true),
            ("XTRIM s MAXLEN 0", true),
            ("XDEL s 9-9", false),
            ("XREADGROUP GROUP g c STREAMS s >", false),
            ("XACK s g 1-1", false),
            ("XGROUP CREATE s g2 0", false),
            ("XGROUP CREATECONSUMER s g z", false),
            ("XGROUP SETID s g 0", false),
            ("XGROUP DESTROY s g", false),
            ("XCLAIM s g d 0 1-1", false),
            ("XSETID s 5-0", false),
            ("XREAD STREAMS s 0", false),
            ("XGROUP CREATE new g $ MKSTREAM", true),
        ];
        for (cmd, aborts) in cases {
            check(&mut a, "FLUSHALL", "+OK").await;
            check(&mut a, "XADD s 1-1 a 1", r#""1-1""#).await;
            check(&mut a, "XGROUP CREATE s g 0", "+OK").await;
            check(&mut a, "XREADGROUP GROUP g c STREAMS s >", r#"[["s",[["1-1",["a","1"]]]]]"#).await;
            let watched = if cmd.contains("new") { "new" } else { "s" };
            check(&mut a, &format!("WATCH {watched}"), "+OK").await;
            check(&mut a, "MULTI", "+OK").await;
            check(&mut a, "PING", "+QUEUED").await;
            let args: Vec<&str> = cmd.split(' ').collect();
            b.send(&args).await;
            let want = if aborts { "nilarr" } else { "[+PONG]" };
            check(&mut a, "EXEC", want).await;
        }
    }

    async fn entries_below_their_node_after_xsetid(server: &TestServer) {
        let mut c = server.raw().await;
        check_exact(&mut c, "XADD s 5-1 a 1", r#""5-1""#).await;
        check_exact(&mut c, "XADD s 10-1 a 2", r#""10-1""#).await;
        check_exact(&mut c, "XDEL s 10-1", "1").await;
        check_exact(&mut c, "XTRIM s MINID 6", "1").await;
        check_exact(&mut c, "XLEN s", "0").await;
        check_exact(&mut c, "XSETID s 1-0", "+OK").await;
        check_exact(&mut c, "XADD s 2-0 b 1", r#""2-0""#).await;
        check_exact(&mut c, "XADD s 3-0 b 2", r#""3-0""#).await;
        check_exact(&mut c, "XRANGE s - +", r#"[["2-0",["b","1"]],["3-0",["b","2"]]]"#).await;
        check_exact(&mut c, "XREVRANGE s + -", r#"[["3-0",["b","2"]],["2-0",["b","1"]]]"#).await;
        check_exact(&mut c, "XLEN s", "2").await;
        check_exact(&mut c, "XRANGE s 2-0 2-0", r#"[["2-0",["b","1"]]]"#).await;
        check_exact(&mut c, "XDEL s 2-0", "1").await;
        check_exact(&mut c, "XLEN s", "1").await;
        check_exact(&mut c, "XINFO STREAM s", r#"["length",1,"radix-tree-keys",1,"radix-tree-nodes",2,"last-generated-id","3-0","max-deleted-entry-id","10-1","entries-added",4,"recorded-first-entry-id","3-0","groups",0,"first-entry",["3-0",["b","2"]],"last-entry",["3-0",["b","2"]]]"#).await;
        check_exact(&mut c, "XTRIM s MAXLEN 0", "1").await;
        check_exact(&mut c, "XLEN s", "0").await;
        check_exact(&mut c, "XADD s 4-0 c 3", r#""4-0""#).await;
        check_exact(&mut c, "XRANGE s - 3-5", "[]").await;
        check_exact(&mut c, "XREVRANGE s 2-5 -", "[]").await;
        check_exact(&mut c, "XREVRANGE s + (2-0", r#"[["4-0",["c","3"]]]"#).await;
        check_exact(&mut c, "XDEL s 3-0 4-0", "1").await;
        check_exact(&mut c, "XLEN s", "0").await;
    }

    async fn xread_blocks_until_xadd(server: &TestServer) {
        let mut admin = server.raw().await;
        let mut a = server.raw().await;
        let mut b = server.raw().await;
        let mut late = server.raw().await;
        check(&mut admin, "XADD s 1-1 f 1", r#""1-1""#).await;
        // `$` is the last ID when the client blocks; a future ID waits longer.
        fire(&mut a, "XREAD BLOCK 0 STREAMS s $").await;
        fire(&mut late, "XREAD BLOCK 0 STREAMS s 5-0").await;
        fire(&mut b, "XREAD COUNT 1 BLOCK 0 STREAMS other s 0 $").await;
        wait_blocked(&mut admin, 3).await;
        still_blocked(&mut a).await;
        check(&mut admin, "XADD s 2-1 f 2", r#""2-1""#).await;
        expect(&mut a, r#"[["s",[["2-1",["f","2"]]]]]"#).await;
        expect(&mut b, r#"[["s",[["2-1",["f","2"]]]]]"#).await;
        still_blocked(&mut late).await;
        check(&mut admin, "XADD s 5-1 f 3", r#""5-1""#).await;
        expect(&mut late, r#"[["s",[["5-1",["f","3"]]]]]"#).await;
        wait_blocked(&mut admin, 0).await;
        // A non-stream write does not wake, a timeout answers a null array.
        check(&mut a, "XREAD BLOCK 30 STREAMS s $", "nilarr").await;
        check(&mut a, "XREAD BLOCK 30 STREAMS nokey 0", "nilarr").await;
    }

    async fn xreadgroup_blocks_and_wakes_one_consumer_per_entry(server: &TestServer) {
        let mut admin = server.raw().await;
        let mut a = server.raw().await;
        let mut b = server.raw().await;
        check(&mut admin, "XGROUP CREATE s g $ MKSTREAM", "+OK").await;
        // Block one after the other, so that alice is the oldest waiter.
        fire(&mut a, "XREADGROUP GROUP g alice BLOCK 0 STREAMS s >").await;
        wait_blocked(&mut admin, 1).await;
        fire(&mut b, "XREADGROUP GROUP g bob BLOCK 0 STREAMS s >").await;
        wait_blocked(&mut admin, 2).await;
        check(&mut admin, "XADD s 1-1 f 1", r#""1-1""#).await;
        // The oldest waiter gets the entry; the other one keeps waiting.
        expect(&mut a, r#"[["s",[["1-1",["f","1"]]]]]"#).await;
        still_blocked(&mut b).await;
        check(&mut admin, "XADD s 2-1 f 2", r#""2-1""#).await;
        expect(&mut b, r#"[["s",[["2-1",["f","2"]]]]]"#).await;
        check(&mut admin, "XPENDING s g", r#"[2,"1-1","2-1",[["alice","1"],["bob","1"]]]"#).await;
        // History reads never block.
        check(&mut a, "XREADGROUP GROUP g alice BLOCK 0 STREAMS s 0", r#"[["s",[["1-1",["f","1"]]]]]"#).await;
        check(&mut a, "XREADGROUP GROUP g alice BLOCK 20 STREAMS s >", "nilarr").await;
        // Destroying the group unblocks its readers with an error.
        fire(&mut b, "XREADGROUP GROUP g bob BLOCK 0 STREAMS s >").await;
        wait_blocked(&mut admin, 1).await;
        check(&mut admin, "XGROUP DESTROY s g", "1").await;
        expect(&mut b, "!NOGROUP the consumer group this client was blocked on no longer exists").await;
        // Deleting, overwriting or renaming the stream unblocks them too.
        for cmd in ["DEL s", "SET s x", "RENAME s t", "FLUSHALL"] {
            admin.send(&["DEL", "s", "t"]).await;
            check(&mut admin, "XGROUP CREATE s g $ MKSTREAM", "+OK").await;
            fire(&mut b, "XREADGROUP GROUP g bob BLOCK 0 STREAMS s >").await;
            wait_blocked(&mut admin, 1).await;
            let args: Vec<&str> = cmd.split(' ').collect();
            admin.send(&args).await;
            expect(&mut b, "!UNBLOCKED the stream key no longer exists").await;
        }
    }

    async fn blocking_reads_inside_multi_do_not_block(server: &TestServer) {
        let mut c = server.raw().await;
        check(&mut c, "MULTI", "+OK").await;
        check(&mut c, "XREAD BLOCK 0 STREAMS s $", "+QUEUED").await;
        check(&mut c, "XADD s 1-1 a b", "+QUEUED").await;
        check(&mut c, "XREAD BLOCK 0 STREAMS s 0", "+QUEUED").await;
        check(&mut c, "EXEC", r#"[nilarr,"1-1",[["s",[["1-1",["a","b"]]]]]]"#).await;
    }

    async fn xread_resp3_replies_a_map(server: &TestServer) {
        let mut c = server.raw().await;
        c.send(&["HELLO", "3"]).await;
        check(&mut c, "XADD s 1-1 a b", r#""1-1""#).await;
        let reply = c.send(&["XREAD", "STREAMS", "s", "0"]).await;
        assert!(matches!(reply, Frame::Map(ref m) if m.len() == 1), "{reply:?}");
        let info = c.send(&["XINFO", "STREAM", "s"]).await;
        assert!(matches!(info, Frame::Map(_)), "{info:?}");
        assert_eq!(c.send(&["XREAD", "STREAMS", "s", "1-1"]).await, Frame::Null);
    }

    async fn pending_times_and_consumer_idle(server: &TestServer) {
        let mut c = server.raw().await;
        check(&mut c, "XADD s 1-1 a 1", r#""1-1""#).await;
        check(&mut c, "XADD s 2-1 b 2", r#""2-1""#).await;
        check(&mut c, "XGROUP CREATE s g 0", "+OK").await;
        let before = unix_now_ms();
        check(&mut c, "XREADGROUP GROUP g alice STREAMS s >", r#"[["s",[["1-1",["a","1"]],["2-1",["b","2"]]]]]"#).await;
        let after = unix_now_ms();
        let pel = c.send(&["XPENDING", "s", "g", "-", "+", "10"]).await;
        assert_eq!(items(&pel).len(), 2);
        for (entry, id) in items(&pel).iter().zip(["1-1", "2-1"]) {
            let e = items(entry);
            assert_eq!(text(&e[0]), id);
            assert_eq!(text(&e[1]), "alice");
            assert!((0..60_000).contains(&as_int(&e[2])), "{entry:?}");
            assert_eq!(as_int(&e[3]), 1);
        }
        // XCLAIM with TIME and RETRYCOUNT sets both.
        let t = (before - 5000).to_string();
        let claimed = c.send(&["XCLAIM", "s", "g", "bob", "0", "1-1", "TIME", &t, "RETRYCOUNT", "9"]).await;
        assert_eq!(render(&claimed), r#"[["1-1",["a","1"]]]"#);
        let pel = c.send(&["XPENDING", "s", "g", "IDLE", "4000", "-", "+", "10"]).await;
        assert_eq!(items(&pel).len(), 1, "{pel:?}");
        let e = items(&items(&pel)[0]);
        assert_eq!((text(&e[0]), text(&e[1]), as_int(&e[3])), ("1-1".into(), "bob".into(), 9));
        assert!(as_int(&e[2]) >= 5000);
        // IDLE sets the delivery time that far back; the count grows by one.
        c.send(&["XCLAIM", "s", "g", "carol", "0", "2-1", "IDLE", "7000", "JUSTID"]).await;
        let pel = c.send(&["XPENDING", "s", "g", "IDLE", "6000", "-", "+", "10", "carol"]).await;
        let e = items(&items(&pel)[0]);
        assert_eq!((text(&e[0]), as_int(&e[3])), ("2-1".into(), 1));
        // Consumers: idle since their last interaction.
        let consumers = c.send(&["XINFO", "CONSUMERS", "s", "g"]).await;
        let names: Vec<String> = items(&consumers).iter().map(|c| text(field(c, "name"))).collect();
        assert_eq!(names, ["alice", "bob", "carol"]);
        for consumer in items(&consumers) {
            assert!((0..60_000).contains(&as_int(field(consumer, "idle"))));
        }
        assert_eq!(as_int(field(&items(&consumers)[0], "pending")), 0);
        check(&mut c, "XINFO CONSUMERS s nog", "!NOGROUP No such consumer group 'nog' for key name 's'").await;
        check(&mut c, "XINFO CONSUMERS nokey g", "!ERR no such key").await;
        // XINFO STREAM FULL: delivery and seen times are absolute.
        let full = c.send(&["XINFO", "STREAM", "s", "FULL"]).await;
        let groups = items(field(&full, "groups"));
        assert_eq!(groups.len(), 1);
        let g = &groups[0];
        assert_eq!(text(field(g, "name")), "g");
        assert_eq!(as_int(field(g, "pel-count")), 2);
        assert_eq!(as_int(field(g, "entries-read")), 2);
        assert_eq!(as_int(field(g, "lag")), 0);
        let pending = items(field(g, "pending"));
        let first = items(&pending[0]);
        assert_eq!((text(&first[0]), text(&first[1]), as_int(&first[3])), ("1-1".into(), "bob".into(), 9));
        assert_eq!(as_int(&first[2]), before - 5000);
        let consumers = items(field(g, "consumers"));
        let alice = &consumers[0];
        assert_eq!(text(field(alice, "name")), "alice");
        let seen = as_int(field(alice, "seen-time"));
        assert!(seen >= before - 1000 && seen <= after + 1000, "{seen}");
        assert_eq!(as_int(field(alice, "pel-count")), 0);
    }

    async fn stream_keyspace_events(server: &TestServer) {
        let mut c = server.raw().await;
        let mut sub = server.raw().await;
        check(&mut c, "CONFIG SET notify-keyspace-events KEA", "+OK").await;
        sub.send(&["PSUBSCRIBE", "__keyevent@0__:*"]).await;
        for cmd in [
            "XADD s MAXLEN 1 1-1 a 1",
            "XADD s MAXLEN 1 2-1 a 2",
            "XDEL s 2-1",
            "XSETID s 3-0",
            "XGROUP CREATE s g 0",
            "XGROUP CREATECONSUMER s g c",
            "XGROUP SETID s g 0",
            "XGROUP DELCONSUMER s g c",
            "XGROUP DESTROY s g",
            "XTRIM s MAXLEN 0",
        ] {
            let args: Vec<&str> = cmd.split(' ').collect();
            c.send(&args).await;
        }
        let mut events = Vec::new();
        while let Some(frame) = sub.try_read_frame(Duration::from_millis(200)).await {
            let parts = items(&frame);
            events.push(text(&parts[2]).trim_start_matches("__keyevent@0__:").to_string());
        }
        assert_eq!(
            events,
            [
                "xadd",
                "xadd",
                "xtrim",
                "xdel",
                "xsetid",
                "xgroup-create",
                "xgroup-createconsumer",
                "xgroup-setid",
                "xgroup-delconsumer",
                "xgroup-destroy"
            ]
        );
        assert_eq!(c.send(&["CONFIG", "SET", "notify-keyspace-events", ""]).await, ok());
    }
}

/// xorshift64*: a tiny deterministic generator for the random test.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A random stream command over keys `x0`/`x1`, groups `g0`/`g1` and consumers
/// `c0..c2`, with explicit IDs (milliseconds 1..60) so replies are deterministic;
/// nothing it sends has a time-dependent reply.
fn random_command(rng: &mut Rng) -> Vec<String> {
    let key = format!("x{}", rng.below(2));
    let group = format!("g{}", rng.below(2));
    let consumer = format!("c{}", rng.below(3));
    let id = |rng: &mut Rng| format!("{}-{}", 1 + rng.below(60), rng.below(3));
    let words: Vec<String> = match rng.below(28) {
        0..=4 => {
            let mut w = vec!["XADD".to_string(), key];
            match rng.below(8) {
                0 => w.extend(["MAXLEN".into(), "~".into(), rng.below(8).to_string()]),
                1 => w.extend(["MAXLEN".into(), rng.below(8).to_string()]),
                2 => w.extend(["MINID".into(), id(rng)]),
                3 => w.push("NOMKSTREAM".into()),
                _ => {}
            }
            w.push(if rng.below(5) == 0 {
                format!("{}-*", 1 + rng.below(60))
            } else {
                id(rng)
            });
            w.extend(["f".into(), rng.below(100).to_string()]);
            match rng.below(4) {
                0 => w.extend(["g".into(), "v".into()]),
                1 => w.extend(["g".into(), "x".repeat(rng.below(120) as usize)]),
                _ => {}
            }
            w
        }
        5 => vec!["XDEL".into(), key, id(rng), id(rng)],
        6 => vec![
            "XTRIM".into(),
            key,
            "MAXLEN".into(),
            rng.below(6).to_string(),
        ],
        7 => vec!["XTRIM".into(), key, "MINID".into(), id(rng)],
        8 => vec!["XRANGE".into(), key, "-".into(), "+".into()],
        9 => vec![
            "XREVRANGE".into(),
            key,
            format!("({}", id(rng)),
            "-".into(),
            "COUNT".into(),
            (1 + rng.below(4)).to_string(),
        ],
        10 => vec!["XLEN".into(), key],
        11 => vec!["XINFO".into(), "STREAM".into(), key],
        12 => vec!["XINFO".into(), "GROUPS".into(), key],
        13 => {
            let start = if rng.below(2) == 0 {
                "0".to_string()
            } else {
                "$".into()
            };
            let mut w = vec!["XGROUP".into(), "CREATE".into(), key, group, start];
            if rng.below(2) == 0 {
                w.push("MKSTREAM".into());
            }
            w
        }
        14 => vec!["XGROUP".into(), "SETID".into(), key, group, id(rng)],
        15 | 16 => {
            let mut w = vec!["XREADGROUP".into(), "GROUP".into(), group, consumer];
            if rng.below(2) == 0 {
                w.extend(["COUNT".into(), (1 + rng.below(3)).to_string()]);
            }
            if rng.below(4) == 0 {
                w.push("NOACK".into());
            }
            let from = if rng.below(3) == 0 {
                "0".to_string()
            } else {
                ">".into()
            };
            w.extend(["STREAMS".into(), key, from]);
            w
        }
        17 => vec!["XACK".into(), key, group, id(rng), id(rng)],
        18 => vec!["XPENDING".into(), key, group],
        19 => vec![
            "XCLAIM".into(),
            key,
            group,
            consumer,
            "0".into(),
            id(rng),
            id(rng),
            "JUSTID".into(),
        ],
        20 => vec![
            "XAUTOCLAIM".into(),
            key,
            group,
            consumer,
            "0".into(),
            "0".into(),
            "COUNT".into(),
            (1 + rng.below(3)).to_string(),
            "JUSTID".into(),
        ],
        21 => vec!["XGROUP".into(), "DELCONSUMER".into(), key, group, consumer],
        22 => vec![
            "XGROUP".into(),
            "CREATECONSUMER".into(),
            key,
            group,
            consumer,
        ],
        23 => vec!["XGROUP".into(), "DESTROY".into(), key, group],
        24 => vec!["XSETID".into(), key, format!("{}-0", 1 + rng.below(69))],
        25 => vec![
            "XREAD".into(),
            "COUNT".into(),
            (1 + rng.below(3)).to_string(),
            "STREAMS".into(),
            "x0".into(),
            "x1".into(),
            id(rng),
            id(rng),
        ],
        26 => vec!["XCLAIM".into(), key, group, consumer, "0".into(), id(rng)],
        _ => vec![
            "XAUTOCLAIM".into(),
            key,
            group,
            consumer,
            "0".into(),
            id(rng),
            "COUNT".into(),
            (1 + rng.below(3)).to_string(),
        ],
    };
    words
}

/// Random stream commands on both backends and redis-server (when installed),
/// compared reply by reply.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_streams_match_redis() {
    let memory = start(Backend::Memory).await;
    let disk = start(Backend::Disk).await;
    let redis = if against_redis() {
        None
    } else {
        RedisServer::start().await
    };
    let mut names = vec!["memory", "disk"];
    let mut clients = vec![memory.raw().await, disk.raw().await];
    match &redis {
        Some(r) => {
            names.push("redis");
            clients.push(r.raw().await);
        }
        None => eprintln!("SKIPPED comparison with redis-server: not found"),
    }
    // Small nodes (by count and by listpack bytes) so that approximate trims and
    // node removal happen often.
    for c in clients.iter_mut() {
        let reply = c
            .send(&["CONFIG", "SET", "stream-node-max-entries", "4"])
            .await;
        assert_eq!(reply, ok());
        let reply = c
            .send(&["CONFIG", "SET", "stream-node-max-bytes", "300"])
            .await;
        assert_eq!(reply, ok());
    }
    for seed in [7u64, 1234, 99_991, 5, 31_337] {
        let mut rng = Rng(seed);
        let mut history = Vec::new();
        for c in clients.iter_mut() {
            c.send(&["FLUSHALL"]).await;
        }
        for step in 0..1500 {
            let words = random_command(&mut rng);
            let args: Vec<&str> = words.iter().map(String::as_str).collect();
            history.push(words.join(" "));
            let mut replies = Vec::new();
            for c in clients.iter_mut() {
                replies.push(render_exact(&c.send(&args).await));
            }
            let reference = replies.len() - 1;
            for (i, reply) in replies.iter().enumerate() {
                if reply != &replies[reference] {
                    let tail = history[history.len().saturating_sub(25)..].join("\n  ");
                    panic!(
                        "seed {seed} step {step}: `{}`\n  {}: {reply}\n  {}: {}\nlast commands:\n  {tail}",
                        words.join(" "),
                        names[i],
                        names[reference],
                        replies[reference]
                    );
                }
            }
        }
    }
    memory.stop().await;
    disk.stop().await;
}

/// Streams, their counters, groups, pending lists and consumers outlive a restart
/// of the disk backend.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disk_streams_survive_restart() {
    if against_redis() {
        return;
    }
    let server = start(Backend::Disk).await;
    let mut c = server.raw().await;
    check(&mut c, "CONFIG SET stream-node-max-entries 2", "+OK").await;
    for cmd in [
        "XADD s 1-1 a 1",
        "XADD s 2-1 b 2 c 3",
        "XADD s 3-1 a 3",
        "XADD s 4-1 a 4",
        "XDEL s 2-1",
        "XGROUP CREATE s g 0",
        "XREADGROUP GROUP g alice COUNT 2 STREAMS s >",
        "XGROUP CREATECONSUMER s g bob",
        "XGROUP CREATE empty g $ MKSTREAM",
    ] {
        let args: Vec<&str> = cmd.split(' ').collect();
        let reply = c.send(&args).await;
        assert!(!matches!(reply, Frame::Error(_)), "{cmd}: {reply:?}");
    }
    let probes = [
        "XRANGE s - +",
        "XINFO STREAM s",
        "XINFO GROUPS s",
        "XPENDING s g",
        "XINFO GROUPS empty",
        "XLEN empty",
    ];
    let mut before = Vec::new();
    for cmd in probes {
        let args: Vec<&str> = cmd.split(' ').collect();
        before.push(render_exact(&c.send(&args).await));
    }
    drop(c);
    let server = server.restart().await;
    let mut c = server.raw().await;
    for (cmd, want) in probes.iter().zip(&before) {
        check_exact(&mut c, cmd, want).await;
    }
    // Appending goes on where it left off (the tail node and counters survived).
    check(&mut c, "XADD s 5-1 a 5", r#""5-1""#).await;
    check(
        &mut c,
        "XADD s 4-9 a 5",
        "!ERR The ID specified in XADD is equal or smaller than the target stream top item",
    )
    .await;
    check(
        &mut c,
        "XREADGROUP GROUP g bob STREAMS s >",
        r#"[["s",[["4-1",["a","4"]],["5-1",["a","5"]]]]]"#,
    )
    .await;
    server.stop().await;
}
