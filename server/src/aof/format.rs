//! The append-only file's on-disk formats: commands as RESP multibulk requests
//! (with `#` annotation lines such as `#TS:<unix seconds>`), and Redis 7's manifest
//! (`file <name> seq <n> type <b|h|i>` per line), read and written byte for byte as
//! Redis 7.0 does so that either server loads the other's directory.

use bytes::Bytes;
use ferrokv_protocol::split_args;

/// What a manifest line describes (`type b|h|i`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// The base: a full dataset (RESP commands, or an RDB image).
    Base,
    /// A file left from before a rewrite, to delete.
    History,
    /// Commands appended after the base, in `seq` order.
    Incr,
}

impl FileKind {
    fn letter(self) -> char {
        match self {
            FileKind::Base => 'b',
            FileKind::History => 'h',
            FileKind::Incr => 'i',
        }
    }
}

/// One line of the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestEntry {
    /// File name inside the AOF directory.
    pub name: String,
    /// Sequence number (base and increments are numbered separately).
    pub seq: u64,
    /// Role of the file.
    pub kind: FileKind,
}

/// The manifest: at most one base, then the increment files in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    /// The base file, if any.
    pub base: Option<ManifestEntry>,
    /// Files to delete (left from before a rewrite).
    pub history: Vec<ManifestEntry>,
    /// Increment files, oldest first.
    pub incrs: Vec<ManifestEntry>,
}

impl Manifest {
    /// Parses a manifest as Redis' `aofLoadManifestFromFile`: blank lines and lines
    /// starting with `#` are skipped; each line is `key value` pairs (quoted values
    /// allowed) with `file`, `seq` and `type`.
    pub fn parse(text: &str) -> Result<Manifest, String> {
        let mut manifest = Manifest::default();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad =
                |what: &str| format!("Invalid AOF manifest file format (line {}): {what}", n + 1);
            let args = split_args(line.as_bytes()).ok_or_else(|| bad("unbalanced quotes"))?;
            if args.len() % 2 != 0 {
                return Err(bad("odd number of arguments"));
            }
            let (mut name, mut seq, mut kind) = (None, None, None);
            for pair in args.chunks(2) {
                let value = String::from_utf8_lossy(&pair[1]).into_owned();
                match pair[0].as_slice() {
                    b"file" => name = Some(value),
                    b"seq" => seq = value.parse::<u64>().ok(),
                    b"type" => {
                        kind = match value.as_str() {
                            "b" => Some(FileKind::Base),
                            "h" => Some(FileKind::History),
                            "i" => Some(FileKind::Incr),
                            _ => None,
                        }
                    }
                    _ => {}
                }
            }
            let (Some(name), Some(seq), Some(kind)) = (name, seq, kind) else {
                return Err(bad("a line needs file, seq and type"));
            };
            if name.contains('/') {
                return Err(bad("file names may not be paths"));
            }
            let entry = ManifestEntry { name, seq, kind };
            match kind {
                FileKind::Base if manifest.base.is_some() => {
                    return Err(bad("more than one base file"));
                }
                FileKind::Base => manifest.base = Some(entry),
                FileKind::History => manifest.history.push(entry),
                FileKind::Incr => {
                    if manifest
                        .incrs
                        .last()
                        .is_some_and(|last| last.seq >= entry.seq)
                    {
                        return Err(bad("increment files out of order"));
                    }
                    manifest.incrs.push(entry);
                }
            }
        }
        Ok(manifest)
    }

    /// The manifest's text, as Redis' `getAofManifestAsString`: base, history, then
    /// increments, one `file <name> seq <n> type <t>` line each.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let entries = self.base.iter().chain(&self.history).chain(&self.incrs);
        for e in entries {
            out.push_str(&format!(
                "file {} seq {} type {}\n",
                quote_if_needed(&e.name),
                e.seq,
                e.kind.letter()
            ));
        }
        out
    }

    /// Every file the manifest names, base first.
    pub fn files(&self) -> impl Iterator<Item = &ManifestEntry> {
        self.base.iter().chain(&self.incrs)
    }

    /// The next increment sequence number.
    pub fn next_incr_seq(&self) -> u64 {
        self.incrs.last().map_or(0, |e| e.seq) + 1
    }

    /// The next base sequence number.
    pub fn next_base_seq(&self) -> u64 {
        self.base.as_ref().map_or(0, |e| e.seq) + 1
    }
}

