//! Sorted sets for the memory backend, in two encodings as Redis keeps them.
//!
//! - **listpack** (small sets): one exactly sized byte buffer, members sorted by
//!   (score, member). Layout: a varint member count, then per member a varint header
//!   `len << 2 | kind`, the member bytes, and the score: a zigzag varint (kind 0:
//!   integral scores below 2^48), 4 little-endian bytes (kind 1: exactly an `f32`, as
//!   1.5 or 0.25 are) or 8 (kind 2). A member of a few bytes with a small integral
//!   score costs 2 bytes of overhead, as in Redis' listpack; a score such as 1.5 costs
//!   4 (Redis stores it as the 3-character string plus 2 bytes of framing).
//!   Like Redis 7.0's listpack (whose `zzlInsertAt` stores integral scores as
//!   integers), it stores `-0` as `0`; the big encoding keeps `-0`. Every operation is
//!   a linear scan; the set converts to the big encoding when
//!   `zset-max-listpack-entries` or `zset-max-listpack-value` is passed, and never
//!   back (members stored before the conversion keep their folded `0`).
//! - **skiplist** (big sets; named after Redis' encoding, but built differently): the
//!   members live in a slab (`Vec` of member + score, ids reused through a free list);
//!   an open-addressing hash index of slab ids gives member -> score in O(1); an
//!   order-statistics B+tree over (score, slab id) with subtree counts gives rank,
//!   select-by-rank, score and lex seeks and range counts in O(log n). Leaves are
//!   linked both ways for range walks. Separators are copies of keys (score + member
//!   bytes inline), so descending reads no member from the slab, and a separator
//!   whose member left stays a valid bound. Inside a leaf, a present member is found
//!   by slab id; only inserts compare member bytes there (for score ties).
//!   After most members of a big set are removed (live < 1/4 of the slab), the set is
//!   rebuilt compactly: amortized O(1) per removal.
//!
//! Order is Redis': scores compared with `<`/`==` (so `-0.0 == 0.0` and ties fall
//! back to member bytes), then member bytes.
//!
//! `ZSCAN` on the big encoding: the cursor is a position in the 32-bit hash space of
//! the members (the hash index's home buckets are the top bits of that hash). A page
//! returns the members whose hash lies in a range of home buckets, in any slot order,
//! and the next cursor is the end of that range. A member's hash never changes, so a
//! full iteration returns every member present throughout, whatever inserts, removals,
//! resizes or rebuilds happen in between, and never returns one twice.

use std::fmt;

use smallvec::SmallVec;

use ferrokv_core::storage::{EncodingLimits, LexRange, ScoreRange, ZSetOps};

use crate::hash::hash_key;
use crate::value::SmallBytes;

/// Entries per B+tree leaf of production sets.
const LEAF_CAP: usize = 64;
/// Children per B+tree inner node of production sets.
const INNER_CAP: usize = 32;

/// Slab id / tree link meaning "none".
const NIL: u32 = u32::MAX;

/// A sorted set: the value of a `zset` key.
#[derive(Clone, Default, Debug)]
pub struct ZSet {
    repr: Repr,
}

#[derive(Clone, Debug)]
enum Repr {
    /// The listpack-like buffer; empty (no allocation) when the set is empty.
    Small(Box<[u8]>),
    /// The hash index + B+tree.
    Big(Box<Big<LEAF_CAP, INNER_CAP>>),
}

impl Default for Repr {
    fn default() -> Repr {
        Repr::Small(Box::default())
    }
}

impl ZSet {
    /// An empty set in the small encoding (allocates nothing).
    pub fn new() -> ZSet {
        ZSet::default()
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Small(buf) => small_count(buf),
            Repr::Big(b) => b.len(),
        }
    }

    /// Whether the set has no member.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Redis' `OBJECT ENCODING` name.
    pub fn encoding(&self) -> &'static str {
        match &self.repr {
            Repr::Small(_) => "listpack",
            Repr::Big(_) => "skiplist",
        }
    }

    /// Approximate bytes allocated by the set (not counting its own 16 bytes), in O(1).
    pub fn heap_bytes(&self) -> usize {
        match &self.repr {
            Repr::Small(buf) => buf.len(),
            Repr::Big(b) => b.heap_bytes(),
        }
    }
}

/// A sorted set opened for a command, with the encoding limits in force.
pub struct ZSetHandle<'a> {
    /// The set.
    pub zset: &'a mut ZSet,
    /// `zset-max-listpack-*` thresholds deciding when the set converts.
    pub limits: &'a EncodingLimits,
}

impl ZSetOps for ZSetHandle<'_> {
    fn len(&mut self) -> usize {
        self.zset.len()
    }

    fn score(&mut self, member: &[u8]) -> Option<f64> {
        match &self.zset.repr {
            Repr::Small(buf) => small_find(buf, member).map(|(_, e)| e.score),
            Repr::Big(b) => b.score(member),
        }
    }

    fn insert(&mut self, member: &[u8], score: f64) -> Option<f64> {
        match &mut self.zset.repr {
            Repr::Small(buf) => match small_insert(buf, member, score, self.limits) {
                Ok(prev) => prev,
                Err(()) => {
                    let mut big = small_to_big(buf);
                    big.insert_new(member, score);
                    self.zset.repr = Repr::Big(Box::new(big));
                    None
                }
            },
            Repr::Big(b) => b.insert(member, score),
        }
    }

    fn remove(&mut self, member: &[u8]) -> bool {
        match &mut self.zset.repr {
            Repr::Small(buf) => small_remove(buf, member),
            Repr::Big(b) => b.remove(member),
        }
    }

    fn rank(&mut self, member: &[u8], rev: bool) -> Option<usize> {
        let (rank, len) = match &self.zset.repr {
            Repr::Small(buf) => (small_find(buf, member)?.0, small_count(buf)),
            Repr::Big(b) => (b.rank(member)?, b.len()),
        };
        Some(if rev { len - 1 - rank } else { rank })
    }

    fn range_by_rank(
        &mut self,
        start: usize,
        rev: bool,
        visit: &mut dyn FnMut(&[u8], f64) -> bool,
    ) {
        match &self.zset.repr {
            Repr::Small(buf) => small_range_by_rank(buf, start, rev, visit),
            Repr::Big(b) => b.range_by_rank(start, rev, visit),
        }
    }

    fn range_by_score(
        &mut self,
        range: &ScoreRange,
        rev: bool,
        visit: &mut dyn FnMut(&[u8], f64) -> bool,
    ) {
        match &self.zset.repr {
            Repr::Small(buf) => small_range_by_score(buf, range, rev, visit),
            Repr::Big(b) => b.range_by_score(range, rev, visit),
        }
    }

    fn range_by_lex(
        &mut self,
        range: &LexRange,
        rev: bool,
        visit: &mut dyn FnMut(&[u8], f64) -> bool,
    ) {
        match &self.zset.repr {
            Repr::Small(buf) => small_range_by_lex(buf, range, rev, visit),
            Repr::Big(b) => b.range_by_lex(range, rev, visit),
        }
    }

    fn count_by_score(&mut self, range: &ScoreRange) -> usize {
        match &self.zset.repr {
            Repr::Small(buf) => {
                let mut n = 0;
                small_range_by_score(buf, range, false, &mut |_, _| {
                    n += 1;
                    true
                });
                n
            }
            Repr::Big(b) => b.count_by_score(range),
        }
    }

    fn count_by_lex(&mut self, range: &LexRange) -> usize {
        match &self.zset.repr {
            Repr::Small(buf) => {
                let mut n = 0;
                small_range_by_lex(buf, range, false, &mut |_, _| {
                    n += 1;
                    true
                });
                n
            }
            Repr::Big(b) => b.count_by_lex(range),
        }
    }

    fn scan(&mut self, cursor: u64, count: usize, visit: &mut dyn FnMut(&[u8], f64)) -> u64 {
        match &self.zset.repr {
            Repr::Small(buf) => {
                for e in small_iter(buf) {
                    visit(e.member, e.score);
                }
                0
            }
            Repr::Big(b) => b.scan(cursor, count, visit),
        }
    }
}

// ---------------------------------------------------------------------------------
// Small encoding
// ---------------------------------------------------------------------------------

/// Integral scores below this magnitude are stored as varints.
const INT_SCORE_LIMIT: f64 = (1u64 << 48) as f64;

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn varint_len(v: u64) -> usize {
    let bits = 64 - (v | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

#[inline]
fn get_varint(buf: &[u8], off: &mut usize) -> u64 {
    let mut v = 0u64;
    let mut shift = 0u32;
    loop {
        let b = buf[*off];
        *off += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b < 0x80 || shift >= 63 {
            return v;
        }
        shift += 7;
    }
}

/// The score as a varint-able integer, when that loses nothing but the sign of `-0`
/// (Redis' listpack folds `-0` into the integer 0 the same way).
#[inline]
fn int_score(score: f64) -> Option<i64> {
    if score.trunc() == score && score.abs() < INT_SCORE_LIMIT {
        Some(score as i64)
    } else {
        None
    }
}

#[inline]
fn zigzag(i: i64) -> u64 {
    ((i << 1) ^ (i >> 63)) as u64
}

#[inline]
fn unzigzag(u: u64) -> i64 {
    ((u >> 1) as i64) ^ -((u & 1) as i64)
}

/// How a small set stores a score (the low two bits of an entry's header).
#[derive(Clone, Copy, PartialEq, Debug)]
enum ScoreKind {
    Int(i64),
    F32(f32),
    F64,
}

const KIND_INT: u64 = 0;
const KIND_F32: u64 = 1;
const KIND_F64: u64 = 2;

#[inline]
fn score_kind(score: f64) -> ScoreKind {
    if let Some(i) = int_score(score) {
        return ScoreKind::Int(i);
    }
    let narrow = score as f32;
    if f64::from(narrow) == score {
        ScoreKind::F32(narrow)
    } else {
        ScoreKind::F64
    }
}

fn encode_entry(out: &mut Vec<u8>, member: &[u8], score: f64) {
    let len = (member.len() as u64) << 2;
    match score_kind(score) {
        ScoreKind::Int(i) => {
            put_varint(out, len | KIND_INT);
            out.extend_from_slice(member);
            put_varint(out, zigzag(i));
        }
        ScoreKind::F32(f) => {
            put_varint(out, len | KIND_F32);
            out.extend_from_slice(member);
            out.extend_from_slice(&f.to_le_bytes());
        }
        ScoreKind::F64 => {
            put_varint(out, len | KIND_F64);
            out.extend_from_slice(member);
            out.extend_from_slice(&score.to_le_bytes());
        }
    }
}

fn entry_len(member: &[u8], score: f64) -> usize {
    let len = (member.len() as u64) << 2;
    varint_len(len)
        + member.len()
        + match score_kind(score) {
            ScoreKind::Int(i) => varint_len(zigzag(i)),
            ScoreKind::F32(_) => 4,
            ScoreKind::F64 => 8,
        }
}

/// One decoded member of a small set, with its byte span in the buffer.
#[derive(Clone, Copy, Debug)]
struct SEntry<'a> {
    member: &'a [u8],
    score: f64,
    start: usize,
    end: usize,
}

/// Member count and offset of the first entry.
#[inline]
fn small_header(buf: &[u8]) -> (usize, usize) {
    if buf.is_empty() {
        return (0, 0);
    }
    let mut off = 0;
    let n = get_varint(buf, &mut off) as usize;
    (n, off)
}

#[inline]
fn small_count(buf: &[u8]) -> usize {
    small_header(buf).0
}

/// Entries of a small set in order.
struct SmallIter<'a> {
    buf: &'a [u8],
    off: usize,
    left: usize,
}

