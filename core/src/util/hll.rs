//! Redis' HyperLogLog, byte for byte (`hyperloglog.c` of Redis 7.0), so that an HLL
//! written by ferrokv is the string Redis would hold and the other way round.
//!
//! An HLL is a string: a 16-byte header (`HYLL`, the encoding byte, three unused bytes,
//! the cached cardinality as a little-endian u64 whose top bit marks it stale) followed
//! by 16384 registers of 6 bits, either dense (12288 bytes, register `i` at bit `6 * i`,
//! least significant bits first) or sparse (run-length opcodes: `00xxxxxx` ZERO for 1..64
//! zero registers, `01xxxxxx yyyyyyyy` XZERO for 1..16384, `1vvvvvxx` VAL for 1..4
//! registers of value 1..32). Elements are hashed with MurmurHash64A (seed
//! `0xadc83b19`): the low 14 bits pick the register, the run of zeros above them (plus
//! one) is the value. The estimate is Otmar Ertl's improved estimator over the register
//! histogram, as Redis computes it.
//!
//! Every function takes the whole string value (header included) and reports a sparse
//! encoding that does not describe exactly 16384 registers as [`Corrupt`].

/// Header length: magic, encoding, three unused bytes, cached cardinality.
pub const HDR_SIZE: usize = 16;
/// Number of registers (2^14).
pub const REGISTERS: usize = 1 << P;
/// Length of a dense HLL string: the header plus 16384 packed 6-bit registers.
pub const DENSE_SIZE: usize = HDR_SIZE + (REGISTERS * BITS).div_ceil(8);
/// The encoding byte of a dense HLL.
pub const DENSE: u8 = 0;
/// The encoding byte of a sparse HLL.
pub const SPARSE: u8 = 1;

const P: usize = 14;
const Q: usize = 64 - P;
const BITS: usize = 6;
const REGISTER_MAX: u8 = (1 << BITS) - 1;
const P_MASK: u64 = REGISTERS as u64 - 1;
const SEED: u64 = 0xadc8_3b19;
const ALPHA_INF: f64 = 0.721_347_520_444_481_7;

const SPARSE_VAL_MAX_VALUE: u8 = 32;
const SPARSE_VAL_MAX_LEN: usize = 4;
const SPARSE_ZERO_MAX_LEN: usize = 64;

/// The HLL's registers are inconsistent (Redis' `INVALIDOBJ Corrupted HLL object
/// detected`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Corrupt;

