//! Set commands: SADD SREM SCARD SISMEMBER SMISMEMBER SMEMBERS SPOP SRANDMEMBER SMOVE,
//! the algebra (SINTER SINTERCARD SINTERSTORE SUNION SUNIONSTORE SDIFF SDIFFSTORE) and
//! SSCAN, with Redis 7.0's replies, errors, lookup order and keyspace statistics.
//!
//! Every operation goes through element-level [`SetOps`] calls, so a disk backend never
//! loads a whole set to answer a membership question. Only one set is open at a time,
//! so the algebra works on candidate lists: SINTER copies the smallest set and probes
//! the others with `contains`; SDIFF copies the first set and, for each other set,
//! either probes it or walks it, whichever touches fewer members.

use std::collections::HashSet;

use bytes::Bytes;
use ferrokv_protocol::Frame;
use rand::Rng;

use crate::command::{CmdError, CmdFlags, CmdResult, CommandSpec, Ctx, Handler, KeyPositions};
use crate::commands::args::{int, is};
use crate::commands::keys::{parse_cursor, parse_scan_options};
use crate::notify;
use crate::propagate::arg;
use crate::storage::{self, SetOps};
use crate::util::glob::glob_match;
use crate::util::number::parse_i64;
use crate::util::slices::SliceBuffer;

const SET: &[&str] = &["set"];
const READ_FAST: CmdFlags = CmdFlags::READONLY.or(CmdFlags::FAST);
const WRITE_FAST: CmdFlags = CmdFlags::WRITE.or(CmdFlags::FAST);
const WRITE_OOM: CmdFlags = CmdFlags::WRITE.or(CmdFlags::DENYOOM);

/// A set command spec with the family's defaults (one key at index 1).
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
        acl: SET,
        keys: KeyPositions::FIRST,
        group: "set",
        since,
        summary,
        syntax,
        handler: Some(handler),
        ..CommandSpec::DEFAULT
    }
}

/// Set command specs.
pub static COMMANDS: &[CommandSpec] = &[
    spec(
        "sadd",
        -3,
        WRITE_OOM.or(CmdFlags::FAST),
        "1.0.0",
        "Adds one or more members to a set. Creates the key if it doesn't exist.",
        "key member [member ...]",
        sadd,
    ),
    spec(
        "srem",
        -3,
        WRITE_FAST,
        "1.0.0",
        "Removes one or more members from a set. Deletes the set if the last member was removed.",
        "key member [member ...]",
        srem,
    ),
    spec(
        "scard",
        2,
        READ_FAST,
        "1.0.0",
        "Returns the number of members in a set.",
        "key",
        scard,
    ),
    spec(
        "sismember",
        3,
        READ_FAST,
        "1.0.0",
        "Determines whether a member belongs to a set.",
        "key member",
        sismember,
    ),
    spec(
        "smismember",
        -3,
        READ_FAST,
        "6.2.0",
        "Determines whether multiple members belong to a set.",
        "key member [member ...]",
        smismember,
    ),
    spec(
        "smembers",
        2,
        CmdFlags::READONLY,
        "1.0.0",
        "Returns all members of a set.",
        "key",
        smembers,
    ),
    spec(
        "spop",
        -2,
        WRITE_FAST,
        "1.0.0",
        "Returns one or more random members from a set after removing them. Deletes the set if the last member was popped.",
        "key [count]",
        spop,
    ),
    spec(
        "srandmember",
        -2,
        CmdFlags::READONLY,
        "1.0.0",
        "Get one or multiple random members from a set",
        "key [count]",
        srandmember,
    ),
    CommandSpec {
        keys: KeyPositions::new(1, 2, 1),
        ..spec(
            "smove",
            4,
            WRITE_FAST,
            "1.0.0",
            "Moves a member from one set to another.",
            "source destination member",
            smove,
        )
    },
    CommandSpec {
        keys: KeyPositions::ALL,
        ..spec(
            "sinter",
            -2,
            CmdFlags::READONLY,
            "1.0.0",
            "Returns the intersect of multiple sets.",
            "key [key ...]",
            sinter,
        )
    },
    CommandSpec {
        keys: KeyPositions::numkeys(1),
        ..spec(
            "sintercard",
            -3,
            CmdFlags::READONLY,
            "7.0.0",
            "Returns the number of members of the intersect of multiple sets.",
            "numkeys key [key ...] [LIMIT limit]",
            sintercard,
        )
    },
    CommandSpec {
        keys: KeyPositions::ALL,
        ..spec(
            "sinterstore",
            -3,
            WRITE_OOM,
            "1.0.0",
            "Stores the intersect of multiple sets in a key.",
            "destination key [key ...]",
            sinterstore,
        )
    },
    CommandSpec {
        keys: KeyPositions::ALL,
        ..spec(
            "sunion",
            -2,
            CmdFlags::READONLY,
            "1.0.0",
            "Returns the union of multiple sets.",
            "key [key ...]",
            sunion,
        )
    },
    CommandSpec {
        keys: KeyPositions::ALL,
        ..spec(
            "sunionstore",
            -3,
            WRITE_OOM,
            "1.0.0",
            "Stores the union of multiple sets in a key.",
            "destination key [key ...]",
            sunionstore,
        )
    },
    CommandSpec {
        keys: KeyPositions::ALL,
        ..spec(
            "sdiff",
            -2,
            CmdFlags::READONLY,
            "1.0.0",
            "Returns the difference of multiple sets.",
            "key [key ...]",
            sdiff,
        )
    },
    CommandSpec {
        keys: KeyPositions::ALL,
        ..spec(
            "sdiffstore",
            -3,
            WRITE_OOM,
            "1.0.0",
            "Stores the difference of multiple sets in a key.",
            "destination key [key ...]",
            sdiffstore,
        )
    },
    spec(
        "sscan",
        -3,
        CmdFlags::READONLY,
        "2.8.0",
        "Iterates over members of a set.",
        "key cursor [MATCH pattern] [COUNT count]",
        sscan,
    ),
];

// ---------------------------------------------------------------------------------
// Lookups and reply helpers.
// ---------------------------------------------------------------------------------

/// Runs `body` on the set at `key` as Redis' `lookupKeyRead` would find it: counts a
/// keyspace hit (a set or a value of another type) or a miss, and fails with
/// `WRONGTYPE` for another type. `None` when the key is missing.
fn read_set<R>(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    body: impl FnOnce(&mut dyn SetOps) -> R,
) -> Result<Option<R>, CmdError> {
    let db = ctx.db();
    let found = storage::with_set(ctx.txn, db, key, false, body);
    ctx.counted_read(key, found)
}

/// Runs `body` on the set at `key` as a write command (`lookupKeyWrite` counts no
/// statistics), creating an empty set first when `create` is true.
fn write_set<R>(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    create: bool,
    body: impl FnOnce(&mut dyn SetOps) -> R,
) -> Result<Option<R>, CmdError> {
    let db = ctx.db();
    Ok(storage::with_set(ctx.txn, db, key, create, body)?)
}

/// Every member of a set, copied once.
fn all_members(s: &mut dyn SetOps) -> Vec<Bytes> {
    let mut out = SliceBuffer::with_capacity(s.len());
    s.for_each(&mut |m| {
        out.push(m);
        true
    });
    out.into_bytes().collect()
}

/// Members as a RESP3 set reply (an array in RESP2), as SMEMBERS and the algebra send.
fn set_reply(members: impl IntoIterator<Item = Bytes>) -> Frame {
    Frame::Set(members.into_iter().map(Frame::Bulk).collect())
}

/// The reply frames of `count` picks, refusing a count no allocation can hold (Redis
/// would try and exhaust memory; a negative SRANDMEMBER count may ask for 2^63).
fn reply_buffer(count: u64) -> Result<Vec<Frame>, CmdError> {
    let mut out = Vec::new();
    let fits = usize::try_from(count)
        .ok()
        .is_some_and(|n| out.try_reserve_exact(n).is_ok());
    if fits {
        Ok(out)
    } else {
        Err(CmdError::err(
            "Insufficient memory, failed allocating the reply",
        ))
    }
}

/// Picks `count` distinct members of `all` uniformly (partial Fisher-Yates shuffle).
fn sample_distinct(mut all: Vec<Bytes>, count: usize, rng: &mut impl Rng) -> Vec<Bytes> {
    let count = count.min(all.len());
    for i in 0..count {
        let j = rng.gen_range(i..all.len());
        all.swap(i, j);
    }
    all.truncate(count);
    all
}

