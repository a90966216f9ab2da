//! The collection part of the storage conformance suite: generic checks of
//! [`ListOps`](crate::storage::ListOps), [`HashOps`](crate::storage::HashOps),
//! [`SetOps`](crate::storage::SetOps) and [`ZSetOps`] through [`Txn::with_list`] and
//! friends, and of how every key-level operation treats collections. Run by
//! [`crate::conformance::run_all`]; [`run_except`] lets a backend that lacks an
//! optional behaviour (active field expiry) run the rest.

use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};

use bytes::Bytes;

use crate::storage::{
    with_hash, with_list, with_set, with_zset, EncodingLimits, End, KeyType, LexBound, LexRange,
    Scope, ScoreBound, ScoreRange, StorageBackend, StorageError, TtlUpdate, Txn, ZSetOps,
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

/// A small deterministic generator for the model-based checks.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

// ----- reading whole collections -----

fn list_items(t: &mut dyn Txn, db: usize, key: &[u8]) -> Option<Vec<Vec<u8>>> {
    ok(
        with_list(t, db, key, false, |l| {
            let mut out = Vec::new();
            l.iter(0, false, &mut |_, v| {
                out.push(v.to_vec());
                true
            });
            assert_eq!(out.len(), l.len(), "iteration sees len() elements");
            out
        }),
        "with_list",
    )
}

type HashModel = BTreeMap<Vec<u8>, Vec<u8>>;

fn hash_items(t: &mut dyn Txn, db: usize, key: &[u8]) -> Option<HashModel> {
    ok(
        with_hash(t, db, key, false, |h| {
            let mut out = BTreeMap::new();
            h.for_each(&mut |f, v| {
                assert!(
                    out.insert(f.to_vec(), v.to_vec()).is_none(),
                    "for_each visits a field twice"
                );
                true
            });
            out
        }),
        "with_hash",
    )
}

fn set_items(t: &mut dyn Txn, db: usize, key: &[u8]) -> Option<BTreeSet<Vec<u8>>> {
    ok(
        with_set(t, db, key, false, |s| {
            let mut out = BTreeSet::new();
            s.for_each(&mut |m| {
                assert!(out.insert(m.to_vec()), "for_each visits a member twice");
                true
            });
            assert_eq!(out.len(), s.len(), "for_each sees len() members");
            out
        }),
        "with_set",
    )
}

fn zset_items(t: &mut dyn Txn, db: usize, key: &[u8]) -> Option<Vec<(Vec<u8>, f64)>> {
    ok(
        with_zset(t, db, key, false, |z| {
            let mut out = Vec::new();
            z.range_by_rank(0, false, &mut |m, s| {
                out.push((m.to_vec(), s));
                true
            });
            assert_eq!(out.len(), z.len(), "range_by_rank(0) sees len() members");
            out
        }),
        "with_zset",
    )
}

/// Redis' order of sorted-set members: by score (`-0.0 == 0.0`), then by bytes.
fn zcmp(a: &(Vec<u8>, f64), b: &(Vec<u8>, f64)) -> std::cmp::Ordering {
    a.1.partial_cmp(&b.1)
        .unwrap_or(std::cmp::Ordering::Equal)
        .then_with(|| a.0.cmp(&b.0))
}

fn zmodel_sorted(m: &BTreeMap<Vec<u8>, f64>) -> Vec<(Vec<u8>, f64)> {
    let mut v: Vec<(Vec<u8>, f64)> = m.iter().map(|(k, s)| (k.clone(), *s)).collect();
    v.sort_by(zcmp);
    v
}

/// Makes one key of each type in `db`, with a few elements.
fn make_each_type(t: &mut dyn Txn, db: usize) {
    ok(t.set_string(db, b"str", b"v", TtlUpdate::Clear), "set");
    ok(
        with_list(t, db, b"list", true, |l| l.push(End::Tail, b"a")),
        "list",
    );
    ok(
        with_hash(t, db, b"hash", true, |h| h.set(b"f", b"v")),
        "hash",
    );
    ok(with_set(t, db, b"set", true, |s| s.insert(b"m")), "set");
    ok(
        with_zset(t, db, b"zset", true, |z| z.insert(b"m", 1.0)),
        "zset",
    );
}

const TYPE_KEYS: [(&[u8], KeyType); 5] = [
    (b"str", KeyType::String),
    (b"list", KeyType::List),
    (b"hash", KeyType::Hash),
    (b"set", KeyType::Set),
    (b"zset", KeyType::ZSet),
];

/// Runs `with_<kind>` on `key` with a body that records whether it ran.
fn open_as(
    t: &mut dyn Txn,
    kind: KeyType,
    db: usize,
    key: &[u8],
    create: bool,
) -> (Result<bool, StorageError>, bool) {
    let mut ran = false;
    let r = match kind {
        KeyType::List => t.with_list(db, key, create, &mut |_| ran = true),
        KeyType::Hash => t.with_hash(db, key, create, &mut |_| ran = true),
        KeyType::Set => t.with_set(db, key, create, &mut |_| ran = true),
        KeyType::ZSet => t.with_zset(db, key, create, &mut |_| ran = true),
        KeyType::String | KeyType::Stream => t
            .update_string(db, key, create, &mut |_| ran = true)
            .map(|_| true),
    };
    (r, ran)
}

/// Adds one element to a collection of `kind` at `key` (creating it).
fn add_one(t: &mut dyn Txn, kind: KeyType, db: usize, key: &[u8], elem: &[u8]) {
    let r = match kind {
        KeyType::List => with_list(t, db, key, true, |l| l.push(End::Tail, elem)).map(|_| ()),
        KeyType::Hash => with_hash(t, db, key, true, |h| {
            h.set(elem, b"value");
        })
        .map(|_| ()),
        KeyType::Set => with_set(t, db, key, true, |s| {
            s.insert(elem);
        })
        .map(|_| ()),
        KeyType::ZSet => with_zset(t, db, key, true, |z| {
            z.insert(elem, 1.0);
        })
        .map(|_| ()),
        KeyType::String | KeyType::Stream => t.set_string(db, key, elem, TtlUpdate::Keep),
    };
    ok(r, "add_one");
}

/// Removes every element of the collection at `key` through its own operations.
fn remove_all(t: &mut dyn Txn, kind: KeyType, db: usize, key: &[u8]) {
    let r = match kind {
        KeyType::List => with_list(t, db, key, false, |l| while l.pop(End::Head).is_some() {}),
        KeyType::Hash => with_hash(t, db, key, false, |h| {
            let mut fields = Vec::new();
            h.for_each(&mut |f, _| {
                fields.push(f.to_vec());
                true
            });
            for f in fields {
                assert!(h.remove(&f));
            }
        }),
        KeyType::Set => with_set(t, db, key, false, |s| {
            let mut members = Vec::new();
            s.for_each(&mut |m| {
                members.push(m.to_vec());
                true
            });
            for m in members {
                assert!(s.remove(&m));
            }
        }),
        KeyType::ZSet => with_zset(t, db, key, false, |z| {
            let mut members = Vec::new();
            z.range_by_rank(0, false, &mut |m, _| {
                members.push(m.to_vec());
                true
            });
            for m in members {
                assert!(z.remove(&m));
            }
        }),
        KeyType::String | KeyType::Stream => Ok(None),
    };
    ok(r, "remove_all");
}

const COLLECTIONS: [KeyType; 4] = [KeyType::List, KeyType::Hash, KeyType::Set, KeyType::ZSet];

/// One check of the suite.
type Check = fn(&dyn StorageBackend);

/// Every check, by name.
pub const CHECKS: &[(&str, Check)] = &[
    ("list_ops", check_list_ops),
    ("list_model", check_list_model),
    ("hash_ops", check_hash_ops),
    ("hash_model", check_hash_model),
    ("hash_field_expiry_lazy", check_hash_field_expiry_lazy),
    ("hash_field_expiry_active", check_hash_field_expiry_active),
    ("set_ops", check_set_ops),
    ("set_model", check_set_model),
    ("zset_ops", check_zset_ops),
    ("zset_score_ranges", check_zset_score_ranges),
    ("zset_signed_zero_order", check_zset_signed_zero_order),
    ("zset_lex_ranges", check_zset_lex_ranges),
    ("zset_model", check_zset_model),
    ("wrong_type", check_wrong_type),
    ("create_flag", check_create_flag),
    ("empty_deleted", check_empty_deleted),
    ("delete_rename_copy", check_delete_rename_copy),
    ("meta_object_info", check_meta_object_info),
    ("collection_key_expiry", check_collection_key_expiry),
    ("keyspace_iteration", check_keyspace_iteration),
    ("element_scan_under_writes", check_element_scan_under_writes),
    ("encoding_limits", check_encoding_limits),
    ("dataset_bytes", check_dataset_bytes),
];

/// Runs every collection check, each on a fresh backend from `make`.
pub fn run_all(make: &dyn Fn() -> Box<dyn StorageBackend>) {
    run_except(make, &[]);
}

/// Runs every collection check except those named in `skip` (for a backend that
/// documents it lacks that behaviour).
pub fn run_except(make: &dyn Fn() -> Box<dyn StorageBackend>, skip: &[&str]) {
    for (name, check) in CHECKS {
        if skip.contains(name) {
            continue;
        }
        let backend = make();
        eprintln!("conformance: {name} ({})", backend.name());
        check(backend.as_ref());
    }
}

// ----- lists -----

/// Every ListOps operation on a small list, including edges.
pub fn check_list_ops(b: &dyn StorageBackend) {
    keyed(b, &[b"l"], |t| {
        let n = ok(
            with_list(t, 0, b"l", true, |l| {
                assert_eq!(l.len(), 0, "a created list starts empty");
                assert_eq!(l.pop(End::Head), None);
                assert_eq!(l.pop(End::Tail), None);
                assert_eq!(l.get(0), None);
                l.push(End::Tail, b"b");
                l.push(End::Tail, b"c");
                l.push(End::Head, b"a");
                l.len()
            }),
            "with_list",
        );
        assert_eq!(n, Some(3));
        let m = ok(t.meta(0, b"l"), "meta").expect("list stored");
        assert_eq!(m.key_type, KeyType::List);
        assert_eq!(m.expire_at, None, "a created list has no expiry");
        ok(
            with_list(t, 0, b"l", false, |l| {
                assert_eq!(l.get(0).as_deref(), Some(&b"a"[..]));
                assert_eq!(l.get(1).as_deref(), Some(&b"b"[..]));
                assert_eq!(l.get(2).as_deref(), Some(&b"c"[..]));
                assert_eq!(l.get(3), None);
                assert!(l.set(1, b"B"));
                assert!(!l.set(3, b"x"), "set past the end");
                let mut seen = Vec::new();
                l.iter(1, false, &mut |i, v| {
                    seen.push((i, v.to_vec()));
                    true
                });
                assert_eq!(seen, [(1, b"B".to_vec()), (2, b"c".to_vec())]);
                seen.clear();
                l.iter(1, true, &mut |i, v| {
                    seen.push((i, v.to_vec()));
                    true
                });
                assert_eq!(seen, [(1, b"B".to_vec()), (0, b"a".to_vec())]);
                seen.clear();
                l.iter(10, true, &mut |i, v| {
                    seen.push((i, v.to_vec()));
                    true
                });
                assert_eq!(
                    seen.len(),
                    3,
                    "reverse from past the end starts at the tail"
                );
                assert_eq!(seen[0], (2, b"c".to_vec()));
                let mut visits = 0;
                l.iter(3, false, &mut |_, _| {
                    visits += 1;
                    true
                });
                assert_eq!(visits, 0, "forward from the end visits nothing");
                l.iter(0, false, &mut |_, _| {
                    visits += 1;
                    false
                });
                assert_eq!(visits, 1, "iteration stops when visit returns false");
                l.insert(0, b"z");
                l.insert(4, b"end");
                l.insert(2, b"mid");
                // z a mid B c end
                assert_eq!(l.len(), 6);
                assert_eq!(l.get(2).as_deref(), Some(&b"mid"[..]));
                assert_eq!(l.get(5).as_deref(), Some(&b"end"[..]));
                l.remove(&[0, 2, 5]);
                // a B c
                assert_eq!(l.pop(End::Head).as_deref(), Some(&b"a"[..]));
                assert_eq!(l.pop(End::Tail).as_deref(), Some(&b"c"[..]));
                l.push(End::Tail, &[0, 255, b'\n', 0]);
                l.push(End::Tail, b"");
                l.push(End::Tail, b"last");
                // B bin "" last
                l.trim(1, 3);
            }),
            "with_list",
        );
    });
    let got = keyed(b, &[b"l"], |t| list_items(t, 0, b"l"));
    assert_eq!(
        got,
        Some(vec![vec![0, 255, b'\n', 0], Vec::new()]),
        "binary and empty elements, trim keeps start..end"
    );
    // Long elements and trim edges.
    keyed(b, &[b"l"], |t| {
        ok(
            with_list(t, 0, b"l", false, |l| {
                l.push(End::Head, &[b'L'; 100_000]);
                assert_eq!(l.get(0).map(|v| v.len()), Some(100_000));
                l.trim(0, 1000);
                assert_eq!(l.len(), 3, "trim end past len keeps the tail");
                l.trim(1, 1);
            }),
            "with_list",
        );
        assert_eq!(
            ok(t.meta(0, b"l"), "meta"),
            None,
            "a list trimmed to nothing is deleted"
        );
    });
}

/// Random list operations, across many scopes, against a VecDeque model; elements
/// of every size so that any compact encoding converts.
pub fn check_list_model(b: &dyn StorageBackend) {
    let mut m: VecDeque<Vec<u8>> = VecDeque::new();
    let mut rng = Lcg(7);
    for round in 0..60 {
        keyed(b, &[b"lm"], |t| {
            ok(
                with_list(t, 0, b"lm", true, |l| {
                    for step in 0..60 {
                        let r = rng.below(1000);
                        let size = match rng.below(10) {
                            0 => 0,
                            1 => 200 + rng.below(2000),
                            2 if rng.below(20) == 0 => 10_000,
                            _ => rng.below(30),
                        };
                        let mut v: Vec<u8> = format!("{round}.{step}:").into_bytes();
                        v.extend_from_slice(&vec![b'a' + (r % 26) as u8; size]);
                        match r % 10 {
                            0..=2 => {
                                l.push(End::Tail, &v);
                                m.push_back(v);
                            }
                            3 | 4 => {
                                l.push(End::Head, &v);
                                m.push_front(v);
                            }
                            5 => assert_eq!(l.pop(End::Head).map(|b| b.to_vec()), m.pop_front()),
                            6 => assert_eq!(l.pop(End::Tail).map(|b| b.to_vec()), m.pop_back()),
                            7 if !m.is_empty() => {
                                let i = rng.below(m.len());
                                assert!(l.set(i, &v));
                                m[i] = v;
                            }
                            8 => {
                                let i = rng.below(m.len() + 1);
                                l.insert(i, &v);
                                m.insert(i, v);
                            }
                            9 if m.len() > 4 => {
                                let idx: Vec<usize> =
                                    (0..m.len()).filter(|_| rng.below(8) == 0).collect();
                                l.remove(&idx);
                                for &i in idx.iter().rev() {
                                    m.remove(i);
                                }
                            }
                            _ => {}
                        }
                        assert_eq!(l.len(), m.len(), "len after step {round}.{step}");
                    }
                    // Random access and both iteration directions.
                    for _ in 0..20 {
                        if m.is_empty() {
                            break;
                        }
                        let i = rng.below(m.len());
                        assert_eq!(l.get(i).as_deref(), Some(&m[i][..]), "get({i})");
                        let mut fwd = Vec::new();
                        l.iter(i, false, &mut |j, v| {
                            fwd.push((j, v.to_vec()));
                            fwd.len() < 5
                        });
                        let want: Vec<(usize, Vec<u8>)> =
                            m.iter().cloned().enumerate().skip(i).take(5).collect();
                        assert_eq!(fwd, want, "iter({i}) forward");
                        let mut back = Vec::new();
                        l.iter(i, true, &mut |j, v| {
                            back.push((j, v.to_vec()));
                            back.len() < 5
                        });
                        let want: Vec<(usize, Vec<u8>)> = m
                            .iter()
                            .cloned()
                            .enumerate()
                            .take(i + 1)
                            .rev()
                            .take(5)
                            .collect();
                        assert_eq!(back, want, "iter({i}) backward");
                    }
                    if round % 10 == 9 && m.len() > 10 {
                        let (a, z) = (rng.below(3), m.len() - rng.below(3));
                        l.trim(a, z);
                        m.truncate(z);
                        m.drain(..a);
                    }
                }),
                "with_list",
            );
        });
        let got = keyed(b, &[b"lm"], |t| list_items(t, 0, b"lm"));
        if m.is_empty() {
            assert_eq!(got, None, "an emptied list is deleted");
        } else {
            assert_eq!(
                got,
                Some(Vec::from(m.clone())),
                "contents after round {round}"
            );
        }
    }
}

// ----- hashes -----

/// Every HashOps operation on small hashes, including edges.
pub fn check_hash_ops(b: &dyn StorageBackend) {
    keyed(b, &[b"h"], |t| {
        ok(
            with_hash(t, 0, b"h", true, |h| {
                assert_eq!(h.len(), 0);
                assert_eq!(h.get(b"f"), None);
                assert_eq!(h.random(3), None, "random of an empty hash");
                assert!(h.set(b"f1", b"v1"), "new field");
                assert!(!h.set(b"f1", b"v1b"), "existing field");
                assert!(h.set(b"", b""), "empty field and value");
                assert!(h.set(&[0, 255, b'\r', b'\n'], &[1, 2, 0]));
                assert!(h.set(b"long", &[b'x'; 5000]));
                assert_eq!(h.len(), 4);
                assert_eq!(h.get(b"f1").as_deref(), Some(&b"v1b"[..]));
                assert_eq!(h.get(b"").as_deref(), Some(&b""[..]));
                assert_eq!(
                    h.get(&[0, 255, b'\r', b'\n']).as_deref(),
                    Some(&[1, 2, 0][..])
                );
                assert_eq!(h.get(b"long").map(|v| v.len()), Some(5000));
                assert_eq!(h.field_expire(b"f1"), Some(None), "persistent field");
                assert_eq!(h.field_expire(b"nope"), None, "missing field");
                assert!(h.remove(b"long"));
                assert!(!h.remove(b"long"));
                assert!(!h.remove(b"nope"));
                assert_eq!(h.len(), 3);
                let mut visits = 0;
                h.for_each(&mut |_, _| {
                    visits += 1;
                    false
                });
                assert_eq!(visits, 1, "for_each stops when visit returns false");
                let mut picked = HashSet::new();
                for seed in 0..300 {
                    let (f, v) = h.random(seed).expect("non-empty");
                    assert_eq!(h.get(&f), Some(v), "random pairs a field with its value");
                    picked.insert(f);
                }
                assert_eq!(picked.len(), 3, "random reaches every field");
                let mut scanned = HashModel::new();
                let mut cursor = 0;
                for _ in 0..100 {
                    cursor = h.scan(cursor, 10, &mut |f, v| {
                        scanned.insert(f.to_vec(), v.to_vec());
                    });
                    if cursor == 0 {
                        break;
                    }
                }
                assert_eq!(cursor, 0, "a scan of a small hash finishes");
                assert_eq!(scanned.len(), 3);
            }),
            "with_hash",
        );
    });
    let got = keyed(b, &[b"h"], |t| hash_items(t, 0, b"h")).expect("stored");
    let want: HashModel = [
        (b"f1".to_vec(), b"v1b".to_vec()),
        (Vec::new(), Vec::new()),
        (vec![0, 255, b'\r', b'\n'], vec![1, 2, 0]),
    ]
    .into_iter()
    .collect();
    assert_eq!(got, want);
}

/// Random hash operations against a model, growing past any compact encoding
/// (many fields, long values) and shrinking again.
pub fn check_hash_model(b: &dyn StorageBackend) {
    let mut m = HashModel::new();
    let mut rng = Lcg(11);
    for round in 0..40 {
        keyed(b, &[b"hm"], |t| {
            ok(
                with_hash(t, 0, b"hm", true, |h| {
                    for _ in 0..80 {
                        let f = format!("field:{}", rng.below(if round < 20 { 1500 } else { 300 }))
                            .into_bytes();
                        let r = rng.below(10);
                        if r < 6 || round < 10 {
                            let len = if rng.below(15) == 0 {
                                100
                            } else {
                                rng.below(20)
                            };
                            let v = vec![b'a' + (r as u8); len];
                            assert_eq!(h.set(&f, &v), !m.contains_key(&f), "set {f:?}");
                            m.insert(f, v);
                        } else if r < 9 {
                            assert_eq!(h.remove(&f), m.remove(&f).is_some(), "remove");
                        } else {
                            assert_eq!(h.get(&f).map(|v| v.to_vec()), m.get(&f).cloned());
                        }
                    }
                    assert_eq!(h.len(), m.len());
                    if let Some((f, v)) = h.random(rng.next()) {
                        assert_eq!(m.get(&f[..]).map(|x| &x[..]), Some(&v[..]));
                    }
                }),
                "with_hash",
            );
        });
        let got = keyed(b, &[b"hm"], |t| hash_items(t, 0, b"hm"));
        assert_eq!(got.unwrap_or_default(), m, "contents after round {round}");
    }
}

/// Field expiry seen by reads: expired fields are invisible, removed when met, and
/// an overwrite clears a field's expiry.
pub fn check_hash_field_expiry_lazy(b: &dyn StorageBackend) {
    keyed(b, &[b"h", b"h2"], |t| {
        let now = t.now_ms();
        ok(
            with_hash(t, 0, b"h", true, |h| {
                for f in [&b"a"[..], b"b", b"c", b"d", b"e"] {
                    h.set(f, b"v");
                }
                assert!(!h.set_field_expire(b"missing", Some(now + HOUR_MS)));
                assert!(h.set_field_expire(b"a", Some(now + HOUR_MS)));
                assert_eq!(h.field_expire(b"a"), Some(Some(now + HOUR_MS)));
                assert!(h.set_field_expire(b"b", Some(now - 1000)));
                assert_eq!(h.get(b"b"), None, "a past-due field is invisible");
                assert_eq!(h.field_expire(b"b"), None);
                assert!(!h.remove(b"b"), "an expired field does not exist");
                assert!(!h.set_field_expire(b"b", None));
                assert!(h.set_field_expire(b"c", Some(now - 1)));
                let mut seen = Vec::new();
                h.for_each(&mut |f, _| {
                    seen.push(f.to_vec());
                    true
                });
                seen.sort();
                assert_eq!(seen, [b"a".to_vec(), b"d".to_vec(), b"e".to_vec()]);
                for seed in 0..50 {
                    let (f, _) = h.random(seed).expect("live fields");
                    assert_ne!(&f[..], b"c", "random never returns an expired field");
                }
                let mut scanned = Vec::new();
                let mut cursor = 0;
                loop {
                    cursor = h.scan(cursor, 2, &mut |f, _| scanned.push(f.to_vec()));
                    if cursor == 0 {
                        break;
                    }
                }
                assert!(
                    !scanned.contains(&b"c".to_vec()),
                    "scan hides expired fields"
                );
                assert_eq!(h.len(), 3, "expired fields met are removed");
                // Overwriting clears the expiry; persisting removes it.
                assert!(!h.set(b"a", b"new"));
                assert_eq!(h.field_expire(b"a"), Some(None), "set clears the expiry");
                assert!(h.set_field_expire(b"d", Some(now + HOUR_MS)));
                assert!(h.set_field_expire(b"d", None));
                assert_eq!(h.field_expire(b"d"), Some(None));
                // A field set again after it expired is new.
                assert!(h.set_field_expire(b"e", Some(now - 1)));
                assert!(h.set(b"e", b"again"), "an expired field counts as new");
                assert_eq!(h.field_expire(b"e"), Some(None));
                assert!(h.set_field_expire(b"e", Some(now + 2 * HOUR_MS)));
            }),
            "with_hash",
        );
        // Every field expired: the hash disappears once they are met.
        ok(
            with_hash(t, 0, b"h2", true, |h| {
                for i in 0..700 {
                    let f = format!("f{i}");
                    h.set(f.as_bytes(), b"v");
                    h.set_field_expire(f.as_bytes(), Some(now - 10));
                }
            }),
            "with_hash",
        );
        let visited = ok(
            with_hash(t, 0, b"h2", false, |h| {
                let mut n = 0;
                h.for_each(&mut |_, _| {
                    n += 1;
                    true
                });
                n
            }),
            "with_hash",
        );
        assert_eq!(visited, Some(0), "no live field");
        assert_eq!(
            ok(t.meta(0, b"h2"), "meta"),
            None,
            "a hash whose fields all expired is deleted when they are met"
        );
    });
    // Expiries persist across scopes.
    keyed(b, &[b"h"], |t| {
        let now = t.now_ms();
        ok(
            with_hash(t, 0, b"h", false, |h| {
                assert_eq!(
                    h.field_expire(b"e").flatten().map(|at| at > now),
                    Some(true)
                );
                assert_eq!(h.field_expire(b"a"), Some(None));
                assert_eq!(h.get(b"e").as_deref(), Some(&b"again"[..]));
            }),
            "with_hash",
        );
    });
}

/// Active expiry removes past-due hash fields without any read, deletes a hash left
/// empty, and follows a renamed hash.
pub fn check_hash_field_expiry_active(b: &dyn StorageBackend) {
    let now = all(b, |t| t.now_ms());
    keyed(b, &[b"mixed", b"gone", b"moved", b"moved2"], |t| {
        for key in [&b"mixed"[..], b"gone", b"moved"] {
            ok(
                with_hash(t, 0, key, true, |h| {
                    for i in 0..40 {
                        let f = format!("f{i}");
                        h.set(f.as_bytes(), b"v");
                        let at = if key == b"gone" || i % 2 == 0 {
                            now - 1000
                        } else {
                            now + HOUR_MS
                        };
                        h.set_field_expire(f.as_bytes(), Some(at));
                    }
                    h.set(b"plain", b"v");
                    if key == b"gone" {
                        h.remove(b"plain");
                    }
                }),
                "with_hash",
            );
        }
        assert!(ok(t.rename(0, b"moved", 1, b"moved2"), "rename"));
    });
    let lens = |b: &dyn StorageBackend| {
        keyed(b, &[b"mixed", b"gone", b"moved2"], |t| {
            let mixed = ok(with_hash(t, 0, b"mixed", false, |h| h.len()), "len");
            let moved = ok(with_hash(t, 1, b"moved2", false, |h| h.len()), "len");
            let gone = ok(t.meta(0, b"gone"), "meta");
            (mixed, moved, gone.is_some())
        })
    };
    let mut done = false;
    for _ in 0..20_000 {
        b.active_expire(200);
        if lens(b) == (Some(21), Some(21), false) {
            done = true;
            break;
        }
    }
    assert!(
        done,
        "active expiry removes past-due fields (len, live fields, gone hash) = {:?}",
        lens(b)
    );
    keyed(b, &[b"mixed"], |t| {
        let items = hash_items(t, 0, b"mixed").expect("live");
        assert_eq!(items.len(), 21);
        assert!(items.contains_key(&b"f1"[..]) && !items.contains_key(&b"f0"[..]));
    });
}

// ----- sets -----

/// Every SetOps operation, with integer-looking and binary members.
pub fn check_set_ops(b: &dyn StorageBackend) {
    let members: [&[u8]; 14] = [
        b"1",
        b"-5",
        b"007",
        b"7",
        b"-0",
        b"0",
        b"1.0",
        b"+3",
        b"9223372036854775807",
        b"-9223372036854775808",
        b"9223372036854775808",
        b"",
        &[0, 255, 10],
        &[b'm'; 100],
    ];
    keyed(b, &[b"s"], |t| {
        ok(
            with_set(t, 0, b"s", true, |s| {
                assert_eq!(s.len(), 0);
                assert_eq!(s.random(1), None);
                assert!(!s.contains(b"1"));
                for m in members {
                    assert!(s.insert(m), "new member {m:?}");
                    assert!(!s.insert(m), "duplicate member {m:?}");
                }
                assert_eq!(s.len(), members.len());
                for m in members {
                    assert!(s.contains(m), "member {m:?}");
                }
                assert!(!s.contains(b"3"), "+3 is not 3");
                assert!(!s.contains(b"00"), "-0 and 007 are not numbers");
                assert!(s.remove(b"7"));
                assert!(!s.remove(b"7"));
                assert!(s.contains(b"007"), "007 is distinct from 7");
                assert!(s.insert(b"7"));
                let mut picked = HashSet::new();
                for seed in 0..2000 {
                    let m = s.random(seed).expect("non-empty");
                    assert!(s.contains(&m));
                    picked.insert(m);
                }
                assert_eq!(picked.len(), members.len(), "random reaches every member");
                let mut visits = 0;
                s.for_each(&mut |_| {
                    visits += 1;
                    false
                });
                assert_eq!(visits, 1);
            }),
            "with_set",
        );
    });
    let got = keyed(b, &[b"s"], |t| set_items(t, 0, b"s")).expect("stored");
    let want: BTreeSet<Vec<u8>> = members.iter().map(|m| m.to_vec()).collect();
    assert_eq!(got, want);
    // Integers only, past any intset limit, then a string.
    keyed(b, &[b"ints"], |t| {
        ok(
            with_set(t, 0, b"ints", true, |s| {
                for i in (0..1200i64).rev() {
                    assert!(s.insert((i * 1_000_003 - 600_000_000).to_string().as_bytes()));
                }
                assert!(s.insert(b"a string"));
                for i in 0..1200i64 {
                    assert!(s.contains((i * 1_000_003 - 600_000_000).to_string().as_bytes()));
                }
            }),
            "with_set",
        );
        assert_eq!(set_items(t, 0, b"ints").map(|s| s.len()), Some(1201));
    });
}

/// Random set operations against a model (integers and strings, across sizes).
pub fn check_set_model(b: &dyn StorageBackend) {
    let mut m: BTreeSet<Vec<u8>> = BTreeSet::new();
    let mut rng = Lcg(13);
    for round in 0..40 {
        keyed(b, &[b"sm"], |t| {
            ok(
                with_set(t, 0, b"sm", true, |s| {
                    for _ in 0..100 {
                        let universe = if round < 20 { 2000 } else { 200 };
                        let x = rng.below(universe);
                        let member = if round < 5 || !x.is_multiple_of(3) {
                            (x as i64 - 700).to_string().into_bytes()
                        } else {
                            format!("s{x}").into_bytes()
                        };
                        if rng.below(3) > 0 && round != 30 {
                            assert_eq!(s.insert(&member), m.insert(member.clone()));
                        } else {
                            assert_eq!(s.remove(&member), m.remove(&member));
                        }
                    }
                    assert_eq!(s.len(), m.len());
                    if let Some(r) = s.random(rng.next()) {
                        assert!(m.contains(&r[..]));
                    }
                }),
                "with_set",
            );
        });
        let got = keyed(b, &[b"sm"], |t| set_items(t, 0, b"sm"));
        assert_eq!(got.unwrap_or_default(), m, "contents after round {round}");
    }
}

// ----- sorted sets -----

/// Every ZSetOps operation on a small set: scores, ranks, rank ranges, ties.
pub fn check_zset_ops(b: &dyn StorageBackend) {
    keyed(b, &[b"z"], |t| {
        ok(
            with_zset(t, 0, b"z", true, |z| {
                assert_eq!(z.len(), 0);
                assert_eq!(z.insert(b"a", 1.0), None);
                assert_eq!(z.insert(b"b", 2.0), None);
                assert_eq!(z.insert(b"c", 2.0), None);
                assert_eq!(
                    z.insert(b"a", 3.0),
                    Some(1.0),
                    "update returns the old score"
                );
                assert_eq!(z.insert(b"a", 3.0), Some(3.0));
                assert_eq!(z.score(b"a"), Some(3.0));
                assert_eq!(z.score(b"x"), None);
                assert_eq!(z.len(), 3);
                // Order: b(2) c(2) a(3): ties by member bytes.
                assert_eq!(z.rank(b"b", false), Some(0));
                assert_eq!(z.rank(b"c", false), Some(1));
                assert_eq!(z.rank(b"a", false), Some(2));
                assert_eq!(z.rank(b"a", true), Some(0));
                assert_eq!(z.rank(b"b", true), Some(2));
                assert_eq!(z.rank(b"x", false), None);
                let mut seen = Vec::new();
                z.range_by_rank(1, false, &mut |m, s| {
                    seen.push((m.to_vec(), s));
                    true
                });
                assert_eq!(seen, [(b"c".to_vec(), 2.0), (b"a".to_vec(), 3.0)]);
                seen.clear();
                z.range_by_rank(0, true, &mut |m, s| {
                    seen.push((m.to_vec(), s));
                    seen.len() < 2
                });
                assert_eq!(seen, [(b"a".to_vec(), 3.0), (b"c".to_vec(), 2.0)]);
                let mut visits = 0;
                z.range_by_rank(3, false, &mut |_, _| {
                    visits += 1;
                    true
                });
                assert_eq!(visits, 0, "rank past the end visits nothing");
                assert!(z.remove(b"c"));
                assert!(!z.remove(b"c"));
                assert_eq!(z.rank(b"a", false), Some(1));
                assert_eq!(z.insert(b"", -1.5), None, "empty member");
                assert_eq!(z.insert(&[0, 255], 1e300), None, "binary member");
                assert_eq!(z.insert(&[b'q'; 200], 7.25), None, "long member");
                let mut picked = Vec::new();
                let mut cursor = 0;
                loop {
                    cursor = z.scan(cursor, 2, &mut |m, s| picked.push((m.to_vec(), s)));
                    if cursor == 0 {
                        break;
                    }
                }
                picked.sort_by(zcmp);
                picked.dedup();
                assert_eq!(picked.len(), 5, "scan returns every member");
            }),
            "with_zset",
        );
    });
    let got = keyed(b, &[b"z"], |t| zset_items(t, 0, b"z")).expect("stored");
    let want = vec![
        (Vec::new(), -1.5),
        (b"b".to_vec(), 2.0),
        (b"a".to_vec(), 3.0),
        (vec![b'q'; 200], 7.25),
        (vec![0, 255], 1e300),
    ];
    assert_eq!(got, want);
}

fn incl(v: f64) -> ScoreBound {
    ScoreBound {
        value: v,
        exclusive: false,
    }
}

fn excl(v: f64) -> ScoreBound {
    ScoreBound {
        value: v,
        exclusive: true,
    }
}

fn score_range(z: &mut dyn ZSetOps, r: &ScoreRange, rev: bool) -> Vec<(Vec<u8>, f64)> {
    let mut out = Vec::new();
    z.range_by_score(r, rev, &mut |m, s| {
        out.push((m.to_vec(), s));
        true
    });
    out
}

/// Score ranges: infinities, exclusive bounds, empty and inverted intervals, the
/// sign of zero, reverse order and early stop, counts.
pub fn check_zset_score_ranges(b: &dyn StorageBackend) {
    let items: Vec<(Vec<u8>, f64)> = vec![
        (b"ninf".to_vec(), f64::NEG_INFINITY),
        (b"m5".to_vec(), -5.0),
        (b"half".to_vec(), -0.5),
        (b"z0a".to_vec(), 0.0),
        (b"z0b".to_vec(), 0.0),
        (b"p15".to_vec(), 1.5),
        (b"p2".to_vec(), 2.0),
        (b"big".to_vec(), 1e18),
        (b"pinf".to_vec(), f64::INFINITY),
    ];
    keyed(b, &[b"zr"], |t| {
        ok(
            with_zset(t, 0, b"zr", true, |z| {
                for (m, s) in &items {
                    z.insert(m, *s);
                }
                let ranges = [
                    (incl(f64::NEG_INFINITY), incl(f64::INFINITY)),
                    (excl(f64::NEG_INFINITY), excl(f64::INFINITY)),
                    (incl(0.0), incl(0.0)),
                    (excl(0.0), incl(2.0)),
                    (incl(1.5), excl(2.0)),
                    (excl(-5.0), excl(1.5)),
                    (incl(2.0), incl(1.0)),
                    (excl(1.5), excl(1.5)),
                    (incl(1.5), incl(1.5)),
                    (incl(-0.0), incl(-0.0)),
                    (excl(-1.0), incl(f64::NEG_INFINITY)),
                    (incl(3.0), incl(f64::INFINITY)),
                    (incl(f64::INFINITY), incl(f64::INFINITY)),
                    (incl(f64::NEG_INFINITY), excl(-5.0)),
                ];
                for (min, max) in ranges {
                    let r = ScoreRange { min, max };
                    let want: Vec<(Vec<u8>, f64)> = items
                        .iter()
                        .filter(|(_, s)| r.contains(*s))
                        .cloned()
                        .collect();
                    assert_eq!(score_range(z, &r, false), want, "range {r:?}");
                    let mut rev = want.clone();
                    rev.reverse();
                    assert_eq!(score_range(z, &r, true), rev, "reverse range {r:?}");
                    assert_eq!(z.count_by_score(&r), want.len(), "count {r:?}");
                }
                let all = ScoreRange {
                    min: incl(f64::NEG_INFINITY),
                    max: incl(f64::INFINITY),
                };
                let mut first = Vec::new();
                z.range_by_score(&all, true, &mut |m, _| {
                    first.push(m.to_vec());
                    first.len() < 2
                });
                assert_eq!(first, [b"pinf".to_vec(), b"big".to_vec()], "early stop");
                // Negative zero equals zero in ranges. (Its sign depends on the
                // encoding in Redis 7.0: a listpack stores it as the integer 0, a
                // skiplist keeps -0; either reads back equal to 0.)
                z.insert(b"negzero", -0.0);
                assert_eq!(z.score(b"negzero"), Some(0.0));
                let zero = ScoreRange {
                    min: incl(0.0),
                    max: incl(0.0),
                };
                assert_eq!(z.count_by_score(&zero), 3, "-0.0 lies in [0, 0]");
                let above = ScoreRange {
                    min: excl(0.0),
                    max: incl(1.0),
                };
                assert_eq!(z.count_by_score(&above), 0, "-0.0 is not above 0");
                assert_eq!(z.insert(b"pinf", f64::NEG_INFINITY), Some(f64::INFINITY));
                assert_eq!(z.rank(b"ninf", false), Some(0), "ties at -inf by member");
                assert_eq!(z.rank(b"pinf", false), Some(1));
            }),
            "with_zset",
        );
    });
}

/// Redis orders `-0.0` and `0.0` as equal scores, ties broken by member bytes.
pub fn check_zset_signed_zero_order(b: &dyn StorageBackend) {
    keyed(b, &[b"zz"], |t| {
        ok(
            with_zset(t, 0, b"zz", true, |z| {
                z.insert(b"b", -0.0);
                z.insert(b"a", 0.0);
                z.insert(b"c", 0.0);
                let mut order = Vec::new();
                z.range_by_rank(0, false, &mut |m, _| {
                    order.push(m.to_vec());
                    true
                });
                assert_eq!(
                    order,
                    [b"a".to_vec(), b"b".to_vec(), b"c".to_vec()],
                    "-0.0 ties with 0.0"
                );
                assert_eq!(z.rank(b"b", false), Some(1));
            }),
            "with_zset",
        );
    });
}

fn lex(min: LexBound, max: LexBound) -> LexRange {
    LexRange { min, max }
}

fn inc(m: &[u8]) -> LexBound {
    LexBound::Inclusive(Bytes::copy_from_slice(m))
}

fn exc(m: &[u8]) -> LexBound {
    LexBound::Exclusive(Bytes::copy_from_slice(m))
}

/// Lexicographic ranges over members of equal score, by unsigned byte order.
pub fn check_zset_lex_ranges(b: &dyn StorageBackend) {
    let members: Vec<Vec<u8>> = vec![
        Vec::new(),
        b"a".to_vec(),
        b"ab".to_vec(),
        b"b".to_vec(),
        b"c".to_vec(),
        b"d".to_vec(),
        b"e".to_vec(),
        vec![0xff],
    ];
    keyed(b, &[b"zl"], |t| {
        ok(
            with_zset(t, 0, b"zl", true, |z| {
                for m in members.iter().rev() {
                    z.insert(m, 0.0);
                }
                let ranges = [
                    lex(LexBound::Min, LexBound::Max),
                    lex(inc(b"b"), inc(b"d")),
                    lex(exc(b"b"), exc(b"d")),
                    lex(inc(b"b"), exc(b"b")),
                    lex(inc(b"b"), inc(b"b")),
                    lex(LexBound::Min, exc(b"c")),
                    lex(exc(b"d"), LexBound::Max),
                    lex(inc(b"a"), inc(b"az")),
                    lex(inc(b""), inc(b"a")),
                    lex(exc(b""), LexBound::Max),
                    lex(inc(b"d"), inc(b"b")),
                    lex(LexBound::Max, LexBound::Max),
                    lex(LexBound::Min, LexBound::Min),
                    lex(inc(b"e"), LexBound::Max),
                ];
                for r in ranges {
                    let want: Vec<Vec<u8>> =
                        members.iter().filter(|m| r.contains(m)).cloned().collect();
                    let mut got = Vec::new();
                    z.range_by_lex(&r, false, &mut |m, s| {
                        assert_eq!(s, 0.0);
                        got.push(m.to_vec());
                        true
                    });
                    assert_eq!(got, want, "lex range {r:?}");
                    let mut rev = Vec::new();
                    z.range_by_lex(&r, true, &mut |m, _| {
                        rev.push(m.to_vec());
                        true
                    });
                    let mut want_rev = want.clone();
                    want_rev.reverse();
                    assert_eq!(rev, want_rev, "reverse lex range {r:?}");
                    assert_eq!(z.count_by_lex(&r), want.len(), "lex count {r:?}");
                }
                let mut first = Vec::new();
                z.range_by_lex(&lex(LexBound::Min, LexBound::Max), false, &mut |m, _| {
                    first.push(m.to_vec());
                    false
                });
                assert_eq!(first, [Vec::<u8>::new()], "early stop");
            }),
            "with_zset",
        );
    });
}

/// Random sorted-set operations against a model, past any compact encoding:
/// scores, ranks both ways, rank ranges, score and lex counts.
pub fn check_zset_model(b: &dyn StorageBackend) {
    let mut m: BTreeMap<Vec<u8>, f64> = BTreeMap::new();
    let mut rng = Lcg(17);
    for round in 0..30 {
        keyed(b, &[b"zm"], |t| {
            ok(
                with_zset(t, 0, b"zm", true, |z| {
                    for _ in 0..100 {
                        let universe = if round < 15 { 1500 } else { 300 };
                        let x = rng.below(universe);
                        let member = if x.is_multiple_of(17) {
                            format!("long-member-{x}-{}", "y".repeat(70)).into_bytes()
                        } else {
                            format!("m{x}").into_bytes()
                        };
                        if rng.below(4) > 0 && round != 25 {
                            let score = match rng.below(6) {
                                0 => (rng.below(5) as f64) - 2.0,
                                1 => rng.below(1000) as f64 / 7.0,
                                _ => rng.below(50) as f64,
                            };
                            assert_eq!(z.insert(&member, score), m.insert(member, score));
                        } else {
                            assert_eq!(z.remove(&member), m.remove(&member).is_some());
                        }
                    }
                    assert_eq!(z.len(), m.len());
                    let sorted = zmodel_sorted(&m);
                    for _ in 0..10 {
                        if sorted.is_empty() {
                            break;
                        }
                        let i = rng.below(sorted.len());
                        let (member, score) = &sorted[i];
                        assert_eq!(z.score(member), Some(*score));
                        assert_eq!(z.rank(member, false), Some(i), "rank of {member:?}");
                        assert_eq!(z.rank(member, true), Some(sorted.len() - 1 - i));
                        let mut fwd = Vec::new();
                        z.range_by_rank(i, false, &mut |mm, s| {
                            fwd.push((mm.to_vec(), s));
                            fwd.len() < 7
                        });
                        let want: Vec<(Vec<u8>, f64)> =
                            sorted.iter().skip(i).take(7).cloned().collect();
                        assert_eq!(fwd, want, "range_by_rank({i})");
                        let mut back = Vec::new();
                        z.range_by_rank(i, true, &mut |mm, s| {
                            back.push((mm.to_vec(), s));
                            back.len() < 7
                        });
                        let want: Vec<(Vec<u8>, f64)> =
                            sorted.iter().rev().skip(i).take(7).cloned().collect();
                        assert_eq!(back, want, "reverse range_by_rank({i})");
                        let lo = rng.below(60) as f64 - 5.0;
                        let r = ScoreRange {
                            min: if i.is_multiple_of(2) {
                                incl(lo)
                            } else {
                                excl(lo)
                            },
                            max: incl(lo + rng.below(30) as f64),
                        };
                        let want: Vec<(Vec<u8>, f64)> = sorted
                            .iter()
                            .filter(|(_, s)| r.contains(*s))
                            .cloned()
                            .collect();
                        assert_eq!(z.count_by_score(&r), want.len());
                        assert_eq!(score_range(z, &r, false), want, "range {r:?}");
                    }
                }),
                "with_zset",
            );
        });
        let got = keyed(b, &[b"zm"], |t| zset_items(t, 0, b"zm"));
        assert_eq!(
            got.unwrap_or_default(),
            zmodel_sorted(&m),
            "contents after round {round}"
        );
    }
}

// ----- key-level behaviour of collections -----

/// Every typed access to a key of another type fails with WrongType and changes
/// nothing; set_string replaces a collection.
pub fn check_wrong_type(b: &dyn StorageBackend) {
    keyed(b, &[b"str", b"list", b"hash", b"set", b"zset"], |t| {
        make_each_type(t, 0);
        for (key, have) in TYPE_KEYS {
            for want in COLLECTIONS.into_iter().chain([KeyType::String]) {
                if want == have {
                    continue;
                }
                for create in [false, true] {
                    let (r, ran) = open_as(t, want, 0, key, create);
                    assert_eq!(
                        r,
                        Err(StorageError::WrongType),
                        "{want:?} access to a {have:?} key"
                    );
                    assert!(!ran, "body not run on a {have:?} key");
                }
            }
            if have != KeyType::String {
                assert_eq!(t.get_string(0, key), Err(StorageError::WrongType));
                assert_eq!(t.string_len(0, key), Err(StorageError::WrongType));
            }
            let m = ok(t.meta(0, key), "meta").expect("still there");
            assert_eq!(m.key_type, have, "type unchanged");
        }
        assert_eq!(list_items(t, 0, b"list"), Some(vec![b"a".to_vec()]));
        assert_eq!(zset_items(t, 0, b"zset"), Some(vec![(b"m".to_vec(), 1.0)]));
        for (key, _) in TYPE_KEYS {
            ok(
                t.set_string(0, key, b"now a string", TtlUpdate::Clear),
                "set",
            );
            assert_eq!(
                ok(t.get_string(0, key), "get").as_deref(),
                Some(&b"now a string"[..])
            );
        }
    });
}

/// `create` false on a missing key does not run the body; `create` true stores only
/// what the body added.
pub fn check_create_flag(b: &dyn StorageBackend) {
    keyed(b, &[b"k"], |t| {
        for kind in COLLECTIONS {
            let (r, ran) = open_as(t, kind, 0, b"k", false);
            assert_eq!(r, Ok(false), "{kind:?} on a missing key without create");
            assert!(!ran);
            let (r, ran) = open_as(t, kind, 0, b"k", true);
            assert_eq!(r, Ok(true), "{kind:?} with create");
            assert!(ran, "body runs on the new collection");
            assert_eq!(
                ok(t.meta(0, b"k"), "meta"),
                None,
                "an empty {kind:?} is not stored"
            );
            add_one(t, kind, 0, b"k", b"x");
            let m = ok(t.meta(0, b"k"), "meta").expect("stored");
            assert_eq!((m.key_type, m.expire_at), (kind, None));
            assert!(ok(t.delete(0, b"k"), "delete"));
        }
    });
    let n = all(b, |t| ok(t.db_size(0), "size").keys);
    assert_eq!(n, 0);
}

/// A collection left empty by any removal is deleted, together with its expiry.
pub fn check_empty_deleted(b: &dyn StorageBackend) {
    keyed(b, &[b"e"], |t| {
        let now = t.now_ms();
        for kind in COLLECTIONS {
            for i in 0..20 {
                add_one(t, kind, 0, b"e", format!("{i}").as_bytes());
            }
            assert!(ok(t.set_expire(0, b"e", Some(now + HOUR_MS)), "expire"));
            remove_all(t, kind, 0, b"e");
            assert_eq!(
                ok(t.meta(0, b"e"), "meta"),
                None,
                "emptied {kind:?} deleted"
            );
            add_one(t, kind, 0, b"e", b"again");
            let m = ok(t.meta(0, b"e"), "meta").expect("recreated");
            assert_eq!(m.expire_at, None, "a recreated {kind:?} has no expiry");
            assert!(ok(t.delete(0, b"e"), "delete"));
        }
        // Lists emptied by remove and by trim.
        add_one(t, KeyType::List, 0, b"e", b"1");
        add_one(t, KeyType::List, 0, b"e", b"2");
        ok(
            with_list(t, 0, b"e", false, |l| l.remove(&[0, 1])),
            "remove",
        );
        assert_eq!(ok(t.meta(0, b"e"), "meta"), None);
        add_one(t, KeyType::List, 0, b"e", b"1");
        ok(with_list(t, 0, b"e", false, |l| l.trim(0, 0)), "trim");
        assert_eq!(ok(t.meta(0, b"e"), "meta"), None);
    });
    let s = all(b, |t| ok(t.db_size(0), "size"));
    assert_eq!((s.keys, s.expires), (0, 0));
}

/// Fills a collection of `kind` with `n` elements.
fn fill(t: &mut dyn Txn, kind: KeyType, db: usize, key: &[u8], n: usize) {
    for i in 0..n {
        add_one(t, kind, db, key, format!("element:{i}").as_bytes());
    }
}

/// Contents of any collection, as sorted strings (for equality checks).
fn contents(t: &mut dyn Txn, kind: KeyType, db: usize, key: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut v: Vec<Vec<u8>> = match kind {
        KeyType::List => list_items(t, db, key)?,
        KeyType::Hash => hash_items(t, db, key)?
            .into_iter()
            .map(|(f, v)| [f, v].concat())
            .collect(),
        KeyType::Set => set_items(t, db, key)?.into_iter().collect(),
        KeyType::ZSet => zset_items(t, db, key)?
            .into_iter()
            .map(|(m, s)| [m, s.to_string().into_bytes()].concat())
            .collect(),
        KeyType::String | KeyType::Stream => vec![ok(t.get_string(db, key), "get")?.to_vec()],
    };
    v.sort();
    Some(v)
}

/// delete, rename and copy of every collection type, within and across databases,
/// with expiries, small and large.
pub fn check_delete_rename_copy(b: &dyn StorageBackend) {
    for kind in COLLECTIONS {
        for n in [3usize, 1000] {
            keyed(b, &[b"src", b"dst", b"cp", b"other"], |t| {
                let now = t.now_ms();
                fill(t, kind, 0, b"src", n);
                assert!(ok(t.set_expire(0, b"src", Some(now + HOUR_MS)), "expire"));
                let want = contents(t, kind, 0, b"src").expect("filled");
                assert!(ok(t.rename(0, b"src", 0, b"src"), "rename to itself"));
                assert_eq!(contents(t, kind, 0, b"src").as_ref(), Some(&want));
                // Onto a key of another type, in another database.
                ok(t.set_string(1, b"dst", b"old", TtlUpdate::Clear), "set");
                assert!(ok(t.rename(0, b"src", 1, b"dst"), "rename"));
                assert_eq!(ok(t.meta(0, b"src"), "meta"), None, "source gone");
                let m = ok(t.meta(1, b"dst"), "meta").expect("moved");
                assert_eq!((m.key_type, m.expire_at), (kind, Some(now + HOUR_MS)));
                assert_eq!(contents(t, kind, 1, b"dst").as_ref(), Some(&want));
                assert!(!ok(t.rename(0, b"src", 0, b"other"), "rename missing"));
                // Copy, then change the copy: the original is independent.
                assert!(ok(t.copy(1, b"dst", 0, b"cp"), "copy"));
                let m = ok(t.meta(0, b"cp"), "meta").expect("copied");
                assert_eq!((m.key_type, m.expire_at), (kind, Some(now + HOUR_MS)));
                assert_eq!(contents(t, kind, 0, b"cp").as_ref(), Some(&want));
                add_one(t, kind, 0, b"cp", b"only in the copy");
                remove_all(t, kind, 1, b"dst");
                assert_eq!(ok(t.meta(1, b"dst"), "meta"), None);
                assert!(contents(t, kind, 0, b"cp").is_some_and(|c| c.len() > 1));
                fill(t, kind, 1, b"dst", 2);
                assert!(ok(t.copy(0, b"cp", 1, b"dst"), "copy over"));
                assert_eq!(
                    contents(t, kind, 1, b"dst"),
                    contents(t, kind, 0, b"cp"),
                    "copy replaces"
                );
                assert!(ok(t.delete(0, b"cp"), "delete"));
                assert!(!ok(t.delete(0, b"cp"), "delete again"));
                assert!(ok(t.delete(1, b"dst"), "delete"));
                assert_eq!(contents(t, kind, 1, b"dst"), None);
            });
        }
    }
    let sizes = all(b, |t| {
        (ok(t.db_size(0), "size").keys, ok(t.db_size(1), "size").keys)
    });
    assert_eq!(sizes, (0, 0));
}

/// meta reports each type; object_info reports one of Redis' encodings for it.
pub fn check_meta_object_info(b: &dyn StorageBackend) {
    let allowed = |kind: KeyType| -> &'static [&'static str] {
        match kind {
            KeyType::List => &["quicklist", "listpack"],
            KeyType::Hash => &["listpack", "hashtable"],
            KeyType::Set => &["intset", "listpack", "hashtable"],
            KeyType::ZSet => &["listpack", "skiplist"],
            KeyType::String | KeyType::Stream => &["int", "embstr", "raw"],
        }
    };
    keyed(b, &[b"str", b"list", b"hash", b"set", b"zset"], |t| {
        make_each_type(t, 0);
        for round in 0..2 {
            for (key, kind) in TYPE_KEYS {
                let m = ok(t.meta(0, key), "meta").expect("live");
                assert_eq!((m.key_type, m.expire_at), (kind, None));
                let info = ok(t.object_info(0, key), "object").expect("live");
                assert!(
                    allowed(kind).contains(&info.encoding),
                    "{kind:?} encoding {}",
                    info.encoding
                );
                assert!(ok(t.touch(0, key), "touch"));
                if round == 0 && kind != KeyType::String {
                    fill(t, kind, 0, key, 1000);
                }
            }
        }
    });
}

