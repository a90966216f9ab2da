//! The generic layer, run on both stores: MemStore and (feature `rocksdb`) RocksDB.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use ferrokv_core::storage::{
    DbStats, KeyType, Scope, StorageBackend, StorageError, TtlUpdate, Txn,
};
use ferrokv_storage_disk::encoding::{self, MetaRecord};
use ferrokv_storage_disk::{
    Keyspace, KvBackend, MemStore, OrderedStore, StoreError, StoreResult, WriteBatch,
};

/// Runs `f` in one atomic scope and returns its result.
fn with<T>(b: &dyn StorageBackend, scope: Scope<'_>, f: impl FnOnce(&mut dyn Txn) -> T) -> T {
    let mut f = Some(f);
    let mut out = None;
    b.atomic(scope, &mut |txn| out = Some((f.take().unwrap())(txn)))
        .expect("atomic");
    out.unwrap()
}

fn all<T>(b: &dyn StorageBackend, f: impl FnOnce(&mut dyn Txn) -> T) -> T {
    with(b, Scope::All, f)
}

fn set(b: &dyn StorageBackend, db: usize, key: &str, value: &str, ttl: TtlUpdate) {
    let k = [Bytes::copy_from_slice(key.as_bytes())];
    with(b, Scope::Keys(&k), |t| {
        t.set_string(db, key.as_bytes(), value.as_bytes(), ttl)
            .unwrap()
    });
}

fn get(b: &dyn StorageBackend, db: usize, key: &str) -> Option<Bytes> {
    let k = [Bytes::copy_from_slice(key.as_bytes())];
    with(b, Scope::Keys(&k), |t| {
        t.get_string(db, key.as_bytes()).unwrap()
    })
}

fn size(b: &dyn StorageBackend, db: usize) -> DbStats {
    all(b, |t| t.db_size(db).unwrap())
}

fn stats(keys: u64, expires: u64) -> DbStats {
    DbStats { keys, expires }
}

fn full_scan(b: &dyn StorageBackend, db: usize, count: usize) -> Vec<Bytes> {
    let mut out = Vec::new();
    let mut cursor = 0;
    loop {
        let page = all(b, |t| t.scan(db, cursor, count).unwrap());
        out.extend(page.keys);
        cursor = page.next_cursor;
        if cursor == 0 {
            return out;
        }
    }
}

/// A fixed time far in the past: keys expiring then are already expired.
const PAST: u64 = 1_000;
/// A fixed time far in the future.
const FUTURE: u64 = 4_000_000_000_000;

fn string_ops<S: OrderedStore>(b: &KvBackend<S>) {
    assert_eq!(get(b, 0, "k"), None);
    set(b, 0, "k", "v1", TtlUpdate::Clear);
    assert_eq!(get(b, 0, "k").as_deref(), Some(&b"v1"[..]));
    assert_eq!(get(b, 1, "k"), None, "databases are separate");
    all(b, |t| {
        assert_eq!(t.string_len(0, b"k").unwrap(), Some(2));
        assert_eq!(
            t.meta(0, b"k").unwrap().map(|m| (m.key_type, m.expire_at)),
            Some((KeyType::String, None))
        );
        assert!(t.touch(0, b"k").unwrap());
        assert!(!t.touch(0, b"nope").unwrap());
        // Reads see the scope's own pending writes.
        t.set_string(0, b"k", b"v2", TtlUpdate::Clear).unwrap();
        assert_eq!(t.get_string(0, b"k").unwrap().as_deref(), Some(&b"v2"[..]));
        assert!(t.delete(0, b"k").unwrap());
        assert!(!t.delete(0, b"k").unwrap());
        assert_eq!(t.get_string(0, b"k").unwrap(), None);
        t.set_string(0, b"k", b"v3", TtlUpdate::Clear).unwrap();
    });
    assert_eq!(get(b, 0, "k").as_deref(), Some(&b"v3"[..]));
    // Large values (compressed on disk) and binary values round-trip.
    let big = "abcdefgh".repeat(10_000);
    set(b, 0, "big", &big, TtlUpdate::Clear);
    assert_eq!(get(b, 0, "big").as_deref(), Some(big.as_bytes()));
    let bin: Vec<u8> = (0..=255).collect();
    all(b, |t| {
        t.set_string(2, b"\x00\xff", &bin, TtlUpdate::Clear)
            .unwrap();
        assert_eq!(
            t.get_string(2, b"\x00\xff").unwrap().as_deref(),
            Some(&bin[..])
        );
        assert_eq!(t.string_len(0, b"big").unwrap(), Some(big.len()));
    });
    assert_eq!(size(b, 0), stats(2, 0));
    assert!(b.dataset_bytes() > 0 || b.name() == "disk");
}

