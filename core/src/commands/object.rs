//! OBJECT: introspection of the value stored at a key (ENCODING, FREQ, IDLETIME,
//! REFCOUNT, HELP). A missing key replies nil, as Redis' `objectCommandLookupOrReply`.

use bytes::Bytes;
use ferrokv_protocol::Frame;

use crate::command::{CmdError, CmdFlags, CmdResult, CommandSpec, Ctx, Handler, KeyPositions};
use crate::storage::ObjectInfo;
use crate::util::number::parse_i64;

const KEYSPACE: &[&str] = &["keyspace"];

/// Integers below this share one object in Redis (`OBJ_SHARED_INTEGERS`).
const SHARED_INTEGERS: i64 = 10000;
/// The reference count Redis reports for a shared object (`OBJ_SHARED_REFCOUNT`).
const SHARED_REFCOUNT: i64 = i32::MAX as i64;

/// The spec of a subcommand that inspects the key at index 2.
const fn inspect(
    name: &'static str,
    since: &'static str,
    summary: &'static str,
    handler: Handler,
) -> CommandSpec {
    CommandSpec {
        name,
        arity: 3,
        flags: CmdFlags::READONLY,
        acl: KEYSPACE,
        keys: KeyPositions::new(2, 2, 1),
        since,
        summary,
        syntax: "key",
        handler: Some(handler),
        ..CommandSpec::DEFAULT
    }
}

static SUBCOMMANDS: &[CommandSpec] = &[
    inspect(
        "encoding",
        "2.2.3",
        "Returns the internal encoding of a Redis object.",
        encoding,
    ),
    inspect(
        "freq",
        "4.0.0",
        "Returns the logarithmic access frequency counter of a Redis object.",
        freq,
    ),
    inspect(
        "idletime",
        "2.2.3",
        "Returns the time since the last access to a Redis object.",
        idletime,
    ),
    inspect(
        "refcount",
        "2.2.3",
        "Returns the reference count of a value of a key.",
        refcount,
    ),
    CommandSpec {
        name: "help",
        arity: 2,
        flags: CmdFlags::LOADING.or(CmdFlags::STALE),
        acl: KEYSPACE,
        since: "6.2.0",
        summary: "Returns helpful text about the different subcommands.",
        handler: Some(help),
        ..CommandSpec::DEFAULT
    },
];

/// OBJECT command spec (a container: its subcommands do the work).
pub static COMMANDS: &[CommandSpec] = &[CommandSpec {
    name: "object",
    arity: -2,
    since: "2.2.3",
    summary: "A container for object introspection commands.",
    syntax: "<subcommand> [<arg> ...]",
    subcommands: SUBCOMMANDS,
    ..CommandSpec::DEFAULT
}];

const HELP: &[&str] = &[
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
];

