//! Processing one report: parse it, trace its evidence, pick the source and the moment,
//! attribute the source to a contract (or an external network), and name its case.
//!
//! Everything here is synchronous and pure given its inputs (the parser, the trace
//! configuration, the registry index, the clock value); the one network step — RDAP for
//! an external source — happens in the worker between [`Pipeline::analyze`] and
//! [`Draft::finish`].
use std::net::IpAddr;

use abusedesk_forensics::{Trace, TraceConfig, trace};
use abusedesk_registry::{IpOutcome, RegistryIndex, Timestamp};
use abusedesk_store::{
    Attribution, CaseTarget, ContentType, Millis, ParsedReport, ProcessResult, ReportId, Scope,
};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

/// The desk's view of a parsed complaint (what the reports crate's `Report` carries).
#[derive(Debug, Clone, Default)]
pub struct Complaint {
    /// `arf`, `xarf`, `forwarded`, `pasted_headers`, `spamcop`, `plain`.
    pub format: String,
    /// `spam`, `virus`, `phishing`, `unauthorized_access`, `takedown`, `disclosure`, `other`.
    pub kind: String,
    pub reporter: Option<String>,
    /// The source the report names explicitly (ARF `Source-IP`, X-ARF `Source`).
    pub source_ip: Option<IpAddr>,
    pub source_port: Option<u16>,
    /// The source is a machine-readable statement of the report (ARF `Source-IP`, X-ARF,
    /// SpamCop) rather than an address merely mentioned in a complaint's text.
    pub source_is_stated: bool,
    /// When the reported event happened per the report (ARF `Arrival-Date`, X-ARF `Date`).
    pub event_time: Option<DateTime<Utc>>,
    /// The enclosed message (or pasted headers) to trace.
    pub evidence: Option<Vec<u8>>,
    pub urls: Vec<String>,
    pub domains: Vec<String>,
    /// What is wrong with the report (e.g. X-ARF schema violations); kept and shown.
    pub problems: Vec<String>,
    /// The report has no usable headers: the case asks the complainant for them.
    pub needs_full_headers: bool,
}

/// What the parser made of the bytes.
#[derive(Debug, Clone)]
pub enum ParseOutcome {
    Parsed(Box<Complaint>),
    /// Not readable as a report at all: stored, marked with the reason, visible.
    Unparseable {
        format: Option<String>,
        error: String,
        problems: Vec<String>,
    },
}

/// The report parser the workers use (the reports crate, behind this seam).
pub trait ReportParser: Send + Sync + 'static {
    fn parse(&self, raw: &[u8], content_type: ContentType) -> ParseOutcome;
}

/// An external network as RDAP describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExternalNetwork {
    /// The network's CIDR (or handle when no CIDR is given).
    pub network: String,
    pub name: Option<String>,
    pub country: Option<String>,
    pub abuse_contact: Option<String>,
    /// Which RDAP server answered (for the reasoning).
    pub source: String,
}

/// Which moment the attribution used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeBasis {
    /// The time the host that received from the source stamped on that hop.
    OriginHop,
    /// The report's own event time (ARF Arrival-Date, X-ARF Date).
    ArrivalDate,
    /// The evidence's Date header.
    DateHeader,
    /// None of those: when the desk received the report.
    Received,
}

impl TimeBasis {
    pub fn as_str(self) -> &'static str {
        match self {
            TimeBasis::OriginHop => "origin_hop",
            TimeBasis::ArrivalDate => "arrival_date",
            TimeBasis::DateHeader => "date_header",
            TimeBasis::Received => "received",
        }
    }
}

/// Settings of the pipeline.
#[derive(Clone)]
pub struct Pipeline {
    pub trace: TraceConfig,
    /// First-response deadline for a new case, in milliseconds.
    pub respond_within_ms: i64,
}

/// A report analysed up to the RDAP step.
#[derive(Debug, Clone)]
pub struct Draft {
    pub complaint: Complaint,
    pub source_ip: Option<IpAddr>,
    pub source_port: Option<u16>,
    pub origin_time: Option<Millis>,
    pub time_basis: TimeBasis,
    pub attribution: Attribution,
    pub target: String,
    /// The source is not ours: look it up in RDAP before finishing.
    pub needs_rdap: Option<IpAddr>,
    pub detail: serde_json::Value,
}

