//! Offline DNS data: RFC 1035 master files (section 5) parsed into an in-memory zone.
//!
//! Supported: `$ORIGIN`, `$TTL`, `@`, relative and absolute owner names, a blank owner
//! (the previous one), TTL and class in either order (`IN` only), BIND TTL units
//! (`1h30m`), parentheses spanning lines, `;` comments, quoted character-strings with
//! `\"`, `\\` and `\DDD` escapes, and the types A, AAAA, MX, TXT, SPF, PTR, CNAME, NS,
//! SOA. Records of other types are skipped with a warning (the verifiers never ask for
//! them). `$INCLUDE` is refused: give each file with `--dns-zone`.
//!
//! Lookups: an absent name is NXDOMAIN, a name that exists (or has names below it) but
//! lacks the type is NODATA, CNAMEs are followed (8 at most), and `*` wildcards match as
//! RFC 4592 describes (closest encloser).
use super::{DnsFailure, Lookup, Rdata, RecordType};
use std::collections::{BTreeSet, HashMap};
use std::net::{Ipv4Addr, Ipv6Addr};

/// Upper bound on records in one zone, to bound memory for hostile input.
pub const MAX_RECORDS: usize = 1_000_000;
const MAX_CNAME_CHAIN: usize = 8;

#[derive(Debug, Clone, Default)]
pub(crate) struct Node {
    pub(crate) records: Vec<(Rdata, u32)>,
    /// Queries for a type this node lacks time out instead of returning NODATA (tests).
    pub(crate) timeout: bool,
}

/// Names and their records. Names are lower-case without the trailing dot.
#[derive(Debug, Clone, Default)]
pub struct Zone {
    nodes: HashMap<String, Node>,
    /// Every proper suffix of every owner name (empty non-terminals exist: NODATA).
    ancestors: BTreeSet<String>,
    records: usize,
}

/// A record skipped while loading (an unsupported type).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub line: usize,
    pub message: String,
}

/// A master file that cannot be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ZoneError {
    pub line: usize,
    pub message: String,
}

impl Zone {
    pub fn new() -> Zone {
        Zone::default()
    }

    /// Number of owner names.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Adds one record. `name` may carry a trailing dot; case is ignored.
    pub fn add(&mut self, name: &str, rdata: Rdata, ttl: u32) -> Result<(), ZoneError> {
        if self.records >= MAX_RECORDS {
            return Err(ZoneError {
                line: 0,
                message: format!("more than {MAX_RECORDS} records"),
            });
        }
        let name = owner_key(name)?;
        self.note_ancestors(&name);
        self.nodes
            .entry(name)
            .or_default()
            .records
            .push((rdata, ttl));
        self.records += 1;
        Ok(())
    }

    /// Makes queries for `name` time out for every type it has no record of.
    pub fn set_timeout(&mut self, name: &str) -> Result<(), ZoneError> {
        let name = owner_key(name)?;
        self.note_ancestors(&name);
        self.nodes.entry(name).or_default().timeout = true;
        Ok(())
    }

