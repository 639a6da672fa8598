//! `trace`: everything the forensics say about one message.

use crate::bounce::{self, Bounce, BounceKind};
use crate::chain::{self, Hop, Origin, Role};
use crate::classify::{
    EnvelopeClass, EnvelopeFrom, EnvelopeSource, HeloContext, classify_envelope, classify_helo,
};
use crate::config::TraceConfig;
use crate::indicators::{self, Indicator, Inputs};
use crate::message::{Headers, parse_headers};
use crate::names::{address_domain, same_address, same_host};
use chrono::{DateTime, FixedOffset};
use serde::Serialize;

/// How deep bounces inside bounces are followed.
const MAX_BOUNCE_DEPTH: usize = 2;

/// The result of tracing one message. Serialises to the JSON documented in
/// `docs/trace-json.md` (the CLI adds `file`).
#[derive(Debug, Clone, Serialize)]
pub struct Trace {
    pub message_id: Option<String>,
    pub subject: Option<String>,
    /// The Date field.
    pub date: Option<DateTime<FixedOffset>>,
    pub origin: Option<Origin>,
    /// Newest first.
    pub hops: Vec<Hop>,
    pub envelope_from: EnvelopeFrom,
    /// The header From address.
    pub header_from: Option<String>,
    /// Envelope recipients (from trusted hops and delivery headers) and header To/Cc.
    pub recipients: Vec<String>,
    pub indicators: Vec<Indicator>,
    /// Set when the message is a bounce.
    pub bounce: Option<Bounce>,
    /// Size of the input in bytes.
    pub size: usize,
    /// Things about the input itself worth knowing (NUL bytes, no header section).
    pub problems: Vec<String>,
}

impl Trace {
    /// Whether an indicator with this name was raised.
    pub fn has(&self, name: indicators::IndicatorName) -> bool {
        self.indicators.iter().any(|i| i.name == name)
    }
}

/// Traces one message. `raw` may start with an mbox `From ` line. Never panics.
pub fn trace(raw: &[u8], cfg: &TraceConfig) -> Trace {
    trace_at_depth(raw, cfg, 0)
}

fn trace_at_depth(raw: &[u8], cfg: &TraceConfig, depth: usize) -> Trace {
    let mut h = parse_headers(raw);
    let mut hops = chain::build_hops(&mut h, &cfg.countries);
    let origin_idx = chain::walk(&mut hops, &cfg.trust);
    chain::mark(&mut hops, origin_idx, &h, &cfg.trust);

    let header_from = h.from.iter().find_map(|m| m.address.clone());
    let (recipients, envelope_count) = recipients(&h, &hops, origin_idx);
    // The domain classes compare with the envelope recipients when the message records
    // them (a list message's To is the list, not the recipient), else with To/Cc.
    let basis = if envelope_count > 0 {
        &recipients[..envelope_count]
    } else {
        &recipients[..]
    };
    let recipient_domains: Vec<String> = basis.iter().filter_map(|r| address_domain(r)).collect();
    let rd: Vec<&str> = recipient_domains.iter().map(String::as_str).collect();

    let (env_addr, env_source) = envelope_sender(&h, &hops, origin_idx);
    let envelope = classify_envelope(env_addr.as_deref(), env_source, header_from.as_deref(), &rd);

    let origin =
        origin_idx.map(|o| build_origin(&hops, o, cfg, &envelope, header_from.as_deref(), &rd));

    let body = raw.get(h.body_offset..).unwrap_or(&[]);
    let bounce = if bounce::looks_like_bounce(&h, envelope.class) {
        Some(analyse_bounce(raw, cfg, depth, &recipients))
    } else {
        None
    };

    let indicators = indicators::collect(&Inputs {
        headers: &h,
        hops: &hops,
        origin: origin.as_ref(),
        envelope: &envelope,
        header_from: header_from.as_deref(),
        recipients: &recipients,
        body,
        bounce: bounce.as_ref(),
        date_skew_seconds: cfg.date_skew_seconds,
    });

    Trace {
        message_id: h.message_id.clone(),
        subject: h.subject.clone(),
        date: h.date,
        origin,
        hops,
        envelope_from: envelope,
        header_from,
        recipients,
        indicators,
        bounce,
        size: raw.len(),
        problems: h.problems,
    }
}

