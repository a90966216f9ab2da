//! The storage conformance suite: generic checks of the [`StorageBackend`] / [`Txn`]
//! contract that every backend's tests run, so the memory and disk backends behave
//! alike under the engine. Enabled by the `conformance` feature.
//!
//! ```text
//! #[test]
//! fn conformance() {
//!     ferrokv_core::conformance::run_all(&|| Box::new(MyBackend::new(16)));
//! }
//! ```

use std::collections::HashSet;

use bytes::Bytes;

use crate::storage::{
    End, IncrError, KeyType, Scope, StorageBackend, StorageError, TtlUpdate, Txn,
};

const HOUR_MS: u64 = 3_600_000;

/// Runs `f` in a scope locking `keys`.
fn keyed<R>(b: &dyn StorageBackend, keys: &[&[u8]], f: impl FnOnce(&mut dyn Txn) -> R) -> R {
    let keys: Vec<Bytes> = keys.iter().map(|k| Bytes::copy_from_slice(k)).collect();
    run(b, Scope::Keys(&keys), f)
}

/// Runs `f` in the whole-keyspace scope.
fn all<R>(b: &dyn StorageBackend, f: impl FnOnce(&mut dyn Txn) -> R) -> R {
    run(b, Scope::All, f)
}

fn run<R>(b: &dyn StorageBackend, scope: Scope<'_>, f: impl FnOnce(&mut dyn Txn) -> R) -> R {
    let mut f = Some(f);
    let mut out = None;
    b.atomic(scope, &mut |t| {
        if let Some(f) = f.take() {
            out = Some(f(t));
        }
    })
    .expect("atomic scope failed");
    out.expect("atomic() must run its body exactly once")
}

fn ok<T>(r: Result<T, StorageError>, what: &str) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("{what}: unexpected storage error {e:?}"),
    }
}

fn get(t: &mut dyn Txn, db: usize, key: &[u8]) -> Option<Vec<u8>> {
    ok(t.get_string(db, key), "get_string").map(|b| b.to_vec())
}

/// Every key of `db`, by a full SCAN iteration (duplicates removed).
fn scan_all(b: &dyn StorageBackend, db: usize) -> HashSet<Vec<u8>> {
    let mut seen = HashSet::new();
    let mut cursor = 0;
    for _ in 0..1_000_000 {
        let page = all(b, |t| ok(t.scan(db, cursor, 10), "scan"));
        seen.extend(page.keys.iter().map(|k| k.to_vec()));
        cursor = page.next_cursor;
        if cursor == 0 {
            return seen;
        }
    }
    panic!("SCAN did not finish");
}

/// One check of the suite.
type Check = fn(&dyn StorageBackend);

/// Runs every check, each on a fresh backend from `make` (which must provide at least
/// two databases).
pub fn run_all(make: &dyn Fn() -> Box<dyn StorageBackend>) {
    let checks: &[(&str, Check)] = &[
        ("basics", check_basics),
        ("strings", check_strings),
        ("update_string", check_update_string),
        ("incr_by", check_incr_by),
        ("delete", check_delete),
        ("db_isolation", check_db_isolation),
        ("ttl_kinds", check_ttl_kinds),
        ("set_expire", check_set_expire),
        ("lazy_expiry", check_lazy_expiry),
        ("rename", check_rename),
        ("copy", check_copy),
        ("flush_swap", check_flush_swap),
        ("db_size", check_db_size),
        ("scan_basic", check_scan_basic),
        ("scan_under_writes", check_scan_under_writes),
        ("keys", check_keys),
        ("random_key", check_random_key),
        ("touch_object_info", check_touch_object_info),
        ("active_expire", check_active_expire),
        ("expired_reports", check_expired_reports),
        ("keep_expired", check_keep_expired),
        ("many_keys", check_many_keys),
        ("concurrent_atomic", check_concurrent_atomic),
    ];
    for (name, check) in checks {
        let backend = make();
        eprintln!("conformance: {name} ({})", backend.name());
        check(backend.as_ref());
    }
    crate::conformance_collections::run_all(make);
    crate::conformance_streams::run_all(make);
}

/// Name, database count and the scope clock.
pub fn check_basics(b: &dyn StorageBackend) {
    assert!(!b.name().is_empty(), "backend needs a name");
    assert!(b.databases() >= 2, "the suite needs at least two databases");
    let (t1, t2) = all(b, |t| (t.now_ms(), t.now_ms()));
    assert_eq!(t1, t2, "now_ms is fixed within a scope");
    assert!(
        t1 > 1_600_000_000_000,
        "now_ms is Unix milliseconds, got {t1}"
    );
    assert!(b.flush_to_disk().is_ok(), "flush_to_disk succeeds");
}

