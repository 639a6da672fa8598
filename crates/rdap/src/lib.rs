//! abusedesk-rdap: for reports whose source is not ours. Parses RDAP (RFC 9083) `ip
//! network` responses — tolerating the RIRs' older quirks — picks the network's abuse
//! contact by explicit rules, and fetches records with a cached async client.
//!
//! ```
//! let body = br#"{"objectClassName": "ip network", "handle": "NET-1",
//!   "startAddress": "192.0.2.0", "endAddress": "192.0.2.255", "country": "JP",
//!   "entities": [{"handle": "AB-1", "roles": ["abuse"],
//!     "vcardArray": ["vcard", [["email", {}, "text", "abuse@example.net"]]]}]}"#;
//! let net = abusedesk_rdap::parse_ip_network(body).unwrap();
//! let contact = net.abuse_contact.unwrap();
//! assert_eq!(contact.emails, ["abuse@example.net"]);
//! assert_eq!(contact.rule, abusedesk_rdap::ContactRule::AbuseRole);
//! ```
mod bootstrap;
#[cfg(feature = "client")]
mod client;
mod contact;
mod parse;

pub use bootstrap::{Bootstrap, BootstrapError, Rir, Service, is_special_purpose};
#[cfg(feature = "client")]
pub use client::{
    ClientConfig, Clock, Lookup, ManualClock, RdapClient, RdapError, Servers, SystemClock,
};
pub use contact::{AbuseContact, ContactRule};
pub use parse::{
    Entity, IpNetwork, IpVersion, MAX_EMAILS, MAX_ENTITIES, MAX_ENTITY_DEPTH, ParseError, Quirk,
    Remark, from_value, parse_ip_network, parse_ip_network_from,
};
