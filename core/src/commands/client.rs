//! The CLIENT container, as Redis 7.0's `clientCommand`: ID, INFO, LIST, KILL,
//! GETNAME, SETNAME, PAUSE, UNPAUSE, REPLY, NO-EVICT, NO-TOUCH (Redis 7.2),
//! UNBLOCK, client-side caching (TRACKING, CACHING, GETREDIR, TRACKINGINFO) and
//! HELP. Every connection is a normal (or pub/sub) client of the `default` user:
//! there are no replicas.

use std::sync::Arc;

use bytes::Bytes;
use ferrokv_protocol::Frame;

use crate::blocking::UnblockMode;
use crate::clients::{ClientHandle, FLAG_NO_EVICT, FLAG_NO_TOUCH};
use crate::command::{CmdError, CmdFlags, CmdResult, CommandSpec, Ctx};
use crate::commands::args::is;
use crate::commands::connection::validate_client_name;
use crate::commands::object::help_reply;
use crate::pause::PauseKind;
use crate::tracking::{self as t, Tracking};
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
        name: "no-touch",
        arity: 3,
        flags: BASE,
        since: "7.2.0",
        summary: "Controls whether commands sent by the client affect the LRU/LFU of accessed keys.",
        syntax: "<ON | OFF>",
        handler: Some(no_touch),
        ..SUB
    },
    CommandSpec {
        name: "pause",
        arity: -3,
        flags: ADMIN,
        since: "2.9.50",
        summary: "Suspends commands processing.",
        syntax: "timeout [WRITE | ALL]",
        handler: Some(pause),
        ..SUB
    },
    CommandSpec {
        name: "unpause",
        arity: 2,
        flags: ADMIN,
        since: "6.2.0",
        summary: "Resumes processing commands from paused clients.",
        handler: Some(unpause),
        ..SUB
    },
    CommandSpec {
        name: "reply",
        arity: 3,
        since: "3.2.0",
        summary: "Instructs the server whether to reply to commands.",
        syntax: "<ON | OFF | SKIP>",
        handler: Some(reply),
        ..SUB
    },
    CommandSpec {
        name: "tracking",
        arity: -3,
        since: "6.0.0",
        summary: "Controls server-assisted client-side caching for the connection.",
        syntax: "<ON | OFF> [REDIRECT client-id] [PREFIX prefix [PREFIX prefix ...]] [BCAST] [OPTIN] [OPTOUT] [NOLOOP]",
        handler: Some(tracking),
        ..SUB
    },
    CommandSpec {
        name: "caching",
        arity: 3,
        since: "6.0.0",
        summary: "Instructs the server whether to track the keys in the next request.",
        syntax: "<YES | NO>",
        handler: Some(caching),
        ..SUB
    },
    CommandSpec {
        name: "getredir",
        arity: 2,
        since: "6.0.0",
        summary: "Returns the client ID to which the connection's tracking notifications are redirected.",
        handler: Some(getredir),
        ..SUB
    },
    CommandSpec {
        name: "trackinginfo",
        arity: 2,
        since: "6.2.0",
        summary: "Returns information about server-assisted client-side caching for the connection.",
        handler: Some(trackinginfo),
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

/// `ON` / `OFF` of NO-EVICT and NO-TOUCH (`ERR syntax error` otherwise).
fn on_off(arg: &[u8]) -> Result<bool, CmdError> {
    if is(arg, "on") {
        Ok(true)
    } else if is(arg, "off") {
        Ok(false)
    } else {
        Err(CmdError::syntax())
    }
}

fn no_evict(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    // Client eviction (`maxmemory-clients`) is not implemented: the mode only shows
    // in `CLIENT LIST` (`flags=e`).
    let on = on_off(&argv[2])?;
    ctx.session.client.set_flag(FLAG_NO_EVICT, on);
    Ok(Frame::ok())
}

/// `CLIENT NO-TOUCH on|off` (Redis 7.2): the client's commands, except `TOUCH`, do
/// not update the access time and frequency of the keys they read.
fn no_touch(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let on = on_off(&argv[2])?;
    ctx.session.client.set_flag(FLAG_NO_TOUCH, on);
    Ok(Frame::ok())
}

/// `CLIENT PAUSE timeout [WRITE|ALL]`: the mode is checked before the timeout, as in
/// Redis.
fn pause(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    if argv.len() > 4 {
        return Err(CmdError::err(
            "unknown subcommand or wrong number of arguments for 'PAUSE'. Try CLIENT HELP.",
        ));
    }
    let kind = match argv.get(3) {
        None => PauseKind::All,
        Some(a) if is(a, "all") => PauseKind::All,
        Some(a) if is(a, "write") => PauseKind::Write,
        Some(_) => return Err(CmdError::err("CLIENT PAUSE mode must be WRITE or ALL")),
    };
    let ms = parse_i64(&argv[2])
        .ok_or_else(|| CmdError::err("timeout is not an integer or out of range"))?;
    if ms < 0 {
        return Err(CmdError::err("timeout is negative"));
    }
    let until = crate::clients::unix_ms().saturating_add(ms as u64);
    ctx.engine.pause.pause(kind, until);
    Ok(Frame::ok())
}

fn unpause(ctx: &mut Ctx<'_>, _argv: &[Bytes]) -> CmdResult {
    ctx.engine.pause.unpause();
    Ok(Frame::ok())
}

/// `CLIENT REPLY on|off|skip`. OFF and SKIP are not answered; SKIP also silences
/// the next command (see `Engine::execute`).
fn reply(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let s = &mut *ctx.session;
    if is(&argv[2], "on") {
        s.reply_off = false;
        s.reply_skip = false;
    } else if is(&argv[2], "off") {
        s.reply_off = true;
        s.suppress_reply = true;
    } else if is(&argv[2], "skip") {
        if !s.reply_off {
            s.reply_skip_next = true;
        }
        s.suppress_reply = true;
    } else {
        return Err(CmdError::syntax());
    }
    Ok(Frame::ok())
}

/// `CLIENT TRACKING on|off [REDIRECT id] [BCAST] [PREFIX p ...] [OPTIN] [OPTOUT]
/// [NOLOOP]`, with Redis' checks in Redis' order.
fn tracking(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let mut redirect = 0u64;
    let mut options = 0u32;
    let mut prefixes: Vec<Bytes> = Vec::new();
    let mut j = 3;
    while j < argv.len() {
        let more = j + 1 < argv.len();
        let opt = &argv[j];
        if is(opt, "redirect") && more {
            j += 1;
            if redirect != 0 {
                return Err(CmdError::err(
                    "A client can only redirect to a single other client",
                ));
            }
            let id = parse_i64(&argv[j]).ok_or_else(CmdError::not_integer)?;
            let found = u64::try_from(id)
                .ok()
                .and_then(|id| ctx.engine.clients.get(id));
            let Some(target) = found else {
                return Err(CmdError::err(
                    "The client ID you want redirect to does not exist",
                ));
            };
            redirect = target.id;
        } else if is(opt, "bcast") {
            options |= t::BCAST;
        } else if is(opt, "optin") {
            options |= t::OPTIN;
        } else if is(opt, "optout") {
            options |= t::OPTOUT;
        } else if is(opt, "noloop") {
            options |= t::NOLOOP;
        } else if is(opt, "prefix") && more {
            j += 1;
            prefixes.push(argv[j].clone());
        } else {
            return Err(CmdError::syntax());
        }
        j += 1;
    }
    let client = ctx.session.client.clone();
    if is(&argv[2], "off") {
        ctx.engine.tracking.disable(&client);
        return Ok(Frame::ok());
    }
    if !is(&argv[2], "on") {
        return Err(CmdError::syntax());
    }
    let current = client.tracking.flags();
    if options & t::BCAST == 0 && !prefixes.is_empty() {
        return Err(CmdError::err(
            "PREFIX option requires BCAST mode to be enabled",
        ));
    }
    if current & t::ON != 0 && (current & t::BCAST != 0) != (options & t::BCAST != 0) {
        return Err(CmdError::err(
            "You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.",
        ));
    }
    if options & t::BCAST != 0 && options & (t::OPTIN | t::OPTOUT) != 0 {
        return Err(CmdError::err(
            "OPTIN and OPTOUT are not compatible with BCAST",
        ));
    }
    if options & t::OPTIN != 0 && options & t::OPTOUT != 0 {
        return Err(CmdError::err(
            "You can't specify both OPTIN mode and OPTOUT mode",
        ));
    }
    if (options & t::OPTIN != 0 && current & t::OPTOUT != 0)
        || (options & t::OPTOUT != 0 && current & t::OPTIN != 0)
    {
        return Err(CmdError::err(
            "You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.",
        ));
    }
    if options & t::BCAST != 0 {
        Tracking::check_prefixes(&client, &prefixes).map_err(CmdError::err)?;
    }
    // The queue exists before the first read is remembered, so that every
    // invalidation is ordered after the reply it concerns (see `Session::push_mark`).
    client.push_queue();
    ctx.engine
        .tracking
        .enable(&client, redirect, options, &prefixes);
    Ok(Frame::ok())
}

/// `CLIENT CACHING yes|no`: whether the next command's keys are tracked, in OPTIN
/// (yes) or OPTOUT (no) mode.
fn caching(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let flags = ctx.session.client.tracking.flags();
    if flags & t::ON == 0 {
        return Err(CmdError::err(
            "CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled",
        ));
    }
    if is(&argv[2], "yes") {
        if flags & t::OPTIN == 0 {
            return Err(CmdError::err(
                "CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.",
            ));
        }
    } else if is(&argv[2], "no") {
        if flags & t::OPTOUT == 0 {
            return Err(CmdError::err(
                "CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.",
            ));
        }
    } else {
        return Err(CmdError::syntax());
    }
    ctx.session.tracking_caching = true;
    Ok(Frame::ok())
}

fn getredir(ctx: &mut Ctx<'_>, _argv: &[Bytes]) -> CmdResult {
    Ok(Frame::Integer(
        ctx.session.client.tracking.redirect_for_list(),
    ))
}

/// `CLIENT TRACKINGINFO`: a map of the mode flags (a set), the redirect target and
/// the broadcast prefixes.
fn trackinginfo(ctx: &mut Ctx<'_>, _argv: &[Bytes]) -> CmdResult {
    let tracking = &ctx.session.client.tracking;
    let flags = tracking.flags();
    let caching = ctx.session.tracking_caching;
    let mut names: Vec<&str> = vec![if flags & t::ON != 0 { "on" } else { "off" }];
    let named = [
        (flags & t::BCAST != 0, "bcast"),
        (flags & t::OPTIN != 0, "optin"),
        (flags & t::OPTIN != 0 && caching, "caching-yes"),
        (flags & t::OPTOUT != 0, "optout"),
        (flags & t::OPTOUT != 0 && caching, "caching-no"),
        (flags & t::NOLOOP != 0, "noloop"),
        (flags & t::BROKEN_REDIRECT != 0, "broken_redirect"),
    ];
    names.extend(named.iter().filter(|(on, _)| *on).map(|(_, n)| *n));
    Ok(Frame::Map(vec![
        (
            Frame::bulk("flags"),
            Frame::Set(names.into_iter().map(Frame::bulk).collect()),
        ),
        (
            Frame::bulk("redirect"),
            Frame::Integer(tracking.redirect_for_list()),
        ),
        (
            Frame::bulk("prefixes"),
            Frame::Array(tracking.prefixes().into_iter().map(Frame::Bulk).collect()),
        ),
    ]))
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
    "NO-TOUCH (ON|OFF)",
    "    Will not touch LRU/LFU stats when this mode is on.",
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
