//! Set values. Small sets are one exactly sized buffer whose first byte says how
//! the rest is laid out: an intset (sorted integers of the narrowest width that holds
//! them all, any of 1..=8 bytes where Redis' intset has 2, 4 or 8, so ten members
//! below 2^23 take 31 bytes instead of 48) while every member is an integer and
//! there are at most `set-max-intset-entries`, otherwise a packed sequence while
//! there are at most [`PACKED_MAX_ENTRIES`] members of at most [`PACKED_MAX_VALUE`]
//! bytes. Past that, a [`Dense`] table. Sets never convert back.
//!
//! Redis 7.0 has no packed encoding for sets: a set that is not an intset is a
//! `hashtable` from its first non-integer member. Packed sets report that name; they
//! differ only in returning everything from the first `SSCAN` call (as Redis does for
//! its compact encodings).

use bytes::Bytes;
use ferrokv_core::storage::{EncodingLimits, SetOps};
use ferrokv_core::util::number::parse_i64;

use crate::dense::{scan_page, Dense};
use crate::packed::{self, Packed};
use crate::value::SmallBytes;

/// Most members of a packed (non-integer) small set (Redis 7.2's default
/// `set-max-listpack-entries`).
pub const PACKED_MAX_ENTRIES: usize = 128;
/// Longest member of a packed small set (Redis 7.2's `set-max-listpack-value`).
pub const PACKED_MAX_VALUE: usize = 64;

/// First byte of a small set holding packed strings (the others are the intset
/// widths 1..=8).
const KIND_PACKED: u8 = 0;

/// Packed members after the kind byte.
type PackedSet = Packed<1, false>;

/// Formats an integer in decimal (at most 20 bytes) into `buf`.
fn fmt_i64(v: i64, buf: &mut [u8; 20]) -> &[u8] {
    let mut n = v.unsigned_abs();
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if v < 0 {
        i -= 1;
        buf[i] = b'-';
    }
    &buf[i..]
}

/// Narrowest intset width, in bytes, holding `v` (two's complement).
fn width_for(v: i64) -> u8 {
    // Bits needed beyond the sign: the value's bits after dropping redundant sign bits.
    let significant = 64 - (v ^ (v >> 63)).leading_zeros() + 1;
    significant.div_ceil(8) as u8
}

/// A small set: an intset or packed members, by its first byte.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmallSet(Box<[u8]>);

impl Default for SmallSet {
    fn default() -> Self {
        // An empty intset of the narrowest width.
        SmallSet(Box::new([1]))
    }
}

impl SmallSet {
    #[inline]
    fn width(&self) -> usize {
        usize::from(self.0[0])
    }

    #[inline]
    fn is_intset(&self) -> bool {
        self.0[0] != KIND_PACKED
    }

    /// Runs `f` on the packed form (the set must not be an intset).
    #[inline]
    fn packed<R>(&mut self, f: impl FnOnce(&mut PackedSet) -> R) -> R {
        let mut p = Packed(std::mem::take(&mut self.0));
        let r = f(&mut p);
        self.0 = p.0;
        r
    }

    fn len(&self) -> usize {
        if self.is_intset() {
            (self.0.len() - 1) / self.width()
        } else {
            packed::count(&self.0, 1)
        }
    }

    fn is_empty(&self) -> bool {
        if self.is_intset() {
            self.0.len() == 1
        } else {
            self.0[1] == 0
        }
    }

    /// Integer `i` of the intset.
    #[inline]
    fn int_at(&self, i: usize) -> i64 {
        let w = self.width();
        let b = &self.0[1 + i * w..1 + (i + 1) * w];
        let mut le = if b[w - 1] & 0x80 != 0 {
            [0xff; 8]
        } else {
            [0; 8]
        };
        le[..w].copy_from_slice(b);
        i64::from_le_bytes(le)
    }

