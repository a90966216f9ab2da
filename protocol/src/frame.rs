//! The RESP value model shared by requests, replies and the client.

use bytes::Bytes;

/// RESP protocol version negotiated by a connection (`HELLO 2|3`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RespVersion {
    /// RESP2: the default for every new connection, as in Redis.
    #[default]
    Resp2,
    /// RESP3: maps, sets, doubles, booleans and push frames on the wire.
    Resp3,
}

/// One RESP3 value. Replies are built as frames and encoded for the connection's
/// version, so a command never needs to know which protocol its client speaks.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    /// `+text`: status replies such as `OK`.
    Simple(Bytes),
    /// `-text`: the full error line, code included (`ERR ...`, `WRONGTYPE ...`).
    Error(Bytes),
    /// `:n`.
    Integer(i64),
    /// `$len` bulk string.
    Bulk(Bytes),
    /// Null bulk: `$-1` in RESP2, `_` in RESP3.
    Null,
    /// Null array: `*-1` in RESP2, `_` in RESP3.
    NullArray,
    /// `*n`.
    Array(Vec<Frame>),
    /// `%n`; a flat array of 2n items in RESP2.
    Map(Vec<(Frame, Frame)>),
    /// `~n`; an array in RESP2.
    Set(Vec<Frame>),
    /// `,d`; a bulk string in RESP2, formatted as Redis 7.0 does (`inf`, `-inf`, `%.17g`).
    Double(f64),
    /// A double whose digits the server chose: `,text` in RESP3, a bulk string of
    /// `text` in RESP2 (Redis' `addReplyHumanLongDouble`, as GEOPOS replies). Never
    /// produced by the decoder, which reads every `,` frame as [`Frame::Double`].
    DoubleText(Bytes),
    /// `#t`/`#f`; the integer 1/0 in RESP2.
    Boolean(bool),
    /// `(digits`; a bulk string in RESP2.
    BigNumber(Bytes),
    /// `=len\r\nfmt:text`; a bulk string of `text` in RESP2.
    Verbatim {
        /// Three-byte format such as `txt` or `mkd`.
        format: [u8; 3],
        /// The text, without the format prefix.
        text: Bytes,
    },
    /// `>n` out-of-band push; an array in RESP2 (pub/sub messages).
    Push(Vec<Frame>),
    /// `|n` attribute map that precedes another frame; RESP2 drops it.
    Attribute(Vec<(Frame, Frame)>, Box<Frame>),
}

impl Frame {
    /// `+OK`, the most common reply.
    pub fn ok() -> Frame {
        Frame::Simple(Bytes::from_static(b"OK"))
    }

    /// A simple string from static text.
    pub fn simple(s: &'static str) -> Frame {
        Frame::Simple(Bytes::from_static(s.as_bytes()))
    }

    /// An error reply; `msg` holds the code and text, e.g. `ERR syntax error`.
    pub fn error(msg: impl Into<String>) -> Frame {
        Frame::Error(Bytes::from(msg.into()))
    }

    /// A bulk string copied from a byte slice.
    pub fn bulk(data: impl AsRef<[u8]>) -> Frame {
        Frame::Bulk(Bytes::copy_from_slice(data.as_ref()))
    }

    /// Whether this frame is an error reply.
    pub fn is_error(&self) -> bool {
        matches!(self, Frame::Error(_))
    }
}
