use bytes::{Bytes, BytesMut};
use ferrokv_protocol::{encode, format_double_g17, Frame, RespVersion};

fn enc(frame: &Frame, version: RespVersion) -> String {
    let mut out = BytesMut::new();
    encode(frame, version, &mut out);
    String::from_utf8(out.to_vec()).expect("utf8 in tests")
}

fn both(frame: Frame, resp2: &str, resp3: &str) {
    assert_eq!(enc(&frame, RespVersion::Resp2), resp2, "RESP2 of {frame:?}");
    assert_eq!(enc(&frame, RespVersion::Resp3), resp3, "RESP3 of {frame:?}");
}

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

#[test]
fn simple_error_integer_bulk() {
    both(Frame::ok(), "+OK\r\n", "+OK\r\n");
    both(
        Frame::error("ERR unknown command"),
        "-ERR unknown command\r\n",
        "-ERR unknown command\r\n",
    );
    both(Frame::Integer(0), ":0\r\n", ":0\r\n");
    both(Frame::Integer(-42), ":-42\r\n", ":-42\r\n");
    both(
        Frame::Integer(i64::MIN),
        ":-9223372036854775808\r\n",
        ":-9223372036854775808\r\n",
    );
    both(
        Frame::Integer(i64::MAX),
        ":9223372036854775807\r\n",
        ":9223372036854775807\r\n",
    );
    both(Frame::bulk("hello"), "$5\r\nhello\r\n", "$5\r\nhello\r\n");
    both(Frame::bulk(""), "$0\r\n\r\n", "$0\r\n\r\n");
    both(
        Frame::bulk("a\r\nb"),
        "$4\r\na\r\nb\r\n",
        "$4\r\na\r\nb\r\n",
    );
}

#[test]
fn newlines_in_line_frames_become_spaces() {
    both(
        Frame::error("ERR bad\r\nthing\n"),
        "-ERR bad  thing \r\n",
        "-ERR bad  thing \r\n",
    );
    both(Frame::Simple(b("a\rb")), "+a b\r\n", "+a b\r\n");
}

#[test]
fn nulls() {
    both(Frame::Null, "$-1\r\n", "_\r\n");
    both(Frame::NullArray, "*-1\r\n", "_\r\n");
}

#[test]
fn aggregates() {
    both(Frame::Array(vec![]), "*0\r\n", "*0\r\n");
    both(
        Frame::Array(vec![Frame::Integer(1), Frame::Null, Frame::bulk("x")]),
        "*3\r\n:1\r\n$-1\r\n$1\r\nx\r\n",
        "*3\r\n:1\r\n_\r\n$1\r\nx\r\n",
    );
    both(
        Frame::Map(vec![
            (Frame::bulk("a"), Frame::Integer(1)),
            (Frame::bulk("b"), Frame::Boolean(true)),
        ]),
        "*4\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n:1\r\n",
        "%2\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n#t\r\n",
    );
    both(
        Frame::Set(vec![Frame::bulk("m")]),
        "*1\r\n$1\r\nm\r\n",
        "~1\r\n$1\r\nm\r\n",
    );
    both(
        Frame::Push(vec![Frame::bulk("message"), Frame::bulk("ch")]),
        "*2\r\n$7\r\nmessage\r\n$2\r\nch\r\n",
        ">2\r\n$7\r\nmessage\r\n$2\r\nch\r\n",
    );
    both(
        Frame::Map(vec![(
            Frame::bulk("m"),
            Frame::Map(vec![(Frame::bulk("k"), Frame::Double(1.5))]),
        )]),
        "*2\r\n$1\r\nm\r\n*2\r\n$1\r\nk\r\n$3\r\n1.5\r\n",
        "%1\r\n$1\r\nm\r\n%1\r\n$1\r\nk\r\n,1.5\r\n",
    );
}