/// Redis' MurmurHash64A (the endian-neutral variant), the hash every HLL element goes
/// through.
pub fn murmur_hash64a(key: &[u8], seed: u32) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h = u64::from(seed) ^ (key.len() as u64).wrapping_mul(M);
    let chunks = key.chunks_exact(8);
    let tail = chunks.remainder();
    for chunk in chunks {
        let mut k = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate() {
            h ^= u64::from(b) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// The register an element falls in and the length of its `000..1` pattern (Redis'
/// `hllPatLen`): 1..=51.
pub fn pattern(element: &[u8]) -> (usize, u8) {
    let hash = murmur_hash64a(element, SEED as u32);
    let index = (hash & P_MASK) as usize;
    let rest = (hash >> P) | (1u64 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

/// Whether a string is a HyperLogLog Redis would accept (`isHLLObjectOrReply`): the
/// magic, a known encoding, and the exact length when dense. A sparse body is checked
/// only when read.
pub fn is_valid(hll: &[u8]) -> bool {
    hll.len() >= HDR_SIZE
        && &hll[..4] == b"HYLL"
        && hll[4] <= SPARSE
        && (hll[4] != DENSE || hll.len() == DENSE_SIZE)
}

/// A new empty HLL, sparse as Redis creates them: the header (cache valid, 0) and one
/// XZERO opcode covering every register.
pub fn new_sparse() -> Vec<u8> {
    let mut hll = Vec::with_capacity(HDR_SIZE + 2);
    hll.extend_from_slice(b"HYLL");
    hll.push(SPARSE);
    hll.extend_from_slice(&[0; 11]);
    push_xzero(&mut hll, REGISTERS);
    hll
}

/// The cached cardinality, when it is still valid.
pub fn cached_count(hll: &[u8]) -> Option<u64> {
    let card = u64::from_le_bytes(hll[8..16].try_into().ok()?);
    (card >> 63 == 0).then_some(card)
}

/// Stores `card` as the valid cached cardinality.
pub fn set_cached_count(hll: &mut [u8], card: u64) {
    hll[8..16].copy_from_slice(&card.to_le_bytes());
}

/// Marks the cached cardinality stale (the registers changed).
pub fn invalidate_cache(hll: &mut [u8]) {
    hll[15] |= 0x80;
}

/// Whether the HLL is dense.
pub fn is_dense(hll: &[u8]) -> bool {
    hll[4] == DENSE
}

// ---------------------------------------------------------------------------------
// Dense registers.
// ---------------------------------------------------------------------------------

/// Register `index` of packed 6-bit registers (past the end reads as zero bits, as
/// Redis reads the string's terminator).
pub fn dense_get(regs: &[u8], index: usize) -> u8 {
    let byte = index * BITS / 8;
    let fb = (index * BITS) & 7;
    let b0 = u16::from(regs[byte]);
    let b1 = u16::from(regs.get(byte + 1).copied().unwrap_or(0));
    (((b0 >> fb) | (b1 << (8 - fb))) & u16::from(REGISTER_MAX)) as u8
}

/// Sets register `index` of packed 6-bit registers to `value` (at most 63).
pub fn dense_put(regs: &mut [u8], index: usize, value: u8) {
    let byte = index * BITS / 8;
    let fb = (index * BITS) & 7;
    let v = u16::from(value);
    let max = u16::from(REGISTER_MAX);
    regs[byte] &= !((max << fb) as u8);
    regs[byte] |= (v << fb) as u8;
    if let Some(next) = regs.get_mut(byte + 1) {
        *next &= !((max >> (8 - fb)) as u8);
        *next |= (v >> (8 - fb)) as u8;
    }
}

/// Every dense register in order, unpacked four at a time from three bytes.
pub fn dense_registers(regs: &[u8]) -> impl Iterator<Item = u8> + '_ {
    regs[..REGISTERS * BITS / 8].chunks_exact(3).flat_map(|b| {
        let v = u32::from(b[0]) | u32::from(b[1]) << 8 | u32::from(b[2]) << 16;
        [0, 6, 12, 18].map(|shift| ((v >> shift) & u32::from(REGISTER_MAX)) as u8)
    })
}

/// Raises dense register `index` to `count`; true if it was lower.
pub fn dense_set(regs: &mut [u8], index: usize, count: u8) -> bool {
    if count > dense_get(regs, index) {
        dense_put(regs, index, count);
        true
    } else {
        false
    }
}

// ---------------------------------------------------------------------------------
// Sparse opcodes.
// ---------------------------------------------------------------------------------

/// One decoded sparse opcode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    /// `len` registers at zero, in a one-byte ZERO (`xzero` false) or a two-byte XZERO.
    Zero { len: usize, xzero: bool },
    /// `len` registers (1..4) at `value` (1..32).
    Val { value: u8, len: usize },
}

impl Op {
    /// Decodes the opcode at `p` (a truncated XZERO reads its missing byte as zero, as
    /// Redis reads the terminator).
    fn at(bytes: &[u8], p: usize) -> Op {
        let b = bytes[p];
        if b & 0x80 != 0 {
            Op::Val {
                value: ((b >> 2) & 0x1f) + 1,
                len: usize::from(b & 0x3) + 1,
            }
        } else if b & 0x40 == 0 {
            Op::Zero {
                len: usize::from(b & 0x3f) + 1,
                xzero: false,
            }
        } else {
            let low = usize::from(bytes.get(p + 1).copied().unwrap_or(0));
            Op::Zero {
                len: ((usize::from(b & 0x3f) << 8) | low) + 1,
                xzero: true,
            }
        }
    }

    /// Bytes the opcode takes.
    fn size(self) -> usize {
        match self {
            Op::Zero { xzero: true, .. } => 2,
            _ => 1,
        }
    }

    /// Registers it covers.
    fn span(self) -> usize {
        match self {
            Op::Zero { len, .. } | Op::Val { len, .. } => len,
        }
    }
}

fn val_byte(value: u8, len: usize) -> u8 {
    ((value - 1) << 2) | (len as u8 - 1) | 0x80
}

fn push_xzero(out: &mut Vec<u8>, len: usize) {
    let l = len - 1;
    out.push((l >> 8) as u8 | 0x40);
    out.push((l & 0xff) as u8);
}

/// A run of zero registers as Redis writes it: ZERO up to 64, XZERO above.
fn push_zeros(out: &mut Vec<u8>, len: usize) {
    if len > SPARSE_ZERO_MAX_LEN {
        push_xzero(out, len);
    } else {
        out.push(len as u8 - 1);
    }
}

/// Visits the runs of a sparse body as (first register, length, value), checking that
/// they cover exactly the 16384 registers.
fn walk_sparse(body: &[u8], mut visit: impl FnMut(usize, usize, u8)) -> Result<(), Corrupt> {
    let (mut p, mut idx) = (0, 0);
    while p < body.len() {
        let op = Op::at(body, p);
        let (len, value) = match op {
            Op::Zero { len, .. } => (len, 0),
            Op::Val { value, len } => (len, value),
        };
        if idx + len > REGISTERS {
            return Err(Corrupt);
        }
        visit(idx, len, value);
        idx += len;
        p += op.size();
    }
    if idx == REGISTERS {
        Ok(())
    } else {
        Err(Corrupt)
    }
}

/// Converts a sparse HLL to dense in place, keeping the header (cached cardinality
/// included). A dense HLL is left alone.
pub fn sparse_to_dense(hll: &mut Vec<u8>) -> Result<(), Corrupt> {
    if hll[4] == DENSE {
        return Ok(());
    }
    let mut dense = vec![0u8; DENSE_SIZE];
    dense[..HDR_SIZE].copy_from_slice(&hll[..HDR_SIZE]);
    dense[4] = DENSE;
    let regs = &mut dense[HDR_SIZE..];
    walk_sparse(&hll[HDR_SIZE..], |first, len, value| {
        if value > 0 {
            for i in first..first + len {
                dense_put(regs, i, value);
            }
        }
    })?;
    *hll = dense;
    Ok(())
}

/// Raises sparse register `index` to `count` (Redis' `hllSparseSet`), splitting the
/// opcode that covers it and merging equal neighbours afterwards. Promotes the HLL to
/// dense when the value does not fit a VAL opcode or the string would grow past
/// `sparse_max_bytes`. Returns whether the register changed.
fn sparse_set(
    hll: &mut Vec<u8>,
    index: usize,
    count: u8,
    sparse_max_bytes: usize,
) -> Result<bool, Corrupt> {
    if count > SPARSE_VAL_MAX_VALUE {
        return promote(hll, index, count);
    }
    // Step 1: find the opcode covering `index`.
    let end = hll.len();
    let (mut p, mut first, mut prev, mut op) = (HDR_SIZE, 0, None, None);
    while p < end {
        let here = Op::at(hll, p);
        if index < first + here.span() {
            op = Some(here);
            break;
        }
        prev = Some(p);
        p += here.size();
        first += here.span();
    }
    let Some(op) = op else {
        return Err(Corrupt);
    };
    if p + op.size() > end {
        return Err(Corrupt);
    }
    // Step 2: the easy in-place cases.
    match op {
        Op::Val { value, .. } if value >= count => return Ok(false),
        Op::Val { len: 1, .. }
        | Op::Zero {
            len: 1,
            xzero: false,
        } => {
            hll[p] = val_byte(count, 1);
        }
        _ => {
            // The general case: split the opcode into up to three.
            let last = first + op.span() - 1;
            let mut seq = Vec::with_capacity(5);
            match op {
                Op::Zero { .. } => {
                    if index != first {
                        push_zeros(&mut seq, index - first);
                    }
                    seq.push(val_byte(count, 1));
                    if index != last {
                        push_zeros(&mut seq, last - index);
                    }
                }
                Op::Val { value, .. } => {
                    if index != first {
                        seq.push(val_byte(value, index - first));
                    }
                    seq.push(val_byte(count, 1));
                    if index != last {
                        seq.push(val_byte(value, last - index));
                    }
                }
            }
            // Step 3: replace it, unless the string would grow too large.
            if seq.len() > op.size() && hll.len() + seq.len() - op.size() > sparse_max_bytes {
                return promote(hll, index, count);
            }
            hll.splice(p..p + op.size(), seq);
        }
    }
    // Step 4: merge adjacent VAL opcodes of equal value, scanning at most five opcodes
    // from the one before the change.
    merge_vals(hll, prev.unwrap_or(HDR_SIZE));
    invalidate_cache(hll);
    Ok(true)
}

/// Redis' post-update pass of `hllSparseSet`: from `p`, over at most five opcodes,
/// fuses each VAL with the next one when they hold the same value and fit one opcode.
fn merge_vals(hll: &mut Vec<u8>, mut p: usize) {
    let mut scan = 5;
    while p < hll.len() && scan > 0 {
        scan -= 1;
        let b = hll[p];
        if b & 0x80 == 0 {
            p += if b & 0x40 != 0 { 2 } else { 1 };
            continue;
        }
        if let Some(&next) = hll.get(p + 1) {
            if next & 0x80 != 0 {
                let (v1, l1) = ((b >> 2) & 0x1f, usize::from(b & 3) + 1);
                let (v2, l2) = ((next >> 2) & 0x1f, usize::from(next & 3) + 1);
                if v1 == v2 && l1 + l2 <= SPARSE_VAL_MAX_LEN {
                    hll[p + 1] = val_byte(v1 + 1, l1 + l2);
                    hll.remove(p);
                    continue;
                }
            }
        }
        p += 1;
    }
}

/// Converts to dense and sets the register there (always a change).
fn promote(hll: &mut Vec<u8>, index: usize, count: u8) -> Result<bool, Corrupt> {
    sparse_to_dense(hll)?;
    Ok(dense_set(&mut hll[HDR_SIZE..], index, count))
}

/// Raises register `index` to `count` in either encoding; true if it changed. A sparse
/// change invalidates the cached cardinality; a dense one leaves that to the caller, as
/// Redis does.
pub fn set_register(
    hll: &mut Vec<u8>,
    index: usize,
    count: u8,
    sparse_max_bytes: usize,
) -> Result<bool, Corrupt> {
    match hll[4] {
        DENSE => Ok(dense_set(&mut hll[HDR_SIZE..], index, count)),
        SPARSE => sparse_set(hll, index, count, sparse_max_bytes),
        _ => Err(Corrupt),
    }
}

/// Adds an element (Redis' `hllAdd`); true if a register changed.
pub fn add(hll: &mut Vec<u8>, element: &[u8], sparse_max_bytes: usize) -> Result<bool, Corrupt> {
    let (index, count) = pattern(element);
    set_register(hll, index, count, sparse_max_bytes)
}

// ---------------------------------------------------------------------------------
// Counting and merging.
// ---------------------------------------------------------------------------------

/// Histogram of register values (index = value).
pub type Histogram = [u32; 64];

fn histogram(hll: &[u8]) -> Result<Histogram, Corrupt> {
    let mut histo = [0u32; 64];
    let body = &hll[HDR_SIZE..];
    if hll[4] == DENSE {
        for r in dense_registers(body) {
            histo[usize::from(r)] += 1;
        }
    } else {
        walk_sparse(body, |_, len, value| {
            histo[usize::from(value)] += len as u32
        })?;
    }
    Ok(histo)
}

/// Ertl's sigma function (arXiv:1702.01284), as Redis computes it.
fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let (mut y, mut z) = (1.0, x);
    loop {
        x *= x;
        let prev = z;
        z += x * y;
        y += y;
        if prev == z {
            return z;
        }
    }
}

/// Ertl's tau function, as Redis computes it.
fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let (mut y, mut z) = (1.0, 1.0 - x);
    loop {
        x = x.sqrt();
        let prev = z;
        y *= 0.5;
        let d = 1.0 - x;
        z -= d * d * y;
        if prev == z {
            return z / 3.0;
        }
    }
}

