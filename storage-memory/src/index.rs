//! A segment's hash index: maps a probe hash to the one-byte slot of an entry in the
//! segment's dense entry vector.
//!
//! Swiss-table style (7-bit tags, EMPTY/DELETED markers, group probing), but each group
//! keeps its 8 tags and its 8 slot bytes side by side in 16 bytes, so a probe touches
//! one cache line, where a `hashbrown::HashTable<u8>` reads the control bytes and the
//! slot from two different lines. Tags are matched 8 at a time with SWAR arithmetic
//! on a `u64` (safe Rust, no SIMD intrinsics).

/// Tag of a never-used bucket: a probe sequence stops at the first group with one.
const EMPTY: u8 = 0xff;
/// Tag of a removed bucket in a group that was full (probes must continue past it).
const DELETED: u8 = 0x80;
/// Slot byte of an unused bucket.
const NO_SLOT: u8 = 0xff;

const LSB: u64 = 0x0101_0101_0101_0101;
const MSB: u64 = 0x8080_8080_8080_8080;

/// Eight buckets: tags then slots.
#[derive(Debug, Clone, Copy)]
#[repr(C, align(16))]
struct Group {
    tags: [u8; 8],
    slots: [u8; 8],
}

const EMPTY_GROUP: Group = Group {
    tags: [EMPTY; 8],
    slots: [NO_SLOT; 8],
};

impl Group {
    #[inline]
    fn tag_word(&self) -> u64 {
        u64::from_le_bytes(self.tags)
    }
}

/// Bytes (as a bit mask with the high bit of each byte) that may equal `tag`. False
/// positives are possible; callers re-check the tag.
#[inline]
fn match_tag(word: u64, tag: u8) -> u64 {
    let cmp = word ^ (LSB * u64::from(tag));
    cmp.wrapping_sub(LSB) & !cmp & MSB
}

/// Bytes that are EMPTY (0xff: the two high bits set; DELETED has only the top one).
#[inline]
fn match_empty(word: u64) -> u64 {
    word & (word << 1) & MSB
}

/// Bytes that are EMPTY or DELETED (high bit set; full tags are 7-bit).
#[inline]
fn match_free(word: u64) -> u64 {
    word & MSB
}

#[inline]
fn lowest(mask: u64) -> usize {
    (mask.trailing_zeros() / 8) as usize
}

#[inline]
fn tag_of(ph: u64) -> u8 {
    (ph >> 57) as u8
}

/// Hash index from probe hash to slot; holds at most 7/8 of its buckets.
#[derive(Debug, Clone, Default)]
pub struct SlotIndex {
    groups: Box<[Group]>,
    /// Inserts possible before a rebuild (EMPTY buckets left within the load limit).
    growth_left: usize,
    items: usize,
}

/// Groups needed to hold `n` items at a 7/8 load (a power of two).
fn groups_for(n: usize) -> usize {
    n.div_ceil(7).next_power_of_two().max(1)
}

impl SlotIndex {
    /// An index for `n` items without growing.
    pub fn with_capacity(n: usize) -> SlotIndex {
        if n == 0 {
            return SlotIndex::default();
        }
        let groups = groups_for(n);
        SlotIndex {
            groups: vec![EMPTY_GROUP; groups].into_boxed_slice(),
            growth_left: groups * 7,
            items: 0,
        }
    }

    /// Builds an index of `hashes.len()` slots: slot `i` has probe hash `hashes(i)`.
    pub fn build(n: usize, mut probe: impl FnMut(usize) -> u64) -> SlotIndex {
        let mut index = SlotIndex::with_capacity(n);
        for slot in 0..n {
            index.insert(probe(slot), slot as u8);
        }
        index
    }

