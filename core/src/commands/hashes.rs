//! Hash commands: HSET, HSETNX, HMSET, HGET, HMGET, HDEL, HLEN, HSTRLEN, HEXISTS,
//! HKEYS, HVALS, HGETALL, HINCRBY, HINCRBYFLOAT, HRANDFIELD and HSCAN with Redis 7.0's
//! replies and errors, plus Redis 7.4's hash field expiry (HEXPIRE, HPEXPIRE,
//! HEXPIREAT, HPEXPIREAT, HTTL, HPTTL, HEXPIRETIME, HPEXPIRETIME, HPERSIST).
//!
//! Every command works on single fields through [`HashOps`], so a backend never has
//! to load a whole hash to touch one field. Read commands count keyspace hits and
//! misses as Redis' `lookupKeyRead` does (a key of another type is a hit); write
//! commands count nothing, as `lookupKeyWrite`.

use std::collections::HashSet;

use bytes::Bytes;
use ferrokv_protocol::{Frame, RespVersion};

use crate::command::{CmdError, CmdFlags, CmdResult, CommandSpec, Ctx, KeyPositions};
use crate::commands::args::{int, is};
use crate::commands::keys::{parse_cursor, parse_scan_options};
use crate::notify;
use crate::propagate::{arg, int_arg};
use crate::storage::{with_hash, HashOps, StorageError, UnixMillis};
use crate::util::glob::glob_match;
use crate::util::longdouble::LongDouble;
use crate::util::number::parse_i64;
use crate::util::slices::SliceBuffer;

const HASH: &[&str] = &["hash"];
const WRITE_OOM_FAST: CmdFlags = CmdFlags::WRITE.or(CmdFlags::DENYOOM).or(CmdFlags::FAST);
const WRITE_FAST: CmdFlags = CmdFlags::WRITE.or(CmdFlags::FAST);
const READ_FAST: CmdFlags = CmdFlags::READONLY.or(CmdFlags::FAST);
const READ: CmdFlags = CmdFlags::READONLY;

/// A hash command spec with the family's defaults (one key, at index 1).
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
        acl: HASH,
        keys: KeyPositions::FIRST,
        group: "hash",
        since,
        summary,
        syntax,
        handler: Some(handler),
        ..CommandSpec::DEFAULT
    }
}

/// Hash command specs.
pub static COMMANDS: &[CommandSpec] = &[
    spec(
        "hset",
        -4,
        WRITE_OOM_FAST,
        "2.0.0",
        "Creates or modifies the value of a field in a hash.",
        "key field value [field value ...]",
        hset,
    ),
    spec(
        "hsetnx",
        4,
        WRITE_OOM_FAST,
        "2.0.0",
        "Sets the value of a field in a hash only when the field doesn't exist.",
        "key field value",
        hsetnx,
    ),
    spec(
        "hmset",
        -4,
        WRITE_OOM_FAST,
        "2.0.0",
        "Sets the values of multiple fields.",
        "key field value [field value ...]",
        hmset,
    ),
    spec(
        "hget",
        3,
        READ_FAST,
        "2.0.0",
        "Returns the value of a field in a hash.",
        "key field",
        hget,
    ),
    spec(
        "hmget",
        -3,
        READ_FAST,
        "2.0.0",
        "Returns the values of all fields in a hash.",
        "key field [field ...]",
        hmget,
    ),
    spec(
        "hdel",
        -3,
        WRITE_FAST,
        "2.0.0",
        "Deletes one or more fields and their values from a hash. Deletes the hash if no fields remain.",
        "key field [field ...]",
        hdel,
    ),
    spec("hlen", 2, READ_FAST, "2.0.0", "Returns the number of fields in a hash.", "key", hlen),
    spec(
        "hstrlen",
        3,
        READ_FAST,
        "3.2.0",
        "Returns the length of the value of a field.",
        "key field",
        hstrlen,
    ),
    spec(
        "hexists",
        3,
        READ_FAST,
        "2.0.0",
        "Determines whether a field exists in a hash.",
        "key field",
        hexists,
    ),
    spec("hkeys", 2, READ, "2.0.0", "Returns all fields in a hash.", "key", hkeys),
    spec("hvals", 2, READ, "2.0.0", "Returns all values in a hash.", "key", hvals),
    spec(
        "hgetall",
        2,
        READ,
        "2.0.0",
        "Returns all fields and values in a hash.",
        "key",
        hgetall,
    ),
    spec(
        "hincrby",
        4,
        WRITE_OOM_FAST,
        "2.0.0",
        "Increments the integer value of a field in a hash by a number. Uses 0 as initial value if the field doesn't exist.",
        "key field increment",
        hincrby,
    ),
    spec(
        "hincrbyfloat",
        4,
        WRITE_OOM_FAST,
        "2.6.0",
        "Increments the floating point value of a field by a number. Uses 0 as initial value if the field doesn't exist.",
        "key field increment",
        hincrbyfloat,
    ),
    spec(
        "hrandfield",
        -2,
        READ,
        "6.2.0",
        "Returns one or more random fields from a hash.",
        "key [count [WITHVALUES]]",
        hrandfield,
    ),
    spec(
        "hscan",
        -3,
        READ,
        "2.8.0",
        "Iterates over fields and values of a hash.",
        "key cursor [MATCH pattern] [COUNT count]",
        hscan,
    ),
    spec(
        "hexpire",
        -6,
        WRITE_OOM_FAST,
        "7.4.0",
        "Set expiry for hash field using relative time to expire (seconds)",
        "key seconds [NX | XX | GT | LT] FIELDS numfields field [field ...]",
        hexpire,
    ),
    spec(
        "hpexpire",
        -6,
        WRITE_OOM_FAST,
        "7.4.0",
        "Set expiry for hash field using relative time to expire (milliseconds)",
        "key milliseconds [NX | XX | GT | LT] FIELDS numfields field [field ...]",
        hpexpire,
    ),
    spec(
        "hexpireat",
        -6,
        WRITE_OOM_FAST,
        "7.4.0",
        "Set expiry for hash field using an absolute Unix timestamp (seconds)",
        "key unix-time-seconds [NX | XX | GT | LT] FIELDS numfields field [field ...]",
        hexpireat,
    ),
    spec(
        "hpexpireat",
        -6,
        WRITE_OOM_FAST,
        "7.4.0",
        "Set expiry for hash field using an absolute Unix timestamp (milliseconds)",
        "key unix-time-milliseconds [NX | XX | GT | LT] FIELDS numfields field [field ...]",
        hpexpireat,
    ),
    spec(
        "httl",
        -5,
        READ_FAST,
        "7.4.0",
        "Returns the TTL in seconds of a hash field.",
        "key FIELDS numfields field [field ...]",
        httl,
    ),
    spec(
        "hpttl",
        -5,
        READ_FAST,
        "7.4.0",
        "Returns the TTL in milliseconds of a hash field.",
        "key FIELDS numfields field [field ...]",
        hpttl,
    ),
    spec(
        "hexpiretime",
        -5,
        READ_FAST,
        "7.4.0",
        "Returns the expiration time of a hash field as a Unix timestamp, in seconds.",
        "key FIELDS numfields field [field ...]",
        hexpiretime,
    ),
    spec(
        "hpexpiretime",
        -5,
        READ_FAST,
        "7.4.0",
        "Returns the expiration time of a hash field as a Unix timestamp, in msec.",
        "key FIELDS numfields field [field ...]",
        hpexpiretime,
    ),
    spec(
        "hpersist",
        -5,
        WRITE_FAST,
        "7.4.0",
        "Removes the expiration time for each specified field",
        "key FIELDS numfields field [field ...]",
        hpersist,
    ),
];

// ---------------------------------------------------------------------------------
// Access helpers.
// ---------------------------------------------------------------------------------

/// Runs `body` on the hash at `key` as a read command: counts a keyspace hit (the key
/// exists, whatever its type) or miss, fails with `WRONGTYPE` for another type, and
/// returns `None` for a missing key.
fn read_hash<R>(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    body: impl FnOnce(&mut dyn HashOps) -> R,
) -> Result<Option<R>, CmdError> {
    let db = ctx.db();
    let found = with_hash(&mut *ctx.txn, db, key, false, body);
    ctx.counted_read(key, found)
}

/// Runs `body` on the hash at `key` as a write command (no keyspace statistics); a
/// missing key gets a new empty hash when `create`, stored only if `body` adds to it.
fn write_hash<R>(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    create: bool,
    body: impl FnOnce(&mut dyn HashOps) -> R,
) -> Result<Option<R>, CmdError> {
    let db = ctx.db();
    Ok(with_hash(&mut *ctx.txn, db, key, create, body)?)
}

/// A bulk reply, or nil for a missing value.
fn bulk_or_null(value: Option<Bytes>) -> Frame {
    value.map_or(Frame::Null, Frame::Bulk)
}

// ---------------------------------------------------------------------------------
// Setting and reading fields.
// ---------------------------------------------------------------------------------

/// HSET and HMSET (`name`): the pairs are checked before the key, as Redis does.
/// Returns the number of new fields.
fn hset_generic(ctx: &mut Ctx<'_>, argv: &[Bytes], name: &str) -> Result<i64, CmdError> {
    if argv.len() % 2 == 1 {
        return Err(CmdError::arity(name));
    }
    let mut new_key = false;
    let created = write_hash(ctx, &argv[1], true, |h| {
        // Stored hashes are never empty: an empty one is being created.
        new_key = h.is_empty();
        argv[2..]
            .chunks_exact(2)
            .filter(|pair| h.set(&pair[0], &pair[1]))
            .count()
    })?;
    ctx.notify_new(new_key && ctx.notifying(notify::NEW), &argv[1]);
    ctx.notify(notify::HASH, "hset", &argv[1]);
    Ok(created.unwrap_or(0) as i64)
}

