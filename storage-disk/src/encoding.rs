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

/// System record holding the collection version high-water mark (u64 BE): every
/// version below it may have been handed out, so after a restart allocation resumes
/// there and a new incarnation of a key never meets sub-keys of an old one.
pub const SYS_VERSION: &[u8] = b"version";

/// Flag of a collection: it grew past what Redis keeps in a compact encoding
/// (listpack, intset), so `OBJECT ENCODING` reports the big one from then on (the
/// conversion is one-way in Redis too).
pub const FLAG_BIG: u8 = 0x04;

/// Sequence number of the first element of a new list (head and tail start in the
/// middle of the u64 range, so pushes at either end never run out).
pub const LIST_START: u64 = 1 << 63;

/// Second byte of a hash field expiry entry in the expiry keyspace (after the
/// database). Key expiry entries have the first byte of a time there, which stays
/// below 0x80 for any time an `i64` of milliseconds can express.
pub const FIELD_EXPIRY_TAG: u8 = 0xFF;

/// Tag after the version of a sorted set's member record (`hash | member -> score`).
pub const ZSET_MEMBER: u8 = 0;

/// Tag after the version of a sorted set's score index record (`score | member`).
pub const ZSET_SCORE: u8 = 1;

/// Flag: the string payload is an lz4 block (prefixed by its decoded length).
pub const FLAG_LZ4: u8 = 0x01;

/// Flag: the string was edited in place (`APPEND`, `SETRANGE`, ...), which Redis
/// reports as encoding `raw` whatever its length.
pub const FLAG_RAW: u8 = 0x02;

/// Longest score index mark a sorted set's metadata keeps (see
/// [`MetaRecord::low`]); longer positions are cut to a bound that is still valid.
pub const MARK_MAX: usize = 64;

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
    /// Collections: approximate bytes of the incarnation's sub-key records (keys and
    /// values), kept up to date by every operation, so that the bytes a deleted
    /// collection leaves for compaction can be discounted at once. 0 for strings.
    pub bytes: u64,
    /// Lists: sequence number of the first element (elements occupy
    /// `head..tail`, contiguous). 0 for other types.
    pub head: u64,
    /// Lists: one past the sequence number of the last element. 0 for other types.
    pub tail: u64,
    /// Sets and hashes: elements removed from this incarnation by point deletes,
    /// each of which leaves a tombstone in the store until compaction. Random
    /// picks walk exactly only while tombstones are few. 0 for other types.
    pub removed: u64,
    /// Sorted sets: low-water mark of the score index, a suffix (tag included,
    /// at most [`MARK_MAX`] bytes) below which every index record is known to be
    /// deleted; empty when unknown. Walks from the lowest score start there, so
    /// repeated `ZPOPMIN` never walks the tombstones of earlier pops.
    pub low: Bytes,
    /// Sorted sets: high-water mark of the score index: every index record at or
    /// above it is known to be deleted; empty when unknown.
    pub high: Bytes,
    /// Strings: the stored bytes (an lz4 block when [`FLAG_LZ4`] is set). Empty for
    /// collections.
    pub payload: Bytes,
}

