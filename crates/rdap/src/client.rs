//! An async RDAP client for IP networks: server choice by bootstrap table (or one
//! configured base URL), timeouts, a body-size limit, and an in-memory TTL cache of
//! answers, "not found"s and failures.
use crate::bootstrap::{Bootstrap, Rir};
use crate::parse::{IpNetwork, ParseError, parse_ip_network_from};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use url::Url;

/// Where the client sends queries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Servers {
    /// By address: the registry that the bootstrap table names.
    Bootstrap(Bootstrap),
    /// Every query to one base URL (configuration key `rdap_base_url`), e.g. a mirror
    /// or a redirecting service. Queries go to `<base>ip/<address>`.
    Single(Url),
}

/// Client settings. `Default` gives the embedded bootstrap table and the timeouts and
/// TTLs documented on each field.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub servers: Servers,
    /// Whole request, connection to last body byte. Default 10 s.
    pub timeout: Duration,
    /// TCP + TLS connection. Default 5 s.
    pub connect_timeout: Duration,
    /// How long a record is reused. Default 24 h.
    pub positive_ttl: Duration,
    /// How long a "no such record" (404) is remembered. Default 1 h.
    pub negative_ttl: Duration,
    /// How long a failure (timeout, HTTP 5xx, unreadable body) is remembered, so a
    /// flood of reports does not wait on a dead server each time. Default 60 s.
    pub error_ttl: Duration,
    /// Cached addresses at most; expired entries go first, then the oldest. Default
    /// 100,000.
    pub max_cache_entries: usize,
    /// Larger response bodies are refused. Default 2 MiB.
    pub max_body_bytes: usize,
    pub user_agent: String,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            servers: Servers::Bootstrap(Bootstrap::embedded()),
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            positive_ttl: Duration::from_secs(24 * 3600),
            negative_ttl: Duration::from_secs(3600),
            error_ttl: Duration::from_secs(60),
            max_cache_entries: 100_000,
            max_body_bytes: 2 * 1024 * 1024,
            user_agent: format!("abusedesk/{} (RDAP client)", env!("CARGO_PKG_VERSION")),
        }
    }
}

impl ClientConfig {
    /// The defaults, with every query sent to `base` (an `http`/`https` URL).
    pub fn with_base_url(base: &str) -> Result<Self, RdapError> {
        Ok(ClientConfig {
            servers: Servers::Single(parse_base(base)?),
            ..ClientConfig::default()
        })
    }
}

fn parse_base(base: &str) -> Result<Url, RdapError> {
    let b = base.trim();
    let b = if b.ends_with('/') {
        b.to_string()
    } else {
        format!("{b}/")
    };
    let u =
        Url::parse(&b).map_err(|e| RdapError::Config(format!("rdap_base_url {base:?}: {e}")))?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(RdapError::Config(format!(
            "rdap_base_url {base:?}: scheme must be http or https"
        )));
    }
    Ok(u)
}

/// Why a lookup failed. Cheap to clone: failures are cached too.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RdapError {
    #[error("no RDAP service is known for {0} (private, reserved or unallocated space)")]
    NoService(IpAddr),
    #[error("{url}: no RDAP record for this address (not found)")]
    NotFound { url: String },
    #[error("{url}: no answer within {timeout:?}")]
    Timeout { url: String, timeout: Duration },
    #[error("{url}: HTTP status {status}")]
    Status { url: String, status: u16 },
    #[error("{url}: response larger than {limit} bytes")]
    TooLarge { url: String, limit: usize },
    #[error("{url}: {message}")]
    Transport { url: String, message: String },
    #[error("{url}: unusable RDAP response: {error}")]
    Parse { url: String, error: ParseError },
    #[error("RDAP client configuration: {0}")]
    Config(String),
}

impl RdapError {
    /// Worth trying again later (as opposed to a definite answer or a configuration
    /// problem).
    pub fn is_transient(&self) -> bool {
        match self {
            RdapError::Timeout { .. } | RdapError::Transport { .. } => true,
            RdapError::Status { status, .. } => *status == 429 || *status >= 500,
            _ => false,
        }
    }
}

