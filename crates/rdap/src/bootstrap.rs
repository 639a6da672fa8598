//! Which RDAP service answers for an address: an embedded copy of IANA's RDAP bootstrap
//! registry for IP space (RFC 9224), replaceable at run time by IANA's own JSON files.
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::IpAddr;
use url::Url;

/// The five Regional Internet Registries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Rir {
    Afrinic,
    Apnic,
    Arin,
    Lacnic,
    Ripe,
}

impl Rir {
    pub const ALL: [Rir; 5] = [Rir::Afrinic, Rir::Apnic, Rir::Arin, Rir::Lacnic, Rir::Ripe];

    /// The registry's public RDAP base URL.
    pub fn rdap_base(self) -> &'static str {
        match self {
            Rir::Afrinic => "https://rdap.afrinic.net/rdap/",
            Rir::Apnic => "https://rdap.apnic.net/",
            Rir::Arin => "https://rdap.arin.net/registry/",
            Rir::Lacnic => "https://rdap.lacnic.net/rdap/",
            Rir::Ripe => "https://rdap.db.ripe.net/",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Rir::Afrinic => "AFRINIC",
            Rir::Apnic => "APNIC",
            Rir::Arin => "ARIN",
            Rir::Lacnic => "LACNIC",
            Rir::Ripe => "RIPE NCC",
        }
    }

    /// The registry's web site, where its policy for reporting abuse is published.
    pub fn website(self) -> &'static str {
        match self {
            Rir::Afrinic => "https://afrinic.net/",
            Rir::Apnic => "https://www.apnic.net/",
            Rir::Arin => "https://www.arin.net/",
            Rir::Lacnic => "https://www.lacnic.net/",
            Rir::Ripe => "https://www.ripe.net/",
        }
    }

    /// Recognises a registry from a host name it serves RDAP or whois on
    /// (`whois.arin.net`, `rdap.db.ripe.net`, `jpnic.rdap.apnic.net`...).
    pub fn from_host(host: &str) -> Option<Rir> {
        let h = host.trim().trim_end_matches('.').to_ascii_lowercase();
        let is = |d: &str| h == d || h.ends_with(&format!(".{d}"));
        if is("afrinic.net") {
            Some(Rir::Afrinic)
        } else if is("apnic.net") {
            Some(Rir::Apnic)
        } else if is("arin.net") {
            Some(Rir::Arin)
        } else if is("lacnic.net") {
            Some(Rir::Lacnic)
        } else if is("ripe.net") {
            Some(Rir::Ripe)
        } else {
            None
        }
    }
}

impl fmt::Display for Rir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// IPv4 /8 blocks per registry, from IANA's `ipv4.json` RDAP bootstrap file.
const V4_SLASH8: &[(Rir, &[u8])] = &[
    (Rir::Afrinic, &[41, 102, 105, 154, 196, 197]),
    (
        Rir::Apnic,
        &[
            1, 14, 27, 36, 39, 42, 43, 49, 58, 59, 60, 61, 101, 103, 106, 110, 111, 112, 113, 114,
            115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125, 126, 133, 150, 153, 163, 171,
            175, 180, 182, 183, 202, 203, 210, 211, 218, 219, 220, 221, 222, 223,
        ],
    ),
    (
        Rir::Arin,
        &[
            3, 4, 6, 7, 8, 9, 11, 12, 13, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 26, 28, 29, 30,
            32, 33, 34, 35, 38, 40, 44, 45, 47, 48, 50, 52, 54, 55, 56, 63, 64, 65, 66, 67, 68, 69,
            70, 71, 72, 73, 74, 75, 76, 96, 97, 98, 99, 100, 104, 107, 108, 128, 129, 130, 131,
            132, 134, 135, 136, 137, 138, 139, 140, 142, 143, 144, 146, 147, 148, 149, 152, 155,
            156, 157, 158, 159, 160, 161, 162, 164, 165, 166, 167, 168, 169, 170, 172, 173, 174,
            184, 192, 198, 199, 204, 205, 206, 207, 208, 209, 214, 215, 216,
        ],
    ),
    (
        Rir::Lacnic,
        &[177, 179, 181, 186, 187, 189, 190, 191, 200, 201],
    ),
    (
        Rir::Ripe,
        &[
            2, 5, 25, 31, 37, 46, 51, 53, 57, 62, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88,
            89, 90, 91, 92, 93, 94, 95, 109, 141, 145, 151, 176, 178, 185, 188, 193, 194, 195, 212,
            213, 217,
        ],
    ),
];

