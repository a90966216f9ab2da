//! The full encoding of hashes and sets: a dense vector of entries plus a hash index
//! of `u32` positions into it (a `hashbrown::HashTable<u32>`).
//!
//! Against a hash map of the entries themselves this costs 4 index bytes and one
//! control byte per bucket instead of a whole entry per bucket, gives O(1) uniform
//! random access (`HRANDFIELD`, `SRANDMEMBER`, `SPOP`) by position, and makes the
//! cursor of `HSCAN`/`SSCAN` a plain position: removal is `swap_remove`, which only
//! ever moves the last entry down, and inserts append, so a scan that walks positions
//! from the highest downward returns every entry present for the whole iteration.

use hashbrown::HashTable;

use crate::hash::hash_key;
use crate::value::SmallBytes;

/// An entry keyed by bytes.
pub trait Keyed {
    /// The key the entry is found by.
    fn key(&self) -> &[u8];
    /// Heap bytes the entry owns beyond its inline size.
    fn heap_bytes(&self) -> usize;
}

impl Keyed for SmallBytes {
    #[inline]
    fn key(&self) -> &[u8] {
        self.as_slice()
    }
    #[inline]
    fn heap_bytes(&self) -> usize {
        SmallBytes::heap_bytes(self)
    }
}

/// A field and its value.
#[derive(Clone, Debug)]
pub struct Pair {
    /// The field.
    pub field: SmallBytes,
    /// The value.
    pub value: SmallBytes,
}

impl Keyed for Pair {
    #[inline]
    fn key(&self) -> &[u8] {
        self.field.as_slice()
    }
    #[inline]
    fn heap_bytes(&self) -> usize {
        self.field.heap_bytes() + self.value.heap_bytes()
    }
}

/// Dense entries with a hash index.
#[derive(Debug)]
pub struct Dense<E> {
    entries: Vec<E>,
    index: HashTable<u32>,
    /// Heap bytes owned by the entries.
    heap: usize,
}

impl<E> Default for Dense<E> {
    fn default() -> Self {
        Dense {
            entries: Vec::new(),
            index: HashTable::new(),
            heap: 0,
        }
    }
}

impl<E: Keyed + Clone> Clone for Dense<E> {
    fn clone(&self) -> Self {
        let mut d = Dense::with_capacity(self.entries.len());
        for e in &self.entries {
            d.push_new(e.clone());
        }
        d
    }
}

impl<E: Keyed> Dense<E> {
    /// An empty table with room for `n` entries.
    pub fn with_capacity(n: usize) -> Self {
        Dense {
            entries: Vec::with_capacity(n),
            index: HashTable::with_capacity(n),
            heap: 0,
        }
    }

    /// Number of entries.
    #[inline]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// The entries, in position order.
    #[inline]
    pub fn entries(&self) -> &[E] {
        &self.entries
    }

    /// Position of the entry with `key`.
    #[inline]
    pub fn find(&self, key: &[u8]) -> Option<usize> {
        let entries = &self.entries;
        self.index
            .find(hash_key(key), |&i| entries[i as usize].key() == key)
            .map(|&i| i as usize)
    }

    /// The entry at `pos`.
    #[inline]
    pub fn get(&self, pos: usize) -> &E {
        &self.entries[pos]
    }

    /// Replaces part of the entry at `pos` through `f`, keeping heap accounting; `f`
    /// must not change the key.
    #[inline]
    pub fn update(&mut self, pos: usize, f: impl FnOnce(&mut E)) {
        let e = &mut self.entries[pos];
        let before = e.heap_bytes();
        f(e);
        self.heap = self.heap + e.heap_bytes() - before;
    }

    /// Appends an entry whose key is absent; returns its position.
    pub fn push_new(&mut self, e: E) -> usize {
        let pos = self.entries.len();
        let entries = &self.entries;
        self.index
            .insert_unique(hash_key(e.key()), pos as u32, |&i| {
                hash_key(entries[i as usize].key())
            });
        self.heap += e.heap_bytes();
        self.entries.push(e);
        pos
    }

    /// Removes the entry at `pos`; the last entry moves into its place. Returns the
    /// removed entry.
    pub fn swap_remove(&mut self, pos: usize) -> E {
        let key_hash = hash_key(self.entries[pos].key());
        if let Ok(slot) = self.index.find_entry(key_hash, |&i| i as usize == pos) {
            slot.remove();
        }
        let last = self.entries.len() - 1;
        let e = self.entries.swap_remove(pos);
        if pos != last {
            let moved = hash_key(self.entries[pos].key());
            if let Some(i) = self.index.find_mut(moved, |&i| i as usize == last) {
                *i = pos as u32;
            }
        }
        self.heap -= e.heap_bytes();
        let cap = self.entries.capacity();
        if cap > 16 && self.entries.len() * 4 < cap {
            let n = self.entries.len() * 2;
            self.entries.shrink_to(n);
            let entries = &self.entries;
            self.index
                .shrink_to(n, |&i| hash_key(entries[i as usize].key()));
        }
        e
    }

    /// Bytes allocated for the entries, the index and what the entries own.
    #[inline]
    pub fn heap_bytes(&self) -> usize {
        self.entries.capacity() * std::mem::size_of::<E>()
            + self.index.allocation_size()
            + self.heap
    }
}

/// Positions `pos..` visited from the highest down, `count` at a time: one page of a
/// scan. `cursor` 0 starts at the end; returns the positions of this page (descending)
/// and the next cursor (0 when done).
pub fn scan_page(len: usize, cursor: u64, count: usize) -> (std::ops::Range<usize>, u64) {
    let top = if cursor == 0 {
        len
    } else {
        usize::try_from(cursor).unwrap_or(usize::MAX).min(len)
    };
    let bottom = top.saturating_sub(count.max(1));
    (bottom..top, bottom as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(i: usize) -> SmallBytes {
        SmallBytes::from_slice(format!("member:{i}").as_bytes())
    }

    #[test]
    fn insert_find_remove_keep_the_index_consistent() {
        let mut d: Dense<SmallBytes> = Dense::default();
        for i in 0..1000 {
            assert_eq!(d.push_new(key(i)), i);
        }
        for i in (0..1000).step_by(3) {
            let pos = d.find(key(i).as_slice()).unwrap();
            assert_eq!(d.swap_remove(pos).as_slice(), key(i).as_slice());
        }
        for i in 0..1000 {
            let found = d.find(key(i).as_slice());
            assert_eq!(found.is_some(), i % 3 != 0, "member {i}");
            if let Some(p) = found {
                assert_eq!(d.get(p).as_slice(), key(i).as_slice());
            }
        }
        while d.len() > 0 {
            d.swap_remove(d.len() / 2);
        }
        assert!(d.heap_bytes() < 1000, "shrunk when emptied");
    }

    #[test]
    fn scan_pages() {
        assert_eq!(scan_page(10, 0, 4), (6..10, 6));
        assert_eq!(scan_page(10, 6, 4), (2..6, 2));
        assert_eq!(scan_page(10, 2, 4), (0..2, 0));
        // The table shrank below the cursor.
        assert_eq!(scan_page(3, 6, 4), (0..3, 0));
        assert_eq!(scan_page(0, 0, 4), (0..0, 0));
    }
}
