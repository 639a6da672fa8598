//! SPF record syntax (RFC 7208 section 4.6.1 and section 12) and macros (section 7).
//!
//! The same grammar serves Sender ID's `spf2.0/...` records (RFC 4406 section 3), whose
//! terms are those of RFC 4408.
use serde::Serialize;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Largest number of terms in one record (bounds work on hostile records).
const MAX_TERMS: usize = 512;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Qualifier {
    Pass,
    Fail,
    SoftFail,
    Neutral,
}

impl Qualifier {
    fn symbol(self) -> &'static str {
        match self {
            Qualifier::Pass => "",
            Qualifier::Fail => "-",
            Qualifier::SoftFail => "~",
            Qualifier::Neutral => "?",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mechanism {
    All,
    Include(MacroString),
    A {
        domain: Option<MacroString>,
        cidr4: u8,
        cidr6: u8,
    },
    Mx {
        domain: Option<MacroString>,
        cidr4: u8,
        cidr6: u8,
    },
    Ptr(Option<MacroString>),
    Ip4 {
        addr: Ipv4Addr,
        prefix: u8,
    },
    Ip6 {
        addr: Ipv6Addr,
        prefix: u8,
    },
    Exists(MacroString),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    pub qualifier: Qualifier,
    pub mechanism: Mechanism,
}

impl fmt::Display for Directive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.qualifier.symbol())?;
        let spec =
            |d: &Option<MacroString>| d.as_ref().map(|d| format!(":{d}")).unwrap_or_default();
        let cidr = |c4: u8, c6: u8| {
            let mut s = String::new();
            if c4 != 32 {
                s.push_str(&format!("/{c4}"));
            }
            if c6 != 128 {
                s.push_str(&format!("//{c6}"));
            }
            s
        };
        match &self.mechanism {
            Mechanism::All => write!(f, "all"),
            Mechanism::Include(d) => write!(f, "include:{d}"),
            Mechanism::A {
                domain,
                cidr4,
                cidr6,
            } => write!(f, "a{}{}", spec(domain), cidr(*cidr4, *cidr6)),
            Mechanism::Mx {
                domain,
                cidr4,
                cidr6,
            } => write!(f, "mx{}{}", spec(domain), cidr(*cidr4, *cidr6)),
            Mechanism::Ptr(d) => write!(f, "ptr{}", spec(d)),
            Mechanism::Ip4 { addr, prefix } => write!(f, "ip4:{addr}/{prefix}"),
            Mechanism::Ip6 { addr, prefix } => write!(f, "ip6:{addr}/{prefix}"),
            Mechanism::Exists(d) => write!(f, "exists:{d}"),
        }
    }
}

/// A parsed record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub directives: Vec<Directive>,
    pub redirect: Option<MacroString>,
    pub exp: Option<MacroString>,
}

/// One piece of a macro-string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MacroPart {
    Literal(String),
    Macro {
        letter: char,
        url_escape: bool,
        keep: Option<u32>,
        reverse: bool,
        delimiters: String,
    },
}

/// A macro-string (RFC 7208 section 7.1).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MacroString(pub Vec<MacroPart>);

impl fmt::Display for MacroString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in &self.0 {
            match p {
                MacroPart::Literal(s) => f.write_str(&s.replace('%', "%%").replace(' ', "%_"))?,
                MacroPart::Macro {
                    letter,
                    url_escape,
                    keep,
                    reverse,
                    delimiters,
                } => {
                    let l = if *url_escape {
                        letter.to_ascii_uppercase()
                    } else {
                        *letter
                    };
                    write!(f, "%{{{l}")?;
                    if let Some(k) = keep {
                        write!(f, "{k}")?;
                    }
                    if *reverse {
                        f.write_str("r")?;
                    }
                    write!(f, "{delimiters}}}")?;
                }
            }
        }
        Ok(())
    }
}

/// Values the macros expand to.
#[derive(Debug, Clone, Default)]
pub struct MacroVars {
    pub sender: String,
    pub domain: String,
    pub ip_dotted: String,
    pub ip_readable: String,
    pub ip_v: &'static str,
    pub helo: String,
    pub validated: Option<String>,
    pub receiver: String,
    pub timestamp: u64,
}