// ---------------------------------------------------------------------------------
// Single-set commands.
// ---------------------------------------------------------------------------------

fn sadd(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let mut new_key = false;
    let added = write_set(ctx, &argv[1], true, |s| {
        // Stored sets are never empty: an empty one is being created.
        new_key = s.is_empty();
        argv[2..].iter().filter(|m| s.insert(m)).count()
    })?;
    let added = added.unwrap_or(0);
    if added > 0 {
        ctx.notify_new(new_key && ctx.notifying(notify::NEW), &argv[1]);
        ctx.notify(notify::SET, "sadd", &argv[1]);
    }
    Ok(Frame::Integer(added as i64))
}

fn srem(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let removed = write_set(ctx, &argv[1], false, |s| {
        let n = argv[2..].iter().filter(|m| s.remove(m)).count();
        (n, s.is_empty())
    })?;
    let (removed, emptied) = removed.unwrap_or((0, false));
    if removed > 0 {
        ctx.notify(notify::SET, "srem", &argv[1]);
        if emptied {
            ctx.notify(notify::GENERIC, "del", &argv[1]);
        }
    }
    Ok(Frame::Integer(removed as i64))
}

fn scard(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let len = read_set(ctx, &argv[1], |s| s.len())?;
    Ok(Frame::Integer(len.unwrap_or(0) as i64))
}

fn sismember(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let found = read_set(ctx, &argv[1], |s| s.contains(&argv[2]))?;
    Ok(Frame::Integer(i64::from(found.unwrap_or(false))))
}

/// SMISMEMBER: a missing key is an empty set, so it answers zeros.
fn smismember(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let members = &argv[2..];
    let found = read_set(ctx, &argv[1], |s| {
        members
            .iter()
            .map(|m| Frame::Integer(i64::from(s.contains(m))))
            .collect::<Vec<_>>()
    })?;
    Ok(Frame::Array(
        found.unwrap_or_else(|| vec![Frame::Integer(0); members.len()]),
    ))
}

/// SMEMBERS (in Redis 7.0, SINTER of one key): a set reply.
fn smembers(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let members = read_set(ctx, &argv[1], all_members)?;
    Ok(set_reply(members.unwrap_or_default()))
}

/// Parses a count that must be >= 0; a non-integer gets the same message.
fn non_negative(arg: &[u8], msg: &str) -> Result<u64, CmdError> {
    match parse_i64(arg) {
        Some(n) if n >= 0 => Ok(n as u64),
        _ => Err(CmdError::err(msg)),
    }
}

/// SPOP key: one random member, removed; nil for a missing key.
fn spop(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    match argv.len() {
        2 => {}
        3 => return spop_count(ctx, argv),
        _ => return Err(CmdError::syntax()),
    }
    let seed: u64 = rand::thread_rng().gen();
    let popped = write_set(ctx, &argv[1], false, |s| {
        let member = s.random(seed)?;
        s.remove(&member);
        Some((member, s.is_empty()))
    })?;
    let Some((member, emptied)) = popped.flatten() else {
        return Ok(Frame::Null);
    };
    ctx.notify(notify::SET, "spop", &argv[1]);
    if emptied {
        ctx.notify(notify::GENERIC, "del", &argv[1]);
    }
    // The random choice is made here only: replicas and the AOF remove that member.
    ctx.propagate_as(vec![arg("SREM"), argv[1].clone(), member.clone()]);
    Ok(Frame::Bulk(member))
}

/// How much larger than the members left behind a pop must be before SPOP copies the
/// set and samples it instead of drawing members one at a time (Redis' strategy).
const SPOP_MOVE_STRATEGY_MUL: usize = 5;

/// SPOP key count: `count` distinct members, removed, as a set reply. The count is
/// checked before the key, as Redis does; popping everything deletes the key.
fn spop_count(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let count = non_negative(&argv[2], "value is out of range, must be positive")?;
    let mut rng = rand::thread_rng();
    let popped = write_set(ctx, &argv[1], false, |s| {
        let size = s.len();
        if count == 0 {
            return (Vec::new(), false);
        }
        if count >= size as u64 {
            return (all_members(s), true);
        }
        let count = count as usize;
        let remaining = size - count;
        let chosen = if remaining * SPOP_MOVE_STRATEGY_MUL > count {
            let mut chosen = Vec::with_capacity(count);
            while chosen.len() < count {
                let Some(member) = s.random(rng.gen()) else {
                    break;
                };
                s.remove(&member);
                chosen.push(member);
            }
            chosen
        } else {
            let chosen = sample_distinct(all_members(s), count, &mut rng);
            for member in &chosen {
                s.remove(member);
            }
            chosen
        };
        (chosen, false)
    })?;
    let Some((members, delete_key)) = popped else {
        return Ok(Frame::Set(Vec::new()));
    };
    if count > 0 {
        ctx.notify(notify::SET, "spop", &argv[1]);
    }
    if delete_key {
        let db = ctx.db();
        ctx.txn.delete(db, &argv[1])?;
        ctx.notify(notify::GENERIC, "del", &argv[1]);
        ctx.propagate_as(vec![arg("DEL"), argv[1].clone()]);
    } else if !members.is_empty() && ctx.propagating() {
        let mut srem = vec![arg("SREM"), argv[1].clone()];
        srem.extend(members.iter().cloned());
        ctx.propagate_as(srem);
    }
    Ok(set_reply(members))
}

/// How much larger than the count a set must be before SRANDMEMBER draws distinct
/// members one at a time instead of sampling a copy (Redis' strategy).
const SRANDMEMBER_SUB_STRATEGY_MUL: u64 = 3;

/// SRANDMEMBER key [count].
fn srandmember(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    match argv.len() {
        2 => {}
        3 => return srandmember_count(ctx, argv),
        _ => return Err(CmdError::syntax()),
    }
    let seed: u64 = rand::thread_rng().gen();
    let picked = read_set(ctx, &argv[1], |s| s.random(seed))?;
    Ok(picked.flatten().map_or(Frame::Null, Frame::Bulk))
}

/// SRANDMEMBER key count: a positive count gives distinct members (at most the whole
/// set), a negative one `-count` independent picks. An array reply, even in RESP3.
fn srandmember_count(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let n = int(&argv[2])?;
    if n == i64::MIN {
        return Err(CmdError::err(
            "value is out of range, value must between -9223372036854775807 and 9223372036854775807",
        ));
    }
    let (count, unique) = (n.unsigned_abs(), n >= 0);
    let mut rng = rand::thread_rng();
    let picked = read_set(ctx, &argv[1], |s| -> Result<Vec<Frame>, CmdError> {
        if count == 0 {
            return Ok(Vec::new());
        }
        let size = s.len() as u64;
        if !unique || count == 1 {
            let mut out = reply_buffer(count)?;
            for _ in 0..count {
                match s.random(rng.gen()) {
                    Some(m) => out.push(Frame::Bulk(m)),
                    None => break,
                }
            }
            return Ok(out);
        }
        if count >= size {
            return Ok(all_members(s).into_iter().map(Frame::Bulk).collect());
        }
        let count = count as usize;
        let chosen = if count as u64 * SRANDMEMBER_SUB_STRATEGY_MUL > size {
            sample_distinct(all_members(s), count, &mut rng)
        } else {
            // Draw until `count` distinct members; with a uniform draw this takes
            // about 1.2 * count draws. A backend with a skewed `random` must not
            // make this loop forever, so past a generous budget sample a copy.
            let mut seen: HashSet<Bytes> = HashSet::with_capacity(count);
            let mut chosen = Vec::with_capacity(count);
            let mut budget = count.saturating_mul(16).saturating_add(64);
            while chosen.len() < count && budget > 0 {
                budget -= 1;
                let Some(member) = s.random(rng.gen()) else {
                    break;
                };
                if seen.insert(member.clone()) {
                    chosen.push(member);
                }
            }
            if chosen.len() < count {
                sample_distinct(all_members(s), count, &mut rng)
            } else {
                chosen
            }
        };
        Ok(chosen.into_iter().map(Frame::Bulk).collect())
    })?;
    match picked {
        None => Ok(Frame::Array(Vec::new())),
        Some(frames) => Ok(Frame::Array(frames?)),
    }
}