/// The cardinality estimate from a register histogram (Redis' `hllCount`).
pub fn estimate(histo: &Histogram) -> u64 {
    let m = REGISTERS as f64;
    let mut z = m * tau((m - f64::from(histo[Q + 1])) / m);
    for j in (1..=Q).rev() {
        z += f64::from(histo[j]);
        z *= 0.5;
    }
    z += m * sigma(f64::from(histo[0]) / m);
    (ALPHA_INF * m * m / z).round() as u64
}

/// The estimated cardinality of a valid HLL, ignoring the cache.
pub fn count(hll: &[u8]) -> Result<u64, Corrupt> {
    Ok(estimate(&histogram(hll)?))
}

/// The estimate of registers held one per byte (a union built by [`merge_into`]).
pub fn count_raw(max: &[u8; REGISTERS]) -> u64 {
    let mut histo = [0u32; 64];
    for &r in max.iter() {
        histo[usize::from(r & 63)] += 1;
    }
    estimate(&histo)
}

/// Raises each of `max`'s registers to the HLL's (Redis' `hllMerge`).
pub fn merge_into(max: &mut [u8; REGISTERS], hll: &[u8]) -> Result<(), Corrupt> {
    let body = &hll[HDR_SIZE..];
    if hll[4] == DENSE {
        for (m, r) in max.iter_mut().zip(dense_registers(body)) {
            *m = (*m).max(r);
        }
        return Ok(());
    }
    walk_sparse(body, |first, len, value| {
        for m in &mut max[first..first + len] {
            *m = (*m).max(value);
        }
    })
}