fn millis(t: DateTime<Utc>) -> Millis {
    t.timestamp_millis()
}

fn registry_time(ms: Millis) -> Option<Timestamp> {
    Timestamp::from_unix(ms.div_euclid(1000)).ok()
}

fn trace_summary(t: &Trace) -> serde_json::Value {
    json!({
        "origin": t.origin.as_ref().map(|o| json!({
            "ip": o.ip,
            "port": o.port,
            "helo": o.helo,
            "rdns": o.rdns,
            "by": o.by,
            "hop": o.hop,
            "date": o.date.map(|d| d.to_rfc3339()),
            "country": o.country,
            "reason": o.reason,
        })),
        "hops": t.hops.len(),
        "date": t.date.map(|d| d.to_rfc3339()),
        "message_id": t.message_id,
        "indicators": t.indicators.iter().map(|i| json!({"name": i.name.as_str(), "evidence": i.evidence})).collect::<Vec<_>>(),
        "problems": t.problems,
    })
}

/// Host names to look up from URLs and domains (scheme, port, path, credentials dropped).
fn hosts_of(c: &Complaint) -> Vec<String> {
    let mut out = Vec::new();
    for u in &c.urls {
        let rest = u.split_once("://").map(|(_, r)| r).unwrap_or(u);
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        let host = authority.rsplit('@').next().unwrap_or("");
        let host = if host.starts_with('[') {
            host
        } else {
            host.split(':').next().unwrap_or("")
        };
        if !host.is_empty() {
            out.push(host.to_ascii_lowercase());
        }
    }
    out.extend(
        c.domains
            .iter()
            .map(|d| d.trim_end_matches('.').to_ascii_lowercase()),
    );
    out.dedup();
    out
}

