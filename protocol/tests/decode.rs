use bytes::{Bytes, BytesMut};
use ferrokv_protocol::{
    decode_frame, encode, Frame, FrameDecoder, ProtocolErrorKind, RespVersion, MAX_FRAME_DEPTH,
};

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

/// Decodes `input` whole, checking every strict prefix is reported incomplete without
/// consuming anything.
fn decode_whole(input: &[u8]) -> Frame {
    for cut in 0..input.len() {
        let mut buf = BytesMut::from(&input[..cut]);
        assert_eq!(decode_frame(&mut buf), Ok(None), "prefix of {cut} bytes");
        assert_eq!(buf.len(), cut, "prefix consumed");
    }
    let mut buf = BytesMut::from(input);
    let frame = decode_frame(&mut buf).expect("valid").expect("complete");
    assert!(buf.is_empty(), "left over: {:?}", buf);
    frame
}

fn error_of(input: &[u8]) -> (ProtocolErrorKind, String) {
    let mut buf = BytesMut::from(input);
    let err = decode_frame(&mut buf).expect_err("invalid");
    (err.kind(), err.message().to_owned())
}

#[test]
fn every_type() {
    let cases: Vec<(&[u8], Frame)> = vec![
        (b"+OK\r\n", Frame::ok()),
        (b"-ERR oops\r\n", Frame::error("ERR oops")),
        (b"!9\r\nERR oops\n\r\n", Frame::error("ERR oops\n")),
        (b":-12\r\n", Frame::Integer(-12)),
        (b"$3\r\na\rb\r\n", Frame::bulk("a\rb")),
        (b"$0\r\n\r\n", Frame::bulk("")),
        (b"$-1\r\n", Frame::Null),
        (b"*-1\r\n", Frame::NullArray),
        (b"_\r\n", Frame::Null),
        (b",1.5\r\n", Frame::Double(1.5)),
        (b",-1.0000000000000001e-05\r\n", Frame::Double(-1e-5)),
        (b",inf\r\n", Frame::Double(f64::INFINITY)),
        (b",-inf\r\n", Frame::Double(f64::NEG_INFINITY)),
        (b"#t\r\n", Frame::Boolean(true)),
        (b"#f\r\n", Frame::Boolean(false)),
        (
            b"(-123456789012345678901234567890\r\n",
            Frame::BigNumber(b("-123456789012345678901234567890")),
        ),
        (
            b"=15\r\ntxt:Some string\r\n",
            Frame::Verbatim {
                format: *b"txt",
                text: b("Some string"),
            },
        ),
        (b"*0\r\n", Frame::Array(vec![])),
        (
            b"*2\r\n:1\r\n*1\r\n+x\r\n",
            Frame::Array(vec![
                Frame::Integer(1),
                Frame::Array(vec![Frame::simple("x")]),
            ]),
        ),
        (
            b"%1\r\n+k\r\n~2\r\n:1\r\n:2\r\n",
            Frame::Map(vec![(
                Frame::simple("k"),
                Frame::Set(vec![Frame::Integer(1), Frame::Integer(2)]),
            )]),
        ),
        (
            b">2\r\n+message\r\n$2\r\nhi\r\n",
            Frame::Push(vec![Frame::simple("message"), Frame::bulk("hi")]),
        ),
        (
            b"|1\r\n+ttl\r\n:3\r\n*1\r\n|0\r\n:1\r\n",
            Frame::Attribute(
                vec![(Frame::simple("ttl"), Frame::Integer(3))],
                Box::new(Frame::Array(vec![Frame::Attribute(
                    vec![],
                    Box::new(Frame::Integer(1)),
                )])),
            ),
        ),
    ];
    for (input, want) in cases {
        assert_eq!(
            decode_whole(input),
            want,
            "{:?}",
            String::from_utf8_lossy(input)
        );
    }
    let nan = decode_whole(b",nan\r\n");
    assert!(matches!(nan, Frame::Double(d) if d.is_nan()));
}

#[test]
fn frames_are_taken_one_at_a_time() {
    let mut buf = BytesMut::from(&b"+a\r\n:1\r\n$1\r\n"[..]);
    assert_eq!(decode_frame(&mut buf), Ok(Some(Frame::simple("a"))));
    assert_eq!(decode_frame(&mut buf), Ok(Some(Frame::Integer(1))));
    assert_eq!(decode_frame(&mut buf), Ok(None));
    assert_eq!(&buf[..], b"$1\r\n");
}

