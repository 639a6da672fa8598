//! One DNS resolver for everything in this crate.
//!
//! [`Resolver`] answers typed queries (TXT, A, AAAA, MX, PTR) from one of two backends:
//!
//! - **live** DNS through hickory (the system's resolv.conf, or a given `IP:PORT`), with
//!   our own TTL cache in front ([`cache`]) and timeouts reported as temporary failures;
//! - **offline** answers from RFC 1035 master files ([`zone`]): anything absent is
//!   NXDOMAIN.
//!
//! Every verifier (SPF, Sender ID, DKIM, DomainKeys, DMARC, ARC, iprev, callouts) asks this
//! resolver, never another one. [`server`] serves a [`zone::Zone`] over UDP and TCP on
//! loopback, so tests and benchmarks exercise the live path against known data.

pub mod cache;
mod live;
pub mod server;
pub mod zone;

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub use cache::{Clock, SystemClock};
use live::Live;
use zone::Zone;

/// The record types the verifiers ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RecordType {
    A,
    Aaaa,
    Mx,
    Txt,
    Ptr,
    Cname,
    Ns,
    Soa,
    /// Type 99 (RFC 4408 `SPF`), kept so zone files that still carry it load; the
    /// verifiers only query TXT (RFC 7208 section 3.1).
    Spf,
}

impl RecordType {
    pub fn name(self) -> &'static str {
        match self {
            RecordType::A => "A",
            RecordType::Aaaa => "AAAA",
            RecordType::Mx => "MX",
            RecordType::Txt => "TXT",
            RecordType::Ptr => "PTR",
            RecordType::Cname => "CNAME",
            RecordType::Ns => "NS",
            RecordType::Soa => "SOA",
            RecordType::Spf => "SPF",
        }
    }

    pub fn from_name(s: &str) -> Option<RecordType> {
        Some(match s.to_ascii_uppercase().as_str() {
            "A" => RecordType::A,
            "AAAA" => RecordType::Aaaa,
            "MX" => RecordType::Mx,
            "TXT" => RecordType::Txt,
            "PTR" => RecordType::Ptr,
            "CNAME" => RecordType::Cname,
            "NS" => RecordType::Ns,
            "SOA" => RecordType::Soa,
            "SPF" => RecordType::Spf,
            _ => return None,
        })
    }
}

impl fmt::Display for RecordType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Record data for the types above. Names are lower-case, without the trailing dot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rdata {
    A(Ipv4Addr),
    Aaaa(Ipv6Addr),
    Mx {
        preference: u16,
        exchange: String,
    },
    /// The character-strings of one TXT record, as published (not yet concatenated).
    Txt(Vec<Vec<u8>>),
    Ptr(String),
    Cname(String),
    Ns(String),
    Soa {
        mname: String,
        rname: String,
        serial: u32,
        refresh: u32,
        retry: u32,
        expire: u32,
        minimum: u32,
    },
    Spf(Vec<Vec<u8>>),
}

impl Rdata {
    pub fn record_type(&self) -> RecordType {
        match self {
            Rdata::A(_) => RecordType::A,
            Rdata::Aaaa(_) => RecordType::Aaaa,
            Rdata::Mx { .. } => RecordType::Mx,
            Rdata::Txt(_) => RecordType::Txt,
            Rdata::Ptr(_) => RecordType::Ptr,
            Rdata::Cname(_) => RecordType::Cname,
            Rdata::Ns(_) => RecordType::Ns,
            Rdata::Soa { .. } => RecordType::Soa,
            Rdata::Spf(_) => RecordType::Spf,
        }
    }
}

/// An MX record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mx {
    pub preference: u16,
    pub exchange: String,
}

/// Why a query produced no answer. An empty answer (NODATA) is not a failure: the typed
/// lookups return an empty list for it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DnsFailure {
    /// The name does not exist (RCODE 3).
    #[error("NXDOMAIN")]
    NxDomain,
    /// A temporary failure: timeout, SERVFAIL, REFUSED, network error.
    #[error("temporary DNS failure: {0}")]
    Temporary(String),
    /// The name cannot be looked up at all (empty or over-long label, over 253 octets).
    #[error("invalid domain name: {0}")]
    InvalidName(String),
}

