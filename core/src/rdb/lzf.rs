//! LZF compression (Marc Lehmann's liblzf format), as Redis uses for RDB strings.
//! Written here rather than taken from a crate: the format is small, and the crates
//! available either wrap the C library or are unmaintained.

/// Hash table size (log2), as Redis' `lzfP.h` `HLOG`.
const HLOG: u32 = 16;
const HSIZE: usize = 1 << HLOG;
/// Longest back reference offset.
const MAX_OFF: usize = 1 << 13;
/// Longest back reference length.
const MAX_REF: usize = (1 << 8) + (1 << 3);
/// Longest literal run.
const MAX_LIT: usize = 1 << 5;

fn hash_index(v: u32) -> usize {
    ((v >> (24 - HLOG)).wrapping_sub(v.wrapping_mul(5)) as usize) & (HSIZE - 1)
}

fn first(data: &[u8], i: usize) -> u32 {
    (u32::from(data[i]) << 8) | u32::from(data[i + 1])
}

fn next(h: u32, data: &[u8], i: usize) -> u32 {
    (h << 8) | u32::from(data[i + 2])
}

/// Compresses `input`; `None` when the result would not be shorter than `max_out`
/// bytes (Redis then stores the string plain).
pub fn compress(input: &[u8], max_out: usize) -> Option<Vec<u8>> {
    let len = input.len();
    if len < 3 || max_out == 0 {
        return None;
    }
    HTAB.with(|t| {
        let mut t = t.borrow_mut();
        if t.is_empty() {
            t.resize(HSIZE, 0);
        }
        compress_with(input, max_out, &mut t)
    })
}

