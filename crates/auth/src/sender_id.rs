//! Sender ID (RFC 4406) with the Purported Responsible Address of RFC 4407.
//!
//! Ours: no Rust crate (nor rspamd, nor SpamAssassin today) implements it. The check is
//! SPF's `check_host()` ([`crate::spf`]) on the PRA's domain, reading `spf2.0/pra` records
//! and falling back to `v=spf1` (RFC 4406 section 3.4).
use crate::dns::Resolver;
use crate::spf::{self, CheckParams, Limits, RecordKind, Scope, SpfResult};
use mail_parser::parsers::MessageStream;
use mail_parser::{Address, HeaderValue};
use serde::Serialize;
use std::net::IpAddr;

/// The header a PRA came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum PraHeader {
    #[serde(rename = "Resent-Sender")]
    ResentSender,
    #[serde(rename = "Resent-From")]
    ResentFrom,
    Sender,
    From,
}

impl PraHeader {
    pub fn name(self) -> &'static str {
        match self {
            PraHeader::ResentSender => "Resent-Sender",
            PraHeader::ResentFrom => "Resent-From",
            PraHeader::Sender => "Sender",
            PraHeader::From => "From",
        }
    }
}

/// A Purported Responsible Address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pra {
    pub address: String,
    pub domain: String,
    pub header: PraHeader,
}

/// Why no PRA could be determined (RFC 4407 section 2, step 6).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no Purported Responsible Address: {0}")]
pub struct NoPra(pub String);

fn is_named(name: &[u8], want: &str) -> bool {
    name.eq_ignore_ascii_case(want.as_bytes())
}

fn non_empty(value: &[u8]) -> bool {
    value.iter().any(|b| !b.is_ascii_whitespace())
}

/// The single mailbox of a header, when it holds exactly one with a domain (step 5).
fn single_mailbox(value: &[u8]) -> Option<(String, String)> {
    let parsed = MessageStream::new(value).parse_address();
    let addrs: Vec<String> = match &parsed {
        HeaderValue::Address(Address::List(list)) => list
            .iter()
            .filter_map(|a| a.address.as_ref().map(|s| s.to_string()))
            .collect(),
        HeaderValue::Address(Address::Group(groups)) => groups
            .iter()
            .flat_map(|g| {
                g.addresses
                    .iter()
                    .filter_map(|a| a.address.as_ref().map(|s| s.to_string()))
            })
            .collect(),
        _ => Vec::new(),
    };
    if addrs.len() != 1 {
        return None;
    }
    let address = addrs.into_iter().next()?;
    let (local, domain) = address.rsplit_once('@')?;
    if local.is_empty() || !crate::spf::valid_domain(domain) {
        return None;
    }
    Some((
        address.clone(),
        domain.trim_end_matches('.').to_ascii_lowercase(),
    ))
}

/// RFC 4407 section 2. `headers` are the message's header fields in order, top first.
pub fn purported_responsible_address(headers: &[(&[u8], &[u8])]) -> Result<Pra, NoPra> {
    let first = |want: &str| {
        headers
            .iter()
            .position(|(n, v)| is_named(n, want) && non_empty(v))
    };
    let pick = |idx: usize, header: PraHeader| -> Result<Pra, NoPra> {
        let (address, domain) = single_mailbox(headers[idx].1).ok_or_else(|| {
            NoPra(format!(
                "the {} header does not hold exactly one mailbox with a domain",
                header.name()
            ))
        })?;
        Ok(Pra {
            address,
            domain,
            header,
        })
    };
    // Step 1
    if let Some(rs) = first("Resent-Sender") {
        let older_block = headers[..rs].iter().enumerate().any(|(rf, (n, v))| {
            is_named(n, "Resent-From")
                && non_empty(v)
                && headers[rf + 1..rs]
                    .iter()
                    .any(|(n, _)| is_named(n, "Received") || is_named(n, "Return-Path"))
        });
        if !older_block {
            return pick(rs, PraHeader::ResentSender);
        }
    }
    // Step 2
    if let Some(rf) = first("Resent-From") {
        return pick(rf, PraHeader::ResentFrom);
    }
    // Step 3
    let senders: Vec<usize> = headers
        .iter()
        .enumerate()
        .filter(|(_, (n, v))| is_named(n, "Sender") && non_empty(v))
        .map(|(i, _)| i)
        .collect();
    match senders.len() {
        0 => {}
        1 => return pick(senders[0], PraHeader::Sender),
        n => return Err(NoPra(format!("{n} Sender headers"))),
    }
    // Step 4
    let froms: Vec<usize> = headers
        .iter()
        .enumerate()
        .filter(|(_, (n, v))| is_named(n, "From") && non_empty(v))
        .map(|(i, _)| i)
        .collect();
    match froms.len() {
        1 => pick(froms[0], PraHeader::From),
        0 => Err(NoPra("no From header".into())),
        n => Err(NoPra(format!("{n} From headers"))),
    }
}

