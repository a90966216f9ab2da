//! The CLIENT container: ID, INFO, LIST, KILL, GETNAME, SETNAME, NO-EVICT and HELP, as
//! Redis 7.0's `clientCommand`. Every connection is a normal client of the `default`
//! user: there are no replicas, and pub/sub clients are not told apart yet.

use std::sync::Arc;

use bytes::Bytes;
use ferrokv_protocol::Frame;

use crate::blocking::UnblockMode;
use crate::clients::ClientHandle;
use crate::command::{CmdError, CmdFlags, CmdResult, CommandSpec, Ctx};
use crate::commands::args::is;
use crate::commands::connection::validate_client_name;
use crate::commands::object::help_reply;
use crate::util::number::parse_i64;

const CONN: &[&str] = &["connection"];
const BASE: CmdFlags = CmdFlags::NOSCRIPT.or(CmdFlags::LOADING).or(CmdFlags::STALE);
const ADMIN: CmdFlags = BASE.or(CmdFlags::ADMIN);

/// A `connection`-group subcommand spec with the usual defaults.
const SUB: CommandSpec = CommandSpec {
    flags: BASE,
    acl: CONN,
    group: "connection",
    ..CommandSpec::DEFAULT
};

/// CLIENT command specs.
pub static COMMANDS: &[CommandSpec] = &[CommandSpec {
    name: "client",
    arity: -2,
    group: "connection",
    since: "2.4.0",
    summary: "A container for client connection commands.",
    syntax: "<subcommand> [<arg> ...]",
    subcommands: SUBCOMMANDS,
    ..CommandSpec::DEFAULT
}];

static SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "id",
        arity: 2,
        since: "5.0.0",
        summary: "Returns the unique client ID of the connection.",
        handler: Some(id),
        ..SUB
    },
    CommandSpec {
        name: "info",
        arity: 2,
        since: "6.2.0",
        summary: "Returns information about the connection.",
        handler: Some(info),
        ..SUB
    },
    CommandSpec {
        name: "list",
        arity: -2,
        flags: ADMIN,
        since: "2.4.0",
        summary: "Lists open connections.",
        syntax: "[TYPE <NORMAL | MASTER | REPLICA | PUBSUB>] [ID client-id [client-id ...]]",
        handler: Some(list),
        ..SUB
    },
    CommandSpec {
        name: "kill",
        arity: -3,
        flags: ADMIN,
        since: "2.4.0",
        summary: "Terminates open connections.",
        syntax: "<ip:port | <[ID client-id] | [TYPE <NORMAL | MASTER | SLAVE | REPLICA | PUBSUB>] | [USER username] | [ADDR ip:port] | [LADDR ip:port] | [SKIPME <YES | NO>] [[ID client-id] | [TYPE <NORMAL | MASTER | SLAVE | REPLICA | PUBSUB>] | [USER username] | [ADDR ip:port] | [LADDR ip:port] | [SKIPME <YES | NO>] ...]>>",
        handler: Some(kill),
        ..SUB
    },
    CommandSpec {
        name: "getname",
        arity: 2,
        since: "2.6.9",
        summary: "Returns the name of the connection.",
        handler: Some(getname),
        ..SUB
    },
    CommandSpec {
        name: "setname",
        arity: 3,
        since: "2.6.9",
        summary: "Sets the connection name.",
        syntax: "connection-name",
        handler: Some(setname),
        ..SUB
    },
    CommandSpec {
        name: "no-evict",
        arity: 3,
        flags: ADMIN,
        since: "7.0.0",
        summary: "Sets the client eviction mode of the connection.",
        syntax: "<ON | OFF>",
        handler: Some(no_evict),
        ..SUB
    },
    CommandSpec {
        name: "unblock",
        arity: -3,
        flags: ADMIN,
        since: "5.0.0",
        summary: "Unblocks a client blocked by a blocking command from a different connection.",
        syntax: "client-id [TIMEOUT | ERROR]",
        handler: Some(unblock),
        ..SUB
    },
    CommandSpec {
        name: "help",
        arity: 2,
        flags: CmdFlags::LOADING.or(CmdFlags::STALE),
        since: "5.0.0",
        summary: "Returns helpful text about the different subcommands.",
        handler: Some(help),
        ..SUB
    },
];

