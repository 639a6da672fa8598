//! SPF (RFC 7208) `check_host()`, also used by Sender ID (RFC 4406) with `spf2.0` records.
//!
//! Ours, not mail-auth's (see ARCHITECTURE.md): the evaluation asks our [`Resolver`], and
//! the record grammar and rules follow RFC 7208 closely enough to pass the whole openspf
//! suite: exactly one record, the 10-lookup and 2-void-lookup limits, the MX and PTR
//! 10-name limits, 253-octet truncation, `exp=` rules, ASCII-only records, IPv4-mapped
//! clients treated as IPv4.
pub mod record;

use crate::dns::{DnsFailure, Resolver};
use record::{
    MacroString, MacroVars, Mechanism, Qualifier, Record, parse_macro_string, parse_terms,
};
use serde::Serialize;
use std::fmt;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::pin::Pin;

/// An SPF or Sender ID result (RFC 7208 section 2.6, RFC 4406 section 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SpfResult {
    None,
    Neutral,
    Pass,
    Fail,
    SoftFail,
    TempError,
    PermError,
}

impl SpfResult {
    /// The lower-case keyword (`pass`, `softfail`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            SpfResult::None => "none",
            SpfResult::Neutral => "neutral",
            SpfResult::Pass => "pass",
            SpfResult::Fail => "fail",
            SpfResult::SoftFail => "softfail",
            SpfResult::TempError => "temperror",
            SpfResult::PermError => "permerror",
        }
    }

    pub fn parse(s: &str) -> Option<SpfResult> {
        Some(match s.to_ascii_lowercase().as_str() {
            "none" => SpfResult::None,
            "neutral" => SpfResult::Neutral,
            "pass" => SpfResult::Pass,
            "fail" => SpfResult::Fail,
            "softfail" => SpfResult::SoftFail,
            "temperror" => SpfResult::TempError,
            "permerror" => SpfResult::PermError,
            _ => return None,
        })
    }
}

impl fmt::Display for SpfResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which records a check reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordKind {
    /// `v=spf1` only (SPF).
    Spf1,
    /// `spf2.0/...` records naming this scope; `v=spf1` when the domain has none
    /// (RFC 4406 section 3.4).
    SenderId(Scope),
}

/// A Sender ID scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Pra,
    Mfrom,
}

/// The outcome of one `check_host()`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpfOutcome {
    pub result: SpfResult,
    /// The domain checked (the `<domain>` argument).
    pub domain: String,
    /// The expanded `exp=` text for `fail` results, when the domain published one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
    /// Why: the matching mechanism, or what went wrong.
    pub reason: String,
}

/// Limits of RFC 7208 section 4.6.4.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub dns_mechanisms: u32,
    pub void_lookups: u32,
    pub mx_names: usize,
    pub ptr_names: usize,
    pub include_depth: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            dns_mechanisms: 10,
            void_lookups: 2,
            mx_names: 10,
            ptr_names: 10,
            include_depth: 20,
        }
    }
}

/// The inputs of `check_host()` that stay fixed across includes and redirects.
#[derive(Debug, Clone)]
pub struct CheckParams<'a> {
    pub ip: IpAddr,
    /// `<sender>`: the full address (local part may be empty); `postmaster@<domain>` is
    /// used when empty.
    pub sender: &'a str,
    pub helo: &'a str,
    /// The checking host's name (the `r` macro).
    pub receiver: &'a str,
    pub kind: RecordKind,
    pub limits: Limits,
    /// Seconds since the epoch for the `t` macro.
    pub timestamp: u64,
}

enum Abort {
    Temp(String),
    Perm(String),
}

struct Ctx<'a> {
    resolver: &'a Resolver,
    p: &'a CheckParams<'a>,
    /// The client address; IPv4-mapped IPv6 addresses as IPv4 (RFC 7208 section 5).
    ip: IpAddr,
    sender: String,
    lookups: u32,
    voids: u32,
    validated: Option<Vec<String>>,
}

/// Result of evaluating one record: a match (result + mechanism) or none.
struct Eval {
    result: SpfResult,
    reason: String,
    /// The `exp=` of the record that decided (not from includes), with its domain.
    exp: Option<(MacroString, String)>,
}

