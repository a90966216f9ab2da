//! Memory-backend specific behaviour: lock scopes, LFU/LRU bookkeeping, active expiry
//! budgets, and SCAN cursor stability under random writes (property test).

use std::collections::HashSet;

use bytes::Bytes;
use ferrokv_core::storage::{Scope, StorageBackend, StorageError, TtlUpdate, Txn};
use ferrokv_storage_memory::MemoryBackend;
use proptest::prelude::*;

fn run<R>(b: &MemoryBackend, scope: Scope<'_>, f: impl FnOnce(&mut dyn Txn) -> R) -> R {
    let mut f = Some(f);
    let mut out = None;
    b.atomic(scope, &mut |t| {
        if let Some(f) = f.take() {
            out = Some(f(t));
        }
    })
    .expect("atomic");
    out.expect("body ran")
}

fn is_io(r: Result<impl std::fmt::Debug, StorageError>) -> bool {
    matches!(r, Err(StorageError::Io(_)))
}

#[test]
fn keys_outside_the_scope_are_refused() {
    let b = MemoryBackend::new(16);
    let scope = [Bytes::from_static(b"inside")];
    // Find a key whose shard differs from the scope key's shard.
    let outside: Vec<Vec<u8>> = (0..200).map(|i| format!("out{i}").into_bytes()).collect();
    let refused = run(&b, Scope::Keys(&scope), |t| {
        t.set_string(0, b"inside", b"v", TtlUpdate::Clear)
            .expect("in scope");
        let refused = outside
            .iter()
            .filter(|k| is_io(t.set_string(0, k, b"v", TtlUpdate::Clear)))
            .count();
        assert!(
            refused > 150,
            "keys of other shards are refused ({refused}/200)"
        );
        assert!(is_io(t.scan(0, 0, 10)), "scan needs Scope::All");
        assert!(is_io(t.keys(0, &mut |_| true)));
        assert!(is_io(t.random_key(0)));
        assert!(is_io(t.db_size(0)));
        assert!(is_io(t.flush_db(0)));
        assert!(is_io(t.swap_db(0, 1)));
        assert!(is_io(t.get_string(16, b"inside")), "database out of range");
        refused
    });
    run(&b, Scope::Keys(&[]), |t| {
        assert!(
            is_io(t.get_string(0, b"inside")),
            "an empty scope locks nothing"
        );
    });
    run(&b, Scope::All, |t| {
        assert!(is_io(t.db_size(16)));
        assert!(is_io(t.swap_db(0, 16)));
        // Refused writes did not happen (keys of the locked shard were written).
        assert_eq!(t.db_size(0).expect("size").keys, 1 + 200 - refused as u64);
    });
}

#[test]
fn rename_to_an_unlocked_key_keeps_the_source() {
    let b = MemoryBackend::new(16);
    let scope = [Bytes::from_static(b"src")];
    run(&b, Scope::Keys(&scope), |t| {
        t.set_string(0, b"src", b"v", TtlUpdate::Clear)
            .expect("set");
        for i in 0..100 {
            let dst = format!("dst{i}");
            if t.rename(0, b"src", 0, dst.as_bytes()).is_err() {
                assert!(
                    t.get_string(0, b"src").expect("get").is_some(),
                    "source kept"
                );
                return;
            }
            // Same shard: renamed; rename back.
            assert!(t.rename(0, dst.as_bytes(), 0, b"src").expect("rename back"));
        }
    });
}

#[test]
fn lfu_counter_and_idle_time() {
    let b = MemoryBackend::new(1);
    let scope = [Bytes::from_static(b"hot")];
    run(&b, Scope::Keys(&scope), |t| {
        t.set_string(0, b"hot", b"1", TtlUpdate::Clear)
            .expect("set");
        let info = t.object_info(0, b"hot").expect("info").expect("live");
        assert_eq!(info.freq, 5, "new keys start at LFU_INIT_VAL");
        assert!(info.idle_ms < 2000);
        t.get_string(0, b"hot").expect("get");
        let info = t.object_info(0, b"hot").expect("info").expect("live");
        assert_eq!(info.freq, 6, "the first accesses always count");
        let before = info.freq;
        for _ in 0..10_000 {
            t.touch(0, b"hot").expect("touch");
        }
        let info = t.object_info(0, b"hot").expect("info").expect("live");
        assert!(info.freq > before + 5, "frequent access raises the counter");
        assert!(info.freq < 60, "logarithmic growth ({})", info.freq);
        t.set_string(0, b"hot", b"2", TtlUpdate::Clear)
            .expect("overwrite");
        let again = t.object_info(0, b"hot").expect("info").expect("live");
        assert!(
            again.freq >= info.freq,
            "an overwrite keeps the access history"
        );
    });
}

