//! The read-eval-print loop: a rustyline prompt with history, hints and completion when
//! stdin is a terminal, or plain lines when it is not.

use std::borrow::Cow;
use std::io::{self, BufRead, Write};
use std::path::PathBuf;
use std::time::Instant;

use ferrokv_protocol::split_args;
use rustyline::completion::Completer;
use rustyline::config::{CompletionType, Config};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::FileHistory;
use rustyline::validate::Validator;
use rustyline::{Context, Editor, Helper};

use crate::client::{is_sensitive, print_out, Client, IssueError};
use crate::connection::Address;
use crate::format::OutputMode;
use crate::help::HelpTable;

/// Environment variable naming the history file (`/dev/null` disables history).
pub const HISTFILE_ENV: &str = "FERROKV_CLI_HISTFILE";
/// History file name under `$HOME` when [`HISTFILE_ENV`] is not set.
pub const HISTFILE_DEFAULT: &str = ".ferrokv_history";

/// The history file: `$FERROKV_CLI_HISTFILE`, else `~/.ferrokv_history`; `None` when
/// it is `/dev/null` or there is no home directory (redis-cli's `getDotfilePath`).
pub fn history_path(env_value: Option<&str>, home: Option<&str>) -> Option<PathBuf> {
    match env_value.filter(|v| !v.is_empty()) {
        Some("/dev/null") => None,
        Some(path) => Some(PathBuf::from(path)),
        None => home
            .filter(|h| !h.is_empty())
            .map(|h| PathBuf::from(h).join(HISTFILE_DEFAULT)),
    }
}

/// Rustyline helper: grey argument hints and command-name completion from the
/// server's command docs.
pub struct CliHelper {
    help: HelpTable,
    hints: bool,
}

impl CliHelper {
    /// A helper over a help table, with hints on.
    pub fn new(help: HelpTable) -> CliHelper {
        CliHelper { help, hints: true }
    }
}

impl Hinter for CliHelper {
    type Hint = String;

    fn hint(&self, line: &str, pos: usize, _ctx: &Context<'_>) -> Option<String> {
        if !self.hints || pos < line.len() {
            return None;
        }
        self.help.hint(line).filter(|h| !h.is_empty())
    }
}

impl Highlighter for CliHelper {
    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        // Colour 90 (dark grey), as linenoise draws redis-cli's hints.
        Cow::Owned(format!("\x1b[90m{hint}\x1b[0m"))
    }
}

impl Completer for CliHelper {
    type Candidate = String;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<String>)> {
        Ok(self.help.complete(&line[..pos]))
    }
}

impl Validator for CliHelper {}

impl Helper for CliHelper {}

/// What the loop does after a line.
#[derive(Debug, PartialEq, Eq)]
pub enum Flow {
    /// Read the next line.
    Continue,
    /// Leave (`quit`, `exit`).
    Quit,
}

/// Runs one input line as redis-cli's REPL does: `quit`/`exit`, `:set [no]hints`,
/// `connect host port`, `clear`, an optional leading repeat count (`3 INCR x`), then the
/// command, with its duration printed when it took half a second or more.
pub fn process_line(client: &mut Client, line: &[u8], hints: &mut bool) -> Flow {
    if line.is_empty() {
        return Flow::Continue;
    }
    let mut out = io::stdout();
    let Some(argv) = split_args(line) else {
        let _ = out.write_all(b"Invalid argument(s)\n");
        let _ = out.flush();
        return Flow::Continue;
    };
    let Some(first) = argv.first() else {
        return Flow::Continue;
    };
    if first.eq_ignore_ascii_case(b"quit") || first.eq_ignore_ascii_case(b"exit") {
        return Flow::Quit;
    }
    if first.starts_with(b":") {
        set_preference(&argv, hints);
        return Flow::Continue;
    }
    if argv.len() == 3 && first.eq_ignore_ascii_case(b"connect") {
        let host = String::from_utf8_lossy(&argv[1]).into_owned();
        match String::from_utf8_lossy(&argv[2]).parse::<u16>() {
            Ok(port) => {
                client.set_address(Address::Tcp { host, port });
                client.connect(true);
            }
            Err(_) => print_out(
                format!("Invalid port '{}'\n", String::from_utf8_lossy(&argv[2])).as_bytes(),
            ),
        }
        return Flow::Continue;
    }
    if argv.len() == 1 && first.eq_ignore_ascii_case(b"clear") {
        let _ = out.write_all(b"\x1b[H\x1b[2J");
        let _ = out.flush();
        return Flow::Continue;
    }

    let (repeat, skip) = match repeat_prefix(&argv) {
        Ok(Some(n)) => (n, 1),
        Ok(None) => (1, 0),
        Err(()) => {
            let _ = out.write_all(b"Invalid redis-cli repeat command option value.\n");
            let _ = out.flush();
            return Flow::Continue;
        }
    };
    let command = &argv[skip..];
    let start = Instant::now();
    match client.issue_command(command, repeat) {
        Ok(()) | Err(IssueError::NotConnected) => {}
        Err(IssueError::Broken(first_err)) => {
            // The server may have restarted: reconnect quietly and try once more.
            if client.connect_with(true, true) {
                if let Err(IssueError::Broken(err)) = client.issue_command(command, repeat) {
                    eprintln!("Error: {err}");
                }
            } else {
                eprintln!("Error: {first_err}");
            }
        }
    }
    let elapsed = start.elapsed();
    if elapsed.as_millis() >= 500 && client.output == OutputMode::Standard {
        print_out(format!("({:.2}s)\n", elapsed.as_secs_f64()).as_bytes());
    }
    Flow::Continue
}

