//! Generic keyspace commands: DEL, UNLINK, EXISTS, TYPE, RENAME, RENAMENX, COPY, MOVE,
//! KEYS, SCAN, RANDOMKEY and TOUCH. The expiry commands are in [`super::expire`] and
//! OBJECT in [`super::object`].
//!
//! Keys expire the way they do in Redis, in two complementary ways:
//!
//! * **Lazy expiry**: every [`Txn`](crate::storage::Txn) access first compares the key's
//!   expiry with the command's clock (`Txn::now_ms`, fixed for the whole command) and
//!   removes the key if its time has come, so no command ever sees an expired key.
//! * **Active expiry**: keys that are never accessed again would keep their memory
//!   forever, so the server calls [`Engine::active_expire_cycle`](crate::Engine::active_expire_cycle)
//!   `hz` times per second; each call samples volatile keys within a bounded budget and
//!   removes the expired ones, as Redis' `activeExpireCycle`.
//!
//! Lookups that Redis makes with `lookupKeyRead` (EXISTS, TYPE, TOUCH, the source of
//! COPY, SCAN's TYPE filter, TTL and OBJECT) count keyspace hits and misses; write
//! lookups (DEL, RENAME, MOVE, EXPIRE, PERSIST) do not.

use bytes::Bytes;
use ferrokv_protocol::Frame;

use crate::command::{CmdError, CmdFlags, CmdResult, CommandSpec, Ctx, KeyPositions};
use crate::commands::args::{int, is, Args};
use crate::notify;
use crate::storage::{DbIndex, KeyMeta};
use crate::util::glob::glob_match;

const KEYSPACE: &[&str] = &["keyspace"];
const KEYSPACE_DANGEROUS: &[&str] = &["keyspace", "dangerous"];
const WRITE_FAST: CmdFlags = CmdFlags::WRITE.or(CmdFlags::FAST);
const READ_FAST: CmdFlags = CmdFlags::READONLY.or(CmdFlags::FAST);
const READ_ALL: CmdFlags = CmdFlags::READONLY.or(CmdFlags::WHOLE_KEYSPACE);
const MANY_KEYS: &str = "key [key ...]";

/// Generic keyspace command specs.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "del",
        arity: -2,
        flags: CmdFlags::WRITE,
        acl: KEYSPACE,
        keys: KeyPositions::ALL,
        summary: "Deletes one or more keys.",
        syntax: MANY_KEYS,
        handler: Some(del),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "unlink",
        arity: -2,
        flags: WRITE_FAST,
        acl: KEYSPACE,
        keys: KeyPositions::ALL,
        since: "4.0.0",
        summary: "Asynchronously deletes one or more keys.",
        syntax: MANY_KEYS,
        handler: Some(del),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "exists",
        arity: -2,
        flags: READ_FAST,
        acl: KEYSPACE,
        keys: KeyPositions::ALL,
        summary: "Determines whether one or more keys exist.",
        syntax: MANY_KEYS,
        handler: Some(exists),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "type",
        arity: 2,
        flags: READ_FAST,
        acl: KEYSPACE,
        keys: KeyPositions::FIRST,
        summary: "Determines the type of value stored at a key.",
        syntax: "key",
        handler: Some(type_of),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "rename",
        arity: 3,
        flags: CmdFlags::WRITE,
        acl: KEYSPACE,
        keys: KeyPositions::new(1, 2, 1),
        summary: "Renames a key and overwrites the destination.",
        syntax: "key newkey",
        handler: Some(rename),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "renamenx",
        arity: 3,
        flags: WRITE_FAST,
        acl: KEYSPACE,
        keys: KeyPositions::new(1, 2, 1),
        summary: "Renames a key only when the target key name doesn't exist.",
        syntax: "key newkey",
        handler: Some(renamenx),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "copy",
        arity: -3,
        flags: CmdFlags::WRITE.or(CmdFlags::DENYOOM),
        acl: KEYSPACE,
        keys: KeyPositions::new(1, 2, 1),
        since: "6.2.0",
        summary: "Copies the value of a key to a new key.",
        syntax: "source destination [DB destination-db] [REPLACE]",
        handler: Some(copy),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "move",
        arity: 3,
        flags: WRITE_FAST,
        acl: KEYSPACE,
        keys: KeyPositions::FIRST,
        summary: "Moves a key to another database.",
        syntax: "key db",
        handler: Some(move_key),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "keys",
        arity: 2,
        flags: READ_ALL,
        acl: KEYSPACE_DANGEROUS,
        summary: "Returns all key names that match a pattern.",
        syntax: "pattern",
        handler: Some(keys),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "scan",
        arity: -2,
        flags: READ_ALL,
        acl: KEYSPACE,
        since: "2.8.0",
        summary: "Iterates over the key names in the database.",
        syntax: "cursor [MATCH pattern] [COUNT count] [TYPE type]",
        handler: Some(scan),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "randomkey",
        arity: 1,
        flags: READ_ALL,
        acl: KEYSPACE,
        summary: "Returns a random key name from the database.",
        handler: Some(randomkey),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "touch",
        arity: -2,
        flags: READ_FAST,
        acl: KEYSPACE,
        keys: KeyPositions::ALL,
        since: "3.2.1",
        summary: "Returns the number of existing keys out of those specified after updating the time they were last accessed.",
        syntax: MANY_KEYS,
        handler: Some(touch),
        ..CommandSpec::DEFAULT
    },
];

