//! `ferrokv-cli`, a redis-cli-compatible command-line client for ferrokv.
//!
//! Modes, as redis-cli chooses them: a command on the command line runs once (or `-r`
//! times, `-i` seconds apart); without one, commands are read line by line from stdin
//! when it is not a terminal, else from an interactive prompt with history and hints.
//! `--pipe` streams raw RESP from stdin.
#![deny(unsafe_code)]

mod args;
mod client;
mod connection;
mod format;
mod help;
mod pipe;
mod repl;

use std::io::{self, IsTerminal, Read};
use std::process;

use args::Options;
use client::Client;
use format::OutputMode;

fn main() {
    let opts = Options::from_env();
    if opts.auth_warning {
        eprintln!(
            "Warning: Using a password with '-a' or '-u' option on the command line \
             interface may not be safe."
        );
    }
    let stdout_tty = io::stdout().is_terminal();
    let output = opts.output.unwrap_or(if stdout_tty {
        OutputMode::Standard
    } else {
        OutputMode::Raw
    });
    let show_pushes = opts.show_pushes.unwrap_or(stdout_tty);
    let mut client = Client::new(opts, output, show_pushes);

    if client.options().pipe {
        process::exit(pipe::run(&mut client, io::stdin()));
    }

    if client.options().command.is_empty() && !client.options().stdin_last_arg {
        if io::stdin().is_terminal() {
            // As redis-cli: start even without a server, and retry on each command.
            client.connect(false);
            if let Err(err) = repl::run_interactive(&mut client) {
                eprintln!("{err}");
                process::exit(1);
            }
        } else {
            if !client.connect(false) {
                process::exit(1);
            }
            if let Err(err) = repl::run_lines(&mut client, io::stdin().lock()) {
                eprintln!("Error reading stdin: {err}");
                process::exit(1);
            }
        }
        process::exit(0);
    }

    let mut argv = client.options().command.clone();
    if client.options().stdin_last_arg {
        let mut last = Vec::new();
        if let Err(err) = io::stdin().read_to_end(&mut last) {
            eprintln!("Error reading stdin: {err}");
            process::exit(1);
        }
        argv.push(last);
    }
    if !client.connect(false) {
        process::exit(1);
    }
    let repeat = client.options().repeat;
    match client.issue_command(&argv, repeat) {
        Ok(()) => process::exit(0),
        Err(client::IssueError::NotConnected) => process::exit(1),
        Err(client::IssueError::Broken(err)) => {
            eprintln!("Error: {err}");
            process::exit(1);
        }
    }
}
