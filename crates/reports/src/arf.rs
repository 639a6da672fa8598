//! ARF: RFC 5965 feedback reports, RFC 6591 authentication-failure reports and RFC 6692
//! Source-Port. The `message/feedback-report` part is parsed by mail-auth
//! (`mail_auth::report::Feedback::parse_arf`); this module finds the parts, maps the result
//! and lists what the report lacks against the RFCs.
use std::net::IpAddr;

use chrono::{DateTime, Utc};
use mail_auth::report::{AuthFailureType, DeliveryResult, Feedback, FeedbackType};
use mail_parser::{Message, MimeHeaders};

use crate::evidence::{self, Found, Origin};
use crate::mime;
use crate::model::{ArfInfo, EvidenceSource, Problem, ReportKind};

pub(crate) struct Parsed {
    pub info: ArfInfo,
    pub problems: Vec<Problem>,
    /// `None` when the feedback type says nothing about the kind (`other`, unknown).
    pub kind: Option<ReportKind>,
    pub source_ip: Option<IpAddr>,
    pub source_port: Option<u16>,
    pub arrival_date: Option<DateTime<Utc>>,
    pub evidence: Vec<Found>,
}

/// Is this an ARF report? (a `message/feedback-report` part, or a `multipart/report` with
/// `report-type=feedback-report`)
pub(crate) fn detect(msg: &Message<'_>) -> bool {
    feedback_part(msg).is_some() || is_feedback_container(msg)
}

fn is_feedback_container(msg: &Message<'_>) -> bool {
    msg.root_part().content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case("multipart")
            && ct
                .subtype()
                .is_some_and(|s| s.eq_ignore_ascii_case("report"))
            && ct
                .attribute("report-type")
                .is_some_and(|t| t.eq_ignore_ascii_case("feedback-report"))
    })
}

fn feedback_part<'m>(msg: &'m Message<'_>) -> Option<&'m mail_parser::MessagePart<'m>> {
    msg.parts
        .iter()
        .find(|p| mime::mime_type(p) == "message/feedback-report")
}

pub(crate) fn parse(msg: &Message<'_>) -> Parsed {
    let mut problems = Vec::new();
    if !is_feedback_container(msg) {
        problems.push(problem(
            "Content-Type",
            "the report is not multipart/report with report-type=feedback-report (RFC 5965 section 2)",
        ));
    }

    let mut info = ArfInfo {
        incidents: 1,
        ..ArfInfo::default()
    };
    let mut kind = None;
    let mut source_ip = None;
    let mut source_port = None;
    let mut arrival_date = None;

    match feedback_part(msg) {
        None => problems.push(problem(
            "message/feedback-report",
            "no message/feedback-report part (RFC 5965 section 2 (c))",
        )),
        Some(part) => {
            let fields = mime::body_bytes(msg, part);
            let raw_type = raw_field(&fields, "Feedback-Type");
            match Feedback::parse_arf(&fields) {
                Some(fb) => {
                    kind = kind_of(fb.feedback_type());
                    map_feedback(&fb, &mut info);
                    info.feedback_type = Some(feedback_type_name(fb.feedback_type()).to_owned());
                    source_ip = fb.source_ip();
                    source_port = u16::try_from(fb.source_port()).ok().filter(|p| *p != 0);
                    arrival_date = fb
                        .arrival_date()
                        .and_then(|t| DateTime::from_timestamp(t, 0));
                    check_required(&fields, &fb, &mut problems);
                }
                None => {
                    info.feedback_type = raw_type.clone();
                    problems.push(problem(
                        "Feedback-Type",
                        &match raw_type {
                            Some(t) => format!(
                                "unknown Feedback-Type {t:?} (RFC 5965 section 7.3 registers abuse, fraud, other, virus; RFC 6591 auth-failure; RFC 6650 not-spam)"
                            ),
                            None => "the feedback report has no Feedback-Type field (RFC 5965 section 3.1)".to_owned(),
                        },
                    ));
                    info.user_agent = raw_field(&fields, "User-Agent");
                    info.version = raw_field(&fields, "Version").and_then(|v| v.parse().ok());
                    source_ip = raw_field(&fields, "Source-IP")
                        .and_then(|v| v.split_whitespace().next().and_then(|ip| ip.parse().ok()));
                }
            }
        }
    }

    let mut found = Vec::new();
    for part in &msg.parts {
        if found.len() >= crate::MAX_EVIDENCE {
            break;
        }
        let mt = mime::mime_type(part);
        let (source, bytes, headers_only) = match mt.as_str() {
            "message/rfc822" | "message/global" => match mime::nested_message_bytes(part) {
                Some(b) => (EvidenceSource::ArfMessage, b.into_owned(), false),
                None => continue,
            },
            "text/rfc822-headers" | "message/rfc822-headers" => (
                EvidenceSource::ArfHeaders,
                mime::body_bytes(msg, part).into_owned(),
                true,
            ),
            _ => continue,
        };
        if bytes.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let origin = Origin {
            content_type: Some(mt),
            filename: mime::filename(part),
            headers_only,
            ..Origin::new(source)
        };
        found.push(evidence::build(origin, bytes));
    }
    if found.is_empty() {
        problems.push(problem(
            "message/rfc822",
            "no message/rfc822 or text/rfc822-headers part with the reported message (RFC 5965 section 2 (d))",
        ));
    }

    Parsed {
        info,
        problems,
        kind,
        source_ip,
        source_port,
        arrival_date,
        evidence: found,
    }
}

