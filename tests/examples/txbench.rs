//! A transaction-heavy load that redis-benchmark cannot send: each request is
//! `MULTI`, `INCR counter:<rand>`, `EXEC`. `CLIENTS` connections each keep `PIPELINE`
//! transactions in flight (written in one buffer, replies read back before the next
//! burst), until `TRANSACTIONS` have completed in all; prints transactions per second.
//! Run it against redis-server and ferrokv in turn (`bench/tx_compare.sh` does).
//!
//! ```text
//! cargo run --release -p ferrokv-tests --example txbench -- PORT [CLIENTS] [PIPELINE] [TRANSACTIONS] [KEYSPACE]
//! ```

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// Positional argument `i`, or `default`.
fn arg(i: usize, default: u64) -> u64 {
    std::env::args()
        .nth(i)
        .map(|a| a.parse().expect("a number"))
        .unwrap_or(default)
}

/// A small xorshift generator: the keys only need to spread, not be unpredictable.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// One connection's loop: bursts of `pipeline` transactions until the shared budget
/// is spent. Each transaction's replies are `+OK`, `+QUEUED`, `*1` and `:n` (four
/// lines); anything else is a failure worth stopping for.
fn client(port: u64, pipeline: u64, keyspace: u64, budget: Arc<AtomicU64>, seed: u64) {
    let stream = TcpStream::connect(("127.0.0.1", port as u16)).expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let mut writer = stream.try_clone().expect("clone");
    let mut reader = BufReader::new(stream);
    let mut rng = Rng(seed | 1);
    let mut out = Vec::with_capacity(pipeline as usize * 80);
    let mut line = String::new();
    loop {
        let taken = budget.fetch_sub(pipeline, Ordering::Relaxed);
        if taken == 0 || taken > u64::MAX / 2 {
            return;
        }
        let burst = pipeline.min(taken);
        out.clear();
        for _ in 0..burst {
            let key = format!("counter:{:012}", rng.below(keyspace));
            out.extend_from_slice(b"*1\r\n$5\r\nMULTI\r\n");
            write!(out, "*2\r\n$4\r\nINCR\r\n${}\r\n{key}\r\n", key.len()).expect("vec");
            out.extend_from_slice(b"*1\r\n$4\r\nEXEC\r\n");
        }
        writer.write_all(&out).expect("write");
        for _ in 0..burst {
            for expected in ["+OK", "+QUEUED", "*1", ":"] {
                line.clear();
                reader.read_line(&mut line).expect("read");
                assert!(line.starts_with(expected), "unexpected reply {line:?}");
            }
        }
    }
}

fn main() {
    let port = arg(1, 6379);
    let clients = arg(2, 50);
    let pipeline = arg(3, 1).max(1);
    let transactions = arg(4, 200_000);
    let keyspace = arg(5, 100_000).max(1);
    let budget = Arc::new(AtomicU64::new(transactions));
    let start = Instant::now();
    let threads: Vec<_> = (0..clients)
        .map(|i| {
            let budget = budget.clone();
            std::thread::spawn(move || {
                client(port, pipeline, keyspace, budget, 0x9E37_79B9 * (i + 1))
            })
        })
        .collect();
    for t in threads {
        t.join().expect("client thread");
    }
    let secs = start.elapsed().as_secs_f64();
    println!("{:.0}", transactions as f64 / secs);
}