/// A container's HELP reply as Redis' `addReplyHelp`: a header naming the command as
/// typed (upper-cased), the given lines, then the HELP entry, all as status replies.
pub fn help_reply(command: &[u8], lines: &[&str]) -> Frame {
    let name = String::from_utf8_lossy(command).to_ascii_uppercase();
    let header = format!("{name} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
    let mut out = Vec::with_capacity(lines.len() + 3);
    out.push(Frame::Simple(Bytes::from(header)));
    out.extend(
        lines
            .iter()
            .map(|l| Frame::Simple(Bytes::copy_from_slice(l.as_bytes()))),
    );
    out.push(Frame::simple("HELP"));
    out.push(Frame::simple("    Prints this help."));
    Frame::Array(out)
}

fn help(_ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    Ok(help_reply(&argv[0], HELP))
}

/// Looks the key up without recording an access, counting a keyspace hit or miss.
fn lookup(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Option<ObjectInfo>, CmdError> {
    let db = ctx.db();
    let info = ctx.txn.object_info(db, &argv[2])?;
    ctx.engine.stats.lookup(info.is_some());
    Ok(info)
}

fn policy(ctx: &Ctx<'_>) -> String {
    ctx.engine
        .config
        .get("maxmemory-policy")
        .unwrap_or_default()
}

/// Whether the eviction policy tracks access frequency (LFU) instead of idle time.
fn lfu_policy(ctx: &Ctx<'_>) -> bool {
    policy(ctx).ends_with("-lfu")
}

fn encoding(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    Ok(lookup(ctx, argv)?.map_or(Frame::Null, |i| Frame::bulk(i.encoding)))
}

fn freq(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let Some(info) = lookup(ctx, argv)? else {
        return Ok(Frame::Null);
    };
    if !lfu_policy(ctx) {
        return Err(CmdError::err(
            "An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.",
        ));
    }
    Ok(Frame::Integer(i64::from(info.freq)))
}

fn idletime(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let Some(info) = lookup(ctx, argv)? else {
        return Ok(Frame::Null);
    };
    if lfu_policy(ctx) {
        return Err(CmdError::err(
            "An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.",
        ));
    }
    Ok(Frame::Integer(
        i64::try_from(info.idle_ms / 1000).unwrap_or(i64::MAX),
    ))
}

/// Values are never shared here, but Redis replies `OBJ_SHARED_REFCOUNT` for the
/// small integers it shares (0..10000 with `int` encoding, unless `maxmemory` is set
/// with an LRU/LFU policy), so that count is reproduced. Reading the value to know it
/// records an access, unlike in Redis.
fn refcount(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let Some(info) = lookup(ctx, argv)? else {
        return Ok(Frame::Null);
    };
    let approximated = |p: &str| p.ends_with("-lru") || p.ends_with("-lfu");
    let sharing = ctx.engine.config.get_i64("maxmemory") == 0 || !approximated(&policy(ctx));
    if info.encoding != "int" || !sharing {
        return Ok(Frame::Integer(1));
    }
    let db = ctx.db();
    let value = ctx.txn.get_string(db, &argv[2])?;
    let shared = value
        .and_then(|v| parse_i64(&v))
        .is_some_and(|n| (0..SHARED_INTEGERS).contains(&n));
    Ok(Frame::Integer(if shared { SHARED_REFCOUNT } else { 1 }))
}

#[cfg(test)]
mod tests {
    use crate::commands::keys::test_util::{hits_misses, put};
    use crate::testing::{engine, run, session};
    use ferrokv_protocol::Frame;

    const LFU_NOT_SELECTED: &str = "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";
    const LFU_SELECTED: &str = "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";

    #[test]
    fn subcommands_on_existing_and_missing_keys() {
        let e = engine();
        let mut s = session(&e);
        put(&e, 0, "k", "v", None);
        assert_eq!(
            run(&e, &mut s, &["OBJECT", "ENCODING", "k"]),
            Frame::bulk("raw")
        );
        assert_eq!(
            run(&e, &mut s, &["object", "refcount", "k"]),
            Frame::Integer(1)
        );
        assert_eq!(
            run(&e, &mut s, &["OBJECT", "IDLETIME", "k"]),
            Frame::Integer(0)
        );
        assert_eq!(
            run(&e, &mut s, &["OBJECT", "FREQ", "k"]),
            Frame::error(LFU_NOT_SELECTED)
        );
        for sub in ["ENCODING", "REFCOUNT", "IDLETIME", "FREQ"] {
            assert_eq!(
                run(&e, &mut s, &["OBJECT", sub, "nope"]),
                Frame::Null,
                "{sub}"
            );
        }
        e.config
            .set("maxmemory-policy", "allkeys-lfu")
            .expect("config");
        assert_eq!(run(&e, &mut s, &["OBJECT", "FREQ", "k"]), Frame::Integer(0));
        assert_eq!(
            run(&e, &mut s, &["OBJECT", "IDLETIME", "k"]),
            Frame::error(LFU_SELECTED)
        );
        assert_eq!(
            run(&e, &mut s, &["OBJECT", "IDLETIME", "nope"]),
            Frame::Null
        );
    }

    #[test]
    fn lookups_count_hits_and_misses() {
        let e = engine();
        let mut s = session(&e);
        put(&e, 0, "k", "v", None);
        let before = hits_misses(&e);
        run(&e, &mut s, &["OBJECT", "ENCODING", "k"]);
        run(&e, &mut s, &["OBJECT", "ENCODING", "nope"]);
        let after = hits_misses(&e);
        assert_eq!((after.0 - before.0, after.1 - before.1), (1, 1));
    }

    #[test]
    fn help_and_errors() {
        let e = engine();
        let mut s = session(&e);
        let Frame::Array(lines) = run(&e, &mut s, &["object", "help"]) else {
            panic!("not an array")
        };
        assert_eq!(lines.len(), 15);
        assert_eq!(
            lines[0],
            Frame::simple("OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
        );
        assert_eq!(lines[1], Frame::simple("ENCODING <key>"));
        assert_eq!(lines[14], Frame::simple("    Prints this help."));
        assert_eq!(
            run(&e, &mut s, &["OBJECT"]),
            Frame::error("ERR wrong number of arguments for 'object' command")
        );
        assert_eq!(
            run(&e, &mut s, &["OBJECT", "ENCODING"]),
            Frame::error("ERR wrong number of arguments for 'object|encoding' command")
        );
        assert_eq!(
            run(&e, &mut s, &["OBJECT", "HELP", "x"]),
            Frame::error("ERR wrong number of arguments for 'object|help' command")
        );
        assert_eq!(
            run(&e, &mut s, &["OBJECT", "foo", "k"]),
            Frame::error("ERR unknown subcommand 'foo'. Try OBJECT HELP.")
        );
    }
}
