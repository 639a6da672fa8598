//! The `Received:` parser.
//!
//! One function, [`parse_received`], turns a field value into a [`Received`]. It is our
//! own rather than mail-parser's because the trust walk needs to know *which* part of the
//! line said what: the name the client gave in HELO versus the name the receiving host
//! found in reverse DNS, the connecting IP versus an IP the client claimed, whether the
//! session was authenticated, which MTA wrote the line. Formats differ exactly there
//! (Postfix `from HELO (RDNS [IP])`, Exim `from RDNS ([IP] helo=HELO)`, qmail
//! `from RDNS (HELO x) (IP)`, Exchange `from HELO (IP)`, …), so the parser tokenizes,
//! splits the value into clauses (`from`, `by`, `via`, `with`, `id`, `for`, date) and
//! reads each clause with the conventions of the MTA family it recognises.
//!
//! It never fails: a line it cannot make sense of comes back with `parsed == false` and
//! is kept as an unparsed hop with its raw text.

mod token;

use crate::date::parse_date;
use crate::names::{parse_ip, strip_angle};
use chrono::{DateTime, FixedOffset};
use serde::Serialize;
use smallvec::SmallVec;
use std::net::IpAddr;
use token::{Spanned, Tok, tokenize};

/// Upper bound on tokens read from one field value (a hostile 1 MB Received line is cut).
const MAX_TOKENS: usize = 4096;
/// Upper bound on the length of a field value the parser reads.
const MAX_VALUE: usize = 64 * 1024;

/// The transfer protocol named in the `with` clause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Protocol {
    Smtp,
    Esmtp,
    Esmtpa,
    Esmtps,
    Esmtpsa,
    Lmtp,
    Lmtpa,
    Lmtps,
    Lmtpsa,
    Utf8Smtp,
    Utf8Smtpa,
    Utf8Smtps,
    Utf8Smtpsa,
    Http,
    Https,
    Imap,
    Pop3,
    Local,
    /// Anything else, as written (`MAPI`, `NNFMP`, `QMQP`, `Microsoft SMTPSVC(6.0)`).
    Other(String),
}

impl Protocol {
    /// Reads the first word(s) of a `with` clause.
    pub fn parse(text: &str) -> Protocol {
        let t = text.trim();
        // `ESMTP/TLS/cipher` (Open-Xchange) and `esmtps` variants: take the leading keyword.
        let head = t.split(['/', ' ', '(']).next().unwrap_or("");
        match head.to_ascii_lowercase().as_str() {
            "smtp" | "bsmtp" | "smtpsvc" => Protocol::Smtp,
            "esmtp" => Protocol::Esmtp,
            "esmtpa" | "asmtp" => Protocol::Esmtpa,
            "esmtps" | "smtps" | "esmtp-tls" => Protocol::Esmtps,
            "esmtpsa" | "smtpsa" => Protocol::Esmtpsa,
            "lmtp" => Protocol::Lmtp,
            "lmtpa" => Protocol::Lmtpa,
            "lmtps" => Protocol::Lmtps,
            "lmtpsa" => Protocol::Lmtpsa,
            "utf8smtp" | "utf8esmtp" => Protocol::Utf8Smtp,
            "utf8smtpa" | "utf8esmtpa" => Protocol::Utf8Smtpa,
            "utf8smtps" | "utf8esmtps" => Protocol::Utf8Smtps,
            "utf8smtpsa" | "utf8esmtpsa" => Protocol::Utf8Smtpsa,
            "http" | "httprest" => Protocol::Http,
            "https" | "httpsa" => Protocol::Https,
            "imap" | "imap4" | "imaps" => Protocol::Imap,
            "pop3" | "pop" | "pop3s" => Protocol::Pop3,
            "local" | "pickup" => Protocol::Local,
            // Exchange `Microsoft SMTP Server`, IIS `Microsoft SMTPSVC(6.0.3790.0)`.
            _ if t.to_ascii_lowercase().starts_with("microsoft smtp") => Protocol::Smtp,
            _ => Protocol::Other(t.to_string()),
        }
    }

    /// The protocol keyword as printed in reports (`ESMTPS`, `HTTP`, or the text as given).
    pub fn as_str(&self) -> &str {
        match self {
            Protocol::Smtp => "SMTP",
            Protocol::Esmtp => "ESMTP",
            Protocol::Esmtpa => "ESMTPA",
            Protocol::Esmtps => "ESMTPS",
            Protocol::Esmtpsa => "ESMTPSA",
            Protocol::Lmtp => "LMTP",
            Protocol::Lmtpa => "LMTPA",
            Protocol::Lmtps => "LMTPS",
            Protocol::Lmtpsa => "LMTPSA",
            Protocol::Utf8Smtp => "UTF8SMTP",
            Protocol::Utf8Smtpa => "UTF8SMTPA",
            Protocol::Utf8Smtps => "UTF8SMTPS",
            Protocol::Utf8Smtpsa => "UTF8SMTPSA",
            Protocol::Http => "HTTP",
            Protocol::Https => "HTTPS",
            Protocol::Imap => "IMAP",
            Protocol::Pop3 => "POP3",
            Protocol::Local => "local",
            Protocol::Other(s) => s,
        }
    }

    /// RFC 3848: the `A` suffix means the client authenticated.
    pub fn is_authenticated(&self) -> bool {
        matches!(
            self,
            Protocol::Esmtpa
                | Protocol::Esmtpsa
                | Protocol::Lmtpa
                | Protocol::Lmtpsa
                | Protocol::Utf8Smtpa
                | Protocol::Utf8Smtpsa
        )
    }

    /// RFC 3848: the `S` suffix means TLS was used.
    pub fn is_tls(&self) -> bool {
        matches!(
            self,
            Protocol::Esmtps
                | Protocol::Esmtpsa
                | Protocol::Lmtps
                | Protocol::Lmtpsa
                | Protocol::Utf8Smtps
                | Protocol::Utf8Smtpsa
                | Protocol::Https
        )
    }
}

