//! The HELO-name classes of the 2010 MTA study (Table 3) and the envelope-sender classes
//! (Table 4, the part that needs no DNS).

use crate::names::{
    address_domain, is_localhost, is_valid_fqdn, is_valid_label, looks_like_ip, parse_ip, same_host,
};
use serde::Serialize;
use std::net::IpAddr;

/// What the origin's HELO/EHLO name is. Exactly one class applies; when several could,
/// the first in this order wins (see `docs/forensics.md`):
/// `empty` > IP forms (`server_ip` > `client_ip` > `other_ip`) > `localhost` >
/// `server_name` > `envelope_from_domain` > `header_from_domain` > `recipient_domain` >
/// `no_dot` > `invalid` > `fqdn`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HeloClass {
    /// A syntactically valid fully qualified domain name (not one of the names below).
    Fqdn,
    /// An IP address (bare or as a literal) equal to the connecting IP.
    ClientIp,
    /// An IP address that is neither the client's nor the server's.
    OtherIp,
    /// The receiving server's own IP address.
    ServerIp,
    /// The receiving server's own name.
    ServerName,
    /// The domain of the envelope sender (MAIL FROM).
    EnvelopeFromDomain,
    /// The domain of the header From address.
    HeaderFromDomain,
    /// The domain of a recipient.
    RecipientDomain,
    /// `localhost` or `localhost.localdomain`.
    Localhost,
    /// A name without a dot, other than localhost.
    NoDot,
    /// No HELO name recorded, or an empty one.
    Empty,
    /// Anything else that is not a valid host name or address literal.
    Invalid,
}

impl HeloClass {
    pub fn as_str(self) -> &'static str {
        match self {
            HeloClass::Fqdn => "fqdn",
            HeloClass::ClientIp => "client_ip",
            HeloClass::OtherIp => "other_ip",
            HeloClass::ServerIp => "server_ip",
            HeloClass::ServerName => "server_name",
            HeloClass::EnvelopeFromDomain => "envelope_from_domain",
            HeloClass::HeaderFromDomain => "header_from_domain",
            HeloClass::RecipientDomain => "recipient_domain",
            HeloClass::Localhost => "localhost",
            HeloClass::NoDot => "no_dot",
            HeloClass::Empty => "empty",
            HeloClass::Invalid => "invalid",
        }
    }

    /// Every class, in precedence order.
    pub const ALL: [HeloClass; 12] = [
        HeloClass::Empty,
        HeloClass::ServerIp,
        HeloClass::ClientIp,
        HeloClass::OtherIp,
        HeloClass::Localhost,
        HeloClass::ServerName,
        HeloClass::EnvelopeFromDomain,
        HeloClass::HeaderFromDomain,
        HeloClass::RecipientDomain,
        HeloClass::NoDot,
        HeloClass::Invalid,
        HeloClass::Fqdn,
    ];
}

impl std::fmt::Display for HeloClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the HELO name is compared with.
#[derive(Debug, Default)]
pub struct HeloContext<'a> {
    /// The connecting client's IP.
    pub client_ip: Option<IpAddr>,
    /// The receiving server's addresses.
    pub server_ips: Vec<IpAddr>,
    /// The receiving server's names (its `by` name, our own host names).
    pub server_names: Vec<&'a str>,
    pub envelope_from_domain: Option<&'a str>,
    pub header_from_domain: Option<&'a str>,
    pub recipient_domains: Vec<&'a str>,
}

/// Classifies a HELO name.
pub fn classify_helo(helo: Option<&str>, ctx: &HeloContext<'_>) -> HeloClass {
    let Some(helo) = helo.map(str::trim).filter(|h| !h.is_empty() && *h != "[]") else {
        return HeloClass::Empty;
    };
    if looks_like_ip(helo) {
        return match parse_ip(helo) {
            Some(ip) if ctx.server_ips.contains(&ip) => HeloClass::ServerIp,
            Some(ip) if ctx.client_ip == Some(ip) => HeloClass::ClientIp,
            Some(_) => HeloClass::OtherIp,
            None => HeloClass::Invalid,
        };
    }
    if is_localhost(helo) {
        return HeloClass::Localhost;
    }
    if ctx.server_names.iter().any(|n| same_host(n, helo)) {
        return HeloClass::ServerName;
    }
    if ctx.envelope_from_domain.is_some_and(|d| same_host(d, helo)) {
        return HeloClass::EnvelopeFromDomain;
    }
    if ctx.header_from_domain.is_some_and(|d| same_host(d, helo)) {
        return HeloClass::HeaderFromDomain;
    }
    if ctx.recipient_domains.iter().any(|d| same_host(d, helo)) {
        return HeloClass::RecipientDomain;
    }
    let name = helo.strip_suffix('.').unwrap_or(helo);
    if !name.contains('.') {
        return if is_valid_label(name) {
            HeloClass::NoDot
        } else {
            HeloClass::Invalid
        };
    }
    if is_valid_fqdn(name) {
        HeloClass::Fqdn
    } else {
        HeloClass::Invalid
    }
}

