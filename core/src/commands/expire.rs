//! Expiry commands: EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT, TTL, PTTL, EXPIRETIME,
//! PEXPIRETIME and PERSIST. How expired keys disappear (lazily on access and by the
//! active cycle) is described in [`super::keys`].

use bytes::Bytes;
use ferrokv_protocol::Frame;

use crate::command::{CmdError, CmdFlags, CmdResult, CommandSpec, Ctx, KeyPositions};
use crate::commands::args::{int, is};
use crate::commands::keys::lookup_read;
use crate::engine::sanitize;
use crate::notify;
use crate::propagate::{arg, int_arg};

const KEYSPACE: &[&str] = &["keyspace"];
const WRITE_FAST: CmdFlags = CmdFlags::WRITE.or(CmdFlags::FAST);
const READ_FAST: CmdFlags = CmdFlags::READONLY.or(CmdFlags::FAST);

/// A spec for one of the four EXPIRE variants.
const fn setter(
    name: &'static str,
    since: &'static str,
    summary: &'static str,
    syntax: &'static str,
    handler: crate::command::Handler,
) -> CommandSpec {
    CommandSpec {
        name,
        arity: -3,
        flags: WRITE_FAST,
        acl: KEYSPACE,
        keys: KeyPositions::FIRST,
        since,
        summary,
        syntax,
        handler: Some(handler),
        ..CommandSpec::DEFAULT
    }
}

/// A spec for a single-key command that reads or clears the expiry.
const fn single(
    name: &'static str,
    flags: CmdFlags,
    since: &'static str,
    summary: &'static str,
    handler: crate::command::Handler,
) -> CommandSpec {
    CommandSpec {
        name,
        arity: 2,
        flags,
        acl: KEYSPACE,
        keys: KeyPositions::FIRST,
        since,
        summary,
        syntax: "key",
        handler: Some(handler),
        ..CommandSpec::DEFAULT
    }
}

/// Expiry command specs.
pub static COMMANDS: &[CommandSpec] = &[
    setter(
        "expire",
        "1.0.0",
        "Sets the expiration time of a key in seconds.",
        "key seconds [NX | XX | GT | LT]",
        expire,
    ),
    setter(
        "pexpire",
        "2.6.0",
        "Sets the expiration time of a key in milliseconds.",
        "key milliseconds [NX | XX | GT | LT]",
        pexpire,
    ),
    setter(
        "expireat",
        "1.2.0",
        "Sets the expiration time of a key to a Unix timestamp.",
        "key unix-time-seconds [NX | XX | GT | LT]",
        expireat,
    ),
    setter(
        "pexpireat",
        "2.6.0",
        "Sets the expiration time of a key to a Unix milliseconds timestamp.",
        "key unix-time-milliseconds [NX | XX | GT | LT]",
        pexpireat,
    ),
    single(
        "ttl",
        READ_FAST,
        "1.0.0",
        "Returns the expiration time in seconds of a key.",
        ttl,
    ),
    single(
        "pttl",
        READ_FAST,
        "2.6.0",
        "Returns the expiration time in milliseconds of a key.",
        pttl,
    ),
    single(
        "expiretime",
        READ_FAST,
        "7.0.0",
        "Returns the expiration time of a key as a Unix timestamp.",
        expiretime,
    ),
    single(
        "pexpiretime",
        READ_FAST,
        "7.0.0",
        "Returns the expiration time of a key as a Unix milliseconds timestamp.",
        pexpiretime,
    ),
    single(
        "persist",
        WRITE_FAST,
        "2.2.0",
        "Removes the expiration time of a key.",
        persist,
    ),
];

/// The unit of a command's time argument or reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Seconds,
    Millis,
}

/// Where the time argument counts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Base {
    /// Relative to the command's clock (EXPIRE, PEXPIRE).
    Now,
    /// An absolute Unix time (EXPIREAT, PEXPIREAT).
    Epoch,
}

