//! `serve` configuration: defaults, a TOML file, `ABUSEDESK_*` environment variables and
//! command-line flags, in rising precedence. Every key is listed in [`KEYS`] with its
//! default and documented in `docs/configuration.md` (a test keeps the two in step).
//! Loading collects **every** problem and reports them together.
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use abusedesk_forensics::TrustConfig;
use ipnet::IpNet;

/// The whole configuration of `serve` (and of `ingest` / `token`, which open its store).
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    /// `None`: SQLite in `data_dir`.
    pub database_url: Option<String>,
    pub http: HttpConfig,
    pub smtp: SmtpConfig,
    pub intake: IntakeConfig,
    pub workers: WorkersConfig,
    pub store: StoreConfig,
    pub trust: TrustConfig,
    pub forensics: ForensicsConfig,
    pub rdap: RdapConfig,
    pub cases: CasesConfig,
    pub log: LogConfig,
}

#[derive(Debug, Clone)]
pub struct RdapConfig {
    pub enabled: bool,
    /// `None`: the IANA bootstrap table picks the registry.
    pub base_url: Option<String>,
    pub timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct HttpConfig {
    pub listen: SocketAddr,
}

#[derive(Debug, Clone)]
pub struct SmtpConfig {
    pub enabled: bool,
    pub listen: SocketAddr,
    pub hostname: String,
    pub max_recipients: usize,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct IntakeConfig {
    /// Largest report accepted, in bytes (SMTP `SIZE`, HTTP body limit).
    pub max_report_bytes: u64,
    /// Most reports committed in one transaction (group commit).
    pub batch: usize,
}

#[derive(Debug, Clone)]
pub struct WorkersConfig {
    /// Processing workers; 0 means one per CPU.
    pub count: usize,
    pub batch: usize,
    pub lease: Duration,
    pub poll: Duration,
    /// After a claim that found less than a full batch, wait this long before the next
    /// one, so that work arriving meanwhile is written in one transaction, not many.
    pub gather: Duration,
    pub max_attempts: i64,
}

#[derive(Debug, Clone)]
pub struct StoreConfig {
    pub max_connections: u32,
    pub sqlite_synchronous_full: bool,
}

#[derive(Debug, Clone)]
pub struct ForensicsConfig {
    pub rir_dir: Option<PathBuf>,
    pub date_skew_seconds: i64,
}

#[derive(Debug, Clone)]
pub struct CasesConfig {
    /// A new case must get a first answer within this time (its `respond_by`).
    pub respond_within: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct LogConfig {
    pub level: String,
    pub format: LogFormat,
}

/// A value for a key: from the TOML file (typed) or from the environment / a flag (text).
#[derive(Debug, Clone)]
pub enum Value {
    Toml(toml::Value),
    Text(String),
}

/// One configuration key.
pub struct Key {
    /// Dotted name, e.g. `http.listen`; the environment variable is `ABUSEDESK_` and the
    /// name upper-cased with `.` as `_` (`ABUSEDESK_HTTP_LISTEN`).
    pub name: &'static str,
    /// The default, as written in the documentation.
    pub default: &'static str,
    pub doc: &'static str,
    set: fn(&mut Config, &Value) -> Result<(), String>,
}

impl Key {
    /// The environment variable that sets this key.
    pub fn env_var(&self) -> String {
        format!(
            "ABUSEDESK_{}",
            self.name.to_ascii_uppercase().replace('.', "_")
        )
    }
}

/// Short environment names for the most used keys.
pub const ENV_ALIASES: &[(&str, &str)] = &[
    ("ABUSEDESK_HTTP", "http.listen"),
    ("ABUSEDESK_SMTP", "smtp.listen"),
];

pub const DEFAULT_HTTP: &str = "127.0.0.1:8080";
pub const DEFAULT_SMTP: &str = "127.0.0.1:2525";
pub const DEFAULT_MAX_REPORT_BYTES: u64 = 25 * 1024 * 1024;
const DEFAULT_GATHER_MS: u64 = 20;

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("./abusedesk-data"),
            database_url: None,
            http: HttpConfig {
                listen: parse_addr_const(DEFAULT_HTTP),
            },
            smtp: SmtpConfig {
                enabled: true,
                listen: parse_addr_const(DEFAULT_SMTP),
                hostname: "localhost".into(),
                max_recipients: 100,
                tls_cert: None,
                tls_key: None,
            },
            intake: IntakeConfig {
                max_report_bytes: DEFAULT_MAX_REPORT_BYTES,
                batch: 512,
            },
            workers: WorkersConfig {
                count: 0,
                batch: 256,
                lease: Duration::from_secs(60),
                poll: Duration::from_millis(250),
                gather: Duration::from_millis(DEFAULT_GATHER_MS),
                max_attempts: 5,
            },
            store: StoreConfig {
                max_connections: 8,
                sqlite_synchronous_full: false,
            },
            trust: TrustConfig::default(),
            forensics: ForensicsConfig {
                rir_dir: None,
                date_skew_seconds: abusedesk_forensics::DEFAULT_DATE_SKEW,
            },
            rdap: RdapConfig {
                enabled: true,
                base_url: None,
                timeout: Duration::from_secs(10),
            },
            cases: CasesConfig {
                respond_within: Duration::from_secs(72 * 3600),
            },
            log: LogConfig {
                level: "info".into(),
                format: LogFormat::Text,
            },
        }
    }
}

