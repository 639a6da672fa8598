//! abusedesk-smtp (see ARCHITECTURE.md).
