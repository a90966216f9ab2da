//! Plain std-collection values for [`super::SimpleBackend`]: the reference model
//! of what each collection operation means, written for clarity, not speed (sorted
//! set ranges sort on every call; scans return everything in one page).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use bytes::Bytes;

use crate::storage::*;

/// A value of any type.
#[derive(Clone, Debug)]
pub enum Data {
    /// A string.
    Str(Vec<u8>),
    /// A list.
    List(VecDeque<Bytes>),
    /// A hash: field -> (value, expiry).
    Hash(BTreeMap<Bytes, (Bytes, Option<UnixMillis>)>),
    /// A set.
    Set(BTreeSet<Bytes>),
    /// A sorted set: member -> score.
    ZSet(BTreeMap<Bytes, f64>),
    /// A stream (the packed in-memory stream of `util::stream`).
    Stream(Box<crate::util::stream::MemStream>),
}

impl Data {
    /// The Redis type.
    pub fn key_type(&self) -> KeyType {
        match self {
            Data::Str(_) => KeyType::String,
            Data::List(_) => KeyType::List,
            Data::Hash(_) => KeyType::Hash,
            Data::Set(_) => KeyType::Set,
            Data::ZSet(_) => KeyType::ZSet,
            Data::Stream(_) => KeyType::Stream,
        }
    }

    /// Whether a collection has no elements left (strings never count as empty).
    pub fn is_empty_collection(&self) -> bool {
        match self {
            Data::Str(_) => false,
            Data::List(l) => l.is_empty(),
            Data::Hash(h) => h.is_empty(),
            Data::Set(s) => s.is_empty(),
            Data::ZSet(z) => z.is_empty(),
            // Streams stay when empty.
            Data::Stream(_) => false,
        }
    }

    /// Approximate payload bytes.
    pub fn bytes(&self) -> usize {
        match self {
            Data::Str(s) => s.len(),
            Data::List(l) => l.iter().map(|v| v.len()).sum(),
            Data::Hash(h) => h.iter().map(|(f, (v, _))| f.len() + v.len()).sum(),
            Data::Set(s) => s.iter().map(|m| m.len()).sum(),
            Data::ZSet(z) => z.keys().map(|m| m.len() + 8).sum(),
            Data::Stream(s) => s.heap_bytes(),
        }
    }

    /// Redis' encoding name (the simple backend has only the "big" encodings).
    pub fn encoding(&self) -> &'static str {
        match self {
            Data::Str(_) => "raw",
            Data::List(_) => "quicklist",
            Data::Hash(_) | Data::Set(_) => "hashtable",
            Data::ZSet(_) => "skiplist",
            Data::Stream(_) => "stream",
        }
    }
}

fn at(l: &VecDeque<Bytes>, end: End) -> Option<usize> {
    match end {
        _ if l.is_empty() => None,
        End::Head => Some(0),
        End::Tail => Some(l.len() - 1),
    }
}

impl ListOps for VecDeque<Bytes> {
    fn len(&mut self) -> usize {
        VecDeque::len(self)
    }
    fn push(&mut self, end: End, value: &[u8]) {
        let v = Bytes::copy_from_slice(value);
        match end {
            End::Head => self.push_front(v),
            End::Tail => self.push_back(v),
        }
    }
    fn pop(&mut self, end: End) -> Option<Bytes> {
        at(self, end).and_then(|i| self.remove(i))
    }
    fn get(&mut self, index: usize) -> Option<Bytes> {
        VecDeque::get(self, index).cloned()
    }
    fn set(&mut self, index: usize, value: &[u8]) -> bool {
        match self.get_mut(index) {
            Some(slot) => {
                *slot = Bytes::copy_from_slice(value);
                true
            }
            None => false,
        }
    }
    fn iter(&mut self, start: usize, rev: bool, visit: &mut dyn FnMut(usize, &[u8]) -> bool) {
        if rev {
            for i in (0..=start.min(VecDeque::len(self).saturating_sub(1))).rev() {
                if VecDeque::is_empty(self) || !visit(i, &self[i]) {
                    return;
                }
            }
        } else {
            for (i, v) in VecDeque::iter(self).enumerate().skip(start) {
                if !visit(i, v) {
                    return;
                }
            }
        }
    }
    fn insert(&mut self, index: usize, value: &[u8]) {
        VecDeque::insert(self, index, Bytes::copy_from_slice(value));
    }
    fn remove(&mut self, indexes: &[usize]) {
        for &i in indexes.iter().rev() {
            VecDeque::remove(self, i);
        }
    }
    fn trim(&mut self, start: usize, end: usize) {
        let end = end.min(VecDeque::len(self));
        self.truncate(end);
        self.drain(..start.min(end));
    }
}

/// A hash seen at a point in time, so that expired fields are hidden.
pub struct HashView<'a> {
    /// The fields.
    pub map: &'a mut BTreeMap<Bytes, (Bytes, Option<UnixMillis>)>,
    /// The command's clock.
    pub now: UnixMillis,
}

impl HashView<'_> {
    fn live(&mut self, field: &[u8]) -> Option<&mut (Bytes, Option<UnixMillis>)> {
        let now = self.now;
        if matches!(self.map.get(field), Some((_, Some(t))) if *t <= now) {
            self.map.remove(field);
        }
        self.map.get_mut(field)
    }
    fn purge(&mut self) {
        let now = self.now;
        self.map.retain(|_, (_, t)| t.is_none_or(|t| t > now));
    }
}