impl MetaRecord {
    /// An empty collection of type `key_type` with sub-key generation `version`.
    pub fn collection(key_type: KeyType, version: u64) -> MetaRecord {
        let (head, tail) = if key_type == KeyType::List {
            (LIST_START, LIST_START)
        } else {
            (0, 0)
        };
        MetaRecord {
            key_type,
            flags: 0,
            expire_at: 0,
            version,
            len: 0,
            bytes: 0,
            head,
            tail,
            removed: 0,
            low: Bytes::new(),
            high: Bytes::new(),
            payload: Bytes::new(),
        }
    }

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
                    bytes: 0,
                    head: 0,
                    tail: 0,
                    removed: 0,
                    low: Bytes::new(),
                    high: Bytes::new(),
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
            bytes: 0,
            head: 0,
            tail: 0,
            removed: 0,
            low: Bytes::new(),
            high: Bytes::new(),
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
        let mut out = Vec::with_capacity(META_HEADER + 40 + self.payload.len());
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
            out.extend_from_slice(&self.bytes.to_be_bytes());
            match self.key_type {
                KeyType::List => {
                    out.extend_from_slice(&self.head.to_be_bytes());
                    out.extend_from_slice(&self.tail.to_be_bytes());
                }
                KeyType::Set | KeyType::Hash => {
                    out.extend_from_slice(&self.removed.to_be_bytes());
                }
                KeyType::ZSet => {
                    for mark in [&self.low, &self.high] {
                        // Marks are made short enough; a longer one (never) is
                        // dropped, which is always valid: "unknown".
                        let mark = if mark.len() <= MARK_MAX {
                            &mark[..]
                        } else {
                            &[]
                        };
                        out.push(mark.len() as u8);
                        out.extend_from_slice(mark);
                    }
                }
                // Streams: their counters (see `streams.rs`), opaque here.
                KeyType::Stream => out.extend_from_slice(&self.payload),
                KeyType::String => {}
            }
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
                    bytes: 0,
                    head: 0,
                    tail: 0,
                    removed: 0,
                    low: Bytes::new(),
                    high: Bytes::new(),
                    payload: raw.slice(META_HEADER + 8..),
                })
            } else {
                Ok(MetaRecord {
                    key_type,
                    flags,
                    expire_at,
                    version: 0,
                    len: (raw.len() - META_HEADER) as u64,
                    bytes: 0,
                    head: 0,
                    tail: 0,
                    removed: 0,
                    low: Bytes::new(),
                    high: Bytes::new(),
                    payload: raw.slice(META_HEADER..),
                })
            }
        } else {
            let rest = META_HEADER + 24;
            let (mut head, mut tail, mut removed) = (0, 0, 0);
            let mut payload = Bytes::new();
            let (mut low, mut high) = (Bytes::new(), Bytes::new());
            match key_type {
                KeyType::List => {
                    head = read_u64(&raw, rest)?;
                    tail = read_u64(&raw, rest + 8)?;
                }
                // Records written before these fields existed end at `rest`.
                KeyType::Set | KeyType::Hash if raw.len() > rest => removed = read_u64(&raw, rest)?,
                KeyType::ZSet if raw.len() > rest => {
                    let mut at = rest;
                    for mark in [&mut low, &mut high] {
                        let len = usize::from(*raw.get(at).ok_or_else(|| corrupt("truncated"))?);
                        if len > MARK_MAX || raw.len() < at + 1 + len {
                            return Err(corrupt("index mark"));
                        }
                        *mark = raw.slice(at + 1..at + 1 + len);
                        at += 1 + len;
                    }
                }
                KeyType::Stream => payload = raw.slice(rest.min(raw.len())..),
                _ => {}
            }
            let len = read_u64(&raw, META_HEADER + 8)?;
            if key_type == KeyType::List && tail.checked_sub(head) != Some(len) {
                return Err(corrupt("list bounds"));
            }
            Ok(MetaRecord {
                key_type,
                flags,
                expire_at,
                version: read_u64(&raw, META_HEADER)?,
                len,
                bytes: read_u64(&raw, META_HEADER + 16)?,
                head,
                tail,
                removed,
                low,
                high,
                payload,
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

/// Bytes a sub-key prefix adds to the user key: database, key hash, key length,
/// version.
pub const SUBKEY_OVERHEAD: usize = DB_PREFIX + 8 + 4 + 8;

/// Prefix of every sub-key of one incarnation of a collection:
/// `db (u16) | hash (u64) | key length (u32) | user key | version (u64)`, all
/// big-endian. The length makes one key's prefix never a prefix of another key's.
pub fn subkey_prefix(db: PhysDb, key: &[u8], version: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(SUBKEY_OVERHEAD + key.len() + 16);
    out.extend_from_slice(&db.to_be_bytes());
    out.extend_from_slice(&key_hash(key).to_be_bytes());
    out.extend_from_slice(&(key.len() as u32).to_be_bytes());
    out.extend_from_slice(key);
    out.extend_from_slice(&version.to_be_bytes());
    out
}

/// The smallest byte string greater than every string starting with `prefix`, or
/// `None` if there is none (`prefix` is all `0xFF`).
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut out = prefix.to_vec();
    while let Some(last) = out.pop() {
        if last != 0xFF {
            out.push(last + 1);
            return Some(out);
        }
    }
    None
}

/// A parsed sub-key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubKeyRef<'a> {
    /// Physical database.
    pub db: PhysDb,
    /// Hash of the user key (as in its metadata key).
    pub hash: u64,
    /// The user key.
    pub key: &'a [u8],
    /// Generation of the collection the record belongs to.
    pub version: u64,
    /// Length of the prefix (everything up to and including the version).
    pub prefix_len: usize,
}

/// Splits a sub-key into its prefix fields; `None` if it is too short.
pub fn decode_subkey(raw: &[u8]) -> Option<SubKeyRef<'_>> {
    let fixed = DB_PREFIX + 8 + 4;
    if raw.len() < fixed {
        return None;
    }
    let db = u16::from_be_bytes([raw[0], raw[1]]);
    let hash = u64::from_be_bytes(raw[2..10].try_into().ok()?);
    let key_len = u32::from_be_bytes(raw[10..14].try_into().ok()?) as usize;
    let key = raw.get(fixed..fixed.checked_add(key_len)?)?;
    let at = fixed + key_len;
    let version = u64::from_be_bytes(raw.get(at..at + 8)?.try_into().ok()?);
    Some(SubKeyRef {
        db,
        hash,
        key,
        version,
        prefix_len: at + 8,
    })
}

