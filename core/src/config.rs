//! Runtime configuration: Redis 7.0's parameter table (names, aliases, defaults, value
//! rules and mutability, from `standardConfig static_configs[]` in `config.c`), read by
//! `CONFIG GET`, changed by `CONFIG SET`, the config file (`redis.conf` syntax) and
//! `--name value` command-line options, and written back by `CONFIG REWRITE`.
//!
//! Values are kept as the text `CONFIG GET` prints, so a reader parses the form it needs
//! ([`Config::get_i64`] for numbers). Error texts are Redis' own.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use ferrokv_protocol::split_args;
use parking_lot::RwLock;

use crate::util::glob::glob_match;
use crate::util::number::{parse_f64, parse_i64};

/// A numeric bound; `i128` holds both `LLONG_MIN` and `ULLONG_MAX`.
type Bound = i128;

const INT_MIN: Bound = i32::MIN as Bound;
const INT_MAX: Bound = i32::MAX as Bound;
const UINT_MAX: Bound = u32::MAX as Bound;
const LONG_MAX: Bound = i64::MAX as Bound;
const ULLONG_MAX: Bound = u64::MAX as Bound;

/// Extra checks on a string parameter, as Redis' `is_valid_fn`s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrCheck {
    /// Any text.
    Any,
    /// `dbfilename`: a file name, not a path.
    FileName,
    /// `appendfilename`: a non-empty file name.
    AofFileName,
    /// `appenddirname`: a non-empty directory name.
    AofDirName,
    /// `cluster-announce-hostname`: letters, digits, `-` and `.`.
    Hostname,
    /// `proc-title-template`: known `{variables}` only.
    ProcTitle,
}

/// Parameters with their own syntax (Redis' "special configs").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Special {
    /// `dir`: an existing directory, printed as an absolute path.
    Dir,
    /// `save <seconds> <changes> ...`.
    Save,
    /// `client-output-buffer-limit <class> <hard> <soft> <seconds> ...`.
    ClientOutputBufferLimit,
    /// `oom-score-adj-values <master> <replica> <bgchild>`.
    OomScoreAdjValues,
    /// `notify-keyspace-events <flags>`.
    NotifyKeyspaceEvents,
    /// `bind <addr> ...`.
    Bind,
    /// `replicaof <host> <port>` / `replicaof no one`.
    ReplicaOf,
    /// `latency-tracking-info-percentiles <p> ...`.
    LatencyPercentiles,
}

/// How a parameter's value is checked and normalised.
#[derive(Debug, Clone, Copy)]
pub enum ParamKind {
    /// `yes` / `no`.
    Bool,
    /// An integer within bounds.
    Int {
        /// Smallest accepted value.
        min: Bound,
        /// Largest accepted value.
        max: Bound,
    },
    /// A byte size with optional unit (`1gb`, `512mb`, `100k`), printed as bytes.
    Memory {
        /// Smallest accepted value.
        min: Bound,
        /// Largest accepted value.
        max: Bound,
    },
    /// A byte size or a percentage (`maxmemory-clients`).
    MemoryOrPercent {
        /// Smallest accepted value; a percentage is stored negated, so `-100` means 100%.
        min: Bound,
        /// Largest accepted value.
        max: Bound,
    },
    /// An octal number (`unixsocketperm`).
    Octal {
        /// Largest accepted value.
        max: Bound,
    },
    /// One of fixed words, in the order Redis lists them in errors.
    Enum(&'static [&'static str]),
    /// Text, with an optional check.
    Str(StrCheck),
    /// A parameter with its own syntax.
    Special(Special),
}

/// Refused by `CONFIG SET` (`IMMUTABLE_CONFIG`).
pub const IMMUTABLE: u8 = 1;
/// Refused by `CONFIG SET` unless `enable-protected-configs` allows it (`PROTECTED_CONFIG`).
pub const PROTECTED: u8 = 2;
/// The empty string means "unset" and is not written by `CONFIG REWRITE`
/// (`EMPTY_STRING_IS_NULL`).
pub const NULLABLE: u8 = 4;

/// One configuration parameter.
#[derive(Debug)]
pub struct ConfigParam {
    /// Canonical name.
    pub name: &'static str,
    /// Older name that also works (`slaveof` for `replicaof`, ...).
    pub alias: Option<&'static str>,
    /// Value rules.
    pub kind: ParamKind,
    /// Default, as `CONFIG GET` prints it.
    pub default: &'static str,
    /// [`IMMUTABLE`], [`PROTECTED`], [`NULLABLE`].
    pub flags: u8,
}

impl ConfigParam {
    /// Whether `CONFIG SET` may change it while running.
    pub fn mutable(&self) -> bool {
        self.flags & IMMUTABLE == 0
    }

    /// Whether it takes several arguments (`save 900 1 300 10`).
    pub fn multi_arg(&self) -> bool {
        matches!(
            self.kind,
            ParamKind::Special(
                Special::Save
                    | Special::ClientOutputBufferLimit
                    | Special::OomScoreAdjValues
                    | Special::Bind
                    | Special::ReplicaOf
                    | Special::LatencyPercentiles
            )
        )
    }

    const fn alias(self, alias: &'static str) -> ConfigParam {
        ConfigParam {
            alias: Some(alias),
            ..self
        }
    }

    const fn with(self, flags: u8) -> ConfigParam {
        ConfigParam {
            flags: self.flags | flags,
            ..self
        }
    }
}

const fn param(name: &'static str, kind: ParamKind, default: &'static str) -> ConfigParam {
    ConfigParam {
        name,
        alias: None,
        kind,
        default,
        flags: 0,
    }
}

const fn yes(name: &'static str) -> ConfigParam {
    param(name, ParamKind::Bool, "yes")
}

const fn no(name: &'static str) -> ConfigParam {
    param(name, ParamKind::Bool, "no")
}

const fn int(name: &'static str, min: Bound, max: Bound, default: &'static str) -> ConfigParam {
    param(name, ParamKind::Int { min, max }, default)
}

const fn mem(name: &'static str, min: Bound, max: Bound, default: &'static str) -> ConfigParam {
    param(name, ParamKind::Memory { min, max }, default)
}

const fn string(name: &'static str, default: &'static str) -> ConfigParam {
    param(name, ParamKind::Str(StrCheck::Any), default)
}

/// A string whose empty value means "not set" (`EMPTY_STRING_IS_NULL`).
const fn null_str(name: &'static str) -> ConfigParam {
    string(name, "").with(NULLABLE)
}

const fn checked(name: &'static str, check: StrCheck, default: &'static str) -> ConfigParam {
    param(name, ParamKind::Str(check), default)
}

const fn words(
    name: &'static str,
    words: &'static [&'static str],
    default: &'static str,
) -> ConfigParam {
    param(name, ParamKind::Enum(words), default)
}

const fn special(name: &'static str, kind: Special, default: &'static str) -> ConfigParam {
    param(name, ParamKind::Special(kind), default)
}

const MAXMEMORY_POLICIES: &[&str] = &[
    "volatile-lru",
    "volatile-lfu",
    "volatile-random",
    "volatile-ttl",
    "allkeys-lru",
    "allkeys-lfu",
    "allkeys-random",
    "noeviction",
];
const SYSLOG_FACILITIES: &[&str] = &[
    "user", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
];
const LOGLEVELS: &[&str] = &["debug", "verbose", "notice", "warning"];
const SUPERVISED: &[&str] = &["upstart", "systemd", "auto", "no"];
const AOF_FSYNC: &[&str] = &["everysec", "always", "no"];
const DISKLESS_LOAD: &[&str] = &["disabled", "on-empty-db", "swapdb"];
const OOM_SCORE_ADJ: &[&str] = &["no", "yes", "relative", "absolute"];
const ACL_PUBSUB_DEFAULT: &[&str] = &["allchannels", "resetchannels"];
const SANITIZE_DUMP: &[&str] = &["no", "yes", "clients"];
const PROTECTED_ACTION: &[&str] = &["no", "yes", "local"];
const ENDPOINT_TYPES: &[&str] = &["ip", "hostname", "unknown-endpoint"];

/// Default `client-output-buffer-limit`, as `CONFIG GET` prints it.
const COBL_DEFAULT: &str = "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60";

