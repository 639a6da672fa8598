//! Throughput of `trace` over the SpamAssassin public corpus sample, on one core.
//!
//!     cargo bench -p abusedesk-forensics --bench trace [-- CORPUS_DIR...]
//!
//! Reads every message under `../shared/corpora/spamassassin` (beside the checkout) or
//! the directories given, holds them in memory, then traces all of them repeatedly for
//! at least five seconds on the calling thread and prints messages/s and MB/s.

use abusedesk_forensics::{TraceConfig, TrustConfig, trace};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn collect(dir: &Path, out: &mut Vec<Vec<u8>>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|e| e == "eml")
            && let Ok(b) = std::fs::read(&p)
        {
            out.push(b);
        }
    }
}

/// Nanoseconds this thread has run on a CPU (Linux `schedstat`), so the figure stays
/// meaningful when other processes share the machine.
fn thread_cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let dirs: Vec<PathBuf> = if args.is_empty() {
        vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora/spamassassin")]
    } else {
        args.iter().map(PathBuf::from).collect()
    };
    let mut msgs = Vec::new();
    for d in &dirs {
        collect(d, &mut msgs);
    }
    if msgs.is_empty() {
        eprintln!(
            "trace bench: no .eml files under {dirs:?} (the corpus lives in ../shared/corpora beside the checkout); nothing measured"
        );
        return;
    }
    let bytes: usize = msgs.iter().map(Vec::len).sum();
    let cfg = TraceConfig::new(TrustConfig::default());
    // Warm up.
    let mut sink = 0usize;
    for m in &msgs {
        sink += trace(m, &cfg).hops.len();
    }
    let start = Instant::now();
    let cpu0 = thread_cpu_ns();
    let mut rounds = 0u32;
    while start.elapsed() < Duration::from_secs(5) {
        for m in &msgs {
            sink += trace(m, &cfg).hops.len();
        }
        rounds += 1;
    }
    let wall = start.elapsed().as_secs_f64();
    let cpu = match (cpu0, thread_cpu_ns()) {
        (Some(a), Some(b)) if b > a => (b - a) as f64 / 1e9,
        _ => wall,
    };
    let n = msgs.len() as f64 * f64::from(rounds);
    let mb = bytes as f64 * f64::from(rounds) / 1e6;
    println!(
        "trace: {} messages ({:.1} MB) x {rounds} rounds, one thread: {:.0} messages/s and {:.1} MB/s per CPU-second \
         ({cpu:.2} s CPU in {wall:.2} s wall; {:.0} messages/s wall) (checksum {sink})",
        msgs.len(),
        bytes as f64 / 1e6,
        n / cpu,
        mb / cpu,
        n / wall
    );
}
