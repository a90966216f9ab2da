//! C `long double` as Redis uses it for `INCRBYFLOAT` and `HINCRBYFLOAT` on x86_64: the
//! x87 80-bit extended format (64-bit significand), parsed like glibc's `strtold`
//! through Redis' `string2ld`, and printed like `ld2string(.., LD_STR_HUMAN)`, i.e.
//! `%.17Lf` with trailing zeros removed.
//!
//! `f64` is not enough: Redis adds `10.5 + 0.1` in 80 bits and prints `10.6`, where a
//! 64-bit sum printed with 17 decimals reads `10.59999999999999964`. Correctly rounded
//! parsing and addition come from `rustc_apfloat`; the exact decimal expansion that
//! glibc's `printf` produces is computed here.

use rustc_apfloat::ieee::X87DoubleExtended;
use rustc_apfloat::{Float, Round, Status};

/// Inputs of this length or longer are refused, as Redis' `MAX_LONG_DOUBLE_CHARS`.
const MAX_LONG_DOUBLE_CHARS: usize = 5 * 1024;

/// Fractional digits printed by `%.17Lf`.
const FRACTION_DIGITS: usize = 17;

/// 10^17, the scale of the rounded fixed-point value.
const FRACTION_SCALE: u128 = 100_000_000_000_000_000;

/// Exponent bias of the x87 extended format.
const EXP_BIAS: i32 = 16383;

/// An x87 80-bit `long double`.
#[derive(Debug, Clone, Copy)]
pub struct LongDouble(X87DoubleExtended);

impl LongDouble {
    /// Zero, the value of a missing key.
    pub const ZERO: LongDouble = LongDouble(X87DoubleExtended::ZERO);

    /// Parses as Redis' `string2ld`: the whole input must be a `strtold` number
    /// (decimal, hex float, `inf`/`infinity`), with no leading space; NaN, overflow
    /// and underflow to zero are refused.
    pub fn parse(s: &[u8]) -> Option<LongDouble> {
        if s.is_empty() || s.len() >= MAX_LONG_DOUBLE_CHARS {
            return None;
        }
        let (negative, body) = match s[0] {
            b'-' => (true, &s[1..]),
            b'+' => (false, &s[1..]),
            _ => (false, s),
        };
        let value = if is_infinity(body) {
            X87DoubleExtended::INFINITY
        } else {
            parse_finite(body)?
        };
        Some(LongDouble(if negative { -value } else { value }))
    }

    /// Whether the value is neither infinite nor NaN.
    pub fn is_finite(self) -> bool {
        self.0.is_finite()
    }

    /// The text Redis stores for this value (`ld2string` with `LD_STR_HUMAN`):
    /// `%.17Lf`, trailing zeros and a trailing `.` removed, `-0` printed as `0`.
    /// Only meaningful for finite values.
    pub fn to_human(self) -> Vec<u8> {
        let bits = self.0.to_bits();
        let negative = (bits >> 79) & 1 == 1;
        let exp_field = ((bits >> 64) & 0x7fff) as i32;
        let significand = bits as u64;
        // value = significand * 2^exp; a zero exponent field is denormal.
        let exp = exp_field.max(1) - EXP_BIAS - 63;
        let mut out = Vec::with_capacity(24);
        if negative {
            out.push(b'-');
        }
        if exp >= 0 {
            write_integer_times_pow2(significand, exp as u32, &mut out);
        } else {
            write_fraction(significand, exp.unsigned_abs(), &mut out);
        }
        if out == b"-0" {
            out.remove(0);
        }
        out
    }
}

impl std::ops::Add for LongDouble {
    type Output = LongDouble;

    /// The sum, rounded to nearest as the x87 FPU does.
    fn add(self, other: LongDouble) -> LongDouble {
        LongDouble(self.0.add_r(other.0, Round::NearestTiesToEven).value)
    }
}

/// `inf` or `infinity`, in any case.
fn is_infinity(s: &[u8]) -> bool {
    s.eq_ignore_ascii_case(b"inf") || s.eq_ignore_ascii_case(b"infinity")
}

