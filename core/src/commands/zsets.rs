//! Sorted set commands: ZADD ZINCRBY ZREM ZCARD ZCOUNT ZLEXCOUNT ZSCORE ZMSCORE ZRANK
//! ZREVRANK, the range family (ZRANGE ZRANGESTORE ZREVRANGE ZRANGEBYSCORE
//! ZREVRANGEBYSCORE ZRANGEBYLEX ZREVRANGEBYLEX ZREMRANGEBYRANK ZREMRANGEBYSCORE
//! ZREMRANGEBYLEX), ZPOPMIN ZPOPMAX ZMPOP ZRANDMEMBER, the algebra (ZUNION ZINTER ZDIFF,
//! their STORE forms and ZINTERCARD) and ZSCAN, with Redis 7.0's replies, errors,
//! argument checking order and keyspace statistics.
//!
//! Range reads go through [`ZSetOps`]' rank, score and lexicographic walks, which stop
//! as soon as the reply is complete, so a disk backend never loads a whole set to
//! answer a range; only the multi-key algebra reads its inputs fully.
//!
//! A score of negative zero survives only where Redis would keep it: in a set held in
//! the big (skiplist) encoding; its listpack stores integral scores as integers.

use bytes::Bytes;
use ferrokv_protocol::{format_double_g17, Frame, RespVersion};
use rand::Rng;

use crate::command::{CmdError, CmdFlags, CmdResult, CommandSpec, Ctx, Handler, KeyPositions};
use crate::commands::args::{int, is};
use crate::commands::keys::{parse_cursor, parse_scan_options};
use crate::notify;
use crate::propagate::{arg, int_arg};
use crate::storage::{self, ZSetOps};
use crate::util::glob::glob_match;

mod parse;
mod range;
mod setops;
#[cfg(test)]
mod tests;

const ZSET: &[&str] = &["sortedset"];
const READ_FAST: CmdFlags = CmdFlags::READONLY.or(CmdFlags::FAST);
const WRITE_FAST: CmdFlags = CmdFlags::WRITE.or(CmdFlags::FAST);
const WRITE_OOM: CmdFlags = CmdFlags::WRITE.or(CmdFlags::DENYOOM);

/// A sorted set command spec with the family's defaults (one key at index 1).
const fn spec(
    name: &'static str,
    arity: i32,
    flags: CmdFlags,
    since: &'static str,
    summary: &'static str,
    syntax: &'static str,
    handler: Handler,
) -> CommandSpec {
    CommandSpec {
        name,
        arity,
        flags,
        acl: ZSET,
        keys: KeyPositions::FIRST,
        group: "sorted-set",
        since,
        summary,
        syntax,
        handler: Some(handler),
        ..CommandSpec::DEFAULT
    }
}

/// A spec whose keys are counted by the `numkeys` argument at `at` (after an optional
/// destination key at index 1 when `dest`).
const fn numkeys_spec(dest: bool, at: i32, spec: CommandSpec) -> CommandSpec {
    CommandSpec {
        keys: if dest {
            KeyPositions::new(1, 1, 1).and_numkeys(at)
        } else {
            KeyPositions::numkeys(at)
        },
        ..spec
    }
}