/// `CLIENT UNBLOCK id [TIMEOUT|ERROR]`: 1 if the client was blocked and now is not.
fn unblock(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    if argv.len() > 4 {
        return Err(CmdError::err(
            "unknown subcommand or wrong number of arguments for 'unblock'. Try CLIENT HELP.",
        ));
    }
    let id = parse_i64(&argv[2]).ok_or_else(CmdError::not_integer)?;
    let mode = match argv.get(3) {
        None => UnblockMode::Timeout,
        Some(a) if is(a, "timeout") => UnblockMode::Timeout,
        Some(a) if is(a, "error") => UnblockMode::Error,
        Some(_) => {
            return Err(CmdError::err(
                "CLIENT UNBLOCK reason should be TIMEOUT or ERROR",
            ))
        }
    };
    let done = id >= 0 && ctx.engine.blocking.unblock(id as u64, mode);
    Ok(Frame::Integer(done as i64))
}

fn id(ctx: &mut Ctx<'_>, _argv: &[Bytes]) -> CmdResult {
    Ok(Frame::Integer(ctx.session.id() as i64))
}

/// Text replies of CLIENT INFO/LIST: verbatim `txt` in RESP3, bulk in RESP2.
fn verbatim(text: String) -> Frame {
    Frame::Verbatim {
        format: *b"txt",
        text: Bytes::from(text),
    }
}

fn info(ctx: &mut Ctx<'_>, _argv: &[Bytes]) -> CmdResult {
    Ok(verbatim(ctx.session.client.info_line() + "\n"))
}

/// Client classes of `CLIENT LIST TYPE` and `CLIENT KILL TYPE`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ClientType {
    Normal,
    Replica,
    PubSub,
    Master,
}

impl ClientType {
    /// Parses a class name (`ERR Unknown client type '...'`).
    fn parse(name: &[u8]) -> Result<ClientType, CmdError> {
        match name.to_ascii_lowercase().as_slice() {
            b"normal" => Ok(ClientType::Normal),
            b"slave" | b"replica" => Ok(ClientType::Replica),
            b"pubsub" => Ok(ClientType::PubSub),
            b"master" => Ok(ClientType::Master),
            _ => Err(CmdError::err(format!(
                "Unknown client type '{}'",
                String::from_utf8_lossy(name)
            ))),
        }
    }

    /// The class of a connected client: pub/sub while it has any subscription (as
    /// Redis' `getClientType`), else normal (there are no replicas yet).
    fn of(client: &ClientHandle) -> ClientType {
        let subscribed = client
            .subscriptions
            .iter()
            .any(|n| n.load(std::sync::atomic::Ordering::Relaxed) > 0);
        if subscribed {
            ClientType::PubSub
        } else {
            ClientType::Normal
        }
    }
}

/// Connected clients that `CLIENT KILL` has not already closed, by id.
pub fn live_clients(ctx: &Ctx<'_>) -> Vec<Arc<ClientHandle>> {
    ctx.engine
        .clients
        .all()
        .into_iter()
        .filter(|c| !c.is_killed())
        .collect()
}

fn list(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let clients: Vec<Arc<ClientHandle>> = match argv {
        [_, _] => live_clients(ctx),
        [_, _, opt, class] if is(opt, "type") => {
            let class = ClientType::parse(class)?;
            live_clients(ctx)
                .into_iter()
                .filter(|c| ClientType::of(c) == class)
                .collect()
        }
        [_, _, opt, ids @ ..] if is(opt, "id") && !ids.is_empty() => {
            let mut found = Vec::new();
            for arg in ids {
                let id = parse_i64(arg).ok_or_else(|| CmdError::err("Invalid client ID"))?;
                let client = u64::try_from(id)
                    .ok()
                    .and_then(|id| ctx.engine.clients.get(id));
                found.extend(client.filter(|c| !c.is_killed()));
            }
            found
        }
        _ => return Err(CmdError::syntax()),
    };
    let mut text = String::new();
    for client in clients {
        text.push_str(&client.info_line());
        text.push('\n');
    }
    Ok(verbatim(text))
}

/// The filters of `CLIENT KILL`; every given one must match.
struct KillFilter {
    addr: Option<Bytes>,
    laddr: Option<Bytes>,
    class: Option<ClientType>,
    id: Option<u64>,
    max_age: Option<u64>,
    skip_me: bool,
}

