//! Reply encoding for both protocol versions, byte-identical to Redis 7.0's replies,
//! including its RESP2 downgrades of RESP3-only types.

use std::io::Write as _;

use bytes::{BufMut, BytesMut};

use crate::frame::{Frame, RespVersion};

/// Appends `frame` to `out` as the wire bytes a Redis 7.0 client of `version` expects.
///
/// RESP2 downgrades: nulls become `$-1`/`*-1`, maps flat arrays, sets and pushes arrays,
/// doubles, big numbers and verbatim strings bulk strings, booleans `:1`/`:0`, and
/// attributes are dropped (only the frame they annotate is sent).
pub fn encode(frame: &Frame, version: RespVersion, out: &mut BytesMut) {
    let resp3 = version == RespVersion::Resp3;
    match frame {
        Frame::Simple(text) => write_line(out, b'+', text),
        Frame::Error(text) => write_line(out, b'-', text),
        Frame::Integer(n) => write_int_line(out, b':', *n),
        Frame::Bulk(data) => write_bulk(out, data),
        Frame::Null => out.put_slice(if resp3 { b"_\r\n" } else { b"$-1\r\n" }),
        Frame::NullArray => out.put_slice(if resp3 { b"_\r\n" } else { b"*-1\r\n" }),
        Frame::Array(items) => {
            write_len(out, b'*', items.len());
            for item in items {
                encode(item, version, out);
            }
        }
        Frame::Map(pairs) => {
            if resp3 {
                write_len(out, b'%', pairs.len());
            } else {
                write_len(out, b'*', pairs.len().saturating_mul(2));
            }
            encode_pairs(pairs, version, out);
        }
        Frame::Set(items) | Frame::Push(items) => {
            let kind = match (resp3, frame) {
                (false, _) => b'*',
                (true, Frame::Set(_)) => b'~',
                (true, _) => b'>',
            };
            write_len(out, kind, items.len());
            for item in items {
                encode(item, version, out);
            }
        }
        Frame::Double(d) => {
            let mut buf = DoubleBuf::new();
            let text = buf.format(*d);
            if resp3 {
                out.reserve(text.len() + 3);
                out.put_u8(b',');
                out.put_slice(text);
                out.put_slice(b"\r\n");
            } else {
                write_bulk(out, text);
            }
        }
        Frame::DoubleText(text) => {
            if resp3 {
                write_line(out, b',', text);
            } else {
                write_bulk(out, text);
            }
        }
        Frame::Boolean(b) => {
            out.put_slice(match (resp3, b) {
                (true, true) => b"#t\r\n",
                (true, false) => b"#f\r\n",
                (false, true) => b":1\r\n",
                (false, false) => b":0\r\n",
            });
        }
        Frame::BigNumber(digits) => {
            if resp3 {
                write_line(out, b'(', digits);
            } else {
                write_bulk(out, digits);
            }
        }
        Frame::Verbatim { format, text } => {
            if resp3 {
                write_len(out, b'=', text.len() + 4);
                out.reserve(text.len() + 6);
                out.put_slice(format);
                out.put_u8(b':');
                out.put_slice(text);
                out.put_slice(b"\r\n");
            } else {
                write_bulk(out, text);
            }
        }
        Frame::Attribute(pairs, inner) => {
            if resp3 {
                write_len(out, b'|', pairs.len());
                encode_pairs(pairs, version, out);
            }
            encode(inner, version, out);
        }
    }
}

fn encode_pairs(pairs: &[(Frame, Frame)], version: RespVersion, out: &mut BytesMut) {
    for (key, value) in pairs {
        encode(key, version, out);
        encode(value, version, out);
    }
}

/// A `+`/`-`/`(` line; a stray `\r` or `\n` would end the line early and desynchronise
/// the client, so they are sent as spaces (as Redis does for error texts).
fn write_line(out: &mut BytesMut, kind: u8, text: &[u8]) {
    out.reserve(text.len() + 3);
    out.put_u8(kind);
    let mut rest = text;
    while let Some(i) = rest.iter().position(|&b| b == b'\r' || b == b'\n') {
        out.put_slice(&rest[..i]);
        out.put_u8(b' ');
        rest = &rest[i + 1..];
    }
    out.put_slice(rest);
    out.put_slice(b"\r\n");
}

fn write_bulk(out: &mut BytesMut, data: &[u8]) {
    write_len(out, b'$', data.len());
    out.reserve(data.len() + 2);
    out.put_slice(data);
    out.put_slice(b"\r\n");
}

fn write_len(out: &mut BytesMut, kind: u8, len: usize) {
    let mut buf = [0u8; 20];
    let digits = format_u64(len as u64, &mut buf);
    out.reserve(digits.len() + 3);
    out.put_u8(kind);
    out.put_slice(digits);
    out.put_slice(b"\r\n");
}

