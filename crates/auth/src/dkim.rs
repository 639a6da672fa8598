//! DKIM verification (RFC 6376, RFC 8301, RFC 8463).
//!
//! mail-auth parses the message and signatures, canonicalizes headers and bodies and does
//! the cryptography. Around it we check ourselves what a verifier must not take on trust:
//! the signature's tags (`v=`, `a=`, `d=` and `i=` syntax and alignment, `h=` covering
//! From, `t=`/`x=` against the evaluation time given, `c=`, `q=`), the key record (`v=` first
//! and `DKIM1`, `k=`, `h=`, `s=` service type, `t=` flags, revoked `p=`), key sizes (RSA
//! at least 1024 bits, RFC 8301; Ed25519 32 octets) and `l=` (computed on the canonical
//! body; content after `l=` is reported, and a body shorter than `l=` fails). The key
//! comes from our [`Resolver`].
use crate::dns::{DnsFailure, Resolver};
use crate::tags::{TagList, is_domain_name, strip_b_value};
use base64::Engine;
use mail_auth::AuthenticatedMessage;
use mail_auth::common::crypto::{Algorithm, HashAlgorithm};
use mail_auth::common::headers::Writable;
use mail_auth::common::parse::TxtRecordParser;
use mail_auth::common::verify::DomainKey;
use mail_auth::dkim::Canonicalization;
use serde::Serialize;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};

/// RFC 8601 section 2.7.1 result codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DkimResult {
    None,
    Pass,
    Fail,
    Policy,
    Neutral,
    TempError,
    PermError,
}

impl DkimResult {
    pub fn as_str(self) -> &'static str {
        match self {
            DkimResult::None => "none",
            DkimResult::Pass => "pass",
            DkimResult::Fail => "fail",
            DkimResult::Policy => "policy",
            DkimResult::Neutral => "neutral",
            DkimResult::TempError => "temperror",
            DkimResult::PermError => "permerror",
        }
    }
}

impl fmt::Display for DkimResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a verifier accepts beyond the RFCs' MUSTs.
#[derive(Debug, Clone, Copy)]
pub struct DkimPolicy {
    /// Smallest RSA key accepted (RFC 8301: at least 1024).
    pub min_rsa_bits: usize,
    /// Report rsa-sha1 signatures that verify as `policy` (RFC 8301 forbids relying on
    /// them) instead of `permerror`.
    pub sha1_as_policy: bool,
}

impl Default for DkimPolicy {
    fn default() -> Self {
        DkimPolicy {
            min_rsa_bits: 1024,
            sha1_as_policy: true,
        }
    }
}

/// The outcome for one DKIM-Signature header field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DkimOutcome {
    pub result: DkimResult,
    /// `d=` (lower-case), empty when absent.
    pub domain: String,
    /// `s=`, empty when absent.
    pub selector: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub algorithm: String,
    /// The first 12 characters of `b=` (RFC 6008 `header.b`), to tell signatures apart.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub header_b: String,
    pub reason: String,
    /// The key says the domain is testing DKIM (`t=y`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub testing: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_bits: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed_at: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_length_limit: Option<u64>,
    /// Canonical body octets after `l=` (not covered by the signature).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unsigned_body_octets: Option<u64>,
    /// Index into mail-auth's parsed signatures (for DMARC), when it parsed this one.
    #[serde(skip)]
    pub(crate) parsed_index: Option<usize>,
}

/// The key record of RFC 6376 section 3.6.1, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    pub key_type: KeyType,
    /// `h=`: acceptable hash algorithms; `None` means all.
    pub hashes: Option<Vec<String>>,
    /// `t=` flags.
    pub flags: Vec<String>,
    /// The decoded `p=`.
    pub public_key: Vec<u8>,
    /// `p=` as published (base64, whitespace removed).
    pub public_key_b64: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    Rsa,
    Ed25519,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("key record: {0}")]
    Syntax(String),
    #[error("key record v= must come first and be DKIM1")]
    Version,
    #[error("key type k={0} is not supported")]
    KeyType(String),
    #[error("key service type s={0} does not include email")]
    Service(String),
    #[error("key has been revoked (empty p=)")]
    Revoked,
    #[error("key record has no p=")]
    NoKey,
    #[error("p= is not valid base64")]
    Base64,
}

