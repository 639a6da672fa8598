//! Mail forensics for abusedesk: read a message and its `Received:` chain, find the hop
//! where it entered the network we trust and who handed it over, classify the origin's
//! HELO name and the envelope sender, map addresses to countries, and point out what an
//! abuse-desk operator should notice.
//!
//! This crate is pure: no I/O, no clock, no DNS. Bytes in, [`Trace`] out:
//!
//! ```
//! use abusedesk_forensics::{trace, TraceConfig, TrustConfig};
//! let raw = b"Received: from aak48900 (TKYca-0315p25.ppp.odn.ad.jp [143.90.172.25])\n by smtp.example.jp (Postfix) with SMTP id 1; Sun, 31 Mar 2002 21:07:53 +0900\n\nbody\n";
//! let t = trace(raw, &TraceConfig::new(TrustConfig::default()));
//! assert_eq!(t.origin.unwrap().ip.to_string(), "143.90.172.25");
//! ```

mod bounce;
mod chain;
mod classify;
mod config;
mod country;
mod date;
mod departure;
mod indicators;
mod message;
mod names;
mod received;
mod render;
mod trace;

pub mod mbox;

pub use bounce::{Bounce, BounceKind};
pub use chain::{Hop, Mark, Origin, Role};
pub use classify::{
    EnvelopeClass, EnvelopeFrom, EnvelopeSource, HeloClass, HeloContext, classify_envelope,
    classify_helo,
};
pub use config::{DEFAULT_DATE_SKEW, TraceConfig, TrustConfig, TrustReason, is_private};
pub use country::{Country, CountryDb, DelegatedError, DelegatedTable};
pub use date::parse_date;
pub use departure::{Departure, departure};
pub use indicators::{Indicator, IndicatorName};
pub use message::{Headers, Mailbox, parse_headers, strip_mbox_line};
pub use names::{dynamic_rdns_reason, is_valid_fqdn, parse_ip};
pub use received::{Mta, Protocol, Received, Tls, parse_received};
pub use render::render_text;
pub use trace::{Trace, trace};
