//! The per-(shard, database) key table: extendible hashing over small segments.
//!
//! A segment owns an aligned range of the hash space (a prefix of the hash bits that
//! follow the shard bits). When a segment reaches [`SPLIT_AT`] entries it splits in two
//! on its next prefix bit; segments never merge. A SCAN cursor is a position in the
//! (global, 64-bit) hash space: a page returns the keys whose hash lies between its
//! cursor and the next one, in hash order inside each segment ([`Segment::scan`]), so
//! splits, inserts and deletes between pages never move a key across a cursor.
//!
//! Inside a segment the entries are a dense vector with an exactly managed capacity,
//! and a [`SlotIndex`] maps probe hashes to one-byte slot numbers. Compared with
//! storing the 56-byte entries in a hash table itself, this spends 2 bytes per bucket
//! instead of 57, so the index's 44%..87% load factor costs ~3 bytes per key instead
//! of ~45 (measured: 63.5 against 108.8 bytes per small key).
//!
//! Expiry times live beside the entries of their segment, only for volatile keys: an
//! entry names its expiry by a one-byte index into the segment's expiry array, so a
//! volatile key costs ~9 bytes more and a persistent one nothing.

use ferrokv_core::storage::UnixMillis;

use crate::hash::{hash_key, local_of, probe_hash, SHARD_BITS};
use crate::index::SlotIndex;
use crate::value::{SmallBytes, Value};

/// Entries a segment holds before it splits (7/8 of 256 index buckets; also below
/// 256 so one byte addresses a slot).
pub const SPLIT_AT: usize = 224;
/// Most entries a segment that can no longer split may hold (slot numbers are `u8`,
/// and 0xff is reserved).
const HARD_MAX: usize = 255;
/// Deepest prefix: a segment boundary must be representable in a SCAN cursor, which
/// keeps the shard in its top bits.
pub const MAX_DEPTH: u32 = 64 - SHARD_BITS;

/// Initial LFU counter of a new key (Redis' `LFU_INIT_VAL`).
pub const LFU_INIT: u8 = 5;

/// `Entry::exp` of a key without expiry.
const NO_EXPIRE: u8 = 0xff;

/// A key is expired once the clock is past its expiry time (Redis: `now > when`).
#[inline]
pub fn is_past(at: UnixMillis, now_ms: UnixMillis) -> bool {
    now_ms > at
}

/// One key with its value and access metadata.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The key.
    pub key: SmallBytes,
    /// The value.
    pub value: Value,
    /// Last access, in Unix seconds (LRU clock).
    pub lru: u32,
    /// Logarithmic access counter (LFU).
    pub freq: u8,
    /// Index of the key's expiry in its segment's expiry array, or [`NO_EXPIRE`];
    /// persistent keys never look at the array.
    exp: u8,
}

const _: () = assert!(std::mem::size_of::<Entry>() <= 56);

impl Entry {
    /// A fresh, persistent entry accessed at `now_s`.
    pub fn new(key: &[u8], value: Value, now_s: u32) -> Entry {
        Entry {
            key: SmallBytes::from_slice(key),
            value,
            lru: now_s,
            freq: LFU_INIT,
            exp: NO_EXPIRE,
        }
    }

    /// Whether the key has an expiry.
    #[inline]
    pub fn is_volatile(&self) -> bool {
        self.exp != NO_EXPIRE
    }

    /// Heap bytes owned by the key and value.
    pub fn heap_bytes(&self) -> usize {
        self.key.heap_bytes() + self.value.heap_bytes()
    }
}

/// Where an entry lives: segment and slot. Valid until the table's next insert or
/// removal (expiry changes keep it valid).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Loc {
    seg: u32,
    slot: u8,
}

/// Expiry times of a segment's volatile keys, with the slot owning each.
#[derive(Debug, Default)]
struct SegExpires {
    at: Vec<UnixMillis>,
    owner: Vec<u8>,
}

