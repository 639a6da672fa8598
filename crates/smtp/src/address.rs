//! Envelope addresses: RFC 5321 4.1.2 paths, with RFC 6531 (SMTPUTF8) extensions.
//!
//! Parsing is RFC-shaped but forgiving where real senders differ from the grammar and no
//! harm follows (see `docs/smtp.md`): a local-part may hold any atext and dots in any
//! order (`john..doe`), domain labels may hold `_`, and source routes are accepted and
//! dropped (RFC 5321 4.1.1.3 says a server MUST accept them and SHOULD ignore them).

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Why an address was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("empty address")]
    Empty,
    #[error("missing '@' between local-part and domain")]
    NoAt,
    #[error("invalid local-part")]
    LocalPart,
    #[error("invalid domain")]
    Domain,
    #[error("invalid address literal")]
    AddressLiteral,
    #[error("non-ASCII address without the SMTPUTF8 parameter")]
    NonAscii,
    #[error("invalid source route")]
    Route,
    #[error("unbalanced angle brackets")]
    Brackets,
}

/// A mailbox `local-part@domain`, both parts exactly as the client wrote them (a quoted
/// local-part keeps its quotes; case is kept).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Mailbox {
    local_part: String,
    domain: String,
}

impl Mailbox {
    /// Parses `local@domain` (no angle brackets). `utf8` allows RFC 6531 characters.
    pub fn parse(s: &str, utf8: bool) -> Result<Self, AddressError> {
        if s.is_empty() {
            return Err(AddressError::Empty);
        }
        if !utf8 && !s.is_ascii() {
            return Err(AddressError::NonAscii);
        }
        let at = local_part_end(s)?;
        let (local, rest) = s.split_at(at);
        let domain = rest.strip_prefix('@').ok_or(AddressError::NoAt)?;
        validate_domain(domain)?;
        Ok(Mailbox {
            local_part: local.to_string(),
            domain: domain.to_string(),
        })
    }

    pub fn local_part(&self) -> &str {
        &self.local_part
    }
    pub fn domain(&self) -> &str {
        &self.domain
    }
    /// True for `[192.0.2.1]`, `[IPv6:...]` and general address literals.
    pub fn is_address_literal(&self) -> bool {
        self.domain.starts_with('[')
    }
}

impl fmt::Display for Mailbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.local_part, self.domain)
    }
}

/// The MAIL FROM path: a mailbox or the null path `<>` (bounces).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ReversePath {
    Null,
    Mailbox(Mailbox),
}

impl fmt::Display for ReversePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReversePath::Null => f.write_str("<>"),
            ReversePath::Mailbox(m) => write!(f, "<{m}>"),
        }
    }
}

/// The RCPT TO path: a mailbox, or the bare `<Postmaster>` every server must accept
/// (RFC 5321 4.1.1.3).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ForwardPath {
    /// `<Postmaster>` without a domain, spelled as given.
    Postmaster(String),
    Mailbox(Mailbox),
}

impl fmt::Display for ForwardPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ForwardPath::Postmaster(p) => write!(f, "<{p}>"),
            ForwardPath::Mailbox(m) => write!(f, "<{m}>"),
        }
    }
}

/// Splits `<path> params` (or a forgiving `path params` without brackets) into the
/// inside of the path and the remaining parameter text. The returned bool tells whether
/// the path had angle brackets.
pub(crate) fn split_path(arg: &str) -> Result<(&str, &str, bool), AddressError> {
    let arg = arg.trim_start_matches(' ');
    if let Some(inner) = arg.strip_prefix('<') {
        // Find the closing '>' outside a quoted string.
        let bytes = inner.as_bytes();
        let mut i = 0;
        let mut in_quote = false;
        while i < bytes.len() {
            match bytes[i] {
                b'\\' if in_quote => i += 1,
                b'"' => in_quote = !in_quote,
                b'>' if !in_quote => {
                    let path = &inner[..i];
                    let rest = &inner[i + 1..];
                    if !rest.is_empty() && !rest.starts_with(' ') {
                        return Err(AddressError::Brackets);
                    }
                    return Ok((path, rest, true));
                }
                _ => {}
            }
            i += 1;
        }
        Err(AddressError::Brackets)
    } else {
        if arg.is_empty() {
            return Err(AddressError::Empty);
        }
        let end = arg.find(' ').unwrap_or(arg.len());
        let (path, rest) = arg.split_at(end);
        if path.contains(['<', '>']) {
            return Err(AddressError::Brackets);
        }
        Ok((path, rest, false))
    }
}

