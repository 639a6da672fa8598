//! `abusedesk token`: API tokens for the HTTP API (works while `serve` runs).
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
    /// TOML configuration file (for `data_dir` / `database_url`).
    #[arg(long, value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,
    /// Data directory; default ./abusedesk-data.
    #[arg(long, value_name = "DIR", global = true)]
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Create a token and print it (shown once; the store keeps only its hash).
    Create {
        /// Who or what uses the token.
        #[arg(long)]
        name: String,
    },
    /// List tokens (never their secrets).
    List,
    /// Revoke a token by id.
    Revoke { id: i64 },
}

fn now() -> i64 {
    use abusedesk_desk::Clock;
    abusedesk_desk::SystemClock.now()
}

pub fn run(args: Args) -> ExitCode {
    let mut flags = Vec::new();
    if let Some(d) = &args.data_dir {
        flags.push(("data_dir", d.display().to_string()));
    }
    let config = match super::serve::load_config(args.config.as_deref(), flags) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("abusedesk token: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("abusedesk token: {e}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(async move {
        let store = match config.open_store().await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("abusedesk token: cannot open the store: {e}");
                return ExitCode::from(1);
            }
        };
        let result = match args.action {
            Action::Create { name } => {
                let name = name.trim().to_owned();
                if name.is_empty() {
                    eprintln!("abusedesk token: --name must not be empty");
                    return ExitCode::from(2);
                }
                store.create_token(&name, now()).await.map(|t| {
                    eprintln!(
                        "created token {} ({}); it is shown only now:",
                        t.info.id, t.info.name
                    );
                    println!("{}", t.secret);
                })
            }
            Action::List => store.list_tokens().await.map(|tokens| {
                println!(
                    "{:>4}  {:<24} {:<12} {:<24} {:<24} revoked",
                    "id", "name", "starts", "created", "last used"
                );
                for t in tokens {
                    let t2 = |ms: Option<i64>| {
                        ms.map(abusedesk_desk::http::views::time)
                            .unwrap_or_else(|| "-".into())
                    };
                    println!(
                        "{:>4}  {:<24} {:<12} {:<24} {:<24} {}",
                        t.id,
                        t.name,
                        t.hint,
                        t2(Some(t.created_at)),
                        t2(t.last_used_at),
                        t2(t.revoked_at)
                    );
                }
            }),
            Action::Revoke { id } => match store.revoke_token(id, now()).await {
                Ok(true) => {
                    eprintln!("revoked token {id}");
                    Ok(())
                }
                Ok(false) => {
                    eprintln!("abusedesk token: no active token with id {id}");
                    store.close().await;
                    return ExitCode::from(1);
                }
                Err(e) => Err(e),
            },
        };
        store.close().await;
        match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("abusedesk token: {e}");
                ExitCode::from(1)
            }
        }
    })
}
