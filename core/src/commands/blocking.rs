//! Blocking pops: BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN, BZPOPMAX and
//! BZMPOP. Each tries its non-blocking form first; with nothing to take it parks the
//! client (see [`crate::blocking`]) and is re-run by the write that serves it. Inside
//! MULTI, or while being served, it answers as its timeout would, as Redis does.

use bytes::Bytes;
use ferrokv_protocol::Frame;

use crate::blocking::BlockRequest;
use crate::command::{CmdError, CmdFlags, CmdResult, CommandSpec, Ctx, Handler, KeyPositions};
use crate::commands::args::is;
use crate::commands::{lists, zsets};
use crate::propagate::arg;
use crate::storage::{End, UnixMillis};
use crate::util::number::parse_i64;

const LIST: &[&str] = &["list"];
const SORTED_SET: &[&str] = &["sortedset"];
const BLOCKING_WRITE: CmdFlags = CmdFlags::WRITE.or(CmdFlags::BLOCKING);

/// What distinguishes the list and sorted-set halves of the table.
struct Family {
    acl: &'static [&'static str],
    group: &'static str,
}

const LISTS: Family = Family {
    acl: LIST,
    group: "list",
};
const ZSETS: Family = Family {
    acl: SORTED_SET,
    group: "sorted_set",
};

#[allow(clippy::too_many_arguments)]
const fn spec(
    family: Family,
    name: &'static str,
    arity: i32,
    flags: CmdFlags,
    keys: KeyPositions,
    since: &'static str,
    summary: &'static str,
    syntax: &'static str,
    handler: Handler,
) -> CommandSpec {
    CommandSpec {
        name,
        arity,
        flags,
        acl: family.acl,
        keys,
        group: family.group,
        since,
        summary,
        syntax,
        handler: Some(handler),
        ..CommandSpec::DEFAULT
    }
}

/// Blocking command specs.
pub static COMMANDS: &[CommandSpec] = &[
    spec(
        LISTS,
        "blpop",
        -3,
        BLOCKING_WRITE,
        KeyPositions::new(1, -2, 1),
        "2.0.0",
        "Removes and returns the first element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.",
        "key [key ...] timeout",
        blpop,
    ),
    spec(
        LISTS,
        "brpop",
        -3,
        BLOCKING_WRITE,
        KeyPositions::new(1, -2, 1),
        "2.0.0",
        "Removes and returns the last element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.",
        "key [key ...] timeout",
        brpop,
    ),
    spec(
        LISTS,
        "brpoplpush",
        4,
        BLOCKING_WRITE.or(CmdFlags::DENYOOM),
        KeyPositions::new(1, 2, 1),
        "2.2.0",
        "Pops an element from a list, pushes it to another list and returns it. Block until an element is available otherwise. Deletes the list if the last element was popped.",
        "source destination timeout",
        brpoplpush,
    ),
    spec(
        LISTS,
        "blmove",
        6,
        BLOCKING_WRITE.or(CmdFlags::DENYOOM),
        KeyPositions::new(1, 2, 1),
        "6.2.0",
        "Pops an element from a list, pushes it to another list and returns it. Blocks until an element is available otherwise. Deletes the list if the last element was moved.",
        "source destination <LEFT | RIGHT> <LEFT | RIGHT> timeout",
        blmove,
    ),
    spec(
        LISTS,
        "blmpop",
        -5,
        BLOCKING_WRITE,
        KeyPositions::numkeys(2),
        "7.0.0",
        "Pops the first element from one of multiple lists. Blocks until an element is available otherwise. Deletes the list if the last element was popped.",
        "timeout numkeys key [key ...] <LEFT | RIGHT> [COUNT count]",
        blmpop,
    ),
    spec(
        ZSETS,
        "bzpopmin",
        -3,
        BLOCKING_WRITE.or(CmdFlags::FAST),
        KeyPositions::new(1, -2, 1),
        "5.0.0",
        "Removes and returns the member with the lowest score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.",
        "key [key ...] timeout",
        bzpopmin,
    ),
    spec(
        ZSETS,
        "bzpopmax",
        -3,
        BLOCKING_WRITE.or(CmdFlags::FAST),
        KeyPositions::new(1, -2, 1),
        "5.0.0",
        "Removes and returns the member with the highest score from one or more sorted sets. Blocks until a member available otherwise.  Deletes the sorted set if the last element was popped.",
        "key [key ...] timeout",
        bzpopmax,
    ),
    spec(
        ZSETS,
        "bzmpop",
        -5,
        BLOCKING_WRITE,
        KeyPositions::numkeys(2),
        "7.0.0",
        "Removes and returns a member by score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.",
        "timeout numkeys key [key ...] <MIN | MAX> [COUNT count]",
        bzmpop,
    ),
];

