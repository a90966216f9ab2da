//! Many small byte strings copied out of a collection with one allocation: each is
//! appended to one buffer and handed out as a [`Bytes`] slice of it. A reply of 300
//! list elements then costs one allocation instead of 300 (the backends hand out
//! borrowed `&[u8]`, which must be copied before the scope's locks are released).

use bytes::Bytes;

/// Byte strings packed end to end.
#[derive(Debug, Default)]
pub struct SliceBuffer {
    data: Vec<u8>,
    ends: Vec<usize>,
}

impl SliceBuffer {
    /// An empty buffer expecting about `items` strings.
    pub fn with_capacity(items: usize) -> SliceBuffer {
        SliceBuffer {
            data: Vec::with_capacity(items * 16),
            ends: Vec::with_capacity(items),
        }
    }

    /// Appends a copy of `bytes`.
    #[inline]
    pub fn push(&mut self, bytes: &[u8]) {
        self.data.extend_from_slice(bytes);
        self.ends.push(self.data.len());
    }

    /// Number of strings pushed.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether nothing was pushed.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The strings, in push order, as slices of one shared allocation.
    pub fn into_bytes(self) -> impl Iterator<Item = Bytes> {
        let data = Bytes::from(self.data);
        let mut start = 0;
        self.ends.into_iter().map(move |end| {
            let piece = data.slice(start..end);
            start = end;
            piece
        })
    }
}

#[cfg(test)]
mod tests {
    use super::SliceBuffer;

    #[test]
    fn slices_come_back_in_order() {
        let mut b = SliceBuffer::with_capacity(2);
        assert!(b.is_empty());
        b.push(b"abc");
        b.push(b"");
        b.push(b"de");
        assert_eq!(b.len(), 3);
        let out: Vec<_> = b.into_bytes().collect();
        assert_eq!(out, vec![&b"abc"[..], &b""[..], &b"de"[..]]);
    }
}