fn parse_addr_const(s: &str) -> SocketAddr {
    // Only called on the constants above, which are valid addresses.
    s.parse()
        .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
}

// ------------------------------------------------------------------ value readers

fn text(v: &Value) -> Result<String, String> {
    match v {
        Value::Text(s) => Ok(s.clone()),
        Value::Toml(toml::Value::String(s)) => Ok(s.clone()),
        Value::Toml(other) => Err(format!("expected a string, found {}", other.type_str())),
    }
}

fn uint(v: &Value) -> Result<u64, String> {
    match v {
        Value::Toml(toml::Value::Integer(i)) => {
            u64::try_from(*i).map_err(|_| format!("expected a number >= 0, found {i}"))
        }
        Value::Toml(toml::Value::String(s)) | Value::Text(s) => s
            .trim()
            .replace('_', "")
            .parse::<u64>()
            .map_err(|_| format!("expected a number, found {s:?}")),
        Value::Toml(other) => Err(format!("expected a number, found {}", other.type_str())),
    }
}

fn boolean(v: &Value) -> Result<bool, String> {
    match v {
        Value::Toml(toml::Value::Boolean(b)) => Ok(*b),
        Value::Toml(toml::Value::String(s)) | Value::Text(s) => {
            match s.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => Ok(true),
                "false" | "0" | "no" | "off" => Ok(false),
                _ => Err(format!("expected true or false, found {s:?}")),
            }
        }
        Value::Toml(other) => Err(format!(
            "expected true or false, found {}",
            other.type_str()
        )),
    }
}

/// A list: a TOML array of strings, or comma-separated text.
fn list(v: &Value) -> Result<Vec<String>, String> {
    match v {
        Value::Toml(toml::Value::Array(items)) => items
            .iter()
            .map(|i| match i {
                toml::Value::String(s) => Ok(s.clone()),
                other => Err(format!(
                    "expected a list of strings, found a {}",
                    other.type_str()
                )),
            })
            .collect(),
        _ => Ok(text(v)?
            .split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect()),
    }
}

fn addr(v: &Value) -> Result<SocketAddr, String> {
    let s = text(v)?;
    s.trim()
        .parse()
        .map_err(|_| format!("{s:?} is not an address:port (e.g. 127.0.0.1:8080 or [::1]:2525)"))
}

fn positive(n: u64, what: &str) -> Result<u64, String> {
    if n == 0 {
        Err(format!("{what} must be at least 1"))
    } else {
        Ok(n)
    }
}

