//! Random sequences of collection operations run on the disk layer (over a
//! `MemStore`, with small pages so that cursors and multi-record walks matter) and on
//! core's reference model (`SimpleBackend`); every result must match. Orders the
//! trait leaves open (hash and set iteration, random picks, scan pages) are compared
//! as sets.

use std::collections::BTreeSet;

use bytes::Bytes;
use ferrokv_core::storage::{
    self, End, LexBound, LexRange, Scope, ScoreBound, ScoreRange, StorageBackend, TtlUpdate, Txn,
};
use ferrokv_core::testing::SimpleBackend;
use ferrokv_storage_disk::KvBackend;
use proptest::prelude::*;

const KEYS: [&[u8]; 2] = [b"a", b"b"];
/// Far in the future: field expiries that never fire during a test.
const FUTURE: u64 = 4_000_000_000_000;

#[derive(Debug, Clone)]
enum KeyOp {
    Delete(usize),
    Rename,
    Copy,
    SetString(usize),
    Expire(usize),
}

#[derive(Debug, Clone)]
enum ListOp {
    Push(bool, u8),
    Pop(bool),
    Get(usize),
    Set(usize, u8),
    Iter(usize, bool, usize),
    Insert(usize, u8),
    Remove(Vec<usize>),
    Trim(usize, usize),
    Len,
}

#[derive(Debug, Clone)]
enum HashOp {
    Get(u8),
    Set(u8, u8),
    Remove(u8),
    Len,
    All,
    Random(u64),
    Scan(usize),
    FieldExpire(u8),
    SetFieldExpire(u8, Option<u8>),
}

#[derive(Debug, Clone)]
enum SetOp {
    Contains(u8),
    Insert(u8),
    Remove(u8),
    Len,
    All,
    Random(u64),
    Scan(usize),
}

#[derive(Debug, Clone)]
enum ZOp {
    Score(u8),
    Insert(u8, i8),
    Remove(u8),
    Len,
    Rank(u8, bool),
    ByRank(usize, bool, usize),
    ByScore(i8, bool, i8, bool, bool, usize),
    CountScore(i8, bool, i8, bool),
    ByLex(u8, u8, u8, u8, bool, usize),
    CountLex(u8, u8, u8, u8),
    Scan(usize),
    /// Up to n members from the low end (the high end when true), removed, as
    /// ZPOPMIN/ZPOPMAX do: a walk and removals in one view, which moves the
    /// index marks.
    Pop(usize, bool),
}

#[derive(Debug, Clone)]
enum Op {
    Key(KeyOp),
    List(usize, ListOp),
    Hash(usize, HashOp),
    Set(usize, SetOp),
    Z(usize, ZOp),
}

fn elem(i: u8) -> Vec<u8> {
    // Members that are integers and members that are not; some long.
    match i % 4 {
        0 => format!("{}", i / 4).into_bytes(),
        1 => format!("m{}", i / 4).into_bytes(),
        2 => vec![b'x'; 70 + usize::from(i / 4)],
        _ => vec![i, 0, 255],
    }
}

fn score(s: i8) -> f64 {
    match s {
        -128 => f64::NEG_INFINITY,
        127 => f64::INFINITY,
        s => f64::from(s) / 4.0,
    }
}

fn key_op() -> impl Strategy<Value = KeyOp> {
    prop_oneof![
        (0..2usize).prop_map(KeyOp::Delete),
        Just(KeyOp::Rename),
        Just(KeyOp::Copy),
        (0..2usize).prop_map(KeyOp::SetString),
        (0..2usize).prop_map(KeyOp::Expire),
    ]
}

fn list_op() -> impl Strategy<Value = ListOp> {
    prop_oneof![
        6 => (any::<bool>(), 0..16u8).prop_map(|(h, v)| ListOp::Push(h, v)),
        2 => any::<bool>().prop_map(ListOp::Pop),
        1 => (0..64usize).prop_map(ListOp::Get),
        1 => (0..64usize, 0..16u8).prop_map(|(i, v)| ListOp::Set(i, v)),
        2 => (0..64usize, any::<bool>(), 0..40usize).prop_map(|(s, r, n)| ListOp::Iter(s, r, n)),
        2 => (0..64usize, 0..16u8).prop_map(|(i, v)| ListOp::Insert(i, v)),
        1 => proptest::collection::vec(0..64usize, 0..6).prop_map(ListOp::Remove),
        1 => (0..70usize, 0..70usize).prop_map(|(s, e)| ListOp::Trim(s, e)),
        1 => Just(ListOp::Len),
    ]
}

