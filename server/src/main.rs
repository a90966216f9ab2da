//! `ferrokv-server [config-file] [--name value ...]`: starts ferrokv with redis.conf-style
//! configuration; any directive may also be given as `--name value`.

use std::process::ExitCode;

use ferrokv_core::config::Config;

/// jemalloc keeps resident memory lower than glibc's per-thread arenas for the
/// engine's many small, long-lived allocations (measured: see docs/benchmarks.md).
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc options read at start: a background thread returns freed pages to the OS
/// within a second instead of keeping them dirty (1M keys: 87 MB RSS instead of 115).
/// jemalloc is the process' `malloc` (RocksDB's C++ uses it too), so this is the
/// plain `malloc_conf` symbol; `MALLOC_CONF` in the environment still overrides it.
#[cfg(not(target_env = "msvc"))]
#[export_name = "malloc_conf"]
pub static MALLOC_CONF: &[u8; 60] =
    b"background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0\0";

fn usage() -> &'static str {
    "Usage: ferrokv-server [/path/to/redis.conf] [--port 6379] [--bind 127.0.0.1] \
     [--backend memory|disk] [--dir PATH] [--disk-cache 320mb] [--databases 16] [--maxclients 10000] [--timeout 0] [--<directive> value ...]\n\
     \x20      ferrokv-server --check-rdb <file.rdb>\n\
     \x20      ferrokv-server --check-aof [--fix] <appendonlydir|manifest|file.aof>\n\
     \x20      ferrokv-server -v|--version\n\
     \x20      ferrokv-server -h|--help"
}

fn configure(args: &[String]) -> Result<Config, String> {
    let config = Config::new();
    let mut rest = args;
    if let Some(first) = rest.first() {
        if !first.starts_with("--") {
            let path = std::path::Path::new(first);
            config.load_file(path)?;
            config.set_file_path(path);
            rest = &rest[1..];
        }
    }
    config.apply_args(rest)?;
    Ok(config)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("-v") | Some("--version") => {
            println!(
                "ferrokv server v={} (Redis {} compatible)",
                ferrokv_core::FERROKV_VERSION,
                ferrokv_core::REDIS_VERSION
            );
            return ExitCode::SUCCESS;
        }
        Some("--check-rdb") => {
            return match args.get(1) {
                Some(path) => check_rdb(path),
                None => {
                    eprintln!("Usage: ferrokv-server --check-rdb <file.rdb>");
                    ExitCode::FAILURE
                }
            };
        }
        Some("-h") | Some("--help") => {
            println!("{}", usage());
            return ExitCode::SUCCESS;
        }
        _ => {}
    }
    if args.first().is_some_and(|a| a == "--check-aof") {
        return check_aof(&args[1..]);
    }
    let mut args = args;
    let options = match ferrokv_server::ServerOptions::take_from(&mut args) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::FAILURE;
        }
    };
    let config = match configure(&args) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(config, options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ferrokv-server: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config, options: ferrokv_server::ServerOptions) -> anyhow::Result<()> {
    let listener = ferrokv_server::bind(&config).await?;
    let engine = ferrokv_server::build_engine_with(config, &options)?;
    eprintln!(
        "ferrokv {} (Redis {} compatible) ready: backend={} port={} pid={}",
        ferrokv_core::FERROKV_VERSION,
        ferrokv_core::REDIS_VERSION,
        engine.backend().name(),
        listener.local_addr()?.port(),
        std::process::id()
    );
    let stop = async {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => return std::future::pending().await,
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        eprintln!("signal received, shutting down");
    };
    ferrokv_server::run(engine, listener, stop).await?;
    eprintln!("ferrokv stopped");
    Ok(())
}

