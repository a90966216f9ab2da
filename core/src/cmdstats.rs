//! Per-command and per-error counters for `INFO commandstats` and `INFO errorstats`.
//! The table of command entries is built once from the command table, so counting a
//! call is a map lookup by spec address plus relaxed atomic adds, with no lock.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;

use crate::command::CommandSpec;

/// Counters of one command (or subcommand), named as Redis' `cmdstat_<name>` line.
#[derive(Debug)]
pub struct CommandStat {
    /// Full name: `get`, or `client|list` for a subcommand.
    pub name: String,
    /// Calls that ran.
    pub calls: AtomicU64,
    /// Total microseconds spent running them.
    pub usec: AtomicU64,
    /// Calls refused before running (arity, syntax of the subcommand).
    pub rejected: AtomicU64,
    /// Calls that ran and replied with an error.
    pub failed: AtomicU64,
}

/// All command counters plus the error-code counters.
#[derive(Debug, Default)]
pub struct CommandStats {
    by_spec: HashMap<usize, CommandStat>,
    errors: Mutex<BTreeMap<String, u64>>,
}

fn key(spec: &'static CommandSpec) -> usize {
    spec as *const CommandSpec as usize
}

impl CommandStats {
    /// One entry per command and subcommand of `specs`.
    pub fn new<'a>(specs: impl Iterator<Item = &'static CommandSpec> + 'a) -> CommandStats {
        let mut by_spec = HashMap::new();
        let mut add = |spec: &'static CommandSpec, name: String| {
            by_spec.insert(
                key(spec),
                CommandStat {
                    name,
                    calls: AtomicU64::new(0),
                    usec: AtomicU64::new(0),
                    rejected: AtomicU64::new(0),
                    failed: AtomicU64::new(0),
                },
            );
        };
        for spec in specs {
            add(spec, spec.name.to_string());
            for sub in spec.subcommands {
                add(sub, format!("{}|{}", spec.name, sub.name));
            }
        }
        CommandStats {
            by_spec,
            errors: Mutex::new(BTreeMap::new()),
        }
    }

    /// The counters of a spec from the table.
    pub fn get(&self, spec: &'static CommandSpec) -> Option<&CommandStat> {
        self.by_spec.get(&key(spec))
    }

    /// Counts an error reply under its code (`ERR`, `WRONGTYPE`, ...).
    pub fn note_error(&self, message: &[u8]) {
        let code = message.split(|&b| b == b' ').next().unwrap_or(b"ERR");
        let code = String::from_utf8_lossy(code).into_owned();
        *self.errors.lock().entry(code).or_insert(0) += 1;
    }

    /// `cmdstat_...` lines for commands called at least once, sorted by name.
    pub fn command_lines(&self) -> Vec<String> {
        let mut lines: Vec<(&str, String)> = self
            .by_spec
            .values()
            .filter_map(|s| {
                let calls = s.calls.load(Ordering::Relaxed);
                let rejected = s.rejected.load(Ordering::Relaxed);
                let failed = s.failed.load(Ordering::Relaxed);
                if calls == 0 && rejected == 0 && failed == 0 {
                    return None;
                }
                let usec = s.usec.load(Ordering::Relaxed);
                let per_call = if calls > 0 { usec as f64 / calls as f64 } else { 0.0 };
                Some((
                    s.name.as_str(),
                    format!(
                        "cmdstat_{}:calls={calls},usec={usec},usec_per_call={per_call:.2},rejected_calls={rejected},failed_calls={failed}",
                        s.name
                    ),
                ))
            })
            .collect();
        lines.sort();
        lines.into_iter().map(|(_, l)| l).collect()
    }

    /// `errorstat_...` lines, sorted by code.
    pub fn error_lines(&self) -> Vec<String> {
        self.errors
            .lock()
            .iter()
            .map(|(code, n)| format!("errorstat_{code}:count={n}"))
            .collect()
    }

    /// Zeroes everything (`CONFIG RESETSTAT`).
    pub fn reset(&self) {
        for s in self.by_spec.values() {
            for c in [&s.calls, &s.usec, &s.rejected, &s.failed] {
                c.store(0, Ordering::Relaxed);
            }
        }
        self.errors.lock().clear();
    }
}
