//! Listpack-like packed buffers: the compact encoding of small hashes, lists and
//! sets. One exactly sized allocation holds a varint element count followed by the
//! elements, each a varint length and its bytes (and, for lists, the length again
//! written backwards so the tail can be read without walking from the head).
//!
//! Compared with Redis' listpack this spends one byte less per short element (no
//! per-entry encoding byte) and no terminator; like a listpack, every change rewrites
//! the buffer in place (one `realloc` and one `memmove`), which is what keeps small
//! collections at a few bytes of overhead per element.

/// Bytes of `n` as an LEB128 varint.
#[inline]
pub fn varint_len(n: usize) -> usize {
    let bits = usize::BITS - (n | 1).leading_zeros();
    bits.div_ceil(7) as usize
}

/// Writes `n` as an LEB128 varint at the start of `out` (which has room for it).
#[inline]
fn write_varint(out: &mut [u8], mut n: usize) {
    let mut i = 0;
    while n >= 0x80 {
        out[i] = (n as u8) | 0x80;
        n >>= 7;
        i += 1;
    }
    out[i] = n as u8;
}

/// Writes `n` as an LEB128 varint with its bytes in reverse order, ending just before
/// `end`, so that it can be read backwards from `end`.
#[inline]
fn write_back_varint(out: &mut [u8], end: usize, mut n: usize) {
    let mut i = end;
    while n >= 0x80 {
        i -= 1;
        out[i] = (n as u8) | 0x80;
        n >>= 7;
    }
    out[i - 1] = n as u8;
}

/// Reads a varint at `pos`; returns it and the position after it.
#[inline]
fn read_varint(buf: &[u8], mut pos: usize) -> (usize, usize) {
    let mut n = 0usize;
    let mut shift = 0;
    loop {
        let b = buf[pos];
        pos += 1;
        n |= usize::from(b & 0x7f) << shift;
        if b < 0x80 {
            return (n, pos);
        }
        shift += 7;
    }
}

/// Reads a backwards varint ending just before `end`; returns it and its first byte.
#[inline]
fn read_back_varint(buf: &[u8], mut end: usize) -> (usize, usize) {
    let mut n = 0usize;
    let mut shift = 0;
    loop {
        end -= 1;
        let b = buf[end];
        n |= usize::from(b & 0x7f) << shift;
        if b < 0x80 {
            return (n, end);
        }
        shift += 7;
    }
}

/// The element count of a packed buffer whose prefix is `base` bytes.
#[inline]
pub fn count(buf: &[u8], base: usize) -> usize {
    read_varint(buf, base).0
}

/// A packed sequence of byte strings. `BASE` bytes of prefix (owned by the caller,
/// never touched here) come before the count; `BACK` adds a backward length to every
/// element so the sequence can be walked from the tail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packed<const BASE: usize, const BACK: bool>(pub Box<[u8]>);

/// Where an element lies in the buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    /// Offset of the element's first (length) byte.
    pub start: usize,
    /// Offset of its bytes.
    pub data: usize,
    /// Number of its bytes.
    pub len: usize,
    /// Offset just past the element (past its backward length, if any).
    pub end: usize,
}

impl<const BASE: usize, const BACK: bool> Default for Packed<BASE, BACK> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const BASE: usize, const BACK: bool> Packed<BASE, BACK> {
    /// An empty sequence (prefix bytes zero).
    pub fn new() -> Self {
        Packed(vec![0u8; BASE + 1].into_boxed_slice())
    }

    /// Bytes an element of `len` bytes takes.
    #[inline]
    pub fn encoded_len(len: usize) -> usize {
        let l = varint_len(len);
        if BACK {
            2 * l + len
        } else {
            l + len
        }
    }

    /// Number of elements.
    #[inline]
    pub fn len(&self) -> usize {
        read_varint(&self.0, BASE).0
    }