/// A segment: the keys of one aligned hash range.
#[derive(Debug, Default)]
pub struct Segment {
    /// First local position covered (left aligned; the low `64 - depth` bits are 0).
    prefix: u64,
    /// Number of significant prefix bits.
    depth: u32,
    entries: Vec<Entry>,
    index: SlotIndex,
    /// Only allocated while the segment has volatile keys.
    expires: Option<Box<SegExpires>>,
}

/// Capacity to reserve when a dense vector of `len` items is full: 1/8 more (at least
/// 4), so vectors stay near full at an amortized cost of ~8 copies per push.
fn grown(len: usize) -> usize {
    // Never beyond the split size, where the segment splits instead.
    (len / 8).max(4).min(SPLIT_AT.saturating_sub(len)).max(1)
}

impl Segment {
    fn new(prefix: u64, depth: u32) -> Segment {
        Segment {
            prefix,
            depth,
            entries: Vec::new(),
            index: SlotIndex::default(),
            expires: None,
        }
    }

    /// The entries (in no particular order).
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Local position just past this segment, `None` at the end of the shard.
    pub fn end(&self) -> Option<u64> {
        if self.depth == 0 {
            None
        } else {
            self.prefix.checked_add(1u64 << (64 - self.depth))
        }
    }

    /// One SCAN step in this segment: visits its entries whose full hash is at least
    /// `from`, in hash order, calling `full` on each; `full` returns true once the page
    /// is full. The entries sharing the hash of the one that filled the page are still
    /// visited (so a cursor never falls between keys of equal hash).
    ///
    /// Returns `Some(h)` when it stopped early after the entries of hash `h` (the page
    /// continues at `h + 1`), `None` when every entry from `from` on was visited.
    ///
    /// `room` is a promise of the caller: `full` returns false for at least the first
    /// `room - 1` calls. When no more than `room` entries qualify, they are all visited
    /// and none needs sorting.
    pub fn scan(
        &self,
        from: u64,
        room: usize,
        mut full: impl FnMut(&Entry) -> bool,
    ) -> Option<u64> {
        if self.entries.is_empty() {
            return None;
        }
        let mut cands = [(0u64, 0u8); HARD_MAX];
        let mut n = 0;
        for (slot, e) in self.entries.iter().enumerate() {
            let h = hash_key(e.key.as_slice());
            if h >= from {
                cands[n] = (h, slot as u8);
                n += 1;
            }
        }
        visit_in_hash_order(&mut cands[..n], room, |slot| {
            full(&self.entries[usize::from(slot)])
        })
    }

    /// Expiry of one of this segment's entries.
    #[inline]
    pub fn expire_of(&self, entry: &Entry) -> Option<UnixMillis> {
        if entry.exp == NO_EXPIRE {
            return None;
        }
        self.expires
            .as_ref()
            .and_then(|x| x.at.get(usize::from(entry.exp)).copied())
    }

    /// Whether an entry of this segment is past its expiry.
    #[inline]
    pub fn is_expired(&self, entry: &Entry, now_ms: UnixMillis) -> bool {
        self.expire_of(entry).is_some_and(|at| is_past(at, now_ms))
    }

    #[inline]
    fn find(&self, ph: u64, key: &[u8]) -> Option<u8> {
        let entries = &self.entries;
        self.index.find(ph, |i| {
            entries
                .get(usize::from(i))
                .is_some_and(|e| e.key.as_slice() == key)
        })
    }

    /// Appends a persistent entry.
    fn push(&mut self, ph: u64, mut entry: Entry) -> u8 {
        entry.exp = NO_EXPIRE;
        let len = self.entries.len();
        if len == self.entries.capacity() {
            self.entries.reserve_exact(grown(len));
        }
        let slot = len as u8;
        self.entries.push(entry);
        if self.index.has_room() {
            self.index.insert(ph, slot);
        } else {
            // Grow (or drop tombstones): rebuild from the entries' hashes.
            let entries = &self.entries;
            self.index = SlotIndex::build(entries.len(), |i| {
                probe_hash(hash_key(entries[i].key.as_slice()))
            });
        }
        slot
    }

