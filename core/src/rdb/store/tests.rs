use std::collections::BTreeMap;

use super::*;
use crate::rdb::read::{payload_value, verify_payload};
use crate::storage::EncodingLimits;
use crate::testing::SimpleBackend;

type Dataset = BTreeMap<(DbIndex, Bytes), (Value, Option<UnixMillis>)>;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn element(&mut self) -> Bytes {
        match self.below(6) {
            0 => Bytes::from(self.below(1000).to_string()),
            1 => Bytes::from((self.next() as i64).to_string()),
            2 => Bytes::from("x".repeat(self.below(200) as usize)),
            3 => Bytes::from(format!("e{}", self.below(100_000))),
            4 => Bytes::from(vec![self.next() as u8; self.below(5) as usize]),
            _ => Bytes::from(format!(
                "{}-{}",
                self.next(),
                "abc".repeat(self.below(30) as usize)
            )),
        }
    }
}

fn unique(mut v: Vec<Bytes>) -> Vec<Bytes> {
    v.sort();
    v.dedup();
    v
}

fn random_value(r: &mut Rng, big: bool) -> Value {
    let n = if big {
        300 + r.below(1500)
    } else {
        1 + r.below(20)
    } as usize;
    match r.below(6) {
        0 => Value::String(r.element()),
        1 => Value::List((0..n).map(|_| r.element()).collect()),
        2 => Value::Set(unique((0..n).map(|_| r.element()).collect())),
        3 => Value::Set(unique(
            (0..n)
                .map(|_| Bytes::from((r.next() as i64 >> r.below(60)).to_string()))
                .collect(),
        )),
        4 => {
            let members = unique((0..n).map(|_| r.element()).collect());
            Value::ZSet(
                members
                    .into_iter()
                    .map(|m| {
                        let s = match r.below(4) {
                            0 => r.below(100) as f64,
                            1 => (r.next() as i64) as f64 / 7.0,
                            2 => f64::INFINITY,
                            _ => -(r.below(1000) as f64) / 3.0,
                        };
                        (m, s)
                    })
                    .collect(),
            )
        }
        _ => {
            let fields = unique((0..n).map(|_| r.element()).collect());
            let ttl = r.below(4) == 0;
            Value::Hash(
                fields
                    .into_iter()
                    .map(|f| {
                        let at =
                            (ttl && r.below(2) == 0).then(|| 4_000_000_000_000 + r.below(1 << 30));
                        (f, r.element(), at)
                    })
                    .collect(),
            )
        }
    }
}

fn dataset(seed: u64, keys: usize) -> Dataset {
    let mut r = Rng(seed);
    let mut d = Dataset::new();
    for i in 0..keys {
        let db = if i % 7 == 0 { 3 } else { 0 };
        let key = Bytes::from(format!("key:{i}"));
        let big = r.below(10) == 0;
        let v = random_value(&mut r, big);
        let at = (r.below(3) == 0).then(|| 4_000_000_000_000 + r.below(1 << 20));
        d.insert((db, key), (v.normalized(), at));
    }
    d.insert(
        (0, Bytes::from_static(b"")),
        (Value::String(Bytes::new()), None),
    );
    d
}

fn fill(backend: &SimpleBackend, d: &Dataset) {
    backend
        .atomic(Scope::All, &mut |txn| {
            for ((db, k), (v, at)) in d {
                store_value(txn, *db, k, v, *at).unwrap();
            }
        })
        .unwrap();
}

fn contents(backend: &SimpleBackend) -> Dataset {
    let mut out = Dataset::new();
    backend
        .atomic(Scope::All, &mut |txn| {
            for db in 0..backend.databases() {
                for k in txn.keys(db, &mut |_| true).unwrap() {
                    let (v, at) = export_value(txn, db, &k).unwrap().unwrap();
                    out.insert((db, k), (v.normalized(), at));
                }
            }
        })
        .unwrap();
    out
}

fn save(backend: &SimpleBackend, opts: WriteOptions) -> Vec<u8> {
    let mut saver = RdbSaver::new(Vec::new(), opts, 1_700_000_000, 1234, false).unwrap();
    backend.snapshot(&mut saver, &mut || {}).unwrap();
    saver.finish().unwrap().0
}

#[test]
fn snapshot_round_trips_every_type_and_encoding() {
    let d = dataset(42, 400);
    let src = SimpleBackend::new(16);
    fill(&src, &d);
    assert_eq!(contents(&src), d);
    for compress in [true, false] {
        for limits in [
            EncodingLimits::default(),
            EncodingLimits {
                list_max_listpack_size: 3,
                ..EncodingLimits::default()
            },
        ] {
            let opts = WriteOptions {
                compress,
                checksum: true,
                limits,
            };
            let file = save(&src, opts);
            assert_eq!(&file[..9], b"REDIS0010");
            let dst = SimpleBackend::new(16);
            let stats = load(&dst, &file[..], 1, true).unwrap();
            assert_eq!(stats.checksum, Some(Checksum::Ok));
            assert_eq!(stats.keys as usize, d.len());
            assert_eq!(contents(&dst), d);
        }
    }
}

