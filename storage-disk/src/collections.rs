//! Element-level collection operations over versioned sub-keys: what
//! [`Txn::with_list`](ferrokv_core::storage::Txn::with_list) and friends hand to a
//! command. Every operation reads and writes single records (or walks a range) through
//! the scope's overlay, so a command sees its own writes; the element count and list
//! bounds live in the metadata record, which the scope rewrites once at the end.
//!
//! A store read that fails is latched: later operations do nothing, and the
//! enclosing `with_*` returns the error and voids the scope's writes.
//!
//! Costs (n = elements, m = elements visited or returned):
//!
//! * lists: push, pop, index, set: O(1) point operations (elements sit at
//!   contiguous sequence numbers `head..tail`); ranges O(m) from a seek; insert and
//!   removal in the middle rewrite the shorter side (O(n), as Redis); trim deletes
//!   the cut ends (a range delete beyond [`POINT_DELETES`] elements).
//! * hashes and sets: get/set/contains/insert/remove O(1) point operations; whole
//!   iteration O(n); scan pages O(count); random O(1) seeks (O(n) below
//!   [`RANDOM_EXACT`] elements, where it is exact).
//! * sorted sets: score, insert, remove O(1) point operations (member record plus
//!   score index record); score ranges and counts O(m) from one seek; lex ranges
//!   and counts O(m) from one seek when all scores are equal (the case Redis
//!   defines), O(n) otherwise; rank and rank ranges walk the score index from the
//!   nearer end, O(min(rank, n - rank)); scan pages O(count).

use bytes::Bytes;
use ferrokv_core::storage::{
    EncodingLimits, End, HashOps, LexBound, LexRange, ListOps, ScoreRange, SetOps, StorageError,
    UnixMillis, ZSetOps,
};

use crate::encoding::{
    decode_field_value, decode_hashed_suffix, decode_zmember_value, decode_zscore,
    encode_field_value, field_expiry_key, hashed_suffix, is_redis_int, prefix_end, score_to_bits,
    subkey_prefix, zmember_suffix, zmember_value, zscore_suffix, zscore_value, MetaRecord, PhysDb,
    FLAG_BIG, MARK_MAX, ZSET_MEMBER, ZSET_SCORE,
};
use crate::store::{Keyspace, OrderedStore};
use crate::txn::KvTxn;

/// Collections up to this size pick random elements exactly (a walk to the
/// `seed % len`-th element); bigger ones seek to a hash position derived from the
/// seed, which favours elements after wide gaps in hash order.
pub const RANDOM_EXACT: u64 = 128;

/// Random picks walk exactly (see [`RANDOM_EXACT`]) only while the incarnation
/// had at most this many point deletes (tombstones the walk may step over).
pub const EXACT_MAX_REMOVED: u64 = 4 * RANDOM_EXACT;

/// A set or hash left with at most this many elements by a removal, after more
/// than [`EXACT_MAX_REMOVED`] and four times its size in removals, is copied to a
/// fresh incarnation, leaving the tombstones behind (see [`Coll::reincarnate`]).
///
/// Random picks make tombstones cluster: the member after a dead run is the
/// likeliest pick, so `SPOP` in a loop grows runs that later picks walk through
/// (about 60 tombstones per pop while emptying 86,000 members, against 3 for
/// uniform pops). Copying up to this many members once the set is four-fifths
/// dead bounds that to about 9, for a quarter more writes in all; the copy is
/// one command's work (tens of milliseconds at this size).
pub const REINCARNATE_MAX: u64 = 1 << 16;

/// Up to this many elements cut from a list are deleted one by one; more become one
/// range delete (which RocksDB keeps as a tombstone until compaction).
pub const POINT_DELETES: u64 = 32;

/// Records a collection view remembers (see `Coll::known`).
const KNOWN_MAX: usize = 16;

/// A `SCAN`-family page examines at most this many times `COUNT` records.
const SCAN_VISIT_FACTOR: usize = 10;

/// One incarnation of a collection inside a scope.
pub(crate) struct Coll<'t, 'a, S: OrderedStore> {
    txn: &'t mut KvTxn<'a, S>,
    db: PhysDb,
    key: &'t [u8],
    /// `db | hash | key length | key | version`.
    prefix: Vec<u8>,
    /// End of the incarnation's sub-key range.
    end: Vec<u8>,
    /// The metadata as the operations left it.
    pub(crate) rec: MetaRecord,
    limits: EncodingLimits,
    /// The first failed store read.
    pub(crate) err: Option<StorageError>,
    /// Whether an operation asked for a change (lazy removal of expired fields
    /// does not count).
    pub(crate) wrote: bool,
    /// The sorted set index marks as read: a scope that changes nothing else does
    /// not write the metadata just to move them.
    marks: (Bytes, Bytes),
    /// The version the metadata had when the view was opened.
    first_version: u64,
    /// Records this view read, wrote or met in a walk lately (suffix, value): a
    /// command that reads a record twice (ZADD looks the score up, then inserts)
    /// or removes what a walk just found (SPOP, ZPOPMIN) asks the store once.
    /// At most [`KNOWN_MAX`], oldest dropped first.
    known: Vec<(Vec<u8>, Option<Bytes>)>,
}

impl<'t, 'a, S: OrderedStore> Coll<'t, 'a, S> {
    pub(crate) fn new(
        txn: &'t mut KvTxn<'a, S>,
        db: PhysDb,
        key: &'t [u8],
        rec: MetaRecord,
    ) -> Self {
        let prefix = subkey_prefix(db, key, rec.version);
        // A prefix starts with a database id below u16::MAX, so it has a successor.
        let end = prefix_end(&prefix).unwrap_or_else(|| vec![0xFF; prefix.len() + 1]);
        let limits = txn.backend().limits();
        let marks = (rec.low.clone(), rec.high.clone());
        let first_version = rec.version;
        Coll {
            txn,
            db,
            key,
            prefix,
            end,
            rec,
            limits,
            err: None,
            wrote: false,
            marks,
            first_version,
            known: Vec::new(),
        }
    }