/// Every parameter of Redis 7.0 (built without TLS; hidden test-only ones left out),
/// plus ferrokv's own `backend`.
pub static PARAMS: &[ConfigParam] = &[
    // Booleans.
    yes("rdbchecksum").with(IMMUTABLE),
    no("daemonize").with(IMMUTABLE),
    no("io-threads-do-reads").with(IMMUTABLE),
    no("always-show-logo").with(IMMUTABLE),
    yes("protected-mode"),
    yes("rdbcompression"),
    no("rdb-del-sync-files"),
    yes("activerehashing"),
    yes("stop-writes-on-bgsave-error"),
    yes("set-proc-title").with(IMMUTABLE),
    yes("dynamic-hz"),
    no("lazyfree-lazy-eviction"),
    no("lazyfree-lazy-expire"),
    no("lazyfree-lazy-server-del"),
    no("lazyfree-lazy-user-del"),
    no("lazyfree-lazy-user-flush"),
    no("repl-disable-tcp-nodelay"),
    yes("repl-diskless-sync"),
    yes("aof-rewrite-incremental-fsync"),
    no("no-appendfsync-on-rewrite"),
    yes("cluster-require-full-coverage"),
    yes("rdb-save-incremental-fsync"),
    yes("aof-load-truncated"),
    yes("aof-use-rdb-preamble"),
    no("aof-timestamp-enabled"),
    no("cluster-replica-no-failover").alias("cluster-slave-no-failover"),
    no("replica-lazy-flush").alias("slave-lazy-flush"),
    yes("replica-serve-stale-data").alias("slave-serve-stale-data"),
    yes("replica-read-only").alias("slave-read-only"),
    yes("replica-ignore-maxmemory").alias("slave-ignore-maxmemory"),
    yes("jemalloc-bg-thread"),
    no("activedefrag"),
    no("syslog-enabled").with(IMMUTABLE),
    no("cluster-enabled").with(IMMUTABLE),
    no("appendonly"),
    no("cluster-allow-reads-when-down"),
    yes("cluster-allow-pubsubshard-when-down"),
    yes("crash-log-enabled"),
    yes("crash-memcheck-enabled"),
    yes("disable-thp").with(IMMUTABLE),
    yes("cluster-allow-replica-migration"),
    yes("replica-announced"),
    yes("latency-tracking"),
    no("aof-disable-auto-gc"),
    // Strings.
    string("aclfile", "").with(IMMUTABLE),
    null_str("unixsocket").with(IMMUTABLE),
    null_str("pidfile").with(IMMUTABLE),
    null_str("replica-announce-ip").alias("slave-announce-ip"),
    null_str("masteruser"),
    null_str("cluster-announce-ip"),
    string("cluster-config-file", "nodes.conf").with(IMMUTABLE),
    checked("cluster-announce-hostname", StrCheck::Hostname, "").with(NULLABLE),
    string("syslog-ident", "redis").with(IMMUTABLE),
    checked("dbfilename", StrCheck::FileName, "dump.rdb").with(PROTECTED),
    checked("appendfilename", StrCheck::AofFileName, "appendonly.aof").with(IMMUTABLE),
    checked("appenddirname", StrCheck::AofDirName, "appendonlydir").with(IMMUTABLE),
    null_str("server_cpulist").with(IMMUTABLE),
    null_str("bio_cpulist").with(IMMUTABLE),
    null_str("aof_rewrite_cpulist").with(IMMUTABLE),
    null_str("bgsave_cpulist").with(IMMUTABLE),
    string("ignore-warnings", ""),
    checked(
        "proc-title-template",
        StrCheck::ProcTitle,
        "{title} {listen-addr} {server-mode}",
    ),
    null_str("bind-source-addr"),
    string("logfile", "").with(IMMUTABLE),
    null_str("masterauth"),
    null_str("requirepass"),
    // Enums.
    words("supervised", SUPERVISED, "no").with(IMMUTABLE),
    words("syslog-facility", SYSLOG_FACILITIES, "local0").with(IMMUTABLE),
    words("repl-diskless-load", DISKLESS_LOAD, "disabled"),
    words("loglevel", LOGLEVELS, "notice"),
    words("maxmemory-policy", MAXMEMORY_POLICIES, "noeviction"),
    words("appendfsync", AOF_FSYNC, "everysec"),
    words("oom-score-adj", OOM_SCORE_ADJ, "no"),
    words("acl-pubsub-default", ACL_PUBSUB_DEFAULT, "resetchannels"),
    words("sanitize-dump-payload", SANITIZE_DUMP, "no"),
    words("enable-protected-configs", PROTECTED_ACTION, "no").with(IMMUTABLE),
    words("enable-debug-command", PROTECTED_ACTION, "no").with(IMMUTABLE),
    words("enable-module-command", PROTECTED_ACTION, "no").with(IMMUTABLE),
    words("cluster-preferred-endpoint-type", ENDPOINT_TYPES, "ip"),
    // Integers.
    int("databases", 1, INT_MAX, "16").with(IMMUTABLE),
    int("port", 0, 65535, "6379"),
    int("io-threads", 1, 128, "1").with(IMMUTABLE),
    int("auto-aof-rewrite-percentage", 0, INT_MAX, "100"),
    int("cluster-replica-validity-factor", 0, INT_MAX, "10").alias("cluster-slave-validity-factor"),
    int("list-max-listpack-size", INT_MIN, INT_MAX, "-2").alias("list-max-ziplist-size"),
    int("tcp-keepalive", 0, INT_MAX, "300"),
    int("cluster-migration-barrier", 0, INT_MAX, "1"),
    int("active-defrag-cycle-min", 1, 99, "1"),
    int("active-defrag-cycle-max", 1, 99, "25"),
    int("active-defrag-threshold-lower", 0, 1000, "10"),
    int("active-defrag-threshold-upper", 0, 1000, "100"),
    int("lfu-log-factor", 0, INT_MAX, "10"),
    int("lfu-decay-time", 0, INT_MAX, "1"),
    int("replica-priority", 0, INT_MAX, "100").alias("slave-priority"),
    int("repl-diskless-sync-delay", 0, INT_MAX, "5"),
    int("maxmemory-samples", 1, INT_MAX, "5"),
    int("maxmemory-eviction-tenacity", 0, 100, "10"),
    int("timeout", 0, INT_MAX, "0"),
    int("replica-announce-port", 0, 65535, "0").alias("slave-announce-port"),
    int("tcp-backlog", 0, INT_MAX, "511").with(IMMUTABLE),
    int("cluster-port", 0, 65535, "0").with(IMMUTABLE),
    int("cluster-announce-bus-port", 0, 65535, "0"),
    int("cluster-announce-port", 0, 65535, "0"),
    int("cluster-announce-tls-port", 0, 65535, "0"),
    int("repl-timeout", 1, INT_MAX, "60"),
    int("repl-ping-replica-period", 1, INT_MAX, "10").alias("repl-ping-slave-period"),
    int("list-compress-depth", 0, INT_MAX, "0"),
    int("active-expire-effort", 1, 10, "1"),
    int("hz", 0, INT_MAX, "10"),
    int("min-replicas-to-write", 0, INT_MAX, "0").alias("min-slaves-to-write"),
    int("min-replicas-max-lag", 0, INT_MAX, "10").alias("min-slaves-max-lag"),
    int("shutdown-timeout", 0, INT_MAX, "10"),
    int("repl-diskless-sync-max-replicas", 0, INT_MAX, "0"),
    int("maxclients", 1, UINT_MAX, "10000"),
    param("unixsocketperm", ParamKind::Octal { max: 0o777 }, "0").with(IMMUTABLE),
    int("active-defrag-max-scan-fields", 1, LONG_MAX, "1000"),
    int("slowlog-max-len", 0, LONG_MAX, "128"),
    int("acllog-max-len", 0, LONG_MAX, "128"),
    int("busy-reply-threshold", 0, LONG_MAX, "5000").alias("lua-time-limit"),
    int("cluster-node-timeout", 0, LONG_MAX, "15000"),
    int("slowlog-log-slower-than", -1, LONG_MAX, "10000"),
    int("latency-monitor-threshold", 0, LONG_MAX, "0"),
    mem("proto-max-bulk-len", 1024 * 1024, LONG_MAX, "536870912"),
    int("stream-node-max-entries", 0, LONG_MAX, "100"),
    mem("repl-backlog-size", 1, LONG_MAX, "1048576"),
    mem("maxmemory", 0, ULLONG_MAX, "0"),
    mem("cluster-link-sendbuf-limit", 0, ULLONG_MAX, "0"),
    int("hash-max-listpack-entries", 0, LONG_MAX, "512").alias("hash-max-ziplist-entries"),
    int("set-max-intset-entries", 0, LONG_MAX, "512"),
    int("zset-max-listpack-entries", 0, LONG_MAX, "128").alias("zset-max-ziplist-entries"),
    mem("active-defrag-ignore-bytes", 1, LONG_MAX, "104857600"),
    mem("hash-max-listpack-value", 0, LONG_MAX, "64").alias("hash-max-ziplist-value"),
    mem("stream-node-max-bytes", 0, LONG_MAX, "4096"),
    mem("zset-max-listpack-value", 0, LONG_MAX, "64").alias("zset-max-ziplist-value"),
    mem("hll-sparse-max-bytes", 0, LONG_MAX, "3000"),
    int("tracking-table-max-keys", 0, LONG_MAX, "1000000"),
    mem(
        "client-query-buffer-limit",
        1024 * 1024,
        LONG_MAX,
        "1073741824",
    ),
    param(
        "maxmemory-clients",
        ParamKind::MemoryOrPercent {
            min: -100,
            max: LONG_MAX,
        },
        "0",
    ),
    int("repl-backlog-ttl", 0, LONG_MAX, "3600"),
    mem("auto-aof-rewrite-min-size", 0, LONG_MAX, "67108864"),
    // Special syntax.
    special("dir", Special::Dir, ".").with(PROTECTED),
    special("save", Special::Save, "3600 1 300 100 60 10000"),
    special(
        "client-output-buffer-limit",
        Special::ClientOutputBufferLimit,
        COBL_DEFAULT,
    ),
    special(
        "oom-score-adj-values",
        Special::OomScoreAdjValues,
        "0 200 800",
    ),
    special("notify-keyspace-events", Special::NotifyKeyspaceEvents, ""),
    special("bind", Special::Bind, "* -::*"),
    special("replicaof", Special::ReplicaOf, "")
        .alias("slaveof")
        .with(IMMUTABLE),
    special(
        "latency-tracking-info-percentiles",
        Special::LatencyPercentiles,
        "50 99 99.9",
    ),
    // ferrokv's own.
    words("backend", &["memory", "disk"], "memory").with(IMMUTABLE),
];

