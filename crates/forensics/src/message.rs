//! The header view of a message that the forensics need, read with mail-parser.
//!
//! Only the header section is parsed on the hot path (`parse_headers`); the body is
//! looked at lazily (bounces, attachments). The raw bytes stay with the caller.

use crate::date::parse_date;
use crate::names::strip_angle;
use chrono::{DateTime, FixedOffset};
use mail_parser::{Addr, Address, HeaderName, HeaderValue, MessageParser};
use std::sync::OnceLock;

/// A header field with its position among the header fields (0 = first).
#[derive(Debug, Clone)]
pub struct RawField {
    pub position: usize,
    pub value: String,
}

/// A mailbox from an address header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    pub name: Option<String>,
    pub address: Option<String>,
}

/// What the forensics read from the header section.
#[derive(Debug, Default)]
pub struct Headers {
    /// The envelope sender from an mbox `From ` line, if the input started with one.
    pub mbox_from: Option<String>,
    pub received: Vec<RawField>,
    pub return_path: Vec<String>,
    pub from: Vec<Mailbox>,
    /// A From field is present (possibly empty).
    pub has_from: bool,
    pub sender: Vec<Mailbox>,
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    /// Group names with no members (`undisclosed-recipients: ;`) in To/Cc.
    pub empty_groups: Vec<String>,
    pub to_raw: Option<String>,
    pub date: Option<DateTime<FixedOffset>>,
    pub date_raw: Option<String>,
    pub message_id: Option<String>,
    pub subject: Option<String>,
    pub content_type: Option<(String, Option<String>)>,
    /// `report-type` parameter of a multipart/report.
    pub report_type: Option<String>,
    /// Envelope recipients recorded in headers: Delivered-To, X-Original-To, Envelope-To,
    /// X-Envelope-To.
    pub envelope_to: Vec<String>,
    pub x_envelope_from: Option<String>,
    /// Originating-IP headers (name, value, position).
    pub originating: Vec<(String, String, usize)>,
    /// Position of the first header that a message author writes (From, To, Subject,
    /// Date, Message-ID, MIME-Version, Content-Type): Received fields below it were
    /// written into the message rather than prepended in transit.
    pub first_author_field: Option<usize>,
    pub field_count: usize,
    /// Byte offset of the body within the bytes given to [`parse_headers`].
    pub body_offset: usize,
    /// Problems worth telling the operator (no header section, NUL bytes, …).
    pub problems: Vec<String>,
}

/// Header names read as originating-IP evidence, most specific first.
pub const ORIGINATING_HEADERS: &[&str] = &[
    "x-originating-ip",
    "x-sender-ip",
    "x-source-ip",
    "x-client-ip",
    "x-yahoo-post-ip",
    "x-ms-exchange-organization-originalclientipaddress",
    "x-forwarded-for",
];

fn parser() -> &'static MessageParser {
    static P: OnceLock<MessageParser> = OnceLock::new();
    P.get_or_init(|| {
        MessageParser::new()
            .header_raw(HeaderName::Received)
            .header_raw(HeaderName::ReturnPath)
            .header_address(HeaderName::From)
            .header_address(HeaderName::Sender)
            .header_address(HeaderName::To)
            .header_address(HeaderName::Cc)
            .header_date(HeaderName::Date)
            .header_id(HeaderName::MessageId)
            .header_text(HeaderName::Subject)
            .header_content_type(HeaderName::ContentType)
            .default_header_raw()
    })
}

/// Splits off a leading mbox `From ` line. Returns (envelope sender, rest).
pub fn strip_mbox_line(raw: &[u8]) -> (Option<String>, &[u8]) {
    if raw.starts_with(b"From ") {
        let end = memchr::memchr(b'\n', raw)
            .map(|p| p + 1)
            .unwrap_or(raw.len());
        let line = String::from_utf8_lossy(&raw[5..end]);
        let sender = line.split_whitespace().next().map(str::to_string);
        return (sender, &raw[end..]);
    }
    (None, raw)
}