    /// Position of `v` in the intset, or where it would go.
    fn int_search(&self, v: i64) -> Result<usize, usize> {
        let (mut lo, mut hi) = (0, (self.0.len() - 1) / self.width());
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.int_at(mid).cmp(&v) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Ok(mid),
            }
        }
        Err(lo)
    }

    /// The integers, in order.
    fn ints(&self) -> impl Iterator<Item = i64> + '_ {
        (0..(self.0.len() - 1) / self.width()).map(|i| self.int_at(i))
    }

    /// Rebuilds the intset at width `w` from `values` (sorted).
    fn build_ints(w: u8, values: impl Iterator<Item = i64>, n: usize) -> SmallSet {
        let w_us = usize::from(w);
        let mut v = Vec::with_capacity(1 + n * w_us);
        v.push(w);
        for x in values {
            v.extend_from_slice(&x.to_le_bytes()[..w_us]);
        }
        SmallSet(v.into_boxed_slice())
    }

    /// Inserts `x` at sorted position `at` of the intset, widening it if needed.
    fn int_insert(&mut self, at: usize, x: i64) {
        let n = (self.0.len() - 1) / self.width();
        let w = width_for(x).max(self.0[0]);
        let before = (0..at).map(|i| self.int_at(i));
        let after = (at..n).map(|i| self.int_at(i));
        let all = before.chain(std::iter::once(x)).chain(after);
        *self = SmallSet::build_ints(w, all, n + 1);
    }

    /// Removes integer `at` of the intset (the width stays, as in Redis).
    fn int_remove(&mut self, at: usize) {
        let w = self.width();
        let mut v = Vec::with_capacity(self.0.len() - w);
        v.extend_from_slice(&self.0[..1 + at * w]);
        v.extend_from_slice(&self.0[1 + (at + 1) * w..]);
        self.0 = v.into_boxed_slice();
    }

    /// The members as a packed set (from an intset).
    fn to_packed(&self) -> SmallSet {
        let mut p = PackedSet::new();
        let mut buf = [0u8; 20];
        let mut items: Vec<u8> = Vec::new();
        let mut bounds = Vec::new();
        for x in self.ints() {
            let s = fmt_i64(x, &mut buf);
            items.extend_from_slice(s);
            bounds.push(items.len());
        }
        let mut refs: Vec<&[u8]> = Vec::with_capacity(bounds.len());
        let mut start = 0;
        for &end in &bounds {
            refs.push(&items[start..end]);
            start = end;
        }
        p.push_back(&refs, refs.len() as isize);
        p.0[0] = KIND_PACKED;
        SmallSet(p.0)
    }

    /// Visits every member until `visit` returns false.
    fn for_each(&mut self, visit: &mut dyn FnMut(&[u8]) -> bool) {
        if self.is_intset() {
            let mut buf = [0u8; 20];
            for x in self.ints() {
                if !visit(fmt_i64(x, &mut buf)) {
                    return;
                }
            }
        } else {
            self.packed(|p| {
                for s in p.iter() {
                    if !visit(p.data(s)) {
                        return;
                    }
                }
            })
        }
    }
}

/// A set value.
#[derive(Clone, Debug)]
pub enum Set {
    /// Intset or packed members.
    Small(SmallSet),
    /// Large.
    Table(Box<Dense<SmallBytes>>),
}

impl Default for Set {
    fn default() -> Self {
        Set::Small(SmallSet::default())
    }
}

impl Set {
    /// Number of members.
    #[inline]
    pub fn len(&self) -> usize {
        match self {
            Set::Small(s) => s.len(),
            Set::Table(t) => t.len(),
        }
    }

    /// Whether the set has no members.
    #[inline]
    pub fn is_empty(&self) -> bool {
        match self {
            Set::Small(s) => s.is_empty(),
            Set::Table(t) => t.len() == 0,
        }
    }

    /// Heap bytes, in O(1).
    #[inline]
    pub fn heap_bytes(&self) -> usize {
        match self {
            Set::Small(s) => s.0.len(),
            Set::Table(t) => std::mem::size_of::<Dense<SmallBytes>>() + t.heap_bytes(),
        }
    }

