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

/// Rows per multi-row statement at most: well under both databases' limit on bound
/// parameters (SQLite 32,766; PostgreSQL 65,535) at the widest row (18 columns).
pub(crate) const ROWS_PER_STATEMENT: usize = 128;

/// Split `items` into chunks whose lengths are powers of two (at most
/// [`ROWS_PER_STATEMENT`]), largest first. A multi-row statement's text depends on its row
/// count; with power-of-two counts a handful of texts cover every batch, so the
/// connection's statement cache keeps them prepared instead of parsing a new text
/// (thousands of parameters) for every batch.
pub(crate) fn statement_chunks<T>(items: &[T]) -> impl Iterator<Item = &[T]> {
    let mut rest = items;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let n = pow2_floor(rest.len().min(ROWS_PER_STATEMENT));
        let (chunk, tail) = rest.split_at(n);
        rest = tail;
        Some(chunk)
    })
}

/// The largest power of two <= `n` (`n` >= 1).
pub(crate) fn pow2_floor(n: usize) -> usize {
    1 << (usize::BITS - 1 - n.leading_zeros())
}

/// Milliseconds since the Unix epoch, UTC.
pub type Millis = i64;

/// SHA-256 of `bytes` as lowercase hex: the address of a blob.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    #[test]
    fn statement_chunks_are_powers_of_two_covering_everything() {
        for n in 0..600usize {
            let items: Vec<usize> = (0..n).collect();
            let chunks: Vec<&[usize]> = super::statement_chunks(&items).collect();
            assert_eq!(chunks.concat(), items);
            for c in &chunks {
                assert!(c.len().is_power_of_two() && c.len() <= super::ROWS_PER_STATEMENT);
            }
        }
        assert_eq!(super::pow2_floor(1), 1);
        assert_eq!(super::pow2_floor(200), 128);
    }
}