fn hash_op() -> impl Strategy<Value = HashOp> {
    prop_oneof![
        2 => (0..40u8).prop_map(HashOp::Get),
        6 => (0..40u8, 0..8u8).prop_map(|(f, v)| HashOp::Set(f, v)),
        2 => (0..40u8).prop_map(HashOp::Remove),
        1 => Just(HashOp::Len),
        1 => Just(HashOp::All),
        1 => any::<u64>().prop_map(HashOp::Random),
        1 => (1..6usize).prop_map(HashOp::Scan),
        1 => (0..40u8).prop_map(HashOp::FieldExpire),
        2 => (0..40u8, proptest::option::of(0..4u8)).prop_map(|(f, t)| HashOp::SetFieldExpire(f, t)),
    ]
}

fn set_op() -> impl Strategy<Value = SetOp> {
    prop_oneof![
        2 => (0..40u8).prop_map(SetOp::Contains),
        6 => (0..40u8).prop_map(SetOp::Insert),
        2 => (0..40u8).prop_map(SetOp::Remove),
        1 => Just(SetOp::Len),
        1 => Just(SetOp::All),
        1 => any::<u64>().prop_map(SetOp::Random),
        1 => (1..6usize).prop_map(SetOp::Scan),
    ]
}

/// Sorted set operations; `equal_scores` pins every score to 0 (the case where
/// lexicographic ranges are one seek).
fn z_op(equal_scores: bool) -> impl Strategy<Value = ZOp> {
    let sc = if equal_scores {
        (0..1i8).boxed()
    } else {
        any::<i8>().boxed()
    };
    let b = || any::<i8>();
    prop_oneof![
        2 => (0..40u8).prop_map(ZOp::Score),
        6 => (0..40u8, sc).prop_map(|(m, s)| ZOp::Insert(m, s)),
        2 => (0..40u8).prop_map(ZOp::Remove),
        1 => Just(ZOp::Len),
        2 => (0..40u8, any::<bool>()).prop_map(|(m, r)| ZOp::Rank(m, r)),
        2 => (0..50usize, any::<bool>(), 0..20usize).prop_map(|(s, r, n)| ZOp::ByRank(s, r, n)),
        2 => (b(), any::<bool>(), b(), any::<bool>(), any::<bool>(), 0..20usize)
            .prop_map(|(a, ax, c, cx, r, n)| ZOp::ByScore(a, ax, c, cx, r, n)),
        1 => (b(), any::<bool>(), b(), any::<bool>()).prop_map(|(a, ax, c, cx)| ZOp::CountScore(a, ax, c, cx)),
        2 => (0..4u8, 0..40u8, 0..4u8, 0..40u8, any::<bool>(), 0..20usize)
            .prop_map(|(a, am, c, cm, r, n)| ZOp::ByLex(a, am, c, cm, r, n)),
        1 => (0..4u8, 0..40u8, 0..4u8, 0..40u8).prop_map(|(a, am, c, cm)| ZOp::CountLex(a, am, c, cm)),
        1 => (1..6usize).prop_map(ZOp::Scan),
        3 => (0..4usize, any::<bool>()).prop_map(|(n, r)| ZOp::Pop(n, r)),
    ]
}

fn lex_bound(kind: u8, m: u8) -> LexBound {
    match kind {
        0 => LexBound::Min,
        1 => LexBound::Max,
        2 => LexBound::Inclusive(Bytes::from(elem(m))),
        _ => LexBound::Exclusive(Bytes::from(elem(m))),
    }
}

fn score_range(a: i8, ax: bool, c: i8, cx: bool) -> ScoreRange {
    ScoreRange {
        min: ScoreBound {
            value: score(a),
            exclusive: ax,
        },
        max: ScoreBound {
            value: score(c),
            exclusive: cx,
        },
    }
}

