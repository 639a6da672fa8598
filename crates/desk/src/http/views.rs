//! JSON shapes of the API (documented in the OpenAPI document).
use abusedesk_store::{Attribution, CaseEvent, CaseRecord, Millis, ReportRecord};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// RFC 3339 UTC, millisecond precision.
pub fn time(ms: Millis) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
        .unwrap_or_default()
}

pub fn opt_time(ms: Option<Millis>) -> Option<String> {
    ms.map(time)
}

/// Parse an RFC 3339 query parameter.
pub fn parse_time(name: &str, s: &str) -> Result<Millis, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.timestamp_millis())
        .map_err(|_| format!("{name}: {s:?} is not an RFC 3339 time (e.g. 2002-03-31T12:07:53Z)"))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Queued {
    pub id: i64,
    /// `queued` for a new report; for a duplicate, the earlier report's status.
    pub status: String,
    /// The same bytes were submitted before; `id` is that report.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub duplicate: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttributionView {
    /// `ours`, `external` or `unknown`.
    pub scope: String,
    pub contract: Option<String>,
    pub network: Option<String>,
    pub country: Option<String>,
    pub abuse_contact: Option<String>,
    /// Why: the registry rows considered, the RDAP answer.
    pub reason: String,
}

impl From<&Attribution> for AttributionView {
    fn from(a: &Attribution) -> Self {
        AttributionView {
            scope: a.scope.as_str().to_owned(),
            contract: a.contract.clone(),
            network: a.network.clone(),
            country: a.country.clone(),
            abuse_contact: a.abuse_contact.clone(),
            reason: a.reason.clone(),
        }
    }
}

/// A report. Reporter and envelope data appear here (operators only), never in
/// anything shown to customers.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportView {
    pub id: i64,
    /// `queued`, `processed` or `unparseable`.
    pub status: String,
    /// `arf`, `xarf`, `forwarded`, `pasted_headers`, `spamcop`, `plain`.
    pub format: Option<String>,
    /// `spam`, `virus`, `phishing`, `unauthorized_access`, `takedown`, `disclosure`, `other`.
    pub kind: Option<String>,
    pub source_ip: Option<String>,
    pub source_port: Option<i64>,
    pub case_id: Option<i64>,
    pub attribution: Option<AttributionView>,
    /// Why the report is unparseable.
    pub error: Option<String>,
    pub reporter: Option<String>,
    /// `smtp`, `http` or `ingest`.
    pub channel: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub received_at: String,
    /// How often these exact bytes were submitted.
    pub submissions: i64,
    pub envelope_from: Option<String>,
    pub envelope_to: Option<String>,
    pub source_name: Option<String>,
    /// The event time the report states.
    pub event_time: Option<String>,
    /// The moment the source was attributed at, and where it came from.
    pub attributed_at: Option<String>,
    /// `origin_hop`, `arrival_date`, `date_header` or `received`.
    pub time_basis: Option<String>,
    pub processed_at: Option<String>,
    /// URLs, domains, problems, the trace summary and the attribution reasoning.
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

impl From<&ReportRecord> for ReportView {
    fn from(r: &ReportRecord) -> Self {
        ReportView {
            id: r.id,
            status: r.status.as_str().to_owned(),
            format: r.format.clone(),
            kind: r.kind.clone(),
            source_ip: r.source_ip.clone(),
            source_port: r.source_port,
            case_id: r.case_id,
            attribution: r.attribution.as_ref().map(AttributionView::from),
            error: r.error.clone(),
            reporter: r.reporter.clone(),
            channel: r.channel.as_str().to_owned(),
            content_type: r.content_type.as_str().to_owned(),
            size: r.size,
            sha256: r.sha256.clone(),
            received_at: time(r.received_at),
            submissions: r.submissions,
            envelope_from: r.envelope_from.clone(),
            envelope_to: r.envelope_to.clone(),
            source_name: r.source_name.clone(),
            event_time: opt_time(r.event_time),
            attributed_at: opt_time(r.origin_time),
            time_basis: r.time_basis.clone(),
            processed_at: opt_time(r.processed_at),
            detail: r.detail.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReportPage {
    pub items: Vec<ReportView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// `queued`, `processed` or `unparseable`.
    pub status: Option<String>,
    pub kind: Option<String>,
    pub format: Option<String>,
    /// `ours`, `external` or `unknown`.
    pub scope: Option<String>,
    /// `smtp`, `http` or `ingest`.
    pub channel: Option<String>,
    pub source_ip: Option<String>,
    pub contract: Option<String>,
    pub case_id: Option<i64>,
    /// RFC 3339; reports received at or after.
    pub received_after: Option<String>,
    /// RFC 3339; reports received before.
    pub received_before: Option<String>,
    /// Page size, 1 to 1000 (default 50).
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CaseView {
    pub id: i64,
    pub kind: String,
    /// The grouping key: `contract:ID`, `network:CIDR`, `ip:ADDR` or `report:ID`.
    pub target: String,
    /// `open`, `resolved` or `closed`.
    pub state: String,
    pub attribution: AttributionView,
    pub report_count: i64,
    /// The case asks the complainant for full headers.
    pub needs_full_headers: bool,
    pub first_report_at: String,
    pub last_report_at: String,
    pub created_at: String,
    pub updated_at: String,
    pub deadlines: Deadlines,
    pub closed_at: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Deadlines {
    /// First answer due.
    pub respond_by: Option<String>,
    pub resolve_by: Option<String>,
}

impl From<&CaseRecord> for CaseView {
    fn from(c: &CaseRecord) -> Self {
        CaseView {
            id: c.id,
            kind: c.kind.clone(),
            target: c.target.clone(),
            state: c.state.as_str().to_owned(),
            attribution: AttributionView::from(&c.attribution),
            report_count: c.report_count,
            needs_full_headers: c.needs_full_headers,
            first_report_at: time(c.first_report_at),
            last_report_at: time(c.last_report_at),
            created_at: time(c.created_at),
            updated_at: time(c.updated_at),
            deadlines: Deadlines {
                respond_by: opt_time(c.respond_by),
                resolve_by: opt_time(c.resolve_by),
            },
            closed_at: opt_time(c.closed_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    pub id: i64,
    pub at: String,
    /// `case_opened`, `report_added`, `report_reprocessed`, `report_removed`, `state_changed`.
    #[serde(rename = "type")]
    pub kind: String,
    pub report_id: Option<i64>,
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

impl From<&CaseEvent> for EventView {
    fn from(e: &CaseEvent) -> Self {
        EventView {
            id: e.id,
            at: time(e.at),
            kind: e.kind.clone(),
            report_id: e.report_id,
            detail: e.detail.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CaseDetail {
    #[serde(flatten)]
    pub case: CaseView,
    /// The case's reports, oldest first (up to 1000; list more with
    /// `GET /api/v1/reports?case_id=`).
    pub reports: Vec<i64>,
    /// The append-only event log, oldest first: the case's timeline.
    pub events: Vec<EventView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CasePage {
    pub items: Vec<CaseView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CaseQuery {
    pub kind: Option<String>,
    /// `open`, `resolved` or `closed`.
    pub state: Option<String>,
    pub contract: Option<String>,
    /// `ours`, `external` or `unknown`.
    pub scope: Option<String>,
    pub country: Option<String>,
    /// `last_report` (default), `created` or `reports`.
    pub sort: Option<String>,
    /// `desc` (default) or `asc`.
    pub order: Option<String>,
    /// Page size, 1 to 1000 (default 50).
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}
