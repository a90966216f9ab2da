//! List commands (being written).

use crate::command::CommandSpec;

/// List command specs.
pub static COMMANDS: &[CommandSpec] = &[];
