//! Byte layout of keys and records. Everything here is on disk: changing an encoding
//! (or the hash) makes existing data unreadable, so bump [`LAYOUT_VERSION`] or
//! [`META_FORMAT`] and migrate instead. `docs/storage-disk.md` describes the layout.

use bytes::Bytes;
use ferrokv_core::storage::{KeyType, UnixMillis};

use crate::store::StoreError;

/// Version of the whole layout (key formats, hash, keyspaces), kept in the
/// [`SYS_LAYOUT`] record; opening a store written with another version fails.
pub const LAYOUT_VERSION: u8 = 1;

/// First byte of every metadata value.
pub const META_FORMAT: u8 = 1;

/// System record holding [`LAYOUT_VERSION`].
pub const SYS_LAYOUT: &[u8] = b"layout";

/// System record holding the logical-to-physical database table.
pub const SYS_DBMAP: &[u8] = b"dbmap";

/// Flag: the string payload is an lz4 block (prefixed by its decoded length).
pub const FLAG_LZ4: u8 = 0x01;

/// Flag: the string was edited in place (`APPEND`, `SETRANGE`, ...), which Redis
/// reports as encoding `raw` whatever its length.
pub const FLAG_RAW: u8 = 0x02;

/// Strings longer than this are tried with lz4; shorter ones never gain enough.
pub const COMPRESS_THRESHOLD: usize = 64;

/// Bytes before a metadata value's type-specific part: format, type, flags, expiry.
pub const META_HEADER: usize = 11;

/// Bytes of a key prefix naming a physical database.
pub const DB_PREFIX: usize = 2;

/// Physical database id as stored in key prefixes.
pub type PhysDb = u16;

/// The 64-bit hash ordering the metadata keyspace and choosing lock stripes.
///
/// XXH3-64 with seed 0, clamped to at least 1 so that no key sits at `SCAN` cursor
/// 0's hash. Fixed forever: the metadata keyspace is sorted by it.
pub fn key_hash(key: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(key).max(1)
}

/// The two-byte prefix of every record of a physical database.
pub fn db_prefix(db: PhysDb) -> [u8; DB_PREFIX] {
    db.to_be_bytes()
}

/// Bounds `[start, end)` covering every record of a physical database in the
/// metadata, sub-key and expiry keyspaces.
pub fn db_range(db: PhysDb) -> (Vec<u8>, Vec<u8>) {
    let start = db_prefix(db).to_vec();
    // Physical ids stay below u16::MAX (checked at open), so `db + 1` fits.
    let end = (u32::from(db) + 1).to_be_bytes()[2..].to_vec();
    (start, end)
}

/// Metadata key: `db (u16 BE) | hash (u64 BE) | user key`.
pub fn meta_key(db: PhysDb, hash: u64, key: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(DB_PREFIX + 8 + key.len());
    out.extend_from_slice(&db.to_be_bytes());
    out.extend_from_slice(&hash.to_be_bytes());
    out.extend_from_slice(key);
    out
}

/// Position in a database's metadata keyspace where hash `hash` starts.
pub fn meta_seek(db: PhysDb, hash: u64) -> Vec<u8> {
    meta_key(db, hash, b"")
}

/// Splits a metadata key into database, hash and user key.
pub fn decode_meta_key(raw: &[u8]) -> Option<(PhysDb, u64, &[u8])> {
    if raw.len() < DB_PREFIX + 8 {
        return None;
    }
    let db = u16::from_be_bytes([raw[0], raw[1]]);
    let hash = u64::from_be_bytes(raw[2..10].try_into().ok()?);
    Some((db, hash, &raw[10..]))
}

/// Expiry index key: `db (u16 BE) | expire_at ms (u64 BE) | user key`. Ordered by
/// database then time, so a flush is one range delete and the active cycle reads
/// each database's due keys from its start.
pub fn expiry_key(db: PhysDb, at: UnixMillis, key: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(DB_PREFIX + 8 + key.len());
    out.extend_from_slice(&db.to_be_bytes());
    out.extend_from_slice(&at.to_be_bytes());
    out.extend_from_slice(key);
    out
}

/// Splits an expiry index key into database, expiry time and user key.
pub fn decode_expiry_key(raw: &[u8]) -> Option<(PhysDb, UnixMillis, &[u8])> {
    decode_meta_key(raw)
}

