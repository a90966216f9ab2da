//! Reply formatting, byte for byte as redis-cli 7.0 prints replies: the human form for
//! terminals (`cliFormatReplyTTY`), the raw form for pipes (`cliFormatReplyRaw`) and CSV.
//!
//! Everything here is pure: frames in, bytes out, so the exact strings are unit-tested.

use ferrokv_protocol::{format_double_g17, Frame};

/// How replies are printed, as redis-cli's `config.output`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputMode {
    /// Human-readable (`(integer) 1`, quoted strings, numbered aggregates): the default
    /// when stdout is a terminal, or with `--no-raw`.
    Standard,
    /// Bare values, one per line: the default when stdout is not a terminal, or `--raw`.
    Raw,
    /// Comma-separated values (`--csv`).
    Csv,
}

/// Delimiters of the raw output mode (redis-cli's `-d` and `-D`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delimiters {
    /// Between the elements of an aggregate (`-d`, default `\n`).
    pub multibulk: Vec<u8>,
    /// After each reply (`-D`, default `\n`).
    pub command: Vec<u8>,
}

impl Default for Delimiters {
    fn default() -> Self {
        Delimiters {
            multibulk: b"\n".to_vec(),
            command: b"\n".to_vec(),
        }
    }
}

/// Formats one whole reply for printing, as redis-cli's `cliFormatReply`.
///
/// `raw_strings` is set for commands whose output is text meant to be read as is
/// (`INFO`, `CLIENT LIST`, ...): they are printed raw, without a trailing delimiter,
/// whatever the mode.
pub fn format_reply(
    frame: &Frame,
    mode: OutputMode,
    raw_strings: bool,
    delims: &Delimiters,
) -> Vec<u8> {
    let mut out = Vec::new();
    if raw_strings {
        raw(&mut out, frame, &delims.multibulk);
        return out;
    }
    match mode {
        OutputMode::Standard => tty(&mut out, frame, b""),
        OutputMode::Raw => {
            raw(&mut out, frame, &delims.multibulk);
            out.extend_from_slice(&delims.command);
        }
        OutputMode::Csv => {
            csv(&mut out, frame);
            out.push(b'\n');
        }
    }
    out
}

/// The human-readable form of a reply, ending with a newline (`cliFormatReplyTTY`).
#[cfg(test)]
pub fn format_tty(frame: &Frame) -> Vec<u8> {
    let mut out = Vec::new();
    tty(&mut out, frame, b"");
    out
}

/// The raw form of a reply with `\n` between elements and no final newline
/// (`cliFormatReplyRaw`).
#[cfg(test)]
pub fn format_raw(frame: &Frame) -> Vec<u8> {
    let mut out = Vec::new();
    raw(&mut out, frame, b"\n");
    out
}

/// Appends `s` quoted and escaped as Redis' `sdscatrepr`: `\\`, `\"`, `\n`, `\r`, `\t`,
/// `\a`, `\b`, printable ASCII as is, every other byte as `\xhh` (lower-case hex).
pub fn repr(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for &b in s {
        match b {
            b'\\' | b'"' => {
                out.push(b'\\');
                out.push(b);
            }
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x07 => out.extend_from_slice(b"\\a"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x20..=0x7e => out.push(b),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\x");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0x0f)]);
            }
        }
    }
    out.push(b'"');
}

/// The text redis-cli prints for a double: the server's own `%.17g` text.
fn double_text(d: f64) -> String {
    format_double_g17(d)
}

/// The frame an attribute annotates; attributes themselves are never printed.
fn strip_attribute(mut frame: &Frame) -> &Frame {
    while let Frame::Attribute(_, inner) = frame {
        frame = inner;
    }
    frame
}

/// Whether [`format_tty`] renders the frame on more than one line
/// (`cliIsMultilineValueTTY`), which moves a map value below its key.
fn is_multiline_tty(frame: &Frame) -> bool {
    match strip_attribute(frame) {
        Frame::Array(items) | Frame::Set(items) | Frame::Push(items) => match items.len() {
            0 => false,
            1 => is_multiline_tty(&items[0]),
            _ => true,
        },
        Frame::Map(pairs) => match pairs.len() {
            0 => false,
            1 => is_multiline_tty(&pairs[0].1),
            _ => true,
        },
        _ => false,
    }
}