#[test]
fn active_expire_respects_its_budget() {
    let b = MemoryBackend::new(4);
    let now = run(&b, Scope::All, |t| t.now_ms());
    run(&b, Scope::All, |t| {
        for i in 0..20_000 {
            let k = format!("k{i}");
            t.set_string(i % 4, k.as_bytes(), b"v", TtlUpdate::At(now - 1))
                .expect("set");
        }
    });
    let s = b.active_expire(50);
    assert!(s.sampled <= 50, "sampled {} with a budget of 50", s.sampled);
    assert_eq!(s.expired, s.sampled, "every sampled key was due");
    let mut total = s.expired;
    while total < 20_000 {
        let s = b.active_expire(1000);
        assert!(s.sampled <= 1000);
        assert!(s.expired > 0, "progress");
        total += s.expired;
    }
    let left: u64 = (0..4)
        .map(|db| run(&b, Scope::All, |t| t.db_size(db).expect("size").keys))
        .sum();
    assert_eq!(left, 0);
}

#[test]
fn scan_cursor_from_a_flushed_layout_still_terminates() {
    let b = MemoryBackend::new(2);
    run(&b, Scope::All, |t| {
        for i in 0..30_000 {
            let k = format!("k{i}");
            t.set_string(0, k.as_bytes(), b"v", TtlUpdate::Clear)
                .expect("set");
        }
    });
    let page = run(&b, Scope::All, |t| t.scan(0, 0, 5000).expect("scan"));
    assert!(page.next_cursor != 0);
    // The cursor names a segment that no longer exists after a flush and a swap.
    run(&b, Scope::All, |t| {
        t.swap_db(0, 1).expect("swap");
        t.set_string(0, b"fresh", b"v", TtlUpdate::Clear)
            .expect("set");
    });
    let mut cursor = page.next_cursor;
    let mut pages = 0;
    while cursor != 0 {
        cursor = run(&b, Scope::All, |t| t.scan(0, cursor, 10).expect("scan")).next_cursor;
        pages += 1;
        assert!(pages < 1000);
    }
    // Arbitrary cursors are accepted too.
    for c in [1u64, u64::MAX, 1 << 63, 12345] {
        run(&b, Scope::All, |t| t.scan(1, c, 10).expect("any cursor"));
    }
}

#[test]
fn scan_pages_are_close_to_count() {
    let b = MemoryBackend::new(1);
    run(&b, Scope::All, |t| {
        for i in 0..5000 {
            let k = format!("key:{i}");
            t.set_string(0, k.as_bytes(), b"v", TtlUpdate::Clear)
                .expect("set");
        }
    });
    let mut cursor = 0;
    let mut sizes = Vec::new();
    let mut seen = HashSet::new();
    loop {
        let page = run(&b, Scope::All, |t| t.scan(0, cursor, 10).expect("scan"));
        assert!(
            page.next_cursor == 0 || page.next_cursor > cursor,
            "cursors advance"
        );
        sizes.push(page.keys.len());
        seen.extend(page.keys.iter().map(|k| k.to_vec()));
        cursor = page.next_cursor;
        if cursor == 0 {
            break;
        }
    }
    assert_eq!(seen.len(), 5000);
    let (last, full) = sizes.split_last().expect("pages");
    // Every page but the last holds COUNT keys (a few more only if full 64-bit
    // hashes collide); the last one the rest.
    assert!(
        full.iter().all(|n| (10..=12).contains(n)),
        "page sizes {sizes:?}"
    );
    assert!(*last <= 12, "last page {last}");
    assert!(
        (400..=501).contains(&sizes.len()),
        "{} pages for 5000 keys with COUNT 10",
        sizes.len()
    );
    // A large COUNT spans many segments in one page.
    let page = run(&b, Scope::All, |t| t.scan(0, 0, 1000).expect("scan"));
    assert!(
        page.keys.len() >= 1000,
        "COUNT 1000 page: {}",
        page.keys.len()
    );
    assert!(page.keys.len() <= 1002);
    assert_ne!(page.next_cursor, 0);
    // COUNT beyond the keyspace: everything in one page, and done.
    let page = run(&b, Scope::All, |t| t.scan(0, 0, 10_000).expect("scan"));
    assert_eq!(page.keys.len(), 5000);
    assert_eq!(page.next_cursor, 0);
}

