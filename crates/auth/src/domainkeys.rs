//! DomainKeys (RFC 4870): `DomainKey-Signature` verification and the `o=` sender policy.
//!
//! Ours: no Rust crate verifies DomainKeys (nor do rspamd or SpamAssassin today), yet
//! archived evidence from 2005-2011 carries it. RSA-SHA1 over the `simple` or `nofws`
//! canonical form of the headers below the signature and the body; keys of 512 to 4096
//! bits (RFC 4870 allows 512; the RustCrypto `rsa` crate verifies them where ring stops at
//! 1024).
use crate::dkim::DkimResult;
use crate::dns::{DnsFailure, Resolver};
use crate::tags::{TagList, is_domain_name};
use base64::Engine;
use mail_parser::parsers::MessageStream;
use mail_parser::{Address, HeaderValue};
use rsa::RsaPublicKey;
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::pkcs8::DecodePublicKey;
use rsa::traits::PublicKeyParts;
use serde::Serialize;
use sha1::{Digest, Sha1};

pub const MIN_KEY_BITS: usize = 512;
pub const MAX_KEY_BITS: usize = 4096;

/// The two canonicalizations of RFC 4870 section 3.4.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Canon {
    Simple,
    Nofws,
}

/// One DomainKey-Signature's outcome (results as RFC 8601 defines them for `domainkeys`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DomainKeysOutcome {
    pub result: DkimResult,
    pub domain: String,
    pub selector: String,
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub canonicalization: Option<Canon>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_bits: Option<usize>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub testing: bool,
    /// The sending address (Sender, else From) the signature must speak for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender: Option<String>,
}