fn tty(out: &mut Vec<u8>, frame: &Frame, prefix: &[u8]) {
    match strip_attribute(frame) {
        Frame::Error(text) => {
            out.extend_from_slice(b"(error) ");
            out.extend_from_slice(text);
            out.push(b'\n');
        }
        Frame::Simple(text) => {
            out.extend_from_slice(text);
            out.push(b'\n');
        }
        Frame::Integer(n) => out.extend_from_slice(format!("(integer) {n}\n").as_bytes()),
        Frame::Double(d) => {
            out.extend_from_slice(format!("(double) {}\n", double_text(*d)).as_bytes())
        }
        Frame::DoubleText(text) => {
            out.extend_from_slice(b"(double) ");
            out.extend_from_slice(text);
            out.push(b'\n');
        }
        Frame::BigNumber(digits) => {
            out.extend_from_slice(b"(big number) ");
            out.extend_from_slice(digits);
            out.push(b'\n');
        }
        Frame::Bulk(data) => {
            repr(out, data);
            out.push(b'\n');
        }
        Frame::Verbatim { text, .. } => {
            out.extend_from_slice(text);
            out.push(b'\n');
        }
        Frame::Null | Frame::NullArray => out.extend_from_slice(b"(nil)\n"),
        Frame::Boolean(b) => out.extend_from_slice(if *b { b"(true)\n" } else { b"(false)\n" }),
        Frame::Array(items) => tty_list(out, items, prefix, b')', b"(empty array)\n"),
        Frame::Set(items) => tty_list(out, items, prefix, b'~', b"(empty set)\n"),
        Frame::Push(items) => tty_list(out, items, prefix, b')', b"(empty push)\n"),
        Frame::Map(pairs) => tty_map(out, pairs, prefix),
        Frame::Attribute(..) => unreachable!("attributes are stripped above"),
    }
}

/// Digits needed for the largest 1-based index of `count` entries.
fn index_width(count: usize) -> usize {
    count.to_string().len()
}

/// Writes `prefix` (skipped for the first entry, whose parent already wrote it), the
/// right-aligned index and its separator: `" 1) "`, `"10) "`, `"1~ "`, `"1# "`.
fn tty_index(out: &mut Vec<u8>, prefix: &[u8], first: bool, index: usize, width: usize, sep: u8) {
    if !first {
        out.extend_from_slice(prefix);
    }
    out.extend_from_slice(format!("{index:>width$}").as_bytes());
    out.push(sep);
    out.push(b' ');
}

/// The prefix of nested entries: the parent's, plus room for the index and separator.
fn child_prefix(prefix: &[u8], width: usize) -> Vec<u8> {
    let mut child = prefix.to_vec();
    child.resize(prefix.len() + width + 2, b' ');
    child
}

fn tty_list(out: &mut Vec<u8>, items: &[Frame], prefix: &[u8], sep: u8, empty: &[u8]) {
    if items.is_empty() {
        out.extend_from_slice(empty);
        return;
    }
    let width = index_width(items.len());
    let child = child_prefix(prefix, width);
    for (i, item) in items.iter().enumerate() {
        tty_index(out, prefix, i == 0, i + 1, width, sep);
        tty(out, item, &child);
    }
}

fn tty_map(out: &mut Vec<u8>, pairs: &[(Frame, Frame)], prefix: &[u8]) {
    if pairs.is_empty() {
        out.extend_from_slice(b"(empty hash)\n");
        return;
    }
    let width = index_width(pairs.len());
    let child = child_prefix(prefix, width);
    for (i, (key, value)) in pairs.iter().enumerate() {
        tty_index(out, prefix, i == 0, i + 1, width, b'#');
        tty(out, key, &child);
        // The key's newline gives way to the arrow.
        out.pop();
        out.extend_from_slice(b" => ");
        if is_multiline_tty(value) {
            out.push(b'\n');
            out.extend_from_slice(&child);
        }
        tty(out, value, &child);
    }
}

