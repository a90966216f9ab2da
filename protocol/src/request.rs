//! Incremental decoding of client requests, following Redis 7.0's `processMultibulkBuffer`
//! and `processInlineBuffer` rule for rule, so clients see the same errors and the same
//! tolerance as with Redis. One deliberate difference: Redis finds line ends with
//! `strchr`, which stops at a NUL byte; here a NUL is an ordinary byte, so such a line is
//! handled instead of stalling until the 64 KiB limit.

use bytes::{Buf, Bytes, BytesMut};

use crate::error::{ProtocolError, ProtocolErrorKind};

/// Redis' default `proto-max-bulk-len` (512 MiB).
pub const DEFAULT_MAX_BULK_LEN: u64 = 512 * 1024 * 1024;

/// Longest line (count line, bulk length line or inline request) Redis waits for
/// before declaring the client broken (`PROTO_INLINE_MAX_SIZE`).
pub const MAX_INLINE_SIZE: usize = 64 * 1024;

/// Arguments reserved up front for a multibulk, whatever count it declares; a client
/// cannot make us allocate for arguments it has not sent.
const MAX_ARGV_PREALLOC: usize = 1024;

/// Above these sizes an unauthenticated client is rejected (Redis 7.0 CVE-2021-32675 fix).
const UNAUTH_MAX_MULTIBULK: i64 = 10;
const UNAUTH_MAX_BULK: i64 = 16384;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Between commands: the next byte decides multibulk or inline.
    Idle,
    /// Waiting for an inline line ending in `\n`.
    Inline,
    /// Waiting for the `*<count>\r\n` line.
    MultibulkCount,
    /// Waiting for the `$<len>\r\n` line of the next argument.
    BulkHeader,
    /// Waiting for `len` bytes of argument data plus the two-byte terminator.
    BulkData(usize),
}

/// Splits a client's byte stream into commands.
///
/// Parse state survives between calls, so a large argument arriving over many reads
/// is never re-parsed, and arguments are zero-copy slices of the read buffer.
#[derive(Debug)]
pub struct RequestDecoder {
    max_bulk_len: u64,
    auth_required: bool,
    state: State,
    /// Arguments still expected by the current multibulk.
    remaining: usize,
    args: Vec<Bytes>,
    /// Bytes at the front of the buffer already searched for a line terminator, so a
    /// line trickling in byte by byte is not rescanned from its start every time.
    scanned: usize,
    /// Once the stream is broken it stays broken: the connection must be closed.
    failed: Option<ProtocolError>,
}

impl Default for RequestDecoder {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_BULK_LEN)
    }
}

impl RequestDecoder {
    /// A decoder rejecting arguments longer than `max_bulk_len` (`proto-max-bulk-len`).
    pub fn new(max_bulk_len: u64) -> Self {
        RequestDecoder {
            max_bulk_len,
            auth_required: false,
            state: State::Idle,
            remaining: 0,
            args: Vec::new(),
            scanned: 0,
            failed: None,
        }
    }

    /// Follows `CONFIG SET proto-max-bulk-len`; applies from the next length line.
    pub fn set_max_bulk_len(&mut self, max_bulk_len: u64) {
        self.max_bulk_len = max_bulk_len;
    }

    /// While set, large counts and lengths are refused as Redis does for clients that
    /// still have to `AUTH`, so an anonymous peer cannot make the server buffer much.
    pub fn set_auth_required(&mut self, required: bool) {
        self.auth_required = required;
    }

    /// How many more bytes the argument being read needs (0 when not inside one), so the
    /// reader can size its next read. Callers should cap it: it is a declared length.
    pub fn bulk_bytes_missing(&self, buf: &BytesMut) -> usize {
        match self.state {
            State::BulkData(len) => len.saturating_add(2).saturating_sub(buf.len()),
            _ => 0,
        }
    }