/// Position of a hash field or set member in its collection: sub-keys of hashes
/// and sets are `prefix | elem_hash (u32 BE) | element`, so iteration goes in hash
/// order and an `HSCAN`/`SSCAN` cursor is simply the next hash to visit (as `SCAN`
/// over keys). Fixed forever: the records are sorted by it.
pub fn elem_hash(element: &[u8]) -> u32 {
    (xxhash_rust::xxh3::xxh3_64(element) >> 32) as u32
}

/// The suffix (after the prefix) of a hash field's or set member's sub-key.
pub fn hashed_suffix(element: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + element.len());
    out.extend_from_slice(&elem_hash(element).to_be_bytes());
    out.extend_from_slice(element);
    out
}

/// Splits a hashed suffix into hash and element.
pub fn decode_hashed_suffix(suffix: &[u8]) -> Option<(u32, &[u8])> {
    let hash = u32::from_be_bytes(suffix.get(..4)?.try_into().ok()?);
    Some((hash, &suffix[4..]))
}

/// Maps a score to a u64 whose unsigned (big-endian byte) order is the numeric
/// order of scores: -inf < negatives < -0.0 = 0.0 < positives < +inf. Negative
/// numbers have every bit flipped, others only the sign bit. -0.0 is stored as
/// 0.0 (Redis compares them as equal); the index record remembers the sign (see
/// [`ZSCORE_NEG_ZERO`]). Never given NaN (commands reject it).
pub fn score_to_bits(score: f64) -> u64 {
    let score = if score == 0.0 { 0.0 } else { score };
    let bits = score.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

/// Inverse of [`score_to_bits`] (0.0 for either zero).
pub fn score_from_bits(bits: u64) -> f64 {
    let raw = if bits >> 63 == 1 {
        bits & !(1 << 63)
    } else {
        !bits
    };
    f64::from_bits(raw)
}

/// Value of a score index record whose score is -0.0 (empty otherwise).
pub const ZSCORE_NEG_ZERO: &[u8] = &[1];

/// Suffix of a sorted set member record: `ZSET_MEMBER | elem_hash (u32) | member`,
/// in hash order like hash fields and set members, so `ZSCAN` cursors are hash
/// positions. (Lexicographic ranges use the score index, which is in member order
/// within one score.)
pub fn zmember_suffix(member: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(5 + member.len());
    out.push(ZSET_MEMBER);
    out.extend_from_slice(&hashed_suffix(member));
    out
}

/// Suffix of a sorted set score index record: `ZSET_SCORE | score bits | member`.
pub fn zscore_suffix(score: f64, member: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(9 + member.len());
    out.push(ZSET_SCORE);
    out.extend_from_slice(&score_to_bits(score).to_be_bytes());
    out.extend_from_slice(member);
    out
}

/// Value of a score index record for `score`.
pub fn zscore_value(score: f64) -> &'static [u8] {
    if score == 0.0 && score.is_sign_negative() {
        ZSCORE_NEG_ZERO
    } else {
        &[]
    }
}

