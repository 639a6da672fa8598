//! Host names, address literals and mail addresses: small, allocation-light helpers
//! shared by the Received parser, the trust walk and the classifiers.

use std::net::IpAddr;

/// Lower-cases a host name and drops one trailing dot, for comparisons.
pub fn normalize_host(name: &str) -> String {
    let name = name.trim_ascii();
    let name = name.strip_suffix('.').unwrap_or(name);
    name.to_ascii_lowercase()
}

/// Equality of two host names, ignoring ASCII case and a trailing dot.
pub fn same_host(a: &str, b: &str) -> bool {
    let a = a.trim_ascii();
    let b = b.trim_ascii();
    let a = a.strip_suffix('.').unwrap_or(a);
    let b = b.strip_suffix('.').unwrap_or(b);
    !a.is_empty() && a.eq_ignore_ascii_case(b)
}

/// Parses an IP address written as a bare address (`192.0.2.1`, `2001:db8::1`), an address
/// literal (`[192.0.2.1]`, `[IPv6:2001:db8::1]`), with an optional IPv6 zone (`fe80::1%11`).
/// IPv4-mapped IPv6 addresses are returned as IPv4.
pub fn parse_ip(text: &str) -> Option<IpAddr> {
    let mut s = text.trim_ascii();
    if let Some(inner) = s.strip_prefix('[') {
        s = inner.strip_suffix(']')?;
    }
    if s.get(..5).is_some_and(|p| p.eq_ignore_ascii_case("ipv6:")) {
        s = &s[5..];
    }
    // Fast rejection of host names: an address starts with a digit, a hex digit or `:`.
    match s.as_bytes().first() {
        Some(b) if b.is_ascii_hexdigit() || *b == b':' => {}
        _ => return None,
    }
    if let Some(pos) = s.find('%') {
        s = &s[..pos];
    }
    if s.is_empty() || s.len() > 45 {
        return None;
    }
    // Reject IPv4 written with leading zeros ambiguously? std rejects "01.2.3.4"; accept
    // them as decimal like most MTAs print them (ARIN-style zero padding).
    match s.parse::<IpAddr>() {
        Ok(ip) => Some(canonical_ip(ip)),
        Err(_) => parse_padded_v4(s),
    }
}

/// Maps `::ffff:a.b.c.d` to `a.b.c.d`.
pub fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

fn parse_padded_v4(s: &str) -> Option<IpAddr> {
    let mut octets = [0u8; 4];
    let mut n = 0;
    for part in s.split('.') {
        if n == 4 || part.is_empty() || part.len() > 3 || !part.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        octets[n] = part.parse::<u8>().ok()?;
        n += 1;
    }
    (n == 4).then(|| IpAddr::from(octets))
}

/// True when `text` looks like an address literal or a bare IP address (even a broken one
/// such as `[300.1.2.3]`): the HELO classifier treats those as IPs, not names.
pub fn looks_like_ip(text: &str) -> bool {
    let s = text.trim();
    if s.starts_with('[') {
        return true;
    }
    let dotted_digits =
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || b == b'.') && s.contains('.');
    dotted_digits
        || (s.contains(':')
            && s.bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.'))
}

/// Syntax check of a host name as an FQDN: at least two labels of letters, digits, hyphens
/// (and underscores, which real HELO names often carry), no label over 63 octets, no
/// leading or trailing hyphen, at most 253 octets, and a top-level label that is not all
/// digits.
pub fn is_valid_fqdn(name: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.is_empty() || name.len() > 253 {
        return false;
    }
    let mut labels = 0;
    let mut last = "";
    for label in name.split('.') {
        if !is_valid_label(label) {
            return false;
        }
        labels += 1;
        last = label;
    }
    labels >= 2 && !last.bytes().all(|b| b.is_ascii_digit())
}

/// A single DNS label made of letters, digits, hyphens and underscores.
pub fn is_valid_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= 63
        && !label.starts_with('-')
        && !label.ends_with('-')
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The domain part of an address (`user@Example.COM` → `example.com`), lower-cased.
pub fn address_domain(address: &str) -> Option<String> {
    let address = strip_angle(address);
    let (_, domain) = address.rsplit_once('@')?;
    let domain = domain.trim().trim_end_matches('.');
    (!domain.is_empty()).then(|| domain.to_ascii_lowercase())
}

/// Compares two mail addresses: the local part exactly (case-insensitively in practice,
/// since almost every system treats it so), the domain case-insensitively.
pub fn same_address(a: &str, b: &str) -> bool {
    let a = strip_angle(a);
    let b = strip_angle(b);
    !a.is_empty() && a.eq_ignore_ascii_case(b)
}

/// Removes surrounding white space and one pair of angle brackets.
pub fn strip_angle(s: &str) -> &str {
    let s = s.trim();
    s.strip_prefix('<')
        .and_then(|x| x.strip_suffix('>'))
        .unwrap_or(s)
        .trim()
}

/// `localhost`, `localhost.localdomain` and `localhost.` in any case.
pub fn is_localhost(name: &str) -> bool {
    let n = name.trim().trim_end_matches('.');
    n.eq_ignore_ascii_case("localhost") || n.eq_ignore_ascii_case("localhost.localdomain")
}