fn build_origin(
    hops: &[Hop],
    o: usize,
    cfg: &TraceConfig,
    envelope: &EnvelopeFrom,
    header_from: Option<&str>,
    rd: &[&str],
) -> Origin {
    let hop = &hops[o];
    let r = &hop.received;
    let synthetic = hop.synthetic.is_some();
    // The receiving server: the origin hop's `by`, and what the hop above says about the
    // host that wrote it.
    let above = o
        .checked_sub(1)
        .map(|i| &hops[i])
        .filter(|h| h.synthetic.is_none());
    let mut server_ips = Vec::new();
    let mut server_names: Vec<&str> = Vec::new();
    if let Some(ip) = r.by_ip {
        server_ips.push(ip);
    }
    if let Some(b) = r.by.as_deref() {
        server_names.push(b);
    }
    if let Some(a) = above {
        if let Some(ip) = a.received.from_ip {
            server_ips.push(ip);
        }
        let linked = a
            .received
            .from_helo
            .as_deref()
            .into_iter()
            .chain(a.received.from_rdns.as_deref())
            .any(|n| r.by.as_deref().is_some_and(|b| same_host(b, n)));
        if linked || r.by.is_none() {
            server_names.extend(a.received.from_helo.as_deref());
            server_names.extend(a.received.from_rdns.as_deref());
        }
    }
    for net in &cfg.trust.trusted_networks {
        if net.prefix_len() == net.max_prefix_len() {
            server_ips.push(net.addr());
        }
    }
    server_names.extend(
        cfg.trust
            .our_hosts
            .iter()
            .filter(|h| !h.starts_with('.'))
            .map(String::as_str),
    );
    let env_domain = envelope.address.as_deref().and_then(address_domain);
    let from_domain = header_from.and_then(address_domain);
    let ctx = HeloContext {
        client_ip: r.from_ip,
        server_ips,
        server_names,
        envelope_from_domain: env_domain.as_deref(),
        header_from_domain: from_domain.as_deref(),
        recipient_domains: rd.to_vec(),
    };
    let helo_class = classify_helo(r.from_helo.as_deref(), &ctx);
    let date = if synthetic {
        indicators::nearest_date(hops, o)
    } else {
        r.date
    };
    let mut reason = chain::origin_reason(hops, o);
    let authenticated = r.auth.clone();
    if let Some(who) = &authenticated
        && r.by
            .as_deref()
            .is_some_and(|b| cfg.trust.is_submission_host(b))
    {
        reason = format!(
            "{} authenticated{} to our submission host {}",
            r.from_ip.map(|i| i.to_string()).unwrap_or_default(),
            if who.is_empty() {
                String::new()
            } else {
                format!(" as {who}")
            },
            r.by.as_deref().unwrap_or("")
        );
    }
    Origin {
        ip: r
            .from_ip
            .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)),
        port: r.from_port,
        helo: r.from_helo.clone(),
        rdns: r.from_rdns.clone(),
        by: if synthetic {
            above.and_then(|a| a.received.by.clone())
        } else {
            r.by.clone()
        },
        hop: o,
        date,
        country: hop.country.clone(),
        helo_class,
        authenticated,
        synthetic,
        reason,
    }
}

/// Envelope recipients recorded by trusted hops and delivery headers, then header To/Cc.
/// Returns the list and how many of its first entries are envelope recipients.
fn recipients(h: &Headers, hops: &[Hop], origin: Option<usize>) -> (Vec<String>, usize) {
    let mut out: Vec<String> = Vec::new();
    let push = |out: &mut Vec<String>, a: &str| {
        let a = crate::names::strip_angle(a);
        if a.contains('@') && !out.iter().any(|x| same_address(x, a)) {
            out.push(a.to_string());
        }
    };
    let limit = origin.unwrap_or(hops.len());
    for hop in hops.iter().take(limit + 1) {
        if let Some(f) = &hop.received.for_ {
            push(&mut out, f);
        }
    }
    h.envelope_to.iter().for_each(|a| push(&mut out, a));
    let envelope = out.len();
    for m in h.to.iter().chain(&h.cc) {
        if let Some(a) = &m.address {
            push(&mut out, a);
        }
    }
    (out, envelope)
}

