//! SMTP replies (RFC 5321 section 4.2) with enhanced status codes (RFC 3463, RFC 2034).

use std::fmt;

/// Longest text we put on one reply line (RFC 5321 4.5.3.1.5 allows 512 octets per
/// reply line including the code and CRLF).
const MAX_LINE_TEXT: usize = 500;

/// An enhanced mail system status code, `class.subject.detail` (RFC 3463), e.g. `5.1.1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EnhancedCode {
    class: u8,
    subject: u16,
    detail: u16,
}

impl EnhancedCode {
    /// Builds a code; `class` must be 2, 4 or 5 and subject/detail at most 999.
    pub fn new(class: u8, subject: u16, detail: u16) -> Result<Self, ReplyError> {
        if !matches!(class, 2 | 4 | 5) || subject > 999 || detail > 999 {
            return Err(ReplyError::EnhancedCode(format!(
                "{class}.{subject}.{detail}"
            )));
        }
        Ok(EnhancedCode {
            class,
            subject,
            detail,
        })
    }

    /// Parses `"5.1.1"`.
    pub fn parse(s: &str) -> Result<Self, ReplyError> {
        let bad = || ReplyError::EnhancedCode(s.to_string());
        let mut parts = s.split('.');
        let mut next = |max_len: usize| -> Result<u16, ReplyError> {
            let p = parts.next().ok_or_else(bad)?;
            if p.is_empty() || p.len() > max_len || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            p.parse().map_err(|_| bad())
        };
        let class = next(1)?;
        let subject = next(3)?;
        let detail = next(3)?;
        if parts.next().is_some() {
            return Err(bad());
        }
        EnhancedCode::new(class as u8, subject, detail).map_err(|_| bad())
    }

    pub fn class(self) -> u8 {
        self.class
    }
    pub fn subject(self) -> u16 {
        self.subject
    }
    pub fn detail(self) -> u16 {
        self.detail
    }

    const fn known(class: u8, subject: u16, detail: u16) -> Self {
        EnhancedCode {
            class,
            subject,
            detail,
        }
    }
}

impl fmt::Display for EnhancedCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.class, self.subject, self.detail)
    }
}

/// Why a reply could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplyError {
    #[error("reply code {0} is not in 200..=599")]
    Code(u16),
    #[error("invalid enhanced status code {0:?} (want class.subject.detail, class 2, 4 or 5)")]
    EnhancedCode(String),
    #[error("enhanced status code class {enhanced} does not match reply code {code}")]
    ClassMismatch { code: u16, enhanced: EnhancedCode },
}

/// One SMTP reply: a three-digit code, an optional enhanced status code and one or more
/// lines of text. Rendered as `250-first` ... `250 last` lines ending in CRLF.
///
/// Text is sanitised when the reply is built: `\n` separates lines, every other control
/// character becomes a space, and each line is cut at 500 bytes (on a character
/// boundary), so a reply can never break the protocol whatever text it was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    code: u16,
    enhanced: Option<EnhancedCode>,
    lines: Vec<String>,
}

impl Reply {
    /// A reply with an enhanced status code, e.g. `Reply::new(550, "5.1.1", "No such user")`.
    pub fn new(code: u16, enhanced: &str, text: &str) -> Result<Self, ReplyError> {
        let enhanced = EnhancedCode::parse(enhanced)?;
        Reply::build(code, Some(enhanced), text)
    }

    /// A reply without an enhanced status code (greetings, EHLO answers).
    pub fn plain(code: u16, text: &str) -> Result<Self, ReplyError> {
        Reply::build(code, None, text)
    }

    fn build(code: u16, enhanced: Option<EnhancedCode>, text: &str) -> Result<Self, ReplyError> {
        if !(200..=599).contains(&code) {
            return Err(ReplyError::Code(code));
        }
        if let Some(e) = enhanced
            && u16::from(e.class) != code / 100
        {
            return Err(ReplyError::ClassMismatch { code, enhanced: e });
        }
        Ok(Reply {
            code,
            enhanced,
            lines: sanitize_lines(text),
        })
    }