/// A collection key past its expiry is missing to every collection access, and a
/// new value of any type may take its name.
pub fn check_collection_key_expiry(b: &dyn StorageBackend) {
    keyed(b, &[b"x"], |t| {
        let now = t.now_ms();
        for kind in COLLECTIONS {
            fill(t, kind, 0, b"x", 10);
            assert!(ok(t.set_expire(0, b"x", Some(now - 1000)), "expire"));
            assert_eq!(ok(t.meta(0, b"x"), "meta"), None, "expired {kind:?}");
            for other in COLLECTIONS {
                let (r, ran) = open_as(t, other, 0, b"x", false);
                assert_eq!(r, Ok(false), "{other:?} on an expired {kind:?}");
                assert!(!ran);
            }
            let next = COLLECTIONS[(COLLECTIONS.iter().position(|k| *k == kind).unwrap_or(0) + 1)
                % COLLECTIONS.len()];
            add_one(t, next, 0, b"x", b"fresh");
            let m = ok(t.meta(0, b"x"), "meta").expect("recreated");
            assert_eq!((m.key_type, m.expire_at), (next, None));
            assert!(ok(t.delete(0, b"x"), "delete"));
        }
    });
}

/// SCAN, KEYS, RANDOMKEY and DBSIZE see collection keys like any other.
pub fn check_keyspace_iteration(b: &dyn StorageBackend) {
    keyed(b, &[b"str", b"list", b"hash", b"set", b"zset"], |t| {
        make_each_type(t, 0)
    });
    all(b, |t| {
        let want: HashSet<Vec<u8>> = TYPE_KEYS.iter().map(|(k, _)| k.to_vec()).collect();
        let mut seen = HashSet::new();
        let mut cursor = 0;
        for _ in 0..1000 {
            let page = ok(t.scan(0, cursor, 2), "scan");
            seen.extend(page.keys.iter().map(|k| k.to_vec()));
            cursor = page.next_cursor;
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(seen, want, "scan returns collection keys");
        let keys = ok(t.keys(0, &mut |_| true), "keys");
        let keys: HashSet<Vec<u8>> = keys.iter().map(|k| k.to_vec()).collect();
        assert_eq!(keys, want, "keys returns collection keys");
        for _ in 0..20 {
            let k = ok(t.random_key(0), "random").expect("non-empty");
            assert!(want.contains(&k[..]));
        }
        assert_eq!(ok(t.db_size(0), "size").keys, 5);
        ok(t.flush_db(0), "flush");
        assert_eq!(ok(t.db_size(0), "size").keys, 0);
        assert_eq!(ok(t.random_key(0), "random"), None);
    });
}

/// A full HSCAN/SSCAN/ZSCAN iteration returns every element present for its whole
/// duration, while other scopes add and remove elements between its pages.
pub fn check_element_scan_under_writes(b: &dyn StorageBackend) {
    for kind in [KeyType::Hash, KeyType::Set, KeyType::ZSet] {
        for stable in [5usize, 2000] {
            keyed(b, &[b"sc"], |t| {
                // Stable elements interleaved with doomed ones, removed during the
                // iteration in scattered order, so that a store which fills holes
                // by moving elements moves stable ones.
                for i in 0..stable {
                    add_one(t, kind, 0, b"sc", format!("stable:{i}").as_bytes());
                    add_one(t, kind, 0, b"sc", format!("doomed:{i}").as_bytes());
                }
            });
            let mut doomed = (0..stable).map(|k| (k * 7919 + 13) % stable);
            let mut seen: HashSet<Vec<u8>> = HashSet::new();
            let mut cursor = 0u64;
            let mut churn = 0usize;
            let mut pages = 0;
            loop {
                cursor = keyed(b, &[b"sc"], |t| {
                    let mut visit = |m: &[u8]| {
                        seen.insert(m.to_vec());
                    };
                    let next = match kind {
                        KeyType::Hash => with_hash(t, 0, b"sc", false, |h| {
                            h.scan(cursor, 10, &mut |f, _| visit(f))
                        }),
                        KeyType::Set => {
                            with_set(t, 0, b"sc", false, |s| s.scan(cursor, 10, &mut visit))
                        }
                        _ => with_zset(t, 0, b"sc", false, |z| {
                            z.scan(cursor, 10, &mut |m, _| visit(m))
                        }),
                    };
                    ok(next, "scan").expect("collection present")
                });
                pages += 1;
                assert!(pages < 100_000, "{kind:?} scan does not finish");
                if cursor == 0 {
                    break;
                }
                // Between pages: new elements, removal of earlier new ones and of
                // doomed ones.
                keyed(b, &[b"sc"], |t| {
                    for _ in 0..15 {
                        add_one(t, kind, 0, b"sc", format!("churn:{churn}").as_bytes());
                        churn += 1;
                    }
                    let old_churn = (churn.saturating_sub(25)..churn.saturating_sub(15))
                        .map(|j| format!("churn:{j}"));
                    let doomed_now = doomed.by_ref().take(10).map(|j| format!("doomed:{j}"));
                    for m in old_churn.chain(doomed_now) {
                        let m = m.as_bytes();
                        let r = match kind {
                            KeyType::Hash => with_hash(t, 0, b"sc", false, |h| h.remove(m)),
                            KeyType::Set => with_set(t, 0, b"sc", false, |s| s.remove(m)),
                            _ => with_zset(t, 0, b"sc", false, |z| z.remove(m)),
                        };
                        ok(r, "remove");
                    }
                });
            }
            let missing: Vec<usize> = (0..stable)
                .filter(|i| !seen.contains(format!("stable:{i}").as_bytes()))
                .collect();
            assert!(
                missing.is_empty(),
                "{kind:?} scan of {stable} missed {} stable elements",
                missing.len()
            );
            keyed(b, &[b"sc"], |t| ok(t.delete(0, b"sc"), "delete"));
        }
    }
}

/// Collections stay correct when the encoding thresholds change at run time (tiny
/// limits force every conversion; existing values keep working after a change back).
pub fn check_encoding_limits(b: &dyn StorageBackend) {
    let tiny = EncodingLimits {
        hash_max_listpack_entries: 2,
        hash_max_listpack_value: 4,
        set_max_intset_entries: 2,
        zset_max_listpack_entries: 2,
        zset_max_listpack_value: 4,
        list_max_listpack_size: 2,
    };
    let keys: [&[u8]; 4] = [b"l", b"h", b"s", b"z"];
    b.set_encoding_limits(tiny);
    keyed(b, &keys, |t| {
        for (kind, key) in COLLECTIONS.into_iter().zip(keys) {
            fill(t, kind, 0, key, 2);
            add_one(t, kind, 0, key, b"a longer element");
            add_one(t, kind, 0, key, b"7");
            assert_eq!(
                contents(t, kind, 0, key).map(|c| c.len()),
                Some(4),
                "{kind:?} past tiny limits"
            );
        }
    });
    b.set_encoding_limits(EncodingLimits::default());
    keyed(b, &keys, |t| {
        for (kind, key) in COLLECTIONS.into_iter().zip(keys) {
            add_one(t, kind, 0, key, b"8");
            assert_eq!(contents(t, kind, 0, key).map(|c| c.len()), Some(5));
            remove_all(t, kind, 0, key);
            assert_eq!(ok(t.meta(0, key), "meta"), None);
        }
    });
    b.set_encoding_limits(EncodingLimits {
        list_max_listpack_size: -1,
        ..EncodingLimits::default()
    });
    keyed(b, &[b"l"], |t| {
        ok(
            with_list(t, 0, b"l", true, |l| {
                for i in 0..200u32 {
                    l.push(End::Tail, &[b'a' + (i % 26) as u8; 100]);
                }
                assert_eq!(l.len(), 200);
                assert_eq!(l.get(199).map(|v| v[0]), Some(b'a' + (199 % 26) as u8));
            }),
            "with_list",
        );
    });
}

/// dataset_bytes grows with a large collection and falls when it is deleted.
pub fn check_dataset_bytes(b: &dyn StorageBackend) {
    let base = b.dataset_bytes();
    keyed(b, &[b"big"], |t| {
        ok(
            with_hash(t, 0, b"big", true, |h| {
                for i in 0..2000 {
                    h.set(format!("field:{i}").as_bytes(), &[b'v'; 100]);
                }
            }),
            "with_hash",
        );
    });
    let full = b.dataset_bytes();
    assert!(
        full >= base + 200_000,
        "2000 fields of 100 bytes: {base} -> {full}"
    );
    keyed(b, &[b"big"], |t| ok(t.delete(0, b"big"), "delete"));
    let after = b.dataset_bytes();
    assert!(
        after < full,
        "deleting the hash frees its bytes: {full} -> {after}"
    );
}

#[cfg(test)]
mod tests {
    use crate::testing::SimpleBackend;

    /// The reference backend passes the whole suite.
    #[test]
    fn simple_backend_passes_the_collection_suite() {
        super::run_except(&|| Box::new(SimpleBackend::new(16)), &[]);
    }
}
