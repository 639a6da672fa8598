//! Bounces (MAILER-DAEMON, DSNs): find the bounced original, trace it too, and tell
//! backscatter (a real bounce of mail forged in the recipient's name) from spam dressed
//! as a bounce. Also the attachment-name scan used by the indicators.

use crate::classify::EnvelopeClass;
use crate::message::Headers;
use mail_parser::{MessageParser, MimeHeaders, PartType};
use serde::Serialize;

/// What kind of bounce this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BounceKind {
    /// A real delivery report returning a message that was sent in the recipient's name
    /// by someone else: the recipient never sent it.
    Backscatter,
    /// It looks like a bounce, but carries no delivery report and no bounced message:
    /// spam (or a lure) posing as one.
    Fake,
    /// A delivery report whose original could not be tied to the recipient.
    Undetermined,
}

/// The bounce analysis.
#[derive(Debug, Clone, Serialize)]
pub struct Bounce {
    pub kind: BounceKind,
    pub reason: String,
    /// The bounced original, traced.
    pub original: Option<Box<crate::Trace>>,
}

const SUBJECT_PHRASES: &[&str] = &[
    "undeliver",
    "returned mail",
    "delivery status notification",
    "delivery failure",
    "delivery failed",
    "mail delivery failed",
    "failure notice",
    "delivery notification",
    "could not be delivered",
    "mail system error",
    "nondeliverable",
    "non-deliverable",
    "returned to sender",
    "warning: could not send",
];

/// Does the message present itself as a bounce?
pub fn looks_like_bounce(h: &Headers, envelope: EnvelopeClass) -> bool {
    let from_daemon = h.from.iter().any(|m| {
        let local = m
            .address
            .as_deref()
            .and_then(|a| a.split('@').next())
            .unwrap_or("")
            .to_ascii_lowercase();
        let name = m.name.as_deref().unwrap_or("").to_ascii_lowercase();
        matches!(
            local.as_str(),
            "mailer-daemon" | "mail-daemon" | "postmaster" | "mailerdaemon"
        ) || name.contains("mail delivery")
            || name.contains("mailer-daemon")
    });
    let report = h
        .content_type
        .as_ref()
        .is_some_and(|(t, s)| t == "multipart" && s.as_deref() == Some("report"))
        && h.report_type
            .as_deref()
            .is_none_or(|r| r == "delivery-status");
    let subject = h
        .subject
        .as_deref()
        .map(|s| s.to_ascii_lowercase())
        .is_some_and(|s| SUBJECT_PHRASES.iter().any(|p| s.contains(p)));
    from_daemon || (envelope == EnvelopeClass::Null && (report || subject))
}

/// Markers after which bouncing MTAs paste the original message.
const INLINE_MARKERS: &[&str] = &[
    "------ This is a copy of the message, including all the headers. ------",
    "--- Below this line is a copy of the message.",
    "----- Original message -----",
    "-----Original Message-----",
    "----- Unsent message follows -----",
    "Original message headers:",
    "------ Original message ------",
    "----- The original message follows -----",
    "------- Returned Message --------",
    "The original message was received",
    "--- The header of the original message is following. ---",
];

/// The bounce's structure: a delivery-status part and the bounced original's bytes.
pub struct Extracted {
    pub has_delivery_status: bool,
    pub original: Option<Vec<u8>>,
    pub has_urls: bool,
}

/// Looks inside the message for the delivery report and the bounced original.
pub fn extract(raw: &[u8]) -> Extracted {
    let mut out = Extracted {
        has_delivery_status: false,
        original: None,
        has_urls: false,
    };
    let Some(msg) = MessageParser::default().parse(raw) else {
        return out;
    };
    for part in msg.parts.iter().skip(1) {
        let ct = part.content_type();
        let ctype = ct
            .map(|c| c.ctype().to_ascii_lowercase())
            .unwrap_or_default();
        let sub = ct
            .and_then(|c| c.subtype())
            .map(|s| s.to_ascii_lowercase())
            .unwrap_or_default();
        match (&part.body, ctype.as_str(), sub.as_str()) {
            (PartType::Message(m), _, _) if out.original.is_none() => {
                out.original = Some(m.raw_message().to_vec())
            }
            (_, "message", "delivery-status") | (_, "message", "global-delivery-status") => {
                out.has_delivery_status = true
            }
            (PartType::Text(t), "text", "rfc822-headers") if out.original.is_none() => {
                out.original = Some(t.as_bytes().to_vec())
            }
            (PartType::Binary(b) | PartType::InlineBinary(b), "text", "rfc822-headers")
                if out.original.is_none() =>
            {
                out.original = Some(b.to_vec())
            }
            _ => {}
        }
    }
    let text = msg.body_text(0).map(|t| t.into_owned()).unwrap_or_default();
    out.has_urls =
        text.contains("http://") || text.contains("https://") || msg.body_html(0).is_some();
    if out.original.is_none() {
        out.original = inline_original(&text);
    }
    out
}

