//! abusedesk-auth: email authentication (see ARCHITECTURE.md, section `crates/auth`).
pub mod dns;
pub mod spf;
