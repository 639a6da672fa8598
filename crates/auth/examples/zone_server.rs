//! Serves RFC 1035 master files over UDP and TCP, for running a peer (rspamd) against
//! the same DNS data as our benchmark:
//!
//!     cargo run --release -p abusedesk-auth --example zone_server -- ZONEFILE... 127.0.0.1:5353
use abusedesk_auth::dns::server::ZoneServer;
use abusedesk_auth::dns::zone;
use std::sync::Arc;

fn main() -> std::process::ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let Some(addr) = args.pop().and_then(|a| a.parse().ok()) else {
        eprintln!("usage: zone_server ZONEFILE... IP:PORT");
        return std::process::ExitCode::from(2);
    };
    let mut files = Vec::new();
    for p in &args {
        match std::fs::read(p) {
            Ok(b) => files.push((p.clone(), b)),
            Err(e) => {
                eprintln!("zone_server: {p}: {e}");
                return std::process::ExitCode::from(2);
            }
        }
    }
    let zone = match zone::load_files(&files) {
        Ok((z, _)) => z,
        Err(e) => {
            eprintln!("zone_server: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return std::process::ExitCode::from(1);
    };
    rt.block_on(async {
        match ZoneServer::start(Arc::new(zone), addr).await {
            Ok(server) => {
                eprintln!(
                    "zone_server: serving {} names on {}",
                    args.len(),
                    server.local_addr()
                );
                std::future::pending::<()>().await;
            }
            Err(e) => eprintln!("zone_server: {addr}: {e}"),
        }
    });
    std::process::ExitCode::from(1)
}