fn net(s: &str) -> Result<IpNet, String> {
    s.parse::<IpNet>()
        .or_else(|_| s.parse::<std::net::IpAddr>().map(IpNet::from))
        .map_err(|_| format!("{s:?} is not an IP address or CIDR network"))
}

fn opt_path(v: &Value) -> Result<Option<PathBuf>, String> {
    let s = text(v)?;
    Ok((!s.trim().is_empty()).then(|| PathBuf::from(s)))
}

/// Every key, in documentation order.
pub const KEYS: &[Key] = &[
    Key {
        name: "data_dir",
        default: "./abusedesk-data",
        doc: "Directory for the SQLite database (created if missing).",
        set: |c, v| {
            c.data_dir = PathBuf::from(text(v)?);
            Ok(())
        },
    },
    Key {
        name: "database_url",
        default: "(empty: SQLite in data_dir)",
        doc: "`postgres://user@host/db` to use PostgreSQL, or `sqlite:PATH`.",
        set: |c, v| {
            let s = text(v)?;
            c.database_url = (!s.trim().is_empty()).then_some(s);
            Ok(())
        },
    },
    Key {
        name: "http.listen",
        default: DEFAULT_HTTP,
        doc: "Address of the HTTP API; port 0 picks a free port.",
        set: |c, v| {
            c.http.listen = addr(v)?;
            Ok(())
        },
    },
    Key {
        name: "smtp.enabled",
        default: "true",
        doc: "Run the SMTP intake listener.",
        set: |c, v| {
            c.smtp.enabled = boolean(v)?;
            Ok(())
        },
    },
    Key {
        name: "smtp.listen",
        default: DEFAULT_SMTP,
        doc: "Address of the SMTP intake listener (the desk's abuse@ mailbox).",
        set: |c, v| {
            c.smtp.listen = addr(v)?;
            Ok(())
        },
    },
    Key {
        name: "smtp.hostname",
        default: "localhost",
        doc: "Our name in the SMTP greeting and EHLO reply.",
        set: |c, v| {
            let s = text(v)?;
            if s.trim().is_empty() {
                return Err("must not be empty".into());
            }
            c.smtp.hostname = s;
            Ok(())
        },
    },
    Key {
        name: "smtp.max_recipients",
        default: "100",
        doc: "Recipients per SMTP transaction.",
        set: |c, v| {
            c.smtp.max_recipients = positive(uint(v)?, "smtp.max_recipients")? as usize;
            Ok(())
        },
    },
    Key {
        name: "smtp.tls_cert",
        default: "(empty: no STARTTLS)",
        doc: "PEM certificate chain for STARTTLS (with smtp.tls_key).",
        set: |c, v| {
            c.smtp.tls_cert = opt_path(v)?;
            Ok(())
        },
    },
    Key {
        name: "smtp.tls_key",
        default: "(empty)",
        doc: "PEM private key for STARTTLS.",
        set: |c, v| {
            c.smtp.tls_key = opt_path(v)?;
            Ok(())
        },
    },
    Key {
        name: "intake.max_report_bytes",
        default: "26214400",
        doc: "Largest report accepted (25 MiB). SMTP advertises it as SIZE and answers 552; HTTP answers 413.",
        set: |c, v| {
            c.intake.max_report_bytes = positive(uint(v)?, "intake.max_report_bytes")?;
            Ok(())
        },
    },
    Key {
        name: "intake.batch",
        default: "512",
        doc: "Most reports stored in one transaction (group commit of concurrent arrivals).",
        set: |c, v| {
            c.intake.batch = positive(uint(v)?, "intake.batch")? as usize;
            Ok(())
        },
    },
    Key {
        name: "workers.count",
        default: "0",
        doc: "Processing workers; 0 means one per CPU.",
        set: |c, v| {
            c.workers.count = uint(v)? as usize;
            Ok(())
        },
    },
    Key {
        name: "workers.batch",
        default: "256",
        doc: "Jobs a worker claims at once.",
        set: |c, v| {
            c.workers.batch = positive(uint(v)?, "workers.batch")? as usize;
            Ok(())
        },
    },
    Key {
        name: "workers.lease_seconds",
        default: "60",
        doc: "A claimed job returns to the queue if not completed within this time (a crashed process's work is picked up by others).",
        set: |c, v| {
            c.workers.lease = Duration::from_secs(positive(uint(v)?, "workers.lease_seconds")?);
            Ok(())
        },
    },
    Key {
        name: "workers.poll_ms",
        default: "250",
        doc: "How often idle workers look for work queued by other processes.",
        set: |c, v| {
            c.workers.poll = Duration::from_millis(positive(uint(v)?, "workers.poll_ms")?);
            Ok(())
        },
    },
    Key {
        name: "workers.gather_ms",
        default: "20",
        doc: "After claiming less than a full batch, a worker waits this long before claiming again, so that reports arriving meanwhile are processed and written together (fewer, larger transactions under load). 0: claim again at once.",
        set: |c, v| {
            c.workers.gather = Duration::from_millis(uint(v)?);
            Ok(())
        },
    },
    Key {
        name: "workers.max_attempts",
        default: "5",
        doc: "A report whose processing was started this many times without completing (the process died each time) is marked unparseable.",
        set: |c, v| {
            c.workers.max_attempts = positive(uint(v)?, "workers.max_attempts")? as i64;
            Ok(())
        },
    },
    Key {
        name: "store.max_connections",
        default: "8",
        doc: "Database connections in the pool.",
        set: |c, v| {
            c.store.max_connections = positive(uint(v)?, "store.max_connections")? as u32;
            Ok(())
        },
    },
    Key {
        name: "store.sqlite_synchronous",
        default: "normal",
        doc: "`normal`: a commit survives a crash of the process (WAL); `full`: also a power failure (an fsync per commit).",
        set: |c, v| {
            c.store.sqlite_synchronous_full = match text(v)?.as_str() {
                "normal" => false,
                "full" => true,
                s => return Err(format!("expected \"normal\" or \"full\", found {s:?}")),
            };
            Ok(())
        },
    },
    Key {
        name: "trust.trusted_networks",
        default: "[]",
        doc: "Relays we trust to write true Received lines (CIDRs or addresses). Loopback is always trusted.",
        set: |c, v| {
            let mut out = Vec::new();
            let mut bad = Vec::new();
            for s in list(v)? {
                match net(&s) {
                    Ok(n) => out.push(n),
                    Err(e) => bad.push(e),
                }
            }
            if bad.is_empty() {
                c.trust.trusted_networks = out;
                Ok(())
            } else {
                Err(bad.join("; "))
            }
        },
    },
    Key {
        name: "trust.our_hosts",
        default: "[]",
        doc: "Our host names (`.example.net` matches every name below it).",
        set: |c, v| {
            c.trust.our_hosts = list(v)?;
            Ok(())
        },
    },
    Key {
        name: "trust.submission_hosts",
        default: "[]",
        doc: "Our submission (MSA) hosts: an authenticated client there is the origin.",
        set: |c, v| {
            c.trust.submission_hosts = list(v)?;
            Ok(())
        },
    },
    Key {
        name: "trust.trust_private",
        default: "true",
        doc: "Trust private, link-local and unique-local relays as internal.",
        set: |c, v| {
            c.trust.trust_private = boolean(v)?;
            Ok(())
        },
    },
    Key {
        name: "forensics.rir_dir",
        default: "(empty: embedded RIR data)",
        doc: "Directory of RIR delegated-statistics files for countries.",
        set: |c, v| {
            c.forensics.rir_dir = opt_path(v)?;
            Ok(())
        },
    },
    Key {
        name: "forensics.date_skew_seconds",
        default: "10800",
        doc: "A Date header this far from the origin's receive time is flagged.",
        set: |c, v| {
            c.forensics.date_skew_seconds = uint(v)? as i64;
            Ok(())
        },
    },
    Key {
        name: "rdap.enabled",
        default: "true",
        doc: "Look up external sources in RDAP (network, country, abuse contact; answers cached 24 h).",
        set: |c, v| {
            c.rdap.enabled = boolean(v)?;
            Ok(())
        },
    },
    Key {
        name: "rdap.base_url",
        default: "(empty: IANA bootstrap)",
        doc: "Send every RDAP query to this base URL (a mirror or redirector) instead of the registry the bootstrap table names.",
        set: |c, v| {
            let s = text(v)?;
            c.rdap.base_url = (!s.trim().is_empty()).then_some(s);
            Ok(())
        },
    },
    Key {
        name: "rdap.timeout_seconds",
        default: "10",
        doc: "An RDAP query that takes longer fails (the report keeps the RIR country and no abuse contact).",
        set: |c, v| {
            c.rdap.timeout = Duration::from_secs(positive(uint(v)?, "rdap.timeout_seconds")?);
            Ok(())
        },
    },
    Key {
        name: "cases.respond_within_hours",
        default: "72",
        doc: "A new case's first-response deadline (`respond_by`), from when it opens.",
        set: |c, v| {
            c.cases.respond_within = Duration::from_secs(uint(v)?.saturating_mul(3600));
            Ok(())
        },
    },
    Key {
        name: "log.level",
        default: "info",
        doc: "Log filter (`error`, `warn`, `info`, `debug`, `trace`, or a tracing filter such as `abusedesk_desk=debug`). RUST_LOG overrides it.",
        set: |c, v| {
            c.log.level = text(v)?;
            Ok(())
        },
    },
    Key {
        name: "log.format",
        default: "text",
        doc: "`text` or `json` (one JSON object per line).",
        set: |c, v| {
            c.log.format = match text(v)?.as_str() {
                "text" => LogFormat::Text,
                "json" => LogFormat::Json,
                s => return Err(format!("expected \"text\" or \"json\", found {s:?}")),
            };
            Ok(())
        },
    },
];