type BoxFut<'f, T> = Pin<Box<dyn Future<Output = T> + Send + 'f>>;

/// RFC 7208 `check_host(ip, domain, sender)`.
pub async fn check_host(resolver: &Resolver, domain: &str, params: &CheckParams<'_>) -> SpfOutcome {
    let domain = domain.strip_suffix('.').unwrap_or(domain).to_string();
    let sender = if params.sender.is_empty() {
        format!("postmaster@{domain}")
    } else if params.sender.starts_with('@') {
        format!("postmaster{}", params.sender)
    } else if !params.sender.contains('@') {
        format!("postmaster@{}", params.sender)
    } else {
        params.sender.to_string()
    };
    let outcome = |result, reason: String| SpfOutcome {
        result,
        domain: domain.clone(),
        explanation: None,
        reason,
    };
    if !valid_domain(&domain) {
        return outcome(
            SpfResult::None,
            format!("{domain:?} is not a valid domain name"),
        );
    }
    let ip = match params.ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(params.ip),
        v4 => v4,
    };
    let mut ctx = Ctx {
        resolver,
        p: params,
        ip,
        sender,
        lookups: 0,
        voids: 0,
        validated: None,
    };
    let record = match ctx.fetch_record(&domain).await {
        Ok(Some(r)) => r,
        Ok(None) => return outcome(SpfResult::None, format!("no SPF record for {domain}")),
        Err(Abort::Temp(e)) => return outcome(SpfResult::TempError, e),
        Err(Abort::Perm(e)) => return outcome(SpfResult::PermError, e),
    };
    match ctx.eval(record, domain.clone(), 0).await {
        Ok(eval) => {
            let explanation = if eval.result == SpfResult::Fail {
                match eval.exp {
                    Some((exp, exp_domain)) => ctx.explanation(&exp, &exp_domain).await,
                    None => None,
                }
            } else {
                None
            };
            SpfOutcome {
                result: eval.result,
                domain,
                explanation,
                reason: eval.reason,
            }
        }
        Err(Abort::Temp(e)) => outcome(SpfResult::TempError, e),
        Err(Abort::Perm(e)) => outcome(SpfResult::PermError, e),
    }
}

/// The SPF identity checked for a session: MAIL FROM, or `postmaster@<helo>` when the
/// reverse-path is null (RFC 7208 section 2.4).
pub fn identity<'x>(helo: &'x str, mail_from: &'x str) -> (String, String) {
    let mail_from = mail_from
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>');
    if mail_from.is_empty() {
        (helo.to_string(), format!("postmaster@{helo}"))
    } else {
        match mail_from.rsplit_once('@') {
            Some((_, domain)) => (domain.to_string(), mail_from.to_string()),
            None => (mail_from.to_string(), format!("postmaster@{mail_from}")),
        }
    }
}

/// `check_host()` for the MAIL FROM identity (or HELO when MAIL FROM is null).
pub async fn verify_mail_from(
    resolver: &Resolver,
    ip: IpAddr,
    helo: &str,
    mail_from: &str,
    receiver: &str,
    timestamp: u64,
) -> SpfOutcome {
    let (domain, sender) = identity(helo, mail_from);
    let params = CheckParams {
        ip,
        sender: &sender,
        helo,
        receiver,
        kind: RecordKind::Spf1,
        limits: Limits::default(),
        timestamp,
    };
    check_host(resolver, &domain, &params).await
}

/// `check_host()` for the HELO identity (RFC 7208 section 2.3).
pub async fn verify_helo(
    resolver: &Resolver,
    ip: IpAddr,
    helo: &str,
    receiver: &str,
    timestamp: u64,
) -> SpfOutcome {
    let sender = format!("postmaster@{helo}");
    let params = CheckParams {
        ip,
        sender: &sender,
        helo,
        receiver,
        kind: RecordKind::Spf1,
        limits: Limits::default(),
        timestamp,
    };
    check_host(resolver, helo, &params).await
}