fn ttl_ops<S: OrderedStore>(b: &KvBackend<S>) {
    set(b, 0, "vol", "x", TtlUpdate::At(FUTURE));
    all(b, |t| {
        assert_eq!(t.meta(0, b"vol").unwrap().unwrap().expire_at, Some(FUTURE));
        // KEEPTTL keeps it, plain SET clears it.
        t.set_string(0, b"vol", b"y", TtlUpdate::Keep).unwrap();
        assert_eq!(t.meta(0, b"vol").unwrap().unwrap().expire_at, Some(FUTURE));
    });
    assert_eq!(size(b, 0), stats(1, 1));
    set(b, 0, "vol", "z", TtlUpdate::Clear);
    assert_eq!(size(b, 0), stats(1, 0));
    all(b, |t| {
        assert!(t.set_expire(0, b"vol", Some(FUTURE + 5)).unwrap());
        assert!(!t.set_expire(0, b"missing", Some(FUTURE)).unwrap());
    });
    assert_eq!(size(b, 0), stats(1, 1));
    all(b, |t| assert!(t.set_expire(0, b"vol", None).unwrap()));
    assert_eq!(size(b, 0), stats(1, 0));

    // An expired key reads as missing and is removed by the read (lazy expiry).
    set(b, 0, "dead", "x", TtlUpdate::At(PAST));
    assert_eq!(size(b, 0), stats(2, 1), "DBSIZE counts it until removed");
    assert_eq!(get(b, 0, "dead"), None);
    assert_eq!(size(b, 0), stats(1, 0));
    // KEEPTTL on an expired key does not resurrect its expiry.
    set(b, 0, "dead", "x", TtlUpdate::At(PAST));
    set(b, 0, "dead", "alive", TtlUpdate::Keep);
    assert_eq!(get(b, 0, "dead").as_deref(), Some(&b"alive"[..]));
    all(b, |t| {
        assert_eq!(t.meta(0, b"dead").unwrap().unwrap().expire_at, None)
    });
    // Expiring a key in the past via set_expire.
    all(b, |t| assert!(t.set_expire(0, b"dead", Some(0)).unwrap()));
    assert_eq!(get(b, 0, "dead"), None);
    assert_eq!(size(b, 0), stats(1, 0));
    // The expiry index holds exactly the volatile keys.
    set(b, 0, "a", "1", TtlUpdate::At(FUTURE));
    set(b, 0, "a", "2", TtlUpdate::At(FUTURE + 1));
    assert_eq!(count(b.store(), Keyspace::Expiry), 1);
    all(b, |t| t.delete(0, b"a").unwrap());
    assert_eq!(count(b.store(), Keyspace::Expiry), 0);
}

fn count<S: OrderedStore>(s: &S, ks: Keyspace) -> usize {
    let mut n = 0;
    s.scan(ks, b"", None, &mut |_, _| {
        n += 1;
        true
    })
    .unwrap();
    n
}

fn update_ops<S: OrderedStore>(b: &KvBackend<S>) {
    all(b, |t| {
        let mut append = |v: &mut Vec<u8>| v.extend_from_slice(b"!!");
        assert!(!t.update_string(0, b"u", false, &mut append).unwrap());
        assert_eq!(t.get_string(0, b"u").unwrap(), None);
        assert!(t.update_string(0, b"u", true, &mut append).unwrap());
        assert!(t.update_string(0, b"u", true, &mut append).unwrap());
        assert_eq!(
            t.get_string(0, b"u").unwrap().as_deref(),
            Some(&b"!!!!"[..])
        );
        t.set_expire(0, b"u", Some(FUTURE)).unwrap();
        assert!(t.update_string(0, b"u", false, &mut append).unwrap());
        assert_eq!(t.meta(0, b"u").unwrap().unwrap().expire_at, Some(FUTURE));
        assert_eq!(t.object_info(0, b"u").unwrap().unwrap().encoding, "raw");
    });
    assert_eq!(get(b, 0, "u").as_deref(), Some(&b"!!!!!!"[..]));
}

fn object_info_ops<S: OrderedStore>(b: &KvBackend<S>) {
    all(b, |t| {
        for (value, enc) in [
            (&b"12345"[..], "int"),
            (b"-7", "int"),
            (b"007", "embstr"),
            (b"hello", "embstr"),
            (&[b'x'; 44][..], "embstr"),
            (&[b'x'; 45][..], "raw"),
            (&[b'y'; 500][..], "raw"),
        ] {
            t.set_string(0, b"o", value, TtlUpdate::Clear).unwrap();
            let info = t.object_info(0, b"o").unwrap().unwrap();
            assert_eq!(info.encoding, enc, "{value:?}");
            assert_eq!((info.idle_ms, info.freq), (0, 0));
        }
        assert_eq!(t.object_info(0, b"missing").unwrap(), None);
    });
}

fn wrong_type<S: OrderedStore>(b: &KvBackend<S>) {
    // Plant a hash record as the collections code will write it.
    let rec = MetaRecord {
        key_type: KeyType::Hash,
        flags: encoding::FLAG_BIG,
        expire_at: 0,
        version: 1,
        len: 3,
        bytes: 0,
        head: 0,
        tail: 0,
        removed: 0,
        low: Bytes::new(),
        high: Bytes::new(),
        payload: Bytes::new(),
    };
    let mut batch = WriteBatch::new();
    let key = encoding::meta_key(0, encoding::key_hash(b"h"), b"h");
    batch.put(Keyspace::Meta, key, rec.encode());
    b.store().write(batch).unwrap();
    all(b, |t| {
        assert_eq!(t.meta(0, b"h").unwrap().unwrap().key_type, KeyType::Hash);
        assert_eq!(t.get_string(0, b"h"), Err(StorageError::WrongType));
        assert_eq!(t.string_len(0, b"h"), Err(StorageError::WrongType));
        let mut noop = |_: &mut Vec<u8>| {};
        assert_eq!(
            t.update_string(0, b"h", true, &mut noop),
            Err(StorageError::WrongType)
        );
        assert_eq!(
            t.object_info(0, b"h").unwrap().unwrap().encoding,
            "hashtable"
        );
        // SET replaces a value of any type.
        t.set_string(0, b"h", b"s", TtlUpdate::Clear).unwrap();
        assert_eq!(t.meta(0, b"h").unwrap().unwrap().key_type, KeyType::String);
    });
}

