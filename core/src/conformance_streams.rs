//! The stream part of the storage conformance suite: [`StreamOps`] and
//! [`StreamGroupOps`] through [`Txn::with_stream`], compared operation by operation
//! with the in-memory reference ([`MemStream`]), and how key-level operations
//! treat streams. Run by [`crate::conformance::run_all`].

use bytes::Bytes;

use crate::storage::{
    with_stream, GroupInfo, KeyType, NodeLimits, PendingEntry, Scope, StorageBackend, StreamId,
    StreamMeta, StreamNode, StreamOps, Txn,
};
use crate::util::stream::MemStream;

/// A named check.
type Check = (&'static str, fn(&dyn StorageBackend));

/// Every stream check, each on a fresh backend from `make`.
pub fn run_all(make: &dyn Fn() -> Box<dyn StorageBackend>) {
    let checks: [Check; 2] = [
        ("stream_model", check_stream_model),
        ("stream_keyspace", check_stream_keyspace),
    ];
    for (name, check) in checks {
        let backend = make();
        eprintln!("conformance: {name} ({})", backend.name());
        check(backend.as_ref());
    }
}

fn keyed<R>(b: &dyn StorageBackend, keys: &[&[u8]], f: impl FnOnce(&mut dyn Txn) -> R) -> R {
    let keys: Vec<Bytes> = keys.iter().map(|k| Bytes::copy_from_slice(k)).collect();
    let mut f = Some(f);
    let mut out = None;
    b.atomic(Scope::Keys(&keys), &mut |t| {
        if let Some(f) = f.take() {
            out = Some(f(t));
        }
    })
    .expect("atomic scope failed");
    out.expect("atomic() must run its body exactly once")
}

/// Everything observable about a stream, for comparisons.
#[derive(Debug, PartialEq)]
struct Snapshot {
    len: u64,
    meta: StreamMeta,
    entries: Vec<(StreamId, Vec<Bytes>)>,
    backwards: Vec<StreamId>,
    first_node: Option<StreamNode>,
    nodes: Vec<StreamId>,
    groups: Vec<(Bytes, GroupInfo)>,
    pending: Vec<(Bytes, Vec<(StreamId, PendingEntry)>)>,
    consumers: Vec<(Bytes, Bytes, u64, Vec<StreamId>)>,
}

fn snapshot(s: &mut dyn StreamOps) -> Snapshot {
    let mut entries = Vec::new();
    s.range(StreamId::MIN, StreamId::MAX, false, &mut |id, f| {
        entries.push((id, f.to_vec()));
        true
    });
    let mut backwards = Vec::new();
    s.range(StreamId::MIN, StreamId::MAX, true, &mut |id, _| {
        backwards.push(id);
        true
    });
    let mut nodes = Vec::new();
    s.for_each_node(&mut |id| nodes.push(id));
    let mut groups = Vec::new();
    s.groups().for_each_group(&mut |name, info| {
        groups.push((Bytes::copy_from_slice(name), *info));
        true
    });
    let mut pending = Vec::new();
    let mut consumers = Vec::new();
    for (name, _) in &groups {
        let mut pel = Vec::new();
        s.groups().pending_range(
            name,
            None,
            StreamId::MIN,
            StreamId::MAX,
            false,
            &mut |id, e| {
                pel.push((id, e.clone()));
                true
            },
        );
        pending.push((name.clone(), pel));
        let mut names = Vec::new();
        s.groups().for_each_consumer(name, &mut |c, info| {
            names.push((Bytes::copy_from_slice(c), info.pending));
            true
        });
        for (c, count) in names {
            let mut ids = Vec::new();
            s.groups().pending_range(
                name,
                Some(&c),
                StreamId::MIN,
                StreamId::MAX,
                true,
                &mut |id, _| {
                    ids.push(id);
                    true
                },
            );
            consumers.push((name.clone(), c, count, ids));
        }
    }
    Snapshot {
        len: s.len(),
        meta: s.meta(),
        entries,
        backwards,
        first_node: s.first_node(),
        nodes,
        groups,
        pending,
        consumers,
    }
}

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// One random operation, applied to both the backend's stream and the reference.
fn random_op(rng: &mut Lcg, next_ms: &mut u64, s: &mut dyn StreamOps) {
    let limits = NodeLimits {
        max_entries: 3,
        max_bytes: 120,
    };
    let group = [b"ga".as_slice(), b"gb"][rng.below(2) as usize];
    let consumer = [b"c1".as_slice(), b"c2", b"c3"][rng.below(3) as usize];
    let old_id =
        |rng: &mut Lcg, next_ms: u64| StreamId::new(rng.below(next_ms.max(1)), rng.below(2));
    match rng.below(14) {
        0..=4 => {
            *next_ms += 1 + rng.below(3);
            let id = StreamId::new(*next_ms, rng.below(2));
            let value = vec![b'v'; rng.below(40) as usize];
            let n = rng.below(100).to_string();
            let fields: Vec<&[u8]> = if rng.below(3) == 0 {
                vec![b"other", &value]
            } else {
                vec![b"f", n.as_bytes(), b"g", &value]
            };
            s.append(id, &fields, limits);
        }
        5 => {
            let drop_empty = rng.below(2) == 0;
            s.remove(old_id(rng, *next_ms), drop_empty);
        }
        6 => s.remove_first_node(),
        7 => {
            let meta = StreamMeta {
                last_id: StreamId::new(*next_ms, 9),
                max_deleted: old_id(rng, *next_ms),
                entries_added: rng.below(1000),
            };
            s.set_meta(&meta);
        }
        8 => {
            let read = (rng.below(2) == 0).then(|| rng.below(50));
            s.groups().set_group(group, old_id(rng, *next_ms), read);
        }
        9 if rng.below(4) == 0 => {
            s.groups().remove_group(group);
        }
        9 | 10 => {
            if s.groups().group(group).is_some() {
                s.groups()
                    .set_consumer(group, consumer, rng.below(1000), None);
                let e = PendingEntry {
                    consumer: Bytes::copy_from_slice(consumer),
                    delivery_time: rng.below(1000),
                    delivery_count: 1 + rng.below(5),
                };
                s.groups().set_pending(group, old_id(rng, *next_ms), &e);
            }
        }
        11 => {
            s.groups().remove_pending(group, old_id(rng, *next_ms));
        }
        12 => {
            if s.groups().group(group).is_some() {
                let active = (rng.below(2) == 0).then(|| rng.below(1000));
                s.groups()
                    .set_consumer(group, consumer, rng.below(1000), active);
            }
        }
        _ => {
            s.groups().remove_consumer(group, consumer);
        }
    }
}

/// Random operations on one stream, each checked against the reference: entries
/// both ways, counters, nodes, groups, pending lists and consumers.
pub fn check_stream_model(b: &dyn StorageBackend) {
    let mut reference = MemStream::new();
    let (mut rng_b, mut rng_r) = (Lcg(42), Lcg(42));
    let (mut ms_b, mut ms_r) = (0u64, 0u64);
    for step in 0..600 {
        let got = keyed(b, &[b"x"], |t| {
            with_stream(t, 0, b"x", true, |s| {
                random_op(&mut rng_b, &mut ms_b, s);
                snapshot(s)
            })
            .expect("with_stream")
            .expect("created")
        });
        random_op(&mut rng_r, &mut ms_r, &mut reference);
        let want = snapshot(&mut reference);
        assert_eq!(got, want, "step {step}");
        // Reading again in a new scope sees the same (the writes were applied).
        let again = keyed(b, &[b"x"], |t| {
            with_stream(t, 0, b"x", false, snapshot)
                .expect("with_stream")
                .expect("exists")
        });
        assert_eq!(again, want, "step {step} after commit");
    }
}

/// Streams stay when emptied, report their type and encoding, refuse other types'
/// operations, and move with their groups on RENAME and COPY.
pub fn check_stream_keyspace(b: &dyn StorageBackend) {
    keyed(b, &[b"s", b"t", b"u", b"none"], |t| {
        let made = with_stream(t, 0, b"s", true, |s| {
            s.append(StreamId::new(1, 1), &[b"a", b"1"], NodeLimits::default());
            s.groups().set_group(b"g", StreamId::new(1, 1), Some(1));
            s.remove(StreamId::new(1, 1), true)
        });
        assert_eq!(made, Ok(Some(true)));
        let meta = t.meta(0, b"s").expect("meta").expect("empty streams stay");
        assert_eq!(meta.key_type, KeyType::Stream);
        let info = t.object_info(0, b"s").expect("info").expect("exists");
        assert_eq!(info.encoding, "stream");
        assert!(t.get_string(0, b"s").is_err());
        assert!(t.with_list(0, b"s", false, &mut |_| {}).is_err());
        t.set_string(0, b"t", b"x", crate::storage::TtlUpdate::Clear)
            .expect("set");
        assert!(with_stream(t, 0, b"t", true, |_| ()).is_err());
        assert_eq!(with_stream(t, 0, b"none", false, |_| ()), Ok(None));
        assert!(t.copy(0, b"s", 0, b"u").expect("copy"));
        assert!(t.rename(0, b"s", 0, b"t").expect("rename"));
        for key in [b"t".as_slice(), b"u"] {
            let groups = with_stream(t, 0, key, false, |s| {
                (s.len(), s.groups().group(b"g").map(|g| g.entries_read))
            });
            assert_eq!(groups, Ok(Some((0, Some(Some(1))))), "{key:?}");
        }
        assert!(t.delete(0, b"t").expect("delete"));
        assert_eq!(t.meta(0, b"t").expect("meta"), None);
    });
}
