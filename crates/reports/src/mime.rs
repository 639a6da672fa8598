//! Helpers over mail-parser: content types, part bytes, text with charset repair, dates.
use std::borrow::Cow;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use mail_parser::{Encoding, HeaderValue, Message, MessagePart, MimeHeaders, PartType};

use crate::text;

/// Lower-cased `type/subtype` of a part (`text/plain` when absent, as RFC 2045 says).
pub(crate) fn mime_type(part: &MessagePart<'_>) -> String {
    match part.content_type() {
        Some(ct) => {
            let mut s = ct.ctype().to_ascii_lowercase();
            s.push('/');
            s.push_str(&ct.subtype().unwrap_or("").to_ascii_lowercase());
            s
        }
        None => "text/plain".to_owned(),
    }
}

/// A part's file name (Content-Disposition filename or Content-Type name).
pub(crate) fn filename(part: &MessagePart<'_>) -> Option<String> {
    part.attachment_name().map(|s| s.to_owned())
}

/// The bytes of a part's body as they are in `msg`'s buffer (still transfer-encoded).
pub(crate) fn raw_body<'m>(msg: &'m Message<'_>, part: &MessagePart<'_>) -> &'m [u8] {
    msg.raw_message()
        .get(part.offset_body as usize..part.offset_end as usize)
        .unwrap_or_default()
}

/// Undo the Content-Transfer-Encoding, leniently (bad base64 characters are skipped, bad
/// quoted-printable is kept as is).
pub(crate) fn transfer_decode<'b>(raw: &'b [u8], encoding: Encoding) -> Cow<'b, [u8]> {
    match encoding {
        Encoding::Base64 => {
            let clean: Vec<u8> = raw
                .iter()
                .copied()
                .filter(|b| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/')
                .collect();
            let engine = base64::engine::GeneralPurpose::new(
                &base64::alphabet::STANDARD,
                base64::engine::GeneralPurposeConfig::new()
                    .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent)
                    .with_decode_allow_trailing_bits(true),
            );
            // A dangling single character cannot be decoded; drop it.
            let usable = if clean.len() % 4 == 1 {
                clean.len() - 1
            } else {
                clean.len()
            };
            match engine.decode(clean.get(..usable).unwrap_or_default()) {
                Ok(bytes) => Cow::Owned(bytes),
                Err(_) => Cow::Borrowed(raw),
            }
        }
        Encoding::QuotedPrintable => {
            match mail_parser::decoders::quoted_printable::quoted_printable_decode(raw) {
                Some(bytes) => Cow::Owned(bytes),
                None => Cow::Borrowed(raw),
            }
        }
        Encoding::None => Cow::Borrowed(raw),
    }
}

/// The transfer-decoded bytes of a non-multipart part.
pub(crate) fn body_bytes<'m>(msg: &'m Message<'_>, part: &'m MessagePart<'_>) -> Cow<'m, [u8]> {
    match &part.body {
        PartType::Binary(b) | PartType::InlineBinary(b) => Cow::Borrowed(b.as_ref()),
        PartType::Text(_) | PartType::Html(_) => {
            transfer_decode(raw_body(msg, part), part.encoding)
        }
        PartType::Message(_) => nested_message_bytes(part).unwrap_or(Cow::Borrowed(&[])),
        PartType::Multipart(_) => Cow::Borrowed(&[]),
    }
}

/// The bytes of a `message/rfc822` part's enclosed message.
pub(crate) fn nested_message_bytes<'m>(part: &'m MessagePart<'_>) -> Option<Cow<'m, [u8]>> {
    match &part.body {
        PartType::Message(inner) => {
            // mail-parser keeps the enclosed message's bytes as its raw message (the
            // decoded bytes when the part was transfer-encoded). Should it ever hand back
            // the parent's buffer instead, the part's offsets select the message.
            let raw = inner.raw_message();
            let (start, end) = (part.offset_body as usize, part.offset_end as usize);
            if part.encoding == Encoding::None
                && raw.len() > end.saturating_sub(start)
                && let Some(slice) = raw.get(start..end)
            {
                Some(Cow::Borrowed(slice))
            } else {
                Some(Cow::Borrowed(raw))
            }
        }
        PartType::Text(t) => Some(Cow::Borrowed(t.as_bytes())),
        PartType::Binary(b) | PartType::InlineBinary(b) => Some(Cow::Borrowed(b.as_ref())),
        _ => None,
    }
}