/// Parses and checks a DKIM key record.
pub fn parse_key_record(txt: &[u8]) -> Result<KeyRecord, KeyError> {
    let tags = TagList::parse(txt).map_err(|e| KeyError::Syntax(e.to_string()))?;
    if let Some(v) = tags.get("v")
        && (tags.first_name() != Some("v") || v != "DKIM1")
    {
        return Err(KeyError::Version);
    }
    let key_type = match tags.get("k").map(str::to_ascii_lowercase).as_deref() {
        None | Some("rsa") => KeyType::Rsa,
        Some("ed25519") => KeyType::Ed25519,
        Some(other) => return Err(KeyError::KeyType(other.to_string())),
    };
    if let Some(services) = tags.list("s")
        && !services
            .iter()
            .any(|s| s == "*" || s.eq_ignore_ascii_case("email"))
    {
        return Err(KeyError::Service(services.join(":")));
    }
    let hashes = tags
        .list("h")
        .map(|h| h.into_iter().map(|x| x.to_ascii_lowercase()).collect());
    let flags = tags
        .list("t")
        .unwrap_or_default()
        .into_iter()
        .map(|f| f.to_ascii_lowercase())
        .collect();
    let p = tags.get_compact("p").ok_or(KeyError::NoKey)?;
    if p.is_empty() {
        return Err(KeyError::Revoked);
    }
    let public_key = base64::engine::general_purpose::STANDARD
        .decode(&p)
        .map_err(|_| KeyError::Base64)?;
    Ok(KeyRecord {
        key_type,
        hashes,
        flags,
        public_key,
        public_key_b64: p,
    })
}

/// A key record parsed and checked, with mail-auth's verifier for its `p=`.
struct ParsedKey {
    key: KeyRecord,
    verifier: Result<DomainKey, String>,
}

/// Parsed keys by record text: signatures from one domain share a key, and parsing the
/// record and its DER public key costs about as much as hashing a message.
fn cached_key(txt: &[u8]) -> Result<Arc<ParsedKey>, KeyError> {
    static CACHE: OnceLock<Mutex<HashMap<Vec<u8>, Arc<ParsedKey>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Mutex::default);
    if let Some(hit) = cache.lock().unwrap_or_else(|p| p.into_inner()).get(txt) {
        return Ok(hit.clone());
    }
    let key = parse_key_record(txt)?;
    let k = match key.key_type {
        KeyType::Rsa => "rsa",
        KeyType::Ed25519 => "ed25519",
    };
    let verifier = DomainKey::parse(format!("k={k}; p={}", key.public_key_b64).as_bytes())
        .map_err(|e| e.to_string());
    let parsed = Arc::new(ParsedKey { key, verifier });
    let mut map = cache.lock().unwrap_or_else(|p| p.into_inner());
    if map.len() >= 4096 {
        map.clear();
    }
    map.insert(txt.to_vec(), parsed.clone());
    Ok(parsed)
}

fn canonical<'c>(
    cache: &'c mut Vec<(Canonicalization, Vec<u8>)>,
    c: Canonicalization,
    body: &[u8],
) -> &'c [u8] {
    if let Some(pos) = cache.iter().position(|(x, _)| *x == c) {
        return &cache[pos].1;
    }
    let mut out = Vec::new();
    c.canonical_body(body, 0).write(&mut out);
    cache.push((c, out));
    &cache[cache.len() - 1].1
}