    /// Takes the next complete command's arguments off the front of `buf`.
    ///
    /// Returns `Ok(None)` when more bytes are needed; call again after the next read,
    /// with new bytes appended to the same buffer. Call in a loop to drain pipelined
    /// commands. Empty commands (`*0`, blank inline lines) are skipped. After an error
    /// the stream is unusable and every later call repeats the error.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Vec<Bytes>>, ProtocolError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        let result = self.decode_inner(buf);
        if let Err(err) = &result {
            self.failed = Some(err.clone());
        }
        result
    }

    fn decode_inner(&mut self, buf: &mut BytesMut) -> Result<Option<Vec<Bytes>>, ProtocolError> {
        loop {
            match self.state {
                State::Idle => match buf.first() {
                    None => return Ok(None),
                    Some(b'*') => self.state = State::MultibulkCount,
                    Some(_) => self.state = State::Inline,
                },
                State::Inline => {
                    let Some(nl) = self.find_line(buf, b'\n') else {
                        if buf.len() > MAX_INLINE_SIZE {
                            return Err(ProtocolError::new(ProtocolErrorKind::TooBigInline));
                        }
                        return Ok(None);
                    };
                    let end = if nl > 0 && buf[nl - 1] == b'\r' {
                        nl - 1
                    } else {
                        nl
                    };
                    let args = split_args(&buf[..end])
                        .ok_or_else(|| ProtocolError::new(ProtocolErrorKind::UnbalancedQuotes))?;
                    self.consume(buf, nl + 1);
                    self.state = State::Idle;
                    if !args.is_empty() {
                        return Ok(Some(args.into_iter().map(Bytes::from).collect()));
                    }
                }
                State::MultibulkCount => {
                    let Some(cr) = self.find_line(buf, b'\r') else {
                        if buf.len() > MAX_INLINE_SIZE {
                            return Err(ProtocolError::new(ProtocolErrorKind::TooBigMbulkCount));
                        }
                        return Ok(None);
                    };
                    // Redis only requires one more byte after the `\r`, and skips it.
                    if buf.len() < cr + 2 {
                        return Ok(None);
                    }
                    let count = match string2ll(&buf[1..cr]) {
                        Some(n) if n <= i64::from(i32::MAX) => n,
                        _ => {
                            return Err(ProtocolError::new(
                                ProtocolErrorKind::InvalidMultibulkLength,
                            ))
                        }
                    };
                    if count > UNAUTH_MAX_MULTIBULK && self.auth_required {
                        return Err(ProtocolError::new(
                            ProtocolErrorKind::UnauthenticatedMultibulkLength,
                        ));
                    }
                    self.consume(buf, cr + 2);
                    if count <= 0 {
                        self.state = State::Idle;
                        continue;
                    }
                    let count = usize::try_from(count).map_err(|_| {
                        ProtocolError::new(ProtocolErrorKind::InvalidMultibulkLength)
                    })?;
                    self.remaining = count;
                    self.args = Vec::with_capacity(count.min(MAX_ARGV_PREALLOC));
                    self.state = State::BulkHeader;
                }
                State::BulkHeader => {
                    let Some(cr) = self.find_line(buf, b'\r') else {
                        if buf.len() > MAX_INLINE_SIZE {
                            return Err(ProtocolError::new(ProtocolErrorKind::TooBigBulkCount));
                        }
                        return Ok(None);
                    };
                    if buf.len() < cr + 2 {
                        return Ok(None);
                    }
                    if buf[0] != b'$' {
                        return Err(ProtocolError::expected_dollar(buf[0]));
                    }
                    let len = match string2ll(&buf[1..cr]) {
                        Some(n) if n >= 0 && n.unsigned_abs() <= self.max_bulk_len => n,
                        _ => return Err(ProtocolError::new(ProtocolErrorKind::InvalidBulkLength)),
                    };
                    if len > UNAUTH_MAX_BULK && self.auth_required {
                        return Err(ProtocolError::new(
                            ProtocolErrorKind::UnauthenticatedBulkLength,
                        ));
                    }
                    let len = usize::try_from(len)
                        .map_err(|_| ProtocolError::new(ProtocolErrorKind::InvalidBulkLength))?;
                    self.consume(buf, cr + 2);
                    self.state = State::BulkData(len);
                }
                State::BulkData(len) => {
                    // Like Redis, the two bytes after the data are skipped unchecked.
                    if buf.len() < len.saturating_add(2) {
                        return Ok(None);
                    }
                    let arg = buf.split_to(len).freeze();
                    self.consume(buf, 2);
                    self.args.push(arg);
                    self.remaining -= 1;
                    if self.remaining == 0 {
                        self.state = State::Idle;
                        return Ok(Some(std::mem::take(&mut self.args)));
                    }
                    self.state = State::BulkHeader;
                }
            }
        }
    }

    /// Position of the first `needle` in `buf`, resuming where the last search stopped.
    fn find_line(&mut self, buf: &BytesMut, needle: u8) -> Option<usize> {
        let from = self.scanned.min(buf.len());
        match buf[from..].iter().position(|&b| b == needle) {
            Some(i) => Some(from + i),
            None => {
                self.scanned = buf.len();
                None
            }
        }
    }

    fn consume(&mut self, buf: &mut BytesMut, n: usize) {
        buf.advance(n);
        self.scanned = 0;
    }
}

