//! abusedesk-desk (see ARCHITECTURE.md).
