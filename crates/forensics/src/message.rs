//! The header view of a message that the forensics need.
//!
//! The header section is split into fields by our own scanner (memchr over line ends:
//! the trace fields are most of a header section and need no decoding, only their raw
//! text and position). The structured fields — addresses, Subject, Date, Message-ID,
//! Content-Type — are decoded by mail-parser's field parsers, which handle RFC 2047
//! encoded words, legacy charsets (ISO-2022-JP, Shift_JIS), groups and comments. The
//! body is looked at lazily (bounces, attachments). The raw bytes stay with the caller.

use crate::date::parse_date;
use crate::names::strip_angle;
use chrono::{DateTime, FixedOffset};
use mail_parser::parsers::MessageStream;
use mail_parser::{Addr, Address, HeaderValue};

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
    /// Originating-IP headers (name as written, value, position).
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

/// One field of the header section: name and the value bytes up to and including the
/// line end that terminates the field.
struct Field<'a> {
    name: &'a [u8],
    value: &'a [u8],
}

/// Splits a header section into fields. Returns the fields and the offset where the body
/// starts. Lines that are neither a field nor a continuation are skipped (and counted).
fn split_fields<'a>(data: &'a [u8]) -> (Vec<Field<'a>>, usize, usize) {
    let mut fields: Vec<Field<'a>> = Vec::with_capacity(32);
    let mut bad_lines = 0;
    let mut pos = 0;
    let mut current: Option<(usize, usize)> = None; // (name start, colon)
    let flush = |fields: &mut Vec<Field<'a>>, current: &mut Option<(usize, usize)>, end: usize| {
        if let Some((start, colon)) = current.take() {
            fields.push(Field {
                name: trim_end(&data[start..colon]),
                value: &data[colon + 1..end],
            });
        }
    };
    let mut ends = memchr::memchr_iter(b'\n', data);
    while pos < data.len() {
        let line_end = ends.next().map(|p| p + 1).unwrap_or(data.len());
        let line = &data[pos..line_end];
        let first = line[0];
        if first == b'\n' || (first == b'\r' && line.get(1) == Some(&b'\n')) {
            flush(&mut fields, &mut current, pos);
            return (fields, line_end, bad_lines);
        }
        if first == b' ' || first == b'\t' {
            // Continuation of the current field (folding); stray ones are skipped.
            if current.is_none() {
                bad_lines += 1;
            }
        } else {
            flush(&mut fields, &mut current, pos);
            // Field names are short: a plain scan beats a SIMD search's call overhead.
            match line.iter().position(|&b| b == b':') {
                Some(c)
                    if c > 0
                        && line[..c]
                            .iter()
                            .all(|b| b.is_ascii_graphic() || *b == b' ' || *b == b'\t') =>
                {
                    current = Some((pos, pos + c));
                }
                _ => bad_lines += 1,
            }
        }
        pos = line_end;
    }
    flush(&mut fields, &mut current, data.len());
    (fields, data.len(), bad_lines)
}

fn trim_end(b: &[u8]) -> &[u8] {
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map(|p| p + 1)
        .unwrap_or(0);
    &b[..end]
}

/// The value as text with its folding kept, leading and trailing white space removed.
fn value_text(v: &[u8]) -> String {
    let start = v
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(v.len());
    let end = v
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map(|p| p + 1)
        .unwrap_or(start);
    lossy(&v[start..end.max(start)])
}

/// UTF-8 text; invalid sequences become U+FFFD (the validation fast path first).
fn lossy(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(s) => s.to_owned(),
        Err(_) => String::from_utf8_lossy(b).into_owned(),
    }
}

/// The value unfolded onto one line.
fn value_line(v: &[u8]) -> String {
    let t = lossy(v);
    let mut out = String::with_capacity(t.len());
    for w in t.split_ascii_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    out
}