impl MacroString {
    pub fn needs_validated(&self) -> bool {
        self.0
            .iter()
            .any(|p| matches!(p, MacroPart::Macro { letter: 'p', .. }))
    }

    /// Expands the macros.
    pub fn expand(&self, v: &MacroVars) -> String {
        let mut out = String::new();
        for part in &self.0 {
            match part {
                MacroPart::Literal(s) => out.push_str(s),
                MacroPart::Macro {
                    letter,
                    url_escape,
                    keep,
                    reverse,
                    delimiters,
                } => {
                    let (local, sender_domain) = match v.sender.rsplit_once('@') {
                        Some((l, d)) => (l.to_string(), d.to_string()),
                        None => (String::new(), v.sender.clone()),
                    };
                    let local = if local.is_empty() {
                        "postmaster".to_string()
                    } else {
                        local
                    };
                    let value = match letter {
                        's' => v.sender.clone(),
                        'l' => local,
                        'o' => sender_domain,
                        'd' => v.domain.clone(),
                        'i' => v.ip_dotted.clone(),
                        'p' => v.validated.clone().unwrap_or_else(|| "unknown".into()),
                        'v' => v.ip_v.to_string(),
                        'h' => v.helo.clone(),
                        'c' => v.ip_readable.clone(),
                        'r' => v.receiver.clone(),
                        't' => v.timestamp.to_string(),
                        _ => String::new(),
                    };
                    let delims: &str = if delimiters.is_empty() {
                        "."
                    } else {
                        delimiters
                    };
                    let mut parts: Vec<&str> = value.split(|c| delims.contains(c)).collect();
                    if *reverse {
                        parts.reverse();
                    }
                    if let Some(k) = keep {
                        let k = *k as usize;
                        if parts.len() > k {
                            parts = parts.split_off(parts.len() - k);
                        }
                    }
                    let joined = parts.join(".");
                    if *url_escape {
                        for b in joined.bytes() {
                            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                                out.push(char::from(b));
                            } else {
                                out.push_str(&format!("%{b:02X}"));
                            }
                        }
                    } else {
                        out.push_str(&joined);
                    }
                }
            }
        }
        out
    }
}

/// A record that cannot be used (RFC 7208 section 4.6: permerror).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SyntaxError(pub String);

fn err<T>(msg: impl Into<String>) -> Result<T, SyntaxError> {
    Err(SyntaxError(msg.into()))
}

/// Parses a macro-string. `exp` allows the `c`, `r`, `t` letters and spaces (explanation
/// text, RFC 7208 section 6.2).
pub fn parse_macro_string(s: &str, exp: bool) -> Result<MacroString, SyntaxError> {
    let b = s.as_bytes();
    let mut parts = Vec::new();
    let mut lit = String::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'%' {
            match b.get(i + 1) {
                Some(b'%') => {
                    lit.push('%');
                    i += 2;
                }
                Some(b'_') => {
                    lit.push(' ');
                    i += 2;
                }
                Some(b'-') => {
                    lit.push_str("%20");
                    i += 2;
                }
                Some(b'{') => {
                    let close = b[i..]
                        .iter()
                        .position(|&x| x == b'}')
                        .ok_or(SyntaxError(format!("unterminated macro in {s:?}")))?;
                    let body = &s[i + 2..i + close];
                    if !lit.is_empty() {
                        parts.push(MacroPart::Literal(std::mem::take(&mut lit)));
                    }
                    parts.push(parse_macro_body(body, exp)?);
                    i += close + 1;
                }
                _ => return err(format!("invalid '%' in {s:?}")),
            }
        } else if (0x21..=0x7e).contains(&c) || (exp && c == b' ') {
            lit.push(char::from(c));
            i += 1;
        } else {
            return err(format!("invalid character {c:#04x} in {s:?}"));
        }
    }
    if !lit.is_empty() {
        parts.push(MacroPart::Literal(lit));
    }
    Ok(MacroString(parts))
}

