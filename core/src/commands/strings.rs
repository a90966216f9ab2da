//! String commands: SET and its variants, GET and its variants, counters, ranges,
//! APPEND, STRLEN and LCS, with Redis 7.0's replies, errors and keyspace statistics.

use bytes::Bytes;
use ferrokv_protocol::Frame;

use crate::command::{CmdError, CmdFlags, CmdResult, CommandSpec, Ctx, KeyPositions};
use crate::commands::args::{int, is};
use crate::engine::Engine;
use crate::notify;
use crate::propagate::{arg, int_arg};
use crate::storage::{IncrError, TtlUpdate, UnixMillis};
use crate::util::longdouble::LongDouble;

const STRING: &[&str] = &["string"];
const WRITE_OOM: CmdFlags = CmdFlags::WRITE.or(CmdFlags::DENYOOM);
const WRITE_OOM_FAST: CmdFlags = WRITE_OOM.or(CmdFlags::FAST);
const READ_FAST: CmdFlags = CmdFlags::READONLY.or(CmdFlags::FAST);

/// A string command spec with the family's defaults.
const fn spec(
    name: &'static str,
    arity: i32,
    flags: CmdFlags,
    since: &'static str,
    summary: &'static str,
    syntax: &'static str,
    handler: crate::command::Handler,
) -> CommandSpec {
    CommandSpec {
        name,
        arity,
        flags,
        acl: STRING,
        keys: KeyPositions::FIRST,
        group: "string",
        since,
        summary,
        syntax,
        handler: Some(handler),
        ..CommandSpec::DEFAULT
    }
}

/// String command specs.
pub static COMMANDS: &[CommandSpec] = &[
    spec("get", 2, READ_FAST, "1.0.0", "Returns the string value of a key.", "key", get),
    spec(
        "set",
        -3,
        WRITE_OOM,
        "1.0.0",
        "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.",
        "key value [NX | XX] [GET] [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | KEEPTTL]",
        set,
    ),
    spec(
        "setnx",
        3,
        WRITE_OOM_FAST,
        "1.0.0",
        "Set the string value of a key only when the key doesn't exist.",
        "key value",
        setnx,
    ),
    spec(
        "setex",
        4,
        WRITE_OOM,
        "2.0.0",
        "Sets the string value and expiration time of a key. Creates the key if it doesn't exist.",
        "key seconds value",
        setex,
    ),
    spec(
        "psetex",
        4,
        WRITE_OOM,
        "2.6.0",
        "Sets both string value and expiration time in milliseconds of a key. The key is created if it doesn't exist.",
        "key milliseconds value",
        psetex,
    ),
    spec(
        "getex",
        -2,
        CmdFlags::WRITE.or(CmdFlags::FAST),
        "6.2.0",
        "Returns the string value of a key after setting its expiration time.",
        "key [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | PERSIST]",
        getex,
    ),
    spec(
        "getdel",
        2,
        CmdFlags::WRITE.or(CmdFlags::FAST),
        "6.2.0",
        "Returns the string value of a key after deleting the key.",
        "key",
        getdel,
    ),
    spec(
        "getset",
        3,
        WRITE_OOM_FAST,
        "1.0.0",
        "Returns the previous string value of a key after setting it to a new value.",
        "key value",
        getset,
    ),
    CommandSpec {
        keys: KeyPositions::ALL,
        ..spec(
            "mget",
            -2,
            READ_FAST,
            "1.0.0",
            "Atomically returns the string values of one or more keys.",
            "key [key ...]",
            mget,
        )
    },
    CommandSpec {
        keys: KeyPositions::new(1, -1, 2),
        ..spec(
            "mset",
            -3,
            WRITE_OOM,
            "1.0.1",
            "Atomically creates or modifies the string values of one or more keys.",
            "key value [key value ...]",
            mset,
        )
    },
    CommandSpec {
        keys: KeyPositions::new(1, -1, 2),
        ..spec(
            "msetnx",
            -3,
            WRITE_OOM,
            "1.0.1",
            "Atomically modifies the string values of one or more keys only when all keys don't exist.",
            "key value [key value ...]",
            msetnx,
        )
    },
    spec(
        "incr",
        2,
        WRITE_OOM_FAST,
        "1.0.0",
        "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.",
        "key",
        incr,
    ),
    spec(
        "decr",
        2,
        WRITE_OOM_FAST,
        "1.0.0",
        "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.",
        "key",
        decr,
    ),
    spec(
        "incrby",
        3,
        WRITE_OOM_FAST,
        "1.0.0",
        "Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist.",
        "key increment",
        incrby,
    ),
    spec(
        "decrby",
        3,
        WRITE_OOM_FAST,
        "1.0.0",
        "Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist.",
        "key decrement",
        decrby,
    ),
    spec(
        "incrbyfloat",
        3,
        WRITE_OOM_FAST,
        "2.6.0",
        "Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist.",
        "key increment",
        incrbyfloat,
    ),
    spec(
        "append",
        3,
        WRITE_OOM_FAST,
        "2.0.0",
        "Appends a string to the value of a key. Creates the key if it doesn't exist.",
        "key value",
        append,
    ),
    spec("strlen", 2, READ_FAST, "2.2.0", "Returns the length of a string value.", "key", strlen),
    spec(
        "getrange",
        4,
        CmdFlags::READONLY,
        "2.4.0",
        "Returns a substring of the string stored at a key.",
        "key start end",
        getrange,
    ),
    spec(
        "substr",
        4,
        CmdFlags::READONLY,
        "1.0.0",
        "Returns a substring from a string value.",
        "key start end",
        getrange,
    ),
    spec(
        "setrange",
        4,
        WRITE_OOM,
        "2.2.0",
        "Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist.",
        "key offset value",
        setrange,
    ),
    CommandSpec {
        keys: KeyPositions::new(1, 2, 1),
        ..spec(
            "lcs",
            -3,
            CmdFlags::READONLY,
            "7.0.0",
            "Finds the longest common substring.",
            "key1 key2 [LEN] [IDX] [MINMATCHLEN min-match-len] [WITHMATCHLEN]",
            lcs,
        )
    },
];

// ---------------------------------------------------------------------------------
// Helpers shared with the bitmap commands.
// ---------------------------------------------------------------------------------

/// Reads a string as Redis' `lookupKeyRead` does for read commands: counts a keyspace
/// hit or miss, and fails with `WRONGTYPE` for another type (a hit).
pub(crate) fn read_string(ctx: &mut Ctx<'_>, key: &[u8]) -> Result<Option<Bytes>, CmdError> {
    let found = ctx.txn.get_string(ctx.session.db, key);
    ctx.counted_read(key, found)
}

/// The smallest `proto-max-bulk-len` Redis accepts: sizes below it need no config read.
const MIN_PROTO_MAX_BULK_LEN: u64 = 1024 * 1024;

/// The configured largest string (`proto-max-bulk-len`).
pub(crate) fn proto_max_bulk_len(engine: &Engine) -> u64 {
    engine.config.get_i64("proto-max-bulk-len").max(0) as u64
}