fn write_int_line(out: &mut BytesMut, kind: u8, n: i64) {
    let mut buf = [0u8; 20];
    let digits = format_u64(n.unsigned_abs(), &mut buf);
    out.reserve(digits.len() + 4);
    out.put_u8(kind);
    if n < 0 {
        out.put_u8(b'-');
    }
    out.put_slice(digits);
    out.put_slice(b"\r\n");
}

/// Decimal digits of `n`, written right-aligned into `buf` without allocating.
fn format_u64(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        // `n % 10` is below 10, so the cast is lossless.
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[i..];
        }
    }
}

/// Stack space for one formatted double; `%.17g` needs at most 24 bytes, and Rust's
/// `{:.16e}` form used to derive it at most 25.
struct DoubleBuf {
    buf: [u8; 32],
    len: usize,
}

impl DoubleBuf {
    fn new() -> Self {
        DoubleBuf {
            buf: [0; 32],
            len: 0,
        }
    }

    fn push(&mut self, b: u8) {
        if let Some(slot) = self.buf.get_mut(self.len) {
            *slot = b;
            self.len += 1;
        }
    }

    fn push_slice(&mut self, s: &[u8]) {
        for &b in s {
            self.push(b);
        }
    }

    /// Redis 7.0's double text: `inf`/`-inf` for infinities, otherwise `%.17g`.
    fn format(&mut self, d: f64) -> &[u8] {
        self.len = 0;
        if d.is_nan() {
            // glibc prints the sign bit of a NaN too.
            self.push_slice(if d.is_sign_negative() {
                b"-nan"
            } else {
                b"nan"
            });
        } else if d.is_infinite() {
            self.push_slice(if d > 0.0 { b"inf" } else { b"-inf" });
        } else {
            self.format_g17(d);
        }
        &self.buf[..self.len]
    }

    /// `%.17g` for a finite `d`. Rust's `{:.16e}` rounds the exact binary value to 17
    /// significant digits half-to-even, as glibc does; the `%g` layout rules are then
    /// applied to those digits.
    fn format_g17(&mut self, d: f64) {
        let mut sci = [0u8; 32];
        let written = {
            let mut cursor = &mut sci[..];
            let before = cursor.len();
            // Cannot fail: the longest output, `-1.7976931348623157e308`, fits.
            let _ = write!(cursor, "{:.16e}", d.abs());
            before - cursor.len()
        };
        let sci = &sci[..written];
        let Some(e_pos) = sci.iter().position(|&b| b == b'e') else {
            return;
        };
        let mut digits = [0u8; 17];
        let mut n = 0;
        for &b in &sci[..e_pos] {
            if b.is_ascii_digit() && n < digits.len() {
                digits[n] = b;
                n += 1;
            }
        }
        let exp: i32 = std::str::from_utf8(&sci[e_pos + 1..])
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        // %g never shows trailing zeros of the significand (no `#` flag).
        let mut sig = n;
        while sig > 1 && digits[sig - 1] == b'0' {
            sig -= 1;
        }
        let digits = &digits[..sig];

        if d.is_sign_negative() {
            self.push(b'-');
        }
        if (-4..17).contains(&exp) {
            if exp >= 0 {
                // `exp` is in 0..17, so the cast is lossless.
                let int_len = exp as usize + 1;
                if digits.len() <= int_len {
                    self.push_slice(digits);
                    for _ in digits.len()..int_len {
                        self.push(b'0');
                    }
                } else {
                    self.push_slice(&digits[..int_len]);
                    self.push(b'.');
                    self.push_slice(&digits[int_len..]);
                }
            } else {
                self.push_slice(b"0.");
                for _ in 0..(-exp - 1) {
                    self.push(b'0');
                }
                self.push_slice(digits);
            }
        } else {
            self.push(digits[0]);
            if digits.len() > 1 {
                self.push(b'.');
                self.push_slice(&digits[1..]);
            }
            self.push(b'e');
            self.push(if exp < 0 { b'-' } else { b'+' });
            let abs = exp.unsigned_abs();
            if abs < 10 {
                self.push(b'0');
            }
            let mut buf = [0u8; 20];
            let exp_digits = format_u64(u64::from(abs), &mut buf);
            self.push_slice(exp_digits);
        }
    }
}

/// C's `printf("%.17g", d)` (glibc), the text Redis 7.0 uses for every double reply,
/// so scores and `INCRBYFLOAT`-style results match Redis byte for byte.
pub fn format_double_g17(d: f64) -> String {
    // glibc spells non-finite values `inf`, `-inf`, `nan` and `-nan`, as `format` does.
    let mut buf = DoubleBuf::new();
    String::from_utf8_lossy(buf.format(d)).into_owned()
}