/// Parses a timeout in seconds (decimals allowed) into an absolute deadline, `None`
/// for 0 (wait forever), with Redis' `getTimeoutFromObjectOrReply` errors.
pub fn parse_timeout(arg: &[u8], now: UnixMillis) -> Result<Option<UnixMillis>, CmdError> {
    let not_float = || CmdError::err("timeout is not a float or out of range");
    let text = std::str::from_utf8(arg).map_err(|_| not_float())?;
    if text.is_empty() || text.starts_with(|c: char| c.is_ascii_whitespace()) {
        return Err(not_float());
    }
    let seconds: f64 = text.parse().map_err(|_| not_float())?;
    if seconds.is_nan() {
        return Err(not_float());
    }
    let millis = seconds * 1000.0;
    if millis <= -1.0 {
        return Err(CmdError::err("timeout is negative"));
    }
    // As Redis, the milliseconds are truncated: under 1 ms means "forever".
    if millis < 1.0 {
        return Ok(None);
    }
    if !millis.is_finite() || millis >= (i64::MAX as f64) - now as f64 {
        return Err(CmdError::err("timeout is out of range"));
    }
    Ok(Some(now + millis as u64))
}

/// Parks the client unless blocking is not allowed here; either way returns what the
/// handler replies now (the timeout reply when it may not block).
pub fn block(ctx: &mut Ctx<'_>, argv: &[Bytes], request: BlockRequest) -> Frame {
    if ctx.session.no_block {
        return request.timeout_reply;
    }
    let waiter = ctx.engine.blocking.register(
        ctx.session.client.clone(),
        ctx.db(),
        ctx.session.resp,
        argv,
        request,
    );
    ctx.session.blocked = Some(waiter);
    // Never sent: the connection waits for the waiter's reply instead.
    Frame::NullArray
}

fn blpop(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    blocking_pop(ctx, argv, End::Head)
}

fn brpop(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    blocking_pop(ctx, argv, End::Tail)
}

/// BLPOP/BRPOP: the first non-empty list in argument order gives one element.
fn blocking_pop(ctx: &mut Ctx<'_>, argv: &[Bytes], end: End) -> CmdResult {
    let deadline = parse_timeout(&argv[argv.len() - 1], ctx.txn.now_ms())?;
    let keys = &argv[1..argv.len() - 1];
    for key in keys {
        if let Some(mut items) = lists::pop_many(ctx, key, end, 1)? {
            if let Some(item) = items.pop() {
                ctx.propagate_as(lists::pop_command(end, key, None));
                return Ok(Frame::Array(vec![
                    Frame::Bulk(key.clone()),
                    Frame::Bulk(item),
                ]));
            }
        }
    }
    let request = BlockRequest {
        keys: keys.to_vec(),
        deadline,
        timeout_reply: Frame::NullArray,
        shared: false,
    };
    Ok(block(ctx, argv, request))
}

fn brpoplpush(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    blocking_move(ctx, argv, End::Tail, End::Head, &argv[3])
}

fn blmove(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let from = lists::parse_end(&argv[3])?;
    let to = lists::parse_end(&argv[4])?;
    blocking_move(ctx, argv, from, to, &argv[5])
}

/// BLMOVE/BRPOPLPUSH: waits on the source only; the destination's type is checked
/// when there is something to move.
fn blocking_move(
    ctx: &mut Ctx<'_>,
    argv: &[Bytes],
    from: End,
    to: End,
    timeout: &[u8],
) -> CmdResult {
    let deadline = parse_timeout(timeout, ctx.txn.now_ms())?;
    if let Some(item) = lists::move_one(ctx, &argv[1], &argv[2], from, to)? {
        let (src, dst) = (argv[1].clone(), argv[2].clone());
        let rewrite = if is(&argv[0], "brpoplpush") {
            vec![arg("RPOPLPUSH"), src, dst]
        } else {
            vec![arg("LMOVE"), src, dst, argv[3].clone(), argv[4].clone()]
        };
        ctx.propagate_as(rewrite);
        return Ok(Frame::Bulk(item));
    }
    if ctx.session.no_block {
        // Redis answers a null bulk where it may not block, but a null array on
        // timeout (every blocked list client times out alike).
        return Ok(Frame::Null);
    }
    let request = BlockRequest {
        keys: vec![argv[1].clone()],
        deadline,
        timeout_reply: Frame::NullArray,
        shared: false,
    };
    Ok(block(ctx, argv, request))
}

/// The shared arguments of BLMPOP and BZMPOP after the timeout:
/// `numkeys key... <where> [COUNT n]`, checked as Redis' `lmpopGenericCommand`.
struct MpopArgs<'a> {
    keys: &'a [Bytes],
    where_arg: &'a Bytes,
    count: usize,
}

