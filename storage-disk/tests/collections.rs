//! Collections on the disk layer: costs (what the store is asked for), cleanup of
//! stale incarnations, hash field expiry, cursors under concurrent writes, read
//! failures, persistence across reopen.

use std::collections::{BTreeSet, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use ferrokv_core::storage::{
    self, DbStats, EncodingLimits, End, KeyType, LexBound, LexRange, Scope, ScoreBound, ScoreRange,
    StorageBackend, StorageError, TtlUpdate, Txn,
};
use ferrokv_storage_disk::encoding;
use ferrokv_storage_disk::store::{BatchOp, Visitor};
use ferrokv_storage_disk::{
    Keyspace, KvBackend, MemStore, OrderedStore, StoreError, StoreResult, WriteBatch,
};

const PAST: u64 = 1_000;
const FUTURE: u64 = 4_000_000_000_000;

/// A store that counts what it is asked for and can be made to fail reads.
#[derive(Default)]
struct Counting {
    inner: MemStore,
    gets: AtomicUsize,
    /// Records handed to scan visitors.
    scanned: AtomicUsize,
    writes: AtomicUsize,
    /// Ops of the last batch written.
    last_batch: parking_lot::Mutex<Vec<BatchOp>>,
    fail_subkey_reads: AtomicBool,
}

impl Counting {
    fn reset(&self) {
        self.gets.store(0, Ordering::Relaxed);
        self.scanned.store(0, Ordering::Relaxed);
        self.writes.store(0, Ordering::Relaxed);
    }
    fn reads(&self) -> (usize, usize) {
        (
            self.gets.load(Ordering::Relaxed),
            self.scanned.load(Ordering::Relaxed),
        )
    }
    fn check(&self, ks: Keyspace) -> StoreResult<()> {
        if ks == Keyspace::SubKey && self.fail_subkey_reads.load(Ordering::Relaxed) {
            return Err(StoreError("injected read failure".into()));
        }
        Ok(())
    }
}

/// The counting store, shared between the backend and the test.
#[derive(Clone, Default)]
struct Shared(Arc<Counting>);

impl std::ops::Deref for Shared {
    type Target = Counting;
    fn deref(&self) -> &Counting {
        &self.0
    }
}

impl OrderedStore for Shared {
    fn get(&self, ks: Keyspace, key: &[u8]) -> StoreResult<Option<Vec<u8>>> {
        self.check(ks)?;
        self.gets.fetch_add(1, Ordering::Relaxed);
        self.inner.get(ks, key)
    }
    fn scan(
        &self,
        ks: Keyspace,
        start: &[u8],
        end: Option<&[u8]>,
        visit: &mut Visitor<'_>,
    ) -> StoreResult<()> {
        self.check(ks)?;
        self.inner.scan(ks, start, end, &mut |k, v| {
            self.scanned.fetch_add(1, Ordering::Relaxed);
            visit(k, v)
        })
    }
    fn scan_rev(
        &self,
        ks: Keyspace,
        start: &[u8],
        end: Option<&[u8]>,
        visit: &mut Visitor<'_>,
    ) -> StoreResult<()> {
        self.check(ks)?;
        self.inner.scan_rev(ks, start, end, &mut |k, v| {
            self.scanned.fetch_add(1, Ordering::Relaxed);
            visit(k, v)
        })
    }
    fn write(&self, batch: WriteBatch) -> StoreResult<()> {
        self.writes.fetch_add(1, Ordering::Relaxed);
        *self.last_batch.lock() = batch.ops.clone();
        self.inner.write(batch)
    }
    fn sync(&self) -> StoreResult<()> {
        Ok(())
    }
    fn approximate_bytes(&self) -> u64 {
        self.inner.approximate_bytes()
    }
}

fn counting() -> (KvBackend<Shared>, Shared) {
    let store = Shared::default();
    let b = KvBackend::with_store(store.clone(), 4, "counting").unwrap();
    (b, store)
}

fn with<T>(b: &dyn StorageBackend, key: &[u8], f: impl FnOnce(&mut dyn Txn) -> T) -> T {
    let keys = [Bytes::copy_from_slice(key)];
    let mut f = Some(f);
    let mut out = None;
    b.atomic(Scope::Keys(&keys), &mut |t| {
        out = Some((f.take().unwrap())(t))
    })
    .expect("atomic");
    out.unwrap()
}

fn all<T>(b: &dyn StorageBackend, f: impl FnOnce(&mut dyn Txn) -> T) -> T {
    let mut f = Some(f);
    let mut out = None;
    b.atomic(Scope::All, &mut |t| out = Some((f.take().unwrap())(t)))
        .expect("atomic");
    out.unwrap()
}

fn count(s: &impl OrderedStore, ks: Keyspace) -> usize {
    let mut n = 0;
    s.scan(ks, b"", None, &mut |_, _| {
        n += 1;
        true
    })
    .unwrap();
    n
}

fn fill_set(b: &dyn StorageBackend, key: &[u8], n: usize) {
    with(b, key, |t| {
        storage::with_set(t, 0, key, true, |s| {
            for i in 0..n {
                s.insert(format!("member:{i}").as_bytes());
            }
        })
        .unwrap();
    });
}

fn fill_zset(b: &dyn StorageBackend, key: &[u8], n: usize, score: impl Fn(usize) -> f64) {
    with(b, key, |t| {
        storage::with_zset(t, 0, key, true, |z| {
            for i in 0..n {
                z.insert(format!("m{i:05}").as_bytes(), score(i));
            }
        })
        .unwrap();
    });
}

#[test]
fn delete_and_overwrite_are_o1_and_the_sweep_cleans_up() {
    let (b, store) = counting();
    fill_set(&b, b"big", 5000);
    with(&b, b"big", |t| {
        storage::with_hash(t, 0, b"h", true, |h| {
            for i in 0..300 {
                h.set(format!("f{i}").as_bytes(), b"v");
            }
        })
        .unwrap()
    });
    let with_elements = count(&store, Keyspace::SubKey);
    assert_eq!(with_elements, 5300);

    // Deleting touches the metadata record only.
    store.reset();
    assert!(with(&b, b"big", |t| t.delete(0, b"big")).unwrap());
    assert!(
        store.last_batch.lock().len() <= 2,
        "{:?}",
        store.last_batch.lock().len()
    );
    assert!(store.reads().1 == 0, "no element was read");
    // Overwriting with a string too.
    store.reset();
    with(&b, b"h", |t| t.set_string(0, b"h", b"s", TtlUpdate::Clear)).unwrap();
    assert!(store.last_batch.lock().len() <= 2);
    assert_eq!(store.reads().1, 0);
    // So does a trim that empties a big list.
    with(&b, b"l", |t| {
        storage::with_list(t, 0, b"l", true, |l| {
            for i in 0..1000 {
                l.push(End::Tail, format!("{i}").as_bytes());
            }
        })
        .unwrap()
    });
    store.reset();
    with(&b, b"l", |t| {
        storage::with_list(t, 0, b"l", false, |l| l.trim(5, 5)).unwrap()
    });
    let ops = store.last_batch.lock().clone();
    assert!(ops.len() <= 2, "{ops:?}");
    assert!(!ops.iter().any(|o| matches!(o, BatchOp::DeleteRange(..))));
    assert_eq!(
        all(&b, |t| t.db_size(0).unwrap().keys),
        1,
        "only the string"
    );

    // The stale records are still there until the sweep removes them.
    assert_eq!(count(&store, Keyspace::SubKey), 6300);
    let mut removed = 0;
    for _ in 0..10 {
        removed += b.sweep_subkeys(16);
    }
    assert_eq!(removed, 3);
    assert_eq!(count(&store, Keyspace::SubKey), 0);

    // Live collections are left alone, and the active cycle runs the sweep too.
    fill_set(&b, b"keep", 10);
    fill_set(&b, b"gone", 10);
    with(&b, b"gone", |t| t.delete(0, b"gone")).unwrap();
    for _ in 0..4 {
        b.active_expire(20);
    }
    assert_eq!(count(&store, Keyspace::SubKey), 10);
    assert_eq!(
        with(&b, b"keep", |t| storage::with_set(
            t,
            0,
            b"keep",
            false,
            |s| s.len()
        )
        .unwrap()),
        Some(10)
    );
}

#[test]
fn point_operations_read_single_records() {
    let (b, store) = counting();
    fill_zset(&b, b"z", 10_000, |i| i as f64);
    fill_set(&b, b"s", 10_000);
    with(&b, b"l", |t| {
        storage::with_list(t, 0, b"l", true, |l| {
            for i in 0..10_000 {
                l.push(End::Tail, format!("{i}").as_bytes());
            }
        })
        .unwrap()
    });
    with(&b, b"h", |t| {
        storage::with_hash(t, 0, b"h", true, |h| {
            for i in 0..10_000 {
                h.set(format!("f{i}").as_bytes(), format!("{i}").as_bytes());
            }
        })
        .unwrap()
    });
    let measure = |key: &[u8], f: &mut dyn FnMut(&mut dyn Txn)| {
        store.reset();
        with(&b, key, |t| f(t));
        store.reads()
    };
    // Lengths: the metadata only.
    let (_, scanned) = measure(b"z", &mut |t| {
        assert_eq!(
            storage::with_zset(t, 0, b"z", false, |z| z.len()).unwrap(),
            Some(10_000)
        );
        assert_eq!(
            storage::with_list(t, 0, b"l", false, |l| l.len()).unwrap(),
            Some(10_000)
        );
        assert_eq!(
            storage::with_set(t, 0, b"s", false, |s| s.len()).unwrap(),
            Some(10_000)
        );
        assert_eq!(
            storage::with_hash(t, 0, b"h", false, |h| h.len()).unwrap(),
            Some(10_000)
        );
    });
    assert_eq!(scanned, 0);
    // One element: one point read beyond the metadata.
    let (gets, scanned) = measure(b"l", &mut |t| {
        let v = storage::with_list(t, 0, b"l", false, |l| l.get(5000)).unwrap();
        assert_eq!(v.flatten().as_deref(), Some(&b"5000"[..]));
    });
    assert!(gets <= 2 && scanned == 0, "{gets} {scanned}");
    let (gets, scanned) = measure(b"h", &mut |t| {
        let v = storage::with_hash(t, 0, b"h", false, |h| h.get(b"f7777")).unwrap();
        assert_eq!(v.flatten().as_deref(), Some(&b"7777"[..]));
    });
    assert!(gets <= 2 && scanned == 0, "{gets} {scanned}");
    let (gets, scanned) = measure(b"s", &mut |t| {
        let v = storage::with_set(t, 0, b"s", false, |s| s.contains(b"member:9")).unwrap();
        assert_eq!(v, Some(true));
    });
    assert!(gets <= 2 && scanned == 0);
    // Both list ends: O(1).
    let (gets, scanned) = measure(b"l", &mut |t| {
        storage::with_list(t, 0, b"l", false, |l| {
            assert_eq!(l.pop(End::Head).as_deref(), Some(&b"0"[..]));
            assert_eq!(l.pop(End::Tail).as_deref(), Some(&b"9999"[..]));
            l.push(End::Head, b"0");
            l.push(End::Tail, b"9999");
        })
        .unwrap();
    });
    assert!(gets <= 3 && scanned == 0);
    // A score range seeks: reads what it returns, plus the end.
    let (_, scanned) = measure(b"z", &mut |t| {
        storage::with_zset(t, 0, b"z", false, |z| {
            let range = ScoreRange {
                min: ScoreBound {
                    value: 5000.0,
                    exclusive: false,
                },
                max: ScoreBound {
                    value: 5009.0,
                    exclusive: true,
                },
            };
            let mut got = Vec::new();
            z.range_by_score(&range, false, &mut |m, s| {
                got.push((m.to_vec(), s));
                true
            });
            assert_eq!(got.len(), 9);
            assert_eq!(got[0], (b"m05000".to_vec(), 5000.0));
            assert_eq!(z.count_by_score(&range), 9);
            let mut rev = Vec::new();
            z.range_by_score(&range, true, &mut |m, _| {
                rev.push(m.to_vec());
                rev.len() < 3
            });
            assert_eq!(
                rev,
                vec![b"m05008".to_vec(), b"m05007".to_vec(), b"m05006".to_vec()]
            );
        })
        .unwrap();
    });
    assert!(scanned <= 30, "{scanned}");
    // Lex ranges over equal scores seek in the score index.
    fill_zset(&b, b"z0", 10_000, |_| 0.0);
    let (_, scanned) = measure(b"z0", &mut |t| {
        storage::with_zset(t, 0, b"z0", false, |z| {
            let range = LexRange {
                min: LexBound::Inclusive(Bytes::from_static(b"m07000")),
                max: LexBound::Exclusive(Bytes::from_static(b"m07005")),
            };
            assert_eq!(z.count_by_lex(&range), 5);
        })
        .unwrap();
    });
    assert!(scanned <= 10, "{scanned}");
    // Ranks near either end are cheap: the walk starts at the nearer end.
    let (_, scanned) = measure(b"z", &mut |t| {
        storage::with_zset(t, 0, b"z", false, |z| {
            assert_eq!(z.rank(b"m09990", false), Some(9990));
            assert_eq!(z.rank(b"m00003", true), Some(9996));
            let mut top = Vec::new();
            z.range_by_rank(9997, false, &mut |m, _| {
                top.push(m.to_vec());
                true
            });
            assert_eq!(top.len(), 3);
            let mut bottom = Vec::new();
            z.range_by_rank(9998, true, &mut |m, _| {
                bottom.push(m.to_vec());
                true
            });
            assert_eq!(bottom, vec![b"m00001".to_vec(), b"m00000".to_vec()]);
        })
        .unwrap();
    });
    assert!(scanned <= 60, "{scanned}");
    // A scan page reads about COUNT records.
    let (_, scanned) = measure(b"s", &mut |t| {
        storage::with_set(t, 0, b"s", false, |s| {
            let mut n = 0;
            let next = s.scan(0, 10, &mut |_| n += 1);
            assert!(next != 0 && (10..20).contains(&n), "{n}");
        })
        .unwrap();
    });
    assert!(scanned <= 25, "{scanned}");
    // Random picks seek.
    let (_, scanned) = measure(b"h", &mut |t| {
        storage::with_hash(t, 0, b"h", false, |h| {
            for seed in 0..10u64 {
                assert!(h.random(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)).is_some());
            }
        })
        .unwrap();
    });
    assert!(scanned <= 30, "{scanned}");
    // A record is read from the store once per view: ZADD looks the score up and
    // then inserts; SPOP and ZPOPMIN remove what their walk found.
    let (gets, _) = measure(b"z", &mut |t| {
        storage::with_zset(t, 0, b"z", false, |z| {
            assert_eq!(z.score(b"m04000"), Some(4000.0));
            assert_eq!(z.insert(b"m04000", 4000.5), Some(4000.0));
            assert_eq!(z.score(b"new"), None);
            assert_eq!(z.insert(b"new", 1.0), None);
        })
        .unwrap();
    });
    assert!(gets <= 3, "{gets}");
    let (gets, _) = measure(b"s", &mut |t| {
        storage::with_set(t, 0, b"s", false, |s| {
            let m = s.random(12345).unwrap();
            assert!(s.remove(&m));
            assert!(!s.contains(&m));
        })
        .unwrap();
    });
    assert!(gets <= 1, "{gets}");
    let (gets, _) = measure(b"z", &mut |t| {
        storage::with_zset(t, 0, b"z", false, |z| {
            let mut popped = Vec::new();
            z.range_by_rank(0, false, &mut |m, _| {
                popped.push(m.to_vec());
                popped.len() < 3
            });
            for m in &popped {
                assert!(z.remove(m));
            }
            assert_eq!(z.score(&popped[0]), None);
        })
        .unwrap();
    });
    assert!(gets <= 1, "{gets}");
}