fn raw(out: &mut Vec<u8>, frame: &Frame, mb_delim: &[u8]) {
    match strip_attribute(frame) {
        Frame::Null | Frame::NullArray => {}
        Frame::Error(text) => {
            out.extend_from_slice(text);
            out.push(b'\n');
        }
        Frame::Simple(text) | Frame::Bulk(text) | Frame::Verbatim { text, .. } => {
            out.extend_from_slice(text)
        }
        Frame::BigNumber(digits) | Frame::DoubleText(digits) => out.extend_from_slice(digits),
        Frame::Boolean(b) => out.extend_from_slice(if *b { b"(true)" } else { b"(false)" }),
        Frame::Integer(n) => out.extend_from_slice(n.to_string().as_bytes()),
        Frame::Double(d) => out.extend_from_slice(double_text(*d).as_bytes()),
        Frame::Array(items) | Frame::Set(items) | Frame::Push(items) => {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(mb_delim);
                }
                raw(out, item, mb_delim);
            }
        }
        Frame::Map(pairs) => {
            for (i, (key, value)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(mb_delim);
                }
                raw(out, key, mb_delim);
                out.push(b' ');
                raw(out, value, mb_delim);
            }
        }
        Frame::Attribute(..) => unreachable!("attributes are stripped above"),
    }
}

fn csv(out: &mut Vec<u8>, frame: &Frame) {
    match strip_attribute(frame) {
        Frame::Error(text) => {
            out.extend_from_slice(b"ERROR,");
            repr(out, text);
        }
        Frame::Simple(text) | Frame::Bulk(text) | Frame::Verbatim { text, .. } => repr(out, text),
        Frame::Integer(n) => out.extend_from_slice(n.to_string().as_bytes()),
        Frame::Double(d) => out.extend_from_slice(double_text(*d).as_bytes()),
        Frame::BigNumber(digits) | Frame::DoubleText(digits) => out.extend_from_slice(digits),
        Frame::Null | Frame::NullArray => out.extend_from_slice(b"NULL"),
        Frame::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Frame::Array(items) | Frame::Set(items) | Frame::Push(items) => {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                csv(out, item);
            }
        }
        Frame::Map(pairs) => {
            for (i, (key, value)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                csv(out, key);
                out.push(b',');
                csv(out, value);
            }
        }
        Frame::Attribute(..) => unreachable!("attributes are stripped above"),
    }
}

/// Whether a push frame is a client-tracking invalidation message
/// (`>2 "invalidate" [keys...]`), shown in a short form on terminals.
pub fn is_invalidate(frame: &Frame) -> bool {
    matches!(frame, Frame::Push(items)
        if items.len() == 2
            && matches!(&items[0], Frame::Bulk(kind) if kind.starts_with(b"invalidate"))
            && matches!(items[1], Frame::Array(_)))
}

/// The terminal form of an invalidation push: `-> invalidate: 'k1', 'k2'`
/// (`cliFormatInvalidateTTY`). Call only when [`is_invalidate`] holds.
pub fn format_invalidate(frame: &Frame) -> Vec<u8> {
    let mut out = b"-> invalidate: ".to_vec();
    if let Frame::Push(items) = frame {
        if let Some(Frame::Array(keys)) = items.get(1) {
            for (i, key) in keys.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(b", ");
                }
                out.push(b'\'');
                if let Frame::Bulk(k) = key {
                    out.extend_from_slice(k);
                }
                out.push(b'\'');
            }
        }
    }
    out.push(b'\n');
    out
}

#[cfg(test)]
#[allow(clippy::approx_constant)] // 3.141 is what DEBUG PROTOCOL double sends.
mod tests {
    use super::*;

    fn s(text: &str) -> Frame {
        Frame::Simple(text.as_bytes().to_vec().into())
    }

    fn b(text: &str) -> Frame {
        Frame::bulk(text)
    }

    fn int(n: i64) -> Frame {
        Frame::Integer(n)
    }

    fn arr(items: Vec<Frame>) -> Frame {
        Frame::Array(items)
    }