/// SMOVE source destination member: 0 when the source is missing (whatever the
/// destination holds); WRONGTYPE if either key holds another type; moving within one
/// set reports membership and changes nothing.
fn smove(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let (src, dst, member) = (&argv[1], &argv[2], &argv[3]);
    let db = ctx.db();
    let is_set = |m: storage::KeyMeta| m.key_type == storage::KeyType::Set;
    match ctx.txn.meta(db, src)? {
        None => return Ok(Frame::Integer(0)),
        Some(m) if !is_set(m) => return Err(CmdError::wrong_type()),
        Some(_) => {}
    }
    if src == dst {
        let found = write_set(ctx, src, false, |s| s.contains(member))?;
        return Ok(Frame::Integer(i64::from(found.unwrap_or(false))));
    }
    let dst_meta = ctx.txn.meta(db, dst)?;
    if dst_meta.is_some_and(|m| !is_set(m)) {
        return Err(CmdError::wrong_type());
    }
    let removed = write_set(ctx, src, false, |s| (s.remove(member), s.is_empty()))?;
    let Some((true, emptied)) = removed else {
        return Ok(Frame::Integer(0));
    };
    ctx.notify(notify::SET, "srem", src);
    if emptied {
        ctx.notify(notify::GENERIC, "del", src);
    }
    let added = write_set(ctx, dst, true, |s| s.insert(member))?;
    if added == Some(true) {
        ctx.notify_new(dst_meta.is_none() && ctx.notifying(notify::NEW), dst);
        ctx.notify(notify::SET, "sadd", dst);
    }
    Ok(Frame::Integer(1))
}

// ---------------------------------------------------------------------------------
// Set algebra.
// ---------------------------------------------------------------------------------

/// Sizes of the sets at `keys`, looked up in order as Redis does (each lookup counted;
/// the first key of another type stops with `WRONGTYPE`). `None` marks a missing key.
fn set_sizes(ctx: &mut Ctx<'_>, keys: &[Bytes]) -> Result<Vec<Option<usize>>, CmdError> {
    keys.iter().map(|k| read_set(ctx, k, |s| s.len())).collect()
}

/// Keeps the `candidates` present in the set at `key` (all of them are dropped if the
/// key is gone).
fn retain_in(ctx: &mut Ctx<'_>, key: &[u8], candidates: &mut Vec<Bytes>) -> Result<(), CmdError> {
    let found = write_set(ctx, key, false, |s| candidates.retain(|m| s.contains(m)))?;
    if found.is_none() {
        candidates.clear();
    }
    Ok(())
}

/// How many candidates SINTERCARD LIMIT checks against every set before looking at
/// the count, so that a small limit stops early without opening each set per member.
const INTERCARD_CHUNK: usize = 256;

/// Members in every set at `keys` (none if one is missing), at most `limit` of them
/// when `limit > 0`. Types are checked for every key first, as Redis does.
fn intersection(ctx: &mut Ctx<'_>, keys: &[Bytes], limit: usize) -> Result<Vec<Bytes>, CmdError> {
    let sizes = set_sizes(ctx, keys)?;
    let Some(sizes) = sizes.into_iter().collect::<Option<Vec<usize>>>() else {
        return Ok(Vec::new());
    };
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by_key(|&i| sizes[i]);
    let smallest = &keys[order[0]];
    let mut distinct: HashSet<&[u8]> = HashSet::with_capacity(keys.len());
    distinct.insert(smallest);
    let others: Vec<&Bytes> = order[1..]
        .iter()
        .map(|&i| &keys[i])
        .filter(|k| distinct.insert(k))
        .collect();
    let mut candidates = write_set(ctx, smallest, false, all_members)?.unwrap_or_default();
    if limit == 0 || candidates.len() <= limit {
        for key in others {
            if candidates.is_empty() {
                break;
            }
            retain_in(ctx, key, &mut candidates)?;
        }
        if limit > 0 {
            candidates.truncate(limit);
        }
        return Ok(candidates);
    }
    let mut found = Vec::new();
    for chunk in candidates.chunks(INTERCARD_CHUNK.max(limit)) {
        let mut part = chunk.to_vec();
        for key in &others {
            if part.is_empty() {
                break;
            }
            retain_in(ctx, key, &mut part)?;
        }
        found.extend(part);
        if found.len() >= limit {
            found.truncate(limit);
            break;
        }
    }
    Ok(found)
}

/// Members of any set at `keys` (missing keys are empty).
fn union(ctx: &mut Ctx<'_>, keys: &[Bytes]) -> Result<Vec<Bytes>, CmdError> {
    let sizes = set_sizes(ctx, keys)?;
    let mut seen_keys: HashSet<&[u8]> = HashSet::with_capacity(keys.len());
    let mut seen: HashSet<Bytes> = HashSet::new();
    let mut out = Vec::new();
    for (key, size) in keys.iter().zip(&sizes) {
        if size.is_none() || !seen_keys.insert(key) {
            continue;
        }
        write_set(ctx, key, false, |s| {
            s.for_each(&mut |m| {
                if !seen.contains(m) {
                    let m = Bytes::copy_from_slice(m);
                    seen.insert(m.clone());
                    out.push(m);
                }
                true
            })
        })?;
    }
    Ok(out)
}

/// Members of the first set at `keys` in none of the others (missing keys are empty).
/// Each other set is either probed for every remaining candidate or walked once,
/// whichever is smaller.
fn difference(ctx: &mut Ctx<'_>, keys: &[Bytes]) -> Result<Vec<Bytes>, CmdError> {
    let sizes = set_sizes(ctx, keys)?;
    let first = &keys[0];
    if sizes[0].is_none() || keys[1..].contains(first) {
        return Ok(Vec::new());
    }
    let mut result: HashSet<Bytes> = write_set(ctx, first, false, |s| {
        let mut out = HashSet::with_capacity(s.len());
        s.for_each(&mut |m| {
            out.insert(Bytes::copy_from_slice(m));
            true
        });
        out
    })?
    .unwrap_or_default();
    let mut seen_keys: HashSet<&[u8]> = HashSet::with_capacity(keys.len());
    for (key, size) in keys.iter().zip(&sizes).skip(1) {
        if result.is_empty() {
            break;
        }
        let Some(size) = *size else { continue };
        if !seen_keys.insert(key) {
            continue;
        }
        write_set(ctx, key, false, |s| {
            if size < result.len() {
                s.for_each(&mut |m| {
                    result.remove(m);
                    !result.is_empty()
                });
            } else {
                result.retain(|m| !s.contains(m));
            }
        })?;
    }
    Ok(result.into_iter().collect())
}

/// Replaces `dest` with a set of `members` (distinct), or deletes it when there are
/// none; replies with the new cardinality. The old value's type and expiry go.
fn store(ctx: &mut Ctx<'_>, dest: &[u8], members: Vec<Bytes>, event: &'static str) -> CmdResult {
    let db = ctx.db();
    let existed = ctx.txn.delete(db, dest)?;
    if members.is_empty() {
        if existed {
            ctx.notify(notify::GENERIC, "del", dest);
        }
        return Ok(Frame::Integer(0));
    }
    let added = write_set(ctx, dest, true, |s| {
        members.iter().filter(|m| s.insert(m)).count()
    })?;
    ctx.notify_new(!existed && ctx.notifying(notify::NEW), dest);
    ctx.notify(notify::SET, event, dest);
    Ok(Frame::Integer(added.unwrap_or(0) as i64))
}

fn sinter(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    Ok(set_reply(intersection(ctx, &argv[1..], 0)?))
}

fn sinterstore(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let members = intersection(ctx, &argv[2..], 0)?;
    store(ctx, &argv[1], members, "sinterstore")
}

/// SINTERCARD numkeys key [key ...] [LIMIT limit]; a repeated LIMIT takes the last.
fn sintercard(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let numkeys = match parse_i64(&argv[1]) {
        Some(n) if n >= 1 => n as u64,
        _ => return Err(CmdError::err("numkeys should be greater than 0")),
    };
    if numkeys > (argv.len() - 2) as u64 {
        return Err(CmdError::err(
            "Number of keys can't be greater than number of args",
        ));
    }
    let keys_end = 2 + numkeys as usize;
    let mut limit = 0u64;
    let mut j = keys_end;
    while j < argv.len() {
        if is(&argv[j], "limit") && j + 1 < argv.len() {
            j += 1;
            limit = non_negative(&argv[j], "LIMIT can't be negative")?;
        } else {
            return Err(CmdError::syntax());
        }
        j += 1;
    }
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let members = intersection(ctx, &argv[2..keys_end], limit)?;
    Ok(Frame::Integer(members.len() as i64))
}

