//! A complaint that arrived as a mail message: find its format, then fill in the report.
//!
//! Detection order (first match wins): ARF, X-ARF mail, SpamCop, forwarded attachment,
//! pasted header block, plain.
use mail_parser::{HeaderName, Message, MessagePart, PartType};

use crate::evidence::{self, Found, Origin};
use crate::model::{
    ArfInfo, EvidenceSource, Language, PastedBlock, Problem, Report, ReportFormat, ReportKind,
    Reporter, SpamcopInfo, XarfGeneration, XarfInfo, XarfTransport,
};
use crate::{MAX_EVIDENCE, MAX_TEXT_BYTES, arf, mime, pasted, spamcop, text, xarf};

/// The complaint's own text, part by part.
struct Piece {
    /// Line number (0-based) in the assembled text where this piece starts; `None` for a
    /// text attachment that is not part of the assembled text.
    first_line: Option<usize>,
    text: String,
}

/// What a format detector found; `finish` turns it into a [`Report`].
pub(crate) struct Draft {
    pub format: ReportFormat,
    pub kind: Option<ReportKind>,
    pub reporter: Option<Reporter>,
    pub source_ip: Option<std::net::IpAddr>,
    pub source_port: Option<u16>,
    pub event_time: Option<chrono::DateTime<chrono::Utc>>,
    pub report_id: Option<String>,
    pub evidence: Vec<Found>,
    pub urls: Vec<String>,
    pub domains: Vec<String>,
    pub validation: Vec<Problem>,
    pub arf: Option<ArfInfo>,
    pub xarf: Option<XarfInfo>,
    pub spamcop: Option<SpamcopInfo>,
    /// Lines of the assembled text that are evidence, not prose (inclusive ranges).
    pub excluded: Vec<(usize, usize)>,
}

impl Draft {
    pub(crate) fn new(format: ReportFormat) -> Self {
        Draft {
            format,
            kind: None,
            reporter: None,
            source_ip: None,
            source_port: None,
            event_time: None,
            report_id: None,
            evidence: Vec::new(),
            urls: Vec::new(),
            domains: Vec::new(),
            validation: Vec::new(),
            arf: None,
            xarf: None,
            spamcop: None,
            excluded: Vec::new(),
        }
    }

    pub(crate) fn from_xarf(p: xarf::Parsed) -> Self {
        let mut d = Draft::new(ReportFormat::Xarf);
        d.kind = Some(p.kind);
        d.reporter = (!p.reporter.is_empty()).then_some(p.reporter);
        d.source_ip = p.source_ip;
        d.source_port = p.source_port;
        d.event_time = p.event_time;
        d.report_id = p.report_id;
        d.evidence = p.evidence;
        d.urls = p.urls;
        d.domains = p.domains;
        d.validation = p.problems;
        d.xarf = Some(p.info);
        d
    }
}

/// Envelope facts of the complaint message itself.
#[derive(Default)]
pub(crate) struct Envelope {
    pub subject: Option<String>,
    pub complaint_date: Option<chrono::DateTime<chrono::Utc>>,
    pub message_id: Option<String>,
    pub reporter: Reporter,
}

pub(crate) fn parse(msg: &Message<'_>) -> Report {
    let (address, name) = mime::first_address(msg.header(HeaderName::From)).unwrap_or_default();
    let envelope = Envelope {
        subject: mime::header_text(msg, "Subject"),
        complaint_date: msg.date().and_then(mime::to_utc),
        message_id: msg.message_id().map(|m| {
            m.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_owned()
        }),
        reporter: Reporter {
            address,
            name,
            organisation: mime::header_text(msg, "Organization")
                .or_else(|| mime::header_text(msg, "Organisation")),
            domain: None,
        },
    };

    let (text, pieces) = assemble_text(msg);

    let draft = if arf::detect(msg) {
        arf_draft(msg)
    } else if let Some(d) = xarf_draft(msg) {
        d
    } else if spamcop::detect(
        envelope.reporter.address.as_deref(),
        envelope.subject.as_deref(),
        pieces.first().map_or("", |p| p.text.as_str()),
    ) {
        spamcop_draft(msg, envelope.subject.as_deref(), &pieces)
    } else if let Some(d) = forwarded_draft(msg) {
        d
    } else if let Some(d) = pasted_draft(&pieces) {
        d
    } else {
        Draft::new(ReportFormat::Plain)
    };
    finish(draft, envelope, text)
}