impl<'a> Iterator for SmallIter<'a> {
    type Item = SEntry<'a>;

    #[inline]
    fn next(&mut self) -> Option<SEntry<'a>> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let buf = self.buf;
        let start = self.off;
        let mut off = start;
        let h = get_varint(buf, &mut off);
        let mlen = (h >> 2) as usize;
        let member = &buf[off..off + mlen];
        off += mlen;
        let score = match h & 3 {
            KIND_INT => unzigzag(get_varint(buf, &mut off)) as f64,
            KIND_F32 => {
                let mut b = [0u8; 4];
                b.copy_from_slice(&buf[off..off + 4]);
                off += 4;
                f64::from(f32::from_le_bytes(b))
            }
            _ => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&buf[off..off + 8]);
                off += 8;
                f64::from_le_bytes(b)
            }
        };
        self.off = off;
        Some(SEntry {
            member,
            score,
            start,
            end: off,
        })
    }
}

fn small_iter(buf: &[u8]) -> SmallIter<'_> {
    let (left, off) = small_header(buf);
    SmallIter { buf, off, left }
}

/// Index and entry of `member`.
fn small_find<'a>(buf: &'a [u8], member: &[u8]) -> Option<(usize, SEntry<'a>)> {
    small_iter(buf)
        .enumerate()
        .find(|(_, e)| e.member == member)
}

/// A copy of `buf` holding `count` members, with the bytes `cut` replaced by the
/// entry `add`; exactly sized, empty (no allocation) when `count` is 0.
fn small_splice(
    buf: &[u8],
    count: usize,
    cut: std::ops::Range<usize>,
    add: Option<(&[u8], f64)>,
) -> Box<[u8]> {
    if count == 0 {
        return Box::default();
    }
    let (_, first) = small_header(buf);
    let (cut_start, cut_end) = if buf.is_empty() {
        (0, 0)
    } else {
        (cut.start, cut.end)
    };
    let add_len = add.map_or(0, |(m, s)| entry_len(m, s));
    let total = varint_len(count as u64) + (buf.len() - first) - (cut_end - cut_start) + add_len;
    let mut v = Vec::with_capacity(total);
    put_varint(&mut v, count as u64);
    v.extend_from_slice(&buf[first.min(cut_start)..cut_start]);
    if let Some((m, s)) = add {
        encode_entry(&mut v, m, s);
    }
    v.extend_from_slice(&buf[cut_end..]);
    debug_assert_eq!(v.len(), total);
    v.into_boxed_slice()
}

/// Byte offset where (score, member) belongs in sorted order.
fn small_insert_pos(buf: &[u8], member: &[u8], score: f64) -> usize {
    for e in small_iter(buf) {
        if e.score > score || (e.score == score && e.member > member) {
            return e.start;
        }
    }
    buf.len()
}

/// Adds or updates a member; `Err` when the set must convert to the big encoding
/// first (the member is new and a limit would be passed).
fn small_insert(
    buf: &mut Box<[u8]>,
    member: &[u8],
    score: f64,
    limits: &EncodingLimits,
) -> Result<Option<f64>, ()> {
    let count = small_count(buf);
    if let Some((_, e)) = small_find(buf, member) {
        let old = e.score;
        if old != score {
            let without = small_splice(buf, count - 1, e.start..e.end, None);
            let pos = small_insert_pos(&without, member, score);
            *buf = small_splice(&without, count, pos..pos, Some((member, score)));
        }
        return Ok(Some(old));
    }
    if count + 1 > limits.zset_max_listpack_entries || member.len() > limits.zset_max_listpack_value
    {
        return Err(());
    }
    let pos = small_insert_pos(buf, member, score);
    *buf = small_splice(buf, count + 1, pos..pos, Some((member, score)));
    Ok(None)
}

fn small_remove(buf: &mut Box<[u8]>, member: &[u8]) -> bool {
    match small_find(buf, member) {
        Some((_, e)) => {
            let count = small_count(buf);
            *buf = small_splice(buf, count - 1, e.start..e.end, None);
            true
        }
        None => false,
    }
}

/// All entries, for walks from the tail (entries have no back-length).
fn small_entries(buf: &[u8]) -> SmallVec<[(&[u8], f64); 128]> {
    small_iter(buf).map(|e| (e.member, e.score)).collect()
}

fn small_range_by_rank(
    buf: &[u8],
    start: usize,
    rev: bool,
    visit: &mut dyn FnMut(&[u8], f64) -> bool,
) {
    if rev {
        let all = small_entries(buf);
        for &(m, s) in all.iter().rev().skip(start) {
            if !visit(m, s) {
                return;
            }
        }
    } else {
        for e in small_iter(buf).skip(start) {
            if !visit(e.member, e.score) {
                return;
            }
        }
    }
}

fn small_range_by_score(
    buf: &[u8],
    range: &ScoreRange,
    rev: bool,
    visit: &mut dyn FnMut(&[u8], f64) -> bool,
) {
    if rev {
        let all = small_entries(buf);
        for &(m, s) in all.iter().rev().skip_while(|(_, s)| !range.below_max(*s)) {
            if !range.above_min(s) || !visit(m, s) {
                return;
            }
        }
    } else {
        for e in small_iter(buf).skip_while(|e| !range.above_min(e.score)) {
            if !range.below_max(e.score) || !visit(e.member, e.score) {
                return;
            }
        }
    }
}

/// As Redis' listpack walk: start at the first member (from the head, or from the
/// tail when `rev`) inside the near end of the range, then stop at the first one
/// outside the far end (only meaningful when all scores are equal).
fn small_range_by_lex(
    buf: &[u8],
    range: &LexRange,
    rev: bool,
    visit: &mut dyn FnMut(&[u8], f64) -> bool,
) {
    if rev {
        let all = small_entries(buf);
        for &(m, s) in all.iter().rev().skip_while(|(m, _)| !range.below_max(m)) {
            if !range.above_min(m) || !visit(m, s) {
                return;
            }
        }
    } else {
        for e in small_iter(buf).skip_while(|e| !range.above_min(e.member)) {
            if !range.below_max(e.member) || !visit(e.member, e.score) {
                return;
            }
        }
    }
}

fn small_to_big(buf: &[u8]) -> Big<LEAF_CAP, INNER_CAP> {
    let mut big = Big::with_capacity(small_count(buf) + 1);
    for e in small_iter(buf) {
        big.insert_new(e.member, e.score);
    }
    big
}

// ---------------------------------------------------------------------------------
// Big encoding: slab + hash index + order-statistics B+tree
// ---------------------------------------------------------------------------------

/// One member of a big set, at a stable slab id.
#[derive(Clone, Debug)]
struct Node {
    member: SmallBytes,
    score: f64,
}

#[inline]
fn tag_of(member: &[u8]) -> u32 {
    (hash_key(member) >> 32) as u32
}

/// Member -> slab id, open addressing with linear probing. A slot is
/// `tag << 32 | (id + 1)` (0 = empty), where `tag` is the top 32 bits of the member's
/// hash and the home slot is the top `bits` bits of the tag.
#[derive(Clone, Debug)]
struct HashIndex {
    slots: Box<[u64]>,
    bits: u32,
    len: usize,
}

const MIN_SLOTS: usize = 8;

impl HashIndex {
    fn with_capacity(n: usize) -> HashIndex {
        let cap = (n * 4 / 3 + 1).next_power_of_two().max(MIN_SLOTS);
        HashIndex {
            slots: vec![0; cap].into_boxed_slice(),
            bits: cap.trailing_zeros(),
            len: 0,
        }
    }

    #[inline]
    fn home(&self, tag: u32) -> usize {
        (tag >> (32 - self.bits)) as usize
    }

    #[inline]
    fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    /// Slot and id of `member`.
    #[inline]
    fn find(&self, nodes: &[Node], tag: u32, member: &[u8]) -> Option<(usize, u32)> {
        let mask = self.mask();
        let mut i = self.home(tag);
        loop {
            let s = self.slots[i];
            if s == 0 {
                return None;
            }
            if (s >> 32) as u32 == tag {
                let id = (s as u32).wrapping_sub(1);
                if nodes[id as usize].member.as_slice() == member {
                    return Some((i, id));
                }
            }
            i = (i + 1) & mask;
        }
    }

    fn place(&mut self, tag: u32, id: u32) {
        let mask = self.mask();
        let mut i = self.home(tag);
        while self.slots[i] != 0 {
            i = (i + 1) & mask;
        }
        self.slots[i] = (u64::from(tag) << 32) | (u64::from(id) + 1);
    }

