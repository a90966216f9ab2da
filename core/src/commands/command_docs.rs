//! COMMAND and its subcommands (COUNT, INFO, DOCS, LIST, GETKEYS, GETKEYSANDFLAGS,
//! HELP), built from the command table so every family's specs are described the way
//! Redis 7.0 describes its own: ten-field INFO entries with flags and ACL categories as
//! sets of status replies and key specs derived from the (first, last, step) triple.
//! DOCS also carries `arity`, `flags`, `key_specs` and a `syntax` line that ferrokv's
//! CLI uses for hints (Redis sends an `arguments` tree instead).

use bytes::Bytes;
use ferrokv_protocol::Frame;

use crate::command::{CmdError, CmdFlags, CmdResult, CommandSpec, Ctx};
use crate::commands::args::is;
use crate::commands::object::help_reply;
use crate::util::glob::glob_match;

const CONN: &[&str] = &["connection"];
const FLAGS: CmdFlags = CmdFlags::LOADING.or(CmdFlags::STALE);

/// A COMMAND subcommand spec with the usual defaults.
const SUB: CommandSpec = CommandSpec {
    flags: FLAGS,
    acl: CONN,
    group: "server",
    ..CommandSpec::DEFAULT
};

/// COMMAND's spec: plain `COMMAND` lists every command.
pub static COMMANDS: &[CommandSpec] = &[CommandSpec {
    name: "command",
    arity: -1,
    flags: FLAGS,
    acl: CONN,
    group: "server",
    since: "2.8.13",
    summary: "Returns detailed information about all commands.",
    syntax: "[<subcommand> [<arg> ...]]",
    handler: Some(all_info),
    subcommands: SUBCOMMANDS,
    ..CommandSpec::DEFAULT
}];

const NAMES: &str = "[command-name [command-name ...]]";

static SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "count",
        arity: 2,
        since: "2.8.13",
        summary: "Returns a count of commands.",
        handler: Some(count),
        ..SUB
    },
    CommandSpec {
        name: "docs",
        arity: -2,
        since: "7.0.0",
        summary: "Returns documentary information about one, multiple or all commands.",
        syntax: NAMES,
        handler: Some(docs),
        ..SUB
    },
    CommandSpec {
        name: "getkeys",
        arity: -3,
        since: "2.8.13",
        summary: "Extracts the key names from an arbitrary command.",
        syntax: "command [arg [arg ...]]",
        handler: Some(getkeys),
        ..SUB
    },
    CommandSpec {
        name: "getkeysandflags",
        arity: -3,
        since: "7.0.0",
        summary: "Extracts the key names and access flags for an arbitrary command.",
        syntax: "command [arg [arg ...]]",
        handler: Some(getkeys_and_flags),
        ..SUB
    },
    CommandSpec {
        name: "help",
        arity: 2,
        since: "5.0.0",
        summary: "Returns helpful text about the different subcommands.",
        handler: Some(help),
        ..SUB
    },
    CommandSpec {
        name: "info",
        arity: -2,
        since: "2.8.13",
        summary: "Returns information about one, multiple or all commands.",
        syntax: NAMES,
        handler: Some(info),
        ..SUB
    },
    CommandSpec {
        name: "list",
        arity: -2,
        since: "7.0.0",
        summary: "Returns a list of command names.",
        syntax: "[FILTERBY <MODULE module-name | ACLCAT category | PATTERN pattern>]",
        handler: Some(list),
        ..SUB
    },
];

/// Command flags in the order `COMMAND INFO` lists them.
const FLAG_ORDER: [&str; 20] = [
    "write",
    "readonly",
    "denyoom",
    "module",
    "admin",
    "pubsub",
    "noscript",
    "blocking",
    "loading",
    "stale",
    "skip_monitor",
    "skip_slowlog",
    "asking",
    "fast",
    "no_auth",
    "no_mandatory_keys",
    "no_async_loading",
    "no_multi",
    "movablekeys",
    "allow_busy",
];

