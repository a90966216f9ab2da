//! The keyspace as commands (Redis' `rewriteAppendOnlyFileRio`): the base file of a
//! rewrite, written from a scope that sees the whole keyspace at one instant.

use ferrokv_core::storage::{self, KeyType, StorageResult, Txn};

use super::format::{encode_bulk, encode_header, encode_parts};

/// Elements per command for collections, as Redis' `AOF_REWRITE_ITEMS_PER_CMD`.
const ITEMS_PER_CMD: usize = 64;

/// Appends `key` of `db` to `out` as commands (its value, then `PEXPIREAT` if it is
/// volatile); false if the key does not exist.
pub fn dump_key(
    txn: &mut dyn Txn,
    db: usize,
    key: &[u8],
    out: &mut Vec<u8>,
) -> StorageResult<bool> {
    let Some(meta) = txn.meta(db, key)? else {
        return Ok(false);
    };
    dump_value(txn, db, key, meta.key_type, out)?;
    if let Some(at) = meta.expire_at {
        encode_parts(out, &[b"PEXPIREAT", key, at.to_string().as_bytes()]);
    }
    Ok(true)
}

/// Accumulates elements into commands of at most [`ITEMS_PER_CMD`] elements,
/// encoding the arguments as they come (no copy per element).
struct Batcher<'a> {
    out: &'a mut Vec<u8>,
    name: &'static [u8],
    key: &'a [u8],
    /// The encoded element arguments of the command being built.
    body: Vec<u8>,
    args: usize,
    per_item: usize,
}

impl<'a> Batcher<'a> {
    fn new(out: &'a mut Vec<u8>, name: &'static [u8], key: &'a [u8], per_item: usize) -> Self {
        Batcher {
            out,
            name,
            key,
            body: Vec::new(),
            args: 0,
            per_item,
        }
    }

    fn push(&mut self, item: &[&[u8]]) {
        for arg in item {
            encode_bulk(&mut self.body, arg);
        }
        self.args += item.len();
        if self.args >= ITEMS_PER_CMD * self.per_item {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if self.args == 0 {
            return;
        }
        encode_header(self.out, self.args + 2);
        encode_bulk(self.out, self.name);
        encode_bulk(self.out, self.key);
        self.out.extend_from_slice(&self.body);
        self.body.clear();
        self.args = 0;
    }
}

fn dump_value(
    txn: &mut dyn Txn,
    db: usize,
    key: &[u8],
    kind: KeyType,
    out: &mut Vec<u8>,
) -> StorageResult<()> {
    match kind {
        KeyType::String => {
            if let Some(value) = txn.get_string(db, key)? {
                encode_parts(out, &[b"SET", key, &value]);
            }
        }
        KeyType::List => {
            let mut b = Batcher::new(out, b"RPUSH", key, 1);
            storage::with_list(txn, db, key, false, |l| {
                l.iter(0, false, &mut |_, v| {
                    b.push(&[v]);
                    true
                })
            })?;
            b.flush();
        }
        KeyType::Set => {
            let mut b = Batcher::new(out, b"SADD", key, 1);
            storage::with_set(txn, db, key, false, |s| {
                s.for_each(&mut |m| {
                    b.push(&[m]);
                    true
                })
            })?;
            b.flush();
        }
        KeyType::Hash => {
            let mut b = Batcher::new(out, b"HMSET", key, 2);
            let mut volatile: Vec<(Vec<u8>, u64)> = Vec::new();
            storage::with_hash(txn, db, key, false, |h| {
                let mut fields = Vec::new();
                h.for_each(&mut |f, v| {
                    b.push(&[f, v]);
                    fields.push(f.to_vec());
                    true
                });
                for f in fields {
                    if let Some(Some(at)) = h.field_expire(&f) {
                        volatile.push((f, at));
                    }
                }
            })?;
            b.flush();
            // Hash field expiry (Redis 7.4): one HPEXPIREAT per field with a deadline.
            for (field, at) in volatile {
                encode_parts(
                    out,
                    &[
                        b"HPEXPIREAT",
                        key,
                        at.to_string().as_bytes(),
                        b"FIELDS",
                        b"1",
                        &field,
                    ],
                );
            }
        }
        KeyType::ZSet => {
            let mut b = Batcher::new(out, b"ZADD", key, 2);
            storage::with_zset(txn, db, key, false, |z| {
                z.range_by_rank(0, false, &mut |m, score| {
                    b.push(&[format_score(score).as_bytes(), m]);
                    true
                })
            })?;
            b.flush();
        }
        KeyType::Stream => {
            // ferrokv stores no streams yet.
        }
    }
    Ok(())
}

/// A score as text that parses back to the same double (`inf`/`-inf` included).
fn format_score(score: f64) -> String {
    if score.is_infinite() {
        return if score > 0.0 { "inf" } else { "-inf" }.into();
    }
    format!("{score:?}")
}
