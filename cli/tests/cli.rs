//! End-to-end tests of the `ferrokv-cli` binary against a small fake server that speaks
//! RESP with canned replies, so the client's modes, connection setup and exit statuses
//! are checked without the real server.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;

use bytes::BytesMut;
use ferrokv_protocol::{encode, Frame, RequestDecoder, RespVersion};

type Log = Arc<Mutex<Vec<String>>>;

/// What the fake server does with a command.
enum Reply {
    Frames(Vec<Frame>),
    /// Send these frames, then close the connection.
    Close(Vec<Frame>),
}

struct FakeServer {
    port: u16,
    log: Log,
}

impl FakeServer {
    /// Starts a server answering every connection with `handler`; `HELLO 3` switches
    /// the connection to RESP3 by itself. Every command received is logged as its
    /// space-joined arguments.
    fn start(handler: fn(&[String]) -> Reply) -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let log: Log = Arc::default();
        let accept_log = Arc::clone(&log);
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let log = Arc::clone(&accept_log);
                thread::spawn(move || serve(stream, handler, log));
            }
        });
        FakeServer { port, log }
    }

    fn commands(&self) -> Vec<String> {
        self.log.lock().expect("log").clone()
    }
}

fn serve(mut stream: TcpStream, handler: fn(&[String]) -> Reply, log: Log) {
    let mut decoder = RequestDecoder::new(512 * 1024 * 1024);
    let mut buf = BytesMut::new();
    let mut version = RespVersion::Resp2;
    let mut chunk = [0u8; 4096];
    loop {
        while let Ok(Some(args)) = decoder.decode(&mut buf) {
            let args: Vec<String> = args
                .iter()
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect();
            log.lock().expect("log").push(args.join(" "));
            let (frames, close) = if args[0].eq_ignore_ascii_case("hello") {
                version = RespVersion::Resp3;
                (
                    vec![Frame::Map(vec![(Frame::bulk("proto"), Frame::Integer(3))])],
                    false,
                )
            } else {
                match handler(&args) {
                    Reply::Frames(frames) => (frames, false),
                    Reply::Close(frames) => (frames, true),
                }
            };
            let mut out = BytesMut::new();
            for frame in &frames {
                encode(frame, version, &mut out);
            }
            if stream.write_all(&out).is_err() || close {
                return;
            }
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Replies like a tiny Redis for the commands the tests use.
fn basic(args: &[String]) -> Reply {
    let cmd = args[0].to_ascii_lowercase();
    let frame = match cmd.as_str() {
        "ping" => Frame::simple("PONG"),
        "auth" | "select" | "set" => Frame::ok(),
        "get" if args.get(1).map(String::as_str) == Some("missing") => Frame::Null,
        "get" => Frame::bulk("hello\n\"world\""),
        "incr" => Frame::Integer(1),
        "echo" => Frame::bulk(args.get(1).cloned().unwrap_or_default()),
        "lrange" => Frame::Array(vec![
            Frame::bulk("a"),
            Frame::Array(vec![Frame::Integer(1), Frame::bulk("b")]),
            Frame::Array(vec![]),
        ]),
        "hgetall" => Frame::Map(vec![
            (Frame::bulk("f1"), Frame::bulk("v1")),
            (Frame::bulk("f2"), Frame::Double(1.5)),
        ]),
        "command" => Frame::Map(vec![(
            Frame::bulk("set"),
            Frame::Map(vec![
                (
                    Frame::bulk("summary"),
                    Frame::bulk("Set the string value of a key"),
                ),
                (Frame::bulk("since"), Frame::bulk("1.0.0")),
                (Frame::bulk("group"), Frame::bulk("string")),
                (Frame::bulk("syntax"), Frame::bulk("key value [NX|XX]")),
            ]),
        )]),
        "subscribe" => {
            return Reply::Close(vec![
                Frame::Push(vec![
                    Frame::bulk("subscribe"),
                    Frame::bulk("ch"),
                    Frame::Integer(1),
                ]),
                Frame::Push(vec![
                    Frame::bulk("message"),
                    Frame::bulk("ch"),
                    Frame::bulk("hi"),
                ]),
            ])
        }
        _ => Frame::error(format!("ERR unknown command '{}'", args[0])),
    };
    Reply::Frames(vec![frame])
}

fn cli(port: u16, args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ferrokv-cli"))
        .arg("-p")
        .arg(port.to_string())
        .args(args)
        .env("HOME", std::env::temp_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ferrokv-cli");
    let mut input = child.stdin.take().expect("stdin");
    // The client may exit before reading its input (e.g. when it cannot connect).
    let _ = input.write_all(stdin);
    drop(input);
    child.wait_with_output().expect("wait")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn connection_refused_exits_1() {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port");
    let out = cli(port, &["ping"], b"");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        format!("Could not connect to Redis at 127.0.0.1:{port}: Connection refused\n")
    );
    assert_eq!(stdout(&out), "");
    // Piped commands need a server too.
    let out = cli(port, &[], b"ping\n");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn one_shot_raw_and_tty_output() {
    let server = FakeServer::start(basic);
    let out = cli(server.port, &["get", "k"], b"");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), "hello\n\"world\"\n");
    let out = cli(server.port, &["--no-raw", "get", "k"], b"");
    assert_eq!(stdout(&out), "\"hello\\n\\\"world\\\"\"\n");
    let out = cli(server.port, &["--no-raw", "lrange", "l", "0", "-1"], b"");
    assert_eq!(
        stdout(&out),
        "1) \"a\"\n2) 1) (integer) 1\n   2) \"b\"\n3) (empty array)\n"
    );
    let out = cli(server.port, &["lrange", "l", "0", "-1"], b"");
    assert_eq!(stdout(&out), "a\n1\nb\n\n");
    let out = cli(server.port, &["--no-raw", "get", "missing"], b"");
    assert_eq!(stdout(&out), "(nil)\n");
    let out = cli(server.port, &["get", "missing"], b"");
    assert_eq!(stdout(&out), "\n");
}

#[test]
fn errors_keep_exit_status_unless_e() {
    let server = FakeServer::start(basic);
    let out = cli(server.port, &["bogus"], b"");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), "ERR unknown command 'bogus'\n\n");
    let out = cli(server.port, &["--no-raw", "bogus"], b"");
    assert_eq!(stdout(&out), "(error) ERR unknown command 'bogus'\n");
    let out = cli(server.port, &["-e", "bogus"], b"");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out), "ERR unknown command 'bogus'\n");
    assert_eq!(stdout(&out), "");
}