/// A source of the current instant, so cache expiry can be tested without waiting.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Instant;
}

/// The real monotonic clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// A clock that moves only when told to.
#[derive(Debug)]
pub struct ManualClock {
    start: Instant,
    offset: Mutex<Duration>,
}

impl Default for ManualClock {
    fn default() -> Self {
        ManualClock {
            start: Instant::now(),
            offset: Mutex::new(Duration::ZERO),
        }
    }
}

impl ManualClock {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn advance(&self, by: Duration) {
        let mut o = self.offset.lock().unwrap_or_else(|p| p.into_inner());
        *o += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        let o = *self.offset.lock().unwrap_or_else(|p| p.into_inner());
        self.start + o
    }
}

/// A successful lookup.
#[derive(Debug, Clone, PartialEq)]
pub struct Lookup {
    pub network: Arc<IpNetwork>,
    /// The URL that answered.
    pub url: String,
    /// Served from the cache.
    pub cached: bool,
}

struct CacheEntry {
    expires: Instant,
    inserted: Instant,
    value: Result<Lookup, RdapError>,
}

/// The RDAP client. Cheap to share behind an `Arc`; all methods take `&self`.
pub struct RdapClient {
    http: reqwest::Client,
    config: ClientConfig,
    cache: Mutex<HashMap<IpAddr, CacheEntry>>,
    /// Lookups under way: concurrent callers for one address share one request.
    inflight: Mutex<HashMap<IpAddr, Arc<Flight>>>,
    clock: Arc<dyn Clock>,
}

type Flight = tokio::sync::OnceCell<Result<Lookup, RdapError>>;

impl std::fmt::Debug for RdapClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RdapClient")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

fn transport_message(e: &reqwest::Error) -> String {
    let mut msg = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    msg
}

impl RdapClient {
    pub fn new(config: ClientConfig) -> Result<Self, RdapError> {
        Self::with_clock(config, Arc::new(SystemClock))
    }