/// Stable one-byte code of a type.
pub fn type_code(t: KeyType) -> u8 {
    match t {
        KeyType::String => 0,
        KeyType::List => 1,
        KeyType::Hash => 2,
        KeyType::Set => 3,
        KeyType::ZSet => 4,
        KeyType::Stream => 5,
    }
}

/// Inverse of [`type_code`].
pub fn type_from_code(code: u8) -> Option<KeyType> {
    Some(match code {
        0 => KeyType::String,
        1 => KeyType::List,
        2 => KeyType::Hash,
        3 => KeyType::Set,
        4 => KeyType::ZSet,
        5 => KeyType::Stream,
        _ => return None,
    })
}

/// Expiry of an encoded metadata value without decoding the rest: what the
/// compaction filter needs. `None` for a persistent key or an unknown format.
pub fn raw_expire_at(value: &[u8]) -> Option<UnixMillis> {
    if value.len() < META_HEADER || value[0] != META_FORMAT {
        return None;
    }
    let at = u64::from_be_bytes(value[3..11].try_into().ok()?);
    (at != 0).then_some(at)
}

fn corrupt(what: &str) -> StoreError {
    StoreError(format!("corrupt metadata record: {what}"))
}

/// A decoded metadata record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaRecord {
    /// The value's type.
    pub key_type: KeyType,
    /// `FLAG_*` bits.
    pub flags: u8,
    /// Absolute expiry in ms; 0 when the key is persistent.
    pub expire_at: UnixMillis,
    /// Collections: generation of the key's sub-keys (bumping it drops them all).
    /// Always 0 for strings, which have no sub-keys.
    pub version: u64,
    /// Strings: decoded byte length. Collections: element count.
    pub len: u64,
    /// Strings: the stored bytes (an lz4 block when [`FLAG_LZ4`] is set). Empty for
    /// collections.
    pub payload: Bytes,
}

impl MetaRecord {
    /// A string record, compressing `value` when that saves space.
    pub fn string(value: &[u8], expire_at: UnixMillis, flags: u8) -> MetaRecord {
        let flags = flags & !FLAG_LZ4;
        if value.len() > COMPRESS_THRESHOLD {
            let packed = lz4_flex::block::compress(value);
            // Worth a decode on every read only if it saves at least an eighth.
            if packed.len() + 8 <= value.len() - value.len() / 8 {
                return MetaRecord {
                    key_type: KeyType::String,
                    flags: flags | FLAG_LZ4,
                    expire_at,
                    version: 0,
                    len: value.len() as u64,
                    payload: Bytes::from(packed),
                };
            }
        }
        MetaRecord {
            key_type: KeyType::String,
            flags,
            expire_at,
            version: 0,
            len: value.len() as u64,
            payload: Bytes::copy_from_slice(value),
        }
    }

    /// The expiry as the trait reports it.
    pub fn expiry(&self) -> Option<UnixMillis> {
        (self.expire_at != 0).then_some(self.expire_at)
    }

    /// Whether the key is logically gone at `now`.
    pub fn is_expired(&self, now: UnixMillis) -> bool {
        self.expire_at != 0 && self.expire_at <= now
    }

    /// The string value, decompressed if needed.
    pub fn string_value(&self) -> Result<Bytes, StoreError> {
        if self.flags & FLAG_LZ4 == 0 {
            return Ok(self.payload.clone());
        }
        let len = usize::try_from(self.len).map_err(|_| corrupt("length"))?;
        let out = lz4_flex::block::decompress(&self.payload, len)
            .map_err(|e| corrupt(&format!("lz4: {e}")))?;
        if out.len() != len {
            return Err(corrupt("lz4 length mismatch"));
        }
        Ok(Bytes::from(out))
    }