/// Sorted set command specs.
pub static COMMANDS: &[CommandSpec] = &[
    spec(
        "zadd",
        -4,
        WRITE_OOM.or(CmdFlags::FAST),
        "1.2.0",
        "Adds one or more members to a sorted set, or updates their scores. Creates the key if it doesn't exist.",
        "key [NX | XX] [GT | LT] [CH] [INCR] score member [score member ...]",
        zadd,
    ),
    spec(
        "zincrby",
        4,
        WRITE_OOM.or(CmdFlags::FAST),
        "1.2.0",
        "Increments the score of a member in a sorted set.",
        "key increment member",
        zincrby,
    ),
    spec(
        "zrem",
        -3,
        WRITE_FAST,
        "1.2.0",
        "Removes one or more members from a sorted set. Deletes the sorted set if all members were removed.",
        "key member [member ...]",
        zrem,
    ),
    spec(
        "zcard",
        2,
        READ_FAST,
        "1.2.0",
        "Returns the number of members in a sorted set.",
        "key",
        zcard,
    ),
    spec(
        "zcount",
        4,
        READ_FAST,
        "2.0.0",
        "Returns the count of members in a sorted set that have scores within a range.",
        "key min max",
        zcount,
    ),
    spec(
        "zlexcount",
        4,
        READ_FAST,
        "2.8.9",
        "Returns the number of members in a sorted set within a lexicographical range.",
        "key min max",
        zlexcount,
    ),
    spec(
        "zscore",
        3,
        READ_FAST,
        "1.2.0",
        "Returns the score of a member in a sorted set.",
        "key member",
        zscore,
    ),
    spec(
        "zmscore",
        -3,
        READ_FAST,
        "6.2.0",
        "Returns the score of one or more members in a sorted set.",
        "key member [member ...]",
        zmscore,
    ),
    spec(
        "zrank",
        3,
        READ_FAST,
        "2.0.0",
        "Returns the index of a member in a sorted set ordered by ascending scores.",
        "key member",
        zrank,
    ),
    spec(
        "zrevrank",
        3,
        READ_FAST,
        "2.0.0",
        "Returns the index of a member in a sorted set ordered by descending scores.",
        "key member",
        zrevrank,
    ),
    spec(
        "zrange",
        -4,
        CmdFlags::READONLY,
        "1.2.0",
        "Returns members in a sorted set within a range of indexes.",
        "key start stop [BYSCORE | BYLEX] [REV] [LIMIT offset count] [WITHSCORES]",
        range::zrange,
    ),
    CommandSpec {
        keys: KeyPositions::new(1, 2, 1),
        ..spec(
            "zrangestore",
            -5,
            WRITE_OOM,
            "6.2.0",
            "Stores a range of members from sorted set in a key.",
            "dst src min max [BYSCORE | BYLEX] [REV] [LIMIT offset count]",
            range::zrangestore,
        )
    },
    spec(
        "zrevrange",
        -4,
        CmdFlags::READONLY,
        "1.2.0",
        "Returns members in a sorted set within a range of indexes in reverse order.",
        "key start stop [WITHSCORES]",
        range::zrevrange,
    ),
    spec(
        "zrangebyscore",
        -4,
        CmdFlags::READONLY,
        "1.0.5",
        "Returns members in a sorted set within a range of scores.",
        "key min max [WITHSCORES] [LIMIT offset count]",
        range::zrangebyscore,
    ),
    spec(
        "zrevrangebyscore",
        -4,
        CmdFlags::READONLY,
        "2.2.0",
        "Returns members in a sorted set within a range of scores in reverse order.",
        "key max min [WITHSCORES] [LIMIT offset count]",
        range::zrevrangebyscore,
    ),
    spec(
        "zrangebylex",
        -4,
        CmdFlags::READONLY,
        "2.8.9",
        "Returns members in a sorted set within a lexicographical range.",
        "key min max [LIMIT offset count]",
        range::zrangebylex,
    ),
    spec(
        "zrevrangebylex",
        -4,
        CmdFlags::READONLY,
        "2.8.9",
        "Returns members in a sorted set within a lexicographical range in reverse order.",
        "key max min [LIMIT offset count]",
        range::zrevrangebylex,
    ),
    spec(
        "zremrangebyrank",
        4,
        CmdFlags::WRITE,
        "2.0.0",
        "Removes members in a sorted set within a range of indexes. Deletes the sorted set if all members were removed.",
        "key start stop",
        range::zremrangebyrank,
    ),
    spec(
        "zremrangebyscore",
        4,
        CmdFlags::WRITE,
        "1.2.0",
        "Removes members in a sorted set within a range of scores. Deletes the sorted set if all members were removed.",
        "key min max",
        range::zremrangebyscore,
    ),
    spec(
        "zremrangebylex",
        4,
        CmdFlags::WRITE,
        "2.8.9",
        "Removes members in a sorted set within a lexicographical range. Deletes the sorted set if all members were removed.",
        "key min max",
        range::zremrangebylex,
    ),
    spec(
        "zpopmin",
        -2,
        WRITE_FAST,
        "5.0.0",
        "Returns the lowest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.",
        "key [count]",
        zpopmin,
    ),
    spec(
        "zpopmax",
        -2,
        WRITE_FAST,
        "5.0.0",
        "Returns the highest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.",
        "key [count]",
        zpopmax,
    ),
    numkeys_spec(
        false,
        1,
        spec(
            "zmpop",
            -4,
            CmdFlags::WRITE,
            "7.0.0",
            "Returns the highest- or lowest-scoring members from one or more sorted sets after removing them. Deletes the sorted set if the last member was popped.",
            "numkeys key [key ...] MIN | MAX [COUNT count]",
            zmpop,
        ),
    ),
    spec(
        "zrandmember",
        -2,
        CmdFlags::READONLY,
        "6.2.0",
        "Returns one or more random members from a sorted set.",
        "key [count [WITHSCORES]]",
        zrandmember,
    ),
    numkeys_spec(
        false,
        1,
        spec(
            "zunion",
            -3,
            CmdFlags::READONLY,
            "6.2.0",
            "Returns the union of multiple sorted sets.",
            "numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM | MIN | MAX] [WITHSCORES]",
            setops::zunion,
        ),
    ),
    numkeys_spec(
        false,
        1,
        spec(
            "zinter",
            -3,
            CmdFlags::READONLY,
            "6.2.0",
            "Returns the intersect of multiple sorted sets.",
            "numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM | MIN | MAX] [WITHSCORES]",
            setops::zinter,
        ),
    ),
    numkeys_spec(
        false,
        1,
        spec(
            "zdiff",
            -3,
            CmdFlags::READONLY,
            "6.2.0",
            "Returns the difference between multiple sorted sets.",
            "numkeys key [key ...] [WITHSCORES]",
            setops::zdiff,
        ),
    ),
    numkeys_spec(
        true,
        2,
        spec(
            "zunionstore",
            -4,
            WRITE_OOM,
            "2.0.0",
            "Stores the union of multiple sorted sets in a key.",
            "destination numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM | MIN | MAX]",
            setops::zunionstore,
        ),
    ),
    numkeys_spec(
        true,
        2,
        spec(
            "zinterstore",
            -4,
            WRITE_OOM,
            "2.0.0",
            "Stores the intersect of multiple sorted sets in a key.",
            "destination numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM | MIN | MAX]",
            setops::zinterstore,
        ),
    ),
    numkeys_spec(
        true,
        2,
        spec(
            "zdiffstore",
            -4,
            WRITE_OOM,
            "6.2.0",
            "Stores the difference of multiple sorted sets in a key.",
            "destination numkeys key [key ...]",
            setops::zdiffstore,
        ),
    ),
    numkeys_spec(
        false,
        1,
        spec(
            "zintercard",
            -3,
            CmdFlags::READONLY,
            "7.0.0",
            "Returns the number of members of the intersect of multiple sorted sets.",
            "numkeys key [key ...] [LIMIT limit]",
            setops::zintercard,
        ),
    ),
    spec(
        "zscan",
        -3,
        CmdFlags::READONLY,
        "2.8.0",
        "Iterates over members and scores of a sorted set.",
        "key cursor [MATCH pattern] [COUNT count]",
        zscan,
    ),
];