    /// The metadata, the latched error and whether anything was asked to change.
    pub(crate) fn finish(mut self) -> (MetaRecord, Option<StorageError>, bool) {
        if !self.wrote {
            (self.rec.low, self.rec.high) = self.marks;
        }
        (self.rec, self.err, self.wrote)
    }

    pub(crate) fn failed(&self) -> bool {
        self.err.is_some()
    }

    pub(crate) fn fail(&mut self, e: StorageError) {
        self.err.get_or_insert(e);
    }

    pub(crate) fn corrupt(&mut self, what: &str) {
        self.fail(StorageError::Io(format!(
            "corrupt collection record: {what}"
        )));
    }

    fn sk(&self, suffix: &[u8]) -> Vec<u8> {
        let mut k = Vec::with_capacity(self.prefix.len() + suffix.len());
        k.extend_from_slice(&self.prefix);
        k.extend_from_slice(suffix);
        k
    }

    pub(crate) fn read(&mut self, suffix: &[u8]) -> Option<Bytes> {
        if self.failed() {
            return None;
        }
        if let Some((_, v)) = self.known.iter().find(|(k, _)| k == suffix) {
            return v.clone();
        }
        let k = self.sk(suffix);
        match self.txn.get_raw(Keyspace::SubKey, &k) {
            Ok(v) => {
                self.remember(suffix, v.clone());
                v
            }
            Err(e) => {
                self.fail(e);
                None
            }
        }
    }

    /// Notes what the record at `suffix` holds now (as this view sees it).
    fn remember(&mut self, suffix: &[u8], value: Option<Bytes>) {
        if let Some(slot) = self.known.iter_mut().find(|(k, _)| k == suffix) {
            slot.1 = value;
            return;
        }
        if self.known.len() >= KNOWN_MAX {
            self.known.remove(0);
        }
        self.known.push((suffix.to_vec(), value));
    }

    pub(crate) fn put(&mut self, suffix: &[u8], value: &[u8]) {
        let k = self.sk(suffix);
        let value = Bytes::copy_from_slice(value);
        self.txn.put_raw(Keyspace::SubKey, k, Some(value.clone()));
        self.remember(suffix, Some(value));
    }

    pub(crate) fn del(&mut self, suffix: &[u8]) {
        let k = self.sk(suffix);
        self.txn.put_raw(Keyspace::SubKey, k, None);
        self.remember(suffix, None);
    }

    pub(crate) fn del_range(&mut self, from: &[u8], to: &[u8]) {
        let (start, end) = (self.sk(from), self.sk(to));
        self.txn.delete_range(Keyspace::SubKey, start, end);
        self.known.clear();
    }

    /// Visits the records with suffixes in `from..to` (to the end of the
    /// incarnation when `to` is `None`), descending when `rev`, passing suffix and
    /// value, until `f` returns false.
    pub(crate) fn walk(
        &mut self,
        from: &[u8],
        to: Option<&[u8]>,
        rev: bool,
        f: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) {
        if self.failed() {
            return;
        }
        let start = self.sk(from);
        let end = match to {
            Some(to) => self.sk(to),
            None => self.end.clone(),
        };
        let plen = self.prefix.len();
        let r = self
            .txn
            .visit_dir(Keyspace::SubKey, &start, &end, rev, &mut |k, v| {
                f(&k[plen..], v)
            });
        if let Err(e) = r {
            self.fail(e);
        }
    }

    /// Bytes of a record with a suffix and value of these lengths.
    pub(crate) fn size(&self, suffix_len: usize, value_len: usize) -> u64 {
        (self.prefix.len() + suffix_len + value_len) as u64
    }

    pub(crate) fn grow(&mut self, bytes: u64) {
        self.rec.bytes = self.rec.bytes.saturating_add(bytes);
    }

    pub(crate) fn shrink(&mut self, bytes: u64) {
        self.rec.bytes = self.rec.bytes.saturating_sub(bytes);
    }

    /// Counts a point delete of a set member or hash field.
    fn count_removal(&mut self) {
        self.rec.removed = self.rec.removed.saturating_add(1);
    }

    /// After a command's removal (not lazy expiry, which may run in a read-only
    /// command): moves a small, tombstone-rich collection to a fresh incarnation.
    fn compact_if_sparse(&mut self) {
        let (len, removed) = (self.rec.len, self.rec.removed);
        if len > 0 && len <= REINCARNATE_MAX && removed > EXACT_MAX_REMOVED.max(4 * len) {
            self.reincarnate();
        }
    }

    /// Whether random picks may walk the whole incarnation (few elements and few
    /// tombstones among them).
    fn exact_random(&self) -> bool {
        self.rec.len <= RANDOM_EXACT && self.rec.removed <= EXACT_MAX_REMOVED
    }

    /// Copies every record of the incarnation to a fresh one (new version), as
    /// `RENAME` does, so later walks no longer step over the tombstones of the
    /// removals so far (RocksDB keeps them until compaction; the old records are
    /// stale from now on and go the usual way). Hash fields with an expiry get
    /// index entries under the new version (the old entries are dropped when
    /// due). Bounded by [`REINCARNATE_MAX`] live elements and paid for by more
    /// than four removals per element kept: O(1) amortised per removal.
    fn reincarnate(&mut self) {
        if self.failed() {
            return;
        }
        let mut records = Vec::with_capacity(self.rec.len as usize);
        self.walk(&[], None, false, &mut |k, v| {
            records.push((k.to_vec(), Bytes::copy_from_slice(v)));
            true
        });
        if self.failed() {
            return;
        }
        let version = match self.txn.backend().new_version() {
            Ok(v) => v,
            Err(e) => return self.fail(e),
        };
        let old = self.rec.version;
        if old != self.first_version {
            // An incarnation made earlier in this view: only pending writes.
            self.txn.forget_incarnation(self.db, self.key, old);
        }
        self.rec.version = version;
        self.rec.removed = 0;
        self.known.clear();
        self.prefix = subkey_prefix(self.db, self.key, version);
        self.end = prefix_end(&self.prefix).unwrap_or_else(|| vec![0xFF; self.prefix.len() + 1]);
        let is_hash = self.rec.key_type == ferrokv_core::storage::KeyType::Hash;
        for (suffix, value) in records {
            if is_hash {
                let at = decode_field_value(&value).and_then(|(at, _)| at);
                if let (Some(at), Some((_, field))) = (at, decode_hashed_suffix(&suffix)) {
                    let entry = field_expiry_key(self.db, at, self.key, version, field);
                    self.txn
                        .put_raw(Keyspace::Expiry, entry, Some(Bytes::new()));
                }
            }
            let k = self.sk(&suffix);
            self.txn.put_raw(Keyspace::SubKey, k, Some(value));
        }
    }