#[test]
fn random_picks_spread_over_big_collections() {
    let b = KvBackend::new_in_memory(1);
    fill_set(&b, b"s", 1000);
    let seen = with(&b, b"s", |t| {
        storage::with_set(t, 0, b"s", false, |s| {
            let mut seen = HashSet::new();
            let mut x = 1u64;
            for _ in 0..3000 {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                seen.insert(s.random(x).unwrap());
            }
            seen
        })
        .unwrap()
        .unwrap()
    });
    // Uniform picks would see ~950 distinct members; gaps in hash order bias it.
    assert!(seen.len() > 700, "{}", seen.len());
    // Small sets are exact: every member for some seed.
    fill_set(&b, b"small", 5);
    let seen: HashSet<Bytes> = with(&b, b"small", |t| {
        storage::with_set(t, 0, b"small", false, |s| {
            (0..5).map(|i| s.random(i).unwrap()).collect()
        })
        .unwrap()
        .unwrap()
    });
    assert_eq!(seen.len(), 5);
}

/// Full iteration with writes between pages: every element present throughout is
/// returned.
#[test]
fn scans_survive_concurrent_writes() {
    let b = KvBackend::new_in_memory(1);
    let n = 3000;
    fill_set(&b, b"s", n);
    with(&b, b"h", |t| {
        storage::with_hash(t, 0, b"h", true, |h| {
            for i in 0..n {
                h.set(format!("member:{i}").as_bytes(), b"v");
            }
        })
        .unwrap()
    });
    fill_zset(&b, b"z", n, |i| (i % 7) as f64);
    fill_zset(&b, b"zlex", n, |_| 0.0);
    // Elements 0..n/2 stay; the others are deleted and new ones added as we go.
    let stable: BTreeSet<Vec<u8>> = (0..n / 2)
        .map(|i| format!("member:{i}").into_bytes())
        .collect();
    let zstable: BTreeSet<Vec<u8>> = (0..n / 2)
        .map(|i| format!("m{i:05}").into_bytes())
        .collect();
    for key in [&b"s"[..], b"h", b"z", b"zlex"] {
        let mut seen = BTreeSet::new();
        let mut cursor = 0;
        let mut pages = 0;
        loop {
            cursor = with(&b, key, |t| {
                let mut page = Vec::new();
                let next = match key {
                    b"s" => storage::with_set(t, 0, key, false, |s| {
                        s.scan(cursor, 25, &mut |m| page.push(m.to_vec()))
                    }),
                    b"h" => storage::with_hash(t, 0, key, false, |h| {
                        h.scan(cursor, 25, &mut |f, _| page.push(f.to_vec()))
                    }),
                    _ => storage::with_zset(t, 0, key, false, |z| {
                        z.scan(cursor, 25, &mut |m, _| page.push(m.to_vec()))
                    }),
                }
                .unwrap()
                .unwrap();
                seen.extend(page);
                next
            });
            pages += 1;
            // Churn: remove one unstable element, add a new one.
            let churn = n / 2 + pages;
            with(&b, key, |t| match key {
                b"s" => {
                    storage::with_set(t, 0, key, false, |s| {
                        s.remove(format!("member:{churn}").as_bytes());
                        s.insert(format!("new:{pages}").as_bytes());
                    })
                    .unwrap();
                }
                b"h" => {
                    storage::with_hash(t, 0, key, false, |h| {
                        h.remove(format!("member:{churn}").as_bytes());
                        h.set(format!("new:{pages}").as_bytes(), b"v");
                    })
                    .unwrap();
                }
                _ => {
                    storage::with_zset(t, 0, key, false, |z| {
                        z.remove(format!("m{churn:05}").as_bytes());
                        z.insert(format!("new{pages}").as_bytes(), 3.5);
                    })
                    .unwrap();
                }
            });
            if cursor == 0 {
                break;
            }
            assert!(pages < n, "scan of {key:?} does not end");
        }
        let want = if key.starts_with(b"z") {
            &zstable
        } else {
            &stable
        };
        let missing: Vec<_> = want.difference(&seen).collect();
        assert!(missing.is_empty(), "{key:?}: {} missing", missing.len());
        // Pages were small: the iteration took many of them.
        assert!(pages > n / 100, "{key:?}: {pages} pages");
    }
}

