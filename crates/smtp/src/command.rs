//! Command lines (RFC 5321 4.1): verb recognition and argument parsing.

use crate::address::{
    AddressError, ForwardPath, ReversePath, parse_forward_path, parse_reverse_path, split_path,
};
use std::fmt;

/// The command verb of one line, as recorded in the session log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verb {
    Ehlo,
    Helo,
    Mail,
    Rcpt,
    Data,
    Rset,
    Noop,
    Quit,
    Vrfy,
    Expn,
    Help,
    StartTls,
    /// A known SMTP verb this server does not implement (AUTH, BDAT, ETRN, ...).
    NotImplemented,
    /// An HTTP request line or similar: a cross-protocol attempt.
    NonSmtp,
    /// Anything else, including lines too long or with bad bytes.
    Unknown,
    /// Not a command: the end of a DATA block (`<CRLF>.<CRLF>`), logged with its size.
    EndOfData,
}

impl Verb {
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Ehlo => "EHLO",
            Verb::Helo => "HELO",
            Verb::Mail => "MAIL",
            Verb::Rcpt => "RCPT",
            Verb::Data => "DATA",
            Verb::Rset => "RSET",
            Verb::Noop => "NOOP",
            Verb::Quit => "QUIT",
            Verb::Vrfy => "VRFY",
            Verb::Expn => "EXPN",
            Verb::Help => "HELP",
            Verb::StartTls => "STARTTLS",
            Verb::NotImplemented => "not-implemented",
            Verb::NonSmtp => "non-smtp",
            Verb::Unknown => "unknown",
            Verb::EndOfData => "end-of-data",
        }
    }

    pub(crate) fn from_word(word: &[u8]) -> Verb {
        const TABLE: &[(&[u8], Verb)] = &[
            (b"EHLO", Verb::Ehlo),
            (b"HELO", Verb::Helo),
            (b"MAIL", Verb::Mail),
            (b"RCPT", Verb::Rcpt),
            (b"DATA", Verb::Data),
            (b"RSET", Verb::Rset),
            (b"NOOP", Verb::Noop),
            (b"QUIT", Verb::Quit),
            (b"VRFY", Verb::Vrfy),
            (b"EXPN", Verb::Expn),
            (b"HELP", Verb::Help),
            (b"STARTTLS", Verb::StartTls),
        ];
        const NOT_IMPLEMENTED: &[&[u8]] = &[
            b"AUTH",
            b"BDAT",
            b"ETRN",
            b"TURN",
            b"ATRN",
            b"SEND",
            b"SOML",
            b"SAML",
            b"VERB",
            b"BURL",
            b"XCLIENT",
            b"XFORWARD",
        ];
        const NON_SMTP: &[&[u8]] = &[
            b"GET", b"POST", b"HEAD", b"PUT", b"DELETE", b"OPTIONS", b"CONNECT", b"PATCH", b"TRACE",
        ];
        for (name, verb) in TABLE {
            if word.eq_ignore_ascii_case(name) {
                return *verb;
            }
        }
        if NOT_IMPLEMENTED.iter().any(|n| word.eq_ignore_ascii_case(n)) {
            return Verb::NotImplemented;
        }
        // HTTP methods are case-sensitive; match them exactly.
        if NON_SMTP.contains(&word) {
            return Verb::NonSmtp;
        }
        Verb::Unknown
    }
}

impl fmt::Display for Verb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The body type declared with `BODY=` (RFC 6152).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Body {
    SevenBit,
    EightBitMime,
}

/// A parsed `MAIL FROM` command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailFrom {
    /// The sender; `ReversePath::Null` for `<>`.
    pub path: ReversePath,
    /// `SIZE=` as declared (RFC 1870).
    pub size: Option<u64>,
    /// `BODY=` as declared.
    pub body: Option<Body>,
    /// `SMTPUTF8` was given (RFC 6531).
    pub smtputf8: bool,
    /// The argument text after `MAIL`, exactly as sent (lossy UTF-8).
    pub raw: String,
}

/// A parsed `RCPT TO` command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RcptTo {
    pub path: ForwardPath,
    /// The argument text after `RCPT`, exactly as sent (lossy UTF-8).
    pub raw: String,
}

/// Why a MAIL or RCPT argument was refused; mapped to a reply by the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ArgError {
    /// `501 5.5.4`: wrong shape (missing `FROM:`, bad parameter syntax).
    Syntax(&'static str),
    /// `501 5.1.7` / `501 5.1.3`: the address itself.
    Address(AddressError),
    /// `553 5.6.7`: non-ASCII address without SMTPUTF8.
    NonAscii,
    /// `555 5.5.4`: a parameter we do not support.
    Unsupported(String),
    /// `552 5.3.4`: declared SIZE above our limit.
    TooBig,
}

