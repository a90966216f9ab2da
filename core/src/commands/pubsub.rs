//! Pub/sub commands: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, PUBLISH, the
//! PUBSUB container, and the shard variants SSUBSCRIBE, SUNSUBSCRIBE, SPUBLISH (a
//! namespace of their own: there is no cluster). The registry lives in
//! [`crate::pubsub`].
//!
//! The subscription commands answer with one confirmation per channel; those are
//! queued in the client's [`crate::pubsub::Subscriber`] with its messages, and the
//! connection sends them from there, in order with the messages. The handler returns
//! the last confirmation as its nominal reply for callers without a queue.

use bytes::Bytes;
use ferrokv_protocol::Frame;

use crate::command::{CmdError, CmdFlags, CmdResult, CommandSpec, Ctx};
use crate::commands::object::help_reply;
use crate::pubsub::Kind;

const SUBSCRIBING: CmdFlags = CmdFlags::PUBSUB
    .or(CmdFlags::NOSCRIPT)
    .or(CmdFlags::LOADING)
    .or(CmdFlags::STALE);
const PUBLISHING: CmdFlags = CmdFlags::PUBSUB
    .or(CmdFlags::LOADING)
    .or(CmdFlags::STALE)
    .or(CmdFlags::FAST)
    .or(CmdFlags::MAY_REPLICATE);
const INTROSPECTION: CmdFlags = CmdFlags::PUBSUB.or(CmdFlags::LOADING).or(CmdFlags::STALE);

/// A `pubsub`-group spec with the usual defaults.
const SPEC: CommandSpec = CommandSpec {
    flags: SUBSCRIBING,
    group: "pubsub",
    since: "2.0.0",
    ..CommandSpec::DEFAULT
};

/// Pub/sub command specs. The shard commands name no keys here: Redis 7.0 flags their
/// channel arguments `not_key`, and declaring them would make the engine lock them.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "subscribe",
        arity: -2,
        summary: "Listens for messages published to channels.",
        syntax: "channel [channel ...]",
        handler: Some(subscribe),
        ..SPEC
    },
    CommandSpec {
        name: "unsubscribe",
        arity: -1,
        summary: "Stops listening to messages posted to channels.",
        syntax: "[channel [channel ...]]",
        handler: Some(unsubscribe),
        ..SPEC
    },
    CommandSpec {
        name: "psubscribe",
        arity: -2,
        summary: "Listens for messages published to channels that match one or more patterns.",
        syntax: "pattern [pattern ...]",
        handler: Some(psubscribe),
        ..SPEC
    },
    CommandSpec {
        name: "punsubscribe",
        arity: -1,
        summary:
            "Stops listening to messages published to channels that match one or more patterns.",
        syntax: "[pattern [pattern ...]]",
        handler: Some(punsubscribe),
        ..SPEC
    },
    CommandSpec {
        name: "publish",
        arity: 3,
        flags: PUBLISHING,
        summary: "Posts a message to a channel.",
        syntax: "channel message",
        handler: Some(publish),
        ..SPEC
    },
    CommandSpec {
        name: "ssubscribe",
        arity: -2,
        since: "7.0.0",
        summary: "Listens for messages published to shard channels.",
        syntax: "shardchannel [shardchannel ...]",
        handler: Some(ssubscribe),
        ..SPEC
    },
    CommandSpec {
        name: "sunsubscribe",
        arity: -1,
        since: "7.0.0",
        summary: "Stops listening to messages posted to shard channels.",
        syntax: "[shardchannel [shardchannel ...]]",
        handler: Some(sunsubscribe),
        ..SPEC
    },
    CommandSpec {
        name: "spublish",
        arity: 3,
        flags: PUBLISHING,
        since: "7.0.0",
        summary: "Post a message to a shard channel",
        syntax: "shardchannel message",
        handler: Some(spublish),
        ..SPEC
    },
    CommandSpec {
        name: "pubsub",
        arity: -2,
        flags: CmdFlags(0),
        since: "2.8.0",
        summary: "A container for Pub/Sub commands.",
        syntax: "<subcommand> [<arg> ...]",
        subcommands: SUBCOMMANDS,
        ..SPEC
    },
];

static SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "channels",
        arity: -2,
        flags: INTROSPECTION,
        since: "2.8.0",
        summary: "Returns the active channels.",
        syntax: "[pattern]",
        handler: Some(channels),
        ..SPEC
    },
    CommandSpec {
        name: "numpat",
        arity: 2,
        flags: INTROSPECTION,
        since: "2.8.0",
        summary: "Returns a count of unique pattern subscriptions.",
        handler: Some(numpat),
        ..SPEC
    },
    CommandSpec {
        name: "numsub",
        arity: -2,
        flags: INTROSPECTION,
        since: "2.8.0",
        summary: "Returns a count of subscribers to channels.",
        syntax: "[channel [channel ...]]",
        handler: Some(numsub),
        ..SPEC
    },
    CommandSpec {
        name: "shardchannels",
        arity: -2,
        flags: INTROSPECTION,
        since: "7.0.0",
        summary: "Returns the active shard channels.",
        syntax: "[pattern]",
        handler: Some(shardchannels),
        ..SPEC
    },
    CommandSpec {
        name: "shardnumsub",
        arity: -2,
        flags: INTROSPECTION,
        since: "7.0.0",
        summary: "Returns the count of subscribers of shard channels.",
        syntax: "[shardchannel [shardchannel ...]]",
        handler: Some(shardnumsub),
        ..SPEC
    },
    CommandSpec {
        name: "help",
        arity: 2,
        flags: CmdFlags::LOADING.or(CmdFlags::STALE),
        since: "6.2.0",
        summary: "Returns helpful text about the different subcommands.",
        handler: Some(help),
        ..SPEC
    },
];

fn subscribe_to(ctx: &mut Ctx<'_>, argv: &[Bytes], kind: Kind) -> CmdResult {
    let engine = ctx.engine;
    engine.pubsub.refresh_limits(&engine.config);
    let client = ctx.session.client.clone();
    let mut last = Frame::Null;
    for name in &argv[1..] {
        last = engine
            .pubsub
            .subscribe(&mut ctx.session.pubsub, &client, kind, name);
    }
    Ok(last)
}

fn unsubscribe_from(ctx: &mut Ctx<'_>, argv: &[Bytes], kind: Kind) -> CmdResult {
    let client = ctx.session.client.clone();
    let frames = ctx
        .engine
        .pubsub
        .unsubscribe(&mut ctx.session.pubsub, &client, kind, &argv[1..]);
    Ok(frames.into_iter().last().unwrap_or(Frame::Null))
}

fn subscribe(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    subscribe_to(ctx, argv, Kind::Channel)
}

fn unsubscribe(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    unsubscribe_from(ctx, argv, Kind::Channel)
}

fn psubscribe(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    subscribe_to(ctx, argv, Kind::Pattern)
}

fn punsubscribe(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    unsubscribe_from(ctx, argv, Kind::Pattern)
}

fn ssubscribe(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    subscribe_to(ctx, argv, Kind::Shard)
}

fn sunsubscribe(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    unsubscribe_from(ctx, argv, Kind::Shard)
}

fn publish(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let n = ctx.engine.pubsub.publish(false, &argv[1], &argv[2]);
    Ok(Frame::Integer(n as i64))
}

fn spublish(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let n = ctx.engine.pubsub.publish(true, &argv[1], &argv[2]);
    Ok(Frame::Integer(n as i64))
}