/// Every problem found while loading, reported together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid configuration:\n  {}", .0.join("\n  "))]
pub struct ConfigErrors(pub Vec<String>);

/// Where the configuration comes from.
#[derive(Debug, Default)]
pub struct Sources<'a> {
    pub file: Option<&'a Path>,
    /// The process environment (only `ABUSEDESK_*` names are read).
    pub env: Vec<(String, String)>,
    /// Command-line flags: (key name, value).
    pub flags: Vec<(&'static str, String)>,
}

impl Config {
    /// Defaults, then the file, then the environment, then the flags.
    pub fn load(sources: &Sources<'_>) -> Result<Config, ConfigErrors> {
        let mut cfg = Config::default();
        let mut errors = Vec::new();
        if let Some(path) = sources.file {
            match std::fs::read_to_string(path) {
                Ok(text) => cfg.apply_toml(&text, &path.display().to_string(), &mut errors),
                Err(e) => errors.push(format!("{}: cannot read: {e}", path.display())),
            }
        }
        let mut env: Vec<&(String, String)> = sources
            .env
            .iter()
            .filter(|(k, _)| k.starts_with("ABUSEDESK_"))
            .collect();
        env.sort();
        for (name, value) in env {
            let key = KEYS.iter().find(|k| k.env_var() == *name).or_else(|| {
                ENV_ALIASES
                    .iter()
                    .find(|(a, _)| a == name)
                    .and_then(|(_, k)| KEYS.iter().find(|x| x.name == *k))
            });
            if let Some(key) = key
                && let Err(e) = (key.set)(&mut cfg, &Value::Text(value.clone()))
            {
                errors.push(format!("{name}: {e}"));
            }
        }
        for (name, value) in &sources.flags {
            match KEYS.iter().find(|k| k.name == *name) {
                Some(key) => {
                    if let Err(e) = (key.set)(&mut cfg, &Value::Text(value.clone())) {
                        errors.push(format!(
                            "--{}: {e}",
                            name.rsplit('.').next().unwrap_or(name).replace('_', "-")
                        ));
                    }
                }
                None => errors.push(format!("unknown setting {name}")),
            }
        }
        cfg.check(&mut errors);
        if errors.is_empty() {
            Ok(cfg)
        } else {
            Err(ConfigErrors(errors))
        }
    }