    /// For replies whose code and enhanced code are constants of this crate.
    pub(crate) fn fixed(code: u16, enhanced: Option<EnhancedCode>, text: &str) -> Self {
        Reply {
            code,
            enhanced,
            lines: sanitize_lines(text),
        }
    }

    pub(crate) fn multiline(code: u16, enhanced: Option<EnhancedCode>, lines: &[&str]) -> Self {
        let mut out = Vec::with_capacity(lines.len());
        for l in lines {
            out.extend(sanitize_lines(l));
        }
        if out.is_empty() {
            out.push(String::new());
        }
        Reply {
            code,
            enhanced,
            lines: out,
        }
    }

    // Replies a handler commonly chooses.

    /// `451 4.3.0` — a temporary local failure (e.g. the store is unavailable); the
    /// client keeps the message and retries later.
    pub fn temporary_failure(text: &str) -> Self {
        Reply::fixed(451, Some(codes::SYSTEM_ERROR_TEMP), text)
    }

    /// `450 4.7.1 Greylisted, try again later` (greylisting, RFC 6647).
    pub fn greylisted() -> Self {
        Reply::fixed(
            450,
            Some(EnhancedCode::known(4, 7, 1)),
            "Greylisted, please try again later",
        )
    }

    /// `550 5.1.1` — the recipient mailbox does not exist.
    pub fn no_such_user() -> Self {
        Reply::fixed(550, Some(EnhancedCode::known(5, 1, 1)), "No such user here")
    }

    /// `550 5.7.1` — refused by policy.
    pub fn policy_rejection(text: &str) -> Self {
        Reply::fixed(550, Some(codes::POLICY), text)
    }

    /// `554 5.7.1` — a refusing greeting: the server then answers 503 to everything but
    /// QUIT (RFC 5321 3.1).
    pub fn no_service(text: &str) -> Self {
        Reply::fixed(554, Some(EnhancedCode::known(5, 7, 1)), text)
    }

    /// `421 4.3.2` — service not available, closing the connection.
    pub fn service_unavailable(text: &str) -> Self {
        Reply::fixed(421, Some(EnhancedCode::known(4, 3, 2)), text)
    }

    pub fn code(&self) -> u16 {
        self.code
    }
    pub fn enhanced(&self) -> Option<EnhancedCode> {
        self.enhanced
    }
    pub fn lines(&self) -> &[String] {
        &self.lines
    }
    /// 2xx or 3xx.
    pub fn is_positive(&self) -> bool {
        self.code < 400
    }
    /// 4xx: the client should try again later.
    pub fn is_transient(&self) -> bool {
        (400..500).contains(&self.code)
    }
    /// 5xx.
    pub fn is_permanent(&self) -> bool {
        self.code >= 500
    }

    /// Appends the wire form (CRLF-terminated lines) to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        let n = self.lines.len();
        for (i, line) in self.lines.iter().enumerate() {
            let sep = if i + 1 == n { ' ' } else { '-' };
            let code = self.code;
            let mut s = format!("{code}{sep}");
            if let Some(e) = self.enhanced {
                s.push_str(&e.to_string());
                if !line.is_empty() {
                    s.push(' ');
                }
            }
            s.push_str(line);
            if s.ends_with(' ') && self.enhanced.is_none() && line.is_empty() {
                s.pop();
            }
            out.extend_from_slice(s.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
    }

    /// The wire form as bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::new();
        self.write_to(&mut v);
        v
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bytes = self.to_bytes();
        let s = String::from_utf8_lossy(&bytes);
        f.write_str(s.trim_end())
    }
}