/// A sorted set range visitor.
type Visit<'a> = dyn FnMut(&[u8], f64) -> bool + 'a;

/// Runs `op` in `txn` and describes its result.
fn apply(txn: &mut dyn Txn, op: &Op) -> String {
    match op {
        Op::Key(k) => key_apply(txn, k),
        Op::List(k, op) => {
            let r = storage::with_list(txn, 0, KEYS[*k], matches!(op, ListOp::Push(..)), |l| {
                let len = l.len();
                match op {
                    ListOp::Push(head, v) => {
                        l.push(if *head { End::Head } else { End::Tail }, &elem(*v));
                        format!("{}", l.len())
                    }
                    ListOp::Pop(head) => {
                        format!("{:?}", l.pop(if *head { End::Head } else { End::Tail }))
                    }
                    ListOp::Get(i) => format!("{:?}", l.get(*i)),
                    ListOp::Set(i, v) => format!("{}", l.set(*i, &elem(*v))),
                    ListOp::Iter(s, rev, n) => {
                        let mut out = Vec::new();
                        l.iter(*s, *rev, &mut |i, v| {
                            out.push((i, v.to_vec()));
                            out.len() < *n
                        });
                        format!("{out:?}")
                    }
                    ListOp::Insert(i, v) => {
                        l.insert(i % (len + 1), &elem(*v));
                        format!("{}", l.len())
                    }
                    ListOp::Remove(idx) => {
                        if len == 0 {
                            return "empty".into();
                        }
                        let set: BTreeSet<usize> = idx.iter().map(|i| i % len).collect();
                        let v: Vec<usize> = set.into_iter().collect();
                        l.remove(&v);
                        format!("{}", l.len())
                    }
                    ListOp::Trim(s, e) => {
                        l.trim(*s, *e);
                        format!("{}", l.len())
                    }
                    ListOp::Len => format!("{len}"),
                }
            });
            format!("{r:?}")
        }
        Op::Hash(k, op) => {
            let create = matches!(op, HashOp::Set(..));
            let r = storage::with_hash(txn, 0, KEYS[*k], create, |h| match op {
                HashOp::Get(f) => format!("{:?}", h.get(&elem(*f))),
                HashOp::Set(f, v) => format!("{}", h.set(&elem(*f), &elem(*v))),
                HashOp::Remove(f) => format!("{}", h.remove(&elem(*f))),
                HashOp::Len => format!("{}", h.len()),
                HashOp::All => {
                    let mut all = BTreeSet::new();
                    h.for_each(&mut |f, v| all.insert((f.to_vec(), v.to_vec())));
                    format!("{all:?}")
                }
                HashOp::Random(seed) => match h.random(*seed) {
                    None => "none".into(),
                    Some((f, v)) => {
                        assert_eq!(h.get(&f), Some(v), "random field is a field");
                        "some".into()
                    }
                },
                HashOp::Scan(count) => {
                    let mut all = BTreeSet::new();
                    let mut cursor = 0;
                    let mut pages = 0;
                    loop {
                        cursor = h.scan(cursor, *count, &mut |f, v| {
                            all.insert((f.to_vec(), v.to_vec()));
                        });
                        pages += 1;
                        assert!(pages < 1000, "scan terminates");
                        if cursor == 0 {
                            break;
                        }
                    }
                    format!("{all:?}")
                }
                HashOp::FieldExpire(f) => format!("{:?}", h.field_expire(&elem(*f))),
                HashOp::SetFieldExpire(f, t) => format!(
                    "{}",
                    h.set_field_expire(&elem(*f), t.map(|t| FUTURE + u64::from(t)))
                ),
            });
            format!("{r:?}")
        }
        Op::Set(k, op) => {
            let create = matches!(op, SetOp::Insert(..));
            let r = storage::with_set(txn, 0, KEYS[*k], create, |s| match op {
                SetOp::Contains(m) => format!("{}", s.contains(&elem(*m))),
                SetOp::Insert(m) => format!("{}", s.insert(&elem(*m))),
                SetOp::Remove(m) => format!("{}", s.remove(&elem(*m))),
                SetOp::Len => format!("{}", s.len()),
                SetOp::All => {
                    let mut all = BTreeSet::new();
                    s.for_each(&mut |m| all.insert(m.to_vec()));
                    format!("{all:?}")
                }
                SetOp::Random(seed) => match s.random(*seed) {
                    None => "none".into(),
                    Some(m) => {
                        assert!(s.contains(&m), "random member is a member");
                        "some".into()
                    }
                },
                SetOp::Scan(count) => {
                    let mut all = BTreeSet::new();
                    let mut cursor = 0;
                    let mut pages = 0;
                    loop {
                        cursor = s.scan(cursor, *count, &mut |m| {
                            all.insert(m.to_vec());
                        });
                        pages += 1;
                        assert!(pages < 1000, "scan terminates");
                        if cursor == 0 {
                            break;
                        }
                    }
                    format!("{all:?}")
                }
            });
            format!("{r:?}")
        }
        Op::Z(k, op) => {
            let create = matches!(op, ZOp::Insert(..));
            let r = storage::with_zset(txn, 0, KEYS[*k], create, |z| {
                let collect = |f: &mut dyn FnMut(&mut Visit<'_>), n: usize| {
                    let mut out = Vec::new();
                    f(&mut |m, s| {
                        out.push((m.to_vec(), s));
                        out.len() < n
                    });
                    format!("{out:?}")
                };
                match op {
                    ZOp::Score(m) => format!("{:?}", z.score(&elem(*m))),
                    ZOp::Insert(m, s) => format!("{:?}", z.insert(&elem(*m), score(*s))),
                    ZOp::Remove(m) => format!("{}", z.remove(&elem(*m))),
                    ZOp::Len => format!("{}", z.len()),
                    ZOp::Rank(m, rev) => format!("{:?}", z.rank(&elem(*m), *rev)),
                    ZOp::ByRank(s, rev, n) => collect(&mut |v| z.range_by_rank(*s, *rev, v), *n),
                    ZOp::ByScore(a, ax, c, cx, rev, n) => {
                        let r = score_range(*a, *ax, *c, *cx);
                        collect(&mut |v| z.range_by_score(&r, *rev, v), *n)
                    }
                    ZOp::CountScore(a, ax, c, cx) => {
                        format!("{}", z.count_by_score(&score_range(*a, *ax, *c, *cx)))
                    }
                    ZOp::ByLex(a, am, c, cm, rev, n) => {
                        let r = LexRange {
                            min: lex_bound(*a, *am),
                            max: lex_bound(*c, *cm),
                        };
                        collect(&mut |v| z.range_by_lex(&r, *rev, v), *n)
                    }
                    ZOp::CountLex(a, am, c, cm) => {
                        let r = LexRange {
                            min: lex_bound(*a, *am),
                            max: lex_bound(*c, *cm),
                        };
                        format!("{}", z.count_by_lex(&r))
                    }
                    ZOp::Pop(n, rev) => {
                        let mut out = Vec::new();
                        if *n > 0 {
                            z.range_by_rank(0, *rev, &mut |m, s| {
                                out.push((m.to_vec(), s));
                                out.len() < *n
                            });
                        }
                        for (m, _) in &out {
                            z.remove(m);
                        }
                        format!("{out:?}")
                    }
                    ZOp::Scan(count) => {
                        let mut all = BTreeSet::new();
                        let mut cursor = 0;
                        let mut pages = 0;
                        loop {
                            cursor = z.scan(cursor, *count, &mut |m, s| {
                                all.insert((m.to_vec(), s.to_bits()));
                            });
                            pages += 1;
                            assert!(pages < 1000, "scan terminates");
                            if cursor == 0 {
                                break;
                            }
                        }
                        format!("{all:?}")
                    }
                }
            });
            format!("{r:?}")
        }
    }
}

