use bytes::{Bytes, BytesMut};
use ferrokv_protocol::{
    split_args, ProtocolError, ProtocolErrorKind, RequestDecoder, DEFAULT_MAX_BULK_LEN,
};

/// Decodes every complete command in `input`, returning them and the first error.
fn decode_all(dec: &mut RequestDecoder, input: &[u8]) -> (Vec<Vec<Bytes>>, Option<ProtocolError>) {
    let mut buf = BytesMut::from(input);
    let mut out = Vec::new();
    loop {
        match dec.decode(&mut buf) {
            Ok(Some(argv)) => out.push(argv),
            Ok(None) => return (out, None),
            Err(e) => return (out, Some(e)),
        }
    }
}

fn error_of(input: &[u8]) -> String {
    let mut dec = RequestDecoder::default();
    match decode_all(&mut dec, input).1 {
        Some(e) => e.message().to_owned(),
        None => panic!("no error for {:?}", String::from_utf8_lossy(input)),
    }
}

fn argv(v: &[&str]) -> Vec<Bytes> {
    v.iter()
        .map(|s| Bytes::copy_from_slice(s.as_bytes()))
        .collect()
}

#[test]
fn multibulk_single_command() {
    let mut dec = RequestDecoder::default();
    let mut buf = BytesMut::from(&b"*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n"[..]);
    assert_eq!(dec.decode(&mut buf), Ok(Some(argv(&["GET", "key"]))));
    assert!(buf.is_empty());
    assert_eq!(dec.decode(&mut buf), Ok(None));
}

#[test]
fn pipelined_commands_drain_one_by_one() {
    let mut dec = RequestDecoder::default();
    let mut buf = BytesMut::from(
        &b"*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\nPING\r\n*1\r\n$1"[..],
    );
    assert_eq!(dec.decode(&mut buf), Ok(Some(argv(&["PING"]))));
    assert_eq!(dec.decode(&mut buf), Ok(Some(argv(&["ECHO", "hi"]))));
    assert_eq!(dec.decode(&mut buf), Ok(Some(argv(&["PING"]))));
    assert_eq!(dec.decode(&mut buf), Ok(None));
    buf.extend_from_slice(b"\r\nx\r\n");
    assert_eq!(dec.decode(&mut buf), Ok(Some(argv(&["x"]))));
}

#[test]
fn byte_by_byte_delivery() {
    let input = b"*3\r\n$3\r\nSET\r\n$0\r\n\r\n$4\r\na\r\nb\r\n";
    let mut dec = RequestDecoder::default();
    let mut buf = BytesMut::new();
    let mut got = Vec::new();
    for &b in input {
        buf.extend_from_slice(&[b]);
        while let Some(cmd) = dec.decode(&mut buf).expect("valid") {
            got.push(cmd);
        }
    }
    assert_eq!(got, vec![argv(&["SET", "", "a\r\nb"])]);
}

#[test]
fn large_bulk_arriving_in_pieces_is_not_reparsed() {
    let mut dec = RequestDecoder::default();
    let payload = vec![b'v'; 100_000];
    let mut buf = BytesMut::from(&b"*2\r\n$3\r\nSET\r\n$100000\r\n"[..]);
    assert_eq!(dec.decode(&mut buf), Ok(None));
    // Headers already parsed are consumed; only the first argument is held.
    assert_eq!(buf.len(), 0);
    assert_eq!(dec.bulk_bytes_missing(&buf), 100_002);
    for chunk in payload.chunks(7_000) {
        buf.extend_from_slice(chunk);
        assert_eq!(dec.decode(&mut buf), Ok(None));
    }
    assert_eq!(dec.bulk_bytes_missing(&buf), 2);
    buf.extend_from_slice(b"\r\n");
    let cmd = dec.decode(&mut buf).expect("valid").expect("complete");
    assert_eq!(cmd[0], "SET");
    assert_eq!(cmd[1].len(), 100_000);
    assert_eq!(dec.bulk_bytes_missing(&buf), 0);
}

#[test]
fn arguments_are_zero_copy() {
    let mut dec = RequestDecoder::default();
    let mut buf = BytesMut::with_capacity(64);
    buf.extend_from_slice(b"*2\r\n$3\r\nGET\r\n$5\r\nhello\r\n");
    let start = buf.as_ptr() as usize;
    let end = start + buf.capacity();
    let cmd = dec.decode(&mut buf).expect("valid").expect("complete");
    for arg in &cmd {
        let p = arg.as_ptr() as usize;
        assert!(p >= start && p < end, "argument was copied");
    }
}

#[test]
fn empty_multibulks_are_skipped() {
    let mut dec = RequestDecoder::default();
    let (cmds, err) = decode_all(&mut dec, b"*0\r\n*-1\r\n*-100\r\n*1\r\n$1\r\na\r\n*0\r\n");
    assert_eq!(err, None);
    assert_eq!(cmds, vec![argv(&["a"])]);
}

