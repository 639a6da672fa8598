//! Records the store reads and writes.
use serde::{Deserialize, Serialize};

use crate::Millis;

pub type ReportId = i64;
pub type CaseId = i64;

macro_rules! str_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name { $($(#[$vm])* #[serde(rename = $s)] $v),+ }
        impl $name {
            /// All values, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$v),+];
            /// The name stored in the database and used in the API.
            pub fn as_str(self) -> &'static str { match self { $($name::$v => $s),+ } }
            /// Inverse of [`Self::as_str`].
            pub fn parse(s: &str) -> Option<$name> { match s { $($s => Some($name::$v),)+ _ => None } }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.as_str()) }
        }
    };
}

str_enum! {
    /// How a report reached the desk.
    Channel { Smtp = "smtp", Http = "http", Ingest = "ingest" }
}
str_enum! {
    /// What the raw bytes are.
    ContentType {
        /// A mail message (RFC 5322), possibly an ARF or X-ARF report or a forward.
        Rfc822 = "message/rfc822",
        /// An X-ARF v4 JSON document.
        XarfJson = "application/json"
    }
}
str_enum! {
    /// Where a report is in processing.
    ReportStatus { Queued = "queued", Processed = "processed", Unparseable = "unparseable" }
}
str_enum! {
    /// Whose network the source of a report is in.
    Scope { Ours = "ours", External = "external", Unknown = "unknown" }
}
str_enum! {
    /// The state of a case. New reports join the open case of their kind and target;
    /// a closed case (closed or resolved) never gains reports.
    CaseState { Open = "open", Resolved = "resolved", Closed = "closed" }
}
str_enum! {
    /// Sort keys for the case list.
    CaseSort { LastReport = "last_report", Created = "created", Reports = "reports" }
}

/// A report as it arrives, before anything is parsed.
#[derive(Debug, Clone)]
pub struct NewReport {
    pub raw: Vec<u8>,
    pub channel: Channel,
    pub content_type: ContentType,
    pub received_at: Millis,
    pub envelope_from: Option<String>,
    /// Envelope recipients, comma-separated.
    pub envelope_to: Option<String>,
    /// The peer's address (SMTP client, HTTP client).
    pub peer: Option<String>,
    /// Where an ingested report came from (file path, mbox and message number).
    pub source_name: Option<String>,
}

/// The acknowledgement for one stored report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Accepted {
    pub id: ReportId,
    pub sha256: String,
    /// The same bytes had been stored before; `id` is the earlier report.
    pub duplicate: bool,
    pub status: ReportStatus,
}

/// Who a report's source belongs to, and why we think so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attribution {
    pub scope: Scope,
    pub contract: Option<String>,
    /// Our network (scope `ours`) or the external network (CIDR or RDAP handle).
    pub network: Option<String>,
    pub country: Option<String>,
    pub abuse_contact: Option<String>,
    pub reason: String,
}

/// A stored report with its processing results.
#[derive(Debug, Clone, Serialize)]
pub struct ReportRecord {
    pub id: ReportId,
    pub sha256: String,
    pub size: i64,
    pub channel: Channel,
    pub content_type: ContentType,
    pub received_at: Millis,
    pub submissions: i64,
    pub envelope_from: Option<String>,
    pub envelope_to: Option<String>,
    pub peer: Option<String>,
    pub source_name: Option<String>,
    pub status: ReportStatus,
    pub format: Option<String>,
    pub kind: Option<String>,
    pub reporter: Option<String>,
    pub source_ip: Option<String>,
    pub source_port: Option<i64>,
    pub event_time: Option<Millis>,
    pub origin_time: Option<Millis>,
    pub time_basis: Option<String>,
    pub attribution: Option<Attribution>,
    pub case_id: Option<CaseId>,
    pub error: Option<String>,
    pub detail: serde_json::Value,
    pub processed_at: Option<Millis>,
}

/// A job handed to a worker: the report's bytes and how they arrived.
#[derive(Debug, Clone)]
pub struct ClaimedJob {
    pub report_id: ReportId,
    /// Proof of the claim; completing with a stale claim does nothing.
    pub claim: String,
    /// How many times the job has been claimed, this time included.
    pub attempts: i64,
    pub raw: Vec<u8>,
    pub channel: Channel,
    pub content_type: ContentType,
    pub received_at: Millis,
}

/// The result of processing one report.
#[derive(Debug, Clone)]
pub struct Processed {
    pub report_id: ReportId,
    pub claim: String,
    pub processed_at: Millis,
    pub result: ProcessResult,
}

#[derive(Debug, Clone)]
pub enum ProcessResult {
    Parsed(Box<ParsedReport>),
    /// The bytes could not be read as a report; the report is kept and marked.
    Unparseable {
        format: Option<String>,
        error: String,
        detail: serde_json::Value,
    },
}