/// Which field a name is, for the ones we read. Compared case-insensitively.
#[derive(Clone, Copy, PartialEq)]
enum Name {
    Received,
    ReturnPath,
    From,
    Sender,
    To,
    Cc,
    Date,
    MessageId,
    Subject,
    ContentType,
    MimeVersion,
    EnvelopeTo,
    XEnvelopeFrom,
    Originating,
    Other,
}

fn classify(name: &[u8]) -> Name {
    let mut buf = [0u8; 64];
    if name.len() > buf.len() {
        return Name::Other;
    }
    for (d, s) in buf.iter_mut().zip(name) {
        *d = s.to_ascii_lowercase();
    }
    let lower = &buf[..name.len()];
    match lower {
        b"received" => Name::Received,
        b"return-path" => Name::ReturnPath,
        b"from" => Name::From,
        b"sender" => Name::Sender,
        b"to" => Name::To,
        b"cc" => Name::Cc,
        b"date" => Name::Date,
        b"message-id" => Name::MessageId,
        b"subject" => Name::Subject,
        b"content-type" => Name::ContentType,
        b"mime-version" => Name::MimeVersion,
        b"delivered-to" | b"x-original-to" | b"envelope-to" | b"x-envelope-to" | b"x-rcpt-to" => {
            Name::EnvelopeTo
        }
        b"x-envelope-from" => Name::XEnvelopeFrom,
        _ if lower.starts_with(b"x-")
            && ORIGINATING_HEADERS.iter().any(|h| h.as_bytes() == lower) =>
        {
            Name::Originating
        }
        _ => Name::Other,
    }
}

/// Reads the header section of `raw` (after any mbox `From ` line).
pub fn parse_headers(raw: &[u8]) -> Headers {
    let mut h = Headers::default();
    let (mbox_from, rest) = strip_mbox_line(raw);
    h.mbox_from = mbox_from;
    let skipped = raw.len() - rest.len();
    let (fields, body, bad_lines) = split_fields(rest);
    h.body_offset = skipped + body;
    h.field_count = fields.len();
    if memchr::memchr(0, &rest[..body]).is_some() {
        h.problems
            .push("the header section contains NUL bytes".into());
    }
    if fields.is_empty() {
        h.problems.push("no header section could be read".into());
    } else if bad_lines > 0 {
        h.problems.push(format!(
            "{bad_lines} header line(s) are neither a field nor a continuation"
        ));
    }
    for (position, f) in fields.iter().enumerate() {
        let kind = classify(f.name);
        if matches!(
            kind,
            Name::From
                | Name::To
                | Name::Date
                | Name::MessageId
                | Name::Subject
                | Name::ContentType
                | Name::MimeVersion
        ) {
            h.first_author_field.get_or_insert(position);
        }
        match kind {
            Name::Received => h.received.push(RawField {
                position,
                value: value_text(f.value),
            }),
            Name::ReturnPath => h.return_path.push(value_line(f.value)),
            Name::From => {
                h.has_from = true;
                collect_mailboxes(
                    &parse_with(f.value, MessageStream::parse_address),
                    &mut h.from,
                    &mut Vec::new(),
                );
            }
            Name::Sender => collect_mailboxes(
                &parse_with(f.value, MessageStream::parse_address),
                &mut h.sender,
                &mut Vec::new(),
            ),
            Name::To => collect_mailboxes(
                &parse_with(f.value, MessageStream::parse_address),
                &mut h.to,
                &mut h.empty_groups,
            ),
            Name::Cc => collect_mailboxes(
                &parse_with(f.value, MessageStream::parse_address),
                &mut h.cc,
                &mut h.empty_groups,
            ),
            Name::Date => {
                if h.date_raw.is_none() {
                    let line = value_line(f.value);
                    h.date = parse_date(&line);
                    h.date_raw = Some(line);
                }
            }
            Name::MessageId => {
                if h.message_id.is_none() {
                    h.message_id = match parse_with(f.value, MessageStream::parse_id) {
                        HeaderValue::Text(t) => Some(t.into_owned()),
                        HeaderValue::TextList(l) => l.into_iter().next().map(|s| s.into_owned()),
                        _ => Some(strip_angle(&value_line(f.value)).to_string()),
                    }
                    .filter(|s| !s.is_empty());
                }
            }
            Name::Subject => {
                if h.subject.is_none() {
                    h.subject = match parse_with(f.value, MessageStream::parse_unstructured) {
                        HeaderValue::Text(t) => Some(t.into_owned()),
                        _ => Some(String::new()),
                    };
                }
            }
            Name::ContentType => {
                if let HeaderValue::ContentType(ct) =
                    parse_with(f.value, MessageStream::parse_content_type)
                {
                    h.content_type = Some((
                        ct.ctype().to_ascii_lowercase(),
                        ct.subtype().map(|s| s.to_ascii_lowercase()),
                    ));
                    h.report_type = ct.attribute("report-type").map(|s| s.to_ascii_lowercase());
                }
            }
            Name::MimeVersion | Name::Other => {}
            Name::EnvelopeTo => push_addr(&mut h.envelope_to, &value_line(f.value)),
            Name::XEnvelopeFrom => {
                h.x_envelope_from = Some(strip_angle(&value_line(f.value)).to_string())
            }
            Name::Originating => h.originating.push((
                String::from_utf8_lossy(f.name).into_owned(),
                value_line(f.value),
                position,
            )),
        }
    }
    h
}

