//! `abusedesk auth`: SPF, Sender ID, DKIM, DomainKeys, DMARC, ARC and iprev for a message.
use crate::inputs::{self, Source};
use abusedesk_auth::dns::{LiveConfig, Resolver, zone};
use abusedesk_auth::{AuthReport, Authenticator, Session};
use abusedesk_forensics::{TraceConfig, TrustConfig, trace};
use anyhow::{Context, Result, bail};
use ipnet::IpNet;
use serde::Serialize;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// DNS options shared by `auth`, `spf` and `trace --auth`.
#[derive(Debug, Clone, clap::Args)]
pub struct DnsArgs {
    /// Answer DNS from this RFC 1035 master file instead of the network (repeatable);
    /// names absent from every file are NXDOMAIN.
    #[arg(long = "dns-zone", value_name = "FILE")]
    pub zones: Vec<PathBuf>,
    /// Ask this DNS server (IP:PORT) instead of the ones in /etc/resolv.conf.
    #[arg(long, value_name = "IP:PORT", conflicts_with = "zones")]
    pub resolver: Option<SocketAddr>,
    /// Seconds to wait for one DNS answer before the check is a temperror.
    #[arg(long = "dns-timeout", value_name = "SECONDS", default_value_t = 5)]
    pub timeout: u64,
    /// The name this verifier reports as (Authentication-Results authserv-id, SPF `r`).
    #[arg(long, value_name = "NAME", default_value = "abusedesk.invalid")]
    pub authserv_id: String,
}

impl DnsArgs {
    pub fn resolver(&self) -> Result<Resolver> {
        if !self.zones.is_empty() {
            let mut files = Vec::new();
            for p in &self.zones {
                let bytes = std::fs::read(p)
                    .with_context(|| format!("cannot read zone file {}", p.display()))?;
                files.push((p.display().to_string(), bytes));
            }
            let (zone, warnings) = zone::load_files(&files).map_err(anyhow::Error::msg)?;
            for w in warnings {
                eprintln!("abusedesk: warning: {w}");
            }
            return Ok(Resolver::from_zone(zone));
        }
        if self.timeout == 0 {
            bail!("--dns-timeout must be at least 1 second");
        }
        let cfg = LiveConfig {
            server: self.resolver,
            timeout: Duration::from_secs(self.timeout),
            ..LiveConfig::default()
        };
        Ok(Resolver::live(cfg)?)
    }
}

pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// The Authentication-Results header field.
    Text,
    /// One JSON object per message (docs/auth.md).
    Json,
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Without --ip/--helo/--mail-from the values come from the origin hop that \
`abusedesk trace` finds (use --trusted for your relays). Exit status: 0 every message was \
checked; 1 an input could not be read; 2 usage or DNS configuration error."
)]
pub struct Args {
    /// A message file (an mbox gives one result per message); `-` reads standard input.
    #[arg(value_name = "PATH|-")]
    pub path: PathBuf,
    /// The SMTP client's address (default: the origin's).
    #[arg(long, value_name = "IP")]
    pub ip: Option<IpAddr>,
    /// The HELO/EHLO name (default: the origin's).
    #[arg(long, value_name = "NAME")]
    pub helo: Option<String>,
    /// The MAIL FROM address, "" for the null reverse-path (default: the envelope sender
    /// the message records).
    #[arg(long, value_name = "ADDR")]
    pub mail_from: Option<String>,
    /// Evaluate as of this moment (Unix seconds): expired signatures, rotated keys.
    /// Default: now.
    #[arg(long, value_name = "UNIX_TIME")]
    pub at: Option<u64>,
    /// A trusted relay network for finding the origin (CIDR or address); repeatable.
    #[arg(long = "trusted", value_name = "CIDR", value_parser = parse_net)]
    pub trusted: Vec<IpNet>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[command(flatten)]
    pub dns: DnsArgs,
}

fn parse_net(s: &str) -> Result<IpNet, String> {
    s.parse::<IpNet>()
        .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("`{s}` is not an IP address or CIDR network"))
}

