//! `abusedesk trace`: trace messages to their origin.

use crate::inputs::{self, Source, Unreadable};
use abusedesk_forensics::{
    CountryDb, DelegatedTable, Trace, TraceConfig, TrustConfig, render_text, trace,
};
use anyhow::{Context, Result};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A report for people.
    Text,
    /// JSON Lines: one object per message (schema: docs/trace-json.md).
    Json,
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit status: 0 every input was read; 1 some inputs could not be read (each is named on stderr); 2 usage or configuration error."
)]
pub struct Args {
    /// .eml files, mboxes, Maildirs or directories of them; `-` reads standard input.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// A trusted relay network (CIDR or address); repeatable. Adds to the config file's.
    #[arg(long = "trusted", value_name = "CIDR", value_parser = parse_net)]
    pub trusted: Vec<IpNet>,
    /// One of our own host names (`.example.net` matches every name below it); repeatable.
    #[arg(long = "our-host", value_name = "NAME")]
    pub our_hosts: Vec<String>,
    /// One of our submission (MSA) hosts; repeatable.
    #[arg(long = "submission-host", value_name = "NAME")]
    pub submission_hosts: Vec<String>,
    /// Do not treat private (RFC 1918, ULA, link-local) relays as trusted.
    #[arg(long)]
    pub no_trust_private: bool,
    /// TOML configuration with a `[trust]` table (and optionally `[forensics]`).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Directory with RIR `delegated-*-latest` files to use instead of the embedded data.
    #[arg(long, value_name = "DIR")]
    pub rir_dir: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Worker threads (default: one per CPU).
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Also authenticate each message from its origin (SPF, Sender ID, DKIM, DomainKeys,
    /// DMARC, ARC, iprev) and classify its envelope sender. Uses DNS (see --dns-zone,
    /// --resolver); plain `trace` stays offline.
    #[arg(long)]
    pub auth: bool,
    /// With --auth: verify envelope senders with SMTP callouts (RCPT TO at their MX; never
    /// DATA). Without it only DNS classifies them.
    #[arg(long, requires = "auth")]
    pub callout: bool,
    /// The HELO name callouts give.
    #[arg(long, value_name = "NAME", requires = "callout")]
    pub callout_helo: Option<String>,
    /// With --auth: evaluate as of this moment (Unix seconds). Default: now.
    #[arg(long, value_name = "UNIX_TIME", requires = "auth")]
    pub at: Option<u64>,
    #[command(flatten)]
    pub dns: crate::cmd::auth::DnsArgs,
}

fn parse_net(s: &str) -> Result<IpNet, String> {
    s.parse::<IpNet>()
        .or_else(|_| s.parse::<std::net::IpAddr>().map(IpNet::from))
        .map_err(|_| format!("`{s}` is not an IP address or CIDR network"))
}

/// The parts of the configuration file `trace` reads. Other tables (the server's) are
/// ignored, so one file serves every command.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct FileConfig {
    pub trust: TrustConfig,
    pub forensics: ForensicsConfig,
}

/// `[forensics]`.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ForensicsConfig {
    /// Directory of RIR delegated-statistics files; empty = embedded data.
    pub rir_dir: Option<PathBuf>,
    /// Date-skew threshold in seconds.
    pub date_skew_seconds: i64,
}

impl Default for ForensicsConfig {
    fn default() -> Self {
        ForensicsConfig {
            rir_dir: None,
            date_skew_seconds: abusedesk_forensics::DEFAULT_DATE_SKEW,
        }
    }
}

pub fn load_file_config(path: &Path) -> Result<FileConfig> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("invalid configuration in {}", path.display()))
}

