//! `abusedesk_reports::parse_xarf_json` on arbitrary bytes (an HTTP `application/json`
//! body). Must never panic; the result must serialise.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(report) = abusedesk_reports::parse_xarf_json(data) {
        let _ = serde_json::to_vec(&report).expect("a report always serialises");
    }
});