/// `incr_by`: missing key, integers, non-integers, overflow, expiry kept, wrong type.
pub fn check_incr_by(b: &dyn StorageBackend) {
    keyed(b, &[b"n", b"s", b"l"], |t| {
        assert_eq!(
            ok(t.incr_by(0, b"n", 5), "incr"),
            Ok(5),
            "missing key counts as 0"
        );
        assert_eq!(ok(t.incr_by(0, b"n", -7), "incr"), Ok(-2));
        assert_eq!(
            ok(t.get_string(0, b"n"), "get").as_deref(),
            Some(&b"-2"[..])
        );
        ok(t.set_string(0, b"s", b"12 ", TtlUpdate::Clear), "set");
        assert_eq!(
            ok(t.incr_by(0, b"s", 1), "incr"),
            Err(IncrError::NotInteger)
        );
        ok(
            t.set_string(
                0,
                b"s",
                &i64::MAX.to_string().into_bytes(),
                TtlUpdate::Clear,
            ),
            "set",
        );
        assert_eq!(ok(t.incr_by(0, b"s", 1), "incr"), Err(IncrError::Overflow));
        assert_eq!(
            ok(t.get_string(0, b"s"), "get").as_deref(),
            Some(i64::MAX.to_string().as_bytes()),
            "a failed increment changes nothing"
        );
        let later = t.now_ms() + 100_000;
        ok(t.set_string(0, b"n", b"10", TtlUpdate::At(later)), "set");
        assert_eq!(ok(t.incr_by(0, b"n", 1), "incr"), Ok(11));
        assert_eq!(
            ok(t.meta(0, b"n"), "meta").and_then(|m| m.expire_at),
            Some(later),
            "the expiry is kept"
        );
        ok(
            t.with_list(0, b"l", true, &mut |l| l.push(End::Tail, b"x")),
            "push",
        );
        assert_eq!(t.incr_by(0, b"l", 1), Err(StorageError::WrongType));
    });
}

/// set/get/len of strings of many sizes, overwrite, binary data, meta.
pub fn check_strings(b: &dyn StorageBackend) {
    let sizes = [0usize, 1, 10, 22, 23, 24, 44, 45, 100, 1000, 100_000];
    keyed(b, &[b"k", b"missing"], |t| {
        assert_eq!(get(t, 0, b"missing"), None, "missing key reads as None");
        assert_eq!(ok(t.string_len(0, b"missing"), "len"), None);
        assert_eq!(ok(t.meta(0, b"missing"), "meta"), None);
        for &n in &sizes {
            let v: Vec<u8> = (0..n).map(|i| (i * 31 % 256) as u8).collect();
            ok(t.set_string(0, b"k", &v, TtlUpdate::Clear), "set");
            assert_eq!(
                get(t, 0, b"k").as_deref(),
                Some(&v[..]),
                "get after set of {n} bytes"
            );
            assert_eq!(
                ok(t.string_len(0, b"k"), "len"),
                Some(n),
                "string_len of {n} bytes"
            );
        }
        let m = ok(t.meta(0, b"k"), "meta").expect("meta of a live key");
        assert_eq!(m.key_type, KeyType::String);
        assert_eq!(m.expire_at, None);
    });
    // Keys of every length, including binary and empty keys.
    let keys: Vec<Vec<u8>> = sizes
        .iter()
        .map(|&n| (0..n).map(|i| (i * 7 % 256) as u8).collect())
        .collect();
    for k in &keys {
        keyed(b, &[k], |t| {
            ok(t.set_string(0, k, k, TtlUpdate::Clear), "set")
        });
    }
    for k in &keys {
        let got = keyed(b, &[k], |t| get(t, 0, k));
        assert_eq!(
            got.as_deref(),
            Some(&k[..]),
            "key of {} bytes reads back",
            k.len()
        );
    }
    // Values persist across scopes.
    keyed(b, &[b"persist"], |t| {
        ok(t.set_string(0, b"persist", b"v1", TtlUpdate::Clear), "set")
    });
    let got = keyed(b, &[b"persist"], |t| get(t, 0, b"persist"));
    assert_eq!(
        got.as_deref(),
        Some(&b"v1"[..]),
        "write visible to a later scope"
    );
}

/// In-place edits: append loops, creation, missing keys, TTL kept.
pub fn check_update_string(b: &dyn StorageBackend) {
    keyed(b, &[b"u", b"nope"], |t| {
        let mut called = false;
        let r = ok(
            t.update_string(0, b"nope", false, &mut |_| called = true),
            "update missing",
        );
        assert!(
            !r,
            "update_string on a missing key without create returns false"
        );
        assert!(!called, "edit not called for a missing key");
        assert_eq!(get(t, 0, b"nope"), None, "no key created");

        let r = ok(
            t.update_string(0, b"u", true, &mut |v| {
                assert!(v.is_empty(), "a created key starts empty");
                v.extend_from_slice(b"ab");
            }),
            "update create",
        );
        assert!(r, "update_string with create returns true");
        for i in 0..1000u32 {
            ok(
                t.update_string(0, b"u", false, &mut |v| v.push(b'0' + (i % 10) as u8)),
                "append",
            );
        }
        let v = get(t, 0, b"u").expect("edited key exists");
        assert_eq!(v.len(), 1002, "1000 appends");
        assert_eq!(&v[..4], b"ab01");
        ok(
            t.update_string(0, b"u", false, &mut |v| v.truncate(3)),
            "truncate",
        );
        assert_eq!(get(t, 0, b"u").as_deref(), Some(&b"ab0"[..]));
        assert_eq!(ok(t.string_len(0, b"u"), "len"), Some(3));
        // The expiry is kept.
        let at = t.now_ms() + HOUR_MS;
        assert!(ok(t.set_expire(0, b"u", Some(at)), "expire"));
        ok(
            t.update_string(0, b"u", false, &mut |v| v.push(b'!')),
            "append",
        );
        let m = ok(t.meta(0, b"u"), "meta").expect("live");
        assert_eq!(m.expire_at, Some(at), "update_string keeps the expiry");
        // A plain set replaces an edited string.
        ok(t.set_string(0, b"u", b"fresh", TtlUpdate::Clear), "set");
        assert_eq!(get(t, 0, b"u").as_deref(), Some(&b"fresh"[..]));
    });
}