/// IPv6 blocks per registry, from IANA's `ipv6.json` RDAP bootstrap file.
const V6_BLOCKS: &[(Rir, &[&str])] = &[
    (Rir::Afrinic, &["2001:4200::/23", "2c00::/12"]),
    (
        Rir::Apnic,
        &[
            "2001:200::/23",
            "2001:4400::/23",
            "2001:8000::/19",
            "2001:a000::/20",
            "2001:b000::/20",
            "2001:c00::/23",
            "2001:e00::/23",
            "2400::/12",
        ],
    ),
    (
        Rir::Arin,
        &[
            "2001:1800::/23",
            "2001:400::/23",
            "2001:4800::/23",
            "2600::/12",
            "2610::/23",
            "2620::/23",
            "2630::/12",
        ],
    ),
    (Rir::Lacnic, &["2001:1200::/23", "2800::/12"]),
    (
        Rir::Ripe,
        &[
            "2001:1400::/22",
            "2001:1a00::/23",
            "2001:1c00::/22",
            "2001:2000::/19",
            "2001:4000::/23",
            "2001:4600::/23",
            "2001:4a00::/23",
            "2001:4c00::/23",
            "2001:5000::/20",
            "2001:600::/23",
            "2001:800::/22",
            "2003::/18",
            "2a00::/12",
            "2a10::/12",
        ],
    ),
];

/// Special-purpose blocks (RFC 6890 and successors) inside the RIRs' /8s and /12s:
/// private, shared (CGNAT), link-local, benchmarking and documentation space. No RDAP
/// server has a record for them, so none is asked.
const SPECIAL_PURPOSE: &[&str] = &[
    "10.0.0.0/8",
    "100.64.0.0/10",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.0.2.0/24",
    "192.88.99.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "2001::/23",
    "2001:db8::/32",
    "2002::/16",
];

/// Whether `ip` is in special-purpose space that no registry has records for.
pub fn is_special_purpose(ip: IpAddr) -> bool {
    let ip = ip.to_canonical();
    SPECIAL_PURPOSE
        .iter()
        .filter_map(|b| b.parse::<IpNet>().ok())
        .any(|b| b.contains(&ip))
}

/// One bootstrap service: the blocks it answers for and its base URLs (preferred first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub blocks: Vec<IpNet>,
    pub urls: Vec<Url>,
    /// The registry, when the URLs are a known RIR's.
    pub rir: Option<Rir>,
}

/// Problems reading an IANA bootstrap file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BootstrapError {
    #[error("bootstrap file is not JSON: {0}")]
    Json(String),
    #[error("bootstrap file has no \"services\" array")]
    NoServices,
    #[error("bootstrap service {index}: {problem}")]
    Service { index: usize, problem: String },
}

/// Maps addresses to RDAP base URLs, most specific block first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bootstrap {
    services: Vec<Service>,
}

fn base_url(s: &str) -> Option<Url> {
    let s = if s.ends_with('/') {
        s.to_string()
    } else {
        format!("{s}/")
    };
    Url::parse(&s)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
}

impl Default for Bootstrap {
    fn default() -> Self {
        Self::embedded()
    }
}

impl Bootstrap {
    /// The embedded IANA table, pointing at the RIRs' public RDAP services.
    pub fn embedded() -> Self {
        Self::embedded_with(|rir| base_url(rir.rdap_base()))
    }

    /// The embedded table with each RIR's base URL chosen by `base` (e.g. a mirror, or
    /// test servers); a registry for which `base` returns `None` is left out.
    pub fn embedded_with(base: impl Fn(Rir) -> Option<Url>) -> Self {
        let mut services = Vec::new();
        for rir in Rir::ALL {
            let Some(url) = base(rir) else { continue };
            let mut blocks = Vec::new();
            if let Some((_, eights)) = V4_SLASH8.iter().find(|(r, _)| *r == rir) {
                for &o in *eights {
                    if let Ok(n) = IpNet::new(IpAddr::from([o, 0, 0, 0]), 8) {
                        blocks.push(n);
                    }
                }
            }
            if let Some((_, v6)) = V6_BLOCKS.iter().find(|(r, _)| *r == rir) {
                blocks.extend(v6.iter().filter_map(|b| b.parse::<IpNet>().ok()));
            }
            services.push(Service {
                blocks,
                urls: vec![url],
                rir: Some(rir),
            });
        }
        Bootstrap { services }
    }

