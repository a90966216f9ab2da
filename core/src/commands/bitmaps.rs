//! Bitmap commands over string values: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP,
//! BITFIELD and BITFIELD_RO, with Redis 7.0's ranges, overflow rules and errors.
//! Bit 0 is the most significant bit of the first byte.

use bytes::Bytes;
use ferrokv_protocol::Frame;

use crate::command::{CmdError, CmdFlags, CmdResult, CommandSpec, Ctx, Handler, KeyPositions};
use crate::commands::args::{int, is};
use crate::commands::strings::{exceeds_max_string, read_string};
use crate::engine::Engine;
use crate::notify;
use crate::storage::TtlUpdate;
use crate::util::number::parse_i64;

const BITMAP: &[&str] = &["bitmap"];
const WRITE_OOM: CmdFlags = CmdFlags::WRITE.or(CmdFlags::DENYOOM);
const READ_FAST: CmdFlags = CmdFlags::READONLY.or(CmdFlags::FAST);

/// A bitmap command spec with the family's defaults.
const fn spec(
    name: &'static str,
    arity: i32,
    flags: CmdFlags,
    since: &'static str,
    summary: &'static str,
    syntax: &'static str,
    handler: Handler,
) -> CommandSpec {
    CommandSpec {
        name,
        arity,
        flags,
        acl: BITMAP,
        keys: KeyPositions::FIRST,
        group: "bitmap",
        since,
        summary,
        syntax,
        handler: Some(handler),
        ..CommandSpec::DEFAULT
    }
}

/// Bitmap command specs.
pub static COMMANDS: &[CommandSpec] = &[
    spec(
        "setbit",
        4,
        WRITE_OOM,
        "2.2.0",
        "Sets or clears the bit at offset of the string value. Creates the key if it doesn't exist.",
        "key offset value",
        setbit,
    ),
    spec("getbit", 3, READ_FAST, "2.2.0", "Returns a bit value by offset.", "key offset", getbit),
    spec(
        "bitcount",
        -2,
        CmdFlags::READONLY,
        "2.6.0",
        "Counts the number of set bits (population counting) in a string.",
        "key [start end [BYTE | BIT]]",
        bitcount,
    ),
    spec(
        "bitpos",
        -3,
        CmdFlags::READONLY,
        "2.8.7",
        "Finds the first set (1) or clear (0) bit in a string.",
        "key bit [start [end [BYTE | BIT]]]",
        bitpos,
    ),
    CommandSpec {
        keys: KeyPositions::new(2, -1, 1),
        ..spec(
            "bitop",
            -4,
            WRITE_OOM,
            "2.6.0",
            "Performs bitwise operations on multiple strings, and stores the result.",
            "<AND | OR | XOR | NOT> destkey key [key ...]",
            bitop,
        )
    },
    spec(
        "bitfield",
        -2,
        WRITE_OOM,
        "3.2.0",
        "Performs arbitrary bitfield integer operations on strings.",
        "key [GET encoding offset | [OVERFLOW <WRAP | SAT | FAIL>] <SET encoding offset value | INCRBY encoding offset increment> [GET encoding offset | [OVERFLOW <WRAP | SAT | FAIL>] <SET encoding offset value | INCRBY encoding offset increment> ...]]",
        bitfield,
    ),
    spec(
        "bitfield_ro",
        -2,
        READ_FAST,
        "6.0.0",
        "Performs arbitrary read-only bitfield integer operations on strings.",
        "key [GET encoding offset [GET encoding offset ...]]",
        bitfield_ro,
    ),
];

// ---------------------------------------------------------------------------------
// Shared helpers.
// ---------------------------------------------------------------------------------

fn bit_offset_error() -> CmdError {
    CmdError::err("bit offset is not an integer or out of range")
}

/// A bit offset as Redis' `getBitOffsetFromArgument`: non-negative, its byte within
/// `proto-max-bulk-len`; with `hash_bits`, `#N` means `N * bits` (BITFIELD).
fn bit_offset(engine: &Engine, arg: &[u8], hash_bits: Option<u32>) -> Result<u64, CmdError> {
    let (digits, multiplier) = match (arg.first(), hash_bits) {
        (Some(b'#'), Some(bits)) => (&arg[1..], bits as i64),
        _ => (arg, 1),
    };
    let offset = parse_i64(digits)
        .and_then(|n| n.checked_mul(multiplier))
        .ok_or_else(bit_offset_error)?;
    if offset < 0 || exceeds_max_string(engine, offset as u64 >> 3, 1) {
        return Err(bit_offset_error());
    }
    Ok(offset as u64)
}

/// Number of set bits.
fn popcount(bytes: &[u8]) -> u64 {
    let chunks = bytes.chunks_exact(8);
    let tail: u64 = chunks
        .remainder()
        .iter()
        .map(|b| b.count_ones() as u64)
        .sum();
    chunks.fold(tail, |n, c| {
        n + u64::from_ne_bytes(c.try_into().unwrap_or_default()).count_ones() as u64
    })
}

/// Position of the first bit equal to `bit`, as Redis' `redisBitpos`: -1 when looking
/// for a 1 in all zeros, `len * 8` when looking for a 0 in all ones.
fn first_bit(bytes: &[u8], bit: bool) -> i64 {
    let skip = if bit { 0x00 } else { 0xff };
    match bytes.iter().position(|&b| b != skip) {
        Some(i) => {
            let byte = if bit { bytes[i] } else { !bytes[i] };
            (i * 8) as i64 + byte.leading_zeros() as i64
        }
        None if bit => -1,
        None => bytes.len() as i64 * 8,
    }
}

/// An inclusive byte range; in BIT units, masks of the bits outside the range in its
/// first and last bytes.
struct ByteRange {
    start: i64,
    end: i64,
    first_mask: u8,
    last_mask: u8,
}