fn key_apply(txn: &mut dyn Txn, op: &KeyOp) -> String {
    match op {
        KeyOp::Delete(k) => format!("{:?}", txn.delete(0, KEYS[*k])),
        KeyOp::Rename => format!("{:?}", txn.rename(0, KEYS[0], 0, KEYS[1])),
        KeyOp::Copy => format!("{:?}", txn.copy(0, KEYS[1], 0, KEYS[0])),
        KeyOp::SetString(k) => format!("{:?}", txn.set_string(0, KEYS[*k], b"s", TtlUpdate::Clear)),
        KeyOp::Expire(k) => format!("{:?}", txn.set_expire(0, KEYS[*k], Some(FUTURE))),
    }
}

/// Describes both keys and the key count.
fn state(txn: &mut dyn Txn) -> String {
    let mut out = String::new();
    for k in KEYS {
        out += &format!("{:?};", txn.meta(0, k));
        out += &format!("{:?};", txn.get_string(0, k));
    }
    out
}

fn run(b: &dyn StorageBackend, scopes: &[Vec<Op>]) -> Vec<String> {
    let keys: Vec<Bytes> = KEYS.iter().map(|k| Bytes::from_static(k)).collect();
    let mut trace = Vec::new();
    for ops in scopes {
        b.atomic(Scope::Keys(&keys), &mut |txn| {
            for op in ops {
                trace.push(apply(txn, op));
            }
            trace.push(state(txn));
        })
        .expect("atomic");
    }
    b.atomic(Scope::All, &mut |txn| {
        trace.push(format!("{:?}", txn.db_size(0)));
        let mut keys = txn.keys(0, &mut |_| true).unwrap();
        keys.sort();
        trace.push(format!("{keys:?}"));
    })
    .expect("atomic");
    trace
}

