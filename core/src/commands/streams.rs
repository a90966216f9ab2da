//! Stream commands: XADD XLEN XRANGE XREVRANGE XDEL XTRIM XREAD XSETID, consumer
//! groups (XGROUP, XREADGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM) and XINFO, with
//! Redis 7.0's replies, errors, argument order and keyspace events.
//!
//! Everything goes through element-level [`StreamOps`] calls: a range reads only the
//! entries it returns, and consumer groups touch only the pending entries involved.
//! The counters Redis keeps per stream (last ID, max deleted ID, entries added) and
//! per group (last delivered ID, entries read) are computed here, as in `t_stream.c`,
//! including the `entries-read` / `lag` estimates; the backend stores them.

use bytes::Bytes;
use ferrokv_protocol::Frame;

use crate::blocking::BlockRequest;
use crate::command::{CmdError, CmdFlags, CmdResult, CommandSpec, Ctx, Handler, KeyPositions};
use crate::commands::args::is;
use crate::commands::blocking::block;
use crate::commands::object::help_reply;
use crate::notify;
use crate::storage::{self, NodeLimits, PendingEntry, StreamId, StreamMeta, StreamOps, UnixMillis};
use crate::util::number::parse_i64;
use crate::util::stream::rax_nodes;

const STREAM: &[&str] = &["stream"];
const WRITE_FAST: CmdFlags = CmdFlags::WRITE.or(CmdFlags::FAST);
const WRITE_OOM: CmdFlags = CmdFlags::WRITE.or(CmdFlags::DENYOOM);
const READ_FAST: CmdFlags = CmdFlags::READONLY.or(CmdFlags::FAST);

/// The default LIMIT of `~` trims: `100 * stream-node-max-entries` (10,000 when
/// that is 0, at most 1,000,000), as Redis.
const APPROX_LIMIT_FACTOR: u64 = 100;

/// Entries a blocked XREAD without COUNT is served at most (Redis'
/// `XREAD_BLOCKED_DEFAULT_COUNT`).
const BLOCKED_DEFAULT_COUNT: usize = 1000;

/// A stream command spec (one key at index 1).
const fn spec(
    name: &'static str,
    arity: i32,
    flags: CmdFlags,
    since: &'static str,
    summary: &'static str,
    syntax: &'static str,
    handler: Handler,
) -> CommandSpec {
    CommandSpec {
        name,
        arity,
        flags,
        acl: STREAM,
        keys: KeyPositions::FIRST,
        group: "stream",
        since,
        summary,
        syntax,
        handler: Some(handler),
        ..CommandSpec::DEFAULT
    }
}

/// A subcommand spec whose key is at index 2.
const fn sub(
    name: &'static str,
    arity: i32,
    flags: CmdFlags,
    since: &'static str,
    summary: &'static str,
    syntax: &'static str,
    handler: Handler,
) -> CommandSpec {
    CommandSpec {
        keys: KeyPositions::new(2, 2, 1),
        ..spec(name, arity, flags, since, summary, syntax, handler)
    }
}

const fn help_spec(handler: Handler) -> CommandSpec {
    CommandSpec {
        name: "help",
        arity: 2,
        flags: CmdFlags::LOADING.or(CmdFlags::STALE),
        acl: STREAM,
        group: "stream",
        since: "5.0.0",
        summary: "Returns helpful text about the different subcommands.",
        handler: Some(handler),
        ..CommandSpec::DEFAULT
    }
}

static XGROUP_SUBCOMMANDS: &[CommandSpec] = &[
    sub(
        "create",
        -5,
        WRITE_OOM,
        "5.0.0",
        "Creates a consumer group.",
        "key group <id | $> [MKSTREAM] [ENTRIESREAD entries-read]",
        xgroup_create,
    ),
    sub(
        "setid",
        -5,
        CmdFlags::WRITE,
        "5.0.0",
        "Sets the last-delivered ID of a consumer group.",
        "key group <id | $> [ENTRIESREAD entries-read]",
        xgroup_setid,
    ),
    sub(
        "destroy",
        4,
        CmdFlags::WRITE,
        "5.0.0",
        "Destroys a consumer group.",
        "key group",
        xgroup_destroy,
    ),
    sub(
        "createconsumer",
        5,
        WRITE_OOM,
        "6.2.0",
        "Creates a consumer in a consumer group.",
        "key group consumer",
        xgroup_createconsumer,
    ),
    sub(
        "delconsumer",
        5,
        CmdFlags::WRITE,
        "5.0.0",
        "Deletes a consumer from a consumer group.",
        "key group consumer",
        xgroup_delconsumer,
    ),
    help_spec(xgroup_help),
];

static XINFO_SUBCOMMANDS: &[CommandSpec] = &[
    sub(
        "stream",
        -3,
        CmdFlags::READONLY,
        "5.0.0",
        "Returns information about a stream.",
        "key [FULL [COUNT count]]",
        xinfo_stream,
    ),
    sub(
        "groups",
        3,
        CmdFlags::READONLY,
        "5.0.0",
        "Returns a list of the consumer groups of a stream.",
        "key",
        xinfo_groups,
    ),
    sub(
        "consumers",
        4,
        CmdFlags::READONLY,
        "5.0.0",
        "Returns a list of the consumers in a consumer group.",
        "key group",
        xinfo_consumers,
    ),
    help_spec(xinfo_help),
];

/// Stream command specs.
pub static COMMANDS: &[CommandSpec] = &[
    spec(
        "xadd",
        -5,
        WRITE_OOM.or(CmdFlags::FAST),
        "5.0.0",
        "Appends a new message to a stream. Creates the key if it doesn't exist.",
        "key [NOMKSTREAM] [<MAXLEN | MINID> [= | ~] threshold [LIMIT count]] <* | id> field value [field value ...]",
        xadd,
    ),
    spec(
        "xlen",
        2,
        READ_FAST,
        "5.0.0",
        "Return the number of messages in a stream.",
        "key",
        xlen,
    ),
    spec(
        "xrange",
        -4,
        CmdFlags::READONLY,
        "5.0.0",
        "Returns the messages from a stream within a range of IDs.",
        "key start end [COUNT count]",
        xrange,
    ),
    spec(
        "xrevrange",
        -4,
        CmdFlags::READONLY,
        "5.0.0",
        "Returns the messages from a stream within a range of IDs in reverse order.",
        "key end start [COUNT count]",
        xrevrange,
    ),
    spec(
        "xdel",
        -3,
        WRITE_FAST,
        "5.0.0",
        "Returns the number of messages after removing them from a stream.",
        "key id [id ...]",
        xdel,
    ),
    spec(
        "xtrim",
        -4,
        CmdFlags::WRITE,
        "5.0.0",
        "Deletes messages from the beginning of a stream.",
        "key <MAXLEN | MINID> [= | ~] threshold [LIMIT count]",
        xtrim,
    ),
    CommandSpec {
        keys: KeyPositions::STREAMS,
        ..spec(
            "xread",
            -4,
            CmdFlags::READONLY.or(CmdFlags::BLOCKING),
            "5.0.0",
            "Returns messages from multiple streams with IDs greater than the ones requested. Blocks until a message is available otherwise.",
            "[COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...]",
            xread,
        )
    },
    CommandSpec {
        keys: KeyPositions::STREAMS,
        ..spec(
            "xreadgroup",
            -7,
            CmdFlags::WRITE.or(CmdFlags::BLOCKING),
            "5.0.0",
            "Returns new or historical messages from a stream for a consumer in a group. Blocks until a message is available otherwise.",
            "GROUP group consumer [COUNT count] [BLOCK milliseconds] [NOACK] STREAMS key [key ...] id [id ...]",
            xreadgroup,
        )
    },
    spec(
        "xsetid",
        -3,
        WRITE_OOM.or(CmdFlags::FAST),
        "5.0.0",
        "An internal command for replicating stream values.",
        "key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]",
        xsetid,
    ),
    spec(
        "xack",
        -4,
        WRITE_FAST,
        "5.0.0",
        "Returns the number of messages that were successfully acknowledged by the consumer group member of a stream.",
        "key group id [id ...]",
        xack,
    ),
    spec(
        "xpending",
        -3,
        CmdFlags::READONLY,
        "5.0.0",
        "Returns the information and entries from a stream consumer group's pending entries list.",
        "key group [[IDLE min-idle-time] start end count [consumer]]",
        xpending,
    ),
    spec(
        "xclaim",
        -6,
        WRITE_FAST,
        "5.0.0",
        "Changes, or acquires, ownership of a message in a consumer group, as if the message was delivered a consumer group member.",
        "key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-time-milliseconds] [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID lastid]",
        xclaim,
    ),
    spec(
        "xautoclaim",
        -6,
        WRITE_FAST,
        "6.2.0",
        "Changes, or acquires, ownership of messages in a consumer group, as if the messages were delivered to as consumer group member.",
        "key group consumer min-idle-time start [COUNT count] [JUSTID]",
        xautoclaim,
    ),
    CommandSpec {
        name: "xgroup",
        arity: -2,
        acl: STREAM,
        group: "stream",
        since: "5.0.0",
        summary: "A container for consumer groups commands.",
        syntax: "<subcommand> [<arg> ...]",
        subcommands: XGROUP_SUBCOMMANDS,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "xinfo",
        arity: -2,
        acl: STREAM,
        group: "stream",
        since: "5.0.0",
        summary: "A container for stream introspection commands.",
        syntax: "<subcommand> [<arg> ...]",
        subcommands: XINFO_SUBCOMMANDS,
        ..CommandSpec::DEFAULT
    },
];