    fn apply_toml(&mut self, text: &str, origin: &str, errors: &mut Vec<String>) {
        let table: toml::Table = match text.parse() {
            Ok(t) => t,
            Err(e) => {
                errors.push(format!("{origin}: {}", e.to_string().trim_end()));
                return;
            }
        };
        let mut flat = Vec::new();
        flatten("", &toml::Value::Table(table), &mut flat);
        for (name, value) in flat {
            match KEYS.iter().find(|k| k.name == name) {
                Some(key) => {
                    if let Err(e) = (key.set)(self, &Value::Toml(value)) {
                        errors.push(format!("{origin}: {name}: {e}"));
                    }
                }
                None => errors.push(format!("{origin}: unknown key {name}")),
            }
        }
    }

    /// Checks across keys.
    fn check(&self, errors: &mut Vec<String>) {
        if self.smtp.tls_cert.is_some() != self.smtp.tls_key.is_some() {
            errors.push("smtp.tls_cert and smtp.tls_key must be given together".into());
        }
        if let Some(url) = &self.database_url
            && !(url.starts_with("postgres://")
                || url.starts_with("postgresql://")
                || url.starts_with("sqlite:"))
        {
            errors.push(format!(
                "database_url: {:?} is not a postgres:// or sqlite: URL",
                abusedesk_store::redact_url(url)
            ));
        }
        if self.smtp.enabled && self.http.listen == self.smtp.listen && self.http.listen.port() != 0
        {
            errors.push(format!(
                "http.listen and smtp.listen are both {}",
                self.http.listen
            ));
        }
    }