// ---------------------------------------------------------------------------------
// Helpers shared by the family (and, through the `pub(crate)` ones, by the blocking
// BZPOPMIN / BZPOPMAX / BZMPOP).
// ---------------------------------------------------------------------------------

/// Runs `body` on the sorted set at `key` as Redis' `lookupKeyRead` finds it: counts a
/// keyspace hit (a sorted set or a value of another type) or a miss, and fails with
/// `WRONGTYPE` for another type. `None` when the key is missing.
pub(crate) fn read_zset<R>(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    body: impl FnOnce(&mut dyn ZSetOps) -> R,
) -> Result<Option<R>, CmdError> {
    let db = ctx.db();
    let found = storage::with_zset(ctx.txn, db, key, false, body);
    ctx.counted_read(key, found)
}

/// Runs `body` on the sorted set at `key` as a write command (`lookupKeyWrite` counts
/// no statistics), starting from an empty set when the key is missing and `create`.
fn write_zset<R>(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    create: bool,
    body: impl FnOnce(&mut dyn ZSetOps) -> R,
) -> Result<Option<R>, CmdError> {
    let db = ctx.db();
    Ok(storage::with_zset(ctx.txn, db, key, create, body)?)
}

/// Whether `score` is negative zero.
fn is_negative_zero(score: f64) -> bool {
    score == 0.0 && score.is_sign_negative()
}

/// Redis' thresholds of its compact sorted set encoding (listpack):
/// `zset-max-listpack-entries` and `zset-max-listpack-value`.
fn listpack_limits(ctx: &Ctx<'_>) -> (usize, usize) {
    let get = |name| usize::try_from(ctx.engine.config.get_i64(name)).unwrap_or(0);
    (
        get("zset-max-listpack-entries"),
        get("zset-max-listpack-value"),
    )
}

/// How a new sorted set is built, which decides where Redis folds `-0` into `0` (its
/// listpack stores integral scores as integers; its skiplist keeps `-0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Build {
    /// Added one by one to a listpack that converts when it outgrows the limits
    /// (ZRANGESTORE): members added before the conversion lose the sign.
    Sequential,
    /// Built whole, then made a listpack if it fits (ZUNIONSTORE, ZINTERSTORE,
    /// ZDIFFSTORE): all members lose the sign or none does.
    Whole,
}

