//! Hops, the trust walk and the chain-consistency marks.
//!
//! The walk starts at the newest hop (the first `Received:` field, written by the host
//! that stored the message) and goes down while the sending relay is trusted. The first
//! hop whose sending IP is not trusted is the **origin**: the handover point into the
//! network we trust, stamped by a host we believe. Hops below it are the sender's claims;
//! each hop gets marks that say whether it fits its neighbours.

use crate::config::TrustConfig;
use crate::country::CountryDb;
use crate::message::Headers;
use crate::names::{organisational_domain, parse_ip, same_host};
use crate::received::{Mta, Protocol, Received, parse_received};
use chrono::{DateTime, FixedOffset};
use serde::Serialize;
use std::net::IpAddr;

/// Where a hop stands relative to the trust boundary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Above the origin, from a trusted relay.
    Trusted,
    /// Above the origin, handled locally (no network client: LMTP delivery, pickup, a
    /// local submission) or with no IP to judge.
    Internal,
    /// The origin hop.
    Origin,
    /// Below the origin: what the untrusted sender claims.
    Claimed,
    /// Not understood; skipped by the walk.
    Unparsed,
}

/// A consistency observation about one hop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "mark", rename_all = "snake_case")]
pub enum Mark {
    /// This hop's `by` host is the sender named by the hop above.
    LinkOk,
    /// Same organisation, different host name.
    LinkWeak { detail: String },
    /// This hop's `by` host is not the sender the hop above names.
    LinkMismatch { detail: String },
    /// The sending IP is a private, link-local or unique-local address.
    PrivateIp,
    /// Stamped later than the newer hop above it (time runs backwards).
    TimeBackwards { seconds: i64 },
    /// The `Received:` date could not be read.
    BadDate,
    /// Sendmail's `(may be forged)`: the rDNS name did not resolve back to the IP.
    MayBeForged,
    /// The field stands below header fields a message author writes (From, Subject, …):
    /// it was written into the message, not prepended in transit.
    OutOfPlace,
    /// A hop below the origin claims one of our hosts or trusted relays.
    ClaimsOurHost { detail: String },
    /// A network hop whose line gives no sending IP.
    NoIp,
    /// The line could not be parsed.
    Unparsed,
    /// Built from an originating-IP header, not a `Received:` field.
    Synthetic { header: String },
}

/// One hop of the chain: a parsed `Received:` field (or an originating-IP header).
#[derive(Debug, Clone, Serialize)]
pub struct Hop {
    #[serde(flatten)]
    pub received: Received,
    /// The sending relay is trusted (only for hops above the origin).
    pub trusted: bool,
    /// Why it is trusted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trust_reason: Option<String>,
    pub role: Role,
    /// Country of `from_ip` by RIR delegation.
    pub country: Option<String>,
    /// The header an originating-IP hop was built from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub synthetic: Option<String>,
    pub marks: Vec<Mark>,
    /// The field value as found (folding kept), or the originating-IP header.
    pub raw: String,
    #[serde(skip)]
    pub position: usize,
}

/// The origin: who handed the message to the network we trust.
#[derive(Debug, Clone, Serialize)]
pub struct Origin {
    pub ip: IpAddr,
    pub port: Option<u16>,
    /// The HELO/EHLO name the origin gave, as recorded by our trusted host.
    pub helo: Option<String>,
    pub rdns: Option<String>,
    /// The trusted host that received it.
    pub by: Option<String>,
    /// Index into `hops` (0 = newest).
    pub hop: usize,
    /// When our trusted host received it: the time to attribute the address at.
    pub date: Option<DateTime<FixedOffset>>,
    pub country: Option<String>,
    pub helo_class: crate::classify::HeloClass,
    /// The identity the client authenticated as, when the hop says it did.
    pub authenticated: Option<String>,
    /// The origin came from an originating-IP header rather than a Received field.
    pub synthetic: bool,
    /// Why this hop is the origin, in one sentence.
    pub reason: String,
}