/// Looks a key up as Redis' `lookupKeyReadWithFlags(.., LOOKUP_NOTOUCH)`: no access
/// is recorded, but a keyspace hit or miss is counted.
pub(crate) fn lookup_read(
    ctx: &mut Ctx<'_>,
    db: DbIndex,
    key: &[u8],
) -> Result<Option<KeyMeta>, CmdError> {
    let meta = ctx.txn.meta(db, key)?;
    ctx.note_read_in(db, meta.is_some(), key);
    Ok(meta)
}

/// Redis' `shared.sameobjecterr`.
fn same_object() -> CmdError {
    CmdError::err("source and destination objects are the same")
}

/// Runs `op` on every key argument and replies how many times it returned true, so
/// a key named twice counts twice (EXISTS, TOUCH) or once (DEL, as it is gone).
fn count_keys(
    ctx: &mut Ctx<'_>,
    argv: &[Bytes],
    op: fn(&mut Ctx<'_>, DbIndex, &[u8]) -> Result<bool, CmdError>,
) -> CmdResult {
    let db = ctx.db();
    let mut n = 0;
    for key in &argv[1..] {
        n += i64::from(op(ctx, db, key)?);
    }
    Ok(Frame::Integer(n))
}

/// DEL and UNLINK: deletion is never deferred here, so both share one routine.
fn del(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    count_keys(ctx, argv, |ctx, db, key| {
        let deleted = ctx.txn.delete(db, key)?;
        if deleted {
            ctx.notify(notify::GENERIC, "del", key);
        }
        Ok(deleted)
    })
}

fn exists(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    count_keys(ctx, argv, |ctx, db, key| {
        Ok(lookup_read(ctx, db, key)?.is_some())
    })
}

/// TOUCH records an access, and counts a hit or miss as `lookupKeyRead` does.
fn touch(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    count_keys(ctx, argv, |ctx, db, key| {
        let hit = ctx.txn.touch(db, key)?;
        ctx.note_read_in(db, hit, key);
        Ok(hit)
    })
}

fn type_of(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let db = ctx.db();
    let name = lookup_read(ctx, db, &argv[1])?.map_or("none", |m| m.key_type.name());
    Ok(Frame::Simple(Bytes::from_static(name.as_bytes())))
}

fn rename(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    rename_generic(ctx, argv, false)
}

fn renamenx(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    rename_generic(ctx, argv, true)
}

/// Redis' `renameGenericCommand`: a missing source is an error even when both names
/// are the same; renaming a key onto itself changes nothing.
fn rename_generic(ctx: &mut Ctx<'_>, argv: &[Bytes], nx: bool) -> CmdResult {
    let (db, src, dst) = (ctx.db(), &argv[1], &argv[2]);
    if ctx.txn.meta(db, src)?.is_none() {
        return Err(CmdError::err("no such key"));
    }
    let done = if nx { Frame::Integer(1) } else { Frame::ok() };
    if src == dst {
        return Ok(if nx { Frame::Integer(0) } else { Frame::ok() });
    }
    if nx && ctx.txn.meta(db, dst)?.is_some() {
        return Ok(Frame::Integer(0));
    }
    ctx.txn.rename(db, src, db, dst)?;
    // Redis deletes an existing destination, then adds the key anew (`dbAdd`).
    ctx.notify(notify::NEW, "new", dst);
    ctx.notify(notify::GENERIC, "rename_from", src);
    ctx.notify(notify::GENERIC, "rename_to", dst);
    Ok(done)
}

/// Parses a database number as `getIntFromObjectOrReply` followed by `selectDb`.
fn db_index(ctx: &Ctx<'_>, arg: &[u8]) -> Result<DbIndex, CmdError> {
    let id = i32::try_from(int(arg)?).map_err(|_| {
        CmdError::err("value is out of range, value must between -2147483648 and 2147483647")
    })?;
    match usize::try_from(id) {
        Ok(id) if id < ctx.engine.databases() => Ok(id),
        _ => Err(CmdError::err("DB index is out of range")),
    }
}

fn copy(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let src_db = ctx.db();
    let mut dst_db = src_db;
    let mut replace = false;
    let mut args = Args::new(argv, 3);
    while let Some(opt) = args.next_arg() {
        if is(opt, "replace") {
            replace = true;
        } else if is(opt, "db") && !args.is_done() {
            dst_db = db_index(ctx, args.value()?)?;
        } else {
            return Err(CmdError::syntax());
        }
    }
    let (src, dst) = (&argv[1], &argv[2]);
    if src_db == dst_db && src == dst {
        return Err(same_object());
    }
    if lookup_read(ctx, src_db, src)?.is_none() {
        return Ok(Frame::Integer(0));
    }
    if !replace && ctx.txn.meta(dst_db, dst)?.is_some() {
        return Ok(Frame::Integer(0));
    }
    ctx.txn.copy(src_db, src, dst_db, dst)?;
    ctx.notify_in(dst_db, notify::NEW, "new", dst);
    ctx.notify_in(dst_db, notify::GENERIC, "copy_to", dst);
    Ok(Frame::Integer(1))
}

fn move_key(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let src_db = ctx.db();
    let dst_db = db_index(ctx, &argv[2])?;
    if src_db == dst_db {
        return Err(same_object());
    }
    let key = &argv[1];
    if ctx.txn.meta(src_db, key)?.is_none() || ctx.txn.meta(dst_db, key)?.is_some() {
        return Ok(Frame::Integer(0));
    }
    ctx.txn.rename(src_db, key, dst_db, key)?;
    ctx.notify_in(dst_db, notify::NEW, "new", key);
    ctx.notify_in(src_db, notify::GENERIC, "move_from", key);
    ctx.notify_in(dst_db, notify::GENERIC, "move_to", key);
    Ok(Frame::Integer(1))
}

fn keys(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let db = ctx.db();
    let pattern = &argv[1];
    let every = pattern.as_ref() == b"*";
    let found = ctx
        .txn
        .keys(db, &mut |key| every || glob_match(pattern, key, false))?;
    Ok(Frame::Array(found.into_iter().map(Frame::Bulk).collect()))
}

/// Parses a SCAN-family cursor as Redis' `parseScanCursorOrReply`, which uses
/// `strtoul`: optional sign (a negative value wraps), leading zeros allowed, no
/// leading space, nothing after the digits, no overflow; the empty string is 0.
pub fn parse_cursor(arg: &[u8]) -> Result<u64, CmdError> {
    let invalid = || CmdError::err("invalid cursor");
    if arg.is_empty() {
        return Ok(0);
    }
    let (negative, digits) = match arg[0] {
        b'-' => (true, &arg[1..]),
        b'+' => (false, &arg[1..]),
        _ => (false, arg),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(invalid());
    }
    let mut value: u64 = 0;
    for &d in digits {
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(d - b'0')))
            .ok_or_else(invalid)?;
    }
    Ok(if negative {
        value.wrapping_neg()
    } else {
        value
    })
}

