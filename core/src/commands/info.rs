//! INFO: Redis 7.0's report layout (`# Section` headers, `field:value` lines ending in
//! CRLF, a blank line between sections) and field names, so monitoring tools and client
//! libraries parse it unchanged. Fields for features ferrokv lacks (replicas, forks,
//! AOF rewrites, Lua) report the values of an idle Redis that never used them.

use std::collections::HashSet;
use std::fmt::Display;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use ferrokv_protocol::Frame;

use crate::command::{CmdFlags, CmdResult, CommandSpec, Ctx};
use crate::commands::client::live_clients;
use crate::stats::Stats;
use crate::storage::DbStats;

/// INFO's spec.
pub static COMMANDS: &[CommandSpec] = &[CommandSpec {
    name: "info",
    arity: -1,
    // The keyspace section counts every database's keys.
    flags: CmdFlags::LOADING
        .or(CmdFlags::STALE)
        .or(CmdFlags::WHOLE_KEYSPACE),
    acl: &["dangerous"],
    group: "server",
    summary: "Returns information and statistics about the server.",
    syntax: "[section [section ...]]",
    handler: Some(info),
    ..CommandSpec::DEFAULT
}];

/// What `INFO` without arguments (or `INFO default`) shows.
const DEFAULT_SECTIONS: [&str; 11] = [
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "module_list",
    "errorstats",
    "cluster",
    "keyspace",
];

/// Memory each connection costs besides its buffers: the 16 KB read buffer and the
/// client structure (an estimate, as there is no allocator accounting).
const CLIENT_BASE_BYTES: u64 = 16 * 1024 + 1024;

/// Highest `used_memory` seen by any engine of this process (`used_memory_peak`).
static PEAK_MEMORY: AtomicU64 = AtomicU64::new(0);

/// The sections asked for, as Redis' `genInfoSectionDict`.
struct Selection {
    names: HashSet<String>,
    all: bool,
}

impl Selection {
    fn parse(args: &[Bytes]) -> Selection {
        let mut selection = Selection {
            names: HashSet::new(),
            all: false,
        };
        if args.is_empty() {
            selection
                .names
                .extend(DEFAULT_SECTIONS.iter().map(|s| s.to_string()));
        }
        for arg in args {
            let name = String::from_utf8_lossy(arg).to_ascii_lowercase();
            match name.as_str() {
                "default" => selection
                    .names
                    .extend(DEFAULT_SECTIONS.iter().map(|s| s.to_string())),
                "all" | "everything" => selection.all = true,
                _ => {
                    selection.names.insert(name);
                }
            }
        }
        selection
    }

    fn wants(&self, section: &str) -> bool {
        self.all || self.names.contains(section)
    }
}

/// Builds the report: sections separated by a blank line.
#[derive(Default)]
struct Report {
    text: String,
    sections: usize,
}

impl Report {
    fn section(&mut self, title: &str) {
        if self.sections > 0 {
            self.text.push_str("\r\n");
        }
        self.sections += 1;
        self.text.push_str("# ");
        self.text.push_str(title);
        self.text.push_str("\r\n");
    }

    fn field(&mut self, name: &str, value: impl Display) {
        use std::fmt::Write;
        let _ = write!(self.text, "{name}:{value}\r\n");
    }

    /// Preformatted `name:value` lines.
    fn lines(&mut self, lines: Vec<String>) {
        for line in lines {
            self.text.push_str(&line);
            self.text.push_str("\r\n");
        }
    }

    /// Several fields that always read 0 here.
    fn zeros(&mut self, names: &[&str]) {
        for name in names {
            self.field(name, 0);
        }
    }
}