impl Serialize for Protocol {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// TLS parameters stated in the line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Tls {
    /// Protocol version as normalised text: `TLSv1.2`, `TLSv1.3`, `SSLv3`, … (None when the
    /// line says only that TLS was used).
    pub version: Option<String>,
    pub cipher: Option<String>,
}

/// The MTA family whose format the line follows, when recognisable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mta {
    Postfix,
    Sendmail,
    Exim,
    Qmail,
    Exchange,
    Gmail,
    Yahoo,
    Courier,
    Haraka,
    Stalwart,
    CommuniGate,
    Fetchmail,
    Other,
}

/// A parsed `Received:` field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Received {
    /// The name (or address literal) the client gave in HELO/EHLO, as written.
    pub from_helo: Option<String>,
    /// The client's name from reverse DNS as recorded by the receiving host.
    pub from_rdns: Option<String>,
    /// The connecting client's IP address.
    pub from_ip: Option<IpAddr>,
    /// The client's source port, when the line records it.
    pub from_port: Option<u16>,
    /// RFC 1413 ident or the user before `@` in sendmail's `(user@host [ip])`.
    pub ident: Option<String>,
    /// The host that wrote this line.
    pub by: Option<String>,
    /// The receiving host's own IP, when stated.
    pub by_ip: Option<IpAddr>,
    pub via: Option<String>,
    pub protocol: Option<Protocol>,
    pub tls: Option<Tls>,
    pub id: Option<String>,
    /// The envelope recipient of this transfer (`for <...>`).
    #[serde(rename = "for")]
    pub for_: Option<String>,
    /// The envelope sender when the line records it (Exim `envelope-from`, Haraka).
    pub envelope_from: Option<String>,
    /// The authenticated identity (`Authenticated sender: x`, `AUTH: LOGIN x`), or
    /// `Some("")` when the line says only that the client authenticated.
    pub auth: Option<String>,
    pub date: Option<DateTime<FixedOffset>>,
    /// The text after the last `;` could not be read as a date.
    pub bad_date: bool,
    /// Sendmail's `(may be forged)`: the client's rDNS did not resolve back to its IP.
    pub rdns_may_be_forged: bool,
    /// The receiving host said the rDNS lookup failed (`unknown`).
    pub rdns_unknown: bool,
    /// Local handling with no network client (`with local`, `invoked by uid`, pickup).
    pub local: bool,
    pub mta: Option<Mta>,
    /// False when the line matched no known shape; the hop is then kept as unparsed.
    pub parsed: bool,
}

/// Tokens of one clause; inline storage avoids an allocation per clause.
type ClauseToks<'a> = SmallVec<[Tok<'a>; 4]>;

#[derive(Default)]
struct Clauses<'a> {
    from: ClauseToks<'a>,
    by: ClauseToks<'a>,
    via: ClauseToks<'a>,
    with: ClauseToks<'a>,
    id: ClauseToks<'a>,
    for_: ClauseToks<'a>,
    envelope_from: ClauseToks<'a>,
    /// Tokens before any keyword (e.g. qmail's `(qmail 123 invoked by uid 0)`).
    lead: ClauseToks<'a>,
    /// Every comment anywhere at the top level, in order.
    comments: SmallVec<[&'a str; 8]>,
    has_from: bool,
    has_by: bool,
}

#[derive(Clone, Copy, PartialEq)]
enum Clause {
    Lead,
    From,
    By,
    Via,
    With,
    Id,
    For,
    EnvelopeFrom,
}