/// The decoded text of a text part. mail-parser decodes labelled charsets; when the
/// charset is missing, unknown or wrong (the text has U+FFFD or ISO-2022-JP escapes), the
/// raw bytes are sniffed instead.
pub(crate) fn part_text(msg: &Message<'_>, part: &MessagePart<'_>) -> Option<String> {
    let decoded: &str = match &part.body {
        PartType::Text(t) => t,
        PartType::Html(h) => return Some(mail_parser::decoders::html::html_to_text(h)),
        _ => return None,
    };
    let charset_known = part
        .content_type()
        .and_then(|ct| ct.attribute("charset"))
        .is_some_and(|cs| {
            mail_parser::decoders::charsets::map::charset_decoder(cs.as_bytes()).is_some()
        });
    let needs_sniff = decoded.contains('\u{fffd}') && !charset_known || decoded.contains('\u{1b}');
    if needs_sniff {
        let bytes = transfer_decode(raw_body(msg, part), part.encoding);
        return Some(text::decode_unlabelled(&bytes));
    }
    Some(decoded.to_owned())
}

/// A header's text value; raw 8-bit values that were not valid UTF-8 are sniffed.
pub(crate) fn header_text(msg: &Message<'_>, name: &str) -> Option<String> {
    let header = msg
        .root_part()
        .headers
        .iter()
        .find(|h| h.name.as_str().eq_ignore_ascii_case(name))?;
    let value = match &header.value {
        HeaderValue::Text(t) => t.as_ref().to_owned(),
        HeaderValue::TextList(list) => list.join(", "),
        _ => unfold(&String::from_utf8_lossy(
            msg.raw_message()
                .get(header.offset_start as usize..header.offset_end as usize)
                .unwrap_or_default(),
        )),
    };
    if value.contains('\u{fffd}') || value.contains('\u{1b}') {
        let raw = msg
            .raw_message()
            .get(header.offset_start as usize..header.offset_end as usize)
            .unwrap_or_default();
        return Some(unfold(&text::decode_unlabelled(raw)));
    }
    let value = value.trim().to_owned();
    (!value.is_empty()).then_some(value)
}

/// Join folded lines and trim.
pub(crate) fn unfold(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for (i, line) in value.lines().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(if i > 0 { line.trim_start() } else { line });
    }
    out.trim().to_owned()
}

/// mail-parser's date as UTC, when it is a real date.
pub(crate) fn to_utc(dt: &mail_parser::DateTime) -> Option<DateTime<Utc>> {
    if !dt.is_valid() {
        return None;
    }
    DateTime::from_timestamp(dt.to_timestamp(), 0)
}

/// Parse an RFC 5322 date (also the common sloppy forms mail-parser accepts).
pub(crate) fn parse_mail_date(value: &str) -> Option<DateTime<Utc>> {
    match mail_parser::parsers::MessageStream::new(value.trim().as_bytes()).parse_date() {
        HeaderValue::DateTime(dt) => to_utc(&dt),
        _ => None,
    }
}

/// Parse the date forms X-ARF and SpamCop reports use: RFC 3339, RFC 5322, and
/// `Feb  3 2014 02:13:35 +0100` (X-ARF 0.2 samples).
pub(crate) fn parse_any_date(value: &str) -> Option<DateTime<Utc>> {
    let value = value.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(value) {
        return Some(dt.with_timezone(&Utc));
    }
    for fmt in [
        "%b %e %Y %H:%M:%S %z",
        "%Y-%m-%d %H:%M:%S %z",
        "%Y-%m-%dT%H:%M:%S%z",
    ] {
        if let Ok(dt) = DateTime::parse_from_str(value, fmt) {
            return Some(dt.with_timezone(&Utc));
        }
    }
    parse_mail_date(value)
}

/// The first mail address of an address header: (address, display name).
pub(crate) fn first_address(
    value: Option<&HeaderValue<'_>>,
) -> Option<(Option<String>, Option<String>)> {
    let addr = value?.as_address()?.first()?;
    let address = addr
        .address()
        .map(|a| a.trim().to_owned())
        .filter(|a| !a.is_empty());
    let name = addr
        .name()
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    if address.is_none() && name.is_none() {
        return None;
    }
    Some((address, name))
}