    fn mark_big_if(&mut self, big: bool) {
        if big {
            self.rec.flags |= FLAG_BIG;
        }
    }
}

// ---------------------------------------------------------------------------------
// Lists: `prefix | seq (u64 BE)` -> element, seqs contiguous in `head..tail`.

/// [`ListOps`] over a [`Coll`].
pub(crate) struct ListView<'c, 't, 'a, S: OrderedStore>(pub(crate) &'c mut Coll<'t, 'a, S>);

fn seq_key(seq: u64) -> [u8; 8] {
    seq.to_be_bytes()
}

fn seq_of(suffix: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(suffix.try_into().ok()?))
}

impl<S: OrderedStore> ListView<'_, '_, '_, S> {
    fn len64(&self) -> u64 {
        self.0.rec.len
    }

    /// Elements at sequence numbers `from..to`, ascending.
    fn collect(&mut self, from: u64, to: u64) -> Vec<(u64, Bytes)> {
        let mut out = Vec::with_capacity(to.saturating_sub(from).min(1024) as usize);
        self.0
            .walk(&seq_key(from), Some(&seq_key(to)), false, &mut |k, v| {
                if let Some(seq) = seq_of(k) {
                    out.push((seq, Bytes::copy_from_slice(v)));
                }
                true
            });
        out
    }

    /// Deletes the elements at `from..to`.
    fn delete_seqs(&mut self, from: u64, to: u64) {
        if to <= from {
            return;
        }
        if to - from <= POINT_DELETES {
            for seq in from..to {
                self.0.del(&seq_key(seq));
            }
        } else {
            self.0.del_range(&seq_key(from), &seq_key(to));
        }
    }

    fn set_len(&mut self) {
        self.0.rec.len = self.0.rec.tail - self.0.rec.head;
    }
}

impl<S: OrderedStore> ListOps for ListView<'_, '_, '_, S> {
    fn len(&mut self) -> usize {
        self.len64() as usize
    }

    fn push(&mut self, end: End, value: &[u8]) {
        if self.0.failed() {
            return;
        }
        self.0.wrote = true;
        let seq = match end {
            End::Head => {
                self.0.rec.head -= 1;
                self.0.rec.head
            }
            End::Tail => {
                self.0.rec.tail += 1;
                self.0.rec.tail - 1
            }
        };
        self.0.put(&seq_key(seq), value);
        self.0.grow(self.0.size(8, value.len()));
        self.set_len();
    }

    fn pop(&mut self, end: End) -> Option<Bytes> {
        if self.len64() == 0 || self.0.failed() {
            return None;
        }
        let seq = match end {
            End::Head => self.0.rec.head,
            End::Tail => self.0.rec.tail - 1,
        };
        let value = self.0.read(&seq_key(seq));
        if value.is_none() {
            if !self.0.failed() {
                self.0.corrupt("list element missing");
            }
            return None;
        }
        self.0.wrote = true;
        self.0.del(&seq_key(seq));
        self.0
            .shrink(self.0.size(8, value.as_ref().map_or(0, |v| v.len())));
        match end {
            End::Head => self.0.rec.head += 1,
            End::Tail => self.0.rec.tail -= 1,
        }
        self.set_len();
        value
    }

    fn get(&mut self, index: usize) -> Option<Bytes> {
        if index as u64 >= self.len64() {
            return None;
        }
        let seq = self.0.rec.head + index as u64;
        self.0.read(&seq_key(seq))
    }

    fn set(&mut self, index: usize, value: &[u8]) -> bool {
        if index as u64 >= self.len64() {
            return false;
        }
        let seq = self.0.rec.head + index as u64;
        // Read for the byte count only.
        let old = self.0.read(&seq_key(seq));
        if self.0.failed() {
            return false;
        }
        self.0.wrote = true;
        self.0.put(&seq_key(seq), value);
        self.0.shrink(self.0.size(8, old.map_or(0, |v| v.len())));
        self.0.grow(self.0.size(8, value.len()));
        true
    }

    fn iter(&mut self, start: usize, rev: bool, visit: &mut dyn FnMut(usize, &[u8]) -> bool) {
        let len = self.len64();
        let head = self.0.rec.head;
        if len == 0 {
            return;
        }
        let (from, to) = if rev {
            let last = (start as u64).min(len - 1);
            (head, head + last + 1)
        } else {
            if start as u64 >= len {
                return;
            }
            (head + start as u64, self.0.rec.tail)
        };
        self.0.walk(
            &seq_key(from),
            Some(&seq_key(to)),
            rev,
            &mut |k, v| match seq_of(k) {
                Some(seq) => visit((seq - head) as usize, v),
                None => true,
            },
        );
    }

    fn insert(&mut self, index: usize, value: &[u8]) {
        let len = self.len64();
        let index = (index as u64).min(len);
        if index == len {
            return self.push(End::Tail, value);
        }
        if index == 0 {
            return self.push(End::Head, value);
        }
        if self.0.failed() {
            return;
        }
        self.0.wrote = true;
        let head = self.0.rec.head;
        if index < len - index {
            // Shift the elements before it one place towards the head.
            for (seq, v) in self.collect(head, head + index) {
                self.0.put(&seq_key(seq - 1), &v);
            }
            self.0.put(&seq_key(head + index - 1), value);
            self.0.rec.head -= 1;
        } else {
            // Shift the elements from it on one place towards the tail.
            let tail = self.0.rec.tail;
            for (seq, v) in self.collect(head + index, tail) {
                self.0.put(&seq_key(seq + 1), &v);
            }
            self.0.put(&seq_key(head + index), value);
            self.0.rec.tail += 1;
        }
        self.0.grow(self.0.size(8, value.len()));
        self.set_len();
    }

    fn remove(&mut self, indexes: &[usize]) {
        let len = self.len64();
        let mut doomed: Vec<u64> = indexes
            .iter()
            .map(|&i| i as u64)
            .filter(|&i| i < len)
            .collect();
        doomed.sort_unstable();
        doomed.dedup();
        let (Some(&first), Some(&last)) = (doomed.first(), doomed.last()) else {
            return;
        };
        if self.0.failed() {
            return;
        }
        self.0.wrote = true;
        let k = doomed.len() as u64;
        let head = self.0.rec.head;
        let tail = self.0.rec.tail;
        if len - first <= last + 1 {
            // Close the gaps by moving the elements after the first one towards
            // the head, then drop the last k places.
            let mut at = head + first;
            let mut d = doomed.iter().peekable();
            for (seq, v) in self.collect(head + first, tail) {
                if d.next_if(|&&i| head + i == seq).is_some() {
                    self.0.shrink(self.0.size(8, v.len()));
                    continue;
                }
                if seq != at {
                    self.0.put(&seq_key(at), &v);
                }
                at += 1;
            }
            self.delete_seqs(tail - k, tail);
            self.0.rec.tail -= k;
        } else {
            // Mirror image: move the elements before the last one towards the tail.
            let mut at = head + last;
            let mut d = doomed.iter().rev().peekable();
            let kept = self.collect(head, head + last + 1);
            for (seq, v) in kept.into_iter().rev() {
                if d.next_if(|&&i| head + i == seq).is_some() {
                    self.0.shrink(self.0.size(8, v.len()));
                    continue;
                }
                if seq != at {
                    self.0.put(&seq_key(at), &v);
                }
                at = at.wrapping_sub(1);
            }
            self.delete_seqs(head, head + k);
            self.0.rec.head += k;
        }
        self.set_len();
    }

    fn trim(&mut self, start: usize, end: usize) {
        let len = self.len64();
        let end = (end as u64).min(len);
        let start = (start as u64).min(end);
        if start == 0 && end == len {
            return;
        }
        if self.0.failed() {
            return;
        }
        self.0.wrote = true;
        let head = self.0.rec.head;
        let tail = self.0.rec.tail;
        // The cut elements are not read: count them at the average size.
        let cut = len - (end - start);
        let share = (u128::from(self.0.rec.bytes) * u128::from(cut) / u128::from(len)) as u64;
        self.0.shrink(share);
        if start == end {
            // Everything goes: if the list stays empty the key is deleted with its
            // incarnation (O(1)) and this range delete is forgotten.
            self.0.del_range(&seq_key(head), &seq_key(tail));
            self.0.rec.tail = head;
        } else {
            self.delete_seqs(head, head + start);
            self.delete_seqs(head + end, tail);
            self.0.rec.head = head + start;
            self.0.rec.tail = head + end;
        }
        self.set_len();
    }
}