fn hset(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    Ok(Frame::Integer(hset_generic(ctx, argv, "hset")?))
}

fn hmset(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    hset_generic(ctx, argv, "hmset")?;
    Ok(Frame::ok())
}

fn hsetnx(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let (field, value) = (&argv[2], &argv[3]);
    let mut new_key = false;
    let set = write_hash(ctx, &argv[1], true, |h| {
        new_key = h.is_empty();
        // An expired field counts as missing (Redis 7.4).
        if h.field_expire(field).is_some() {
            false
        } else {
            h.set(field, value);
            true
        }
    })?;
    let set = set.unwrap_or(false);
    if set {
        ctx.notify_new(new_key && ctx.notifying(notify::NEW), &argv[1]);
        ctx.notify(notify::HASH, "hset", &argv[1]);
    }
    Ok(Frame::Integer(set as i64))
}

fn hget(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let field = &argv[2];
    let value = read_hash(ctx, &argv[1], |h| h.get(field))?;
    Ok(bulk_or_null(value.flatten()))
}

/// HMGET: a missing key reads as an empty hash (an array of nils).
fn hmget(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let fields = &argv[2..];
    let values = read_hash(ctx, &argv[1], |h| {
        fields
            .iter()
            .map(|f| bulk_or_null(h.get(f)))
            .collect::<Vec<_>>()
    })?;
    Ok(Frame::Array(
        values.unwrap_or_else(|| vec![Frame::Null; fields.len()]),
    ))
}

/// HDEL: the hash is deleted by the backend once its last field goes.
fn hdel(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let fields = &argv[2..];
    let deleted = write_hash(ctx, &argv[1], false, |h| {
        let n = fields.iter().filter(|f| h.remove(f)).count();
        (n, h.is_empty())
    })?;
    let (deleted, emptied) = deleted.unwrap_or((0, false));
    if deleted > 0 {
        ctx.notify(notify::HASH, "hdel", &argv[1]);
        if emptied {
            ctx.notify(notify::GENERIC, "del", &argv[1]);
        }
    }
    Ok(Frame::Integer(deleted as i64))
}

fn hlen(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let len = read_hash(ctx, &argv[1], |h| h.len())?;
    Ok(Frame::Integer(len.unwrap_or(0) as i64))
}

fn hstrlen(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let field = &argv[2];
    let len = read_hash(ctx, &argv[1], |h| h.get(field).map_or(0, |v| v.len()))?;
    Ok(Frame::Integer(len.unwrap_or(0) as i64))
}

/// HEXISTS asks for the field's expiry rather than its value, so a large value is
/// never copied just to learn that it exists.
fn hexists(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let field = &argv[2];
    let exists = read_hash(ctx, &argv[1], |h| h.field_expire(field).is_some())?;
    Ok(Frame::Integer(exists.unwrap_or(false) as i64))
}

/// Every live field and value, in the backend's iteration order.
fn all_pairs(h: &mut dyn HashOps) -> Vec<(Bytes, Bytes)> {
    let mut out = SliceBuffer::with_capacity(2 * h.len());
    h.for_each(&mut |f, v| {
        out.push(f);
        out.push(v);
        true
    });
    let mut items = out.into_bytes();
    let mut pairs = Vec::new();
    while let (Some(f), Some(v)) = (items.next(), items.next()) {
        pairs.push((f, v));
    }
    pairs
}

fn hkeys(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let keys = read_hash(ctx, &argv[1], |h| {
        let mut out = Vec::with_capacity(h.len());
        h.for_each(&mut |f, _| {
            out.push(Frame::bulk(f));
            true
        });
        out
    })?;
    Ok(Frame::Array(keys.unwrap_or_default()))
}

fn hvals(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let values = read_hash(ctx, &argv[1], |h| {
        let mut out = Vec::with_capacity(h.len());
        h.for_each(&mut |_, v| {
            out.push(Frame::bulk(v));
            true
        });
        out
    })?;
    Ok(Frame::Array(values.unwrap_or_default()))
}

/// HGETALL: a map (RESP3), which RESP2 sends as a flat array.
fn hgetall(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let pairs = read_hash(ctx, &argv[1], all_pairs)?;
    Ok(Frame::Map(
        pairs
            .unwrap_or_default()
            .into_iter()
            .map(|(f, v)| (Frame::Bulk(f), Frame::Bulk(v)))
            .collect(),
    ))
}

// ---------------------------------------------------------------------------------
// Counters.
// ---------------------------------------------------------------------------------

/// Stores `value` in `field`, keeping the field's expiry, as HINCRBY and HINCRBYFLOAT
/// do in Redis 7.4 (`HASH_SET_KEEP_TTL`).
fn set_keep_ttl(h: &mut dyn HashOps, field: &[u8], value: &[u8], ttl: Option<UnixMillis>) {
    h.set(field, value);
    if ttl.is_some() {
        h.set_field_expire(field, ttl);
    }
}

/// The current value and expiry of a field, `None` if it is missing.
fn current(h: &mut dyn HashOps, field: &[u8]) -> Option<(Bytes, Option<UnixMillis>)> {
    let value = h.get(field)?;
    let ttl = h.field_expire(field).flatten();
    Some((value, ttl))
}

/// What a `create` write reports if the backend did not run its body, which the
/// storage contract rules out.
fn not_created<T>() -> Result<T, CmdError> {
    Err(StorageError::Io("hash was not created".into()).into())
}

fn hincrby(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let incr = int(&argv[3])?;
    let field = &argv[2];
    let mut new_key = false;
    let result = write_hash(ctx, &argv[1], true, |h| {
        new_key = h.is_empty();
        let (old, ttl) = match current(h, field) {
            Some((text, ttl)) => (
                parse_i64(&text).ok_or_else(|| CmdError::err("hash value is not an integer"))?,
                ttl,
            ),
            None => (0, None),
        };
        let value = old
            .checked_add(incr)
            .ok_or_else(|| CmdError::err("increment or decrement would overflow"))?;
        set_keep_ttl(h, field, value.to_string().as_bytes(), ttl);
        Ok(value)
    })?;
    let value = result.unwrap_or_else(not_created)?;
    ctx.notify_new(new_key && ctx.notifying(notify::NEW), &argv[1]);
    ctx.notify(notify::HASH, "hincrby", &argv[1]);
    Ok(Frame::Integer(value))
}

/// HINCRBYFLOAT in x87 `long double`, stored and replied as Redis prints it. An
/// infinite increment is refused before the key is looked at.
fn hincrbyfloat(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let incr = LongDouble::parse(&argv[3]).ok_or_else(CmdError::not_float)?;
    if !incr.is_finite() {
        return Err(CmdError::err("value is NaN or Infinity"));
    }
    let field = &argv[2];
    let mut new_key = false;
    let result = write_hash(ctx, &argv[1], true, |h| {
        new_key = h.is_empty();
        let (old, ttl) = match current(h, field) {
            Some((text, ttl)) => (
                LongDouble::parse(&text)
                    .ok_or_else(|| CmdError::err("hash value is not a float"))?,
                ttl,
            ),
            None => (LongDouble::ZERO, None),
        };
        let sum = old + incr;
        if !sum.is_finite() {
            return Err(CmdError::err("increment would produce NaN or Infinity"));
        }
        let text = sum.to_human();
        set_keep_ttl(h, field, &text, ttl);
        Ok((text, ttl))
    })?;
    let (text, ttl) = result.unwrap_or_else(not_created)?;
    ctx.notify_new(new_key && ctx.notifying(notify::NEW), &argv[1]);
    ctx.notify(notify::HASH, "hincrbyfloat", &argv[1]);
    let text = Bytes::from(text);
    if ctx.propagating() {
        // The float arithmetic is not redone on replay: HSET the result (and keep
        // the field's expiry, which HSET clears).
        let (key, field) = (argv[1].clone(), argv[2].clone());
        ctx.propagate_as(vec![arg("HSET"), key.clone(), field.clone(), text.clone()]);
        if let Some(at) = ttl {
            ctx.propagate_as(vec![
                arg("HPEXPIREAT"),
                key,
                int_arg(at as i64),
                arg("FIELDS"),
                int_arg(1),
                field,
            ]);
        }
    }
    Ok(Frame::Bulk(text))
}

// ---------------------------------------------------------------------------------
// HRANDFIELD.
// ---------------------------------------------------------------------------------

/// The most elements a negative HRANDFIELD count may ask for. Redis builds any
/// reply, however large, until memory runs out; here a reply that could not be held
/// is refused instead.
const MAX_RANDOM_REPLY: u64 = 1 << 24;

/// How many times larger than the count a hash must be before distinct fields are
/// found by random picks rather than by removing random fields from a full copy
/// (Redis' `HRANDFIELD_SUB_STRATEGY_MUL`).
const SUB_STRATEGY_MUL: u64 = 3;

/// Appends one field (and its value) to an HRANDFIELD reply: `[f, v]` pairs in RESP3,
/// a flat list in RESP2.
fn push_random(out: &mut Vec<Frame>, field: Bytes, value: Option<Bytes>, resp3: bool) {
    match value {
        Some(v) if resp3 => out.push(Frame::Array(vec![Frame::Bulk(field), Frame::Bulk(v)])),
        Some(v) => {
            out.push(Frame::Bulk(field));
            out.push(Frame::Bulk(v));
        }
        None => out.push(Frame::Bulk(field)),
    }
}

