//! abusedesk-rdap (see ARCHITECTURE.md).