#[test]
fn scalars_of_resp3() {
    both(Frame::Boolean(true), ":1\r\n", "#t\r\n");
    both(Frame::Boolean(false), ":0\r\n", "#f\r\n");
    both(
        Frame::BigNumber(b("-3492890328409238509324850943850943825024385")),
        "$44\r\n-3492890328409238509324850943850943825024385\r\n",
        "(-3492890328409238509324850943850943825024385\r\n",
    );
    both(
        Frame::Verbatim {
            format: *b"txt",
            text: b("Some string"),
        },
        "$11\r\nSome string\r\n",
        "=15\r\ntxt:Some string\r\n",
    );
    both(
        Frame::Attribute(
            vec![(Frame::bulk("ttl"), Frame::Integer(3))],
            Box::new(Frame::bulk("v")),
        ),
        "$1\r\nv\r\n",
        "|1\r\n$3\r\nttl\r\n:3\r\n$1\r\nv\r\n",
    );
}

#[test]
fn doubles() {
    both(
        Frame::Double(1.1),
        "$18\r\n1.1000000000000001\r\n",
        ",1.1000000000000001\r\n",
    );
    both(Frame::Double(3.0), "$1\r\n3\r\n", ",3\r\n");
    both(Frame::Double(-2.5), "$4\r\n-2.5\r\n", ",-2.5\r\n");
    both(Frame::Double(f64::INFINITY), "$3\r\ninf\r\n", ",inf\r\n");
    both(
        Frame::Double(f64::NEG_INFINITY),
        "$4\r\n-inf\r\n",
        ",-inf\r\n",
    );
    both(Frame::Double(f64::NAN), "$3\r\nnan\r\n", ",nan\r\n");
    both(Frame::Double(-0.0), "$2\r\n-0\r\n", ",-0\r\n");
    both(
        Frame::Double(1e300),
        "$23\r\n1.0000000000000001e+300\r\n",
        ",1.0000000000000001e+300\r\n",
    );
    both(Frame::Double(1e22), "$5\r\n1e+22\r\n", ",1e+22\r\n");
    // Digits chosen by the server (GEOPOS' human long doubles) are sent as given.
    both(
        Frame::DoubleText(Bytes::from_static(b"13.36138933897018433")),
        "$20\r\n13.36138933897018433\r\n",
        ",13.36138933897018433\r\n",
    );
}

#[test]
fn format_double_g17_matches_printf() {
    let cases: &[(f64, &str)] = &[
        (0.0, "0"),
        (-0.0, "-0"),
        (1.0, "1"),
        (3.0, "3"),
        (1.1, "1.1000000000000001"),
        (0.1, "0.10000000000000001"),
        (1.5, "1.5"),
        (100.0, "100"),
        (1e16, "10000000000000000"),
        (1e17, "1e+17"),
        (1e20, "1e+20"),
        (123456789.0, "123456789"),
        (0.0001, "0.0001"),
        (0.00012345, "0.00012344999999999999"),
        (1e-5, "1.0000000000000001e-05"),
        (5e-324, "4.9406564584124654e-324"),
        (f64::MAX, "1.7976931348623157e+308"),
        (f64::MIN_POSITIVE, "2.2250738585072014e-308"),
        (123456789012345678.0, "1.2345678901234568e+17"),
        // Exact ties at the 17th digit round half to even, as glibc does.
        (1_234_567_890_123_456.0 + 0.25, "1234567890123456.2"),
        (1_234_567_890_123_456.0 + 0.75, "1234567890123456.8"),
        (-1172.688, "-1172.6880000000001"),
        (f64::INFINITY, "inf"),
        (f64::NEG_INFINITY, "-inf"),
        (f64::NAN, "nan"),
        (-f64::NAN, "-nan"),
    ];
    for &(d, want) in cases {
        assert_eq!(format_double_g17(d), want, "{d:e}");
    }
}

#[test]
fn encoding_appends() {
    let mut out = BytesMut::from(&b"+PREFIX\r\n"[..]);
    encode(&Frame::Integer(7), RespVersion::Resp2, &mut out);
    assert_eq!(&out[..], b"+PREFIX\r\n:7\r\n");
}