/// Replaces whatever `dst` holds with a sorted set of `items` (Redis' `setKey`: any
/// type, any expiry, is dropped), or deletes `dst` when `items` is empty. Returns the
/// number of members stored.
pub(crate) fn store_zset(
    ctx: &mut Ctx<'_>,
    dst: &[u8],
    items: &[(Bytes, f64)],
    build: Build,
    event: &'static str,
) -> Result<usize, CmdError> {
    let db = ctx.db();
    let existed = ctx.txn.delete(db, dst)?;
    if items.is_empty() {
        if existed {
            ctx.notify(notify::GENERIC, "del", dst);
        }
        return Ok(0);
    }
    // How many leading members are stored in the compact encoding.
    let compact = if items.iter().any(|(_, s)| is_negative_zero(*s)) {
        let (max_entries, max_value) = listpack_limits(ctx);
        let first_long = items.iter().position(|(m, _)| m.len() > max_value);
        match build {
            Build::Sequential => first_long.unwrap_or(items.len()).min(max_entries),
            Build::Whole if first_long.is_none() && items.len() <= max_entries => items.len(),
            Build::Whole => 0,
        }
    } else {
        0
    };
    let stored = write_zset(ctx, dst, true, |z| {
        for (i, (member, score)) in items.iter().enumerate() {
            z.insert(member, if i < compact { folded(*score) } else { *score });
        }
        // A backend building the set member by member may have folded a -0 that Redis,
        // building it whole as a skiplist, keeps: the set is big now, so write it again.
        for (member, score) in &items[compact..] {
            if is_negative_zero(*score) && !z.score(member).is_some_and(is_negative_zero) {
                z.remove(member);
                z.insert(member, *score);
            }
        }
        z.len()
    })?;
    ctx.notify_new(!existed && ctx.notifying(notify::NEW), dst);
    ctx.notify(notify::ZSET, event, dst);
    Ok(stored.unwrap_or(0))
}

/// The score a listpack stores: `-0` becomes `0`.
fn folded(score: f64) -> f64 {
    if score == 0.0 {
        0.0
    } else {
        score
    }
}

/// A score reply, as Redis' `addReplyDouble`: a bulk string formatted like `%.17g`
/// (`inf`, `-inf` for infinities) in RESP2, a double frame in RESP3.
pub(crate) fn score_frame(ctx: &Ctx<'_>, score: f64) -> Frame {
    match ctx.session.resp {
        RespVersion::Resp2 => Frame::Bulk(Bytes::from(format_double_g17(score))),
        RespVersion::Resp3 => Frame::Double(score),
    }
}

/// Members, optionally with their scores, as ZRANGE and the algebra reply: a flat
/// `member score ...` array in RESP2, an array of `[member, score]` pairs in RESP3
/// (Redis avoids a map there because the order matters).
fn members_reply(ctx: &Ctx<'_>, items: Vec<(Bytes, f64)>, withscores: bool) -> Frame {
    if !withscores {
        return Frame::Array(items.into_iter().map(|(m, _)| Frame::Bulk(m)).collect());
    }
    let resp3 = ctx.session.resp == RespVersion::Resp3;
    let mut out = Vec::with_capacity(if resp3 { items.len() } else { items.len() * 2 });
    for (member, score) in items {
        if resp3 {
            out.push(Frame::Array(vec![
                Frame::Bulk(member),
                Frame::Double(score),
            ]));
        } else {
            out.push(Frame::Bulk(member));
            out.push(score_frame(ctx, score));
        }
    }
    Frame::Array(out)
}

/// Removes up to `count` members from the low end of the sorted set at `key` (the
/// high end when `max`) and returns them with their scores in pop order. `None` when
/// the key is missing; `WRONGTYPE` for another type, whatever `count` (even 0). Counts
/// no keyspace statistics, as Redis' `lookupKeyWrite`. Shared with the blocking
/// BZPOPMIN / BZPOPMAX / BZMPOP.
pub(crate) fn pop_many(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    max: bool,
    count: usize,
) -> Result<Option<Vec<(Bytes, f64)>>, CmdError> {
    let popped = write_zset(ctx, key, false, |z| {
        let mut items = Vec::with_capacity(count.min(z.len()));
        if count > 0 {
            z.range_by_rank(0, max, &mut |member, score| {
                items.push((Bytes::copy_from_slice(member), score));
                items.len() < count
            });
        }
        for (member, _) in &items {
            z.remove(member);
        }
        (items, z.is_empty())
    })?;
    let Some((items, emptied)) = popped else {
        return Ok(None);
    };
    if !items.is_empty() {
        ctx.notify(notify::ZSET, if max { "zpopmax" } else { "zpopmin" }, key);
        if emptied {
            ctx.notify(notify::GENERIC, "del", key);
        }
    }
    Ok(Some(items))
}

/// The reply of ZMPOP and BZMPOP: `[key, [[member, score], ...]]` in both protocols.
pub(crate) fn mpop_reply(ctx: &Ctx<'_>, key: Bytes, items: Vec<(Bytes, f64)>) -> Frame {
    let pairs = items
        .into_iter()
        .map(|(member, score)| Frame::Array(vec![Frame::Bulk(member), score_frame(ctx, score)]))
        .collect();
    Frame::Array(vec![Frame::Bulk(key), Frame::Array(pairs)])
}