// ---------------------------------------------------------------------------
// IDs and replies
// ---------------------------------------------------------------------------

fn invalid_id() -> CmdError {
    CmdError::err("Invalid stream ID specified as stream command argument")
}

/// Redis' `string2ull`: `string2ll` for non-negative values, else `strtoull` over
/// the whole string (leading spaces and a sign allowed; `-n` wraps).
fn parse_u64(s: &[u8]) -> Option<u64> {
    if let Some(v) = parse_i64(s) {
        return u64::try_from(v).ok();
    }
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
        i += 1;
    }
    let mut neg = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        neg = s[i] == b'-';
        i += 1;
    }
    let digits = &s[i..];
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: u64 = 0;
    for d in digits {
        v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

/// Redis' `streamGenericParseIDOrReply`: `-`/`+` (unless `strict`), `ms` (with
/// `missing_seq`), `ms-seq`, and with `seq_star` `ms-*`. Returns the ID and
/// whether the sequence was given.
fn parse_id_full(
    arg: &[u8],
    missing_seq: u64,
    strict: bool,
    seq_star: bool,
) -> Result<(StreamId, bool), CmdError> {
    if arg.len() > 127 {
        return Err(invalid_id());
    }
    match arg {
        b"-" if !strict => return Ok((StreamId::MIN, true)),
        b"+" if !strict => return Ok((StreamId::MAX, true)),
        b"-" | b"+" => return Err(invalid_id()),
        _ => {}
    }
    let (ms_part, seq_part) = match arg.iter().position(|&b| b == b'-') {
        Some(dash) => (&arg[..dash], Some(&arg[dash + 1..])),
        None => (arg, None),
    };
    let ms = parse_u64(ms_part).ok_or_else(invalid_id)?;
    match seq_part {
        None => Ok((StreamId::new(ms, missing_seq), true)),
        Some(b"*") if seq_star => Ok((StreamId::new(ms, 0), false)),
        Some(seq) => Ok((
            StreamId::new(ms, parse_u64(seq).ok_or_else(invalid_id)?),
            true,
        )),
    }
}

/// A strict ID (`-` and `+` refused), missing sequence 0.
fn parse_strict_id(arg: &[u8]) -> Result<StreamId, CmdError> {
    parse_id_full(arg, 0, true, false).map(|(id, _)| id)
}

/// Redis' `streamParseIntervalIDOrReply`: `(id` is exclusive (and strict).
fn parse_interval(arg: &[u8], missing_seq: u64) -> Result<(StreamId, bool), CmdError> {
    if arg.len() > 1 && arg[0] == b'(' {
        let (id, _) = parse_id_full(&arg[1..], missing_seq, true, false)?;
        Ok((id, true))
    } else {
        let (id, _) = parse_id_full(arg, missing_seq, false, false)?;
        Ok((id, false))
    }
}

/// The start of an interval, `(` bounds moved to the next ID.
fn interval_start(arg: &[u8]) -> Result<StreamId, CmdError> {
    let (id, exclusive) = parse_interval(arg, 0)?;
    if exclusive {
        id.next()
            .ok_or_else(|| CmdError::err("invalid start ID for the interval"))
    } else {
        Ok(id)
    }
}

/// The end of an interval, `(` bounds moved to the previous ID.
fn interval_end(arg: &[u8]) -> Result<StreamId, CmdError> {
    let (id, exclusive) = parse_interval(arg, u64::MAX)?;
    if exclusive {
        id.prev()
            .ok_or_else(|| CmdError::err("invalid end ID for the interval"))
    } else {
        Ok(id)
    }
}

fn id_frame(id: StreamId) -> Frame {
    Frame::Bulk(Bytes::from(id.to_string()))
}

fn entry_frame(id: StreamId, fields: &[Bytes]) -> Frame {
    Frame::Array(vec![
        id_frame(id),
        Frame::Array(fields.iter().cloned().map(Frame::Bulk).collect()),
    ])
}

fn int(v: u64) -> Frame {
    Frame::Integer(i64::try_from(v).unwrap_or(i64::MAX))
}

/// A name/value reply: a map in RESP3, a flat array in RESP2.
fn info_map(pairs: Vec<(&'static str, Frame)>) -> Frame {
    Frame::Map(
        pairs
            .into_iter()
            .map(|(k, v)| (Frame::Bulk(Bytes::from_static(k.as_bytes())), v))
            .collect(),
    )
}

/// Entries in `start..=end`, at most `count` (0 = all), as replies.
fn range_frames(
    s: &mut dyn StreamOps,
    start: StreamId,
    end: StreamId,
    rev: bool,
    count: usize,
) -> Vec<Frame> {
    let mut out = Vec::new();
    s.range(start, end, rev, &mut |id, fields| {
        out.push(entry_frame(id, fields));
        count == 0 || out.len() < count
    });
    out
}

/// The single entry `id`, if present.
fn entry(s: &mut dyn StreamOps, id: StreamId) -> Option<Frame> {
    range_frames(s, id, id, false, 1).pop()
}

fn first_entry_id(s: &mut dyn StreamOps) -> Option<StreamId> {
    let mut out = None;
    s.range(StreamId::MIN, StreamId::MAX, false, &mut |id, _| {
        out = Some(id);
        false
    });
    out
}

fn last_entry_id(s: &mut dyn StreamOps) -> Option<StreamId> {
    let mut out = None;
    s.range(StreamId::MIN, StreamId::MAX, true, &mut |id, _| {
        out = Some(id);
        false
    });
    out
}

/// Redis' `s->first_id`: the first live entry, 0-0 when empty.
fn first_id(s: &mut dyn StreamOps) -> StreamId {
    first_entry_id(s).unwrap_or(StreamId::MIN)
}

/// Where a stream stands, as the lag estimates need it: its counters and live
/// length, and its first live entry (Redis' `first_id`), looked up only when an
/// estimate needs it (on disk that seek may step over trimmed entries' tombstones).
struct Position {
    meta: StreamMeta,
    len: u64,
    first: Option<StreamId>,
}

impl Position {
    fn of(s: &mut dyn StreamOps) -> Position {
        Position {
            meta: s.meta(),
            len: s.len(),
            first: None,
        }
    }

    fn first(&mut self, s: &mut dyn StreamOps) -> StreamId {
        *self.first.get_or_insert_with(|| first_id(s))
    }

    /// Redis' `streamRangeHasTombstones` from `start` to the end of the stream.
    fn has_tombstones_after(&mut self, s: &mut dyn StreamOps, start: StreamId) -> bool {
        let max_deleted = self.meta.max_deleted;
        if self.len == 0 || max_deleted == StreamId::MIN || self.first(s) > max_deleted {
            return false;
        }
        start <= max_deleted
    }

    /// Redis' `streamEstimateDistanceFromFirstEverEntry`: the entries-read counter
    /// of `id`, when it can be known.
    fn estimate_distance(&mut self, s: &mut dyn StreamOps, id: StreamId) -> Option<u64> {
        let meta = self.meta;
        if meta.entries_added == 0 {
            return Some(0);
        }
        if self.len == 0 && id <= meta.last_id {
            return Some(meta.entries_added);
        }
        if id == meta.last_id {
            return Some(meta.entries_added);
        }
        if id > meta.last_id {
            return None;
        }
        let first = self.first(s);
        if meta.max_deleted == StreamId::MIN || meta.max_deleted < first {
            if id < first {
                return Some(meta.entries_added.saturating_sub(self.len));
            }
            if id == first {
                return Some(meta.entries_added.saturating_sub(self.len) + 1);
            }
        }
        None
    }

    /// A group's lag as `XINFO` reports it (`None` = unknown).
    fn lag(
        &mut self,
        s: &mut dyn StreamOps,
        last_id: StreamId,
        entries_read: Option<u64>,
    ) -> Option<i64> {
        let added = self.meta.entries_added;
        if added == 0 {
            return Some(0);
        }
        if let Some(read) = entries_read {
            if !self.has_tombstones_after(s, last_id) {
                return Some(added as i64 - read as i64);
            }
        }
        self.estimate_distance(s, last_id)
            .map(|read| added as i64 - read as i64)
    }
}

fn opt_int(v: Option<i64>) -> Frame {
    v.map_or(Frame::Null, Frame::Integer)
}

fn nogroup_key(key: &[u8], group: &[u8]) -> CmdError {
    CmdError(format!(
        "NOGROUP No such key '{}' or consumer group '{}'",
        String::from_utf8_lossy(key),
        String::from_utf8_lossy(group)
    ))
}

fn nogroup_for_key(key: &[u8], group: &[u8]) -> CmdError {
    CmdError(format!(
        "NOGROUP No such consumer group '{}' for key name '{}'",
        String::from_utf8_lossy(group),
        String::from_utf8_lossy(key)
    ))
}

fn no_such_key() -> CmdError {
    CmdError::err("no such key")
}

/// Runs `body` on the stream at `key` for a read command (counted as a hit or miss).
fn read_stream<R>(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    body: impl FnOnce(&mut dyn StreamOps) -> R,
) -> Result<Option<R>, CmdError> {
    let db = ctx.db();
    let found = storage::with_stream(ctx.txn, db, key, false, body);
    ctx.counted_read(key, found)
}

/// Runs `body` on the stream at `key` for a write command, creating it if asked.
fn write_stream<R>(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    create: bool,
    body: impl FnOnce(&mut dyn StreamOps) -> R,
) -> Result<Option<R>, CmdError> {
    let db = ctx.db();
    Ok(storage::with_stream(ctx.txn, db, key, create, body)?)
}

/// `stream-node-max-entries` and `stream-node-max-bytes` from the configuration.
fn node_limits(ctx: &Ctx<'_>) -> NodeLimits {
    ctx.engine.stream_node_limits()
}

// ---------------------------------------------------------------------------
// XADD, XTRIM
// ---------------------------------------------------------------------------

/// How to trim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Strategy {
    None,
    MaxLen(u64),
    MinId(StreamId),
}

/// Parsed trimming options (Redis' `streamAddTrimArgs`).
#[derive(Debug, Clone, Copy)]
struct TrimArgs {
    strategy: Strategy,
    approx: bool,
    /// Most entries removed; 0 = unlimited.
    limit: u64,
}

/// XADD's options before the ID.
struct AddArgs {
    trim: TrimArgs,
    nomkstream: bool,
    /// The explicit ID and whether its sequence was given (`ms-*` not).
    id: Option<(StreamId, bool)>,
    /// Index of the first field.
    fields_at: usize,
}

/// Redis' `streamParseAddOrTrimArgsOrReply`.
fn parse_add_or_trim(argv: &[Bytes], xadd: bool, node_max: u64) -> Result<AddArgs, CmdError> {
    let mut trim = TrimArgs {
        strategy: Strategy::None,
        approx: false,
        limit: 0,
    };
    let mut limit_given = false;
    let mut nomkstream = false;
    let mut id = None;
    let mut i = 2;
    let both = || {
        CmdError::err("syntax error, MAXLEN and MINID options at the same time are not compatible")
    };
    while i < argv.len() {
        let more = argv.len() - 1 - i;
        let opt = &argv[i];
        if xadd && &opt[..] == b"*" {
            break;
        } else if (is(opt, "maxlen") || is(opt, "minid")) && more > 0 {
            if trim.strategy != Strategy::None {
                return Err(both());
            }
            trim.approx = false;
            let next = &argv[i + 1];
            if more >= 2 && &next[..] == b"~" {
                trim.approx = true;
                i += 1;
            } else if more >= 2 && &next[..] == b"=" {
                i += 1;
            }
            let value = &argv[i + 1];
            trim.strategy = if is(opt, "maxlen") {
                let n = parse_i64(value).ok_or_else(CmdError::not_integer)?;
                if n < 0 {
                    return Err(CmdError::err("The MAXLEN argument must be >= 0."));
                }
                Strategy::MaxLen(n as u64)
            } else {
                Strategy::MinId(parse_strict_id(value)?)
            };
            i += 2;
        } else if is(opt, "limit") && more > 0 {
            let n = parse_i64(&argv[i + 1]).ok_or_else(CmdError::not_integer)?;
            if n < 0 {
                return Err(CmdError::err("The LIMIT argument must be >= 0."));
            }
            trim.limit = n as u64;
            limit_given = true;
            i += 2;
        } else if xadd && is(opt, "nomkstream") {
            nomkstream = true;
            i += 1;
        } else if xadd {
            id = Some(parse_id_full(opt, 0, true, true)?);
            break;
        } else {
            return Err(CmdError::syntax());
        }
    }
    if trim.limit != 0 && trim.strategy == Strategy::None {
        return Err(CmdError::err(
            "syntax error, LIMIT cannot be used without specifying a trimming strategy",
        ));
    }
    if !xadd && trim.strategy == Strategy::None {
        return Err(CmdError::err(
            "syntax error, XTRIM must be called with a trimming strategy",
        ));
    }
    if limit_given {
        if !trim.approx {
            return Err(CmdError::err(
                "syntax error, LIMIT cannot be used without the special ~ option",
            ));
        }
    } else if trim.approx {
        trim.limit = APPROX_LIMIT_FACTOR.saturating_mul(node_max);
        if trim.limit == 0 {
            trim.limit = 10_000;
        }
        trim.limit = trim.limit.min(1_000_000);
    } else {
        trim.limit = 0;
    }
    Ok(AddArgs {
        trim,
        nomkstream,
        id,
        fields_at: i + 1,
    })
}

/// Redis' `streamTrim`: whole nodes from the head, then (unless approximate) single
/// entries of the first node that must go. Returns the entries removed.
fn trim(s: &mut dyn StreamOps, args: &TrimArgs) -> u64 {
    let mut deleted = 0u64;
    while let Some(node) = s.first_node() {
        if let Strategy::MaxLen(max) = args.strategy {
            if s.len() <= max {
                break;
            }
        }
        if args.limit != 0 && deleted + node.live > args.limit {
            break;
        }
        let remove_node = match args.strategy {
            Strategy::MaxLen(max) => s.len().saturating_sub(node.live) >= max,
            Strategy::MinId(min) => node.last < min,
            Strategy::None => return 0,
        };
        if remove_node {
            s.remove_first_node();
            deleted += node.live;
            continue;
        }
        if args.approx {
            break;
        }
        let mut doomed = Vec::new();
        let mut len = s.len();
        s.range(node.first, node.last, false, &mut |id, _| {
            let stop = match args.strategy {
                Strategy::MaxLen(max) => len <= max,
                Strategy::MinId(min) => id >= min,
                Strategy::None => true,
            };
            if !stop {
                doomed.push(id);
                len -= 1;
            }
            !stop
        });
        for id in doomed {
            if s.remove(id, false) {
                deleted += 1;
            }
        }
        break;
    }
    deleted
}

/// What XADD did.
enum Added {
    Id(StreamId, bool),
    TooSmall,
    TooLarge,
    Exhausted,
}

fn xadd(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let limits = node_limits(ctx);
    let args = parse_add_or_trim(argv, true, limits.max_entries)?;
    let nfields = argv.len().saturating_sub(args.fields_at);
    if nfields < 2 || !nfields.is_multiple_of(2) {
        return Err(CmdError::arity("xadd"));
    }
    if let Some((id, true)) = args.id {
        if id == StreamId::MIN {
            return Err(CmdError::err(
                "The ID specified in XADD must be greater than 0-0",
            ));
        }
    }
    let key = &argv[1];
    let created = !args.nomkstream && ctx.creates(key)?;
    let now = ctx.txn.now_ms();
    let fields: Vec<&[u8]> = argv[args.fields_at..].iter().map(|b| &b[..]).collect();
    let outcome = write_stream(ctx, key, !args.nomkstream, |s| {
        let mut meta = s.meta();
        if meta.last_id == StreamId::MAX {
            return Added::Exhausted;
        }
        let id = match args.id {
            Some((id, true)) => id,
            Some((id, false)) => {
                if meta.last_id.ms == id.ms {
                    match meta.last_id.seq.checked_add(1) {
                        Some(seq) => StreamId::new(id.ms, seq),
                        // Redis' wording for an exhausted `ms-*` sequence.
                        None => return Added::TooLarge,
                    }
                } else {
                    id
                }
            }
            None => {
                if now > meta.last_id.ms {
                    StreamId::new(now, 0)
                } else {
                    match meta.last_id.next() {
                        Some(n) => n,
                        None => return Added::Exhausted,
                    }
                }
            }
        };
        if id <= meta.last_id {
            return Added::TooSmall;
        }
        s.append(id, &fields, limits);
        meta.last_id = id;
        meta.entries_added += 1;
        s.set_meta(&meta);
        let trimmed = trim(s, &args.trim) > 0;
        Added::Id(id, trimmed)
    })?;
    match outcome {
        None => Ok(Frame::Null),
        Some(Added::Exhausted) => Err(CmdError::err(
            "The stream has exhausted the last possible ID, unable to add more items",
        )),
        Some(Added::TooLarge) => Err(CmdError::err("Elements are too large to be stored")),
        Some(Added::TooSmall) => Err(CmdError::err(
            "The ID specified in XADD is equal or smaller than the target stream top item",
        )),
        Some(Added::Id(id, trimmed)) => {
            ctx.notify_new(created, key);
            ctx.notify(notify::STREAM, "xadd", key);
            if trimmed {
                ctx.notify(notify::STREAM, "xtrim", key);
            }
            Ok(id_frame(id))
        }
    }
}

fn xtrim(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let node_max = node_limits(ctx).max_entries;
    let key = &argv[1];
    // A missing key answers 0 before the options are even parsed, as Redis.
    let exists = write_stream(ctx, key, false, |_| ())?.is_some();
    if !exists {
        return Ok(Frame::Integer(0));
    }
    let args = parse_add_or_trim(argv, false, node_max)?;
    let deleted = write_stream(ctx, key, false, |s| trim(s, &args.trim))?.unwrap_or(0);
    if deleted > 0 {
        ctx.notify(notify::STREAM, "xtrim", key);
    }
    Ok(int(deleted))
}

// ---------------------------------------------------------------------------
// XLEN, XRANGE, XREVRANGE, XDEL, XSETID
// ---------------------------------------------------------------------------

fn xlen(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let len = read_stream(ctx, &argv[1], |s| s.len())?;
    Ok(int(len.unwrap_or(0)))
}

fn xrange(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    range_command(ctx, argv, false)
}

fn xrevrange(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    range_command(ctx, argv, true)
}

/// Redis' `xrangeGenericCommand`.
fn range_command(ctx: &mut Ctx<'_>, argv: &[Bytes], rev: bool) -> CmdResult {
    let (start_arg, end_arg) = if rev {
        (&argv[3], &argv[2])
    } else {
        (&argv[2], &argv[3])
    };
    let start = interval_start(start_arg)?;
    let end = interval_end(end_arg)?;
    let mut count: Option<usize> = None;
    let mut j = 4;
    while j < argv.len() {
        if is(&argv[j], "count") && j + 1 < argv.len() {
            let n = parse_i64(&argv[j + 1]).ok_or_else(CmdError::not_integer)?;
            count = Some(n.max(0) as usize);
            j += 2;
        } else {
            return Err(CmdError::syntax());
        }
    }
    if count == Some(0) {
        return Ok(Frame::NullArray);
    }
    let count = count.unwrap_or(0);
    let out = read_stream(ctx, &argv[1], |s| range_frames(s, start, end, rev, count))?;
    Ok(Frame::Array(out.unwrap_or_default()))
}

fn xdel(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let key = &argv[1];
    let exists = write_stream(ctx, key, false, |_| ())?.is_some();
    if !exists {
        return Ok(Frame::Integer(0));
    }
    let ids = argv[2..]
        .iter()
        .map(|a| parse_strict_id(a))
        .collect::<Result<Vec<_>, _>>()?;
    let deleted = write_stream(ctx, key, false, |s| {
        let mut meta = s.meta();
        let mut deleted = 0u64;
        for id in ids {
            if s.remove(id, true) {
                meta.max_deleted = meta.max_deleted.max(id);
                deleted += 1;
            }
        }
        if deleted > 0 {
            s.set_meta(&meta);
        }
        deleted
    })?
    .unwrap_or(0);
    if deleted > 0 {
        ctx.notify(notify::STREAM, "xdel", key);
    }
    Ok(int(deleted))
}

fn xsetid(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let id = parse_strict_id(&argv[2])?;
    let mut entries_added: Option<u64> = None;
    let mut max_deleted: Option<StreamId> = None;
    let mut i = 3;
    while i < argv.len() {
        let more = argv.len() - 1 - i;
        if is(&argv[i], "entriesadded") && more > 0 {
            let n = parse_i64(&argv[i + 1]).ok_or_else(CmdError::not_integer)?;
            if n < 0 {
                return Err(CmdError::err("entries_added must be positive"));
            }
            entries_added = Some(n as u64);
            i += 2;
        } else if is(&argv[i], "maxdeletedid") && more > 0 {
            let m = parse_strict_id(&argv[i + 1])?;
            if id < m {
                return Err(CmdError::err(
                    "The ID specified in XSETID is smaller than the provided max_deleted_entry_id",
                ));
            }
            max_deleted = Some(m);
            i += 2;
        } else {
            return Err(CmdError::syntax());
        }
    }
    let key = &argv[1];
    let r = write_stream(ctx, key, false, |s| {
        // Redis 7.0 does not compare with the current max deleted ID.
        let mut meta = s.meta();
        if !s.is_empty() {
            let top = last_entry_id(s).unwrap_or(StreamId::MIN);
            if id < top {
                return Err(CmdError::err(
                    "The ID specified in XSETID is smaller than the target stream top item",
                ));
            }
            if entries_added.is_some_and(|n| s.len() > n) {
                return Err(CmdError::err(
                    "The entries_added specified in XSETID is smaller than the target stream length",
                ));
            }
        }
        meta.last_id = id;
        if let Some(n) = entries_added {
            meta.entries_added = n;
        }
        if let Some(m) = max_deleted.filter(|m| *m != StreamId::MIN) {
            meta.max_deleted = m;
        }
        s.set_meta(&meta);
        Ok(())
    })?;
    match r {
        None => Err(no_such_key()),
        Some(Err(e)) => Err(e),
        Some(Ok(())) => {
            ctx.notify(notify::STREAM, "xsetid", key);
            Ok(Frame::ok())
        }
    }
}

// ---------------------------------------------------------------------------
// XREAD, XREADGROUP
// ---------------------------------------------------------------------------

/// Parsed XREAD / XREADGROUP arguments.
struct ReadArgs<'a> {
    block: Option<Option<UnixMillis>>,
    count: usize,
    noack: bool,
    group: Option<(&'a Bytes, &'a Bytes)>,
    keys: &'a [Bytes],
    ids: &'a [Bytes],
    /// Index of the first ID in argv.
    ids_at: usize,
}

