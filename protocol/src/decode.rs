//! General RESP2/RESP3 reply decoding for the client side (CLI, tests): every frame type,
//! incremental, and safe against hostile or broken servers.

use std::ops::Range;

use bytes::{Bytes, BytesMut};

use crate::error::{ProtocolError, ProtocolErrorKind};
use crate::frame::Frame;

/// Deepest aggregate nesting accepted; real replies stay far below it, and the bound keeps
/// recursion (and so stack use) finite whatever a peer sends.
pub const MAX_FRAME_DEPTH: usize = 128;

/// Longest header line (counts, lengths, numbers) waited for before giving up; simple
/// strings, errors and big numbers may be longer.
const MAX_HEADER_LINE: usize = 64 * 1024;

/// Decodes one frame from the front of `buf`, or returns `Ok(None)` (consuming nothing)
/// while it is incomplete. Stateless, so each call rescans what it has; use a
/// [`FrameDecoder`] when large aggregates arrive over many reads.
pub fn decode_frame(buf: &mut BytesMut) -> Result<Option<Frame>, ProtocolError> {
    FrameDecoder::new().decode(buf)
}

/// Incremental reply decoder that remembers how far it has validated, so a huge reply
/// arriving in pieces is scanned once rather than once per read.
///
/// Between calls the buffer may only grow at the end; nothing is consumed until a whole
/// frame is present. Declared lengths are never allocated before their bytes arrive.
#[derive(Debug, Default)]
pub struct FrameDecoder {
    /// End of the prefix already validated.
    pos: usize,
    /// How far the line starting at `pos` has been searched for its `\r`.
    scanned: usize,
    /// Children still expected by each open aggregate, outermost first.
    pending: Vec<u64>,
}

impl FrameDecoder {
    /// A decoder at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes the next complete frame off the front of `buf`, or returns `Ok(None)` until
    /// one is there. After an error the stream is out of sync and should be dropped.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, ProtocolError> {
        if self.pos > buf.len() {
            // The buffer was replaced rather than appended to: start over.
            self.reset();
        }
        match self.scan(buf) {
            Ok(true) => {}
            Ok(false) => return Ok(None),
            Err(err) => {
                self.reset();
                return Err(err);
            }
        }
        let len = self.pos;
        self.reset();
        let data = buf.split_to(len).freeze();
        let mut pos = 0;
        parse(&data, &mut pos, 0).map(Some)
    }

    fn reset(&mut self) {
        self.pos = 0;
        self.scanned = 0;
        self.pending.clear();
    }

    /// Validates elements from `pos` onwards; true once a whole top-level frame is there.
    fn scan(&mut self, buf: &[u8]) -> Result<bool, ProtocolError> {
        loop {
            let (end, item) = match read_element(buf, self.pos, self.scanned)? {
                Step::Incomplete { scanned } => {
                    self.scanned = scanned;
                    return Ok(false);
                }
                Step::Element { end, item } => (end, item),
            };
            self.pos = end;
            self.scanned = end;
            let children = item.children();
            if children > 0 {
                if self.pending.len() >= MAX_FRAME_DEPTH {
                    return Err(ProtocolError::new(ProtocolErrorKind::TooDeep));
                }
                self.pending.push(children);
                continue;
            }
            // A frame is complete: it may complete its parents too.
            loop {
                match self.pending.last_mut() {
                    None => return Ok(true),
                    Some(left) => {
                        *left -= 1;
                        if *left > 0 {
                            break;
                        }
                        self.pending.pop();
                    }
                }
            }
        }
    }
}

/// One element header (and, for leaves, its payload) as found in the buffer.
enum Item {
    Simple(Range<usize>),
    Error(Range<usize>),
    Integer(i64),
    Bulk(Range<usize>),
    Null,
    NullArray,
    Double(f64),
    Boolean(bool),
    BigNumber(Range<usize>),
    Verbatim([u8; 3], Range<usize>),
    Array(u64),
    Map(u64),
    Set(u64),
    Push(u64),
    Attribute(u64),
}

impl Item {
    /// Frames that must follow this header before it is complete.
    fn children(&self) -> u64 {
        match self {
            Item::Array(n) | Item::Set(n) | Item::Push(n) => *n,
            // Counts are at most i64::MAX, so these cannot overflow.
            Item::Map(n) => n * 2,
            // The pairs, then the frame the attribute annotates.
            Item::Attribute(n) => n * 2 + 1,
            _ => 0,
        }
    }
}

