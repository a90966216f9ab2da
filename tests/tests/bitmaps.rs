//! Bitmap commands: SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD BITFIELD_RO.

use ferrokv_tests::*;

fn bad_offset() -> Frame {
    err("ERR bit offset is not an integer or out of range")
}

fn bad_type() -> Frame {
    err("ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.")
}

backend_tests! {
    async fn setbit_getbit(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["SETBIT", "b", "7", "1"]).await, int(0));
        assert_eq!(c.send(&["SETBIT", "b", "7", "1"]).await, int(1));
        assert_eq!(c.send(&["GET", "b"]).await, bulk(b"\x01"));
        assert_eq!(c.send(&["SETBIT", "b", "0", "1"]).await, int(0));
        assert_eq!(c.send(&["GET", "b"]).await, bulk(b"\x81"));
        assert_eq!(c.send(&["SETBIT", "b", "7", "0"]).await, int(1));
        assert_eq!(c.send(&["GETBIT", "b", "7"]).await, int(0));
        assert_eq!(c.send(&["GETBIT", "b", "0"]).await, int(1));
        assert_eq!(c.send(&["GETBIT", "b", "100"]).await, int(0));
        assert_eq!(c.send(&["GETBIT", "missing", "0"]).await, int(0));
        // Growing pads with zero bytes.
        assert_eq!(c.send(&["SETBIT", "g", "23", "1"]).await, int(0));
        assert_eq!(c.send(&["GET", "g"]).await, bulk(b"\x00\x00\x01"));
        assert_eq!(c.send(&["STRLEN", "g"]).await, int(3));
        // Works on existing strings.
        c.send(&["SET", "s", "A"]).await; // 0100_0001
        assert_eq!(c.send(&["GETBIT", "s", "1"]).await, int(1));
        assert_eq!(c.send(&["SETBIT", "s", "6", "1"]).await, int(0));
        assert_eq!(c.send(&["GET", "s"]).await, bulk("C"));
        // The largest offset. Writing it makes a 512 MB value, which the disk backend
        // has to push through RocksDB (many seconds): that part runs on memory only.
        assert_eq!(c.send(&["GETBIT", "big", "4294967295"]).await, int(0));
        if server.backend == Backend::Memory {
            assert_eq!(c.send(&["SETBIT", "big", "4294967295", "0"]).await, int(0));
            assert_eq!(c.send(&["STRLEN", "big"]).await, int(512 * 1024 * 1024));
            assert_eq!(c.send(&["DEL", "big"]).await, int(1));
        }
    }

    async fn setbit_getbit_errors(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["SETBIT", "b", "0", "2"]).await, err("ERR bit is not an integer or out of range"));
        assert_eq!(c.send(&["SETBIT", "b", "0", "-1"]).await, err("ERR bit is not an integer or out of range"));
        assert_eq!(c.send(&["SETBIT", "b", "0", "x"]).await, err("ERR bit is not an integer or out of range"));
        assert_eq!(c.send(&["SETBIT", "b", "-1", "1"]).await, bad_offset());
        assert_eq!(c.send(&["SETBIT", "b", "4294967296", "1"]).await, bad_offset());
        assert_eq!(c.send(&["SETBIT", "b", "abc", "1"]).await, bad_offset());
        assert_eq!(c.send(&["GETBIT", "b", "-1"]).await, bad_offset());
        assert_eq!(c.send(&["GETBIT", "b", "abc"]).await, bad_offset());
        assert_eq!(c.send(&["EXISTS", "b"]).await, int(0));
        assert_eq!(c.send(&["SETBIT", "b", "1"]).await, wrong_args("setbit"));
        assert_eq!(c.send(&["GETBIT", "b"]).await, wrong_args("getbit"));
    }

    async fn bitcount(server: &TestServer) {
        let mut c = server.raw().await;
        c.send(&["SET", "s", "foobar"]).await;
        assert_eq!(c.send(&["BITCOUNT", "s"]).await, int(26));
        assert_eq!(c.send(&["BITCOUNT", "s", "0", "0"]).await, int(4));
        assert_eq!(c.send(&["BITCOUNT", "s", "1", "1"]).await, int(6));
        assert_eq!(c.send(&["BITCOUNT", "s", "1", "1", "BYTE"]).await, int(6));
        assert_eq!(c.send(&["BITCOUNT", "s", "5", "30", "BIT"]).await, int(17));
        assert_eq!(c.send(&["BITCOUNT", "s", "0", "-1", "bit"]).await, int(26));
        assert_eq!(c.send(&["BITCOUNT", "s", "-2", "-1"]).await, int(7));
        assert_eq!(c.send(&["BITCOUNT", "s", "-100", "100"]).await, int(26));
        assert_eq!(c.send(&["BITCOUNT", "s", "3", "1"]).await, int(0));
        assert_eq!(c.send(&["BITCOUNT", "s", "100", "200"]).await, int(0));
        assert_eq!(c.send(&["BITCOUNT", "missing"]).await, int(0));
        assert_eq!(c.send(&["BITCOUNT", "missing", "0", "1", "BIT"]).await, int(0));
        assert_eq!(c.send(&["BITCOUNT", "s", "0"]).await, syntax_error());
        assert_eq!(c.send(&["BITCOUNT", "s", "0", "1", "FOO"]).await, syntax_error());
        assert_eq!(c.send(&["BITCOUNT", "s", "0", "1", "BIT", "x"]).await, syntax_error());
        assert_eq!(c.send(&["BITCOUNT", "s", "a", "b"]).await, not_integer());
        assert_eq!(c.send(&["BITCOUNT"]).await, wrong_args("bitcount"));
    }

    async fn bitpos(server: &TestServer) {
        let mut c = server.raw().await;
        c.send_bin(&[b"SET", b"a", b"\xff\xf0\x00"]).await;
        assert_eq!(c.send(&["BITPOS", "a", "0"]).await, int(12));
        c.send_bin(&[b"SET", b"b", b"\x00\xff\xf0"]).await;
        assert_eq!(c.send(&["BITPOS", "b", "1", "0"]).await, int(8));
        assert_eq!(c.send(&["BITPOS", "b", "1", "2"]).await, int(16));
        assert_eq!(c.send(&["BITPOS", "b", "1", "2", "-1", "BYTE"]).await, int(16));
        assert_eq!(c.send(&["BITPOS", "b", "1", "7", "15", "BIT"]).await, int(8));
        assert_eq!(c.send(&["BITPOS", "b", "0", "8", "-1", "bit"]).await, int(20));
        assert_eq!(c.send(&["BITPOS", "b", "1", "-1"]).await, int(16));
        c.send_bin(&[b"SET", b"z", b"\x00\x00\x00"]).await;
        assert_eq!(c.send(&["BITPOS", "z", "1"]).await, int(-1));
        assert_eq!(c.send(&["BITPOS", "z", "0"]).await, int(0));
        assert_eq!(c.send(&["BITPOS", "z", "1", "7", "-3", "BIT"]).await, int(-1));
        // All ones: without an explicit end the string counts as padded with zeros.
        c.send_bin(&[b"SET", b"f", b"\xff\xff\xff"]).await;
        assert_eq!(c.send(&["BITPOS", "f", "0"]).await, int(24));
        assert_eq!(c.send(&["BITPOS", "f", "0", "1"]).await, int(24));
        assert_eq!(c.send(&["BITPOS", "f", "0", "0", "-1"]).await, int(-1));
        assert_eq!(c.send(&["BITPOS", "f", "1", "5", "2"]).await, int(-1));
        assert_eq!(c.send(&["BITPOS", "missing", "0"]).await, int(0));
        assert_eq!(c.send(&["BITPOS", "missing", "1"]).await, int(-1));
        assert_eq!(c.send(&["BITPOS", "b", "2"]).await, err("ERR The bit argument must be 1 or 0."));
        assert_eq!(c.send(&["BITPOS", "b", "x"]).await, not_integer());
        assert_eq!(c.send(&["BITPOS", "b", "1", "abc"]).await, not_integer());
        assert_eq!(c.send(&["BITPOS", "b", "1", "0", "1", "FOO"]).await, syntax_error());
        assert_eq!(c.send(&["BITPOS", "b"]).await, wrong_args("bitpos"));
    }

    async fn bitop(server: &TestServer) {
        let mut c = server.raw().await;
        c.send(&["SET", "k1", "foobar"]).await;
        c.send(&["SET", "k2", "abcdef"]).await;
        assert_eq!(c.send(&["BITOP", "AND", "dest", "k1", "k2"]).await, int(6));
        assert_eq!(c.send(&["GET", "dest"]).await, bulk("`bc`ab"));
        assert_eq!(c.send(&["BITOP", "OR", "dest", "k1", "k2"]).await, int(6));
        assert_eq!(c.send(&["GET", "dest"]).await, bulk("goofev"));
        assert_eq!(c.send(&["BITOP", "XOR", "dest", "k1", "k2"]).await, int(6));
        assert_eq!(c.send(&["GET", "dest"]).await, bulk(b"\x07\x0d\x0c\x06\x04\x14"));
        assert_eq!(c.send(&["BITOP", "NOT", "dest", "k1"]).await, int(6));
        assert_eq!(c.send(&["GET", "dest"]).await, bulk(b"\x99\x90\x90\x9d\x9e\x8d"));
        // Shorter and missing sources count as zero bytes; the result is as long as the
        // longest source.
        c.send_bin(&[b"SET", b"short", b"\xff"]).await;
        assert_eq!(c.send(&["BITOP", "or", "dest", "short", "k1", "missing"]).await, int(6));
        assert_eq!(c.send(&["GET", "dest"]).await, bulk(b"\xffoobar"));
        assert_eq!(c.send(&["BITOP", "AND", "dest", "short", "k1"]).await, int(6));
        assert_eq!(c.send(&["GET", "dest"]).await, bulk(b"f\x00\x00\x00\x00\x00"));
        // The destination may be a source.
        assert_eq!(c.send(&["BITOP", "XOR", "k1", "k1", "k1"]).await, int(6));
        assert_eq!(c.send(&["GET", "k1"]).await, bulk(b"\x00\x00\x00\x00\x00\x00"));
        // An empty result deletes the destination.
        c.send(&["SET", "d2", "x", "EX", "100"]).await;
        assert_eq!(c.send(&["BITOP", "AND", "d2", "missing", "missing2"]).await, int(0));
        assert_eq!(c.send(&["EXISTS", "d2"]).await, int(0));
        assert_eq!(c.send(&["BITOP", "NOT", "d3", "missing"]).await, int(0));
        assert_eq!(c.send(&["EXISTS", "d3"]).await, int(0));
        // The result has no TTL.
        c.send(&["SET", "d4", "x", "EX", "100"]).await;
        c.send(&["BITOP", "OR", "d4", "k2"]).await;
        assert_eq!(c.send(&["TTL", "d4"]).await, int(-1));
        assert_eq!(c.send(&["BITOP", "FOO", "dest", "k1"]).await, syntax_error());
        assert_eq!(
            c.send(&["BITOP", "NOT", "dest", "k1", "k2"]).await,
            err("ERR BITOP NOT must be called with a single source key.")
        );
        assert_eq!(c.send(&["BITOP", "AND", "dest"]).await, wrong_args("bitop"));
        assert_eq!(c.send(&["BITOP", "AND"]).await, wrong_args("bitop"));
    }

    async fn bitfield_get_set_incrby(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["BITFIELD", "k", "INCRBY", "i5", "100", "1", "GET", "u4", "0"]).await, ints(&[1, 0]));
        assert_eq!(c.send(&["BITFIELD", "k"]).await, arr(vec![]));
        assert_eq!(c.send(&["BITFIELD", "m", "SET", "u8", "#1", "200"]).await, ints(&[0]));
        assert_eq!(c.send(&["BITFIELD", "m", "GET", "u8", "8", "GET", "u8", "#1"]).await, ints(&[200, 200]));
        assert_eq!(c.send(&["GET", "m"]).await, bulk(b"\x00\xc8"));
        assert_eq!(c.send(&["BITFIELD", "m", "SET", "i8", "0", "-128", "SET", "u8", "0", "255"]).await, ints(&[0, 128]));
        assert_eq!(c.send(&["BITFIELD", "m", "INCRBY", "u8", "0", "10"]).await, ints(&[9]), "wraps by default");
        assert_eq!(
            c.send(&["BITFIELD", "m", "SET", "i64", "0", "-1", "GET", "i64", "0", "GET", "u63", "0"]).await,
            ints(&[0x09c8_0000_0000_0000, -1, i64::MAX])
        );
        // Signed fields of odd widths.
        assert_eq!(c.send(&["BITFIELD", "s", "SET", "i3", "2", "-3", "GET", "i3", "2", "GET", "u3", "2"]).await, ints(&[0, -3, 5]));
        // Reading beyond the string is zero.
        assert_eq!(c.send(&["BITFIELD", "s", "GET", "u8", "4294967288"]).await, ints(&[0]));
        assert_eq!(c.send(&["BITFIELD", "missing", "GET", "i16", "0"]).await, ints(&[0]));
        assert_eq!(c.send(&["EXISTS", "missing"]).await, int(0));
    }

    async fn bitfield_overflow(server: &TestServer) {
        let mut c = server.raw().await;
        let step = ["BITFIELD", "k", "INCRBY", "u2", "100", "1", "OVERFLOW", "SAT", "INCRBY", "u2", "102", "1"];
        assert_eq!(c.send(&step).await, ints(&[1, 1]));
        assert_eq!(c.send(&step).await, ints(&[2, 2]));
        assert_eq!(c.send(&step).await, ints(&[3, 3]));
        assert_eq!(c.send(&step).await, ints(&[0, 3]));
        assert_eq!(c.send(&["BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "u2", "102", "1"]).await, arr(vec![nil()]));
        assert_eq!(c.send(&["BITFIELD", "k", "GET", "u2", "102"]).await, ints(&[3]), "FAIL leaves the value");
        // Signed saturation and wrap.
        c.send(&["DEL", "s"]).await;
        assert_eq!(c.send(&["BITFIELD", "s", "SET", "i8", "0", "100", "OVERFLOW", "SAT", "INCRBY", "i8", "0", "100"]).await, ints(&[0, 127]));
        assert_eq!(c.send(&["BITFIELD", "s", "OVERFLOW", "SAT", "INCRBY", "i8", "0", "-300"]).await, ints(&[-128]));
        assert_eq!(c.send(&["BITFIELD", "s", "OVERFLOW", "WRAP", "INCRBY", "i8", "0", "-1"]).await, ints(&[127]));
        assert_eq!(c.send(&["BITFIELD", "s", "OVERFLOW", "FAIL", "INCRBY", "i8", "0", "1", "GET", "i8", "0"]).await, arr(vec![nil(), int(127)]));
        // SET saturates too.
        assert_eq!(c.send(&["BITFIELD", "s", "OVERFLOW", "SAT", "SET", "u4", "0", "100", "GET", "u4", "0"]).await, ints(&[7, 15]));
        assert_eq!(c.send(&["BITFIELD", "s", "OVERFLOW", "FAIL", "SET", "u4", "0", "16", "GET", "u4", "0"]).await, arr(vec![nil(), int(15)]));
        assert_eq!(c.send(&["BITFIELD", "s", "SET", "u4", "0", "17", "GET", "u4", "0"]).await, ints(&[15, 1]));
        // 64-bit signed arithmetic.
        c.send(&["DEL", "w"]).await;
        assert_eq!(c.send(&["BITFIELD", "w", "SET", "i64", "0", "9223372036854775807", "INCRBY", "i64", "0", "1"]).await, ints(&[0, i64::MIN]));
        assert_eq!(c.send(&["BITFIELD", "w", "OVERFLOW", "SAT", "INCRBY", "i64", "0", "-1"]).await, ints(&[i64::MIN]));
        // RESP3: the FAIL null is `_`.
        c.send(&["HELLO", "3"]).await;
        let (_, wire) = c.send_raw_reply(&[b"BITFIELD", b"k", b"OVERFLOW", b"FAIL", b"INCRBY", b"u2", b"102", b"1"]).await;
        assert_eq!(&wire[..], b"*1\r\n_\r\n");
    }

    async fn bitfield_errors(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["BITFIELD", "k", "GET", "u64", "0"]).await, bad_type());
        assert_eq!(c.send(&["BITFIELD", "k", "GET", "i65", "0"]).await, bad_type());
        assert_eq!(c.send(&["BITFIELD", "k", "GET", "x8", "0"]).await, bad_type());
        assert_eq!(c.send(&["BITFIELD", "k", "GET", "u0", "0"]).await, bad_type());
        assert_eq!(c.send(&["BITFIELD", "k", "GET", "u8", "-1"]).await, bad_offset());
        assert_eq!(c.send(&["BITFIELD", "k", "GET", "u8", "abc"]).await, bad_offset());
        assert_eq!(c.send(&["BITFIELD", "k", "OVERFLOW", "foo"]).await, err("ERR Invalid OVERFLOW type specified"));
        assert_eq!(c.send(&["BITFIELD", "k", "SET", "u8", "0", "abc"]).await, not_integer());
        assert_eq!(c.send(&["BITFIELD", "k", "INCRBY", "u8", "0", "abc"]).await, not_integer());
        assert_eq!(c.send(&["BITFIELD", "k", "FOO"]).await, syntax_error());
        assert_eq!(c.send(&["BITFIELD", "k", "GET", "u8"]).await, syntax_error());
        assert_eq!(c.send(&["BITFIELD", "k", "SET", "u8", "0"]).await, syntax_error());
        // A bad operation anywhere rejects the whole command before writing.
        assert_eq!(c.send(&["BITFIELD", "k", "SET", "u8", "0", "1", "GET", "u64", "0"]).await, bad_type());
        assert_eq!(c.send(&["EXISTS", "k"]).await, int(0));
        assert_eq!(c.send(&["BITFIELD"]).await, wrong_args("bitfield"));
    }

    async fn bitfield_ro(server: &TestServer) {
        let mut c = server.raw().await;
        c.send(&["SET", "k", "A"]).await;
        assert_eq!(c.send(&["BITFIELD_RO", "k", "GET", "u8", "0", "GET", "u4", "4"]).await, ints(&[65, 1]));
        assert_eq!(c.send(&["BITFIELD_RO", "k"]).await, arr(vec![]));
        assert_eq!(c.send(&["BITFIELD_RO", "missing", "GET", "i8", "0"]).await, ints(&[0]));
        let only_get = err("ERR BITFIELD_RO only supports the GET subcommand");
        assert_eq!(c.send(&["BITFIELD_RO", "k", "SET", "u8", "0", "1"]).await, only_get);
        assert_eq!(c.send(&["BITFIELD_RO", "k", "INCRBY", "u8", "0", "1"]).await, only_get);
        assert_eq!(c.send(&["GET", "k"]).await, bulk("A"));
        assert_eq!(c.send(&["BITFIELD_RO", "k", "GET", "u64", "0"]).await, bad_type());
        assert_eq!(c.send(&["BITFIELD_RO"]).await, wrong_args("bitfield_ro"));
    }
}