/// Keeps `count` random entries of `items` (in no particular order).
fn keep_random(items: &mut Vec<(Bytes, Bytes)>, count: usize) {
    while items.len() > count {
        let i = (rand::random::<u64>() % items.len() as u64) as usize;
        items.swap_remove(i);
    }
}

/// `count` distinct random fields, or every field when the hash has no more.
fn distinct_random(h: &mut dyn HashOps, count: u64) -> Vec<(Bytes, Bytes)> {
    let size = h.len() as u64;
    if count >= size {
        return all_pairs(h);
    }
    if count.saturating_mul(SUB_STRATEGY_MUL) > size {
        let mut all = all_pairs(h);
        keep_random(&mut all, count as usize);
        return all;
    }
    // A big hash: random picks find distinct fields quickly. A backend whose picks
    // are less uniform than expected falls back to the full copy.
    let count = count as usize;
    let mut seen = HashSet::with_capacity(count);
    let mut out = Vec::with_capacity(count);
    let mut attempts = count * 16 + 64;
    while out.len() < count && attempts > 0 {
        attempts -= 1;
        let Some((f, v)) = h.random(rand::random()) else {
            break;
        };
        if seen.insert(f.clone()) {
            out.push((f, v));
        }
    }
    if out.len() < count {
        out = all_pairs(h);
        keep_random(&mut out, count);
    }
    out
}

/// HRANDFIELD: without a count one field or nil; a positive count gives distinct
/// fields, a negative one may repeat them. Errors follow Redis' checking order: the
/// count, the syntax, WITHVALUES' range, then the key.
fn hrandfield(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    if argv.len() == 2 {
        let picked = read_hash(ctx, &argv[1], |h| h.random(rand::random()))?;
        return Ok(bulk_or_null(picked.flatten().map(|(f, _)| f)));
    }
    let count = int(&argv[2])?;
    if count == i64::MIN {
        return Err(CmdError::err(format!(
            "value is out of range, value must between {} and {}",
            -i64::MAX,
            i64::MAX
        )));
    }
    if argv.len() > 4 || (argv.len() == 4 && !is(&argv[3], "withvalues")) {
        return Err(CmdError::syntax());
    }
    let with_values = argv.len() == 4;
    if with_values && !(-i64::MAX / 2..=i64::MAX / 2).contains(&count) {
        return Err(CmdError::err("value is out of range"));
    }
    let repeat = count < 0;
    let count = count.unsigned_abs();
    if repeat && count > MAX_RANDOM_REPLY {
        return Err(CmdError::err("value is out of range"));
    }
    let resp3 = ctx.session.resp == RespVersion::Resp3;
    let reply = read_hash(ctx, &argv[1], |h| {
        let mut out = Vec::new();
        if count == 0 {
            return out;
        }
        if repeat {
            for _ in 0..count {
                let Some((f, v)) = h.random(rand::random()) else {
                    break;
                };
                push_random(&mut out, f, with_values.then_some(v), resp3);
            }
        } else {
            for (f, v) in distinct_random(h, count) {
                push_random(&mut out, f, with_values.then_some(v), resp3);
            }
        }
        out
    })?;
    Ok(Frame::Array(reply.unwrap_or_default()))
}

// ---------------------------------------------------------------------------------
// HSCAN.
// ---------------------------------------------------------------------------------

/// HSCAN: the cursor is checked before the key, the options only once the key is
/// known to be a hash (a missing key ignores them, as in Redis). MATCH filters on
/// the field name after the backend's page is read.
fn hscan(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let cursor = parse_cursor(&argv[2])?;
    let options = parse_scan_options(argv, 3, false);
    let page = read_hash(ctx, &argv[1], |h| {
        let opts = options?;
        let mut found = Vec::new();
        let next = h.scan(cursor, opts.count, &mut |f, v| {
            if opts.pattern.is_none_or(|p| glob_match(p, f, false)) {
                found.push(Frame::bulk(f));
                found.push(Frame::bulk(v));
            }
        });
        Ok::<_, CmdError>((next, found))
    })?;
    let (next, found) = page.transpose()?.unwrap_or_default();
    Ok(Frame::Array(vec![
        Frame::bulk(next.to_string()),
        Frame::Array(found),
    ]))
}

// ---------------------------------------------------------------------------------
// Hash field expiry (Redis 7.4).
// ---------------------------------------------------------------------------------

/// The latest expiry a field may get: Redis' `HFE_MAX_ABS_TIME_MSEC`, a quarter of
/// its 48-bit `EB_EXPIRE_TIME_MAX`.
const MAX_FIELD_EXPIRE_MS: i64 = ((1 << 48) - 1) >> 2;

/// `ERR Mandatory argument FIELDS is missing or not at the right position`.
fn fields_missing() -> CmdError {
    CmdError::err("Mandatory argument FIELDS is missing or not at the right position")
}

/// The fields after `FIELDS numfields` at `argv[at - 1]`, checked as Redis 7.4 does;
/// `bad_count` is the error for a count that is not a positive integer (HEXPIRE and
/// HTTL word it differently).
fn parse_fields<'a>(
    argv: &'a [Bytes],
    at: usize,
    bad_count: &str,
) -> Result<&'a [Bytes], CmdError> {
    if !is(&argv[at - 1], "fields") {
        return Err(fields_missing());
    }
    let count = parse_i64(&argv[at])
        .filter(|n| *n >= 1)
        .ok_or_else(|| CmdError::err(bad_count))?;
    let fields = &argv[at + 1..];
    if count as u64 != fields.len() as u64 {
        return Err(CmdError::err(
            "The `numfields` parameter must match the number of arguments",
        ));
    }
    Ok(fields)
}

/// A condition of HEXPIRE and its variants.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Condition {
    None,
    Nx,
    Xx,
    Gt,
    Lt,
}

/// The parsed arguments of HEXPIRE and its variants.
struct ExpireArgs<'a> {
    at: UnixMillis,
    condition: Condition,
    fields: &'a [Bytes],
}

/// Parses `time [NX|XX|GT|LT] FIELDS numfields field...` as Redis 7.4's
/// `hexpireGenericCommand`: the time is absolute once `base` (now for the relative
/// commands, 0 for the `AT` ones) is added, and may not pass `MAX_FIELD_EXPIRE_MS`.
fn parse_expire_args<'a>(
    argv: &'a [Bytes],
    name: &str,
    base: i64,
    seconds: bool,
) -> Result<ExpireArgs<'a>, CmdError> {
    let invalid = || CmdError(format!("ERR invalid expire time in '{name}' command"));
    let mut at = int(&argv[2])?;
    if at < 0 {
        return Err(CmdError::err("invalid expire time, must be >= 0"));
    }
    if seconds {
        if at > MAX_FIELD_EXPIRE_MS / 1000 {
            return Err(invalid());
        }
        at *= 1000;
    }
    if at > MAX_FIELD_EXPIRE_MS - base {
        return Err(invalid());
    }
    at += base;
    let condition = match &argv[3][..] {
        c if is(c, "nx") => Condition::Nx,
        c if is(c, "xx") => Condition::Xx,
        c if is(c, "gt") => Condition::Gt,
        c if is(c, "lt") => Condition::Lt,
        _ => Condition::None,
    };
    let numfields_at = if condition == Condition::None { 4 } else { 5 };
    let fields = parse_fields(
        argv,
        numfields_at,
        "Parameter `numFields` should be greater than 0",
    )?;
    Ok(ExpireArgs {
        at: at as UnixMillis,
        condition,
        fields,
    })
}

/// What HEXPIRE does to one field: -2 no such field, 0 condition not met, 2 deleted
/// because the time has already come, 1 expiry set. A field without expiry counts
/// as expiring never: GT and XX skip it, LT sets it.
fn expire_field(h: &mut dyn HashOps, field: &[u8], args: &ExpireArgs<'_>, now: UnixMillis) -> i64 {
    let Some(previous) = h.field_expire(field) else {
        return -2;
    };
    let skip = match (args.condition, previous) {
        (Condition::Nx, Some(_)) => true,
        (Condition::Xx | Condition::Gt, None) => true,
        (Condition::Gt, Some(p)) => p >= args.at,
        (Condition::Lt, Some(p)) => p <= args.at,
        _ => false,
    };
    if skip {
        0
    } else if args.at <= now {
        h.remove(field);
        2
    } else {
        h.set_field_expire(field, Some(args.at));
        1
    }
}

/// HEXPIRE, HPEXPIRE, HEXPIREAT and HPEXPIREAT: WRONGTYPE comes before any argument
/// error, a missing key replies -2 for every field.
fn hexpire_generic(
    ctx: &mut Ctx<'_>,
    argv: &[Bytes],
    name: &str,
    relative: bool,
    seconds: bool,
) -> CmdResult {
    let now = ctx.txn.now_ms();
    let base = if relative { now as i64 } else { 0 };
    let parsed = parse_expire_args(argv, name, base, seconds);
    let replies = write_hash(ctx, &argv[1], false, |h| {
        let args = parsed.as_ref().map_err(Clone::clone)?;
        let replies = args
            .fields
            .iter()
            .map(|f| expire_field(h, f, args, now))
            .collect::<Vec<_>>();
        Ok::<_, CmdError>((replies, h.is_empty()))
    })?;
    if relative || seconds {
        if let (Ok(args), true) = (&parsed, ctx.propagating()) {
            // Propagated with the absolute time in milliseconds (Redis 7.4).
            let mut rewrite = vec![arg("HPEXPIREAT"), argv[1].clone(), int_arg(args.at as i64)];
            rewrite.extend(argv[3..].iter().cloned());
            ctx.propagate_as(rewrite);
        }
    }
    match replies {
        Some(replies) => {
            let (replies, emptied) = replies?;
            // Redis 7.4: `hdel` when a past time removed fields, else `hexpire`.
            if replies.contains(&2) {
                ctx.notify(notify::HASH, "hdel", &argv[1]);
                if emptied {
                    ctx.notify(notify::GENERIC, "del", &argv[1]);
                }
            } else if replies.contains(&1) {
                ctx.notify(notify::HASH, "hexpire", &argv[1]);
            }
            Ok(Frame::Array(
                replies.into_iter().map(Frame::Integer).collect(),
            ))
        }
        None => Ok(Frame::Array(vec![Frame::Integer(-2); parsed?.fields.len()])),
    }
}