/// ACL categories in Redis' order (`ACLCommandCategories`).
pub const ACL_CATEGORIES: [&str; 21] = [
    "keyspace",
    "read",
    "write",
    "set",
    "sortedset",
    "list",
    "hash",
    "string",
    "bitmap",
    "hyperloglog",
    "geo",
    "stream",
    "pubsub",
    "admin",
    "fast",
    "slow",
    "blocking",
    "dangerous",
    "connection",
    "transaction",
    "scripting",
];

/// Sorts `names` by their position in `order` (unknown ones last).
fn in_order<'a>(mut names: Vec<&'a str>, order: &[&str]) -> Vec<&'a str> {
    names.sort_by_key(|n| order.iter().position(|o| o == n).unwrap_or(order.len()));
    names
}

fn statuses(names: &[&str]) -> Frame {
    Frame::Set(
        names
            .iter()
            .map(|n| Frame::Simple(Bytes::copy_from_slice(n.as_bytes())))
            .collect(),
    )
}

/// The command's flags as Redis reports them (`movablekeys` when its keys are
/// found by parsing: a `numkeys` argument or XREAD's `STREAMS` keyword).
fn flag_names(spec: &CommandSpec) -> Vec<&'static str> {
    let mut names = spec.flags.names();
    if spec.extra_keys.is_some() || spec.keys.numkeys_at != 0 {
        names.push("movablekeys");
    }
    in_order(names, &FLAG_ORDER)
}

/// The command's ACL categories with the `@` prefix, in Redis' order.
pub fn categories(spec: &CommandSpec) -> Vec<String> {
    in_order(spec.acl_categories(), &ACL_CATEGORIES)
        .iter()
        .map(|c| format!("@{c}"))
        .collect()
}

/// Key-spec flags derived from what the command does with its keys.
fn key_flags(spec: &CommandSpec) -> &'static [&'static str] {
    if spec.keys.numkeys_at < 0 {
        // XREAD and XREADGROUP: Redis flags their keys read-only.
        &["RO", "access"]
    } else if matches!(spec.name, "del" | "unlink") {
        &["RM", "delete"]
    } else if spec.flags.has(CmdFlags::WRITE) {
        &["RW", "access", "update"]
    } else if spec.flags.has(CmdFlags::READONLY) {
        &["RO", "access"]
    } else {
        &["RW"]
    }
}

/// The single key spec equivalent to the legacy (first, last, step) triple, with
/// `lastkey` relative to the first key unless it counts from the end.
fn key_specs(spec: &CommandSpec) -> Vec<Frame> {
    let k = spec.keys;
    let map = |pairs: Vec<(&str, Frame)>| {
        Frame::Map(
            pairs
                .into_iter()
                .map(|(k, v)| (Frame::bulk(k), v))
                .collect(),
        )
    };
    if k.numkeys_at < 0 {
        // XREAD / XREADGROUP: after the STREAMS keyword, half of the rest.
        let startfrom = if spec.name == "xreadgroup" { 4 } else { 1 };
        return vec![map(vec![
            ("flags", statuses(key_flags(spec))),
            (
                "begin_search",
                map(vec![
                    ("type", Frame::bulk("keyword")),
                    (
                        "spec",
                        map(vec![
                            ("keyword", Frame::bulk("STREAMS")),
                            ("startfrom", Frame::Integer(startfrom)),
                        ]),
                    ),
                ]),
            ),
            (
                "find_keys",
                map(vec![
                    ("type", Frame::bulk("range")),
                    (
                        "spec",
                        map(vec![
                            ("lastkey", Frame::Integer(-1)),
                            ("keystep", Frame::Integer(1)),
                            ("limit", Frame::Integer(2)),
                        ]),
                    ),
                ]),
            ),
        ])];
    }
    if k.first <= 0 {
        return Vec::new();
    }
    let lastkey = if k.last < 0 { k.last } else { k.last - k.first };
    vec![map(vec![
        ("flags", statuses(key_flags(spec))),
        (
            "begin_search",
            map(vec![
                ("type", Frame::bulk("index")),
                ("spec", map(vec![("index", Frame::Integer(k.first as i64))])),
            ]),
        ),
        (
            "find_keys",
            map(vec![
                ("type", Frame::bulk("range")),
                (
                    "spec",
                    map(vec![
                        ("lastkey", Frame::Integer(lastkey as i64)),
                        ("keystep", Frame::Integer(k.step as i64)),
                        ("limit", Frame::Integer(0)),
                    ]),
                ),
            ]),
        ),
    ])]
}

