//! List commands (the non-blocking ones): pushes, pops (with COUNT), LMPOP, LMOVE and
//! RPOPLPUSH, ranges, LINDEX/LSET, LINSERT, LREM, LTRIM and LPOS, with Redis 7.0's
//! replies, errors and keyspace statistics.
//!
//! Every command works on list ends, one index or a bounded walk through
//! [`ListOps`], so a backend keeping a list on disk never has to load all of it. The
//! blocking variants live in `commands::blocking` and reuse [`pop_many`],
//! [`move_one`], [`parse_end`] and [`mpop_reply`].

use bytes::Bytes;
use ferrokv_protocol::Frame;

use crate::command::{CmdError, CmdFlags, CmdResult, CommandSpec, Ctx, KeyPositions};
use crate::commands::args::{int, is};
use crate::notify;
use crate::propagate::{arg, int_arg};
use crate::storage::{self, End, KeyType, ListOps};
use crate::util::slices::SliceBuffer;

const LIST: &[&str] = &["list"];
const WRITE_OOM: CmdFlags = CmdFlags::WRITE.or(CmdFlags::DENYOOM);
const WRITE_OOM_FAST: CmdFlags = WRITE_OOM.or(CmdFlags::FAST);
const WRITE_FAST: CmdFlags = CmdFlags::WRITE.or(CmdFlags::FAST);
const READ_FAST: CmdFlags = CmdFlags::READONLY.or(CmdFlags::FAST);

/// A list command spec with the family's defaults.
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
        acl: LIST,
        keys: KeyPositions::FIRST,
        group: "list",
        since,
        summary,
        syntax,
        handler: Some(handler),
        ..CommandSpec::DEFAULT
    }
}

/// List command specs.
pub static COMMANDS: &[CommandSpec] = &[
    spec(
        "lpush",
        -3,
        WRITE_OOM_FAST,
        "1.0.0",
        "Prepends one or more elements to a list. Creates the key if it doesn't exist.",
        "key element [element ...]",
        lpush,
    ),
    spec(
        "rpush",
        -3,
        WRITE_OOM_FAST,
        "1.0.0",
        "Appends one or more elements to a list. Creates the key if it doesn't exist.",
        "key element [element ...]",
        rpush,
    ),
    spec(
        "lpushx",
        -3,
        WRITE_OOM_FAST,
        "2.2.0",
        "Prepends one or more elements to a list only when the list exists.",
        "key element [element ...]",
        lpushx,
    ),
    spec(
        "rpushx",
        -3,
        WRITE_OOM_FAST,
        "2.2.0",
        "Appends an element to a list only when the list exists.",
        "key element [element ...]",
        rpushx,
    ),
    spec(
        "lpop",
        -2,
        WRITE_FAST,
        "1.0.0",
        "Returns the first elements in a list after removing it. Deletes the list if the last element was popped.",
        "key [count]",
        lpop,
    ),
    spec(
        "rpop",
        -2,
        WRITE_FAST,
        "1.0.0",
        "Returns and removes the last elements of the list. Deletes the list if the last element was popped.",
        "key [count]",
        rpop,
    ),
    spec("llen", 2, READ_FAST, "1.0.0", "Returns the length of a list.", "key", llen),
    spec(
        "lrange",
        4,
        CmdFlags::READONLY,
        "1.0.0",
        "Returns a range of elements from a list.",
        "key start stop",
        lrange,
    ),
    spec(
        "lindex",
        3,
        CmdFlags::READONLY,
        "1.0.0",
        "Returns an element from a list by its index.",
        "key index",
        lindex,
    ),
    spec(
        "lset",
        4,
        WRITE_OOM,
        "1.0.0",
        "Sets the value of an element in a list by its index.",
        "key index element",
        lset,
    ),
    spec(
        "linsert",
        5,
        WRITE_OOM,
        "2.2.0",
        "Inserts an element before or after another element in a list.",
        "key <BEFORE | AFTER> pivot element",
        linsert,
    ),
    spec(
        "lrem",
        4,
        CmdFlags::WRITE,
        "1.0.0",
        "Removes elements from a list. Deletes the list if the last element was removed.",
        "key count element",
        lrem,
    ),
    spec(
        "ltrim",
        4,
        CmdFlags::WRITE,
        "1.0.0",
        "Removes elements from both ends a list. Deletes the list if all elements were trimmed.",
        "key start stop",
        ltrim,
    ),
    spec(
        "lpos",
        -3,
        CmdFlags::READONLY,
        "6.0.6",
        "Returns the index of matching elements in a list.",
        "key element [RANK rank] [COUNT num-matches] [MAXLEN len]",
        lpos,
    ),
    CommandSpec {
        keys: KeyPositions::new(1, 2, 1),
        ..spec(
            "lmove",
            5,
            WRITE_OOM,
            "6.2.0",
            "Returns an element after popping it from one list and pushing it to another. Deletes the list if the last element was moved.",
            "source destination <LEFT | RIGHT> <LEFT | RIGHT>",
            lmove,
        )
    },
    CommandSpec {
        keys: KeyPositions::new(1, 2, 1),
        ..spec(
            "rpoplpush",
            3,
            WRITE_OOM,
            "1.2.0",
            "Returns the last element of a list after removing and pushing it to another list. Deletes the list if the last element was popped.",
            "source destination",
            rpoplpush,
        )
    },
    CommandSpec {
        keys: KeyPositions::numkeys(1),
        ..spec(
            "lmpop",
            -4,
            CmdFlags::WRITE,
            "7.0.0",
            "Returns multiple elements from a list after removing them. Deletes the list if the last element was popped.",
            "numkeys key [key ...] <LEFT | RIGHT> [COUNT count]",
            lmpop,
        )
    },
];

// ---------------------------------------------------------------------------------
// Building blocks shared with the blocking commands.
// ---------------------------------------------------------------------------------

/// Pops up to `count` elements from `end` of the list at `key`, in popping order, as
/// `LPOP key count` and LMPOP do (a count of 0 pops nothing but still checks the key).
/// `None` means the key does not exist; a key of another type is a `WRONGTYPE` error.
/// The key is deleted when its last element goes.
pub(crate) fn pop_many(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    end: End,
    count: usize,
) -> Result<Option<Vec<Bytes>>, CmdError> {
    let db = ctx.db();
    let mut emptied = false;
    let popped = storage::with_list(ctx.txn, db, key, false, |l| {
        let n = count.min(l.len());
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            match l.pop(end) {
                Some(v) => out.push(v),
                None => break,
            }
        }
        emptied = l.is_empty();
        out
    })?;
    if popped.as_ref().is_some_and(|p| !p.is_empty()) {
        ctx.notify(notify::LIST, pop_event(end), key);
        if emptied {
            ctx.notify(notify::GENERIC, "del", key);
        }
    }
    Ok(popped)
}

/// Moves one element from the `from` end of `src` to the `to` end of `dst` (LMOVE,
/// RPOPLPUSH) and returns it; `None` when `src` does not exist. As in Redis, the
/// destination's type is checked before anything is popped, so a `WRONGTYPE`
/// destination leaves the source untouched; a missing source is not an error even if
/// the destination has another type. With `src == dst` the list is rotated in place
/// (it keeps its expiry, even with a single element).
pub(crate) fn move_one(
    ctx: &mut Ctx<'_>,
    src: &[u8],
    dst: &[u8],
    from: End,
    to: End,
) -> Result<Option<Bytes>, CmdError> {
    let db = ctx.db();
    if src == dst {
        let moved = storage::with_list(ctx.txn, db, src, false, |l| {
            let v = l.pop(from)?;
            l.push(to, &v);
            Some(v)
        })?
        .flatten();
        if moved.is_some() {
            // Redis announces the push, then the pop, as for two lists.
            ctx.notify(notify::LIST, push_event(to), dst);
            ctx.notify(notify::LIST, pop_event(from), src);
        }
        return Ok(moved);
    }
    let dst_meta = ctx.txn.meta(db, dst)?;
    let dst_is_list = dst_meta.is_none_or(|m| m.key_type == KeyType::List);
    if !dst_is_list {
        // Redis looks at the source first: a missing one is nil whatever `dst` holds.
        return match ctx.txn.meta(db, src)? {
            None => Ok(None),
            Some(_) => Err(CmdError::wrong_type()),
        };
    }
    let mut emptied = false;
    let popped = storage::with_list(ctx.txn, db, src, false, |l| {
        let v = l.pop(from);
        emptied = l.is_empty();
        v
    })?;
    let Some(value) = popped.flatten() else {
        return Ok(None);
    };
    storage::with_list(ctx.txn, db, dst, true, |l| l.push(to, &value))?;
    // Redis' order: the push (creating `dst`), then the pop and the source's deletion.
    ctx.notify_new(dst_meta.is_none() && ctx.notifying(notify::NEW), dst);
    ctx.notify(notify::LIST, push_event(to), dst);
    ctx.notify(notify::LIST, pop_event(from), src);
    if emptied {
        ctx.notify(notify::GENERIC, "del", src);
    }
    Ok(Some(value))
}

