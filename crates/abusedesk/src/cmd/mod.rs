//! Subcommands.
pub mod ingest;
pub mod serve;
pub mod token;
pub mod trace;
