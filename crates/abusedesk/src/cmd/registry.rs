//! `abusedesk registry check|lookup`: validate registry files, attribute addresses and
//! hosts offline from them.
use abusedesk_registry::{
    ImportErrors, IndexBuilder, RegistryIndex, RowId, Timestamp, UrlAttribution,
    assignments_from_csv, assignments_from_json, contracts_from_csv, contracts_from_json,
    domains_from_csv, domains_from_json, networks_from_csv, networks_from_json, registry_from_json,
};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

/// Registry files; `.json` files are read as JSON, anything else as CSV
/// (formats: docs/registry.md).
#[derive(Debug, clap::Args)]
pub struct Files {
    /// A whole registry as one JSON document (networks, contracts, assignments, domains).
    #[arg(long, value_name = "FILE")]
    pub registry: Option<PathBuf>,
    /// Our networks: `prefix[,description]`.
    #[arg(long, value_name = "FILE")]
    pub networks: Vec<PathBuf>,
    /// Contracts: `id,name,email[,parent,language,notes]`.
    #[arg(long, value_name = "FILE")]
    pub contracts: Vec<PathBuf>,
    /// Assignments: `prefix,contract,valid_from,valid_to[,port_from,port_to]`.
    #[arg(long, value_name = "FILE")]
    pub assignments: Vec<PathBuf>,
    /// Hosted domains: `domain,contract[,valid_from,valid_to]`.
    #[arg(long, value_name = "FILE")]
    pub domains: Vec<PathBuf>,
}

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Import the files, report every problem (line and column), and the index's sizes.
    Check {
        #[command(flatten)]
        files: Files,
    },
    /// Who held an address (or host, or URL's host) at a moment, and why.
    Lookup {
        #[command(flatten)]
        files: Files,
        /// The moment, RFC 3339 with offset (e.g. 2002-03-31T12:07:53Z).
        #[arg(long)]
        at: String,
        /// Source port, for CGNAT addresses.
        #[arg(long)]
        port: Option<u16>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// IP addresses, host names or URLs.
        #[arg(required = true)]
        targets: Vec<String>,
    },
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn is_json(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

type Parse<T> = fn(&[u8]) -> Result<Vec<T>, ImportErrors>;

/// Reads each file, parses it as JSON (`.json`) or CSV, and hands every record to `each`;
/// a file that does not parse goes to `report`. `Err` only when a file cannot be read.
fn parse_each<T>(
    paths: &[PathBuf],
    json: Parse<T>,
    csv: Parse<T>,
    report: &mut impl FnMut(&Path, ImportErrors),
    mut each: impl FnMut(T),
) -> Result<(), String> {
    for p in paths {
        let bytes = read(p)?;
        match if is_json(p) {
            json(&bytes)
        } else {
            csv(&bytes)
        } {
            Ok(v) => v.into_iter().for_each(&mut each),
            Err(e) => report(p, e),
        }
    }
    Ok(())
}

/// Imports every file; problems are printed per file. `None` when any file failed.
fn load(files: &Files) -> Result<Option<RegistryIndex>, String> {
    let mut b = IndexBuilder::new();
    let mut ok = true;
    let mut row = 0u64;
    let mut report = |path: &Path, e: ImportErrors| {
        eprintln!("{}: {e}", path.display());
        ok = false;
    };
    if let Some(p) = &files.registry {
        match registry_from_json(&read(p)?) {
            Ok(d) => {
                d.networks.into_iter().for_each(|n| {
                    b.network(n);
                });
                d.contracts.into_iter().for_each(|c| {
                    b.contract(c);
                });
                for a in &d.assignments {
                    b.assignment(RowId(row), a);
                    row += 1;
                }
                for x in &d.domains {
                    b.domain(RowId(row), x);
                    row += 1;
                }
            }
            Err(e) => report(p, e),
        }
    }
    parse_each(
        &files.networks,
        networks_from_json,
        networks_from_csv,
        &mut report,
        |n| {
            b.network(n);
        },
    )?;
    parse_each(
        &files.contracts,
        contracts_from_json,
        contracts_from_csv,
        &mut report,
        |c| {
            b.contract(c);
        },
    )?;
    parse_each(
        &files.assignments,
        assignments_from_json,
        assignments_from_csv,
        &mut report,
        |a| {
            b.assignment(RowId(row), &a);
            row += 1;
        },
    )?;
    parse_each(
        &files.domains,
        domains_from_json,
        domains_from_csv,
        &mut report,
        |d| {
            b.domain(RowId(row), &d);
            row += 1;
        },
    )?;
    Ok(ok.then(|| b.build()))
}

pub fn run(args: Args) -> ExitCode {
    match args.command {
        Command::Check { files } => match load(&files) {
            Err(e) => {
                eprintln!("abusedesk registry: {e}");
                ExitCode::from(2)
            }
            Ok(None) => ExitCode::from(1),
            Ok(Some(index)) => {
                let s = index.stats();
                println!(
                    "ok: {} assignments ({} IPv4 and {} IPv6 prefixes), {} networks, {} contracts, {} hosted domains",
                    s.assignments, s.v4_prefixes, s.v6_prefixes, s.networks, s.contracts, s.domains
                );
                for p in index.problems() {
                    println!("warning: {p}");
                }
                ExitCode::SUCCESS
            }
        },
        Command::Lookup {
            files,
            at,
            port,
            json,
            targets,
        } => {
            let at = match Timestamp::parse_rfc3339(&at) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("abusedesk registry lookup: --at: {e}");
                    return ExitCode::from(2);
                }
            };
            let index = match load(&files) {
                Err(e) => {
                    eprintln!("abusedesk registry: {e}");
                    return ExitCode::from(2);
                }
                Ok(None) => return ExitCode::from(1),
                Ok(Some(i)) => i,
            };
            let mut code = ExitCode::SUCCESS;
            for target in targets {
                let out = if let Ok(ip) = target.trim().parse::<IpAddr>() {
                    Ok(UrlAttribution::Ip(index.lookup_ip(ip, at, port)))
                } else if target.contains('/') || target.contains(':') {
                    index.lookup_url(&target, at)
                } else {
                    index.lookup_host(&target, at).map(UrlAttribution::Domain)
                };
                match out {
                    Ok(a) if json => match serde_json::to_string(&a) {
                        Ok(s) => println!("{s}"),
                        Err(e) => {
                            eprintln!("{target}: {e}");
                            code = ExitCode::from(1);
                        }
                    },
                    Ok(UrlAttribution::Ip(a)) => println!("{a}"),
                    Ok(UrlAttribution::Domain(h)) => println!("{h}"),
                    Err(e) => {
                        eprintln!("{target}: {e}");
                        code = ExitCode::from(1);
                    }
                }
            }
            code
        }
    }
}
