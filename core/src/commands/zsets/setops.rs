//! The algebra, as Redis' `zunionInterDiffGenericCommand`: ZUNION, ZINTER, ZDIFF,
//! their STORE forms and ZINTERCARD. Plain sets are accepted as inputs, every member
//! scoring 1. Only one collection is open at a time: inputs are read whole (ZUNION,
//! the first input of ZINTER and ZDIFF) or probed member by member for the
//! candidates still in the running.

use std::collections::HashMap;

use bytes::Bytes;
use ferrokv_protocol::Frame;

use super::{all_members, members_reply, store_zset, Build};
use crate::command::{CmdError, CmdResult, Ctx};
use crate::commands::args::{int, is};
use crate::storage::{self, KeyType};

/// Which operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Union,
    Inter,
    Diff,
}

impl Op {
    /// The keyspace event of the STORE form.
    fn store_event(self) -> &'static str {
        match self {
            Op::Union => "zunionstore",
            Op::Inter => "zinterstore",
            Op::Diff => "zdiffstore",
        }
    }
}

/// How scores of a member found in several inputs combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

impl Aggregate {
    /// Redis' `zunionInterAggregate`; `inf + -inf` sums to 0, not NaN.
    fn apply(self, target: &mut f64, value: f64) {
        match self {
            Aggregate::Sum => {
                *target += value;
                if target.is_nan() {
                    *target = 0.0;
                }
            }
            Aggregate::Min => {
                if value < *target {
                    *target = value;
                }
            }
            Aggregate::Max => {
                if value > *target {
                    *target = value;
                }
            }
        }
    }
}

/// One input key.
struct Source {
    key: Bytes,
    /// `None` when the key is missing (an empty input).
    kind: Option<KeyType>,
    len: usize,
    weight: f64,
}

impl Source {
    /// Every member with its score (1 for a plain set).
    fn read_all(&self, ctx: &mut Ctx<'_>) -> Result<Vec<(Bytes, f64)>, CmdError> {
        let db = ctx.db();
        Ok(match self.kind {
            Some(KeyType::ZSet) => {
                storage::with_zset(ctx.txn, db, &self.key, false, |z| all_members(z, false))?
                    .unwrap_or_default()
            }
            Some(KeyType::Set) => storage::with_set(ctx.txn, db, &self.key, false, |s| {
                let mut out = Vec::with_capacity(s.len());
                s.for_each(&mut |m| {
                    out.push((Bytes::copy_from_slice(m), 1.0));
                    true
                });
                out
            })?
            .unwrap_or_default(),
            _ => Vec::new(),
        })
    }

    /// The scores (1 for a plain set) of `members` in this input, `None` for absent ones.
    fn probe(&self, ctx: &mut Ctx<'_>, members: &[&Bytes]) -> Result<Vec<Option<f64>>, CmdError> {
        let db = ctx.db();
        let found = match self.kind {
            Some(KeyType::ZSet) => storage::with_zset(ctx.txn, db, &self.key, false, |z| {
                members.iter().map(|m| z.score(m)).collect()
            })?,
            Some(KeyType::Set) => storage::with_set(ctx.txn, db, &self.key, false, |s| {
                members
                    .iter()
                    .map(|m| s.contains(m).then_some(1.0))
                    .collect()
            })?,
            _ => None,
        };
        Ok(found.unwrap_or_else(|| vec![None; members.len()]))
    }
}

/// Looks up every input as `lookupKeyRead` does (a hit or a miss each), failing with
/// `WRONGTYPE` at the first key that is neither a sorted set nor a set.
fn lookup_sources(ctx: &mut Ctx<'_>, keys: &[Bytes]) -> Result<Vec<Source>, CmdError> {
    let db = ctx.db();
    let mut sources = Vec::with_capacity(keys.len());
    for key in keys {
        let meta = ctx.txn.meta(db, key)?;
        ctx.note_read(meta.is_some(), key);
        let kind = meta.map(|m| m.key_type);
        let len = match kind {
            None => 0,
            Some(KeyType::ZSet) => {
                storage::with_zset(ctx.txn, db, key, false, |z| z.len())?.unwrap_or(0)
            }
            Some(KeyType::Set) => {
                storage::with_set(ctx.txn, db, key, false, |s| s.len())?.unwrap_or(0)
            }
            Some(_) => return Err(CmdError::wrong_type()),
        };
        sources.push(Source {
            key: key.clone(),
            kind,
            len,
            weight: 1.0,
        });
    }
    Ok(sources)
}

