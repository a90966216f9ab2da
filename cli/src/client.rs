//! The session shared by every mode: connecting (AUTH, SELECT, HELLO 3), sending
//! commands with repeats, printing replies, and the client-side state redis-cli keeps
//! (selected database, MULTI, pub/sub and MONITOR loops).

use std::io::{self, Write};
use std::thread;

use ferrokv_protocol::Frame;

use crate::args::Options;
use crate::connection::{Address, Connection, ReadError};
use crate::format::{format_invalidate, format_reply, is_invalidate, OutputMode};
use crate::help::HelpTable;

/// Why a command did not complete; the message has already been printed.
#[derive(Debug)]
pub enum IssueError {
    /// No connection could be made.
    NotConnected,
    /// The connection broke while sending or reading.
    Broken(ReadError),
}

/// Lower-cased copy of an argument, for command-name comparisons.
fn lower(arg: &[u8]) -> Vec<u8> {
    arg.to_ascii_lowercase()
}

/// Whether redis-cli prints this command's reply raw whatever the output mode, because
/// it is text meant to be read as is (`INFO`, `CLIENT LIST`, `LATENCY DOCTOR`, ...).
pub fn is_raw_output_command(argv: &[Vec<u8>]) -> bool {
    let Some(cmd) = argv.first().map(|a| lower(a)) else {
        return false;
    };
    let sub = argv.get(1).map(|a| lower(a)).unwrap_or_default();
    let argc = argv.len();
    match cmd.as_slice() {
        b"info" | b"lolwut" => true,
        b"debug" => argc >= 2 && matches!(sub.as_slice(), b"htstats" | b"htstats-key"),
        b"memory" => argc >= 2 && matches!(sub.as_slice(), b"malloc-stats" | b"doctor"),
        b"cluster" => argc == 2 && matches!(sub.as_slice(), b"nodes" | b"info"),
        b"client" => argc >= 2 && matches!(sub.as_slice(), b"list" | b"info"),
        b"latency" => {
            (argc == 3 && sub.as_slice() == b"graph") || (argc == 2 && sub.as_slice() == b"doctor")
        }
        _ => false,
    }
}

/// Whether a line must stay out of the history file because it carries a password.
pub fn is_sensitive(argv: &[Vec<u8>]) -> bool {
    match argv.first().map(|a| lower(a)).as_deref() {
        Some(b"auth") => true,
        Some(b"acl") => argv
            .get(1)
            .is_some_and(|a| a.eq_ignore_ascii_case(b"setuser")),
        Some(b"hello") => argv.iter().any(|a| a.eq_ignore_ascii_case(b"auth")),
        _ => false,
    }
}

/// Writes to stdout and flushes. A closed stdout (e.g. `| head`) ends the output, not
/// the session, so errors are ignored (where `println!` would panic).
pub fn print_out(bytes: &[u8]) {
    let mut out = io::stdout().lock();
    let _ = out.write_all(bytes);
    let _ = out.flush();
}

/// The interactive prompt for a server address and session state.
pub fn format_prompt(addr: &Address, connected: bool, dbnum: i64, in_multi: bool) -> String {
    if !connected {
        return "not connected> ".to_string();
    }
    let mut prompt = match addr {
        Address::Unix(path) => format!("redis {path}"),
        addr => addr.to_string(),
    };
    if dbnum != 0 {
        prompt.push_str(&format!("[{dbnum}]"));
    }
    if in_multi {
        prompt.push_str("(TX)");
    }
    prompt.push_str("> ");
    prompt
}

/// One client session.
pub struct Client {
    opts: Options,
    /// How replies are printed.
    pub output: OutputMode,
    show_pushes: bool,
    /// Commands come from a prompt or a stream of lines rather than the command line.
    pub interactive: bool,
    conn: Option<Connection>,
    /// Database the connection is in.
    dbnum: i64,
    /// Database the user asked for (restored on reconnection).
    input_dbnum: i64,
    in_multi: bool,
    pre_multi_dbnum: i64,
    pubsub_mode: bool,
    help: Option<HelpTable>,
}

impl Client {
    /// A session that is not connected yet.
    pub fn new(opts: Options, output: OutputMode, show_pushes: bool) -> Client {
        let input_dbnum = opts.db;
        Client {
            opts,
            output,
            show_pushes,
            interactive: false,
            conn: None,
            dbnum: 0,
            input_dbnum,
            in_multi: false,
            pre_multi_dbnum: 0,
            pubsub_mode: false,
            help: None,
        }
    }