    /// Sets or clears the expiry of `slot`; returns the change in volatile keys.
    fn set_expire(&mut self, slot: u8, at: Option<UnixMillis>) -> isize {
        let Some(entry) = self.entries.get_mut(usize::from(slot)) else {
            return 0;
        };
        match (entry.exp, at) {
            (NO_EXPIRE, None) => 0,
            (NO_EXPIRE, Some(at)) => {
                let x = self.expires.get_or_insert_with(Box::default);
                let len = x.at.len();
                if len == x.at.capacity() {
                    x.at.reserve_exact(grown(len));
                    x.owner.reserve_exact(grown(len));
                }
                x.at.push(at);
                x.owner.push(slot);
                entry.exp = len as u8;
                1
            }
            (i, Some(at)) => {
                if let Some(t) = self
                    .expires
                    .as_mut()
                    .and_then(|x| x.at.get_mut(usize::from(i)))
                {
                    *t = at;
                }
                0
            }
            (i, None) => {
                entry.exp = NO_EXPIRE;
                self.drop_expire_index(i);
                -1
            }
        }
    }

    /// Removes element `i` of the expiry array, repointing the entry moved into it.
    fn drop_expire_index(&mut self, i: u8) {
        let Some(x) = self.expires.as_mut() else {
            return;
        };
        let i = usize::from(i);
        if i >= x.at.len() {
            return;
        }
        x.at.swap_remove(i);
        x.owner.swap_remove(i);
        if let Some(&moved) = x.owner.get(i) {
            if let Some(e) = self.entries.get_mut(usize::from(moved)) {
                e.exp = i as u8;
            }
        }
        if x.at.is_empty() {
            self.expires = None;
        } else if x.at.capacity() >= 16 && x.at.len() * 2 < x.at.capacity() {
            let keep = x.at.len() + x.at.len() / 8;
            x.at.shrink_to(keep);
            x.owner.shrink_to(keep);
        }
    }

    /// Removes the entry at `slot` (probe hash `ph`) with its expiry.
    fn remove(&mut self, slot: u8, ph: u64) -> (Entry, Option<UnixMillis>) {
        let expire = self.expire_of(&self.entries[usize::from(slot)]);
        if let Some(i) = self.entries.get(usize::from(slot)).map(|e| e.exp) {
            if i != NO_EXPIRE {
                self.drop_expire_index(i);
            }
        }
        self.index.remove(ph, slot);
        let mut entry = self.entries.swap_remove(usize::from(slot));
        entry.exp = NO_EXPIRE;
        let last = self.entries.len();
        if let Some(moved) = self.entries.get(usize::from(slot)) {
            // The last entry moved into the hole: repoint its index and expiry slots.
            let moved_ph = probe_hash(hash_key(moved.key.as_slice()));
            let exp = moved.exp;
            self.index.replace_slot(moved_ph, last as u8, slot);
            if exp != NO_EXPIRE {
                if let Some(o) = self
                    .expires
                    .as_mut()
                    .and_then(|x| x.owner.get_mut(usize::from(exp)))
                {
                    *o = slot;
                }
            }
        }
        if last == 0 {
            self.entries = Vec::new();
            self.index = SlotIndex::default();
        } else if self.entries.capacity() >= 16 && last * 2 < self.entries.capacity() {
            self.entries.shrink_to(last + last / 8);
        }
        (entry, expire)
    }

    fn memory_bytes(&self) -> usize {
        let expires = self.expires.as_ref().map_or(0, |x| {
            std::mem::size_of::<SegExpires>() + x.at.capacity() * 8 + x.owner.capacity()
        });
        self.entries.capacity() * std::mem::size_of::<Entry>()
            + self.index.allocation_size()
            + expires
    }

    #[cfg(test)]
    fn volatile_count(&self) -> usize {
        self.expires.as_ref().map_or(0, |x| x.at.len())
    }
}