    /// Reads IANA's bootstrap files (`ipv4.json`, `ipv6.json`; RFC 9224 format) and
    /// merges their services. Unparseable blocks or URLs are reported, not skipped.
    pub fn from_iana_files(files: &[&[u8]]) -> Result<Self, BootstrapError> {
        let mut services = Vec::new();
        for file in files {
            let v: serde_json::Value =
                serde_json::from_slice(file).map_err(|e| BootstrapError::Json(e.to_string()))?;
            let list = v
                .get("services")
                .and_then(|s| s.as_array())
                .ok_or(BootstrapError::NoServices)?;
            for (index, svc) in list.iter().enumerate() {
                let err = |problem: &str| BootstrapError::Service {
                    index,
                    problem: problem.to_string(),
                };
                let pair = svc
                    .as_array()
                    .filter(|a| a.len() >= 2)
                    .ok_or_else(|| err("expected [[blocks...], [urls...]]"))?;
                let mut blocks = Vec::new();
                for b in pair[0]
                    .as_array()
                    .ok_or_else(|| err("blocks is not an array"))?
                {
                    let text = b.as_str().ok_or_else(|| err("a block is not a string"))?;
                    let net: IpNet = text
                        .parse()
                        .map_err(|_| err(&format!("{text:?} is not an IP prefix")))?;
                    blocks.push(net.trunc());
                }
                let mut urls = Vec::new();
                for u in pair[1]
                    .as_array()
                    .ok_or_else(|| err("urls is not an array"))?
                {
                    let text = u.as_str().ok_or_else(|| err("a URL is not a string"))?;
                    urls.push(
                        base_url(text).ok_or_else(|| err(&format!("{text:?} is not a URL")))?,
                    );
                }
                // Prefer https.
                urls.sort_by_key(|u| u.scheme() != "https");
                let rir = urls
                    .iter()
                    .find_map(|u| u.host_str().and_then(Rir::from_host));
                services.push(Service { blocks, urls, rir });
            }
        }
        Ok(Bootstrap { services })
    }

    /// The service for `ip`: the one with the longest block containing it; none for
    /// special-purpose space ([`is_special_purpose`]).
    pub fn service_for(&self, ip: IpAddr) -> Option<&Service> {
        let ip = ip.to_canonical();
        if is_special_purpose(ip) {
            return None;
        }
        self.services
            .iter()
            .filter_map(|s| {
                s.blocks
                    .iter()
                    .filter(|b| b.contains(&ip))
                    .map(|b| b.prefix_len())
                    .max()
                    .map(|len| (len, s))
            })
            .max_by_key(|(len, _)| *len)
            .map(|(_, s)| s)
    }

    pub fn services(&self) -> &[Service] {
        &self.services
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rir(ip: &str) -> Option<Rir> {
        Bootstrap::embedded()
            .service_for(ip.parse().unwrap())
            .and_then(|s| s.rir)
    }

    #[test]
    fn embedded_table_picks_the_corpus_registries() {
        assert_eq!(rir("74.125.225.229"), Some(Rir::Arin));
        assert_eq!(rir("2001:4860:4860::8888"), Some(Rir::Arin));
        assert_eq!(rir("62.239.237.1"), Some(Rir::Ripe));
        assert_eq!(rir("2a00:2381:ffff::1"), Some(Rir::Ripe));
        assert_eq!(rir("210.107.73.73"), Some(Rir::Apnic));
        assert_eq!(rir("2001:240:10c:1::ca20:9d1d"), Some(Rir::Apnic));
        assert_eq!(rir("200.57.141.161"), Some(Rir::Lacnic));
        assert_eq!(rir("2801:10:c000::"), Some(Rir::Lacnic));
        assert_eq!(rir("196.11.240.215"), Some(Rir::Afrinic));
        assert_eq!(rir("2001:43f8:7b0::"), Some(Rir::Afrinic));
        assert_eq!(rir("101.1.0.1"), Some(Rir::Apnic));
        assert_eq!(rir("::ffff:62.239.237.1"), Some(Rir::Ripe));
        assert_eq!(rir("10.0.0.1"), None);
        assert_eq!(rir("127.0.0.1"), None);
        assert_eq!(rir("2001:db8::1"), None);
        assert_eq!(rir("192.168.1.1"), None);
        assert_eq!(rir("100.64.0.1"), None);
        assert_eq!(rir("203.0.113.7"), None);
        assert_eq!(rir("203.0.112.7"), Some(Rir::Apnic));
    }

    #[test]
    fn iana_files_are_read_and_most_specific_wins() {
        let v6 = br#"{"services": [
            [["2001::/16"], ["http://wide.example/rdap", "https://wide.example/rdap/"]],
            [["2001:4000::/32"], ["https://rdap.db.ripe.net/"]]
        ]}"#;
        let b = Bootstrap::from_iana_files(&[v6]).unwrap();
        let s = b.service_for("2001:4000::1".parse().unwrap()).unwrap();
        assert_eq!(s.rir, Some(Rir::Ripe));
        let s = b.service_for("2001:4001::1".parse().unwrap()).unwrap();
        assert_eq!(s.urls[0].as_str(), "https://wide.example/rdap/");
        assert_eq!(s.urls[1].as_str(), "http://wide.example/rdap/");
        assert!(Bootstrap::from_iana_files(&[b"{}"]).is_err());
        let bad = br#"{"services": [[["nope"], ["https://x.example/"]]]}"#;
        assert!(matches!(
            Bootstrap::from_iana_files(&[bad]),
            Err(BootstrapError::Service { index: 0, .. })
        ));
    }

    #[test]
    fn hosts_name_registries() {
        assert_eq!(Rir::from_host("whois.arin.net"), Some(Rir::Arin));
        assert_eq!(Rir::from_host("jpnic.rdap.apnic.net"), Some(Rir::Apnic));
        assert_eq!(Rir::from_host("notarin.net"), None);
    }
}