/// Where each session fact came from.
#[derive(Debug, Serialize)]
struct SessionInfo {
    ip: Option<IpAddr>,
    helo: Option<String>,
    mail_from: Option<String>,
    /// `arguments`, `trace` (the origin hop), or `none`.
    source: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    origin_hop: Option<usize>,
}

#[derive(Serialize)]
struct Line<'a> {
    file: &'a str,
    session: &'a SessionInfo,
    #[serde(flatten)]
    report: &'a AuthReport,
}

/// The session for a message: arguments first, then the traced origin.
fn session_for(args: &Args, raw: &[u8], cfg: &TraceConfig, at: u64) -> (Session, SessionInfo) {
    let given = args.ip.is_some() || args.helo.is_some() || args.mail_from.is_some();
    let t = trace(raw, cfg);
    let origin = t.origin.as_ref();
    let ip = args.ip.or(origin.map(|o| o.ip));
    let helo = args
        .helo
        .clone()
        .or_else(|| origin.and_then(|o| o.helo.clone()));
    let mail_from = args
        .mail_from
        .clone()
        .or_else(|| t.envelope_from.address.clone());
    let source = match (given, origin.is_some()) {
        (true, _) if args.ip.is_some() && args.helo.is_some() && args.mail_from.is_some() => {
            "arguments"
        }
        (true, true) => "arguments+trace",
        (true, false) => "arguments",
        (false, true) => "trace",
        (false, false) => "none",
    };
    let info = SessionInfo {
        ip,
        helo: helo.clone(),
        mail_from: mail_from.clone(),
        source,
        origin_hop: origin.map(|o| o.hop),
    };
    (
        Session {
            ip,
            helo,
            mail_from,
            at,
        },
        info,
    )
}

pub fn run(args: Args) -> ExitCode {
    let setup = || -> Result<(Authenticator, tokio::runtime::Runtime)> {
        let resolver = args.dns.resolver()?;
        Ok((
            Authenticator::new(resolver, args.dns.authserv_id.clone())?,
            runtime()?,
        ))
    };
    let (auth, rt) = match setup() {
        Ok(x) => x,
        Err(e) => {
            eprintln!("abusedesk auth: {e:#}");
            return ExitCode::from(2);
        }
    };
    let source = if args.path.as_os_str() == "-" {
        Source::Stdin
    } else {
        Source::File(args.path.clone())
    };
    let data = match inputs::read(&source) {
        Ok(d) => d,
        Err(u) => {
            eprintln!("abusedesk auth: {u}");
            return ExitCode::from(1);
        }
    };
    let mut trust = TrustConfig::default();
    trust.trusted_networks.extend(args.trusted.iter().copied());
    let cfg = TraceConfig::new(trust);
    let at = args.at.unwrap_or_else(now);
    let label = source.label();
    for (label, raw) in inputs::messages(&label, &data) {
        let (session, info) = session_for(&args, raw, &cfg, at);
        if info.source != "arguments" {
            eprintln!(
                "abusedesk auth: {label}: checking ip={} helo={} mail-from={} (from {})",
                info.ip.map_or("-".to_string(), |i| i.to_string()),
                info.helo.as_deref().unwrap_or("-"),
                info.mail_from
                    .as_deref()
                    .map_or("-".to_string(), |m| format!("<{m}>")),
                info.source
            );
        }
        let report = rt.block_on(auth.authenticate(raw, &session));
        match args.format {
            Format::Text => println!(
                "Authentication-Results: {}",
                report.authentication_results("\n\t")
            ),
            Format::Json => match serde_json::to_string(&Line {
                file: &label,
                session: &info,
                report: &report,
            }) {
                Ok(s) => println!("{s}"),
                Err(e) => {
                    eprintln!("abusedesk auth: {label}: {e}");
                    return ExitCode::from(1);
                }
            },
        }
    }
    ExitCode::SUCCESS
}