/// Builds the hops from the Received fields (newest first) and the originating-IP
/// headers (appended below them, oldest), with countries.
pub fn build_hops(h: &mut Headers, countries: &CountryDb) -> Vec<Hop> {
    let fields = std::mem::take(&mut h.received);
    let mut hops: Vec<Hop> = Vec::with_capacity(fields.len() + h.originating.len());
    for field in fields {
        let received = parse_received(&field.value);
        hops.push(Hop {
            country: received
                .from_ip
                .and_then(|ip| countries.lookup(ip))
                .map(|c| c.code),
            received,
            trusted: false,
            trust_reason: None,
            role: Role::Unparsed,
            synthetic: None,
            marks: Vec::new(),
            raw: field.value,
            position: field.position,
        });
    }
    for (name, value, position) in &h.originating {
        // X-Forwarded-For lists the client first.
        let first = value.split(',').next().unwrap_or("").trim();
        let Some(ip) = parse_ip(first) else { continue };
        if hops
            .iter()
            .any(|x| x.synthetic.is_some() && x.received.from_ip == Some(ip))
        {
            continue;
        }
        let received = Received {
            from_ip: Some(ip),
            parsed: true,
            ..Received::default()
        };
        hops.push(Hop {
            country: countries.lookup(ip).map(|c| c.code),
            received,
            trusted: false,
            trust_reason: None,
            role: Role::Unparsed,
            synthetic: Some(name.clone()),
            marks: vec![Mark::Synthetic {
                header: name.clone(),
            }],
            raw: format!("{name}: {value}"),
            position: *position,
        });
    }
    hops
}

/// Walks the chain from the newest hop and returns the origin's index, setting each hop's
/// role and trust. Also returns the trust reasons met on the way, for the explanation.
pub fn walk(hops: &mut [Hop], trust: &TrustConfig) -> Option<usize> {
    let mut origin = None;
    for (i, hop) in hops.iter_mut().enumerate() {
        let r = &hop.received;
        if !r.parsed {
            hop.role = Role::Unparsed;
            continue;
        }
        // Retrieval from the recipient's own mailbox (fetchmail over POP3/IMAP) is not a
        // handover from a sender: the mailbox host is the recipient's provider, whose
        // lines we believe, as SpamAssassin does.
        if r.from_ip.is_some()
            && (r.mta == Some(Mta::Fetchmail)
                || matches!(r.protocol, Some(Protocol::Imap | Protocol::Pop3)))
        {
            hop.trusted = true;
            hop.trust_reason =
                Some("mailbox retrieval: the recipient fetched it from their own mailbox".into());
            hop.role = Role::Trusted;
            continue;
        }
        let submission =
            r.auth.is_some() && r.by.as_deref().is_some_and(|b| trust.is_submission_host(b));
        match r.from_ip {
            Some(ip) if !submission => match trust.trusts(ip, r.from_rdns.as_deref()) {
                Some(reason) => {
                    hop.trusted = true;
                    hop.trust_reason = Some(reason.to_string());
                    hop.role = Role::Trusted;
                }
                None => {
                    origin = Some(i);
                    break;
                }
            },
            Some(_) => {
                origin = Some(i);
                break;
            }
            None => {
                hop.role = Role::Internal;
                hop.trusted = true;
                hop.trust_reason = Some(if r.local {
                    "local handling".into()
                } else {
                    "no sending IP recorded".into()
                });
            }
        }
    }
    if let Some(o) = origin {
        hops[o].role = Role::Origin;
        for hop in hops.iter_mut().skip(o + 1) {
            hop.role = if hop.received.parsed {
                Role::Claimed
            } else {
                Role::Unparsed
            };
        }
    }
    origin
}

/// Adds the consistency marks.
pub fn mark(hops: &mut [Hop], origin: Option<usize>, h: &Headers, trust: &TrustConfig) {
    const TOLERANCE: i64 = 10 * 60;
    let n = hops.len();
    // The date of the nearest newer real hop that has one.
    let mut newest_date: Option<DateTime<FixedOffset>> = None;
    for i in 0..n {
        let mut marks = Vec::new();
        let r = &hops[i].received;
        if !r.parsed {
            marks.push(Mark::Unparsed);
        }
        if r.bad_date {
            marks.push(Mark::BadDate);
        }
        if r.rdns_may_be_forged {
            marks.push(Mark::MayBeForged);
        }
        if let Some(ip) = r.from_ip {
            if crate::config::is_private(ip) {
                marks.push(Mark::PrivateIp);
            }
        } else if r.parsed && !r.local && r.from_helo.is_some() && hops[i].synthetic.is_none() {
            marks.push(Mark::NoIp);
        }
        if hops[i].synthetic.is_none() && h.first_author_field.is_some_and(|p| hops[i].position > p)
        {
            marks.push(Mark::OutOfPlace);
        }
        // Link and time checks against the nearest newer real hop.
        if i > 0 && hops[i].synthetic.is_none() && r.parsed {
            if let Some(m) = link_mark(&hops[i - 1].received, r) {
                marks.push(m);
            }
            if let Some(d) = r.date
                && let Some(newer) = newest_date
            {
                let ahead = (d - newer).num_seconds();
                if ahead > TOLERANCE {
                    marks.push(Mark::TimeBackwards { seconds: ahead });
                }
            }
        }
        if origin.is_some_and(|o| i > o) && hops[i].synthetic.is_none() {
            if let Some(by) = r.by.as_deref().filter(|b| trust.is_our_host(b)) {
                marks.push(Mark::ClaimsOurHost {
                    detail: format!("claims to be received by our host {by}"),
                });
            } else if let Some(ip) = r
                .by_ip
                .filter(|ip| trust.trusted_networks.iter().any(|n| n.contains(ip)))
            {
                marks.push(Mark::ClaimsOurHost {
                    detail: format!("claims to be received by our relay {ip}"),
                });
            }
        }
        if hops[i].synthetic.is_none() && hops[i].received.date.is_some() {
            newest_date = hops[i].received.date;
        }
        hops[i].marks.extend(marks);
    }
}