/// Quotes a file name as Redis' `sdscatrepr` when it holds spaces or special bytes.
fn quote_if_needed(name: &str) -> String {
    if name
        .bytes()
        .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\'' && b != b'\\')
    {
        return name.to_string();
    }
    let mut out = String::from("\"");
    for b in name.bytes() {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            b if b.is_ascii_graphic() || b == b' ' => out.push(b as char),
            b => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push('"');
    out
}

/// Appends `argv` as a RESP multibulk request (the AOF's command format).
pub fn encode_command(out: &mut Vec<u8>, argv: &[Bytes]) {
    encode_header(out, argv.len());
    for arg in argv {
        encode_bulk(out, arg);
    }
}

/// Appends a command given as plain byte slices.
pub fn encode_parts(out: &mut Vec<u8>, argv: &[&[u8]]) {
    encode_header(out, argv.len());
    for arg in argv {
        encode_bulk(out, arg);
    }
}

/// Appends a multibulk header for `argc` arguments.
pub fn encode_header(out: &mut Vec<u8>, argc: usize) {
    push_header(out, b'*', argc);
}

/// Appends one bulk argument.
pub fn encode_bulk(out: &mut Vec<u8>, arg: &[u8]) {
    push_header(out, b'$', arg.len());
    out.extend_from_slice(arg);
    out.extend_from_slice(b"\r\n");
}

fn push_header(out: &mut Vec<u8>, kind: u8, n: usize) {
    // Digits without an allocation: this runs for every propagated argument.
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut n = n;
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.push(kind);
    out.extend_from_slice(&digits[i..]);
    out.extend_from_slice(b"\r\n");
}

/// Why reading commands stopped before the end of the data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// The data ends in the middle of a command that starts at `at`.
    Truncated {
        /// Offset of the incomplete command (everything before it is valid).
        at: usize,
    },
    /// Bytes at `at` are not a command.
    Corrupt {
        /// Offset of the bad bytes.
        at: usize,
        /// What was wrong.
        reason: &'static str,
    },
}

/// Reads the commands of an AOF file one by one (arguments are slices of the file).
pub struct CommandReader {
    data: Bytes,
    pos: usize,
}

impl CommandReader {
    /// A reader over a whole file.
    pub fn new(data: Bytes) -> CommandReader {
        CommandReader { data, pos: 0 }
    }

    /// Offset of the next unread byte.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// The next command with its starting offset, skipping annotation lines; `None`
    /// at the end of the data.
    pub fn next_command(&mut self) -> Result<Option<(usize, Vec<Bytes>)>, ReadError> {
        loop {
            let start = self.pos;
            let Some(&first) = self.data.get(start) else {
                return Ok(None);
            };
            if first == b'#' {
                // An annotation (`#TS:...`): one line.
                match memchr(b'\n', &self.data[start..]) {
                    Some(n) => self.pos = start + n + 1,
                    None => return Err(ReadError::Truncated { at: start }),
                }
                continue;
            }
            if first != b'*' {
                return Err(ReadError::Corrupt {
                    at: start,
                    reason: "expected '*' at the start of a command",
                });
            }
            return self.read_multibulk(start).map(Some);
        }
    }

    fn read_multibulk(&mut self, start: usize) -> Result<(usize, Vec<Bytes>), ReadError> {
        let mut pos = start + 1;
        let argc = self.read_number(&mut pos, start)?;
        if argc < 1 {
            return Err(ReadError::Corrupt {
                at: start,
                reason: "a command needs at least one argument",
            });
        }
        let mut argv = Vec::with_capacity(argc.min(1024) as usize);
        for _ in 0..argc {
            match self.data.get(pos) {
                None => return Err(ReadError::Truncated { at: start }),
                Some(b'$') => {}
                Some(_) => {
                    return Err(ReadError::Corrupt {
                        at: pos,
                        reason: "expected '$' before an argument",
                    })
                }
            }
            pos += 1;
            let len = self.read_number(&mut pos, start)? as usize;
            let end = pos.checked_add(len).ok_or(ReadError::Corrupt {
                at: pos,
                reason: "argument length out of range",
            })?;
            if end + 2 > self.data.len() {
                return Err(ReadError::Truncated { at: start });
            }
            if &self.data[end..end + 2] != b"\r\n" {
                return Err(ReadError::Corrupt {
                    at: end,
                    reason: "argument not followed by CRLF",
                });
            }
            argv.push(self.data.slice(pos..end));
            pos = end + 2;
        }
        self.pos = pos;
        Ok((start, argv))
    }

