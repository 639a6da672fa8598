//! The whole parse-and-trace path (headers, Received chain, trust walk, bounces, text
//! and JSON rendering) on arbitrary bytes. Half of the inputs get a `Received:` prefix so
//! the fuzzer reaches the chain logic quickly.
#![no_main]
use abusedesk_forensics::{TraceConfig, TrustConfig, render_text, trace};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn cfg() -> &'static TraceConfig {
    static C: OnceLock<TraceConfig> = OnceLock::new();
    C.get_or_init(|| {
        TraceConfig::new(TrustConfig {
            trusted_networks: vec!["198.51.100.0/24".parse().unwrap()],
            our_hosts: vec!["mx.example.net".into(), ".example.net".into()],
            submission_hosts: vec!["smtp.example.net".into()],
            trust_private: true,
        })
    })
}

fuzz_target!(|data: &[u8]| {
    let t = trace(data, cfg());
    let _ = render_text(&t, "fuzz");
    let _ = serde_json::to_string(&t);
    if data.first().is_some_and(|b| b & 1 == 1) {
        let mut m = b"Received: ".to_vec();
        m.extend_from_slice(data);
        let _ = trace(&m, cfg());
    }
});
