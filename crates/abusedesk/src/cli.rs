//! Command-line interface. One subcommand per module under `cmd/`; each module owns its
//! `Args` struct (clap derive) and a `run(args) -> ExitCode` function.
use clap::{Parser, Subcommand};
use std::process::ExitCode;

use crate::cmd;

#[derive(Debug, Parser)]
#[command(
    name = "abusedesk",
    version,
    about = "The open-source abuse desk for ISPs and hosting/cloud providers"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Trace messages to their origin: Received chain, trust walk, HELO class, indicators.
    Trace(cmd::trace::Args),
}

pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Trace(args) => cmd::trace::run(args),
    }
}
