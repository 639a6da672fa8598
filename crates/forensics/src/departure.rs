//! Where a message left *our* network: the question of a complaint about outgoing mail.
//!
//! The trust walk answers "where did this message enter the network we trust?" — right for
//! mail we received. A complaint forwards mail that someone else received: the newest hops
//! are the complainant's infrastructure, which our trust configuration knows nothing about,
//! so the walk may stop at the complainant's own filter. [`departure`] looks for our
//! address space in the chain instead: the **topmost** hop whose sender is ours is where the
//! message left us (lines above it were written by the receiving side; lines below the true
//! origin can be forged by the sender, so the topmost is the one to believe). From there it
//! walks down through our trusted relays (smarthosts, outbound filters) to the first sender
//! that is not one of them: the customer.

use crate::chain::Hop;
use crate::config::TrustConfig;
use chrono::{DateTime, FixedOffset};
use serde::Serialize;
use std::net::IpAddr;

/// The hop where a message left our network, and who inside it sent it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Departure {
    /// The sender inside our network (the customer, or our own relay when nothing below
    /// it is recorded).
    pub ip: IpAddr,
    pub port: Option<u16>,
    /// Index into the trace's hops of the hop that records `ip` as its sender.
    pub hop: usize,
    /// When the host that received from `ip` stamped that hop.
    pub date: Option<DateTime<FixedOffset>>,
    /// The hop where the message was handed out of our network (to the receiving side).
    pub exit_hop: usize,
    /// Our trusted relays the message passed on the way out, newest first.
    pub relays: Vec<IpAddr>,
    /// One sentence for the operator.
    pub reason: String,
}

/// Finds where the message left our network. `is_ours` says whether an address is in our
/// address space (the registry's networks). Returns `None` when no hop's sender is ours.
pub fn departure(
    hops: &[Hop],
    is_ours: impl Fn(IpAddr) -> bool,
    trust: &TrustConfig,
) -> Option<Departure> {
    let exit = hops
        .iter()
        .position(|h| h.received.parsed && h.received.from_ip.is_some_and(&is_ours))?;
    let mut relays = Vec::new();
    let mut chosen = exit;
    for (i, h) in hops.iter().enumerate().skip(exit) {
        let r = &h.received;
        if !r.parsed {
            continue;
        }
        let Some(ip) = r.from_ip else {
            // Local handling on our side (a queue note, pickup): keep walking.
            continue;
        };
        chosen = i;
        let our_relay = r.auth.is_none()
            && trust.trusts(ip, r.from_rdns.as_deref()).is_some()
            && !ip.is_loopback();
        if !our_relay {
            break;
        }
        // A relay of ours handed it on: the sender is further down, if recorded.
        relays.push(ip);
    }
    let hop = &hops[chosen];
    let ip = hop.received.from_ip?;
    let through = || {
        format!(
            "the message left our network at hop {} through our relay{} {}",
            exit + 1,
            if relays.len() > 1 { "s" } else { "" },
            relays
                .iter()
                .map(|r| r.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let reason = if chosen == exit {
        format!(
            "hop {} is the topmost whose sender is in our address space: {ip} handed the message to {} outside our network",
            exit + 1,
            hops[exit]
                .received
                .by
                .as_deref()
                .unwrap_or("an unnamed host")
        )
    } else if relays.last() == Some(&ip) {
        format!("{}; no sender below them is recorded", through())
    } else {
        format!(
            "{}; hop {} shows {ip} handing it to {}",
            through(),
            chosen + 1,
            hop.received.by.as_deref().unwrap_or("our relay")
        )
    };
    Some(Departure {
        ip,
        port: hop.received.from_port,
        hop: chosen,
        date: hop.received.date,
        exit_hop: exit,
        relays,
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{TraceConfig, trace};
    use ipnet::IpNet;

    fn ours(nets: &[&str]) -> impl Fn(IpAddr) -> bool {
        let nets: Vec<IpNet> = nets.iter().map(|n| n.parse().unwrap()).collect();
        move |ip| nets.iter().any(|n| n.contains(&ip))
    }

    const COMPLAINT_COPY: &[u8] = b"Received: from filter.recipient.example (filter.recipient.example [192.0.2.10])\n\tby mailbox.recipient.example (Postfix) with ESMTP id 1; Tue, 1 Nov 2022 10:00:05 +0000\n\
Received: from smtp-out.isp.example (smtp-out.isp.example [198.51.100.5])\n\tby filter.recipient.example (Postfix) with ESMTP id 2; Tue, 1 Nov 2022 10:00:04 +0000\n\
Received: from pc123 (dyn-203-0-113-77.isp.example [203.0.113.77])\n\tby smtp-out.isp.example (Postfix) with ESMTP id 3; Tue, 1 Nov 2022 10:00:03 +0000\n\
Received: from forged.example (forged.example [203.0.113.200])\n\tby pc123 with SMTP; Tue, 1 Nov 2022 09:00:00 +0000\n\
Subject: spam\n\nbuy\n";

    #[test]
    fn through_our_relay_to_the_customer() {
        let mut trust = TrustConfig::default();
        trust
            .trusted_networks
            .push("198.51.100.5/32".parse().unwrap());
        let t = trace(COMPLAINT_COPY, &TraceConfig::new(trust.clone()));
        // The plain trust walk stops at the recipient's own filter.
        assert_eq!(t.origin.as_ref().unwrap().ip.to_string(), "192.0.2.10");
        let d = departure(
            &t.hops,
            ours(&["198.51.100.0/24", "203.0.113.0/24"]),
            &trust,
        )
        .unwrap();
        assert_eq!(d.ip.to_string(), "203.0.113.77");
        assert_eq!(d.exit_hop, 1);
        assert_eq!(d.hop, 2);
        assert_eq!(d.relays, vec!["198.51.100.5".parse::<IpAddr>().unwrap()]);
        assert_eq!(d.date.unwrap().to_rfc3339(), "2022-11-01T10:00:03+00:00");
    }

    #[test]
    fn straight_from_the_customer_and_not_ours() {
        let trust = TrustConfig::default();
        let t = trace(COMPLAINT_COPY, &TraceConfig::new(trust.clone()));
        // Only the customer pool is ours: the customer handed it to the recipient directly.
        let d = departure(&t.hops, ours(&["203.0.113.0/25"]), &trust).unwrap();
        assert_eq!(d.ip.to_string(), "203.0.113.77");
        assert_eq!(d.hop, 2);
        assert_eq!(d.exit_hop, 2);
        // The forged line below names an address of ours too; the topmost one wins.
        let d = departure(&t.hops, ours(&["203.0.113.0/24"]), &trust).unwrap();
        assert_eq!(d.ip.to_string(), "203.0.113.77");
        assert!(departure(&t.hops, ours(&["10.99.0.0/16"]), &trust).is_none());
    }
}