// ---------------------------------------------------------------------------------
// Hashes: `prefix | elem_hash (u32) | field` -> `[expiry] value`.

/// [`HashOps`] over a [`Coll`].
pub(crate) struct HashView<'c, 't, 'a, S: OrderedStore>(pub(crate) &'c mut Coll<'t, 'a, S>);

/// A field met while walking: suffix and value.
type Field = (Vec<u8>, Bytes);

impl<S: OrderedStore> HashView<'_, '_, '_, S> {
    fn now(&self) -> UnixMillis {
        self.0.txn.now()
    }

    fn index_entry(&self, at: UnixMillis, field: &[u8]) -> Vec<u8> {
        field_expiry_key(self.0.db, at, self.0.key, self.0.rec.version, field)
    }

    /// Bytes of a field record.
    fn field_size(&self, suffix_len: usize, at: Option<UnixMillis>, value_len: usize) -> u64 {
        self.0
            .size(suffix_len, 1 + if at.is_some() { 8 } else { 0 } + value_len)
    }

    /// Removes a field record and its expiry index entry.
    fn drop_field(&mut self, suffix: &[u8], at: Option<UnixMillis>, value_len: usize) {
        self.0.shrink(self.field_size(suffix.len(), at, value_len));
        if let (Some(at), Some((_, field))) = (at, decode_hashed_suffix(suffix)) {
            let entry = self.index_entry(at, field);
            self.0.txn.put_raw(Keyspace::Expiry, entry, None);
        }
        self.0.del(suffix);
        self.0.rec.len = self.0.rec.len.saturating_sub(1);
        self.0.count_removal();
    }

    /// The field's expiry and value if it exists and has not expired; an expired
    /// field is removed on the way (lazy expiry).
    fn live_field(&mut self, suffix: &[u8]) -> Option<(Option<UnixMillis>, Bytes)> {
        let raw = self.0.read(suffix)?;
        let Some((at, value)) = decode_field_value(&raw) else {
            self.0.corrupt("hash field");
            return None;
        };
        if at.is_some_and(|t| t <= self.now()) {
            self.drop_field(suffix, at, value.len());
            return None;
        }
        let start = raw.len() - value.len();
        Some((at, raw.slice(start..)))
    }

    /// Walks fields from suffix `from` (to `to`), passing live ones to `f` until it
    /// returns false; removes the expired ones met.
    fn walk_live(
        &mut self,
        from: &[u8],
        to: Option<&[u8]>,
        f: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) {
        let now = self.now();
        let mut expired: Vec<(Vec<u8>, Option<UnixMillis>, usize)> = Vec::new();
        let mut corrupt = false;
        self.0.walk(from, to, false, &mut |k, v| {
            let Some((at, value)) = decode_field_value(v) else {
                corrupt = true;
                return false;
            };
            if at.is_some_and(|t| t <= now) {
                expired.push((k.to_vec(), at, value.len()));
                return true;
            }
            f(k, value)
        });
        if corrupt {
            self.0.corrupt("hash field");
        }
        for (suffix, at, value_len) in expired {
            self.drop_field(&suffix, at, value_len);
        }
    }

    /// The first live field at or after suffix `from`, wrapping around.
    fn first_from(&mut self, from: &[u8]) -> Option<Field> {
        for (from, to) in [(from, None), (&[][..], Some(from))] {
            let mut found = None;
            self.walk_live(from, to, &mut |k, v| {
                found = Some((k.to_vec(), Bytes::copy_from_slice(v)));
                false
            });
            if found.is_some() {
                return found;
            }
        }
        None
    }
}