#[test]
fn scan_skips_and_removes_expired_keys() {
    let b = MemoryBackend::new(1);
    let now = run(&b, Scope::All, |t| t.now_ms());
    run(&b, Scope::All, |t| {
        for i in 0..3000 {
            let k = format!("key:{i}");
            let ttl = if i % 2 == 0 {
                TtlUpdate::At(now.saturating_sub(1000))
            } else {
                TtlUpdate::Clear
            };
            t.set_string(0, k.as_bytes(), b"v", ttl).expect("set");
        }
    });
    let mut cursor = 0;
    let mut seen = HashSet::new();
    loop {
        let page = run(&b, Scope::All, |t| t.scan(0, cursor, 10).expect("scan"));
        assert!(page.keys.len() <= 12);
        seen.extend(page.keys.iter().map(|k| k.to_vec()));
        cursor = page.next_cursor;
        if cursor == 0 {
            break;
        }
    }
    assert_eq!(seen.len(), 1500);
    assert!(seen
        .iter()
        .all(|k| std::str::from_utf8(k).unwrap()[4..].parse::<u32>().unwrap() % 2 == 1));
    let left = run(&b, Scope::All, |t| t.db_size(0).expect("size").keys);
    assert_eq!(left, 1500, "the scan removed the expired keys");
}

#[test]
fn dataset_bytes_follows_the_data() {
    let b = MemoryBackend::new(1);
    let empty = b.dataset_bytes();
    let big = vec![b'x'; 1 << 20];
    run(&b, Scope::All, |t| {
        t.set_string(0, b"big", &big, TtlUpdate::Clear)
            .expect("set");
    });
    let with_big = b.dataset_bytes();
    assert!(with_big >= empty + (1 << 20), "big value counted");
    run(&b, Scope::All, |t| {
        t.delete(0, b"big").expect("del");
    });
    assert!(b.dataset_bytes() < empty + 4096, "freed");
}

/// One action between two SCAN pages.
#[derive(Debug, Clone)]
enum Action {
    Insert { from: u32, n: u32 },
    Delete { from: u32, n: u32 },
    Flip { key: u32 },
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        (0u32..50_000, 0u32..5_000).prop_map(|(from, n)| Action::Insert { from, n }),
        (0u32..50_000, 0u32..2_000).prop_map(|(from, n)| Action::Delete { from, n }),
        (0u32..50_000).prop_map(|key| Action::Flip { key }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Every key present from the start to the end of a SCAN is returned, whatever
    /// inserts and deletes (and so segment splits) happen between pages and whatever
    /// COUNT each page asks for; no key that never existed is returned; cursors only
    /// advance, and a page holds about COUNT keys.
    #[test]
    fn scan_returns_every_key_present_throughout(
        stable in 0u32..3_000,
        counts in proptest::collection::vec(1usize..300, 1..8),
        actions in proptest::collection::vec(action(), 1..40),
    ) {
        let b = MemoryBackend::new(1);
        let stable_key = |i: u32| format!("stable:{i}").into_bytes();
        let churn_key = |i: u32| format!("churn:{i}").into_bytes();
        run(&b, Scope::All, |t| {
            for i in 0..stable {
                t.set_string(0, &stable_key(i), b"v", TtlUpdate::Clear).expect("set");
            }
        });
        let mut ever: HashSet<Vec<u8>> = (0..stable).map(stable_key).collect();
        let mut seen = HashSet::new();
        let mut cursor = 0;
        let mut actions = actions.into_iter();
        for page_no in 0.. {
            let count = counts[page_no % counts.len()];
            let page = run(&b, Scope::All, |t| t.scan(0, cursor, count).expect("scan"));
            // At most COUNT, plus keys sharing a full 64-bit hash with the last one.
            prop_assert!(page.keys.len() <= count + 2, "{} keys for COUNT {}", page.keys.len(), count);
            prop_assert!(page.next_cursor == 0 || page.next_cursor > cursor, "cursor went back");
            // Without expired keys, only the last page may be short.
            prop_assert!(page.next_cursor == 0 || page.keys.len() >= count, "short page");
            seen.extend(page.keys.iter().map(|k| k.to_vec()));
            cursor = page.next_cursor;
            if cursor == 0 {
                break;
            }
            if let Some(a) = actions.next() {
                run(&b, Scope::All, |t| match a {
                    Action::Insert { from, n } => {
                        for i in from..from + n {
                            t.set_string(0, &churn_key(i), b"v", TtlUpdate::Clear).expect("set");
                            ever.insert(churn_key(i));
                        }
                    }
                    Action::Delete { from, n } => {
                        for i in from..from + n {
                            t.delete(0, &churn_key(i)).expect("del");
                        }
                    }
                    Action::Flip { key } => {
                        let k = churn_key(key);
                        if !t.delete(0, &k).expect("del") {
                            t.set_string(0, &k, b"v", TtlUpdate::Clear).expect("set");
                            ever.insert(k);
                        }
                    }
                });
            }
        }
        for i in 0..stable {
            prop_assert!(seen.contains(&stable_key(i)), "stable:{} missed", i);
        }
        for k in &seen {
            prop_assert!(ever.contains(k), "scan returned a key that never existed");
        }
    }
}