/// `score * weight`, with Redis' rule that NaN (0 * inf) counts as 0.
fn weighted(score: f64, weight: f64) -> f64 {
    let v = score * weight;
    if v.is_nan() {
        0.0
    } else {
        v
    }
}

/// The intersection: members of the smallest input found in every other one.
fn inter(
    ctx: &mut Ctx<'_>,
    sources: &[Source],
    aggregate: Aggregate,
) -> Result<Vec<(Bytes, f64)>, CmdError> {
    let first = &sources[0];
    if first.len == 0 {
        return Ok(Vec::new());
    }
    let mut candidates: Vec<(Bytes, f64, f64)> = first
        .read_all(ctx)?
        .into_iter()
        .map(|(m, s)| (m, weighted(s, first.weight), s))
        .collect();
    for source in &sources[1..] {
        if candidates.is_empty() {
            break;
        }
        if source.key == first.key {
            // Redis reads the member's own score again rather than searching the set
            // it is iterating.
            for (_, score, own) in &mut candidates {
                aggregate.apply(score, *own * source.weight);
            }
            continue;
        }
        let members: Vec<&Bytes> = candidates.iter().map(|(m, _, _)| m).collect();
        let found = source.probe(ctx, &members)?;
        let mut kept = Vec::with_capacity(candidates.len());
        for ((member, mut score, own), hit) in candidates.into_iter().zip(found) {
            if let Some(value) = hit {
                aggregate.apply(&mut score, value * source.weight);
                kept.push((member, score, own));
            }
        }
        candidates = kept;
    }
    Ok(candidates.into_iter().map(|(m, s, _)| (m, s)).collect())
}

/// The union: inputs are folded smallest first, as Redis does.
fn union(
    ctx: &mut Ctx<'_>,
    sources: &[Source],
    aggregate: Aggregate,
) -> Result<Vec<(Bytes, f64)>, CmdError> {
    let mut index: HashMap<Bytes, usize> = HashMap::new();
    let mut out: Vec<(Bytes, f64)> = Vec::new();
    for source in sources {
        if source.len == 0 {
            continue;
        }
        for (member, score) in source.read_all(ctx)? {
            let score = weighted(score, source.weight);
            match index.get(&member) {
                Some(&i) => aggregate.apply(&mut out[i].1, score),
                None => {
                    index.insert(member.clone(), out.len());
                    out.push((member, score));
                }
            }
        }
    }
    Ok(out)
}

/// The difference: members of the first input (with its scores) in no other input.
fn diff(ctx: &mut Ctx<'_>, sources: &[Source]) -> Result<Vec<(Bytes, f64)>, CmdError> {
    let first = &sources[0];
    if first.len == 0 || sources[1..].iter().any(|s| s.key == first.key) {
        return Ok(Vec::new());
    }
    let mut candidates = first.read_all(ctx)?;
    for source in &sources[1..] {
        if candidates.is_empty() {
            break;
        }
        if source.len == 0 {
            continue;
        }
        let members: Vec<&Bytes> = candidates.iter().map(|(m, _)| m).collect();
        let found = source.probe(ctx, &members)?;
        candidates = candidates
            .into_iter()
            .zip(found)
            .filter(|(_, hit)| hit.is_none())
            .map(|(item, _)| item)
            .collect();
    }
    Ok(candidates)
}

