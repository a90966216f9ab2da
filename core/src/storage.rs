//! The storage traits the engine runs on. `core` knows no concrete backend: the
//! in-memory and RocksDB backends, or an embedder's own store, implement these.
//!
//! A command runs inside one atomic scope ([`StorageBackend::atomic`]): the backend
//! locks what the scope names, hands the command a [`Txn`], and applies every write
//! the command made as one unit. Operations are typed and element-level so that a
//! disk backend never loads a whole collection to touch one element.

use bytes::Bytes;

/// Index of a logical database (`SELECT n`).
pub type DbIndex = usize;

/// Milliseconds since the Unix epoch; expiry times are absolute in this unit.
pub type UnixMillis = u64;

/// The Redis type of the value stored at a key, as `TYPE` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyType {
    /// Strings, including bitmaps and HyperLogLogs.
    String,
    /// Lists.
    List,
    /// Hashes.
    Hash,
    /// Sets.
    Set,
    /// Sorted sets (and geo sets).
    ZSet,
    /// Streams.
    Stream,
}

impl KeyType {
    /// The name `TYPE` and `SCAN ... TYPE` use.
    pub fn name(self) -> &'static str {
        match self {
            KeyType::String => "string",
            KeyType::List => "list",
            KeyType::Hash => "hash",
            KeyType::Set => "set",
            KeyType::ZSet => "zset",
            KeyType::Stream => "stream",
        }
    }

    /// Parses a `TYPE` name (case-insensitive), as `SCAN ... TYPE` accepts it.
    pub fn from_name(name: &[u8]) -> Option<KeyType> {
        let lower = name.to_ascii_lowercase();
        [
            KeyType::String,
            KeyType::List,
            KeyType::Hash,
            KeyType::Set,
            KeyType::ZSet,
            KeyType::Stream,
        ]
        .into_iter()
        .find(|t| t.name().as_bytes() == lower.as_slice())
    }
}

/// What a write does to the key's time to live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TtlUpdate {
    /// Remove any expiry (plain `SET`).
    Clear,
    /// Keep the current expiry (`SET ... KEEPTTL`, `APPEND`, `SETRANGE`).
    Keep,
    /// Expire at this absolute time.
    At(UnixMillis),
}

/// Metadata of a live key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyMeta {
    /// The value's type.
    pub key_type: KeyType,
    /// Absolute expiry, if the key is volatile.
    pub expire_at: Option<UnixMillis>,
}

/// Internal details `OBJECT` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectInfo {
    /// Redis' encoding name (`embstr`, `int`, `raw`, `listpack`, ...).
    pub encoding: &'static str,
    /// Milliseconds since the key was last accessed.
    pub idle_ms: u64,
    /// Logarithmic access frequency counter (LFU).
    pub freq: u8,
}

/// Error from a typed operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageError {
    /// The key holds a value of another type; replied as `WRONGTYPE`.
    WrongType,
    /// The store failed (I/O, corruption); replied as `ERR` and logged.
    Io(String),
}

/// Result of a typed operation.
pub type StorageResult<T> = Result<T, StorageError>;

/// Why [`Txn::incr_by`] left a value unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncrError {
    /// The string is not a 64-bit integer (`ERR value is not an integer or out of range`).
    NotInteger,
    /// The sum does not fit (`ERR increment or decrement would overflow`).
    Overflow,
}

/// What an atomic scope locks.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    /// Only these keys, in every database (a key is locked by name, so `MOVE` and
    /// `COPY ... DB` need no extra entries).
    Keys(&'a [Bytes]),
    /// The whole keyspace: `KEYS`, `SCAN`, `FLUSHDB`, `SWAPDB`, `DBSIZE`, ...
    All,
}

/// One page of a `SCAN`-style iteration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanPage {
    /// Cursor for the next call; 0 when the iteration is complete.
    pub next_cursor: u64,
    /// Keys found in this page (possibly more or fewer than asked).
    pub keys: Vec<Bytes>,
}

/// Counters a backend reports for `INFO keyspace` and `INFO stats`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DbStats {
    /// Keys in the database.
    pub keys: u64,
    /// Keys with an expiry.
    pub expires: u64,
}

/// Work done by one active-expiry step.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExpireStats {
    /// Volatile keys examined.
    pub sampled: u64,
    /// Keys found expired and removed.
    pub expired: u64,
}

/// Thresholds below which a backend may keep a collection in a compact encoding
/// (Redis' listpack and intset), named after Redis' configuration parameters and
/// changed at run time by `CONFIG SET`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncodingLimits {
    /// `hash-max-listpack-entries`.
    pub hash_max_listpack_entries: usize,
    /// `hash-max-listpack-value`.
    pub hash_max_listpack_value: usize,
    /// `set-max-intset-entries`.
    pub set_max_intset_entries: usize,
    /// `zset-max-listpack-entries`.
    pub zset_max_listpack_entries: usize,
    /// `zset-max-listpack-value`.
    pub zset_max_listpack_value: usize,
    /// `list-max-listpack-size`: positive = entries per node, -1..-5 = 4..64 KB per node.
    pub list_max_listpack_size: i64,
}

impl Default for EncodingLimits {
    fn default() -> Self {
        EncodingLimits {
            hash_max_listpack_entries: 512,
            hash_max_listpack_value: 64,
            set_max_intset_entries: 512,
            zset_max_listpack_entries: 128,
            zset_max_listpack_value: 64,
            list_max_listpack_size: -2,
        }
    }
}

