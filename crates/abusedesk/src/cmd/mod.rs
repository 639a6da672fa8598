//! Subcommands.
pub mod auth;
pub mod ingest;
pub mod rdap;
pub mod registry;
pub mod serve;
pub mod spf;
pub mod token;
pub mod trace;
