//! The range family, as Redis' `zrangeGenericCommand` and `zremrangeGenericCommand`:
//! ZRANGE (BYSCORE, BYLEX, REV, LIMIT, WITHSCORES), ZRANGESTORE, the older ZREVRANGE,
//! Z[REV]RANGEBYSCORE and Z[REV]RANGEBYLEX, and ZREMRANGEBY{RANK,SCORE,LEX}. Every read
//! walks only the requested part of the set.

use bytes::Bytes;
use ferrokv_protocol::Frame;

use super::{members_reply, parse, read_zset, store_zset, write_zset, Build};
use crate::command::{CmdError, CmdResult, Ctx};
use crate::commands::args::{int, is};
use crate::notify;
use crate::storage::{LexRange, ScoreRange, ZSetOps};
use crate::util::slices::SliceBuffer;

/// How the range arguments are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Not fixed by the command: BYSCORE / BYLEX may choose, else by rank.
    Auto,
    /// By rank (index).
    Rank,
    /// By score.
    Score,
    /// By member bytes.
    Lex,
}

/// The walking direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dir {
    /// Not fixed by the command: REV may choose, else forward.
    Auto,
    /// Ascending.
    Forward,
    /// Descending; score and lex ranges are then given as `max min`.
    Reverse,
}

/// A parsed range request.
enum Request {
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexRange),
}

/// The part of `z` that `request` selects, in reply order, at most `limit` members
/// (negative: no limit) after skipping `offset` (negative: skips everything, as
/// Redis' `while (ln && offset--)` loop does).
fn collect(
    z: &mut dyn ZSetOps,
    request: &Request,
    rev: bool,
    offset: i64,
    limit: i64,
) -> Vec<(Bytes, f64)> {
    // Members are copied into one shared buffer (one allocation per reply).
    let mut members = SliceBuffer::default();
    let mut scores = Vec::new();
    match request {
        Request::Rank(start, end) => {
            let Some((start, len)) = rank_window(*start, *end, z.len()) else {
                return Vec::new();
            };
            members = SliceBuffer::with_capacity(len);
            scores.reserve(len);
            z.range_by_rank(start, rev, &mut |m, s| {
                members.push(m);
                scores.push(s);
                scores.len() < len
            });
        }
        Request::Score(_) | Request::Lex(_) => {
            if offset < 0 || limit == 0 {
                return Vec::new();
            }
            let mut skip = offset;
            let mut visit = |m: &[u8], s: f64| {
                if skip > 0 {
                    skip -= 1;
                    return true;
                }
                members.push(m);
                scores.push(s);
                limit < 0 || (scores.len() as i64) < limit
            };
            match request {
                Request::Score(range) => z.range_by_score(range, rev, &mut visit),
                Request::Lex(range) => z.range_by_lex(range, rev, &mut visit),
                Request::Rank(..) => {}
            }
        }
    }
    members.into_bytes().zip(scores).collect()
}

/// Redis' index sanitizing for rank ranges: negative indexes count from the end; the
/// result is (first rank, number of members), or `None` for an empty range.
fn rank_window(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let llen = i64::try_from(len).unwrap_or(i64::MAX);
    let mut start = if start < 0 {
        llen.saturating_add(start)
    } else {
        start
    };
    let mut end = if end < 0 {
        llen.saturating_add(end)
    } else {
        end
    };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= llen {
        return None;
    }
    if end >= llen {
        end = llen - 1;
    }
    Some((start as usize, (end - start + 1) as usize))
}

