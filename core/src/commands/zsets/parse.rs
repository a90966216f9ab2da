//! Argument parsing for the sorted set family with Redis 7.0's exact acceptance rules:
//! scores as `getDoubleFromObject` reads them, score intervals as `zslParseRange`
//! (plain `strtod`), lexicographic intervals as `zslParseLexRange`.

use bytes::Bytes;

use crate::command::CmdError;
use crate::storage::{LexBound, LexRange, ScoreBound, ScoreRange};

/// What C's `strtod` makes of a prefix of `s`: the value, how many bytes it used, and
/// whether it reported `ERANGE` (overflow to infinity, or underflow to zero).
struct Strtod {
    value: f64,
    used: usize,
    range_error: bool,
}

/// C's `isspace` in the "C" locale.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

/// Emulates glibc's `strtod` on `s`: leading white space, a sign, then a decimal or
/// hexadecimal number, `inf`/`infinity` or `nan`/`nan(chars)`, case-insensitive.
/// `used == 0` means no conversion.
fn strtod(s: &[u8]) -> Strtod {
    let none = Strtod {
        value: 0.0,
        used: 0,
        range_error: false,
    };
    let mut i = 0;
    while i < s.len() && is_c_space(s[i]) {
        i += 1;
    }
    let mut negative = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        negative = s[i] == b'-';
        i += 1;
    }
    let sign = |v: f64| if negative { -v } else { v };
    let rest = &s[i..];
    let starts = |word: &str| {
        rest.len() >= word.len() && rest[..word.len()].eq_ignore_ascii_case(word.as_bytes())
    };
    if starts("infinity") {
        return Strtod {
            value: sign(f64::INFINITY),
            used: i + 8,
            range_error: false,
        };
    }
    if starts("inf") {
        return Strtod {
            value: sign(f64::INFINITY),
            used: i + 3,
            range_error: false,
        };
    }
    if starts("nan") {
        let mut used = i + 3;
        if s.get(used) == Some(&b'(') {
            let close = s[used + 1..]
                .iter()
                .position(|&b| !(b.is_ascii_alphanumeric() || b == b'_'));
            if let Some(n) = close {
                if s[used + 1 + n] == b')' {
                    used += n + 2;
                }
            }
        }
        return Strtod {
            value: f64::NAN,
            used,
            range_error: false,
        };
    }
    if rest.len() >= 3
        && rest[0] == b'0'
        && (rest[1] | 0x20) == b'x'
        && (rest[2].is_ascii_hexdigit()
            || (rest[2] == b'.' && rest.get(3).is_some_and(u8::is_ascii_hexdigit)))
    {
        let (value, used, range_error) = hex_float(&rest[2..]);
        return Strtod {
            value: sign(value),
            used: i + 2 + used,
            range_error,
        };
    }
    // Decimal: digits [. digits] [e [sign] digits], at least one mantissa digit.
    let mut j = 0;
    let mut mantissa_digits = 0;
    let mut nonzero = false;
    while j < rest.len() && rest[j].is_ascii_digit() {
        nonzero |= rest[j] != b'0';
        mantissa_digits += 1;
        j += 1;
    }
    if j < rest.len() && rest[j] == b'.' {
        j += 1;
        while j < rest.len() && rest[j].is_ascii_digit() {
            nonzero |= rest[j] != b'0';
            mantissa_digits += 1;
            j += 1;
        }
    }
    if mantissa_digits == 0 {
        return none;
    }
    if j < rest.len() && (rest[j] | 0x20) == b'e' {
        let mut k = j + 1;
        if k < rest.len() && (rest[k] == b'+' || rest[k] == b'-') {
            k += 1;
        }
        if k < rest.len() && rest[k].is_ascii_digit() {
            while k < rest.len() && rest[k].is_ascii_digit() {
                k += 1;
            }
            j = k;
        }
    }
    // The text is ASCII digits, '.', 'e' and signs, which Rust parses with the same
    // correct rounding as glibc.
    let text = std::str::from_utf8(&rest[..j]).unwrap_or("0");
    let value: f64 = text.parse().unwrap_or(0.0);
    let range_error = value.is_infinite() || (value == 0.0 && nonzero);
    Strtod {
        value: sign(value),
        used: i + j,
        range_error,
    }
}

