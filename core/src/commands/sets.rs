//! Set commands (being written).

use crate::command::CommandSpec;

/// Set command specs.
pub static COMMANDS: &[CommandSpec] = &[];
