//! List values: a packed sequence (with backward lengths, so both ends are O(1))
//! while the list fits one node of `list-max-listpack-size`, then a `VecDeque` of
//! compact byte strings (24 bytes per element, short elements inline), never
//! converted back. Redis 7.0 reports every list as `quicklist`, whatever its size, so
//! both encodings report that name.

use std::collections::VecDeque;

use bytes::Bytes;
use ferrokv_core::storage::{EncodingLimits, End, ListOps};

use crate::packed::Packed;
use crate::value::SmallBytes;

/// Packed elements, walkable from both ends.
pub type PackedList = Packed<0, true>;

/// Size of a quicklist node for `list-max-listpack-size` -1..-5.
const NODE_BYTES: [usize; 5] = [4096, 8192, 16384, 32768, 65536];
/// Redis' `SIZE_SAFETY_LIMIT`: a node never exceeds this under a count limit.
const SIZE_SAFETY_LIMIT: usize = 8192;

/// Whether a packed list of `bytes` bytes and `count` elements fits the limit.
fn fits(limits: &EncodingLimits, bytes: usize, count: usize) -> bool {
    let fill = limits.list_max_listpack_size;
    if fill >= 0 {
        count <= usize::try_from(fill).unwrap_or(usize::MAX) && bytes <= SIZE_SAFETY_LIMIT
    } else {
        let i = usize::try_from(-(fill + 1)).unwrap_or(usize::MAX).min(4);
        bytes <= NODE_BYTES[i]
    }
}

/// The full encoding.
#[derive(Clone, Debug, Default)]
pub struct Deque {
    items: VecDeque<SmallBytes>,
    /// Heap bytes owned by the elements.
    heap: usize,
}

impl Deque {
    fn from_packed(p: &PackedList) -> Deque {
        let mut d = Deque {
            items: VecDeque::with_capacity(p.len() + 1),
            heap: 0,
        };
        for s in p.iter() {
            d.push_back(SmallBytes::from_slice(p.data(s)));
        }
        d
    }

    fn push_back(&mut self, v: SmallBytes) {
        self.heap += v.heap_bytes();
        self.items.push_back(v);
    }

    fn push_front(&mut self, v: SmallBytes) {
        self.heap += v.heap_bytes();
        self.items.push_front(v);
    }

    fn taken(&mut self, v: SmallBytes) -> Bytes {
        self.heap -= v.heap_bytes();
        self.maybe_shrink();
        Bytes::copy_from_slice(v.as_slice())
    }

    fn maybe_shrink(&mut self) {
        let cap = self.items.capacity();
        if cap > 64 && self.items.len() * 4 < cap {
            self.items.shrink_to(self.items.len() * 2);
        }
    }

    fn heap_bytes(&self) -> usize {
        std::mem::size_of::<Deque>()
            + self.items.capacity() * std::mem::size_of::<SmallBytes>()
            + self.heap
    }
}

/// A list value.
#[derive(Clone, Debug)]
pub enum List {
    /// Small: packed elements.
    Packed(PackedList),
    /// Large.
    Deque(Box<Deque>),
}

impl Default for List {
    fn default() -> Self {
        List::Packed(PackedList::new())
    }
}

impl List {
    /// Number of elements.
    #[inline]
    pub fn len(&self) -> usize {
        match self {
            List::Packed(p) => p.len(),
            List::Deque(d) => d.items.len(),
        }
    }

    /// Whether the list has no elements.
    #[inline]
    pub fn is_empty(&self) -> bool {
        match self {
            List::Packed(p) => p.is_empty(),
            List::Deque(d) => d.items.is_empty(),
        }
    }

    /// Heap bytes, in O(1).
    #[inline]
    pub fn heap_bytes(&self) -> usize {
        match self {
            List::Packed(p) => p.bytes(),
            List::Deque(d) => d.heap_bytes(),
        }
    }

    /// Redis 7.0's encoding name: always `quicklist`.
    pub fn encoding(&self) -> &'static str {
        "quicklist"
    }

    /// Whether the list is in the compact encoding.
    #[cfg(test)]
    pub fn is_packed(&self) -> bool {
        matches!(self, List::Packed(_))
    }

    fn deque(&mut self) -> &mut Deque {
        if let List::Packed(p) = self {
            *self = List::Deque(Box::new(Deque::from_packed(p)));
        }
        match self {
            List::Deque(d) => d,
            List::Packed(_) => unreachable!("converted just above"),
        }
    }
}