    /// Adds an id whose member is not present.
    fn insert(&mut self, tag: u32, id: u32) {
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            self.resize(self.slots.len() * 2);
        }
        self.place(tag, id);
        self.len += 1;
    }

    /// Empties slot `pos`, shifting later members of its cluster back so that no
    /// tombstone is needed.
    fn remove_at(&mut self, pos: usize) {
        let mask = self.mask();
        let mut hole = pos;
        let mut j = pos;
        loop {
            j = (j + 1) & mask;
            let s = self.slots[j];
            if s == 0 {
                break;
            }
            let h = self.home((s >> 32) as u32);
            let stays = if hole <= j {
                hole < h && h <= j
            } else {
                hole < h || h <= j
            };
            if !stays {
                self.slots[hole] = s;
                hole = j;
            }
        }
        self.slots[hole] = 0;
        self.len -= 1;
        if self.slots.len() > MIN_SLOTS && self.len * 8 < self.slots.len() {
            self.resize((self.len * 2).next_power_of_two().max(MIN_SLOTS));
        }
    }

    fn resize(&mut self, cap: usize) {
        let old = std::mem::replace(&mut self.slots, vec![0; cap].into_boxed_slice());
        self.bits = cap.trailing_zeros();
        for s in old.iter().copied().filter(|&s| s != 0) {
            self.place((s >> 32) as u32, (s as u32).wrapping_sub(1));
        }
    }

    /// One page of a hash-ordered scan (see the module docs); returns the next cursor.
    fn scan(&self, cursor: u64, count: usize, mut visit: impl FnMut(u32)) -> u64 {
        if cursor >> 32 != 0 || self.len == 0 {
            return 0;
        }
        let c = cursor as u32;
        let cap = self.slots.len();
        let mask = cap - 1;
        let shift = 32 - self.bits;
        let b = (c >> shift) as usize;
        // About `count` members: buckets in proportion to the load.
        let k = (count.max(1).saturating_mul(cap) / self.len).clamp(1, cap - b);
        let end = b + k;
        // Every slot at most once: the scan goes past `end` only to the end of the
        // cluster holding members displaced from the page's buckets.
        let mut u = b;
        while u < b + cap {
            let s = self.slots[u & mask];
            if s == 0 {
                if u >= end {
                    break;
                }
            } else {
                let tag = (s >> 32) as u32;
                let h = (tag >> shift) as usize;
                if h >= b && h < end && tag >= c {
                    visit((s as u32).wrapping_sub(1));
                }
            }
            u += 1;
        }
        if end >= cap {
            0
        } else {
            (end as u64) << shift
        }
    }
}

/// Pushes onto an arena vector growing it by a quarter (not doubling), so a big set
/// carries at most about 25% spare capacity.
#[inline]
fn push_tight<T>(v: &mut Vec<T>, x: T) {
    if v.len() == v.capacity() {
        v.reserve_exact((v.len() / 4).max(4));
    }
    v.push(x);
}

/// Whether key (s1, m1) orders before key (s2, m2).
#[inline]
fn key_lt(s1: f64, m1: &[u8], s2: f64, m2: &[u8]) -> bool {
    s1 < s2 || (s1 == s2 && m1 < m2)
}

/// Whether key (s1, m1) orders before or at key (s2, m2).
#[inline]
fn key_le(s1: f64, m1: &[u8], s2: f64, m2: &[u8]) -> bool {
    s1 < s2 || (s1 == s2 && m1 <= m2)
}

/// A leaf entry, packed to 12 bytes so a binary-search probe reads one cache line.
/// (Fields of a packed struct are only ever copied, never borrowed.)
#[derive(Clone, Copy)]
#[repr(C, packed)]
struct Ent {
    score: f64,
    id: u32,
}

/// A B+tree leaf: up to `L` entries (score, slab id) in order.
#[derive(Clone)]
struct Leaf<const L: usize> {
    len: u32,
    prev: u32,
    next: u32,
    ents: [Ent; L],
}

impl<const L: usize> Leaf<L> {
    fn empty() -> Leaf<L> {
        Leaf {
            len: 0,
            prev: NIL,
            next: NIL,
            ents: [Ent {
                score: 0.0,
                id: NIL,
            }; L],
        }
    }

    #[inline]
    fn score(&self, k: usize) -> f64 {
        self.ents[k].score
    }

    #[inline]
    fn id(&self, k: usize) -> u32 {
        self.ents[k].id
    }

    #[inline]
    fn insert(&mut self, pos: usize, score: f64, id: u32) {
        let n = self.len as usize;
        self.ents.copy_within(pos..n, pos + 1);
        self.ents[pos] = Ent { score, id };
        self.len += 1;
    }

    #[inline]
    fn remove(&mut self, pos: usize) {
        let n = self.len as usize;
        self.ents.copy_within(pos + 1..n, pos);
        self.len -= 1;
    }
}

fn no_bytes() -> SmallBytes {
    SmallBytes::from_slice(&[])
}

/// A separator key: a copy of a (score, member) key.
#[derive(Clone, Debug)]
struct SepKey {
    score: f64,
    member: SmallBytes,
}

impl SepKey {
    fn empty() -> SepKey {
        SepKey {
            score: 0.0,
            member: no_bytes(),
        }
    }
}

/// A B+tree inner node: up to `I` children with their subtree sizes. Key `keys[i]`,
/// i >= 1, separates child i from child i - 1: every key of child i - 1 is below it,
/// every key of child i at or above it. Separators are copies of keys, so one whose
/// member has since left or moved still routes correctly and needs no upkeep, and
/// routing reads no member from the slab. Slot 0 is unused.
#[derive(Clone)]
struct Inner<const I: usize> {
    len: u32,
    children: [u32; I],
    counts: [u32; I],
    keys: [SepKey; I],
}

impl<const I: usize> Inner<I> {
    fn empty() -> Inner<I> {
        Inner {
            len: 0,
            children: [NIL; I],
            counts: [0; I],
            keys: std::array::from_fn(|_| SepKey::empty()),
        }
    }

    /// Inserts a child at `at` (the node has room).
    fn insert(&mut self, at: usize, key: SepKey, child: u32, count: u32) {
        let n = self.len as usize;
        self.children.copy_within(at..n, at + 1);
        self.counts.copy_within(at..n, at + 1);
        self.keys[at..=n].rotate_right(1);
        self.keys[at] = key;
        self.children[at] = child;
        self.counts[at] = count;
        self.len += 1;
    }

    /// Appends child `k` of `from` (leaving an empty separator there).
    fn push_from(&mut self, from: &mut Inner<I>, k: usize) {
        let key = std::mem::replace(&mut from.keys[k], SepKey::empty());
        let n = self.len as usize;
        self.keys[n] = key;
        self.children[n] = from.children[k];
        self.counts[n] = from.counts[k];
        self.len += 1;
    }

    fn remove(&mut self, at: usize) {
        let n = self.len as usize;
        self.children.copy_within(at + 1..n, at);
        self.counts.copy_within(at + 1..n, at);
        self.keys[at..n].rotate_left(1);
        self.keys[n - 1] = SepKey::empty();
        self.len -= 1;
    }

    /// The child holding or receiving `key`: the last whose separator is <= key.
    #[inline]
    fn route(&self, score: f64, member: &[u8]) -> usize {
        let (mut lo, mut hi) = (1, self.len as usize);
        while lo < hi {
            let mid = (lo + hi) / 2;
            let k = &self.keys[mid];
            if key_le(k.score, k.member.as_slice(), score, member) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo - 1
    }
}

/// Root-to-leaf path: (inner node, child index taken).
type Path = SmallVec<[(u32, u32); 8]>;

fn two_mut<T>(v: &mut [T], a: usize, b: usize) -> (&mut T, &mut T) {
    assert_ne!(a, b, "two_mut needs distinct indexes");
    if a < b {
        let (x, y) = v.split_at_mut(b);
        (&mut x[a], &mut y[0])
    } else {
        let (x, y) = v.split_at_mut(a);
        (&mut y[0], &mut x[b])
    }
}

/// Order-statistics B+tree of (score, slab id); member bytes are read from the slab
/// only to break score ties inside a leaf.
#[derive(Clone)]
struct Tree<const L: usize, const I: usize> {
    leaves: Vec<Leaf<L>>,
    inners: Vec<Inner<I>>,
    free_leaves: Vec<u32>,
    free_inners: Vec<u32>,
    root: u32,
    /// 0 when the root is a leaf.
    height: u32,
    len: usize,
}

impl<const L: usize, const I: usize> Tree<L, I> {
    /// Leaves below this size try to merge with a neighbour.
    const LEAF_MIN: usize = L / 4 + 1;
    /// Largest leaf a merge may produce (leaves room for inserts before a split).
    const LEAF_MERGE: usize = L * 3 / 4;

    fn with_capacity(n: usize) -> Tree<L, I> {
        let mut leaves = Vec::with_capacity(n / L + 1);
        leaves.push(Leaf::empty());
        Tree {
            leaves,
            inners: Vec::new(),
            free_leaves: Vec::new(),
            free_inners: Vec::new(),
            root: 0,
            height: 0,
            len: 0,
        }
    }

    fn heap_bytes(&self) -> usize {
        self.leaves.capacity() * std::mem::size_of::<Leaf<L>>()
            + self.inners.capacity() * std::mem::size_of::<Inner<I>>()
            + (self.free_leaves.capacity() + self.free_inners.capacity()) * 4
    }

    fn alloc_leaf(&mut self) -> u32 {
        match self.free_leaves.pop() {
            Some(i) => {
                self.leaves[i as usize] = Leaf::empty();
                i
            }
            None => {
                push_tight(&mut self.leaves, Leaf::empty());
                (self.leaves.len() - 1) as u32
            }
        }
    }

    fn alloc_inner(&mut self) -> u32 {
        match self.free_inners.pop() {
            Some(i) => {
                self.inners[i as usize] = Inner::empty();
                i
            }
            None => {
                push_tight(&mut self.inners, Inner::empty());
                (self.inners.len() - 1) as u32
            }
        }
    }