/// Options of the SCAN family, as `scanGenericCommand` parses them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanOptions<'a> {
    /// How much work one call should do (COUNT, default 10).
    pub count: usize,
    /// MATCH pattern; `None` for no pattern or `*`.
    pub pattern: Option<&'a [u8]>,
    /// TYPE filter (SCAN only).
    pub type_name: Option<&'a [u8]>,
}

/// Parses `[MATCH pattern] [COUNT count] [TYPE type]` from `argv[start..]`; TYPE is
/// accepted only when `allow_type` (SCAN, not SSCAN/HSCAN/ZSCAN).
pub fn parse_scan_options(
    argv: &[Bytes],
    start: usize,
    allow_type: bool,
) -> Result<ScanOptions<'_>, CmdError> {
    let mut opts = ScanOptions {
        count: 10,
        pattern: None,
        type_name: None,
    };
    let mut args = Args::new(argv, start);
    while let Some(opt) = args.next_arg() {
        let has_value = !args.is_done();
        if is(opt, "count") && has_value {
            let n = int(args.value()?)?;
            if n < 1 {
                return Err(CmdError::syntax());
            }
            opts.count = usize::try_from(n).unwrap_or(usize::MAX);
        } else if is(opt, "match") && has_value {
            let pattern = args.value()?;
            opts.pattern = (pattern.as_ref() != b"*").then_some(pattern.as_ref());
        } else if is(opt, "type") && allow_type && has_value {
            opts.type_name = Some(args.value()?.as_ref());
        } else {
            return Err(CmdError::syntax());
        }
    }
    Ok(opts)
}

