//! abusedesk-auth (see ARCHITECTURE.md).