/// One end of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The head (left, index 0).
    Head,
    /// The tail (right, index len-1).
    Tail,
}

/// Element-level access to one list. Indexes are 0-based from the head and already
/// checked by the caller against [`ListOps::len`]. A backend that fails to read
/// reports it when the enclosing `with_list` returns, so these calls are infallible.
pub trait ListOps {
    /// Number of elements.
    fn len(&mut self) -> usize;
    /// Whether there are no elements (a stored collection never is; a new one may be).
    fn is_empty(&mut self) -> bool {
        self.len() == 0
    }
    /// Adds one element at `end`.
    fn push(&mut self, end: End, value: &[u8]);
    /// Removes and returns the element at `end`.
    fn pop(&mut self, end: End) -> Option<Bytes>;
    /// The element at `index`.
    fn get(&mut self, index: usize) -> Option<Bytes>;
    /// Replaces the element at `index`; false if out of range.
    fn set(&mut self, index: usize, value: &[u8]) -> bool;
    /// Visits elements from `start` towards the tail (towards the head when `rev`),
    /// passing each index and value, until `visit` returns false or the list ends.
    fn iter(&mut self, start: usize, rev: bool, visit: &mut dyn FnMut(usize, &[u8]) -> bool);
    /// Inserts `value` so that it ends up at `index` (`index == len` appends).
    fn insert(&mut self, index: usize, value: &[u8]);
    /// Removes the elements at `indexes` (ascending, distinct).
    fn remove(&mut self, indexes: &[usize]);
    /// Keeps only the elements in `start..end` (end exclusive).
    fn trim(&mut self, start: usize, end: usize);
}

/// Receives a hash field, its value and its expiry; returns false to stop.
pub type FieldVisitor<'a> = dyn FnMut(&[u8], &[u8], Option<UnixMillis>) -> bool + 'a;

/// Element-level access to one hash. Fields past their expiry time (hash field
/// expiry, Redis 7.4) are invisible to every read and removed when met.
pub trait HashOps {
    /// Number of fields, counting expired fields not yet removed (as Redis' `HLEN`).
    fn len(&mut self) -> usize;
    /// Whether there are no elements (a stored collection never is; a new one may be).
    fn is_empty(&mut self) -> bool {
        self.len() == 0
    }
    /// A field's value.
    fn get(&mut self, field: &[u8]) -> Option<Bytes>;
    /// Sets a field and clears its expiry; true if the field is new.
    fn set(&mut self, field: &[u8], value: &[u8]) -> bool;
    /// Removes a field; true if it existed.
    fn remove(&mut self, field: &[u8]) -> bool;
    /// Visits every live field and value until `visit` returns false.
    fn for_each(&mut self, visit: &mut dyn FnMut(&[u8], &[u8]) -> bool);
    /// A pseudo-random live field chosen by `seed` (uniform enough for `HRANDFIELD`).
    fn random(&mut self, seed: u64) -> Option<(Bytes, Bytes)>;
    /// One page of an `HSCAN` iteration (same guarantee as [`Txn::scan`]); returns
    /// the next cursor, 0 when done.
    fn scan(&mut self, cursor: u64, count: usize, visit: &mut dyn FnMut(&[u8], &[u8])) -> u64;
    /// A field's expiry: `None` if the field does not exist, `Some(None)` if it has
    /// no expiry.
    fn field_expire(&mut self, field: &[u8]) -> Option<Option<UnixMillis>>;
    /// Sets or clears a field's expiry; false if the field does not exist.
    fn set_field_expire(&mut self, field: &[u8], at: Option<UnixMillis>) -> bool;
    /// Visits every live field with its value and expiry until `visit` returns false
    /// (saving a snapshot). The default copies the fields, then looks each expiry
    /// up; a backend that keeps expiry beside the field does better.
    fn for_each_expiring(&mut self, visit: &mut FieldVisitor<'_>) {
        let mut fields = Vec::new();
        self.for_each(&mut |f, v| {
            fields.push((Bytes::copy_from_slice(f), Bytes::copy_from_slice(v)));
            true
        });
        for (f, v) in fields {
            let at = self.field_expire(&f).flatten();
            if !visit(&f, &v, at) {
                break;
            }
        }
    }
}

/// Element-level access to one set.
pub trait SetOps {
    /// Number of members.
    fn len(&mut self) -> usize;
    /// Whether there are no elements (a stored collection never is; a new one may be).
    fn is_empty(&mut self) -> bool {
        self.len() == 0
    }
    /// Whether `member` is in the set.
    fn contains(&mut self, member: &[u8]) -> bool;
    /// Adds a member; true if it is new.
    fn insert(&mut self, member: &[u8]) -> bool;
    /// Removes a member; true if it existed.
    fn remove(&mut self, member: &[u8]) -> bool;
    /// Visits every member until `visit` returns false.
    fn for_each(&mut self, visit: &mut dyn FnMut(&[u8]) -> bool);
    /// A pseudo-random member chosen by `seed`.
    fn random(&mut self, seed: u64) -> Option<Bytes>;
    /// One page of an `SSCAN` iteration; returns the next cursor, 0 when done.
    fn scan(&mut self, cursor: u64, count: usize, visit: &mut dyn FnMut(&[u8])) -> u64;
}