/// The complaint's readable text: its inline text parts (HTML converted), and separately
/// its plain-text attachments (scanned for pasted headers only).
fn assemble_text(msg: &Message<'_>) -> (String, Vec<Piece>) {
    let mut text = String::new();
    let mut pieces = Vec::new();
    let mut body_ids: Vec<u32> = msg.text_body.clone();
    if body_ids.is_empty() {
        body_ids = msg.html_body.clone();
    }
    for id in &body_ids {
        let Some(part) = msg.parts.get(*id as usize) else {
            continue;
        };
        if !is_prose(part) {
            continue;
        }
        let Some(t) = mime::part_text(msg, part) else {
            continue;
        };
        if t.trim().is_empty() {
            continue;
        }
        if !text.is_empty() {
            if !text.ends_with('\n') {
                text.push('\n');
            }
            text.push('\n');
        }
        let first_line = text.bytes().filter(|&b| b == b'\n').count();
        text.push_str(&t);
        pieces.push(Piece {
            first_line: Some(first_line),
            text: t,
        });
    }
    for (idx, part) in msg.parts.iter().enumerate() {
        if body_ids.contains(&(idx as u32)) || !matches!(part.body, PartType::Text(_)) {
            continue;
        }
        if mime::mime_type(part) != "text/plain" {
            continue;
        }
        if let Some(t) = mime::part_text(msg, part) {
            pieces.push(Piece {
                first_line: None,
                text: t,
            });
        }
    }
    (text, pieces)
}

fn is_prose(part: &MessagePart<'_>) -> bool {
    let mt = mime::mime_type(part);
    mt.starts_with("text/") && mt != "text/rfc822-headers"
}

fn arf_draft(msg: &Message<'_>) -> Draft {
    let p = arf::parse(msg);
    let mut d = Draft::new(ReportFormat::Arf);
    d.kind = p.kind;
    d.source_ip = p.source_ip;
    d.source_port = p.source_port;
    d.event_time = p.arrival_date;
    d.evidence = p.evidence;
    for uri in &p.info.reported_uris {
        text::find_urls(uri, &mut d.urls);
    }
    for dom in &p.info.reported_domains {
        if let Some(n) = text::normalise_domain(dom) {
            text::push_unique(&mut d.domains, n);
        }
    }
    d.validation = p.problems;
    d.arf = Some(p.info);
    d
}

/// An X-ARF mail: `X-XARF`/`X-ARF` header or an attached X-ARF JSON/YAML report.
fn xarf_draft(msg: &Message<'_>) -> Option<Draft> {
    let flagged = msg.root_part().headers.iter().any(|h| {
        h.name.as_str().eq_ignore_ascii_case("X-XARF")
            || h.name.as_str().eq_ignore_ascii_case("X-ARF")
    });
    let mut parsed = None;
    let mut leaf = 0usize;
    for part in &msg.parts {
        if matches!(part.body, PartType::Multipart(_) | PartType::Message(_)) {
            continue;
        }
        leaf += 1;
        let mt = mime::mime_type(part);
        let name = mime::filename(part)
            .unwrap_or_default()
            .to_ascii_lowercase();
        let candidate = mt == "application/json"
            || name.ends_with(".json")
            || name == "report.txt"
            || (flagged && leaf == 2 && mt.starts_with("text/"));
        if !candidate {
            continue;
        }
        let body = match mime::part_text(msg, part) {
            Some(t) => t,
            None => String::from_utf8_lossy(&mime::body_bytes(msg, part)).into_owned(),
        };
        if let Some(p) = xarf::parse_report_part(&body) {
            parsed = Some(p);
            break;
        }
    }
    let mut d = match parsed {
        Some(p) => Draft::from_xarf(p),
        None if flagged => {
            let mut d = Draft::new(ReportFormat::Xarf);
            d.xarf = Some(XarfInfo {
                generation: XarfGeneration::Legacy,
                version: None,
                transport: XarfTransport::MailYaml,
                valid: false,
                category: None,
                report_type: None,
                report_sub_type: None,
                evidence_source: None,
                source: None,
                tags: Vec::new(),
            });
            d.validation.push(Problem {
                location: "X-XARF".to_owned(),
                schema_path: None,
                message: "the mail is flagged as X-ARF but has no report part (JSON, or YAML report.txt as the second part)".to_owned(),
            });
            d
        }
        None => return None,
    };
    // The evidence part(s) of an X-ARF mail.
    for part in &msg.parts {
        if d.evidence.len() >= MAX_EVIDENCE {
            break;
        }
        if let Some(f) = attached_evidence(msg, part, EvidenceSource::XarfEvidence) {
            d.evidence.push(f);
        }
    }
    Some(d)
}