    /// Path to the leaf where an absent (score, member) belongs, and its position.
    fn descend(&self, nodes: &[Node], score: f64, member: &[u8]) -> (Path, u32, usize) {
        let mut path = Path::new();
        let mut node = self.root;
        for _ in 0..self.height {
            let inn = &self.inners[node as usize];
            let c = inn.route(score, member);
            path.push((node, c as u32));
            node = inn.children[c];
        }
        let l = &self.leaves[node as usize];
        let (mut lo, mut hi) = (0, l.len as usize);
        while lo < hi {
            let mid = (lo + hi) / 2;
            let m = nodes[l.id(mid) as usize].member.as_slice();
            if key_lt(l.score(mid), m, score, member) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        (path, node, lo)
    }

    /// Path, leaf, position and rank of the present member `id` with key
    /// (score, member). Inside the leaf the entry is found by id, without reading
    /// any member.
    fn locate(&self, score: f64, member: &[u8], id: u32) -> Option<(Path, u32, usize, usize)> {
        let mut path = Path::new();
        let mut node = self.root;
        let mut rank = 0usize;
        for _ in 0..self.height {
            let inn = &self.inners[node as usize];
            let c = inn.route(score, member);
            rank += inn.counts[..c].iter().map(|&n| n as usize).sum::<usize>();
            path.push((node, c as u32));
            node = inn.children[c];
        }
        let l = &self.leaves[node as usize];
        let pos = l.ents[..l.len as usize].iter().position(|e| e.id == id);
        debug_assert!(pos.is_some(), "member missing from its leaf");
        pos.map(|pos| (path, node, pos, rank + pos))
    }

    /// For an order-monotone predicate (true on a prefix of the keys), given as
    /// `sep` on separator keys and `entry` on leaf entries: the number of entries it
    /// holds for, and the leaf and position of the first entry it fails for (the end
    /// position when there is none).
    fn seek(
        &self,
        sep: impl Fn(f64, &[u8]) -> bool,
        entry: impl Fn(f64, u32) -> bool,
    ) -> (usize, u32, usize) {
        let mut node = self.root;
        let mut rank = 0usize;
        for _ in 0..self.height {
            let inn = &self.inners[node as usize];
            let (mut lo, mut hi) = (1, inn.len as usize);
            while lo < hi {
                let mid = (lo + hi) / 2;
                let k = &inn.keys[mid];
                if sep(k.score, k.member.as_slice()) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            let c = lo - 1;
            rank += inn.counts[..c].iter().map(|&n| n as usize).sum::<usize>();
            node = inn.children[c];
        }
        let l = &self.leaves[node as usize];
        let (mut lo, mut hi) = (0, l.len as usize);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if entry(l.score(mid), l.id(mid)) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        if lo == l.len as usize && l.next != NIL {
            (rank + lo, l.next, 0)
        } else {
            (rank + lo, node, lo)
        }
    }

    /// Leaf and position of the entry at `rank` (< len).
    fn select(&self, mut rank: usize) -> (u32, usize) {
        let mut node = self.root;
        for _ in 0..self.height {
            let inn = &self.inners[node as usize];
            let last = inn.len as usize - 1;
            let mut c = 0;
            while c < last && rank >= inn.counts[c] as usize {
                rank -= inn.counts[c] as usize;
                c += 1;
            }
            node = inn.children[c];
        }
        (node, rank)
    }

    /// Visits entries from (leaf, pos) towards the end until `f` returns false.
    fn walk_fwd(&self, mut leaf: u32, mut pos: usize, mut f: impl FnMut(f64, u32) -> bool) {
        loop {
            let l = &self.leaves[leaf as usize];
            while pos < l.len as usize {
                if !f(l.score(pos), l.id(pos)) {
                    return;
                }
                pos += 1;
            }
            if l.next == NIL {
                return;
            }
            leaf = l.next;
            pos = 0;
        }
    }

    /// Visits entries from (leaf, pos) (pos < that leaf's len) towards the start
    /// until `f` returns false.
    fn walk_back(&self, mut leaf: u32, pos: usize, mut f: impl FnMut(f64, u32) -> bool) {
        let mut end = pos + 1;
        loop {
            let l = &self.leaves[leaf as usize];
            for i in (0..end.min(l.len as usize)).rev() {
                if !f(l.score(i), l.id(i)) {
                    return;
                }
            }
            if l.prev == NIL {
                return;
            }
            leaf = l.prev;
            end = self.leaves[leaf as usize].len as usize;
        }
    }

    /// Inserts (score, id) at the position `descend` found.
    fn insert_at(
        &mut self,
        nodes: &[Node],
        path: &Path,
        leaf: u32,
        pos: usize,
        score: f64,
        id: u32,
    ) {
        self.len += 1;
        for &(p, c) in path.iter() {
            self.inners[p as usize].counts[c as usize] += 1;
        }
        let l = &mut self.leaves[leaf as usize];
        if (l.len as usize) < L {
            l.insert(pos, score, id);
            return;
        }
        // Split. Appending at the very end (or prepending at the very start) leaves
        // the full leaf alone, so ordered inserts build full leaves.
        let (prev, next) = (l.prev, l.next);
        let m = if pos == L && next == NIL {
            L
        } else if pos == 0 && prev == NIL {
            0
        } else {
            L / 2
        };
        let r = self.alloc_leaf();
        let (lc, rc, rs, ri) = {
            let (lf, rt) = two_mut(&mut self.leaves, leaf as usize, r as usize);
            let n = L - m;
            rt.ents[..n].copy_from_slice(&lf.ents[m..L]);
            rt.len = n as u32;
            lf.len = m as u32;
            rt.prev = leaf;
            rt.next = next;
            lf.next = r;
            if pos <= m && m < L {
                lf.insert(pos, score, id);
            } else {
                rt.insert(pos - m, score, id);
            }
            (lf.len, rt.len, rt.score(0), rt.id(0))
        };
        if next != NIL {
            self.leaves[next as usize].prev = r;
        }
        let sep = SepKey {
            score: rs,
            member: SmallBytes::from_slice(nodes[ri as usize].member.as_slice()),
        };
        self.add_child(path, path.len(), r, sep, lc, rc);
    }

    /// The node at `depth` on `path` was split: `new` (separator `sep`, `rc`
    /// entries) goes right after it in its parent, and the node keeps `lc` entries.
    fn add_child(
        &mut self,
        path: &Path,
        mut depth: usize,
        mut new: u32,
        mut sep: SepKey,
        mut lc: u32,
        mut rc: u32,
    ) {
        loop {
            if depth == 0 {
                let nr = self.alloc_inner();
                let old_root = self.root;
                let inn = &mut self.inners[nr as usize];
                inn.insert(0, SepKey::empty(), old_root, lc);
                inn.insert(1, sep, new, rc);
                self.root = nr;
                self.height += 1;
                return;
            }
            depth -= 1;
            let (p, c) = path[depth];
            let (p, c) = (p as usize, c as usize);
            self.inners[p].counts[c] = lc;
            let plen = self.inners[p].len as usize;
            if plen < I {
                self.inners[p].insert(c + 1, sep, new, rc);
                return;
            }
            // Split the full node: the virtual node is its children 0..=c, the new
            // child, then its children c+1..I. The rightmost node of its level keeps
            // all its children when the new one is appended (ordered inserts).
            let rightmost = c + 1 == plen
                && path[..depth]
                    .iter()
                    .all(|&(q, cq)| cq + 1 == self.inners[q as usize].len);
            let mm = if rightmost { I } else { I.div_ceil(2) };
            let q = self.alloc_inner();
            let (left, right) = two_mut(&mut self.inners, p, q as usize);
            if c + 1 >= mm {
                for k in mm..=c {
                    right.push_from(left, k);
                }
                right.insert(right.len as usize, sep, new, rc);
                for k in c + 1..I {
                    right.push_from(left, k);
                }
                left.len = mm as u32;
            } else {
                for k in mm - 1..I {
                    right.push_from(left, k);
                }
                left.len = (mm - 1) as u32;
                left.insert(c + 1, sep, new, rc);
            }
            lc = left.counts[..left.len as usize].iter().sum();
            rc = right.counts[..right.len as usize].iter().sum();
            sep = std::mem::replace(&mut right.keys[0], SepKey::empty());
            new = q;
        }
    }

    /// Removes the entry at the position `locate` found.
    fn remove_at(&mut self, path: &Path, leaf: u32, pos: usize) {
        self.len -= 1;
        for &(p, c) in path.iter() {
            self.inners[p as usize].counts[c as usize] -= 1;
        }
        let l = &mut self.leaves[leaf as usize];
        l.remove(pos);
        let n = l.len as usize;
        if path.is_empty() {
            return;
        }
        let depth = path.len() - 1;
        let (p, c) = path[depth];
        let (p, c) = (p as usize, c as usize);
        if n == 0 {
            self.unlink_leaf(leaf);
            self.remove_child(path, depth, c);
        } else if n < Self::LEAF_MIN {
            let inn = &self.inners[p];
            if c + 1 < inn.len as usize {
                let r = inn.children[c + 1];
                if n + self.leaves[r as usize].len as usize <= Self::LEAF_MERGE {
                    self.merge_leaves(leaf, r);
                    let inn = &mut self.inners[p];
                    inn.counts[c] += inn.counts[c + 1];
                    self.remove_child(path, depth, c + 1);
                }
            } else if c > 0 {
                let left = inn.children[c - 1];
                if n + self.leaves[left as usize].len as usize <= Self::LEAF_MERGE {
                    self.merge_leaves(left, leaf);
                    let inn = &mut self.inners[p];
                    inn.counts[c - 1] += inn.counts[c];
                    self.remove_child(path, depth, c);
                }
            }
        }
        while self.height > 0 && self.inners[self.root as usize].len == 1 {
            let old = self.root;
            self.root = self.inners[old as usize].children[0];
            self.free_inner(old);
            self.height -= 1;
        }
    }

    fn free_inner(&mut self, node: u32) {
        // Drop long separators now rather than when the slot is reused.
        self.inners[node as usize].keys = std::array::from_fn(|_| SepKey::empty());
        self.free_inners.push(node);
    }

    /// Takes a leaf out of the leaf chain and frees it.
    fn unlink_leaf(&mut self, leaf: u32) {
        let (prev, next) = {
            let l = &self.leaves[leaf as usize];
            (l.prev, l.next)
        };
        if prev != NIL {
            self.leaves[prev as usize].next = next;
        }
        if next != NIL {
            self.leaves[next as usize].prev = prev;
        }
        self.free_leaves.push(leaf);
    }

    /// Appends the entries of leaf `b` to its left neighbour `a` and frees `b`.
    fn merge_leaves(&mut self, a: u32, b: u32) {
        {
            let (la, lb) = two_mut(&mut self.leaves, a as usize, b as usize);
            let (na, nb) = (la.len as usize, lb.len as usize);
            la.ents[na..na + nb].copy_from_slice(&lb.ents[..nb]);
            la.len = (na + nb) as u32;
        }
        self.unlink_leaf(b);
    }

    /// Removes child `c` of the inner node at `depth` on `path` (the child itself is
    /// already freed); an inner node left without children goes too. Separators stay
    /// valid: removing keys never breaks a bound.
    fn remove_child(&mut self, path: &[(u32, u32)], depth: usize, c: usize) {
        let p = path[depth].0;
        let inn = &mut self.inners[p as usize];
        inn.remove(c);
        if inn.len == 0 {
            self.free_inner(p);
            if depth == 0 {
                // Unreachable while the root keeps two children or more; stay sound.
                self.height = 0;
                self.root = self.alloc_leaf();
            } else {
                self.remove_child(path, depth - 1, path[depth - 1].1 as usize);
            }
        }
    }
}

/// Big encoding: slab of members, hash index, B+tree.
#[derive(Clone)]
struct Big<const L: usize, const I: usize> {
    nodes: Vec<Node>,
    free: Vec<u32>,
    /// Heap bytes of members too long to be inline.
    member_heap: usize,
    index: HashIndex,
    tree: Tree<L, I>,
}

impl<const L: usize, const I: usize> fmt::Debug for Big<L, I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Big")
            .field("len", &self.len())
            .field("height", &self.tree.height)
            .finish_non_exhaustive()
    }
}

impl<const L: usize, const I: usize> Big<L, I> {
    /// Slab size below which removals never trigger a compacting rebuild.
    const REBUILD_MIN: usize = 16 * L;