impl HashOps for HashView<'_> {
    fn len(&mut self) -> usize {
        self.map.len()
    }
    fn get(&mut self, field: &[u8]) -> Option<Bytes> {
        self.live(field).map(|(v, _)| v.clone())
    }
    fn set(&mut self, field: &[u8], value: &[u8]) -> bool {
        let new = self.live(field).is_none();
        self.map.insert(
            Bytes::copy_from_slice(field),
            (Bytes::copy_from_slice(value), None),
        );
        new
    }
    fn remove(&mut self, field: &[u8]) -> bool {
        let existed = self.live(field).is_some();
        self.map.remove(field);
        existed
    }
    fn for_each(&mut self, visit: &mut dyn FnMut(&[u8], &[u8]) -> bool) {
        self.purge();
        for (f, (v, _)) in self.map.iter() {
            if !visit(f, v) {
                return;
            }
        }
    }
    fn random(&mut self, seed: u64) -> Option<(Bytes, Bytes)> {
        self.purge();
        let n = self.map.len();
        (n > 0).then(|| {
            let (f, (v, _)) = self.map.iter().nth(seed as usize % n).unwrap();
            (f.clone(), v.clone())
        })
    }
    fn scan(&mut self, _cursor: u64, _count: usize, visit: &mut dyn FnMut(&[u8], &[u8])) -> u64 {
        self.for_each(&mut |f, v| {
            visit(f, v);
            true
        });
        0
    }
    fn field_expire(&mut self, field: &[u8]) -> Option<Option<UnixMillis>> {
        self.live(field).map(|(_, t)| *t)
    }
    fn set_field_expire(&mut self, field: &[u8], at: Option<UnixMillis>) -> bool {
        self.live(field).map(|(_, t)| *t = at).is_some()
    }
}

impl SetOps for BTreeSet<Bytes> {
    fn len(&mut self) -> usize {
        BTreeSet::len(self)
    }
    fn contains(&mut self, member: &[u8]) -> bool {
        BTreeSet::contains(self, member)
    }
    fn insert(&mut self, member: &[u8]) -> bool {
        BTreeSet::insert(self, Bytes::copy_from_slice(member))
    }
    fn remove(&mut self, member: &[u8]) -> bool {
        BTreeSet::remove(self, member)
    }
    fn for_each(&mut self, visit: &mut dyn FnMut(&[u8]) -> bool) {
        for m in self.iter() {
            if !visit(m) {
                return;
            }
        }
    }
    fn random(&mut self, seed: u64) -> Option<Bytes> {
        let n = BTreeSet::len(self);
        (n > 0).then(|| self.iter().nth(seed as usize % n).unwrap().clone())
    }
    fn scan(&mut self, _cursor: u64, _count: usize, visit: &mut dyn FnMut(&[u8])) -> u64 {
        for m in self.iter() {
            visit(m);
        }
        0
    }
}

/// Members in (score, member) order.
fn ordered(z: &BTreeMap<Bytes, f64>) -> Vec<(Bytes, f64)> {
    let mut v: Vec<(Bytes, f64)> = z.iter().map(|(m, s)| (m.clone(), *s)).collect();
    // Scores are never NaN; -0.0 equals 0.0, as Redis compares them.
    v.sort_by(|a, b| {
        a.1.partial_cmp(&b.1)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| a.0.cmp(&b.0))
    });
    v
}

fn visit_in(
    items: Vec<(Bytes, f64)>,
    rev: bool,
    keep: impl Fn(&(Bytes, f64)) -> bool,
    visit: &mut dyn FnMut(&[u8], f64) -> bool,
) {
    let mut items: Vec<(Bytes, f64)> = items.into_iter().filter(|i| keep(i)).collect();
    if rev {
        items.reverse();
    }
    for (m, s) in items {
        if !visit(&m, s) {
            return;
        }
    }
}

impl ZSetOps for BTreeMap<Bytes, f64> {
    fn len(&mut self) -> usize {
        BTreeMap::len(self)
    }
    fn score(&mut self, member: &[u8]) -> Option<f64> {
        self.get(member).copied()
    }
    fn insert(&mut self, member: &[u8], score: f64) -> Option<f64> {
        BTreeMap::insert(self, Bytes::copy_from_slice(member), score)
    }
    fn remove(&mut self, member: &[u8]) -> bool {
        BTreeMap::remove(self, member).is_some()
    }
    fn rank(&mut self, member: &[u8], rev: bool) -> Option<usize> {
        let items = ordered(self);
        let i = items.iter().position(|(m, _)| &m[..] == member)?;
        Some(if rev { items.len() - 1 - i } else { i })
    }
    fn range_by_rank(
        &mut self,
        start: usize,
        rev: bool,
        visit: &mut dyn FnMut(&[u8], f64) -> bool,
    ) {
        let mut items = ordered(self);
        if rev {
            items.reverse();
        }
        for (m, s) in items.into_iter().skip(start) {
            if !visit(&m, s) {
                return;
            }
        }
    }
    fn range_by_score(
        &mut self,
        range: &ScoreRange,
        rev: bool,
        visit: &mut dyn FnMut(&[u8], f64) -> bool,
    ) {
        visit_in(ordered(self), rev, |(_, s)| range.contains(*s), visit);
    }
    fn range_by_lex(
        &mut self,
        range: &LexRange,
        rev: bool,
        visit: &mut dyn FnMut(&[u8], f64) -> bool,
    ) {
        visit_in(ordered(self), rev, |(m, _)| range.contains(m), visit);
    }
    fn count_by_score(&mut self, range: &ScoreRange) -> usize {
        self.values().filter(|s| range.contains(**s)).count()
    }
    fn count_by_lex(&mut self, range: &LexRange) -> usize {
        ordered(self)
            .iter()
            .filter(|(m, _)| range.contains(m))
            .count()
    }
    fn scan(&mut self, _cursor: u64, _count: usize, visit: &mut dyn FnMut(&[u8], f64)) -> u64 {
        for (m, s) in ordered(self) {
            visit(&m, s);
        }
        0
    }
}