    /// Redis 7.0's encoding name.
    pub fn encoding(&self) -> &'static str {
        match self {
            Set::Small(s) if s.is_intset() => "intset",
            _ => "hashtable",
        }
    }

    /// Converts to the table encoding.
    fn table(&mut self) -> &mut Dense<SmallBytes> {
        if let Set::Small(s) = self {
            let n = s.len();
            let mut d = Dense::with_capacity(n + 1);
            s.for_each(&mut |m| {
                d.push_new(SmallBytes::from_slice(m));
                true
            });
            *self = Set::Table(Box::new(d));
        }
        match self {
            Set::Table(t) => t,
            Set::Small(_) => unreachable!("converted just above"),
        }
    }
}

/// A set opened by a command.
pub struct SetHandle<'a> {
    /// The value.
    pub set: &'a mut Set,
    /// Encoding thresholds.
    pub limits: &'a EncodingLimits,
}

impl SetOps for SetHandle<'_> {
    fn len(&mut self) -> usize {
        self.set.len()
    }

    fn contains(&mut self, member: &[u8]) -> bool {
        match self.set {
            Set::Small(s) if s.is_intset() => {
                parse_i64(member).is_some_and(|x| s.int_search(x).is_ok())
            }
            Set::Small(s) => s.packed(|p| p.iter().any(|sp| p.data(sp) == member)),
            Set::Table(t) => t.find(member).is_some(),
        }
    }

    fn insert(&mut self, member: &[u8]) -> bool {
        if let Set::Small(s) = self.set {
            let n = s.len();
            let packable = n < PACKED_MAX_ENTRIES && member.len() <= PACKED_MAX_VALUE;
            if s.is_intset() {
                if let Some(x) = parse_i64(member) {
                    let Err(at) = s.int_search(x) else {
                        return false;
                    };
                    if n < self.limits.set_max_intset_entries {
                        s.int_insert(at, x);
                        return true;
                    }
                }
                // Not a member (a non-integer never is): the set leaves the intset.
                if packable {
                    *s = s.to_packed();
                    s.packed(|p| p.push_back(&[member], 1));
                    return true;
                }
            } else {
                if s.packed(|p| p.iter().any(|sp| p.data(sp) == member)) {
                    return false;
                }
                if packable {
                    s.packed(|p| p.push_back(&[member], 1));
                    return true;
                }
            }
        }
        let t = self.set.table();
        if t.find(member).is_some() {
            return false;
        }
        t.push_new(SmallBytes::from_slice(member));
        true
    }

    fn remove(&mut self, member: &[u8]) -> bool {
        match self.set {
            Set::Small(s) if s.is_intset() => {
                let Some(at) = parse_i64(member).and_then(|x| s.int_search(x).ok()) else {
                    return false;
                };
                s.int_remove(at);
                true
            }
            Set::Small(s) => s.packed(|p| {
                let Some(sp) = p.iter().find(|sp| p.data(*sp) == member) else {
                    return false;
                };
                p.splice(sp.start, sp.end, &[], -1);
                true
            }),
            Set::Table(t) => match t.find(member) {
                Some(pos) => {
                    t.swap_remove(pos);
                    true
                }
                None => false,
            },
        }
    }

    fn for_each(&mut self, visit: &mut dyn FnMut(&[u8]) -> bool) {
        match self.set {
            Set::Small(s) => s.for_each(visit),
            Set::Table(t) => {
                for m in t.entries() {
                    if !visit(m.as_slice()) {
                        return;
                    }
                }
            }
        }
    }

    fn random(&mut self, seed: u64) -> Option<Bytes> {
        let n = self.set.len();
        if n == 0 {
            return None;
        }
        let i = (seed % n as u64) as usize;
        match self.set {
            Set::Small(s) if s.is_intset() => {
                let mut buf = [0u8; 20];
                Some(Bytes::copy_from_slice(fmt_i64(s.int_at(i), &mut buf)))
            }
            Set::Small(s) => s.packed(|p| Some(Bytes::copy_from_slice(p.data(p.span_of(i))))),
            Set::Table(t) => Some(Bytes::copy_from_slice(t.get(i).as_slice())),
        }
    }

    fn scan(&mut self, cursor: u64, count: usize, visit: &mut dyn FnMut(&[u8])) -> u64 {
        match self.set {
            Set::Small(s) => {
                s.for_each(&mut |m| {
                    visit(m);
                    true
                });
                0
            }
            Set::Table(t) => {
                let (range, next) = scan_page(t.len(), cursor, count);
                for pos in range.rev() {
                    visit(t.get(pos).as_slice());
                }
                next
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members(s: &mut Set, limits: &EncodingLimits) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        SetHandle { set: s, limits }.for_each(&mut |m| {
            out.push(m.to_vec());
            true
        });
        out
    }

    fn add(s: &mut Set, limits: &EncodingLimits, m: &str) -> bool {
        SetHandle { set: s, limits }.insert(m.as_bytes())
    }

    #[test]
    fn intset_widths_and_order() {
        let limits = EncodingLimits::default();
        let mut s = Set::default();
        for m in ["5", "-3", "100", "5"] {
            add(&mut s, &limits, m);
        }
        let Set::Small(ss) = &s else { panic!() };
        assert_eq!(ss.width(), 1);
        assert_eq!(s.heap_bytes(), 1 + 3, "exactly sized");
        add(&mut s, &limits, "70000");
        let Set::Small(ss) = &s else { panic!() };
        assert_eq!(ss.width(), 3);
        add(&mut s, &limits, "-9223372036854775808");
        add(&mut s, &limits, "9223372036854775807");
        let Set::Small(ss) = &s else { panic!() };
        assert_eq!(ss.width(), 8);
        assert_eq!(s.encoding(), "intset");
        assert_eq!(
            members(&mut s, &limits),
            [
                "-9223372036854775808",
                "-3",
                "5",
                "100",
                "70000",
                "9223372036854775807"
            ]
            .map(|m| m.as_bytes().to_vec())
        );
        let mut h = SetHandle {
            set: &mut s,
            limits: &limits,
        };
        assert!(h.contains(b"70000"));
        assert!(!h.contains(b"070000"), "not the canonical form");
        assert!(!h.contains(b"abc"));
        assert!(h.remove(b"70000"));
        assert!(!h.remove(b"70000"));
        assert_eq!(h.len(), 5);
        let Set::Small(ss) = &s else { panic!() };
        assert_eq!(ss.width(), 8, "intsets never narrow");
    }

    #[test]
    fn non_canonical_integers_are_strings() {
        let limits = EncodingLimits::default();
        for m in ["007", "-0", "+1", " 1", "1.0", "9223372036854775808"] {
            let mut s = Set::default();
            add(&mut s, &limits, m);
            assert_eq!(s.encoding(), "hashtable", "{m}");
            assert_eq!(members(&mut s, &limits), [m.as_bytes().to_vec()]);
        }
    }

    #[test]
    fn conversions() {
        let limits = EncodingLimits {
            set_max_intset_entries: 4,
            ..EncodingLimits::default()
        };
        let mut s = Set::default();
        for i in 0..4 {
            add(&mut s, &limits, &i.to_string());
        }
        assert_eq!(s.encoding(), "intset");
        add(&mut s, &limits, "4");
        assert_eq!(s.encoding(), "hashtable", "past set-max-intset-entries");
        assert!(matches!(s, Set::Small(_)), "packed internally");
        assert_eq!(members(&mut s, &limits).len(), 5);
        // A string member converts an intset.
        let mut s = Set::default();
        add(&mut s, &limits, "1");
        add(&mut s, &limits, "a");
        assert_eq!(s.encoding(), "hashtable");
        assert!(SetHandle {
            set: &mut s,
            limits: &limits
        }
        .contains(b"1"));
        // Past the packed limits: the table.
        let mut s = Set::default();
        for i in 0..PACKED_MAX_ENTRIES {
            add(&mut s, &limits, &format!("m{i}"));
        }
        assert!(matches!(s, Set::Small(_)));
        add(&mut s, &limits, "one more");
        assert!(matches!(s, Set::Table(_)));
        assert_eq!(
            SetHandle {
                set: &mut s,
                limits: &limits
            }
            .len(),
            PACKED_MAX_ENTRIES + 1
        );
        let mut s = Set::default();
        add(&mut s, &limits, &"x".repeat(PACKED_MAX_VALUE + 1));
        assert!(matches!(s, Set::Table(_)), "long member");
        // A large intset receiving a string goes straight to the table.
        let limits = EncodingLimits::default();
        let mut s = Set::default();
        for i in 0..300 {
            add(&mut s, &limits, &i.to_string());
        }
        assert_eq!(s.encoding(), "intset");
        add(&mut s, &limits, "str");
        assert!(matches!(s, Set::Table(_)));
        assert_eq!(members(&mut s, &limits).len(), 301);
    }

    #[test]
    fn all_encodings_agree() {
        let intset = EncodingLimits::default();
        let table = EncodingLimits {
            set_max_intset_entries: 0,
            ..EncodingLimits::default()
        };
        let mut a = Set::default();
        let mut b = Set::default();
        let mut c = Set::default();
        let mut c_added = false;
        for i in 0..400i64 {
            let m = ((i * 7919) % 263 - 100).to_string();
            let r = add(&mut a, &intset, &m);
            assert_eq!(r, add(&mut b, &table, &m));
            if i < 100 {
                c_added |= add(&mut c, &table, &format!("s{}", i % 50));
            }
            if i % 3 == 0 {
                let g = ((i * 31) % 263 - 100).to_string();
                let r1 = SetHandle {
                    set: &mut a,
                    limits: &intset,
                }
                .remove(g.as_bytes());
                let r2 = SetHandle {
                    set: &mut b,
                    limits: &table,
                }
                .remove(g.as_bytes());
                assert_eq!(r1, r2);
            }
        }
        assert!(c_added);
        assert_eq!(a.encoding(), "intset");
        assert!(matches!(b, Set::Table(_)));
        let mut ma = members(&mut a, &intset);
        let mut mb = members(&mut b, &table);
        ma.sort();
        mb.sort();
        assert_eq!(ma, mb);
        assert_eq!(members(&mut c, &table).len(), 50);
        // Random picks cover the set.
        let n = a.len();
        let mut seen = std::collections::HashSet::new();
        for seed in 0..n as u64 {
            seen.insert(
                SetHandle {
                    set: &mut a,
                    limits: &intset,
                }
                .random(seed)
                .unwrap(),
            );
        }
        assert_eq!(seen.len(), n);
    }

    #[test]
    fn widths() {
        let cases: [(i64, u8); 14] = [
            (0, 1),
            (-1, 1),
            (127, 1),
            (-128, 1),
            (128, 2),
            (-129, 2),
            (32767, 2),
            (32768, 3),
            (8_388_607, 3),
            (-8_388_608, 3),
            (8_388_608, 4),
            (i64::from(i32::MAX) + 1, 5),
            (i64::MAX, 8),
            (i64::MIN, 8),
        ];
        for (v, w) in cases {
            assert_eq!(width_for(v), w, "{v}");
            let s = SmallSet::build_ints(w, std::iter::once(v), 1);
            assert_eq!(s.int_at(0), v, "round trip of {v} at width {w}");
        }
        // Ten members below 2^23 fit a 32-byte allocation.
        let limits = EncodingLimits::default();
        let mut s = Set::default();
        for i in 0..10 {
            add(&mut s, &limits, &(1_000_000 + i).to_string());
        }
        assert_eq!(s.heap_bytes(), 31);
    }

    #[test]
    fn formats_integers() {
        let mut buf = [0u8; 20];
        for v in [0i64, 7, -7, 1234567, i64::MIN, i64::MAX] {
            assert_eq!(fmt_i64(v, &mut buf), v.to_string().as_bytes());
        }
    }
}
