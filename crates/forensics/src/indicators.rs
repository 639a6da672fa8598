//! Named observations about a message, each with the evidence that triggered it.
//! The table in `docs/forensics.md` lists every name with its meaning.

use crate::bounce::{Bounce, BounceKind};
use crate::chain::{Hop, Mark, Origin, Role};
use crate::classify::{EnvelopeClass, EnvelopeFrom, HeloClass};
use crate::message::Headers;
use crate::names::{dynamic_rdns_reason, same_address};
use chrono::{DateTime, FixedOffset};
use serde::Serialize;

/// The indicator names. Serialised in snake_case; the set is closed so downstream code
/// (case grouping, the statistics report) can match on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IndicatorName {
    NoReceived,
    NoOrigin,
    UnparsedReceived,
    NullReturnPath,
    EmptyFrom,
    UndisclosedRecipients,
    FromIsRecipient,
    EnvelopeFromRecipientDomain,
    DynamicRdns,
    NoRdns,
    BareHeloDynamicRdns,
    HeloIsOurServer,
    HeloOtherIp,
    HeloNamesMailDomain,
    RdnsMayBeForged,
    Bounce,
    DateSkew,
    MissingDate,
    MissingMessageId,
    BrokenChain,
    TimeReversed,
    ForgedReceived,
    OriginatingIp,
    AuthenticatedSender,
    ExecutableAttachment,
    EmptyBody,
    WormPattern,
}

impl IndicatorName {
    /// Every indicator name.
    pub const ALL: [IndicatorName; 27] = [
        IndicatorName::NoReceived,
        IndicatorName::NoOrigin,
        IndicatorName::UnparsedReceived,
        IndicatorName::NullReturnPath,
        IndicatorName::EmptyFrom,
        IndicatorName::UndisclosedRecipients,
        IndicatorName::FromIsRecipient,
        IndicatorName::EnvelopeFromRecipientDomain,
        IndicatorName::DynamicRdns,
        IndicatorName::NoRdns,
        IndicatorName::BareHeloDynamicRdns,
        IndicatorName::HeloIsOurServer,
        IndicatorName::HeloOtherIp,
        IndicatorName::HeloNamesMailDomain,
        IndicatorName::RdnsMayBeForged,
        IndicatorName::Bounce,
        IndicatorName::DateSkew,
        IndicatorName::MissingDate,
        IndicatorName::MissingMessageId,
        IndicatorName::BrokenChain,
        IndicatorName::TimeReversed,
        IndicatorName::ForgedReceived,
        IndicatorName::OriginatingIp,
        IndicatorName::AuthenticatedSender,
        IndicatorName::ExecutableAttachment,
        IndicatorName::EmptyBody,
        IndicatorName::WormPattern,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IndicatorName::NoReceived => "no_received",
            IndicatorName::NoOrigin => "no_origin",
            IndicatorName::UnparsedReceived => "unparsed_received",
            IndicatorName::NullReturnPath => "null_return_path",
            IndicatorName::EmptyFrom => "empty_from",
            IndicatorName::UndisclosedRecipients => "undisclosed_recipients",
            IndicatorName::FromIsRecipient => "from_is_recipient",
            IndicatorName::EnvelopeFromRecipientDomain => "envelope_from_recipient_domain",
            IndicatorName::DynamicRdns => "dynamic_rdns",
            IndicatorName::NoRdns => "no_rdns",
            IndicatorName::BareHeloDynamicRdns => "bare_helo_dynamic_rdns",
            IndicatorName::HeloIsOurServer => "helo_is_our_server",
            IndicatorName::HeloOtherIp => "helo_other_ip",
            IndicatorName::HeloNamesMailDomain => "helo_names_mail_domain",
            IndicatorName::RdnsMayBeForged => "rdns_may_be_forged",
            IndicatorName::Bounce => "bounce",
            IndicatorName::DateSkew => "date_skew",
            IndicatorName::MissingDate => "missing_date",
            IndicatorName::MissingMessageId => "missing_message_id",
            IndicatorName::BrokenChain => "broken_chain",
            IndicatorName::TimeReversed => "time_reversed",
            IndicatorName::ForgedReceived => "forged_received",
            IndicatorName::OriginatingIp => "originating_ip",
            IndicatorName::AuthenticatedSender => "authenticated_sender",
            IndicatorName::ExecutableAttachment => "executable_attachment",
            IndicatorName::EmptyBody => "empty_body",
            IndicatorName::WormPattern => "worm_pattern",
        }
    }
}