/// One end of a score interval (`(1.5` is exclusive).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreBound {
    /// The score (may be infinite, never NaN).
    pub value: f64,
    /// Whether the bound itself is excluded.
    pub exclusive: bool,
}

/// A score interval, as `ZRANGEBYSCORE min max` takes it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreRange {
    /// Lower end.
    pub min: ScoreBound,
    /// Upper end.
    pub max: ScoreBound,
}

impl ScoreRange {
    /// Whether `score` lies in the interval.
    pub fn contains(&self, score: f64) -> bool {
        self.above_min(score) && self.below_max(score)
    }
    /// Whether `score` satisfies the lower end.
    pub fn above_min(&self, score: f64) -> bool {
        if self.min.exclusive {
            score > self.min.value
        } else {
            score >= self.min.value
        }
    }
    /// Whether `score` satisfies the upper end.
    pub fn below_max(&self, score: f64) -> bool {
        if self.max.exclusive {
            score < self.max.value
        } else {
            score <= self.max.value
        }
    }
}

/// One end of a lexicographic interval (`-`, `+`, `[a`, `(a`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LexBound {
    /// `-`: below every member.
    Min,
    /// `+`: above every member.
    Max,
    /// `[member`.
    Inclusive(Bytes),
    /// `(member`.
    Exclusive(Bytes),
}

/// A lexicographic interval, as `ZRANGEBYLEX min max` takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexRange {
    /// Lower end.
    pub min: LexBound,
    /// Upper end.
    pub max: LexBound,
}

impl LexRange {
    /// Whether `member` satisfies the lower end.
    pub fn above_min(&self, member: &[u8]) -> bool {
        match &self.min {
            LexBound::Min => true,
            LexBound::Max => false,
            LexBound::Inclusive(b) => member >= &b[..],
            LexBound::Exclusive(b) => member > &b[..],
        }
    }
    /// Whether `member` satisfies the upper end.
    pub fn below_max(&self, member: &[u8]) -> bool {
        match &self.max {
            LexBound::Min => false,
            LexBound::Max => true,
            LexBound::Inclusive(b) => member <= &b[..],
            LexBound::Exclusive(b) => member < &b[..],
        }
    }
    /// Whether `member` lies in the interval.
    pub fn contains(&self, member: &[u8]) -> bool {
        self.above_min(member) && self.below_max(member)
    }
}

/// Element-level access to one sorted set, ordered by (score, member bytes).
pub trait ZSetOps {
    /// Number of members.
    fn len(&mut self) -> usize;
    /// Whether there are no elements (a stored collection never is; a new one may be).
    fn is_empty(&mut self) -> bool {
        self.len() == 0
    }
    /// A member's score.
    fn score(&mut self, member: &[u8]) -> Option<f64>;
    /// Adds a member or changes its score; returns the previous score.
    fn insert(&mut self, member: &[u8], score: f64) -> Option<f64>;
    /// Removes a member; true if it existed.
    fn remove(&mut self, member: &[u8]) -> bool;
    /// 0-based rank of a member, ascending (descending when `rev`).
    fn rank(&mut self, member: &[u8], rev: bool) -> Option<usize>;
    /// Visits members from rank `start` (ascending, or descending when `rev`) until
    /// `visit` returns false or the set ends.
    fn range_by_rank(&mut self, start: usize, rev: bool, visit: &mut dyn FnMut(&[u8], f64) -> bool);
    /// Visits members whose score lies in `range`, in ascending order (descending
    /// when `rev`), until `visit` returns false.
    fn range_by_score(
        &mut self,
        range: &ScoreRange,
        rev: bool,
        visit: &mut dyn FnMut(&[u8], f64) -> bool,
    );
    /// Visits members in `range` by byte order (meaningful when all scores are
    /// equal, as in Redis), ascending or descending, until `visit` returns false.
    fn range_by_lex(
        &mut self,
        range: &LexRange,
        rev: bool,
        visit: &mut dyn FnMut(&[u8], f64) -> bool,
    );
    /// Number of members whose score lies in `range`.
    fn count_by_score(&mut self, range: &ScoreRange) -> usize;
    /// Number of members in the lexicographic `range`.
    fn count_by_lex(&mut self, range: &LexRange) -> usize;
    /// One page of a `ZSCAN` iteration; returns the next cursor, 0 when done.
    fn scan(&mut self, cursor: u64, count: usize, visit: &mut dyn FnMut(&[u8], f64)) -> u64;
}

/// A stream entry ID (`<ms>-<seq>`), ordered as Redis orders them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId {
    /// Milliseconds part.
    pub ms: u64,
    /// Sequence part.
    pub seq: u64,
}

impl StreamId {
    /// `0-0`, below every entry.
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    /// The largest ID.
    pub const MAX: StreamId = StreamId {
        ms: u64::MAX,
        seq: u64::MAX,
    };

    /// An ID from its two parts.
    pub const fn new(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }

    /// The next ID, or `None` at [`StreamId::MAX`].
    pub fn next(self) -> Option<StreamId> {
        match self.seq.checked_add(1) {
            Some(seq) => Some(StreamId { ms: self.ms, seq }),
            None => self.ms.checked_add(1).map(|ms| StreamId { ms, seq: 0 }),
        }
    }

    /// The previous ID, or `None` at `0-0`.
    pub fn prev(self) -> Option<StreamId> {
        match self.seq.checked_sub(1) {
            Some(seq) => Some(StreamId { ms: self.ms, seq }),
            None => self
                .ms
                .checked_sub(1)
                .map(|ms| StreamId { ms, seq: u64::MAX }),
        }
    }