fn parse_macro_body(body: &str, exp: bool) -> Result<MacroPart, SyntaxError> {
    let mut chars = body.chars();
    let letter = chars.next().ok_or(SyntaxError("empty macro".into()))?;
    let lower = letter.to_ascii_lowercase();
    let allowed = if exp { "slodipvhcrt" } else { "slodipvh" };
    if !letter.is_ascii_alphabetic() || !allowed.contains(lower) {
        return err(format!("unknown macro letter {letter:?}"));
    }
    let rest: &str = chars.as_str();
    let digits_end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    let keep = if digits_end > 0 {
        let n: u32 = rest[..digits_end]
            .parse()
            .map_err(|_| SyntaxError("macro digit transformer too large".into()))?;
        if n == 0 {
            return err("macro digit transformer must be nonzero");
        }
        Some(n.min(128))
    } else {
        None
    };
    let mut rest = &rest[digits_end..];
    let reverse = if let Some(r) = rest.strip_prefix(['r', 'R']) {
        rest = r;
        true
    } else {
        false
    };
    if !rest.chars().all(|c| ".-+,/_=".contains(c)) {
        return err(format!("invalid macro delimiters {rest:?}"));
    }
    Ok(MacroPart::Macro {
        letter: lower,
        url_escape: letter.is_ascii_uppercase(),
        keep,
        reverse,
        delimiters: rest.to_string(),
    })
}

fn is_toplabel(l: &str) -> bool {
    let b = l.as_bytes();
    if b.is_empty() || !b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-') {
        return false;
    }
    if b.contains(&b'-') {
        b[0].is_ascii_alphanumeric() && b[b.len() - 1].is_ascii_alphanumeric()
    } else {
        b.iter().any(u8::is_ascii_alphabetic)
    }
}

/// A domain-spec: a macro-string ending in a macro or in `.toplabel[.]`.
pub fn parse_domain_spec(s: &str) -> Result<MacroString, SyntaxError> {
    if s.is_empty() {
        return err("empty domain-spec");
    }
    let ms = parse_macro_string(s, false)?;
    let ends_with_macro = matches!(ms.0.last(), Some(MacroPart::Macro { .. }))
        || s.ends_with("%%") && !s.ends_with("%%%")
        || s.ends_with("%_")
        || s.ends_with("%-");
    if !ends_with_macro {
        let body = s.strip_suffix('.').unwrap_or(s);
        let ok = match body.rsplit_once('.') {
            Some((_, top)) => is_toplabel(top),
            None => false,
        };
        if !ok {
            return err(format!(
                "domain-spec {s:?} does not end in a macro or a valid top label"
            ));
        }
    }
    Ok(ms)
}

/// `:ADDR[/LEN]` of an `ip4`/`ip6` mechanism (`family` names it in errors).
fn parse_ip_prefix<A: std::str::FromStr>(
    arg: &str,
    mechanism: &str,
    family: &str,
    max: u8,
) -> Result<(A, u8), SyntaxError> {
    let v = arg
        .strip_prefix(':')
        .ok_or(SyntaxError(format!("{mechanism} needs an address")))?;
    let (addr, prefix) = match v.split_once('/') {
        Some((a, p)) => (a, parse_cidr(p, max)?),
        None => (v, max),
    };
    let addr = addr
        .parse()
        .map_err(|_| SyntaxError(format!("invalid {family} address {addr:?}")))?;
    Ok((addr, prefix))
}

fn parse_cidr(s: &str, max: u8) -> Result<u8, SyntaxError> {
    let valid =
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    let n: u32 = if valid {
        s.parse()
            .map_err(|_| SyntaxError(format!("invalid CIDR length {s:?}")))?
    } else {
        return err(format!("invalid CIDR length {s:?}"));
    };
    if n > u32::from(max) {
        return err(format!("CIDR length /{n} over /{max}"));
    }
    Ok(n as u8)
}

/// Splits `[domain-spec][/n][//m]` (RFC 7208 section 5.6 dual-cidr-length).
fn split_dual_cidr(s: &str) -> Result<(&str, u8, u8), SyntaxError> {
    let mut rest = s;
    let mut cidr6 = 128;
    let mut cidr4 = 32;
    if let Some(pos) = rest.rfind("//") {
        let tail = &rest[pos + 2..];
        if tail.bytes().all(|b| b.is_ascii_digit()) {
            cidr6 = parse_cidr(tail, 128)?;
            rest = &rest[..pos];
        }
    }
    if let Some(pos) = rest.rfind('/') {
        let tail = &rest[pos + 1..];
        if !tail.is_empty() && tail.bytes().all(|b| b.is_ascii_digit()) {
            cidr4 = parse_cidr(tail, 32)?;
            rest = &rest[..pos];
        } else if tail.is_empty() {
            return err(format!("empty CIDR length in {s:?}"));
        }
    }
    Ok((rest, cidr4, cidr6))
}