fn expire(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    expire_generic(ctx, argv, Base::Now, Unit::Seconds)
}

fn pexpire(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    expire_generic(ctx, argv, Base::Now, Unit::Millis)
}

fn expireat(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    expire_generic(ctx, argv, Base::Epoch, Unit::Seconds)
}

fn pexpireat(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    expire_generic(ctx, argv, Base::Epoch, Unit::Millis)
}

/// The NX / XX / GT / LT conditions of the EXPIRE family.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Conditions {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

impl Conditions {
    /// Parses the options after the time, as `parseExtendedExpireArgumentsOrReply`.
    fn parse(options: &[Bytes]) -> Result<Conditions, CmdError> {
        let mut c = Conditions::default();
        for opt in options {
            let flag = if is(opt, "nx") {
                &mut c.nx
            } else if is(opt, "xx") {
                &mut c.xx
            } else if is(opt, "gt") {
                &mut c.gt
            } else if is(opt, "lt") {
                &mut c.lt
            } else {
                let text = sanitize(&String::from_utf8_lossy(opt), usize::MAX);
                return Err(CmdError::err(format!("Unsupported option {text}")));
            };
            *flag = true;
        }
        if c.nx && (c.xx || c.gt || c.lt) {
            return Err(CmdError::err(
                "NX and XX, GT or LT options at the same time are not compatible",
            ));
        }
        if c.gt && c.lt {
            return Err(CmdError::err(
                "GT and LT options at the same time are not compatible",
            ));
        }
        Ok(c)
    }

    /// Whether the new expiry `when` may replace `current`; a key without expiry has
    /// an infinite TTL, so GT never passes for it and LT always does.
    fn allow(self, when: i64, current: Option<i64>) -> bool {
        !(self.nx && current.is_some()
            || self.xx && current.is_none()
            || self.gt && current.is_none_or(|c| when <= c)
            || self.lt && current.is_some_and(|c| when >= c))
    }
}

/// Redis' `expireGenericCommand`: options are checked before the number, overflow
/// in the unit conversion or the addition is an error, and a time not in the future
/// deletes the key.
fn expire_generic(ctx: &mut Ctx<'_>, argv: &[Bytes], base: Base, unit: Unit) -> CmdResult {
    let conditions = Conditions::parse(&argv[3..])?;
    let now = i64::try_from(ctx.txn.now_ms()).unwrap_or(i64::MAX);
    let when = absolute_ms(int(&argv[2])?, base, unit, now).ok_or_else(|| {
        let name = String::from_utf8_lossy(&argv[0]).to_ascii_lowercase();
        CmdError::err(format!("invalid expire time in '{name}' command"))
    })?;
    let (db, key) = (ctx.db(), &argv[1]);
    let Some(meta) = ctx.txn.meta(db, key)? else {
        return Ok(Frame::Integer(0));
    };
    let current = meta.expire_at.map(|t| i64::try_from(t).unwrap_or(i64::MAX));
    if !conditions.allow(when, current) {
        return Ok(Frame::Integer(0));
    }
    if when <= now {
        ctx.txn.delete(db, key)?;
        ctx.notify(notify::GENERIC, "del", key);
        let del = ctx.engine.deletion_command(key);
        ctx.propagate_as(del);
    } else {
        ctx.txn.set_expire(db, key, Some(when as u64))?;
        ctx.notify(notify::GENERIC, "expire", key);
        // Propagated as an absolute time, so that a replay later sets the same deadline.
        ctx.propagate_as(vec![arg("PEXPIREAT"), key.clone(), int_arg(when)]);
    }
    Ok(Frame::Integer(1))
}

/// Converts a time argument to absolute milliseconds; `None` on overflow.
fn absolute_ms(value: i64, base: Base, unit: Unit, now: i64) -> Option<i64> {
    let ms = match unit {
        Unit::Seconds => value.checked_mul(1000)?,
        Unit::Millis => value,
    };
    match base {
        Base::Now => ms.checked_add(now),
        Base::Epoch => Some(ms),
    }
}