    /// Serialises the record.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(META_HEADER + 16 + self.payload.len());
        out.push(META_FORMAT);
        out.push(type_code(self.key_type));
        out.push(self.flags);
        out.extend_from_slice(&self.expire_at.to_be_bytes());
        if self.key_type == KeyType::String {
            if self.flags & FLAG_LZ4 != 0 {
                out.extend_from_slice(&self.len.to_be_bytes());
            }
            out.extend_from_slice(&self.payload);
        } else {
            out.extend_from_slice(&self.version.to_be_bytes());
            out.extend_from_slice(&self.len.to_be_bytes());
        }
        out
    }

    /// Parses a record; the payload shares `raw`'s buffer.
    pub fn decode(raw: Bytes) -> Result<MetaRecord, StoreError> {
        if raw.len() < META_HEADER {
            return Err(corrupt("too short"));
        }
        if raw[0] != META_FORMAT {
            return Err(StoreError(format!(
                "unsupported metadata format {} (this build reads {META_FORMAT})",
                raw[0]
            )));
        }
        let key_type = type_from_code(raw[1]).ok_or_else(|| corrupt("type"))?;
        let flags = raw[2];
        let expire_at = read_u64(&raw, 3)?;
        if key_type == KeyType::String {
            if flags & FLAG_LZ4 != 0 {
                let len = read_u64(&raw, META_HEADER)?;
                Ok(MetaRecord {
                    key_type,
                    flags,
                    expire_at,
                    version: 0,
                    len,
                    payload: raw.slice(META_HEADER + 8..),
                })
            } else {
                Ok(MetaRecord {
                    key_type,
                    flags,
                    expire_at,
                    version: 0,
                    len: (raw.len() - META_HEADER) as u64,
                    payload: raw.slice(META_HEADER..),
                })
            }
        } else {
            Ok(MetaRecord {
                key_type,
                flags,
                expire_at,
                version: read_u64(&raw, META_HEADER)?,
                len: read_u64(&raw, META_HEADER + 8)?,
                payload: Bytes::new(),
            })
        }
    }
}

fn read_u64(raw: &[u8], at: usize) -> Result<u64, StoreError> {
    raw.get(at..at + 8)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_be_bytes)
        .ok_or_else(|| corrupt("truncated"))
}

/// Encodes the logical-to-physical database table.
pub fn encode_dbmap(map: &[PhysDb]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + 2 * map.len());
    out.push(1);
    for db in map {
        out.extend_from_slice(&db.to_be_bytes());
    }
    out
}