    /// Big-endian bytes, whose byte order is ID order (Redis' rax keys).
    pub fn to_be_bytes(self) -> [u8; 16] {
        let mut out = [0u8; 16];
        out[..8].copy_from_slice(&self.ms.to_be_bytes());
        out[8..].copy_from_slice(&self.seq.to_be_bytes());
        out
    }

    /// Inverse of [`StreamId::to_be_bytes`]; `None` if `b` is shorter than 16 bytes.
    pub fn from_be_bytes(b: &[u8]) -> Option<StreamId> {
        let ms = u64::from_be_bytes(b.get(..8)?.try_into().ok()?);
        let seq = u64::from_be_bytes(b.get(8..16)?.try_into().ok()?);
        Some(StreamId { ms, seq })
    }
}

impl std::fmt::Display for StreamId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// The counters a stream keeps beside its entries (Redis' `stream` struct), owned by
/// the commands: a backend stores them as given.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StreamMeta {
    /// The last ID ever generated (`last-generated-id`), even if since deleted.
    pub last_id: StreamId,
    /// The largest ID ever deleted by `XDEL` (`max-deleted-entry-id`).
    pub max_deleted: StreamId,
    /// Entries ever added (`entries-added`).
    pub entries_added: u64,
}

/// The first node of a stream, for trimming. Streams are stored in nodes of
/// consecutive entries, as Redis' listpacks: a node holds at most
/// `stream-node-max-entries` appended entries (deleted ones keep their place), is
/// dropped when its last live entry goes, and approximate (`~`) trims remove whole
/// nodes only, so that `XLEN` after such a trim is Redis'.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamNode {
    /// ID of the node's first appended entry (the node's key).
    pub first: StreamId,
    /// ID of the node's last appended entry, deleted or not.
    pub last: StreamId,
    /// Live entries in the node.
    pub live: u64,
}

/// When a stream's tail node is full, as Redis' `streamAppendItem` decides it:
/// `stream-node-max-entries` appended entries (deleted ones included; 0 = no limit),
/// or a listpack of `stream-node-max-bytes` once the new entry's fields and values
/// are counted (0 = the 1 GB listpack limit). Node sizes are Redis' listpack sizes,
/// computed by `util::stream::lp_*`, so nodes split where Redis splits them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeLimits {
    /// `stream-node-max-entries`.
    pub max_entries: u64,
    /// `stream-node-max-bytes`.
    pub max_bytes: u64,
}

impl Default for NodeLimits {
    fn default() -> Self {
        NodeLimits {
            max_entries: 100,
            max_bytes: 4096,
        }
    }
}

impl NodeLimits {
    /// Whether a node of `lp_bytes` listpack bytes holding `appended` entries takes
    /// no entry whose fields and values total `entry_len` bytes.
    pub fn is_full(&self, lp_bytes: u64, appended: u64, entry_len: u64) -> bool {
        const LISTPACK_MAX: u64 = 1 << 30;
        let max_bytes = if self.max_bytes == 0 || self.max_bytes > LISTPACK_MAX {
            LISTPACK_MAX
        } else {
            self.max_bytes
        };
        lp_bytes + entry_len >= max_bytes || (self.max_entries != 0 && appended >= self.max_entries)
    }
}

/// A consumer group as `XINFO GROUPS` reports it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GroupInfo {
    /// `last-delivered-id`.
    pub last_id: StreamId,
    /// `entries-read`; `None` when unknown (Redis' `SCG_INVALID_ENTRIES_READ`).
    pub entries_read: Option<u64>,
    /// Entries in the group's pending entries list.
    pub pending: u64,
    /// Consumers in the group.
    pub consumers: u64,
}

/// One pending (delivered, unacknowledged) entry of a group: Redis' `streamNACK`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingEntry {
    /// The consumer that owns it.
    pub consumer: Bytes,
    /// When it was last delivered.
    pub delivery_time: UnixMillis,
    /// How many times it was delivered.
    pub delivery_count: u64,
}

/// A consumer of a group.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConsumerInfo {
    /// Last time the consumer attempted an interaction (`seen-time`).
    pub seen_time: UnixMillis,
    /// Last successful interaction (`active-time`); `None` if never.
    pub active_time: Option<UnixMillis>,
    /// Entries in the consumer's own pending list.
    pub pending: u64,
}