/// A hexadecimal float body (after `0x`): hex digits, optional fraction, optional
/// binary exponent `p[sign]digits`. Returns (magnitude, bytes used, ERANGE).
fn hex_float(s: &[u8]) -> (f64, usize, bool) {
    let mut mantissa: u64 = 0;
    let mut exp: i64 = 0;
    let mut sticky = false;
    let mut j = 0;
    let mut seen_point = false;
    while j < s.len() {
        let b = s[j];
        if b == b'.' && !seen_point {
            seen_point = true;
            j += 1;
            continue;
        }
        let Some(d) = (b as char).to_digit(16) else {
            break;
        };
        if mantissa >> 56 == 0 {
            mantissa = mantissa << 4 | u64::from(d);
            if seen_point {
                exp -= 4;
            }
        } else {
            // Further digits only matter for rounding (and scale when before the point).
            sticky |= d != 0;
            if !seen_point {
                exp += 4;
            }
        }
        j += 1;
    }
    if j < s.len() && (s[j] | 0x20) == b'p' {
        let mut k = j + 1;
        let mut neg = false;
        if k < s.len() && (s[k] == b'+' || s[k] == b'-') {
            neg = s[k] == b'-';
            k += 1;
        }
        if k < s.len() && s[k].is_ascii_digit() {
            let mut e: i64 = 0;
            while k < s.len() && s[k].is_ascii_digit() {
                e = (e * 10 + i64::from(s[k] - b'0')).min(1 << 20);
                k += 1;
            }
            exp += if neg { -e } else { e };
            j = k;
        }
    }
    if mantissa == 0 {
        return (0.0, j, false);
    }
    // Keep the sticky bit below the 53 significant bits so that rounding is right.
    let value = ((mantissa << 1 | u64::from(sticky)) as f64) * 2f64.powi(-1);
    let scaled = scale_pow2(value, exp);
    (
        scaled,
        j,
        scaled.is_infinite() || scaled == 0.0 || scaled < f64::MIN_POSITIVE,
    )
}

/// `value * 2^exp` without intermediate overflow or underflow.
fn scale_pow2(mut value: f64, mut exp: i64) -> f64 {
    while exp > 1000 {
        value *= 2f64.powi(1000);
        exp -= 1000;
        if value.is_infinite() {
            return value;
        }
    }
    while exp < -1000 {
        value *= 2f64.powi(-1000);
        exp += 1000;
        if value == 0.0 {
            return value;
        }
    }
    value * 2f64.powi(exp as i32)
}

/// A score argument as Redis' `getDoubleFromObject`: not empty, no leading space, the
/// whole argument consumed, no overflow or underflow to zero, not NaN.
pub(crate) fn score_value(arg: &[u8]) -> Option<f64> {
    if arg.is_empty() || is_c_space(arg[0]) {
        return None;
    }
    let r = strtod(arg);
    let overflow = r.range_error && (r.value.is_infinite() || r.value == 0.0);
    if r.used != arg.len() || overflow || r.value.is_nan() {
        return None;
    }
    Some(r.value)
}

/// A score argument (`ZADD`, `ZINCRBY`): `ERR value is not a valid float`.
pub(crate) fn score(arg: &[u8]) -> Result<f64, CmdError> {
    score_value(arg).ok_or_else(CmdError::not_float)
}

/// One end of a score interval as `zslParseRange` reads it: `(` makes it exclusive,
/// then plain `strtod` up to the first NUL byte, which must end the argument; the
/// empty string is 0; NaN is refused.
fn score_bound(arg: &[u8]) -> Option<ScoreBound> {
    let (exclusive, body) = match arg.first() {
        Some(b'(') => (true, &arg[1..]),
        _ => (false, arg),
    };
    // C sees the argument only up to its first NUL byte.
    let body = match body.iter().position(|&b| b == 0) {
        Some(n) => &body[..n],
        None => body,
    };
    let r = strtod(body);
    let value = if r.used == 0 { 0.0 } else { r.value };
    let consumed = if r.used == 0 { 0 } else { r.used };
    if consumed != body.len() || value.is_nan() {
        return None;
    }
    Some(ScoreBound { value, exclusive })
}

/// A `min max` score interval (`ERR min or max is not a float`).
pub(crate) fn score_range(min: &[u8], max: &[u8]) -> Result<ScoreRange, CmdError> {
    match (score_bound(min), score_bound(max)) {
        (Some(min), Some(max)) => Ok(ScoreRange { min, max }),
        _ => Err(CmdError::err("min or max is not a float")),
    }
}

/// One end of a lexicographic interval as `zslParseLexRangeItem`.
fn lex_bound(arg: &Bytes) -> Option<LexBound> {
    match arg.first()? {
        b'+' if arg.len() == 1 => Some(LexBound::Max),
        b'-' if arg.len() == 1 => Some(LexBound::Min),
        b'(' => Some(LexBound::Exclusive(arg.slice(1..))),
        b'[' => Some(LexBound::Inclusive(arg.slice(1..))),
        _ => None,
    }
}