impl Pipeline {
    /// Analyse a parsed complaint received at `received_at` (ms), as of registry `index`.
    pub fn analyze(
        &self,
        report_id: ReportId,
        complaint: Complaint,
        received_at: Millis,
        index: &RegistryIndex,
    ) -> Draft {
        let traced = complaint.evidence.as_deref().map(|e| trace(e, &self.trace));
        let origin = traced.as_ref().and_then(|t| t.origin.as_ref());

        // The source: what a machine-readable report states (ARF Source-IP, X-ARF,
        // SpamCop), else the traced origin of the evidence, else an address the
        // complaint's text mentions.
        // A forwarded copy's newest hops are the complainant's side, which our trust
        // configuration does not know: when the walk's origin is not ours, look for where
        // the message left our address space instead.
        let departed = match &traced {
            Some(t)
                if (!complaint.source_is_stated || complaint.source_ip.is_none())
                    && origin.is_none_or(|o| index.network_of(o.ip).is_none()) =>
            {
                abusedesk_forensics::departure(
                    &t.hops,
                    |ip| index.network_of(ip).is_some(),
                    &self.trace.trust,
                )
            }
            _ => None,
        };
        let (source_ip, source_port, source_basis) = match (complaint.source_ip, origin) {
            (Some(ip), _) if complaint.source_is_stated => {
                (Some(ip), complaint.source_port, "report")
            }
            _ if departed.is_some() => {
                let d = departed.as_ref().expect("checked");
                (Some(d.ip), d.port, "departure")
            }
            (_, Some(o)) => (
                Some(o.ip),
                o.port.or(complaint
                    .source_port
                    .filter(|_| complaint.source_ip == Some(o.ip))),
                "trace",
            ),
            (Some(ip), None) => (Some(ip), complaint.source_port, "report_text"),
            (None, None) => (None, complaint.source_port, "none"),
        };

        // The moment: the stamp of the host that received the message from the source
        // (the origin hop our trust walk found, or the hop whose sender is the stated
        // source), else the report's event time, else the evidence's Date, else receipt.
        let hop_stamp = source_ip.and_then(|ip| {
            let from_origin = departed
                .as_ref()
                .filter(|d| d.ip == ip)
                .and_then(|d| d.date)
                .or_else(|| origin.filter(|o| o.ip == ip).and_then(|o| o.date));
            let from_hop = || {
                traced
                    .as_ref()
                    .and_then(|t| {
                        t.hops
                            .iter()
                            .find(|h| h.received.from_ip == Some(ip) && h.received.date.is_some())
                    })
                    .and_then(|h| h.received.date)
            };
            from_origin
                .or_else(from_hop)
                .map(|d| millis(d.with_timezone(&Utc)))
        });
        let evidence_date = traced
            .as_ref()
            .and_then(|t| t.date)
            .map(|d| millis(d.with_timezone(&Utc)));
        let (at, basis) = if let Some(t) = hop_stamp {
            (t, TimeBasis::OriginHop)
        } else if let Some(t) = complaint.event_time {
            (millis(t), TimeBasis::ArrivalDate)
        } else if let Some(t) = evidence_date {
            (t, TimeBasis::DateHeader)
        } else {
            (received_at, TimeBasis::Received)
        };
        let ts = registry_time(at);

        let mut reasoning: Vec<String> = Vec::new();
        if let Some(d) = &departed {
            reasoning.push(d.reason.clone());
        }
        let mut candidates = serde_json::Value::Null;
        let mut needs_rdap = None;
        let (attribution, target) = match (source_ip, ts) {
            (Some(ip), Some(ts)) => {
                let found = index.lookup_ip(ip, ts, source_port);
                reasoning.extend(found.reasoning.iter().map(ToString::to_string));
                let summary = found.summary();
                match &found.outcome {
                    IpOutcome::Assigned { found: m, network } => (
                        Attribution {
                            scope: Scope::Ours,
                            contract: Some(m.contract.as_str().to_owned()),
                            network: network.as_ref().map(|n| n.prefix.to_string()),
                            country: None,
                            abuse_contact: None,
                            reason: summary,
                        },
                        format!("contract:{}", m.contract),
                    ),
                    IpOutcome::Ambiguous {
                        candidates: c,
                        network,
                    } => {
                        candidates = serde_json::to_value(c).unwrap_or_default();
                        (
                            Attribution {
                                scope: Scope::Ours,
                                contract: None,
                                network: network.as_ref().map(|n| n.prefix.to_string()),
                                country: None,
                                abuse_contact: None,
                                reason: summary,
                            },
                            format!("ip:{ip}"),
                        )
                    }
                    IpOutcome::Unassigned { network } => (
                        Attribution {
                            scope: Scope::Ours,
                            contract: None,
                            network: Some(network.prefix.to_string()),
                            country: None,
                            abuse_contact: None,
                            reason: summary,
                        },
                        format!("network:{}", network.prefix),
                    ),
                    IpOutcome::NotOurs => {
                        needs_rdap = Some(ip);
                        (
                            Attribution {
                                scope: Scope::External,
                                contract: None,
                                network: None,
                                country: self.trace.countries.lookup(ip).map(|c| c.code),
                                abuse_contact: None,
                                reason: summary,
                            },
                            format!("ip:{ip}"),
                        )
                    }
                }
            }
            (Some(ip), None) => (
                Attribution {
                    scope: Scope::Unknown,
                    contract: None,
                    network: None,
                    country: None,
                    abuse_contact: None,
                    reason: format!(
                        "{ip}: the report's time {at} ms is outside the range the registry can look up"
                    ),
                },
                format!("ip:{ip}"),
            ),
            (None, _) => self.attribute_hosts(report_id, &complaint, ts, index, &mut reasoning),
        };

        let needs_full_headers = complaint.needs_full_headers
            || (source_ip.is_none()
                && complaint.evidence.is_none()
                && complaint.urls.is_empty()
                && complaint.domains.is_empty());
        let detail = json!({
            "urls": complaint.urls,
            "domains": complaint.domains,
            "problems": complaint.problems,
            "needs_full_headers": needs_full_headers,
            "source": {"ip": source_ip, "port": source_port, "from": source_basis},
            "time": {"at": at, "basis": basis},
            "trace": traced.as_ref().map(trace_summary),
            "reasoning": reasoning,
            "candidates": candidates,
        });
        let mut complaint = complaint;
        complaint.needs_full_headers = needs_full_headers;
        Draft {
            complaint,
            source_ip,
            source_port,
            origin_time: Some(at),
            time_basis: basis,
            attribution,
            target,
            needs_rdap,
            detail,
        }
    }