impl KillFilter {
    /// The new form's `<option> <value>` pairs, with Redis' errors.
    fn parse(argv: &[Bytes]) -> Result<KillFilter, CmdError> {
        let mut filter = KillFilter {
            addr: None,
            laddr: None,
            class: None,
            id: None,
            max_age: None,
            skip_me: true,
        };
        for pair in argv[2..].chunks(2) {
            let [opt, value] = pair else {
                return Err(CmdError::syntax());
            };
            if is(opt, "id") {
                let id = parse_i64(value).filter(|id| *id >= 1);
                filter.id = Some(
                    id.ok_or_else(|| CmdError::err("client-id should be greater than 0"))? as u64,
                );
            } else if is(opt, "type") {
                filter.class = Some(ClientType::parse(value)?);
            } else if is(opt, "addr") {
                filter.addr = Some(value.clone());
            } else if is(opt, "laddr") {
                filter.laddr = Some(value.clone());
            } else if is(opt, "user") {
                if value.as_ref() != b"default" {
                    return Err(CmdError::err(format!(
                        "No such user '{}'",
                        String::from_utf8_lossy(value)
                    )));
                }
            } else if is(opt, "skipme") {
                if !is(value, "yes") && !is(value, "no") {
                    return Err(CmdError::syntax());
                }
                filter.skip_me = is(value, "yes");
            } else if is(opt, "maxage") {
                let age = parse_i64(value).filter(|a| *a >= 0);
                filter.max_age = Some(
                    age.ok_or_else(|| CmdError::err("maxage is not an integer or out of range"))?
                        as u64,
                );
            } else {
                return Err(CmdError::syntax());
            }
        }
        Ok(filter)
    }

    fn matches(&self, client: &ClientHandle, me: u64) -> bool {
        self.addr
            .as_ref()
            .is_none_or(|a| a.as_ref() == client.addr.as_bytes())
            && self
                .laddr
                .as_ref()
                .is_none_or(|a| a.as_ref() == client.laddr.as_bytes())
            && self.class.is_none_or(|t| t == ClientType::of(client))
            && self.id.is_none_or(|id| id == client.id)
            && self
                .max_age
                .is_none_or(|age| client.created.elapsed().as_secs() > age)
            && !(self.skip_me && client.id == me)
    }
}

fn kill(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let old_form = argv.len() == 3;
    let filter = if old_form {
        // `CLIENT KILL addr:port` may kill the caller itself.
        KillFilter {
            addr: Some(argv[2].clone()),
            laddr: None,
            class: None,
            id: None,
            max_age: None,
            skip_me: false,
        }
    } else {
        KillFilter::parse(argv)?
    };
    let me = ctx.session.id();
    let mut killed = 0;
    for client in live_clients(ctx) {
        if !filter.matches(&client, me) {
            continue;
        }
        if client.id == me {
            ctx.session.close_after_reply = true;
        } else {
            client.kill();
        }
        killed += 1;
    }
    match (old_form, killed) {
        (true, 0) => Err(CmdError::err("No such client")),
        (true, _) => Ok(Frame::ok()),
        (false, n) => Ok(Frame::Integer(n)),
    }
}

fn getname(ctx: &mut Ctx<'_>, _argv: &[Bytes]) -> CmdResult {
    Ok(ctx.session.client.name().map_or(Frame::Null, Frame::Bulk))
}

fn setname(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let name = &argv[2];
    validate_client_name(name)?;
    *ctx.session.client.name.lock() = if name.is_empty() {
        None
    } else {
        Some(name.clone())
    };
    Ok(Frame::ok())
}

fn no_evict(_ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    // Client eviction (`maxmemory-clients`) is not implemented, so the mode has no
    // effect; it is checked as Redis does.
    if is(&argv[2], "on") || is(&argv[2], "off") {
        Ok(Frame::ok())
    } else {
        Err(CmdError::syntax())
    }
}

const HELP: &[&str] = &[
    "CACHING (YES|NO)",
    "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
    "GETREDIR",
    "    Return the client ID we are redirecting to when tracking is enabled.",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "    * ID <client-id>",
    "      Kill connections by client id.",
    "    * MAXAGE <maxage>",
    "      Kill connections older than the specified age.",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "UNPAUSE",
    "    Stop the current client pause, resuming traffic.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Suspend all, or just write, clients for <timeout> milliseconds.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    Unblock the specified blocked client.",
    "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
    "         [OPTIN] [OPTOUT] [NOLOOP]",
    "    Control server assisted client side caching.",
    "TRACKINGINFO",
    "    Report tracking status for the current connection.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
];

