//! Connection commands: PING, ECHO, QUIT, SELECT, HELLO, RESET.

use bytes::Bytes;
use ferrokv_protocol::{Frame, RespVersion};

use crate::command::{CmdError, CmdFlags, CmdResult, CommandSpec, Ctx};
use crate::commands::args::{is, Args};
use crate::util::number::parse_i64;

const CONN: &[&str] = &["connection"];
const FAST_STALE: CmdFlags = CmdFlags::FAST.or(CmdFlags::STALE).or(CmdFlags::LOADING);

/// Connection command specs.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "ping",
        arity: -1,
        flags: CmdFlags::FAST,
        acl: CONN,
        group: "connection",
        summary: "Returns the server's liveliness response.",
        syntax: "[message]",
        handler: Some(ping),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "echo",
        arity: 2,
        flags: CmdFlags::FAST,
        acl: CONN,
        group: "connection",
        summary: "Returns the given string.",
        syntax: "message",
        handler: Some(echo),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "quit",
        arity: -1,
        flags: FAST_STALE
            .or(CmdFlags::NOSCRIPT)
            .or(CmdFlags::ALLOW_BUSY)
            .or(CmdFlags::NO_AUTH),
        acl: CONN,
        group: "connection",
        summary: "Closes the connection.",
        handler: Some(quit),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "select",
        arity: 2,
        flags: FAST_STALE,
        acl: CONN,
        group: "connection",
        since: "1.0.0",
        summary: "Changes the selected database.",
        syntax: "index",
        handler: Some(select),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "hello",
        arity: -1,
        flags: FAST_STALE
            .or(CmdFlags::NOSCRIPT)
            .or(CmdFlags::NO_AUTH)
            .or(CmdFlags::ALLOW_BUSY),
        acl: CONN,
        group: "connection",
        since: "6.0.0",
        summary: "Handshakes with the Redis server.",
        syntax: "[protover [AUTH username password] [SETNAME clientname]]",
        handler: Some(hello),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "reset",
        arity: 1,
        flags: FAST_STALE
            .or(CmdFlags::NOSCRIPT)
            .or(CmdFlags::NO_AUTH)
            .or(CmdFlags::ALLOW_BUSY),
        acl: CONN,
        group: "connection",
        since: "6.2.0",
        summary: "Resets the connection.",
        handler: Some(reset),
        ..CommandSpec::DEFAULT
    },
];

fn ping(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    if ctx.session.resp == RespVersion::Resp2 && ctx.session.pubsub.is_active() && argv.len() <= 2 {
        // RESP2 subscribed mode answers in the shape of a message (Redis' pingCommand).
        let message = argv.get(1).cloned().unwrap_or_default();
        return Ok(Frame::Array(vec![
            Frame::bulk("pong"),
            Frame::Bulk(message),
        ]));
    }
    match argv.len() {
        1 => Ok(Frame::simple("PONG")),
        2 => Ok(Frame::Bulk(argv[1].clone())),
        _ => Err(CmdError::arity("ping")),
    }
}

fn echo(_ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    Ok(Frame::Bulk(argv[1].clone()))
}

fn quit(ctx: &mut Ctx<'_>, _argv: &[Bytes]) -> CmdResult {
    ctx.session.close_after_reply = true;
    Ok(Frame::ok())
}

fn select(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let index = parse_i64(&argv[1]).ok_or_else(CmdError::not_integer)?;
    if index < 0 || index as usize >= ctx.engine.databases() {
        return Err(CmdError::err("DB index is out of range"));
    }
    ctx.session.db = index as usize;
    ctx.session
        .client
        .db
        .store(index as usize, std::sync::atomic::Ordering::Relaxed);
    Ok(Frame::ok())
}

fn hello(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let mut version = ctx.session.resp;
    let mut args = Args::new(argv, 1);
    if let Some(proto) = args.next_arg() {
        version = match parse_i64(proto) {
            Some(2) => RespVersion::Resp2,
            Some(3) => RespVersion::Resp3,
            Some(_) => return Err(CmdError("NOPROTO unsupported protocol version".into())),
            None => {
                return Err(CmdError::err(
                    "Protocol version is not an integer or out of range",
                ))
            }
        };
    }
    let mut name = None;
    while let Some(opt) = args.next_arg() {
        if is(opt, "auth") && argv.len() - args_pos(&args) >= 2 {
            let user = args.value()?;
            let _password = args.value()?;
            if !is(user, "default")
                || !ctx
                    .engine
                    .config
                    .get("requirepass")
                    .unwrap_or_default()
                    .is_empty()
            {
                return Err(CmdError(
                    "WRONGPASS invalid username-password pair or user is disabled.".into(),
                ));
            }
        } else if is(opt, "setname") && !args.is_done() {
            let value = args.value()?;
            validate_client_name(value)?;
            name = Some(value.clone());
        } else {
            return Err(CmdError::err(format!(
                "Syntax error in HELLO option '{}'",
                String::from_utf8_lossy(opt)
            )));
        }
    }
    if let Some(name) = name {
        *ctx.session.client.name.lock() = if name.is_empty() { None } else { Some(name) };
    }
    ctx.session.resp = version;
    let proto = if version == RespVersion::Resp3 { 3 } else { 2 };
    ctx.session
        .client
        .resp
        .store(proto as u8, std::sync::atomic::Ordering::Relaxed);
    Ok(Frame::Map(vec![
        (Frame::bulk("server"), Frame::bulk("redis")),
        (Frame::bulk("version"), Frame::bulk(crate::REDIS_VERSION)),
        (Frame::bulk("proto"), Frame::Integer(proto)),
        (Frame::bulk("id"), Frame::Integer(ctx.session.id() as i64)),
        (Frame::bulk("mode"), Frame::bulk("standalone")),
        (Frame::bulk("role"), Frame::bulk("master")),
        (Frame::bulk("modules"), Frame::Array(vec![])),
    ]))
}

