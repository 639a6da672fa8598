//! The parsed report: what a complaint says, in one shape for every format.
//!
//! Everything here is plain data (serde, snake_case). The raw report is never part of it:
//! the desk keeps the raw bytes beside this value (see ARCHITECTURE.md invariants).
use std::fmt;
use std::net::IpAddr;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// How the complaint was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportFormat {
    /// Abuse Reporting Format (RFC 5965, RFC 6591 auth-failure, RFC 6692 Source-Port).
    Arf,
    /// X-ARF v4 (JSON), v3 (PascalCase JSON) or the legacy 0.x mail format (YAML part).
    Xarf,
    /// A complaint carrying the offending message (or its header) as a MIME attachment.
    Forwarded,
    /// A complaint with the offending message's header block pasted into its text.
    PastedHeaders,
    /// A SpamCop report.
    Spamcop,
    /// A complaint with no machine-readable evidence.
    Plain,
}

impl ReportFormat {
    /// The serialised name (`arf`, `xarf`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ReportFormat::Arf => "arf",
            ReportFormat::Xarf => "xarf",
            ReportFormat::Forwarded => "forwarded",
            ReportFormat::PastedHeaders => "pasted_headers",
            ReportFormat::Spamcop => "spamcop",
            ReportFormat::Plain => "plain",
        }
    }
}

impl fmt::Display for ReportFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the complaint is about. Cases group reports by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportKind {
    /// Unsolicited mail (ARF `abuse`, X-ARF messaging, 迷惑メール).
    Spam,
    /// Malware: infected hosts, bots, malware distribution (ARF `virus`, ウイルス).
    Virus,
    /// Phishing and fraud (ARF `fraud`, フィッシング).
    Phishing,
    /// Intrusion, login attacks, compromised hosts or accounts (不正アクセス).
    UnauthorizedAccess,
    /// A request to remove content: copyright, trademark, illegal content (送信防止措置).
    Takedown,
    /// A request to disclose who sent or published something (発信者情報開示).
    Disclosure,
    /// Anything else (scans, DDoS, open services, auth-failure reports, unclear text).
    Other,
}

impl ReportKind {
    /// The serialised name (`spam`, `unauthorized_access`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ReportKind::Spam => "spam",
            ReportKind::Virus => "virus",
            ReportKind::Phishing => "phishing",
            ReportKind::UnauthorizedAccess => "unauthorized_access",
            ReportKind::Takedown => "takedown",
            ReportKind::Disclosure => "disclosure",
            ReportKind::Other => "other",
        }
    }

    /// Kinds whose evidence is normally a mail message, so full headers are needed to
    /// trace them.
    pub fn is_mail_borne(self) -> bool {
        matches!(
            self,
            ReportKind::Spam | ReportKind::Virus | ReportKind::Phishing
        )
    }
}

impl fmt::Display for ReportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The language the complainant wrote in (of the complaint text, not of the evidence).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    Ja,
    En,
    Other,
}

/// Who sent the complaint.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reporter {
    /// Mail address (X-ARF contact / ReporterContactEmail, else the complaint's `From:`).
    pub address: Option<String>,
    /// Display name of a person.
    pub name: Option<String>,
    /// Organisation (X-ARF `org` / `ReporterOrg`, SpamCop, or the `Organization:` field).
    pub organisation: Option<String>,
    /// The organisation's domain when the report states it (X-ARF).
    pub domain: Option<String>,
}

impl Reporter {
    /// True when nothing is known about the reporter.
    pub fn is_empty(&self) -> bool {
        self.address.is_none()
            && self.name.is_none()
            && self.organisation.is_none()
            && self.domain.is_none()
    }
}