/// Strips `keyword` (e.g. `FROM:`) case-insensitively from the front of `arg`.
fn strip_keyword<'a>(arg: &'a str, keyword: &str) -> Option<&'a str> {
    let head = arg.get(..keyword.len())?;
    if head.eq_ignore_ascii_case(keyword) {
        arg.get(keyword.len()..)
    } else {
        None
    }
}

/// Splits ESMTP parameters `KEY[=VALUE]` separated by spaces.
fn params(text: &str, utf8: bool) -> Result<Vec<(&str, Option<&str>)>, ArgError> {
    let mut out = Vec::new();
    for p in text.split(' ').filter(|p| !p.is_empty()) {
        let (k, v) = match p.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (p, None),
        };
        let key_ok = k.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
            && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !key_ok {
            return Err(ArgError::Syntax("invalid parameter keyword"));
        }
        if let Some(v) = v {
            let value_ok = !v.is_empty()
                && v.chars()
                    .all(|c| (c.is_ascii_graphic() && c != '=') || (utf8 && !c.is_ascii()));
            if !value_ok {
                return Err(ArgError::Syntax("invalid parameter value"));
            }
        }
        // Python's smtplib sends `SMTPUTF8 SMTPUTF8` when its caller also asked for it:
        // an identical repeat is harmless, a conflicting one is an error.
        let same = |a: Option<&str>, b: Option<&str>| match (a, b) {
            (None, None) => true,
            (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
            _ => false,
        };
        match out
            .iter()
            .find(|(seen, _): &&(&str, Option<&str>)| seen.eq_ignore_ascii_case(k))
        {
            Some((_, seen_v)) if same(*seen_v, v) => {}
            Some(_) => return Err(ArgError::Syntax("conflicting duplicate parameter")),
            None => out.push((k, v)),
        }
    }
    Ok(out)
}

/// Does the parameter list contain SMTPUTF8? (Needed before parsing the address.)
fn wants_utf8(text: &str) -> bool {
    text.split(' ').any(|p| p.eq_ignore_ascii_case("SMTPUTF8"))
}

/// Parses the argument of `MAIL` (everything after the verb and its space).
pub(crate) fn parse_mail(arg: &str, max_size: u64) -> Result<MailFrom, ArgError> {
    let rest =
        strip_keyword(arg, "FROM:").ok_or(ArgError::Syntax("Syntax: MAIL FROM:<address>"))?;
    let (inner, param_text, _) = split_path(rest).map_err(ArgError::Address)?;
    let utf8 = wants_utf8(param_text);
    let path = parse_reverse_path(inner, utf8).map_err(|e| match e {
        AddressError::NonAscii => ArgError::NonAscii,
        e => ArgError::Address(e),
    })?;
    let mut mail = MailFrom {
        path,
        size: None,
        body: None,
        smtputf8: false,
        raw: arg.to_string(),
    };
    for (k, v) in params(param_text, utf8)? {
        if k.eq_ignore_ascii_case("SIZE") {
            let v = v.ok_or(ArgError::Syntax("SIZE needs a value"))?;
            if !v.bytes().all(|b| b.is_ascii_digit()) || v.len() > 20 {
                return Err(ArgError::Syntax("invalid SIZE value"));
            }
            // A number too big for u64 is certainly over any limit.
            let size = v.parse::<u64>().unwrap_or(u64::MAX);
            mail.size = Some(size);
            if max_size > 0 && size > max_size {
                return Err(ArgError::TooBig);
            }
        } else if k.eq_ignore_ascii_case("BODY") {
            let v = v.ok_or(ArgError::Syntax("BODY needs a value"))?;
            mail.body = Some(if v.eq_ignore_ascii_case("7BIT") {
                Body::SevenBit
            } else if v.eq_ignore_ascii_case("8BITMIME") {
                Body::EightBitMime
            } else {
                return Err(ArgError::Unsupported(format!("BODY={v}")));
            });
        } else if k.eq_ignore_ascii_case("SMTPUTF8") {
            if v.is_some() {
                return Err(ArgError::Syntax("SMTPUTF8 takes no value"));
            }
            mail.smtputf8 = true;
        } else {
            return Err(ArgError::Unsupported(k.to_string()));
        }
    }
    Ok(mail)
}