/// Why a value was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// No such parameter.
    Unknown,
    /// Not changeable at run time.
    Immutable,
    /// The value does not fit the parameter's rules; the text says why.
    BadValue(String),
}

/// Current configuration values, normalised to what `CONFIG GET` prints.
pub struct Config {
    values: RwLock<HashMap<&'static str, String>>,
    file: RwLock<Option<PathBuf>>,
    /// Set once a config file or command line gave `save`: later `save` lines add to
    /// it instead of replacing the defaults, as in Redis.
    save_loaded: AtomicBool,
}

impl Default for Config {
    fn default() -> Self {
        Config::new()
    }
}

impl Config {
    /// All parameters at their defaults; `dir` is the current directory.
    pub fn new() -> Config {
        let mut values: HashMap<&'static str, String> = PARAMS
            .iter()
            .map(|p| (p.name, p.default.to_string()))
            .collect();
        if let Ok(cwd) = std::env::current_dir() {
            values.insert("dir", cwd.to_string_lossy().into_owned());
        }
        Config {
            values: RwLock::new(values),
            file: RwLock::new(None),
            save_loaded: AtomicBool::new(false),
        }
    }

    /// The parameter named `name` (canonical or alias, case-insensitive).
    pub fn param(name: &str) -> Option<&'static ConfigParam> {
        lookup(name).map(|(p, _)| p)
    }

    /// The current value of a parameter.
    pub fn get(&self, name: &str) -> Option<String> {
        // Canonical names hit the map directly; aliases and other cases search the table.
        if let Some(value) = self.values.read().get(name) {
            return Some(value.clone());
        }
        let param = Config::param(name)?;
        self.values.read().get(param.name).cloned()
    }

    /// A numeric parameter (ints, memory sizes, and `yes`/`no` as 1/0); 0 if unset or
    /// not a number, `i64::MAX` for larger memory sizes.
    pub fn get_i64(&self, name: &str) -> i64 {
        match self.get(name).as_deref() {
            Some("yes") => 1,
            Some("no") => 0,
            Some(v) => v
                .parse::<i128>()
                .map(|n| n.clamp(i64::MIN as i128, i64::MAX as i128) as i64)
                .unwrap_or(0),
            None => 0,
        }
    }

    /// `CONFIG GET`: every (name, value) matching one of `patterns`, without repeats.
    /// A pattern without glob characters is looked up by name (and answered under the
    /// name as given); a glob matches canonical names and aliases alike.
    pub fn get_matching(&self, patterns: &[&[u8]]) -> Vec<(String, String)> {
        let values = self.values.read();
        let mut seen: HashSet<String> = HashSet::new();
        let mut out = Vec::new();
        let mut push = |name: String, param: &ConfigParam| {
            if seen.insert(name.to_ascii_lowercase()) {
                out.push((name, values.get(param.name).cloned().unwrap_or_default()));
            }
        };
        for pattern in patterns {
            if !pattern.iter().any(|c| matches!(c, b'[' | b'*' | b'?')) {
                let name = String::from_utf8_lossy(pattern).into_owned();
                if let Some((param, _)) = lookup(&name) {
                    push(name, param);
                }
                continue;
            }
            for (param, name) in registered_names() {
                if glob_match(pattern, name.as_bytes(), true) {
                    push(name.to_string(), param);
                }
            }
        }
        out
    }

    /// Every (name, value) whose name or alias matches the glob `pattern`.
    pub fn matching(&self, pattern: &[u8]) -> Vec<(String, String)> {
        self.get_matching(&[pattern])
    }

    /// Checks and normalises a single-argument `value` for `param` without storing it.
    pub fn normalise(param: &ConfigParam, value: &str) -> Result<String, ConfigError> {
        let args = if param.multi_arg() {
            split_spaces(value)
        } else {
            vec![value.to_string()]
        };
        parse_value(param, &args, param.default, false).map_err(ConfigError::BadValue)
    }

    /// Sets one parameter at run time, as `CONFIG SET` would.
    pub fn set(&self, name: &str, value: &str) -> Result<(), ConfigError> {
        let param = Config::param(name).ok_or(ConfigError::Unknown)?;
        if !param.mutable() {
            return Err(ConfigError::Immutable);
        }
        self.store(param, value)
    }

    /// Sets a parameter at start-up (config file, command line): immutable ones too.
    pub fn set_startup(&self, name: &str, value: &str) -> Result<(), ConfigError> {
        let param = Config::param(name).ok_or(ConfigError::Unknown)?;
        self.store(param, value)
    }

    fn store(&self, param: &'static ConfigParam, value: &str) -> Result<(), ConfigError> {
        let mut values = self.values.write();
        let args = if param.multi_arg() {
            split_spaces(value)
        } else {
            vec![value.to_string()]
        };
        let current = values.get(param.name).cloned().unwrap_or_default();
        let normalised =
            parse_value(param, &args, &current, false).map_err(ConfigError::BadValue)?;
        values.insert(param.name, normalised);
        Ok(())
    }

    /// `CONFIG SET name value [name value ...]`: all pairs or none. `local` tells whether
    /// the client connects from this host (for `enable-protected-configs local`). The
    /// error is Redis' text without the `ERR ` prefix.
    pub fn set_many(&self, pairs: &[(String, String)], local: bool) -> Result<(), String> {
        let mut values = self.values.write();
        let protected_ok = match values.get("enable-protected-configs").map(String::as_str) {
            Some("yes") => true,
            Some("local") => local,
            _ => false,
        };
        let mut targets: Vec<(&'static ConfigParam, &'static str)> =
            Vec::with_capacity(pairs.len());
        for (name, _) in pairs {
            let Some((param, registered)) = lookup(name) else {
                return Err(format!(
                    "Unknown option or number of arguments for CONFIG SET - '{name}'"
                ));
            };
            let refusal = if !param.mutable() {
                Some("can't set immutable config")
            } else if param.flags & PROTECTED != 0 && !protected_ok {
                Some("can't set protected config")
            } else if targets.iter().any(|(_, r)| *r == registered) {
                Some("duplicate parameter")
            } else {
                None
            };
            if let Some(why) = refusal {
                return Err(format!(
                    "CONFIG SET failed (possibly related to argument '{name}') - {why}"
                ));
            }
            targets.push((param, registered));
        }
        let mut staged: HashMap<&'static str, String> = HashMap::new();
        for ((param, registered), (_, value)) in targets.iter().zip(pairs) {
            let args = if param.multi_arg() {
                split_spaces(value)
            } else {
                vec![value.clone()]
            };
            let current = staged
                .get(param.name)
                .or_else(|| values.get(param.name))
                .cloned()
                .unwrap_or_default();
            let normalised = parse_value(param, &args, &current, false).map_err(|why| {
                format!("CONFIG SET failed (possibly related to argument '{registered}') - {why}")
            })?;
            staged.insert(param.name, normalised);
        }
        values.extend(staged);
        Ok(())
    }

    /// Reads a `redis.conf`-syntax text. A bad line stops the load with Redis' fatal
    /// message naming the line; lines before it stay applied.
    pub fn load_text(&self, text: &str) -> Result<(), String> {
        let mut values = self.values.write();
        for (index, raw) in text.split('\n').enumerate() {
            let line = raw.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'));
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Err(why) = self.load_line(&mut values, line) {
                return Err(format!(
                    "*** FATAL CONFIG FILE ERROR (Redis {}) ***\nReading the configuration file, at line {}\n>>> '{}'\n{}",
                    crate::REDIS_VERSION,
                    index + 1,
                    line,
                    why
                ));
            }
        }
        Ok(())
    }

    fn load_line(
        &self,
        values: &mut HashMap<&'static str, String>,
        line: &str,
    ) -> Result<(), String> {
        let argv = split_args(line.as_bytes()).ok_or("Unbalanced quotes in configuration line")?;
        let Some((first, rest)) = argv.split_first() else {
            return Ok(());
        };
        let name = String::from_utf8_lossy(first).to_ascii_lowercase();
        let args: Vec<String> = rest
            .iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        if let Some(param) = Config::param(&name) {
            if !param.multi_arg() && args.len() != 1 {
                return Err("wrong number of arguments".into());
            }
            let append = matches!(param.kind, ParamKind::Special(Special::Save))
                && self.save_loaded.swap(true, Ordering::Relaxed);
            let current = values.get(param.name).cloned().unwrap_or_default();
            let normalised = parse_value(param, &args, &current, append)?;
            values.insert(param.name, normalised);
            return Ok(());
        }
        let refusal = match (name.as_str(), args.len()) {
            (
                "list-max-ziplist-entries" | "list-max-ziplist-value" | "lua-replicate-commands",
                1,
            ) => return Ok(()),
            ("sentinel", 0) => return Ok(()),
            ("include", 1) => {
                "include is not supported by ferrokv: merge the included file into this one"
            }
            ("rename-command", 2) => "rename-command is not supported by ferrokv",
            ("user", n) if n >= 1 => "ACL users are not supported by ferrokv: use requirepass",
            ("loadmodule", n) if n >= 1 => "modules are not supported by ferrokv",
            ("sentinel", _) => "sentinel directive while not in sentinel mode",
            _ => "Bad directive or wrong number of arguments",
        };
        Err(refusal.into())
    }

    /// Applies command-line options as `redis-server` does: `--name` starts a directive
    /// and the following arguments are its values (quoted, so spaces survive), and the
    /// result is read like config file lines appended after the file.
    pub fn apply_args(&self, args: &[String]) -> Result<(), String> {
        self.load_text(&options_text(args))
    }

    /// Reads the config file at `path` and remembers it for `CONFIG REWRITE` and `INFO`.
    pub fn load_file(&self, path: &Path) -> Result<(), String> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            format!(
                "Fatal error, can't open config file '{}': {}",
                path.display(),
                strerror(&e)
            )
        })?;
        self.set_file_path(path);
        self.load_text(&text)
    }

    /// Records the config file the server was started with (made absolute).
    pub fn set_file_path(&self, path: &Path) {
        let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        *self.file.write() = Some(absolute);
    }

    /// The config file, if the server was started with one.
    pub fn file_path(&self) -> Option<PathBuf> {
        self.file.read().clone()
    }

    /// `CONFIG REWRITE`: rewrites the config file with the current values, keeping its
    /// comments and layout as Redis does. The error is Redis' text without `ERR `.
    pub fn rewrite(&self) -> Result<(), String> {
        let path = self
            .file_path()
            .ok_or("The server is running without a config file")?;
        let failed = |e: std::io::Error| format!("Rewriting config file: {}", strerror(&e));
        let old = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(failed(e)),
        };
        let mut state = RewriteState::from_old(&old);
        {
            let values = self.values.read();
            for param in PARAMS {
                let value = values
                    .get(param.name)
                    .map(String::as_str)
                    .unwrap_or(param.default);
                rewrite_param(&mut state, param, value);
            }
        }
        state.remove_orphaned();
        overwrite_file(&path, &state.content()).map_err(failed)
    }
}

