//! abusedesk-registry (see ARCHITECTURE.md).