impl<'a> Ctx<'a> {
    fn vars(&self, domain: &str) -> MacroVars {
        let (ip_dotted, ip_v) = match self.ip {
            IpAddr::V4(v4) => (v4.to_string(), "in-addr"),
            IpAddr::V6(v6) => {
                let mut s = String::with_capacity(63);
                for (n, byte) in v6.octets().iter().enumerate() {
                    for nibble in [byte >> 4, byte & 0x0f] {
                        if n > 0 || !s.is_empty() {
                            s.push('.');
                        }
                        s.push(char::from_digit(u32::from(nibble), 16).unwrap_or('0'));
                    }
                }
                (s, "ip6")
            }
        };
        MacroVars {
            sender: self.sender.clone(),
            domain: domain.to_string(),
            ip_dotted,
            ip_readable: self.ip.to_string(),
            ip_v,
            helo: self.p.helo.to_string(),
            validated: None,
            receiver: self.p.receiver.to_string(),
            timestamp: self.p.timestamp,
        }
    }

    /// Expands a domain-spec and applies RFC 7208 section 7.3 truncation.
    /// The mechanism's domain-spec expanded, or the current domain when it has none.
    async fn target_or_domain(&mut self, spec: Option<&MacroString>, domain: &str) -> String {
        match spec {
            Some(m) => self.target(m, domain).await,
            None => domain.to_owned(),
        }
    }

    async fn target(&mut self, m: &MacroString, domain: &str) -> String {
        let mut vars = self.vars(domain);
        if m.needs_validated() {
            vars.validated = Some(self.validated_for(domain).await);
        }
        let expanded = m.expand(&vars);
        let mut name = expanded.strip_suffix('.').unwrap_or(&expanded).to_string();
        while name.len() > 253 {
            match name.split_once('.') {
                Some((_, rest)) => name = rest.to_string(),
                None => break,
            }
        }
        name
    }

    /// The `p` macro: a validated name, preferring `domain` or one of its subdomains.
    async fn validated_for(&mut self, domain: &str) -> String {
        let names = self.validated_names().await;
        let domain = domain.to_ascii_lowercase();
        names
            .iter()
            .find(|n| **n == domain || n.ends_with(&format!(".{domain}")))
            .or_else(|| names.first())
            .cloned()
            .unwrap_or_else(|| "unknown".into())
    }

    fn count_lookup(&mut self) -> Result<(), Abort> {
        self.lookups += 1;
        if self.lookups > self.p.limits.dns_mechanisms {
            return Err(Abort::Perm(format!(
                "more than {} DNS-querying terms",
                self.p.limits.dns_mechanisms
            )));
        }
        Ok(())
    }

    fn void(&mut self) -> Result<(), Abort> {
        self.voids += 1;
        if self.voids > self.p.limits.void_lookups {
            return Err(Abort::Perm(format!(
                "more than {} void lookups",
                self.p.limits.void_lookups
            )));
        }
        Ok(())
    }

    /// The one applicable record of `domain` (RFC 7208 section 4.5, RFC 4406 section 3.4).
    async fn fetch_record(&mut self, domain: &str) -> Result<Option<Record>, Abort> {
        if !valid_domain(domain) {
            return Ok(None);
        }
        let txt = match self.resolver.txt(domain).await {
            Ok(t) => t,
            Err(DnsFailure::NxDomain) | Err(DnsFailure::InvalidName(_)) => return Ok(None),
            Err(DnsFailure::Temporary(e)) => {
                return Err(Abort::Temp(format!("looking up {domain} TXT: {e}")));
            }
        };
        let record = match select_record(&txt, self.p.kind) {
            Selected::None => return Ok(None),
            Selected::Many => {
                return Err(Abort::Perm(format!(
                    "{domain} publishes more than one record"
                )));
            }
            Selected::One(r) => r,
        };
        parse_record(&record)
            .map(Some)
            .map_err(|e| Abort::Perm(format!("{domain}: {e}")))
    }

