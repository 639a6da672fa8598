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
}

pub fn run(args: Args) -> ExitCode {
    let cfg = match build_config(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("abusedesk trace: {e:#}");
            return ExitCode::from(2);
        }
    };
    match run_with(&args, &cfg) {
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
fn run_with(args: &Args, cfg: &TraceConfig) -> Result<bool> {
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
        let results = process_batch(batch, cfg, args.format, jobs);
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
) -> Vec<Rendered> {
    if jobs <= 1 || batch.len() <= 1 {
        return batch
            .iter()
            .map(|s| process_source(s, cfg, format))
            .collect();
    }
    let chunk = batch.len().div_ceil(jobs);
    std::thread::scope(|scope| {
        let handles: Vec<_> = batch
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|s| process_source(s, cfg, format))
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

fn process_source(source: &Source, cfg: &TraceConfig, format: Format) -> Rendered {
    let data = inputs::read(source)?;
    let label = source.label();
    let mut out = Vec::new();
    for (label, raw) in inputs::messages(&label, &data) {
        let t = trace(raw, cfg);
        out.push(match format {
            Format::Text => render_text(&t, &label),
            Format::Json => serde_json::to_string(&Line {
                file: &label,
                trace: &t,
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