enum Step {
    /// More bytes are needed; the current line was searched up to `scanned`.
    Incomplete { scanned: usize },
    /// An element spanning up to `end`.
    Element { end: usize, item: Item },
}

fn invalid(message: &'static str) -> ProtocolError {
    ProtocolError::invalid_frame(message)
}

/// Reads the element starting at `start`, resuming its line search at `scanned`.
fn read_element(buf: &[u8], start: usize, scanned: usize) -> Result<Step, ProtocolError> {
    let Some(&kind) = buf.get(start) else {
        return Ok(Step::Incomplete { scanned: start });
    };
    let bounded = !matches!(kind, b'+' | b'-' | b'(');
    let from = scanned.clamp(start + 1, buf.len());
    let Some(cr) = buf[from..]
        .iter()
        .position(|&b| b == b'\r')
        .map(|i| from + i)
    else {
        if bounded && buf.len() - start > MAX_HEADER_LINE {
            return Err(invalid("Protocol error: too big header line"));
        }
        return Ok(Step::Incomplete { scanned: buf.len() });
    };
    match buf.get(cr + 1) {
        None => return Ok(Step::Incomplete { scanned: cr }),
        Some(b'\n') => {}
        Some(_) => return Err(invalid("Protocol error: expected CRLF")),
    }
    let line = start + 1..cr;
    let text = &buf[line.clone()];
    let end = cr + 2;
    let item = match kind {
        b'+' => Item::Simple(line),
        b'-' => Item::Error(line),
        b':' => Item::Integer(
            parse_i64(text).ok_or_else(|| invalid("Protocol error: invalid integer"))?,
        ),
        b'_' if text.is_empty() => Item::Null,
        b'_' => return Err(invalid("Protocol error: invalid null")),
        b',' => Item::Double(
            parse_double(text).ok_or_else(|| invalid("Protocol error: invalid double"))?,
        ),
        b'#' => match text {
            b"t" => Item::Boolean(true),
            b"f" => Item::Boolean(false),
            _ => return Err(invalid("Protocol error: invalid boolean")),
        },
        b'(' => {
            let digits = text.strip_prefix(b"-").unwrap_or(text);
            if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
                return Err(invalid("Protocol error: invalid big number"));
            }
            Item::BigNumber(line)
        }
        b'$' | b'!' | b'=' => {
            let len =
                parse_i64(text).ok_or_else(|| invalid("Protocol error: invalid bulk length"))?;
            if len == -1 && kind == b'$' {
                return Ok(Step::Element {
                    end,
                    item: Item::Null,
                });
            }
            let len =
                usize::try_from(len).map_err(|_| invalid("Protocol error: invalid bulk length"))?;
            let data_end = end
                .checked_add(len)
                .filter(|e| e.checked_add(2).is_some())
                .ok_or_else(|| invalid("Protocol error: invalid bulk length"))?;
            if buf.len() < data_end + 2 {
                // The header is known good: wait without rescanning it.
                return Ok(Step::Incomplete { scanned: cr });
            }
            if &buf[data_end..data_end + 2] != b"\r\n" {
                return Err(invalid("Protocol error: bulk string not followed by CRLF"));
            }
            let data = end..data_end;
            let item = match kind {
                b'$' => Item::Bulk(data),
                b'!' => Item::Error(data),
                _ => {
                    let bytes = &buf[data.clone()];
                    match bytes.get(..4) {
                        Some([a, b, c, b':']) => Item::Verbatim([*a, *b, *c], end + 4..data_end),
                        _ => return Err(invalid("Protocol error: invalid verbatim string")),
                    }
                }
            };
            return Ok(Step::Element {
                end: data_end + 2,
                item,
            });
        }
        b'*' | b'%' | b'~' | b'>' | b'|' => {
            let count = parse_i64(text)
                .ok_or_else(|| invalid("Protocol error: invalid aggregate length"))?;
            if count == -1 && kind == b'*' {
                return Ok(Step::Element {
                    end,
                    item: Item::NullArray,
                });
            }
            let count = u64::try_from(count)
                .map_err(|_| invalid("Protocol error: invalid aggregate length"))?;
            match kind {
                b'*' => Item::Array(count),
                b'%' => Item::Map(count),
                b'~' => Item::Set(count),
                b'>' => Item::Push(count),
                _ => Item::Attribute(count),
            }
        }
        other => {
            return Err(ProtocolError::with_message(
                ProtocolErrorKind::InvalidFrame,
                format!(
                    "Protocol error: invalid frame type byte '{}'",
                    other.escape_ascii()
                ),
            ))
        }
    };
    Ok(Step::Element { end, item })
}