/// delete returns whether the key existed.
pub fn check_delete(b: &dyn StorageBackend) {
    keyed(b, &[b"d"], |t| {
        assert!(
            !ok(t.delete(0, b"d"), "delete"),
            "deleting a missing key returns false"
        );
        ok(t.set_string(0, b"d", b"x", TtlUpdate::Clear), "set");
        assert!(
            ok(t.delete(0, b"d"), "delete"),
            "deleting a live key returns true"
        );
        assert_eq!(get(t, 0, b"d"), None, "deleted key is gone");
        assert!(
            !ok(t.delete(0, b"d"), "delete"),
            "second delete returns false"
        );
        ok(
            t.set_string(0, b"d", b"y", TtlUpdate::At(t.now_ms() + HOUR_MS)),
            "set",
        );
        assert!(ok(t.delete(0, b"d"), "delete"));
        ok(t.set_string(0, b"d", b"z", TtlUpdate::Keep), "set");
        let m = ok(t.meta(0, b"d"), "meta").expect("live");
        assert_eq!(
            m.expire_at, None,
            "a deleted key's expiry does not come back"
        );
    });
}

/// The same key in two databases is two keys.
pub fn check_db_isolation(b: &dyn StorageBackend) {
    keyed(b, &[b"same"], |t| {
        ok(t.set_string(0, b"same", b"zero", TtlUpdate::Clear), "set");
        ok(
            t.set_string(1, b"same", b"one", TtlUpdate::At(t.now_ms() + HOUR_MS)),
            "set",
        );
        assert_eq!(get(t, 0, b"same").as_deref(), Some(&b"zero"[..]));
        assert_eq!(get(t, 1, b"same").as_deref(), Some(&b"one"[..]));
        let m0 = ok(t.meta(0, b"same"), "meta").expect("live");
        assert_eq!(m0.expire_at, None, "expiry is per database");
        assert!(ok(t.delete(0, b"same"), "delete"));
        assert_eq!(
            get(t, 1, b"same").as_deref(),
            Some(&b"one"[..]),
            "other db untouched"
        );
    });
}

/// TtlUpdate::Clear / Keep / At on set_string.
pub fn check_ttl_kinds(b: &dyn StorageBackend) {
    keyed(b, &[b"t", b"n"], |t| {
        let now = t.now_ms();
        let at = now + HOUR_MS;
        ok(t.set_string(0, b"t", b"v", TtlUpdate::At(at)), "set at");
        let m = ok(t.meta(0, b"t"), "meta").expect("live");
        assert_eq!(m.expire_at, Some(at), "At sets the expiry");
        ok(t.set_string(0, b"t", b"v2", TtlUpdate::Keep), "set keep");
        let m = ok(t.meta(0, b"t"), "meta").expect("live");
        assert_eq!(m.expire_at, Some(at), "Keep keeps the expiry");
        assert_eq!(
            get(t, 0, b"t").as_deref(),
            Some(&b"v2"[..]),
            "Keep still writes"
        );
        ok(
            t.set_string(0, b"t", b"v3", TtlUpdate::At(at + 1)),
            "set at",
        );
        let m = ok(t.meta(0, b"t"), "meta").expect("live");
        assert_eq!(m.expire_at, Some(at + 1), "At replaces the expiry");
        ok(t.set_string(0, b"t", b"v4", TtlUpdate::Clear), "set clear");
        let m = ok(t.meta(0, b"t"), "meta").expect("live");
        assert_eq!(m.expire_at, None, "Clear removes the expiry");
        ok(
            t.set_string(0, b"n", b"v", TtlUpdate::Keep),
            "set keep on missing",
        );
        let m = ok(t.meta(0, b"n"), "meta").expect("created");
        assert_eq!(m.expire_at, None, "Keep on a new key means no expiry");
    });
}

/// set_expire on live, missing and persistent keys.
pub fn check_set_expire(b: &dyn StorageBackend) {
    keyed(b, &[b"e", b"missing"], |t| {
        let at = t.now_ms() + HOUR_MS;
        assert!(
            !ok(t.set_expire(0, b"missing", Some(at)), "expire"),
            "set_expire on a missing key returns false"
        );
        assert_eq!(
            ok(t.meta(0, b"missing"), "meta"),
            None,
            "and does not create it"
        );
        assert!(!ok(t.set_expire(0, b"missing", None), "persist"));
        ok(t.set_string(0, b"e", b"v", TtlUpdate::Clear), "set");
        assert!(
            ok(t.set_expire(0, b"e", None), "persist"),
            "persist on a live key"
        );
        assert!(ok(t.set_expire(0, b"e", Some(at)), "expire"));
        assert_eq!(
            ok(t.meta(0, b"e"), "meta").and_then(|m| m.expire_at),
            Some(at)
        );
        assert!(ok(t.set_expire(0, b"e", Some(at + 5)), "expire again"));
        assert_eq!(
            ok(t.meta(0, b"e"), "meta").and_then(|m| m.expire_at),
            Some(at + 5)
        );
        assert!(ok(t.set_expire(0, b"e", None), "persist"));
        let m = ok(t.meta(0, b"e"), "meta").expect("persist keeps the key");
        assert_eq!(m.expire_at, None, "persist removes the expiry");
        assert_eq!(get(t, 0, b"e").as_deref(), Some(&b"v"[..]));
    });
    let stats = all(b, |t| ok(t.db_size(0), "db_size"));
    assert_eq!((stats.keys, stats.expires), (1, 0), "no expiry left behind");
}

