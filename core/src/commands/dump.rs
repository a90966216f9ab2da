//! DUMP and RESTORE: a key's value as Redis' serialized payload (RDB value
//! encoding, 2-byte RDB version, CRC64), so values move between ferrokv and Redis.
//!
//! RESTORE accepts payloads up to RDB version 12 (Redis 7.4, whose hash field
//! expiry types ferrokv writes and reads); Redis 7.0 accepts only 10. IDLETIME and
//! FREQ are checked as Redis checks them, but ferrokv has no setter for a key's
//! LRU/LFU data, so a restored key starts fresh.

use bytes::Bytes;
use ferrokv_protocol::Frame;

use crate::command::{CmdError, CmdFlags, CmdResult, CommandSpec, Ctx, KeyPositions};
use crate::commands::args::is;
use crate::commands::keys::lookup_read;
use crate::notify;
use crate::persistence::write_options;
use crate::rdb::read::{payload_value, verify_payload};
use crate::rdb::store::{dump_key, store_value};
use crate::rdb::Value;
use crate::util::number::parse_i64;

/// DUMP / RESTORE specs.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "dump",
        arity: 2,
        flags: CmdFlags::READONLY,
        acl: &["keyspace"],
        keys: KeyPositions::FIRST,
        since: "2.6.0",
        summary: "Returns a serialized representation of the value stored at a key.",
        syntax: "key",
        handler: Some(dump),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "restore",
        arity: -4,
        flags: CmdFlags::WRITE.or(CmdFlags::DENYOOM),
        acl: &["keyspace", "dangerous"],
        keys: KeyPositions::FIRST,
        since: "2.6.0",
        summary: "Creates a key from the serialized representation of a value.",
        syntax: "key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]",
        handler: Some(restore),
        ..CommandSpec::DEFAULT
    },
];

fn dump(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let db = ctx.db();
    if lookup_read(ctx, db, &argv[1])?.is_none() {
        return Ok(Frame::Null);
    }
    let opts = write_options(&ctx.engine.config);
    Ok(match dump_key(ctx.txn, db, &argv[1], opts)? {
        Some(payload) => Frame::Bulk(Bytes::from(payload)),
        None => Frame::Null,
    })
}

/// RESTORE's options.
#[derive(Default)]
struct RestoreOptions {
    replace: bool,
    absttl: bool,
}

/// Parses the options after the payload as Redis' `restoreCommand` does: IDLETIME
/// and FREQ exclude each other, and each value is checked where it is met.
fn parse_options(args: &[Bytes]) -> Result<RestoreOptions, CmdError> {
    let mut o = RestoreOptions::default();
    let (mut idle, mut freq) = (false, false);
    let mut j = 0;
    while j < args.len() {
        let more = j + 1 < args.len();
        let arg = &args[j];
        if is(arg, "replace") {
            o.replace = true;
        } else if is(arg, "absttl") {
            o.absttl = true;
        } else if is(arg, "idletime") && more && !freq {
            let v = parse_i64(&args[j + 1]).ok_or_else(CmdError::not_integer)?;
            if v < 0 {
                return Err(CmdError::err("Invalid IDLETIME value, must be >= 0"));
            }
            idle = true;
            j += 1;
        } else if is(arg, "freq") && more && !idle {
            let v = parse_i64(&args[j + 1]).ok_or_else(CmdError::not_integer)?;
            if !(0..=255).contains(&v) {
                return Err(CmdError::err("Invalid FREQ value, must be >= 0 and <= 255"));
            }
            freq = true;
            j += 1;
        } else {
            return Err(CmdError::syntax());
        }
        j += 1;
    }
    Ok(o)
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::String(_) => false,
        Value::List(v) | Value::Set(v) => v.is_empty(),
        Value::ZSet(v) => v.is_empty(),
        Value::Hash(v) => v.is_empty(),
    }
}

fn restore(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let opts = parse_options(&argv[4..])?;
    let (db, key) = (ctx.db(), &argv[1]);
    if !opts.replace && ctx.txn.meta(db, key)?.is_some() {
        return Err(CmdError("BUSYKEY Target key name already exists.".into()));
    }
    let ttl = parse_i64(&argv[2]).ok_or_else(CmdError::not_integer)?;
    if ttl < 0 {
        return Err(CmdError::err("Invalid TTL value, must be >= 0"));
    }
    let body = verify_payload(&argv[3])
        .ok_or_else(|| CmdError::err("DUMP payload version or checksum are wrong"))?;
    let value = match payload_value(body) {
        Ok(v) if !is_empty(&v) => v,
        _ => return Err(CmdError::err("Bad data format")),
    };
    let deleted = opts.replace && ctx.txn.delete(db, key)?;
    let now = ctx.txn.now_ms();
    let expire_at = match ttl {
        0 => None,
        t if opts.absttl => Some(t as u64),
        t => Some(now.saturating_add(t as u64)),
    };
    if expire_at.is_some_and(|at| at <= now) {
        if deleted {
            ctx.notify(notify::GENERIC, "del", key);
        }
        return Ok(Frame::ok());
    }
    store_value(ctx.txn, db, key, &value, expire_at)?;
    ctx.notify(notify::GENERIC, "restore", key);
    Ok(Frame::ok())
}