/// Verifies every DKIM-Signature of `msg`, in header order, as of `now` (Unix seconds).
pub async fn verify(
    resolver: &Resolver,
    msg: &AuthenticatedMessage<'_>,
    now: u64,
    policy: &DkimPolicy,
) -> Vec<DkimOutcome> {
    let mut out = Vec::new();
    let mut canonical_bodies: Vec<(Canonicalization, Vec<u8>)> = Vec::new();
    for (name, value) in &msg.headers {
        if !name.eq_ignore_ascii_case(b"DKIM-Signature") {
            continue;
        }
        let parsed_index = msg
            .dkim_headers
            .iter()
            .position(|h| std::ptr::eq(h.value.as_ptr(), value.as_ptr()));
        let parse_error = msg
            .errors
            .iter()
            .find(|h| std::ptr::eq(h.value.as_ptr(), value.as_ptr()))
            .map(|h| h.header.to_string());
        out.push(
            verify_one(
                resolver,
                msg,
                name,
                value,
                parsed_index,
                parse_error,
                now,
                policy,
                &mut canonical_bodies,
            )
            .await,
        );
    }
    out
}

fn base(tags: Option<&TagList>) -> DkimOutcome {
    let get = |n: &str| tags.and_then(|t| t.get(n)).unwrap_or("").to_string();
    let b = tags.and_then(|t| t.get_compact("b")).unwrap_or_default();
    DkimOutcome {
        result: DkimResult::PermError,
        domain: get("d").to_ascii_lowercase(),
        selector: get("s"),
        identity: tags.and_then(|t| t.get("i")).map(str::to_string),
        algorithm: get("a").to_ascii_lowercase(),
        header_b: b.chars().take(12).collect(),
        reason: String::new(),
        testing: false,
        key_bits: None,
        signed_at: tags.and_then(|t| t.get("t")).and_then(|t| t.parse().ok()),
        expires_at: tags.and_then(|t| t.get("x")).and_then(|t| t.parse().ok()),
        body_length_limit: tags.and_then(|t| t.get("l")).and_then(|t| t.parse().ok()),
        unsigned_body_octets: None,
        parsed_index: None,
    }
}