/// A decimal or hexadecimal `strtold` number without sign, fully consumed.
fn parse_finite(body: &[u8]) -> Option<X87DoubleExtended> {
    let (hex, digits) = match body {
        [b'0', b'x' | b'X', rest @ ..] => (true, rest),
        _ => (false, body),
    };
    let marker = if hex { b'p' } else { b'e' };
    let (mantissa, exponent) = match digits.iter().position(|c| c.to_ascii_lowercase() == marker) {
        Some(i) => (&digits[..i], Some(&digits[i + 1..])),
        None => (digits, None),
    };
    if !valid_mantissa(mantissa, hex) || exponent.is_some_and(|e| !valid_exponent(e)) {
        return None;
    }
    let text = std::str::from_utf8(body).ok()?;
    let parsed = if hex && exponent.is_none() {
        X87DoubleExtended::from_str_r(&format!("{text}p0"), Round::NearestTiesToEven)
    } else {
        X87DoubleExtended::from_str_r(text, Round::NearestTiesToEven)
    }
    .ok()?;
    let value = parsed.value;
    // strtold reports ERANGE for overflow and for underflow to zero: Redis refuses both.
    if value.is_infinite()
        || value.is_nan()
        || (value.is_zero() && parsed.status.contains(Status::UNDERFLOW))
    {
        return None;
    }
    Some(value)
}

/// Digits with at most one `.`, at least one digit.
fn valid_mantissa(s: &[u8], hex: bool) -> bool {
    let digit = |c: &u8| {
        if hex {
            c.is_ascii_hexdigit()
        } else {
            c.is_ascii_digit()
        }
    };
    let dots = s.iter().filter(|&&c| c == b'.').count();
    dots <= 1 && s.iter().any(digit) && s.iter().all(|c| *c == b'.' || digit(c))
}

/// An optional sign and at least one decimal digit.
fn valid_exponent(s: &[u8]) -> bool {
    let digits = match s.first() {
        Some(b'+' | b'-') => &s[1..],
        _ => s,
    };
    !digits.is_empty() && digits.iter().all(u8::is_ascii_digit)
}

/// Appends `significand * 2^exp` (an integer) in decimal: `%.17Lf` then prints only
/// zeros after the point, which `LD_STR_HUMAN` removes.
fn write_integer_times_pow2(significand: u64, exp: u32, out: &mut Vec<u8>) {
    if exp < 64 {
        append(out, format_args!("{}", (significand as u128) << exp));
        return;
    }
    // Base 10^9 limbs, least significant first, multiplied by 2^32 at a time.
    const BASE: u64 = 1_000_000_000;
    let mut limbs = vec![
        significand % BASE,
        significand / BASE % BASE,
        significand / BASE / BASE,
    ];
    let mut remaining = exp;
    while remaining > 0 {
        let shift = remaining.min(32);
        remaining -= shift;
        let mut carry = 0u64;
        for limb in limbs.iter_mut() {
            let t = (*limb << shift) + carry;
            *limb = t % BASE;
            carry = t / BASE;
        }
        while carry > 0 {
            limbs.push(carry % BASE);
            carry /= BASE;
        }
    }
    while limbs.len() > 1 && limbs.last() == Some(&0) {
        limbs.pop();
    }
    let mut iter = limbs.iter().rev();
    if let Some(top) = iter.next() {
        append(out, format_args!("{top}"));
    }
    for limb in iter {
        append(out, format_args!("{limb:09}"));
    }
}

/// Appends `significand * 2^-shift` rounded to 17 decimals (ties to even, as glibc
/// rounds the exact value), without trailing zeros.
fn write_fraction(significand: u64, shift: u32, out: &mut Vec<u8>) {
    // Below 2^-127 even the largest significand is < 0.006e-17: it prints as zero.
    let scaled = if shift > 127 {
        0
    } else {
        let product = significand as u128 * FRACTION_SCALE;
        let quotient = product >> shift;
        let remainder = product & ((1u128 << shift) - 1);
        let half = 1u128 << (shift - 1);
        if remainder > half || (remainder == half && quotient & 1 == 1) {
            quotient + 1
        } else {
            quotient
        }
    };
    append(out, format_args!("{}", scaled / FRACTION_SCALE));
    let fraction = scaled % FRACTION_SCALE;
    if fraction == 0 {
        return;
    }
    append(
        out,
        format_args!(".{fraction:0width$}", width = FRACTION_DIGITS),
    );
    while out.last() == Some(&b'0') {
        out.pop();
    }
}