/// Element-level access to one stream's entries. IDs are checked by the caller: an
/// appended ID is above every ID ever appended. A backend that fails to read reports
/// it when the enclosing `with_stream` returns. Unlike other collections, a stream
/// left empty stays (Redis keeps empty streams and their groups).
pub trait StreamOps {
    /// Number of live entries.
    fn len(&mut self) -> u64;
    /// Whether there are no live entries.
    fn is_empty(&mut self) -> bool {
        self.len() == 0
    }
    /// The stream's counters.
    fn meta(&mut self) -> StreamMeta;
    /// Replaces the stream's counters.
    fn set_meta(&mut self, meta: &StreamMeta);
    /// Appends an entry; `fields` alternates field and value. The tail node takes
    /// it unless [`NodeLimits::is_full`] says a new node starts here.
    fn append(&mut self, id: StreamId, fields: &[&[u8]], limits: NodeLimits);
    /// Deletes an entry; false if absent.
    /// Its node goes when its last live entry goes if `drop_empty_node` (XDEL);
    /// an exact trim keeps it (Redis' `streamTrim` only marks entries deleted).
    fn remove(&mut self, id: StreamId, drop_empty_node: bool) -> bool;
    /// Visits the entries with IDs in `start..=end`, ascending (descending when
    /// `rev`), passing ID and the flat field/value list, until `visit` returns false.
    fn range(
        &mut self,
        start: StreamId,
        end: StreamId,
        rev: bool,
        visit: &mut dyn FnMut(StreamId, &[Bytes]) -> bool,
    );
    /// The first node (see [`StreamNode`]), if any.
    fn first_node(&mut self) -> Option<StreamNode>;
    /// Drops the first node and every entry in it.
    fn remove_first_node(&mut self);
    /// Number of nodes (`radix-tree-keys`).
    fn nodes(&mut self) -> u64;
    /// Visits the first ID of every node, in order (for `radix-tree-nodes`).
    fn for_each_node(&mut self, visit: &mut dyn FnMut(StreamId));
    /// The consumer groups of this stream.
    fn groups(&mut self) -> &mut dyn StreamGroupOps;
}

/// Element-level access to a stream's consumer groups, their pending entries lists
/// (ordered by ID) and consumers (each with its own pending list). Names are
/// ordered by bytes, as Redis' radix trees order them.
pub trait StreamGroupOps {
    /// A group's state.
    fn group(&mut self, group: &[u8]) -> Option<GroupInfo>;
    /// Creates a group, or sets its last-delivered ID and entries-read counter.
    fn set_group(&mut self, group: &[u8], last_id: StreamId, entries_read: Option<u64>);
    /// Deletes a group with its consumers and pending entries; false if absent.
    fn remove_group(&mut self, group: &[u8]) -> bool;
    /// Visits every group in name order until `visit` returns false.
    fn for_each_group(&mut self, visit: &mut dyn FnMut(&[u8], &GroupInfo) -> bool);
    /// A pending entry of `group`.
    fn pending(&mut self, group: &[u8], id: StreamId) -> Option<PendingEntry>;
    /// Adds or replaces a pending entry of an existing group, moving it to
    /// `entry.consumer`'s list (the consumer must exist).
    fn set_pending(&mut self, group: &[u8], id: StreamId, entry: &PendingEntry);
    /// Removes a pending entry (from its consumer's list too); false if absent.
    fn remove_pending(&mut self, group: &[u8], id: StreamId) -> bool;
    /// Visits the pending entries of `group` (only `consumer`'s when given) with IDs
    /// in `start..=end`, ascending (descending when `rev`), until `visit` returns false.
    fn pending_range(
        &mut self,
        group: &[u8],
        consumer: Option<&[u8]>,
        start: StreamId,
        end: StreamId,
        rev: bool,
        visit: &mut dyn FnMut(StreamId, &PendingEntry) -> bool,
    );
    /// A consumer of `group`.
    fn consumer(&mut self, group: &[u8], consumer: &[u8]) -> Option<ConsumerInfo>;
    /// Creates a consumer of an existing group or updates its times.
    fn set_consumer(
        &mut self,
        group: &[u8],
        consumer: &[u8],
        seen_time: UnixMillis,
        active_time: Option<UnixMillis>,
    );
    /// Deletes a consumer and its pending entries (from the group's list too);
    /// false if absent.
    fn remove_consumer(&mut self, group: &[u8], consumer: &[u8]) -> bool;
    /// Visits the consumers of `group` in name order until `visit` returns false.
    fn for_each_consumer(
        &mut self,
        group: &[u8],
        visit: &mut dyn FnMut(&[u8], &ConsumerInfo) -> bool,
    );
}

/// Operations available inside an atomic scope. Every read applies lazy expiry first:
/// an expired key is removed and reported as missing, as in Redis.
pub trait Txn {
    /// The command's clock: fixed for the whole scope, as Redis caches `mstime()` per
    /// command, so a command never sees a key expire halfway through.
    fn now_ms(&self) -> UnixMillis;

    /// Type and expiry of a live key, or `None` if it does not exist.
    fn meta(&mut self, db: DbIndex, key: &[u8]) -> StorageResult<Option<KeyMeta>>;

    /// Removes a key of any type; returns whether it existed.
    fn delete(&mut self, db: DbIndex, key: &[u8]) -> StorageResult<bool>;

    /// Sets or clears a live key's expiry; returns false if the key does not exist.
    fn set_expire(
        &mut self,
        db: DbIndex,
        key: &[u8],
        at: Option<UnixMillis>,
    ) -> StorageResult<bool>;

    /// Reads a string value.
    fn get_string(&mut self, db: DbIndex, key: &[u8]) -> StorageResult<Option<Bytes>>;