/// What processing found in a report, and the case it belongs to.
#[derive(Debug, Clone)]
pub struct ParsedReport {
    pub format: String,
    pub kind: String,
    pub reporter: Option<String>,
    pub source_ip: Option<String>,
    pub source_port: Option<i64>,
    pub event_time: Option<Millis>,
    pub origin_time: Option<Millis>,
    pub time_basis: Option<String>,
    pub attribution: Attribution,
    pub detail: serde_json::Value,
    pub case: CaseTarget,
}

/// The grouping key of a case: reports with the same kind and target join one open case.
#[derive(Debug, Clone)]
pub struct CaseTarget {
    /// e.g. `contract:C-1001`, `network:198.51.100.0/24`, `report:17`.
    pub target: String,
    /// The report has no usable evidence: the case asks the complainant for full headers.
    pub needs_full_headers: bool,
    /// Deadlines set when the case is opened.
    pub respond_by: Option<Millis>,
    pub resolve_by: Option<Millis>,
}

/// A case: reports about one target and kind.
#[derive(Debug, Clone, Serialize)]
pub struct CaseRecord {
    pub id: CaseId,
    pub kind: String,
    pub target: String,
    pub attribution: Attribution,
    pub state: CaseState,
    pub report_count: i64,
    pub needs_full_headers: bool,
    pub first_report_at: Millis,
    pub last_report_at: Millis,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub respond_by: Option<Millis>,
    pub resolve_by: Option<Millis>,
    pub closed_at: Option<Millis>,
}

/// One entry of a case's append-only event log.
#[derive(Debug, Clone, Serialize)]
pub struct CaseEvent {
    pub id: i64,
    pub case_id: CaseId,
    pub at: Millis,
    #[serde(rename = "type")]
    pub kind: String,
    pub report_id: Option<ReportId>,
    pub detail: serde_json::Value,
}

/// Filters for the report list; `None` matches everything.
#[derive(Debug, Clone, Default)]
pub struct ReportFilter {
    pub status: Option<ReportStatus>,
    pub kind: Option<String>,
    pub format: Option<String>,
    pub scope: Option<Scope>,
    pub channel: Option<Channel>,
    pub source_ip: Option<String>,
    pub contract: Option<String>,
    pub case_id: Option<CaseId>,
    pub received_after: Option<Millis>,
    pub received_before: Option<Millis>,
}

/// Filters for the case list.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    pub kind: Option<String>,
    pub state: Option<CaseState>,
    pub contract: Option<String>,
    pub scope: Option<Scope>,
    pub country: Option<String>,
}

/// One page of a list and the cursor of the next, if any.
#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// A contract of the registry: `doc` is the registry crate's JSON record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContractRow {
    pub id: String,
    /// The reseller's contract, for an end customer.
    pub parent: Option<String>,
    pub doc: serde_json::Value,
}

/// An address assignment (prefix held by a contract over an interval, maybe for a port
/// range); `doc` is the registry crate's JSON record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssignmentRow {
    /// Assigned by the store; ignored on insert.
    pub id: i64,
    pub contract: String,
    pub prefix: String,
    pub doc: serde_json::Value,
}

/// A hosted domain or virtual host of a contract; `doc` is the registry crate's record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostedDomainRow {
    /// Assigned by the store; ignored on insert.
    pub id: i64,
    pub domain: String,
    pub contract: String,
    pub doc: serde_json::Value,
}

/// A block of our own address space; `doc` is the registry crate's record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetworkRow {
    pub prefix: String,
    pub doc: serde_json::Value,
}

/// The whole registry at one version, for building the in-memory index.
#[derive(Debug, Clone, Default)]
pub struct RegistrySnapshot {
    pub version: i64,
    pub contracts: Vec<ContractRow>,
    pub assignments: Vec<AssignmentRow>,
    pub domains: Vec<HostedDomainRow>,
    pub networks: Vec<NetworkRow>,
}

/// Rows for a bulk registry import (all in one transaction).
#[derive(Debug, Clone, Default)]
pub struct RegistryImport {
    pub contracts: Vec<ContractRow>,
    pub assignments: Vec<AssignmentRow>,
    pub domains: Vec<HostedDomainRow>,
    pub networks: Vec<NetworkRow>,
    /// Delete the existing assignments and hosted domains of every contract named in
    /// `assignments` / `domains` first (a full re-export of those contracts' history).
    pub replace: bool,
}

/// Counts of what an import wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportCounts {
    pub contracts: u64,
    pub assignments: u64,
    pub domains: u64,
    pub networks: u64,
}

/// An API token's record (never its secret).
#[derive(Debug, Clone, Serialize)]
pub struct TokenInfo {
    pub id: i64,
    pub name: String,
    /// The first characters of the secret, to recognise it.
    pub hint: String,
    pub created_at: Millis,
    pub last_used_at: Option<Millis>,
    pub revoked_at: Option<Millis>,
}

/// A freshly created token: the secret is shown once and stored only as a hash.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub info: TokenInfo,
    pub secret: String,
}

/// Counts for `/metrics`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Stats {
    pub jobs_queued: i64,
    pub reports_queued: i64,
    pub reports_processed: i64,
    pub reports_unparseable: i64,
    pub cases_open: i64,
}