/// ZRANGE, ZRANGESTORE and the older range commands. `src` is the index of the
/// source key; `dst` is the destination of ZRANGESTORE.
fn zrange_generic(
    ctx: &mut Ctx<'_>,
    argv: &[Bytes],
    src: usize,
    dst: Option<&Bytes>,
    mut kind: Kind,
    mut dir: Dir,
) -> CmdResult {
    let store = dst.is_some();
    let (mut min_idx, mut max_idx) = (src + 1, src + 2);
    let mut withscores = false;
    let (mut offset, mut limit) = (0i64, -1i64);
    let mut j = src + 3;
    while j < argv.len() {
        let opt = &argv[j];
        let left = argv.len() - j - 1;
        if !store && is(opt, "withscores") {
            withscores = true;
        } else if is(opt, "limit") && left >= 2 {
            offset = int(&argv[j + 1])?;
            limit = int(&argv[j + 2])?;
            j += 2;
        } else if dir == Dir::Auto && is(opt, "rev") {
            dir = Dir::Reverse;
        } else if kind == Kind::Auto && is(opt, "bylex") {
            kind = Kind::Lex;
        } else if kind == Kind::Auto && is(opt, "byscore") {
            kind = Kind::Score;
        } else {
            return Err(CmdError::syntax());
        }
        j += 1;
    }
    if kind == Kind::Auto {
        kind = Kind::Rank;
    }
    let rev = dir == Dir::Reverse;
    if limit != -1 && kind == Kind::Rank {
        return Err(CmdError::err(
            "syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    if withscores && kind == Kind::Lex {
        return Err(CmdError::err(
            "syntax error, WITHSCORES not supported in combination with BYLEX",
        ));
    }
    if rev && kind != Kind::Rank {
        std::mem::swap(&mut min_idx, &mut max_idx);
    }
    let request = match kind {
        Kind::Score => Request::Score(parse::score_range(&argv[min_idx], &argv[max_idx])?),
        Kind::Lex => Request::Lex(parse::lex_range(&argv[min_idx], &argv[max_idx])?),
        Kind::Rank | Kind::Auto => Request::Rank(int(&argv[min_idx])?, int(&argv[max_idx])?),
    };
    let items = read_zset(ctx, &argv[src], |z| {
        collect(z, &request, rev, offset, limit)
    })?;
    match dst {
        Some(dst) => {
            let items = items.unwrap_or_default();
            let stored = store_zset(ctx, dst, &items, Build::Sequential, "zrangestore")?;
            Ok(Frame::Integer(stored as i64))
        }
        None => Ok(members_reply(ctx, items.unwrap_or_default(), withscores)),
    }
}

/// ZRANGE key start stop [BYSCORE | BYLEX] [REV] [LIMIT offset count] [WITHSCORES]
pub(super) fn zrange(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    zrange_generic(ctx, argv, 1, None, Kind::Auto, Dir::Auto)
}

/// ZRANGESTORE dst src min max [BYSCORE | BYLEX] [REV] [LIMIT offset count]
pub(super) fn zrangestore(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    zrange_generic(ctx, argv, 2, Some(&argv[1]), Kind::Auto, Dir::Auto)
}

/// ZREVRANGE key start stop [WITHSCORES]
pub(super) fn zrevrange(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    zrange_generic(ctx, argv, 1, None, Kind::Rank, Dir::Reverse)
}

/// ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]
pub(super) fn zrangebyscore(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    zrange_generic(ctx, argv, 1, None, Kind::Score, Dir::Forward)
}

/// ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]
pub(super) fn zrevrangebyscore(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    zrange_generic(ctx, argv, 1, None, Kind::Score, Dir::Reverse)
}

/// ZRANGEBYLEX key min max [LIMIT offset count]
pub(super) fn zrangebylex(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    zrange_generic(ctx, argv, 1, None, Kind::Lex, Dir::Forward)
}

/// ZREVRANGEBYLEX key max min [LIMIT offset count]
pub(super) fn zrevrangebylex(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    zrange_generic(ctx, argv, 1, None, Kind::Lex, Dir::Reverse)
}

/// ZREMRANGEBY*: the range is parsed before the key is looked up; the members in it
/// are collected by a range walk, then removed.
fn zremrange_generic(ctx: &mut Ctx<'_>, argv: &[Bytes], request: Request) -> CmdResult {
    let removed = write_zset(ctx, &argv[1], false, |z| {
        let doomed = collect(z, &request, false, 0, -1);
        for (member, _) in &doomed {
            z.remove(member);
        }
        (doomed.len(), z.is_empty())
    })?;
    let (removed, emptied) = removed.unwrap_or((0, false));
    if removed > 0 {
        let event = match request {
            Request::Rank(..) => "zremrangebyrank",
            Request::Score(_) => "zremrangebyscore",
            Request::Lex(_) => "zremrangebylex",
        };
        ctx.notify(notify::ZSET, event, &argv[1]);
        if emptied {
            ctx.notify(notify::GENERIC, "del", &argv[1]);
        }
    }
    Ok(Frame::Integer(removed as i64))
}

/// ZREMRANGEBYRANK key start stop
pub(super) fn zremrangebyrank(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let request = Request::Rank(int(&argv[2])?, int(&argv[3])?);
    zremrange_generic(ctx, argv, request)
}

/// ZREMRANGEBYSCORE key min max
pub(super) fn zremrangebyscore(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let request = Request::Score(parse::score_range(&argv[2], &argv[3])?);
    zremrange_generic(ctx, argv, request)
}

/// ZREMRANGEBYLEX key min max
pub(super) fn zremrangebylex(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let request = Request::Lex(parse::lex_range(&argv[2], &argv[3])?);
    zremrange_generic(ctx, argv, request)
}

#[cfg(test)]
mod tests {
    use super::rank_window;

    #[test]
    fn rank_windows_follow_redis_sanitizing() {
        assert_eq!(rank_window(0, -1, 5), Some((0, 5)));
        assert_eq!(rank_window(-2, -1, 5), Some((3, 2)));
        assert_eq!(rank_window(-100, 1, 5), Some((0, 2)));
        assert_eq!(rank_window(1, 100, 5), Some((1, 4)));
        assert_eq!(rank_window(3, 2, 5), None);
        assert_eq!(rank_window(5, 10, 5), None);
        assert_eq!(rank_window(0, -6, 5), None);
        assert_eq!(rank_window(i64::MIN, i64::MAX, 5), Some((0, 5)));
        assert_eq!(rank_window(0, 0, 0), None);
    }
}
