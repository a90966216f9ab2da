//! Argument parsing helpers shared by command families, with Redis' error texts.

use bytes::Bytes;

use crate::command::CmdError;
use crate::util::number::{parse_f64, parse_i64};

/// Parses an integer argument (`ERR value is not an integer or out of range`).
pub fn int(arg: &[u8]) -> Result<i64, CmdError> {
    parse_i64(arg).ok_or_else(CmdError::not_integer)
}

/// Parses a float argument (`ERR value is not a valid float`).
pub fn float(arg: &[u8]) -> Result<f64, CmdError> {
    parse_f64(arg).ok_or_else(CmdError::not_float)
}

/// Case-insensitive comparison of an argument with an option keyword.
pub fn is(arg: &[u8], keyword: &str) -> bool {
    arg.eq_ignore_ascii_case(keyword.as_bytes())
}

/// A cursor over the arguments after the fixed ones, for option parsing.
pub struct Args<'a> {
    argv: &'a [Bytes],
    pos: usize,
}

impl<'a> Args<'a> {
    /// Options start at `start` in `argv`.
    pub fn new(argv: &'a [Bytes], start: usize) -> Args<'a> {
        Args { argv, pos: start }
    }

    /// The next argument, if any.
    pub fn next_arg(&mut self) -> Option<&'a Bytes> {
        let arg = self.argv.get(self.pos);
        if arg.is_some() {
            self.pos += 1;
        }
        arg
    }

    /// The value that must follow an option (`ERR syntax error` if missing).
    pub fn value(&mut self) -> Result<&'a Bytes, CmdError> {
        self.next_arg().ok_or_else(CmdError::syntax)
    }

    /// Index of the next argument in `argv`.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Whether every argument was consumed.
    pub fn is_done(&self) -> bool {
        self.pos >= self.argv.len()
    }
}