fn rename_copy<S: OrderedStore>(b: &KvBackend<S>) {
    set(b, 0, "src", "v", TtlUpdate::At(FUTURE));
    set(b, 3, "dst", "old", TtlUpdate::Clear);
    all(b, |t| {
        assert!(!t.rename(0, b"missing", 0, b"x").unwrap());
        assert!(t.copy(0, b"src", 0, b"cp").unwrap());
        assert!(t.rename(0, b"src", 3, b"dst").unwrap());
        assert_eq!(t.get_string(0, b"src").unwrap(), None);
        assert_eq!(t.get_string(3, b"dst").unwrap().as_deref(), Some(&b"v"[..]));
        assert_eq!(t.meta(3, b"dst").unwrap().unwrap().expire_at, Some(FUTURE));
        assert_eq!(t.meta(0, b"cp").unwrap().unwrap().expire_at, Some(FUTURE));
        // Renaming a key onto itself keeps it.
        assert!(t.rename(3, b"dst", 3, b"dst").unwrap());
        assert!(t.copy(3, b"dst", 3, b"dst").unwrap());
        assert_eq!(t.get_string(3, b"dst").unwrap().as_deref(), Some(&b"v"[..]));
    });
    assert_eq!(size(b, 0), stats(1, 1));
    assert_eq!(size(b, 3), stats(1, 1));
    assert_eq!(count(b.store(), Keyspace::Expiry), 2);
    // An expired source is missing.
    set(b, 0, "gone", "v", TtlUpdate::At(PAST));
    all(b, |t| assert!(!t.rename(0, b"gone", 0, b"x").unwrap()));
    assert_eq!(size(b, 0), stats(1, 1));
}

fn scan_keys_random<S: OrderedStore>(b: &KvBackend<S>) {
    assert_eq!(full_scan(b, 0, 10), Vec::<Bytes>::new());
    assert_eq!(all(b, |t| t.random_key(0).unwrap()), None);
    let names: BTreeSet<Bytes> = (0..500).map(|i| Bytes::from(format!("key:{i}"))).collect();
    all(b, |t| {
        for k in &names {
            t.set_string(0, k, b"v", TtlUpdate::Clear).unwrap();
        }
    });
    for count in [1, 7, 100, 1000] {
        let got = full_scan(b, 0, count);
        assert_eq!(got.len(), names.len(), "count {count}: no duplicates");
        assert_eq!(got.into_iter().collect::<BTreeSet<_>>(), names);
    }
    let page = all(b, |t| t.scan(0, 0, 10).unwrap());
    assert!(page.keys.len() >= 10 && page.next_cursor != 0);
    let mut keep = |k: &[u8]| k.ends_with(b"7");
    let sevens = all(b, |t| t.keys(0, &mut keep).unwrap());
    assert_eq!(sevens.len(), 50);
    let mut seen = BTreeSet::new();
    for _ in 0..200 {
        let k = all(b, |t| t.random_key(0).unwrap()).unwrap();
        assert!(names.contains(&k));
        seen.insert(k);
    }
    assert!(seen.len() > 50, "random_key spreads: {}", seen.len());
    // Expired keys are skipped (and removed) by every iteration.
    all(b, |t| {
        for k in &names {
            t.set_expire(0, k, Some(PAST)).unwrap();
        }
        t.set_string(0, b"live", b"v", TtlUpdate::Clear).unwrap();
    });
    assert_eq!(size(b, 0), stats(501, 500));
    assert_eq!(
        all(b, |t| t.random_key(0).unwrap()).as_deref(),
        Some(&b"live"[..])
    );
    assert_eq!(full_scan(b, 0, 10), vec![Bytes::from("live")]);
    assert_eq!(size(b, 0), stats(1, 0), "the scan removed what it passed");
}

fn scan_stability<S: OrderedStore>(b: &KvBackend<S>) {
    let original: BTreeSet<Bytes> = (0..300).map(|i| Bytes::from(format!("orig:{i}"))).collect();
    all(b, |t| {
        for k in &original {
            t.set_string(1, k, b"v", TtlUpdate::Clear).unwrap();
        }
    });
    let mut seen = Vec::new();
    let mut cursor = 0;
    let mut round = 0;
    loop {
        let page = all(b, |t| t.scan(1, cursor, 13).unwrap());
        seen.extend(page.keys);
        cursor = page.next_cursor;
        if cursor == 0 {
            break;
        }
        // Churn between pages: inserts and deletes of other keys.
        all(b, |t| {
            for j in 0..20 {
                let k = format!("new:{round}:{j}");
                t.set_string(1, k.as_bytes(), b"v", TtlUpdate::Clear)
                    .unwrap();
            }
            t.delete(1, format!("new:{}:3", round.max(1) - 1).as_bytes())
                .unwrap();
        });
        round += 1;
    }
    let seen: BTreeSet<Bytes> = seen.into_iter().collect();
    assert!(
        original.is_subset(&seen),
        "every key present throughout is returned"
    );
    assert!(round > 10);
}