/// Parses the value of one `Received:` field (without the field name). Folding white
/// space may be present. Never fails; see [`Received::parsed`].
pub fn parse_received(value: &str) -> Received {
    let value = if value.len() > MAX_VALUE {
        truncate(value, MAX_VALUE)
    } else {
        value
    };
    let toks = tokenize(value, MAX_TOKENS);
    let mut r = Received::default();

    // The date follows the last top-level `;`.
    let last_semi = toks.iter().rposition(|t| t.tok == Tok::Semi);
    let (clause_toks, date_text) = match last_semi {
        Some(p) => (
            &toks[..p],
            Some(value.get(toks[p].start + 1..).unwrap_or("")),
        ),
        None => (&toks[..], None),
    };
    let c = split_clauses(clause_toks);

    match date_text {
        Some(text) => {
            r.date = parse_date(text);
            r.bad_date = r.date.is_none() && !text.trim().is_empty();
            // EzMTS and others: `...; Thu, 20 Mar 03 10:06:43 +0100 for <a@example.org>`
            if let Some(p) = text.find(" for ") {
                let after = tokenize(&text[p + 5..], 4);
                let toks: ClauseToks<'_> = after.iter().map(|t| t.tok).collect();
                if c.for_.is_empty() {
                    r.for_ = read_address(&toks);
                }
            }
        }
        None => r.date = trailing_date(value, clause_toks),
    }

    r.mta = detect_mta(&c);
    let mut explicit_helo = read_from(&c.from, &mut r);
    if !c.has_from {
        // Sendmail submissions and some gateways put the from clause in a comment:
        // `(from user@localhost) by ...`, `(from localhost [192.0.2.1]) by ...`.
        if let Some(Tok::Comment(lead)) = c.lead.first()
            && lead.len() > 5
            && lead.as_bytes()[..5].eq_ignore_ascii_case(b"from ")
        {
            let inner: ClauseToks<'_> = tokenize(&lead[5..], 64)
                .into_iter()
                .map(|t| t.tok)
                .collect();
            explicit_helo = read_from(&inner, &mut r);
            if r.from_ip.is_none() {
                r.local = true;
            }
        }
    }
    // MessageLabs: `... with AES256-GCM-SHA384 encrypted SMTP`
    if let Some(p) = FINDERS.encrypted_smtp.find(value.as_bytes())
        && let Some(cipher) = value[..p].split_whitespace().last()
    {
        set_tls(&mut r, None, Some(cipher.to_string()));
    }
    read_by(&c.by, &mut r);
    r.via = first_word(&c.via).map(str::to_string);
    read_with(&c.with, &mut r);
    r.id = c.id.first().and_then(|t| match t {
        Tok::Word(w) => Some(strip_angle(w).to_string()),
        Tok::Angle(a) => Some(a.trim().to_string()),
        _ => None,
    });
    if r.for_.is_none() {
        r.for_ = read_address(&c.for_);
    }
    if r.envelope_from.is_none() {
        r.envelope_from = read_address(&c.envelope_from);
    }
    for comment in &c.comments {
        if worth_reading(comment) {
            read_comment_extras(comment, &mut r);
        }
    }
    if let Some(p) = &r.protocol {
        if p.is_tls() && r.tls.is_none() {
            r.tls = Some(Tls::default());
        }
        if p.is_authenticated() && r.auth.is_none() {
            r.auth = Some(String::new());
        }
        if *p == Protocol::Local {
            r.local = true;
        }
    }
    if !explicit_helo && (r.mta == Some(Mta::Exim) || r.mta == Some(Mta::Qmail)) {
        // Exim and qmail print the rDNS name first and add the HELO only when it differs.
        if r.from_rdns.is_none()
            && !r.rdns_unknown
            && let Some(h) = &r.from_helo
            && !h.starts_with('[')
            && parse_ip(h).is_none()
            && !h.eq_ignore_ascii_case("unknown")
        {
            r.from_rdns = Some(h.clone());
        }
    }
    let lead_local = c
        .lead
        .iter()
        .any(|t| matches!(t, Tok::Comment(x) if is_local_comment(x)));
    if lead_local || c.comments.iter().any(|x| is_local_comment(x)) {
        r.local = r.local || r.from_ip.is_none();
    }
    // Notes that some MTAs add as a Received line of their own.
    let lead_note = match c.lead.first() {
        Some(Tok::Comment(x)) if c.lead.len() == 1 => read_lead_note(x, &mut r),
        _ => false,
    };
    if r.from_ip.is_none() && !r.local && is_local_source(&r, &c) {
        r.local = true;
    }
    // Exchange/IIS `from mail pickup service by ...`
    if r.mta == Some(Mta::Exchange)
        && c.from
            .iter()
            .any(|t| matches!(t, Tok::Word(w) if w.eq_ignore_ascii_case("pickup")))
    {
        r.local = true;
    }
    // `via dmail-2002(12) for +lists/x; date`, `with ECARTIS (v1.0.0; list x); date`:
    // a local delivery agent or list manager.
    let via_only =
        !c.has_from && !c.has_by && (!c.via.is_empty() || !c.with.is_empty()) && r.date.is_some();
    if via_only {
        r.local = true;
    }
    r.parsed = c.has_by || c.has_from || lead_local || lead_note || via_only;
    r
}

fn truncate(s: &str, max: usize) -> &str {
    let mut end = max.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn split_clauses<'a>(toks: &[Spanned<'a>]) -> Clauses<'a> {
    let mut c = Clauses::default();
    let mut cur = Clause::Lead;
    for t in toks {
        if let Tok::Word(w) = t.tok
            && let Some(k) = keyword(w)
        {
            cur = k;
            match k {
                Clause::From => c.has_from = true,
                Clause::By => c.has_by = true,
                _ => {}
            }
            continue;
        }
        if let Tok::Comment(x) = t.tok {
            c.comments.push(x);
        }
        let target = match cur {
            Clause::Lead => &mut c.lead,
            Clause::From => &mut c.from,
            Clause::By => &mut c.by,
            Clause::Via => &mut c.via,
            Clause::With => &mut c.with,
            Clause::Id => &mut c.id,
            Clause::For => &mut c.for_,
            Clause::EnvelopeFrom => &mut c.envelope_from,
        };
        target.push(t.tok);
    }
    c
}

fn keyword(w: &str) -> Option<Clause> {
    Some(match w.len() {
        2 if w.eq_ignore_ascii_case("by") => Clause::By,
        2 if w.eq_ignore_ascii_case("id") => Clause::Id,
        3 if w.eq_ignore_ascii_case("via") => Clause::Via,
        3 if w.eq_ignore_ascii_case("for") => Clause::For,
        4 if w.eq_ignore_ascii_case("from") => Clause::From,
        4 if w.eq_ignore_ascii_case("with") => Clause::With,
        13 if w.eq_ignore_ascii_case("envelope-from") => Clause::EnvelopeFrom,
        _ => return None,
    })
}

fn first_word<'a>(toks: &[Tok<'a>]) -> Option<&'a str> {
    toks.iter().find_map(|t| match t {
        Tok::Word(w) => Some(*w),
        _ => None,
    })
}