    fn with_capacity(n: usize) -> Big<L, I> {
        Big {
            nodes: Vec::with_capacity(n),
            free: Vec::new(),
            member_heap: 0,
            index: HashIndex::with_capacity(n),
            tree: Tree::with_capacity(n),
        }
    }

    #[inline]
    fn len(&self) -> usize {
        self.tree.len
    }

    fn heap_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.nodes.capacity() * std::mem::size_of::<Node>()
            + self.free.capacity() * 4
            + self.index.slots.len() * 8
            + self.tree.heap_bytes()
            + self.member_heap
    }

    #[inline]
    fn member(&self, id: u32) -> &[u8] {
        self.nodes[id as usize].member.as_slice()
    }

    #[inline]
    fn find(&self, member: &[u8]) -> Option<(usize, u32)> {
        self.index.find(&self.nodes, tag_of(member), member)
    }

    fn score(&self, member: &[u8]) -> Option<f64> {
        self.find(member)
            .map(|(_, id)| self.nodes[id as usize].score)
    }

    /// Adds a member known to be absent.
    fn insert_new(&mut self, member: &[u8], score: f64) {
        let node = Node {
            member: SmallBytes::from_slice(member),
            score,
        };
        self.member_heap += node.member.heap_bytes();
        let id = match self.free.pop() {
            Some(id) => {
                self.nodes[id as usize] = node;
                id
            }
            None => {
                push_tight(&mut self.nodes, node);
                (self.nodes.len() - 1) as u32
            }
        };
        self.index.insert(tag_of(member), id);
        let (path, leaf, pos) = self.tree.descend(&self.nodes, score, member);
        self.tree
            .insert_at(&self.nodes, &path, leaf, pos, score, id);
    }

    fn insert(&mut self, member: &[u8], score: f64) -> Option<f64> {
        let Some((_, id)) = self.find(member) else {
            self.insert_new(member, score);
            return None;
        };
        let old = self.nodes[id as usize].score;
        if old != score {
            self.update_score(id, old, score);
        }
        Some(old)
    }

    /// Moves member `id` from score `old` to `new`, in place when its neighbours
    /// allow (as Redis' zslUpdateScore) and no separator can be above its new key.
    fn update_score(&mut self, id: u32, old: f64, new: f64) {
        let member = self.member(id);
        let t = &self.tree;
        let Some((path, leaf, pos, _)) = t.locate(old, member, id) else {
            return;
        };
        let l = &t.leaves[leaf as usize];
        let key_of = |k: usize| (l.score(k), self.member(l.id(k)));
        // Within the leaf, compare with the neighbours; at a leaf's edge the bound is
        // a separator (possibly a stale key), so only moves away from it stay.
        let prev_ok = if pos > 0 {
            let (s, m) = key_of(pos - 1);
            key_lt(s, m, new, member)
        } else {
            l.prev == NIL || new > old
        };
        let next_ok = prev_ok
            && if pos + 1 < l.len as usize {
                let (s, m) = key_of(pos + 1);
                key_lt(new, member, s, m)
            } else {
                l.next == NIL || new < old
            };
        self.nodes[id as usize].score = new;
        if next_ok {
            self.tree.leaves[leaf as usize].ents[pos].score = new;
        } else {
            self.tree.remove_at(&path, leaf, pos);
            let member = self.member(id);
            let (path, leaf, pos) = self.tree.descend(&self.nodes, new, member);
            self.tree.insert_at(&self.nodes, &path, leaf, pos, new, id);
        }
    }

    fn remove(&mut self, member: &[u8]) -> bool {
        let Some((slot, id)) = self.find(member) else {
            return false;
        };
        self.index.remove_at(slot);
        let score = self.nodes[id as usize].score;
        if let Some((path, leaf, pos, _)) = self.tree.locate(score, member, id) {
            self.tree.remove_at(&path, leaf, pos);
        }
        let node = &mut self.nodes[id as usize];
        self.member_heap -= node.member.heap_bytes();
        node.member = no_bytes();
        self.free.push(id);
        if self.nodes.len() >= Self::REBUILD_MIN && self.len() * 4 < self.nodes.len() {
            self.rebuild();
        }
        true
    }

    /// Rebuilds the set compactly after most members went: slab, index and tree
    /// sized for the members left, leaves full. Amortized O(1) per removal.
    fn rebuild(&mut self) {
        let mut fresh = Big::with_capacity(self.len());
        let (leaf, pos) = self.tree.select(0);
        self.tree.walk_fwd(leaf, pos, |s, id| {
            fresh.insert_new(self.member(id), s);
            true
        });
        *self = fresh;
    }

    fn rank(&self, member: &[u8]) -> Option<usize> {
        let (_, id) = self.find(member)?;
        let score = self.nodes[id as usize].score;
        self.tree.locate(score, member, id).map(|r| r.3)
    }

    fn visit_fwd(
        &self,
        leaf: u32,
        pos: usize,
        mut keep: impl FnMut(f64, &[u8]) -> bool,
        visit: &mut dyn FnMut(&[u8], f64) -> bool,
    ) {
        self.tree.walk_fwd(leaf, pos, |s, id| {
            let m = self.member(id);
            keep(s, m) && visit(m, s)
        });
    }

    fn visit_back(
        &self,
        leaf: u32,
        pos: usize,
        mut keep: impl FnMut(f64, &[u8]) -> bool,
        visit: &mut dyn FnMut(&[u8], f64) -> bool,
    ) {
        self.tree.walk_back(leaf, pos, |s, id| {
            let m = self.member(id);
            keep(s, m) && visit(m, s)
        });
    }

    fn range_by_rank(&self, start: usize, rev: bool, visit: &mut dyn FnMut(&[u8], f64) -> bool) {
        let n = self.len();
        if start >= n {
            return;
        }
        if rev {
            let (leaf, pos) = self.tree.select(n - 1 - start);
            self.visit_back(leaf, pos, |_, _| true, visit);
        } else {
            let (leaf, pos) = self.tree.select(start);
            self.visit_fwd(leaf, pos, |_, _| true, visit);
        }
    }

    /// Members before the first whose score fails `pred` (monotone).
    fn seek_score(&self, pred: impl Fn(f64) -> bool + Copy) -> (usize, u32, usize) {
        self.tree.seek(|s, _| pred(s), |s, _| pred(s))
    }

    /// Members before the first whose bytes fail `pred` (monotone when all scores
    /// are equal).
    fn seek_lex(&self, pred: impl Fn(&[u8]) -> bool + Copy) -> (usize, u32, usize) {
        self.tree
            .seek(|_, m| pred(m), |_, id| pred(self.member(id)))
    }

    /// Position of the last entry of a prefix of `n` entries, if any.
    fn last_of(&self, n: usize) -> Option<(u32, usize)> {
        (n > 0).then(|| self.tree.select(n - 1))
    }

    fn range_by_score(
        &self,
        range: &ScoreRange,
        rev: bool,
        visit: &mut dyn FnMut(&[u8], f64) -> bool,
    ) {
        if rev {
            let n = self.seek_score(|s| range.below_max(s)).0;
            if let Some((leaf, pos)) = self.last_of(n) {
                self.visit_back(leaf, pos, |s, _| range.above_min(s), visit);
            }
        } else {
            let (_, leaf, pos) = self.seek_score(|s| !range.above_min(s));
            self.visit_fwd(leaf, pos, |s, _| range.below_max(s), visit);
        }
    }

    fn range_by_lex(&self, range: &LexRange, rev: bool, visit: &mut dyn FnMut(&[u8], f64) -> bool) {
        if rev {
            let n = self.seek_lex(|m| range.below_max(m)).0;
            if let Some((leaf, pos)) = self.last_of(n) {
                self.visit_back(leaf, pos, |_, m| range.above_min(m), visit);
            }
        } else {
            let (_, leaf, pos) = self.seek_lex(|m| !range.above_min(m));
            self.visit_fwd(leaf, pos, |_, m| range.below_max(m), visit);
        }
    }

    fn count_by_score(&self, range: &ScoreRange) -> usize {
        let hi = self.seek_score(|s| range.below_max(s)).0;
        let lo = self.seek_score(|s| !range.above_min(s)).0;
        hi.saturating_sub(lo)
    }

    fn count_by_lex(&self, range: &LexRange) -> usize {
        let hi = self.seek_lex(|m| range.below_max(m)).0;
        let lo = self.seek_lex(|m| !range.above_min(m)).0;
        hi.saturating_sub(lo)
    }

