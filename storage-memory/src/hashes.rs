//! Hash values: a packed field/value sequence while small (Redis' `listpack`
//! encoding), a [`Dense`] table past `hash-max-listpack-entries` fields or
//! `hash-max-listpack-value` bytes (`hashtable`), never converted back.
//!
//! Field expiry (Redis 7.4's `HEXPIRE`) lives only in the table encoding: setting an
//! expiry converts a packed hash. A table with volatile fields keeps their expiry
//! times in a side array (so hashes without volatile fields pay one null pointer),
//! which active expiry walks round robin.

use bytes::Bytes;
use ferrokv_core::storage::{EncodingLimits, HashOps, UnixMillis};
use hashbrown::HashTable as RawIndex;

use crate::dense::{scan_page, Dense, Pair};
use crate::packed::{Packed, Span};
use crate::value::SmallBytes;

/// Packed fields and values, alternating; the count is of pairs.
pub type PackedHash = Packed<0, false>;

/// A hash value.
#[derive(Clone, Debug)]
pub enum Hash {
    /// Small: packed pairs.
    Packed(PackedHash),
    /// Large, or with volatile fields.
    Table(Box<HashTable>),
}

impl Default for Hash {
    fn default() -> Self {
        Hash::Packed(PackedHash::new())
    }
}

/// A field is expired once the clock reaches its expiry time.
#[inline]
fn field_expired(at: UnixMillis, now: UnixMillis) -> bool {
    at <= now
}