fn ttl(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    ttl_generic(ctx, argv, Unit::Seconds, Base::Now)
}

fn pttl(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    ttl_generic(ctx, argv, Unit::Millis, Base::Now)
}

fn expiretime(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    ttl_generic(ctx, argv, Unit::Seconds, Base::Epoch)
}

fn pexpiretime(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    ttl_generic(ctx, argv, Unit::Millis, Base::Epoch)
}

/// Redis' `ttlGenericCommand`: -2 for a missing key, -1 without expiry, else the
/// remaining (or absolute) time; seconds are rounded to the nearest.
fn ttl_generic(ctx: &mut Ctx<'_>, argv: &[Bytes], unit: Unit, base: Base) -> CmdResult {
    let db = ctx.db();
    let Some(meta) = lookup_read(ctx, db, &argv[1])? else {
        return Ok(Frame::Integer(-2));
    };
    let Some(at) = meta.expire_at else {
        return Ok(Frame::Integer(-1));
    };
    let at = i64::try_from(at).unwrap_or(i64::MAX);
    let ms = match base {
        Base::Epoch => at,
        Base::Now => at.saturating_sub(ctx.txn.now_ms() as i64).max(0),
    };
    Ok(Frame::Integer(match unit {
        Unit::Millis => ms,
        // Rounded to the nearest second without overflow near i64::MAX, as Redis 7.0
        // replies (EXPIRETIME after PEXPIREAT 9223372036854775806 is 9223372036854776).
        Unit::Seconds => ((i128::from(ms) + 500) / 1000) as i64,
    }))
}

fn persist(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let (db, key) = (ctx.db(), &argv[1]);
    let volatile = ctx
        .txn
        .meta(db, key)?
        .is_some_and(|m| m.expire_at.is_some());
    if volatile {
        ctx.txn.set_expire(db, key, None)?;
        ctx.notify(notify::GENERIC, "persist", key);
    }
    Ok(Frame::Integer(i64::from(volatile)))
}

#[cfg(test)]
mod tests {
    use super::{absolute_ms, Base, Conditions, Unit};
    use crate::commands::keys::test_util::{hits_misses, now, put};
    use crate::testing::{engine, run, session};
    use ferrokv_protocol::Frame;

    fn int(n: i64) -> Frame {
        Frame::Integer(n)
    }

    fn as_int(f: Frame) -> i64 {
        match f {
            Frame::Integer(n) => n,
            other => panic!("not an integer: {other:?}"),
        }
    }

    #[test]
    fn expire_then_ttl_and_pttl() {
        let e = engine();
        let mut s = session(&e);
        put(&e, 0, "k", "v", None);
        assert_eq!(run(&e, &mut s, &["TTL", "k"]), int(-1));
        assert_eq!(run(&e, &mut s, &["PTTL", "nope"]), int(-2));
        assert_eq!(run(&e, &mut s, &["EXPIRE", "k", "100"]), int(1));
        assert_eq!(run(&e, &mut s, &["TTL", "k"]), int(100));
        let pttl = as_int(run(&e, &mut s, &["PTTL", "k"]));
        assert!((99_000..=100_000).contains(&pttl), "{pttl}");
        assert_eq!(run(&e, &mut s, &["PEXPIRE", "k", "1499"]), int(1));
        assert_eq!(run(&e, &mut s, &["TTL", "k"]), int(1));
        assert_eq!(run(&e, &mut s, &["EXPIRE", "nope", "100"]), int(0));
        assert_eq!(run(&e, &mut s, &["PERSIST", "k"]), int(1));
        assert_eq!(run(&e, &mut s, &["PERSIST", "k"]), int(0));
        assert_eq!(run(&e, &mut s, &["PERSIST", "nope"]), int(0));
        assert_eq!(run(&e, &mut s, &["TTL", "k"]), int(-1));
    }