/// Finds a parameter by canonical name or alias; also returns the name it was found by.
fn lookup(name: &str) -> Option<(&'static ConfigParam, &'static str)> {
    registered_names().find(|(_, n)| n.eq_ignore_ascii_case(name))
}

/// Every name `CONFIG GET` patterns see: each canonical name followed by its alias.
fn registered_names() -> impl Iterator<Item = (&'static ConfigParam, &'static str)> {
    PARAMS
        .iter()
        .flat_map(|p| std::iter::once((p, p.name)).chain(p.alias.map(|a| (p, a))))
}

/// Splits a `CONFIG SET` value of a multi-argument parameter on single spaces, as
/// Redis' `sdssplitlen` (empty text gives no arguments).
fn split_spaces(value: &str) -> Vec<String> {
    if value.is_empty() {
        Vec::new()
    } else {
        value.split(' ').map(str::to_string).collect()
    }
}

/// The `strerror` text of an I/O error, without Rust's " (os error N)" suffix.
pub fn strerror(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(cut) => text[..cut].to_string(),
        None => text,
    }
}

// ---------------------------------------------------------------------------------
// Value parsing, one function per kind, with Redis' error texts.
// ---------------------------------------------------------------------------------

/// Checks and normalises `args` for `param`. `current` is the value being replaced
/// (`client-output-buffer-limit` only changes the classes it names); `append` adds
/// `save` points to `current` instead of replacing it.
fn parse_value(
    param: &ConfigParam,
    args: &[String],
    current: &str,
    append: bool,
) -> Result<String, String> {
    let first = args.first().map(String::as_str).unwrap_or("");
    let value = match param.kind {
        ParamKind::Bool => parse_bool(param.name, first)?,
        ParamKind::Int { min, max } => {
            let n =
                parse_i64(first.as_bytes()).ok_or("argument couldn't be parsed into an integer")?;
            check_bounds(n as Bound, min, max)?;
            n.to_string()
        }
        ParamKind::Memory { min, max } => {
            let n = memtoull(first).ok_or("argument must be a memory value")?;
            check_bounds(n as Bound, min, max)?;
            n.to_string()
        }
        ParamKind::MemoryOrPercent { min, max } => parse_memory_or_percent(first, min, max)?,
        ParamKind::Octal { max } => {
            let n = strtoll(first, 8).ok_or("argument couldn't be parsed as an octal number")?;
            if n < 0 || n as Bound > max {
                return Err(format!("argument must be between 0 and {max:o} inclusive"));
            }
            format!("{n:o}")
        }
        ParamKind::Enum(words) => {
            let lower = first.to_ascii_lowercase();
            if !words.contains(&lower.as_str()) {
                return Err(format!(
                    "argument(s) must be one of the following: {}",
                    words.join(", ")
                ));
            }
            lower
        }
        ParamKind::Str(check) => {
            check_string(check, first)?;
            first.to_string()
        }
        ParamKind::Special(kind) => parse_special(kind, args, current, append)?,
    };
    // Redis clamps `hz` to 1..=500 when it applies it.
    if param.name == "hz" {
        return Ok(value
            .parse::<i64>()
            .map(|n| n.clamp(1, 500).to_string())
            .unwrap_or(value));
    }
    Ok(value)
}

fn parse_bool(name: &str, value: &str) -> Result<String, String> {
    let on = if value.eq_ignore_ascii_case("yes") {
        true
    } else if value.eq_ignore_ascii_case("no") {
        false
    } else {
        return Err("argument must be 'yes' or 'no'".into());
    };
    if on && name == "activedefrag" {
        return Err("Active defragmentation cannot be enabled: it requires a Redis server compiled with a modified Jemalloc like the one shipped by default with the Redis source distribution".into());
    }
    Ok(if on { "yes" } else { "no" }.into())
}

fn check_bounds(n: Bound, min: Bound, max: Bound) -> Result<(), String> {
    if n < min || n > max {
        return Err(format!(
            "argument must be between {min} and {max} inclusive"
        ));
    }
    Ok(())
}

/// `maxmemory-clients`: bytes, or `N%` (stored negated, as Redis does).
fn parse_memory_or_percent(value: &str, min: Bound, max: Bound) -> Result<String, String> {
    let n: Bound = if let Some(bytes) = memtoull(value) {
        // A size beyond `ssize_t` wraps negative in C and then reads as a percentage.
        bytes as i64 as Bound
    } else {
        let percent = value
            .strip_suffix('%')
            .filter(|digits| !digits.is_empty())
            .and_then(|digits| parse_i64(digits.as_bytes()))
            .filter(|p| *p >= 0)
            .ok_or("argument must be a memory or percent value")?;
        -(percent as Bound)
    };
    if n < 0 {
        if n < min {
            return Err(format!(
                "percentage argument must be less or equal to {}",
                -min
            ));
        }
        return Ok(format!("{}%", -n));
    }
    check_bounds(n, min, max)?;
    Ok(n.to_string())
}

fn check_string(check: StrCheck, value: &str) -> Result<(), String> {
    let is_path = value.contains('/') || value.contains('\\');
    let refusal = match check {
        StrCheck::Any => None,
        StrCheck::FileName if is_path => Some("dbfilename can't be a path, just a filename"),
        StrCheck::AofFileName if value.is_empty() => Some("appendfilename can't be empty"),
        StrCheck::AofFileName if is_path => Some("appendfilename can't be a path, just a filename"),
        StrCheck::AofDirName if value.is_empty() => Some("appenddirname can't be empty"),
        StrCheck::AofDirName if is_path => Some("appenddirname can't be a path, just a dirname"),
        StrCheck::Hostname if value.len() >= 256 => {
            Some("Hostnames must be less than 256 characters")
        }
        StrCheck::Hostname
            if !value
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.') =>
        {
            Some("Hostnames may only contain alphanumeric characters, hyphens or dots")
        }
        StrCheck::ProcTitle if !valid_proc_title(value) => {
            Some("template format is invalid or contains unknown variables")
        }
        _ => None,
    };
    refusal.map_or(Ok(()), |why| Err(why.into()))
}