impl ByteRange {
    /// The whole string.
    fn all(len: usize) -> ByteRange {
        ByteRange {
            start: 0,
            end: len as i64 - 1,
            first_mask: 0,
            last_mask: 0,
        }
    }

    /// Redis' conversion of BITCOUNT/BITPOS `start end [BYTE|BIT]`: negative indexes
    /// count from the end, the range is clamped to the string.
    fn new(len: usize, mut start: i64, mut end: i64, bit_unit: bool) -> ByteRange {
        let total = if bit_unit {
            (len as i64) << 3
        } else {
            len as i64
        };
        if start < 0 {
            start = (start + total).max(0);
        }
        if end < 0 {
            end = (end + total).max(0);
        }
        end = end.min(total - 1);
        let (mut first_mask, mut last_mask) = (0, 0);
        if bit_unit && start <= end {
            first_mask = !(0xffu8 >> (start & 7));
            last_mask = ((1u16 << (7 - (end & 7))) - 1) as u8;
            start >>= 3;
            end >>= 3;
        }
        ByteRange {
            start,
            end,
            first_mask,
            last_mask,
        }
    }
}

/// `BYTE` or `BIT` (`ERR syntax error` otherwise); true for BIT.
fn parse_unit(arg: &[u8]) -> Result<bool, CmdError> {
    if is(arg, "bit") {
        Ok(true)
    } else if is(arg, "byte") {
        Ok(false)
    } else {
        Err(CmdError::syntax())
    }
}

// ---------------------------------------------------------------------------------
// SETBIT, GETBIT.
// ---------------------------------------------------------------------------------

fn setbit(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let offset = bit_offset(ctx.engine, &argv[2], None)?;
    let bit_error = || CmdError::err("bit is not an integer or out of range");
    let on = parse_i64(&argv[3]).ok_or_else(bit_error)?;
    if on & !1 != 0 {
        return Err(bit_error());
    }
    let (byte, mask) = ((offset >> 3) as usize, 0x80u8 >> (offset & 7));
    let mut was_set = false;
    let mut grown = false;
    let created = ctx.creates(&argv[1])?;
    ctx.txn
        .update_string(ctx.session.db, &argv[1], true, &mut |value| {
            if value.len() <= byte {
                value.resize(byte + 1, 0);
                grown = true;
            }
            was_set = value[byte] & mask != 0;
            if on == 1 {
                value[byte] |= mask;
            } else {
                value[byte] &= !mask;
            }
        })?;
    // Redis publishes only when the string was created, grew or the bit changed.
    if grown || was_set != (on == 1) {
        ctx.notify_new(created, &argv[1]);
        ctx.notify(notify::STRING, "setbit", &argv[1]);
    }
    Ok(Frame::Integer(was_set as i64))
}

fn getbit(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let offset = bit_offset(ctx.engine, &argv[2], None)?;
    let value = read_string(ctx, &argv[1])?.unwrap_or_default();
    let byte = value.get((offset >> 3) as usize).copied().unwrap_or(0);
    Ok(Frame::Integer((byte & (0x80 >> (offset & 7)) != 0) as i64))
}

// ---------------------------------------------------------------------------------
// BITCOUNT, BITPOS.
// ---------------------------------------------------------------------------------

fn bitcount(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    // Redis 7.0 looks the key up first: a missing key counts 0 whatever the arguments.
    let Some(value) = read_string(ctx, &argv[1])? else {
        return Ok(Frame::Integer(0));
    };
    let range = match argv.len() {
        2 => ByteRange::all(value.len()),
        4 | 5 => {
            let (start, end) = (int(&argv[2])?, int(&argv[3])?);
            if start < 0 && end < 0 && start > end {
                return Ok(Frame::Integer(0));
            }
            let bit_unit = argv.len() == 5 && parse_unit(&argv[4])?;
            ByteRange::new(value.len(), start, end, bit_unit)
        }
        _ => return Err(CmdError::syntax()),
    };
    if range.start > range.end {
        return Ok(Frame::Integer(0));
    }
    let (start, end) = (range.start as usize, range.end as usize);
    let outside = [
        value[start] & range.first_mask,
        value[end] & range.last_mask,
    ];
    Ok(Frame::Integer(
        (popcount(&value[start..=end]) - popcount(&outside)) as i64,
    ))
}

fn bitpos(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let bit = int(&argv[2])?;
    if bit != 0 && bit != 1 {
        return Err(CmdError::err("The bit argument must be 1 or 0."));
    }
    let bit = bit == 1;
    // A missing key is an infinite run of zeros.
    let Some(value) = read_string(ctx, &argv[1])? else {
        return Ok(Frame::Integer(if bit { -1 } else { 0 }));
    };
    let (range, end_given) = match argv.len() {
        3 => (ByteRange::all(value.len()), false),
        4..=6 => {
            let start = int(&argv[3])?;
            let bit_unit = argv.len() == 6 && parse_unit(&argv[5])?;
            let end = if argv.len() >= 5 {
                int(&argv[4])?
            } else {
                value.len() as i64 - 1
            };
            (
                ByteRange::new(value.len(), start, end, bit_unit),
                argv.len() >= 5,
            )
        }
        _ => return Err(CmdError::syntax()),
    };
    if range.start > range.end {
        return Ok(Frame::Integer(-1));
    }
    Ok(Frame::Integer(bitpos_in_range(
        &value, &range, bit, end_given,
    )))
}