/// Words that name dial-up, DSL, cable and other dynamically assigned pools when they
/// appear as a token of a host name label (split at `-`, `.` and digit boundaries).
const DYNAMIC_TOKENS: &[&str] = &[
    "adsl",
    "bb",
    "broadband",
    "cable",
    "catv",
    "client",
    "cust",
    "customer",
    "dhcp",
    "dial",
    "dialin",
    "dialup",
    "dip",
    "dsl",
    "dyn",
    "dynamic",
    "dynip",
    "flets",
    "ftth",
    "home",
    "ipoe",
    "modem",
    "pool",
    "ppp",
    "pppoe",
    "res",
    "resident",
    "residential",
    "sdsl",
    "user",
    "vdsl",
    "wireless",
    "xdsl",
];

/// Heuristic: does this reverse-DNS name look like an address from a dial-up or other
/// dynamic pool? Either a label contains one of [`DYNAMIC_TOKENS`], or the name embeds
/// at least three octets of `ip` (`143-90-172-25.example`, `p25.172.90.143.example`).
/// Returns the reason when it does.
pub fn dynamic_rdns_reason(name: &str, ip: Option<IpAddr>) -> Option<String> {
    let lower = normalize_host(name);
    let labels: Vec<&str> = lower.split('.').collect();
    // The registered domain (last two labels, three under a two-letter ccTLD second level
    // such as ad.jp / co.uk) names the operator, not the pool.
    let keep = labels.len().saturating_sub(organisational_labels(&labels));
    for label in &labels[..keep] {
        for token in label
            .split(|c: char| c == '-' || c == '_' || c.is_ascii_digit())
            .filter(|t| !t.is_empty())
        {
            if DYNAMIC_TOKENS.contains(&token) {
                return Some(format!("label `{label}` contains `{token}`"));
            }
        }
    }
    if let Some(IpAddr::V4(v4)) = ip {
        let o = v4.octets().map(|b| b.to_string());
        let digits: Vec<&str> = lower
            .split(|c: char| !c.is_ascii_digit())
            .filter(|t| !t.is_empty())
            .collect();
        let forward = [o[0].as_str(), &o[1], &o[2], &o[3]];
        let reverse = [o[3].as_str(), &o[2], &o[1], &o[0]];
        for order in [forward, reverse] {
            if digits.windows(3).any(|w| order.windows(3).any(|x| x == w)) {
                return Some(format!("name embeds the address {v4}"));
            }
        }
    }
    None
}

/// How many trailing labels form the registered (organisational) domain: two, or three
/// when the second-level label is a common generic one under a ccTLD (`odn.ad.jp`,
/// `example.co.uk`). A heuristic; there is no public-suffix list in the pure crate.
pub fn organisational_labels(labels: &[&str]) -> usize {
    const SECOND_LEVEL: &[&str] = &[
        "ac", "ad", "co", "com", "ed", "edu", "go", "gov", "gr", "lg", "ne", "net", "or", "org",
    ];
    match labels {
        [.., second, tld] if tld.len() == 2 && SECOND_LEVEL.contains(second) => 3.min(labels.len()),
        _ => 2.min(labels.len()),
    }
}

/// The registered domain of a host name (see [`organisational_labels`]).
pub fn organisational_domain(name: &str) -> String {
    let lower = normalize_host(name);
    let labels: Vec<&str> = lower.split('.').collect();
    let n = organisational_labels(&labels);
    labels[labels.len() - n..].join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_forms() {
        assert_eq!(parse_ip("[192.0.2.1]"), Some("192.0.2.1".parse().unwrap()));
        assert_eq!(
            parse_ip("[IPv6:2001:db8::1]"),
            Some("2001:db8::1".parse().unwrap())
        );
        assert_eq!(parse_ip("fe80::1%11"), Some("fe80::1".parse().unwrap()));
        assert_eq!(
            parse_ip("::ffff:192.0.2.7"),
            Some("192.0.2.7".parse().unwrap())
        );
        assert_eq!(
            parse_ip("074.125.000.001"),
            Some("74.125.0.1".parse().unwrap())
        );
        assert_eq!(parse_ip("[300.1.2.3]"), None);
        assert_eq!(parse_ip("example.com"), None);
        assert!(looks_like_ip("[300.1.2.3]"));
        assert!(!looks_like_ip("aak48900"));
    }

    #[test]
    fn fqdn_syntax() {
        assert!(is_valid_fqdn("mail.example.com"));
        assert!(is_valid_fqdn("mail.example.com."));
        assert!(is_valid_fqdn("my_host.example.com"));
        assert!(!is_valid_fqdn("aak48900"));
        assert!(!is_valid_fqdn("a..b"));
        assert!(!is_valid_fqdn("-a.example"));
        assert!(!is_valid_fqdn("host.123"));
        assert!(!is_valid_fqdn("bad!name.example"));
    }

    #[test]
    fn dynamic_names() {
        let ip = Some("143.90.172.25".parse().unwrap());
        assert!(dynamic_rdns_reason("TKYca-0315p25.ppp.odn.ad.jp", ip).is_some());
        assert!(dynamic_rdns_reason("p25-172-90-143.example.net", ip).is_some());
        assert!(dynamic_rdns_reason("mail.odn.ad.jp", ip).is_none());
        assert!(dynamic_rdns_reason("mx.example.com", ip).is_none());
        assert_eq!(organisational_domain("smtp.estate.ocn.ne.jp"), "ocn.ne.jp");
        assert_eq!(organisational_domain("mail.example.com"), "example.com");
    }
}