    fn eval<'s>(
        &'s mut self,
        record: Record,
        domain: String,
        depth: u32,
    ) -> BoxFut<'s, Result<Eval, Abort>>
    where
        'a: 's,
    {
        Box::pin(async move {
            if depth > self.p.limits.include_depth {
                return Err(Abort::Perm("include/redirect nesting too deep".into()));
            }
            for directive in record.directives.iter() {
                let matched = match &directive.mechanism {
                    Mechanism::All => true,
                    Mechanism::Ip4 { addr, prefix } => match self.ip {
                        IpAddr::V4(ip) => prefix_match4(ip, *addr, *prefix),
                        IpAddr::V6(_) => false,
                    },
                    Mechanism::Ip6 { addr, prefix } => match self.ip {
                        IpAddr::V6(ip) => prefix_match6(ip, *addr, *prefix),
                        IpAddr::V4(_) => false,
                    },
                    Mechanism::A {
                        domain: spec,
                        cidr4,
                        cidr6,
                    } => {
                        self.count_lookup()?;
                        let name = self.target_or_domain(spec.as_ref(), &domain).await;
                        self.addresses_match(&name, *cidr4, *cidr6).await?
                    }
                    Mechanism::Mx {
                        domain: spec,
                        cidr4,
                        cidr6,
                    } => {
                        self.count_lookup()?;
                        let name = self.target_or_domain(spec.as_ref(), &domain).await;
                        self.mx_match(&name, *cidr4, *cidr6).await?
                    }
                    Mechanism::Ptr(spec) => {
                        self.count_lookup()?;
                        let name = self.target_or_domain(spec.as_ref(), &domain).await;
                        self.ptr_match(&name).await
                    }
                    Mechanism::Exists(spec) => {
                        self.count_lookup()?;
                        let name = self.target(spec, &domain).await;
                        match self.resolver.a(&name).await {
                            Ok(a) if !a.is_empty() => true,
                            Ok(_) | Err(DnsFailure::NxDomain) | Err(DnsFailure::InvalidName(_)) => {
                                self.void()?;
                                false
                            }
                            Err(DnsFailure::Temporary(e)) => {
                                return Err(Abort::Temp(format!("exists:{name}: {e}")));
                            }
                        }
                    }
                    Mechanism::Include(spec) => {
                        self.count_lookup()?;
                        let name = self.target(spec, &domain).await;
                        let Some(included) = self.fetch_record(&name).await? else {
                            return Err(Abort::Perm(format!("include:{name} has no SPF record")));
                        };
                        let inner = self.eval(included, name.clone(), depth + 1).await?;
                        inner.result == SpfResult::Pass
                    }
                };
                if matched {
                    return Ok(Eval {
                        result: qualifier_result(directive.qualifier),
                        reason: format!("matched {directive}"),
                        exp: record.exp.clone().map(|e| (e, domain.clone())),
                    });
                }
            }
            if let Some(redirect) = &record.redirect {
                self.count_lookup()?;
                let name = self.target(redirect, &domain).await;
                let Some(target) = self.fetch_record(&name).await? else {
                    return Err(Abort::Perm(format!("redirect={name} has no SPF record")));
                };
                return self.eval(target, name, depth + 1).await;
            }
            Ok(Eval {
                result: SpfResult::Neutral,
                reason: "no mechanism matched".into(),
                exp: None,
            })
        })
    }

    async fn addresses_match(&mut self, name: &str, c4: u8, c6: u8) -> Result<bool, Abort> {
        match self.resolver.addresses_like(name, self.ip).await {
            Ok(addrs) if addrs.is_empty() => {
                self.void()?;
                Ok(false)
            }
            Ok(addrs) => Ok(addrs.iter().any(|a| ip_matches(self.ip, *a, c4, c6))),
            Err(DnsFailure::NxDomain) | Err(DnsFailure::InvalidName(_)) => {
                self.void()?;
                Ok(false)
            }
            Err(DnsFailure::Temporary(e)) => Err(Abort::Temp(format!("a:{name}: {e}"))),
        }
    }

    async fn mx_match(&mut self, name: &str, c4: u8, c6: u8) -> Result<bool, Abort> {
        let mx = match self.resolver.mx(name).await {
            Ok(mx) if mx.is_empty() => {
                self.void()?;
                return Ok(false);
            }
            Ok(mx) => mx,
            Err(DnsFailure::NxDomain) | Err(DnsFailure::InvalidName(_)) => {
                self.void()?;
                return Ok(false);
            }
            Err(DnsFailure::Temporary(e)) => return Err(Abort::Temp(format!("mx:{name}: {e}"))),
        };
        if mx.len() > self.p.limits.mx_names {
            return Err(Abort::Perm(format!(
                "mx:{name} has more than {} MX records",
                self.p.limits.mx_names
            )));
        }
        for exchange in mx.iter() {
            if exchange.exchange.is_empty() {
                continue; // null MX (RFC 7505)
            }
            match self
                .resolver
                .addresses_like(&exchange.exchange, self.ip)
                .await
            {
                Ok(addrs) => {
                    if addrs.iter().any(|a| ip_matches(self.ip, *a, c4, c6)) {
                        return Ok(true);
                    }
                }
                Err(DnsFailure::Temporary(e)) => {
                    return Err(Abort::Temp(format!("mx:{name} {}: {e}", exchange.exchange)));
                }
                Err(_) => {}
            }
        }
        Ok(false)
    }

    /// RFC 7208 section 5.5: validated names of the client IP under `target`.
    async fn ptr_match(&mut self, target: &str) -> bool {
        let target = target.to_ascii_lowercase();
        self.validated_names()
            .await
            .iter()
            .any(|name| *name == target || name.ends_with(&format!(".{target}")))
    }

    async fn validated_names(&mut self) -> Vec<String> {
        if let Some(v) = &self.validated {
            return v.clone();
        }
        let mut out = Vec::new();
        if let Ok(ptrs) = self.resolver.ptr(self.ip).await {
            for name in ptrs.iter().take(self.p.limits.ptr_names) {
                if let Ok(addrs) = self.resolver.addresses_like(name, self.ip).await
                    && addrs.contains(&self.ip)
                {
                    out.push(name.to_ascii_lowercase());
                }
            }
        }
        self.validated = Some(out.clone());
        out
    }

    /// RFC 7208 section 6.2: the expanded explanation, or `None` on any problem.
    async fn explanation(&mut self, exp: &MacroString, domain: &str) -> Option<String> {
        let name = self.target(exp, domain).await;
        if !valid_domain(&name) {
            return None;
        }
        let txt = self.resolver.txt(&name).await.ok()?;
        if txt.len() != 1 {
            return None;
        }
        let text = std::str::from_utf8(&txt[0]).ok()?;
        if !text.is_ascii() {
            return None;
        }
        let m = parse_macro_string(text, true).ok()?;
        let mut vars = self.vars(domain);
        if m.needs_validated() {
            vars.validated = Some(self.validated_for(domain).await);
        }
        Some(m.expand(&vars))
    }
}

