//! Parse speed per format. `cargo bench -p abusedesk-reports --bench parse`
//!
//! Inputs are the golden files plus "typical 10 kB" complaints built from them (a
//! forwarded spam with a 10 kB HTML body; a Japanese ISO-2022-JP complaint with pasted
//! headers and 10 kB of text). Prints microseconds per report and reports per second on
//! one core: wall-clock and this thread's CPU time (the machine is shared, so CPU time is
//! the steadier figure).
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

fn golden(rel: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Grow the forwarded spam's HTML body to about `size` bytes.
fn forwarded_10k(size: usize) -> Vec<u8> {
    let base = String::from_utf8(golden("mail/forwarded-rfc822.eml")).unwrap();
    let mut filler = String::new();
    let mut i = 0;
    while filler.len() < size.saturating_sub(base.len()) {
        filler.push_str(&format!(
            "<p>Offer {i}: best prices on <a href=3D\"http://cheap-pills.example/item/{i}\">item {i}</a>=\n</p>\n"
        ));
        i += 1;
    }
    base.replace(
        "now</a></p></body></html>",
        &format!("now</a></p>\n{filler}</body></html>"),
    )
    .into_bytes()
}

/// Pad the Japanese complaint's prose (ISO-2022-JP) to about `size` bytes.
fn japanese_10k(size: usize) -> Vec<u8> {
    let base = golden("mail/ja-iso2022jp-pasted.eml");
    let line = "同様の迷惑メールが毎日何十通も届いており、業務に支障が出ております。\n";
    let (encoded, _, _) = encoding_rs::ISO_2022_JP.encode(line);
    let mut out = base.clone();
    // Insert before the signature: append to the end is enough for the parser's work.
    while out.len() < size {
        out.extend_from_slice(&encoded);
    }
    out
}

fn bench(name: &str, input: &[u8], f: fn(&[u8]) -> bool) {
    // `cargo bench ... -- WORD` runs only the benchmarks whose name contains WORD.
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    if !filter.is_empty() && !filter.iter().any(|f| name.contains(f.as_str())) {
        return;
    }
    // Warm up (X-ARF schemas compile on first use).
    assert!(f(input), "{name}: did not parse");
    let mut iters = 1u64;
    let (elapsed, cpu) = loop {
        let cpu_start = thread_cpu_ns();
        let start = Instant::now();
        for _ in 0..iters {
            black_box(f(black_box(input)));
        }
        let elapsed = start.elapsed();
        let cpu = thread_cpu_ns()
            .zip(cpu_start)
            .map(|(b, a)| b.saturating_sub(a));
        if elapsed >= Duration::from_millis(700) {
            break (elapsed, cpu);
        }
        iters *= 2;
    };
    let per = elapsed.as_secs_f64() / iters as f64;
    let cpu_per = cpu.map(|ns| ns as f64 / 1e3 / iters as f64);
    println!(
        "{name:<44} {:>6} B  wall {:>7.1} µs  cpu {:>7} µs  {:>7.0} reports/s (cpu)",
        input.len(),
        per * 1e6,
        cpu_per.map_or("n/a".to_owned(), |c| format!("{c:.1}")),
        cpu_per.map_or(1.0 / per, |c| 1e6 / c),
    );
}

/// This thread's CPU time (Linux `schedstat`), so figures hold on a busy shared machine.
fn thread_cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

fn mail(raw: &[u8]) -> bool {
    abusedesk_reports::parse_report(raw).is_ok()
}

fn json(raw: &[u8]) -> bool {
    abusedesk_reports::parse_xarf_json(raw).is_ok()
}

fn main() {
    abusedesk_reports::warm_up();
    println!("abusedesk-reports parse benchmark (one core)");
    bench(
        "forwarded spam, 10 kB (message/rfc822)",
        &forwarded_10k(10_240),
        mail,
    );
    bench(
        "Japanese ISO-2022-JP pasted headers, 10 kB",
        &japanese_10k(10_240),
        mail,
    );
    bench(
        "ARF RFC 5965 B.2",
        &golden("arf/rfc5965-B.2-full-abuse-report.eml"),
        mail,
    );
    bench(
        "ARF RFC 6591 B.1 (auth-failure)",
        &golden("arf/rfc6591-B.1-auth-failure-report.eml"),
        mail,
    );
    bench(
        "Shift_JIS pasted headers",
        &golden("mail/ja-sjis-pasted.eml"),
        mail,
    );
    bench("SpamCop", &golden("mail/spamcop.eml"), mail);
    bench("plain complaint", &golden("mail/plain-en.eml"), mail);
    bench(
        "X-ARF v4 mail (xarf.json part)",
        &golden("mail/xarf-v4-mail.eml"),
        mail,
    );
    bench(
        "X-ARF 0.2 mail (YAML)",
        &golden("mail/xarf-legacy-yaml.eml"),
        mail,
    );
    bench(
        "X-ARF v4 JSON (messaging/spam)",
        &golden("xarf/v4-messaging-spam.xarf.json"),
        json,
    );
    bench(
        "X-ARF v3 JSON (Spam)",
        &golden("xarf/v3-spam.xarf.json"),
        json,
    );
    bench(
        "X-ARF v4 JSON, invalid",
        &golden("xarf/v4-invalid.xarf.json"),
        json,
    );
}
