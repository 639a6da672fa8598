//! Finding a header block pasted into a complaint's text and rebuilding it as RFC 5322
//! bytes.
//!
//! People paste headers quoted (`> `, `>> `, `| `), indented (spaces, tabs, the
//! full-width space U+3000), inside Japanese prose, with continuation lines indented more
//! than the first line - or not at all when a mail client re-wrapped long lines. A block
//! is a run of lines with the same quoting whose first line is a header field; it ends at
//! a blank line, a change of quoting, less indentation, or a line that is neither a field
//! nor a plausible continuation. It counts as evidence when it has a `Received:` field, or
//! at least three well-known fields (an inline "Forwarded message" header: From, Date,
//! Subject, To).

/// Header names whose presence makes a run of `Name: value` lines a mail header.
const KNOWN: &[&str] = &[
    "received",
    "return-path",
    "from",
    "to",
    "cc",
    "subject",
    "date",
    "message-id",
    "reply-to",
    "sender",
    "delivered-to",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
    "x-mailer",
    "user-agent",
    "received-spf",
    "authentication-results",
    "dkim-signature",
    "x-originating-ip",
    "envelope-to",
    "x-original-to",
    "list-unsubscribe",
    "errors-to",
    "precedence",
    "x-priority",
    "x-sender",
    "in-reply-to",
    "references",
];

/// Continuation words of a re-wrapped `Received:` line.
const RECEIVED_CONTINUATIONS: &[&str] = &["by ", "with ", "id ", "for ", "via ", "(", ";"];

/// A line this long was probably wrapped by a mail client.
const WRAP_WIDTH: usize = 60;
/// Header blocks longer than this are cut (hostile input).
const MAX_FIELDS: usize = 1000;

/// A header block found in text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Block {
    /// Index (0-based) of the first line of the block.
    pub first_line: usize,
    /// Index of the last line of the block.
    pub last_line: usize,
    /// The quoting and indentation of the first line.
    pub prefix: String,
    pub fields: usize,
    pub received: usize,
    /// The header section, CRLF line ends, ending with an empty line.
    pub bytes: Vec<u8>,
}

/// The field name when `line` starts with `Name:` (RFC 5322 field-name made of letters,
/// digits, `-`, `_`, `.`; followed by whitespace or end of line unless well known).
pub(crate) fn field_name(line: &str) -> Option<&str> {
    let colon = line.find(':')?;
    let name = &line[..colon];
    let first = *name.as_bytes().first()?;
    if name.len() > 76
        || !first.is_ascii_alphabetic()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
    {
        return None;
    }
    let after = line.as_bytes().get(colon + 1);
    if matches!(after, None | Some(b' ') | Some(b'\t') | Some(b'\r')) || is_known(name) {
        Some(name)
    } else {
        None
    }
}

fn is_known(name: &str) -> bool {
    KNOWN.iter().any(|k| name.eq_ignore_ascii_case(k))
        || name.len() > 2 && name.as_bytes()[..2].eq_ignore_ascii_case(b"x-")
        || name.len() > 4 && name.as_bytes()[..4].eq_ignore_ascii_case(b"arc-")
}

/// Split a line into its quote marks (`> > `, `|`) and the rest.
fn split_quote(line: &str) -> (&str, &str) {
    let b = line.as_bytes();
    let mut end = 0;
    let mut i = 0;
    loop {
        let mut j = i;
        while j < b.len() && (b[j] == b' ' || b[j] == b'\t') {
            j += 1;
        }
        if j < b.len() && (b[j] == b'>' || b[j] == b'|') {
            i = j + 1;
            end = i;
        } else {
            break;
        }
    }
    if end > 0 && b.get(end) == Some(&b' ') {
        end += 1;
    }
    (&line[..end], &line[end..])
}

fn quote_depth(quote: &str) -> usize {
    quote.bytes().filter(|&b| b == b'>' || b == b'|').count()
}

/// Indentation width (tab = 8, full-width space = 2) and its length in bytes.
fn indent(rest: &str) -> (usize, usize) {
    let mut width = 0;
    let mut len = 0;
    for c in rest.chars() {
        match c {
            ' ' => width += 1,
            '\t' => width += 8,
            '\u{3000}' => width += 2,
            _ => break,
        }
        len += c.len_utf8();
    }
    (width, len)
}

/// Every header block in `text`, in order.
pub(crate) fn find_blocks(text: &str) -> Vec<Block> {
    let lines: Vec<&str> = text.lines().collect();
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        match grow(&lines, i) {
            Grown::Block(block) => {
                i = block.last_line + 1;
                blocks.push(block);
            }
            // A suffix of a rejected run has fewer fields and is rejected too: skip it
            // (this also keeps the scan linear on hostile input).
            Grown::Rejected { last_line } => i = last_line + 1,
            Grown::NotAField => i += 1,
        }
    }
    blocks
}

enum Grown {
    Block(Block),
    Rejected { last_line: usize },
    NotAField,
}