/// The envelope sender's class without DNS. The live classes (nonexistent domain,
/// unreachable, reachable) come from the authentication crate's callouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EnvelopeClass {
    /// The null reverse-path `<>` (bounces, and mail that wants no bounce).
    Null,
    /// The sender's domain is a recipient's domain.
    RecipientDomain,
    /// Any other address.
    Other,
    /// No envelope sender is recorded anywhere in the message.
    Missing,
}

/// Where the envelope sender was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EnvelopeSource {
    ReturnPath,
    Received,
    XEnvelopeFrom,
    MboxFromLine,
    None,
}

/// The envelope sender and how it relates to the header From.
#[derive(Debug, Clone, Serialize)]
pub struct EnvelopeFrom {
    /// The address without angle brackets; `""` for the null sender; None when missing.
    pub address: Option<String>,
    pub class: EnvelopeClass,
    /// The header From address is the same as the envelope sender.
    pub matches_header_from: bool,
    pub source: EnvelopeSource,
}

/// Classifies an envelope sender.
pub fn classify_envelope(
    address: Option<&str>,
    source: EnvelopeSource,
    header_from: Option<&str>,
    recipient_domains: &[&str],
) -> EnvelopeFrom {
    let Some(address) = address else {
        return EnvelopeFrom {
            address: None,
            class: EnvelopeClass::Missing,
            matches_header_from: false,
            source: EnvelopeSource::None,
        };
    };
    let addr = crate::names::strip_angle(address);
    let is_null = addr.is_empty()
        || addr.eq_ignore_ascii_case("MAILER-DAEMON") && source == EnvelopeSource::MboxFromLine;
    if is_null {
        return EnvelopeFrom {
            address: Some(String::new()),
            class: EnvelopeClass::Null,
            matches_header_from: false,
            source,
        };
    }
    let class = match address_domain(addr) {
        Some(d) if recipient_domains.iter().any(|r| same_host(r, &d)) => {
            EnvelopeClass::RecipientDomain
        }
        _ => EnvelopeClass::Other,
    };
    let matches_header_from = header_from.is_some_and(|f| crate::names::same_address(f, addr));
    EnvelopeFrom {
        address: Some(addr.to_string()),
        class,
        matches_header_from,
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> HeloContext<'static> {
        HeloContext {
            client_ip: Some("143.90.172.25".parse().unwrap()),
            server_ips: vec!["211.129.14.73".parse().unwrap()],
            server_names: vec!["smtp.estate.ocn.ne.jp"],
            envelope_from_domain: Some("sender.example"),
            header_from_domain: Some("author.example"),
            recipient_domains: vec!["estate.ocn.ne.jp"],
        }
    }

    #[test]
    fn every_class() {
        let c = ctx();
        let cases = [
            (None, HeloClass::Empty),
            (Some(""), HeloClass::Empty),
            (Some("[211.129.14.73]"), HeloClass::ServerIp),
            (Some("211.129.14.73"), HeloClass::ServerIp),
            (Some("[143.90.172.25]"), HeloClass::ClientIp),
            (Some("143.90.172.25"), HeloClass::ClientIp),
            (Some("[192.0.2.1]"), HeloClass::OtherIp),
            (Some("[300.1.1.1]"), HeloClass::Invalid),
            (Some("localhost"), HeloClass::Localhost),
            (Some("LOCALHOST.localdomain"), HeloClass::Localhost),
            (Some("smtp.estate.ocn.ne.jp"), HeloClass::ServerName),
            (Some("sender.example"), HeloClass::EnvelopeFromDomain),
            (Some("author.example"), HeloClass::HeaderFromDomain),
            (Some("estate.ocn.ne.jp"), HeloClass::RecipientDomain),
            (Some("aak48900"), HeloClass::NoDot),
            (Some("bad!name"), HeloClass::Invalid),
            (Some("bad..name"), HeloClass::Invalid),
            (Some("mail.example.com"), HeloClass::Fqdn),
        ];
        for (helo, want) in cases {
            assert_eq!(classify_helo(helo, &c), want, "{helo:?}");
        }
    }

    #[test]
    fn envelope() {
        let e = classify_envelope(Some("<>"), EnvelopeSource::ReturnPath, None, &[]);
        assert_eq!(e.class, EnvelopeClass::Null);
        let e = classify_envelope(
            Some("<a@Example.net>"),
            EnvelopeSource::ReturnPath,
            Some("a@example.net"),
            &["example.net"],
        );
        assert_eq!(e.class, EnvelopeClass::RecipientDomain);
        assert!(e.matches_header_from);
        let e = classify_envelope(
            Some("b@other.example"),
            EnvelopeSource::ReturnPath,
            Some("a@other.example"),
            &["example.net"],
        );
        assert_eq!(e.class, EnvelopeClass::Other);
        assert!(!e.matches_header_from);
        assert_eq!(
            classify_envelope(None, EnvelopeSource::None, None, &[]).class,
            EnvelopeClass::Missing
        );
        assert_eq!(
            classify_envelope(
                Some("MAILER-DAEMON"),
                EnvelopeSource::MboxFromLine,
                None,
                &[]
            )
            .class,
            EnvelopeClass::Null
        );
    }
}
