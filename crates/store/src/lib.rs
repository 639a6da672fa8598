//! abusedesk-store (see ARCHITECTURE.md).