/// Redis' `getTimeoutFromObjectOrReply` in milliseconds.
fn parse_block(arg: &[u8], now: UnixMillis) -> Result<Option<UnixMillis>, CmdError> {
    let ms =
        parse_i64(arg).ok_or_else(|| CmdError::err("timeout is not an integer or out of range"))?;
    if ms < 0 {
        return Err(CmdError::err("timeout is negative"));
    }
    if ms == 0 {
        return Ok(None);
    }
    if ms > i64::MAX - now as i64 {
        return Err(CmdError::err("timeout is out of range"));
    }
    Ok(Some(now + ms as u64))
}

fn parse_read(argv: &[Bytes], group_cmd: bool, now: UnixMillis) -> Result<ReadArgs<'_>, CmdError> {
    let mut out = ReadArgs {
        block: None,
        count: 0,
        noack: false,
        group: None,
        keys: &[],
        ids: &[],
        ids_at: 0,
    };
    let mut streams_at = None;
    let mut i = 1;
    while i < argv.len() {
        let more = argv.len() - 1 - i;
        let o = &argv[i];
        if is(o, "block") && more > 0 {
            out.block = Some(parse_block(&argv[i + 1], now)?);
            i += 2;
        } else if is(o, "count") && more > 0 {
            let n = parse_i64(&argv[i + 1]).ok_or_else(CmdError::not_integer)?;
            out.count = n.max(0) as usize;
            i += 2;
        } else if is(o, "streams") && more > 0 {
            let n = argv.len() - (i + 1);
            if !n.is_multiple_of(2) {
                let symbol = if group_cmd { '>' } else { '$' };
                return Err(CmdError::err(format!(
                    "Unbalanced {} list of streams: for each stream key an ID or '{symbol}' must be specified.",
                    String::from_utf8_lossy(&argv[0])
                )));
            }
            streams_at = Some(i + 1);
            break;
        } else if is(o, "group") && more >= 2 {
            if !group_cmd {
                return Err(CmdError::err(
                    "The GROUP option is only supported by XREADGROUP. You called XREAD instead.",
                ));
            }
            out.group = Some((&argv[i + 1], &argv[i + 2]));
            i += 3;
        } else if is(o, "noack") {
            if !group_cmd {
                return Err(CmdError::err(
                    "The NOACK option is only supported by XREADGROUP. You called XREAD instead.",
                ));
            }
            out.noack = true;
            i += 1;
        } else {
            return Err(CmdError::syntax());
        }
    }
    let Some(at) = streams_at else {
        return Err(CmdError::syntax());
    };
    if group_cmd && out.group.is_none() {
        return Err(CmdError::err("Missing GROUP option for XREADGROUP"));
    }
    let n = (argv.len() - at) / 2;
    out.keys = &argv[at..at + n];
    out.ids = &argv[at + n..];
    out.ids_at = at + n;
    Ok(out)
}

