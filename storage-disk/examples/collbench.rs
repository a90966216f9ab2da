//! In-process benchmark of the collection commands redis-benchmark's default tests
//! send (`LPUSH mylist xxx`, `SADD myset element:<rand>`, `ZPOPMIN myzset`, ...),
//! run through the engine on the disk backend without the network: one thread,
//! commands grouped `-P` at a time as a pipelined connection's are. It measures
//! the server-side cost per command, free of the scheduling noise of a shared
//! machine (each test is run `ROUNDS` times on a fresh store; the best round
//! counts).
//!
//! ```text
//! cargo run --release -p ferrokv-storage-disk --example collbench -- [N] [P] [test,...]
//! ```

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use ferrokv_core::config::Config;
use ferrokv_core::storage::StorageBackend;
use ferrokv_core::{Engine, Session};
use ferrokv_storage_disk::DiskBackend;
use rand::{Rng, SeedableRng};

/// Fresh stores each test runs on; the fastest round is reported.
const ROUNDS: usize = 3;

/// redis-benchmark's default tests that touch collections, in its order.
const TESTS: &[&str] = &[
    "lpush",
    "rpush",
    "lpop",
    "rpop",
    "sadd",
    "hset",
    "spop",
    "zadd",
    "zpopmin",
    "fill",
    "lrange_100",
    "lrange_300",
];

/// The command of one request of `test`, as redis-benchmark formats it (its
/// `__rand_int__` is a 12-digit number below `-r 100000`).
fn command(test: &str, rng: &mut impl Rng) -> Vec<Bytes> {
    let mut r = || format!("{:012}", rng.gen_range(0..100_000u32));
    let words: Vec<String> = match test {
        "lpush" | "fill" => vec!["LPUSH".into(), "mylist".into(), "xxx".into()],
        "rpush" => vec!["RPUSH".into(), "mylist".into(), "xxx".into()],
        "lpop" => vec!["LPOP".into(), "mylist".into()],
        "rpop" => vec!["RPOP".into(), "mylist".into()],
        "sadd" => vec!["SADD".into(), "myset".into(), format!("element:{}", r())],
        "hset" => vec![
            "HSET".into(),
            "myhash".into(),
            format!("element:{}", r()),
            "xxx".into(),
        ],
        "spop" => vec!["SPOP".into(), "myset".into()],
        "zadd" => {
            let score = r();
            vec![
                "ZADD".into(),
                "myzset".into(),
                score,
                format!("element:{}", r()),
            ]
        }
        "zpopmin" => vec!["ZPOPMIN".into(), "myzset".into()],
        "lrange_100" => vec!["LRANGE".into(), "mylist".into(), "0".into(), "99".into()],
        "lrange_300" => vec!["LRANGE".into(), "mylist".into(), "0".into(), "299".into()],
        other => panic!("unknown test {other}"),
    };
    words.into_iter().map(Bytes::from).collect()
}

/// Runs every selected test in order on a fresh store; nanoseconds per command.
fn round(n: usize, pipeline: usize, tests: &[&str]) -> Vec<f64> {
    let dir = tempfile::tempdir().expect("temporary directory");
    let backend = Arc::new(DiskBackend::open(dir.path(), 16).expect("open"));
    let engine = Engine::new(backend.clone(), Config::new());
    let mut session = Session::new(engine.clients.register(
        "127.0.0.1:1".into(),
        "127.0.0.1:6379".into(),
        None,
    ));
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut out = Vec::new();
    for test in tests {
        let commands: Vec<Vec<Bytes>> = (0..n).map(|_| command(test, &mut rng)).collect();
        let start = Instant::now();
        for batch in commands.chunks(pipeline) {
            backend
                .group(&mut || {
                    for argv in batch {
                        std::hint::black_box(engine.execute(&mut session, argv));
                    }
                })
                .expect("group");
        }
        out.push(start.elapsed().as_nanos() as f64 / n as f64);
    }
    drop(engine);
    out
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n = args.first().map_or(200_000, |a| a.parse().expect("N"));
    let pipeline = args.get(1).map_or(1, |a| a.parse().expect("P"));
    let tests: Vec<&str> = match args.get(2) {
        Some(list) => list.split(',').collect(),
        None => TESTS.to_vec(),
    };
    let mut best = vec![f64::MAX; tests.len()];
    for _ in 0..ROUNDS {
        for (b, t) in best.iter_mut().zip(round(n, pipeline, &tests)) {
            *b = b.min(t);
        }
    }
    for (test, ns) in tests.iter().zip(best) {
        println!("{test:<11} P{pipeline:<3} {:8.2} us/op", ns / 1000.0);
    }
}