fn hexpire(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    hexpire_generic(ctx, argv, "hexpire", true, true)
}

fn hpexpire(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    hexpire_generic(ctx, argv, "hpexpire", true, false)
}

fn hexpireat(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    hexpire_generic(ctx, argv, "hexpireat", false, true)
}

fn hpexpireat(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    hexpire_generic(ctx, argv, "hpexpireat", false, false)
}

/// What HTTL and its variants report for a field with an expiry.
#[derive(Clone, Copy)]
enum TtlKind {
    /// Remaining seconds, rounded up.
    Seconds,
    /// Remaining milliseconds.
    Millis,
    /// Absolute Unix time in seconds, rounded up.
    UnixSeconds,
    /// Absolute Unix time in milliseconds.
    UnixMillis,
}

/// "FIELDS numfields field..." at index 2, as HTTL and HPERSIST take it.
const FIELDS_AT: usize = 3;

/// `ERR Number of fields must be a positive integer`, HTTL's and HPERSIST's wording.
const FIELD_COUNT: &str = "Number of fields must be a positive integer";

/// HTTL, HPTTL, HEXPIRETIME and HPEXPIRETIME: -2 for a missing field (or key), -1 for
/// a field without expiry.
fn httl_generic(ctx: &mut Ctx<'_>, argv: &[Bytes], kind: TtlKind) -> CmdResult {
    let now = ctx.txn.now_ms();
    let parsed = parse_fields(argv, FIELDS_AT, FIELD_COUNT);
    let replies = read_hash(ctx, &argv[1], |h| {
        let fields = parsed.as_ref().map_err(Clone::clone)?;
        Ok::<_, CmdError>(
            fields
                .iter()
                .map(|f| {
                    Frame::Integer(match h.field_expire(f) {
                        None => -2,
                        Some(None) => -1,
                        Some(Some(at)) => {
                            let (at, now) = (at as i64, now as i64);
                            match kind {
                                TtlKind::Seconds => (at + 999 - now) / 1000,
                                TtlKind::Millis => at - now,
                                TtlKind::UnixSeconds => (at + 999) / 1000,
                                TtlKind::UnixMillis => at,
                            }
                        }
                    })
                })
                .collect::<Vec<_>>(),
        )
    })?;
    match replies {
        Some(replies) => Ok(Frame::Array(replies?)),
        None => Ok(Frame::Array(vec![Frame::Integer(-2); parsed?.len()])),
    }
}

fn httl(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    httl_generic(ctx, argv, TtlKind::Seconds)
}

fn hpttl(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    httl_generic(ctx, argv, TtlKind::Millis)
}

fn hexpiretime(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    httl_generic(ctx, argv, TtlKind::UnixSeconds)
}

fn hpexpiretime(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    httl_generic(ctx, argv, TtlKind::UnixMillis)
}