/// Whether a `proc-title-template` expands: `{{`/`}}` are literal braces, `{name}` must
/// be a known variable, and the expansion must not be blank.
fn valid_proc_title(template: &str) -> bool {
    const VARIABLES: [&str; 7] = [
        "title",
        "listen-addr",
        "server-mode",
        "port",
        "tls-port",
        "unixsocket",
        "config-file",
    ];
    let mut expanded = String::new();
    let mut rest = template;
    while let Some(c) = rest.chars().next() {
        match c {
            '{' if rest.starts_with("{{") => {
                expanded.push('{');
                rest = &rest[2..];
            }
            '}' if rest.starts_with("}}") => {
                expanded.push('}');
                rest = &rest[2..];
            }
            '}' => return false,
            '{' => {
                let Some(end) = rest.find('}') else {
                    return false;
                };
                if !VARIABLES.contains(&&rest[1..end]) {
                    return false;
                }
                expanded.push('x');
                rest = &rest[end + 1..];
            }
            _ => {
                expanded.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    !expanded.trim().is_empty()
}

fn parse_special(
    kind: Special,
    args: &[String],
    current: &str,
    append: bool,
) -> Result<String, String> {
    match kind {
        Special::Dir => parse_dir(args),
        Special::Save => parse_save(args, current, append),
        Special::ClientOutputBufferLimit => parse_output_buffer_limit(args, current),
        Special::OomScoreAdjValues => parse_oom_values(args),
        Special::NotifyKeyspaceEvents => match args {
            [flags] => keyspace_events_from_str(flags)
                .map(keyspace_events_to_string)
                .ok_or_else(|| "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.".into()),
            _ => Err("wrong number of arguments".into()),
        },
        Special::Bind => match args {
            _ if args.len() > 16 => Err("Too many bind addresses specified.".into()),
            [only] if only.is_empty() => Ok(String::new()),
            _ => Ok(args.join(" ")),
        },
        Special::ReplicaOf => parse_replicaof(args),
        Special::LatencyPercentiles => parse_percentiles(args),
    }
}

fn parse_dir(args: &[String]) -> Result<String, String> {
    let [dir] = args else {
        return Err("wrong number of arguments".into());
    };
    let meta = std::fs::metadata(dir).map_err(|e| strerror(&e))?;
    if !meta.is_dir() {
        return Err("Not a directory".into());
    }
    let absolute = std::fs::canonicalize(dir).map_err(|e| strerror(&e))?;
    Ok(absolute.to_string_lossy().into_owned())
}

fn parse_save(args: &[String], current: &str, append: bool) -> Result<String, String> {
    let args = match args {
        [only] if only.is_empty() => &[][..],
        _ => args,
    };
    const INVALID: &str = "Invalid save parameters";
    if !args.len().is_multiple_of(2) {
        return Err(INVALID.into());
    }
    let mut points = Vec::with_capacity(args.len() / 2);
    for pair in args.chunks(2) {
        let seconds = strtoll(&pair[0], 10).filter(|s| *s >= 1).ok_or(INVALID)?;
        let changes = strtoll(&pair[1], 10).filter(|c| *c >= 0).ok_or(INVALID)?;
        points.push(format!("{} {}", seconds, changes as i32));
    }
    let mut out = if append {
        current.to_string()
    } else {
        String::new()
    };
    for point in points {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&point);
    }
    Ok(out)
}

const OUTPUT_CLASSES: [&str; 3] = ["normal", "slave", "pubsub"];

fn parse_output_buffer_limit(args: &[String], current: &str) -> Result<String, String> {
    if !args.len().is_multiple_of(4) {
        return Err("Wrong number of arguments in buffer limit configuration.".into());
    }
    let mut limits = output_buffer_limits(current);
    let mut updates = Vec::new();
    for chunk in args.chunks(4) {
        let class = match chunk[0].to_ascii_lowercase().as_str() {
            "normal" => 0,
            "slave" | "replica" => 1,
            "pubsub" => 2,
            _ => {
                return Err("Invalid client class specified in buffer limit configuration.".into())
            }
        };
        let bad = || {
            "Error in hard, soft or soft_seconds setting in buffer limit configuration.".to_string()
        };
        let hard = memtoull(&chunk[1]).ok_or_else(bad)?;
        let soft = memtoull(&chunk[2]).ok_or_else(bad)?;
        let seconds = strtoll(&chunk[3], 10)
            .map(|s| s as i32)
            .filter(|s| *s >= 0)
            .ok_or_else(bad)?;
        updates.push((class, [hard, soft, seconds as u64]));
    }
    for (class, limit) in updates {
        limits[class] = limit;
    }
    Ok(format_output_buffer_limits(&limits))
}

/// The three classes' (hard, soft, seconds) limits from their `CONFIG GET` form.
fn output_buffer_limits(value: &str) -> [[u64; 3]; 3] {
    let mut limits = [[0u64; 3]; 3];
    let words: Vec<&str> = value.split(' ').collect();
    for (class, chunk) in words.chunks(4).take(3).enumerate() {
        for (slot, word) in chunk.iter().skip(1).enumerate() {
            limits[class][slot] = word.parse().unwrap_or(0);
        }
    }
    limits
}

fn format_output_buffer_limits(limits: &[[u64; 3]; 3]) -> String {
    let parts: Vec<String> = OUTPUT_CLASSES
        .iter()
        .zip(limits)
        .map(|(class, [hard, soft, seconds])| format!("{class} {hard} {soft} {seconds}"))
        .collect();
    parts.join(" ")
}

fn parse_oom_values(args: &[String]) -> Result<String, String> {
    if args.len() != 3 {
        return Err("wrong number of arguments".into());
    }
    let mut values = Vec::with_capacity(3);
    for arg in args {
        let v = strtoll(arg, 10)
            .filter(|v| (-2000..=2000).contains(v))
            .ok_or("Invalid oom-score-adj-values, elements must be between -2000 and 2000.")?;
        values.push(v.to_string());
    }
    Ok(values.join(" "))
}

fn parse_replicaof(args: &[String]) -> Result<String, String> {
    let [host, port] = args else {
        return Err("wrong number of arguments".into());
    };
    if host.eq_ignore_ascii_case("no") && port.eq_ignore_ascii_case("one") {
        return Ok(String::new());
    }
    let port = strtoll(port, 10)
        .filter(|p| (0..=65535).contains(p))
        .ok_or("Invalid master port")?;
    Ok(format!("{host} {port}"))
}

fn parse_percentiles(args: &[String]) -> Result<String, String> {
    let args = match args {
        [only] if only.is_empty() => &[][..],
        _ => args,
    };
    let mut out = Vec::with_capacity(args.len());
    for arg in args {
        let p = parse_f64(arg.as_bytes())
            .ok_or("Invalid latency-tracking-info-percentiles parameters")?;
        if !(0.0..=100.0).contains(&p) {
            return Err(
                "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"
                    .into(),
            );
        }
        out.push(trim_double(p));
    }
    Ok(out.join(" "))
}

/// `%f` without trailing zeros (Redis' `trimDoubleString`).
fn trim_double(d: f64) -> String {
    let text = format!("{d:.6}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

const NOTIFY_GENERIC: u32 = 1 << 2;
const NOTIFY_STRING: u32 = 1 << 3;
const NOTIFY_LIST: u32 = 1 << 4;
const NOTIFY_SET: u32 = 1 << 5;
const NOTIFY_HASH: u32 = 1 << 6;
const NOTIFY_ZSET: u32 = 1 << 7;
const NOTIFY_EXPIRED: u32 = 1 << 8;
const NOTIFY_EVICTED: u32 = 1 << 9;
const NOTIFY_STREAM: u32 = 1 << 10;
const NOTIFY_KEY_MISS: u32 = 1 << 11;
const NOTIFY_MODULE: u32 = 1 << 12;
const NOTIFY_NEW: u32 = 1 << 13;
const NOTIFY_KEYSPACE: u32 = 1;
const NOTIFY_KEYEVENT: u32 = 1 << 1;
const NOTIFY_ALL: u32 = NOTIFY_GENERIC
    | NOTIFY_STRING
    | NOTIFY_LIST
    | NOTIFY_SET
    | NOTIFY_HASH
    | NOTIFY_ZSET
    | NOTIFY_EXPIRED
    | NOTIFY_EVICTED
    | NOTIFY_STREAM
    | NOTIFY_MODULE;

/// Event classes in the order Redis prints them (after `A`, which covers the first ten).
const NOTIFY_CLASSES: [(char, u32); 11] = [
    ('g', NOTIFY_GENERIC),
    ('$', NOTIFY_STRING),
    ('l', NOTIFY_LIST),
    ('s', NOTIFY_SET),
    ('h', NOTIFY_HASH),
    ('z', NOTIFY_ZSET),
    ('x', NOTIFY_EXPIRED),
    ('e', NOTIFY_EVICTED),
    ('t', NOTIFY_STREAM),
    ('d', NOTIFY_MODULE),
    ('n', NOTIFY_NEW),
];

/// Parses `notify-keyspace-events` flags (`keyspaceEventsStringToFlags`).
pub fn keyspace_events_from_str(classes: &str) -> Option<u32> {
    let mut flags = 0;
    for c in classes.chars() {
        flags |= match c {
            'A' => NOTIFY_ALL,
            'K' => NOTIFY_KEYSPACE,
            'E' => NOTIFY_KEYEVENT,
            'm' => NOTIFY_KEY_MISS,
            _ => NOTIFY_CLASSES.iter().find(|(ch, _)| *ch == c)?.1,
        };
    }
    Some(flags)
}

/// Prints `notify-keyspace-events` flags as Redis does (`keyspaceEventsFlagsToString`).
pub fn keyspace_events_to_string(flags: u32) -> String {
    let mut out = String::new();
    if flags & NOTIFY_ALL == NOTIFY_ALL {
        out.push('A');
    }
    for (c, flag) in NOTIFY_CLASSES {
        let in_all = flag & NOTIFY_ALL != 0;
        if flags & flag != 0 && !(in_all && flags & NOTIFY_ALL == NOTIFY_ALL) {
            out.push(c);
        }
    }
    for (c, flag) in [
        ('K', NOTIFY_KEYSPACE),
        ('E', NOTIFY_KEYEVENT),
        ('m', NOTIFY_KEY_MISS),
    ] {
        if flags & flag != 0 {
            out.push(c);
        }
    }
    out
}

/// C's `strtoll` with the whole string consumed: leading blanks and a sign allowed,
/// the empty string reads as 0, overflow saturates.
fn strtoll(s: &str, radix: u32) -> Option<i64> {
    if s.is_empty() {
        return Some(0);
    }
    let body = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (negative, digits) = match body.as_bytes().first() {
        Some(b'-') => (true, &body[1..]),
        Some(b'+') => (false, &body[1..]),
        _ => (false, body),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = digits.chars().fold(0i128, |acc, c| {
        (acc * radix as i128 + c.to_digit(radix).unwrap_or(0) as i128).min(i64::MAX as i128 + 1)
    });
    let value = if negative { -magnitude } else { magnitude };
    Some(value.clamp(i64::MIN as i128, i64::MAX as i128) as i64)
}

/// Redis' `memtoull`: digits with an optional unit `b`, `k`, `kb`, `m`, `mb`, `g`,
/// `gb` (case-insensitive; `k` is 1000, `kb` 1024). No sign, no blanks.
pub fn memtoull(value: &str) -> Option<u64> {
    let split = value
        .bytes()
        .position(|c| !c.is_ascii_digit())
        .unwrap_or(value.len());
    if value.starts_with('-') {
        return None;
    }
    let (digits, unit) = value.split_at(split);
    let mul: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    if digits.len() >= 128 {
        return None;
    }
    let n = digits.bytes().fold(0u64, |acc, c| {
        acc.saturating_mul(10).saturating_add((c - b'0') as u64)
    });
    n.checked_mul(mul)
}

/// Parses a memory size (see [`memtoull`]); kept for callers that want a signed value.
pub fn parse_memory(value: &str) -> Option<i64> {
    memtoull(value).and_then(|n| i64::try_from(n).ok())
}

// ---------------------------------------------------------------------------------
// Command-line options.
// ---------------------------------------------------------------------------------

/// Turns `--name value ...` arguments into config file text, as `redis-server`'s
/// `main()` does: a bare `--name` always takes the next argument as its value (even one
/// starting with `--`), values are quoted, and `--save` without value means `save ""`.
fn options_text(args: &[String]) -> String {
    let mut options = String::new();
    let mut handled_last = true;
    for (j, arg) in args.iter().enumerate() {
        let next_is_option = args.get(j + 1).is_some_and(|n| n.starts_with("--"));
        if handled_last && arg.starts_with("--") {
            if !options.is_empty() {
                options.push('\n');
            }
            options.push_str(&arg[2..]);
            options.push(' ');
            let words = split_args(arg.as_bytes()).map(|w| w.len()).unwrap_or(0);
            if words == 1 {
                handled_last = false;
                if arg.eq_ignore_ascii_case("--save") && (next_is_option || j + 1 == args.len()) {
                    options.push_str("\"\"");
                    handled_last = true;
                }
            } else {
                handled_last = true;
            }
        } else {
            options.push_str(&repr(arg.as_bytes()));
            options.push(' ');
            handled_last = true;
        }
    }
    options
}

/// Quotes text as Redis' `sdscatrepr`, so `split_args` reads it back unchanged.
pub fn repr(s: &[u8]) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for &c in s {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x07 => out.push_str("\\a"),
            0x08 => out.push_str("\\b"),
            c if c.is_ascii_graphic() || c == b' ' => out.push(c as char),
            c => out.push_str(&format!("\\x{c:02x}")),
        }
    }
    out.push('"');
    out
}

// ---------------------------------------------------------------------------------
// CONFIG REWRITE.
// ---------------------------------------------------------------------------------

const REWRITE_SIGNATURE: &str = "# Generated by CONFIG REWRITE";

/// The old file's lines and where each option appeared (Redis' `rewriteConfigState`).
struct RewriteState {
    lines: Vec<String>,
    option_lines: HashMap<String, VecDeque<usize>>,
    rewritten: HashSet<String>,
    needs_signature: bool,
}

impl RewriteState {
    fn from_old(text: &str) -> RewriteState {
        let mut state = RewriteState {
            lines: Vec::new(),
            option_lines: HashMap::new(),
            rewritten: HashSet::new(),
            needs_signature: true,
        };
        if text.is_empty() {
            return state;
        }
        for raw in text.split('\n') {
            let line = raw.trim_matches(|c| matches!(c, '\r' | '\n' | '\t' | ' '));
            if line.is_empty() || line.starts_with('#') {
                if line == REWRITE_SIGNATURE {
                    state.needs_signature = false;
                }
                state.lines.push(line.to_string());
                continue;
            }
            let option = split_args(line.as_bytes())
                .and_then(|argv| {
                    argv.first()
                        .map(|a| String::from_utf8_lossy(a).to_ascii_lowercase())
                })
                .filter(|name| Config::param(name).is_some());
            let Some(option) = option else {
                state.lines.push(format!("# ??? {line}"));
                continue;
            };
            let option = option.replacen("slave", "replica", 1);
            state
                .option_lines
                .entry(option)
                .or_default()
                .push_back(state.lines.len());
            state.lines.push(line.to_string());
        }
        state
    }

    fn mark(&mut self, option: &str) {
        self.rewritten.insert(option.to_string());
    }

    /// Puts `line` where `option` was, or appends it if `force` (a non-default value).
    fn rewrite_line(&mut self, option: &str, line: String, force: bool) {
        self.mark(option);
        if let Some(at) = self
            .option_lines
            .get_mut(option)
            .and_then(VecDeque::pop_front)
        {
            self.lines[at] = line;
        } else if force {
            if self.needs_signature {
                self.lines.push(REWRITE_SIGNATURE.to_string());
                self.needs_signature = false;
            }
            self.lines.push(line);
        }
    }

    /// Blanks the old lines of rewritten options that were not reused.
    fn remove_orphaned(&mut self) {
        for (option, lines) in &self.option_lines {
            if self.rewritten.contains(option) {
                for &at in lines {
                    self.lines[at].clear();
                }
            }
        }
    }

    /// The new file: runs of empty lines become one.
    fn content(&self) -> String {
        let mut out = String::new();
        let mut was_empty = false;
        for line in &self.lines {
            if line.is_empty() && was_empty {
                continue;
            }
            was_empty = line.is_empty();
            out.push_str(line);
            out.push('\n');
        }
        out
    }
}

/// Writes one parameter's lines, as its Redis `rewrite` function.
fn rewrite_param(state: &mut RewriteState, param: &ConfigParam, value: &str) {
    let name = param.name;
    let force = value != param.default;
    match param.kind {
        ParamKind::Bool | ParamKind::Int { .. } | ParamKind::Octal { .. } | ParamKind::Enum(_) => {
            state.rewrite_line(name, format!("{name} {value}"), force);
        }
        ParamKind::MemoryOrPercent { .. } if value.ends_with('%') => {
            state.rewrite_line(name, format!("{name} {value}"), force);
        }
        ParamKind::Memory { .. } | ParamKind::MemoryOrPercent { .. } => {
            let bytes = value.parse::<u64>().unwrap_or(0);
            state.rewrite_line(name, format!("{name} {}", format_memory(bytes)), force);
        }
        ParamKind::Str(_) if param.flags & NULLABLE != 0 && value.is_empty() => state.mark(name),
        ParamKind::Str(_) => {
            let force = force || param.flags & NULLABLE != 0;
            state.rewrite_line(name, format!("{name} {}", repr(value.as_bytes())), force);
        }
        ParamKind::Special(kind) => rewrite_special(state, param, kind, value),
    }
}

fn rewrite_special(state: &mut RewriteState, param: &ConfigParam, kind: Special, value: &str) {
    let name = param.name;
    match kind {
        Special::Dir => state.rewrite_line(name, format!("dir {}", repr(value.as_bytes())), true),
        Special::Save if value.is_empty() => state.rewrite_line(name, "save \"\"".into(), true),
        Special::Save => {
            let words: Vec<&str> = value.split(' ').collect();
            for pair in words.chunks(2) {
                state.rewrite_line(name, format!("save {}", pair.join(" ")), true);
            }
        }
        Special::ClientOutputBufferLimit => {
            let limits = output_buffer_limits(value);
            let defaults = output_buffer_limits(COBL_DEFAULT);
            for (class, (limit, default)) in limits.iter().zip(&defaults).enumerate() {
                let class_name = if class == 1 {
                    "replica"
                } else {
                    OUTPUT_CLASSES[class]
                };
                let line = format!(
                    "{name} {class_name} {} {} {}",
                    format_memory(limit[0]),
                    format_memory(limit[1]),
                    limit[2]
                );
                state.rewrite_line(name, line, limit != default);
            }
        }
        Special::NotifyKeyspaceEvents => {
            state.rewrite_line(
                name,
                format!("{name} {}", repr(value.as_bytes())),
                !value.is_empty(),
            );
        }
        Special::Bind if value == param.default => state.mark(name),
        Special::Bind => {
            let addresses = if value.is_empty() { "\"\"" } else { value };
            state.rewrite_line(name, format!("{name} {addresses}"), true);
        }
        Special::ReplicaOf if value.is_empty() => state.mark(name),
        Special::LatencyPercentiles if value.is_empty() => {
            state.rewrite_line(name, format!("{name} \"\""), true)
        }
        Special::ReplicaOf | Special::LatencyPercentiles => {
            state.rewrite_line(name, format!("{name} {value}"), true)
        }
        Special::OomScoreAdjValues => {
            state.rewrite_line(name, format!("{name} {value}"), value != param.default)
        }
    }
}

/// Bytes as `redis.conf` prefers them: `1gb`, `64mb`, `4kb`, or a plain count.
fn format_memory(bytes: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "gb"), (1 << 20, "mb"), (1 << 10, "kb")];
    for (size, unit) in UNITS {
        if bytes != 0 && bytes.is_multiple_of(size) {
            return format!("{}{unit}", bytes / size);
        }
    }
    bytes.to_string()
}

/// Replaces `path` atomically: a temporary file beside it, synced, then renamed.
fn overwrite_file(path: &Path, content: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp-{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let write = |tmp: &Path| -> std::io::Result<()> {
        let mut file = std::fs::File::create(tmp)?;
        file.write_all(content.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(tmp, path)
    };
    let result = write(&tmp);
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(words: &[&str]) -> Vec<(String, String)> {
        words
            .chunks(2)
            .map(|p| (p[0].to_string(), p[1].to_string()))
            .collect()
    }

    #[test]
    fn defaults_and_lookup_by_alias() {
        let c = Config::new();
        assert_eq!(c.get("maxmemory").as_deref(), Some("0"));
        assert_eq!(c.get("SLAVE-READ-ONLY").as_deref(), Some("yes"));
        assert_eq!(c.get("hash-max-ziplist-entries").as_deref(), Some("512"));
        assert_eq!(
            c.get("client-output-buffer-limit").as_deref(),
            Some(COBL_DEFAULT)
        );
        assert_eq!(c.get_i64("proto-max-bulk-len"), 536870912);
        assert_eq!(c.get_i64("appendonly"), 0);
        assert!(c.get("nope").is_none());
        let names: HashSet<&str> = registered_names().map(|(_, n)| n).collect();
        assert_eq!(
            names.len(),
            registered_names().count(),
            "duplicate config name"
        );
        for p in PARAMS {
            let args = if p.multi_arg() {
                split_spaces(p.default)
            } else {
                vec![p.default.to_string()]
            };
            if p.name != "dir" && p.name != "replicaof" {
                assert_eq!(
                    parse_value(p, &args, p.default, false).as_deref(),
                    Ok(p.default),
                    "{}",
                    p.name
                );
            }
        }
    }

    #[test]
    fn get_matching_patterns_aliases_and_repeats() {
        let c = Config::new();
        let got = c.get_matching(&[b"maxmemory", b"MAXMEMORY", b"maxmemory*"]);
        let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "maxmemory",
                "maxmemory-policy",
                "maxmemory-samples",
                "maxmemory-eviction-tenacity",
                "maxmemory-clients"
            ]
        );
        let got = c.get_matching(&[b"*slave-read*"]);
        assert_eq!(
            got,
            vec![("slave-read-only".to_string(), "yes".to_string())]
        );
        let got = c.get_matching(&[b"SlaveOf"]);
        assert_eq!(got, vec![("SlaveOf".to_string(), String::new())]);
        assert!(c.get_matching(&[b"nosuch"]).is_empty());
    }

    #[test]
    fn set_many_errors_like_redis() {
        let c = Config::new();
        let err = |w: &[&str]| c.set_many(&pairs(w), true).unwrap_err();
        assert_eq!(
            err(&["foo", "1"]),
            "Unknown option or number of arguments for CONFIG SET - 'foo'"
        );
        assert_eq!(
            err(&["daemonize", "yes"]),
            "CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config"
        );
        assert_eq!(
            err(&["dir", "/tmp"]),
            "CONFIG SET failed (possibly related to argument 'dir') - can't set protected config"
        );
        assert_eq!(
            err(&["maxmemory", "1", "MAXMEMORY", "2"]),
            "CONFIG SET failed (possibly related to argument 'MAXMEMORY') - duplicate parameter"
        );
        assert_eq!(
            err(&["appendonly", "maybe"]),
            "CONFIG SET failed (possibly related to argument 'appendonly') - argument must be 'yes' or 'no'"
        );
        assert_eq!(
            err(&["daemonize", "yes", "foo", "1"]),
            "CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config"
        );
        assert_eq!(
            err(&["hz", "x"]),
            "CONFIG SET failed (possibly related to argument 'hz') - argument couldn't be parsed into an integer"
        );
        assert_eq!(
            err(&["maxclients", "-1"]),
            "CONFIG SET failed (possibly related to argument 'maxclients') - argument must be between 1 and 4294967295 inclusive"
        );
        assert_eq!(
            err(&["maxmemory", "1x"]),
            "CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"
        );
        assert_eq!(
            err(&["maxmemory-policy", "lru"]),
            "CONFIG SET failed (possibly related to argument 'maxmemory-policy') - argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction"
        );
        assert_eq!(
            err(&["slave-priority", "-5"]),
            "CONFIG SET failed (possibly related to argument 'slave-priority') - argument must be between 0 and 2147483647 inclusive"
        );
        assert_eq!(
            err(&["proto-max-bulk-len", "10"]),
            "CONFIG SET failed (possibly related to argument 'proto-max-bulk-len') - argument must be between 1048576 and 9223372036854775807 inclusive"
        );
        assert_eq!(
            err(&["dbfilename", "a/b"]),
            "CONFIG SET failed (possibly related to argument 'dbfilename') - can't set protected config"
        );
    }

    #[test]
    fn set_many_is_all_or_nothing() {
        let c = Config::new();
        assert!(c
            .set_many(&pairs(&["maxmemory", "10mb", "timeout", "x"]), true)
            .is_err());
        assert_eq!(c.get("maxmemory").as_deref(), Some("0"));
        c.set_many(
            &pairs(&["maxmemory", "10mb", "timeout", "5", "Hz", "1000"]),
            true,
        )
        .unwrap();
        assert_eq!(c.get("maxmemory").as_deref(), Some("10485760"));
        assert_eq!(c.get("timeout").as_deref(), Some("5"));
        assert_eq!(c.get("hz").as_deref(), Some("500"));
        c.set_many(&pairs(&["hz", "0"]), true).unwrap();
        assert_eq!(c.get("hz").as_deref(), Some("1"));
        // An alias and its canonical name are distinct entries: the last one wins.
        c.set_many(
            &pairs(&["slave-read-only", "no", "replica-read-only", "yes"]),
            true,
        )
        .unwrap();
        assert_eq!(c.get("replica-read-only").as_deref(), Some("yes"));
    }

    #[test]
    fn value_kinds() {
        let c = Config::new();
        let ok = |n: &str, v: &str| {
            c.set_many(&pairs(&[n, v]), true)
                .map(|_| c.get(n).unwrap_or_default())
        };
        assert_eq!(ok("maxmemory", "1GB").as_deref(), Ok("1073741824"));
        assert_eq!(ok("maxmemory", "2k").as_deref(), Ok("2000"));
        assert_eq!(
            ok("maxmemory", "18446744073709551615").as_deref(),
            Ok("18446744073709551615")
        );
        assert_eq!(c.get_i64("maxmemory"), i64::MAX);
        assert_eq!(ok("maxmemory-clients", "10%").as_deref(), Ok("10%"));
        assert_eq!(ok("maxmemory-clients", "1mb").as_deref(), Ok("1048576"));
        assert_eq!(
            ok("maxmemory-clients", "101%").unwrap_err(),
            "CONFIG SET failed (possibly related to argument 'maxmemory-clients') - percentage argument must be less or equal to 100"
        );
        assert!(ok("maxmemory-clients", "x%")
            .unwrap_err()
            .ends_with("argument must be a memory or percent value"));
        assert_eq!(ok("appendonly", "YES").as_deref(), Ok("yes"));
        assert_eq!(ok("loglevel", "WARNING").as_deref(), Ok("warning"));
        assert_eq!(ok("list-max-ziplist-size", "-1").as_deref(), Ok("-1"));
        assert_eq!(ok("save", "900 1 300 10").as_deref(), Ok("900 1 300 10"));
        assert_eq!(ok("save", "").as_deref(), Ok(""));
        assert!(ok("save", "900")
            .unwrap_err()
            .ends_with("Invalid save parameters"));
        assert!(ok("save", "0 1")
            .unwrap_err()
            .ends_with("Invalid save parameters"));
        assert_eq!(
            ok("client-output-buffer-limit", "replica 1mb 2mb 30").as_deref(),
            Ok("normal 0 0 0 slave 1048576 2097152 30 pubsub 33554432 8388608 60")
        );
        assert!(ok("client-output-buffer-limit", "master 1 1 1")
            .unwrap_err()
            .ends_with("Invalid client class specified in buffer limit configuration."));
        assert!(ok("client-output-buffer-limit", "normal 1 1")
            .unwrap_err()
            .ends_with("Wrong number of arguments in buffer limit configuration."));
        assert!(ok("client-output-buffer-limit", "normal 1 1 -1")
            .unwrap_err()
            .ends_with(
                "Error in hard, soft or soft_seconds setting in buffer limit configuration."
            ));
        assert_eq!(ok("notify-keyspace-events", "KEA").as_deref(), Ok("AKE"));
        assert_eq!(ok("notify-keyspace-events", "Ex$").as_deref(), Ok("$xE"));
        assert_eq!(ok("notify-keyspace-events", "An").as_deref(), Ok("An"));
        assert!(ok("notify-keyspace-events", "Q")
            .unwrap_err()
            .ends_with("Use 'Ag$lshzxeKEtmdn'."));
        assert_eq!(
            ok("oom-score-adj-values", "0 100 200").as_deref(),
            Ok("0 100 200")
        );
        assert!(ok("oom-score-adj-values", "0 100")
            .unwrap_err()
            .ends_with("wrong number of arguments"));
        assert_eq!(ok("bind", "127.0.0.1 ::1").as_deref(), Ok("127.0.0.1 ::1"));
        assert_eq!(
            ok("latency-tracking-info-percentiles", "50.0 99.90").as_deref(),
            Ok("50 99.9")
        );
        assert!(ok("latency-tracking-info-percentiles", "101")
            .unwrap_err()
            .ends_with("[0.0,100.0]"));
        assert!(ok("activedefrag", "yes")
            .unwrap_err()
            .contains("Active defragmentation cannot be enabled"));
        assert!(ok("proc-title-template", "{nope}")
            .unwrap_err()
            .ends_with("unknown variables"));
        assert_eq!(
            ok("proc-title-template", "{title} {{x}}").as_deref(),
            Ok("{title} {{x}}")
        );
        assert!(ok("cluster-announce-hostname", "a_b")
            .unwrap_err()
            .ends_with("hyphens or dots"));
    }

    #[test]
    fn protected_configs_follow_enable_protected_configs() {
        let c = Config::new();
        c.set_startup("enable-protected-configs", "local").unwrap();
        assert!(c.set_many(&pairs(&["dbfilename", "x.rdb"]), false).is_err());
        c.set_many(&pairs(&["dbfilename", "x.rdb"]), true).unwrap();
        assert_eq!(
            c.set_many(&pairs(&["dbfilename", "a/b"]), true).unwrap_err(),
            "CONFIG SET failed (possibly related to argument 'dbfilename') - dbfilename can't be a path, just a filename"
        );
        let tmp = std::env::temp_dir();
        c.set_many(&pairs(&["dir", tmp.to_str().unwrap()]), true)
            .unwrap();
        assert_eq!(
            c.get("dir"),
            Some(
                std::fs::canonicalize(&tmp)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            )
        );
        assert_eq!(
            c.set_many(&pairs(&["dir", "/no/such/dir"]), true)
                .unwrap_err(),
            "CONFIG SET failed (possibly related to argument 'dir') - No such file or directory"
        );
    }

    #[test]
    fn load_text_reads_redis_conf() {
        let c = Config::new();
        let text = "# comment\n\nport 7000\n  maxmemory 100mb  \r\nsave 900 1\nsave 300 10\nslaveof 10.0.0.1 6380\n\
                    client-output-buffer-limit pubsub 64mb 16mb 90\nrequirepass \"a b\"\nlist-max-ziplist-entries 5\n\
                    daemonize no\n";
        c.load_text(text).unwrap();
        assert_eq!(c.get("port").as_deref(), Some("7000"));
        assert_eq!(c.get("maxmemory").as_deref(), Some("104857600"));
        assert_eq!(c.get("save").as_deref(), Some("900 1 300 10"));
        assert_eq!(c.get("replicaof").as_deref(), Some("10.0.0.1 6380"));
        assert_eq!(c.get("requirepass").as_deref(), Some("a b"));
        assert_eq!(
            c.get("client-output-buffer-limit").as_deref(),
            Some("normal 0 0 0 slave 268435456 67108864 60 pubsub 67108864 16777216 90")
        );
        let err = c.load_text("port 1\nfoo bar\n").unwrap_err();
        assert_eq!(
            err,
            format!(
                "*** FATAL CONFIG FILE ERROR (Redis {}) ***\nReading the configuration file, at line 2\n>>> 'foo bar'\nBad directive or wrong number of arguments",
                crate::REDIS_VERSION
            )
        );
        assert!(c
            .load_text("port 1 2")
            .unwrap_err()
            .ends_with("\nwrong number of arguments"));
        assert!(c
            .load_text("port x")
            .unwrap_err()
            .ends_with("argument couldn't be parsed into an integer"));
        assert!(c
            .load_text("dir \"unbalanced")
            .unwrap_err()
            .ends_with("Unbalanced quotes in configuration line"));
        assert!(c
            .load_text("include other.conf")
            .unwrap_err()
            .contains("include is not supported"));
        assert!(c
            .load_text("appendonly maybe")
            .unwrap_err()
            .ends_with("argument must be 'yes' or 'no'"));
    }

    #[test]
    fn apply_args_like_redis_server() {
        let c = Config::new();
        let args: Vec<String> = [
            "--port",
            "7777",
            "--replicaof",
            "127.0.0.1",
            "8888",
            "--save",
            "--maxmemory",
            "1mb",
            "--requirepass",
            "--x",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        c.apply_args(&args).unwrap();
        assert_eq!(c.get("port").as_deref(), Some("7777"));
        assert_eq!(c.get("replicaof").as_deref(), Some("127.0.0.1 8888"));
        assert_eq!(c.get("save").as_deref(), Some(""));
        assert_eq!(c.get("maxmemory").as_deref(), Some("1048576"));
        assert_eq!(c.get("requirepass").as_deref(), Some("--x"));
        let err = c
            .apply_args(&["--nope".to_string(), "1".to_string()])
            .unwrap_err();
        assert!(err.contains(">>> 'nope \"1\"'\nBad directive"), "{err}");
        assert_eq!(
            options_text(&[
                "--port 6380".to_string(),
                "--hz".to_string(),
                "5".to_string()
            ]),
            "port 6380 \nhz \"5\" "
        );
    }

    #[test]
    fn rewrite_keeps_layout_and_writes_changes() {
        let c = Config::new();
        assert_eq!(
            c.rewrite().unwrap_err(),
            "The server is running without a config file"
        );
        let path =
            std::env::temp_dir().join(format!("ferrokv-rewrite-{}.conf", std::process::id()));
        std::fs::write(&path, "port 7001\nfoo bar\n").unwrap();
        assert!(Config::new()
            .load_file(&path)
            .unwrap_err()
            .contains("at line 2\n>>> 'foo bar'"));
        std::fs::write(
            &path,
            "# my config\nport 7001\nslave-read-only yes\nsave 10 1\nsave 20 2\n",
        )
        .unwrap();
        c.load_file(&path).unwrap();
        c.set_many(
            &pairs(&[
                "maxmemory",
                "2gb",
                "replica-read-only",
                "no",
                "save",
                "30 3",
            ]),
            true,
        )
        .unwrap();
        c.rewrite().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let dir = repr(c.get("dir").unwrap().as_bytes());
        assert_eq!(
            text,
            format!(
                "# my config\nport 7001\nreplica-read-only no\nsave 30 3\n\n{REWRITE_SIGNATURE}\nmaxmemory 2gb\ndir {dir}\nlatency-tracking-info-percentiles 50 99 99.9\n"
            )
        );
        let again = Config::new();
        again.load_text(&text).unwrap();
        assert_eq!(again.get("maxmemory").as_deref(), Some("2147483648"));
        assert_eq!(again.get("save").as_deref(), Some("30 3"));
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn helpers_match_c() {
        assert_eq!(memtoull("10"), Some(10));
        assert_eq!(memtoull("1Kb"), Some(1024));
        assert_eq!(memtoull("1b"), Some(1));
        assert_eq!(memtoull("-1"), None);
        assert_eq!(memtoull("1 mb"), None);
        assert_eq!(strtoll(" -12", 10), Some(-12));
        assert_eq!(strtoll("", 10), Some(0));
        assert_eq!(strtoll("1a", 10), None);
        assert_eq!(strtoll("777", 8), Some(511));
        assert_eq!(format_memory(3 << 30), "3gb");
        assert_eq!(format_memory(1000), "1000");
        assert_eq!(repr(b"a\"b\n\x01"), "\"a\\\"b\\n\\x01\"");
        assert_eq!(trim_double(99.9), "99.9");
        assert_eq!(
            keyspace_events_to_string(keyspace_events_from_str("gKm").unwrap()),
            "gKm"
        );
    }
}
