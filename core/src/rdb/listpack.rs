//! The compact blobs Redis stores inside RDB strings: listpack (written and read),
//! and, read only, ziplist, intset and zipmap from older files. Every reader checks
//! each length against the blob, so a corrupt blob is an error, never a panic.

use bytes::Bytes;

use crate::util::number::{format_i64, parse_i64};

/// Listpack header: total bytes (u32) and element count (u16).
const LP_HEADER: usize = 6;
const LP_EOF: u8 = 0xff;

/// An integer as Redis' `lpStringToInt64`/`string2ll` accept it: the exact decimal
/// form of an `i64`, nothing else (no `+`, no leading zeros, no spaces).
pub fn canonical_int(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    let v = parse_i64(s)?;
    let mut buf = [0u8; 20];
    (format_i64(v, &mut buf) == s).then_some(v)
}

/// Bytes `lpEncodeBacklen` uses for an entry of `len` bytes.
fn backlen_size(len: usize) -> usize {
    match len {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2097150 => 3,
        2097151..=268435454 => 4,
        _ => 5,
    }
}

fn push_backlen(buf: &mut Vec<u8>, len: usize) {
    let n = backlen_size(len);
    // The most significant 7-bit group comes first; every byte but the first has
    // the high bit set, so the length can be read backwards from the entry's end.
    for i in (0..n).rev() {
        let group = ((len >> (7 * i)) & 127) as u8;
        buf.push(if i == n - 1 { group } else { group | 128 });
    }
}

/// Encoded size of an integer entry (without backlen).
fn int_size(v: i64) -> usize {
    match v {
        0..=127 => 1,
        -4096..=4095 => 2,
        -32768..=32767 => 3,
        -8_388_608..=8_388_607 => 4,
        -2_147_483_648..=2_147_483_647 => 5,
        _ => 9,
    }
}

fn str_header_size(len: usize) -> usize {
    match len {
        0..=63 => 1,
        64..=4095 => 2,
        _ => 5,
    }
}

/// Bytes an element takes in a listpack, backlen included (`lpAppend`'s size).
pub fn entry_size(element: &[u8]) -> usize {
    let body = match canonical_int(element) {
        Some(v) => int_size(v),
        None => str_header_size(element.len()) + element.len(),
    };
    body + backlen_size(body)
}

/// Builds a listpack the way `lpAppend` does: elements that are canonical integers
/// take an integer encoding.
#[derive(Debug)]
pub struct ListpackBuilder {
    buf: Vec<u8>,
    count: usize,
}

impl Default for ListpackBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl ListpackBuilder {
    /// An empty listpack.
    pub fn new() -> ListpackBuilder {
        ListpackBuilder {
            buf: vec![0; LP_HEADER],
            count: 0,
        }
    }

    /// Appends one element, integer-encoded when it is a canonical integer.
    pub fn push(&mut self, element: &[u8]) {
        match canonical_int(element) {
            Some(v) => self.push_int(v),
            None => self.push_str(element),
        }
    }

    /// Appends an integer element.
    pub fn push_int(&mut self, v: i64) {
        let start = self.buf.len();
        let b = &mut self.buf;
        match int_size(v) {
            1 => b.push(v as u8),
            2 => {
                let u = (v as u64) & 0x1fff;
                b.push(0xc0 | (u >> 8) as u8);
                b.push(u as u8);
            }
            3 => {
                b.push(0xf1);
                b.extend_from_slice(&(v as i16).to_le_bytes());
            }
            4 => {
                b.push(0xf2);
                b.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
            }
            5 => {
                b.push(0xf3);
                b.extend_from_slice(&(v as i32).to_le_bytes());
            }
            _ => {
                b.push(0xf4);
                b.extend_from_slice(&v.to_le_bytes());
            }
        }
        let len = self.buf.len() - start;
        push_backlen(&mut self.buf, len);
        self.count += 1;
    }