fn xread(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let now = ctx.txn.now_ms();
    let args = parse_read(argv, false, now)?;
    // Resolve every ID first (type errors and bad IDs in argument order).
    let mut ids = Vec::with_capacity(args.keys.len());
    for (key, raw) in args.keys.iter().zip(args.ids) {
        let last = read_stream(ctx, key, |s| s.meta().last_id)?;
        let id = if &raw[..] == b"$" {
            last.unwrap_or(StreamId::MIN)
        } else if &raw[..] == b">" {
            return Err(CmdError::err(
                "The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.",
            ));
        } else {
            parse_strict_id(raw)?
        };
        ids.push(id);
    }
    let count = args.count;
    let mut replies = Vec::new();
    for (key, &after) in args.keys.iter().zip(&ids) {
        let entries = read_stream(ctx, key, |s| {
            let Some(start) = after.next() else {
                return Vec::new();
            };
            range_frames(s, start, StreamId::MAX, false, count)
        })?;
        if let Some(entries) = entries.filter(|e| !e.is_empty()) {
            replies.push((Frame::Bulk(key.clone()), Frame::Array(entries)));
        }
    }
    if !replies.is_empty() {
        return Ok(read_reply(ctx, replies));
    }
    let Some(deadline) = args.block else {
        return Ok(Frame::NullArray);
    };
    // Block with `$` resolved now: re-runs must wait for entries after it.
    let mut blocked_argv = argv.to_vec();
    for (i, id) in ids.iter().enumerate() {
        blocked_argv[args.ids_at + i] = Bytes::from(id.to_string());
    }
    let blocked_argv = with_blocked_count(blocked_argv, args.count);
    let request = BlockRequest {
        keys: args.keys.to_vec(),
        deadline,
        timeout_reply: Frame::NullArray,
        shared: true,
    };
    Ok(block(ctx, &blocked_argv, request))
}