/// Top-level specs in name order (the table itself is unordered).
fn sorted_commands(ctx: &Ctx<'_>) -> Vec<&'static CommandSpec> {
    let mut specs: Vec<&'static CommandSpec> = ctx.engine.commands().collect();
    specs.sort_by_key(|s| s.name);
    specs
}

/// A `COMMAND INFO` entry; `container` names the parent of a subcommand.
fn command_info(spec: &CommandSpec, container: Option<&str>) -> Frame {
    let fullname = full_name(spec, container);
    let (first, last, step) = if spec.keys.first > 0 {
        (spec.keys.first, spec.keys.last, spec.keys.step)
    } else {
        (0, 0, 0)
    };
    let subcommands = if spec.subcommands.is_empty() {
        Frame::Set(Vec::new())
    } else {
        Frame::Array(
            spec.subcommands
                .iter()
                .map(|sub| command_info(sub, Some(spec.name)))
                .collect(),
        )
    };
    let cats = categories(spec);
    Frame::Array(vec![
        Frame::bulk(&fullname),
        Frame::Integer(spec.arity as i64),
        statuses(&flag_names(spec)),
        Frame::Integer(first as i64),
        Frame::Integer(last as i64),
        Frame::Integer(step as i64),
        statuses(&cats.iter().map(String::as_str).collect::<Vec<_>>()),
        Frame::Set(Vec::new()),
        Frame::Set(key_specs(spec)),
        subcommands,
    ])
}

fn full_name(spec: &CommandSpec, container: Option<&str>) -> String {
    match container {
        Some(parent) => format!("{parent}|{}", spec.name),
        None => spec.name.to_string(),
    }
}

/// A `COMMAND DOCS` entry.
fn command_docs(spec: &CommandSpec) -> Frame {
    let mut doc = vec![
        (Frame::bulk("summary"), Frame::bulk(spec.summary)),
        (Frame::bulk("since"), Frame::bulk(spec.since)),
        (Frame::bulk("group"), Frame::bulk(spec.group)),
        (Frame::bulk("arity"), Frame::Integer(spec.arity as i64)),
        (Frame::bulk("flags"), statuses(&flag_names(spec))),
        (Frame::bulk("key_specs"), Frame::Array(key_specs(spec))),
        (Frame::bulk("syntax"), Frame::bulk(spec.syntax)),
    ];
    if !spec.subcommands.is_empty() {
        let subs = spec
            .subcommands
            .iter()
            .map(|sub| {
                (
                    Frame::bulk(full_name(sub, Some(spec.name))),
                    command_docs(sub),
                )
            })
            .collect();
        doc.push((Frame::bulk("subcommands"), Frame::Map(subs)));
    }
    Frame::Map(doc)
}

/// Finds `name` or `container|sub` as Redis' `lookupCommandBySds`; also returns the
/// container's name for a subcommand.
fn lookup_by_name(
    ctx: &Ctx<'_>,
    name: &[u8],
) -> Option<(&'static CommandSpec, Option<&'static str>)> {
    let mut parts = name.split(|&c| c == b'|');
    let base = ctx.engine.command(parts.next()?)?;
    let Some(sub_name) = parts.next() else {
        return Some((base, None));
    };
    if parts.next().is_some() {
        return None;
    }
    let sub = base
        .subcommands
        .iter()
        .find(|s| s.name.as_bytes().eq_ignore_ascii_case(sub_name))?;
    Some((sub, Some(base.name)))
}

fn all_info(ctx: &mut Ctx<'_>, _argv: &[Bytes]) -> CmdResult {
    Ok(Frame::Array(
        sorted_commands(ctx)
            .into_iter()
            .map(|s| command_info(s, None))
            .collect(),
    ))
}

fn count(ctx: &mut Ctx<'_>, _argv: &[Bytes]) -> CmdResult {
    Ok(Frame::Integer(ctx.engine.commands().count() as i64))
}

fn info(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    if argv.len() == 2 {
        return all_info(ctx, argv);
    }
    let entries = argv[2..]
        .iter()
        .map(|name| {
            lookup_by_name(ctx, name)
                .map_or(Frame::Null, |(spec, parent)| command_info(spec, parent))
        })
        .collect();
    Ok(Frame::Array(entries))
}

fn docs(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let found: Vec<(&CommandSpec, Option<&str>)> = if argv.len() == 2 {
        sorted_commands(ctx)
            .into_iter()
            .map(|s| (s, None))
            .collect()
    } else {
        argv[2..]
            .iter()
            .filter_map(|name| lookup_by_name(ctx, name))
            .collect()
    };
    let entries = found
        .into_iter()
        .map(|(spec, parent)| (Frame::bulk(full_name(spec, parent)), command_docs(spec)));
    Ok(Frame::Map(entries.collect()))
}

/// `COMMAND LIST FILTERBY ...` criteria.
enum ListFilter {
    None,
    Module,
    AclCategory(String),
    Pattern(Bytes),
}

impl ListFilter {
    fn keeps(&self, spec: &CommandSpec, fullname: &str) -> bool {
        match self {
            ListFilter::None => true,
            // No modules can be loaded, so no command belongs to one.
            ListFilter::Module => false,
            ListFilter::AclCategory(cat) => {
                ACL_CATEGORIES.contains(&cat.as_str())
                    && spec.acl_categories().contains(&cat.as_str())
            }
            ListFilter::Pattern(p) => glob_match(p, fullname.as_bytes(), true),
        }
    }
}

fn list(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let filter = match argv {
        [_, _] => ListFilter::None,
        [_, _, by, kind, arg] if is(by, "filterby") => {
            if is(kind, "module") {
                ListFilter::Module
            } else if is(kind, "aclcat") {
                ListFilter::AclCategory(String::from_utf8_lossy(arg).to_ascii_lowercase())
            } else if is(kind, "pattern") {
                ListFilter::Pattern(arg.clone())
            } else {
                return Err(CmdError::syntax());
            }
        }
        _ => return Err(CmdError::syntax()),
    };
    let mut names = Vec::new();
    for spec in sorted_commands(ctx) {
        let entries = std::iter::once((spec, None))
            .chain(spec.subcommands.iter().map(|sub| (sub, Some(spec.name))));
        for (entry, parent) in entries {
            let fullname = full_name(entry, parent);
            if filter.keeps(entry, &fullname) {
                names.push(Frame::bulk(fullname));
            }
        }
    }
    Ok(Frame::Array(names))
}

/// The spec `argv` would run, as Redis' `lookupCommand`, or `ERR Invalid command
/// specified`.
fn target_spec(ctx: &Ctx<'_>, argv: &[Bytes]) -> Result<&'static CommandSpec, CmdError> {
    let invalid = || CmdError::err("Invalid command specified");
    let base = ctx.engine.command(&argv[0]).ok_or_else(invalid)?;
    if argv.len() == 1 || base.subcommands.is_empty() {
        return Ok(base);
    }
    base.subcommands
        .iter()
        .find(|s| s.name.as_bytes().eq_ignore_ascii_case(&argv[1]))
        .ok_or_else(invalid)
}

/// COMMAND GETKEYS / GETKEYSANDFLAGS.
fn keys_of(ctx: &Ctx<'_>, argv: &[Bytes], with_flags: bool) -> CmdResult {
    let command = &argv[2..];
    let spec = target_spec(ctx, command)?;
    if spec.keys.first <= 0 && spec.keys.numkeys_at == 0 {
        return Err(CmdError::err("The command has no key arguments"));
    }
    if !spec.arity_ok(command.len()) {
        return Err(CmdError::err(
            "Invalid number of arguments specified for command",
        ));
    }
    let positions: Vec<usize> = spec.key_indexes(command);
    if positions.is_empty() && !spec.flags.has(CmdFlags::NO_MANDATORY_KEYS) {
        return Err(CmdError::err("Invalid arguments specified for command"));
    }
    let keys = positions.into_iter().map(|i| {
        let key = Frame::Bulk(command[i].clone());
        if with_flags {
            Frame::Array(vec![key, statuses(key_flags(spec))])
        } else {
            key
        }
    });
    Ok(Frame::Array(keys.collect()))
}

fn getkeys(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    keys_of(ctx, argv, false)
}

fn getkeys_and_flags(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    keys_of(ctx, argv, true)
}

const HELP: &[&str] = &[
    "(no subcommand)",
    "    Return details about all Redis commands.",
    "COUNT",
    "    Return the total number of commands in this Redis server.",
    "LIST",
    "    Return a list of all commands in this Redis server.",
    "INFO [<command-name> ...]",
    "    Return details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "DOCS [<command-name> ...]",
    "    Return documentation details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "GETKEYS <full-command>",
    "    Return the keys from a full Redis command.",
    "GETKEYSANDFLAGS <full-command>",
    "    Return the keys and the access flags from a full Redis command.",
];

fn help(_ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    Ok(help_reply(&argv[0], HELP))
}

#[cfg(test)]
mod tests {
    use crate::testing::{engine, run, session};
    use ferrokv_protocol::Frame;

    fn bulk(s: &str) -> Frame {
        Frame::bulk(s)
    }

    fn statuses(names: &[&'static str]) -> Frame {
        Frame::Set(names.iter().map(|n| Frame::simple(n)).collect())
    }

    fn map(pairs: Vec<(&str, Frame)>) -> Frame {
        Frame::Map(
            pairs
                .into_iter()
                .map(|(k, v)| (Frame::bulk(k), v))
                .collect(),
        )
    }

    #[test]
    fn info_entry_shape() {
        let e = engine();
        let mut s = session(&e);
        let get_spec = map(vec![
            ("flags", statuses(&["RO", "access"])),
            (
                "begin_search",
                map(vec![
                    ("type", bulk("index")),
                    ("spec", map(vec![("index", Frame::Integer(1))])),
                ]),
            ),
            (
                "find_keys",
                map(vec![
                    ("type", bulk("range")),
                    (
                        "spec",
                        map(vec![
                            ("lastkey", Frame::Integer(0)),
                            ("keystep", Frame::Integer(1)),
                            ("limit", Frame::Integer(0)),
                        ]),
                    ),
                ]),
            ),
        ]);
        let expected = Frame::Array(vec![
            bulk("get"),
            Frame::Integer(2),
            statuses(&["readonly", "fast"]),
            Frame::Integer(1),
            Frame::Integer(1),
            Frame::Integer(1),
            statuses(&["@read", "@string", "@fast"]),
            Frame::Set(vec![]),
            Frame::Set(vec![get_spec]),
            Frame::Set(vec![]),
        ]);
        assert_eq!(
            run(&e, &mut s, &["COMMAND", "INFO", "GET", "nosuch"]),
            Frame::Array(vec![expected, Frame::Null])
        );
        let Frame::Array(entries) = run(
            &e,
            &mut s,
            &["COMMAND", "INFO", "config|get", "dbsize", "del", "client|x"],
        ) else {
            panic!("not an array")
        };
        let Frame::Array(config_get) = &entries[0] else {
            panic!("no entry")
        };
        assert_eq!(config_get[0], bulk("config|get"));
        assert_eq!(
            config_get[2],
            statuses(&["admin", "noscript", "loading", "stale"])
        );
        assert_eq!(config_get[6], statuses(&["@admin", "@slow", "@dangerous"]));
        let Frame::Array(dbsize) = &entries[1] else {
            panic!("no entry")
        };
        assert_eq!(dbsize[6], statuses(&["@keyspace", "@read", "@fast"]));
        assert_eq!(dbsize[8], Frame::Set(vec![]));
        let Frame::Array(del) = &entries[2] else {
            panic!("no entry")
        };
        assert_eq!(
            (&del[3], &del[4], &del[5]),
            (&Frame::Integer(1), &Frame::Integer(-1), &Frame::Integer(1))
        );
        assert_eq!(entries[3], Frame::Null);
    }

    #[test]
    fn plain_command_count_and_containers() {
        let e = engine();
        let mut s = session(&e);
        let Frame::Integer(count) = run(&e, &mut s, &["COMMAND", "COUNT"]) else {
            panic!("no count")
        };
        let Frame::Array(all) = run(&e, &mut s, &["COMMAND"]) else {
            panic!("not an array")
        };
        assert_eq!(all.len() as i64, count);
        assert_eq!(
            run(&e, &mut s, &["COMMAND", "INFO"]),
            Frame::Array(all.clone())
        );
        let config = all
            .iter()
            .find_map(|c| match c {
                Frame::Array(f) if f[0] == bulk("config") => Some(f.clone()),
                _ => None,
            })
            .unwrap();
        assert_eq!(config[1], Frame::Integer(-2));
        assert_eq!(config[6], statuses(&["@slow"]));
        let Frame::Array(subs) = &config[9] else {
            panic!("no subcommands")
        };
        assert!(subs.len() >= 5);
        assert_eq!(
            run(&e, &mut s, &["COMMAND", "COUNT", "x"]),
            Frame::error("ERR wrong number of arguments for 'command|count' command")
        );
        assert_eq!(
            run(&e, &mut s, &["COMMAND", "FOO"]),
            Frame::error("ERR unknown subcommand 'FOO'. Try COMMAND HELP.")
        );
        let Frame::Array(help) = run(&e, &mut s, &["COMMAND", "HELP"]) else {
            panic!("no help")
        };
        assert_eq!(help[1], Frame::simple("(no subcommand)"));
    }

    #[test]
    fn docs() {
        let e = engine();
        let mut s = session(&e);
        let Frame::Map(docs) = run(
            &e,
            &mut s,
            &["COMMAND", "DOCS", "set", "nosuch", "CLIENT|ID", "config"],
        ) else {
            panic!("not a map")
        };
        let names: Vec<&Frame> = docs.iter().map(|(k, _)| k).collect();
        assert_eq!(names, [&bulk("set"), &bulk("client|id"), &bulk("config")]);
        let Frame::Map(set) = &docs[0].1 else {
            panic!("no doc")
        };
        assert_eq!(set[0].0, bulk("summary"));
        assert_eq!(set[1].0, bulk("since"));
        assert_eq!(set[2], (bulk("group"), bulk("string")));
        assert_eq!(set[3], (bulk("arity"), Frame::Integer(-3)));
        assert_eq!(set[6].0, bulk("syntax"));
        let Frame::Map(config) = &docs[2].1 else {
            panic!("no doc")
        };
        let (key, Frame::Map(subs)) = config.last().unwrap() else {
            panic!("no subcommands")
        };
        assert_eq!(key, &bulk("subcommands"));
        assert!(subs.iter().any(|(k, _)| k == &bulk("config|get")));
        let Frame::Map(all) = run(&e, &mut s, &["COMMAND", "DOCS"]) else {
            panic!("not a map")
        };
        let Frame::Integer(count) = run(&e, &mut s, &["COMMAND", "COUNT"]) else {
            panic!("no count")
        };
        assert_eq!(all.len() as i64, count);
    }

    #[test]
    fn list_and_filters() {
        let e = engine();
        let mut s = session(&e);
        let Frame::Array(all) = run(&e, &mut s, &["COMMAND", "LIST"]) else {
            panic!("not an array")
        };
        assert!(
            all.contains(&bulk("get"))
                && all.contains(&bulk("config|set"))
                && all.contains(&bulk("command"))
        );
        assert_eq!(
            run(
                &e,
                &mut s,
                &["COMMAND", "LIST", "FILTERBY", "PATTERN", "config|re*"]
            ),
            Frame::Array(vec![bulk("config|resetstat"), bulk("config|rewrite")])
        );
        let Frame::Array(keyspace) = run(
            &e,
            &mut s,
            &["COMMAND", "LIST", "FILTERBY", "ACLCAT", "KEYSPACE"],
        ) else {
            panic!("not an array")
        };
        assert!(keyspace.contains(&bulk("dbsize")) && !keyspace.contains(&bulk("get")));
        assert_eq!(
            run(
                &e,
                &mut s,
                &["COMMAND", "LIST", "FILTERBY", "ACLCAT", "nope"]
            ),
            Frame::Array(vec![])
        );
        assert_eq!(
            run(&e, &mut s, &["COMMAND", "LIST", "FILTERBY", "MODULE", "m"]),
            Frame::Array(vec![])
        );
        for bad in [
            &["COMMAND", "LIST", "FILTERBY", "FOO", "x"][..],
            &["COMMAND", "LIST", "FILTERBY", "PATTERN"],
            &["COMMAND", "LIST", "FILTERBY", "PATTERN", "a", "b"],
            &["COMMAND", "LIST", "x"],
        ] {
            assert_eq!(
                run(&e, &mut s, bad),
                Frame::error("ERR syntax error"),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn getkeys() {
        let e = engine();
        let mut s = session(&e);
        assert_eq!(
            run(&e, &mut s, &["COMMAND", "GETKEYS", "GET", "k"]),
            Frame::Array(vec![bulk("k")])
        );
        assert_eq!(
            run(&e, &mut s, &["COMMAND", "GETKEYS", "del", "a", "b", "c"]),
            Frame::Array(vec![bulk("a"), bulk("b"), bulk("c")])
        );
        assert_eq!(
            run(&e, &mut s, &["COMMAND", "GETKEYSANDFLAGS", "SET", "k", "v"]),
            Frame::Array(vec![Frame::Array(vec![
                bulk("k"),
                statuses(&["RW", "access", "update"])
            ])])
        );
        let cases: [(&[&str], &str); 5] = [
            (
                &["COMMAND", "GETKEYS", "nosuch", "x"],
                "ERR Invalid command specified",
            ),
            (
                &["COMMAND", "GETKEYS", "config", "nosuch"],
                "ERR Invalid command specified",
            ),
            (
                &["COMMAND", "GETKEYS", "ping"],
                "ERR The command has no key arguments",
            ),
            (
                &["COMMAND", "GETKEYS", "config", "get", "x"],
                "ERR The command has no key arguments",
            ),
            (
                &["COMMAND", "GETKEYS", "get"],
                "ERR Invalid number of arguments specified for command",
            ),
        ];
        for (argv, msg) in cases {
            assert_eq!(run(&e, &mut s, argv), Frame::error(msg), "{argv:?}");
        }
        assert_eq!(
            run(&e, &mut s, &["COMMAND", "GETKEYS"]),
            Frame::error("ERR wrong number of arguments for 'command|getkeys' command")
        );
    }
}
