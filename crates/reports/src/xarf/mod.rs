//! X-ARF: v4 (snake_case JSON), the abusix v3 family (PascalCase JSON) and the legacy
//! 0.1/0.2 mail format (a YAML `report.txt` part). JSON reports are validated against the
//! embedded schemas; an invalid report is still mapped, with its problems listed.
mod embedded;
mod schema;

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use mail_parser::Encoding;
use serde_json::{Map, Value};

use crate::evidence::{self, Found, Origin};
use crate::mime;
use crate::model::{
    EvidenceSource, Problem, ReportKind, Reporter, XarfGeneration, XarfInfo, XarfTransport,
};
use crate::text;

pub(crate) use schema::warm_up;

/// Evidence items decoded per report.
const MAX_EVIDENCE: usize = 50;

pub(crate) struct Parsed {
    pub info: XarfInfo,
    pub problems: Vec<Problem>,
    pub kind: ReportKind,
    pub reporter: Reporter,
    pub source_ip: Option<IpAddr>,
    pub source_port: Option<u16>,
    pub event_time: Option<DateTime<Utc>>,
    pub report_id: Option<String>,
    pub urls: Vec<String>,
    pub domains: Vec<String>,
    pub evidence: Vec<Found>,
    /// Human-readable text carried in the report (v4 `description`, v3 `ReporterNotes`).
    pub text: Option<String>,
}

/// Does this JSON value look like an X-ARF report of either JSON generation?
pub(crate) fn looks_like_xarf(value: &Value) -> bool {
    value.as_object().is_some_and(|o| {
        o.contains_key("xarf_version")
            || (o.contains_key("Report")
                && (o.contains_key("ReporterInfo") || o.contains_key("Version")))
    })
}

/// Does this mapping look like a legacy X-ARF 0.x report?
pub(crate) fn looks_like_legacy(value: &Value) -> bool {
    value.as_object().is_some_and(|o| {
        ["reported-from", "report-type", "source-type"]
            .iter()
            .any(|k| o.keys().any(|key| key.eq_ignore_ascii_case(k)))
    })
}

fn generation_of(o: &Map<String, Value>) -> XarfGeneration {
    if o.contains_key("xarf_version") {
        XarfGeneration::V4
    } else if ["Version", "ReporterInfo", "Report"]
        .iter()
        .any(|k| o.contains_key(*k))
    {
        XarfGeneration::V3
    } else {
        XarfGeneration::V4
    }
}

/// Map and validate a JSON X-ARF report (an object).
pub(crate) fn from_json(value: &Value, transport: XarfTransport) -> Parsed {
    let empty = Map::new();
    let o = value.as_object().unwrap_or(&empty);
    match generation_of(o) {
        XarfGeneration::V3 => v3(value, o, transport),
        _ => v4(value, o, transport),
    }
}