/// XREAD's reply: a map of key to entries in RESP3, pairs in RESP2.
fn read_reply(ctx: &Ctx<'_>, replies: Vec<(Frame, Frame)>) -> Frame {
    if ctx.session.resp == ferrokv_protocol::RespVersion::Resp3 {
        Frame::Map(replies)
    } else {
        Frame::Array(
            replies
                .into_iter()
                .map(|(k, v)| Frame::Array(vec![k, v]))
                .collect(),
        )
    }
}

/// One stream's part of an XREADGROUP.
enum GroupRead {
    /// Entries served (possibly none for a history read), and whether the
    /// consumer was created.
    Served(Vec<Frame>, bool),
    /// Nothing new for `>` (the consumer is then neither created nor seen).
    Nothing,
}

fn xreadgroup(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let now = ctx.txn.now_ms();
    let args = parse_read(argv, true, now)?;
    let Some((group, consumer)) = args.group else {
        return Err(CmdError::err("Missing GROUP option for XREADGROUP"));
    };
    // Check keys, groups and IDs in argument order before serving anything.
    let mut ids: Vec<Option<StreamId>> = Vec::with_capacity(args.keys.len());
    for (key, raw) in args.keys.iter().zip(args.ids) {
        let found = read_stream(ctx, key, |s| s.groups().group(group).is_some());
        if ctx.session.serving {
            // Re-run for a blocked client: a stream or group gone meanwhile ends the
            // wait with Redis 7.0's errors.
            match found {
                Ok(Some(false)) => {
                    return Err(CmdError(
                        "NOGROUP the consumer group this client was blocked on no longer exists"
                            .into(),
                    ))
                }
                Ok(None) => {
                    return Err(CmdError("UNBLOCKED the stream key no longer exists".into()))
                }
                Err(e) if e == CmdError::wrong_type() => {
                    return Err(CmdError("UNBLOCKED the stream key no longer exists".into()))
                }
                _ => {}
            }
        }
        let exists = found?;
        if exists != Some(true) {
            return Err(CmdError(format!(
                "NOGROUP No such key '{}' or consumer group '{}' in XREADGROUP with GROUP option",
                String::from_utf8_lossy(key),
                String::from_utf8_lossy(group)
            )));
        }
        if &raw[..] == b"$" {
            return Err(CmdError::err(
                "The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.",
            ));
        }
        ids.push(if &raw[..] == b">" {
            None
        } else {
            Some(parse_strict_id(raw)?)
        });
    }
    let count = args.count;
    let mut replies = Vec::new();
    for (key, id) in args.keys.iter().zip(&ids) {
        let outcome = write_stream(ctx, key, false, |s| {
            read_group(s, group, consumer, *id, count, args.noack, now)
        })?;
        let created = match outcome {
            Some(GroupRead::Served(entries, created)) => {
                replies.push((Frame::Bulk(key.clone()), Frame::Array(entries)));
                created
            }
            Some(GroupRead::Nothing) | None => false,
        };
        if created {
            ctx.notify(notify::STREAM, "xgroup-createconsumer", key);
        }
    }
    if !replies.is_empty() {
        return Ok(read_reply(ctx, replies));
    }
    let Some(deadline) = args.block else {
        return Ok(Frame::NullArray);
    };
    let request = BlockRequest {
        keys: args.keys.to_vec(),
        deadline,
        timeout_reply: Frame::NullArray,
        shared: true,
    };
    let blocked_argv = with_blocked_count(argv.to_vec(), args.count);
    Ok(block(ctx, &blocked_argv, request))
}

/// The command a blocked read re-runs: without COUNT it is served at most
/// [`BLOCKED_DEFAULT_COUNT`] entries per stream, as Redis' `xread_count`.
fn with_blocked_count(mut argv: Vec<Bytes>, count: usize) -> Vec<Bytes> {
    if count == 0 {
        argv.insert(1, Bytes::from_static(b"COUNT"));
        argv.insert(2, Bytes::from(BLOCKED_DEFAULT_COUNT.to_string()));
    }
    argv
}

/// Serves one stream of an XREADGROUP (Redis' `streamReplyWithRange` with a group,
/// or `streamReplyWithRangeFromConsumerPEL` for a history read).
fn read_group(
    s: &mut dyn StreamOps,
    group: &[u8],
    consumer: &[u8],
    id: Option<StreamId>,
    count: usize,
    noack: bool,
    now: UnixMillis,
) -> GroupRead {
    let Some(mut info) = s.groups().group(group) else {
        return GroupRead::Nothing;
    };
    // `>` serves only when the stream has entries after the group's last ID.
    let start = match id {
        Some(after) => after.next(),
        None => match last_entry_id(s) {
            Some(top) if top > info.last_id => info.last_id.next(),
            _ => return GroupRead::Nothing,
        },
    };
    // The consumer is created (and seen) only when served, as Redis 7.0.
    let existing = s.groups().consumer(group, consumer);
    let created = existing.is_none();
    let active = existing.and_then(|c| c.active_time);
    s.groups().set_consumer(group, consumer, now, active);
    let Some(start) = start else {
        return GroupRead::Served(Vec::new(), created);
    };
    if id.is_some() {
        // History: the consumer's own pending entries from `start`.
        let mut out = Vec::new();
        let mut pending = Vec::new();
        s.groups().pending_range(
            group,
            Some(consumer),
            start,
            StreamId::MAX,
            false,
            &mut |id, e| {
                pending.push((id, e.clone()));
                count == 0 || pending.len() < count
            },
        );
        for (id, mut e) in pending {
            match entry(s, id) {
                Some(frame) => {
                    out.push(frame);
                    e.delivery_time = now;
                    e.delivery_count += 1;
                    s.groups().set_pending(group, id, &e);
                }
                None => out.push(Frame::Array(vec![id_frame(id), Frame::NullArray])),
            }
        }
        return GroupRead::Served(out, created);
    }
    let mut batch: Vec<(StreamId, Vec<Bytes>)> = Vec::new();
    s.range(start, StreamId::MAX, false, &mut |id, fields| {
        batch.push((id, fields.to_vec()));
        count == 0 || batch.len() < count
    });
    let mut pos = Position::of(s);
    let mut out = Vec::with_capacity(batch.len());
    for (id, fields) in batch {
        if id > info.last_id {
            info.entries_read = match info.entries_read {
                Some(n) if !pos.has_tombstones_after(s, id) => Some(n + 1),
                _ if pos.meta.entries_added > 0 => pos.estimate_distance(s, id),
                other => other,
            };
            info.last_id = id;
        }
        out.push(entry_frame(id, &fields));
        if !noack {
            let e = PendingEntry {
                consumer: Bytes::copy_from_slice(consumer),
                delivery_time: now,
                delivery_count: 1,
            };
            s.groups().set_pending(group, id, &e);
        }
    }
    s.groups().set_group(group, info.last_id, info.entries_read);
    GroupRead::Served(out, created)
}

// ---------------------------------------------------------------------------
// XGROUP
// ---------------------------------------------------------------------------