#[test]
fn incremental_decoder_across_reads() {
    let frame = Frame::Array((0..10_000).map(|i| Frame::bulk(format!("v{i}"))).collect());
    let mut wire = BytesMut::new();
    encode(&frame, RespVersion::Resp3, &mut wire);
    encode(&Frame::ok(), RespVersion::Resp3, &mut wire);
    let mut dec = FrameDecoder::new();
    let mut buf = BytesMut::new();
    let mut got = Vec::new();
    for chunk in wire.chunks(997) {
        buf.extend_from_slice(chunk);
        while let Some(f) = dec.decode(&mut buf).expect("valid") {
            got.push(f);
        }
    }
    assert_eq!(got, vec![frame, Frame::ok()]);
    assert!(buf.is_empty());
}

#[test]
fn huge_declared_lengths_wait_without_allocating() {
    for input in [
        &b"*9223372036854775807\r\n:1\r\n"[..],
        b"%9223372036854775807\r\n",
        b"|9223372036854775807\r\n",
        b"$9223372036854775807\r\nabc",
        b"=9223372036854775807\r\ntxt:",
    ] {
        let mut buf = BytesMut::from(input);
        assert_eq!(decode_frame(&mut buf), Ok(None));
        assert_eq!(buf.len(), input.len());
    }
}

#[test]
fn depth_limit() {
    let nested = |depth: usize| {
        let mut v = b"*1\r\n".repeat(depth);
        v.extend_from_slice(b":1\r\n");
        v
    };
    let mut buf = BytesMut::from(&nested(MAX_FRAME_DEPTH)[..]);
    assert!(matches!(decode_frame(&mut buf), Ok(Some(Frame::Array(_)))));
    let (kind, _) = error_of(&nested(MAX_FRAME_DEPTH + 1));
    assert_eq!(kind, ProtocolErrorKind::TooDeep);
    // Detected before the innermost frame arrives.
    let (kind, _) = error_of(&b"*1\r\n".repeat(MAX_FRAME_DEPTH + 1));
    assert_eq!(kind, ProtocolErrorKind::TooDeep);
}

#[test]
fn invalid_frames() {
    let cases: &[(&[u8], &str)] = &[
        (b"?\r\n", "Protocol error: invalid frame type byte '?'"),
        (
            b"\x00\r\n",
            "Protocol error: invalid frame type byte '\\x00'",
        ),
        (b"+OK\rX", "Protocol error: expected CRLF"),
        (b":abc\r\n", "Protocol error: invalid integer"),
        (b":\r\n", "Protocol error: invalid integer"),
        (b"_x\r\n", "Protocol error: invalid null"),
        (b",abc\r\n", "Protocol error: invalid double"),
        (b",\r\n", "Protocol error: invalid double"),
        (b"#x\r\n", "Protocol error: invalid boolean"),
        (b"(12a\r\n", "Protocol error: invalid big number"),
        (b"(\r\n", "Protocol error: invalid big number"),
        (b"$-2\r\n", "Protocol error: invalid bulk length"),
        (b"$x\r\n", "Protocol error: invalid bulk length"),
        (b"!-1\r\n", "Protocol error: invalid bulk length"),
        (
            b"$1\r\nabc\r\n",
            "Protocol error: bulk string not followed by CRLF",
        ),
        (b"=3\r\ntxt\r\n", "Protocol error: invalid verbatim string"),
        (b"=4\r\ntxt-\r\n", "Protocol error: invalid verbatim string"),
        (b"*-2\r\n", "Protocol error: invalid aggregate length"),
        (b"%-1\r\n", "Protocol error: invalid aggregate length"),
        (b"~x\r\n", "Protocol error: invalid aggregate length"),
        (
            b"*1\r\n?\r\n",
            "Protocol error: invalid frame type byte '?'",
        ),
    ];
    for &(input, message) in cases {
        assert_eq!(
            error_of(input),
            (ProtocolErrorKind::InvalidFrame, message.to_owned()),
            "{:?}",
            String::from_utf8_lossy(input)
        );
    }
    let mut long = b":".to_vec();
    long.resize(64 * 1024 + 2, b'1');
    assert_eq!(error_of(&long).1, "Protocol error: too big header line");
}