/// Reads the header section of `raw` (after any mbox `From ` line).
pub fn parse_headers(raw: &[u8]) -> Headers {
    let mut h = Headers::default();
    let (mbox_from, rest) = strip_mbox_line(raw);
    h.mbox_from = mbox_from;
    let skipped = raw.len() - rest.len();
    if memchr::memchr(0, &rest[..rest.len().min(64 * 1024)]).is_some() {
        h.problems.push("the message contains NUL bytes".into());
    }
    let Some(msg) = parser().parse_headers(rest) else {
        h.problems.push("no header section could be read".into());
        h.body_offset = skipped;
        return h;
    };
    let headers = msg.headers();
    h.field_count = headers.len();
    // offset_end of the last header points at its line end; the body starts after the
    // blank line that follows.
    let end_rel = headers.last().map(|l| l.offset_end as usize).unwrap_or(0);
    h.body_offset = skipped + find_body(rest, end_rel).unwrap_or(rest.len());
    for (position, field) in headers.iter().enumerate() {
        let name = &field.name;
        let text = || match &field.value {
            HeaderValue::Text(t) => t.to_string(),
            HeaderValue::TextList(l) => l.join(" "),
            _ => String::new(),
        };
        match name {
            HeaderName::Received => h.received.push(RawField {
                position,
                value: text(),
            }),
            HeaderName::ReturnPath => h.return_path.push(text()),
            HeaderName::From => {
                h.has_from = true;
                h.first_author_field.get_or_insert(position);
                collect_mailboxes(&field.value, &mut h.from, &mut Vec::new());
            }
            HeaderName::Sender => collect_mailboxes(&field.value, &mut h.sender, &mut Vec::new()),
            HeaderName::To => {
                h.first_author_field.get_or_insert(position);
                collect_mailboxes(&field.value, &mut h.to, &mut h.empty_groups);
                h.to_raw = raw_value(rest, field.offset_start, field.offset_end);
            }
            HeaderName::Cc => collect_mailboxes(&field.value, &mut h.cc, &mut h.empty_groups),
            HeaderName::Date => {
                h.first_author_field.get_or_insert(position);
                h.date_raw = raw_value(rest, field.offset_start, field.offset_end);
                h.date = h.date_raw.as_deref().and_then(parse_date);
            }
            HeaderName::MessageId => {
                h.first_author_field.get_or_insert(position);
                h.message_id = match &field.value {
                    HeaderValue::Text(t) => Some(t.to_string()),
                    HeaderValue::TextList(l) => l.first().map(|s| s.to_string()),
                    _ => raw_value(rest, field.offset_start, field.offset_end)
                        .map(|s| strip_angle(&s).to_string()),
                }
                .filter(|s| !s.is_empty());
            }
            HeaderName::Subject => {
                h.first_author_field.get_or_insert(position);
                h.subject = Some(text());
            }
            HeaderName::ContentType => {
                h.first_author_field.get_or_insert(position);
                if let HeaderValue::ContentType(ct) = &field.value {
                    h.content_type = Some((
                        ct.ctype().to_ascii_lowercase(),
                        ct.subtype().map(|s| s.to_ascii_lowercase()),
                    ));
                    h.report_type = ct.attribute("report-type").map(|s| s.to_ascii_lowercase());
                }
            }
            HeaderName::MimeVersion => {
                h.first_author_field.get_or_insert(position);
            }
            HeaderName::DeliveredTo => push_addr(&mut h.envelope_to, &text()),
            HeaderName::Other(n) => {
                let lower = n.to_ascii_lowercase();
                match lower.as_str() {
                    "x-original-to" | "envelope-to" | "x-envelope-to" | "x-rcpt-to" => {
                        push_addr(&mut h.envelope_to, &text())
                    }
                    "x-envelope-from" => h.x_envelope_from = Some(strip_angle(&text()).to_string()),
                    _ if ORIGINATING_HEADERS.contains(&lower.as_str()) => {
                        h.originating.push((n.to_string(), text(), position));
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    h
}

fn find_body(rest: &[u8], from: usize) -> Option<usize> {
    let tail = rest.get(from..)?;
    // The header section ends at the first empty line.
    let mut i = 0;
    while i < tail.len() {
        match tail[i] {
            b'\n' => return Some(from + i + 1),
            b'\r' if tail.get(i + 1) == Some(&b'\n') => return Some(from + i + 2),
            b' ' | b'\t' | b'\r' => i += 1,
            _ => {
                // Not an empty line: skip to the next line.
                let nl = memchr::memchr(b'\n', &tail[i..])?;
                i += nl + 1;
            }
        }
    }
    Some(rest.len())
}

fn raw_value(rest: &[u8], start: u32, end: u32) -> Option<String> {
    let bytes = rest.get(start as usize..end as usize)?;
    let s = String::from_utf8_lossy(bytes);
    let s = s.trim();
    Some(s.split_whitespace().collect::<Vec<_>>().join(" "))
}

fn push_addr(list: &mut Vec<String>, value: &str) {
    for part in value.split(',') {
        let a = strip_angle(part);
        if a.contains('@') && !list.iter().any(|x| x.eq_ignore_ascii_case(a)) {
            list.push(a.to_string());
        }
    }
}

fn collect_mailboxes(
    value: &HeaderValue<'_>,
    out: &mut Vec<Mailbox>,
    empty_groups: &mut Vec<String>,
) {
    let mut push = |a: &Addr<'_>| {
        out.push(Mailbox {
            name: a
                .name
                .as_ref()
                .map(|n| n.to_string())
                .filter(|n| !n.is_empty()),
            address: a
                .address
                .as_ref()
                .map(|a| a.to_string())
                .filter(|a| !a.is_empty()),
        })
    };
    match value {
        HeaderValue::Address(Address::List(list)) => list.iter().for_each(&mut push),
        HeaderValue::Address(Address::Group(groups)) => {
            for g in groups {
                if g.addresses.is_empty() {
                    if let Some(n) = &g.name {
                        empty_groups.push(n.to_string());
                    }
                }
                g.addresses.iter().for_each(&mut push);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forum_headers() {
        let raw = b"Return-Path: <>\nReceived: from a by b; Sun, 31 Mar 2002 21:08:03 +0900\nFrom: \"\"\nTo: undisclosed-recipients: ;\nDate: Sun, 31 Mar 2002 21:07:53 +0900 (JST)\n\nbody\n";
        let h = parse_headers(raw);
        assert_eq!(h.return_path, vec!["<>".to_string()]);
        assert_eq!(h.received.len(), 1);
        assert!(h.has_from);
        assert!(h.from.iter().all(|m| m.address.is_none()));
        assert_eq!(h.empty_groups, vec!["undisclosed-recipients".to_string()]);
        assert!(h.date.is_some());
        assert_eq!(&raw[h.body_offset..], b"body\n");
    }

    #[test]
    fn mbox_line() {
        let (s, rest) = strip_mbox_line(b"From a@b.example  Thu Aug 22 13:17:22 2002\nX: y\n\n");
        assert_eq!(s.as_deref(), Some("a@b.example"));
        assert_eq!(rest, b"X: y\n\n");
    }
}
