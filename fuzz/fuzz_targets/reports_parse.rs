//! `abusedesk_reports::parse_report` on arbitrary bytes (a complaint as the SMTP intake or
//! the HTTP API receives it). Must never panic; the result must serialise.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(report) = abusedesk_reports::parse_report(data) {
        let _ = serde_json::to_vec(&report).expect("a report always serialises");
        for e in &report.evidence {
            assert!(!e.bytes.is_empty());
        }
    }
});