fn info(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let selection = Selection::parse(&argv[1..]);
    let mut report = Report::default();
    let dbs: Vec<DbStats> = if selection.wants("keyspace") || selection.wants("memory") {
        (0..ctx.engine.databases())
            .map(|db| ctx.txn.db_size(db))
            .collect::<Result<_, _>>()?
    } else {
        Vec::new()
    };
    type Writer = fn(&mut Report, &Ctx<'_>, &[DbStats]);
    let sections: [(&[&str], Writer); 13] = [
        (&["server"], server_section),
        (&["clients"], clients_section),
        (&["memory"], memory_section),
        (&["persistence"], persistence_section),
        (&["stats"], stats_section),
        (&["replication"], replication_section),
        (&["cpu"], cpu_section),
        (&["module_list", "modules"], |r, _, _| r.section("Modules")),
        (&["commandstats"], |r, ctx, _| {
            r.section("Commandstats");
            r.lines(ctx.engine.command_stats.command_lines());
        }),
        (&["errorstats"], |r, ctx, _| {
            r.section("Errorstats");
            r.lines(ctx.engine.command_stats.error_lines());
        }),
        (&["latencystats"], |r, _, _| r.section("Latencystats")),
        (&["cluster"], |r, _, _| {
            r.section("Cluster");
            r.field("cluster_enabled", 0);
        }),
        (&["keyspace"], keyspace_section),
    ];
    for (names, write) in sections {
        if names.iter().any(|n| selection.wants(n)) {
            write(&mut report, ctx, &dbs);
        }
    }
    Ok(Frame::Verbatim {
        format: *b"txt",
        text: Bytes::from(report.text),
    })
}

fn unix_micros() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros())
        .unwrap_or(0)
}

fn server_section(r: &mut Report, ctx: &Ctx<'_>, _dbs: &[DbStats]) {
    let engine = ctx.engine;
    let uptime = engine.started.elapsed().as_secs();
    let hz = engine.config.get_i64("hz");
    r.section("Server");
    r.field("redis_version", crate::REDIS_VERSION);
    r.field("ferrokv_version", crate::FERROKV_VERSION);
    r.field("redis_git_sha1", "00000000");
    r.field("redis_git_dirty", 0);
    r.field("redis_build_id", build_id());
    r.field("redis_mode", "standalone");
    r.field("os", os_name());
    r.field("arch_bits", usize::BITS);
    r.field("monotonic_clock", "POSIX clock_gettime");
    r.field(
        "multiplexing_api",
        if cfg!(target_os = "linux") {
            "epoll"
        } else {
            "kqueue"
        },
    );
    r.field("atomicvar_api", "c11-builtin");
    r.field("gcc_version", "0.0.0");
    r.field("process_id", std::process::id());
    r.field("process_supervised", "no");
    r.field("run_id", &engine.run_id);
    r.field("tcp_port", engine.config.get_i64("port"));
    r.field("server_time_usec", unix_micros());
    r.field("uptime_in_seconds", uptime);
    r.field("uptime_in_days", uptime / (3600 * 24));
    r.field("hz", hz);
    r.field("configured_hz", hz);
    r.field(
        "lru_clock",
        (unix_micros() / 1_000_000) as u64 & ((1 << 24) - 1),
    );
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    r.field("executable", exe);
    let config_file = engine
        .config
        .file_path()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    r.field("config_file", config_file);
    r.field("io_threads_active", 0);
}

/// A stable build id from the version, in Redis' hex form.
fn build_id() -> String {
    let hash = crate::FERROKV_VERSION
        .bytes()
        .fold(0xcbf29ce484222325u64, |h, b| {
            (h ^ b as u64).wrapping_mul(0x100000001b3)
        });
    format!("{hash:x}")
}

/// `uname -s -r -m`, read from `/proc` where available.
fn os_name() -> String {
    let read = |path: &str| {
        std::fs::read_to_string(path)
            .ok()
            .map(|s| s.trim().to_string())
    };
    let sysname =
        read("/proc/sys/kernel/ostype").unwrap_or_else(|| std::env::consts::OS.to_string());
    let release = read("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!("{sysname} {release} {}", std::env::consts::ARCH)
}

fn clients_section(r: &mut Report, ctx: &Ctx<'_>, _dbs: &[DbStats]) {
    let clients = live_clients(ctx);
    let max_in = clients
        .iter()
        .map(|c| c.query_buffer.load(Ordering::Relaxed))
        .max()
        .unwrap_or(0);
    let max_out = clients
        .iter()
        .map(|c| c.output_buffer.load(Ordering::Relaxed))
        .max()
        .unwrap_or(0);
    r.section("Clients");
    r.field("connected_clients", clients.len());
    r.field("cluster_connections", 0);
    r.field("maxclients", ctx.engine.config.get_i64("maxclients"));
    r.field("client_recent_max_input_buffer", max_in);
    r.field("client_recent_max_output_buffer", max_out);
    let blocked = ctx.engine.blocking.blocked_clients() + ctx.engine.pause.held_clients();
    r.field("blocked_clients", blocked);
    r.field("tracking_clients", ctx.engine.tracking.tracking_clients());
    r.field("clients_in_timeout_table", 0);
}

/// Bytes as Redis' `bytesToHuman`: `100B`, `1.50K`, `2.00M`, ...
pub fn bytes_to_human(n: u64) -> String {
    const UNITS: [char; 5] = ['K', 'M', 'G', 'T', 'P'];
    if n < 1024 {
        return format!("{n}B");
    }
    let mut scale = 1024u64;
    for unit in UNITS {
        if n / scale < 1024 || unit == 'P' {
            return format!("{:.2}{unit}", n as f64 / scale as f64);
        }
        scale *= 1024;
    }
    format!("{n}B")
}

/// Resident set size from `/proc/self/statm` (pages of 4 KB), or 0 elsewhere.
fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse::<u64>().ok())
        .unwrap_or(0)
        * 4096
}