/// Finds an original message pasted into a bounce's text after one of the known markers:
/// from the first header-looking line after the marker to the end.
fn inline_original(text: &str) -> Option<Vec<u8>> {
    let pos = INLINE_MARKERS
        .iter()
        .filter_map(|m| text.find(m).map(|p| p + m.len()))
        .min()?;
    let rest = &text[pos..];
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        let l = line.trim_start_matches(['>', ' ']);
        if let Some((name, _)) = l.split_once(':')
            && !name.is_empty()
            && name.len() < 40
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            let body = &rest[offset..];
            return Some(
                body.lines()
                    .map(|l| l.strip_prefix("> ").unwrap_or(l))
                    .collect::<Vec<_>>()
                    .join("\n")
                    .into_bytes(),
            );
        }
        offset += line.len();
        if offset > 4096 {
            break;
        }
    }
    None
}

/// Executable attachment names in a MIME body (`filename=` / `name=` parameters).
/// Scans at most the first 16 MB.
pub fn executable_attachments(body: &[u8]) -> Vec<String> {
    const EXT: &[&str] = &[
        "exe", "scr", "pif", "com", "bat", "cmd", "vbs", "vbe", "js", "jse", "wsf", "wsh", "hta",
        "cpl", "lnk", "msi", "jar", "ps1", "reg",
    ];
    let body = &body[..body.len().min(16 << 20)];
    let mut names = Vec::new();
    for eq in memchr::memchr_iter(b'=', body) {
        if names.len() >= 20 {
            break;
        }
        // The parameter word must be `name` or `filename` (not `rename`, `hostname`).
        let lo = eq.saturating_sub(16);
        let start = body[lo..eq]
            .iter()
            .rposition(|b| !b.is_ascii_alphanumeric())
            .map(|p| lo + p + 1)
            .unwrap_or(lo);
        let word = &body[start..eq];
        if !word.eq_ignore_ascii_case(b"name") && !word.eq_ignore_ascii_case(b"filename") {
            continue;
        }
        let pos = eq - 3;
        let after = &body[pos + 4..body.len().min(pos + 4 + 256)];
        let value: Vec<u8> = if after.first() == Some(&b'"') {
            after[1..]
                .iter()
                .take_while(|&&b| b != b'"' && b != b'\n')
                .copied()
                .collect()
        } else {
            after
                .iter()
                .take_while(|&&b| !b.is_ascii_whitespace() && b != b';')
                .copied()
                .collect()
        };
        let name = String::from_utf8_lossy(&value).to_string();
        let ext = name.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
        if name.contains('.') && EXT.contains(&ext.as_str()) && !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attachment_names() {
        let body = b"--b\nContent-Type: application/octet-stream; name=\"setup.exe\"\nContent-Disposition: attachment; filename=\"setup.exe\"\n\n--b\nContent-Type: text/plain; name=readme.txt\n";
        assert_eq!(executable_attachments(body), vec!["setup.exe".to_string()]);
        assert!(executable_attachments(b"rename=foo.exe").is_empty());
        assert_eq!(
            executable_attachments(b"FILENAME=WORM.PIF;"),
            vec!["WORM.PIF".to_string()]
        );
    }

    #[test]
    fn inline() {
        let t = "Sorry.\n\n------ This is a copy of the message, including all the headers. ------\n\nReturn-path: <a@b.example>\nReceived: from x by y; Mon, 1 Jan 2007 00:00:00 +0000\nSubject: hi\n\nbody\n";
        let o = inline_original(t).unwrap();
        assert!(
            String::from_utf8(o)
                .unwrap()
                .starts_with("Return-path: <a@b.example>")
        );
    }
}