#[test]
fn multibulk_terminators_are_as_lenient_as_redis() {
    // Redis finds the `\r`, then skips one more byte whatever it is; bulk data is
    // followed by two skipped bytes.
    let mut dec = RequestDecoder::default();
    let (cmds, err) = decode_all(&mut dec, b"*1\rX$3\r\nfooAB");
    assert_eq!(err, None);
    assert_eq!(cmds, vec![argv(&["foo"])]);
}

#[test]
fn huge_declared_count_waits_without_allocating() {
    let mut dec = RequestDecoder::default();
    let mut buf = BytesMut::from(&b"*2147483647\r\n$1\r\na\r\n"[..]);
    assert_eq!(dec.decode(&mut buf), Ok(None));
    let mut buf = BytesMut::from(&b"*1\r\n$536870912\r\nabc"[..]);
    let mut dec = RequestDecoder::default();
    assert_eq!(dec.decode(&mut buf), Ok(None));
    assert!(buf.capacity() < 1024);
}

#[test]
fn error_too_big_mbulk_count_string() {
    let mut input = vec![b'*'];
    input.resize(64 * 1024, b'1');
    let mut dec = RequestDecoder::default();
    assert_eq!(decode_all(&mut dec, &input), (vec![], None));
    input.push(b'1');
    assert_eq!(
        error_of(&input),
        "Protocol error: too big mbulk count string"
    );
}

#[test]
fn error_invalid_multibulk_length() {
    for input in [
        &b"*abc\r\n"[..],
        b"*2147483648\r\n",
        b"*+1\r\n",
        b"*01\r\n",
        b"* 1\r\n",
        b"*\r\n",
        b"*1\n$1\r\n",
        b"*99999999999999999999999\r\n",
    ] {
        assert_eq!(error_of(input), "Protocol error: invalid multibulk length");
    }
}

#[test]
fn error_expected_dollar() {
    assert_eq!(
        error_of(b"*1\r\n+foo\r\n"),
        "Protocol error: expected '$', got '+'"
    );
    assert_eq!(
        error_of(b"*2\r\n$1\r\na\r\n:1\r\n"),
        "Protocol error: expected '$', got ':'"
    );
    // Newlines in the message become spaces, as Redis' error formatter does.
    assert_eq!(
        error_of(b"*1\r\n\r\n"),
        "Protocol error: expected '$', got ' '"
    );
    let mut dec = RequestDecoder::default();
    let err = decode_all(&mut dec, b"*1\r\nx\r\n").1.expect("error");
    assert_eq!(err.kind(), ProtocolErrorKind::ExpectedDollar);
}

#[test]
fn error_too_big_bulk_count_string() {
    let mut input = b"*1\r\n$".to_vec();
    input.resize(4 + 64 * 1024, b'1');
    let mut dec = RequestDecoder::default();
    assert_eq!(decode_all(&mut dec, &input), (vec![], None));
    input.push(b'1');
    assert_eq!(
        error_of(&input),
        "Protocol error: too big bulk count string"
    );
}

#[test]
fn error_invalid_bulk_length() {
    for input in [
        &b"*1\r\n$-1\r\n"[..],
        b"*1\r\n$abc\r\n",
        b"*1\r\n$+3\r\n",
        b"*1\r\n$03\r\n",
        b"*1\r\n$\r\n",
        b"*1\r\n$536870913\r\n",
        b"*1\r\n$9223372036854775808\r\n",
    ] {
        assert_eq!(error_of(input), "Protocol error: invalid bulk length");
    }
}

#[test]
fn max_bulk_len_is_configurable() {
    let mut dec = RequestDecoder::new(10);
    let (cmds, err) = decode_all(&mut dec, b"*1\r\n$10\r\n0123456789\r\n");
    assert_eq!((cmds.len(), err), (1, None));
    let (_, err) = decode_all(&mut dec, b"*1\r\n$11\r\n");
    assert_eq!(
        err.expect("error").message(),
        "Protocol error: invalid bulk length"
    );

    let mut dec = RequestDecoder::new(1);
    dec.set_max_bulk_len(DEFAULT_MAX_BULK_LEN);
    let (cmds, err) = decode_all(&mut dec, b"*1\r\n$2\r\nab\r\n");
    assert_eq!((cmds.len(), err), (1, None));
}

#[test]
fn error_too_big_inline_request() {
    let input = vec![b'a'; 64 * 1024];
    let mut dec = RequestDecoder::default();
    assert_eq!(decode_all(&mut dec, &input), (vec![], None));
    let input = vec![b'a'; 64 * 1024 + 1];
    assert_eq!(error_of(&input), "Protocol error: too big inline request");
}