/// Physical memory from `/proc/meminfo`, or 0 elsewhere.
fn total_system_memory() -> u64 {
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let kb = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse::<u64>().ok());
    kb.unwrap_or(0) * 1024
}

fn percent(part: u64, whole: u64) -> String {
    let ratio = if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    };
    format!("{ratio:.2}%")
}

fn ratio(a: u64, b: u64) -> String {
    format!("{:.2}", if b == 0 { 0.0 } else { a as f64 / b as f64 })
}

fn memory_section(r: &mut Report, ctx: &Ctx<'_>, _dbs: &[DbStats]) {
    let clients = live_clients(ctx);
    let clients_bytes: u64 = clients
        .iter()
        .map(|c| {
            let buffers =
                c.query_buffer.load(Ordering::Relaxed) + c.output_buffer.load(Ordering::Relaxed);
            CLIENT_BASE_BYTES + buffers as u64
        })
        .sum();
    let dataset = ctx.engine.dataset_bytes();
    let used = dataset + clients_bytes;
    let peak = PEAK_MEMORY.fetch_max(used, Ordering::Relaxed).max(used);
    let rss = rss_bytes();
    let system = total_system_memory();
    let maxmemory = ctx
        .engine
        .config
        .get("maxmemory")
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    r.section("Memory");
    r.field("used_memory", used);
    r.field("used_memory_human", bytes_to_human(used));
    r.field("used_memory_rss", rss);
    r.field("used_memory_rss_human", bytes_to_human(rss));
    r.field("used_memory_peak", peak);
    r.field("used_memory_peak_human", bytes_to_human(peak));
    r.field("used_memory_peak_perc", percent(used, peak));
    r.field("used_memory_overhead", clients_bytes);
    r.field("used_memory_startup", 0);
    r.field("used_memory_dataset", dataset);
    r.field("used_memory_dataset_perc", percent(dataset, used));
    r.field("allocator_allocated", used);
    r.field("allocator_active", used);
    r.field("allocator_resident", rss);
    r.field("total_system_memory", system);
    r.field("total_system_memory_human", bytes_to_human(system));
    r.zeros(&["used_memory_lua", "used_memory_vm_eval"]);
    r.field("used_memory_lua_human", "0B");
    r.zeros(&[
        "used_memory_scripts_eval",
        "number_of_cached_scripts",
        "number_of_functions",
        "number_of_libraries",
        "used_memory_vm_functions",
        "used_memory_vm_total",
    ]);
    r.field("used_memory_vm_total_human", "0B");
    r.zeros(&["used_memory_functions", "used_memory_scripts"]);
    r.field("used_memory_scripts_human", "0B");
    r.field("maxmemory", maxmemory);
    r.field("maxmemory_human", bytes_to_human(maxmemory));
    r.field(
        "maxmemory_policy",
        ctx.engine
            .config
            .get("maxmemory-policy")
            .unwrap_or_default(),
    );
    r.field("allocator_frag_ratio", "1.00");
    r.field("allocator_frag_bytes", 0);
    r.field("allocator_rss_ratio", ratio(rss, used));
    r.field("allocator_rss_bytes", rss as i64 - used as i64);
    r.field("rss_overhead_ratio", "1.00");
    r.field("rss_overhead_bytes", 0);
    r.field("mem_fragmentation_ratio", ratio(rss, used));
    r.field("mem_fragmentation_bytes", rss as i64 - used as i64);
    r.zeros(&[
        "mem_not_counted_for_evict",
        "mem_replication_backlog",
        "mem_total_replication_buffers",
        "mem_clients_slaves",
    ]);
    r.field("mem_clients_normal", clients_bytes);
    r.zeros(&["mem_cluster_links", "mem_aof_buffer"]);
    r.field("mem_allocator", "libc");
    r.zeros(&[
        "active_defrag_running",
        "lazyfree_pending_objects",
        "lazyfreed_objects",
    ]);
}