#[test]
fn connection_setup_auth_select_hello() {
    let server = FakeServer::start(basic);
    let out = cli(
        server.port,
        &[
            "-a", "pw", "--user", "bob", "-n", "2", "--resp3", "--no-raw", "hgetall", "h",
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        server.commands(),
        ["AUTH bob pw", "SELECT 2", "HELLO 3", "hgetall h"]
    );
    assert_eq!(
        stdout(&out),
        "1# \"f1\" => \"v1\"\n2# \"f2\" => (double) 1.5\n"
    );
    assert_eq!(
        stderr(&out),
        "Warning: Using a password with '-a' or '-u' option on the command line \
         interface may not be safe.\n"
    );
    let out = cli(server.port, &["-3", "hgetall", "h"], b"");
    assert_eq!(stdout(&out), "f1 v1\nf2 1.5\n");
}

#[test]
fn repeat_and_stdin_argument() {
    let server = FakeServer::start(basic);
    let out = cli(server.port, &["-r", "3", "-i", "0.01", "incr", "n"], b"");
    assert_eq!(stdout(&out), "1\n1\n1\n");
    assert_eq!(server.commands(), ["incr n", "incr n", "incr n"]);
    let out = cli(server.port, &["-x", "echo"], b"from\nstdin\n");
    assert_eq!(stdout(&out), "from\nstdin\n\n");
}

#[test]
fn commands_from_stdin_lines() {
    let server = FakeServer::start(basic);
    let input = b"set k \"a\\x41\"\n\"unbalanced\n\n   \n2 incr n\nget k\nquit\nping\n";
    let out = cli(server.port, &["--no-raw"], input);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stdout(&out),
        "OK\nInvalid argument(s)\n(integer) 1\n(integer) 1\n\"hello\\n\\\"world\\\"\"\n"
    );
    assert_eq!(server.commands(), ["set k aA", "incr n", "incr n", "get k"]);
}

#[test]
fn help_comes_from_command_docs() {
    let server = FakeServer::start(basic);
    let out = cli(server.port, &[], b"help set\n");
    assert_eq!(
        stdout(&out),
        "\r\n  \x1b[1mSET\x1b[0m \x1b[90mkey value [NX|XX]\x1b[0m\r\n  \
         \x1b[33msummary:\x1b[0m Set the string value of a key\r\n  \
         \x1b[33msince:\x1b[0m 1.0.0\r\n  \
         \x1b[33mgroup:\x1b[0m string\r\n\r\n"
    );
    assert_eq!(server.commands(), ["COMMAND DOCS"]);
}

#[test]
fn subscribe_prints_messages_until_the_connection_ends() {
    let server = FakeServer::start(basic);
    let out = cli(server.port, &["--no-raw", "-3", "subscribe", "ch"], b"");
    assert_eq!(
        stdout(&out),
        "Reading messages... (press Ctrl-C to quit)\n\
         1) \"subscribe\"\n2) \"ch\"\n3) (integer) 1\n\
         1) \"message\"\n2) \"ch\"\n3) \"hi\"\n"
    );
    assert_eq!(stderr(&out), "Error: Server closed the connection\n");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn pipe_mode_counts_replies_and_errors() {
    let server = FakeServer::start(basic);
    let input = b"*1\r\n$4\r\nPING\r\n*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\nb\r\n*1\r\n$3\r\nFOO\r\n";
    let out = cli(server.port, &["--pipe"], input);
    assert_eq!(
        stdout(&out),
        "All data transferred. Waiting for the last reply...\n\
         Last reply received from server.\n\
         errors: 1, replies: 3\n"
    );
    assert_eq!(stderr(&out), "ERR unknown command 'FOO'\n");
    assert_eq!(out.status.code(), Some(1));
    let commands = server.commands();
    assert_eq!(commands[..3], ["PING", "SET a b", "FOO"]);
    assert!(commands[3].starts_with("ECHO "));
}