fn read_address(toks: &[Tok<'_>]) -> Option<String> {
    toks.iter().find_map(|t| match t {
        Tok::Angle(a) if !a.trim().is_empty() => Some(a.trim().to_string()),
        Tok::Word(w) if w.contains('@') => Some(strip_angle(w).to_string()),
        _ => None,
    })
}

/// Reads a line that is only a note: qmail's `(qmail 123 invoked from network)` (with
/// `messnum N invoked from network[ip/name]` naming the client), eGroups' `(EGP: …)`,
/// qmail's `(ofmipd 192.0.2.1)` submission. Returns whether it was recognised.
fn read_lead_note(x: &str, r: &mut Received) -> bool {
    let lower = x.to_ascii_lowercase();
    // qmail, and qmail-derived MTAs such as cpmta: `(<name> <pid> invoked ...)`
    if lower.contains(" invoked ") {
        if lower.starts_with("qmail ") {
            r.mta = Some(Mta::Qmail);
        }
        if let Some(p) = lower.find("network[") {
            let inner = x[p + 8..].split(']').next().unwrap_or("");
            let (ip, name) = inner.split_once('/').unwrap_or((inner, ""));
            r.from_ip = parse_ip(ip);
            if !name.is_empty() && !name.eq_ignore_ascii_case("unknown") {
                r.from_rdns = Some(clean_name(name));
            }
        }
        return true;
    }
    if lower.starts_with("egp:") {
        r.local = true;
        return true;
    }
    if let Some(rest) = lower.strip_prefix("ofmipd ") {
        r.mta = Some(Mta::Qmail);
        r.from_ip = parse_ip(rest.split_whitespace().next().unwrap_or(""));
        return true;
    }
    false
}

/// A from clause that names no network client: `from localhost (user@localhost)`,
/// Mercury's `from SpoolDir`, qmail-scanner's re-injection.
fn is_local_source(r: &Received, c: &Clauses<'_>) -> bool {
    let helo = r.from_helo.as_deref().unwrap_or("");
    let spool = helo.to_ascii_lowercase();
    crate::names::is_localhost(helo)
        || spool == "spooldir"
        || spool == "spooler"
        || spool.ends_with("/spooldir")
        || c.with.iter().any(
            |t| matches!(t, Tok::Word(w) if w.to_ascii_lowercase().starts_with("qmail-scanner")),
        )
}

fn is_local_comment(c: &str) -> bool {
    // These MTAs write the phrases in lower case.
    (find(c, &FINDERS.invoked_by)
        || find(c, &FINDERS.from_userid)
        || find(c, &FINDERS.invoked_for_bounce))
        && !find(c, &FINDERS.invoked_from_network)
}

/// Substring searchers built once (building one per search dominated the profile).
struct Finders {
    invoked_by: memchr::memmem::Finder<'static>,
    from_userid: memchr::memmem::Finder<'static>,
    invoked_for_bounce: memchr::memmem::Finder<'static>,
    invoked_from_network: memchr::memmem::Finder<'static>,
    encrypted_smtp: memchr::memmem::Finder<'static>,
    using_tls: memchr::memmem::Finder<'static>,
    using_ssl: memchr::memmem::Finder<'static>,
    with_cipher: memchr::memmem::Finder<'static>,
    version_eq: memchr::memmem::Finder<'static>,
    cipher_eq: memchr::memmem::Finder<'static>,
    tls_colon: memchr::memmem::Finder<'static>,
    auth_sender: memchr::memmem::Finder<'static>,
    auth_colon: memchr::memmem::Finder<'static>,
    auth_user: memchr::memmem::Finder<'static>,
    auth_as: memchr::memmem::Finder<'static>,
    envelope_from: memchr::memmem::Finder<'static>,
    envelope_sender: memchr::memmem::Finder<'static>,
}

static FINDERS: std::sync::LazyLock<Finders> = std::sync::LazyLock::new(|| Finders {
    invoked_by: memchr::memmem::Finder::new("invoked by"),
    from_userid: memchr::memmem::Finder::new("from userid"),
    invoked_for_bounce: memchr::memmem::Finder::new("invoked for bounce"),
    invoked_from_network: memchr::memmem::Finder::new("invoked from network"),
    encrypted_smtp: memchr::memmem::Finder::new(" encrypted SMTP"),
    using_tls: memchr::memmem::Finder::new("using tls"),
    using_ssl: memchr::memmem::Finder::new("using ssl"),
    with_cipher: memchr::memmem::Finder::new(" with cipher "),
    version_eq: memchr::memmem::Finder::new("version="),
    cipher_eq: memchr::memmem::Finder::new("cipher="),
    tls_colon: memchr::memmem::Finder::new("tls: "),
    auth_sender: memchr::memmem::Finder::new("authenticated sender:"),
    auth_colon: memchr::memmem::Finder::new("auth: "),
    auth_user: memchr::memmem::Finder::new("authenticated user "),
    auth_as: memchr::memmem::Finder::new("authenticated as "),
    envelope_from: memchr::memmem::Finder::new("envelope-from"),
    envelope_sender: memchr::memmem::Finder::new("envelope-sender"),
});

fn ff(haystack: &str, f: &memchr::memmem::Finder<'_>) -> Option<usize> {
    f.find(haystack.as_bytes())
}

fn find(haystack: &str, f: &memchr::memmem::Finder<'_>) -> bool {
    f.find(haystack.as_bytes()).is_some()
}

fn starts_with_ci(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len() && s.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

fn contains_ci(s: &str, needle: &str) -> bool {
    let n = needle.as_bytes();
    s.len() >= n.len()
        && s.as_bytes()
            .windows(n.len())
            .any(|w| w.eq_ignore_ascii_case(n))
}

/// Recognises the MTA family from the comments and keywords it leaves.
fn detect_mta(c: &Clauses<'_>) -> Option<Mta> {
    let by_comment = c.by.iter().find_map(|t| match t {
        Tok::Comment(x) => Some(*x),
        _ => None,
    });
    if let Some(bc) = by_comment {
        let bc = bc.trim_start();
        for (prefix, mta) in [
            ("postfix", Mta::Postfix),
            ("haraka", Mta::Haraka),
            ("stalwart", Mta::Stalwart),
            ("communigate", Mta::CommuniGate),
        ] {
            if starts_with_ci(bc, prefix) {
                return Some(mta);
            }
        }
        if contains_ci(bc, "sendmail") || looks_like_sendmail_version(bc) {
            return Some(Mta::Sendmail);
        }
    }
    let mut found = None;
    for x in &c.comments {
        let x = x.trim_start();
        if starts_with_ci(x, "exim") {
            return Some(Mta::Exim);
        }
        if starts_with_ci(x, "qmail") || x.starts_with("HELO ") {
            found = found.or(Some(Mta::Qmail));
        } else if starts_with_ci(x, "fetchmail") {
            found = found.or(Some(Mta::Fetchmail));
        } else if x.starts_with("Microsoft") {
            found = found.or(Some(Mta::Exchange));
        } else if starts_with_ci(x, "courier") {
            found = found.or(Some(Mta::Courier));
        }
    }
    let with = first_word(&c.with).unwrap_or("");
    if with.eq_ignore_ascii_case("microsoft") || with.eq_ignore_ascii_case("mapi") {
        return Some(Mta::Exchange);
    }
    if starts_with_ci(with, "qmail-") {
        return Some(Mta::Qmail);
    }
    if found.is_some() {
        return found;
    }
    let by_host = first_word(&c.by).unwrap_or("").as_bytes();
    let ends = |suffix: &str| {
        let n = suffix.len();
        by_host.len() >= n && by_host[by_host.len() - n..].eq_ignore_ascii_case(suffix.as_bytes())
    };
    if ends("google.com") {
        return Some(Mta::Gmail);
    }
    if ends("yahoo.com") || ends("yahoo.co.jp") {
        return Some(Mta::Yahoo);
    }
    None
}

/// `8.12.8/8.12.8`, `8.11.6`, `8.9.3/8.9.3/Debian 8.9.3-21`, `Switch-2.2.0/Switch-2.2.0`.
fn looks_like_sendmail_version(c: &str) -> bool {
    let first = c.split_whitespace().next().unwrap_or("");
    let v = first.split('/').next().unwrap_or("");
    let parts: Vec<&str> = v.split('.').collect();
    parts.len() >= 2
        && parts.len() <= 4
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        && parts[0].len() <= 2
}

/// Reads the `from` clause: the first token is the client's self-description; comments
/// carry the rDNS name, the connecting IP, the HELO name (in formats that print the rDNS
/// name first), ident and authentication. Returns whether the HELO name was given
/// explicitly (`helo=x`, `(HELO x)`), i.e. the first word was not the HELO name.
fn read_from(toks: &[Tok<'_>], r: &mut Received) -> bool {
    let mut iter = toks.iter();
    let Some(first) = iter.next() else {
        return false;
    };
    let mut first_ip = None;
    let mut explicit_helo = None;
    // A comment holding only a host name, `(helene.cats.ms)`, names the rDNS when no
    // other name does.
    let mut comment_name: Option<String> = None;
    match first {
        Tok::Word(w) => {
            r.from_helo = Some(w.to_string());
            first_ip = parse_ip(w).or_else(|| word_ip(w, r));
        }
        Tok::Literal { inner, port } => {
            r.from_helo = Some(format!("[{inner}]"));
            if let Some((ip, p)) = literal_ip(inner) {
                first_ip = Some(ip);
                r.from_port = port.and_then(|p| p.parse().ok()).or(p);
            }
        }
        Tok::Comment(c) => {
            explicit_helo = scan_from_comment(c, r, &mut comment_name);
        }
        Tok::Angle(_) | Tok::Semi => {}
    }
    // fetchmail `from server [ip]`: the first word names the host at that address.
    let mut pending_name: Option<&str> = match first {
        Tok::Word(w) if first_ip.is_none() => Some(w),
        _ => None,
    };
    let mut helo_next = false;
    for t in iter {
        match *t {
            Tok::Comment(c) => {
                pending_name = None;
                if let Some(h) = scan_from_comment(c, r, &mut comment_name) {
                    explicit_helo.get_or_insert(h);
                }
            }
            Tok::Literal { inner, port } => {
                if r.from_ip.is_none()
                    && let Some((ip, p)) = literal_ip(inner)
                {
                    r.from_ip = Some(ip);
                    r.from_port = port.and_then(|p| p.parse().ok()).or(p);
                    if let Some(n) = pending_name.take() {
                        r.from_rdns.get_or_insert_with(|| clean_name(n));
                    }
                }
            }
            Tok::Word(w) => {
                if helo_next {
                    explicit_helo.get_or_insert_with(|| w.to_string());
                    helo_next = false;
                } else if w.eq_ignore_ascii_case("helo") || w.eq_ignore_ascii_case("ehlo") {
                    helo_next = true;
                } else if let Some(ip) = parse_ip(w) {
                    r.from_ip.get_or_insert(ip);
                } else {
                    pending_name = Some(w);
                }
            }
            _ => {}
        }
    }
    let explicit = explicit_helo.is_some();
    if let Some(h) = explicit_helo {
        // The first word was the rDNS name (or `unknown`, or the client's IP).
        let first_word = r.from_helo.take();
        r.from_helo = Some(h);
        if let Some(w) = first_word {
            if w.eq_ignore_ascii_case("unknown") {
                r.rdns_unknown = true;
            } else if first_ip.is_none() && !w.starts_with('[') && r.from_rdns.is_none() {
                r.from_rdns = Some(clean_name(&w));
            }
        }
    }
    if r.from_ip.is_none() {
        // `from [192.0.2.1] by ...` or `from 192.0.2.1 (HELO x)`: the only address given.
        r.from_ip = first_ip;
    }
    if r.from_rdns.is_none() && !r.rdns_unknown {
        r.from_rdns = comment_name;
    }
    explicit
}

/// Reads one comment of the `from` clause. Returns an explicit HELO name when the comment
/// gives one (`helo=x`, `HELO x`, `EHLO x`).
fn scan_from_comment(
    c: &str,
    r: &mut Received,
    comment_name: &mut Option<String>,
) -> Option<String> {
    let toks = tokenize(c, 256);
    if let [
        Spanned {
            tok: Tok::Word(w), ..
        },
    ] = toks.as_slice()
        && w.contains('.')
        && parse_ip(w).is_none()
        && crate::names::is_valid_fqdn(w)
    {
        comment_name.get_or_insert_with(|| clean_name(w));
        return None;
    }
    let mut helo = None;
    let mut prev_word: Option<&str> = None;
    let mut i = 0;
    while i < toks.len() {
        match toks[i].tok {
            Tok::Literal { inner, port } => {
                if let Some((ip, p)) = literal_ip(inner) {
                    if r.from_ip.is_none() {
                        r.from_ip = Some(ip);
                        r.from_port = port.and_then(|p| p.parse().ok()).or(p);
                        if let Some(name) = prev_word.take() {
                            set_rdns(name, r);
                        }
                    }
                } else if inner.eq_ignore_ascii_case("unknown") {
                    // Sun/Oracle: `([unknown] [192.0.2.1])`
                    r.rdns_unknown = true;
                } else if inner.eq_ignore_ascii_case("local") {
                    // OpenSMTPD local submission: `(example.com [local])`
                    r.local = true;
                    if let Some(name) = prev_word.take() {
                        set_rdns(name, r);
                    }
                }
            }
            Tok::Angle(a) => {
                // `(<unknown.domain>[192.0.2.1])`
                prev_word = Some(a);
            }
            Tok::Comment(inner) => {
                if inner.to_ascii_lowercase().contains("may be forged") {
                    r.rdns_may_be_forged = true;
                }
            }
            Tok::Word(w) => {
                let lw = w.to_ascii_lowercase();
                if lw.starts_with("helo=") {
                    let v = &w[5..];
                    if !v.is_empty() {
                        helo = Some(v.to_string());
                    } else if let Some(Tok::Literal { inner, .. }) = toks.get(i + 1).map(|t| t.tok)
                    {
                        // `helo=[192.0.2.1]`
                        helo = Some(format!("[{inner}]"));
                        i += 1;
                    } else {
                        // Exim `(helo=)`: the client sent an empty HELO.
                        helo = Some(String::new());
                    }
                } else if lw == "helo" || lw == "ehlo" {
                    match toks.get(i + 1).map(|t| t.tok) {
                        Some(Tok::Word(h)) => {
                            helo = Some(h.to_string());
                            i += 1;
                        }
                        Some(Tok::Literal { inner, .. }) => {
                            helo = Some(format!("[{inner}]"));
                            i += 1;
                        }
                        _ => {}
                    }
                } else if lw.starts_with("ident=") || lw.starts_with("ident:") {
                    r.ident = Some(w[6..].to_string());
                } else if lw.starts_with("port=") {
                    r.from_port = w[5..].parse().ok().or(r.from_port);
                } else if lw == "account" {
                    // CommuniGate: `(account user@example.org HELO host)`
                    if let Some(Tok::Word(a) | Tok::Angle(a)) = toks.get(i + 1).map(|t| t.tok) {
                        r.auth = Some(a.to_string());
                        i += 1;
                    }
                } else if lw == "unknown" {
                    if r.from_ip.is_none() {
                        r.rdns_unknown = true;
                    }
                    prev_word = None;
                } else if let Some(ip) = parse_ip(w).or_else(|| word_ip(w, r)) {
                    // qmail `(192.0.2.1)`, Exchange `(2603:10b6::21)`, qmail `(user@192.0.2.1)`.
                    if r.from_ip.is_none() {
                        r.from_ip = Some(ip);
                        if let Some(name) = prev_word.take() {
                            set_rdns(name, r);
                        }
                    }
                } else if w.contains('.') && !w.contains('=') && !w.contains(':') {
                    prev_word = Some(w);
                } else {
                    prev_word = None;
                }
            }
            Tok::Semi => {}
        }
        i += 1;
    }
    helo
}

/// An address literal's inside: `192.0.2.1`, `IPv6:…`, `192.0.2.1:4321`,
/// `192.0.2.1.4321` (Exim 3), `(192.0.2.1)`, `[192.0.2.1` (doubled bracket).
fn literal_ip(inner: &str) -> Option<(IpAddr, Option<u16>)> {
    let mut s = inner.trim_ascii();
    while let Some(rest) = s.strip_prefix('[') {
        s = rest;
    }
    if let Some(rest) = s.strip_prefix('(') {
        s = rest.strip_suffix(')').unwrap_or(rest);
    }
    if let Some(ip) = parse_ip(s) {
        return Some((ip, None));
    }
    // IPv4 with a port after `:` or `.`.
    if let Some((ip, port)) = s.rsplit_once([':', '.'])
        && !ip.contains(':')
        && let (Some(ip), Ok(port)) = (parse_ip(ip), port.parse::<u16>())
    {
        return Some((ip, Some(port)));
    }
    None
}

/// `192.0.2.1:4321` (IPv4 with a port), and `user@192.0.2.1` (qmail records the ident or
/// authenticated user before the address; trailing junk such as `_trustedrelay` is cut).
fn word_ip(w: &str, r: &mut Received) -> Option<IpAddr> {
    let has_at = memchr::memchr(b'@', w.as_bytes()).is_some();
    if !has_at && !w.as_bytes().last().is_some_and(u8::is_ascii_digit) {
        return None;
    }
    if let Some((user, tail)) = w.rsplit_once('@') {
        let end = tail
            .bytes()
            .position(|b| !(b.is_ascii_digit() || b == b'.'))
            .unwrap_or(tail.len());
        let ip = parse_ip(&tail[..end])?;
        if !user.is_empty() {
            r.ident.get_or_insert_with(|| user.to_string());
        }
        return Some(ip);
    }
    let (ip, port) = w.rsplit_once(':')?;
    if ip.contains(':') {
        return None;
    }
    let ip = parse_ip(ip)?;
    if let Ok(p) = port.parse::<u16>() {
        r.from_port.get_or_insert(p);
    }
    Some(ip)
}

fn set_rdns(name: &str, r: &mut Received) {
    // sendmail `(user@host [ip])`
    let (ident, host) = match name.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, name),
    };
    if let Some(u) = ident
        && !u.is_empty()
    {
        r.ident.get_or_insert_with(|| u.to_string());
    }
    if host.eq_ignore_ascii_case("unknown") {
        r.rdns_unknown = true;
    } else if !host.is_empty() && r.from_rdns.is_none() {
        r.from_rdns = Some(clean_name(host));
    }
}

fn clean_name(n: &str) -> String {
    n.trim_end_matches('.').to_string()
}

fn read_by(toks: &[Tok<'_>], r: &mut Received) {
    let mut iter = toks.iter();
    match iter.next() {
        Some(Tok::Word(w)) => {
            r.by = Some(clean_name(w));
            if let Some(ip) = parse_ip(w) {
                r.by_ip = Some(ip);
            }
        }
        Some(Tok::Literal { inner, .. }) => {
            r.by = Some(format!("[{inner}]"));
            r.by_ip = literal_ip(inner).map(|(ip, _)| ip);
        }
        Some(Tok::Angle(a)) if !a.trim().is_empty() => r.by = Some(a.trim().to_string()),
        _ => return,
    }
    for t in iter {
        if r.by_ip.is_some() {
            break;
        }
        match t {
            Tok::Literal { inner, .. } => r.by_ip = parse_ip(inner),
            Tok::Comment(c) => {
                for ct in tokenize(c, 64) {
                    let ip = match ct.tok {
                        Tok::Literal { inner, .. } => parse_ip(inner),
                        Tok::Word(w) => parse_ip(w),
                        _ => None,
                    };
                    if ip.is_some() {
                        r.by_ip = ip;
                        break;
                    }
                }
            }
            _ => {}
        }
    }
}

fn read_with(toks: &[Tok<'_>], r: &mut Received) {
    let words: Vec<&str> = toks
        .iter()
        .take_while(|t| matches!(t, Tok::Word(_)))
        .filter_map(|t| match t {
            Tok::Word(w) => Some(*w),
            _ => None,
        })
        .collect();
    let Some(first) = words.first() else {
        // XMail: `with [XMail 1.20 ESMTP Server]`
        if let Some(Tok::Literal { inner, .. }) = toks.first()
            && let Some(p) = inner
                .split_whitespace()
                .map(Protocol::parse)
                .find(|p| !matches!(p, Protocol::Other(_)))
        {
            r.protocol = Some(p);
        }
        return;
    };
    let text = if first.eq_ignore_ascii_case("microsoft") {
        words.join(" ")
    } else {
        first.to_string()
    };
    // Exim local submissions: `local-esmtp`, `local-esmtps`, `local-bsmtp`, `local-smtp`.
    let text = match text.get(..6) {
        Some(p) if p.eq_ignore_ascii_case("local-") => {
            r.local = true;
            text[6..].to_string()
        }
        _ => text,
    };
    let mut proto = Protocol::parse(&text);
    if matches!(proto, Protocol::Other(_)) {
        // `with MailEnable ESMTP`: a product name before the protocol.
        if let Some(p) = words
            .iter()
            .skip(1)
            .map(|w| Protocol::parse(w))
            .find(|p| !matches!(p, Protocol::Other(_)))
        {
            proto = p;
        }
    }
    r.protocol = Some(proto);
    // Open-Xchange `ESMTP/TLS/DHE-RSA-AES256-GCM-SHA384`
    let mut parts = first.split('/');
    parts.next();
    if parts.next().is_some_and(|p| p.eq_ignore_ascii_case("tls")) {
        let tls = r.tls.get_or_insert_with(Tls::default);
        tls.cipher = parts.next().map(str::to_string).or(tls.cipher.take());
    }
    // Exim 4.92+: `with esmtps (TLS1.3) tls TLS_AES_256_GCM_SHA384`
    let mut it = toks.iter().skip(1);
    while let Some(t) = it.next() {
        if let Tok::Word(w) = t
            && w.eq_ignore_ascii_case("tls")
            && let Some(Tok::Word(cipher)) = it.next()
        {
            let tls = r.tls.get_or_insert_with(Tls::default);
            tls.cipher.get_or_insert_with(|| cipher.to_string());
        }
    }
}

/// Cheap filter before [`read_comment_extras`]: only comments with `=`, `:` or one of
/// `tls`, `ssl`, `auth`, `envelope` (any case) can hold what it looks for.
fn worth_reading(c: &str) -> bool {
    let b = c.as_bytes();
    if memchr::memchr2(b'=', b':', b).is_some() {
        return true;
    }
    b.windows(3).any(|w| {
        let w = [w[0] | 0x20, w[1] | 0x20, w[2] | 0x20];
        matches!(&w, b"tls" | b"ssl" | b"aut" | b"env")
    })
}

/// Information that formats put in comments anywhere in the line: TLS, authentication,
/// the envelope sender.
fn read_comment_extras(c: &str, r: &mut Received) {
    // Folding may split phrases (`authenticated user\n\t user@…`): read with single spaces.
    let folded: String;
    let c = if c.contains(['\n', '\r', '\t']) || c.contains("  ") {
        folded = c.split_whitespace().collect::<Vec<_>>().join(" ");
        folded.as_str()
    } else {
        c
    };
    let lower = c.to_ascii_lowercase();
    // Postfix: `using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)`
    if let Some(pos) = ff(&lower, &FINDERS.using_tls).or_else(|| ff(&lower, &FINDERS.using_ssl)) {
        let rest = &c[pos + 6..];
        let mut words = rest.split_whitespace();
        let version = words.next().map(normalize_tls_version);
        let cipher = if ff(&lower[pos..], &FINDERS.with_cipher).is_some() {
            rest.split(" with cipher ")
                .nth(1)
                .and_then(|s| s.split_whitespace().next())
                .map(str::to_string)
        } else {
            None
        };
        set_tls(r, version, cipher);
    }
    // sendmail/Gmail: `version=TLSv1/SSLv3 cipher=...`; Exchange `version=TLS1_2, cipher=...`
    if ff(&lower, &FINDERS.version_eq).is_some() || ff(&lower, &FINDERS.cipher_eq).is_some() {
        let mut version = None;
        let mut cipher = None;
        for w in c.split([' ', ',', '\t', '\n', '\r']) {
            let lw = w.to_ascii_lowercase();
            if lw.starts_with("version=") {
                version = Some(normalize_tls_version(&w[8..]));
            } else if lw.starts_with("cipher=") {
                cipher = Some(w[7..].to_string());
            }
        }
        if version.as_deref().is_some_and(|v| {
            v.to_ascii_lowercase().contains("tls") || v.to_ascii_lowercase().contains("ssl")
        }) || cipher.is_some()
        {
            set_tls(r, version, cipher);
        }
    }
    // Exim < 4.92: `(TLSv1:AES256-SHA:256)`, Exim >= 4.92: `(TLS1.3)`; tana.it `TLS: TLSv1.2,...`
    let trimmed = c.trim();
    // Exim 4.1x-4.6x: `(Cipher TLSv1:DES-CBC3-SHA:168)`, `(tls_cipher TLS-1.0:RSA_AES_256_CBC_SHA:32)`
    let trimmed = ["Cipher ", "cipher ", "tls_cipher "]
        .iter()
        .find_map(|p| trimmed.strip_prefix(p))
        .unwrap_or(trimmed);
    let tl = trimmed.to_ascii_lowercase();
    if (tl.starts_with("tls") || tl.starts_with("sslv"))
        && !tl.starts_with("tls:")
        && !trimmed.contains(' ')
    {
        let mut parts = trimmed.split(':');
        let version = parts.next().map(normalize_tls_version);
        let cipher = parts.next().map(str::to_string);
        set_tls(r, version, cipher);
    }
    if let Some(pos) = ff(&lower, &FINDERS.tls_colon) {
        let mut parts = c[pos + 5..].split(',');
        let version = parts.next().map(|v| normalize_tls_version(v.trim()));
        let cipher = parts.nth(1).map(|s| s.trim().to_string());
        set_tls(r, version, cipher);
    }
    // Authentication.
    if let Some(pos) = ff(&lower, &FINDERS.auth_sender) {
        let who = c[pos + 21..].split_whitespace().next().unwrap_or("");
        r.auth = Some(strip_angle(who).trim_end_matches(')').to_string());
    } else if let Some(pos) = ff(&lower, &FINDERS.auth_colon) {
        // `AUTH: LOGIN user@example.com`
        let who = c[pos + 6..]
            .split([',', ')'])
            .next()
            .unwrap_or("")
            .split_whitespace()
            .last()
            .unwrap_or("");
        r.auth = Some(who.to_string());
    } else if let Some(pos) = ff(&lower, &FINDERS.auth_user) {
        // SquirrelMail: `(SquirrelMail authenticated user user@example.com)`
        let who = c[pos + 19..].split_whitespace().next().unwrap_or("");
        r.auth = Some(who.to_string());
    } else if let Some(pos) = ff(&lower, &FINDERS.auth_as) {
        let who = c[pos + 17..].split_whitespace().next().unwrap_or("");
        r.auth = Some(who.to_string());
    } else if lower.starts_with("authenticated") && r.auth.is_none() {
        r.auth = Some(String::new());
    }
    // Exim: `(envelope-from <x>)`; older relays `(envelope-sender <x>)`.
    if let Some(pos) =
        ff(&lower, &FINDERS.envelope_from).or_else(|| ff(&lower, &FINDERS.envelope_sender))
    {
        let skip = if lower[pos..].starts_with("envelope-from") {
            13
        } else {
            15
        };
        let rest = &c[pos + skip..];
        let addr = if let Some(a) = rest.find('<') {
            rest[a + 1..].split('>').next().unwrap_or("")
        } else {
            rest.split([' ', ',', ')'])
                .find(|s| !s.is_empty())
                .unwrap_or("")
        };
        // An empty value (`(envelope-from )`, `<>`) is the null sender.
        r.envelope_from.get_or_insert_with(|| addr.to_string());
    }
}

fn set_tls(r: &mut Received, version: Option<String>, cipher: Option<String>) {
    let tls = r.tls.get_or_insert_with(Tls::default);
    if tls.version.is_none() {
        tls.version = version.filter(|v| !v.is_empty());
    }
    if tls.cipher.is_none() {
        tls.cipher = cipher.filter(|c| !c.is_empty());
    }
}

/// `TLS1_2` → `TLSv1.2`, `TLSv1/SSLv3` kept, `TLS1.3` → `TLSv1.3`.
fn normalize_tls_version(v: &str) -> String {
    let v = v.trim().trim_end_matches([',', ')', ';']);
    let lower = v.to_ascii_lowercase();
    if let Some(rest) = lower.strip_prefix("tls") {
        let rest = rest.trim_start_matches(['v', '-']).replace('_', ".");
        if !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            return format!("TLSv{rest}");
        }
    }
    v.to_string()
}

/// Lines without `;` sometimes still end in a date (`... id 123 Thu, 22 Aug 2002 ...`).
fn trailing_date(value: &str, toks: &[Spanned<'_>]) -> Option<DateTime<FixedOffset>> {
    // Try the text from each of the last few tokens to the end.
    let n = toks.len();
    for back in [6usize, 5, 7, 4] {
        if n >= back {
            let start = toks[n - back].start;
            if let Some(d) = value.get(start..).and_then(parse_date) {
                return Some(d);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests;