fn persistence_section(r: &mut Report, ctx: &Ctx<'_>, _dbs: &[DbStats]) {
    let aof = ctx.engine.config.get_i64("appendonly");
    let p = ctx.engine.persistence.info();
    r.section("Persistence");
    r.zeros(&[
        "loading",
        "async_loading",
        "current_cow_peak",
        "current_cow_size",
        "current_cow_size_age",
    ]);
    r.field("current_fork_perc", "0.00");
    r.field("current_save_keys_processed", p.keys_processed);
    r.field("current_save_keys_total", p.keys_total);
    r.field("rdb_changes_since_last_save", p.changes_since_last_save);
    r.field("rdb_bgsave_in_progress", u8::from(p.bgsave_in_progress));
    r.field("rdb_last_save_time", p.last_save_time);
    r.field(
        "rdb_last_bgsave_status",
        if p.last_bgsave_ok { "ok" } else { "err" },
    );
    r.field("rdb_last_bgsave_time_sec", p.last_bgsave_time_sec);
    r.field("rdb_current_bgsave_time_sec", p.current_bgsave_time_sec);
    r.field("rdb_saves", p.saves);
    r.field("rdb_last_cow_size", 0);
    r.field("rdb_last_load_keys_expired", p.loaded_expired);
    r.field("rdb_last_load_keys_loaded", p.loaded_keys);
    if let Some(aof) = ctx.engine.propagation.control() {
        for (name, value) in aof.info() {
            r.field(name, value);
        }
        return;
    }
    r.field("aof_enabled", aof);
    r.zeros(&["aof_rewrite_in_progress", "aof_rewrite_scheduled"]);
    r.field("aof_last_rewrite_time_sec", -1);
    r.field("aof_current_rewrite_time_sec", -1);
    r.field("aof_last_bgrewrite_status", "ok");
    r.zeros(&["aof_rewrites", "aof_rewrites_consecutive_failures"]);
    r.field("aof_last_write_status", "ok");
    r.zeros(&[
        "aof_last_cow_size",
        "module_fork_in_progress",
        "module_fork_last_cow_size",
    ]);
}

fn stats_section(r: &mut Report, ctx: &Ctx<'_>, _dbs: &[DbStats]) {
    let s = &ctx.engine.stats;
    let commands = Stats::get(&s.commands_processed);
    r.section("Stats");
    r.field(
        "total_connections_received",
        Stats::get(&s.connections_received),
    );
    r.field("total_commands_processed", commands);
    r.field("instantaneous_ops_per_sec", 0);
    r.field("total_net_input_bytes", Stats::get(&s.net_input_bytes));
    r.field("total_net_output_bytes", Stats::get(&s.net_output_bytes));
    r.zeros(&["total_net_repl_input_bytes", "total_net_repl_output_bytes"]);
    for name in [
        "instantaneous_input_kbps",
        "instantaneous_output_kbps",
        "instantaneous_input_repl_kbps",
        "instantaneous_output_repl_kbps",
    ] {
        r.field(name, "0.00");
    }
    r.field("rejected_connections", Stats::get(&s.rejected_connections));
    r.zeros(&["sync_full", "sync_partial_ok", "sync_partial_err"]);
    r.field("expired_keys", Stats::get(&s.expired_keys));
    r.field("expired_stale_perc", "0.00");
    r.zeros(&[
        "expired_time_cap_reached_count",
        "expire_cycle_cpu_milliseconds",
        "evicted_keys",
        "evicted_clients",
        "total_eviction_exceeded_time",
        "current_eviction_exceeded_time",
    ]);
    r.field("keyspace_hits", Stats::get(&s.keyspace_hits));
    r.field("keyspace_misses", Stats::get(&s.keyspace_misses));
    let pubsub = &ctx.engine.pubsub;
    r.field("pubsub_channels", pubsub.channel_count());
    r.field("pubsub_patterns", pubsub.pattern_count());
    r.field("pubsubshard_channels", pubsub.shard_channel_count());
    r.zeros(&[
        "latest_fork_usec",
        "total_forks",
        "migrate_cached_sockets",
        "slave_expires_tracked_keys",
        "active_defrag_hits",
        "active_defrag_misses",
        "active_defrag_key_hits",
        "active_defrag_key_misses",
        "total_active_defrag_time",
        "current_active_defrag_time",
    ]);
    let tracking = &ctx.engine.tracking;
    r.field("tracking_total_keys", tracking.total_keys());
    r.field("tracking_total_items", tracking.total_items());
    r.field("tracking_total_prefixes", tracking.total_prefixes());
    r.field("unexpected_error_replies", 0);
    r.field("total_error_replies", Stats::get(&s.error_replies));
    r.field("dump_payload_sanitizations", 0);
    // Every command is one read and one reply write.
    r.field("total_reads_processed", commands);
    r.field("total_writes_processed", commands);
    r.zeros(&[
        "io_threaded_reads_processed",
        "io_threaded_writes_processed",
        "reply_buffer_shrinks",
        "reply_buffer_expands",
    ]);
}