    /// As [`RdapClient::new`], with the clock that cache expiry follows.
    pub fn with_clock(config: ClientConfig, clock: Arc<dyn Clock>) -> Result<Self, RdapError> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout)
            .user_agent(config.user_agent.clone())
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()
            .map_err(|e| RdapError::Config(transport_message(&e)))?;
        Ok(RdapClient {
            http,
            config,
            cache: Mutex::new(HashMap::new()),
            inflight: Mutex::new(HashMap::new()),
            clock,
        })
    }

    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// Number of cached addresses (answers and failures, expired or not).
    pub fn cache_len(&self) -> usize {
        self.lock().len()
    }

    pub fn clear_cache(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, CacheEntry>> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The base URLs to try for `ip`, with the registry they belong to.
    fn bases(&self, ip: IpAddr) -> Result<Vec<(Url, Option<Rir>)>, RdapError> {
        match &self.config.servers {
            Servers::Single(u) => Ok(vec![(u.clone(), u.host_str().and_then(Rir::from_host))]),
            Servers::Bootstrap(b) => {
                let svc = b.service_for(ip).ok_or(RdapError::NoService(ip))?;
                Ok(svc.urls.iter().map(|u| (u.clone(), svc.rir)).collect())
            }
        }
    }

    /// The RDAP network record for `ip`, from the cache when fresh.
    pub async fn lookup_ip(&self, ip: IpAddr) -> Result<Lookup, RdapError> {
        let ip = ip.to_canonical();
        let now = self.clock.now();
        if let Some(e) = self.lock().get(&ip)
            && e.expires > now
        {
            return match &e.value {
                Ok(l) => Ok(Lookup {
                    cached: true,
                    ..l.clone()
                }),
                Err(err) => Err(err.clone()),
            };
        }
        let flight = {
            let mut inflight = self.inflight.lock().unwrap_or_else(|p| p.into_inner());
            inflight.entry(ip).or_default().clone()
        };
        let result = flight.get_or_init(|| self.fetch(ip)).await.clone();
        let ttl = match &result {
            Ok(_) => Some(self.config.positive_ttl),
            Err(RdapError::NotFound { .. }) => Some(self.config.negative_ttl),
            Err(RdapError::NoService(_)) | Err(RdapError::Config(_)) => None,
            Err(_) => Some(self.config.error_ttl),
        };
        if let Some(ttl) = ttl {
            self.insert(ip, ttl, result.clone());
        }
        // Cache first, then end the flight, so no caller falls between the two.
        let mut inflight = self.inflight.lock().unwrap_or_else(|p| p.into_inner());
        if inflight.get(&ip).is_some_and(|f| Arc::ptr_eq(f, &flight)) {
            inflight.remove(&ip);
        }
        result
    }

    fn insert(&self, ip: IpAddr, ttl: Duration, value: Result<Lookup, RdapError>) {
        if self.config.max_cache_entries == 0 || ttl.is_zero() {
            return;
        }
        let now = self.clock.now();
        let mut cache = self.lock();
        if cache.len() >= self.config.max_cache_entries && !cache.contains_key(&ip) {
            cache.retain(|_, e| e.expires > now);
            if cache.len() >= self.config.max_cache_entries {
                // Drop the oldest tenth (at least one).
                let mut ages: Vec<(Instant, IpAddr)> =
                    cache.iter().map(|(k, e)| (e.inserted, *k)).collect();
                ages.sort_unstable();
                let n = (self.config.max_cache_entries / 10).max(1);
                for (_, k) in ages.into_iter().take(n) {
                    cache.remove(&k);
                }
            }
        }
        cache.insert(
            ip,
            CacheEntry {
                expires: now + ttl,
                inserted: now,
                value,
            },
        );
    }

    async fn fetch(&self, ip: IpAddr) -> Result<Lookup, RdapError> {
        let bases = self.bases(ip)?;
        let mut last = RdapError::NoService(ip);
        for (base, rir) in bases {
            let url = base
                .join(&format!("ip/{ip}"))
                .map_err(|e| RdapError::Config(format!("{base}: {e}")))?;
            match self.fetch_one(&url, rir).await {
                Err(e) if e.is_transient() => last = e,
                other => return other,
            }
        }
        Err(last)
    }

    async fn fetch_one(&self, url: &Url, rir: Option<Rir>) -> Result<Lookup, RdapError> {
        let u = url.to_string();
        let map_err = |e: reqwest::Error| {
            if e.is_timeout() {
                RdapError::Timeout {
                    url: u.clone(),
                    timeout: self.config.timeout,
                }
            } else {
                RdapError::Transport {
                    url: u.clone(),
                    message: transport_message(&e),
                }
            }
        };
        let mut resp = self
            .http
            .get(url.clone())
            .header(
                reqwest::header::ACCEPT,
                "application/rdap+json, application/json;q=0.9",
            )
            .send()
            .await
            .map_err(map_err)?;
        let final_url = resp.url().to_string();
        let status = resp.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Err(RdapError::NotFound { url: final_url });
        }
        if !status.is_success() {
            return Err(RdapError::Status {
                url: final_url,
                status: status.as_u16(),
            });
        }
        let limit = self.config.max_body_bytes;
        if resp.content_length().is_some_and(|n| n > limit as u64) {
            return Err(RdapError::TooLarge {
                url: final_url,
                limit,
            });
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(map_err)? {
            if body.len() + chunk.len() > limit {
                return Err(RdapError::TooLarge {
                    url: final_url,
                    limit,
                });
            }
            body.extend_from_slice(&chunk);
        }
        let hint = resp.url().host_str().and_then(Rir::from_host).or(rir);
        match parse_ip_network_from(&body, hint) {
            Ok(n) => Ok(Lookup {
                network: Arc::new(n),
                url: final_url,
                cached: false,
            }),
            Err(ParseError::ErrorResponse { code: 404, .. }) => {
                Err(RdapError::NotFound { url: final_url })
            }
            Err(error) => Err(RdapError::Parse {
                url: final_url,
                error,
            }),
        }
    }
}
