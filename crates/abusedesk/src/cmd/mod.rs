//! Subcommands.
pub mod trace;
