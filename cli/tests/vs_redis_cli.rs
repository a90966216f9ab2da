//! Differential test: `ferrokv-cli` and `redis-cli` 7.0 run the same commands against
//! the same `redis-server`, and must print the same bytes and exit with the same status.
//! Skipped with a message when `redis-server` or `redis-cli` is not installed.

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

struct RedisServer {
    child: Child,
    port: u16,
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn installed(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn start_redis() -> Option<RedisServer> {
    if !installed("redis-server") || !installed("redis-cli") {
        eprintln!("redis-server or redis-cli not installed: skipping the comparison");
        return None;
    }
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port");
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args([
            "--save",
            "",
            "--appendonly",
            "no",
            "--enable-debug-command",
            "yes",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start redis-server");
    let server = RedisServer { child, port };
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "redis-server did not start");
        thread::sleep(Duration::from_millis(20));
    }
    Some(server)
}

fn run(program: &str, port: u16, args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(program)
        .arg("-p")
        .arg(port.to_string())
        .args(args)
        .env("HOME", std::env::temp_dir())
        .env_remove("FAKETTY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn client");
    let mut input = child.stdin.take().expect("stdin");
    // The client may exit before reading its input (e.g. when it cannot connect).
    let _ = std::io::Write::write_all(&mut input, stdin);
    drop(input);
    child.wait_with_output().expect("wait")
}

fn compare(port: u16, args: &[&str], stdin: &[u8], failures: &mut Vec<String>) {
    let ours = run(env!("CARGO_BIN_EXE_ferrokv-cli"), port, args, stdin);
    let theirs = run("redis-cli", port, args, stdin);
    if ours.stdout != theirs.stdout || ours.status.code() != theirs.status.code() {
        failures.push(format!(
            "{args:?} stdin={:?}\n  redis-cli  ({:?}): {:?}\n  ferrokv-cli({:?}): {:?}",
            String::from_utf8_lossy(stdin),
            theirs.status.code(),
            String::from_utf8_lossy(&theirs.stdout),
            ours.status.code(),
            String::from_utf8_lossy(&ours.stdout),
        ));
    }
}

#[test]
fn same_output_as_redis_cli() {
    let Some(server) = start_redis() else { return };
    let port = server.port;
    let setup: &[&[&str]] = &[
        &["rpush", "l", "a", "b", "c d", "e\nf", "", "\x01\x7f\"\\"],
        &[
            "rpush", "l12", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12",
        ],
        &["hset", "h", "f1", "v1", "f2", "v2"],
        &["zadd", "z", "1.5", "a", "2", "b"],
        &["sadd", "s", "x"],
        &["set", "k", "v"],
        &["select", "3"],
    ];
    for args in setup {
        let out = run("redis-cli", port, args, b"");
        assert!(out.status.success(), "setup {args:?} failed");
    }

    let nested = "return {1,{2,{3,'x'},{}},'a',{'b',{'c'}},{1,2,3,4,5,6,7,8,9,10,11}}";
    let maps = "redis.setresp(3); return {map={a={map={x=1,y={1,2}}}, b={1}, \
                c={map={}}, d={2,3}, e={{1,2}}}}";
    let mixed = "return {1,{err='nested err'},{ok='st'},false}";
    let cases: &[&[&str]] = &[
        &["ping"],
        &["get", "k"],
        &["get", "missing"],
        &["lrange", "l", "0", "-1"],
        &["lrange", "l12", "0", "-1"],
        &["lrange", "missing", "0", "-1"],
        &["nosuchcommand", "arg"],
        &["get"],
        &["-3", "hgetall", "h"],
        &["-3", "hgetall", "missing"],
        &["-3", "smembers", "s"],
        &["-3", "smembers", "missing"],
        &["-3", "zscore", "z", "a"],
        &["-3", "zrange", "z", "0", "-1", "withscores"],
        &["zrange", "z", "0", "-1", "withscores"],
        &["-3", "debug", "protocol", "true"],
        &["-3", "debug", "protocol", "false"],
        &["-3", "debug", "protocol", "verbatim"],
        &["-3", "debug", "protocol", "null"],
        &["-3", "debug", "protocol", "double"],
        &["-3", "debug", "protocol", "map"],
        &["-3", "debug", "protocol", "set"],
        &["debug", "protocol", "map"],
        &["eval", nested, "0"],
        &["-3", "eval", maps, "0"],
        &["eval", mixed, "0"],
        &["eval", "return {err='My Error'}", "0"],
        &["-3", "command", "info", "get"],
        &["command", "info", "get"],
        &["-n", "3", "get", "missing"],
        &["-n", "99", "ping"],
        &["--no-auth-warning", "-a", "wrong", "ping"],
        &["-r", "2", "lrange", "l", "0", "1"],
        &["-d", ",", "lrange", "l", "0", "2"],
        &["-D", ";", "lrange", "l", "0", "2"],
        &["--csv", "lrange", "l", "0", "-1"],
        &["--csv", "-3", "hgetall", "h"],
        &["-e", "nosuchcommand"],
        &["-e", "get", "k"],
        &["set", "k 2", "\\x41"],
        &["object", "encoding", "l"],
        &["-p", "1", "ping"],
    ];
    let mut failures = Vec::new();
    for case in cases {
        for mode in ["--no-raw", "--raw"] {
            let mut args = vec![mode];
            args.extend_from_slice(case);
            compare(port, &args, b"", &mut failures);
        }
    }

    let scripts: &[&[u8]] = &[
        b"ping\n",
        b"set a \"b\\x41\"\nget a\n",
        b"\"unbalanced\nping\n",
        b"select 3\nget k\n",
        b"quit\nping\n",
        b"0 incr rep\n",
        b"3 lrange l 0 0\n",
        b"\n\n  \nping\n",
        b"multi\nping\nexec\n",
        b"set sp \"a b\" 'c d'\nget sp\n",
        b"help set\n",
        b"help config get\n",
        b"help @hyperloglog\n",
        b"help nosuch\n",
    ];
    for script in scripts {
        for mode in ["--no-raw", "--raw"] {
            compare(port, &[mode], script, &mut failures);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
