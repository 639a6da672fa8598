//! The abusedesk store: one API over SQLite (the default, WAL mode) and PostgreSQL.
//!
//! What it keeps:
//! - **raw report bytes**, content-addressed by SHA-256 and deduplicated (`blobs`);
//! - **reports**, one per distinct raw message, with the results of processing;
//! - the **durable work queue** (`jobs`): a report is queued in the same transaction that
//!   stores its bytes, so nothing acknowledged can be lost, and a job is removed in the
//!   same transaction that writes its results, so nothing is processed twice;
//! - **cases** with an append-only **event log**;
//! - the **network registry** (contracts, assignments, hosted domains, our networks);
//! - **API tokens**, stored as SHA-256 hashes.
//!
//! Both backends run the same SQL (numbered `$N` placeholders work on both); where the
//! dialects differ (claiming work, `max` vs `GREATEST`) the difference is local and both
//! variants are exercised by the one test suite in `tests/store.rs`.
//!
//! Times are [`Millis`]: milliseconds since the Unix epoch, UTC. The store takes "now"
//! as an argument where it matters, so tests use fixed clocks.

mod backend;
mod cases;
mod error;
mod intake;
mod queue;
mod registry;
mod reports;
mod tokens;
mod types;

pub use backend::{BackendKind, SQLITE_FILE, Store, StoreOptions, WriteTurn, redact_url};
pub use cases::Order;
pub use error::StoreError;
pub use queue::Completion;
pub use registry::RegistryTable;
pub use types::*;

/// Milliseconds since the Unix epoch, UTC.
pub type Millis = i64;

/// SHA-256 of `bytes` as lowercase hex: the address of a blob.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}