    fn map(pairs: Vec<(Frame, Frame)>) -> Frame {
        Frame::Map(pairs)
    }

    fn tty_str(frame: &Frame) -> String {
        String::from_utf8(format_tty(frame)).expect("utf-8")
    }

    fn raw_reply(frame: &Frame) -> String {
        let out = format_reply(frame, OutputMode::Raw, false, &Delimiters::default());
        String::from_utf8(out).expect("utf-8")
    }

    fn csv_reply(frame: &Frame) -> String {
        let out = format_reply(frame, OutputMode::Csv, false, &Delimiters::default());
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn repr_escapes_like_sdscatrepr() {
        let mut out = Vec::new();
        repr(&mut out, b"a\nb\rc\td\x07e\x08f\"g\\h\x00\x01\x7f\xff ~");
        assert_eq!(
            String::from_utf8(out).expect("ascii"),
            r#""a\nb\rc\td\ae\bf\"g\\h\x00\x01\x7f\xff ~""#
        );
        let mut out = Vec::new();
        repr(&mut out, "你".as_bytes());
        assert_eq!(out, br#""\xe4\xbd\xa0""#);
        let mut out = Vec::new();
        repr(&mut out, b"");
        assert_eq!(out, b"\"\"");
    }

    #[test]
    fn tty_scalars() {
        assert_eq!(tty_str(&s("OK")), "OK\n");
        assert_eq!(tty_str(&int(1)), "(integer) 1\n");
        assert_eq!(tty_str(&int(-42)), "(integer) -42\n");
        assert_eq!(tty_str(&Frame::Null), "(nil)\n");
        assert_eq!(tty_str(&Frame::NullArray), "(nil)\n");
        assert_eq!(tty_str(&b("hello world")), "\"hello world\"\n");
        assert_eq!(tty_str(&b("")), "\"\"\n");
        assert_eq!(tty_str(&b("e\nf")), "\"e\\nf\"\n");
        assert_eq!(
            tty_str(&Frame::error(
                "ERR unknown command 'foo', with args beginning with: 'bar' "
            )),
            "(error) ERR unknown command 'foo', with args beginning with: 'bar' \n"
        );
        assert_eq!(tty_str(&Frame::Double(1.5)), "(double) 1.5\n");
        assert_eq!(tty_str(&Frame::Double(2.0)), "(double) 2\n");
        assert_eq!(tty_str(&Frame::Double(3.141)), "(double) 3.141\n");
        assert_eq!(tty_str(&Frame::Double(f64::INFINITY)), "(double) inf\n");
        assert_eq!(tty_str(&Frame::Boolean(true)), "(true)\n");
        assert_eq!(tty_str(&Frame::Boolean(false)), "(false)\n");
        assert_eq!(
            tty_str(&Frame::BigNumber(
                "1234567999999999999999999999999999999".into()
            )),
            "(big number) 1234567999999999999999999999999999999\n"
        );
        assert_eq!(
            tty_str(&Frame::Verbatim {
                format: *b"txt",
                text: "This is a verbatim\nstring".into()
            }),
            "This is a verbatim\nstring\n"
        );
    }

    #[test]
    fn tty_flat_array_with_escapes() {
        // LRANGE of a list holding "a" "b" "c d" "e\nf" "" "\x01\xff\"\\" (redis-cli 7.0).
        let frame = arr(vec![
            b("a"),
            b("b"),
            b("c d"),
            b("e\nf"),
            b(""),
            Frame::bulk(b"\x01\xff\"\\"),
        ]);
        assert_eq!(
            tty_str(&frame),
            "1) \"a\"\n2) \"b\"\n3) \"c d\"\n4) \"e\\nf\"\n5) \"\"\n6) \"\\x01\\xff\\\"\\\\\"\n"
        );
    }

    #[test]
    fn tty_width_aligned_indices() {
        let frame = arr((1..=12).map(|i| b(&format!("v{i}"))).collect());
        let expected: String = (1..=12).map(|i| format!("{i:>2}) \"v{i}\"\n")).collect();
        assert_eq!(tty_str(&frame), expected);
        assert!(tty_str(&frame).starts_with(" 1) \"v1\"\n 2)"));
        assert!(tty_str(&frame).ends_with("10) \"v10\"\n11) \"v11\"\n12) \"v12\"\n"));
    }

    #[test]
    fn tty_empty_aggregates() {
        assert_eq!(tty_str(&arr(vec![])), "(empty array)\n");
        assert_eq!(tty_str(&map(vec![])), "(empty hash)\n");
        assert_eq!(tty_str(&Frame::Set(vec![])), "(empty set)\n");
        assert_eq!(tty_str(&Frame::Push(vec![])), "(empty push)\n");
    }

    #[test]
    fn tty_nested_arrays() {
        // EVAL "return {1,{2,{3,'x'},{}},'a',{'b',{'c'}},{1,...,11}}" 0 in redis-cli 7.0.
        let frame = arr(vec![
            int(1),
            arr(vec![int(2), arr(vec![int(3), b("x")]), arr(vec![])]),
            b("a"),
            arr(vec![b("b"), arr(vec![b("c")])]),
            arr((1..=11).map(int).collect()),
        ]);
        let expected = "\
1) (integer) 1
2) 1) (integer) 2
   2) 1) (integer) 3
      2) \"x\"
   3) (empty array)