#[test]
fn hash_field_expiry_lazy_and_active() {
    let (b, store) = counting();
    let now = with(&b, b"h", |t| {
        storage::with_hash(t, 0, b"h", true, |h| {
            for f in [&b"a"[..], b"b", b"c", b"d"] {
                h.set(f, b"v");
            }
            assert!(h.set_field_expire(b"a", Some(PAST)));
            assert!(h.set_field_expire(b"b", Some(FUTURE)));
            assert!(!h.set_field_expire(b"zz", Some(FUTURE)));
            // Expired fields still count in the length until removed, as in Redis.
            assert_eq!(h.len(), 4);
            assert_eq!(h.field_expire(b"b"), Some(Some(FUTURE)));
            assert_eq!(h.field_expire(b"c"), Some(None));
            assert_eq!(h.field_expire(b"a"), None, "expired: gone");
            assert_eq!(h.len(), 3);
        })
        .unwrap();
        t.now_ms()
    });
    assert!(now > PAST);
    // The expiry index holds the volatile field.
    assert_eq!(count(&store, Keyspace::Expiry), 1);
    with(&b, b"h", |t| {
        storage::with_hash(t, 0, b"h", false, |h| {
            // Setting the value clears the expiry and its index entry.
            assert!(!h.set(b"b", b"w"));
            assert_eq!(h.field_expire(b"b"), Some(None));
            h.set_field_expire(b"c", Some(PAST));
            h.set_field_expire(b"d", Some(PAST));
        })
        .unwrap()
    });
    assert_eq!(count(&store, Keyspace::Expiry), 2);
    // The active cycle removes expired fields without anyone reading them.
    b.active_expire(100);
    assert_eq!(count(&store, Keyspace::Expiry), 0);
    let (len, fields) = with(&b, b"h", |t| {
        storage::with_hash(t, 0, b"h", false, |h| {
            let mut fields = Vec::new();
            h.for_each(&mut |f, v| {
                fields.push((f.to_vec(), v.to_vec()));
                true
            });
            (h.len(), fields)
        })
        .unwrap()
        .unwrap()
    });
    assert_eq!((len, fields), (1, vec![(b"b".to_vec(), b"w".to_vec())]));

    // A hash whose last field expires goes away, counters included.
    with(&b, b"h2", |t| {
        storage::with_hash(t, 0, b"h2", true, |h| {
            h.set(b"only", b"v");
            h.set_field_expire(b"only", Some(PAST));
        })
        .unwrap();
        t.set_expire(0, b"h2", Some(FUTURE)).unwrap();
    });
    assert_eq!(all(&b, |t| t.db_size(0).unwrap()).keys, 2);
    b.active_expire(100);
    assert_eq!(
        all(&b, |t| t.db_size(0).unwrap()),
        DbStats {
            keys: 1,
            expires: 0
        }
    );
    assert_eq!(with(&b, b"h2", |t| t.meta(0, b"h2").unwrap()), None);
    assert_eq!(count(&store, Keyspace::Expiry), 0);

    // Entries of a deleted hash are dropped when due, touching nothing else.
    with(&b, b"h3", |t| {
        storage::with_hash(t, 0, b"h3", true, |h| {
            h.set(b"f", b"v");
            h.set_field_expire(b"f", Some(now + 200));
        })
        .unwrap();
        t.delete(0, b"h3").unwrap();
        storage::with_hash(t, 0, b"h3", true, |h| h.set(b"f", b"new")).unwrap();
    });
    std::thread::sleep(std::time::Duration::from_millis(250));
    b.active_expire(100);
    assert_eq!(count(&store, Keyspace::Expiry), 0);
    let v = with(&b, b"h3", |t| {
        storage::with_hash(t, 0, b"h3", false, |h| h.get(b"f")).unwrap()
    });
    assert_eq!(v.flatten().as_deref(), Some(&b"new"[..]));
}