/// One parsed complaint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub format: ReportFormat,
    pub kind: ReportKind,
    pub reporter: Reporter,
    /// The source the report names (ARF Source-IP, X-ARF source, SpamCop "Email from",
    /// or the one address a plain complaint mentions). Evidence, when present, is traced
    /// by the forensics crate; its origin may differ and wins.
    pub source_ip: Option<IpAddr>,
    /// Source port (ARF Source-Port per RFC 6692, X-ARF source port): needed behind CGNAT.
    pub source_port: Option<u16>,
    /// When the abuse happened: ARF Arrival-Date, X-ARF timestamp/Date, SpamCop's date,
    /// else the evidence's `Date:` (else its newest `Received:` date).
    pub event_time: Option<DateTime<Utc>>,
    /// The complaint's own `Date:`.
    pub complaint_date: Option<DateTime<Utc>>,
    /// The complaint's subject.
    pub subject: Option<String>,
    /// The complaint's `Message-ID` (without angle brackets).
    pub message_id: Option<String>,
    /// The reporter's identifier for this report (X-ARF report_id, SpamCop id).
    pub report_id: Option<String>,
    pub language: Language,
    /// Enclosed offending messages or header blocks, best first. `evidence[0]` is the one
    /// to trace.
    pub evidence: Vec<Evidence>,
    /// URLs found in the evidence and in the complaint text (refanged, deduplicated).
    pub urls: Vec<String>,
    /// Domains: hosts of those URLs, sender domains of the evidence, reported domains.
    pub domains: Vec<String>,
    /// IP addresses written in the complaint text (outside any evidence block).
    pub ips: Vec<IpAddr>,
    /// The complaint's human-readable text decoded to UTF-8 (evidence attachments excluded).
    pub text: String,
    /// True when `text` was cut at [`crate::MAX_TEXT_BYTES`].
    pub text_truncated: bool,
    /// What is wrong with the report against its format (empty = valid). For X-ARF these
    /// are JSON Schema violations.
    pub validation: Vec<Problem>,
    /// The report cannot be traced: no evidence with a `Received:` field and no usable
    /// source. The desk asks the complainant for the full headers.
    pub needs_full_headers: bool,
    /// ARF details, when `format` is `arf`.
    pub arf: Option<ArfInfo>,
    /// X-ARF details, when `format` is `xarf`.
    pub xarf: Option<XarfInfo>,
    /// SpamCop details, when `format` is `spamcop`.
    pub spamcop: Option<SpamcopInfo>,
}

impl Report {
    /// The evidence to trace, if any.
    pub fn primary_evidence(&self) -> Option<&Evidence> {
        self.evidence.first()
    }

    /// True when no validation problem was found.
    pub fn is_valid(&self) -> bool {
        self.validation.is_empty()
    }
}

/// A message (or header block) the complaint is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// Where it was found.
    pub source: EvidenceSource,
    /// A whole message, or only its header section.
    pub completeness: Completeness,
    /// The MIME type it came in (e.g. `message/rfc822`), when it was a MIME part.
    pub content_type: Option<String>,
    /// The attachment's file name, if any.
    pub filename: Option<String>,
    /// For pasted header blocks: where in `Report::text` they were and how they were quoted.
    pub pasted: Option<PastedBlock>,
    /// Whether the evidence has at least one `Received:` field (can be traced).
    pub has_received: bool,
    /// The message as RFC 5322 bytes (a reconstructed header block ends with an empty
    /// line). This is what the forensics crate's `trace()` takes.
    pub bytes: EvidenceBytes,
}

/// Where evidence was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceSource {
    /// The `message/rfc822` part of an ARF report.
    ArfMessage,
    /// The `text/rfc822-headers` part of an ARF report.
    ArfHeaders,
    /// A `message/rfc822` attachment (or an attached `.eml` file).
    AttachedMessage,
    /// A `text/rfc822-headers` attachment.
    AttachedHeaders,
    /// A header block found in the complaint's text.
    PastedText,
    /// An X-ARF evidence item / sample, or the evidence part of an X-ARF mail.
    XarfEvidence,
}

/// How much of the offending message the evidence holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Completeness {
    FullMessage,
    HeadersOnly,
}

/// A header block found in text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PastedBlock {
    /// First and last line (1-based) in `Report::text`; `None` when the block was in a
    /// text attachment that is not part of `text`.
    pub lines: Option<(usize, usize)>,
    /// The quoting stripped from each line (`"> "`, `"    "`, `""`...).
    pub quote_prefix: String,
    /// Number of header fields reconstructed.
    pub fields: usize,
}

/// Bytes that serialise as `{"text": "..."}` when they are UTF-8 and as
/// `{"base64": "..."}` otherwise, so JSON keeps them exactly and readably.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EvidenceBytes(Vec<u8>);

