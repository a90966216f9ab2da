//! SORT and SORT_RO, following Redis 7.0's `sortCommandGeneric`.
//!
//! The rules clients can observe, all kept here:
//!
//! * Numeric sorting by default: each value is read as C's `strtod` reads it (up to the
//!   first NUL byte, leading white space, hex floats, `inf`), and anything left over,
//!   an out-of-range value (`ERANGE`, which includes results that underflow) or a NaN
//!   makes the whole command fail with `One or more scores can't be converted into
//!   double`. The empty string is 0. Equal scores are ordered by the elements' bytes,
//!   so the order never depends on the input order.
//! * `ALPHA` compares bytes. Without `STORE` Redis uses `strcoll`, which in the C
//!   locale stops at the first NUL byte; with `STORE` it compares whole binary strings.
//!   Both are kept. Elements that compare equal under `ALPHA BY` keep their input
//!   order (glibc's `qsort` is a stable merge sort), except when `LIMIT` makes Redis
//!   use its partial quicksort, whose order for equal weights is reproduced by porting
//!   it (`util::pqsort`).
//! * `DESC` negates the comparison, ties included.
//! * `BY` with a pattern lacking `*` skips sorting: lists keep their order, sorted sets
//!   come in score order, `DESC` walks either from the other end, and `LIMIT` is
//!   applied while reading. A set under `BY nosort ... STORE` is sorted `ALPHA`
//!   instead, as Redis does to keep replicas identical. Once a constant `BY` is seen,
//!   later `BY` options no longer turn sorting back on (Redis' sticky `dontsort`).
//! * `LIMIT` offsets and counts are clamped to the input's size, so any 64-bit values
//!   are accepted; a negative count means "to the end".
//! * Every key a `BY` or `GET` pattern reads counts a keyspace hit or miss, as Redis'
//!   `lookupKeyRead`; a key of another type reads as missing (a hit).
//!
//! Patterns may name any key, so both commands lock the whole keyspace.

use std::cmp::Ordering;

use bytes::Bytes;
use ferrokv_protocol::Frame;

use crate::command::{CmdError, CmdFlags, CmdResult, CommandSpec, Ctx, KeyPositions};
use crate::commands::args::{int, is};
use crate::notify;
use crate::storage::{self, DbIndex, End, KeyType, StorageError};
use crate::util::pqsort::pqsort;

/// ACL categories Redis gives both commands, besides those implied by the flags.
const SORT_ACL: &[&str] = &["set", "sortedset", "list", "dangerous"];

/// Both commands' argument syntax without `STORE`.
const SYNTAX_RO: &str =
    "key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC | DESC] [ALPHA]";

/// SORT and SORT_RO specs.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "sort",
        arity: -2,
        flags: CmdFlags::WRITE
            .or(CmdFlags::DENYOOM)
            .or(CmdFlags::WHOLE_KEYSPACE),
        acl: SORT_ACL,
        keys: KeyPositions::FIRST,
        group: "generic",
        since: "1.0.0",
        summary: "Sorts the elements in a list, a set, or a sorted set, optionally storing the result.",
        syntax: "key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC | DESC] [ALPHA] [STORE destination]",
        handler: Some(sort),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "sort_ro",
        arity: -2,
        flags: CmdFlags::READONLY.or(CmdFlags::WHOLE_KEYSPACE),
        acl: SORT_ACL,
        keys: KeyPositions::FIRST,
        group: "generic",
        since: "7.0.0",
        summary: "Returns the sorted elements of a list, a set, or a sorted set.",
        syntax: SYNTAX_RO,
        handler: Some(sort_ro),
        ..CommandSpec::DEFAULT
    },
];

fn sort(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    sort_generic(ctx, argv, false)
}

fn sort_ro(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    sort_generic(ctx, argv, true)
}

// ---------------------------------------------------------------------------------
// Options and patterns.
// ---------------------------------------------------------------------------------

/// The bytes C code sees when it treats `bytes` as a NUL-terminated string.
fn c_str(bytes: &[u8]) -> &[u8] {
    match bytes.iter().position(|&b| b == 0) {
        Some(nul) => &bytes[..nul],
        None => bytes,
    }
}

/// A `BY` or `GET` pattern, read as Redis' `lookupKeyByPattern` reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pattern<'a> {
    /// `#`: the element itself.
    Element,
    /// No `*`: a constant key name, which never yields a value.
    Nothing,
    /// The first `*` replaced by the element gives a string key, or, with `->field`
    /// (searched after the `*`, non-empty), a hash key and one of its fields.
    Key {
        prefix: &'a [u8],
        postfix: &'a [u8],
        field: Option<&'a [u8]>,
    },
}

