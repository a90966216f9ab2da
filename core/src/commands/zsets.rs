//! Sorted set commands (being written).

use crate::command::CommandSpec;

/// Sorted set command specs.
pub static COMMANDS: &[CommandSpec] = &[];
