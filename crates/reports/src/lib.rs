//! Complaint formats for the abuse desk: a pure parser (no I/O, no clock) from the raw
//! bytes of a complaint to a [`Report`].
//!
//! Two entry points:
//! - [`parse_report`] for an RFC 5322 message (SMTP intake, Maildir, CLI, HTTP
//!   `message/rfc822`). It recognises, in this order: ARF (RFC 5965/6591/6692), X-ARF mail
//!   (a JSON or YAML report part), SpamCop reports, a forwarded message (`message/rfc822`,
//!   `text/rfc822-headers`, an attached `.eml`), a header block pasted into the text
//!   (quoted, indented, in ISO-2022-JP / Shift_JIS / EUC-JP / UTF-8 complaints), and
//!   finally a plain complaint. A body that is a JSON object is treated as X-ARF JSON.
//! - [`parse_xarf_json`] for an X-ARF JSON document (HTTP `application/json`).
//!
//! Both return `Err` only when there is nothing usable; anything else becomes a `Report`,
//! with [`Report::validation`] listing what is wrong with it. Evidence is returned as bytes
//! for the forensics crate's `trace()`; this crate does not trace.
//!
//! The data model is documented in `docs/reports.md`.
mod arf;
mod error;
mod evidence;
mod mail;
mod mime;
mod model;
mod pasted;
mod spamcop;
mod text;
mod xarf;

pub use error::ReportError;
pub use model::{
    ArfInfo, Completeness, Evidence, EvidenceBytes, EvidenceSource, Language, PastedBlock, Problem,
    Report, ReportFormat, ReportKind, Reporter, SpamcopInfo, XarfGeneration, XarfInfo,
    XarfTransport,
};

/// [`Report::text`] is cut at this many bytes (the raw report keeps everything).
pub const MAX_TEXT_BYTES: usize = 1024 * 1024;

/// At most this many pieces of evidence are kept per report.
pub const MAX_EVIDENCE: usize = 20;

/// Parse a complaint that arrived as a mail message.
///
/// Returns `Err` only for input that is not a message at all (empty, or no header field
/// on the first line) - except that a JSON object body is parsed as X-ARF JSON.
pub fn parse_report(raw: &[u8]) -> Result<Report, ReportError> {
    let start = raw
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .ok_or(ReportError::Empty)?;
    let trimmed = &raw[start..];
    if trimmed.first() == Some(&b'{')
        && let Ok(value @ serde_json::Value::Object(_)) = serde_json::from_slice(trimmed)
    {
        return Ok(xarf_report(&value));
    }
    check_first_line(trimmed)?;
    let msg = mail_parser::MessageParser::new()
        .parse(raw)
        .filter(|m| !m.parts.is_empty())
        .ok_or_else(|| not_a_message(trimmed))?;
    Ok(mail::parse(&msg))
}

/// Parse an X-ARF JSON document (v4, or the v3 family). The report is validated against
/// the embedded schemas; an invalid report is still returned, with `xarf.valid = false`
/// and the violations in `validation`.
pub fn parse_xarf_json(raw: &[u8]) -> Result<Report, ReportError> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err(ReportError::Empty);
    }
    let raw = raw.strip_prefix(b"\xef\xbb\xbf").unwrap_or(raw);
    let value: serde_json::Value =
        serde_json::from_slice(raw).map_err(|e| ReportError::NotJson(e.to_string()))?;
    match &value {
        serde_json::Value::Object(_) => Ok(xarf_report(&value)),
        serde_json::Value::Array(_) => Err(ReportError::NotAnObject("an array")),
        serde_json::Value::String(_) => Err(ReportError::NotAnObject("a string")),
        serde_json::Value::Number(_) => Err(ReportError::NotAnObject("a number")),
        serde_json::Value::Bool(_) => Err(ReportError::NotAnObject("a boolean")),
        serde_json::Value::Null => Err(ReportError::NotAnObject("null")),
    }
}

/// Compile the embedded X-ARF schemas now instead of on the first X-ARF report. A server
/// calls this at start-up so no request pays for it.
pub fn warm_up() {
    // A failure is reported on every X-ARF report's `validation`; nothing to do here.
    let _ = xarf::warm_up();
}

fn xarf_report(value: &serde_json::Value) -> Report {
    let parsed = xarf::from_json(value, XarfTransport::Json);
    let text = parsed.text.clone().unwrap_or_default();
    let draft = mail::Draft::from_xarf(parsed);
    mail::finish(draft, mail::Envelope::default(), text)
}

/// The first line must be a header field (`Name: value`), optionally after an mbox
/// `From ` line.
fn check_first_line(bytes: &[u8]) -> Result<(), ReportError> {
    let mut lines = bytes.split(|&b| b == b'\n');
    let mut first = lines.next().unwrap_or_default();
    if first.starts_with(b"From ") {
        first = lines.next().unwrap_or_default();
    }
    let line = String::from_utf8_lossy(first);
    let ok = line.find(':').is_some_and(|colon| {
        let name = line[..colon].trim_end();
        !name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic() && b != b':')
    });
    if ok {
        Ok(())
    } else {
        Err(not_a_message(bytes))
    }
}

fn not_a_message(bytes: &[u8]) -> ReportError {
    let line = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let mut first_line: String = line.trim_end().chars().take(60).collect();
    if line.trim_end().chars().count() > 60 {
        first_line.push('…');
    }
    ReportError::NotAMessage { first_line }
}