    /// Appends a string element as is.
    pub fn push_str(&mut self, s: &[u8]) {
        let start = self.buf.len();
        let n = s.len();
        match str_header_size(n) {
            1 => self.buf.push(0x80 | n as u8),
            2 => {
                self.buf.push(0xe0 | (n >> 8) as u8);
                self.buf.push(n as u8);
            }
            _ => {
                self.buf.push(0xf0);
                self.buf.extend_from_slice(&(n as u32).to_le_bytes());
            }
        }
        self.buf.extend_from_slice(s);
        let len = self.buf.len() - start;
        push_backlen(&mut self.buf, len);
        self.count += 1;
    }

    /// Bytes the finished listpack will take.
    pub fn bytes(&self) -> usize {
        self.buf.len() + 1
    }

    /// Elements pushed so far.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether nothing was pushed.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The finished blob (header filled in, terminator appended).
    pub fn finish(mut self) -> Vec<u8> {
        self.buf.push(LP_EOF);
        let total = self.buf.len() as u32;
        self.buf[..4].copy_from_slice(&total.to_le_bytes());
        let count = u16::try_from(self.count).unwrap_or(u16::MAX);
        self.buf[4..6].copy_from_slice(&count.to_le_bytes());
        self.buf
    }
}

/// A bounds-checked forward cursor over a blob.
struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], &'static str> {
        let end = self.pos.checked_add(n).ok_or("length overflow")?;
        let s = self.data.get(self.pos..end).ok_or("entry past the end")?;
        self.pos = end;
        Ok(s)
    }
    fn byte(&mut self) -> Result<u8, &'static str> {
        Ok(self.take(1)?[0])
    }
    fn le(&mut self, n: usize) -> Result<u64, &'static str> {
        let s = self.take(n)?;
        Ok(s.iter()
            .rev()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
    }
}

fn int_bytes(v: i64) -> Bytes {
    let mut buf = [0u8; 20];
    Bytes::copy_from_slice(format_i64(v, &mut buf))
}

/// Sign-extends the low `bits` bits of `v`.
fn sign_extend(v: u64, bits: u32) -> i64 {
    let shift = 64 - bits;
    ((v << shift) as i64) >> shift
}

/// The elements of a listpack, integers as their decimal text.
pub fn listpack_entries(blob: &[u8]) -> Result<Vec<Bytes>, &'static str> {
    let mut c = Cursor { data: blob, pos: 0 };
    let total = c.le(4)? as usize;
    if total != blob.len() {
        return Err("listpack size mismatch");
    }
    let declared = c.le(2)? as usize;
    let mut out = Vec::with_capacity(declared.min(65535));
    loop {
        let start = c.pos;
        let enc = c.byte()?;
        let item = match enc {
            LP_EOF => break,
            0x00..=0x7f => int_bytes(i64::from(enc)),
            0x80..=0xbf => Bytes::copy_from_slice(c.take(usize::from(enc & 0x3f))?),
            0xc0..=0xdf => {
                let v = (u64::from(enc & 0x1f) << 8) | u64::from(c.byte()?);
                int_bytes(sign_extend(v, 13))
            }
            0xe0..=0xef => {
                let n = (usize::from(enc & 0x0f) << 8) | usize::from(c.byte()?);
                Bytes::copy_from_slice(c.take(n)?)
            }
            0xf0 => {
                let n = c.le(4)? as usize;
                Bytes::copy_from_slice(c.take(n)?)
            }
            0xf1 => int_bytes(sign_extend(c.le(2)?, 16)),
            0xf2 => int_bytes(sign_extend(c.le(3)?, 24)),
            0xf3 => int_bytes(sign_extend(c.le(4)?, 32)),
            0xf4 => int_bytes(c.le(8)? as i64),
            _ => return Err("invalid listpack entry encoding"),
        };
        let len = c.pos - start;
        c.take(backlen_size(len))?;
        out.push(item);
    }
    if c.pos != blob.len() {
        return Err("data after the listpack terminator");
    }
    if declared != 65535 && declared != out.len() {
        return Err("listpack count mismatch");
    }
    Ok(out)
}