/// Parses the `MIN | MAX` argument of ZMPOP and BZMPOP (case-insensitive): true for
/// MAX, `ERR syntax error` for anything else.
pub(crate) fn parse_min_max(arg: &[u8]) -> Result<bool, CmdError> {
    parse::min_max(arg)
}

/// A `long` argument that must lie in `min..=max`; `msg` replaces Redis' default error
/// texts, as `getRangeLongFromObjectOrReply` does when given one.
fn ranged_long(arg: &[u8], min: i64, max: i64, msg: Option<&str>) -> Result<i64, CmdError> {
    let value = match int(arg) {
        Ok(v) => v,
        Err(e) => return Err(msg.map_or(e, CmdError::err)),
    };
    if value < min || value > max {
        return Err(match msg {
            Some(msg) => CmdError::err(msg),
            None => CmdError::err(format!(
                "value is out of range, value must between {min} and {max}"
            )),
        });
    }
    Ok(value)
}

// ---------------------------------------------------------------------------------
// ZADD and ZINCRBY.
// ---------------------------------------------------------------------------------

const ZADD_NX: u8 = 1;
const ZADD_XX: u8 = 1 << 1;
const ZADD_GT: u8 = 1 << 2;
const ZADD_LT: u8 = 1 << 3;
const ZADD_INCR: u8 = 1 << 4;
const ZADD_CH: u8 = 1 << 5;

/// What ZADD did to the set.
#[derive(Default)]
struct ZaddOutcome {
    added: i64,
    updated: i64,
    processed: i64,
    /// The score of the last member processed (the reply of INCR).
    score: f64,
}

/// The flag of a ZADD option keyword.
fn zadd_option(opt: &[u8]) -> Option<u8> {
    [
        ("nx", ZADD_NX),
        ("xx", ZADD_XX),
        ("ch", ZADD_CH),
        ("incr", ZADD_INCR),
        ("gt", ZADD_GT),
        ("lt", ZADD_LT),
    ]
    .into_iter()
    .find(|(name, _)| is(opt, name))
    .map(|(_, flag)| flag)
}

/// ZADD and ZINCRBY, as Redis' `zaddGenericCommand`: options, then every score is
/// parsed before the set is touched, so the command applies fully or not at all.
pub(crate) fn zadd_generic(ctx: &mut Ctx<'_>, argv: &[Bytes], mut flags: u8) -> CmdResult {
    let mut idx = 2;
    while idx < argv.len() {
        let Some(flag) = zadd_option(&argv[idx]) else {
            break;
        };
        flags |= flag;
        idx += 1;
    }
    let has = |f: u8| flags & f != 0;
    let elements = argv.len() - idx;
    if !elements.is_multiple_of(2) || elements == 0 {
        return Err(CmdError::syntax());
    }
    let elements = elements / 2;
    if has(ZADD_NX) && has(ZADD_XX) {
        return Err(CmdError::err(
            "XX and NX options at the same time are not compatible",
        ));
    }
    if (has(ZADD_GT) && has(ZADD_NX))
        || (has(ZADD_LT) && has(ZADD_NX))
        || (has(ZADD_GT) && has(ZADD_LT))
    {
        return Err(CmdError::err(
            "GT, LT, and/or NX options at the same time are not compatible",
        ));
    }
    if has(ZADD_INCR) && elements > 1 {
        return Err(CmdError::err(
            "INCR option supports a single increment-element pair",
        ));
    }
    let mut pairs = Vec::with_capacity(elements);
    for j in 0..elements {
        pairs.push((parse::score(&argv[idx + 2 * j])?, &argv[idx + 2 * j + 1]));
    }
    let (nx, xx, gt, lt, incr) = (
        has(ZADD_NX),
        has(ZADD_XX),
        has(ZADD_GT),
        has(ZADD_LT),
        has(ZADD_INCR),
    );
    // Where a -0 score loses its sign (see `Build`) depends on the set's encoding:
    // known only when some score is -0, the only case where it matters.
    let mut listpack = None;
    if pairs.iter().any(|(score, _)| is_negative_zero(*score)) {
        let (max_entries, max_value) = listpack_limits(ctx);
        let db = ctx.db();
        let compact = match ctx.txn.object_info(db, &argv[1])? {
            Some(info) => info.encoding == "listpack",
            // A new set starts compact unless its first member is too long.
            None => max_entries > 0 && pairs[0].1.len() <= max_value,
        };
        listpack = compact.then_some((max_entries, max_value));
    }
    let mut new_key = false;
    let outcome = write_zset(ctx, &argv[1], !xx, |z| {
        // Stored sorted sets are never empty: an empty one is being created.
        new_key = z.is_empty();
        let mut out = ZaddOutcome::default();
        for (score, member) in pairs {
            match z.score(member) {
                Some(current) => {
                    if nx {
                        continue;
                    }
                    let mut score = score;
                    if incr {
                        score += current;
                        if score.is_nan() {
                            return Err(CmdError::err("resulting score is not a number (NaN)"));
                        }
                    }
                    if (lt && score >= current) || (gt && score <= current) {
                        continue;
                    }
                    out.processed += 1;
                    out.score = score;
                    if score != current {
                        z.insert(
                            member,
                            if listpack.is_some() {
                                folded(score)
                            } else {
                                score
                            },
                        );
                        out.updated += 1;
                    }
                }
                None if !xx => {
                    // A listpack converts before taking a member it cannot hold.
                    if let Some((max_entries, max_value)) = listpack {
                        if z.len() + 1 > max_entries || member.len() > max_value {
                            listpack = None;
                        }
                    }
                    z.insert(
                        member,
                        if listpack.is_some() {
                            folded(score)
                        } else {
                            score
                        },
                    );
                    out.added += 1;
                    out.processed += 1;
                    out.score = score;
                }
                None => {}
            }
        }
        Ok(out)
    })?;
    let outcome = outcome.transpose()?.unwrap_or_default();
    if outcome.added + outcome.updated > 0 {
        ctx.notify_new(new_key && ctx.notifying(notify::NEW), &argv[1]);
        ctx.notify(notify::ZSET, if incr { "zincr" } else { "zadd" }, &argv[1]);
    }
    if incr {
        return Ok(if outcome.processed > 0 {
            score_frame(ctx, outcome.score)
        } else {
            Frame::Null
        });
    }
    Ok(Frame::Integer(if has(ZADD_CH) {
        outcome.added + outcome.updated
    } else {
        outcome.added
    }))
}

