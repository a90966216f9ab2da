//! Writing RDB: the low-level encodings (lengths, strings, doubles), one value from
//! element-level ops, and the file structure around keys.

use std::io::{self, Write};

use bytes::Bytes;

use super::listpack::{build_intset, canonical_int, entry_size, ListpackBuilder};
use super::{crc64::crc64, lzf, opcode, types, RDB_VERSION};
pub use crate::storage::ValueRef;
use crate::storage::{EncodingLimits, HashOps, ListOps, SetOps, UnixMillis, ZSetOps};

/// How values are encoded.
#[derive(Debug, Clone, Copy)]
pub struct WriteOptions {
    /// `rdbcompression`: LZF-compress strings longer than 20 bytes when it helps.
    pub compress: bool,
    /// `rdbchecksum`: compute the CRC64 (else zeros are written).
    pub checksum: bool,
    /// Thresholds choosing compact encodings, as Redis' object encodings would be.
    pub limits: EncodingLimits,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            compress: true,
            checksum: true,
            limits: EncodingLimits::default(),
        }
    }
}

/// An RDB writer over `W`: keeps the running CRC64 and byte count.
pub struct RdbWriter<W: Write> {
    inner: W,
    crc: u64,
    written: u64,
    opts: WriteOptions,
}

impl<W: Write> RdbWriter<W> {
    /// A writer that has written nothing yet (see [`RdbWriter::header`]).
    pub fn new(inner: W, opts: WriteOptions) -> RdbWriter<W> {
        RdbWriter {
            inner,
            crc: 0,
            written: 0,
            opts,
        }
    }

    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// The CRC64 of everything written so far (0 with `rdbchecksum no`).
    pub fn crc(&self) -> u64 {
        self.crc
    }

    /// The options in force.
    pub fn options(&self) -> &WriteOptions {
        &self.opts
    }

    /// Writes bytes as they are.
    pub fn raw(&mut self, data: &[u8]) -> io::Result<()> {
        if self.opts.checksum {
            self.crc = crc64(self.crc, data);
        }
        self.written += data.len() as u64;
        self.inner.write_all(data)
    }

    /// Writes one byte (a type or opcode).
    pub fn byte(&mut self, b: u8) -> io::Result<()> {
        self.raw(&[b])
    }

    /// Writes a length (`rdbSaveLen`).
    pub fn len(&mut self, n: u64) -> io::Result<()> {
        if n < 1 << 6 {
            self.byte(n as u8)
        } else if n < 1 << 14 {
            self.raw(&[0x40 | (n >> 8) as u8, n as u8])
        } else if n <= u64::from(u32::MAX) {
            let mut b = [0x80, 0, 0, 0, 0];
            b[1..].copy_from_slice(&(n as u32).to_be_bytes());
            self.raw(&b)
        } else {
            let mut b = [0x81, 0, 0, 0, 0, 0, 0, 0, 0];
            b[1..].copy_from_slice(&n.to_be_bytes());
            self.raw(&b)
        }
    }

    /// Writes a string as `rdbSaveRawString` does: small canonical integers in the
    /// integer encodings, long strings LZF-compressed when enabled and smaller.
    pub fn string(&mut self, s: &[u8]) -> io::Result<()> {
        if s.len() <= 11 {
            if let Some(v) = canonical_int(s) {
                return self.int_string(v, s);
            }
        }
        if self.opts.compress && s.len() > 20 {
            if let Some(c) = lzf::compress(s, s.len() - 4) {
                self.byte(0xc3)?;
                self.len(c.len() as u64)?;
                self.len(s.len() as u64)?;
                return self.raw(&c);
            }
        }
        self.len(s.len() as u64)?;
        self.raw(s)
    }

