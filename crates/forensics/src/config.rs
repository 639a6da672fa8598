//! What the trust walk trusts.

use crate::country::CountryDb;
use crate::names::{normalize_host, same_host};
use ipnet::IpNet;
use serde::Deserialize;
use std::net::IpAddr;

/// Which relays the trust walk believes. Deserialises from the `[trust]` table of the
/// configuration file (see `docs/configuration.md`).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct TrustConfig {
    /// Relays we trust to write true `Received:` lines: our MXs and internal relays
    /// (CIDRs; a bare address means a /32 or /128). Loopback is always trusted.
    pub trusted_networks: Vec<IpNet>,
    /// Our own host names. A name starting with `.` matches every name below it. A hop
    /// whose sender's reverse DNS (as recorded by a trusted host) is one of ours counts
    /// as trusted; a HELO naming one of them is the `server_name` class.
    pub our_hosts: Vec<String>,
    /// Our submission (MSA) hosts. A hop received by one of them from an authenticated
    /// client ends the walk there: the authenticated client is the origin, even when its
    /// address is in a trusted network.
    pub submission_hosts: Vec<String>,
    /// Trust private, link-local and unique-local addresses (RFC 1918, RFC 4193, …) as
    /// internal relays. Shared address space (100.64.0.0/10, CGNAT) is never trusted.
    pub trust_private: bool,
}

impl Default for TrustConfig {
    fn default() -> Self {
        TrustConfig {
            trusted_networks: Vec::new(),
            our_hosts: Vec::new(),
            submission_hosts: Vec::new(),
            trust_private: true,
        }
    }
}

/// Why an address counts as trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrustReason {
    Loopback,
    Private,
    Network(IpNet),
    OurHost(String),
}

impl std::fmt::Display for TrustReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TrustReason::Loopback => f.write_str("loopback"),
            TrustReason::Private => f.write_str("private address"),
            TrustReason::Network(n) => write!(f, "trusted network {n}"),
            TrustReason::OurHost(h) => write!(f, "our host {h}"),
        }
    }
}

impl TrustConfig {
    /// Whether a relay at `ip` (with reverse DNS `rdns`, as recorded by a trusted host)
    /// is trusted, and why.
    pub fn trusts(&self, ip: IpAddr, rdns: Option<&str>) -> Option<TrustReason> {
        if ip.is_loopback() {
            return Some(TrustReason::Loopback);
        }
        if let Some(net) = self.trusted_networks.iter().find(|n| n.contains(&ip)) {
            return Some(TrustReason::Network(*net));
        }
        if self.trust_private && is_private(ip) {
            return Some(TrustReason::Private);
        }
        if let Some(name) = rdns
            && self.is_our_host(name)
        {
            return Some(TrustReason::OurHost(normalize_host(name)));
        }
        None
    }

    /// Whether `name` is one of [`TrustConfig::our_hosts`].
    pub fn is_our_host(&self, name: &str) -> bool {
        host_in(&self.our_hosts, name)
    }

    /// Whether `name` is one of [`TrustConfig::submission_hosts`].
    pub fn is_submission_host(&self, name: &str) -> bool {
        host_in(&self.submission_hosts, name)
    }
}

fn host_in(list: &[String], name: &str) -> bool {
    let n = normalize_host(name);
    !n.is_empty()
        && list.iter().any(|h| match h.strip_prefix('.') {
            Some(suffix) => {
                let suffix = normalize_host(suffix);
                n.len() > suffix.len()
                    && n.ends_with(&suffix)
                    && n.as_bytes()[n.len() - suffix.len() - 1] == b'.'
            }
            None => same_host(h, &n),
        })
}

/// RFC 1918, RFC 6598 excluded, link-local, RFC 4193 unique-local, documentation ranges
/// excluded (they are test data in this project, and real mail never carries them).
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_private() || v4.is_link_local() || v4.is_unspecified(),
        IpAddr::V6(v6) => {
            let seg = v6.segments()[0];
            (seg & 0xfe00) == 0xfc00 || (seg & 0xffc0) == 0xfe80 || v6.is_unspecified()
        }
    }
}

/// Everything `trace` needs besides the message.
#[derive(Debug, Clone)]
pub struct TraceConfig {
    pub trust: TrustConfig,
    pub countries: CountryDb,
    /// A Date header this far from the origin's receive time is reported as `date_skew`.
    pub date_skew_seconds: i64,
}

impl TraceConfig {
    /// Defaults: nothing but loopback and private addresses trusted, embedded RIR data,
    /// a 3-hour date-skew threshold.
    pub fn new(trust: TrustConfig) -> Self {
        TraceConfig {
            trust,
            countries: CountryDb::default(),
            date_skew_seconds: DEFAULT_DATE_SKEW,
        }
    }
}

impl Default for TraceConfig {
    fn default() -> Self {
        TraceConfig::new(TrustConfig::default())
    }
}

/// Default date-skew threshold (seconds).
pub const DEFAULT_DATE_SKEW: i64 = 3 * 3600;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trust_rules() {
        let cfg = TrustConfig {
            trusted_networks: vec!["211.129.14.73/32".parse().unwrap()],
            our_hosts: vec![".example.net".into(), "mx.example.org".into()],
            ..Default::default()
        };
        assert!(matches!(
            cfg.trusts("211.129.14.73".parse().unwrap(), None),
            Some(TrustReason::Network(_))
        ));
        assert_eq!(
            cfg.trusts("127.0.0.1".parse().unwrap(), None),
            Some(TrustReason::Loopback)
        );
        assert_eq!(
            cfg.trusts("10.1.2.3".parse().unwrap(), None),
            Some(TrustReason::Private)
        );
        assert_eq!(cfg.trusts("100.64.0.1".parse().unwrap(), None), None);
        assert_eq!(cfg.trusts("143.90.172.25".parse().unwrap(), None), None);
        assert!(
            cfg.trusts("198.51.100.1".parse().unwrap(), Some("relay.example.net."))
                .is_some()
        );
        assert!(
            cfg.trusts("198.51.100.1".parse().unwrap(), Some("example.net"))
                .is_none()
        );
        assert!(
            cfg.trusts("198.51.100.1".parse().unwrap(), Some("MX.example.org"))
                .is_some()
        );
        assert!(
            cfg.trusts("198.51.100.1".parse().unwrap(), Some("badexample.net"))
                .is_none()
        );
        let strict = TrustConfig {
            trust_private: false,
            ..Default::default()
        };
        assert_eq!(strict.trusts("192.168.0.1".parse().unwrap(), None), None);
        assert_eq!(strict.trusts("fd00::1".parse().unwrap(), None), None);
        assert_eq!(
            TrustConfig::default().trusts("fe80::1".parse().unwrap(), None),
            Some(TrustReason::Private)
        );
    }
}