fn zadd(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    zadd_generic(ctx, argv, 0)
}

fn zincrby(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    zadd_generic(ctx, argv, ZADD_INCR)
}

// ---------------------------------------------------------------------------------
// Single-key reads and ZREM.
// ---------------------------------------------------------------------------------

fn zrem(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let removed = write_zset(ctx, &argv[1], false, |z| {
        let n = argv[2..].iter().filter(|m| z.remove(m)).count();
        (n, z.is_empty())
    })?;
    let (removed, emptied) = removed.unwrap_or((0, false));
    if removed > 0 {
        ctx.notify(notify::ZSET, "zrem", &argv[1]);
        if emptied {
            ctx.notify(notify::GENERIC, "del", &argv[1]);
        }
    }
    Ok(Frame::Integer(removed as i64))
}

fn zcard(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let len = read_zset(ctx, &argv[1], |z| z.len())?;
    Ok(Frame::Integer(len.unwrap_or(0) as i64))
}

fn zcount(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let range = parse::score_range(&argv[2], &argv[3])?;
    let n = read_zset(ctx, &argv[1], |z| z.count_by_score(&range))?;
    Ok(Frame::Integer(n.unwrap_or(0) as i64))
}

fn zlexcount(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let range = parse::lex_range(&argv[2], &argv[3])?;
    let n = read_zset(ctx, &argv[1], |z| z.count_by_lex(&range))?;
    Ok(Frame::Integer(n.unwrap_or(0) as i64))
}

fn zscore(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let score = read_zset(ctx, &argv[1], |z| z.score(&argv[2]))?.flatten();
    Ok(score.map_or(Frame::Null, |s| score_frame(ctx, s)))
}

fn zmscore(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let members = &argv[2..];
    let scores = read_zset(ctx, &argv[1], |z| {
        members.iter().map(|m| z.score(m)).collect::<Vec<_>>()
    })?
    .unwrap_or_else(|| vec![None; members.len()]);
    Ok(Frame::Array(
        scores
            .into_iter()
            .map(|s| s.map_or(Frame::Null, |s| score_frame(ctx, s)))
            .collect(),
    ))
}

fn zrank_generic(ctx: &mut Ctx<'_>, argv: &[Bytes], rev: bool) -> CmdResult {
    let rank = read_zset(ctx, &argv[1], |z| z.rank(&argv[2], rev))?.flatten();
    Ok(rank.map_or(Frame::Null, |r| Frame::Integer(r as i64)))
}

fn zrank(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    zrank_generic(ctx, argv, false)
}

fn zrevrank(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    zrank_generic(ctx, argv, true)
}

// ---------------------------------------------------------------------------------
// ZPOPMIN, ZPOPMAX, ZMPOP.
// ---------------------------------------------------------------------------------

/// ZPOPMIN / ZPOPMAX: a flat `member score ...` array, except that RESP3 with a COUNT
/// argument nests `[member, score]` pairs.
fn zpop_generic(ctx: &mut Ctx<'_>, argv: &[Bytes], max: bool) -> CmdResult {
    if argv.len() > 3 {
        return Err(CmdError::syntax());
    }
    let count = match argv.get(2) {
        Some(arg) => Some(ranged_long(
            arg,
            0,
            i64::MAX,
            Some("value is out of range, must be positive"),
        )?),
        None => None,
    };
    let wanted = count.map_or(1, |c| usize::try_from(c).unwrap_or(usize::MAX));
    let items = pop_many(ctx, &argv[1], max, wanted)?.unwrap_or_default();
    let nested = count.is_some() && ctx.session.resp == RespVersion::Resp3;
    Ok(members_reply_nested(ctx, items, nested))
}

