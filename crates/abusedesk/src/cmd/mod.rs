//! Subcommands.
pub mod ingest;
pub mod rdap;
pub mod registry;
pub mod serve;
pub mod token;
pub mod trace;
