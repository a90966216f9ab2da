//! Runtime configuration: a table of parameters with Redis' names, defaults and value
//! rules, read by `CONFIG GET`, changed by `CONFIG SET`, the config file and
//! `--name value` command-line options.

use std::collections::HashMap;

use parking_lot::RwLock;

use crate::util::glob::glob_match;

/// How a parameter's value is checked and normalised.
#[derive(Debug, Clone, Copy)]
pub enum ParamKind {
    /// `yes` / `no`.
    Bool,
    /// A 64-bit integer within bounds.
    Int {
        /// Smallest accepted value.
        min: i64,
        /// Largest accepted value.
        max: i64,
    },
    /// A byte size with optional unit (`1gb`, `512mb`, `100k`), stored as bytes.
    Memory,
    /// One of fixed words.
    Enum(&'static [&'static str]),
    /// Any string.
    Str,
}

/// One configuration parameter.
#[derive(Debug)]
pub struct ConfigParam {
    /// Canonical name.
    pub name: &'static str,
    /// Older names that also work (`slaveof` for `replicaof`, ...).
    pub aliases: &'static [&'static str],
    /// Value rules.
    pub kind: ParamKind,
    /// Default, as `CONFIG GET` prints it.
    pub default: &'static str,
    /// Whether `CONFIG SET` may change it while running.
    pub mutable: bool,
}

const fn p(name: &'static str, kind: ParamKind, default: &'static str) -> ConfigParam {
    ConfigParam { name, aliases: &[], kind, default, mutable: true }
}

const fn fixed(name: &'static str, kind: ParamKind, default: &'static str) -> ConfigParam {
    ConfigParam { name, aliases: &[], kind, default, mutable: false }
}

const BOOL: ParamKind = ParamKind::Bool;
const STR: ParamKind = ParamKind::Str;
const MEM: ParamKind = ParamKind::Memory;
const fn int(min: i64, max: i64) -> ParamKind {
    ParamKind::Int { min, max }
}

/// Every parameter ferrokv knows, with Redis 7.0's defaults.
pub static PARAMS: &[ConfigParam] = &[
    fixed("port", int(0, 65535), "6379"),
    fixed("bind", STR, "* -::*"),
    fixed("databases", int(1, i32::MAX as i64), "16"),
    fixed("daemonize", BOOL, "no"),
    p("dir", STR, "."),
    p("maxclients", int(1, i32::MAX as i64), "10000"),
    p("timeout", int(0, i32::MAX as i64), "0"),
    p("tcp-keepalive", int(0, i32::MAX as i64), "300"),
    p("hz", int(0, i32::MAX as i64), "10"),
    p("proto-max-bulk-len", MEM, "536870912"),
    p("client-query-buffer-limit", MEM, "1073741824"),
    p("maxmemory", MEM, "0"),
    p(
        "maxmemory-policy",
        ParamKind::Enum(&[
            "volatile-lru",
            "volatile-lfu",
            "volatile-random",
            "volatile-ttl",
            "allkeys-lru",
            "allkeys-lfu",
            "allkeys-random",
            "noeviction",
        ]),
        "noeviction",
    ),
    p("maxmemory-samples", int(1, i32::MAX as i64), "5"),
    p("lfu-log-factor", int(0, i32::MAX as i64), "10"),
    p("lfu-decay-time", int(0, i32::MAX as i64), "1"),
    p("loglevel", ParamKind::Enum(&["debug", "verbose", "notice", "warning", "nothing"]), "notice"),
    p("logfile", STR, ""),
    p("requirepass", STR, ""),
    p("appendonly", BOOL, "no"),
    p("appendfsync", ParamKind::Enum(&["always", "everysec", "no"]), "everysec"),
    p("save", STR, "3600 1 300 100 60 10000"),
    p("dbfilename", STR, "dump.rdb"),
    p("notify-keyspace-events", STR, ""),
    p("slowlog-log-slower-than", int(-1, i64::MAX), "10000"),
    p("slowlog-max-len", int(0, i64::MAX), "128"),
    p("active-expire-effort", int(1, 10), "1"),
    p("lazyfree-lazy-user-flush", BOOL, "no"),
    p("lazyfree-lazy-user-del", BOOL, "no"),
    fixed("backend", ParamKind::Enum(&["memory", "disk"]), "memory"),
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
}

