//! Reading RDB: files item by item, and single values (DUMP payloads). Every length
//! is checked against the data actually present before anything is allocated for
//! it, so a corrupt or hostile file yields an error with its offset, never a panic
//! or a huge allocation.

use std::io::Read;

use bytes::Bytes;

use super::listpack::{intset_members, listpack_entries, ziplist_entries, zipmap_pairs};
use super::{crc64::crc64, lzf, opcode, types, HashField, RdbError, Value, RDB_MAX_LOAD_VERSION};
use crate::storage::UnixMillis;
use crate::util::number::parse_f64;

/// Collections never reserve more than this many elements ahead of reading them.
const MAX_PREALLOC: usize = 4096;

/// Module value opcodes (`RDB_MODULE_OPCODE_*`), used to skip module aux data.
const MODULE_EOF: u64 = 0;
const MODULE_SINT: u64 = 1;
const MODULE_UINT: u64 = 2;
const MODULE_FLOAT: u64 = 3;
const MODULE_DOUBLE: u64 = 4;
const MODULE_STRING: u64 = 5;

/// What the checksum at the end of a file says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checksum {
    /// The stored CRC64 matches the data.
    Ok,
    /// The file was written with `rdbchecksum no` (zeros stored).
    Disabled,
    /// The stored CRC64 differs from the data's.
    Mismatch {
        /// Stored in the file.
        stored: u64,
        /// Computed from the data.
        computed: u64,
    },
    /// The file's version predates checksums.
    Absent,
}

/// One key read from a file.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyEntry {
    /// Its database.
    pub db: usize,
    /// Its name.
    pub key: Bytes,
    /// Its value.
    pub value: Value,
    /// Absolute expiry.
    pub expire_at: Option<UnixMillis>,
    /// LRU idle seconds, if recorded.
    pub idle_secs: Option<u64>,
    /// LFU counter, if recorded.
    pub freq: Option<u8>,
}

/// One record of a file.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// An aux field.
    Aux {
        /// Field name (`redis-ver`, `ctime`, ...).
        key: Bytes,
        /// Its value.
        value: Bytes,
    },
    /// A database starts.
    SelectDb(usize),
    /// Size hint of the current database.
    ResizeDb {
        /// Keys.
        keys: u64,
        /// Keys with an expiry.
        expires: u64,
    },
    /// A function library's code (`FUNCTION LOAD` source).
    Function(Bytes),
    /// Module aux data, skipped.
    ModuleAux,
    /// A key and its value.
    Key(KeyEntry),
    /// End of file.
    Eof(Checksum),
}

/// A reader of RDB data over `R`, keeping the offset and running CRC64.
pub struct RdbReader<R: Read> {
    inner: R,
    crc: u64,
    offset: u64,
    version: u16,
    db: usize,
    done: bool,
}

impl<R: Read> RdbReader<R> {
    /// A reader positioned at the start of a file: reads and checks the magic.
    pub fn open(inner: R) -> Result<RdbReader<R>, RdbError> {
        let mut r = RdbReader::value_reader(inner);
        let magic = r.bytes(9)?;
        if &magic[..5] != b"REDIS" {
            return Err(r.corrupt("wrong signature trying to load DB from file"));
        }
        let version = std::str::from_utf8(&magic[5..])
            .ok()
            .and_then(|v| v.parse::<u16>().ok())
            .filter(|v| (1..=RDB_MAX_LOAD_VERSION).contains(v))
            .ok_or_else(|| r.corrupt("can't handle RDB format version"))?;
        r.version = version;
        Ok(r)
    }

    /// A reader of bare values (a DUMP payload body).
    pub fn value_reader(inner: R) -> RdbReader<R> {
        RdbReader {
            inner,
            crc: 0,
            offset: 0,
            version: super::RDB_VERSION,
            db: 0,
            done: false,
        }
    }

    /// The file's RDB version.
    pub fn version(&self) -> u16 {
        self.version
    }