/// Loads every `delegated-*` file in `dir`.
pub fn load_rir_dir(dir: &Path) -> Result<DelegatedTable> {
    let mut files = Vec::new();
    for e in std::fs::read_dir(dir)
        .with_context(|| format!("cannot read RIR directory {}", dir.display()))?
    {
        let e = e?;
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with("delegated-") && !name.ends_with(".md5") && !name.ends_with(".asc") {
            let bytes = std::fs::read(e.path())
                .with_context(|| format!("cannot read {}", e.path().display()))?;
            files.push((name, bytes));
        }
    }
    files.sort();
    anyhow::ensure!(
        !files.is_empty(),
        "no delegated-* files in {}",
        dir.display()
    );
    let (table, errors) =
        DelegatedTable::parse(files.iter().map(|(n, b)| (n.as_str(), b.as_slice())));
    for e in errors.iter().take(5) {
        eprintln!("abusedesk: warning: {e}");
    }
    if errors.len() > 5 {
        eprintln!(
            "abusedesk: warning: {} more unreadable lines in the RIR files",
            errors.len() - 5
        );
    }
    anyhow::ensure!(
        !table.is_empty(),
        "the RIR files in {} hold no address blocks",
        dir.display()
    );
    Ok(table)
}

/// Builds the trace configuration from the file and the flags.
pub fn build_config(args: &Args) -> Result<TraceConfig> {
    let file = match &args.config {
        Some(p) => load_file_config(p)?,
        None => FileConfig::default(),
    };
    let mut trust = file.trust;
    trust.trusted_networks.extend(args.trusted.iter().copied());
    trust.our_hosts.extend(args.our_hosts.iter().cloned());
    trust
        .submission_hosts
        .extend(args.submission_hosts.iter().cloned());
    if args.no_trust_private {
        trust.trust_private = false;
    }
    let mut cfg = TraceConfig::new(trust);
    cfg.date_skew_seconds = file.forensics.date_skew_seconds;
    if let Some(dir) = args.rir_dir.as_ref().or(file.forensics.rir_dir.as_ref()) {
        cfg.countries = CountryDb::Delegated(Arc::new(load_rir_dir(dir)?));
    }
    Ok(cfg)
}

#[derive(Serialize)]
struct Line<'a> {
    file: &'a str,
    #[serde(flatten)]
    trace: &'a Trace,
    /// With --auth: the authentication results for the origin.
    #[serde(skip_serializing_if = "Option::is_none")]
    auth: Option<&'a abusedesk_auth::AuthReport>,
    /// With --auth: the envelope sender's live class (Table 4).
    #[serde(skip_serializing_if = "Option::is_none")]
    envelope_verification: Option<&'a abusedesk_auth::callout::EnvelopeOutcome>,
}

/// What --auth needs: the verifiers and the runtime their DNS runs on.
pub struct AuthCtx {
    auth: abusedesk_auth::Authenticator,
    envelope: abusedesk_auth::callout::Verifier,
    rt: tokio::runtime::Runtime,
    at: Option<u64>,
}

impl AuthCtx {
    fn new(args: &Args) -> Result<AuthCtx> {
        let resolver = args.dns.resolver()?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        let auth =
            abusedesk_auth::Authenticator::new(resolver.clone(), args.dns.authserv_id.clone())?;
        let mut cfg = abusedesk_auth::callout::CalloutConfig {
            smtp: args.callout,
            ..Default::default()
        };
        if let Some(h) = &args.callout_helo {
            cfg.helo = h.clone();
        }
        let envelope = abusedesk_auth::callout::Verifier::new(resolver, cfg);
        Ok(AuthCtx {
            auth,
            envelope,
            rt,
            at: args.at,
        })
    }

    fn check(
        &self,
        raw: &[u8],
        t: &Trace,
    ) -> (
        abusedesk_auth::AuthReport,
        Option<abusedesk_auth::callout::EnvelopeOutcome>,
    ) {
        let origin = t.origin.as_ref();
        let session = abusedesk_auth::Session {
            ip: origin.map(|o| o.ip),
            helo: origin.and_then(|o| o.helo.clone()),
            mail_from: t.envelope_from.address.clone(),
            at: self.at.unwrap_or_else(crate::cmd::auth::now),
        };
        self.rt.block_on(async {
            let report = self.auth.authenticate(raw, &session).await;
            let envelope = match t.envelope_from.address.as_deref() {
                Some(a) if !a.is_empty() => Some(self.envelope.verify(a).await),
                _ => None,
            };
            (report, envelope)
        })
    }
}