/// A message/rfc822 (or message/global, text/rfc822-headers, attached `.eml`) part.
fn attached_evidence(
    msg: &Message<'_>,
    part: &MessagePart<'_>,
    source: EvidenceSource,
) -> Option<Found> {
    let mt = mime::mime_type(part);
    let filename = mime::filename(part);
    let (bytes, headers_only, source) = match mt.as_str() {
        "message/rfc822" | "message/global" => (
            mime::nested_message_bytes(part)?.into_owned(),
            false,
            source,
        ),
        "text/rfc822-headers" | "message/rfc822-headers" => {
            let s = if source == EvidenceSource::AttachedMessage {
                EvidenceSource::AttachedHeaders
            } else {
                source
            };
            (mime::body_bytes(msg, part).into_owned(), true, s)
        }
        _ => {
            let is_eml = filename
                .as_deref()
                .is_some_and(|n| n.to_ascii_lowercase().ends_with(".eml"));
            if !is_eml || matches!(part.body, PartType::Multipart(_)) {
                return None;
            }
            let bytes = mime::body_bytes(msg, part).into_owned();
            if !evidence::looks_like_message(&bytes) {
                return None;
            }
            (bytes, false, source)
        }
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    let origin = Origin {
        content_type: Some(mt),
        filename,
        headers_only,
        ..Origin::new(source)
    };
    Some(evidence::build(origin, bytes))
}

fn forwarded_draft(msg: &Message<'_>) -> Option<Draft> {
    let found: Vec<Found> = msg
        .parts
        .iter()
        .filter_map(|p| attached_evidence(msg, p, EvidenceSource::AttachedMessage))
        .take(MAX_EVIDENCE)
        .collect();
    if found.is_empty() {
        return None;
    }
    let mut d = Draft::new(ReportFormat::Forwarded);
    d.evidence = found;
    Some(d)
}

fn pasted_draft(pieces: &[Piece]) -> Option<Draft> {
    let mut d = Draft::new(ReportFormat::PastedHeaders);
    for piece in pieces {
        for block in pasted::find_blocks(&piece.text) {
            if d.evidence.len() >= MAX_EVIDENCE {
                break;
            }
            let lines = piece
                .first_line
                .map(|base| (base + block.first_line, base + block.last_line));
            if let Some(range) = lines {
                d.excluded.push(range);
            }
            d.evidence
                .push(pasted_evidence(&block, lines, block.bytes.clone(), true));
        }
    }
    (!d.evidence.is_empty()).then_some(d)
}

fn pasted_evidence(
    block: &pasted::Block,
    lines: Option<(usize, usize)>,
    bytes: Vec<u8>,
    headers_only: bool,
) -> Found {
    let origin = Origin {
        pasted: Some(PastedBlock {
            lines: lines.map(|(a, b)| (a + 1, b + 1)),
            quote_prefix: block.prefix.clone(),
            fields: block.fields,
        }),
        headers_only,
        ..Origin::new(EvidenceSource::PastedText)
    };
    evidence::build(origin, bytes)
}

fn spamcop_draft(msg: &Message<'_>, subject: Option<&str>, pieces: &[Piece]) -> Draft {
    let piece = pieces.first();
    let p = spamcop::parse(subject, piece.map_or("", |p| p.text.as_str()));
    let mut d = Draft::new(ReportFormat::Spamcop);
    d.kind = Some(ReportKind::Spam);
    d.source_ip = p.source_ip;
    d.event_time = p.event_time;
    d.report_id = p.report_id;
    if let Some((block, last, bytes)) = p.offending {
        let lines = piece
            .and_then(|pc| pc.first_line)
            .map(|base| (base + block.first_line, base + last));
        if let Some(range) = lines {
            d.excluded.push(range);
        }
        d.evidence
            .push(pasted_evidence(&block, lines, bytes, false));
    }
    for part in &msg.parts {
        if d.evidence.len() >= MAX_EVIDENCE {
            break;
        }
        if let Some(f) = attached_evidence(msg, part, EvidenceSource::AttachedMessage) {
            d.evidence.push(f);
        }
    }
    for u in &p.info.spamvertised_urls {
        text::push_unique(&mut d.urls, u.clone());
    }
    d.spamcop = Some(p.info);
    d
}

/// Fill in everything common to all formats.
pub(crate) fn finish(mut d: Draft, envelope: Envelope, mut full_text: String) -> Report {
    // Best evidence first: traceable, then complete.
    d.evidence.sort_by_key(|f| {
        (
            !f.evidence.has_received,
            f.evidence.completeness != crate::model::Completeness::FullMessage,
        )
    });

    let prose = prose_of(&full_text, &d.excluded);
    let subject = envelope.subject.clone().unwrap_or_default();

    let kind = match d.kind {
        Some(k) => k,
        None => text::kind_from_keywords([subject.as_str(), prose.as_str()]).unwrap_or(
            if d.format != ReportFormat::Arf && !d.evidence.is_empty() {
                ReportKind::Spam
            } else {
                ReportKind::Other
            },
        ),
    };

    let language = match text::detect_language(&prose) {
        Language::Other if prose.trim().is_empty() => text::detect_language(&subject),
        l => l,
    };

    let mut ips = Vec::new();
    text::find_ips(&prose, &mut ips);

    let mut urls = std::mem::take(&mut d.urls);
    let mut domains = std::mem::take(&mut d.domains);
    for f in &d.evidence {
        for u in &f.facts.urls {
            text::push_unique(&mut urls, u.clone());
        }
    }
    text::find_urls(&full_text, &mut urls);
    for u in &urls {
        if let Some(host) = text::url_host(u).and_then(|h| text::normalise_domain(&h)) {
            text::push_unique(&mut domains, host);
        }
    }
    for f in &d.evidence {
        for dom in &f.facts.domains {
            text::push_unique(&mut domains, dom.clone());
        }
    }

    let event_time = d.event_time.or_else(|| {
        d.evidence
            .first()
            .and_then(|f| f.facts.date.or(f.facts.received_date))
    });

    let traceable = d.evidence.iter().any(|f| f.evidence.has_received);
    let mut source_ip = d.source_ip;
    if source_ip.is_none()
        && !traceable
        && matches!(
            d.format,
            ReportFormat::Plain | ReportFormat::Forwarded | ReportFormat::PastedHeaders
        )
        && ips.len() == 1
    {
        source_ip = ips.first().copied();
    }
    // Headers help only where the abuse came by mail: a takedown, disclosure request or
    // login attack needs URLs or logs, not headers.
    let needs_full_headers = !traceable
        && d.source_ip.is_none()
        && (kind.is_mail_borne()
            || (kind == ReportKind::Other && source_ip.is_none() && urls.is_empty()));

    let mut reporter = envelope.reporter;
    if let Some(r) = d.reporter.take() {
        reporter = Reporter {
            address: r.address.or(reporter.address),
            name: r.name.or(reporter.name),
            organisation: r.organisation.or(reporter.organisation),
            domain: r.domain.or(reporter.domain),
        };
    }
    if d.format == ReportFormat::Spamcop && reporter.organisation.is_none() {
        reporter.organisation = Some("SpamCop".to_owned());
    }

    let text_truncated = truncate(&mut full_text, MAX_TEXT_BYTES);
    let line_count = full_text.lines().count();
    let evidence = d
        .evidence
        .into_iter()
        .map(|f| {
            let mut e = f.evidence;
            if let Some(p) = e.pasted.as_mut()
                && p.lines.is_some_and(|(_, last)| last > line_count)
            {
                p.lines = None;
            }
            e
        })
        .collect();

    Report {
        format: d.format,
        kind,
        reporter,
        source_ip,
        source_port: d.source_port,
        event_time,
        complaint_date: envelope.complaint_date,
        subject: envelope.subject,
        message_id: envelope.message_id,
        report_id: d.report_id,
        language,
        evidence,
        urls,
        domains,
        ips,
        text: full_text,
        text_truncated,
        validation: d.validation,
        needs_full_headers,
        arf: d.arf,
        xarf: d.xarf,
        spamcop: d.spamcop,
    }
}

/// The text without the excluded (evidence) line ranges.
fn prose_of(text: &str, excluded: &[(usize, usize)]) -> String {
    if excluded.is_empty() {
        return text.to_owned();
    }
    let mut ranges = excluded.to_vec();
    ranges.sort_unstable();
    let mut ranges = ranges.into_iter().peekable();
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.lines().enumerate() {
        while ranges.peek().is_some_and(|&(_, b)| b < i) {
            ranges.next();
        }
        if ranges.peek().is_some_and(|&(a, b)| a <= i && i <= b) {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Cut at a char boundary; true when something was cut.
fn truncate(s: &mut String, max: usize) -> bool {
    if s.len() <= max {
        return false;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
    true
}