/// Whether `size + append` bytes exceed `proto-max-bulk-len` (Redis' `checkStringLength`).
pub(crate) fn exceeds_max_string(engine: &Engine, size: u64, append: u64) -> bool {
    match size.checked_add(append) {
        Some(total) if total < MIN_PROTO_MAX_BULK_LEN => false,
        Some(total) => total > proto_max_bulk_len(engine),
        None => true,
    }
}

/// `ERR string exceeds maximum allowed size (proto-max-bulk-len)`.
pub(crate) fn string_too_long() -> CmdError {
    CmdError::err("string exceeds maximum allowed size (proto-max-bulk-len)")
}

/// A bulk reply, or nil for a missing value.
fn bulk_or_null(value: Option<Bytes>) -> Frame {
    value.map_or(Frame::Null, Frame::Bulk)
}

// ---------------------------------------------------------------------------------
// SET family.
// ---------------------------------------------------------------------------------

const OPT_NX: u16 = 1;
const OPT_XX: u16 = 1 << 1;
const OPT_EX: u16 = 1 << 2;
const OPT_PX: u16 = 1 << 3;
const OPT_KEEPTTL: u16 = 1 << 4;
const OPT_GET: u16 = 1 << 5;
const OPT_EXAT: u16 = 1 << 6;
const OPT_PXAT: u16 = 1 << 7;
const OPT_PERSIST: u16 = 1 << 8;
const OPT_ANY_EXPIRE: u16 = OPT_EX | OPT_PX | OPT_EXAT | OPT_PXAT;

/// Options of SET (`for_set`) or GETEX, and the expire argument, parsed as Redis'
/// `parseExtendedStringArgumentsOrReply`, including which combinations it refuses.
fn parse_string_options(argv: &[Bytes], for_set: bool) -> Result<(u16, Option<&Bytes>), CmdError> {
    let mut flags = 0u16;
    let mut expire = None;
    let mut j = if for_set { 3 } else { 2 };
    while j < argv.len() {
        let opt = &argv[j][..];
        let next = argv.get(j + 1);
        let expire_flag = expire_option(opt);
        if for_set && is(opt, "nx") && flags & OPT_XX == 0 {
            flags |= OPT_NX;
        } else if for_set && is(opt, "xx") && flags & OPT_NX == 0 {
            flags |= OPT_XX;
        } else if for_set && is(opt, "get") {
            flags |= OPT_GET;
        } else if for_set && is(opt, "keepttl") && flags & (OPT_PERSIST | OPT_ANY_EXPIRE) == 0 {
            flags |= OPT_KEEPTTL;
        } else if !for_set && is(opt, "persist") && flags & (OPT_KEEPTTL | OPT_ANY_EXPIRE) == 0 {
            flags |= OPT_PERSIST;
        } else if expire_flag != 0
            && flags & (OPT_KEEPTTL | OPT_PERSIST | (OPT_ANY_EXPIRE & !expire_flag)) == 0
            && next.is_some()
        {
            flags |= expire_flag;
            expire = next;
            j += 1;
        } else {
            return Err(CmdError::syntax());
        }
        j += 1;
    }
    Ok((flags, expire))
}

/// The flag of an `EX`/`PX`/`EXAT`/`PXAT` keyword, or 0.
fn expire_option(opt: &[u8]) -> u16 {
    match opt.len() {
        2 if is(opt, "ex") => OPT_EX,
        2 if is(opt, "px") => OPT_PX,
        4 if is(opt, "exat") => OPT_EXAT,
        4 if is(opt, "pxat") => OPT_PXAT,
        _ => 0,
    }
}

/// The absolute expiry an `EX`/`PX`/`EXAT`/`PXAT` argument asks for, as Redis'
/// `getExpireMillisecondsOrReply`: positive, no overflow, relative ones from now.
fn expire_at(ctx: &Ctx<'_>, arg: &[u8], flags: u16, command: &str) -> Result<UnixMillis, CmdError> {
    let invalid = || CmdError(format!("ERR invalid expire time in '{command}' command"));
    let mut ms = int(arg)?;
    let seconds = flags & (OPT_EX | OPT_EXAT) != 0;
    if ms <= 0 || (seconds && ms > i64::MAX / 1000) {
        return Err(invalid());
    }
    if seconds {
        ms *= 1000;
    }
    if flags & (OPT_EX | OPT_PX) != 0 {
        ms = ms
            .checked_add(ctx.txn.now_ms() as i64)
            .ok_or_else(invalid)?;
    }
    Ok(ms as UnixMillis)
}

/// What SET-like commands reply when they store (`ok`) or skip because of NX/XX
/// (`abort`); with GET both become the old value.
struct SetReplies {
    ok: Frame,
    abort: Frame,
}

/// SET's own replies: `OK`, or nil when NX/XX prevents the write.
fn set_replies() -> SetReplies {
    SetReplies {
        ok: Frame::ok(),
        abort: Frame::Null,
    }
}

/// SET, SETNX, SETEX and PSETEX, as Redis' `setGenericCommand`.
fn set_generic(
    ctx: &mut Ctx<'_>,
    argv: &[Bytes],
    value: &Bytes,
    (flags, expire): (u16, Option<&Bytes>),
    command: &str,
    replies: SetReplies,
) -> CmdResult {
    let key = &argv[1];
    let db = ctx.db();
    let at = match expire {
        Some(arg) => Some(expire_at(ctx, arg, flags, command)?),
        None => None,
    };
    let old = if flags & OPT_GET != 0 {
        Some(read_string(ctx, key)?)
    } else {
        None
    };
    if flags & (OPT_NX | OPT_XX) != 0 {
        let found = match &old {
            Some(old) => old.is_some(),
            None => ctx.txn.meta(db, key)?.is_some(),
        };
        if (flags & OPT_NX != 0 && found) || (flags & OPT_XX != 0 && !found) {
            return Ok(old.map_or(replies.abort, bulk_or_null));
        }
    }
    let ttl = match at {
        Some(at) => TtlUpdate::At(at),
        None if flags & OPT_KEEPTTL != 0 => TtlUpdate::Keep,
        None => TtlUpdate::Clear,
    };
    let created = ctx.creates(key)?;
    ctx.txn.set_string(db, key, value, ttl)?;
    ctx.notify_new(created, key);
    ctx.notify(notify::STRING, "set", key);
    if let Some(at) = at {
        ctx.notify(notify::GENERIC, "expire", key);
        if ctx.propagating() {
            // Relative expiry becomes absolute, as Redis: SET key value PXAT ms.
            ctx.propagate_as(vec![
                arg("SET"),
                key.clone(),
                value.clone(),
                arg("PXAT"),
                int_arg(at as i64),
            ]);
        }
    }
    Ok(old.map_or(replies.ok, bulk_or_null))
}

fn set(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    if argv.len() == 3 {
        let created = ctx.creates(&argv[1])?;
        ctx.txn
            .set_string(ctx.session.db, &argv[1], &argv[2], TtlUpdate::Clear)?;
        ctx.notify_new(created, &argv[1]);
        ctx.notify(notify::STRING, "set", &argv[1]);
        return Ok(Frame::ok());
    }
    let options = parse_string_options(argv, true)?;
    set_generic(ctx, argv, &argv[2], options, "set", set_replies())
}

fn setnx(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let replies = SetReplies {
        ok: Frame::Integer(1),
        abort: Frame::Integer(0),
    };
    set_generic(ctx, argv, &argv[2], (OPT_NX, None), "setnx", replies)
}