fn args_pos(args: &Args<'_>) -> usize {
    args.position()
}

/// Checks a client name as Redis does: no spaces, newlines or other special characters.
pub fn validate_client_name(name: &[u8]) -> Result<(), CmdError> {
    if name.iter().any(|&c| !(b'!'..=b'~').contains(&c)) {
        return Err(CmdError::err(
            "Client names cannot contain spaces, newlines or special characters.",
        ));
    }
    Ok(())
}

fn reset(ctx: &mut Ctx<'_>, _argv: &[Bytes]) -> CmdResult {
    ctx.engine.pubsub.unsubscribe_all(&mut ctx.session.pubsub);
    ctx.session.db = 0;
    ctx.session.resp = RespVersion::Resp2;
    ctx.session
        .client
        .db
        .store(0, std::sync::atomic::Ordering::Relaxed);
    ctx.session
        .client
        .resp
        .store(2, std::sync::atomic::Ordering::Relaxed);
    *ctx.session.client.name.lock() = None;
    // Tracking, `CLIENT REPLY` and (as Redis 7.2) `CLIENT NO-TOUCH` go back to their
    // defaults; `CLIENT NO-EVICT` stays, as in Redis 7.0.
    ctx.engine.tracking.disable(&ctx.session.client);
    ctx.session.tracking_caching = false;
    ctx.session.reply_off = false;
    ctx.session.reply_skip_next = false;
    ctx.session
        .client
        .set_flag(crate::clients::FLAG_NO_TOUCH, false);
    Ok(Frame::simple("RESET"))
}

#[cfg(test)]
mod tests {
    use crate::testing::{engine, run, session};
    use ferrokv_protocol::{Frame, RespVersion};

    #[test]
    fn ping_echo_select_and_errors() {
        let e = engine();
        let mut s = session(&e);
        assert_eq!(run(&e, &mut s, &["PING"]), Frame::simple("PONG"));
        assert_eq!(run(&e, &mut s, &["ping", "hi"]), Frame::bulk("hi"));
        assert_eq!(
            run(&e, &mut s, &["ping", "a", "b"]),
            Frame::error("ERR wrong number of arguments for 'ping' command")
        );
        assert_eq!(run(&e, &mut s, &["ECHO", "x"]), Frame::bulk("x"));
        assert_eq!(
            run(&e, &mut s, &["echo"]),
            Frame::error("ERR wrong number of arguments for 'echo' command")
        );
        assert_eq!(run(&e, &mut s, &["SELECT", "15"]), Frame::ok());
        assert_eq!(s.db, 15);
        assert_eq!(
            run(&e, &mut s, &["SELECT", "16"]),
            Frame::error("ERR DB index is out of range")
        );
        assert_eq!(
            run(&e, &mut s, &["SELECT", "x"]),
            Frame::error("ERR value is not an integer or out of range")
        );
        assert_eq!(
            run(&e, &mut s, &["foo", "a", "b"]),
            Frame::error("ERR unknown command 'foo', with args beginning with: 'a' 'b' ")
        );
    }

    #[test]
    fn hello_switches_protocol() {
        let e = engine();
        let mut s = session(&e);
        let reply = run(&e, &mut s, &["HELLO", "3", "SETNAME", "me"]);
        assert!(matches!(reply, Frame::Map(_)));
        assert_eq!(s.resp, RespVersion::Resp3);
        assert_eq!(s.client.name().as_deref(), Some(&b"me"[..]));
        assert_eq!(
            run(&e, &mut s, &["HELLO", "4"]),
            Frame::error("NOPROTO unsupported protocol version")
        );
        assert_eq!(
            run(&e, &mut s, &["HELLO", "x"]),
            Frame::error("ERR Protocol version is not an integer or out of range")
        );
        assert_eq!(
            run(&e, &mut s, &["HELLO", "2", "FOO"]),
            Frame::error("ERR Syntax error in HELLO option 'FOO'")
        );
        assert_eq!(run(&e, &mut s, &["RESET"]), Frame::simple("RESET"));
        assert_eq!(s.resp, RespVersion::Resp2);
    }
}