#[test]
fn rename_copy_move_rewrite_elements() {
    let b = KvBackend::new_in_memory(2);
    all(&b, |t| {
        storage::with_list(t, 0, b"l", true, |l| {
            for v in [&b"x"[..], b"y", b"z"] {
                l.push(End::Tail, v);
            }
        })
        .unwrap();
        storage::with_hash(t, 0, b"h", true, |h| {
            h.set(b"f", b"1");
            h.set(b"g", b"2");
            h.set_field_expire(b"g", Some(FUTURE));
        })
        .unwrap();
        storage::with_zset(t, 0, b"z", true, |z| {
            z.insert(b"a", 1.0);
            z.insert(b"b", -0.0);
        })
        .unwrap();
        t.set_expire(0, b"z", Some(FUTURE)).unwrap();
        assert!(t.rename(0, b"l", 0, b"l2").unwrap());
        assert!(t.copy(0, b"h", 0, b"h2").unwrap());
        assert!(t.rename(0, b"z", 1, b"z").unwrap(), "MOVE");
        // The same scope sees the rewritten elements.
        let l = storage::with_list(t, 0, b"l2", false, |l| {
            let mut v = Vec::new();
            l.iter(0, false, &mut |_, e| {
                v.push(e.to_vec());
                true
            });
            v
        });
        assert_eq!(
            l.unwrap().unwrap(),
            vec![b"x".to_vec(), b"y".to_vec(), b"z".to_vec()]
        );
    });
    all(&b, |t| {
        assert_eq!(t.meta(0, b"l").unwrap(), None);
        assert_eq!(t.meta(0, b"z").unwrap(), None);
        assert_eq!(t.meta(1, b"z").unwrap().unwrap().expire_at, Some(FUTURE));
        let z = storage::with_zset(t, 1, b"z", false, |z| {
            (
                z.score(b"a"),
                z.score(b"b").map(f64::to_bits),
                z.rank(b"a", false),
            )
        });
        // A listpack-sized sorted set stores -0 as 0, as Redis 7.0.
        assert_eq!(
            z.unwrap().unwrap(),
            (Some(1.0), Some(0.0f64.to_bits()), Some(1))
        );
        for key in [&b"h"[..], b"h2"] {
            let h = storage::with_hash(t, 0, key, false, |h| {
                (h.get(b"f"), h.field_expire(b"g"), h.len())
            });
            assert_eq!(
                h.unwrap().unwrap(),
                (Some(Bytes::from_static(b"1")), Some(Some(FUTURE)), 2)
            );
        }
        // The copy is independent of its source.
        storage::with_hash(t, 0, b"h2", false, |h| h.remove(b"f")).unwrap();
        assert_eq!(
            storage::with_hash(t, 0, b"h", false, |h| h.len()).unwrap(),
            Some(2)
        );
        // The copied volatile field has its own index entry.
        storage::with_hash(t, 0, b"h2", false, |h| h.set_field_expire(b"g", Some(PAST))).unwrap();
    });
    b.active_expire(100);
    all(&b, |t| {
        assert_eq!(t.meta(0, b"h2").unwrap(), None, "last field expired");
        assert_eq!(
            storage::with_hash(t, 0, b"h", false, |h| h.field_expire(b"g")).unwrap(),
            Some(Some(Some(FUTURE)))
        );
    });
}

