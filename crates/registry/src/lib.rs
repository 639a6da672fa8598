//! abusedesk-registry: our address space and customers, and the index that attributes an
//! address (and CGNAT port) or a host name to the contract that held it at a moment.
//!
//! Pure: no I/O, no clock. Times come in as arguments ([`Timestamp`]).
//!
//! ```
//! use abusedesk_registry::{assignments_from_csv, RegistryIndex, Timestamp};
//! let rows = assignments_from_csv(b"prefix,contract,valid_from,valid_to\n\
//!     203.0.113.7,C-1,2002-03-31T00:00:00Z,2002-04-01T00:00:00Z\n").unwrap();
//! let index = RegistryIndex::from_rows(vec![], vec![], &rows, &[]);
//! let at = Timestamp::parse_rfc3339("2002-03-31T12:07:53Z").unwrap();
//! let who = index.lookup_ip("203.0.113.7".parse().unwrap(), at, None);
//! assert_eq!(who.contract().unwrap().as_str(), "C-1");
//! ```
mod import;
mod index;
mod model;
mod time;

pub use import::{
    ImportErrors, Location, MAX_ERRORS, RegistryData, RowError, assignments_from_csv,
    assignments_from_json, contracts_from_csv, contracts_from_json, domains_from_csv,
    domains_from_json, networks_from_csv, networks_from_json, registry_from_json,
};
pub use index::{
    DomainMatch, HostAttribution, HostError, HostOutcome, HostReason, IndexBuilder, IndexStats,
    IpAttribution, IpOutcome, Match, Problem, Reason, RegistryIndex, UrlAttribution, Verdict,
};
pub use model::{
    Assignment, Contract, ContractId, DomainName, Email, FieldError, HostedDomain, Language,
    MAX_ID_LEN, Network, PortRange, Prefix, RowId, Validity,
};
pub use time::{TimeError, Timestamp};