/// Visits (hash, slot) candidates in hash order until `full` returns true, then the
/// rest of that hash's candidates; returns the hash it stopped after, or `None` when
/// all were visited. Sorts only when more than `room` candidates exist (see
/// [`Segment::scan`]); unsorted, it visits every candidate whatever `full` says, so a
/// broken promise makes a page larger, never skips a key.
fn visit_in_hash_order(
    cands: &mut [(u64, u8)],
    room: usize,
    mut full: impl FnMut(u8) -> bool,
) -> Option<u64> {
    let sorted = cands.len() > room;
    if sorted {
        cands.sort_unstable();
    }
    let mut i = 0;
    while let Some(&(h, _)) = cands.get(i) {
        let mut done = false;
        while let Some(&(_, slot)) = cands.get(i).filter(|c| c.0 == h) {
            done |= full(slot);
            i += 1;
        }
        if done && sorted && i < cands.len() {
            return Some(h);
        }
    }
    None
}

/// Index into the directory of the segment covering `local`.
#[inline]
fn dir_index(local: u64, global_depth: u32) -> usize {
    if global_depth == 0 {
        0
    } else {
        (local >> (64 - global_depth)) as usize
    }
}

/// Round-robin position of active expiry in a table: segment, then expiry index.
#[derive(Debug, Default, Clone, Copy)]
pub struct ExpireCursor {
    seg: usize,
    pos: usize,
}

/// The keys of one database in one shard.
#[derive(Debug)]
pub struct SegTable {
    /// `2^global_depth` slots, each naming the segment covering that hash range.
    dir: Vec<u32>,
    global_depth: u32,
    segs: Vec<Segment>,
    len: usize,
    volatile: usize,
    heap: usize,
}

impl Default for SegTable {
    fn default() -> Self {
        SegTable::new()
    }
}

/// The table could not take the key: more than 255 keys share a full 64-bit hash.
#[derive(Debug)]
pub struct CollisionOverflow;