    fn int_string(&mut self, v: i64, text: &[u8]) -> io::Result<()> {
        if let Ok(b) = i8::try_from(v) {
            self.raw(&[0xc0, b as u8])
        } else if let Ok(h) = i16::try_from(v) {
            let b = h.to_le_bytes();
            self.raw(&[0xc1, b[0], b[1]])
        } else if let Ok(w) = i32::try_from(v) {
            let b = w.to_le_bytes();
            self.raw(&[0xc2, b[0], b[1], b[2], b[3]])
        } else {
            self.len(text.len() as u64)?;
            self.raw(text)
        }
    }

    /// Writes a double as 8 little-endian bytes (`rdbSaveBinaryDoubleValue`).
    pub fn binary_double(&mut self, d: f64) -> io::Result<()> {
        self.raw(&d.to_le_bytes())
    }

    /// Writes milliseconds as 8 little-endian bytes (`rdbSaveMillisecondTime`).
    pub fn millis(&mut self, ms: UnixMillis) -> io::Result<()> {
        self.raw(&ms.to_le_bytes())
    }

    /// Writes the magic `REDIS0010` and the aux fields Redis 7.0 writes.
    pub fn header(&mut self, aux: &[(&str, String)]) -> io::Result<()> {
        self.raw(format!("REDIS{RDB_VERSION:04}").as_bytes())?;
        for (k, v) in aux {
            self.aux(k.as_bytes(), v.as_bytes())?;
        }
        Ok(())
    }

    /// Writes one aux field.
    pub fn aux(&mut self, key: &[u8], value: &[u8]) -> io::Result<()> {
        self.byte(opcode::AUX)?;
        self.string(key)?;
        self.string(value)
    }

    /// Starts a database: SELECTDB and RESIZEDB.
    pub fn select_db(&mut self, db: usize, keys: u64, expires: u64) -> io::Result<()> {
        self.byte(opcode::SELECTDB)?;
        self.len(db as u64)?;
        self.byte(opcode::RESIZEDB)?;
        self.len(keys)?;
        self.len(expires)
    }

    /// Writes one key: its expiry, type, name and value.
    pub fn key(
        &mut self,
        key: &[u8],
        expire_at: Option<UnixMillis>,
        value: ValueRef<'_>,
    ) -> io::Result<()> {
        if let Some(at) = expire_at {
            self.byte(opcode::EXPIRETIME_MS)?;
            self.millis(at)?;
        }
        self.value_with(value, |w| w.string(key))
    }

    /// Writes a value's type byte and body (the DUMP payload's start).
    pub fn value(&mut self, value: ValueRef<'_>) -> io::Result<()> {
        self.value_with(value, |_| Ok(()))
    }

    /// Ends the file: EOF and the CRC64 (zeros with `rdbchecksum no`); returns the
    /// inner writer, flushed.
    pub fn finish(mut self) -> io::Result<W> {
        self.byte(opcode::EOF)?;
        let crc = self.crc;
        self.raw(&crc.to_le_bytes())?;
        self.inner.flush()?;
        Ok(self.inner)
    }

    /// Ends a DUMP payload: RDB version and CRC64 (always computed, as Redis does).
    pub fn finish_payload(mut self) -> io::Result<W> {
        self.raw(&RDB_VERSION.to_le_bytes())?;
        let crc = self.crc;
        self.raw(&crc.to_le_bytes())?;
        Ok(self.inner)
    }

    /// Writes the type byte, then `between` (the key name in a file), then the body.
    fn value_with(
        &mut self,
        value: ValueRef<'_>,
        between: impl FnOnce(&mut Self) -> io::Result<()>,
    ) -> io::Result<()> {
        match value {
            ValueRef::String(s) => {
                self.byte(types::STRING)?;
                between(self)?;
                self.string(s)
            }
            ValueRef::List(ops) => {
                self.byte(types::LIST_QUICKLIST_2)?;
                between(self)?;
                self.list(ops)
            }
            ValueRef::Set(ops) => self.set(ops, between),
            ValueRef::ZSet(ops) => self.zset(ops, between),
            ValueRef::Hash(ops) => self.hash(ops, between),
        }
    }