/// Runs one of mail-parser's field parsers over a field value (which ends with the line
/// end that terminates the field, as the parsers expect).
fn parse_with<'a>(
    value: &'a [u8],
    f: fn(&mut MessageStream<'a>) -> HeaderValue<'a>,
) -> HeaderValue<'a> {
    let mut stream = MessageStream::new(value);
    f(&mut stream)
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
                if g.addresses.is_empty()
                    && let Some(n) = &g.name
                {
                    empty_groups.push(n.to_string());
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
        assert_eq!(h.first_author_field, Some(2));
    }

    #[test]
    fn folding_encoded_words_and_crlf() {
        let raw = b"Received: from a\r\n\tby b; Sun, 31 Mar 2002 21:08:03 +0900\r\nSubject: =?ISO-2022-JP?B?GyRCJWEhPCVrGyhC?=\r\nFrom: =?UTF-8?B?5bGx55Sw?= <yamada@example.jp>\r\nX-Originating-IP: [192.0.2.7]\r\n\r\nbody";
        let h = parse_headers(raw);
        assert_eq!(
            h.received[0].value,
            "from a\r\n\tby b; Sun, 31 Mar 2002 21:08:03 +0900"
        );
        assert_eq!(h.subject.as_deref(), Some("メール"));
        assert_eq!(h.from[0].name.as_deref(), Some("山田"));
        assert_eq!(h.from[0].address.as_deref(), Some("yamada@example.jp"));
        assert_eq!(h.originating[0].1, "[192.0.2.7]");
        assert_eq!(&raw[h.body_offset..], b"body");
    }

    #[test]
    fn no_blank_line_and_junk() {
        let h = parse_headers(b"Subject: x\nthis is not a header\n continuation of nothing?");
        assert_eq!(h.field_count, 1);
        assert!(!h.problems.is_empty());
        let h = parse_headers(b"");
        assert_eq!(h.field_count, 0);
        let h = parse_headers(b"\n\nbody");
        assert_eq!(h.field_count, 0);
        assert_eq!(h.body_offset, 1);
    }

    #[test]
    fn mbox_line() {
        let (s, rest) = strip_mbox_line(b"From a@b.example  Thu Aug 22 13:17:22 2002\nX: y\n\n");
        assert_eq!(s.as_deref(), Some("a@b.example"));
        assert_eq!(rest, b"X: y\n\n");
    }
}