/// The shared body. `numkeys_idx` is where `numkeys` is; `dst` the destination of the
/// STORE forms; `name` the command name for the "at least 1 input key" error.
fn generic(
    ctx: &mut Ctx<'_>,
    argv: &[Bytes],
    dst: Option<&Bytes>,
    numkeys_idx: usize,
    op: Op,
    cardinality_only: bool,
    name: &str,
) -> CmdResult {
    let setnum = int(&argv[numkeys_idx])?;
    if setnum < 1 {
        return Err(CmdError::err(format!(
            "at least 1 input key is needed for '{name}' command"
        )));
    }
    let first_key = numkeys_idx + 1;
    let setnum = match usize::try_from(setnum) {
        Ok(n) if n <= argv.len() - first_key => n,
        _ => return Err(CmdError::syntax()),
    };
    let mut sources = lookup_sources(ctx, &argv[first_key..first_key + setnum])?;

    let mut aggregate = Aggregate::Sum;
    let mut withscores = false;
    let mut limit: usize = 0;
    let mut j = first_key + setnum;
    while j < argv.len() {
        let remaining = argv.len() - j;
        let opt = &argv[j];
        if op != Op::Diff && !cardinality_only && remaining > setnum && is(opt, "weights") {
            for (i, source) in sources.iter_mut().enumerate() {
                source.weight = super::parse::score_value(&argv[j + 1 + i])
                    .ok_or_else(|| CmdError::err("weight value is not a float"))?;
            }
            j += 1 + setnum;
        } else if op != Op::Diff && !cardinality_only && remaining >= 2 && is(opt, "aggregate") {
            let value = &argv[j + 1];
            aggregate = if is(value, "sum") {
                Aggregate::Sum
            } else if is(value, "min") {
                Aggregate::Min
            } else if is(value, "max") {
                Aggregate::Max
            } else {
                return Err(CmdError::syntax());
            };
            j += 2;
        } else if dst.is_none() && !cardinality_only && is(opt, "withscores") {
            withscores = true;
            j += 1;
        } else if cardinality_only && remaining >= 2 && is(opt, "limit") {
            let value = int(&argv[j + 1])
                .ok()
                .filter(|v| *v >= 0)
                .ok_or_else(|| CmdError::err("LIMIT can't be negative"))?;
            limit = usize::try_from(value).unwrap_or(usize::MAX);
            j += 2;
        } else {
            return Err(CmdError::syntax());
        }
    }

    if op != Op::Diff {
        // Smallest first (a stable sort, as glibc's merge-sorting qsort).
        sources.sort_by_key(|s| s.len);
    }
    let mut result = match op {
        Op::Inter => inter(ctx, &sources, aggregate)?,
        Op::Union => union(ctx, &sources, aggregate)?,
        Op::Diff => diff(ctx, &sources)?,
    };
    if cardinality_only {
        let n = if limit > 0 {
            result.len().min(limit)
        } else {
            result.len()
        };
        return Ok(Frame::Integer(n as i64));
    }
    // The result is a sorted set: by score, then by member bytes.
    result.sort_by(|a, b| {
        a.1.partial_cmp(&b.1)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| a.0.cmp(&b.0))
    });
    match dst {
        Some(dst) => {
            Ok(Frame::Integer(
                store_zset(ctx, dst, &result, Build::Whole, op.store_event())? as i64,
            ))
        }
        None => Ok(members_reply(ctx, result, withscores)),
    }
}

/// ZUNION numkeys key [key ...] [WEIGHTS ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]
pub(super) fn zunion(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    generic(ctx, argv, None, 1, Op::Union, false, "zunion")
}

/// ZINTER numkeys key [key ...] [WEIGHTS ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]
pub(super) fn zinter(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    generic(ctx, argv, None, 1, Op::Inter, false, "zinter")
}

/// ZDIFF numkeys key [key ...] [WITHSCORES]
pub(super) fn zdiff(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    generic(ctx, argv, None, 1, Op::Diff, false, "zdiff")
}

/// ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS ...] [AGGREGATE ...]
pub(super) fn zunionstore(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    generic(
        ctx,
        argv,
        Some(&argv[1]),
        2,
        Op::Union,
        false,
        "zunionstore",
    )
}

/// ZINTERSTORE destination numkeys key [key ...] [WEIGHTS ...] [AGGREGATE ...]
pub(super) fn zinterstore(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    generic(
        ctx,
        argv,
        Some(&argv[1]),
        2,
        Op::Inter,
        false,
        "zinterstore",
    )
}

/// ZDIFFSTORE destination numkeys key [key ...]
pub(super) fn zdiffstore(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    generic(ctx, argv, Some(&argv[1]), 2, Op::Diff, false, "zdiffstore")
}

/// ZINTERCARD numkeys key [key ...] [LIMIT limit]
pub(super) fn zintercard(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    generic(ctx, argv, None, 1, Op::Inter, true, "zintercard")
}