fn help(_ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    Ok(help_reply(&argv[0], HELP))
}

#[cfg(test)]
mod tests {
    use crate::testing::{engine, run, session};
    use ferrokv_protocol::Frame;

    fn text(frame: Frame) -> String {
        match frame {
            Frame::Verbatim { format, text } => {
                assert_eq!(&format, b"txt");
                String::from_utf8(text.to_vec()).unwrap()
            }
            other => panic!("not a verbatim string: {other:?}"),
        }
    }

    fn err(msg: &str) -> Frame {
        Frame::error(msg)
    }

    #[test]
    fn id_names_and_info() {
        let e = engine();
        let mut s = session(&e);
        assert_eq!(
            run(&e, &mut s, &["CLIENT", "ID"]),
            Frame::Integer(s.id() as i64)
        );
        assert_eq!(run(&e, &mut s, &["CLIENT", "GETNAME"]), Frame::Null);
        assert_eq!(
            run(&e, &mut s, &["CLIENT", "SETNAME", "worker-1"]),
            Frame::ok()
        );
        assert_eq!(
            run(&e, &mut s, &["client", "getname"]),
            Frame::bulk("worker-1")
        );
        assert_eq!(
            run(&e, &mut s, &["CLIENT", "SETNAME", "a b"]),
            err("ERR Client names cannot contain spaces, newlines or special characters.")
        );
        let info = text(run(&e, &mut s, &["CLIENT", "INFO"]));
        assert!(
            info.starts_with(&format!("id={} addr=127.0.0.1:1 ", s.id())),
            "{info}"
        );
        assert!(info.contains(" name=worker-1 "), "{info}");
        assert!(info.ends_with('\n'));
        assert_eq!(run(&e, &mut s, &["CLIENT", "SETNAME", ""]), Frame::ok());
        assert_eq!(run(&e, &mut s, &["CLIENT", "GETNAME"]), Frame::Null);
        assert_eq!(
            run(&e, &mut s, &["CLIENT", "ID", "x"]),
            err("ERR wrong number of arguments for 'client|id' command")
        );
        assert_eq!(
            run(&e, &mut s, &["CLIENT", "SETNAME"]),
            err("ERR wrong number of arguments for 'client|setname' command")
        );
        assert_eq!(
            run(&e, &mut s, &["CLIENT"]),
            err("ERR wrong number of arguments for 'client' command")
        );
        assert_eq!(
            run(&e, &mut s, &["CLIENT", "NOPE"]),
            err("ERR unknown subcommand 'NOPE'. Try CLIENT HELP.")
        );
    }

    #[test]
    fn list_filters() {
        let e = engine();
        let mut a = session(&e);
        let b = session(&e);
        let all = text(run(&e, &mut a, &["CLIENT", "LIST"]));
        assert_eq!(all.lines().count(), 2);
        assert!(all
            .lines()
            .nth(1)
            .unwrap()
            .starts_with(&format!("id={} ", b.id())));
        assert_eq!(
            text(run(&e, &mut a, &["CLIENT", "LIST", "TYPE", "normal"])),
            all
        );
        assert_eq!(
            text(run(&e, &mut a, &["CLIENT", "LIST", "TYPE", "replica"])),
            ""
        );
        assert_eq!(
            text(run(&e, &mut a, &["CLIENT", "LIST", "TYPE", "pubsub"])),
            ""
        );
        assert_eq!(
            run(&e, &mut a, &["CLIENT", "LIST", "TYPE", "foo"]),
            err("ERR Unknown client type 'foo'")
        );
        let only_b = text(run(
            &e,
            &mut a,
            &["CLIENT", "LIST", "ID", &b.id().to_string(), "999"],
        ));
        assert_eq!(only_b.lines().count(), 1);
        assert!(only_b.starts_with(&format!("id={} ", b.id())));
        assert_eq!(
            run(&e, &mut a, &["CLIENT", "LIST", "ID", "x"]),
            err("ERR Invalid client ID")
        );
        assert_eq!(
            run(&e, &mut a, &["CLIENT", "LIST", "ID"]),
            err("ERR syntax error")
        );
        assert_eq!(
            run(&e, &mut a, &["CLIENT", "LIST", "FOO"]),
            err("ERR syntax error")
        );
        assert_eq!(
            run(&e, &mut a, &["CLIENT", "LIST", "TYPE", "normal", "x"]),
            err("ERR syntax error")
        );
    }

