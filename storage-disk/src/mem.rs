//! [`MemStore`]: an [`OrderedStore`] in `BTreeMap`s, for tests and for embedders who
//! want the generic layer without RocksDB.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::RwLock;

use crate::store::{BatchOp, Keyspace, OrderedStore, StoreResult, Visitor, WriteBatch};

type Map = BTreeMap<Vec<u8>, Vec<u8>>;

/// A volatile ordered store: one `BTreeMap` per keyspace behind one lock, so a batch
/// is atomic across keyspaces.
#[derive(Debug, Default)]
pub struct MemStore {
    maps: RwLock<[Map; 4]>,
    bytes: AtomicU64,
}

impl MemStore {
    /// An empty store.
    pub fn new() -> MemStore {
        MemStore::default()
    }

    /// Number of records in one keyspace (for tests and diagnostics).
    pub fn len(&self, ks: Keyspace) -> usize {
        self.maps.read()[ks.index()].len()
    }

    /// Whether every keyspace is empty.
    pub fn is_empty(&self) -> bool {
        self.maps.read().iter().all(|m| m.is_empty())
    }
}

fn record_bytes(key: &[u8], value: &[u8]) -> u64 {
    (key.len() + value.len()) as u64
}

impl OrderedStore for MemStore {
    fn get(&self, ks: Keyspace, key: &[u8]) -> StoreResult<Option<Vec<u8>>> {
        Ok(self.maps.read()[ks.index()].get(key).cloned())
    }

    fn scan(
        &self,
        ks: Keyspace,
        start: &[u8],
        end: Option<&[u8]>,
        visit: &mut Visitor<'_>,
    ) -> StoreResult<()> {
        let maps = self.maps.read();
        let upper = match end {
            Some(e) if e <= start => return Ok(()),
            Some(e) => Bound::Excluded(e),
            None => Bound::Unbounded,
        };
        for (k, v) in maps[ks.index()].range::<[u8], _>((Bound::Included(start), upper)) {
            if !visit(k, v) {
                break;
            }
        }
        Ok(())
    }

    fn scan_rev(
        &self,
        ks: Keyspace,
        start: &[u8],
        end: Option<&[u8]>,
        visit: &mut Visitor<'_>,
    ) -> StoreResult<()> {
        let maps = self.maps.read();
        let upper = match end {
            Some(e) if e <= start => return Ok(()),
            Some(e) => Bound::Excluded(e),
            None => Bound::Unbounded,
        };
        for (k, v) in maps[ks.index()]
            .range::<[u8], _>((Bound::Included(start), upper))
            .rev()
        {
            if !visit(k, v) {
                break;
            }
        }
        Ok(())
    }

    fn write(&self, batch: WriteBatch) -> StoreResult<()> {
        let mut maps = self.maps.write();
        let mut added = 0u64;
        let mut removed = 0u64;
        for op in batch.ops {
            match op {
                BatchOp::Put(ks, k, v) => {
                    let key_len = k.len() as u64;
                    added += key_len + v.len() as u64;
                    if let Some(old) = maps[ks.index()].insert(k, v) {
                        removed += key_len + old.len() as u64;
                    }
                }
                BatchOp::Delete(ks, k) => {
                    if let Some(old) = maps[ks.index()].remove(&k) {
                        removed += record_bytes(&k, &old);
                    }
                }
                BatchOp::DeleteRange(ks, start, end) => {
                    if start >= end {
                        continue;
                    }
                    let map = &mut maps[ks.index()];
                    let mut tail = map.split_off(&start);
                    let mut rest = tail.split_off(&end);
                    removed += tail.iter().map(|(k, v)| record_bytes(k, v)).sum::<u64>();
                    map.append(&mut rest);
                }
            }
        }
        // Both sides are tallied under the write lock, so the total never underflows.
        self.bytes.fetch_add(added, Ordering::Relaxed);
        self.bytes.fetch_sub(removed, Ordering::Relaxed);
        Ok(())
    }

    fn sync(&self) -> StoreResult<()> {
        Ok(())
    }

    fn approximate_bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(s: &MemStore, ks: Keyspace, start: &[u8], end: Option<&[u8]>) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        s.scan(ks, start, end, &mut |k, _| {
            out.push(k.to_vec());
            true
        })
        .unwrap();
        out
    }

    #[test]
    fn batch_put_delete_range_and_scan() {
        let s = MemStore::new();
        let mut b = WriteBatch::new();
        for k in [b"a".as_slice(), b"b", b"c", b"d"] {
            b.put(Keyspace::Meta, k.to_vec(), b"v".to_vec());
        }
        b.put(Keyspace::Expiry, b"b".to_vec(), Vec::new());
        s.write(b).unwrap();
        assert_eq!(s.approximate_bytes(), 4 * 2 + 1);
        assert_eq!(
            collect(&s, Keyspace::Meta, b"b", Some(b"d")),
            vec![b"b", b"c"]
        );
        assert_eq!(collect(&s, Keyspace::Meta, b"", None).len(), 4);

        let mut b = WriteBatch::new();
        b.delete_range(Keyspace::Meta, b"b".to_vec(), b"d".to_vec());
        b.delete(Keyspace::Meta, b"a".to_vec());
        b.put(Keyspace::Meta, b"c".to_vec(), b"new".to_vec());
        s.write(b).unwrap();
        assert_eq!(collect(&s, Keyspace::Meta, b"", None), vec![b"c", b"d"]);
        assert_eq!(s.get(Keyspace::Meta, b"c").unwrap(), Some(b"new".to_vec()));
        assert_eq!(s.get(Keyspace::Expiry, b"b").unwrap(), Some(Vec::new()));
        assert_eq!(s.len(Keyspace::Meta), 2);
        assert_eq!(s.approximate_bytes(), 4 + 2 + 1);
    }

    #[test]
    fn scan_stops_when_visitor_says_so() {
        let s = MemStore::new();
        let mut b = WriteBatch::new();
        for i in 0u8..10 {
            b.put(Keyspace::Meta, vec![i], vec![]);
        }
        s.write(b).unwrap();
        let mut seen = 0;
        s.scan(Keyspace::Meta, &[3], None, &mut |_, _| {
            seen += 1;
            seen < 2
        })
        .unwrap();
        assert_eq!(seen, 2);
        assert!(collect(&s, Keyspace::Meta, &[5], Some(&[5])).is_empty());
    }

    #[test]
    fn reverse_scan() {
        let s = MemStore::new();
        let mut b = WriteBatch::new();
        for i in 0u8..10 {
            b.put(Keyspace::SubKey, vec![i], vec![]);
        }
        s.write(b).unwrap();
        let mut seen = Vec::new();
        s.scan_rev(Keyspace::SubKey, &[2], Some(&[7]), &mut |k, _| {
            seen.push(k[0]);
            true
        })
        .unwrap();
        assert_eq!(seen, vec![6, 5, 4, 3, 2]);
        seen.clear();
        s.scan_rev(Keyspace::SubKey, &[2], None, &mut |k, _| {
            seen.push(k[0]);
            seen.len() < 3
        })
        .unwrap();
        assert_eq!(seen, vec![9, 8, 7]);
    }
}
