//! strings commands (being written).

use crate::command::CommandSpec;

/// Command specs of this family.
pub static COMMANDS: &[CommandSpec] = &[];