/// Score and member of a score index record, from its suffix and value.
pub fn decode_zscore<'a>(suffix: &'a [u8], value: &[u8]) -> Option<(f64, &'a [u8])> {
    if suffix.first() != Some(&ZSET_SCORE) {
        return None;
    }
    let bits = u64::from_be_bytes(suffix.get(1..9)?.try_into().ok()?);
    let score = if value == ZSCORE_NEG_ZERO {
        -0.0
    } else {
        score_from_bits(bits)
    };
    Some((score, &suffix[9..]))
}

/// Value of a member record: the exact score's IEEE bits, big-endian.
pub fn zmember_value(score: f64) -> [u8; 8] {
    score.to_bits().to_be_bytes()
}

/// Score of a member record's value.
pub fn decode_zmember_value(value: &[u8]) -> Option<f64> {
    Some(f64::from_bits(u64::from_be_bytes(value.try_into().ok()?)))
}

/// Value of a hash field record: `0x00 | value`, or `0x01 | expire_at (u64) |
/// value` for a field with an expiry.
pub fn encode_field_value(value: &[u8], expire_at: Option<UnixMillis>) -> Vec<u8> {
    let mut out = Vec::with_capacity(9 + value.len());
    match expire_at {
        None => out.push(0),
        Some(at) => {
            out.push(1);
            out.extend_from_slice(&at.to_be_bytes());
        }
    }
    out.extend_from_slice(value);
    out
}

/// Expiry and value of a hash field record; `None` if malformed.
pub fn decode_field_value(raw: &[u8]) -> Option<(Option<UnixMillis>, &[u8])> {
    match raw.first()? {
        0 => Some((None, &raw[1..])),
        1 => {
            let at = u64::from_be_bytes(raw.get(1..9)?.try_into().ok()?);
            Some((Some(at), &raw[9..]))
        }
        _ => None,
    }
}

/// Expiry index entry of a hash field: `db | FIELD_EXPIRY_TAG | expire_at (u64) |
/// key length (u32) | key | version (u64) | field`, empty value. All of a database's
/// field entries sort after its key entries, in time order.
pub fn field_expiry_key(
    db: PhysDb,
    at: UnixMillis,
    key: &[u8],
    version: u64,
    field: &[u8],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(DB_PREFIX + 1 + 8 + 4 + key.len() + 8 + field.len());
    out.extend_from_slice(&db.to_be_bytes());
    out.push(FIELD_EXPIRY_TAG);
    out.extend_from_slice(&at.to_be_bytes());
    out.extend_from_slice(&(key.len() as u32).to_be_bytes());
    out.extend_from_slice(key);
    out.extend_from_slice(&version.to_be_bytes());
    out.extend_from_slice(field);
    out
}

/// Start of a database's field expiry entries due before `at` (exclusive end when
/// `at` is the first time not yet due).
pub fn field_expiry_seek(db: PhysDb, at: UnixMillis) -> Vec<u8> {
    let mut out = Vec::with_capacity(DB_PREFIX + 9);
    out.extend_from_slice(&db.to_be_bytes());
    out.push(FIELD_EXPIRY_TAG);
    out.extend_from_slice(&at.to_be_bytes());
    out
}

/// A parsed field expiry entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldExpiryRef<'a> {
    /// Physical database.
    pub db: PhysDb,
    /// When the field expires.
    pub at: UnixMillis,
    /// The hash's key.
    pub key: &'a [u8],
    /// The hash's version when the expiry was set.
    pub version: u64,
    /// The field.
    pub field: &'a [u8],
}

