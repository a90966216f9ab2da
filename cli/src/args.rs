//! Command-line options, spelled as redis-cli's.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::time::Duration;

use clap::{ArgAction, Parser};

use crate::connection::Address;
use crate::format::{Delimiters, OutputMode};

/// ferrokv-cli: a redis-cli-compatible client for ferrokv.
#[derive(Debug, Parser)]
#[command(
    name = "ferrokv-cli",
    version,
    disable_help_flag = true,
    disable_version_flag = true,
    args_override_self = true,
    after_help = "When no command is given, ferrokv-cli starts in interactive mode \
                  (or reads commands from stdin when it is not a terminal).\n\
                  Type \"help\" in interactive mode for information on available commands."
)]
pub struct Args {
    /// Server hostname.
    #[arg(short = 'h', value_name = "hostname", default_value = "127.0.0.1")]
    host: String,
    /// Server port.
    #[arg(short = 'p', value_name = "port", default_value_t = 6379)]
    port: u16,
    /// Server socket (overrides hostname and port).
    #[arg(short = 's', value_name = "socket")]
    socket: Option<String>,
    /// Password to use when connecting to the server.
    #[arg(short = 'a', long = "pass", value_name = "password")]
    password: Option<OsString>,
    /// Used to send ACL style 'AUTH username pass'. Needs -a.
    #[arg(long = "user", value_name = "username")]
    user: Option<OsString>,
    /// Server URI: redis://[[user:]password@]host[:port][/db].
    #[arg(short = 'u', value_name = "uri")]
    uri: Option<String>,
    /// Execute specified command N times (-1 for ever).
    #[arg(
        short = 'r',
        value_name = "repeat",
        default_value_t = 1,
        allow_negative_numbers = true
    )]
    repeat: i64,
    /// When -r is used, waits <interval> seconds per command; sub-second times like
    /// -i 0.1 are accepted.
    #[arg(short = 'i', value_name = "interval")]
    interval: Option<f64>,
    /// Database number.
    #[arg(short = 'n', value_name = "db", default_value_t = 0)]
    db: i64,
    /// Start session in RESP2 protocol mode.
    #[arg(short = '2', overrides_with = "resp3")]
    resp2: bool,
    /// Start session in RESP3 protocol mode (sends HELLO 3).
    #[arg(short = '3', long = "resp3", overrides_with = "resp2")]
    resp3: bool,
    /// Read last argument from STDIN.
    #[arg(short = 'x')]
    stdin_last_arg: bool,
    /// Delimiter between response bulks for raw formatting (default: \n).
    #[arg(short = 'd', value_name = "delimiter")]
    mb_delim: Option<String>,
    /// Delimiter between responses for raw formatting (default: \n).
    #[arg(short = 'D', value_name = "delimiter")]
    cmd_delim: Option<String>,
    /// Return exit error code when command execution fails.
    #[arg(short = 'e')]
    set_errcode: bool,
    /// Use raw formatting for replies (default when STDOUT is not a tty).
    #[arg(long = "raw", overrides_with_all = ["no_raw", "csv"])]
    raw: bool,
    /// Force formatted output even when STDOUT is not a tty.
    #[arg(long = "no-raw", overrides_with_all = ["raw", "csv"])]
    no_raw: bool,
    /// Output in CSV format.
    #[arg(long = "csv", overrides_with_all = ["raw", "no_raw"])]
    csv: bool,
    /// Whether to print RESP3 PUSH messages (default: yes when STDOUT is a tty).
    #[arg(long = "show-pushes", value_name = "yn", value_parser = parse_yes_no)]
    show_pushes: Option<bool>,
    /// Transfer raw RESP protocol from stdin to the server (mass insertion).
    #[arg(long = "pipe")]
    pipe: bool,
    /// In --pipe mode, abort with an error if no reply arrives for this many seconds
    /// after all data was sent (0: wait for ever).
    #[arg(long = "pipe-timeout", value_name = "n", default_value_t = 30)]
    pipe_timeout: u64,
    /// Don't show a warning message when using a password on the command line.
    #[arg(long = "no-auth-warning")]
    no_auth_warning: bool,
    /// Output this help and exit.
    #[arg(long = "help", action = ArgAction::Help)]
    help: Option<bool>,
    /// Output version and exit.
    #[arg(short = 'v', long = "version", action = ArgAction::Version)]
    version: Option<bool>,
    /// The command and its arguments; without one, commands are read interactively.
    #[arg(
        value_name = "cmd [arg [arg ...]]",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    command: Vec<OsString>,
}

