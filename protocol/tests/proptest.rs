use bytes::{Bytes, BytesMut};
use ferrokv_protocol::{
    decode_frame, encode, format_double_g17, split_args, Frame, FrameDecoder, RequestDecoder,
    RespVersion,
};
use proptest::prelude::*;
use proptest::sample::Index;

fn line_text() -> impl Strategy<Value = Bytes> {
    "[^\r\n]{0,16}".prop_map(Bytes::from)
}

fn leaf() -> impl Strategy<Value = Frame> {
    prop_oneof![
        line_text().prop_map(Frame::Simple),
        line_text().prop_map(Frame::Error),
        any::<i64>().prop_map(Frame::Integer),
        prop::collection::vec(any::<u8>(), 0..32).prop_map(|v| Frame::Bulk(v.into())),
        Just(Frame::Null),
        any::<f64>()
            .prop_filter("finite", |d| d.is_finite())
            .prop_map(Frame::Double),
        any::<bool>().prop_map(Frame::Boolean),
        "-?[0-9]{1,40}".prop_map(|s| Frame::BigNumber(s.into())),
        (any::<[u8; 3]>(), prop::collection::vec(any::<u8>(), 0..16)).prop_map(|(format, t)| {
            Frame::Verbatim {
                format,
                text: t.into(),
            }
        }),
    ]
}

fn frame() -> impl Strategy<Value = Frame> {
    leaf().prop_recursive(4, 64, 6, |inner| {
        let pairs = prop::collection::vec((inner.clone(), inner.clone()), 0..4);
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Frame::Array),
            pairs.clone().prop_map(Frame::Map),
            prop::collection::vec(inner.clone(), 0..6).prop_map(Frame::Set),
            prop::collection::vec(inner.clone(), 0..6).prop_map(Frame::Push),
            (pairs, inner).prop_map(|(p, i)| Frame::Attribute(p, Box::new(i))),
        ]
    })
}

/// What a RESP2 client sees for `frame`: Redis 7.0's downgrades, decoded back.
fn as_resp2(frame: &Frame) -> Frame {
    let list = |items: &[Frame]| Frame::Array(items.iter().map(as_resp2).collect());
    match frame {
        Frame::Map(pairs) => Frame::Array(
            pairs
                .iter()
                .flat_map(|(k, v)| [as_resp2(k), as_resp2(v)])
                .collect(),
        ),
        Frame::Array(items) | Frame::Set(items) | Frame::Push(items) => list(items),
        Frame::Double(d) => Frame::Bulk(format_double_g17(*d).into()),
        Frame::Boolean(b) => Frame::Integer(i64::from(*b)),
        Frame::BigNumber(digits) => Frame::Bulk(digits.clone()),
        Frame::Verbatim { text, .. } => Frame::Bulk(text.clone()),
        Frame::Attribute(_, inner) => as_resp2(inner),
        other => other.clone(),
    }
}

/// Sorted cut points inside a buffer of `len` bytes.
fn cuts(len: usize, picks: &[Index]) -> Vec<usize> {
    let mut cuts: Vec<usize> = picks.iter().map(|i| i.index(len + 1)).collect();
    cuts.push(len);
    cuts.sort_unstable();
    cuts
}

#[derive(Debug, Clone)]
enum Command {
    Multibulk(Vec<Vec<u8>>),
    Inline(Vec<Vec<u8>>),
}

fn command() -> impl Strategy<Value = Command> {
    let arg = prop_oneof![
        4 => prop::collection::vec(any::<u8>(), 0..24),
        1 => prop::collection::vec(any::<u8>(), 0..3000),
    ];
    prop_oneof![
        4 => prop::collection::vec(arg, 0..6).prop_map(Command::Multibulk),
        1 => prop::collection::vec("[a-zA-Z0-9]{1,8}".prop_map(String::into_bytes), 0..4)
            .prop_map(Command::Inline),
    ]
}

fn wire(cmd: &Command, out: &mut Vec<u8>) {
    match cmd {
        Command::Multibulk(args) => {
            out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
            for a in args {
                out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
                out.extend_from_slice(a);
                out.extend_from_slice(b"\r\n");
            }
        }
        Command::Inline(args) => {
            out.extend_from_slice(&args.join(&b' '));
            out.extend_from_slice(b"\r\n");
        }
    }
}