    /// Reads a decimal number ending in CRLF at `*pos`.
    fn read_number(&self, pos: &mut usize, start: usize) -> Result<i64, ReadError> {
        let rest = &self.data[*pos..];
        let Some(n) = memchr(b'\n', rest) else {
            return Err(ReadError::Truncated { at: start });
        };
        let line = &rest[..n];
        let digits = line.strip_suffix(b"\r").ok_or(ReadError::Corrupt {
            at: *pos,
            reason: "line not ended by CRLF",
        })?;
        let value = std::str::from_utf8(digits)
            .ok()
            .and_then(|s| s.parse::<i64>().ok())
            .filter(|v| *v >= 0)
            .ok_or(ReadError::Corrupt {
                at: *pos,
                reason: "invalid length",
            })?;
        *pos += n + 1;
        Ok(value)
    }
}

fn memchr(needle: u8, haystack: &[u8]) -> Option<usize> {
    haystack.iter().position(|b| *b == needle)
}

/// How a whole file reads: its commands end cleanly, are cut off, or are corrupt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileCheck {
    /// Commands read completely (MULTI/EXEC blocks count each command).
    pub commands: u64,
    /// Offset up to which the file is valid (its length when it is).
    pub valid_up_to: usize,
    /// Why reading stopped early, if it did. An open `MULTI` at the end counts as
    /// truncated at the `MULTI`.
    pub error: Option<ReadError>,
}

/// Reads every command of `data` without running them (`--check-aof`).
pub fn check(data: Bytes) -> FileCheck {
    let len = data.len();
    let mut reader = CommandReader::new(data);
    let mut commands = 0;
    let mut open_multi: Option<usize> = None;
    loop {
        match reader.next_command() {
            Ok(Some((start, argv))) => {
                commands += 1;
                if argv[0].eq_ignore_ascii_case(b"multi") {
                    open_multi = Some(start);
                } else if argv[0].eq_ignore_ascii_case(b"exec") {
                    open_multi = None;
                }
            }
            Ok(None) => {
                return match open_multi {
                    Some(at) => FileCheck {
                        commands,
                        valid_up_to: at,
                        error: Some(ReadError::Truncated { at }),
                    },
                    None => FileCheck {
                        commands,
                        valid_up_to: len,
                        error: None,
                    },
                };
            }
            Err(e) => {
                let at = match &e {
                    ReadError::Truncated { at } => open_multi.unwrap_or(*at),
                    ReadError::Corrupt { at, .. } => *at,
                };
                return FileCheck {
                    commands,
                    valid_up_to: at,
                    error: Some(e),
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_round_trip_in_redis_syntax() {
        let text = "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\nfile appendonly.aof.2.incr.aof seq 2 type i\n";
        let m = Manifest::parse(text).unwrap();
        assert_eq!(m.base.as_ref().unwrap().name, "appendonly.aof.1.base.rdb");
        assert_eq!(m.incrs.len(), 2);
        assert_eq!(m.render(), text);
        assert_eq!(m.next_incr_seq(), 3);
        assert_eq!(m.next_base_seq(), 2);
        let quoted = Manifest::parse("# c\n\nseq 3 type i file \"a b.aof\"\n").unwrap();
        assert_eq!(quoted.incrs[0].name, "a b.aof");
        assert_eq!(quoted.render(), "file \"a b.aof\" seq 3 type i\n");
        assert!(Manifest::parse("file x seq 1\n").is_err());
        assert!(Manifest::parse("file x seq 2 type i\nfile y seq 1 type i\n").is_err());
    }

    #[test]
    fn commands_annotations_truncation_and_corruption() {
        let mut data = Vec::new();
        encode_parts(&mut data, &[b"SET", b"k", b"v"]);
        data.extend_from_slice(b"#TS:1700000000\r\n");
        encode_parts(&mut data, &[b"MULTI"]);
        encode_parts(&mut data, &[b"INCR", b"n"]);
        encode_parts(&mut data, &[b"EXEC"]);
        let whole = check(Bytes::from(data.clone()));
        assert_eq!(whole.error, None);
        assert_eq!(whole.commands, 4);
        assert_eq!(whole.valid_up_to, data.len());
        // Cut inside the EXEC: valid up to the MULTI.
        let multi_at = data.windows(5).position(|w| w == b"MULTI").unwrap() - 8;
        let cut = check(Bytes::from(data[..data.len() - 3].to_vec()));
        assert_eq!(cut.valid_up_to, multi_at);
        assert!(matches!(cut.error, Some(ReadError::Truncated { .. })));
        let mut bad = data.clone();
        bad[0] = b'x';
        assert!(matches!(
            check(Bytes::from(bad)).error,
            Some(ReadError::Corrupt { at: 0, .. })
        ));
    }
}
