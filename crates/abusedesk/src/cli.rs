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
    /// Run the desk: HTTP API, SMTP intake and processing workers on one store.
    Serve(cmd::serve::Args),
    /// Import reports from files, mboxes and Maildirs into the store (queued for `serve`).
    Ingest(cmd::ingest::Args),
    /// Create, list and revoke API tokens.
    Token(cmd::token::Args),
    /// Network registry files: check them, attribute addresses and hosts at a moment.
    Registry(cmd::registry::Args),
    /// Look up an external network and its abuse contact over RDAP.
    Rdap(cmd::rdap::Args),
    /// Authenticate a message: SPF, Sender ID, DKIM, DomainKeys, DMARC, ARC, iprev.
    Auth(cmd::auth::Args),
    /// Evaluate SPF (RFC 7208) for one client IP, HELO name and MAIL FROM.
    Spf(cmd::spf::Args),
}

pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Trace(args) => cmd::trace::run(args),
        Command::Serve(args) => cmd::serve::run(args),
        Command::Ingest(args) => cmd::ingest::run(args),
        Command::Token(args) => cmd::token::run(args),
        Command::Registry(args) => cmd::registry::run(args),
        Command::Rdap(args) => cmd::rdap::run(args),
        Command::Auth(args) => cmd::auth::run(args),
        Command::Spf(args) => cmd::spf::run(args),
    }
}