    fn attribute_hosts(
        &self,
        report_id: ReportId,
        c: &Complaint,
        ts: Option<Timestamp>,
        index: &RegistryIndex,
        reasoning: &mut Vec<String>,
    ) -> (Attribution, String) {
        if let Some(ts) = ts {
            for host in hosts_of(c) {
                match index.lookup_host(&host, ts) {
                    Ok(found) => {
                        reasoning.push(found.summary());
                        if let Some(contract) = found.contract() {
                            return (
                                Attribution {
                                    scope: Scope::Ours,
                                    contract: Some(contract.as_str().to_owned()),
                                    network: None,
                                    country: None,
                                    abuse_contact: None,
                                    reason: found.summary(),
                                },
                                format!("contract:{contract}"),
                            );
                        }
                    }
                    Err(e) => reasoning.push(format!("{host}: {e}")),
                }
            }
        }
        let reason = if c.urls.is_empty() && c.domains.is_empty() {
            "no source address in the report or its evidence".to_owned()
        } else {
            "no source address, and no URL or domain in the report is hosted by us".to_owned()
        };
        (
            Attribution {
                scope: Scope::Unknown,
                contract: None,
                network: None,
                country: None,
                abuse_contact: None,
                reason,
            },
            format!("report:{report_id}"),
        )
    }
}

impl Draft {
    /// Complete the attribution with what RDAP said about an external source (`None`:
    /// not needed, or the lookup failed with `rdap_error`), and build the store's record.
    pub fn finish(
        mut self,
        rdap: Option<Result<ExternalNetwork, String>>,
        now: Millis,
        respond_within_ms: i64,
    ) -> ProcessResult {
        match rdap {
            Some(Ok(net)) => {
                self.attribution.network = Some(net.network.clone());
                if net.country.is_some() {
                    self.attribution.country = net.country.clone();
                }
                self.attribution.abuse_contact = net.abuse_contact.clone();
                self.attribution.reason = format!(
                    "{}; RDAP ({}): network {}{}{}",
                    self.attribution.reason,
                    net.source,
                    net.network,
                    net.name
                        .as_deref()
                        .map(|n| format!(" ({n})"))
                        .unwrap_or_default(),
                    net.abuse_contact
                        .as_deref()
                        .map(|a| format!(", abuse contact {a}"))
                        .unwrap_or_else(|| ", no abuse contact".into()),
                );
                self.target = format!("network:{}", net.network);
                self.detail["rdap"] = serde_json::to_value(&net).unwrap_or_default();
            }
            Some(Err(e)) => {
                self.attribution.reason =
                    format!("{}; RDAP lookup failed: {e}", self.attribution.reason);
                self.detail["rdap_error"] = json!(e);
            }
            None => {}
        }
        let c = self.complaint;
        ProcessResult::Parsed(Box::new(ParsedReport {
            format: c.format,
            kind: c.kind,
            reporter: c.reporter,
            source_ip: self.source_ip.map(|ip| ip.to_string()),
            source_port: self.source_port.map(i64::from),
            event_time: c.event_time.map(millis),
            origin_time: self.origin_time,
            time_basis: Some(self.time_basis.as_str().to_owned()),
            attribution: self.attribution,
            detail: self.detail,
            case: CaseTarget {
                target: self.target,
                needs_full_headers: c.needs_full_headers,
                respond_by: Some(now.saturating_add(respond_within_ms)),
                resolve_by: None,
            },
        }))
    }
}