#[test]
fn types_and_encodings() {
    let b = KvBackend::new_in_memory(1);
    all(&b, |t| {
        t.set_string(0, b"str", b"v", TtlUpdate::Clear).unwrap();
        assert_eq!(
            storage::with_list(t, 0, b"str", true, |_| ()),
            Err(StorageError::WrongType)
        );
        assert_eq!(
            storage::with_hash(t, 0, b"str", false, |_| ()),
            Err(StorageError::WrongType)
        );
        storage::with_set(t, 0, b"s", true, |s| s.insert(b"1")).unwrap();
        assert_eq!(t.get_string(0, b"s"), Err(StorageError::WrongType));
        assert_eq!(t.string_len(0, b"s"), Err(StorageError::WrongType));
        assert_eq!(
            storage::with_zset(t, 0, b"s", true, |_| ()),
            Err(StorageError::WrongType)
        );
        assert_eq!(t.meta(0, b"s").unwrap().unwrap().key_type, KeyType::Set);
        // A body that adds nothing stores nothing.
        storage::with_zset(t, 0, b"empty", true, |z| {
            z.insert(b"a", 1.0);
            z.remove(b"a");
        })
        .unwrap();
        assert_eq!(t.meta(0, b"empty").unwrap(), None);
        assert_eq!(
            storage::with_set(t, 0, b"missing", false, |_| 1).unwrap(),
            None
        );

        let enc = |t: &mut dyn Txn, k: &[u8]| t.object_info(0, k).unwrap().unwrap().encoding;
        assert_eq!(enc(t, b"s"), "intset");
        storage::with_set(t, 0, b"s", false, |s| s.insert(b"x")).unwrap();
        assert_eq!(enc(t, b"s"), "hashtable");
        storage::with_set(t, 0, b"s", false, |s| s.remove(b"x")).unwrap();
        assert_eq!(enc(t, b"s"), "hashtable", "conversions are one-way");
        storage::with_hash(t, 0, b"h", true, |h| h.set(b"f", b"v")).unwrap();
        assert_eq!(enc(t, b"h"), "listpack");
        storage::with_hash(t, 0, b"h", true, |h| h.set(b"f", &[b'v'; 65])).unwrap();
        assert_eq!(enc(t, b"h"), "hashtable");
        storage::with_zset(t, 0, b"z", true, |z| z.insert(b"m", -0.0)).unwrap();
        assert_eq!(enc(t, b"z"), "listpack");
        let zero = storage::with_zset(t, 0, b"z", false, |z| z.score(b"m")).unwrap();
        assert_eq!(
            zero.flatten().map(f64::to_bits),
            Some(0.0f64.to_bits()),
            "-0 folded"
        );
        storage::with_zset(t, 0, b"z", true, |z| z.insert(b"m", 1.0)).unwrap();
        storage::with_list(t, 0, b"l", true, |l| l.push(End::Head, b"v")).unwrap();
        assert_eq!(enc(t, b"l"), "quicklist");
    });
    b.set_encoding_limits(EncodingLimits {
        zset_max_listpack_entries: 2,
        ..EncodingLimits::default()
    });
    all(&b, |t| {
        storage::with_zset(t, 0, b"z", true, |z| {
            z.insert(b"n", 2.0);
            z.insert(b"o", 3.0);
        })
        .unwrap();
        assert_eq!(
            t.object_info(0, b"z").unwrap().unwrap().encoding,
            "skiplist"
        );
        // The big encoding keeps -0 (and ties it with 0 in the order).
        let got = storage::with_zset(t, 0, b"z", true, |z| {
            z.insert(b"p", 0.0);
            z.insert(b"q", -0.0);
            let mut order = Vec::new();
            z.range_by_score(
                &ScoreRange {
                    min: ScoreBound {
                        value: 0.0,
                        exclusive: false,
                    },
                    max: ScoreBound {
                        value: -0.0,
                        exclusive: false,
                    },
                },
                false,
                &mut |m, s| {
                    order.push((m.to_vec(), s.to_bits()));
                    true
                },
            );
            (z.score(b"q").map(f64::to_bits), order)
        });
        assert_eq!(
            got.unwrap().unwrap(),
            (
                Some((-0.0f64).to_bits()),
                vec![(b"p".to_vec(), 0), (b"q".to_vec(), (-0.0f64).to_bits())]
            )
        );
    });
}