#[test]
fn checksum_disabled_and_corruption() {
    let d = dataset(7, 12);
    let src = SimpleBackend::new(16);
    fill(&src, &d);
    let opts = WriteOptions {
        checksum: false,
        ..WriteOptions::default()
    };
    let file = save(&src, opts);
    assert_eq!(&file[file.len() - 8..], &[0; 8]);
    let stats = load(&SimpleBackend::new(16), &file[..], 1, true).unwrap();
    assert_eq!(stats.checksum, Some(Checksum::Disabled));

    let mut file = save(&src, WriteOptions::default());
    let n = file.len();
    file[n - 3] ^= 1;
    assert!(matches!(
        load(&SimpleBackend::new(16), &file[..], 1, true),
        Err(LoadError::Checksum { .. })
    ));
    // Truncations anywhere are errors, never panics.
    let file = save(&src, WriteOptions::default());
    for cut in (0..file.len()).step_by(53) {
        assert!(load(&SimpleBackend::new(16), &file[..cut], 1, true).is_err());
    }
    // Flipped bytes never panic.
    for pos in (9..file.len()).step_by(41) {
        let mut bad = file.clone();
        bad[pos] = bad[pos].wrapping_add(0x55);
        let _ = load(&SimpleBackend::new(16), &bad[..], 1, false);
    }
}

#[test]
fn expired_keys_are_skipped_on_load() {
    let src = SimpleBackend::new(16);
    let mut d = Dataset::new();
    d.insert(
        (0, Bytes::from_static(b"old")),
        (
            Value::String(Bytes::from_static(b"v")),
            Some(5_000_000_000_000),
        ),
    );
    d.insert(
        (0, Bytes::from_static(b"new")),
        (
            Value::String(Bytes::from_static(b"v")),
            Some(6_000_000_000_000),
        ),
    );
    fill(&src, &d);
    let file = save(&src, WriteOptions::default());
    let dst = SimpleBackend::new(16);
    let stats = load(&dst, &file[..], 5_500_000_000_000, true).unwrap();
    assert_eq!((stats.keys, stats.expired), (1, 1));
}

#[test]
fn dump_payload_round_trips() {
    let d = dataset(99, 200);
    let src = SimpleBackend::new(16);
    fill(&src, &d);
    src.atomic(Scope::All, &mut |txn| {
        for ((db, k), (v, _)) in &d {
            let payload = dump_key(txn, *db, k, WriteOptions::default())
                .unwrap()
                .unwrap();
            let body = verify_payload(&payload).expect("valid payload");
            assert_eq!(&payload[payload.len() - 10..payload.len() - 8], &[10, 0]);
            let got = payload_value(body).unwrap().normalized();
            assert_eq!(&got, v, "{k:?}");
            let mut bad = payload.clone();
            bad[0] ^= 0x40;
            assert!(verify_payload(&bad).is_none());
        }
        assert_eq!(
            dump_key(txn, 0, b"missing", WriteOptions::default()).unwrap(),
            None
        );
    })
    .unwrap();
}

/// Payloads produced by redis-server 7.0.15's DUMP.
fn redis_payloads() -> Vec<(&'static [u8], Value)> {
    let b = |s: &'static str| Bytes::from_static(s.as_bytes());
    vec![
        (b"\x00\xc0\x01\x0a\x00\x26\x78\xe7\xb6\xd1\x01\x11\xfc", Value::String(b("1"))),
        (
            b"\x00\x05\x68\x65\x6c\x6c\x6f\x0a\x00\x63\x72\xdf\x76\x65\x34\x20\x0a",
            Value::String(b("hello")),
        ),
        (
            b"\x12\x01\x02\x12\x12\x00\x00\x00\x04\x00\x81\x61\x02\x01\x01\xc1\x2c\x02\xdf\xfb\x02\xff\x0a\x00\xfc\x86\x21\xe7\x6d\x5e\x1f\xba",
            Value::List(vec![b("a"), b("1"), b("300"), b("-5")]),
        ),
        (
            b"\x11\x14\x14\x00\x00\x00\x04\x00\x81\x61\x02\x83\x31\x2e\x35\x04\x81\x62\x02\x02\x01\xff\x0a\x00\xfa\x02\xb4\x25\xaf\x18\x87\x63",
            Value::ZSet(vec![(b("a"), 1.5), (b("b"), 2.0)]),
        ),
        (
            b"\x10\x12\x12\x00\x00\x00\x04\x00\x81\x66\x02\x81\x76\x02\x81\x6e\x02\x0c\x01\xff\x0a\x00\x01\x36\x94\x81\xd3\x5b\x89\x74",
            Value::Hash(vec![(b("f"), b("v"), None), (b("n"), b("12"), None)]),
        ),
        (
            b"\x0b\x0e\x02\x00\x00\x00\x03\x00\x00\x00\x01\x00\x02\x00\x03\x00\x0a\x00\xa5\x02\x5c\xe2\x6d\x6e\x4d\x1b",
            Value::Set(vec![b("1"), b("2"), b("3")]),
        ),
    ]
}

#[test]
fn redis_payloads_decode_and_are_reproduced_byte_for_byte() {
    let src = SimpleBackend::new(16);
    for (i, (payload, want)) in redis_payloads().into_iter().enumerate() {
        let body = verify_payload(payload).expect("checksum");
        assert_eq!(
            payload_value(body).unwrap().normalized(),
            want.clone().normalized()
        );
        let key = format!("k{i}");
        src.atomic(Scope::All, &mut |txn| {
            store_value(txn, 0, key.as_bytes(), &want, None).unwrap();
            let ours = dump_key(txn, 0, key.as_bytes(), WriteOptions::default())
                .unwrap()
                .unwrap();
            assert_eq!(ours, payload, "{want:?}");
        })
        .unwrap();
    }
}
