//! Runs mail-auth's DMARC and ARC verifiers on answers from our [`Resolver`].
//!
//! mail-auth resolves through its own hickory instance unless its `ResolverCache` answers
//! first, and that trait is synchronous. So we fetch, through our resolver, every name the
//! verifier can ask for (they follow from the message: `_dmarc.` at each suffix of the
//! author, MAIL FROM and DKIM domains, the author domain's A record, the `_domainkey` names
//! of ARC sets), hand them over as a typed view, and run the verifier once. mail-auth's
//! own resolver is built with no name servers; a name outside the view is answered with a
//! temporary error (and counted), so nothing ever leaves through a second resolver.
use crate::dns::{DnsFailure, Resolver};
use mail_auth::common::parse::TxtRecordParser;
use mail_auth::common::verify::DomainKey;
use mail_auth::dmarc::Dmarc;
use mail_auth::hickory_resolver::proto::op::ResponseCode;
use mail_auth::{
    DnsError, DnssecStatus, Error, MessageAuthenticator, RecordSet, ResolverCache, Txt,
};
use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Answers fetched ahead of a verifier run; keys are mail-auth's (lower-case, trailing dot).
#[derive(Default)]
pub(crate) struct Answers {
    txt: HashMap<Box<str>, Txt>,
    ipv4: HashMap<Box<str>, RecordSet<Ipv4Addr>>,
    /// Lookups the view could not answer (a bug if ever non-zero; the run saw temperror).
    pub(crate) misses: AtomicUsize,
}

pub(crate) struct TxtView<'a>(pub(crate) &'a Answers);
pub(crate) struct Ipv4View<'a>(pub(crate) &'a Answers);

fn fqdn(name: &str) -> Box<str> {
    let mut s = name.trim_end_matches('.').to_ascii_lowercase();
    s.push('.');
    s.into()
}

impl ResolverCache<Box<str>, Txt> for TxtView<'_> {
    fn get<Q>(&self, name: &Q) -> Option<Txt>
    where
        Box<str>: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        Some(self.0.txt.get(name).cloned().unwrap_or_else(|| {
            self.0.misses.fetch_add(1, Ordering::Relaxed);
            Txt::Error(Error::Dns(DnsError::Resolver(
                "name was not prefetched".into(),
            )))
        }))
    }
    fn remove<Q>(&self, _name: &Q) -> Option<Txt>
    where
        Box<str>: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        None
    }
    fn insert(&self, _key: Box<str>, _value: Txt, _valid_until: std::time::Instant) {}
}

impl ResolverCache<Box<str>, RecordSet<Ipv4Addr>> for Ipv4View<'_> {
    fn get<Q>(&self, name: &Q) -> Option<RecordSet<Ipv4Addr>>
    where
        Box<str>: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        Some(self.0.ipv4.get(name).cloned().unwrap_or_else(|| {
            self.0.misses.fetch_add(1, Ordering::Relaxed);
            RecordSet {
                rrset: Arc::from(Vec::new()),
                dnssec_status: DnssecStatus::Indeterminate,
            }
        }))
    }
    fn remove<Q>(&self, _name: &Q) -> Option<RecordSet<Ipv4Addr>>
    where
        Box<str>: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        None
    }
    fn insert(
        &self,
        _key: Box<str>,
        _value: RecordSet<Ipv4Addr>,
        _valid_until: std::time::Instant,
    ) {
    }
}

/// mail-auth's verifier object, with a resolver that has no name servers.
pub(crate) fn offline_authenticator() -> Option<MessageAuthenticator> {
    use mail_auth::hickory_resolver::config::{ResolverConfig, ResolverOpts};
    MessageAuthenticator::new(
        ResolverConfig::from_name_servers(Vec::new()),
        ResolverOpts::default(),
    )
    .ok()
}

/// What a TXT name holds for mail-auth, typed by the name's role.
fn txt_for(name: &str, answer: Result<Arc<[Vec<u8>]>, DnsFailure>) -> Txt {
    let records = match answer {
        Ok(r) if r.is_empty() => {
            return Txt::Error(Error::Dns(DnsError::RecordNotFound(ResponseCode::NoError)));
        }
        Ok(r) => r,
        Err(DnsFailure::NxDomain) | Err(DnsFailure::InvalidName(_)) => {
            return Txt::Error(Error::Dns(DnsError::RecordNotFound(ResponseCode::NXDomain)));
        }
        Err(DnsFailure::Temporary(e)) => return Txt::Error(Error::Dns(DnsError::Resolver(e))),
    };
    let is_key = name.contains("._domainkey.");
    let mut last = Error::Dns(DnsError::InvalidRecordType);
    for r in records.iter() {
        let parsed = if is_key {
            DomainKey::parse(r).map(|k| Txt::DomainKey(Arc::new(k)))
        } else {
            Dmarc::parse(r).map(|d| Txt::Dmarc(Arc::new(d)))
        };
        match parsed {
            Ok(t) => return t,
            Err(e) => last = e,
        }
    }
    Txt::Error(last)
}

/// Every `_dmarc.` name a DMARC tree walk from `domain` can ask for (RFC 9989 section 4.10).
pub(crate) fn dmarc_names(domain: &str, out: &mut Vec<String>) {
    let domain = mail_auth::common::to_a_label(domain.trim_end_matches('.')).to_string();
    let labels: Vec<&str> = domain.split('.').filter(|l| !l.is_empty()).collect();
    for i in 0..labels.len() {
        out.push(format!("_dmarc.{}", labels[i..].join(".")));
    }
}

impl Answers {
    /// Fetches `txt` names and `a` names through `resolver`.
    pub(crate) async fn fetch(resolver: &Resolver, txt: &[String], a: &[String]) -> Answers {
        let mut answers = Answers::default();
        for name in txt {
            let key = fqdn(name);
            if answers.txt.contains_key(&key) {
                continue;
            }
            let value = txt_for(name, resolver.txt(name).await);
            answers.txt.insert(key, value);
        }
        for name in a {
            let key = fqdn(name);
            if answers.ipv4.contains_key(&key) {
                continue;
            }
            let rrset = resolver
                .a(name)
                .await
                .unwrap_or_else(|_| Arc::from(Vec::new()));
            answers.ipv4.insert(
                key,
                RecordSet {
                    rrset,
                    dnssec_status: DnssecStatus::Indeterminate,
                },
            );
        }
        answers
    }
}
