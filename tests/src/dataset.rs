//! Random datasets of every type, written and compared over RESP, for the
//! persistence tests (SAVE / restart / cross-loading with redis-server).
//!
//! [`fill`] makes keys in every encoding Redis 7.0 would pick (small and big lists,
//! hashes, sets, sorted sets; integer, short and long strings; some with TTLs);
//! [`contents`] reads a whole database back into a map that compares equal across
//! servers whatever order they iterate in.

use std::collections::BTreeMap;

use crate::{items, text, Frame, RawClient};

/// A small xorshift generator, so datasets are reproducible from a seed.
pub struct Rng(pub u64);

impl Rng {
    /// The next pseudo-random number.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number below `n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// An element: integers, short words, long repetitive or random text.
    pub fn element(&mut self) -> String {
        match self.below(6) {
            0 => self.below(1000).to_string(),
            1 => (self.next_u64() as i64).to_string(),
            2 => "x".repeat(self.below(150) as usize),
            3 => format!("e{}", self.below(100_000)),
            4 => format!("{:x}", self.next_u64()),
            _ => format!(
                "{}-{}",
                self.next_u64(),
                "ab".repeat(self.below(40) as usize)
            ),
        }
    }
}

/// Sends one command made of owned words.
async fn send(c: &mut RawClient, words: &[String]) -> Frame {
    let refs: Vec<&str> = words.iter().map(String::as_str).collect();
    c.send(&refs).await
}

/// Writes `keys` random keys of every type named `{prefix}{i}` in the current
/// database; about one in eight collections is big (past the listpack limits).
pub async fn fill(c: &mut RawClient, seed: u64, prefix: &str, keys: usize) {
    let mut r = Rng(seed);
    for i in 0..keys {
        let key = format!("{prefix}{i}");
        let big = r.below(8) == 0;
        let n = if big {
            130 + r.below(700)
        } else {
            1 + r.below(12)
        } as usize;
        let mut cmd: Vec<String> = Vec::new();
        match r.below(7) {
            0 => cmd.extend(["SET".into(), key.clone(), r.element()]),
            1 => cmd.extend([
                "SET".into(),
                key.clone(),
                "z".repeat(r.below(3000) as usize + 1),
            ]),
            2 => {
                cmd.extend(["RPUSH".into(), key.clone()]);
                cmd.extend((0..n).map(|_| r.element()));
            }
            3 => {
                cmd.extend(["HSET".into(), key.clone()]);
                for j in 0..n {
                    cmd.push(format!("f{j}"));
                    cmd.push(r.element());
                }
            }
            4 => {
                cmd.extend(["SADD".into(), key.clone()]);
                let ints = r.below(2) == 0;
                let n = if big { n + 400 } else { n };
                cmd.extend((0..n).map(|_| {
                    if ints {
                        (r.next_u64() as i64 >> r.below(62)).to_string()
                    } else {
                        r.element()
                    }
                }));
            }
            5 => {
                cmd.extend(["ZADD".into(), key.clone()]);
                for _ in 0..n {
                    let score = match r.below(4) {
                        0 => r.below(100).to_string(),
                        1 => format!("{}", (r.next_u64() as i64) as f64 / 7.0),
                        2 => "-inf".into(),
                        _ => format!("{}", r.below(100_000) as f64 / 3.0),
                    };
                    cmd.push(score);
                    cmd.push(r.element());
                }
            }
            _ => cmd.extend(["SET".into(), key.clone(), r.below(100_000).to_string()]),
        }
        let reply = send(c, &cmd).await;
        assert!(!matches!(reply, Frame::Error(_)), "{cmd:?}: {reply:?}");
        if r.below(4) == 0 {
            let ttl = (100_000 + r.below(1_000_000)).to_string();
            send(c, &["PEXPIRE".into(), key, ttl]).await;
        }
    }
}

/// Everything in the current database: key -> (type, whether it has a TTL,
/// canonical value text).
pub async fn contents(c: &mut RawClient) -> BTreeMap<String, (String, bool, String)> {
    let mut out = BTreeMap::new();
    let keys = c.send(&["KEYS", "*"]).await;
    for k in items(&keys).iter().map(text) {
        let t = text(&c.send(&["TYPE", &k]).await);
        let value = match t.as_str() {
            "string" => text(&c.send(&["GET", &k]).await),
            "list" => join(c.send(&["LRANGE", &k, "0", "-1"]).await, false),
            "hash" => pairs(c.send(&["HGETALL", &k]).await),
            "set" => join(c.send(&["SMEMBERS", &k]).await, true),
            "zset" => join(
                c.send(&["ZRANGE", &k, "0", "-1", "WITHSCORES"]).await,
                false,
            ),
            other => panic!("unexpected type {other}"),
        };
        let ttl = crate::as_int(&c.send(&["PTTL", &k]).await);
        out.insert(k, (t, ttl >= 0, value));
    }
    out
}

fn join(frame: Frame, sort: bool) -> String {
    let mut v: Vec<String> = items(&frame).iter().map(text).collect();
    if sort {
        v.sort();
    }
    v.join("\u{1}")
}

fn pairs(frame: Frame) -> String {
    let v: Vec<String> = items(&frame).iter().map(text).collect();
    let mut p: Vec<String> = v.chunks(2).map(|c| c.join("=")).collect();
    p.sort();
    p.join("\u{1}")
}