/// The keyspace event of a pop at `end`.
fn pop_event(end: End) -> &'static str {
    match end {
        End::Head => "lpop",
        End::Tail => "rpop",
    }
}

/// The keyspace event of a push at `end`.
fn push_event(end: End) -> &'static str {
    match end {
        End::Head => "lpush",
        End::Tail => "rpush",
    }
}

/// Parses a `LEFT`/`RIGHT` argument (case-insensitive) into the list end it names, as
/// Redis' `getListPositionFromObjectOrReply`; anything else is a syntax error.
pub(crate) fn parse_end(arg: &[u8]) -> Result<End, CmdError> {
    if is(arg, "left") {
        Ok(End::Head)
    } else if is(arg, "right") {
        Ok(End::Tail)
    } else {
        Err(CmdError::syntax())
    }
}

/// LMPOP's (and BLMPOP's) reply: the key the elements came from, then the elements.
pub(crate) fn mpop_reply(key: Bytes, items: Vec<Bytes>) -> Frame {
    Frame::Array(vec![Frame::Bulk(key), bulk_array(items)])
}

// ---------------------------------------------------------------------------------
// Helpers.
// ---------------------------------------------------------------------------------

/// An array of bulk strings.
fn bulk_array(items: Vec<Bytes>) -> Frame {
    Frame::Array(items.into_iter().map(Frame::Bulk).collect())
}

/// Runs a read-only `body` on the list at `key` as Redis' `lookupKeyRead` does for
/// LLEN, LRANGE, LINDEX and LPOS: counts a keyspace hit (a key of another type is a
/// hit, then `WRONGTYPE`) or a miss (`None`). Write commands count nothing, as in Redis.
fn read_list<R>(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    body: impl FnOnce(&mut dyn ListOps) -> R,
) -> Result<Option<R>, CmdError> {
    let db = ctx.db();
    let found = storage::with_list(ctx.txn, db, key, false, body);
    ctx.counted_read(key, found)
}

/// Resolves Redis' inclusive `start stop` range (negative counts from the end) against
/// a list of `len` elements: the half-open index range, or `None` when it is empty.
fn resolve_range(start: i64, stop: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let mut start = if start < 0 { start + len } else { start };
    let stop = if stop < 0 { stop + len } else { stop };
    if start < 0 {
        start = 0;
    }
    if start > stop || start >= len {
        return None;
    }
    let stop = stop.min(len - 1);
    Some((start as usize, stop as usize + 1))
}

/// Resolves a single index (negative counts from the end); `None` when out of range.
fn resolve_index(index: i64, len: usize) -> Option<usize> {
    let len = len as i64;
    let index = if index < 0 { index + len } else { index };
    (0..len).contains(&index).then_some(index as usize)
}

// ---------------------------------------------------------------------------------
// Pushes.
// ---------------------------------------------------------------------------------

/// LPUSH, RPUSH, LPUSHX and RPUSHX (`only_existing`), as Redis' `pushGenericCommand`:
/// the reply is the new length, or 0 when an X variant finds no list.
fn push_generic(ctx: &mut Ctx<'_>, argv: &[Bytes], end: End, only_existing: bool) -> CmdResult {
    let db = ctx.db();
    let mut created = false;
    let len = storage::with_list(ctx.txn, db, &argv[1], !only_existing, |l| {
        // Stored lists are never empty: an empty one is being created.
        created = l.is_empty();
        for value in &argv[2..] {
            l.push(end, value);
        }
        l.len()
    })?;
    if len.is_some() {
        ctx.notify_new(created && ctx.notifying(notify::NEW), &argv[1]);
        ctx.notify(notify::LIST, push_event(end), &argv[1]);
    }
    Ok(Frame::Integer(len.unwrap_or(0) as i64))
}

fn lpush(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    push_generic(ctx, argv, End::Head, false)
}

fn rpush(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    push_generic(ctx, argv, End::Tail, false)
}

fn lpushx(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    push_generic(ctx, argv, End::Head, true)
}

fn rpushx(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    push_generic(ctx, argv, End::Tail, true)
}

// ---------------------------------------------------------------------------------
// Pops and moves.
// ---------------------------------------------------------------------------------

/// A non-negative integer argument, as Redis' `getPositiveLongFromObjectOrReply`:
/// a non-integer and a negative value both fail with `ERR <msg>`.
fn positive(arg: &[u8], msg: &str) -> Result<i64, CmdError> {
    match int(arg) {
        Ok(n) if n >= 0 => Ok(n),
        _ => Err(CmdError::err(msg)),
    }
}

/// LPOP and RPOP, as Redis' `popGenericCommand`: without a count the reply is one bulk
/// (nil for a missing key); with one it is an array (a null array for a missing key,
/// an empty array for a count of 0).
fn pop_generic(ctx: &mut Ctx<'_>, argv: &[Bytes], end: End) -> CmdResult {
    let name = if end == End::Head { "lpop" } else { "rpop" };
    if argv.len() > 3 {
        return Err(CmdError::arity(name));
    }
    let count = match argv.get(2) {
        Some(arg) => Some(positive(arg, "value is out of range, must be positive")?),
        None => None,
    };
    let n = count.map_or(1, |c| usize::try_from(c).unwrap_or(usize::MAX));
    let popped = pop_many(ctx, &argv[1], end, n)?;
    Ok(match (popped, count) {
        (None, None) => Frame::Null,
        (None, Some(_)) => Frame::NullArray,
        (Some(items), Some(_)) => bulk_array(items),
        (Some(items), None) => items.into_iter().next().map_or(Frame::Null, Frame::Bulk),
    })
}

fn lpop(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    pop_generic(ctx, argv, End::Head)
}

fn rpop(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    pop_generic(ctx, argv, End::Tail)
}

/// `LMPOP numkeys key [key ...] <LEFT | RIGHT> [COUNT count]`, as Redis'
/// `lmpopGenericCommand`: the first non-empty list among the keys gives up to `count`
/// elements; a key of another type met before one is found is `WRONGTYPE`.
fn lmpop(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let numkeys = match int(&argv[1]) {
        Ok(n) if n >= 1 => n as u64,
        _ => return Err(CmdError::err("numkeys should be greater than 0")),
    };
    // Checked so that a huge numkeys is a syntax error instead of an overflow.
    let where_idx = match numkeys.checked_add(2) {
        Some(i) if i < argv.len() as u64 => i as usize,
        _ => return Err(CmdError::syntax()),
    };
    let end = parse_end(&argv[where_idx])?;
    let mut count = None;
    let mut j = where_idx + 1;
    while j < argv.len() {
        if count.is_none() && is(&argv[j], "count") && j + 1 < argv.len() {
            j += 1;
            match int(&argv[j]) {
                Ok(n) if n >= 1 => count = Some(usize::try_from(n).unwrap_or(usize::MAX)),
                _ => return Err(CmdError::err("count should be greater than 0")),
            }
        } else {
            return Err(CmdError::syntax());
        }
        j += 1;
    }
    let count = count.unwrap_or(1);
    for key in &argv[2..where_idx] {
        if let Some(items) = pop_many(ctx, key, end, count)? {
            ctx.propagate_as(pop_command(end, key, Some(items.len())));
            return Ok(mpop_reply(key.clone(), items));
        }
    }
    Ok(Frame::NullArray)
}

/// How a pop from `key` is propagated (Redis rewrites LMPOP and the blocking pops
/// this way): `LPOP`/`RPOP key [count]`.
pub fn pop_command(end: End, key: &Bytes, count: Option<usize>) -> Vec<Bytes> {
    let name = if end == End::Head { "LPOP" } else { "RPOP" };
    let mut argv = vec![arg(name), key.clone()];
    argv.extend(count.map(|n| int_arg(n as i64)));
    argv
}

