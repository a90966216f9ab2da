//! The declarative command table: one [`CommandSpec`] per command drives dispatch,
//! arity checks, key extraction (and so locking), `COMMAND` output and ACL categories.

use bytes::Bytes;
use ferrokv_protocol::Frame;

use crate::engine::Engine;
use crate::session::Session;
use crate::storage::{DbIndex, StorageError, Txn};

/// Command flags, named as Redis' `COMMAND INFO` reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CmdFlags(pub u32);

impl CmdFlags {
    /// Modifies the keyspace.
    pub const WRITE: CmdFlags = CmdFlags(1);
    /// Only reads the keyspace.
    pub const READONLY: CmdFlags = CmdFlags(1 << 1);
    /// May grow memory; refused when over `maxmemory`.
    pub const DENYOOM: CmdFlags = CmdFlags(1 << 2);
    /// O(1) or O(log n); never blocks for long.
    pub const FAST: CmdFlags = CmdFlags(1 << 3);
    /// Pub/sub related.
    pub const PUBSUB: CmdFlags = CmdFlags(1 << 4);
    /// Not allowed from scripts.
    pub const NOSCRIPT: CmdFlags = CmdFlags(1 << 5);
    /// Allowed while loading the dataset.
    pub const LOADING: CmdFlags = CmdFlags(1 << 6);
    /// Allowed on a replica with stale data.
    pub const STALE: CmdFlags = CmdFlags(1 << 7);
    /// Administrative; `@admin` and `@dangerous`.
    pub const ADMIN: CmdFlags = CmdFlags(1 << 8);
    /// May block the client.
    pub const BLOCKING: CmdFlags = CmdFlags(1 << 9);
    /// Refused inside MULTI.
    pub const NO_MULTI: CmdFlags = CmdFlags(1 << 10);
    /// Allowed before authentication.
    pub const NO_AUTH: CmdFlags = CmdFlags(1 << 11);
    /// Not counted in latency/slowlog-sensitive paths, as Redis' `skip_slowlog`.
    pub const SKIP_SLOWLOG: CmdFlags = CmdFlags(1 << 12);
    /// Allowed while the server is busy running a script.
    pub const ALLOW_BUSY: CmdFlags = CmdFlags(1 << 13);
    /// Does not mark the client as having sent a command for stats (`no-mandatory-keys`
    /// in Redis means the keys may be absent).
    pub const NO_MANDATORY_KEYS: CmdFlags = CmdFlags(1 << 14);
    /// Does not write but is propagated (Redis' `may_replicate`, not reported by
    /// `COMMAND`): held back by `CLIENT PAUSE WRITE` like a write.
    pub const MAY_REPLICATE: CmdFlags = CmdFlags(1 << 30);
    /// Reads/writes random keys or the whole keyspace: the scope locks everything.
    /// Not a Redis flag; never reported by `COMMAND`.
    pub const WHOLE_KEYSPACE: CmdFlags = CmdFlags(1 << 31);

    const NAMES: [(CmdFlags, &'static str); 15] = [
        (CmdFlags::WRITE, "write"),
        (CmdFlags::READONLY, "readonly"),
        (CmdFlags::DENYOOM, "denyoom"),
        (CmdFlags::ADMIN, "admin"),
        (CmdFlags::PUBSUB, "pubsub"),
        (CmdFlags::NOSCRIPT, "noscript"),
        (CmdFlags::BLOCKING, "blocking"),
        (CmdFlags::LOADING, "loading"),
        (CmdFlags::STALE, "stale"),
        (CmdFlags::SKIP_SLOWLOG, "skip_slowlog"),
        (CmdFlags::NO_AUTH, "no_auth"),
        (CmdFlags::ALLOW_BUSY, "allow_busy"),
        (CmdFlags::FAST, "fast"),
        (CmdFlags::NO_MULTI, "no_multi"),
        (CmdFlags::NO_MANDATORY_KEYS, "no_mandatory_keys"),
    ];

    /// Union of two flag sets (usable in `const` tables).
    pub const fn or(self, other: CmdFlags) -> CmdFlags {
        CmdFlags(self.0 | other.0)
    }

    /// Whether every flag of `other` is set.
    pub const fn has(self, other: CmdFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// Flag names in Redis' order, for `COMMAND INFO`.
    pub fn names(self) -> Vec<&'static str> {
        Self::NAMES
            .iter()
            .filter(|(f, _)| self.has(*f))
            .map(|(_, n)| *n)
            .collect()
    }
}

/// Positions of key arguments, as Redis' legacy (first, last, step) triple.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyPositions {
    /// Index of the first key (0 = the command has no keys).
    pub first: i32,
    /// Index of the last key; negative counts from the end (-1 = last argument).
    pub last: i32,
    /// Distance between keys.
    pub step: i32,
    /// Index of a `numkeys` argument followed by that many keys (`ZUNIONSTORE dst 2
    /// a b`, `LMPOP 2 a b LEFT`); 0 = none. These keys come after any from the triple.
    pub numkeys_at: i32,
}