    /// The byte limit and count limit of one quicklist node (`list-max-listpack-size`).
    fn node_limits(&self) -> (usize, usize) {
        const SIZES: [usize; 5] = [4096, 8192, 16384, 32768, 65536];
        let fill = self.opts.limits.list_max_listpack_size;
        if fill >= 0 {
            (8192, (fill as usize).max(1))
        } else {
            let i = (fill.unsigned_abs() as usize).clamp(1, 5) - 1;
            (SIZES[i], usize::MAX)
        }
    }

    /// A list as quicklist 2: node count, then each node as a packed listpack. A
    /// first pass sizes the nodes (the count comes first), a second writes them.
    fn list(&mut self, ops: &mut dyn ListOps) -> io::Result<()> {
        let (max_bytes, max_count) = self.node_limits();
        let mut nodes: Vec<usize> = Vec::new();
        let (mut bytes, mut count) = (7usize, 0usize);
        ops.iter(0, false, &mut |_, v| {
            let size = entry_size(v);
            if count > 0 && (bytes + size > max_bytes || count + 1 > max_count) {
                nodes.push(count);
                bytes = 7;
                count = 0;
            }
            bytes += size;
            count += 1;
            true
        });
        if count > 0 {
            nodes.push(count);
        }
        self.len(nodes.len() as u64)?;
        let mut result = Ok(());
        let mut node = 0;
        let mut lp = ListpackBuilder::new();
        ops.iter(0, false, &mut |_, v| {
            lp.push(v);
            if nodes.get(node) == Some(&lp.len()) {
                let blob = std::mem::take(&mut lp).finish();
                node += 1;
                result = self.byte(2).and_then(|_| self.string(&blob));
            }
            result.is_ok()
        });
        result?;
        if node != nodes.len() {
            return Err(io::Error::other("list changed while it was being saved"));
        }
        Ok(())
    }

    /// A set: an intset when small and all integers, else a plain set (Redis 7.0 has
    /// no listpack sets).
    fn set(
        &mut self,
        ops: &mut dyn SetOps,
        between: impl FnOnce(&mut Self) -> io::Result<()>,
    ) -> io::Result<()> {
        let len = ops.len();
        if len <= self.opts.limits.set_max_intset_entries {
            let mut members: Vec<Bytes> = Vec::with_capacity(len);
            ops.for_each(&mut |m| {
                members.push(Bytes::copy_from_slice(m));
                true
            });
            let ints: Option<Vec<i64>> = members.iter().map(|m| canonical_int(m)).collect();
            if let Some(mut ints) = ints {
                self.byte(types::SET_INTSET)?;
                between(self)?;
                return self.string(&build_intset(&mut ints));
            }
            self.byte(types::SET)?;
            between(self)?;
            self.len(members.len() as u64)?;
            return members.iter().try_for_each(|m| self.string(m));
        }
        self.byte(types::SET)?;
        between(self)?;
        self.len(len as u64)?;
        let mut result = Ok(());
        ops.for_each(&mut |m| {
            result = self.string(m);
            result.is_ok()
        });
        result
    }

    /// A sorted set: a listpack of member-score pairs when small, else ZSET_2 from
    /// the highest score down, as Redis writes its skiplist.
    fn zset(
        &mut self,
        ops: &mut dyn ZSetOps,
        between: impl FnOnce(&mut Self) -> io::Result<()>,
    ) -> io::Result<()> {
        let len = ops.len();
        let limits = self.opts.limits;
        if len <= limits.zset_max_listpack_entries {
            let mut items: Vec<(Bytes, f64)> = Vec::with_capacity(len);
            ops.range_by_rank(0, false, &mut |m, s| {
                items.push((Bytes::copy_from_slice(m), s));
                true
            });
            if items
                .iter()
                .all(|(m, _)| m.len() <= limits.zset_max_listpack_value)
            {
                let mut lp = ListpackBuilder::new();
                for (m, s) in &items {
                    lp.push(m);
                    push_score(&mut lp, *s);
                }
                self.byte(types::ZSET_LISTPACK)?;
                between(self)?;
                return self.string(&lp.finish());
            }
            self.byte(types::ZSET_2)?;
            between(self)?;
            self.len(items.len() as u64)?;
            return items.iter().rev().try_for_each(|(m, s)| {
                self.string(m)?;
                self.binary_double(*s)
            });
        }
        self.byte(types::ZSET_2)?;
        between(self)?;
        self.len(len as u64)?;
        let mut result = Ok(());
        ops.range_by_rank(0, true, &mut |m, s| {
            result = self.string(m).and_then(|_| self.binary_double(s));
            result.is_ok()
        });
        result
    }