    /// The options the session was started with.
    pub fn options(&self) -> &Options {
        &self.opts
    }

    /// Whether a connection is open.
    pub fn is_connected(&self) -> bool {
        self.conn.is_some()
    }

    /// Hands the open connection over (for `--pipe`), leaving the session unconnected.
    pub fn take_connection(&mut self) -> Option<Connection> {
        self.conn.take()
    }

    /// Points the session at another server (the interactive `CONNECT host port`).
    pub fn set_address(&mut self, addr: Address) {
        self.opts.addr = addr;
        self.help = None;
    }

    /// The prompt: `127.0.0.1:6379> `, with `[db]` when not in database 0 and `(TX)`
    /// inside MULTI, or `not connected> `.
    pub fn prompt(&self) -> String {
        format_prompt(
            &self.opts.addr,
            self.conn.is_some(),
            self.dbnum,
            self.in_multi,
        )
    }

    /// Connects unless connected (or always with `force`), then authenticates, selects
    /// the database and switches to RESP3 as asked. Prints
    /// `Could not connect to Redis at host:port: reason` and returns false on failure;
    /// AUTH, SELECT and HELLO errors are reported but do not fail the connection, as in
    /// redis-cli.
    pub fn connect(&mut self, force: bool) -> bool {
        self.connect_with(force, false)
    }

    /// [`Client::connect`], optionally without the `Could not connect` message.
    pub fn connect_with(&mut self, force: bool, quiet: bool) -> bool {
        if self.conn.is_some() && !force {
            return true;
        }
        self.conn = None;
        self.in_multi = false;
        let mut conn = match Connection::connect(&self.opts.addr) {
            Ok(conn) => conn,
            Err(err) => {
                if !quiet {
                    eprintln!(
                        "Could not connect to Redis at {}: {}",
                        self.opts.addr,
                        crate::connection::io_error_text(&err)
                    );
                }
                return false;
            }
        };
        self.dbnum = 0;
        if self.setup(&mut conn).is_err() {
            eprintln!("\nI/O error");
            return false;
        }
        self.conn = Some(conn);
        true
    }

    /// AUTH, SELECT and HELLO 3 on a fresh connection.
    fn setup(&mut self, conn: &mut Connection) -> Result<(), ReadError> {
        if let Some(password) = &self.opts.password {
            let mut argv: Vec<&[u8]> = vec![b"AUTH"];
            if let Some(user) = &self.opts.user {
                argv.push(user);
            }
            argv.push(password);
            if let Frame::Error(msg) = conn.command(&argv)? {
                eprintln!("AUTH failed: {}", String::from_utf8_lossy(&msg));
            }
        }
        if self.input_dbnum != self.dbnum {
            let db = self.input_dbnum.to_string();
            match conn.command(&["SELECT", db.as_str()])? {
                Frame::Error(msg) => eprintln!(
                    "SELECT {} failed: {}",
                    self.input_dbnum,
                    String::from_utf8_lossy(&msg)
                ),
                _ => self.dbnum = self.input_dbnum,
            }
        }
        if self.opts.resp3 {
            if let Frame::Error(msg) = conn.command(&["HELLO", "3"])? {
                eprintln!("HELLO 3 failed: {}", String::from_utf8_lossy(&msg));
            }
        }
        Ok(())
    }

    /// The server's command documentation, fetched once with `COMMAND DOCS`; empty when
    /// not connected or when the server does not document its commands.
    pub fn help_table(&mut self) -> HelpTable {
        if let Some(table) = &self.help {
            return table.clone();
        }
        // Inside MULTI the request would be queued rather than answered.
        let Some(conn) = self.conn.as_mut().filter(|_| !self.in_multi) else {
            return HelpTable::default();
        };
        let table = match conn.command(&["COMMAND", "DOCS"]) {
            Ok(reply) => HelpTable::from_command_docs(&reply),
            Err(_) => {
                self.conn = None;
                return HelpTable::default();
            }
        };
        self.help = Some(table.clone());
        table
    }

    fn write_out(&self, bytes: &[u8]) {
        print_out(bytes);
    }

    fn print_reply(&self, frame: &Frame, raw_strings: bool) {
        self.write_out(&format_reply(
            frame,
            self.output,
            raw_strings,
            &self.opts.delims,
        ));
    }