/// Decodes the logical-to-physical database table, checking it is a permutation.
pub fn decode_dbmap(raw: &[u8]) -> Result<Vec<PhysDb>, StoreError> {
    let bad = || StoreError("corrupt database table".into());
    let (&format, rest) = raw.split_first().ok_or_else(bad)?;
    if format != 1 || rest.len() % 2 != 0 {
        return Err(bad());
    }
    let map: Vec<PhysDb> = rest
        .chunks_exact(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect();
    let mut seen = vec![false; map.len()];
    for &db in &map {
        let slot = seen.get_mut(usize::from(db)).ok_or_else(bad)?;
        if std::mem::replace(slot, true) {
            return Err(bad());
        }
    }
    Ok(map)
}

/// Whether `s` is what Redis stores with the `int` encoding: a canonical decimal
/// `i64` (no sign but `-`, no leading zeros, no `-0`) of at most 20 bytes.
pub fn is_redis_int(s: &[u8]) -> bool {
    s.len() <= 20 && ferrokv_core::util::number::parse_i64(s).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_pinned() {
        // Known XXH3-64 (seed 0) outputs: if these change, every store is unreadable.
        assert_eq!(xxhash_rust::xxh3::xxh3_64(b""), 0x2D06_8005_38D3_94C2);
        assert_eq!(key_hash(b""), 0x2D06_8005_38D3_94C2);
        assert_eq!(key_hash(b"foo"), xxhash_rust::xxh3::xxh3_64(b"foo"));
        assert!(key_hash(b"anything") >= 1);
    }

    #[test]
    fn meta_key_round_trip_and_order() {
        let k = meta_key(3, 0x0102_0304_0506_0708, b"user:1");
        assert_eq!(&k[..2], &[0, 3]);
        assert_eq!(
            decode_meta_key(&k),
            Some((3, 0x0102_0304_0506_0708, &b"user:1"[..]))
        );
        assert_eq!(decode_meta_key(b"short"), None);
        // Order: database first, then hash (numerically), then key bytes.
        let mut keys = [
            meta_key(1, 5, b"a"),
            meta_key(0, u64::MAX, b"z"),
            meta_key(0, 256, b"b"),
            meta_key(0, 255, b"zz"),
            meta_key(0, 256, b"a"),
        ];
        keys.sort();
        let decoded: Vec<_> = keys.iter().map(|k| decode_meta_key(k).unwrap()).collect();
        assert_eq!(
            decoded,
            vec![
                (0, 255, &b"zz"[..]),
                (0, 256, &b"a"[..]),
                (0, 256, &b"b"[..]),
                (0, u64::MAX, &b"z"[..]),
                (1, 5, &b"a"[..]),
            ]
        );
        let (start, end) = db_range(0);
        assert!(keys.iter().filter(|k| **k >= start && **k < end).count() == 4);
        assert!(meta_seek(0, 256) <= meta_key(0, 256, b""));
        assert!(meta_seek(0, 257) > meta_key(0, 256, b"\xff\xff"));
        assert_eq!(db_range(0x00ff), (vec![0x00, 0xff], vec![0x01, 0x00]));
    }

    #[test]
    fn expiry_key_order_is_time_order() {
        let a = expiry_key(2, 1_000, b"zzz");
        let b = expiry_key(2, 1_001, b"a");
        let c = expiry_key(2, 70_000_000_000, b"a");
        assert!(a < b && b < c);
        assert!(expiry_key(1, u64::MAX, b"x") < a);
        assert_eq!(decode_expiry_key(&b), Some((2, 1_001, &b"a"[..])));
    }

    #[test]
    fn string_record_round_trip() {
        for (value, at) in [
            (b"".to_vec(), 0u64),
            (b"hello".to_vec(), 1_700_000_000_000),
            (vec![b'x'; 1000], 0),
            ((0..200u8).collect::<Vec<u8>>(), 5),
        ] {
            let rec = MetaRecord::string(&value, at, 0);
            let enc = rec.encode();
            assert_eq!(raw_expire_at(&enc), (at != 0).then_some(at));
            let dec = MetaRecord::decode(Bytes::from(enc)).unwrap();
            assert_eq!(dec, rec);
            assert_eq!(dec.len as usize, value.len());
            assert_eq!(dec.string_value().unwrap(), value);
            assert_eq!(dec.expiry(), (at != 0).then_some(at));
        }
        // Repetitive data is compressed, incompressible data is not.
        let big = MetaRecord::string(&vec![b'a'; 4096], 0, FLAG_RAW);
        assert_eq!(big.flags, FLAG_LZ4 | FLAG_RAW);
        assert!(big.payload.len() < 100);
        let noise: Vec<u8> = (0..100u32).map(|i| (i * 7919 % 251) as u8).collect();
        assert_eq!(MetaRecord::string(&noise, 0, 0).flags & FLAG_LZ4, 0);
    }

    #[test]
    fn collection_record_round_trip() {
        let rec = MetaRecord {
            key_type: KeyType::ZSet,
            flags: 0,
            expire_at: 42,
            version: 7,
            len: 3,
            payload: Bytes::new(),
        };
        let dec = MetaRecord::decode(Bytes::from(rec.encode())).unwrap();
        assert_eq!(dec, rec);
        assert!(dec.is_expired(42) && !dec.is_expired(41));
    }

    #[test]
    fn corrupt_records_are_errors() {
        assert!(MetaRecord::decode(Bytes::from_static(b"\x01\x00")).is_err());
        assert!(MetaRecord::decode(Bytes::from(vec![9u8; 20])).is_err());
        let mut bad_type = MetaRecord::string(b"x", 0, 0).encode();
        bad_type[1] = 77;
        assert!(MetaRecord::decode(Bytes::from(bad_type)).is_err());
        let mut bad_lz4 = MetaRecord::string(&[b'q'; 500], 0, 0).encode();
        let n = bad_lz4.len();
        bad_lz4.truncate(n - 3);
        let rec = MetaRecord::decode(Bytes::from(bad_lz4)).unwrap();
        assert!(rec.string_value().is_err());
        assert_eq!(raw_expire_at(b"\x02xxxxxxxxxxxx"), None);
    }

    #[test]
    fn dbmap_round_trip() {
        let map = vec![1, 0, 2, 3];
        assert_eq!(decode_dbmap(&encode_dbmap(&map)).unwrap(), map);
        assert!(decode_dbmap(&encode_dbmap(&[0, 0])).is_err());
        assert!(decode_dbmap(&encode_dbmap(&[0, 5])).is_err());
        assert!(decode_dbmap(b"").is_err());
    }

    #[test]
    fn redis_int_detection() {
        for yes in [
            &b"0"[..],
            b"-1",
            b"12345",
            b"9223372036854775807",
            b"-9223372036854775808",
        ] {
            assert!(is_redis_int(yes), "{yes:?}");
        }
        for no in [
            &b""[..],
            b"-",
            b"-0",
            b"01",
            b"+1",
            b" 1",
            b"1.5",
            b"9223372036854775808",
            b"abc",
        ] {
            assert!(!is_redis_int(no), "{no:?}");
        }
    }
}