/// One observation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Indicator {
    pub name: IndicatorName,
    pub evidence: String,
}

/// What the indicators look at.
pub struct Inputs<'a> {
    pub headers: &'a Headers,
    pub hops: &'a [Hop],
    pub origin: Option<&'a Origin>,
    pub envelope: &'a EnvelopeFrom,
    pub header_from: Option<&'a str>,
    pub recipients: &'a [String],
    pub body: &'a [u8],
    pub bounce: Option<&'a Bounce>,
    pub date_skew_seconds: i64,
}

pub fn collect(x: &Inputs<'_>) -> Vec<Indicator> {
    let mut out = Vec::new();
    let mut add = |name: IndicatorName, evidence: String| out.push(Indicator { name, evidence });
    let h = x.headers;

    if x.hops.iter().all(|hop| hop.synthetic.is_some()) {
        add(
            IndicatorName::NoReceived,
            "the message has no Received: field".into(),
        );
    } else if x.origin.is_none() {
        add(IndicatorName::NoOrigin, "no hop came from an untrusted sender: the message did not enter from outside the trusted relays, or their lines could not be read".into());
    }
    let unparsed: Vec<(usize, &Hop)> = x
        .hops
        .iter()
        .enumerate()
        .filter(|(_, hop)| !hop.received.parsed)
        .collect();
    if let Some((i, first)) = unparsed.first() {
        add(
            IndicatorName::UnparsedReceived,
            format!(
                "{} Received line(s) not understood; first is hop {}: {}",
                unparsed.len(),
                i + 1,
                clip(&first.raw, 120)
            ),
        );
    }

    // Envelope and header addresses.
    if x.envelope.class == EnvelopeClass::Null {
        let src = h
            .return_path
            .first()
            .map(|r| format!("Return-Path: {r}"))
            .unwrap_or_else(|| "null envelope sender".into());
        add(IndicatorName::NullReturnPath, src);
    }
    let from_empty = h.from.iter().all(|m| m.address.is_none());
    if from_empty {
        add(
            IndicatorName::EmptyFrom,
            if h.has_from {
                "the From field names no address".into()
            } else {
                "the message has no From field".into()
            },
        );
    }
    if let Some(g) = h.empty_groups.first() {
        add(
            IndicatorName::UndisclosedRecipients,
            format!("To/Cc is the empty group `{g}: ;`"),
        );
    } else if h.to.is_empty() && h.cc.is_empty() {
        add(
            IndicatorName::UndisclosedRecipients,
            "no To or Cc recipients: the recipients were in the envelope only (Bcc)".into(),
        );
    }
    // Mail "from yourself" matters only when it came from outside and the sender did not
    // log in (a customer writing to themselves, or a cron job, is normal).
    let from_outside = x.origin.is_some_and(|o| o.authenticated.is_none());
    if from_outside
        && let Some(f) = x.header_from
        && let Some(r) = x.recipients.iter().find(|r| same_address(r, f))
    {
        add(
            IndicatorName::FromIsRecipient,
            format!(
                "From <{f}> is the recipient {r}: the sender's address is forged (mail \"from yourself\")"
            ),
        );
    }
    if from_outside && x.envelope.class == EnvelopeClass::RecipientDomain {
        add(
            IndicatorName::EnvelopeFromRecipientDomain,
            format!(
                "envelope sender <{}> uses the recipient's own domain",
                x.envelope.address.as_deref().unwrap_or("")
            ),
        );
    }

    // The origin.
    if let Some(o) = x.origin {
        let dynamic = o
            .rdns
            .as_deref()
            .and_then(|r| dynamic_rdns_reason(r, Some(o.ip)));
        if let (Some(rdns), Some(why)) = (o.rdns.as_deref(), dynamic.as_deref()) {
            add(
                IndicatorName::DynamicRdns,
                format!("origin rDNS {rdns} looks like a dynamic or dial-up pool ({why})"),
            );
        }
        let hop = &x.hops[o.hop];
        if o.rdns.is_none() && !o.synthetic {
            add(
                IndicatorName::NoRdns,
                if hop.received.rdns_unknown {
                    format!("{} has no reverse DNS (recorded as `unknown`)", o.ip)
                } else {
                    format!("no reverse DNS name recorded for {}", o.ip)
                },
            );
        }
        if o.helo_class == HeloClass::NoDot
            && (dynamic.is_some() || o.rdns.is_none())
            && o.authenticated.is_none()
        {
            add(
                IndicatorName::BareHeloDynamicRdns,
                format!(
                    "HELO `{}` is a bare name and the client is {} — typical of an infected PC, not a mail server",
                    o.helo.as_deref().unwrap_or(""),
                    o.rdns
                        .as_deref()
                        .map(|r| format!("on a dynamic address ({r})"))
                        .unwrap_or_else(|| "without reverse DNS".into())
                ),
            );
        }
        match o.helo_class {
            HeloClass::ServerIp | HeloClass::ServerName => add(
                IndicatorName::HeloIsOurServer,
                format!(
                    "HELO `{}` names the receiving server itself ({}): treat as spam",
                    o.helo.as_deref().unwrap_or(""),
                    o.helo_class
                ),
            ),
            HeloClass::OtherIp => add(
                IndicatorName::HeloOtherIp,
                format!(
                    "HELO `{}` is an address other than the client's {}",
                    o.helo.as_deref().unwrap_or(""),
                    o.ip
                ),
            ),
            HeloClass::EnvelopeFromDomain
            | HeloClass::HeaderFromDomain
            | HeloClass::RecipientDomain => add(
                IndicatorName::HeloNamesMailDomain,
                format!(
                    "HELO `{}` is a mail domain, not a host name ({})",
                    o.helo.as_deref().unwrap_or(""),
                    o.helo_class
                ),
            ),
            _ => {}
        }
        if hop.received.rdns_may_be_forged {
            add(
                IndicatorName::RdnsMayBeForged,
                format!(
                    "the receiving host noted that {}'s reverse DNS may be forged",
                    o.ip
                ),
            );
        }
        if let Some(who) = &o.authenticated {
            add(
                IndicatorName::AuthenticatedSender,
                if who.is_empty() {
                    format!(
                        "the client {} authenticated to {} ({})",
                        o.ip,
                        o.by.as_deref().unwrap_or("the server"),
                        proto(hop)
                    )
                } else {
                    format!(
                        "the client {} authenticated as {who} to {}",
                        o.ip,
                        o.by.as_deref().unwrap_or("the server")
                    )
                },
            );
        }
        match (h.date, o.date) {
            (Some(d), Some(t)) => {
                let skew = (d - t).num_seconds();
                if skew.abs() > x.date_skew_seconds {
                    add(
                        IndicatorName::DateSkew,
                        format!(
                            "Date {} is {} {} the time our host received it ({})",
                            d.to_rfc3339(),
                            human_duration(skew.abs()),
                            if skew < 0 { "before" } else { "after" },
                            t.to_rfc3339()
                        ),
                    );
                }
            }
            (None, _) if h.date_raw.is_some() => {}
            _ => {}
        }
    }
    if h.date.is_none() {
        add(
            IndicatorName::MissingDate,
            match &h.date_raw {
                Some(raw) => format!("the Date field `{}` cannot be read", clip(raw, 60)),
                None => "the message has no Date field".into(),
            },
        );
    }
    if h.message_id.is_none() {
        add(
            IndicatorName::MissingMessageId,
            "the message has no Message-ID".into(),
        );
    }

    // The chain.
    let limit = x
        .origin
        .map(|o| o.hop)
        .unwrap_or(x.hops.len().saturating_sub(1));
    let mut broken = Vec::new();
    let mut reversed = Vec::new();
    let mut forged = Vec::new();
    for (i, hop) in x.hops.iter().enumerate() {
        for m in &hop.marks {
            match m {
                Mark::LinkMismatch { detail } if i <= limit => {
                    broken.push(format!("hop {}: {detail}", i + 1))
                }
                Mark::TimeBackwards { seconds } => reversed.push(format!(
                    "hop {} is stamped {} after the newer hop above it",
                    i + 1,
                    human_duration(*seconds)
                )),
                Mark::OutOfPlace if hop.role != Role::Trusted => forged.push(format!(
                    "hop {} stands below the author's header fields",
                    i + 1
                )),
                Mark::ClaimsOurHost { detail } => forged.push(format!("hop {}: {detail}", i + 1)),
                _ => {}
            }
        }
    }
    if !broken.is_empty() {
        add(IndicatorName::BrokenChain, broken.join("; "));
    }
    if !reversed.is_empty() {
        add(IndicatorName::TimeReversed, reversed.join("; "));
    }
    if !forged.is_empty() {
        add(IndicatorName::ForgedReceived, forged.join("; "));
    }
    let originating: Vec<String> = x
        .hops
        .iter()
        .filter_map(|hop| {
            Some(format!(
                "{} {}",
                hop.synthetic.as_deref()?,
                hop.received.from_ip?
            ))
        })
        .collect();
    if !originating.is_empty() {
        add(
            IndicatorName::OriginatingIp,
            format!(
                "the web-mail client's address is recorded: {}",
                originating.join(", ")
            ),
        );
    }

    // The body.
    if let Some(b) = x.bounce {
        let what = match b.kind {
            BounceKind::Backscatter => "backscatter",
            BounceKind::Fake => "spam dressed as a bounce",
            BounceKind::Undetermined => "a bounce",
        };
        add(IndicatorName::Bounce, format!("{what}: {}", b.reason));
    }
    // Attachments exist only in multipart messages.
    let multipart = h
        .content_type
        .as_ref()
        .is_some_and(|(t, _)| t == "multipart");
    let exe = if multipart {
        crate::bounce::executable_attachments(x.body)
    } else {
        Vec::new()
    };
    if !exe.is_empty() {
        add(
            IndicatorName::ExecutableAttachment,
            format!("attachment(s) {}", exe.join(", ")),
        );
    }
    if x.body.iter().all(|b| b.is_ascii_whitespace()) {
        add(
            IndicatorName::EmptyBody,
            if x.body.is_empty() {
                "the message has no body".into()
            } else {
                "the body is blank".into()
            },
        );
    }

    // The mass-mailing worm of the forum thread: no return path, an anonymous header,
    // a bare HELO from a consumer line.
    let names: Vec<IndicatorName> = out.iter().map(|i| i.name).collect();
    let has = |n| names.contains(&n);
    let anonymous = has(IndicatorName::EmptyFrom) || has(IndicatorName::UndisclosedRecipients);
    let consumer = has(IndicatorName::BareHeloDynamicRdns)
        || (has(IndicatorName::DynamicRdns)
            && x.origin.is_some_and(|o| {
                matches!(
                    o.helo_class,
                    HeloClass::NoDot
                        | HeloClass::ClientIp
                        | HeloClass::OtherIp
                        | HeloClass::Localhost
                )
            }));
    if has(IndicatorName::NullReturnPath) && anonymous && consumer && !has(IndicatorName::Bounce) {
        let mut signs: Vec<&str> = vec!["null return path"];
        if has(IndicatorName::EmptyFrom) {
            signs.push("empty From");
        }
        if has(IndicatorName::UndisclosedRecipients) {
            signs.push("undisclosed recipients");
        }
        signs.push("bare-name HELO from a consumer address");
        if has(IndicatorName::ExecutableAttachment) {
            signs.push("executable attachment");
        }
        out.push(Indicator {
            name: IndicatorName::WormPattern,
            evidence: format!(
                "{}: the pattern of a mass-mailing worm (W32/Hybris, Nimda) on an infected customer PC, not a deliberate sender",
                signs.join(", ")
            ),
        });
    }
    out
}

fn proto(hop: &Hop) -> &str {
    hop.received
        .protocol
        .as_ref()
        .map(|p| p.as_str())
        .unwrap_or("authenticated")
}

fn clip(s: &str, max: usize) -> String {
    let one: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() <= max {
        one
    } else {
        let mut t: String = one.chars().take(max).collect();
        t.push('…');
        t
    }
}

/// `3 h 5 min`, `2 days 4 h`, `40 s`.
pub fn human_duration(secs: i64) -> String {
    let s = secs.abs();
    if s < 120 {
        format!("{s} s")
    } else if s < 3 * 3600 {
        format!("{} min", s / 60)
    } else if s < 3 * 86400 {
        format!("{} h {} min", s / 3600, (s % 3600) / 60)
    } else {
        format!("{} days {} h", s / 86400, (s % 86400) / 3600)
    }
}

/// The receive time to use when the origin hop has none: the nearest newer hop's date.
pub fn nearest_date(hops: &[Hop], from: usize) -> Option<DateTime<FixedOffset>> {
    hops.get(..=from.min(hops.len().saturating_sub(1)))?
        .iter()
        .rev()
        .find_map(|h| h.received.date)
}