/// Keys whose expiry is in the past read as missing everywhere.
pub fn check_lazy_expiry(b: &dyn StorageBackend) {
    let keys: [&[u8]; 6] = [b"x1", b"x2", b"x3", b"x4", b"x5", b"x6"];
    keyed(b, &keys, |t| {
        let past = t.now_ms() - 10_000;
        for k in keys {
            ok(t.set_string(0, k, b"old", TtlUpdate::At(past)), "set past");
        }
        assert_eq!(get(t, 0, b"x1"), None, "expired key: get");
        assert_eq!(ok(t.string_len(0, b"x2"), "len"), None, "expired key: len");
        assert_eq!(ok(t.meta(0, b"x3"), "meta"), None, "expired key: meta");
        assert!(
            !ok(t.delete(0, b"x4"), "delete"),
            "expired key: delete returns false"
        );
        assert!(
            !ok(t.set_expire(0, b"x5", Some(past + HOUR_MS)), "expire"),
            "expired key: set_expire returns false"
        );
        assert!(
            !ok(t.touch(0, b"x5"), "touch"),
            "expired key: touch returns false"
        );
        assert_eq!(ok(t.object_info(0, b"x5"), "object"), None);
        assert!(
            !ok(t.update_string(0, b"x6", false, &mut |_| {}), "update"),
            "expired key: update without create returns false"
        );
        ok(
            t.update_string(0, b"x6", true, &mut |v| {
                assert!(v.is_empty(), "an expired key is recreated empty");
                v.extend_from_slice(b"new");
            }),
            "update create",
        );
        let m = ok(t.meta(0, b"x6"), "meta").expect("recreated");
        assert_eq!(m.expire_at, None, "recreated key has no expiry");
        ok(
            t.set_string(0, b"x1", b"again", TtlUpdate::At(past)),
            "set past",
        );
        ok(t.set_string(0, b"x1", b"kept", TtlUpdate::Keep), "set keep");
        let m = ok(t.meta(0, b"x1"), "meta").expect("set over an expired key");
        assert_eq!(
            m.expire_at, None,
            "Keep over an expired key keeps no expiry"
        );
    });
    keyed(b, &[b"rn", b"rn2"], |t| {
        let past = t.now_ms() - 1;
        ok(
            t.set_string(0, b"rn", b"v", TtlUpdate::At(past - 1000)),
            "set",
        );
        assert!(
            !ok(t.rename(0, b"rn", 0, b"rn2"), "rename"),
            "rename of an expired key"
        );
        assert!(
            !ok(t.copy(0, b"rn", 0, b"rn2"), "copy"),
            "copy of an expired key"
        );
        assert_eq!(ok(t.meta(0, b"rn2"), "meta"), None);
    });
    let names = all(b, |t| ok(t.keys(0, &mut |_| true), "keys"));
    let mut names: Vec<Vec<u8>> = names.iter().map(|k| k.to_vec()).collect();
    names.sort();
    assert_eq!(
        names,
        vec![b"x1".to_vec(), b"x6".to_vec()],
        "KEYS skips expired keys"
    );
    assert_eq!(scan_all(b, 0).len(), 2, "SCAN skips expired keys");
}

/// rename within and across databases, with expiry, onto itself and onto a live key.
pub fn check_rename(b: &dyn StorageBackend) {
    keyed(b, &[b"a", b"b", b"c"], |t| {
        let at = t.now_ms() + HOUR_MS;
        assert!(
            !ok(t.rename(0, b"a", 0, b"b"), "rename"),
            "rename of a missing key"
        );
        ok(t.set_string(0, b"a", b"va", TtlUpdate::At(at)), "set");
        ok(t.set_string(0, b"b", b"vb", TtlUpdate::Clear), "set");
        assert!(ok(t.rename(0, b"a", 0, b"b"), "rename"));
        assert_eq!(get(t, 0, b"a"), None, "source gone");
        assert_eq!(
            get(t, 0, b"b").as_deref(),
            Some(&b"va"[..]),
            "destination replaced"
        );
        let m = ok(t.meta(0, b"b"), "meta").expect("live");
        assert_eq!(m.expire_at, Some(at), "expiry moves with the value");
        // Onto itself: kept.
        assert!(ok(t.rename(0, b"b", 0, b"b"), "rename self"));
        assert_eq!(
            get(t, 0, b"b").as_deref(),
            Some(&b"va"[..]),
            "rename onto itself keeps"
        );
        let m = ok(t.meta(0, b"b"), "meta").expect("live");
        assert_eq!(m.expire_at, Some(at), "and keeps the expiry");
        // A persistent source clears the destination's expiry.
        ok(t.set_string(0, b"c", b"vc", TtlUpdate::Clear), "set");
        assert!(ok(t.rename(0, b"c", 0, b"b"), "rename"));
        let m = ok(t.meta(0, b"b"), "meta").expect("live");
        assert_eq!(m.expire_at, None, "destination's old expiry is gone");
        // Across databases (MOVE).
        assert!(ok(t.set_expire(0, b"b", Some(at)), "expire"));
        assert!(ok(t.rename(0, b"b", 1, b"b"), "move"));
        assert_eq!(get(t, 0, b"b"), None);
        assert_eq!(get(t, 1, b"b").as_deref(), Some(&b"vc"[..]));
        assert_eq!(
            ok(t.meta(1, b"b"), "meta").and_then(|m| m.expire_at),
            Some(at)
        );
        assert!(ok(t.rename(1, b"b", 0, b"a"), "rename across dbs"));
        assert_eq!(get(t, 0, b"a").as_deref(), Some(&b"vc"[..]));
        // Big values move too.
        let big = vec![7u8; 10_000];
        ok(t.set_string(1, b"c", &big, TtlUpdate::Clear), "set");
        assert!(ok(t.rename(1, b"c", 0, b"c"), "rename"));
        assert_eq!(get(t, 0, b"c").as_deref(), Some(&big[..]));
    });
    let s0 = all(b, |t| ok(t.db_size(0), "db_size"));
    let s1 = all(b, |t| ok(t.db_size(1), "db_size"));
    assert_eq!((s0.keys, s0.expires), (2, 1), "db 0 after renames");
    assert_eq!((s1.keys, s1.expires), (0, 0), "db 1 after renames");
}