pub fn run(args: Args) -> ExitCode {
    let cfg = match build_config(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("abusedesk trace: {e:#}");
            return ExitCode::from(2);
        }
    };
    let auth = if args.auth {
        match AuthCtx::new(&args) {
            Ok(a) => Some(a),
            Err(e) => {
                eprintln!("abusedesk trace: {e:#}");
                return ExitCode::from(2);
            }
        }
    } else {
        None
    };
    match run_with(&args, &cfg, auth.as_ref()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            // Writing failed (e.g. a closed pipe): nothing more to say.
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            {
                return ExitCode::SUCCESS;
            }
            eprintln!("abusedesk trace: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// Returns Ok(true) when every input was read.
fn run_with(args: &Args, cfg: &TraceConfig, auth: Option<&AuthCtx>) -> Result<bool> {
    let (sources, mut unreadable) = inputs::expand(&args.paths);
    for u in &unreadable {
        eprintln!("abusedesk trace: {u}");
    }
    let jobs = args
        .jobs
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        })
        .max(1);
    let bar = progress(sources.len());
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut first = true;
    // Batches keep the output in input order and memory bounded.
    for batch in sources.chunks(256) {
        let results = process_batch(batch, cfg, args.format, jobs, auth);
        for r in results {
            match r {
                Ok(texts) => {
                    for t in texts {
                        if args.format == Format::Text && !first {
                            out.write_all(b"\n")?;
                        }
                        first = false;
                        out.write_all(t.as_bytes())?;
                        out.write_all(b"\n")?;
                    }
                }
                Err(u) => {
                    eprintln!("abusedesk trace: {u}");
                    unreadable.push(u);
                }
            }
            bar.inc(1);
        }
    }
    out.flush()?;
    bar.finish_and_clear();
    Ok(unreadable.is_empty())
}

fn progress(total: usize) -> indicatif::ProgressBar {
    if total < 2 || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(total as u64);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} files {per_sec} eta {eta}")
    {
        bar.set_style(style);
    }
    bar
}

type Rendered = Result<Vec<String>, Unreadable>;

fn process_batch(
    batch: &[Source],
    cfg: &TraceConfig,
    format: Format,
    jobs: usize,
    auth: Option<&AuthCtx>,
) -> Vec<Rendered> {
    if jobs <= 1 || batch.len() <= 1 {
        return batch
            .iter()
            .map(|s| process_source(s, cfg, format, auth))
            .collect();
    }
    let chunk = batch.len().div_ceil(jobs);
    std::thread::scope(|scope| {
        let handles: Vec<_> = batch
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|s| process_source(s, cfg, format, auth))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

fn process_source(
    source: &Source,
    cfg: &TraceConfig,
    format: Format,
    auth: Option<&AuthCtx>,
) -> Rendered {
    let data = inputs::read(source)?;
    let label = source.label();
    let mut out = Vec::new();
    for (label, raw) in inputs::messages(&label, &data) {
        let t = trace(raw, cfg);
        let checked = auth.map(|a| a.check(raw, &t));
        let (report, envelope) = match &checked {
            Some((r, e)) => (Some(r), e.as_ref()),
            None => (None, None),
        };
        out.push(match format {
            Format::Text => {
                let mut text = render_text(&t, &label);
                if let Some(r) = report {
                    text.push_str(&format!(
                        "\nAuthentication-Results: {}",
                        r.authentication_results("\n\t")
                    ));
                }
                if let Some(e) = envelope {
                    text.push_str(&format!(
                        "\nEnvelope sender <{}>: {} ({})",
                        e.address,
                        e.class.as_str(),
                        e.reason
                    ));
                }
                text
            }
            Format::Json => serde_json::to_string(&Line {
                file: &label,
                trace: &t,
                auth: report,
                envelope_verification: envelope,
            })
            .unwrap_or_else(|e| {
                // Serialising our own types cannot fail short of a bug; say so rather than panic.
                format!(
                    "{{\"file\":{},\"error\":{}}}",
                    serde_json::Value::from(label.clone()),
                    serde_json::Value::from(e.to_string())
                )
            }),
        });
    }
    Ok(out)
}