impl SegTable {
    /// An empty table: one segment covering the whole shard.
    pub fn new() -> SegTable {
        SegTable {
            dir: vec![0],
            global_depth: 0,
            segs: vec![Segment::new(0, 0)],
            len: 0,
            volatile: 0,
            heap: 0,
        }
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True without keys.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of keys with an expiry.
    pub fn volatile_count(&self) -> usize {
        self.volatile
    }

    /// Number of segments.
    pub fn segment_count(&self) -> usize {
        self.segs.len()
    }

    #[inline]
    fn seg_index(&self, local: u64) -> usize {
        self.dir[dir_index(local, self.global_depth)] as usize
    }

    /// Finds a key by its hash.
    #[inline]
    pub fn find(&self, hash: u64, key: &[u8]) -> Option<Loc> {
        let seg = self.seg_index(local_of(hash));
        let slot = self.segs[seg].find(probe_hash(hash), key)?;
        Some(Loc {
            seg: seg as u32,
            slot,
        })
    }

    /// The entry at `loc`.
    #[inline]
    pub fn get(&self, loc: Loc) -> &Entry {
        &self.segs[loc.seg as usize].entries[usize::from(loc.slot)]
    }

    /// The entry at `loc`, mutably. Callers changing its heap size must report it with
    /// [`SegTable::heap_changed`].
    #[inline]
    pub fn get_mut(&mut self, loc: Loc) -> &mut Entry {
        &mut self.segs[loc.seg as usize].entries[usize::from(loc.slot)]
    }

    /// Expiry of the entry at `loc`.
    #[inline]
    pub fn expire_of(&self, loc: Loc) -> Option<UnixMillis> {
        let seg = &self.segs[loc.seg as usize];
        seg.expire_of(&seg.entries[usize::from(loc.slot)])
    }

    /// Sets or clears the expiry of the entry at `loc`.
    pub fn set_expire(&mut self, loc: Loc, at: Option<UnixMillis>) {
        let delta = self.segs[loc.seg as usize].set_expire(loc.slot, at);
        self.volatile = self.volatile.wrapping_add_signed(delta);
    }

    /// Records that an entry's heap size changed from `before` to `after` bytes.
    #[inline]
    pub fn heap_changed(&mut self, before: usize, after: usize) {
        self.heap = self.heap + after - before;
    }

    /// Inserts a key known to be absent, with its expiry.
    pub fn insert(
        &mut self,
        hash: u64,
        entry: Entry,
        expire: Option<UnixMillis>,
    ) -> Result<Loc, CollisionOverflow> {
        let local = local_of(hash);
        loop {
            let si = self.seg_index(local);
            let seg = &mut self.segs[si];
            let n = seg.entries.len();
            if n >= SPLIT_AT {
                if seg.depth < MAX_DEPTH {
                    self.split(si);
                    continue;
                }
                if n >= HARD_MAX {
                    return Err(CollisionOverflow);
                }
            }
            self.heap += entry.heap_bytes();
            self.len += 1;
            let slot = seg.push(probe_hash(hash), entry);
            let loc = Loc {
                seg: si as u32,
                slot,
            };
            if expire.is_some() {
                self.set_expire(loc, expire);
            }
            return Ok(loc);
        }
    }

    /// Removes the entry at `loc` (`hash` is its key's hash), returning it with its
    /// expiry.
    pub fn remove(&mut self, loc: Loc, hash: u64) -> (Entry, Option<UnixMillis>) {
        let (entry, expire) = self.segs[loc.seg as usize].remove(loc.slot, probe_hash(hash));
        self.len -= 1;
        self.volatile -= usize::from(expire.is_some());
        self.heap -= entry.heap_bytes();
        (entry, expire)
    }

    /// Splits segment `si` on its next prefix bit.
    fn split(&mut self, si: usize) {
        let seg = &mut self.segs[si];
        let depth = seg.depth;
        let bit = 1u64 << (63 - depth);
        let old = std::mem::take(&mut seg.entries);
        let old_expires = seg.expires.take();
        let mut hashes = [0u64; HARD_MAX];
        let mut high = 0;
        for (h, e) in hashes.iter_mut().zip(&old) {
            *h = hash_key(e.key.as_slice());
            high += usize::from(local_of(*h) & bit != 0);
        }
        let low = old.len() - high;
        let mut lo = Segment::new(seg.prefix, depth + 1);
        let mut hi = Segment::new(seg.prefix | bit, depth + 1);
        lo.entries.reserve_exact(low + low / 8);
        hi.entries.reserve_exact(high + high / 8);
        lo.index = SlotIndex::with_capacity(low);
        hi.index = SlotIndex::with_capacity(high);
        for (h, e) in hashes.iter().zip(old) {
            let expire = old_expires
                .as_ref()
                .filter(|_| e.exp != NO_EXPIRE)
                .and_then(|x| x.at.get(usize::from(e.exp)).copied());
            let target = if local_of(*h) & bit != 0 {
                &mut hi
            } else {
                &mut lo
            };
            let slot = target.push(probe_hash(*h), e);
            if expire.is_some() {
                target.set_expire(slot, expire);
            }
        }
        *seg = lo;
        let new_index = self.segs.len() as u32;
        self.segs.push(hi);
        if depth == self.global_depth {
            let mut dir = Vec::with_capacity(self.dir.len() * 2);
            for &d in &self.dir {
                dir.push(d);
                dir.push(d);
            }
            self.dir = dir;
            self.global_depth += 1;
        }
        // The directory slots of the old segment: the upper half now names `hi`.
        let start = dir_index(self.segs[si].prefix, self.global_depth);
        let span = 1usize << (self.global_depth - depth);
        for d in &mut self.dir[start + span / 2..start + span] {
            *d = new_index;
        }
    }

    /// The segment covering local position `local`.
    pub fn segment_at(&self, local: u64) -> &Segment {
        &self.segs[self.seg_index(local)]
    }

    /// Every segment, in no particular order.
    pub fn segments(&self) -> &[Segment] {
        &self.segs
    }

    /// Approximate bytes used: entries, indexes, expiries, directory and heap data.
    pub fn memory_bytes(&self) -> usize {
        self.segs.iter().map(Segment::memory_bytes).sum::<usize>()
            + self.segs.capacity() * std::mem::size_of::<Segment>()
            + self.dir.capacity() * 4
            + self.heap
    }

    /// The entry at `index` of segment `seg` (for random sampling).
    pub fn loc_of(&self, seg: usize, slot: usize) -> Option<Loc> {
        let s = self.segs.get(seg)?;
        (slot < s.entries.len()).then_some(Loc {
            seg: seg as u32,
            slot: slot as u8,
        })
    }

    /// One step of active expiry: examines up to `budget` volatile keys from `cursor`
    /// on (round robin over the segments' expiry arrays) and removes the expired ones,
    /// passing each to `on_removed`. Returns (examined, removed).
    pub fn expire_step(
        &mut self,
        cursor: &mut ExpireCursor,
        budget: usize,
        now_ms: UnixMillis,
        on_removed: &mut dyn FnMut(&[u8]),
    ) -> (usize, usize) {
        let (mut sampled, mut expired) = (0, 0);
        let nsegs = self.segs.len();
        let mut segs_passed = 0;
        while sampled < budget && self.volatile > 0 && segs_passed <= nsegs {
            let si = cursor.seg % nsegs;
            let seg = &self.segs[si];
            let next = seg
                .expires
                .as_ref()
                .and_then(|x| Some((*x.at.get(cursor.pos)?, *x.owner.get(cursor.pos)?)));
            let Some((at, slot)) = next else {
                cursor.seg = (si + 1) % nsegs;
                cursor.pos = 0;
                segs_passed += 1;
                continue;
            };
            sampled += 1;
            if is_past(at, now_ms) {
                let hash = hash_key(seg.entries[usize::from(slot)].key.as_slice());
                let loc = Loc {
                    seg: si as u32,
                    slot,
                };
                // The last expiry moves into `pos`: examine it next.
                let (entry, _) = self.remove(loc, hash);
                on_removed(entry.key.as_slice());
                expired += 1;
            } else {
                cursor.pos += 1;
            }
        }
        (sampled, expired)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::hash_key;

    fn key(i: usize) -> Vec<u8> {
        format!("key:{i:07}").into_bytes()
    }

    fn check_invariants(t: &SegTable) {
        let mut total = 0;
        let mut volatile = 0;
        for (si, s) in t.segs.iter().enumerate() {
            assert!(s.entries.len() <= SPLIT_AT);
            assert_eq!(s.index.len(), s.entries.len());
            volatile += s.volatile_count();
            if let Some(x) = &s.expires {
                assert!(!x.at.is_empty(), "empty expiry arrays are freed");
                assert_eq!(x.at.len(), x.owner.len());
                for (i, &o) in x.owner.iter().enumerate() {
                    assert_eq!(
                        usize::from(s.entries[usize::from(o)].exp),
                        i,
                        "owner links back"
                    );
                }
            }
            let linked = s.entries.iter().filter(|e| e.is_volatile()).count();
            assert_eq!(
                linked,
                s.volatile_count(),
                "every volatile entry has an expiry"
            );
            total += s.entries.len();
            for (slot, e) in s.entries.iter().enumerate() {
                let h = hash_key(e.key.as_slice());
                let local = local_of(h);
                // The entry is inside the segment's range.
                assert_eq!(
                    local & !(u64::MAX.checked_shr(s.depth).unwrap_or(0)),
                    s.prefix,
                    "entry outside its segment"
                );
                let loc = t.find(h, e.key.as_slice()).expect("entry findable");
                assert_eq!(loc.seg as usize, si);
                assert_eq!(usize::from(loc.slot), slot);
            }
        }
        assert_eq!(total, t.len());
        assert_eq!(volatile, t.volatile_count());
        // The directory maps every slot to the segment covering it.
        for (i, &d) in t.dir.iter().enumerate() {
            let s = &t.segs[d as usize];
            let pos = if t.global_depth == 0 {
                0
            } else {
                (i as u64) << (64 - t.global_depth)
            };
            assert!(pos >= s.prefix && !matches!(s.end(), Some(e) if pos >= e));
        }
        // Segments tile the shard.
        let mut pos = 0u64;
        loop {
            let s = t.segment_at(pos);
            assert_eq!(s.prefix, pos);
            match s.end() {
                Some(e) => pos = e,
                None => break,
            }
        }
    }

    #[test]
    fn split_and_remove() {
        let mut t = SegTable::new();
        let n = 5000;
        for i in 0..n {
            let k = key(i);
            let h = hash_key(&k);
            assert!(t.find(h, &k).is_none());
            t.insert(h, Entry::new(&k, Value::string(b"v"), 0), None)
                .unwrap();
        }
        assert_eq!(t.len(), n);
        assert!(t.segment_count() >= n / SPLIT_AT, "segments split");
        check_invariants(&t);
        for i in (0..n).step_by(3) {
            let k = key(i);
            let h = hash_key(&k);
            let loc = t.find(h, &k).unwrap();
            let (e, _) = t.remove(loc, h);
            assert_eq!(e.key.as_slice(), &k[..]);
        }
        check_invariants(&t);
        for i in 0..n {
            let k = key(i);
            assert_eq!(t.find(hash_key(&k), &k).is_some(), i % 3 != 0);
        }
        let segs = t.segment_count();
        for i in 0..n {
            let k = key(i);
            let h = hash_key(&k);
            if let Some(loc) = t.find(h, &k) {
                t.remove(loc, h);
            }
        }
        assert!(t.is_empty());
        assert_eq!(t.segment_count(), segs, "segments never merge");
        check_invariants(&t);
    }

    /// Compares this layout with entries stored directly in per-segment hash tables
    /// (57 bytes per bucket at hashbrown's 44%..87.5% load).
    #[test]
    fn layout_comparison() {
        let mut t = SegTable::new();
        // About one shard's share of a million keys.
        let n = 1_000_000 / crate::hash::SHARDS;
        for i in 0..n {
            let k = key(i);
            t.insert(
                hash_key(&k),
                Entry::new(&k, Value::string(b"value:0123"), 0),
                None,
            )
            .unwrap();
        }
        let direct: usize = t
            .segs
            .iter()
            .map(|s| {
                let buckets = (s.entries.len() * 8 / 7 + 1).next_power_of_two().max(4);
                buckets * (std::mem::size_of::<Entry>() + 1)
            })
            .sum();
        println!(
            "{n} keys in {} segments: dense {:.1} B/key, direct table {:.1} B/key",
            t.segment_count(),
            t.memory_bytes() as f64 / n as f64,
            direct as f64 / n as f64
        );
        assert!(t.memory_bytes() < direct);
    }

    #[test]
    fn expiries_follow_their_entries() {
        let mut t = SegTable::new();
        let n = 4000;
        // Every third key volatile, expiring at 1000 + i.
        for i in 0..n {
            let k = key(i);
            let exp = matches!(i % 3, 0).then_some(1000 + i as u64);
            t.insert(hash_key(&k), Entry::new(&k, Value::string(b"v"), 0), exp)
                .unwrap();
        }
        check_invariants(&t);
        let expect = |i: usize| matches!(i % 3, 0).then_some(1000 + i as u64);
        for i in 0..n {
            let k = key(i);
            let loc = t.find(hash_key(&k), &k).unwrap();
            assert_eq!(t.expire_of(loc), expect(i), "expiry of {i} after splits");
        }
        // Persist some, add some, remove some.
        for i in (0..n).step_by(5) {
            let k = key(i);
            let h = hash_key(&k);
            let loc = t.find(h, &k).unwrap();
            match i % 4 {
                0 => t.set_expire(loc, None),
                1 => t.set_expire(loc, Some(7)),
                _ => {
                    let (_, exp) = t.remove(loc, h);
                    assert_eq!(exp, expect(i));
                }
            }
        }
        check_invariants(&t);
        for i in 0..n {
            let k = key(i);
            let found = t.find(hash_key(&k), &k).map(|loc| t.expire_of(loc));
            let want = if i % 5 != 0 {
                Some(expect(i))
            } else {
                match i % 4 {
                    0 => Some(None),
                    1 => Some(Some(7)),
                    _ => None,
                }
            };
            assert_eq!(found, want, "key {i}");
        }
        // Active expiry removes exactly the keys due at time 2000 (at < 2000).
        let due = (0..n)
            .filter(|&i| {
                t.find(hash_key(&key(i)), &key(i))
                    .is_some_and(|l| t.expire_of(l).is_some_and(|at| at < 2000))
            })
            .count();
        let mut cursor = ExpireCursor::default();
        let mut removed = 0;
        for _ in 0..1000 {
            let (sampled, expired) = t.expire_step(&mut cursor, 20, 2000, &mut |_| {});
            assert!(sampled <= 20);
            removed += expired;
        }
        assert_eq!(removed, due);
        check_invariants(&t);
    }

    /// Pages of `visit_in_hash_order` over synthetic hashes (with ties): each page
    /// continues after the hash the previous one stopped at.
    fn pages_of(hashes: &[u64], count: usize) -> Vec<Vec<u64>> {
        let mut pages = Vec::new();
        let mut from = 0u64;
        loop {
            let mut cands: Vec<(u64, u8)> = hashes
                .iter()
                .enumerate()
                .filter(|(_, &h)| h >= from)
                .map(|(i, &h)| (h, i as u8))
                .collect();
            let mut page = Vec::new();
            let stop = visit_in_hash_order(&mut cands, count, |slot| {
                page.push(hashes[usize::from(slot)]);
                page.len() >= count
            });
            pages.push(page);
            match stop {
                Some(h) => from = h + 1,
                None => return pages,
            }
        }
    }

    #[test]
    fn scan_order_keeps_equal_hashes_together() {
        let hashes = [9, 3, 3, 3, 7, 1, 9, u64::MAX, 0, 5];
        let pages = pages_of(&hashes, 2);
        assert_eq!(
            pages,
            [
                vec![0, 1],
                vec![3, 3, 3],
                vec![5, 7],
                vec![9, 9],
                vec![u64::MAX]
            ]
        );
        // Enough room: one unsorted page with everything.
        let pages = pages_of(&hashes, 10);
        assert_eq!(pages.len(), 1);
        assert_eq!(pages[0].len(), hashes.len());
        // All equal: returned together whatever the count.
        assert_eq!(pages_of(&[4; 6], 1), [vec![4; 6]]);
        // Nothing at or past the position.
        assert_eq!(pages_of(&[], 3), [Vec::<u64>::new()]);
    }

    #[test]
    fn segment_scan_pages_cover_the_segment_in_hash_order() {
        let mut t = SegTable::new();
        for i in 0..200 {
            let k = key(i);
            t.insert(hash_key(&k), Entry::new(&k, Value::string(b"v"), 0), None)
                .unwrap();
        }
        assert_eq!(t.segment_count(), 1);
        let seg = t.segment_at(0);
        let mut all = Vec::new();
        let mut from = 0;
        let mut pages = 0;
        loop {
            let mut page = Vec::new();
            let stop = seg.scan(from, 7, |e| {
                page.push(hash_key(e.key.as_slice()));
                page.len() >= 7
            });
            pages += 1;
            assert!(page.iter().all(|&h| h >= from), "nothing before the cursor");
            all.extend(page);
            match stop {
                Some(h) => {
                    assert!(all.iter().all(|&x| x <= h), "nothing past the stop");
                    from = h + 1;
                }
                None => break,
            }
        }
        assert_eq!(pages, 200usize.div_ceil(7));
        // The last page (room for all that is left) comes unsorted.
        all.sort_unstable();
        let mut want: Vec<u64> = (0..200).map(|i| hash_key(&key(i))).collect();
        want.sort_unstable();
        assert_eq!(all, want, "every entry once");
    }

    #[test]
    fn heap_accounting() {
        let mut t = SegTable::new();
        let long = vec![b'x'; 100];
        let h = hash_key(&long);
        t.insert(h, Entry::new(&long, Value::string(&long), 0), None)
            .unwrap();
        assert_eq!(t.heap, 200);
        let loc = t.find(h, &long).unwrap();
        t.remove(loc, h);
        assert_eq!(t.heap, 0);
    }
}