    #[test]
    fn kill_old_and_new_forms() {
        let e = engine();
        let mut me = session(&e);
        let other = session(&e);
        assert_eq!(
            run(&e, &mut me, &["CLIENT", "KILL", "1.2.3.4:5"]),
            err("ERR No such client")
        );
        // Both sessions share the test address: the new form skips the caller by default.
        assert_eq!(
            run(&e, &mut me, &["CLIENT", "KILL", "ADDR", "127.0.0.1:1"]),
            Frame::Integer(1)
        );
        assert!(other.client.is_killed());
        assert!(!me.close_after_reply);
        assert_eq!(
            run(&e, &mut me, &["CLIENT", "KILL", "ADDR", "127.0.0.1:1"]),
            Frame::Integer(0)
        );
        let third = session(&e);
        assert_eq!(
            run(
                &e,
                &mut me,
                &[
                    "CLIENT",
                    "KILL",
                    "ID",
                    &third.id().to_string(),
                    "TYPE",
                    "normal",
                    "USER",
                    "default"
                ]
            ),
            Frame::Integer(1)
        );
        assert!(third.client.is_killed());
        assert_eq!(
            run(
                &e,
                &mut me,
                &["CLIENT", "KILL", "LADDR", "127.0.0.1:6379", "SKIPME", "no"]
            ),
            Frame::Integer(1)
        );
        assert!(me.close_after_reply);
        let mut me = session(&e);
        assert_eq!(
            run(&e, &mut me, &["CLIENT", "KILL", "127.0.0.1:1"]),
            Frame::ok()
        );
        assert!(me.close_after_reply);
    }

    #[test]
    fn kill_errors() {
        let e = engine();
        let mut s = session(&e);
        let cases: [(&[&str], &str); 9] = [
            (
                &["CLIENT", "KILL", "ID", "0"],
                "ERR client-id should be greater than 0",
            ),
            (
                &["CLIENT", "KILL", "ID", "x"],
                "ERR client-id should be greater than 0",
            ),
            (
                &["CLIENT", "KILL", "TYPE", "x"],
                "ERR Unknown client type 'x'",
            ),
            (&["CLIENT", "KILL", "USER", "bob"], "ERR No such user 'bob'"),
            (&["CLIENT", "KILL", "SKIPME", "maybe"], "ERR syntax error"),
            (&["CLIENT", "KILL", "FOO", "bar"], "ERR syntax error"),
            (&["CLIENT", "KILL", "ID", "1", "TYPE"], "ERR syntax error"),
            (
                &["CLIENT", "KILL", "MAXAGE", "x"],
                "ERR maxage is not an integer or out of range",
            ),
            (
                &["CLIENT", "KILL"],
                "ERR wrong number of arguments for 'client|kill' command",
            ),
        ];
        for (argv, msg) in cases {
            assert_eq!(run(&e, &mut s, argv), err(msg), "{argv:?}");
        }
        assert_eq!(
            run(
                &e,
                &mut s,
                &["CLIENT", "KILL", "MAXAGE", "100", "SKIPME", "no"]
            ),
            Frame::Integer(0)
        );
    }

    #[test]
    fn no_evict_and_help() {
        let e = engine();
        let mut s = session(&e);
        assert_eq!(run(&e, &mut s, &["CLIENT", "NO-EVICT", "on"]), Frame::ok());
        assert_eq!(run(&e, &mut s, &["CLIENT", "NO-EVICT", "OFF"]), Frame::ok());
        assert_eq!(
            run(&e, &mut s, &["CLIENT", "NO-EVICT", "x"]),
            err("ERR syntax error")
        );
        let Frame::Array(lines) = run(&e, &mut s, &["client", "help"]) else {
            panic!("not an array")
        };
        assert_eq!(
            lines[0],
            Frame::simple("CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
        );
        assert_eq!(lines[lines.len() - 2], Frame::simple("HELP"));
    }
}