    fn scan(&self, cursor: u64, count: usize, visit: &mut dyn FnMut(&[u8], f64)) -> u64 {
        self.index.scan(cursor, count, |id| {
            let n = &self.nodes[id as usize];
            visit(n.member.as_slice(), n.score);
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use ferrokv_core::storage::{LexBound, ScoreBound};
    use proptest::prelude::*;
    use std::collections::{BTreeMap, HashSet};

    // ------------------------------------------------------------------ model

    /// member -> score, ordered on demand exactly as Redis orders (partial_cmp).
    #[derive(Default, Clone, Debug)]
    struct Model {
        map: BTreeMap<Vec<u8>, f64>,
    }

    impl Model {
        fn ordered(&self) -> Vec<(Vec<u8>, f64)> {
            let mut v: Vec<_> = self.map.iter().map(|(m, s)| (m.clone(), *s)).collect();
            v.sort_by(|a, b| a.1.partial_cmp(&b.1).unwrap().then_with(|| a.0.cmp(&b.0)));
            v
        }
        fn insert(&mut self, m: &[u8], s: f64) -> Option<f64> {
            match self.map.get_mut(m) {
                Some(old) => {
                    let prev = *old;
                    if prev != s {
                        *old = s;
                    }
                    Some(prev)
                }
                None => {
                    self.map.insert(m.to_vec(), s);
                    None
                }
            }
        }
        fn equal_scores(&self) -> bool {
            let mut it = self.map.values();
            match it.next() {
                Some(first) => it.all(|s| s == first),
                None => true,
            }
        }
    }

    fn bits(v: &[(Vec<u8>, f64)]) -> Vec<(Vec<u8>, u64)> {
        v.iter().map(|(m, s)| (m.clone(), s.to_bits())).collect()
    }

    fn collect(
        limit: usize,
        f: impl FnOnce(&mut dyn FnMut(&[u8], f64) -> bool),
    ) -> Vec<(Vec<u8>, f64)> {
        let mut out = Vec::new();
        if limit == 0 {
            return out;
        }
        f(&mut |m, s| {
            out.push((m.to_vec(), s));
            out.len() < limit
        });
        out
    }

    // ------------------------------------------------------- tree invariants

    impl<const L: usize, const I: usize> Big<L, I> {
        /// Checks every structural invariant; returns the entries in tree order.
        fn check(&self) -> Vec<(f64, u32)> {
            let t = &self.tree;
            let mut leaves_in_order = Vec::new();
            let mut entries = Vec::new();
            let n = self.check_node(t.root, t.height, true, &mut leaves_in_order, &mut entries);
            assert_eq!(n, t.len, "root count");
            // Leaf chain both ways.
            for (k, &lf) in leaves_in_order.iter().enumerate() {
                let l = &t.leaves[lf as usize];
                let prev = if k == 0 { NIL } else { leaves_in_order[k - 1] };
                let next = leaves_in_order.get(k + 1).copied().unwrap_or(NIL);
                assert_eq!(l.prev, prev, "prev link");
                assert_eq!(l.next, next, "next link");
            }
            // Strict order.
            for w in entries.windows(2) {
                let (a, b) = (w[0], w[1]);
                assert!(
                    key_lt(a.0, self.member(a.1), b.0, self.member(b.1)),
                    "order"
                );
            }
            // Slab, index and tree agree.
            assert_eq!(self.index.len, t.len);
            let live: HashSet<u32> = entries.iter().map(|e| e.1).collect();
            assert_eq!(live.len(), t.len, "ids unique");
            let free: HashSet<u32> = self.free.iter().copied().collect();
            assert_eq!(free.len(), self.free.len(), "free unique");
            assert_eq!(live.len() + free.len(), self.nodes.len(), "slab accounted");
            let mut heap = 0;
            for &(s, id) in &entries {
                let node = &self.nodes[id as usize];
                assert_eq!(node.score.to_bits(), s.to_bits(), "score copy");
                assert!(!free.contains(&id));
                let (_, found) = self.find(node.member.as_slice()).expect("indexed");
                assert_eq!(found, id);
                heap += node.member.heap_bytes();
            }
            assert_eq!(heap, self.member_heap);
            let occupied = self.index.slots.iter().filter(|&&s| s != 0).count();
            assert_eq!(occupied, t.len);
            assert!(t.len * 4 <= self.index.slots.len() * 3);
            entries
        }

        fn check_node(
            &self,
            node: u32,
            height: u32,
            is_root: bool,
            leaves: &mut Vec<u32>,
            entries: &mut Vec<(f64, u32)>,
        ) -> usize {
            let t = &self.tree;
            if height == 0 {
                let l = &t.leaves[node as usize];
                assert!(is_root || l.len > 0, "empty non-root leaf");
                assert!(l.len as usize <= L);
                leaves.push(node);
                for k in 0..l.len as usize {
                    entries.push((l.score(k), l.id(k)));
                }
                return l.len as usize;
            }
            let inn = &t.inners[node as usize];
            assert!(inn.len >= 1 && inn.len as usize <= I);
            assert!(!is_root || inn.len >= 2, "root inner with one child");
            let mut total = 0;
            for c in 0..inn.len as usize {
                let before = entries.len();
                let n = self.check_node(inn.children[c], height - 1, false, leaves, entries);
                assert_eq!(n, inn.counts[c] as usize, "subtree count");
                if c > 0 {
                    // Every key on the left below the separator, every key on the
                    // right at or above it.
                    let (sep_s, sep_m) = (inn.keys[c].score, inn.keys[c].member.as_slice());
                    let (ls, lid) = entries[before - 1];
                    let (rs, rid) = entries[before];
                    assert!(
                        key_lt(ls, self.member(lid), sep_s, sep_m),
                        "separator above left"
                    );
                    assert!(
                        key_le(sep_s, sep_m, rs, self.member(rid)),
                        "separator below right"
                    );
                }
                total += n;
            }
            total
        }
    }

    /// ZSetOps straight on a big set (for trees with tiny nodes).
    struct BigOps<'a, const L: usize, const I: usize>(&'a mut Big<L, I>);

    impl<const L: usize, const I: usize> ZSetOps for BigOps<'_, L, I> {
        fn len(&mut self) -> usize {
            self.0.len()
        }
        fn score(&mut self, m: &[u8]) -> Option<f64> {
            self.0.score(m)
        }
        fn insert(&mut self, m: &[u8], s: f64) -> Option<f64> {
            self.0.insert(m, s)
        }
        fn remove(&mut self, m: &[u8]) -> bool {
            self.0.remove(m)
        }
        fn rank(&mut self, m: &[u8], rev: bool) -> Option<usize> {
            let r = self.0.rank(m)?;
            Some(if rev { self.0.len() - 1 - r } else { r })
        }
        fn range_by_rank(
            &mut self,
            start: usize,
            rev: bool,
            v: &mut dyn FnMut(&[u8], f64) -> bool,
        ) {
            self.0.range_by_rank(start, rev, v)
        }
        fn range_by_score(
            &mut self,
            r: &ScoreRange,
            rev: bool,
            v: &mut dyn FnMut(&[u8], f64) -> bool,
        ) {
            self.0.range_by_score(r, rev, v)
        }
        fn range_by_lex(&mut self, r: &LexRange, rev: bool, v: &mut dyn FnMut(&[u8], f64) -> bool) {
            self.0.range_by_lex(r, rev, v)
        }
        fn count_by_score(&mut self, r: &ScoreRange) -> usize {
            self.0.count_by_score(r)
        }
        fn count_by_lex(&mut self, r: &LexRange) -> usize {
            self.0.count_by_lex(r)
        }
        fn scan(&mut self, c: u64, n: usize, v: &mut dyn FnMut(&[u8], f64)) -> u64 {
            self.0.scan(c, n, v)
        }
    }

    /// What a test drives: the public handle (real node sizes, both encodings) or a
    /// big set with tiny nodes (deep trees, many splits and merges).
    enum Subject {
        Handle(ZSet, EncodingLimits),
        Tiny(Box<Big<4, 4>>),
    }

    impl Subject {
        fn ops<R>(&mut self, f: impl FnOnce(&mut dyn ZSetOps) -> R) -> R {
            match self {
                Subject::Handle(z, limits) => f(&mut ZSetHandle { zset: z, limits }),
                Subject::Tiny(b) => f(&mut BigOps(b)),
            }
        }
        fn check(&self, model: &Model) {
            let want = bits(&model.ordered());
            let entries_of = |nodes: &[Node], e: Vec<(f64, u32)>| {
                e.into_iter()
                    .map(|(s, id)| (nodes[id as usize].member.as_slice().to_vec(), s.to_bits()))
                    .collect::<Vec<_>>()
            };
            match self {
                Subject::Handle(z, _) => match &z.repr {
                    Repr::Small(buf) => {
                        let got: Vec<_> = small_iter(buf)
                            .map(|e| (e.member.to_vec(), e.score.to_bits()))
                            .collect();
                        assert_eq!(got, want);
                        // Exactly sized, canonical.
                        let mut v = Vec::new();
                        if !got.is_empty() {
                            put_varint(&mut v, got.len() as u64);
                        }
                        for (m, s) in &got {
                            encode_entry(&mut v, m, f64::from_bits(*s));
                        }
                        assert_eq!(&v[..], &buf[..]);
                    }
                    Repr::Big(b) => assert_eq!(entries_of(&b.nodes, b.check()), want),
                },
                Subject::Tiny(b) => assert_eq!(entries_of(&b.nodes, b.check()), want),
            }
        }
    }

    // -------------------------------------------------------------- strategies

    fn score() -> impl Strategy<Value = f64> {
        prop_oneof![
            Just(f64::NEG_INFINITY),
            Just(f64::INFINITY),
            Just(-0.0),
            Just(0.0),
            (-4i32..5).prop_map(f64::from),
            (-8i32..8).prop_map(|i| f64::from(i) / 2.0),
            Just(1e300),
            Just(-((1u64 << 48) as f64)),
            Just((1u64 << 48) as f64 - 1.0),
            any::<f64>().prop_filter("no NaN", |s| !s.is_nan()),
        ]
    }

    fn member() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            8 => proptest::collection::vec(prop::sample::select(vec![b'a', b'b', b'c']), 0..4),
            1 => (0u8..3).prop_map(|c| vec![b'x' + c; 70]),
            1 => (0u8..3).prop_map(|c| vec![b'p' + c; 25]),
        ]
    }

    fn score_range() -> impl Strategy<Value = ScoreRange> {
        (score(), any::<bool>(), score(), any::<bool>()).prop_map(|(a, ae, b, be)| ScoreRange {
            min: ScoreBound {
                value: a,
                exclusive: ae,
            },
            max: ScoreBound {
                value: b,
                exclusive: be,
            },
        })
    }

    fn lex_bound() -> impl Strategy<Value = LexBound> {
        prop_oneof![
            Just(LexBound::Min),
            Just(LexBound::Max),
            member().prop_map(|m| LexBound::Inclusive(Bytes::from(m))),
            member().prop_map(|m| LexBound::Exclusive(Bytes::from(m))),
        ]
    }

    fn lex_range() -> impl Strategy<Value = LexRange> {
        (lex_bound(), lex_bound()).prop_map(|(min, max)| LexRange { min, max })
    }

    #[derive(Clone, Debug)]
    enum Op {
        Insert(Vec<u8>, f64),
        /// Many numbered members: (first, n, score base, all scores zero).
        InsertMany(u32, u32, i32, bool),
        Remove(Vec<u8>),
        /// Removes `n` members from rank `start` (as ZREMRANGEBYRANK / ZPOPMIN).
        RemoveRanks(usize, usize, bool),
        Score(Vec<u8>),
        Rank(Vec<u8>, bool),
        ByRank(usize, bool, usize),
        ByScore(ScoreRange, bool, usize),
        ByLex(LexRange, bool, usize),
        Scan(usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            10 => (member(), score()).prop_map(|(m, s)| Op::Insert(m, s)),
            2 => (0u32..400, 1u32..120, -3i32..3, any::<bool>())
                .prop_map(|(a, n, b, z)| Op::InsertMany(a, n, b, z)),
            4 => member().prop_map(Op::Remove),
            1 => (0usize..50, 1usize..80, any::<bool>()).prop_map(|(a, n, r)| Op::RemoveRanks(a, n, r)),
            2 => member().prop_map(Op::Score),
            2 => (member(), any::<bool>()).prop_map(|(m, r)| Op::Rank(m, r)),
            2 => (0usize..150, any::<bool>(), 0usize..200).prop_map(|(a, r, l)| Op::ByRank(a, r, l)),
            3 => (score_range(), any::<bool>(), 0usize..200).prop_map(|(g, r, l)| Op::ByScore(g, r, l)),
            3 => (lex_range(), any::<bool>(), 0usize..200).prop_map(|(g, r, l)| Op::ByLex(g, r, l)),
            1 => (1usize..40).prop_map(Op::Scan),
        ]
    }

    fn many_member(i: u32) -> Vec<u8> {
        format!("m{i:04}").into_bytes()
    }

    /// Inserts into both; a listpack stores -0 as 0 (as Redis 7.0's).
    fn insert_both(sub: &mut Subject, model: &mut Model, m: &[u8], s: f64) {
        let got = sub.ops(|z| z.insert(m, s));
        let listpack = matches!(sub, Subject::Handle(z, _) if z.encoding() == "listpack");
        let stored = if listpack && s == 0.0 { 0.0 } else { s };
        assert_eq!(
            got.map(f64::to_bits),
            model.insert(m, stored).map(f64::to_bits)
        );
    }

    /// Applies one op to the subject and the model and compares the outcome.
    fn apply(sub: &mut Subject, model: &mut Model, op: &Op) {
        match op {
            Op::Insert(m, s) => insert_both(sub, model, m, *s),
            Op::InsertMany(first, n, base, zero) => {
                for k in 0..*n {
                    let i = (first * 7 + k * 13) % 500;
                    let m = many_member(i);
                    let s = if *zero {
                        0.0
                    } else {
                        f64::from(*base) + f64::from(i % 17)
                    };
                    insert_both(sub, model, &m, s);
                }
            }
            Op::Remove(m) => {
                let got = sub.ops(|z| z.remove(m));
                assert_eq!(got, model.map.remove(&m[..]).is_some());
            }
            Op::RemoveRanks(start, n, rev) => {
                let victims = sub.ops(|z| collect(*n, |v| z.range_by_rank(*start, *rev, v)));
                let mut want = model.ordered();
                if *rev {
                    want.reverse();
                }
                let want: Vec<_> = want.into_iter().skip(*start).take(*n).collect();
                assert_eq!(bits(&victims), bits(&want));
                for (m, _) in victims {
                    assert!(sub.ops(|z| z.remove(&m)));
                    model.map.remove(&m);
                }
            }
            Op::Score(m) => {
                let got = sub.ops(|z| z.score(m));
                assert_eq!(
                    got.map(f64::to_bits),
                    model.map.get(&m[..]).map(|s| s.to_bits())
                );
            }
            Op::Rank(m, rev) => {
                let got = sub.ops(|z| z.rank(m, *rev));
                let o = model.ordered();
                let want =
                    o.iter()
                        .position(|(x, _)| x == m)
                        .map(|i| if *rev { o.len() - 1 - i } else { i });
                assert_eq!(got, want);
            }
            Op::ByRank(start, rev, limit) => {
                let got = sub.ops(|z| collect(*limit, |v| z.range_by_rank(*start, *rev, v)));
                let mut want = model.ordered();
                if *rev {
                    want.reverse();
                }
                let want: Vec<_> = want.into_iter().skip(*start).take(*limit).collect();
                assert_eq!(bits(&got), bits(&want));
            }
            Op::ByScore(range, rev, limit) => {
                let got = sub.ops(|z| collect(*limit, |v| z.range_by_score(range, *rev, v)));
                let mut want: Vec<_> = model
                    .ordered()
                    .into_iter()
                    .filter(|(_, s)| range.contains(*s))
                    .collect();
                if *rev {
                    want.reverse();
                }
                let count = want.len();
                want.truncate(*limit);
                assert_eq!(bits(&got), bits(&want));
                assert_eq!(sub.ops(|z| z.count_by_score(range)), count);
            }
            Op::ByLex(range, rev, limit) => {
                let got = sub.ops(|z| collect(*limit, |v| z.range_by_lex(range, *rev, v)));
                let count = sub.ops(|z| z.count_by_lex(range));
                // Redis defines lex ranges only when all scores are equal.
                if model.equal_scores() {
                    let mut want: Vec<_> = model
                        .ordered()
                        .into_iter()
                        .filter(|(m, _)| range.contains(m))
                        .collect();
                    if *rev {
                        want.reverse();
                    }
                    assert_eq!(count, want.len());
                    want.truncate(*limit);
                    assert_eq!(bits(&got), bits(&want));
                } else {
                    assert!(got.len() <= model.map.len());
                    assert!(count <= model.map.len());
                }
            }
            Op::Scan(count) => {
                let mut seen = Vec::new();
                let mut cursor = 0;
                let mut pages = 0;
                loop {
                    cursor =
                        sub.ops(|z| z.scan(cursor, *count, &mut |m, s| seen.push((m.to_vec(), s))));
                    pages += 1;
                    assert!(pages <= 100_000);
                    if cursor == 0 {
                        break;
                    }
                }
                seen.sort_by(|a, b| a.0.cmp(&b.0));
                let want: Vec<_> = model.map.iter().map(|(m, s)| (m.clone(), *s)).collect();
                assert_eq!(bits(&seen), bits(&want), "scan returns each member once");
            }
        }
        assert_eq!(sub.ops(|z| z.len()), model.map.len());
    }

    fn limits_strategy() -> impl Strategy<Value = EncodingLimits> {
        (
            prop_oneof![Just(0usize), 1usize..12, Just(128)],
            prop_oneof![Just(64usize), 0usize..30],
        )
            .prop_map(|(e, v)| EncodingLimits {
                zset_max_listpack_entries: e,
                zset_max_listpack_value: v,
                ..EncodingLimits::default()
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

        /// The public handle (both encodings and the conversion) against the model.
        #[test]
        fn handle_matches_model(limits in limits_strategy(),
                                ops in proptest::collection::vec(op(), 1..120)) {
            let mut sub = Subject::Handle(ZSet::new(), limits);
            let mut model = Model::default();
            let mut big = false;
            for op in &ops {
                apply(&mut sub, &mut model, op);
                if let Subject::Handle(z, _) = &sub {
                    // Converts once a new member passes a limit, never back (ops
                    // either only add or only remove members).
                    if model.map.len() > limits.zset_max_listpack_entries
                        || model.map.keys().any(|m| m.len() > limits.zset_max_listpack_value) {
                        big = true;
                    }
                    prop_assert_eq!(z.encoding(), if big { "skiplist" } else { "listpack" });
                    prop_assert_eq!(z.is_empty(), model.map.is_empty());
                    let _ = z.heap_bytes();
                }
                sub.check(&model);
            }
        }

        /// Tiny tree nodes: deep trees, splits, merges, root collapses and rebuilds.
        #[test]
        fn tiny_tree_matches_model(ops in proptest::collection::vec(op(), 1..160)) {
            let mut sub = Subject::Tiny(Box::new(Big::with_capacity(0)));
            let mut model = Model::default();
            for op in &ops {
                apply(&mut sub, &mut model, op);
                sub.check(&model);
            }
        }

        /// ZSCAN returns every member present for the whole iteration, whatever
        /// changes (inserts, removals, score updates, resizes, rebuilds) happen
        /// between pages, and never one twice.
        #[test]
        fn scan_complete_under_changes(initial in 1u32..600, count in 1usize..30,
                                       changes in proptest::collection::vec((0u8..4, 0u32..2000), 0..300),
                                       tiny in any::<bool>()) {
            let limits = EncodingLimits::default();
            let mut sub = if tiny {
                Subject::Tiny(Box::new(Big::with_capacity(0)))
            } else {
                Subject::Handle(ZSet::new(), limits)
            };
            for i in 0..initial {
                sub.ops(|z| z.insert(&many_member(i), f64::from(i % 7)));
            }
            let mut removed = HashSet::new();
            let mut seen = Vec::new();
            let mut cursor = 0;
            let mut changes = changes.into_iter();
            loop {
                cursor = sub.ops(|z| z.scan(cursor, count, &mut |m, _| seen.push(m.to_vec())));
                if cursor == 0 {
                    break;
                }
                for (kind, x) in changes.by_ref().take(3) {
                    let m = many_member(x);
                    match kind {
                        0 => { sub.ops(|z| z.insert(&m, f64::from(x))); }
                        1 => { sub.ops(|z| z.remove(&m)); removed.insert(m); }
                        2 => {
                            // Mass removal: forces index shrinks and rebuilds.
                            let victims = sub.ops(|z| collect(50, |v| z.range_by_rank(0, false, v)));
                            for (m, _) in victims {
                                sub.ops(|z| z.remove(&m));
                                removed.insert(m);
                            }
                        }
                        _ => { sub.ops(|z| z.insert(&m, -f64::from(x))); }
                    }
                }
            }
            let got: HashSet<Vec<u8>> = seen.iter().cloned().collect();
            if let Subject::Handle(z, _) = &sub {
                if z.encoding() == "skiplist" {
                    prop_assert_eq!(got.len(), seen.len(), "no duplicates");
                }
            } else {
                prop_assert_eq!(got.len(), seen.len(), "no duplicates");
            }
            for i in 0..initial {
                let m = many_member(i);
                if !removed.contains(&m) {
                    prop_assert!(got.contains(&m), "member {:?} missed", String::from_utf8_lossy(&m));
                }
            }
        }
    }

    // ------------------------------------------------------------ unit tests

    fn handle<'a>(z: &'a mut ZSet, limits: &'a EncodingLimits) -> ZSetHandle<'a> {
        ZSetHandle { zset: z, limits }
    }

    #[test]
    fn sizes() {
        assert_eq!(std::mem::size_of::<ZSet>(), 16);
        assert_eq!(std::mem::size_of::<Node>(), 32);
        assert_eq!(std::mem::size_of::<Ent>(), 12);
        assert_eq!(std::mem::size_of::<Leaf<LEAF_CAP>>(), 12 + 12 * LEAF_CAP);
        assert_eq!(std::mem::size_of::<SepKey>(), 32);
    }

    #[test]
    fn small_encoding_is_compact() {
        let limits = EncodingLimits::default();
        let mut z = ZSet::new();
        assert_eq!(z.heap_bytes(), 0);
        assert!(z.is_empty());
        let mut h = handle(&mut z, &limits);
        for i in 0..10 {
            h.insert(format!("element:{i}").as_bytes(), f64::from(i));
        }
        // count + 10 * (header + 9 bytes + 1-byte score)
        assert_eq!(z.heap_bytes(), 1 + 10 * 11);
        assert_eq!(z.encoding(), "listpack");
        assert_eq!(z.len(), 10);
    }

    #[test]
    fn scores_round_trip_in_small_encoding() {
        let limits = EncodingLimits::default();
        let mut z = ZSet::new();
        let mut h = handle(&mut z, &limits);
        let scores = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.5,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MAX,
            f64::MIN_POSITIVE,
            (1u64 << 48) as f64,
            (1u64 << 48) as f64 - 1.0,
            -((1u64 << 48) as f64) + 1.0,
            1e20,
            -123456789.0,
        ];
        for (i, s) in scores.iter().enumerate() {
            h.insert(format!("m{i:02}").as_bytes(), *s);
        }
        for (i, s) in scores.iter().enumerate() {
            let want = if *s == 0.0 { 0.0 } else { *s };
            assert_eq!(
                h.score(format!("m{i:02}").as_bytes()).map(f64::to_bits),
                Some(want.to_bits())
            );
        }
    }

    #[test]
    fn negative_zero_equals_zero_as_in_redis() {
        let limits = EncodingLimits::default();
        for big in [false, true] {
            let mut z = ZSet::new();
            let mut h = handle(&mut z, &limits);
            if big {
                h.insert(&[b'z'; 100], 5.0);
            }
            assert_eq!(h.insert(b"b", -0.0), None);
            assert_eq!(h.insert(b"a", 0.0), None);
            assert_eq!(h.insert(b"c", 0.0), None);
            // Equal scores: member order, whatever the sign of zero.
            let order = collect(10, |v| h.range_by_rank(0, false, v));
            assert_eq!(order[0].0, b"a");
            assert_eq!(order[1].0, b"b");
            assert_eq!(order[2].0, b"c");
            // A listpack folds -0 into 0 (as Redis 7.0's); the big encoding keeps it.
            assert_eq!(order[1].1.is_sign_negative(), big);
            // Changing 0 to -0 is no change (Redis compares with !=).
            assert_eq!(
                h.insert(b"a", -0.0).map(f64::to_bits),
                Some(0.0f64.to_bits())
            );
            assert_eq!(h.score(b"a").map(f64::to_bits), Some(0.0f64.to_bits()));
            let r = ScoreRange {
                min: ScoreBound {
                    value: 0.0,
                    exclusive: false,
                },
                max: ScoreBound {
                    value: -0.0,
                    exclusive: false,
                },
            };
            assert_eq!(h.count_by_score(&r), 3);
            assert_eq!(z.encoding(), if big { "skiplist" } else { "listpack" });
        }
    }

    #[test]
    fn converts_on_entries_and_value_limits() {
        let limits = EncodingLimits::default();
        let mut z = ZSet::new();
        let mut h = handle(&mut z, &limits);
        for i in 0..128 {
            h.insert(format!("m{i}").as_bytes(), f64::from(i));
        }
        assert_eq!(z.encoding(), "listpack");
        let mut h = handle(&mut z, &limits);
        // Updating an existing member never converts.
        h.insert(b"m5", 1000.0);
        assert_eq!(z.encoding(), "listpack");
        let mut h = handle(&mut z, &limits);
        h.insert(b"m128", 128.0);
        assert_eq!(z.encoding(), "skiplist");
        assert_eq!(z.len(), 129);
        // Never back.
        let mut h = handle(&mut z, &limits);
        for i in 0..129 {
            h.remove(format!("m{i}").as_bytes());
        }
        h.insert(b"x", 1.0);
        assert_eq!(z.encoding(), "skiplist");

        let mut z = ZSet::new();
        let mut h = handle(&mut z, &limits);
        h.insert(&[b'v'; 64], 1.0);
        assert_eq!(z.encoding(), "listpack");
        let mut h = handle(&mut z, &limits);
        h.insert(&[b'v'; 65], 1.0);
        assert_eq!(z.encoding(), "skiplist");
        assert_eq!(z.len(), 2);

        let zero = EncodingLimits {
            zset_max_listpack_entries: 0,
            ..limits
        };
        let mut z = ZSet::new();
        handle(&mut z, &zero).insert(b"a", 1.0);
        assert_eq!(z.encoding(), "skiplist");
    }

    #[test]
    fn big_set_operations_and_memory() {
        let limits = EncodingLimits::default();
        let mut z = ZSet::new();
        let mut h = handle(&mut z, &limits);
        let n = 100_000u32;
        // Pseudo-random insertion order, score 0 as redis-benchmark's ZADD.
        let mut x = 1u32;
        for _ in 0..n {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            h.insert(format!("element:{:06}", x % 1_000_000).as_bytes(), 0.0);
        }
        let len = h.len();
        assert!(len > 90_000);
        let per = z.heap_bytes() as f64 / len as f64;
        eprintln!(
            "big set: {len} members, {} heap bytes, {per:.1} B/member",
            z.heap_bytes()
        );
        assert!(per < 90.0, "{per} bytes per member");
        if let Repr::Big(b) = &z.repr {
            b.check();
        }
        let mut h = handle(&mut z, &limits);
        // Ranks agree with a walk.
        let all = collect(usize::MAX, |v| h.range_by_rank(0, false, v));
        assert_eq!(all.len(), len);
        for (i, (m, _)) in all.iter().enumerate().step_by(997) {
            assert_eq!(h.rank(m, false), Some(i));
            assert_eq!(h.rank(m, true), Some(len - 1 - i));
        }
        // ZPOPMIN everything.
        for (i, (m, _)) in all.iter().enumerate() {
            let first = collect(1, |v| h.range_by_rank(0, false, v));
            assert_eq!(&first[0].0, m);
            assert!(h.remove(m));
            if i % 9_973 == 0 {
                if let Repr::Big(b) = &h.zset.repr {
                    b.check();
                }
            }
        }
        assert_eq!(h.len(), 0);
        assert!(
            z.heap_bytes() < 100_000,
            "shrinks after removals: {}",
            z.heap_bytes()
        );
    }

    #[test]
    fn ordered_inserts_fill_leaves() {
        let mut b: Big<LEAF_CAP, INNER_CAP> = Big::with_capacity(0);
        for i in 0..10_000u32 {
            b.insert(format!("k{i}").as_bytes(), f64::from(i));
        }
        b.check();
        let leaves = b.tree.leaves.len() - b.tree.free_leaves.len();
        assert!(leaves <= 10_000 / LEAF_CAP + 2, "{leaves} leaves");
        // And descending.
        let mut b: Big<LEAF_CAP, INNER_CAP> = Big::with_capacity(0);
        for i in (0..10_000u32).rev() {
            b.insert(format!("k{i}").as_bytes(), f64::from(i));
        }
        b.check();
        let leaves = b.tree.leaves.len() - b.tree.free_leaves.len();
        assert!(leaves <= 10_000 / LEAF_CAP + 2, "{leaves} leaves");
    }

    #[test]
    fn score_updates_in_place_and_moving() {
        let mut b: Big<4, 4> = Big::with_capacity(0);
        for i in 0..200u32 {
            b.insert(format!("k{i:03}").as_bytes(), f64::from(i));
        }
        for i in 0..200u32 {
            // Small nudge: stays in place; big jump: moves.
            let m = format!("k{i:03}");
            assert_eq!(
                b.insert(m.as_bytes(), f64::from(i) + 0.25),
                Some(f64::from(i))
            );
            b.check();
            b.insert(m.as_bytes(), -f64::from(i));
            b.check();
        }
        assert_eq!(b.rank(b"k199"), Some(0));
        assert_eq!(b.rank(b"k000"), Some(199));
    }

    #[test]
    fn small_scores_take_the_narrowest_exact_form() {
        // Header, one member byte, then the score.
        assert_eq!(super::entry_len(b"m", 3.0), 3);
        assert_eq!(super::entry_len(b"m", 1.5), 6);
        assert_eq!(super::entry_len(b"m", f64::INFINITY), 6);
        assert_eq!(super::entry_len(b"m", 0.1), 10);
        for score in [1.5, -2.25, 0.1, f64::NEG_INFINITY, 1e300, 3.0, -7.0] {
            let mut buf = Vec::new();
            super::encode_entry(&mut buf, b"m", score);
            let mut it = super::SmallIter {
                buf: &buf,
                off: 0,
                left: 1,
            };
            assert_eq!(it.next().map(|e| e.score), Some(score));
        }
    }

    #[test]
    fn varints() {
        for v in [0u64, 1, 127, 128, 16383, 16384, u64::MAX >> 1, u64::MAX] {
            let mut out = Vec::new();
            put_varint(&mut out, v);
            assert_eq!(out.len(), varint_len(v));
            let mut off = 0;
            assert_eq!(get_varint(&out, &mut off), v);
            assert_eq!(off, out.len());
        }
        for i in [0i64, 1, -1, i64::MAX, i64::MIN, 1 << 47, -(1 << 47)] {
            assert_eq!(unzigzag(zigzag(i)), i);
        }
    }

    #[test]
    fn hash_index_scan_pages_cover_everything_once() {
        let mut b: Big<LEAF_CAP, INNER_CAP> = Big::with_capacity(0);
        for i in 0..5000u32 {
            b.insert(format!("k{i}").as_bytes(), 0.0);
        }
        for count in [1usize, 10, 100, 10_000] {
            let mut seen = Vec::new();
            let mut cursor = 0;
            let mut pages = 0;
            loop {
                cursor = b.scan(cursor, count, &mut |m, _| seen.push(m.to_vec()));
                pages += 1;
                if cursor == 0 {
                    break;
                }
            }
            let uniq: HashSet<_> = seen.iter().cloned().collect();
            assert_eq!(uniq.len(), 5000);
            assert_eq!(seen.len(), 5000);
            if count == 10 {
                // About COUNT per page.
                assert!(pages > 200 && pages < 2000, "{pages} pages");
            }
        }
        // A cursor from nowhere ends the iteration instead of failing.
        assert_eq!(b.scan(u64::MAX, 10, &mut |_, _| {}), 0);
    }
}