    /// Records of one type at one name, without CNAME processing.
    pub fn records(&self, name: &str, rtype: RecordType) -> Vec<Rdata> {
        let key = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
        self.nodes
            .get(&key)
            .map(|n| {
                n.records
                    .iter()
                    .filter(|(r, _)| r.record_type() == rtype)
                    .map(|(r, _)| r.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// All owner names.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.nodes.keys().map(String::as_str)
    }

    /// Adds every record of `other`.
    pub fn merge(&mut self, other: Zone) -> Result<(), ZoneError> {
        for (name, node) in other.nodes {
            for (rdata, ttl) in node.records {
                self.add(&name, rdata, ttl)?;
            }
            if node.timeout {
                self.set_timeout(&name)?;
            }
        }
        Ok(())
    }

    fn note_ancestors(&mut self, name: &str) {
        let mut rest = name;
        while let Some((_, parent)) = rest.split_once('.') {
            if !self.ancestors.insert(parent.to_string()) {
                break;
            }
            rest = parent;
        }
    }

    fn exists(&self, name: &str) -> bool {
        self.nodes.contains_key(name) || self.ancestors.contains(name)
    }

    /// The node answering for `name`: itself, or the wildcard at its closest encloser.
    pub(crate) fn node_for(&self, name: &str) -> Option<&Node> {
        if let Some(node) = self.nodes.get(name) {
            return Some(node);
        }
        if self.ancestors.contains(name) {
            return None;
        }
        let mut rest = name;
        while let Some((_, parent)) = rest.split_once('.') {
            if self.exists(parent) {
                return self.nodes.get(&format!("*.{parent}"));
            }
            rest = parent;
        }
        None
    }

    /// Answers a query: records of `rtype` at `name` (already normalized), following
    /// CNAMEs. Timeouts are reported as temporary failures.
    pub fn resolve(&self, name: &str, rtype: RecordType) -> Lookup<Rdata> {
        Ok(self
            .answer(name, rtype)?
            .into_iter()
            .filter(|r| r.record_type() == rtype)
            .collect())
    }

    /// The full answer section for a query (CNAME records first), as a server sends it.
    pub(crate) fn answer(&self, name: &str, rtype: RecordType) -> Result<Vec<Rdata>, DnsFailure> {
        let mut out = Vec::new();
        let mut current = name.to_string();
        for _ in 0..=MAX_CNAME_CHAIN {
            let Some(node) = self.node_for(&current) else {
                if self.exists(&current) {
                    return Ok(out);
                }
                return if out.is_empty() {
                    Err(DnsFailure::NxDomain)
                } else {
                    Ok(out)
                };
            };
            let matching: Vec<Rdata> = node
                .records
                .iter()
                .filter(|(r, _)| r.record_type() == rtype)
                .map(|(r, _)| r.clone())
                .collect();
            if !matching.is_empty() {
                out.extend(matching);
                return Ok(out);
            }
            if rtype != RecordType::Cname
                && let Some((Rdata::Cname(target), _)) = node
                    .records
                    .iter()
                    .find(|(r, _)| matches!(r, Rdata::Cname(_)))
            {
                out.push(Rdata::Cname(target.clone()));
                current = target.clone();
                continue;
            }
            if node.timeout {
                return Err(DnsFailure::Temporary("timeout".into()));
            }
            return Ok(out);
        }
        Err(DnsFailure::Temporary(format!(
            "CNAME chain longer than {MAX_CNAME_CHAIN}"
        )))
    }

    /// The SOA of the zone `name` falls in: the nearest ancestor (or itself) holding one.
    pub(crate) fn soa_for(&self, name: &str) -> Option<(String, Rdata)> {
        let mut current = name;
        loop {
            if let Some(node) = self.nodes.get(current)
                && let Some((soa, _)) = node
                    .records
                    .iter()
                    .find(|(r, _)| matches!(r, Rdata::Soa { .. }))
            {
                return Some((current.to_string(), soa.clone()));
            }
            current = current.split_once('.')?.1;
        }
    }

    /// The TTL published for the records of `rtype` at `name` (the smallest), if any.
    pub(crate) fn ttl(&self, name: &str, rtype: RecordType) -> Option<u32> {
        self.node_for(name)?
            .records
            .iter()
            .filter(|(r, _)| r.record_type() == rtype)
            .map(|(_, t)| *t)
            .min()
    }

    /// Parses an RFC 1035 master file. `origin` is the initial `$ORIGIN` (often `None`:
    /// then every name must be absolute or follow an `$ORIGIN` line).
    pub fn parse(text: &[u8], origin: Option<&str>) -> Result<(Zone, Vec<Warning>), ZoneError> {
        let mut zone = Zone::new();
        let warnings = Parser::new(text, origin)?.run(&mut zone)?;
        Ok((zone, warnings))
    }
}

fn owner_key(name: &str) -> Result<String, ZoneError> {
    let n = name.strip_suffix('.').unwrap_or(name);
    if n.is_empty() {
        return Err(ZoneError {
            line: 0,
            message: "records at the root are not supported".into(),
        });
    }
    if n.len() > 253 || n.split('.').any(|l| l.is_empty() || l.len() > 63) {
        return Err(ZoneError {
            line: 0,
            message: format!("invalid owner name {name:?}"),
        });
    }
    Ok(n.to_ascii_lowercase())
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// A word; `quoted` words keep spaces and are only valid as character-strings.
    Word {
        text: Vec<u8>,
        quoted: bool,
    },
    Newline,
}

struct Parser {
    /// Logical lines: tokens plus whether the line began with whitespace.
    lines: Vec<(usize, bool, Vec<Token>)>,
    origin: Option<String>,
    default_ttl: Option<u32>,
    last_owner: Option<String>,
    last_ttl: Option<u32>,
}

impl Parser {
    fn new(text: &[u8], origin: Option<&str>) -> Result<Parser, ZoneError> {
        let origin = match origin {
            Some(o) => Some(owner_key(o).map_err(|e| ZoneError {
                line: 0,
                message: e.message,
            })?),
            None => None,
        };
        Ok(Parser {
            lines: tokenize(text)?,
            origin,
            default_ttl: None,
            last_owner: None,
            last_ttl: None,
        })
    }

    fn run(mut self, zone: &mut Zone) -> Result<Vec<Warning>, ZoneError> {
        let mut warnings = Vec::new();
        let lines = std::mem::take(&mut self.lines);
        for (line, indented, tokens) in lines {
            let words: Vec<(Vec<u8>, bool)> = tokens
                .into_iter()
                .filter_map(|t| match t {
                    Token::Word { text, quoted } => Some((text, quoted)),
                    Token::Newline => None,
                })
                .collect();
            if words.is_empty() {
                continue;
            }
            let err = |message: String| ZoneError { line, message };
            let first = String::from_utf8_lossy(&words[0].0).to_string();
            if !indented && first.starts_with('$') {
                match first.to_ascii_uppercase().as_str() {
                    "$ORIGIN" => {
                        let name = words
                            .get(1)
                            .ok_or_else(|| err("$ORIGIN needs a name".into()))?;
                        let name = String::from_utf8_lossy(&name.0).to_string();
                        self.origin = Some(self.absolute(&name, line)?);
                    }
                    "$TTL" => {
                        let ttl = words
                            .get(1)
                            .ok_or_else(|| err("$TTL needs a value".into()))?;
                        self.default_ttl = Some(
                            parse_ttl(&String::from_utf8_lossy(&ttl.0))
                                .ok_or_else(|| err("invalid $TTL".into()))?,
                        );
                    }
                    "$INCLUDE" => {
                        return Err(err(
                            "$INCLUDE is not supported: pass each file with --dns-zone".into(),
                        ));
                    }
                    other => return Err(err(format!("unknown directive {other}"))),
                }
                continue;
            }
            let mut idx = 0;
            let owner = if indented {
                self.last_owner
                    .clone()
                    .ok_or_else(|| err("record without an owner name".into()))?
            } else {
                idx = 1;
                let owner = self.absolute(&first, line)?;
                self.last_owner = Some(owner.clone());
                owner
            };
            // [ttl] [class] or [class] [ttl]
            let mut ttl = None;
            for _ in 0..2 {
                let Some((w, false)) = words.get(idx) else {
                    break;
                };
                let w = String::from_utf8_lossy(w);
                if w.eq_ignore_ascii_case("IN") {
                    idx += 1;
                } else if ["CH", "HS", "CS"].iter().any(|c| w.eq_ignore_ascii_case(c)) {
                    return Err(err(format!("class {w} is not supported (IN only)")));
                } else if let Some(t) = parse_ttl(&w) {
                    ttl = Some(t);
                    idx += 1;
                }
            }
            // RFC 2308: $TTL applies to records without one; before any $TTL, the last TTL given
            let ttl = ttl.or(self.default_ttl).or(self.last_ttl).unwrap_or(3600);
            self.last_ttl = Some(ttl);
            let (rtype_word, quoted) = words
                .get(idx)
                .ok_or_else(|| err("missing record type".into()))?;
            if *quoted {
                return Err(err("record type cannot be quoted".into()));
            }
            let rtype_name = String::from_utf8_lossy(rtype_word).to_string();
            let rest = &words[idx + 1..];
            let Some(rtype) = RecordType::from_name(&rtype_name) else {
                warnings.push(Warning {
                    line,
                    message: format!("skipped {rtype_name} record for {owner}"),
                });
                continue;
            };
            let rdata = self.rdata(rtype, rest, line)?;
            zone.add(&owner, rdata, ttl).map_err(|e| ZoneError {
                line,
                message: e.message,
            })?;
        }
        Ok(warnings)
    }

    fn absolute(&self, name: &str, line: usize) -> Result<String, ZoneError> {
        let err = |message: String| ZoneError { line, message };
        let full = if name == "@" {
            self.origin
                .clone()
                .ok_or_else(|| err("@ used before $ORIGIN".into()))?
        } else if let Some(abs) = name.strip_suffix('.') {
            abs.to_string()
        } else {
            let origin = self
                .origin
                .as_ref()
                .ok_or_else(|| err(format!("relative name {name:?} without $ORIGIN")))?;
            format!("{name}.{origin}")
        };
        owner_key(&full).map_err(|e| err(e.message))
    }

    fn name_arg(
        &self,
        words: &[(Vec<u8>, bool)],
        i: usize,
        line: usize,
    ) -> Result<String, ZoneError> {
        let (w, quoted) = words.get(i).ok_or_else(|| ZoneError {
            line,
            message: "missing name".into(),
        })?;
        if *quoted {
            return Err(ZoneError {
                line,
                message: "a domain name cannot be quoted".into(),
            });
        }
        let name = String::from_utf8(w.clone()).map_err(|_| ZoneError {
            line,
            message: "name is not ASCII".into(),
        })?;
        if name == "." {
            return Ok(String::new());
        }
        self.absolute(&name, line)
    }

    fn rdata(
        &self,
        rtype: RecordType,
        words: &[(Vec<u8>, bool)],
        line: usize,
    ) -> Result<Rdata, ZoneError> {
        let err = |message: String| ZoneError { line, message };
        let word = |i: usize| -> Result<String, ZoneError> {
            let (w, _) = words
                .get(i)
                .ok_or_else(|| err(format!("{rtype}: missing field {}", i + 1)))?;
            Ok(String::from_utf8_lossy(w).to_string())
        };
        let number = |i: usize| -> Result<u32, ZoneError> {
            let w = word(i)?;
            w.parse::<u32>()
                .map_err(|_| err(format!("{rtype}: {w:?} is not a number")))
        };
        let expect_len = |n: usize| -> Result<(), ZoneError> {
            if words.len() == n {
                Ok(())
            } else {
                Err(err(format!(
                    "{rtype}: expected {n} fields, found {}",
                    words.len()
                )))
            }
        };
        Ok(match rtype {
            RecordType::A => {
                expect_len(1)?;
                Rdata::A(
                    word(0)?
                        .parse::<Ipv4Addr>()
                        .map_err(|_| err("A: invalid IPv4 address".into()))?,
                )
            }
            RecordType::Aaaa => {
                expect_len(1)?;
                Rdata::Aaaa(
                    word(0)?
                        .parse::<Ipv6Addr>()
                        .map_err(|_| err("AAAA: invalid IPv6 address".into()))?,
                )
            }
            RecordType::Mx => {
                expect_len(2)?;
                let preference = u16::try_from(number(0)?)
                    .map_err(|_| err("MX: preference over 65535".into()))?;
                Rdata::Mx {
                    preference,
                    exchange: self.name_arg(words, 1, line)?,
                }
            }
            RecordType::Txt | RecordType::Spf => {
                let mut strings = Vec::with_capacity(words.len());
                for (w, _) in words {
                    if w.len() > 255 {
                        return Err(err(format!(
                            "{rtype}: character-string of {} octets (over 255)",
                            w.len()
                        )));
                    }
                    strings.push(w.clone());
                }
                if rtype == RecordType::Txt {
                    Rdata::Txt(strings)
                } else {
                    Rdata::Spf(strings)
                }
            }
            RecordType::Ptr => {
                expect_len(1)?;
                Rdata::Ptr(self.name_arg(words, 0, line)?)
            }
            RecordType::Cname => {
                expect_len(1)?;
                Rdata::Cname(self.name_arg(words, 0, line)?)
            }
            RecordType::Ns => {
                expect_len(1)?;
                Rdata::Ns(self.name_arg(words, 0, line)?)
            }
            RecordType::Soa => {
                expect_len(7)?;
                let ttl_field = |i: usize| -> Result<u32, ZoneError> {
                    let w = word(i)?;
                    parse_ttl(&w).ok_or_else(|| err(format!("SOA: {w:?} is not a number")))
                };
                Rdata::Soa {
                    mname: self.name_arg(words, 0, line)?,
                    rname: self.name_arg(words, 1, line)?,
                    serial: number(2)?,
                    refresh: ttl_field(3)?,
                    retry: ttl_field(4)?,
                    expire: ttl_field(5)?,
                    minimum: ttl_field(6)?,
                }
            }
        })
    }
}

/// `3600`, or BIND units: `1w2d3h4m5s`.
fn parse_ttl(s: &str) -> Option<u32> {
    if s.is_empty() || !s.as_bytes()[0].is_ascii_digit() {
        return None;
    }
    if let Ok(n) = s.parse::<u32>() {
        return Some(n);
    }
    let mut total: u64 = 0;
    let mut current: u64 = 0;
    let mut digits = false;
    for c in s.chars() {
        if let Some(d) = c.to_digit(10) {
            current = current.checked_mul(10)?.checked_add(u64::from(d))?;
            digits = true;
        } else {
            let unit = match c.to_ascii_lowercase() {
                'w' => 604_800,
                'd' => 86_400,
                'h' => 3_600,
                'm' => 60,
                's' => 1,
                _ => return None,
            };
            if !digits {
                return None;
            }
            total = total.checked_add(current.checked_mul(unit)?)?;
            current = 0;
            digits = false;
        }
    }
    if digits {
        return None;
    }
    u32::try_from(total).ok()
}

/// Splits a master file into logical lines (parentheses joined), each a token list.
fn tokenize(text: &[u8]) -> Result<Vec<(usize, bool, Vec<Token>)>, ZoneError> {
    let mut lines = Vec::new();
    let mut tokens = Vec::new();
    let mut line_no = 1usize;
    let mut start_line = 1usize;
    let mut indented = false;
    let mut at_line_start = true;
    let mut depth = 0usize;
    let mut i = 0usize;
    let mut word: Option<Vec<u8>> = None;
    let flush = |word: &mut Option<Vec<u8>>, tokens: &mut Vec<Token>| {
        if let Some(w) = word.take() {
            tokens.push(Token::Word {
                text: w,
                quoted: false,
            });
        }
    };
    while i < text.len() {
        let c = text[i];
        if at_line_start && depth == 0 {
            indented = c == b' ' || c == b'\t';
            start_line = line_no;
            at_line_start = false;
        }
        match c {
            b'\n' => {
                flush(&mut word, &mut tokens);
                line_no += 1;
                if depth == 0 {
                    if !tokens.is_empty() {
                        lines.push((start_line, indented, std::mem::take(&mut tokens)));
                    }
                    at_line_start = true;
                } else {
                    tokens.push(Token::Newline);
                }
                i += 1;
            }
            b'\r' | b' ' | b'\t' => {
                flush(&mut word, &mut tokens);
                i += 1;
            }
            b';' => {
                flush(&mut word, &mut tokens);
                while i < text.len() && text[i] != b'\n' {
                    i += 1;
                }
            }
            b'(' => {
                flush(&mut word, &mut tokens);
                depth += 1;
                i += 1;
            }
            b')' => {
                flush(&mut word, &mut tokens);
                if depth == 0 {
                    return Err(ZoneError {
                        line: line_no,
                        message: "unbalanced ')'".into(),
                    });
                }
                depth -= 1;
                i += 1;
            }
            b'"' => {
                flush(&mut word, &mut tokens);
                i += 1;
                let mut s = Vec::new();
                let quote_line = line_no;
                loop {
                    let Some(&c) = text.get(i) else {
                        return Err(ZoneError {
                            line: quote_line,
                            message: "unterminated quoted string".into(),
                        });
                    };
                    match c {
                        b'"' => {
                            i += 1;
                            break;
                        }
                        b'\\' => {
                            let (byte, used) = unescape(&text[i..]).ok_or(ZoneError {
                                line: line_no,
                                message: "invalid escape".into(),
                            })?;
                            s.push(byte);
                            i += used;
                        }
                        b'\n' => {
                            line_no += 1;
                            s.push(c);
                            i += 1;
                        }
                        _ => {
                            s.push(c);
                            i += 1;
                        }
                    }
                }
                tokens.push(Token::Word {
                    text: s,
                    quoted: true,
                });
            }
            b'\\' => {
                let (byte, used) = unescape(&text[i..]).ok_or(ZoneError {
                    line: line_no,
                    message: "invalid escape".into(),
                })?;
                word.get_or_insert_with(Vec::new).push(byte);
                i += used;
            }
            _ => {
                word.get_or_insert_with(Vec::new).push(c);
                i += 1;
            }
        }
    }
    if depth != 0 {
        return Err(ZoneError {
            line: start_line,
            message: "unbalanced '('".into(),
        });
    }
    flush(&mut word, &mut tokens);
    if !tokens.is_empty() {
        lines.push((start_line, indented, tokens));
    }
    Ok(lines)
}

/// `\X` or `\DDD` at the start of `s`: (byte, bytes consumed).
fn unescape(s: &[u8]) -> Option<(u8, usize)> {
    let next = *s.get(1)?;
    if next.is_ascii_digit() {
        let digits = s.get(1..4)?;
        if !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let v = digits
            .iter()
            .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'));
        Some((u8::try_from(v).ok()?, 4))
    } else if next == b'\n' {
        None
    } else {
        Some((next, 2))
    }
}

/// Loads several master files into one zone.
pub fn load_files(files: &[(String, Vec<u8>)]) -> Result<(Zone, Vec<String>), String> {
    let mut zone = Zone::new();
    let mut warnings = Vec::new();
    for (path, bytes) in files {
        let (z, w) = Zone::parse(bytes, None).map_err(|e| format!("{path}: {e}"))?;
        zone.merge(z).map_err(|e| format!("{path}: {e}"))?;
        warnings.extend(
            w.into_iter()
                .map(|w| format!("{path}: line {}: {}", w.line, w.message)),
        );
    }
    Ok((zone, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ZONE: &str = r#"
$ORIGIN example.com.
$TTL 1h
@       IN SOA ns1 hostmaster ( 2024010101 ; serial
                 3600 900 604800 300 )
        IN  NS   ns1
        IN  MX   10 mail
        300 IN TXT "v=spf1 ip4:192.0.2.0/24 " "-all"
mail    IN  A    192.0.2.25
        IN  AAAA 2001:db8::25
www     CNAME    mail
sel._domainkey IN TXT ( "v=DKIM1; k=rsa; "
                        "p=MIGf" )
quoted  TXT "a \"quoted\" \059 semicolon\255"
*.wild  TXT "wildcard"
deep.empty.nonterminal A 192.0.2.9
old     SPF "v=spf1 -all"
srv     SRV 0 0 25 mail
abs.example.org. A 198.51.100.1
"#;

    fn zone() -> Zone {
        let (z, w) = Zone::parse(ZONE.as_bytes(), None).unwrap();
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].message.contains("SRV"));
        z
    }

    #[test]
    fn parses_master_file() {
        let z = zone();
        assert_eq!(
            z.resolve("example.com", RecordType::Txt).unwrap()[0],
            Rdata::Txt(vec![b"v=spf1 ip4:192.0.2.0/24 ".to_vec(), b"-all".to_vec()])
        );
        assert_eq!(z.ttl("example.com", RecordType::Txt), Some(300));
        assert_eq!(z.ttl("mail.example.com", RecordType::A), Some(3600));
        assert_eq!(
            z.resolve("example.com", RecordType::Mx).unwrap()[0],
            Rdata::Mx {
                preference: 10,
                exchange: "mail.example.com".into()
            }
        );
        assert_eq!(
            z.resolve("sel._domainkey.example.com", RecordType::Txt)
                .unwrap()[0],
            Rdata::Txt(vec![b"v=DKIM1; k=rsa; ".to_vec(), b"p=MIGf".to_vec()])
        );
        assert_eq!(
            z.resolve("quoted.example.com", RecordType::Txt).unwrap()[0],
            Rdata::Txt(vec![b"a \"quoted\" ; semicolon\xff".to_vec()])
        );
        assert!(matches!(
            z.resolve("example.com", RecordType::Soa).unwrap()[0],
            Rdata::Soa { minimum: 300, .. }
        ));
        assert_eq!(
            z.resolve("abs.example.org", RecordType::A).unwrap()[0],
            Rdata::A("198.51.100.1".parse().unwrap())
        );
        assert_eq!(
            z.resolve("old.example.com", RecordType::Spf).unwrap().len(),
            1
        );
    }

    #[test]
    fn lookup_semantics() {
        let z = zone();
        assert_eq!(
            z.resolve("nope.example.com", RecordType::A),
            Err(DnsFailure::NxDomain)
        );
        assert_eq!(
            z.resolve("mail.example.com", RecordType::Txt)
                .unwrap()
                .len(),
            0
        );
        // empty non-terminal: NODATA, not NXDOMAIN
        assert_eq!(
            z.resolve("empty.nonterminal.example.com", RecordType::A)
                .unwrap()
                .len(),
            0
        );
        // CNAME followed
        assert_eq!(
            z.resolve("www.example.com", RecordType::A).unwrap()[0],
            Rdata::A("192.0.2.25".parse().unwrap())
        );
        assert_eq!(z.answer("www.example.com", RecordType::A).unwrap().len(), 2);
        // wildcard at the closest encloser
        assert_eq!(
            z.resolve("x.wild.example.com", RecordType::Txt)
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            z.resolve("y.x.wild.example.com", RecordType::Txt)
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn timeouts() {
        let mut z = Zone::new();
        z.add("t.example", Rdata::Txt(vec![b"v=spf1 -all".to_vec()]), 60)
            .unwrap();
        z.set_timeout("t.example").unwrap();
        assert_eq!(z.resolve("t.example", RecordType::Txt).unwrap().len(), 1);
        assert!(
            z.resolve("t.example", RecordType::A)
                .unwrap_err()
                .is_temporary()
        );
    }

    #[test]
    fn errors_have_lines() {
        for (text, line) in [
            ("$ORIGIN e.com.\na A 1.2.3\n", 2),
            ("$ORIGIN e.com.\n\na TXT \"unterminated\n", 3),
            ("a.e.com. A (1.2.3.4\n", 1),
            ("$INCLUDE other\n", 1),
            ("relative A 1.2.3.4\n", 1),
            ("$ORIGIN e.com.\n  A 1.2.3.4\n", 2),
            ("$ORIGIN e.com.\nm MX 70000 x\n", 2),
        ] {
            let e = Zone::parse(text.as_bytes(), None).unwrap_err();
            assert_eq!(e.line, line, "{text:?}: {e}");
        }
    }

    #[test]
    fn ttl_units() {
        assert_eq!(parse_ttl("1h30m"), Some(5400));
        assert_eq!(parse_ttl("1w"), Some(604_800));
        assert_eq!(parse_ttl("h"), None);
        assert_eq!(parse_ttl("1x"), None);
        assert_eq!(parse_ttl("99999999999w"), None);
    }
}