/// HPERSIST: -2 for a missing field (or key), -1 for a field without expiry, 1 when
/// the expiry was removed.
fn hpersist(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let parsed = parse_fields(argv, FIELDS_AT, FIELD_COUNT);
    let replies = write_hash(ctx, &argv[1], false, |h| {
        let fields = parsed.as_ref().map_err(Clone::clone)?;
        Ok::<_, CmdError>(
            fields
                .iter()
                .map(|f| {
                    Frame::Integer(match h.field_expire(f) {
                        None => -2,
                        Some(None) => -1,
                        Some(Some(_)) => {
                            h.set_field_expire(f, None);
                            1
                        }
                    })
                })
                .collect::<Vec<_>>(),
        )
    })?;
    match replies {
        Some(replies) => {
            let replies = replies?;
            if replies.contains(&Frame::Integer(1)) {
                ctx.notify(notify::HASH, "hpersist", &argv[1]);
            }
            Ok(Frame::Array(replies))
        }
        None => Ok(Frame::Array(vec![Frame::Integer(-2); parsed?.len()])),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use ferrokv_protocol::{Frame, RespVersion};

    use crate::clients::unix_ms;
    use crate::engine::Engine;
    use crate::stats::Stats;
    use crate::testing::{engine, run, session};
    use crate::Session;

    /// Runs a command written as space-separated words.
    fn c(e: &Engine, s: &mut Session, line: &str) -> Frame {
        let words: Vec<&str> = line.split(' ').collect();
        run(e, s, &words)
    }

    fn setup() -> (Engine, Session) {
        let e = engine();
        let s = session(&e);
        (e, s)
    }

    fn err(msg: &str) -> Frame {
        Frame::error(msg)
    }

    fn int(n: i64) -> Frame {
        Frame::Integer(n)
    }

    fn ints(v: &[i64]) -> Frame {
        Frame::Array(v.iter().map(|n| Frame::Integer(*n)).collect())
    }

    fn bulk(s: &str) -> Frame {
        Frame::bulk(s)
    }

    fn bulks(v: &[&str]) -> Frame {
        Frame::Array(v.iter().map(Frame::bulk).collect())
    }

    fn arity(cmd: &str) -> Frame {
        err(&format!(
            "ERR wrong number of arguments for '{cmd}' command"
        ))
    }

    fn wrongtype() -> Frame {
        err("WRONGTYPE Operation against a key holding the wrong kind of value")
    }

    fn syntax() -> Frame {
        err("ERR syntax error")
    }

    fn not_integer() -> Frame {
        err("ERR value is not an integer or out of range")
    }

    /// The texts of an array of bulk strings.
    fn texts(frame: &Frame) -> Vec<String> {
        match frame {
            Frame::Array(items) => items
                .iter()
                .map(|f| match f {
                    Frame::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
                    other => panic!("not a bulk: {other:?}"),
                })
                .collect(),
            other => panic!("not an array: {other:?}"),
        }
    }

    fn int_of(frame: &Frame) -> i64 {
        match frame {
            Frame::Integer(n) => *n,
            other => panic!("not an integer: {other:?}"),
        }
    }

    /// The single integer of a one-element integer array.
    fn first_int(frame: &Frame) -> i64 {
        match frame {
            Frame::Array(items) if items.len() == 1 => int_of(&items[0]),
            other => panic!("not a one-integer array: {other:?}"),
        }
    }

    fn hits_misses(e: &Engine) -> (u64, u64) {
        (
            Stats::get(&e.stats.keyspace_hits),
            Stats::get(&e.stats.keyspace_misses),
        )
    }

    #[test]
    fn hset_hget_hmset() {
        let (e, mut s) = setup();
        assert_eq!(c(&e, &mut s, "HSET h a 1"), int(1));
        assert_eq!(c(&e, &mut s, "HSET h a 2 b 3 c 4"), int(2));
        assert_eq!(c(&e, &mut s, "HGET h a"), bulk("2"));
        assert_eq!(c(&e, &mut s, "HGET h b"), bulk("3"));
        assert_eq!(c(&e, &mut s, "HGET h nope"), Frame::Null);
        assert_eq!(c(&e, &mut s, "HGET nokey a"), Frame::Null);
        // The same field twice in one call: counted once, last value wins.
        assert_eq!(c(&e, &mut s, "HSET h d 1 d 2"), int(1));
        assert_eq!(c(&e, &mut s, "HGET h d"), bulk("2"));
        assert_eq!(c(&e, &mut s, "HMSET h a x e y"), Frame::ok());
        assert_eq!(c(&e, &mut s, "HGET h a"), bulk("x"));
        assert_eq!(c(&e, &mut s, "HGET h e"), bulk("y"));
        assert_eq!(c(&e, &mut s, "HMSET new f v"), Frame::ok());
        assert_eq!(c(&e, &mut s, "TYPE new"), Frame::simple("hash"));
        // Empty fields and values are fine.
        assert_eq!(run(&e, &mut s, &["HSET", "h", "", ""]), int(1));
        assert_eq!(run(&e, &mut s, &["HGET", "h", ""]), bulk(""));
        // Arity: the engine's minimum, then the handler's pair check.
        assert_eq!(c(&e, &mut s, "HSET h a"), arity("hset"));
        assert_eq!(c(&e, &mut s, "HSET h a 1 b"), arity("hset"));
        assert_eq!(c(&e, &mut s, "HMSET h a"), arity("hmset"));
        assert_eq!(c(&e, &mut s, "HMSET h a 1 b"), arity("hmset"));
        assert_eq!(c(&e, &mut s, "HGET h"), arity("hget"));
        assert_eq!(c(&e, &mut s, "HGET h a b"), arity("hget"));
        // WRONGTYPE, except that an odd pair count is reported first.
        c(&e, &mut s, "SET str x");
        assert_eq!(c(&e, &mut s, "HSET str a 1"), wrongtype());
        assert_eq!(c(&e, &mut s, "HSET str a 1 b"), arity("hset"));
        assert_eq!(c(&e, &mut s, "HMSET str a 1"), wrongtype());
        assert_eq!(c(&e, &mut s, "HGET str a"), wrongtype());
        assert_eq!(c(&e, &mut s, "GET str"), bulk("x"));
    }

    #[test]
    fn hsetnx() {
        let (e, mut s) = setup();
        assert_eq!(c(&e, &mut s, "HSETNX h a 1"), int(1));
        assert_eq!(c(&e, &mut s, "HSETNX h a 2"), int(0));
        assert_eq!(c(&e, &mut s, "HGET h a"), bulk("1"));
        assert_eq!(c(&e, &mut s, "HSETNX h b 2"), int(1));
        assert_eq!(c(&e, &mut s, "HLEN h"), int(2));
        assert_eq!(c(&e, &mut s, "HSETNX h a"), arity("hsetnx"));
        assert_eq!(c(&e, &mut s, "HSETNX h a 1 2"), arity("hsetnx"));
        c(&e, &mut s, "SET str x");
        assert_eq!(c(&e, &mut s, "HSETNX str a 1"), wrongtype());
    }

    #[test]
    fn hmget() {
        let (e, mut s) = setup();
        c(&e, &mut s, "HSET h a 1 b 2");
        assert_eq!(
            c(&e, &mut s, "HMGET h a nope b a"),
            Frame::Array(vec![bulk("1"), Frame::Null, bulk("2"), bulk("1")])
        );
        assert_eq!(
            c(&e, &mut s, "HMGET nokey a b"),
            Frame::Array(vec![Frame::Null, Frame::Null])
        );
        assert_eq!(c(&e, &mut s, "HMGET h"), arity("hmget"));
        c(&e, &mut s, "SET str x");
        assert_eq!(c(&e, &mut s, "HMGET str a"), wrongtype());
    }

    #[test]
    fn hdel() {
        let (e, mut s) = setup();
        c(&e, &mut s, "HSET h a 1 b 2 c 3");
        assert_eq!(c(&e, &mut s, "HDEL h a"), int(1));
        assert_eq!(c(&e, &mut s, "HDEL h a"), int(0));
        assert_eq!(c(&e, &mut s, "HDEL h nope"), int(0));
        assert_eq!(c(&e, &mut s, "HLEN h"), int(2));
        // Deleting the last fields deletes the key; repeated names count once.
        assert_eq!(c(&e, &mut s, "HDEL h b c b nope"), int(2));
        assert_eq!(c(&e, &mut s, "EXISTS h"), int(0));
        assert_eq!(c(&e, &mut s, "HDEL h a"), int(0));
        assert_eq!(c(&e, &mut s, "HDEL h"), arity("hdel"));
        c(&e, &mut s, "SET str x");
        assert_eq!(c(&e, &mut s, "HDEL str a"), wrongtype());
    }

    #[test]
    fn hlen_hstrlen_hexists() {
        let (e, mut s) = setup();
        c(&e, &mut s, "HSET h a hello b 12345 c x");
        run(&e, &mut s, &["HSET", "h", "empty", ""]);
        assert_eq!(c(&e, &mut s, "HLEN h"), int(4));
        assert_eq!(c(&e, &mut s, "HLEN nokey"), int(0));
        assert_eq!(c(&e, &mut s, "HSTRLEN h a"), int(5));
        assert_eq!(c(&e, &mut s, "HSTRLEN h b"), int(5));
        assert_eq!(c(&e, &mut s, "HSTRLEN h empty"), int(0));
        assert_eq!(c(&e, &mut s, "HSTRLEN h nope"), int(0));
        assert_eq!(c(&e, &mut s, "HSTRLEN nokey a"), int(0));
        assert_eq!(c(&e, &mut s, "HEXISTS h a"), int(1));
        assert_eq!(c(&e, &mut s, "HEXISTS h empty"), int(1));
        assert_eq!(c(&e, &mut s, "HEXISTS h nope"), int(0));
        assert_eq!(c(&e, &mut s, "HEXISTS nokey a"), int(0));
        assert_eq!(c(&e, &mut s, "HLEN"), arity("hlen"));
        assert_eq!(c(&e, &mut s, "HLEN h x"), arity("hlen"));
        assert_eq!(c(&e, &mut s, "HSTRLEN h"), arity("hstrlen"));
        assert_eq!(c(&e, &mut s, "HEXISTS h"), arity("hexists"));
        assert_eq!(c(&e, &mut s, "HEXISTS h a b"), arity("hexists"));
        c(&e, &mut s, "SET str x");
        assert_eq!(c(&e, &mut s, "HLEN str"), wrongtype());
        assert_eq!(c(&e, &mut s, "HSTRLEN str a"), wrongtype());
        assert_eq!(c(&e, &mut s, "HEXISTS str a"), wrongtype());
    }

    #[test]
    fn hkeys_hvals_hgetall() {
        let (e, mut s) = setup();
        c(&e, &mut s, "HSET h b 2 a 1 c 3");
        // The simple backend iterates in field order.
        assert_eq!(c(&e, &mut s, "HKEYS h"), bulks(&["a", "b", "c"]));
        assert_eq!(c(&e, &mut s, "HVALS h"), bulks(&["1", "2", "3"]));
        assert_eq!(
            c(&e, &mut s, "HGETALL h"),
            Frame::Map(vec![
                (bulk("a"), bulk("1")),
                (bulk("b"), bulk("2")),
                (bulk("c"), bulk("3")),
            ])
        );
        assert_eq!(c(&e, &mut s, "HKEYS nokey"), Frame::Array(vec![]));
        assert_eq!(c(&e, &mut s, "HVALS nokey"), Frame::Array(vec![]));
        assert_eq!(c(&e, &mut s, "HGETALL nokey"), Frame::Map(vec![]));
        for cmd in ["hkeys", "hvals", "hgetall"] {
            assert_eq!(run(&e, &mut s, &[cmd]), arity(cmd));
            assert_eq!(run(&e, &mut s, &[cmd, "h", "x"]), arity(cmd));
        }
        c(&e, &mut s, "SET str x");
        assert_eq!(c(&e, &mut s, "HKEYS str"), wrongtype());
        assert_eq!(c(&e, &mut s, "HVALS str"), wrongtype());
        assert_eq!(c(&e, &mut s, "HGETALL str"), wrongtype());
    }

    #[test]
    fn hincrby() {
        let (e, mut s) = setup();
        assert_eq!(c(&e, &mut s, "HINCRBY h n 5"), int(5));
        assert_eq!(c(&e, &mut s, "HINCRBY h n -7"), int(-2));
        assert_eq!(c(&e, &mut s, "HGET h n"), bulk("-2"));
        assert_eq!(c(&e, &mut s, "HINCRBY h n 0"), int(-2));
        c(
            &e,
            &mut s,
            "HSET h max 9223372036854775807 min -9223372036854775808",
        );
        let overflow = err("ERR increment or decrement would overflow");
        assert_eq!(c(&e, &mut s, "HINCRBY h max 1"), overflow);
        assert_eq!(c(&e, &mut s, "HINCRBY h min -1"), overflow);
        assert_eq!(
            c(&e, &mut s, "HINCRBY h n 9223372036854775807"),
            int(9223372036854775805)
        );
        assert_eq!(c(&e, &mut s, "HINCRBY h max 0"), int(i64::MAX));
        assert_eq!(c(&e, &mut s, "HINCRBY h max -1"), int(i64::MAX - 1));
        assert_eq!(c(&e, &mut s, "HGET h max"), bulk("9223372036854775806"));
        // Stored values must be exact integers.
        let bad = err("ERR hash value is not an integer");
        c(&e, &mut s, "HSET h f 1.5 w abc z 01");
        run(&e, &mut s, &["HSET", "h", "sp", " 1"]);
        for field in ["f", "w", "z", "sp"] {
            assert_eq!(run(&e, &mut s, &["HINCRBY", "h", field, "1"]), bad);
        }
        // The increment is checked before the key.
        assert_eq!(c(&e, &mut s, "HINCRBY h n 1.5"), not_integer());
        assert_eq!(c(&e, &mut s, "HINCRBY h n x"), not_integer());
        assert_eq!(
            c(&e, &mut s, "HINCRBY h n 99999999999999999999"),
            not_integer()
        );
        c(&e, &mut s, "SET str x");
        assert_eq!(c(&e, &mut s, "HINCRBY str n x"), not_integer());
        assert_eq!(c(&e, &mut s, "HINCRBY str n 1"), wrongtype());
        assert_eq!(c(&e, &mut s, "HINCRBY h n"), arity("hincrby"));
        assert_eq!(c(&e, &mut s, "HINCRBY h n 1 2"), arity("hincrby"));
    }

    #[test]
    fn hincrbyfloat() {
        let (e, mut s) = setup();
        assert_eq!(c(&e, &mut s, "HINCRBYFLOAT h f 10.5"), bulk("10.5"));
        assert_eq!(c(&e, &mut s, "HINCRBYFLOAT h f 0.1"), bulk("10.6"));
        assert_eq!(c(&e, &mut s, "HGET h f"), bulk("10.6"));
        assert_eq!(c(&e, &mut s, "HINCRBYFLOAT h f -10.6"), bulk("0"));
        assert_eq!(c(&e, &mut s, "HINCRBYFLOAT h e 1.0e1"), bulk("10"));
        assert_eq!(c(&e, &mut s, "HINCRBYFLOAT h x 0x10"), bulk("16"));
        assert_eq!(c(&e, &mut s, "HINCRBYFLOAT h i 3"), bulk("3"));
        assert_eq!(c(&e, &mut s, "HINCRBYFLOAT h i 1.5"), bulk("4.5"));
        c(&e, &mut s, "HSET h int 5 big 1e400");
        assert_eq!(c(&e, &mut s, "HINCRBYFLOAT h int 2.5"), bulk("7.5"));
        // Values beyond f64 still work in long double.
        assert_eq!(c(&e, &mut s, "HINCRBYFLOAT h big -1e400"), bulk("0"));
        // Errors.
        let bad = err("ERR hash value is not a float");
        c(&e, &mut s, "HSET h w abc");
        run(&e, &mut s, &["HSET", "h", "sp", " 1"]);
        assert_eq!(c(&e, &mut s, "HINCRBYFLOAT h w 1"), bad);
        assert_eq!(c(&e, &mut s, "HINCRBYFLOAT h sp 1"), bad);
        let not_float = err("ERR value is not a valid float");
        assert_eq!(c(&e, &mut s, "HINCRBYFLOAT h f abc"), not_float);
        assert_eq!(c(&e, &mut s, "HINCRBYFLOAT h f nan"), not_float);
        let nan_inf = err("ERR value is NaN or Infinity");
        assert_eq!(c(&e, &mut s, "HINCRBYFLOAT new f inf"), nan_inf);
        assert_eq!(c(&e, &mut s, "HINCRBYFLOAT new f -inf"), nan_inf);
        assert_eq!(c(&e, &mut s, "EXISTS new"), int(0));
        c(&e, &mut s, "HSET h huge 1e4932");
        assert_eq!(
            c(&e, &mut s, "HINCRBYFLOAT h huge 1e4932"),
            err("ERR increment would produce NaN or Infinity")
        );
        c(&e, &mut s, "SET str x");
        assert_eq!(c(&e, &mut s, "HINCRBYFLOAT str f inf"), nan_inf);
        assert_eq!(c(&e, &mut s, "HINCRBYFLOAT str f abc"), not_float);
        assert_eq!(c(&e, &mut s, "HINCRBYFLOAT str f 1"), wrongtype());
        assert_eq!(c(&e, &mut s, "HINCRBYFLOAT h f"), arity("hincrbyfloat"));
    }

    #[test]
    fn hrandfield_single() {
        let (e, mut s) = setup();
        assert_eq!(c(&e, &mut s, "HRANDFIELD nokey"), Frame::Null);
        c(&e, &mut s, "HSET h a 1 b 2 c 3");
        let all: BTreeSet<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        for _ in 0..20 {
            match c(&e, &mut s, "HRANDFIELD h") {
                Frame::Bulk(b) => assert!(all.contains(&*String::from_utf8_lossy(&b))),
                other => panic!("unexpected {other:?}"),
            }
        }
        c(&e, &mut s, "SET str x");
        assert_eq!(c(&e, &mut s, "HRANDFIELD str"), wrongtype());
        assert_eq!(c(&e, &mut s, "HRANDFIELD"), arity("hrandfield"));
    }

    #[test]
    fn hrandfield_count() {
        let (e, mut s) = setup();
        c(&e, &mut s, "HSET h a 1 b 2 c 3");
        assert_eq!(c(&e, &mut s, "HRANDFIELD h 0"), Frame::Array(vec![]));
        assert_eq!(
            c(&e, &mut s, "HRANDFIELD h 0 WITHVALUES"),
            Frame::Array(vec![])
        );
        assert_eq!(c(&e, &mut s, "HRANDFIELD nokey 3"), Frame::Array(vec![]));
        assert_eq!(
            c(&e, &mut s, "HRANDFIELD nokey -3 withvalues"),
            Frame::Array(vec![])
        );
        // Positive: distinct, at most the hash's size.
        let sorted = |f: &Frame| {
            let mut v = texts(f);
            v.sort();
            v
        };
        assert_eq!(sorted(&c(&e, &mut s, "HRANDFIELD h 3")), ["a", "b", "c"]);
        assert_eq!(sorted(&c(&e, &mut s, "HRANDFIELD h 100")), ["a", "b", "c"]);
        for _ in 0..20 {
            let two = texts(&c(&e, &mut s, "HRANDFIELD h 2"));
            assert_eq!(two.len(), 2);
            assert_ne!(two[0], two[1]);
        }
        // Negative: exactly that many, repeats allowed.
        let many = texts(&c(&e, &mut s, "HRANDFIELD h -10"));
        assert_eq!(many.len(), 10);
        assert!(many.iter().all(|f| ["a", "b", "c"].contains(&f.as_str())));
        // WITHVALUES in RESP2: a flat field, value list.
        let flat = texts(&c(&e, &mut s, "HRANDFIELD h -5 WITHVALUES"));
        assert_eq!(flat.len(), 10);
        for pair in flat.chunks(2) {
            let expected = match pair[0].as_str() {
                "a" => "1",
                "b" => "2",
                _ => "3",
            };
            assert_eq!(pair[1], expected);
        }
        let flat = texts(&c(&e, &mut s, "HRANDFIELD h 2 withvalues"));
        assert_eq!(flat.len(), 4);
        // RESP3: an array of [field, value] pairs.
        s.resp = RespVersion::Resp3;
        for line in [
            "HRANDFIELD h 2 WITHVALUES",
            "HRANDFIELD h -4 WITHVALUES",
            "HRANDFIELD h 9 WITHVALUES",
        ] {
            match c(&e, &mut s, line) {
                Frame::Array(pairs) => {
                    assert!(!pairs.is_empty());
                    for p in pairs {
                        assert_eq!(texts(&p).len(), 2, "{line}");
                    }
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(texts(&c(&e, &mut s, "HRANDFIELD h 2")).len(), 2);
    }

    #[test]
    fn hrandfield_distinct_in_bigger_hashes() {
        let (e, mut s) = setup();
        let mut line = String::from("HSET h");
        for i in 0..100 {
            line.push_str(&format!(" f{i} v{i}"));
        }
        c(&e, &mut s, &line);
        // Few of many (random picks) and most of many (removal from a copy).
        for count in [1, 5, 30, 34, 60, 99] {
            let got = texts(&c(&e, &mut s, &format!("HRANDFIELD h {count}")));
            let distinct: BTreeSet<&String> = got.iter().collect();
            assert_eq!(got.len(), count);
            assert_eq!(distinct.len(), count);
            let pairs = texts(&c(&e, &mut s, &format!("HRANDFIELD h {count} WITHVALUES")));
            for pair in pairs.chunks(2) {
                assert_eq!(pair[1], pair[0].replace('f', "v"));
            }
        }
    }

    #[test]
    fn hrandfield_errors() {
        let (e, mut s) = setup();
        c(&e, &mut s, "HSET h a 1");
        c(&e, &mut s, "SET str x");
        assert_eq!(c(&e, &mut s, "HRANDFIELD h abc"), not_integer());
        assert_eq!(c(&e, &mut s, "HRANDFIELD str abc"), not_integer());
        assert_eq!(c(&e, &mut s, "HRANDFIELD h 1.5"), not_integer());
        assert_eq!(
            c(&e, &mut s, "HRANDFIELD h -9223372036854775808"),
            err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
        );
        assert_eq!(c(&e, &mut s, "HRANDFIELD h 1 foo"), syntax());
        assert_eq!(c(&e, &mut s, "HRANDFIELD h 1 WITHVALUES x"), syntax());
        assert_eq!(c(&e, &mut s, "HRANDFIELD str 1 foo"), syntax());
        assert_eq!(c(&e, &mut s, "HRANDFIELD h abc foo"), not_integer());
        let range = err("ERR value is out of range");
        assert_eq!(
            c(&e, &mut s, "HRANDFIELD h -9223372036854775807 WITHVALUES"),
            range
        );
        assert_eq!(
            c(&e, &mut s, "HRANDFIELD h 4611686018427387904 WITHVALUES"),
            range
        );
        assert_eq!(
            c(&e, &mut s, "HRANDFIELD h -4611686018427387904 WITHVALUES"),
            range
        );
        // The limits themselves are accepted.
        assert_eq!(
            c(&e, &mut s, "HRANDFIELD h 4611686018427387903 WITHVALUES"),
            bulks(&["a", "1"])
        );
        assert_eq!(
            c(&e, &mut s, "HRANDFIELD h 9223372036854775807"),
            bulks(&["a"])
        );
        // A repeating count too large to reply with.
        assert_eq!(c(&e, &mut s, "HRANDFIELD h -9223372036854775807"), range);
        assert_eq!(c(&e, &mut s, "HRANDFIELD str 1"), wrongtype());
        assert_eq!(c(&e, &mut s, "HRANDFIELD str -1 WITHVALUES"), wrongtype());
    }

    #[test]
    fn hscan() {
        let (e, mut s) = setup();
        c(&e, &mut s, "HSET h a 1 b 2 c 3 ab 4");
        let page = c(&e, &mut s, "HSCAN h 0");
        assert_eq!(
            page,
            Frame::Array(vec![
                bulk("0"),
                bulks(&["a", "1", "ab", "4", "b", "2", "c", "3"])
            ])
        );
        assert_eq!(
            c(&e, &mut s, "HSCAN h 0 MATCH a* COUNT 100"),
            Frame::Array(vec![bulk("0"), bulks(&["a", "1", "ab", "4"])])
        );
        assert_eq!(
            c(&e, &mut s, "HSCAN h 0 match ?"),
            Frame::Array(vec![bulk("0"), bulks(&["a", "1", "b", "2", "c", "3"])])
        );
        assert_eq!(
            c(&e, &mut s, "HSCAN h 0 MATCH zz"),
            Frame::Array(vec![bulk("0"), Frame::Array(vec![])])
        );
        let empty = Frame::Array(vec![bulk("0"), Frame::Array(vec![])]);
        assert_eq!(c(&e, &mut s, "HSCAN nokey 0"), empty);
        // A missing key never reaches the option parser.
        assert_eq!(c(&e, &mut s, "HSCAN nokey 0 COUNT 0"), empty);
        assert_eq!(c(&e, &mut s, "HSCAN nokey 0 foo"), empty);
        assert_eq!(c(&e, &mut s, "HSCAN h 0 COUNT 0"), syntax());
        assert_eq!(c(&e, &mut s, "HSCAN h 0 COUNT x"), not_integer());
        assert_eq!(c(&e, &mut s, "HSCAN h 0 MATCH"), syntax());
        assert_eq!(c(&e, &mut s, "HSCAN h 0 TYPE hash"), syntax());
        assert_eq!(c(&e, &mut s, "HSCAN h 0 foo bar"), syntax());
        // The cursor is checked first, then the type, then the options.
        let invalid = err("ERR invalid cursor");
        assert_eq!(c(&e, &mut s, "HSCAN h abc"), invalid);
        assert_eq!(c(&e, &mut s, "HSCAN nokey abc"), invalid);
        c(&e, &mut s, "SET str x");
        assert_eq!(c(&e, &mut s, "HSCAN str abc"), invalid);
        assert_eq!(c(&e, &mut s, "HSCAN str 0 COUNT 0"), wrongtype());
        assert_eq!(c(&e, &mut s, "HSCAN h"), arity("hscan"));
    }

    #[test]
    fn read_commands_count_hits_and_misses() {
        let (e, mut s) = setup();
        c(&e, &mut s, "HSET h a 1");
        c(&e, &mut s, "HINCRBY h n 1");
        c(&e, &mut s, "HDEL nokey a");
        assert_eq!(hits_misses(&e), (0, 0));
        c(&e, &mut s, "HGET h a");
        c(&e, &mut s, "HGET nokey a");
        assert_eq!(hits_misses(&e), (1, 1));
        c(&e, &mut s, "SET str x");
        c(&e, &mut s, "HGET str a");
        assert_eq!(hits_misses(&e), (2, 1));
        for line in [
            "HMGET h a",
            "HLEN h",
            "HSTRLEN h a",
            "HEXISTS h a",
            "HKEYS h",
            "HVALS h",
            "HGETALL h",
            "HRANDFIELD h",
            "HRANDFIELD h 2",
            "HSCAN h 0",
            "HTTL h FIELDS 1 a",
        ] {
            c(&e, &mut s, line);
        }
        assert_eq!(hits_misses(&e), (13, 1));
        c(&e, &mut s, "HLEN nokey");
        c(&e, &mut s, "HPTTL nokey FIELDS 1 a");
        assert_eq!(hits_misses(&e), (13, 3));
    }

    // -----------------------------------------------------------------------------
    // Field expiry.
    // -----------------------------------------------------------------------------

    #[test]
    fn field_expiry_set_and_read() {
        let (e, mut s) = setup();
        c(&e, &mut s, "HSET h a 1 b 2 c 3");
        let at = unix_ms() + 100_000;
        assert_eq!(
            c(&e, &mut s, &format!("HPEXPIREAT h {at} FIELDS 2 a nope")),
            ints(&[1, -2])
        );
        assert_eq!(
            c(&e, &mut s, "HPEXPIRETIME h FIELDS 3 a b nope"),
            ints(&[at as i64, -1, -2])
        );
        assert_eq!(
            first_int(&c(&e, &mut s, "HEXPIRETIME h FIELDS 1 a")),
            (at as i64 + 999) / 1000
        );
        let pttl = first_int(&c(&e, &mut s, "HPTTL h FIELDS 1 a"));
        assert!((99_000..=100_000).contains(&pttl), "{pttl}");
        assert_eq!(first_int(&c(&e, &mut s, "HTTL h FIELDS 1 a")), 100);
        assert_eq!(c(&e, &mut s, "HTTL h FIELDS 2 b nope"), ints(&[-1, -2]));
        // Relative forms.
        assert_eq!(c(&e, &mut s, "HEXPIRE h 50 FIELDS 1 b"), ints(&[1]));
        let ttl = first_int(&c(&e, &mut s, "HPTTL h fields 1 b"));
        assert!((49_000..=50_000).contains(&ttl), "{ttl}");
        assert_eq!(c(&e, &mut s, "HPEXPIRE h 70000 FIELDS 1 b"), ints(&[1]));
        let ttl = first_int(&c(&e, &mut s, "HPTTL h FIELDS 1 b"));
        assert!((69_000..=70_000).contains(&ttl), "{ttl}");
        let secs = unix_ms() / 1000 + 300;
        assert_eq!(
            c(&e, &mut s, &format!("HEXPIREAT h {secs} FIELDS 1 c")),
            ints(&[1])
        );
        assert_eq!(
            c(&e, &mut s, "HPEXPIRETIME h FIELDS 1 c"),
            ints(&[secs as i64 * 1000])
        );
        assert_eq!(
            c(&e, &mut s, "HEXPIRETIME h FIELDS 1 c"),
            ints(&[secs as i64])
        );
        // The fields are still readable and the key has no expiry of its own.
        assert_eq!(c(&e, &mut s, "HGET h a"), bulk("1"));
        assert_eq!(c(&e, &mut s, "HLEN h"), int(3));
        assert_eq!(c(&e, &mut s, "TTL h"), int(-1));
        // HPERSIST.
        assert_eq!(
            c(&e, &mut s, "HPERSIST h FIELDS 3 a nope a"),
            ints(&[1, -2, -1])
        );
        assert_eq!(c(&e, &mut s, "HTTL h FIELDS 1 a"), ints(&[-1]));
        // A missing key reports -2 for every field.
        assert_eq!(c(&e, &mut s, "HTTL nokey FIELDS 2 a b"), ints(&[-2, -2]));
        assert_eq!(c(&e, &mut s, "HPERSIST nokey FIELDS 1 a"), ints(&[-2]));
        assert_eq!(
            c(&e, &mut s, "HEXPIRE nokey 10 FIELDS 2 a b"),
            ints(&[-2, -2])
        );
        assert_eq!(c(&e, &mut s, "EXISTS nokey"), int(0));
    }

    #[test]
    fn field_expiry_conditions() {
        let (e, mut s) = setup();
        c(&e, &mut s, "HSET h f 1 g 2");
        let t = unix_ms() + 100_000;
        let (early, late) = (t - 50_000, t + 50_000);
        let set = |e: &Engine, s: &mut Session, cond: &str, at: u64, field: &str| {
            first_int(&c(
                e,
                s,
                &format!("HPEXPIREAT h {at} {cond} FIELDS 1 {field}"),
            ))
        };
        // A field without expiry: NX and LT set it, XX and GT do not.
        assert_eq!(set(&e, &mut s, "XX", t, "f"), 0);
        assert_eq!(set(&e, &mut s, "GT", t, "f"), 0);
        assert_eq!(set(&e, &mut s, "LT", t, "g"), 1);
        assert_eq!(set(&e, &mut s, "NX", t, "f"), 1);
        // With an expiry: NX never, XX always, GT/LT only strictly.
        assert_eq!(set(&e, &mut s, "NX", late, "f"), 0);
        assert_eq!(set(&e, &mut s, "GT", t, "f"), 0);
        assert_eq!(set(&e, &mut s, "GT", early, "f"), 0);
        assert_eq!(set(&e, &mut s, "LT", t, "f"), 0);
        assert_eq!(set(&e, &mut s, "LT", late, "f"), 0);
        assert_eq!(set(&e, &mut s, "GT", late, "f"), 1);
        assert_eq!(set(&e, &mut s, "LT", early, "f"), 1);
        assert_eq!(set(&e, &mut s, "XX", t, "f"), 1);
        assert_eq!(set(&e, &mut s, "nx", t, "nope"), -2);
        assert_eq!(
            c(&e, &mut s, "HPEXPIRETIME h FIELDS 2 f g"),
            ints(&[t as i64, t as i64])
        );
        // Conditions are checked before a past time deletes the field.
        assert_eq!(c(&e, &mut s, "HPEXPIREAT h 1 NX FIELDS 1 f"), ints(&[0]));
        assert_eq!(c(&e, &mut s, "HPEXPIREAT h 1 GT FIELDS 1 f"), ints(&[0]));
        assert_eq!(c(&e, &mut s, "HPEXPIREAT h 1 LT FIELDS 1 f"), ints(&[2]));
        assert_eq!(c(&e, &mut s, "HEXISTS h f"), int(0));
        // Per-field results in one call.
        c(&e, &mut s, "HSET h a 1");
        assert_eq!(
            c(
                &e,
                &mut s,
                &format!("HPEXPIREAT h {late} GT FIELDS 3 g a nope")
            ),
            ints(&[1, 0, -2])
        );
    }

    #[test]
    fn field_expiry_in_the_past_deletes() {
        let (e, mut s) = setup();
        c(&e, &mut s, "HSET h a 1 b 2 c 3");
        assert_eq!(c(&e, &mut s, "HPEXPIREAT h 0 FIELDS 1 a"), ints(&[2]));
        assert_eq!(c(&e, &mut s, "HEXPIRE h 0 FIELDS 1 b"), ints(&[2]));
        assert_eq!(c(&e, &mut s, "HGET h a"), Frame::Null);
        assert_eq!(c(&e, &mut s, "HLEN h"), int(1));
        // The same field twice: set, then gone.
        assert_eq!(c(&e, &mut s, "HEXPIREAT h 1 FIELDS 2 c c"), ints(&[2, -2]));
        // The last field deleted takes the key with it.
        assert_eq!(c(&e, &mut s, "EXISTS h"), int(0));
    }

    #[test]
    fn fields_expire_on_their_own() {
        let (e, mut s) = setup();
        c(&e, &mut s, "HSET h a 1 b 2");
        c(&e, &mut s, "HSET g a 1");
        assert_eq!(c(&e, &mut s, "HPEXPIRE h 20 FIELDS 1 a"), ints(&[1]));
        assert_eq!(c(&e, &mut s, "HPEXPIRE g 20 FIELDS 1 a"), ints(&[1]));
        std::thread::sleep(std::time::Duration::from_millis(40));
        assert_eq!(c(&e, &mut s, "HGET h a"), Frame::Null);
        assert_eq!(c(&e, &mut s, "HEXISTS h a"), int(0));
        assert_eq!(c(&e, &mut s, "HTTL h FIELDS 2 a b"), ints(&[-2, -1]));
        assert_eq!(
            c(&e, &mut s, "HGETALL h"),
            Frame::Map(vec![(bulk("b"), bulk("2"))])
        );
        assert_eq!(c(&e, &mut s, "HKEYS h"), bulks(&["b"]));
        assert_eq!(c(&e, &mut s, "HRANDFIELD h -3"), bulks(&["b", "b", "b"]));
        // An expired field is a missing field for HSETNX; HGET removes g's last field.
        assert_eq!(c(&e, &mut s, "HGET g a"), Frame::Null);
        assert_eq!(c(&e, &mut s, "EXISTS g"), int(0));
        assert_eq!(c(&e, &mut s, "HPEXPIRE h 20 FIELDS 1 b"), ints(&[1]));
        std::thread::sleep(std::time::Duration::from_millis(40));
        assert_eq!(c(&e, &mut s, "HSETNX h b new"), int(1));
        assert_eq!(c(&e, &mut s, "HGET h b"), bulk("new"));
        assert_eq!(c(&e, &mut s, "HTTL h FIELDS 1 b"), ints(&[-1]));
    }

    #[test]
    fn writes_and_field_expiry() {
        let (e, mut s) = setup();
        c(&e, &mut s, "HSET h a 1 n 5 x 1.5");
        let at = unix_ms() + 100_000;
        c(&e, &mut s, &format!("HPEXPIREAT h {at} FIELDS 3 a n x"));
        // HINCRBY and HINCRBYFLOAT keep the field's expiry; HSET and HMSET clear it.
        assert_eq!(c(&e, &mut s, "HINCRBY h n 1"), int(6));
        assert_eq!(c(&e, &mut s, "HINCRBYFLOAT h x 1"), bulk("2.5"));
        assert_eq!(
            c(&e, &mut s, "HPEXPIRETIME h FIELDS 2 n x"),
            ints(&[at as i64, at as i64])
        );
        assert_eq!(c(&e, &mut s, "HSET h a 2"), int(0));
        assert_eq!(c(&e, &mut s, "HMSET h n 1"), Frame::ok());
        assert_eq!(
            c(&e, &mut s, "HPEXPIRETIME h FIELDS 3 a n x"),
            ints(&[-1, -1, at as i64])
        );
        // HDEL removes a volatile field like any other.
        assert_eq!(c(&e, &mut s, "HDEL h x"), int(1));
        assert_eq!(c(&e, &mut s, "HTTL h FIELDS 1 x"), ints(&[-2]));
    }

    #[test]
    fn field_expiry_argument_errors() {
        let (e, mut s) = setup();
        c(&e, &mut s, "HSET h f 1");
        c(&e, &mut s, "SET str x");
        let fields_missing =
            err("ERR Mandatory argument FIELDS is missing or not at the right position");
        let count = err("ERR Parameter `numFields` should be greater than 0");
        let mismatch = err("ERR The `numfields` parameter must match the number of arguments");
        assert_eq!(c(&e, &mut s, "HEXPIRE h 10 FIELD 1 f"), fields_missing);
        assert_eq!(
            c(&e, &mut s, "HEXPIRE h 10 NX XX FIELDS 1 f"),
            fields_missing
        );
        assert_eq!(
            c(&e, &mut s, "HEXPIRE h 10 BOGUS FIELDS 1 f"),
            fields_missing
        );
        assert_eq!(c(&e, &mut s, "HEXPIRE h 10 1 FIELDS f"), fields_missing);
        assert_eq!(c(&e, &mut s, "HEXPIRE h 10 FIELDS 0 f"), count);
        assert_eq!(c(&e, &mut s, "HEXPIRE h 10 FIELDS -1 f"), count);
        assert_eq!(c(&e, &mut s, "HEXPIRE h 10 FIELDS abc f"), count);
        assert_eq!(c(&e, &mut s, "HEXPIRE h 10 NX FIELDS 0 f"), count);
        assert_eq!(c(&e, &mut s, "HEXPIRE h 10 FIELDS 2 f"), mismatch);
        assert_eq!(c(&e, &mut s, "HEXPIRE h 10 FIELDS 1 f g"), mismatch);
        assert_eq!(c(&e, &mut s, "HEXPIRE h 10 NX FIELDS 1"), mismatch);
        // The time is checked before the options.
        assert_eq!(c(&e, &mut s, "HEXPIRE h abc FIELD 1 f"), not_integer());
        assert_eq!(c(&e, &mut s, "HPEXPIRE h 1.5 FIELDS 1 f"), not_integer());
        let negative = err("ERR invalid expire time, must be >= 0");
        assert_eq!(c(&e, &mut s, "HEXPIRE h -1 FIELDS 1 f"), negative);
        assert_eq!(c(&e, &mut s, "HPEXPIREAT h -1 BOGUS 1 f"), negative);
        // The largest time is 2^46 - 1 ms.
        let max = (1i64 << 46) - 1;
        let invalid = |cmd: &str| err(&format!("ERR invalid expire time in '{cmd}' command"));
        assert_eq!(
            c(&e, &mut s, &format!("HPEXPIREAT h {} FIELDS 1 f", max + 1)),
            invalid("hpexpireat")
        );
        assert_eq!(
            c(
                &e,
                &mut s,
                &format!("HEXPIREAT h {} FIELDS 1 f", max / 1000 + 1)
            ),
            invalid("hexpireat")
        );
        assert_eq!(
            c(&e, &mut s, &format!("HPEXPIRE h {max} FIELDS 1 f")),
            invalid("hpexpire")
        );
        assert_eq!(
            c(&e, &mut s, &format!("HEXPIRE h {} FIELDS 1 f", max / 1000)),
            invalid("hexpire")
        );
        assert_eq!(
            c(&e, &mut s, "HEXPIRE h 9223372036854775807 FIELDS 1 f"),
            invalid("hexpire")
        );
        assert_eq!(
            c(&e, &mut s, &format!("HPEXPIREAT h {max} FIELDS 1 f")),
            ints(&[1])
        );
        assert_eq!(c(&e, &mut s, "HPEXPIRETIME h FIELDS 1 f"), ints(&[max]));
        // WRONGTYPE comes first; a missing key still has its arguments checked.
        assert_eq!(c(&e, &mut s, "HEXPIRE str abc FIELD 1 f"), wrongtype());
        assert_eq!(c(&e, &mut s, "HEXPIRE nokey 10 FIELDS 2 f"), mismatch);
        assert_eq!(c(&e, &mut s, "HEXPIRE nokey -1 FIELDS 1 f"), negative);
        // Arity.
        for cmd in ["hexpire", "hpexpire", "hexpireat", "hpexpireat"] {
            assert_eq!(
                run(&e, &mut s, &[cmd, "h", "10", "FIELDS", "1"]),
                arity(cmd)
            );
        }
    }

    #[test]
    fn field_ttl_argument_errors() {
        let (e, mut s) = setup();
        c(&e, &mut s, "HSET h f 1");
        c(&e, &mut s, "SET str x");
        let fields_missing =
            err("ERR Mandatory argument FIELDS is missing or not at the right position");
        let count = err("ERR Number of fields must be a positive integer");
        let mismatch = err("ERR The `numfields` parameter must match the number of arguments");
        for cmd in ["httl", "hpttl", "hexpiretime", "hpexpiretime", "hpersist"] {
            let line = |rest: &str| format!("{cmd} {rest}");
            assert_eq!(c(&e, &mut s, &line("h FIELDS 1 f")), ints(&[-1]), "{cmd}");
            assert_eq!(c(&e, &mut s, &line("h fields 1 f")), ints(&[-1]), "{cmd}");
            assert_eq!(c(&e, &mut s, &line("h FIELD 1 f")), fields_missing, "{cmd}");
            assert_eq!(
                c(&e, &mut s, &line("h 1 FIELDS f")),
                fields_missing,
                "{cmd}"
            );
            assert_eq!(c(&e, &mut s, &line("h FIELDS 0 f")), count, "{cmd}");
            assert_eq!(c(&e, &mut s, &line("h FIELDS x f")), count, "{cmd}");
            assert_eq!(c(&e, &mut s, &line("h FIELDS 2 f")), mismatch, "{cmd}");
            assert_eq!(c(&e, &mut s, &line("h FIELDS 1 f f")), mismatch, "{cmd}");
            assert_eq!(c(&e, &mut s, &line("nokey FIELDS 2 f")), mismatch, "{cmd}");
            assert_eq!(c(&e, &mut s, &line("str FIELDS 1 f")), wrongtype(), "{cmd}");
            assert_eq!(c(&e, &mut s, &line("str FIELD 1 f")), wrongtype(), "{cmd}");
            assert_eq!(c(&e, &mut s, &line("h FIELDS 1")), arity(cmd), "{cmd}");
        }
    }
}