/// LMOVE and RPOPLPUSH: the moved element, or nil when the source is missing.
fn move_reply(ctx: &mut Ctx<'_>, argv: &[Bytes], from: End, to: End) -> CmdResult {
    Ok(move_one(ctx, &argv[1], &argv[2], from, to)?.map_or(Frame::Null, Frame::Bulk))
}

fn lmove(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let from = parse_end(&argv[3])?;
    let to = parse_end(&argv[4])?;
    move_reply(ctx, argv, from, to)
}

fn rpoplpush(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    move_reply(ctx, argv, End::Tail, End::Head)
}

// ---------------------------------------------------------------------------------
// Reads.
// ---------------------------------------------------------------------------------

fn llen(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let len = read_list(ctx, &argv[1], |l| l.len())?;
    Ok(Frame::Integer(len.unwrap_or(0) as i64))
}

/// LRANGE: the indexes are parsed before the key is looked up, as in Redis.
fn lrange(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let start = int(&argv[2])?;
    let stop = int(&argv[3])?;
    let items = read_list(ctx, &argv[1], |l| {
        let Some((from, to)) = resolve_range(start, stop, l.len()) else {
            return Vec::new();
        };
        let mut out = SliceBuffer::with_capacity(to - from);
        l.iter(from, false, &mut |i, v| {
            if i >= to {
                return false;
            }
            out.push(v);
            i + 1 < to
        });
        out.into_bytes().map(Frame::Bulk).collect()
    })?;
    Ok(Frame::Array(items.unwrap_or_default()))
}

/// LINDEX: the key is looked up before the index is parsed, as in Redis (a missing
/// key replies nil whatever the index).
fn lindex(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let index = &argv[2];
    let value = read_list(ctx, &argv[1], |l| {
        let index = int(index)?;
        Ok::<_, CmdError>(resolve_index(index, l.len()).and_then(|i| l.get(i)))
    })?;
    match value {
        None => Ok(Frame::Null),
        Some(found) => Ok(found?.map_or(Frame::Null, Frame::Bulk)),
    }
}

/// The options of LPOS.
struct LposOptions {
    rank: i64,
    count: Option<i64>,
    maxlen: i64,
}

/// Parses `[RANK rank] [COUNT num-matches] [MAXLEN len]` as Redis' `lposCommand`
/// (repeated options: the last wins).
fn parse_lpos(argv: &[Bytes]) -> Result<LposOptions, CmdError> {
    let mut opts = LposOptions {
        rank: 1,
        count: None,
        maxlen: 0,
    };
    let mut j = 3;
    while j < argv.len() {
        let opt = &argv[j][..];
        let value = argv.get(j + 1);
        match value {
            Some(v) if is(opt, "rank") => {
                opts.rank = int(v)?;
                if opts.rank == 0 {
                    return Err(CmdError::err(
                        "RANK can't be zero: use 1 to start from the first match, 2 from the \
                         second ... or use negative to start from the end of the list",
                    ));
                }
            }
            Some(v) if is(opt, "count") => {
                opts.count = Some(positive(v, "COUNT can't be negative")?);
            }
            Some(v) if is(opt, "maxlen") => {
                opts.maxlen = positive(v, "MAXLEN can't be negative")?;
            }
            _ => return Err(CmdError::syntax()),
        }
        j += 2;
    }
    Ok(opts)
}

/// LPOS: walks from the head (or from the tail for a negative rank) and stops at the
/// match wanted, after `count` matches, or after `maxlen` elements.
fn lpos(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let opts = parse_lpos(argv)?;
    let element = &argv[2][..];
    // Redis negates the rank in a C long: RANK -9223372036854775808 stays negative,
    // which makes every match qualify and COUNT never stop the walk. Wrapping
    // arithmetic reproduces that exactly.
    let rev = opts.rank < 0;
    let rank = if rev {
        opts.rank.wrapping_neg()
    } else {
        opts.rank
    };
    let count = opts.count;
    let found = read_list(ctx, &argv[1], |l| {
        let len = l.len();
        let mut hits: Vec<i64> = Vec::new();
        let mut matches: i64 = 0;
        let mut scanned: i64 = 0;
        let start = if rev { len.saturating_sub(1) } else { 0 };
        l.iter(start, rev, &mut |i, v| {
            if opts.maxlen != 0 && scanned >= opts.maxlen {
                return false;
            }
            scanned += 1;
            if v != element {
                return true;
            }
            matches += 1;
            if matches < rank {
                return true;
            }
            hits.push(i as i64);
            match count {
                None => false,
                Some(0) => true,
                Some(c) => matches.wrapping_sub(rank).wrapping_add(1) < c,
            }
        });
        hits
    })?;
    Ok(match (found, count) {
        (None, Some(_)) => Frame::Array(Vec::new()),
        (None, None) => Frame::Null,
        (Some(hits), Some(_)) => Frame::Array(hits.into_iter().map(Frame::Integer).collect()),
        (Some(hits), None) => hits.first().map_or(Frame::Null, |&i| Frame::Integer(i)),
    })
}

// ---------------------------------------------------------------------------------
// Edits.
// ---------------------------------------------------------------------------------

/// LSET: `ERR no such key` and `WRONGTYPE` come before the index is parsed, as in Redis.
fn lset(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let db = ctx.db();
    let (index, value) = (&argv[2], &argv[3]);
    let done = storage::with_list(ctx.txn, db, &argv[1], false, |l| {
        let index = int(index)?;
        match resolve_index(index, l.len()) {
            Some(i) if l.set(i, value) => Ok(Frame::ok()),
            _ => Err(CmdError::err("index out of range")),
        }
    })?;
    let done = done.unwrap_or_else(|| Err(CmdError::err("no such key")))?;
    ctx.notify(notify::LIST, "lset", &argv[1]);
    Ok(done)
}

/// LINSERT: the new length, -1 when the pivot is not found, 0 when the key is missing.
fn linsert(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let after = if is(&argv[2], "after") {
        true
    } else if is(&argv[2], "before") {
        false
    } else {
        return Err(CmdError::syntax());
    };
    let db = ctx.db();
    let (pivot, value) = (&argv[3][..], &argv[4]);
    let len = storage::with_list(ctx.txn, db, &argv[1], false, |l| {
        let mut at = None;
        l.iter(0, false, &mut |i, v| {
            if v == pivot {
                at = Some(i);
                return false;
            }
            true
        });
        let at = at?;
        l.insert(if after { at + 1 } else { at }, value);
        Some(l.len() as i64)
    })?;
    if matches!(len, Some(Some(_))) {
        ctx.notify(notify::LIST, "linsert", &argv[1]);
    }
    Ok(Frame::Integer(match len {
        None => 0,
        Some(len) => len.unwrap_or(-1),
    }))
}

/// LREM: removes the first `count` matches from the head (from the tail when
/// negative, all of them when 0) and replies how many went.
fn lrem(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let count = int(&argv[2])?;
    let db = ctx.db();
    let element = &argv[3][..];
    let rev = count < 0;
    let limit = count.unsigned_abs();
    let removed = storage::with_list(ctx.txn, db, &argv[1], false, |l| {
        let mut found: Vec<usize> = Vec::new();
        let start = if rev { l.len().saturating_sub(1) } else { 0 };
        l.iter(start, rev, &mut |i, v| {
            if v == element {
                found.push(i);
                if limit != 0 && found.len() as u64 == limit {
                    return false;
                }
            }
            true
        });
        if rev {
            found.reverse();
        }
        if !found.is_empty() {
            l.remove(&found);
        }
        (found.len(), l.is_empty())
    })?;
    let (removed, emptied) = removed.unwrap_or((0, false));
    if removed > 0 {
        ctx.notify(notify::LIST, "lrem", &argv[1]);
        if emptied {
            ctx.notify(notify::GENERIC, "del", &argv[1]);
        }
    }
    Ok(Frame::Integer(removed as i64))
}

/// LTRIM: keeps the inclusive range; an empty range deletes the list.
fn ltrim(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let start = int(&argv[2])?;
    let stop = int(&argv[3])?;
    let db = ctx.db();
    let trimmed = storage::with_list(ctx.txn, db, &argv[1], false, |l| {
        let len = l.len();
        match resolve_range(start, stop, len) {
            Some((0, to)) if to == len => {}
            Some((from, to)) => l.trim(from, to),
            None => l.trim(0, 0),
        }
        l.is_empty()
    })?;
    if let Some(emptied) = trimmed {
        ctx.notify(notify::LIST, "ltrim", &argv[1]);
        if emptied {
            ctx.notify(notify::GENERIC, "del", &argv[1]);
        }
    }
    Ok(Frame::ok())
}