fn scan_sees_pending_writes<S: OrderedStore>(b: &KvBackend<S>) {
    set(b, 0, "a", "1", TtlUpdate::Clear);
    set(b, 0, "b", "1", TtlUpdate::Clear);
    all(b, |t| {
        t.delete(0, b"a").unwrap();
        t.set_string(0, b"c", b"1", TtlUpdate::Clear).unwrap();
        let mut keys = t.scan(0, 0, 100).unwrap().keys;
        keys.sort();
        assert_eq!(keys, vec![Bytes::from("b"), Bytes::from("c")]);
        let mut any = |_: &[u8]| true;
        assert_eq!(t.keys(0, &mut any).unwrap().len(), 2);
        assert_eq!(t.db_size(0).unwrap(), stats(2, 0));
        t.flush_db(0).unwrap();
        assert_eq!(t.scan(0, 0, 100).unwrap().keys, Vec::<Bytes>::new());
        assert_eq!(t.random_key(0).unwrap(), None);
        t.set_string(0, b"d", b"1", TtlUpdate::Clear).unwrap();
        assert_eq!(t.scan(0, 0, 100).unwrap().keys, vec![Bytes::from("d")]);
        assert_eq!(t.get_string(0, b"b").unwrap(), None);
        assert_eq!(t.db_size(0).unwrap(), stats(1, 0));
    });
    assert_eq!(full_scan(b, 0, 10), vec![Bytes::from("d")]);
    assert_eq!(size(b, 0), stats(1, 0));
}

fn scan_finishes_hash_groups<S: OrderedStore>(b: &KvBackend<S>) {
    // Plant records sharing one hash value (a collision) and check that a page
    // never splits them, whatever COUNT asks.
    let mut batch = WriteBatch::new();
    for key in [&b"x1"[..], b"x2", b"x3"] {
        let rec = MetaRecord::string(b"v", 0, 0);
        batch.put(Keyspace::Meta, encoding::meta_key(0, 42, key), rec.encode());
    }
    batch.put(
        Keyspace::Meta,
        encoding::meta_key(0, 43, b"y"),
        MetaRecord::string(b"v", 0, 0).encode(),
    );
    b.store().write(batch).unwrap();
    let page = all(b, |t| t.scan(0, 0, 1).unwrap());
    assert_eq!(page.keys.len(), 3);
    assert_eq!(page.next_cursor, 43);
    let page = all(b, |t| t.scan(0, 43, 1).unwrap());
    assert_eq!((page.keys, page.next_cursor), (vec![Bytes::from("y")], 0));
}

fn flush_and_swap<S: OrderedStore>(b: &KvBackend<S>) {
    set(b, 0, "a", "db0", TtlUpdate::At(FUTURE));
    set(b, 0, "b", "db0", TtlUpdate::Clear);
    set(b, 1, "a", "db1", TtlUpdate::Clear);
    all(b, |t| t.swap_db(0, 1).unwrap());
    assert_eq!(get(b, 0, "a").as_deref(), Some(&b"db1"[..]));
    assert_eq!(get(b, 1, "a").as_deref(), Some(&b"db0"[..]));
    assert_eq!(size(b, 0), stats(1, 0));
    assert_eq!(size(b, 1), stats(2, 1));
    all(b, |t| {
        // Within one scope: write, swap, read through the new mapping.
        t.set_string(0, b"c", b"x", TtlUpdate::Clear).unwrap();
        t.swap_db(0, 1).unwrap();
        assert_eq!(t.get_string(1, b"c").unwrap().as_deref(), Some(&b"x"[..]));
        assert_eq!(t.db_size(1).unwrap(), stats(2, 0));
        t.swap_db(2, 2).unwrap();
    });
    assert_eq!(get(b, 0, "a").as_deref(), Some(&b"db0"[..]));
    assert_eq!(get(b, 1, "c").as_deref(), Some(&b"x"[..]));
    // Flush removes one database with its expiry entries; others stay.
    all(b, |t| t.flush_db(0).unwrap());
    assert_eq!(size(b, 0), stats(0, 0));
    assert_eq!(size(b, 1), stats(2, 0));
    assert_eq!(get(b, 0, "a"), None);
    assert_eq!(get(b, 1, "a").as_deref(), Some(&b"db1"[..]));
    assert_eq!(count(b.store(), Keyspace::Expiry), 0);
    assert_eq!(b.active_expire(100).expired, 0);
    // Out-of-range databases are errors, not panics.
    all(b, |t| {
        assert!(matches!(t.get_string(99, b"a"), Err(StorageError::Io(_))));
        assert!(t.swap_db(0, 99).is_err());
    });
}

fn active_expiry<S: OrderedStore>(b: &KvBackend<S>) {
    for i in 0..50 {
        set(
            b,
            i % 3,
            &format!("e{i}"),
            "v",
            TtlUpdate::At(PAST + i as u64),
        );
    }
    for i in 0..10 {
        set(b, 0, &format!("f{i}"), "v", TtlUpdate::At(FUTURE));
    }
    set(b, 0, "p", "v", TtlUpdate::Clear);
    assert_eq!(size(b, 0).keys, 17 + 11);
    let first = b.active_expire(20);
    assert_eq!((first.sampled, first.expired), (20, 20));
    let mut total = first.expired;
    for _ in 0..10 {
        let s = b.active_expire(20);
        assert!(s.sampled <= 20);
        total += s.expired;
    }
    assert_eq!(total, 50);
    assert_eq!(size(b, 0), stats(11, 10));
    assert_eq!(size(b, 1), stats(0, 0));
    assert_eq!(size(b, 2), stats(0, 0));
    assert_eq!(count(b.store(), Keyspace::Expiry), 10);
    assert_eq!(b.active_expire(100), Default::default());
    assert_eq!(get(b, 0, "f3").as_deref(), Some(&b"v"[..]));

    // A record dropped behind the index's back (what RocksDB's compaction filter
    // does) is still counted; the active cycle settles its entry and the count.
    set(b, 0, "dropped", "v", TtlUpdate::At(PAST));
    set(b, 0, "recreated", "v", TtlUpdate::At(PAST));
    let mut batch = WriteBatch::new();
    for k in [&b"dropped"[..], b"recreated"] {
        batch.delete(
            Keyspace::Meta,
            encoding::meta_key(0, encoding::key_hash(k), k),
        );
    }
    b.store().write(batch).unwrap();
    set(b, 0, "recreated", "v2", TtlUpdate::Clear);
    assert_eq!(size(b, 0), stats(14, 12));
    assert_eq!(b.active_expire(100).expired, 2);
    assert_eq!(size(b, 0), stats(12, 10));
    assert_eq!(get(b, 0, "recreated").as_deref(), Some(&b"v2"[..]));
}