/// SCAN: one backend page per call, filtered by MATCH and TYPE afterwards, so a page
/// may be empty while the iteration goes on. The cursor is printed unsigned (Redis
/// prints a `long long`, which only differs for cursors it never produces).
fn scan(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let cursor = parse_cursor(&argv[1])?;
    let opts = parse_scan_options(argv, 2, true)?;
    let db = ctx.db();
    let page = ctx.txn.scan(db, cursor, opts.count)?;
    let mut found = Vec::with_capacity(page.keys.len());
    for key in page.keys {
        if opts.pattern.is_some_and(|p| !glob_match(p, &key, false)) {
            continue;
        }
        if let Some(wanted) = opts.type_name {
            let meta = lookup_read(ctx, db, &key)?;
            if !meta.is_some_and(|m| m.key_type.name().as_bytes().eq_ignore_ascii_case(wanted)) {
                continue;
            }
        }
        found.push(Frame::Bulk(key));
    }
    Ok(Frame::Array(vec![
        Frame::bulk(page.next_cursor.to_string()),
        Frame::Array(found),
    ]))
}

fn randomkey(ctx: &mut Ctx<'_>, _argv: &[Bytes]) -> CmdResult {
    let db = ctx.db();
    Ok(ctx.txn.random_key(db)?.map_or(Frame::Null, Frame::Bulk))
}

/// Helpers for the tests of the keyspace families, which need keys before the string
/// commands exist.
#[cfg(test)]
pub(crate) mod test_util {
    use crate::engine::Engine;
    use crate::stats::Stats;
    use crate::storage::{DbIndex, Scope, TtlUpdate, UnixMillis};

    /// Stores a string directly in the backend, optionally with an absolute expiry.
    pub fn put(e: &Engine, db: DbIndex, key: &str, value: &str, expire_at: Option<UnixMillis>) {
        let ttl = expire_at.map_or(TtlUpdate::Clear, TtlUpdate::At);
        e.backend()
            .atomic(Scope::All, &mut |txn| {
                txn.set_string(db, key.as_bytes(), value.as_bytes(), ttl)
                    .expect("set_string");
            })
            .expect("commit");
    }

    /// The backend's clock right now.
    pub fn now(e: &Engine) -> UnixMillis {
        let mut now = 0;
        e.backend()
            .atomic(Scope::All, &mut |txn| now = txn.now_ms())
            .expect("commit");
        now
    }