/// Try to read a header block starting at line `start`.
fn grow(lines: &[&str], start: usize) -> Grown {
    let (quote, rest) = split_quote(lines[start]);
    let (width, width_len) = indent(rest);
    let first = &rest[width_len..];
    if field_name(first).is_none() {
        return Grown::NotAField;
    }
    let depth = quote_depth(quote);

    let mut fields: Vec<String> = vec![first.trim_end().to_owned()];
    let mut names: Vec<String> = vec![field_name(first).unwrap_or_default().to_ascii_lowercase()];
    let mut last = start;
    let mut prev_len = lines[start].chars().count();
    for (j, line) in lines.iter().enumerate().skip(start + 1) {
        if fields.len() >= MAX_FIELDS {
            break;
        }
        let (q, r) = split_quote(line);
        if quote_depth(q) != depth || r.trim().is_empty() {
            break;
        }
        let (w, wlen) = indent(r);
        let content = r[wlen..].trim_end();
        let Some(current) = fields.last_mut() else {
            break;
        };
        if w > width {
            current.push_str("\r\n\t");
            current.push_str(content);
        } else if w == width {
            if let Some(name) = field_name(content) {
                names.push(name.to_ascii_lowercase());
                fields.push(content.to_owned());
            } else if content.is_ascii()
                && (prev_len >= WRAP_WIDTH
                    || names.last().is_some_and(|n| n == "received")
                        && RECEIVED_CONTINUATIONS
                            .iter()
                            .any(|c| content.starts_with(c)))
            {
                current.push_str("\r\n ");
                current.push_str(content);
            } else {
                break;
            }
        } else {
            break;
        }
        last = j;
        prev_len = line.chars().count();
    }

    let received = names.iter().filter(|n| *n == "received").count();
    let known = names
        .iter()
        .filter(|n| KNOWN.iter().any(|k| k == n))
        .count();
    if fields.len() < 2 || (received == 0 && known < 3) {
        return Grown::Rejected { last_line: last };
    }
    let mut bytes = Vec::with_capacity(fields.iter().map(|f| f.len() + 2).sum::<usize>() + 2);
    for f in &fields {
        bytes.extend_from_slice(f.as_bytes());
        bytes.extend_from_slice(b"\r\n");
    }
    bytes.extend_from_slice(b"\r\n");
    let prefix_len = quote.len() + width_len;
    Grown::Block(Block {
        first_line: start,
        last_line: last,
        prefix: lines[start]
            .get(..prefix_len)
            .unwrap_or_default()
            .to_owned(),
        fields: fields.len(),
        received,
        bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Block {
        let blocks = find_blocks(text);
        assert_eq!(blocks.len(), 1, "{blocks:#?}");
        blocks.into_iter().next().unwrap()
    }

    #[test]
    fn quoted_block_with_folded_received() {
        let b = one(
            "Please check:\n\n> Received: from mail.example (mail.example [203.0.113.5])\n>\tby mx.example.net; Sun, 31 Mar 2002 12:07:53 +0000\n> From: a@example.com\n> Subject: hi\n>\n> body\n",
        );
        assert_eq!(b.first_line, 2);
        assert_eq!(b.last_line, 5);
        assert_eq!(b.prefix, "> ");
        assert_eq!(b.received, 1);
        assert_eq!(
            String::from_utf8(b.bytes).unwrap(),
            "Received: from mail.example (mail.example [203.0.113.5])\r\n\tby mx.example.net; Sun, 31 Mar 2002 12:07:53 +0000\r\nFrom: a@example.com\r\nSubject: hi\r\n\r\n"
        );
    }

    #[test]
    fn indented_block_and_japanese_prose_end_it() {
        let b = one(
            "以下のメールです。\n　　Received: from x (x [203.0.113.5])\n　　　　by y; Sun, 31 Mar 2002 12:07:53 +0000\n　　Subject: 件名\n以上、よろしくお願いします。\n",
        );
        assert_eq!(b.fields, 2);
        assert_eq!(b.last_line, 3);
        assert_eq!(b.prefix, "　　");
    }

    #[test]
    fn rewrapped_received_lines_are_joined() {
        let b = one(
            "Received: from host.example (host.example [198.51.100.9]) by mx.example.org (Postfix)\nwith ESMTP id 4711; Mon, 1 Jan 2024 10:00:00 +0900\nFrom: x@example.com\n",
        );
        assert_eq!(b.fields, 2);
    }

    #[test]
    fn prose_with_colons_is_not_a_header() {
        assert!(find_blocks("Note: this is spam.\nReason: I never subscribed.\n").is_empty());
        assert!(field_name("http://example.com/").is_none());
        assert!(field_name("Subject:no-space").is_some());
        assert!(field_name("件名: テスト").is_none());
    }

    #[test]
    fn inline_forward_header_counts() {
        let b = one(
            "---------- Forwarded message ---------\nFrom: Spammer <s@example.com>\nDate: Mon, 1 Jan 2024 10:00:00 +0900\nSubject: Win\nTo: <me@example.net>\n\nBuy now\n",
        );
        assert_eq!(b.received, 0);
        assert_eq!(b.fields, 4);
    }
}
