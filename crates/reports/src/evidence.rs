//! Evidence: building [`Evidence`] values and reading what the report needs from them
//! (is it traceable, its date, its URLs and sender domains). Tracing is the forensics
//! crate's job; this only looks.
use chrono::{DateTime, Utc};
use mail_parser::{HeaderName, Message, MessageParser, PartType};

use crate::mime;
use crate::model::{Completeness, Evidence, EvidenceBytes, EvidenceSource, PastedBlock};
use crate::text;

/// Body text scanned for URLs, per part.
const MAX_SCAN_BYTES: usize = 512 * 1024;

/// What we learnt from one piece of evidence.
#[derive(Debug, Default)]
pub(crate) struct Facts {
    pub date: Option<DateTime<Utc>>,
    pub received_date: Option<DateTime<Utc>>,
    pub urls: text::Unique,
    pub domains: text::Unique,
}

pub(crate) struct Found {
    pub evidence: Evidence,
    pub facts: Facts,
}

/// Where/what a piece of evidence is, before looking inside.
pub(crate) struct Origin {
    pub source: EvidenceSource,
    pub content_type: Option<String>,
    pub filename: Option<String>,
    pub pasted: Option<PastedBlock>,
    /// The container says it is a header section only (`text/rfc822-headers`, pasted).
    pub headers_only: bool,
}

impl Origin {
    pub fn new(source: EvidenceSource) -> Self {
        Origin {
            source,
            content_type: None,
            filename: None,
            pasted: None,
            headers_only: false,
        }
    }
}

/// Build evidence from a MIME part's bytes, reusing mail-parser's parse of an enclosed
/// `message/rfc822` part.
pub(crate) fn build_part(
    origin: Origin,
    bytes: Vec<u8>,
    part: &mail_parser::MessagePart<'_>,
) -> Found {
    match &part.body {
        PartType::Message(inner) => build_parsed(origin, bytes, inner),
        _ => build(origin, bytes),
    }
}

/// Build evidence from bytes and look inside it.
pub(crate) fn build(origin: Origin, bytes: Vec<u8>) -> Found {
    let parsed = MessageParser::new()
        .parse(&bytes)
        .filter(|m| !m.parts.is_empty());
    let facts = parsed.as_ref().map(facts_of).unwrap_or_default();
    let has_received = parsed.as_ref().is_some_and(has_received_field);
    drop(parsed);
    assemble(origin, bytes, facts, has_received)
}

/// Build evidence from a message mail-parser already parsed (an enclosed
/// `message/rfc822` part), so it is not parsed twice.
pub(crate) fn build_parsed(origin: Origin, bytes: Vec<u8>, msg: &Message<'_>) -> Found {
    if msg.parts.is_empty() {
        return build(origin, bytes);
    }
    let facts = facts_of(msg);
    let has_received = has_received_field(msg);
    assemble(origin, bytes, facts, has_received)
}

fn has_received_field(msg: &Message<'_>) -> bool {
    msg.root_part()
        .headers
        .iter()
        .any(|h| h.name == HeaderName::Received)
}

fn facts_of(msg: &Message<'_>) -> Facts {
    let mut facts = Facts {
        date: msg.date().and_then(mime::to_utc),
        received_date: msg
            .received()
            .and_then(|r| r.date.as_ref())
            .and_then(mime::to_utc),
        ..Facts::default()
    };
    for name in [HeaderName::From, HeaderName::ReplyTo, HeaderName::Sender] {
        if let Some((Some(address), _)) = mime::first_address(msg.header(name)) {
            push_domain(&mut facts.domains, &address);
        }
    }
    if let Some(rp) = msg.return_address() {
        push_domain(&mut facts.domains, rp);
    }
    for part in &msg.parts {
        match &part.body {
            PartType::Text(t) | PartType::Html(t) => text::find_urls(cut(t), &mut facts.urls),
            _ => {}
        }
    }
    facts
}

/// Is there anything but whitespace after the header section?
fn has_body(bytes: &[u8]) -> bool {
    let end = memchr::memmem::find(bytes, b"\n\n")
        .map(|p| p + 2)
        .or_else(|| memchr::memmem::find(bytes, b"\n\r\n").map(|p| p + 3));
    end.and_then(|e| bytes.get(e..))
        .is_some_and(|rest| rest.iter().any(|c| !c.is_ascii_whitespace()))
}

fn assemble(origin: Origin, bytes: Vec<u8>, facts: Facts, has_received: bool) -> Found {
    let completeness = if origin.headers_only || !has_body(&bytes) {
        Completeness::HeadersOnly
    } else {
        Completeness::FullMessage
    };
    Found {
        evidence: Evidence {
            source: origin.source,
            completeness,
            content_type: origin.content_type,
            filename: origin.filename,
            pasted: origin.pasted,
            has_received,
            bytes: EvidenceBytes::new(bytes),
        },
        facts,
    }
}

fn push_domain(domains: &mut text::Unique, address: &str) {
    if let Some(d) = text::address_domain(address) {
        domains.push(d);
    }
}

fn cut(s: &str) -> &str {
    if s.len() <= MAX_SCAN_BYTES {
        return s;
    }
    let mut end = MAX_SCAN_BYTES;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Does this look like the start of a mail message (a header field in the first line)?
pub(crate) fn looks_like_message(bytes: &[u8]) -> bool {
    let first = bytes
        .split(|&b| b == b'\n')
        .find(|l| !l.iter().all(|b| b.is_ascii_whitespace()));
    match first {
        Some(line) => crate::pasted::field_name(&String::from_utf8_lossy(line)).is_some(),
        None => false,
    }
}