    /// A hash: a listpack when small and no field has a TTL; a plain hash; or, with
    /// field TTLs, Redis 7.4's `RDB_TYPE_HASH_METADATA` (TTLs relative to the
    /// smallest one, 0 for none).
    fn hash(
        &mut self,
        ops: &mut dyn HashOps,
        between: impl FnOnce(&mut Self) -> io::Result<()>,
    ) -> io::Result<()> {
        let limits = self.opts.limits;
        // First pass: live count, smallest field expiry, whether a listpack fits.
        let (mut count, mut min_expire, mut small) = (0usize, None::<UnixMillis>, true);
        ops.for_each_expiring(&mut |f, v, at| {
            count += 1;
            if let Some(at) = at {
                min_expire = Some(min_expire.map_or(at, |m| m.min(at)));
            }
            small &= f.len() <= limits.hash_max_listpack_value
                && v.len() <= limits.hash_max_listpack_value;
            true
        });
        small &= count <= limits.hash_max_listpack_entries;
        let mut result = Ok(());
        if let Some(min) = min_expire {
            self.byte(types::HASH_METADATA)?;
            between(self)?;
            self.millis(min)?;
            self.len(count as u64)?;
            ops.for_each_expiring(&mut |f, v, at| {
                let ttl = at.map_or(0, |at| at - min + 1);
                result = self
                    .len(ttl)
                    .and_then(|_| self.string(f))
                    .and_then(|_| self.string(v));
                result.is_ok()
            });
        } else if small {
            let mut lp = ListpackBuilder::new();
            ops.for_each(&mut |f, v| {
                lp.push(f);
                lp.push(v);
                true
            });
            self.byte(types::HASH_LISTPACK)?;
            between(self)?;
            result = self.string(&lp.finish());
        } else {
            self.byte(types::HASH)?;
            between(self)?;
            self.len(count as u64)?;
            ops.for_each(&mut |f, v| {
                result = self.string(f).and_then(|_| self.string(v));
                result.is_ok()
            });
        }
        result
    }
}

/// A score in a listpack as Redis' `zzlInsertAt` stores it: `d2string` text, which
/// `lpAppend` turns into an integer when it is one.
fn push_score(lp: &mut ListpackBuilder, s: f64) {
    const LIMIT: f64 = 4_503_599_627_370_496.0; // 2^52
    if s.fract() == 0.0 && s > -LIMIT && s < LIMIT && !(s == 0.0 && s.is_sign_negative()) {
        lp.push_int(s as i64);
    } else if s.is_infinite() {
        lp.push_str(if s > 0.0 { b"inf" } else { b"-inf" });
    } else {
        lp.push_str(ferrokv_protocol::format_double_g17(s).as_bytes());
    }
}

/// The aux fields Redis 7.0 writes at the top of a file.
pub fn standard_aux(ctime_secs: u64, used_mem: u64, aof_base: bool) -> Vec<(&'static str, String)> {
    vec![
        ("redis-ver", crate::REDIS_VERSION.to_string()),
        ("redis-bits", "64".to_string()),
        ("ctime", ctime_secs.to_string()),
        ("used-mem", used_mem.to_string()),
        ("aof-base", u8::from(aof_base).to_string()),
    ]
}