/// The elements of a ziplist (Redis < 7), integers as their decimal text.
pub fn ziplist_entries(blob: &[u8]) -> Result<Vec<Bytes>, &'static str> {
    let mut c = Cursor { data: blob, pos: 0 };
    let total = c.le(4)? as usize;
    if total != blob.len() {
        return Err("ziplist size mismatch");
    }
    c.le(4)?; // offset of the tail entry
    let declared = c.le(2)? as usize;
    let mut out = Vec::with_capacity(declared.min(65535));
    loop {
        let first = c.byte()?;
        if first == 0xff {
            break;
        }
        if first == 0xfe {
            c.take(4)?; // 5-byte previous length
        }
        let enc = c.byte()?;
        let item = match enc >> 6 {
            0 => Bytes::copy_from_slice(c.take(usize::from(enc & 0x3f))?),
            1 => {
                let n = (usize::from(enc & 0x3f) << 8) | usize::from(c.byte()?);
                Bytes::copy_from_slice(c.take(n)?)
            }
            2 => {
                if enc != 0x80 {
                    return Err("invalid ziplist string encoding");
                }
                let s = c.take(4)?;
                let n = u32::from_be_bytes([s[0], s[1], s[2], s[3]]) as usize;
                Bytes::copy_from_slice(c.take(n)?)
            }
            _ => int_bytes(match enc {
                0xc0 => sign_extend(c.le(2)?, 16),
                0xd0 => sign_extend(c.le(4)?, 32),
                0xe0 => c.le(8)? as i64,
                0xf0 => sign_extend(c.le(3)?, 24),
                0xfe => sign_extend(c.le(1)?, 8),
                0xf1..=0xfd => i64::from(enc & 0x0f) - 1,
                _ => return Err("invalid ziplist integer encoding"),
            }),
        };
        out.push(item);
    }
    if c.pos != blob.len() {
        return Err("data after the ziplist terminator");
    }
    if declared != 65535 && declared != out.len() {
        return Err("ziplist count mismatch");
    }
    Ok(out)
}

/// The members of an intset.
pub fn intset_members(blob: &[u8]) -> Result<Vec<Bytes>, &'static str> {
    let mut c = Cursor { data: blob, pos: 0 };
    let width = c.le(4)? as usize;
    if !matches!(width, 2 | 4 | 8) {
        return Err("invalid intset encoding");
    }
    let count = c.le(4)? as usize;
    if count.checked_mul(width) != Some(blob.len() - 8) {
        return Err("intset size mismatch");
    }
    let bits = (width * 8) as u32;
    (0..count)
        .map(|_| Ok(int_bytes(sign_extend(c.le(width)?, bits))))
        .collect()
}

/// The field-value pairs of a zipmap (Redis < 2.6 hashes).
pub fn zipmap_pairs(blob: &[u8]) -> Result<Vec<(Bytes, Bytes)>, &'static str> {
    let mut c = Cursor { data: blob, pos: 0 };
    c.byte()?; // count hint
    let mut out = Vec::new();
    let len = |c: &mut Cursor<'_>| -> Result<Option<usize>, &'static str> {
        Ok(match c.byte()? {
            0xff => None,
            0xfe => Some(c.le(4)? as usize),
            b => Some(usize::from(b)),
        })
    };
    while let Some(flen) = len(&mut c)? {
        let field = Bytes::copy_from_slice(c.take(flen)?);
        let vlen = len(&mut c)?.ok_or("zipmap ends inside an entry")?;
        let free = usize::from(c.byte()?);
        let value = Bytes::copy_from_slice(c.take(vlen)?);
        c.take(free)?;
        out.push((field, value));
    }
    if c.pos != blob.len() {
        return Err("data after the zipmap terminator");
    }
    Ok(out)
}

