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
//!   it ([`pqsort`]).
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
use crate::storage::{self, DbIndex, End, KeyType, StorageError};

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
            ctx.engine.stats.lookup(value.is_some());
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
            ctx.engine.stats.lookup(found.is_some());
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

/// Redis' `pqsort` (NetBSD's Bentley-McIlroy quicksort that skips partitions outside
/// `lrange..=rrange`), ported so that elements with equal weights come out in the same
/// order as Redis puts them.
fn pqsort<T>(v: &mut [T], lrange: i64, rrange: i64, cmp: &impl Fn(&T, &T) -> Ordering) {
    pqsort_part(v, 0, lrange, rrange, cmp);
}

/// Whether the partition `base..base+len` lies entirely outside the wanted range.
fn outside(base: i64, len: usize, lrange: i64, rrange: i64) -> bool {
    let last = base + len as i64;
    (lrange < base && rrange < base) || (lrange >= last && rrange >= last)
}

fn insertion_sort<T>(v: &mut [T], cmp: &impl Fn(&T, &T) -> Ordering) {
    for m in 1..v.len() {
        let mut l = m;
        while l > 0 && cmp(&v[l - 1], &v[l]) == Ordering::Greater {
            v.swap(l, l - 1);
            l -= 1;
        }
    }
}

fn med3<T>(v: &[T], a: usize, b: usize, c: usize, cmp: &impl Fn(&T, &T) -> Ordering) -> usize {
    if cmp(&v[a], &v[b]) == Ordering::Less {
        if cmp(&v[b], &v[c]) == Ordering::Less {
            b
        } else if cmp(&v[a], &v[c]) == Ordering::Less {
            c
        } else {
            a
        }
    } else if cmp(&v[b], &v[c]) == Ordering::Greater {
        b
    } else if cmp(&v[a], &v[c]) == Ordering::Less {
        a
    } else {
        c
    }
}

fn vecswap<T>(v: &mut [T], a: usize, b: usize, n: usize) {
    for i in 0..n {
        v.swap(a + i, b + i);
    }
}

/// One partition of [`pqsort`]; `base` is its offset in the whole vector.
fn pqsort_part<T>(
    mut v: &mut [T],
    mut base: i64,
    lrange: i64,
    rrange: i64,
    cmp: &impl Fn(&T, &T) -> Ordering,
) {
    loop {
        let n = v.len();
        if n < 7 {
            insertion_sort(v, cmp);
            return;
        }
        let mut pm = n / 2;
        if n > 7 {
            let mut pl = 0;
            let mut pn = n - 1;
            if n > 40 {
                let d = n / 8;
                pl = med3(v, pl, pl + d, pl + 2 * d, cmp);
                pm = med3(v, pm - d, pm, pm + d, cmp);
                pn = med3(v, pn - 2 * d, pn - d, pn, cmp);
            }
            pm = med3(v, pl, pm, pn, cmp);
        }
        v.swap(0, pm);
        let (mut pa, mut pb) = (1, 1);
        let (mut pc, mut pd) = (n - 1, n - 1);
        let mut swapped = false;
        loop {
            while pb <= pc {
                let r = cmp(&v[pb], &v[0]);
                if r == Ordering::Greater {
                    break;
                }
                if r == Ordering::Equal {
                    swapped = true;
                    v.swap(pa, pb);
                    pa += 1;
                }
                pb += 1;
            }
            while pb <= pc {
                let r = cmp(&v[pc], &v[0]);
                if r == Ordering::Less {
                    break;
                }
                if r == Ordering::Equal {
                    swapped = true;
                    v.swap(pc, pd);
                    pd -= 1;
                }
                pc -= 1;
            }
            if pb > pc {
                break;
            }
            v.swap(pb, pc);
            swapped = true;
            pb += 1;
            pc -= 1;
        }
        if !swapped {
            insertion_sort(v, cmp);
            return;
        }
        let r = pa.min(pb - pa);
        vecswap(v, 0, pb - r, r);
        let r = (pd - pc).min(n - pd - 1);
        vecswap(v, pb, n - r, r);
        let left = pb - pa;
        if left > 1 && !outside(base, left, lrange, rrange) {
            pqsort_part(&mut v[..left], base, lrange, rrange, cmp);
        }
        let right = pd - pc;
        if right <= 1 {
            return;
        }
        let from = n - right;
        v = &mut v[from..];
        base += from as i64;
        if outside(base, right, lrange, rrange) {
            return;
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
    ctx.engine.stats.lookup(meta.is_some());
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

    let mut conversion_error = false;
    if !dontsort {
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
    if conversion_error {
        return Err(CmdError::err(
            "One or more scores can't be converted into double",
        ));
    }

    let selected: &[Item] = if end >= start {
        &items[start as usize..=end as usize]
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
            ctx.txn.delete(db, dest)?;
            if !values.is_empty() {
                storage::with_list(ctx.txn, db, dest, true, |l| {
                    for v in &values {
                        l.push(End::Tail, v);
                    }
                })?;
            }
            Ok(Frame::Integer(values.len() as i64))
        }
    }
}