fn parse_yes_no(s: &str) -> Result<bool, String> {
    match s.to_ascii_lowercase().as_str() {
        "yes" | "y" | "1" | "true" => Ok(true),
        "no" | "n" | "0" | "false" => Ok(false),
        _ => Err(format!("expected yes or no, got '{s}'")),
    }
}

/// Everything the options decide, ready to use.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Server to connect to.
    pub addr: Address,
    /// Database to SELECT after connecting (0: none).
    pub db: i64,
    /// `AUTH` password, if any.
    pub password: Option<Vec<u8>>,
    /// `AUTH` user name, if any (needs a password).
    pub user: Option<Vec<u8>>,
    /// Send `HELLO 3` after connecting.
    pub resp3: bool,
    /// Output mode given on the command line; `None` picks by whether stdout is a tty.
    pub output: Option<OutputMode>,
    /// Raw-mode delimiters.
    pub delims: Delimiters,
    /// Times to run a one-shot command (negative: for ever).
    pub repeat: i64,
    /// Pause between repeats.
    pub interval: Option<Duration>,
    /// Append stdin as the last argument (`-x`).
    pub stdin_last_arg: bool,
    /// Exit 1 on an error reply in one-shot mode (`-e`).
    pub set_errcode: bool,
    /// Print RESP3 push messages; `None` means when stdout is a tty.
    pub show_pushes: Option<bool>,
    /// Mass-insertion mode (`--pipe`).
    pub pipe: bool,
    /// `--pipe-timeout` in seconds.
    pub pipe_timeout: u64,
    /// Warn about `-a` on the command line.
    pub auth_warning: bool,
    /// The one-shot command; empty for interactive or stdin mode.
    pub command: Vec<Vec<u8>>,
}

/// Expands the C escapes redis-cli accepts in `-d`/`-D` (`\n`, `\r`, `\t`, ...).
fn unescape_delimiter(s: &str) -> Vec<u8> {
    let quoted = format!("\"{s}\"");
    match ferrokv_protocol::split_args(quoted.as_bytes()) {
        Some(mut args) if args.len() == 1 => args.remove(0),
        _ => s.as_bytes().to_vec(),
    }
}

/// Decodes `%XX` escapes in a URI part.
fn percent_decode(s: &str) -> Result<Vec<u8>, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .ok_or_else(|| "Incomplete URI encoding".to_string())?;
            let hex = std::str::from_utf8(hex).map_err(|_| "Illegal character in URI encoding")?;
            let v = u8::from_str_radix(hex, 16)
                .map_err(|_| "Illegal character in URI encoding".to_string())?;
            out.push(v);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Ok(out)
}

/// What a `redis://` URI sets.
#[derive(Debug, Default, PartialEq, Eq)]
struct Uri {
    user: Option<Vec<u8>>,
    password: Option<Vec<u8>>,
    host: Option<String>,
    port: Option<u16>,
    db: Option<i64>,
}

