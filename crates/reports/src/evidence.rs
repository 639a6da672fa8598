//! Evidence: building [`Evidence`] values and reading what the report needs from them
//! (is it traceable, its date, its URLs and sender domains). Tracing is the forensics
//! crate's job; this only looks.
use chrono::{DateTime, Utc};
use mail_parser::{HeaderName, MessageParser, PartType};

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
    pub urls: Vec<String>,
    pub domains: Vec<String>,
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

/// Build evidence from bytes and look inside it.
pub(crate) fn build(origin: Origin, bytes: Vec<u8>) -> Found {
    let mut facts = Facts::default();
    let mut has_received = false;
    let mut has_body = false;
    if let Some(msg) = MessageParser::new()
        .parse(&bytes)
        .filter(|m| !m.parts.is_empty())
    {
        let root = msg.root_part();
        has_received = root.headers.iter().any(|h| h.name == HeaderName::Received);
        has_body = bytes
            .get(root.offset_body as usize..)
            .is_some_and(|b| b.iter().any(|c| !c.is_ascii_whitespace()));
        facts.date = msg.date().and_then(mime::to_utc);
        facts.received_date = msg
            .received()
            .and_then(|r| r.date.as_ref())
            .and_then(mime::to_utc);
        for name in [HeaderName::From, HeaderName::ReplyTo, HeaderName::Sender] {
            if let Some((Some(address), _)) = mime::first_address(msg.header(name)) {
                push_domain(&mut facts.domains, &address);
            }
        }
        if let Some(rp) = msg.return_address() {
            push_domain(&mut facts.domains, rp);
        }
        if has_body {
            for part in &msg.parts {
                match &part.body {
                    PartType::Text(t) | PartType::Html(t) => {
                        text::find_urls(cut(t), &mut facts.urls);
                    }
                    _ => {}
                }
            }
        }
    }
    let completeness = if origin.headers_only || !has_body {
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

fn push_domain(domains: &mut Vec<String>, address: &str) {
    if let Some(d) = text::address_domain(address) {
        text::push_unique(domains, d);
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