thread_local! {
    /// The hash table, kept per thread and never cleared (as liblzf leaves it
    /// uninitialized): a stale entry from an earlier input is only a candidate, used
    /// when it points before the current position and the bytes there match, which
    /// makes it a valid reference in this input too.
    static HTAB: std::cell::RefCell<Vec<u32>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn compress_with(input: &[u8], max_out: usize, htab: &mut [u32]) -> Option<Vec<u8>> {
    let len = input.len();
    // Entries are positions + 1, so 0 means "empty" (liblzf also ignores position 0).
    let mut out: Vec<u8> = Vec::with_capacity(max_out + 1);
    out.push(0); // control byte of the first literal run
    let mut lit = 0usize;
    let mut ip = 0usize;
    let mut hval = first(input, 0);
    while ip + 2 < len {
        hval = next(hval, input, ip);
        let slot = hash_index(hval);
        let reference = htab[slot] as usize;
        htab[slot] = ip as u32 + 1;
        let found = reference > 1 && reference - 1 < ip && {
            let r = reference - 1;
            ip - r - 1 < MAX_OFF && input[r..r + 3] == input[ip..ip + 3]
        };
        if found {
            let r = reference - 1;
            let off = ip - r - 1;
            let maxlen = (len - ip - 2).min(MAX_REF);
            if out.len() + 4 - usize::from(lit == 0) > max_out {
                return None;
            }
            // Close the literal run (drop its control byte if empty).
            let ctrl = out.len() - lit - 1;
            out[ctrl] = (lit as u8).wrapping_sub(1);
            if lit == 0 {
                out.pop();
            }
            let mut m = 2;
            loop {
                m += 1;
                if m >= maxlen || input[r + m] != input[ip + m] {
                    break;
                }
            }
            let stored = m - 2;
            if stored < 7 {
                out.push(((off >> 8) + (stored << 5)) as u8);
            } else {
                out.push(((off >> 8) + (7 << 5)) as u8);
                out.push((stored - 7) as u8);
            }
            out.push(off as u8);
            lit = 0;
            out.push(0);
            ip += m;
            if ip + 2 >= len {
                break;
            }
            // Hash the last two positions of the match, as liblzf's VERY_FAST mode.
            for p in [ip - 2, ip - 1] {
                if p + 2 < len {
                    let h = next(first(input, p), input, p);
                    htab[hash_index(h)] = p as u32 + 1;
                }
            }
            hval = first(input, ip);
            continue;
        }
        push_literal(&mut out, &mut lit, input[ip]);
        ip += 1;
        if out.len() > max_out {
            return None;
        }
    }
    while ip < len {
        push_literal(&mut out, &mut lit, input[ip]);
        ip += 1;
    }
    let ctrl = out.len() - lit - 1;
    out[ctrl] = (lit as u8).wrapping_sub(1);
    if lit == 0 {
        out.pop();
    }
    (out.len() <= max_out).then_some(out)
}

fn push_literal(out: &mut Vec<u8>, lit: &mut usize, b: u8) {
    *lit += 1;
    out.push(b);
    if *lit == MAX_LIT {
        let ctrl = out.len() - MAX_LIT - 1;
        out[ctrl] = (MAX_LIT - 1) as u8;
        *lit = 0;
        out.push(0);
    }
}

/// Decompresses `input` into exactly `out_len` bytes; `None` if the data is corrupt
/// or does not decompress to that length.
pub fn decompress(input: &[u8], out_len: usize) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(out_len);
    let mut ip = 0;
    while ip < input.len() {
        let ctrl = usize::from(input[ip]);
        ip += 1;
        if ctrl < 32 {
            let run = ctrl + 1;
            let lit = input.get(ip..ip + run)?;
            if out.len() + run > out_len {
                return None;
            }
            out.extend_from_slice(lit);
            ip += run;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                len += usize::from(*input.get(ip)?);
                ip += 1;
            }
            let low = usize::from(*input.get(ip)?);
            ip += 1;
            let back = ((ctrl & 0x1f) << 8) + low + 1;
            let len = len + 2;
            if back > out.len() || out.len() + len > out_len {
                return None;
            }
            let start = out.len() - back;
            for i in 0..len {
                let b = out[start + i];
                out.push(b);
            }
        }
    }
    (out.len() == out_len).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(data: &[u8]) {
        if let Some(c) = compress(data, data.len().saturating_sub(4)) {
            assert!(c.len() <= data.len() - 4);
            assert_eq!(decompress(&c, data.len()).as_deref(), Some(data));
        }
    }

    #[test]
    fn compresses_repetitive_data() {
        let data = b"abcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabc".repeat(20);
        let c = compress(&data, data.len() - 4).unwrap();
        assert!(c.len() < data.len() / 4);
        assert_eq!(decompress(&c, data.len()).unwrap(), data);
        let zeros = vec![0u8; 100_000];
        let c = compress(&zeros, zeros.len()).unwrap();
        assert_eq!(decompress(&c, zeros.len()).unwrap(), zeros);
    }

    #[test]
    fn round_trips_random_and_mixed_data() {
        let mut seed = 0x1234_5678_u64;
        for size in [3usize, 4, 20, 21, 33, 100, 1000, 5000, 70_000] {
            let mut data = Vec::with_capacity(size);
            for i in 0..size {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                // Mix random bytes with runs so both paths run.
                data.push(if (i / 37) % 2 == 0 {
                    seed as u8
                } else {
                    (i % 5) as u8
                });
            }
            round_trip(&data);
            let text: Vec<u8> = (0..size).map(|i| b"hello world "[i % 12]).collect();
            round_trip(&text);
        }
    }

    #[test]
    fn rejects_corrupt_input() {
        assert_eq!(decompress(&[0x20, 0x00], 3), None); // back reference before start
        assert_eq!(decompress(&[0x05, b'a'], 6), None); // truncated literal
        assert_eq!(decompress(&[0x00, b'a'], 2), None); // wrong length
        assert_eq!(decompress(&[0xe0], 10), None); // truncated reference
    }

    #[test]
    fn decodes_liblzf_output() {
        // A literal "a", a reference of 7 + 40 + 2 bytes one back, a literal "a".
        let c = [0x00, b'a', 0xe0, 0x28, 0x00, 0x00, b'a'];
        assert_eq!(decompress(&c, 51).unwrap(), vec![b'a'; 51]);
    }
}