impl KeyPositions {
    /// A command without key arguments.
    pub const NONE: KeyPositions = KeyPositions {
        first: 0,
        last: 0,
        step: 0,
        numkeys_at: 0,
    };
    /// The usual single key at index 1.
    pub const FIRST: KeyPositions = KeyPositions {
        first: 1,
        last: 1,
        step: 1,
        numkeys_at: 0,
    };
    /// Every argument from index 1 is a key.
    pub const ALL: KeyPositions = KeyPositions {
        first: 1,
        last: -1,
        step: 1,
        numkeys_at: 0,
    };

    /// Key positions with explicit bounds.
    pub const fn new(first: i32, last: i32, step: i32) -> KeyPositions {
        KeyPositions {
            first,
            last,
            step,
            numkeys_at: 0,
        }
    }

    /// Keys counted by the argument at `at` (after the triple's keys, if any).
    pub const fn numkeys(at: i32) -> KeyPositions {
        KeyPositions {
            first: 0,
            last: 0,
            step: 0,
            numkeys_at: at,
        }
    }

    /// These positions plus keys counted by the argument at `at`.
    pub const fn and_numkeys(self, at: i32) -> KeyPositions {
        KeyPositions {
            numkeys_at: at,
            ..self
        }
    }

    /// Keys after the `STREAMS` keyword, as XREAD and XREADGROUP take them.
    pub const STREAMS: KeyPositions = KeyPositions {
        first: 0,
        last: 0,
        step: 0,
        numkeys_at: -1,
    };

    /// Every key index in `argv`: the triple's, then the counted ones. A `numkeys`
    /// that is not a positive integer, or exceeds the arguments, counts as 0 (the
    /// handler reports the error without touching keys).
    pub fn key_indexes(&self, argv: &[Bytes]) -> Vec<usize> {
        if self.numkeys_at < 0 {
            return streams_keys(argv);
        }
        let mut out: Vec<usize> = self.indexes(argv.len()).collect();
        let at = self.numkeys_at as usize;
        if at > 0 {
            let n = argv
                .get(at)
                .and_then(|a| std::str::from_utf8(a).ok())
                .and_then(|a| a.parse::<usize>().ok())
                .unwrap_or(0);
            if at + n < argv.len() {
                out.extend(at + 1..=at + n);
            }
        }
        out
    }

    /// The indexes of the keys in `argv` (which includes the command name).
    pub fn indexes(&self, argc: usize) -> impl Iterator<Item = usize> {
        let argc = argc as i64;
        let first = self.first as i64;
        let last = if self.last < 0 {
            argc + self.last as i64
        } else {
            self.last as i64
        };
        let last = last.min(argc - 1);
        let step = self.step.max(1) as usize;
        let range = if first > 0 && last >= first {
            first as usize..last as usize + 1
        } else {
            0..0
        };
        range.step_by(step)
    }
}

/// Finds key arguments by parsing a command's options; returns their indexes in argv.
pub type KeyFinder = fn(&[Bytes]) -> Vec<usize>;

/// Redis' `xreadGetKeys`: options up to `STREAMS`, then as many keys as IDs; none
/// when the arguments are malformed (the handler reports the error).
fn streams_keys(argv: &[Bytes]) -> Vec<usize> {
    let mut i = 1;
    let mut streams = None;
    while i < argv.len() {
        let arg = &argv[i];
        if arg.eq_ignore_ascii_case(b"block") || arg.eq_ignore_ascii_case(b"count") {
            i += 2;
        } else if arg.eq_ignore_ascii_case(b"group") {
            i += 3;
        } else if arg.eq_ignore_ascii_case(b"noack") {
            i += 1;
        } else if arg.eq_ignore_ascii_case(b"streams") {
            streams = Some(i);
            break;
        } else {
            break;
        }
    }
    let Some(pos) = streams else {
        return Vec::new();
    };
    let num = argv.len() - pos - 1;
    if num == 0 || !num.is_multiple_of(2) {
        return Vec::new();
    }
    (pos + 1..=pos + num / 2).collect()
}

/// A command handler: runs inside the command's atomic scope and returns its reply.
pub type Handler = fn(&mut Ctx<'_>, &[Bytes]) -> CmdResult;

/// The declarative description of one command (or subcommand).
#[derive(Debug)]
pub struct CommandSpec {
    /// Lower-case name (`get`, or the subcommand name such as `getname`).
    pub name: &'static str,
    /// Redis arity: exact argument count including the name, or -N for at least N.
    pub arity: i32,
    /// Behaviour flags.
    pub flags: CmdFlags,
    /// Explicit ACL categories without `@` (implicit ones come from the flags).
    pub acl: &'static [&'static str],
    /// Where the keys are.
    pub keys: KeyPositions,
    /// Group for `COMMAND DOCS` (`string`, `generic`, `connection`, `server`, `bitmap`).
    pub group: &'static str,
    /// Version of Redis that introduced it.
    pub since: &'static str,
    /// One-line description for `COMMAND DOCS` and the CLI.
    pub summary: &'static str,
    /// Argument syntax as Redis documents it, for `COMMAND DOCS` and CLI hints.
    pub syntax: &'static str,
    /// The implementation; `None` for a container whose subcommands do the work.
    pub handler: Option<Handler>,
    /// Subcommands (`CLIENT LIST`, `CONFIG GET`, ...).
    pub subcommands: &'static [CommandSpec],
    /// Further keys found by parsing options (Redis' `movablekeys`, as the
    /// destination of `GEORADIUS ... STORE key`): their indexes in argv, added to those
    /// of [`CommandSpec::keys`] so that the command's scope holds them too.
    pub extra_keys: Option<KeyFinder>,
}