fn prefix_match4(a: Ipv4Addr, b: Ipv4Addr, prefix: u8) -> bool {
    let mask = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix.min(32)))
    };
    u32::from(a) & mask == u32::from(b) & mask
}

fn prefix_match6(a: Ipv6Addr, b: Ipv6Addr, prefix: u8) -> bool {
    let mask = if prefix == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(prefix.min(128)))
    };
    u128::from(a) & mask == u128::from(b) & mask
}

fn ip_matches(client: IpAddr, addr: IpAddr, c4: u8, c6: u8) -> bool {
    match (client, addr) {
        (IpAddr::V4(c), IpAddr::V4(a)) => prefix_match4(c, a, c4),
        (IpAddr::V6(c), IpAddr::V6(a)) => prefix_match6(c, a, c6),
        _ => false,
    }
}

fn qualifier_result(q: Qualifier) -> SpfResult {
    match q {
        Qualifier::Pass => SpfResult::Pass,
        Qualifier::Fail => SpfResult::Fail,
        Qualifier::SoftFail => SpfResult::SoftFail,
        Qualifier::Neutral => SpfResult::Neutral,
    }
}

enum Selected {
    None,
    One(Vec<u8>),
    Many,
}

/// The version token of an SPF-family record: `v=spf1`, or `spf2.0/scope,scope`.
fn version_of(record: &[u8]) -> &[u8] {
    let end = record
        .iter()
        .position(|&b| b == b' ')
        .unwrap_or(record.len());
    &record[..end]
}

fn is_spf1(record: &[u8]) -> bool {
    version_of(record).eq_ignore_ascii_case(b"v=spf1")
}