impl<'a> Pattern<'a> {
    fn parse(pattern: &'a [u8]) -> Pattern<'a> {
        if pattern.first() == Some(&b'#') && pattern.get(1).is_none_or(|&b| b == 0) {
            return Pattern::Element;
        }
        // Redis searches with strchr/strstr, which stop at a NUL byte; the parts it then
        // copies by length may extend past it.
        let c = c_str(pattern);
        let Some(star) = c.iter().position(|&b| b == b'*') else {
            return Pattern::Nothing;
        };
        let arrow = c[star + 1..]
            .windows(2)
            .position(|w| w == b"->")
            .map(|i| star + 1 + i)
            .filter(|&at| at + 2 < c.len());
        match arrow {
            Some(at) => Pattern::Key {
                prefix: &pattern[..star],
                postfix: &pattern[star + 1..at],
                field: Some(&pattern[at + 2..]),
            },
            None => Pattern::Key {
                prefix: &pattern[..star],
                postfix: &pattern[star + 1..],
                field: None,
            },
        }
    }

    /// The value this pattern gives for `element`, or `None` when the key (or the
    /// field) is missing or of another type.
    fn lookup(&self, ctx: &mut Ctx<'_>, element: &Bytes) -> Result<Option<Bytes>, CmdError> {
        let (prefix, postfix, field) = match *self {
            Pattern::Element => return Ok(Some(element.clone())),
            Pattern::Nothing => return Ok(None),
            Pattern::Key {
                prefix,
                postfix,
                field,
            } => (prefix, postfix, field),
        };
        let mut key = Vec::with_capacity(prefix.len() + element.len() + postfix.len());
        key.extend_from_slice(prefix);
        key.extend_from_slice(element);
        key.extend_from_slice(postfix);
        let db = ctx.db();
        match field {
            None => string_value(ctx, db, &key),
            Some(field) => hash_field(ctx, db, &key, field),
        }
    }
}

/// A string key for a pattern, with Redis' keyspace hit/miss accounting.
fn string_value(ctx: &mut Ctx<'_>, db: DbIndex, key: &[u8]) -> Result<Option<Bytes>, CmdError> {
    match ctx.txn.get_string(db, key) {
        Ok(value) => {
            ctx.note_read_in(db, value.is_some(), key);
            Ok(value)
        }
        Err(StorageError::WrongType) => {
            ctx.engine.stats.lookup(true);
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// A hash field for a `->field` pattern, with the keyspace hit/miss of the hash.
fn hash_field(
    ctx: &mut Ctx<'_>,
    db: DbIndex,
    key: &[u8],
    field: &[u8],
) -> Result<Option<Bytes>, CmdError> {
    match storage::with_hash(ctx.txn, db, key, false, |h| h.get(field)) {
        Ok(found) => {
            ctx.note_read_in(db, found.is_some(), key);
            Ok(found.flatten())
        }
        Err(StorageError::WrongType) => {
            ctx.engine.stats.lookup(true);
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// Parsed SORT options.
struct Options<'a> {
    desc: bool,
    alpha: bool,
    /// A constant `BY` was given: no sorting (sticky, as Redis' `dontsort`).
    dontsort: bool,
    limit_start: i64,
    limit_count: i64,
    by: Option<&'a [u8]>,
    store: Option<&'a Bytes>,
    gets: Vec<Pattern<'a>>,
}

/// Parses the options after the key as Redis does: left to right, the last `BY`,
/// `LIMIT` and `STORE` win, the first bad argument is the error.
fn parse_options(argv: &[Bytes], readonly: bool) -> Result<Options<'_>, CmdError> {
    let mut o = Options {
        desc: false,
        alpha: false,
        dontsort: false,
        limit_start: 0,
        limit_count: -1,
        by: None,
        store: None,
        gets: Vec::new(),
    };
    let mut j = 2;
    while j < argv.len() {
        let arg = &argv[j][..];
        let left = argv.len() - j - 1;
        if is(arg, "asc") {
            o.desc = false;
        } else if is(arg, "desc") {
            o.desc = true;
        } else if is(arg, "alpha") {
            o.alpha = true;
        } else if is(arg, "limit") && left >= 2 {
            o.limit_start = int(&argv[j + 1])?;
            o.limit_count = int(&argv[j + 2])?;
            j += 2;
        } else if !readonly && is(arg, "store") && left >= 1 {
            o.store = Some(&argv[j + 1]);
            j += 1;
        } else if is(arg, "by") && left >= 1 {
            let pattern = &argv[j + 1][..];
            if !c_str(pattern).contains(&b'*') {
                o.dontsort = true;
            }
            o.by = Some(pattern);
            j += 1;
        } else if is(arg, "get") && left >= 1 {
            o.gets.push(Pattern::parse(&argv[j + 1]));
            j += 1;
        } else {
            return Err(CmdError::syntax());
        }
        j += 1;
    }
    Ok(o)
}

// ---------------------------------------------------------------------------------
// Scores.
// ---------------------------------------------------------------------------------

/// The numeric weight of `value` as Redis' SORT computes it with `strtod`: `None`
/// when characters are left over, on `ERANGE` (overflow, or an inexact result below
/// the smallest normal double) or for NaN.
fn parse_score(value: &[u8]) -> Option<f64> {
    let s = c_str(value);
    if s.is_empty() {
        // strtod converts nothing and leaves the end pointer on the terminator.
        return Some(0.0);
    }
    let mut i = s
        .iter()
        .take_while(|&&b| matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))
        .count();
    let negative = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let rest = &s[i..];
    let magnitude = if is(rest, "inf") || is(rest, "infinity") {
        f64::INFINITY
    } else if rest.len() > 2 && rest[0] == b'0' && rest[1] | 0x20 == b'x' {
        parse_hex(&rest[2..])?
    } else {
        parse_decimal(rest)?
    };
    Some(if negative { -magnitude } else { magnitude })
}

/// Number of leading ASCII digits.
fn digits(s: &[u8]) -> usize {
    s.iter().take_while(|b| b.is_ascii_digit()).count()
}

/// An unsigned decimal float that must span all of `s`.
fn parse_decimal(s: &[u8]) -> Option<f64> {
    let int_digits = digits(s);
    let mut end = int_digits;
    let mut frac_digits = 0;
    if s.get(end) == Some(&b'.') {
        frac_digits = digits(&s[end + 1..]);
        end += 1 + frac_digits;
    }
    if int_digits + frac_digits == 0 {
        return None;
    }
    let mantissa_end = end;
    if matches!(s.get(end), Some(b'e' | b'E')) {
        let mut at = end + 1;
        if matches!(s.get(at), Some(b'+' | b'-')) {
            at += 1;
        }
        let exp_digits = digits(&s[at.min(s.len())..]);
        if exp_digits == 0 {
            return None;
        }
        end = at + exp_digits;
    }
    if end != s.len() {
        return None;
    }
    let value: f64 = std::str::from_utf8(s).ok()?.parse().ok()?;
    let nonzero = s[..mantissa_end].iter().any(|b| (b'1'..=b'9').contains(b));
    if value.is_infinite() || (nonzero && value < f64::MIN_POSITIVE) {
        return None;
    }
    Some(value)
}

/// A hex float after its `0x` (`1.8p3`), which must span all of `s`.
fn parse_hex(s: &[u8]) -> Option<f64> {
    let mut mantissa: u64 = 0;
    let mut sticky = false;
    let mut exp: i64 = 0;
    let mut seen_digit = false;
    let mut seen_point = false;
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if c == b'.' && !seen_point {
            seen_point = true;
        } else if let Some(d) = (c as char).to_digit(16) {
            seen_digit = true;
            if mantissa >> 56 == 0 {
                mantissa = mantissa << 4 | d as u64;
                if seen_point {
                    exp -= 4;
                }
            } else {
                sticky |= d != 0;
                if !seen_point {
                    exp += 4;
                }
            }
        } else {
            break;
        }
        i += 1;
    }
    if !seen_digit {
        return None;
    }
    if matches!(s.get(i), Some(b'p' | b'P')) {
        let mut at = i + 1;
        let negative = match s.get(at) {
            Some(b'-') => {
                at += 1;
                true
            }
            Some(b'+') => {
                at += 1;
                false
            }
            _ => false,
        };
        let n = digits(&s[at.min(s.len())..]);
        if n == 0 {
            return None;
        }
        let e = s[at..at + n]
            .iter()
            .fold(0i64, |acc, b| (acc * 10 + (b - b'0') as i64).min(1 << 40));
        exp += if negative { -e } else { e };
        i = at + n;
    }
    if i != s.len() {
        return None;
    }
    compose_binary(mantissa, sticky, exp)
}

/// `2^k` for a normal exponent (-1022..=1023).
fn pow2(k: i64) -> f64 {
    f64::from_bits(((k + 1023) as u64) << 52)
}

/// `mantissa * 2^exp` (plus a nonzero tail when `sticky`) rounded to nearest-even, or
/// `None` where strtod reports `ERANGE`: overflow, or a tiny result that is inexact.
fn compose_binary(mantissa: u64, sticky: bool, exp: i64) -> Option<f64> {
    if mantissa == 0 {
        return Some(0.0);
    }
    let bits = 64 - mantissa.leading_zeros() as i64;
    let top = exp + bits - 1;
    if top > 1023 {
        return None;
    }
    let tiny = top < -1022;
    let precision = if tiny { 53 - (-1022 - top) } else { 53 };
    if precision <= 0 {
        return None;
    }
    let shift = bits - precision;
    let (q, k, inexact) = if shift <= 0 {
        (mantissa, exp, sticky)
    } else {
        let q = mantissa >> shift;
        let rem = mantissa & ((1u64 << shift) - 1);
        let half = 1u64 << (shift - 1);
        let up = rem > half || (rem == half && (sticky || q & 1 == 1));
        (q + up as u64, exp + shift, rem != 0 || sticky)
    };
    if tiny && inexact {
        return None;
    }
    let value = if k < -1022 {
        q as f64 * pow2(-1000) * pow2(k + 1000)
    } else {
        q as f64 * pow2(k)
    };
    value.is_finite().then_some(value)
}

// ---------------------------------------------------------------------------------
// Sorting.
// ---------------------------------------------------------------------------------

/// One element to sort with its weight.
struct Item {
    element: Bytes,
    /// Numeric weight (0 when a `BY` key is missing).
    score: f64,
    /// `ALPHA BY` weight; `None` (missing) sorts first.
    weight: Option<Bytes>,
}

/// Redis' `sortCompare` for one command's options.
#[derive(Clone, Copy)]
struct Comparator {
    alpha: bool,
    by: bool,
    store: bool,
    desc: bool,
}

impl Comparator {
    fn compare(&self, a: &Item, b: &Item) -> Ordering {
        let ord = if !self.alpha {
            if a.score > b.score {
                Ordering::Greater
            } else if a.score < b.score {
                Ordering::Less
            } else {
                a.element[..].cmp(&b.element[..])
            }
        } else if self.by {
            match (&a.weight, &b.weight) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Less,
                (Some(_), None) => Ordering::Greater,
                (Some(x), Some(y)) => self.text(x, y),
            }
        } else {
            self.text(&a.element, &b.element)
        };
        if self.desc {
            ord.reverse()
        } else {
            ord
        }
    }

    /// `compareStringObjects` (binary) under STORE, else `strcoll` in the C locale.
    fn text(&self, a: &[u8], b: &[u8]) -> Ordering {
        if self.store {
            a.cmp(b)
        } else {
            c_str(a).cmp(c_str(b))
        }
    }
}

// ---------------------------------------------------------------------------------
// The command.
// ---------------------------------------------------------------------------------

/// Reads `count` elements of a list or sorted set from position `from` (from the
/// tail / highest score when `desc`), as Redis' `dontsort` fast path.
fn load_range(
    ctx: &mut Ctx<'_>,
    kind: KeyType,
    key: &[u8],
    from: usize,
    count: usize,
    desc: bool,
) -> Result<Vec<Bytes>, CmdError> {
    let mut out = Vec::with_capacity(count);
    if count == 0 {
        return Ok(out);
    }
    let db = ctx.db();
    let mut visit = |member: &[u8]| {
        out.push(Bytes::copy_from_slice(member));
        out.len() < count
    };
    match kind {
        KeyType::List => storage::with_list(ctx.txn, db, key, false, |l| {
            let len = l.len();
            if from >= len {
                return;
            }
            let start = if desc { len - 1 - from } else { from };
            l.iter(start, desc, &mut |_, v| visit(v));
        })?,
        _ => storage::with_zset(ctx.txn, db, key, false, |z| {
            z.range_by_rank(from, desc, &mut |m, _| visit(m));
        })?,
    };
    Ok(out)
}

/// Every element of the collection at `key`.
fn load_all(ctx: &mut Ctx<'_>, kind: KeyType, key: &[u8]) -> Result<Vec<Bytes>, CmdError> {
    let db = ctx.db();
    let mut out = Vec::new();
    let mut visit = |member: &[u8]| {
        out.push(Bytes::copy_from_slice(member));
        true
    };
    match kind {
        KeyType::List => storage::with_list(ctx.txn, db, key, false, |l| {
            l.iter(0, false, &mut |_, v| visit(v));
        })?,
        KeyType::Set => storage::with_set(ctx.txn, db, key, false, |s| s.for_each(&mut visit))?,
        _ => storage::with_zset(ctx.txn, db, key, false, |z| {
            z.range_by_rank(0, false, &mut |m, _| visit(m));
        })?,
    };
    Ok(out)
}

/// Number of elements of the collection at `key`.
fn collection_len(ctx: &mut Ctx<'_>, kind: KeyType, key: &[u8]) -> Result<usize, CmdError> {
    let db = ctx.db();
    let len = match kind {
        KeyType::List => storage::with_list(ctx.txn, db, key, false, |l| l.len())?,
        KeyType::Set => storage::with_set(ctx.txn, db, key, false, |s| s.len())?,
        _ => storage::with_zset(ctx.txn, db, key, false, |z| z.len())?,
    };
    Ok(len.unwrap_or(0))
}

fn sort_generic(ctx: &mut Ctx<'_>, argv: &[Bytes], readonly: bool) -> CmdResult {
    let o = parse_options(argv, readonly)?;
    let key = &argv[1][..];
    let db = ctx.db();
    let meta = ctx.txn.meta(db, key)?;
    ctx.note_read(meta.is_some(), key);
    let kind = match meta.map(|m| m.key_type) {
        None => None,
        Some(t @ (KeyType::List | KeyType::Set | KeyType::ZSet)) => Some(t),
        Some(_) => return Err(CmdError::wrong_type()),
    };

    let (mut dontsort, mut alpha, mut by) = (o.dontsort, o.alpha, o.by);
    if dontsort && kind == Some(KeyType::Set) && o.store.is_some() {
        // A set's iteration order differs between servers: STORE sorts it instead.
        dontsort = false;
        alpha = true;
        by = None;
    }

    let len = match kind {
        Some(kind) => collection_len(ctx, kind, key)?,
        None => 0,
    } as i64;
    let mut start = o.limit_start.clamp(0, len);
    let count = o.limit_count.clamp(-1, len);
    let mut end = if count < 0 {
        len - 1
    } else {
        start + count - 1
    };
    if start >= len {
        start = len - 1;
        end = len - 2;
    }
    if end >= len {
        end = len - 1;
    }

    let elements = match kind {
        Some(kind @ (KeyType::List | KeyType::ZSet)) if dontsort => {
            let wanted = (end - start + 1).max(0) as usize;
            let elements = load_range(ctx, kind, key, start.max(0) as usize, wanted, o.desc)?;
            end -= start;
            start = 0;
            elements
        }
        Some(kind) => load_all(ctx, kind, key)?,
        None => Vec::new(),
    };
    let mut items: Vec<Item> = elements
        .into_iter()
        .map(|element| Item {
            element,
            score: 0.0,
            weight: None,
        })
        .collect();

    if !dontsort {
        let mut conversion_error = false;
        let by_pattern = by.map(Pattern::parse);
        for item in &mut items {
            let value = match &by_pattern {
                Some(p) => match p.lookup(ctx, &item.element)? {
                    Some(v) => v,
                    None => continue,
                },
                None => item.element.clone(),
            };
            if alpha {
                if by_pattern.is_some() {
                    item.weight = Some(value);
                }
            } else {
                match parse_score(&value) {
                    Some(score) => item.score = score,
                    None => conversion_error = true,
                }
            }
        }
        if conversion_error {
            // Redis sorts anyway and then fails; nothing observable comes of the sort.
            return Err(CmdError::err(
                "One or more scores can't be converted into double",
            ));
        }
        let comparator = Comparator {
            alpha,
            by: by.is_some(),
            store: o.store.is_some(),
            desc: o.desc,
        };
        let cmp = |a: &Item, b: &Item| comparator.compare(a, b);
        if by.is_some() && (start != 0 || end != items.len() as i64 - 1) {
            pqsort(&mut items, start, end, &cmp);
        } else {
            items.sort_by(cmp);
        }
    }
    let selected: &[Item] = if end >= start {
        let stop = (end as usize + 1).min(items.len());
        items.get(start as usize..stop).unwrap_or(&[])
    } else {
        &[]
    };
    match o.store {
        None => {
            let per_item = o.gets.len().max(1);
            let mut reply = Vec::with_capacity(selected.len() * per_item);
            for item in selected {
                if o.gets.is_empty() {
                    reply.push(Frame::Bulk(item.element.clone()));
                }
                for get in &o.gets {
                    reply.push(
                        get.lookup(ctx, &item.element)?
                            .map_or(Frame::Null, Frame::Bulk),
                    );
                }
            }
            Ok(Frame::Array(reply))
        }
        Some(dest) => {
            let mut values = Vec::new();
            for item in selected {
                if o.gets.is_empty() {
                    values.push(item.element.clone());
                }
                for get in &o.gets {
                    values.push(get.lookup(ctx, &item.element)?.unwrap_or_default());
                }
            }
            let existed = ctx.txn.delete(db, dest)?;
            if !values.is_empty() {
                storage::with_list(ctx.txn, db, dest, true, |l| {
                    for v in &values {
                        l.push(End::Tail, v);
                    }
                })?;
                ctx.note_written_key(dest);
                ctx.notify_new(!existed && ctx.notifying(notify::NEW), dest);
                ctx.notify(notify::LIST, "sortstore", dest);
            } else if existed {
                ctx.notify(notify::GENERIC, "del", dest);
            }
            Ok(Frame::Integer(values.len() as i64))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Engine;
    use crate::stats::Stats;
    use crate::storage::Scope;
    use crate::testing::{engine, run, session};

    fn write(e: &Engine, body: &mut dyn FnMut(&mut dyn crate::storage::Txn)) {
        e.backend().atomic(Scope::All, body).expect("commit");
    }

    fn list(e: &Engine, key: &str, items: &[&str]) {
        write(e, &mut |txn| {
            storage::with_list(txn, 0, key.as_bytes(), true, |l| {
                for i in items {
                    l.push(End::Tail, i.as_bytes());
                }
            })
            .expect("list");
        });
    }

    fn set(e: &Engine, key: &str, members: &[&str]) {
        write(e, &mut |txn| {
            storage::with_set(txn, 0, key.as_bytes(), true, |s| {
                for m in members {
                    s.insert(m.as_bytes());
                }
            })
            .expect("set");
        });
    }

    fn zset(e: &Engine, key: &str, members: &[(f64, &str)]) {
        write(e, &mut |txn| {
            storage::with_zset(txn, 0, key.as_bytes(), true, |z| {
                for (score, m) in members {
                    z.insert(m.as_bytes(), *score);
                }
            })
            .expect("zset");
        });
    }

    fn hash(e: &Engine, key: &str, fields: &[(&str, &str)]) {
        write(e, &mut |txn| {
            storage::with_hash(txn, 0, key.as_bytes(), true, |h| {
                for (f, v) in fields {
                    h.set(f.as_bytes(), v.as_bytes());
                }
            })
            .expect("hash");
        });
    }

    fn string(e: &Engine, key: &str, value: &str) {
        write(e, &mut |txn| {
            txn.set_string(
                0,
                key.as_bytes(),
                value.as_bytes(),
                crate::storage::TtlUpdate::Clear,
            )
            .expect("string");
        });
    }

    fn list_of(e: &Engine, key: &str) -> Option<Vec<Bytes>> {
        let mut out = None;
        write(e, &mut |txn| {
            out = storage::with_list(txn, 0, key.as_bytes(), false, |l| {
                let mut v = Vec::new();
                l.iter(0, false, &mut |_, x| {
                    v.push(Bytes::copy_from_slice(x));
                    true
                });
                v
            })
            .expect("read list");
        });
        out
    }

    fn bulks(words: &[&str]) -> Frame {
        Frame::Array(words.iter().map(Frame::bulk).collect())
    }

    /// Words with "-" standing for nil.
    fn with_nils(words: &[&str]) -> Frame {
        Frame::Array(
            words
                .iter()
                .map(|w| {
                    if *w == "-" {
                        Frame::Null
                    } else {
                        Frame::bulk(w)
                    }
                })
                .collect(),
        )
    }

    fn not_double() -> Frame {
        Frame::error("ERR One or more scores can't be converted into double")
    }

    fn syntax() -> Frame {
        Frame::error("ERR syntax error")
    }

    #[test]
    fn strtod_rules() {
        let ok: &[(&str, f64)] = &[
            ("", 0.0),
            ("1", 1.0),
            ("-2.5", -2.5),
            ("+5", 5.0),
            (" 5", 5.0),
            ("\t\n\x0b\x0c\r7", 7.0),
            ("1.", 1.0),
            (".5", 0.5),
            ("-.5e1", -5.0),
            ("1E+2", 100.0),
            ("1.e2", 100.0),
            ("00000000000000000000000000000000001", 1.0),
            ("0e-400", 0.0),
            ("0.0e500", 0.0),
            ("inf", f64::INFINITY),
            ("INF", f64::INFINITY),
            ("-infinity", f64::NEG_INFINITY),
            ("+Infinity", f64::INFINITY),
            ("0x10", 16.0),
            ("0X1P3", 8.0),
            ("0x1.8", 1.5),
            ("0x.8", 0.5),
            ("-0x1p-2", -0.25),
            ("1.7976931348623157e308", f64::MAX),
            ("2.2250738585072014e-308", f64::MIN_POSITIVE),
            ("1e-300", 1e-300),
            // strtod stops at the NUL terminator.
            ("3\0abc", 3.0),
            ("\0abc", 0.0),
        ];
        for (text, want) in ok {
            assert_eq!(parse_score(text.as_bytes()), Some(*want), "{text:?}");
        }
        // Exact subnormals are not ERANGE; inexact ones are.
        assert_eq!(parse_score(b"0x1p-1074"), Some(f64::from_bits(1)));
        assert_eq!(parse_score(b"0x1p-1030"), Some(f64::from_bits(1 << 44)));
        let bad = [
            "   ",
            "-",
            "+",
            "+-5",
            "1 ",
            "1e",
            "1e+",
            "1e5x",
            "1_0",
            "0x",
            "0x.p1",
            "0xg",
            "0x1p",
            "nan",
            "-nan",
            "nan(123)",
            "infinit",
            "infinityx",
            "1e-310",
            "1e-400",
            "1e-0400",
            "5e-324",
            "4.9e-324",
            "1e400",
            "1.7976931348623159e308",
            "0x1p1024",
            "0x1p-1075",
            "0x3p-1076",
            "abc",
            "1,5",
            "١",
        ];
        for text in bad {
            assert_eq!(parse_score(text.as_bytes()), None, "{text:?}");
        }
        // Huge exponents, and the rounding edges of the largest and smallest doubles.
        for (text, want) in [
            ("0e99999999999999999999", Some(0.0)),
            ("0x0p99999999999999999999", Some(0.0)),
            ("1e99999999999999999999", None),
            ("1e-99999999999999999999", None),
            ("0x1p99999999999999999999", None),
            ("0x1p-99999999999999999999", None),
            ("0x1.fffffffffffff8p1023", None),
            ("0x1.fffffffffffff7p1023", Some(f64::MAX)),
            ("0x0.0000000000001p-1022", Some(f64::from_bits(1))),
            ("0x1.00000000000008p-1022", Some(f64::MIN_POSITIVE)),
            ("0x.00000000000000000000000000000001p130", Some(4.0)),
        ] {
            assert_eq!(parse_score(text.as_bytes()), want, "{text:?}");
        }
        // Hex mantissas longer than 64 bits round to nearest, ties to even.
        assert_eq!(parse_score(b"0x20000000000001"), Some(9007199254740992.0));
        assert_eq!(parse_score(b"0x20000000000003"), Some(9007199254740996.0));
        assert_eq!(
            parse_score(b"0x2000000000000100000001"),
            Some(f64::powi(2.0, 85) + f64::powi(2.0, 33))
        );
        assert_eq!(
            parse_score(b"0x2000000000000100000000"),
            Some(f64::powi(2.0, 85))
        );
        assert_eq!(
            parse_score(b"0x1fffffffffffff800"),
            Some(f64::powi(2.0, 65))
        );
    }

    #[test]
    fn pattern_parsing() {
        use Pattern::*;
        assert_eq!(Pattern::parse(b"#"), Element);
        assert_eq!(Pattern::parse(b"#\0x"), Element);
        assert_eq!(
            Pattern::parse(b"##"),
            Nothing,
            "only a lone # is the element"
        );
        assert_eq!(Pattern::parse(b"nosort"), Nothing);
        assert_eq!(Pattern::parse(b"a\0*"), Nothing);
        let key = |prefix: &'static str, postfix: &'static str, field: Option<&'static str>| Key {
            prefix: prefix.as_bytes(),
            postfix: postfix.as_bytes(),
            field: field.map(str::as_bytes),
        };
        assert_eq!(Pattern::parse(b"w_*"), key("w_", "", None));
        assert_eq!(Pattern::parse(b"*"), key("", "", None));
        assert_eq!(Pattern::parse(b"a*b*c"), key("a", "b*c", None));
        assert_eq!(Pattern::parse(b"h_*->f"), key("h_", "", Some("f")));
        assert_eq!(Pattern::parse(b"x*y->f->g"), key("x", "y", Some("f->g")));
        // "->" before the star, or with nothing after it, is part of the key name.
        assert_eq!(Pattern::parse(b"h->*"), key("h->", "", None));
        assert_eq!(Pattern::parse(b"h_*->"), key("h_", "->", None));
        assert_eq!(Pattern::parse(b"h_*->\0f"), key("h_", "->\0f", None));
    }

    #[test]
    fn numeric_sort_and_ties() {
        let e = engine();
        let mut s = session(&e);
        list(&e, "l", &["3", "1", "2", "", " 5", "0x10"]);
        assert_eq!(
            run(&e, &mut s, &["SORT", "l"]),
            bulks(&["", "1", "2", "3", " 5", "0x10"])
        );
        list(&e, "t", &["1", "01", "1.0", "+1", "2"]);
        // Equal scores fall back to byte order, reversed by DESC.
        assert_eq!(
            run(&e, &mut s, &["SORT", "t"]),
            bulks(&["+1", "01", "1", "1.0", "2"])
        );
        assert_eq!(
            run(&e, &mut s, &["SORT", "t", "DESC"]),
            bulks(&["2", "1.0", "1", "01", "+1"])
        );
        list(&e, "inf", &["inf", "-infinity", "1"]);
        assert_eq!(
            run(&e, &mut s, &["sort", "inf"]),
            bulks(&["-infinity", "1", "inf"])
        );
        for bad in ["nan", "1e400", "abc", "1e-310"] {
            list(&e, "bad", &["1", bad]);
            assert_eq!(run(&e, &mut s, &["SORT", "bad"]), not_double(), "{bad}");
            assert_eq!(run(&e, &mut s, &["SORT_RO", "bad"]), not_double(), "{bad}");
            assert_eq!(
                run(&e, &mut s, &["SORT", "bad", "ALPHA"]),
                bulks(&["1", bad])
            );
            run(&e, &mut s, &["DEL", "bad"]);
        }
        set(&e, "s", &["10", "9", "-1.5", "100"]);
        assert_eq!(
            run(&e, &mut s, &["SORT", "s"]),
            bulks(&["-1.5", "9", "10", "100"])
        );
        zset(&e, "z", &[(3.0, "1"), (1.0, "3"), (2.0, "2")]);
        assert_eq!(run(&e, &mut s, &["SORT", "z"]), bulks(&["1", "2", "3"]));
        assert_eq!(
            run(&e, &mut s, &["SORT", "z", "desc"]),
            bulks(&["3", "2", "1"])
        );
    }

    #[test]
    fn alpha_sort() {
        let e = engine();
        let mut s = session(&e);
        list(&e, "l", &["b", "a", "B", "10", "9", "", "ab"]);
        assert_eq!(
            run(&e, &mut s, &["SORT", "l", "ALPHA"]),
            bulks(&["", "10", "9", "B", "a", "ab", "b"])
        );
        assert_eq!(
            run(&e, &mut s, &["SORT", "l", "alpha", "desc"]),
            bulks(&["b", "ab", "a", "B", "9", "10", ""])
        );
        assert_eq!(run(&e, &mut s, &["SORT", "l"]), not_double());
        // Without STORE, strings compare as C strings (up to a NUL); with it, whole.
        list(&e, "n", &["a\0c", "a\0b", "a"]);
        assert_eq!(
            run(&e, &mut s, &["SORT", "n", "ALPHA"]),
            bulks(&["a\0c", "a\0b", "a"])
        );
        assert_eq!(
            run(&e, &mut s, &["SORT", "n", "ALPHA", "STORE", "d"]),
            Frame::Integer(3)
        );
        assert_eq!(
            list_of(&e, "d").expect("stored"),
            vec![Bytes::from("a"), Bytes::from("a\0b"), Bytes::from("a\0c")]
        );
    }

    #[test]
    fn limit_edge_cases() {
        let e = engine();
        let mut s = session(&e);
        list(&e, "l", &["5", "3", "9", "1", "7"]);
        let cases: &[(&str, &str, &[&str])] = &[
            ("1", "2", &["3", "5"]),
            ("-5", "2", &["1", "3"]),
            ("2", "-1", &["5", "7", "9"]),
            ("10", "1", &[]),
            ("0", "0", &[]),
            ("4", "100", &["9"]),
            ("5", "1", &[]),
            ("9223372036854775807", "9223372036854775807", &[]),
            (
                "-9223372036854775808",
                "-9223372036854775808",
                &["1", "3", "5", "7", "9"],
            ),
        ];
        for (offset, count, want) in cases {
            assert_eq!(
                run(&e, &mut s, &["SORT", "l", "LIMIT", offset, count]),
                bulks(want),
                "LIMIT {offset} {count}"
            );
        }
        assert_eq!(
            run(&e, &mut s, &["SORT", "l", "DESC", "LIMIT", "1", "2"]),
            bulks(&["7", "5"])
        );
        // The last LIMIT wins.
        assert_eq!(
            run(
                &e,
                &mut s,
                &["SORT", "l", "LIMIT", "0", "1", "LIMIT", "1", "1"]
            ),
            bulks(&["3"])
        );
        // Missing keys are empty lists whatever the limit.
        for (offset, count) in [("0", "0"), ("0", "-1"), ("5", "5"), ("-1", "1")] {
            assert_eq!(
                run(&e, &mut s, &["SORT", "nokey", "LIMIT", offset, count]),
                bulks(&[])
            );
        }
    }

    #[test]
    fn nosort_keeps_list_and_zset_order() {
        let e = engine();
        let mut s = session(&e);
        list(&e, "l", &["5", "3", "9", "1", "7"]);
        let cases: &[(&[&str], &[&str])] = &[
            (&[], &["5", "3", "9", "1", "7"]),
            (&["DESC"], &["7", "1", "9", "3", "5"]),
            (&["LIMIT", "1", "2"], &["3", "9"]),
            (&["DESC", "LIMIT", "1", "2"], &["1", "9"]),
            (&["DESC", "LIMIT", "4", "10"], &["5"]),
            (&["LIMIT", "5", "1"], &[]),
            (&["LIMIT", "2", "0"], &[]),
            // A later BY with a star does not turn sorting back on.
            (&["BY", "w_*"], &["5", "3", "9", "1", "7"]),
        ];
        for (extra, want) in cases {
            let mut cmd = vec!["SORT", "l", "BY", "nosort"];
            cmd.extend_from_slice(extra);
            assert_eq!(run(&e, &mut s, &cmd), bulks(want), "{extra:?}");
        }
        zset(
            &e,
            "z",
            &[(3.0, "c"), (1.0, "a"), (2.0, "b"), (5.0, "e"), (4.0, "d")],
        );
        let cases: &[(&[&str], &[&str])] = &[
            (&[], &["a", "b", "c", "d", "e"]),
            (&["DESC"], &["e", "d", "c", "b", "a"]),
            (&["DESC", "LIMIT", "1", "2"], &["d", "c"]),
            (&["LIMIT", "1", "2"], &["b", "c"]),
            (&["LIMIT", "3", "-1"], &["d", "e"]),
            (&["LIMIT", "9", "1"], &[]),
        ];
        for (extra, want) in cases {
            let mut cmd = vec!["SORT", "z", "BY", "nosort"];
            cmd.extend_from_slice(extra);
            assert_eq!(run(&e, &mut s, &cmd), bulks(want), "{extra:?}");
        }
        assert_eq!(run(&e, &mut s, &["SORT", "z"]), not_double());
        assert_eq!(
            run(&e, &mut s, &["SORT", "z", "ALPHA", "DESC"]),
            bulks(&["e", "d", "c", "b", "a"])
        );
        // Non-numeric elements are fine when nothing is sorted.
        assert_eq!(
            run(
                &e,
                &mut s,
                &["SORT", "z", "BY", "x", "GET", "#", "LIMIT", "0", "1"]
            ),
            bulks(&["a"])
        );
    }

    #[test]
    fn set_nosort_store_sorts_alpha() {
        let e = engine();
        let mut s = session(&e);
        set(&e, "s", &["3", "1", "2", "10"]);
        assert_eq!(
            run(&e, &mut s, &["SORT", "s", "BY", "nosort", "STORE", "d"]),
            Frame::Integer(4)
        );
        assert_eq!(
            list_of(&e, "d").expect("stored"),
            vec![
                Bytes::from("1"),
                Bytes::from("10"),
                Bytes::from("2"),
                Bytes::from("3")
            ]
        );
        assert_eq!(
            run(
                &e,
                &mut s,
                &["SORT", "s", "BY", "nosort", "DESC", "STORE", "d", "LIMIT", "1", "2"]
            ),
            Frame::Integer(2)
        );
        assert_eq!(
            list_of(&e, "d").expect("stored"),
            vec![Bytes::from("2"), Bytes::from("10")]
        );
        // Without STORE every member comes back (in the set's own order).
        let Frame::Array(mut items) = run(&e, &mut s, &["SORT", "s", "BY", "nosort"]) else {
            panic!("array expected");
        };
        items.sort_by_key(|f| format!("{f:?}"));
        assert_eq!(Frame::Array(items), bulks(&["1", "10", "2", "3"]));
    }

    /// The data set the Redis replies below were recorded on.
    fn weights(e: &Engine) {
        list(e, "l", &["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"]);
        for (k, v) in [("w_a", "3"), ("w_b", "1"), ("w_c", "2"), ("w_e", "1")] {
            string(e, k, v);
        }
        hash(e, "h_a", &[("f", "9"), ("g", "z")]);
        hash(e, "h_b", &[("f", "1")]);
        hash(e, "h_c", &[("f", "5")]);
    }

    #[test]
    fn by_patterns_match_redis() {
        let e = engine();
        let mut s = session(&e);
        weights(&e);
        string(&e, "w_f", "x");
        let cases: &[(&[&str], &str)] = &[
            (&["ALPHA"], "d g h i j b e c a f"),
            (&["ALPHA", "DESC"], "f a c b e d g h i j"),
            // LIMIT switches to Redis' partial quicksort, whose tie order is its own.
            (&["ALPHA", "LIMIT", "0", "3"], "i j g"),
            (&["ALPHA", "LIMIT", "2", "3"], "g h d"),
            (&["ALPHA", "LIMIT", "5", "3"], "b e c"),
            (&["ALPHA", "DESC", "LIMIT", "0", "4"], "f a c b"),
        ];
        for (extra, want) in cases {
            let mut cmd = vec!["SORT", "l", "BY", "w_*"];
            cmd.extend_from_slice(extra);
            let want: Vec<&str> = want.split(' ').collect();
            assert_eq!(run(&e, &mut s, &cmd), bulks(&want), "{extra:?}");
        }
        assert_eq!(run(&e, &mut s, &["SORT", "l", "BY", "w_*"]), not_double());
        run(&e, &mut s, &["DEL", "w_f"]);
        let cases: &[(&[&str], &str)] = &[
            (&["BY", "w_*"], "d f g h i j b e c a"),
            (&["BY", "w_*", "DESC"], "a c e b j i h g f d"),
            (&["BY", "w_*", "LIMIT", "0", "3"], "d f g"),
            (&["BY", "h_*->f"], "d e f g h i j b c a"),
            (&["BY", "h_*->f", "ALPHA"], "d e f g h i j b c a"),
            (&["BY", "h_*->g", "ALPHA"], "b c d e f g h i j a"),
            // A pattern naming keys of the wrong type reads nothing.
            (&["BY", "h_*"], "a b c d e f g h i j"),
            (&["BY", "w_*->f"], "a b c d e f g h i j"),
        ];
        for (extra, want) in cases {
            let mut cmd = vec!["SORT", "l"];
            cmd.extend_from_slice(extra);
            let want: Vec<&str> = want.split(' ').collect();
            assert_eq!(run(&e, &mut s, &cmd), bulks(&want), "{extra:?}");
        }
    }

    #[test]
    fn get_patterns() {
        let e = engine();
        let mut s = session(&e);
        weights(&e);
        assert_eq!(
            run(
                &e,
                &mut s,
                &[
                    "SORT", "l", "BY", "w_*", "GET", "#", "GET", "w_*", "GET", "h_*->f", "LIMIT",
                    "6", "4"
                ]
            ),
            with_nils(&["b", "1", "1", "e", "1", "-", "c", "2", "5", "a", "3", "9"])
        );
        assert_eq!(
            run(
                &e,
                &mut s,
                &[
                    "SORT", "l", "BY", "nosort", "GET", "nothing", "GET", "h_*", "GET", "h_*->",
                    "GET", "#", "LIMIT", "0", "2"
                ]
            ),
            with_nils(&["-", "-", "-", "a", "-", "-", "-", "b"])
        );
        hash(&e, "x_a", &[("f->g", "deep")]);
        string(&e, "k_a_end", "mid");
        assert_eq!(
            run(
                &e,
                &mut s,
                &[
                    "SORT_RO",
                    "l",
                    "BY",
                    "nosort",
                    "GET",
                    "x_*->f->g",
                    "GET",
                    "k_*_end",
                    "GET",
                    "w_*->f",
                    "LIMIT",
                    "0",
                    "1"
                ]
            ),
            with_nils(&["deep", "mid", "-"])
        );
        assert_eq!(
            run(&e, &mut s, &["SORT", "nokey", "GET", "#", "GET", "w_*"]),
            bulks(&[])
        );
    }

    #[test]
    fn store() {
        let e = engine();
        let mut s = session(&e);
        weights(&e);
        assert_eq!(
            run(
                &e,
                &mut s,
                &["SORT", "l", "BY", "w_*", "STORE", "dst", "GET", "w_*"]
            ),
            Frame::Integer(10)
        );
        let stored = list_of(&e, "dst").expect("stored");
        let want: Vec<Bytes> = ["", "", "", "", "", "", "1", "1", "2", "3"]
            .iter()
            .map(|w| Bytes::from(*w))
            .collect();
        assert_eq!(stored, want);
        assert_eq!(
            run(
                &e,
                &mut s,
                &["SORT", "l", "STORE", "dst2", "BY", "w_*", "LIMIT", "0", "2"]
            ),
            Frame::Integer(2)
        );
        assert_eq!(
            list_of(&e, "dst2").expect("stored"),
            vec![Bytes::from("d"), Bytes::from("f")]
        );
        // A failed sort leaves the destination alone.
        string(&e, "dst", "x");
        run(&e, &mut s, &["EXPIRE", "dst", "100"]);
        assert_eq!(
            run(
                &e,
                &mut s,
                &["SORT", "l", "STORE", "dst", "LIMIT", "0", "2"]
            ),
            not_double()
        );
        assert_eq!(
            run(&e, &mut s, &["TYPE", "dst"]),
            Frame::Simple("string".into())
        );
        // STORE replaces any type and drops the TTL.
        assert_eq!(
            run(
                &e,
                &mut s,
                &["SORT", "l", "ALPHA", "STORE", "dst", "LIMIT", "0", "2"]
            ),
            Frame::Integer(2)
        );
        assert_eq!(run(&e, &mut s, &["TTL", "dst"]), Frame::Integer(-1));
        assert_eq!(
            list_of(&e, "dst").expect("stored"),
            vec![Bytes::from("a"), Bytes::from("b")]
        );
        // An empty result deletes the destination.
        assert_eq!(
            run(
                &e,
                &mut s,
                &["SORT", "l", "ALPHA", "LIMIT", "0", "0", "STORE", "dst"]
            ),
            Frame::Integer(0)
        );
        assert_eq!(run(&e, &mut s, &["EXISTS", "dst"]), Frame::Integer(0));
        assert_eq!(
            run(&e, &mut s, &["SORT", "nokey", "STORE", "dst2"]),
            Frame::Integer(0)
        );
        assert_eq!(list_of(&e, "dst2"), None);
        // Sorting a key into itself.
        list(&e, "self", &["3", "1", "2"]);
        assert_eq!(
            run(&e, &mut s, &["SORT", "self", "STORE", "self"]),
            Frame::Integer(3)
        );
        assert_eq!(
            list_of(&e, "self").expect("stored"),
            vec![Bytes::from("1"), Bytes::from("2"), Bytes::from("3")]
        );
    }

    #[test]
    fn errors() {
        let e = engine();
        let mut s = session(&e);
        list(&e, "l", &["1"]);
        string(&e, "str", "v");
        hash(&e, "h", &[("f", "v")]);
        let not_int = Frame::error("ERR value is not an integer or out of range");
        let wrongtype =
            Frame::error("WRONGTYPE Operation against a key holding the wrong kind of value");
        for cmd in ["SORT", "SORT_RO"] {
            assert_eq!(run(&e, &mut s, &[cmd, "str"]), wrongtype);
            assert_eq!(run(&e, &mut s, &[cmd, "h", "LIMIT", "0", "1"]), wrongtype);
            // Option errors come before the type check.
            assert_eq!(run(&e, &mut s, &[cmd, "str", "foo"]), syntax());
            assert_eq!(run(&e, &mut s, &[cmd, "str", "LIMIT", "x", "1"]), not_int);
            for bad in [
                &["foo"][..],
                &["LIMIT", "1"],
                &["BY"],
                &["GET"],
                &["ALPHA", "LIMIT"],
                &["GET", "#", "nosuch"],
            ] {
                let mut argv = vec![cmd, "l"];
                argv.extend_from_slice(bad);
                assert_eq!(run(&e, &mut s, &argv), syntax(), "{argv:?}");
            }
            assert_eq!(run(&e, &mut s, &[cmd, "l", "LIMIT", "1", "x"]), not_int);
            assert_eq!(run(&e, &mut s, &[cmd, "l", "LIMIT", "1.5", "1"]), not_int);
            // The first bad option is reported.
            assert_eq!(
                run(&e, &mut s, &[cmd, "l", "LIMIT", "x", "1", "foo"]),
                not_int
            );
            assert_eq!(
                run(&e, &mut s, &[cmd, "l", "foo", "LIMIT", "x", "1"]),
                syntax()
            );
            assert_eq!(
                run(&e, &mut s, &[cmd]),
                Frame::error(format!(
                    "ERR wrong number of arguments for '{}' command",
                    cmd.to_lowercase()
                ))
            );
        }
        assert_eq!(run(&e, &mut s, &["SORT", "l", "STORE"]), syntax());
        assert_eq!(run(&e, &mut s, &["SORT_RO", "l", "STORE", "d"]), syntax());
        assert_eq!(run(&e, &mut s, &["EXISTS", "d"]), Frame::Integer(0));
        assert_eq!(
            run(&e, &mut s, &["SORT", "l", "asc", "desc", "Asc", "alpha"]),
            bulks(&["1"])
        );
    }

    #[test]
    fn keyspace_hits_and_misses() {
        let e = engine();
        let mut s = session(&e);
        list(&e, "l", &["a", "b", "c"]);
        string(&e, "w_a", "1");
        hash(&e, "h_b", &[("f", "1")]);
        let counts = |e: &Engine| {
            (
                Stats::get(&e.stats.keyspace_hits),
                Stats::get(&e.stats.keyspace_misses),
            )
        };
        let before = counts(&e);
        assert_eq!(
            run(
                &e,
                &mut s,
                &["SORT", "l", "BY", "w_*", "GET", "#", "GET", "h_*->f", "GET", "w_*"]
            ),
            with_nils(&["b", "1", "-", "c", "-", "-", "a", "-", "1"])
        );
        let after = counts(&e);
        // As recorded on Redis 7.0: the sorted key, then every pattern lookup.
        assert_eq!((after.0 - before.0, after.1 - before.1), (4, 6));
        let before = counts(&e);
        run(&e, &mut s, &["SORT", "nokey", "BY", "w_*", "GET", "w_*"]);
        let after = counts(&e);
        assert_eq!((after.0 - before.0, after.1 - before.1), (0, 1));
    }

    #[test]
    fn specs() {
        let all = crate::commands::all();
        let sort = all.iter().find(|c| c.name == "sort").expect("sort");
        assert!(sort.flags.has(CmdFlags::WHOLE_KEYSPACE.or(CmdFlags::WRITE)));
        let ro = all.iter().find(|c| c.name == "sort_ro").expect("sort_ro");
        assert!(ro
            .flags
            .has(CmdFlags::WHOLE_KEYSPACE.or(CmdFlags::READONLY)));
        assert!(!ro.flags.has(CmdFlags::WRITE));
        for spec in [sort, ro] {
            assert_eq!(spec.keys, KeyPositions::FIRST);
            assert_eq!(
                spec.acl_categories()
                    .iter()
                    .filter(|c| ["set", "sortedset", "list", "dangerous", "slow"].contains(c))
                    .count(),
                5
            );
        }
    }
}