/// BITPOS inside a non-empty range, as Redis: partial edge bytes are searched with the
/// bits outside the range forced to the opposite value; a clear bit found only past an
/// explicit end is not a match.
fn bitpos_in_range(p: &[u8], range: &ByteRange, bit: bool, end_given: bool) -> i64 {
    let hide = |byte: u8, mask: u8| if bit { byte & !mask } else { byte | mask };
    let (mut start, end) = (range.start as usize, range.end as usize);
    let mut bytes = end - start + 1;
    let pos = 'found: {
        if range.first_mask != 0 {
            let mut edge = hide(p[start], range.first_mask);
            if range.last_mask != 0 && bytes == 1 {
                edge = hide(edge, range.last_mask);
            }
            let pos = first_bit(&[edge], bit);
            if bytes == 1 || (pos != -1 && pos != 8) {
                break 'found pos;
            }
            start += 1;
            bytes -= 1;
        }
        let whole = bytes - (range.last_mask != 0) as usize;
        if whole > 0 {
            let pos = first_bit(&p[start..start + whole], bit);
            if bytes == whole || (pos != -1 && pos != whole as i64 * 8) {
                break 'found pos;
            }
            start += whole;
            bytes -= whole;
        }
        first_bit(&[hide(p[end], range.last_mask)], bit)
    };
    if end_given && !bit && pos == bytes as i64 * 8 {
        return -1;
    }
    if pos == -1 {
        -1
    } else {
        pos + start as i64 * 8
    }
}

// ---------------------------------------------------------------------------------
// BITOP.
// ---------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum BitOp {
    And,
    Or,
    Xor,
    Not,
}

fn bitop(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let op = match &argv[1][..] {
        name if is(name, "and") => BitOp::And,
        name if is(name, "or") => BitOp::Or,
        name if is(name, "xor") => BitOp::Xor,
        name if is(name, "not") => BitOp::Not,
        _ => return Err(CmdError::syntax()),
    };
    if op == BitOp::Not && argv.len() != 4 {
        return Err(CmdError::err(
            "BITOP NOT must be called with a single source key.",
        ));
    }
    let mut sources = Vec::with_capacity(argv.len() - 3);
    for key in &argv[3..] {
        sources.push(read_string(ctx, key)?.unwrap_or_default());
    }
    let result = combine(op, &sources);
    let db = ctx.db();
    if result.is_empty() {
        if ctx.txn.delete(db, &argv[2])? {
            ctx.notify(notify::GENERIC, "del", &argv[2]);
        }
    } else {
        let created = ctx.creates(&argv[2])?;
        ctx.txn
            .set_string(db, &argv[2], &result, TtlUpdate::Clear)?;
        ctx.notify_new(created, &argv[2]);
        ctx.notify(notify::STRING, "set", &argv[2]);
    }
    Ok(Frame::Integer(result.len() as i64))
}

/// The bitwise combination, as long as the longest source; shorter ones are
/// zero-padded.
fn combine(op: BitOp, sources: &[Bytes]) -> Vec<u8> {
    let max_len = sources.iter().map(Bytes::len).max().unwrap_or(0);
    let mut out = vec![0u8; max_len];
    let Some((first, rest)) = sources.split_first() else {
        return out;
    };
    out[..first.len()].copy_from_slice(first);
    if op == BitOp::Not {
        out.iter_mut().for_each(|b| *b = !*b);
    }
    for src in rest {
        let pairs = out.iter_mut().zip(src.iter());
        match op {
            BitOp::And => {
                pairs.for_each(|(o, s)| *o &= s);
                out[src.len()..].fill(0);
            }
            BitOp::Or => pairs.for_each(|(o, s)| *o |= s),
            BitOp::Xor => pairs.for_each(|(o, s)| *o ^= s),
            BitOp::Not => {}
        }
    }
    out
}

// ---------------------------------------------------------------------------------
// BITFIELD.
// ---------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum Overflow {
    Wrap,
    Sat,
    Fail,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum FieldOp {
    Get,
    Set(i64),
    IncrBy(i64),
}

/// One BITFIELD operation, with the OVERFLOW mode in force where it appeared.
struct Field {
    op: FieldOp,
    signed: bool,
    bits: u32,
    offset: u64,
    overflow: Overflow,
}

fn bitfield(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    bitfield_generic(ctx, argv, false)
}

fn bitfield_ro(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    bitfield_generic(ctx, argv, true)
}

/// BITFIELD and BITFIELD_RO (`read_only`), as Redis' `bitfieldGeneric`: every
/// operation is checked before any runs.
fn bitfield_generic(ctx: &mut Ctx<'_>, argv: &[Bytes], read_only: bool) -> CmdResult {
    let fields = parse_fields(ctx.engine, argv)?;
    let highest_write = fields
        .iter()
        .filter(|f| f.op != FieldOp::Get)
        .map(|f| f.offset + f.bits as u64 - 1)
        .max();
    let Some(highest_write) = highest_write else {
        let value = read_string(ctx, &argv[1])?.unwrap_or_default();
        let replies = fields
            .iter()
            .map(|f| Frame::Integer(get_field(&value, f)))
            .collect();
        return Ok(Frame::Array(replies));
    };
    if read_only {
        return Err(CmdError::err(
            "BITFIELD_RO only supports the GET subcommand",
        ));
    }
    let needed = (highest_write >> 3) as usize + 1;
    let mut replies = Vec::with_capacity(fields.len());
    // Redis publishes when the string was created or grew, or a write changed a field.
    let track = ctx.notifying(notify::STRING);
    let mut changed = false;
    let created = ctx.creates(&argv[1])?;
    ctx.txn
        .update_string(ctx.session.db, &argv[1], true, &mut |value| {
            if value.len() < needed {
                value.resize(needed, 0);
                changed = true;
            }
            replies.extend(fields.iter().map(|f| {
                if !track || f.op == FieldOp::Get {
                    return run_field(value, f);
                }
                let before = get_field(value, f);
                let reply = run_field(value, f);
                changed |= get_field(value, f) != before;
                reply
            }));
        })?;
    if changed {
        ctx.notify_new(created, &argv[1]);
        ctx.notify(notify::STRING, "setbit", &argv[1]);
    }
    Ok(Frame::Array(replies))
}

