//! Hash commands (being written).

use crate::command::CommandSpec;

/// Hash command specs.
pub static COMMANDS: &[CommandSpec] = &[];