    #[test]
    fn absolute_times_and_expiretime() {
        let e = engine();
        let mut s = session(&e);
        put(&e, 0, "k", "v", None);
        let secs = now(&e) / 1000 + 1000;
        assert_eq!(
            run(&e, &mut s, &["EXPIREAT", "k", &secs.to_string()]),
            int(1)
        );
        assert_eq!(run(&e, &mut s, &["EXPIRETIME", "k"]), int(secs as i64));
        assert_eq!(
            run(&e, &mut s, &["PEXPIRETIME", "k"]),
            int(secs as i64 * 1000)
        );
        let ms = secs * 1000 + 1500;
        assert_eq!(
            run(&e, &mut s, &["PEXPIREAT", "k", &ms.to_string()]),
            int(1)
        );
        assert_eq!(run(&e, &mut s, &["EXPIRETIME", "k"]), int(secs as i64 + 2));
        assert_eq!(run(&e, &mut s, &["EXPIRETIME", "nope"]), int(-2));
        assert_eq!(run(&e, &mut s, &["PERSIST", "k"]), int(1));
        assert_eq!(run(&e, &mut s, &["PEXPIRETIME", "k"]), int(-1));
    }

    #[test]
    fn past_times_delete_the_key() {
        let e = engine();
        let mut s = session(&e);
        for k in ["a", "b", "c", "d"] {
            put(&e, 0, k, "v", None);
        }
        assert_eq!(run(&e, &mut s, &["EXPIRE", "a", "-1"]), int(1));
        assert_eq!(run(&e, &mut s, &["PEXPIRE", "b", "0"]), int(1));
        assert_eq!(run(&e, &mut s, &["EXPIREAT", "c", "1"]), int(1));
        assert_eq!(
            run(&e, &mut s, &["PEXPIREAT", "d", "-9223372036854775808"]),
            int(1)
        );
        assert_eq!(run(&e, &mut s, &["EXISTS", "a", "b", "c", "d"]), int(0));
    }

    #[test]
    fn nx_xx_gt_lt() {
        let e = engine();
        let mut s = session(&e);
        put(&e, 0, "k", "v", None);
        assert_eq!(run(&e, &mut s, &["EXPIRE", "k", "100", "XX"]), int(0));
        assert_eq!(run(&e, &mut s, &["EXPIRE", "k", "100", "GT"]), int(0));
        assert_eq!(run(&e, &mut s, &["EXPIRE", "k", "100", "lt"]), int(1));
        assert_eq!(run(&e, &mut s, &["EXPIRE", "k", "200", "NX"]), int(0));
        assert_eq!(run(&e, &mut s, &["EXPIRE", "k", "200", "xx", "gt"]), int(1));
        assert_eq!(run(&e, &mut s, &["EXPIRE", "k", "150", "GT"]), int(0));
        assert_eq!(run(&e, &mut s, &["EXPIRE", "k", "300", "LT"]), int(0));
        assert_eq!(run(&e, &mut s, &["EXPIRE", "k", "150", "LT", "XX"]), int(1));
        assert_eq!(run(&e, &mut s, &["TTL", "k"]), int(150));
        assert_eq!(run(&e, &mut s, &["PERSIST", "k"]), int(1));
        assert_eq!(run(&e, &mut s, &["EXPIRE", "k", "100", "NX"]), int(1));
        assert_eq!(run(&e, &mut s, &["EXPIRE", "nope", "100", "NX"]), int(0));
    }