/// Checks of RFC 6376 section 6.1.1 on the raw tags. `Err` is the permerror reason.
pub fn check_signature_tags(tags: &TagList, now: u64) -> Result<(), String> {
    for required in ["v", "a", "b", "bh", "d", "h", "s"] {
        if tags.get(required).is_none() {
            return Err(format!("missing required tag {required}="));
        }
    }
    if tags.get("v") != Some("1") {
        return Err(format!(
            "unsupported version v={}",
            tags.get("v").unwrap_or("")
        ));
    }
    let a = tags.get("a").unwrap_or("").to_ascii_lowercase();
    if !["rsa-sha256", "rsa-sha1", "ed25519-sha256"].contains(&a.as_str()) {
        return Err(format!("unsupported algorithm a={a}"));
    }
    let d = tags.get("d").unwrap_or("");
    if !is_domain_name(d) {
        return Err(format!("d={d:?} is not a domain name"));
    }
    let s = tags.get("s").unwrap_or("");
    if !is_domain_name(s) {
        return Err(format!("s={s:?} is not a valid selector"));
    }
    if let Some(i) = tags.get("i") {
        let Some((local, idom)) = i.rsplit_once('@') else {
            return Err(format!("i={i:?} has no '@'"));
        };
        if local.contains(|c: char| c.is_ascii_whitespace() || c.is_ascii_control()) {
            return Err(format!("i={i:?} has an invalid local part"));
        }
        if !is_domain_name(idom) {
            return Err(format!("i= domain {idom:?} is not a domain name"));
        }
        let (idom, d) = (idom.to_ascii_lowercase(), d.to_ascii_lowercase());
        if idom != d && !idom.ends_with(&format!(".{d}")) {
            return Err(format!(
                "i= domain {idom} is not d={d} or a subdomain of it"
            ));
        }
    }
    let h = tags.list("h").unwrap_or_default();
    if !h.iter().any(|x| x.eq_ignore_ascii_case("from")) {
        return Err("h= does not include From".into());
    }
    if let Some(c) = tags.get("c") {
        let (hc, bc) = c.split_once('/').unwrap_or((c, "simple"));
        for part in [hc, bc] {
            if !part.eq_ignore_ascii_case("simple") && !part.eq_ignore_ascii_case("relaxed") {
                return Err(format!("unsupported canonicalization c={c}"));
            }
        }
    }
    if let Some(q) = tags.get("q")
        && !q
            .split(':')
            .any(|m| m.trim().eq_ignore_ascii_case("dns/txt"))
    {
        return Err(format!("unsupported query method q={q}"));
    }
    let number = |n: &str| -> Result<Option<u64>, String> {
        match tags.get(n) {
            None => Ok(None),
            Some(v) => v
                .parse::<u64>()
                .map(Some)
                .map_err(|_| format!("{n}={v:?} is not a number")),
        }
    };
    let t = number("t")?;
    let x = number("x")?;
    number("l")?;
    if let (Some(t), Some(x)) = (t, x)
        && x < t
    {
        return Err(format!("x={x} is before t={t}"));
    }
    if let Some(x) = x
        && x < now
    {
        return Err(format!("signature expired at {x}"));
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn verify_one(
    resolver: &Resolver,
    msg: &AuthenticatedMessage<'_>,
    name: &[u8],
    value: &[u8],
    parsed_index: Option<usize>,
    parse_error: Option<String>,
    now: u64,
    policy: &DkimPolicy,
    canonical_bodies: &mut Vec<(Canonicalization, Vec<u8>)>,
) -> DkimOutcome {
    let tags = match TagList::parse(value) {
        Ok(t) => t,
        Err(e) => {
            let mut o = base(None);
            o.reason = format!("malformed signature: {e}");
            return o;
        }
    };
    let mut o = base(Some(&tags));
    o.parsed_index = parsed_index;
    let fail = |mut o: DkimOutcome, result: DkimResult, reason: String| {
        o.result = result;
        o.reason = reason;
        o
    };
    if let Err(reason) = check_signature_tags(&tags, now) {
        return fail(o, DkimResult::PermError, reason);
    }
    let Some(idx) = parsed_index else {
        let reason = parse_error.unwrap_or_else(|| "signature could not be parsed".into());
        return fail(
            o,
            DkimResult::PermError,
            format!("malformed signature: {reason}"),
        );
    };
    let Some(header) = msg.dkim_headers.get(idx) else {
        return fail(
            o,
            DkimResult::PermError,
            "signature could not be parsed".into(),
        );
    };
    let sig = &header.header;

    // Body hash, on the canonical body (l= counts canonical octets, RFC 6376 section 3.5;
    // mail-auth cuts the raw body instead, so with l= we canonicalize ourselves).
    let ha = HashAlgorithm::from(sig.a);
    let body_ok = match o.body_length_limit {
        None => match msg
            .body_hashes
            .iter()
            .find(|(c, h, l, _)| *c == sig.cb && *h == ha && *l == 0)
        {
            Some((_, _, _, bh)) => *bh == sig.bh,
            None => {
                ha.hash(canonical(canonical_bodies, sig.cb, msg.raw_body()))
                    .as_ref()
                    == sig.bh.as_slice()
            }
        },
        Some(l) => {
            let canonical = canonical(canonical_bodies, sig.cb, msg.raw_body());
            let l_usize = usize::try_from(l).unwrap_or(usize::MAX);
            if l_usize > canonical.len() {
                let reason = format!("l={l} exceeds the {}-octet canonical body", canonical.len());
                return fail(o, DkimResult::Fail, reason);
            }
            o.unsigned_body_octets = Some((canonical.len() - l_usize) as u64);
            ha.hash(&canonical[..l_usize]).as_ref() == sig.bh.as_slice()
        }
    };
    if !body_ok {
        return fail(o, DkimResult::Fail, "body hash did not verify".into());
    }

    // Key record.
    let key_name = format!("{}._domainkey.{}", sig.s, sig.d);
    let txt = match resolver.txt(&key_name).await {
        Ok(t) => t,
        Err(DnsFailure::Temporary(e)) => {
            return fail(
                o,
                DkimResult::TempError,
                format!("key lookup {key_name}: {e}"),
            );
        }
        Err(e) => {
            return fail(
                o,
                DkimResult::PermError,
                format!("no key at {key_name} ({e})"),
            );
        }
    };
    let Some(txt) = txt.first() else {
        return fail(o, DkimResult::PermError, format!("no key at {key_name}"));
    };
    let parsed = match cached_key(txt) {
        Ok(p) => p,
        Err(e) => return fail(o, DkimResult::PermError, format!("{key_name}: {e}")),
    };
    let key = &parsed.key;
    o.testing = key.flags.iter().any(|f| f == "y");
    let family_ok = matches!(
        (key.key_type, sig.a),
        (KeyType::Rsa, Algorithm::RsaSha1 | Algorithm::RsaSha256)
            | (KeyType::Ed25519, Algorithm::Ed25519Sha256)
    );
    if !family_ok {
        let reason = format!("key type does not match a={}", o.algorithm);
        return fail(o, DkimResult::PermError, reason);
    }
    let hash_name = HashAlgorithm::from(sig.a).name();
    if let Some(h) = &key.hashes
        && !h.iter().any(|x| x == hash_name)
    {
        return fail(
            o,
            DkimResult::PermError,
            format!("key h={} does not allow {hash_name}", h.join(":")),
        );
    }
    let strict_mismatch = o
        .identity
        .as_ref()
        .and_then(|i| i.rsplit_once('@'))
        .filter(|(_, idom)| {
            key.flags.iter().any(|f| f == "s") && !idom.eq_ignore_ascii_case(&sig.d)
        })
        .map(|(_, idom)| idom.to_string());
    if let Some(idom) = strict_mismatch {
        return fail(
            o,
            DkimResult::Fail,
            format!("key t=s requires i= domain to equal d=, found {idom}"),
        );
    }
    let record = match &parsed.verifier {
        Ok(r) => r,
        Err(e) => {
            return fail(
                o,
                DkimResult::PermError,
                format!("{key_name}: unusable key: {e}"),
            );
        }
    };
    match key.key_type {
        KeyType::Rsa => {
            let bits = record.p.public_key_bits();
            if bits == 0 {
                return fail(
                    o,
                    DkimResult::PermError,
                    format!("{key_name}: p= is not an RSA public key"),
                );
            }
            o.key_bits = Some(bits);
            if bits < policy.min_rsa_bits {
                return fail(
                    o,
                    DkimResult::PermError,
                    format!(
                        "RSA key of {bits} bits is under {} (RFC 8301)",
                        policy.min_rsa_bits
                    ),
                );
            }
        }
        KeyType::Ed25519 => {
            if key.public_key.len() != 32 {
                return fail(
                    o,
                    DkimResult::PermError,
                    format!(
                        "Ed25519 key of {} octets (32 required)",
                        key.public_key.len()
                    ),
                );
            }
            o.key_bits = Some(256);
        }
    }

    // Header signature.
    let stripped = strip_b_value(value);
    let mut headers = msg.signed_headers(&sig.h, name, &stripped);
    if let Err(e) = record.p.verify(&mut headers, &sig.b, sig.ch, sig.a) {
        return fail(
            o,
            DkimResult::Fail,
            format!("signature did not verify: {e}"),
        );
    }
    if sig.a == Algorithm::RsaSha1 {
        let result = if policy.sha1_as_policy {
            DkimResult::Policy
        } else {
            DkimResult::PermError
        };
        return fail(
            o,
            result,
            "valid, but rsa-sha1 must not be relied on (RFC 8301)".into(),
        );
    }
    if let Some(unsigned) = o.unsigned_body_octets.filter(|u| *u > 0) {
        return fail(
            o,
            DkimResult::Policy,
            format!("valid, but {unsigned} body octets after l= are not signed"),
        );
    }
    o.result = DkimResult::Pass;
    o.reason = if o.testing {
        "valid (key in testing mode, t=y)".into()
    } else {
        "valid".into()
    };
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_records() {
        let k = parse_key_record(
            b"v=DKIM1; k=ed25519; t=y:s; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
        )
        .unwrap();
        assert_eq!(k.key_type, KeyType::Ed25519);
        assert_eq!(k.flags, vec!["y", "s"]);
        assert_eq!(
            parse_key_record(b"k=rsa; v=DKIM1; p=AAAA"),
            Err(KeyError::Version)
        );
        assert_eq!(parse_key_record(b"v=DKIM2; p=AAAA"), Err(KeyError::Version));
        assert_eq!(
            parse_key_record(b"k=dsa; p=AAAA"),
            Err(KeyError::KeyType("dsa".into()))
        );
        assert_eq!(
            parse_key_record(b"s=web; p=AAAA"),
            Err(KeyError::Service("web".into()))
        );
        assert!(parse_key_record(b"s=web:email; p=AAAA").is_ok());
        assert!(parse_key_record(b"s=*; p=AAAA").is_ok());
        assert_eq!(parse_key_record(b"v=DKIM1; p="), Err(KeyError::Revoked));
        assert_eq!(parse_key_record(b"v=DKIM1; k=rsa"), Err(KeyError::NoKey));
        assert_eq!(parse_key_record(b"p=!!!"), Err(KeyError::Base64));
        assert_eq!(
            parse_key_record(b"h=sha1; p=AAAA").unwrap().hashes,
            Some(vec!["sha1".to_string()])
        );
    }

    fn tags(s: &str) -> TagList {
        TagList::parse(s.as_bytes()).unwrap()
    }

    #[test]
    fn signature_tags() {
        let ok = "v=1; a=rsa-sha256; d=example.com; s=sel; h=from:to; bh=AA==; b=AA==";
        assert!(check_signature_tags(&tags(ok), 0).is_ok());
        for (sig, why) in [
            (
                "v=2; a=rsa-sha256; d=example.com; s=sel; h=from; bh=AA==; b=AA==",
                "version",
            ),
            (
                "v=1; a=rsa-md5; d=example.com; s=sel; h=from; bh=AA==; b=AA==",
                "algorithm",
            ),
            (
                "v=1; a=rsa-sha256; d=exa_mple..com; s=sel; h=from; bh=AA==; b=AA==",
                "d=",
            ),
            (
                "v=1; a=rsa-sha256; d=example.com; s=-sel; h=from; bh=AA==; b=AA==",
                "s=",
            ),
            (
                "v=1; a=rsa-sha256; d=example.com; s=sel; h=to; bh=AA==; b=AA==",
                "From",
            ),
            (
                "v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=AA==; b=AA==; i=joe@other.com",
                "subdomain",
            ),
            (
                "v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=AA==; b=AA==; i=joe",
                "'@'",
            ),
            (
                "v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=AA==; b=AA==; t=100; x=50",
                "before",
            ),
            (
                "v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=AA==; b=AA==; x=50",
                "expired",
            ),
            (
                "v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=AA==; b=AA==; c=fancy",
                "canonicalization",
            ),
            (
                "v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=AA==; b=AA==; l=ten",
                "number",
            ),
            (
                "v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=AA==",
                "missing",
            ),
        ] {
            let e = check_signature_tags(&tags(sig), 1000).unwrap_err();
            assert!(e.contains(why), "{sig}: {e}");
        }
        let sub = "v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=AA==; b=AA==; i=@mail.example.com; x=2000";
        assert!(check_signature_tags(&tags(sub), 1000).is_ok());
    }
}
