//! Everything for one message: [`Authenticator::authenticate`] runs SPF (MAIL FROM and
//! HELO), Sender ID, DKIM, DomainKeys, DMARC, ARC and iprev, and [`AuthReport`] renders the
//! Authentication-Results header field (RFC 8601).
use crate::bridge::{self, Answers, Ipv4View, TxtView};
use crate::dkim::{self, DkimOutcome, DkimPolicy, DkimResult};
use crate::dns::Resolver;
use crate::domainkeys::{self, DomainKeysOutcome};
use crate::iprev::{self, IprevOutcome, IprevResult};
use crate::sender_id::{self, SenderIdOutcome};
use crate::spf::{self, SpfOutcome, SpfResult};
use mail_auth::dmarc::verify::DmarcParameters;
use mail_auth::{
    AuthenticatedMessage, DkimOutput, DmarcResult as MaDmarcResult, MessageAuthenticator,
    Parameters,
};
use serde::Serialize;
use std::net::IpAddr;

/// The SMTP session facts the checks need. Absent facts make the checks that need them
/// return `none`.
#[derive(Debug, Clone, Default)]
pub struct Session {
    pub ip: Option<IpAddr>,
    pub helo: Option<String>,
    /// The MAIL FROM address; `Some("")` is the null reverse-path.
    pub mail_from: Option<String>,
    /// Evaluate as of this moment (Unix seconds): signature expiry, the SPF `t` macro.
    pub at: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("cannot set up the DKIM/DMARC/ARC verifier: {0}")]
    Setup(String),
}

/// SPF for both identities.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpfReport {
    /// The result for MAIL FROM (or for `postmaster@HELO` when MAIL FROM is null).
    pub result: SpfResult,
    /// `mailfrom` or `helo`: which identity `result` is for.
    pub identity: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mail_from: Option<String>,
    pub domain: String,
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
    /// The HELO identity's own check (RFC 7208 section 2.3), when a HELO name was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub helo: Option<SpfOutcome>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DmarcResult {
    None,
    Pass,
    Fail,
    TempError,
    PermError,
}

impl DmarcResult {
    pub fn as_str(self) -> &'static str {
        match self {
            DmarcResult::None => "none",
            DmarcResult::Pass => "pass",
            DmarcResult::Fail => "fail",
            DmarcResult::TempError => "temperror",
            DmarcResult::PermError => "permerror",
        }
    }
}

