//! Real mail: 300 messages of the SpamAssassin public corpus (copied into
//! `tests/data/spamassassin` with its license). Every message must yield a trace and a
//! JSON document; the Received parser must understand nearly every line.
//!
//! With `ABUSEDESK_CORPUS=1` the whole sample in `../shared/corpora/spamassassin` (3,250
//! messages) is traced as well; the test says so when that data is missing.

use abusedesk_forensics::{TraceConfig, trace};
use std::path::{Path, PathBuf};

fn messages(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for group in ["spam-1", "easy-ham-1", "hard-ham-1"] {
        let Ok(rd) = std::fs::read_dir(dir.join(group)) else {
            continue;
        };
        let mut v: Vec<PathBuf> = rd.map(|e| e.unwrap().path()).collect();
        v.sort();
        out.extend(v);
    }
    out
}

struct Stats {
    messages: usize,
    with_origin: usize,
    hops: usize,
    unparsed: usize,
}

fn run(paths: &[PathBuf]) -> Stats {
    let cfg = TraceConfig::default();
    let mut s = Stats {
        messages: 0,
        with_origin: 0,
        hops: 0,
        unparsed: 0,
    };
    for p in paths {
        let raw = std::fs::read(p).unwrap();
        let t = trace(&raw, &cfg);
        serde_json::to_string(&t).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        s.messages += 1;
        s.with_origin += usize::from(t.origin.is_some());
        s.hops += t.hops.len();
        s.unparsed += t.hops.iter().filter(|h| !h.received.parsed).count();
    }
    s
}

#[test]
fn fixture_every_message_traces() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/spamassassin");
    let paths = messages(&dir);
    assert_eq!(paths.len(), 300);
    let s = run(&paths);
    println!(
        "fixture: {} messages, {} with an origin, {} hops, {} unparsed ({:.2} %)",
        s.messages,
        s.with_origin,
        s.hops,
        s.unparsed,
        100.0 * s.unparsed as f64 / s.hops as f64
    );
    assert!(
        s.unparsed * 200 < s.hops,
        "more than 0.5 % of Received lines unparsed"
    );
    assert!(
        s.with_origin * 10 > s.messages * 7,
        "fewer than 70 % of messages have an origin"
    );
}

#[test]
fn whole_shared_corpus_when_asked() {
    if std::env::var_os("ABUSEDESK_CORPUS").is_none() {
        println!("skipped: set ABUSEDESK_CORPUS=1 to trace all of ../shared/corpora/spamassassin");
        return;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora/spamassassin");
    let paths = messages(&dir);
    if paths.is_empty() {
        println!("skipped: {} is missing", dir.display());
        return;
    }
    let s = run(&paths);
    println!(
        "shared corpus: {} messages, {} with an origin, {} hops, {} unparsed",
        s.messages, s.with_origin, s.hops, s.unparsed
    );
    assert!(s.unparsed * 200 < s.hops);
}