/// A Sender ID result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SenderIdOutcome {
    pub result: SpfResult,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pra: Option<Pra>,
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
}

/// Checks the PRA scope for a message received from `ip`.
pub async fn verify(
    resolver: &Resolver,
    ip: IpAddr,
    helo: &str,
    headers: &[(&[u8], &[u8])],
    receiver: &str,
    timestamp: u64,
) -> SenderIdOutcome {
    let pra = match purported_responsible_address(headers) {
        Ok(p) => p,
        Err(e) => {
            return SenderIdOutcome {
                result: SpfResult::PermError,
                pra: None,
                reason: e.to_string(),
                explanation: None,
            };
        }
    };
    let params = CheckParams {
        ip,
        sender: &pra.address,
        helo,
        receiver,
        kind: RecordKind::SenderId(Scope::Pra),
        limits: Limits::default(),
        timestamp,
    };
    let out = spf::check_host(resolver, &pra.domain, &params).await;
    SenderIdOutcome {
        result: out.result,
        reason: out.reason,
        explanation: out.explanation,
        pra: Some(pra),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pra(h: &[(&str, &str)]) -> Result<Pra, NoPra> {
        let raw: Vec<(&[u8], &[u8])> = h
            .iter()
            .map(|(n, v)| (n.as_bytes(), v.as_bytes()))
            .collect();
        purported_responsible_address(&raw)
    }

    #[test]
    fn rfc4407_steps() {
        // From only
        let p = pra(&[("From", " Joe <joe@example.com>\r\n"), ("To", " x@y.z\r\n")]).unwrap();
        assert_eq!(
            (p.address.as_str(), p.header),
            ("joe@example.com", PraHeader::From)
        );
        // Sender beats From
        let p = pra(&[
            ("From", " joe@example.com\r\n"),
            ("Sender", " list@lists.example.org\r\n"),
        ])
        .unwrap();
        assert_eq!(
            (p.domain.as_str(), p.header),
            ("lists.example.org", PraHeader::Sender)
        );
        // two Senders, two Froms: no PRA
        assert!(
            pra(&[
                ("Sender", " a@x.example\r\n"),
                ("Sender", " b@y.example\r\n"),
                ("From", " c@z.example\r\n")
            ])
            .is_err()
        );
        assert!(pra(&[("From", " a@x.example\r\n"), ("From", " b@y.example\r\n")]).is_err());
        // multiple mailboxes in From
        assert!(pra(&[("From", " a@x.example, b@y.example\r\n")]).is_err());
        // mailbox without domain
        assert!(pra(&[("From", " undisclosed\r\n")]).is_err());
        // the newest resent block: Resent-Sender
        let p = pra(&[
            ("Resent-From", " fwd@forwarder.example\r\n"),
            ("Resent-Sender", " agent@forwarder.example\r\n"),
            ("Received", " from a by b\r\n"),
            ("From", " joe@example.com\r\n"),
        ])
        .unwrap();
        assert_eq!(p.header, PraHeader::ResentSender);
        // a Resent-Sender of an older block (a Received between the newer Resent-From and it)
        let p = pra(&[
            ("Resent-From", " new@newer.example\r\n"),
            ("Received", " from a by b\r\n"),
            ("Resent-Sender", " old@older.example\r\n"),
            ("From", " joe@example.com\r\n"),
        ])
        .unwrap();
        assert_eq!(
            (p.address.as_str(), p.header),
            ("new@newer.example", PraHeader::ResentFrom)
        );
        // empty headers are skipped
        let p = pra(&[("Sender", "  \r\n"), ("From", " joe@example.com\r\n")]).unwrap();
        assert_eq!(p.header, PraHeader::From);
    }
}