    #[test]
    fn option_and_number_errors() {
        let e = engine();
        let mut s = session(&e);
        put(&e, 0, "k", "v", None);
        let nx =
            Frame::error("ERR NX and XX, GT or LT options at the same time are not compatible");
        assert_eq!(run(&e, &mut s, &["EXPIRE", "k", "1", "NX", "XX"]), nx);
        assert_eq!(run(&e, &mut s, &["EXPIRE", "k", "1", "GT", "NX"]), nx);
        assert_eq!(run(&e, &mut s, &["EXPIRE", "k", "1", "NX", "LT"]), nx);
        assert_eq!(
            run(&e, &mut s, &["PEXPIRE", "k", "1", "GT", "LT"]),
            Frame::error("ERR GT and LT options at the same time are not compatible")
        );
        assert_eq!(
            run(&e, &mut s, &["EXPIRE", "k", "x", "FOO"]),
            Frame::error("ERR Unsupported option FOO")
        );
        assert_eq!(
            run(&e, &mut s, &["EXPIRE", "k", "x"]),
            Frame::error("ERR value is not an integer or out of range")
        );
        assert_eq!(
            run(&e, &mut s, &["EXPIRE", "k", "9223372036854776"]),
            Frame::error("ERR invalid expire time in 'expire' command")
        );
        assert_eq!(
            run(&e, &mut s, &["expireat", "k", "-9223372036854776"]),
            Frame::error("ERR invalid expire time in 'expireat' command")
        );
        assert_eq!(
            run(&e, &mut s, &["PEXPIRE", "k", "9223372036854775807"]),
            Frame::error("ERR invalid expire time in 'pexpire' command")
        );
        assert_eq!(
            run(&e, &mut s, &["PEXPIREAT", "k", "9223372036854775807"]),
            int(1)
        );
        assert_eq!(run(&e, &mut s, &["PEXPIRETIME", "k"]), int(i64::MAX));
        assert_eq!(run(&e, &mut s, &["EXPIRETIME", "k"]), int(9223372036854776));
        assert_eq!(run(&e, &mut s, &["EXISTS", "k"]), int(1));
        for cmd in ["expire", "pexpire", "expireat", "pexpireat"] {
            let reply = Frame::error(format!("ERR wrong number of arguments for '{cmd}' command"));
            assert_eq!(run(&e, &mut s, &[cmd, "k"]), reply);
        }
        for cmd in ["ttl", "pttl", "expiretime", "pexpiretime", "persist"] {
            let reply = Frame::error(format!("ERR wrong number of arguments for '{cmd}' command"));
            assert_eq!(run(&e, &mut s, &[cmd]), reply);
            assert_eq!(run(&e, &mut s, &[cmd, "a", "b"]), reply);
        }
    }

    #[test]
    fn ttl_counts_lookups_but_expire_does_not() {
        let e = engine();
        let mut s = session(&e);
        put(&e, 0, "k", "v", None);
        let before = hits_misses(&e);
        run(&e, &mut s, &["TTL", "k"]);
        run(&e, &mut s, &["PEXPIRETIME", "nope"]);
        run(&e, &mut s, &["EXPIRE", "nope", "10"]);
        run(&e, &mut s, &["PERSIST", "k"]);
        let after = hits_misses(&e);
        assert_eq!((after.0 - before.0, after.1 - before.1), (1, 1));
    }

    #[test]
    fn conversions_and_conditions() {
        assert_eq!(absolute_ms(2, Base::Now, Unit::Seconds, 10), Some(2010));
        assert_eq!(
            absolute_ms(i64::MAX / 1000 + 1, Base::Epoch, Unit::Seconds, 0),
            None
        );
        assert_eq!(
            absolute_ms(i64::MIN / 1000, Base::Epoch, Unit::Seconds, 0),
            Some(i64::MIN / 1000 * 1000)
        );
        assert_eq!(absolute_ms(i64::MAX - 5, Base::Now, Unit::Millis, 6), None);
        assert_eq!(
            absolute_ms(i64::MIN, Base::Now, Unit::Millis, 6),
            Some(i64::MIN + 6)
        );
        let lt = Conditions {
            lt: true,
            ..Conditions::default()
        };
        assert!(lt.allow(-5, None));
        assert!(!lt.allow(5, Some(5)));
        let gt = Conditions {
            gt: true,
            ..Conditions::default()
        };
        assert!(!gt.allow(i64::MAX, None));
        assert!(gt.allow(6, Some(5)));
    }
}
