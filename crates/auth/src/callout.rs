//! Envelope-sender verification: the classes of the 2010 study's Table 4.
//!
//! - `nonexistent_domain`: the domain has no MX, A or AAAA record;
//! - `unreachable`: a callout to the domain's MX gets a 5xx to `RCPT TO` for the address
//!   (or the domain publishes a null MX, RFC 7505);
//! - `reachable`: the MX accepts `RCPT TO`;
//! - `unknown`: temporary failures (DNS, connection, 4xx), rate limits, null senders.
//!
//! A callout is a real SMTP dialogue (RFC 5321) over TCP: greeting, `EHLO` (or `HELO`)
//! with a configurable name, `MAIL FROM:<>`, `RCPT TO:<address>`, `QUIT`. It never sends
//! `DATA`. Callouts are rate-limited per domain and cached like Postfix's
//! `address_verify_*_expire_time` defaults (positive 31 days, negative 3 days); temporary
//! outcomes are not cached. Off unless the caller builds a [`Verifier`].
use crate::dns::{Clock, DnsFailure, Resolver, SystemClock};
use serde::Serialize;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::time::timeout;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EnvelopeClass {
    NonexistentDomain,
    Unreachable,
    Reachable,
    Unknown,
}

impl EnvelopeClass {
    pub fn as_str(self) -> &'static str {
        match self {
            EnvelopeClass::NonexistentDomain => "nonexistent_domain",
            EnvelopeClass::Unreachable => "unreachable",
            EnvelopeClass::Reachable => "reachable",
            EnvelopeClass::Unknown => "unknown",
        }
    }
}

/// The outcome for one address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnvelopeOutcome {
    pub class: EnvelopeClass,
    pub address: String,
    pub reason: String,
    /// The MX host that answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mx: Option<String>,
    /// Its reply to `RCPT TO`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply: Option<String>,
    /// Served from the cache.
    pub cached: bool,
}

#[derive(Debug, Clone)]
pub struct CalloutConfig {
    /// The name given in EHLO/HELO.
    pub helo: String,
    /// The SMTP port (25; tests use another).
    pub port: u16,
    pub connect_timeout: Duration,
    /// Per SMTP reply.
    pub command_timeout: Duration,
    pub positive_ttl: Duration,
    pub negative_ttl: Duration,
    /// Callouts a domain may receive in a burst, and the refill rate per minute.
    pub burst_per_domain: u32,
    pub per_minute_per_domain: u32,
    /// MX hosts tried per callout, and addresses per host.
    pub max_hosts: usize,
    pub max_addresses: usize,
    /// Largest number of cached addresses.
    pub cache_entries: usize,
    /// Run SMTP callouts. When false only DNS decides (`nonexistent_domain`, or `unknown`
    /// for a domain that has mail exchangers).
    pub smtp: bool,
}

impl Default for CalloutConfig {
    fn default() -> Self {
        CalloutConfig {
            helo: "abusedesk.invalid".into(),
            port: 25,
            connect_timeout: Duration::from_secs(10),
            command_timeout: Duration::from_secs(30),
            positive_ttl: Duration::from_secs(31 * 86_400),
            negative_ttl: Duration::from_secs(3 * 86_400),
            burst_per_domain: 5,
            per_minute_per_domain: 10,
            max_hosts: 2,
            max_addresses: 2,
            cache_entries: 100_000,
            smtp: true,
        }
    }
}

struct Bucket {
    tokens: f64,
    updated_ms: u64,
}

/// Verifies envelope senders; shares its cache and rate limits across calls.
pub struct Verifier {
    resolver: Resolver,
    cfg: CalloutConfig,
    clock: Arc<dyn Clock>,
    cache: Mutex<HashMap<String, (EnvelopeOutcome, u64)>>,
    buckets: Mutex<HashMap<String, Bucket>>,
}

enum Smtp {
    Accepted(String),
    Rejected(String),
    Temporary(String),
}

impl Verifier {
    pub fn new(resolver: Resolver, cfg: CalloutConfig) -> Verifier {
        Verifier::with_clock(resolver, cfg, Arc::new(SystemClock))
    }

    pub fn with_clock(resolver: Resolver, cfg: CalloutConfig, clock: Arc<dyn Clock>) -> Verifier {
        Verifier {
            resolver,
            cfg,
            clock,
            cache: Mutex::default(),
            buckets: Mutex::default(),
        }
    }