fn is_fws(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Splits a body into lines without their line endings (LF or CRLF).
fn lines(body: &[u8]) -> Vec<&[u8]> {
    let mut out: Vec<&[u8]> = body
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .collect();
    if body.ends_with(b"\n") {
        out.pop();
    }
    out
}

/// The canonical body: each line CRLF-terminated (`nofws`: without SP and HTAB), trailing
/// empty lines removed.
pub fn canonical_body(body: &[u8], canon: Canon) -> Vec<u8> {
    let mut ls: Vec<Vec<u8>> = lines(body)
        .into_iter()
        .map(|l| match canon {
            Canon::Simple => l.to_vec(),
            Canon::Nofws => l
                .iter()
                .copied()
                .filter(|b| !is_fws(*b) && *b != b'\r')
                .collect(),
        })
        .collect();
    while ls.last().is_some_and(|l| l.is_empty()) {
        ls.pop();
    }
    let mut out = Vec::with_capacity(body.len() + ls.len());
    for l in ls {
        out.extend_from_slice(&l);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// One canonical header field (`name:value` as raw bytes, folding kept for `simple`).
pub fn canonical_header(name: &[u8], value: &[u8], canon: Canon) -> Vec<u8> {
    let mut out = Vec::with_capacity(name.len() + value.len() + 3);
    match canon {
        Canon::Simple => {
            out.extend_from_slice(name);
            out.push(b':');
            for (i, l) in lines(value).iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(b"\r\n");
                }
                out.extend_from_slice(l);
            }
        }
        Canon::Nofws => {
            out.extend(name.iter().copied().filter(|b| !is_fws(*b)));
            out.push(b':');
            out.extend(
                value
                    .iter()
                    .copied()
                    .filter(|b| !is_fws(*b) && *b != b'\r' && *b != b'\n'),
            );
        }
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// The octets a DomainKeys signature covers: the canonical headers below the signature
/// (only those named in `h=`, when given), an empty line, the canonical body.
pub fn signed_data(
    headers_below: &[(&[u8], &[u8])],
    h: Option<&[String]>,
    body: &[u8],
    canon: Canon,
) -> Vec<u8> {
    let mut data = Vec::new();
    for (name, value) in headers_below {
        let wanted = match h {
            Some(list) => list.iter().any(|x| x.as_bytes().eq_ignore_ascii_case(name)),
            None => true,
        };
        if wanted {
            data.extend_from_slice(&canonical_header(name, value, canon));
        }
    }
    data.extend_from_slice(b"\r\n");
    data.extend_from_slice(&canonical_body(body, canon));
    data
}

fn first_address(value: &[u8]) -> Option<String> {
    match MessageStream::new(value).parse_address() {
        HeaderValue::Address(Address::List(list)) => list
            .iter()
            .find_map(|a| a.address.as_ref().map(|s| s.to_string())),
        HeaderValue::Address(Address::Group(g)) => g
            .iter()
            .flat_map(|g| g.addresses.iter())
            .find_map(|a| a.address.as_ref().map(|s| s.to_string())),
        _ => None,
    }
}

/// The sending address of RFC 4870 section 3.3: Sender if present, else From.
pub fn sending_address(headers: &[(&[u8], &[u8])]) -> Option<String> {
    let find = |n: &[u8]| {
        headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(n))
            .and_then(|(_, v)| first_address(v))
    };
    find(b"Sender").or_else(|| find(b"From"))
}

/// The sending domain's policy (`_domainkey.<domain>`, RFC 4870 section 3.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// `o=~` or no record: some mail is signed.
    Some,
    /// `o=-`: all mail is signed.
    All,
}

async fn policy(resolver: &Resolver, domain: &str) -> (Policy, bool) {
    let Ok(txt) = resolver.txt(&format!("_domainkey.{domain}")).await else {
        return (Policy::Some, false);
    };
    for record in txt.iter() {
        if let Ok(tags) = TagList::parse(record) {
            let testing = tags.get("t").is_some_and(|t| t.eq_ignore_ascii_case("y"));
            if tags.get("o") == Some("-") {
                return (Policy::All, testing);
            }
            return (Policy::Some, testing);
        }
    }
    (Policy::Some, false)
}

/// Verifies the DomainKey-Signature headers of a message (header order). `headers` are the
/// message's fields in order; `body` the raw body. With no signature and an `o=-` policy
/// of the sending domain, one `fail` entry (with empty selector) says so.
pub async fn verify(
    resolver: &Resolver,
    headers: &[(&[u8], &[u8])],
    body: &[u8],
) -> Vec<DomainKeysOutcome> {
    let sender = sending_address(headers);
    let mut out = Vec::new();
    for (idx, (name, value)) in headers.iter().enumerate() {
        if name.eq_ignore_ascii_case(b"DomainKey-Signature") {
            out.push(verify_one(resolver, value, &headers[idx + 1..], body, sender.clone()).await);
        }
    }
    if out.is_empty()
        && let Some(sender) = &sender
        && let Some((_, domain)) = sender.rsplit_once('@')
        && is_domain_name(domain)
    {
        let domain = domain.to_ascii_lowercase();
        if let (Policy::All, testing) = policy(resolver, &domain).await {
            out.push(DomainKeysOutcome {
                result: if testing {
                    DkimResult::None
                } else {
                    DkimResult::Fail
                },
                domain: domain.clone(),
                selector: String::new(),
                reason: format!(
                    "unsigned, but {domain} says it signs all mail (o=-){}",
                    if testing { " in testing mode" } else { "" }
                ),
                canonicalization: None,
                key_bits: None,
                testing,
                sender: Some(sender.clone()),
            });
        }
    }
    out
}

async fn verify_one(
    resolver: &Resolver,
    value: &[u8],
    below: &[(&[u8], &[u8])],
    body: &[u8],
    sender: Option<String>,
) -> DomainKeysOutcome {
    let mut o = DomainKeysOutcome {
        result: DkimResult::PermError,
        domain: String::new(),
        selector: String::new(),
        reason: String::new(),
        canonicalization: None,
        key_bits: None,
        testing: false,
        sender: sender.clone(),
    };
    let done = |mut o: DomainKeysOutcome, r: DkimResult, why: String| {
        o.result = r;
        o.reason = why;
        o
    };
    let tags = match TagList::parse(value) {
        Ok(t) => t,
        Err(e) => {
            return done(
                o,
                DkimResult::PermError,
                format!("malformed signature: {e}"),
            );
        }
    };
    o.domain = tags.get("d").unwrap_or("").to_ascii_lowercase();
    o.selector = tags.get("s").unwrap_or("").to_string();
    for required in ["b", "d", "s"] {
        if tags.get(required).is_none() {
            return done(
                o,
                DkimResult::PermError,
                format!("missing required tag {required}="),
            );
        }
    }
    if let Some(a) = tags.get("a")
        && !a.eq_ignore_ascii_case("rsa-sha1")
    {
        return done(
            o,
            DkimResult::PermError,
            format!("unsupported algorithm a={a}"),
        );
    }
    if let Some(q) = tags.get("q")
        && !q.eq_ignore_ascii_case("dns")
    {
        return done(
            o,
            DkimResult::PermError,
            format!("unsupported query method q={q}"),
        );
    }
    let canon = match tags.get("c").map(str::to_ascii_lowercase).as_deref() {
        None | Some("simple") => Canon::Simple,
        Some("nofws") => Canon::Nofws,
        Some(other) => {
            return done(
                o,
                DkimResult::PermError,
                format!("unsupported canonicalization c={other}"),
            );
        }
    };
    o.canonicalization = Some(canon);
    if !is_domain_name(&o.domain) || !is_domain_name(&o.selector) {
        return done(
            o,
            DkimResult::PermError,
            "d= or s= is not a domain name".into(),
        );
    }
    let Some(sender) = sender else {
        return done(
            o,
            DkimResult::PermError,
            "no Sender or From address to verify against".into(),
        );
    };
    let Some((local, sdomain)) = sender.rsplit_once('@') else {
        return done(
            o,
            DkimResult::PermError,
            format!("sending address {sender:?} has no domain"),
        );
    };
    let sdomain = sdomain.to_ascii_lowercase();
    if sdomain != o.domain && !sdomain.ends_with(&format!(".{}", o.domain)) {
        let why = format!("d={} does not cover the sending address {sender}", o.domain);
        return done(o, DkimResult::Fail, why);
    }
    let sig = match base64::engine::general_purpose::STANDARD
        .decode(tags.get_compact("b").unwrap_or_default())
    {
        Ok(s) => s,
        Err(_) => return done(o, DkimResult::PermError, "b= is not valid base64".into()),
    };

    let key_name = format!("{}._domainkey.{}", o.selector, o.domain);
    let txt = match resolver.txt(&key_name).await {
        Ok(t) => t,
        Err(DnsFailure::Temporary(e)) => {
            return done(
                o,
                DkimResult::TempError,
                format!("key lookup {key_name}: {e}"),
            );
        }
        Err(e) => {
            return done(
                o,
                DkimResult::PermError,
                format!("no key at {key_name} ({e})"),
            );
        }
    };
    let Some(record) = txt.first() else {
        return done(o, DkimResult::PermError, format!("no key at {key_name}"));
    };
    let key = match TagList::parse(record) {
        Ok(k) => k,
        Err(e) => {
            return done(
                o,
                DkimResult::PermError,
                format!("{key_name}: bad key record: {e}"),
            );
        }
    };
    o.testing = key.get("t").is_some_and(|t| t.eq_ignore_ascii_case("y"));
    if let Some(k) = key.get("k")
        && !k.eq_ignore_ascii_case("rsa")
    {
        return done(
            o,
            DkimResult::PermError,
            format!("{key_name}: unsupported key type k={k}"),
        );
    }
    if let Some(g) = key.get("g")
        && !granularity_matches(g, local)
    {
        return done(
            o,
            DkimResult::Fail,
            format!("key granularity g={g} does not allow {local}"),
        );
    }
    let p = key.get_compact("p").unwrap_or_default();
    if p.is_empty() {
        return done(
            o,
            DkimResult::PermError,
            format!("{key_name}: key revoked (empty p=)"),
        );
    }
    let Ok(der) = base64::engine::general_purpose::STANDARD.decode(&p) else {
        return done(
            o,
            DkimResult::PermError,
            format!("{key_name}: p= is not valid base64"),
        );
    };
    let public = match RsaPublicKey::from_public_key_der(&der)
        .or_else(|_| RsaPublicKey::from_pkcs1_der(&der))
    {
        Ok(k) => k,
        Err(_) => {
            return done(
                o,
                DkimResult::PermError,
                format!("{key_name}: p= is not an RSA public key"),
            );
        }
    };
    let bits = public.n().bits();
    o.key_bits = Some(bits);
    if !(MIN_KEY_BITS..=MAX_KEY_BITS).contains(&bits) {
        return done(
            o,
            DkimResult::PermError,
            format!("RSA key of {bits} bits (accepted: {MIN_KEY_BITS} to {MAX_KEY_BITS})"),
        );
    }

    let h = tags.list("h");
    let data = signed_data(below, h.as_deref(), body, canon);
    let digest = Sha1::digest(&data);
    match public.verify(rsa::Pkcs1v15Sign::new::<Sha1>(), &digest, &sig) {
        Ok(()) => {
            let why = if o.testing {
                "valid (key in testing mode, t=y)"
            } else {
                "valid"
            };
            done(o, DkimResult::Pass, why.into())
        }
        Err(_) => done(o, DkimResult::Fail, "signature did not verify".into()),
    }
}

/// `g=` of RFC 4870 section 3.2.3: the local part, with at most one `*` wildcard.
fn granularity_matches(g: &str, local: &str) -> bool {
    if g.is_empty() {
        return false;
    }
    match g.split_once('*') {
        None => g == local,
        Some((pre, post)) => {
            local.len() >= pre.len() + post.len() && local.starts_with(pre) && local.ends_with(post)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_forms() {
        let body = b"Hello  world \r\n\r\nsecond\tline\n\r\n\r\n";
        assert_eq!(
            canonical_body(body, Canon::Simple),
            b"Hello  world \r\n\r\nsecond\tline\r\n".to_vec()
        );
        assert_eq!(
            canonical_body(body, Canon::Nofws),
            b"Helloworld\r\n\r\nsecondline\r\n".to_vec()
        );
        assert_eq!(
            canonical_header(b"Subject", b" a b\r\n\tc\r\n", Canon::Simple),
            b"Subject: a b\r\n\tc\r\n".to_vec()
        );
        assert_eq!(
            canonical_header(b"Subject", b" a b\r\n\tc\r\n", Canon::Nofws),
            b"Subject:abc\r\n".to_vec()
        );
        assert_eq!(canonical_body(b"", Canon::Simple), Vec::<u8>::new());
    }

    #[test]
    fn granularity() {
        assert!(granularity_matches("joe", "joe"));
        assert!(granularity_matches("*", "anyone"));
        assert!(granularity_matches("news*", "newsletter"));
        assert!(!granularity_matches("news*", "joe"));
        assert!(!granularity_matches("", "joe"));
    }
}