/// `PFDEBUG DECODE`: the sparse opcodes as `z:len`, `Z:len` and `v:value,len`.
pub fn decode_sparse(hll: &[u8]) -> String {
    let body = &hll[HDR_SIZE..];
    let mut out = Vec::new();
    let mut p = 0;
    while p < body.len() {
        let op = Op::at(body, p);
        out.push(match op {
            Op::Zero { len, xzero: false } => format!("z:{len}"),
            Op::Zero { len, xzero: true } => format!("Z:{len}"),
            Op::Val { value, len } => format!("v:{value},{len}"),
        });
        p += op.size();
    }
    out.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn murmur_matches_redis_vectors() {
        // Register and pattern length Redis reports (PFDEBUG GETREG) for "a", "b", "c":
        // the sparse string after PFADD h a b c is Z:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603.
        let mut hll = new_sparse();
        for e in [b"a", b"b", b"c"] {
            assert_eq!(add(&mut hll, e, 3000), Ok(true));
        }
        assert_eq!(
            decode_sparse(&hll),
            "Z:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603"
        );
        assert_eq!(
            &hll[16..],
            &[0x60, 0xf3, 0x80, 0x50, 0xb1, 0x84, 0x4b, 0xfb, 0x80, 0x42, 0x5a]
        );
        assert_eq!(count(&hll), Ok(3));
    }

    #[test]
    fn new_hll_is_one_xzero() {
        let hll = new_sparse();
        assert_eq!(hll.len(), 18);
        assert_eq!(&hll[16..], &[0x7f, 0xff]);
        assert!(is_valid(&hll));
        assert_eq!(count(&hll), Ok(0));
        assert_eq!(cached_count(&hll), Some(0));
    }

    #[test]
    fn dense_registers_round_trip_without_disturbing_neighbours() {
        let mut regs = vec![0u8; DENSE_SIZE - HDR_SIZE];
        let value = |i: usize| ((i * 7 + 3) % 64) as u8;
        for i in 0..REGISTERS {
            dense_put(&mut regs, i, value(i));
        }
        for i in 0..REGISTERS {
            assert_eq!(dense_get(&regs, i), value(i), "register {i}");
        }
        let all: Vec<u8> = dense_registers(&regs).collect();
        assert_eq!(all.len(), REGISTERS);
        assert!(all.iter().enumerate().all(|(i, &r)| r == value(i)));
    }

    #[test]
    fn sparse_and_dense_agree_and_promotion_happens() {
        let mut sparse = new_sparse();
        let mut dense = new_sparse();
        sparse_to_dense(&mut dense).expect("valid");
        assert_eq!(dense.len(), DENSE_SIZE);
        for i in 0..20_000u32 {
            let e = i.to_le_bytes();
            add(&mut sparse, &e, 3000).expect("valid");
            add(&mut dense, &e, 3000).expect("valid");
            if i % 997 == 0 {
                assert_eq!(count(&sparse), count(&dense));
            }
            assert!(sparse.len() <= 3000 || is_dense(&sparse));
        }
        assert!(is_dense(&sparse));
        assert_eq!(&sparse[HDR_SIZE..], &dense[HDR_SIZE..]);
        let n = count(&dense).expect("valid") as f64;
        assert!((n - 20_000.0).abs() < 20_000.0 * 0.05, "{n}");
    }

    #[test]
    fn merge_equals_adding_everything() {
        let (mut a, mut b, mut all) = (new_sparse(), new_sparse(), new_sparse());
        for i in 0..3000u32 {
            let e = format!("e{i}");
            let target = if i % 2 == 0 { &mut a } else { &mut b };
            add(target, e.as_bytes(), 3000).expect("valid");
            add(&mut all, e.as_bytes(), 3000).expect("valid");
        }
        let mut max = [0u8; REGISTERS];
        merge_into(&mut max, &a).expect("valid");
        merge_into(&mut max, &b).expect("valid");
        assert_eq!(count_raw(&max), count(&all).expect("valid"));
    }

    #[test]
    fn corrupt_sparse_bodies_are_detected() {
        let mut hll = new_sparse();
        hll.push(0x00); // one register too many
        assert_eq!(count(&hll), Err(Corrupt));
        let mut short = new_sparse();
        short[17] = 0x00; // 16128 registers
        assert_eq!(count(&short), Err(Corrupt));
        assert_eq!(sparse_to_dense(&mut short), Err(Corrupt));
        let mut max = [0u8; REGISTERS];
        assert_eq!(merge_into(&mut max, &short), Err(Corrupt));
    }

    #[test]
    fn validity_rules() {
        assert!(!is_valid(b"HYLL"));
        let mut hll = new_sparse();
        hll[4] = 2;
        assert!(!is_valid(&hll));
        hll[4] = DENSE;
        assert!(!is_valid(&hll));
        hll[0] = b'X';
        assert!(!is_valid(&hll));
    }
}