#[test]
fn failed_reads_void_the_scope() {
    let (b, store) = counting();
    fill_set(&b, b"s", 10);
    let keys = [Bytes::from_static(b"s"), Bytes::from_static(b"other")];
    store.fail_subkey_reads.store(true, Ordering::Relaxed);
    let mut inner = None;
    let r = b.atomic(Scope::Keys(&keys), &mut |t| {
        t.set_string(0, b"other", b"written first", TtlUpdate::Clear)
            .unwrap();
        inner = Some(storage::with_set(t, 0, b"s", false, |s| {
            // Later operations do nothing once a read failed.
            let added = s.insert(b"new");
            (added, s.contains(b"member:1"), s.len())
        }));
    });
    assert!(matches!(inner, Some(Err(StorageError::Io(_)))), "{inner:?}");
    assert!(r.is_err(), "the scope's commit reports the failure");
    store.fail_subkey_reads.store(false, Ordering::Relaxed);
    // Nothing of the scope was applied, and writes still work afterwards.
    assert_eq!(
        with(&b, b"other", |t| t.get_string(0, b"other")).unwrap(),
        None
    );
    assert_eq!(b.failure(), None);
    assert_eq!(
        with(&b, b"s", |t| storage::with_set(t, 0, b"s", false, |s| (
            s.len(),
            s.contains(b"new")
        ))
        .unwrap()),
        Some((10, false))
    );

    // Inside a group commit the whole group fails.
    store.fail_subkey_reads.store(true, Ordering::Relaxed);
    let r = b.group(&mut || {
        with(&b, b"other", |t| {
            t.set_string(0, b"other", b"x", TtlUpdate::Clear)
        })
        .unwrap();
        let keys = [Bytes::from_static(b"s")];
        b.atomic(Scope::Keys(&keys), &mut |t| {
            assert!(storage::with_set(t, 0, b"s", false, |s| s.contains(b"x")).is_err());
        })
        .unwrap();
    });
    store.fail_subkey_reads.store(false, Ordering::Relaxed);
    assert!(r.is_err());
    assert_eq!(
        with(&b, b"other", |t| t.get_string(0, b"other")).unwrap(),
        None
    );
}

#[test]
fn group_commit_sees_pending_collection_writes() {
    let b = KvBackend::new_in_memory(1);
    b.group(&mut || {
        with(&b, b"l", |t| {
            storage::with_list(t, 0, b"l", true, |l| l.push(End::Tail, b"a"))
        })
        .unwrap();
        with(&b, b"l", |t| {
            storage::with_list(t, 0, b"l", true, |l| l.push(End::Tail, b"b"))
        })
        .unwrap();
        let got = with(&b, b"l", |t| {
            storage::with_list(t, 0, b"l", false, |l| (l.len(), l.get(0), l.get(1)))
        });
        assert_eq!(
            got.unwrap(),
            Some((
                2,
                Some(Bytes::from_static(b"a")),
                Some(Bytes::from_static(b"b"))
            ))
        );
    })
    .unwrap();
    assert_eq!(all(&b, |t| t.db_size(0).unwrap().keys), 1);
}

#[test]
fn list_middle_operations_keep_order() {
    let (b, store) = counting();
    let items = |t: &mut dyn Txn| {
        storage::with_list(t, 0, b"l", false, |l| {
            let mut v = Vec::new();
            l.iter(0, false, &mut |i, e| {
                assert_eq!(i, v.len());
                v.push(String::from_utf8(e.to_vec()).unwrap());
                true
            });
            v
        })
        .unwrap()
        .unwrap_or_default()
    };
    with(&b, b"l", |t| {
        storage::with_list(t, 0, b"l", true, |l| {
            for i in 0..200 {
                l.push(End::Tail, format!("{i}").as_bytes());
            }
            l.insert(1, b"near-head");
            l.insert(199, b"near-tail");
            l.remove(&[0, 2, 3]);
            l.remove(&[150, 197, 198]);
        })
        .unwrap();
        let v = items(t);
        assert_eq!(v.len(), 196);
        assert_eq!(&v[..2], &["near-head", "3"]);
        assert_eq!(&v[194..], &["197", "near-tail"]);
    });
    // A big trim is one range delete.
    store.reset();
    with(&b, b"l", |t| {
        storage::with_list(t, 0, b"l", false, |l| l.trim(50, 60)).unwrap();
        assert_eq!(items(t).len(), 10);
    });
    let ops = store.last_batch.lock().clone();
    let ranges = ops
        .iter()
        .filter(|o| matches!(o, BatchOp::DeleteRange(..)))
        .count();
    assert_eq!(ranges, 2, "{ops:?}");
    assert!(ops.len() < 10, "{}", ops.len());
    let v = with(&b, b"l", items);
    assert_eq!(v.len(), 10);
    // After the trim, pushes at both ends and reverse iteration.
    with(&b, b"l", |t| {
        storage::with_list(t, 0, b"l", false, |l| {
            l.push(End::Head, b"h");
            l.push(End::Tail, b"t");
            let mut rev = Vec::new();
            l.iter(100, true, &mut |i, _| {
                rev.push(i);
                true
            });
            assert_eq!(rev, (0..12).rev().collect::<Vec<_>>());
        })
        .unwrap()
    });
}