/// A `min max` lexicographic interval (`ERR min or max not valid string range item`).
pub(crate) fn lex_range(min: &Bytes, max: &Bytes) -> Result<LexRange, CmdError> {
    match (lex_bound(min), lex_bound(max)) {
        (Some(min), Some(max)) => Ok(LexRange { min, max }),
        _ => Err(CmdError::err("min or max not valid string range item")),
    }
}

/// `MIN` or `MAX` (case-insensitive), as ZMPOP and BZMPOP take it; true for MAX.
pub(crate) fn min_max(arg: &[u8]) -> Result<bool, CmdError> {
    if arg.eq_ignore_ascii_case(b"min") {
        Ok(false)
    } else if arg.eq_ignore_ascii_case(b"max") {
        Ok(true)
    } else {
        Err(CmdError::syntax())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_follow_get_double_from_object() {
        assert_eq!(score_value(b"1.5"), Some(1.5));
        assert_eq!(score_value(b"-3"), Some(-3.0));
        assert_eq!(score_value(b"+.5"), Some(0.5));
        assert_eq!(score_value(b"5."), Some(5.0));
        assert_eq!(score_value(b"1e3"), Some(1000.0));
        assert_eq!(score_value(b"inf"), Some(f64::INFINITY));
        assert_eq!(score_value(b"+INF"), Some(f64::INFINITY));
        assert_eq!(score_value(b"-Infinity"), Some(f64::NEG_INFINITY));
        assert_eq!(score_value(b"0x10"), Some(16.0));
        assert_eq!(score_value(b"0x1.8p1"), Some(3.0));
        assert_eq!(score_value(b"-0x.8"), Some(-0.5));
        assert_eq!(score_value(b"1e-310"), Some(1e-310));
        assert_eq!(score_value(b"0e-400"), Some(0.0));
        for bad in [
            &b""[..],
            b" 1",
            b"1 ",
            b"nan",
            b"-nan",
            b"nan(123)",
            b"1e400",
            b"-1e400",
            b"1e-400",
            b"abc",
            b"1e",
            b"1x",
            b".",
            b"0x",
            b"1\x002",
            b"--1",
            b"0x1p99999",
        ] {
            assert_eq!(score_value(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn score_ranges_follow_zsl_parse_range() {
        let r = score_range(b"(1.5", b"+inf").unwrap();
        assert_eq!(
            r.min,
            ScoreBound {
                value: 1.5,
                exclusive: true
            }
        );
        assert_eq!(
            r.max,
            ScoreBound {
                value: f64::INFINITY,
                exclusive: false
            }
        );
        // strtod's leniency: leading space, the empty string, a bare "(".
        let r = score_range(b" 1", b"").unwrap();
        assert_eq!((r.min.value, r.max.value), (1.0, 0.0));
        let r = score_range(b"(", b"1e400").unwrap();
        assert_eq!(
            r.min,
            ScoreBound {
                value: 0.0,
                exclusive: true
            }
        );
        assert_eq!(r.max.value, f64::INFINITY);
        assert_eq!(score_range(b"1\x00junk", b"2").unwrap().min.value, 1.0);
        let err = Err(CmdError::err("min or max is not a float"));
        assert_eq!(score_range(b"nan", b"1"), err);
        assert_eq!(score_range(b"1", b"(nan"), err);
        assert_eq!(score_range(b"1 ", b"2"), err);
        assert_eq!(score_range(b"[1", b"2"), err);
        assert_eq!(score_range(b"((1", b"2"), err);
        assert_eq!(score_range(b" ", b"2"), err);
    }

    #[test]
    fn lex_ranges_follow_zsl_parse_lex_range() {
        let b = |s: &str| Bytes::copy_from_slice(s.as_bytes());
        let r = lex_range(&b("[a"), &b("(b")).unwrap();
        assert_eq!(r.min, LexBound::Inclusive(b("a")));
        assert_eq!(r.max, LexBound::Exclusive(b("b")));
        let r = lex_range(&b("-"), &b("+")).unwrap();
        assert_eq!((r.min, r.max), (LexBound::Min, LexBound::Max));
        let r = lex_range(&b("+"), &b("[")).unwrap();
        assert_eq!((r.min, r.max), (LexBound::Max, LexBound::Inclusive(b(""))));
        let err = Err(CmdError::err("min or max not valid string range item"));
        for (min, max) in [
            ("a", "+"),
            ("-", "b"),
            ("", "+"),
            ("--", "+"),
            ("-", "++"),
            ("1", "2"),
        ] {
            assert_eq!(lex_range(&b(min), &b(max)), err, "{min} {max}");
        }
    }

    #[test]
    fn min_max_keywords() {
        assert_eq!(min_max(b"min"), Ok(false));
        assert_eq!(min_max(b"MAX"), Ok(true));
        assert_eq!(min_max(b"mid"), Err(CmdError::syntax()));
    }
}