fn string(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => {
            let s = s.trim();
            (!s.is_empty()).then(|| s.to_owned())
        }
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn port(v: Option<&Value>) -> Option<u16> {
    match v? {
        Value::Number(n) => n.as_u64().and_then(|p| u16::try_from(p).ok()),
        Value::String(s) => s.trim().split([',', ' ']).next()?.parse().ok(),
        _ => None,
    }
    .filter(|p| *p != 0)
}

/// Put a source identifier where it belongs: IP, URL or domain.
fn place_source(
    source: &str,
    ip: &mut Option<IpAddr>,
    urls: &mut Vec<String>,
    domains: &mut Vec<String>,
) {
    let s = source.trim().trim_start_matches('[').trim_end_matches(']');
    if let Ok(addr) = s.parse::<IpAddr>() {
        ip.get_or_insert(addr);
    } else if s.contains("://") {
        text::find_urls(s, urls);
    } else if let Some(d) = text::normalise_domain(s) {
        text::push_unique(domains, d);
    }
}

fn add_url(value: Option<&Value>, urls: &mut Vec<String>, domains: &mut Vec<String>) {
    if let Some(u) = string(value) {
        if u.contains("://") {
            text::find_urls(&u, urls);
        } else if let Some(d) = text::normalise_domain(&u) {
            text::push_unique(domains, d);
        }
    }
}

/// Decode a mail sample into evidence when its content type is a mail message.
fn sample(
    content_type: Option<String>,
    payload: &str,
    base64: bool,
    description: Option<String>,
) -> Option<Found> {
    let ct = content_type.unwrap_or_default().to_ascii_lowercase();
    let headers_only = match ct.split(';').next().unwrap_or("").trim() {
        "message/rfc822" | "message/global" | "text/email" => false,
        "text/rfc822-headers" => true,
        _ => return None,
    };
    let bytes = if base64 {
        mime::transfer_decode(payload.as_bytes(), Encoding::Base64).into_owned()
    } else {
        payload.as_bytes().to_vec()
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    let origin = Origin {
        content_type: Some(ct),
        filename: description,
        headers_only,
        ..Origin::new(EvidenceSource::XarfEvidence)
    };
    Some(evidence::build(origin, bytes))
}

fn v4(value: &Value, o: &Map<String, Value>, transport: XarfTransport) -> Parsed {
    let problems = schema::validate_v4(value);
    let category = string(o.get("category"));
    let report_type = string(o.get("type"));
    let kind = text::kind_from_category(category.as_deref(), report_type.as_deref());

    let contact = |key: &str| o.get(key).and_then(Value::as_object);
    let who = contact("reporter").or_else(|| contact("sender"));
    let reporter = Reporter {
        address: who.and_then(|c| string(c.get("contact"))),
        name: None,
        organisation: who.and_then(|c| string(c.get("org"))),
        domain: who.and_then(|c| string(c.get("domain"))),
    };

    let mut source_ip = None;
    let mut urls = Vec::new();
    let mut domains = Vec::new();
    let source = string(o.get("source_identifier"));
    if let Some(s) = &source {
        place_source(s, &mut source_ip, &mut urls, &mut domains);
    }
    add_url(o.get("url"), &mut urls, &mut domains);
    add_url(o.get("domain"), &mut urls, &mut domains);

    let mut found = Vec::new();
    if let Some(items) = o.get("evidence").and_then(Value::as_array) {
        for item in items.iter().take(MAX_EVIDENCE) {
            let Some(item) = item.as_object() else {
                continue;
            };
            if let Some(payload) = item.get("payload").and_then(Value::as_str)
                && let Some(f) = sample(
                    string(item.get("content_type")),
                    payload,
                    true,
                    string(item.get("description")),
                )
            {
                found.push(f);
            }
        }
    }

    let tags = o
        .get("tags")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|t| string(Some(t))).take(100).collect())
        .unwrap_or_default();

    Parsed {
        info: XarfInfo {
            generation: XarfGeneration::V4,
            version: string(o.get("xarf_version")),
            transport,
            valid: problems.is_empty(),
            category,
            report_type,
            report_sub_type: None,
            evidence_source: string(o.get("evidence_source")),
            source,
            tags,
        },
        problems,
        kind,
        reporter,
        source_ip,
        source_port: port(o.get("source_port")),
        event_time: string(o.get("timestamp")).and_then(|t| mime::parse_any_date(&t)),
        report_id: string(o.get("report_id")),
        urls,
        domains,
        evidence: found,
        text: string(o.get("description")),
    }
}

fn v3(value: &Value, o: &Map<String, Value>, transport: XarfTransport) -> Parsed {
    let problems = schema::validate_v3(value);
    let empty = Map::new();
    let report = o.get("Report").and_then(Value::as_object).unwrap_or(&empty);
    let info = o
        .get("ReporterInfo")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let category = string(report.get("ReportClass"));
    let report_type = string(report.get("ReportType"));
    let kind = text::kind_from_category(category.as_deref(), report_type.as_deref());

    let reporter = Reporter {
        address: string(info.get("ReporterContactEmail"))
            .or_else(|| string(info.get("ReporterOrgEmail"))),
        name: string(info.get("ReporterContactName")),
        organisation: string(info.get("ReporterOrg")),
        domain: string(info.get("ReporterOrgDomain")),
    };

    let mut source_ip = None;
    let mut urls = Vec::new();
    let mut domains = Vec::new();
    let source = string(report.get("SourceIp"))
        .or_else(|| string(report.get("SourceUrl")))
        .or_else(|| string(report.get("RpzDomain")));
    if let Some(ip) = string(report.get("SourceIp")) {
        place_source(&ip, &mut source_ip, &mut urls, &mut domains);
    }
    add_url(report.get("SourceUrl"), &mut urls, &mut domains);
    add_url(report.get("RpzDomain"), &mut urls, &mut domains);

    let mut found = Vec::new();
    if let Some(items) = report.get("Samples").and_then(Value::as_array) {
        for item in items.iter().take(MAX_EVIDENCE) {
            let Some(item) = item.as_object() else {
                continue;
            };
            if let Some(payload) = item.get("Payload").and_then(Value::as_str)
                && let Some(f) = sample(
                    string(item.get("ContentType")),
                    payload,
                    item.get("Base64Encoded")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                    string(item.get("Description")),
                )
            {
                found.push(f);
            }
        }
    }

    let event_time = string(report.get("Date"))
        .or_else(|| string(report.get("FirstSeen")))
        .and_then(|t| mime::parse_any_date(&t));

    Parsed {
        info: XarfInfo {
            generation: XarfGeneration::V3,
            version: string(o.get("Version")),
            transport,
            valid: problems.is_empty(),
            category,
            report_type,
            report_sub_type: string(report.get("ReportSubType")),
            evidence_source: None,
            source,
            tags: Vec::new(),
        },
        problems,
        kind,
        reporter,
        source_ip,
        source_port: port(report.get("SourcePort")),
        event_time,
        report_id: string(report.get("ReporterCaseID")),
        urls,
        domains,
        evidence: found,
        text: string(report.get("ReporterNotes")),
    }
}