fn concurrent_updates<S: OrderedStore>(b: &KvBackend<S>) {
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..200 {
                    let k = [Bytes::from_static(b"ctr")];
                    with(b, Scope::Keys(&k), |t| {
                        let mut incr = |v: &mut Vec<u8>| {
                            let n: u64 = std::str::from_utf8(v).unwrap().parse().unwrap_or(0);
                            *v = (n + 1).to_string().into_bytes();
                        };
                        t.update_string(0, b"ctr", true, &mut incr).unwrap();
                    });
                }
            });
        }
        s.spawn(|| {
            for _ in 0..50 {
                b.active_expire(10);
                all(b, |t| t.db_size(0).unwrap());
            }
        });
    });
    assert_eq!(get(b, 0, "ctr").as_deref(), Some(&b"800"[..]));
}

/// Scopes of a group commit see each other's writes, reach the store together at the
/// end, and keep their keys locked until then.
fn group_commit<S: OrderedStore>(b: &KvBackend<S>) {
    set(b, 0, "g1", "old", TtlUpdate::Clear);
    let before = count(b.store(), Keyspace::Meta);
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    std::thread::scope(|s| {
        let mut waiter = None;
        b.group(&mut || {
            set(b, 0, "g1", "new", TtlUpdate::Clear);
            set(b, 0, "g2", "v", TtlUpdate::At(FUTURE));
            // A later scope of the group reads the earlier ones' pending writes.
            assert_eq!(get(b, 0, "g1").as_deref(), Some(&b"new"[..]));
            assert_eq!(get(b, 0, "g2").as_deref(), Some(&b"v"[..]));
            let k = [Bytes::from_static(b"g3")];
            with(b, Scope::Keys(&k), |t| {
                t.set_string(0, b"g3", b"x", TtlUpdate::Clear).unwrap();
            });
            assert_eq!(
                count(b.store(), Keyspace::Meta),
                before,
                "nothing is written before the group ends"
            );
            // Another thread wanting a key of the group waits for its commit.
            let tx = tx.clone();
            waiter = Some(s.spawn(move || {
                let v = get(b, 0, "g3");
                tx.send(()).unwrap();
                v
            }));
            std::thread::sleep(std::time::Duration::from_millis(50));
            assert!(rx.try_recv().is_err(), "the key stays locked");
        })
        .unwrap();
        assert_eq!(
            waiter.unwrap().join().unwrap().as_deref(),
            Some(&b"x"[..]),
            "the waiter sees the committed write"
        );
    });
    assert_eq!(count(b.store(), Keyspace::Meta), before + 2);
    assert_eq!(size(b, 0), stats(3, 1));
    assert_eq!(get(b, 0, "g1").as_deref(), Some(&b"new"[..]));

    // A whole-keyspace scope inside a group commits the group first.
    b.group(&mut || {
        set(b, 0, "g4", "v", TtlUpdate::Clear);
        assert_eq!(size(b, 0), stats(4, 1));
        set(b, 0, "g5", "v", TtlUpdate::Clear);
        all(b, |t| t.flush_db(0).unwrap());
        set(b, 0, "g6", "v", TtlUpdate::Clear);
    })
    .unwrap();
    assert_eq!(size(b, 0), stats(1, 0));
    assert_eq!(get(b, 0, "g4"), None);
    assert_eq!(get(b, 0, "g6").as_deref(), Some(&b"v"[..]));

    // Many scopes: the group commits in parts, and a scope that cannot take its
    // stripe at once (held by another thread) commits the group and waits.
    b.group(&mut || {
        for i in 0..300 {
            set(b, 0, &format!("n{i}"), "v", TtlUpdate::Clear);
        }
        // Release the group's stripes, one of which might be the one of "held".
        all(b, |_| ());
        std::thread::scope(|s| {
            let k = [Bytes::from_static(b"held")];
            let (locked_tx, locked_rx) = std::sync::mpsc::channel::<()>();
            let h = s.spawn(move || {
                with(b, Scope::Keys(&k), |t| {
                    locked_tx.send(()).unwrap();
                    std::thread::sleep(std::time::Duration::from_millis(50));
                    t.set_string(0, b"held", b"1", TtlUpdate::Clear).unwrap();
                })
            });
            locked_rx.recv().unwrap();
            let k = [Bytes::from_static(b"held")];
            with(b, Scope::Keys(&k), |t| {
                assert_eq!(
                    t.get_string(0, b"held").unwrap().as_deref(),
                    Some(&b"1"[..])
                );
                t.set_string(0, b"held", b"2", TtlUpdate::Clear).unwrap();
            });
            h.join().unwrap();
        });
    })
    .unwrap();
    assert_eq!(size(b, 0), stats(302, 0));
    assert_eq!(get(b, 0, "held").as_deref(), Some(&b"2"[..]));
}