fn parse_fields(engine: &Engine, argv: &[Bytes]) -> Result<Vec<Field>, CmdError> {
    let mut fields = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut j = 2;
    while j < argv.len() {
        let (name, remaining) = (&argv[j], argv.len() - j - 1);
        let op = if is(name, "get") && remaining >= 2 {
            FieldOp::Get
        } else if is(name, "set") && remaining >= 3 {
            FieldOp::Set(0)
        } else if is(name, "incrby") && remaining >= 3 {
            FieldOp::IncrBy(0)
        } else if is(name, "overflow") && remaining >= 1 {
            overflow = parse_overflow(&argv[j + 1])?;
            j += 2;
            continue;
        } else {
            return Err(CmdError::syntax());
        };
        let (signed, bits) = parse_field_type(&argv[j + 1])?;
        let offset = bit_offset(engine, &argv[j + 2], Some(bits))?;
        let op = match op {
            FieldOp::Get => FieldOp::Get,
            FieldOp::Set(_) => FieldOp::Set(int(&argv[j + 3])?),
            FieldOp::IncrBy(_) => FieldOp::IncrBy(int(&argv[j + 3])?),
        };
        fields.push(Field {
            op,
            signed,
            bits,
            offset,
            overflow,
        });
        j += if op == FieldOp::Get { 3 } else { 4 };
    }
    Ok(fields)
}

fn parse_overflow(arg: &[u8]) -> Result<Overflow, CmdError> {
    if is(arg, "wrap") {
        Ok(Overflow::Wrap)
    } else if is(arg, "sat") {
        Ok(Overflow::Sat)
    } else if is(arg, "fail") {
        Ok(Overflow::Fail)
    } else {
        Err(CmdError::err("Invalid OVERFLOW type specified"))
    }
}

/// `i1`..`i64` or `u1`..`u63`: (signed, bits).
fn parse_field_type(arg: &[u8]) -> Result<(bool, u32), CmdError> {
    let error = || {
        CmdError::err(
            "Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.",
        )
    };
    let signed = match arg.first() {
        Some(b'i') => true,
        Some(b'u') => false,
        _ => return Err(error()),
    };
    let bits = parse_i64(&arg[1..]).ok_or_else(error)?;
    let max = if signed { 64 } else { 63 };
    if !(1..=max).contains(&bits) {
        return Err(error());
    }
    Ok((signed, bits as u32))
}

/// Reads `bits` bits at `offset` as an unsigned number; bytes past the end are zero.
fn get_bits(p: &[u8], offset: u64, bits: u32) -> u64 {
    (offset..offset + bits as u64).fold(0u64, |value, o| {
        let byte = p.get((o >> 3) as usize).copied().unwrap_or(0);
        (value << 1) | ((byte >> (7 - (o & 7))) & 1) as u64
    })
}

/// Writes the low `bits` bits of `value` at `offset` (the string is long enough).
fn set_bits(p: &mut [u8], offset: u64, bits: u32, value: u64) {
    for j in 0..bits as u64 {
        let bit = ((value >> (bits as u64 - 1 - j)) & 1) as u8;
        let o = offset + j;
        let shift = 7 - (o & 7);
        let byte = &mut p[(o >> 3) as usize];
        *byte = (*byte & !(1 << shift)) | (bit << shift);
    }
}

/// Sign-extends a `bits`-wide two's complement number.
fn sign_extend(value: u64, bits: u32) -> i64 {
    if bits < 64 && value & (1 << (bits - 1)) != 0 {
        (value | (u64::MAX << bits)) as i64
    } else {
        value as i64
    }
}

/// The value a GET operation replies.
fn get_field(p: &[u8], f: &Field) -> i64 {
    let raw = get_bits(p, f.offset, f.bits);
    if f.signed {
        sign_extend(raw, f.bits)
    } else {
        raw as i64
    }
}

/// Runs one operation on a string long enough for every write; nil when OVERFLOW FAIL
/// prevents the write.
fn run_field(p: &mut [u8], f: &Field) -> Frame {
    let old = get_field(p, f);
    let (stored, reply) = match f.op {
        FieldOp::Get => return Frame::Integer(old),
        FieldOp::Set(value) => {
            let stored = match overflowed(value, 0, f) {
                Some(limit) => limit,
                None => Some(value),
            };
            (stored, old)
        }
        FieldOp::IncrBy(incr) => {
            let stored = overflowed(old, incr, f).unwrap_or(Some(old.wrapping_add(incr)));
            (stored, stored.unwrap_or(0))
        }
    };
    match stored {
        Some(stored) => {
            set_bits(p, f.offset, f.bits, stored as u64);
            Frame::Integer(reply)
        }
        None => Frame::Null,
    }
}

/// Whether `value + incr` leaves the field's range: `None` if not, else the value to
/// store under the field's OVERFLOW mode (`Some(None)` for FAIL).
fn overflowed(value: i64, incr: i64, f: &Field) -> Option<Option<i64>> {
    let limit = if f.signed {
        signed_overflow(value, incr, f.bits, f.overflow)?
    } else {
        unsigned_overflow(value as u64, incr, f.bits, f.overflow)? as i64
    };
    Some((f.overflow != Overflow::Fail).then_some(limit))
}