/// An unparseable report's record.
pub fn unparseable(format: Option<String>, error: String, problems: Vec<String>) -> ProcessResult {
    ProcessResult::Unparseable {
        format,
        error,
        detail: json!({ "problems": problems }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use abusedesk_registry::{assignments_from_csv, networks_from_csv};

    const AT: &str = "2002-03-31T12:07:53Z";

    fn index() -> RegistryIndex {
        let assignments = assignments_from_csv(
            b"prefix,contract,valid_from,valid_to,port_from,port_to\n\
              203.0.113.7,C-1,2002-03-31T00:00:00Z,2002-04-01T00:00:00Z,,\n\
              203.0.113.7,C-2,2002-04-01T00:00:00Z,,,\n\
              100.64.0.1,C-3,2002-01-01T00:00:00Z,,1024,2047\n\
              100.64.0.1,C-4,2002-01-01T00:00:00Z,,2048,4095\n",
        )
        .unwrap();
        let networks =
            networks_from_csv(b"prefix,description\n203.0.113.0/24,dial-up\n100.64.0.0/10,cgnat\n")
                .unwrap();
        RegistryIndex::from_rows(networks, vec![], &assignments, &[])
    }

    fn pipeline() -> Pipeline {
        Pipeline {
            trace: TraceConfig::default(),
            respond_within_ms: 3_600_000,
        }
    }

    fn at() -> DateTime<Utc> {
        AT.parse().unwrap()
    }

    fn complaint(ip: Option<&str>, port: Option<u16>) -> Complaint {
        Complaint {
            format: "arf".into(),
            kind: "spam".into(),
            source_ip: ip.map(|s| s.parse().unwrap()),
            source_port: port,
            source_is_stated: true,
            event_time: Some(at()),
            ..Default::default()
        }
    }

    #[test]
    fn attributes_to_the_holder_at_that_moment() {
        let d = pipeline().analyze(1, complaint(Some("203.0.113.7"), None), 0, &index());
        assert_eq!(d.attribution.scope, Scope::Ours);
        assert_eq!(d.attribution.contract.as_deref(), Some("C-1"));
        assert_eq!(d.target, "contract:C-1");
        assert_eq!(d.time_basis, TimeBasis::ArrivalDate);
        assert!(d.needs_rdap.is_none());

        let mut later = complaint(Some("203.0.113.7"), None);
        later.event_time = Some("2002-04-02T00:00:00Z".parse().unwrap());
        let d = pipeline().analyze(1, later, 0, &index());
        assert_eq!(
            d.attribution.contract.as_deref(),
            Some("C-2"),
            "the address changed hands"
        );
    }

    #[test]
    fn cgnat_needs_the_port() {
        let d = pipeline().analyze(1, complaint(Some("100.64.0.1"), Some(3000)), 0, &index());
        assert_eq!(d.attribution.contract.as_deref(), Some("C-4"));
        let d = pipeline().analyze(2, complaint(Some("100.64.0.1"), None), 0, &index());
        assert_eq!(d.attribution.scope, Scope::Ours);
        assert_eq!(d.attribution.contract, None);
        assert_eq!(d.target, "ip:100.64.0.1");
        assert!(
            d.attribution.reason.contains("no source port"),
            "{}",
            d.attribution.reason
        );
        assert!(
            d.detail["candidates"]
                .as_array()
                .is_some_and(|c| c.len() == 2)
        );
    }

    #[test]
    fn unassigned_and_external() {
        let d = pipeline().analyze(1, complaint(Some("203.0.113.99"), None), 0, &index());
        assert_eq!(
            (d.attribution.scope, d.target.as_str()),
            (Scope::Ours, "network:203.0.113.0/24")
        );
        let d = pipeline().analyze(1, complaint(Some("143.90.172.25"), None), 0, &index());
        assert_eq!(d.attribution.scope, Scope::External);
        assert_eq!(d.needs_rdap, Some("143.90.172.25".parse().unwrap()));
        assert_eq!(
            d.attribution.country.as_deref(),
            Some("JP"),
            "RIR data gives the country before RDAP"
        );
        let net = ExternalNetwork {
            network: "143.90.0.0/16".into(),
            name: Some("ODN".into()),
            country: Some("JP".into()),
            abuse_contact: Some("abuse@odn.ad.jp".into()),
            source: "rdap.apnic.net".into(),
        };
        let ProcessResult::Parsed(p) = d.finish(Some(Ok(net)), 1000, 3_600_000) else {
            panic!()
        };
        assert_eq!(p.case.target, "network:143.90.0.0/16");
        assert_eq!(
            p.attribution.abuse_contact.as_deref(),
            Some("abuse@odn.ad.jp")
        );
        assert_eq!(p.case.respond_by, Some(3_601_000));
        assert!(p.attribution.reason.contains("RDAP (rdap.apnic.net)"));
    }

    #[test]
    fn no_source_asks_for_headers() {
        let mut c = complaint(None, None);
        c.format = "plain".into();
        c.event_time = None;
        let d = pipeline().analyze(42, c, 1_017_576_473_000, &index());
        assert_eq!(d.attribution.scope, Scope::Unknown);
        assert_eq!(d.target, "report:42");
        assert_eq!(d.time_basis, TimeBasis::Received);
        assert!(d.complaint.needs_full_headers);
    }

    #[test]
    fn traces_the_evidence_and_uses_our_hosts_stamp() {
        let evidence = b"Received: from aak48900 (p1234-ipad.ppp.odn.ad.jp [203.0.113.7])\r\n\tby mx.example.net (Postfix) with SMTP id 1;\r\n\tSun, 31 Mar 2002 21:07:53 +0900\r\nFrom: \"\" <x@example.org>\r\nDate: Mon, 1 Apr 2002 09:00:00 +0900\r\nSubject: hi\r\n\r\nbody\r\n";
        let mut c = complaint(None, None);
        c.event_time = None;
        c.evidence = Some(evidence.to_vec());
        let d = pipeline().analyze(1, c, 0, &index());
        assert_eq!(d.source_ip, Some("203.0.113.7".parse().unwrap()));
        assert_eq!(d.time_basis, TimeBasis::OriginHop);
        assert_eq!(d.origin_time, Some(at().timestamp_millis()));
        assert_eq!(
            d.attribution.contract.as_deref(),
            Some("C-1"),
            "the Date header (next day) would have named C-2"
        );
        assert_eq!(d.detail["source"]["from"], "trace");
    }

    /// A forwarded copy whose newest hop is the complainant's own public filter: the
    /// trust walk stops there (not ours), the departure finds our customer below it.
    #[test]
    fn forwarded_copy_departs_from_our_customer() {
        let evidence = b"Received: from filter.recipient.example (filter.recipient.example [192.0.2.10])\r\n\tby mailbox.recipient.example (Postfix) with ESMTP id 1; Sun, 31 Mar 2002 21:08:05 +0900\r\n\
Received: from aak48900 (p1234-ipad.ppp.odn.ad.jp [203.0.113.7])\r\n\tby filter.recipient.example (Postfix) with SMTP id 2; Sun, 31 Mar 2002 21:07:53 +0900\r\n\
From: x@example.org\r\nDate: Mon, 1 Apr 2002 09:00:00 +0900\r\nSubject: hi\r\n\r\nbody\r\n";
        let mut c = complaint(None, None);
        c.event_time = None;
        c.evidence = Some(evidence.to_vec());
        let d = pipeline().analyze(1, c, 0, &index());
        assert_eq!(d.source_ip, Some("203.0.113.7".parse().unwrap()));
        assert_eq!(d.detail["source"]["from"], "departure");
        assert_eq!(d.time_basis, TimeBasis::OriginHop);
        assert_eq!(d.attribution.contract.as_deref(), Some("C-1"));
        assert!(
            d.detail["reasoning"][0]
                .as_str()
                .unwrap()
                .contains("address space")
        );
    }

    #[test]
    fn url_hosts() {
        let c = Complaint {
            urls: vec![
                "http://user@Shop.Example.JP:8080/x?y".into(),
                "https://[2001:db8::1]/".into(),
            ],
            domains: vec!["a.example.".into()],
            ..Default::default()
        };
        assert_eq!(
            hosts_of(&c),
            vec!["shop.example.jp", "[2001:db8::1]", "a.example"]
        );
    }
}