/// Drops an RFC 5321 source route (`@a.example,@b.example:`) from the inside of a path.
pub(crate) fn strip_route(path: &str) -> Result<&str, AddressError> {
    if !path.starts_with('@') {
        return Ok(path);
    }
    let colon = path.find(':').ok_or(AddressError::Route)?;
    for hop in path[..colon].split(',') {
        let d = hop.strip_prefix('@').ok_or(AddressError::Route)?;
        validate_domain(d).map_err(|_| AddressError::Route)?;
    }
    Ok(&path[colon + 1..])
}

pub(crate) fn parse_reverse_path(inner: &str, utf8: bool) -> Result<ReversePath, AddressError> {
    if inner.is_empty() {
        return Ok(ReversePath::Null);
    }
    let inner = strip_route(inner)?;
    Mailbox::parse(inner, utf8).map(ReversePath::Mailbox)
}

pub(crate) fn parse_forward_path(inner: &str, utf8: bool) -> Result<ForwardPath, AddressError> {
    if inner.is_empty() {
        return Err(AddressError::Empty);
    }
    if inner.eq_ignore_ascii_case("postmaster") {
        return Ok(ForwardPath::Postmaster(inner.to_string()));
    }
    let inner = strip_route(inner)?;
    Mailbox::parse(inner, utf8).map(ForwardPath::Mailbox)
}

fn is_atext(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c) || !c.is_ascii()
}

/// Returns the byte index of the '@' that ends the local-part.
fn local_part_end(s: &str) -> Result<usize, AddressError> {
    if let Some(rest) = s.strip_prefix('"') {
        // Quoted-string: qtextSMTP / quoted-pairSMTP, then the closing quote.
        let mut chars = rest.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some((_, q)) if (' '..='~').contains(&q) => {}
                    _ => return Err(AddressError::LocalPart),
                },
                '"' => {
                    let end = 1 + i + 1;
                    return if s[end..].starts_with('@') {
                        Ok(end)
                    } else {
                        Err(AddressError::NoAt)
                    };
                }
                c if c == ' '
                    || c == '!'
                    || ('#'..='[').contains(&c)
                    || (']'..='~').contains(&c) => {}
                c if !c.is_ascii() => {}
                _ => return Err(AddressError::LocalPart),
            }
        }
        Err(AddressError::LocalPart)
    } else {
        let at = s.rfind('@').ok_or(AddressError::NoAt)?;
        let local = &s[..at];
        if local.is_empty() || local.chars().all(|c| c == '.') {
            return Err(AddressError::LocalPart);
        }
        if !local.chars().all(|c| c == '.' || is_atext(c)) {
            return Err(AddressError::LocalPart);
        }
        Ok(at)
    }
}

fn validate_domain(d: &str) -> Result<(), AddressError> {
    if d.is_empty() {
        return Err(AddressError::Domain);
    }
    if let Some(lit) = d.strip_prefix('[') {
        let lit = lit.strip_suffix(']').ok_or(AddressError::AddressLiteral)?;
        return validate_address_literal(lit);
    }
    if d.len() > 255 {
        return Err(AddressError::Domain);
    }
    for label in d.split('.') {
        if label.is_empty() || label.len() > 63 || label.starts_with('-') || label.ends_with('-') {
            return Err(AddressError::Domain);
        }
        if !label
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || !c.is_ascii())
        {
            return Err(AddressError::Domain);
        }
    }
    Ok(())
}