    /// Classifies `address` (an envelope sender, without angle brackets).
    pub async fn verify(&self, address: &str) -> EnvelopeOutcome {
        let address = address
            .trim()
            .trim_start_matches('<')
            .trim_end_matches('>')
            .to_string();
        let outcome = |class, reason: String| EnvelopeOutcome {
            class,
            address: address.clone(),
            reason,
            mx: None,
            reply: None,
            cached: false,
        };
        if address.is_empty() {
            return outcome(
                EnvelopeClass::Unknown,
                "the null reverse-path names no mailbox".into(),
            );
        }
        let Some((local, domain)) = address.rsplit_once('@') else {
            return outcome(EnvelopeClass::Unknown, "address has no domain".into());
        };
        if local.is_empty()
            || !crate::tags::is_domain_name(domain)
            || address.chars().any(|c| c.is_control() || c == ' ')
        {
            return outcome(EnvelopeClass::Unknown, "address is malformed".into());
        }
        let domain = domain.trim_end_matches('.').to_ascii_lowercase();
        let key = address.to_ascii_lowercase();
        let now = self.clock.now_millis();
        if let Some((hit, expires)) = self
            .cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
            && *expires > now
        {
            let mut hit = hit.clone();
            hit.cached = true;
            return hit;
        }
        let result = self.classify(&address, &domain).await;
        let ttl = match result.class {
            EnvelopeClass::Reachable => Some(self.cfg.positive_ttl),
            EnvelopeClass::Unreachable | EnvelopeClass::NonexistentDomain => {
                Some(self.cfg.negative_ttl)
            }
            EnvelopeClass::Unknown => None,
        };
        if let Some(ttl) = ttl {
            let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            if cache.len() >= self.cfg.cache_entries {
                cache.retain(|_, (_, exp)| *exp > now);
                if cache.len() >= self.cfg.cache_entries {
                    cache.clear();
                }
            }
            cache.insert(key, (result.clone(), now + ttl.as_millis() as u64));
        }
        result
    }