#[inline]
fn pos_hash(pos: u32) -> u64 {
    u64::from(pos).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// Expiry times of a table's volatile fields.
#[derive(Clone, Debug, Default)]
struct FieldTtl {
    /// (entry position, expiry time), in no order.
    list: Vec<(u32, UnixMillis)>,
    /// Index into `list` by entry position.
    by_pos: RawIndex<u32>,
    /// Where active expiry continues in `list`.
    cursor: usize,
}

impl FieldTtl {
    fn slot(&self, pos: usize) -> Option<usize> {
        let list = &self.list;
        self.by_pos
            .find(pos_hash(pos as u32), |&i| {
                list[i as usize].0 as usize == pos
            })
            .map(|&i| i as usize)
    }

    fn get(&self, pos: usize) -> Option<UnixMillis> {
        self.slot(pos).map(|i| self.list[i].1)
    }

    fn set(&mut self, pos: usize, at: UnixMillis) {
        match self.slot(pos) {
            Some(i) => self.list[i].1 = at,
            None => {
                let i = self.list.len() as u32;
                self.list.push((pos as u32, at));
                let list = &self.list;
                self.by_pos
                    .insert_unique(pos_hash(pos as u32), i, |&j| pos_hash(list[j as usize].0));
            }
        }
    }

    /// Drops the expiry of entry `pos`, if any.
    fn forget(&mut self, pos: usize) {
        let list = &self.list;
        let Ok(found) = self.by_pos.find_entry(pos_hash(pos as u32), |&i| {
            list[i as usize].0 as usize == pos
        }) else {
            return;
        };
        let (i, _) = found.remove();
        let i = i as usize;
        let last = self.list.len() - 1;
        self.list.swap_remove(i);
        if i != last {
            let moved = self.list[i].0;
            if let Some(s) = self
                .by_pos
                .find_mut(pos_hash(moved), |&s| s as usize == last)
            {
                *s = i as u32;
            }
        }
    }

    /// Entry `from` moved to position `to`.
    fn moved(&mut self, from: usize, to: usize) {
        let list = &self.list;
        let Ok(found) = self.by_pos.find_entry(pos_hash(from as u32), |&i| {
            list[i as usize].0 as usize == from
        }) else {
            return;
        };
        let (i, _) = found.remove();
        self.list[i as usize].0 = to as u32;
        let list = &self.list;
        self.by_pos
            .insert_unique(pos_hash(to as u32), i, |&j| pos_hash(list[j as usize].0));
    }

    fn heap_bytes(&self) -> usize {
        std::mem::size_of::<FieldTtl>()
            + self.list.capacity() * std::mem::size_of::<(u32, UnixMillis)>()
            + self.by_pos.allocation_size()
    }
}

/// The full encoding: dense pairs, with the expiries of volatile fields.
#[derive(Clone, Debug, Default)]
pub struct HashTable {
    dense: Dense<Pair>,
    ttl: Option<Box<FieldTtl>>,
}

impl HashTable {
    fn from_packed(p: &PackedHash) -> HashTable {
        let mut dense = Dense::with_capacity(p.len());
        let mut it = p.iter();
        while let (Some(f), Some(v)) = (it.next(), it.next()) {
            dense.push_new(Pair {
                field: SmallBytes::from_slice(p.data(f)),
                value: SmallBytes::from_slice(p.data(v)),
            });
        }
        HashTable { dense, ttl: None }
    }

    fn len(&self) -> usize {
        self.dense.len()
    }

    fn expire_of(&self, pos: usize) -> Option<UnixMillis> {
        self.ttl.as_ref().and_then(|t| t.get(pos))
    }

    fn set_expire(&mut self, pos: usize, at: Option<UnixMillis>) {
        match at {
            Some(at) => self.ttl.get_or_insert_with(Box::default).set(pos, at),
            None => {
                if let Some(t) = self.ttl.as_mut() {
                    t.forget(pos);
                    if t.list.is_empty() {
                        self.ttl = None;
                    }
                }
            }
        }
    }

    fn remove_at(&mut self, pos: usize) {
        let last = self.dense.len() - 1;
        if let Some(t) = self.ttl.as_mut() {
            t.forget(pos);
            if pos != last {
                t.moved(last, pos);
            }
            if t.list.is_empty() {
                self.ttl = None;
            }
        }
        self.dense.swap_remove(pos);
    }

    /// Position of a live field; an expired one is removed.
    fn live(&mut self, field: &[u8], now: UnixMillis) -> Option<usize> {
        let pos = self.dense.find(field)?;
        if self.expire_of(pos).is_some_and(|at| field_expired(at, now)) {
            self.remove_at(pos);
            return None;
        }
        Some(pos)
    }

    /// Removes every expired field.
    fn purge(&mut self, now: UnixMillis) {
        let mut i = 0;
        while let Some(&(pos, at)) = self.ttl.as_ref().and_then(|t| t.list.get(i)) {
            if field_expired(at, now) {
                // The last expiry moves into slot `i`: look at it next.
                self.remove_at(pos as usize);
            } else {
                i += 1;
            }
        }
    }

    /// Whether some field has an expiry.
    pub fn has_volatile(&self) -> bool {
        self.ttl.is_some()
    }

    /// One step of active expiry: examines up to `budget` volatile fields from where
    /// the last step stopped, removing the expired ones. Returns (examined, removed).
    pub fn expire_step(&mut self, now: UnixMillis, budget: usize) -> (usize, usize) {
        let (mut examined, mut removed) = (0, 0);
        let Some(total) = self.ttl.as_ref().map(|t| t.list.len()) else {
            return (0, 0);
        };
        let mut i = self.ttl.as_ref().map_or(0, |t| t.cursor);
        while examined < budget.min(total) {
            let Some(t) = self.ttl.as_ref() else {
                break;
            };
            if i >= t.list.len() {
                i = 0;
            }
            let Some(&(pos, at)) = t.list.get(i) else {
                break;
            };
            examined += 1;
            if field_expired(at, now) {
                self.remove_at(pos as usize);
                removed += 1;
            } else {
                i += 1;
            }
        }
        if let Some(t) = self.ttl.as_mut() {
            t.cursor = i;
        }
        (examined, removed)
    }

    fn heap_bytes(&self) -> usize {
        std::mem::size_of::<HashTable>()
            + self.dense.heap_bytes()
            + self.ttl.as_ref().map_or(0, |t| t.heap_bytes())
    }
}

impl Hash {
    /// Number of fields (counting expired ones not yet removed).
    #[inline]
    pub fn len(&self) -> usize {
        match self {
            Hash::Packed(p) => p.len(),
            Hash::Table(t) => t.len(),
        }
    }

    /// Whether the hash has no fields.
    #[inline]
    pub fn is_empty(&self) -> bool {
        match self {
            Hash::Packed(p) => p.is_empty(),
            Hash::Table(t) => t.len() == 0,
        }
    }

    /// Heap bytes, in O(1).
    #[inline]
    pub fn heap_bytes(&self) -> usize {
        match self {
            Hash::Packed(p) => p.bytes(),
            Hash::Table(t) => t.heap_bytes(),
        }
    }

    /// Redis' encoding name.
    pub fn encoding(&self) -> &'static str {
        match self {
            Hash::Packed(_) => "listpack",
            Hash::Table(_) => "hashtable",
        }
    }

    /// Whether some field has an expiry (the key belongs in the registry active
    /// expiry samples).
    pub fn has_volatile(&self) -> bool {
        matches!(self, Hash::Table(t) if t.has_volatile())
    }

    /// One step of active field expiry (see [`HashTable::expire_step`]).
    pub fn expire_step(&mut self, now: UnixMillis, budget: usize) -> (usize, usize) {
        match self {
            Hash::Packed(_) => (0, 0),
            Hash::Table(t) => t.expire_step(now, budget),
        }
    }

    /// The table encoding, converting a packed hash.
    fn table(&mut self) -> &mut HashTable {
        if let Hash::Packed(p) = self {
            *self = Hash::Table(Box::new(HashTable::from_packed(p)));
        }
        match self {
            Hash::Table(t) => t,
            Hash::Packed(_) => unreachable!("converted just above"),
        }
    }
}