3) \"a\"
4) 1) \"b\"
   2) 1) \"c\"
5)  1) (integer) 1
    2) (integer) 2
    3) (integer) 3
    4) (integer) 4
    5) (integer) 5
    6) (integer) 6
    7) (integer) 7
    8) (integer) 8
    9) (integer) 9
   10) (integer) 10
   11) (integer) 11
";
        assert_eq!(tty_str(&frame), expected);
    }

    #[test]
    fn tty_nested_in_wide_array_uses_wider_prefix() {
        let mut items: Vec<Frame> = (1..=9).map(int).collect();
        items.push(arr(vec![b("x"), b("y")]));
        let out = tty_str(&arr(items));
        assert!(
            out.ends_with(" 9) (integer) 9\n10) 1) \"x\"\n    2) \"y\"\n"),
            "{out}"
        );
    }

    #[test]
    fn tty_errors_and_status_inside_arrays() {
        let frame = arr(vec![
            int(1),
            Frame::error("nested err"),
            s("st"),
            Frame::Null,
        ]);
        assert_eq!(
            tty_str(&frame),
            "1) (integer) 1\n2) (error) nested err\n3) st\n4) (nil)\n"
        );
    }

    #[test]
    fn tty_maps_and_sets() {
        let frame = map(vec![(b("f1"), b("v1")), (b("f2"), b("v2"))]);
        assert_eq!(
            tty_str(&frame),
            "1# \"f1\" => \"v1\"\n2# \"f2\" => \"v2\"\n"
        );
        let frame = Frame::Set(vec![b("y"), b("x")]);
        assert_eq!(tty_str(&frame), "1~ \"y\"\n2~ \"x\"\n");
        let frame = map(vec![
            (int(0), Frame::Boolean(false)),
            (int(1), Frame::Boolean(true)),
        ]);
        assert_eq!(
            tty_str(&frame),
            "1# (integer) 0 => (false)\n2# (integer) 1 => (true)\n"
        );
        // ZRANGE z 0 -1 WITHSCORES over RESP3.
        let frame = arr(vec![
            arr(vec![b("a"), Frame::Double(1.5)]),
            arr(vec![b("b"), Frame::Double(2.0)]),
        ]);
        assert_eq!(
            tty_str(&frame),
            "1) 1) \"a\"\n   2) (double) 1.5\n2) 1) \"b\"\n   2) (double) 2\n"
        );
    }

    #[test]
    fn tty_map_multiline_values_move_below_the_key() {
        // redis-cli 7.0 -3 EVAL returning nested maps (the " => " keeps its space).
        let frame = map(vec![
            (
                b("a"),
                map(vec![(b("y"), arr(vec![int(1), int(2)])), (b("x"), int(1))]),
            ),
            (b("c"), map(vec![])),
            (b("b"), arr(vec![int(1)])),
            (b("e"), arr(vec![arr(vec![int(1), int(2)])])),
            (b("d"), arr(vec![int(2), int(3)])),
        ]);
        let expected = "\
1# \"a\" => \n   1# \"y\" => \n      1) (integer) 1
      2) (integer) 2
   2# \"x\" => (integer) 1