    /// Bytes consumed so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    fn corrupt(&self, reason: impl Into<String>) -> RdbError {
        RdbError::Corrupt {
            offset: self.offset,
            reason: reason.into(),
        }
    }

    /// Reads exactly `n` bytes, growing the buffer only as data arrives.
    fn bytes(&mut self, n: u64) -> Result<Vec<u8>, RdbError> {
        let mut buf = Vec::with_capacity(n.min(1 << 16) as usize);
        (&mut self.inner).take(n).read_to_end(&mut buf)?;
        if buf.len() as u64 != n {
            self.offset += buf.len() as u64;
            return Err(self.corrupt("unexpected end of file"));
        }
        self.crc = crc64(self.crc, &buf);
        self.offset += n;
        Ok(buf)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], RdbError> {
        let mut a = [0u8; N];
        let got = read_full(&mut self.inner, &mut a)?;
        self.offset += got as u64;
        if got != N {
            return Err(self.corrupt("unexpected end of file"));
        }
        self.crc = crc64(self.crc, &a);
        Ok(a)
    }

    fn byte(&mut self) -> Result<u8, RdbError> {
        Ok(self.array::<1>()?[0])
    }

    /// A length, or a special encoding marker (`Err(kind)` in the inner result).
    fn len_or_enc(&mut self) -> Result<Result<u64, u8>, RdbError> {
        let b = self.byte()?;
        Ok(match b >> 6 {
            0 => Ok(u64::from(b & 0x3f)),
            1 => Ok((u64::from(b & 0x3f) << 8) | u64::from(self.byte()?)),
            2 => match b {
                0x80 => Ok(u64::from(u32::from_be_bytes(self.array()?))),
                0x81 => Ok(u64::from_be_bytes(self.array()?)),
                _ => return Err(self.corrupt(format!("unknown length encoding {b}"))),
            },
            _ => Err(b & 0x3f),
        })
    }

    /// A plain length.
    pub fn length(&mut self) -> Result<u64, RdbError> {
        self.len_or_enc()?
            .map_err(|_| self.corrupt("encoded value where a length was expected"))
    }

    /// A string in any of its encodings.
    pub fn string(&mut self) -> Result<Bytes, RdbError> {
        let n = match self.len_or_enc()? {
            Ok(n) => return self.bytes(n).map(Bytes::from),
            Err(kind) => kind,
        };
        let v: i64 = match n {
            0 => i64::from(i8::from_le_bytes(self.array()?)),
            1 => i64::from(i16::from_le_bytes(self.array()?)),
            2 => i64::from(i32::from_le_bytes(self.array()?)),
            3 => {
                let clen = self.length()?;
                let ulen = self.length()?;
                let data = self.bytes(clen)?;
                let ulen = usize::try_from(ulen).map_err(|_| self.corrupt("LZF length"))?;
                // A valid stream expands at most ~100x; reject absurd lengths early.
                if ulen / 128 > data.len() + 1 {
                    return Err(self.corrupt("invalid LZF compressed string"));
                }
                return lzf::decompress(&data, ulen)
                    .map(Bytes::from)
                    .ok_or_else(|| self.corrupt("invalid LZF compressed string"));
            }
            _ => return Err(self.corrupt(format!("unknown string encoding {n}"))),
        };
        Ok(Bytes::from(v.to_string()))
    }

    fn count(&mut self) -> Result<(u64, usize), RdbError> {
        let n = self.length()?;
        Ok((n, (n as usize).min(MAX_PREALLOC)))
    }

    fn binary_double(&mut self) -> Result<f64, RdbError> {
        Ok(f64::from_le_bytes(self.array()?))
    }

    /// A double as text (`RDB_TYPE_ZSET`): a length byte, or 253/254/255 for NaN,
    /// +inf and -inf.
    fn text_double(&mut self) -> Result<f64, RdbError> {
        match self.byte()? {
            253 => Ok(f64::NAN),
            254 => Ok(f64::INFINITY),
            255 => Ok(f64::NEG_INFINITY),
            n => {
                let text = self.bytes(u64::from(n))?;
                parse_f64(&text).ok_or_else(|| self.corrupt("invalid double value"))
            }
        }
    }

    fn blob<T>(
        &mut self,
        what: &str,
        parse: fn(&[u8]) -> Result<T, &'static str>,
    ) -> Result<T, RdbError> {
        let blob = self.string()?;
        parse(&blob).map_err(|e| self.corrupt(format!("{what}: {e}")))
    }

    fn pairs<T>(
        &mut self,
        items: Vec<Bytes>,
        what: &str,
        make: impl Fn(Bytes, Bytes) -> Result<T, &'static str>,
    ) -> Result<Vec<T>, RdbError> {
        if !items.len().is_multiple_of(2) {
            return Err(self.corrupt(format!("{what} with an odd number of elements")));
        }
        let mut out = Vec::with_capacity(items.len() / 2);
        let mut it = items.into_iter();
        while let (Some(a), Some(b)) = (it.next(), it.next()) {
            out.push(make(a, b).map_err(|e| self.corrupt(format!("{what}: {e}")))?);
        }
        Ok(out)
    }

    /// A value of RDB type `t` (the byte before it).
    pub fn value(&mut self, t: u8) -> Result<Value, RdbError> {
        Ok(match t {
            types::STRING => Value::String(self.string()?),
            types::LIST | types::SET => {
                let (n, cap) = self.count()?;
                let mut v = Vec::with_capacity(cap);
                for _ in 0..n {
                    v.push(self.string()?);
                }
                if t == types::LIST {
                    Value::List(v)
                } else {
                    Value::Set(v)
                }
            }
            types::ZSET | types::ZSET_2 => {
                let (n, cap) = self.count()?;
                let mut v = Vec::with_capacity(cap);
                for _ in 0..n {
                    let m = self.string()?;
                    let s = if t == types::ZSET {
                        self.text_double()?
                    } else {
                        self.binary_double()?
                    };
                    if s.is_nan() {
                        return Err(self.corrupt("zset with NAN score detected"));
                    }
                    v.push((m, s));
                }
                Value::ZSet(v)
            }
            types::HASH => {
                let (n, cap) = self.count()?;
                let mut v = Vec::with_capacity(cap);
                for _ in 0..n {
                    v.push((self.string()?, self.string()?, None));
                }
                Value::Hash(v)
            }
            types::HASH_METADATA => {
                let min = u64::from_le_bytes(self.array()?);
                let (n, cap) = self.count()?;
                let mut v: Vec<HashField> = Vec::with_capacity(cap);
                for _ in 0..n {
                    let ttl = self.length()?;
                    let at = (ttl != 0).then(|| min.saturating_add(ttl - 1));
                    v.push((self.string()?, self.string()?, at));
                }
                Value::Hash(v)
            }
            types::HASH_LISTPACK_EX => {
                self.array::<8>()?; // smallest expiry, recomputed on load
                let items = self.blob("hash listpack", listpack_entries)?;
                if !items.len().is_multiple_of(3) {
                    return Err(self.corrupt("hash listpack-ex with a partial triplet"));
                }
                let mut v = Vec::with_capacity(items.len() / 3);
                for c in items.chunks_exact(3) {
                    let ttl = crate::util::number::parse_u64(&c[2])
                        .ok_or_else(|| self.corrupt("hash listpack-ex: invalid TTL"))?;
                    v.push((c[0].clone(), c[1].clone(), (ttl != 0).then_some(ttl)));
                }
                Value::Hash(v)
            }
            types::HASH_ZIPMAP => {
                let pairs = self.blob("zipmap", zipmap_pairs)?;
                Value::Hash(pairs.into_iter().map(|(f, v)| (f, v, None)).collect())
            }
            types::LIST_ZIPLIST => Value::List(self.blob("ziplist", ziplist_entries)?),
            types::SET_INTSET => Value::Set(self.blob("intset", intset_members)?),
            types::SET_LISTPACK => Value::Set(self.blob("set listpack", listpack_entries)?),
            types::ZSET_ZIPLIST | types::ZSET_LISTPACK => {
                let items = if t == types::ZSET_ZIPLIST {
                    self.blob("zset ziplist", ziplist_entries)?
                } else {
                    self.blob("zset listpack", listpack_entries)?
                };
                Value::ZSet(self.pairs(items, "sorted set", |m, s| {
                    parse_f64(&s)
                        .filter(|s| !s.is_nan())
                        .map(|s| (m, s))
                        .ok_or("invalid score")
                })?)
            }
            types::HASH_ZIPLIST | types::HASH_LISTPACK => {
                let items = if t == types::HASH_ZIPLIST {
                    self.blob("hash ziplist", ziplist_entries)?
                } else {
                    self.blob("hash listpack", listpack_entries)?
                };
                Value::Hash(self.pairs(items, "hash", |f, v| Ok((f, v, None)))?)
            }
            types::LIST_QUICKLIST | types::LIST_QUICKLIST_2 => {
                let (n, _) = self.count()?;
                let mut v = Vec::new();
                for _ in 0..n {
                    if t == types::LIST_QUICKLIST {
                        v.extend(self.blob("quicklist node", ziplist_entries)?);
                        continue;
                    }
                    match self.length()? {
                        1 => v.push(self.string()?),
                        2 => v.extend(self.blob("quicklist node", listpack_entries)?),
                        c => return Err(self.corrupt(format!("unknown quicklist container {c}"))),
                    }
                }
                Value::List(v)
            }
            types::STREAM_LISTPACKS | types::STREAM_LISTPACKS_2 | types::STREAM_LISTPACKS_3 => {
                return Err(self.corrupt(format!(
                    "stream values (RDB type {t}) are not supported by this ferrokv"
                )))
            }
            types::MODULE_PRE_GA | types::MODULE_2 => {
                return Err(self.corrupt("module values are not supported"))
            }
            _ => return Err(self.corrupt(format!("unknown RDB value type {t}"))),
        })
    }

    /// Skips a module's value (opcode-prefixed fields until the EOF opcode).
    fn skip_module_value(&mut self) -> Result<(), RdbError> {
        loop {
            match self.length()? {
                MODULE_EOF => return Ok(()),
                MODULE_SINT | MODULE_UINT => {
                    self.length()?;
                }
                MODULE_FLOAT => {
                    self.array::<4>()?;
                }
                MODULE_DOUBLE => {
                    self.array::<8>()?;
                }
                MODULE_STRING => {
                    self.string()?;
                }
                op => return Err(self.corrupt(format!("unknown module opcode {op}"))),
            }
        }
    }

    /// The next record; after [`Item::Eof`], always `Eof` again.
    pub fn next_item(&mut self) -> Result<Item, RdbError> {
        if self.done {
            return Ok(Item::Eof(Checksum::Absent));
        }
        let (mut expire_at, mut idle_secs, mut freq) = (None, None, None);
        loop {
            let t = self.byte()?;
            match t {
                opcode::EXPIRETIME_MS => expire_at = Some(u64::from_le_bytes(self.array()?)),
                opcode::EXPIRETIME => {
                    let secs = u32::from_le_bytes(self.array()?);
                    expire_at = Some(u64::from(secs) * 1000);
                }
                opcode::IDLE => idle_secs = Some(self.length()?),
                opcode::FREQ => freq = Some(self.byte()?),
                opcode::SELECTDB => {
                    let db = self.length()?;
                    self.db = usize::try_from(db).map_err(|_| self.corrupt("bad db"))?;
                    return Ok(Item::SelectDb(self.db));
                }
                opcode::RESIZEDB => {
                    let keys = self.length()?;
                    let expires = self.length()?;
                    return Ok(Item::ResizeDb { keys, expires });
                }
                opcode::AUX => {
                    let key = self.string()?;
                    let value = self.string()?;
                    return Ok(Item::Aux { key, value });
                }
                opcode::MODULE_AUX => {
                    self.length()?; // module id
                    let when_opcode = self.length()?;
                    if when_opcode != MODULE_UINT {
                        return Err(self.corrupt("bad when opcode in module aux"));
                    }
                    self.length()?;
                    self.skip_module_value()?;
                    return Ok(Item::ModuleAux);
                }
                opcode::FUNCTION2 => return Ok(Item::Function(self.string()?)),
                opcode::FUNCTION_PRE_GA => {
                    return Err(self.corrupt("pre-release function format not supported"))
                }
                opcode::SLOT_INFO => {
                    for _ in 0..3 {
                        self.length()?;
                    }
                }
                opcode::EOF => return self.eof(),
                t => {
                    let key = self.string()?;
                    let value = self.value(t)?;
                    return Ok(Item::Key(KeyEntry {
                        db: self.db,
                        key,
                        value,
                        expire_at,
                        idle_secs,
                        freq,
                    }));
                }
            }
        }
    }

    fn eof(&mut self) -> Result<Item, RdbError> {
        self.done = true;
        if self.version < 5 {
            return Ok(Item::Eof(Checksum::Absent));
        }
        let computed = self.crc;
        let stored = u64::from_le_bytes(self.array()?);
        Ok(Item::Eof(if stored == 0 {
            Checksum::Disabled
        } else if stored == computed {
            Checksum::Ok
        } else {
            Checksum::Mismatch { stored, computed }
        }))
    }
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// Checks a DUMP payload's footer (RDB version and CRC64) as Redis'
/// `verifyDumpPayload`; returns the value bytes (type byte first).
pub fn verify_payload(payload: &[u8]) -> Option<&[u8]> {
    if payload.len() < 10 {
        return None;
    }
    let (body, footer) = payload.split_at(payload.len() - 10);
    let version = u16::from_le_bytes([footer[0], footer[1]]);
    if version > RDB_MAX_LOAD_VERSION {
        return None;
    }
    let stored = u64::from_le_bytes(footer[2..10].try_into().ok()?);
    (crc64(0, &payload[..payload.len() - 8]) == stored).then_some(body)
}

/// Decodes a verified payload body into a value.
pub fn payload_value(body: &[u8]) -> Result<Value, RdbError> {
    let mut r = RdbReader::value_reader(body);
    let t = r.byte()?;
    r.value(t)
}