    /// (keyspace_hits, keyspace_misses).
    pub fn hits_misses(e: &Engine) -> (u64, u64) {
        (
            Stats::get(&e.stats.keyspace_hits),
            Stats::get(&e.stats.keyspace_misses),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::test_util::{hits_misses, now, put};
    use super::{parse_cursor, parse_scan_options};
    use crate::testing::{engine, run, session};
    use bytes::Bytes;
    use ferrokv_protocol::Frame;

    fn int(n: i64) -> Frame {
        Frame::Integer(n)
    }

    fn arity(cmd: &str) -> Frame {
        Frame::error(format!("ERR wrong number of arguments for '{cmd}' command"))
    }

    fn sorted(reply: Frame) -> Vec<Frame> {
        let Frame::Array(mut items) = reply else {
            panic!("not an array: {reply:?}")
        };
        items.sort_by_key(|f| format!("{f:?}"));
        items
    }

    fn bulks(words: &[&str]) -> Vec<Frame> {
        words.iter().map(Frame::bulk).collect()
    }

    #[test]
    fn del_unlink_exists_touch() {
        let e = engine();
        let mut s = session(&e);
        for k in ["a", "b", "c"] {
            put(&e, 0, k, "v", None);
        }
        assert_eq!(run(&e, &mut s, &["EXISTS", "a", "a", "nope", "b"]), int(3));
        assert_eq!(run(&e, &mut s, &["TOUCH", "a", "nope", "c"]), int(2));
        assert_eq!(run(&e, &mut s, &["DEL", "a", "a", "nope"]), int(1));
        assert_eq!(run(&e, &mut s, &["UNLINK", "b", "c"]), int(2));
        assert_eq!(run(&e, &mut s, &["EXISTS", "a", "b", "c"]), int(0));
        for cmd in ["del", "unlink", "exists", "touch"] {
            assert_eq!(run(&e, &mut s, &[cmd]), arity(cmd));
        }
    }

    #[test]
    fn read_lookups_count_hits_and_misses() {
        let e = engine();
        let mut s = session(&e);
        put(&e, 0, "k", "v", None);
        let before = hits_misses(&e);
        run(&e, &mut s, &["EXISTS", "k", "x"]);
        run(&e, &mut s, &["TYPE", "k"]);
        run(&e, &mut s, &["TOUCH", "x"]);
        run(&e, &mut s, &["DEL", "x"]);
        run(&e, &mut s, &["RENAME", "k", "k2"]);
        let after = hits_misses(&e);
        assert_eq!((after.0 - before.0, after.1 - before.1), (2, 2));
    }

    #[test]
    fn expired_keys_are_invisible() {
        let e = engine();
        let mut s = session(&e);
        put(&e, 0, "old", "v", Some(now(&e) - 1));
        assert_eq!(run(&e, &mut s, &["EXISTS", "old"]), int(0));
        assert_eq!(run(&e, &mut s, &["TYPE", "old"]), Frame::simple("none"));
        assert_eq!(run(&e, &mut s, &["DEL", "old"]), int(0));
    }

    #[test]
    fn type_reports_string_or_none() {
        let e = engine();
        let mut s = session(&e);
        put(&e, 0, "k", "v", None);
        assert_eq!(run(&e, &mut s, &["TYPE", "k"]), Frame::simple("string"));
        assert_eq!(run(&e, &mut s, &["type", "missing"]), Frame::simple("none"));
        assert_eq!(run(&e, &mut s, &["TYPE"]), arity("type"));
        assert_eq!(run(&e, &mut s, &["TYPE", "a", "b"]), arity("type"));
    }

    #[test]
    fn rename_and_renamenx() {
        let e = engine();
        let mut s = session(&e);
        let at = now(&e) + 100_000;
        put(&e, 0, "a", "1", Some(at));
        put(&e, 0, "b", "2", None);
        assert_eq!(
            run(&e, &mut s, &["RENAME", "nope", "x"]),
            Frame::error("ERR no such key")
        );
        assert_eq!(
            run(&e, &mut s, &["RENAME", "nope", "nope"]),
            Frame::error("ERR no such key")
        );
        assert_eq!(
            run(&e, &mut s, &["RENAMENX", "nope", "x"]),
            Frame::error("ERR no such key")
        );
        assert_eq!(run(&e, &mut s, &["RENAME", "a", "a"]), Frame::ok());
        assert_eq!(run(&e, &mut s, &["RENAMENX", "a", "a"]), int(0));
        assert_eq!(run(&e, &mut s, &["RENAMENX", "a", "b"]), int(0));
        assert_eq!(run(&e, &mut s, &["RENAME", "a", "b"]), Frame::ok());
        assert_eq!(run(&e, &mut s, &["EXISTS", "a"]), int(0));
        assert_eq!(run(&e, &mut s, &["PEXPIRETIME", "b"]), int(at as i64));
        assert_eq!(run(&e, &mut s, &["RENAMENX", "b", "c"]), int(1));
        assert_eq!(run(&e, &mut s, &["EXISTS", "b", "c"]), int(1));
        assert_eq!(run(&e, &mut s, &["RENAME", "a"]), arity("rename"));
        assert_eq!(
            run(&e, &mut s, &["RENAMENX", "a", "b", "c"]),
            arity("renamenx")
        );
    }

    #[test]
    fn copy_options_and_errors() {
        let e = engine();
        let mut s = session(&e);
        let at = now(&e) + 100_000;
        put(&e, 0, "src", "v", Some(at));
        put(&e, 0, "taken", "x", None);
        assert_eq!(run(&e, &mut s, &["COPY", "src", "dst"]), int(1));
        assert_eq!(run(&e, &mut s, &["PEXPIRETIME", "dst"]), int(at as i64));
        assert_eq!(run(&e, &mut s, &["COPY", "src", "taken"]), int(0));
        assert_eq!(
            run(&e, &mut s, &["COPY", "src", "taken", "replace", "REPLACE"]),
            int(1)
        );
        assert_eq!(run(&e, &mut s, &["COPY", "nope", "x"]), int(0));
        assert_eq!(run(&e, &mut s, &["COPY", "src", "src", "DB", "3"]), int(1));
        assert_eq!(run(&e, &mut s, &["EXISTS", "src"]), int(1));
        assert_eq!(
            run(&e, &mut s, &["COPY", "src", "src"]),
            Frame::error("ERR source and destination objects are the same")
        );
        assert_eq!(
            run(&e, &mut s, &["COPY", "nope", "nope", "db", "0"]),
            Frame::error("ERR source and destination objects are the same")
        );
        assert_eq!(
            run(&e, &mut s, &["COPY", "src", "x", "DB", "16"]),
            Frame::error("ERR DB index is out of range")
        );
        assert_eq!(
            run(&e, &mut s, &["COPY", "src", "x", "DB", "-1"]),
            Frame::error("ERR DB index is out of range")
        );
        let not_int = Frame::error("ERR value is not an integer or out of range");
        assert_eq!(run(&e, &mut s, &["COPY", "src", "x", "DB", "abc"]), not_int);
        assert_eq!(
            run(&e, &mut s, &["COPY", "src", "x", "DB", "4294967296"]),
            Frame::error(
                "ERR value is out of range, value must between -2147483648 and 2147483647"
            )
        );
        assert_eq!(
            run(&e, &mut s, &["COPY", "src", "x", "DB"]),
            Frame::error("ERR syntax error")
        );
        assert_eq!(
            run(&e, &mut s, &["COPY", "src", "x", "FOO"]),
            Frame::error("ERR syntax error")
        );
        assert_eq!(run(&e, &mut s, &["COPY", "src"]), arity("copy"));
        run(&e, &mut s, &["SELECT", "3"]);
        assert_eq!(
            run(&e, &mut s, &["COPY", "src", "src", "DB", "3"]),
            Frame::error("ERR source and destination objects are the same")
        );
        assert_eq!(
            run(&e, &mut s, &["COPY", "src", "x", "DB", "3", "REPLACE"]),
            int(1)
        );
    }

    #[test]
    fn move_between_databases() {
        let e = engine();
        let mut s = session(&e);
        put(&e, 0, "k", "v", None);
        put(&e, 0, "both", "v0", None);
        put(&e, 2, "both", "v2", None);
        assert_eq!(
            run(&e, &mut s, &["MOVE", "k", "0"]),
            Frame::error("ERR source and destination objects are the same")
        );
        assert_eq!(
            run(&e, &mut s, &["MOVE", "nope", "0"]),
            Frame::error("ERR source and destination objects are the same")
        );
        assert_eq!(
            run(&e, &mut s, &["MOVE", "k", "16"]),
            Frame::error("ERR DB index is out of range")
        );
        assert_eq!(
            run(&e, &mut s, &["MOVE", "k", "x"]),
            Frame::error("ERR value is not an integer or out of range")
        );
        assert_eq!(
            run(&e, &mut s, &["MOVE", "k", "-2147483649"]),
            Frame::error(
                "ERR value is out of range, value must between -2147483648 and 2147483647"
            )
        );
        assert_eq!(run(&e, &mut s, &["MOVE", "nope", "1"]), int(0));
        assert_eq!(run(&e, &mut s, &["MOVE", "both", "2"]), int(0));
        assert_eq!(run(&e, &mut s, &["MOVE", "k", "1"]), int(1));
        assert_eq!(run(&e, &mut s, &["EXISTS", "k"]), int(0));
        run(&e, &mut s, &["SELECT", "1"]);
        assert_eq!(run(&e, &mut s, &["EXISTS", "k"]), int(1));
        assert_eq!(run(&e, &mut s, &["MOVE", "k"]), arity("move"));
    }

    #[test]
    fn keys_matches_globs_case_sensitively() {
        let e = engine();
        let mut s = session(&e);
        for k in ["foo", "foobar", "Foo", "bar"] {
            put(&e, 0, k, "v", None);
        }
        put(&e, 0, "fooexpired", "v", Some(now(&e) - 1));
        put(&e, 1, "fooother", "v", None);
        assert_eq!(
            sorted(run(&e, &mut s, &["KEYS", "foo*"])),
            bulks(&["foo", "foobar"])
        );
        assert_eq!(sorted(run(&e, &mut s, &["KEYS", "*"])).len(), 4);
        assert_eq!(
            sorted(run(&e, &mut s, &["KEYS", "[fF]oo"])),
            bulks(&["Foo", "foo"])
        );
        assert_eq!(run(&e, &mut s, &["KEYS", "nomatch*"]), Frame::Array(vec![]));
        assert_eq!(run(&e, &mut s, &["KEYS"]), arity("keys"));
    }

    fn scan_all(e: &crate::Engine, s: &mut crate::Session, extra: &[&str]) -> Vec<Frame> {
        let mut cursor = "0".to_string();
        let mut found = Vec::new();
        loop {
            let mut words = vec!["SCAN", cursor.as_str()];
            words.extend_from_slice(extra);
            let Frame::Array(parts) = run(e, s, &words) else {
                panic!("bad scan reply")
            };
            let [Frame::Bulk(next), Frame::Array(keys)] = &parts[..] else {
                panic!("bad scan reply")
            };
            found.extend(keys.iter().cloned());
            cursor = String::from_utf8(next.to_vec()).expect("utf8 cursor");
            if cursor == "0" {
                break;
            }
        }
        found.sort_by_key(|f| format!("{f:?}"));
        found
    }

    #[test]
    fn scan_iterates_with_match_count_and_type() {
        let e = engine();
        let mut s = session(&e);
        for i in 0..25 {
            put(&e, 0, &format!("key:{i:02}"), "v", None);
        }
        put(&e, 0, "other", "v", None);
        assert_eq!(scan_all(&e, &mut s, &[]).len(), 26);
        assert_eq!(scan_all(&e, &mut s, &["COUNT", "3"]).len(), 26);
        assert_eq!(scan_all(&e, &mut s, &["MATCH", "oth*"]), bulks(&["other"]));
        assert_eq!(
            scan_all(&e, &mut s, &["MATCH", "*", "COUNT", "100"]).len(),
            26
        );
        assert_eq!(scan_all(&e, &mut s, &["TYPE", "STRING"]).len(), 26);
        assert_eq!(scan_all(&e, &mut s, &["type", "list"]), vec![]);
        assert_eq!(scan_all(&e, &mut s, &["TYPE", "nosuchtype"]), vec![]);
        let Frame::Array(parts) = run(&e, &mut s, &["SCAN", "0", "COUNT", "5"]) else {
            panic!()
        };
        assert_eq!(parts[0], Frame::bulk("5"));
    }

    #[test]
    fn scan_errors() {
        let e = engine();
        let mut s = session(&e);
        let syntax = Frame::error("ERR syntax error");
        let invalid = Frame::error("ERR invalid cursor");
        for bad in ["x", " 1", "1 ", "0x10", "-", "18446744073709551616", "1.5"] {
            assert_eq!(run(&e, &mut s, &["SCAN", bad]), invalid, "{bad}");
        }
        assert_eq!(run(&e, &mut s, &["SCAN", "0", "COUNT", "0"]), syntax);
        assert_eq!(run(&e, &mut s, &["SCAN", "0", "COUNT", "-1"]), syntax);
        assert_eq!(
            run(&e, &mut s, &["SCAN", "0", "COUNT", "x"]),
            Frame::error("ERR value is not an integer or out of range")
        );
        assert_eq!(run(&e, &mut s, &["SCAN", "0", "COUNT"]), syntax);
        assert_eq!(run(&e, &mut s, &["SCAN", "0", "MATCH"]), syntax);
        assert_eq!(run(&e, &mut s, &["SCAN", "0", "FOO", "bar"]), syntax);
        assert_eq!(run(&e, &mut s, &["SCAN"]), arity("scan"));
        assert_eq!(
            run(&e, &mut s, &["SCAN", ""]),
            Frame::Array(vec![Frame::bulk("0"), Frame::Array(vec![])])
        );
    }

    #[test]
    fn cursor_parsing_follows_strtoul() {
        assert_eq!(parse_cursor(b"0").ok(), Some(0));
        assert_eq!(parse_cursor(b"").ok(), Some(0));
        assert_eq!(parse_cursor(b"007").ok(), Some(7));
        assert_eq!(parse_cursor(b"+5").ok(), Some(5));
        assert_eq!(parse_cursor(b"-1").ok(), Some(u64::MAX));
        assert_eq!(parse_cursor(b"18446744073709551615").ok(), Some(u64::MAX));
        assert!(parse_cursor(b"18446744073709551616").is_err());
        assert!(parse_cursor(b"+").is_err());
        assert!(parse_cursor(b"\t1").is_err());
        let argv: Vec<Bytes> = ["x", "k", "0", "TYPE", "set"]
            .iter()
            .map(|w| Bytes::from(*w))
            .collect();
        assert!(parse_scan_options(&argv, 3, false).is_err());
        assert_eq!(
            parse_scan_options(&argv, 3, true).map(|o| o.type_name),
            Ok(Some(&b"set"[..]))
        );
    }

    #[test]
    fn randomkey_returns_a_key_or_nil() {
        let e = engine();
        let mut s = session(&e);
        assert_eq!(run(&e, &mut s, &["RANDOMKEY"]), Frame::Null);
        put(&e, 0, "only", "v", None);
        assert_eq!(run(&e, &mut s, &["RANDOMKEY"]), Frame::bulk("only"));
        assert_eq!(run(&e, &mut s, &["RANDOMKEY", "x"]), arity("randomkey"));
    }

    #[test]
    fn specs_lock_the_right_keys() {
        use crate::command::CmdFlags;
        let e = engine();
        for name in ["keys", "scan", "randomkey"] {
            let spec = e.command(name.as_bytes()).expect("spec");
            assert!(spec.flags.has(CmdFlags::WHOLE_KEYSPACE), "{name}");
        }
        let rename = e.command(b"rename").expect("spec");
        assert_eq!(rename.keys.indexes(3).collect::<Vec<_>>(), vec![1, 2]);
        let copy = e.command(b"copy").expect("spec");
        assert_eq!(copy.keys.indexes(6).collect::<Vec<_>>(), vec![1, 2]);
        let del = e.command(b"del").expect("spec");
        assert_eq!(del.keys.indexes(4).collect::<Vec<_>>(), vec![1, 2, 3]);
    }
}