/// SETEX and PSETEX: `key <ttl> value` with the TTL unit of `flag`.
fn set_with_ttl(ctx: &mut Ctx<'_>, argv: &[Bytes], flag: u16, command: &str) -> CmdResult {
    let options = (flag, Some(&argv[2]));
    set_generic(ctx, argv, &argv[3], options, command, set_replies())
}

fn setex(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    set_with_ttl(ctx, argv, OPT_EX, "setex")
}

fn psetex(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    set_with_ttl(ctx, argv, OPT_PX, "psetex")
}

// ---------------------------------------------------------------------------------
// GET family.
// ---------------------------------------------------------------------------------

fn get(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    Ok(bulk_or_null(read_string(ctx, &argv[1])?))
}

fn getex(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let (flags, expire) = parse_string_options(argv, false)?;
    let Some(value) = read_string(ctx, &argv[1])? else {
        return Ok(Frame::Null);
    };
    let db = ctx.db();
    if let Some(ttl_arg) = expire {
        let at = expire_at(ctx, ttl_arg, flags, "getex")?;
        if flags & (OPT_EXAT | OPT_PXAT) != 0 && at <= ctx.txn.now_ms() {
            ctx.txn.delete(db, &argv[1])?;
            ctx.notify(notify::GENERIC, "del", &argv[1]);
            let del = ctx.engine.deletion_command(&argv[1]);
            ctx.propagate_as(del);
        } else {
            ctx.txn.set_expire(db, &argv[1], Some(at))?;
            ctx.notify(notify::GENERIC, "expire", &argv[1]);
            ctx.propagate_as(vec![arg("PEXPIREAT"), argv[1].clone(), int_arg(at as i64)]);
        }
    } else if flags & OPT_PERSIST != 0
        && ctx
            .txn
            .meta(db, &argv[1])?
            .is_some_and(|m| m.expire_at.is_some())
    {
        ctx.txn.set_expire(db, &argv[1], None)?;
        ctx.notify(notify::GENERIC, "persist", &argv[1]);
        ctx.propagate_as(vec![arg("PERSIST"), argv[1].clone()]);
    }
    Ok(Frame::Bulk(value))
}

fn getdel(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let value = read_string(ctx, &argv[1])?;
    if value.is_some() {
        ctx.txn.delete(ctx.session.db, &argv[1])?;
        ctx.notify(notify::GENERIC, "del", &argv[1]);
        ctx.propagate_as(vec![arg("DEL"), argv[1].clone()]);
    }
    Ok(bulk_or_null(value))
}

fn getset(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let old = read_string(ctx, &argv[1])?;
    ctx.txn
        .set_string(ctx.session.db, &argv[1], &argv[2], TtlUpdate::Clear)?;
    ctx.notify_new(old.is_none() && ctx.notifying(notify::NEW), &argv[1]);
    ctx.notify(notify::STRING, "set", &argv[1]);
    Ok(bulk_or_null(old))
}

fn mget(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let mut values = Vec::with_capacity(argv.len() - 1);
    for key in &argv[1..] {
        values.push(match read_string(ctx, key) {
            Ok(value) => bulk_or_null(value),
            // MGET replies nil for keys of other types instead of failing.
            Err(e) if e == CmdError::wrong_type() => Frame::Null,
            Err(e) => return Err(e),
        });
    }
    Ok(Frame::Array(values))
}

// ---------------------------------------------------------------------------------
// MSET family.
// ---------------------------------------------------------------------------------

/// MSET and MSETNX (`nx`), as Redis' `msetGenericCommand`.
fn mset_generic(ctx: &mut Ctx<'_>, argv: &[Bytes], nx: bool) -> Result<bool, CmdError> {
    if argv.len() & 1 == 0 {
        return Err(CmdError::arity(if nx { "msetnx" } else { "mset" }));
    }
    let db = ctx.db();
    if nx {
        for key in argv[1..].iter().step_by(2) {
            if ctx.txn.meta(db, key)?.is_some() {
                return Ok(false);
            }
        }
    }
    for pair in argv[1..].chunks_exact(2) {
        let created = ctx.creates(&pair[0])?;
        ctx.txn
            .set_string(db, &pair[0], &pair[1], TtlUpdate::Clear)?;
        ctx.notify_new(created, &pair[0]);
        ctx.notify(notify::STRING, "set", &pair[0]);
    }
    Ok(true)
}

fn mset(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    mset_generic(ctx, argv, false)?;
    Ok(Frame::ok())
}

fn msetnx(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    Ok(Frame::Integer(mset_generic(ctx, argv, true)? as i64))
}

// ---------------------------------------------------------------------------------
// Counters.
// ---------------------------------------------------------------------------------

/// INCR, DECR, INCRBY and DECRBY, as Redis' `incrDecrCommand`; the key keeps its TTL.
fn incr_decr(ctx: &mut Ctx<'_>, key: &[u8], incr: i64) -> CmdResult {
    let db = ctx.db();
    let created = ctx.creates(key)?;
    match ctx.txn.incr_by(db, key, incr)? {
        Ok(value) => {
            ctx.notify_new(created, key);
            ctx.notify(notify::STRING, "incrby", key);
            Ok(Frame::Integer(value))
        }
        Err(IncrError::NotInteger) => Err(CmdError::not_integer()),
        Err(IncrError::Overflow) => Err(CmdError::err("increment or decrement would overflow")),
    }
}

fn incr(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    incr_decr(ctx, &argv[1], 1)
}

fn decr(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    incr_decr(ctx, &argv[1], -1)
}

fn incrby(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let incr = int(&argv[2])?;
    incr_decr(ctx, &argv[1], incr)
}

fn decrby(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let decr = int(&argv[2])?;
    if decr == i64::MIN {
        return Err(CmdError::err("decrement would overflow"));
    }
    incr_decr(ctx, &argv[1], -decr)
}

/// INCRBYFLOAT in x87 `long double`, stored and replied as Redis prints it; the key
/// keeps its TTL.
fn incrbyfloat(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let db = ctx.db();
    let current = ctx.txn.get_string(db, &argv[1])?;
    let created = current.is_none() && ctx.notifying(notify::NEW);
    let value = match current {
        Some(current) => LongDouble::parse(&current).ok_or_else(CmdError::not_float)?,
        None => LongDouble::ZERO,
    };
    let incr = LongDouble::parse(&argv[2]).ok_or_else(CmdError::not_float)?;
    let sum = value + incr;
    if !sum.is_finite() {
        return Err(CmdError::err("increment would produce NaN or Infinity"));
    }
    let text = sum.to_human();
    ctx.txn.set_string(db, &argv[1], &text, TtlUpdate::Keep)?;
    ctx.notify_new(created, &argv[1]);
    ctx.notify(notify::STRING, "incrbyfloat", &argv[1]);
    let text = Bytes::from(text);
    // Replicas and the AOF must not redo the float arithmetic: SET ... KEEPTTL.
    ctx.propagate_as(vec![
        arg("SET"),
        argv[1].clone(),
        text.clone(),
        arg("KEEPTTL"),
    ]);
    Ok(Frame::Bulk(text))
}