impl<S: OrderedStore> HashOps for HashView<'_, '_, '_, S> {
    fn len(&mut self) -> usize {
        self.0.rec.len as usize
    }

    fn get(&mut self, field: &[u8]) -> Option<Bytes> {
        self.live_field(&hashed_suffix(field)).map(|(_, v)| v)
    }

    fn set(&mut self, field: &[u8], value: &[u8]) -> bool {
        let suffix = hashed_suffix(field);
        let old = self.live_field(&suffix);
        if self.0.failed() {
            return false;
        }
        self.0.wrote = true;
        if let Some((at, v)) = &old {
            if let Some(at) = at {
                let entry = self.index_entry(*at, field);
                self.0.txn.put_raw(Keyspace::Expiry, entry, None);
            }
            self.0.shrink(self.field_size(suffix.len(), *at, v.len()));
        }
        self.0.put(&suffix, &encode_field_value(value, None));
        self.0
            .grow(self.field_size(suffix.len(), None, value.len()));
        if old.is_none() {
            self.0.rec.len += 1;
        }
        let l = self.0.limits;
        self.0.mark_big_if(
            self.0.rec.len > l.hash_max_listpack_entries as u64
                || field.len() > l.hash_max_listpack_value
                || value.len() > l.hash_max_listpack_value,
        );
        old.is_none()
    }

    fn remove(&mut self, field: &[u8]) -> bool {
        let suffix = hashed_suffix(field);
        match self.live_field(&suffix) {
            Some((at, v)) if !self.0.failed() => {
                self.0.wrote = true;
                self.drop_field(&suffix, at, v.len());
                self.0.compact_if_sparse();
                true
            }
            _ => false,
        }
    }

    fn for_each(&mut self, visit: &mut dyn FnMut(&[u8], &[u8]) -> bool) {
        self.walk_live(&[], None, &mut |k, v| match decode_hashed_suffix(k) {
            Some((_, field)) => visit(field, v),
            None => true,
        });
    }

    fn random(&mut self, seed: u64) -> Option<(Bytes, Bytes)> {
        let picked = if self.0.exact_random() {
            let mut all = Vec::new();
            self.walk_live(&[], None, &mut |k, v| {
                all.push((k.to_vec(), Bytes::copy_from_slice(v)));
                true
            });
            if all.is_empty() {
                return None;
            }
            let i = (seed % all.len() as u64) as usize;
            Some(all.swap_remove(i))
        } else {
            self.first_from(&((seed >> 32) as u32).to_be_bytes())
        };
        let (suffix, value) = picked?;
        let (_, field) = decode_hashed_suffix(&suffix)?;
        Some((Bytes::copy_from_slice(field), value))
    }

    fn scan(&mut self, cursor: u64, count: usize, visit: &mut dyn FnMut(&[u8], &[u8])) -> u64 {
        let Ok(from) = u32::try_from(cursor) else {
            return 0;
        };
        let want = count.max(1);
        let max_seen = want.saturating_mul(SCAN_VISIT_FACTOR);
        let mut state = ScanState::new(want, max_seen);
        self.walk_live(&from.to_be_bytes(), None, &mut |k, v| {
            let Some((hash, field)) = decode_hashed_suffix(k) else {
                return true;
            };
            if !state.admit(u64::from(hash)) {
                return false;
            }
            visit(field, v);
            state.visited += 1;
            true
        });
        state.next_cursor(u64::from(u32::MAX))
    }

    fn field_expire(&mut self, field: &[u8]) -> Option<Option<UnixMillis>> {
        self.live_field(&hashed_suffix(field)).map(|(at, _)| at)
    }

    fn set_field_expire(&mut self, field: &[u8], at: Option<UnixMillis>) -> bool {
        let suffix = hashed_suffix(field);
        let Some((old_at, value)) = self.live_field(&suffix) else {
            return false;
        };
        if self.0.failed() {
            return false;
        }
        if old_at == at {
            return true;
        }
        self.0.wrote = true;
        if let Some(old_at) = old_at {
            let entry = self.index_entry(old_at, field);
            self.0.txn.put_raw(Keyspace::Expiry, entry, None);
        }
        if let Some(at) = at {
            let entry = self.index_entry(at, field);
            self.0
                .txn
                .put_raw(Keyspace::Expiry, entry, Some(Bytes::new()));
        }
        self.0.put(&suffix, &encode_field_value(&value, at));
        self.0
            .shrink(self.field_size(suffix.len(), old_at, value.len()));
        self.0.grow(self.field_size(suffix.len(), at, value.len()));
        true
    }
}

/// Paging of a `SCAN`-family walk over groups of records sharing a position
/// (an element hash, a score): a page takes at least `want` elements (or examines
/// `max_seen` groups' records), then finishes the group it is in, so the next
/// cursor (the group after the last one) never skips an element.
struct ScanState {
    want: usize,
    max_seen: usize,
    seen: usize,
    visited: usize,
    last: Option<u64>,
    /// The walk stopped before the end.
    stopped: bool,
}

impl ScanState {
    fn new(want: usize, max_seen: usize) -> Self {
        ScanState {
            want,
            max_seen,
            seen: 0,
            visited: 0,
            last: None,
            stopped: false,
        }
    }

    /// Whether a record of group `group` belongs to this page.
    fn admit(&mut self, group: u64) -> bool {
        if let Some(last) = self.last {
            if group != last && (self.visited >= self.want || self.seen >= self.max_seen) {
                self.stopped = true;
                return false;
            }
        }
        self.last = Some(group);
        self.seen += 1;
        true
    }

    /// The cursor to return: 0 when the walk reached the end or no group follows
    /// `max_group`.
    fn next_cursor(&self, max_group: u64) -> u64 {
        match self.last {
            Some(last) if self.stopped && last < max_group => last + 1,
            _ => 0,
        }
    }
}