2# \"c\" => (empty hash)
3# \"b\" => 1) (integer) 1
4# \"e\" => \n   1) 1) (integer) 1
      2) (integer) 2
5# \"d\" => \n   1) (integer) 2
   2) (integer) 3
";
        assert_eq!(tty_str(&frame), expected);
    }

    #[test]
    fn tty_command_info_get_resp3() {
        // COMMAND INFO GET as printed by redis-cli 7.0 -3.
        let flags = |names: &[&str]| Frame::Set(names.iter().map(|n| s(n)).collect());
        let frame = arr(vec![arr(vec![
            b("get"),
            int(2),
            flags(&["readonly", "fast"]),
            int(1),
            int(1),
            int(1),
            flags(&["@read", "@string", "@fast"]),
            Frame::Set(vec![]),
            Frame::Set(vec![map(vec![
                (b("flags"), flags(&["RO", "access"])),
                (
                    b("begin_search"),
                    map(vec![
                        (b("type"), b("index")),
                        (b("spec"), map(vec![(b("index"), int(1))])),
                    ]),
                ),
                (
                    b("find_keys"),
                    map(vec![
                        (b("type"), b("range")),
                        (
                            b("spec"),
                            map(vec![
                                (b("lastkey"), int(0)),
                                (b("keystep"), int(1)),
                                (b("limit"), int(0)),
                            ]),
                        ),
                    ]),
                ),
            ])]),
            Frame::Set(vec![]),
        ])]);
        let expected = "\
1)  1) \"get\"
    2) (integer) 2
    3) 1~ readonly
       2~ fast
    4) (integer) 1
    5) (integer) 1
    6) (integer) 1
    7) 1~ @read
       2~ @string
       3~ @fast
    8) (empty set)
    9) 1~ 1# \"flags\" => \n             1~ RO
             2~ access
          2# \"begin_search\" => \n             1# \"type\" => \"index\"
             2# \"spec\" => 1# \"index\" => (integer) 1
          3# \"find_keys\" => \n             1# \"type\" => \"range\"
             2# \"spec\" => \n                1# \"lastkey\" => (integer) 0
                2# \"keystep\" => (integer) 1
                3# \"limit\" => (integer) 0
   10) (empty set)