// ---------------------------------------------------------------------------------
// APPEND, STRLEN, ranges.
// ---------------------------------------------------------------------------------

fn append(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let (db, engine, suffix) = (ctx.db(), ctx.engine, &argv[2]);
    let (mut total, mut too_long) = (0, false);
    let existed = ctx.txn.update_string(db, &argv[1], false, &mut |value| {
        if exceeds_max_string(engine, value.len() as u64, suffix.len() as u64) {
            too_long = true;
        } else {
            value.extend_from_slice(suffix);
            total = value.len();
        }
    })?;
    if too_long {
        return Err(string_too_long());
    }
    if !existed {
        ctx.txn.set_string(db, &argv[1], suffix, TtlUpdate::Clear)?;
        total = suffix.len();
        ctx.notify_new(ctx.notifying(notify::NEW), &argv[1]);
    }
    ctx.notify(notify::STRING, "append", &argv[1]);
    Ok(Frame::Integer(total as i64))
}

fn strlen(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let len = ctx.txn.string_len(ctx.session.db, &argv[1]);
    let len = ctx.counted_read(&argv[1], len)?;
    Ok(Frame::Integer(len.unwrap_or(0) as i64))
}

/// GETRANGE and SUBSTR: inclusive, negative indexes count from the end.
fn getrange(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let mut start = int(&argv[2])?;
    let mut end = int(&argv[3])?;
    let empty = || Ok(Frame::Bulk(Bytes::new()));
    let Some(value) = read_string(ctx, &argv[1])? else {
        return empty();
    };
    let len = value.len() as i64;
    if start < 0 && end < 0 && start > end {
        return empty();
    }
    if start < 0 {
        start = (start + len).max(0);
    }
    if end < 0 {
        end = (end + len).max(0);
    }
    end = end.min(len - 1);
    if start > end || len == 0 {
        return empty();
    }
    Ok(Frame::Bulk(value.slice(start as usize..end as usize + 1)))
}

fn setrange(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let db = ctx.db();
    let offset = int(&argv[2])?;
    if offset < 0 {
        return Err(CmdError::err("offset is out of range"));
    }
    let patch = &argv[3];
    if patch.is_empty() {
        let len = ctx.txn.string_len(db, &argv[1])?;
        return Ok(Frame::Integer(len.unwrap_or(0) as i64));
    }
    if exceeds_max_string(ctx.engine, offset as u64, patch.len() as u64) {
        // A key of another type reports WRONGTYPE first, as in Redis.
        ctx.txn.string_len(db, &argv[1])?;
        return Err(string_too_long());
    }
    let (start, end) = (offset as usize, offset as usize + patch.len());
    let mut total = 0;
    let created = ctx.creates(&argv[1])?;
    ctx.txn.update_string(db, &argv[1], true, &mut |value| {
        if value.len() < end {
            value.resize(end, 0);
        }
        value[start..end].copy_from_slice(patch);
        total = value.len();
    })?;
    ctx.notify_new(created, &argv[1]);
    ctx.notify(notify::STRING, "setrange", &argv[1]);
    Ok(Frame::Integer(total as i64))
}

// ---------------------------------------------------------------------------------
// LCS.
// ---------------------------------------------------------------------------------

/// Options of LCS.
#[derive(Default)]
struct LcsOptions {
    len: bool,
    idx: bool,
    with_match_len: bool,
    min_match_len: u64,
}

fn parse_lcs_options(argv: &[Bytes]) -> Result<LcsOptions, CmdError> {
    let mut opts = LcsOptions::default();
    let mut j = 3;
    while j < argv.len() {
        let opt = &argv[j];
        if is(opt, "idx") {
            opts.idx = true;
        } else if is(opt, "len") {
            opts.len = true;
        } else if is(opt, "withmatchlen") {
            opts.with_match_len = true;
        } else if is(opt, "minmatchlen") && j + 1 < argv.len() {
            opts.min_match_len = int(&argv[j + 1])?.max(0) as u64;
            j += 1;
        } else {
            return Err(CmdError::syntax());
        }
        j += 1;
    }
    if opts.len && opts.idx {
        return Err(CmdError::err(
            "If you want both the length and indexes, please just use IDX.",
        ));
    }
    Ok(opts)
}

/// Reads both LCS inputs (missing keys are empty), counting both lookups.
fn lcs_inputs(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<(Bytes, Bytes), CmdError> {
    let a = read_string(ctx, &argv[1]);
    let b = read_string(ctx, &argv[2]);
    match (a, b) {
        (Ok(a), Ok(b)) => Ok((a.unwrap_or_default(), b.unwrap_or_default())),
        (Err(e), _) | (_, Err(e)) if e == CmdError::wrong_type() => Err(CmdError::err(
            "The specified keys must contain string values",
        )),
        (Err(e), _) | (_, Err(e)) => Err(e),
    }
}

/// The dynamic programming table of LCS lengths, `(a.len()+1) x (b.len()+1)`, refused
/// beyond `proto-max-bulk-len` bytes as Redis does.
fn lcs_table(engine: &Engine, a: &[u8], b: &[u8]) -> Result<Vec<u32>, CmdError> {
    if a.len() as u64 >= u32::MAX as u64 - 1 || b.len() as u64 >= u32::MAX as u64 - 1 {
        return Err(CmdError::err("String too long for LCS"));
    }
    let cells = (a.len() as u64 + 1) * (b.len() as u64 + 1);
    if cells.saturating_mul(4) > proto_max_bulk_len(engine) {
        return Err(CmdError::err(
            "Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len",
        ));
    }
    let mut table = Vec::new();
    if table.try_reserve_exact(cells as usize).is_err() {
        return Err(CmdError::err(
            "Insufficient memory, failed allocating transient memory for LCS",
        ));
    }
    table.resize(cells as usize, 0u32);
    let width = b.len() + 1;
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            table[i * width + j] = if a[i - 1] == b[j - 1] {
                table[(i - 1) * width + j - 1] + 1
            } else {
                table[(i - 1) * width + j].max(table[i * width + j - 1])
            };
        }
    }
    Ok(table)
}

/// One matching range of the IDX reply.
fn lcs_match(a: (u32, u32), b: (u32, u32), len: Option<u32>) -> Frame {
    let range =
        |(s, e): (u32, u32)| Frame::Array(vec![Frame::Integer(s as i64), Frame::Integer(e as i64)]);
    let mut item = vec![range(a), range(b)];
    if let Some(len) = len {
        item.push(Frame::Integer(len as i64));
    }
    Frame::Array(item)
}