/// Pop replies: flat `member score` pairs, or nested pairs when `nested`.
fn members_reply_nested(ctx: &Ctx<'_>, items: Vec<(Bytes, f64)>, nested: bool) -> Frame {
    let mut out = Vec::with_capacity(items.len() * 2);
    for (member, score) in items {
        let score = score_frame(ctx, score);
        if nested {
            out.push(Frame::Array(vec![Frame::Bulk(member), score]));
        } else {
            out.push(Frame::Bulk(member));
            out.push(score);
        }
    }
    Frame::Array(out)
}

fn zpopmin(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    zpop_generic(ctx, argv, false)
}

fn zpopmax(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    zpop_generic(ctx, argv, true)
}

/// ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]: pops from the first key that
/// exists (a value of another type there is an error); nil when none does.
fn zmpop(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let numkeys = ranged_long(
        &argv[1],
        1,
        i64::MAX,
        Some("numkeys should be greater than 0"),
    )?;
    let numkeys = usize::try_from(numkeys).unwrap_or(usize::MAX);
    let where_idx = match numkeys.checked_add(2) {
        Some(i) if i < argv.len() => i,
        _ => return Err(CmdError::syntax()),
    };
    let max = parse_min_max(&argv[where_idx])?;
    let mut count = None;
    let mut j = where_idx + 1;
    while j < argv.len() {
        if count.is_none() && is(&argv[j], "count") && j + 1 < argv.len() {
            j += 1;
            count = Some(ranged_long(
                &argv[j],
                1,
                i64::MAX,
                Some("count should be greater than 0"),
            )?);
        } else {
            return Err(CmdError::syntax());
        }
        j += 1;
    }
    let count = usize::try_from(count.unwrap_or(1)).unwrap_or(usize::MAX);
    for key in &argv[2..where_idx] {
        if let Some(items) = pop_many(ctx, key, max, count)? {
            ctx.propagate_as(zpop_command(max, key, Some(items.len())));
            return Ok(mpop_reply(ctx, key.clone(), items));
        }
    }
    Ok(Frame::NullArray)
}

/// How a pop from `key` is propagated (Redis rewrites ZMPOP and the blocking pops
/// this way): `ZPOPMIN`/`ZPOPMAX key [count]`.
pub fn zpop_command(max: bool, key: &Bytes, count: Option<usize>) -> Vec<Bytes> {
    let name = if max { "ZPOPMAX" } else { "ZPOPMIN" };
    let mut argv = vec![arg(name), key.clone()];
    argv.extend(count.map(|n| int_arg(n as i64)));
    argv
}

// ---------------------------------------------------------------------------------
// ZRANDMEMBER.
// ---------------------------------------------------------------------------------

/// How many times larger than the request a set must be for ZRANDMEMBER to pick
/// members one by one instead of copying the set and dropping random ones (Redis'
/// `ZRANDMEMBER_SUB_STRATEGY_MUL`).
const SUB_STRATEGY_MUL: usize = 3;

/// The member at `rank` (ascending) with its score.
fn member_at(z: &mut dyn ZSetOps, rank: usize) -> Option<(Bytes, f64)> {
    let mut found = None;
    z.range_by_rank(rank, false, &mut |m, s| {
        found = Some((Bytes::copy_from_slice(m), s));
        false
    });
    found
}

/// Every member in ascending order (descending when `rev`).
fn all_members(z: &mut dyn ZSetOps, rev: bool) -> Vec<(Bytes, f64)> {
    let mut out = Vec::with_capacity(z.len());
    z.range_by_rank(0, rev, &mut |m, s| {
        out.push((Bytes::copy_from_slice(m), s));
        true
    });
    out
}

/// Room for `n` reply frames, refused with an error instead of exhausting memory (a
/// negative count may ask for 2^63 members; Redis would try).
fn reply_capacity<T>(n: usize) -> Result<Vec<T>, CmdError> {
    let mut out = Vec::new();
    out.try_reserve_exact(n)
        .map_err(|_| CmdError::err("Insufficient memory, failed allocating the reply"))?;
    Ok(out)
}