// ---------------------------------------------------------------------------------
// Sets: `prefix | elem_hash (u32) | member` -> empty.

/// [`SetOps`] over a [`Coll`].
pub(crate) struct SetView<'c, 't, 'a, S: OrderedStore>(pub(crate) &'c mut Coll<'t, 'a, S>);

impl<S: OrderedStore> SetView<'_, '_, '_, S> {
    /// The first member at or after suffix `from`, wrapping around.
    fn first_from(&mut self, from: &[u8]) -> Option<Vec<u8>> {
        for (from, to) in [(from, None), (&[][..], Some(from))] {
            let mut found = None;
            self.0.walk(from, to, false, &mut |k, _| {
                found = Some(k.to_vec());
                false
            });
            if found.is_some() {
                return found;
            }
        }
        None
    }
}

impl<S: OrderedStore> SetOps for SetView<'_, '_, '_, S> {
    fn len(&mut self) -> usize {
        self.0.rec.len as usize
    }

    fn contains(&mut self, member: &[u8]) -> bool {
        self.0.read(&hashed_suffix(member)).is_some()
    }

    fn insert(&mut self, member: &[u8]) -> bool {
        let suffix = hashed_suffix(member);
        if self.0.read(&suffix).is_some() || self.0.failed() {
            return false;
        }
        self.0.wrote = true;
        self.0.put(&suffix, &[]);
        self.0.grow(self.0.size(suffix.len(), 0));
        self.0.rec.len += 1;
        let l = self.0.limits;
        self.0
            .mark_big_if(self.0.rec.len > l.set_max_intset_entries as u64 || !is_redis_int(member));
        true
    }

    fn remove(&mut self, member: &[u8]) -> bool {
        let suffix = hashed_suffix(member);
        if self.0.read(&suffix).is_none() || self.0.failed() {
            return false;
        }
        self.0.wrote = true;
        self.0.del(&suffix);
        self.0.shrink(self.0.size(suffix.len(), 0));
        self.0.rec.len -= 1;
        self.0.count_removal();
        self.0.compact_if_sparse();
        true
    }

    fn for_each(&mut self, visit: &mut dyn FnMut(&[u8]) -> bool) {
        self.0.walk(
            &[],
            None,
            false,
            &mut |k, _| match decode_hashed_suffix(k) {
                Some((_, m)) => visit(m),
                None => true,
            },
        );
    }

    fn random(&mut self, seed: u64) -> Option<Bytes> {
        let n = self.0.rec.len;
        if n == 0 {
            return None;
        }
        let suffix = if self.0.exact_random() {
            let mut skip = seed % n;
            let mut found = None;
            self.0.walk(&[], None, false, &mut |k, _| {
                if skip == 0 {
                    found = Some(k.to_vec());
                    return false;
                }
                skip -= 1;
                true
            });
            found
        } else {
            self.first_from(&((seed >> 32) as u32).to_be_bytes())
        }?;
        // SPOP removes it next.
        self.0.remember(&suffix, Some(Bytes::new()));
        decode_hashed_suffix(&suffix).map(|(_, m)| Bytes::copy_from_slice(m))
    }

    fn scan(&mut self, cursor: u64, count: usize, visit: &mut dyn FnMut(&[u8])) -> u64 {
        let Ok(from) = u32::try_from(cursor) else {
            return 0;
        };
        let want = count.max(1);
        let mut state = ScanState::new(want, want.saturating_mul(SCAN_VISIT_FACTOR));
        self.0.walk(&from.to_be_bytes(), None, false, &mut |k, _| {
            let Some((hash, member)) = decode_hashed_suffix(k) else {
                return true;
            };
            if !state.admit(u64::from(hash)) {
                return false;
            }
            visit(member);
            state.visited += 1;
            true
        });
        state.next_cursor(u64::from(u32::MAX))
    }
}

// ---------------------------------------------------------------------------------
// Sorted sets: `prefix | 0 | member` -> score bits, and
// `prefix | 1 | order-preserving score | member` -> empty (or the -0.0 marker).

/// [`ZSetOps`] over a [`Coll`].
pub(crate) struct ZSetView<'c, 't, 'a, S: OrderedStore>(pub(crate) &'c mut Coll<'t, 'a, S>);

const INDEX_START: &[u8] = &[ZSET_SCORE];
const INDEX_END: &[u8] = &[ZSET_SCORE + 1];

fn index_position(bits: u64) -> Vec<u8> {
    let mut b = vec![ZSET_SCORE];
    b.extend_from_slice(&bits.to_be_bytes());
    b
}

/// A low mark at or below index suffix `k` (cut to [`MARK_MAX`] bytes).
fn low_mark(k: &[u8]) -> Bytes {
    Bytes::copy_from_slice(&k[..k.len().min(MARK_MAX)])
}

/// A high mark above index suffix `k`: its successor, or past every suffix
/// starting with its first [`MARK_MAX`] bytes; empty (unknown) if there is none.
fn high_mark(k: &[u8]) -> Bytes {
    if k.len() < MARK_MAX {
        let mut b = Vec::with_capacity(k.len() + 1);
        b.extend_from_slice(k);
        b.push(0);
        return Bytes::from(b);
    }
    prefix_end(&k[..MARK_MAX]).map_or_else(Bytes::new, Bytes::from)
}

/// A high mark at or above bound `b` (no record at or above `b` is live).
fn high_bound(b: &[u8]) -> Bytes {
    if b.len() <= MARK_MAX {
        return Bytes::copy_from_slice(b);
    }
    prefix_end(&b[..MARK_MAX]).map_or_else(Bytes::new, Bytes::from)
}