/// Walks the table back from the end, building the LCS string and the matching
/// ranges exactly as Redis' `lcsCommand` emits them (last match first).
fn lcs_backtrack(a: &[u8], b: &[u8], table: &[u32], opts: &LcsOptions) -> (Vec<u8>, Vec<Frame>) {
    let width = b.len() + 1;
    let cell = |i: usize, j: usize| table[i * width + j];
    let alen = a.len();
    let mut idx = cell(a.len(), b.len()) as usize;
    let mut result = vec![0u8; idx];
    let mut matches = Vec::new();
    let (mut a_start, mut a_end, mut b_start, mut b_end) = (alen, 0, 0, 0);
    let (mut i, mut j) = (a.len(), b.len());
    while i > 0 && j > 0 {
        let mut emit = false;
        if a[i - 1] == b[j - 1] {
            result[idx - 1] = a[i - 1];
            if a_start == alen {
                (a_start, a_end, b_start, b_end) = (i - 1, i - 1, j - 1, j - 1);
            } else if a_start == i && b_start == j {
                a_start -= 1;
                b_start -= 1;
            } else {
                emit = true;
            }
            if a_start == 0 || b_start == 0 {
                emit = true;
            }
            idx -= 1;
            i -= 1;
            j -= 1;
        } else {
            if cell(i - 1, j) > cell(i, j - 1) {
                i -= 1;
            } else {
                j -= 1;
            }
            if a_start != alen {
                emit = true;
            }
        }
        if emit {
            let match_len = (a_end - a_start + 1) as u64;
            if opts.idx && (opts.min_match_len == 0 || match_len >= opts.min_match_len) {
                let len = opts.with_match_len.then_some(match_len as u32);
                matches.push(lcs_match(
                    (a_start as u32, a_end as u32),
                    (b_start as u32, b_end as u32),
                    len,
                ));
            }
            a_start = alen;
        }
    }
    (result, matches)
}

fn lcs(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let (a, b) = lcs_inputs(ctx, argv)?;
    let opts = parse_lcs_options(argv)?;
    let table = lcs_table(ctx.engine, &a, &b)?;
    let len = table[table.len() - 1] as i64;
    if opts.len {
        return Ok(Frame::Integer(len));
    }
    let (result, matches) = lcs_backtrack(&a, &b, &table, &opts);
    if opts.idx {
        return Ok(Frame::Map(vec![
            (Frame::bulk("matches"), Frame::Array(matches)),
            (Frame::bulk("len"), Frame::Integer(len)),
        ]));
    }
    Ok(Frame::Bulk(Bytes::from(result)))
}

#[cfg(test)]
mod tests {
    use crate::engine::Engine;
    use crate::storage::Scope;
    use crate::testing::{engine, run, session};
    use crate::util::number::format_i64;
    use crate::Session;
    use bytes::Bytes;
    use ferrokv_protocol::Frame;

    fn err(msg: &str) -> Frame {
        Frame::error(msg)
    }

    fn int(n: i64) -> Frame {
        Frame::Integer(n)
    }

    fn bulk(s: &str) -> Frame {
        Frame::bulk(s)
    }

    fn arity(cmd: &str) -> Frame {
        err(&format!(
            "ERR wrong number of arguments for '{cmd}' command"
        ))
    }

    /// The key's absolute expiry, read straight from the backend.
    fn expire_of(e: &Engine, key: &str) -> Option<u64> {
        let mut out = None;
        let keys = [Bytes::copy_from_slice(key.as_bytes())];
        e.backend()
            .atomic(Scope::Keys(&keys), &mut |txn| {
                out = txn
                    .meta(0, key.as_bytes())
                    .unwrap()
                    .and_then(|m| m.expire_at);
            })
            .unwrap();
        out
    }

    fn now() -> u64 {
        crate::clients::unix_ms()
    }

    fn setup() -> (Engine, Session) {
        let e = engine();
        let s = session(&e);
        (e, s)
    }

    #[test]
    fn integer_formatting() {
        let mut buf = [0u8; 20];
        assert_eq!(format_i64(0, &mut buf), b"0");
        assert_eq!(format_i64(-42, &mut buf), b"-42");
        assert_eq!(format_i64(i64::MIN, &mut buf), b"-9223372036854775808");
        assert_eq!(format_i64(i64::MAX, &mut buf), b"9223372036854775807");
    }

    #[test]
    fn set_and_get() {
        let (e, mut s) = setup();
        assert_eq!(run(&e, &mut s, &["GET", "k"]), Frame::Null);
        assert_eq!(run(&e, &mut s, &["SET", "k", "v"]), Frame::ok());
        assert_eq!(run(&e, &mut s, &["GET", "k"]), bulk("v"));
        assert_eq!(run(&e, &mut s, &["GET"]), arity("get"));
        assert_eq!(run(&e, &mut s, &["GET", "a", "b"]), arity("get"));
        assert_eq!(run(&e, &mut s, &["SET", "k"]), arity("set"));
        assert_eq!(
            run(&e, &mut s, &["SET", "k", "v", "FOO"]),
            err("ERR syntax error")
        );
        // One hit and one miss were counted by the GETs.
        assert_eq!(crate::stats::Stats::get(&e.stats.keyspace_hits), 1);
        assert_eq!(crate::stats::Stats::get(&e.stats.keyspace_misses), 1);
    }

    #[test]
    fn set_nx_xx_get() {
        let (e, mut s) = setup();
        assert_eq!(run(&e, &mut s, &["SET", "k", "1", "XX"]), Frame::Null);
        assert_eq!(run(&e, &mut s, &["SET", "k", "1", "NX"]), Frame::ok());
        assert_eq!(run(&e, &mut s, &["SET", "k", "2", "nx"]), Frame::Null);
        assert_eq!(run(&e, &mut s, &["SET", "k", "2", "XX"]), Frame::ok());
        assert_eq!(run(&e, &mut s, &["SET", "k", "3", "GET"]), bulk("2"));
        assert_eq!(run(&e, &mut s, &["SET", "new", "x", "GET"]), Frame::Null);
        assert_eq!(run(&e, &mut s, &["SET", "k", "4", "NX", "GET"]), bulk("3"));
        assert_eq!(run(&e, &mut s, &["GET", "k"]), bulk("3"));
        assert_eq!(
            run(&e, &mut s, &["SET", "none", "4", "XX", "GET"]),
            Frame::Null
        );
        assert_eq!(run(&e, &mut s, &["GET", "none"]), Frame::Null);
        assert_eq!(
            run(&e, &mut s, &["SET", "k", "v", "NX", "XX"]),
            err("ERR syntax error")
        );
        assert_eq!(
            run(&e, &mut s, &["SET", "k", "v", "XX", "NX"]),
            err("ERR syntax error")
        );
        assert_eq!(run(&e, &mut s, &["SET", "k", "v", "NX", "NX"]), Frame::Null);
        assert_eq!(
            run(&e, &mut s, &["SET", "k", "v", "PERSIST"]),
            err("ERR syntax error")
        );
    }