impl DnsFailure {
    pub fn is_temporary(&self) -> bool {
        matches!(self, DnsFailure::Temporary(_))
    }
}

pub type Lookup<T> = Result<Arc<[T]>, DnsFailure>;

/// How to reach live DNS.
#[derive(Debug, Clone)]
pub struct LiveConfig {
    /// `None`: the system's resolv.conf. `Some`: only this server (UDP, TCP on truncation).
    pub server: Option<SocketAddr>,
    /// Per-attempt timeout.
    pub timeout: Duration,
    /// Attempts per query before a temporary failure is reported.
    pub attempts: usize,
    /// Largest number of cached answers (positive and negative).
    pub cache_entries: usize,
}

impl Default for LiveConfig {
    fn default() -> Self {
        LiveConfig {
            server: None,
            timeout: Duration::from_secs(5),
            attempts: 2,
            cache_entries: 100_000,
        }
    }
}

/// Errors setting up a resolver.
#[derive(Debug, thiserror::Error)]
pub enum ResolverError {
    #[error("cannot read the system DNS configuration: {0}")]
    SystemConfig(String),
    #[error("cannot start the DNS client: {0}")]
    Client(String),
}

/// Counters a resolver keeps (for tests, benchmarks and `--verbose` output).
#[derive(Debug, Default)]
pub struct Stats {
    pub queries: AtomicU64,
    pub cache_hits: AtomicU64,
    pub upstream: AtomicU64,
}

#[derive(Clone)]
enum Backend {
    Zone(Arc<Zone>),
    Live(Arc<Live>),
}

/// The crate's DNS resolver. Cheap to clone; clones share the cache.
#[derive(Clone)]
pub struct Resolver {
    backend: Backend,
    stats: Arc<Stats>,
}

impl fmt::Debug for Resolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.backend {
            Backend::Zone(z) => write!(f, "Resolver(zone, {} names)", z.len()),
            Backend::Live(l) => write!(f, "Resolver(live, {:?})", l.server()),
        }
    }
}

impl Resolver {
    /// Offline answers from a zone (see [`zone::Zone::parse`]).
    pub fn from_zone(zone: Zone) -> Resolver {
        Resolver {
            backend: Backend::Zone(Arc::new(zone)),
            stats: Arc::default(),
        }
    }

    /// Live DNS with the system clock for the cache.
    pub fn live(config: LiveConfig) -> Result<Resolver, ResolverError> {
        Resolver::live_with_clock(config, Arc::new(SystemClock))
    }