    /// Whether there are no elements.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.0[BASE] == 0
    }

    /// Size of the allocation.
    #[inline]
    pub fn bytes(&self) -> usize {
        self.0.len()
    }

    /// Offset of the first element.
    #[inline]
    pub fn first(&self) -> usize {
        read_varint(&self.0, BASE).1
    }

    /// Offset just past the last element.
    #[inline]
    pub fn end(&self) -> usize {
        self.0.len()
    }

    /// The element starting at `start` (which must be an element boundary < end).
    #[inline]
    pub fn span_at(&self, start: usize) -> Span {
        let (len, data) = read_varint(&self.0, start);
        let end = data + len + if BACK { data - start } else { 0 };
        Span {
            start,
            data,
            len,
            end,
        }
    }

    /// The element ending at `end` (needs `BACK`; `end` an element boundary past the
    /// first element).
    #[inline]
    pub fn span_before(&self, end: usize) -> Span {
        debug_assert!(BACK);
        let (len, back) = read_back_varint(&self.0, end);
        let l = end - back;
        let data = back - len;
        Span {
            start: data - l,
            data,
            len,
            end,
        }
    }

    /// The bytes of an element.
    #[inline]
    pub fn data(&self, s: Span) -> &[u8] {
        &self.0[s.data..s.data + s.len]
    }

    /// Elements from the first on.
    #[inline]
    pub fn iter(&self) -> Iter<'_, BASE, BACK> {
        Iter {
            p: self,
            pos: self.first(),
        }
    }

    /// The element at `index` (< len), walking from the nearer end when `BACK`.
    pub fn span_of(&self, index: usize) -> Span {
        let n = self.len();
        if BACK && index >= n / 2 {
            let mut end = self.end();
            let mut s = self.span_before(end);
            for _ in index + 1..n {
                end = s.start;
                s = self.span_before(end);
            }
            s
        } else {
            let mut pos = self.first();
            for _ in 0..index {
                pos = self.span_at(pos).end;
            }
            self.span_at(pos)
        }
    }

    /// Offset of element `index` (`index == len` gives the end).
    pub fn offset_of(&self, index: usize) -> usize {
        if index >= self.len() {
            self.end()
        } else {
            self.span_of(index).start
        }
    }

    /// Replaces the bytes `start..end` (element boundaries) by the elements `insert`,
    /// changing the count by `delta`. The buffer stays exactly sized.
    pub fn splice(&mut self, start: usize, end: usize, insert: &[&[u8]], delta: isize) {
        let old_count = self.len();
        let new_count = old_count.wrapping_add_signed(delta);
        let old_h = varint_len(old_count);
        let new_h = varint_len(new_count);
        let ins: usize = insert.iter().map(|e| Self::encoded_len(e.len())).sum();
        let old_total = self.0.len();
        let new_total = old_total + new_h + ins - old_h - (end - start);
        let mut v = std::mem::take(&mut self.0).into_vec();
        // New layout: prefix, header, head (old first..start), inserted, tail (old
        // end..). The head moves by the header's change, the tail by everything.
        let head_dst = BASE + new_h;
        let tail_dst = start + new_h + ins - old_h;
        if tail_dst > end {
            v.reserve_exact(new_total - old_total);
            v.resize(new_total, 0);
            v.copy_within(end..old_total, tail_dst);
            v.copy_within(BASE + old_h..start, head_dst);
        } else {
            v.copy_within(BASE + old_h..start, head_dst);
            v.copy_within(end..old_total, tail_dst);
            v.truncate(new_total);
            if new_total < old_total {
                v.shrink_to_fit();
            }
        }
        write_varint(&mut v[BASE..], new_count);
        let mut pos = start + new_h - old_h;
        for e in insert {
            let l = varint_len(e.len());
            write_varint(&mut v[pos..], e.len());
            pos += l;
            v[pos..pos + e.len()].copy_from_slice(e);
            pos += e.len();
            if BACK {
                pos += l;
                write_back_varint(&mut v, pos, e.len());
            }
        }
        self.0 = v.into_boxed_slice();
    }

    /// Appends elements, adding `delta` to the count.
    pub fn push_back(&mut self, items: &[&[u8]], delta: isize) {
        let end = self.end();
        self.splice(end, end, items, delta);
    }

    /// Prepends elements, adding `delta` to the count.
    pub fn push_front(&mut self, items: &[&[u8]], delta: isize) {
        let first = self.first();
        self.splice(first, first, items, delta);
    }

    /// Keeps only the elements whose (0-based) index `keep` accepts, adjusting the
    /// count by how many elements were dropped, divided by `per_item` (2 for hashes,
    /// whose count is of pairs).
    pub fn retain_indexed(&mut self, per_item: usize, mut keep: impl FnMut(usize) -> bool) {
        let first = self.first();
        let mut body = Vec::with_capacity(self.0.len() - first);
        let mut dropped = 0;
        for (i, s) in self.iter().enumerate() {
            if keep(i) {
                body.extend_from_slice(&self.0[s.start..s.end]);
            } else {
                dropped += 1;
            }
        }
        let count = self.len() - dropped / per_item.max(1);
        let h = varint_len(count);
        let mut v = Vec::with_capacity(BASE + h + body.len());
        v.extend_from_slice(&self.0[..BASE]);
        v.resize(BASE + h, 0);
        write_varint(&mut v[BASE..], count);
        v.extend_from_slice(&body);
        self.0 = v.into_boxed_slice();
    }
}