#[cfg(feature = "rocksdb")]
#[test]
fn versions_stay_unique_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let b = ferrokv_storage_disk::DiskBackend::open(dir.path(), 1).unwrap();
        fill_set(&b, b"s", 3);
        with(&b, b"s", |t| t.delete(0, b"s")).unwrap();
    }
    // Reopened: a new incarnation of the same key must not see the old elements,
    // even before compaction removed them.
    let b = ferrokv_storage_disk::DiskBackend::open(dir.path(), 1).unwrap();
    let got = with(&b, b"s", |t| {
        storage::with_set(t, 0, b"s", true, |s| {
            s.insert(b"fresh");
            let mut all = Vec::new();
            s.for_each(&mut |m| {
                all.push(m.to_vec());
                true
            });
            all
        })
        .unwrap()
    });
    assert_eq!(got, Some(vec![b"fresh".to_vec()]));
}

#[cfg(feature = "rocksdb")]
#[test]
fn every_type_persists_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let b = ferrokv_storage_disk::DiskBackend::open(dir.path(), 2).unwrap();
        all(&b, |t| {
            storage::with_list(t, 0, b"l", true, |l| {
                l.push(End::Tail, b"b");
                l.push(End::Head, b"a");
            })
            .unwrap();
            storage::with_hash(t, 0, b"h", true, |h| {
                h.set(b"f", b"v");
                h.set(b"g", b"w");
                h.set_field_expire(b"g", Some(FUTURE));
            })
            .unwrap();
            storage::with_set(t, 1, b"s", true, |s| {
                s.insert(b"m");
            })
            .unwrap();
            storage::with_zset(t, 0, b"z", true, |z| {
                z.insert(b"x", f64::NEG_INFINITY);
                z.insert(b"y", 2.5);
            })
            .unwrap();
            t.set_expire(0, b"z", Some(FUTURE)).unwrap();
            t.swap_db(0, 1).unwrap();
        });
        b.flush_to_disk().unwrap();
    }
    let b = ferrokv_storage_disk::DiskBackend::open(dir.path(), 2).unwrap();
    all(&b, |t| {
        assert_eq!(t.db_size(1).unwrap().keys, 3);
        assert_eq!(t.db_size(1).unwrap().expires, 1);
        let l = storage::with_list(t, 1, b"l", false, |l| (l.get(0), l.get(1), l.len()));
        assert_eq!(
            l.unwrap().unwrap(),
            (
                Some(Bytes::from_static(b"a")),
                Some(Bytes::from_static(b"b")),
                2
            )
        );
        let h = storage::with_hash(t, 1, b"h", false, |h| (h.get(b"f"), h.field_expire(b"g")));
        assert_eq!(
            h.unwrap().unwrap(),
            (Some(Bytes::from_static(b"v")), Some(Some(FUTURE)))
        );
        assert_eq!(
            storage::with_set(t, 0, b"s", false, |s| s.contains(b"m")).unwrap(),
            Some(true)
        );
        let z = storage::with_zset(t, 1, b"z", false, |z| {
            let mut v = Vec::new();
            z.range_by_rank(0, false, &mut |m, s| {
                v.push((m.to_vec(), s));
                true
            });
            v
        });
        assert_eq!(
            z.unwrap().unwrap(),
            vec![(b"x".to_vec(), f64::NEG_INFINITY), (b"y".to_vec(), 2.5)]
        );
        assert_eq!(t.meta(1, b"z").unwrap().unwrap().expire_at, Some(FUTURE));
    });
}

#[cfg(feature = "rocksdb")]
#[test]
fn rocksdb_compaction_drops_stale_elements() {
    let dir = tempfile::tempdir().unwrap();
    let b = ferrokv_storage_disk::DiskBackend::open(dir.path(), 1).unwrap();
    fill_set(&b, b"gone", 2000);
    fill_zset(&b, b"replaced", 500, |i| i as f64);
    fill_set(&b, b"kept", 100);
    all(&b, |t| {
        t.delete(0, b"gone").unwrap();
        t.set_string(0, b"replaced", b"now a string", TtlUpdate::Clear)
            .unwrap();
    });
    assert_eq!(count(b.store(), Keyspace::SubKey), 2000 + 1000 + 100);
    b.store().compact_all().unwrap();
    assert_eq!(count(b.store(), Keyspace::SubKey), 100);
    assert_eq!(
        with(&b, b"kept", |t| storage::with_set(
            t,
            0,
            b"kept",
            false,
            |s| s.len()
        )
        .unwrap()),
        Some(100)
    );
    // The RocksDB store needs no sweep.
    assert_eq!(b.sweep_subkeys(10), 0);
}

/// `dataset_bytes` drops as soon as a collection is deleted, although its elements
/// stay in the store until the sweep (or compaction): each collection's metadata
/// tracks the bytes of its records.
#[test]
fn dataset_bytes_discount_dead_incarnations() {
    let b = KvBackend::new_in_memory(1);
    // The version high-water record is written with the first collection.
    fill_set(&b, b"warm", 1);
    with(&b, b"warm", |t| t.delete(0, b"warm")).unwrap();
    while b.sweep_subkeys(16) > 0 {}
    let base = b.dataset_bytes() as i64;
    // Tolerance: the expiry index entries of the volatile field (of the hash and
    // of its renamed self) stay until due.
    let near = |what: &str, v: u64| {
        let d = v as i64 - base;
        assert!(d.abs() < 128, "{what}: {base} -> {v}");
    };
    with(&b, b"k", |t| {
        storage::with_hash(t, 0, b"h", true, |h| {
            for i in 0..500 {
                h.set(format!("f{i}").as_bytes(), &[b'v'; 50]);
            }
            h.set(b"f1", b"shorter");
            h.remove(b"f2");
            h.set_field_expire(b"f3", Some(FUTURE));
        })
        .unwrap();
        storage::with_list(t, 0, b"l", true, |l| {
            for i in 0..500 {
                l.push(End::Tail, format!("element {i}").as_bytes());
            }
            l.pop(End::Head);
            l.set(7, b"x");
            l.insert(100, b"inserted");
            l.remove(&[3, 200]);
        })
        .unwrap();
        storage::with_zset(t, 0, b"z", true, |z| {
            for i in 0..500 {
                z.insert(format!("m{i}").as_bytes(), i as f64);
            }
            z.insert(b"m1", -0.0);
            z.remove(b"m2");
        })
        .unwrap();
    });
    assert!(b.dataset_bytes() as i64 > base + 60_000);
    // Renamed: same records under another key, counted again, old ones dead.
    all(&b, |t| {
        t.rename(0, b"h", 0, b"hash-with-a-longer-name").unwrap();
        t.copy(0, b"l", 0, b"l2").unwrap();
    });
    all(&b, |t| {
        for k in [&b"hash-with-a-longer-name"[..], b"l", b"l2", b"z"] {
            assert!(t.delete(0, k).unwrap());
        }
    });
    near("after deleting", b.dataset_bytes());
    while b.sweep_subkeys(16) > 0 {}
    near("after the sweep", b.dataset_bytes());
    assert_eq!(count(b.store(), Keyspace::SubKey), 0);
}