/// copy within and across databases; the copy is independent.
pub fn check_copy(b: &dyn StorageBackend) {
    keyed(b, &[b"src", b"dst"], |t| {
        let at = t.now_ms() + HOUR_MS;
        assert!(
            !ok(t.copy(0, b"src", 0, b"dst"), "copy"),
            "copy of a missing key"
        );
        ok(t.set_string(0, b"src", b"value", TtlUpdate::At(at)), "set");
        ok(t.set_string(0, b"dst", b"old", TtlUpdate::Clear), "set");
        assert!(ok(t.copy(0, b"src", 0, b"dst"), "copy"));
        assert_eq!(
            get(t, 0, b"dst").as_deref(),
            Some(&b"value"[..]),
            "destination replaced"
        );
        assert_eq!(
            ok(t.meta(0, b"dst"), "meta").and_then(|m| m.expire_at),
            Some(at)
        );
        ok(
            t.update_string(0, b"dst", false, &mut |v| v.push(b'!')),
            "append",
        );
        assert_eq!(
            get(t, 0, b"src").as_deref(),
            Some(&b"value"[..]),
            "source independent"
        );
        assert!(ok(t.copy(0, b"src", 1, b"src"), "copy to db 1"));
        assert_eq!(get(t, 1, b"src").as_deref(), Some(&b"value"[..]));
        assert_eq!(
            ok(t.meta(1, b"src"), "meta").and_then(|m| m.expire_at),
            Some(at)
        );
        assert!(ok(t.set_expire(0, b"src", None), "persist"));
        assert!(ok(t.copy(0, b"src", 1, b"src"), "copy over"));
        assert_eq!(
            ok(t.meta(1, b"src"), "meta").and_then(|m| m.expire_at),
            None
        );
        assert_eq!(
            get(t, 0, b"src").as_deref(),
            Some(&b"value"[..]),
            "source kept"
        );
    });
}

fn fill(b: &dyn StorageBackend, db: usize, prefix: &str, n: usize, ttl: TtlUpdate) {
    all(b, |t| {
        for i in 0..n {
            let k = format!("{prefix}{i}");
            ok(t.set_string(db, k.as_bytes(), k.as_bytes(), ttl), "set");
        }
    });
}

/// flush_db empties one database; swap_db exchanges two, expiries included.
pub fn check_flush_swap(b: &dyn StorageBackend) {
    let at = all(b, |t| t.now_ms()) + HOUR_MS;
    fill(b, 0, "zero:", 300, TtlUpdate::Clear);
    fill(b, 1, "one:", 200, TtlUpdate::At(at));
    all(b, |t| ok(t.swap_db(0, 1), "swap"));
    let (s0, s1) = all(b, |t| (ok(t.db_size(0), "size"), ok(t.db_size(1), "size")));
    assert_eq!((s0.keys, s0.expires), (200, 200), "db 0 after swap");
    assert_eq!((s1.keys, s1.expires), (300, 0), "db 1 after swap");
    keyed(b, &[b"one:5", b"zero:5"], |t| {
        assert_eq!(get(t, 0, b"one:5").as_deref(), Some(&b"one:5"[..]));
        assert_eq!(
            ok(t.meta(0, b"one:5"), "meta").and_then(|m| m.expire_at),
            Some(at)
        );
        assert_eq!(get(t, 1, b"zero:5").as_deref(), Some(&b"zero:5"[..]));
        assert_eq!(get(t, 0, b"zero:5"), None);
    });
    all(b, |t| ok(t.flush_db(0), "flush"));
    let (s0, s1) = all(b, |t| (ok(t.db_size(0), "size"), ok(t.db_size(1), "size")));
    assert_eq!((s0.keys, s0.expires), (0, 0), "flushed db is empty");
    assert_eq!(s1.keys, 300, "flush touches one database");
    assert!(scan_all(b, 0).is_empty(), "SCAN of a flushed db");
    keyed(b, &[b"one:5"], |t| {
        assert_eq!(get(t, 0, b"one:5"), None, "flushed key gone");
        ok(
            t.set_string(0, b"one:5", b"x", TtlUpdate::Clear),
            "set after flush",
        );
        assert_eq!(get(t, 0, b"one:5").as_deref(), Some(&b"x"[..]));
    });
    assert_eq!(scan_all(b, 1).len(), 300);
}

/// db_size counts keys and volatile keys.
pub fn check_db_size(b: &dyn StorageBackend) {
    let s = all(b, |t| ok(t.db_size(0), "size"));
    assert_eq!((s.keys, s.expires), (0, 0), "new backend is empty");
    let at = all(b, |t| t.now_ms()) + HOUR_MS;
    fill(b, 0, "p:", 1000, TtlUpdate::Clear);
    fill(b, 0, "v:", 500, TtlUpdate::At(at));
    let s = all(b, |t| ok(t.db_size(0), "size"));
    assert_eq!((s.keys, s.expires), (1500, 500));
    all(b, |t| {
        for i in 0..250 {
            assert!(ok(t.delete(0, format!("v:{i}").as_bytes()), "delete"));
            assert!(ok(
                t.set_expire(0, format!("p:{i}").as_bytes(), Some(at)),
                "expire"
            ));
        }
    });
    let s = all(b, |t| ok(t.db_size(0), "size"));
    assert_eq!((s.keys, s.expires), (1250, 500));
    assert!(b.dataset_bytes() > 0, "dataset_bytes counts the data");
}

