//! Subcommands.
pub mod auth;
pub mod rdap;
pub mod registry;
pub mod spf;
pub mod trace;