#[cfg(test)]
mod tests {
    use super::{resolve_index, resolve_range};
    use crate::engine::Engine;
    use crate::stats::Stats;
    use crate::storage::Scope;
    use crate::testing::{engine, run, session};
    use crate::Session;
    use bytes::Bytes;
    use ferrokv_protocol::Frame;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    fn err(msg: &str) -> Frame {
        Frame::error(msg)
    }

    fn int(n: i64) -> Frame {
        Frame::Integer(n)
    }

    fn bulk(s: &str) -> Frame {
        Frame::bulk(s)
    }

    fn bulks(items: &[&str]) -> Frame {
        Frame::Array(items.iter().map(|s| bulk(s)).collect())
    }

    fn ints(items: &[i64]) -> Frame {
        Frame::Array(items.iter().map(|&n| int(n)).collect())
    }

    fn empty() -> Frame {
        Frame::Array(Vec::new())
    }

    fn arity(cmd: &str) -> Frame {
        err(&format!(
            "ERR wrong number of arguments for '{cmd}' command"
        ))
    }

    fn syntax() -> Frame {
        err("ERR syntax error")
    }

    fn not_int() -> Frame {
        err("ERR value is not an integer or out of range")
    }

    fn wrongtype() -> Frame {
        err("WRONGTYPE Operation against a key holding the wrong kind of value")
    }

    fn setup() -> (Engine, Session) {
        let e = engine();
        let s = session(&e);
        (e, s)
    }

    fn list(e: &Engine, s: &mut Session, key: &str) -> Frame {
        run(e, s, &["LRANGE", key, "0", "-1"])
    }

    fn exists(e: &Engine, s: &mut Session, key: &str) -> bool {
        run(e, s, &["EXISTS", key]) == int(1)
    }