fn check(scopes: Vec<Vec<Op>>) {
    let model = run(&SimpleBackend::new(1), &scopes);
    let disk = KvBackend::new_in_memory(1);
    let got = run(&disk, &scopes);
    for (i, (m, g)) in model.iter().zip(&got).enumerate() {
        assert_eq!(g, m, "step {i} differs; ops: {scopes:?}");
    }
    assert_eq!(got.len(), model.len());
    // Deleted and rewritten incarnations leave stale sub-keys; the sweeper finds them
    // and what remains still reads the same.
    while disk.sweep_subkeys(64) > 0 {}
    let again = run(&disk, &[]);
    assert_eq!(again, model[model.len() - 2..].to_vec());
}

fn scopes(op: impl Strategy<Value = Op>) -> impl Strategy<Value = Vec<Vec<Op>>> {
    proptest::collection::vec(proptest::collection::vec(op, 1..12), 1..25)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn lists_match_the_model(s in scopes(prop_oneof![
        12 => ((0..2usize), list_op()).prop_map(|(k, o)| Op::List(k, o)),
        1 => key_op().prop_map(Op::Key),
        1 => ((0..2usize), set_op()).prop_map(|(k, o)| Op::Set(k, o)),
    ])) {
        check(s);
    }

    #[test]
    fn hashes_match_the_model(s in scopes(prop_oneof![
        12 => ((0..2usize), hash_op()).prop_map(|(k, o)| Op::Hash(k, o)),
        1 => key_op().prop_map(Op::Key),
        1 => ((0..2usize), list_op()).prop_map(|(k, o)| Op::List(k, o)),
    ])) {
        check(s);
    }

    #[test]
    fn sets_match_the_model(s in scopes(prop_oneof![
        12 => ((0..2usize), set_op()).prop_map(|(k, o)| Op::Set(k, o)),
        1 => key_op().prop_map(Op::Key),
        1 => ((0..2usize), z_op(false)).prop_map(|(k, o)| Op::Z(k, o)),
    ])) {
        check(s);
    }

    #[test]
    fn sorted_sets_match_the_model(s in scopes(prop_oneof![
        12 => ((0..2usize), z_op(false)).prop_map(|(k, o)| Op::Z(k, o)),
        1 => key_op().prop_map(Op::Key),
        1 => ((0..2usize), hash_op()).prop_map(|(k, o)| Op::Hash(k, o)),
    ])) {
        check(s);
    }

    #[test]
    fn lex_ranges_match_the_model(s in scopes(prop_oneof![
        12 => ((0..2usize), z_op(true)).prop_map(|(k, o)| Op::Z(k, o)),
        1 => key_op().prop_map(Op::Key),
    ])) {
        check(s);
    }
}