/// The row cache follows every write, and forgets records with an expiry.
fn row_cache<S: OrderedStore>(b: &KvBackend<S>) {
    set(b, 0, "r", "1", TtlUpdate::Clear);
    assert_eq!(get(b, 0, "r").as_deref(), Some(&b"1"[..]));
    // Cached: a write behind the backend's back is not seen until the cache is
    // cleared.
    let mut batch = WriteBatch::new();
    let key = encoding::meta_key(0, encoding::key_hash(b"r"), b"r");
    batch.put(Keyspace::Meta, key, MetaRecord::string(b"2", 0, 0).encode());
    b.store().write(batch).unwrap();
    assert_eq!(get(b, 0, "r").as_deref(), Some(&b"1"[..]));
    b.clear_row_cache();
    assert_eq!(get(b, 0, "r").as_deref(), Some(&b"2"[..]));
    // Absent keys are cached too, and a write replaces the entry.
    assert_eq!(get(b, 0, "absent"), None);
    set(b, 0, "absent", "now", TtlUpdate::Clear);
    assert_eq!(get(b, 0, "absent").as_deref(), Some(&b"now"[..]));
    // Volatile records are read from the store.
    set(b, 0, "r", "3", TtlUpdate::At(FUTURE));
    let mut batch = WriteBatch::new();
    let key = encoding::meta_key(0, encoding::key_hash(b"r"), b"r");
    batch.delete(Keyspace::Meta, key);
    b.store().write(batch).unwrap();
    assert_eq!(get(b, 0, "r"), None);
    b.clear_row_cache();
    // A tiny cache still gives right answers.
    let b2 = KvBackend::new_in_memory(4).with_row_cache(250 * ferrokv_storage_disk::STRIPES);
    for i in 0..3000 {
        set(
            &b2,
            0,
            &format!("k{i}"),
            &"v".repeat(i % 50),
            TtlUpdate::Clear,
        );
    }
    for i in 0..3000 {
        assert_eq!(get(&b2, 0, &format!("k{i}")).unwrap(), "v".repeat(i % 50));
    }
    assert_eq!(size(&b2, 0), stats(3000, 0));
}

macro_rules! suite {
    ($name:ident, $fixture:expr) => {
        mod $name {
            use super::*;

            #[test]
            fn strings() {
                let (_d, b) = $fixture;
                string_ops(&b);
            }
            #[test]
            fn ttl() {
                let (_d, b) = $fixture;
                ttl_ops(&b);
            }
            #[test]
            fn update() {
                let (_d, b) = $fixture;
                update_ops(&b);
            }
            #[test]
            fn object_info() {
                let (_d, b) = $fixture;
                object_info_ops(&b);
            }
            #[test]
            fn wrongtype() {
                let (_d, b) = $fixture;
                wrong_type(&b);
            }
            #[test]
            fn rename_and_copy() {
                let (_d, b) = $fixture;
                rename_copy(&b);
            }
            #[test]
            fn scan_keys_randomkey() {
                let (_d, b) = $fixture;
                scan_keys_random(&b);
            }
            #[test]
            fn scan_is_stable_under_writes() {
                let (_d, b) = $fixture;
                scan_stability(&b);
            }
            #[test]
            fn iteration_merges_pending_writes() {
                let (_d, b) = $fixture;
                scan_sees_pending_writes(&b);
            }
            #[test]
            fn scan_keeps_hash_groups_whole() {
                let (_d, b) = $fixture;
                scan_finishes_hash_groups(&b);
            }
            #[test]
            fn flushdb_swapdb() {
                let (_d, b) = $fixture;
                flush_and_swap(&b);
            }
            #[test]
            fn active_expire() {
                let (_d, b) = $fixture;
                active_expiry(&b);
            }
            #[test]
            fn concurrency() {
                let (_d, b) = $fixture;
                concurrent_updates(&b);
            }
            #[test]
            fn group_commits() {
                let (_d, b) = $fixture;
                group_commit(&b);
            }
            #[test]
            fn row_cache_follows_writes() {
                let (_d, b) = $fixture;
                row_cache(&b);
            }
        }
    };
}

suite!(mem, ((), KvBackend::new_in_memory(16)));

#[cfg(feature = "rocksdb")]
suite!(rocks, {
    let dir = tempfile::tempdir().unwrap();
    let b = ferrokv_storage_disk::DiskBackend::open(dir.path(), 16).unwrap();
    (dir, b)
});

/// A store whose writes can be made to fail, to exercise the failure path.
struct FlakyStore {
    inner: MemStore,
    fail: Arc<AtomicBool>,
}

impl OrderedStore for FlakyStore {
    fn get(&self, ks: Keyspace, key: &[u8]) -> StoreResult<Option<Vec<u8>>> {
        self.inner.get(ks, key)
    }
    fn scan(
        &self,
        ks: Keyspace,
        start: &[u8],
        end: Option<&[u8]>,
        visit: &mut ferrokv_storage_disk::store::Visitor<'_>,
    ) -> StoreResult<()> {
        self.inner.scan(ks, start, end, visit)
    }
    fn write(&self, batch: WriteBatch) -> StoreResult<()> {
        if self.fail.load(Ordering::Relaxed) {
            return Err(StoreError("disk full".into()));
        }
        self.inner.write(batch)
    }
    fn sync(&self) -> StoreResult<()> {
        Ok(())
    }
    fn approximate_bytes(&self) -> u64 {
        self.inner.approximate_bytes()
    }
}