    /// Number of slots indexed.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.items
    }

    /// Whether one more insert fits without a rebuild.
    #[inline]
    pub fn has_room(&self) -> bool {
        self.growth_left > 0
    }

    /// Heap bytes used.
    pub fn allocation_size(&self) -> usize {
        self.groups.len() * std::mem::size_of::<Group>()
    }

    /// Group and bucket of the first slot with probe hash `ph` accepted by `eq`.
    #[inline]
    fn locate(&self, ph: u64, mut eq: impl FnMut(u8) -> bool) -> Option<(usize, usize)> {
        let n = self.groups.len();
        if n == 0 {
            return None;
        }
        let mask = n - 1;
        let tag = tag_of(ph);
        let mut g = ph as usize & mask;
        let mut stride = 0;
        loop {
            let group = &self.groups[g];
            let word = group.tag_word();
            let mut m = match_tag(word, tag);
            while m != 0 {
                let i = lowest(m);
                m &= m - 1;
                if group.tags[i] == tag && eq(group.slots[i]) {
                    return Some((g, i));
                }
            }
            if match_empty(word) != 0 {
                return None;
            }
            stride += 1;
            if stride > mask {
                // Every group visited (only possible with no EMPTY left anywhere).
                return None;
            }
            g = (g + stride) & mask;
        }
    }

    /// The slot of the first entry with probe hash `ph` accepted by `eq`.
    #[inline]
    pub fn find(&self, ph: u64, eq: impl FnMut(u8) -> bool) -> Option<u8> {
        self.locate(ph, eq).map(|(g, i)| self.groups[g].slots[i])
    }

    /// Adds a slot; the caller checked [`SlotIndex::has_room`].
    pub fn insert(&mut self, ph: u64, slot: u8) {
        let n = self.groups.len();
        debug_assert!(n > 0 && self.growth_left > 0, "insert into a full index");
        if n == 0 {
            return;
        }
        let mask = n - 1;
        let mut g = ph as usize & mask;
        let mut stride = 0;
        loop {
            let group = &mut self.groups[g];
            let free = match_free(group.tag_word());
            if free != 0 {
                let i = lowest(free);
                if group.tags[i] == EMPTY {
                    self.growth_left -= 1;
                }
                group.tags[i] = tag_of(ph);
                group.slots[i] = slot;
                self.items += 1;
                return;
            }
            stride += 1;
            g = (g + stride) & mask;
        }
    }

    /// Removes `slot` (whose probe hash is `ph`).
    pub fn remove(&mut self, ph: u64, slot: u8) {
        if let Some((g, i)) = self.locate(ph, |s| s == slot) {
            let group = &mut self.groups[g];
            // A group that still has an EMPTY bucket never made a probe move on, so
            // the bucket can become EMPTY again; otherwise it must stay a tombstone.
            if match_empty(group.tag_word()) != 0 {
                group.tags[i] = EMPTY;
                self.growth_left += 1;
            } else {
                group.tags[i] = DELETED;
            }
            group.slots[i] = NO_SLOT;
            self.items -= 1;
        }
    }

    /// Repoints the bucket of `old` (probe hash `ph`) to `new`.
    pub fn replace_slot(&mut self, ph: u64, old: u8, new: u8) {
        if let Some((g, i)) = self.locate(ph, |s| s == old) {
            self.groups[g].slots[i] = new;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::probe_hash;

    #[test]
    fn swar_matches() {
        let word = u64::from_le_bytes([1, 2, EMPTY, DELETED, 2, 0x7f, 0, EMPTY]);
        let tags: Vec<usize> = (0..8)
            .filter(|i| match_tag(word, 2) >> (i * 8 + 7) & 1 == 1)
            .collect();
        assert!(tags.contains(&1) && tags.contains(&4));
        assert_eq!(match_empty(word), (1 << 23) | (1 << 63));
        assert_eq!(match_free(word), (1 << 23) | (1 << 31) | (1 << 63));
    }

    #[test]
    fn insert_find_remove_with_tombstones() {
        // Many hashes landing in the same group exercise probing and tombstones.
        let ph = |i: usize| probe_hash(i as u64) & !0xffff | 3;
        let mut ix = SlotIndex::with_capacity(200);
        for s in 0..200 {
            assert!(ix.has_room());
            ix.insert(ph(s), s as u8);
        }
        for s in 0..200 {
            assert_eq!(ix.find(ph(s), |x| x == s as u8), Some(s as u8));
        }
        for s in (0..200).step_by(2) {
            ix.remove(ph(s), s as u8);
        }
        assert_eq!(ix.len(), 100);
        for s in 0..200 {
            let want = (s % 2 == 1).then_some(s as u8);
            assert_eq!(ix.find(ph(s), |x| x == s as u8), want);
        }
        ix.replace_slot(ph(1), 1, 250);
        assert_eq!(ix.find(ph(1), |x| x == 250), Some(250));
        // Rebuilding drops the tombstones.
        let rebuilt = SlotIndex::build(10, ph);
        assert_eq!(rebuilt.len(), 10);
        assert!(rebuilt.has_room());
        for s in 0..10 {
            assert_eq!(rebuilt.find(ph(s), |x| x == s as u8), Some(s as u8));
        }
        assert_eq!(SlotIndex::default().find(1, |_| true), None);
    }

    proptest::proptest! {
        /// Random inserts and removes (with hashes crowded into few groups) agree with
        /// a model map.
        #[test]
        fn matches_a_model(ops in proptest::collection::vec((0u8..60, proptest::bool::ANY), 1..400)) {
            use std::collections::HashMap;
            // Slot `s` always has the same probe hash; few distinct start groups.
            let ph = |s: u8| probe_hash(u64::from(s)) & !0x3 ;
            let mut ix = SlotIndex::default();
            let mut model: HashMap<u8, ()> = HashMap::new();
            for (slot, insert) in ops {
                if insert {
                    if model.contains_key(&slot) {
                        continue;
                    }
                    if !ix.has_room() {
                        let mut live: Vec<u8> = model.keys().copied().collect();
                        live.sort_unstable();
                        let mut rebuilt = SlotIndex::with_capacity(live.len() + 1);
                        for &s in &live {
                            rebuilt.insert(ph(s), s);
                        }
                        ix = rebuilt;
                    }
                    ix.insert(ph(slot), slot);
                    model.insert(slot, ());
                } else if model.remove(&slot).is_some() {
                    ix.remove(ph(slot), slot);
                }
                proptest::prop_assert_eq!(ix.len(), model.len());
            }
            for s in 0u8..60 {
                let want = model.contains_key(&s).then_some(s);
                proptest::prop_assert_eq!(ix.find(ph(s), |x| x == s), want);
            }
        }
    }
}