    fn hits_misses(e: &Engine) -> (u64, u64) {
        (
            Stats::get(&e.stats.keyspace_hits),
            Stats::get(&e.stats.keyspace_misses),
        )
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

    #[test]
    fn range_resolution() {
        assert_eq!(resolve_range(0, -1, 3), Some((0, 3)));
        assert_eq!(resolve_range(-100, 100, 3), Some((0, 3)));
        assert_eq!(resolve_range(1, 1, 3), Some((1, 2)));
        assert_eq!(resolve_range(2, 1, 3), None);
        assert_eq!(resolve_range(3, 10, 3), None);
        assert_eq!(resolve_range(-1, -2, 3), None);
        assert_eq!(resolve_range(i64::MIN, i64::MAX, 3), Some((0, 3)));
        assert_eq!(resolve_range(0, i64::MIN, 3), None);
        assert_eq!(resolve_index(-1, 3), Some(2));
        assert_eq!(resolve_index(-4, 3), None);
        assert_eq!(resolve_index(3, 3), None);
        assert_eq!(resolve_index(i64::MIN, 3), None);
        assert_eq!(resolve_index(i64::MAX, 3), None);
    }

    #[test]
    fn push_and_len() {
        let (e, mut s) = setup();
        assert_eq!(run(&e, &mut s, &["LPUSH", "k", "a"]), int(1));
        assert_eq!(run(&e, &mut s, &["LPUSH", "k", "b", "c"]), int(3));
        assert_eq!(run(&e, &mut s, &["RPUSH", "k", "x", "y"]), int(5));
        assert_eq!(list(&e, &mut s, "k"), bulks(&["c", "b", "a", "x", "y"]));
        assert_eq!(run(&e, &mut s, &["LLEN", "k"]), int(5));
        assert_eq!(run(&e, &mut s, &["LLEN", "missing"]), int(0));
        // The X variants only push onto an existing list.
        assert_eq!(run(&e, &mut s, &["LPUSHX", "none", "a"]), int(0));
        assert_eq!(run(&e, &mut s, &["RPUSHX", "none", "a", "b"]), int(0));
        assert!(!exists(&e, &mut s, "none"));
        assert_eq!(run(&e, &mut s, &["LPUSHX", "k", "h1", "h2"]), int(7));
        assert_eq!(run(&e, &mut s, &["RPUSHX", "k", "t"]), int(8));
        assert_eq!(
            list(&e, &mut s, "k"),
            bulks(&["h2", "h1", "c", "b", "a", "x", "y", "t"])
        );
        assert_eq!(run(&e, &mut s, &["TYPE", "k"]), Frame::simple("list"));
        // Empty and binary elements are kept as they are.
        assert_eq!(run(&e, &mut s, &["RPUSH", "bin", "", "\r\n"]), int(2));
        assert_eq!(list(&e, &mut s, "bin"), bulks(&["", "\r\n"]));
    }

    #[test]
    fn push_errors() {
        let (e, mut s) = setup();
        run(&e, &mut s, &["SET", "str", "v"]);
        for cmd in ["LPUSH", "RPUSH", "LPUSHX", "RPUSHX"] {
            assert_eq!(run(&e, &mut s, &[cmd, "str", "a"]), wrongtype(), "{cmd}");
            assert_eq!(
                run(&e, &mut s, &[cmd, "k"]),
                arity(&cmd.to_ascii_lowercase())
            );
            assert_eq!(run(&e, &mut s, &[cmd]), arity(&cmd.to_ascii_lowercase()));
        }
        assert_eq!(run(&e, &mut s, &["GET", "str"]), bulk("v"));
        assert_eq!(run(&e, &mut s, &["LLEN", "str"]), wrongtype());
        assert_eq!(run(&e, &mut s, &["LLEN"]), arity("llen"));
        assert_eq!(run(&e, &mut s, &["LLEN", "a", "b"]), arity("llen"));
    }

    #[test]
    fn pop_single() {
        let (e, mut s) = setup();
        run(&e, &mut s, &["RPUSH", "k", "a", "b", "c"]);
        assert_eq!(run(&e, &mut s, &["LPOP", "k"]), bulk("a"));
        assert_eq!(run(&e, &mut s, &["RPOP", "k"]), bulk("c"));
        assert_eq!(run(&e, &mut s, &["rpop", "k"]), bulk("b"));
        // The last pop deleted the key.
        assert!(!exists(&e, &mut s, "k"));
        assert_eq!(run(&e, &mut s, &["LPOP", "k"]), Frame::Null);
        assert_eq!(run(&e, &mut s, &["RPOP", "k"]), Frame::Null);
    }

    #[test]
    fn pop_with_count() {
        let (e, mut s) = setup();
        run(&e, &mut s, &["RPUSH", "k", "a", "b", "c", "d", "e"]);
        assert_eq!(run(&e, &mut s, &["LPOP", "k", "2"]), bulks(&["a", "b"]));
        assert_eq!(run(&e, &mut s, &["RPOP", "k", "2"]), bulks(&["e", "d"]));
        assert_eq!(run(&e, &mut s, &["LPOP", "k", "0"]), empty());
        assert_eq!(run(&e, &mut s, &["LPOP", "k", "1"]), bulks(&["c"]));
        assert!(!exists(&e, &mut s, "k"));
        run(&e, &mut s, &["RPUSH", "k", "a", "b"]);
        assert_eq!(
            run(&e, &mut s, &["RPOP", "k", "9223372036854775807"]),
            bulks(&["b", "a"])
        );
        assert!(!exists(&e, &mut s, "k"));
        // A missing key with a count is a null array, even with a count of 0.
        assert_eq!(run(&e, &mut s, &["LPOP", "k", "3"]), Frame::NullArray);
        assert_eq!(run(&e, &mut s, &["RPOP", "k", "0"]), Frame::NullArray);
    }

    #[test]
    fn pop_errors() {
        let (e, mut s) = setup();
        run(&e, &mut s, &["RPUSH", "k", "a"]);
        run(&e, &mut s, &["SET", "str", "v"]);
        let range = err("ERR value is out of range, must be positive");
        for cmd in ["LPOP", "RPOP"] {
            let name = cmd.to_ascii_lowercase();
            assert_eq!(run(&e, &mut s, &[cmd, "k", "-1"]), range);
            assert_eq!(run(&e, &mut s, &[cmd, "k", "abc"]), range);
            assert_eq!(run(&e, &mut s, &[cmd, "missing", "-1"]), range);
            assert_eq!(run(&e, &mut s, &[cmd, "k", "1", "2"]), arity(&name));
            assert_eq!(run(&e, &mut s, &[cmd]), arity(&name));
            assert_eq!(run(&e, &mut s, &[cmd, "str"]), wrongtype());
            assert_eq!(run(&e, &mut s, &[cmd, "str", "0"]), wrongtype());
            assert_eq!(run(&e, &mut s, &[cmd, "str", "2"]), wrongtype());
        }
        assert_eq!(list(&e, &mut s, "k"), bulks(&["a"]));
        assert_eq!(run(&e, &mut s, &["GET", "str"]), bulk("v"));
    }

    #[test]
    fn lrange_and_lindex() {
        let (e, mut s) = setup();
        run(&e, &mut s, &["RPUSH", "k", "a", "b", "c", "d"]);
        let cases: &[(&str, &str, &[&str])] = &[
            ("0", "-1", &["a", "b", "c", "d"]),
            ("1", "2", &["b", "c"]),
            ("-2", "-1", &["c", "d"]),
            ("-100", "1", &["a", "b"]),
            ("2", "100", &["c", "d"]),
            ("3", "3", &["d"]),
            ("4", "10", &[]),
            ("2", "1", &[]),
            ("-1", "-2", &[]),
            ("0", "-5", &[]),
            (
                "-9223372036854775808",
                "9223372036854775807",
                &["a", "b", "c", "d"],
            ),
        ];
        for (start, stop, want) in cases {
            assert_eq!(
                run(&e, &mut s, &["LRANGE", "k", start, stop]),
                bulks(want),
                "LRANGE {start} {stop}"
            );
        }
        assert_eq!(run(&e, &mut s, &["LRANGE", "missing", "0", "-1"]), empty());
        assert_eq!(run(&e, &mut s, &["LRANGE", "k", "a", "1"]), not_int());
        assert_eq!(run(&e, &mut s, &["LRANGE", "k", "0", "1.5"]), not_int());
        // The indexes are checked before the key.
        assert_eq!(run(&e, &mut s, &["LRANGE", "missing", "x", "1"]), not_int());
        assert_eq!(run(&e, &mut s, &["LRANGE", "k", "0"]), arity("lrange"));

        assert_eq!(run(&e, &mut s, &["LINDEX", "k", "0"]), bulk("a"));
        assert_eq!(run(&e, &mut s, &["LINDEX", "k", "3"]), bulk("d"));
        assert_eq!(run(&e, &mut s, &["LINDEX", "k", "-1"]), bulk("d"));
        assert_eq!(run(&e, &mut s, &["LINDEX", "k", "-4"]), bulk("a"));
        assert_eq!(run(&e, &mut s, &["LINDEX", "k", "4"]), Frame::Null);
        assert_eq!(run(&e, &mut s, &["LINDEX", "k", "-5"]), Frame::Null);
        assert_eq!(
            run(&e, &mut s, &["LINDEX", "k", "-9223372036854775808"]),
            Frame::Null
        );
        assert_eq!(run(&e, &mut s, &["LINDEX", "k", "x"]), not_int());
        // The key is looked up before the index is parsed.
        assert_eq!(run(&e, &mut s, &["LINDEX", "missing", "x"]), Frame::Null);
        assert_eq!(run(&e, &mut s, &["LINDEX", "missing", "0"]), Frame::Null);
        assert_eq!(run(&e, &mut s, &["LINDEX", "k"]), arity("lindex"));

        run(&e, &mut s, &["SET", "str", "v"]);
        assert_eq!(run(&e, &mut s, &["LRANGE", "str", "0", "-1"]), wrongtype());
        assert_eq!(run(&e, &mut s, &["LINDEX", "str", "0"]), wrongtype());
        assert_eq!(run(&e, &mut s, &["LINDEX", "str", "x"]), wrongtype());
    }

    #[test]
    fn keyspace_hits_and_misses() {
        let (e, mut s) = setup();
        run(&e, &mut s, &["RPUSH", "k", "a", "b"]);
        run(&e, &mut s, &["SET", "str", "v"]);
        let base = hits_misses(&e);
        // Writes count nothing, as Redis' lookupKeyWrite.
        for cmd in [
            &["LPOP", "k"][..],
            &["LPOP", "missing"],
            &["RPUSH", "k", "a"],
            &["LPUSHX", "missing", "a"],
            &["LSET", "k", "0", "z"],
            &["LINSERT", "k", "BEFORE", "z", "y"],
            &["LREM", "k", "0", "nothing"],
            &["LTRIM", "k", "0", "-1"],
            &["LMOVE", "k", "d", "LEFT", "LEFT"],
            &["RPOPLPUSH", "missing", "d"],
            &["LMPOP", "2", "missing", "d", "LEFT"],
        ] {
            run(&e, &mut s, cmd);
        }
        assert_eq!(hits_misses(&e), base);
        // Reads count one lookup each; another type is a hit.
        run(&e, &mut s, &["LLEN", "k"]);
        run(&e, &mut s, &["LLEN", "missing"]);
        run(&e, &mut s, &["LRANGE", "k", "0", "-1"]);
        run(&e, &mut s, &["LRANGE", "missing", "0", "-1"]);
        run(&e, &mut s, &["LINDEX", "k", "0"]);
        run(&e, &mut s, &["LINDEX", "missing", "x"]);
        run(&e, &mut s, &["LPOS", "k", "a"]);
        run(&e, &mut s, &["LPOS", "missing", "a"]);
        run(&e, &mut s, &["LLEN", "str"]);
        // Argument errors found before the lookup count nothing.
        run(&e, &mut s, &["LRANGE", "missing", "x", "1"]);
        run(&e, &mut s, &["LPOS", "missing", "a", "RANK", "0"]);
        assert_eq!(hits_misses(&e), (base.0 + 5, base.1 + 4));
    }

    #[test]
    fn lset() {
        let (e, mut s) = setup();
        run(&e, &mut s, &["RPUSH", "k", "a", "b", "c"]);
        assert_eq!(run(&e, &mut s, &["LSET", "k", "0", "x"]), Frame::ok());
        assert_eq!(run(&e, &mut s, &["LSET", "k", "-1", "z"]), Frame::ok());
        assert_eq!(run(&e, &mut s, &["LSET", "k", "1", ""]), Frame::ok());
        assert_eq!(list(&e, &mut s, "k"), bulks(&["x", "", "z"]));
        let range = err("ERR index out of range");
        assert_eq!(run(&e, &mut s, &["LSET", "k", "3", "v"]), range);
        assert_eq!(run(&e, &mut s, &["LSET", "k", "-4", "v"]), range);
        assert_eq!(
            run(&e, &mut s, &["LSET", "k", "9223372036854775807", "v"]),
            range
        );
        assert_eq!(run(&e, &mut s, &["LSET", "k", "x", "v"]), not_int());
        let no_key = err("ERR no such key");
        assert_eq!(run(&e, &mut s, &["LSET", "missing", "0", "v"]), no_key);
        // The key is looked up before the index is parsed.
        assert_eq!(run(&e, &mut s, &["LSET", "missing", "x", "v"]), no_key);
        assert!(!exists(&e, &mut s, "missing"));
        run(&e, &mut s, &["SET", "str", "v"]);
        assert_eq!(run(&e, &mut s, &["LSET", "str", "0", "v"]), wrongtype());
        assert_eq!(run(&e, &mut s, &["LSET", "str", "x", "v"]), wrongtype());
        assert_eq!(run(&e, &mut s, &["LSET", "k", "0"]), arity("lset"));
        assert_eq!(list(&e, &mut s, "k"), bulks(&["x", "", "z"]));
    }

    #[test]
    fn linsert() {
        let (e, mut s) = setup();
        run(&e, &mut s, &["RPUSH", "k", "a", "b", "a"]);
        assert_eq!(
            run(&e, &mut s, &["LINSERT", "k", "BEFORE", "a", "x"]),
            int(4)
        );
        assert_eq!(
            run(&e, &mut s, &["LINSERT", "k", "after", "a", "y"]),
            int(5)
        );
        assert_eq!(
            run(&e, &mut s, &["LINSERT", "k", "AFTER", "b", "z"]),
            int(6)
        );
        assert_eq!(
            run(&e, &mut s, &["LINSERT", "k", "before", "x", "w"]),
            int(7)
        );
        assert_eq!(
            list(&e, &mut s, "k"),
            bulks(&["w", "x", "a", "y", "b", "z", "a"])
        );
        // Inserting after the tail appends.
        run(&e, &mut s, &["RPUSH", "t", "only"]);
        assert_eq!(
            run(&e, &mut s, &["LINSERT", "t", "AFTER", "only", "end"]),
            int(2)
        );
        assert_eq!(list(&e, &mut s, "t"), bulks(&["only", "end"]));
        assert_eq!(
            run(&e, &mut s, &["LINSERT", "k", "BEFORE", "nope", "v"]),
            int(-1)
        );
        assert_eq!(
            run(&e, &mut s, &["LINSERT", "missing", "BEFORE", "a", "v"]),
            int(0)
        );
        assert!(!exists(&e, &mut s, "missing"));
        // The direction is checked before the key.
        assert_eq!(
            run(&e, &mut s, &["LINSERT", "k", "MIDDLE", "a", "v"]),
            syntax()
        );
        assert_eq!(
            run(&e, &mut s, &["LINSERT", "missing", "UP", "a", "v"]),
            syntax()
        );
        run(&e, &mut s, &["SET", "str", "v"]);
        assert_eq!(
            run(&e, &mut s, &["LINSERT", "str", "BEFORE", "a", "v"]),
            wrongtype()
        );
        assert_eq!(
            run(&e, &mut s, &["LINSERT", "str", "UP", "a", "v"]),
            syntax()
        );
        assert_eq!(
            run(&e, &mut s, &["LINSERT", "k", "BEFORE", "a"]),
            arity("linsert")
        );
        assert_eq!(run(&e, &mut s, &["LLEN", "k"]), int(7));
    }

    #[test]
    fn lrem() {
        let (e, mut s) = setup();
        let fill = |e: &Engine, s: &mut Session| {
            run(e, s, &["DEL", "k"]);
            run(e, s, &["RPUSH", "k", "a", "b", "a", "c", "a", "b"]);
        };
        fill(&e, &mut s);
        assert_eq!(run(&e, &mut s, &["LREM", "k", "2", "a"]), int(2));
        assert_eq!(list(&e, &mut s, "k"), bulks(&["b", "c", "a", "b"]));
        fill(&e, &mut s);
        assert_eq!(run(&e, &mut s, &["LREM", "k", "-2", "a"]), int(2));
        assert_eq!(list(&e, &mut s, "k"), bulks(&["a", "b", "c", "b"]));
        fill(&e, &mut s);
        assert_eq!(run(&e, &mut s, &["LREM", "k", "0", "a"]), int(3));
        assert_eq!(list(&e, &mut s, "k"), bulks(&["b", "c", "b"]));
        fill(&e, &mut s);
        assert_eq!(run(&e, &mut s, &["LREM", "k", "-1", "b"]), int(1));
        assert_eq!(list(&e, &mut s, "k"), bulks(&["a", "b", "a", "c", "a"]));
        assert_eq!(run(&e, &mut s, &["LREM", "k", "10", "z"]), int(0));
        // i64::MIN removes every match from the tail, as Redis' negated C long does.
        fill(&e, &mut s);
        assert_eq!(
            run(&e, &mut s, &["LREM", "k", "-9223372036854775808", "a"]),
            int(3)
        );
        // Removing the last elements deletes the key.
        assert_eq!(run(&e, &mut s, &["LREM", "k", "0", "b"]), int(2));
        assert_eq!(run(&e, &mut s, &["LREM", "k", "0", "c"]), int(1));
        assert!(!exists(&e, &mut s, "k"));
        assert_eq!(run(&e, &mut s, &["LREM", "missing", "0", "a"]), int(0));
        assert_eq!(run(&e, &mut s, &["LREM", "k", "x", "a"]), not_int());
        assert_eq!(run(&e, &mut s, &["LREM", "missing", "x", "a"]), not_int());
        run(&e, &mut s, &["SET", "str", "v"]);
        assert_eq!(run(&e, &mut s, &["LREM", "str", "0", "a"]), wrongtype());
        assert_eq!(run(&e, &mut s, &["LREM", "str", "x", "a"]), not_int());
        assert_eq!(run(&e, &mut s, &["LREM", "k", "0"]), arity("lrem"));
    }

    #[test]
    fn ltrim() {
        let (e, mut s) = setup();
        let fill = |e: &Engine, s: &mut Session| {
            run(e, s, &["DEL", "k"]);
            run(e, s, &["RPUSH", "k", "a", "b", "c", "d", "e"]);
        };
        let cases: &[(&str, &str, &[&str])] = &[
            ("0", "-1", &["a", "b", "c", "d", "e"]),
            ("1", "-2", &["b", "c", "d"]),
            ("-2", "100", &["d", "e"]),
            ("-100", "0", &["a"]),
            ("2", "2", &["c"]),
        ];
        for (start, stop, want) in cases {
            fill(&e, &mut s);
            assert_eq!(run(&e, &mut s, &["LTRIM", "k", start, stop]), Frame::ok());
            assert_eq!(list(&e, &mut s, "k"), bulks(want), "LTRIM {start} {stop}");
        }
        for (start, stop) in [("3", "1"), ("5", "10"), ("-1", "-2"), ("0", "-6")] {
            fill(&e, &mut s);
            assert_eq!(run(&e, &mut s, &["LTRIM", "k", start, stop]), Frame::ok());
            assert!(!exists(&e, &mut s, "k"), "LTRIM {start} {stop}");
        }
        assert_eq!(
            run(&e, &mut s, &["LTRIM", "missing", "0", "1"]),
            Frame::ok()
        );
        assert!(!exists(&e, &mut s, "missing"));
        assert_eq!(run(&e, &mut s, &["LTRIM", "missing", "a", "1"]), not_int());
        assert_eq!(run(&e, &mut s, &["LTRIM", "k", "0", "b"]), not_int());
        run(&e, &mut s, &["SET", "str", "v"]);
        assert_eq!(run(&e, &mut s, &["LTRIM", "str", "0", "1"]), wrongtype());
        assert_eq!(run(&e, &mut s, &["LTRIM", "k", "0"]), arity("ltrim"));
    }

    #[test]
    fn ltrim_keeps_ttl() {
        let (e, mut s) = setup();
        run(&e, &mut s, &["RPUSH", "k", "a", "b", "c"]);
        run(&e, &mut s, &["EXPIRE", "k", "100"]);
        run(&e, &mut s, &["LTRIM", "k", "1", "1"]);
        run(&e, &mut s, &["RPUSH", "k", "d"]);
        run(&e, &mut s, &["LPOP", "k"]);
        assert!(expire_of(&e, "k").is_some());
        assert_eq!(list(&e, &mut s, "k"), bulks(&["d"]));
    }

    #[test]
    fn lpos() {
        let (e, mut s) = setup();
        run(
            &e,
            &mut s,
            &["RPUSH", "k", "a", "b", "c", "a", "b", "c", "a"],
        );
        let cases: &[(&[&str], Frame)] = &[
            (&[], int(0)),
            (&["RANK", "1"], int(0)),
            (&["RANK", "2"], int(3)),
            (&["RANK", "3"], int(6)),
            (&["RANK", "4"], Frame::Null),
            (&["RANK", "-1"], int(6)),
            (&["RANK", "-3"], int(0)),
            (&["RANK", "9223372036854775807"], Frame::Null),
            (&["COUNT", "0"], ints(&[0, 3, 6])),
            (&["COUNT", "2"], ints(&[0, 3])),
            (&["COUNT", "10"], ints(&[0, 3, 6])),
            (&["RANK", "2", "COUNT", "0"], ints(&[3, 6])),
            (&["RANK", "-2", "COUNT", "2"], ints(&[3, 0])),
            (&["RANK", "5", "COUNT", "0"], empty()),
            (&["MAXLEN", "3"], int(0)),
            (&["RANK", "2", "MAXLEN", "3"], Frame::Null),
            (&["RANK", "2", "MAXLEN", "4"], int(3)),
            (&["COUNT", "0", "MAXLEN", "4"], ints(&[0, 3])),
            (&["RANK", "-1", "MAXLEN", "1"], int(6)),
            (&["RANK", "-2", "MAXLEN", "3"], Frame::Null),
            (&["MAXLEN", "0"], int(0)),
            // Options repeat; the last one wins; names are case-insensitive.
            (&["rank", "1", "RANK", "2"], int(3)),
            (&["count", "1", "Count", "0"], ints(&[0, 3, 6])),
            // As in Redis, the most negative rank stays negative once negated: every
            // match from the tail qualifies and COUNT never stops the walk.
            (&["RANK", "-9223372036854775808"], int(6)),
            (
                &["RANK", "-9223372036854775808", "COUNT", "2"],
                ints(&[6, 3, 0]),
            ),
        ];
        for (opts, want) in cases {
            let mut cmd = vec!["LPOS", "k", "a"];
            cmd.extend_from_slice(opts);
            assert_eq!(&run(&e, &mut s, &cmd), want, "LPOS k a {opts:?}");
        }
        assert_eq!(run(&e, &mut s, &["LPOS", "k", "c"]), int(2));
        assert_eq!(run(&e, &mut s, &["LPOS", "k", "zz"]), Frame::Null);
        assert_eq!(run(&e, &mut s, &["LPOS", "k", "zz", "COUNT", "1"]), empty());
        assert_eq!(run(&e, &mut s, &["LPOS", "missing", "a"]), Frame::Null);
        assert_eq!(
            run(&e, &mut s, &["LPOS", "missing", "a", "COUNT", "1"]),
            empty()
        );
    }

    #[test]
    fn lpos_errors() {
        let (e, mut s) = setup();
        run(&e, &mut s, &["RPUSH", "k", "a"]);
        run(&e, &mut s, &["SET", "str", "v"]);
        let rank0 = err(
            "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second \
             ... or use negative to start from the end of the list",
        );
        assert_eq!(run(&e, &mut s, &["LPOS", "k", "a", "RANK", "0"]), rank0);
        assert_eq!(run(&e, &mut s, &["LPOS", "str", "a", "RANK", "0"]), rank0);
        assert_eq!(run(&e, &mut s, &["LPOS", "k", "a", "RANK", "x"]), not_int());
        let count = err("ERR COUNT can't be negative");
        assert_eq!(run(&e, &mut s, &["LPOS", "k", "a", "COUNT", "-1"]), count);
        assert_eq!(run(&e, &mut s, &["LPOS", "k", "a", "COUNT", "x"]), count);
        let maxlen = err("ERR MAXLEN can't be negative");
        assert_eq!(run(&e, &mut s, &["LPOS", "k", "a", "MAXLEN", "-1"]), maxlen);
        assert_eq!(run(&e, &mut s, &["LPOS", "k", "a", "MAXLEN", "x"]), maxlen);
        assert_eq!(run(&e, &mut s, &["LPOS", "k", "a", "RANK"]), syntax());
        assert_eq!(run(&e, &mut s, &["LPOS", "k", "a", "FOO", "1"]), syntax());
        assert_eq!(
            run(&e, &mut s, &["LPOS", "k", "a", "COUNT", "1", "MAXLEN"]),
            syntax()
        );
        assert_eq!(run(&e, &mut s, &["LPOS", "str", "a"]), wrongtype());
        assert_eq!(
            run(&e, &mut s, &["LPOS", "str", "a", "COUNT", "1"]),
            wrongtype()
        );
        assert_eq!(run(&e, &mut s, &["LPOS", "k"]), arity("lpos"));
    }

    #[test]
    fn lmove_and_rpoplpush() {
        let (e, mut s) = setup();
        run(&e, &mut s, &["RPUSH", "src", "a", "b", "c"]);
        assert_eq!(
            run(&e, &mut s, &["LMOVE", "src", "dst", "LEFT", "RIGHT"]),
            bulk("a")
        );
        assert_eq!(
            run(&e, &mut s, &["LMOVE", "src", "dst", "right", "left"]),
            bulk("c")
        );
        assert_eq!(list(&e, &mut s, "src"), bulks(&["b"]));
        assert_eq!(list(&e, &mut s, "dst"), bulks(&["c", "a"]));
        assert_eq!(
            run(&e, &mut s, &["LMOVE", "src", "dst", "LEFT", "LEFT"]),
            bulk("b")
        );
        assert!(!exists(&e, &mut s, "src"));
        assert_eq!(list(&e, &mut s, "dst"), bulks(&["b", "c", "a"]));
        assert_eq!(
            run(&e, &mut s, &["LMOVE", "src", "dst", "LEFT", "LEFT"]),
            Frame::Null
        );
        assert_eq!(run(&e, &mut s, &["RPOPLPUSH", "dst", "other"]), bulk("a"));
        assert_eq!(run(&e, &mut s, &["RPOPLPUSH", "dst", "other"]), bulk("c"));
        assert_eq!(list(&e, &mut s, "other"), bulks(&["c", "a"]));
        assert_eq!(
            run(&e, &mut s, &["RPOPLPUSH", "missing", "other"]),
            Frame::Null
        );
        assert!(!exists(&e, &mut s, "missing"));
        // Same key: a rotation.
        run(&e, &mut s, &["RPUSH", "r", "1", "2", "3"]);
        assert_eq!(
            run(&e, &mut s, &["LMOVE", "r", "r", "LEFT", "RIGHT"]),
            bulk("1")
        );
        assert_eq!(list(&e, &mut s, "r"), bulks(&["2", "3", "1"]));
        assert_eq!(
            run(&e, &mut s, &["LMOVE", "r", "r", "RIGHT", "LEFT"]),
            bulk("1")
        );
        assert_eq!(run(&e, &mut s, &["RPOPLPUSH", "r", "r"]), bulk("3"));
        assert_eq!(list(&e, &mut s, "r"), bulks(&["3", "1", "2"]));
        assert_eq!(
            run(&e, &mut s, &["LMOVE", "r", "r", "LEFT", "LEFT"]),
            bulk("3")
        );
        assert_eq!(list(&e, &mut s, "r"), bulks(&["3", "1", "2"]));
        // A single-element list rotated onto itself keeps its expiry.
        run(&e, &mut s, &["RPUSH", "one", "x"]);
        run(&e, &mut s, &["EXPIRE", "one", "100"]);
        assert_eq!(
            run(&e, &mut s, &["LMOVE", "one", "one", "LEFT", "RIGHT"]),
            bulk("x")
        );
        assert!(expire_of(&e, "one").is_some());
        assert_eq!(list(&e, &mut s, "one"), bulks(&["x"]));
    }

    #[test]
    fn lmove_errors() {
        let (e, mut s) = setup();
        run(&e, &mut s, &["RPUSH", "src", "a", "b"]);
        run(&e, &mut s, &["SET", "str", "v"]);
        // A wrong destination type leaves the source untouched.
        assert_eq!(
            run(&e, &mut s, &["LMOVE", "src", "str", "LEFT", "LEFT"]),
            wrongtype()
        );
        assert_eq!(run(&e, &mut s, &["RPOPLPUSH", "src", "str"]), wrongtype());
        assert_eq!(list(&e, &mut s, "src"), bulks(&["a", "b"]));
        assert_eq!(
            run(&e, &mut s, &["LMOVE", "str", "src", "LEFT", "LEFT"]),
            wrongtype()
        );
        assert_eq!(
            run(&e, &mut s, &["LMOVE", "str", "str", "LEFT", "LEFT"]),
            wrongtype()
        );
        assert_eq!(run(&e, &mut s, &["RPOPLPUSH", "str", "dst"]), wrongtype());
        // A missing source is nil whatever the destination holds.
        assert_eq!(
            run(&e, &mut s, &["LMOVE", "missing", "str", "LEFT", "LEFT"]),
            Frame::Null
        );
        assert_eq!(
            run(&e, &mut s, &["RPOPLPUSH", "missing", "str"]),
            Frame::Null
        );
        // Directions are checked first.
        assert_eq!(
            run(&e, &mut s, &["LMOVE", "src", "dst", "UP", "LEFT"]),
            syntax()
        );
        assert_eq!(
            run(&e, &mut s, &["LMOVE", "src", "dst", "LEFT", "DOWN"]),
            syntax()
        );
        assert_eq!(
            run(&e, &mut s, &["LMOVE", "str", "dst", "LEFT", "X"]),
            syntax()
        );
        assert_eq!(
            run(&e, &mut s, &["LMOVE", "src", "dst", "LEFT"]),
            arity("lmove")
        );
        assert_eq!(run(&e, &mut s, &["RPOPLPUSH", "src"]), arity("rpoplpush"));
        assert_eq!(list(&e, &mut s, "src"), bulks(&["a", "b"]));
        assert!(!exists(&e, &mut s, "dst"));
    }

    fn mpop(key: &str, items: &[&str]) -> Frame {
        Frame::Array(vec![bulk(key), bulks(items)])
    }

    #[test]
    fn lmpop() {
        let (e, mut s) = setup();
        run(&e, &mut s, &["RPUSH", "b", "1", "2", "3", "4"]);
        run(&e, &mut s, &["RPUSH", "c", "x"]);
        assert_eq!(
            run(&e, &mut s, &["LMPOP", "3", "a", "b", "c", "LEFT"]),
            mpop("b", &["1"])
        );
        assert_eq!(
            run(&e, &mut s, &["LMPOP", "2", "b", "c", "right", "COUNT", "2"]),
            mpop("b", &["4", "3"])
        );
        assert_eq!(
            run(&e, &mut s, &["lmpop", "2", "b", "c", "left", "count", "10"]),
            mpop("b", &["2"])
        );
        assert!(!exists(&e, &mut s, "b"));
        assert_eq!(
            run(&e, &mut s, &["LMPOP", "2", "b", "c", "LEFT"]),
            mpop("c", &["x"])
        );
        assert_eq!(
            run(&e, &mut s, &["LMPOP", "2", "b", "c", "LEFT"]),
            Frame::NullArray
        );
        assert_eq!(
            run(&e, &mut s, &["LMPOP", "1", "b", "LEFT", "COUNT", "5"]),
            Frame::NullArray
        );
    }

    #[test]
    fn lmpop_errors() {
        let (e, mut s) = setup();
        run(&e, &mut s, &["RPUSH", "k", "a", "b"]);
        run(&e, &mut s, &["SET", "str", "v"]);
        let numkeys = err("ERR numkeys should be greater than 0");
        let count = err("ERR count should be greater than 0");
        for bad in ["0", "-1", "abc", "1.5"] {
            assert_eq!(
                run(&e, &mut s, &["LMPOP", bad, "k", "LEFT"]),
                numkeys,
                "{bad}"
            );
        }
        for bad in ["0", "-1", "abc"] {
            assert_eq!(
                run(&e, &mut s, &["LMPOP", "1", "k", "LEFT", "COUNT", bad]),
                count,
                "{bad}"
            );
        }
        for bad in [
            &["LMPOP", "2", "k", "LEFT"][..],
            &["LMPOP", "3", "k", "LEFT"],
            &["LMPOP", "9223372036854775807", "k", "LEFT"],
            &["LMPOP", "1", "k", "MIDDLE"],
            &["LMPOP", "1", "k", "LEFT", "COUNT"],
            &["LMPOP", "1", "k", "LEFT", "COUNT", "1", "COUNT", "1"],
            &["LMPOP", "1", "k", "LEFT", "FOO"],
            &["LMPOP", "1", "k", "LEFT", "1"],
        ] {
            assert_eq!(run(&e, &mut s, bad), syntax(), "{bad:?}");
        }
        assert_eq!(run(&e, &mut s, &["LMPOP", "1", "k"]), arity("lmpop"));
        assert_eq!(run(&e, &mut s, &["LMPOP", "1"]), arity("lmpop"));
        // A wrong type met before a non-empty list fails; one after it is never seen.
        assert_eq!(
            run(&e, &mut s, &["LMPOP", "2", "str", "k", "LEFT"]),
            wrongtype()
        );
        assert_eq!(
            run(&e, &mut s, &["LMPOP", "2", "missing", "str", "LEFT"]),
            wrongtype()
        );
        assert_eq!(list(&e, &mut s, "k"), bulks(&["a", "b"]));
        assert_eq!(
            run(&e, &mut s, &["LMPOP", "2", "k", "str", "LEFT"]),
            mpop("k", &["a"])
        );
    }

    /// Random edits through the commands, checked against a `Vec` after every step.
    #[test]
    fn model_based_cross_check() {
        let (e, mut s) = setup();
        let mut rng = StdRng::seed_from_u64(0x11575);
        let mut model: Vec<String> = Vec::new();
        let values = ["a", "b", "c", "d", "e"];
        let frame_of = |m: &[String]| Frame::Array(m.iter().map(|v| bulk(v)).collect());
        for step in 0..3000 {
            let len = model.len() as i64;
            let v = values[rng.gen_range(0..values.len())].to_string();
            let idx = rng.gen_range(-len - 2..=len + 2);
            let cmd: Vec<String>;
            let reply = match rng.gen_range(0..8) {
                0 => {
                    let n = rng.gen_range(1..4);
                    let vals: Vec<String> = (0..n).map(|i| format!("{v}{i}")).collect();
                    for x in &vals {
                        model.insert(0, x.clone());
                    }
                    cmd = [vec!["LPUSH".into(), "k".into()], vals].concat();
                    int(model.len() as i64)
                }
                1 => {
                    model.push(v.clone());
                    cmd = vec!["RPUSH".into(), "k".into(), v];
                    int(model.len() as i64)
                }
                2 => {
                    let pivot = values[rng.gen_range(0..values.len())].to_string();
                    let after = rng.gen_bool(0.5);
                    let want = match model.iter().position(|x| *x == pivot) {
                        _ if model.is_empty() => int(0),
                        None => int(-1),
                        Some(p) => {
                            model.insert(if after { p + 1 } else { p }, v.clone());
                            int(model.len() as i64)
                        }
                    };
                    let dir = if after { "AFTER" } else { "BEFORE" };
                    cmd = vec!["LINSERT".into(), "k".into(), dir.into(), pivot, v];
                    want
                }
                3 => {
                    let count = rng.gen_range(-3i64..=3);
                    let matches: Vec<usize> = (0..model.len()).filter(|&i| model[i] == v).collect();
                    let take = if count == 0 {
                        matches.len()
                    } else {
                        (count.unsigned_abs() as usize).min(matches.len())
                    };
                    let mut gone: Vec<usize> = if count >= 0 {
                        matches[..take].to_vec()
                    } else {
                        matches[matches.len() - take..].to_vec()
                    };
                    gone.sort_unstable();
                    for &i in gone.iter().rev() {
                        model.remove(i);
                    }
                    cmd = vec!["LREM".into(), "k".into(), count.to_string(), v];
                    int(take as i64)
                }
                4 => {
                    let want = if model.is_empty() {
                        err("ERR no such key")
                    } else {
                        match resolve_index(idx, model.len()) {
                            Some(i) => {
                                model[i] = v.clone();
                                Frame::ok()
                            }
                            None => err("ERR index out of range"),
                        }
                    };
                    cmd = vec!["LSET".into(), "k".into(), idx.to_string(), v];
                    want
                }
                5 => {
                    let stop = rng.gen_range(-len - 2..=len + 2);
                    match resolve_range(idx, stop, model.len()) {
                        Some((from, to)) => model = model[from..to].to_vec(),
                        None => model.clear(),
                    }
                    cmd = vec![
                        "LTRIM".into(),
                        "k".into(),
                        idx.to_string(),
                        stop.to_string(),
                    ];
                    Frame::ok()
                }
                6 => {
                    let n = rng.gen_range(0..3usize);
                    let want = if model.is_empty() {
                        Frame::NullArray
                    } else {
                        let taken: Vec<String> = model.drain(..n.min(model.len())).collect();
                        frame_of(&taken)
                    };
                    cmd = vec!["LPOP".into(), "k".into(), n.to_string()];
                    want
                }
                _ => {
                    let want = model.pop().map_or(Frame::Null, |x| bulk(&x));
                    cmd = vec!["RPOP".into(), "k".into()];
                    want
                }
            };
            let words: Vec<&str> = cmd.iter().map(String::as_str).collect();
            assert_eq!(run(&e, &mut s, &words), reply, "step {step}: {words:?}");
            assert_eq!(
                list(&e, &mut s, "k"),
                frame_of(&model),
                "step {step}: {words:?}"
            );
            assert_eq!(exists(&e, &mut s, "k"), !model.is_empty(), "step {step}");
            if let Some(i) = resolve_index(idx, model.len()) {
                assert_eq!(
                    run(&e, &mut s, &["LINDEX", "k", &idx.to_string()]),
                    bulk(&model[i])
                );
            }
        }
    }

    #[test]
    fn every_list_command_is_in_the_table() {
        let names: Vec<&str> = super::COMMANDS.iter().map(|c| c.name).collect();
        for name in [
            "lpush",
            "rpush",
            "lpushx",
            "rpushx",
            "lpop",
            "rpop",
            "llen",
            "lrange",
            "lindex",
            "lset",
            "linsert",
            "lrem",
            "ltrim",
            "lpos",
            "lmove",
            "rpoplpush",
            "lmpop",
        ] {
            assert!(names.contains(&name), "{name}");
        }
        assert!(super::COMMANDS.iter().all(|c| c.group == "list"));
    }
}