/// Forward iterator over the elements' spans.
pub struct Iter<'a, const BASE: usize, const BACK: bool> {
    p: &'a Packed<BASE, BACK>,
    pos: usize,
}

impl<const BASE: usize, const BACK: bool> Iterator for Iter<'_, BASE, BACK> {
    type Item = Span;

    #[inline]
    fn next(&mut self) -> Option<Span> {
        if self.pos >= self.p.0.len() {
            return None;
        }
        let s = self.p.span_at(self.pos);
        self.pos = s.end;
        Some(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items<const B: usize, const K: bool>(p: &Packed<B, K>) -> Vec<Vec<u8>> {
        p.iter().map(|s| p.data(s).to_vec()).collect()
    }

    #[test]
    fn varints() {
        for n in [
            0usize,
            1,
            127,
            128,
            255,
            16383,
            16384,
            1 << 21,
            usize::MAX >> 1,
        ] {
            let l = varint_len(n);
            let mut buf = vec![0u8; l + 2];
            write_varint(&mut buf[1..], n);
            assert_eq!(read_varint(&buf, 1), (n, 1 + l));
            let mut back = vec![0u8; l + 2];
            write_back_varint(&mut back, l + 1, n);
            assert_eq!(read_back_varint(&back, l + 1), (n, 1));
        }
        assert_eq!(varint_len(0), 1);
        assert_eq!(varint_len(127), 1);
        assert_eq!(varint_len(128), 2);
    }

    #[test]
    fn exact_size_and_layout() {
        let mut p = Packed::<0, false>::new();
        assert_eq!(p.bytes(), 1);
        p.push_back(&[b"field", b"value"], 1);
        // count + (1 + 5) * 2
        assert_eq!(p.bytes(), 1 + 6 + 6);
        assert_eq!(&p.0[..], b"\x01\x05field\x05value");
        let mut l = Packed::<0, true>::new();
        l.push_back(&[b"abc"], 1);
        assert_eq!(&l.0[..], b"\x01\x03abc\x03");
        let mut s = Packed::<1, false>::new();
        s.push_back(&[b"m"], 1);
        assert_eq!(&s.0[..], b"\x00\x01\x01m");
    }

    #[test]
    fn splice_everywhere_with_header_growth() {
        // Cross the one-byte count boundary (127 -> 128) both ways, inserting and
        // removing at the head, middle and tail, against a Vec model.
        let mut p = Packed::<1, true>::new();
        p.0[0] = 0xaa;
        let mut model: Vec<Vec<u8>> = Vec::new();
        for i in 0..300usize {
            let v = vec![b'a' + (i % 26) as u8; i % 200];
            let at = match i % 3 {
                0 => 0,
                1 => model.len(),
                _ => model.len() / 2,
            };
            let off = p.offset_of(at);
            p.splice(off, off, &[&v], 1);
            model.insert(at, v);
            assert_eq!(p.len(), model.len());
        }
        assert_eq!(items(&p), model);
        let want: usize = 1
            + varint_len(model.len())
            + model
                .iter()
                .map(|m| Packed::<1, true>::encoded_len(m.len()))
                .sum::<usize>();
        assert_eq!(p.bytes(), want, "exactly sized");
        // Backward walk and indexed access agree.
        for (i, m) in model.iter().enumerate() {
            assert_eq!(p.data(p.span_of(i)), &m[..], "index {i}");
        }
        while !model.is_empty() {
            let at = match model.len() % 3 {
                0 => 0,
                1 => model.len() - 1,
                _ => model.len() / 2,
            };
            let s = p.span_of(at);
            p.splice(s.start, s.end, &[], -1);
            model.remove(at);
            assert_eq!(p.len(), model.len());
        }
        assert_eq!(p.0[0], 0xaa, "prefix untouched");
        assert_eq!(p.bytes(), 2);
        assert!(p.is_empty());
    }

    #[test]
    fn replace_and_retain() {
        let mut p = Packed::<0, false>::new();
        p.push_back(&[b"a", b"1", b"b", b"2", b"c", b"3"], 3);
        let s = p.span_of(3);
        p.splice(s.start, s.end, &[b"a much longer value"], 0);
        assert_eq!(p.len(), 3);
        assert_eq!(p.data(p.span_of(3)), b"a much longer value");
        p.retain_indexed(2, |i| i / 2 != 1);
        assert_eq!(p.len(), 2);
        assert_eq!(
            items(&p),
            [b"a".to_vec(), b"1".to_vec(), b"c".to_vec(), b"3".to_vec()]
        );
        p.push_front(&[b"z"], 0);
        assert_eq!(p.data(p.span_of(0)), b"z");
    }
}
