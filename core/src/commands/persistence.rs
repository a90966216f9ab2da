//! Snapshot commands: SAVE, BGSAVE and LASTSAVE (the work is in
//! [`crate::persistence`]).

use bytes::Bytes;
use ferrokv_protocol::Frame;

use crate::command::{CmdError, CmdFlags, CmdResult, CommandSpec, Ctx};
use crate::commands::args::is;
use crate::persistence::{self, SaveError};

const ADMIN_DANGEROUS: &[&str] = &["admin", "dangerous"];

/// A `server`-group spec with the usual defaults.
const SERVER: CommandSpec = CommandSpec {
    group: "server",
    ..CommandSpec::DEFAULT
};

/// SAVE / BGSAVE / LASTSAVE specs.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "save",
        arity: 1,
        flags: CmdFlags::ADMIN
            .or(CmdFlags::NOSCRIPT)
            .or(CmdFlags::NO_MULTI),
        acl: ADMIN_DANGEROUS,
        summary: "Synchronously saves the database(s) to disk.",
        handler: Some(save),
        ..SERVER
    },
    CommandSpec {
        name: "bgsave",
        arity: -1,
        flags: CmdFlags::ADMIN.or(CmdFlags::NOSCRIPT),
        acl: ADMIN_DANGEROUS,
        summary: "Asynchronously saves the database(s) to disk.",
        syntax: "[SCHEDULE]",
        handler: Some(bgsave),
        ..SERVER
    },
    CommandSpec {
        name: "lastsave",
        arity: 1,
        flags: CmdFlags::LOADING.or(CmdFlags::STALE).or(CmdFlags::FAST),
        acl: &["admin", "dangerous"],
        summary: "Returns the Unix timestamp of the last successful save to disk.",
        handler: Some(lastsave),
        ..SERVER
    },
];

/// SAVE runs after the command's scope: the snapshot takes locks of its own.
fn save(ctx: &mut Ctx<'_>, _argv: &[Bytes]) -> CmdResult {
    ctx.session.deferred = Some(persistence::Deferred::Save);
    Ok(Frame::ok())
}

fn bgsave(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let schedule = match argv {
        [_] => false,
        [_, s] if is(s, "schedule") => true,
        _ => return Err(CmdError::syntax()),
    };
    match persistence::bgsave(ctx.engine) {
        Ok(()) => Ok(Frame::simple("Background saving started")),
        Err(SaveError::InProgress) if schedule => {
            persistence::schedule_bgsave(ctx.engine);
            Ok(Frame::simple("Background saving scheduled"))
        }
        Err(SaveError::InProgress) => Err(CmdError::err("Background save already in progress")),
        Err(SaveError::Failed(e)) => {
            eprintln!("BGSAVE failed: {e}");
            Err(CmdError("ERR".into()))
        }
    }
}

fn lastsave(ctx: &mut Ctx<'_>, _argv: &[Bytes]) -> CmdResult {
    Ok(Frame::Integer(ctx.engine.persistence.last_save() as i64))
}
