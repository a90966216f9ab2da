//! `ferrokv-server [config-file] [--name value ...]`: starts ferrokv with redis.conf-style
//! configuration; any directive may also be given as `--name value`.

use std::process::ExitCode;

use ferrokv_core::config::Config;

fn usage() -> &'static str {
    "Usage: ferrokv-server [/path/to/redis.conf] [--port 6379] [--bind 127.0.0.1] \
     [--backend memory|disk] [--dir PATH] [--databases 16] [--maxclients 10000] [--timeout 0] [--<directive> value ...]\n\
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
        Some("-h") | Some("--help") => {
            println!("{}", usage());
            return ExitCode::SUCCESS;
        }
        _ => {}
    }
    let config = match configure(&args) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ferrokv-server: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let listener = ferrokv_server::bind(&config).await?;
    let engine = ferrokv_server::build_engine(config)?;
    eprintln!(
        "ferrokv {} (Redis {} compatible) ready: backend={} port={} pid={}",
        ferrokv_core::FERROKV_VERSION,
        ferrokv_core::REDIS_VERSION,
        engine.backend().name(),
        listener.local_addr()?.port(),
        std::process::id()
    );
    let stop = async {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
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