/// Quotes `arg` so `split_args` yields it back unchanged.
fn quote(arg: &[u8]) -> Vec<u8> {
    let mut out = vec![b'"'];
    for &c in arg {
        match c {
            b'"' | b'\\' => out.extend_from_slice(&[b'\\', c]),
            b' '..=b'~' => out.push(c),
            _ => out.extend_from_slice(format!("\\x{c:02x}").as_bytes()),
        }
    }
    out.push(b'"');
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn resp3_round_trip(f in frame(), picks in prop::collection::vec(any::<Index>(), 0..4)) {
        let mut wire = BytesMut::new();
        encode(&f, RespVersion::Resp3, &mut wire);
        prop_assert_eq!(decode_frame(&mut wire.clone()), Ok(Some(f.clone())));

        let bytes = wire.to_vec();
        let mut dec = FrameDecoder::new();
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        let mut at = 0;
        for cut in cuts(bytes.len(), &picks) {
            buf.extend_from_slice(&bytes[at..cut]);
            at = cut;
            while let Some(frame) = dec.decode(&mut buf).expect("valid") {
                got.push(frame);
            }
        }
        prop_assert_eq!(got, vec![f]);
        prop_assert!(buf.is_empty());
    }

    #[test]
    fn resp2_downgrade_decodes_as_redis_sends_it(f in frame()) {
        let mut wire = BytesMut::new();
        encode(&f, RespVersion::Resp2, &mut wire);
        prop_assert_eq!(decode_frame(&mut wire), Ok(Some(as_resp2(&f))));
        prop_assert!(wire.is_empty());
    }

    #[test]
    fn requests_survive_arbitrary_read_boundaries(
        cmds in prop::collection::vec(command(), 0..12),
        picks in prop::collection::vec(any::<Index>(), 0..12),
    ) {
        let mut bytes = Vec::new();
        for c in &cmds {
            wire(c, &mut bytes);
        }
        let expected: Vec<Vec<Bytes>> = cmds
            .iter()
            .map(|c| match c {
                Command::Multibulk(a) | Command::Inline(a) => {
                    a.iter().map(|x| Bytes::copy_from_slice(x)).collect::<Vec<_>>()
                }
            })
            .filter(|a| !a.is_empty())
            .collect();

        let mut dec = RequestDecoder::default();
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        let mut at = 0;
        for cut in cuts(bytes.len(), &picks) {
            buf.extend_from_slice(&bytes[at..cut]);
            at = cut;
            while let Some(argv) = dec.decode(&mut buf).expect("valid") {
                got.push(argv);
            }
        }
        prop_assert_eq!(got, expected);
        prop_assert!(buf.is_empty());
    }

    #[test]
    fn split_args_reads_back_quoted_args(
        args in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..12), 0..6),
        sep in "[ \t]{1,3}",
    ) {
        let line: Vec<u8> = args
            .iter()
            .map(|a| quote(a))
            .collect::<Vec<_>>()
            .join(sep.as_bytes());
        prop_assert_eq!(split_args(&line), Some(args));
    }

    #[test]
    fn random_bytes_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..512),
        picks in prop::collection::vec(any::<Index>(), 0..8),
    ) {
        feed_both(&bytes, &picks);
    }

    #[test]
    fn protocol_shaped_garbage_never_panics(
        bytes in prop::collection::vec(
            prop::sample::select(b"*$+-:_,#(=%~>|!\r\n\r\n0123456789-1 \"'\\xtf".to_vec()),
            0..256,
        ),
        picks in prop::collection::vec(any::<Index>(), 0..8),
    ) {
        feed_both(&bytes, &picks);
    }
}

/// Feeds `bytes` in chunks to both decoders until they finish or fail.
fn feed_both(bytes: &[u8], picks: &[Index]) {
    let mut requests = RequestDecoder::new(1 << 20);
    let mut frames = FrameDecoder::new();
    let mut req_buf = BytesMut::new();
    let mut frame_buf = BytesMut::new();
    let (mut req_ok, mut frame_ok) = (true, true);
    let mut at = 0;
    for cut in cuts(bytes.len(), picks) {
        req_buf.extend_from_slice(&bytes[at..cut]);
        frame_buf.extend_from_slice(&bytes[at..cut]);
        at = cut;
        while req_ok {
            match requests.decode(&mut req_buf) {
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(_) => req_ok = false,
            }
        }
        while frame_ok {
            match frames.decode(&mut frame_buf) {
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(_) => frame_ok = false,
            }
        }
    }
    let _ = split_args(bytes);
    let _ = decode_frame(&mut BytesMut::from(bytes));
}