impl EvidenceBytes {
    pub fn new(bytes: Vec<u8>) -> Self {
        EvidenceBytes(bytes)
    }
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
    pub fn into_vec(self) -> Vec<u8> {
        self.0
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl AsRef<[u8]> for EvidenceBytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum EvidenceBytesRepr {
    Text(String),
    Base64(String),
}

impl Serialize for EvidenceBytes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match std::str::from_utf8(&self.0) {
            Ok(text) => EvidenceBytesRepr::Text(text.to_owned()).serialize(serializer),
            Err(_) => {
                EvidenceBytesRepr::Base64(base64::engine::general_purpose::STANDARD.encode(&self.0))
                    .serialize(serializer)
            }
        }
    }
}

impl<'de> Deserialize<'de> for EvidenceBytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match EvidenceBytesRepr::deserialize(deserializer)? {
            EvidenceBytesRepr::Text(text) => Ok(EvidenceBytes(text.into_bytes())),
            EvidenceBytesRepr::Base64(b64) => base64::engine::general_purpose::STANDARD
                .decode(b64.as_bytes())
                .map(EvidenceBytes)
                .map_err(serde::de::Error::custom),
        }
    }
}

/// One thing wrong with a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// Where: a JSON pointer into the X-ARF document (`/Report/SourceIp`, `""` for the
    /// root), or the ARF field / MIME part concerned (`Feedback-Type`).
    pub location: String,
    /// The schema keyword that failed (JSON pointer into the schema), for X-ARF.
    pub schema_path: Option<String>,
    /// What is wrong, in words.
    pub message: String,
}

/// ARF (RFC 5965) feedback fields, from mail-auth's `Feedback`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ArfInfo {
    /// `abuse`, `fraud`, `virus`, `other`, `not-spam`, `auth-failure`, or the unknown value.
    pub feedback_type: Option<String>,
    pub user_agent: Option<String>,
    pub version: Option<u32>,
    pub reporting_mta: Option<String>,
    pub original_envelope_id: Option<String>,
    pub original_mail_from: Option<String>,
    pub original_rcpt_to: Option<String>,
    pub incidents: u32,
    pub reported_domains: Vec<String>,
    pub reported_uris: Vec<String>,
    pub authentication_results: Vec<String>,
    /// RFC 6591 `Auth-Failure` (`adsp`, `bodyhash`, `revoked`, `signature`, `spf`, `dmarc`).
    pub auth_failure: Option<String>,
    /// RFC 6591 `Delivery-Result`.
    pub delivery_result: Option<String>,
    pub dkim_domain: Option<String>,
    pub dkim_identity: Option<String>,
    pub dkim_selector: Option<String>,
}

/// Which X-ARF generation a report belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum XarfGeneration {
    /// XARF v4 (`xarf_version` 4.x.y), JSON Schema draft 2020-12.
    V4,
    /// abusix XARF v3 family (`Version` alpha/1/2/3/development, PascalCase), draft-07.
    V3,
    /// X-ARF 0.1/0.2 mail reports (YAML `report.txt`); no schema is shipped for them.
    Legacy,
}

/// How the X-ARF report reached us.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum XarfTransport {
    /// A JSON document on its own (HTTP `application/json`, a `.json` file).
    Json,
    /// A JSON MIME part of a mail.
    MailJson,
    /// A YAML MIME part of a mail (X-ARF 0.2 `report.txt`).
    MailYaml,
}

/// X-ARF details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct XarfInfo {
    pub generation: XarfGeneration,
    /// The version the report states (`4.2.0`, `3`, `development`, `0.2`), if any.
    pub version: Option<String>,
    pub transport: XarfTransport,
    /// Whether the report validated against its schema (see `Report::validation`).
    pub valid: bool,
    /// v4 `category` / v3 `ReportClass` / legacy `Category`.
    pub category: Option<String>,
    /// v4 `type` / v3 `ReportType` / legacy `Report-Type`.
    pub report_type: Option<String>,
    /// v3 `ReportSubType`.
    pub report_sub_type: Option<String>,
    /// v4 `evidence_source`.
    pub evidence_source: Option<String>,
    /// The source as written (an IP, a domain, a URL...).
    pub source: Option<String>,
    /// v4 `tags`.
    pub tags: Vec<String>,
}

/// SpamCop report details.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SpamcopInfo {
    /// The SpamCop version banner (`V1.3.3`, `V5.x`).
    pub version: Option<String>,
    /// The tracking URL (`https://www.spamcop.net/sc?id=...` / `w3m?i=...`).
    pub tracking_url: Option<String>,
    /// Web sites the report names as spamvertised.
    pub spamvertised_urls: Vec<String>,
}
