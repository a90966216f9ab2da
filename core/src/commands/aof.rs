//! BGREWRITEAOF: the append-only file's rewrite, run by whoever installed the AOF's
//! controls in the engine ([`crate::propagate::AofControl`]; the server does, for
//! the memory backend).

use bytes::Bytes;
use ferrokv_protocol::Frame;

use crate::command::{CmdError, CmdFlags, CmdResult, CommandSpec, Ctx};

/// Append-only file command specs.
pub static COMMANDS: &[CommandSpec] = &[CommandSpec {
    name: "bgrewriteaof",
    arity: 1,
    flags: CmdFlags::ADMIN.or(CmdFlags::NOSCRIPT),
    group: "server",
    summary: "Asynchronously rewrite the append-only file",
    handler: Some(bgrewriteaof),
    ..CommandSpec::DEFAULT
}];

/// Starts a rewrite in the background; the reply only says it started.
fn bgrewriteaof(ctx: &mut Ctx<'_>, _argv: &[Bytes]) -> CmdResult {
    let Some(aof) = ctx.engine.propagation.control() else {
        return Err(CmdError::err(
            "Background append only file rewriting is not supported by this backend",
        ));
    };
    match aof.rewrite() {
        Ok(text) => Ok(Frame::Simple(Bytes::from(text))),
        Err(e) => Err(CmdError::err(e)),
    }
}
