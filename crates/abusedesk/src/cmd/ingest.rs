//! `abusedesk ingest`: import reports from files, mboxes and Maildirs into the store.
//! They are queued like any other report; a running `serve` processes them (or the next
//! one to start).
use std::path::PathBuf;
use std::process::ExitCode;

use abusedesk_store::{Channel, ContentType, NewReport};

use crate::inputs;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Files ending in .json are X-ARF JSON documents; everything else is mail \
(one message, or an mbox). Maildirs and directories are walked.\n\
Exit status: 0 every input was stored; 1 some inputs were unreadable or refused (each is named on stderr); 2 configuration error."
)]
pub struct Args {
    /// .eml files, mboxes, Maildirs, X-ARF .json files, directories; `-` reads stdin.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// TOML configuration file (for `data_dir` / `database_url` / `intake.max_report_bytes`).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Data directory; default ./abusedesk-data.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

const BATCH: usize = 500;

pub fn run(args: Args) -> ExitCode {
    let mut flags = Vec::new();
    if let Some(d) = &args.data_dir {
        flags.push(("data_dir", d.display().to_string()));
    }
    let config = match super::serve::load_config(args.config.as_deref(), flags) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("abusedesk ingest: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("abusedesk ingest: {e}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(async move {
        let store = match config.open_store().await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("abusedesk ingest: cannot open the store: {e}");
                return ExitCode::from(1);
            }
        };
        let (sources, unreadable) = inputs::expand(&args.paths);
        let mut failed = unreadable.len();
        for u in &unreadable {
            eprintln!("abusedesk ingest: {u}");
        }
        let (mut new, mut dup) = (0u64, 0u64);
        let mut batch: Vec<NewReport> = Vec::with_capacity(BATCH);
        let now = || {
            use abusedesk_desk::Clock;
            abusedesk_desk::SystemClock.now()
        };
        for source in &sources {
            let data = match inputs::read(source) {
                Ok(d) => d,
                Err(u) => {
                    eprintln!("abusedesk ingest: {u}");
                    failed += 1;
                    continue;
                }
            };
            let label = source.label();
            let is_json = label.to_ascii_lowercase().ends_with(".json");
            let messages: Vec<(String, &[u8])> = if is_json { vec![(label.clone(), &data[..])] } else { inputs::messages(&label, &data) };
            for (name, bytes) in messages {
                let bytes = if is_json { bytes } else { abusedesk_forensics::strip_mbox_line(bytes).1 };
                if bytes.len() as u64 > config.intake.max_report_bytes {
                    eprintln!("abusedesk ingest: {name}: {} bytes is over the limit of {} (intake.max_report_bytes)", bytes.len(), config.intake.max_report_bytes);
                    failed += 1;
                    continue;
                }
                if bytes.iter().all(u8::is_ascii_whitespace) {
                    eprintln!("abusedesk ingest: {name}: empty, skipped");
                    failed += 1;
                    continue;
                }
                batch.push(NewReport {
                    raw: bytes.to_vec(),
                    channel: Channel::Ingest,
                    content_type: if is_json { ContentType::XarfJson } else { ContentType::Rfc822 },
                    received_at: now(),
                    envelope_from: None,
                    envelope_to: None,
                    peer: None,
                    source_name: Some(name),
                });
                if batch.len() >= BATCH {
                    match store.accept(&batch).await {
                        Ok(a) => tally(&a, &mut new, &mut dup),
                        Err(e) => {
                            eprintln!("abusedesk ingest: cannot store reports: {e}");
                            return ExitCode::from(1);
                        }
                    }
                    batch.clear();
                }
            }
        }
        if !batch.is_empty() {
            match store.accept(&batch).await {
                Ok(a) => tally(&a, &mut new, &mut dup),
                Err(e) => {
                    eprintln!("abusedesk ingest: cannot store reports: {e}");
                    return ExitCode::from(1);
                }
            }
        }
        store.close().await;
        println!("stored {new} new report(s), {dup} duplicate(s) of stored ones; {failed} input(s) skipped");
        if failed > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS }
    })
}

fn tally(accepted: &[abusedesk_store::Accepted], new: &mut u64, dup: &mut u64) {
    for a in accepted {
        if a.duplicate {
            *dup += 1;
        } else {
            *new += 1;
        }
    }
}
