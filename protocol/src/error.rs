//! Protocol errors: the exact texts Redis sends before closing a connection.

use std::borrow::Cow;
use std::fmt;

use crate::Frame;

/// Which rule a peer broke; lets callers branch without matching on message text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProtocolErrorKind {
    /// A `*` count line had no `\r` within 64 KiB.
    TooBigMbulkCount,
    /// A `*` count that is not a number or exceeds `INT_MAX`.
    InvalidMultibulkLength,
    /// A `*` count above 10 before the client authenticated.
    UnauthenticatedMultibulkLength,
    /// A multibulk argument that does not start with `$`.
    ExpectedDollar,
    /// A `$` length line had no `\r` within 64 KiB.
    TooBigBulkCount,
    /// A `$` length that is not a number, negative or above `proto-max-bulk-len`.
    InvalidBulkLength,
    /// A `$` length above 16384 before the client authenticated.
    UnauthenticatedBulkLength,
    /// An inline request had no `\n` within 64 KiB.
    TooBigInline,
    /// An inline request whose quotes do not balance.
    UnbalancedQuotes,
    /// A reply frame that is not valid RESP2/RESP3 (client-side decoder).
    InvalidFrame,
    /// A reply nested deeper than the decoder accepts (client-side decoder).
    TooDeep,
}

/// A malformed stream: the peer is out of sync, so the connection must be closed.
///
/// On the server, reply with [`ProtocolError::to_frame`] (`-ERR <message>`) and close,
/// exactly as Redis does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolError {
    kind: ProtocolErrorKind,
    message: Cow<'static, str>,
}

impl ProtocolError {
    pub(crate) fn new(kind: ProtocolErrorKind) -> Self {
        let message = match kind {
            ProtocolErrorKind::TooBigMbulkCount => "Protocol error: too big mbulk count string",
            ProtocolErrorKind::InvalidMultibulkLength => "Protocol error: invalid multibulk length",
            ProtocolErrorKind::UnauthenticatedMultibulkLength => {
                "Protocol error: unauthenticated multibulk length"
            }
            ProtocolErrorKind::ExpectedDollar => "Protocol error: expected '$'",
            ProtocolErrorKind::TooBigBulkCount => "Protocol error: too big bulk count string",
            ProtocolErrorKind::InvalidBulkLength => "Protocol error: invalid bulk length",
            ProtocolErrorKind::UnauthenticatedBulkLength => {
                "Protocol error: unauthenticated bulk length"
            }
            ProtocolErrorKind::TooBigInline => "Protocol error: too big inline request",
            ProtocolErrorKind::UnbalancedQuotes => "Protocol error: unbalanced quotes in request",
            ProtocolErrorKind::InvalidFrame => "Protocol error: invalid frame",
            ProtocolErrorKind::TooDeep => "Protocol error: reply nested too deep",
        };
        ProtocolError {
            kind,
            message: Cow::Borrowed(message),
        }
    }

    pub(crate) fn with_message(kind: ProtocolErrorKind, message: String) -> Self {
        ProtocolError {
            kind,
            message: Cow::Owned(message),
        }
    }

    /// A malformed reply frame, with a static description of what was wrong.
    pub(crate) fn invalid_frame(message: &'static str) -> Self {
        ProtocolError {
            kind: ProtocolErrorKind::InvalidFrame,
            message: Cow::Borrowed(message),
        }
    }

    /// `expected '$', got 'X'`; `\r`/`\n` become spaces as Redis' error formatter does.
    pub(crate) fn expected_dollar(got: u8) -> Self {
        let got = match got {
            b'\r' | b'\n' => ' ',
            b => char::from(b),
        };
        Self::with_message(
            ProtocolErrorKind::ExpectedDollar,
            format!("Protocol error: expected '$', got '{got}'"),
        )
    }

    /// Which rule was broken.
    pub fn kind(&self) -> ProtocolErrorKind {
        self.kind
    }

    /// The reply text after the leading `-ERR `, e.g. `Protocol error: invalid bulk length`.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The `-ERR Protocol error: ...` reply a server sends before closing.
    pub fn to_frame(&self) -> Frame {
        Frame::error(format!("ERR {}", self.message))
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ProtocolError {}
