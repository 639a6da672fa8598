//! `abusedesk serve`: the desk server (HTTP API, SMTP intake, workers) on one store.
use std::path::PathBuf;
use std::process::ExitCode;

use abusedesk_desk::config::LogFormat;
use abusedesk_desk::{Config, Services, Sources};

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Configuration: defaults < --config file < ABUSEDESK_* environment < flags. \
Every key is documented in docs/configuration.md.\n\
Exit status: 0 stopped by SIGINT/SIGTERM; 2 configuration error; 1 cannot start."
)]
pub struct Args {
    /// TOML configuration file.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Data directory (SQLite database); default ./abusedesk-data.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// HTTP API address (port 0 picks a free port); default 127.0.0.1:8080.
    #[arg(long, value_name = "ADDR")]
    pub http: Option<String>,
    /// SMTP intake address (port 0 picks a free port); default 127.0.0.1:2525.
    #[arg(long, value_name = "ADDR")]
    pub smtp: Option<String>,
}

/// Configuration from the file, the environment and these flags (shared by `ingest` and
/// `token`, which open the same store).
pub fn load_config(
    config: Option<&std::path::Path>,
    flags: Vec<(&'static str, String)>,
) -> Result<Config, abusedesk_desk::ConfigErrors> {
    Config::load(&Sources {
        file: config,
        env: std::env::vars().collect(),
        flags,
    })
}

fn init_logging(config: &Config) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&config.log.level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match config.log.format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

pub fn run(args: Args) -> ExitCode {
    let mut flags = Vec::new();
    if let Some(d) = &args.data_dir {
        flags.push(("data_dir", d.display().to_string()));
    }
    if let Some(h) = args.http {
        flags.push(("http.listen", h));
    }
    if let Some(s) = args.smtp {
        flags.push(("smtp.listen", s));
    }
    let config = match load_config(args.config.as_deref(), flags) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("abusedesk serve: {e}");
            return ExitCode::from(2);
        }
    };
    init_logging(&config);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("abusedesk serve: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(async move {
        let services = match Services::standard(&config) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("abusedesk serve: {e}");
                return ExitCode::from(1);
            }
        };
        let running = match abusedesk_desk::serve(&config, services).await {
            Ok(r) => r,
            Err(e) => {
                eprintln!("abusedesk serve: {e}");
                return ExitCode::from(1);
            }
        };
        println!("http listening on {}", running.http_addr);
        if let Some(a) = running.smtp_addr {
            println!("smtp listening on {a}");
        }
        println!(
            "store {} ({})",
            abusedesk_store::redact_url(&config.store_url()),
            running.store.kind().as_str()
        );
        use std::io::Write;
        let _ = std::io::stdout().flush();
        let token = running.shutdown_token();
        tokio::spawn(async move {
            wait_for_signal().await;
            tracing::info!("shutting down");
            token.cancel();
        });
        running.wait().await;
        ExitCode::SUCCESS
    })
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