/// Redis' `checkSignedBitfieldOverflow`, wrapping arithmetic included.
fn signed_overflow(value: i64, incr: i64, bits: u32, mode: Overflow) -> Option<i64> {
    let max = if bits == 64 {
        i64::MAX
    } else {
        (1i64 << (bits - 1)) - 1
    };
    let min = -max - 1;
    let max_incr = (max as u64).wrapping_sub(value as u64) as i64;
    let min_incr = min.wrapping_sub(value);
    let over = value > max
        || (bits != 64 && incr > max_incr)
        || (value >= 0 && incr > 0 && incr > max_incr);
    let under = value < min
        || (bits != 64 && incr < min_incr)
        || (value < 0 && incr < 0 && incr < min_incr);
    if !over && !under {
        return None;
    }
    Some(match mode {
        Overflow::Sat if over => max,
        Overflow::Sat => min,
        _ => {
            let sum = (value as u64).wrapping_add(incr as u64);
            sign_extend(
                if bits < 64 {
                    sum & !(u64::MAX << bits)
                } else {
                    sum
                },
                bits,
            )
        }
    })
}

/// Redis' `checkUnsignedBitfieldOverflow` (at most 63 bits).
fn unsigned_overflow(value: u64, incr: i64, bits: u32, mode: Overflow) -> Option<u64> {
    let max = (1u64 << bits) - 1;
    let max_incr = max.wrapping_sub(value) as i64;
    let min_incr = 0u64.wrapping_sub(value) as i64;
    let over = value > max || (incr > 0 && incr > max_incr);
    let under = !over && incr < 0 && incr < min_incr;
    if !over && !under {
        return None;
    }
    Some(match mode {
        Overflow::Sat if over => max,
        Overflow::Sat => 0,
        _ => value.wrapping_add(incr as u64) & max,
    })
}

#[cfg(test)]
mod tests {
    use crate::engine::Engine;
    use crate::testing::{engine, run, session};
    use crate::Session;
    use ferrokv_protocol::Frame;

    fn int(n: i64) -> Frame {
        Frame::Integer(n)
    }

    fn ints(ns: &[i64]) -> Frame {
        Frame::Array(ns.iter().map(|&n| Frame::Integer(n)).collect())
    }

    fn err(msg: &str) -> Frame {
        Frame::error(msg)
    }

    fn arity(cmd: &str) -> Frame {
        err(&format!(
            "ERR wrong number of arguments for '{cmd}' command"
        ))
    }

    fn setup() -> (Engine, Session) {
        let e = engine();
        let s = session(&e);
        (e, s)
    }

    /// Sets a key to raw bytes.
    fn set_raw(e: &Engine, s: &mut Session, key: &str, value: &[u8]) {
        let argv = [
            bytes::Bytes::from_static(b"SET"),
            bytes::Bytes::copy_from_slice(key.as_bytes()),
            bytes::Bytes::copy_from_slice(value),
        ];
        assert_eq!(e.execute(s, &argv), Frame::ok());
    }

    #[test]
    fn setbit_getbit() {
        let (e, mut s) = setup();
        assert_eq!(run(&e, &mut s, &["GETBIT", "k", "0"]), int(0));
        assert_eq!(run(&e, &mut s, &["SETBIT", "k", "1", "1"]), int(0));
        assert_eq!(run(&e, &mut s, &["GET", "k"]), Frame::bulk(b"\x40"));
        assert_eq!(run(&e, &mut s, &["SETBIT", "k", "1", "0"]), int(1));
        assert_eq!(run(&e, &mut s, &["SETBIT", "k", "23", "1"]), int(0));
        assert_eq!(run(&e, &mut s, &["GET", "k"]), Frame::bulk(b"\x00\x00\x01"));
        assert_eq!(run(&e, &mut s, &["GETBIT", "k", "23"]), int(1));
        assert_eq!(run(&e, &mut s, &["GETBIT", "k", "22"]), int(0));
        assert_eq!(run(&e, &mut s, &["GETBIT", "k", "1000"]), int(0));
        run(&e, &mut s, &["SET", "n", "1"]); // 0x31 = 00110001
        assert_eq!(run(&e, &mut s, &["GETBIT", "n", "2"]), int(1));
        assert_eq!(run(&e, &mut s, &["SETBIT", "n", "6", "1"]), int(0));
        assert_eq!(run(&e, &mut s, &["GET", "n"]), Frame::bulk("3"));
        let offset_err = err("ERR bit offset is not an integer or out of range");
        assert_eq!(
            run(&e, &mut s, &["SETBIT", "k", "4294967296", "1"]),
            offset_err
        );
        assert_eq!(run(&e, &mut s, &["SETBIT", "k", "-1", "1"]), offset_err);
        assert_eq!(run(&e, &mut s, &["SETBIT", "k", "x", "1"]), offset_err);
        assert_eq!(run(&e, &mut s, &["GETBIT", "k", "4294967296"]), offset_err);
        let bit_err = err("ERR bit is not an integer or out of range");
        for bad in ["-1", "2", "10", "x", "1.0"] {
            assert_eq!(
                run(&e, &mut s, &["SETBIT", "k", "0", bad]),
                bit_err,
                "{bad}"
            );
        }
        assert_eq!(run(&e, &mut s, &["SETBIT", "k", "0"]), arity("setbit"));
        assert_eq!(run(&e, &mut s, &["GETBIT", "k"]), arity("getbit"));
    }

