//! The `abusedesk` binary: thin glue over the workspace crates.
use clap::Parser;

mod cli;
mod cmd;
mod inputs;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    cli::run(cli)
}