/// `PUBSUB CHANNELS [pattern]` and `PUBSUB SHARDCHANNELS [pattern]`.
fn list_channels(ctx: &mut Ctx<'_>, argv: &[Bytes], shard: bool) -> CmdResult {
    if argv.len() > 3 {
        return Err(CmdError::err(format!(
            "unknown subcommand or wrong number of arguments for '{}'. Try PUBSUB HELP.",
            String::from_utf8_lossy(&argv[1])
        )));
    }
    let pattern = argv.get(2).map(|p| &p[..]);
    let names = ctx.engine.pubsub.channels(shard, pattern);
    Ok(Frame::Array(names.into_iter().map(Frame::Bulk).collect()))
}

fn channels(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    list_channels(ctx, argv, false)
}

fn shardchannels(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    list_channels(ctx, argv, true)
}

/// `PUBSUB NUMSUB` and `PUBSUB SHARDNUMSUB`: a flat channel, count list.
fn count_subscribers(ctx: &mut Ctx<'_>, argv: &[Bytes], shard: bool) -> CmdResult {
    let mut out = Vec::with_capacity((argv.len() - 2) * 2);
    for channel in &argv[2..] {
        let n = ctx.engine.pubsub.numsub(shard, channel);
        out.push(Frame::Bulk(channel.clone()));
        out.push(Frame::Integer(n as i64));
    }
    Ok(Frame::Array(out))
}

fn numsub(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    count_subscribers(ctx, argv, false)
}

fn shardnumsub(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    count_subscribers(ctx, argv, true)
}

fn numpat(ctx: &mut Ctx<'_>, _argv: &[Bytes]) -> CmdResult {
    Ok(Frame::Integer(ctx.engine.pubsub.pattern_count() as i64))
}

const HELP: &[&str] = &[
    "CHANNELS [<pattern>]",
    "    Return the currently active channels matching a <pattern> (default: '*').",
    "NUMPAT",
    "    Return number of subscriptions to patterns.",
    "NUMSUB [<channel> ...]",
    "    Return the number of subscribers for the specified channels, excluding",
    "    pattern subscriptions(default: no channels).",
    "SHARDCHANNELS [<pattern>]",
    "    Return the currently active shard level channels matching a <pattern> (default: '*').",
    "SHARDNUMSUB [<shardchannel> ...]",
    "    Return the number of subscribers for the specified shard level channel(s)",
];