    /// Live DNS; the cache reads time from `clock` (tests use a fixed clock).
    pub fn live_with_clock(
        config: LiveConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Resolver, ResolverError> {
        Ok(Resolver {
            backend: Backend::Live(Arc::new(Live::new(config, clock)?)),
            stats: Arc::default(),
        })
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// All records of `rtype` at `name` (CNAMEs followed). `Ok(empty)` is NODATA.
    pub async fn lookup(&self, name: &str, rtype: RecordType) -> Lookup<Rdata> {
        self.stats.queries.fetch_add(1, Ordering::Relaxed);
        let name = normalize_name(name)?;
        match &self.backend {
            Backend::Zone(zone) => zone.resolve(&name, rtype),
            Backend::Live(live) => live.lookup(&name, rtype, &self.stats).await,
        }
    }

    /// TXT records, each one's character-strings concatenated (RFC 7208 section 3.3,
    /// RFC 6376 section 3.6.2.2).
    pub async fn txt(&self, name: &str) -> Lookup<Vec<u8>> {
        let records = self.lookup(name, RecordType::Txt).await?;
        Ok(records
            .iter()
            .filter_map(|r| match r {
                Rdata::Txt(strings) => Some(strings.concat()),
                _ => None,
            })
            .collect())
    }

    pub async fn a(&self, name: &str) -> Lookup<Ipv4Addr> {
        let records = self.lookup(name, RecordType::A).await?;
        Ok(records
            .iter()
            .filter_map(|r| {
                if let Rdata::A(ip) = r {
                    Some(*ip)
                } else {
                    None
                }
            })
            .collect())
    }

    pub async fn aaaa(&self, name: &str) -> Lookup<Ipv6Addr> {
        let records = self.lookup(name, RecordType::Aaaa).await?;
        Ok(records
            .iter()
            .filter_map(|r| {
                if let Rdata::Aaaa(ip) = r {
                    Some(*ip)
                } else {
                    None
                }
            })
            .collect())
    }

    /// A or AAAA records, as IP addresses, by the family of `like`.
    pub async fn addresses_like(&self, name: &str, like: IpAddr) -> Lookup<IpAddr> {
        match like {
            IpAddr::V4(_) => Ok(self
                .a(name)
                .await?
                .iter()
                .map(|ip| IpAddr::V4(*ip))
                .collect()),
            IpAddr::V6(_) => Ok(self
                .aaaa(name)
                .await?
                .iter()
                .map(|ip| IpAddr::V6(*ip))
                .collect()),
        }
    }

    /// MX records sorted by preference (stable within a preference).
    pub async fn mx(&self, name: &str) -> Lookup<Mx> {
        let records = self.lookup(name, RecordType::Mx).await?;
        let mut mx: Vec<Mx> = records
            .iter()
            .filter_map(|r| match r {
                Rdata::Mx {
                    preference,
                    exchange,
                } => Some(Mx {
                    preference: *preference,
                    exchange: exchange.clone(),
                }),
                _ => None,
            })
            .collect();
        mx.sort_by_key(|m| m.preference);
        Ok(mx.into())
    }

    /// PTR names of an address.
    pub async fn ptr(&self, ip: IpAddr) -> Lookup<String> {
        let records = self.lookup(&reverse_name(ip), RecordType::Ptr).await?;
        Ok(records
            .iter()
            .filter_map(|r| {
                if let Rdata::Ptr(n) = r {
                    Some(n.clone())
                } else {
                    None
                }
            })
            .collect())
    }
}

/// `4.3.2.1.in-addr.arpa` / nibble `ip6.arpa` name of an address.
pub fn reverse_name(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.{}.in-addr.arpa", o[3], o[2], o[1], o[0])
        }
        IpAddr::V6(v6) => {
            let mut s = String::with_capacity(72);
            for byte in v6.octets().iter().rev() {
                for nibble in [byte & 0x0f, byte >> 4] {
                    s.push(char::from_digit(u32::from(nibble), 16).unwrap_or('0'));
                    s.push('.');
                }
            }
            s.push_str("ip6.arpa");
            s
        }
    }
}

/// Lower-cases a name, drops one trailing dot, and checks that it can be queried: labels
/// of 1 to 63 octets, at most 253 octets in all.
pub fn normalize_name(name: &str) -> Result<String, DnsFailure> {
    let trimmed = name.strip_suffix('.').unwrap_or(name);
    if trimmed.is_empty() {
        return Err(DnsFailure::InvalidName("empty name".into()));
    }
    if trimmed.len() > 253 {
        return Err(DnsFailure::InvalidName(format!(
            "{} octets (over 253)",
            trimmed.len()
        )));
    }
    for label in trimmed.split('.') {
        if label.is_empty() {
            return Err(DnsFailure::InvalidName(format!(
                "empty label in {trimmed:?}"
            )));
        }
        if label.len() > 63 {
            return Err(DnsFailure::InvalidName(format!(
                "label of {} octets (over 63)",
                label.len()
            )));
        }
    }
    Ok(trimmed.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reverse_names() {
        assert_eq!(
            reverse_name("192.0.2.1".parse().unwrap()),
            "1.2.0.192.in-addr.arpa"
        );
        assert_eq!(
            reverse_name("2001:db8::1".parse().unwrap()),
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"
        );
    }

    #[test]
    fn names_are_checked() {
        assert_eq!(normalize_name("Example.COM.").unwrap(), "example.com");
        assert!(normalize_name("a..b").is_err());
        assert!(normalize_name("").is_err());
        assert!(normalize_name(&format!("{}.com", "a".repeat(64))).is_err());
        assert!(normalize_name(&format!("{}.com", "a".repeat(63))).is_ok());
    }
}