/// `spf2.0/pra,mfrom` -> the scopes, when `record` is an spf2.0 record.
fn spf2_scopes(record: &[u8]) -> Option<Vec<String>> {
    let v = version_of(record);
    let rest = v
        .get(..7)
        .filter(|p| p.eq_ignore_ascii_case(b"spf2.0/"))
        .map(|_| &v[7..])?;
    Some(
        String::from_utf8_lossy(rest)
            .split(',')
            .map(|s| s.to_ascii_lowercase())
            .collect(),
    )
}

fn select_record(txt: &[Vec<u8>], kind: RecordKind) -> Selected {
    let pick = |candidates: Vec<&Vec<u8>>| match candidates.len() {
        0 => Selected::None,
        1 => Selected::One(candidates[0].clone()),
        _ => Selected::Many,
    };
    match kind {
        RecordKind::Spf1 => pick(txt.iter().filter(|r| is_spf1(r)).collect()),
        RecordKind::SenderId(scope) => {
            let want = match scope {
                Scope::Pra => "pra",
                Scope::Mfrom => "mfrom",
            };
            let v2: Vec<&Vec<u8>> = txt
                .iter()
                .filter(|r| spf2_scopes(r).is_some_and(|s| s.iter().any(|x| x == want)))
                .collect();
            if !v2.is_empty() {
                return pick(v2);
            }
            pick(txt.iter().filter(|r| is_spf1(r)).collect())
        }
    }
}

/// Parses a selected record (either version): 7-bit ASCII, terms separated by spaces.
pub fn parse_record(record: &[u8]) -> Result<Record, String> {
    if !record.is_ascii() {
        return Err("record contains non-ASCII bytes".into());
    }
    if record.iter().any(|b| b.is_ascii_control()) {
        return Err("record contains control characters".into());
    }
    let text = std::str::from_utf8(record).map_err(|_| "record is not ASCII".to_string())?;
    let v = version_of(record);
    if let Some(scopes) = spf2_scopes(record)
        && (scopes.is_empty() || scopes.iter().any(|s| s != "pra" && s != "mfrom"))
    {
        return Err(format!("unknown scope in {:?}", String::from_utf8_lossy(v)));
    }
    parse_terms(&text[v.len()..]).map_err(|e| e.to_string())
}

/// A domain check_host() may query: RFC 7208 section 4.3 (multi-label, no empty or
/// over-long labels) and not an address literal.
pub fn valid_domain(domain: &str) -> bool {
    let d = domain.strip_suffix('.').unwrap_or(domain);
    if d.is_empty() || d.len() > 253 || d.starts_with('[') {
        return false;
    }
    let labels: Vec<&str> = d.split('.').collect();
    labels.len() >= 2 && labels.iter().all(|l| !l.is_empty() && l.len() <= 63)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_selection() {
        let recs = vec![
            b"v=spf1 -all".to_vec(),
            b"spf2.0/pra ~all".to_vec(),
            b"other".to_vec(),
        ];
        assert!(
            matches!(select_record(&recs, RecordKind::Spf1), Selected::One(r) if r == b"v=spf1 -all")
        );
        assert!(
            matches!(select_record(&recs, RecordKind::SenderId(Scope::Pra)), Selected::One(r) if r == b"spf2.0/pra ~all")
        );
        assert!(
            matches!(select_record(&recs, RecordKind::SenderId(Scope::Mfrom)), Selected::One(r) if r == b"v=spf1 -all")
        );
        let two = vec![b"v=spf1 -all".to_vec(), b"V=SPF1 +all".to_vec()];
        assert!(matches!(
            select_record(&two, RecordKind::Spf1),
            Selected::Many
        ));
        assert!(matches!(
            select_record(&[b"v=spf10".to_vec()], RecordKind::Spf1),
            Selected::None
        ));
    }

    #[test]
    fn parse_checks() {
        assert!(parse_record(b"v=spf1 a:\xef\xbb\xbfx.example -all").is_err());
        assert!(parse_record(b"v=spf1 a:x.example\rptr -all").is_err());
        assert!(parse_record(b"v=spf1 redirect=a.example redirect=b.example").is_err());
        assert!(parse_record(b"spf2.0/pra,mfrom ip4:192.0.2.0/24 -all").is_ok());
        assert!(parse_record(b"spf2.0/bogus -all").is_err());
    }
}