fn replication_section(r: &mut Report, ctx: &Ctx<'_>, _dbs: &[DbStats]) {
    r.section("Replication");
    r.field("role", "master");
    r.field("connected_slaves", 0);
    r.field("master_failover_state", "no-failover");
    // A replication id distinct from the run id, stable for the engine's life.
    r.field(
        "master_replid",
        ctx.engine.run_id.chars().rev().collect::<String>(),
    );
    r.field("master_replid2", "0".repeat(40));
    r.field("master_repl_offset", 0);
    r.field("second_repl_offset", -1);
    r.field("repl_backlog_active", 0);
    r.field(
        "repl_backlog_size",
        ctx.engine.config.get_i64("repl-backlog-size"),
    );
    r.zeros(&["repl_backlog_first_byte_offset", "repl_backlog_histlen"]);
}

/// (user, system) CPU seconds from a `/proc/.../stat` file, at 100 ticks a second.
fn cpu_times(path: &str) -> (f64, f64) {
    let stat = std::fs::read_to_string(path).unwrap_or_default();
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0) as f64
            / 100.0
    };
    // Fields 14 and 15 of the file (utime, stime) are 11 and 12 after the name.
    (ticks(11), ticks(12))
}

fn cpu_section(r: &mut Report, _ctx: &Ctx<'_>, _dbs: &[DbStats]) {
    let (user, sys) = cpu_times("/proc/self/stat");
    let (main_user, main_sys) = cpu_times(&format!("/proc/self/task/{}/stat", std::process::id()));
    r.section("CPU");
    r.field("used_cpu_sys", format!("{sys:.6}"));
    r.field("used_cpu_user", format!("{user:.6}"));
    r.field("used_cpu_sys_children", "0.000000");
    r.field("used_cpu_user_children", "0.000000");
    r.field("used_cpu_sys_main_thread", format!("{main_sys:.6}"));
    r.field("used_cpu_user_main_thread", format!("{main_user:.6}"));
}