    /// Reads the next reply; RESP3 push messages that arrive before it are printed
    /// (or dropped with `--show-pushes no`) unless `push_is_reply`.
    fn read_reply(&mut self, push_is_reply: bool) -> Result<Frame, ReadError> {
        loop {
            let conn = self.conn.as_mut().ok_or(ReadError::Eof)?;
            let frame = conn.read_frame()?;
            if push_is_reply || !matches!(frame, Frame::Push(_)) {
                return Ok(frame);
            }
            if self.show_pushes {
                if self.output == OutputMode::Standard && is_invalidate(&frame) {
                    self.write_out(&format_invalidate(&frame));
                } else {
                    self.print_reply(&frame, false);
                }
            }
        }
    }

    /// Runs a command `repeat` times (negative: for ever), as redis-cli's
    /// `issueCommandRepeat`: `HELP` is answered locally, a lost connection is reopened
    /// first. Failures are printed before returning.
    pub fn issue_command(&mut self, argv: &[Vec<u8>], repeat: i64) -> Result<(), IssueError> {
        let Some(first) = argv.first() else {
            return Ok(());
        };
        if first.eq_ignore_ascii_case(b"help") || first.as_slice() == b"?" {
            let table = self.help_table();
            self.write_out(table.help_output(&argv[1..]).as_bytes());
            return Ok(());
        }
        if self.conn.is_none() && !self.connect(true) {
            return Err(IssueError::NotConnected);
        }
        match self.send_command(argv, repeat) {
            Ok(()) => Ok(()),
            Err(err) => {
                self.conn = None;
                Err(IssueError::Broken(err))
            }
        }
    }

    /// Sends a command and prints its replies (redis-cli's `cliSendCommand`).
    fn send_command(&mut self, argv: &[Vec<u8>], mut repeat: i64) -> Result<(), ReadError> {
        let command = lower(&argv[0]);
        let raw_strings = is_raw_output_command(argv);
        let shutdown = command == b"shutdown";
        let monitor = command == b"monitor";
        let subscribe = matches!(
            command.as_slice(),
            b"subscribe" | b"psubscribe" | b"ssubscribe"
        );
        let unsubscribe = matches!(
            command.as_slice(),
            b"unsubscribe" | b"punsubscribe" | b"sunsubscribe"
        );
        while repeat != 0 {
            if repeat > 0 {
                repeat -= 1;
            }
            let conn = self.conn.as_mut().ok_or(ReadError::Eof)?;
            conn.send(argv)?;

            if monitor {
                loop {
                    let reply = self.read_reply(false)?;
                    self.print_reply(&reply, raw_strings);
                    if reply.is_error() {
                        return Ok(());
                    }
                }
            }
            if subscribe {
                self.pubsub_mode = true;
                if self.output != OutputMode::Raw {
                    self.write_out(b"Reading messages... (press Ctrl-C to quit)\n");
                }
                loop {
                    let reply = self.read_reply(true)?;
                    self.print_reply(&reply, raw_strings);
                    if reply.is_error() {
                        self.pubsub_mode = false;
                        return Ok(());
                    }
                }
            }

            let reply = match self.read_reply(unsubscribe) {
                Ok(reply) => reply,
                Err(_) if shutdown => {
                    // The server closed the connection as asked.
                    self.conn = None;
                    return Ok(());
                }
                Err(err) => return Err(err),
            };
            if !self.interactive && self.opts.set_errcode {
                if let Frame::Error(msg) = &reply {
                    eprintln!("{}", String::from_utf8_lossy(msg));
                    std::process::exit(1);
                }
            }
            self.print_reply(&reply, raw_strings);
            self.track_state(argv, &command, &reply);

            if repeat != 0 {
                if let Some(interval) = self.opts.interval {
                    thread::sleep(interval);
                }
            }
        }
        Ok(())
    }

