//! abusedesk-auth: email authentication (see ARCHITECTURE.md, section `crates/auth`).
mod bridge;
pub mod callout;
pub mod dkim;
pub mod dns;
pub mod domainkeys;
pub mod iprev;
pub mod report;
pub mod sender_id;
pub mod spf;
pub mod tags;

pub use report::{AuthReport, Authenticator, Session};

/// The message as the verifiers see it: a leading mbox `From ` line is skipped; DKIM and
/// ARC signatures with `l=` are kept (the DKIM verifier reports on them).
pub fn parse_message(raw: &[u8]) -> Option<mail_auth::AuthenticatedMessage<'_>> {
    mail_auth::AuthenticatedMessage::parse_with_opts(strip_mbox_from(raw), None, false)
}

/// Skips one leading mbox `From ` separator line.
pub fn strip_mbox_from(raw: &[u8]) -> &[u8] {
    if raw.starts_with(b"From ") {
        match raw.iter().position(|&b| b == b'\n') {
            Some(nl) => &raw[nl + 1..],
            None => &raw[raw.len()..],
        }
    } else {
        raw
    }
}