#[test]
fn failed_commit_disables_writes() {
    let fail = Arc::new(AtomicBool::new(false));
    let store = FlakyStore {
        inner: MemStore::new(),
        fail: fail.clone(),
    };
    let b = KvBackend::with_store(store, 4, "flaky").unwrap();
    set(&b, 0, "a", "1", TtlUpdate::Clear);
    fail.store(true, Ordering::Relaxed);
    let key = [Bytes::from_static(b"b")];
    let committed = b.atomic(Scope::Keys(&key), &mut |t| {
        t.set_string(0, b"b", b"1", TtlUpdate::Clear).unwrap();
    });
    assert!(
        matches!(committed, Err(StorageError::Io(_))),
        "the scope reports the failed commit"
    );
    assert_eq!(get(&b, 0, "b"), None, "the failed batch is not visible");
    assert_eq!(size(&b, 0), stats(1, 0), "nor counted");
    assert!(b.failure().is_some());
    assert!(b.flush_to_disk().is_err());
    fail.store(false, Ordering::Relaxed);
    all(&b, |t| {
        assert!(matches!(
            t.set_string(0, b"c", b"1", TtlUpdate::Clear),
            Err(StorageError::Io(_))
        ));
        assert!(t.delete(0, b"a").is_err());
        assert_eq!(t.get_string(0, b"a").unwrap().as_deref(), Some(&b"1"[..]));
    });
    b.clear_failure();
    set(&b, 0, "c", "1", TtlUpdate::Clear);
    assert_eq!(size(&b, 0), stats(2, 0));
    assert!(b.flush_to_disk().is_ok());

    // A group whose commit fails reports it, and none of its writes are applied.
    fail.store(true, Ordering::Relaxed);
    let grouped = b.group(&mut || {
        let key = [Bytes::from_static(b"d")];
        b.atomic(Scope::Keys(&key), &mut |t| {
            t.set_string(0, b"d", b"1", TtlUpdate::Clear).unwrap();
        })
        .unwrap();
    });
    assert!(matches!(grouped, Err(StorageError::Io(_))));
    fail.store(false, Ordering::Relaxed);
    b.clear_failure();
    assert_eq!(get(&b, 0, "d"), None);
    assert_eq!(size(&b, 0), stats(2, 0));
}

#[test]
fn open_checks_layout_and_database_count() {
    assert!(KvBackend::with_store(MemStore::new(), 0, "m").is_err());
    let store = MemStore::new();
    let mut batch = WriteBatch::new();
    batch.put(Keyspace::System, encoding::SYS_LAYOUT.to_vec(), vec![99]);
    store.write(batch).unwrap();
    assert!(KvBackend::with_store(store, 16, "m").is_err());
    let store = MemStore::new();
    let mut batch = WriteBatch::new();
    batch.put(Keyspace::Meta, b"junk-without-layout".to_vec(), vec![1]);
    store.write(batch).unwrap();
    assert!(KvBackend::with_store(store, 16, "m").is_err());
}

#[cfg(feature = "rocksdb")]
mod rocks_only {
    use super::*;
    use ferrokv_storage_disk::{DiskBackend, RocksStore};

    #[test]
    fn reopen_keeps_keys_values_expiries_and_swaps() {
        let dir = tempfile::tempdir().unwrap();
        let big = "0123456789".repeat(1000);
        {
            let b = DiskBackend::open(dir.path(), 16).unwrap();
            assert_eq!(b.name(), "disk");
            set(&b, 0, "plain", "v", TtlUpdate::Clear);
            set(&b, 0, "vol", "w", TtlUpdate::At(FUTURE));
            set(&b, 0, "big", &big, TtlUpdate::Clear);
            set(&b, 5, "other", "x", TtlUpdate::Clear);
            set(&b, 0, "dead", "x", TtlUpdate::At(PAST));
            all(&b, |t| t.swap_db(5, 6).unwrap());
            b.flush_to_disk().unwrap();
        }
        {
            // Reopening with more databases keeps the old ones.
            let b = DiskBackend::open(dir.path(), 20).unwrap();
            assert_eq!(b.databases(), 20);
            assert_eq!(size(&b, 0), stats(4, 2), "counters rebuilt from disk");
            assert_eq!(get(&b, 0, "plain").as_deref(), Some(&b"v"[..]));
            assert_eq!(get(&b, 0, "big").as_deref(), Some(big.as_bytes()));
            all(&b, |t| {
                assert_eq!(t.meta(0, b"vol").unwrap().unwrap().expire_at, Some(FUTURE));
            });
            assert_eq!(get(&b, 0, "dead"), None);
            assert_eq!(get(&b, 5, "other"), None);
            assert_eq!(get(&b, 6, "other").as_deref(), Some(&b"x"[..]));
            assert_eq!(size(&b, 6), stats(1, 0));
            set(&b, 19, "new", "n", TtlUpdate::Clear);
            // No flush_to_disk: a clean close keeps unsynced writes too.
        }
        let b = DiskBackend::open(dir.path(), 20).unwrap();
        assert_eq!(size(&b, 0), stats(3, 1));
        assert_eq!(get(&b, 19, "new").as_deref(), Some(&b"n"[..]));
        assert_eq!(b.active_expire(10).expired, 0);
        assert_eq!(full_scan(&b, 0, 2).len(), 3);
    }

    #[test]
    fn one_directory_one_process() {
        let dir = tempfile::tempdir().unwrap();
        let _b = DiskBackend::open(dir.path(), 16).unwrap();
        assert!(DiskBackend::open(dir.path(), 16).is_err());
    }