    /// Runs `read` on a string value's bytes, without copying them where the backend
    /// can (an HLL is read on every PFADD and PFCOUNT); returns false, without calling
    /// `read`, when the key is missing. The default reads through `get_string`.
    fn read_string(
        &mut self,
        db: DbIndex,
        key: &[u8],
        read: &mut dyn FnMut(&[u8]),
    ) -> StorageResult<bool> {
        match self.get_string(db, key)? {
            Some(value) => {
                read(&value);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Length of a string value without copying it.
    fn string_len(&mut self, db: DbIndex, key: &[u8]) -> StorageResult<Option<usize>>;

    /// Stores a string, replacing a value of any type.
    fn set_string(
        &mut self,
        db: DbIndex,
        key: &[u8],
        value: &[u8],
        ttl: TtlUpdate,
    ) -> StorageResult<()>;

    /// Adds `delta` to the integer stored as a string at `key` (INCR, DECR, INCRBY,
    /// DECRBY): a missing key counts as 0 and is created without expiry; an existing
    /// key keeps its expiry. The inner result says why the value could not change.
    /// The default reads and writes the whole string; a backend may do it in place.
    fn incr_by(
        &mut self,
        db: DbIndex,
        key: &[u8],
        delta: i64,
    ) -> StorageResult<Result<i64, IncrError>> {
        let current = match self.get_string(db, key)? {
            Some(bytes) => match crate::util::number::parse_i64(&bytes) {
                Some(v) => v,
                None => return Ok(Err(IncrError::NotInteger)),
            },
            None => 0,
        };
        let Some(value) = current.checked_add(delta) else {
            return Ok(Err(IncrError::Overflow));
        };
        let mut buf = [0u8; 20];
        let digits = crate::util::number::format_i64(value, &mut buf);
        self.set_string(db, key, digits, TtlUpdate::Keep)?;
        Ok(Ok(value))
    }

    /// Edits a string in place (APPEND, SETRANGE, SETBIT, BITFIELD). A missing key is
    /// created empty when `create` is true; `edit` receives the current bytes. Returns
    /// false if the key is missing and `create` is false. The key's expiry is kept.
    fn update_string(
        &mut self,
        db: DbIndex,
        key: &[u8],
        create: bool,
        edit: &mut dyn FnMut(&mut Vec<u8>),
    ) -> StorageResult<bool>;

    /// Runs `body` on the list at `key`. If the key is missing, `body` runs on a new
    /// empty list when `create` is true (the key is stored only if `body` leaves it
    /// non-empty, without expiry); otherwise it does not run and the result is false.
    /// A list left empty is deleted, as Redis never stores empty collections.
    fn with_list(
        &mut self,
        db: DbIndex,
        key: &[u8],
        create: bool,
        body: &mut dyn FnMut(&mut dyn ListOps),
    ) -> StorageResult<bool>;

    /// As [`Txn::with_list`], for a hash.
    fn with_hash(
        &mut self,
        db: DbIndex,
        key: &[u8],
        create: bool,
        body: &mut dyn FnMut(&mut dyn HashOps),
    ) -> StorageResult<bool>;

    /// As [`Txn::with_list`], for a set.
    fn with_set(
        &mut self,
        db: DbIndex,
        key: &[u8],
        create: bool,
        body: &mut dyn FnMut(&mut dyn SetOps),
    ) -> StorageResult<bool>;

    /// As [`Txn::with_list`], for a sorted set.
    fn with_zset(
        &mut self,
        db: DbIndex,
        key: &[u8],
        create: bool,
        body: &mut dyn FnMut(&mut dyn ZSetOps),
    ) -> StorageResult<bool>;

    /// Runs `body` on the stream at `key`. If the key is missing, `body` runs on a
    /// new empty stream when `create` is true, which is stored even if left empty
    /// (streams may be empty); otherwise it does not run and the result is false.
    fn with_stream(
        &mut self,
        db: DbIndex,
        key: &[u8],
        create: bool,
        body: &mut dyn FnMut(&mut dyn StreamOps),
    ) -> StorageResult<bool>;

    /// Moves a key's value and expiry to `dst` (possibly in another database),
    /// replacing whatever `dst` held. Returns false if `src` does not exist.
    fn rename(
        &mut self,
        src_db: DbIndex,
        src: &[u8],
        dst_db: DbIndex,
        dst: &[u8],
    ) -> StorageResult<bool>;

    /// Copies a key's value and expiry to `dst`, replacing it. Returns false if `src`
    /// does not exist.
    fn copy(
        &mut self,
        src_db: DbIndex,
        src: &[u8],
        dst_db: DbIndex,
        dst: &[u8],
    ) -> StorageResult<bool>;

    /// Records an access (LRU/LFU bookkeeping) without reading the value.
    fn touch(&mut self, db: DbIndex, key: &[u8]) -> StorageResult<bool>;

    /// Details for `OBJECT ENCODING / IDLETIME / FREQ`.
    fn object_info(&mut self, db: DbIndex, key: &[u8]) -> StorageResult<Option<ObjectInfo>>;

    /// One page of a full-keyspace iteration. Needs [`Scope::All`]. A full iteration
    /// returns every key that exists from its start to its end at least once.
    fn scan(&mut self, db: DbIndex, cursor: u64, count: usize) -> StorageResult<ScanPage>;

    /// Every live key for which `keep` is true (`KEYS`). Needs [`Scope::All`].
    fn keys(
        &mut self,
        db: DbIndex,
        keep: &mut dyn FnMut(&[u8]) -> bool,
    ) -> StorageResult<Vec<Bytes>>;

    /// A random live key (`RANDOMKEY`). Needs [`Scope::All`].
    fn random_key(&mut self, db: DbIndex) -> StorageResult<Option<Bytes>>;

    /// Number of keys, possibly counting some expired ones not yet removed (as
    /// Redis' `DBSIZE`). Needs [`Scope::All`].
    fn db_size(&mut self, db: DbIndex) -> StorageResult<DbStats>;

    /// Removes every key of a database. Needs [`Scope::All`].
    fn flush_db(&mut self, db: DbIndex) -> StorageResult<()>;

    /// Exchanges two databases. Needs [`Scope::All`].
    fn swap_db(&mut self, a: DbIndex, b: DbIndex) -> StorageResult<()>;

    /// `CLIENT NO-TOUCH`: while on, reads do not update the access time and
    /// frequency of the keys (`OBJECT IDLETIME` / `FREQ`). Backends that record no
    /// access times ignore it.
    fn set_no_touch(&mut self, _on: bool) {}

    /// While clients are paused (`CLIENT PAUSE`), a read-only command's scope reports
    /// expired keys as missing without removing them, as Redis keeps the dataset
    /// unchanged during a pause. Never set for a command that writes. The default
    /// removes them as usual.
    fn set_keep_expired(&mut self, _on: bool) {}

    /// Passes `visit` each key this scope removed because it found it expired (lazy
    /// expiry, by any operation), once and in order, and forgets them, so that the
    /// engine can publish Redis' `expired` keyspace events. A backend records them
    /// only when it removes an expired key, so this costs nothing otherwise. The
    /// default reports nothing.
    fn drain_expired(&mut self, visit: &mut dyn FnMut(DbIndex, &[u8])) {
        let _ = visit;
    }
}

/// A value reached through the element-level ops, so that a reader (a snapshot, a
/// `DUMP`) streams a big collection element by element instead of copying it.
pub enum ValueRef<'a> {
    /// A string.
    String(&'a [u8]),
    /// A list.
    List(&'a mut dyn ListOps),
    /// A hash.
    Hash(&'a mut dyn HashOps),
    /// A set.
    Set(&'a mut dyn SetOps),
    /// A sorted set.
    ZSet(&'a mut dyn ZSetOps),
}

/// Receives a snapshot of the keyspace ([`StorageBackend::snapshot`]).
pub trait SnapshotSink {
    /// A database's keys follow (`keys`/`expires` are size hints); a database may
    /// be announced more than once when a backend walks its parts separately.
    fn begin_db(&mut self, db: DbIndex, keys: u64, expires: u64) -> StorageResult<()>;
    /// One key as it was when the snapshot started.
    fn key(
        &mut self,
        db: DbIndex,
        key: &[u8],
        expire_at: Option<UnixMillis>,
        value: ValueRef<'_>,
    ) -> StorageResult<()>;
}

/// Runs `f` on the value at `key` (of type `key_type`, from [`Txn::meta`]) through
/// its ops; `None` if the key vanished or its type has no [`ValueRef`] yet.
pub fn with_value<R>(
    txn: &mut dyn Txn,
    db: DbIndex,
    key: &[u8],
    key_type: KeyType,
    f: impl FnOnce(ValueRef<'_>) -> R,
) -> StorageResult<Option<R>> {
    let mut f = Some(f);
    let mut out = None;
    match key_type {
        KeyType::String => {
            if let Some(s) = txn.get_string(db, key)? {
                out = f.take().map(|f| f(ValueRef::String(&s)));
            }
        }
        KeyType::List => {
            txn.with_list(db, key, false, &mut |ops| {
                out = f.take().map(|f| f(ValueRef::List(ops)))
            })?;
        }
        KeyType::Hash => {
            txn.with_hash(db, key, false, &mut |ops| {
                out = f.take().map(|f| f(ValueRef::Hash(ops)))
            })?;
        }
        KeyType::Set => {
            txn.with_set(db, key, false, &mut |ops| {
                out = f.take().map(|f| f(ValueRef::Set(ops)))
            })?;
        }
        KeyType::ZSet => {
            txn.with_zset(db, key, false, &mut |ops| {
                out = f.take().map(|f| f(ValueRef::ZSet(ops)))
            })?;
        }
        KeyType::Stream => {}
    }
    Ok(out)
}

/// Passes every live key of the scope's keyspace to `sink`, database by database,
/// through SCAN pages. Needs [`Scope::All`]; the default
/// [`StorageBackend::snapshot`] runs it with every writer locked out.
pub fn snapshot_txn(
    txn: &mut dyn Txn,
    databases: usize,
    sink: &mut dyn SnapshotSink,
) -> StorageResult<()> {
    for db in 0..databases {
        let stats = txn.db_size(db)?;
        if stats.keys == 0 {
            continue;
        }
        sink.begin_db(db, stats.keys, stats.expires)?;
        let mut cursor = 0;
        loop {
            let page = txn.scan(db, cursor, 1000)?;
            for key in &page.keys {
                let Some(meta) = txn.meta(db, key)? else {
                    continue;
                };
                let at = meta.expire_at;
                with_value(txn, db, key, meta.key_type, |v| sink.key(db, key, at, v))?
                    .transpose()?;
            }
            cursor = page.next_cursor;
            if cursor == 0 {
                break;
            }
        }
    }
    Ok(())
}

/// A keyspace of typed values the engine can run commands on.
pub trait StorageBackend: Send + Sync {
    /// Short name for logs and `INFO` (`memory`, `disk`).
    fn name(&self) -> &'static str;

    /// Number of logical databases.
    fn databases(&self) -> usize;

    /// Runs `body` with `scope` locked; its writes become visible to other scopes
    /// together (and, on a durable backend, are committed as one batch). An error
    /// means the writes were not applied, so the command must not report success.
    fn atomic(&self, scope: Scope<'_>, body: &mut dyn FnMut(&mut dyn Txn)) -> StorageResult<()>;

    /// Runs `run`, in which the caller executes a burst of commands (one client's
    /// pipelined requests) on this thread and sends none of their replies before
    /// this returns.
    ///
    /// A backend may defer the commits of the scopes opened meanwhile on this
    /// thread and apply them together at the end (group commit): every scope stays
    /// atomic and isolated, since its keys stay locked until then, but its writes
    /// reach the store only when the group commits. An error means writes of the
    /// burst were lost: none of its replies may be sent. The default runs `run`
    /// with no grouping.
    fn group(&self, run: &mut dyn FnMut()) -> StorageResult<()> {
        run();
        Ok(())
    }

    /// Adopts new collection encoding thresholds (`CONFIG SET`); existing values
    /// convert lazily, as in Redis. The default ignores them.
    fn set_encoding_limits(&self, _limits: EncodingLimits) {}

    /// One bounded step of active expiry: samples volatile keys and removes expired
    /// ones, spending at most about `budget` key checks.
    fn active_expire(&self, budget: usize) -> ExpireStats;

    /// As [`StorageBackend::active_expire`], also passing `on_expired` each key it
    /// removes (after the removal is applied), for `expired` keyspace events. The
    /// engine calls it instead of `active_expire` only while those events are
    /// enabled. The default reports nothing.
    fn active_expire_reporting(
        &self,
        budget: usize,
        on_expired: &mut dyn FnMut(DbIndex, &[u8]),
    ) -> ExpireStats {
        let _ = on_expired;
        self.active_expire(budget)
    }

    /// Approximate bytes used by the data (`INFO memory` `used_memory_dataset`).
    fn dataset_bytes(&self) -> u64;

    /// Makes acknowledged writes durable (`SHUTDOWN`, fsync policy); a no-op for a
    /// volatile backend.
    fn flush_to_disk(&self) -> StorageResult<()>;

    /// Passes `sink` every key with its value and expiry as they were at one point in
    /// time (`SAVE`, `BGSAVE`, an AOF base), calling `started` once that point is
    /// fixed (a `BGSAVE` replies only then, so that every write acknowledged after
    /// its reply is absent from the snapshot). The default holds the whole keyspace
    /// locked for the walk, so writers wait; a backend overrides it to let them run
    /// (copy-on-write, a store snapshot).
    fn snapshot(
        &self,
        sink: &mut dyn SnapshotSink,
        started: &mut dyn FnMut(),
    ) -> StorageResult<()> {
        let mut result = Ok(());
        let databases = self.databases();
        self.atomic(Scope::All, &mut |txn| {
            started();
            result = snapshot_txn(txn, databases, sink);
        })?;
        result
    }
}

/// Runs `body` on the list at `key` (see [`Txn::with_list`]) and returns its result,
/// or `None` if the key is missing and `create` is false.
pub fn with_list<R>(
    txn: &mut dyn Txn,
    db: DbIndex,
    key: &[u8],
    create: bool,
    body: impl FnOnce(&mut dyn ListOps) -> R,
) -> StorageResult<Option<R>> {
    let mut body = Some(body);
    let mut out = None;
    txn.with_list(db, key, create, &mut |ops| {
        out = body.take().map(|b| b(ops))
    })?;
    Ok(out)
}

/// Runs `body` on the hash at `key` (see [`Txn::with_hash`]).
pub fn with_hash<R>(
    txn: &mut dyn Txn,
    db: DbIndex,
    key: &[u8],
    create: bool,
    body: impl FnOnce(&mut dyn HashOps) -> R,
) -> StorageResult<Option<R>> {
    let mut body = Some(body);
    let mut out = None;
    txn.with_hash(db, key, create, &mut |ops| {
        out = body.take().map(|b| b(ops))
    })?;
    Ok(out)
}

/// Runs `body` on the set at `key` (see [`Txn::with_set`]).
pub fn with_set<R>(
    txn: &mut dyn Txn,
    db: DbIndex,
    key: &[u8],
    create: bool,
    body: impl FnOnce(&mut dyn SetOps) -> R,
) -> StorageResult<Option<R>> {
    let mut body = Some(body);
    let mut out = None;
    txn.with_set(db, key, create, &mut |ops| {
        out = body.take().map(|b| b(ops))
    })?;
    Ok(out)
}

/// Runs `body` on the sorted set at `key` (see [`Txn::with_zset`]).
pub fn with_zset<R>(
    txn: &mut dyn Txn,
    db: DbIndex,
    key: &[u8],
    create: bool,
    body: impl FnOnce(&mut dyn ZSetOps) -> R,
) -> StorageResult<Option<R>> {
    let mut body = Some(body);
    let mut out = None;
    txn.with_zset(db, key, create, &mut |ops| {
        out = body.take().map(|b| b(ops))
    })?;
    Ok(out)
}

/// Runs `body` on the stream at `key` (see [`Txn::with_stream`]).
pub fn with_stream<R>(
    txn: &mut dyn Txn,
    db: DbIndex,
    key: &[u8],
    create: bool,
    body: impl FnOnce(&mut dyn StreamOps) -> R,
) -> StorageResult<Option<R>> {
    let mut body = Some(body);
    let mut out = None;
    txn.with_stream(db, key, create, &mut |ops| {
        out = body.take().map(|b| b(ops))
    })?;
    Ok(out)
}