    /// The store URL: `database_url`, or SQLite in `data_dir`.
    pub fn store_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!(
                "sqlite://{}",
                self.data_dir.join(abusedesk_store::SQLITE_FILE).display()
            ),
        }
    }

    /// Store connection options from `[store]`.
    pub fn store_options(&self) -> abusedesk_store::StoreOptions {
        abusedesk_store::StoreOptions {
            max_connections: self.store.max_connections,
            sqlite_sync_full: self.store.sqlite_synchronous_full,
            ..Default::default()
        }
    }

    /// Open (and migrate) the configured store; creates `data_dir` for SQLite.
    pub async fn open_store(&self) -> Result<abusedesk_store::Store, abusedesk_store::StoreError> {
        match &self.database_url {
            Some(url) => abusedesk_store::Store::open(url, &self.store_options()).await,
            None => {
                abusedesk_store::Store::open_data_dir(&self.data_dir, &self.store_options()).await
            }
        }
    }
}

/// `{a = {b = 1}}` -> `[("a.b", 1)]`. Arrays stay values.
fn flatten(prefix: &str, v: &toml::Value, out: &mut Vec<(String, toml::Value)>) {
    match v {
        toml::Value::Table(t) => {
            for (k, v) in t {
                let name = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&name, v, out);
            }
        }
        other => out.push((prefix.to_owned(), other.clone())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(
        file: &str,
        env: &[(&str, &str)],
        flags: &[(&'static str, &str)],
    ) -> Result<Config, ConfigErrors> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("abusedesk.toml");
        std::fs::write(&path, file).unwrap();
        Config::load(&Sources {
            file: Some(&path),
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            flags: flags.iter().map(|(k, v)| (*k, v.to_string())).collect(),
        })
    }

    #[test]
    fn defaults_need_no_file() {
        let c = Config::load(&Sources::default()).unwrap();
        assert_eq!(c.http.listen.to_string(), DEFAULT_HTTP);
        assert_eq!(c.smtp.listen.to_string(), DEFAULT_SMTP);
        assert_eq!(c.data_dir, PathBuf::from("./abusedesk-data"));
        assert_eq!(c.intake.max_report_bytes, 25 * 1024 * 1024);
        assert!(c.store_url().starts_with("sqlite://./abusedesk-data/"));
    }

    #[test]
    fn file_then_env_then_flags() {
        let c = load(
            "data_dir = \"/tmp/x\"\n[http]\nlisten = \"127.0.0.1:1\"\n[smtp]\nlisten = \"127.0.0.1:2\"\nhostname = \"desk.example\"\n[trust]\ntrusted_networks = [\"192.0.2.1\", \"198.51.100.0/24\"]\n",
            &[("ABUSEDESK_HTTP", "127.0.0.1:3"), ("ABUSEDESK_WORKERS_COUNT", "3"), ("ABUSEDESK_TEST_POSTGRES", "ignored"), ("HOME", "/root")],
            &[("smtp.listen", "127.0.0.1:0")],
        )
        .unwrap();
        assert_eq!(c.data_dir, PathBuf::from("/tmp/x"));
        assert_eq!(c.http.listen.port(), 3, "env overrides the file");
        assert_eq!(c.smtp.listen.port(), 0, "a flag overrides both");
        assert_eq!(c.smtp.hostname, "desk.example");
        assert_eq!(c.workers.count, 3);
        assert_eq!(c.trust.trusted_networks.len(), 2);
        assert_eq!(c.trust.trusted_networks[0].to_string(), "192.0.2.1/32");
    }

    #[test]
    fn every_error_is_reported_at_once() {
        let err = load(
            "[http]\nlisten = \"nowhere\"\nbogus = 1\n[workers]\ncount = \"many\"\nbatch = 0\n[trust]\ntrusted_networks = [\"300.1.1.1\"]\n[smtp]\ntls_cert = \"/c.pem\"\n",
            &[("ABUSEDESK_INTAKE_MAX_REPORT_BYTES", "lots"), ("ABUSEDESK_LOG_FORMAT", "xml")],
            &[("http.listen", "also-bad")],
        )
        .unwrap_err();
        let text = err.to_string();
        for needle in [
            "http.listen: \"nowhere\" is not an address",
            "unknown key http.bogus",
            "workers.count: expected a number",
            "workers.batch must be at least 1",
            "\"300.1.1.1\" is not an IP address",
            "ABUSEDESK_INTAKE_MAX_REPORT_BYTES: expected a number",
            "ABUSEDESK_LOG_FORMAT: expected \"text\" or \"json\"",
            "--listen: \"also-bad\" is not an address",
            "smtp.tls_cert and smtp.tls_key must be given together",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
        }
        assert_eq!(err.0.len(), 9, "{text}");
    }

    #[test]
    fn toml_syntax_errors_and_missing_files_are_reported() {
        let err = load("[http\n", &[], &[]).unwrap_err();
        assert!(err.0[0].contains("abusedesk.toml"), "{err}");
        let err = Config::load(&Sources {
            file: Some(Path::new("/nonexistent/abusedesk.toml")),
            ..Default::default()
        })
        .unwrap_err();
        assert!(err.0[0].contains("cannot read"), "{err}");
    }

    #[test]
    fn database_url_is_checked_and_redacted() {
        let err = load("database_url = \"mysql://u:secret@h/db\"\n", &[], &[]).unwrap_err();
        assert!(err.to_string().contains("mysql://u:***@h/db"), "{err}");
        assert!(!err.to_string().contains("secret"));
        let ok = load("database_url = \"postgres://u@h/db\"\n", &[], &[]).unwrap();
        assert_eq!(ok.store_url(), "postgres://u@h/db");
    }

    #[test]
    fn docs_list_every_key_with_its_default() {
        let docs = include_str!("../../../docs/configuration.md");
        for key in KEYS {
            let row = docs
                .lines()
                .find(|l| l.starts_with(&format!("| `{}` ", key.name)))
                .unwrap_or_else(|| panic!("docs/configuration.md has no row for {}", key.name));
            assert!(
                row.contains(&format!("`{}`", key.env_var())),
                "{} row lacks {}",
                key.name,
                key.env_var()
            );
            assert!(
                row.contains(key.default),
                "{} row lacks its default {:?}",
                key.name,
                key.default
            );
        }
    }
}