/// Builds an intset blob of `members` (all `i64`), sorted, in the narrowest width.
pub fn build_intset(members: &mut [i64]) -> Vec<u8> {
    members.sort_unstable();
    let width = members
        .iter()
        .map(|&v| {
            if i16::try_from(v).is_ok() {
                2
            } else if i32::try_from(v).is_ok() {
                4
            } else {
                8
            }
        })
        .max()
        .unwrap_or(2);
    let mut out = Vec::with_capacity(8 + members.len() * width);
    out.extend_from_slice(&(width as u32).to_le_bytes());
    out.extend_from_slice(&(members.len() as u32).to_le_bytes());
    for &v in members.iter() {
        out.extend_from_slice(&v.to_le_bytes()[..width]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strs(v: &[Bytes]) -> Vec<String> {
        v.iter()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .collect()
    }

    #[test]
    fn listpack_round_trips_every_encoding() {
        let long = "x".repeat(5000);
        let mid = "y".repeat(300);
        let items: Vec<&[u8]> = vec![
            b"0",
            b"127",
            b"128",
            b"-1",
            b"-4096",
            b"4095",
            b"-4097",
            b"32767",
            b"-32769",
            b"8388607",
            b"-8388609",
            b"2147483647",
            b"2147483648",
            b"-9223372036854775808",
            b"9223372036854775807",
            b"007",
            b"+1",
            b"",
            b"hello",
            mid.as_bytes(),
            long.as_bytes(),
        ];
        let mut b = ListpackBuilder::new();
        let mut size = LP_HEADER + 1;
        for i in &items {
            b.push(i);
            size += entry_size(i);
        }
        let blob = b.finish();
        assert_eq!(blob.len(), size);
        let got = listpack_entries(&blob).unwrap();
        assert_eq!(got.len(), items.len());
        for (g, i) in got.iter().zip(&items) {
            assert_eq!(&g[..], *i);
        }
    }

    #[test]
    fn backlen_reads_backwards() {
        for len in [
            1usize,
            127,
            128,
            16382,
            16383,
            2097150,
            2097151,
            300_000_000,
        ] {
            let mut buf = Vec::new();
            push_backlen(&mut buf, len);
            // lpDecodeBacklen: from the last byte backwards, 7 bits at a time.
            let mut v = 0usize;
            let mut shift = 0;
            for (i, &b) in buf.iter().rev().enumerate() {
                v |= usize::from(b & 127) << shift;
                shift += 7;
                assert_eq!(b & 128 != 0, i + 1 < buf.len());
            }
            assert_eq!(v, len);
        }
    }

    #[test]
    fn intset_round_trip() {
        let mut m = vec![5, -3, 70000, 1];
        let blob = build_intset(&mut m);
        assert_eq!(
            strs(&intset_members(&blob).unwrap()),
            ["-3", "1", "5", "70000"]
        );
        assert!(intset_members(&blob[..blob.len() - 1]).is_err());
    }

    #[test]
    fn ziplist_decodes() {
        // zlbytes, zltail, zllen=3, entries: "ab", int 5 (immediate), int16 300, end.
        let mut z = vec![0u8; 10];
        z.extend_from_slice(&[0, 0x02, b'a', b'b']);
        z.extend_from_slice(&[4, 0xf6]);
        z.extend_from_slice(&[2, 0xc0, 0x2c, 0x01]);
        z.push(0xff);
        let n = z.len() as u32;
        z[..4].copy_from_slice(&n.to_le_bytes());
        z[8..10].copy_from_slice(&3u16.to_le_bytes());
        assert_eq!(strs(&ziplist_entries(&z).unwrap()), ["ab", "5", "300"]);
        z[8] = 4;
        assert!(ziplist_entries(&z).is_err());
    }

    #[test]
    fn corrupt_listpacks_are_errors() {
        let mut b = ListpackBuilder::new();
        b.push(b"hello");
        let blob = b.finish();
        assert!(listpack_entries(&blob[..blob.len() - 1]).is_err());
        let mut bad = blob.clone();
        bad[6] = 0x80 | 40; // string longer than the blob
        assert!(listpack_entries(&bad).is_err());
        assert!(listpack_entries(&[]).is_err());
    }
}