fn help(_ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    Ok(help_reply(&argv[0], HELP))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use bytes::{Bytes, BytesMut};
    use ferrokv_protocol::{decode_frame, Frame};

    use crate::pubsub::Subscriber;
    use crate::testing::{engine, run, session};
    use crate::Session;

    fn push(items: Vec<Frame>) -> Frame {
        Frame::Array(items)
    }

    fn b(s: &str) -> Frame {
        Frame::bulk(s)
    }

    /// Every frame queued for the session's connection, decoded (RESP2 pushes read
    /// back as arrays).
    fn queued(s: &Session) -> Vec<Frame> {
        let Some(sub) = s.pubsub.subscriber() else {
            return Vec::new();
        };
        let mut out = BytesMut::new();
        let n = sub.drain(&mut out, usize::MAX);
        sub.written(n);
        let mut frames = Vec::new();
        while let Some(f) = decode_frame(&mut out).unwrap() {
            frames.push(f);
        }
        frames
    }

    fn sub_of(s: &Session) -> Arc<Subscriber> {
        s.pubsub.subscriber().unwrap().clone()
    }

    #[test]
    fn subscribe_confirms_each_channel_and_counts() {
        let e = engine();
        let mut s = session(&e);
        let reply = run(&e, &mut s, &["SUBSCRIBE", "a", "b", "a"]);
        assert_eq!(
            reply,
            Frame::Push(vec![b("subscribe"), b("a"), Frame::Integer(2)])
        );
        assert_eq!(
            queued(&s),
            vec![
                push(vec![b("subscribe"), b("a"), Frame::Integer(1)]),
                push(vec![b("subscribe"), b("b"), Frame::Integer(2)]),
                push(vec![b("subscribe"), b("a"), Frame::Integer(2)]),
            ]
        );
        run(&e, &mut s, &["PSUBSCRIBE", "x*"]);
        run(&e, &mut s, &["SSUBSCRIBE", "s"]);
        assert_eq!(
            queued(&s),
            vec![
                push(vec![b("psubscribe"), b("x*"), Frame::Integer(3)]),
                push(vec![b("ssubscribe"), b("s"), Frame::Integer(1)]),
            ]
        );
        assert!(s
            .client
            .info_line()
            .contains("flags=P db=0 sub=2 psub=1 ssub=1"));
        assert_eq!(e.pubsub.channel_count(), 2);
        assert_eq!(e.pubsub.pattern_count(), 1);
        assert_eq!(e.pubsub.shard_channel_count(), 1);
    }

    #[test]
    fn unsubscribe_all_and_nothing_to_leave() {
        let e = engine();
        let mut s = session(&e);
        run(&e, &mut s, &["UNSUBSCRIBE"]);
        run(&e, &mut s, &["PUNSUBSCRIBE"]);
        run(&e, &mut s, &["SUNSUBSCRIBE"]);
        assert_eq!(
            queued(&s),
            vec![
                push(vec![b("unsubscribe"), Frame::Null, Frame::Integer(0)]),
                push(vec![b("punsubscribe"), Frame::Null, Frame::Integer(0)]),
                push(vec![b("sunsubscribe"), Frame::Null, Frame::Integer(0)]),
            ]
        );
        run(&e, &mut s, &["SUBSCRIBE", "a", "b"]);
        run(&e, &mut s, &["PSUBSCRIBE", "p"]);
        queued(&s);
        run(&e, &mut s, &["UNSUBSCRIBE", "zz"]);
        run(&e, &mut s, &["UNSUBSCRIBE"]);
        assert_eq!(
            queued(&s),
            vec![
                push(vec![b("unsubscribe"), b("zz"), Frame::Integer(3)]),
                push(vec![b("unsubscribe"), b("a"), Frame::Integer(2)]),
                push(vec![b("unsubscribe"), b("b"), Frame::Integer(1)]),
            ]
        );
        assert!(s.pubsub.is_active());
        run(&e, &mut s, &["PUNSUBSCRIBE"]);
        assert!(!s.pubsub.is_active());
        assert_eq!(e.pubsub.channel_count(), 0);
        assert_eq!(e.pubsub.pattern_count(), 0);
        assert!(s
            .client
            .info_line()
            .contains("flags=N db=0 sub=0 psub=0 ssub=0"));
    }

    #[test]
    fn publish_counts_channel_and_pattern_receivers() {
        let e = engine();
        let mut a = session(&e);
        let mut b2 = session(&e);
        let mut p = session(&e);
        run(&e, &mut a, &["SUBSCRIBE", "news.a"]);
        run(&e, &mut a, &["PSUBSCRIBE", "news.*", "n*", "news.*"]);
        run(&e, &mut b2, &["PSUBSCRIBE", "news.*"]);
        queued(&a);
        queued(&b2);
        assert_eq!(
            run(&e, &mut p, &["PUBLISH", "news.a", "hi"]),
            Frame::Integer(4)
        );
        let got = queued(&a);
        assert_eq!(got[0], push(vec![b("message"), b("news.a"), b("hi")]));
        let mut rest = got[1..].to_vec();
        rest.sort_by_key(|f| format!("{f:?}"));
        assert_eq!(
            rest,
            vec![
                push(vec![b("pmessage"), b("n*"), b("news.a"), b("hi")]),
                push(vec![b("pmessage"), b("news.*"), b("news.a"), b("hi")]),
            ]
        );
        assert_eq!(
            queued(&b2),
            vec![push(vec![b("pmessage"), b("news.*"), b("news.a"), b("hi")])]
        );
        assert_eq!(
            run(&e, &mut p, &["PUBLISH", "other", "x"]),
            Frame::Integer(0)
        );
        assert_eq!(
            run(&e, &mut p, &["SPUBLISH", "news.a", "x"]),
            Frame::Integer(0)
        );
        assert_eq!(run(&e, &mut p, &["PUBSUB", "NUMPAT"]), Frame::Integer(2));
        assert_eq!(
            run(&e, &mut p, &["PUBSUB", "NUMSUB", "news.a", "x"]),
            Frame::Array(vec![
                b("news.a"),
                Frame::Integer(1),
                b("x"),
                Frame::Integer(0)
            ])
        );
        assert_eq!(
            run(&e, &mut p, &["PUBSUB", "CHANNELS", "n*"]),
            Frame::Array(vec![b("news.a")])
        );
        assert_eq!(
            run(&e, &mut p, &["PUBSUB", "CHANNELS", "x*"]),
            Frame::Array(vec![])
        );
        assert_eq!(
            run(&e, &mut p, &["PUBSUB", "CHANNELS", "a", "b"]),
            Frame::error(
                "ERR unknown subcommand or wrong number of arguments for 'CHANNELS'. Try PUBSUB HELP."
            )
        );
        assert_eq!(
            run(&e, &mut p, &["PUBSUB", "NUMPAT", "x"]),
            Frame::error("ERR wrong number of arguments for 'pubsub|numpat' command")
        );
    }

    #[test]
    fn shard_channels_are_a_namespace_of_their_own() {
        let e = engine();
        let mut s = session(&e);
        let mut p = session(&e);
        run(&e, &mut s, &["SSUBSCRIBE", "c", "c"]);
        run(&e, &mut s, &["PSUBSCRIBE", "*"]);
        queued(&s);
        assert_eq!(run(&e, &mut p, &["SPUBLISH", "c", "m"]), Frame::Integer(1));
        assert_eq!(queued(&s), vec![push(vec![b("smessage"), b("c"), b("m")])]);
        assert_eq!(
            run(&e, &mut p, &["PUBSUB", "SHARDCHANNELS"]),
            Frame::Array(vec![b("c")])
        );
        assert_eq!(
            run(&e, &mut p, &["PUBSUB", "SHARDNUMSUB", "c"]),
            Frame::Array(vec![b("c"), Frame::Integer(1)])
        );
        assert_eq!(
            run(&e, &mut p, &["PUBSUB", "CHANNELS"]),
            Frame::Array(vec![])
        );
    }

    #[test]
    fn resp3_subscribers_get_push_frames() {
        let e = engine();
        let mut s = session(&e);
        let mut p = session(&e);
        run(&e, &mut s, &["HELLO", "3"]);
        run(&e, &mut s, &["SUBSCRIBE", "c"]);
        run(&e, &mut p, &["PUBLISH", "c", "m"]);
        assert_eq!(
            queued(&s),
            vec![
                Frame::Push(vec![b("subscribe"), b("c"), Frame::Integer(1)]),
                Frame::Push(vec![b("message"), b("c"), b("m")]),
            ]
        );
    }

    #[test]
    fn reset_and_disconnect_drop_subscriptions() {
        let e = engine();
        let mut s = session(&e);
        let mut p = session(&e);
        run(&e, &mut s, &["SUBSCRIBE", "c"]);
        run(&e, &mut s, &["PSUBSCRIBE", "*"]);
        run(&e, &mut s, &["SSUBSCRIBE", "d"]);
        e.pubsub.unsubscribe_all(&mut s.pubsub);
        assert!(!s.pubsub.is_active());
        assert_eq!(run(&e, &mut p, &["PUBLISH", "c", "m"]), Frame::Integer(0));
        assert_eq!(e.pubsub.channel_count(), 0);
        assert_eq!(e.pubsub.pattern_count(), 0);
        assert_eq!(e.pubsub.shard_channel_count(), 0);
    }

    #[test]
    fn hard_limit_closes_the_subscriber() {
        let e = engine();
        e.config
            .set("client-output-buffer-limit", "pubsub 1100 0 0")
            .unwrap();
        let mut s = session(&e);
        let mut p = session(&e);
        run(&e, &mut s, &["SUBSCRIBE", "c"]);
        let sub = sub_of(&s);
        let payload = "x".repeat(300);
        for _ in 0..3 {
            run(&e, &mut p, &["PUBLISH", "c", &payload]);
        }
        assert!(!s.client.is_killed());
        run(&e, &mut p, &["PUBLISH", "c", &payload]);
        assert!(s.client.is_killed());
        assert!(sub.closed_by_limit());
        assert_eq!(sub.pending_bytes(), 0);
        // Still registered until the connection leaves: counted, not queued.
        assert_eq!(run(&e, &mut p, &["PUBLISH", "c", "m"]), Frame::Integer(1));
        assert!(!sub.has_frames());
    }

    #[test]
    fn soft_limit_needs_to_last() {
        let e = engine();
        e.config
            .set("client-output-buffer-limit", "pubsub 0 100 0")
            .unwrap();
        let mut s = session(&e);
        let mut p = session(&e);
        run(&e, &mut s, &["SUBSCRIBE", "c"]);
        let payload = "x".repeat(200);
        run(&e, &mut p, &["PUBLISH", "c", &payload]);
        run(&e, &mut p, &["PUBLISH", "c", &payload]);
        assert!(!s.client.is_killed(), "within the soft limit's seconds");
        std::thread::sleep(std::time::Duration::from_millis(1100));
        run(&e, &mut p, &["PUBLISH", "c", &payload]);
        assert!(s.client.is_killed());
    }

    #[test]
    fn cron_closes_queues_left_over_the_soft_limit() {
        let e = engine();
        e.config
            .set("client-output-buffer-limit", "pubsub 0 100 0")
            .unwrap();
        let mut s = session(&e);
        let mut quick = session(&e);
        let mut p = session(&e);
        run(&e, &mut s, &["SUBSCRIBE", "c"]);
        run(&e, &mut quick, &["SUBSCRIBE", "c"]);
        let payload = "x".repeat(200);
        run(&e, &mut p, &["PUBLISH", "c", &payload]);
        // One reads everything it was sent; the other does not.
        queued(&quick);
        e.pubsub.enforce_limits();
        assert!(!s.client.is_killed());
        std::thread::sleep(std::time::Duration::from_millis(1100));
        e.pubsub.enforce_limits();
        assert!(s.client.is_killed());
        assert!(!quick.client.is_killed());
        e.pubsub.enforce_limits();
        assert!(!quick.client.is_killed());
    }

    #[test]
    fn drained_bytes_count_until_written() {
        let e = engine();
        let mut s = session(&e);
        let mut p = session(&e);
        run(&e, &mut s, &["SUBSCRIBE", "c"]);
        let sub = sub_of(&s);
        let first = sub.pending_bytes();
        assert!(first > 0);
        run(&e, &mut p, &["PUBLISH", "c", "m1"]);
        run(&e, &mut p, &["PUBLISH", "c", "m2"]);
        let before = sub.pending_bytes();
        let mut out = BytesMut::new();
        let n = sub.drain(&mut out, 1);
        assert_eq!(n, first, "at least one frame, then only what fits");
        assert_eq!(sub.pending_bytes(), before, "drained is not yet written");
        sub.written(n);
        assert_eq!(sub.pending_bytes(), before - n);
        let rest = sub.drain(&mut out, usize::MAX);
        sub.written(rest);
        assert_eq!(sub.pending_bytes(), 0);
        let mut decoded = Vec::new();
        while let Some(f) = decode_frame(&mut out).unwrap() {
            decoded.push(f);
        }
        assert_eq!(decoded.len(), 3);
        assert_eq!(decoded[2], push(vec![b("message"), b("c"), b("m2")]));
    }

    #[test]
    fn subscribed_mode_refusals() {
        let e = engine();
        let mut s = session(&e);
        let argv = |w: &[&str]| -> Vec<Bytes> {
            w.iter()
                .map(|x| Bytes::copy_from_slice(x.as_bytes()))
                .collect()
        };
        let refuse =
            |s: &Session, w: &[&str]| crate::pubsub::refuse_in_subscribed_mode(&e, s, &argv(w));
        assert_eq!(refuse(&s, &["GET", "k"]), None);
        run(&e, &mut s, &["SSUBSCRIBE", "c"]);
        assert_eq!(
            refuse(&s, &["GET", "k"]),
            Some(Frame::error("ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"))
        );
        assert_eq!(
            refuse(&s, &["config", "GET", "x"]),
            Some(Frame::error("ERR Can't execute 'config|get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"))
        );
        assert_eq!(refuse(&s, &["GET"]), None, "arity errors come first");
        assert_eq!(refuse(&s, &["nosuch"]), None);
        assert_eq!(refuse(&s, &["config", "nosuch"]), None);
        assert_eq!(refuse(&s, &["PING"]), None);
        assert_eq!(refuse(&s, &["unsubscribe"]), None);
        assert_eq!(refuse(&s, &["QUIT"]), None);
        assert_eq!(refuse(&s, &["reset"]), None);
        s.resp = ferrokv_protocol::RespVersion::Resp3;
        assert_eq!(refuse(&s, &["GET", "k"]), None);
    }

    #[test]
    fn execute_refuses_in_subscribed_mode_before_queuing() {
        // The check is the engine's, so embedders get it, and it precedes MULTI
        // queuing: a refused command aborts the transaction (Redis' rejectCommand).
        let e = engine();
        let mut s = session(&e);
        run(&e, &mut s, &["HELLO", "3"]);
        run(&e, &mut s, &["SUBSCRIBE", "c"]);
        assert_eq!(run(&e, &mut s, &["MULTI"]), Frame::ok());
        assert_eq!(run(&e, &mut s, &["GET", "k"]), Frame::simple("QUEUED"));
        s.resp = ferrokv_protocol::RespVersion::Resp2;
        assert_eq!(
            run(&e, &mut s, &["GET", "k"]),
            Frame::error("ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context")
        );
        // EXEC itself is refused too; back in RESP3 it finds the transaction flagged.
        assert_eq!(
            run(&e, &mut s, &["EXEC"]),
            Frame::error("ERR Can't execute 'exec': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context")
        );
        s.resp = ferrokv_protocol::RespVersion::Resp3;
        assert_eq!(
            run(&e, &mut s, &["EXEC"]),
            Frame::error("EXECABORT Transaction discarded because of previous errors.")
        );
        let errors = crate::stats::Stats::get(&e.stats.error_replies);
        assert_eq!(errors, 3);
    }

    #[test]
    fn ping_in_subscribed_mode_and_reset() {
        let e = engine();
        let mut s = session(&e);
        run(&e, &mut s, &["SUBSCRIBE", "c"]);
        assert_eq!(
            run(&e, &mut s, &["PING"]),
            Frame::Array(vec![b("pong"), b("")])
        );
        assert_eq!(
            run(&e, &mut s, &["PING", "x"]),
            Frame::Array(vec![b("pong"), b("x")])
        );
        assert_eq!(run(&e, &mut s, &["RESET"]), Frame::simple("RESET"));
        assert!(!s.pubsub.is_active());
        assert_eq!(e.pubsub.channel_count(), 0);
        assert_eq!(run(&e, &mut s, &["PING"]), Frame::simple("PONG"));
    }

    #[test]
    fn help_lists_subcommands() {
        let e = engine();
        let mut s = session(&e);
        let Frame::Array(lines) = run(&e, &mut s, &["PUBSUB", "HELP"]) else {
            panic!("not an array");
        };
        assert_eq!(lines.len(), 14);
        assert_eq!(
            lines[0],
            Frame::simple("PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
        );
    }
}