/// Appends formatted text (digits only: not on a hot path, no allocation).
fn append(out: &mut Vec<u8>, args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    // Writing into a Vec cannot fail.
    let _ = out.write_fmt(args);
}

#[cfg(test)]
mod tests {
    use super::LongDouble;

    fn human(s: &str) -> String {
        String::from_utf8(LongDouble::parse(s.as_bytes()).unwrap().to_human()).unwrap()
    }

    fn sum(a: &str, b: &str) -> String {
        let a = LongDouble::parse(a.as_bytes()).unwrap();
        let b = LongDouble::parse(b.as_bytes()).unwrap();
        String::from_utf8((a + b).to_human()).unwrap()
    }

    #[test]
    fn redis_incrbyfloat_outputs() {
        assert_eq!(sum("10.50", "0.1"), "10.6");
        assert_eq!(sum("10.5", "5.0e3"), "5010.5");
        assert_eq!(sum("3.0e3", "2.0e2"), "3200");
        assert_eq!(sum("1", "1.1"), "2.1");
        assert_eq!(sum("1.1", "-1.1"), "0");
        assert_eq!(sum("17179869184", "1.5"), "17179869185.5");
        assert_eq!(sum("0.1", "0.2"), "0.3");
        assert_eq!(sum("-5", "4.9999999999999999999"), "0");
    }

    // Expected texts below were produced by glibc's strtold, x87 addition and
    // printf("%.17Lf") on x86_64, as Redis 7.0 runs them.
    #[test]
    fn exact_decimal_expansion() {
        let big = human("1.5e300");
        assert_eq!(big.len(), 301);
        assert!(big.starts_with("15000000000000000000498001098614721663623792391186739285512197"));
        assert!(big.ends_with("46614720512"));
        // Ties at the 17th decimal round to even, as glibc does on the exact value.
        assert_eq!(human("-0.000003814697265625"), "-0.00000381469726562");
        assert_eq!(human("0.000011444091796875"), "0.00001144409179688");
        assert_eq!(human("1e-18"), "0");
        assert_eq!(human("-1e-18"), "0");
        assert_eq!(human("-2.5"), "-2.5");
        let max = human("1.18973149535723176502e+4932");
        assert_eq!(max.len(), 4933);
        assert!(
            max.starts_with("118973149535723176502126385303097020516906332229462420044032373389")
        );
        assert!(max.ends_with("52086811989770240"));
    }

    #[test]
    fn strtold_syntax() {
        assert_eq!(human("0x1.8p1"), "3");
        assert_eq!(human("0X.8"), "0.5");
        assert_eq!(human("+.5"), "0.5");
        assert_eq!(human("5."), "5");
        assert_eq!(human("0e-5000"), "0");
        assert_eq!(human("00012"), "12");
        assert!(LongDouble::parse(b"4e-4951").is_some()); // the smallest denormal
        assert!(LongDouble::parse(b"1e-4951").is_none()); // rounds to zero
        assert!(!LongDouble::parse(b"-inf").unwrap().is_finite());
        assert!(!LongDouble::parse(b"Infinity").unwrap().is_finite());
        let bad: [&[u8]; 16] = [
            b"", b" 1", b"1 ", b"1e", b"1e+", b"0x", b"0x1p", b"nan", b"-nan", b".", b"1..2",
            b"infin", b"1e5000", b"1e-5000", b"--1", b"1,5",
        ];
        for s in bad {
            assert!(
                LongDouble::parse(s).is_none(),
                "{:?}",
                String::from_utf8_lossy(s)
            );
        }
        let mut long = b"1.".to_vec();
        long.resize(5119, b'0');
        assert!(LongDouble::parse(&long).is_some());
        long.push(b'0');
        assert!(LongDouble::parse(&long).is_none());
    }

    #[test]
    fn overflow_and_nan_sums_are_not_finite() {
        let max = LongDouble::parse(b"1e4932").unwrap();
        assert!(!(max + max).is_finite());
        let inf = LongDouble::parse(b"inf").unwrap();
        assert!(!(inf + LongDouble::parse(b"-inf").unwrap()).is_finite());
        assert!((LongDouble::ZERO + max).is_finite());
    }
}