    fn take_token(&self, domain: &str) -> bool {
        let now = self.clock.now_millis();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() > 100_000 {
            buckets.clear();
        }
        let burst = f64::from(self.cfg.burst_per_domain.max(1));
        let b = buckets.entry(domain.to_string()).or_insert(Bucket {
            tokens: burst,
            updated_ms: now,
        });
        let elapsed_min = now.saturating_sub(b.updated_ms) as f64 / 60_000.0;
        b.tokens = (b.tokens + elapsed_min * f64::from(self.cfg.per_minute_per_domain)).min(burst);
        b.updated_ms = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    async fn classify(&self, address: &str, domain: &str) -> EnvelopeOutcome {
        let mut o = EnvelopeOutcome {
            class: EnvelopeClass::Unknown,
            address: address.to_string(),
            reason: String::new(),
            mx: None,
            reply: None,
            cached: false,
        };
        let set = |mut o: EnvelopeOutcome, class, reason: String| {
            o.class = class;
            o.reason = reason;
            o
        };
        // Mail exchangers: MX, else the implicit MX (RFC 5321 section 5.1).
        let hosts: Vec<String> = match self.resolver.mx(domain).await {
            Ok(mx) if !mx.is_empty() => {
                if mx.len() == 1 && mx[0].exchange.is_empty() {
                    return set(
                        o,
                        EnvelopeClass::Unreachable,
                        format!("{domain} publishes a null MX (RFC 7505)"),
                    );
                }
                mx.iter()
                    .filter(|m| !m.exchange.is_empty())
                    .map(|m| m.exchange.clone())
                    .collect()
            }
            Ok(_) => match self.has_address(domain).await {
                Ok(true) => vec![domain.to_string()],
                Ok(false) => {
                    return set(
                        o,
                        EnvelopeClass::NonexistentDomain,
                        format!("{domain} has no MX, A or AAAA record"),
                    );
                }
                Err(e) => return set(o, EnvelopeClass::Unknown, format!("DNS: {e}")),
            },
            Err(DnsFailure::NxDomain) => {
                return set(
                    o,
                    EnvelopeClass::NonexistentDomain,
                    format!("{domain} does not exist (NXDOMAIN)"),
                );
            }
            Err(DnsFailure::InvalidName(e)) => return set(o, EnvelopeClass::NonexistentDomain, e),
            Err(DnsFailure::Temporary(e)) => {
                return set(o, EnvelopeClass::Unknown, format!("DNS: {e}"));
            }
        };
        if !self.cfg.smtp {
            return set(
                o,
                EnvelopeClass::Unknown,
                format!("{domain} has mail exchangers; callouts are off"),
            );
        }
        if !self.take_token(domain) {
            return set(
                o,
                EnvelopeClass::Unknown,
                format!("callout rate limit for {domain} reached"),
            );
        }
        let mut last = String::from("no MX host could be reached");
        for host in hosts.iter().take(self.cfg.max_hosts.max(1)) {
            let mut addrs: Vec<IpAddr> = Vec::new();
            if let Ok(a) = self.resolver.a(host).await {
                addrs.extend(a.iter().map(|ip| IpAddr::V4(*ip)));
            }
            if let Ok(a) = self.resolver.aaaa(host).await {
                addrs.extend(a.iter().map(|ip| IpAddr::V6(*ip)));
            }
            if addrs.is_empty() {
                last = format!("MX {host} has no address");
                continue;
            }
            for ip in addrs.into_iter().take(self.cfg.max_addresses.max(1)) {
                match self
                    .dialogue(SocketAddr::new(ip, self.cfg.port), address)
                    .await
                {
                    Ok(Smtp::Accepted(reply)) => {
                        o.mx = Some(host.clone());
                        o.reply = Some(reply);
                        return set(
                            o,
                            EnvelopeClass::Reachable,
                            format!("{host} accepts RCPT TO"),
                        );
                    }
                    Ok(Smtp::Rejected(reply)) => {
                        o.mx = Some(host.clone());
                        o.reply = Some(reply);
                        return set(
                            o,
                            EnvelopeClass::Unreachable,
                            format!("{host} rejects RCPT TO"),
                        );
                    }
                    Ok(Smtp::Temporary(reply)) => {
                        o.mx = Some(host.clone());
                        last = format!("{host}: {reply}");
                        o.reply = Some(reply);
                    }
                    Err(e) => last = format!("{host} [{ip}]: {e}"),
                }
            }
        }
        set(o, EnvelopeClass::Unknown, last)
    }

    async fn has_address(&self, domain: &str) -> Result<bool, DnsFailure> {
        let a = self.resolver.a(domain).await;
        if let Ok(a) = &a
            && !a.is_empty()
        {
            return Ok(true);
        }
        let aaaa = self.resolver.aaaa(domain).await;
        match (a, aaaa) {
            (_, Ok(v6)) if !v6.is_empty() => Ok(true),
            (Err(DnsFailure::Temporary(e)), _) | (_, Err(DnsFailure::Temporary(e))) => {
                Err(DnsFailure::Temporary(e))
            }
            _ => Ok(false),
        }
    }

    /// One SMTP dialogue; never sends DATA.
    async fn dialogue(&self, addr: SocketAddr, rcpt: &str) -> Result<Smtp, String> {
        let stream = timeout(self.cfg.connect_timeout, TcpStream::connect(addr))
            .await
            .map_err(|_| "connection timed out".to_string())?
            .map_err(|e| format!("connect: {e}"))?;
        let (read, mut write) = stream.into_split();
        let mut read = BufReader::new(read);
        let t = self.cfg.command_timeout;
        let (code, text) = reply(&mut read, t).await?;
        if code / 100 != 2 {
            return Ok(classify_reply(code, format!("greeting: {text}")));
        }
        send(&mut write, &format!("EHLO {}\r\n", self.cfg.helo)).await?;
        let (code, _) = reply(&mut read, t).await?;
        if code / 100 != 2 {
            send(&mut write, &format!("HELO {}\r\n", self.cfg.helo)).await?;
            let (code, text) = reply(&mut read, t).await?;
            if code / 100 != 2 {
                return Ok(Smtp::Temporary(format!("HELO refused: {text}")));
            }
        }
        send(&mut write, "MAIL FROM:<>\r\n").await?;
        let (code, text) = reply(&mut read, t).await?;
        if code / 100 != 2 {
            let _ = send(&mut write, "QUIT\r\n").await;
            // a server that refuses the null sender tells nothing about the mailbox
            return Ok(Smtp::Temporary(format!("MAIL FROM:<> refused: {text}")));
        }
        send(&mut write, &format!("RCPT TO:<{rcpt}>\r\n")).await?;
        let (code, text) = reply(&mut read, t).await?;
        let _ = send(&mut write, "QUIT\r\n").await;
        Ok(classify_reply(code, text))
    }
}

fn classify_reply(code: u16, text: String) -> Smtp {
    match code / 100 {
        2 => Smtp::Accepted(text),
        5 => Smtp::Rejected(text),
        _ => Smtp::Temporary(text),
    }
}

async fn send(w: &mut tokio::net::tcp::OwnedWriteHalf, line: &str) -> Result<(), String> {
    w.write_all(line.as_bytes())
        .await
        .map_err(|e| format!("write: {e}"))
}

/// Reads one (possibly multi-line) SMTP reply: (code, text of the last line).
async fn reply(
    r: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
    t: Duration,
) -> Result<(u16, String), String> {
    let mut text = String::new();
    for _ in 0..100 {
        let mut line = Vec::new();
        let n = timeout(t, (&mut *r).take(4096).read_until(b'\n', &mut line))
            .await
            .map_err(|_| "reply timed out".to_string())?
            .map_err(|e| format!("read: {e}"))?;
        if n == 0 {
            return Err("connection closed".into());
        }
        let line = String::from_utf8_lossy(&line).trim_end().to_string();
        let code = line
            .get(..3)
            .and_then(|c| c.parse::<u16>().ok())
            .filter(|c| (200..600).contains(c));
        let Some(code) = code else {
            return Err(format!("malformed reply {line:?}"));
        };
        text = line.clone();
        if line.as_bytes().get(3) != Some(&b'-') {
            return Ok((code, text));
        }
    }
    Err(format!("reply longer than 100 lines (last: {text:?})"))
}

use tokio::io::AsyncReadExt as _;