fn sunion(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    Ok(set_reply(union(ctx, &argv[1..])?))
}

fn sunionstore(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let members = union(ctx, &argv[2..])?;
    store(ctx, &argv[1], members, "sunionstore")
}

fn sdiff(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    Ok(set_reply(difference(ctx, &argv[1..])?))
}

fn sdiffstore(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let members = difference(ctx, &argv[2..])?;
    store(ctx, &argv[1], members, "sdiffstore")
}

/// SSCAN key cursor [MATCH pattern] [COUNT count]. As in Redis, the cursor is parsed
/// first, then the key is looked up (a missing key answers an empty page whatever the
/// options), and only then are the options checked.
fn sscan(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let cursor = parse_cursor(&argv[2])?;
    let opts = parse_scan_options(argv, 3, false);
    let page = read_set(ctx, &argv[1], |s| {
        let opts = opts.as_ref().ok()?;
        let mut found = Vec::new();
        let next = s.scan(cursor, opts.count, &mut |m| {
            if opts.pattern.is_none_or(|p| glob_match(p, m, false)) {
                found.push(Frame::bulk(m));
            }
        });
        Some((next, found))
    })?;
    let (next, found) = match page {
        None => (0, Vec::new()),
        Some(Some(page)) => page,
        Some(None) => return Err(opts.err().unwrap_or_else(CmdError::syntax)),
    };
    Ok(Frame::Array(vec![
        Frame::bulk(next.to_string()),
        Frame::Array(found),
    ]))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use bytes::Bytes;
    use ferrokv_protocol::Frame;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use crate::engine::Engine;
    use crate::stats::Stats;
    use crate::testing::{engine, run, session};
    use crate::Session;

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

    fn wrongtype() -> Frame {
        err("WRONGTYPE Operation against a key holding the wrong kind of value")
    }

    fn syntax() -> Frame {
        err("ERR syntax error")
    }

    fn empty_set() -> Frame {
        Frame::Set(Vec::new())
    }

    /// The members of a set or array reply of bulks, sorted.
    fn sorted(frame: &Frame) -> Vec<String> {
        let items = match frame {
            Frame::Set(items) | Frame::Array(items) => items,
            other => panic!("not a collection: {other:?}"),
        };
        let mut out: Vec<String> = items
            .iter()
            .map(|f| match f {
                Frame::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
                other => panic!("not a bulk: {other:?}"),
            })
            .collect();
        out.sort();
        out
    }

    fn is_set_reply(frame: &Frame) -> bool {
        matches!(frame, Frame::Set(_))
    }

    fn setup() -> (Engine, Session) {
        let e = engine();
        let s = session(&e);
        (e, s)
    }

    fn hits(e: &Engine) -> u64 {
        Stats::get(&e.stats.keyspace_hits)
    }

    fn misses(e: &Engine) -> u64 {
        Stats::get(&e.stats.keyspace_misses)
    }

    #[test]
    fn sadd_srem_scard() {
        let (e, mut s) = setup();
        assert_eq!(run(&e, &mut s, &["SADD", "s", "a", "b", "a"]), int(2));
        assert_eq!(run(&e, &mut s, &["SADD", "s", "b", "c"]), int(1));
        assert_eq!(run(&e, &mut s, &["SADD", "s", "a"]), int(0));
        assert_eq!(run(&e, &mut s, &["SCARD", "s"]), int(3));
        assert_eq!(run(&e, &mut s, &["TYPE", "s"]), Frame::simple("set"));
        assert_eq!(run(&e, &mut s, &["SREM", "s", "a", "z", "a"]), int(1));
        assert_eq!(run(&e, &mut s, &["SREM", "missing", "a"]), int(0));
        assert_eq!(run(&e, &mut s, &["SCARD", "s"]), int(2));
        assert_eq!(run(&e, &mut s, &["SCARD", "missing"]), int(0));
        // Removing the last member deletes the key.
        assert_eq!(run(&e, &mut s, &["SREM", "s", "b", "c", "d"]), int(2));
        assert_eq!(run(&e, &mut s, &["EXISTS", "s"]), int(0));
        // Binary-safe and empty members.
        assert_eq!(run(&e, &mut s, &["SADD", "s", "", "\r\n"]), int(2));
        assert_eq!(run(&e, &mut s, &["SISMEMBER", "s", ""]), int(1));
        // Wrong type and arity.
        run(&e, &mut s, &["SET", "str", "x"]);
        assert_eq!(run(&e, &mut s, &["SADD", "str", "a"]), wrongtype());
        assert_eq!(run(&e, &mut s, &["SREM", "str", "a"]), wrongtype());
        assert_eq!(run(&e, &mut s, &["SCARD", "str"]), wrongtype());
        assert_eq!(run(&e, &mut s, &["GET", "str"]), bulk("x"));
        assert_eq!(run(&e, &mut s, &["SADD", "s"]), arity("sadd"));
        assert_eq!(run(&e, &mut s, &["SREM", "s"]), arity("srem"));
        assert_eq!(run(&e, &mut s, &["SCARD"]), arity("scard"));
        assert_eq!(run(&e, &mut s, &["SCARD", "a", "b"]), arity("scard"));
    }

    #[test]
    fn sadd_keeps_expiry_and_srem_deletes_volatile_key() {
        let (e, mut s) = setup();
        run(&e, &mut s, &["SADD", "s", "a"]);
        assert_eq!(run(&e, &mut s, &["EXPIRE", "s", "100"]), int(1));
        assert_eq!(run(&e, &mut s, &["SADD", "s", "b"]), int(1));
        assert_eq!(run(&e, &mut s, &["TTL", "s"]), int(100));
        assert_eq!(run(&e, &mut s, &["SREM", "s", "a", "b"]), int(2));
        assert_eq!(run(&e, &mut s, &["TTL", "s"]), int(-2));
    }

    #[test]
    fn sismember_smismember() {
        let (e, mut s) = setup();
        run(&e, &mut s, &["SADD", "s", "a", "1"]);
        assert_eq!(run(&e, &mut s, &["SISMEMBER", "s", "a"]), int(1));
        assert_eq!(run(&e, &mut s, &["SISMEMBER", "s", "1"]), int(1));
        assert_eq!(run(&e, &mut s, &["SISMEMBER", "s", "01"]), int(0));
        assert_eq!(run(&e, &mut s, &["SISMEMBER", "missing", "a"]), int(0));
        assert_eq!(
            run(&e, &mut s, &["SMISMEMBER", "s", "a", "b", "1", "a"]),
            Frame::Array(vec![int(1), int(0), int(1), int(1)])
        );
        assert_eq!(
            run(&e, &mut s, &["SMISMEMBER", "missing", "a", "b"]),
            Frame::Array(vec![int(0), int(0)])
        );
        run(&e, &mut s, &["SET", "str", "x"]);
        assert_eq!(run(&e, &mut s, &["SISMEMBER", "str", "a"]), wrongtype());
        assert_eq!(run(&e, &mut s, &["SMISMEMBER", "str", "a"]), wrongtype());
        assert_eq!(run(&e, &mut s, &["SISMEMBER", "s"]), arity("sismember"));
        assert_eq!(
            run(&e, &mut s, &["SISMEMBER", "s", "a", "b"]),
            arity("sismember")
        );
        assert_eq!(run(&e, &mut s, &["SMISMEMBER", "s"]), arity("smismember"));
    }

    #[test]
    fn smembers_is_a_set_reply() {
        let (e, mut s) = setup();
        assert_eq!(run(&e, &mut s, &["SMEMBERS", "missing"]), empty_set());
        run(&e, &mut s, &["SADD", "s", "c", "a", "b"]);
        let reply = run(&e, &mut s, &["SMEMBERS", "s"]);
        assert!(is_set_reply(&reply));
        assert_eq!(sorted(&reply), ["a", "b", "c"]);
        run(&e, &mut s, &["SET", "str", "x"]);
        assert_eq!(run(&e, &mut s, &["SMEMBERS", "str"]), wrongtype());
        assert_eq!(run(&e, &mut s, &["SMEMBERS"]), arity("smembers"));
        assert_eq!(run(&e, &mut s, &["SMEMBERS", "a", "b"]), arity("smembers"));
    }

    #[test]
    fn read_commands_count_hits_and_misses() {
        let (e, mut s) = setup();
        run(&e, &mut s, &["SADD", "s", "a"]);
        run(&e, &mut s, &["SET", "str", "x"]);
        // Writes count nothing.
        run(&e, &mut s, &["SREM", "missing", "a"]);
        run(&e, &mut s, &["SPOP", "missing"]);
        run(&e, &mut s, &["SMOVE", "missing", "s", "a"]);
        assert_eq!((hits(&e), misses(&e)), (0, 0));
        run(&e, &mut s, &["SCARD", "s"]);
        run(&e, &mut s, &["SISMEMBER", "missing", "a"]);
        run(&e, &mut s, &["SMEMBERS", "str"]);
        assert_eq!((hits(&e), misses(&e)), (2, 1));
        // The algebra looks every source up, stores included; the destination is not.
        run(&e, &mut s, &["SINTER", "s", "missing", "s"]);
        assert_eq!((hits(&e), misses(&e)), (4, 2));
        run(&e, &mut s, &["SUNIONSTORE", "dst", "s", "missing"]);
        assert_eq!((hits(&e), misses(&e)), (5, 3));
        run(&e, &mut s, &["SINTERCARD", "2", "s", "s"]);
        run(&e, &mut s, &["SRANDMEMBER", "missing", "3"]);
        run(&e, &mut s, &["SSCAN", "s", "0"]);
        assert_eq!((hits(&e), misses(&e)), (8, 4));
    }

    #[test]
    fn spop_single() {
        let (e, mut s) = setup();
        assert_eq!(run(&e, &mut s, &["SPOP", "missing"]), Frame::Null);
        run(&e, &mut s, &["SADD", "s", "a", "b", "c"]);
        let mut popped = Vec::new();
        for _ in 0..3 {
            match run(&e, &mut s, &["SPOP", "s"]) {
                Frame::Bulk(b) => popped.push(String::from_utf8(b.to_vec()).unwrap()),
                other => panic!("{other:?}"),
            }
        }
        popped.sort();
        assert_eq!(popped, ["a", "b", "c"]);
        assert_eq!(run(&e, &mut s, &["EXISTS", "s"]), int(0));
        assert_eq!(run(&e, &mut s, &["SPOP", "s"]), Frame::Null);
        run(&e, &mut s, &["SET", "str", "x"]);
        assert_eq!(run(&e, &mut s, &["SPOP", "str"]), wrongtype());
        assert_eq!(run(&e, &mut s, &["SPOP"]), arity("spop"));
        assert_eq!(run(&e, &mut s, &["SPOP", "s", "1", "2"]), syntax());
    }

    #[test]
    fn spop_count() {
        let (e, mut s) = setup();
        // The count is checked before the key.
        let range = err("ERR value is out of range, must be positive");
        assert_eq!(run(&e, &mut s, &["SPOP", "missing", "-1"]), range);
        assert_eq!(run(&e, &mut s, &["SPOP", "missing", "abc"]), range);
        assert_eq!(run(&e, &mut s, &["SPOP", "missing", "1.5"]), range);
        assert_eq!(run(&e, &mut s, &["SPOP", "missing", "3"]), empty_set());
        assert_eq!(run(&e, &mut s, &["SPOP", "missing", "0"]), empty_set());
        run(&e, &mut s, &["SET", "str", "x"]);
        assert_eq!(run(&e, &mut s, &["SPOP", "str", "0"]), wrongtype());
        assert_eq!(run(&e, &mut s, &["SPOP", "str", "-1"]), range);

        let members: Vec<String> = (0..50).map(|i| format!("m{i}")).collect();
        let mut cmd = vec!["SADD", "s"];
        cmd.extend(members.iter().map(String::as_str));
        run(&e, &mut s, &cmd);
        assert_eq!(run(&e, &mut s, &["SPOP", "s", "0"]), empty_set());
        let mut all = BTreeSet::new();
        // Small pops (one draw at a time), then a large one (sampling a copy).
        for count in [1usize, 3, 5, 40] {
            let reply = run(&e, &mut s, &["SPOP", "s", &count.to_string()]);
            assert!(is_set_reply(&reply));
            let got = sorted(&reply);
            assert_eq!(got.len(), count);
            for m in got {
                assert!(all.insert(m), "popped twice");
            }
        }
        assert_eq!(run(&e, &mut s, &["SCARD", "s"]), int(1));
        // Asking for more than is left returns the rest and deletes the key.
        let rest = sorted(&run(&e, &mut s, &["SPOP", "s", "10"]));
        assert_eq!(rest.len(), 1);
        all.extend(rest);
        assert_eq!(all.into_iter().collect::<BTreeSet<_>>().len(), 50);
        assert_eq!(run(&e, &mut s, &["EXISTS", "s"]), int(0));
        // Exactly the size.
        run(&e, &mut s, &["SADD", "t", "a", "b"]);
        assert_eq!(sorted(&run(&e, &mut s, &["SPOP", "t", "2"])), ["a", "b"]);
        assert_eq!(run(&e, &mut s, &["EXISTS", "t"]), int(0));
    }

    #[test]
    fn srandmember_single_and_errors() {
        let (e, mut s) = setup();
        assert_eq!(run(&e, &mut s, &["SRANDMEMBER", "missing"]), Frame::Null);
        assert_eq!(
            run(&e, &mut s, &["SRANDMEMBER", "missing", "5"]),
            Frame::Array(vec![])
        );
        assert_eq!(
            run(&e, &mut s, &["SRANDMEMBER", "missing", "-5"]),
            Frame::Array(vec![])
        );
        run(&e, &mut s, &["SADD", "s", "a", "b", "c"]);
        for _ in 0..10 {
            let m = run(&e, &mut s, &["SRANDMEMBER", "s"]);
            assert!([bulk("a"), bulk("b"), bulk("c")].contains(&m));
        }
        assert_eq!(run(&e, &mut s, &["SCARD", "s"]), int(3));
        assert_eq!(
            run(&e, &mut s, &["SRANDMEMBER", "s", "0"]),
            Frame::Array(vec![])
        );
        assert_eq!(
            run(&e, &mut s, &["SRANDMEMBER", "s", "abc"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(
            run(&e, &mut s, &["SRANDMEMBER", "s", "-9223372036854775808"]),
            err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
        );
        // The count is parsed before the key is looked up.
        run(&e, &mut s, &["SET", "str", "x"]);
        assert_eq!(
            run(&e, &mut s, &["SRANDMEMBER", "str", "abc"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(run(&e, &mut s, &["SRANDMEMBER", "str"]), wrongtype());
        assert_eq!(run(&e, &mut s, &["SRANDMEMBER", "str", "0"]), wrongtype());
        assert_eq!(run(&e, &mut s, &["SRANDMEMBER", "str", "-2"]), wrongtype());
        assert_eq!(run(&e, &mut s, &["SRANDMEMBER"]), arity("srandmember"));
        assert_eq!(run(&e, &mut s, &["SRANDMEMBER", "s", "1", "2"]), syntax());
    }

    #[test]
    fn srandmember_count_distinctness() {
        let (e, mut s) = setup();
        let members: Vec<String> = (0..100).map(|i| i.to_string()).collect();
        let mut cmd = vec!["SADD", "s"];
        cmd.extend(members.iter().map(String::as_str));
        run(&e, &mut s, &cmd);
        // Positive counts: distinct members, every strategy (one, few, many, all, more).
        for count in [1usize, 5, 33, 34, 60, 99, 100, 150] {
            let reply = run(&e, &mut s, &["SRANDMEMBER", "s", &count.to_string()]);
            assert!(matches!(reply, Frame::Array(_)), "an array, even in RESP3");
            let got = sorted(&reply);
            let distinct: BTreeSet<_> = got.iter().collect();
            assert_eq!(got.len(), count.min(100), "count {count}");
            assert_eq!(distinct.len(), got.len(), "count {count}");
            assert!(got.iter().all(|m| members.contains(m)));
        }
        // Negative counts: exactly that many picks, repeats allowed.
        run(&e, &mut s, &["SADD", "small", "x", "y"]);
        let got = sorted(&run(&e, &mut s, &["SRANDMEMBER", "small", "-50"]));
        assert_eq!(got.len(), 50);
        assert!(got.iter().all(|m| m == "x" || m == "y"));
        // With 50 picks among 2 members, both appear (probability 1 - 2^-49).
        assert!(got.contains(&"x".to_string()) && got.contains(&"y".to_string()));
        assert_eq!(run(&e, &mut s, &["SCARD", "s"]), int(100));
        // A count no reply could hold is refused instead of exhausting memory.
        assert!(run(
            &e,
            &mut s,
            &["SRANDMEMBER", "small", "-9223372036854775807"]
        )
        .is_error());
    }

    #[test]
    fn srandmember_distribution_is_reasonable() {
        let (e, mut s) = setup();
        run(&e, &mut s, &["SADD", "s", "a", "b", "c", "d"]);
        let mut counts = std::collections::HashMap::new();
        for _ in 0..400 {
            if let Frame::Bulk(b) = run(&e, &mut s, &["SRANDMEMBER", "s"]) {
                *counts.entry(b).or_insert(0) += 1;
            }
        }
        assert_eq!(counts.len(), 4);
        // Expected 100 each; 40 is more than 6 standard deviations away.
        assert!(counts.values().all(|&n| n > 40), "{counts:?}");
    }

    #[test]
    fn smove() {
        let (e, mut s) = setup();
        run(&e, &mut s, &["SADD", "src", "a", "b"]);
        run(&e, &mut s, &["SADD", "dst", "c"]);
        run(&e, &mut s, &["SET", "str", "x"]);
        assert_eq!(run(&e, &mut s, &["SMOVE", "src", "dst", "a"]), int(1));
        assert_eq!(sorted(&run(&e, &mut s, &["SMEMBERS", "dst"])), ["a", "c"]);
        assert_eq!(sorted(&run(&e, &mut s, &["SMEMBERS", "src"])), ["b"]);
        assert_eq!(run(&e, &mut s, &["SMOVE", "src", "dst", "zz"]), int(0));
        // Moving a member the destination already has still removes it from the source.
        run(&e, &mut s, &["SADD", "src", "c"]);
        assert_eq!(run(&e, &mut s, &["SMOVE", "src", "dst", "c"]), int(1));
        assert_eq!(run(&e, &mut s, &["SCARD", "dst"]), int(2));
        // The last member leaves: the source is deleted; a missing destination is created.
        assert_eq!(run(&e, &mut s, &["SMOVE", "src", "new", "b"]), int(1));
        assert_eq!(run(&e, &mut s, &["EXISTS", "src"]), int(0));
        assert_eq!(sorted(&run(&e, &mut s, &["SMEMBERS", "new"])), ["b"]);
        // Same key: membership, nothing changes.
        assert_eq!(run(&e, &mut s, &["SMOVE", "new", "new", "b"]), int(1));
        assert_eq!(run(&e, &mut s, &["SMOVE", "new", "new", "x"]), int(0));
        assert_eq!(run(&e, &mut s, &["SCARD", "new"]), int(1));
        // A missing source answers 0 before the destination's type is checked.
        assert_eq!(run(&e, &mut s, &["SMOVE", "missing", "str", "a"]), int(0));
        assert_eq!(run(&e, &mut s, &["SMOVE", "new", "str", "b"]), wrongtype());
        assert_eq!(
            run(&e, &mut s, &["SMOVE", "new", "str", "nope"]),
            wrongtype()
        );
        assert_eq!(run(&e, &mut s, &["SMOVE", "str", "new", "b"]), wrongtype());
        assert_eq!(run(&e, &mut s, &["SMOVE", "str", "str", "b"]), wrongtype());
        assert_eq!(run(&e, &mut s, &["SCARD", "new"]), int(1));
        assert_eq!(run(&e, &mut s, &["SMOVE", "a", "b"]), arity("smove"));
        assert_eq!(
            run(&e, &mut s, &["SMOVE", "a", "b", "c", "d"]),
            arity("smove")
        );
    }

    #[test]
    fn sinter_and_store() {
        let (e, mut s) = setup();
        run(&e, &mut s, &["SADD", "a", "1", "2", "3", "x"]);
        run(&e, &mut s, &["SADD", "b", "2", "3", "4", "x", "y"]);
        run(&e, &mut s, &["SADD", "c", "3", "x", "z"]);
        run(&e, &mut s, &["SET", "str", "v"]);
        let reply = run(&e, &mut s, &["SINTER", "a", "b", "c"]);
        assert!(is_set_reply(&reply));
        assert_eq!(sorted(&reply), ["3", "x"]);
        assert_eq!(
            sorted(&run(&e, &mut s, &["SINTER", "a"])),
            ["1", "2", "3", "x"]
        );
        assert_eq!(
            sorted(&run(&e, &mut s, &["SINTER", "a", "a"])),
            ["1", "2", "3", "x"]
        );
        assert_eq!(run(&e, &mut s, &["SINTER", "a", "missing"]), empty_set());
        // Every key's type is checked, even after a missing key (Redis 7.0).
        assert_eq!(run(&e, &mut s, &["SINTER", "missing", "str"]), wrongtype());
        assert_eq!(run(&e, &mut s, &["SINTER", "str", "missing"]), wrongtype());
        assert_eq!(run(&e, &mut s, &["SINTER", "a", "str"]), wrongtype());
        assert_eq!(run(&e, &mut s, &["SINTER"]), arity("sinter"));

        assert_eq!(run(&e, &mut s, &["SINTERSTORE", "d", "a", "b"]), int(3));
        assert_eq!(
            sorted(&run(&e, &mut s, &["SMEMBERS", "d"])),
            ["2", "3", "x"]
        );
        // The destination may be a source; its expiry goes with the old value.
        run(&e, &mut s, &["EXPIRE", "d", "100"]);
        assert_eq!(run(&e, &mut s, &["SINTERSTORE", "d", "d", "c"]), int(2));
        assert_eq!(sorted(&run(&e, &mut s, &["SMEMBERS", "d"])), ["3", "x"]);
        assert_eq!(run(&e, &mut s, &["TTL", "d"]), int(-1));
        // Overwrites another type.
        run(&e, &mut s, &["SET", "str2", "v"]);
        assert_eq!(run(&e, &mut s, &["SINTERSTORE", "str2", "a", "c"]), int(2));
        assert_eq!(run(&e, &mut s, &["TYPE", "str2"]), Frame::simple("set"));
        // An empty result deletes the destination.
        assert_eq!(
            run(&e, &mut s, &["SINTERSTORE", "d", "a", "missing"]),
            int(0)
        );
        assert_eq!(run(&e, &mut s, &["EXISTS", "d"]), int(0));
        run(&e, &mut s, &["SADD", "d", "old"]);
        assert_eq!(
            run(&e, &mut s, &["SINTERSTORE", "d", "b", "c", "z"]),
            int(0)
        );
        assert_eq!(run(&e, &mut s, &["EXISTS", "d"]), int(0));
        // A wrong-type source fails without touching the destination.
        run(&e, &mut s, &["SADD", "d", "old"]);
        assert_eq!(
            run(&e, &mut s, &["SINTERSTORE", "d", "missing", "str"]),
            wrongtype()
        );
        assert_eq!(sorted(&run(&e, &mut s, &["SMEMBERS", "d"])), ["old"]);
        assert_eq!(run(&e, &mut s, &["SINTERSTORE", "d"]), arity("sinterstore"));
    }

    #[test]
    fn sintercard() {
        let (e, mut s) = setup();
        run(&e, &mut s, &["SADD", "a", "1", "2", "3", "4", "5"]);
        run(&e, &mut s, &["SADD", "b", "2", "3", "4", "5", "6"]);
        run(&e, &mut s, &["SET", "str", "v"]);
        assert_eq!(run(&e, &mut s, &["SINTERCARD", "2", "a", "b"]), int(4));
        assert_eq!(run(&e, &mut s, &["SINTERCARD", "1", "a"]), int(5));
        assert_eq!(
            run(&e, &mut s, &["SINTERCARD", "2", "a", "missing"]),
            int(0)
        );
        assert_eq!(
            run(&e, &mut s, &["SINTERCARD", "2", "a", "b", "LIMIT", "0"]),
            int(4)
        );
        assert_eq!(
            run(&e, &mut s, &["SINTERCARD", "2", "a", "b", "limit", "2"]),
            int(2)
        );
        assert_eq!(
            run(&e, &mut s, &["SINTERCARD", "2", "a", "b", "LIMIT", "10"]),
            int(4)
        );
        // The last LIMIT wins.
        assert_eq!(
            run(
                &e,
                &mut s,
                &["SINTERCARD", "2", "a", "b", "LIMIT", "1", "LIMIT", "3"]
            ),
            int(3)
        );
        let numkeys = err("ERR numkeys should be greater than 0");
        assert_eq!(run(&e, &mut s, &["SINTERCARD", "0", "a"]), numkeys);
        assert_eq!(run(&e, &mut s, &["SINTERCARD", "-1", "a"]), numkeys);
        assert_eq!(run(&e, &mut s, &["SINTERCARD", "abc", "a"]), numkeys);
        assert_eq!(
            run(&e, &mut s, &["SINTERCARD", "3", "a", "b"]),
            err("ERR Number of keys can't be greater than number of args")
        );
        let negative = err("ERR LIMIT can't be negative");
        assert_eq!(
            run(&e, &mut s, &["SINTERCARD", "1", "a", "LIMIT", "-1"]),
            negative
        );
        assert_eq!(
            run(&e, &mut s, &["SINTERCARD", "1", "a", "LIMIT", "x"]),
            negative
        );
        assert_eq!(
            run(&e, &mut s, &["SINTERCARD", "1", "a", "LIMIT"]),
            syntax()
        );
        assert_eq!(
            run(&e, &mut s, &["SINTERCARD", "1", "a", "FOO", "1"]),
            syntax()
        );
        // Options are checked before the keys.
        assert_eq!(
            run(&e, &mut s, &["SINTERCARD", "1", "str", "LIMIT", "-1"]),
            negative
        );
        assert_eq!(
            run(&e, &mut s, &["SINTERCARD", "2", "missing", "str"]),
            wrongtype()
        );
        assert_eq!(run(&e, &mut s, &["SINTERCARD", "1"]), arity("sintercard"));
    }

    #[test]
    fn sintercard_limit_over_large_sets() {
        let (e, mut s) = setup();
        let a: Vec<String> = (0..2000).map(|i| i.to_string()).collect();
        let b: Vec<String> = (0..2000)
            .filter(|i| i % 3 == 0)
            .map(|i| i.to_string())
            .collect();
        for (key, members) in [("a", &a), ("b", &b)] {
            let mut cmd = vec!["SADD", key];
            cmd.extend(members.iter().map(String::as_str));
            run(&e, &mut s, &cmd);
        }
        let full = b.len() as i64;
        assert_eq!(run(&e, &mut s, &["SINTERCARD", "2", "a", "b"]), int(full));
        for limit in [1i64, 100, 255, 256, 257, 600, 667, 668, 5000] {
            assert_eq!(
                run(
                    &e,
                    &mut s,
                    &["SINTERCARD", "2", "b", "a", "LIMIT", &limit.to_string()]
                ),
                int(limit.min(full)),
                "limit {limit}"
            );
        }
    }

    #[test]
    fn sunion_and_store() {
        let (e, mut s) = setup();
        run(&e, &mut s, &["SADD", "a", "1", "2"]);
        run(&e, &mut s, &["SADD", "b", "2", "3"]);
        run(&e, &mut s, &["SET", "str", "v"]);
        let reply = run(&e, &mut s, &["SUNION", "a", "missing", "b", "a"]);
        assert!(is_set_reply(&reply));
        assert_eq!(sorted(&reply), ["1", "2", "3"]);
        assert_eq!(run(&e, &mut s, &["SUNION", "missing"]), empty_set());
        assert_eq!(run(&e, &mut s, &["SUNION", "missing", "str"]), wrongtype());
        assert_eq!(run(&e, &mut s, &["SUNION", "a", "str"]), wrongtype());
        assert_eq!(run(&e, &mut s, &["SUNION"]), arity("sunion"));
        assert_eq!(run(&e, &mut s, &["SUNIONSTORE", "d", "a", "b"]), int(3));
        assert_eq!(
            sorted(&run(&e, &mut s, &["SMEMBERS", "d"])),
            ["1", "2", "3"]
        );
        assert_eq!(run(&e, &mut s, &["SUNIONSTORE", "a", "a", "b"]), int(3));
        assert_eq!(
            sorted(&run(&e, &mut s, &["SMEMBERS", "a"])),
            ["1", "2", "3"]
        );
        assert_eq!(run(&e, &mut s, &["SUNIONSTORE", "d", "missing"]), int(0));
        assert_eq!(run(&e, &mut s, &["EXISTS", "d"]), int(0));
        assert_eq!(run(&e, &mut s, &["SUNIONSTORE", "str", "b"]), int(2));
        assert_eq!(run(&e, &mut s, &["TYPE", "str"]), Frame::simple("set"));
        run(&e, &mut s, &["SET", "str", "v"]);
        assert_eq!(
            run(&e, &mut s, &["SUNIONSTORE", "d", "b", "str"]),
            wrongtype()
        );
        assert_eq!(run(&e, &mut s, &["SUNIONSTORE", "d"]), arity("sunionstore"));
    }

    #[test]
    fn sdiff_and_store() {
        let (e, mut s) = setup();
        run(&e, &mut s, &["SADD", "a", "1", "2", "3", "4", "5"]);
        run(&e, &mut s, &["SADD", "b", "2"]);
        run(
            &e,
            &mut s,
            &["SADD", "c", "3", "4", "6", "7", "8", "9", "10"],
        );
        run(&e, &mut s, &["SET", "str", "v"]);
        let reply = run(&e, &mut s, &["SDIFF", "a", "b", "missing", "c"]);
        assert!(is_set_reply(&reply));
        assert_eq!(sorted(&reply), ["1", "5"]);
        assert_eq!(
            sorted(&run(&e, &mut s, &["SDIFF", "a"])),
            ["1", "2", "3", "4", "5"]
        );
        assert_eq!(
            sorted(&run(&e, &mut s, &["SDIFF", "a", "missing"])),
            ["1", "2", "3", "4", "5"]
        );
        assert_eq!(run(&e, &mut s, &["SDIFF", "missing", "a"]), empty_set());
        assert_eq!(run(&e, &mut s, &["SDIFF", "a", "b", "a"]), empty_set());
        assert_eq!(run(&e, &mut s, &["SDIFF", "missing", "str"]), wrongtype());
        assert_eq!(run(&e, &mut s, &["SDIFF", "a", "str"]), wrongtype());
        assert_eq!(run(&e, &mut s, &["SDIFF"]), arity("sdiff"));
        assert_eq!(run(&e, &mut s, &["SDIFFSTORE", "d", "a", "c"]), int(3));
        assert_eq!(
            sorted(&run(&e, &mut s, &["SMEMBERS", "d"])),
            ["1", "2", "5"]
        );
        assert_eq!(run(&e, &mut s, &["SDIFFSTORE", "d", "d", "b"]), int(2));
        assert_eq!(sorted(&run(&e, &mut s, &["SMEMBERS", "d"])), ["1", "5"]);
        assert_eq!(run(&e, &mut s, &["SDIFFSTORE", "d", "a", "a"]), int(0));
        assert_eq!(run(&e, &mut s, &["EXISTS", "d"]), int(0));
        assert_eq!(
            run(&e, &mut s, &["SDIFFSTORE", "d", "str", "a"]),
            wrongtype()
        );
        assert_eq!(run(&e, &mut s, &["SDIFFSTORE", "d"]), arity("sdiffstore"));
    }

    #[test]
    fn sscan() {
        let (e, mut s) = setup();
        let page = |frame: Frame| -> (String, Vec<String>) {
            match frame {
                Frame::Array(mut parts) if parts.len() == 2 => {
                    let members = sorted(&parts.pop().unwrap());
                    match parts.pop().unwrap() {
                        Frame::Bulk(c) => (String::from_utf8(c.to_vec()).unwrap(), members),
                        other => panic!("{other:?}"),
                    }
                }
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(
            page(run(&e, &mut s, &["SSCAN", "missing", "0"])),
            ("0".into(), vec![])
        );
        run(
            &e,
            &mut s,
            &["SADD", "s", "apple", "avocado", "banana", "1"],
        );
        run(&e, &mut s, &["SET", "str", "v"]);
        // A full iteration returns every member.
        let mut cursor = "0".to_string();
        let mut seen = BTreeSet::new();
        loop {
            let (next, members) = page(run(&e, &mut s, &["SSCAN", "s", &cursor, "COUNT", "1"]));
            seen.extend(members);
            if next == "0" {
                break;
            }
            cursor = next;
        }
        assert_eq!(seen.len(), 4);
        let (_, matched) = page(run(
            &e,
            &mut s,
            &["SSCAN", "s", "0", "MATCH", "a*", "COUNT", "100"],
        ));
        assert_eq!(matched, ["apple", "avocado"]);
        let (_, all) = page(run(&e, &mut s, &["SSCAN", "s", "0", "match", "*"]));
        assert_eq!(all.len(), 4);
        let invalid = err("ERR invalid cursor");
        assert_eq!(run(&e, &mut s, &["SSCAN", "s", "abc"]), invalid);
        assert_eq!(run(&e, &mut s, &["SSCAN", "missing", "abc"]), invalid);
        assert_eq!(run(&e, &mut s, &["SSCAN", "str", "abc"]), invalid);
        assert_eq!(run(&e, &mut s, &["SSCAN", "s", "0", "foo"]), syntax());
        assert_eq!(
            run(&e, &mut s, &["SSCAN", "s", "0", "COUNT", "0"]),
            syntax()
        );
        assert_eq!(
            run(&e, &mut s, &["SSCAN", "s", "0", "COUNT", "x"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(run(&e, &mut s, &["SSCAN", "s", "0", "MATCH"]), syntax());
        assert_eq!(
            run(&e, &mut s, &["SSCAN", "s", "0", "TYPE", "set"]),
            syntax()
        );
        // The key is looked up before the options are checked.
        assert_eq!(
            page(run(&e, &mut s, &["SSCAN", "missing", "0", "foo"])),
            ("0".into(), vec![])
        );
        assert_eq!(run(&e, &mut s, &["SSCAN", "str", "0", "foo"]), wrongtype());
        assert_eq!(run(&e, &mut s, &["SSCAN", "str", "0"]), wrongtype());
        assert_eq!(run(&e, &mut s, &["SSCAN", "s"]), arity("sscan"));
    }

    /// Random sets compared with `BTreeSet` algebra, including duplicate and missing keys.
    #[test]
    fn algebra_matches_btreeset() {
        let (e, mut s) = setup();
        let mut rng = StdRng::seed_from_u64(0x5e75);
        let names = ["k0", "k1", "k2", "k3", "k4"];
        for round in 0..60 {
            run(&e, &mut s, &["FLUSHDB"]);
            let mut model: Vec<BTreeSet<String>> = Vec::new();
            for name in names {
                let universe = rng.gen_range(1..40);
                let size = rng.gen_range(0..30);
                let set: BTreeSet<String> = (0..size)
                    .map(|_| format!("m{}", rng.gen_range(0..universe)))
                    .collect();
                if !set.is_empty() {
                    let mut cmd = vec!["SADD", name];
                    cmd.extend(set.iter().map(String::as_str));
                    run(&e, &mut s, &cmd);
                }
                model.push(set);
            }
            let picks: Vec<usize> = (0..rng.gen_range(1..5))
                .map(|_| rng.gen_range(0..names.len()))
                .collect();
            let keys: Vec<&str> = picks.iter().map(|&i| names[i]).collect();
            let sets: Vec<&BTreeSet<String>> = picks.iter().map(|&i| &model[i]).collect();
            let inter: BTreeSet<String> = sets[1..].iter().fold(sets[0].clone(), |acc, s| {
                acc.intersection(s).cloned().collect()
            });
            let union: BTreeSet<String> = sets.iter().flat_map(|s| s.iter().cloned()).collect();
            let diff: BTreeSet<String> = sets[1..].iter().fold(sets[0].clone(), |acc, s| {
                acc.difference(s).cloned().collect()
            });
            let expect = |set: &BTreeSet<String>| set.iter().cloned().collect::<Vec<_>>();
            let with = |cmd: &'static str| {
                let mut v = vec![cmd];
                v.extend(keys.iter());
                v
            };
            let ctx = format!("round {round}: {keys:?}");
            assert_eq!(
                sorted(&run(&e, &mut s, &with("SINTER"))),
                expect(&inter),
                "{ctx}"
            );
            assert_eq!(
                sorted(&run(&e, &mut s, &with("SUNION"))),
                expect(&union),
                "{ctx}"
            );
            assert_eq!(
                sorted(&run(&e, &mut s, &with("SDIFF"))),
                expect(&diff),
                "{ctx}"
            );
            let numkeys = keys.len().to_string();
            let mut card = vec!["SINTERCARD", numkeys.as_str()];
            card.extend(keys.iter());
            assert_eq!(run(&e, &mut s, &card), int(inter.len() as i64), "{ctx}");
            let limit = rng.gen_range(0..8).to_string();
            card.extend(["LIMIT", limit.as_str()]);
            let limit: usize = limit.parse().unwrap();
            let expect_card = if limit == 0 {
                inter.len()
            } else {
                inter.len().min(limit)
            };
            assert_eq!(run(&e, &mut s, &card), int(expect_card as i64), "{ctx}");
            // Stores, into a fresh key and into the first source.
            for (cmd, result) in [
                ("SINTERSTORE", &inter),
                ("SUNIONSTORE", &union),
                ("SDIFFSTORE", &diff),
            ] {
                let mut store = vec![cmd, "dest"];
                store.extend(keys.iter());
                assert_eq!(
                    run(&e, &mut s, &store),
                    int(result.len() as i64),
                    "{ctx} {cmd}"
                );
                assert_eq!(
                    sorted(&run(&e, &mut s, &["SMEMBERS", "dest"])),
                    expect(result)
                );
                assert_eq!(
                    run(&e, &mut s, &["EXISTS", "dest"]),
                    int(i64::from(!result.is_empty()))
                );
            }
            let mut store = vec!["SUNIONSTORE", keys[0]];
            store.extend(keys.iter());
            assert_eq!(run(&e, &mut s, &store), int(union.len() as i64), "{ctx}");
            assert_eq!(
                sorted(&run(&e, &mut s, &["SMEMBERS", keys[0]])),
                expect(&union)
            );
        }
    }

    /// Every command reports its arity error with Redis' text.
    #[test]
    fn arity_errors() {
        let (e, mut s) = setup();
        for (cmd, words) in [
            ("sadd", vec!["SADD", "k"]),
            ("srem", vec!["SREM", "k"]),
            ("scard", vec!["SCARD"]),
            ("sismember", vec!["SISMEMBER", "k"]),
            ("smismember", vec!["SMISMEMBER", "k"]),
            ("smembers", vec!["SMEMBERS"]),
            ("spop", vec!["SPOP"]),
            ("srandmember", vec!["SRANDMEMBER"]),
            ("smove", vec!["SMOVE", "a", "b"]),
            ("sinter", vec!["SINTER"]),
            ("sintercard", vec!["SINTERCARD", "1"]),
            ("sinterstore", vec!["SINTERSTORE", "d"]),
            ("sunion", vec!["SUNION"]),
            ("sunionstore", vec!["SUNIONSTORE", "d"]),
            ("sdiff", vec!["SDIFF"]),
            ("sdiffstore", vec!["SDIFFSTORE", "d"]),
            ("sscan", vec!["SSCAN", "k"]),
        ] {
            assert_eq!(run(&e, &mut s, &words), arity(cmd));
        }
    }

    #[test]
    fn specs_match_redis() {
        let find = |name: &str| super::COMMANDS.iter().find(|c| c.name == name).unwrap();
        assert_eq!(super::COMMANDS.len(), 17);
        assert_eq!(find("sadd").flags.names(), ["write", "denyoom", "fast"]);
        assert_eq!(find("spop").flags.names(), ["write", "fast"]);
        assert_eq!(find("srandmember").flags.names(), ["readonly"]);
        assert_eq!(find("sinterstore").flags.names(), ["write", "denyoom"]);
        assert_eq!(find("smove").acl_categories(), ["write", "fast", "set"]);
        assert_eq!(find("sunion").acl_categories(), ["read", "slow", "set"]);
        let argv: Vec<Bytes> = ["SINTERCARD", "2", "a", "b", "LIMIT", "1"]
            .iter()
            .map(|w| Bytes::copy_from_slice(w.as_bytes()))
            .collect();
        assert_eq!(find("sintercard").keys.key_indexes(&argv), [2, 3]);
        let argv: Vec<Bytes> = ["SDIFFSTORE", "d", "a", "b"]
            .iter()
            .map(|w| Bytes::copy_from_slice(w.as_bytes()))
            .collect();
        assert_eq!(find("sdiffstore").keys.key_indexes(&argv), [1, 2, 3]);
    }
}