/// A leading repeat count: `Ok(Some(n))` for `n CMD ...`, `Ok(None)` when the first
/// word is not a number (or is the only word), `Err` for a count of zero or less.
pub fn repeat_prefix(argv: &[Vec<u8>]) -> Result<Option<i64>, ()> {
    if argv.len() < 2 {
        return Ok(None);
    }
    let first = &argv[0];
    let digits = first.strip_prefix(b"-").unwrap_or(first);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Ok(None);
    }
    match std::str::from_utf8(first)
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
    {
        Some(n) if n > 0 => Ok(Some(n)),
        _ => Err(()),
    }
}

/// `:set hints` / `:set nohints`.
fn set_preference(argv: &[Vec<u8>], hints: &mut bool) {
    let name = String::from_utf8_lossy(&argv[0]);
    if name.eq_ignore_ascii_case(":set") && argv.len() >= 2 {
        let pref = String::from_utf8_lossy(&argv[1]);
        if pref.eq_ignore_ascii_case("hints") {
            *hints = true;
        } else if pref.eq_ignore_ascii_case("nohints") {
            *hints = false;
        } else {
            print_out(format!("unknown ferrokv-cli preference '{pref}'\n").as_bytes());
        }
    } else {
        print_out(format!("unknown ferrokv-cli command '{name}'\n").as_bytes());
    }
}

/// Reads commands line by line from a non-terminal stdin (no prompt, no history).
pub fn run_lines(client: &mut Client, input: impl BufRead) -> io::Result<()> {
    client.interactive = true;
    let mut hints = false;
    let mut input = input;
    let mut line = Vec::new();
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            return Ok(());
        }
        if line.last() == Some(&b'\n') {
            line.pop();
        }
        if process_line(client, &line, &mut hints) == Flow::Quit {
            return Ok(());
        }
    }
}

/// The interactive prompt on a terminal, until `quit`, Ctrl-C or Ctrl-D.
pub fn run_interactive(client: &mut Client) -> rustyline::Result<()> {
    client.interactive = true;
    let config = Config::builder()
        .auto_add_history(false)
        .max_history_size(1000)?
        .completion_type(CompletionType::Circular)
        .build();
    let mut editor: Editor<CliHelper, FileHistory> = Editor::with_config(config)?;
    editor.set_helper(Some(CliHelper::new(client.help_table())));
    let home = std::env::var("HOME").ok();
    let env = std::env::var(HISTFILE_ENV).ok();
    let history = history_path(env.as_deref(), home.as_deref());
    if let Some(path) = &history {
        // A missing file is a first run.
        let _ = editor.load_history(path);
    }
    loop {
        let line = match editor.readline(&client.prompt()) {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) | Err(ReadlineError::Eof) => return Ok(()),
            Err(err) => return Err(err),
        };
        if line.is_empty() {
            continue;
        }
        let sensitive = split_args(line.as_bytes()).is_some_and(|argv| {
            let skip = usize::from(matches!(repeat_prefix(&argv), Ok(Some(_))));
            is_sensitive(&argv[skip.min(argv.len())..])
        });
        if !sensitive {
            let _ = editor.add_history_entry(line.as_str());
            if let Some(path) = &history {
                let _ = editor.save_history(path);
            }
        }
        let mut hints = editor.helper().is_some_and(|h| h.hints);
        let flow = process_line(client, line.as_bytes(), &mut hints);
        if let Some(helper) = editor.helper_mut() {
            helper.hints = hints;
            if helper.help.is_empty() && client.is_connected() {
                helper.help = client.help_table();
            }
        }
        if flow == Flow::Quit {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(args: &[&str]) -> Vec<Vec<u8>> {
        args.iter().map(|a| a.as_bytes().to_vec()).collect()
    }

    #[test]
    fn history_file_location() {
        assert_eq!(
            history_path(None, Some("/home/u")),
            Some(PathBuf::from("/home/u/.ferrokv_history"))
        );
        assert_eq!(
            history_path(Some("/tmp/h"), Some("/home/u")),
            Some(PathBuf::from("/tmp/h"))
        );
        assert_eq!(
            history_path(Some(""), Some("/home/u")),
            Some(PathBuf::from("/home/u/.ferrokv_history"))
        );
        assert_eq!(history_path(Some("/dev/null"), Some("/home/u")), None);
        assert_eq!(history_path(None, None), None);
    }

    #[test]
    fn repeat_counts() {
        assert_eq!(repeat_prefix(&argv(&["3", "incr", "x"])), Ok(Some(3)));
        assert_eq!(repeat_prefix(&argv(&["incr", "x"])), Ok(None));
        assert_eq!(repeat_prefix(&argv(&["3"])), Ok(None));
        assert_eq!(repeat_prefix(&argv(&["3x", "ping"])), Ok(None));
        assert_eq!(repeat_prefix(&argv(&["0", "ping"])), Err(()));
        assert_eq!(repeat_prefix(&argv(&["-2", "ping"])), Err(()));
        assert_eq!(
            repeat_prefix(&argv(&["99999999999999999999", "ping"])),
            Err(())
        );
    }

    #[test]
    fn preferences() {
        let mut hints = true;
        set_preference(&argv(&[":set", "nohints"]), &mut hints);
        assert!(!hints);
        set_preference(&argv(&[":SET", "HINTS"]), &mut hints);
        assert!(hints);
        set_preference(&argv(&[":set", "bogus"]), &mut hints);
        assert!(hints);
    }
}