impl<S: OrderedStore> ZSetView<'_, '_, '_, S> {
    /// Walks the score index records with suffixes in `from..to` (descending when
    /// `rev`), passing suffix and value, until `f` returns false. The walk is
    /// clamped to the index marks (nothing live lies outside them); one that
    /// starts at a mark moves it to the first record it meets, or past the range
    /// if it meets none, so later walks skip the tombstones it stepped over (a
    /// queue of pops from either end costs O(1) each, not O(pops so far)).
    fn index_walk(
        &mut self,
        from: &[u8],
        to: &[u8],
        rev: bool,
        f: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) {
        let low = self.0.rec.low.clone();
        let high = self.0.rec.high.clone();
        let low = if low.is_empty() {
            INDEX_START
        } else {
            &low[..]
        };
        let high = if high.is_empty() {
            INDEX_END
        } else {
            &high[..]
        };
        let from = from.max(low);
        let to = to.min(high);
        if from >= to {
            return;
        }
        // Whether the walk starts at the mark on its side.
        let at_mark = if rev { to == high } else { from == low };
        let mut first = None;
        let mut met = false;
        self.0.walk(from, Some(to), rev, &mut |k, v| {
            if at_mark && !met {
                met = true;
                first = Some(if rev { high_mark(k) } else { low_mark(k) });
            }
            f(k, v)
        });
        if !at_mark || self.0.failed() {
            return;
        }
        let mark = match first {
            Some(mark) => mark,
            // Nothing live in the range: its far end bounds the index.
            None if rev => high_bound(from),
            None => low_mark(to),
        };
        if rev {
            self.0.rec.high = mark;
        } else {
            self.0.rec.low = mark;
        }
    }

    /// Walks index entries from suffix `from` to `to`, passing score and member.
    fn walk_index(
        &mut self,
        from: &[u8],
        to: &[u8],
        rev: bool,
        f: &mut dyn FnMut(f64, &[u8]) -> bool,
    ) {
        let mut corrupt = false;
        // The first members met, whose member records a pop removes next.
        let mut met: Vec<(Vec<u8>, f64)> = Vec::new();
        self.index_walk(from, to, rev, &mut |k, v| match decode_zscore(k, v) {
            Some((score, member)) => {
                if met.len() < KNOWN_MAX {
                    met.push((member.to_vec(), score));
                }
                f(score, member)
            }
            None => {
                corrupt = true;
                false
            }
        });
        if corrupt {
            self.0.corrupt("sorted set index");
        }
        // An index record and its member record agree (both are written
        // together), so the member records are known without reading them.
        for (member, score) in met {
            let value = Bytes::copy_from_slice(&zmember_value(score));
            self.0.remember(&zmember_suffix(&member), Some(value));
        }
    }

    /// Scores of the first and last index entries.
    fn score_bounds(&mut self) -> Option<(f64, f64)> {
        let mut lo = None;
        let mut hi = None;
        self.walk_index(INDEX_START, INDEX_END, false, &mut |s, _| {
            lo = Some(s);
            false
        });
        self.walk_index(INDEX_START, INDEX_END, true, &mut |s, _| {
            hi = Some(s);
            false
        });
        Some((lo?, hi?))
    }

    /// Index suffix bounds `[from, to)` of a score range, or `None` if it is empty.
    fn score_span(range: &ScoreRange) -> Option<(Vec<u8>, Vec<u8>)> {
        let lo = score_to_bits(range.min.value).checked_add(u64::from(range.min.exclusive))?;
        let hi = score_to_bits(range.max.value).checked_add(u64::from(!range.max.exclusive))?;
        (lo < hi).then(|| (index_position(lo), index_position(hi)))
    }

    /// Visits the members in a lexicographic range, in (score, member) order. When
    /// every score is equal (the case Redis defines) the index is in member order
    /// and the range is one seek into it; otherwise the whole index is walked and
    /// filtered, O(n).
    fn walk_lex(&mut self, range: &LexRange, rev: bool, f: &mut dyn FnMut(&[u8], f64) -> bool) {
        let Some((lo, hi)) = self.score_bounds() else {
            return;
        };
        let bits = score_to_bits(lo);
        if bits != score_to_bits(hi) {
            self.walk_index(INDEX_START, INDEX_END, rev, &mut |s, m| {
                !range.contains(m) || f(m, s)
            });
            return;
        }
        let at = |m: &[u8], after: bool| {
            let mut b = index_position(bits);
            b.extend_from_slice(m);
            if after {
                b.push(0);
            }
            b
        };
        let from = match &range.min {
            LexBound::Min => index_position(bits),
            LexBound::Max => return,
            LexBound::Inclusive(m) => at(m, false),
            LexBound::Exclusive(m) => at(m, true),
        };
        let to = match &range.max {
            LexBound::Min => return,
            LexBound::Max => bits
                .checked_add(1)
                .map_or_else(|| INDEX_END.to_vec(), index_position),
            LexBound::Inclusive(m) => at(m, true),
            LexBound::Exclusive(m) => at(m, false),
        };
        if from < to {
            self.walk_index(&from, &to, rev, &mut |s, m| f(m, s));
        }
    }
}