    #[test]
    fn compaction_drops_expired_records_and_active_cycle_fixes_counts() {
        let dir = tempfile::tempdir().unwrap();
        let b = DiskBackend::open(dir.path(), 16).unwrap();
        set(&b, 0, "expired", "v", TtlUpdate::At(PAST));
        set(&b, 0, "future", "v", TtlUpdate::At(FUTURE));
        set(&b, 0, "plain", "v", TtlUpdate::Clear);
        assert_eq!(count(b.store(), Keyspace::Meta), 3);
        b.store().compact_all().unwrap();
        assert_eq!(
            count(b.store(), Keyspace::Meta),
            2,
            "the filter dropped one"
        );
        assert_eq!(
            count(b.store(), Keyspace::Expiry),
            2,
            "its index entry stays"
        );
        assert_eq!(size(&b, 0), stats(3, 2));
        assert_eq!(b.active_expire(10).expired, 1);
        assert_eq!(size(&b, 0), stats(2, 1));
        assert_eq!(count(b.store(), Keyspace::Expiry), 1);
        assert!(b.dataset_bytes() > 0);
    }

    #[test]
    fn flushdb_is_a_range_delete_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let b = DiskBackend::open(dir.path(), 16).unwrap();
        all(&b, |t| {
            for i in 0..2000 {
                let k = format!("k{i}");
                t.set_string(3, k.as_bytes(), b"v", TtlUpdate::At(FUTURE))
                    .unwrap();
                t.set_string(4, k.as_bytes(), b"v", TtlUpdate::Clear)
                    .unwrap();
            }
        });
        b.store().compact_all().unwrap();
        all(&b, |t| t.flush_db(3).unwrap());
        assert_eq!(size(&b, 3), stats(0, 0));
        assert_eq!(full_scan(&b, 3, 100), Vec::<Bytes>::new());
        assert_eq!(count(b.store(), Keyspace::Meta), 2000);
        assert_eq!(count(b.store(), Keyspace::Expiry), 0);
        drop(b);
        let b = DiskBackend::open(dir.path(), 16).unwrap();
        assert_eq!(size(&b, 3), stats(0, 0));
        assert_eq!(size(&b, 4), stats(2000, 0));
    }

    #[test]
    fn raw_store_multi_get_and_bounds() {
        let dir = tempfile::tempdir().unwrap();
        let s = RocksStore::open(dir.path()).unwrap();
        let mut batch = WriteBatch::new();
        for k in [&b"a"[..], b"b", b"c"] {
            batch.put(Keyspace::SubKey, k.to_vec(), k.to_vec());
        }
        s.write(batch).unwrap();
        let got = s.multi_get(Keyspace::SubKey, &[b"a", b"x", b"c"]).unwrap();
        assert_eq!(got, vec![Some(b"a".to_vec()), None, Some(b"c".to_vec())]);
        let mut seen = Vec::new();
        s.scan(Keyspace::SubKey, b"b", Some(b"c"), &mut |k, _| {
            seen.push(k.to_vec());
            true
        })
        .unwrap();
        assert_eq!(seen, vec![b"b".to_vec()]);
        assert_eq!(s.path(), dir.path());
        s.sync().unwrap();
    }

    /// Scans read memtables and the block cache first and go on from the last
    /// record visited when they need a file: every record comes once, in order,
    /// in both directions, from cold files or a partly warm cache.
    #[test]
    fn scans_resume_when_leaving_the_cache() {
        use ferrokv_storage_disk::RocksConfig;
        let dir = tempfile::tempdir().unwrap();
        let config = RocksConfig {
            block_cache_bytes: 1 << 20,
            write_buffer_bytes: 1 << 20,
        };
        let s = RocksStore::open_with(dir.path(), &config).unwrap();
        let key = |i: u32| format!("k{i:06}").into_bytes();
        let mut batch = WriteBatch::new();
        for i in 0..20_000 {
            batch.put(Keyspace::SubKey, key(i), vec![i as u8; 100]);
        }
        s.write(batch).unwrap();
        s.compact_all().unwrap();
        let collect = |from: u32, to: u32, rev: bool| {
            let mut seen = Vec::new();
            let mut visit = |k: &[u8], v: &[u8]| {
                assert_eq!(v.len(), 100);
                seen.push(k.to_vec());
                true
            };
            let (start, end) = (key(from), key(to));
            if rev {
                s.scan_rev(Keyspace::SubKey, &start, Some(&end), &mut visit)
            } else {
                s.scan(Keyspace::SubKey, &start, Some(&end), &mut visit)
            }
            .unwrap();
            seen
        };
        let want = |from: u32, to: u32, rev: bool| {
            let mut keys: Vec<Vec<u8>> = (from..to).map(key).collect();
            if rev {
                keys.reverse();
            }
            keys
        };
        // Cold: nothing cached yet.
        assert_eq!(collect(0, 20_000, false), want(0, 20_000, false));
        // Partly warm: the first blocks are cached, the rest were evicted by
        // the 1 MiB cache after the full walk.
        s.get(Keyspace::SubKey, &key(10)).unwrap();
        assert_eq!(collect(5, 15_000, false), want(5, 15_000, false));
        assert_eq!(collect(100, 19_990, true), want(100, 19_990, true));
        for i in 19_800..19_950 {
            s.get(Keyspace::SubKey, &key(i)).unwrap();
        }
        assert_eq!(collect(3, 19_950, true), want(3, 19_950, true));
        // A visitor that stops early stops for good.
        let mut n = 0;
        s.scan(Keyspace::SubKey, &key(0), None, &mut |_, _| {
            n += 1;
            n < 7_000
        })
        .unwrap();
        assert_eq!(n, 7_000);
    }
}