    #[test]
    fn bitcount() {
        let (e, mut s) = setup();
        assert_eq!(run(&e, &mut s, &["BITCOUNT", "none"]), int(0));
        // Redis 7.0 answers 0 for a missing key before looking at the arguments.
        assert_eq!(run(&e, &mut s, &["BITCOUNT", "none", "1"]), int(0));
        run(&e, &mut s, &["SET", "s", "foobar"]);
        assert_eq!(run(&e, &mut s, &["BITCOUNT", "s"]), int(26));
        assert_eq!(run(&e, &mut s, &["BITCOUNT", "s", "0", "0"]), int(4));
        assert_eq!(run(&e, &mut s, &["BITCOUNT", "s", "1", "1"]), int(6));
        assert_eq!(
            run(&e, &mut s, &["BITCOUNT", "s", "1", "1", "BYTE"]),
            int(6)
        );
        assert_eq!(
            run(&e, &mut s, &["BITCOUNT", "s", "5", "30", "BIT"]),
            int(17)
        );
        assert_eq!(run(&e, &mut s, &["BITCOUNT", "s", "-2", "-1"]), int(7));
        assert_eq!(run(&e, &mut s, &["BITCOUNT", "s", "-1", "-2"]), int(0));
        assert_eq!(
            run(&e, &mut s, &["BITCOUNT", "s", "-1", "-2", "FOO"]),
            int(0)
        );
        assert_eq!(run(&e, &mut s, &["BITCOUNT", "s", "3", "1"]), int(0));
        assert_eq!(run(&e, &mut s, &["BITCOUNT", "s", "0", "1000"]), int(26));
        assert_eq!(run(&e, &mut s, &["BITCOUNT", "s", "1", "1", "bit"]), int(1));
        assert_eq!(
            run(&e, &mut s, &["BITCOUNT", "s", "0"]),
            err("ERR syntax error")
        );
        assert_eq!(
            run(&e, &mut s, &["BITCOUNT", "s", "0", "1", "FOO"]),
            err("ERR syntax error")
        );
        assert_eq!(
            run(&e, &mut s, &["BITCOUNT", "s", "0", "1", "BIT", "x"]),
            err("ERR syntax error")
        );
        assert_eq!(
            run(&e, &mut s, &["BITCOUNT", "s", "a", "1"]),
            err("ERR value is not an integer or out of range")
        );
        run(&e, &mut s, &["SET", "empty", ""]);
        assert_eq!(run(&e, &mut s, &["BITCOUNT", "empty", "0", "-1"]), int(0));
        assert_eq!(run(&e, &mut s, &["BITCOUNT"]), arity("bitcount"));
    }