/// Fields every X-ARF 0.1/0.2 report carries (the x-arf.org schemas that would check them
/// further are not available offline).
const LEGACY_REQUIRED: &[&str] = &[
    "Reported-From",
    "Category",
    "Report-Type",
    "Report-ID",
    "Date",
    "Source",
    "Source-Type",
    "Attachment",
    "User-Agent",
    "Schema-URL",
];

/// Parse the report part of an X-ARF 0.x mail: JSON, else YAML, else `Key: value` lines.
pub(crate) fn parse_report_part(text: &str) -> Option<Parsed> {
    let trimmed = text.trim_start_matches('\u{feff}').trim();
    if trimmed.starts_with('{')
        && let Ok(v) = serde_json::from_str::<Value>(trimmed)
    {
        if looks_like_xarf(&v) {
            return Some(from_json(&v, XarfTransport::MailJson));
        }
        if looks_like_legacy(&v) {
            return Some(legacy(&v));
        }
    }
    if let Ok(v) = serde_norway::from_str::<Value>(trimmed) {
        if looks_like_xarf(&v) {
            return Some(from_json(&v, XarfTransport::MailYaml));
        }
        if looks_like_legacy(&v) {
            return Some(legacy(&v));
        }
    }
    let v = key_value_lines(trimmed);
    looks_like_legacy(&v).then(|| legacy(&v))
}

/// `Key: value` lines (for reports that are not valid YAML, e.g. an unquoted `@`).
fn key_value_lines(text: &str) -> Value {
    let mut map = Map::new();
    for line in text.lines().take(1000) {
        if let Some((k, v)) = line.split_once(':') {
            let k = k.trim();
            if !k.is_empty() && !k.contains(' ') && !map.contains_key(k) {
                let v = v.trim().trim_matches(|c| c == '\'' || c == '"');
                map.insert(k.to_owned(), Value::String(v.to_owned()));
            }
        }
    }
    Value::Object(map)
}

fn legacy(value: &Value) -> Parsed {
    let empty = Map::new();
    let o = value.as_object().unwrap_or(&empty);
    let get = |key: &str| {
        o.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .and_then(|(_, v)| string(Some(v)))
    };
    let mut problems = Vec::new();
    for key in LEGACY_REQUIRED {
        if get(key).is_none() {
            problems.push(Problem {
                location: format!("/{key}"),
                schema_path: None,
                message: format!("required X-ARF 0.2 field {key} is missing"),
            });
        }
    }
    let category = get("Category");
    let report_type = get("Report-Type");
    let kind = text::kind_from_category(category.as_deref(), report_type.as_deref());
    let mut source_ip = None;
    let mut urls = Vec::new();
    let mut domains = Vec::new();
    let source = get("Source");
    if let Some(s) = &source {
        place_source(s, &mut source_ip, &mut urls, &mut domains);
    }
    let event_time = get("Date").and_then(|d| mime::parse_any_date(&d));
    if get("Date").is_some() && event_time.is_none() {
        problems.push(Problem {
            location: "/Date".to_owned(),
            schema_path: None,
            message: format!("Date {:?} is not a date", get("Date").unwrap_or_default()),
        });
    }
    Parsed {
        info: XarfInfo {
            generation: XarfGeneration::Legacy,
            version: get("Version"),
            transport: XarfTransport::MailYaml,
            valid: problems.is_empty(),
            category,
            report_type,
            report_sub_type: None,
            evidence_source: None,
            source,
            tags: Vec::new(),
        },
        problems,
        kind,
        reporter: Reporter {
            address: get("Reported-From"),
            ..Reporter::default()
        },
        source_ip,
        source_port: o
            .iter()
            // `Port` is the attacked service's port, not the source's.
            .find(|(k, _)| k.eq_ignore_ascii_case("Source-Port"))
            .and_then(|(_, v)| port(Some(v))),
        event_time,
        report_id: get("Report-ID"),
        urls,
        domains,
        evidence: Vec::new(),
        text: None,
    }
}