";
        assert_eq!(tty_str(&frame), expected);
    }

    #[test]
    fn tty_attribute_is_transparent() {
        let frame = Frame::Attribute(
            vec![(b("key-popularity"), arr(vec![]))],
            Box::new(b("Some real reply following the attribute")),
        );
        assert_eq!(
            tty_str(&frame),
            "\"Some real reply following the attribute\"\n"
        );
    }

    #[test]
    fn tty_push_uses_parenthesis() {
        let frame = Frame::Push(vec![b("message"), b("ch1"), b("hello")]);
        assert_eq!(
            tty_str(&frame),
            "1) \"message\"\n2) \"ch1\"\n3) \"hello\"\n"
        );
    }

    #[test]
    fn raw_scalars() {
        assert_eq!(raw_reply(&s("OK")), "OK\n");
        assert_eq!(raw_reply(&int(7)), "7\n");
        assert_eq!(raw_reply(&Frame::Null), "\n");
        assert_eq!(raw_reply(&b("e\nf")), "e\nf\n");
        assert_eq!(raw_reply(&Frame::Double(3.141)), "3.141\n");
        assert_eq!(raw_reply(&Frame::Boolean(true)), "(true)\n");
        assert_eq!(raw_reply(&Frame::Boolean(false)), "(false)\n");
        assert_eq!(raw_reply(&Frame::BigNumber("123".into())), "123\n");
        // Errors keep redis-cli's extra newline.
        assert_eq!(
            raw_reply(&Frame::error("ERR unknown command 'foo'")),
            "ERR unknown command 'foo'\n\n"
        );
        assert_eq!(
            raw_reply(&Frame::Verbatim {
                format: *b"txt",
                text: "This is a verbatim\nstring".into()
            }),
            "This is a verbatim\nstring\n"
        );
    }

    #[test]
    fn raw_aggregates() {
        let frame = arr(vec![
            b("a"),
            b("b"),
            b("c d"),
            b("e\nf"),
            b(""),
            Frame::bulk(b"\x01"),
        ]);
        assert_eq!(raw_reply(&frame), "a\nb\nc d\ne\nf\n\n\x01\n");
        assert_eq!(raw_reply(&arr(vec![])), "\n");
        let nested = arr(vec![
            int(1),
            arr(vec![int(2), arr(vec![int(3), b("x")]), arr(vec![])]),
            b("a"),
            arr(vec![b("b"), arr(vec![b("c")])]),
        ]);
        assert_eq!(raw_reply(&nested), "1\n2\n3\nx\n\na\nb\nc\n");
        let with_err = arr(vec![
            int(1),
            Frame::error("nested err"),
            s("st"),
            Frame::Null,
        ]);
        assert_eq!(raw_reply(&with_err), "1\nnested err\n\nst\n\n");
        let hash = map(vec![(b("f1"), b("v1")), (b("f2"), b("v2"))]);
        assert_eq!(raw_reply(&hash), "f1 v1\nf2 v2\n");
        let bools = map(vec![
            (int(0), Frame::Boolean(false)),
            (int(1), Frame::Boolean(true)),
            (int(2), Frame::Boolean(false)),
        ]);
        assert_eq!(raw_reply(&bools), "0 (false)\n1 (true)\n2 (false)\n");
        let set = Frame::Set(vec![int(0), int(1), int(2)]);
        assert_eq!(raw_reply(&set), "0\n1\n2\n");
    }

    #[test]
    fn raw_custom_delimiters() {
        let delims = Delimiters {
            multibulk: b",".to_vec(),
            command: b";".to_vec(),
        };
        let out = format_reply(
            &arr(vec![b("a"), b("b"), arr(vec![b("c"), b("d")])]),
            OutputMode::Raw,
            false,
            &delims,
        );
        assert_eq!(out, b"a,b,c,d;");
    }

    #[test]
    fn raw_strings_override_the_mode() {
        let info = b("# Server\r\nredis_version:7.0.15\r\n");
        for mode in [OutputMode::Standard, OutputMode::Raw, OutputMode::Csv] {
            assert_eq!(
                format_reply(&info, mode, true, &Delimiters::default()),
                b"# Server\r\nredis_version:7.0.15\r\n"
            );
        }
        assert_eq!(format_raw(&arr(vec![b("a"), b("b")])), b"a\nb");
    }

    #[test]
    fn standard_reply_matches_tty() {
        let frame = arr(vec![b("a"), int(1)]);
        assert_eq!(
            format_reply(&frame, OutputMode::Standard, false, &Delimiters::default()),
            format_tty(&frame)
        );
    }

    #[test]
    fn csv_output() {
        assert_eq!(
            csv_reply(&arr(vec![b("a"), int(1), Frame::Null])),
            "\"a\",1,NULL\n"
        );
        assert_eq!(csv_reply(&Frame::error("ERR x")), "ERROR,\"ERR x\"\n");
        assert_eq!(
            csv_reply(&map(vec![(b("k"), Frame::Boolean(true))])),
            "\"k\",true\n"
        );
        assert_eq!(csv_reply(&b("a\"b")), "\"a\\\"b\"\n");
    }

    #[test]
    fn invalidate_push() {
        let frame = Frame::Push(vec![b("invalidate"), arr(vec![b("k1"), b("k2")])]);
        assert!(is_invalidate(&frame));
        assert_eq!(format_invalidate(&frame), b"-> invalidate: 'k1', 'k2'\n");
        assert!(!is_invalidate(&Frame::Push(vec![
            b("message"),
            b("ch"),
            b("x")
        ])));
    }
}