impl<S: OrderedStore> ZSetOps for ZSetView<'_, '_, '_, S> {
    fn len(&mut self) -> usize {
        self.0.rec.len as usize
    }

    fn score(&mut self, member: &[u8]) -> Option<f64> {
        let raw = self.0.read(&zmember_suffix(member))?;
        let score = decode_zmember_value(&raw);
        if score.is_none() {
            self.0.corrupt("sorted set member");
        }
        score
    }

    fn insert(&mut self, member: &[u8], score: f64) -> Option<f64> {
        let old = self.score(member);
        // Redis converts to the big encoding before an insert that would pass the
        // limits; a listpack stores -0 as 0 (Redis 7.0's zzlInsertAt writes integral
        // scores as integers), the big encoding keeps it.
        let l = self.0.limits;
        let len_after = self.0.rec.len + u64::from(old.is_none());
        self.0.mark_big_if(
            len_after > l.zset_max_listpack_entries as u64
                || member.len() > l.zset_max_listpack_value,
        );
        let score = if score == 0.0 && self.0.rec.flags & FLAG_BIG == 0 {
            0.0
        } else {
            score
        };
        if self.0.failed() || old.is_some_and(|o| o.to_bits() == score.to_bits()) {
            return old;
        }
        self.0.wrote = true;
        let index_size = |s: f64| 9 + member.len() + zscore_value(s).len();
        if let Some(o) = old {
            self.0.del(&zscore_suffix(o, member));
            self.0.shrink(self.0.size(index_size(o), 0));
        } else {
            self.0.rec.len += 1;
            self.0.grow(self.0.size(5 + member.len(), 8));
        }
        let at = zscore_suffix(score, member);
        // Keep the marks outside every live index record.
        if !self.0.rec.low.is_empty() && at[..] < self.0.rec.low[..] {
            self.0.rec.low = low_mark(&at);
        }
        if !self.0.rec.high.is_empty() && at[..] >= self.0.rec.high[..] {
            self.0.rec.high = high_mark(&at);
        }
        self.0.put(&at, zscore_value(score));
        self.0.put(&zmember_suffix(member), &zmember_value(score));
        self.0.grow(self.0.size(index_size(score), 0));
        old
    }

    fn remove(&mut self, member: &[u8]) -> bool {
        let Some(old) = self.score(member) else {
            return false;
        };
        if self.0.failed() {
            return false;
        }
        self.0.wrote = true;
        self.0.del(&zscore_suffix(old, member));
        self.0.del(&zmember_suffix(member));
        let index = 9 + member.len() + zscore_value(old).len();
        self.0
            .shrink(self.0.size(index, 0) + self.0.size(5 + member.len(), 8));
        self.0.rec.len -= 1;
        true
    }

    fn rank(&mut self, member: &[u8], rev: bool) -> Option<usize> {
        let score = self.score(member)?;
        let len = self.0.rec.len as usize;
        let at = zscore_suffix(score, member);
        // Count from the end the score probably lies nearer to.
        let from_front = match self.score_bounds() {
            Some((lo, hi)) if hi > lo => {
                let f = (score - lo) / (hi - lo);
                if f.is_finite() {
                    f <= 0.5
                } else {
                    !rev
                }
            }
            _ => !rev,
        };
        let mut n = 0usize;
        let asc = if from_front {
            self.index_walk(INDEX_START, &at, false, &mut |_, _| {
                n += 1;
                true
            });
            n
        } else {
            let mut after = at.clone();
            after.push(0);
            self.index_walk(&after, INDEX_END, true, &mut |_, _| {
                n += 1;
                true
            });
            len.checked_sub(1 + n)?
        };
        if self.0.failed() {
            return None;
        }
        Some(if rev { len - 1 - asc } else { asc })
    }

    fn range_by_rank(
        &mut self,
        start: usize,
        rev: bool,
        visit: &mut dyn FnMut(&[u8], f64) -> bool,
    ) {
        let n = self.0.rec.len as usize;
        if start >= n {
            return;
        }
        let asc = if rev { n - 1 - start } else { start };
        // Reach the starting entry from the nearer end of the index.
        let from_back = asc > n - 1 - asc;
        let steps = if from_back { n - 1 - asc } else { asc };
        if from_back == rev {
            // The walk that finds it goes on in the visiting direction.
            let mut skip = steps;
            self.walk_index(INDEX_START, INDEX_END, rev, &mut |s, m| {
                if skip > 0 {
                    skip -= 1;
                    return true;
                }
                visit(m, s)
            });
            return;
        }
        let mut skip = steps;
        let mut found = None;
        self.index_walk(INDEX_START, INDEX_END, from_back, &mut |k, _| {
            if skip > 0 {
                skip -= 1;
                return true;
            }
            found = Some(k.to_vec());
            false
        });
        let Some(at) = found else {
            return;
        };
        if rev {
            let mut to = at;
            to.push(0);
            self.walk_index(INDEX_START, &to, true, &mut |s, m| visit(m, s));
        } else {
            self.walk_index(&at, INDEX_END, false, &mut |s, m| visit(m, s));
        }
    }

    fn range_by_score(
        &mut self,
        range: &ScoreRange,
        rev: bool,
        visit: &mut dyn FnMut(&[u8], f64) -> bool,
    ) {
        let Some((from, to)) = Self::score_span(range) else {
            return;
        };
        self.walk_index(&from, &to, rev, &mut |s, m| {
            !range.contains(s) || visit(m, s)
        });
    }

    fn range_by_lex(
        &mut self,
        range: &LexRange,
        rev: bool,
        visit: &mut dyn FnMut(&[u8], f64) -> bool,
    ) {
        self.walk_lex(range, rev, visit);
    }

    fn count_by_score(&mut self, range: &ScoreRange) -> usize {
        let Some((from, to)) = Self::score_span(range) else {
            return 0;
        };
        let mut n = 0;
        self.walk_index(&from, &to, false, &mut |s, _| {
            n += usize::from(range.contains(s));
            true
        });
        n
    }

    fn count_by_lex(&mut self, range: &LexRange) -> usize {
        let mut n = 0;
        self.walk_lex(range, false, &mut |_, _| {
            n += 1;
            true
        });
        n
    }

    fn scan(&mut self, cursor: u64, count: usize, visit: &mut dyn FnMut(&[u8], f64)) -> u64 {
        let Ok(from) = u32::try_from(cursor) else {
            return 0;
        };
        let want = count.max(1);
        let mut state = ScanState::new(want, want.saturating_mul(SCAN_VISIT_FACTOR));
        let mut start = vec![ZSET_MEMBER];
        start.extend_from_slice(&from.to_be_bytes());
        let mut corrupt = false;
        self.0
            .walk(&start, Some(&[ZSET_MEMBER + 1]), false, &mut |k, v| {
                let (Some((hash, member)), Some(score)) =
                    (decode_hashed_suffix(&k[1..]), decode_zmember_value(v))
                else {
                    corrupt = true;
                    return false;
                };
                if !state.admit(u64::from(hash)) {
                    return false;
                }
                visit(member, score);
                state.visited += 1;
                true
            });
        if corrupt {
            self.0.corrupt("sorted set member");
        }
        state.next_cursor(u64::from(u32::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_state_finishes_groups() {
        let mut s = ScanState::new(2, 100);
        for g in [1, 1, 1] {
            assert!(s.admit(g));
            s.visited += 1;
        }
        assert!(!s.admit(2));
        assert_eq!(s.next_cursor(10), 2);
        let mut done = ScanState::new(2, 100);
        assert!(done.admit(3));
        assert_eq!(done.next_cursor(10), 0);
    }
}