    #[test]
    fn set_expire_options() {
        let (e, mut s) = setup();
        assert_eq!(
            run(&e, &mut s, &["SET", "k", "v", "EX", "100"]),
            Frame::ok()
        );
        let at = expire_of(&e, "k").unwrap();
        assert!(at > now() + 99_000 && at <= now() + 100_000);
        assert_eq!(
            run(&e, &mut s, &["SET", "k", "v", "PX", "5000"]),
            Frame::ok()
        );
        assert!(expire_of(&e, "k").unwrap() <= now() + 5000);
        assert_eq!(run(&e, &mut s, &["SET", "k", "v", "KEEPTTL"]), Frame::ok());
        assert!(expire_of(&e, "k").is_some());
        assert_eq!(run(&e, &mut s, &["SET", "k", "v"]), Frame::ok());
        assert_eq!(expire_of(&e, "k"), None);
        assert_eq!(
            run(&e, &mut s, &["SET", "k", "v", "EXAT", "4000000000"]),
            Frame::ok()
        );
        assert_eq!(expire_of(&e, "k"), Some(4_000_000_000_000));
        assert_eq!(
            run(&e, &mut s, &["SET", "k", "v", "PXAT", "4000000000123"]),
            Frame::ok()
        );
        assert_eq!(expire_of(&e, "k"), Some(4_000_000_000_123));
        // A past absolute time stores a key that is already expired.
        assert_eq!(
            run(&e, &mut s, &["SET", "k", "v", "PXAT", "1"]),
            Frame::ok()
        );
        assert_eq!(run(&e, &mut s, &["GET", "k"]), Frame::Null);
        assert_eq!(
            run(&e, &mut s, &["SET", "k", "v", "EX", "10", "EX", "20"]),
            Frame::ok()
        );
        for bad in [
            &["SET", "k", "v", "EX", "10", "PX", "10"][..],
            &["SET", "k", "v", "EX", "10", "KEEPTTL"],
            &["SET", "k", "v", "KEEPTTL", "PXAT", "10"],
            &["SET", "k", "v", "EX"],
        ] {
            assert_eq!(run(&e, &mut s, bad), err("ERR syntax error"), "{bad:?}");
        }
        let invalid = err("ERR invalid expire time in 'set' command");
        assert_eq!(run(&e, &mut s, &["SET", "k", "v", "EX", "0"]), invalid);
        assert_eq!(run(&e, &mut s, &["SET", "k", "v", "PX", "-1"]), invalid);
        assert_eq!(
            run(&e, &mut s, &["SET", "k", "v", "EX", "9223372036854775807"]),
            invalid
        );
        assert_eq!(
            run(&e, &mut s, &["SET", "k", "v", "PX", "9223372036854775807"]),
            invalid
        );
        assert_eq!(
            run(&e, &mut s, &["SET", "k", "v", "EXAT", "9223372036854775"]),
            Frame::ok()
        );
        assert_eq!(
            run(&e, &mut s, &["SET", "k", "v", "EX", "x"]),
            err("ERR value is not an integer or out of range")
        );
    }