#[test]
fn error_unbalanced_quotes() {
    for input in [
        &b"SET \"foo\r\n"[..],
        b"SET 'foo\n",
        b"SET \"foo\"bar\r\n",
        b"SET 'foo'bar\r\n",
        b"SET \"foo\\\n",
    ] {
        assert_eq!(
            error_of(input),
            "Protocol error: unbalanced quotes in request"
        );
    }
}

#[test]
fn errors_are_sticky() {
    let mut dec = RequestDecoder::default();
    let mut buf = BytesMut::from(&b"*x\r\n"[..]);
    let first = dec.decode(&mut buf).expect_err("invalid");
    let mut fresh = BytesMut::from(&b"*1\r\n$1\r\na\r\n"[..]);
    assert_eq!(dec.decode(&mut fresh), Err(first.clone()));
    assert_eq!(
        first.to_string(),
        "Protocol error: invalid multibulk length"
    );
    assert_eq!(
        first.to_frame(),
        ferrokv_protocol::Frame::error("ERR Protocol error: invalid multibulk length")
    );
}

#[test]
fn unauthenticated_limits() {
    let mut dec = RequestDecoder::default();
    dec.set_auth_required(true);
    let (cmds, err) = decode_all(&mut dec, b"*2\r\n$4\r\nAUTH\r\n$16384\r\n");
    assert_eq!((cmds.len(), err), (0, None));

    let mut dec = RequestDecoder::default();
    dec.set_auth_required(true);
    let (_, err) = decode_all(&mut dec, b"*11\r\n");
    assert_eq!(
        err.expect("error").message(),
        "Protocol error: unauthenticated multibulk length"
    );

    let mut dec = RequestDecoder::default();
    dec.set_auth_required(true);
    let (_, err) = decode_all(&mut dec, b"*1\r\n$16385\r\n");
    assert_eq!(
        err.expect("error").message(),
        "Protocol error: unauthenticated bulk length"
    );
}

#[test]
fn inline_commands() {
    let mut dec = RequestDecoder::default();
    let (cmds, err) = decode_all(
        &mut dec,
        b"PING\r\n  set  a   b \r\n\r\n\n   \r\nECHO \"x y\"\nGET k",
    );
    assert_eq!(err, None);
    assert_eq!(
        cmds,
        vec![
            argv(&["PING"]),
            argv(&["set", "a", "b"]),
            argv(&["ECHO", "x y"])
        ]
    );
}

#[test]
fn inline_and_multibulk_mix() {
    let mut dec = RequestDecoder::default();
    let (cmds, err) = decode_all(&mut dec, b"PING\r\n*1\r\n$4\r\nPING\r\nPING\n");
    assert_eq!(err, None);
    assert_eq!(cmds, vec![argv(&["PING"]); 3]);
}

fn split(s: &[u8]) -> Option<Vec<Vec<u8>>> {
    split_args(s)
}

fn v(items: &[&[u8]]) -> Option<Vec<Vec<u8>>> {
    Some(items.iter().map(|s| s.to_vec()).collect())
}

#[test]
fn split_args_follows_sdssplitargs() {
    assert_eq!(split(b""), v(&[]));
    assert_eq!(split(b"   \t "), v(&[]));
    assert_eq!(split(b"a b  c"), v(&[b"a", b"b", b"c"]));
    assert_eq!(split(b"\"\""), v(&[b""]));
    assert_eq!(split(b"''"), v(&[b""]));
    assert_eq!(split(b"\"foo bar\" baz"), v(&[b"foo bar", b"baz"]));
    assert_eq!(
        split(b"\"\\n\\r\\t\\b\\a\\\\\\\"\\q\""),
        v(&[b"\n\r\t\x08\x07\\\"q"])
    );
    assert_eq!(split(b"\"\\x41\\x4a\\x4A\\xzz\\x4\""), v(&[b"AJJxzzx4"]));
    assert_eq!(split(b"'a\\'b\\nc'"), v(&[b"a'b\\nc"]));
    assert_eq!(split(b"foo\"bar baz\""), v(&[b"foobar baz"]));
    assert_eq!(split(b"foo'bar'"), v(&[b"foobar"]));
    assert_eq!(split(b"\"a\"\tb"), v(&[b"a", b"b"]));
    // \v and \f separate arguments only between them, as with C's isspace.
    assert_eq!(split(b"\x0ba\x0cb"), v(&[b"a\x0cb"]));
    assert_eq!(split(b"\"a\"\x0bb"), v(&[b"a", b"b"]));
    // A NUL ends the C string.
    assert_eq!(split(b"a\0b c"), v(&[b"a"]));
    assert_eq!(split(b"\"foo"), None);
    assert_eq!(split(b"'foo"), None);
    assert_eq!(split(b"\"foo\"bar"), None);
    assert_eq!(split(b"'foo'bar"), None);
    assert_eq!(split(b"\"foo\\"), None);
    assert_eq!(split(b"'foo\\'"), None);
}