fn sanitize_lines(text: &str) -> Vec<String> {
    text.split('\n')
        .map(|l| {
            let mut s: String = l
                .chars()
                .filter(|&c| c != '\r')
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect();
            if s.len() > MAX_LINE_TEXT {
                let mut cut = MAX_LINE_TEXT;
                while !s.is_char_boundary(cut) {
                    cut -= 1;
                }
                s.truncate(cut);
            }
            s
        })
        .collect()
}

/// Enhanced codes used by the session, named after RFC 3463's meaning.
pub(crate) mod codes {
    use super::EnhancedCode;
    pub const OK: EnhancedCode = EnhancedCode::known(2, 0, 0);
    pub const SENDER_OK: EnhancedCode = EnhancedCode::known(2, 1, 0);
    pub const RCPT_OK: EnhancedCode = EnhancedCode::known(2, 1, 5);
    pub const BAD_DEST_SYNTAX: EnhancedCode = EnhancedCode::known(5, 1, 3);
    pub const BAD_SENDER_SYNTAX: EnhancedCode = EnhancedCode::known(5, 1, 7);
    pub const MSG_TOO_BIG: EnhancedCode = EnhancedCode::known(5, 3, 4);
    pub const SYSTEM_ERROR_TEMP: EnhancedCode = EnhancedCode::known(4, 3, 0);
    pub const SHUTTING_DOWN: EnhancedCode = EnhancedCode::known(4, 3, 2);
    pub const TIMEOUT: EnhancedCode = EnhancedCode::known(4, 4, 2);
    pub const INVALID_COMMAND: EnhancedCode = EnhancedCode::known(5, 5, 1);
    pub const SYNTAX_ERROR: EnhancedCode = EnhancedCode::known(5, 5, 2);
    pub const TOO_MANY_RCPTS: EnhancedCode = EnhancedCode::known(4, 5, 3);
    pub const BAD_ARGS: EnhancedCode = EnhancedCode::known(5, 5, 4);
    pub const NON_ASCII_ADDRESS: EnhancedCode = EnhancedCode::known(5, 6, 7);
    pub const POLICY_TEMP: EnhancedCode = EnhancedCode::known(4, 7, 0);
    pub const POLICY: EnhancedCode = EnhancedCode::known(5, 7, 1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_single_and_multi_line() {
        let r = Reply::new(550, "5.1.1", "No such user").unwrap();
        assert_eq!(r.to_bytes(), b"550 5.1.1 No such user\r\n");
        let r = Reply::new(451, "4.3.0", "first\nsecond").unwrap();
        assert_eq!(r.to_bytes(), b"451-4.3.0 first\r\n451 4.3.0 second\r\n");
        let r = Reply::plain(220, "mx.example ESMTP").unwrap();
        assert_eq!(r.to_bytes(), b"220 mx.example ESMTP\r\n");
        let r = Reply::plain(250, "").unwrap();
        assert_eq!(r.to_bytes(), b"250\r\n");
    }

    #[test]
    fn sanitises_control_characters_and_length() {
        let r = Reply::new(550, "5.7.1", "bad\r\x00thing\x1b").unwrap();
        assert_eq!(r.to_bytes(), b"550 5.7.1 bad thing \r\n");
        let long = "\u{e9}".repeat(400); // 800 bytes
        let r = Reply::new(550, "5.7.1", &long).unwrap();
        assert!(r.lines()[0].len() <= 500);
        assert!(r.lines()[0].is_char_boundary(r.lines()[0].len()));
    }

    #[test]
    fn validates_codes() {
        assert_eq!(Reply::new(199, "2.0.0", "x"), Err(ReplyError::Code(199)));
        assert!(matches!(
            Reply::new(550, "4.0.0", "x"),
            Err(ReplyError::ClassMismatch { .. })
        ));
        for bad in [
            "", "5", "5.1", "5.1.1.1", "3.1.1", "5.1000.1", "5.a.1", "5..1",
        ] {
            assert!(EnhancedCode::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(EnhancedCode::parse("4.7.1").unwrap().to_string(), "4.7.1");
    }
}