fn xgroup_help(_ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    Ok(help_reply(
        &argv[0],
        &[
            "CREATE <key> <groupname> <id|$> [option]",
            "    Create a new consumer group. Options are:",
            "    * MKSTREAM",
            "      Create the empty stream if it does not exist.",
            "    * ENTRIESREAD entries_read",
            "      Set the group's entries_read counter (internal use).",
            "CREATECONSUMER <key> <groupname> <consumer>",
            "    Create a new consumer in the specified group.",
            "DELCONSUMER <key> <groupname> <consumer>",
            "    Remove the specified consumer.",
            "DESTROY <key> <groupname>",
            "    Remove the specified group.",
            "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
            "    Set the current group ID and entries_read counter.",
        ],
    ))
}

fn xinfo_help(_ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    Ok(help_reply(
        &argv[0],
        &[
            "CONSUMERS <key> <groupname>",
            "    Show consumers of <groupname>.",
            "GROUPS <key>",
            "    Show the stream consumer groups.",
            "STREAM <key> [FULL [COUNT <count>]",
            "    Show information about the stream.",
        ],
    ))
}

/// Redis' `addReplySubcommandSyntaxError`.
fn subcommand_syntax(argv: &[Bytes]) -> CmdError {
    CmdError::err(format!(
        "unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
        String::from_utf8_lossy(&argv[1]),
        String::from_utf8_lossy(&argv[0]).to_ascii_uppercase()
    ))
}

fn parse_entries_read(arg: &[u8]) -> Result<Option<u64>, CmdError> {
    let n = parse_i64(arg).ok_or_else(CmdError::not_integer)?;
    if n < -1 {
        return Err(CmdError::err(
            "value for ENTRIESREAD must be positive or -1",
        ));
    }
    Ok(u64::try_from(n).ok())
}

/// The common prologue of XGROUP subcommands: the key must exist (unless
/// `MKSTREAM`) and be a stream; returns whether it exists.
fn xgroup_key(ctx: &mut Ctx<'_>, key: &[u8], mkstream: bool) -> Result<bool, CmdError> {
    let exists = write_stream(ctx, key, false, |_| ())?.is_some();
    if !exists && !mkstream {
        return Err(CmdError::err(
            "The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.",
        ));
    }
    Ok(exists)
}

/// Checks that the group exists (SETID, CREATECONSUMER, DELCONSUMER).
fn require_group(ctx: &mut Ctx<'_>, key: &[u8], group: &[u8]) -> Result<(), CmdError> {
    xgroup_key(ctx, key, false)?;
    let found = write_stream(ctx, key, false, |s| s.groups().group(group).is_some())?;
    if found != Some(true) {
        return Err(nogroup_for_key(key, group));
    }
    Ok(())
}

fn xgroup_create(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let (key, group) = (&argv[2], &argv[3]);
    let mut mkstream = false;
    let mut entries_read = None;
    let mut i = 5;
    while i < argv.len() {
        if is(&argv[i], "mkstream") {
            mkstream = true;
            i += 1;
        } else if is(&argv[i], "entriesread") && i + 1 < argv.len() {
            entries_read = parse_entries_read(&argv[i + 1])?;
            i += 2;
        } else {
            return Err(subcommand_syntax(argv));
        }
    }
    if argv.len() > 8 {
        return Err(subcommand_syntax(argv));
    }
    let exists = xgroup_key(ctx, key, mkstream)?;
    let id = if &argv[4][..] == b"$" {
        None
    } else {
        Some(parse_strict_id(&argv[4])?)
    };
    let created = write_stream(ctx, key, true, |s| {
        if s.groups().group(group).is_some() {
            return false;
        }
        let id = id.unwrap_or_else(|| s.meta().last_id);
        s.groups().set_group(group, id, entries_read);
        true
    })?
    .unwrap_or(false);
    if !exists {
        ctx.notify_new(ctx.notifying(notify::NEW), key);
    }
    if !created {
        return Err(CmdError(
            "BUSYGROUP Consumer Group name already exists".into(),
        ));
    }
    ctx.notify(notify::STREAM, "xgroup-create", key);
    Ok(Frame::ok())
}

fn xgroup_setid(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let (key, group) = (&argv[2], &argv[3]);
    require_group(ctx, key, group)?;
    if argv.len() != 5 && argv.len() != 7 {
        return Err(subcommand_syntax(argv));
    }
    let id = if &argv[4][..] == b"$" {
        None
    } else {
        Some(parse_interval(&argv[4], 0)?.0)
    };
    let mut entries_read = None;
    if argv.len() == 7 {
        if !is(&argv[5], "entriesread") {
            return Err(subcommand_syntax(argv));
        }
        entries_read = parse_entries_read(&argv[6])?;
    }
    write_stream(ctx, key, false, |s| {
        let id = id.unwrap_or_else(|| s.meta().last_id);
        s.groups().set_group(group, id, entries_read);
    })?;
    ctx.notify(notify::STREAM, "xgroup-setid", key);
    Ok(Frame::ok())
}

fn xgroup_destroy(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let (key, group) = (&argv[2], &argv[3]);
    xgroup_key(ctx, key, false)?;
    let removed =
        write_stream(ctx, key, false, |s| s.groups().remove_group(group))?.unwrap_or(false);
    if removed {
        ctx.notify(notify::STREAM, "xgroup-destroy", key);
    }
    Ok(Frame::Integer(i64::from(removed)))
}

fn xgroup_createconsumer(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let (key, group, consumer) = (&argv[2], &argv[3], &argv[4]);
    require_group(ctx, key, group)?;
    let now = ctx.txn.now_ms();
    let created = write_stream(ctx, key, false, |s| {
        if s.groups().consumer(group, consumer).is_some() {
            return false;
        }
        s.groups().set_consumer(group, consumer, now, None);
        true
    })?
    .unwrap_or(false);
    if created {
        ctx.notify(notify::STREAM, "xgroup-createconsumer", key);
    }
    Ok(Frame::Integer(i64::from(created)))
}

fn xgroup_delconsumer(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let (key, group, consumer) = (&argv[2], &argv[3], &argv[4]);
    require_group(ctx, key, group)?;
    let pending = write_stream(ctx, key, false, |s| {
        let c = s.groups().consumer(group, consumer)?;
        s.groups().remove_consumer(group, consumer);
        Some(c.pending)
    })?
    .flatten();
    match pending {
        Some(n) => {
            ctx.notify(notify::STREAM, "xgroup-delconsumer", key);
            Ok(int(n))
        }
        None => Ok(Frame::Integer(0)),
    }
}

// ---------------------------------------------------------------------------
// XACK, XPENDING, XCLAIM, XAUTOCLAIM
// ---------------------------------------------------------------------------

fn xack(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let (key, group) = (&argv[1], &argv[2]);
    let has_group = read_stream(ctx, key, |s| s.groups().group(group).is_some())?;
    if has_group != Some(true) {
        return Ok(Frame::Integer(0));
    }
    let ids = argv[3..]
        .iter()
        .map(|a| parse_strict_id(a))
        .collect::<Result<Vec<_>, _>>()?;
    let acked = write_stream(ctx, key, false, |s| {
        ids.iter()
            .filter(|id| s.groups().remove_pending(group, **id))
            .count()
    })?
    .unwrap_or(0);
    Ok(Frame::Integer(acked as i64))
}

fn xpending(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let (key, group) = (&argv[1], &argv[2]);
    let summary = argv.len() == 3;
    if argv.len() != 3 && (argv.len() < 6 || argv.len() > 9) {
        return Err(CmdError::syntax());
    }
    let mut min_idle = 0i64;
    let (mut start, mut end, mut count) = (StreamId::MIN, StreamId::MAX, 0usize);
    let mut consumer = None;
    if !summary {
        let mut at = 3;
        if is(&argv[3], "idle") {
            min_idle = parse_i64(&argv[4]).ok_or_else(CmdError::not_integer)?;
            if argv.len() < 8 {
                return Err(CmdError::syntax());
            }
            at += 2;
        }
        let n = parse_i64(&argv[at + 2]).ok_or_else(CmdError::not_integer)?;
        count = n.max(0) as usize;
        start = interval_start(&argv[at])?;
        end = interval_end(&argv[at + 1])?;
        consumer = argv.get(at + 3);
    }
    let now = ctx.txn.now_ms();
    let reply = read_stream(ctx, key, |s| {
        s.groups().group(group)?;
        Some(if summary {
            pending_summary(s, group)
        } else {
            pending_list(
                s,
                group,
                consumer.map(|c| &c[..]),
                start,
                end,
                count,
                min_idle,
                now,
            )
        })
    })?
    .flatten();
    reply.ok_or_else(|| nogroup_key(key, group))
}