/// Parses `redis://[[user:]password@][host[:port]][/db]` as redis-cli's `parseRedisUri`.
fn parse_uri(uri: &str) -> Result<Uri, String> {
    const SCHEME: &str = "redis://";
    let mut rest = match uri.get(..SCHEME.len()) {
        Some(head) if head.eq_ignore_ascii_case(SCHEME) => &uri[SCHEME.len()..],
        _ => return Err("Invalid URI scheme".to_string()),
    };
    let mut out = Uri::default();
    if let Some(at) = rest.find('@') {
        let userinfo = &rest[..at];
        match userinfo.find(':') {
            Some(colon) => {
                out.user = Some(percent_decode(&userinfo[..colon])?);
                out.password = Some(percent_decode(&userinfo[colon + 1..])?);
            }
            None => out.password = Some(percent_decode(userinfo)?),
        }
        rest = &rest[at + 1..];
    }
    let (hostport, path) = match rest.find('/') {
        Some(slash) => (&rest[..slash], Some(&rest[slash + 1..])),
        None => (rest, None),
    };
    if !hostport.is_empty() {
        let (host, port) = match hostport.rfind(':') {
            Some(colon) if !hostport.starts_with('[') || hostport[..colon].ends_with(']') => {
                (&hostport[..colon], Some(&hostport[colon + 1..]))
            }
            _ => (hostport, None),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if !host.is_empty() {
            out.host = Some(host.to_string());
        }
        if let Some(port) = port {
            out.port = Some(port.parse().map_err(|_| format!("Invalid port '{port}'"))?);
        }
    }
    if let Some(db) = path.filter(|p| !p.is_empty()) {
        out.db = Some(db.parse().map_err(|_| format!("Invalid database '{db}'"))?);
    }
    Ok(out)
}

impl Options {
    /// Parses the process arguments; prints usage and exits on errors, `--help` and
    /// `--version`.
    pub fn from_env() -> Options {
        let args = match Args::try_parse() {
            Ok(args) => args,
            Err(err) if err.use_stderr() => {
                // Usage errors exit with 1, as redis-cli's do (clap would use 2).
                let _ = err.print();
                std::process::exit(1);
            }
            Err(err) => err.exit(),
        };
        match Options::from_args(args) {
            Ok(options) => options,
            Err(msg) => {
                eprintln!("{msg}");
                std::process::exit(1);
            }
        }
    }

    /// Parses an explicit argument list (the first item is the program name).
    #[cfg(test)]
    pub fn try_parse_from<I, T>(args: I) -> Result<Options, String>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let args = Args::try_parse_from(args).map_err(|e| e.to_string())?;
        Options::from_args(args)
    }

    fn from_args(args: Args) -> Result<Options, String> {
        if let Some(first) = args.command.first() {
            let first = first.to_string_lossy();
            if first.starts_with('-') {
                // Options end at the command name; a leading dash here is a typo.
                return Err(format!(
                    "Unrecognized option or bad number of args for: '{first}'"
                ));
            }
        }
        let mut host = args.host;
        let mut port = args.port;
        let mut db = args.db;
        let mut password = args.password.map(OsStringExt::into_vec);
        let mut user = args.user.map(OsStringExt::into_vec);
        if let Some(uri) = &args.uri {
            let uri = parse_uri(uri)?;
            host = uri.host.unwrap_or(host);
            port = uri.port.unwrap_or(port);
            db = uri.db.unwrap_or(db);
            password = password.or(uri.password);
            user = user.or(uri.user);
        }
        let addr = match args.socket {
            Some(path) => Address::Unix(path),
            None => Address::Tcp { host, port },
        };
        let output = if args.csv {
            Some(OutputMode::Csv)
        } else if args.raw {
            Some(OutputMode::Raw)
        } else if args.no_raw {
            Some(OutputMode::Standard)
        } else {
            None
        };
        let mut delims = Delimiters::default();
        if let Some(d) = &args.mb_delim {
            delims.multibulk = unescape_delimiter(d);
        }
        if let Some(d) = &args.cmd_delim {
            delims.command = unescape_delimiter(d);
        }
        let interval = match args.interval {
            Some(secs) if secs.is_finite() && secs >= 0.0 => Some(Duration::from_secs_f64(secs)),
            Some(secs) => return Err(format!("Invalid interval '{secs}'")),
            None => None,
        };
        Ok(Options {
            addr,
            db,
            auth_warning: password.is_some() && !args.no_auth_warning,
            password,
            user,
            resp3: args.resp3,
            output,
            delims,
            repeat: args.repeat,
            interval,
            stdin_last_arg: args.stdin_last_arg,
            set_errcode: args.set_errcode,
            show_pushes: args.show_pushes,
            pipe: args.pipe,
            pipe_timeout: args.pipe_timeout,
            command: args
                .command
                .into_iter()
                .map(OsStringExt::into_vec)
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Options {
        let mut all = vec!["ferrokv-cli"];
        all.extend_from_slice(args);
        Options::try_parse_from(all).expect("valid arguments")
    }

    fn tcp(host: &str, port: u16) -> Address {
        Address::Tcp {
            host: host.to_string(),
            port,
        }
    }

    #[test]
    fn defaults() {
        let o = parse(&[]);
        assert_eq!(o.addr, tcp("127.0.0.1", 6379));
        assert_eq!(o.db, 0);
        assert_eq!(o.password, None);
        assert!(!o.resp3);
        assert_eq!(o.output, None);
        assert_eq!(o.repeat, 1);
        assert_eq!(o.interval, None);
        assert!(o.command.is_empty());
        assert_eq!(o.delims, Delimiters::default());
        assert!(!o.auth_warning);
    }

    #[test]
    fn connection_options() {
        let o = parse(&[
            "-h", "example", "-p", "7000", "-n", "2", "-a", "pw", "--user", "bob",
        ]);
        assert_eq!(o.addr, tcp("example", 7000));
        assert_eq!(o.db, 2);
        assert_eq!(o.password.as_deref(), Some(&b"pw"[..]));
        assert_eq!(o.user.as_deref(), Some(&b"bob"[..]));
        assert!(o.auth_warning);
        let o = parse(&["-a", "pw", "--no-auth-warning"]);
        assert!(!o.auth_warning);
        let o = parse(&["-s", "/tmp/ferrokv.sock"]);
        assert_eq!(o.addr, Address::Unix("/tmp/ferrokv.sock".into()));
    }

    #[test]
    fn protocol_and_output_flags() {
        assert!(parse(&["--resp3"]).resp3);
        assert!(parse(&["-3"]).resp3);
        assert!(!parse(&["-3", "-2"]).resp3);
        assert_eq!(parse(&["--raw"]).output, Some(OutputMode::Raw));
        assert_eq!(parse(&["--no-raw"]).output, Some(OutputMode::Standard));
        assert_eq!(
            parse(&["--raw", "--no-raw"]).output,
            Some(OutputMode::Standard)
        );
        assert_eq!(parse(&["--no-raw", "--raw"]).output, Some(OutputMode::Raw));
        assert_eq!(parse(&["--csv"]).output, Some(OutputMode::Csv));
        assert_eq!(parse(&["--show-pushes", "no"]).show_pushes, Some(false));
        let o = parse(&["-d", "\\t", "-D", ";"]);
        assert_eq!(o.delims.multibulk, b"\t");
        assert_eq!(o.delims.command, b";");
    }

    #[test]
    fn repeat_interval_and_stdin() {
        let o = parse(&["-r", "3", "-i", "0.5", "-x", "set", "k"]);
        assert_eq!(o.repeat, 3);
        assert_eq!(o.interval, Some(Duration::from_millis(500)));
        assert!(o.stdin_last_arg);
        assert_eq!(o.command, vec![b"set".to_vec(), b"k".to_vec()]);
        assert_eq!(parse(&["-r", "-1", "ping"]).repeat, -1);
        assert!(Options::try_parse_from(["ferrokv-cli", "-i", "-1", "ping"]).is_err());
    }

    #[test]
    fn command_keeps_hyphen_arguments_and_stops_option_parsing() {
        let o = parse(&["-p", "6380", "incrby", "counter", "-5"]);
        assert_eq!(o.addr, tcp("127.0.0.1", 6380));
        assert_eq!(
            o.command,
            vec![b"incrby".to_vec(), b"counter".to_vec(), b"-5".to_vec()]
        );
        let o = parse(&["set", "k", "-p", "--raw"]);
        assert_eq!(o.addr, tcp("127.0.0.1", 6379));
        assert_eq!(o.output, None);
        assert_eq!(
            o.command,
            vec![
                b"set".to_vec(),
                b"k".to_vec(),
                b"-p".to_vec(),
                b"--raw".to_vec()
            ]
        );
    }

    #[test]
    fn uri() {
        let o = parse(&["-u", "redis://alice:s%40cret@db.example:6390/3"]);
        assert_eq!(o.addr, tcp("db.example", 6390));
        assert_eq!(o.db, 3);
        assert_eq!(o.user.as_deref(), Some(&b"alice"[..]));
        assert_eq!(o.password.as_deref(), Some(&b"s@cret"[..]));
        let o = parse(&["-u", "redis://pw@[::1]:7000"]);
        assert_eq!(o.addr, tcp("::1", 7000));
        assert_eq!(o.password.as_deref(), Some(&b"pw"[..]));
        assert_eq!(o.user, None);
        let o = parse(&["-u", "redis://"]);
        assert_eq!(o.addr, tcp("127.0.0.1", 6379));
        assert!(Options::try_parse_from(["ferrokv-cli", "-u", "http://x"]).is_err());
        assert_eq!(
            parse_uri("redis://h/%zz"),
            Err("Invalid database '%zz'".to_string())
        );
        assert_eq!(
            parse_uri("redis://%4g@h"),
            Err("Illegal character in URI encoding".to_string())
        );
    }

    #[test]
    fn repeated_options_keep_the_last_value() {
        let o = parse(&["-p", "1", "-p", "7000", "-h", "a", "-h", "b"]);
        assert_eq!(o.addr, tcp("b", 7000));
    }

    #[test]
    fn unknown_options_are_rejected() {
        assert!(Options::try_parse_from(["ferrokv-cli", "--bogus"]).is_err());
        assert!(Options::try_parse_from(["ferrokv-cli", "-p", "notaport"]).is_err());
    }
}