/// A full SCAN of an empty, small and medium database.
pub fn check_scan_basic(b: &dyn StorageBackend) {
    assert!(scan_all(b, 0).is_empty(), "SCAN of an empty database");
    let first = all(b, |t| ok(t.scan(0, 0, 10), "scan"));
    assert!(first.keys.is_empty());
    fill(b, 0, "s:", 5, TtlUpdate::Clear);
    assert_eq!(scan_all(b, 0).len(), 5);
    fill(b, 0, "s:", 5000, TtlUpdate::Clear);
    fill(b, 1, "other:", 10, TtlUpdate::Clear);
    let seen = scan_all(b, 0);
    assert_eq!(
        seen.len(),
        5000,
        "SCAN returns every key once the iteration ends"
    );
    for i in 0..5000 {
        assert!(seen.contains(format!("s:{i}").as_bytes()), "s:{i} scanned");
    }
    // A large COUNT finishes in few pages.
    let mut cursor = 0;
    let mut pages = 0;
    let mut seen = HashSet::new();
    loop {
        let page = all(b, |t| ok(t.scan(0, cursor, 100_000), "scan"));
        seen.extend(page.keys);
        pages += 1;
        cursor = page.next_cursor;
        if cursor == 0 {
            break;
        }
        assert!(pages < 100, "SCAN with a large COUNT makes progress");
    }
    assert_eq!(seen.len(), 5000);
}

/// Keys present for a whole SCAN iteration are all returned, even with thousands of
/// inserts and deletes (and so table growth) between pages.
pub fn check_scan_under_writes(b: &dyn StorageBackend) {
    const STABLE: usize = 2000;
    fill(b, 0, "stable:", STABLE, TtlUpdate::Clear);
    fill(b, 0, "doomed:", 1000, TtlUpdate::Clear);
    let mut seen = HashSet::new();
    let mut cursor = 0;
    let mut page_no = 0usize;
    let mut inserted = 0usize;
    loop {
        let page = all(b, |t| ok(t.scan(0, cursor, 10), "scan"));
        seen.extend(page.keys.iter().map(|k| k.to_vec()));
        cursor = page.next_cursor;
        if cursor == 0 {
            break;
        }
        page_no += 1;
        assert!(page_no < 1_000_000, "SCAN did not finish");
        // Grow the keyspace a lot during the first pages, then keep churning.
        let burst = if page_no < 10 { 3000 } else { 50 };
        all(b, |t| {
            for i in inserted..inserted + burst {
                let k = format!("new:{i}");
                ok(t.set_string(0, k.as_bytes(), b"x", TtlUpdate::Clear), "set");
                if i % 3 == 0 {
                    ok(t.delete(0, k.as_bytes()), "delete");
                }
            }
            for i in (page_no * 7..page_no * 7 + 7).filter(|i| *i < 1000) {
                ok(t.delete(0, format!("doomed:{i}").as_bytes()), "delete");
            }
        });
        inserted += burst;
    }
    for i in 0..STABLE {
        assert!(
            seen.contains(format!("stable:{i}").as_bytes()),
            "stable:{i} existed for the whole SCAN but was not returned \
             ({inserted} keys inserted over {page_no} pages)"
        );
    }
    assert!(
        inserted >= 27_000,
        "the check inserted many keys during the scan"
    );
}

/// KEYS with a filter.
pub fn check_keys(b: &dyn StorageBackend) {
    let none = all(b, |t| ok(t.keys(0, &mut |_| true), "keys"));
    assert!(none.is_empty());
    fill(b, 0, "a:", 100, TtlUpdate::Clear);
    fill(b, 0, "b:", 50, TtlUpdate::Clear);
    fill(b, 1, "a:", 7, TtlUpdate::Clear);
    let a = all(b, |t| ok(t.keys(0, &mut |k| k.starts_with(b"a:")), "keys"));
    assert_eq!(a.len(), 100, "KEYS with a filter");
    assert!(a.iter().all(|k| k.starts_with(b"a:")));
    let unique: HashSet<_> = a.iter().collect();
    assert_eq!(unique.len(), 100, "no duplicates");
    let every = all(b, |t| ok(t.keys(0, &mut |_| true), "keys"));
    assert_eq!(every.len(), 150);
    let one = all(b, |t| ok(t.keys(1, &mut |_| true), "keys"));
    assert_eq!(one.len(), 7, "KEYS is per database");
}