/// The picks of ZRANDMEMBER with a count, as `zrandmemberWithCountCommand`: with
/// repetitions for a negative count, else distinct members (the whole set, highest
/// score first, when the count covers it).
fn random_members(
    z: &mut dyn ZSetOps,
    count: usize,
    unique: bool,
) -> Result<Vec<(Bytes, f64)>, CmdError> {
    let size = z.len();
    let mut rng = rand::thread_rng();
    if !unique || count == 1 {
        let mut out = reply_capacity(count)?;
        if count.saturating_mul(8) >= size {
            let all = all_members(z, false);
            for _ in 0..count {
                out.push(all[rng.gen_range(0..size)].clone());
            }
        } else {
            for _ in 0..count {
                out.extend(member_at(z, rng.gen_range(0..size)));
            }
        }
        return Ok(out);
    }
    if count >= size {
        return Ok(all_members(z, true));
    }
    if count.saturating_mul(SUB_STRATEGY_MUL) > size {
        // Copy the set and drop random members until `count` remain.
        let mut all = all_members(z, false);
        while all.len() > count {
            let drop = rng.gen_range(0..all.len());
            all.swap_remove(drop);
        }
        return Ok(all);
    }
    let mut picked = std::collections::HashSet::with_capacity(count);
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        let rank = rng.gen_range(0..size);
        if picked.insert(rank) {
            out.extend(member_at(z, rank));
        }
    }
    Ok(out)
}

fn zrandmember(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    if argv.len() < 3 {
        let picked = read_zset(ctx, &argv[1], |z| {
            let size = z.len();
            member_at(z, rand::thread_rng().gen_range(0..size.max(1)))
        })?
        .flatten();
        return Ok(picked.map_or(Frame::Null, |(m, _)| Frame::Bulk(m)));
    }
    let l = ranged_long(&argv[2], -i64::MAX, i64::MAX, None)?;
    if argv.len() > 4 || (argv.len() == 4 && !is(&argv[3], "withscores")) {
        return Err(CmdError::syntax());
    }
    let withscores = argv.len() == 4;
    if withscores && !(-i64::MAX / 2..=i64::MAX / 2).contains(&l) {
        return Err(CmdError::err("value is out of range"));
    }
    let count = usize::try_from(l.unsigned_abs()).unwrap_or(usize::MAX);
    if count == 0 {
        // Still a lookup (and a WRONGTYPE check) in Redis.
        read_zset(ctx, &argv[1], |_| ())?;
        return Ok(Frame::Array(Vec::new()));
    }
    let picks = read_zset(ctx, &argv[1], |z| random_members(z, count, l > 0))?
        .transpose()?
        .unwrap_or_default();
    Ok(members_reply(ctx, picks, withscores))
}

// ---------------------------------------------------------------------------------
// ZSCAN.
// ---------------------------------------------------------------------------------

/// A score as ZSCAN prints it for a small (listpack-encoded in Redis) set: integral
/// scores within ±2^62 as integers, anything else as `%.17g`.
fn listpack_score_text(score: f64) -> String {
    let limit = (i64::MAX / 2) as f64;
    if score.fract() == 0.0 && (-limit..=limit).contains(&score) {
        (score as i64).to_string()
    } else {
        format_double_g17(score)
    }
}

/// ZSCAN key cursor [MATCH pattern] [COUNT count]. A set the backend keeps compact
/// (Redis' listpack) is returned whole with cursor 0, as Redis does, its scores printed
/// as the listpack stores them; a big one is paged by the backend, scores printed as
/// `%.17g`. Scores are bulk strings even in RESP3.
fn zscan(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let cursor = parse_cursor(&argv[2])?;
    // Redis parses the options only once it has found the key (a missing key answers
    // an empty page whatever follows).
    let options = parse_scan_options(argv, 3, false);
    let db = ctx.db();
    let compact = ctx
        .txn
        .object_info(db, &argv[1])?
        .is_some_and(|info| info.encoding == "listpack");
    let page = read_zset(ctx, &argv[1], |z| {
        let opts = options.as_ref().ok()?;
        let mut items: Vec<(Bytes, f64)> = Vec::new();
        let next = if compact {
            items = all_members(z, false);
            0
        } else {
            z.scan(cursor, opts.count, &mut |m, s| {
                items.push((Bytes::copy_from_slice(m), s));
            })
        };
        Some((next, items))
    })?;
    let Some(page) = page else {
        return Ok(Frame::Array(vec![
            Frame::bulk("0"),
            Frame::Array(Vec::new()),
        ]));
    };
    let pattern = options?.pattern;
    let (next, items) = page.unwrap_or_default();
    let mut out = Vec::with_capacity(items.len() * 2);
    for (member, score) in items {
        if pattern.is_some_and(|p| !glob_match(p, &member, false)) {
            continue;
        }
        let text = if compact {
            listpack_score_text(score)
        } else {
            format_double_g17(score)
        };
        out.push(Frame::Bulk(member));
        out.push(Frame::Bulk(Bytes::from(text)));
    }
    Ok(Frame::Array(vec![
        Frame::Bulk(Bytes::from(next.to_string())),
        Frame::Array(out),
    ]))
}