/// `--check-rdb FILE`: reads a whole snapshot, reporting its aux fields, keys per
/// type and database, and the checksum; fails on any corruption.
fn check_rdb(path: &str) -> ExitCode {
    use ferrokv_core::rdb::read::{Checksum, Item};
    use std::collections::BTreeMap;
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("[offset 0] Cannot open {path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let input = std::io::BufReader::with_capacity(1 << 20, file);
    let mut reader = match ferrokv_core::rdb::RdbReader::open(input) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("--- RDB ERROR DETECTED ---\n{e}");
            return ExitCode::FAILURE;
        }
    };
    println!("[offset 0] Checking RDB file {path}");
    println!("[offset 9] RDB version {}", reader.version());
    let mut per_type: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut per_db: BTreeMap<usize, u64> = BTreeMap::new();
    let (mut keys, mut expires) = (0u64, 0u64);
    loop {
        match reader.next_item() {
            Ok(Item::Aux { key, value }) => println!(
                "[offset {}] AUX FIELD {} = '{}'",
                reader.offset(),
                String::from_utf8_lossy(&key),
                String::from_utf8_lossy(&value)
            ),
            Ok(Item::SelectDb(db)) => println!("[offset {}] Selecting DB ID {db}", reader.offset()),
            Ok(Item::Key(entry)) => {
                keys += 1;
                expires += u64::from(entry.expire_at.is_some());
                *per_type.entry(entry.value.key_type().name()).or_default() += 1;
                *per_db.entry(entry.db).or_default() += 1;
            }
            Ok(Item::Function(_)) => *per_type.entry("function").or_default() += 1,
            Ok(Item::ResizeDb { .. }) | Ok(Item::ModuleAux) => {}
            Ok(Item::Eof(checksum)) => {
                let status = match checksum {
                    Checksum::Ok => "OK".to_string(),
                    Checksum::Disabled => "disabled (zero stored)".to_string(),
                    Checksum::Absent => "absent (old version)".to_string(),
                    Checksum::Mismatch { stored, computed } => {
                        format!("MISMATCH (stored {stored:016x}, computed {computed:016x})")
                    }
                };
                println!("[offset {}] Checksum {status}", reader.offset());
                println!("[info] {keys} keys read, {expires} expires");
                for (t, n) in &per_type {
                    println!("[info] {t}: {n}");
                }
                for (db, n) in &per_db {
                    println!("[info] db{db}: {n} keys");
                }
                if matches!(checksum, Checksum::Mismatch { .. }) {
                    println!("--- RDB ERROR DETECTED ---");
                    return ExitCode::FAILURE;
                }
                println!("\\o/ RDB looks OK! \\o/");
                return ExitCode::SUCCESS;
            }
            Err(e) => {
                println!(
                    "--- RDB ERROR DETECTED ---\n[offset {}] {e}",
                    reader.offset()
                );
                println!("[info] {keys} keys read before the error");
                return ExitCode::FAILURE;
            }
        }
    }
}

/// `--check-aof [--fix] TARGET`: exit status 0 when valid (or fixed), 1 otherwise.
fn check_aof(args: &[String]) -> ExitCode {
    let (fix, target) = match args {
        [flag, target] if flag == "--fix" => (true, target),
        [target] => (false, target),
        _ => {
            eprintln!(
                "Usage: ferrokv-server --check-aof [--fix] <appendonlydir|manifest|file.aof>"
            );
            return ExitCode::FAILURE;
        }
    };
    use ferrokv_server::aof::check::{check_aof, CheckOutcome};
    match check_aof(std::path::Path::new(target), fix) {
        Ok(CheckOutcome::Valid) => {
            println!("AOF is valid");
            ExitCode::SUCCESS
        }
        Ok(CheckOutcome::Truncated(..)) => {
            println!("AOF is not valid. Use the --fix option to try fixing it.");
            ExitCode::FAILURE
        }
        Ok(CheckOutcome::Corrupt(path, at)) => {
            println!(
                "AOF {} is corrupt at offset {at} before its end: not fixable automatically",
                path.display()
            );
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