/// A list opened by a command.
pub struct ListHandle<'a> {
    /// The value.
    pub list: &'a mut List,
    /// Encoding thresholds.
    pub limits: &'a EncodingLimits,
}

impl ListHandle<'_> {
    /// The packed list if it can take `add` more bytes and `count` more elements.
    fn packed_with_room(&mut self, add: usize, count: usize) -> Option<&mut PackedList> {
        match self.list {
            List::Packed(p) if fits(self.limits, p.bytes() + add, p.len() + count) => Some(p),
            _ => None,
        }
    }
}

impl ListOps for ListHandle<'_> {
    fn len(&mut self) -> usize {
        self.list.len()
    }

    fn push(&mut self, end: End, value: &[u8]) {
        let add = PackedList::encoded_len(value.len());
        if let Some(p) = self.packed_with_room(add, 1) {
            match end {
                End::Head => p.push_front(&[value], 1),
                End::Tail => p.push_back(&[value], 1),
            }
            return;
        }
        let d = self.list.deque();
        let v = SmallBytes::from_slice(value);
        match end {
            End::Head => d.push_front(v),
            End::Tail => d.push_back(v),
        }
    }

    fn pop(&mut self, end: End) -> Option<Bytes> {
        match self.list {
            List::Packed(p) => {
                if p.is_empty() {
                    return None;
                }
                let s = match end {
                    End::Head => p.span_at(p.first()),
                    End::Tail => p.span_before(p.end()),
                };
                let out = Bytes::copy_from_slice(p.data(s));
                p.splice(s.start, s.end, &[], -1);
                Some(out)
            }
            List::Deque(d) => {
                let v = match end {
                    End::Head => d.items.pop_front(),
                    End::Tail => d.items.pop_back(),
                }?;
                Some(d.taken(v))
            }
        }
    }

    fn get(&mut self, index: usize) -> Option<Bytes> {
        match self.list {
            List::Packed(p) => {
                (index < p.len()).then(|| Bytes::copy_from_slice(p.data(p.span_of(index))))
            }
            List::Deque(d) => d
                .items
                .get(index)
                .map(|v| Bytes::copy_from_slice(v.as_slice())),
        }
    }

    fn set(&mut self, index: usize, value: &[u8]) -> bool {
        if index >= self.list.len() {
            return false;
        }
        if let List::Packed(p) = self.list {
            let s = p.span_of(index);
            let new_bytes = p.bytes() + PackedList::encoded_len(value.len()) - (s.end - s.start);
            if fits(self.limits, new_bytes, p.len()) {
                p.splice(s.start, s.end, &[value], 0);
                return true;
            }
        }
        let d = self.list.deque();
        let v = SmallBytes::from_slice(value);
        d.heap += v.heap_bytes();
        if let Some(slot) = d.items.get_mut(index) {
            let old = std::mem::replace(slot, v);
            d.heap -= old.heap_bytes();
        }
        true
    }

    fn iter(&mut self, start: usize, rev: bool, visit: &mut dyn FnMut(usize, &[u8]) -> bool) {
        let n = self.list.len();
        if start >= n && !(rev && n > 0) {
            return;
        }
        match self.list {
            List::Packed(p) => {
                if rev {
                    let top = start.min(n - 1);
                    let mut s = p.span_of(top);
                    for i in (0..=top).rev() {
                        if !visit(i, p.data(s)) || i == 0 {
                            return;
                        }
                        s = p.span_before(s.start);
                    }
                } else {
                    let mut pos = p.span_of(start).start;
                    for i in start..n {
                        let s = p.span_at(pos);
                        if !visit(i, p.data(s)) {
                            return;
                        }
                        pos = s.end;
                    }
                }
            }
            List::Deque(d) => {
                if rev {
                    let top = start.min(n - 1);
                    for (i, v) in d.items.range(..=top).enumerate().rev() {
                        if !visit(i, v.as_slice()) {
                            return;
                        }
                    }
                } else {
                    for (i, v) in d.items.range(start..).enumerate() {
                        if !visit(start + i, v.as_slice()) {
                            return;
                        }
                    }
                }
            }
        }
    }

    fn insert(&mut self, index: usize, value: &[u8]) {
        let index = index.min(self.list.len());
        let add = PackedList::encoded_len(value.len());
        if let Some(p) = self.packed_with_room(add, 1) {
            let at = p.offset_of(index);
            p.splice(at, at, &[value], 1);
            return;
        }
        let d = self.list.deque();
        let v = SmallBytes::from_slice(value);
        d.heap += v.heap_bytes();
        d.items.insert(index, v);
    }

    fn remove(&mut self, indexes: &[usize]) {
        match self.list {
            List::Packed(p) => {
                if let [i] = indexes {
                    if *i < p.len() {
                        let s = p.span_of(*i);
                        p.splice(s.start, s.end, &[], -1);
                    }
                    return;
                }
                let mut next = indexes.iter().peekable();
                p.retain_indexed(1, |i| {
                    while next.next_if(|&&j| j < i).is_some() {}
                    next.next_if(|&&j| j == i).is_none()
                });
            }
            List::Deque(d) => {
                if let [i] = indexes {
                    if let Some(v) = d.items.remove(*i) {
                        d.taken(v);
                    }
                    return;
                }
                let mut next = indexes.iter().peekable();
                let mut i = 0;
                let mut freed = 0;
                d.items.retain(|v| {
                    while next.next_if(|&&j| j < i).is_some() {}
                    let drop = next.next_if(|&&j| j == i).is_some();
                    i += 1;
                    if drop {
                        freed += v.heap_bytes();
                    }
                    !drop
                });
                d.heap -= freed;
                d.maybe_shrink();
            }
        }
    }

    fn trim(&mut self, start: usize, end: usize) {
        let n = self.list.len();
        let end = end.min(n);
        let start = start.min(end);
        if start == 0 && end == n {
            return;
        }
        match self.list {
            List::Packed(p) => {
                let hi = p.offset_of(end);
                let tail = p.end();
                p.splice(hi, tail, &[], -((n - end) as isize));
                // Offsets are taken after the first splice: the count's varint may
                // have shrunk.
                let lo = p.offset_of(start);
                p.splice(p.first(), lo, &[], -(start as isize));
            }
            List::Deque(d) => {
                let mut freed = 0;
                for v in d.items.drain(end..) {
                    freed += v.heap_bytes();
                }
                for v in d.items.drain(..start) {
                    freed += v.heap_bytes();
                }
                d.heap -= freed;
                d.maybe_shrink();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contents(l: &mut List, limits: &EncodingLimits) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        ListHandle { list: l, limits }.iter(0, false, &mut |_, v| {
            out.push(v.to_vec());
            true
        });
        out
    }

    #[test]
    fn size_limits() {
        let at = |fill| EncodingLimits {
            list_max_listpack_size: fill,
            ..EncodingLimits::default()
        };
        assert!(fits(&at(-2), 8192, 100_000));
        assert!(!fits(&at(-2), 8193, 1));
        assert!(fits(&at(-1), 4096, 1));
        assert!(!fits(&at(-1), 4097, 1));
        assert!(fits(&at(-5), 65536, 1));
        assert!(fits(&at(-9), 65536, 1), "below -5 counts as -5");
        assert!(fits(&at(3), 100, 3));
        assert!(!fits(&at(3), 100, 4));
        assert!(
            !fits(&at(1000), 8193, 10),
            "count limits keep the safety size"
        );
        assert!(!fits(&at(0), 2, 1));
    }

    #[test]
    fn converts_by_count_and_by_size() {
        let limits = EncodingLimits {
            list_max_listpack_size: 4,
            ..EncodingLimits::default()
        };
        let mut l = List::default();
        for i in 0..4u8 {
            ListHandle {
                list: &mut l,
                limits: &limits,
            }
            .push(End::Tail, &[b'a' + i]);
        }
        assert!(l.is_packed());
        ListHandle {
            list: &mut l,
            limits: &limits,
        }
        .push(End::Head, b"z");
        assert!(!l.is_packed());
        assert_eq!(
            contents(&mut l, &limits),
            [&b"z"[..], b"a", b"b", b"c", b"d"]
        );
        assert_eq!(l.encoding(), "quicklist");
        let limits = EncodingLimits::default();
        let mut l = List::default();
        ListHandle {
            list: &mut l,
            limits: &limits,
        }
        .push(End::Tail, &[b'x'; 8000]);
        assert!(l.is_packed());
        ListHandle {
            list: &mut l,
            limits: &limits,
        }
        .push(End::Tail, &[b'y'; 200]);
        assert!(!l.is_packed(), "past 8 KB");
        // A set that would overflow the node converts too.
        let mut l = List::default();
        ListHandle {
            list: &mut l,
            limits: &limits,
        }
        .push(End::Tail, b"small");
        assert!(ListHandle {
            list: &mut l,
            limits: &limits
        }
        .set(0, &[b'q'; 9000]));
        assert!(!l.is_packed());
        assert_eq!(contents(&mut l, &limits), [vec![b'q'; 9000]]);
    }

    /// Every operation on both encodings against a VecDeque model.
    #[test]
    fn encodings_match_a_model() {
        let packed = EncodingLimits {
            list_max_listpack_size: -5,
            ..EncodingLimits::default()
        };
        let full = EncodingLimits {
            list_max_listpack_size: 0,
            ..EncodingLimits::default()
        };
        for limits in [packed, full] {
            let mut l = List::default();
            let mut m: VecDeque<Vec<u8>> = VecDeque::new();
            let mut seed = 12345u64;
            for step in 0..3000 {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let r = (seed >> 33) as usize;
                let v: Vec<u8> = format!("v{step}-{}", "x".repeat(r % 40)).into_bytes();
                let mut h = ListHandle {
                    list: &mut l,
                    limits: &limits,
                };
                match r % 9 {
                    0 | 1 => {
                        h.push(End::Tail, &v);
                        m.push_back(v);
                    }
                    2 => {
                        h.push(End::Head, &v);
                        m.push_front(v);
                    }
                    3 => assert_eq!(h.pop(End::Head).map(|b| b.to_vec()), m.pop_front()),
                    4 => assert_eq!(h.pop(End::Tail).map(|b| b.to_vec()), m.pop_back()),
                    5 if !m.is_empty() => {
                        let i = r % m.len();
                        assert!(h.set(i, &v));
                        m[i] = v;
                    }
                    6 => {
                        let i = r % (m.len() + 1);
                        h.insert(i, &v);
                        m.insert(i, v);
                    }
                    7 if m.len() > 3 => {
                        let idx: Vec<usize> =
                            (0..m.len()).filter(|i| (i + r).is_multiple_of(3)).collect();
                        h.remove(&idx);
                        for &i in idx.iter().rev() {
                            m.remove(i);
                        }
                    }
                    8 if m.len() > 50 => {
                        let (a, b) = (r % 5, m.len() - r % 7);
                        h.trim(a, b);
                        m.truncate(b);
                        m.drain(..a);
                    }
                    _ => {}
                }
                assert_eq!(h.len(), m.len());
                if step % 97 == 0 {
                    for (i, want) in m.iter().enumerate() {
                        assert_eq!(h.get(i).as_deref(), Some(&want[..]));
                    }
                    assert_eq!(h.get(m.len()), None);
                    let mut back = Vec::new();
                    h.iter(m.len() + 3, true, &mut |i, v| {
                        back.push((i, v.to_vec()));
                        true
                    });
                    let want: Vec<(usize, Vec<u8>)> = m.iter().cloned().enumerate().rev().collect();
                    assert_eq!(back, want);
                }
            }
            assert_eq!(contents(&mut l, &limits), Vec::from(m));
        }
    }

    #[test]
    fn heap_accounting_follows_changes() {
        let limits = EncodingLimits {
            list_max_listpack_size: 0,
            ..EncodingLimits::default()
        };
        let mut l = List::default();
        let long = [b'L'; 100];
        for _ in 0..10 {
            ListHandle {
                list: &mut l,
                limits: &limits,
            }
            .push(End::Tail, &long);
        }
        let List::Deque(d) = &l else {
            panic!("deque expected")
        };
        assert_eq!(d.heap, 1000);
        let mut h = ListHandle {
            list: &mut l,
            limits: &limits,
        };
        h.pop(End::Head);
        h.set(0, b"short");
        h.remove(&[1, 2]);
        h.trim(1, 4);
        let List::Deque(d) = &l else {
            panic!("deque expected")
        };
        let want: usize = d.items.iter().map(|v| v.heap_bytes()).sum();
        assert_eq!(d.heap, want);
    }
}