/// Parses a field expiry entry; `None` for anything else.
pub fn decode_field_expiry_key(raw: &[u8]) -> Option<FieldExpiryRef<'_>> {
    if raw.len() < DB_PREFIX + 1 + 8 + 4 || raw[2] != FIELD_EXPIRY_TAG {
        return None;
    }
    let db = u16::from_be_bytes([raw[0], raw[1]]);
    let at = u64::from_be_bytes(raw[3..11].try_into().ok()?);
    let key_len = u32::from_be_bytes(raw[11..15].try_into().ok()?) as usize;
    let key = raw.get(15..15usize.checked_add(key_len)?)?;
    let v = 15 + key_len;
    let version = u64::from_be_bytes(raw.get(v..v + 8)?.try_into().ok()?);
    Some(FieldExpiryRef {
        db,
        at,
        key,
        version,
        field: &raw[v + 8..],
    })
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
            flags: FLAG_BIG,
            expire_at: 42,
            version: 7,
            len: 3,
            bytes: 99,
            head: 0,
            tail: 0,
            removed: 0,
            low: Bytes::from_static(&[ZSET_SCORE, 0x80]),
            high: Bytes::new(),
            payload: Bytes::new(),
        };
        let enc = rec.encode();
        assert_eq!(enc.len(), META_HEADER + 24 + 4);
        let dec = MetaRecord::decode(Bytes::from(enc)).unwrap();
        assert_eq!(dec, rec);
        assert!(dec.is_expired(42) && !dec.is_expired(41));

        let mut list = MetaRecord::collection(KeyType::List, 9);
        assert_eq!(
            (list.head, list.tail, list.len),
            (LIST_START, LIST_START, 0)
        );
        list.head -= 2;
        list.tail += 3;
        list.len = 5;
        let enc = list.encode();
        assert_eq!(enc.len(), META_HEADER + 40);
        assert_eq!(MetaRecord::decode(Bytes::from(enc.clone())).unwrap(), list);
        // Bounds that disagree with the count are corruption.
        let mut bad = enc;
        bad[META_HEADER + 31] = 4;
        assert!(MetaRecord::decode(Bytes::from(bad)).is_err());
        let mut set = MetaRecord::collection(KeyType::Set, 3);
        assert_eq!((set.head, set.tail), (0, 0));
        set.removed = 12;
        set.len = 1;
        let enc = set.encode();
        assert_eq!(enc.len(), META_HEADER + 32);
        assert_eq!(MetaRecord::decode(Bytes::from(enc)).unwrap(), set);
        // A mark longer than the maximum is corruption, as is a truncated one.
        let mut zset = MetaRecord::collection(KeyType::ZSet, 4);
        zset.len = 1;
        zset.high = Bytes::from(vec![ZSET_SCORE; MARK_MAX]);
        let enc = zset.encode();
        assert_eq!(MetaRecord::decode(Bytes::from(enc.clone())).unwrap(), zset);
        let mut long = enc.clone();
        long[META_HEADER + 25] = MARK_MAX as u8 + 1;
        assert!(MetaRecord::decode(Bytes::from(long)).is_err());
        assert!(MetaRecord::decode(Bytes::from(enc[..enc.len() - 1].to_vec())).is_err());
    }

    #[test]
    fn subkey_layout() {
        let p = subkey_prefix(3, b"key", 0x0102);
        assert_eq!(p.len(), SUBKEY_OVERHEAD + 3);
        assert_eq!(&p[..2], &[0, 3]);
        assert_eq!(&p[2..10], &key_hash(b"key").to_be_bytes());
        assert_eq!(&p[10..14], &[0, 0, 0, 3]);
        assert_eq!(&p[14..17], b"key");
        assert_eq!(&p[17..], &0x0102u64.to_be_bytes());
        let mut full = p.clone();
        full.extend_from_slice(b"element");
        let sk = decode_subkey(&full).unwrap();
        assert_eq!(
            (sk.db, sk.hash, sk.key, sk.version, sk.prefix_len),
            (3, key_hash(b"key"), &b"key"[..], 0x0102, p.len())
        );
        assert_eq!(decode_subkey(&p[..16]), None);
        // One key's prefix never covers another key's records.
        let a = subkey_prefix(0, b"a", 1);
        let ab = subkey_prefix(0, b"ab", 1);
        let end = prefix_end(&a).unwrap();
        assert!(!(ab >= a && ab < end));
        assert_eq!(prefix_end(b"a\xff\xff").unwrap(), b"b");
        assert_eq!(prefix_end(b"\xff"), None);
        // The version increments the prefix end.
        assert_eq!(end, subkey_prefix(0, b"a", 2));
    }

    #[test]
    fn element_hash_is_pinned() {
        assert_eq!(elem_hash(b""), 0x2D06_8005);
        let s = hashed_suffix(b"field");
        assert_eq!(
            decode_hashed_suffix(&s),
            Some((elem_hash(b"field"), &b"field"[..]))
        );
        assert_eq!(decode_hashed_suffix(b"abc"), None);
    }

    #[test]
    fn field_values_and_expiry_entries() {
        for (value, at) in [(&b""[..], None), (b"v", Some(5u64)), (b"\x01\x00", None)] {
            let enc = encode_field_value(value, at);
            assert_eq!(decode_field_value(&enc), Some((at, value)));
        }
        assert_eq!(decode_field_value(b""), None);
        assert_eq!(decode_field_value(b"\x02"), None);
        assert_eq!(decode_field_value(b"\x01\x00"), None);

        let e = field_expiry_key(4, 1_000, b"hash", 77, b"f");
        let d = decode_field_expiry_key(&e).unwrap();
        assert_eq!(
            (d.db, d.at, d.key, d.version, d.field),
            (4, 1_000, &b"hash"[..], 77, &b"f"[..])
        );
        // After every key entry of the database (any i64 time), in time order,
        // before the next database.
        assert!(e > expiry_key(4, i64::MAX as u64, b"\xff\xff"));
        assert!(e < db_range(4).1);
        assert!(field_expiry_seek(4, 1_000) <= e && e < field_expiry_seek(4, 1_001));
        assert!(field_expiry_key(4, 999, b"zzz", 1, b"z") < e);
        assert_eq!(decode_field_expiry_key(&expiry_key(4, 1_000, b"k")), None);
    }

    #[test]
    fn score_encoding_examples() {
        let ordered = [
            f64::NEG_INFINITY,
            f64::MIN,
            -1.5,
            -f64::MIN_POSITIVE,
            -5e-324,
            0.0,
            5e-324,
            f64::MIN_POSITIVE,
            1.0,
            f64::MAX,
            f64::INFINITY,
        ];
        for w in ordered.windows(2) {
            assert!(score_to_bits(w[0]) < score_to_bits(w[1]), "{w:?}");
        }
        for s in ordered {
            assert_eq!(score_from_bits(score_to_bits(s)).to_bits(), s.to_bits());
        }
        // -0.0 is 0.0 in the index; the record value keeps the sign.
        assert_eq!(score_to_bits(-0.0), score_to_bits(0.0));
        let k = zscore_suffix(-0.0, b"m");
        let (s, m) = decode_zscore(&k, zscore_value(-0.0)).unwrap();
        assert!(s == 0.0 && s.is_sign_negative() && m == b"m");
        let (s, _) = decode_zscore(&zscore_suffix(0.0, b"m"), zscore_value(0.0)).unwrap();
        assert!(s == 0.0 && s.is_sign_positive());
        assert_eq!(decode_zscore(&zmember_suffix(b"m"), b""), None);
        assert_eq!(
            decode_zmember_value(&zmember_value(-0.0))
                .unwrap()
                .to_bits(),
            (-0.0f64).to_bits()
        );
        assert_eq!(decode_zmember_value(b"short"), None);
    }

    proptest::proptest! {
        #[test]
        fn score_encoding_preserves_order(a in proptest::num::f64::ANY, b in proptest::num::f64::ANY) {
            proptest::prop_assume!(!a.is_nan() && !b.is_nan());
            let (ka, kb) = (score_to_bits(a), score_to_bits(b));
            // Numeric order (with -0.0 == 0.0) is byte order of the encoding.
            proptest::prop_assert_eq!(a.partial_cmp(&b), Some(ka.cmp(&kb)));
            proptest::prop_assert_eq!(a.partial_cmp(&b), Some(ka.to_be_bytes().cmp(&kb.to_be_bytes())));
            let back = score_from_bits(ka);
            proptest::prop_assert!(back == a);
            if a != 0.0 {
                proptest::prop_assert_eq!(back.to_bits(), a.to_bits());
            }
        }

        #[test]
        fn index_keys_sort_by_score_then_member(
            a in proptest::num::f64::ANY, b in proptest::num::f64::ANY,
            ma in proptest::collection::vec(proptest::num::u8::ANY, 0..6),
            mb in proptest::collection::vec(proptest::num::u8::ANY, 0..6),
        ) {
            proptest::prop_assume!(!a.is_nan() && !b.is_nan());
            let ka = zscore_suffix(a, &ma);
            let kb = zscore_suffix(b, &mb);
            let expected = a.partial_cmp(&b).unwrap().then_with(|| ma.cmp(&mb));
            proptest::prop_assert_eq!(ka.cmp(&kb), expected);
        }
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