/// random_key returns live keys only, and None for an empty or all-expired database.
pub fn check_random_key(b: &dyn StorageBackend) {
    assert_eq!(all(b, |t| ok(t.random_key(0), "random")), None, "empty db");
    let past = all(b, |t| t.now_ms()) - 10_000;
    fill(b, 0, "dead:", 500, TtlUpdate::At(past));
    assert_eq!(
        all(b, |t| ok(t.random_key(0), "random")),
        None,
        "a db with only expired keys has no random key"
    );
    fill(b, 0, "dead:", 500, TtlUpdate::At(past));
    fill(b, 0, "live:", 3, TtlUpdate::Clear);
    for _ in 0..20 {
        let k = all(b, |t| ok(t.random_key(0), "random")).expect("a live key exists");
        assert!(k.starts_with(b"live:"), "random_key returned {k:?}");
    }
    fill(b, 0, "many:", 1000, TtlUpdate::Clear);
    let mut distinct = HashSet::new();
    for _ in 0..200 {
        let k = all(b, |t| ok(t.random_key(0), "random")).expect("live");
        assert!(!k.starts_with(b"dead:"));
        distinct.insert(k);
    }
    assert!(
        distinct.len() > 20,
        "random_key is random ({} distinct)",
        distinct.len()
    );
}

/// touch, and OBJECT details with Redis' string encodings.
pub fn check_touch_object_info(b: &dyn StorageBackend) {
    keyed(b, &[b"o"], |t| {
        assert!(!ok(t.touch(0, b"o"), "touch"), "touch of a missing key");
        assert_eq!(ok(t.object_info(0, b"o"), "object"), None);
        let cases: [(&[u8], &str); 6] = [
            (b"12345", "int"),
            (b"-9223372036854775808", "int"),
            (b"0123", "embstr"),
            (b"hello", "embstr"),
            (&[b'x'; 44], "embstr"),
            (&[b'x'; 45], "raw"),
        ];
        for (v, enc) in cases {
            ok(t.set_string(0, b"o", v, TtlUpdate::Clear), "set");
            let info = ok(t.object_info(0, b"o"), "object").expect("live");
            assert_eq!(
                info.encoding,
                enc,
                "encoding of {:?}",
                String::from_utf8_lossy(v)
            );
            assert!(info.idle_ms < 10_000, "just written, idle {}", info.idle_ms);
        }
        ok(t.set_string(0, b"o", b"ab", TtlUpdate::Clear), "set");
        ok(
            t.update_string(0, b"o", false, &mut |v| v.push(b'c')),
            "append",
        );
        let info = ok(t.object_info(0, b"o"), "object").expect("live");
        assert_eq!(info.encoding, "raw", "an edited string is raw");
        assert!(ok(t.touch(0, b"o"), "touch"));
    });
}

/// active_expire removes past-due keys and leaves the rest.
pub fn check_active_expire(b: &dyn StorageBackend) {
    let now = all(b, |t| t.now_ms());
    fill(b, 0, "gone:", 300, TtlUpdate::At(now - 10_000));
    fill(b, 1, "gone:", 100, TtlUpdate::At(now - 10_000));
    fill(b, 0, "later:", 100, TtlUpdate::At(now + HOUR_MS));
    fill(b, 0, "plain:", 100, TtlUpdate::Clear);
    let mut expired = 0;
    for _ in 0..10_000 {
        let s = b.active_expire(100);
        assert!(
            s.expired <= s.sampled,
            "expired {} > sampled {}",
            s.expired,
            s.sampled
        );
        expired += s.expired;
        let size = all(b, |t| {
            ok(t.db_size(0), "size").keys + ok(t.db_size(1), "size").keys
        });
        if size == 200 {
            break;
        }
    }
    assert_eq!(expired, 400, "active expiry removes every past-due key");
    let s = all(b, |t| ok(t.db_size(0), "size"));
    assert_eq!((s.keys, s.expires), (200, 100));
    let s = b.active_expire(1000);
    assert_eq!(s.expired, 0, "nothing left to expire");
}

/// With `set_keep_expired` (clients paused), reads report expired keys missing
/// but leave them in place and report nothing; without it they are removed again.
pub fn check_keep_expired(b: &dyn StorageBackend) {
    keyed(b, &[b"gone", b"live"], |t| {
        let past = t.now_ms() - 10_000;
        ok(
            t.set_string(0, b"gone", b"v", TtlUpdate::At(past)),
            "set past",
        );
        ok(t.set_string(0, b"live", b"v", TtlUpdate::Clear), "set");
    });
    all(b, |t| {
        t.set_keep_expired(true);
        assert_eq!(get(t, 0, b"gone"), None);
        assert_eq!(ok(t.meta(0, b"gone"), "meta"), None);
        let keys = ok(t.keys(0, &mut |_| true), "keys");
        assert_eq!(keys, vec![Bytes::from_static(b"live")]);
        let page = ok(t.scan(0, 0, 100), "scan");
        assert_eq!(page.keys, vec![Bytes::from_static(b"live")]);
        assert_eq!(
            ok(t.random_key(0), "random_key").as_deref(),
            Some(&b"live"[..])
        );
        let mut reported = 0;
        t.drain_expired(&mut |_, _| reported += 1);
        assert_eq!(reported, 0, "nothing was removed");
        t.set_keep_expired(false);
    });
    let s = all(b, |t| ok(t.db_size(0), "size"));
    assert_eq!(s.keys, 2, "the expired key is still stored");
    keyed(b, &[b"gone"], |t| {
        assert_eq!(get(t, 0, b"gone"), None);
        let mut reported = 0;
        t.drain_expired(&mut |_, _| reported += 1);
        assert_eq!(reported, 1, "removed by a normal read");
    });
}

