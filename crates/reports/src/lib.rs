//! abusedesk-reports (see ARCHITECTURE.md).