    #[test]
    fn setnx_setex_psetex() {
        let (e, mut s) = setup();
        assert_eq!(run(&e, &mut s, &["SETNX", "k", "a"]), int(1));
        assert_eq!(run(&e, &mut s, &["SETNX", "k", "b"]), int(0));
        assert_eq!(run(&e, &mut s, &["GET", "k"]), bulk("a"));
        assert_eq!(run(&e, &mut s, &["SETNX", "k"]), arity("setnx"));
        assert_eq!(run(&e, &mut s, &["SETEX", "k", "10", "v"]), Frame::ok());
        assert!(expire_of(&e, "k").unwrap() > now() + 9000);
        assert_eq!(run(&e, &mut s, &["PSETEX", "k", "10000", "w"]), Frame::ok());
        assert_eq!(run(&e, &mut s, &["GET", "k"]), bulk("w"));
        assert_eq!(
            run(&e, &mut s, &["SETEX", "k", "0", "v"]),
            err("ERR invalid expire time in 'setex' command")
        );
        assert_eq!(
            run(&e, &mut s, &["PSETEX", "k", "-5", "v"]),
            err("ERR invalid expire time in 'psetex' command")
        );
        assert_eq!(
            run(&e, &mut s, &["SETEX", "k", "x", "v"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(run(&e, &mut s, &["SETEX", "k", "10"]), arity("setex"));
        assert_eq!(run(&e, &mut s, &["PSETEX", "k", "10"]), arity("psetex"));
    }

    #[test]
    fn getex_getdel_getset() {
        let (e, mut s) = setup();
        assert_eq!(run(&e, &mut s, &["GETEX", "k", "EX", "-1"]), Frame::Null);
        run(&e, &mut s, &["SET", "k", "v"]);
        assert_eq!(run(&e, &mut s, &["GETEX", "k"]), bulk("v"));
        assert_eq!(run(&e, &mut s, &["GETEX", "k", "EX", "100"]), bulk("v"));
        assert!(expire_of(&e, "k").unwrap() > now() + 99_000);
        assert_eq!(run(&e, &mut s, &["GETEX", "k", "PERSIST"]), bulk("v"));
        assert_eq!(expire_of(&e, "k"), None);
        assert_eq!(
            run(&e, &mut s, &["GETEX", "k", "PXAT", "4000000000000"]),
            bulk("v")
        );
        assert_eq!(expire_of(&e, "k"), Some(4_000_000_000_000));
        assert_eq!(
            run(&e, &mut s, &["GETEX", "k", "EX", "0"]),
            err("ERR invalid expire time in 'getex' command")
        );
        assert_eq!(
            run(&e, &mut s, &["GETEX", "k", "EX", "1", "PERSIST"]),
            err("ERR syntax error")
        );
        assert_eq!(
            run(&e, &mut s, &["GETEX", "k", "KEEPTTL"]),
            err("ERR syntax error")
        );
        assert_eq!(
            run(&e, &mut s, &["GETEX", "k", "NX"]),
            err("ERR syntax error")
        );
        assert_eq!(run(&e, &mut s, &["GETEX", "k", "EXAT", "1"]), bulk("v"));
        assert_eq!(run(&e, &mut s, &["GET", "k"]), Frame::Null);
        assert_eq!(run(&e, &mut s, &["GETEX"]), arity("getex"));

        run(&e, &mut s, &["SET", "k", "v"]);
        assert_eq!(run(&e, &mut s, &["GETDEL", "k"]), bulk("v"));
        assert_eq!(run(&e, &mut s, &["GETDEL", "k"]), Frame::Null);
        assert_eq!(run(&e, &mut s, &["GETDEL", "k", "x"]), arity("getdel"));

        assert_eq!(run(&e, &mut s, &["SETEX", "k", "100", "old"]), Frame::ok());
        assert_eq!(run(&e, &mut s, &["GETSET", "k", "new"]), bulk("old"));
        assert_eq!(expire_of(&e, "k"), None);
        assert_eq!(run(&e, &mut s, &["GETSET", "n", "x"]), Frame::Null);
        assert_eq!(run(&e, &mut s, &["GETSET", "n"]), arity("getset"));
    }

    #[test]
    fn mget_mset_msetnx() {
        let (e, mut s) = setup();
        assert_eq!(run(&e, &mut s, &["MSET", "a", "1", "b", "2"]), Frame::ok());
        assert_eq!(
            run(&e, &mut s, &["MGET", "a", "x", "b"]),
            Frame::Array(vec![bulk("1"), Frame::Null, bulk("2")])
        );
        assert_eq!(run(&e, &mut s, &["MSET", "a", "1", "b"]), arity("mset"));
        assert_eq!(run(&e, &mut s, &["MSET", "a"]), arity("mset"));
        assert_eq!(run(&e, &mut s, &["MGET"]), arity("mget"));
        assert_eq!(run(&e, &mut s, &["MSETNX", "c", "3", "a", "9"]), int(0));
        assert_eq!(run(&e, &mut s, &["GET", "c"]), Frame::Null);
        assert_eq!(run(&e, &mut s, &["MSETNX", "c", "3", "d", "4"]), int(1));
        assert_eq!(run(&e, &mut s, &["MSETNX", "c", "3", "d"]), arity("msetnx"));
        assert_eq!(
            run(&e, &mut s, &["MGET", "c", "d"]),
            Frame::Array(vec![bulk("3"), bulk("4")])
        );
    }

    #[test]
    fn counters() {
        let (e, mut s) = setup();
        assert_eq!(run(&e, &mut s, &["INCR", "n"]), int(1));
        assert_eq!(run(&e, &mut s, &["INCRBY", "n", "10"]), int(11));
        assert_eq!(run(&e, &mut s, &["DECR", "n"]), int(10));
        assert_eq!(run(&e, &mut s, &["DECRBY", "n", "20"]), int(-10));
        assert_eq!(run(&e, &mut s, &["GET", "n"]), bulk("-10"));
        let not_int = err("ERR value is not an integer or out of range");
        assert_eq!(run(&e, &mut s, &["INCRBY", "n", "1.5"]), not_int);
        assert_eq!(run(&e, &mut s, &["INCRBY", "n", " 1"]), not_int);
        run(&e, &mut s, &["SET", "s", "abc"]);
        assert_eq!(run(&e, &mut s, &["INCR", "s"]), not_int);
        run(&e, &mut s, &["SET", "s", "01"]);
        assert_eq!(run(&e, &mut s, &["INCR", "s"]), not_int);
        run(&e, &mut s, &["SET", "max", "9223372036854775807"]);
        let overflow = err("ERR increment or decrement would overflow");
        assert_eq!(run(&e, &mut s, &["INCR", "max"]), overflow);
        run(&e, &mut s, &["SET", "min", "-9223372036854775808"]);
        assert_eq!(run(&e, &mut s, &["DECR", "min"]), overflow);
        assert_eq!(run(&e, &mut s, &["INCRBY", "min", "-1"]), overflow);
        assert_eq!(
            run(&e, &mut s, &["DECRBY", "n", "-9223372036854775808"]),
            err("ERR decrement would overflow")
        );
        assert_eq!(
            run(&e, &mut s, &["DECRBY", "min", "-9223372036854775807"]),
            int(-1)
        );
        assert_eq!(run(&e, &mut s, &["INCR"]), arity("incr"));
        assert_eq!(run(&e, &mut s, &["INCRBY", "n"]), arity("incrby"));
        assert_eq!(run(&e, &mut s, &["DECRBY", "n"]), arity("decrby"));
        assert_eq!(run(&e, &mut s, &["DECR", "n", "1"]), arity("decr"));
        // Counters keep the key's TTL.
        run(&e, &mut s, &["SETEX", "t", "100", "1"]);
        assert_eq!(run(&e, &mut s, &["INCR", "t"]), int(2));
        assert!(expire_of(&e, "t").is_some());
    }

    #[test]
    fn incrbyfloat_formats_as_redis() {
        let (e, mut s) = setup();
        assert_eq!(run(&e, &mut s, &["SET", "k", "10.50"]), Frame::ok());
        assert_eq!(run(&e, &mut s, &["INCRBYFLOAT", "k", "0.1"]), bulk("10.6"));
        run(&e, &mut s, &["SET", "k", "10.5"]);
        assert_eq!(
            run(&e, &mut s, &["INCRBYFLOAT", "k", "5.0e3"]),
            bulk("5010.5")
        );
        run(&e, &mut s, &["SET", "k", "3.0e3"]);
        assert_eq!(
            run(&e, &mut s, &["INCRBYFLOAT", "k", "2.0e2"]),
            bulk("3200")
        );
        run(&e, &mut s, &["SET", "k", "1"]);
        assert_eq!(run(&e, &mut s, &["INCRBYFLOAT", "k", "1.1"]), bulk("2.1"));
        run(&e, &mut s, &["SET", "k", "1.1"]);
        assert_eq!(run(&e, &mut s, &["INCRBYFLOAT", "k", "-1.1"]), bulk("0"));
        run(&e, &mut s, &["SET", "k", "17179869184"]);
        assert_eq!(
            run(&e, &mut s, &["INCRBYFLOAT", "k", "1.5"]),
            bulk("17179869185.5")
        );
        assert_eq!(run(&e, &mut s, &["GET", "k"]), bulk("17179869185.5"));
        let Frame::Bulk(big) = run(&e, &mut s, &["INCRBYFLOAT", "big", "1.5e300"]) else {
            panic!("expected a bulk reply");
        };
        assert_eq!(big.len(), 301);
        assert!(big.starts_with(b"150000000000000000004980010986147216636"));
        let Frame::Bulk(big) = run(&e, &mut s, &["INCRBYFLOAT", "big", "1.5e300"]) else {
            panic!("expected a bulk reply");
        };
        assert!(big.starts_with(b"300000000000000000009960021972294433272"));
    }

    #[test]
    fn incrbyfloat_errors() {
        let (e, mut s) = setup();
        let not_float = err("ERR value is not a valid float");
        assert_eq!(run(&e, &mut s, &["INCRBYFLOAT", "k", "abc"]), not_float);
        assert_eq!(run(&e, &mut s, &["INCRBYFLOAT", "k", " 1"]), not_float);
        assert_eq!(run(&e, &mut s, &["INCRBYFLOAT", "k", "1 "]), not_float);
        assert_eq!(run(&e, &mut s, &["INCRBYFLOAT", "k", "nan"]), not_float);
        assert_eq!(run(&e, &mut s, &["INCRBYFLOAT", "k", "0x10"]), bulk("16"));
        assert_eq!(
            run(&e, &mut s, &["INCRBYFLOAT", "k", "inf"]),
            err("ERR increment would produce NaN or Infinity")
        );
        run(&e, &mut s, &["SET", "k", "1e4932"]);
        assert_eq!(
            run(&e, &mut s, &["INCRBYFLOAT", "k", "1e4932"]),
            err("ERR increment would produce NaN or Infinity")
        );
        run(&e, &mut s, &["SET", "s", "hello"]);
        assert_eq!(run(&e, &mut s, &["INCRBYFLOAT", "s", "1"]), not_float);
        assert_eq!(run(&e, &mut s, &["INCRBYFLOAT", "s"]), arity("incrbyfloat"));
        run(&e, &mut s, &["SETEX", "t", "100", "1.5"]);
        assert_eq!(run(&e, &mut s, &["INCRBYFLOAT", "t", "1"]), bulk("2.5"));
        assert!(expire_of(&e, "t").is_some());
    }

    #[test]
    fn append_and_strlen() {
        let (e, mut s) = setup();
        assert_eq!(run(&e, &mut s, &["STRLEN", "k"]), int(0));
        assert_eq!(run(&e, &mut s, &["APPEND", "k", "hello"]), int(5));
        assert_eq!(run(&e, &mut s, &["APPEND", "k", " world"]), int(11));
        assert_eq!(run(&e, &mut s, &["GET", "k"]), bulk("hello world"));
        assert_eq!(run(&e, &mut s, &["STRLEN", "k"]), int(11));
        assert_eq!(run(&e, &mut s, &["APPEND", "e", ""]), int(0));
        assert_eq!(run(&e, &mut s, &["GET", "e"]), bulk(""));
        assert_eq!(run(&e, &mut s, &["APPEND", "k"]), arity("append"));
        assert_eq!(run(&e, &mut s, &["STRLEN"]), arity("strlen"));
        run(&e, &mut s, &["SETEX", "t", "100", "a"]);
        assert_eq!(run(&e, &mut s, &["APPEND", "t", "b"]), int(2));
        assert!(expire_of(&e, "t").is_some());
        e.config.set("proto-max-bulk-len", "1048576").unwrap();
        run(&e, &mut s, &["SETRANGE", "big", "1048570", "x"]);
        assert_eq!(
            run(&e, &mut s, &["APPEND", "big", "123456789"]),
            err("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
        );
        assert_eq!(run(&e, &mut s, &["STRLEN", "big"]), int(1048571));
    }

    #[test]
    fn getrange_and_substr() {
        let (e, mut s) = setup();
        assert_eq!(run(&e, &mut s, &["GETRANGE", "k", "0", "-1"]), bulk(""));
        run(&e, &mut s, &["SET", "k", "Hello World"]);
        assert_eq!(run(&e, &mut s, &["GETRANGE", "k", "0", "3"]), bulk("Hell"));
        assert_eq!(
            run(&e, &mut s, &["GETRANGE", "k", "0", "-1"]),
            bulk("Hello World")
        );
        assert_eq!(
            run(&e, &mut s, &["GETRANGE", "k", "-4", "-1"]),
            bulk("orld")
        );
        assert_eq!(run(&e, &mut s, &["GETRANGE", "k", "5", "3"]), bulk(""));
        assert_eq!(
            run(&e, &mut s, &["GETRANGE", "k", "5", "5000"]),
            bulk(" World")
        );
        assert_eq!(
            run(&e, &mut s, &["GETRANGE", "k", "-5000", "10000"]),
            bulk("Hello World")
        );
        assert_eq!(run(&e, &mut s, &["GETRANGE", "k", "-1", "-5"]), bulk(""));
        assert_eq!(run(&e, &mut s, &["GETRANGE", "k", "0", "-100"]), bulk("H"));
        assert_eq!(run(&e, &mut s, &["SUBSTR", "k", "6", "-1"]), bulk("World"));
        run(&e, &mut s, &["SET", "empty", ""]);
        assert_eq!(run(&e, &mut s, &["GETRANGE", "empty", "0", "-1"]), bulk(""));
        assert_eq!(
            run(&e, &mut s, &["GETRANGE", "k", "a", "1"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(run(&e, &mut s, &["GETRANGE", "k", "0"]), arity("getrange"));
        assert_eq!(run(&e, &mut s, &["SUBSTR", "k", "0"]), arity("substr"));
    }

    #[test]
    fn setrange() {
        let (e, mut s) = setup();
        assert_eq!(run(&e, &mut s, &["SETRANGE", "k", "0", ""]), int(0));
        assert_eq!(run(&e, &mut s, &["GET", "k"]), Frame::Null);
        assert_eq!(run(&e, &mut s, &["SETRANGE", "k", "3", "abc"]), int(6));
        assert_eq!(run(&e, &mut s, &["GET", "k"]), Frame::bulk(b"\0\0\0abc"));
        assert_eq!(run(&e, &mut s, &["SETRANGE", "k", "1", "XY"]), int(6));
        assert_eq!(run(&e, &mut s, &["GET", "k"]), Frame::bulk(b"\0XYabc"));
        assert_eq!(run(&e, &mut s, &["SETRANGE", "k", "100", ""]), int(6));
        assert_eq!(
            run(&e, &mut s, &["SETRANGE", "k", "-1", "x"]),
            err("ERR offset is out of range")
        );
        assert_eq!(
            run(&e, &mut s, &["SETRANGE", "k", "536870911", "xx"]),
            err("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
        );
        assert_eq!(
            run(&e, &mut s, &["SETRANGE", "k", "9223372036854775807", "xx"]),
            err("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
        );
        assert_eq!(
            run(&e, &mut s, &["SETRANGE", "k", "x", "a"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(run(&e, &mut s, &["SETRANGE", "k", "1"]), arity("setrange"));
    }

    #[test]
    fn lcs_plain_len_idx() {
        let (e, mut s) = setup();
        run(
            &e,
            &mut s,
            &["MSET", "key1", "ohmytext", "key2", "mynewtext"],
        );
        assert_eq!(run(&e, &mut s, &["LCS", "key1", "key2"]), bulk("mytext"));
        assert_eq!(run(&e, &mut s, &["LCS", "key1", "key2", "LEN"]), int(6));
        let m = |a: (i64, i64), b: (i64, i64), len: Option<i64>| {
            let mut v = vec![
                Frame::Array(vec![int(a.0), int(a.1)]),
                Frame::Array(vec![int(b.0), int(b.1)]),
            ];
            v.extend(len.map(int));
            Frame::Array(v)
        };
        let reply = |matches: Vec<Frame>| {
            Frame::Map(vec![
                (bulk("matches"), Frame::Array(matches)),
                (bulk("len"), int(6)),
            ])
        };
        assert_eq!(
            run(&e, &mut s, &["LCS", "key1", "key2", "IDX"]),
            reply(vec![m((4, 7), (5, 8), None), m((2, 3), (0, 1), None)])
        );
        assert_eq!(
            run(
                &e,
                &mut s,
                &[
                    "LCS",
                    "key1",
                    "key2",
                    "IDX",
                    "MINMATCHLEN",
                    "4",
                    "WITHMATCHLEN"
                ]
            ),
            reply(vec![m((4, 7), (5, 8), Some(4))])
        );
        assert_eq!(
            run(
                &e,
                &mut s,
                &[
                    "LCS",
                    "key1",
                    "key2",
                    "idx",
                    "minmatchlen",
                    "-3",
                    "withmatchlen"
                ]
            ),
            reply(vec![m((4, 7), (5, 8), Some(4)), m((2, 3), (0, 1), Some(2))])
        );
        assert_eq!(run(&e, &mut s, &["LCS", "x", "y"]), bulk(""));
        assert_eq!(run(&e, &mut s, &["LCS", "key1", "y", "LEN"]), int(0));
    }

    #[test]
    fn lcs_errors() {
        let (e, mut s) = setup();
        run(&e, &mut s, &["MSET", "a", "abc", "b", "abd"]);
        assert_eq!(
            run(&e, &mut s, &["LCS", "a", "b", "LEN", "IDX"]),
            err("ERR If you want both the length and indexes, please just use IDX.")
        );
        assert_eq!(
            run(&e, &mut s, &["LCS", "a", "b", "FOO"]),
            err("ERR syntax error")
        );
        assert_eq!(
            run(&e, &mut s, &["LCS", "a", "b", "MINMATCHLEN"]),
            err("ERR syntax error")
        );
        assert_eq!(
            run(&e, &mut s, &["LCS", "a", "b", "MINMATCHLEN", "x"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(run(&e, &mut s, &["LCS", "a"]), arity("lcs"));
        e.config.set("proto-max-bulk-len", "1048576").unwrap();
        run(&e, &mut s, &["SETRANGE", "a", "1000", "x"]);
        run(&e, &mut s, &["SETRANGE", "b", "1000", "x"]);
        assert_eq!(
            run(&e, &mut s, &["LCS", "a", "b"]),
            err("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")
        );
    }
}