/// Parses the argument of `RCPT`. `utf8` is whether the transaction's MAIL had SMTPUTF8.
pub(crate) fn parse_rcpt(arg: &str, utf8: bool) -> Result<RcptTo, ArgError> {
    let rest = strip_keyword(arg, "TO:").ok_or(ArgError::Syntax("Syntax: RCPT TO:<address>"))?;
    let (inner, param_text, _) = split_path(rest).map_err(ArgError::Address)?;
    let path = parse_forward_path(inner, utf8).map_err(|e| match e {
        AddressError::NonAscii => ArgError::NonAscii,
        e => ArgError::Address(e),
    })?;
    if let Some((k, _)) = params(param_text, utf8)?.first() {
        return Err(ArgError::Unsupported(k.to_string()));
    }
    Ok(RcptTo {
        path,
        raw: arg.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::address::Mailbox;

    #[test]
    fn verbs() {
        assert_eq!(Verb::from_word(b"ehlo"), Verb::Ehlo);
        assert_eq!(Verb::from_word(b"StartTLS"), Verb::StartTls);
        assert_eq!(Verb::from_word(b"BDAT"), Verb::NotImplemented);
        assert_eq!(Verb::from_word(b"GET"), Verb::NonSmtp);
        assert_eq!(Verb::from_word(b"get"), Verb::Unknown);
        assert_eq!(Verb::from_word(b""), Verb::Unknown);
    }

    #[test]
    fn mail_from() {
        let m = parse_mail("FROM:<a@b.example> SIZE=100 BODY=8BITMIME", 1000).unwrap();
        assert_eq!(
            m.path,
            ReversePath::Mailbox(Mailbox::parse("a@b.example", false).unwrap())
        );
        assert_eq!(m.size, Some(100));
        assert_eq!(m.body, Some(Body::EightBitMime));
        assert!(!m.smtputf8);
        let m = parse_mail("from: <>", 0).unwrap();
        assert_eq!(m.path, ReversePath::Null);
        let m = parse_mail("FROM:<ü@b.example> SMTPUTF8", 0).unwrap();
        assert!(m.smtputf8);
        assert_eq!(parse_mail("FROM:<ü@b.example>", 0), Err(ArgError::NonAscii));
        assert_eq!(
            parse_mail("FROM:<a@b> SIZE=1001", 1000),
            Err(ArgError::TooBig)
        );
        assert_eq!(
            parse_mail("FROM:<a@b> SIZE=99999999999999999999", 1000),
            Err(ArgError::TooBig)
        );
        assert!(matches!(
            parse_mail("FROM:<a@b> SIZE=1x", 1000),
            Err(ArgError::Syntax(_))
        ));
        assert!(matches!(
            parse_mail("FROM:<a@b> SIZE=1 size=2", 1000),
            Err(ArgError::Syntax(_))
        ));
        // What Python's smtplib sends for an SMTPUTF8 message.
        assert!(
            parse_mail("FROM:<ü@b> SMTPUTF8 BODY=8BITMIME SMTPUTF8", 1000)
                .unwrap()
                .smtputf8
        );
        assert_eq!(
            parse_mail("FROM:<a@b> BODY=BINARYMIME", 1000),
            Err(ArgError::Unsupported("BODY=BINARYMIME".into()))
        );
        assert_eq!(
            parse_mail("FROM:<a@b> AUTH=<>", 1000),
            Err(ArgError::Unsupported("AUTH".into()))
        );
        assert!(matches!(
            parse_mail("TO:<a@b>", 0),
            Err(ArgError::Syntax(_))
        ));
        assert!(matches!(parse_mail("FROM", 0), Err(ArgError::Syntax(_))));
        assert!(matches!(
            parse_mail("FROM:<a@b", 0),
            Err(ArgError::Address(_))
        ));
        // Forgiving: no brackets.
        assert!(parse_mail("FROM:a@b.example", 0).is_ok());
    }

    #[test]
    fn rcpt_to() {
        assert!(parse_rcpt("TO:<a@b>", false).is_ok());
        assert!(parse_rcpt("to:<postmaster>", false).is_ok());
        assert!(matches!(
            parse_rcpt("TO:<>", false),
            Err(ArgError::Address(_))
        ));
        assert_eq!(
            parse_rcpt("TO:<a@b> NOTIFY=NEVER", false),
            Err(ArgError::Unsupported("NOTIFY".into()))
        );
        assert_eq!(parse_rcpt("TO:<ü@b>", false), Err(ArgError::NonAscii));
        assert!(parse_rcpt("TO:<ü@b>", true).is_ok());
    }
}
