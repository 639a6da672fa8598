//! `iprev` (RFC 8601 section 3): the client address's PTR names, confirmed forward.
use crate::dns::{DnsFailure, Resolver};
use serde::Serialize;
use std::net::IpAddr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum IprevResult {
    None,
    Pass,
    Fail,
    TempError,
    PermError,
}

impl IprevResult {
    pub fn as_str(self) -> &'static str {
        match self {
            IprevResult::None => "none",
            IprevResult::Pass => "pass",
            IprevResult::Fail => "fail",
            IprevResult::TempError => "temperror",
            IprevResult::PermError => "permerror",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IprevOutcome {
    pub result: IprevResult,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<IpAddr>,
    /// The PTR names published for the address.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ptr: Vec<String>,
    /// The first PTR name whose A/AAAA records include the address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub reason: String,
}

/// At most this many PTR names are confirmed (RFC 7208 uses 10 for the same walk).
const MAX_NAMES: usize = 10;

pub async fn verify(resolver: &Resolver, ip: IpAddr) -> IprevOutcome {
    let mut o = IprevOutcome {
        result: IprevResult::PermError,
        ip: Some(ip),
        ptr: Vec::new(),
        name: None,
        reason: String::new(),
    };
    let ptrs = match resolver.ptr(ip).await {
        Ok(p) if p.is_empty() => {
            o.reason = "no PTR record".into();
            return o;
        }
        Ok(p) => p,
        Err(DnsFailure::Temporary(e)) => {
            o.result = IprevResult::TempError;
            o.reason = format!("PTR lookup: {e}");
            return o;
        }
        Err(e) => {
            o.reason = format!("no PTR record ({e})");
            return o;
        }
    };
    o.ptr = ptrs.iter().cloned().collect();
    let mut temp = None;
    for name in ptrs.iter().take(MAX_NAMES) {
        match resolver.addresses_like(name, ip).await {
            Ok(addrs) if addrs.contains(&ip) => {
                o.result = IprevResult::Pass;
                o.name = Some(name.clone());
                o.reason = format!("{name} resolves to {ip}");
                return o;
            }
            Ok(_) | Err(DnsFailure::NxDomain) | Err(DnsFailure::InvalidName(_)) => {}
            Err(DnsFailure::Temporary(e)) => temp = Some(format!("{name}: {e}")),
        }
    }
    match temp {
        Some(e) => {
            o.result = IprevResult::TempError;
            o.reason = e;
        }
        None => {
            o.result = IprevResult::Fail;
            o.reason = format!("no PTR name resolves back to {ip}");
        }
    }
    o
}
