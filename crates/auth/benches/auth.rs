//! Benchmarks (harness = false): full authentication over the SpamAssassin corpus with a
//! warm cache, and DKIM RSA-2048 verification against ring's bare verify.
//!
//!     cargo bench -p abusedesk-auth --bench auth
//!
//! The corpus is read from `../shared/corpora/spamassassin` relative to the workspace root
//! (override with ABUSEDESK_CORPUS); without it the corpus part says so and is skipped.
//! `ABUSEDESK_BENCH_ZONE=FILE` also writes the zone used, for running a peer (rspamd)
//! against the same data (see docs/benchmarks.md).
use abusedesk_auth::dns::server::ZoneServer;
use abusedesk_auth::dns::zone::Zone;
use abusedesk_auth::dns::{LiveConfig, Rdata, Resolver};
use abusedesk_auth::{Authenticator, Session, dkim};
use abusedesk_forensics::{TraceConfig, trace};

#[path = "../tests/common/mod.rs"]
mod common;
use base64::Engine;
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::DkimSigner;
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey};
use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn corpus_dir() -> PathBuf {
    if let Ok(d) = std::env::var("ABUSEDESK_CORPUS") {
        return PathBuf::from(d);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora/spamassassin")
}

fn load_corpus() -> Option<Vec<(PathBuf, Vec<u8>)>> {
    let dir = corpus_dir();
    let mut out = Vec::new();
    for group in ["spam-1", "easy-ham-1", "hard-ham-1"] {
        let Ok(entries) = std::fs::read_dir(dir.join(group)) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for p in paths {
            if let Ok(b) = std::fs::read(&p) {
                out.push((p, b));
            }
        }
    }
    (!out.is_empty()).then_some(out)
}

fn domain_of(addr: &str) -> Option<String> {
    addr.rsplit_once('@')
        .map(|(_, d)| d.trim_end_matches('>').to_ascii_lowercase())
        .filter(|d| d.contains('.') && d.len() < 200)
}

/// A zone giving every domain the corpus names an SPF record (with a DMARC record on
/// every other one), so each check does real work; clients are in 192.0.2.0/24.
fn corpus_zone(sessions: &[(Session, Option<String>)]) -> (Zone, String) {
    let mut domains = BTreeSet::new();
    for (s, from) in sessions {
        if let Some(d) = s.mail_from.as_deref().and_then(domain_of) {
            domains.insert(d);
        }
        if let Some(d) = from.as_deref().and_then(domain_of) {
            domains.insert(d);
        }
    }
    let mut zone = Zone::new();
    let mut text = String::from("$TTL 86400\n");
    for (i, d) in domains.iter().enumerate() {
        if d.split('.').any(|l| {
            l.is_empty()
                || l.len() > 63
                || !l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        }) {
            continue;
        }
        let spf = if i % 3 == 0 {
            "v=spf1 ip4:192.0.2.0/25 mx -all"
        } else {
            "v=spf1 a include:_spf.bench.example ~all"
        };
        let _ = zone.add(d, Rdata::Txt(vec![spf.as_bytes().to_vec()]), 86400);
        let _ = zone.add(d, Rdata::A("198.51.100.7".parse().unwrap()), 86400);
        text.push_str(&format!("{d}. TXT \"{spf}\"\n{d}. A 198.51.100.7\n"));
        if i % 2 == 0 {
            let dmarc = "v=DMARC1; p=quarantine";
            let _ = zone.add(
                &format!("_dmarc.{d}"),
                Rdata::Txt(vec![dmarc.as_bytes().to_vec()]),
                86400,
            );
            text.push_str(&format!("_dmarc.{d}. TXT \"{dmarc}\"\n"));
        }
    }
    let inc = "v=spf1 ip4:192.0.2.128/25 -all";
    let _ = zone.add(
        "_spf.bench.example",
        Rdata::Txt(vec![inc.as_bytes().to_vec()]),
        86400,
    );
    text.push_str(&format!("_spf.bench.example. TXT \"{inc}\"\n"));
    (zone, text)
}

fn rate(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64()
}

fn bench_corpus(rt: &tokio::runtime::Runtime) {
    let Some(files) = load_corpus() else {
        println!(
            "corpus: MISSING at {} (set ABUSEDESK_CORPUS); skipping the corpus benchmark",
            corpus_dir().display()
        );
        return;
    };
    let corpus: Vec<&Vec<u8>> = files.iter().map(|(_, b)| b).collect();
    let cfg = TraceConfig::default();
    let sessions: Vec<(Session, Option<String>)> = corpus
        .iter()
        .enumerate()
        .map(|(i, raw)| {
            let t = trace(raw, &cfg);
            let ip: IpAddr = format!("192.0.2.{}", i % 250 + 1).parse().unwrap();
            let helo = t
                .origin
                .as_ref()
                .and_then(|o| o.helo.clone())
                .or(Some("unknown.example".into()));
            let mail_from = t
                .envelope_from
                .address
                .clone()
                .or_else(|| t.header_from.clone());
            (
                Session {
                    ip: Some(ip),
                    helo,
                    mail_from,
                    at: 1_700_000_000,
                },
                t.header_from.clone(),
            )
        })
        .collect();
    let (zone, text) = corpus_zone(&sessions);
    if let Ok(path) = std::env::var("ABUSEDESK_BENCH_ZONE") {
        let _ = std::fs::write(&path, &text);
        println!("zone written to {path}");
    }
    if let Ok(path) = std::env::var("ABUSEDESK_BENCH_SESSIONS") {
        let lines: Vec<String> = files
            .iter()
            .zip(&sessions)
            .map(|((p, _), (s, _))| {
                serde_json::json!({"file": p.canonicalize().unwrap_or(p.clone()), "ip": s.ip, "helo": s.helo, "mail_from": s.mail_from})
                    .to_string()
            })
            .collect();
        let _ = std::fs::write(&path, lines.join("\n") + "\n");
        println!("sessions written to {path}");
    }
    let server = rt
        .block_on(ZoneServer::start(
            Arc::new(zone),
            "127.0.0.1:0".parse().unwrap(),
        ))
        .expect("dns server");
    let resolver = Resolver::live(LiveConfig {
        server: Some(server.local_addr()),
        ..LiveConfig::default()
    })
    .expect("resolver");
    let auth = Authenticator::new(resolver.clone(), "bench.example").expect("auth");
    let total_bytes: usize = corpus.iter().map(|b| b.len()).sum();
    println!(
        "corpus: {} messages, {:.1} MB",
        corpus.len(),
        total_bytes as f64 / 1e6
    );

    // cold: every answer from the loopback server
    let start = Instant::now();
    for (raw, (s, _)) in corpus.iter().zip(&sessions) {
        std::hint::black_box(rt.block_on(auth.authenticate(raw, s)));
    }
    let cold = start.elapsed();
    let served = server.queries();
    println!(
        "full auth, cold cache (loopback DNS): {:>9.0} messages/s  ({} DNS queries)",
        rate(corpus.len(), cold),
        served
    );

    // warm: best of 5 rounds (the machine is shared)
    let mut warm = Duration::MAX;
    for _ in 0..5 {
        let start = Instant::now();
        for (raw, (s, _)) in corpus.iter().zip(&sessions) {
            std::hint::black_box(rt.block_on(auth.authenticate(raw, s)));
        }
        warm = warm.min(start.elapsed());
    }
    assert_eq!(
        server.queries(),
        served,
        "the warm runs were answered from the cache"
    );
    println!(
        "full auth, warm cache, 1 core:        {:>9.0} messages/s  ({:.1} us/message; SPF+HELO SPF, Sender ID, DKIM, DomainKeys, DMARC, ARC, iprev)",
        rate(corpus.len(), warm),
        warm.as_secs_f64() * 1e6 / corpus.len() as f64
    );

    // the same, in-memory zone (no cache layer)
    let (zone2, _) = corpus_zone(&sessions);
    let offline = Authenticator::new(Resolver::from_zone(zone2), "bench.example").expect("auth");
    let mut best = Duration::MAX;
    for _ in 0..5 {
        let start = Instant::now();
        for (raw, (s, _)) in corpus.iter().zip(&sessions) {
            std::hint::black_box(rt.block_on(offline.authenticate(raw, s)));
        }
        best = best.min(start.elapsed());
    }
    println!(
        "full auth, offline zone, 1 core:      {:>9.0} messages/s",
        rate(corpus.len(), best)
    );
}

fn bench_dkim(rt: &tokio::runtime::Runtime) {
    let key = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).expect("keygen");
    let pkcs8 = key.to_pkcs8_der().expect("pkcs8");
    let spki = key.to_public_key().to_public_key_der().expect("spki");
    let p = base64::engine::general_purpose::STANDARD.encode(spki.as_bytes());
    let msg = "From: Joe <joe@football.example.com>\r\nTo: Suzie <suzie@shopping.example.net>\r\nSubject: Is dinner ready?\r\nDate: Fri, 11 Jul 2003 21:00:37 -0700\r\nMessage-ID: <1@football.example.com>\r\n\r\nHi.\r\n\r\nWe lost the game. Are you hungry yet?\r\n\r\nJoe.\r\n";
    let signer = DkimSigner::from_key(
        common::TestRsa::<mail_auth::common::crypto::Sha256>::with_key(key.clone()),
    )
    .domain("football.example.com")
    .selector("bench")
    .headers(["From", "To", "Subject", "Date", "Message-ID"]);
    let sig = signer.sign(msg.as_bytes()).expect("sign");
    let raw = format!("{}{msg}", sig.to_header()).into_bytes();
    let mut zone = Zone::new();
    let rec = format!("v=DKIM1; k=rsa; p={p}");
    zone.add(
        "bench._domainkey.football.example.com",
        Rdata::Txt(rec.as_bytes().chunks(255).map(<[u8]>::to_vec).collect()),
        3600,
    )
    .unwrap();
    let resolver = Resolver::from_zone(zone);
    let parsed = abusedesk_auth::parse_message(&raw).expect("message");
    let policy = dkim::DkimPolicy::default();
    let check = rt.block_on(dkim::verify(&resolver, &parsed, sig.t, &policy));
    assert_eq!(
        check[0].result,
        dkim::DkimResult::Pass,
        "{}",
        check[0].reason
    );

    // ring's bare PKCS#1 v1.5 SHA-256 verify of a comparable input
    let pair = ring::signature::RsaKeyPair::from_pkcs8(pkcs8.as_bytes()).expect("ring key");
    let data = vec![b'x'; 400];
    let mut signature = vec![0u8; pair.public().modulus_len()];
    pair.sign(
        &ring::signature::RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        &data,
        &mut signature,
    )
    .expect("ring sign");
    use ring::signature::KeyPair;
    let public = ring::signature::UnparsedPublicKey::new(
        &ring::signature::RSA_PKCS1_2048_8192_SHA256,
        pair.public_key().as_ref().to_vec(),
    );
    // Interleaved rounds, best of each: the machine is shared, and a round another process
    // interrupts says nothing about either side.
    let n = 1000;
    let (mut ours, mut bare, mut verify_only) = (0f64, 0f64, 0f64);
    for _ in 0..7 {
        let start = Instant::now();
        for _ in 0..n {
            std::hint::black_box(rt.block_on(dkim::verify(
                &resolver,
                std::hint::black_box(&parsed),
                sig.t,
                &policy,
            )));
        }
        verify_only = verify_only.max(rate(n, start.elapsed()));
        let start = Instant::now();
        for _ in 0..n {
            let parsed =
                abusedesk_auth::parse_message(std::hint::black_box(&raw)).expect("message");
            std::hint::black_box(rt.block_on(dkim::verify(&resolver, &parsed, sig.t, &policy)));
        }
        ours = ours.max(rate(n, start.elapsed()));
        let start = Instant::now();
        for _ in 0..n {
            public
                .verify(
                    std::hint::black_box(&data),
                    std::hint::black_box(&signature),
                )
                .expect("verify");
        }
        bare = bare.max(rate(n, start.elapsed()));
    }
    println!(
        "DKIM rsa-sha256 2048-bit, full verify (parse, body hash, key, checks): {ours:>8.0} /s"
    );
    println!(
        "ring bare RSA-2048 PKCS#1 v1.5 SHA-256 verify:                        {bare:>8.0} /s"
    );
    println!(
        "DKIM verify of a parsed message (key lookup, checks, header hash, RSA): {verify_only:>8.0} /s"
    );
    println!(
        "ratio to the bare rate: {:.1} % (verify of a parsed message), {:.1} % (parse + verify)",
        100.0 * verify_only / bare,
        100.0 * ours / bare
    );
}

fn main() {
    // `cargo test --benches` runs this with --test-ish args; only `cargo bench` measures.
    if !std::env::args().any(|a| a == "--bench") {
        println!("run with `cargo bench -p abusedesk-auth --bench auth` to measure");
        return;
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    bench_dkim(&rt);
    bench_corpus(&rt);
}