fn pending_summary(s: &mut dyn StreamOps, group: &[u8]) -> Frame {
    let info = s.groups().group(group).unwrap_or_default();
    if info.pending == 0 {
        return Frame::Array(vec![
            Frame::Integer(0),
            Frame::Null,
            Frame::Null,
            Frame::NullArray,
        ]);
    }
    let mut first = None;
    s.groups().pending_range(
        group,
        None,
        StreamId::MIN,
        StreamId::MAX,
        false,
        &mut |id, _| {
            first = Some(id);
            false
        },
    );
    let mut last = None;
    s.groups().pending_range(
        group,
        None,
        StreamId::MIN,
        StreamId::MAX,
        true,
        &mut |id, _| {
            last = Some(id);
            false
        },
    );
    let mut consumers = Vec::new();
    s.groups().for_each_consumer(group, &mut |name, c| {
        if c.pending > 0 {
            consumers.push(Frame::Array(vec![
                Frame::Bulk(Bytes::copy_from_slice(name)),
                Frame::Bulk(Bytes::from(c.pending.to_string())),
            ]));
        }
        true
    });
    Frame::Array(vec![
        int(info.pending),
        first.map_or(Frame::Null, id_frame),
        last.map_or(Frame::Null, id_frame),
        Frame::Array(consumers),
    ])
}

#[allow(clippy::too_many_arguments)]
fn pending_list(
    s: &mut dyn StreamOps,
    group: &[u8],
    consumer: Option<&[u8]>,
    start: StreamId,
    end: StreamId,
    count: usize,
    min_idle: i64,
    now: UnixMillis,
) -> Frame {
    let mut out = Vec::new();
    if let Some(c) = consumer {
        if s.groups().consumer(group, c).is_none() {
            return Frame::Array(out);
        }
    }
    if count == 0 {
        return Frame::Array(out);
    }
    s.groups()
        .pending_range(group, consumer, start, end, false, &mut |id, e| {
            let idle = now as i64 - e.delivery_time as i64;
            if min_idle != 0 && idle < min_idle {
                return true;
            }
            out.push(Frame::Array(vec![
                id_frame(id),
                Frame::Bulk(e.consumer.clone()),
                Frame::Integer(idle.max(0)),
                int(e.delivery_count),
            ]));
            out.len() < count
        });
    Frame::Array(out)
}

/// XCLAIM's options after the IDs.
struct ClaimArgs {
    ids: Vec<StreamId>,
    delivery_time: Option<i64>,
    retry_count: Option<i64>,
    force: bool,
    justid: bool,
    last_id: StreamId,
}

fn parse_claim(argv: &[Bytes], now: UnixMillis) -> Result<ClaimArgs, CmdError> {
    let mut j = 5;
    let mut ids = Vec::new();
    while j < argv.len() {
        match parse_strict_id(&argv[j]) {
            Ok(id) => ids.push(id),
            Err(_) => break,
        }
        j += 1;
    }
    let mut out = ClaimArgs {
        ids,
        delivery_time: None,
        retry_count: None,
        force: false,
        justid: false,
        last_id: StreamId::MIN,
    };
    let opt_int = |arg: &[u8], what: &str| {
        parse_i64(arg)
            .ok_or_else(|| CmdError::err(format!("Invalid {what} option argument for XCLAIM")))
    };
    while j < argv.len() {
        let more = argv.len() - 1 - j;
        let o = &argv[j];
        if is(o, "force") {
            out.force = true;
        } else if is(o, "justid") {
            out.justid = true;
        } else if is(o, "idle") && more > 0 {
            j += 1;
            let idle = opt_int(&argv[j], "IDLE")?;
            // A bogus result is replaced by now, as Redis does.
            out.delivery_time = Some((now as i64).checked_sub(idle).unwrap_or(-1));
        } else if is(o, "time") && more > 0 {
            j += 1;
            out.delivery_time = Some(opt_int(&argv[j], "TIME")?);
        } else if is(o, "retrycount") && more > 0 {
            j += 1;
            out.retry_count = Some(opt_int(&argv[j], "RETRYCOUNT")?);
        } else if is(o, "lastid") && more > 0 {
            j += 1;
            out.last_id = parse_strict_id(&argv[j])?;
        } else {
            return Err(CmdError::err(format!(
                "Unrecognized XCLAIM option '{}'",
                String::from_utf8_lossy(o)
            )));
        }
        j += 1;
    }
    Ok(out)
}

/// Moves a pending entry to `consumer` (creating the consumer on first use), as
/// XCLAIM and XAUTOCLAIM do. Returns whether the consumer was created.
fn claim_one(
    s: &mut dyn StreamOps,
    group: &[u8],
    consumer: &[u8],
    have_consumer: &mut bool,
    id: StreamId,
    mut e: PendingEntry,
    now: UnixMillis,
) -> bool {
    let mut created = false;
    if !*have_consumer {
        let existing = s.groups().consumer(group, consumer);
        created = existing.is_none();
        let active = existing.and_then(|c| c.active_time);
        s.groups().set_consumer(group, consumer, now, active);
        *have_consumer = true;
    }
    e.consumer = Bytes::copy_from_slice(consumer);
    s.groups().set_pending(group, id, &e);
    created
}

fn xclaim(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let (key, group, consumer) = (&argv[1], &argv[2], &argv[3]);
    let has_group = read_stream(ctx, key, |s| s.groups().group(group).is_some())?;
    if has_group != Some(true) {
        return Err(nogroup_key(key, group));
    }
    let min_idle = parse_i64(&argv[4])
        .ok_or_else(|| CmdError::err("Invalid min-idle-time argument for XCLAIM"))?
        .max(0);
    let now = ctx.txn.now_ms();
    let args = parse_claim(argv, now)?;
    let delivery_time = match args.delivery_time {
        Some(t) if t >= 0 && t <= now as i64 => t as u64,
        _ => now,
    };
    let outcome = write_stream(ctx, key, false, |s| {
        let mut info = s.groups().group(group).unwrap_or_default();
        if args.last_id > info.last_id {
            info.last_id = args.last_id;
            s.groups().set_group(group, info.last_id, info.entries_read);
        }
        let mut out = Vec::new();
        let mut have_consumer = false;
        let mut created = false;
        for &id in &args.ids {
            let nack = s.groups().pending(group, id);
            let Some(fields) = entry(s, id) else {
                if nack.is_some() {
                    s.groups().remove_pending(group, id);
                }
                continue;
            };
            let (mut e, forced) = match nack {
                Some(e) => (e, false),
                None if args.force => (
                    PendingEntry {
                        consumer: Bytes::new(),
                        delivery_time: now,
                        delivery_count: 1,
                    },
                    true,
                ),
                None => continue,
            };
            if !forced && min_idle > 0 && (now as i64 - e.delivery_time as i64) < min_idle {
                continue;
            }
            e.delivery_time = delivery_time;
            if let Some(n) = args.retry_count.filter(|n| *n >= 0) {
                e.delivery_count = n as u64;
            } else if !args.justid {
                e.delivery_count += 1;
            }
            created |= claim_one(s, group, consumer, &mut have_consumer, id, e, now);
            out.push(if args.justid { id_frame(id) } else { fields });
        }
        (out, created)
    })?;
    let (out, created) = outcome.unwrap_or_default();
    if created {
        ctx.notify(notify::STREAM, "xgroup-createconsumer", key);
    }
    Ok(Frame::Array(out))
}

fn xautoclaim(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let (key, group, consumer) = (&argv[1], &argv[2], &argv[3]);
    let min_idle = parse_i64(&argv[4])
        .ok_or_else(|| CmdError::err("Invalid min-idle-time argument for XAUTOCLAIM"))?
        .max(0);
    let start = interval_start(&argv[5])?;
    let mut count: u64 = 100;
    let mut justid = false;
    let mut j = 6;
    while j < argv.len() {
        let more = argv.len() - 1 - j;
        if is(&argv[j], "count") && more > 0 {
            let max = (i64::MAX / 16) as u64;
            count = parse_i64(&argv[j + 1])
                .and_then(|n| u64::try_from(n).ok())
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| CmdError::err("COUNT must be > 0"))?;
            j += 2;
        } else if is(&argv[j], "justid") {
            justid = true;
            j += 1;
        } else {
            return Err(CmdError::syntax());
        }
    }
    let has_group = read_stream(ctx, key, |s| s.groups().group(group).is_some())?;
    if has_group != Some(true) {
        return Err(nogroup_key(key, group));
    }
    let now = ctx.txn.now_ms();
    let outcome = write_stream(ctx, key, false, |s| {
        let mut attempts = count.saturating_mul(10);
        let mut count = count;
        let mut cursor = Some(start);
        let mut out = Vec::new();
        let mut deleted = Vec::new();
        let mut have_consumer = false;
        let mut created = false;
        let next_pending = |s: &mut dyn StreamOps, from: Option<StreamId>| {
            let from = from?;
            let mut found = None;
            s.groups()
                .pending_range(group, None, from, StreamId::MAX, false, &mut |id, e| {
                    found = Some((id, e.clone()));
                    false
                });
            found
        };
        while attempts > 0 && count > 0 {
            attempts -= 1;
            let Some((id, mut e)) = next_pending(s, cursor) else {
                cursor = None;
                break;
            };
            cursor = id.next();
            let Some(fields) = entry(s, id) else {
                s.groups().remove_pending(group, id);
                deleted.push(id_frame(id));
                count -= 1;
                continue;
            };
            if min_idle > 0 && (now as i64 - e.delivery_time as i64) < min_idle {
                continue;
            }
            e.delivery_time = now;
            if !justid {
                e.delivery_count += 1;
            }
            created |= claim_one(s, group, consumer, &mut have_consumer, id, e, now);
            out.push(if justid { id_frame(id) } else { fields });
            count -= 1;
        }
        let next = next_pending(s, cursor).map_or(StreamId::MIN, |(id, _)| id);
        (next, out, deleted, created)
    })?;
    let Some((next, out, deleted, created)) = outcome else {
        return Err(nogroup_key(key, group));
    };
    if created {
        ctx.notify(notify::STREAM, "xgroup-createconsumer", key);
    }
    Ok(Frame::Array(vec![
        id_frame(next),
        Frame::Array(out),
        Frame::Array(deleted),
    ]))
}