fn parse_i64(text: &[u8]) -> Option<i64> {
    std::str::from_utf8(text).ok()?.parse().ok()
}

/// Accepts what servers send for doubles: `%.17g` text, `inf`, `-inf` and `nan`.
fn parse_double(text: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(text).ok()?;
    match s {
        "inf" | "+inf" => Some(f64::INFINITY),
        "-inf" => Some(f64::NEG_INFINITY),
        "nan" | "-nan" => Some(f64::NAN),
        _ if s
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E')) =>
        {
            s.parse().ok()
        }
        _ => None,
    }
}

/// Builds the frame at `*pos` from bytes [`FrameDecoder::scan`] already validated, so
/// every element is known to be present and aggregates can be sized exactly.
fn parse(data: &Bytes, pos: &mut usize, depth: usize) -> Result<Frame, ProtocolError> {
    let (end, item) = match read_element(data, *pos, *pos)? {
        Step::Element { end, item } => (end, item),
        Step::Incomplete { .. } => return Err(invalid("Protocol error: truncated frame")),
    };
    *pos = end;
    if item.children() > 0 && depth >= MAX_FRAME_DEPTH {
        return Err(ProtocolError::new(ProtocolErrorKind::TooDeep));
    }
    // Every element takes at least three bytes, which bounds what a count can reserve.
    let capacity = |n: u64| {
        usize::try_from(n)
            .unwrap_or(usize::MAX)
            .min((data.len() - end) / 3)
    };
    let frame = match item {
        Item::Simple(r) => Frame::Simple(data.slice(r)),
        Item::Error(r) => Frame::Error(data.slice(r)),
        Item::Integer(n) => Frame::Integer(n),
        Item::Bulk(r) => Frame::Bulk(data.slice(r)),
        Item::Null => Frame::Null,
        Item::NullArray => Frame::NullArray,
        Item::Double(d) => Frame::Double(d),
        Item::Boolean(b) => Frame::Boolean(b),
        Item::BigNumber(r) => Frame::BigNumber(data.slice(r)),
        Item::Verbatim(format, r) => Frame::Verbatim {
            format,
            text: data.slice(r),
        },
        Item::Array(n) => Frame::Array(parse_list(data, pos, depth, n, capacity(n))?),
        Item::Set(n) => Frame::Set(parse_list(data, pos, depth, n, capacity(n))?),
        Item::Push(n) => Frame::Push(parse_list(data, pos, depth, n, capacity(n))?),
        Item::Map(n) => Frame::Map(parse_pairs(data, pos, depth, n, capacity(n))?),
        Item::Attribute(n) => {
            let pairs = parse_pairs(data, pos, depth, n, capacity(n))?;
            let inner = parse(data, pos, depth + 1)?;
            Frame::Attribute(pairs, Box::new(inner))
        }
    };
    Ok(frame)
}

fn parse_list(
    data: &Bytes,
    pos: &mut usize,
    depth: usize,
    n: u64,
    capacity: usize,
) -> Result<Vec<Frame>, ProtocolError> {
    let mut items = Vec::with_capacity(capacity);
    for _ in 0..n {
        items.push(parse(data, pos, depth + 1)?);
    }
    Ok(items)
}

fn parse_pairs(
    data: &Bytes,
    pos: &mut usize,
    depth: usize,
    n: u64,
    capacity: usize,
) -> Result<Vec<(Frame, Frame)>, ProtocolError> {
    let mut pairs = Vec::with_capacity(capacity);
    for _ in 0..n {
        let key = parse(data, pos, depth + 1)?;
        let value = parse(data, pos, depth + 1)?;
        pairs.push((key, value));
    }
    Ok(pairs)
}