fn parse_mpop(argv: &[Bytes], numkeys_idx: usize) -> Result<MpopArgs<'_>, CmdError> {
    let numkeys = parse_i64(&argv[numkeys_idx])
        .filter(|n| *n > 0)
        .ok_or_else(|| CmdError::err("numkeys should be greater than 0"))?
        as usize;
    let where_idx = numkeys_idx
        .checked_add(numkeys)
        .and_then(|i| i.checked_add(1))
        .filter(|i| *i < argv.len())
        .ok_or_else(CmdError::syntax)?;
    let mut count = None;
    let mut j = where_idx + 1;
    while j < argv.len() {
        if count.is_none() && is(&argv[j], "count") && j + 1 < argv.len() {
            let n = parse_i64(&argv[j + 1])
                .filter(|n| *n > 0)
                .ok_or_else(|| CmdError::err("count should be greater than 0"))?;
            count = Some(n as usize);
            j += 2;
        } else {
            return Err(CmdError::syntax());
        }
    }
    Ok(MpopArgs {
        keys: &argv[numkeys_idx + 1..where_idx],
        where_arg: &argv[where_idx],
        count: count.unwrap_or(1),
    })
}

fn blmpop(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let args = parse_mpop(argv, 2)?;
    let end = lists::parse_end(args.where_arg)?;
    let deadline = parse_timeout(&argv[1], ctx.txn.now_ms())?;
    for key in args.keys {
        if let Some(items) = lists::pop_many(ctx, key, end, args.count)? {
            if !items.is_empty() {
                ctx.propagate_as(lists::pop_command(end, key, Some(items.len())));
                return Ok(lists::mpop_reply(key.clone(), items));
            }
        }
    }
    let request = BlockRequest {
        keys: args.keys.to_vec(),
        deadline,
        timeout_reply: Frame::NullArray,
        shared: false,
    };
    Ok(block(ctx, argv, request))
}

fn bzpopmin(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    blocking_zpop(ctx, argv, false)
}

fn bzpopmax(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    blocking_zpop(ctx, argv, true)
}

/// BZPOPMIN/BZPOPMAX: replies `[key, member, score]`.
fn blocking_zpop(ctx: &mut Ctx<'_>, argv: &[Bytes], max: bool) -> CmdResult {
    let deadline = parse_timeout(&argv[argv.len() - 1], ctx.txn.now_ms())?;
    let keys = &argv[1..argv.len() - 1];
    for key in keys {
        if let Some(mut items) = zsets::pop_many(ctx, key, max, 1)? {
            if let Some((member, score)) = items.pop() {
                ctx.propagate_as(zsets::zpop_command(max, key, None));
                return Ok(Frame::Array(vec![
                    Frame::Bulk(key.clone()),
                    Frame::Bulk(member),
                    zsets::score_frame(ctx, score),
                ]));
            }
        }
    }
    let request = BlockRequest {
        keys: keys.to_vec(),
        deadline,
        timeout_reply: Frame::NullArray,
        shared: false,
    };
    Ok(block(ctx, argv, request))
}

fn bzmpop(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let args = parse_mpop(argv, 2)?;
    let max = zsets::parse_min_max(args.where_arg)?;
    let deadline = parse_timeout(&argv[1], ctx.txn.now_ms())?;
    for key in args.keys {
        if let Some(items) = zsets::pop_many(ctx, key, max, args.count)? {
            if !items.is_empty() {
                ctx.propagate_as(zsets::zpop_command(max, key, Some(items.len())));
                return Ok(zsets::mpop_reply(ctx, key.clone(), items));
            }
        }
    }
    let request = BlockRequest {
        keys: args.keys.to_vec(),
        deadline,
        timeout_reply: Frame::NullArray,
        shared: false,
    };
    Ok(block(ctx, argv, request))
}

#[cfg(test)]
mod tests {
    use super::parse_timeout;

    #[test]
    fn timeouts_parse_as_redis() {
        assert_eq!(parse_timeout(b"0", 1000).unwrap(), None);
        assert_eq!(parse_timeout(b"0.0001", 1000).unwrap(), None);
        assert_eq!(parse_timeout(b"1.5", 1000).unwrap(), Some(2500));
        assert_eq!(parse_timeout(b"2", 1000).unwrap(), Some(3000));
        let err = |s: &[u8]| parse_timeout(s, 1000).unwrap_err().0;
        assert_eq!(err(b"abc"), "ERR timeout is not a float or out of range");
        assert_eq!(err(b""), "ERR timeout is not a float or out of range");
        assert_eq!(err(b" 1"), "ERR timeout is not a float or out of range");
        assert_eq!(err(b"nan"), "ERR timeout is not a float or out of range");
        assert_eq!(err(b"-1"), "ERR timeout is negative");
        assert_eq!(err(b"1e300"), "ERR timeout is out of range");
    }
}