/// The version of a collection's current incarnation, read from its metadata.
fn version_of(b: &dyn StorageBackend, store: &impl OrderedStore, key: &[u8]) -> u64 {
    // Committed: a scope over the key has ended.
    with(b, key, |t| t.meta(0, key).unwrap());
    let mk = encoding::meta_key(0, encoding::key_hash(key), key);
    let raw = store.get(Keyspace::Meta, &mk).unwrap().expect("record");
    encoding::MetaRecord::decode(Bytes::from(raw))
        .unwrap()
        .version
}

/// Versions of the sub-key records in the store, with their counts.
fn stored_versions(store: &impl OrderedStore) -> std::collections::BTreeMap<u64, usize> {
    let mut out = std::collections::BTreeMap::new();
    store
        .scan(Keyspace::SubKey, b"", None, &mut |k, _| {
            *out.entry(encoding::decode_subkey(k).unwrap().version)
                .or_insert(0) += 1;
            true
        })
        .unwrap();
    out
}

/// A set or hash that lost most of its elements to removals is copied to a fresh
/// incarnation (so walks stop stepping over tombstones); contents, counts, field
/// expiries and the cleanup of the old records are unaffected.
#[test]
fn sparse_sets_and_hashes_move_to_a_fresh_incarnation() {
    let (b, store) = counting();
    fill_set(&b, b"s", 2000);
    let first = version_of(&b, &store, b"s");
    // One removal per scope, as SPOP or SREM in a loop.
    for i in 0..1700 {
        let removed = with(&b, b"s", |t| {
            storage::with_set(t, 0, b"s", false, |s| {
                s.remove(format!("member:{i}").as_bytes())
            })
            .unwrap()
        });
        assert_eq!(removed, Some(true));
    }
    let second = version_of(&b, &store, b"s");
    assert_ne!(first, second, "moved to a fresh incarnation");
    let (len, members) = with(&b, b"s", |t| {
        storage::with_set(t, 0, b"s", false, |s| {
            let mut all = BTreeSet::new();
            s.for_each(&mut |m| {
                all.insert(m.to_vec());
                true
            });
            (s.len(), all)
        })
        .unwrap()
        .unwrap()
    });
    let want: BTreeSet<Vec<u8>> = (1700..2000)
        .map(|i| format!("member:{i}").into_bytes())
        .collect();
    assert_eq!((len, members), (300, want));
    // The old incarnation's records are stale; the sweeper removes them.
    while b.sweep_subkeys(64) > 0 {}
    let versions = stored_versions(&store);
    assert_eq!(versions.len(), 1, "{versions:?}");
    assert_eq!(versions.get(&second), Some(&300));
    // Small again and without tombstones: random picks are exact.
    for i in 1700..1995 {
        with(&b, b"s", |t| {
            storage::with_set(t, 0, b"s", false, |s| {
                s.remove(format!("member:{i}").as_bytes())
            })
            .unwrap()
        });
    }
    let seen: HashSet<Bytes> = with(&b, b"s", |t| {
        storage::with_set(t, 0, b"s", false, |s| {
            (0..5).map(|i| s.random(i).unwrap()).collect()
        })
        .unwrap()
        .unwrap()
    });
    assert_eq!(seen.len(), 5);

    // Moved and then emptied in one view: the fresh incarnation never reaches
    // the store, the key is gone, and the old records are swept.
    fill_set(&b, b"e", 700);
    let old = version_of(&b, &store, b"e");
    let gone = with(&b, b"e", |t| {
        storage::with_set(t, 0, b"e", false, |s| {
            for i in 0..700 {
                assert!(s.remove(format!("member:{i}").as_bytes()));
            }
        })
        .unwrap();
        t.meta(0, b"e").unwrap()
    });
    assert_eq!(gone, None);
    let versions = stored_versions(&store);
    assert_eq!(versions.get(&old), Some(&700), "{versions:?}");
    assert_eq!(versions.len(), 2, "{versions:?}");
    while b.sweep_subkeys(64) > 0 {}
    assert_eq!(stored_versions(&store).len(), 1);

    // Hashes: field expiries move with the fields; the active cycle still
    // removes a field that falls due after the move.
    let now = with(&b, b"h", |t| {
        storage::with_hash(t, 0, b"h", true, |h| {
            for i in 0..2000 {
                h.set(format!("f{i}").as_bytes(), b"v");
            }
            h.set_field_expire(b"f1990", Some(FUTURE));
        })
        .unwrap();
        t.now_ms()
    });
    let due_at = now + 1500;
    with(&b, b"h", |t| {
        storage::with_hash(t, 0, b"h", false, |h| {
            h.set_field_expire(b"f1991", Some(due_at))
        })
        .unwrap()
    });
    let first = version_of(&b, &store, b"h");
    for i in 0..1700 {
        with(&b, b"h", |t| {
            storage::with_hash(t, 0, b"h", false, |h| {
                assert!(h.remove(format!("f{i}").as_bytes()))
            })
            .unwrap()
        });
    }
    assert_ne!(version_of(&b, &store, b"h"), first);
    let wait = due_at.saturating_sub(with(&b, b"h", |t| t.now_ms())) + 50;
    std::thread::sleep(std::time::Duration::from_millis(wait));
    // Only the entry under the current version removes the field.
    b.active_expire(1000);
    let (len, future) = with(&b, b"h", |t| {
        storage::with_hash(t, 0, b"h", false, |h| (h.len(), h.field_expire(b"f1990")))
            .unwrap()
            .unwrap()
    });
    assert_eq!((len, future), (299, Some(Some(FUTURE))));
}