/// Does `older.by` name the sender recorded in `newer`?
fn link_mark(newer: &Received, older: &Received) -> Option<Mark> {
    if !newer.parsed || newer.local {
        return None;
    }
    let by = older.by.as_deref()?;
    let names: Vec<&str> = [newer.from_helo.as_deref(), newer.from_rdns.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    if names.is_empty() && newer.from_ip.is_none() {
        return None;
    }
    if names.iter().any(|n| same_host(n, by)) {
        return Some(Mark::LinkOk);
    }
    if let (Some(a), Some(b)) = (newer.from_ip, older.by_ip)
        && a == b
    {
        return Some(Mark::LinkOk);
    }
    if parse_ip(by).is_some() && parse_ip(by) == newer.from_ip {
        return Some(Mark::LinkOk);
    }
    if crate::names::is_localhost(by) && newer.from_ip.is_some_and(|ip| ip.is_loopback()) {
        return Some(Mark::LinkOk);
    }
    let sender = describe_sender(newer);
    let by_l = by.to_ascii_lowercase();
    let short = |n: &str| {
        n.to_ascii_lowercase()
            .split('.')
            .next()
            .map(|s| s == by_l || by_l.split('.').next() == Some(s))
            .unwrap_or(false)
    };
    if names.iter().any(|n| short(n)) {
        return Some(Mark::LinkWeak {
            detail: format!("by {by}; the hop above names {sender}"),
        });
    }
    if by.contains('.')
        && names
            .iter()
            .any(|n| n.contains('.') && organisational_domain(n) == organisational_domain(by))
    {
        return Some(Mark::LinkWeak {
            detail: format!("by {by}; the hop above names {sender} (same domain)"),
        });
    }
    Some(Mark::LinkMismatch {
        detail: format!("by {by}, but the hop above says it came from {sender}"),
    })
}

fn describe_sender(r: &Received) -> String {
    let mut parts = Vec::new();
    if let Some(h) = &r.from_helo {
        parts.push(h.clone());
    }
    if let Some(d) = &r.from_rdns
        && r.from_helo.as_deref().is_none_or(|h| !same_host(h, d))
    {
        parts.push(d.clone());
    }
    if let Some(ip) = r.from_ip {
        parts.push(format!("[{ip}]"));
    }
    if parts.is_empty() {
        "an unnamed host".into()
    } else {
        parts.join(" ")
    }
}

/// One sentence saying why `hops[o]` is the origin.
pub fn origin_reason(hops: &[Hop], o: usize) -> String {
    let hop = &hops[o];
    let r = &hop.received;
    let ip = r.from_ip.map(|i| i.to_string()).unwrap_or_default();
    let by = r.by.as_deref().unwrap_or("an unnamed host");
    let mut s = if hop.synthetic.is_some() {
        format!(
            "every Received hop came from a trusted relay, so the client address in {} ({ip}) is the origin",
            hop.synthetic.as_deref().unwrap_or("")
        )
    } else if r.auth.is_some() && hop.trusted {
        format!("{ip} authenticated to our submission host {by}")
    } else {
        format!(
            "hop {} is the first whose sender is not trusted: {ip} handed the message to {by}",
            o + 1
        )
    };
    let trusted: Vec<String> = hops[..o]
        .iter()
        .filter(|h| h.role == Role::Trusted)
        .filter_map(|h| {
            Some(format!(
                "{} ({})",
                h.received.from_ip?,
                h.trust_reason.as_deref().unwrap_or("")
            ))
        })
        .collect();
    if !trusted.is_empty() {
        s.push_str("; hops above it came from trusted relays: ");
        s.push_str(&trusted.join(", "));
    } else if o == 0 {
        s.push_str("; it is the newest hop, written by the host that stored the message");
    }
    s
}