fn keyspace_section(r: &mut Report, _ctx: &Ctx<'_>, dbs: &[DbStats]) {
    r.section("Keyspace");
    for (db, stats) in dbs.iter().enumerate() {
        if stats.keys > 0 || stats.expires > 0 {
            r.field(
                &format!("db{db}"),
                format!("keys={},expires={},avg_ttl=0", stats.keys, stats.expires),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::bytes_to_human;
    use crate::testing::{engine, run, session};
    use ferrokv_protocol::Frame;

    fn info(words: &[&str]) -> (String, crate::Engine) {
        let e = engine();
        let mut s = session(&e);
        run(&e, &mut s, &["SET", "a", "1"]);
        run(&e, &mut s, &["SET", "b", "1", "EX", "100"]);
        run(&e, &mut s, &["SELECT", "3"]);
        run(&e, &mut s, &["SET", "c", "1"]);
        let text = match run(&e, &mut s, words) {
            Frame::Verbatim { format, text } => {
                assert_eq!(&format, b"txt");
                String::from_utf8(text.to_vec()).unwrap()
            }
            other => panic!("not verbatim: {other:?}"),
        };
        (text, e)
    }

    fn headers(text: &str) -> Vec<&str> {
        text.lines().filter(|l| l.starts_with("# ")).collect()
    }

    fn field<'a>(text: &'a str, name: &str) -> &'a str {
        let prefix = format!("{name}:");
        text.split("\r\n")
            .find_map(|l| l.strip_prefix(prefix.as_str()))
            .unwrap_or_else(|| panic!("no {name}"))
    }

    #[test]
    fn default_sections_and_layout() {
        let (text, _e) = info(&["INFO"]);
        assert_eq!(
            headers(&text),
            [
                "# Server",
                "# Clients",
                "# Memory",
                "# Persistence",
                "# Stats",
                "# Replication",
                "# CPU",
                "# Modules",
                "# Errorstats",
                "# Cluster",
                "# Keyspace"
            ]
        );
        assert!(text.starts_with("# Server\r\nredis_version:"));
        assert!(text.contains("\r\n\r\n# Clients\r\n"));
        assert!(text.ends_with(
            "# Keyspace\r\ndb0:keys=2,expires=1,avg_ttl=0\r\ndb3:keys=1,expires=0,avg_ttl=0\r\n"
        ));
        assert_eq!(field(&text, "redis_version"), crate::REDIS_VERSION);
        assert_eq!(field(&text, "ferrokv_version"), crate::FERROKV_VERSION);
        assert_eq!(field(&text, "redis_mode"), "standalone");
        assert_eq!(field(&text, "tcp_port"), "6379");
        assert_eq!(field(&text, "hz"), "10");
        assert_eq!(field(&text, "connected_clients"), "1");
        assert_eq!(field(&text, "maxclients"), "10000");
        assert_eq!(field(&text, "role"), "master");
        assert_eq!(field(&text, "loading"), "0");
        assert_eq!(field(&text, "rdb_last_bgsave_status"), "ok");
        assert_eq!(field(&text, "maxmemory_policy"), "noeviction");
        assert_eq!(field(&text, "total_commands_processed"), "5");
        assert_eq!(field(&text, "cluster_enabled"), "0");
        assert_eq!(field(&text, "run_id").len(), 40);
        assert_eq!(field(&text, "master_replid").len(), 40);
        assert!(field(&text, "used_memory").parse::<u64>().unwrap() > 0);
        assert!(field(&text, "used_cpu_user").contains('.'));
        assert!(!text.contains("# Commandstats"));
    }

    #[test]
    fn chosen_sections() {
        let (text, _e) = info(&["INFO", "KEYSPACE", "server", "keyspace"]);
        assert_eq!(headers(&text), ["# Server", "# Keyspace"]);
        let (text, _e) = info(&["INFO", "nosuch"]);
        assert_eq!(text, "");
        let (text, _e) = info(&["INFO", "all"]);
        assert_eq!(headers(&text).len(), 13);
        // The commands before INFO are counted (INFO itself after it ran, as in Redis).
        assert!(text.contains("# Commandstats\r\ncmdstat_select:calls=1,"));
        assert!(text.contains("\r\ncmdstat_set:calls=3,"));
        assert!(text.contains("# Errorstats\r\n\r\n# Latencystats\r\n"));
        let (text, _e) = info(&["INFO", "everything", "default"]);
        assert_eq!(headers(&text).len(), 13);
        let (text, _e) = info(&["INFO", "default", "commandstats"]);
        assert_eq!(headers(&text).len(), 12);
        let (text, _e) = info(&["INFO", "modules"]);
        assert_eq!(text, "# Modules\r\n");
        let (text, e) = info(&["INFO", "cpu"]);
        assert!(text.starts_with("# CPU\r\nused_cpu_sys:"));
        e.config.set("hz", "100").unwrap();
    }

    #[test]
    fn human_bytes() {
        assert_eq!(bytes_to_human(0), "0B");
        assert_eq!(bytes_to_human(1023), "1023B");
        assert_eq!(bytes_to_human(1536), "1.50K");
        assert_eq!(bytes_to_human(5 * 1024 * 1024), "5.00M");
        assert_eq!(bytes_to_human(3 << 30), "3.00G");
    }
}