/// Redis' `string2ll`: a strict decimal `i64` with no sign but `-`, no spaces and no
/// leading zeros, so lengths such as `+1`, ` 1` or `01` are rejected as Redis does.
pub fn string2ll(s: &[u8]) -> Option<i64> {
    // LONG_STR_SIZE: 21 characters or more can never be a valid long long.
    if s.is_empty() || s.len() >= 21 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (negative, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut v: u64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    if negative {
        if v > i64::MIN.unsigned_abs() {
            return None;
        }
        Some(0i64.wrapping_sub_unsigned(v))
    } else {
        i64::try_from(v).ok()
    }
}

/// C `isspace` in the "C" locale.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Splits a line into arguments exactly as Redis' `sdssplitargs` does, for inline
/// requests and for command lines typed into the CLI.
///
/// Double quotes understand `\n \r \t \b \a \xHH` and `\<any>`; single quotes only
/// `\'`. A closing quote must be followed by whitespace or the end of the line. As in C,
/// a NUL byte ends the line. Returns `None` on unbalanced quotes.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    // Reads past the end (or a NUL) as 0, like the C string this mirrors.
    let at = |i: usize| line.get(i).copied().unwrap_or(0);
    let mut args = Vec::new();
    let mut p = 0;
    loop {
        while at(p) != 0 && is_c_space(at(p)) {
            p += 1;
        }
        if at(p) == 0 {
            return Some(args);
        }
        let mut current = Vec::new();
        let mut in_dq = false;
        let mut in_sq = false;
        let mut done = false;
        while !done {
            let c = at(p);
            if in_dq {
                if c == b'\\' && at(p + 1) == b'x' {
                    if let (Some(hi), Some(lo)) = (hex_val(at(p + 2)), hex_val(at(p + 3))) {
                        current.push(hi * 16 + lo);
                        p += 3;
                    } else {
                        // `\x` without two hex digits is a plain escaped `x`.
                        current.push(b'x');
                        p += 1;
                    }
                } else if c == b'\\' && at(p + 1) != 0 {
                    p += 1;
                    current.push(match at(p) {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 0x08,
                        b'a' => 0x07,
                        other => other,
                    });
                } else if c == b'"' {
                    if at(p + 1) != 0 && !is_c_space(at(p + 1)) {
                        return None;
                    }
                    done = true;
                } else if c == 0 {
                    return None;
                } else {
                    current.push(c);
                }
            } else if in_sq {
                if c == b'\\' && at(p + 1) == b'\'' {
                    p += 1;
                    current.push(b'\'');
                } else if c == b'\'' {
                    if at(p + 1) != 0 && !is_c_space(at(p + 1)) {
                        return None;
                    }
                    done = true;
                } else if c == 0 {
                    return None;
                } else {
                    current.push(c);
                }
            } else {
                match c {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => done = true,
                    b'"' => in_dq = true,
                    b'\'' => in_sq = true,
                    other => current.push(other),
                }
            }
            if at(p) != 0 {
                p += 1;
            }
        }
        args.push(current);
    }
}

#[cfg(test)]
mod tests {
    use super::string2ll;

    #[test]
    fn string2ll_matches_redis() {
        assert_eq!(string2ll(b"0"), Some(0));
        assert_eq!(string2ll(b"12"), Some(12));
        assert_eq!(string2ll(b"-12"), Some(-12));
        assert_eq!(string2ll(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(string2ll(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            &b""[..],
            b"-",
            b"+1",
            b" 1",
            b"1 ",
            b"01",
            b"-0",
            b"00",
            b"1a",
            b"9223372036854775808",
            b"-9223372036854775809",
            b"99999999999999999999",
            b"000000000000000000001",
        ] {
            assert_eq!(string2ll(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }
}