/// Keys removed by lazy expiry are reported once by `drain_expired`, with their
/// database, whatever operation met them; `active_expire_reporting` reports the
/// keys it removes. (Both feed Redis' `expired` keyspace events.)
pub fn check_expired_reports(b: &dyn StorageBackend) {
    let drained = |t: &mut dyn Txn| {
        let mut out = Vec::new();
        t.drain_expired(&mut |db, key| out.push((db, key.to_vec())));
        out.sort();
        out
    };
    let keys: [&[u8]; 8] = [b"r1", b"r2", b"r3", b"r4", b"r5", b"r6", b"r7", b"live"];
    keyed(b, &keys, |t| {
        let past = t.now_ms() - 10_000;
        for k in &keys[..7] {
            ok(t.set_string(0, k, b"v", TtlUpdate::At(past)), "set past");
        }
        ok(
            t.set_string(1, b"r1", b"v", TtlUpdate::At(past)),
            "set past",
        );
        ok(t.set_string(0, b"live", b"v", TtlUpdate::Clear), "set");
        assert_eq!(drained(t), vec![], "nothing expired by a lookup yet");
        assert_eq!(get(t, 0, b"r1"), None);
        assert_eq!(ok(t.meta(1, b"r1"), "meta"), None);
        assert!(!ok(t.delete(0, b"r2"), "delete"));
        ok(
            t.set_string(0, b"r3", b"new", TtlUpdate::Clear),
            "overwrite",
        );
        assert!(!ok(t.with_list(0, b"r4", false, &mut |_| {}), "with_list"));
        ok(t.rename(0, b"r5", 0, b"r6"), "rename of an expired key");
        assert_eq!(get(t, 0, b"live").as_deref(), Some(&b"v"[..]));
        let mut want = vec![
            (0, b"r1".to_vec()),
            (0, b"r2".to_vec()),
            (0, b"r3".to_vec()),
            (0, b"r4".to_vec()),
            (0, b"r5".to_vec()),
            (1, b"r1".to_vec()),
        ];
        want.sort();
        assert_eq!(drained(t), want, "each lazily expired key once");
        assert_eq!(drained(t), vec![], "drained");
        assert_eq!(get(t, 0, b"r1"), None);
        assert_eq!(drained(t), vec![], "a removed key is not reported again");
    });
    let now = all(b, |t| t.now_ms());
    fill(b, 0, "gone:", 30, TtlUpdate::At(now - 10_000));
    fill(b, 1, "gone:", 20, TtlUpdate::At(now - 10_000));
    fill(b, 0, "later:", 10, TtlUpdate::At(now + HOUR_MS));
    let mut reported = HashSet::new();
    let mut expired = 0;
    for _ in 0..10_000 {
        let s = b.active_expire_reporting(50, &mut |db, key| {
            assert!(reported.insert((db, key.to_vec())), "reported twice");
        });
        expired += s.expired;
        if reported.len() >= 52 {
            break;
        }
    }
    assert_eq!(expired, 52, "every past-due key removed");
    // r6 and r7, left expired above, go too.
    let want: HashSet<(usize, Vec<u8>)> = (0..30)
        .map(|i| (0, format!("gone:{i}").into_bytes()))
        .chain((0..20).map(|i| (1, format!("gone:{i}").into_bytes())))
        .chain([(0, b"r6".to_vec()), (0, b"r7".to_vec())])
        .collect();
    assert_eq!(
        reported, want,
        "each actively expired key reported with its db"
    );
}

/// Tens of thousands of keys in one database read back.
pub fn check_many_keys(b: &dyn StorageBackend) {
    const N: usize = 30_000;
    fill(b, 3 % b.databases(), "m:", N, TtlUpdate::Clear);
    all(b, |t| {
        let db = 3 % b.databases();
        for i in (0..N).step_by(7) {
            let k = format!("m:{i}");
            assert_eq!(
                get(t, db, k.as_bytes()).as_deref(),
                Some(k.as_bytes()),
                "{k}"
            );
        }
        for i in 0..N / 2 {
            assert!(ok(t.delete(db, format!("m:{i}").as_bytes()), "delete"));
        }
        assert_eq!(ok(t.db_size(db), "size").keys as usize, N - N / 2);
        for i in 0..N {
            let k = format!("m:{i}");
            assert_eq!(get(t, db, k.as_bytes()).is_some(), i >= N / 2, "{k}");
        }
    });
}

/// Read-modify-write scopes from several threads do not lose updates.
pub fn check_concurrent_atomic(b: &dyn StorageBackend) {
    const THREADS: usize = 4;
    const ROUNDS: usize = 500;
    std::thread::scope(|s| {
        for th in 0..THREADS {
            s.spawn(move || {
                for i in 0..ROUNDS {
                    // Two counters in one scope, locked in a thread-dependent order.
                    let (x, y): (&[u8], &[u8]) = if th % 2 == 0 {
                        (b"counter:a", b"counter:b")
                    } else {
                        (b"counter:b", b"counter:a")
                    };
                    keyed(b, &[x, y], |t| {
                        for k in [x, y] {
                            let n: u64 = get(t, 0, k)
                                .map(|v| String::from_utf8_lossy(&v).parse().unwrap_or(0))
                                .unwrap_or(0);
                            ok(
                                t.set_string(0, k, (n + 1).to_string().as_bytes(), TtlUpdate::Keep),
                                "set",
                            );
                        }
                    });
                    if i % 100 == 0 {
                        all(b, |t| ok(t.db_size(0), "size"));
                    }
                }
            });
        }
    });
    keyed(b, &[b"counter:a", b"counter:b"], |t| {
        let want = (THREADS * ROUNDS).to_string();
        assert_eq!(
            get(t, 0, b"counter:a").as_deref(),
            Some(want.as_bytes()),
            "no lost update"
        );
        assert_eq!(
            get(t, 0, b"counter:b").as_deref(),
            Some(want.as_bytes()),
            "no lost update"
        );
    });
}
