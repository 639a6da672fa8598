//! The workers' report parser: the reports crate behind the [`ReportParser`] seam.
use abusedesk_reports::{ReportFormat, parse_report, parse_xarf_json};
use abusedesk_store::ContentType;

use crate::pipeline::{Complaint, ParseOutcome, ReportParser};

/// ARF, X-ARF, SpamCop, forwarded, pasted headers, plain (see docs/reports.md).
pub struct ComplaintParser;

impl ReportParser for ComplaintParser {
    fn parse(&self, raw: &[u8], content_type: ContentType) -> ParseOutcome {
        let parsed = match content_type {
            ContentType::Rfc822 => parse_report(raw),
            ContentType::XarfJson => parse_xarf_json(raw),
        };
        match parsed {
            Ok(r) => {
                let problems = r
                    .validation
                    .iter()
                    .map(|p| {
                        if p.location.is_empty() {
                            p.message.clone()
                        } else {
                            format!("{}: {}", p.location, p.message)
                        }
                    })
                    .collect();
                let reporter = r
                    .reporter
                    .address
                    .clone()
                    .or_else(|| r.reporter.organisation.clone())
                    .or_else(|| r.reporter.name.clone());
                ParseOutcome::Parsed(Box::new(Complaint {
                    format: r.format.as_str().to_owned(),
                    kind: r.kind.as_str().to_owned(),
                    reporter,
                    source_ip: r.source_ip,
                    source_port: r.source_port,
                    source_is_stated: matches!(
                        r.format,
                        ReportFormat::Arf | ReportFormat::Xarf | ReportFormat::Spamcop
                    ),
                    event_time: r.event_time,
                    evidence: r.evidence.into_iter().next().map(|e| e.bytes.into_vec()),
                    urls: r.urls,
                    domains: r.domains,
                    problems,
                    needs_full_headers: r.needs_full_headers,
                }))
            }
            Err(e) => ParseOutcome::Unparseable {
                format: None,
                error: e.to_string(),
                problems: vec![],
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_garbage_are_unparseable_with_a_reason() {
        let ParseOutcome::Unparseable { error, .. } =
            ComplaintParser.parse(b"", ContentType::Rfc822)
        else {
            panic!()
        };
        assert!(error.contains("empty"), "{error}");
        let ParseOutcome::Unparseable { error, .. } =
            ComplaintParser.parse(b"[1,2]", ContentType::XarfJson)
        else {
            panic!()
        };
        assert!(error.contains("array"), "{error}");
    }

    #[test]
    fn arf_source_is_stated() {
        let raw = include_bytes!("../tests/data/arf/rfc5965-B.2-full-abuse-report.eml");
        let ParseOutcome::Parsed(c) = ComplaintParser.parse(raw, ContentType::Rfc822) else {
            panic!()
        };
        assert_eq!(c.format, "arf");
        assert!(c.source_is_stated);
        assert!(c.source_ip.is_some());
        assert!(c.evidence.is_some());
    }
}
