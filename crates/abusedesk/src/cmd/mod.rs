//! Subcommands.
pub mod rdap;
pub mod registry;
pub mod trace;