impl Default for Config {
    fn default() -> Self {
        Config::new()
    }
}

impl Config {
    /// All parameters at their defaults.
    pub fn new() -> Config {
        let values = PARAMS.iter().map(|p| (p.name, p.default.to_string())).collect();
        Config { values: RwLock::new(values) }
    }

    /// The parameter named `name` (canonical or alias, case-insensitive).
    pub fn param(name: &str) -> Option<&'static ConfigParam> {
        let lower = name.to_ascii_lowercase();
        PARAMS.iter().find(|p| p.name == lower || p.aliases.contains(&lower.as_str()))
    }

    /// The current value of a parameter.
    pub fn get(&self, name: &str) -> Option<String> {
        let param = Config::param(name)?;
        self.values.read().get(param.name).cloned()
    }

    /// A numeric parameter (ints, memory sizes, and `yes`/`no` as 1/0).
    pub fn get_i64(&self, name: &str) -> i64 {
        match self.get(name).as_deref() {
            Some("yes") => 1,
            Some("no") => 0,
            Some(v) => v.parse().unwrap_or(0),
            None => 0,
        }
    }

    /// Every (name, value) whose name matches the glob `pattern`, as `CONFIG GET`.
    pub fn matching(&self, pattern: &[u8]) -> Vec<(&'static str, String)> {
        let values = self.values.read();
        let mut out = Vec::new();
        for param in PARAMS {
            let alias_hit = param.aliases.iter().any(|a| glob_match(pattern, a.as_bytes(), true));
            if glob_match(pattern, param.name.as_bytes(), true) || alias_hit {
                out.push((param.name, values.get(param.name).cloned().unwrap_or_default()));
            }
        }
        out
    }

    /// Checks and normalises `value` for `param` without storing it.
    pub fn normalise(param: &ConfigParam, value: &str) -> Result<String, ConfigError> {
        match param.kind {
            ParamKind::Bool => match value.to_ascii_lowercase().as_str() {
                "yes" => Ok("yes".into()),
                "no" => Ok("no".into()),
                _ => Err(ConfigError::BadValue("argument must be 'yes' or 'no'".into())),
            },
            ParamKind::Int { min, max } => {
                let n: i64 = value
                    .parse()
                    .map_err(|_| ConfigError::BadValue("argument couldn't be parsed into an integer".into()))?;
                if n < min || n > max {
                    return Err(ConfigError::BadValue(format!(
                        "argument must be between {min} and {max} inclusive"
                    )));
                }
                Ok(n.to_string())
            }
            ParamKind::Memory => parse_memory(value)
                .map(|n| n.to_string())
                .ok_or_else(|| ConfigError::BadValue("argument must be a memory value".into())),
            ParamKind::Enum(words) => {
                let lower = value.to_ascii_lowercase();
                if words.contains(&lower.as_str()) {
                    Ok(lower)
                } else {
                    Err(ConfigError::BadValue("argument(s) must be one of the following: ".to_string() + &words.join(", ")))
                }
            }
            ParamKind::Str => Ok(value.to_string()),
        }
    }

    /// Sets a parameter at run time (`CONFIG SET`).
    pub fn set(&self, name: &str, value: &str) -> Result<(), ConfigError> {
        let param = Config::param(name).ok_or(ConfigError::Unknown)?;
        if !param.mutable {
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
        let normalised = Config::normalise(param, value)?;
        self.values.write().insert(param.name, normalised);
        Ok(())
    }
}

/// Parses Redis memory units: `1k`=1000, `1kb`=1024, `1m`, `1mb`, `1g`, `1gb`.
pub fn parse_memory(value: &str) -> Option<i64> {
    let lower = value.to_ascii_lowercase();
    let units: [(&str, i64); 6] = [
        ("kb", 1024),
        ("mb", 1024 * 1024),
        ("gb", 1024 * 1024 * 1024),
        ("k", 1000),
        ("m", 1000 * 1000),
        ("g", 1000 * 1000 * 1000),
    ];
    for (suffix, mul) in units {
        if let Some(num) = lower.strip_suffix(suffix) {
            return num.parse::<i64>().ok()?.checked_mul(mul);
        }
    }
    lower.parse().ok()
}