    /// Follows SELECT, MULTI/EXEC/DISCARD and RESET so the prompt and reconnections
    /// stay right.
    fn track_state(&mut self, argv: &[Vec<u8>], command: &[u8], reply: &Frame) {
        let is_err = reply.is_error();
        let argc = argv.len();
        match command {
            b"select" if argc == 2 && !is_err => {
                if let Some(db) = std::str::from_utf8(&argv[1])
                    .ok()
                    .and_then(|s| s.trim().parse::<i64>().ok())
                {
                    self.input_dbnum = db;
                    self.dbnum = db;
                }
            }
            b"multi" if argc == 1 && !is_err => {
                self.in_multi = true;
                self.pre_multi_dbnum = self.dbnum;
            }
            b"exec" if argc == 1 && self.in_multi => {
                self.in_multi = false;
                if is_err || matches!(reply, Frame::Null | Frame::NullArray) {
                    self.dbnum = self.pre_multi_dbnum;
                    self.input_dbnum = self.pre_multi_dbnum;
                }
            }
            b"discard" if argc == 1 && !is_err => {
                self.in_multi = false;
                self.dbnum = self.pre_multi_dbnum;
                self.input_dbnum = self.pre_multi_dbnum;
            }
            b"reset" if argc == 1 && !is_err => {
                self.in_multi = false;
                self.dbnum = 0;
                self.input_dbnum = 0;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(args: &[&str]) -> Vec<Vec<u8>> {
        args.iter().map(|a| a.as_bytes().to_vec()).collect()
    }

    fn client() -> Client {
        let opts = Options::try_parse_from(["ferrokv-cli", "-p", "1"]).expect("options");
        Client::new(opts, OutputMode::Standard, true)
    }

    #[test]
    fn raw_output_commands() {
        assert!(is_raw_output_command(&argv(&["INFO"])));
        assert!(is_raw_output_command(&argv(&["info", "memory"])));
        assert!(is_raw_output_command(&argv(&["client", "LIST"])));
        assert!(is_raw_output_command(&argv(&["latency", "doctor"])));
        assert!(!is_raw_output_command(&argv(&["latency", "doctor", "x"])));
        assert!(!is_raw_output_command(&argv(&["client", "id"])));
        assert!(!is_raw_output_command(&argv(&["get", "info"])));
        assert!(!is_raw_output_command(&[]));
    }

    #[test]
    fn sensitive_lines() {
        assert!(is_sensitive(&argv(&["AUTH", "pw"])));
        assert!(is_sensitive(&argv(&["acl", "SETUSER", "bob", ">pw"])));
        assert!(is_sensitive(&argv(&["hello", "3", "auth", "u", "p"])));
        assert!(!is_sensitive(&argv(&["hello", "3"])));
        assert!(!is_sensitive(&argv(&["acl", "list"])));
        assert!(!is_sensitive(&argv(&["get", "auth"])));
    }

    #[test]
    fn prompt_follows_select_and_multi() {
        let mut c = client();
        assert_eq!(c.prompt(), "not connected> ");
        c.track_state(&argv(&["select", "2"]), b"select", &Frame::ok());
        assert_eq!((c.dbnum, c.input_dbnum), (2, 2));
        c.track_state(&argv(&["select", "x"]), b"select", &Frame::error("ERR"));
        assert_eq!(c.dbnum, 2);
        c.track_state(&argv(&["multi"]), b"multi", &Frame::ok());
        assert!(c.in_multi);
        c.track_state(&argv(&["select", "5"]), b"select", &Frame::simple("QUEUED"));
        assert_eq!(c.dbnum, 5);
        c.track_state(&argv(&["exec"]), b"exec", &Frame::NullArray);
        assert!(!c.in_multi);
        assert_eq!(c.dbnum, 2);
        c.track_state(&argv(&["multi"]), b"multi", &Frame::ok());
        c.track_state(&argv(&["discard"]), b"discard", &Frame::ok());
        assert!(!c.in_multi);
        c.track_state(&argv(&["reset"]), b"reset", &Frame::simple("RESET"));
        assert_eq!(c.dbnum, 0);
    }

    #[test]
    fn prompts() {
        let tcp = Address::Tcp {
            host: "127.0.0.1".into(),
            port: 6379,
        };
        assert_eq!(format_prompt(&tcp, true, 0, false), "127.0.0.1:6379> ");
        assert_eq!(format_prompt(&tcp, true, 2, false), "127.0.0.1:6379[2]> ");
        assert_eq!(
            format_prompt(&tcp, true, 2, true),
            "127.0.0.1:6379[2](TX)> "
        );
        assert_eq!(format_prompt(&tcp, true, 0, true), "127.0.0.1:6379(TX)> ");
        assert_eq!(format_prompt(&tcp, false, 2, true), "not connected> ");
        let unix = Address::Unix("/tmp/s.sock".into());
        assert_eq!(format_prompt(&unix, true, 0, false), "redis /tmp/s.sock> ");
    }

    #[test]
    fn connect_failure_is_reported() {
        let mut c = client();
        assert!(!c.connect(false));
        assert!(!c.is_connected());
        assert!(matches!(
            c.issue_command(&argv(&["ping"]), 1),
            Err(IssueError::NotConnected)
        ));
    }
}