/// The envelope sender: Return-Path (the delivering MTA's record), else what the origin
/// hop recorded, else X-Envelope-From, else the mbox `From ` line.
fn envelope_sender(
    h: &Headers,
    hops: &[Hop],
    origin: Option<usize>,
) -> (Option<String>, EnvelopeSource) {
    if let Some(rp) = h.return_path.first() {
        return (Some(rp.clone()), EnvelopeSource::ReturnPath);
    }
    if let Some(e) = origin.and_then(|o| {
        hops[..=o]
            .iter()
            .rev()
            .find_map(|x| x.received.envelope_from.clone())
    }) {
        return (Some(e), EnvelopeSource::Received);
    }
    if let Some(x) = &h.x_envelope_from {
        return (Some(x.clone()), EnvelopeSource::XEnvelopeFrom);
    }
    if let Some(m) = &h.mbox_from {
        return (Some(m.clone()), EnvelopeSource::MboxFromLine);
    }
    (None, EnvelopeSource::None)
}

fn analyse_bounce(raw: &[u8], cfg: &TraceConfig, depth: usize, recipients: &[String]) -> Bounce {
    let ex = bounce::extract(raw);
    let original = if depth < MAX_BOUNCE_DEPTH {
        ex.original
            .as_deref()
            .map(|o| Box::new(trace_at_depth(o, cfg, depth + 1)))
    } else {
        None
    };
    let structured = ex.has_delivery_status;
    let Some(orig) = &original else {
        let kind = if structured {
            BounceKind::Undetermined
        } else {
            BounceKind::Fake
        };
        let reason = if structured {
            "a delivery report without the bounced message".to_string()
        } else if ex.has_urls {
            "no delivery report and no bounced message, but links in the text: spam posing as a bounce".to_string()
        } else {
            "no delivery report and no bounced message".to_string()
        };
        return Bounce {
            kind,
            reason,
            original: None,
        };
    };
    let claimed_sender = orig
        .header_from
        .clone()
        .or_else(|| orig.envelope_from.address.clone().filter(|a| !a.is_empty()));
    let in_recipients_name = claimed_sender
        .as_deref()
        .is_some_and(|s| recipients.iter().any(|r| same_address(r, s)));
    let sent_from = orig
        .origin
        .as_ref()
        .map(|o| {
            format!(
                "{}{}",
                o.ip,
                o.country
                    .as_deref()
                    .map(|c| format!(" ({c})"))
                    .unwrap_or_default()
            )
        })
        .unwrap_or_else(|| "an unknown host".into());
    let what = if structured {
        "a delivery report"
    } else {
        "a bounce"
    };
    if in_recipients_name {
        let to = recipients.first().map(String::as_str).unwrap_or("");
        Bounce {
            kind: BounceKind::Backscatter,
            reason: format!(
                "{what} returning a message sent from {sent_from} in the name of {} — the recipient {to}: their address was forged",
                claimed_sender.as_deref().unwrap_or("")
            ),
            original,
        }
    } else if !structured && orig.hops.is_empty() && ex.has_urls {
        Bounce { kind: BounceKind::Fake, reason: "the \"bounced message\" never travelled (no Received lines) and the text carries links".into(), original }
    } else {
        Bounce {
            kind: BounceKind::Undetermined,
            reason: format!(
                "{what} returning a message from {} sent from {sent_from}",
                claimed_sender
                    .as_deref()
                    .map(|s| format!("<{s}>"))
                    .unwrap_or_else(|| "an unnamed sender".into())
            ),
            original,
        }
    }
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Trusted => "trusted",
            Role::Internal => "internal",
            Role::Origin => "origin",
            Role::Claimed => "claimed",
            Role::Unparsed => "unparsed",
        }
    }
}

impl EnvelopeClass {
    pub fn as_str(self) -> &'static str {
        match self {
            EnvelopeClass::Null => "null",
            EnvelopeClass::RecipientDomain => "recipient_domain",
            EnvelopeClass::Other => "other",
            EnvelopeClass::Missing => "missing",
        }
    }
}