fn problem(location: &str, message: &str) -> Problem {
    Problem {
        location: location.to_owned(),
        schema_path: None,
        message: message.to_owned(),
    }
}

/// RFC 5965 section 3.1: Feedback-Type, User-Agent and Version are required once; Version
/// is 1. RFC 6591 section 3.1: auth-failure reports need Auth-Failure.
fn check_required(fields: &[u8], fb: &Feedback<'_>, problems: &mut Vec<Problem>) {
    if fb.user_agent().is_none() {
        problems.push(problem(
            "User-Agent",
            "required field User-Agent is missing (RFC 5965 section 3.1)",
        ));
    }
    match raw_field(fields, "Version") {
        None => problems.push(problem(
            "Version",
            "required field Version is missing (RFC 5965 section 3.1)",
        )),
        Some(v) if v != "1" => problems.push(problem(
            "Version",
            &format!("Version is {v:?}; RFC 5965 defines version 1"),
        )),
        Some(_) => {}
    }
    if fb.feedback_type() == FeedbackType::AuthFailure
        && fb.auth_failure() == AuthFailureType::Unspecified
    {
        problems.push(problem(
            "Auth-Failure",
            "auth-failure report without a known Auth-Failure field (RFC 6591 section 3.1)",
        ));
    }
}

/// The first value of a field in a feedback-report part, unfolded.
fn raw_field(fields: &[u8], name: &str) -> Option<String> {
    let text = String::from_utf8_lossy(fields);
    let mut value: Option<String> = None;
    for line in text.lines() {
        if let Some(v) = value.as_mut() {
            if line.starts_with([' ', '\t']) {
                v.push(' ');
                v.push_str(line.trim());
                continue;
            }
            break;
        }
        if let Some((n, v)) = line.split_once(':')
            && n.trim().eq_ignore_ascii_case(name)
        {
            value = Some(v.trim().to_owned());
        }
    }
    value.filter(|v| !v.is_empty())
}

fn kind_of(t: FeedbackType) -> Option<ReportKind> {
    match t {
        FeedbackType::Abuse => Some(ReportKind::Spam),
        FeedbackType::Fraud => Some(ReportKind::Phishing),
        FeedbackType::Virus => Some(ReportKind::Virus),
        FeedbackType::AuthFailure | FeedbackType::NotSpam => Some(ReportKind::Other),
        FeedbackType::Other => None,
    }
}

fn feedback_type_name(t: FeedbackType) -> &'static str {
    match t {
        FeedbackType::Abuse => "abuse",
        FeedbackType::AuthFailure => "auth-failure",
        FeedbackType::Fraud => "fraud",
        FeedbackType::NotSpam => "not-spam",
        FeedbackType::Other => "other",
        FeedbackType::Virus => "virus",
    }
}

fn map_feedback(fb: &Feedback<'_>, info: &mut ArfInfo) {
    let owned = |s: Option<&str>| s.map(str::to_owned);
    info.user_agent = owned(fb.user_agent());
    info.version = Some(fb.version());
    info.reporting_mta = owned(fb.reporting_mta());
    info.original_envelope_id = owned(fb.original_envelope_id());
    info.original_mail_from = owned(fb.original_mail_from());
    info.original_rcpt_to = owned(fb.original_rcpt_to());
    info.incidents = fb.incidents();
    info.reported_domains = fb.reported_domain().iter().map(|s| s.to_string()).collect();
    info.reported_uris = fb.reported_uri().iter().map(|s| s.to_string()).collect();
    info.authentication_results = fb
        .authentication_results()
        .iter()
        .map(|s| s.to_string())
        .collect();
    info.auth_failure = match fb.auth_failure() {
        AuthFailureType::Adsp => Some("adsp"),
        AuthFailureType::BodyHash => Some("bodyhash"),
        AuthFailureType::Revoked => Some("revoked"),
        AuthFailureType::Signature => Some("signature"),
        AuthFailureType::Spf => Some("spf"),
        AuthFailureType::Dmarc => Some("dmarc"),
        AuthFailureType::Unspecified => None,
    }
    .map(str::to_owned);
    info.delivery_result = match fb.delivery_result() {
        DeliveryResult::Delivered => Some("delivered"),
        DeliveryResult::Spam => Some("spam"),
        DeliveryResult::Policy => Some("policy"),
        DeliveryResult::Reject => Some("reject"),
        DeliveryResult::Other => Some("other"),
        DeliveryResult::Unspecified => None,
    }
    .map(str::to_owned);
    info.dkim_domain = owned(fb.dkim_domain());
    info.dkim_identity = owned(fb.dkim_identity());
    info.dkim_selector = owned(fb.dkim_selector());
}