fn validate_address_literal(lit: &str) -> Result<(), AddressError> {
    if lit.parse::<Ipv4Addr>().is_ok() {
        return Ok(());
    }
    let (tag, value) = lit.split_once(':').ok_or(AddressError::AddressLiteral)?;
    if tag.eq_ignore_ascii_case("IPv6") {
        return value
            .parse::<Ipv6Addr>()
            .map(|_| ())
            .map_err(|_| AddressError::AddressLiteral);
    }
    // General-address-literal: Standardized-tag ":" 1*dcontent.
    let tag_ok = !tag.is_empty()
        && tag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !tag.ends_with('-');
    let value_ok = !value.is_empty()
        && value
            .bytes()
            .all(|b| (33..=90).contains(&b) || (94..=126).contains(&b));
    if tag_ok && value_ok {
        Ok(())
    } else {
        Err(AddressError::AddressLiteral)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailboxes() {
        let m = Mailbox::parse("User.Name+tag@Example.COM", false).unwrap();
        assert_eq!(m.local_part(), "User.Name+tag");
        assert_eq!(m.domain(), "Example.COM");
        let m = Mailbox::parse("\"john doe\\\"x\"@example.com", false).unwrap();
        assert_eq!(m.local_part(), "\"john doe\\\"x\"");
        assert!(
            Mailbox::parse("a@[192.0.2.1]", false)
                .unwrap()
                .is_address_literal()
        );
        assert!(Mailbox::parse("a@[IPv6:2001:db8::1]", false).is_ok());
        assert!(Mailbox::parse("a@[x-tag:stuff]", false).is_ok());
        assert!(Mailbox::parse("john..doe@example.com", false).is_ok());
        assert!(Mailbox::parse("a@under_score.example", false).is_ok());
        assert!(Mailbox::parse("δοκιμή@παράδειγμα.δοκιμή", true).is_ok());
        assert_eq!(
            Mailbox::parse("δοκιμή@example.com", false),
            Err(AddressError::NonAscii)
        );
        for bad in [
            "",
            "a",
            "@b",
            "a@",
            "a b@c",
            "a@b..c",
            "a@-b.c",
            "a@[1.2.3]",
            "a@[IPv6:zz]",
            "\"abc@d",
            "\"a\"b@c",
            "a@b c",
            "a@[1.2.3.4",
            ".@b",
            "a(b)@c",
        ] {
            assert!(Mailbox::parse(bad, true).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn paths() {
        assert_eq!(
            split_path("<a@b> SIZE=1").unwrap(),
            ("a@b", " SIZE=1", true)
        );
        assert_eq!(split_path("  <a@b>").unwrap(), ("a@b", "", true));
        assert_eq!(split_path("a@b SIZE=1").unwrap(), ("a@b", " SIZE=1", false));
        assert_eq!(split_path("<\"a>b\"@c>").unwrap(), ("\"a>b\"@c", "", true));
        assert!(split_path("<a@b").is_err());
        assert!(split_path("<a@b>x").is_err());
        assert!(split_path("").is_err());
        assert_eq!(parse_reverse_path("", false).unwrap(), ReversePath::Null);
        assert_eq!(
            parse_reverse_path("@r1.example,@r2.example:u@d.example", false)
                .unwrap()
                .to_string(),
            "<u@d.example>"
        );
        assert!(parse_reverse_path("@r1.example:", false).is_err());
        assert!(parse_reverse_path("@:u@d", false).is_err());
        assert_eq!(
            parse_forward_path("PostMaster", false).unwrap(),
            ForwardPath::Postmaster("PostMaster".into())
        );
        assert!(parse_forward_path("", false).is_err());
    }
}
