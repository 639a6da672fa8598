//! SpamCop reports: sent from `<id>@reports.spamcop.net`, subject
//! `[SpamCop (<source>) id:<id>]<original subject>`, a version banner
//! (`- SpamCop V1.3.3 -`, `[ SpamCop V5.3.1 ]`), a tracking URL, the line
//! `Email from <ip> / <date>` (or `Spamvertised web site: <url>`), and the offending
//! message pasted after `Offending message:` (newer reports may attach it instead).
use std::net::IpAddr;

use chrono::{DateTime, Utc};

use crate::mime;
use crate::model::SpamcopInfo;
use crate::pasted::{self, Block};
use crate::text;

pub(crate) struct Parsed {
    pub info: SpamcopInfo,
    pub source_ip: Option<IpAddr>,
    pub event_time: Option<DateTime<Utc>>,
    pub report_id: Option<String>,
    /// The offending message rebuilt from the text: (block, last line of its body, bytes).
    pub offending: Option<(Block, usize, Vec<u8>)>,
}

pub(crate) fn detect(from: Option<&str>, subject: Option<&str>, text: &str) -> bool {
    if from.is_some_and(|f| {
        let f = f.to_ascii_lowercase();
        f.ends_with("@reports.spamcop.net") || f.ends_with(".reports.spamcop.net")
    }) {
        return true;
    }
    if subject.is_some_and(|s| s.trim_start().starts_with("[SpamCop")) {
        return true;
    }
    let head: String = text.lines().take(30).collect::<Vec<_>>().join("\n");
    head.contains("SpamCop V")
        && (head.contains("Email from")
            || head.contains("Offending message")
            || head.contains("Spamvertised"))
}

pub(crate) fn parse(subject: Option<&str>, text: &str) -> Parsed {
    let mut info = SpamcopInfo::default();
    let mut source_ip = None;
    let mut event_time = None;
    let mut marker = None;

    let lines: Vec<&str> = text.lines().collect();
    for (idx, line) in lines.iter().enumerate() {
        let l = line.trim();
        if info.version.is_none()
            && let Some(pos) = l.find("SpamCop V")
        {
            let v: String = l[pos + "SpamCop ".len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '.')
                .collect();
            info.version = Some(v);
        }
        if source_ip.is_none()
            && let Some(rest) = l.strip_prefix("Email from ")
        {
            let (ip, date) = rest.split_once(" / ").unwrap_or((rest, ""));
            source_ip = ip.trim().parse().ok();
            event_time = mime::parse_mail_date(date);
        }
        if let Some(rest) = l.strip_prefix("Spamvertised web site:") {
            text::find_urls(rest, &mut info.spamvertised_urls);
        }
        if marker.is_none() && l.to_ascii_lowercase().contains("offending message") {
            marker = Some(idx);
        }
    }

    let mut urls = Vec::new();
    text::find_urls(text, &mut urls);
    info.tracking_url = urls.into_iter().find(|u| {
        let u = u.to_ascii_lowercase();
        u.contains("spamcop.net/w3m?")
            || u.contains("spamcop.net/sc?")
            || u.contains("spamcop.net/mcgi?")
    });

    let mut report_id = None;
    if let Some(s) = subject
        && let Some(pos) = s.find("id:")
    {
        let id: String = s[pos + 3..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        if !id.is_empty() {
            report_id = Some(id);
        }
        if source_ip.is_none()
            && let (Some(open), Some(close)) = (s.find('('), s.find(')'))
            && open < close
        {
            source_ip = s[open + 1..close].trim().parse().ok();
        }
    }

    let offending = marker.and_then(|m| {
        let block = pasted::find_blocks(text)
            .into_iter()
            .find(|b| b.first_line > m)?;
        let mut bytes = block.bytes.clone();
        let quote = block
            .prefix
            .trim_end_matches([' ', '\t', '\u{3000}'])
            .to_owned();
        let body: Vec<&str> = lines
            .get(block.last_line + 2..)
            .unwrap_or_default()
            .iter()
            .map(|l| {
                if quote.is_empty() {
                    l
                } else {
                    l.strip_prefix(quote.as_str()).unwrap_or(l)
                }
            })
            .collect();
        let body_len = body
            .iter()
            .rposition(|l| !l.trim().is_empty())
            .map_or(0, |p| p + 1);
        for line in &body[..body_len] {
            bytes.extend_from_slice(line.as_bytes());
            bytes.extend_from_slice(b"\r\n");
        }
        let last = if body_len == 0 {
            block.last_line
        } else {
            block.last_line + 1 + body_len
        };
        Some((block, last, bytes))
    });

    Parsed {
        info,
        source_ip,
        event_time,
        report_id,
        offending,
    }
}