// ---------------------------------------------------------------------------
// XINFO
// ---------------------------------------------------------------------------

fn xinfo_stream(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let key = &argv[2];
    let mut full = false;
    let mut count: usize = 10;
    if argv.len() > 3 {
        if !is(&argv[3], "full") {
            return Err(subcommand_syntax(argv));
        }
        full = true;
        if argv.len() > 4 {
            if argv.len() != 6 || !is(&argv[4], "count") {
                return Err(subcommand_syntax(argv));
            }
            let n = parse_i64(&argv[5]).ok_or_else(CmdError::not_integer)?;
            count = if n < 0 { 10 } else { n as usize };
        }
    }
    let reply = read_stream(ctx, key, |s| {
        if full {
            stream_info_full(s, count)
        } else {
            stream_info(s)
        }
    })?;
    reply.ok_or_else(no_such_key)
}

fn stream_head(s: &mut dyn StreamOps) -> Vec<(&'static str, Frame)> {
    let meta = s.meta();
    let nodes = s.nodes();
    let mut firsts = Vec::with_capacity(nodes.min(1 << 20) as usize);
    s.for_each_node(&mut |id| firsts.push(id));
    vec![
        ("length", int(s.len())),
        ("radix-tree-keys", int(nodes)),
        ("radix-tree-nodes", int(rax_nodes(&firsts))),
        ("last-generated-id", id_frame(meta.last_id)),
        ("max-deleted-entry-id", id_frame(meta.max_deleted)),
        ("entries-added", int(meta.entries_added)),
        ("recorded-first-entry-id", id_frame(first_id(s))),
    ]
}

fn stream_info(s: &mut dyn StreamOps) -> Frame {
    let mut pairs = stream_head(s);
    let mut groups = 0u64;
    s.groups().for_each_group(&mut |_, _| {
        groups += 1;
        true
    });
    pairs.push(("groups", int(groups)));
    let first = range_frames(s, StreamId::MIN, StreamId::MAX, false, 1).pop();
    let last = range_frames(s, StreamId::MIN, StreamId::MAX, true, 1).pop();
    pairs.push(("first-entry", first.unwrap_or(Frame::Null)));
    pairs.push(("last-entry", last.unwrap_or(Frame::Null)));
    info_map(pairs)
}

fn stream_info_full(s: &mut dyn StreamOps, count: usize) -> Frame {
    let mut pairs = stream_head(s);
    let mut pos = Position::of(s);
    pairs.push((
        "entries",
        Frame::Array(range_frames(s, StreamId::MIN, StreamId::MAX, false, count)),
    ));
    let mut names = Vec::new();
    s.groups().for_each_group(&mut |name, info| {
        names.push((Bytes::copy_from_slice(name), *info));
        true
    });
    let mut groups = Vec::with_capacity(names.len());
    for (name, info) in names {
        let lag = pos.lag(s, info.last_id, info.entries_read);
        let mut pel = Vec::new();
        s.groups().pending_range(
            &name,
            None,
            StreamId::MIN,
            StreamId::MAX,
            false,
            &mut |id, e| {
                pel.push(Frame::Array(vec![
                    id_frame(id),
                    Frame::Bulk(e.consumer.clone()),
                    int(e.delivery_time),
                    int(e.delivery_count),
                ]));
                count == 0 || pel.len() < count
            },
        );
        let mut consumer_list = Vec::new();
        s.groups().for_each_consumer(&name, &mut |cname, c| {
            consumer_list.push((Bytes::copy_from_slice(cname), *c));
            true
        });
        let mut consumers = Vec::with_capacity(consumer_list.len());
        for (cname, c) in consumer_list {
            let mut cpel = Vec::new();
            s.groups().pending_range(
                &name,
                Some(&cname),
                StreamId::MIN,
                StreamId::MAX,
                false,
                &mut |id, e| {
                    cpel.push(Frame::Array(vec![
                        id_frame(id),
                        int(e.delivery_time),
                        int(e.delivery_count),
                    ]));
                    count == 0 || cpel.len() < count
                },
            );
            consumers.push(info_map(vec![
                ("name", Frame::Bulk(cname)),
                ("seen-time", int(c.seen_time)),
                ("pel-count", int(c.pending)),
                ("pending", Frame::Array(cpel)),
            ]));
        }
        groups.push(info_map(vec![
            ("name", Frame::Bulk(name)),
            ("last-delivered-id", id_frame(info.last_id)),
            ("entries-read", opt_int(info.entries_read.map(|n| n as i64))),
            ("lag", opt_int(lag)),
            ("pel-count", int(info.pending)),
            ("pending", Frame::Array(pel)),
            ("consumers", Frame::Array(consumers)),
        ]));
    }
    pairs.push(("groups", Frame::Array(groups)));
    info_map(pairs)
}

fn xinfo_groups(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let key = &argv[2];
    let reply = read_stream(ctx, key, |s| {
        let mut pos = Position::of(s);
        let mut names = Vec::new();
        s.groups().for_each_group(&mut |name, info| {
            names.push((Bytes::copy_from_slice(name), *info));
            true
        });
        let mut out = Vec::with_capacity(names.len());
        for (name, info) in names {
            let lag = pos.lag(s, info.last_id, info.entries_read);
            out.push(info_map(vec![
                ("name", Frame::Bulk(name)),
                ("consumers", int(info.consumers)),
                ("pending", int(info.pending)),
                ("last-delivered-id", id_frame(info.last_id)),
                ("entries-read", opt_int(info.entries_read.map(|n| n as i64))),
                ("lag", opt_int(lag)),
            ]));
        }
        Frame::Array(out)
    })?;
    reply.ok_or_else(no_such_key)
}

fn xinfo_consumers(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let (key, group) = (&argv[2], &argv[3]);
    let now = ctx.txn.now_ms();
    let reply = read_stream(ctx, key, |s| {
        s.groups().group(group)?;
        let mut out = Vec::new();
        s.groups().for_each_consumer(group, &mut |name, c| {
            let idle = (now as i64 - c.seen_time as i64).max(0);
            out.push(info_map(vec![
                ("name", Frame::Bulk(Bytes::copy_from_slice(name))),
                ("pending", int(c.pending)),
                ("idle", Frame::Integer(idle)),
            ]));
            true
        });
        Some(Frame::Array(out))
    })?;
    match reply {
        None => Err(no_such_key()),
        Some(None) => Err(nogroup_for_key(key, group)),
        Some(Some(f)) => Ok(f),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_as_redis() {
        let p = |s: &str| parse_id_full(s.as_bytes(), 0, false, false).map(|(id, _)| id);
        assert_eq!(p("5").unwrap(), StreamId::new(5, 0));
        assert_eq!(p("5-3").unwrap(), StreamId::new(5, 3));
        assert_eq!(p("-").unwrap(), StreamId::MIN);
        assert_eq!(p("+").unwrap(), StreamId::MAX);
        assert_eq!(p("007-1").unwrap(), StreamId::new(7, 1));
        assert_eq!(
            p("18446744073709551615-0").unwrap(),
            StreamId::new(u64::MAX, 0)
        );
        assert!(p("18446744073709551616").is_err());
        assert!(p("-5").is_err());
        assert!(p("a-1").is_err());
        assert!(p("1-").is_err());
        assert!(p("").is_err());
        assert!(parse_strict_id(b"-").is_err());
        assert_eq!(
            parse_id_full(b"5-*", 0, true, true).unwrap(),
            (StreamId::new(5, 0), false)
        );
        assert!(parse_id_full(b"5-*", 0, true, false).is_err());
    }
}
