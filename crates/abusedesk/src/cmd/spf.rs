//! `abusedesk spf`: one SPF check_host() from the command line.
use crate::cmd::auth::{DnsArgs, runtime};
use std::net::IpAddr;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Output: the first line is the result keyword (pass, fail, softfail, neutral, none, \
temperror, permerror); the lines after it explain. Exit status: 0 whatever the result; 2 usage \
or DNS configuration error."
)]
pub struct Args {
    /// The SMTP client's address.
    #[arg(long, value_name = "IP")]
    pub ip: IpAddr,
    /// The HELO/EHLO name.
    #[arg(long, value_name = "NAME")]
    pub helo: String,
    /// The MAIL FROM address; "" is the null reverse-path (the HELO identity is checked).
    #[arg(long, value_name = "ADDR")]
    pub mail_from: String,
    /// Evaluate as of this moment (Unix seconds; the exp= `t` macro). Default: now.
    #[arg(long, value_name = "UNIX_TIME")]
    pub at: Option<u64>,
    #[command(flatten)]
    pub dns: DnsArgs,
}

pub fn run(args: Args) -> ExitCode {
    let resolver = match args.dns.resolver() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("abusedesk spf: {e:#}");
            return ExitCode::from(2);
        }
    };
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("abusedesk spf: {e:#}");
            return ExitCode::from(2);
        }
    };
    let at = args.at.unwrap_or_else(crate::cmd::auth::now);
    let receiver = args.dns.authserv_id.clone();
    let out = rt.block_on(abusedesk_auth::spf::verify_mail_from(
        &resolver,
        args.ip,
        &args.helo,
        &args.mail_from,
        &receiver,
        at,
    ));
    let (_, sender) = abusedesk_auth::spf::identity(&args.helo, &args.mail_from);
    println!("{}", out.result);
    println!("domain: {}", out.domain);
    println!("identity: {sender}");
    println!("reason: {}", out.reason);
    if let Some(exp) = &out.explanation {
        println!("explanation: {exp}");
    }
    ExitCode::SUCCESS
}