fn parse_a_mx(name: &str, arg: &str) -> Result<(Option<MacroString>, u8, u8), SyntaxError> {
    let (domain, cidr4, cidr6) = if let Some(d) = arg.strip_prefix(':') {
        split_dual_cidr(d)?
    } else if arg.starts_with('/') {
        let (rest, c4, c6) = split_dual_cidr(arg)?;
        if !rest.is_empty() {
            return err(format!("invalid {name} mechanism {arg:?}"));
        }
        (rest, c4, c6)
    } else if arg.is_empty() {
        ("", 32, 128)
    } else {
        return err(format!("unknown mechanism {name}{arg}"));
    };
    let domain = if domain.is_empty() {
        if arg.starts_with(':') {
            return err(format!("{name}: empty domain-spec"));
        }
        None
    } else {
        Some(parse_domain_spec(domain)?)
    };
    Ok((domain, cidr4, cidr6))
}

/// Parses the terms after the version token (the record is known to be ASCII).
pub fn parse_terms(terms: &str) -> Result<Record, SyntaxError> {
    let mut record = Record {
        directives: Vec::new(),
        redirect: None,
        exp: None,
    };
    for (n, term) in terms.split(' ').filter(|t| !t.is_empty()).enumerate() {
        if n >= MAX_TERMS {
            return err(format!("more than {MAX_TERMS} terms"));
        }
        // modifier: name "=" macro-string, name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." )
        if let Some(eq) = term.find('=') {
            let name = &term[..eq];
            let is_name = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
            if is_name {
                let value = &term[eq + 1..];
                match name.to_ascii_lowercase().as_str() {
                    "redirect" => {
                        if record.redirect.is_some() {
                            return err("more than one redirect= modifier");
                        }
                        record.redirect = Some(parse_domain_spec(value)?);
                    }
                    "exp" => {
                        if record.exp.is_some() {
                            return err("more than one exp= modifier");
                        }
                        record.exp = Some(parse_domain_spec(value)?);
                    }
                    _ => {
                        parse_macro_string(value, false)?;
                    }
                }
                continue;
            }
        }
        let (qualifier, body) = match term.as_bytes()[0] {
            b'+' => (Qualifier::Pass, &term[1..]),
            b'-' => (Qualifier::Fail, &term[1..]),
            b'~' => (Qualifier::SoftFail, &term[1..]),
            b'?' => (Qualifier::Neutral, &term[1..]),
            _ => (Qualifier::Pass, term),
        };
        let name_end = body.find([':', '/']).unwrap_or(body.len());
        let (name, arg) = body.split_at(name_end);
        let mechanism = match name.to_ascii_lowercase().as_str() {
            "all" if arg.is_empty() => Mechanism::All,
            "include" => Mechanism::Include(parse_domain_spec(
                arg.strip_prefix(':')
                    .ok_or(SyntaxError("include needs a domain".into()))?,
            )?),
            "exists" => Mechanism::Exists(parse_domain_spec(
                arg.strip_prefix(':')
                    .ok_or(SyntaxError("exists needs a domain".into()))?,
            )?),
            "ptr" => match arg.strip_prefix(':') {
                Some(d) => Mechanism::Ptr(Some(parse_domain_spec(d)?)),
                None if arg.is_empty() => Mechanism::Ptr(None),
                None => return err(format!("invalid ptr mechanism {term:?}")),
            },
            "a" => {
                let (domain, cidr4, cidr6) = parse_a_mx("a", arg)?;
                Mechanism::A {
                    domain,
                    cidr4,
                    cidr6,
                }
            }
            "mx" => {
                let (domain, cidr4, cidr6) = parse_a_mx("mx", arg)?;
                Mechanism::Mx {
                    domain,
                    cidr4,
                    cidr6,
                }
            }
            "ip4" => {
                let (addr, prefix) = parse_ip_prefix::<Ipv4Addr>(arg, "ip4", "IPv4", 32)?;
                Mechanism::Ip4 { addr, prefix }
            }
            "ip6" => {
                let (addr, prefix) = parse_ip_prefix::<Ipv6Addr>(arg, "ip6", "IPv6", 128)?;
                Mechanism::Ip6 { addr, prefix }
            }
            _ => return err(format!("unknown mechanism {term:?}")),
        };
        record.directives.push(Directive {
            qualifier,
            mechanism,
        });
    }
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> MacroVars {
        MacroVars {
            sender: "strong-bad@email.example.com".into(),
            domain: "email.example.com".into(),
            ip_dotted: "192.0.2.3".into(),
            ip_readable: "192.0.2.3".into(),
            ip_v: "in-addr",
            helo: "mx.example.org".into(),
            validated: None,
            receiver: "receiver.example".into(),
            timestamp: 0,
        }
    }

    /// RFC 7208 section 7.4 examples.
    #[test]
    fn rfc_macro_examples() {
        let v = vars();
        for (m, want) in [
            ("%{s}", "strong-bad@email.example.com"),
            ("%{o}", "email.example.com"),
            ("%{d}", "email.example.com"),
            ("%{d4}", "email.example.com"),
            ("%{d3}", "email.example.com"),
            ("%{d2}", "example.com"),
            ("%{d1}", "com"),
            ("%{dr}", "com.example.email"),
            ("%{d2r}", "example.email"),
            ("%{l}", "strong-bad"),
            ("%{l-}", "strong.bad"),
            ("%{lr}", "strong-bad"),
            ("%{lr-}", "bad.strong"),
            ("%{l1r-}", "strong"),
            (
                "%{ir}.%{v}._spf.%{d2}",
                "3.2.0.192.in-addr._spf.example.com",
            ),
            ("%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com"),
            (
                "%{lr-}.lp.%{ir}.%{v}._spf.%{d2}",
                "bad.strong.lp.3.2.0.192.in-addr._spf.example.com",
            ),
            (
                "%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}",
                "3.2.0.192.in-addr.strong.lp._spf.example.com",
            ),
            (
                "%{d2}.trusted-domains.example.net",
                "example.com.trusted-domains.example.net",
            ),
        ] {
            assert_eq!(
                parse_macro_string(m, false).unwrap().expand(&v),
                want,
                "{m}"
            );
        }
        assert_eq!(
            parse_macro_string("%{L}%%%_%-", false).unwrap().expand(&v),
            "strong-bad% %20"
        );
        assert!(parse_macro_string("%{c}", false).is_err());
        assert!(parse_macro_string("%{c}", true).is_ok());
        assert!(parse_macro_string("%{d0}", false).is_err());
        assert!(parse_macro_string("%(d)", false).is_err());
    }

    #[test]
    fn domain_specs() {
        assert!(parse_domain_spec("example.com").is_ok());
        assert!(parse_domain_spec("example.com.").is_ok());
        assert!(parse_domain_spec("%{d}").is_ok());
        assert!(parse_domain_spec("foo-bar").is_err());
        assert!(parse_domain_spec("1.2.3.4").is_err());
        assert!(parse_domain_spec("example.-com").is_err());
        assert!(parse_domain_spec("com").is_err());
        assert!(parse_domain_spec("a.123-45").is_ok());
    }

    #[test]
    fn terms() {
        let r =
            parse_terms("a:foo:bar/baz.example.com/24//64 mx//0 -all exp=x.example.com moo.cow=x")
                .unwrap();
        assert_eq!(r.directives.len(), 3);
        assert_eq!(
            r.directives[0].to_string(),
            "a:foo:bar/baz.example.com/24//64"
        );
        assert_eq!(r.directives[1].to_string(), "mx//0");
        assert!(r.exp.is_some());
        for bad in [
            "a/33",
            "ip4:1.2.3.4/032",
            "ip6:::1/129",
            "a//129",
            "all:x",
            "foo",
            "moo.cow/x=y",
            "redirect=a.com redirect=b.com",
            "include",
        ] {
            assert!(parse_terms(bad).is_err(), "{bad}");
        }
    }
}