    #[test]
    fn bitpos() {
        let (e, mut s) = setup();
        assert_eq!(run(&e, &mut s, &["BITPOS", "none", "1"]), int(-1));
        assert_eq!(run(&e, &mut s, &["BITPOS", "none", "0"]), int(0));
        set_raw(&e, &mut s, "k", b"\xff\xf0\x00");
        assert_eq!(run(&e, &mut s, &["BITPOS", "k", "0"]), int(12));
        set_raw(&e, &mut s, "k", b"\x00\xff\xf0");
        assert_eq!(run(&e, &mut s, &["BITPOS", "k", "1", "0"]), int(8));
        assert_eq!(run(&e, &mut s, &["BITPOS", "k", "1", "2"]), int(16));
        assert_eq!(
            run(&e, &mut s, &["BITPOS", "k", "1", "2", "-1", "BYTE"]),
            int(16)
        );
        assert_eq!(
            run(&e, &mut s, &["BITPOS", "k", "1", "7", "15", "BIT"]),
            int(8)
        );
        assert_eq!(
            run(&e, &mut s, &["BITPOS", "k", "1", "7", "-3", "BIT"]),
            int(8)
        );
        assert_eq!(
            run(&e, &mut s, &["BITPOS", "k", "0", "8", "-1", "bit"]),
            int(20)
        );
        assert_eq!(run(&e, &mut s, &["BITPOS", "k", "1", "3", "2"]), int(-1));
        set_raw(&e, &mut s, "k", b"\x00\x00\x00");
        assert_eq!(run(&e, &mut s, &["BITPOS", "k", "1"]), int(-1));
        assert_eq!(
            run(&e, &mut s, &["BITPOS", "k", "1", "0", "-1", "BIT"]),
            int(-1)
        );
        set_raw(&e, &mut s, "k", b"\xff\xff\xff");
        // Without an end the string counts as zero-padded; with one it does not.
        assert_eq!(run(&e, &mut s, &["BITPOS", "k", "0"]), int(24));
        assert_eq!(run(&e, &mut s, &["BITPOS", "k", "0", "1"]), int(24));
        assert_eq!(run(&e, &mut s, &["BITPOS", "k", "0", "0", "-1"]), int(-1));
        assert_eq!(
            run(&e, &mut s, &["BITPOS", "k", "0", "3", "20", "BIT"]),
            int(-1)
        );
        set_raw(&e, &mut s, "k", b"\xfe\xff\x7f");
        assert_eq!(
            run(&e, &mut s, &["BITPOS", "k", "0", "8", "-1", "BIT"]),
            int(16)
        );
        assert_eq!(
            run(&e, &mut s, &["BITPOS", "k", "0", "1", "6", "BIT"]),
            int(-1)
        );
        assert_eq!(
            run(&e, &mut s, &["BITPOS", "k", "0", "1", "7", "BIT"]),
            int(7)
        );
        assert_eq!(
            run(&e, &mut s, &["BITPOS", "k", "2"]),
            err("ERR The bit argument must be 1 or 0.")
        );
        assert_eq!(
            run(&e, &mut s, &["BITPOS", "k", "x"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(
            run(&e, &mut s, &["BITPOS", "k", "1", "0", "1", "FOO"]),
            err("ERR syntax error")
        );
        assert_eq!(
            run(&e, &mut s, &["BITPOS", "k", "1", "0", "1", "BIT", "x"]),
            err("ERR syntax error")
        );
        assert_eq!(run(&e, &mut s, &["BITPOS", "k"]), arity("bitpos"));
    }

    #[test]
    fn bitop() {
        let (e, mut s) = setup();
        set_raw(&e, &mut s, "a", b"\xaa\x00\xff\x55");
        set_raw(&e, &mut s, "b", b"\x0f\xf0");
        assert_eq!(run(&e, &mut s, &["BITOP", "AND", "d", "a", "b"]), int(4));
        assert_eq!(
            run(&e, &mut s, &["GET", "d"]),
            Frame::bulk(b"\x0a\x00\x00\x00")
        );
        assert_eq!(run(&e, &mut s, &["BITOP", "or", "d", "a", "b"]), int(4));
        assert_eq!(
            run(&e, &mut s, &["GET", "d"]),
            Frame::bulk(b"\xaf\xf0\xff\x55")
        );
        assert_eq!(
            run(&e, &mut s, &["BITOP", "XOR", "d", "a", "b", "a"]),
            int(4)
        );
        assert_eq!(
            run(&e, &mut s, &["GET", "d"]),
            Frame::bulk(b"\x0f\xf0\x00\x00")
        );
        assert_eq!(run(&e, &mut s, &["BITOP", "NOT", "d", "b"]), int(2));
        assert_eq!(run(&e, &mut s, &["GET", "d"]), Frame::bulk(b"\xf0\x0f"));
        assert_eq!(
            run(&e, &mut s, &["BITOP", "AND", "d", "a", "missing"]),
            int(4)
        );
        assert_eq!(
            run(&e, &mut s, &["GET", "d"]),
            Frame::bulk(b"\x00\x00\x00\x00")
        );
        // An empty result deletes the destination.
        assert_eq!(run(&e, &mut s, &["BITOP", "OR", "d", "x", "y"]), int(0));
        assert_eq!(run(&e, &mut s, &["GET", "d"]), Frame::Null);
        assert_eq!(
            run(&e, &mut s, &["BITOP", "NOT", "d", "a", "b"]),
            err("ERR BITOP NOT must be called with a single source key.")
        );
        assert_eq!(
            run(&e, &mut s, &["BITOP", "NAND", "d", "a"]),
            err("ERR syntax error")
        );
        assert_eq!(run(&e, &mut s, &["BITOP", "AND", "d"]), arity("bitop"));
    }

    #[test]
    fn bitfield_get_set_incrby() {
        let (e, mut s) = setup();
        assert_eq!(run(&e, &mut s, &["BITFIELD", "k"]), ints(&[]));
        assert_eq!(
            run(&e, &mut s, &["BITFIELD", "k", "GET", "u8", "0"]),
            ints(&[0])
        );
        assert_eq!(run(&e, &mut s, &["GET", "k"]), Frame::Null);
        assert_eq!(
            run(&e, &mut s, &["BITFIELD", "k", "SET", "u8", "0", "255"]),
            ints(&[0])
        );
        assert_eq!(
            run(&e, &mut s, &["BITFIELD", "k", "GET", "u8", "0"]),
            ints(&[255])
        );
        assert_eq!(
            run(&e, &mut s, &["BITFIELD", "k", "SET", "i8", "0", "-100"]),
            ints(&[-1])
        );
        assert_eq!(
            run(&e, &mut s, &["BITFIELD", "k", "GET", "i8", "0"]),
            ints(&[-100])
        );
        assert_eq!(
            run(
                &e,
                &mut s,
                &[
                    "BITFIELD", "abc", "SET", "u8", "#0", "65", "SET", "u8", "#1", "66", "SET",
                    "u8", "#2", "67"
                ]
            ),
            ints(&[0, 0, 0])
        );
        assert_eq!(run(&e, &mut s, &["GET", "abc"]), Frame::bulk("ABC"));
        assert_eq!(
            run(
                &e,
                &mut s,
                &[
                    "BITFIELD", "c", "SET", "u8", "#0", "10", "INCRBY", "u8", "#0", "100",
                    "INCRBY", "u8", "#0", "100"
                ]
            ),
            ints(&[0, 110, 210])
        );
        assert_eq!(
            run(
                &e,
                &mut s,
                &["BITFIELD", "m", "INCRBY", "i5", "100", "1", "GET", "u4", "0"]
            ),
            ints(&[1, 0])
        );
        assert_eq!(
            run(&e, &mut s, &["BITFIELD", "w", "SET", "u5", "7", "23"]),
            ints(&[0])
        );
        assert_eq!(run(&e, &mut s, &["GET", "w"]), Frame::bulk(b"\x01\x70"));
        assert_eq!(
            run(&e, &mut s, &["BITFIELD", "w", "GET", "u64x", "0"]),
            err("ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.")
        );
        assert_eq!(
            run(
                &e,
                &mut s,
                &["BITFIELD", "w", "GET", "u4", "1000", "GET", "i64", "0"]
            ),
            ints(&[0, 0x0170 << 48])
        );
    }

    #[test]
    fn bitfield_overflow() {
        let (e, mut s) = setup();
        let bf = |s: &mut Session, args: &[&str]| {
            let mut argv = vec!["BITFIELD", "k"];
            argv.extend_from_slice(args);
            run(&e, s, &argv)
        };
        bf(&mut s, &["SET", "u8", "0", "100"]);
        assert_eq!(bf(&mut s, &["INCRBY", "u8", "0", "257"]), ints(&[101]));
        assert_eq!(
            bf(&mut s, &["OVERFLOW", "SAT", "INCRBY", "u8", "0", "257"]),
            ints(&[255])
        );
        assert_eq!(
            bf(&mut s, &["OVERFLOW", "FAIL", "INCRBY", "u8", "0", "1"]),
            Frame::Array(vec![Frame::Null])
        );
        assert_eq!(
            bf(&mut s, &["OVERFLOW", "SAT", "INCRBY", "u8", "0", "-1000"]),
            ints(&[0])
        );
        assert_eq!(
            bf(&mut s, &["OVERFLOW", "WRAP", "INCRBY", "u8", "0", "-1"]),
            ints(&[255])
        );
        assert_eq!(
            bf(&mut s, &["SET", "u8", "0", "-1", "GET", "u8", "0"]),
            ints(&[255, 255])
        );
        assert_eq!(
            bf(
                &mut s,
                &["OVERFLOW", "SAT", "SET", "u8", "0", "300", "GET", "u8", "0"]
            ),
            ints(&[255, 255])
        );
        assert_eq!(
            bf(
                &mut s,
                &["OVERFLOW", "FAIL", "SET", "u8", "0", "300", "GET", "u8", "0"]
            ),
            Frame::Array(vec![Frame::Null, int(255)])
        );
        bf(&mut s, &["SET", "i8", "0", "100"]);
        assert_eq!(bf(&mut s, &["INCRBY", "i8", "0", "100"]), ints(&[-56]));
        bf(&mut s, &["SET", "i8", "0", "100"]);
        assert_eq!(
            bf(&mut s, &["OVERFLOW", "SAT", "INCRBY", "i8", "0", "100"]),
            ints(&[127])
        );
        assert_eq!(
            bf(&mut s, &["OVERFLOW", "SAT", "INCRBY", "i8", "0", "-1000"]),
            ints(&[-128])
        );
        assert_eq!(
            bf(&mut s, &["OVERFLOW", "FAIL", "INCRBY", "i8", "0", "-1"]),
            Frame::Array(vec![Frame::Null])
        );
        assert_eq!(
            bf(&mut s, &["SET", "i8", "0", "200", "GET", "i8", "0"]),
            ints(&[-128, -56])
        );
        bf(&mut s, &["SET", "i64", "0", "9223372036854775807"]);
        assert_eq!(bf(&mut s, &["GET", "i64", "0"]), ints(&[i64::MAX]));
        assert_eq!(bf(&mut s, &["INCRBY", "i64", "0", "1"]), ints(&[i64::MIN]));
        assert_eq!(
            bf(&mut s, &["OVERFLOW", "SAT", "INCRBY", "i64", "0", "-1"]),
            ints(&[i64::MIN])
        );
        assert_eq!(
            bf(
                &mut s,
                &[
                    "OVERFLOW", "SAT", "INCRBY", "i64", "0", "-1", "OVERFLOW", "WRAP", "INCRBY",
                    "i64", "0", "-1"
                ]
            ),
            ints(&[i64::MIN, i64::MAX])
        );
        assert_eq!(
            bf(&mut s, &["INCRBY", "u63", "0", "-1"]),
            ints(&[(1 << 62) - 2])
        );
    }

    #[test]
    fn bitfield_errors_and_ro() {
        let (e, mut s) = setup();
        let type_err = err("ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.");
        for bad in ["u64", "i65", "i0", "x8", "I8", "u", "u-1"] {
            assert_eq!(
                run(&e, &mut s, &["BITFIELD", "k", "GET", bad, "0"]),
                type_err,
                "{bad}"
            );
        }
        let offset_err = err("ERR bit offset is not an integer or out of range");
        assert_eq!(
            run(&e, &mut s, &["BITFIELD", "k", "GET", "u8", "-1"]),
            offset_err
        );
        assert_eq!(
            run(&e, &mut s, &["BITFIELD", "k", "GET", "u8", "#-1"]),
            offset_err
        );
        assert_eq!(
            run(&e, &mut s, &["BITFIELD", "k", "GET", "u8", "4294967296"]),
            offset_err
        );
        assert_eq!(
            run(&e, &mut s, &["BITFIELD", "k", "GET", "u8", "#536870912"]),
            offset_err
        );
        assert_eq!(
            run(
                &e,
                &mut s,
                &["BITFIELD", "k", "GET", "u8", "#99999999999999999"]
            ),
            offset_err
        );
        assert_eq!(
            run(&e, &mut s, &["BITFIELD", "k", "SET", "u8", "0", "x"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(
            run(&e, &mut s, &["BITFIELD", "k", "GET", "u8"]),
            err("ERR syntax error")
        );
        assert_eq!(
            run(&e, &mut s, &["BITFIELD", "k", "FOO"]),
            err("ERR syntax error")
        );
        assert_eq!(
            run(
                &e,
                &mut s,
                &["BITFIELD", "k", "OVERFLOW", "BAD", "GET", "u8", "0"]
            ),
            err("ERR Invalid OVERFLOW type specified")
        );
        assert_eq!(run(&e, &mut s, &["BITFIELD"]), arity("bitfield"));
        // Nothing ran: the errors came before any write.
        assert_eq!(run(&e, &mut s, &["GET", "k"]), Frame::Null);
        assert_eq!(run(&e, &mut s, &["BITFIELD_RO", "k"]), ints(&[]));
        run(&e, &mut s, &["SET", "k", "A"]);
        assert_eq!(
            run(
                &e,
                &mut s,
                &["BITFIELD_RO", "k", "GET", "u8", "0", "GET", "i4", "#1"]
            ),
            ints(&[65, 1])
        );
        assert_eq!(
            run(
                &e,
                &mut s,
                &["BITFIELD_RO", "k", "GET", "u8", "0", "SET", "u8", "0", "1"]
            ),
            err("ERR BITFIELD_RO only supports the GET subcommand")
        );
        assert_eq!(
            run(&e, &mut s, &["BITFIELD_RO", "k", "INCRBY", "u8", "0", "1"]),
            err("ERR BITFIELD_RO only supports the GET subcommand")
        );
        assert_eq!(run(&e, &mut s, &["BITFIELD_RO"]), arity("bitfield_ro"));
        // OVERFLOW FAIL still creates the key, as Redis does.
        assert_eq!(
            run(
                &e,
                &mut s,
                &["BITFIELD", "f", "OVERFLOW", "FAIL", "SET", "u2", "0", "4"]
            ),
            Frame::Array(vec![Frame::Null])
        );
        assert_eq!(run(&e, &mut s, &["GET", "f"]), Frame::bulk(b"\x00"));
    }
}
