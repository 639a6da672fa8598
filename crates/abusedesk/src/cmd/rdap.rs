//! `abusedesk rdap`: look up external networks and their abuse contacts over RDAP.
use abusedesk_rdap::{ClientConfig, RdapClient};
use std::net::IpAddr;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Send every query to this RDAP base URL (`<URL>ip/<address>`) instead of the
    /// registry the IANA bootstrap table names.
    #[arg(long, value_name = "URL", env = "ABUSEDESK_RDAP_BASE_URL")]
    pub base_url: Option<String>,
    /// Per-request timeout in seconds.
    #[arg(long, default_value_t = 10)]
    pub timeout: u64,
    /// Print the parsed record as JSON instead of a summary.
    #[arg(long)]
    pub json: bool,
    /// IP addresses.
    #[arg(required = true)]
    pub ips: Vec<IpAddr>,
}

pub fn run(args: Args) -> ExitCode {
    let config = match &args.base_url {
        Some(u) => match ClientConfig::with_base_url(u) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("abusedesk rdap: {e}");
                return ExitCode::from(2);
            }
        },
        None => ClientConfig::default(),
    };
    let config = ClientConfig {
        timeout: Duration::from_secs(args.timeout.max(1)),
        ..config
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("abusedesk rdap: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let client = match RdapClient::new(config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("abusedesk rdap: {e}");
            return ExitCode::from(2);
        }
    };
    let mut code = ExitCode::SUCCESS;
    runtime.block_on(async {
        for ip in &args.ips {
            match client.lookup_ip(*ip).await {
                Ok(l) if args.json => match serde_json::to_string(&*l.network) {
                    Ok(s) => println!("{s}"),
                    Err(e) => {
                        eprintln!("{ip}: {e}");
                        code = ExitCode::from(1);
                    }
                },
                Ok(l) => {
                    let n = &l.network;
                    let range = if n.cidrs.is_empty() {
                        "?".to_string()
                    } else {
                        n.cidrs
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join(" ")
                    };
                    println!(
                        "{ip}: {} {} ({range}) country {} [{}]",
                        n.handle.as_deref().unwrap_or("?"),
                        n.name.as_deref().unwrap_or(""),
                        n.country.as_deref().unwrap_or("?"),
                        l.url
                    );
                    match &n.abuse_contact {
                        Some(c) => println!(
                            "  abuse contact: {} (rule {}: {})",
                            if c.emails.is_empty() {
                                c.name.clone().unwrap_or_default()
                            } else {
                                c.emails.join(", ")
                            },
                            serde_json::to_value(c.rule)
                                .ok()
                                .and_then(|v| v.as_str().map(str::to_string))
                                .unwrap_or_default(),
                            c.explanation
                        ),
                        None => println!("  no abuse contact in the record"),
                    }
                }
                Err(e) => {
                    eprintln!("{ip}: {e}");
                    code = ExitCode::from(1);
                }
            }
        }
    });
    code
}