impl CommandSpec {
    /// A spec with the common defaults; fill the rest with struct update syntax.
    pub const DEFAULT: CommandSpec = CommandSpec {
        name: "",
        arity: 1,
        flags: CmdFlags(0),
        acl: &[],
        keys: KeyPositions::NONE,
        group: "generic",
        since: "1.0.0",
        summary: "",
        syntax: "",
        handler: None,
        subcommands: &[],
        extra_keys: None,
    };

    /// Every key index in `argv`: the positional ones, then those found by parsing.
    pub fn key_indexes(&self, argv: &[Bytes]) -> Vec<usize> {
        let mut out = self.keys.key_indexes(argv);
        if let Some(find) = self.extra_keys {
            out.extend(find(argv));
        }
        out
    }

    /// Whether `argc` arguments (name included) satisfy the arity.
    pub fn arity_ok(&self, argc: usize) -> bool {
        if self.arity >= 0 {
            argc == self.arity as usize
        } else {
            argc >= self.arity.unsigned_abs() as usize
        }
    }

    /// ACL categories, implicit ones (from flags) included, as Redis reports them.
    pub fn acl_categories(&self) -> Vec<&'static str> {
        let mut cats: Vec<&'static str> = Vec::new();
        let f = self.flags;
        if f.has(CmdFlags::WRITE) {
            cats.push("write");
        }
        if f.has(CmdFlags::READONLY) {
            cats.push("read");
        }
        if f.has(CmdFlags::ADMIN) {
            cats.push("admin");
            cats.push("dangerous");
        }
        if f.has(CmdFlags::PUBSUB) {
            cats.push("pubsub");
        }
        if f.has(CmdFlags::FAST) {
            cats.push("fast");
        }
        if f.has(CmdFlags::BLOCKING) {
            cats.push("blocking");
        }
        if !f.has(CmdFlags::FAST) {
            cats.push("slow");
        }
        for c in self.acl {
            if !cats.contains(c) {
                cats.push(c);
            }
        }
        cats
    }
}

/// Everything a handler may use: the engine, the client's session and the storage
/// transaction holding the command's locks.
pub struct Ctx<'a> {
    /// The engine (config, clients, stats).
    pub engine: &'a Engine,
    /// The calling connection's state.
    pub session: &'a mut Session,
    /// Storage access within the command's atomic scope.
    pub txn: &'a mut dyn Txn,
}

impl Ctx<'_> {
    /// The selected database.
    pub fn db(&self) -> DbIndex {
        self.session.db
    }

    /// Records a write to a key outside the command's key positions (found by
    /// parsing, as `SORT ... STORE`), so that clients blocked on it are served.
    pub fn note_written_key(&mut self, key: &Bytes) {
        self.session.extra_written_keys.push(key.clone());
    }
}

/// Result of a handler: a reply, or an error that becomes an error reply.
pub type CmdResult = Result<Frame, CmdError>;

/// A command error; its text is sent verbatim after `-`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CmdError(pub String);

impl CmdError {
    /// `ERR syntax error`.
    pub fn syntax() -> CmdError {
        CmdError("ERR syntax error".into())
    }
    /// `ERR value is not an integer or out of range`.
    pub fn not_integer() -> CmdError {
        CmdError("ERR value is not an integer or out of range".into())
    }
    /// `ERR value is not a valid float`.
    pub fn not_float() -> CmdError {
        CmdError("ERR value is not a valid float".into())
    }
    /// `WRONGTYPE Operation against a key holding the wrong kind of value`.
    pub fn wrong_type() -> CmdError {
        CmdError("WRONGTYPE Operation against a key holding the wrong kind of value".into())
    }
    /// `ERR wrong number of arguments for 'cmd' command`.
    pub fn arity(name: &str) -> CmdError {
        CmdError(format!(
            "ERR wrong number of arguments for '{}' command",
            name
        ))
    }
    /// Any `ERR ...` message.
    pub fn err(msg: impl std::fmt::Display) -> CmdError {
        CmdError(format!("ERR {msg}"))
    }
}

impl From<StorageError> for CmdError {
    fn from(e: StorageError) -> CmdError {
        match e {
            StorageError::WrongType => CmdError::wrong_type(),
            StorageError::Io(msg) => CmdError(format!("ERR storage error: {msg}")),
        }
    }
}

impl From<CmdError> for Frame {
    fn from(e: CmdError) -> Frame {
        Frame::Error(Bytes::from(e.0))
    }
}