fn dmarc_result(r: &MaDmarcResult) -> DmarcResult {
    match r {
        MaDmarcResult::Pass => DmarcResult::Pass,
        MaDmarcResult::Fail(_) => DmarcResult::Fail,
        MaDmarcResult::TempError(_) => DmarcResult::TempError,
        MaDmarcResult::PermError(_) => DmarcResult::PermError,
        MaDmarcResult::None => DmarcResult::None,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DmarcOutcome {
    pub result: DmarcResult,
    /// The RFC 5322.From domain.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub domain: String,
    /// The policy to apply (`none`, `quarantine`, `reject`), when a record applies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<&'static str>,
    pub spf_aligned: DmarcResult,
    pub dkim_aligned: DmarcResult,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ArcResult {
    None,
    Pass,
    Fail,
    TempError,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArcOutcome {
    pub result: ArcResult,
    /// ARC sets found.
    pub sets: usize,
    pub reason: String,
}

/// All results for one message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuthReport {
    pub authserv_id: String,
    pub evaluated_at: u64,
    pub spf: SpfReport,
    pub sender_id: SenderIdOutcome,
    pub dkim: Vec<DkimOutcome>,
    pub domainkeys: Vec<DomainKeysOutcome>,
    pub dmarc: DmarcOutcome,
    pub arc: ArcOutcome,
    pub iprev: IprevOutcome,
}

/// Runs every check over one resolver.
pub struct Authenticator {
    resolver: Resolver,
    mail_auth: MessageAuthenticator,
    authserv_id: String,
    pub dkim_policy: DkimPolicy,
}

impl Authenticator {
    /// `authserv_id` names this verifier in Authentication-Results (RFC 8601 section 2.5).
    pub fn new(
        resolver: Resolver,
        authserv_id: impl Into<String>,
    ) -> Result<Authenticator, AuthError> {
        let mail_auth = bridge::offline_authenticator()
            .ok_or_else(|| AuthError::Setup("no resolver".into()))?;
        Ok(Authenticator {
            resolver,
            mail_auth,
            authserv_id: authserv_id.into(),
            dkim_policy: DkimPolicy::default(),
        })
    }

    pub fn resolver(&self) -> &Resolver {
        &self.resolver
    }

    /// SPF for MAIL FROM (or HELO when null) and, with a HELO name, for HELO.
    pub async fn spf(&self, ip: IpAddr, helo: &str, mail_from: &str, at: u64) -> SpfReport {
        let main =
            spf::verify_mail_from(&self.resolver, ip, helo, mail_from, &self.authserv_id, at).await;
        let null = mail_from.trim().trim_matches(['<', '>']).is_empty();
        let helo_out = if !null && spf::valid_domain(helo) {
            Some(spf::verify_helo(&self.resolver, ip, helo, &self.authserv_id, at).await)
        } else {
            None
        };
        SpfReport {
            result: main.result,
            identity: if null { "helo" } else { "mailfrom" },
            mail_from: (!null).then(|| spf::identity(helo, mail_from).1),
            domain: main.domain,
            reason: main.reason,
            explanation: main.explanation,
            helo: helo_out,
        }
    }

    /// Authenticates one raw message (a leading mbox `From ` line is skipped).
    pub async fn authenticate(&self, raw: &[u8], session: &Session) -> AuthReport {
        let at = session.at;
        let msg = crate::parse_message(raw);
        let empty: Vec<(&[u8], &[u8])> = Vec::new();
        let headers: &[(&[u8], &[u8])] = msg.as_ref().map_or(&empty, |m| m.headers.as_slice());
        let helo = session.helo.clone().unwrap_or_default();
        let mail_from = session.mail_from.clone().unwrap_or_default();

        let spf_report = match session.ip {
            Some(ip) if session.mail_from.is_some() || session.helo.is_some() => {
                self.spf(ip, &helo, &mail_from, at).await
            }
            _ => SpfReport {
                result: SpfResult::None,
                identity: "mailfrom",
                mail_from: None,
                domain: String::new(),
                reason: "no client IP and MAIL FROM/HELO to check".into(),
                explanation: None,
                helo: None,
            },
        };
        let sender_id = match session.ip {
            Some(ip) => {
                sender_id::verify(&self.resolver, ip, &helo, headers, &self.authserv_id, at).await
            }
            None => SenderIdOutcome {
                result: SpfResult::None,
                pra: None,
                reason: "no client IP".into(),
                explanation: None,
            },
        };
        let iprev = match session.ip {
            Some(ip) => iprev::verify(&self.resolver, ip).await,
            None => IprevOutcome {
                result: IprevResult::None,
                ip: None,
                ptr: Vec::new(),
                name: None,
                reason: "no client IP".into(),
            },
        };
        let Some(msg) = msg.as_ref() else {
            return AuthReport {
                authserv_id: self.authserv_id.clone(),
                evaluated_at: at,
                spf: spf_report,
                sender_id,
                dkim: Vec::new(),
                domainkeys: Vec::new(),
                dmarc: DmarcOutcome {
                    result: DmarcResult::None,
                    domain: String::new(),
                    policy: None,
                    spf_aligned: DmarcResult::None,
                    dkim_aligned: DmarcResult::None,
                    reason: "no header fields".into(),
                },
                arc: ArcOutcome {
                    result: ArcResult::None,
                    sets: 0,
                    reason: "no header fields".into(),
                },
                iprev,
            };
        };
        let dkim = dkim::verify(&self.resolver, msg, at, &self.dkim_policy).await;
        let domainkeys = domainkeys::verify(&self.resolver, headers, msg.raw_body()).await;
        let dmarc = self.dmarc(msg, &dkim, &spf_report).await;
        let arc = self.arc(msg).await;
        AuthReport {
            authserv_id: self.authserv_id.clone(),
            evaluated_at: at,
            spf: spf_report,
            sender_id,
            dkim,
            domainkeys,
            dmarc,
            arc,
            iprev,
        }
    }

    async fn dmarc(
        &self,
        msg: &AuthenticatedMessage<'_>,
        dkim: &[DkimOutcome],
        spf_report: &SpfReport,
    ) -> DmarcOutcome {
        let dkim_output: Vec<DkimOutput<'_>> = dkim
            .iter()
            .filter_map(|o| {
                let sig = &msg.dkim_headers.get(o.parsed_index?)?.header;
                match o.result {
                    DkimResult::Pass => Some(DkimOutput::pass().with_signature(sig)),
                    DkimResult::TempError => Some(
                        DkimOutput::temp_err(mail_auth::Error::Dns(mail_auth::DnsError::Resolver(
                            o.reason.clone(),
                        )))
                        .with_signature(sig),
                    ),
                    _ => None,
                }
            })
            .collect();
        // RFC 7489 section 4.1: SPF's authenticated identifier is the MAIL FROM domain
        // (the HELO domain when MAIL FROM is null, as RFC 7489 section 3.1.2 allows)
        let (spf_domain, spf_ma) = (
            spf_report.domain.clone(),
            to_mail_auth_spf(spf_report.result),
        );
        let spf_output = mail_auth::SpfOutput::new(spf_domain.clone()).with_result(spf_ma);

        let mut txt_names = Vec::new();
        let mut a_names = Vec::new();
        for from in msg.froms() {
            if let Some((_, d)) = from.rsplit_once('@') {
                bridge::dmarc_names(d, &mut txt_names);
                a_names.push(mail_auth::common::to_a_label(d).to_string());
            }
        }
        if !spf_domain.is_empty() {
            bridge::dmarc_names(&spf_domain, &mut txt_names);
        }
        for o in dkim.iter().filter(|o| !o.domain.is_empty()) {
            bridge::dmarc_names(&o.domain, &mut txt_names);
        }
        let answers = Answers::fetch(&self.resolver, &txt_names, &a_names).await;
        let (txt_view, ip_view) = (TxtView(&answers), Ipv4View(&answers));
        let params = DmarcParameters {
            message: msg,
            dkim_output: &dkim_output,
            dkim2_output: None,
            rfc5321_mail_from_domain: &spf_domain,
            spf_output: &spf_output,
        };
        let out = self
            .mail_auth
            .verify_dmarc(
                Parameters::new(params)
                    .with_txt_cache(&txt_view)
                    .with_ipv4_cache(&ip_view),
            )
            .await;
        let result = dmarc_result(&out.result());
        let policy = out.dmarc_record().map(|_| match out.policy() {
            mail_auth::dmarc::Policy::None | mail_auth::dmarc::Policy::Unspecified => "none",
            mail_auth::dmarc::Policy::Quarantine => "quarantine",
            mail_auth::dmarc::Policy::Reject => "reject",
        });
        let reason = match (result, out.domain().is_empty()) {
            (_, true) => "no single RFC5322.From domain".to_string(),
            (DmarcResult::None, false) => format!("no DMARC record for {}", out.domain()),
            (DmarcResult::Pass, false) => "aligned identifier passed".to_string(),
            (DmarcResult::Fail, false) => "no aligned SPF or DKIM pass".to_string(),
            (_, false) => format!("DNS error looking up the policy of {}", out.domain()),
        };
        DmarcOutcome {
            result,
            domain: out.domain().to_string(),
            policy,
            spf_aligned: dmarc_result(out.spf_result()),
            dkim_aligned: dmarc_result(out.dkim_result()),
            reason,
        }
    }

    async fn arc(&self, msg: &AuthenticatedMessage<'_>) -> ArcOutcome {
        let sets = msg.ams_headers.len().max(msg.as_headers.len());
        if sets == 0 && !msg.has_arc_errors {
            return ArcOutcome {
                result: ArcResult::None,
                sets: 0,
                reason: "no ARC sets".into(),
            };
        }
        let mut names: Vec<String> = msg
            .ams_headers
            .iter()
            .map(|h| format!("{}._domainkey.{}", h.header.s, h.header.d))
            .collect();
        names.extend(
            msg.as_headers
                .iter()
                .map(|h| format!("{}._domainkey.{}", h.header.s, h.header.d)),
        );
        let answers = Answers::fetch(&self.resolver, &names, &[]).await;
        let view = TxtView(&answers);
        let out = self
            .mail_auth
            .verify_arc(Parameters::new(msg).with_txt_cache(&view))
            .await;
        let (result, reason) = match out.result() {
            mail_auth::DkimResult::Pass => (ArcResult::Pass, "chain validated".to_string()),
            mail_auth::DkimResult::None => (ArcResult::None, "no ARC sets".to_string()),
            mail_auth::DkimResult::TempError(e) => (ArcResult::TempError, e.to_string()),
            mail_auth::DkimResult::Fail(e)
            | mail_auth::DkimResult::Neutral(e)
            | mail_auth::DkimResult::PermError(e) => (ArcResult::Fail, e.to_string()),
        };
        ArcOutcome {
            result,
            sets,
            reason,
        }
    }
}

fn to_mail_auth_spf(r: SpfResult) -> mail_auth::SpfResult {
    match r {
        SpfResult::Pass => mail_auth::SpfResult::Pass,
        SpfResult::Fail => mail_auth::SpfResult::Fail,
        SpfResult::SoftFail => mail_auth::SpfResult::SoftFail,
        SpfResult::Neutral => mail_auth::SpfResult::Neutral,
        SpfResult::TempError => mail_auth::SpfResult::TempError,
        SpfResult::PermError => mail_auth::SpfResult::PermError,
        SpfResult::None => mail_auth::SpfResult::None,
    }
}

/// A `reason="..."` value (RFC 8601 `reasonspec`, a quoted-string).
fn reason(s: &str) -> String {
    let cleaned: String = s.chars().filter(|c| !c.is_control()).collect();
    format!(
        "reason=\"{}\"",
        cleaned.replace('\\', "\\\\").replace('"', "\\\"")
    )
}

/// A property value: a token or address as is, anything else quoted.
fn pvalue(s: &str) -> String {
    let token_ok = !s.is_empty()
        && s.chars().all(|c| {
            c.is_ascii_graphic() && !"()<>,;:\\\"[]?=".contains(c) || c == '@' || c == ':'
        });
    if token_ok {
        s.to_string()
    } else {
        let cleaned: String = s.chars().filter(|c| !c.is_control()).collect();
        format!("\"{}\"", cleaned.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

impl AuthReport {
    /// The Authentication-Results field value, one result per line, lines joined by `fold`
    /// (`"\r\n\t"` in a message, `"\n\t"` on a terminal).
    pub fn authentication_results(&self, fold: &str) -> String {
        let mut parts: Vec<String> = Vec::new();
        let spf_prop = match self.spf.identity {
            "helo" => format!("smtp.helo={}", pvalue(&self.spf.domain)),
            _ => format!(
                "smtp.mailfrom={}",
                pvalue(self.spf.mail_from.as_deref().unwrap_or(&self.spf.domain))
            ),
        };
        if !self.spf.domain.is_empty() {
            parts.push(format!(
                "spf={} {} {spf_prop}",
                self.spf.result,
                reason(&self.spf.reason)
            ));
        } else {
            parts.push(format!("spf=none {}", reason(&self.spf.reason)));
        }
        if let Some(h) = &self.spf.helo {
            parts.push(format!(
                "spf={} {} smtp.helo={}",
                h.result,
                reason(&h.reason),
                pvalue(&h.domain)
            ));
        }
        match &self.sender_id.pra {
            Some(pra) => parts.push(format!(
                "sender-id={} {} header.{}={}",
                self.sender_id.result,
                reason(&self.sender_id.reason),
                pra.header.name(),
                pvalue(&pra.address)
            )),
            None => parts.push(format!(
                "sender-id={} {}",
                self.sender_id.result,
                reason(&self.sender_id.reason)
            )),
        }
        if self.domainkeys.is_empty() {
            parts.push("domainkeys=none".into());
        }
        for d in &self.domainkeys {
            let mut s = format!("domainkeys={} {}", d.result, reason(&d.reason));
            if !d.domain.is_empty() {
                s.push_str(&format!(" header.d={}", pvalue(&d.domain)));
            }
            if !d.selector.is_empty() {
                s.push_str(&format!(" header.s={}", pvalue(&d.selector)));
            }
            if let Some(sender) = &d.sender {
                s.push_str(&format!(" header.from={}", pvalue(sender)));
            }
            parts.push(s);
        }
        if self.dkim.is_empty() {
            parts.push("dkim=none".into());
        }
        for d in &self.dkim {
            let mut s = format!("dkim={} {}", d.result, reason(&d.reason));
            if !d.domain.is_empty() {
                s.push_str(&format!(" header.d={}", pvalue(&d.domain)));
            }
            if !d.selector.is_empty() {
                s.push_str(&format!(" header.s={}", pvalue(&d.selector)));
            }
            if let Some(i) = &d.identity {
                s.push_str(&format!(" header.i={}", pvalue(i)));
            }
            if !d.header_b.is_empty() {
                s.push_str(&format!(" header.b={}", pvalue(&d.header_b)));
            }
            parts.push(s);
        }
        let mut s = format!(
            "dmarc={} {}",
            self.dmarc.result.as_str(),
            reason(&self.dmarc.reason)
        );
        if !self.dmarc.domain.is_empty() {
            s.push_str(&format!(" header.from={}", pvalue(&self.dmarc.domain)));
        }
        if let Some(p) = self.dmarc.policy {
            s.push_str(&format!(" policy.dmarc={p}"));
        }
        parts.push(s);
        let arc = match self.arc.result {
            ArcResult::None => "none",
            ArcResult::Pass => "pass",
            ArcResult::Fail => "fail",
            ArcResult::TempError => "temperror",
        };
        parts.push(format!("arc={arc} {}", reason(&self.arc.reason)));
        let mut s = format!(
            "iprev={} {}",
            self.iprev.result.as_str(),
            reason(&self.iprev.reason)
        );
        if let Some(ip) = self.iprev.ip {
            s.push_str(&format!(" policy.iprev={}", pvalue(&ip.to_string())));
        }
        parts.push(s);
        let mut out = pvalue(&self.authserv_id);
        for p in parts {
            out.push(';');
            out.push_str(fold);
            out.push_str(&p);
        }
        out
    }
}