/// The spans of a packed hash's field and value.
fn find_pair(p: &PackedHash, field: &[u8]) -> Option<(Span, Span)> {
    let mut it = p.iter();
    while let (Some(f), Some(v)) = (it.next(), it.next()) {
        if p.data(f) == field {
            return Some((f, v));
        }
    }
    None
}

/// A hash opened by a command.
pub struct HashHandle<'a> {
    /// The value.
    pub hash: &'a mut Hash,
    /// Encoding thresholds.
    pub limits: &'a EncodingLimits,
    /// The command's clock, for field expiry.
    pub now: UnixMillis,
}

impl HashHandle<'_> {
    fn fits(&self, len: usize) -> bool {
        len <= self.limits.hash_max_listpack_value
    }
}

impl HashOps for HashHandle<'_> {
    fn len(&mut self) -> usize {
        self.hash.len()
    }

    fn get(&mut self, field: &[u8]) -> Option<Bytes> {
        match self.hash {
            Hash::Packed(p) => find_pair(p, field).map(|(_, v)| Bytes::copy_from_slice(p.data(v))),
            Hash::Table(t) => {
                let pos = t.live(field, self.now)?;
                Some(Bytes::copy_from_slice(t.dense.get(pos).value.as_slice()))
            }
        }
    }

    fn set(&mut self, field: &[u8], value: &[u8]) -> bool {
        let fits = self.fits(value.len());
        let fits_new = fits && self.fits(field.len());
        let max = self.limits.hash_max_listpack_entries;
        if let Hash::Packed(p) = self.hash {
            match find_pair(p, field) {
                Some((_, v)) if fits => {
                    p.splice(v.start, v.end, &[value], 0);
                    return false;
                }
                None if fits_new && p.len() < max => {
                    p.push_back(&[field, value], 1);
                    return true;
                }
                _ => {}
            }
        }
        let now = self.now;
        let t = self.hash.table();
        match t.live(field, now) {
            Some(pos) => {
                t.dense
                    .update(pos, |e| e.value = SmallBytes::from_slice(value));
                t.set_expire(pos, None);
                false
            }
            None => {
                t.dense.push_new(Pair {
                    field: SmallBytes::from_slice(field),
                    value: SmallBytes::from_slice(value),
                });
                true
            }
        }
    }

    fn remove(&mut self, field: &[u8]) -> bool {
        match self.hash {
            Hash::Packed(p) => match find_pair(p, field) {
                Some((f, v)) => {
                    p.splice(f.start, v.end, &[], -1);
                    true
                }
                None => false,
            },
            Hash::Table(t) => match t.live(field, self.now) {
                Some(pos) => {
                    t.remove_at(pos);
                    true
                }
                None => false,
            },
        }
    }

    fn for_each(&mut self, visit: &mut dyn FnMut(&[u8], &[u8]) -> bool) {
        match self.hash {
            Hash::Packed(p) => {
                let mut it = p.iter();
                while let (Some(f), Some(v)) = (it.next(), it.next()) {
                    if !visit(p.data(f), p.data(v)) {
                        return;
                    }
                }
            }
            Hash::Table(t) => {
                t.purge(self.now);
                for e in t.dense.entries() {
                    if !visit(e.field.as_slice(), e.value.as_slice()) {
                        return;
                    }
                }
            }
        }
    }

    fn random(&mut self, seed: u64) -> Option<(Bytes, Bytes)> {
        let copy = |f: &[u8], v: &[u8]| (Bytes::copy_from_slice(f), Bytes::copy_from_slice(v));
        match self.hash {
            Hash::Packed(p) => {
                let n = p.len();
                if n == 0 {
                    return None;
                }
                let i = (seed % n as u64) as usize;
                let f = p.span_of(2 * i);
                let v = p.span_at(f.end);
                Some(copy(p.data(f), p.data(v)))
            }
            Hash::Table(t) => {
                t.purge(self.now);
                let n = t.len();
                if n == 0 {
                    return None;
                }
                let e = t.dense.get((seed % n as u64) as usize);
                Some(copy(e.field.as_slice(), e.value.as_slice()))
            }
        }
    }

    fn scan(&mut self, cursor: u64, count: usize, visit: &mut dyn FnMut(&[u8], &[u8])) -> u64 {
        match self.hash {
            Hash::Packed(_) => {
                self.for_each(&mut |f, v| {
                    visit(f, v);
                    true
                });
                0
            }
            Hash::Table(t) => {
                t.purge(self.now);
                let (range, next) = scan_page(t.len(), cursor, count);
                for pos in range.rev() {
                    let e = t.dense.get(pos);
                    visit(e.field.as_slice(), e.value.as_slice());
                }
                next
            }
        }
    }

    fn field_expire(&mut self, field: &[u8]) -> Option<Option<UnixMillis>> {
        match self.hash {
            Hash::Packed(p) => find_pair(p, field).map(|_| None),
            Hash::Table(t) => {
                let pos = t.live(field, self.now)?;
                Some(t.expire_of(pos))
            }
        }
    }

    fn set_field_expire(&mut self, field: &[u8], at: Option<UnixMillis>) -> bool {
        let now = self.now;
        match (&mut *self.hash, at) {
            (Hash::Packed(p), None) => find_pair(p, field).is_some(),
            (Hash::Packed(p), Some(_)) if find_pair(p, field).is_none() => false,
            _ => {
                let t = self.hash.table();
                match t.live(field, now) {
                    Some(pos) => {
                        t.set_expire(pos, at);
                        true
                    }
                    None => false,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handle<'a>(h: &'a mut Hash, limits: &'a EncodingLimits, now: u64) -> HashHandle<'a> {
        HashHandle {
            hash: h,
            limits,
            now,
        }
    }

    fn fields(h: &mut Hash, limits: &EncodingLimits) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut out = Vec::new();
        handle(h, limits, 0).for_each(&mut |f, v| {
            out.push((f.to_vec(), v.to_vec()));
            true
        });
        out.sort();
        out
    }

    #[test]
    fn converts_past_entry_limit() {
        let limits = EncodingLimits {
            hash_max_listpack_entries: 4,
            ..EncodingLimits::default()
        };
        let mut h = Hash::default();
        for i in 0..4 {
            assert!(handle(&mut h, &limits, 0).set(format!("f{i}").as_bytes(), b"v"));
            assert_eq!(h.encoding(), "listpack");
        }
        assert!(!handle(&mut h, &limits, 0).set(b"f0", b"v2"));
        assert_eq!(h.encoding(), "listpack", "an update adds no entry");
        assert!(handle(&mut h, &limits, 0).set(b"f4", b"v"));
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.len(), 5);
        for i in 0..5 {
            assert!(handle(&mut h, &limits, 0).remove(format!("f{i}").as_bytes()));
        }
        assert_eq!(h.encoding(), "hashtable", "never converted back");
        assert!(h.is_empty());
    }

    #[test]
    fn converts_past_value_limit() {
        let limits = EncodingLimits {
            hash_max_listpack_value: 8,
            ..EncodingLimits::default()
        };
        let mut h = Hash::default();
        handle(&mut h, &limits, 0).set(b"f", &[b'x'; 8]);
        assert_eq!(h.encoding(), "listpack");
        handle(&mut h, &limits, 0).set(b"f", &[b'x'; 9]);
        assert_eq!(h.encoding(), "hashtable", "long value on update");
        let mut h = Hash::default();
        handle(&mut h, &limits, 0).set(&[b'k'; 9], b"v");
        assert_eq!(h.encoding(), "hashtable", "long field");
        assert_eq!(
            handle(&mut h, &limits, 0).get(&[b'k'; 9]).as_deref(),
            Some(&b"v"[..])
        );
    }

    #[test]
    fn packed_and_table_agree() {
        let big = EncodingLimits {
            hash_max_listpack_entries: 0,
            ..EncodingLimits::default()
        };
        let small = EncodingLimits::default();
        let mut a = Hash::default();
        let mut b = Hash::default();
        for i in 0..200u32 {
            let f = format!("field:{}", i % 37);
            let v = format!("value:{i}");
            let r1 = handle(&mut a, &small, 0).set(f.as_bytes(), v.as_bytes());
            let r2 = handle(&mut b, &big, 0).set(f.as_bytes(), v.as_bytes());
            assert_eq!(r1, r2);
            if i % 5 == 0 {
                let g = format!("field:{}", (i * 7) % 37);
                let r1 = handle(&mut a, &small, 0).remove(g.as_bytes());
                let r2 = handle(&mut b, &big, 0).remove(g.as_bytes());
                assert_eq!(r1, r2);
            }
        }
        assert_eq!(a.encoding(), "listpack");
        assert_eq!(b.encoding(), "hashtable");
        assert_eq!(fields(&mut a, &small), fields(&mut b, &big));
        assert_eq!(a.len(), b.len());
    }

    #[test]
    fn field_expiry_is_lazy_and_converts() {
        let limits = EncodingLimits::default();
        let mut h = Hash::default();
        for f in [&b"a"[..], b"b", b"c"] {
            handle(&mut h, &limits, 0).set(f, b"v");
        }
        assert!(!handle(&mut h, &limits, 0).set_field_expire(b"zz", Some(5)));
        assert!(handle(&mut h, &limits, 0).set_field_expire(b"a", None));
        assert_eq!(h.encoding(), "listpack", "persisting changes nothing");
        assert!(handle(&mut h, &limits, 0).set_field_expire(b"a", Some(100)));
        assert!(handle(&mut h, &limits, 0).set_field_expire(b"b", Some(200)));
        assert_eq!(h.encoding(), "hashtable");
        assert!(h.has_volatile());
        assert_eq!(
            handle(&mut h, &limits, 50).field_expire(b"a"),
            Some(Some(100))
        );
        assert_eq!(handle(&mut h, &limits, 50).field_expire(b"c"), Some(None));
        assert_eq!(
            handle(&mut h, &limits, 100).get(b"a"),
            None,
            "expired at its time"
        );
        assert_eq!(h.len(), 2, "removed when met");
        // An overwrite clears the expiry.
        handle(&mut h, &limits, 150).set(b"b", b"w");
        assert_eq!(handle(&mut h, &limits, 150).field_expire(b"b"), Some(None));
        assert!(!h.has_volatile());
        handle(&mut h, &limits, 150).set_field_expire(b"c", Some(160));
        assert_eq!(fields(&mut h, &limits).len(), 2);
        let mut n = 0;
        handle(&mut h, &limits, 170).for_each(&mut |_, _| {
            n += 1;
            true
        });
        assert_eq!(n, 1, "expired field hidden from iteration");
        assert_eq!(h.len(), 1);
    }

    #[test]
    fn active_step_removes_expired_fields_round_robin() {
        let limits = EncodingLimits::default();
        let mut h = Hash::default();
        for i in 0..100u64 {
            let f = format!("f{i}");
            handle(&mut h, &limits, 0).set(f.as_bytes(), b"v");
            handle(&mut h, &limits, 0)
                .set_field_expire(f.as_bytes(), Some(if i % 2 == 0 { 10 } else { 1000 }));
        }
        let Hash::Table(t) = &mut h else {
            panic!("table expected");
        };
        let mut removed = 0;
        for _ in 0..20 {
            let (examined, r) = t.expire_step(500, 10);
            assert!(examined <= 10);
            removed += r;
        }
        assert_eq!(removed, 50);
        assert_eq!(t.len(), 50);
        let (_, r) = t.expire_step(2000, 1000);
        assert_eq!(r, 50);
        assert!(!t.has_volatile());
    }

    #[test]
    fn table_positions_and_expiries_stay_linked() {
        let limits = EncodingLimits {
            hash_max_listpack_entries: 0,
            ..EncodingLimits::default()
        };
        let mut h = Hash::default();
        for i in 0..300u64 {
            let f = format!("f{i}");
            handle(&mut h, &limits, 0).set(f.as_bytes(), f.as_bytes());
            if i % 3 != 0 {
                handle(&mut h, &limits, 0).set_field_expire(f.as_bytes(), Some(1000 + i));
            }
        }
        for i in (0..300u64).step_by(4) {
            handle(&mut h, &limits, 0).remove(format!("f{i}").as_bytes());
        }
        for i in 0..300u64 {
            let f = format!("f{i}");
            let want = if i % 4 == 0 {
                None
            } else if i % 3 != 0 {
                Some(Some(1000 + i))
            } else {
                Some(None)
            };
            assert_eq!(
                handle(&mut h, &limits, 0).field_expire(f.as_bytes()),
                want,
                "{f}"
            );
        }
    }
}
